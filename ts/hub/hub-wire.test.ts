// Wire 1, wire 2 (compact Delta frames) and wire 3 (with compact tick rows) side by side on one hub: negotiation at subscribe, the frames each stream gets, and books that end equal.
import * as flatbuffers from 'flatbuffers';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { silentLogger } from '../log/logger.js';
import { IngestEncoder } from '../native/hub.js';
import { TraderBook } from '../native/trader-book.js';
import { Frame } from '../wire/generated/hub_generated.js';
import { HubClient } from './hub-client.js';
import {
  keyOf,
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
/** The first byte of a wire-3 compact Delta frame (docs/protocol.md, Compact tick rows). */
const TICKS_MARKER = 0xd3;

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
  it('serves one filter as wire-1, wire-2 and wire-3 streams whose books end equal; refuses an unknown wire', async () => {
    const hub = await startHub(transport);
    cleanups.push(() => hub.close());
    const peers = await Promise.all([0, 1, 2, 3, 4].map(() => RawPeer.open(hub.url)));
    for (const peer of peers) cleanups.push(() => peer.close());
    const [collector, compact, plain, ticked, wrong] = peers as [RawPeer, RawPeer, RawPeer, RawPeer, RawPeer];
    await collector.auth('collector-wire', 'collector');
    const welcome = await compact.auth('trader-compact', 'trader');
    expect(welcome.version).toBeGreaterThanOrEqual(6);
    await plain.auth('trader-plain', 'trader');
    await ticked.auth('trader-ticked', 'trader');
    await wrong.auth('trader-wrong', 'trader');

    compact.sendJson({ op: 'subscribe', id: 1, ...EVERYTHING, wire: 2 });
    plain.sendJson({ op: 'subscribe', id: 1, ...EVERYTHING });
    ticked.sendJson({ op: 'subscribe', id: 1, ...EVERYTHING, wire: 3 });
    wrong.sendJson({ op: 'subscribe', id: 1, ...EVERYTHING, wire: 4 });
    const a = await compact.next('subscribed');
    const b = await plain.next('subscribed');
    const c = await ticked.next('subscribed');
    expect([a.wire, b.wire, c.wire]).toEqual([2, 1, 3]);
    expect(new Set([a.stream, b.stream, c.stream]).size).toBe(3);
    expect(await wrong.next('error')).toMatchObject({ code: 'bad_field', id: 1 });

    const encoder = new IngestEncoder(SYMBOLS);
    const rounds = 12;
    const all = [compact, plain, ticked];
    for (let round = 0; round < rounds; round += 1) {
      // Every symbol's quote as well, now and then without a last price or an update id.
      for (let s = 0; s < SYMBOLS.length; s += 1) {
        encoder.pushTick(s, {
          bid: (100 + s + round / 10).toFixed(1),
          bidQty: `${round + 1}.5`,
          ask: (100 + s + round / 10 + 0.25).toFixed(2),
          askQty: '3',
          ...(round % 3 === 0 ? {} : { last: '100.05' }),
          time: 1_778_198_400_000 + round,
          ...(s % 4 === 0 ? {} : { updateId: 1_000_000_000_000 + round }),
        });
      }
      collector.send(syntheticFrame(encoder, SYMBOLS.length, 3, round), true);
      // One turn per frame: wait until every stream published it.
      await waitFor(() => all.every((peer) => peer.frames.length > round + 1));
    }
    // Snapshots are TRB1 frames on both; a wire-2 stream's carries its turn.
    const [compactSnapshot, ...compactDeltas] = compact.frames;
    const [plainSnapshot, ...plainDeltas] = plain.frames;
    const [tickedSnapshot, ...tickedDeltas] = ticked.frames;
    const turnOf = (frame: Buffer | undefined) =>
      frame === undefined ? undefined : Frame.getRootAsFrame(new flatbuffers.ByteBuffer(frame)).turn();
    expect(turnOf(compactSnapshot)).toBeGreaterThan(0n);
    expect(turnOf(plainSnapshot)).toBe(0n);
    expect(turnOf(tickedSnapshot)).toBeGreaterThan(0n);
    expect(compactDeltas.every((f) => f[0] === COMPACT_MARKER)).toBe(true);
    expect(plainDeltas.every((f) => f[0] !== COMPACT_MARKER && f[0] !== TICKS_MARKER)).toBe(true);
    expect(tickedDeltas.every((f) => f[0] === TICKS_MARKER)).toBe(true);
    const bytesOf = (frames: Buffer[]) => frames.reduce((sum, f) => sum + f.length, 0);
    expect(bytesOf(compactDeltas) * 2).toBeLessThan(bytesOf(plainDeltas));
    // Every frame carried every symbol's quote: a compact tick row is 30+ bytes short of a TRB1 one.
    expect(bytesOf(compactDeltas) - bytesOf(tickedDeltas)).toBeGreaterThan(30 * SYMBOLS.length * rounds);

    const books = [bookOf(compact.frames), bookOf(plain.frames), bookOf(ticked.frames)];
    for (const book of books) expect(book.stats().baseMismatches).toBe(0);
    for (let id = 0; id < SYMBOLS.length; id += 1) {
      const want = hub.book.klines(id, '1m').map((e) => comparable(e.kline));
      expect(want).toHaveLength(3);
      const tick = comparable(hub.book.tick(id)?.tick);
      expect(tick).toBeDefined();
      for (const book of books) {
        expect(book.klines(id, '1m').map(comparable)).toEqual(want);
        expect(comparable(book.tick(id))).toEqual(tick);
      }
    }
    expect(
      hub
        .status()
        .streams.map((s) => s.wire)
        .sort(),
    ).toEqual([1, 2, 3]);
  });
});

