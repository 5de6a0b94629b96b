// Builds the two status documents from the hub's parts: the public health document and the full one.
import type { HubBook } from '../../native/hub.js';
import { releaseVersion } from '../../process/release-info.js';
import { PROTOCOL_VERSION } from '../control-messages.js';
import type { HubMetrics } from '../hub-metrics.js';
import type { HubHealth, HubStatus, PeerHealth, PeerStatus } from '../hub-status.js';
import type { KeyRing } from '../peer-keys.js';
import type { SlotTable } from '../slot-table.js';
import type { SymbolDirectory } from '../symbol-directory.js';
import type { CollectorLedger } from './collector-ledger.js';
import type { PeerHistory } from './peer-history.js';
import type { AlertRelay } from './services/alert-relay.js';
import type { EventRelay } from './services/event-relay.js';
import type { CursorService } from './services/poll-services.js';
import type { RankService } from './services/rank-service.js';
import type { WeightService } from './services/weight-service.js';
import type { PeerSession } from './session.js';
import type { Sessions } from './sessions.js';
import type { Subscriptions } from './subscriptions.js';

/** The book's counters as plain `kind → name → count` records. */
function countersByKind(stats: object): Record<string, Record<string, number>> {
  const byKind: Record<string, Record<string, number>> = {};
  for (const [kind, values] of Object.entries(stats)) {
    const row: Record<string, number> = {};
    if (typeof values === 'object' && values !== null) {
      for (const [name, value] of Object.entries(values)) if (typeof value === 'number') row[name] = value;
    }
    byKind[kind] = row;
  }
  return byKind;
}

/** The parts a status document is read from. */
export interface StatusSources {
  instance: string;
  transport: string;
  tls: boolean;
  startedAt: number;
  history: PeerHistory;
  book: HubBook;
  symbols: SymbolDirectory;
  sessions: Sessions;
  subscriptions: Subscriptions;
  slots: SlotTable;
  cursors: CursorService;
  ranks: RankService;
  events: EventRelay;
  alerts: AlertRelay;
  ledger: CollectorLedger;
  metrics: HubMetrics;
  keys: KeyRing;
  weights: WeightService;
}

/** Reads the hub's parts into {@link HubHealth} (public) and {@link HubStatus} (viewer and admin keys). */
export class StatusBuilder {
  readonly #s: StatusSources;

  constructor(sources: StatusSources) {
    this.#s = sources;
  }

  /** The public document: no addresses, keys, reports or anything of the account. */
  health(): HubHealth {
    const now = Date.now();
    return {
      scope: 'health',
      ...this.#common(now),
      peers: [...this.#s.sessions.peers()].map((p) => this.#peerHealth(p)),
    };
  }

  /** The full document: the health document plus each peer's address, key and own report. */
  full(): HubStatus {
    const now = Date.now();
    const peers: PeerStatus[] = [...this.#s.sessions.peers()].map((p) => ({
      ...this.#peerHealth(p),
      connection: p.id,
      remote: p.connection.remoteAddress,
      key: p.identity.key,
      report: p.report,
      reportedAt: p.reportedAt,
      agent: p.identity.agent ?? null,
      ...this.#s.history.of(p.identity.peer),
    }));
    return { scope: 'full', ...this.#common(now), peers, keys: this.#s.keys.state };
  }

  #peerHealth(p: PeerSession): PeerHealth {
    const s = this.#s;
    return {
      peerId: p.identity.peerId,
      peer: p.identity.peer,
      role: p.identity.role,
      kind: p.identity.kind ?? null,
      connectedAt: p.connectedAt,
      lastSeen: p.lastSeen,
      mode: s.subscriptions.isPaused(p.id) ? 'snapshot' : 'live',
      streams: s.subscriptions.streamsOf(p.id),
      slots: s.slots.slotsOf(p.id),
      messagesIn: p.traffic.messagesIn,
      bytesIn: p.traffic.bytesIn,
      messagesOut: p.traffic.messagesOut,
      bytesOut: p.traffic.bytesOut,
      ingestFrames: p.ingestFrames,
      bufferedBytes: p.connection.bufferedAmount(),
    };
  }

  #common(now: number): Omit<HubHealth, 'scope' | 'peers'> {
    const s = this.#s;
    const m = s.metrics;
    return {
      hub: s.instance,
      version: PROTOCOL_VERSION,
      transport: s.transport,
      tls: s.tls,
      software: { version: releaseVersion, node: process.versions.node },
      startedAt: s.startedAt,
      now,
      uptimeMs: now - s.startedAt,
      symbols: { count: s.symbols.names.length, active: s.symbols.active.length, version: s.symbols.version },
      pending: s.sessions.pendingCount(),
      collectors: [...s.ledger.all()].map((c) => ({
        peer: c.peer,
        peerId: c.peerId,
        kind: c.kind ?? null,
        connected: s.sessions.peerNamed(c.peer)?.identity.role === 'collector',
        frames: c.frames,
        lastIngestAt: c.lastIngestAt,
        ageMs: c.lastIngestAt === null ? null : now - c.lastIngestAt,
      })),
      streams: [...s.subscriptions.streams()].map((stream) => ({
        stream: stream.id,
        filter: stream.filter,
        wire: stream.wire,
        seq: s.subscriptions.seq(stream.id),
        subscribers: stream.subscribers.size,
      })),
      messages: { in: m.messagesIn, out: m.messagesOut, bytesIn: m.bytesIn, bytesOut: m.bytesOut },
      merge: {
        ingestFrames: m.ingestFrames,
        recordsChanged: m.recordsChanged,
        recordsUnchanged: m.recordsUnchanged,
        recordsDropped: m.recordsDropped,
        recordsRefused: m.recordsRefused,
        framesWithoutChange: m.framesWithoutChange,
        deltaFrames: m.deltaFrames,
        encodeFailures: m.encodeFailures,
        book: countersByKind(s.book.stats()),
      },
      events: {
        relayed: m.eventsRelayed,
        deliveries: m.eventDeliveries,
        subscribers: s.events.subscriberCount,
        dropped: m.eventsDropped,
      },
      alerts: s.alerts.stats(),
      rejected: Object.fromEntries(m.rejected),
      closed: Object.fromEntries(m.closes),
      snapshots: {
        requested: m.snapshotsRequested,
        onSubscribe: m.snapshotsOnSubscribe,
        periodic: m.snapshotsPeriodic,
        onResume: m.snapshotsOnResume,
        deferred: m.snapshotsDeferred,
      },
      backpressure: {
        snapshotMode: m.backpressureSnapshotMode,
        disconnects: m.backpressureDisconnects,
        resumes: m.backpressureResumes,
        inSnapshotModeNow: s.subscriptions.pausedCount(),
      },
      latencyUs: m.latency(),
      cursors: s.cursors.cursor.snapshot(),
      slots: s.slots.groups(),
      ranks: s.ranks.summary,
      weight: s.weights.status(),
    };
  }
}
