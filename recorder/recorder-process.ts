// The recorder process: order events from the hub into the store, REST reconciliation after every gap, and minute snapshots.

import type { AlertSink } from '../ts/alerts/alert.js';
import { reconciliationAlert } from '../ts/alerts/alert-sources.js';
import type { RecorderSettings } from '../ts/config/recorder-config.js';
import type { KlineInterval, UsdmApi } from '../ts/exchange/usdm-api.js';
import { HubClient } from '../ts/hub/hub-client.js';
import type { HubClientTls } from '../ts/hub/hub-tls.js';
import type { HubKeyCredentials } from '../ts/hub/peer-keys.js';
import type { Logger } from '../ts/log/logger.js';
import { parseUserEvent } from '../ts/native/parse.js';
import { BufferedRecordWriter, type WriterStats } from '../ts/store/buffered-writer.js';
import { fillFromStream, orderUpdateFromStream } from '../ts/store/exchange-records.js';
import type { RecordStore } from '../ts/store/record-store.js';
import type { AlertRecord, PeerStatusRecord, RecordBatch, RecordScope } from '../ts/store/store-records.js';
import { readClosedKlines, readSnapshot, readSymbols } from './account-snapshots.js';
import { type ReconcileReport, Reconciler, type ReconciliationDifference } from './reconciler.js';

const DAY_MS = 86_400_000;

/** What a recorder needs. */
export interface RecorderOptions {
  readonly store: RecordStore;
  readonly api: UsdmApi;
  readonly scope: RecordScope;
  readonly settings: RecorderSettings;
  /** The hub, with `tls` for a `wss://` hub (the fleet's CA, this host's certificate). */
  readonly hub: {
    readonly url: string;
    readonly key: HubKeyCredentials;
    readonly peer: string;
    readonly tls?: HubClientTls | undefined;
  };
  readonly writer: { readonly flushMs: number; readonly maxBatch: number };
  readonly logger: Logger;
  /**
   * Called for every difference a reconciliation found (rows the exchange had and the stream did
   * not deliver): the alert channel's hook. Each is also stored as an alert record.
   */
  readonly onReconciliationDifference?: (difference: ReconciliationDifference) => void;
  /** Where a reconciliation that found differences raises its alert (one per pass, a warning). */
  readonly alerts?: AlertSink;
}

/** The recorder's counters (reported to the hub's /status). */
export interface RecorderStatus {
  readonly hubState: string;
  readonly events: number;
  readonly rejectedEvents: number;
  readonly gaps: number;
  readonly reconciliations: number;
  readonly reconcileFailures: number;
  readonly differences: number;
  readonly lastReconciledAt: number | null;
  readonly writer: WriterStats;
}

/**
 * Records one exchange account (DESIGN.md 7). Order events arrive through the hub (the user-stream
 * collectors publish them) and are buffered into the store; after a start, every (re)connection to
 * the hub, a jump in the events' sequence, and every `reconcileMs`, the `Reconciler` reads the
 * exchange's orders, fills and income by REST and stores what the stream missed. Income is read
 * every `incomeMs`, the account snapshotted every `snapshotMs` (with the hub's peer list), the
 * symbol list daily and the kept bars every minute. Reconciliations run one at a time; a request
 * while one runs makes one more run afterwards.
 */
export class RecorderProcess {
  readonly client: HubClient;
  readonly writer: BufferedRecordWriter;
  readonly reconciler: Reconciler;
  readonly #o: RecorderOptions;
  readonly #log: Logger;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #seenSymbols = new Set<string>();
  #lastSeq = 0;
  #events = 0;
  #rejected = 0;
  #gaps = 0;
  #reconciliations = 0;
  #reconcileFailures = 0;
  #differences = 0;
  #lastReconciledAt: number | null = null;
  #reconciling: Promise<void> | undefined;
  #again: string | undefined;
  #stopped = false;
  #derivedAt: number | undefined;

