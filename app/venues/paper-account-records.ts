// A paper trader's account in the records: snapshots of its engine's account and its scope's round trips and daily rows, as the recorder keeps an exchange account's.
import { snapshotRecords } from '../../recorder/account-snapshots.js';
import type { ExchangeEngine } from '../../sim/engine/exchange-engine.js';
import type { Logger } from '../../ts/log/logger.js';
import type { AccountObject } from '../../ts/native/parse.js';
import type { BufferedRecordWriter } from '../../ts/store/buffered-writer.js';
import type { RecordStore } from '../../ts/store/record-store.js';
import type { RecordScope } from '../../ts/store/store-records.js';
import type { DrivenMarket } from './driven-market.js';

/** What {@link PaperAccountRecords} reads and writes. */
export interface PaperAccountRecordsOptions {
  readonly engine: ExchangeEngine;
  readonly accountId: string;
  /** Where the engine's mark prices come from (the positions are valued at them). */
  readonly market: DrivenMarket;
  readonly store: RecordStore;
  /** The paper trader's writer (its orders and fills go through it too). */
  readonly writer: BufferedRecordWriter;
  readonly scope: RecordScope;
  /** Snapshot period (`recorder.snapshotMs`): snapshot times are rounded down to it. */
  readonly everyMs: number;
  readonly logger: Logger;
}

/**
 * The recorder keeps an exchange account's positions, balances, equity curve, round trips and
 * daily rows; nothing did for a paper account beside a real exchange, whose orders and fills alone
 * reached the store, so the dashboard of its scope had no equity, positions, trades or days. This
 * snapshots the paper engine's account every `everyMs` (valued at its marks), then rebuilds the
 * derived rows of the symbols that traded since the last rebuild. A failed round is logged and the
 * next one tries again; `stop` writes a last one.
 */
export class PaperAccountRecords {
  readonly #o: PaperAccountRecordsOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** When the derived rows were last rebuilt (undefined: never, so every symbol is). */
  #derivedAt: number | undefined;
  #failing = false;
  /** Rounds written (snapshot and derived rows), for status and tests. */
  rounds = 0;

  constructor(options: PaperAccountRecordsOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.round(), this.#o.everyMs);
    this.#timer.unref();
  }

  /** Stops the timer and writes a last round (waiting for one in progress first). */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.round();
  }

  /** One snapshot and rebuild now; a round already running is waited for, not doubled. */
  round(): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    this.#running = this.#round().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #round(): Promise<void> {
    const { scope, store, writer, everyMs } = this.#o;
    const now = Date.now();
    try {
      const batch = snapshotRecords(scope, this.#account(), now, everyMs, [], (symbol) => ({
        price: this.#o.market.markPrice(symbol).toString(),
        time: now,
      }));
      await writer.add(batch);
      // The round trips are rebuilt from the stored fills: the ones still buffered go first.
      await writer.flush();
      const since = this.#derivedAt;
      const symbols = since === undefined ? undefined : await store.activeSymbols(scope, since - everyMs);
      if (symbols === undefined || symbols.length > 0) await store.rebuildDerived(scope, symbols);
      this.#derivedAt = now;
      this.rounds += 1;
      if (this.#failing) this.#o.logger.info('paper account records written again');
      this.#failing = false;
    } catch (error) {
      if (!this.#failing)
        this.#o.logger.warn('paper account records not written; the next round retries', {
          error: error instanceof Error ? error.message : String(error),
        });
      this.#failing = true;
    }
  }

  /** The engine's account in the exchange's account-read form (what the recorder snapshots). */
  #account(): AccountObject {
    const truth = this.#o.engine.accountTruth(this.#o.accountId);
    const now = Date.now();
    return {
      positions: truth.positions.map((p) => ({
        symbol: p.symbol,
        position: {
          side: p.positionSide,
          amount: p.positionAmt,
          entryPrice: p.entryPrice,
          unrealizedPnl: p.unrealizedPnl,
          updateTime: now,
        },
      })),
      balances: Object.entries(truth.walletBalances).map(([asset, walletBalance]) => ({
        asset,
        walletBalance,
        ...(asset === 'USDT'
          ? { availableBalance: truth.availableBalance, unrealizedPnl: truth.totalUnrealizedProfit }
          : {}),
        updateTime: now,
      })),
    };
  }
}
