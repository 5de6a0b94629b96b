// Input policing: size and flood limits on what peers send, and every refusal counted, logged (throttled) and told to the sender.

import { LogThrottle } from '../../log/log-throttle.js';
import type { Logger } from '../../log/logger.js';
import { type ControlErrorCode, ERROR_HINTS, type ServerError } from '../control-messages.js';
import type { HubMetrics } from '../hub-metrics.js';
import { type BudgetLimits, PeerBudget } from '../peer-budget.js';
import { CloseCode } from '../transport.js';
import type { PeerOutbox } from './peer-outbox.js';
import { type Policing, type Session, sessionLabel } from './session.js';

/** Limits on what one peer may send. */
export interface InputLimits {
  /** Largest message processed; bigger ones are refused (`oversized`). */
  maxMessageBytes: number;
  /** Transport limit: a bigger message closes the connection with 1009. */
  maxPayloadBytes: number;
  budget: BudgetLimits;
  /** Over-budget messages in one second after which the peer is disconnected (4429). */
  floodDisconnectPerSecond: number;
}

/** At most this many `error` messages a second go to one peer; the next one sent says how many were held back. */
const ERRORS_PER_SECOND = 20;

/** What an `error` names besides its code and text. */
export interface ErrorDetail {
  id?: number;
  frame?: number;
  records?: number;
  reasons?: Record<string, number>;
  hint?: string;
}

/**
 * Admits or refuses each incoming message (size, budget, flood), and is the one place refusals go
 * through: counted by reason, logged at most once a minute per peer and reason (with the number of
 * lines held back), and told to the sender as an `error` naming the reason, the frame and what to
 * do, at most 20 a second (the next one carries `suppressed`).
 */
export class InputPolice {
  readonly limits: InputLimits;
  readonly #metrics: HubMetrics;
  readonly #log: Logger;
  readonly #outbox: PeerOutbox;
  readonly #close: (session: Session, code: number, reason: string) => void;
  readonly #throttle = new LogThrottle(60_000);

  constructor(
    limits: InputLimits,
    metrics: HubMetrics,
    log: Logger,
    outbox: PeerOutbox,
    close: (session: Session, code: number, reason: string) => void,
  ) {
    this.limits = limits;
    this.#metrics = metrics;
    this.#log = log;
    this.#outbox = outbox;
    this.#close = close;
  }

  /** Policing state for a new connection. */
  newPolicing(now: number): Policing {
    return {
      budget: new PeerBudget(this.limits.budget, now),
      refusedWindowStart: now,
      refusedInWindow: 0,
      errorWindowStart: now,
      errorsInWindow: 0,
      errorsSuppressed: 0,
    };
  }

  /**
   * Counts one incoming message and decides whether it is processed: messages past the transport
   * limit close the connection (1009), oversized ones are refused (before authentication the
   * connection is closed, 4400), over-budget ones dropped (a flood closes it, 4429).
   */
  admit(session: Session, data: Buffer, isBinary: boolean, now: number): boolean {
    const traffic = session.traffic;
    session.lastSeen = now;
    traffic.messagesIn += 1;
    traffic.bytesIn += data.length;
    if (isBinary) traffic.binaryIn += 1;
    this.#metrics.messagesIn += 1;
    this.#metrics.bytesIn += data.length;
    const frame = isBinary ? traffic.binaryIn : undefined;
    if (data.length > this.limits.maxPayloadBytes) {
      // uWS hands over messages up to twice this before cutting without a close frame: close here with 1009.
      this.refuse(session, 'too_big', `${data.length} bytes > ${this.limits.maxPayloadBytes}`);
      this.#close(session, CloseCode.messageTooBig, 'message too big');
      return false;
    }
    if (data.length > this.limits.maxMessageBytes) {
      const detail = `message of ${data.length} bytes exceeds the cap of ${this.limits.maxMessageBytes}`;
      this.refuse(session, 'oversized', detail);
      if (session.state === 'pending') {
        this.tell(session, 'not_authenticated', `${detail} before auth`, {});
        this.#close(session, CloseCode.badRequest, 'oversized before auth');
      } else {
        this.tell(session, 'oversized', detail, frame === undefined ? {} : { frame });
      }
      return false;
    }
    if (!session.policing.budget.take(data.length, now)) {
      this.#flood(session, now, frame);
      return false;
    }
    return true;
  }

  /** Counts a refused input and logs a sample (once a minute per reason and peer). */
  refuse(session: Session, reason: string, detail: string, count = 1): void {
    this.#metrics.reject(reason, count);
    const peer = sessionLabel(session);
    const suppressed = this.#throttle.allow(`${reason}:${peer}`, Date.now());
    if (suppressed !== undefined) {
      this.#log.warn('refused input', {
        reason,
        detail: detail.slice(0, 200),
        peer,
        connection: session.id,
        remote: session.connection.remoteAddress,
        count,
        suppressed,
      });
    }
  }

  /** Counts, logs and tells the sender: the whole of one refusal. */
  refuseAndTell(
    session: Session,
    reason: string,
    code: ControlErrorCode,
    message: string,
    detail: ErrorDetail = {},
  ): void {
    this.refuse(session, reason, message, detail.records ?? 1);
    this.tell(session, code, message, detail);
  }

  /** Sends an `error` (at most 20 a second per peer; the next one sent carries how many were held back). */
  tell(session: Session, code: ControlErrorCode, message: string, detail: ErrorDetail): void {
    const p = session.policing;
    const now = Date.now();
    if (now - p.errorWindowStart >= 1_000) {
      p.errorWindowStart = now;
      p.errorsInWindow = 0;
    }
    p.errorsInWindow += 1;
    if (p.errorsInWindow > ERRORS_PER_SECOND) {
      p.errorsSuppressed += 1;
      return;
    }
    const error: ServerError = {
      op: 'error',
      code,
      message: message.slice(0, 500),
      hint: detail.hint ?? ERROR_HINTS[code],
    };
    if (detail.id !== undefined) error.id = detail.id;
    if (detail.frame !== undefined) error.frame = detail.frame;
    if (detail.records !== undefined) error.records = detail.records;
    if (detail.reasons !== undefined) error.reasons = detail.reasons;
    if (p.errorsSuppressed > 0) {
      error.suppressed = p.errorsSuppressed;
      p.errorsSuppressed = 0;
    }
    this.#outbox.text(session, error);
  }

  #flood(session: Session, now: number, frame: number | undefined): void {
    const p = session.policing;
    if (now - p.refusedWindowStart >= 1_000) {
      p.refusedWindowStart = now;
      p.refusedInWindow = 0;
    }
    p.refusedInWindow += 1;
    this.refuse(session, 'flood', 'over the message/byte budget');
    if (p.refusedInWindow === 1) {
      const { messagesPerSecond, bytesPerSecond } = this.limits.budget;
      this.tell(
        session,
        'throttled',
        `over budget (${messagesPerSecond} messages/s, ${bytesPerSecond} bytes/s): messages are being dropped`,
        frame === undefined ? {} : { frame },
      );
    }
    if (p.refusedInWindow > this.limits.floodDisconnectPerSecond)
      this.#close(session, CloseCode.flood, 'flood');
  }
}
