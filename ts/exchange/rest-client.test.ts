// Tests of the REST transport against a scripted loopback server: signing, time sync, pacing, 429/418, retries, errors.
import { afterEach, describe, expect, it } from 'vitest';
import { Logger, type LogLevel } from '../log/logger.js';
import { ENDPOINTS } from './endpoints.js';
import {
  BinanceApiError,
  ExchangeConfigError,
  IpBannedError,
  MalformedResponseError,
  RateLimitedError,
  TransportError,
  UnexpectedStatusError,
} from './exchange-errors.js';
import { hmacSha256Hex } from './request-signer.js';
import { type ExchangeAlert, MAX_RETRY_AFTER_MS, RestClient } from './rest-client.js';
import { type RestClientConfigInput, resolveRestConfig } from './rest-config.js';
import { ScriptedServer } from './testing/scripted-server.js';
import { VirtualScheduler } from './testing/virtual-scheduler.js';

const KEY = 'test-api-key';
const SECRET = 'test-secret-never-logged-0123456789';
const START = Date.UTC(2026, 0, 5, 10, 0, 0) + 1_000;

let server: ScriptedServer;
let client: RestClient | null = null;

afterEach(async () => {
  client?.close();
  client = null;
  await server?.close();
});

interface Harness {
  client: RestClient;
  clock: VirtualScheduler;
  lines: { line: string; level: LogLevel }[];
  alerts: ExchangeAlert[];
}

async function harness(config: Partial<RestClientConfigInput> = {}, serverOffsetMs = 0): Promise<Harness> {
  server = await ScriptedServer.start();
  const clock = new VirtualScheduler(START);
  server.on('GET', '/fapi/v1/time', () => ({ body: { serverTime: clock.now() + serverOffsetMs } }));
  const lines: { line: string; level: LogLevel }[] = [];
  const alerts: ExchangeAlert[] = [];
  client = new RestClient(
    { baseUrl: server.url, apiKey: KEY, apiSecret: SECRET, retries: { baseDelayMs: 100 }, ...config },
    {
      scheduler: clock,
      logger: new Logger('test', {
        level: 'debug',
        format: 'json',
        sink: (line, level) => lines.push({ line, level }),
      }),
      onAlert: (a) => alerts.push(a),
    },
  );
  return { client, clock, lines, alerts };
}

function verifySignature(query: string, body: string): void {
  const whole = body.length > 0 ? body : query;
  const at = whole.lastIndexOf('&signature=');
  expect(at).toBeGreaterThan(0);
  const signature = whole.slice(at + '&signature='.length);
  expect(signature).toMatch(/^[0-9a-f]{64}$/);
  const signed = body.length > 0 ? query + body.slice(0, at) : query.slice(0, at);
  expect(hmacSha256Hex(SECRET, signed)).toBe(signature);
}

