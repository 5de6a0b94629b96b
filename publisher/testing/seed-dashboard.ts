// A realistic, seeded trading history for dashboard tests: many symbols, hundreds of fills a day, round trips, stops and candles.
import { Decimal } from '../../ts/exact/decimal.js';
import type { Candle, ChartTrade } from '../../ts/publish/dashboard-documents.js';
import { MemoryDashboardSource, type MemoryIncome } from './memory-dashboard-source.js';

/** A small deterministic generator (mulberry32), so a seed gives the same history every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MINUTE = 60_000;
const INTERVAL_MS = 15 * MINUTE;

export interface SeedOptions {
  readonly now: number;
  readonly seed?: number;
  /** Symbols with activity (default 30). */
  readonly symbols?: number;
  /** Days of history (default 10). */
  readonly days?: number;
  /** Round trips a day (default 120, so 480 fills with entries and exits split in two). */
  readonly tripsPerDay?: number;
}

function symbolName(i: number): string {
  const names = ['BTC', 'ETH', 'SOL', 'BNB', 'XRP', 'DOGE', 'ADA', 'AVAX', 'LINK', 'DOT'];
  return `${names[i % names.length]}${i < names.length ? '' : String(Math.floor(i / names.length))}USDT`;
}

/**
 * Fills a {@link MemoryDashboardSource} with `days` of history on `symbols` symbols: 15-minute
 * candles on a random walk, round trips whose fills land on those candles (entries and exits, each
 * with its commission and realized PnL as income), an equity point a minute over the last day and
 * every 15 minutes before, three open positions with stop ladders, and a status with processes.
 */
