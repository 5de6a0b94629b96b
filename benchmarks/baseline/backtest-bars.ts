// Baseline bar builder for the backtest case: the CSV rows parsed and aggregated in TypeScript, rows formatted as the native one does.
import type { BarBuilder, BarBuilderFactory } from '../../app/backtest/symbol-tape.js';
import { type JsBar, JsBarAggregator } from './aggregator.js';
import type { JsIntervalName } from './interval.js';

function row(k: JsBar): string {
  return `${k.openTime},${k.open},${k.high},${k.low},${k.close},${k.volume},${k.closeTime},${k.quoteVolume},${k.trades},${k.takerBuyVolume},${k.takerBuyQuoteVolume},0`;
}

/** Splits lines, `Number()`s each column and aggregates with `JsBarAggregator` (float bars). */
export const jsBarBuilder: BarBuilderFactory = (symbol, interval) => {
  const aggregator = new JsBarAggregator(symbol, [interval as JsIntervalName]);
  let carry = '';
  const builder: BarBuilder = {
    push(bytes) {
      const text = carry + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
      const cut = text.lastIndexOf('\n');
      carry = cut < 0 ? text : text.slice(cut + 1);
      const out: string[] = [];
      let start = 0;
      while (start <= cut) {
        const end = text.indexOf('\n', start);
        const cols = text.slice(start, end).split(',');
        start = end + 1;
        if (cols.length !== 7) continue;
        const time = Number(cols[5]);
        if (!Number.isFinite(time)) continue;
        for (const bar of aggregator.push({
          symbol,
          id: Number(cols[0]),
          price: Number(cols[1]),
          quantity: Number(cols[2]),
          firstTradeId: Number(cols[3]),
          lastTradeId: Number(cols[4]),
          tradeTime: time,
          eventTime: time,
          buyerIsMaker: cols[6] === 'true',
        }))
          out.push(row(bar));
      }
      return out.join('\n');
    },
    finish() {
      const last = aggregator.openBar(interval as JsIntervalName);
      return last === undefined ? '' : row(last);
    },
  };
  return builder;
};
