// The pollers' services: `cursor.next` (distributed poll cursors) and `slot.register`/`slot.release` (tick slots).
import { ControlError } from '../../control-messages.js';
import { CursorLimitError, PollCursor } from '../../poll-cursor.js';
import { type Slot, SlotTable } from '../../slot-table.js';
import type { SymbolDirectory } from '../../symbol-directory.js';
import type { PeerOutbox } from '../peer-outbox.js';
import type { Sessions } from '../sessions.js';
import type { OpTable } from './control-service.js';

/** Hands each collector kind the next symbol to poll, wrapping at the active universe's size. */
export class CursorService {
  readonly cursor = new PollCursor();
  readonly #symbols: SymbolDirectory;

  constructor(symbols: SymbolDirectory) {
    this.#symbols = symbols;
  }

  ops(): Pick<OpTable, 'cursor.next'> {
    return {
      'cursor.next': {
        roles: ['collector'],
        handle: (message, { id, reply }) => {
          const active = this.#symbols.active;
          if (active.length === 0) throw new ControlError('no_symbols', 'the symbol universe is empty', id);
          // With `count` the cursor wraps at the caller's own list (a hot-kline list), so every
          // entry of that list comes round equally often; the reply then names no symbol.
          const count = message.count ?? active.length;
          let index: number;
          try {
            index = this.cursor.next(message.kind, count);
          } catch (error) {
            if (error instanceof CursorLimitError) throw new ControlError('forbidden', error.message, id);
            throw error;
          }
          const symbolId = message.count === undefined ? (active[index] ?? 0) : 0;
          reply({
            op: 'cursor',
            kind: message.kind,
            index,
            count,
            symbolId,
            symbol: message.count === undefined ? (this.#symbols.name(symbolId) ?? '') : '',
          });
        },
      },
    };
  }
}

/** Assigns tick collectors their slots `(k, n)` and pushes every change to the members it moved. */
export class SlotService {
  readonly slots = new SlotTable();
  readonly #sessions: Sessions;
  readonly #outbox: PeerOutbox;

  constructor(sessions: Sessions, outbox: PeerOutbox) {
    this.#sessions = sessions;
    this.#outbox = outbox;
  }

  /** A session left: the members after it move up and are told. */
  forget(sessionId: number): void {
    for (const [group, changed] of this.slots.releaseAll(sessionId)) this.#push(group, changed);
  }

  ops(): Pick<OpTable, 'slot.register' | 'slot.release'> {
    return {
      'slot.register': {
        roles: ['collector'],
        handle: (message, { session, reply }) => {
          const changed = this.slots.register(message.group, session.id);
          const own = this.slots.slotOf(message.group, session.id);
          if (own !== undefined) reply({ op: 'slot', group: message.group, k: own.k, n: own.n });
          this.#push(
            message.group,
            changed.filter((s) => s.member !== session.id),
          );
        },
      },
      'slot.release': {
        roles: ['collector'],
        handle: (message, { session, reply }) => {
          this.#push(message.group, this.slots.release(message.group, session.id));
          reply({ op: 'ok' });
        },
      },
    };
  }

  #push(group: string, changed: Slot[]): void {
    for (const slot of changed) {
      const member = this.#sessions.get(slot.member);
      if (member !== undefined && !member.closing)
        this.#outbox.text(member, { op: 'slot', group, k: slot.k, n: slot.n });
    }
  }
}
