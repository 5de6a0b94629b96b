// A seeded fuzzer against a real hub: mutated frames of every kind from a collector, then every subscriber's book checked against a fresh snapshot.
import { silentLogger } from '../../log/logger.js';
import { HubBook, IngestEncoder } from '../../native/hub.js';
import { INTERVALS, type IntervalName, intervalOpenTime } from '../../native/interval.js';
import type { Kline } from '../../native/records.js';
import { TraderBook } from '../../native/trader-book.js';
import { waitUntil } from '../../testing/wait-until.js';
import type { SubscriptionRequest } from '../control-messages.js';
import { HubClient } from '../hub-client.js';
import { HubServer } from '../hub-server.js';
import { comparableRecord } from './comparable.js';
import { keyOf, RawPeer, type TransportName, testKeyRing } from './hub-fixtures.js';

/** What one fuzz run does. */
export interface FuzzOptions {
  /** Messages the fuzzing collector sends. */
  readonly frames: number;
  readonly seed: number;
  readonly transport: TransportName;
  /** Called every `progressEvery` messages with the count sent and the RSS, MiB. */
  readonly onProgress?: (sent: number, rssMiB: number) => void;
  readonly progressEvery?: number;
}

/** What a fuzz run found. */
export interface FuzzResult {
  readonly sent: number;
  /** Messages sent, by mutation kind. */
  readonly byKind: Record<string, number>;
  /** The hub's refusals by reason, and the connections it closed by reason. */
  readonly rejected: Record<string, number>;
  readonly closed: Record<string, number>;
  /** Records the merge took (changed) and refused. */
  readonly changed: number;
  readonly refusedRecords: number;
  readonly subscribers: number;
  /** Differences between a subscriber's book and a fresh snapshot (empty when every book agrees). */
  readonly mismatches: string[];
  /** RSS of the process (hub, fuzzer and subscribers): after warm-up, highest, at the end; MiB. */
  readonly rss: { warmMiB: number; peakMiB: number; endMiB: number };
  readonly seconds: number;
}

/** A seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SYMBOLS = Array.from({ length: 12 }, (_, i) => `FZ${i}USDT`);
/** Names a fuzzed `symbols.set` may add: the registry stays bounded. */
const EXTRA_SYMBOLS = Array.from({ length: 8 }, (_, i) => `FZX${i}USDT`);
const MAX_MESSAGE = 64 * 1024;
const MAX_PAYLOAD = 256 * 1024;
const ASSETS = ['USDT', 'BNB', 'FDUSD'];
/**
 * The subscriptions the fuzz subscribers hold: everything, two symbols' klines, the account side,
 * each in the three Delta frame encodings.
 */
const BASE_FILTERS: SubscriptionRequest[] = [
  { symbols: '*', kinds: '*', intervals: '*' },
  { symbols: ['FZ0USDT', 'FZ1USDT'], kinds: ['kline'], intervals: ['1m', '1h'] },
  { symbols: '*', kinds: ['tick', 'position', 'balance', 'banlist'], intervals: '*' },
];
const FILTERS: SubscriptionRequest[] = BASE_FILTERS.flatMap((filter) => [
  filter,
  { ...filter, wire: 2 as const },
  { ...filter, wire: 3 as const },
]);
const MIB = 2 ** 20;

/** Decides and builds the fuzzed messages. */
class Mutator {
  readonly #random: () => number;
  readonly #encoder = new IngestEncoder(SYMBOLS);
  readonly #wrongKind: Buffer[] = [];
  /** Batches the encoder could not encode (absurd values side by side). */
  unencodable = 0;

