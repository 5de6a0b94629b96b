// `tributary publish`: the dashboard's documents from the records store, and the built page, to a folder or Aliyun OSS every few seconds.
import { join, resolve } from 'node:path';
import { ExchangeCandles } from '../../publisher/exchange-candles.js';
import { type HubStatusParts, hubHealthStatus } from '../../publisher/hub-health-status.js';
import { createPublishProcess } from '../../publisher/publish-process.js';
import { StoreDashboardSource, type StoreScope } from '../../publisher/store-dashboard-source.js';
import { WatchedMarkets } from '../../publisher/watched-markets.js';
import { alerterFromConfig } from '../../ts/alerts/create-alerter.js';
import { loadConfig } from '../../ts/config/load-config.js';
import { dashboardTraders } from '../../ts/config/publish-config.js';
import { connectExchange } from '../../ts/exchange/exchange-link.js';
import { hubTlsOption, hubUrl } from '../../ts/hub/hub-link.js';
import { startHubPresence } from '../../ts/hub/hub-presence.js';
import { HubHealthSchema, HubStatusSchema } from '../../ts/hub/hub-status.js';
import { readHealthStatus } from '../../ts/hub/status-client.js';
import { Logger } from '../../ts/log/logger.js';
import { packageRoot } from '../../ts/package-root.js';
import { runUntilSignal } from '../../ts/process/run-until-signal.js';
import { openRecordStore } from '../../ts/store/open-store.js';
import { TRADING_MODES } from '../../ts/store/store-records.js';
import { FileTradingControl } from '../dashboard/trading-control.js';
import { dashboardScope, dashboardStrategies } from './record.js';
import { instanceArg, parseCommandArgs, tradersArg, UsageError } from './usage-error.js';

const HELP = `Usage: tributary publish [--config <file>] [--mode <mode>] [--account <name>] [--once]

Every publish.intervalMs (5 s) builds the dashboard's documents from the records store (section
"store") — account summary, positions, equity and balance, daily PnL and commission, per-symbol PnL
for 1 d / 7 d / 30 d / all, round trips and large losses, system status, a candle chart per traded
symbol with entries, exits and stop levels — and writes those that changed, with the built page
(dist/site/public), to publish.target: a folder (default .tributary/public, served by tributary
dashboard) or an Aliyun OSS bucket (OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET). Nothing holding a
secret or an internal address is ever published. Failures are retried (publish.retry) and alerted.

With a viewer key in TRIBUTARY_HUB_KEY (for the name publisher-<n>) it connects to the hub, reads
the hub's status over that connection and reports its rounds (the hub's status shows it); without
one it reads the hub's public /status (https with hub.tls when set).

Options:
  -c, --config <file>    configuration file
      --mode <mode>      whose records: live, testnet, paper, ... (default: what the recorder
                         marks, or paper for a paper trader beside a real exchange)
      --account <name>   the account of those records (default store.account; paper-<n> of the first trader (dashboard.traders) for a
                         paper trader beside a real exchange)
      --state-root <dir> where the traders keep their state (default .tributary), for their states
      --instance <n>     instance number (default 0): the hub peer name is publisher-<n>
      --traders <list>   instance numbers of the traders whose state it shows (0,2, or none;
                         default dashboard.traders, else 0 to trader.instances - 1)
      --once             publish one round and exit (0 when everything was published)
`;

/** How long a status read waits for the publisher's first hub connection (the hub client's own connect timeout is 5 s). */
const FIRST_CONNECTION_WAIT_MS = 6_000;

