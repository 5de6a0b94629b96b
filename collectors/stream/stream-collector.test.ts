// StreamCollector against a scripted market websocket: stray frames, the bound on quiet closing, stall detection, bars sent again after the hub was away.
import { afterEach, describe, expect, it } from 'vitest';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { ScriptedServer as HttpServer } from '../../ts/exchange/testing/scripted-server.js';
import { ScriptedServer as WsServer, waitUntil } from '../../ts/exchange/testing/ws-scripted-server.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { Logger, silentLogger } from '../../ts/log/logger.js';
import { HubBook } from '../../ts/native/hub.js';
import type { CollectorContext } from '../collector-context.js';
import { type CollectorHub, IngestLink } from '../collector-hub.js';
import { MARK_PRICE_STREAM, StreamCollector, type StreamCollectorOptions } from './stream-collector.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A connected hub that keeps the Ingest frames it is sent. */
function fakeHub(frames: Buffer[], symbols: readonly string[] = ['BTCUSDT']): CollectorHub {
  const hub = {
    state: 'ready',
    symbols: [...symbols],
    peerId: 1,
    welcome: undefined,
    onState: () => () => {},
    onMessage: () => () => {},
    sendIngest: (frame: Buffer) => {
      frames.push(Buffer.from(frame));
      return true;
    },
  };
  return hub as unknown as CollectorHub;
}

function aggTrade(id: number, time: number) {
  return { e: 'aggTrade', E: time, s: 'BTCUSDT', a: id, p: '100.0', q: '1', f: id, l: id, T: time, m: false };
}

describe('StreamCollector', () => {
  it('counts aggTrades of a stream it never subscribed to instead of dropping them unseen', async () => {
    const ws = await WsServer.start();
    cleanup.push(() => ws.close());
    const http = await HttpServer.start();
    cleanup.push(() => http.close());
    const rest = new RestClient(
      { baseUrl: http.url, retries: { maxAttempts: 1 } },
      { logger: silentLogger() },
    );
    cleanup.push(() => rest.close());
    const hub = fakeHub([]);
    const ctx: CollectorContext = {
      api: new UsdmApi(rest, { logger: silentLogger() }),
      hub,
      link: new IngestLink(hub, silentLogger()),
      logger: silentLogger(),
    };
    const collector = new StreamCollector(ctx, {
      wsUrl: ws.url,
      intervals: ['1m'],
      maxStreamsPerConnection: 200,
      symbols: [],
    });
    cleanup.push(() => collector.stop());
    collector.start();
    await waitUntil(
      () => ws.open().some((c) => c.streams.has('btcusdt@aggTrade')),
      'the aggTrade subscription',
    );
    const stray = { ...aggTrade(7, Date.now()), s: 'ETHUSDT' };
    ws.sendRaw('/market', JSON.stringify({ stream: 'ethusdt@aggTrade', data: stray }));
    await waitUntil(() => collector.status().detail.frames === 1, 'the stray frame received');
    expect(collector.status().detail.unknownFrames).toBe(1);
  });
});

/** A collector on scripted servers; `frames` collects what it sends the hub, `warnings` its warn lines. */
async function started(options: Partial<StreamCollectorOptions> = {}, hubSymbols?: readonly string[]) {
  const ws = await WsServer.start();
  cleanup.push(() => ws.close());
  const http = await HttpServer.start();
  cleanup.push(() => http.close());
  const rest = new RestClient({ baseUrl: http.url, retries: { maxAttempts: 1 } }, { logger: silentLogger() });
  cleanup.push(() => rest.close());
  const frames: Buffer[] = [];
  const hub = fakeHub(frames, hubSymbols);
  const warnings: string[] = [];
  const logger = new Logger('test', {
    level: 'warn',
    format: 'json',
    sink: (line, level) => {
      if (level === 'warn') warnings.push(line);
    },
  });
  const ctx: CollectorContext = {
    api: new UsdmApi(rest, { logger: silentLogger() }),
    hub,
    link: new IngestLink(hub, silentLogger()),
    logger,
  };
  const collector = new StreamCollector(ctx, {
    wsUrl: ws.url,
    intervals: ['1m'],
    maxStreamsPerConnection: 200,
    symbols: [],
    flushMs: 50,
    ...options,
  });
  cleanup.push(() => collector.stop());
  collector.start();
  await waitUntil(
    () =>
      ws.open().some((c) => c.streams.has('btcusdt@aggTrade')) &&
      ws.open().some((c) => c.streams.has(MARK_PRICE_STREAM)),
    'the subscriptions',
  );
  return { ws, collector, frames, warnings };
}

