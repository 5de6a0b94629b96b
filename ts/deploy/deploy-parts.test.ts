import { describe, expect, it } from 'vitest';
import type { HubStatus } from '../hub/hub-status.js';
import { healthProblems } from './health-check.js';
import { parseProbe } from './host-probe.js';
import { isOtherPlatformBinary } from './release-artifact.js';
import { serviceInstance, serviceNamed, unitFile, writablePaths } from './systemd-unit.js';
import { parseUnit } from './testing/unit-runner.js';

describe('host probe output', () => {
  it('reads every fact, and refuses output cut short', () => {
    const state = parseProbe(
      [
        'node 22.12.0 127',
        'user yes',
        'rsync no',
        'systemd yes',
        'current 0123456789abcdef',
        'previous fedcba9876543210',
        'release 0123456789abcdef',
        'release fedcba9876543210',
        `unit kline-3 ${'a'.repeat(64)} active`,
        `unit hub ${'b'.repeat(64)} failed`,
        `file etc/config.json ${'c'.repeat(64)}`,
        `env kline-3 ${'d'.repeat(64)} hk0123456789abcdef`,
        `env hub ${'e'.repeat(64)} none`,
        'end',
      ].join('\n'),
    );
    expect(state.node).toEqual({ version: '22.12.0', abi: '127' });
    expect([state.userExists, state.hasRsync, state.hasSystemd]).toEqual([true, false, true]);
    expect([state.current, state.previous, state.releases]).toEqual([
      '0123456789abcdef',
      'fedcba9876543210',
      ['0123456789abcdef', 'fedcba9876543210'],
    ]);
    expect(state.units.get('hub')?.state).toBe('failed');
    expect(state.envs.get('kline-3')?.keyId).toBe('hk0123456789abcdef');
    expect(state.envs.get('hub')?.keyId).toBeUndefined();
    expect(() => parseProbe('node none\nuser no\n')).toThrow(/cut short/);
  });
});

describe('release contents', () => {
  it('drops other platforms prebuilt binaries only', () => {
    expect(
      isOtherPlatformBinary('node_modules/@trufflesuite/uws-js-unofficial/binaries/uws_linux_x64_115.node'),
    ).toBe(false);
    expect(
      isOtherPlatformBinary(
        'node_modules/@trufflesuite/uws-js-unofficial/binaries/uws_darwin_arm64_115.node',
      ),
    ).toBe(true);
    expect(
      isOtherPlatformBinary('node_modules/@trufflesuite/uws-js-unofficial/binaries/uws_linux_arm64_115.node'),
    ).toBe(true);
    expect(isOtherPlatformBinary('node_modules/bufferutil/prebuilds/linux-x64/bufferutil.node')).toBe(false);
    expect(isOtherPlatformBinary('node_modules/bufferutil/prebuilds/darwin-x64+arm64/bufferutil.node')).toBe(
      true,
    );
    expect(isOtherPlatformBinary('node_modules/bufferutil/prebuilds/win32-x64/bufferutil.node')).toBe(true);
    expect(isOtherPlatformBinary('bindings/tributary.linux-x64-gnu.node')).toBe(false);
  });
});

describe('unit files', () => {
  it('run the service as the fleet user with its env file, and the unit runner reads them back', () => {
    const text = unitFile(
      serviceInstance('kline', 3),
      { dir: '/opt/tributary', user: 'tributary', node: '/usr/bin/node', unitDir: '/etc/systemd/system' },
      'prod',
    );
    expect(text).toMatch(/^User=tributary$/m);
    expect(text).toMatch(/^NoNewPrivileges=true$/m);
    const unit = parseUnit(text);
    expect(unit.execStart).toEqual([
      '/usr/bin/node',
      '/opt/tributary/current/bin/tributary.js',
      'collect',
      'kline',
      '--config',
      '/opt/tributary/etc/config.json',
      '--instance',
      '3',
    ]);
    expect(unit).toMatchObject({
      user: 'tributary',
      workingDirectory: '/opt/tributary/var/kline-3',
      environmentFile: '/opt/tributary/etc/env/kline-3.env',
      restart: 'always',
      restartSec: 1,
      startLimitBurst: 5,
    });
  });
});

