// The alerter against a local Feishu receiver that checks signatures as the service does: signed delivery, refusals, the one-a-minute limit, the log fallback, secrets kept out.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultAlertsSettings } from '../config/alerts-config.js';
import { Logger } from '../log/logger.js';
import { waitUntil } from '../testing/wait-until.js';
import { Alerter, type AlerterOptions } from './alerter.js';
import { createAlerter } from './create-alerter.js';
import { type AlertChannel, FeishuWebhook } from './feishu-webhook.js';
import { FEISHU_REPLIES, FeishuReceiver } from './testing/feishu-receiver.js';

const TOKEN = 'b2a1c0de-7f6e-4d5c-9b8a-0123456789ab';
const SECRET = 'mK3pQ9sT2vW8yZ1bC4dF6g';

interface Captured {
  readonly logger: Logger;
  readonly lines: string[];
  readonly records: () => Record<string, unknown>[];
}

function capture(): Captured {
  const lines: string[] = [];
  const logger = new Logger('alerts', { level: 'debug', format: 'json', sink: (line) => lines.push(line) });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const receivers: FeishuReceiver[] = [];
const alerters: Alerter[] = [];

async function receiver(secret?: string, now?: () => number): Promise<FeishuReceiver> {
  const r = await FeishuReceiver.start({
    token: TOKEN,
    ...(secret === undefined ? {} : { secret }),
    ...(now ? { now } : {}),
  });
  receivers.push(r);
  return r;
}

function alerter(
  log: Captured,
  url: string | undefined,
  options: Partial<AlerterOptions> & { secret?: string; now?: () => number; attempts?: number } = {},
  given?: AlertChannel,
): Alerter {
  const channel =
    given ??
    (url === undefined
      ? undefined
      : new FeishuWebhook({
          url,
          secret: options.secret,
          timeoutMs: 2000,
          attempts: options.attempts ?? 3,
          retryDelayMs: 10,
          logger: log.logger,
          ...(options.now ? { now: options.now } : {}),
        }));
  const a = new Alerter({
    logger: log.logger,
    channel,
    origin: { label: 'Tributary', process: 'trader', host: 'box1' },
    minIntervalMs: options.minIntervalMs ?? 60_000,
    gatherMs: options.gatherMs ?? 10,
    maxPending: options.maxPending ?? 1000,
    limits: { maxKinds: 15, maxDetailChars: 200 },
  });
  alerters.push(a);
  return a;
}

afterEach(async () => {
  await Promise.all(alerters.splice(0).map((a) => a.close()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe('Alerter with a signed Feishu webhook', () => {
  it('delivers a signed card that the receiver verifies, coloured by severity', async () => {
    const bot = await receiver(SECRET);
    const log = capture();
    const a = alerter(log, bot.url, { secret: SECRET });
    a.raise({
      severity: 'critical',
      source: 'risk.close-all',
      title: 'Close-all',
      details: { pnl: '-3001.5' },
    });
    await waitUntil(() => bot.accepted.length === 1, 'one accepted message');
    const [message] = bot.accepted;
    expect(message?.title).toBe('[CRITICAL] Tributary trader@box1: Close-all');
    expect(message?.template).toBe('red');
    expect(message?.text).toContain('pnl=-3001.5');
    expect(typeof message?.body.sign).toBe('string');
    expect(String(message?.body.timestamp)).toMatch(/^\d{10}$/);
    expect(bot.refused).toEqual([]);
    await waitUntil(() => a.stats().delivered === 1, 'delivery counted');
    expect(a.stats()).toMatchObject({ raised: 1, messages: 1, delivered: 1, failed: 0, heldBack: 0 });
  });

  it('is refused with 19021 when signed with the wrong secret, not retried, and logged instead', async () => {
    const bot = await receiver(SECRET);
    const log = capture();
    const a = alerter(log, bot.url, { secret: 'another-secret-entirely' });
    a.raise({ severity: 'warning', source: 'exchange.ban', title: 'IP banned', details: { until: 123 } });
    await waitUntil(() => a.stats().failed === 1, 'the failure counted');
    expect(bot.accepted).toEqual([]);
    expect(bot.refused).toEqual([FEISHU_REPLIES.signFailed]);
    const fallback = log.records().find((r) => r.msg === 'alert message not delivered; logged here instead');
    expect(fallback).toMatchObject({ level: 'error', attempts: 1 });
    expect(String(fallback?.reason)).toContain('code 19021');
    expect(String(fallback?.text)).toContain('until=123');
  });

  it('is refused when the signature is missing or its timestamp is over an hour old', async () => {
    const bot = await receiver(SECRET);
    const log = capture();
    const unsigned = alerter(log, bot.url);
    const stale = alerter(log, bot.url, { secret: SECRET, now: () => Date.now() - 3_601_000 });
    unsigned.raise({ severity: 'info', source: 't', title: 'unsigned' });
    stale.raise({ severity: 'info', source: 't', title: 'stale' });
    await waitUntil(() => unsigned.stats().failed === 1 && stale.stats().failed === 1, 'both refused');
    expect(bot.accepted).toEqual([]);
    expect(bot.refused).toEqual([FEISHU_REPLIES.signFailed, FEISHU_REPLIES.signFailed]);
  });

  it('is refused with 19001 when the token is wrong', async () => {
    const bot = await receiver();
    const log = capture();
    const a = alerter(log, bot.url.replace(TOKEN, 'not-the-token-at-all'));
    a.raise({ severity: 'info', source: 't', title: 'wrong token' });
    await waitUntil(() => a.stats().failed === 1, 'refused');
    expect(bot.refused).toEqual([FEISHU_REPLIES.tokenInvalid]);
  });
});

describe('one message a minute', () => {
  it('gathers a burst into one message, holds the next ones back and summarises them in the next', async () => {
    const bot = await receiver(SECRET);
    const log = capture();
    const a = alerter(log, bot.url, { secret: SECRET, minIntervalMs: 600, gatherMs: 50 });
    a.raise({ severity: 'warning', source: 'feed.stale', title: 'Market data stale' });
    a.raise({ severity: 'critical', source: 'risk.close-all', title: 'Close-all' });
    await waitUntil(() => bot.accepted.length === 1, 'the first message');
    expect(bot.accepted[0]?.title).toBe('[CRITICAL] Tributary trader@box1: 2 alerts');
    expect(bot.accepted[0]?.text).not.toContain('held back');

    for (let i = 0; i < 5; i++) {
      a.raise({
        severity: 'warning',
        source: 'stop-loss.failure',
        title: 'Stop-loss ladder failed',
        details: { i },
      });
    }
    a.raise({ severity: 'info', source: 'risk.state', title: 'Trading state changed' });
    expect(a.stats().heldBack).toBe(6);
    await waitUntil(() => bot.accepted.length === 2, 'the second message', 5000);
    const [first, second] = bot.accepted;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(550);
    expect(second?.title).toBe('[WARNING] Tributary trader@box1: 6 alerts');
    expect(second?.template).toBe('orange');
    expect(second?.text).toContain('Stop-loss ladder failed ×5');
    expect(second?.text).toContain('    i=4');
    expect(second?.text).toContain('6 of them held back by the one-message-a-minute limit');
    // Every alert was logged when raised, whatever the messages.
    expect(log.records().filter((r) => String(r.msg).startsWith('alert: '))).toHaveLength(8);
    expect(a.stats()).toMatchObject({ raised: 8, messages: 2, heldBack: 6, pending: 0 });
  });

  it('never sends two messages closer than the interval under a steady stream of alerts', async () => {
    const bot = await receiver(SECRET);
    const log = capture();
    const webhook = new FeishuWebhook({
      url: bot.url,
      secret: SECRET,
      timeoutMs: 2000,
      attempts: 1,
      retryDelayMs: 10,
      logger: log.logger,
    });
    // The times messages are handed to the channel (arrival times at the receiver jitter with load).
    const sentAt: number[] = [];
    const a = alerter(
      log,
      undefined,
      { minIntervalMs: 300, gatherMs: 0 },
      {
        name: 'timed',
        send: (message) => {
          sentAt.push(Date.now());
          return webhook.send(message);
        },
      },
    );
    const started = Date.now();
    let raised = 0;
    while (Date.now() - started < 1000) {
      a.raise({ severity: 'info', source: 'load', title: 'tick', details: { raised } });
      raised += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitUntil(
      () => a.stats().pending === 0 && a.stats().messages === a.stats().delivered,
      'all sent',
      5000,
    );
    for (let i = 1; i < sentAt.length; i++)
      expect((sentAt[i] ?? 0) - (sentAt[i - 1] ?? 0)).toBeGreaterThanOrEqual(299);
    expect(sentAt.length).toBeLessThanOrEqual(5);
    expect(bot.accepted).toHaveLength(sentAt.length);
    const carried = bot.accepted.reduce(
      (sum, m) => sum + Number(/tick(?: ×(\d+))?/.exec(m.text)?.[1] ?? 1),
      0,
    );
    expect(carried).toBe(raised);
  });

  it('keeps at most maxPending alerts for a message and counts the rest', async () => {
    const bot = await receiver();
    const log = capture();
    const a = alerter(log, bot.url, { minIntervalMs: 300, gatherMs: 20, maxPending: 10 });
    for (let i = 0; i < 25; i++) a.raise({ severity: 'warning', source: 'flood', title: `kind ${i % 3}` });
    await waitUntil(() => bot.accepted.length === 1, 'one message');
    expect(bot.accepted[0]?.title).toContain('25 alerts');
    expect(bot.accepted[0]?.text).toContain('15 further alerts were not kept for this message');
    expect(a.stats().unkept).toBe(15);
  });
});

describe('log fallback', () => {
  it('retries a failing webhook a bounded number of times, logs each try and the message, then recovers', async () => {
    const bot = await receiver(SECRET);
    bot.failNext(3, FEISHU_REPLIES.tooManyRequests);
    const log = capture();
    const a = alerter(log, bot.url, { secret: SECRET, attempts: 3, minIntervalMs: 300 });
    a.raise({ severity: 'critical', source: 'exchange.ban', title: 'IP banned (418)' });
    await waitUntil(() => a.stats().failed === 1, 'the message failed');
    expect(bot.refused).toHaveLength(3);
    const tries = log.records().filter((r) => r.msg === 'alert webhook refused or failed');
    expect(tries.map((r) => [r.attempt, r.willRetry])).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    const fallback = log.records().find((r) => r.msg === 'alert message not delivered; logged here instead');
    expect(String(fallback?.title)).toContain('IP banned (418)');
    a.raise({ severity: 'info', source: 'exchange.ban', title: 'Ban lifted' });
    await waitUntil(() => bot.accepted.length === 1, 'the next message delivered', 5000);
    expect(bot.accepted[0]?.text).toContain('Ban lifted');
  });

  it('retries an HTTP 500 and a webhook nobody listens on, then logs', async () => {
    const bot = await receiver();
    bot.failNext(1, { code: 500, msg: 'internal' }, 500);
    const log = capture();
    const a = alerter(log, bot.url, { attempts: 2 });
    a.raise({ severity: 'warning', source: 't', title: 'after a 500' });
    await waitUntil(() => a.stats().delivered === 1, 'delivered on the second try');

    const url = bot.url;
    await bot.close();
    receivers.splice(receivers.indexOf(bot), 1);
    const down = alerter(log, url, { attempts: 2 });
    down.raise({ severity: 'warning', source: 't', title: 'nobody listens' });
    await waitUntil(() => down.stats().failed === 1, 'failed after two tries', 5000);
    const failures = log.records().filter((r) => r.msg === 'alert webhook refused or failed');
    expect(failures.length).toBe(3);
  });

  it('logs every alert at its severity when no webhook is configured', () => {
    const log = capture();
    const a = createAlerter({ settings: defaultAlertsSettings(), process: 'hub', logger: log.logger });
    expect(a.hasChannel).toBe(false);
    a.raise({ severity: 'info', source: 's', title: 'one' });
    a.raise({ severity: 'warning', source: 's', title: 'two', details: { n: 2 } });
    a.raise({ severity: 'critical', source: 's', title: 'three' });
    const alerts = log.records().filter((r) => String(r.msg).startsWith('alert: '));
    expect(alerts.map((r) => [r.level, r.msg, r.severity])).toEqual([
      ['info', 'alert: one', 'info'],
      ['warn', 'alert: two', 'warning'],
      ['error', 'alert: three', 'critical'],
    ]);
    expect(alerts[1]?.details).toEqual({ n: 2 });
    // Listeners (the recorder's store) see every alert, stamped; one that throws is logged, not fatal.
    const seen: string[] = [];
    const off = a.onAlert((alert) => seen.push(`${alert.severity}:${alert.title}:${alert.at > 0}`));
    a.onAlert(() => {
      throw new Error('store down');
    });
    a.raise({ severity: 'warning', source: 's', title: 'four' });
    off();
    a.raise({ severity: 'warning', source: 's', title: 'five' });
    expect(seen).toEqual(['warning:four:true']);
    expect(log.records().filter((r) => r.msg === 'alert listener failed')).toHaveLength(2);
    expect(a.stats()).toMatchObject({ raised: 5, messages: 0, pending: 0 });
  });

  it('on close sends what is pending when the window is open or an alert is critical, else logs its summary', async () => {
    const bot = await receiver();
    const log = capture();
    const a = alerter(log, bot.url, { gatherMs: 10_000 });
    a.raise({ severity: 'warning', source: 's', title: 'pending at close' });
    await a.close();
    expect(bot.accepted.map((m) => m.title)).toEqual(['[WARNING] Tributary trader@box1: pending at close']);

    const b = alerter(log, bot.url, { gatherMs: 0, minIntervalMs: 60_000 });
    b.raise({ severity: 'info', source: 's', title: 'first' });
    await waitUntil(() => b.stats().delivered === 1, 'first delivered');
    b.raise({ severity: 'warning', source: 's', title: 'held at close' });
    await b.close();
    expect(bot.accepted).toHaveLength(2);
    const summary = log.records().find((r) => String(r.msg).startsWith('alerts not sent before stopping'));
    expect(String(summary?.text)).toContain('held at close');
    b.raise({ severity: 'info', source: 's', title: 'after close' });
    expect(b.stats().pending).toBe(0);

    // A critical alert pending at close is sent at once, inside the minute.
    const c = alerter(log, bot.url, { gatherMs: 0, minIntervalMs: 60_000 });
    c.raise({ severity: 'info', source: 's', title: 'before' });
    await waitUntil(() => c.stats().delivered === 1, 'before delivered');
    c.raise({ severity: 'warning', source: 's', title: 'a restart' });
    c.raise({ severity: 'critical', source: 's', title: 'crash loop: stopping' });
    await c.close();
    expect(bot.accepted).toHaveLength(4);
    expect(bot.accepted[3]?.title).toBe('[CRITICAL] Tributary trader@box1: 2 alerts');
    expect(bot.accepted[3]?.text).toContain('crash loop: stopping');
    expect(bot.accepted[3]?.text).toContain('a restart');
  });
});

describe('secrets', () => {
  it('never writes the webhook token, URL or signing secret to the log or into a message', async () => {
    const bot = await receiver(SECRET);
    const log = capture();
    const a = createAlerter({
      settings: { ...defaultAlertsSettings(), gatherMs: 0, attempts: 2, retryDelayMs: 100 },
      webhookUrl: bot.url,
      webhookSecret: SECRET,
      process: 'trader',
      logger: log.logger,
    });
    alerters.push(a);
    bot.failNext(2, FEISHU_REPLIES.tooManyRequests);
    // A careless detail carrying the URL and the secret: both must be masked everywhere.
    a.raise({
      severity: 'critical',
      source: 'test',
      title: `posting to ${bot.url} failed`,
      details: { error: `POST ${bot.url} with ${SECRET}`, token: TOKEN },
    });
    await waitUntil(() => a.stats().failed === 1, 'refused twice then logged');
    const all = log.lines.join('\n');
    expect(all).toContain('[redacted]');
    for (const secret of [TOKEN, SECRET, bot.url]) {
      expect(all).not.toContain(secret);
      for (const body of bot.rawBodies) expect(body).not.toContain(secret);
    }
  });
});
