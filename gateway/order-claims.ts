// Claims and places orders: the first request for a signal's order claims it (durably) and has it placed exactly once; every other request gets that order.
import type { AlertSink } from '../ts/alerts/alert.js';
import { Decimal } from '../ts/exact/decimal.js';
import { CLIENT_ORDER_ID_PATTERN } from '../ts/exchange/client-order-id.js';
import {
  BinanceApiError,
  BinanceCode,
  hasBinanceCode,
  IpBannedError,
  RateLimitedError,
  TransportError,
} from '../ts/exchange/exchange-errors.js';
import type { NewOrderParams, UsdmApi } from '../ts/exchange/usdm-api.js';
import type { OrderRecord } from '../ts/exchange/usdm-decoders.js';
import { GatewayRequestError } from '../ts/gateway/gateway-error.js';
import {
  type OrderAnswer,
  type OrderRef,
  orderToJson,
  type PlaceAnswer,
  type PlaceRequest,
  shareClientOrderId,
} from '../ts/gateway/gateway-protocol.js';
import type { Logger } from '../ts/log/logger.js';
import type { SymbolFilterSet } from '../ts/native/filters.js';
import { type Claim, type ClaimLog, type ClaimOrder, claimKey } from './claim-log.js';
import { splitShare } from './split-shares.js';

/** What places and reads orders at the exchange (`OrderSender` for placements and cancels, the API for queries). */
export interface OrderPlacer {
  readonly api: UsdmApi;
  place(params: NewOrderParams): Promise<OrderRecord>;
  cancel(ref: { symbol: string; origClientOrderId: string }): Promise<OrderRecord>;
}

/** How the gateway shares orders. */
export type ClaimMode = { kind: 'first' } | { kind: 'split'; members: readonly string[] };

/** Options of {@link OrderClaims}. */
export interface OrderClaimsOptions {
  readonly log: ClaimLog;
  readonly placer: OrderPlacer;
  readonly mode: ClaimMode;
  /** The native filters of a symbol (split shares snap to its step); undefined when not listed. */
  readonly filters: (symbol: string) => SymbolFilterSet | undefined;
  readonly logger: Logger;
  /** A claim is placed only within this long of being claimed. */
  readonly placeWithinMs: number;
  /**
   * How long after a send whose answer was lost the order is looked for: the exchange's
   * recvWindow plus a margin, after which a request still in flight can no longer be accepted.
   */
  readonly settleMs: number;
  /** Told of a claimed signal that expired unplaced (critical) and of traders disagreeing on an order (warning). */
  readonly alerts?: AlertSink;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Counters of the claims. */
export interface OrderClaimsStats {
  placed: number;
  duplicates: number;
  conflicts: number;
  nothing: number;
  rejected: number;
  expired: number;
  recovered: number;
  refusedByExchange: number;
}

/** Placement tries per claim and process life (each logged); a claim left pending is resumed by the next request or start. */
const MAX_TRIES = 8;
/** Wait after a send that did not reach the exchange, before the next try. */
const RETRY_WAIT_MS = 500;

function sameOrder(a: ClaimOrder, b: ClaimOrder): boolean {
  return (
    a.side === b.side &&
    a.type === b.type &&
    a.quantity === b.quantity &&
    a.price === b.price &&
    a.timeInForce === b.timeInForce &&
    a.reduceOnly === b.reduceOnly
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The gateway's order logic. First mode: an order is claimed by its client id (the decision's
 * deterministic id: strategy, symbol, signal time, leg, slice, attempt), so however many traders
 * send it, one claim exists and one order is placed. Split mode: each member claims its own share
 * (`splitShare`) under its own exchange id. A claim is fsynced before its order is sent, and the
 * send before the request leaves; after a crash, {@link resume} finishes every pending claim: one
 * never sent is placed, one sent is looked up by its client id once the exchange can no longer
 * accept the lost request (`settleMs`), and placed only if it is not there.
 */
export class OrderClaims {
  readonly stats: OrderClaimsStats = {
    placed: 0,
    duplicates: 0,
    conflicts: 0,
    nothing: 0,
    rejected: 0,
    expired: 0,
    recovered: 0,
    refusedByExchange: 0,
  };
  readonly #o: OrderClaimsOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #running = new Map<string, Promise<void>>();
  /** When this process started: a send logged before it may have been signed as late as the crash. */
  readonly #startedAt: number;
  /** When the last try of a claim returned (a lost request may still arrive until then plus `settleMs`). */
  readonly #lastTry = new Map<string, number>();

  constructor(options: OrderClaimsOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#startedAt = this.#now();
  }

  /** Claims `request` for `peer` (or finds the claim) and resolves once its order is placed or refused. */
  async place(peer: string, request: PlaceRequest): Promise<PlaceAnswer> {
    const { member, index } = this.#member(peer);
    const key = claimKey(request.symbol, request.clientOrderId, member);
    let claim = this.#o.log.get(key);
    let claimedNow = false;
    const wanted = this.#orderOf(request, index);
    if (claim === undefined) {
      const exchangeClientOrderId = this.#exchangeIdOf(request.clientOrderId, index);
      this.#checkSiblings(request, peer, wanted);
      claim = this.#o.log.claim({
        symbol: request.symbol,
        clientOrderId: request.clientOrderId,
        member,
        exchangeClientOrderId,
        order: wanted,
        peer,
        claimedAt: this.#now(),
      });
      claimedNow = true;
      if (Decimal.parse(wanted.quantity).isZero()) {
        this.#o.log.finish(claim, this.#now(), { kind: 'nothing' });
        this.stats.nothing += 1;
      }
    } else {
      this.stats.duplicates += 1;
      if (claim.order.side !== wanted.side) {
        // The opposite trade under one decision id: answering with the claimed order would have
        // this trader book a fill it did not ask for, so it is refused (counted and alerted).
        this.#conflict(claim, request, peer, wanted);
        throw new GatewayRequestError(
          'conflict',
          `${request.symbol} ${request.clientOrderId} was claimed by ${claim.peer} as a ${claim.order.side}; this request is a ${wanted.side}: the claimed order stands`,
        );
      }
      if (!sameOrder(claim.order, wanted)) this.#conflict(claim, request, peer, wanted);
    }
    await this.#settle(claim);
    return this.#answer(claim, claimedNow ? 'placed' : 'duplicate');
  }

