// A peer's `report` at the size of the universe: whole when it fits the hub's limit, its large fields left out (named, logged once) when not.
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from '../log/logger.js';
import { MAX_REPORT_CHARS } from './control-messages.js';
import { HubClient } from './hub-client.js';
import { keyOf, startHub, waitFor } from './testing/hub-fixtures.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** 600 symbols' names, as the synthetic universe spells them. */
const SYMBOLS = Array.from({ length: 600 }, (_, i) => `X${String.fromCharCode(65 + (i % 26))}${i}USDT`);

describe('a peer report', () => {
  it('reaches the hub whole for a trader holding a position and a ladder in each of 600 symbols', async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const trader = new HubClient({
      url: hub.url,
      peer: 'trader-0',
      key: keyOf('trader'),
      logger: new Logger('t'),
    });
    cleanups.push(() => trader.close());
    await trader.connect();
    const report = {
      synced: true,
      positions: SYMBOLS.map((s) => `${s}:-286993.125`),
      trading: {
        ladders: SYMBOLS.map((s) => ({
          symbol: s,
          generation: 12,
          rungs: 5,
          covered: '1.000',
          placing: false,
        })),
        underCovered: SYMBOLS.slice(0, 300),
      },
    };
    // The size that the limit of 16 KiB refused in a 600-symbol soak.
    expect(JSON.stringify(report).length).toBeGreaterThan(16 * 1024);
    expect(trader.report(report)).toBe(true);
    await waitFor(() => hub.status().peers.some((p) => p.peer === 'trader-0' && p.report !== null));
    expect(hub.status().peers.find((p) => p.peer === 'trader-0')?.report).toEqual(report);
  });

  it('leaves out the fields of a report over the limit, names them, and logs that once', async () => {
    const hub = await startHub('ws');
    cleanups.push(() => hub.close());
    const logged: Array<Record<string, unknown>> = [];
    const logger = new Logger('t', {
      level: 'info',
      format: 'json',
      sink: (line) => logged.push(JSON.parse(line) as Record<string, unknown>),
    });
    const trader = new HubClient({ url: hub.url, peer: 'trader-1', key: keyOf('trader'), logger });
    cleanups.push(() => trader.close());
    await trader.connect();
    const huge = {
      synced: true,
      gaps: 0,
      positions: Array.from({ length: 20_000 }, (_, i) => `S${i}USDT:1.5`),
    };
    const chars = JSON.stringify(huge).length;
    expect(chars).toBeGreaterThan(MAX_REPORT_CHARS);
    expect(trader.report(huge)).toBe(true);
    expect(trader.report({ ...huge, gaps: 1 })).toBe(true);
    await waitFor(() => {
      const report = hub.status().peers.find((p) => p.peer === 'trader-1')?.report as {
        gaps?: number;
      } | null;
      return report?.gaps === 1;
    });
    expect(hub.status().peers.find((p) => p.peer === 'trader-1')?.report).toEqual({
      synced: true,
      gaps: 1,
      omitted: ['positions'],
      reportChars: chars,
    });
    expect(
      logged.filter((l) => l.msg === "status report over the hub's limit; its large fields are left out"),
    ).toEqual([expect.objectContaining({ level: 'warn', chars, omitted: 'positions' })]);
  });
});
