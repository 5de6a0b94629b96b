import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NativeError } from './native-error.js';
import {
  parseAccount,
  parseExchangeInfo,
  parseMarketEvent,
  parseMarketEvents,
  parsePositionRisk,
  parseRestBookTickers,
  parseRestKlines,
  parseUserEvent,
} from './parse.js';
import { captureMessages, sharedDataDir } from './testing/capture.js';

const b = (text: string): Buffer => Buffer.from(text);

const AGG_TRADE =
  '{"e":"aggTrade","E":1626992741575,"a":16599292,"s":"CTKUSDT","p":"1.01100","q":"10","f":23961322,"l":23961325,"T":1626992741421,"m":false}';
const KLINE =
  '{"stream":"ctkusdt@kline_1m","data":{"e":"kline","E":1626992741424,"s":"CTKUSDT","k":{"t":1626992700000,"T":1626992759999,"s":"CTKUSDT","i":"1m","f":23961275,"L":23961322,"o":"1.01000","c":"1.01100","h":"1.01100","l":"1.01000","v":"3917","n":48,"x":false,"q":"3957.89900","V":"1729","Q":"1748.01900","B":"0"}}}';
const BOOK_TICKER =
  '{"e":"bookTicker","u":600859600576,"s":"SUSHIUSDT","b":"7.6110","B":"2","a":"7.6120","A":"297","T":1626992741012,"E":1626992741017}';

function codeOf(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    if (error instanceof NativeError) return error.code;
    throw error;
  }
  throw new Error('expected a NativeError');
}

describe('market event parsers', () => {
  it('parse aggTrade, kline and bookTicker with exact decimal strings', () => {
    expect(parseMarketEvent(b(AGG_TRADE))).toEqual({
      kind: 'aggTrade',
      aggTrade: {
        symbol: 'CTKUSDT',
        id: 16599292,
        price: '1.01100',
        quantity: '10',
        firstTradeId: 23961322,
        lastTradeId: 23961325,
        tradeTime: 1626992741421,
        eventTime: 1626992741575,
        buyerIsMaker: false,
      },
    });
    const kline = parseMarketEvent(b(KLINE));
    expect(kline.kind).toBe('kline');
    if (kline.kind !== 'kline') return;
    expect(kline.kline.interval).toBe('1m');
    expect(kline.kline.kline).toMatchObject({
      open: '1.01000',
      quoteVolume: '3957.89900',
      trades: 48,
      firstTradeId: 23961275,
      closed: false,
      asOf: 1626992741424,
    });
    const tick = parseMarketEvent(b(BOOK_TICKER));
    expect(tick).toEqual({
      kind: 'bookTicker',
      bookTicker: {
        symbol: 'SUSHIUSDT',
        tick: {
          bid: '7.6110',
          bidQty: '2',
          ask: '7.6120',
          askQty: '297',
          time: 1626992741012,
          updateId: 600859600576,
        },
      },
    });
  });

  it('reject bad input with a typed reason, never a crash', () => {
    expect(codeOf(() => parseMarketEvent(b(AGG_TRADE.slice(0, 40))))).toBe('truncated');
    expect(codeOf(() => parseMarketEvent(b('{"e":"aggTrade",,}')))).toBe('malformed');
    expect(codeOf(() => parseMarketEvent(b(AGG_TRADE.replace('"p":"1.01100"', '"p":1.011'))))).toBe('schema');
    expect(codeOf(() => parseMarketEvent(b(AGG_TRADE.replace('"1.01100"', '"1e5"'))))).toBe(
      'invalid_decimal',
    );
    expect(codeOf(() => parseMarketEvent(b(AGG_TRADE.replace('"l":23961325', '"l":1'))))).toBe(
      'invalid_value',
    );
    expect(codeOf(() => parseMarketEvent(b('{"e":"depthUpdate","E":1}')))).toBe('unsupported_event');
    expect(codeOf(() => parseMarketEvent(Buffer.alloc((1 << 20) + 1, 0x20)))).toBe('oversize');
    expect(codeOf(() => parseMarketEvent(b('')))).toBe('truncated');
  });

  it('reports every truncation of a valid message as an error', () => {
    for (let cut = 0; cut < KLINE.length; cut++) {
      expect(() => parseMarketEvent(b(KLINE.slice(0, cut)))).toThrow(NativeError);
    }
  });

  it('parse a batch in one call with failures beside the events', () => {
    const { events, failures } = parseMarketEvents([b(AGG_TRADE), b('garbage'), b(BOOK_TICKER)]);
    expect(events.map((e) => e.kind)).toEqual(['aggTrade', 'bookTicker']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ index: 1, code: 'malformed' });
  });

  it('parse every market message of the real capture, decimals round-tripping', () => {
    const messages = captureMessages('parse capture');
    if (messages === undefined) return;
    const wanted = messages.filter((m) => /"e":"(aggTrade|kline|bookTicker)"/.test(m));
    const { events, failures } = parseMarketEvents(wanted.map(b));
    expect(failures).toEqual([]);
    expect(events.filter((e) => e.kind === 'aggTrade')).toHaveLength(91);
    expect(events.filter((e) => e.kind === 'kline')).toHaveLength(67);
    events.forEach((event, i) => {
      const raw = JSON.parse(wanted[i] ?? '{}').data;
      if (event.kind === 'aggTrade') {
        expect([event.aggTrade.price, event.aggTrade.quantity]).toEqual([raw.p, raw.q]);
      } else if (event.kind === 'kline') {
        const k = event.kline.kline;
        expect([k.open, k.high, k.low, k.close, k.volume, k.quoteVolume]).toEqual([
          raw.k.o,
          raw.k.h,
          raw.k.l,
          raw.k.c,
          raw.k.v,
          raw.k.q,
        ]);
      } else if (event.kind === 'bookTicker') {
        expect([event.bookTicker.tick.bid, event.bookTicker.tick.ask]).toEqual([raw.b, raw.a]);
      }
    });
  });
});

