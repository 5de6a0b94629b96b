// The symbol registry service: `symbols` for everyone, `symbols.set` (the universe) for collectors and admins.
import type { Logger } from '../../../log/logger.js';
import type { ServerMessage } from '../../control-messages.js';
import type { SymbolDirectory } from '../../symbol-directory.js';
import type { CollectorLedger } from '../collector-ledger.js';
import type { PeerOutbox } from '../peer-outbox.js';
import type { Sessions } from '../sessions.js';
import { ANY, type OpTable } from './control-service.js';

/** Serves the registry and pushes `symbols` to every peer when it changes. */
export class SymbolService {
  readonly #symbols: SymbolDirectory;
  readonly #sessions: Sessions;
  readonly #outbox: PeerOutbox;
  readonly #log: Logger;
  readonly #ledger: CollectorLedger;

  constructor(
    symbols: SymbolDirectory,
    sessions: Sessions,
    outbox: PeerOutbox,
    log: Logger,
    ledger: CollectorLedger,
  ) {
    this.#symbols = symbols;
    this.#sessions = sessions;
    this.#outbox = outbox;
    this.#log = log;
    this.#ledger = ledger;
  }

  /** Makes `names` the active universe; every peer is told when it changed. */
  setActive(names: readonly string[]): boolean {
    const changed = this.#symbols.setActive(names);
    if (changed) this.#broadcast();
    return changed;
  }

  ops(): Pick<OpTable, 'symbols' | 'symbols.set'> {
    return {
      symbols: {
        roles: ANY,
        handle: (_message, { reply }) =>
          reply({ op: 'symbols', symbols: [...this.#symbols.names], version: this.#symbols.version }),
      },
      'symbols.set': {
        roles: ['collector', 'admin'],
        handle: (message, { session, reply }) => {
          const changed = this.#symbols.setActive(message.symbols);
          this.#ledger.delivered(session.identity.peer, Date.now());
          this.#log.info('symbol universe set', {
            peer: session.identity.peer,
            active: message.symbols.length,
            changed,
          });
          reply({ op: 'ok' });
          if (changed) this.#broadcast();
        },
      },
    };
  }

  #broadcast(): void {
    const message: ServerMessage = {
      op: 'symbols',
      symbols: [...this.#symbols.names],
      version: this.#symbols.version,
    };
    for (const session of this.#sessions.peers()) if (!session.closing) this.#outbox.text(session, message);
  }
}
