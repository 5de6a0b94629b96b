// What a control-op handler is: the roles allowed, and a function of the typed message and its context.
import type { ClientMessage, ClientOp, PeerRole, ReplyMessage } from '../../control-messages.js';
import type { PeerSession } from '../session.js';

/** What a handler gets besides its message. */
export interface OpContext {
  readonly session: PeerSession;
  /** The request's id, echoed by the reply (undefined for fire-and-forget messages). */
  readonly id: number | undefined;
  /** Sends the reply (with the request's id). */
  reply(message: ReplyMessage): void;
}

/** One op: who may use it and what it does. Refusals are thrown as `ControlError`s. */
export interface OpRoute<O extends ClientOp> {
  readonly roles: readonly PeerRole[];
  handle(message: Extract<ClientMessage, { op: O }>, context: OpContext): void;
}

/** Every op a peer may send after authenticating, each with its route. */
export type OpTable = { readonly [O in Exclude<ClientOp, 'auth'>]: OpRoute<O> };

/** Every role. */
export const ANY: readonly PeerRole[] = ['collector', 'trader', 'viewer', 'admin'];
/** Roles that read data through subscriptions. */
export const READERS: readonly PeerRole[] = ['trader', 'viewer', 'admin'];
