// `tributary collect <kind>`: one collector process (DESIGN.md 5).
import { COLLECTOR_KINDS, isCollectorKind } from '../../collectors/collector.js';
import { startCollector } from '../../collectors/collector-process.js';
import { alerterFromConfig } from '../../ts/alerts/create-alerter.js';
import { loadConfig } from '../../ts/config/load-config.js';
import { Logger } from '../../ts/log/logger.js';
import { runUntilSignal } from '../../ts/process/run-until-signal.js';
import { instanceArg, parseCommandArgs, statusEveryArg, UsageError } from './usage-error.js';

const HELP = `Usage: tributary collect <kind> [--config <file>] [--instance <n>]

Runs one collector: ${COLLECTOR_KINDS.join(', ')}.
It reads the exchange and sends what it reads to the hub (hub.host/hub.port or hub.url), which
merges every collector's data. Secrets come from the environment: TRIBUTARY_HUB_KEY (a collector
key allowing the name <kind>-<n>, from tributary keys issue on the hub machine), and
BINANCE_API_KEY / BINANCE_API_SECRET for account data.

Options:
  -c, --config <file>   configuration file (JSON; TRIBUTARY__* environment variables override it)
      --instance <n>    instance number, part of the peer name <kind>-<n> (default 0)
      --status-every <s> log the collector's counters every s seconds (default 60, 0 = never)
`;

/** Runs `tributary collect`; returns the exit code. */
export async function runCollect(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      instance: { type: 'string' },
      'status-every': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const kind = positionals[0];
  if (kind === undefined || !isCollectorKind(kind) || positionals.length > 1) {
    throw new UsageError(
      `expected one collector kind (${COLLECTOR_KINDS.join(', ')}), got ${positionals.join(' ') || 'none'}`,
    );
  }
  const instance = instanceArg(values.instance);
  const statusEvery = statusEveryArg(values['status-every'], 60);
  const loaded = loadConfig(values.config);
  const logger = new Logger(`collector.${kind}.${instance}`);
  const alerts = alerterFromConfig(loaded, `${kind}-${instance}`, logger);
  let running: Awaited<ReturnType<typeof startCollector>>;
  try {
    running = await startCollector(kind, instance, loaded, logger, undefined, alerts);
  } catch (error) {
    await alerts.close();
    throw error;
  }
  const timer =
    statusEvery > 0
      ? setInterval(() => {
          const s = running.collector.status();
          logger.info('status', {
            polls: s.polls,
            failures: s.failures,
            framesSent: s.framesSent,
            framesDropped: s.framesDropped,
            records: s.recordsSent,
            lastError: s.lastError ?? undefined,
          });
        }, statusEvery * 1000)
      : undefined;
  return runUntilSignal(logger, async () => {
    if (timer !== undefined) clearInterval(timer);
    await running.stop();
    await alerts.close();
  });
}