export function seedDashboard(options: SeedOptions): MemoryDashboardSource {
  const next = random(options.seed ?? 7);
  const source = new MemoryDashboardSource();
  const symbolCount = options.symbols ?? 30;
  const days = options.days ?? 10;
  const tripsPerDay = options.tripsPerDay ?? 120;
  const start = Math.floor((options.now - days * 86_400_000) / INTERVAL_MS) * INTERVAL_MS;
  const symbols = Array.from({ length: symbolCount }, (_, i) => symbolName(i));

  const priceAt = new Map<string, Map<number, Candle>>();
  for (const [i, symbol] of symbols.entries()) {
    let price = 10 + i * 7.3 + next() * 5;
    const candles: Candle[] = [];
    const byTime = new Map<number, Candle>();
    for (let t = start; t <= options.now - INTERVAL_MS; t += INTERVAL_MS) {
      const open = price;
      const close = Math.max(0.5, open * (1 + (next() - 0.5) * 0.01));
      const high = Math.max(open, close) * (1 + next() * 0.003);
      const low = Math.min(open, close) * (1 - next() * 0.003);
      price = close;
      const candle: Candle = {
        openTime: t,
        open: open.toFixed(4),
        high: high.toFixed(4),
        low: low.toFixed(4),
        close: close.toFixed(4),
        volume: (1000 + next() * 5000).toFixed(3),
      };
      candles.push(candle);
      byTime.set(t, candle);
    }
    source.candles.set(symbol, candles);
    priceAt.set(symbol, byTime);
  }

  const incomes: MemoryIncome[] = [];
  const total = days * tripsPerDay;
  for (let n = 0; n < total; n++) {
    const symbol = symbols[Math.floor(next() * symbols.length)] ?? 'BTCUSDT';
    const openedAt = start + Math.floor(next() * (options.now - start - 2 * INTERVAL_MS));
    const closedAt = openedAt + Math.floor((1 + next() * 6) * INTERVAL_MS);
    const candleOf = (t: number) => priceAt.get(symbol)?.get(Math.floor(t / INTERVAL_MS) * INTERVAL_MS);
    const entryCandle = candleOf(openedAt);
    const exitCandle = candleOf(closedAt);
    if (entryCandle === undefined || exitCandle === undefined) continue;
    const side = next() < 0.6 ? 'LONG' : 'SHORT';
    const entry = Decimal.parse(entryCandle.close);
    const exit = Decimal.parse(exitCandle.close);
    const quantity = Decimal.parse((50 / Number(entryCandle.close)).toFixed(3));
    if (quantity.isZero()) continue;
    const move = side === 'LONG' ? exit.sub(entry) : entry.sub(exit);
    // A few sharp losses, so the large-loss table has rows.
    const pnl = (next() < 0.02 ? Decimal.parse('-75.5') : move.mul(quantity)).rescale(4);
    const commission = entry.add(exit).mul(quantity).mul(Decimal.parse('0.0004')).rescale(6);
    source.trips.push({
      symbol,
      side,
      openedAt,
      closedAt,
      quantity: quantity.toString(),
      entryPrice: entry.toString(),
      exitPrice: exit.toString(),
      pnl: pnl.toString(),
      commission: commission.toString(),
      funding: '0',
      net: pnl.sub(commission).toString(),
    });
    const half = commission.div(Decimal.fromInt(2), 6);
    incomes.push(
      { time: openedAt, symbol, type: 'COMMISSION', amount: half.neg().toString() },
      { time: closedAt, symbol, type: 'COMMISSION', amount: commission.sub(half).neg().toString() },
      { time: closedAt, symbol, type: 'REALIZED_PNL', amount: pnl.toString() },
    );
    if (n % 40 === 0)
      incomes.push({ time: closedAt, symbol, type: 'FUNDING_FEE', amount: (next() - 0.6).toFixed(5) });
    const fills = source.fills.get(symbol) ?? [];
    const buy = side === 'LONG';
    fills.push(
      {
        time: openedAt,
        side: buy ? 'BUY' : 'SELL',
        price: entry.toString(),
        quantity: quantity.toString(),
        kind: 'entry',
      },
      {
        time: closedAt,
        side: buy ? 'SELL' : 'BUY',
        price: exit.toString(),
        quantity: quantity.toString(),
        kind: 'exit',
      },
    );
    source.fills.set(symbol, fills);
  }
  source.incomes = incomes.sort((a, b) => a.time - b.time);
  for (const fills of source.fills.values()) fills.sort((a: ChartTrade, b: ChartTrade) => a.time - b.time);

  // Equity: the wallet follows the income; a point a minute over the last day, every 15 min before.
  let wallet = Decimal.parse('10000');
  let k = 0;
  const points: { time: number; equity: string; walletBalance: string }[] = [];
  const dayAgo = options.now - 86_400_000;
  for (let t = start; t <= options.now; t += t >= dayAgo ? MINUTE : INTERVAL_MS) {
    while (k < source.incomes.length && (source.incomes[k]?.time ?? Infinity) <= t) {
      wallet = wallet.add(Decimal.parse(source.incomes[k]?.amount ?? '0'));
      k++;
    }
    const unrealized = Decimal.parse(((next() - 0.5) * 40).toFixed(2));
    points.push({ time: t, equity: wallet.add(unrealized).toString(), walletBalance: wallet.toString() });
  }
  source.equityPoints = points;

  // Three open positions, each under a stop ladder (5 %, 5.5 %, ... 7 % from the entry).
  source.positionRows = symbols.slice(0, 3).map((symbol, i) => {
    const candles = source.candles.get(symbol) ?? [];
    const last = Decimal.parse(candles[candles.length - 1]?.close ?? '1');
    const entry = Decimal.parse(candles[candles.length - 5]?.close ?? '1');
    const amount = Decimal.parse((100 / last.toNumber()).toFixed(3));
    const signed = i === 1 ? amount.neg() : amount;
    const stops = [0.05, 0.055, 0.06, 0.065, 0.07].map((p) =>
      entry
        .mul(Decimal.parse(String(i === 1 ? 1 + p : 1 - p)))
        .rescale(4)
        .toString(),
    );
    source.stops.set(symbol, stops);
    const since = candles[candles.length - 5]?.openTime ?? options.now;
    source.stopHistory.set(
      symbol,
      stops.map((price) => ({ price, from: since, to: null })),
    );
    const fills = source.fills.get(symbol) ?? [];
    fills.push({
      time: since,
      side: signed.sign() < 0 ? 'SELL' : 'BUY',
      price: entry.toString(),
      quantity: amount.toString(),
      kind: 'entry',
    });
    source.fills.set(
      symbol,
      fills.sort((a, b) => a.time - b.time),
    );
    return {
      symbol,
      amount: signed.toString(),
      entryPrice: entry.toString(),
      markPrice: last.toString(),
      unrealizedPnl: last.sub(entry).mul(signed).rescale(4).toString(),
      updatedAt: options.now - 1000,
    };
  });
  source.accountRow = {
    time: options.now - 1000,
    asset: 'USDT',
    walletBalance: wallet.toString(),
    unrealizedPnl: source.positionRows
      .reduce((sum, p) => sum.add(Decimal.parse(p.unrealizedPnl ?? '0')), Decimal.ZERO)
      .toString(),
    availableBalance: wallet.sub(Decimal.parse('150')).toString(),
  };
  source.status = {
    hubSeenAt: options.now - 500,
    hubUptimeMs: 3_600_000,
    hubLatencyUs: { p50: 42, p99: 310, max: 1200 },
    processes: [
      { name: 'hub', role: 'hub', lastSeen: options.now - 500, healthy: true },
      { name: 'kline-0', role: 'collector', lastSeen: options.now - 900, healthy: true },
      { name: 'stream-0', role: 'collector', lastSeen: options.now - 300, healthy: true },
      { name: 'trader-0', role: 'trader', lastSeen: options.now - 700, healthy: true },
    ],
    collectors: [
      { name: 'kline-0', kind: 'kline', ageMs: 900 },
      { name: 'stream-0', kind: 'stream', ageMs: 300 },
    ],
    tradingStates: [{ trader: 'trader-0', state: 'ACTIVE' }],
  };
  return source;
}
