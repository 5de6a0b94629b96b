// `tributary deploy`: build the release, plan and apply an inventory over ssh, roll back, and show the fleet.
import { dirname, resolve } from 'node:path';
import { DeployState } from '../../ts/deploy/deploy-state.js';
import { FleetAccess } from '../../ts/deploy/fleet-access.js';
import { describePlan, FleetDeploy } from '../../ts/deploy/fleet-deploy.js';
import { isNoop } from '../../ts/deploy/fleet-plan.js';
import { fleetStatus, rollbackFleet } from '../../ts/deploy/fleet-rollback.js';
import { renderFleet } from '../../ts/deploy/fleet-view.js';
import { loadInventory } from '../../ts/deploy/inventory.js';
import { buildRelease, type ReleaseArtifact, readReleaseManifest } from '../../ts/deploy/release-artifact.js';
import { RemoteError, RemoteShell } from '../../ts/deploy/remote-shell.js';
import { packageRoot } from '../../ts/package-root.js';
import { hostStrategyModuleRefusals } from '../venues/trader-strategy.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage:
  tributary deploy release [--out <dir>]
  tributary deploy plan     -i <inventory.json> [--release <file.tgz>]
  tributary deploy apply    -i <inventory.json> [--release <file.tgz>]
  tributary deploy status   -i <inventory.json>
  tributary deploy rollback -i <inventory.json>

Installs the hub, collectors, traders (and recorder, publisher) on the inventory's hosts over ssh
as systemd services running as a non-root user, with secrets in mode 600 environment files, each
peer with its own hub key, TLS between machines from a private CA the deploy makes for the fleet,
and the previous release kept for rollback. docs/operations.md, "A fleet on several machines".

release   builds the release artifact once from this installation (compiled dist, the prebuilt
          native addon, production dependencies): hosts need Node and nothing else.
plan      shows what apply would change on each host; changes nothing.
apply     makes the hosts match the inventory (the same inventory twice changes nothing), then
          waits until the hub reports every peer on the new release and they stay up for 3 s.
status    each host's release and units, and the fleet as the hub sees it.
rollback  every host back to its previous release, services restarted, then the same check.

Options:
  -i, --inventory <file>  the inventory (JSON; see deploy/inventory.example.json)
      --release <file>    a release built before (default: build one now)
      --out <dir>         release: where to write it (default .tributary-deploy/releases)

ssh runs non-interactively (BatchMode): keys from your agent or the inventory's ssh.identityFile.
The deploy keeps the fleet's CA, certificates and its own status key in .tributary-deploy/<fleet>/
beside the inventory (mode 700): keep it safe and backed up.
`;

async function releaseFor(file: string | undefined, state: DeployState): Promise<ReleaseArtifact> {
  if (file !== undefined) return { file: resolve(file), manifest: await readReleaseManifest(resolve(file)) };
  process.stderr.write('Building the release...\n');
  return buildRelease(packageRoot, state.releasesDir);
}

/** Runs `tributary deploy`; returns the exit code. */
export async function runDeploy(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    options: {
      inventory: { type: 'string', short: 'i' },
      release: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [action, ...extra] = positionals;
  if (values.help === true || action === undefined) {
    process.stdout.write(HELP);
    return action === undefined && values.help !== true ? 2 : 0;
  }
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const report = (line: string) => process.stdout.write(`${line}\n`);
  if (action === 'release') {
    const out = resolve(values.out ?? '.tributary-deploy/releases');
    const release = await buildRelease(packageRoot, out);
    report(release.file);
    report(
      `release ${release.manifest.version}+${release.manifest.id}: node ${release.manifest.node.version} (ABI ${release.manifest.node.abi}), addons ${release.manifest.napiAddons.join(', ')}${
        release.manifest.abiBound.length > 0
          ? `; compiled for this ABI only: ${release.manifest.abiBound.join(', ')}`
          : ''
      }`,
    );
    return 0;
  }
  if (values.inventory === undefined) throw new UsageError('give the inventory: -i <inventory.json>');
  const inventory = loadInventory(values.inventory);
  const state = new DeployState(inventory, dirname(resolve(values.inventory)));
  const loginUsers = inventory.hosts.map((h) => h.ssh?.user ?? inventory.ssh.user ?? 'root');
  const shell = new RemoteShell({ sudo: loginUsers.some((u) => u !== 'root') });
  const fleet = new FleetAccess(inventory, state, shell);
  const deploy = new FleetDeploy(fleet, report, { checkStrategyModule: hostStrategyModuleRefusals });
  switch (action) {
    case 'plan': {
      const plan = await deploy.plan(await releaseFor(values.release, state));
      for (const h of plan.hosts)
        for (const line of describePlan(h.plan, plan.release.manifest.id)) report(line);
      if (plan.hosts.every((h) => isNoop(h.plan))) report('Nothing to change.');
      return 0;
    }
    case 'apply': {
      const status = await deploy.apply(await releaseFor(values.release, state));
      if (status !== undefined) process.stdout.write(`\n${renderFleet(status)}`);
      return 0;
    }
    case 'rollback': {
      const status = await rollbackFleet(fleet, report);
      if (status !== undefined) process.stdout.write(`\n${renderFleet(status)}`);
      return 0;
    }
    case 'status': {
      const { hosts, hub } = await fleetStatus(fleet);
      let healthy = true;
      for (const [name, host] of hosts) {
        if (host instanceof RemoteError) {
          healthy = false;
          report(host.message);
          continue;
        }
        const units = [...host.units].map(([n, u]) => `${n} ${u.state}`).join(', ');
        if ([...host.units.values()].some((u) => u.state !== 'active')) healthy = false;
        report(
          `${name}: release ${host.current ?? 'none'} (previous ${host.previous ?? 'none'}); ${units || 'no services'}`,
        );
      }
      report('');
      if (hub instanceof Error) {
        healthy = false;
        report(`hub: ${hub.message}`);
      } else process.stdout.write(renderFleet(hub));
      return healthy ? 0 : 1;
    }
    default:
      throw new UsageError(
        `unknown action ${JSON.stringify(action)}: release, plan, apply, status or rollback`,
      );
  }
}
