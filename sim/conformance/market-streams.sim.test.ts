// Every market stream kind through a real websocket client (`ws`), as a third-party user would connect:
// by URL path, by ?streams= and by SUBSCRIBE, each failing if the stream stays silent longer than the
// update interval Binance documents for it.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseMarketEvent } from '../../ts/native/parse.js';
import { waitUntil } from '../../ts/testing/wait-until.js';
import { type RunningSimulator, startSimulator } from '../simulator.js';

/**
 * Time allowed beyond a documented interval: the simulator's 50 ms tick and the event-loop delays of
 * one process running the exchange and 80 clients on a shared machine.
 */
const SLACK_MS = 400;
/** Real-time streams (aggTrade, bookTicker) at 100 trades a second: a gap this long means silence. */
const REAL_TIME_MS = 600;
const WINDOW_MS = 11_500;
/** Resolution of the event-loop delay monitor: its own timer's period. */
const LOOP_RESOLUTION_MS = 10;

type Payload = Record<string, unknown>;

/** A stream kind: one name, its route, Binance's documented update interval and a payload check. */
interface Case {
  readonly name: string;
  readonly route: 'public' | 'market';
  readonly updateMs: number;
  readonly check: (payload: unknown) => void;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const kind = (expected: string) => (payload: unknown) => {
  expect(parseMarketEvent(json(payload)).kind).toBe(expected);
};
const event = (e: string) => (payload: unknown) => {
  expect((payload as Payload).e).toBe(e);
};
const array = (check: (p: unknown) => void) => (payload: unknown) => {
  expect(Array.isArray(payload)).toBe(true);
  const items = payload as unknown[];
  expect(items.length).toBeGreaterThan(0);
  for (const item of items) check(item);
};
const depth = (levels: number) => (payload: unknown) => {
  const p = payload as { e: string; b: unknown[]; a: unknown[]; U: number; u: number; pu: number };
  expect(p.e).toBe('depthUpdate');
  expect(p.b).toHaveLength(levels);
  expect(p.a).toHaveLength(levels);
};
const diff = (payload: unknown) => {
  const p = payload as { e: string; U: number; u: number; pu: number };
  expect(p.e).toBe('depthUpdate');
  expect(p.U).toBe(p.pu + 1);
  expect(p.u).toBeGreaterThanOrEqual(p.U);
};
const continuous = (payload: unknown) => {
  expect(payload).toMatchObject({ e: 'continuous_kline', ps: 'BTCUSDT', ct: 'PERPETUAL' });
  expect((payload as { k: Payload }).k).toHaveProperty('i', '5m');
};
const force = (payload: unknown) => {
  expect(payload).toMatchObject({ e: 'forceOrder', o: { o: 'LIMIT', f: 'IOC', X: 'FILLED' } });
};

/** Every stream kind the simulator serves, with the update interval in Binance's documentation. */
const CASES: readonly Case[] = [
  { name: 'btcusdt@aggTrade', route: 'market', updateMs: REAL_TIME_MS, check: kind('aggTrade') },
  { name: 'btcusdt@kline_1m', route: 'market', updateMs: 250, check: kind('kline') },
  { name: 'ethusdt@kline_1M', route: 'market', updateMs: 250, check: kind('kline') },
  { name: 'btcusdt_perpetual@continuousKline_5m', route: 'market', updateMs: 250, check: continuous },
  { name: 'btcusdt@markPrice', route: 'market', updateMs: 3_000, check: kind('markPrice') },
  { name: 'btcusdt@markPrice@1s', route: 'market', updateMs: 1_000, check: kind('markPrice') },
  { name: '!markPrice@arr', route: 'market', updateMs: 3_000, check: array(kind('markPrice')) },
  { name: '!markPrice@arr@1s', route: 'market', updateMs: 1_000, check: array(kind('markPrice')) },
  { name: 'btcusdt@ticker', route: 'market', updateMs: 2_000, check: event('24hrTicker') },
  { name: 'btcusdt@miniTicker', route: 'market', updateMs: 2_000, check: event('24hrMiniTicker') },
  { name: '!ticker@arr', route: 'market', updateMs: 1_000, check: array(event('24hrTicker')) },
  { name: '!miniTicker@arr', route: 'market', updateMs: 1_000, check: array(event('24hrMiniTicker')) },
  { name: 'btcusdt@forceOrder', route: 'market', updateMs: 1_000, check: force },
  { name: '!forceOrder@arr', route: 'market', updateMs: 1_000, check: force },
  { name: 'btcusdt@bookTicker', route: 'public', updateMs: REAL_TIME_MS, check: kind('bookTicker') },
  { name: '!bookTicker', route: 'public', updateMs: 5_000, check: kind('bookTicker') },
  { name: 'btcusdt@depth', route: 'public', updateMs: 250, check: diff },
  { name: 'btcusdt@depth@100ms', route: 'public', updateMs: 100, check: diff },
  { name: 'btcusdt@depth@500ms', route: 'public', updateMs: 500, check: diff },
  { name: 'btcusdt@rpiDepth@500ms', route: 'public', updateMs: 500, check: diff },
  { name: 'btcusdt@depth5', route: 'public', updateMs: 250, check: depth(5) },
  { name: 'btcusdt@depth10@100ms', route: 'public', updateMs: 100, check: depth(10) },
  { name: 'btcusdt@depth20@500ms', route: 'public', updateMs: 500, check: depth(20) },
];

type Method = 'path' | 'streams' | 'subscribe';
const METHODS: readonly Method[] = ['path', 'streams', 'subscribe'];

/** One client connection and what it received, with arrival times. */
class Listener {
  readonly arrivals: number[] = [];
  readonly payloads: unknown[] = [];
  readonly replies: Payload[] = [];
  subscribedAt = 0;
  constructor(
    readonly ws: WebSocket,
    readonly method: Method,
  ) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Payload;
      if ('result' in message || 'error' in message) {
        this.replies.push(message);
        if (this.subscribedAt === 0 && 'result' in message) this.subscribedAt = Date.now();
        return;
      }
      this.arrivals.push(Date.now());
      this.payloads.push(method === 'streams' ? message.data : message);
    });
  }
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

