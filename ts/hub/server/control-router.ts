// Control messages of authenticated peers: parsed strictly, checked against the op's roles, handed to the op's service.
import type { Logger } from '../../log/logger.js';
import { type ClientMessage, type ClientOp, ControlError, parseClientMessage } from '../control-messages.js';
import type { HubMetrics } from '../hub-metrics.js';
import type { InputPolice } from './input-police.js';
import type { PeerOutbox } from './peer-outbox.js';
import type { OpContext, OpRoute, OpTable } from './services/control-service.js';
import type { PeerSession } from './session.js';

/**
 * Routes each text message of a peer to its op's handler. What cannot be parsed, an op the key's
 * role may not use, and whatever a handler refuses become `error` replies through the input
 * police (counted, logged, told); a failure of the hub itself is answered `internal` and logged.
 */
export class ControlRouter {
  readonly #table: OpTable;
  readonly #police: InputPolice;
  readonly #outbox: PeerOutbox;
  readonly #metrics: HubMetrics;
  readonly #log: Logger;

  constructor(
    table: OpTable,
    parts: { police: InputPolice; outbox: PeerOutbox; metrics: HubMetrics; log: Logger },
  ) {
    this.#table = table;
    this.#police = parts.police;
    this.#outbox = parts.outbox;
    this.#metrics = parts.metrics;
    this.#log = parts.log;
  }

  handle(session: PeerSession, text: string): void {
    const message = parseClientMessage(text);
    if (message instanceof ControlError) {
      this.#refuse(session, message);
      return;
    }
    try {
      this.#dispatch(session, message);
    } catch (error) {
      if (error instanceof ControlError) {
        this.#refuse(session, error);
        return;
      }
      // A failure of the hub itself: counted, logged with context, answered; the hub keeps serving.
      const detail = error instanceof Error ? error.message : String(error);
      this.#metrics.reject('internal');
      this.#log.error('control op failed', { op: message.op, peer: session.identity.peer, error: detail });
      this.#police.tell(session, 'internal', `${message.op} failed: ${detail}`, {
        ...(message.id === undefined ? {} : { id: message.id }),
      });
    }
  }

  #dispatch(session: PeerSession, message: ClientMessage): void {
    if (message.op === 'auth') {
      throw new ControlError('already_authenticated', 'this connection is already authenticated', message.id);
    }
    const route = this.#table[message.op] as OpRoute<Exclude<ClientOp, 'auth'>>;
    if (!route.roles.includes(session.identity.role)) {
      throw new ControlError(
        'forbidden',
        `${message.op} is for ${route.roles.join(' and ')} keys; this one is ${session.identity.role}`,
        message.id,
      );
    }
    const id = message.id;
    const context: OpContext = {
      session,
      id,
      reply: (reply) => this.#outbox.reply(session, id, reply),
    };
    // The table entry is the one of `message.op`; TypeScript cannot correlate the two types itself.
    route.handle(message as never, context);
  }

  #refuse(session: PeerSession, error: ControlError): void {
    this.#police.refuseAndTell(session, error.code, error.code, error.message, {
      ...(error.id === undefined ? {} : { id: error.id }),
    });
  }
}
