// The hub's JSON control messages: their types and the strict parser for what peers send.

import { type BudgetKind, isBudgetKind } from '../exchange/budget-kinds.js';
import type { TopicKind, WireVersion } from '../native/hub.js';
import { type IntervalName, isIntervalName as isKnownInterval } from '../native/interval.js';
import { type AlertWire, parseAlertWires, type RelayedAlert } from './relayed-alerts.js';

/**
 * Version of the control protocol; `hello` and `welcome` carry it. 2: per-peer keys (`auth` names
 * its key, the key gives the role), `error` with `hint` and `frame`, two status documents. 3: `auth`
 * may carry `agent` (a peer sends it only to a hub of version 3 or later, which a version 2 hub
 * would refuse as an unknown field). 4: `weight.lease` and `weight.block`, one request-weight
 * budget per IP group (a peer leases only from a hub of version 4 or later). 5: `alerts.publish`,
 * `alerts.subscribe` and the `alerts` push (a peer publishes alerts only to a hub of version 5 or
 * later); `subscribe` may carry `wire` (the Delta frame encoding the subscriber speaks: 2 for
 * compact frames; sent only to a hub of version 5 or later) and `subscribed` says the stream's.
 * 6: `subscribe.wire` may be 3 (compact frames with compact tick rows; a peer asks a hub before
 * version 6 for 2 instead).
 */
export const PROTOCOL_VERSION = 6;

/** The first protocol version with `weight.lease` and `weight.block`. */
export const WEIGHT_LEASE_VERSION = 4;

/** The first protocol version with `subscribe.wire` (compact Delta frames). */
export const WIRE_SUBSCRIBE_VERSION = 5;

/** The first protocol version with `subscribe.wire` 3 (compact tick rows). */
export const WIRE_TICK_ROWS_VERSION = 6;

/** The first protocol version with `alerts.publish`, `alerts.subscribe` and the `alerts` push. */
export const ALERTS_VERSION = 5;

/** What the exchange refused an IP with: a 429 rate limit or a 418 ban. */
export type IpBlockKind = 'rate-limited' | 'banned';

/** A `weight.lease` as a peer sends it: one request's weight in the exchange minute of `at`. */
export interface WeightLeaseMessage {
  /** The IP group (its host, unless configured) whose processes share one budget. */
  group: string;
  kind: BudgetKind;
  weight: number;
  /** The peer's estimate of the exchange's time (Unix ms). */
  at: number;
  /** The weight per minute the peer paces the IP to, and the part of it only `order` may take. */
  limit: number;
  reserve: number;
  /** The exchange's `X-MBX-USED-WEIGHT-1M` the peer last saw in that minute, or null. */
  used: number | null;
}

/** A `weight.block`: the exchange refused the group's IP until `until` (exchange Unix ms). */
export interface WeightBlockMessage {
  group: string;
  until: number;
  kind: IpBlockKind;
  /** What was refused, for the logs (≤ 200 characters). */
  reason: string;
}

/**
 * What a peer may do, given by its key: collectors ingest and run the collector services; traders
 * and viewers subscribe; viewers and admins read the full status; admins may also set the symbol
 * universe and the ranks by hand.
 */
export type PeerRole = 'collector' | 'trader' | 'viewer' | 'admin';

export const PEER_ROLES: readonly PeerRole[] = ['collector', 'trader', 'viewer', 'admin'];

/** The Delta frame encodings (`subscribe.wire`) this hub speaks, oldest first. */
export const WIRE_VERSIONS: readonly WireVersion[] = [1, 2, 3];

export const TOPIC_KINDS: readonly TopicKind[] = ['kline', 'tick', 'position', 'balance', 'banlist', 'mark'];

/** `'*'` or a list. */
export type Selection<T> = '*' | T[];

/**
 * A subscription as a peer writes it: symbol names, kinds and interval names, and the Delta frame
 * encoding it speaks (`wire`, default 1; docs/protocol.md, Compact Delta frames).
 */
export interface SubscriptionRequest {
  symbols: Selection<string>;
  kinds: Selection<TopicKind>;
  intervals: Selection<IntervalName>;
  wire?: WireVersion;
}

/**
 * What a peer says about its own process in `auth` (optional; shown in the full status, not
 * covered by the MAC: it is information, never a credential).
 */
