import { afterEach, describe, expect, it } from 'vitest';
import { HubClient } from '../ts/hub/hub-client.js';
import type { HubServer, HubServerOptions } from '../ts/hub/hub-server.js';
import { keyOf, startHub, TRANSPORTS, type TransportName, waitFor } from '../ts/hub/testing/hub-fixtures.js';
import { syntheticBar } from '../ts/hub/testing/ingest-data.js';
import { silentLogger } from '../ts/log/logger.js';
import { IngestLink } from './collector-hub.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The USD-M universe's size: 650 symbols. */
const UNIVERSE = Array.from({ length: 650 }, (_, i) => `SYM${i}USDT`);

/** Waits past the link's pacing gap (0.4 ms), so its next send goes at once. */
function pastPacing(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2));
}

/** A hub with the universe's registry (and `options`), a collector's client of it, and a link over the client. */
async function linkedHub(
  transport: TransportName,
  peer: string,
  options: Partial<HubServerOptions> = {},
): Promise<{ hub: HubServer; hubClient: HubClient; link: IngestLink }> {
  const hub = await startHub(transport, { symbols: UNIVERSE, ...options });
  cleanups.push(() => hub.close());
  const hubClient = new HubClient({
    url: hub.url,
    peer,
    key: keyOf('collector'),
    logger: silentLogger('client'),
  });
  cleanups.push(() => hubClient.close());
  await hubClient.connect();
  const link = new IngestLink(hubClient, silentLogger('ingest'));
  cleanups.push(() => link.close());
  return { hub, hubClient, link };
}

