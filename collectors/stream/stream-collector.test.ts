// StreamCollector against a scripted market websocket: frames of streams it did not subscribe to.
import { afterEach, describe, expect, it } from 'vitest';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { ScriptedServer as HttpServer } from '../../ts/exchange/testing/scripted-server.js';
import { ScriptedServer as WsServer, waitUntil } from '../../ts/exchange/testing/ws-scripted-server.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { silentLogger } from '../../ts/log/logger.js';
import type { CollectorContext } from '../collector-context.js';
import { type CollectorHub, IngestLink } from '../collector-hub.js';
import { StreamCollector } from './stream-collector.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A connected hub that keeps the Ingest frames it is sent. */
function fakeHub(frames: Buffer[]): CollectorHub {
  const hub = {
    state: 'ready',
    symbols: ['BTCUSDT'],
    peerId: 1,
    welcome: undefined,
    onState: () => () => {},
    onMessage: () => () => {},
    sendIngest: (frame: Buffer) => {
      frames.push(Buffer.from(frame));
      return true;
    },
  };
  return hub as unknown as CollectorHub;
}

function aggTrade(id: number, time: number) {
  return { e: 'aggTrade', E: time, s: 'BTCUSDT', a: id, p: '100.0', q: '1', f: id, l: id, T: time, m: false };
}

describe('StreamCollector', () => {
  it('counts aggTrades of a stream it never subscribed to instead of dropping them unseen', async () => {
    const ws = await WsServer.start();
    cleanup.push(() => ws.close());
    const http = await HttpServer.start();
    cleanup.push(() => http.close());
    const rest = new RestClient(
      { baseUrl: http.url, retries: { maxAttempts: 1 } },
      { logger: silentLogger() },
    );
    cleanup.push(() => rest.close());
    const hub = fakeHub([]);
    const ctx: CollectorContext = {
      api: new UsdmApi(rest, { logger: silentLogger() }),
      hub,
      link: new IngestLink(hub, silentLogger()),
      logger: silentLogger(),
    };
    const collector = new StreamCollector(ctx, {
      wsUrl: ws.url,
      intervals: ['1m'],
      maxStreamsPerConnection: 200,
      symbols: [],
    });
    cleanup.push(() => collector.stop());
    collector.start();
    await waitUntil(
      () => ws.open().some((c) => c.streams.has('btcusdt@aggTrade')),
      'the aggTrade subscription',
    );
    const stray = { ...aggTrade(7, Date.now()), s: 'ETHUSDT' };
    ws.sendRaw('/market', JSON.stringify({ stream: 'ethusdt@aggTrade', data: stray }));
    await waitUntil(() => collector.status().detail.frames === 1, 'the stray frame received');
    expect(collector.status().detail.unknownFrames).toBe(1);
  });
});
