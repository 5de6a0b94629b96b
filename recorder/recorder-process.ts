// The recorder process: order events, account state and every process's alerts from the hub into the store; REST reconciliation after gaps; minute snapshots.

import type { AlertFeed, AlertSink } from '../ts/alerts/alert.js';
import type { RecorderSettings } from '../ts/config/recorder-config.js';
import type { KlineInterval, UsdmApi } from '../ts/exchange/usdm-api.js';
import { HubClient } from '../ts/hub/hub-client.js';
import type { HubClientTls } from '../ts/hub/hub-tls.js';
import type { HubKeyCredentials } from '../ts/hub/peer-keys.js';
import type { RelayedAlert } from '../ts/hub/relayed-alerts.js';
import { StandingSubscription, type StandingSubscriptionStats } from '../ts/hub/standing-subscription.js';
import { readStreamGapNotice } from '../ts/hub/stream-gap-notice.js';
import type { Logger } from '../ts/log/logger.js';
import { parseUserEvent } from '../ts/native/parse.js';
import { BufferedRecordWriter, type WriterStats } from '../ts/store/buffered-writer.js';
import {
  algoOrderUpdateFromStream,
  fillFromStream,
  orderUpdateFromStream,
} from '../ts/store/exchange-records.js';
import type { RecordStore } from '../ts/store/record-store.js';
import type { PeerStatusRecord, RecordBatch, RecordScope } from '../ts/store/store-records.js';
import { readClosedKlines, readSnapshot, readSymbols, snapshotRecords } from './account-snapshots.js';
import { alertRecord } from './alert-records.js';
import { HubAccount } from './hub-account.js';
import { type ReconcileCounters, ReconcileScheduler } from './reconcile-scheduler.js';
import { Reconciler, type ReconciliationDifference } from './reconciler.js';

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
   * not deliver): a per-symbol hook for tests and other listeners.
   */
  readonly onReconciliationDifference?: (difference: ReconciliationDifference) => void;
  /**
   * This process's alerter: a reconciliation that found differences raises its alert (one per
   * pass, a warning) through it, and every alert it raises (those of the exchange link too) is
   * kept in the store's alerts table under the recorder's peer name.
   */
  readonly alerts?: AlertSink & AlertFeed;
}

/** The recorder's counters (reported to the hub's /status), with its reconciliation counters. */
export interface RecorderStatus extends Readonly<ReconcileCounters> {
  readonly hubState: string;
  readonly events: number;
  readonly rejectedEvents: number;
  readonly gaps: number;
  /** User-stream gap notices relayed by the collector (each starts a full reconciliation). */
  readonly streamGaps: number;
  /** Whether the hub's account state (positions, balances) is in sync. */
  readonly accountSynced: boolean;
  /** Snapshots written from the hub's account state, and read by REST while it was not in sync. */
  readonly hubSnapshots: number;
  readonly restSnapshots: number;
  /** Alerts stored: relayed by the hub from every process, and the recorder's own. */
  readonly relayedAlerts: number;
  readonly ownAlerts: number;
  /** The order-event and alert subscriptions: connections granted, failed requests, dropped connections. */
  readonly eventSubscription: StandingSubscriptionStats;
  readonly alertSubscription: StandingSubscriptionStats;
  readonly writer: WriterStats;
  /** Rows read by REST that no column can hold (each logged, not stored); the stream's are `writer.refused`. */
  readonly reconcileRefused: number;
  /** Fills REST reported with other values than the stored ones of their trade ids (each logged). */
  readonly reconcileConflicts: number;
}

