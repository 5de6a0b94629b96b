// An account's orders, fills, income and conditional orders as sorted lines of exact values, read inside the simulator and from the records store, so a test or the soak can name what the store lost or added.
import type { RunningSimulator } from '../../sim/simulator.js';
import { Decimal } from '../../ts/exact/decimal.js';
import {
  decodeAlgoOrders,
  decodeIncomes,
  decodeOrders,
  decodeTrades,
} from '../../ts/exchange/usdm-decoders.js';
import type { RecordStore } from '../../ts/store/record-store.js';
import type { RecordScope } from '../../ts/store/store-records.js';

/** One record as a line of its exact fields, with what names it and when it last changed. */
export interface AccountLine {
  /** The record's identity (an order, a conditional order, a fill, an income row). */
  readonly key: string;
  /** When it last changed (an order's or conditional order's update time; a fill's or income row's time), ms. */
  readonly time: number;
  readonly text: string;
}

/** One account's records, each kind as lines sorted by text. */
export interface AccountLines {
  readonly orders: AccountLine[];
  readonly fills: AccountLine[];
  readonly income: AccountLine[];
  readonly algoOrders: AccountLine[];
}

/** What one side holds that the other lacks, for one kind of record. */
export interface AccountLinesGap {
  readonly kind: keyof AccountLines;
  /** Lines the exchange has and the store lacks. */
  readonly missing: string[];
  /** Lines the store has and the exchange does not (a wrong value shows as one missing and one extra). */
  readonly extra: string[];
}

/** The most rows one read returns; a list this long may be cut, so the comparison refuses it. */
const READ_LIMIT = 1000;

const line = (key: string, time: number, fields: unknown[]): AccountLine => ({
  key,
  time,
  text: fields.map(String).join(' '),
});
const sorted = (lines: AccountLine[]) =>
  lines.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));

/** An exact value written without trailing zeros, so `1.50` and `1.5000` compare equal. */
const normal = (value: string | null | undefined): string | null =>
  value === null || value === undefined ? null : Decimal.parse(value).normalize().toString();

/**
 * The exchange's records of `accountId` in `symbols` (income: of every symbol), read inside the
 * simulator through its own endpoint handlers: no request weight is spent, which a check polled
 * over REST would take from the per-IP weight every process of the machine shares. Throws when a
 * list reaches the read limit, since the comparison would then be of a part.
 */
export function exchangeAccountLines(
  sim: RunningSimulator,
  accountId: string,
  symbols: readonly string[],
): AccountLines {
  const call = (path: string, params: Record<string, string>): unknown => {
    const handler = sim.engine.endpoints().find((e) => e.method === 'GET' && e.path === path);
    if (handler === undefined) throw new Error(`the simulator has no ${path}`);
    return handler.handle({ params, accountId, now: sim.clock.now() });
  };
  const whole = <T>(path: string, rows: T[]): T[] => {
    if (rows.length >= READ_LIMIT)
      throw new RangeError(
        `${path} returned ${rows.length} rows, the most one read gives: the comparison would be partial`,
      );
    return rows;
  };
  const limit = String(READ_LIMIT);
  const orders: AccountLine[] = [];
  const fills: AccountLine[] = [];
  const algoOrders: AccountLine[] = [];
  for (const symbol of symbols) {
    for (const o of whole('allOrders', decodeOrders(call('/fapi/v1/allOrders', { symbol, limit }))))
      orders.push(
        line(`${o.symbol} ${o.orderId}`, o.updateTime, [
          o.symbol,
          o.orderId,
          o.clientOrderId,
          o.status,
          normal(o.executedQty.toString()),
          normal(o.origQty.toString()),
          normal(o.price.toString()),
          o.updateTime,
        ]),
      );
    for (const t of whole('userTrades', decodeTrades(call('/fapi/v1/userTrades', { symbol, limit }))))
      fills.push(
        line(`${t.symbol} ${t.id}`, t.time, [
          t.symbol,
          t.id,
          t.orderId,
          t.side,
          normal(t.price.toString()),
          normal(t.qty.toString()),
          normal(t.quoteQty.toString()),
          normal(t.realizedPnl.toString()),
          normal(t.commission.toString()),
          t.commissionAsset,
          t.maker,
          t.time,
        ]),
      );
    for (const a of whole(
      'allAlgoOrders',
      decodeAlgoOrders(call('/fapi/v1/allAlgoOrders', { symbol, limit })),
    ))
      algoOrders.push(
        line(`${a.symbol} ${a.algoId}`, a.updateTime, [
          a.symbol,
          a.algoId,
          a.clientAlgoId,
          a.orderType,
          a.algoStatus,
          normal(a.quantity.toString()),
          normal(a.triggerPrice?.toString()),
          a.updateTime,
        ]),
      );
  }
  const income = whole('income', decodeIncomes(call('/fapi/v1/income', { limit }))).map((i) =>
    line(`${i.incomeType} ${i.tranId} ${i.symbol}`, i.time, [
      i.incomeType,
      i.tranId,
      i.symbol,
      normal(i.income.toString()),
      i.asset,
      i.time,
    ]),
  );
  return {
    orders: sorted(orders),
    fills: sorted(fills),
    income: sorted(income),
    algoOrders: sorted(algoOrders),
  };
}