describe('RestClient signing and time', () => {
  it('signs GET parameters in the query with recvWindow, a server-synced timestamp and the signature last', async () => {
    const h = await harness({ recvWindow: 3000 }, 4_000);
    server.on('GET', '/fapi/v1/order', () => ({ body: { ok: true } }));
    await h.client.request(ENDPOINTS.queryOrder, { symbol: 'BTCUSDT', origClientOrderId: 'abc' });
    const [req] = server.requestsTo('/fapi/v1/order');
    expect(req).toBeDefined();
    if (req === undefined) return;
    expect(req.headers['x-mbx-apikey']).toBe(KEY);
    expect(req.rawQuery).toMatch(
      /^symbol=BTCUSDT&origClientOrderId=abc&recvWindow=3000&timestamp=\d+&signature=[0-9a-f]{64}$/,
    );
    expect(Number(req.query.get('timestamp'))).toBe(START + 4_000);
    verifySignature(req.rawQuery, req.body);
    expect(h.client.clock.offsetMs).toBe(4_000);
  });

  it('signs POST parameters in the form body, signature last', async () => {
    const h = await harness();
    server.on('POST', '/fapi/v1/order', () => ({ body: { ok: true } }));
    await h.client.request(ENDPOINTS.newOrder, { symbol: 'BTCUSDT', side: 'BUY', quantity: '0.010' });
    const [req] = server.requestsTo('/fapi/v1/order', 'POST');
    expect(req?.rawQuery).toBe('');
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.body).toMatch(
      /^symbol=BTCUSDT&side=BUY&quantity=0\.010&recvWindow=5000&timestamp=\d+&signature=/,
    );
    verifySignature(req?.rawQuery ?? '', req?.body ?? '');
  });

  it('sends no key or signature to public endpoints', async () => {
    await harness();
    server.on('GET', '/fapi/v1/klines', () => ({ body: [] }));
    await client?.request(ENDPOINTS.klines, { symbol: 'BTCUSDT', interval: '1m', limit: 45 });
    const [req] = server.requestsTo('/fapi/v1/klines');
    expect(req?.rawQuery).toBe('symbol=BTCUSDT&interval=1m&limit=45');
    expect(req?.headers['x-mbx-apikey']).toBeUndefined();
  });

  it('measures the offset at the midpoint of the round trip', async () => {
    const h = await harness();
    // the exchange is 1 000 ms ahead; the request takes 100 ms each way... answered at the midpoint
    server.on('GET', '/fapi/v1/time', () => {
      h.clock.advance(100);
      const serverTime = h.clock.now() + 1_000;
      h.clock.advance(100);
      return { body: { serverTime } };
    });
    await h.client.syncTime();
    expect(h.client.clock.offsetMs).toBe(1_000);
    expect(h.client.clock.roundTripMs).toBe(200);
  });

  it('refuses a server time in µs or seconds and keeps the offset it had', async () => {
    const h = await harness();
    await h.client.syncTime();
    expect(h.client.clock.offsetMs).toBe(0);
    for (const serverTime of [h.clock.now() * 1000, Math.floor(h.clock.now() / 1000)]) {
      server.on('GET', '/fapi/v1/time', () => ({ body: { serverTime } }));
      await expect(h.client.syncTime()).rejects.toBeInstanceOf(MalformedResponseError);
      // Taken, it would mark every open kline closed (final at the hub) and stamp every signed request wrong.
      expect(h.client.clock.offsetMs).toBe(0);
    }
  });

  it('resyncs the clock and retries once on -1021', async () => {
    const h = await harness();
    let calls = 0;
    server.on('GET', '/fapi/v3/account', () => {
      calls += 1;
      return calls === 1
        ? {
            status: 400,
            body: { code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' },
          }
        : { body: { ok: true } };
    });
    const response = await h.client.request(ENDPOINTS.accountV3, {}, { maxAttempts: 1 });
    expect(response.status).toBe(200);
    expect(server.requestsTo('/fapi/v1/time')).toHaveLength(2);
    expect(server.requestsTo('/fapi/v3/account')).toHaveLength(2);
  });

  it('retries -1021 only once, then throws the typed error', async () => {
    await harness();
    server.on('POST', '/fapi/v1/order', () => ({
      status: 400,
      body: { code: -1021, msg: 'Timestamp ahead.' },
    }));
    const error = await client?.request(ENDPOINTS.newOrder, { symbol: 'BTCUSDT' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BinanceApiError);
    expect(error).toMatchObject({ status: 400, code: -1021, method: 'POST', path: '/fapi/v1/order' });
    expect(server.requestsTo('/fapi/v1/order')).toHaveLength(2);
  });
});

describe('RestClient rate limits', () => {
  it('paces to the X-MBX-USED-WEIGHT-1M the exchange reports: an over-budget request waits for the next minute', async () => {
    const h = await harness({ weightBudget: { perMinute: 100 } });
    server.on('GET', '/fapi/v1/depth', () => ({ headers: { 'X-MBX-USED-WEIGHT-1M': '95' }, body: {} }));
    const first = await h.client.request(ENDPOINTS.depth, { symbol: 'BTCUSDT', limit: 5 });
    expect(first.usage.usedWeight1m).toBe(95);
    expect(first.weight).toBe(2);
    await h.client.request(ENDPOINTS.depth, { symbol: 'BTCUSDT', limit: 5 }); // 97: fits
    expect(h.clock.now()).toBe(START);
    await h.client.request(ENDPOINTS.depth, { symbol: 'BTCUSDT', limit: 500 }); // +10: next window
    expect(h.clock.now()).toBeGreaterThanOrEqual(START - (START % 60_000) + 60_000);
    expect(server.requestsTo('/fapi/v1/depth')).toHaveLength(3);
  });

  it('on 429 sends nothing before Retry-After, then retries a read', async () => {
    const h = await harness();
    const seenAt: number[] = [];
    server.on('GET', '/fapi/v1/klines', () => {
      seenAt.push(h.clock.now());
      return seenAt.length === 1
        ? { status: 429, headers: { 'Retry-After': '7' }, body: { code: -1003, msg: 'Too many requests.' } }
        : { body: [] };
    });
    await h.client.request(ENDPOINTS.klines, { symbol: 'BTCUSDT', interval: '1m' });
    expect(seenAt).toHaveLength(2);
    expect((seenAt[1] ?? 0) - (seenAt[0] ?? 0)).toBeGreaterThanOrEqual(7_000);
    expect(h.lines.some((l) => l.level === 'warn' && l.line.includes('rate limited'))).toBe(true);
  });

  it('on 429 for an order throws RateLimitedError at once, and the next request still waits', async () => {
    const h = await harness();
    server.on('POST', '/fapi/v1/order', () => ({
      status: 429,
      headers: { 'Retry-After': '3' },
      body: { code: -1015, msg: 'Too many new orders.' },
    }));
    server.on('GET', '/fapi/v1/openOrders', () => ({ body: [] }));
    const error = await h.client.request(ENDPOINTS.newOrder, { symbol: 'BTCUSDT' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ status: 429, code: -1015, retryAfterMs: 3_000 });
    expect(server.requestsTo('/fapi/v1/order')).toHaveLength(1);
    await h.client.request(ENDPOINTS.openOrders);
    expect(h.clock.now()).toBeGreaterThanOrEqual(START + 3_000);
    expect(h.alerts.map((a) => a.kind)).toEqual(['rate-limited']);
  });

  it('on 418 stops sending until Retry-After, throws IpBannedError, logs at error and alerts', async () => {
    const h = await harness();
    let banned = true;
    server.on('GET', '/fapi/v1/exchangeInfo', () =>
      banned
        ? {
            status: 418,
            headers: { 'Retry-After': '120' },
            body: { code: -1003, msg: 'Way too much request weight used; IP banned.' },
          }
        : { body: {} },
    );
    const error = await h.client.request(ENDPOINTS.exchangeInfo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpBannedError);
    expect(error).toMatchObject({ status: 418, retryAfterMs: 120_000 });
    expect(server.requestsTo('/fapi/v1/exchangeInfo')).toHaveLength(1); // not retried
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]?.kind).toBe('ip-banned');
    expect(h.lines.some((l) => l.level === 'error' && l.line.includes('IP banned'))).toBe(true);
    // a ban longer than maxRateLimitWaitMs fails further requests at once, without sending them
    await expect(h.client.request(ENDPOINTS.exchangeInfo)).rejects.toBeInstanceOf(IpBannedError);
    expect(server.requestsTo('/fapi/v1/exchangeInfo')).toHaveLength(1);
    h.clock.advance(119_000);
    banned = false;
    await h.client.request(ENDPOINTS.exchangeInfo); // a short rest of the ban is waited out
    expect(h.clock.now()).toBeGreaterThanOrEqual(START + 120_000);
    expect(server.requestsTo('/fapi/v1/exchangeInfo')).toHaveLength(2);
  });

  it.each([
    ['0', '0'],
    ['a date already past', 'Thu, 01 Jan 2026 00:00:00 GMT'],
  ])(
    'takes a 418 Retry-After of %s as the shortest ban (2 min): sending at once would lengthen the ban',
    async (_, retryAfter) => {
      const h = await harness();
      server.on('GET', '/fapi/v1/exchangeInfo', () => ({
        status: 418,
        headers: { 'Retry-After': retryAfter },
        body: { code: -1003, msg: 'Way too much request weight used; IP banned.' },
      }));
      const error = await h.client.request(ENDPOINTS.exchangeInfo).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 418, retryAfterMs: 120_000 });
      expect(h.client.budget.blockedUntil).toBe(h.clock.now() + 120_000);
      await expect(h.client.request(ENDPOINTS.exchangeInfo)).rejects.toBeInstanceOf(IpBannedError);
      expect(server.requestsTo('/fapi/v1/exchangeInfo')).toHaveLength(1);
      expect(h.lines.some((l) => l.level === 'warn' && l.line.includes('waiting the shortest ban'))).toBe(
        true,
      );
    },
  );

  it.each([
    ['ten million seconds', '9999999'],
    ['a date years ahead', 'Fri, 01 Jan 2100 00:00:00 GMT'],
  ])('takes a Retry-After of %s as the longest ban (3 days), and logs it', async (_, retryAfter) => {
    const h = await harness();
    server.on('GET', '/fapi/v1/exchangeInfo', () => ({
      status: 418,
      headers: { 'Retry-After': retryAfter },
      body: { code: -1003, msg: 'Way too much request weight used; IP banned.' },
    }));
    const error = await h.client.request(ENDPOINTS.exchangeInfo).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 418, retryAfterMs: MAX_RETRY_AFTER_MS });
    expect(h.client.budget.blockedUntil).toBe(h.clock.now() + MAX_RETRY_AFTER_MS);
    expect(
      h.lines.some((l) => l.level === 'warn' && l.line.includes('Retry-After beyond the longest ban')),
    ).toBe(true);
  });
});

