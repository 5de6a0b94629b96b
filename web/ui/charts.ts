// The dashboard's charts on TradingView's lightweight-charts: equity and balance lines, daily PnL bars, candles with trades and stops.
import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  type IChartApi,
  LineSeries,
  LineStyle,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { ChartDocument, DailyRow, EquityPoint } from '../../ts/publish/dashboard-documents.js';

/** Colours shared with the stylesheet. */
export const COLOURS = {
  up: '#16a34a',
  down: '#dc2626',
  equity: '#2563eb',
  balance: '#9333ea',
  commission: '#f59e0b',
  stop: '#ef4444',
  text: '#334155',
  grid: '#e2e8f0',
};

function seconds(ms: number): UTCTimestamp {
  return Math.floor(ms / 1000) as UTCTimestamp;
}

/**
 * A chart filling `container` that follows its width (phones to desktops). Values go to the chart
 * as numbers: it draws them, the tables show the exact decimals.
 */
function baseChart(container: HTMLElement, height: number): IChartApi {
  const chart = createChart(container, {
    height,
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: '#ffffff' }, textColor: COLOURS.text },
    grid: { vertLines: { color: COLOURS.grid }, horzLines: { color: COLOURS.grid } },
    timeScale: { timeVisible: true, secondsVisible: false },
    rightPriceScale: { borderVisible: false },
  });
  return chart;
}

/** Equity and wallet balance over time. */
export function equityChart(container: HTMLElement, points: readonly EquityPoint[]): IChartApi {
  const chart = baseChart(container, 320);
  const equity = chart.addSeries(LineSeries, { color: COLOURS.equity, lineWidth: 2, title: 'equity' });
  const balance = chart.addSeries(LineSeries, { color: COLOURS.balance, lineWidth: 1, title: 'balance' });
  const unique = dedupeByTime(points.map((p) => ({ t: seconds(p.time), p })));
  equity.setData(unique.map(({ t, p }) => ({ time: t, value: Number(p.equity) })));
  balance.setData(unique.map(({ t, p }) => ({ time: t, value: Number(p.walletBalance) })));
  chart.timeScale().fitContent();
  return chart;
}

/** Net PnL per day as green/red bars, commission as a line. */
export function dailyChart(container: HTMLElement, days: readonly DailyRow[]): IChartApi {
  const chart = baseChart(container, 280);
  chart.applyOptions({ timeScale: { timeVisible: false } });
  const bars = chart.addSeries(HistogramSeries, { title: 'net' });
  const commission = chart.addSeries(LineSeries, {
    color: COLOURS.commission,
    lineWidth: 2,
    title: 'commission',
  });
  const time = (day: string) => seconds(Date.parse(`${day}T00:00:00Z`));
  bars.setData(
    days.map((d) => ({
      time: time(d.day),
      value: Number(d.net),
      color: d.net.startsWith('-') ? COLOURS.down : COLOURS.up,
    })),
  );
  commission.setData(days.map((d) => ({ time: time(d.day), value: Number(d.commission) })));
  chart.timeScale().fitContent();
  return chart;
}

/** Candles with the strategy's entries (arrows) and exits (circles) at their prices, and stop levels. */
export function candleChart(container: HTMLElement, doc: ChartDocument): IChartApi {
  const chart = baseChart(container, 420);
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: COLOURS.up,
    downColor: COLOURS.down,
    borderVisible: false,
    wickUpColor: COLOURS.up,
    wickDownColor: COLOURS.down,
  });
  candles.setData(
    doc.candles.map((c) => ({
      time: seconds(c.openTime),
      open: Number(c.open),
      high: Number(c.high),
      low: Number(c.low),
      close: Number(c.close),
    })),
  );
  // Markers sit on the candle that holds the fill's time.
  const intervalS =
    doc.candles.length > 1
      ? seconds(doc.candles[1]?.openTime ?? 0) - seconds(doc.candles[0]?.openTime ?? 0)
      : 60;
  const first = seconds(doc.candles[0]?.openTime ?? 0);
  const markers: SeriesMarker<Time>[] = doc.trades.map((t) => {
    const bar = (first + Math.floor((seconds(t.time) - first) / intervalS) * intervalS) as UTCTimestamp;
    const buy = t.side === 'BUY';
    return {
      time: bar,
      position: 'atPriceMiddle',
      price: Number(t.price),
      shape: t.kind === 'exit' ? 'circle' : buy ? 'arrowUp' : 'arrowDown',
      color: t.kind === 'exit' ? COLOURS.text : buy ? COLOURS.up : COLOURS.down,
      // Words only when few: dozens of labels on one chart hide the candles.
      ...(doc.trades.length <= 12
        ? { text: `${t.kind === 'exit' ? 'exit' : buy ? 'buy' : 'sell'} ${t.quantity}` }
        : {}),
    };
  });
  createSeriesMarkers(candles, markers);
  const lastTime = seconds(doc.candles.at(-1)?.openTime ?? doc.generatedAt);
  for (const stop of doc.stops) {
    if (stop.to === null) {
      candles.createPriceLine({
        price: Number(stop.price),
        color: COLOURS.stop,
        lineStyle: LineStyle.Dashed,
        lineWidth: 1,
        axisLabelVisible: true,
        title: 'stop',
      });
    }
    // The span it was in force, drawn where the candles are.
    const from = Math.max(first, seconds(stop.from));
    const to = stop.to === null ? lastTime : Math.min(lastTime, seconds(stop.to));
    if (to <= from) continue;
    const line = chart.addSeries(LineSeries, {
      color: COLOURS.stop,
      lineWidth: 1,
      lineStyle: LineStyle.Dotted,
      lastValueVisible: false,
      priceLineVisible: false,
      crosshairMarkerVisible: false,
    });
    line.setData([
      { time: from as UTCTimestamp, value: Number(stop.price) },
      { time: to as UTCTimestamp, value: Number(stop.price) },
    ]);
  }
  chart.timeScale().fitContent();
  return chart;
}

/** Points with the same second keep the last (the chart needs strictly increasing times). */
function dedupeByTime<T>(items: readonly { t: UTCTimestamp; p: T }[]): { t: UTCTimestamp; p: T }[] {
  const out: { t: UTCTimestamp; p: T }[] = [];
  for (const item of items) {
    if (out.length > 0 && out[out.length - 1]?.t === item.t) out[out.length - 1] = item;
    else if (out.length === 0 || (out[out.length - 1]?.t ?? 0) < item.t) out.push(item);
  }
  return out;
}