export interface PeerAgent {
  /** The machine it runs on (the deploy's host name, else the OS host name). */
  host: string;
  /** Tributary's package version. */
  version: string;
  /** Node.js version. */
  node: string;
  pid: number;
  /** When the process started (Unix ms): a new value for the same peer name is a restart. */
  startedAt: number;
}

/** Messages a peer sends (text frames). `id`, when given, is echoed in the reply. */
export type ClientMessage =
  | { op: 'auth'; id?: number; key: string; peer: string; kind?: string; mac: string; agent?: PeerAgent }
  | { op: 'ping'; id?: number }
  | { op: 'symbols'; id?: number }
  | { op: 'symbols.set'; id?: number; symbols: string[] }
  | { op: 'cursor.next'; id?: number; kind: string; count?: number }
  | { op: 'slot.register'; id?: number; group: string }
  | { op: 'slot.release'; id?: number; group: string }
  | ({ op: 'subscribe'; id?: number } & SubscriptionRequest)
  | { op: 'unsubscribe'; id?: number; stream: number }
  | { op: 'snapshot'; id?: number; stream: number }
  | { op: 'ranks'; id?: number; top?: number }
  | { op: 'ranks.set'; id?: number; symbols: string[] }
  | { op: 'status'; id?: number }
  | { op: 'events.publish'; id?: number; events: string[] }
  | { op: 'events.subscribe'; id?: number }
  | { op: 'alerts.publish'; id?: number; alerts: AlertWire[] }
  | { op: 'alerts.subscribe'; id?: number; after?: number }
  | { op: 'report'; id?: number; status: Record<string, unknown> }
  | ({ op: 'weight.lease'; id?: number } & WeightLeaseMessage)
  | ({ op: 'weight.block'; id?: number } & WeightBlockMessage);

export type ClientOp = ClientMessage['op'];

/** Error codes of `error` replies (stable labels, also the counters' reasons). */
export type ControlErrorCode =
  | 'bad_json'
  | 'unknown_op'
  | 'bad_field'
  | 'not_authenticated'
  | 'already_authenticated'
  | 'forbidden'
  | 'unknown_symbol'
  | 'unknown_stream'
  | 'no_symbols'
  | 'throttled'
  | 'oversized'
  | 'bad_frame'
  | 'invalid_record'
  | 'internal';

/** What a peer should do about each error (the `hint` of an `error` message). */
export const ERROR_HINTS: Readonly<Record<ControlErrorCode, string>> = {
  bad_json: 'send each control message as one JSON object text (docs/protocol.md, Control ops)',
  unknown_op: 'use only the ops of docs/protocol.md; the message was ignored',
  bad_field: 'send exactly the fields of the op with valid values; the message was ignored',
  not_authenticated:
    'check the key id and secret (`tributary keys list` on the hub machine) and answer hello with auth',
  already_authenticated: 'send auth once, as the first message of a connection',
  forbidden: "this key's role may not do this; use a key of the right role (docs/protocol.md, Roles)",
  unknown_symbol: 'wait for the next symbols push (the universe collector registers symbols), then retry',
  unknown_stream: 'subscribe first; stream ids change when the hub restarts',
  no_symbols: 'wait for the universe collector to register the symbols, then retry',
  throttled: 'slow down: messages over the budget are dropped; batch records into fewer frames',
  oversized:
    'split the data into messages under maxMessageBytes (welcome); the message was dropped whole (docs/protocol.md, Batching)',
  bad_frame: 'fix the frame encoding; the whole frame was dropped and nothing of it merged',
  invalid_record:
    'the named records were dropped, the rest of the frame merged; check their symbol ids, values and times',
  internal: 'a hub failure, logged at the hub; retry later and report it if it persists',
};

/** A control message that could not be accepted. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly code: ControlErrorCode,
    message: string,
    /** The request's id, when it could be read. */
    readonly id?: number,
  ) {
    super(message);
  }
}

/** Longest symbol or asset name (bytes of UTF-8), as in the native core. */
const MAX_NAME_BYTES = 31;
/** Longest list a peer may send (symbols, ranks, subscriptions). */
export const MAX_LIST_LENGTH = 10_000;
const PEER_NAME = /^[A-Za-z0-9._:@-]{1,64}$/;
const KIND_NAME = /^[A-Za-z0-9._-]{1,32}$/;
const HEX_MAC = /^[0-9a-f]{64}$/;
/** A key id: what `tributary keys issue` prints before the colon. */
export const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Most exchange events in one `events.publish`, and the longest one (characters of JSON text). */
export const MAX_EVENTS_PER_MESSAGE = 1000;
export const MAX_EVENT_CHARS = 64 * 1024;
/**
 * Largest `report` status object (characters of its JSON): a trader of the whole universe lists
 * hundreds of positions and ladders (16 KiB was passed at 600 symbols).
 */