  constructor(seed: number) {
    this.#random = prng(seed);
    // Delta frames (TRB1 and compact) and Snapshot frames: well-formed, but not what a collector
    // may send.
    const book = new HubBook({ symbols: SYMBOLS });
    book.addTopic(1, {});
    book.addTopic(2, {}, 2);
    const turn = book.ingestTurn([this.#ingest()], [1], Date.now());
    for (const { frame } of turn.frames) this.#wrongKind.push(frame);
    this.#wrongKind.push(book.snapshotFrame(1, 1, Date.now()));
  }

  int(n: number): number {
    return Math.floor(this.#random() * n);
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** The next message: its kind, its bytes and whether it is binary. */
  next(): { kind: string; data: Buffer | string; binary: boolean } {
    const roll = this.#random();
    if (roll < 0.35) return { kind: 'ingest', data: this.#ingest(), binary: true };
    if (roll < 0.45) return { kind: 'bitflip', data: this.#flip(this.#ingest()), binary: true };
    if (roll < 0.52) {
      const frame = this.#ingest();
      return { kind: 'truncated', data: frame.subarray(0, this.int(frame.length)), binary: true };
    }
    if (roll < 0.56) {
      const frame = this.#ingest();
      return { kind: 'extended', data: Buffer.concat([frame, this.#bytes(1 + this.int(64))]), binary: true };
    }
    if (roll < 0.63) return { kind: 'garbage', data: this.#bytes(this.int(2048)), binary: true };
    if (roll < 0.65)
      return { kind: 'oversized', data: this.#bytes(MAX_MESSAGE + 1 + this.int(4096)), binary: true };
    if (roll < 0.6505)
      return { kind: 'too_big', data: this.#bytes(MAX_PAYLOAD + 1 + this.int(1024)), binary: true };
    if (roll < 0.68) return { kind: 'wrong_kind', data: this.pick(this.#wrongKind), binary: true };
    if (roll < 0.95) return { kind: 'control', data: this.#control(), binary: false };
    return { kind: 'text_garbage', data: this.#bytes(this.int(512)).toString('latin1'), binary: false };
  }

  #bytes(n: number): Buffer {
    const bytes = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 1) bytes[i] = this.int(256);
    return bytes;
  }

  #flip(frame: Buffer): Buffer {
    const copy = Buffer.from(frame);
    const flips = 1 + this.int(8);
    for (let i = 0; i < flips && copy.length > 0; i += 1) copy[this.int(copy.length)] = this.int(256);
    return copy;
  }

  #ingest(): Buffer {
    this.#fill(this.#encoder, 1 + this.int(12));
    try {
      // Every push may have been refused by the encoder itself (an unparsable decimal): send something.
      return this.#encoder.takeFrame(0, Date.now()) ?? this.#bytes(16);
    } catch {
      // Values no frame can carry at one scale: the encoder dropped them; a collector would count it.
      this.unencodable += 1;
      return this.#bytes(16);
    }
  }

  /** A price: mostly plausible, sometimes absurd (1e-18, 20 digits, many decimals, zero). */
  #price(): string {
    const roll = this.#random();
    if (roll < 0.04) return '0.000000000000000001';
    if (roll < 0.06) return '99999999999999999999';
    if (roll < 0.08) return '12345.123456789012345678';
    if (roll < 0.09) return '0';
    const scale = this.int(9);
    return (10 + this.#random() * 1000).toFixed(scale);
  }

  /** An exchange time: mostly now, sometimes microseconds, seconds, the far past or the future. */
  #time(now: number): number {
    const roll = this.#random();
    if (roll < 0.03) return now * 1000;
    if (roll < 0.05) return Math.floor(now / 1000);
    if (roll < 0.06) return 1;
    if (roll < 0.08) return now + 3_600_000;
    return now - this.int(120_000);
  }

  /** A symbol id: mostly registered, sometimes past the registry or absurd. */
  #symbol(): number {
    const roll = this.#random();
    if (roll < 0.05) return 65_535;
    if (roll < 0.1) return SYMBOLS.length + EXTRA_SYMBOLS.length + this.int(1000);
    return this.int(SYMBOLS.length + 2);
  }

  #kline(interval: IntervalName, now: number): Kline {
    const time = this.#time(now);
    let openTime: number;
    try {
      openTime = this.chance(0.95) ? intervalOpenTime(interval, Math.max(0, time)) : time + 1;
    } catch {
      openTime = time;
    }
    const prices = [this.#price(), this.#price(), this.#price(), this.#price()];
    const trades = this.int(1000);
    return {
      openTime,
      closeTime: openTime + (this.chance(0.9) ? 59_999 : -5),
      open: prices[0] ?? '1',
      high: prices[1] ?? '1',
      low: prices[2] ?? '1',
      close: prices[3] ?? '1',
      volume: `${trades}.5`,
      quoteVolume: `${trades * 3}.25`,
      trades,
      takerBuyVolume: this.chance(0.95) ? '0.5' : '1e9',
      takerBuyQuoteVolume: '0.25',
      closed: this.chance(0.3),
      asOf: this.chance(0.5) ? 0 : this.#time(now),
    };
  }

  #fill(encoder: IngestEncoder, records: number): void {
    const now = Date.now();
    for (let r = 0; r < records; r += 1) {
      const kind = this.int(10);
      try {
        if (kind < 5) {
          const interval = this.chance(0.7) ? this.pick(['1m', '1h'] as const) : this.pick(INTERVALS);
          encoder.pushKlines(this.#symbol(), interval, [this.#kline(interval, now)]);
        } else if (kind < 7) {
          const bid = this.#price();
          encoder.pushTick(this.#symbol(), {
            bid,
            bidQty: '1.5',
            ask: this.chance(0.9) ? bid : this.#price(),
            askQty: '2',
            time: this.#time(now),
          });
        } else if (kind < 8) {
          encoder.pushPosition(this.#symbol(), {
            side: this.pick(['BOTH', 'LONG', 'SHORT'] as const),
            amount: this.chance(0.5) ? '0' : `${this.int(100)}.${this.int(1000)}`,
            entryPrice: this.#price(),
            updateTime: this.#time(now),
          });
        } else if (kind < 9) {
          const wallet = `${this.int(100_000)}.${this.int(100)}`;
          encoder.pushBalance({
            asset: this.pick(ASSETS),
            walletBalance: wallet,
            crossWalletBalance: wallet,
            updateTime: this.#time(now),
          });
        } else {
          const ids = Array.from({ length: this.int(4) }, () => this.#symbol());
          encoder.setBanList({ all: this.chance(0.1), symbols: ids });
        }
      } catch {
        // The encoder refused the record (an unparsable value): the fuzzer moves on.
      }
    }
  }

  #control(): string {
    const id = this.int(1000);
    const templates: Array<() => unknown> = [
      () => ({ op: 'ping', id }),
      () => ({ op: 'symbols', id }),
      () => ({ op: 'cursor.next', id, kind: this.pick(['kline', 'tick', 42, null]) }),
      () => ({ op: 'snapshot', id, stream: this.pick([0, 1, 99_999, -1, 1.5, 'x']) }),
      () => ({ op: 'subscribe', id, symbols: '*', kinds: '*', intervals: '*' }),
      () => ({
        op: 'subscribe',
        id,
        symbols: '*',
        kinds: '*',
        intervals: '*',
        wire: this.pick([2, 3, 4, 0, '2', null]),
      }),
      () => ({ op: 'symbols.set', id, symbols: [...SYMBOLS, ...EXTRA_SYMBOLS.slice(0, this.int(9))] }),
      () => ({ op: 'symbols.set', id, symbols: this.pick([[], 'x', [1, 2], ['a'.repeat(200)]]) }),
      () => ({ op: 'ranks.set', id, symbols: [this.pick([...SYMBOLS, 'NOPEUSDT'])] }),
      () => ({ op: 'slot.register', id, group: this.pick(['tick', '', 'x'.repeat(300)]) }),
      () => ({ op: 'auth', id, key: 'k', peer: 'p', mac: 'ab' }),
      () => ({ op: 'launch', id }),
      () => ({ op: 'ping', id, extra: { deep: [[[[[1]]]]] } }),
      () => ({ op: 'report', id, status: { n: 1e308, s: '\u0000\uffff' } }),
      () => ({ op: 'events.publish', id, events: [this.pick(['{}', 'x', 1])] }),
      () => [1, 2, 3],
      () => null,
      () => Number.MAX_VALUE,
    ];
    // Numbers JSON.stringify cannot write (1e400 parses as Infinity on the hub's side).
    if (this.chance(0.02)) return `{"op":"snapshot","id":${id},"stream":1e400}`;
    const text = JSON.stringify(this.pick(templates)());
    return this.chance(0.05) ? text.slice(0, this.int(text.length)) : (text ?? 'null');
  }
}

/** A subscriber: a real client whose book applies every frame it gets and asks for a snapshot after a gap. */
class FuzzSubscriber {
  readonly book = new TraderBook();
  readonly client: HubClient;
  stream = 0;

  constructor(url: string, name: string) {
    this.client = new HubClient({
      url,
      peer: name,
      key: keyOf('trader'),
      logger: silentLogger('fuzz-subscriber'),
      backoff: { initialMs: 20, maxMs: 200 },
    });
    this.client.onFrames((frames) => {
      const result = this.book.applyMany(frames);
      for (const issue of result.issues) {
        if (issue.outcome.needsSnapshot && issue.outcome.stream !== undefined) {
          this.client.snapshot(issue.outcome.stream).catch(() => {
            // Refused or timed out: the stream stays stale and the check below fails visibly.
          });
        }
      }
    });
  }

  async start(filter: SubscriptionRequest): Promise<void> {
    await this.client.connect();
    this.stream = (await this.client.subscribe(filter)).stream;
  }
}

/** Differences between two books over every registered symbol, interval, side and asset. */
function differences(a: TraderBook, b: TraderBook, symbols: number): string[] {
  const out: string[] = [];
  const same = (what: string, x: unknown, y: unknown) => {
    const left = JSON.stringify(x);
    const right = JSON.stringify(y);
    if (left !== right && out.length < 20) out.push(`${what}: ${left} ≠ ${right}`);
  };
  for (let id = 0; id < symbols; id += 1) {
    for (const interval of INTERVALS) {
      same(
        `klines ${id} ${interval}`,
        a.klines(id, interval).map(comparableRecord),
        b.klines(id, interval).map(comparableRecord),
      );
    }
    same(`tick ${id}`, comparableRecord(a.tick(id)), comparableRecord(b.tick(id)));
    for (const side of ['BOTH', 'LONG', 'SHORT'] as const) {
      same(
        `position ${id} ${side}`,
        comparableRecord(a.position(id, side)),
        comparableRecord(b.position(id, side)),
      );
    }
  }
  for (const asset of ASSETS)
    same(`balance ${asset}`, comparableRecord(a.balance(asset)), comparableRecord(b.balance(asset)));
  same('ban list', a.banList(), b.banList());
  return out;
}

/** A collector connection the fuzzer sends through (a new one when the hub closed the last). */
async function collector(url: string, n: number): Promise<RawPeer> {
  const peer = await RawPeer.open(url);
  await peer.auth(`fuzz-collector-${n}`, 'collector');
  return peer;
}

/** Waits until every message sent so far on `peer` was processed (a `ping` answered), or it closed. */
async function settled(peer: RawPeer): Promise<void> {
  peer.sendJson({ op: 'ping', id: 1_000_000 });
  await Promise.race([
    waitUntil(() => peer.messages.some((m) => m.op === 'pong' && m.id === 1_000_000), 'pong', 60_000, 2),
    peer.closed,
  ]);
  // Keep the peer's message list short over a long run.
  peer.messages.length = 0;
}

/** Runs the fuzzer; see docs/operations.md, "Hub fuzzer". */
export async function fuzzHub(options: FuzzOptions): Promise<FuzzResult> {
  const started = performance.now();
  const hub = await HubServer.start({
    keys: testKeyRing(),
    transport: options.transport,
    symbols: SYMBOLS,
    logger: silentLogger('fuzz-hub'),
    snapshotIntervalMs: 0,
    maxMessageBytes: MAX_MESSAGE,
    maxPayloadBytes: MAX_PAYLOAD,
    // The fuzzer sends as fast as the hub answers: no flood limit, so every message is judged.
    budget: { messagesPerSecond: 10_000_000, bytesPerSecond: 1e12 },
    floodDisconnectPerSecond: 10_000_000,
  });
  const subscribers: FuzzSubscriber[] = [];
  const peers: RawPeer[] = [];
  try {
    for (const [i, filter] of FILTERS.entries()) {
      const subscriber = new FuzzSubscriber(hub.url, `fuzz-trader-${i}`);
      subscribers.push(subscriber);
      await subscriber.start(filter);
    }
    const mutator = new Mutator(options.seed);
    const byKind: Record<string, number> = {};
    let peer = await collector(hub.url, 0);
    peers.push(peer);
    let warm = 0;
    let peak = 0;
    const every = options.progressEvery ?? 10_000;
    for (let sent = 0; sent < options.frames; sent += 1) {
      if (peer.closeInfo !== undefined) {
        peer = await collector(hub.url, peers.length);
        peers.push(peer);
        if (peers.length > 2) peers.shift()?.close();
      }
      const message = mutator.next();
      byKind[message.kind] = (byKind[message.kind] ?? 0) + 1;
      peer.send(message.data, message.binary);
      // In bursts: wait for the hub to have judged the burst, so its input queue stays short.
      if (sent % 100 === 99 || message.kind === 'too_big') await settled(peer);
      if (sent % every === every - 1) {
        const rss = process.memoryUsage().rss / MIB;
        if (sent < options.frames / 10 || warm === 0) warm = rss;
        peak = Math.max(peak, rss);
        options.onProgress?.(sent + 1, rss);
      }
    }
    await settled(peer);
    // Every subscriber's book equals a fresh snapshot of its stream, once it applied what is out.
    const symbols = hub.symbols.names.length;
    const mismatches: string[] = [];
    for (const [i, filter] of FILTERS.entries()) {
      const subscriber = subscribers[i];
      if (subscriber === undefined) continue;
      const fresh = new FuzzSubscriber(hub.url, `fuzz-checker-${i}`);
      try {
        await fresh.start(filter);
        let diff: string[] = [];
        await waitUntil(
          () => {
            diff = differences(subscriber.book, fresh.book, symbols);
            return diff.length === 0 && subscriber.book.staleStreams().length === 0;
          },
          `subscriber ${i} equal to a fresh snapshot`,
          10_000,
          20,
        ).catch(() => {
          mismatches.push(...diff.map((d) => `subscriber ${i}: ${d}`));
          if (subscriber.book.staleStreams().length > 0) mismatches.push(`subscriber ${i}: still stale`);
        });
        // Frames arrive in order from one hub: a wire-2 row can only miss its base through a hub fault.
        const baseMismatches = subscriber.book.stats().baseMismatches;
        if (baseMismatches > 0) {
          mismatches.push(`subscriber ${i}: ${baseMismatches} compact rows against versions it never held`);
        }
      } finally {
        await fresh.client.close();
      }
    }
    const status = hub.status();
    const rssEnd = process.memoryUsage().rss / MIB;
    return {
      sent: options.frames,
      byKind,
      rejected: status.rejected,
      closed: status.closed,
      changed: status.merge.recordsChanged,
      refusedRecords: status.merge.recordsRefused,
      subscribers: subscribers.length,
      mismatches,
      rss: {
        warmMiB: Math.round(warm || rssEnd),
        peakMiB: Math.round(Math.max(peak, rssEnd)),
        endMiB: Math.round(rssEnd),
      },
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    for (const p of peers) p.close();
    for (const s of subscribers) await s.client.close();
    await hub.close();
  }
}
