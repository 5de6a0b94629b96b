// Test rig: a live trading side (engine, risk, ladders) on a CollectorRig's trader, sending to the simulator over HTTP exactly as to Binance.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BookAccount } from '../../trader/engine/book-market-data.js';
import { ExchangeVenue } from '../../trader/execution/exchange-venue.js';
import { FileOrderJournal } from '../../trader/execution/order-journal.js';
import { OrderSender } from '../../trader/execution/order-sender.js';
import { SymbolRules } from '../../trader/execution/symbol-rules.js';
import { BudgetOrderRate } from '../../trader/risk/order-rate.js';
import { FileRiskStateStore } from '../../trader/risk/risk-state-store.js';
import { ExchangeStopOrders, stopFromAlgoRecord } from '../../trader/stop-loss/exchange-stop-orders.js';
import { parseLadderStopId } from '../../trader/stop-loss/ladder-ids.js';
import type { StopOrder } from '../../trader/stop-loss/stop-orders.js';
import type { Strategy } from '../../trader/strategies/strategy-api.js';
import type { TraderProcess } from '../../trader/trader-process.js';
import { TradingRuntime } from '../../trader/trading-runtime.js';
import type { RiskSettings } from '../../ts/config/risk-config.js';
import { Decimal } from '../../ts/exact/decimal.js';
import { decodeAlgoOrders } from '../../ts/exchange/usdm-decoders.js';
import { Logger, silentLogger } from '../../ts/log/logger.js';
import { parseExchangeInfo } from '../../ts/native/parse.js';
import type { CollectorRig } from './system-rig.js';

/** A strategy that never decides anything: tests set targets through the engine. */
export const IDLE_STRATEGY: Strategy = {
  requirements: { symbols: 'all', intervals: [], warmupBars: 0, ticks: false },
};

/** A running live trading side. */
export interface LiveTrading {
  readonly trader: TraderProcess;
  readonly runtime: TradingRuntime;
  readonly stateDir: string;
  stop(): Promise<void>;
}

/**
 * Starts a trader on `rig`'s hub with a live trading side: `ExchangeVenue` and `ExchangeStopOrders`
 * over `OrderSender` to the simulator, positions from the hub-merged book, the order journal and
 * the risk state in `stateDir` (a fresh temporary folder unless given: give the same one to
 * restart).
 */
export async function startLiveTrading(
  rig: CollectorRig,
  settings: RiskSettings,
  stateDir = mkdtempSync(join(tmpdir(), 'tributary-live-trading-')),
): Promise<LiveTrading> {
  const trader = await rig.trader();
  const api = rig.api();
  const info = parseExchangeInfo((await api.exchangeInfo()).body);
  const rules = new SymbolRules(info.symbols.filter((s) => s.tradable));
  const sender = new OrderSender(api, { logger: silentLogger('orders'), recovery: { queryDelayMs: 50 } });
  const dir = { symbolId: (n: string) => trader.feed.symbolId(n), symbols: () => trader.client.symbols };
  const runtime = new TradingRuntime(
    trader,
    {
      name: 'live-test',
      strategy: IDLE_STRATEGY,
      venue: new ExchangeVenue('sim', sender, trader),
      rules,
      journal: new FileOrderJournal(join(stateDir, 'orders.jsonl'), silentLogger('journal')),
      logger: process.env.RISK_TEST_LOG === '1' ? new Logger('trading') : silentLogger('trading'),
      protection: {
        settings,
        store: new FileRiskStateStore(stateDir),
        stopOrders: new ExchangeStopOrders(sender),
        orderRate: new BudgetOrderRate(api.rest.budget),
      },
    },
    new BookAccount(trader.book, dir),
  );
  await runtime.start();
  return {
    trader,
    runtime,
    stateDir,
    stop: async () => {
      await runtime.stop();
      await rig.killTrader(trader);
    },
  };
}

/** The simulated account's position and waiting ladder stops of `symbol`, read inside the simulator (no request is counted). */
export function exchangeTruth(
  rig: CollectorRig,
  symbol: string,
): { amount: Decimal; entry: Decimal; stops: StopOrder[] } {
  const position = rig.truth().positions.find((p) => p.symbol === symbol && p.positionSide === 'BOTH');
  const handler = rig.sim.engine
    .endpoints()
    .find((e) => e.method === 'GET' && e.path === '/fapi/v1/openAlgoOrders');
  if (handler === undefined) throw new Error('the simulator has no openAlgoOrders endpoint');
  const records = decodeAlgoOrders(
    handler.handle({ params: { symbol }, accountId: 'account-1', now: rig.sim.clock.now() }),
  );
  return {
    amount: Decimal.parse(position?.positionAmt ?? '0'),
    entry: Decimal.parse(position?.entryPrice ?? '0'),
    stops: records.filter((r) => parseLadderStopId(r.clientAlgoId) !== undefined).map(stopFromAlgoRecord),
  };
}
