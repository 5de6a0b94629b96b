// Paper trading: the simulator's exchange engine in the trader's process, its market set from the trader's hub-fed book.
import type { SymbolSpec } from '../../sim/contracts.js';
import { ExchangeEngine } from '../../sim/engine/exchange-engine.js';
import { BookMarketData } from '../../trader/engine/book-market-data.js';
import { EventAccount } from '../../trader/engine/event-account.js';
import type { RecordedOrder } from '../../trader/execution/trade-recorder.js';
import type { TraderProcess } from '../../trader/trader-process.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { TERMINAL_ORDER_STATUSES } from '../../ts/exchange/usdm-decoders.js';
import type { Logger } from '../../ts/log/logger.js';
import { DrivenMarket } from './driven-market.js';
import { EngineVenue } from './engine-venue.js';

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_ORDER_STATUSES);

/** The paper engine's one account. */
export const PAPER_ACCOUNT_ID = 'account-1';

/** A running paper venue. */
export interface PaperVenue {
  readonly venue: EngineVenue;
  readonly account: EventAccount;
  readonly engine: ExchangeEngine;
  readonly market: DrivenMarket;
  /**
   * Cancels the engine's waiting stops: the engine ends with this process, and its stops with it
   * (recorded as CANCELED, so the records do not keep them open; a restarted trader places its
   * ladders anew). Call before `stop`.
   */
  endStops(): Promise<void>;
  /**
   * Cancels the engine's resting orders, for the same reason, and returns them as cancelled: the
   * executor records an order once it settles, and these never would. Call before `stop`.
   */
  endOrders(): Promise<RecordedOrder[]>;
  stop(): void;
}

/** Why a paper trader's resting orders end when it stops. */
const ENDED_WITH_TRADER = 'paper trader stopped: its engine, and the orders resting in it, end with it';

/** Cancels every order resting in the engine; returns them as cancelled, in the form the executor records. */
export async function cancelRestingOrders(venue: EngineVenue): Promise<RecordedOrder[]> {
  const ended: RecordedOrder[] = [];
  for (const open of await venue.openOrders()) {
    const o = await venue.cancel(open.symbol, open.clientOrderId);
    ended.push({
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      type: o.timeInForce === 'GTX' ? 'LIMIT_GTX' : o.type,
      quantity: o.origQty.toString(),
      price: o.price.isZero() ? null : o.price.toString(),
      reduceOnly: o.reduceOnly,
      status: o.status,
      executedQty: o.executedQty.toString(),
      time: o.updateTime,
      reason: ENDED_WITH_TRADER,
    });
  }
  return ended;
}

/** The paper account a trader starts with: a fresh wallet, or what its records held at its last stop. */
export interface PaperStart {
  readonly balance: string;
  /** One-way positions carried over (a short's amount is negative), with their last mark where known. */
  readonly positions?: ReadonlyArray<{
    readonly symbol: string;
    readonly amount: string;
    readonly entryPrice: string;
    readonly markPrice?: string | undefined;
  }>;
}

/**
 * Starts a paper venue for `specs` on the trader's book: after every feed update each symbol's
 * book ticker sets the simulated touch and its last price the mark; for symbols where a paper
 * limit order rests, the growth of the current 1-minute bar's volume becomes a public trade at
 * its close (that is all the hub tells of trades), which fills resting orders as the simulator
 * would. Funding and conditional triggers advance every second. Orders, fills, positions and the
 * wallet live in the engine's account; `account` follows it from its ACCOUNT_UPDATE events.
 */
