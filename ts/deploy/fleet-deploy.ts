// `tributary deploy plan|apply`: observe every host, plan, prepare, issue keys, activate (hub host first), revoke, health-check.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HubStatus } from '../hub/hub-status.js';
import { DEPLOY_PEER, type DeployState } from './deploy-state.js';
import type { FleetAccess, Report } from './fleet-access.js';
import {
  assignInstances,
  type DesiredHost,
  desiredHost,
  type HostPlan,
  isNoop,
  keyServes,
  type ListedKey,
  layoutOf,
  PlanError,
  planHost,
  releaseProblems,
} from './fleet-plan.js';
import {
  configuredStrategyModules,
  placementProblems,
  strategyModuleProblems,
  strategyModuleShippingProblems,
} from './host-config.js';
import type { HostState } from './host-probe.js';
import { activateScript, keysScript, listKeysScript, prepareScript, stagingDir } from './host-scripts.js';
import type { Inventory } from './inventory.js';
import type { ReleaseArtifact } from './release-artifact.js';
import type { RemoteShell, SshTarget } from './remote-shell.js';
import { unitName } from './systemd-unit.js';

/** A deploy step failed on some hosts; what happened on each is in the message. */
export class DeployStepError extends Error {
  override readonly name = 'DeployStepError';
  constructor(
    readonly step: string,
    readonly errors: readonly Error[],
    note: string,
  ) {
    super(`${step} failed:\n${errors.map((e) => `  ${e.message}`).join('\n')}\n${note}`);
  }
}

/** The whole fleet's plan. */
export interface FleetPlan {
  readonly release: ReleaseArtifact;
  readonly hosts: readonly { desired: DesiredHost; state: HostState; plan: HostPlan; target: SshTarget }[];
  /** Whether the deploy needs a (new) viewer key of its own at the hub. */
  readonly needsDeployKey: boolean;
}

/** One line per change of a host plan (for `deploy plan` and the apply log). */
export function describePlan(plan: HostPlan, releaseId: string): string[] {
  if (isNoop(plan)) return [`${plan.host}: up to date`];
  const lines = [`${plan.host}:`];
  const item = (text: string) => lines.push(`  ${text}`);
  if (plan.createUser) item('create the service user');
  if (plan.uploadRelease) item(`upload release ${releaseId}`);
  if (plan.switchRelease) item(`switch to release ${releaseId} (the current one is kept for rollback)`);
  for (const f of plan.writeFiles) item(`write ${f}`);
  for (const f of plan.removeFiles)
    item(`remove ${f} (no longer part of the strategy module the configuration names)`);
  for (const k of plan.issueKeys) item(`issue a ${k.role} hub key for ${k.service}`);
  for (const e of plan.writeEnvs) item(`write env file of ${e}`);
  for (const u of plan.writeUnits) item(`install unit ${unitName(u)}`);
  for (const s of plan.removeServices) item(`stop and remove ${s}`);
  for (const k of plan.revokeKeys) item(`revoke hub key ${k}`);
  for (const s of plan.startServices) item(`start ${s}`);
  for (const s of plan.restartServices) item(`restart ${s}`);
  return lines;
}

/**
 * What a trader started with a host's configuration (the fleet's with the host's over it,
 * unchecked) would refuse about its strategy module, each refusal naming its field; empty when
 * nothing. The composition root gives the trader's own check (the deploy library may not import
 * the trader).
 */
export type StrategyModuleCheck = (config: Record<string, unknown>) => Promise<string[]>;

/** Options of {@link FleetDeploy}. */
export interface FleetDeployOptions {
  /** Run for every trader host whose configuration names a strategy module, before any host is reached. */
  readonly checkStrategyModule?: StrategyModuleCheck;
}

/** Plans and applies an inventory (rollback and status: `fleet-rollback.ts`). */
export class FleetDeploy {
  readonly #fleet: FleetAccess;
  readonly #inventory: Inventory;
  readonly #state: DeployState;
  readonly #shell: RemoteShell;
  readonly #report: Report;
  readonly #checkStrategyModule: StrategyModuleCheck | undefined;

