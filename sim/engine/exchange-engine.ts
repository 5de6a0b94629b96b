// The simulator's exchange engine: accounts, orders, matching, positions, PnL, fees, funding, income.
import { Decimal } from '../../ts/exact/decimal.js';
import { Logger } from '../../ts/log/logger.js';
import type {
  AccountDirectory,
  Endpoint,
  Json,
  MarketTrade,
  MarketView,
  SimClock,
  UserEventListener,
} from '../contracts.js';
import { Account, MARGIN_ASSET, type MarginType } from './account.js';
import { accountEndpoints } from './account-endpoints.js';
import type { AccountSnapshot } from './account-views.js';
import { algoEndpoints } from './algo-endpoints.js';
import { AlgoService } from './algo-service.js';
import { AlgoStore } from './algo-store.js';
import { batchEndpoints } from './batch-endpoints.js';
import { money } from './binance-format.js';
import { CountdownCancels } from './countdown-cancel.js';
import type { EngineContext, EngineDeps } from './engine-context.js';
import { EngineConfigError } from './engine-errors.js';
import { DEFAULT_FUNDING_INTERVAL_MS, FundingSchedule } from './funding.js';
import { IdSource } from './id-source.js';
import { IncomeLedger } from './income-ledger.js';
import { LiquidationEngine } from './liquidation.js';
import { assessAccount } from './margin.js';
import { orderEndpoints } from './order-endpoints.js';
import { OrderExecutor } from './order-executor.js';
import { OrderStore } from './order-store.js';
import { Reject } from './rejections.js';
import { riskEndpoints } from './risk-endpoints.js';
import { TradeLedger } from './trade-ledger.js';

/** One simulated account. */
export interface AccountConfig {
  apiKey: string;
  apiSecret: string;
  /** More key pairs of the same account: orders placed with any of them share its order-rate limits. */
  apiKeys?: ReadonlyArray<{ readonly apiKey: string; readonly apiSecret: string }>;
  /** Starting wallet per asset; default `{ USDT: '10000' }`. Booked as TRANSFER income. */
  balances?: Readonly<Record<string, string>>;
  /** Default `one-way`. */
  positionMode?: 'one-way' | 'hedge';
  /** Default `'0.0002'`. */
  makerFee?: string;
  /** Default `'0.0005'`. */
  takerFee?: string;
  /** Default 20 (capped per symbol at its maximum). */
  defaultLeverage?: number;
  /**
   * Positions the account starts with (one-way mode; a short's amount is negative), e.g. a paper
   * account carried over a restart. Each symbol must be listed, once.
   */
  positions?: ReadonlyArray<{
    readonly symbol: string;
    readonly amount: string;
    readonly entryPrice: string;
  }>;
}

/** What the engine runs on. */
export interface ExchangeEngineOptions {
  market: MarketView;
  clock: SimClock;
  accounts: readonly AccountConfig[];
  /** Default 8 h; funding at multiples of it since the epoch (00/08/16 UTC). */
  fundingIntervalMs?: number;
  /**
   * Added to every id range (default 0). An engine that takes over from an earlier one, such as a
   * restarted paper trader's, gives ids the earlier one never did when this is larger than the
   * count of ids that one handed out (the time in ms since the earlier start is, at any order rate
   * Binance allows).
   */
  idOffset?: number;
  logger?: Logger;
}

/** A position as the read-only truth view shows it (exact strings). */
export interface PositionTruth {
  readonly symbol: string;
  readonly positionSide: 'BOTH' | 'LONG' | 'SHORT';
  readonly positionAmt: string;
  readonly entryPrice: string;
  readonly unrealizedPnl: string;
  readonly isolatedWallet: string;
  readonly marginType: MarginType;
  readonly leverage: number;
}

/** An open order as the truth view shows it. */
export interface OpenOrderTruth {
  readonly symbol: string;
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly side: 'BUY' | 'SELL';
  readonly type: string;
  readonly price: string;
  readonly origQty: string;
  readonly executedQty: string;
  readonly status: string;
}

/** The engine's own view of one account, for tests and the admin page (exact decimal strings). */
export interface AccountTruth {
  readonly accountId: string;
  readonly positionMode: 'one-way' | 'hedge';
  /** Wallet balance per asset (USDT includes isolated wallets). */
  readonly walletBalances: Readonly<Record<string, string>>;
  readonly crossWalletBalance: string;
  readonly availableBalance: string;
  readonly totalUnrealizedProfit: string;
  readonly positions: readonly PositionTruth[];
  readonly openOrders: readonly OpenOrderTruth[];
  readonly openAlgoOrders: number;
}