/** Runs `tributary publish`; returns the exit code. */
export async function runPublish(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      mode: { type: 'string' },
      account: { type: 'string' },
      'state-root': { type: 'string' },
      instance: { type: 'string' },
      traders: { type: 'string' },
      once: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const instance = instanceArg(values.instance);
  const loaded = loadConfig(values.config);
  const { config } = loaded;
  const traderNumbers = values.traders === undefined ? dashboardTraders(config) : tradersArg(values.traders);
  const fallback = dashboardScope(loaded, traderNumbers);
  const mode = values.mode ?? fallback.mode;
  if (!(TRADING_MODES as readonly string[]).includes(mode))
    throw new UsageError(`--mode must be one of ${TRADING_MODES.join(', ')}, got ${mode}`);
  const scope: StoreScope = {
    mode: mode as StoreScope['mode'],
    account:
      values.account ??
      (values.mode === undefined
        ? fallback.account
        : mode === 'paper'
          ? `paper-${traderNumbers[0] ?? 0}`
          : 'main'),
  };
  const logger = new Logger('publish');
  const alerts = alerterFromConfig(loaded, 'publish', logger);
  const stateRoot = resolve(values['state-root'] ?? '.tributary');
  const store = await openRecordStore(loaded);
  const exchange = connectExchange(loaded, logger, alerts);
  const traders = new FileTradingControl({
    root: stateRoot,
    traders: traderNumbers,
    applyWaitMs: 0,
  });
  // The hub's status: over the publisher's own hub connection when it has a key, else the public /status.
  let presence: ReturnType<typeof startHubPresence>;
  const readHub = async (): Promise<HubStatusParts> => {
    if (presence === undefined)
      return readHealthStatus({ hubUrl: hubUrl(loaded), ...hubTlsOption(loaded), timeoutMs: 3000 });
    // The first round comes as the connection starts: a hub that answers is not reported unreachable.
    await presence.client.firstAttempt(FIRST_CONNECTION_WAIT_MS);
    const { scope, status } = await presence.client.status();
    return (scope === 'full' ? HubStatusSchema : HubHealthSchema).parse(status);
  };
  let hubDown = false;
  // Before anything is traded, Charts shows the hub's most active markets (--once has no hub link).
  const watched = new WatchedMarkets(
    values.once === true
      ? undefined
      : async (top) => {
          if (presence === undefined) throw new Error('no hub connection yet');
          await presence.client.firstAttempt(FIRST_CONNECTION_WAIT_MS);
          return presence.client.ranks(top);
        },
    config.symbols,
    logger.child('charts'),
  );
  const source = new StoreDashboardSource({
    store,
    scope,
    asset: 'USDT',
    strategies: dashboardStrategies(loaded, traderNumbers),
    candles: new ExchangeCandles(exchange.api, logger.child('candles')),
    watchedSymbols: (limit) => watched.symbols(limit),
    status: () =>
      hubHealthStatus(
        readHub,
        async () => (await traders.states()).map((t) => ({ trader: t.trader, state: t.state })),
        (reason) => {
          if (!hubDown) logger.warn('hub status unreachable; the public status says so', { reason });
          hubDown = true;
        },
      ).then((status) => {
        if (status.hubSeenAt !== null) hubDown = false;
        return status;
      }),
  });
  const hubKey = process.env.TRIBUTARY_HUB_KEY;
  const { publisher, target } = createPublishProcess({
    loaded,
    source,
    siteDir: join(packageRoot, 'dist', 'site', 'public'),
    stateFile: join(stateRoot, 'publisher-state.json'),
    extraForbidden: [
      ...(hubKey === undefined || hubKey === '' ? [] : [{ label: 'hub key', text: hubKey }]),
      ...(config.store.url === undefined ? [] : [{ label: 'store URL', text: config.store.url }]),
      { label: 'store file', text: resolve(config.store.sqlitePath) },
      { label: 'state folder', text: stateRoot },
    ],
    alerts,
    logger,
  });
  logger.info('publishing', { to: target.description, scope: `${scope.mode}/${scope.account}` });
  if (values.once !== true) {
    presence = startHubPresence(loaded, {
      peer: `publisher-${instance}`,
      kind: 'publisher',
      logger: logger.child('hub'),
      // Its alerts reach the records store through the hub too.
      alerts,
      report: () => {
        const { rounds, failing, last } = publisher.stats();
        return {
          instance,
          target: config.publish.target.kind,
          rounds,
          failing,
          ...(last === undefined
            ? {}
            : {
                lastRoundAt: last.at,
                uploaded: last.uploaded.length,
                failed: last.failed.length,
                refused: last.refused.length,
              }),
        };
      },
    });
  }
  const close = async () => {
    await presence?.close();
    await publisher.stop();
    exchange.close();
    await alerts.close();
    await store.close();
  };
  if (values.once === true) {
    const report = await publisher.publishOnce().finally(close);
    process.stdout.write(
      `published ${report.uploaded.length} file(s) to ${target.description}, ${report.unchanged} unchanged, ${report.failed.length} failed, ${report.refused.length} refused\n`,
    );
    return report.failed.length === 0 && report.refused.length === 0 ? 0 : 1;
  }
  publisher.start(config.publish.intervalMs);
  return runUntilSignal(logger, close);
}