describe('wire negotiation with older hubs', () => {
  /** The `subscribe` a HubClient asked for wire 3 sends to a hub of control protocol `version`. */
  async function subscribeSent(version: number): Promise<Record<string, unknown> | undefined> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise((resolve) => server.once('listening', resolve));
    let sent: Record<string, unknown> | undefined;
    server.on('connection', (socket) => {
      socket.send(JSON.stringify({ op: 'hello', nonce: 'ab'.repeat(32), version, hub: 'old' }));
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString()) as Record<string, unknown>;
        if (message.op === 'auth') {
          socket.send(
            JSON.stringify({
              op: 'welcome',
              id: message.id,
              peerId: 1,
              peer: message.peer,
              role: 'trader',
              key: message.key,
              version,
              hub: 'old',
              symbols: SYMBOLS,
              symbolsVersion: 1,
              heartbeatMs: 5_000,
              idleTimeoutMs: 15_000,
              maxMessageBytes: 4 * 1024 * 1024,
            }),
          );
        } else if (message.op === 'subscribe') {
          sent = message;
          const wire = message.wire === undefined ? {} : { wire: message.wire };
          socket.send(JSON.stringify({ op: 'subscribed', id: message.id, stream: 7, seq: 0, ...wire }));
        }
      });
    });
    const address = server.address() as { port: number };
    const client = new HubClient({
      url: `ws://127.0.0.1:${address.port}/`,
      peer: 'trader-old-hub',
      key: keyOf('trader'),
      logger: silentLogger('client'),
    });
    cleanups.push(() => client.close());
    await client.connect();
    const reply = await client.subscribe({ ...EVERYTHING, wire: 3 });
    expect(reply.wire).toBe(sent?.wire ?? 1);
    return sent;
  }

  it('asks a hub of protocol 6 for wire 3, one of protocol 5 for wire 2, an older one for none', async () => {
    expect((await subscribeSent(6))?.wire).toBe(3);
    expect((await subscribeSent(5))?.wire).toBe(2);
    expect(await subscribeSent(4)).not.toHaveProperty('wire');
  });
});