  constructor(options: RecorderOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.client = new HubClient({
      url: options.hub.url,
      ...(options.hub.tls === undefined ? {} : { tls: options.hub.tls }),
      peer: options.hub.peer,
      kind: 'recorder',
      key: options.hub.key,
      logger: options.logger.child('hub'),
    });
    this.writer = new BufferedRecordWriter(options.store, {
      flushMs: options.writer.flushMs,
      maxBatch: options.writer.maxBatch,
      logger: options.logger.child('writer'),
      onCommitted: (batch, result) =>
        this.#log.debug('records committed', {
          inserted: result.inserted,
          duplicates: result.duplicates,
          trades: (batch.fills ?? []).map((f) => `${f.symbol}:${f.tradeId}`).join(' '),
          orders: (batch.orderUpdates ?? []).map((o) => `${o.symbol}:${o.orderId}:${o.status}`).join(' '),
        }),
    });
    this.reconciler = new Reconciler({
      store: options.store,
      api: options.api,
      scope: options.scope,
      settings: options.settings,
      logger: options.logger.child('reconcile'),
    });
  }

  /** Connects to the hub, subscribes to order events, runs the first reconciliation, starts the timers. */
  async start(): Promise<void> {
    this.client.onMessage((message) => {
      if (message.op !== 'events') return;
      if (this.#lastSeq !== 0 && message.seq !== this.#lastSeq + 1) {
        this.#gaps += 1;
        this.#log.warn('order events missed; reconciling by REST', {
          expected: this.#lastSeq + 1,
          got: message.seq,
        });
        this.requestReconcile('event gap');
      }
      this.#lastSeq = message.seq;
      for (const json of message.events) this.#onEvent(json);
    });
    this.client.onState((state) => {
      if (state !== 'ready') return;
      this.#lastSeq = 0;
      this.client
        .subscribeEvents()
        .then(() => this.requestReconcile('hub connection'))
        .catch((error: unknown) => {
          this.#log.warn('event subscription failed; the next connection retries', {
            error: messageOf(error),
          });
        });
    });
    await this.client.connect();
    const s = this.#o.settings;
    this.#every(s.reconcileMs, () => this.requestReconcile('periodic'));
    this.#every(s.incomeMs, () => this.#guard('income', () => this.#income()));
    this.#every(s.snapshotMs, () => this.#guard('snapshot', () => this.#snapshot()));
    this.#every(DAY_MS, () => this.#guard('symbols', () => this.#symbols()));
    if (s.klineSymbols.length > 0 && s.klineIntervals.length > 0)
      this.#every(60_000, () => this.#guard('klines', () => this.#klines()));
    this.#every(10_000, () => this.client.report(this.status()));
    await this.#guard('symbols', () => this.#symbols());
    await this.#guard('snapshot', () => this.#snapshot());
  }

  /** Asks for a reconciliation (coalesced with one that is running). */
  requestReconcile(reason: string): void {
    if (this.#stopped) return;
    if (this.#reconciling !== undefined) {
      this.#again = reason;
      return;
    }
    this.#reconciling = this.#reconcileLoop(reason).finally(() => {
      this.#reconciling = undefined;
    });
  }

  /** Resolves when no reconciliation runs or is queued (tests wait on it). */
  async settled(): Promise<void> {
    while (this.#reconciling !== undefined) await this.#reconciling;
  }

  /** Runs a reconciliation now and waits for it (and any queued after it). */
  async reconcileNow(reason: string): Promise<void> {
    this.requestReconcile(reason);
    await this.settled();
  }

  status(): RecorderStatus {
    return {
      hubState: this.client.state,
      events: this.#events,
      rejectedEvents: this.#rejected,
      gaps: this.#gaps,
      reconciliations: this.#reconciliations,
      reconcileFailures: this.#reconcileFailures,
      differences: this.#differences,
      lastReconciledAt: this.#lastReconciledAt,
      writer: { ...this.writer.stats },
    };
  }

  /** Stops timers and the hub link, and writes what is buffered. The store stays open (the caller's). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.splice(0)) clearInterval(t);
    await this.settled().catch(() => undefined);
    await this.client.close();
    await this.writer.close();
  }

  #onEvent(json: string): void {
    this.#events += 1;
    let parsed: ReturnType<typeof parseUserEvent>;
    try {
      parsed = parseUserEvent(Buffer.from(json));
    } catch (error) {
      this.#rejected += 1;
      this.#log.warn('user event refused', { error: messageOf(error), bytes: json.length });
      return;
    }
    const o = parsed.orderUpdate;
    if (o === undefined) return;
    this.#seenSymbols.add(o.symbol);
    const fill = fillFromStream(this.#o.scope, o);
    void this.writer.add({
      orderUpdates: [orderUpdateFromStream(this.#o.scope, o)],
      ...(fill === undefined ? {} : { fills: [fill] }),
    });
  }

  async #reconcileLoop(first: string): Promise<void> {
    let reason: string | undefined = first;
    while (reason !== undefined && !this.#stopped) {
      this.#again = undefined;
      const seen = [...this.#seenSymbols];
      this.#seenSymbols.clear();
      try {
        // Whatever the stream delivered is committed first, so REST rows count as differences
        // only when the stream really missed them.
        await this.writer.flush();
        const report = await this.reconciler.reconcile(reason, seen);
        this.#reconciliations += 1;
        this.#lastReconciledAt = Date.now();
        await this.#report(report);
      } catch (error) {
        this.#reconcileFailures += 1;
        for (const s of seen) this.#seenSymbols.add(s);
        this.#log.error('reconciliation failed; the next one retries', { reason, error: messageOf(error) });
      }
      reason = this.#again;
    }
  }

  async #report(report: ReconcileReport): Promise<void> {
    const level = report.differences.length > 0 ? 'warn' : 'info';
    this.#log[level]('reconciled', {
      reason: report.reason,
      since: report.since,
      symbols: report.symbols,
      requests: report.requests,
      differences: report.differences
        .map((d) => `${d.symbol || 'account'}:${d.orders}/${d.fills}/${d.income}`)
        .join(' '),
    });
    if (report.differences.length === 0) return;
    const alert = reconciliationAlert(report);
    if (alert !== undefined) this.#o.alerts?.raise(alert);
    const now = Date.now();
    const alerts: AlertRecord[] = [];
    for (const d of report.differences) {
      this.#differences += 1;
      try {
        this.#o.onReconciliationDifference?.(d);
      } catch (error) {
        this.#log.error('reconciliation difference listener failed', { error: messageOf(error) });
      }
    }
    alerts.push({
      time: now,
      severity: 'warning',
      source: this.#o.hub.peer,
      kind: 'reconciliation-difference',
      message: `${report.reason}: REST had ${report.differences.reduce((n, d) => n + d.orders, 0)} order states, ${report.differences.reduce((n, d) => n + d.fills, 0)} fills and ${report.differences.reduce((n, d) => n + d.income, 0)} income rows the stream did not deliver`,
      details: JSON.stringify(report.differences),
    });
    await this.writer.add({ alerts });
  }

  async #income(): Promise<void> {
    const result = await this.reconciler.income();
    if (result.inserted > 0) this.#log.debug('income stored', { rows: result.inserted });
  }

  async #snapshot(): Promise<void> {
    const batch: RecordBatch = await readSnapshot(this.#o.api, this.#o.scope, this.#o.settings.snapshotMs);
    const peers = await this.#peers();
    await this.writer.add({ ...batch, peers });
    // Round trips and daily rows of the symbols that traded since the last rebuild (all at first).
    const since = this.#derivedAt;
    this.#derivedAt = Date.now();
    const symbols =
      since === undefined
        ? undefined
        : await this.#o.store.activeSymbols(this.#o.scope, since - this.#o.settings.overlapMs);
    await this.#o.store.rebuildDerived(this.#o.scope, symbols);
  }

  async #peers(): Promise<PeerStatusRecord[]> {
    if (this.client.state !== 'ready') return [];
    const { status } = await this.client.status();
    const peers = (status as { peers?: unknown }).peers;
    if (!Array.isArray(peers)) return [];
    const now = Date.now();
    const time = now - (now % this.#o.settings.snapshotMs);
    return peers.flatMap((p: Record<string, unknown>) =>
      typeof p.peer === 'string'
        ? [
            {
              time,
              peer: p.peer,
              role: String(p.role ?? ''),
              state: String(p.mode ?? 'live'),
              lastSeen: typeof p.lastSeen === 'number' ? p.lastSeen : null,
              details: JSON.stringify(p.report ?? { kind: p.kind ?? null }),
            },
          ]
        : [],
    );
  }

  async #symbols(): Promise<void> {
    await this.writer.add({ symbols: await readSymbols(this.#o.api) });
  }

  async #klines(): Promise<void> {
    const s = this.#o.settings;
    for (const symbol of s.klineSymbols)
      for (const interval of s.klineIntervals)
        await this.writer.add({
          klines: await readClosedKlines(this.#o.api, symbol, interval as KlineInterval, 99),
        });
  }

  #every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /** Runs one periodic job; a failure is logged and the next period retries (no job stops the process). */
  async #guard(job: string, run: () => Promise<void>): Promise<void> {
    if (this.#stopped) return;
    try {
      await run();
    } catch (error) {
      this.#log.warn('recorder job failed; the next period retries', { job, error: messageOf(error) });
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
