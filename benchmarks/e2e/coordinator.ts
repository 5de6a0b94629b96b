// Starts the end-to-end benchmark's peer processes, runs paced phases through them and tears everything down.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { monotonicMs } from './clock.js';
import { DEFAULT_UNIVERSE, type E2eUniverse } from './market-stream.js';
import { PaceSchedule } from './pacing.js';
import { type PhaseSummary, summarisePhase } from './phase-summary.js';
import type { CoordinatorMessage, E2eTransport, PeerMessage, PeerRole, ProcessUsage } from './protocol.js';

/** The benchmark could not run: a peer failed, exited, or did not answer in time. */
export class EndToEndError extends Error {
  override readonly name = 'EndToEndError';
}

/** Subscribers per pipeline (the "4 trader subscribers"). */
export const SUBSCRIBERS = 4;

/** Every peer process alive, so an exiting coordinator can take them down with it. */
const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

type Reply<T extends PeerMessage['type']> = Extract<PeerMessage, { type: T }>;

/** One peer process and its replies, awaited by type with a deadline. */
class PeerProcess {
  readonly #child: ChildProcess;
  readonly #inbox: PeerMessage[] = [];
  #waiter: (() => void) | undefined;
  #gone: EndToEndError | undefined;

  constructor(readonly label: string) {
    const script = fileURLToPath(new URL('./peer.js', import.meta.url));
    this.#child = fork(script, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    alive.add(this.#child);
    this.#child.on('message', (message: PeerMessage) => {
      if (message.type === 'failed') this.#gone ??= new EndToEndError(`${label}: ${message.message}`);
      else this.#inbox.push(message);
      this.#waiter?.();
    });
    this.#child.on('exit', (code, signal) => {
      alive.delete(this.#child);
      this.#gone ??= new EndToEndError(`${label} exited (${signal ?? code})`);
      this.#waiter?.();
    });
  }

  send(message: CoordinatorMessage): void {
    if (this.#gone !== undefined) throw this.#gone;
    this.#child.send(message);
  }

  /** The next reply of `type`; throws when the peer failed or `timeoutMs` passes first. */
  async next<T extends PeerMessage['type']>(type: T, timeoutMs: number): Promise<Reply<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#inbox.findIndex((m) => m.type === type);
      if (index >= 0) return this.#inbox.splice(index, 1)[0] as Reply<T>;
      if (this.#gone !== undefined) throw this.#gone;
      const left = deadline - Date.now();
      if (left <= 0) throw new EndToEndError(`${this.label}: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
  }

  /** Asks the peer to stop; kills it when it has not exited within `graceMs`. */
  async stop(graceMs = 2_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    if (this.#child.connected) this.#child.send({ type: 'stop' } satisfies CoordinatorMessage);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Which server the pipeline runs: the real hub, or the plain relay (the baseline). */
export type Side = 'hub' | 'relay';

/** What a phase measured, per process. */
export interface PhaseRun {
  side: Side;
  transport: E2eTransport;
  rate: number;
  summary: PhaseSummary;
  usage: { server: ProcessUsage; collector: ProcessUsage; subscribers: ProcessUsage[] };
  notes: { server: Record<string, number>; collector: Record<string, number> };
}

/** Durations of one phase. */
export interface PhaseTiming {
  warmupMs: number;
  measureMs: number;
  /** How long subscribers may take, after the last send, to receive everything. */
  drainMs: number;
}

const SETUP_TIMEOUT_MS = 30_000;

/** Collector → server (hub or relay) → {@link SUBSCRIBERS} subscribers, each a process. */
export class Pipeline {
  #server: PeerProcess | undefined;
  #collector: PeerProcess | undefined;
  #subscribers: PeerProcess[] = [];
  #phase = 0;
  #nextMessage = 0;

  private constructor(
    readonly side: Side,
    readonly transport: E2eTransport,
    readonly universe: E2eUniverse,
  ) {}

  /** Starts the server, then the subscribers and the collector; stops what started when that fails. */
  static async start(
    side: Side,
    transport: E2eTransport,
    universe: E2eUniverse = DEFAULT_UNIVERSE,
  ): Promise<Pipeline> {
    const pipeline = new Pipeline(side, transport, universe);
    try {
      await pipeline.#spawn();
    } catch (error) {
      await pipeline.stop();
      throw error;
    }
    return pipeline;
  }

  get #peers(): PeerProcess[] {
    return [this.#server, this.#collector, ...this.#subscribers].filter((p) => p !== undefined);
  }

  async #spawn(): Promise<void> {
    const secret = randomBytes(32).toString('hex');
    const tag = `${this.side}/${this.transport}`;
    const init = (peer: PeerProcess, role: PeerRole, url: string, name: string): void =>
      peer.send({
        type: 'init',
        role,
        transport: this.transport,
        secret,
        url,
        name,
        universe: this.universe,
      });
    this.#server = new PeerProcess(`${tag} server`);
    init(this.#server, this.side, '', 'server');
    const { port } = await this.#server.next('ready', SETUP_TIMEOUT_MS);
    if (port === undefined) throw new EndToEndError(`${tag} server reported no port`);
    const url = `ws://127.0.0.1:${port}/`;
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const peer = new PeerProcess(`${tag} subscriber ${i}`);
      this.#subscribers.push(peer);
      init(peer, this.side === 'hub' ? 'trader' : 'relay-trader', url, `trader-${i}`);
    }
    this.#collector = new PeerProcess(`${tag} collector`);
    init(this.#collector, 'collector', url, 'collector-0');
    await Promise.all([this.#collector, ...this.#subscribers].map((p) => p.next('ready', SETUP_TIMEOUT_MS)));
  }

  /** Sends `rate` msg/s for warm-up + measured window and summarises the window. */
  async runPhase(rate: number, timing: PhaseTiming): Promise<PhaseRun> {
    const server = this.#server;
    const collector = this.#collector;
    if (server === undefined || collector === undefined) throw new EndToEndError('pipeline not started');
    const phase = ++this.#phase;
    const durationMs = timing.warmupMs + timing.measureMs;
    const schedule = new PaceSchedule(rate, durationMs);
    collector.send({ type: 'prepare', phase, rate, durationMs });
    const prepared = await collector.next('prepared', SETUP_TIMEOUT_MS);
    if (prepared.first !== this.#nextMessage || prepared.count !== schedule.messages)
      throw new EndToEndError(
        `collector prepared [${prepared.first}, +${prepared.count}), expected [${this.#nextMessage}, +${schedule.messages})`,
      );
    // Time for every peer to get `start` and begin its phase before the first send.
    const margin = 200;
    const startAt = monotonicMs() + margin;
    const start: CoordinatorMessage = {
      type: 'start',
      phase,
      startAt,
      windowStart: startAt + timing.warmupMs,
      windowEnd: startAt + durationMs,
      first: prepared.first,
      count: prepared.count,
    };
    for (const peer of this.#peers) peer.send(start);
    await Promise.all(this.#peers.map((p) => p.next('started', margin * 10)));
    if (monotonicMs() > startAt)
      throw new EndToEndError(`peers acknowledged phase ${phase} after its start: the machine is overloaded`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt + durationMs - monotonicMs())));
    const drainUntil = monotonicMs() + timing.drainMs;
    for (const peer of this.#peers) peer.send({ type: 'collect', phase, drainUntil });
    const wait = durationMs + timing.drainMs + SETUP_TIMEOUT_MS;
    const [sent, serverReport, ...subscriberReports] = await Promise.all([
      collector.next('collected', wait),
      server.next('collected', wait),
      ...this.#subscribers.map((p) => p.next('collected', wait)),
    ]);
    this.#nextMessage += prepared.count;
    if (sent.sendTimes === undefined) throw new EndToEndError('the collector returned no send times');
    const arrivals = subscriberReports.map((r, i) => {
      if (r.arrivals === undefined) throw new EndToEndError(`subscriber ${i} returned no arrivals`);
      return r.arrivals;
    });
    const windowFirst = schedule.firstOf(timing.warmupMs);
    const summary = summarisePhase({
      rate,
      windowFirst,
      windowCount: schedule.messages - windowFirst,
      sendTimes: sent.sendTimes,
      arrivals,
      collectorLagP99Ms: sent.notes.lagP99Ms ?? Number.NaN,
      gaps: subscriberReports.reduce((n, r) => n + (r.notes.gaps ?? 0), 0),
    });
    return {
      side: this.side,
      transport: this.transport,
      rate,
      summary,
      usage: {
        server: serverReport.usage,
        collector: sent.usage,
        subscribers: subscriberReports.map((r) => r.usage),
      },
      notes: { server: serverReport.notes, collector: sent.notes },
    };
  }

  /** Stops every peer (asks, then kills after a grace period). */
  async stop(): Promise<void> {
    const peers = this.#peers;
    this.#server = undefined;
    this.#collector = undefined;
    this.#subscribers = [];
    await Promise.all(peers.map((p) => p.stop()));
  }
}
