// IncomePoller against scripted income answers: absurd row times and pages that hold no PnL rows.
import { afterEach, describe, expect, it } from 'vitest';
import { RestClient } from '../../ts/exchange/rest-client.js';
import { ScriptedServer } from '../../ts/exchange/testing/scripted-server.js';
import { UsdmApi } from '../../ts/exchange/usdm-api.js';
import { silentLogger } from '../../ts/log/logger.js';
import type { CollectorContext } from '../collector-context.js';
import { IncomePoller } from './income-poller.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Row {
  symbol: string;
  incomeType: string;
  income: string;
  asset: string;
  time: number;
  tranId: number;
}

function row(tranId: number, time: number, income: string, incomeType = 'REALIZED_PNL', asset = 'USDT'): Row {
  return { symbol: 'BTCUSDT', incomeType, income, asset, time, tranId };
}

/** A poller whose exchange answers `GET /fapi/v1/income` with `answer(startTime)`; the hub link is not ready. */
async function poller(answer: (startTime: number) => Row[]) {
  const server = await ScriptedServer.start();
  cleanup.push(() => server.close());
  server.on('GET', '/fapi/v1/time', () => ({ body: { serverTime: Date.now() } }));
  server.on('GET', '/fapi/v1/income', (request) => ({
    body: answer(Number(request.query.get('startTime'))),
  }));
  const rest = new RestClient(
    { baseUrl: server.url, apiKey: 'k', apiSecret: 's' },
    { logger: silentLogger() },
  );
  cleanup.push(() => rest.close());
  const ctx = {
    api: new UsdmApi(rest, { logger: silentLogger() }),
    hub: { onState: () => () => {} } as unknown as CollectorContext['hub'],
    link: {
      ready: false,
      counters: { framesSent: 0, framesDropped: 0, recordsSent: 0 },
    } as unknown as CollectorContext['link'],
    logger: silentLogger(),
  };
  const income = new IncomePoller(ctx, { intervalMs: 20 });
  cleanup.push(() => income.stop());
  return { income, server };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('IncomePoller', () => {
  it('refuses and counts a row whose time is in µs instead of letting it ban everything and stop the polls', async () => {
    const now = Date.now();
    const { income, server } = await poller((startTime) =>
      startTime > now + 3_600_000
        ? []
        : [
            row(1, now - 3_600_000, '-100'),
            row(2, (now - 60_000) * 1000, '-5000'),
            row(3, now - 1_000, '-1'),
          ],
    );
    income.start();
    await until(() => server.requestsTo('/fapi/v1/income').length >= 3, 'three polls');
    const decision = income.decision;
    expect(decision?.account24h.toString()).toBe('-101');
    expect(decision?.all).toBe(false);
    expect(income.status().detail.rejected).toBeGreaterThanOrEqual(1);
    // Later polls read on from the newest sane row, not from 1000× now.
    const starts = server.requestsTo('/fapi/v1/income').map((r) => Number(r.query.get('startTime')));
    expect(Math.max(...starts)).toBeLessThanOrEqual(now + 60_000);
  });

  it('reads past a full page that holds no USDT PnL rows instead of asking for it again forever', async () => {
    const now = Date.now();
    const first = now - 20 * 3_600_000;
    // 1000 BNB commissions (fees paid in BNB), then a USDT loss that should ban BTCUSDT.
    const fees = Array.from({ length: 1000 }, (_, i) =>
      row(10 + i, first + i * 1000, '-0.001', 'COMMISSION', 'BNB'),
    );
    const loss = row(5000, now - 3_600_000, '-2000');
    const { income, server } = await poller((startTime) => {
      if (startTime <= first) return fees;
      return startTime <= loss.time ? [fees[999] as Row, loss] : [];
    });
    income.start();
    await until(() => server.requestsTo('/fapi/v1/income').length >= 4, 'four requests');
    expect(income.decision?.symbols).toEqual(['BTCUSDT']);
  });
});
