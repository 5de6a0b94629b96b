// A paper trader's account in the records: snapshots of its engine's account and its scope's round trips and daily rows (as the recorder keeps an exchange account's), and the account a restarted paper trader carries over from them.
import { snapshotRecords } from '../../recorder/account-snapshots.js';
import type { ExchangeEngine } from '../../sim/engine/exchange-engine.js';
import { Decimal } from '../../ts/exact/decimal.js';
import type { IncomeRecord as EngineIncome } from '../../ts/exchange/usdm-decoders.js';
import type { Logger } from '../../ts/log/logger.js';
import type { AccountObject } from '../../ts/native/parse.js';
import type { BufferedRecordWriter } from '../../ts/store/buffered-writer.js';
import { incomeFromRest } from '../../ts/store/exchange-records.js';
import type { RecordStore } from '../../ts/store/record-store.js';
import type { RecordScope } from '../../ts/store/store-records.js';
import type { DrivenMarket } from './driven-market.js';
import type { PaperStart } from './paper-venue.js';

/** What {@link PaperAccountRecords} reads and writes. */
export interface PaperAccountRecordsOptions {
  readonly engine: ExchangeEngine;
  readonly accountId: string;
  /** Where the engine's mark prices come from (the positions are valued at them). */
  readonly market: DrivenMarket;
  /** The engine's income rows booked at or after a time (`EngineVenue.incomeSince`). */
  readonly incomeSince: (startTime: number) => readonly EngineIncome[];
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
 * writes the income the engine booked since the last round (funding, realized PnL, commission; not
 * the starting wallet's transfer, which a restart books again for the wallet it carries over),
 * snapshots the paper engine's account every `everyMs` (valued at its marks), then rebuilds the
 * derived rows of the symbols that traded or were funded since the last rebuild. A failed round is
 * logged and the next one tries again; `stop` writes a last one.
 */
export class PaperAccountRecords {
  readonly #o: PaperAccountRecordsOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** When the derived rows were last rebuilt (undefined: never, so every symbol is). */
  #derivedAt: number | undefined;
  #failing = false;
  /** The newest income row written (its time, and its tranId: the engine numbers them in order). */
  #incomeFrom = 0;
  #incomeTranId = -1n;

  constructor(options: PaperAccountRecordsOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.round(), this.#o.everyMs);
    this.#timer.unref();
  }

  /**
   * Stops the timer and writes a last round, stamped with the exact time: a restarted trader
   * carries the account over from it, and a snapshot at the period's rounded time may already hold
   * a position closed since (closed positions are not written, so they could not replace it).
   */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.#round(1);
  }

  /** One snapshot and rebuild now; a round already running is waited for, not doubled. */
  round(): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    this.#running = this.#round(this.#o.everyMs).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** A snapshot stamped at its time rounded down to `stampMs`, then the derived rows. */
  async #round(stampMs: number): Promise<void> {
    const { scope, store, writer, everyMs } = this.#o;
    const now = Date.now();
    try {
      await this.#writeIncome();
      const batch = snapshotRecords(scope, this.#account(), now, stampMs, [], (symbol) => ({
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

  /** The income rows booked since the last round, in the records (the daily rows' funding comes from them). */
  async #writeIncome(): Promise<void> {
    const fresh = this.#o
      .incomeSince(this.#incomeFrom)
      .filter((row) => BigInt(row.tranId) > this.#incomeTranId);
    const last = fresh.at(-1);
    if (last === undefined) return;
    const income = fresh
      .filter((row) => row.incomeType !== 'TRANSFER')
      .map((row) => incomeFromRest(this.#o.scope, row));
    if (income.length > 0) await this.#o.writer.add({ income });
    this.#incomeFrom = last.time;
    this.#incomeTranId = BigInt(last.tranId);
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

/**
 * The account a paper trader starts with: its scope's latest snapshot (the USDT wallet and the
 * open one-way positions of listed symbols) when it has one, else a fresh wallet of
 * `freshBalance`. A position of a symbol no longer listed cannot be carried over: it is logged and
 * left out (the wallet keeps what it paid).
 */
export async function paperStartFromRecords(
  store: Pick<RecordStore, 'accountSummary'>,
  scope: RecordScope,
  freshBalance: string,
  listed: ReadonlySet<string>,
  logger: Logger,
): Promise<PaperStart> {
  const summary = await store.accountSummary(scope);
  const wallet = summary.balances.find((b) => b.asset === 'USDT');
  if (summary.time === null || wallet === undefined) return { balance: freshBalance };
  const positions = [];
  for (const p of summary.positions) {
    if (p.positionSide !== 'BOTH') continue;
    const entry = Decimal.tryParse(p.entryPrice);
    if (!listed.has(p.symbol) || entry === undefined || entry.sign() <= 0) {
      logger.warn(
        'a paper position not carried over: its symbol is no longer listed, or it has no entry price',
        {
          symbol: p.symbol,
          amount: p.amount,
          entryPrice: p.entryPrice,
        },
      );
      continue;
    }
    positions.push({
      symbol: p.symbol,
      amount: p.amount,
      entryPrice: p.entryPrice,
      ...(p.markPrice === null ? {} : { markPrice: p.markPrice }),
    });
  }
  logger.info('paper account carried over from its records', {
    scope: scope.account,
    asOf: summary.time,
    wallet: wallet.walletBalance,
    positions: positions.length,
  });
  return { balance: wallet.walletBalance, positions };
}

/**
 * Closes in the records the conditional orders an earlier paper engine of `scope` left waiting. That
 * engine ended with its process, and its stops with it; a clean stop records their cancels, a crash
 * does not. They are recorded as EXPIRED at `now`; returns how many.
 */
export async function expireOrphanedStops(
  store: Pick<RecordStore, 'algoOrders'>,
  writer: Pick<BufferedRecordWriter, 'add'>,
  scope: RecordScope,
  now: number,
  logger: Logger,
): Promise<number> {
  const orphaned = await store.algoOrders(scope, { open: true });
  if (orphaned.length === 0) return 0;
  await writer.add({
    algoOrderUpdates: orphaned.map((a) => ({
      ...a,
      status: 'EXPIRED',
      updateTime: now,
      source: 'engine' as const,
    })),
  });
  logger.warn('stops an earlier paper engine left waiting (it did not stop cleanly) recorded as expired', {
    scope: scope.account,
    stops: orphaned.length,
  });
  return orphaned.length;
}
