// `weight.lease` and `weight.block`: one request-weight budget per IP group, leased to the group's processes by kind.
import type { Logger } from '../../../log/logger.js';
import { ControlError, type ServerMessage } from '../../control-messages.js';
import type { PeerOutbox } from '../peer-outbox.js';
import type { PeerSession } from '../session.js';
import type { Sessions } from '../sessions.js';
import { type WeightGrant, type WeightGroupStatus, WeightLedger } from '../weight-ledger.js';
import { ANY, type OpTable } from './control-service.js';

/** Held asks one session may have (a process keeps at most 32 leases outstanding). */
const MAX_HELD_PER_SESSION = 256;
/** IP groups the hub keeps (one per host in practice). */
const MAX_GROUPS = 1024;
/** After a minute boundary, for the residual error of the processes' exchange clocks. */
const BOUNDARY_SLACK_MS = 250;
/**
 * How far a lease's `at` (the process's estimate of the exchange's time) may be from the hub's own
 * clock. The group's minute follows the asks, so one time in µs or in s, or a process with a wrong
 * clock, would move the whole group's budget to another minute (and its wake beyond what a timer
 * can hold); both clocks follow the exchange's within seconds when they are kept right.
 */
export const MAX_LEASE_CLOCK_GAP_MS = 10 * 60_000;
/** The longest block the hub takes: Binance's IP bans last from 2 minutes to 3 days. */
export const MAX_BLOCK_MS = 4 * 24 * 3_600_000;

/** How a held ask is answered. */
interface Answer {
  readonly session: PeerSession;
  readonly id: number;
}

/**
 * Keeps a {@link WeightLedger} per IP group. A lease that fits is answered at once; one that does
 * not is held and answered when a minute boundary (or the end of a block) lets the ledger serve it,
 * so the process waits for its turn without asking again. The hub knows the exchange's clock only
 * through the peers' `at` (their estimate of it), so it keeps the newest offset per group and
 * wakes at the group's next boundary on its own clock. A block reported by one process is pushed
 * to every process leasing for the group, and holds the group's leases until it ends.
 */
