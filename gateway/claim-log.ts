// The gateway's durable claim log: every claim, send and outcome appended as a JSON line and fsynced before the gateway acts on it.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { OrderJson } from '../ts/gateway/gateway-protocol.js';
import type { Logger } from '../ts/log/logger.js';
import { replaceFileDurably } from '../ts/process/durable-file.js';

/** The order a claim places (the member's share in split mode). */
const ClaimOrderSchema = z.strictObject({
  side: z.enum(['BUY', 'SELL']),
  type: z.enum(['MARKET', 'LIMIT']),
  quantity: z.string(),
  price: z.string().optional(),
  timeInForce: z.enum(['GTC', 'IOC', 'FOK', 'GTX']).optional(),
  reduceOnly: z.boolean(),
});
export type ClaimOrder = z.infer<typeof ClaimOrderSchema>;

const OrderJsonSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

/** How a claim ended. */
const OutcomeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('placed'), order: OrderJsonSchema }),
  z.strictObject({
    kind: z.literal('rejected'),
    exchange: z.strictObject({ status: z.number(), code: z.number(), msg: z.string() }),
  }),
  z.strictObject({ kind: z.literal('expired') }),
  z.strictObject({ kind: z.literal('nothing') }),
]);
export type ClaimOutcome = z.infer<typeof OutcomeSchema>;

const LineSchema = z.discriminatedUnion('t', [
  z.strictObject({
    t: z.literal('claim'),
    key: z.string(),
    symbol: z.string(),
    clientOrderId: z.string(),
    member: z.string().nullable(),
    exchangeClientOrderId: z.string(),
    order: ClaimOrderSchema,
    peer: z.string(),
    at: z.number(),
  }),
  /** Written just before the order request leaves: from here on the order may exist. */
  z.strictObject({ t: z.literal('send'), key: z.string(), at: z.number() }),
  /** The exchange refused the request without placing it (rate limit, ban): it may be sent again. */
  z.strictObject({ t: z.literal('refused'), key: z.string(), at: z.number(), reason: z.string() }),
  z.strictObject({ t: z.literal('done'), key: z.string(), at: z.number(), outcome: OutcomeSchema }),
]);
type Line = z.infer<typeof LineSchema>;

/** One claim as the gateway knows it. */
export interface Claim {
  readonly key: string;
  readonly symbol: string;
  /** The trader's (decision's) client id. */
  readonly clientOrderId: string;
  /** Split mode: the member whose share this is; null in first mode. */
  readonly member: string | null;
  /** The client id the order carries at the exchange. */
  readonly exchangeClientOrderId: string;
  readonly order: ClaimOrder;
  /** The peer whose request claimed it. */
  readonly peer: string;
  readonly claimedAt: number;
  /** When the last send left without a refusal after it (the order may exist); null when none. */
  sentAt: number | null;
  outcome: ClaimOutcome | null;
}

/** The claim key: one per decision's order (first mode), one per decision's order and member (split). */
export function claimKey(symbol: string, clientOrderId: string, member: string | null): string {
  return `${symbol}|${clientOrderId}|${member ?? ''}`;
}

/** Counters of the log. */
export interface ClaimLogStats {
  /** Claims held (loaded and new). */
  claims: number;
  pending: number;
  /** Lines that could not be read at start (a torn last line after a crash, or damage). */
  badLines: number;
  /** Claims dropped at start for being older than the retention. */
  dropped: number;
}

/**
 * The claims, kept in memory and in an append-only file. Every change is written and fsynced
 * before the call returns, so what the gateway acted on survives a SIGKILL or a power cut: a claim
 * is on disk before its order is sent, a send is on disk before the request leaves. At start the
 * file is read (a torn last line is skipped and counted) and rewritten without the claims older
 * than `retentionMs`.
 */
export class ClaimLog {
  readonly path: string;
  readonly #claims = new Map<string, Claim>();
  readonly #log: Logger;
  #fd: number;
  readonly stats: ClaimLogStats = { claims: 0, pending: 0, badLines: 0, dropped: 0 };

