// `tributary record`: the recorder process (order events from the hub, REST reconciliation, snapshots) into the records store.
import { RecorderProcess } from '../../recorder/recorder-process.js';
import { alerterFromConfig } from '../../ts/alerts/create-alerter.js';
import type { LoadedConfig } from '../../ts/config/load-config.js';
import { loadConfig } from '../../ts/config/load-config.js';
import { dashboardTraders } from '../../ts/config/publish-config.js';
import { NO_STRATEGY } from '../../ts/config/strategy-names.js';
import { connectExchange } from '../../ts/exchange/exchange-link.js';
import { hubKey, hubTlsOption, hubUrl } from '../../ts/hub/hub-link.js';
import { coordinateWeight } from '../../ts/hub/hub-weight-coordinator.js';
import { Logger } from '../../ts/log/logger.js';
import { runUntilSignal } from '../../ts/process/run-until-signal.js';
import { openRecordStore } from '../../ts/store/open-store.js';
import { TRADING_MODES, type TradingMode } from '../../ts/store/store-records.js';
import { strategyToRun } from '../venues/trader-strategy.js';
import { instanceArg, parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage: tributary record [--config <file>] [--instance <n>] [--mode <mode>]

Records the exchange account into the records store (configuration section "store": a SQLite file
by default, MySQL/MariaDB when store.url or TRIBUTARY_STORE_URL is set), as a viewer of the hub:
every order state and fill the user-stream collectors relay, the account's positions and balances
the hub holds (a snapshot every recorder.snapshotMs, with equity), the income history, and the
alerts of every process (relayed by the hub; its own too). After its start, every reconnection to
the hub, any gap in the relayed events and every loss of the user stream it reconciles the
exchange's orders, fills and income by REST and stores what the stream missed, so the store
converges to the exchange's truth; every recorder.reconcileMs it checks the symbols that had
activity. Each difference is logged, stored as an alert and sent to the alert bot (section
"alerts"). Round trips and daily statistics are recomputed with every snapshot. \`tributary up\`
starts one (recorder.enabled).

Needs TRIBUTARY_HUB_KEY (a viewer key for the name recorder-<n>: tributary keys issue --role viewer
--peer recorder-<n>) and the account's BINANCE_API_KEY / BINANCE_API_SECRET.

Options:
  -c, --config <file>   configuration file (TRIBUTARY__* environment variables override it)
      --instance <n>    instance number (default 0): the hub peer name is recorder-<n>
      --mode <mode>     the mode the records are marked with (default: live on binance, paper on the simulator
                        under paper traders, else testnet)
`;

/**
 * The mode an exchange account's records are marked with: `live` on Binance itself; `paper` on the
 * built-in simulator when the traders run in paper mode (their orders go to it, a paper exchange);
 * else `testnet`.
 */
export function recordedMode(loaded: LoadedConfig): TradingMode {
  const { exchange, trader } = loaded.config;
  if (exchange.kind === 'binance') return 'live';
  if (exchange.kind === 'simulator' && trader.mode === 'paper') return 'paper';
  return 'testnet';
}

/**
 * The strategies the dashboard names: the one the configuration gives its traders (`trader.strategy`,
 * in paper mode the demo when none is set), none when no trader is shown or they run none. A
 * trader started with its own `--strategy` is not known here.
 */
export function dashboardStrategies(loaded: LoadedConfig, traders: readonly number[]): string[] {
  const strategy = strategyToRun(loaded.config.trader, {});
  return traders.length > 0 && strategy !== undefined && strategy !== NO_STRATEGY ? [strategy] : [];
}

/**
 * Whose records the dashboard shows by default: a paper trader beside a real exchange keeps its own
 * (`paper`, `paper-<n>` of the first of `dashboard.traders`); otherwise the recorder's exchange
 * account (`store.account`).
 */
export function dashboardScope(
  loaded: LoadedConfig,
  traders: readonly number[] = dashboardTraders(loaded.config),
): { mode: TradingMode; account: string } {
  const { exchange, trader, store } = loaded.config;
  if (trader.mode === 'paper' && exchange.kind !== 'simulator')
    return { mode: 'paper', account: `paper-${traders[0] ?? 0}` };
  return { mode: recordedMode(loaded), account: store.account };
}

/** Runs `tributary record`; returns the exit code. */
export async function runRecord(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      instance: { type: 'string' },
      mode: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const instance = instanceArg(values.instance);
  if (values.mode !== undefined && !(TRADING_MODES as readonly string[]).includes(values.mode))
    throw new UsageError(`--mode must be one of ${TRADING_MODES.join(', ')}, got ${values.mode}`);
  const loaded = loadConfig(values.config);
  const logger = new Logger(`recorder.${instance}`);
  const key = hubKey();
  const store = await openRecordStore(loaded);
  const alerter = alerterFromConfig(loaded, `recorder-${instance}`, logger);
  const link = connectExchange(loaded, logger.child('exchange'), alerter);
  const mode = (values.mode as TradingMode | undefined) ?? recordedMode(loaded);
  const recorder = new RecorderProcess({
    store,
    api: link.api,
    scope: { mode, account: loaded.config.store.account },
    settings: loaded.config.recorder,
    hub: { url: hubUrl(loaded), key, peer: `recorder-${instance}`, ...hubTlsOption(loaded) },
    writer: { flushMs: loaded.config.store.flushMs, maxBatch: loaded.config.store.maxBatch },
    logger,
    alerts: alerter,
  });
  // The recorder's reconciliation reads lease from the host's budget at the hub.
  const stopLeasing = coordinateWeight(link, recorder.client, logger.child('weight'));
  try {
    await recorder.start();
  } catch (error) {
    await recorder.stop().catch(() => undefined);
    stopLeasing();
    link.close();
    await store.close();
    await alerter.close();
    throw error;
  }
  logger.info('recording', {
    store: store.kind,
    schema: store.schemaVersion,
    mode,
    account: loaded.config.store.account,
  });
  return runUntilSignal(logger, async () => {
    // Marked stopping first, then every reconciliation request still waiting for weight fails
    // unsent: a stop must not wait for the budget's next window, past the supervisor's 5 s.
    const stopping = recorder.stop();
    link.api.rest.budget.close();
    await stopping;
    stopLeasing();
    link.close();
    await store.close();
    await alerter.close();
  });
}
