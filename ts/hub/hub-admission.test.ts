// Issue 10 defects 1, 2 and 4 through a real hub: a record that cannot be encoded, ids outside the registry, times in microseconds.
import { afterEach, describe, expect, it } from 'vitest';
import { IngestEncoder } from '../native/hub.js';
import type { Balance, Kline } from '../native/records.js';
import { TraderBook } from '../native/trader-book.js';
import type { HubServer } from './hub-server.js';
import {
  RawPeer,
  SYMBOLS,
  startHub,
  TRANSPORTS,
  type TransportName,
  waitFor,
} from './testing/hub-fixtures.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(transport: TransportName, symbols = SYMBOLS): Promise<HubServer> {
  const hub = await startHub(transport, { symbols, snapshotIntervalMs: 0 });
  cleanups.push(() => hub.close());
  return hub;
}

async function peer(hub: HubServer, name: string, role: 'collector' | 'trader'): Promise<RawPeer> {
  const p = await RawPeer.open(hub.url);
  cleanups.push(() => p.close());
  await p.auth(name, role);
  return p;
}

/** The minute now is in, so bars and ticks fall inside the hub's time window. */
const MINUTE = 60_000;
function openBar(openTime: number, close: string, trades: number): Kline {
  return {
    openTime,
    closeTime: openTime + MINUTE - 1,
    open: '1.2000',
    high: '1.3000',
    low: '1.1000',
    close,
    volume: `${trades}.0`,
    quoteVolume: `${trades * 1.2}`,
    trades,
    takerBuyVolume: '1.0',
    takerBuyQuoteVolume: '1.2',
    closed: false,
    asOf: openTime + trades,
  };
}

/** One Ingest frame from `fill`. */
function frame(fill: (e: IngestEncoder) => void): Buffer {
  const encoder = new IngestEncoder(SYMBOLS);
  fill(encoder);
  const bytes = encoder.takeFrame(0, Date.now());
  if (bytes === null) throw new Error('nothing to send');
  return bytes;
}

/** A reader that applies every frame the hub sends it to its own TraderBook. */
async function follower(hub: HubServer, name: string) {
  const p = await peer(hub, name, 'trader');
  const book = new TraderBook();
  let applied = 0;
  p.sendJson({ op: 'subscribe', id: 1, symbols: '*', kinds: '*', intervals: '*' });
  const subscribed = await p.next('subscribed');
  return {
    peer: p,
    book,
    stream: subscribed.stream,
    /** Applies every frame received so far; returns the outcomes' kinds. */
    drain(): string[] {
      const kinds: string[] = [];
      for (; applied < p.frames.length; applied += 1) {
        const f = p.frames[applied];
        if (f !== undefined) kinds.push(book.apply(f).kind);
      }
      return kinds;
    },
  };
}