/** One `!markPrice@arr@1s` message of the scripted symbol at exchange time `time`. */
function markPrices(time: number) {
  return [
    {
      e: 'markPriceUpdate',
      E: time,
      s: 'BTCUSDT',
      p: '100.0',
      i: '100.0',
      P: '100.0',
      r: '0.0001',
      T: time + 3_600_000,
    },
  ];
}

/** One `bookTicker` message of `s` stamped now. */
function ticker(s: string) {
  const now = Date.now();
  return { e: 'bookTicker', u: 1, s, b: '1.0', B: '1', a: '1.1', A: '1', T: now, E: now };
}

/** Publishes the market route's heartbeat (`!markPrice@arr@1s`) every 200 ms until `stop`. */
function publishHeartbeat(ws: WsServer) {
  let on = true;
  const loop = (async () => {
    while (on) {
      ws.publish(MARK_PRICE_STREAM, markPrices(Date.now()));
      await sleep(200);
    }
  })();
  return {
    async stop(): Promise<void> {
      on = false;
      await loop;
    },
  };
}

/** The 1m bar opening at `openTime` as a hub merging `frames` (at exchange time `hubNow`) has it. */
function hubBar(frames: readonly Buffer[], openTime: number, hubNow: number) {
  const book = new HubBook({ symbols: ['BTCUSDT'] });
  for (const frame of frames) book.ingest(frame, 1, hubNow);
  return book.klines(0, '1m').find((e) => e.kline.openTime === openTime)?.kline;
}

