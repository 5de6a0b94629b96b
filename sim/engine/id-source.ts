// Increasing identifiers for orders, algo orders, trades and income rows (unique across accounts).

/**
 * Counters for every id the engine hands out; each starts in its own range, like Binance's, moved
 * up by `offset` (an engine that replaces an earlier one must not hand out the earlier one's ids).
 */
export class IdSource {
  #order: number;
  #algo: number;
  #trade: number;
  #tran: bigint;

  constructor(offset = 0) {
    this.#order = 4_000_000_000 + offset;
    this.#algo = 1_000_000 + offset;
    this.#trade = 200_000_000 + offset;
    // Binance's income ids reach 19 digits (its funding fees'), past what a double holds exactly:
    // clients must read them as digits, so the simulator's are that large too.
    this.#tran = 6_000_000_000_000_000_000n + BigInt(offset);
  }

  nextOrderId(): number {
    this.#order += 1;
    return this.#order;
  }
  nextAlgoId(): number {
    this.#algo += 1;
    return this.#algo;
  }
  nextTradeId(): number {
    this.#trade += 1;
    return this.#trade;
  }
  /** As its digits: a JavaScript number cannot hold it (see `Endpoint.bareIntegers`). */
  nextTranId(): string {
    this.#tran += 1n;
    return this.#tran.toString();
  }
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A 22-character client id like Binance generates, derived from the numeric id so runs are
 * reproducible (`prefix` keeps order and algo ids apart).
 */
export function generatedClientId(prefix: string, id: number): string {
  let n = BigInt(id) * 2654435761n + 97n;
  let text = '';
  while (text.length < 22 - prefix.length) {
    text += ALPHABET[Number(n % 62n)];
    n = n / 62n + BigInt(text.length) * 1_000_003n;
  }
  return prefix + text;
}
