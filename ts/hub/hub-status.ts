// The hub's two status documents as schemas: the public health document and the authenticated full one.
import { z } from 'zod';
import { BUDGET_KINDS, type BudgetKind } from '../exchange/budget-kinds.js';
import { PEER_ROLES, type PeerRole, TOPIC_KINDS } from './control-messages.js';

const count = z.number().int().nonnegative();
const time = z.number().int().nonnegative();
/** Counters by stable reason label. */
const counters = z.record(z.string(), count);

export const LatencySummarySchema = z.strictObject({
  count,
  p50: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  p999: z.number().nonnegative(),
  max: z.number().nonnegative(),
});

/** A stream's filter in canonical form: sorted lists, `null` for "every". */
export const StreamFilterSchema = z.strictObject({
  symbols: z.array(count).nullable(),
  kinds: z.array(z.enum(TOPIC_KINDS as [string, ...string[]])).nullable(),
  intervals: z.array(z.string()).nullable(),
});

const role = z.enum(PEER_ROLES as [PeerRole, ...PeerRole[]]);

const budgetKind = z.enum(BUDGET_KINDS as unknown as [BudgetKind, ...BudgetKind[]]);
/** A count for every budget kind (order, account, kline, tick, income, universe). */
const perKind = z.strictObject(
  Object.fromEntries(BUDGET_KINDS.map((kind) => [kind, count])) as Record<BudgetKind, typeof count>,
);

/** One IP group's (host's) request weight, as the hub leases it (see `WeightLedger`). */
export const WeightGroupSchema = z.strictObject({
  group: z.string(),
  limit: count,
  reserve: count,
  minute: z.number().int(),
  used: count,
  granted: perKind,
  reported: count,
  waiting: perKind,
  previous: z.strictObject({ minute: z.number().int(), used: count, granted: perKind }).nullable(),
  asks: perKind,
  weight: perKind,
  held: perKind,
  maxWaitWindows: perKind,
  block: z.strictObject({ until: time, kind: z.enum(['rate-limited', 'banned']) }).nullable(),
  rateLimited: count,
  banned: count,
  members: count,
  lastRollover: z
    .strictObject({
      minute: z.number().int(),
      served: z.array(z.strictObject({ kind: budgetKind, rank: count })),
    })
    .nullable(),
});

/** One connected peer as anyone may see it: who, since when, how much traffic; no account data. */
export const PeerHealthSchema = z.strictObject({
  peerId: count,
  peer: z.string(),
  role,
  kind: z.string().nullable(),
  connectedAt: time,
  lastSeen: time,
  /** `snapshot` while back-pressure keeps its deltas back. */
  mode: z.enum(['live', 'snapshot']),
  streams: z.array(count),
  slots: z.record(z.string(), z.strictObject({ k: count, n: count })),
  messagesIn: count,
  bytesIn: count,
  messagesOut: count,
  bytesOut: count,
  ingestFrames: count,
  /** Bytes queued to the peer and not yet written to its socket. */
  bufferedBytes: count,
});

/** One connected peer in the full document: also its address, key and its own report. */
export const PeerStatusSchema = PeerHealthSchema.extend({
  connection: count,
  remote: z.string(),
  /** The id of the key it authenticated with. */
  key: z.string(),
  /** The peer's own counters as it last reported them (a trader's include its wallet and positions). */
  report: z.record(z.string(), z.unknown()).nullable(),
  reportedAt: time.nullable(),
  /** What the peer said of its process in `auth` (host, Tributary version, Node version), if anything. */
  agent: z
    .strictObject({ host: z.string(), version: z.string(), node: z.string(), pid: count, startedAt: time })
    .nullable(),
  /** Since the hub started: times this peer name authenticated, and times its process changed (restarts). */
  connections: count,
  restarts: count,
});

