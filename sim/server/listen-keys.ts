// User-data-stream listen keys: one live key per account, 60 minutes from creation or keepalive.
import { randomBytes } from 'node:crypto';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const KEY_LENGTH = 64;

interface LiveKey {
  readonly accountId: string;
  expiresAt: number;
}

/** Why a key stopped: its validity ran out, or the client deleted it. */
export type ListenKeyEnd = 'expired' | 'closed';

/** A key that just ended, for the websocket side to notify and close its connections. */
export interface EndedListenKey {
  readonly listenKey: string;
  readonly accountId: string;
  readonly reason: ListenKeyEnd;
}

/** A random 64-character alphanumeric key, like Binance's. */
export function newListenKey(): string {
  const bytes = randomBytes(KEY_LENGTH * 2);
  let key = '';
  for (const byte of bytes) {
    // Rejection sampling keeps the characters uniform (248 = 4 × 62).
    if (byte >= 248) continue;
    key += KEY_ALPHABET[byte % 62];
    if (key.length === KEY_LENGTH) return key;
  }
  return key + newListenKey().slice(0, KEY_LENGTH - key.length);
}

/**
 * The live listen keys. Binance keeps one per account: `open` returns the account's live key (and
 * extends it) or makes a new one; a key unused for `validityMs` expires. Times come from `now`, the
 * wall clock, so a clock-skew fault does not expire keys by itself.
 */
export class ListenKeyRegistry {
  readonly #validityMs: number;
  readonly #now: () => number;
  readonly #byKey = new Map<string, LiveKey>();
  readonly #byAccount = new Map<string, string>();

  constructor(validityMs: number, now: () => number = Date.now) {
    this.#validityMs = validityMs;
    this.#now = now;
  }

  /** The account's live key, extended, or a new key. */
  open(accountId: string): string {
    const now = this.#now();
    const existing = this.#byAccount.get(accountId);
    if (existing !== undefined) {
      const live = this.#byKey.get(existing);
      if (live !== undefined && live.expiresAt > now) {
        live.expiresAt = now + this.#validityMs;
        return existing;
      }
    }
    const key = newListenKey();
    if (existing !== undefined) this.#byKey.delete(existing);
    this.#byKey.set(key, { accountId, expiresAt: now + this.#validityMs });
    this.#byAccount.set(accountId, key);
    return key;
  }

  /**
   * Extends the account's live key (or `listenKey`, when given, which must be the account's).
   * Returns the key, or undefined when there is none (the caller answers -1125).
   */
  keepAlive(accountId: string, listenKey?: string): string | undefined {
    const key = this.#liveKeyOf(accountId, listenKey);
    if (key === undefined) return undefined;
    const live = this.#byKey.get(key);
    if (live !== undefined) live.expiresAt = this.#now() + this.#validityMs;
    return key;
  }

  /** Deletes the account's live key; returns it, or undefined when there was none. */
  close(accountId: string, listenKey?: string): EndedListenKey | undefined {
    const key = this.#liveKeyOf(accountId, listenKey);
    if (key === undefined) return undefined;
    this.#byKey.delete(key);
    this.#byAccount.delete(accountId);
    return { listenKey: key, accountId, reason: 'closed' };
  }

  /** The account a live key belongs to. */
  accountOf(listenKey: string): string | undefined {
    const live = this.#byKey.get(listenKey);
    return live !== undefined && live.expiresAt > this.#now() ? live.accountId : undefined;
  }

  /** The account's live key. */
  keyOf(accountId: string): string | undefined {
    return this.#liveKeyOf(accountId, undefined);
  }

  /** Removes and returns every key whose validity has run out. */
  expireDue(): EndedListenKey[] {
    const now = this.#now();
    const ended: EndedListenKey[] = [];
    for (const [key, live] of this.#byKey) {
      if (live.expiresAt <= now) ended.push(this.#remove(key, live.accountId));
    }
    return ended;
  }

  /** Removes and returns every key (the `expireListenKeys` fault). */
  expireAll(): EndedListenKey[] {
    return [...this.#byKey].map(([key, live]) => this.#remove(key, live.accountId));
  }

  get size(): number {
    return this.#byKey.size;
  }

  #remove(key: string, accountId: string): EndedListenKey {
    this.#byKey.delete(key);
    if (this.#byAccount.get(accountId) === key) this.#byAccount.delete(accountId);
    return { listenKey: key, accountId, reason: 'expired' };
  }

  #liveKeyOf(accountId: string, listenKey: string | undefined): string | undefined {
    const key = this.#byAccount.get(accountId);
    if (key === undefined || (listenKey !== undefined && listenKey !== key)) return undefined;
    const live = this.#byKey.get(key);
    return live !== undefined && live.expiresAt > this.#now() ? key : undefined;
  }
}