describe('REST and user-data parsers', () => {
  it('parse REST klines, marking bars closed by server time', () => {
    const body = b(
      '[[1626992700000,"1.01000","1.01100","1.01000","1.01100","3917",1626992759999,"3957.89900",48,"1729","1748.01900","0"],' +
        '[1626992760000,"1.01100","1.01100","1.01100","1.01100","0",1626992819999,"0.00000",0,"0","0.00000","0"]]',
    );
    const klines = parseRestKlines(body, 1626992760500);
    expect(klines.map((k) => [k.open, k.closed, k.trades])).toEqual([
      ['1.01000', true, 48],
      ['1.01100', false, 0],
    ]);
    expect(codeOf(() => parseRestKlines(b('[[1626992700000,"1.01000"]]'), 0))).toBe('schema');
    expect(codeOf(() => parseRestKlines(b('{"code":-1121,"msg":"Invalid symbol."}'), 0))).toBe('schema');
  });

  it('parse book tickers, account v3 and position risk', () => {
    const ticks = parseRestBookTickers(
      b(
        '[{"symbol":"BTCUSDT","bidPrice":"4.00000000","bidQty":"431.00000000","askPrice":"4.00000200","askQty":"9.00000000","time":1589437530011,"lastUpdateId":1027024}]',
      ),
    );
    expect(ticks[0]?.tick).toMatchObject({ bid: '4.00000000', ask: '4.00000200', updateId: 1027024 });
    const account = parseAccount(
      b(
        '{"assets":[{"asset":"USDT","walletBalance":"23.72469206","unrealizedProfit":"-0.51000000","marginBalance":"23.21469206","maintMargin":"0","initialMargin":"0","positionInitialMargin":"0","openOrderInitialMargin":"0","crossWalletBalance":"23.72469206","crossUnPnl":"0","availableBalance":"23.72469206","maxWithdrawAmount":"23.72469206","updateTime":1625474304765}],' +
          '"positions":[{"symbol":"BTCUSDT","positionSide":"BOTH","positionAmt":"-1.000","unrealizedProfit":"-0.51000000","isolatedMargin":"0","notional":"-31000","isolatedWallet":"0","initialMargin":"0","maintMargin":"0","updateTime":1625474304766}]}',
      ),
    );
    expect(account.balances[0]).toMatchObject({ asset: 'USDT', walletBalance: '23.72469206' });
    expect(account.positions[0]?.position).toMatchObject({
      side: 'BOTH',
      amount: '-1.000',
      updateTime: 1625474304766,
    });
    expect(account.positions[0]?.position.entryPrice).toBeUndefined();
    const risk = parsePositionRisk(
      b(
        '[{"symbol":"ADAUSDT","positionSide":"LONG","positionAmt":"30","entryPrice":"0.385","breakEvenPrice":"0.385077","markPrice":"0.41047590","unRealizedProfit":"0.76427700","liquidationPrice":"0","isolatedMargin":"0","notional":"12.31427700","marginAsset":"USDT","isolatedWallet":"0","initialMargin":"0.6","maintMargin":"0.08","positionInitialMargin":"0.6","openOrderInitialMargin":"0","adl":2,"bidNotional":"0","askNotional":"0","updateTime":1720736417660}]',
      ),
    );
    expect(risk[0]?.position).toMatchObject({ side: 'LONG', entryPrice: '0.385', markPrice: '0.41047590' });
    expect(codeOf(() => parsePositionRisk(b('[{"symbol":"ADAUSDT","positionSide":"BOTH"}]')))).toBe('schema');
    const badSide =
      '[{"symbol":"ADAUSDT","positionSide":"UP","positionAmt":"1","entryPrice":"1","markPrice":"1","unRealizedProfit":"0","updateTime":1}]';
    expect(codeOf(() => parsePositionRisk(b(badSide)))).toBe('invalid_value');
  });

  it('parse user-data events and keep unknown ones', () => {
    const update = parseUserEvent(
      b(
        '{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"}],"P":[{"s":"BTCUSDT","pa":"20","ep":"6563.66500","bep":"6563.6","cr":"0","up":"2850.21200","mt":"isolated","iw":"13200.70726908","ps":"LONG"}]}}',
      ),
    );
    expect(update.kind).toBe('accountUpdate');
    expect(update.accountUpdate?.positions[0]?.position).toMatchObject({
      amount: '20',
      entryPrice: '6563.66500',
      updateTime: 1564745798938,
    });
    const fill = parseUserEvent(
      b(
        '{"e":"ORDER_TRADE_UPDATE","E":1700000000123,"T":1700000000120,"o":{"s":"SUSHIUSDT","c":"m_abc123","S":"BUY","o":"LIMIT","f":"GTX","q":"12","p":"7.6110","ap":"7.6110","x":"TRADE","X":"PARTIALLY_FILLED","i":8389765519346790000,"l":"5","z":"5","L":"7.6110","T":1700000000119,"t":987654,"m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"-0.12000000"}}',
      ),
    );
    expect(fill.orderUpdate).toMatchObject({
      clientOrderId: 'm_abc123',
      status: 'PARTIALLY_FILLED',
      timeInForce: 'GTX',
      orderId: '8389765519346790000',
      realizedProfit: '-0.12000000',
    });
    expect(parseUserEvent(b('{"e":"TRADE_LITE","E":1,"T":1}'))).toMatchObject({
      kind: 'other',
      eventType: 'TRADE_LITE',
    });
  });
});

