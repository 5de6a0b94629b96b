// The cross-language check, TypeScript side: frames the Rust encoder wrote, read with the TypeScript readers generated from the same schema, field by field.
import { readFileSync } from 'node:fs';
import * as flatbuffers from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../exact/decimal.js';
import { Frame, type KlineRow, type PositionRow, type TickRow } from './generated/hub_generated.js';

/** Written by `core-rs/tests/frame_roundtrip.rs` (`frames_for_the_typescript_readers_are_current`). */
const DIR = new URL('./testing/rust-frames/', import.meta.url);

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Entity = Record<string, Json>;
interface ExpectedFrame {
  kind: number;
  stream: number;
  seq: string;
  source: number;
  receivedAt: string;
  chunk: number;
  chunks: number;
  klines: { symbol: number; interval: number; rows: Entity[] }[];
  ticks: Entity[];
  positions: Entity[];
  balances: Entity[];
  banList: { all: boolean; symbols: number[] } | null;
}

const expected = JSON.parse(readFileSync(new URL('expected.json', DIR), 'utf8')) as Record<
  string,
  ExpectedFrame
>;

/** `mantissa × 10^-scale` as a decimal, or null when its flag bit is clear. */
function decimal(mantissa: bigint, scale: number, present = true): Decimal | null {
  return present ? Decimal.of(mantissa, scale) : null;
}

/** A 64-bit value as the expected JSON writes it (decimal string), or null when absent. */
function int64(value: bigint, present = true): string | null {
  return present ? value.toString() : null;
}

/** Compares decoded decimals with the expected exact strings by value (the wire may add trailing zeros). */
function expectDecimals(actual: Record<string, Decimal | null>, want: Entity, where: string): void {
  for (const [field, value] of Object.entries(actual)) {
    const text = want[field];
    if (value === null || text === null) {
      expect(value === null && text === null, `${where}.${field}: ${String(value)} vs ${String(text)}`).toBe(
        true,
      );
    } else {
      expect(typeof text, `${where}.${field}`).toBe('string');
      expect(
        value.eq(Decimal.parse(text as string)),
        `${where}.${field}: ${value.toString()} vs ${String(text)}`,
      ).toBe(true);
    }
  }
}

function checkKline(row: KlineRow, want: Entity, where: string): void {
  const flags = row.flags();
  expect(flags & ~7, `${where} flags`).toBe(0);
  expect({
    openTime: int64(row.openTime()),
    closeTime: int64(row.closeTime()),
    asOf: int64(row.asOf()),
    trades: int64(row.trades()),
    firstTradeId: int64(row.firstTradeId(), (flags & 2) !== 0),
    lastTradeId: int64(row.lastTradeId(), (flags & 4) !== 0),
    closed: (flags & 1) !== 0,
  }).toEqual({
    openTime: want.openTime,
    closeTime: want.closeTime,
    asOf: want.asOf,
    trades: want.trades,
    firstTradeId: want.firstTradeId,
    lastTradeId: want.lastTradeId,
    closed: want.closed,
  });
  const ps = row.priceScale();
  const vs = row.volumeScale();
  const qs = row.quoteScale();
  expectDecimals(
    {
      open: decimal(row.open(), ps),
      high: decimal(row.high(), ps),
      low: decimal(row.low(), ps),
      close: decimal(row.close(), ps),
      volume: decimal(row.volume(), vs),
      takerBuyVolume: decimal(row.takerBuyVolume(), vs),
      quoteVolume: decimal(row.quoteVolume(), qs),
      takerBuyQuoteVolume: decimal(row.takerBuyQuoteVolume(), qs),
    },
    want,
    where,
  );
}

function checkTick(row: TickRow, want: Entity, where: string): void {
  const flags = row.flags();
  expect(flags & ~3, `${where} flags`).toBe(0);
  expect({
    symbol: row.symbol(),
    time: int64(row.time()),
    updateId: int64(row.updateId(), (flags & 2) !== 0),
  }).toEqual({ symbol: want.symbol, time: want.time, updateId: want.updateId });
  const ps = row.priceScale();
  const qs = row.qtyScale();
  expectDecimals(
    {
      bid: decimal(row.bid(), ps),
      ask: decimal(row.ask(), ps),
      last: decimal(row.last(), ps, (flags & 1) !== 0),
      bidQty: decimal(row.bidQty(), qs),
      askQty: decimal(row.askQty(), qs),
    },
    want,
    where,
  );
}