  constructor(path: string, logger: Logger, retentionMs: number, now: number = Date.now()) {
    this.path = path;
    this.#log = logger;
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) this.#load(now - retentionMs);
    this.#rewrite();
    this.#fd = openSync(path, 'a', 0o600);
    this.#count();
  }

  get(key: string): Claim | undefined {
    return this.#claims.get(key);
  }

  /** Claims without an outcome (to be placed or resolved). */
  pending(): Claim[] {
    return [...this.#claims.values()].filter((c) => c.outcome === null);
  }

  /** Records a new claim (durably) and returns it. */
  claim(fields: Omit<Claim, 'sentAt' | 'outcome' | 'key'>): Claim {
    const key = claimKey(fields.symbol, fields.clientOrderId, fields.member);
    const line: Line = {
      t: 'claim',
      key,
      symbol: fields.symbol,
      clientOrderId: fields.clientOrderId,
      member: fields.member,
      exchangeClientOrderId: fields.exchangeClientOrderId,
      order: fields.order,
      peer: fields.peer,
      at: fields.claimedAt,
    };
    this.#append(line);
    const claim = this.#apply(line) as Claim;
    this.#count();
    return claim;
  }

  /** Records that the order request is about to leave. */
  sending(claim: Claim, at: number): void {
    this.#append({ t: 'send', key: claim.key, at });
    claim.sentAt = at;
  }

  /** Records that the exchange refused the request without placing it. */
  refused(claim: Claim, at: number, reason: string): void {
    this.#append({ t: 'refused', key: claim.key, at, reason });
    claim.sentAt = null;
  }

  /** Records how the claim ended. */
  finish(claim: Claim, at: number, outcome: ClaimOutcome): void {
    this.#append({ t: 'done', key: claim.key, at, outcome });
    claim.outcome = outcome;
    this.#count();
  }

  close(): void {
    closeSync(this.#fd);
  }

  #append(line: Line): void {
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
    fsyncSync(this.#fd);
  }

  #apply(line: Line): Claim | undefined {
    if (line.t === 'claim') {
      const claim: Claim = {
        key: line.key,
        symbol: line.symbol,
        clientOrderId: line.clientOrderId,
        member: line.member,
        exchangeClientOrderId: line.exchangeClientOrderId,
        order: line.order,
        peer: line.peer,
        claimedAt: line.at,
        sentAt: null,
        outcome: null,
      };
      this.#claims.set(line.key, claim);
      return claim;
    }
    const claim = this.#claims.get(line.key);
    if (claim === undefined) return undefined;
    if (line.t === 'send') claim.sentAt = line.at;
    else if (line.t === 'refused') claim.sentAt = null;
    else claim.outcome = line.outcome;
    return claim;
  }

  #load(oldest: number): void {
    const lines = readFileSync(this.path, 'utf8').split('\n');
    lines.forEach((text, index) => {
      if (text.trim() === '') return;
      let parsed: ReturnType<typeof LineSchema.safeParse>;
      try {
        parsed = LineSchema.safeParse(JSON.parse(text));
      } catch {
        parsed = { success: false } as ReturnType<typeof LineSchema.safeParse>;
      }
      if (!parsed.success) {
        this.stats.badLines += 1;
        // A crash mid-write leaves a torn last line: its claim never reached disk, so it was never acted on.
        const last = index >= lines.length - 2;
        this.#log[last ? 'warn' : 'error']('claim log line unreadable; skipped', {
          file: this.path,
          line: index + 1,
          torn: last,
        });
        return;
      }
      this.#apply(parsed.data);
    });
    for (const [key, claim] of this.#claims) {
      if (claim.claimedAt < oldest && claim.outcome !== null) {
        this.#claims.delete(key);
        this.stats.dropped += 1;
      }
    }
    this.#log.info('claim log loaded', {
      file: this.path,
      claims: this.#claims.size,
      pending: this.pending().length,
      badLines: this.stats.badLines,
      dropped: this.stats.dropped,
    });
  }

  /** Writes the claims held as a fresh file (see `replaceFileDurably`). */
  #rewrite(): void {
    const lines: Line[] = [];
    for (const c of this.#claims.values()) {
      lines.push({
        t: 'claim',
        key: c.key,
        symbol: c.symbol,
        clientOrderId: c.clientOrderId,
        member: c.member,
        exchangeClientOrderId: c.exchangeClientOrderId,
        order: c.order,
        peer: c.peer,
        at: c.claimedAt,
      });
      if (c.sentAt !== null) lines.push({ t: 'send', key: c.key, at: c.sentAt });
      if (c.outcome !== null) lines.push({ t: 'done', key: c.key, at: c.claimedAt, outcome: c.outcome });
    }
    replaceFileDurably(this.path, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  }

  #count(): void {
    this.stats.claims = this.#claims.size;
    this.stats.pending = this.pending().length;
  }
}

/** The order JSON of a placed outcome. */
export function placedOrder(outcome: ClaimOutcome | null): OrderJson | undefined {
  return outcome?.kind === 'placed' ? outcome.order : undefined;
}
