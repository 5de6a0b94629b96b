// The owner view's trading switch over the risk engine's files: reads each trader's risk-state.json, writes owner-command.json (as `tributary trader state` does).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { readRiskState, type TradingState, writeOwnerCommand } from '../../trader/risk/risk-state-store.js';
import type { TradingControl } from '../../web/server/owner-live.js';
import type { OwnerTradingState } from '../../web/ui/owner-types.js';

/** Where the traders keep their state: `<root>/trader-<n>` for each n of `traders`. */
export interface TraderStateDirs {
  readonly root: string;
  /** Instance numbers of the traders (`dashboardTraders`). */
  readonly traders: readonly number[];
  /** How long a command may take to be applied before the answer says "not yet" (ms). */
  readonly applyWaitMs: number;
}

/** The trading states of the configured traders, and the owner's switch through their command files. */
export class FileTradingControl implements TradingControl {
  readonly #dirs: TraderStateDirs;

  constructor(dirs: TraderStateDirs) {
    this.#dirs = dirs;
  }

  #dir(trader: string): string | undefined {
    const n = Number(trader.slice('trader-'.length));
    if (!trader.startsWith('trader-') || !Number.isInteger(n) || !this.#dirs.traders.includes(n))
      return undefined;
    return join(this.#dirs.root, trader);
  }

  async states(): Promise<OwnerTradingState[]> {
    const out: OwnerTradingState[] = [];
    for (const n of this.#dirs.traders) {
      const trader = `trader-${n}`;
      let state: ReturnType<typeof readRiskState>;
      let problem: string | null = null;
      try {
        state = readRiskState(join(this.#dirs.root, trader));
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      out.push(
        state === undefined
          ? {
              trader,
              state: problem === null ? 'UNKNOWN' : 'UNREADABLE',
              since: null,
              source: null,
              reason: problem ?? 'no risk state yet (the trader has not started its risk engine)',
              closeAll: null,
              forceClosing: [],
            }
          : {
              trader,
              state: state.trading.state,
              since: state.trading.since,
              source: state.trading.source,
              reason: state.trading.reason,
              closeAll: state.closeAll === null ? null : state.closeAll.reason,
              forceClosing: Object.keys(state.forceClosing),
            },
      );
    }
    return out;
  }

  async command(trader: string, state: TradingState, reason: string): Promise<{ applied: boolean }> {
    const dir = this.#dir(trader);
    if (dir === undefined) throw new Error(`no such trader: ${trader}`);
    const id = randomUUID();
    writeOwnerCommand(dir, { id, state, reason, at: Date.now() });
    // The trader checks its command file twice a second; past the wait it applies it when it runs.
    const deadline = Date.now() + this.#dirs.applyWaitMs;
    while (Date.now() < deadline) {
      if (readRiskState(dir)?.lastOwnerCommand === id) return { applied: true };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { applied: false };
  }
}