export const MAX_REPORT_CHARS = 256 * 1024;

const ALLOWED_KEYS: Record<ClientOp, readonly string[]> = {
  auth: ['key', 'peer', 'kind', 'mac', 'agent'],
  ping: [],
  symbols: [],
  'symbols.set': ['symbols'],
  'cursor.next': ['kind', 'count'],
  'slot.register': ['group'],
  'slot.release': ['group'],
  subscribe: ['symbols', 'kinds', 'intervals', 'wire'],
  unsubscribe: ['stream'],
  snapshot: ['stream'],
  ranks: ['top'],
  'ranks.set': ['symbols'],
  status: [],
  'events.publish': ['events'],
  'events.subscribe': [],
  'alerts.publish': ['alerts'],
  'alerts.subscribe': ['after'],
  report: ['status'],
  'weight.lease': ['group', 'kind', 'weight', 'at', 'limit', 'reserve', 'used'],
  'weight.block': ['group', 'until', 'kind', 'reason'],
};

function isOp(op: unknown): op is ClientOp {
  return typeof op === 'string' && Object.hasOwn(ALLOWED_KEYS, op);
}

/** Whether `name` can be a symbol name (non-empty, ≤ 31 UTF-8 bytes, no whitespace or controls). */
export function isSymbolName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    Buffer.byteLength(name) <= MAX_NAME_BYTES &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    !/[\s\u0000-\u001f\u007f]/.test(name)
  );
}

const AGENT_TEXT = /^[A-Za-z0-9._:+@-]{1,64}$/;
/** Largest weight, limit or reserve a `weight.lease` may name. */
const MAX_WEIGHT = 10_000_000;
/** Longest `reason` of a `weight.block`. */
export const MAX_BLOCK_REASON_CHARS = 200;

/**
 * The process start times an `agent` may claim: Unix ms from 2000-01-01 to before 2100-01-01, so a
 * peer stamping µs (1.7e15) or seconds (1.7e9) is refused instead of shown as started in year
 * 55,000 or in 1970, with an uptime and restart count to match.
 */
const AGENT_STARTED_AT = { from: Date.UTC(2000, 0, 1), below: Date.UTC(2100, 0, 1) } as const;

/** An `auth` message's `agent`: every field present and of its shape, nothing else. */
function parseAgent(value: unknown, f: Fields): PeerAgent {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw f.fail('agent must be an object');
  const a = value as Record<string, unknown>;
  const keys = Object.keys(a).sort().join(',');
  if (keys !== 'host,node,pid,startedAt,version') {
    throw f.fail('agent must have exactly host, version, node, pid and startedAt');
  }
  const { host, version, node, pid, startedAt } = a;
  if (typeof host !== 'string' || !AGENT_TEXT.test(host)) throw f.fail('agent.host must be a host name');
  if (typeof version !== 'string' || !AGENT_TEXT.test(version))
    throw f.fail('agent.version must be a version');
  if (typeof node !== 'string' || !AGENT_TEXT.test(node)) throw f.fail('agent.node must be a version');
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid < 0)
    throw f.fail('agent.pid must be an integer');
  if (
    typeof startedAt !== 'number' ||
    !Number.isSafeInteger(startedAt) ||
    startedAt < AGENT_STARTED_AT.from ||
    startedAt >= AGENT_STARTED_AT.below
  ) {
    throw f.fail(
      `agent.startedAt must be Unix milliseconds from 2000-01-01 to before 2100-01-01, got ${String(startedAt).slice(0, 32)}`,
    );
  }
  return { host, version, node, pid, startedAt };
}

class Fields {
  constructor(
    private readonly body: Record<string, unknown>,
    private readonly id: number | undefined,
  ) {}

  fail(message: string): ControlError {
    return new ControlError('bad_field', message, this.id);
  }

  string(key: string, pattern: RegExp): string {
    const value = this.body[key];
    if (typeof value !== 'string' || !pattern.test(value))
      throw this.fail(`${key} must match ${pattern.source}`);
    return value;
  }

