// The alerts the library's own sources raise, one builder each, so every process words and grades the same event the same way (the table in docs/operations.md).
import type { AlertInput } from './alert.js';

/** An IP ban (HTTP 418) or a rate limit (429) that failed a request: nothing is sent until `until`. */
export function exchangeBlockAlert(block: {
  readonly kind: 'ip-banned' | 'rate-limited';
  readonly message: string;
  /** Exchange time, epoch ms. */
  readonly until: number;
}): AlertInput {
  const banned = block.kind === 'ip-banned';
  return {
    severity: banned ? 'critical' : 'warning',
    source: banned ? 'exchange.ban' : 'exchange.rate-limit',
    title: banned
      ? 'IP banned by the exchange (418): no request leaves until the ban ends'
      : 'Rate limited by the exchange (429): requests wait',
    details: { until: new Date(block.until).toISOString(), message: block.message },
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

/**
 * What a reconciliation of the store against the exchange's REST history found (the recorder's
 * call: `alerts.raise(reconciliationAlert({ ... }))` after each pass that found anything).
 */
export interface ReconciliationDifferences {
  /** The account (or store) reconciled, as the owner names it. */
  readonly account: string;
  /** What was compared: `orders`, `trades`, `income`, `balances`, ... */
  readonly table: string;
  /** Rows the exchange has and the store lacked (now written): expected after a gap or restart. */
  readonly missing: number;
  /** Rows present on both sides whose values differ (the exchange's values were kept). */
  readonly changed: number;
  /** Rows the store has and the exchange does not know. */
  readonly unknown: number;
  /** The time range compared, e.g. `2026-12-02T09:00Z..09:10Z`. */
  readonly range?: string;
  /** Why it ran: `start`, `gap`, `stream-loss`, `periodic`. */
  readonly trigger?: string;
  /** A few natural keys of differing rows (order ids, trade ids, tranIds), for the owner to look up. */
  readonly examples?: readonly string[];
}

/**
 * The alert for a reconciliation pass: `warning` when rows differed or the store held rows the
 * exchange does not know (something recorded wrongly), `info` when rows were only missing (a gap
 * the recorder filled, as designed).
 */
export function reconciliationAlert(found: ReconciliationDifferences): AlertInput {
  const suspicious = found.changed > 0 || found.unknown > 0;
  return {
    severity: suspicious ? 'warning' : 'info',
    source: 'records.reconciliation',
    title: suspicious
      ? 'Reconciliation found records that differ from the exchange'
      : 'Reconciliation filled records missing from the store',
    details: {
      account: found.account,
      table: found.table,
      missing: found.missing,
      changed: found.changed,
      unknown: found.unknown,
      ...(found.range === undefined ? {} : { range: found.range }),
      ...(found.trigger === undefined ? {} : { trigger: found.trigger }),
      ...(found.examples === undefined || found.examples.length === 0
        ? {}
        : { examples: found.examples.slice(0, 5).join(' ') }),
    },
  };
}
