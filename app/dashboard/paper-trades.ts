// The owner view's paper trades from the paper trader's records file (`<state dir>/paper-records.jsonl`, one JSON line per order and fill).
import { join } from 'node:path';
import { tailLines } from '../../web/server/log-tail.js';
import type { PaperTrades } from '../../web/server/owner-live.js';
import type { OwnerTrade } from '../../web/ui/owner-types.js';

function text(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

/** Reads the newest fills of every paper trader (newest first); lines that are not fills are skipped. */
export class PaperRecordsTrades implements PaperTrades {
  readonly #root: string;
  readonly #instances: number;

  constructor(root: string, instances: number) {
    this.#root = root;
    this.#instances = instances;
  }

  async recent(limit: number): Promise<{ trades: OwnerTrade[]; note: string | null }> {
    const trades: OwnerTrade[] = [];
    let unreadable = 0;
    for (let n = 0; n < this.#instances; n++) {
      const lines = await tailLines(join(this.#root, `trader-${n}`, 'paper-records.jsonl'), limit * 4);
      for (const line of lines) {
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          unreadable++;
          continue;
        }
        if (record.record !== 'fill') continue;
        const time = Number(record.time);
        const symbol = text(record.symbol);
        const side = text(record.side);
        const price = text(record.price);
        const quantity = text(record.quantity);
        if (
          !Number.isFinite(time) ||
          symbol === null ||
          side === null ||
          price === null ||
          quantity === null
        ) {
          unreadable++;
          continue;
        }
        trades.push({
          time,
          symbol,
          side,
          price,
          quantity,
          realizedPnl: text(record.realizedPnl),
          commission: text(record.commission),
        });
      }
    }
    trades.sort((a, b) => b.time - a.time);
    const note = unreadable > 0 ? `${unreadable} record line(s) could not be read` : null;
    return { trades: trades.slice(0, limit), note };
  }
}
