// When the recorder reconciles and reads income, and over which symbols: full passes after gaps, passes over the active symbols, income while it may be booked.
import type { AlertSink } from '../ts/alerts/alert.js';
import { reconciliationAlert } from '../ts/alerts/alert-sources.js';
import type { Logger } from '../ts/log/logger.js';
import type { ReconcileReport, Reconciler, ReconciliationDifference } from './reconciler.js';

/** What a {@link ReconcileScheduler} works with. */
export interface ReconcileSchedulerOptions {
  readonly reconciler: Reconciler;
  /** Commits what the stream delivered before a pass, so REST rows count as differences only when the stream missed them. */
  readonly flush: () => Promise<void>;
  /** Symbols with an open position as the hub has them, or undefined while its state is not in sync. */
  readonly openPositions: () => string[] | undefined;
  /** A pass over the active symbols runs this often; income is read at least this often. */
  readonly reconcileMs: number;
  readonly logger: Logger;
  readonly onDifference?: (difference: ReconciliationDifference) => void;
  readonly alerts?: AlertSink;
}

/** The scheduler's counters (part of the recorder's status). */
export interface ReconcileCounters {
  reconciliations: number;
  fullReconciliations: number;
  reconcileFailures: number;
  differences: number;
  reconcileRequests: number;
  lastReconciledAt: number | null;
  incomeReads: number;
}

interface ReconcileRequest {
  readonly reason: string;
  readonly full: boolean;
}

/**
 * Decides the recorder's REST work. `requestFull` (a start, a hub connection, an event gap, a
 * user-stream gap notice) asks for a full pass; `activity` remembers the symbols order events named
 * (and whether one was a fill); `tick` (every `reconcileMs`) runs a pass over those symbols, or
 * nothing when there were none, or a full pass that failed before. Passes run one at a time;
 * requests while one runs are merged into one more run afterwards (full if any was). `incomeTick`
 * (every `incomeMs`) reads income when a fill was seen, a position is open (funding), the hub's
 * state is unknown, or `reconcileMs` passed; its new rows name symbols for the next pass (a fill
 * the stream missed still books commission).
 */
export class ReconcileScheduler {
  readonly counters: ReconcileCounters = {
    reconciliations: 0,
    fullReconciliations: 0,
    reconcileFailures: 0,
    differences: 0,
    reconcileRequests: 0,
    lastReconciledAt: null,
    incomeReads: 0,
  };
  readonly #o: ReconcileSchedulerOptions;
  readonly #log: Logger;
  /** Symbols with activity (events, income) since the last pass. */
  readonly #active = new Set<string>();
  #tradedSinceIncome = false;
  #lastIncomeAt = 0;
  #running: Promise<void> | undefined;
  #again: ReconcileRequest | undefined;
  /** A full pass that failed: asked for again at the next tick. */
  #owedFull: string | undefined;
  #stopped = false;

  constructor(options: ReconcileSchedulerOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  /** An order event of `symbol` arrived (`fill`: it was a trade). */
  activity(symbol: string, fill: boolean): void {
    this.#active.add(symbol);
    if (fill) this.#tradedSinceIncome = true;
  }

  /** Asks for a full pass (merged with one that is running). */
  requestFull(reason: string): void {
    this.#request({ reason, full: true });
  }

  /** The periodic tick: a failed full pass again, else a pass over the active symbols if any. */
  tick(): void {
    const owed = this.#owedFull;
    this.#owedFull = undefined;
    if (owed !== undefined) this.requestFull(`retry of ${owed}`);
    else if (this.#active.size > 0) this.#request({ reason: 'activity', full: false });
  }

  /** The income tick: reads income when something may have booked some. */
  async incomeTick(): Promise<void> {
    const now = Date.now();
    const positions = this.#o.openPositions();
    // Income is booked by fills (commission, realized PnL) and, for open positions, by funding;
    // anything else (transfers, ...) is picked up at least every reconcileMs.
    const due =
      this.#tradedSinceIncome ||
      positions === undefined ||
      positions.length > 0 ||
      now - this.#lastIncomeAt >= this.#o.reconcileMs;
    if (!due || this.#stopped) return;
    this.#tradedSinceIncome = false;
    this.#lastIncomeAt = now;
    const result = await this.#o.reconciler.income();
    this.counters.incomeReads += 1;
    this.counters.reconcileRequests += result.requests;
    for (const s of result.symbols) this.#active.add(s);
    if (result.inserted > 0) this.#log.debug('income stored', { rows: result.inserted });
  }

  /** Resolves when no pass runs or is queued. */
  async settled(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** No more passes; waits for the running one. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.settled().catch(() => undefined);
  }

  #request(request: ReconcileRequest): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      // A full pass already queued covers a pass over the active symbols.
      if (this.#again === undefined || request.full || !this.#again.full)
        this.#again = { reason: request.reason, full: request.full || (this.#again?.full ?? false) };
      return;
    }
    this.#running = this.#loop(request).finally(() => {
      this.#running = undefined;
    });
  }

  async #loop(first: ReconcileRequest): Promise<void> {
    let request: ReconcileRequest | undefined = first;
    while (request !== undefined && !this.#stopped) {
      this.#again = undefined;
      const seen = [...this.#active];
      this.#active.clear();
      try {
        await this.#o.flush();
        const positions = this.#o.openPositions();
        const report = await this.#o.reconciler.reconcile(request.reason, {
          full: request.full,
          seen,
          ...(positions === undefined ? {} : { positions }),
        });
        this.counters.reconciliations += 1;
        if (request.full) {
          this.counters.fullReconciliations += 1;
          // A full pass read the income.
          this.#lastIncomeAt = Date.now();
        }
        this.counters.reconcileRequests += report.requests;
        this.counters.lastReconciledAt = Date.now();
        this.#report(report);
      } catch (error) {
        if (this.#stopped) {
          // The process is stopping and its requests are failed unsent; the next start reconciles.
          this.#log.info('reconciliation left to the next start', {
            reason: request.reason,
            error: messageOf(error),
          });
          return;
        }
        this.counters.reconcileFailures += 1;
        for (const s of seen) this.#active.add(s);
        this.#log.error('reconciliation failed; the next one retries', {
          reason: request.reason,
          error: messageOf(error),
        });
        // A failed full pass is owed unless another one is already queued.
        const queued = this.#again as ReconcileRequest | undefined;
        if (request.full && queued?.full !== true) this.#owedFull = request.reason;
      }
      request = this.#again;
    }
  }

  #report(report: ReconcileReport): void {
    const level = report.differences.length > 0 ? 'warn' : 'info';
    this.#log[level]('reconciled', {
      reason: report.reason,
      full: report.full,
      since: report.since,
      symbols: report.symbols,
      requests: report.requests,
      differences: report.differences
        .map((d) => `${d.symbol || 'account'}:${d.orders}/${d.fills}/${d.income}`)
        .join(' '),
      unlisted: report.unlisted.length,
      backfilled: report.backfilled,
      algoOrders: report.algoOrders,
    });
    if (report.differences.length === 0) return;
    for (const d of report.differences) {
      this.counters.differences += 1;
      try {
        this.#o.onDifference?.(d);
      } catch (error) {
        this.#log.error('reconciliation difference listener failed', { error: messageOf(error) });
      }
    }
    const alert = reconciliationAlert(report);
    if (alert !== undefined) this.#o.alerts?.raise(alert);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
