// End to end: the simulator's whole /public route (book tickers) stalls while /market delivers; the stream collector replaces it within publicStallMs and the hub's quotes move again.
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorRig, eventually, replacedAfterStall } from './testing/system-rig.js';

const rigs: CollectorRig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.stop();
});

describe('a stalled /public route', () => {
  it('is replaced whole within publicStallMs while the market route delivers, and every symbol’s quote at the hub moves again', async () => {
    const STALL_MS = 10_000; // the smallest publicStallMs the config takes
    const r = await CollectorRig.start({
      collectors: {
        // Six book tickers on one /public connection: stalling it silences the whole route. The
        // per-connection watch is off, so only the route-wide rule can act.
        stream: {
          instances: 1,
          intervals: ['1m'],
          maxStreamsPerConnection: 200,
          publicStallMs: STALL_MS,
          connectionStallMs: 0,
        },
      },
    });
    rigs.push(r);
    await r.collector('universe');
    await eventually(() => r.hub.symbols.names.length === 6, 'the universe in the hub registry');
    const symbols = [...r.hub.symbols.names];
    const stream = await r.collector('stream');
    const detail = () => stream.collector.status().detail;
    await eventually(() => detail().connections === 2, 'one /market and one /public connection');
    const quoteTime = (symbol: string) => r.hub.book.tick(r.hub.symbols.id(symbol) ?? -1)?.tick.time ?? 0;
    await eventually(() => symbols.every((s) => quoteTime(s) > 0), 'every symbol quoted at the hub');

    // The /public connection stays open, answering pings, and delivers nothing for longer than
    // this test; /market (trades, klines, the heartbeat) goes on.
    const stalledAt = Date.now();
    expect(await r.stallConnection(`${symbols[0]?.toLowerCase()}@bookTicker`, 600_000)).toBe(1);
    const before = new Map(symbols.map((s) => [s, quoteTime(s)]));

    const replacedAfter = await replacedAfterStall(
      () => detail().publicStallReconnects === 1,
      'the /public route replaced',
      stalledAt,
      STALL_MS,
      detail,
    );
    expect(replacedAfter).toBeGreaterThanOrEqual(STALL_MS - 1_000);
    expect(replacedAfter).toBeLessThan(STALL_MS + 3_000);

    // The new connection delivers: every symbol's quote at the hub is newer than at the stall.
    await eventually(
      () => symbols.every((s) => quoteTime(s) > (before.get(s) ?? 0)),
      'every quote moving again',
      15_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${symbols.map((s) => `${s} ${quoteTime(s)}`).join(', ')}`);
    });
    const d = detail();
    expect(d.publicStalls).toBe(1);
    expect(d.publicStallReconnects).toBe(1);
    expect(d.marketStalls).toBe(0);
    expect(d.connectionStalls).toBe(0);
    expect(d.publicConnectionStalls).toBe(0);
    expect(d.reconnects).toBe(1);
  }, 90_000);
});
