// Wires a trader's engine for its mode: the venue (paper engine, exchange, dry-run), the account, journal and recorder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BookAccount } from '../../trader/engine/book-market-data.js';
import type { AccountView } from '../../trader/engine/market-data.js';
import { FileStrategyStateStore } from '../../trader/engine/strategy-state-file.js';
import { DryRunVenue } from '../../trader/execution/dry-run-venue.js';
import { ExchangeVenue } from '../../trader/execution/exchange-venue.js';
import { GatewayVenue } from '../../trader/execution/gateway-venue.js';
import {
  FileOrderJournal,
  MemoryOrderJournal,
  type OrderJournal,
} from '../../trader/execution/order-journal.js';
import { OrderSender } from '../../trader/execution/order-sender.js';
import { StoreTradeRecorder } from '../../trader/execution/store-trade-recorder.js';
import { SymbolRules } from '../../trader/execution/symbol-rules.js';
import type { Venue } from '../../trader/execution/venue.js';
import { BudgetOrderRate, LocalOrderRate, type OrderRateMeter } from '../../trader/risk/order-rate.js';
import { alertRiskEvents } from '../../trader/risk/risk-alerts.js';
import { FileRiskStateStore } from '../../trader/risk/risk-state-store.js';
import { ExchangeStopOrders } from '../../trader/stop-loss/exchange-stop-orders.js';
import type { StopOrderVenue } from '../../trader/stop-loss/stop-orders.js';
import type { Strategy } from '../../trader/strategies/strategy-api.js';
import type { TraderProcess } from '../../trader/trader-process.js';
import { TradingRuntime } from '../../trader/trading-runtime.js';
import type { AlertSink } from '../../ts/alerts/alert.js';
import { gatewayUrl } from '../../ts/config/gateway-config.js';
import type { LoadedConfig } from '../../ts/config/load-config.js';
import { connectExchange } from '../../ts/exchange/exchange-link.js';
import { GatewayClient } from '../../ts/gateway/gateway-client.js';
import { hubClientTls, hubKey } from '../../ts/hub/hub-link.js';
import { coordinateWeight } from '../../ts/hub/hub-weight-coordinator.js';
import type { HubKeyCredentials } from '../../ts/hub/peer-keys.js';
import type { Logger } from '../../ts/log/logger.js';
import { parseExchangeInfo } from '../../ts/native/parse.js';
import { BufferedRecordWriter } from '../../ts/store/buffered-writer.js';
import { openRecordStore } from '../../ts/store/open-store.js';
import type { RecordStore } from '../../ts/store/record-store.js';
import { recordEngineStops } from './engine-venue.js';
import { expireOrphanedStops, PaperAccountRecords, paperStartFromRecords } from './paper-account-records.js';
import { PAPER_ACCOUNT_ID, startPaperVenue } from './paper-venue.js';
import { paperSpecs } from './symbol-specs.js';

/** A trader's trading side as started. */
export interface TraderTrading {
  readonly runtime: TradingRuntime;
  readonly venue: Venue;
  readonly account: AccountView;
  stop(): Promise<void>;
}

/** What the trading side runs. */
export interface TraderTradingOptions {
  readonly strategyName: string;
  readonly strategy: Strategy;
  /** Where the order journal and records live (default `.tributary/trader-<instance>`). */
  readonly stateDir: string;
  readonly instance: number;
  /** Paper account's starting USDT (default 10000). */
  readonly paperBalance?: string;
  readonly leverage?: number;
  /** The key the trader signs gateway requests with (its hub key from TRIBUTARY_HUB_KEY unless given). */
  readonly gatewayKey?: HubKeyCredentials;
  /**
   * The process's alerter: risk actions and stop-loss failures (`riskEventAlert`), unknown order
   * outcomes, exchange bans. Absent: they are only logged.
   */
  readonly alerts?: AlertSink;
}

