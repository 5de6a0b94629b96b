// Wire 1 and wire 2 (compact Delta frames) side by side on one hub: negotiation at subscribe, the frames each stream gets, and books that end equal.
import * as flatbuffers from 'flatbuffers';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestEncoder } from '../native/hub.js';
import { TraderBook } from '../native/trader-book.js';
import { Frame } from '../wire/generated/hub_generated.js';
import {
  RawPeer,
  SYMBOLS,
  startHub,
  TRANSPORTS,
  type TransportName,
  waitFor,
} from './testing/hub-fixtures.js';
import { comparable, syntheticFrame } from './testing/ingest-data.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const EVERYTHING = { symbols: '*', kinds: '*', intervals: '*' } as const;
/** The first byte of a compact Delta frame (docs/protocol.md, Compact Delta frames). */
const COMPACT_MARKER = 0xd2;

/** A subscriber's binary messages applied in order to a fresh book. */
function bookOf(frames: Buffer[]): TraderBook {
  const book = new TraderBook();
  for (const frame of frames) {
    const outcome = book.apply(frame);
    expect(['snapshot', 'applied']).toContain(outcome.kind);
  }
  return book;
}

describe.each(TRANSPORTS)('wire versions over %s', (transport: TransportName) => {
  it('serves one filter as a wire-1 and a wire-2 stream whose books end equal; refuses an unknown wire', async () => {
    const hub = await startHub(transport);
    cleanups.push(() => hub.close());
    const peers = await Promise.all([0, 1, 2, 3].map(() => RawPeer.open(hub.url)));
    for (const peer of peers) cleanups.push(() => peer.close());
    const [collector, compact, plain, wrong] = peers as [RawPeer, RawPeer, RawPeer, RawPeer];
    await collector.auth('collector-wire', 'collector');
    const welcome = await compact.auth('trader-compact', 'trader');
    expect(welcome.version).toBeGreaterThanOrEqual(5);
    await plain.auth('trader-plain', 'trader');
    await wrong.auth('trader-wrong', 'trader');

    compact.sendJson({ op: 'subscribe', id: 1, ...EVERYTHING, wire: 2 });
    plain.sendJson({ op: 'subscribe', id: 1, ...EVERYTHING });
    wrong.sendJson({ op: 'subscribe', id: 1, ...EVERYTHING, wire: 3 });
    const a = await compact.next('subscribed');
    const b = await plain.next('subscribed');
    expect(a.wire).toBe(2);
    expect(b.wire).toBe(1);
    expect(a.stream).not.toBe(b.stream);
    expect(await wrong.next('error')).toMatchObject({ code: 'bad_field', id: 1 });

    const encoder = new IngestEncoder(SYMBOLS);
    const rounds = 12;
    for (let round = 0; round < rounds; round += 1) {
      collector.send(syntheticFrame(encoder, SYMBOLS.length, 3, round), true);
      // One turn per frame: wait until both streams published it.
      await waitFor(() => compact.frames.length > round + 1 && plain.frames.length > round + 1);
    }
    // Snapshots are TRB1 frames on both; a wire-2 stream's carries its turn.
    const [compactSnapshot, ...compactDeltas] = compact.frames;
    const [plainSnapshot, ...plainDeltas] = plain.frames;
    const turnOf = (frame: Buffer | undefined) =>
      frame === undefined ? undefined : Frame.getRootAsFrame(new flatbuffers.ByteBuffer(frame)).turn();
    expect(turnOf(compactSnapshot)).toBeGreaterThan(0n);
    expect(turnOf(plainSnapshot)).toBe(0n);
    expect(compactDeltas.every((f) => f[0] === COMPACT_MARKER)).toBe(true);
    expect(plainDeltas.every((f) => f[0] !== COMPACT_MARKER)).toBe(true);
    const compactBytes = compactDeltas.reduce((sum, f) => sum + f.length, 0);
    const plainBytes = plainDeltas.reduce((sum, f) => sum + f.length, 0);
    expect(compactBytes * 3).toBeLessThan(plainBytes);

    const compactBook = bookOf(compact.frames);
    const plainBook = bookOf(plain.frames);
    expect(compactBook.stats().baseMismatches).toBe(0);
    for (let id = 0; id < SYMBOLS.length; id += 1) {
      const want = hub.book.klines(id, '1m').map((e) => comparable(e.kline));
      expect(want).toHaveLength(3);
      expect(compactBook.klines(id, '1m').map(comparable)).toEqual(want);
      expect(plainBook.klines(id, '1m').map(comparable)).toEqual(want);
    }
    expect(
      hub
        .status()
        .streams.map((s) => s.wire)
        .sort(),
    ).toEqual([1, 2]);
  });
});
