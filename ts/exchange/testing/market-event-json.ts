// Binance-shaped market stream events for tests: the raw message a collector receives.

/**
 * A `<symbol>@markPrice` event (`markPriceUpdate`) at `time`: mark `price`, the index 10 below it
 * and the settlement price 5 below it, funding 0.0001 with the next funding an hour later.
 */
export function markPriceMessage(symbol: string, price: string, time: number): Buffer {
  const mark = Number(price);
  const decimals = price.includes('.') ? (price.split('.')[1] ?? '').length : 0;
  return Buffer.from(
    JSON.stringify({
      e: 'markPriceUpdate',
      E: time,
      s: symbol,
      p: price,
      i: (mark - 10).toFixed(decimals),
      P: (mark - 5).toFixed(decimals),
      r: '0.00010000',
      T: time + 3_600_000,
    }),
  );
}
