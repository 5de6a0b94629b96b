// A real third-party Binance client (ccxt binanceusdm) against the simulator, with only its URLs changed.
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../ts/exact/decimal.js';
import { type RunningSimulator, startSimulator } from './simulator.js';

const API_KEY = 'ccxt-test-key-1';
const API_SECRET = 'ccxt-test-secret-1';

let sim: RunningSimulator;
let exchange: InstanceType<typeof ccxt.binanceusdm>;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    accounts: [{ apiKey: API_KEY, apiSecret: API_SECRET, balances: { USDT: '50000' } }],
    symbols: ['BTCUSDT', 'ETHUSDT'],
    seed: 3,
  });
  exchange = new ccxt.binanceusdm({
    apiKey: API_KEY,
    secret: API_SECRET,
    // fetchCurrencies would call the spot wallet API (/sapi/v1/capital/config/getall), which is not
    // part of USD-M futures; the futures client works without it.
    options: { fetchCurrencies: false },
  });
  const api = exchange.urls.api as Record<string, string>;
  for (const key of Object.keys(api)) {
    const match = /^fapi(Public|Private)(V2|V3)?$/.exec(key);
    if (match !== null) api[key] = `${sim.restUrl}/fapi/${(match[2] ?? 'v1').toLowerCase()}`;
  }
  api.fapiData = `${sim.restUrl}/futures/data`;
});

/** The exchange order id ccxt parsed (always present for an accepted order). */
function idOf(order: { id?: string | undefined }): string {
  if (order.id === undefined) throw new Error('order without an id');
  return order.id;
}

afterAll(async () => {
  await sim?.stop();
});

describe('ccxt binanceusdm against the simulator', () => {
  it('loads markets, tickers and candles', async () => {
    const markets = await exchange.loadMarkets();
    expect(markets['BTC/USDT:USDT']).toMatchObject({ id: 'BTCUSDT', linear: true, swap: true });
    sim.market.generateTrades(20, 'BTCUSDT');
    const ticker = await exchange.fetchTicker('BTC/USDT:USDT');
    expect(ticker.symbol).toBe('BTC/USDT:USDT');
    expect(ticker.last).toBeGreaterThan(0);
    const candles = await exchange.fetchOHLCV('BTC/USDT:USDT', '1m', undefined, 5);
    expect(candles.length).toBeGreaterThan(0);
    expect(candles[0]).toHaveLength(6);
  });

  it('reads the balance, places, reads and cancels orders', async () => {
    await exchange.loadMarkets();
    const balance = await exchange.fetchBalance();
    expect(balance.USDT?.total).toBe(50000);

    const last = sim.market.lastPrice('BTCUSDT');
    const bid = last.mul(Decimal.parse('0.97')).rescale(1, 'down').toFixed(1);
    const limit = await exchange.createOrder('BTC/USDT:USDT', 'limit', 'buy', 0.01, Number(bid));
    expect(limit.status).toBe('open');
    const fetched = await exchange.fetchOrder(idOf(limit), 'BTC/USDT:USDT');
    expect([fetched.id, fetched.status, fetched.price]).toEqual([limit.id, 'open', Number(bid)]);
    const canceled = await exchange.cancelOrder(idOf(limit), 'BTC/USDT:USDT');
    expect(canceled.status).toBe('canceled');

    const market = await exchange.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01);
    const filled = await exchange.fetchOrder(idOf(market), 'BTC/USDT:USDT');
    expect(filled.status).toBe('closed');
    expect(filled.filled).toBe(0.01);
  });

  it('reads positions (ccxt first loads GET /fapi/v1/leverageBracket)', async () => {
    await exchange.loadMarkets();
    await exchange.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01);
    const positions = await exchange.fetchPositions(['BTC/USDT:USDT']);
    const long = positions.find((p) => p.symbol === 'BTC/USDT:USDT' && (p.contracts ?? 0) > 0);
    expect(long).toMatchObject({ side: 'long', contracts: 0.02 });
  });

  it('edits, batches and cancels orders in batches (PUT order, POST/DELETE batchOrders)', async () => {
    await exchange.loadMarkets();
    const last = sim.market.lastPrice('BTCUSDT');
    const bid = (share: string) => Number(last.mul(Decimal.parse(share)).rescale(1, 'down').toFixed(1));
    const order = await exchange.createOrder('BTC/USDT:USDT', 'limit', 'buy', 0.01, bid('0.97'));
    const edited = await exchange.editOrder(idOf(order), 'BTC/USDT:USDT', 'limit', 'buy', 0.02, bid('0.96'));
    expect([edited.id, edited.amount, edited.price]).toEqual([order.id, 0.02, bid('0.96')]);
    const batch = await exchange.createOrders([
      { symbol: 'BTC/USDT:USDT', type: 'limit', side: 'buy', amount: 0.01, price: bid('0.95') },
      { symbol: 'BTC/USDT:USDT', type: 'limit', side: 'buy', amount: 0.01, price: bid('0.94') },
    ]);
    expect(batch.map((o) => o.status)).toEqual(['open', 'open']);
    const canceled = await exchange.cancelOrders([idOf(order), ...batch.map(idOf)], 'BTC/USDT:USDT');
    expect(canceled.map((o) => o.status)).toEqual(['canceled', 'canceled', 'canceled']);
  });

  it('reads history from the first second: 1,000 daily candles, funding history, trades, tickers, leverage tiers', async () => {
    await exchange.loadMarkets();
    // ccxt asks for at most 1,000 candles a request.
    const candles = await exchange.fetchOHLCV('ETH/USDT:USDT', '1d', undefined, 1000);
    expect(candles).toHaveLength(1000);
    const funding = await exchange.fetchFundingRateHistory('ETH/USDT:USDT', undefined, 100);
    expect(funding.length).toBe(100);
    expect(funding.every((f) => typeof f.fundingRate === 'number')).toBe(true);
    const trades = await exchange.fetchTrades('ETH/USDT:USDT', undefined, 100);
    expect(trades).toHaveLength(100);
    const tickers = await exchange.fetchTickers();
    expect(Object.keys(tickers).sort()).toEqual(['BTC/USDT:USDT', 'ETH/USDT:USDT']);
    const rates = await exchange.fetchFundingRates();
    expect(Object.keys(rates).length).toBe(2);
    const tiers = await exchange.fetchLeverageTiers(['BTC/USDT:USDT']);
    expect((tiers['BTC/USDT:USDT'] ?? []).length).toBe(12);
  });
});