export function startPaperVenue(
  trader: TraderProcess,
  specs: readonly SymbolSpec[],
  start: PaperStart,
  logger: Logger,
): PaperVenue {
  const market = new DrivenMarket(specs, Date.now());
  const positions = start.positions ?? [];
  const engine = new ExchangeEngine({
    market,
    clock: { now: () => Date.now() },
    accounts: [{ apiKey: 'paper', apiSecret: 'paper', balances: { USDT: start.balance }, positions }],
    // Order, trade and algo ids a restarted paper trader gives must not be its earlier run's: the
    // records key orders and fills by them.
    idOffset: Date.now(),
    logger: logger.child('paper-engine'),
  });
  const venue = new EngineVenue(engine, PAPER_ACCOUNT_ID, () => Date.now());
  const dir = { symbolId: (n: string) => trader.feed.symbolId(n), symbols: () => trader.client.symbols };
  const data = new BookMarketData(trader.book, dir);
  const account = new EventAccount(data, Decimal.parse(start.balance));
  if (positions.length > 0) {
    const now = Date.now();
    account.apply({
      eventTime: now,
      transactionTime: now,
      reason: 'RESTORED',
      balances: [],
      positions: positions.map((p) => ({
        symbol: p.symbol,
        position: { side: 'BOTH', amount: p.amount, entryPrice: p.entryPrice, updateTime: now },
      })),
    });
  }
  const resting = new Map<string, Set<string>>();
  venue.onUserEvent((event) => {
    if (event.accountUpdate !== undefined) account.apply(event.accountUpdate);
    const u = event.orderUpdate;
    if (u === undefined) return;
    const set = resting.get(u.symbol) ?? new Set<string>();
    if (u.status === 'NEW' && u.orderType === 'LIMIT') set.add(u.clientOrderId);
    else if (TERMINAL.has(u.status)) set.delete(u.clientOrderId);
    resting.set(u.symbol, set);
  });
  const seenTick = new Map<string, number>();
  const seenVolume = new Map<string, { openTime: number; volume: number; takerBuy: number }>();
  const sync = (): void => {
    for (const spec of specs) {
      const id = dir.symbolId(spec.symbol);
      if (id === undefined) continue;
      const values = trader.book.tickValues(id);
      const time = values?.[5];
      if (
        values !== undefined &&
        time !== undefined &&
        Number.isFinite(time) &&
        seenTick.get(spec.symbol) !== time
      ) {
        seenTick.set(spec.symbol, time);
        const tick = trader.book.tick(id);
        if (tick !== null) {
          market.setQuote(spec.symbol, tick.bid, tick.ask, tick.time);
          if (tick.last !== undefined) market.setLastPrice(spec.symbol, tick.last);
        }
      }
      const bars = trader.book.klineSeries(id, '1m');
      if (bars === undefined || bars.length === 0) continue;
      const n = bars.length - 1;
      const openTime = bars.values('openTime')[n] as number;
      const volume = bars.values('volume')[n] as number;
      const takerBuy = bars.values('takerBuyVolume')[n] as number;
      const before = seenVolume.get(spec.symbol);
      seenVolume.set(spec.symbol, { openTime, volume, takerBuy });
      if (before === undefined || (resting.get(spec.symbol)?.size ?? 0) === 0) {
        if (before === undefined && !seenTick.has(spec.symbol)) {
          // No book ticker yet: the touch starts at the last bar's close.
          const close = trader.book.klines(id, '1m').at(-1)?.close;
          if (close !== undefined) market.setLastTrade(spec.symbol, close, false, Date.now());
        }
        continue;
      }
      const grown = before.openTime === openTime ? volume - before.volume : volume;
      if (!(grown > 0)) continue;
      const bar = trader.book.klines(id, '1m').at(-1);
      if (bar === undefined) continue;
      const buys = before.openTime === openTime ? takerBuy - before.takerBuy : takerBuy;
      const qty = Decimal.parse(grown.toFixed(spec.stepSize.scale)).snap(spec.stepSize, 'floor');
      if (qty.sign() <= 0) continue;
      market.publishTrade(spec.symbol, bar.close, qty.toString(), buys < grown / 2, Date.now());
    }
  };
  sync();
  const off = trader.feed.onUpdate(() => sync());
  const timer = setInterval(() => {
    try {
      engine.advance(Date.now());
    } catch (error) {
      logger.error('paper engine advance failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }, 1_000);
  timer.unref();
  return {
    venue,
    account,
    engine,
    market,
    endStops: async () => {
      for (const stop of await venue.openStops()) await venue.cancelStop(stop.symbol, stop.clientAlgoId);
    },
    endOrders: () => cancelRestingOrders(venue),
    stop: () => {
      clearInterval(timer);
      off();
      venue.close();
      engine.close();
    },
  };
}
