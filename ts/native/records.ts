// Record types shared by the facade: exact decimals travel as strings.
export type {
  BalanceObject as Balance,
  BanListObject as BanList,
  KlineObject as Kline,
  MarkObject as Mark,
  PositionObject as Position,
  TickObject as Tick,
} from '../../bindings/index.cjs';

/** `BOTH` in one-way mode, `LONG` / `SHORT` in hedge mode: the core's list, generated from Rust. */
export { POSITION_SIDES, type PositionSide } from './book-layout.js';