  /**
   * Split mode: each member claims its own share, so a member sending the opposite side for a
   * signal whose other shares are claimed would place the opposite trade under the same decision
   * id, unnoticed. It is refused as a conflict (counted, alerted), as a duplicate would be.
   */
  #checkSiblings(request: PlaceRequest, peer: string, wanted: ClaimOrder): void {
    if (this.#o.mode.kind !== 'split') return;
    for (const other of this.#o.mode.members) {
      if (other === peer) continue;
      const sibling = this.#o.log.get(claimKey(request.symbol, request.clientOrderId, other));
      if (sibling === undefined || sibling.order.side === wanted.side) continue;
      this.#conflict(sibling, request, peer, wanted);
      throw new GatewayRequestError(
        'conflict',
        `${request.symbol} ${request.clientOrderId}: ${other}'s share was claimed as a ${sibling.order.side}; this request is a ${wanted.side}: the claimed shares stand`,
      );
    }
  }

  /** Counts, alerts and logs a duplicate that differs from the claimed order. */
  #conflict(claim: Claim, request: PlaceRequest, peer: string, wanted: ClaimOrder): void {
    this.stats.conflicts += 1;
    this.#o.alerts?.raise({
      severity: 'warning',
      source: 'gateway.conflict',
      title: 'traders sent different orders for one signal; the first stands',
      details: {
        symbol: request.symbol,
        clientOrderId: request.clientOrderId,
        claimedBy: claim.peer,
        peer,
      },
    });
    this.#o.logger.warn('a duplicate differs from the claimed order; the claimed one stands', {
      clientOrderId: request.clientOrderId,
      claimedBy: claim.peer,
      claimed: JSON.stringify(claim.order),
      peer,
      sent: JSON.stringify(wanted),
    });
  }

  /** The order of `peer`'s claim of `ref`, as the exchange reports it now. */
  async query(peer: string, ref: OrderRef): Promise<OrderAnswer> {
    const claim = await this.#placedClaim(peer, ref);
    const order = await this.#o.placer.api.queryOrder({
      symbol: claim.symbol,
      origClientOrderId: claim.exchangeClientOrderId,
    });
    return { exchangeClientOrderId: claim.exchangeClientOrderId, order: orderToJson(order) };
  }

  /** Cancels the order of `peer`'s claim of `ref` (an unknown outcome is resolved by the sender). */
  async cancel(peer: string, ref: OrderRef): Promise<OrderAnswer> {
    const claim = await this.#placedClaim(peer, ref);
    try {
      const order = await this.#o.placer.cancel({
        symbol: claim.symbol,
        origClientOrderId: claim.exchangeClientOrderId,
      });
      return { exchangeClientOrderId: claim.exchangeClientOrderId, order: orderToJson(order) };
    } catch (error) {
      if (error instanceof BinanceApiError && error.status < 500)
        throw new GatewayRequestError('exchange-rejected', 'the exchange refused the cancel', {
          status: error.status,
          code: error.code,
          msg: error.msg,
        });
      throw error;
    }
  }

  /** Finishes every pending claim (at start: claims a crash left between claim and outcome). */
  resume(): Promise<void> {
    const pending = this.#o.log.pending();
    if (pending.length > 0) this.#o.logger.warn('resuming pending claims', { claims: pending.length });
    return Promise.all(
      pending.map((claim) =>
        this.#settle(claim).then(
          () => {
            this.stats.recovered += 1;
          },
          (error: unknown) =>
            this.#o.logger.error('pending claim not finished; the next request for it resumes it', {
              clientOrderId: claim.exchangeClientOrderId,
              error: describe(error),
            }),
        ),
      ),
    ).then(() => undefined);
  }

  /** Whether any placement is running (for a clean stop). */
  get busy(): boolean {
    return this.#running.size > 0;
  }

  #member(peer: string): { member: string | null; index: number | undefined } {
    const mode = this.#o.mode;
    if (mode.kind === 'first') return { member: null, index: undefined };
    const index = mode.members.indexOf(peer);
    if (index < 0)
      throw new GatewayRequestError(
        'not-a-member',
        `split mode: ${peer} is not one of gateway.members (${mode.members.join(', ')})`,
      );
    return { member: peer, index };
  }

  #orderOf(request: PlaceRequest, index: number | undefined): ClaimOrder {
    if (Decimal.parse(request.quantity).isZero())
      throw new GatewayRequestError('bad-request', 'quantity: must be more than zero');
    // A zero price passes the protocol's decimal pattern, but newOrder refuses it before sending:
    // claimed, it would be retried as an unknown outcome until it expired.
    if (request.price !== undefined && Decimal.parse(request.price).isZero())
      throw new GatewayRequestError('bad-request', 'price: must be more than zero');
    if ((request.type === 'LIMIT') !== (request.price !== undefined && request.timeInForce !== undefined))
      throw new GatewayRequestError(
        'bad-request',
        'price and timeInForce: given for LIMIT orders, only for them',
      );
    let quantity = request.quantity;
    if (index !== undefined && this.#o.mode.kind === 'split') {
      const filters = this.#o.filters(request.symbol);
      if (filters === undefined)
        throw new GatewayRequestError(
          'bad-request',
          `symbol ${request.symbol} is not listed by the exchange`,
        );
      quantity = splitShare(
        filters,
        Decimal.parse(request.quantity),
        index,
        this.#o.mode.members.length,
        request.type === 'MARKET',
      ).toString();
    }
    return {
      side: request.side,
      type: request.type,
      quantity,
      ...(request.price === undefined ? {} : { price: request.price }),
      ...(request.timeInForce === undefined ? {} : { timeInForce: request.timeInForce }),
      reduceOnly: request.reduceOnly,
    };
  }

  /**
   * The id the claim's order carries at the exchange. A split share appends `.<index>`; an id too
   * long for that is refused as the request's fault (checked with the last member's index, so
   * every member gets the same answer) rather than failing inside the gateway.
   */
  #exchangeIdOf(clientOrderId: string, index: number | undefined): string {
    if (index === undefined || this.#o.mode.kind !== 'split') return clientOrderId;
    const last = this.#o.mode.members.length - 1;
    if (!CLIENT_ORDER_ID_PATTERN.test(`${clientOrderId}.${last}`))
      throw new GatewayRequestError(
        'bad-request',
        `clientOrderId: ${clientOrderId.length} characters leave no room for the split share suffix .${last} (Binance allows 36 in all)`,
      );
    return shareClientOrderId(clientOrderId, index);
  }

  /** The claim of `ref` once it has an outcome; `not-claimed` when none was placed, `outcome-unknown` while open. */
  async #placedClaim(peer: string, ref: OrderRef): Promise<Claim> {
    const claim = this.#claimOf(peer, ref);
    if (claim.outcome === null) await this.#settle(claim);
    const outcome = claim.outcome as Claim['outcome'];
    if (outcome === null)
      throw new GatewayRequestError(
        'outcome-unknown',
        `${ref.clientOrderId} is still being placed; ask again`,
      );
    if (outcome.kind !== 'placed')
      throw new GatewayRequestError('not-claimed', `${ref.clientOrderId} was never placed (${outcome.kind})`);
    return claim;
  }

  #claimOf(peer: string, ref: OrderRef): Claim {
    const { member } = this.#member(peer);
    const claim = this.#o.log.get(claimKey(ref.symbol, ref.clientOrderId, member));
    if (claim === undefined)
      throw new GatewayRequestError('not-claimed', `no claim for ${ref.symbol} ${ref.clientOrderId}`);
    return claim;
  }

  #answer(claim: Claim, first: 'placed' | 'duplicate'): PlaceAnswer {
    const outcome = claim.outcome;
    const base = { exchangeClientOrderId: claim.exchangeClientOrderId, quantity: claim.order.quantity };
    switch (outcome?.kind) {
      case 'placed':
        return { ...base, outcome: first, order: outcome.order };
      case 'nothing':
        return { ...base, outcome: 'nothing', order: null };
      case 'rejected':
        throw new GatewayRequestError(
          'exchange-rejected',
          'the exchange refused the order',
          outcome.exchange,
        );
      case 'expired':
        throw new GatewayRequestError(
          'expired',
          `claimed at ${claim.claimedAt} and not placed within gateway.placeWithinMs; never sent`,
        );
      default:
        throw new GatewayRequestError(
          'outcome-unknown',
          'the exchange has not said whether the order exists; ask again with the same client order id',
        );
    }
  }

  /** Runs (or joins) the placement of `claim`; resolves when it has an outcome or the tries are spent. */
  #settle(claim: Claim): Promise<void> {
    if (claim.outcome !== null) return Promise.resolve();
    const running = this.#running.get(claim.key);
    if (running !== undefined) return running;
    const run = this.#placeClaim(claim).finally(() => this.#running.delete(claim.key));
    this.#running.set(claim.key, run);
    return run;
  }

  async #placeClaim(claim: Claim): Promise<void> {
    const log = this.#o.log;
    for (let tries = 0; claim.outcome === null; ) {
      if (claim.sentAt !== null) {
        // The order may exist: look once no request sent for it can still be accepted.
        const signedBy = Math.max(
          claim.sentAt,
          this.#lastTry.get(claim.key) ?? 0,
          this.#startedIfBefore(claim),
        );
        const lookAt = signedBy + this.#o.settleMs;
        if (this.#now() < lookAt) await this.#sleep(lookAt - this.#now());
        let found: OrderRecord | null;
        try {
          found = await this.#find(claim);
        } catch (error) {
          tries += 1;
          this.#o.logger.warn('order lookup failed; looking again', {
            clientOrderId: claim.exchangeClientOrderId,
            tries,
            error: describe(error),
          });
          if (tries >= MAX_TRIES) return;
          this.#lastTry.set(claim.key, this.#now() - this.#o.settleMs + RETRY_WAIT_MS);
          continue;
        }
        if (found !== null) {
          this.#placed(claim, found, 'found at the exchange after an unanswered send');
          return;
        }
        log.refused(claim, this.#now(), 'not at the exchange after an unanswered send');
      }
      if (this.#now() - claim.claimedAt > this.#o.placeWithinMs) {
        log.finish(claim, this.#now(), { kind: 'expired' });
        this.stats.expired += 1;
        this.#o.alerts?.raise({
          severity: 'critical',
          source: 'gateway.expired',
          title: 'a claimed signal could not be placed in time and was dropped',
          details: { symbol: claim.symbol, clientOrderId: claim.exchangeClientOrderId, peer: claim.peer },
        });
        this.#o.logger.error('claim expired before it could be placed; not sent', {
          clientOrderId: claim.exchangeClientOrderId,
          claimedAt: claim.claimedAt,
        });
        return;
      }
      if (tries >= MAX_TRIES) {
        this.#o.logger.error('placement tries spent; the claim stays pending', {
          clientOrderId: claim.exchangeClientOrderId,
          tries,
        });
        return;
      }
      tries += 1;
      await this.#try(claim);
    }
  }

  /** One send of the claim's order; records what it tells. */
  async #try(claim: Claim): Promise<void> {
    const log = this.#o.log;
    const o = claim.order;
    log.sending(claim, this.#now());
    try {
      const record = await this.#o.placer.place({
        symbol: claim.symbol,
        side: o.side,
        type: o.type,
        quantity: Decimal.parse(o.quantity),
        ...(o.price === undefined ? {} : { price: Decimal.parse(o.price) }),
        ...(o.timeInForce === undefined ? {} : { timeInForce: o.timeInForce }),
        ...(o.reduceOnly ? { reduceOnly: true } : {}),
        newClientOrderId: claim.exchangeClientOrderId,
        newOrderRespType: 'RESULT',
      });
      this.#placed(claim, record, 'placed');
    } catch (error) {
      this.#lastTry.set(claim.key, this.#now());
      if (error instanceof RateLimitedError || error instanceof IpBannedError) {
        // Refused before the matching engine: nothing was placed, the claim waits and tries again.
        this.stats.refusedByExchange += 1;
        log.refused(claim, this.#now(), `${error.name} ${error.code}`);
        const left = claim.claimedAt + this.#o.placeWithinMs - this.#now();
        const wait = Math.max(RETRY_WAIT_MS, Math.min(error.retryAfterMs, left + 1));
        this.#o.logger.warn('exchange refused the order for now; retrying with the same client id', {
          clientOrderId: claim.exchangeClientOrderId,
          waitMs: wait,
        });
        await this.#sleep(wait);
      } else if (error instanceof BinanceApiError && error.status < 500 && error.status !== 408) {
        log.finish(claim, this.#now(), {
          kind: 'rejected',
          exchange: { status: error.status, code: error.code, msg: error.msg },
        });
        this.stats.rejected += 1;
        this.#o.logger.warn('order rejected by the exchange', {
          clientOrderId: claim.exchangeClientOrderId,
          code: error.code,
          message: error.msg,
        });
      } else if (error instanceof TransportError && !error.sent) {
        log.refused(claim, this.#now(), `not sent: ${error.reason}`);
        this.#o.logger.warn('order request did not leave; retrying', {
          clientOrderId: claim.exchangeClientOrderId,
          error: describe(error),
        });
        await this.#sleep(RETRY_WAIT_MS);
      } else {
        // Unknown outcome (the sender's own queries did not settle it): the loop looks again after settleMs.
        this.#o.logger.warn('order outcome unknown; looking again later', {
          clientOrderId: claim.exchangeClientOrderId,
          error: describe(error),
        });
      }
    }
  }

  #startedIfBefore(claim: Claim): number {
    return claim.sentAt !== null && claim.sentAt < this.#startedAt ? this.#startedAt : 0;
  }

  async #find(claim: Claim): Promise<OrderRecord | null> {
    try {
      return await this.#o.placer.api.queryOrder({
        symbol: claim.symbol,
        origClientOrderId: claim.exchangeClientOrderId,
      });
    } catch (error) {
      if (hasBinanceCode(error, BinanceCode.NO_SUCH_ORDER)) return null;
      throw error;
    }
  }

  #placed(claim: Claim, record: OrderRecord, how: string): void {
    this.#o.log.finish(claim, this.#now(), { kind: 'placed', order: orderToJson(record) });
    this.stats.placed += 1;
    this.#o.logger.info(`order ${how}`, {
      symbol: claim.symbol,
      clientOrderId: claim.exchangeClientOrderId,
      peer: claim.peer,
      status: record.status,
      quantity: claim.order.quantity,
    });
  }
}
