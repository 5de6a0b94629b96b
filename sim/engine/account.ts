// One simulated futures account: wallets, position mode, per-symbol leverage and margin type, positions.
import { Decimal } from '../../ts/exact/decimal.js';
import { type PositionSide, PositionState } from './position-state.js';

/** Binance's margin types as `POST /fapi/v1/marginType` names them. */
export type MarginType = 'CROSSED' | 'ISOLATED';

/** The asset every USD-M margin, fee, PnL and funding amount is in. */
export const MARGIN_ASSET = 'USDT';

/** Leverage and margin type of one symbol. */
export interface SymbolSettings {
  leverage: number;
  marginType: MarginType;
}

/**
 * Mutable state of one account. Wallets hold the cross wallet per asset (for USDT, the part not
 * committed to isolated positions); an isolated position's wallet lives on the position, and the
 * asset's wallet balance is the sum of both.
 */
export class Account {
  readonly #crossWallets = new Map<string, Decimal>();
  readonly #settings = new Map<string, SymbolSettings>();
  readonly #positions = new Map<string, PositionState>();
  /** Time of the last balance change (Binance's asset `updateTime`). */
  balanceUpdateTime = 0;
  /** Multi-Assets mode (margin shared across assets); the simulator's margin stays USDT either way. */
  multiAssetsMargin = false;

  constructor(
    readonly id: string,
    readonly apiKey: string,
    readonly secret: string,
    public positionMode: 'one-way' | 'hedge',
    readonly makerFee: Decimal,
    readonly takerFee: Decimal,
    readonly defaultLeverage: number,
    balances: ReadonlyMap<string, Decimal>,
  ) {
    for (const [asset, amount] of balances) this.#crossWallets.set(asset, amount);
    if (!this.#crossWallets.has(MARGIN_ASSET)) this.#crossWallets.set(MARGIN_ASSET, Decimal.ZERO);
  }

  /** Assets in a stable order (USDT first). */
  assets(): string[] {
    return [...this.#crossWallets.keys()].sort((a, b) =>
      a === MARGIN_ASSET ? -1 : b === MARGIN_ASSET ? 1 : a.localeCompare(b),
    );
  }

  /** The cross wallet of `asset` (for USDT excludes isolated wallets). */
  crossWallet(asset: string = MARGIN_ASSET): Decimal {
    return this.#crossWallets.get(asset) ?? Decimal.ZERO;
  }

  /** Adds `amount` (may be negative) to the cross wallet of `asset`. */
  adjustCrossWallet(amount: Decimal, time: number, asset: string = MARGIN_ASSET): void {
    this.#crossWallets.set(asset, this.crossWallet(asset).add(amount));
    this.balanceUpdateTime = time;
  }

  /** Cross wallet plus every isolated wallet (Binance's `walletBalance` of USDT). */
  walletBalance(asset: string = MARGIN_ASSET): Decimal {
    let total = this.crossWallet(asset);
    if (asset === MARGIN_ASSET) for (const p of this.#positions.values()) total = total.add(p.isolatedWallet);
    return total;
  }

  /** Leverage and margin type of `symbol` (defaults capped to the symbol's maximum). */
  settings(symbol: string, maxLeverage: number): SymbolSettings {
    let s = this.#settings.get(symbol);
    if (s === undefined) {
      s = { leverage: Math.min(this.defaultLeverage, maxLeverage), marginType: 'CROSSED' };
      this.#settings.set(symbol, s);
    }
    return s;
  }

  /** The position of `symbol` on `side`, created empty on first use. */
  position(symbol: string, side: PositionSide): PositionState {
    const key = `${symbol}\u0000${side}`;
    let p = this.#positions.get(key);
    if (p === undefined) {
      p = new PositionState(symbol, side);
      this.#positions.set(key, p);
    }
    return p;
  }

  /** The position sides of the current mode. */
  sides(): readonly PositionSide[] {
    return this.positionMode === 'hedge' ? ['LONG', 'SHORT'] : ['BOTH'];
  }

  /** Every position ever touched (open or not). */
  positions(): PositionState[] {
    return [...this.#positions.values()];
  }

  /** Open positions only. */
  openPositions(symbol?: string): PositionState[] {
    return this.positions().filter((p) => p.isOpen() && (symbol === undefined || p.symbol === symbol));
  }
}