const FEE_PATTERN = /^\d+(\.\d{1,8})?$/;

function parseFee(text: string | undefined, fallback: string, field: string): Decimal {
  const value = text ?? fallback;
  if (!FEE_PATTERN.test(value))
    throw new EngineConfigError(field, `not a fee rate: ${JSON.stringify(value)}`);
  const fee = Decimal.parse(value);
  if (fee.gte(Decimal.ONE)) throw new EngineConfigError(field, `fee rate ${value} is not below 1`);
  return fee;
}

/**
 * The exchange engine. It owns accounts, user orders, matching against the market's book and
 * tape, conditional orders, positions, fees, funding and income; it hands the server its REST
 * endpoints and emits user-data events.
 */
export class ExchangeEngine implements AccountDirectory {
  readonly #market: MarketView;
  readonly #clock: SimClock;
  readonly #logger: Logger;
  readonly #accounts = new Map<string, Account>();
  readonly #byApiKey = new Map<string, { readonly account: Account; readonly secret: string }>();
  readonly #listeners = new Set<UserEventListener>();
  readonly #ctx: EngineContext;
  readonly #executor: OrderExecutor;
  readonly #algoService: AlgoService;
  readonly #funding: FundingSchedule;
  readonly #countdowns = new CountdownCancels();
  readonly liquidations: LiquidationEngine;
  readonly #unsubscribeTrades: () => void;
  #listenerErrors = 0;

