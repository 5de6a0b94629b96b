// The `tributary` command line: one entry point, one module per command.

import { Logger } from '../../ts/log/logger.js';
import { watchParent } from '../supervisor/parent-link.js';
import { runAggregate } from './aggregate.js';
import { runBacktestCommand } from './backtest.js';
import { runCollect } from './collect.js';
import { runDashboard } from './dashboard.js';
import { runDeploy } from './deploy.js';
import { runDownload } from './download.js';
import { runGateway } from './gateway.js';
import { runHub } from './hub.js';
import { runKeys } from './keys.js';
import { runPublish } from './publish.js';
import { runRecord } from './record.js';
import { runSim } from './sim.js';
import { runStatus } from './status.js';
import { runTrader } from './trader.js';
import { runUp } from './up.js';
import { UsageError } from './usage-error.js';

/** A CLI command: takes its own arguments, returns the process exit code. */
type Command = {
  summary: string;
  run: (args: string[]) => Promise<number>;
};

const commands: Record<string, Command> = {
  up: {
    summary:
      'up [--config <file>]                   the whole system on this machine (what `npm start` runs)',
    run: runUp,
  },
  sim: {
    summary: 'sim [options]                          the Binance USD-M exchange simulator',
    run: (args) => runSim(args),
  },
  hub: {
    summary: 'hub [--config <file>]                  the hub: merges collectors, serves traders',
    run: runHub,
  },
  keys: {
    summary: "keys <issue|list|revoke> [options]     the hub's per-peer keys (key file)",
    run: (args) => runKeys(args),
  },
  status: {
    summary: "status [--hub <url>] [--json]          the fleet as the hub sees it (hub's full status)",
    run: runStatus,
  },
  deploy: {
    summary: 'deploy <release|plan|apply|status|rollback> -i <inventory>   a fleet over ssh',
    run: runDeploy,
  },
  collect: {
    summary: 'collect <kind> [--config <file>]       one collector (kline, tick, stream, account, ...)',
    run: runCollect,
  },
  trader: {
    summary: 'trader [--config <file>]               the trading process',
    run: runTrader,
  },
  gateway: {
    summary:
      'gateway --keys <file> [--config <file>]   the order gateway: one order per signal for redundant traders',
    run: runGateway,
  },
  publish: {
    summary: 'publish [--config <file>] [--once]     the dashboard documents to a folder or Aliyun OSS',
    run: runPublish,
  },
  dashboard: {
    summary: 'dashboard [--config <file>]            the public dashboard and the owner view on a local URL',
    run: runDashboard,
  },
  record: {
    summary:
      'record [--config <file>]               the recorder: orders, fills, income, snapshots into the store',
    run: runRecord,
  },
  backtest: {
    summary: 'backtest --strategy <name> <data files...>   replay dumps through a strategy, write a report',
    run: runBacktestCommand,
  },
  download: {
    summary:
      'download --symbols <list> --from <date>   fetch data.binance.vision dumps (checksummed, resumable)',
    run: runDownload,
  },
  aggregate: {
    summary:
      'aggregate --interval <i> <aggTrades.csv>   build klines from a data.binance.vision aggTrades dump',
    run: runAggregate,
  },
};

function usage(): string {
  const lines = Object.values(commands).map((c) => `  tributary ${c.summary}`);
  return ['Usage:', ...lines, '', 'Run `tributary <command> --help` for the options of one command.'].join(
    '\n',
  );
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`tributary: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  // A child of `tributary up` stops when `up` is gone, whatever killed it.
  watchParent(() => new Logger(name));
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`tributary ${name}: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tributary ${name}: ${message}\n`);
    return 1;
  }
}
