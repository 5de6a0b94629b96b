// Volume ranks: the universe collector (or an admin) sets symbols by 24 h volume; hot-kline collectors read the top N.
import { ControlError } from '../../control-messages.js';
import type { SymbolDirectory } from '../../symbol-directory.js';
import type { CollectorLedger } from '../collector-ledger.js';
import { ANY, type OpTable } from './control-service.js';

/** The symbols by 24 h quote volume, highest first, and when they were set. */
export class RankService {
  #ranks: string[] = [];
  #updatedAt: number | null = null;
  readonly #symbols: SymbolDirectory;
  readonly #ledger: CollectorLedger;

  constructor(symbols: SymbolDirectory, ledger: CollectorLedger) {
    this.#symbols = symbols;
    this.#ledger = ledger;
  }

  get summary(): { count: number; updatedAt: number | null } {
    return { count: this.#ranks.length, updatedAt: this.#updatedAt };
  }

  ops(): Pick<OpTable, 'ranks' | 'ranks.set'> {
    return {
      ranks: {
        roles: ANY,
        handle: (message, { reply }) => {
          const symbols = message.top === undefined ? this.#ranks : this.#ranks.slice(0, message.top);
          reply({ op: 'ranks', symbols: [...symbols], updatedAt: this.#updatedAt });
        },
      },
      'ranks.set': {
        roles: ['collector', 'admin'],
        handle: (message, { id, session, reply }) => {
          const unknown = message.symbols.find((s) => this.#symbols.id(s) === undefined);
          if (unknown !== undefined)
            throw new ControlError('unknown_symbol', `unknown symbol ${unknown}`, id);
          this.#ranks = [...message.symbols];
          this.#updatedAt = Date.now();
          this.#ledger.delivered(session.identity.peer, this.#updatedAt);
          reply({ op: 'ok' });
        },
      },
    };
  }
}
