// The fleet test (`npm run test:fleet`, root only): three machines as network namespaces with sshd, deployed, changed, rolled back and one taken down, all checked through the hub.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { DeployState } from '../../ts/deploy/deploy-state.js';
import { loadInventory } from '../../ts/deploy/inventory.js';
import type { HubStatus } from '../../ts/hub/hub-status.js';
import { readFullStatus } from '../../ts/hub/status-client.js';
import { silentLogger } from '../../ts/log/logger.js';
import { packageRoot } from '../../ts/package-root.js';
import { type SshTestHost, sshHostsUnavailable, startSshHosts } from './testing/ssh-test-hosts.js';

const run = promisify(execFile);
const unitRunner = join(packageRoot, 'dist', 'ts', 'deploy', 'testing', 'unit-runner.js');
const cli = join(packageRoot, 'bin', 'tributary.js');

const unavailable = sshHostsUnavailable(unitRunner);
if (unavailable !== undefined) process.stderr.write(`fleet test skipped: ${unavailable}\n`);
const systemdRuns = spawnSync('sh', ['-c', 'ps -o comm= 1']).stdout?.toString().trim() === 'systemd';

/** Runs `tributary <args>`; resolves with its exit code and output (never throws for a non-zero exit). */
async function tributary(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 600_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A fill row of the recorder's store: where it came from and the exchange's time of it. */
interface RecordedFill {
  symbol: string;
  source: string;
  time: number;
}

/** The fills in a recorder's SQLite store (none while the file does not exist yet). */
function recordedFills(file: string): RecordedFill[] {
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT symbol, source, time FROM fills ORDER BY time').all() as RecordedFill[];
  } finally {
    db.close();
  }
}

/**
 * When the order did not go through or was not recorded: what the hub and the peers on the way
 * reported, and the last lines of the trading host's unit logs (the failure says where it stopped).
 */
function reportOrderPath(
  status: HubStatus,
  hosts: readonly SshTestHost[],
  fills: readonly RecordedFill[],
): void {
  const out: string[] = [
    'fleet test: the order was not placed or not recorded from the stream; what the hub saw:',
  ];
  out.push(`  fills in the recorder's store: ${JSON.stringify(fills)}`);
  out.push(`  events: ${JSON.stringify(status.events)}`);
  for (const peer of ['gateway-0', 'user-stream-0', 'trader-0', 'recorder-0']) {
    const p = status.peers.find((x) => x.peer === peer);
    out.push(
      `  ${peer}: restarts ${p?.restarts ?? '?'}, reported at ${p?.reportedAt ?? 'never'}: ${JSON.stringify(p?.report)}`,
    );
  }
  const logs = join(hosts[2]?.opt ?? '', '.unit-runner');
  for (const unit of ['user-stream-0', 'trader-0', 'recorder-0']) {
    const file = join(logs, `tributary-${unit}.service.log`);
    if (!existsSync(file)) continue;
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    out.push(`  ${unit} log (last 30 of ${lines.length} lines):`, ...lines.slice(-30).map((l) => `    ${l}`));
  }
  process.stderr.write(`${out.join('\n')}\n`);
}

