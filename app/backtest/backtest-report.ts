// The backtest's summary, JSON report and self-contained HTML page (equity curve, prices with entries and exits).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fillRecord } from '../../trader/execution/fill-record.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { computeRoundTrips, QUOTE_ASSET } from '../../ts/store/round-trips.js';
import type { IncomeRecord, RoundTripRecord } from '../../ts/store/store-records.js';
import type { BacktestOutcome } from './backtest-runner.js';
import { fundingLine } from './funding-rates.js';

const MINUTES_PER_YEAR = 525_600;
/** Candles drawn per symbol at most; longer runs are merged into coarser candles for the page. */
const MAX_CANDLES = 20_000;

/** The figures a person looks at first. */
export interface BacktestSummary {
  readonly fills: number;
  readonly roundTrips: number;
  readonly winRate: number | null;
  readonly startEquity: string;
  readonly finalEquity: string;
  /** After fees and funding (final − start equity; open positions valued at the last price). */
  readonly pnl: string;
  readonly realizedPnl: string;
  readonly fees: string;
  readonly funding: string;
  /** Where the funding rates came from: recorded files and rows, or the constant, marked as assumed. */
  readonly fundingSource: string;
  readonly maxDrawdown: string;
  readonly maxDrawdownPct: number;
  /** Annualised from one-minute equity returns. */
  readonly sharpe: number | null;
  /** Share of minutes with a position open. */
  readonly exposure: number;
  readonly openPositionsAtEnd: number;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** The summary of an outcome (exact money, rounded ratios). */
export function summarize(out: BacktestOutcome): BacktestSummary {
  const start = Decimal.parse(out.balance);
  const final = Decimal.parse(out.finalEquity);
  let peak = start;
  let maxDd = Decimal.ZERO;
  let maxDdPct = 0;
  const returns: number[] = [];
  let previous = start.toNumber();
  let exposed = 0;
  for (const point of out.equity) {
    const e = Decimal.parse(point.equity);
    if (e.gt(peak)) peak = e;
    const dd = peak.sub(e);
    if (dd.gt(maxDd)) {
      maxDd = dd;
      maxDdPct = peak.sign() > 0 ? dd.toNumber() / peak.toNumber() : 0;
    }
    const now = e.toNumber();
    if (previous > 0) returns.push(now / previous - 1);
    previous = now;
    if (point.exposed > 0) exposed += 1;
  }
  const mean = returns.reduce((a, b) => a + b, 0) / Math.max(1, returns.length);
  const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / Math.max(1, returns.length);
  const sd = Math.sqrt(variance);
  const trips = roundTrips(out);
  const wins = trips.filter((t) => Decimal.parse(t.netPnl).sign() > 0).length;
  const last = out.equity.at(-1);
  return {
    fills: out.recorder.fills.length,
    roundTrips: trips.length,
    winRate: trips.length === 0 ? null : round(wins / trips.length, 4),
    startEquity: start.toString(),
    finalEquity: final.toString(),
    pnl: final.sub(start).toString(),
    realizedPnl: out.realized,
    fees: out.fees,
    funding: out.funding,
    fundingSource: fundingLine(out.fundingSource),
    maxDrawdown: maxDd.toString(),
    maxDrawdownPct: round(maxDdPct, 6),
    sharpe: sd > 0 ? round((mean / sd) * Math.sqrt(MINUTES_PER_YEAR), 4) : null,
    exposure: round(exposed / Math.max(1, out.equity.length), 4),
    openPositionsAtEnd: last?.exposed ?? 0,
  };
}

/**
 * The run's round trips exactly as the records store derives them from the same fills and funding
 * ({@link computeRoundTrips}), so a backtest's trip count and win rate are the dashboard's: a fill
 * that flips the position closes one trip and opens the next, and funding paid while a trip is
 * open counts in its net.
 */
function roundTrips(out: BacktestOutcome): RoundTripRecord[] {
  // The scope only labels the records; the trips are counted, not stored.
  const scope = { mode: 'backtest', account: out.strategy } as const;
  const fills = out.recorder.fills.map((fill) => fillRecord(fill, scope));
  const funding: IncomeRecord[] = out.fundingPayments.map((payment, index) => ({
    ...scope,
    symbol: payment.symbol,
    incomeType: 'FUNDING_FEE',
    income: payment.income,
    asset: QUOTE_ASSET,
    info: '',
    time: payment.time,
    tranId: String(index),
    tradeId: '',
  }));
  return computeRoundTrips(scope, fills, funding);
}

/** The JSON report: deterministic (same outcome, same bytes), exact decimals as strings. */
export function reportJson(out: BacktestOutcome): string {
  const report = {
    strategy: out.strategy,
    files: out.files,
    symbols: out.symbols,
    start: out.start,
    end: out.end,
    assumedSpecs: out.assumedSpecs,
    summary: summarize(out),
    engine: out.stats,
    skippedLegs: out.skippedLegs,
    rejectedRows: out.rejectedRows,
    funding: { ...out.fundingSource, payments: out.fundingPayments },
    orders: out.recorder.orders,
    fills: out.recorder.fills.map((f) => ({
      time: f.time,
      symbol: f.symbol,
      side: f.side,
      price: f.price.toString(),
      quantity: f.quantity.toString(),
      commission: f.commission.toString(),
      realizedPnl: f.realizedPnl.toString(),
      maker: f.maker,
      clientOrderId: f.clientOrderId,
      tradeId: f.tradeId,
    })),
    risk: out.risk,
    equity: out.equity,
  };
  return `${JSON.stringify(report, null, 1)}\n`;
}

/** The summary as printed lines. */
export function summaryText(out: BacktestOutcome): string {
  const s = summarize(out);
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)} %`);
  return [
    `strategy ${out.strategy} on ${out.symbols.join(', ')}, ${new Date(out.start).toISOString()} → ${new Date(out.end).toISOString()}`,
    `trades      ${s.fills} fills, ${s.roundTrips} round trips, win rate ${pct(s.winRate)}`,
    `PnL         ${s.pnl} USDT after fees ${s.fees} and funding ${s.funding} (realized ${s.realizedPnl})`,
    `funding     ${s.fundingSource}`,
    `equity      ${s.startEquity} → ${s.finalEquity} USDT`,
    `drawdown    ${s.maxDrawdown} USDT max (${pct(s.maxDrawdownPct)})`,
    `sharpe      ${s.sharpe ?? 'n/a'} (annualised, 1-minute returns)`,
    `exposure    ${pct(s.exposure)} of minutes in a position; ${s.openPositionsAtEnd} open at the end`,
    riskLine(out),
    ...(out.rejectedRows > 0
      ? [
          `note        ${out.rejectedRows} input rows rejected (malformed, repeated or out of order; see the log)`,
        ]
      : []),
    ...(out.assumedSpecs.length > 0
      ? [
          `note        contract rules assumed for ${out.assumedSpecs.join(', ')} (not in the simulator's list)`,
        ]
      : []),
  ].join('\n');
}