describe.each(TRANSPORTS)('ingest link over %s', (transport) => {
  it('splits what exceeds the hub’s message cap into frames under it, so nothing is refused (defect 10)', async () => {
    const { hub, link } = await linkedHub(transport, 'stream-0');
    // After a stall: 45 bars of every symbol at once, about 3.6 MB of rows, plus 20 more bars of
    // each (about 5.2 MB in all), more than the 4 MiB a message may carry.
    const bars = Array.from({ length: 65 }, (_, i) => syntheticBar(i, 1));
    for (let id = 0; id < UNIVERSE.length; id += 1) link.encoder.pushKlines(id, '1m', bars);
    link.flush();
    await waitFor(
      () => hub.book.klines(UNIVERSE.length - 1, '1m').length === 45,
      10_000,
      'every symbol merged',
    );
    const status = hub.status();
    expect(status.rejected).toEqual({});
    expect(link.counters.framesSent).toBeGreaterThan(1);
    expect(link.counters.recordsSent).toBe(UNIVERSE.length * bars.length);
    expect(status.merge.ingestFrames).toBe(link.counters.framesSent);
  });

  it('paces its frames under the hub’s budget: 3,000 quotes sent back to back arrive whole, in far fewer frames, none throttled', async () => {
    const { hub, link } = await linkedHub(transport, 'stream-1');
    const now = Date.now();
    const quote = (id: number, price: string) =>
      Buffer.from(
        `{"e":"bookTicker","u":${id},"s":"${UNIVERSE[id % UNIVERSE.length]}","b":"${price}","B":"1","a":"${price}","A":"1","T":${now},"E":${now}}`,
      );
    // One after another, as a stream collector sends a quiet stream's messages: before, one frame each.
    for (let i = 0; i < 3000; i++) link.sendMarketEvent(quote(i, i < 2350 ? '1.00' : '2.00'));
    await waitFor(
      () =>
        hub.status().merge.ingestFrames === link.counters.framesSent && link.counters.recordsSent === 3000,
      10_000,
      'every quote sent and merged',
    );
    expect(link.counters.framesSent).toBeLessThan(300);
    expect(link.counters.framesPaced).toBeGreaterThan(0);
    const status = hub.status();
    expect(status.rejected).toEqual({});
    // The last 650 quotes (one per symbol) are what the book holds.
    expect(hub.book.tick(UNIVERSE.length - 1)?.tick.bid).toBe('2.00');
    expect(hub.book.tick(0)?.tick.bid).toBe('2.00');
  });

  it('follows the cap the hub announces, and counts what the hub refuses', async () => {
    const { hub, hubClient, link } = await linkedHub(transport, 'kline-0', { maxMessageBytes: 64 * 1024 });
    expect(hubClient.welcome?.maxMessageBytes).toBe(64 * 1024);
    expect(link.recordBudget).toBe(Math.floor((64 * 1024 - 1024) / 200));
    for (let id = 0; id < 300; id += 1)
      link.encoder.pushKlines(id, '1m', [syntheticBar(0, 1), syntheticBar(1, 1)]);
    link.flush();
    await waitFor(() => hub.book.klines(299, '1m').length === 2, 5_000, 'every symbol merged');
    expect(link.counters.framesSent).toBeGreaterThan(1);
    expect(hub.status().rejected).toEqual({});
    // A frame the hub refuses is counted by the link with the hub's reason.
    expect(hubClient.sendIngest(Buffer.from('not a frame'))).toBe(true);
    await waitFor(() => link.counters.framesRefused === 1, 3_000, 'the refusal counted');
    expect(link.counters.lastRefusal).toMatch(/^bad_frame: /);
  });

  it('drops a batch no frame can carry, counts it, and sends the next one', async () => {
    const { hub, link } = await linkedHub(transport, 'kline-1');
    // 1e-18 beside a 20-digit price: no i64 mantissa holds both at the bar's one scale.
    link.encoder.pushKlines(0, '1m', [
      { ...syntheticBar(0, 1), low: '0.000000000000000001', high: '99999999999999999999' },
    ]);
    expect(link.flush()).toBe(false);
    expect(link.counters.framesDropped).toBe(1);
    link.encoder.pushKlines(1, '1m', [syntheticBar(0, 1)]);
    expect(link.flush()).toBe(true);
    await waitFor(() => hub.book.klines(1, '1m').length === 1, 5_000, 'the next batch merged');
  });

  it('sends a lone websocket message at once with what is pending, and loses no count when a batch cannot be encoded', async () => {
    const { hub, link } = await linkedHub(transport, 'stream-1');
    const openTime = Math.floor(Date.now() / 60_000) * 60_000;
    const kline = (symbol: string, trades: number): Buffer =>
      Buffer.from(
        `{"e":"kline","E":${openTime + 5},"s":"${symbol}","k":{"t":${openTime},"T":${openTime + 59_999},"s":"${symbol}","i":"1m","f":1,"L":${trades},"o":"3000.10","c":"3000.20","h":"3000.30","l":"3000.00","v":"2","n":${trades},"x":false,"q":"6000.30","V":"1","Q":"3000.15","B":"0"}}`,
      );
    link.encoder.pushKlines(1, '1m', [syntheticBar(0, 1)]);
    expect(link.sendMarketEvent(kline('SYM2USDT', 3))).toEqual({ added: 1, failures: [] });
    expect(link.encoder.pending).toBe(0);
    expect(link.counters).toMatchObject({ framesSent: 1, recordsSent: 2, framesDropped: 0 });
    await waitFor(() => hub.book.klines(2, '1m').length === 1, 5_000, 'the message merged');
    expect(hub.book.klines(1, '1m')).toHaveLength(1);
    expect(hub.book.klines(2, '1m')[0]?.kline.trades).toBe(3);
    // A message that cannot be parsed reports its failure; nothing was pending, so nothing is sent.
    const unreadable = link.sendMarketEvent(Buffer.from('{"e":"kline","s":'));
    expect(unreadable.added).toBe(0);
    expect(unreadable.failures.map((f) => f.index)).toEqual([0]);
    expect(link.counters.framesSent).toBe(1);
    // A pending bar no frame can carry: the frame is dropped and counted, the message's push reported.
    link.encoder.pushKlines(3, '1m', [
      { ...syntheticBar(0, 1), low: '0.000000000000000001', high: '99999999999999999999' },
    ]);
    await pastPacing();
    expect(link.sendMarketEvent(kline('SYM4USDT', 1))).toEqual({ added: 1, failures: [] });
    expect(link.counters).toMatchObject({ framesSent: 1, framesDropped: 1 });
    await pastPacing();
    expect(link.sendMarketEvent(kline('SYM4USDT', 2)).added).toBe(1);
    expect(link.counters.framesSent).toBe(2);
    await waitFor(() => hub.book.klines(4, '1m')[0]?.kline.trades === 2, 5_000, 'the next message merged');
    expect(hub.status().rejected).toEqual({});
  });
});