  constructor(fleet: FleetAccess, report: Report, options: FleetDeployOptions = {}) {
    this.#fleet = fleet;
    this.#inventory = fleet.inventory;
    this.#state = fleet.state;
    this.#shell = fleet.shell;
    this.#report = report;
    this.#checkStrategyModule = options.checkStrategyModule;
  }

  /**
   * What each trader host's trader would refuse about its strategy module, found here before the
   * module is shipped: a module that does not import, or does not fit the host's configuration,
   * would otherwise stop every trader it reaches at its restart.
   */
  async #strategyModuleRefusals(): Promise<string[]> {
    const check = this.#checkStrategyModule;
    if (check === undefined) return [];
    const problems: string[] = [];
    for (const { host, index, config } of configuredStrategyModules(this.#inventory)) {
      if ((host.services.trader ?? 0) === 0) continue;
      for (const refusal of await check(config))
        problems.push(
          `${host.name}: ${refusal} (config and hosts[${index}].config merged; its trader would refuse to start)`,
        );
    }
    return problems;
  }

  /** The hub's keys (empty before the hub host has the release or a key file). */
  async #hubKeys(releaseId: string, hubState: HostState): Promise<ListedKey[]> {
    const hub = this.#fleet.hubHost();
    if (!hubState.releases.includes(releaseId)) return [];
    const out = await this.#shell.check(
      this.#fleet.target(hub),
      'list hub keys',
      listKeysScript(layoutOf(this.#inventory, hub), releaseId),
    );
    return JSON.parse(out) as ListedKey[];
  }