describe.each(TRANSPORTS)(
  'hub over %s: no record poisons the book (issue 10)',
  (transport: TransportName) => {
    it('refuses a traded price of 1e-19 inside an open bar; subscribers keep syncing and a new one syncs (defect 1)', async () => {
      const hub = await started(transport);
      const collector = await peer(hub, 'collector-a', 'collector');
      const early = await follower(hub, 'trader-early');
      const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
      collector.send(
        frame((e) => e.pushKlines(0, '1m', [openBar(minute, '1.2500', 5)])),
        true,
      );
      await waitFor(() => early.peer.frames.length >= 2, 5_000, 'the bar delta');
      // A traded price (ticker/price: no book) corrects the open bar, book prices never do; at 1e-19
      // the bar's group would need a scale at which its high no longer fits an i64 mantissa.
      const tick = { bid: '0', bidQty: '0', ask: '0', askQty: '0', last: '0.0000000000000000001' };
      collector.send(
        frame((e) => e.pushTick(0, { ...tick, time: minute + 30 })),
        true,
      );
      const refusal = await collector.next('error', 5_000);
      expect(refusal).toMatchObject({
        code: 'invalid_record',
        frame: 2,
        records: 1,
        reasons: { unrepresentable: 1 },
      });
      expect(hub.book.tick(0)).toBeNull();
      // The book still encodes: the next change reaches the subscriber, and a new one syncs.
      collector.send(
        frame((e) => e.pushKlines(0, '1m', [openBar(minute, '1.2600', 6)])),
        true,
      );
      await waitFor(() => early.peer.frames.length >= 3, 5_000, 'the next delta');
      expect(early.drain()).toEqual(['snapshot', 'applied', 'applied']);
      expect(early.book.klines(0, '1m')[0]?.close).toBe('1.2600');
      const late = await follower(hub, 'trader-late');
      await waitFor(() => late.peer.frames.length >= 1, 5_000, 'the late snapshot');
      expect(late.drain()).toEqual(['snapshot']);
      expect(late.book.klines(0, '1m')[0]?.close).toBe('1.2600');
      expect(hub.status().merge.encodeFailures).toBe(0);
      expect(hub.status().rejected.record_unrepresentable).toBe(1);
    });

    it('refuses symbol ids outside the registry, memory and snapshot stay small, and admits a symbol once registered (defect 2)', async () => {
      const hub = await started(transport);
      const collector = await peer(hub, 'collector-b', 'collector');
      const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
      const ids = [0, SYMBOLS.length, 1_000, 40_000, 65_535];
      collector.send(
        frame((e) => {
          for (const id of ids) e.pushKlines(id, '1m', [openBar(minute, '1.2500', 5)]);
        }),
        true,
      );
      const refusal = await collector.next('error', 5_000);
      expect(refusal).toMatchObject({ code: 'invalid_record', records: 4, reasons: { unknown_symbol: 4 } });
      expect(hub.book.klines(0, '1m')).toHaveLength(1);
      for (const id of ids.slice(1)) expect(hub.book.klines(id, '1m')).toHaveLength(0);
      // A snapshot holds the registered symbol only.
      const reader = await follower(hub, 'trader-b');
      await waitFor(() => reader.peer.frames.length >= 1, 5_000, 'snapshot');
      expect(reader.peer.frames[0]?.length).toBeLessThan(4_096);
      // Registered by the universe collector, the next id is admitted.
      collector.sendJson({ op: 'symbols.set', id: 2, symbols: [...SYMBOLS, 'NEWUSDT'] });
      await collector.next('ok');
      collector.send(
        frame((e) => e.pushKlines(SYMBOLS.length, '1m', [openBar(minute, '1.2500', 5)])),
        true,
      );
      await waitFor(() => hub.book.klines(SYMBOLS.length, '1m').length === 1, 5_000, 'the new symbol merged');
      expect(hub.book.symbolCount).toBe(hub.symbols.names.length);
    });

    it('refuses a balance, position or tick whose time is in microseconds, so later correct updates apply (defect 4)', async () => {
      const hub = await started(transport);
      const collector = await peer(hub, 'collector-c', 'collector');
      const now = Date.now();
      const balance = (wallet: string, updateTime: number): Balance => ({
        asset: 'USDT',
        walletBalance: wallet,
        crossWalletBalance: wallet,
        updateTime,
      });
      collector.send(
        frame((e) => {
          e.pushBalance(balance('1.00', now * 1000));
          e.pushPosition(0, { side: 'BOTH', amount: '1', entryPrice: '1.2', updateTime: now * 1000 });
          e.pushTick(0, { bid: '1.1', bidQty: '1', ask: '1.2', askQty: '1', time: now * 1000 });
        }),
        true,
      );
      const refusal = await collector.next('error', 5_000);
      expect(refusal).toMatchObject({ code: 'invalid_record', records: 3, reasons: { time_in_future: 3 } });
      expect(hub.book.balance('USDT')).toBeNull();
      for (let i = 1; i <= 20; i += 1) {
        collector.send(
          frame((e) => e.pushBalance(balance(`${100 + i}.00`, now + i))),
          true,
        );
      }
      await waitFor(
        () => hub.book.balance('USDT')?.balance.walletBalance === '120.00',
        5_000,
        'the last balance',
      );
      expect(hub.book.stats().balances.droppedOlder).toBe(0);
    });
  },
);