/** The message of a JSON log line. */
function message(line: string): string {
  const parsed: unknown = JSON.parse(line);
  return typeof parsed === 'object' && parsed !== null && 'msg' in parsed ? String(parsed.msg) : '';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('StreamCollector closing quiet bars', () => {
  it('closes a quiet bar by time only up to quietCloseBoundMs past the newest market event: a silent route closes nothing as final', async () => {
    const { ws, collector, frames } = await started({
      quietCloseLagMs: 100,
      quietCloseBoundMs: 1_000,
      marketStallMs: 60_000,
    });
    // Exchange times a minute or more ahead of this machine's: bars the collector sees whole.
    const minute = Math.ceil((Date.now() + 60_000) / 60_000) * 60_000;
    ws.publish('btcusdt@aggTrade', aggTrade(1, minute - 5_000)); // the first trade: complete after it
    ws.publish('btcusdt@aggTrade', aggTrade(2, minute + 1_000));
    ws.publish('btcusdt@aggTrade', aggTrade(3, minute + 58_000));
    await waitUntil(() => collector.status().detail.frames === 3, 'the trades received');
    // The route now delivers nothing: unbounded, the clock would pass the bar's end 2.1 s later.
    await sleep(2_500);
    expect(hubBar(frames, minute, minute + 61_000)?.closed).toBe(false);
    expect(collector.status().detail.marketTime).toBe(minute + 59_000);
    // The heartbeat shows the exchange past the end: the quiet bar closes, with both trades.
    ws.publish(MARK_PRICE_STREAM, markPrices(minute + 61_000));
    await waitUntil(() => hubBar(frames, minute, minute + 61_000)?.closed === true, 'the bar closed');
    expect(hubBar(frames, minute, minute + 61_000)?.trades).toBe(2);
  });

  it('bounds each connection by its own last frame: a stalled connection’s symbols close nothing while the heartbeat’s connection flows', async () => {
    // One stream per connection: the heartbeat on the first, BTCUSDT's aggTrades on the second.
    const { ws, collector, frames } = await started({
      maxStreamsPerConnection: 1,
      quietCloseLagMs: 100,
      quietCloseBoundMs: 1_000,
      marketStallMs: 60_000,
      markFallbackMs: 60_000,
    });
    const minute = Math.ceil((Date.now() + 60_000) / 60_000) * 60_000;
    ws.publish('btcusdt@aggTrade', aggTrade(1, minute - 5_000));
    ws.publish('btcusdt@aggTrade', aggTrade(2, minute + 1_000));
    ws.publish('btcusdt@aggTrade', aggTrade(3, minute + 58_000));
    await waitUntil(() => collector.status().detail.frames === 3, 'the trades received');
    // The heartbeat's connection goes on, its exchange time in step with this clock, past the
    // bar's end; the aggTrade connection delivers nothing more.
    const start = Date.now();
    while (Date.now() - start < 3_500) {
      ws.publish(MARK_PRICE_STREAM, markPrices(minute + 58_000 + (Date.now() - start)));
      await sleep(200);
    }
    expect(Number(collector.status().detail.marketTime)).toBeGreaterThan(minute + 61_000);
    expect(hubBar(frames, minute, minute + 62_000)?.closed).toBe(false);
    // The aggTrade connection delivers again: the next minute's trade closes the bar, whole.
    ws.publish('btcusdt@aggTrade', aggTrade(4, minute + 61_600));
    await waitUntil(() => hubBar(frames, minute, minute + 62_000)?.closed === true, 'the bar closed');
    expect(hubBar(frames, minute, minute + 62_000)?.trades).toBe(2);
  });

  it('keeps closing quiet bars while only the heartbeat flows (no trades)', async () => {
    const { ws, frames } = await started({ quietCloseLagMs: 100, quietCloseBoundMs: 1_000 });
    const minute = Math.ceil((Date.now() + 60_000) / 60_000) * 60_000;
    ws.publish('btcusdt@aggTrade', aggTrade(1, minute - 5_000));
    ws.publish('btcusdt@aggTrade', aggTrade(2, minute + 1_000));
    for (let t = minute + 57_000; t <= minute + 60_000; t += 1_000) {
      ws.publish(MARK_PRICE_STREAM, markPrices(t));
      await sleep(200);
    }
    await waitUntil(() => hubBar(frames, minute, minute + 61_000)?.closed === true, 'the bar closed');
  });
});

describe('StreamCollector market stalls', () => {
  it('a market route silent past marketStallMs after its heartbeat is a stall: warned once, counted, reconnected; a heartbeat ends it', async () => {
    const { ws, collector, warnings } = await started({ marketStallMs: 800, markFallbackMs: 60_000 });
    const market = () => ws.connections.filter((c) => c.path.startsWith('/market'));
    const beat = async (count: number) => {
      for (let i = 0; i < count; i++) {
        ws.publish(MARK_PRICE_STREAM, markPrices(Date.now()));
        await sleep(200);
      }
    };
    await beat(8); // 1.6 s, the heartbeat every 0.2 s: no stall
    const detail = () => collector.status().detail;
    expect(detail().marketStalls).toBe(0);
    expect(market().length).toBe(1);

    // Silent from now, the connection open and answering pings.
    await waitUntil(() => detail().marketStalls === 1, 'the stall seen', 3_000);
    await waitUntil(
      () =>
        market().length === 2 &&
        ws.open().some((c) => c.path.startsWith('/market') && c.streams.has(MARK_PRICE_STREAM)),
      'the market route reconnected and subscribed',
    );
    expect(market()[0]?.closed).toBe(true);
    expect(detail().marketStallReconnects).toBe(1);
    expect(Number(detail().reconnects)).toBeGreaterThanOrEqual(1);
    const stallWarnings = () => warnings.filter((w) => message(w).startsWith('market stream silent'));
    expect(stallWarnings().length).toBe(1);
    expect(JSON.parse(stallWarnings()[0] ?? '{}').silentMs).toBeGreaterThanOrEqual(800);

    // Delivering again (the reconnect worked): the episode is over, no further reconnect.
    await beat(8);
    expect(detail().marketStalls).toBe(1);
    expect(detail().marketStallReconnects).toBe(1);
    expect(market().length).toBe(2);

    // A second silence is a second episode.
    await waitUntil(() => detail().marketStalls === 2, 'the second stall seen', 3_000);
    expect(stallWarnings().length).toBe(2);
  });

  it('a route still silent after the reconnect is reconnected again after twice the wait, each logged', async () => {
    const { ws, collector, warnings } = await started({ marketStallMs: 500, markFallbackMs: 60_000 });
    ws.publish(MARK_PRICE_STREAM, markPrices(Date.now()));
    const detail = () => collector.status().detail;
    await waitUntil(() => detail().marketStallReconnects === 1, 'the first reconnect', 3_000);
    const first = Date.now();
    await waitUntil(() => detail().marketStallReconnects === 2, 'the second reconnect', 3_000);
    // The second waits 2 × 500 ms after the first (the first waits none).
    expect(Date.now() - first).toBeGreaterThanOrEqual(900);
    expect(detail().marketStalls).toBe(1);
    expect(warnings.filter((w) => message(w).startsWith('market stream silent')).length).toBe(1);
    expect(warnings.filter((w) => message(w).startsWith('market stream still silent')).length).toBe(1);
  });

  it('no heartbeat seen (the mark price stream not delivering): silence is not taken for a stall', async () => {
    const { collector } = await started({ marketStallMs: 300, markFallbackMs: 60_000 });
    await sleep(1_000);
    expect(collector.status().detail.marketStalls).toBe(0);
  });
});

describe('StreamCollector public route stalls', () => {
  it('the whole /public route silent past publicStallMs while the market heartbeat flows is replaced whole: warned once, counted; a quote ends it', async () => {
    const { ws, collector, warnings } = await started(
      {
        maxStreamsPerConnection: 1,
        publicStallMs: 800,
        connectionStallMs: 0,
        marketStallMs: 60_000,
        markFallbackMs: 60_000,
      },
      ['BTCUSDT', 'ETHUSDT'],
    );
    const publicRoute = () => ws.connections.filter((c) => c.path.startsWith('/public'));
    await waitUntil(
      () =>
        ['btcusdt@bookTicker', 'ethusdt@bookTicker'].every((stream) =>
          ws.open().some((c) => c.streams.has(stream)),
        ),
      'both book tickers subscribed',
    );
    const first = publicRoute();
    expect(first.length).toBe(2);
    ws.publish('btcusdt@bookTicker', ticker('BTCUSDT'));
    ws.publish('ethusdt@bookTicker', ticker('ETHUSDT'));
    const detail = () => collector.status().detail;
    await waitUntil(() => Number(detail().frames) >= 2, 'the quotes received');
    // The heartbeat goes on every 200 ms; neither public connection delivers anything more.
    const beats = publishHeartbeat(ws);
    try {
      await waitUntil(() => detail().publicStallReconnects === 1, 'the public route replaced', 3_000);
      await waitUntil(
        () =>
          ws.open().some((c) => !first.includes(c) && c.streams.has('btcusdt@bookTicker')) &&
          ws.open().some((c) => !first.includes(c) && c.streams.has('ethusdt@bookTicker')),
        'both streams subscribed on new connections',
      );
      expect(first.every((c) => c.closed)).toBe(true);
      expect(detail().publicStalls).toBe(1);
      expect(detail().marketStalls).toBe(0);
      const routeWarnings = () => warnings.filter((w) => message(w).startsWith('public stream silent'));
      expect(routeWarnings().length).toBe(1);
      expect(JSON.parse(routeWarnings()[0] ?? '{}')).toMatchObject({ connections: 2, stallMs: 800 });
      // A quote on the new connections ends the episode: no further reconnect while they deliver.
      const reconnects = detail().publicStallReconnects;
      for (let i = 0; i < 8; i++) {
        ws.publish('btcusdt@bookTicker', ticker('BTCUSDT'));
        await sleep(200);
      }
      expect(detail().publicStallReconnects).toBe(reconnects);
      expect(detail().publicStalls).toBe(1);
    } finally {
      await beats.stop();
    }
  });

  it('a /public route subscribed and never delivering while the market heartbeat flows is replaced too', async () => {
    const { ws, collector } = await started({
      publicStallMs: 800,
      connectionStallMs: 0,
      marketStallMs: 60_000,
      markFallbackMs: 60_000,
    });
    const first = ws.connections.filter((c) => c.path.startsWith('/public'));
    expect(first.length).toBe(1);
    const beats = publishHeartbeat(ws);
    try {
      await waitUntil(
        () => collector.status().detail.publicStallReconnects === 1,
        'the silent public route replaced',
        3_000,
      );
      await waitUntil(() => first[0]?.closed === true, 'the silent connection closed');
      expect(collector.status().detail.publicStalls).toBe(1);
    } finally {
      await beats.stop();
    }
  });

  it('a silent /public route while the market route is silent too is not its stall (nothing shows the exchange pushes)', async () => {
    const { ws, collector } = await started({
      publicStallMs: 500,
      marketStallMs: 60_000,
      markFallbackMs: 60_000,
    });
    await waitUntil(
      () => ws.open().some((c) => c.streams.has('btcusdt@bookTicker')),
      'the book ticker subscribed',
    );
    ws.publish(MARK_PRICE_STREAM, markPrices(Date.now()));
    ws.publish('btcusdt@bookTicker', ticker('BTCUSDT'));
    await waitUntil(() => Number(collector.status().detail.frames) >= 2, 'a heartbeat and a quote received');
    await sleep(1_500);
    expect(collector.status().detail.publicStalls).toBe(0);
    expect(collector.status().detail.publicStallReconnects).toBe(0);
  });
});

describe('StreamCollector single connection stalls', () => {
  it('one /public connection silent past connectionStallMs while another delivers is replaced alone', async () => {
    const { ws, collector, warnings } = await started(
      { maxStreamsPerConnection: 1, connectionStallMs: 800, marketStallMs: 60_000, markFallbackMs: 60_000 },
      ['BTCUSDT', 'ETHUSDT'],
    );
    const publicRoute = () => ws.connections.filter((c) => c.path.startsWith('/public'));
    // Both subscriptions must have reached the server before anything is published (a quote
    // published before its subscription is lost), and each connection is found by its stream.
    const withStream = (stream: string) => publicRoute().find((c) => c.streams.has(stream));
    await waitUntil(
      () => withStream('btcusdt@bookTicker') !== undefined && withStream('ethusdt@bookTicker') !== undefined,
      'two public connections, each subscribed to its book ticker',
    );
    const btc = withStream('btcusdt@bookTicker');
    const eth = withStream('ethusdt@bookTicker');
    expect(btc).not.toBe(eth);
    ws.publish('btcusdt@bookTicker', ticker('BTCUSDT'));
    const detail = () => collector.status().detail;
    // ETHUSDT's quotes go on every 200 ms; BTCUSDT's connection delivers nothing more.
    let quoting = true;
    const quotes = (async () => {
      while (quoting) {
        ws.publish('ethusdt@bookTicker', ticker('ETHUSDT'));
        await sleep(200);
      }
    })();
    try {
      await waitUntil(
        () => detail().publicConnectionStallReconnects === 1,
        'the silent connection replaced',
        3_000,
      );
      await waitUntil(
        () => ws.open().some((c) => c !== btc && c.streams.has('btcusdt@bookTicker')),
        'its stream subscribed on a new connection',
      );
      expect(btc?.closed).toBe(true);
      expect(eth?.closed).toBe(false);
      expect(detail().publicConnectionStalls).toBe(1);
      expect(detail().connectionStallReconnects).toBe(0);
      expect(warnings.filter((w) => message(w).startsWith('public connection silent')).length).toBe(1);
    } finally {
      quoting = false;
      await quotes;
    }
  });

  it('one market connection silent past connectionStallMs while the heartbeat flows is replaced alone: warned, counted; delivering again ends it', async () => {
    // One stream per connection: the heartbeat, BTCUSDT's aggTrades, its 1m klines.
    const { ws, collector, warnings } = await started({
      maxStreamsPerConnection: 1,
      connectionStallMs: 800,
      marketStallMs: 60_000,
      markFallbackMs: 60_000,
    });
    const market = () => ws.connections.filter((c) => c.path.startsWith('/market'));
    // Found by their streams once subscribed: the server may accept the three connections in any
    // order, and a trade published before its subscription arrives is lost.
    const withStream = (stream: string) => market().find((c) => c.streams.has(stream));
    await waitUntil(
      () =>
        market().length === 3 &&
        withStream(MARK_PRICE_STREAM) !== undefined &&
        withStream('btcusdt@aggTrade') !== undefined &&
        market().every((c) => c.streams.size > 0),
      'three market connections, each subscribed',
    );
    const heartbeat = withStream(MARK_PRICE_STREAM);
    const trades = withStream('btcusdt@aggTrade');
    const klines = market().find((c) => c !== heartbeat && c !== trades);
    ws.publish('btcusdt@aggTrade', aggTrade(1, Date.now()));
    const detail = () => collector.status().detail;
    await waitUntil(() => detail().frames === 1, 'the trade received');
    // The heartbeat goes on every 200 ms; the aggTrade connection delivers nothing more, and the
    // kline connection never delivered (it proves nothing, so it is left alone).
    const beats = publishHeartbeat(ws);
    try {
      await waitUntil(
        () => detail().connectionStallReconnects === 1,
        'the silent connection replaced',
        3_000,
      );
      await waitUntil(
        () => ws.open().some((c) => c !== trades && c.streams.has('btcusdt@aggTrade')),
        'its streams subscribed on a new connection',
      );
      expect(trades?.closed).toBe(true);
      expect(heartbeat?.closed).toBe(false);
      expect(klines?.closed).toBe(false);
      expect(market().length).toBe(4);
      expect(detail().connectionStalls).toBe(1);
      expect(detail().stalledConnections).toBe(1);
      expect(detail().marketStalls).toBe(0);
      expect(detail().marketStallReconnects).toBe(0);
      const stallWarnings = warnings.filter((w) => message(w).startsWith('market connection silent'));
      expect(stallWarnings.length).toBe(1);
      const fields = JSON.parse(stallWarnings[0] ?? '{}') as Record<string, unknown>;
      expect(fields).toMatchObject({ slot: 2, streams: 1, attempt: 1 });
      expect(Number(fields.silentMs)).toBeGreaterThanOrEqual(800);

      // The new connection delivers: the episode is over, nothing more is replaced while it does.
      ws.publish('btcusdt@aggTrade', aggTrade(2, Date.now()));
      await waitUntil(() => detail().stalledConnections === 0, 'the episode ended');
      for (let id = 3; id < 10; id++) {
        ws.publish('btcusdt@aggTrade', aggTrade(id, Date.now()));
        await sleep(200);
      }
      expect(detail().connectionStalls).toBe(1);
      expect(detail().connectionStallReconnects).toBe(1);
      expect(market().length).toBe(4);
    } finally {
      await beats.stop();
    }
  });
});

/** A hub whose connection state the test moves; it keeps the frames sent while it is `ready`. */
function switchableHub(frames: Buffer[], initial: 'connecting' | 'ready') {
  const listeners: ((state: string) => void)[] = [];
  const hub = {
    state: initial as string,
    symbols: ['BTCUSDT'],
    peerId: 1,
    welcome: undefined,
    onState: (listener: (state: string) => void) => {
      listeners.push(listener);
      return () => listeners.splice(listeners.indexOf(listener), 1);
    },
    onMessage: () => () => {},
    sendIngest: (frame: Buffer) => {
      if (hub.state !== 'ready') return false;
      frames.push(Buffer.from(frame));
      return true;
    },
  };
  const setState = (state: 'ready' | 'reconnecting') => {
    hub.state = state;
    for (const listener of [...listeners]) listener(state);
  };
  return { hub: hub as unknown as CollectorHub, setState };
}

describe('StreamCollector after the hub was away', () => {
  it('sends the bars that closed while the hub was away again when it is back, once per return, not on the first ready', async () => {
    const ws = await WsServer.start();
    cleanup.push(() => ws.close());
    const http = await HttpServer.start();
    cleanup.push(() => http.close());
    const rest = new RestClient(
      { baseUrl: http.url, retries: { maxAttempts: 1 } },
      { logger: silentLogger() },
    );
    cleanup.push(() => rest.close());
    const frames: Buffer[] = [];
    const { hub, setState } = switchableHub(frames, 'connecting');
    const infos: string[] = [];
    const logger = new Logger('test', {
      level: 'info',
      format: 'json',
      sink: (line, level) => {
        if (level === 'info') infos.push(line);
      },
    });
    const link = new IngestLink(hub, silentLogger());
    const ctx: CollectorContext = { api: new UsdmApi(rest, { logger: silentLogger() }), hub, link, logger };
    const collector = new StreamCollector(ctx, {
      wsUrl: ws.url,
      intervals: ['1m'],
      maxStreamsPerConnection: 200,
      symbols: [],
      flushMs: 50,
      marketStallMs: 60_000,
      markFallbackMs: 60_000,
    });
    cleanup.push(() => collector.stop());
    collector.start();
    await waitUntil(() => ws.open().some((c) => c.streams.has('btcusdt@aggTrade')), 'the subscription');
    const detail = () => collector.status().detail;
    const minute = Math.ceil((Date.now() + 60_000) / 60_000) * 60_000;
    const resentLines = () => infos.filter((l) => message(l).startsWith('hub back after being away'));

    // Trades before the hub is first ready; its first ready sends nothing again.
    ws.publish('btcusdt@aggTrade', aggTrade(1, minute - 5_000)); // the first trade: complete after it
    ws.publish('btcusdt@aggTrade', aggTrade(2, minute + 1_000));
    await waitUntil(() => detail().frames === 2, 'the first trades received');
    setState('ready');
    await sleep(300);
    expect(frames).toHaveLength(0);
    expect(detail().resends).toBe(0);

    // Ready: the open bar goes as usual.
    ws.publish('btcusdt@aggTrade', aggTrade(3, minute + 30_000));
    await waitUntil(() => hubBar(frames, minute, minute + 62_000)?.trades === 2, 'the open bar at the hub');

    // The hub goes away; the minute closes meanwhile (its frame is dropped).
    setState('reconnecting');
    ws.publish('btcusdt@aggTrade', aggTrade(4, minute + 61_000));
    await waitUntil(() => detail().frames === 4, 'the closing trade received');
    await waitUntil(() => collector.status().framesDropped > 0, 'the closed bar’s frame dropped');
    expect(hubBar(frames, minute, minute + 62_000)?.closed).toBe(false);

    // Back: the closed minute (both its trades) and the open bar go again.
    const before = frames.length;
    setState('ready');
    await waitUntil(() => frames.length > before, 'the bars sent again');
    expect(hubBar(frames, minute, minute + 62_000)).toMatchObject({ closed: true, trades: 2 });
    expect(hubBar(frames, minute + 60_000, minute + 62_000)).toMatchObject({ closed: false, trades: 1 });
    expect(detail().resends).toBe(1);
    expect(detail().barsResent).toBe(2);
    expect(resentLines()).toHaveLength(1);
    expect(JSON.parse(resentLines()[0] ?? '{}')).toMatchObject({ bars: 2, symbols: 1 });

    // Away and back again: the retained bar goes again (harmless: a closed bar is final at the hub).
    setState('reconnecting');
    setState('ready');
    expect(detail().resends).toBe(2);
    expect(detail().barsResent).toBe(4);
    expect(resentLines()).toHaveLength(2);
  });
});
