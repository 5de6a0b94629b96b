// Stage 3: aggregation of a full day of aggTrades from the data.binance.vision CSV, native against a TS parser + aggregator.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KlineCsvAggregator } from '../../ts/native/index.js';
import { packageRoot } from '../../ts/package-root.js';
import type { JsBar } from '../baseline/aggregator.js';
import { JsBarAggregator } from '../baseline/aggregator.js';
import type { Case } from '../case.js';

/** The official full-day dump the issue names; the case is skipped when it is absent. */
export const DAY_FILE = join(packageRoot, '..', 'shared', 'data', 'BTCUSD_PERP-aggTrades-2026-05-08.csv');

const CHUNK = 1 << 20;

/** One kline row in the dump's layout, from the baseline's float bar. */
function row(k: JsBar): string {
  return `${k.openTime},${k.open},${k.high},${k.low},${k.close},${k.volume},${k.closeTime},${k.quoteVolume},${k.trades},${k.takerBuyVolume},${k.takerBuyQuoteVolume},0\n`;
}

/** The baseline: split lines, `Number()` each column, aggregate 1m bars, format rows. */
function jsAggregateCsv(text: string): string[] {
  const aggregator = new JsBarAggregator('BTCUSD_PERP', ['1m']);
  const rows: string[] = [];
  let start = text.indexOf('\n') + 1; // the header row
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const cols = text.slice(start, end).split(',');
    start = end + 1;
    if (cols.length !== 7) continue;
    const time = Number(cols[5]);
    const closed = aggregator.push({
      symbol: 'BTCUSD_PERP',
      id: Number(cols[0]),
      price: Number(cols[1]),
      quantity: Number(cols[2]),
      firstTradeId: Number(cols[3]),
      lastTradeId: Number(cols[4]),
      tradeTime: time,
      eventTime: time,
      buyerIsMaker: cols[6] === 'true',
    });
    for (const bar of closed) rows.push(row(bar));
  }
  const last = aggregator.openBar('1m');
  if (last !== undefined) rows.push(row(last));
  return rows;
}

/** Stage 3's full-day case, or nothing (with a SKIP line) when the dump is absent. */
export function aggregateCases(): Case[] {
  if (!existsSync(DAY_FILE)) {
    console.warn(`SKIP: ${DAY_FILE} is absent; the full-day aggregation case does not run`);
    return [];
  }
  const bytes = readFileSync(DAY_FILE);
  const text = bytes.toString();
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK));
  const trades = text.trimEnd().split('\n').length - 1;
  const native = (): number => {
    const aggregator = new KlineCsvAggregator({ symbol: 'BTCUSD_PERP', interval: '1m', header: false });
    let out = 0;
    for (const chunk of chunks) out += aggregator.push(chunk).length;
    return out + aggregator.finish().length;
  };
  return [
    {
      name: 'aggregate/full-day CSV → 1m klines',
      unit: 'ns/msg',
      batch: trades,
      native: () => {
        native();
      },
      baseline: () => {
        jsAggregateCsv(text);
      },
      verify: () => {
        const rows = jsAggregateCsv(text).length;
        if (rows !== 1440) throw new Error(`baseline produced ${rows} rows, not 1,440`);
        if (native() <= 0) throw new Error('native produced no rows');
      },
    },
  ];
}