/** What the risk side did, in one line (stop-loss exits are among the fills above). */
function riskLine(out: BacktestOutcome): string {
  const risk = out.risk;
  if (risk === null) return 'risk        off (no pre-trade checks, loss guard or stop-loss ladders)';
  const stopFills = out.recorder.fills.filter((f) => f.clientOrderId.startsWith('sl_')).length;
  const refused = Object.values(risk.refusals).reduce((a, b) => a + b, 0);
  const closes = (risk.events['risk-action:force-close'] ?? 0) + (risk.events['risk-action:close-all'] ?? 0);
  const failures = risk.events['stop-loss-failure'] ?? 0;
  const bans = risk.actions.filter((a) => a.action === 'ban').length;
  const banRefused = risk.refusals['ban-list'] ?? 0;
  return `risk        ${stopFills} stop-loss fills, ${refused} orders refused, ${closes} force-close/close-all, ${failures} stop-loss failures; ${bans} bans (ban list, ${banRefused} refused by it); state ${risk.state}`;
}

function coarse(
  candles: Array<[number, number, number, number, number]>,
): Array<[number, number, number, number, number]> {
  if (candles.length <= MAX_CANDLES) return candles;
  const k = Math.ceil(candles.length / MAX_CANDLES);
  const out: Array<[number, number, number, number, number]> = [];
  for (let i = 0; i < candles.length; i += k) {
    const group = candles.slice(i, i + k);
    const first = group[0] as [number, number, number, number, number];
    const lastC = group[group.length - 1] as [number, number, number, number, number];
    out.push([
      first[0],
      first[1],
      Math.max(...group.map((c) => c[2])),
      Math.min(...group.map((c) => c[3])),
      lastC[4],
    ]);
  }
  return out;
}

