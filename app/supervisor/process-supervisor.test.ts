import { describe, expect, it } from 'vitest';
import { Alerter } from '../../ts/alerts/alerter.js';
import { FeishuWebhook } from '../../ts/alerts/feishu-webhook.js';
import { FeishuReceiver } from '../../ts/alerts/testing/feishu-receiver.js';
import { Logger } from '../../ts/log/logger.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { type ChildFailure, ProcessSupervisor } from './process-supervisor.js';

function collect() {
  const lines: string[] = [];
  const logs: string[] = [];
  const logger = new Logger('test', { format: 'json', sink: (line) => logs.push(line) });
  return { lines, logs, logger, output: (name: string, line: string) => lines.push(`${name}:${line}`) };
}

const until = (check: () => boolean, timeoutMs = 5000) => waitUntil(check, 'the condition', timeoutMs, 20);

describe('ProcessSupervisor', () => {
  it('prefixes output, restarts a child that dies, and stops it cleanly', async () => {
    const io = collect();
    const sup = new ProcessSupervisor({
      command: [process.execPath, '-e'],
      logger: io.logger,
      output: io.output,
      restartDelayMs: 10,
    });
    sup.start({ name: 'worker', args: ['console.log("up"); setInterval(() => {}, 1000)'], restart: true });
    await until(() => io.lines.includes('worker:up'));
    const first = sup.pid('worker');
    process.kill(first ?? -1, 'SIGKILL');
    await until(() => io.lines.filter((l) => l === 'worker:up').length === 2);
    expect(sup.pid('worker')).not.toBe(first);
    expect(sup.status()[0]?.restarts).toBe(1);
    expect(io.logs.some((l) => l.includes('restarting'))).toBe(true);
    await sup.stopAll();
    expect(sup.status()[0]?.state).toBe('stopped');
  });

  it('gives up on a child that keeps dying, and says so', async () => {
    const io = collect();
    const sup = new ProcessSupervisor({
      command: [process.execPath, '-e'],
      logger: io.logger,
      output: io.output,
      restartDelayMs: 5,
      maxRestarts: 2,
      restartWindowMs: 30_000,
      onChildFailed: (failure) => failures.push(failure),
    });
    const failures: ChildFailure[] = [];
    sup.start({ name: 'crasher', args: ['process.exit(3)'], restart: true });
    await until(() => sup.status()[0]?.state === 'failed');
    expect(sup.status()[0]).toMatchObject({ restarts: 2, lastExit: 'code 3' });
    expect(io.logs.some((l) => l.includes('keeps dying'))).toBe(true);
    expect(failures).toEqual([{ name: 'crasher', lastExit: 'code 3', restarts: 2, windowMs: 30_000 }]);
  });

  it('alerts the owner of each restart and of the crash loop, through a signed webhook', async () => {
    const io = collect();
    const bot = await FeishuReceiver.start({
      token: 'supervisor-test-token',
      secret: 'supervisor-test-secret',
    });
    const alerts = new Alerter({
      logger: io.logger,
      channel: new FeishuWebhook({
        url: bot.url,
        secret: 'supervisor-test-secret',
        timeoutMs: 2000,
        attempts: 2,
        retryDelayMs: 10,
        logger: io.logger,
      }),
      origin: { label: 'Tributary', process: 'supervisor', host: 'test' },
      minIntervalMs: 300,
      gatherMs: 20,
      maxPending: 100,
      limits: { maxKinds: 10, maxDetailChars: 100 },
    });
    try {
      const sup = new ProcessSupervisor({
        command: [process.execPath, '-e'],
        logger: io.logger,
        output: io.output,
        restartDelayMs: 5,
        maxRestarts: 2,
        restartWindowMs: 30_000,
        alerts,
      });
      sup.start({ name: 'crasher', args: ['process.exit(3)'], restart: true });
      await until(() => sup.status()[0]?.state === 'failed');
      await alerts.close();
      const texts = bot.accepted.map((m) => `${m.title}\n${m.text}`).join('\n');
      expect(texts).toContain('[CRITICAL] A process keeps dying: not restarted, the system stops');
      expect(texts).toContain('process=crasher exit=code 3 restarts=2');
      // Two restarts, whether they went out in one message or two.
      const restarts = bot.accepted.reduce((n, m) => {
        const line = m.text.split('\n').find((l) => l.includes('A process died and is restarted'));
        return n + (line === undefined ? 0 : Number(/×(\d+)/.exec(line)?.[1] ?? 1));
      }, 0);
      expect(restarts).toBe(2);
      expect(bot.refused).toEqual([]);
    } finally {
      await alerts.close();
      await bot.close();
    }
  });

  it('kills a child that ignores SIGTERM after the timeout', async () => {
    const io = collect();
    const sup = new ProcessSupervisor({
      command: [process.execPath, '-e'],
      logger: io.logger,
      output: io.output,
      stopTimeoutMs: 200,
    });
    sup.start({
      name: 'stubborn',
      args: ['process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'],
      restart: false,
    });
    await until(() => io.lines.includes('stubborn:ready'));
    await sup.stop('stubborn');
    expect(sup.status()[0]).toMatchObject({ state: 'stopped', lastExit: 'signal SIGKILL' });
  });
});

describe('the parent link', () => {
  it('gives every child an IPC channel and the variable that tells it to watch the channel', async () => {
    const io = collect();
    const sup = new ProcessSupervisor({
      command: [process.execPath, '-e'],
      logger: io.logger,
      output: io.output,
    });
    sup.start({
      name: 'linked',
      args: [
        'console.log([process.env.TRIBUTARY_PARENT_LINK, typeof process.send, process.connected].join(" "))',
      ],
      restart: false,
    });
    await until(() => io.lines.length > 0);
    expect(io.lines).toEqual(['linked:ipc function true']);
    await sup.stopAll();
  });
});

describe('ProcessSupervisor.stopAll', () => {
  it('does not restart children that exit on their own while everything stops', async () => {
    const io = collect();
    const sup = new ProcessSupervisor({
      command: [process.execPath, '-e'],
      logger: io.logger,
      output: io.output,
      restartDelayMs: 5,
    });
    // As when Ctrl-C reaches the whole process group: `a` dies of the SIGINT by itself while the
    // supervisor is still waiting for `b`, which takes 300 ms to stop.
    sup.start({ name: 'a', args: ['console.log("a"); setInterval(() => {}, 1000)'], restart: true });
    sup.start({
      name: 'b',
      args: [
        'console.log("b"); process.on("SIGTERM", () => setTimeout(() => process.exit(0), 300)); setInterval(() => {}, 1000)',
      ],
      restart: true,
    });
    await until(() => io.lines.includes('a:a') && io.lines.includes('b:b'));
    const stopping = sup.stopAll();
    process.kill(sup.pid('a') ?? -1, 'SIGINT');
    await stopping;
    await new Promise((r) => setTimeout(r, 50));
    expect(sup.status().map((s) => [s.name, s.state, s.restarts, s.lastExit])).toEqual([
      ['a', 'stopped', 0, 'signal SIGINT'],
      ['b', 'stopped', 0, 'code 0'],
    ]);
  });
});
