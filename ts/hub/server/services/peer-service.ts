// Ops about the peer itself and the hub: `ping`, `status` (the document the key may read), `report` (the peer's own counters).
import type { PeerRole } from '../../control-messages.js';
import type { HubHealth, HubStatus } from '../../hub-status.js';
import { ANY, type OpTable } from './control-service.js';

/** Roles that may read the full status document (it holds peers' reports: wallet, positions). */
export const FULL_STATUS_ROLES: readonly PeerRole[] = ['viewer', 'admin'];

/** Serves `ping`, `status` and `report`. */
export class PeerService {
  readonly #status: { health(): HubHealth; full(): HubStatus };

  constructor(status: { health(): HubHealth; full(): HubStatus }) {
    this.#status = status;
  }

  ops(): Pick<OpTable, 'ping' | 'status' | 'report'> {
    return {
      ping: { roles: ANY, handle: (_message, { reply }) => reply({ op: 'pong', time: Date.now() }) },
      status: {
        roles: ANY,
        handle: (_message, { session, reply }) => {
          if (FULL_STATUS_ROLES.includes(session.identity.role))
            reply({ op: 'status', scope: 'full', status: this.#status.full() });
          else reply({ op: 'status', scope: 'health', status: this.#status.health() });
        },
      },
      report: {
        roles: ANY,
        handle: (message, { session, id, reply }) => {
          session.report = message.status;
          session.reportedAt = Date.now();
          if (id !== undefined) reply({ op: 'ok' });
        },
      },
    };
  }
}
