// A process's weight budget leasing from the hub: `weight.lease` per request, `weight.block` both ways, over the process's hub connection.
import type { ExchangeLink } from '../exchange/exchange-link.js';
import type {
  IpBlock,
  WeightCoordinator,
  WeightLeaseGrant,
  WeightLeaseRequest,
} from '../exchange/weight-coordinator.js';
import type { Logger } from '../log/logger.js';
import { MAX_BLOCK_REASON_CHARS, WEIGHT_LEASE_VERSION } from './control-messages.js';
import { type HubClient, HubRequestError } from './hub-client.js';

/**
 * The longest a lease may wait for its answer. The hub answers a held lease at a minute boundary in
 * order of kind, one rank better per minute waited, so even the lowest kind is answered within
 * about as many minutes as there are kinds; a hub that goes away fails every lease at once
 * (disconnected), so this bound only catches a hub that stopped answering.
 */
export const LEASE_TIMEOUT_MS = 8 * 60_000;

/**
 * Leases weight from the hub for one IP group. Available while the connection is up and the hub
 * speaks protocol 4 or later (an older hub has no `weight.lease`: the budget keeps to its fallback
 * share and says so).
 */
export class HubWeightCoordinator implements WeightCoordinator {
  readonly group: string;
  readonly #hub: HubClient;
  readonly #log: Logger;

  constructor(hub: HubClient, group: string, log: Logger) {
    this.#hub = hub;
    this.group = group;
    this.#log = log;
  }

  get available(): boolean {
    return this.#hub.state === 'ready' && (this.#hub.welcome?.version ?? 0) >= WEIGHT_LEASE_VERSION;
  }

  async lease(request: WeightLeaseRequest): Promise<WeightLeaseGrant> {
    const reply = await this.#hub.request(
      {
        op: 'weight.lease',
        group: this.group,
        kind: request.kind,
        weight: request.weight,
        at: Math.round(request.at),
        limit: request.limit,
        reserve: request.reserve,
        used: request.used,
      },
      LEASE_TIMEOUT_MS,
    );
    if (reply.op !== 'weight.grant' || !Number.isSafeInteger(reply.minute)) {
      throw new HubRequestError('weight.lease', 'internal', `unexpected answer ${reply.op}`);
    }
    return { minute: reply.minute };
  }

  reportBlock(block: IpBlock): void {
    this.#hub
      .request({
        op: 'weight.block',
        group: this.group,
        until: Math.round(block.until),
        kind: block.kind,
        reason: block.reason.slice(0, MAX_BLOCK_REASON_CHARS),
      })
      .catch((error: unknown) => {
        // The process blocks itself regardless; only the IP's other processes learn it later (from
        // their own refusals) when the hub cannot be told.
        this.#log.warn('could not tell the hub about the exchange block', {
          group: this.group,
          until: block.until,
          kind: block.kind,
          error: error instanceof Error ? error.message : String(error),
        });
      });
  }

  onBlock(listener: (block: IpBlock) => void): () => void {
    return this.#hub.onMessage((message) => {
      if (message.op !== 'weight.block' || message.group !== this.group) return;
      listener({ until: message.until, kind: message.kind, reason: message.reason });
    });
  }
}

/**
 * Makes `link`'s budget lease from the hub over `hub` when the configuration asks for it
 * (`exchange.budget.coordinator` "hub"); returns a function that stops it. Without it the
 * budget paces alone (coordinator "none") or to its fallback share.
 */
export function coordinateWeight(link: ExchangeLink, hub: HubClient, log: Logger): () => void {
  if (link.budgetGroup === null) return () => {};
  return link.rest.budget.attachCoordinator(new HubWeightCoordinator(hub, link.budgetGroup, log));
}
