// For deploy tests without hosts: an ssh runner that records every script and keeps what was copied, and fleet access whose hosts are given states, with no hub to check.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { HubStatus } from '../../hub/hub-status.js';
import { DeployState } from '../deploy-state.js';
import { FleetAccess, type Report } from '../fleet-access.js';
import type { HealthExpectation } from '../health-check.js';
import type { HostState } from '../host-probe.js';
import type { Inventory, InventoryHost } from '../inventory.js';
import { type RemoteResult, RemoteShell, type SshTarget } from '../remote-shell.js';

/** One script the fake ran: on which host, for which step. */
export interface RanScript {
  readonly host: string;
  readonly step: string;
  readonly script: string;
}

/** Every file under `dir`, by path relative to it. */
function filesUnder(dir: string, out = new Map<string, string>(), root = dir): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(path, out, root);
    else out.set(relative(root, path), readFileSync(path, 'utf8'));
  }
  return out;
}

/**
 * Runs no ssh: records each script, answers `issue hub keys` with a key line per `--peer` (as
 * `tributary keys issue` prints them), every other script with nothing, and keeps the files each
 * copy sent (by host, then path relative to the staging folder; later copies add to earlier ones).
 */
export class FakeShell extends RemoteShell {
  readonly ran: RanScript[] = [];
  readonly sent = new Map<string, Map<string, string>>();

  constructor() {
    super({ sudo: false });
  }

  override async run(target: SshTarget, step: string, script: string): Promise<RemoteResult> {
    this.ran.push({ host: target.host, step, script });
    const stdout =
      step === 'issue hub keys'
        ? [...script.matchAll(/--peer (\S+)/g)]
            .map((m, i) => `${m[1]} TRIBUTARY_HUB_KEY=hk-fake-${i}:${'s'.repeat(40)}`)
            .join('\n')
        : '';
    return { code: 0, stdout, stderr: '' };
  }

  override async copy(target: SshTarget, from: string): Promise<void> {
    this.ran.push({ host: target.host, step: 'copy', script: '' });
    const host = this.sent.get(target.host) ?? new Map<string, string>();
    for (const [path, text] of filesUnder(from)) host.set(path, text);
    this.sent.set(target.host, host);
  }

  /** The scripts run on `host` for `step`. */
  scripts(host: string, step: string): string[] {
    return this.ran.filter((r) => r.host === host && r.step === step).map((r) => r.script);
  }
}

/** A deploy state whose host certificates are placeholders (no openssl, no CA). */
export class FakeDeployState extends DeployState {
  override async hostTls(host: InventoryHost): Promise<{ ca: string; cert: string; key: string }> {
    return { ca: 'test ca\n', cert: `test cert of ${host.name}\n`, key: `test key of ${host.name}\n` };
  }
}

/**
 * Fleet access over a {@link FakeShell} whose hosts have the states `states` gives (each call to
 * {@link observe} counted), no processes, and a health check that passes without a hub.
 */
export class FakeFleetAccess extends FleetAccess {
  observed = 0;

  constructor(
    inventory: Inventory,
    state: DeployState,
    readonly fake: FakeShell,
    readonly states: () => Map<string, HostState>,
  ) {
    super(inventory, state, fake);
  }

  override async observe(): Promise<Map<string, HostState>> {
    this.observed += 1;
    return this.states();
  }

  override async processes(): Promise<Map<string, string>> {
    return new Map();
  }

  override async waitHealthy(_expect: HealthExpectation, report: Report): Promise<HubStatus | undefined> {
    report('Health check skipped (fake fleet).');
    return undefined;
  }
}
