// The public dashboard's pages, each a function from the loaded documents to a DOM tree.
import type { IChartApi } from 'lightweight-charts';
import { PNL_WINDOWS, type RoundTripRow } from '../../ts/publish/dashboard-documents.js';
import { candleChart, dailyChart, equityChart } from '../ui/charts.js';
import { type Loaded, loadChart } from '../ui/documents.js';
import { card, el, num, section, table } from '../ui/dom.js';
import { formatAge, formatTime } from '../ui/format.js';

/**
 * What a page hands back: its content, and a function that draws its charts once the content is
 * in the document (a chart measures its container: drawn detached it would have no width).
 */
export interface Rendered {
  readonly node: HTMLElement;
  readonly draw: () => IChartApi[];
}

/** A page of the dashboard. */
export interface Page {
  readonly id: string;
  readonly title: string;
  render(loaded: Loaded, base: string, param: string | undefined): Promise<Rendered>;
}

function chartBox(id: string): HTMLElement {
  return el('div', { class: 'chart', id, 'data-chart': id });
}

const overview: Page = {
  id: 'overview',
  title: 'Overview',
  async render({ docs }) {
    const s = docs['summary.json'];
    const box = chartBox('equity-chart');
    const node = el(
      'div',
      {},
      el(
        'div',
        { class: 'cards' },
        card('Equity', num(s.equity, 'money', 'equity')),
        card('Wallet balance', num(s.walletBalance, 'money', 'walletBalance')),
        card('Unrealized PnL', num(s.unrealizedPnl, 'signed', 'unrealizedPnl')),
        card("Today's PnL", num(s.todayPnl, 'signed', 'todayPnl')),
        card("Today's commission", num(s.todayCommission, 'money', 'todayCommission')),
        card('Open positions', el('span', { 'data-field': 'openPositions' }, String(s.openPositions))),
      ),
      section('Equity and balance', box),
      section(
        'Open positions',
        table(
          'positions',
          ['Symbol', 'Side', 'Amount', 'Entry', 'Mark', 'Unrealized PnL', 'Notional', 'Stops'],
          docs['positions.json'].positions.map((p) => [
            p.symbol,
            el('span', { class: p.side === 'LONG' ? 'pos' : 'neg' }, p.side),
            num(p.amount, 'exact'),
            num(p.entryPrice, 'exact'),
            num(p.markPrice, 'exact'),
            num(p.unrealizedPnl, 'signed'),
            num(p.notional, 'money'),
            el('span', { class: 'stops' }, p.stopPrices.join(' · ') || '—'),
          ]),
        ),
      ),
      el(
        'p',
        { class: 'meta' },
        `Mode ${s.mode} · strategies ${s.strategies.join(', ') || '—'} · account as of ${formatTime(s.asOf)} UTC`,
      ),
    );
    return { node, draw: () => [equityChart(box, docs['equity.json'].points)] };
  },
};

const daily: Page = {
  id: 'daily',
  title: 'Daily',
  async render({ docs }) {
    const days = docs['daily.json'].days;
    const box = chartBox('daily-chart');
    const node = el(
      'div',
      {},
      section('Daily net PnL and commission', box),
      section(
        'By day (UTC)',
        table(
          'daily',
          ['Day', 'Realized PnL', 'Commission', 'Funding', 'Net', 'Fills'],
          [...days]
            .reverse()
            .map((d) => [
              d.day,
              num(d.realizedPnl, 'signed'),
              num(d.commission, 'money'),
              num(d.funding, 'signed'),
              num(d.net, 'signed'),
              String(d.trades),
            ]),
        ),
      ),
    );
    return { node, draw: () => [dailyChart(box, days)] };
  },
};

const symbols: Page = {
  id: 'symbols',
  title: 'Symbols',
  async render({ docs }) {
    const rows = [...docs['symbols.json'].symbols].sort(
      (a, b) => Number(a.windows.all.net) - Number(b.windows.all.net),
    );
    const node = section(
      'Net PnL per symbol (realized + funding − commission)',
      table(
        'symbols',
        ['Symbol', ...PNL_WINDOWS.map((w) => `Net ${w}`), 'Commission all', 'Fills all'],
        rows.map((r) => [
          r.symbol,
          ...PNL_WINDOWS.map((w) => num(r.windows[w].net, 'signed')),
          num(r.windows.all.commission, 'money'),
          String(r.windows.all.trades),
        ]),
      ),
    );
    return { node, draw: () => [] };
  },
};