describe('the services of the owner and the gateway', () => {
  const layout = { dir: '/opt/t', user: 'tributary', node: '/usr/bin/node', unitDir: '/etc/systemd/system' };
  const exec = (kind: Parameters<typeof serviceInstance>[0], traders: number[] = [2, 5]) =>
    parseUnit(unitFile(serviceInstance(kind, 1), layout, 'prod', traders)).execStart.slice(2);

  it('run with their instance (their hub peer name), the gateway on the hub key file, the owner tools over the host state', () => {
    expect(exec('gateway')).toEqual([
      'gateway',
      '--config',
      '/opt/t/etc/config.json',
      '--keys',
      '/opt/t/var/hub/hub-keys.json',
      '--instance',
      '1',
    ]);
    expect(exec('publisher')).toEqual([
      'publish',
      '--config',
      '/opt/t/etc/config.json',
      '--instance',
      '1',
      '--state-root',
      '/opt/t/var',
      '--traders',
      '2,5',
    ]);
    expect(exec('dashboard', [])).toEqual([
      'dashboard',
      '--config',
      '/opt/t/etc/config.json',
      '--instance',
      '1',
      '--state-root',
      '/opt/t/var',
      '--traders',
      'none',
    ]);
    expect(exec('recorder')).toEqual(['record', '--config', '/opt/t/etc/config.json', '--instance', '1']);
  });

  it('may write their own folder, and the host records store and publish folder where they share them', () => {
    expect(writablePaths(serviceInstance('gateway', 0), '/opt/t')).toEqual(['/opt/t/var/gateway-0']);
    expect(writablePaths(serviceInstance('recorder', 0), '/opt/t')).toEqual([
      '/opt/t/var/recorder-0',
      '/opt/t/var/records',
    ]);
    expect(unitFile(serviceInstance('dashboard', 0), layout, 'prod')).toMatch(
      /^ReadWritePaths=\/opt\/t\/var\/dashboard-0 \/opt\/t\/var \/opt\/t\/var\/records \/opt\/t\/var\/public$/m,
    );
    expect(serviceNamed('dashboard-0')).toEqual(serviceInstance('dashboard', 0));
    expect(serviceNamed('hot-kline-12')).toEqual(serviceInstance('hot-kline', 12));
    expect(serviceNamed('hub')).toEqual(serviceInstance('hub', 0));
    expect(serviceNamed('nothing-1')).toBeUndefined();
  });
});

describe('health from the hub status', () => {
  const status = (peers: Array<{ peer: string; host: string; version: string; pid: number }>) =>
    ({
      software: { version: '0.1.0+aaaa', node: '22.12.0' },
      peers: peers.map((p) => ({
        peer: p.peer,
        agent: { host: p.host, version: p.version, node: '22.12.0', pid: p.pid, startedAt: 5 },
      })),
    }) as unknown as HubStatus;

  it('names missing peers, wrong versions, unreplaced processes and wrong hosts', () => {
    const expect_ = {
      version: '0.1.0+aaaa',
      timeoutMs: 1,
      peers: [
        { peer: 'kline-0', host: 'a', replaces: undefined },
        { peer: 'kline-1', host: 'b', replaces: '7@5' },
        { peer: 'trader-0', host: 'c', replaces: undefined },
        { peer: 'tick-0', host: 'b', replaces: undefined },
      ],
    };
    expect(
      healthProblems(
        status([
          { peer: 'kline-0', host: 'a', version: '0.1.0+aaaa', pid: 1 },
          { peer: 'kline-1', host: 'b', version: '0.1.0+aaaa', pid: 7 },
          { peer: 'trader-0', host: 'c', version: '0.1.0+bbbb', pid: 2 },
          { peer: 'tick-0', host: 'x', version: '0.1.0+aaaa', pid: 3 },
        ]),
        expect_,
      ),
    ).toEqual([
      'kline-1 on b: still the process from before the restart',
      'trader-0 on c: runs 0.1.0+bbbb, expected 0.1.0+aaaa',
      'tick-0: connected from host x, expected b',
    ]);
    expect(healthProblems(status([]), { ...expect_, peers: [expect_.peers[0] as never] })).toEqual([
      'kline-0 on a: not connected to the hub',
    ]);
  });
});
