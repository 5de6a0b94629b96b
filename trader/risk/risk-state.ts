// The trader's risk state: ACTIVE / REDUCING / HALTED and the closes in progress, switched by rules and the owner, saved on every change.
import type { Logger } from '../../ts/log/logger.js';
import type { RiskEventSink } from './risk-events.js';
import {
  type PersistedRiskState,
  RiskStateFileError,
  type RiskStateStore,
  TRADING_STATES,
  type TradingState,
} from './risk-state-store.js';

export type { TradingState };

/** How restrictive a state is: rules may only move to a higher rank. */
const RANK: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

/** A close in progress that must survive a restart. */
export interface CloseInProgress {
  readonly since: number;
  readonly reason: string;
}

/**
 * The trading state and the closes in progress (close-all, force-closes by symbol), loaded at start
 * and saved on every change, so a restart in the middle of a close finishes it and an owner's HALT
 * outlives the process. Rules may only make the state more restrictive (`escalate`); the owner may
 * set any state (`setByOwner`, or a command file polled by `pollOwnerCommand`). A state file that
 * exists but cannot be read starts the trader HALTED: losing an owner's HALT is worse than waiting
 * for the owner.
 */
export class RiskState {
  readonly #store: RiskStateStore;
  readonly #events: RiskEventSink;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #listeners = new Set<(state: TradingState) => void>();
  #s: PersistedRiskState;

  constructor(store: RiskStateStore, events: RiskEventSink, logger: Logger, now: () => number) {
    this.#store = store;
    this.#events = events;
    this.#log = logger;
    this.#now = now;
    let loaded: PersistedRiskState | undefined;
    let problem: string | undefined;
    try {
      loaded = store.load();
    } catch (error) {
      if (!(error instanceof RiskStateFileError)) throw error;
      problem = error.message;
    }
    this.#s = loaded ?? {
      version: 1,
      trading: { state: 'ACTIVE', since: now(), source: 'start', reason: 'no saved risk state' },
      closeAll: null,
      forceClosing: {},
      lastOwnerCommand: null,
    };
    if (problem !== undefined) {
      this.#s.trading = { state: 'HALTED', since: now(), source: 'rule', reason: problem };
      this.#events.emit({
        kind: 'risk-action',
        action: 'state',
        symbol: null,
        reason: `HALTED at start: the saved risk state is unusable (${problem}); the owner decides`,
        at: now(),
        state: 'HALTED',
      });
    } else {
      this.#log.info('risk state loaded', {
        state: this.#s.trading.state,
        since: this.#s.trading.since,
        closeAll: this.#s.closeAll !== null,
        forceClosing: Object.keys(this.#s.forceClosing).length,
      });
    }
    this.#save();
  }

  get state(): TradingState {
    return this.#s.trading.state;
  }

  /** The state with when, by whom and why it was set. */
  get detail(): PersistedRiskState['trading'] {
    return { ...this.#s.trading };
  }

  /** Whether orders that open or grow exposure may be sent. */
  allowsOpening(): boolean {
    return this.#s.trading.state === 'ACTIVE';
  }

  /** Whether orders that shrink exposure (and stop orders) may be sent. */
  allowsReducing(): boolean {
    return this.#s.trading.state !== 'HALTED';
  }

  /** Calls `listener` after every state change. */
  onChange(listener: (state: TradingState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A rule moves to `state` when that is more restrictive than the current one; returns whether it changed. */
  escalate(state: TradingState, rule: string, reason: string): boolean {
    if (RANK[state] <= RANK[this.#s.trading.state]) return false;
    this.#set(state, 'rule', `${rule}: ${reason}`);
    return true;
  }

  /**
   * The owner sets any state. ACTIVE also ends a close-all in progress: the owner has seen it and
   * resumes trading, and a close-all left running would close at market everything the strategy
   * opens from then on (the positions it had not closed yet stay open; the loss guard judges the
   * account's total again at its next check and starts a new close-all if it is still under the
   * limit). Force-closes of single symbols go on.
   */
  setByOwner(state: TradingState, reason: string, commandId: string | null = null): boolean {
    if (commandId !== null) this.#s.lastOwnerCommand = commandId;
    if (state === 'ACTIVE' && this.#s.closeAll !== null) {
      this.#log.warn("close-all ended by the owner's ACTIVE", {
        since: this.#s.closeAll.since,
        closeAllReason: this.#s.closeAll.reason,
        reason,
      });
      this.#s.closeAll = null;
    }
    if (state === this.#s.trading.state) {
      this.#save();
      return false;
    }
    this.#set(state, 'owner', reason === '' ? 'set by the owner' : reason);
    return true;
  }

  /** Applies the owner's command file when it holds a command not applied yet. */
  pollOwnerCommand(): void {
    let command: ReturnType<RiskStateStore['ownerCommand']>;
    try {
      command = this.#store.ownerCommand();
    } catch (error) {
      this.#log.error('owner command unreadable; ignored', {
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    if (command === undefined || command.id === this.#s.lastOwnerCommand) return;
    if (!(TRADING_STATES as readonly string[]).includes(command.state)) return;
    this.#log.info('owner command', { id: command.id, state: command.state, reason: command.reason });
    this.setByOwner(command.state, command.reason, command.id);
  }

  get closeAll(): CloseInProgress | null {
    return this.#s.closeAll;
  }

  startCloseAll(reason: string): void {
    if (this.#s.closeAll !== null) return;
    this.#s.closeAll = { since: this.#now(), reason };
    this.#save();
  }

  finishCloseAll(): void {
    if (this.#s.closeAll === null) return;
    this.#s.closeAll = null;
    this.#save();
  }

  /** Symbols being force-closed. */
  forceClosing(): ReadonlyMap<string, CloseInProgress> {
    return new Map(Object.entries(this.#s.forceClosing));
  }

  startForceClose(symbol: string, reason: string): void {
    if (this.#s.forceClosing[symbol] !== undefined) return;
    this.#s.forceClosing[symbol] = { since: this.#now(), reason };
    this.#save();
  }

  finishForceClose(symbol: string): void {
    if (this.#s.forceClosing[symbol] === undefined) return;
    delete this.#s.forceClosing[symbol];
    this.#save();
  }

  /** A copy of everything kept. */
  snapshot(): PersistedRiskState {
    return structuredClone(this.#s);
  }

  #set(state: TradingState, source: 'owner' | 'rule', reason: string): void {
    const from = this.#s.trading.state;
    this.#s.trading = { state, since: this.#now(), source, reason };
    this.#save();
    this.#events.emit({
      kind: 'risk-action',
      action: 'state',
      symbol: null,
      reason: `${from} → ${state} (${source}): ${reason}`,
      at: this.#now(),
      state,
    });
    for (const listener of this.#listeners) listener(state);
  }

  #save(): void {
    try {
      this.#store.save(this.#s);
    } catch (error) {
      // The state in memory is still right; the next change tries again.
      this.#log.error('risk state could not be saved', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