function tripRows(trips: readonly RoundTripRow[]) {
  return trips.map((t) => [
    t.symbol,
    el('span', { class: t.side === 'LONG' ? 'pos' : 'neg' }, t.side),
    formatTime(t.openedAt),
    formatTime(t.closedAt),
    num(t.quantity, 'exact'),
    num(t.entryPrice, 'exact'),
    num(t.exitPrice, 'exact'),
    num(t.pnl, 'signed'),
    num(t.commission, 'money'),
    num(t.funding, 'signed'),
    num(t.net, 'signed'),
  ]);
}

const TRIP_HEADERS = [
  'Symbol',
  'Side',
  'Opened',
  'Closed',
  'Qty',
  'Entry',
  'Exit',
  'PnL',
  'Commission',
  'Funding',
  'Net',
];

const trades: Page = {
  id: 'trades',
  title: 'Trades',
  async render({ docs }) {
    const d = docs['round-trips.json'];
    const node = el(
      'div',
      {},
      section(
        `Large losses (net ≤ ${d.largeLossThreshold})`,
        table('large-losses', TRIP_HEADERS, tripRows(d.largeLosses)),
      ),
      section('Latest round trips', table('round-trips', TRIP_HEADERS, tripRows(d.roundTrips))),
    );
    return { node, draw: () => [] };
  },
};

const charts: Page = {
  id: 'charts',
  title: 'Charts',
  async render({ manifest }, base, param) {
    const symbol =
      param !== undefined && manifest.chartSymbols.includes(param) ? param : manifest.chartSymbols[0];
    const picker = el(
      'div',
      { class: 'picker' },
      ...manifest.chartSymbols.map((s) =>
        el('a', { href: `#charts/${s}`, class: s === symbol ? 'chip active' : 'chip', 'data-symbol': s }, s),
      ),
    );
    if (symbol === undefined)
      return {
        node: section('Charts', el('p', { class: 'empty' }, 'No symbol traded yet.')),
        draw: () => [],
      };
    const doc = await loadChart(base, manifest, symbol);
    const box = chartBox('candle-chart');
    const node = el(
      'div',
      {},
      picker,
      section(`${symbol} · ${doc.interval}`, box),
      el(
        'p',
        { class: 'meta' },
        `${doc.trades.length} fills marked (arrows: entries, circles: exits) · ${doc.stops.length} stop levels (red)`,
      ),
    );
    return { node, draw: () => [candleChart(box, doc)] };
  },
};

const status: Page = {
  id: 'status',
  title: 'Status',
  async render({ docs }) {
    const s = docs['status.json'];
    const now = s.generatedAt;
    const latency = s.hubLatencyUs;
    const node = el(
      'div',
      {},
      el(
        'div',
        { class: 'cards' },
        card(
          'Hub',
          el(
            'span',
            { 'data-field': 'hub' },
            s.hubSeenAt === null ? 'unreachable' : `up ${formatAge(s.hubUptimeMs)}`,
          ),
        ),
        card(
          'Merge latency p50 / p99',
          el('span', {}, latency === null ? '—' : `${latency.p50} / ${latency.p99} µs`),
        ),
        card(
          'Trading',
          el('span', {}, s.tradingStates.map((t) => `${t.trader}: ${t.state}`).join(', ') || '—'),
        ),
      ),
      section(
        'Processes',
        table(
          'processes',
          ['Process', 'Role', 'Last heard', 'Health'],
          s.processes.map((p) => [
            p.name,
            p.role,
            p.lastSeen === null ? '—' : `${formatAge(now - p.lastSeen)} ago`,
            el('span', { class: p.healthy ? 'pos' : 'neg' }, p.healthy ? 'ok' : 'late'),
          ]),
        ),
      ),
      section(
        'Data freshness',
        table(
          'collectors',
          ['Collector', 'Kind', 'Last data'],
          s.collectors.map((c) => [
            c.name,
            c.kind ?? '—',
            c.ageMs === null ? 'never' : `${formatAge(c.ageMs)} ago`,
          ]),
        ),
      ),
    );
    return { node, draw: () => [] };
  },
};

/** Every page in menu order. */
export const PAGES: readonly Page[] = [overview, daily, symbols, trades, charts, status];
