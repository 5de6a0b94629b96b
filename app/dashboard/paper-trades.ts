// The owner view's paper trades from the records store (the paper traders record their fills there as mode paper, account paper-<n>).
import type { RecordStore } from '../../ts/store/record-store.js';
import type { PaperTrades } from '../../web/server/owner-live.js';
import type { OwnerTrade } from '../../web/ui/owner-types.js';

/** The newest fills of every paper trader (newest first). */
export class StorePaperTrades implements PaperTrades {
  readonly #store: Pick<RecordStore, 'fills'>;
  readonly #instances: number;

  constructor(store: Pick<RecordStore, 'fills'>, instances: number) {
    this.#store = store;
    this.#instances = instances;
  }

  async recent(limit: number): Promise<{ trades: OwnerTrade[]; note: string | null }> {
    const trades: OwnerTrade[] = [];
    for (let n = 0; n < this.#instances; n++) {
      const fills = await this.#store.fills({ mode: 'paper', account: `paper-${n}` }, { limit });
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
