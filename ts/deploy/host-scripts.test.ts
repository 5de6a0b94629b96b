import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostPlan } from './fleet-plan.js';
import { activateScript } from './host-scripts.js';
import type { InstallLayout } from './systemd-unit.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot)
  process.stderr.write('host-scripts.test: the activation script needs root (install -o); skipped\n');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const empty: HostPlan = {
  host: 'h',
  createUser: false,
  uploadRelease: false,
  switchRelease: false,
  writeFiles: [],
  removeFiles: [],
  writeEnvs: [],
  issueKeys: [],
  writeUnits: [],
  removeServices: [],
  revokeKeys: [],
  startServices: [],
  restartServices: [],
};

/** A host's folders in a temp dir, two releases, staged env and unit files, and a `systemctl` that logs. */
function host(failOn?: string) {
  const root = mkdtempSync(join(tmpdir(), 'tributary-activate-'));
  dirs.push(root);
  const layout: InstallLayout = {
    dir: join(root, 'opt'),
    user: 'daemon',
    node: '/usr/bin/node',
    unitDir: join(root, 'units'),
  };
  for (const d of [
    'opt/releases/r1',
    'opt/releases/r2',
    'opt/etc/env',
    'opt/var',
    'units',
    'stage/env',
    'stage/units',
    'bin',
  ]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  spawnSync('ln', ['-s', join(layout.dir, 'releases', 'r1'), join(layout.dir, 'current')]);
  for (const s of ['a-0', 'b-0']) {
    writeFileSync(join(root, 'stage', 'env', `${s}.env`), `# managed\nTRIBUTARY_HOST=h\n`);
    writeFileSync(join(root, 'stage', 'env', `${s}.key`), `TRIBUTARY_HUB_KEY=key-${s}:${'x'.repeat(40)}\n`);
    writeFileSync(join(root, 'stage', 'units', `tributary-${s}.service`), '[Service]\nExecStart=/bin/true\n');
  }
  const log = join(root, 'systemctl.log');
  writeFileSync(
    join(root, 'bin', 'systemctl'),
    `#!/bin/sh\necho "$*" >> ${log}\n${failOn === undefined ? '' : `[ "$1 $2" = "start ${failOn}" ] && exit 1\n`}exit 0\n`,
  );
  chmodSync(join(root, 'bin', 'systemctl'), 0o755);
  const run = (plan: HostPlan) =>
    spawnSync('sh', ['-s'], {
      input: activateScript(layout, plan, 'r2', join(root, 'stage')),
      encoding: 'utf8',
      env: { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH ?? ''}` },
    });
  const calls = () => readFileSync(log, 'utf8').trim().split('\n');
  return { root, layout, run, calls };
}

const startBoth: HostPlan = {
  ...empty,
  switchRelease: true,
  writeEnvs: ['a-0', 'b-0'],
  issueKeys: [
    { service: 'a-0', role: 'collector' },
    { service: 'b-0', role: 'collector' },
  ],
  writeUnits: ['a-0', 'b-0'],
  startServices: ['a-0', 'b-0'],
};

describe.skipIf(!isRoot)('the activation script', () => {
  it('writes env files (600, with the new key), units, switches the release and starts services', () => {
    const h = host();
    const result = h.run(startBoth);
    expect(result.status, result.stderr).toBe(0);
    expect(readlinkSync(join(h.layout.dir, 'current'))).toBe(join(h.layout.dir, 'releases', 'r2'));
    expect(readlinkSync(join(h.layout.dir, 'previous'))).toBe(join(h.layout.dir, 'releases', 'r1'));
    const env = join(h.layout.dir, 'etc', 'env', 'a-0.env');
    expect(statSync(env).mode & 0o777).toBe(0o600);
    expect(readFileSync(env, 'utf8')).toMatch(
      /^# managed\nTRIBUTARY_HOST=h\nTRIBUTARY_HUB_KEY=key-a-0:x+\n$/,
    );
    expect(h.calls()).toEqual([
      'daemon-reload',
      'enable tributary-a-0.service',
      'start tributary-a-0.service',
      'enable tributary-b-0.service',
      'start tributary-b-0.service',
    ]);

    // The staging folder is gone after a run; a later change of the managed part keeps the key the
    // file already had.
    expect(spawnSync('test', ['-e', join(h.root, 'stage')]).status).toBe(1);
    mkdirSync(join(h.root, 'stage', 'env'), { recursive: true });
    writeFileSync(join(h.root, 'stage', 'env', 'a-0.env'), '# managed\nTRIBUTARY_HOST=h2\n');
    const again = h.run({ ...empty, writeEnvs: ['a-0'], restartServices: ['a-0'] });
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(env, 'utf8')).toMatch(
      /^# managed\nTRIBUTARY_HOST=h2\nTRIBUTARY_HUB_KEY=key-a-0:x+\n$/,
    );
  });

  it('stops what it started and puts the release link back when a step fails', () => {
    const h = host('tributary-b-0.service');
    const result = h.run(startBoth);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(
      /activation failed .*stopping what this run started and restoring the release link/,
    );
    expect(h.calls()).toEqual([
      'daemon-reload',
      'enable tributary-a-0.service',
      'start tributary-a-0.service',
      'enable tributary-b-0.service',
      'start tributary-b-0.service',
      'disable --now tributary-a-0.service',
    ]);
    expect(readlinkSync(join(h.layout.dir, 'current'))).toBe(join(h.layout.dir, 'releases', 'r1'));
  });

  it('removes strategy module copies the configuration no longer names once the services run again, and keeps them when a restart fails', () => {
    for (const failOn of [undefined, 'tributary-b-0.service']) {
      const h = host(failOn);
      const strategy = join(h.layout.dir, 'etc', 'strategy');
      mkdirSync(strategy, { recursive: true });
      mkdirSync(join(strategy, 'lib'));
      mkdirSync(join(strategy, 'kept'));
      for (const name of ['old.mjs', 'package.json', 'lib/old.mjs', 'kept/new.mjs'])
        writeFileSync(join(strategy, name), 'x\n');
      // The fake systemctl also says whether the old copy is still there when it is called.
      const systemctl = join(h.root, 'bin', 'systemctl');
      writeFileSync(
        systemctl,
        readFileSync(systemctl, 'utf8').replace(
          '#!/bin/sh\n',
          `#!/bin/sh\n[ -e ${join(strategy, 'old.mjs')} ] && echo "old copy there" >> ${join(h.root, 'systemctl.log')}\n`,
        ),
      );
      const result = h.run({
        ...startBoth,
        removeFiles: ['etc/strategy/old.mjs', 'etc/strategy/package.json', 'etc/strategy/lib/old.mjs'],
      });
      const left = ['old.mjs', 'package.json', 'lib/old.mjs', 'lib', 'kept/new.mjs'].filter(
        (n) => spawnSync('test', ['-e', join(strategy, n)]).status === 0,
      );
      // Every systemctl call (the starts included) saw the old copy: it goes only after them.
      expect(h.calls().filter((c) => c === 'old copy there').length).toBe(
        h.calls().filter((c) => c !== 'old copy there').length,
      );
      if (failOn === undefined) {
        expect(result.status, result.stderr).toBe(0);
        // A folder goes with its last file; a file still named stays.
        expect(left).toEqual(['kept/new.mjs']);
      } else {
        expect(result.status).not.toBe(0);
        expect(left).toEqual(['old.mjs', 'package.json', 'lib/old.mjs', 'lib', 'kept/new.mjs']);
      }
    }
  });
});
