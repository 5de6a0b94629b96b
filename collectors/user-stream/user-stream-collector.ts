// The user-data stream into the hub: positions and balances from ACCOUNT_UPDATE, order events relayed, gaps reconciled by REST.
import { UserDataStream, type UserStreamGap } from '../../ts/exchange/user-data-stream.js';
import { type StreamGapNotice, streamGapEvent } from '../../ts/hub/stream-gap-notice.js';
import type { AccountPoller } from '../account/account-poller.js';
import type { Collector, CollectorStatus } from '../collector.js';
import { type CollectorContext, collectorStatus } from '../collector-context.js';

export interface UserStreamCollectorOptions {
  /** Websocket base URL of the exchange. */
  readonly wsUrl: string;
  /** Polls the account once, to reconcile after a gap in the stream (and once at start). */
  readonly reconcile: Pick<AccountPoller, 'poll'>;
  /**
   * Receives the raw order events (`ORDER_TRADE_UPDATE`, `ALGO_UPDATE`, ...) for traders and
   * recorders, and a stream-gap notice (`ts/hub/stream-gap-notice.ts`) whenever events may have
   * been missed: when the stream starts, after it reconnects, and when the hub link is back.
   */
  readonly onOrderEvents?: (events: Buffer[]) => void;
}

const ACCOUNT_UPDATE = Buffer.from('"ACCOUNT_UPDATE"', 'latin1');

/**
 * The fastest of the three account sources: every `ACCOUNT_UPDATE` position and balance carries
 * the transaction time `T`, so the hub merges it with the REST pollers' records by time. Other
 * events are handed to `onOrderEvents` as bytes. Whenever the stream may have missed events
 * (reconnect, new listen key) the account is polled by REST at once.
 */
export class UserStreamCollector implements Collector {
  readonly kind = 'user-stream' as const;
  readonly #ctx: CollectorContext;
  readonly #options: UserStreamCollectorOptions;
  readonly #stream: UserDataStream;
  readonly #off: (() => void)[] = [];
  #running = false;
  #counters = {
    batches: 0,
    accountUpdates: 0,
    orderEvents: 0,
    records: 0,
    rejected: 0,
    reconciles: 0,
    notices: 0,
    failures: 0,
  };
  #lastSuccessAt: number | null = null;
  #lastError: string | null = null;

  constructor(ctx: CollectorContext, options: UserStreamCollectorOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#stream = new UserDataStream({
      api: ctx.api,
      baseUrl: options.wsUrl,
      logger: ctx.logger.child('stream'),
    });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#off.push(
      this.#stream.onMessages((frames) => this.#onFrames(frames)),
      this.#stream.onPossibleGap((gap) => void this.#reconcile(gap)),
      this.#stream.onFailure((error) => this.#fail('user data stream gave up', error)),
    );
    // Relayed events published while the hub link was down are lost: readers are told when it is back.
    let hubLostAt: number | null = null;
    this.#off.push(
      this.#ctx.hub.onState((state) => {
        if (state === 'ready') {
          if (hubLostAt !== null)
            this.#notice({ reason: 'hub-reconnect', at: Date.now(), lostAt: hubLostAt });
          hubLostAt = null;
        } else if (hubLostAt === null && (state === 'reconnecting' || state === 'connecting')) {
          hubLostAt = Date.now();
        }
      }),
    );
    this.#stream.start().then(
      () => {
        // Whatever happened before this stream connected reached no reader.
        this.#notice({ reason: 'stream-start', at: Date.now(), lostAt: null });
        return this.#reconcile(undefined);
      },
      (error: unknown) => this.#fail('user data stream did not start', error),
    );
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const off of this.#off.splice(0)) off();
    await this.#stream.close();
  }

  status(): CollectorStatus {
    const s = this.#stream.status();
    const work = {
      running: this.#running,
      polls: this.#counters.batches,
      failures: this.#counters.failures,
      lastSuccessAt: this.#lastSuccessAt,
      lastError: this.#lastError,
    };
    return collectorStatus(this.kind, work, this.#ctx.link, {
      state: s.state,
      accountUpdates: this.#counters.accountUpdates,
      orderEvents: this.#counters.orderEvents,
      rejected: this.#counters.rejected,
      reconciles: this.#counters.reconciles,
      gapNotices: this.#counters.notices,
      reconnects: s.reconnects,
      listenKeysCreated: s.listenKeysCreated,
    });
  }

  #fail(what: string, error: unknown): void {
    this.#counters.failures += 1;
    this.#lastError = `${what}: ${error instanceof Error ? error.message : String(error)}`;
    this.#ctx.logger.error(what, { error: this.#lastError });
  }

  #onFrames(frames: Buffer[]): void {
    const { link } = this.#ctx;
    this.#counters.batches += 1;
    const orderEvents: Buffer[] = [];
    for (const frame of frames) {
      if (frame.indexOf(ACCOUNT_UPDATE) < 0) {
        orderEvents.push(frame);
        continue;
      }
      this.#counters.accountUpdates += 1;
      try {
        this.#counters.records += link.encoder.pushUserEvent(frame);
      } catch (error) {
        this.#counters.rejected += 1;
        this.#ctx.logger.warn('ACCOUNT_UPDATE rejected', {
          error: error instanceof Error ? error.message : String(error),
          bytes: frame.length,
        });
      }
    }
    link.flush();
    if (orderEvents.length > 0) {
      this.#counters.orderEvents += orderEvents.length;
      this.#options.onOrderEvents?.(orderEvents);
    }
    this.#lastSuccessAt = Date.now();
  }

  #notice(notice: StreamGapNotice): void {
    this.#counters.notices += 1;
    this.#options.onOrderEvents?.([streamGapEvent(notice)]);
  }

  async #reconcile(gap: UserStreamGap | undefined): Promise<void> {
    if (gap !== undefined) {
      this.#notice({ reason: 'stream-reconnect', at: gap.restoredAt, lostAt: gap.lostAt });
      this.#ctx.logger.warn('user data stream may have missed events; reconciling by REST', {
        reason: gap.reason,
        newListenKey: gap.newListenKey,
        lostMs: gap.restoredAt - gap.lostAt,
      });
    }
    try {
      await this.#options.reconcile.poll();
      this.#counters.reconciles += 1;
    } catch (error) {
      this.#fail('reconcile poll failed', error);
    }
  }
}
