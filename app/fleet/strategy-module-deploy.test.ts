// A fleet deploy ships the strategy module trader.strategyModule names to each trader host, whose configuration names the copy; a module it cannot ship stops the plan before any host is reached.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { strategyDefinitions } from '../../trader/strategies/registry.js';
import { loadConfig } from '../../ts/config/load-config.js';
import { FleetDeploy } from '../../ts/deploy/fleet-deploy.js';
import { PlanError } from '../../ts/deploy/fleet-plan.js';
import { type HostState, parseProbe, probeScript } from '../../ts/deploy/host-probe.js';
import { stagingDir } from '../../ts/deploy/host-scripts.js';
import { loadInventory } from '../../ts/deploy/inventory.js';
import type { ReleaseArtifact } from '../../ts/deploy/release-artifact.js';
import { FakeDeployState, FakeFleetAccess, FakeShell } from '../../ts/deploy/testing/fake-fleet.js';
import { chooseConfiguredStrategy, hostStrategyModuleRefusals } from '../venues/trader-strategy.js';

const FIXTURE = resolve(
  import.meta.dirname,
  '../../trader/strategies/testing/strategy-modules/buy-first-sell-fifth.mjs',
);

/** The release (a placeholder tarball: the fake hosts never unpack it). */
const release: ReleaseArtifact = {
  file: join(mkdtempSync(join(tmpdir(), 'tributary-deploy-release-')), 'release.tgz'),
  manifest: {
    id: '0123456789abcdef',
    version: '0.1.0',
    createdAt: '2026-12-06T00:00:00Z',
    platform: 'linux',
    arch: 'x64',
    node: { version: process.versions.node, abi: process.versions.modules },
    commands: ['hub', 'collect', 'trader', 'keys'],
    napiAddons: [],
    abiBound: [],
  },
};

writeFileSync(release.file, 'not a real release\n');

const fresh: HostState = {
  node: { version: process.versions.node, abi: process.versions.modules },
  userExists: false,
  hasRsync: true,
  hasSystemd: true,
  current: undefined,
  previous: undefined,
  releases: [],
  units: new Map(),
  files: new Map(),
  envs: new Map(),
};

/**
 * A fleet folder: the inventory (a hub host and a trader host, installed under a folder of its
 * own) naming `strategyModule` relative to it, and the fixture module at `strategies/mine.mjs`.
 */
function fleetFolder(trader: Record<string, unknown>, traderHost: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-deploy-module-'));
  mkdirSync(join(dir, 'strategies'));
  copyFileSync(FIXTURE, join(dir, 'strategies', 'mine.mjs'));
  const install = join(dir, 'host-t');
  const inventoryFile = join(dir, 'inventory.json');
  writeFileSync(
    inventoryFile,
    JSON.stringify({
      fleet: 'test',
      hub: { host: 'h' },
      install: { dir: install },
      config: { trader: { mode: 'paper', strategy: 'buy-first-sell-fifth', ...trader } },
      hosts: [
        { name: 'h', address: '10.9.0.2', services: { hub: 1, universe: 1 } },
        { name: 't', address: '10.9.0.3', services: { trader: 1 }, ...traderHost },
      ],
    }),
  );
  const inventory = loadInventory(inventoryFile);
  const shell = new FakeShell();
  let states = new Map([
    ['h', fresh],
    ['t', fresh],
  ]);
  const fleet = new FakeFleetAccess(inventory, new FakeDeployState(inventory, dir), shell, () => states);
  // The deploy's own check of each trader host's module, as `tributary deploy` gives it.
  const deploy = new FleetDeploy(fleet, () => {}, { checkStrategyModule: hostStrategyModuleRefusals });
  return { dir, install, shell, fleet, deploy, setStates: (s: typeof states) => (states = s) };
}

