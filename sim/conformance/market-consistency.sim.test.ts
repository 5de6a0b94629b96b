// A third-party client's view of the simulator's market, over HTTP and websockets: a local book kept from
// diff depth stays equal to the REST book; REST klines equal the stream's closed bars and the aggTrades.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BarAggregator } from '../../ts/native/bar-aggregator.js';
import type { KlineObject } from '../../ts/native/index.js';
import { INTERVALS } from '../../ts/native/interval.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { type RunningSimulator, startSimulator } from '../simulator.js';

const HOUR = 3_600_000;

let sim: RunningSimulator;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: 'consistency-key', apiSecret: 'consistency-secret' }],
    // Almost no trades of its own: the tests make them.
    source: { kind: 'random-walk', tradesPerSecond: 0.0001 },
    liquidationShare: 0,
  });
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await sim?.stop();
});

async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${sim.restUrl}${path}`);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body}`);
  return JSON.parse(body) as T;
}

async function subscribe(route: string, stream: string): Promise<{ ws: WebSocket; events: unknown[] }> {
  const ws = new WebSocket(`${sim.wsUrl}/${route}/ws/${stream}`);
  sockets.push(ws);
  const events: unknown[] = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, events };
}

interface DepthEvent {
  U: number;
  u: number;
  pu: number;
  b: [string, string][];
  a: [string, string][];
}
interface Depth {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

/**
 * A local order book kept the way Binance documents for USD-M futures: buffer the diff stream, take a
 * REST snapshot, drop events with `u` < lastUpdateId, start with the event where
 * `U` ≤ lastUpdateId ≤ `u`, then require every event's `pu` to be the previous `u`; a quantity of 0
 * removes the level.
 */
class LocalBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  lastU = -1;
  #synced = false;
  #buffer: DepthEvent[] = [];
  resyncs = 0;

  constructor(readonly events: unknown[]) {}

  async sync(): Promise<void> {
    this.#synced = false;
    const snapshot = await get<Depth>('/fapi/v1/depth?symbol=BTCUSDT&limit=1000');
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of snapshot.bids) this.bids.set(p, q);
    for (const [p, q] of snapshot.asks) this.asks.set(p, q);
    this.lastU = snapshot.lastUpdateId;
    this.#buffer = (this.events.splice(0) as DepthEvent[]).filter((e) => e.u >= snapshot.lastUpdateId);
    const first = this.#buffer[0];
    // Without a buffered event the book has not moved since the snapshot: the next event continues it.
    if (first !== undefined && !(first.U <= snapshot.lastUpdateId && snapshot.lastUpdateId <= first.u)) {
      throw new Error(`first event ${first.U}..${first.u} does not cover ${snapshot.lastUpdateId}`);
    }
    this.#synced = true;
    this.#apply(this.#buffer.splice(0), true);
  }

  /** Applies what arrived since; `pu` must continue. */
  drain(): void {
    if (!this.#synced) throw new Error('not synced');
    this.#apply(this.events.splice(0) as DepthEvent[], false);
  }

  #apply(events: DepthEvent[], first: boolean): void {
    for (const [i, e] of events.entries()) {
      if (!(first && i === 0) && e.pu !== this.lastU) throw new Error(`pu ${e.pu} after u ${this.lastU}`);
      for (const [p, q] of e.b) {
        if (Number(q) === 0) this.bids.delete(p);
        else this.bids.set(p, q);
      }
      for (const [p, q] of e.a) {
        if (Number(q) === 0) this.asks.delete(p);
        else this.asks.set(p, q);
      }
      this.lastU = e.u;
    }
  }

  /** Both sides best first, as REST depth lists them. */
  sides(): { bids: [string, string][]; asks: [string, string][] } {
    const order = (m: Map<string, string>, descending: boolean) =>
      [...m.entries()].sort((x, y) =>
        descending ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0]),
      );
    return { bids: order(this.bids, true), asks: order(this.asks, false) };
  }
}

describe('diff depth', () => {
  it('keeps a local book (Binance procedure) equal to the REST book at every speed', async () => {
    const speeds = ['btcusdt@depth', 'btcusdt@depth@100ms', 'btcusdt@depth@500ms'];
    const books = await Promise.all(
      speeds.map(async (stream) => new LocalBook((await subscribe('public', stream)).events)),
    );
    sim.market.generateTrades(5, 'BTCUSDT');
    await new Promise((resolve) => setTimeout(resolve, 700));
    for (const book of books) await book.sync();
    let compared = 0;
    // Small moves, and moves of thousands of ticks that replace the whole 1,000-level window.
    for (const trades of [1, 3, 1, 8, 2, 20, 1, 5]) {
      sim.market.generateTrades(trades, 'BTCUSDT');
      const rest = await get<Depth>('/fapi/v1/depth?symbol=BTCUSDT&limit=1000');
      for (const book of books) {
        await waitUntil(
          () => {
            book.drain();
            return book.lastU === rest.lastUpdateId;
          },
          `a local book at update ${rest.lastUpdateId}`,
          5_000,
          20,
        );
        expect(book.sides()).toEqual({ bids: rest.bids, asks: rest.asks });
        compared += 1;
      }
    }
    expect(compared).toBe(24);
  });
});