async function listen(sim: RunningSimulator, c: Case, method: Method): Promise<Listener> {
  const base = `${sim.wsUrl}/${c.route}`;
  const url =
    method === 'path'
      ? `${base}/ws/${c.name}`
      : method === 'streams'
        ? `${base}/stream?streams=${c.name}`
        : `${base}/ws`;
  const ws = await open(url);
  const listener = new Listener(ws, method);
  if (method === 'subscribe') {
    ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [c.name], id: 1 }));
  } else {
    listener.subscribedAt = Date.now();
  }
  return listener;
}

/** The longest silence: from the subscription to the first message, and between messages. */
function longestSilence(l: Listener, until: number): number {
  let longest = 0;
  let previous = l.subscribedAt;
  for (const t of l.arrivals) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return Math.max(longest, until - previous);
}

describe('every market stream kind over a real websocket client', () => {
  let sim: RunningSimulator;
  const listeners = new Map<string, Listener>();
  let endedAt = 0;
  /**
   * The longest stall of this process's event loop during the window. The exchange and every client
   * share the loop, so a stall (a collection, or the machine running other test files on both cores)
   * silences every stream at once for as long; a silence beyond the allowance plus this stall is the
   * simulator's own.
   */
  let stallMs = 0;

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      accounts: [{ apiKey: 'streams-key-1', apiSecret: 'streams-secret-1' }],
      source: { kind: 'random-walk', tradesPerSecond: 100 },
      // Every second of every symbol has another trader's liquidation.
      liquidationShare: 0.3,
      history: { days: 60 },
    });
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loopDelay.enable();
    await Promise.all(
      CASES.flatMap((c) =>
        METHODS.map(async (method) => listeners.set(`${c.name} ${method}`, await listen(sim, c, method))),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    endedAt = Date.now();
    loopDelay.disable();
    stallMs = Math.max(0, Math.ceil(loopDelay.max / 1e6) - LOOP_RESOLUTION_MS);
    if (stallMs > 100)
      console.log(`market streams: the event loop stalled up to ${stallMs} ms in the window`);
  }, 60_000);

  afterAll(async () => {
    for (const l of listeners.values()) l.ws.terminate();
    await sim?.stop();
  });

  for (const c of CASES) {
    for (const method of METHODS) {
      it(`${c.name} by ${method}: Binance payloads, never silent longer than ${c.updateMs} ms`, async () => {
        const l = listeners.get(`${c.name} ${method}`);
        if (l === undefined) throw new Error('not connected');
        if (method === 'subscribe') {
          expect(l.replies[0]).toEqual({ result: null, id: 1 });
          l.ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 2 }));
          await waitUntil(() => l.replies.length >= 2, 'LIST_SUBSCRIPTIONS');
          expect(l.replies[1]).toEqual({ result: [c.name], id: 2 });
        }
        expect(l.payloads.length, `${c.name} delivered nothing`).toBeGreaterThan(1);
        for (const payload of l.payloads.slice(0, 50)) c.check(payload);
        const silence = longestSilence(l, endedAt);
        const allowed = c.updateMs + SLACK_MS + stallMs;
        expect(
          silence,
          `${c.name} was silent for ${silence} ms (event loop stalled ${stallMs} ms)`,
        ).toBeLessThanOrEqual(allowed);
      });
    }
  }

  it('pushes diff depth with pu continuing from the previous u on every connection', () => {
    for (const name of ['btcusdt@depth', 'btcusdt@depth@100ms', 'btcusdt@depth@500ms']) {
      for (const method of METHODS) {
        const events = (listeners.get(`${name} ${method}`)?.payloads ?? []) as { u: number; pu: number }[];
        for (let i = 1; i < events.length; i++) expect(events[i]?.pu).toBe(events[i - 1]?.u);
      }
    }
  });
});