const healthFields = {
  hub: z.string(),
  /** The control protocol version. */
  version: count,
  transport: z.string(),
  /** True when the hub speaks TLS. */
  tls: z.boolean(),
  /** The hub's own release and Node version. */
  software: z.strictObject({ version: z.string(), node: z.string() }),
  startedAt: time,
  now: time,
  uptimeMs: count,
  symbols: z.strictObject({ count, active: count, version: count }),
  /** Connections not yet authenticated. */
  pending: count,
  /** Data freshness per collector, kept after it leaves. */
  collectors: z.array(
    z.strictObject({
      peer: z.string(),
      peerId: count,
      kind: z.string().nullable(),
      connected: z.boolean(),
      frames: count,
      lastIngestAt: time.nullable(),
      ageMs: z.number().int().nullable(),
    }),
  ),
  streams: z.array(
    z.strictObject({
      stream: count,
      filter: StreamFilterSchema,
      /** The stream's Delta frame encoding: 1 (TRB1 frames), 2 (compact frames) or 3 (compact frames with tick rows); hubs before protocol 5 say none: 1. */
      wire: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
      seq: count,
      subscribers: count,
    }),
  ),
  messages: z.strictObject({ in: count, out: count, bytesIn: count, bytesOut: count }),
  merge: z.strictObject({
    ingestFrames: count,
    recordsChanged: count,
    recordsUnchanged: count,
    recordsDropped: count,
    /** Records the book refused as invalid (by reason in `rejected`, `invalid_record_<reason>`). */
    recordsRefused: count,
    framesWithoutChange: count,
    deltaFrames: count,
    encodeFailures: count,
    /** The merge book's own counters, by entity kind. */
    book: z.record(z.string(), z.record(z.string(), z.number())),
  }),
  /** Relayed exchange events (order updates). `dropped`: deliveries skipped while in snapshot mode. */
  events: z.strictObject({ relayed: count, deliveries: count, subscribers: count, dropped: count }),
  /** Alerts relayed from every process to the recorder; `kept`: the recent ones a returning subscriber replays. */
  alerts: z.strictObject({ relayed: count, deliveries: count, subscribers: count, kept: count }),
  /** Refused inputs by reason. */
  rejected: counters,
  /** Connections the hub closed, by reason. */
  closed: counters,
  snapshots: z.strictObject({
    requested: count,
    onSubscribe: count,
    periodic: count,
    onResume: count,
    /** Requests answered later (at resume) because the peer had not read the last snapshot yet. */
    deferred: count,
  }),
  backpressure: z.strictObject({
    snapshotMode: count,
    disconnects: count,
    resumes: count,
    inSnapshotModeNow: count,
  }),
  latencyUs: LatencySummarySchema,
  cursors: counters,
  slots: z.record(z.string(), z.array(count)),
  ranks: z.strictObject({ count, updatedAt: time.nullable() }),
  /** Request weight per IP group (host): used this minute against the limit, by kind. */
  weight: z.array(WeightGroupSchema),
};

/** `GET /status`: the public health document. Holds no account data and no peer reports. */
export const HubHealthSchema = z.strictObject({
  scope: z.literal('health'),
  ...healthFields,
  peers: z.array(PeerHealthSchema),
});

/** `GET /status/full` (viewer and admin keys): the health document plus peers' reports, addresses and keys. */
export const HubStatusSchema = z.strictObject({
  scope: z.literal('full'),
  ...healthFields,
  peers: z.array(PeerStatusSchema),
  keys: z.strictObject({
    active: count,
    revoked: count,
    loadedAt: time,
    failedLoads: count,
    lastError: z.string().nullable(),
  }),
});

export type WeightGroup = z.infer<typeof WeightGroupSchema>;
export type LatencySummary = z.infer<typeof LatencySummarySchema>;
export type PeerHealth = z.infer<typeof PeerHealthSchema>;
export type PeerStatus = z.infer<typeof PeerStatusSchema>;
export type HubHealth = z.infer<typeof HubHealthSchema>;
export type HubStatus = z.infer<typeof HubStatusSchema>;