describe.skipIf(unavailable !== undefined)('a fleet on three machines (network namespaces with sshd)', () => {
  let dir: string;
  let hosts: SshTestHost[];
  let closeHosts: () => void;
  let sim: RunningSimulator;
  let release1: string;
  let release2: string;
  let identityFile: string;
  let hostAddress: string;
  const apiKey = randomBytes(16).toString('hex');
  const apiSecret = randomBytes(32).toString('hex');
  const ownerToken = randomBytes(18).toString('hex');

  function writeInventory(
    name: string,
    services: [Record<string, number>, Record<string, number>, Record<string, number>],
  ) {
    const file = join(dir, name);
    writeFileSync(
      file,
      JSON.stringify(
        {
          fleet: 'test',
          ssh: {
            user: 'root',
            identityFile,
            options: ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'LogLevel=ERROR'],
          },
          hub: { host: 'hub-1', port: 7700 },
          secretsFile: 'secrets.env',
          healthTimeoutMs: 90_000,
          config: {
            exchange: { kind: 'simulator', restUrl: sim.restUrl, wsUrl: sim.wsUrl },
            collectors: { kline: { intervalMs: 500, intervals: ['1m'] }, tick: { maxPollsPerSecond: 2 } },
            trader: { intervals: ['1m'] },
          },
          hosts: [
            { name: 'hub-1', address: hosts[0]?.address, services: services[0] },
            { name: 'col-1', address: hosts[1]?.address, services: services[1] },
            {
              name: 'trd-1',
              address: hosts[2]?.address,
              services: services[2],
              // The trading host: a testnet trader at the simulator, its orders through the gateway
              // (the demo buys at the first closed bar); the dashboard open to the test on its address.
              config: {
                exchange: { kind: 'testnet', restUrl: sim.restUrl, wsUrl: sim.wsUrl },
                trader: {
                  mode: 'testnet',
                  strategy: 'demo',
                  strategyConfig: {
                    symbols: ['BTCUSDT'],
                    openAbove: '-1',
                    closeBelow: '-1',
                    notional: '200',
                  },
                },
                risk: { stopLoss: { enabled: false } },
                dashboard: { host: hosts[2]?.address },
              },
            },
          ],
        },
        null,
        2,
      ),
    );
    return file;
  }

  async function fullStatus(inventoryFile: string): Promise<HubStatus> {
    const inventory = loadInventory(inventoryFile);
    const state = new DeployState(inventory, dir);
    const key = state.deployKey();
    if (key === undefined) throw new Error('the deploy has no key');
    return readFullStatus({ hubUrl: `wss://${hosts[0]?.address}:7700`, key, tls: await state.clientTls() });
  }

  const processes = (status: HubStatus) =>
    Object.fromEntries(
      status.peers.map((p) => [p.peer, `${p.agent?.host}/${p.agent?.pid}@${p.agent?.startedAt}`]),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-fleet-'));
    const started = await startSshHosts(join(dir, 'hosts'), 'fl', 3, unitRunner);
    hosts = started.hosts;
    identityFile = started.identityFile;
    hostAddress = started.network.hostAddress;
    closeHosts = started.close;
    sim = await startSimulator(
      {
        host: hostAddress,
        port: 0,
        seed: 11,
        accounts: [{ apiKey, apiSecret, balances: { USDT: '10000' } }],
        source: { kind: 'random-walk', tradesPerSecond: 20 },
      },
      { logger: silentLogger('sim') },
    );
    writeFileSync(
      join(dir, 'secrets.env'),
      `BINANCE_API_KEY=${apiKey}\nBINANCE_API_SECRET=${apiSecret}\nTRIBUTARY_OWNER_TOKEN=${ownerToken}\n`,
      { mode: 0o600 },
    );
    // Release 1 as a user builds it; release 2 is the same files under another id (a new version to roll back from).
    const built = await tributary(['deploy', 'release', '--out', join(dir, 'releases')]);
    expect(built.code, built.stderr).toBe(0);
    release1 = built.stdout.trim().split('\n')[0] ?? '';
    const unpacked = join(dir, 'r2');
    mkdirSync(unpacked);
    await run('tar', ['-xzf', release1, '-C', unpacked]);
    const manifest = JSON.parse((await run('cat', [join(unpacked, 'package', 'release.json')])).stdout) as {
      id: string;
    };
    manifest.id = 'feedfacecafe0002';
    writeFileSync(join(unpacked, 'package', 'release.json'), JSON.stringify(manifest));
    release2 = join(dir, 'releases', 'tributary-second.tgz');
    await run('tar', ['-czf', release2, '-C', unpacked, 'package']);
  }, 300_000);

  afterAll(async () => {
    closeHosts?.();
    await sim?.stop();
    // TRIBUTARY_FLEET_KEEP=1 keeps the hosts' folders (install, units, the unit runner's logs) to look at.
    if (dir !== undefined && process.env.TRIBUTARY_FLEET_KEEP === '1')
      process.stderr.write(`fleet test: kept ${dir}\n`);
    else if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('deploys hub, gateway, collectors, a trader through the gateway, recorder, publisher and dashboard, idempotently, changes one host, rolls back, and refuses a down host', async () => {
    if (!systemdRuns) {
      process.stderr.write(
        'fleet test: systemd is not PID 1 here, so units are not run by systemd: each unit file is checked with `systemd-analyze verify` and run by the unit runner (ExecStart as User with EnvironmentFile, WorkingDirectory and Restart; the sandboxing directives are not applied)\n',
      );
    }
    // Where the time goes (the test reports it; CI machines differ too much to assert it).
    const started = Date.now();
    const lap = (step: string) =>
      process.stderr.write(`fleet test: ${step} at ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    const trading = { trader: 1, account: 1, 'user-stream': 1, recorder: 1, publisher: 1, dashboard: 1 };
    const first = writeInventory('fleet.json', [
      { hub: 1, universe: 1, kline: 1, gateway: 1 },
      { kline: 1, tick: 1 },
      trading,
    ]);

    const plan = await tributary(['deploy', 'plan', '-i', first, '--release', release1]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/hub-1:\n {2}create the service user\n {2}upload release/);
    expect(plan.stdout).toMatch(/start trader-0/);

    // 1. The first apply.
    const apply = await tributary(['deploy', 'apply', '-i', first, '--release', release1]);
    expect(apply.code, `${apply.stdout}\n${apply.stderr}`).toBe(0);
    expect(apply.stdout).toMatch(/Healthy: the hub reports all 11 peers/);
    let status = await fullStatus(first);
    expect(status.tls).toBe(true);
    const where = Object.fromEntries(status.peers.map((p) => [p.peer, p.agent?.host]));
    expect(where).toEqual({
      'universe-0': 'hub-1',
      'kline-0': 'hub-1',
      'gateway-0': 'hub-1',
      'kline-1': 'col-1',
      'tick-0': 'col-1',
      'trader-0': 'trd-1',
      'account-0': 'trd-1',
      'user-stream-0': 'trd-1',
      'recorder-0': 'trd-1',
      'publisher-0': 'trd-1',
      'dashboard-0': 'trd-1',
    });
    // The fleet table after the apply (what `tributary status` prints) has a row for each.
    for (const peer of ['gateway-0', 'recorder-0', 'publisher-0', 'dashboard-0'])
      expect(apply.stdout).toMatch(new RegExp(`^(hub-1|trd-1)\\s+viewer\\s+\\S+\\s+${peer}\\s`, 'm'));
    // The gateway speaks HTTPS beside the hub; the dashboard serves its page and, with the owner's
    // password from the secrets file, the owner view.
    const gatewayReport = status.peers.find((p) => p.peer === 'gateway-0')?.report;
    expect(gatewayReport?.url).toBe(`https://${hosts[0]?.address}:7710`);
    const dashboard = `http://${hosts[2]?.address}:7780`;
    // The page is there once the publisher's first round wrote it (every 5 s).
    let page = 0;
    for (const until = Date.now() + 20_000; page !== 200 && Date.now() < until; ) {
      page = (await fetch(`${dashboard}/`)).status;
      if (page !== 200) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(page).toBe(200);
    expect((await fetch(`${dashboard}/owner/`)).status).toBe(401);
    const owner = await fetch(`${dashboard}/owner/`, { headers: { authorization: `Bearer ${ownerToken}` } });
    expect(owner.status).toBe(200);
    // Peers reach the hub from their own machines' addresses, over TLS.
    expect(status.peers.find((p) => p.peer === 'trader-0')?.remote).toContain(hosts[2]?.address);
    // Data flows to the trader: its own report counts frames applied to its book.
    const deadline = Date.now() + 40_000;
    let framesApplied = 0;
    while (Date.now() < deadline) {
      status = await fullStatus(first);
      const report = status.peers.find((p) => p.peer === 'trader-0')?.report;
      framesApplied = typeof report?.framesApplied === 'number' ? report.framesApplied : 0;
      if (framesApplied > 0 && report?.synced === true) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(framesApplied).toBeGreaterThan(0);

    // Secrets in 0600 env files; services run as the non-root user; units pass systemd-analyze.
    const hub = hosts[0] as SshTestHost;
    for (const file of readdirSync(join(hub.opt, 'tributary', 'etc', 'env'))) {
      expect(statSync(join(hub.opt, 'tributary', 'etc', 'env', file)).mode & 0o777, file).toBe(0o600);
    }
    for (const peer of status.peers) {
      const uid = spawnSync('ps', ['-o', 'uid=', '-p', String(peer.agent?.pid)], {
        encoding: 'utf8',
      }).stdout.trim();
      expect(Number(uid), peer.peer).toBeGreaterThan(0);
    }
    const unitsDir = join(hub.etc, 'systemd', 'system');
    const units = readdirSync(unitsDir).filter((f) => f.startsWith('tributary-'));
    expect(units.sort()).toEqual([
      'tributary-gateway-0.service',
      'tributary-hub.service',
      'tributary-kline-0.service',
      'tributary-universe-0.service',
    ]);
    const tradeUnitsDir = join((hosts[2] as SshTestHost).etc, 'systemd', 'system');
    const tradeUnits = readdirSync(tradeUnitsDir).filter((f) => f.startsWith('tributary-'));
    expect(tradeUnits).toHaveLength(6);
    // systemd-analyze warns (and still exits 0) on unknown keys and bad values: none may appear.
    const verify = spawnSync(
      'systemd-analyze',
      ['verify', ...units.map((u) => join(unitsDir, u)), ...tradeUnits.map((u) => join(tradeUnitsDir, u))],
      { encoding: 'utf8' },
    );
    expect(verify.status).toBe(0);
    expect(verify.stderr.trim()).toBe('');

    // `tributary status` from this machine, with the deploy's key and certificate.
    const inventory = loadInventory(first);
    const deployState = new DeployState(inventory, dir);
    const statusConfig = join(dir, 'status-config.json');
    writeFileSync(
      statusConfig,
      JSON.stringify({
        hub: {
          url: `wss://${hosts[0]?.address}:7700`,
          tls: {
            ca: join(deployState.dir, 'ca', 'ca.crt'),
            cert: join(deployState.dir, 'certs', 'deploy.crt'),
            key: join(deployState.dir, 'certs', 'deploy.key'),
          },
        },
      }),
    );
    const deployKey = deployState.deployKey();
    const fleetView = await tributary(['status', '--config', statusConfig], {
      TRIBUTARY_HUB_KEY: `${deployKey?.id}:${deployKey?.secret}`,
    });
    expect(fleetView.code, fleetView.stderr).toBe(0);
    const header = fleetView.stdout.split('\n').find((l) => l.startsWith('HOST '));
    expect(header).toMatch(
      /^HOST\s+ROLE\s+KIND\s+PEER\s+INST\s+LAST SEEN\s+DATA AGE\s+RESTARTS\s+VERSION\s+NODE$/,
    );
    expect(fleetView.stdout).toMatch(/^trd-1\s+viewer\s+dashboard\s+dashboard-0\s+0\s/m);
    expect(fleetView.stdout).toMatch(/^col-1\s+collector\s+tick\s+tick-0\s+0\s+\S+\s+\d/m);
    // Weight per host against its limit: every host of the fleet has a row.
    expect(fleetView.stdout).toMatch(/^HOST\s+USED\s+LIMIT\s+SHARE\b/m);
    for (const host of ['hub-1', 'col-1', 'trd-1'])
      expect(fleetView.stdout).toMatch(new RegExp(`^${host}\\s+\\d+\\s+\\d+\\s+\\d+%`, 'm'));

    lap('first apply checked');
    // 2. The same inventory again changes nothing: same processes.
    const before = processes(status);
    const again = await tributary(['deploy', 'apply', '-i', first, '--release', release1]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Nothing to change\./);
    expect(processes(await fullStatus(first))).toEqual(before);

    // The trader's order went through the gateway (claimed and placed there), and its fill came
    // back through the user-stream collector and the hub into the recorder's store. The units of a
    // host start in no set order: when a bar closed between the trader's start and the recorder's,
    // the recorder was not yet subscribed to the fill's event and took the fill from the REST
    // reconciliation it runs on joining the hub. Only then may the fill's row come from REST.
    const records = join((hosts[2] as SshTestHost).opt, 'tributary', 'var', 'records', 'records.sqlite');
    const orderBy = Date.now() + 100_000;
    let placed = 0;
    let fills: RecordedFill[] = [];
    while (Date.now() < orderBy) {
      status = await fullStatus(first);
      const claims = status.peers.find((p) => p.peer === 'gateway-0')?.report?.claims as
        | { placed?: number }
        | undefined;
      placed = claims?.placed ?? 0;
      fills = recordedFills(records);
      if (placed > 0 && fills.length > 0) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    if (placed === 0 || fills.length === 0) reportOrderPath(status, hosts, fills);
    expect(placed).toBeGreaterThan(0);
    expect(fills.map((f) => f.symbol)).toContain('BTCUSDT');
    // A fill from REST is the recorder's by design only when it was made before the recorder joined.
    const recorderJoined = status.peers.find((p) => p.peer === 'recorder-0')?.connectedAt ?? 0;
    const unheard = fills.filter((f) => f.source !== 'stream' && f.time >= recorderJoined + 2_000);
    if (unheard.length > 0) reportOrderPath(status, hosts, fills);
    expect(unheard, 'fills made while the recorder was subscribed are recorded from the stream').toEqual([]);
    // The publisher's first round is its own (it waits for its hub connection first), not tied to
    // when the order path above completed: wait for it, bounded.
    const roundsBy = Date.now() + 30_000;
    let rounds = 0;
    while (Date.now() < roundsBy) {
      status = await fullStatus(first);
      rounds = Number(status.peers.find((p) => p.peer === 'publisher-0')?.report?.rounds ?? 0);
      if (rounds > 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(rounds).toBeGreaterThan(0);

    lap('same inventory again, order through the gateway');
    // 3. One collector fewer on hub-1, one more on col-1, and trd-1 down to its trader: only those
    // change (the removed services' keys are revoked).
    const changed = writeInventory('fleet-2.json', [
      { hub: 1, universe: 1, gateway: 1 },
      { kline: 2, tick: 1 },
      { trader: 1 },
    ]);
    const apply2 = await tributary(['deploy', 'apply', '-i', changed, '--release', release1]);
    expect(apply2.code, `${apply2.stdout}\n${apply2.stderr}`).toBe(0);
    expect(apply2.stdout).toMatch(/hub-1:\n {2}stop and remove kline-0/);
    expect(apply2.stdout).toMatch(/col-1:\n(?: {2}.*\n)* {2}start kline-0/);
    expect(apply2.stdout).toMatch(/trd-1:\n(?: {2}.*\n)* {2}stop and remove dashboard-0/);
    expect(apply2.stdout).toMatch(/revoked 6 hub key\(s\)/);
    status = await fullStatus(changed);
    const after = processes(status);
    expect(after['kline-0']).toMatch(/^col-1\//);
    for (const same of ['universe-0', 'kline-1', 'tick-0', 'trader-0', 'gateway-0'])
      expect(after[same], same).toBe(before[same]);
    expect(
      readdirSync(unitsDir)
        .filter((f) => f.startsWith('tributary-'))
        .sort(),
    ).toEqual(['tributary-gateway-0.service', 'tributary-hub.service', 'tributary-universe-0.service']);

    lap('changed inventory');
    // 4. A new release everywhere, then rollback to the first.
    const upgrade = await tributary(['deploy', 'apply', '-i', changed, '--release', release2]);
    expect(upgrade.code, `${upgrade.stdout}\n${upgrade.stderr}`).toBe(0);
    status = await fullStatus(changed);
    expect(status.peers.every((p) => p.agent?.version.endsWith('+feedfacecafe0002'))).toBe(true);
    const rollback = await tributary(['deploy', 'rollback', '-i', changed]);
    expect(rollback.code, `${rollback.stdout}\n${rollback.stderr}`).toBe(0);
    status = await fullStatus(changed);
    const id1 = /tributary-[^-]+-([0-9a-f]{16})\.tgz$/.exec(release1)?.[1] ?? '';
    expect(status.software.version.endsWith(`+${id1}`)).toBe(true);
    expect(status.peers.map((p) => p.agent?.version.endsWith(`+${id1}`))).toEqual(
      status.peers.map(() => true),
    );

    lap('upgrade and rollback');
    // 5. A host that is down: a clear error, and nothing changed on any host.
    const col = hosts[1] as SshTestHost;
    await col.stopSshd();
    const beforeDown = processes(status);
    const withDown = writeInventory('fleet-3.json', [
      { hub: 1, universe: 1, gateway: 1 },
      { kline: 2, tick: 1 },
      { trader: 1, tick: 1 },
    ]);
    const refused = await tributary(['deploy', 'apply', '-i', withDown, '--release', release2]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot reach a host; nothing was changed on any host/);
    expect(refused.stderr).toMatch(
      new RegExp(`col-1: probe: cannot reach ${col.address.replace(/\./g, '\\.')} over ssh`),
    );
    expect(
      readdirSync(join((hosts[2] as SshTestHost).etc, 'systemd', 'system')).filter((f) =>
        f.startsWith('tributary-'),
      ),
    ).toEqual(['tributary-trader-0.service']);
    expect(processes(await fullStatus(changed))).toEqual(beforeDown);
    const fleetStatus = await tributary(['deploy', 'status', '-i', withDown]);
    expect(fleetStatus.code).toBe(1);
    expect(fleetStatus.stdout).toMatch(/^col-1: probe: cannot reach/m);
    expect(fleetStatus.stdout).toMatch(/trader-0/);
    await col.startSshd();
    lap('down host refused');
  }, 900_000);
});
