// What the engine's parts share: the market, the clock, the stores and ledgers, and event output.
import type { Logger } from '../../ts/log/logger.js';
import type { Json, MarketView, SimClock } from '../contracts.js';
import type { Account } from './account.js';
import type { AccountSnapshot } from './account-views.js';
import type { AlgoService } from './algo-service.js';
import type { AlgoStore } from './algo-store.js';
import type { CountdownCancels } from './countdown-cancel.js';
import type { IdSource } from './id-source.js';
import type { IncomeLedger } from './income-ledger.js';
import type { LiquidationEngine } from './liquidation.js';
import type { OrderExecutor } from './order-executor.js';
import type { OrderStore } from './order-store.js';
import { Reject } from './rejections.js';
import type { TradeLedger } from './trade-ledger.js';

/** Shared state and services of one engine instance. */
export interface EngineContext {
  readonly market: MarketView;
  readonly clock: SimClock;
  readonly orders: OrderStore;
  readonly algos: AlgoStore;
  readonly trades: TradeLedger;
  readonly income: IncomeLedger;
  readonly ids: IdSource;
  readonly logger: Logger;
  /** The account by id; throws -2015 for an unknown one. */
  account(accountId: string): Account;
  /** Sends a user-data event to the account's listeners. */
  emit(accountId: string, event: Json): void;
}

/** What the endpoint handlers use: the context, the matching engine, the algo service, account views. */
export interface EngineDeps {
  readonly ctx: EngineContext;
  readonly executor: OrderExecutor;
  readonly algoService: AlgoService;
  readonly countdowns: CountdownCancels;
  readonly liquidations: LiquidationEngine;
  /** The account valued now, with every listed symbol's positions of its mode present. */
  snapshot(account: Account): AccountSnapshot;
}

/** The account of an authenticated request (-2015 when the server passed none). */
export function requestAccount(ctx: EngineContext, accountId: string | null): Account {
  if (accountId === null) throw Reject.unknownAccount();
  return ctx.account(accountId);
}
