// The owner view's paper trades from the records store (the paper traders record their fills there as mode paper, account paper-<n>).
import type { RecordStore } from '../../ts/store/record-store.js';
import type { PaperTrades } from '../../web/server/owner-live.js';
import type { OwnerTrade } from '../../web/ui/owner-types.js';

/** The newest fills of every paper trader (newest first). */
export class StorePaperTrades implements PaperTrades {
  readonly #store: Pick<RecordStore, 'fills'>;
  readonly #accounts: string[];

  /**
   * The paper traders of instance numbers `traders` keeping their own records (`paper-<n>`), and
   * `exchangeAccount` when paper traders trade at the built-in simulator (the recorder keeps that
   * account as mode paper).
   */
  constructor(store: Pick<RecordStore, 'fills'>, traders: readonly number[], exchangeAccount?: string) {
    this.#store = store;
    this.#accounts = traders.map((n) => `paper-${n}`);
    if (exchangeAccount !== undefined) this.#accounts.push(exchangeAccount);
  }

  async recent(limit: number): Promise<{ trades: OwnerTrade[]; note: string | null }> {
    const trades: OwnerTrade[] = [];
    for (const account of this.#accounts) {
      const fills = await this.#store.fills({ mode: 'paper', account }, { limit });
      for (const f of fills)
        trades.push({
          time: f.time,
          symbol: f.symbol,
          side: f.side,
          price: f.price,
          quantity: f.qty,
          realizedPnl: f.realizedPnl,
          commission: f.commission,
        });
    }
    trades.sort((a, b) => b.time - a.time);
    return { trades: trades.slice(0, limit), note: null };
  }
}