/** The standalone lightweight-charts build (Apache-2.0), inlined so the page needs nothing else. */
function chartLibrary(): string {
  const require = createRequire(import.meta.url);
  // The package exports only its ES module; the standalone build sits beside its package.json.
  const root = dirname(require.resolve('lightweight-charts/package.json'));
  return readFileSync(join(root, 'dist', 'lightweight-charts.standalone.production.js'), 'utf8');
}

/** Risk actions shown on the HTML page at most; report.json holds them all. */
const HTML_RISK_ACTIONS = 500;

/** The risk side's actions as table rows (time UTC, action, symbol, reason), the first {@link HTML_RISK_ACTIONS}. */
function riskActionRows(out: BacktestOutcome, esc: (t: string) => string): string {
  const actions = out.risk?.actions ?? [];
  const rows = actions
    .slice(0, HTML_RISK_ACTIONS)
    .map(
      (a) =>
        `<tr><td>${esc(new Date(a.time).toISOString())}</td><td>${esc(a.action)}</td><td>${esc(a.symbol ?? 'ALL')}</td><td>${esc(a.reason)}</td></tr>`,
    )
    .join('');
  const more =
    actions.length > HTML_RISK_ACTIONS
      ? `<p>${actions.length - HTML_RISK_ACTIONS} more in report.json.</p>`
      : '';
  return `<table><tr><th>time (UTC)</th><th>action</th><th>symbol</th><th>reason</th></tr>${rows}</table>${more}`;
}

/**
 * A self-contained HTML page: the summary, the risk side's actions (refusals, bans, force-closes,
 * stop-loss failures), the equity curve, and each symbol's prices with entries and exits.
 */
export function reportHtml(out: BacktestOutcome): string {
  const s = summarize(out);
  const data = {
    equity: out.equity.map((p) => ({ time: Math.floor(p.time / 1000), value: Number(p.equity) })),
    symbols: out.symbols.map((symbol) => ({
      symbol,
      candles: coarse(out.candles[symbol] ?? []).map((c) => ({
        time: Math.floor(c[0] / 1000),
        open: c[1],
        high: c[2],
        low: c[3],
        close: c[4],
      })),
      markers: out.recorder.fills
        .filter((f) => f.symbol === symbol)
        .map((f) => ({
          time: Math.floor(f.time / 60_000) * 60,
          position: f.side === 'BUY' ? 'belowBar' : 'aboveBar',
          color: f.side === 'BUY' ? '#1b873f' : '#c62828',
          shape: f.side === 'BUY' ? 'arrowUp' : 'arrowDown',
          text: `${f.side} ${f.quantity.toString()} @ ${f.price.toString()}`,
        })),
    })),
  };
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = Object.entries(s)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backtest: ${esc(out.strategy)} on ${esc(out.symbols.join(', '))}</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:1200px}table{border-collapse:collapse}th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd}.chart{height:360px;margin:1rem 0}h2{font-size:1.1rem}</style>
</head><body>
<h1>Backtest: ${esc(out.strategy)}</h1>
<p>${esc(out.files.join(', '))}<br>${esc(new Date(out.start).toISOString())} → ${esc(new Date(out.end).toISOString())}</p>
<table>${rows}</table>
${out.risk === null || out.risk.actions.length === 0 ? '' : `<h2>Risk actions</h2>${riskActionRows(out, esc)}`}
<h2>Equity (USDT)</h2><div id="equity" class="chart"></div>
<div id="prices"></div>
<script>${chartLibrary()}</script>
<script>
const data = ${JSON.stringify(data)};
const L = LightweightCharts;
const eq = L.createChart(document.getElementById('equity'), { autoSize: true, timeScale: { timeVisible: true } });
eq.addSeries(L.LineSeries, { color: '#1565c0', lineWidth: 2 }).setData(data.equity);
eq.timeScale().fitContent();
for (const s of data.symbols) {
  const h = document.createElement('h2'); h.textContent = s.symbol + ' (entries ▲, exits ▼)';
  const div = document.createElement('div'); div.className = 'chart';
  document.getElementById('prices').append(h, div);
  const chart = L.createChart(div, { autoSize: true, timeScale: { timeVisible: true } });
  const candles = chart.addSeries(L.CandlestickSeries, {});
  candles.setData(s.candles);
  L.createSeriesMarkers(candles, s.markers);
  chart.timeScale().fitContent();
}
</script>
</body></html>
`;
}