/**
 * Starts trading on a synced trader for `loaded.config.trader.mode`: `paper` trades on the
 * simulator's engine inside this process (positions in its account, orders and fills recorded in
 * the records store with mode `paper` under the account `paper-<instance>`), except when the
 * exchange is the built-in simulator: that is already a paper exchange, so orders go to it like
 * `testnet` and positions come back through the hub; `live` and `testnet` on the exchange through `OrderSender`
 * (positions from the hub-merged book, orders journaled to `<stateDir>/orders.jsonl` before they
 * are sent; through the order gateway when `gateway.enabled`); `dry-run` signs and logs. Contract
 * settings are applied and verified first.
 */
export async function startTraderTrading(
  trader: TraderProcess,
  loaded: LoadedConfig,
  options: TraderTradingOptions,
  logger: Logger,
): Promise<TraderTrading> {
  mkdirSync(options.stateDir, { recursive: true });
  const alerts = options.alerts;
  const link = connectExchange(loaded, logger.child('exchange'), alerts);
  // The trader's requests (orders first) lease from the host's budget at the hub like the collectors'.
  const stopLeasing = coordinateWeight(link, trader.client, logger.child('weight'));
  const info = parseExchangeInfo((await link.api.exchangeInfo()).body);
  const tradable = info.symbols.filter((s) => s.tradable);
  const rules = new SymbolRules(tradable);
  const mode = loaded.config.trader.mode;
  const dir = { symbolId: (n: string) => trader.feed.symbolId(n), symbols: () => trader.client.symbols };
  let venue: Venue;
  let account: AccountView;
  let journal: OrderJournal;
  /** Ends the paper venue: its stops, a last snapshot of its account, the engine. */
  let endPaper = async (): Promise<void> => {};
  let recorder: StoreTradeRecorder | undefined;
  let records: { store: RecordStore; writer: BufferedRecordWriter; account: PaperAccountRecords } | undefined;
  let stopOrders: StopOrderVenue | undefined;
  let orderRate: OrderRateMeter;
  // On the built-in simulator the simulator is the paper exchange: orders go to it (its matching
  // engine, on the market the hub shows), positions come back through the hub into the book.
  const paperInProcess = mode === 'paper' && loaded.config.exchange.kind !== 'simulator';
  if (paperInProcess) {
    const store = await openRecordStore(loaded);
    const scope = { mode: 'paper' as const, account: `paper-${options.instance}` };
    // The paper account lives in this process: a restart carries it over from its records.
    const start = await paperStartFromRecords(
      store,
      scope,
      options.paperBalance ?? '10000',
      new Set(tradable.map((s) => s.symbol)),
      logger.child('paper'),
    );
    const specs = paperSpecs(
      tradable,
      (symbol) => {
        const id = trader.feed.symbolId(symbol);
        return id === undefined ? undefined : trader.book.klines(id, '1m').at(-1)?.close;
      },
      new Map((start.positions ?? []).map((p) => [p.symbol, p.markPrice])),
    );
    const paper = startPaperVenue(trader, specs, start, logger.child('paper'));
    venue = paper.venue;
    account = paper.account;
    journal = new MemoryOrderJournal();
    const writer = new BufferedRecordWriter(store, {
      flushMs: loaded.config.store.flushMs,
      maxBatch: loaded.config.store.maxBatch,
      logger: logger.child('records'),
    });
    await expireOrphanedStops(store, writer, scope, Date.now(), logger.child('paper'));
    // The account itself (positions, wallet, equity) and its round trips and days, as the recorder
    // keeps an exchange account's: nobody else writes this scope.
    const accountRecords = new PaperAccountRecords({
      engine: paper.engine,
      accountId: PAPER_ACCOUNT_ID,
      market: paper.market,
      incomeSince: (startTime) => paper.venue.incomeSince(startTime),
      store,
      writer,
      scope,
      everyMs: loaded.config.recorder.snapshotMs,
      logger: logger.child('paper-records'),
    });
    records = { store, writer, account: accountRecords };
    const paperRecorder = new StoreTradeRecorder(writer, scope);
    recorder = paperRecorder;
    recordEngineStops(paper.venue, paperRecorder);
    // A step that fails is logged and the rest still runs: the last snapshot and the writer's close
    // must happen. Resting orders not cancelled stay unrecorded (as an order the executor never
    // settled is); stops not cancelled are recorded as expired by the next start.
    const atStop = async (failure: string, step: () => Promise<void>): Promise<void> => {
      try {
        await step();
      } catch (error) {
        logger.warn(failure, { error: error instanceof Error ? error.message : String(error) });
      }
    };
    endPaper = async () => {
      await atStop('paper resting orders not cancelled at stop', async () => {
        for (const order of await paper.endOrders()) paperRecorder.order(order);
      });
      await atStop('paper stops not cancelled at stop; the next start records them as expired', () =>
        paper.endStops(),
      );
      await accountRecords.stop();
      paper.stop();
    };
    stopOrders = paper.venue;
    orderRate = new LocalOrderRate(link.api.rest.budget.limits);
  } else {
    account = new BookAccount(trader.book, dir);
    journal = new FileOrderJournal(join(options.stateDir, 'orders.jsonl'), logger.child('journal'));
    orderRate = new BudgetOrderRate(link.api.rest.budget);
    if (mode === 'dry-run') {
      // Stops would be signed and logged, never placed: there would be no ladder to confirm.
      venue = new DryRunVenue(loaded.secrets.apiSecret, logger.child('dry-run'));
    } else {
      const sender = new OrderSender(link.api, {
        logger: logger.child('orders'),
        ...(alerts === undefined ? {} : { alerts }),
      });
      venue = new ExchangeVenue(mode === 'paper' ? 'simulator' : mode, sender, trader);
      const gateway = loaded.config.gateway;
      if (gateway.enabled && mode !== 'paper') {
        // Redundant traders: orders go through the gateway, one per signal (or this trader's share).
        const key = options.gatewayKey ?? hubKey();
        const peer = `trader-${options.instance}`;
        const member = gateway.members.indexOf(peer);
        if (gateway.mode === 'split' && member < 0)
          throw new Error(`gateway.mode is split and ${peer} is not one of gateway.members`);
        const client = new GatewayClient({
          url: gatewayUrl(gateway),
          // With gateway.tls the gateway presents the fleet's certificate: trust only hub.tls.ca.
          ...(gateway.tls ? { tls: hubClientTls(loaded) } : {}),
          credentials: { keyId: key.id, secret: key.secret, peer },
          logger: logger.child('gateway'),
          requestTimeoutMs: gateway.requestTimeoutMs,
        });
        venue = new GatewayVenue(
          venue,
          client,
          logger.child('gateway'),
          gateway.mode === 'split' ? member : undefined,
        );
      }
      stopOrders = new ExchangeStopOrders(sender);
    }
  }
  const runtime = new TradingRuntime(
    trader,
    {
      name: options.strategyName,
      strategy: options.strategy,
      venue,
      rules,
      journal,
      logger: logger.child('engine'),
      settings: { marginType: 'CROSSED', positionMode: 'one-way', leverage: options.leverage ?? 20 },
      ...(recorder === undefined ? {} : { recorder }),
      // What the strategy keeps across restarts (`saveState`), beside the journal.
      stateStore: new FileStrategyStateStore(options.stateDir, logger.child('strategy-state')),
      protection: {
        settings: loaded.config.risk,
        store: new FileRiskStateStore(options.stateDir),
        ...(stopOrders === undefined ? {} : { stopOrders }),
        orderRate,
      },
    },
    account,
  );
  const riskEvents = runtime.risk?.events;
  const offAlerts =
    alerts === undefined || riskEvents === undefined ? undefined : alertRiskEvents(riskEvents, alerts);
  await runtime.start();
  records?.account.start();
  return {
    runtime,
    venue,
    account,
    stop: async () => {
      // The ladders and the engine are marked stopping first (synchronously), then every request
      // still waiting for weight or an order slot fails unsent: a stop must not wait for the
      // limiter's next window, up to a minute, past the supervisor's 5 s before SIGKILL.
      const stopping = runtime.stop();
      link.api.rest.budget.close();
      await stopping;
      offAlerts?.();
      await endPaper();
      await records?.writer.close();
      await records?.store.close();
      stopLeasing();
      link.close();
    },
  };
}
