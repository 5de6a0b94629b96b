// `tributary trader`: the trading process (data side: the hub feed and the local book).
import { TraderProcess } from '../../trader/trader-process.js';
import { loadConfig } from '../../ts/config/load-config.js';
import { Logger } from '../../ts/log/logger.js';
import { runUntilSignal } from '../../ts/process/run-until-signal.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage: tributary trader [--config <file>] [--instance <n>] [--status-every <s>]

Connects to the hub as trader-<n>, follows every symbol's klines, ticks, positions, balances and the
ban list in a native local book, and receives relayed order events. Needs TRIBUTARY_HUB_KEY (a trader
key for the name trader-<n>: tributary keys issue --role trader --peer trader-<n>, on the hub machine).

Options:
  -c, --config <file>     configuration file (TRIBUTARY__* environment variables override it)
      --instance <n>      instance number (default 0)
      --status-every <s>  log the book's status every s seconds (default 30, 0 = never)
`;

/** Runs `tributary trader`; returns the exit code. */
export async function runTrader(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
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
  const instance = Number(values.instance ?? '0');
  if (!Number.isInteger(instance) || instance < 0)
    throw new UsageError(`--instance must be a whole number, got ${values.instance}`);
  const every = Number(values['status-every'] ?? '30');
  if (!Number.isFinite(every) || every < 0)
    throw new UsageError(`--status-every must be seconds, got ${values['status-every']}`);
  const loaded = loadConfig(values.config);
  const logger = new Logger(`trader.${instance}`);
  const trader = new TraderProcess(loaded, instance, logger);
  await trader.start();
  logger.info('trader book synced', { mode: loaded.config.trader.mode });
  const timer =
    every > 0
      ? setInterval(() => {
          const s = trader.status();
          logger.info('status', {
            ...s,
            positions: s.positions.join(' '),
            refusedSubscriptions: s.refusedSubscriptions.map((r) => `${r.code}x${r.attempts}`).join(' '),
          });
        }, every * 1000)
      : undefined;
  return runUntilSignal(logger, async () => {
    if (timer !== undefined) clearInterval(timer);
    await trader.stop();
  });
}
