// What a trader book's last apply changed, read from native memory the apply wrote: which bars, quotes, marks, positions, balances.
import { POSITION_SIDES, type PositionSide } from './book-layout.js';
import { INTERVALS, type IntervalName } from './interval.js';

/** Numbers per change in the native area: kind code, id, slot, open time, row. */
const CHANGE_FIELDS = 5;

/** Change kinds by the native kind code. */
export const CHANGE_KINDS = ['kline', 'tick', 'mark', 'position', 'balance', 'banList'] as const;
export type BookChangeKind = (typeof CHANGE_KINDS)[number];

/** One entity an apply wrote. */
export type BookChange =
  | {
      kind: 'kline';
      symbolId: number;
      interval: IntervalName;
      /** The bar written (a snapshot: the series' newest, the whole series having been replaced). */
      openTime: number;
      /** The bar's row in the series' columns after the apply; undefined once a newer bar shifted it out. */
      row: number | undefined;
    }
  | { kind: 'tick' | 'mark'; symbolId: number }
  | { kind: 'position'; symbolId: number; side: PositionSide }
  | { kind: 'balance'; asset: string }
  | { kind: 'banList' };

/** Where a {@link BookChanges} reads: the live area, its counts, and the calls for what the area cannot hold. */
export interface ChangeSource {
  /** The first changes, live (rewritten by every apply). */
  area: Float64Array;
  /** [count, 1 when a snapshot applied], live. */
  counts: Uint32Array;
  /** Every change of the last apply (for a batch past the area's room). */
  loadAll: () => Float64Array;
  /** The assets of the last apply's balance changes, in order. */
  loadAssets: () => string[];
}

/**
 * The entities the book's last apply wrote, in the order written: a row already held, dropped as
 * too old or refused against its base is not a change, and an entity may appear more than once
 * when a batch carried several frames of it. Read by index without allocating (`kind(i)`,
 * `symbolId(i)`, `row(i)`, ...) or as objects (`at(i)`, iteration). One instance per book,
 * describing its last apply: read it before the next one.
 */
export class BookChanges {
  readonly #source: ChangeSource;
  /** Every change when the area could not hold them, loaded on first read after an apply. */
  #all: Float64Array | undefined;
  #assets: string[] | undefined;

  constructor(source: ChangeSource) {
    this.#source = source;
  }

  /** Called by the book after each apply: what was loaded described the previous one. */
  reset(): void {
    this.#all = undefined;
    this.#assets = undefined;
  }

  /** Changes in the last apply. */
  get length(): number {
    return this.#source.counts[0] ?? 0;
  }

  /**
   * True when a snapshot applied: it replaced its stream's entities, and what the stream held
   * before but the snapshot did not carry is not named by any change.
   */
  get hadSnapshot(): boolean {
    return this.#source.counts[1] === 1;
  }

  kind(index: number): BookChangeKind | undefined {
    return CHANGE_KINDS[this.#field(index, 0)];
  }

  /** The symbol id of a kline, tick, mark or position change. */
  symbolId(index: number): number | undefined {
    const kind = this.#field(index, 0);
    return kind <= 3 ? this.#defined(index, 1) : undefined;
  }

  /** The interval of a kline change. */
  interval(index: number): IntervalName | undefined {
    return this.#field(index, 0) === 0 ? INTERVALS[this.#field(index, 2)] : undefined;
  }

  /** The open time of a kline change's bar. */
  openTime(index: number): number | undefined {
    return this.#defined(index, 3);
  }

  /** The row of a kline change's bar in its series' columns now (undefined: shifted out). */
  row(index: number): number | undefined {
    return this.#defined(index, 4);
  }

  /** Change `index` as an object (undefined past the end). */
  at(index: number): BookChange | undefined {
    const symbolId = this.#field(index, 1);
    switch (this.kind(index)) {
      case 'kline': {
        const interval = INTERVALS[this.#field(index, 2)];
        if (interval === undefined) return undefined;
        return { kind: 'kline', symbolId, interval, openTime: this.#field(index, 3), row: this.row(index) };
      }
      case 'tick':
        return { kind: 'tick', symbolId };
      case 'mark':
        return { kind: 'mark', symbolId };
      case 'position': {
        const side = POSITION_SIDES[this.#field(index, 2)];
        return side === undefined ? undefined : { kind: 'position', symbolId, side };
      }
      case 'balance': {
        this.#assets ??= this.#source.loadAssets();
        const asset = this.#assets[symbolId];
        return asset === undefined ? undefined : { kind: 'balance', asset };
      }
      case 'banList':
        return { kind: 'banList' };
      default:
        return undefined;
    }
  }

  *[Symbol.iterator](): IterableIterator<BookChange> {
    for (let index = 0, length = this.length; index < length; index++) {
      const change = this.at(index);
      if (change !== undefined) yield change;
    }
  }

  #values(): Float64Array {
    const { area } = this.#source;
    if (this.length * CHANGE_FIELDS <= area.length) return area;
    this.#all ??= this.#source.loadAll();
    return this.#all;
  }

  /** Field `field` of change `index`; NaN past the end. */
  #field(index: number, field: number): number {
    if (index < 0 || index >= this.length) return Number.NaN;
    return this.#values()[index * CHANGE_FIELDS + field] ?? Number.NaN;
  }

  #defined(index: number, field: number): number | undefined {
    const value = this.#field(index, field);
    return Number.isNaN(value) ? undefined : value;
  }
}
