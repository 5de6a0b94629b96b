// `tributary backtest`: replays data.binance.vision dumps through a strategy, the engine and the simulator's matching; writes a report.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SymbolSpec } from '../../sim/contracts.js';
import { StoreTradeRecorder } from '../../trader/execution/store-trade-recorder.js';
import { createStrategy, strategyDefinitions } from '../../trader/strategies/registry.js';
import { registerStrategyModule } from '../../trader/strategies/strategy-module.js';
import { type LoadedConfig, loadConfig } from '../../ts/config/load-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { Logger } from '../../ts/log/logger.js';
import { parseExchangeInfo } from '../../ts/native/parse.js';
import { BufferedRecordWriter } from '../../ts/store/buffered-writer.js';
import { openRecordStore } from '../../ts/store/open-store.js';
import { reportHtml, reportJson, summaryText } from '../backtest/backtest-report.js';
import { orderLimits } from '../backtest/backtest-risk.js';
import { runBacktest } from '../backtest/backtest-runner.js';
import { specFromExchangeInfo } from '../venues/symbol-specs.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

/** The records store as a backtest's recorder (mode `backtest`, account `account`); `close` writes the rest and derives round trips. */
async function openBacktestRecords(
  loaded: LoadedConfig,
  account: string,
): Promise<{ recorder: StoreTradeRecorder; close(): Promise<void> }> {
  const store = await openRecordStore(loaded);
  const writer = new BufferedRecordWriter(store, {
    flushMs: loaded.config.store.flushMs,
    maxBatch: loaded.config.store.maxBatch,
    logger: new Logger('backtest.records'),
  });
  const scope = { mode: 'backtest' as const, account };
  return {
    recorder: new StoreTradeRecorder(writer, scope),
    close: async () => {
      await writer.close();
      await store.rebuildDerived(scope);
      await store.close();
    },
  };
}

const HELP = `Usage: tributary backtest --strategy <name> [options] <data files...>
       tributary backtest --strategy-module <file> [options] <data files...>

Replays data.binance.vision aggTrades dumps (SYMBOL-aggTrades-YYYY-MM-DD.csv or .zip) or kline dumps
(SYMBOL-1m-YYYY-MM-DD.csv), several symbols and days, through the strategy with the same engine and
execution code as live, against the simulator's matching engine, fees and funding. Funding is
charged at the rates Binance applied when SYMBOL-fundingRate-YYYY-MM.csv (or .zip) files are given
beside a symbol's data (\`tributary download --kind fundingRate\`), else at a constant 0.01 % every
8 h, which the summary and report say is assumed. Prints a summary and writes <out>/report.json and
<out>/report.html. The same input gives byte-identical reports.

Options:
  -s, --strategy <name>         ${strategyDefinitions()
    .map((d) => d.name)
    .join(', ')}
      --strategy-module <file>  a strategy of your own: an ES module (.js or .mjs) whose default
                                export is its definition (trader/README.md, "Writing a strategy");
                                --strategy may then be left out (it must name the module's strategy)
      --strategy-config <json>  the strategy's settings (checked against its schema)
  -o, --out <dir>               report folder (default backtest-<strategy>)
      --balance <usdt>          starting wallet (default 10000)
      --leverage <n>            leverage (default 20)
      --maker-fee <rate>        default 0.0002
      --taker-fee <rate>        default 0.0005
      --exchange-info <file>    exchangeInfo JSON for the symbols' real filters
  -q, --quiet                   no progress lines
      --no-risk                 without the trader's risk side: no pre-trade checks, loss guard,
                                stop-loss ladders or order timeouts (by default they run as in paper
                                trading, with the configuration's "risk" section)
      --record <name>           also keep the orders and fills in the records store (section "store"),
                                mode backtest, account <name> (round trips and daily stats derived)
  -c, --config <file>           configuration file (the "risk" section, exchange.weightShare for the
                                order-rate budget, collectors.income.intervalMs for how often the
                                ban list is decided, and --record's store)
`;

/**
 * The strategy's name: `--strategy`, or the strategy `--strategy-module` defines (imported and
 * registered first; a module it cannot use is a `StrategyModuleError` naming the file).
 */