describe('parseExchangeInfo', () => {
  it('reads rate limits, filters and the universe rule from the real exchangeInfo capture', () => {
    const path = join(sharedDataDir, 'usdm-exchangeInfo-2021-07-22.txt');
    if (!existsSync(path)) {
      console.warn(`SKIP: parseExchangeInfo capture: ${path} is absent`);
      return;
    }
    const line = readFileSync(path, 'utf8').split('\n')[0] ?? '';
    const body = Buffer.from(line.slice(line.indexOf('{')));
    const info = parseExchangeInfo(body);
    const weight = info.rateLimits.find((r) => r.rateLimitType === 'REQUEST_WEIGHT');
    expect(weight).toEqual({ rateLimitType: 'REQUEST_WEIGHT', windowMs: 60_000, limit: 2400 });
    const btc = info.symbols.find((s) => s.symbol === 'BTCUSDT');
    expect(btc?.tradable).toBe(true);
    expect(btc?.tickSize).toBe('0.01');
    expect(btc?.stepSize).toBe('0.001');
    const index = info.symbols.filter((s) => s.underlyingType === 'INDEX');
    expect(index.length).toBeGreaterThan(0);
    expect(index.every((s) => !s.tradable)).toBe(true);
  });

  it('throws a NativeError with a reason on a body that is not exchangeInfo', () => {
    expect(() => parseExchangeInfo(Buffer.from('{"code":-1000,"msg":"x"}'))).toThrow(NativeError);
  });
});