export class WeightService {
  readonly #sessions: Sessions;
  readonly #outbox: PeerOutbox;
  readonly #log: Logger;
  readonly #ledgers = new Map<string, WeightLedger<Answer>>();
  /** Exchange time minus hub time, per group, from the newest ask. */
  readonly #offsets = new Map<string, number>();
  /** Sessions leasing per group (block pushes go to them). */
  readonly #members = new Map<string, Set<number>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(sessions: Sessions, outbox: PeerOutbox, log: Logger) {
    this.#sessions = sessions;
    this.#outbox = outbox;
    this.#log = log;
  }

  /** A session left: its declarations and held asks are dropped in every group. */
  forget(sessionId: number): void {
    for (const [group, members] of this.#members) {
      if (!members.delete(sessionId)) continue;
      const ledger = this.#ledgers.get(group);
      if (ledger === undefined) continue;
      ledger.forget(sessionId);
      // Its held asks may have been the head: the rest may fit now.
      this.#answer(ledger.tick(this.#exchangeNow(group)));
      this.#schedule(group);
    }
  }

  /** Every group, for the status documents, sorted by name. */
  status(): WeightGroupStatus[] {
    return [...this.#ledgers.values()]
      .map((ledger) => ledger.status(this.#exchangeNow(ledger.group)))
      .sort((a, b) => a.group.localeCompare(b.group));
  }

  /** Stops the timers (the hub is closing). */
  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  ops(): Pick<OpTable, 'weight.lease' | 'weight.block'> {
    return {
      'weight.lease': {
        roles: ANY,
        handle: (message, { session, id }) => {
          if (id === undefined)
            throw new ControlError('bad_field', 'weight.lease needs an id (the grant answers it)');
          const offset = message.at - Date.now();
          if (Math.abs(offset) > MAX_LEASE_CLOCK_GAP_MS) {
            // The same text for every lease of a wrong clock: a process logs each new reason once.
            throw new ControlError(
              'bad_field',
              `at is more than ${MAX_LEASE_CLOCK_GAP_MS / 1000} s ${offset > 0 ? 'ahead of' : 'behind'} the ` +
                "hub's clock: exchange Unix ms, from a clock kept right (the process's or the hub's is not)",
              id,
            );
          }
          const ledger = this.#ledger(message.group, id);
          if (ledger.heldOf(session.id) >= MAX_HELD_PER_SESSION) {
            throw new ControlError(
              'forbidden',
              `more than ${MAX_HELD_PER_SESSION} weight leases of this connection are waiting`,
              id,
            );
          }
          this.#join(message.group, session.id);
          this.#offsets.set(message.group, offset);
          ledger.declare(session.id, message.limit, message.reserve);
          const ask = {
            session: session.id,
            kind: message.kind,
            weight: message.weight,
            minute: Math.floor(message.at / 60_000),
            reply: { session, id },
          };
          this.#answer(ledger.ask(ask, message.used, message.at));
          this.#schedule(message.group);
        },
      },
      'weight.block': {
        roles: ANY,
        handle: (message, { session, id, reply }) => {
          const length = message.until - Date.now();
          if (length > MAX_BLOCK_MS) {
            throw new ControlError(
              'bad_field',
              `until is more than ${MAX_BLOCK_MS / 3_600_000} h after the hub's clock (the exchange's ` +
                'bans last at most 3 days): exchange Unix ms',
              id,
            );
          }
          const ledger = this.#ledger(message.group, id);
          this.#join(message.group, session.id);
          const extended = ledger.block(message.until, message.kind);
          if (extended) {
            this.#log.warn('the exchange refused an IP group: its processes stop until the block ends', {
              group: message.group,
              kind: message.kind,
              until: message.until,
              reportedBy: session.identity.peer,
              reason: message.reason,
            });
            const push: ServerMessage = {
              op: 'weight.block',
              group: message.group,
              until: message.until,
              kind: message.kind,
              reason: message.reason,
            };
            for (const member of this.#members.get(message.group) ?? []) {
              if (member === session.id) continue;
              const peer = this.#sessions.get(member);
              if (peer?.state === 'ready' && !peer.closing) this.#outbox.text(peer, push);
            }
          }
          this.#schedule(message.group);
          if (id !== undefined) reply({ op: 'ok' });
        },
      },
    };
  }

  #ledger(group: string, id: number | undefined): WeightLedger<Answer> {
    let ledger = this.#ledgers.get(group);
    if (ledger === undefined) {
      if (this.#ledgers.size >= MAX_GROUPS) {
        throw new ControlError('forbidden', `the hub keeps at most ${MAX_GROUPS} weight groups`, id);
      }
      ledger = new WeightLedger<Answer>(group);
      this.#ledgers.set(group, ledger);
    }
    return ledger;
  }

  #join(group: string, sessionId: number): void {
    let members = this.#members.get(group);
    if (members === undefined) {
      members = new Set();
      this.#members.set(group, members);
    }
    members.add(sessionId);
  }

  #exchangeNow(group: string): number {
    return Date.now() + (this.#offsets.get(group) ?? 0);
  }

  #answer(grants: readonly WeightGrant<Answer>[]): void {
    for (const grant of grants) {
      const { session, id } = grant.ask.reply;
      if (session.closing || this.#sessions.get(session.id) !== session) continue;
      this.#outbox.reply(session, id, { op: 'weight.grant', minute: grant.minute });
    }
  }

  /** Wakes at the group's next boundary (or block end) while it holds asks. */
  #schedule(group: string): void {
    clearTimeout(this.#timers.get(group));
    this.#timers.delete(group);
    const ledger = this.#ledgers.get(group);
    if (ledger === undefined) return;
    const now = this.#exchangeNow(group);
    const wakeAt = ledger.nextWakeAt(now, BOUNDARY_SLACK_MS);
    if (wakeAt === null) return;
    const delay = Math.max(0, wakeAt - now);
    const timer = setTimeout(() => {
      this.#timers.delete(group);
      this.#answer(ledger.tick(this.#exchangeNow(group)));
      this.#schedule(group);
    }, delay);
    timer.unref();
    this.#timers.set(group, timer);
  }
}
