// Runs one collector of a kind as a process (or a task): exchange client, hub connection, the collector.
import type { AlertFeed, AlertSink } from '../ts/alerts/alert.js';
import type { LoadedConfig } from '../ts/config/load-config.js';
import { connectExchange } from '../ts/exchange/exchange-link.js';
import { HubAlertForwarder } from '../ts/hub/hub-alert-forwarder.js';
import { HubClient } from '../ts/hub/hub-client.js';
import { hubKey, hubTlsOption, hubUrl } from '../ts/hub/hub-link.js';
import { coordinateWeight } from '../ts/hub/hub-weight-coordinator.js';
import type { HubKeyCredentials } from '../ts/hub/peer-keys.js';
import type { Logger } from '../ts/log/logger.js';
import { AccountPoller } from './account/account-poller.js';
import type { Collector, CollectorKind } from './collector.js';
import type { CollectorContext } from './collector-context.js';
import { IngestLink } from './collector-hub.js';
import { banThresholds } from './income/ban-rules.js';
import { IncomePoller } from './income/income-poller.js';
import { KlinePoller } from './kline/kline-poller.js';
import { StreamCollector } from './stream/stream-collector.js';
import { TickPoller } from './tick/tick-poller.js';
import { UniverseCollector } from './universe/universe-collector.js';
import { UserStreamCollector } from './user-stream/user-stream-collector.js';

/** How often a collector reports its counters to the hub. */
const STATUS_REPORT_MS = 10_000;

/** A started collector with the connections it owns. */
export interface RunningCollector {
  readonly collector: Collector;
  readonly hub: HubClient;
  /** Stops the collector, then closes the hub connection and the exchange client. */
  stop(): Promise<void>;
}

/** Builds the collector of `kind` from the configuration. */
export function createCollector(
  kind: CollectorKind,
  ctx: CollectorContext,
  loaded: LoadedConfig,
  wsUrl: string,
): Collector {
  const c = loaded.config.collectors;
  switch (kind) {
    case 'kline':
      return new KlinePoller(ctx, {
        kind,
        intervals: c.kline.intervals,
        intervalMs: c.kline.intervalMs,
        fullEveryMs: c.kline.fullEveryMs,
      });
    case 'hot-kline':
      return new KlinePoller(ctx, {
        kind,
        intervals: c.hotKline.intervals,
        intervalMs: c.hotKline.intervalMs,
        fullEveryMs: c.kline.fullEveryMs,
        top: c.hotKline.top,
        minQuoteVolume: c.hotKline.minQuoteVolume,
        conditionRefreshMs: c.hotKline.conditionRefreshMs,
      });
    case 'tick':
      return new TickPoller(ctx, { maxPollsPerSecond: c.tick.maxPollsPerSecond });
    case 'stream':
      return new StreamCollector(ctx, {
        wsUrl,
        intervals: c.stream.intervals,
        maxStreamsPerConnection: c.stream.maxStreamsPerConnection,
        markFallbackMs: c.stream.markFallbackMs,
        quietCloseBoundMs: c.stream.quietCloseBoundMs,
        marketStallMs: c.stream.marketStallMs,
        connectionStallMs: c.stream.connectionStallMs,
        publicStallMs: c.stream.publicStallMs,
        symbols: loaded.config.symbols,
      });
    case 'account':
      return new AccountPoller(ctx, { kind, version: c.account.version, intervalMs: c.account.intervalMs });
    case 'position-risk':
      return new AccountPoller(ctx, {
        kind,
        version: c.positionRisk.version,
        intervalMs: c.positionRisk.intervalMs,
      });
    case 'user-stream': {
      const reconcile = new AccountPoller(ctx, {
        kind: 'account',
        version: c.account.version,
        intervalMs: c.account.intervalMs,
      });
      return new UserStreamCollector(ctx, {
        wsUrl,
        reconcile,
        onOrderEvents: (events) => ctx.hub.publishEvents(events),
      });
    }
    case 'income': {
      return new IncomePoller(ctx, {
        intervalMs: c.income.intervalMs,
        thresholds: banThresholds(loaded.config.risk.banList),
      });
    }
    case 'universe':
      return new UniverseCollector(ctx, {
        intervalMs: c.universe.intervalMs,
        symbols: loaded.config.symbols,
      });
  }
}

/**
 * Connects to the exchange and the hub (as peer `<kind>-<instance>`, with `key`, a collector key
 * from `TRIBUTARY_HUB_KEY` unless given) and starts the collector. The hub connection reconnects
 * by itself; the collector skips polls while it is away. Exchange bans and rate limits are raised
 * on `alerts` (the process's alerter) when given; every alert raised there is also carried to the
 * hub (relayed to the recorder's store).
 */
export async function startCollector(
  kind: CollectorKind,
  instance: number,
  loaded: LoadedConfig,
  logger: Logger,
  key?: HubKeyCredentials,
  alerts?: AlertSink & AlertFeed,
): Promise<RunningCollector> {
  const exchange = connectExchange(loaded, logger, alerts);
  let credentials: HubKeyCredentials;
  try {
    credentials = key ?? hubKey();
  } catch (error) {
    exchange.close();
    throw error;
  }
  const hub = new HubClient({
    url: hubUrl(loaded),
    ...hubTlsOption(loaded),
    peer: `${kind}-${instance}`,
    kind,
    key: credentials,
    logger: logger.child('hub'),
  });
  // Every process of this host leases its request weight from one budget at the hub.
  const stopLeasing = coordinateWeight(exchange, hub, logger.child('weight'));
  const link = new IngestLink(hub, logger.child('ingest'));
  const ctx: CollectorContext = { api: exchange.api, hub, link, logger };
  const collector = createCollector(kind, ctx, loaded, exchange.wsUrl);
  // The hub shows each collector's own counters in /status: at every (re)connect and every 10 s.
  // `weight`: this IP's used weight this minute (the exchange's count covers every process on the
  // IP) against the limit, how this process paces (leasing, fallback, alone) and its refusals; the
  // host's shared budget itself is the hub's `weight` section, which `tributary status` shows.
  const weight = () => {
    const stats = exchange.rest.budget.stats();
    return {
      used: stats.usedWeight,
      limit: stats.limits.perMinute,
      mode: stats.mode,
      group: stats.group,
      waiting: stats.waiting,
      fallbacks: stats.fallbacks,
      fallbackGrants: stats.fallbackGrants,
      rateLimited: stats.rateLimited,
      banned: stats.banned,
    };
  };
  const report = () =>
    hub.report({ ...collector.status(), instance, ingest: { ...link.counters }, weight: weight() });
  const offReady = hub.onState((state) => {
    if (state === 'ready') report();
  });
  const reporter = setInterval(report, STATUS_REPORT_MS);
  reporter.unref();
  const forwarder =
    alerts === undefined
      ? undefined
      : new HubAlertForwarder({ client: hub, alerts, logger: logger.child('alerts') });
  forwarder?.start();
  await hub.connect();
  collector.start();
  logger.info('collector started', { kind, instance, hub: hubUrl(loaded) });
  return {
    collector,
    hub,
    async stop() {
      clearInterval(reporter);
      offReady();
      // A poll waiting for weight (possibly until the next minute) fails now instead of holding the stop.
      exchange.rest.budget.close();
      await collector.stop();
      await forwarder?.stop();
      link.close();
      stopLeasing();
      await hub.close();
      exchange.close();
    },
  };
}
