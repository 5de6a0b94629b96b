// The alerts the library's own sources raise, one builder each, so every process words and grades the same event the same way (the table in docs/operations.md).
import type { AlertInput } from './alert.js';

/** An IP ban (HTTP 418) or a rate limit (429) that failed a request: nothing is sent until `until`. */
export function exchangeBlockAlert(block: {
  readonly kind: 'ip-banned' | 'rate-limited';
  readonly message: string;
  /** Exchange time, epoch ms. */
  readonly until: number;
  /** The IP group (host) whose processes all stop, when they share one budget. */
  readonly group?: string;
}): AlertInput {
  const banned = block.kind === 'ip-banned';
  return {
    severity: banned ? 'critical' : 'warning',
    source: banned ? 'exchange.ban' : 'exchange.rate-limit',
    title: banned
      ? 'IP banned by the exchange (418): no request leaves until the ban ends'
      : 'Rate limited by the exchange (429): requests wait',
    details: {
      until: new Date(block.until).toISOString(),
      message: block.message,
      ...(block.group === undefined ? {} : { host: block.group }),
    },
  };
}

/** An order placement or cancel whose outcome the exchange would not tell within the bounds. */
export function orderOutcomeUnknownAlert(order: {
  readonly action: 'place' | 'cancel';
  readonly symbol: string | null;
  readonly clientOrderId: string;
  readonly detail: string;
}): AlertInput {
  return {
    severity: 'critical',
    source: 'orders.outcome-unknown',
    title: `Order ${order.action} outcome unknown: the order may or may not exist`,
    details: { symbol: order.symbol ?? '-', clientOrderId: order.clientOrderId, detail: order.detail },
  };
}

/** A peer the hub knew stopped sending (no heartbeat: gone past the grace), or came back. */
export function peerSilenceAlert(peer: {
  readonly peer: string;
  readonly role: string;
  readonly kind: string | null;
  /** Epoch ms it was last heard from. */
  readonly lastSeen: number;
  readonly back: boolean;
}): AlertInput {
  const details = {
    peer: peer.peer,
    role: peer.role,
    ...(peer.kind === null ? {} : { kind: peer.kind }),
    lastSeen: new Date(peer.lastSeen).toISOString(),
  };
  if (peer.back) {
    return {
      severity: 'info',
      source: 'hub.peer-back',
      title: 'A silent process is connected again',
      details,
    };
  }
  return {
    // A trader or recorder gone leaves positions or records unattended; a collector has siblings.
    severity: peer.role === 'collector' ? 'warning' : 'critical',
    source: 'hub.peer-silent',
    title: 'A process stopped sending heartbeats to the hub',
    details,
  };
}

/** Market or account data that stopped arriving (a collector's ingest, a trader's book), or resumed. */
export function staleDataAlert(data: {
  /** Who notices: `hub` (a collector's ingest) or `trader` (its book). */
  readonly where: 'hub' | 'trader';
  /** The collector or stream, for a person. */
  readonly what: string;
  readonly ageMs: number | null;
  readonly reason?: string;
  readonly fresh: boolean;
}): AlertInput {
  const details = {
    what: data.what,
    ...(data.ageMs === null ? {} : { ageSeconds: Math.round(data.ageMs / 1000) }),
    ...(data.reason === undefined ? {} : { reason: data.reason }),
  };
  if (data.fresh) {
    return { severity: 'info', source: `${data.where}.data-fresh`, title: 'Data is fresh again', details };
  }
  return { severity: 'warning', source: `${data.where}.data-stale`, title: 'Data is stale', details };
}

/** A supervised process died and is restarted, or died too often and is left down. */
export function processExitAlert(exit: {
  readonly name: string;
  readonly lastExit: string;
  /** Restarts in the window so far. */
  readonly restarts: number;
  readonly windowMs: number;
  /** True when the supervisor gives up on it (a crash loop). */
  readonly givenUp: boolean;
}): AlertInput {
  const details = {
    process: exit.name,
    exit: exit.lastExit,
    restarts: exit.restarts,
    windowSeconds: Math.round(exit.windowMs / 1000),
  };
  if (exit.givenUp) {
    return {
      severity: 'critical',
      source: 'supervisor.crash-loop',
      title: 'A process keeps dying: not restarted, the system stops',
      details,
    };
  }
  return {
    severity: 'warning',
    source: 'supervisor.restart',
    title: 'A process died and is restarted',
    details,
  };
}

/** Rows the exchange's REST history had that the store lacked, for one symbol (`''`: account-wide rows). */
export interface ReconciliationDifference {
  readonly symbol: string;
  /** Order states, fills and income rows written by the reconciliation. */
  readonly orders: number;
  readonly fills: number;
  readonly income: number;
}

/**
 * What one reconciliation pass found: the recorder's `ReconcileReport` fits as it is. `changed`:
 * rows present on both sides whose values differed (the exchange's kept), when the caller counts
 * them.
 */
export interface ReconciliationFindings {
  /** Why the pass ran (`start`, `event gap`, `hub connection`, `periodic`). */
  readonly reason: string;
  readonly differences: readonly ReconciliationDifference[];
  readonly changed?: number;
}

/**
 * The alert for a reconciliation pass that found records the stream had not delivered (now stored
 * from REST), or `undefined` when it found none. A warning: the store was repaired, but the data
 * path lost something the owner may want to look into. One alert per pass with the totals and the
 * symbols, however many rows.
 */
export function reconciliationAlert(found: ReconciliationFindings): AlertInput | undefined {
  const sum = (pick: (d: ReconciliationDifference) => number) =>
    found.differences.reduce((n, d) => n + pick(d), 0);
  const changed = found.changed ?? 0;
  if (found.differences.length === 0 && changed === 0) return undefined;
  const symbols = found.differences.map((d) => d.symbol || 'account');
  return {
    severity: 'warning',
    source: 'records.reconciliation',
    title: 'Reconciliation found records the stream did not deliver (stored from REST)',
    details: {
      reason: found.reason,
      orders: sum((d) => d.orders),
      fills: sum((d) => d.fills),
      income: sum((d) => d.income),
      ...(changed === 0 ? {} : { changed }),
      symbols:
        symbols.length > 10 ? `${symbols.slice(0, 10).join(' ')} +${symbols.length - 10}` : symbols.join(' '),
    },
  };
}