/** The same lines as {@link exchangeAccountLines}, from what the records store holds for `scope`. */
export async function storedAccountLines(store: RecordStore, scope: RecordScope): Promise<AccountLines> {
  const orders = (await store.orders(scope)).map((o) =>
    line(`${o.symbol} ${o.orderId}`, o.updateTime, [
      o.symbol,
      o.orderId,
      o.clientOrderId,
      o.status,
      normal(o.executedQty),
      normal(o.origQty),
      normal(o.price),
      o.updateTime,
    ]),
  );
  const fills = (await store.fills(scope)).map((f) =>
    line(`${f.symbol} ${f.tradeId}`, f.time, [
      f.symbol,
      f.tradeId,
      f.orderId,
      f.side,
      normal(f.price),
      normal(f.qty),
      normal(f.quoteQty),
      normal(f.realizedPnl),
      normal(f.commission),
      f.commissionAsset,
      f.maker,
      f.time,
    ]),
  );
  const income = (await store.income(scope)).map((i) =>
    line(`${i.incomeType} ${i.tranId} ${i.symbol}`, i.time, [
      i.incomeType,
      i.tranId,
      i.symbol,
      normal(i.income),
      i.asset,
      i.time,
    ]),
  );
  const algoOrders = (await store.algoOrders(scope)).map((a) =>
    line(`${a.symbol} ${a.algoId}`, a.updateTime, [
      a.symbol,
      a.algoId,
      a.clientAlgoId,
      a.type,
      a.status,
      normal(a.quantity),
      normal(a.triggerPrice),
      a.updateTime,
    ]),
  );
  return {
    orders: sorted(orders),
    fills: sorted(fills),
    income: sorted(income),
    algoOrders: sorted(algoOrders),
  };
}

/**
 * Per kind, what `have` lacks of `want` and holds beyond it, counting repeats (a row stored twice
 * is one extra); empty when the two are equal. With `until`, only what had settled by then is
 * compared, so a system still trading can be checked: a record whose latest change at the
 * exchange came later is left out on both sides, as is a stored one the exchange lacks that is
 * stamped later.
 */
export function accountLinesGaps(want: AccountLines, have: AccountLines, until?: number): AccountLinesGap[] {
  const kinds: Array<keyof AccountLines> = ['orders', 'fills', 'income', 'algoOrders'];
  const gaps: AccountLinesGap[] = [];
  for (const kind of kinds) {
    const late = new Set<string>();
    const known = new Set<string>();
    for (const l of want[kind]) {
      known.add(l.key);
      if (until !== undefined && l.time > until) late.add(l.key);
    }
    for (const l of have[kind])
      if (until !== undefined && !known.has(l.key) && l.time > until) late.add(l.key);
    const counts = new Map<string, number>();
    for (const l of want[kind]) if (!late.has(l.key)) counts.set(l.text, (counts.get(l.text) ?? 0) + 1);
    for (const l of have[kind]) if (!late.has(l.key)) counts.set(l.text, (counts.get(l.text) ?? 0) - 1);
    const missing: string[] = [];
    const extra: string[] = [];
    for (const [line, count] of counts) {
      for (let i = 0; i < count; i++) missing.push(line);
      for (let i = 0; i < -count; i++) extra.push(line);
    }
    if (missing.length > 0 || extra.length > 0) gaps.push({ kind, missing, extra });
  }
  return gaps;
}

/** The gaps as text for a failure message, each kind's lines cut to `perKind`. */
export function describeGaps(gaps: readonly AccountLinesGap[], perKind = 20): string {
  return gaps
    .map(
      (g) =>
        `${g.kind}: missing ${JSON.stringify(g.missing.slice(0, perKind))} extra ${JSON.stringify(g.extra.slice(0, perKind))}`,
    )
    .join('\n');
}
