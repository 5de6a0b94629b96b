// A trader following the whole USD-M universe (800 symbols × 15 intervals × 45 bars) syncs through a real hub on both transports (issue 10, defect 3).
import { afterEach, describe, expect, it } from 'vitest';
import { HubClient } from '../../ts/hub/hub-client.js';
import type { HubServer } from '../../ts/hub/hub-server.js';
import {
  keyOf,
  RawPeer,
  startHub,
  TRANSPORTS,
  type TransportName,
  waitFor,
} from '../../ts/hub/testing/hub-fixtures.js';
import { comparable } from '../../ts/hub/testing/ingest-data.js';
import { TraderFeed } from '../../ts/hub/trader-feed.js';
import { silentLogger } from '../../ts/log/logger.js';
import { IngestEncoder } from '../../ts/native/hub.js';
import { INTERVALS, type IntervalName, intervalOpenTime } from '../../ts/native/interval.js';
import type { Kline } from '../../ts/native/records.js';

const SYMBOL_COUNT = 800;
const BARS = 45;
const SYMBOLS = Array.from({ length: SYMBOL_COUNT }, (_, i) => `U${i}USDT`);
/** Under the hub's 4 MiB message cap: a symbol's 15 windows are about 80 KB. */
const FRAME_BUDGET = 3 * 1024 * 1024;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The open times of the last {@link BARS} bars of `interval` up to now, oldest first. */
function openTimes(interval: IntervalName, now: number): number[] {
  const opens = [intervalOpenTime(interval, now)];
  while (opens.length < BARS) opens.unshift(intervalOpenTime(interval, (opens[0] ?? now) - 1));
  return opens;
}

/** A window of bars for symbol `s`: closed bars, the last one open; prices differ per symbol and bar. */
function window(s: number, opens: number[], now: number): Kline[] {
  return opens.map((openTime, i) => {
    const next = opens[i + 1];
    const last = next === undefined;
    const price = `${(1 + s / 1000).toFixed(4)}`;
    return {
      openTime,
      closeTime: last ? openTime + 59_999 : next - 1,
      open: price,
      high: `${(1.5 + s / 1000 + i / 10_000).toFixed(4)}`,
      low: '0.5000',
      close: price,
      volume: `${s + i}.5`,
      quoteVolume: `${(s + i) * 2}.25`,
      trades: s + i + 1,
      takerBuyVolume: '0.5',
      takerBuyQuoteVolume: '0.25',
      closed: !last,
      asOf: last ? now : next - 1,
    };
  });
}

/** The universe as Ingest frames under the cap. */
function universeFrames(now: number): { frames: Buffer[]; bars: number } {
  const encoder = new IngestEncoder(SYMBOLS);
  const opens = INTERVALS.map((interval) => ({ interval, opens: openTimes(interval, now) }));
  const frames: Buffer[] = [];
  let pendingBytes = 0;
  let bars = 0;
  for (let s = 0; s < SYMBOL_COUNT; s += 1) {
    for (const { interval, opens: times } of opens) {
      encoder.pushKlines(s, interval, window(s, times, now));
      bars += BARS;
    }
    pendingBytes += 15 * BARS * 120;
    if (pendingBytes > FRAME_BUDGET) {
      frames.push(encoder.takeFrame(0, now) as Buffer);
      pendingBytes = 0;
    }
  }
  const rest = encoder.takeFrame(0, now);
  if (rest !== null) frames.push(rest);
  return { frames, bars };
}

async function loadedHub(transport: TransportName): Promise<HubServer> {
  const hub = await startHub(transport, { symbols: SYMBOLS, snapshotIntervalMs: 0 });
  cleanups.push(() => hub.close());
  const collector = new HubClient({
    url: hub.url,
    peer: 'universe-loader',
    key: keyOf('collector'),
    logger: silentLogger('loader'),
  });
  cleanups.push(() => collector.close());
  await collector.connect();
  const { frames, bars } = universeFrames(Date.now());
  for (const frame of frames) {
    expect(frame.length).toBeLessThan(4 * 1024 * 1024);
    const before = hub.metrics.ingestFrames;
    expect(collector.sendIngest(frame)).toBe(true);
    await waitFor(() => hub.metrics.ingestFrames > before, 120_000, 'a universe frame merged');
  }
  expect(hub.status().merge.recordsChanged).toBe(bars);
  expect(hub.status().rejected).toEqual({});
  return hub;
}