/**
 * Records one exchange account (DESIGN.md 7), as a viewer of the hub:
 *
 * - **Order events** the user-stream collectors relay are buffered into the store (order states,
 *   fills); the symbols they name are remembered as active.
 * - **Account state** (positions, balances) comes from the hub's topics ({@link HubAccount}); a
 *   snapshot every `snapshotMs` is written from it (read by REST only while it is not in sync).
 * - **Alerts** of every process come from the hub's relay (with a replay of what the hub kept
 *   after a reconnection); the recorder's own are stored directly.
 * - **Reconciliation** by REST (`Reconciler`): a full pass after the start, every (re)connection
 *   to the hub, a jump in the events' sequence and every gap notice of the user stream (the stream
 *   may have missed anything); every `reconcileMs` a pass over only the symbols with activity since
 *   the last one (none: no requests). Passes run one at a time; requests while one runs are merged
 *   into one more run afterwards (full if any was).
 * - **Income** is read every `incomeMs` when something may have booked some (a fill seen, an open
 *   position's funding), and at least every `reconcileMs`; its new rows name symbols for the next
 *   pass (a fill the stream missed still books commission).
 */
export class RecorderProcess {
  readonly client: HubClient;
  readonly writer: BufferedRecordWriter;
  readonly reconciler: Reconciler;
  readonly scheduler: ReconcileScheduler;
  readonly account: HubAccount;
  readonly #eventSubscription: StandingSubscription;
  readonly #alertSubscription: StandingSubscription;
  readonly #o: RecorderOptions;
  readonly #log: Logger;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #off: Array<() => void> = [];
  #lastSeq = 0;
  #alertHub: string | undefined;
  #alertSeq = 0;
  #stopped = false;
  #derivedAt: number | undefined;
  /** Symbols of rows a reconciliation stored that the stream missed: their times may predate any recent window. */
  #lateSymbols = new Set<string>();
  /** A reconciliation stored income the stream missed; the difference names no symbol, so every one is rebuilt. */
  #lateIncome = false;
  /** Symbols whose last rebuild failed. */
  #rebuildFailed = new Set<string>();
  #restFallbackLogged = false;
  #s = {
    events: 0,
    rejectedEvents: 0,
    gaps: 0,
    streamGaps: 0,
    hubSnapshots: 0,
    restSnapshots: 0,
    relayedAlerts: 0,
    ownAlerts: 0,
  };

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
          algoOrders: (batch.algoOrderUpdates ?? [])
            .map((a) => `${a.symbol}:${a.algoId}:${a.status}`)
            .join(' '),
        }),
    });
    this.reconciler = new Reconciler({
      store: options.store,
      api: options.api,
      scope: options.scope,
      settings: options.settings,
      logger: options.logger.child('reconcile'),
    });
    this.account = new HubAccount(this.client, options.logger.child('account'));
    this.scheduler = new ReconcileScheduler({
      reconciler: this.reconciler,
      flush: () => this.writer.flush(),
      openPositions: () => this.account.openPositionSymbols(),
      reconcileMs: options.settings.reconcileMs,
      logger: options.logger.child('reconcile'),
      onDifference: (difference) => {
        if (difference.symbol === '') this.#lateIncome = true;
        else this.#lateSymbols.add(difference.symbol);
        options.onReconciliationDifference?.(difference);
      },
      ...(options.alerts === undefined ? {} : { alerts: options.alerts }),
    });
    // Both subscriptions last one connection: they are asked again on every one.
    this.#eventSubscription = new StandingSubscription(this.client, {
      what: 'order events',
      subscribe: () => {
        this.#lastSeq = 0;
        return this.client.subscribeEvents();
      },
      // Whatever happened while this recorder was not subscribed is read by REST.
      onSubscribed: () => this.requestReconcile('hub connection'),
      logger: this.#log.child('events'),
    });
    this.#alertSubscription = new StandingSubscription(this.client, {
      what: 'alerts',
      subscribe: (welcome) => {
        // The same hub instance continues its alert numbering: ask only for what came after.
        const sameHub = welcome !== undefined && welcome.hub === this.#alertHub;
        this.#alertHub = welcome?.hub;
        if (!sameHub) this.#alertSeq = 0;
        return this.client.subscribeAlerts(sameHub ? this.#alertSeq : undefined);
      },
      logger: this.#log.child('alerts'),
    });
  }

  /**
   * Connects to the hub, subscribes to order events, account state and alerts, runs the first
   * (full) reconciliation, starts the timers.
   */
  async start(): Promise<void> {
    const own = this.#o.alerts;
    if (own !== undefined) this.#off.push(own.onAlert((alert) => this.#storeOwnAlert(alert)));
    this.#off.push(
      this.client.onMessage((message) => {
        if (message.op === 'events') {
          if (this.#lastSeq !== 0 && message.seq !== this.#lastSeq + 1) {
            this.#s.gaps += 1;
            this.#log.warn('order events missed; reconciling by REST', {
              expected: this.#lastSeq + 1,
              got: message.seq,
            });
            this.requestReconcile('event gap');
          }
          this.#lastSeq = message.seq;
          for (const json of message.events) this.#onEvent(json);
        } else if (message.op === 'alerts') {
          this.#storeRelayedAlerts(message.alerts);
        }
      }),
    );
    this.#eventSubscription.start();
    this.#alertSubscription.start();
    this.account.start();
    await this.client.connect();
    const s = this.#o.settings;
    this.#every(s.reconcileMs, () => this.scheduler.tick());
    this.#every(s.incomeMs, () => void this.#guard('income', () => this.scheduler.incomeTick()));
    this.#every(s.snapshotMs, () => void this.#guard('snapshot', () => this.#snapshot()));
    this.#every(DAY_MS, () => void this.#guard('symbols', () => this.#symbols()));
    if (s.klineSymbols.length > 0 && s.klineIntervals.length > 0)
      this.#every(60_000, () => void this.#guard('klines', () => this.#klines()));
    this.#every(10_000, () => this.client.report(this.status()));
    await this.#guard('symbols', () => this.#symbols());
    await this.#guard('snapshot', () => this.#snapshot());
  }

  /** Asks for a full reconciliation (merged with one that is running). */
  requestReconcile(reason: string): void {
    if (!this.#stopped) this.scheduler.requestFull(reason);
  }

  /** Resolves when no reconciliation runs or is queued (tests wait on it). */
  async settled(): Promise<void> {
    await this.scheduler.settled();
  }

  /** Runs a full reconciliation now and waits for it (and any queued after it). */
  async reconcileNow(reason: string): Promise<void> {
    this.requestReconcile(reason);
    await this.settled();
  }

  status(): RecorderStatus {
    return {
      hubState: this.client.state,
      ...this.#s,
      ...this.scheduler.counters,
      accountSynced: this.account.synced,
      eventSubscription: this.#eventSubscription.stats(),
      alertSubscription: this.#alertSubscription.stats(),
      writer: { ...this.writer.stats },
      reconcileRefused: this.reconciler.refused,
      reconcileConflicts: this.reconciler.conflicts,
    };
  }

  /** Stops timers and the hub link, and writes what is buffered. The store stays open (the caller's). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.splice(0)) clearInterval(t);
    for (const off of this.#off.splice(0)) off();
    this.#eventSubscription.stop();
    this.#alertSubscription.stop();
    await this.scheduler.stop();
    this.account.stop();
    await this.client.close();
    await this.writer.close();
  }

  #onEvent(json: string): void {
    this.#s.events += 1;
    const notice = readStreamGapNotice(json);
    if (notice !== undefined) {
      this.#s.streamGaps += 1;
      this.#log.info('the user stream may have missed events; reconciling by REST', {
        reason: notice.reason,
        lostAt: notice.lostAt,
      });
      this.requestReconcile(`user stream ${notice.reason}`);
      return;
    }
    let parsed: ReturnType<typeof parseUserEvent>;
    try {
      parsed = parseUserEvent(Buffer.from(json));
    } catch (error) {
      this.#s.rejectedEvents += 1;
      this.#log.warn('user event refused', { error: messageOf(error), bytes: json.length });
      return;
    }
    const algo = parsed.algoUpdate;
    if (algo !== undefined) {
      // A conditional order (a stop-loss ladder's stop, ...): its states, not an order's.
      void this.writer.add({ algoOrderUpdates: [algoOrderUpdateFromStream(this.#o.scope, algo)] });
      return;
    }
    const o = parsed.orderUpdate;
    if (o === undefined) return;
    const fill = fillFromStream(this.#o.scope, o);
    this.scheduler.activity(o.symbol, fill !== undefined);
    void this.writer.add({
      orderUpdates: [orderUpdateFromStream(this.#o.scope, o)],
      ...(fill === undefined ? {} : { fills: [fill] }),
    });
  }

  #storeOwnAlert(alert: Parameters<typeof alertRecord>[1]): void {
    this.#s.ownAlerts += 1;
    void this.writer.add({ alerts: [alertRecord(this.#o.hub.peer, alert)] });
  }

  #storeRelayedAlerts(alerts: readonly RelayedAlert[]): void {
    if (alerts.length === 0) return;
    this.#s.relayedAlerts += alerts.length;
    for (const a of alerts) this.#alertSeq = Math.max(this.#alertSeq, a.seq);
    void this.writer.add({ alerts: alerts.map((a) => alertRecord(a.peer, a)) });
  }

  async #snapshot(): Promise<void> {
    const now = Date.now();
    const everyMs = this.#o.settings.snapshotMs;
    const account = this.account.account();
    let batch: RecordBatch;
    if (account !== undefined) {
      batch = snapshotRecords(this.#o.scope, account, now, everyMs, [], (symbol) =>
        this.account.mark(symbol),
      );
      this.#s.hubSnapshots += 1;
      this.#restFallbackLogged = false;
    } else {
      if (!this.#restFallbackLogged)
        this.#log.warn("the hub's account state is not in sync; snapshots are read by REST until it is");
      this.#restFallbackLogged = true;
      batch = await readSnapshot(this.#o.api, this.#o.scope, everyMs);
      this.#s.restSnapshots += 1;
    }
    const peers = await this.#peers();
    await this.writer.add({ ...batch, peers });
    // Round trips and daily rows of the symbols that traded since the last rebuild (all at first,
    // and after a reconciliation stored rows the stream missed: those carry their exchange times,
    // which may be older than any window since the last rebuild).
    const since = this.#derivedAt;
    const startedAt = Date.now();
    const everything = since === undefined || this.#lateIncome;
    const symbols = await this.#o.store.activeSymbols(
      this.#o.scope,
      everything ? 0 : since - this.#o.settings.overlapMs,
    );
    this.#derivedAt = startedAt;
    if (everything) this.#lateIncome = false;
    const late = this.#lateSymbols;
    this.#lateSymbols = new Set();
    // One symbol at a time: one that cannot be rebuilt (a row no day can hold, a failed write)
    // must not leave every symbol after it stale; it is logged and tried again next time.
    const failed = new Set<string>();
    for (const symbol of new Set([...this.#rebuildFailed, ...late, ...symbols])) {
      try {
        await this.#o.store.rebuildDerived(this.#o.scope, [symbol]);
      } catch (error) {
        failed.add(symbol);
        // Logged when a symbol starts failing, not again at every snapshot while it still does.
        if (!this.#rebuildFailed.has(symbol))
          this.#log.warn('round trips and daily rows not rebuilt; every snapshot retries', {
            symbol,
            error: messageOf(error),
          });
      }
    }
    this.#rebuildFailed = failed;
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
      // A job cut short by the stop (its requests failed unsent) is no failure.
      if (this.#stopped)
        this.#log.info('recorder job left to the next start', { job, error: messageOf(error) });
      else this.#log.warn('recorder job failed; the next period retries', { job, error: messageOf(error) });
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