describe('RestClient retries and errors', () => {
  it('retries a read after 5xx with bounded, logged backoff', async () => {
    const h = await harness();
    let calls = 0;
    server.on('GET', '/fapi/v1/aggTrades', () => {
      calls += 1;
      return calls < 3 ? { status: 502, body: '<html>bad gateway</html>' } : { body: [] };
    });
    await h.client.request(ENDPOINTS.aggTrades, { symbol: 'BTCUSDT' });
    expect(calls).toBe(3);
    expect(h.clock.sleeps).toEqual([100, 200]);
    expect(h.lines.filter((l) => l.line.includes('retrying'))).toHaveLength(2);
  });

  it('gives up after maxAttempts with the typed error', async () => {
    await harness({ retries: { maxAttempts: 2, baseDelayMs: 1 } });
    server.on('GET', '/fapi/v1/aggTrades', () => ({
      status: 503,
      body: { code: -1008, msg: 'Server is currently overloaded with other requests.' },
    }));
    const error = await client?.request(ENDPOINTS.aggTrades, { symbol: 'BTCUSDT' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BinanceApiError);
    expect(error).toMatchObject({ status: 503, code: -1008 });
    expect(server.requestsTo('/fapi/v1/aggTrades')).toHaveLength(2);
  });

  it('never resends an order after a 5xx (the outcome is for UsdmApi to resolve)', async () => {
    await harness();
    server.on('POST', '/fapi/v1/order', () => ({
      status: 503,
      body: { code: -1007, msg: 'Unknown error, please check your request or try again later.' },
    }));
    const error = await client?.request(ENDPOINTS.newOrder, { symbol: 'BTCUSDT' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: -1007 });
    expect(server.requestsTo('/fapi/v1/order')).toHaveLength(1);
  });

  it('types Binance rejections, non-JSON statuses, dropped connections and timeouts', async () => {
    await harness({ retries: { maxAttempts: 1 }, timeouts: { requestMs: 200 } });
    server.on('GET', '/fapi/v1/depth', (r) =>
      r.query.get('symbol') === 'NOPE'
        ? { status: 400, body: { code: -1121, msg: 'Invalid symbol.' } }
        : r.query.get('symbol') === 'HTML'
          ? { status: 502, body: '<html>Bad Gateway</html>' }
          : r.query.get('symbol') === 'DROP'
            ? { destroy: true }
            : { delayMs: 1_000, body: {} },
    );
    const c = client;
    if (c === null) throw new Error('no client');
    const get = (symbol: string) => c.request(ENDPOINTS.depth, { symbol }).catch((e: unknown) => e);
    const rejected = await get('NOPE');
    expect(rejected).toBeInstanceOf(BinanceApiError);
    expect(rejected).toMatchObject({
      status: 400,
      code: -1121,
      msg: 'Invalid symbol.',
      method: 'GET',
      path: '/fapi/v1/depth',
    });
    const html = await get('HTML');
    expect(html).toBeInstanceOf(UnexpectedStatusError);
    expect(html).toMatchObject({ status: 502 });
    const dropped = await get('DROP');
    expect(dropped).toBeInstanceOf(TransportError);
    expect(dropped).toMatchObject({ reason: 'network', sent: true });
    const slow = await get('SLOW');
    expect(slow).toBeInstanceOf(TransportError);
    expect(slow).toMatchObject({ reason: 'timeout', sent: true });
  });

  it('logs a refusal its caller expects at debug, any other at warn, and throws both', async () => {
    const { lines } = await harness({ retries: { maxAttempts: 1 } });
    server.on('POST', '/fapi/v1/marginType', () => ({
      status: 400,
      body: { code: -4046, msg: 'No need to change margin type.' },
    }));
    const c = client;
    if (c === null) throw new Error('no client');
    const params = { symbol: 'BTCUSDT', marginType: 'CROSSED' };
    const expected = await c
      .request(ENDPOINTS.marginType, params, { expectedCodes: [-4046] })
      .catch((e: unknown) => e);
    expect(expected).toMatchObject({ code: -4046 });
    const failed = () => lines.filter((l) => l.line.includes('request failed')).map((l) => l.level);
    expect(failed()).toEqual(['debug']);
    const other = await c
      .request(ENDPOINTS.marginType, params, { expectedCodes: [-4059] })
      .catch((e: unknown) => e);
    expect(other).toMatchObject({ code: -4046 });
    expect(failed()).toEqual(['debug', 'warn']);
  });

  it('signs a request when a socket is free, not while it waits behind others for one', async () => {
    // One socket: the second order query waits for the first, held by the server while 3 s pass.
    const h = await harness({ maxSockets: 1 });
    let open = (): void => {};
    const held = new Promise<void>((resolve) => {
      open = resolve;
    });
    server.on('GET', '/fapi/v1/order', async () => {
      if (server.requestsTo('/fapi/v1/order').length === 1) await held;
      return { body: { ok: true } };
    });
    const first = h.client.request(ENDPOINTS.queryOrder, { symbol: 'BTCUSDT', origClientOrderId: 'a' });
    const second = h.client.request(ENDPOINTS.queryOrder, { symbol: 'BTCUSDT', origClientOrderId: 'b' });
    for (let i = 0; i < 200 && server.requestsTo('/fapi/v1/order').length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    h.clock.advance(3_000);
    open();
    await Promise.all([first, second]);
    const stamps = server
      .requestsTo('/fapi/v1/order')
      .map((r) => Number(new URLSearchParams(r.rawQuery).get('timestamp')));
    expect(stamps).toHaveLength(2);
    // Stamped at START both, the second would be 3 s old when sent: Binance refuses past recvWindow.
    expect((stamps[1] ?? 0) - (stamps[0] ?? 0)).toBeGreaterThanOrEqual(3_000);
  });

  it('reuses one keep-alive connection for many requests', async () => {
    await harness();
    server.on('GET', '/fapi/v1/ticker/bookTicker', () => ({ body: [] }));
    for (let i = 0; i < 25; i++) await client?.request(ENDPOINTS.bookTicker);
    expect(server.requestsTo('/fapi/v1/ticker/bookTicker')).toHaveLength(25);
    expect(server.connections).toBe(1);
  });

  it('never logs the secret', async () => {
    const h = await harness();
    server.on('GET', '/fapi/v2/balance', () => ({
      status: 400,
      body: { code: -1022, msg: 'Signature invalid.' },
    }));
    await h.client.request(ENDPOINTS.balanceV2).catch(() => undefined);
    expect(h.lines.length).toBeGreaterThan(0);
    for (const { line } of h.lines) expect(line).not.toContain(SECRET);
    expect(JSON.stringify(h.client.settings)).not.toContain(SECRET);
  });
});

describe('resolveRestConfig', () => {
  it('fills defaults: 80 % of the published limits, recvWindow 5000', () => {
    const config = resolveRestConfig({ baseUrl: 'https://fapi.binance.com/' });
    expect(config.baseUrl).toBe('https://fapi.binance.com');
    expect(config.weightBudget).toEqual({
      perMinute: 1920,
      ordersPer10s: 240,
      ordersPerMinute: 960,
      coordinated: false,
      fallbackShare: 0.25,
      orderReserve: 0.05,
    });
    expect(config.recvWindow).toBe(5000);
    expect(config.apiKey).toBeNull();
  });

  it.each([
    [{}, 'baseUrl'],
    [{ baseUrl: 'ftp://x' }, 'baseUrl'],
    [{ baseUrl: 'http://127.0.0.1:1', recvWindow: 70_000 }, 'recvWindow'],
    [{ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' }, 'apiSecret'],
    [{ baseUrl: 'http://127.0.0.1:1', apiKey: 'k', apiSecret: 3 }, 'apiSecret'],
    [{ baseUrl: 'http://127.0.0.1:1', weightBudget: { perMinute: 0 } }, 'weightBudget.perMinute'],
    [{ baseUrl: 'http://127.0.0.1:1', weightBudget: { fallbackShare: 0 } }, 'weightBudget.fallbackShare'],
    [{ baseUrl: 'http://127.0.0.1:1', weightBudget: { orderReserve: 0.9 } }, 'weightBudget.orderReserve'],
    [{ baseUrl: 'http://127.0.0.1:1', weightBudget: { coordinated: 'yes' } }, 'weightBudget.coordinated'],
    [{ baseUrl: 'http://127.0.0.1:1', timeouts: { requestMs: 'x' } }, 'timeouts.requestMs'],
    // A misspelt option is refused, not ignored.
    [{ baseUrl: 'http://127.0.0.1:1', recvWindw: 5000 }, 'recvWindw'],
    [{ baseUrl: 'http://127.0.0.1:1', retries: { maxAttempt: 3 } }, 'retries.maxAttempt'],
  ])('names the bad field of %j', (input, field) => {
    let caught: unknown;
    try {
      resolveRestConfig(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExchangeConfigError);
    expect(caught).toMatchObject({ field });
  });

  it('does not echo a secret in its errors', () => {
    expect(() =>
      resolveRestConfig({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k', apiSecret: 'has space secret' }),
    ).toThrow(/^exchange config: apiSecret must be non-empty without whitespace$/);
    expect(() =>
      resolveRestConfig({ baseUrl: 'http://127.0.0.1:1', apiKey: ['secret-in-an-array'], apiSecret: 's' }),
    ).toThrow(/^exchange config: apiKey must be a string$/);
  });
});
