// Deterministic client order ids: one decision (signal key, leg, slice, attempt) always gets the same id.
import { createHash } from 'node:crypto';
import { checkClientOrderId } from '../../ts/exchange/client-order-id.js';
import type { ExecutionStyle, SignalKey } from '../engine/events.js';

/**
 * Id prefixes by execution kind (issue 14's order timeouts choose limits by prefix, as the seed
 * did: `m_` resting maker orders, `t_` takers, `tw_`/`vw_` TWAP and VWAP slices).
 */
export const ID_PREFIX: Record<ExecutionStyle['kind'], string> = {
  market: 't_',
  'post-only': 'm_',
  twap: 'tw_',
  vwap: 'vw_',
};

/** Where in a decision an order sits. */
export interface OrderSlot {
  readonly key: SignalKey;
  readonly leg: number;
  /** Slice of a TWAP/VWAP, 0 otherwise. */
  readonly slice: number;
  /** Re-sends of a remainder as a new order (a timed-out maker re-sent as taker), 0 first. */
  readonly attempt: number;
  readonly kind: ExecutionStyle['kind'];
}

/**
 * The client order id of `slot`: the kind's prefix and 20 base-36 digits of a SHA-256 over the
 * slot. The same decision gives the same id in every process and after every restart, so the
 * exchange (and the gateway) can tell a repeat from a new order; 36 characters at most.
 */
export function clientOrderId(slot: OrderSlot): string {
  const { key } = slot;
  const digest = createHash('sha256')
    .update(`${key.strategy}|${key.symbol}|${key.time}|${slot.leg}|${slot.slice}|${slot.attempt}`)
    .digest();
  const n = digest.readBigUInt64BE(0) ^ (digest.readBigUInt64BE(8) << 1n);
  const digits = (n & ((1n << 103n) - 1n)).toString(36).padStart(20, '0').slice(-20);
  return checkClientOrderId(`${ID_PREFIX[slot.kind]}${digits}`);
}
