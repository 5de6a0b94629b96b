// `tributary deploy rollback|status`: every host back to its previous release, checked through the hub; and what each host and the hub say now.
import type { HubStatus } from '../hub/hub-status.js';
import type { FleetAccess, Report } from './fleet-access.js';
import { layoutOf, PlanError } from './fleet-plan.js';
import type { HostState } from './host-probe.js';
import { rollbackScript } from './host-scripts.js';
import type { RemoteError } from './remote-shell.js';

/**
 * Swaps every host back to its previous release and restarts its services (the hub host first),
 * then waits until the hub reports every peer as a new process on that release. Refuses (before
 * changing anything) when a host has no previous release or the hosts' previous releases differ.
 */
export async function rollbackFleet(fleet: FleetAccess, report: Report): Promise<HubStatus | undefined> {
  const { inventory } = fleet;
  const states = await fleet.observe();
  const problems = inventory.hosts
    .filter((h) => states.get(h.name)?.previous === undefined)
    .map((h) => `${h.name}: no previous release to roll back to`);
  if (problems.length > 0) throw new PlanError(problems);
  const previous = new Set(inventory.hosts.map((h) => states.get(h.name)?.previous));
  if (previous.size !== 1)
    throw new PlanError([`hosts have different previous releases: ${[...previous].join(', ')}`]);
  const release = [...previous][0] ?? '';
  const hub = fleet.hubHost();
  const before = await fleet.processes();
  for (const host of [hub, ...inventory.hosts.filter((h) => h.name !== hub.name)]) {
    const services = [...(states.get(host.name)?.units.keys() ?? [])].sort((a, b) =>
      a === 'hub' ? -1 : b === 'hub' ? 1 : 0,
    );
    const out = await fleet.shell.check(
      fleet.target(host),
      'rollback',
      rollbackScript(layoutOf(inventory, host), services),
    );
    report(`${host.name}: ${out.trim().split('\n').at(-1) ?? ''}`);
  }
  return fleet.waitHealthy(
    {
      peers: inventory.hosts.flatMap((h) =>
        [...(states.get(h.name)?.units.keys() ?? [])]
          .filter((s) => s !== 'hub')
          .map((s) => ({ peer: s, host: h.name, replaces: before.get(s) })),
      ),
      version: `+${release}`,
      timeoutMs: inventory.healthTimeoutMs,
    },
    report,
  );
}

/** Each host's state (or why it could not be reached) and the hub's full status (or why not). */
export async function fleetStatus(
  fleet: FleetAccess,
): Promise<{ hosts: Map<string, HostState | RemoteError>; hub: HubStatus | Error }> {
  const hosts = await fleet.probeAll();
  let hub: HubStatus | Error;
  try {
    hub = await fleet.hubStatus();
  } catch (error) {
    hub = error as Error;
  }
  return { hosts, hub };
}
