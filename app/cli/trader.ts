// `tributary trader`: the trading process (data side: the hub feed and the local book).
import { join } from 'node:path';
import { TraderProcess } from '../../trader/trader-process.js';
import { alerterFromConfig } from '../../ts/alerts/create-alerter.js';
import { StaleWatch } from '../../ts/alerts/stale-watch.js';
import { loadConfig } from '../../ts/config/load-config.js';
import { HubAlertForwarder } from '../../ts/hub/hub-alert-forwarder.js';
import { Logger } from '../../ts/log/logger.js';
import { runUntilSignal } from '../../ts/process/run-until-signal.js';
import { chooseConfiguredStrategy } from '../venues/trader-strategy.js';
import { startTraderTrading } from '../venues/trader-trading.js';
import { runTraderState } from './trader-state.js';
import { instanceArg, parseCommandArgs, statusEveryArg, UsageError } from './usage-error.js';

const HELP = `Usage: tributary trader [--config <file>] [--instance <n>] [--strategy <name>] [--status-every <s>]

Connects to the hub as trader-<n>, follows every symbol's klines, ticks, positions, balances and the
ban list in a native local book, receives relayed order events, and runs the strategy in the
configured mode (trader.mode): paper (the simulator's matching engine in this process, on the hub's
data), live or testnet (orders to the exchange), dry-run (orders signed and logged, never sent).
Needs TRIBUTARY_HUB_KEY (a trader key for the name trader-<n>: tributary keys issue --role trader
--peer trader-<n>, on the hub machine). The risk engine, stop-loss ladders and order timeouts run
with the strategy (configuration section "risk"); \`tributary trader state\` shows or switches
the trading state (ACTIVE, REDUCING, HALTED).

Options:
  -c, --config <file>     configuration file (TRIBUTARY__* environment variables override it)
      --instance <n>      instance number (default 0)
      --status-every <s>  log the book's status every s seconds (default 30, 0 = never)
      --strategy <name>   strategy to run (default trader.strategy; in paper mode demo when neither
                          is set; live, testnet and dry-run refuse to start without one);
                          \`none\` runs the book only
      --strategy-config <json>  the strategy's settings as JSON (default trader.strategyConfig;
                          checked against the strategy's schema)
      --state-dir <dir>   order journal and records (default .tributary/trader-<n>)

A strategy of your own is an ES module named by trader.strategyModule (trader/README.md, "Writing a
strategy"): imported and checked before the trader connects; one it cannot use stops it, naming
the file and what is wrong. A built-in strategy or \`none\` given by --strategy runs without
importing it.
`;

/** Runs `tributary trader`; returns the exit code. */
export async function runTrader(args: string[]): Promise<number> {
  if (args[0] === 'state') return runTraderState(args.slice(1));
  const { values } = parseCommandArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      instance: { type: 'string' },
      'status-every': { type: 'string' },
      strategy: { type: 'string' },
      'strategy-config': { type: 'string' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const instance = instanceArg(values.instance);
  const every = statusEveryArg(values['status-every'], 30);
  let strategyConfig: unknown;
  if (values['strategy-config'] !== undefined) {
    try {
      strategyConfig = JSON.parse(values['strategy-config']);
    } catch {
      throw new UsageError('--strategy-config must be JSON');
    }
  }
  const loaded = loadConfig(values.config);
  const chosen = await chooseConfiguredStrategy(
    loaded.config.trader,
    {
      ...(values.strategy === undefined ? {} : { strategy: values.strategy }),
      ...(strategyConfig === undefined ? {} : { strategyConfig }),
    },
    loaded.sources.join(' + ') || 'defaults',
  );
  const strategyName = chosen.name;
  const strategy = 'strategy' in chosen ? chosen.strategy : undefined;
  const logger = new Logger(`trader.${instance}`);
  const trader = new TraderProcess(loaded, instance, logger);
  const alerts = alerterFromConfig(loaded, `trader-${instance}`, logger);
  // Every alert of this process also goes to the hub, which relays it to the recorder's store.
  const forwarder = new HubAlertForwarder({ client: trader.client, alerts, logger: logger.child('alerts') });
  forwarder.start();
  const { watch } = loaded.config.alerts;
  // Market and account data the strategy and the risk rules read: stale while the hub is away or the book waits for a snapshot.
  const staleWatch = new StaleWatch({
    where: 'trader',
    what: `the book of trader-${instance}`,
    problem: () => {
      const state = trader.client.state;
      if (state !== 'ready') return `hub connection ${state}`;
      return trader.feed.synced ? undefined : 'the book waits for a snapshot from the hub';
    },
    graceMs: watch.staleDataMs,
    checkMs: watch.checkMs,
    alerts,
  });
  staleWatch.start();
  try {
    await trader.start();
  } catch (error) {
    staleWatch.stop();
    await forwarder.stop(0);
    await alerts.close();
    throw error;
  }
  logger.info('trader book synced', { mode: loaded.config.trader.mode });
  const trading =
    strategy === undefined
      ? undefined
      : await startTraderTrading(
          trader,
          loaded,
          {
            strategyName,
            strategy,
            instance,
            stateDir: values['state-dir'] ?? join('.tributary', `trader-${instance}`),
            alerts,
          },
          logger.child('trading'),
        );
  if (trading !== undefined) logger.info('trading', { strategy: strategyName, venue: trading.venue.name });
  const timer =
    every > 0
      ? setInterval(() => {
          const { trading: _tradingReport, ...s } = trader.status();
          const positions =
            trading === undefined
              ? s.positions
              : trading.account
                  .openPositions()
                  .map((p) => `${p}:${trading.account.position(p).amount.toString()}`);
          logger.info('status', {
            ...s,
            positions: positions.join(' '),
            refusedSubscriptions: s.refusedSubscriptions.map((r) => `${r.code}x${r.attempts}`).join(' '),
            ...(trading === undefined
              ? {}
              : {
                  equity: trading.account.equity()?.toString() ?? null,
                  ...trading.runtime.engine.stats,
                  tradingState: trading.runtime.risk?.state.state ?? 'risk off',
                  underCovered: trading.runtime.risk?.ladders?.watch.underCovered().join(' ') ?? '',
                }),
          });
        }, every * 1000)
      : undefined;
  return runUntilSignal(logger, async () => {
    if (timer !== undefined) clearInterval(timer);
    staleWatch.stop();
    await trading?.stop();
    await forwarder.stop();
    await trader.stop();
    await alerts.close();
  });
}