describe.each(TRANSPORTS)('hub over %s at the size of the USD-M universe', (transport: TransportName) => {
  it('syncs a trader following 800 symbols × 15 intervals × 45 bars through chunked snapshots', async () => {
    const hub = await loadedHub(transport);
    const client = new HubClient({
      url: hub.url,
      peer: 'trader-universe',
      key: keyOf('trader'),
      logger: silentLogger('client'),
    });
    cleanups.push(() => client.close());
    const feed = new TraderFeed({
      client,
      subscriptions: [{ symbols: '*', kinds: '*', intervals: '*' }],
      logger: silentLogger('feed'),
    });
    cleanups.push(() => feed.stop());
    await feed.start();
    expect(feed.synced).toBe(true);
    expect(feed.stats.gaps).toBe(0);
    // Every window arrived whole and exact: a sample of symbols in full, the bar count of all.
    for (const s of [0, 1, 399, SYMBOL_COUNT - 1]) {
      for (const interval of INTERVALS) {
        const hubBars = hub.book.klines(s, interval).map((e) => comparable(e.kline));
        expect(hubBars).toHaveLength(BARS);
        expect(feed.book.klines(s, interval).map(comparable)).toEqual(hubBars);
      }
    }
    let held = 0;
    for (let s = 0; s < SYMBOL_COUNT; s += 1) {
      for (const interval of INTERVALS) held += feed.book.klines(s, interval).length;
    }
    expect(held).toBe(SYMBOL_COUNT * INTERVALS.length * BARS);
    expect(hub.status().rejected).toEqual({});
    expect(hub.status().backpressure.disconnects).toBe(0);

    // A paused reader of the same universe stays bounded: its first snapshot (about 65 MB in
    // chunks) is its allowance, asking again is deferred (snapshot mode), and replies it never
    // reads count as well: past the bound beyond its snapshot it is cut with 4413.
    const slow = await RawPeer.open(hub.url);
    cleanups.push(() => slow.close());
    await slow.auth('trader-slow', 'trader');
    slow.socket.pause();
    const subscribedBefore = hub.status().snapshots.onSubscribe;
    // The feed's stream: the same filter in the feed's encoding (wire 3).
    slow.sendJson({ op: 'subscribe', id: 1, symbols: '*', kinds: '*', intervals: '*', wire: 3 });
    await waitFor(() => hub.status().snapshots.onSubscribe > subscribedBefore, 30_000, 'the snapshot queued');
    const stream = feed.streams()[0];
    for (let id = 2; id < 6; id += 1) slow.sendJson({ op: 'snapshot', id, stream });
    await waitFor(() => hub.status().snapshots.deferred >= 1, 30_000, 'a deferred snapshot');
    expect(hub.status().backpressure.snapshotMode).toBeGreaterThanOrEqual(1);
    const bound = 64 * 1024 * 1024;
    let worst = 0;
    // Each `symbols` reply carries 800 names (about 9 KB): under the message budget, 20,000 would be 180 MB.
    for (let i = 0; i < 20_000 && hub.status().closed.slow_consumer === undefined; i += 1) {
      slow.sendJson({ op: 'symbols', id: 10 + i });
      if (i % 200 === 199) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        const row = hub.status().peers.find((p) => p.peer === 'trader-slow');
        worst = Math.max(worst, row?.bufferedBytes ?? 0);
      }
    }
    await waitFor(() => hub.status().closed.slow_consumer === 1, 30_000, 'the slow reader cut');
    // Its snapshot (its allowance) plus the bound, plus what one send may add past it.
    expect(worst).toBeLessThan(bound + 80 * 1024 * 1024);
    expect(hub.status().backpressure.disconnects).toBe(1);
    // The trader that reads is still served.
    expect(client.state).toBe('ready');
  }, 600_000);
});