  /**
   * Builds the plan of every host against the release; changes nothing. The inventory's own
   * problems (placement, a strategy module that cannot be shipped or that a host's trader would
   * refuse, an import of the module a host could not resolve) stop it before any host is reached.
   */
  async plan(release: ReleaseArtifact, states?: Map<string, HostState>): Promise<FleetPlan> {
    const placement = [
      ...placementProblems(this.#inventory, (host) => this.#state.secretsFor(host)),
      ...strategyModuleProblems(this.#inventory),
    ];
    if (placement.length > 0) throw new PlanError(placement);
    const refusals = await this.#strategyModuleRefusals();
    if (refusals.length > 0) throw new PlanError(refusals);
    const unshippable = strategyModuleShippingProblems(this.#inventory);
    if (unshippable.length > 0) throw new PlanError(unshippable);
    const observed = states ?? (await this.#fleet.observe());
    const services = assignInstances(this.#inventory.hosts, observed);
    const problems = releaseProblems(
      release.manifest,
      this.#inventory.hosts.map((h) => ({
        name: h.name,
        state: observed.get(h.name) as HostState,
        services: services.get(h.name) ?? [],
      })),
    );
    if (problems.length > 0) throw new PlanError(problems);
    const hubState = observed.get(this.#fleet.hubHost().name) as HostState;
    const keys = await this.#hubKeys(release.manifest.id, hubState);
    const hosts = [];
    for (const host of this.#inventory.hosts) {
      const desired = desiredHost(this.#inventory, host, services.get(host.name) ?? [], {
        tls: this.#inventory.tls.enabled ? await this.#state.hostTls(host) : undefined,
        secrets: this.#state.secretsFor(host),
      });
      const state = observed.get(host.name) as HostState;
      hosts.push({
        desired,
        state,
        plan: planHost(desired, state, release.manifest, keys),
        target: this.#fleet.target(host),
      });
    }
    const deployKey = this.#state.deployKey();
    const needsDeployKey = !keyServes(keys, deployKey?.id, 'viewer', DEPLOY_PEER);
    return { release, hosts, needsDeployKey };
  }

  /** Uploads `files` (path → content, or a local file to copy) to the host's staging folder. */
  async #stage(
    target: SshTarget,
    hasRsync: boolean,
    files: ReadonlyMap<string, { text?: string; copyOf?: string }>,
  ) {
    const local = mkdtempSync(join(tmpdir(), `tributary-stage-${target.host}-`));
    try {
      for (const [path, source] of files) {
        const file = join(local, path);
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
        if (source.copyOf !== undefined) copyFileSync(source.copyOf, file);
        else writeFileSync(file, source.text ?? '', { mode: 0o600 });
      }
      const remote = stagingDir(this.#inventory.fleet, target.host);
      // Made by the login user, private to it; the root scripts read it and remove it at the end.
      await this.#shell.check(target, 'staging', `mkdir -p -m 700 '${remote}'\n`);
      await this.#shell.copy(target, local, remote, hasRsync);
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  }

  /**
   * Applies the inventory: every host is observed first (an unreachable host stops everything
   * before any change), then prepared (release, files; no service touched), then keys are issued
   * on the hub host, then each host is activated, the hub host first, then the fleet is
   * health-checked through the hub's full status. Returns the status the check ended with.
   */
  async apply(release: ReleaseArtifact): Promise<HubStatus | undefined> {
    const startedAt = Date.now();
    const fleet = await this.plan(release);
    const id = release.manifest.id;
    for (const h of fleet.hosts) for (const line of describePlan(h.plan, id)) this.#report(line);
    if (fleet.hosts.every((h) => isNoop(h.plan)) && !fleet.needsDeployKey) {
      this.#report('Nothing to change.');
      return this.#check(fleet, new Map());
    }

    // 1. Prepare every host that needs it; a failure here leaves every service as it was.
    const preparing = fleet.hosts.filter(
      (h) => h.plan.createUser || h.plan.uploadRelease || h.plan.writeFiles.length > 0,
    );
    const prepared = await Promise.allSettled(
      preparing.map(async ({ desired, state, plan, target }) => {
        const files = new Map<string, { text?: string; copyOf?: string }>();
        if (plan.uploadRelease) files.set('release.tgz', { copyOf: release.file });
        for (const path of plan.writeFiles)
          files.set(`files/${path}`, { text: desired.files.get(path) ?? '' });
        await this.#stage(target, state.hasRsync, files);
        const staging = stagingDir(this.#inventory.fleet, target.host);
        const script = prepareScript(
          desired.layout,
          plan,
          id,
          desired.services.map((s) => s.name),
          staging,
        );
        await this.#shell.check(target, 'prepare', script, 600_000);
        this.#report(`${target.host}: prepared`);
      }),
    );
    const prepareErrors = prepared
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as Error);
    if (prepareErrors.length > 0) {
      throw new DeployStepError(
        'prepare',
        prepareErrors,
        'No service was started, stopped or changed on any host.',
      );
    }

    // 2. Keys: plan again now that the hub host has the release (its key file is readable), then issue.
    const replanned = await this.plan(release, await this.#fleet.observe());
    const hub = this.#fleet.hubHost();
    const issue = replanned.hosts.flatMap(({ plan, desired }) =>
      plan.issueKeys.map((k) => ({
        peer: k.service,
        role: k.role,
        label: `deploy ${this.#inventory.fleet} ${desired.host.name}`,
      })),
    );
    if (replanned.needsDeployKey)
      issue.push({ peer: DEPLOY_PEER, role: 'viewer', label: `deploy ${this.#inventory.fleet} status` });
    const issued = new Map<string, string>();
    if (issue.length > 0) {
      const out = await this.#shell.check(
        this.#fleet.target(hub),
        'issue hub keys',
        keysScript(layoutOf(this.#inventory, hub), id, issue, []),
      );
      for (const line of out.split('\n')) {
        const match = /^(\S+) (TRIBUTARY_HUB_KEY=\S+)$/.exec(line.trim());
        if (match?.[1] !== undefined && match[2] !== undefined) issued.set(match[1], match[2]);
      }
      const missing = issue.filter((i) => !issued.has(i.peer)).map((i) => i.peer);
      if (missing.length > 0)
        throw new DeployStepError(
          'issue hub keys',
          [new Error(`no key printed for ${missing.join(', ')}`)],
          'No service was changed.',
        );
      const deployLine = issued.get(DEPLOY_PEER);
      if (deployLine !== undefined) this.#state.saveDeployKey(deployLine);
      this.#report(`${hub.name}: issued ${issue.length} hub key(s)`);
    }

    // 3. Activate: the hub host first (peers need it), then the others together. The processes
    // the hub shows now are the ones a restart must replace.
    const before = await this.#fleet.processes();
    const activate = async ({ desired, state, plan, target }: FleetPlan['hosts'][number]) => {
      if (isNoop(plan)) return;
      const files = new Map<string, { text?: string; copyOf?: string }>();
      for (const service of plan.writeEnvs) {
        files.set(`env/${service}.env`, { text: desired.envs.get(service) ?? '' });
        const key = issued.get(service);
        if (key !== undefined) files.set(`env/${service}.key`, { text: `${key}\n` });
      }
      for (const service of plan.writeUnits)
        files.set(`units/${unitName(service)}`, { text: desired.units.get(service) ?? '' });
      await this.#stage(target, state.hasRsync, files);
      await this.#shell.check(
        target,
        'activate',
        activateScript(desired.layout, plan, id, stagingDir(this.#inventory.fleet, target.host)),
        300_000,
      );
      this.#report(`${target.host}: activated`);
    };
    const [hubEntry, ...others] = [
      ...replanned.hosts.filter((h) => h.desired.host.name === hub.name),
      ...replanned.hosts.filter((h) => h.desired.host.name !== hub.name),
    ];
    if (hubEntry !== undefined) {
      try {
        await activate(hubEntry);
      } catch (error) {
        throw new DeployStepError(
          'activate',
          [error as Error],
          'The hub host was put back; no other host was changed.',
        );
      }
    }
    const results = await Promise.allSettled(others.map(activate));
    const activateErrors = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as Error);

    // 4. Revoke the keys of removed services (they are stopped by now).
    const revoke = replanned.hosts.flatMap((h) => h.plan.revokeKeys);
    if (revoke.length > 0) {
      await this.#shell.check(
        this.#fleet.target(hub),
        'revoke hub keys',
        keysScript(layoutOf(this.#inventory, hub), id, [], revoke),
      );
      this.#report(`${hub.name}: revoked ${revoke.length} hub key(s)`);
    }
    if (activateErrors.length > 0) {
      throw new DeployStepError(
        'activate',
        activateErrors,
        'Each failed host stopped what this run started on it and kept its previous release link; the other hosts run the new state.',
      );
    }
    const hubRestarted = replanned.hosts.some((h) =>
      [...h.plan.restartServices, ...h.plan.startServices].includes('hub'),
    );
    const restarted = new Map<string, string | undefined>();
    for (const h of replanned.hosts) {
      for (const s of [...h.plan.startServices, ...h.plan.restartServices]) restarted.set(s, before.get(s));
    }
    this.#report(
      `Applied in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; checking the fleet through the hub${hubRestarted ? ' (hub restarted)' : ''}...`,
    );
    return this.#check(replanned, restarted);
  }

  /** Waits until the hub shows every planned peer; `restarted` maps a (re)started service to the process it replaces. */
  #check(
    fleet: FleetPlan,
    restarted: ReadonlyMap<string, string | undefined>,
  ): Promise<HubStatus | undefined> {
    return this.#fleet.waitHealthy(
      {
        peers: fleet.hosts.flatMap(({ desired }) =>
          desired.services
            .filter((s) => s.kind !== 'hub')
            .map((s) => ({ peer: s.name, host: desired.host.name, replaces: restarted.get(s.name) })),
        ),
        version: `${fleet.release.manifest.version}+${fleet.release.manifest.id}`,
        timeoutMs: this.#inventory.healthTimeoutMs,
      },
      this.#report,
    );
  }
}