function checkPosition(row: PositionRow, want: Entity, where: string): void {
  const flags = row.flags();
  expect(flags & ~31, `${where} flags`).toBe(0);
  expect({ symbol: row.symbol(), side: row.side(), updateTime: int64(row.updateTime()) }).toEqual({
    symbol: want.symbol,
    side: want.side,
    updateTime: want.updateTime,
  });
  const ps = row.priceScale();
  const ms = row.moneyScale();
  expectDecimals(
    {
      amount: decimal(row.amount(), row.amountScale()),
      entryPrice: decimal(row.entryPrice(), ps, (flags & 1) !== 0),
      breakEvenPrice: decimal(row.breakEvenPrice(), ps, (flags & 2) !== 0),
      markPrice: decimal(row.markPrice(), ps, (flags & 4) !== 0),
      unrealizedPnl: decimal(row.unrealizedPnl(), ms, (flags & 8) !== 0),
      isolatedWallet: decimal(row.isolatedWallet(), ms, (flags & 16) !== 0),
    },
    want,
    where,
  );
}

describe('frames written by the Rust encoder, read by the generated TypeScript readers', () => {
  it('covers every fixture', () => {
    expect(Object.keys(expected).sort()).toEqual(['delta', 'ingest', 'snapshot', 'snapshot-chunk']);
  });

  it.each(Object.entries(expected))('%s: every field equals what Rust wrote', (name, want) => {
    const bytes = readFileSync(new URL(`${name}.bin`, DIR));
    const bb = new flatbuffers.ByteBuffer(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    expect(Frame.bufferHasIdentifier(bb)).toBe(true);
    const frame = Frame.getRootAsFrame(bb);
    expect({
      kind: frame.kind(),
      stream: frame.stream(),
      seq: frame.seq().toString(),
      source: frame.source(),
      receivedAt: frame.receivedAt().toString(),
      chunk: frame.chunk(),
      chunks: frame.chunks(),
    }).toEqual({
      kind: want.kind,
      stream: want.stream,
      seq: want.seq,
      source: want.source,
      receivedAt: want.receivedAt,
      chunk: want.chunk,
      chunks: want.chunks,
    });

    expect(frame.klinesLength()).toBe(want.klines.length);
    want.klines.forEach((group, g) => {
      const actual = frame.klines(g);
      if (actual === null) throw new Error(`${name}: group ${g} missing`);
      expect([actual.symbol(), actual.interval(), actual.rowsLength()]).toEqual([
        group.symbol,
        group.interval,
        group.rows.length,
      ]);
      group.rows.forEach((row, r) => {
        const kline = actual.rows(r);
        if (kline === null) throw new Error(`${name}: row ${r} missing`);
        checkKline(kline, row, `${name} group ${g} row ${r}`);
      });
    });

    expect(frame.ticksLength()).toBe(want.ticks.length);
    want.ticks.forEach((tick, i) => {
      const row = frame.ticks(i);
      if (row === null) throw new Error(`${name}: tick ${i} missing`);
      checkTick(row, tick, `${name} tick ${i}`);
    });

    expect(frame.positionsLength()).toBe(want.positions.length);
    want.positions.forEach((position, i) => {
      const row = frame.positions(i);
      if (row === null) throw new Error(`${name}: position ${i} missing`);
      checkPosition(row, position, `${name} position ${i}`);
    });

    expect(frame.balancesLength()).toBe(want.balances.length);
    want.balances.forEach((balance, i) => {
      const table = frame.balances(i);
      if (table === null) throw new Error(`${name}: balance ${i} missing`);
      const flags = table.flags();
      expect(flags & ~7).toBe(0);
      expect([table.asset(), table.updateTime().toString()]).toEqual([balance.asset, balance.updateTime]);
      const scale = table.scale();
      expectDecimals(
        {
          walletBalance: decimal(table.walletBalance(), scale),
          crossWalletBalance: decimal(table.crossWalletBalance(), scale, (flags & 1) !== 0),
          availableBalance: decimal(table.availableBalance(), scale, (flags & 2) !== 0),
          unrealizedPnl: decimal(table.unrealizedPnl(), scale, (flags & 4) !== 0),
        },
        balance,
        `${name} balance ${i}`,
      );
    });

    const banList = frame.banList();
    if (want.banList === null) {
      expect(banList).toBeNull();
    } else {
      expect(
        banList === null
          ? null
          : { all: banList.all() === 1, symbols: Array.from(banList.symbolsArray() ?? []) },
      ).toEqual(want.banList);
    }
  });
});