  integer(key: string, min: number, max: number): number {
    const value = this.body[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      throw this.fail(`${key} must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  optionalString(key: string, pattern: RegExp): string | undefined {
    return this.body[key] === undefined ? undefined : this.string(key, pattern);
  }

  streamId(key: string): number {
    const value = this.body[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 0xffff_ffff) {
      throw this.fail(`${key} must be a stream id (1 … 2^32−1)`);
    }
    return value;
  }

  symbolList(key: string): string[] {
    const value = this.body[key];
    if (!Array.isArray(value) || value.length > MAX_LIST_LENGTH) {
      throw this.fail(`${key} must be a list of at most ${MAX_LIST_LENGTH} symbol names`);
    }
    for (const name of value) {
      if (!isSymbolName(name)) throw this.fail(`${key} holds an invalid symbol name`);
    }
    return value as string[];
  }

  selection<T extends string>(key: string, check: (item: unknown) => item is T, what: string): Selection<T> {
    const value = this.body[key];
    if (value === '*') return '*';
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_LIST_LENGTH) {
      throw this.fail(`${key} must be "*" or a non-empty list of ${what}`);
    }
    for (const item of value) {
      if (!check(item))
        throw this.fail(`${key} holds an invalid ${what}: ${JSON.stringify(item).slice(0, 40)}`);
    }
    return value as T[];
  }
}

function isTopicKind(value: unknown): value is TopicKind {
  return typeof value === 'string' && (TOPIC_KINDS as readonly string[]).includes(value);
}

function isIntervalName(value: unknown): value is IntervalName {
  return typeof value === 'string' && isKnownInterval(value);
}

/** Whether `value` names a role. */
export function isPeerRole(value: unknown): value is PeerRole {
  return typeof value === 'string' && (PEER_ROLES as readonly string[]).includes(value);
}

/** Whether `value` can be a peer name (`[A-Za-z0-9._:@-]{1,64}`). */
export function isPeerName(value: unknown): value is string {
  return typeof value === 'string' && PEER_NAME.test(value);
}

/**
 * Parses one text frame strictly: a JSON object with a known `op`, an optional integer `id`,
 * and exactly the fields of that op with valid values. Anything else is a {@link ControlError}
 * (returned, not thrown) carrying the id when it could be read.
 */
export function parseClientMessage(text: string): ClientMessage | ControlError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return new ControlError(
      'bad_json',
      `not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return new ControlError('bad_json', 'a control message is a JSON object');
  }
  const record = body as Record<string, unknown>;
  const rawId = record.id;
  let id: number | undefined;
  if (rawId !== undefined) {
    if (typeof rawId !== 'number' || !Number.isSafeInteger(rawId) || rawId < 0) {
      return new ControlError('bad_field', 'id must be a non-negative integer');
    }
    id = rawId;
  }
  const op = record.op;
  if (!isOp(op)) return new ControlError('unknown_op', `unknown op ${JSON.stringify(op)?.slice(0, 40)}`, id);
  const allowed = ALLOWED_KEYS[op];
  for (const key of Object.keys(record)) {
    if (key !== 'op' && key !== 'id' && !allowed.includes(key)) {
      return new ControlError('bad_field', `${op} has no field ${JSON.stringify(key.slice(0, 40))}`, id);
    }
  }
  const f = new Fields(record, id);
  const withId = <T extends object>(message: T): T & { id?: number } =>
    id === undefined ? message : { ...message, id };
  try {
    switch (op) {
      case 'auth': {
        const key = f.string('key', KEY_ID);
        const peer = f.string('peer', PEER_NAME);
        const mac = f.string('mac', HEX_MAC);
        const kind = f.optionalString('kind', KIND_NAME);
        const agent = record.agent === undefined ? undefined : parseAgent(record.agent, f);
        return withId({
          op,
          key,
          peer,
          mac,
          ...(kind === undefined ? {} : { kind }),
          ...(agent === undefined ? {} : { agent }),
        });
      }
      case 'ping':
      case 'symbols':
      case 'status':
      case 'events.subscribe':
        return withId({ op });
      case 'report': {
        const status = record.status;
        if (typeof status !== 'object' || status === null || Array.isArray(status)) {
          throw f.fail('status must be an object');
        }
        if (JSON.stringify(status).length > MAX_REPORT_CHARS) {
          throw f.fail(`status must be at most ${MAX_REPORT_CHARS} characters of JSON`);
        }
        return withId({ op, status: status as Record<string, unknown> });
      }
      case 'events.publish': {
        const events = record.events;
        if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_MESSAGE) {
          throw f.fail(`events must be a list of 1 … ${MAX_EVENTS_PER_MESSAGE} exchange events`);
        }
        for (const event of events) {
          if (typeof event !== 'string' || event.length > MAX_EVENT_CHARS || !event.startsWith('{')) {
            throw f.fail(`events must hold JSON object texts of at most ${MAX_EVENT_CHARS} characters`);
          }
        }
        return withId({ op, events: events as string[] });
      }
      case 'alerts.publish': {
        const alerts = parseAlertWires(record.alerts);
        if (typeof alerts === 'string') throw f.fail(alerts);
        return withId({ op, alerts });
      }
      case 'alerts.subscribe': {
        const after = record.after;
        if (after !== undefined && (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0)) {
          throw f.fail('after must be a non-negative integer (a relayed alert seq)');
        }
        return withId(after === undefined ? { op } : { op, after });
      }
      case 'weight.lease': {
        const kind = record.kind;
        if (!isBudgetKind(kind))
          throw f.fail('kind must be a budget kind (order, account, kline, tick, income, universe)');
        const limit = f.integer('limit', 1, MAX_WEIGHT);
        const used = record.used === null ? null : f.integer('used', 0, MAX_WEIGHT);
        return withId({
          op,
          group: f.string('group', AGENT_TEXT),
          kind,
          weight: f.integer('weight', 1, MAX_WEIGHT),
          at: f.integer('at', 0, Number.MAX_SAFE_INTEGER),
          limit,
          reserve: f.integer('reserve', 0, limit),
          used,
        });
      }
      case 'weight.block': {
        const kind = record.kind;
        if (kind !== 'rate-limited' && kind !== 'banned') throw f.fail('kind must be rate-limited or banned');
        const reason = record.reason;
        if (typeof reason !== 'string' || reason.length > MAX_BLOCK_REASON_CHARS) {
          throw f.fail(`reason must be a text of at most ${MAX_BLOCK_REASON_CHARS} characters`);
        }
        return withId({
          op,
          group: f.string('group', AGENT_TEXT),
          until: f.integer('until', 0, Number.MAX_SAFE_INTEGER),
          kind,
          reason,
        });
      }
      case 'symbols.set':
      case 'ranks.set':
        return withId({ op, symbols: f.symbolList('symbols') });
      case 'cursor.next': {
        // `count`: wrap at a list of the poller's own (a hot-kline list) instead of the universe.
        const count = record.count;
        if (
          count !== undefined &&
          (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_LIST_LENGTH)
        ) {
          throw f.fail(`count must be an integer from 1 to ${MAX_LIST_LENGTH}`);
        }
        const kind = f.string('kind', KIND_NAME);
        return withId(count === undefined ? { op, kind } : { op, kind, count });
      }
      case 'slot.register':
      case 'slot.release':
        return withId({ op, group: f.string('group', KIND_NAME) });
      case 'subscribe': {
        const wire = record.wire;
        if (wire !== undefined && !(WIRE_VERSIONS as readonly unknown[]).includes(wire)) {
          throw f.fail(
            `wire must be one of ${WIRE_VERSIONS.join(', ')} (the Delta frame encodings this hub speaks)`,
          );
        }
        const request = {
          op,
          symbols: f.selection('symbols', isSymbolName, 'symbol name'),
          kinds: f.selection('kinds', isTopicKind, 'kind'),
          intervals: f.selection('intervals', isIntervalName, 'interval'),
        };
        return withId(wire === undefined ? request : { ...request, wire: wire as WireVersion });
      }
      case 'unsubscribe':
      case 'snapshot':
        return withId({ op, stream: f.streamId('stream') });
      case 'ranks': {
        const top = record.top;
        if (top !== undefined && (typeof top !== 'number' || !Number.isInteger(top) || top < 1)) {
          throw f.fail('top must be a positive integer');
        }
        return withId(top === undefined ? { op } : { op, top });
      }
    }
  } catch (error) {
    if (error instanceof ControlError) return error;
    throw error;
  }
}

/** Messages the hub sends (text frames). Replies echo the request's `id`. */
export type ServerMessage =
  | { op: 'hello'; nonce: string; version: number; hub: string }
  | {
      op: 'welcome';
      id?: number;
      peerId: number;
      peer: string;
      /** The role the peer's key gives it. */
      role: PeerRole;
      /** The id of the key it authenticated with. */
      key: string;
      version: number;
      hub: string;
      symbols: string[];
      symbolsVersion: number;
      heartbeatMs: number;
      idleTimeoutMs: number;
      /** Largest message the hub processes; bigger ones are refused (`oversized`). */
      maxMessageBytes: number;
    }
  | { op: 'pong'; id?: number; time: number }
  | { op: 'symbols'; id?: number; symbols: string[]; version: number }
  | {
      op: 'cursor';
      id?: number;
      kind: string;
      index: number;
      count: number;
      symbolId: number;
      symbol: string;
    }
  | { op: 'slot'; id?: number; group: string; k: number; n: number }
  /** `wire`: the stream's Delta frame encoding (absent from hubs before protocol 5: 1). */
  | { op: 'subscribed'; id?: number; stream: number; seq: number; wire?: WireVersion }
  | { op: 'unsubscribed'; id?: number; stream: number }
  | { op: 'snapshot'; id?: number; stream: number; seq: number }
  | { op: 'ranks'; id?: number; symbols: string[]; updatedAt: number | null }
  | { op: 'ok'; id?: number }
  | { op: 'heartbeat'; time: number }
  | { op: 'mode'; mode: 'snapshot' | 'live'; reason: string }
  /** `full` for viewer and admin keys, `health` (the public document) for the others. */
  | { op: 'status'; id?: number; scope: 'health' | 'full'; status: unknown }
  /** Exchange user-data events (order updates) relayed from a user-stream collector; `seq` counts relays. */
  | { op: 'events'; seq: number; events: string[] }
  /** Alerts raised by any process, relayed to `alerts.subscribe`rs (the recorder keeps them). */
  | { op: 'alerts'; alerts: RelayedAlert[] }
  /** The answer to a `weight.lease`: the weight is the peer's in exchange minute `minute` (ms / 60 000). */
  | { op: 'weight.grant'; id?: number; minute: number }
  /** Pushed to every process leasing for `group` when one of them was refused by the exchange. */
  | ({ op: 'weight.block' } & WeightBlockMessage)
  | ServerError;

/**
 * A refusal. `hint` says what to do; `frame` is the 1-based index of the binary message it is
 * about, counted over every binary message the peer sent on this connection; `records` how many
 * records of that frame were refused and `reasons` their count by reason (invalid_record);
 * `suppressed` how many error messages were held back since the previous one (at most 20 a second
 * go to a peer).
 */
export interface ServerError {
  op: 'error';
  id?: number;
  code: ControlErrorCode;
  message: string;
  hint: string;
  frame?: number;
  records?: number;
  reasons?: Record<string, number>;
  suppressed?: number;
}

export type ServerOp = ServerMessage['op'];

/** Messages that answer a request (and so may carry its id); errors go through the hub's input policing. */
export type ReplyMessage = Exclude<
  ServerMessage,
  { op: 'hello' | 'heartbeat' | 'mode' | 'events' | 'alerts' | 'weight.block' | 'error' }
>;

const SERVER_OPS: readonly ServerOp[] = [
  'hello',
  'welcome',
  'pong',
  'symbols',
  'cursor',
  'slot',
  'subscribed',
  'unsubscribed',
  'snapshot',
  'ranks',
  'ok',
  'heartbeat',
  'mode',
  'status',
  'events',
  'alerts',
  'weight.grant',
  'weight.block',
  'error',
];

/** A hub message the client could not read. */
export class ServerMessageError extends Error {
  override readonly name = 'ServerMessageError';
}

/**
 * Reads a hub text frame: a JSON object with a known `op`. The hub is trusted more than peers are,
 * so only the envelope is checked here; callers read the fields their op defines.
 */
export function parseServerMessage(text: string): ServerMessage | ServerMessageError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return new ServerMessageError(
      `hub sent invalid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return new ServerMessageError('hub sent a non-object message');
  }
  const op = (body as { op?: unknown }).op;
  if (typeof op !== 'string' || !(SERVER_OPS as readonly string[]).includes(op)) {
    return new ServerMessageError(`hub sent unknown op ${JSON.stringify(op)?.slice(0, 40)}`);
  }
  return body as ServerMessage;
}