describe('klines', () => {
  it('returns 1,500 bars of every interval right after start, in order, without gaps', async () => {
    for (const symbol of ['BTCUSDT', 'DOGEUSDT']) {
      for (const interval of INTERVALS) {
        const rows = await get<unknown[][]>(
          `/fapi/v1/klines?symbol=${symbol}&interval=${interval}&limit=1500`,
        );
        expect(rows, `${symbol} ${interval}`).toHaveLength(1500);
        for (let i = 1; i < rows.length; i++) {
          expect(rows[i]?.[0]).toBe((rows[i - 1]?.[6] as number) + 1);
        }
      }
    }
  });

  it('equals the aggregate of the aggTrades a client downloads for the window (history)', async () => {
    const now = Date.now();
    const hour = Math.floor((now - 2 * 24 * HOUR) / HOUR) * HOUR;
    const messages: Buffer[] = [];
    let fromId: number | undefined;
    for (let page = 0; page < 100; page++) {
      const query =
        fromId === undefined
          ? `startTime=${hour}&endTime=${hour + HOUR - 1}&limit=1000`
          : `fromId=${fromId}&limit=1000`;
      const trades = await get<
        { a: number; p: string; q: string; f: number; l: number; T: number; m: boolean }[]
      >(`/fapi/v1/aggTrades?symbol=ETHUSDT&${query}`);
      const inside = trades.filter((t) => t.T < hour + HOUR);
      for (const t of inside) {
        messages.push(Buffer.from(JSON.stringify({ e: 'aggTrade', E: t.T, s: 'ETHUSDT', ...t })));
      }
      if (inside.length < trades.length || trades.length === 0) break;
      fromId = (trades.at(-1)?.a ?? 0) + 1;
    }
    expect(messages.length).toBeGreaterThan(60 * 12);
    const aggregator = new BarAggregator('ETHUSDT', ['1m', '1h']);
    const result = aggregator.pushMessages(messages);
    expect(result.gaps).toEqual([]);
    const closed = [...result.closed, ...aggregator.advanceTo(hour + HOUR)];
    const built = (interval: string) => closed.filter((b) => b.interval === interval).map((b) => b.kline);
    const served = async (interval: string, limit: number) =>
      (
        await get<unknown[][]>(
          `/fapi/v1/klines?symbol=ETHUSDT&interval=${interval}&startTime=${hour}&limit=${limit}`,
        )
      ).map(row);
    expect(await served('1m', 60)).toEqual(built('1m').map(columns));
    expect(await served('1h', 1)).toEqual(built('1h').map(columns));
  });

  it('sends each closed bar on the stream as REST then serves it, including the bar that joins history and live', async () => {
    const minute = await subscribe('market', 'btcusdt@kline_1m');
    const hour = await subscribe('market', 'btcusdt@kline_1h');
    sim.market.generateTrades(10, 'BTCUSDT');
    await waitUntil(() => minute.events.length > 0 && hour.events.length > 0, 'kline updates', 5_000, 20);
    const openHour = (hour.events[0] as { k: { t: number } }).k.t;
    // Jump the exchange clock past the end of the hour: both bars close.
    const skew = openHour + HOUR + 200 - Date.now();
    await fetch(`${sim.restUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ clockSkewMs: skew }),
    });
    try {
      const closedOf = (events: unknown[]) =>
        events.map((e) => (e as { k: Record<string, unknown> }).k).filter((k) => k.x === true);
      await waitUntil(
        () => closedOf(hour.events).length > 0 && closedOf(minute.events).length > 0,
        'closed bars',
        5_000,
        20,
      );
      for (const [interval, events] of [
        ['1h', hour.events],
        ['1m', minute.events],
      ] as const) {
        const k = closedOf(events)[0] as Record<string, unknown>;
        const rows = await get<unknown[][]>(
          `/fapi/v1/klines?symbol=BTCUSDT&interval=${interval}&startTime=${k.t as number}&limit=1`,
        );
        expect(rows[0]).toEqual([k.t, k.o, k.h, k.l, k.c, k.v, k.T, k.q, k.n, k.V, k.Q, '0']);
      }
      // The hour holds the generated minutes before the start and the live ones after it.
      const closedHour = closedOf(hour.events)[0] as { n: number; t: number };
      const minutes = await get<unknown[][]>(
        `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${closedHour.t}&limit=60`,
      );
      expect(minutes).toHaveLength(60);
      expect(minutes.reduce((sum, r) => sum + (r[8] as number), 0)).toBe(closedHour.n);
    } finally {
      await fetch(`${sim.restUrl}/_sim/faults`, { method: 'POST', body: JSON.stringify({ clockSkewMs: 0 }) });
    }
  });
});

/** A REST klines row, without its ignored last column. */
function row(r: unknown[]): unknown[] {
  return r.slice(0, 11);
}

/** The REST columns of a kline object. */
function columns(k: KlineObject): unknown[] {
  return [
    k.openTime,
    k.open,
    k.high,
    k.low,
    k.close,
    k.volume,
    k.closeTime,
    k.quoteVolume,
    k.trades,
    k.takerBuyVolume,
    k.takerBuyQuoteVolume,
  ];
}
