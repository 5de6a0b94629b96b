// What a process's weight budget asks of the coordinator that shares one IP's weight among the processes of a host.
import type { BudgetKind } from './budget-kinds.js';

/** One request's weight, asked for in the exchange minute of `at`. */
export interface WeightLeaseRequest {
  readonly kind: BudgetKind;
  readonly weight: number;
  /** Exchange time (ms) when asked: its UTC minute is the window wanted. */
  readonly at: number;
  /** The weight per minute this process paces the IP to (the share of exchangeInfo's REQUEST_WEIGHT). */
  readonly limit: number;
  /** Of `limit`, the weight only `order` requests may take. */
  readonly reserve: number;
  /** The exchange's `X-MBX-USED-WEIGHT-1M` last seen in that minute (every process on the IP), or null. */
  readonly used: number | null;
}

/** Weight granted to one request. */
export interface WeightLeaseGrant {
  /** The exchange minute (ms / 60 000) it is granted in: the request's, or a later one it waited for. */
  readonly minute: number;
}

/** The exchange refused the IP: nothing is sent before `until` (exchange time). */
export interface IpBlock {
  readonly until: number;
  readonly kind: 'rate-limited' | 'banned';
  /** What was refused, for the log. */
  readonly reason: string;
}

/**
 * Where a budget leases weight so that every process on one IP paces to one shared limit (the
 * hub's `weight.lease`, `ts/hub/hub-weight-coordinator.ts`). A budget that cannot lease (not
 * `available`, or `lease` rejected) paces to its conservative fallback share instead.
 */
export interface WeightCoordinator {
  /** The IP group leased for (the host's name unless configured). */
  readonly group: string;
  /** Whether a lease can be asked now. */
  readonly available: boolean;
  /**
   * Resolves when the weight is granted, which may be in a later minute (the coordinator serves the
   * IP's waiting requests by kind); rejects when it cannot answer (disconnected, timed out, refused).
   */
  lease(request: WeightLeaseRequest): Promise<WeightLeaseGrant>;
  /** Tells the IP's other processes that the exchange refused it (429 / 418). Never throws. */
  reportBlock(block: IpBlock): void;
  /** Calls `listener` with every block another process of the IP reported. Returns an unsubscribe function. */
  onBlock(listener: (block: IpBlock) => void): () => void;
}
