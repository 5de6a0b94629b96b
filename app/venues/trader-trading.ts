// Wires a trader's engine for its mode: the venue (paper engine, exchange, dry-run), the account, journal and recorder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BookAccount } from '../../trader/engine/book-market-data.js';
import type { AccountView } from '../../trader/engine/market-data.js';
import { DryRunVenue } from '../../trader/execution/dry-run-venue.js';
import { ExchangeVenue } from '../../trader/execution/exchange-venue.js';
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
import type { LoadedConfig } from '../../ts/config/load-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { connectExchange } from '../../ts/exchange/exchange-link.js';
import type { Logger } from '../../ts/log/logger.js';
import { parseExchangeInfo } from '../../ts/native/parse.js';
import { BufferedRecordWriter } from '../../ts/store/buffered-writer.js';
import { openRecordStore } from '../../ts/store/open-store.js';
import type { RecordStore } from '../../ts/store/record-store.js';
import { startPaperVenue } from './paper-venue.js';
import { specFromExchangeInfo } from './symbol-specs.js';

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
  /**
   * The process's alerter: risk actions and stop-loss failures (`riskEventAlert`), unknown order
   * outcomes, exchange bans. Absent: they are only logged.
   */
  readonly alerts?: AlertSink;
}

/**
 * Starts trading on a synced trader for `loaded.config.trader.mode`: `paper` trades on the
 * simulator's engine inside this process (positions in its account, orders and fills recorded in
 * the records store with mode `paper` under the account `paper-<instance>`); `live` and `testnet` on the exchange through `OrderSender`
 * (positions from the hub-merged book, orders journaled to `<stateDir>/orders.jsonl` before they
 * are sent); `dry-run` signs and logs. Contract settings are applied and verified first.
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
  const info = parseExchangeInfo((await link.api.exchangeInfo()).body);
  const tradable = info.symbols.filter((s) => s.tradable);
  const rules = new SymbolRules(tradable);
  const mode = loaded.config.trader.mode;
  const dir = { symbolId: (n: string) => trader.feed.symbolId(n), symbols: () => trader.client.symbols };
  let venue: Venue;
  let account: AccountView;
  let journal: OrderJournal;
  let stopVenue = (): void => {};
  let recorder: StoreTradeRecorder | undefined;
  let records: { store: RecordStore; writer: BufferedRecordWriter } | undefined;
  let stopOrders: StopOrderVenue | undefined;
  let orderRate: OrderRateMeter;
  if (mode === 'paper') {
    const specs = tradable.map((s) => {
      const id = trader.feed.symbolId(s.symbol);
      const close = id === undefined ? undefined : trader.book.klines(id, '1m').at(-1)?.close;
      const fallback = Decimal.parse(s.maxPrice ?? '1000').div(Decimal.fromInt(1000), 8);
      return specFromExchangeInfo(s, close === undefined ? fallback : Decimal.parse(close));
    });
    const paper = startPaperVenue(trader, specs, options.paperBalance ?? '10000', logger.child('paper'));
    venue = paper.venue;
    account = paper.account;
    journal = new MemoryOrderJournal();
    const store = await openRecordStore(loaded);
    const writer = new BufferedRecordWriter(store, {
      flushMs: loaded.config.store.flushMs,
      maxBatch: loaded.config.store.maxBatch,
      logger: logger.child('records'),
    });
    records = { store, writer };
    recorder = new StoreTradeRecorder(writer, { mode: 'paper', account: `paper-${options.instance}` });
    stopVenue = paper.stop;
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
      venue = new ExchangeVenue(mode, sender, trader);
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
  return {
    runtime,
    venue,
    account,
    stop: async () => {
      await runtime.stop();
      offAlerts?.();
      stopVenue();
      await records?.writer.close();
      await records?.store.close();
      link.close();
    },
  };
}
