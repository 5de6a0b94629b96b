// The public status document's input from the hub's status (its health document, or the full one read over the publisher's own hub connection): names, roles, freshness, latency; never addresses.
import type { HubHealth, PeerHealth } from '../ts/hub/hub-status.js';
import type { SystemStatusInput } from './dashboard-source.js';

/** A peer not heard from for this long is shown as late. */
export const LATE_AFTER_MS = 30_000;

/** Trading states by trader name (the app reads them from the traders' state files). */
export type TradingStates = () => Promise<readonly { readonly trader: string; readonly state: string }[]>;

/** The parts of the hub's status the public document takes (the health and the full document both have them). */
export type HubStatusParts = Pick<HubHealth, 'now' | 'uptimeMs' | 'latencyUs' | 'collectors'> & {
  readonly peers: readonly Pick<PeerHealth, 'peer' | 'role' | 'lastSeen'>[];
};

/**
 * Reads the hub's status with `read` and keeps what the public may see: each peer's name, role and
 * when it was last heard from, each collector's data age, the merge latency. A hub that cannot be
 * reached gives an empty status with `hubSeenAt: null` (the page then says so) and `onUnreachable`
 * hears why.
 */
export async function hubHealthStatus(
  read: () => Promise<HubStatusParts>,
  tradingStates: TradingStates,
  onUnreachable: (reason: string) => void,
  now: number = Date.now(),
): Promise<SystemStatusInput> {
  const trading = await tradingStates();
  try {
    const health = await read();
    return {
      hubSeenAt: now,
      hubUptimeMs: health.uptimeMs,
      hubLatencyUs: { p50: health.latencyUs.p50, p99: health.latencyUs.p99, max: health.latencyUs.max },
      processes: [
        { name: 'hub', role: 'hub', lastSeen: health.now, healthy: true },
        ...health.peers
          .map((p) => ({
            name: p.peer,
            role: p.role,
            lastSeen: p.lastSeen,
            healthy: health.now - p.lastSeen <= LATE_AFTER_MS,
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      ],
      collectors: health.collectors
        .map((c) => ({ name: c.peer, kind: c.kind, ageMs: c.ageMs }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      tradingStates: trading,
    };
  } catch (error) {
    onUnreachable(error instanceof Error ? error.message : String(error));
    return {
      hubSeenAt: null,
      hubUptimeMs: null,
      hubLatencyUs: null,
      processes: [],
      collectors: [],
      tradingStates: trading,
    };
  }
}