async function strategyToRun(flag: string | undefined, moduleFile: string | undefined): Promise<string> {
  if (moduleFile === undefined) {
    if (flag === undefined) throw new UsageError('--strategy (or --strategy-module) is required');
    return flag;
  }
  const defined = (await registerStrategyModule(moduleFile)).name;
  if (flag !== undefined && flag !== defined)
    throw new UsageError(`--strategy is "${flag}", but ${moduleFile} defines strategy "${defined}"`);
  return defined;
}

/** Runs `tributary backtest`; returns the exit code. */
export async function runBacktestCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      strategy: { type: 'string', short: 's' },
      'strategy-module': { type: 'string' },
      'strategy-config': { type: 'string' },
      out: { type: 'string', short: 'o' },
      balance: { type: 'string' },
      leverage: { type: 'string' },
      'maker-fee': { type: 'string' },
      'taker-fee': { type: 'string' },
      'exchange-info': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      'no-risk': { type: 'boolean' },
      record: { type: 'string' },
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const name = await strategyToRun(values.strategy, values['strategy-module']);
  if (positionals.length === 0) throw new UsageError('give at least one data file');
  let config: unknown = {};
  if (values['strategy-config'] !== undefined) {
    try {
      config = JSON.parse(values['strategy-config']);
    } catch {
      throw new UsageError('--strategy-config must be JSON');
    }
  }
  const balance = values.balance ?? '10000';
  if (Decimal.tryParse(balance) === undefined || Decimal.parse(balance).sign() <= 0)
    throw new UsageError(`--balance must be a positive decimal, got ${balance}`);
  const leverage = Number(values.leverage ?? '20');
  if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125)
    throw new UsageError(`--leverage must be an integer 1..125, got ${values.leverage}`);
  let specs: Map<string, SymbolSpec> | undefined;
  if (values['exchange-info'] !== undefined) {
    const text = readFileSync(values['exchange-info'], 'utf8');
    const info = parseExchangeInfo(Buffer.from(text.slice(text.indexOf('{'))));
    specs = new Map(
      info.symbols.map((s) => [s.symbol, specFromExchangeInfo(s, Decimal.parse(s.minPrice ?? '1'))]),
    );
  }
  const quiet = values.quiet === true;
  const started = Date.now();
  // The risk side runs as a trader would run it with this configuration; keys are not needed here.
  const loaded =
    values.record === undefined
      ? loadConfig(values.config, process.env, { exchangeKeys: 'unused' })
      : loadConfig(values.config);
  const records = values.record === undefined ? undefined : await openBacktestRecords(loaded, values.record);
  const outcome = await runBacktest({
    ...(records === undefined ? {} : { record: records.recorder }),
    risk: values['no-risk'] === true ? false : loaded.config.risk,
    orderLimits: orderLimits(loaded.config.exchange.weightShare),
    incomePollMs: loaded.config.collectors.income.intervalMs,
    strategyName: name,
    strategy: createStrategy(name, config),
    files: positionals,
    balance,
    leverage,
    ...(values['maker-fee'] === undefined ? {} : { makerFee: values['maker-fee'] }),
    ...(values['taker-fee'] === undefined ? {} : { takerFee: values['taker-fee'] }),
    ...(specs === undefined ? {} : { specs }),
    ...(quiet
      ? {}
      : {
          onProgress: (share: number, time: number) =>
            process.stderr.write(
              `backtest: ${(share * 100).toFixed(1)} % read, at ${new Date(time).toISOString()}\n`,
            ),
        }),
  });
  if (records !== undefined) await records.close();
  const out = values.out ?? `backtest-${name}`;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'report.json'), reportJson(outcome));
  writeFileSync(join(out, 'report.html'), reportHtml(outcome));
  process.stdout.write(`${summaryText(outcome)}\n`);
  if (!quiet)
    process.stderr.write(
      `backtest: ${((Date.now() - started) / 1000).toFixed(2)} s; report in ${out}/report.json and report.html\n`,
    );
  return 0;
}
