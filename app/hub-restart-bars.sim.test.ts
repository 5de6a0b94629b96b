// End to end: the hub is down while a minute closes and no REST kline poller runs; back, it gets that minute from the stream collector's retained bars.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TraderProcess } from '../trader/trader-process.js';
import type { KlineObject } from '../ts/native/index.js';
import { parseRestKlines } from '../ts/native/parse.js';
import { CollectorRig, eventually, klineValues } from './testing/system-rig.js';

const rigs: CollectorRig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.stop();
  vi.restoreAllMocks();
}, 30_000);

const MINUTE = 60_000;
/** How far the simulator's clock jumps ahead inside the minute: under the hub's 30 s admission bound. */
const JUMP_MS = 24_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Shifts this process's `Date.now` (which the simulator, the hub, the collectors and the trader all
 * read, and nothing else of theirs) so that it reads `secondsIn` seconds into a minute now: as if
 * the test had started then. A stream collector sends only bars that open after it subscribed, so
 * without this the test would wait up to a minute for the first one.
 */
function startClockAt(secondsIn: number): void {
  const realNow = Date.now.bind(Date);
  const offset = (secondsIn * 1000 - (realNow() % MINUTE) + MINUTE) % MINUTE;
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
}

/** Waits until the simulator's clock reads `time`. */
async function simAt(r: CollectorRig, time: number): Promise<void> {
  for (let left = time - r.sim.clock.now(); left > 0; left = time - r.sim.clock.now()) {
    await sleep(Math.min(left, 200));
  }
}

/** Symbols whose 1m bar at `openTime` in `book` is not the simulator's closed kline, with what differs. */
async function differences(
  r: CollectorRig,
  symbols: readonly string[],
  openTime: number,
  book: (symbol: string) => KlineObject | undefined,
): Promise<string[]> {
  const api = r.api();
  const problems: string[] = [];
  for (const symbol of symbols) {
    const served = await api.klines({ symbol, interval: '1m', startTime: openTime, limit: 1 });
    const [truth] = parseRestKlines(served.body, served.serverTimeMs);
    const mine = book(symbol);
    // Closed by the simulator's clock (the client's offset to it predates the jump).
    if (truth === undefined || truth.openTime !== openTime || r.sim.clock.now() < openTime + MINUTE) {
      problems.push(`${symbol}: the simulator has no closed kline at ${openTime}`);
    } else if (mine === undefined || !mine.closed) {
      problems.push(`${symbol}: ${mine === undefined ? 'missing' : 'not closed'}`);
    } else if (JSON.stringify(klineValues(mine)) !== JSON.stringify(klineValues(truth))) {
      problems.push(
        `${symbol}: ${JSON.stringify(klineValues(mine))} vs ${JSON.stringify(klineValues(truth))}`,
      );
    }
  }
  return problems;
}

describe('a hub restart while a minute closes', () => {
  it('the minute that closed while the hub was down reaches the new hub and a trader within seconds, equal to the simulator’s kline, with no REST kline poller', async () => {
    startClockAt(54);
    const started = Date.now();
    const minute = Math.ceil(started / MINUTE) * MINUTE; // ~6 s from now
    const r = await CollectorRig.start();
    rigs.push(r);
    // Bars come only from the stream collector: no kline or hot-kline poller runs.
    await r.collector('universe');
    await eventually(() => r.hub.symbols.names.length === 6, 'the universe in the hub registry');
    const stream = await r.collector('stream');
    const detail = () => stream.collector.status().detail;
    await eventually(() => Number(detail().streams) > 0 && Number(detail().frames) > 0, 'the stream flowing');
    const trader: TraderProcess = await r.trader();
    const setupMs = Date.now() - started;
    const symbols = [...r.hub.symbols.names];
    // The minute must open after the collector subscribed, or it is not one it saw whole.
    expect(Date.now(), `setup took ${setupMs} ms`).toBeLessThan(minute - 1_000);

    // Inside the minute the exchange's clock jumps ahead (its trades and klines follow it), so the
    // minute ends sooner: the hub goes down 2.5 s before it ends and comes back 1.5 s after.
    await simAt(r, minute + 3_000);
    r.sim.clock.setSkew(JUMP_MS);
    await simAt(r, minute + MINUTE - 2_500);
    const hubBar = (symbol: string) => {
      const id = r.hub.symbols.id(symbol) ?? -1;
      return id < 0 ? undefined : r.hub.book.klines(id, '1m').find((e) => e.kline.openTime === minute)?.kline;
    };
    expect(hubBar('BTCUSDT')?.closed).toBe(false);
    await r.hub.close();
    await simAt(r, minute + MINUTE + 1_500);
    await r.restartHub();
    const restarted = Date.now();

    const traderBar = (symbol: string) => {
      const id = trader.feed.symbolId(symbol) ?? -1;
      return id < 0 ? undefined : trader.book.klines(id, '1m').find((k) => k.openTime === minute);
    };
    for (const [what, book] of [
      ['the restarted hub', hubBar],
      ['the trader', traderBar],
    ] as const) {
      let last: string[] = [];
      await eventually(
        async () => {
          last = await differences(r, symbols, minute, book);
          return last.length === 0;
        },
        `the closed minute in ${what}`,
        8_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}:\n  ${last.join('\n  ')}`);
      });
    }
    console.log(`setup ${setupMs} ms; the minute everywhere ${Date.now() - restarted} ms after the restart`);
    expect(Number(detail().resends)).toBe(1);
    expect(Number(detail().barsResent)).toBeGreaterThanOrEqual(6);
  }, 60_000);
});
