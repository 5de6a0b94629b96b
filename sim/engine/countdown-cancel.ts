// Auto-cancel deadlines (POST /fapi/v1/countdownCancelAll): a symbol's open orders cancelled when a heartbeat is missed.

/** An account and symbol whose countdown ran out. */
export interface CountdownDue {
  readonly accountId: string;
  readonly symbol: string;
}

/**
 * The countdowns of every account and symbol. Each call of the endpoint replaces the symbol's
 * deadline (or removes it with a countdown of 0); the engine asks for the ones that ran out.
 */
export class CountdownCancels {
  readonly #deadlines = new Map<string, { accountId: string; symbol: string; at: number }>();

  /** Sets (or with `at` undefined, clears) the deadline of `accountId` on `symbol`. */
  set(accountId: string, symbol: string, at: number | undefined): void {
    const key = `${accountId}\u0000${symbol}`;
    if (at === undefined) this.#deadlines.delete(key);
    else this.#deadlines.set(key, { accountId, symbol, at });
  }

  /** The countdowns that ran out by `now`, removed. */
  due(now: number): CountdownDue[] {
    const out: CountdownDue[] = [];
    for (const [key, d] of this.#deadlines) {
      if (d.at > now) continue;
      this.#deadlines.delete(key);
      out.push({ accountId: d.accountId, symbol: d.symbol });
    }
    return out;
  }
}