  constructor(options: ExchangeEngineOptions) {
    this.#market = options.market;
    this.#clock = options.clock;
    this.#logger = options.logger ?? new Logger('sim.engine');
    const interval = options.fundingIntervalMs ?? DEFAULT_FUNDING_INTERVAL_MS;
    if (!Number.isSafeInteger(interval) || interval <= 0) {
      throw new EngineConfigError('fundingIntervalMs', `must be a positive integer, got ${interval}`);
    }
    const offset = options.idOffset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > 2 ** 52) {
      throw new EngineConfigError('idOffset', `must be an integer in 0..2^52, got ${offset}`);
    }
    const ids = new IdSource(offset);
    const income = new IncomeLedger();
    this.#ctx = {
      market: this.#market,
      clock: this.#clock,
      orders: new OrderStore(),
      algos: new AlgoStore(),
      trades: new TradeLedger(),
      income,
      ids,
      logger: this.#logger,
      account: (id) => {
        const account = this.#accounts.get(id);
        if (account === undefined) throw Reject.unknownAccount();
        return account;
      },
      emit: (accountId, event) => this.#emit(accountId, event),
    };
    for (const [index, config] of options.accounts.entries()) this.#addAccount(config, index);
    this.#executor = new OrderExecutor(this.#ctx);
    this.#algoService = new AlgoService(this.#ctx, this.#executor);
    this.#funding = new FundingSchedule(this.#ctx, this.#executor, interval, () => this.#accounts.values());
    this.liquidations = new LiquidationEngine(
      this.#ctx,
      this.#executor,
      () => this.#accounts.values(),
      (accountId, symbol) => {
        for (const algo of this.#ctx.algos.waiting(accountId, symbol)) this.#algoService.cancel(algo);
      },
    );
    this.#unsubscribeTrades = this.#market.onTrade((trade) => this.#onTrade(trade));
  }

  /** Resolves an API key to its account id and secret. */
  credentials(apiKey: string): { accountId: string; secret: string } | undefined {
    const entry = this.#byApiKey.get(apiKey);
    return entry === undefined ? undefined : { accountId: entry.account.id, secret: entry.secret };
  }

  /** Subscribes to user-data events of every account; returns the unsubscribe function. */
  onUserEvent(listener: UserEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** The REST endpoints the server mounts. */
  endpoints(): Endpoint[] {
    const deps: EngineDeps = {
      ctx: this.#ctx,
      executor: this.#executor,
      algoService: this.#algoService,
      countdowns: this.#countdowns,
      liquidations: this.liquidations,
      snapshot: (account) => this.#snapshot(account),
    };
    return [
      ...orderEndpoints(deps),
      ...batchEndpoints(deps),
      ...algoEndpoints(deps),
      ...accountEndpoints(deps),
      ...riskEndpoints(deps),
    ];
  }

  /**
   * Time-driven work: funding at funding times, mark-price triggers of conditional orders, missed
   * countdowns (their symbol's open orders cancelled), GTD orders at their `goodTillDate` (expired),
   * and liquidations at the current mark prices.
   */
  advance(now: number): void {
    this.#funding.advance(now);
    this.#algoService.check();
    for (const due of this.#countdowns.due(now)) {
      const account = this.#accounts.get(due.accountId);
      if (account === undefined) continue;
      for (const order of this.#ctx.orders.open(account.id, due.symbol))
        this.#executor.cancel(account, order);
      this.#logger.info('countdown ran out: open orders cancelled', {
        account: account.id,
        symbol: due.symbol,
      });
    }
    for (const order of this.#ctx.orders.dueGoodTillDate(now)) {
      const account = this.#accounts.get(order.accountId);
      if (account !== undefined) this.#executor.expire(account, order);
    }
    this.liquidations.check();
  }

  /** The next funding time after `now` (what premiumIndex reports as `nextFundingTime`). */
  nextFundingTime(now: number): number {
    return this.#funding.nextFundingTime(now);
  }

  /** Stops listening to the market's tape. */
  close(): void {
    this.#unsubscribeTrades();
  }

  /** Account ids in configuration order. */
  accountIds(): string[] {
    return [...this.#accounts.keys()];
  }

  /** Listener failures caught so far (each was logged). */
  listenerErrors(): number {
    return this.#listenerErrors;
  }

  /** The engine's truth about one account: balances, positions and open orders as exact strings. */
  accountTruth(accountId: string): AccountTruth {
    const account = this.#ctx.account(accountId);
    const snap = this.#snapshot(account);
    const walletBalances: Record<string, string> = {};
    for (const asset of account.assets())
      walletBalances[asset] = money(account.walletBalance(asset)).toString();
    return {
      accountId,
      positionMode: account.positionMode,
      walletBalances,
      crossWalletBalance: snap.risk.crossWalletBalance.toString(),
      availableBalance: snap.risk.availableBalance.toString(),
      totalUnrealizedProfit: snap.risk.totalUnrealizedProfit.toString(),
      positions: snap.risk.positions
        .filter((p) => p.position.isOpen())
        .map((p) => ({
          symbol: p.position.symbol,
          positionSide: p.position.side,
          positionAmt: p.position.amount.normalize().toString(),
          entryPrice: p.position.entryPrice.normalize().toString(),
          unrealizedPnl: p.unrealizedPnl.toString(),
          isolatedWallet: p.position.isolatedWallet.toString(),
          marginType: p.settings.marginType,
          leverage: p.settings.leverage,
        })),
      openOrders: snap.openOrders.map((o) => ({
        symbol: o.symbol,
        orderId: o.orderId,
        clientOrderId: o.clientOrderId,
        side: o.side,
        type: o.type,
        price: o.price.toString(),
        origQty: o.origQty.toString(),
        executedQty: o.executedQty.toString(),
        status: o.status,
      })),
      openAlgoOrders: this.#ctx.algos.waiting(accountId).length,
    };
  }

  #addAccount(config: AccountConfig, index: number): void {
    const field = (name: string) => `accounts[${index}].${name}`;
    if (config.apiKey === '') throw new EngineConfigError(field('apiKey'), 'must not be empty');
    if (config.apiSecret === '') throw new EngineConfigError(field('apiSecret'), 'must not be empty');
    const pairs = [{ apiKey: config.apiKey, apiSecret: config.apiSecret }, ...(config.apiKeys ?? [])];
    pairs.forEach((pair, i) => {
      const name = i === 0 ? field('apiKey') : field(`apiKeys[${i - 1}].apiKey`);
      if (pair.apiKey === '' || pair.apiSecret === '') throw new EngineConfigError(name, 'must not be empty');
      if (this.#byApiKey.has(pair.apiKey) || pairs.slice(0, i).some((p) => p.apiKey === pair.apiKey)) {
        throw new EngineConfigError(name, 'duplicate apiKey');
      }
    });
    const makerFee = parseFee(config.makerFee, '0.0002', field('makerFee'));
    const takerFee = parseFee(config.takerFee, '0.0005', field('takerFee'));
    const leverage = config.defaultLeverage ?? 20;
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) {
      throw new EngineConfigError(field('defaultLeverage'), `must be an integer in 1..125, got ${leverage}`);
    }
    const balances = new Map<string, Decimal>();
    for (const [asset, text] of Object.entries(config.balances ?? { USDT: '10000' })) {
      const amount = Decimal.tryParse(text);
      if (!/^[A-Z0-9]{1,20}$/.test(asset))
        throw new EngineConfigError(field(`balances.${asset}`), 'not an asset name');
      if (amount === undefined || amount.sign() < 0) {
        throw new EngineConfigError(
          field(`balances.${asset}`),
          `not a non-negative amount: ${JSON.stringify(text)}`,
        );
      }
      balances.set(asset, amount);
    }
    const id = `account-${index + 1}`;
    const account = new Account(
      id,
      config.apiKey,
      config.apiSecret,
      config.positionMode ?? 'one-way',
      makerFee,
      takerFee,
      leverage,
      new Map(),
    );
    const now = this.#clock.now();
    this.#seedPositions(account, config, field, now);
    for (const [asset, amount] of balances) {
      account.adjustCrossWallet(amount, now, asset);
      if (amount.isZero()) continue;
      this.#ctx.income.record({
        accountId: id,
        symbol: '',
        incomeType: 'TRANSFER',
        income: amount,
        asset,
        info: 'TRANSFER',
        time: now,
        tranId: this.#ctx.ids.nextTranId(),
        tradeId: '',
      });
    }
    this.#accounts.set(id, account);
    for (const pair of pairs) this.#byApiKey.set(pair.apiKey, { account, secret: pair.apiSecret });
    this.#logger.info('account ready', { account: id, mode: account.positionMode, asset: MARGIN_ASSET });
  }

  /** Opens `config.positions` on `account` as they are: no trade, fee or income (they were paid before). */
  #seedPositions(
    account: Account,
    config: AccountConfig,
    field: (name: string) => string,
    now: number,
  ): void {
    const seen = new Set<string>();
    (config.positions ?? []).forEach((p, i) => {
      const at = (name: string) => field(`positions[${i}].${name}`);
      if (account.positionMode !== 'one-way')
        throw new EngineConfigError(at('symbol'), 'starting positions need the one-way position mode');
      if (this.#market.spec(p.symbol) === undefined || seen.has(p.symbol))
        throw new EngineConfigError(
          at('symbol'),
          `not a listed symbol, or listed twice: ${JSON.stringify(p.symbol)}`,
        );
      seen.add(p.symbol);
      const amount = Decimal.tryParse(p.amount);
      if (amount === undefined || amount.isZero())
        throw new EngineConfigError(at('amount'), `not a non-zero amount: ${JSON.stringify(p.amount)}`);
      const entry = Decimal.tryParse(p.entryPrice);
      if (entry === undefined || entry.sign() <= 0)
        throw new EngineConfigError(
          at('entryPrice'),
          `not a positive price: ${JSON.stringify(p.entryPrice)}`,
        );
      const position = account.position(p.symbol, 'BOTH');
      position.amount = amount;
      position.entryPrice = entry;
      position.updateTime = now;
    });
  }

  #snapshot(account: Account): AccountSnapshot {
    for (const spec of this.#market.specs())
      for (const side of account.sides()) account.position(spec.symbol, side);
    const openOrders = this.#ctx.orders.open(account.id);
    return {
      account,
      risk: assessAccount(account, this.#market, openOrders),
      openOrders,
      symbolsWithAlgoOrders: new Set(this.#ctx.algos.waiting(account.id).map((a) => a.symbol)),
    };
  }

  #onTrade(trade: MarketTrade): void {
    try {
      this.#executor.fillFromTrade(trade);
      this.#algoService.check(trade.symbol, trade.price);
    } catch (error) {
      // A failure here is an engine bug; it must not break the market's tape for other listeners.
      this.#logger.error('engine failed to process a market trade', {
        symbol: trade.symbol,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #emit(accountId: string, event: Json): void {
    for (const listener of this.#listeners) {
      try {
        listener(accountId, event);
      } catch (error) {
        this.#listenerErrors += 1;
        this.#logger.error('user event listener failed', {
          account: accountId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
}
