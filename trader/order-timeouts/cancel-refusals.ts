// After a timed-out order's cancel is refused: what became of the order, when to try again, and which orders ended lately.
import { TERMINAL_ORDER_STATUSES } from '../../ts/exchange/usdm-decoders.js';
import type { Venue } from '../execution/venue.js';

/** Cancels sent per order before it is let go (each refusal logged); a later read of open orders that still lists it starts again. */
export const MAX_CANCEL_TRIES = 5;
/** Wait after an order's first refused cancel, doubled after each further one (1, 2, 4, 8 s). */
export const FIRST_RETRY_MS = 1_000;
/**
 * How long the ids of orders that ended are remembered: longer than any read of open orders can
 * take, so one sent before an order ended cannot bring it back as a resting order.
 */
export const ENDED_MEMORY_MS = 5 * 60_000;

/** What the venue says of an order whose cancel was refused. */
export type RefusedCancelFate =
  /** Filled, cancelled or expired meanwhile (its event missed or late), or unknown to the exchange. */
  | { readonly kind: 'ended'; readonly status: string }
  /** Still resting: the cancel itself was refused (rate limit, HALTED, the exchange busy). */
  | { readonly kind: 'open'; readonly status: string }
  /** The query failed too. */
  | { readonly kind: 'unknown'; readonly error: string };

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Asks `venue` for the order `clientOrderId` of `symbol` (one weighted request); never rejects. */
export async function fateOfRefused(
  venue: Venue,
  symbol: string,
  clientOrderId: string,
): Promise<RefusedCancelFate> {
  try {
    const order = await venue.query(symbol, clientOrderId);
    if (order === null) return { kind: 'ended', status: 'not found' };
    return TERMINAL_ORDER_STATUSES.includes(order.status)
      ? { kind: 'ended', status: order.status }
      : { kind: 'open', status: order.status };
  } catch (error) {
    return { kind: 'unknown', error: errorMessage(error) };
  }
}

/** The wait before the next cancel after an order's `refusals`-th refused one; undefined once {@link MAX_CANCEL_TRIES} are spent. */
export function retryDelayMs(refusals: number): number | undefined {
  return refusals >= MAX_CANCEL_TRIES ? undefined : FIRST_RETRY_MS * 2 ** (refusals - 1);
}

/** Ids of orders that ended (cancelled by the timeouts, or reported finished), with when, for {@link ENDED_MEMORY_MS}. */
export class RecentlyEnded {
  /** In the order they ended (re-added ids move to the end), so pruning stops at the first young one. */
  readonly #at = new Map<string, number>();

  add(clientOrderId: string, at: number): void {
    this.#at.delete(clientOrderId);
    this.#at.set(clientOrderId, at);
  }

  /** Whether `clientOrderId` ended at or after `readAt`: a read of open orders sent then may still list it. */
  endedSince(clientOrderId: string, readAt: number): boolean {
    const at = this.#at.get(clientOrderId);
    return at !== undefined && at >= readAt;
  }

  /** Forgets the ids that ended more than {@link ENDED_MEMORY_MS} before `now`. */
  prune(now: number): void {
    for (const [id, at] of this.#at) {
      if (now - at <= ENDED_MEMORY_MS) return;
      this.#at.delete(id);
    }
  }

  get size(): number {
    return this.#at.size;
  }
}
