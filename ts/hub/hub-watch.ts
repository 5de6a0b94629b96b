// The hub's watch over its peers: alerts when a process stops sending heartbeats and when a collector's data goes stale, and again when either recovers.
import type { AlertSink } from '../alerts/alert.js';
import { peerSilenceAlert, staleDataAlert } from '../alerts/alert-sources.js';
import { ProblemTracker } from '../alerts/problem-tracker.js';
import type { HubHealth } from './hub-status.js';

/** Options of a {@link HubWatch}. */
export interface HubWatchOptions {
  /** The hub's health document (`HubServer.health`). */
  readonly health: () => HubHealth;
  readonly alerts: AlertSink;
  /** A peer not heard from (gone, or connected but silent) this long is alerted, ms. */
  readonly peerSilentMs: number;
  /** A connected collector whose last ingest is older than this is alerted, ms. */
  readonly staleDataMs: number;
  /** Collector kinds whose data is naturally sparse (events, daily lists): never called stale. */
  readonly sparseKinds: readonly string[];
  /** How often the health document is looked at, ms. */
  readonly checkMs: number;
  /** Peer kinds of viewer or admin keys that are processes of the system, watched like traders (default {@link WATCHED_VIEWER_KINDS}). */
  readonly watchedViewerKinds?: readonly string[];
  readonly now?: () => number;
}

/** Roles that come and go by design (operators' status queries): their leaving is not an alert. */
const TRANSIENT_ROLES = new Set(['viewer', 'admin']);

/**
 * Viewers that are long-running processes rather than an operator's look: the recorder reads the
 * hub with a viewer key (one that stops means records and alerts stop being kept), and the order
 * gateway holds one to carry its alerts (one that stops means live traders' orders fail).
 */
export const WATCHED_VIEWER_KINDS: readonly string[] = ['recorder', 'gateway'];

interface KnownPeer {
  readonly peer: string;
  readonly role: string;
  readonly kind: string | null;
  lastSeen: number;
}

/**
 * Looks at the hub's health every `checkMs`. Every collector and trader (any role but viewer and
 * admin), and every viewer of a watched kind (the recorder, the gateway), it has seen is remembered; one absent or silent for `peerSilentMs` raises
 * `hub.peer-silent` (the hub closes a peer silent for three heartbeats, so "stopped sending
 * heartbeats" and "gone" are the same thing seen a little apart), and its return `hub.peer-back`.
 * A collector of a watched kind whose last ingest is older than `staleDataMs` raises
 * `hub.data-stale`, then `hub.data-fresh`. Each problem is raised once, not every check.
 */
export class HubWatch {
  readonly #o: HubWatchOptions;
  readonly #now: () => number;
  readonly #known = new Map<string, KnownPeer>();
  readonly #silent: ProblemTracker<KnownPeer>;
  readonly #stale: ProblemTracker<{ peer: string; ageMs: number }>;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: HubWatchOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    // The silence is measured from the peer's last message, so the trackers need no grace of their own.
    this.#silent = new ProblemTracker(0);
    this.#stale = new ProblemTracker(0);
  }

  start(): void {
    this.#timer = setInterval(() => this.check(), this.#o.checkMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look at the health document (the timer's job; tests call it directly). */
  check(): void {
    const now = this.#now();
    const health = this.#o.health();
    const connected = new Set<string>();
    const watchedKinds = this.#o.watchedViewerKinds ?? WATCHED_VIEWER_KINDS;
    for (const p of health.peers) {
      if (TRANSIENT_ROLES.has(p.role) && (p.kind === null || !watchedKinds.includes(p.kind))) continue;
      connected.add(p.peer);
      const known = this.#known.get(p.peer);
      if (known === undefined)
        this.#known.set(p.peer, { peer: p.peer, role: p.role, kind: p.kind, lastSeen: p.lastSeen });
      else known.lastSeen = p.lastSeen;
    }
    const silent = new Map<string, KnownPeer>();
    for (const peer of this.#known.values()) {
      if (now - peer.lastSeen >= this.#o.peerSilentMs) silent.set(peer.peer, peer);
    }
    const peers = this.#silent.update(now, silent);
    for (const { problem } of peers.started) {
      this.#o.alerts.raise(peerSilenceAlert({ ...problem, back: false }));
    }
    for (const { problem } of peers.ended) {
      const current = this.#known.get(problem.peer) ?? problem;
      this.#o.alerts.raise(peerSilenceAlert({ ...current, back: true }));
    }

    const stale = new Map<string, { peer: string; ageMs: number }>();
    for (const c of health.collectors) {
      // A collector that left is stale too (its silence is alerted beside): its data ages all the same.
      if (c.ageMs === null || c.ageMs < this.#o.staleDataMs) continue;
      if (c.kind !== null && this.#o.sparseKinds.includes(c.kind)) continue;
      stale.set(c.peer, { peer: c.peer, ageMs: c.ageMs });
    }
    const data = this.#stale.update(now, stale);
    for (const { problem } of data.started) {
      this.#o.alerts.raise(
        staleDataAlert({
          where: 'hub',
          what: `collector ${problem.peer}`,
          ageMs: problem.ageMs,
          fresh: false,
        }),
      );
    }
    for (const { problem } of data.ended) {
      this.#o.alerts.raise(
        staleDataAlert({ where: 'hub', what: `collector ${problem.peer}`, ageMs: null, fresh: true }),
      );
    }
  }
}