describe('a fleet deploy with a strategy module', () => {
  it('ships the module to the trader host, whose configuration names the copy, and then changes nothing', async () => {
    const { dir, install, shell, deploy, fleet, setStates } = fleetFolder({
      strategyModule: 'strategies/mine.mjs',
    });
    await deploy.apply(release);

    // The trader host was sent the module, beside the configuration that names its copy.
    const sent = shell.sent.get('t') ?? new Map<string, string>();
    const module = readFileSync(join(dir, 'strategies', 'mine.mjs'), 'utf8');
    expect(sent.get('files/etc/strategy/mine.mjs')).toBe(module);
    expect(JSON.parse(sent.get('files/etc/strategy/package.json') ?? '{}')).toEqual({ type: 'module' });
    const config = JSON.parse(sent.get('files/etc/config.json') ?? '{}') as {
      trader: Record<string, unknown>;
    };
    expect(config.trader).toMatchObject({
      strategy: 'buy-first-sell-fifth',
      strategyModule: `${install}/etc/strategy/mine.mjs`,
    });
    // ... which its prepare step installs, readable by the service user's group only.
    const staging = stagingDir('test', 't');
    const [prepare] = shell.scripts('t', 'prepare');
    expect(prepare).toContain(
      `install -D -o root -g tributary -m 0640 ${staging}/files/etc/strategy/mine.mjs ${install}/etc/strategy/mine.mjs`,
    );
    // A host without a trader gets no copy.
    expect([...(shell.sent.get('h')?.keys() ?? [])].filter((p) => p.includes('strategy'))).toEqual([]);

    // On the host, as the prepare step installs them: the trader loads its configuration and runs
    // the module from the copy.
    const chosen = await startOnHost(sent, install);
    expect(chosen.name).toBe('buy-first-sell-fifth');

    // The host probe sees the copy, so the next plan leaves it (and the services) alone.
    const probed = parseProbe(
      execFileSync('sh', ['-s'], {
        input: probeScript(install, 'root', process.execPath, join(dir, 'units')),
        encoding: 'utf8',
      }),
    );
    expect(probed.files.has('etc/strategy/mine.mjs')).toBe(true);
    setStates(
      new Map([
        ['h', fresh],
        ['t', { ...fresh, files: probed.files }],
      ]),
    );
    const again = await deploy.plan(release);
    expect(again.hosts.find((h) => h.desired.host.name === 't')?.plan.writeFiles).toEqual([]);
    expect(fleet.observed).toBe(3);
  });

  it('ships the files of its own a module imports, where its imports find them on the host, and removes those it no longer imports', async () => {
    // Its own name: this process's registry already holds the fixture's from the test above.
    const { dir, install, shell, deploy, setStates } = fleetFolder({
      strategyModule: 'strategies/mine.mjs',
      strategy: 'split-module',
    });
    // The definition lives in a folder below the module, with its defaults in a JSON file beside it.
    mkdirSync(join(dir, 'strategies', 'lib'));
    copyFileSync(FIXTURE, join(dir, 'strategies', 'lib', 'definition.mjs'));
    writeFileSync(join(dir, 'strategies', 'lib', 'defaults.json'), '{ "sellAtBar": 3 }\n');
    writeFileSync(
      join(dir, 'strategies', 'mine.mjs'),
      [
        "import define from './lib/definition.mjs';",
        "import defaults from './lib/defaults.json' with { type: 'json' };",
        'export default (kit) => {',
        '  const definition = define(kit);',
        "  return { ...definition, name: 'split-module', summary: definition.summary + ', selling at bar ' + defaults.sellAtBar };",
        '};',
      ].join('\n'),
    );
    await deploy.apply(release);

    const sent = shell.sent.get('t') ?? new Map<string, string>();
    expect([...sent.keys()].filter((p) => p.startsWith('files/etc/strategy/')).sort()).toEqual([
      'files/etc/strategy/lib/defaults.json',
      'files/etc/strategy/lib/definition.mjs',
      'files/etc/strategy/mine.mjs',
      'files/etc/strategy/package.json',
    ]);
    const staging = stagingDir('test', 't');
    const [prepare] = shell.scripts('t', 'prepare');
    expect(prepare).toContain(
      `install -D -o root -g tributary -m 0640 ${staging}/files/etc/strategy/lib/definition.mjs ${install}/etc/strategy/lib/definition.mjs`,
    );

    // On the host, as the prepare step installs them, the trader imports the copy with its files.
    const chosen = await startOnHost(sent, install);
    expect(chosen.name).toBe('split-module');
    // The summary is read from the JSON file beside the definition.
    const registered = strategyDefinitions().find((d) => d.name === 'split-module');
    expect(registered?.summary).toMatch(/selling at bar 3$/);

    // A package an operator installed by hand beside the copy is theirs: never listed, never removed.
    const handInstalled = join(install, 'etc', 'strategy', 'node_modules', 'extra', 'index.js');
    mkdirSync(dirname(handInstalled), { recursive: true });
    writeFileSync(handInstalled, 'export default 1;\n');
    // The probe sees the files in the folder below too: the next plan writes nothing.
    const probe = () =>
      parseProbe(
        execFileSync('sh', ['-s'], {
          input: probeScript(install, 'root', process.execPath, join(dir, 'units')),
          encoding: 'utf8',
        }),
      );
    setStates(
      new Map([
        ['h', fresh],
        ['t', { ...fresh, files: probe().files }],
      ]),
    );
    const again = await deploy.plan(release);
    expect(again.hosts.find((h) => h.desired.host.name === 't')?.plan.writeFiles).toEqual([]);

    // The module stops importing its defaults: the copy goes, and its folder with its last file.
    writeFileSync(
      join(dir, 'strategies', 'mine.mjs'),
      "import define from './lib/definition.mjs';\nexport default (kit) => ({ ...define(kit), name: 'split-module' });\n",
    );
    const changed = (await deploy.plan(release)).hosts.find((h) => h.desired.host.name === 't')?.plan;
    expect(changed?.writeFiles).toEqual(['etc/strategy/mine.mjs']);
    expect(changed?.removeFiles).toEqual(['etc/strategy/lib/defaults.json']);
  });

  it('refuses a module whose imports a trader host could not resolve from the shipped files, having reached no host', async () => {
    const { dir, shell, fleet, deploy } = fleetFolder({ strategyModule: 'strategies/mine.mjs' });
    const module = join(dir, 'strategies', 'mine.mjs');
    writeFileSync(
      module,
      `import { mean } from 'node:path';\nimport define from '../shared/definition.mjs';\nexport default define;\n`,
    );
    mkdirSync(join(dir, 'shared'));
    copyFileSync(FIXTURE, join(dir, 'shared', 'definition.mjs'));
    const error = await deploy.apply(release).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlanError);
    // The module imports (its folder's parent is there on this machine): only the shipping refuses it.
    expect((error as PlanError).problems).toEqual([
      `config.trader.strategyModule: ${module} imports ${join(dir, 'shared', 'definition.mjs')}, outside the module's folder ${join(dir, 'strategies')}: the deploy ships that folder and what is below it (the deploy ships the module's own files to each trader host)`,
    ]);
    expect(shell.ran).toEqual([]);
    expect(fleet.observed).toBe(0);
  });

  it('refuses a module that is missing or not .js/.mjs, naming the field and the file, having reached no host', async () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>, (dir: string) => string]> = [
      [
        { strategyModule: 'strategies/missing.mjs' },
        {},
        (dir) =>
          `config.trader.strategyModule: ${join(dir, 'strategies', 'missing.mjs')} does not exist (the deploy ships this file to each trader host)`,
      ],
      [
        { strategyModule: 'strategies/mine.mjs' },
        { config: { trader: { strategyModule: './strategies/mine.ts' } } },
        (dir) =>
          `hosts[1].config.trader.strategyModule: ${join(dir, 'strategies', 'mine.ts')} must be a .js or .mjs file (an ES module) (the deploy ships this file to each trader host)`,
      ],
    ];
    for (const [trader, traderHost, problem] of cases) {
      const { dir, shell, fleet, deploy } = fleetFolder(trader, traderHost);
      const error = await deploy.apply(release).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PlanError);
      expect((error as PlanError).problems).toEqual([problem(dir)]);
      expect(shell.ran).toEqual([]);
      expect(fleet.observed).toBe(0);
    }
  });

  it('refuses a module the trader host would refuse to start with, naming the host and the field, having reached no host', async () => {
    const cases: Array<{
      trader: Record<string, unknown>;
      traderHost?: Record<string, unknown>;
      problem: (dir: string) => RegExp;
    }> = [
      {
        // A syntax error: the trader could not import it.
        trader: { strategyModule: 'strategies/broken.mjs' },
        problem: (dir) =>
          new RegExp(
            `^t: trader\\.strategyModule: ${escaped(join(dir, 'strategies', 'broken.mjs'))}: cannot be imported: .*\\(config and hosts\\[1\\]\\.config merged; its trader would refuse to start\\)$`,
          ),
      },
      {
        // The host's configuration names another strategy than the module defines.
        trader: { strategyModule: 'strategies/mine.mjs' },
        traderHost: { config: { trader: { strategy: 'buy-and-hold' } } },
        problem: (dir) =>
          new RegExp(
            `^t: trader\\.strategy: is "buy-and-hold", but ${escaped(join(dir, 'strategies', 'mine.mjs'))} defines strategy "buy-first-sell-fifth" \\(`,
          ),
      },
      {
        // A setting the module's schema does not know, and one it refuses.
        trader: { strategyModule: 'strategies/mine.mjs', strategyConfig: { quantity: 'ten', sellAfter: 3 } },
        problem: () =>
          /^t: trader\.strategyConfig\.(quantity: a decimal number written as a string|sellAfter: is not a known setting) \(/,
      },
    ];
    for (const { trader, traderHost, problem } of cases) {
      const { dir, shell, fleet, deploy } = fleetFolder(trader, traderHost);
      writeFileSync(join(dir, 'strategies', 'broken.mjs'), 'export default { name: "broken",\n');
      const error = await deploy.apply(release).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PlanError);
      const problems = (error as PlanError).problems;
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) expect(p).toMatch(problem(dir));
      // The hub host names the module too (the fleet-wide config) but runs no trader: not checked.
      expect(problems.some((p) => p.startsWith('h:'))).toBe(false);
      expect(shell.ran).toEqual([]);
      expect(fleet.observed).toBe(0);
    }
  });
});

/**
 * Writes the files a host was sent where its prepare step installs them, then chooses the strategy
 * as its trader does at start, from the configuration written there.
 */
async function startOnHost(sent: ReadonlyMap<string, string>, install: string) {
  for (const [path, text] of sent) {
    if (!path.startsWith('files/')) continue;
    const file = join(install, path.slice('files/'.length));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  const onHost = loadConfig(join(install, 'etc', 'config.json'), {});
  return chooseConfiguredStrategy(onHost.config.trader, {}, 'host t');
}

/** `text` with the characters a regular expression treats specially escaped. */
function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
