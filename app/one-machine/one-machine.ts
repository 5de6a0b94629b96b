// The whole system on one machine: the simulator (unless a real exchange is set), the hub, the gateway when enabled, every collector and the traders.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { COLLECTOR_KINDS, type CollectorKind } from '../../collectors/collector.js';
import type { RunningSimulator } from '../../sim/simulator.js';
import { startSimulator } from '../../sim/simulator.js';
import type { Alerter } from '../../ts/alerts/alerter.js';
import { alerterFromConfig } from '../../ts/alerts/create-alerter.js';
import { type LoadedConfig, loadConfig } from '../../ts/config/load-config.js';
import type { CollectorsConfig } from '../../ts/config/tributary-config.js';
import { hubClientTls } from '../../ts/hub/hub-link.js';
import { HubPresence } from '../../ts/hub/hub-presence.js';
import { credentialsToken, newKey, writeNewKeyFile } from '../../ts/hub/key-file.js';
import type { ActiveKey, HubKeyCredentials } from '../../ts/hub/peer-keys.js';
import { type Logger, registerSecret } from '../../ts/log/logger.js';
import { packageRoot } from '../../ts/package-root.js';
import { freePort } from '../../ts/process/free-port.js';
import { waitForHttp } from '../../ts/process/wait-for-http.js';
import {
  type ChildFailure,
  type ChildSpec,
  defaultOutput,
  ProcessSupervisor,
  type ProcessSupervisorOptions,
} from '../supervisor/process-supervisor.js';
import { checkStrategyModule } from '../venues/trader-strategy.js';
import { LogFile } from './log-file.js';

/** How a one-machine system is started. */
export interface OneMachineOptions {
  /** Configuration file (optional: defaults otherwise). */
  readonly configFile: string | undefined;
  /** Environment for overrides and secrets (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** Where children's output lines go (default: stdout/stderr with a `[name]` prefix). */
  readonly output?: ProcessSupervisorOptions['output'];
  /** How long the hub may take to answer `/status` (default 20 s). */
  readonly startTimeoutMs?: number;
  /** The system's log file (default `.tributary/logs/tributary.log` in {@link workDir}). */
  readonly logFile?: string;
  /**
   * The folder the children start in, so that the relative paths of their state (the records'
   * `.tributary/records.sqlite`, each trader's `.tributary/trader-<n>/`, the log) are under it;
   * default this process's current folder. A relative `configFile` is still read from the current
   * folder.
   */
  readonly workDir?: string;
}

/** What `start` reports, for the banner and for tests. */
export interface OneMachineInfo {
  readonly exchange: string;
  readonly simulator: RunningSimulator | undefined;
  readonly hubUrl: string;
  readonly statusUrl: string;
  /** The order gateway's address, when `gateway.enabled`. */
  readonly gatewayUrl: string | undefined;
  /** Child process names in start order. */
  readonly children: readonly string[];
  /** An admin key of this run (full status, subscriptions), also in {@link operatorKeyFile}. */
  readonly operatorKey: HubKeyCredentials;
  /** A 0600 file holding `TRIBUTARY_HUB_KEY=<id>:<secret>` of the operator key; removed on stop. */
  readonly operatorKeyFile: string;
  /** The dashboard's URL (public page at `/`, owner view at `/owner/`), when it runs. */
  readonly dashboardUrl: string | undefined;
  /**
   * A 0600 file holding `TRIBUTARY_OWNER_TOKEN=<password>` of the owner view when this run made
   * one (none was configured); removed on stop. Undefined when the password came from the secrets.
   */
  readonly ownerTokenFile: string | undefined;
  /** Every process's output lines, also written here (`[name] line`); the owner view shows its end. */
  readonly logFile: string;
}

/** Where each collector kind's settings live in the configuration. */
const SETTINGS_OF: Record<CollectorKind, keyof CollectorsConfig> = {
  kline: 'kline',
  'hot-kline': 'hotKline',
  tick: 'tick',
  stream: 'stream',
  account: 'account',
  'position-risk': 'positionRisk',
  'user-stream': 'userStream',
  income: 'income',
  universe: 'universe',
};

/** The collector instances configured for `kind`. */
function instancesOf(loaded: LoadedConfig, kind: CollectorKind): number {
  return loaded.config.collectors[SETTINGS_OF[kind]].instances;
}

/**
 * Starts, in order: the simulator inside this process (when `exchange.kind` is `simulator` and no
 * `exchange.restUrl` is set), the hub, the order gateway (when `gateway.enabled`), the universe
 * collector (it fills the hub's registry), the other collectors, the traders and the recorder (unless `recorder.enabled` is false), each as a child process of `tributary` restarted if it dies
 * (within the `supervisor` section's budget; past it `failure` resolves). Children get the exchange
 * address, the API keys and their own hub key through their environment, never their command
 * line, and stop by themselves if this process dies. The hub keys are made for this run (one per
 * child, for its name only, and an admin key for the operator) in a private temporary directory
 * removed on stop.
 */
export class OneMachineSystem {
  readonly #options: OneMachineOptions;
  readonly #loaded: LoadedConfig;
  readonly supervisor: ProcessSupervisor;
  /** The supervisor's alerter: children that die (restarted) and crash loops (given up on). */
  readonly alerts: Alerter;
  /** Resolves when a child is given up on (it kept dying); the system should then be stopped. */
  readonly failure: Promise<ChildFailure>;
  #simulator: RunningSimulator | undefined;
  #keyDir: string | undefined;
  #presence: HubPresence | undefined;
  #stopped = false;
  readonly #logFile: LogFile;
  readonly #workDir: string;
  readonly #configFile: string | undefined;

  /** Reads the configuration (throwing a `ConfigError` naming every bad field). */
  constructor(options: OneMachineOptions) {
    this.#options = options;
    this.#loaded = loadConfig(options.configFile, options.env ?? process.env);
    const settings = this.#loaded.config.supervisor;
    this.#workDir = resolve(options.workDir ?? '.');
    // Children get the configuration's path as given; made absolute, it names the same file from their folder.
    this.#configFile = options.configFile === undefined ? undefined : resolve(options.configFile);
    this.#logFile = new LogFile(
      resolve(this.#workDir, options.logFile ?? join('.tributary', 'logs', 'tributary.log')),
    );
    const print = options.output ?? defaultOutput;
    const output: ProcessSupervisorOptions['output'] = (name, line, stream) => {
      print(name, line, stream);
      this.#logFile.write(name, line);
    };
    let failed: (failure: ChildFailure) => void = () => {};
    this.failure = new Promise((resolve) => {
      failed = resolve;
    });
    this.alerts = alerterFromConfig(this.#loaded, 'supervisor', options.logger);
    this.supervisor = new ProcessSupervisor({
      command: [process.execPath, join(packageRoot, 'bin', 'tributary.js')],
      cwd: this.#workDir,
      logger: options.logger.child('supervisor'),
      alerts: this.alerts,
      maxRestarts: settings.maxRestarts,
      restartWindowMs: settings.restartWindowMs,
      restartDelayMs: settings.restartDelayMs,
      stopTimeoutMs: settings.stopTimeoutMs,
      onChildFailed: failed,
      output,
    });
  }

  async start(): Promise<OneMachineInfo> {
    const log = this.#options.logger;
    const loaded = this.#loaded;
    const { config } = loaded;
    // A strategy module the traders cannot use stops the start here, naming the file, instead of
    // every trader failing on it until the supervisor gives up. Checked by the trader's own rule
    // for the strategy they run (the configured one, or demo in paper mode): imported only when
    // that is not a built-in.
    if (config.trader.instances > 0)
      await checkStrategyModule(config.trader, loaded.sources.join(' + ') || 'defaults');
    const childEnv: Record<string, string> = {};
    // Every child alerts the owner through the same bot (each at most one message a minute).
    const { alertWebhookUrl, alertWebhookSecret } = loaded.secrets;
    if (alertWebhookUrl !== undefined) childEnv.TRIBUTARY_ALERT_WEBHOOK_URL = alertWebhookUrl;
    if (alertWebhookSecret !== undefined) childEnv.TRIBUTARY_ALERT_WEBHOOK_SECRET = alertWebhookSecret;

    let exchange: string;
    if (config.exchange.kind === 'simulator' && config.exchange.restUrl === undefined) {
      // The simulated account uses the configured keys when there are some, else a fresh pair.
      const apiKey = loaded.secrets.apiKey ?? randomBytes(24).toString('hex');
      const apiSecret = loaded.secrets.apiSecret ?? randomBytes(32).toString('hex');
      registerSecret(apiKey);
      registerSecret(apiSecret);
      const sim = config.simulator;
      this.#simulator = await startSimulator(
        {
          host: sim.host,
          port: sim.port,
          seed: sim.seed,
          ...(sim.universe !== undefined ? { universe: sim.universe } : {}),
          ...(sim.symbols.length > 0 ? { symbols: sim.symbols } : {}),
          ...(sim.historyDays !== undefined ? { history: { days: sim.historyDays } } : {}),
          ...(sim.liquidationShare !== undefined ? { liquidationShare: sim.liquidationShare } : {}),
          ...(sim.tapeBudget !== undefined ? { tapeBudget: sim.tapeBudget } : {}),
          accounts: [{ apiKey, apiSecret, balances: { USDT: sim.balance }, positionMode: sim.positionMode }],
          source:
            sim.replay === undefined
              ? { kind: 'random-walk', tradesPerSecond: sim.tradesPerSecond }
              : { kind: 'replay', ...sim.replay },
        },
        { logger: log.child('sim') },
      );
      exchange = `simulator at ${this.#simulator.restUrl}`;
      childEnv.TRIBUTARY__EXCHANGE__REST_URL = this.#simulator.restUrl;
      childEnv.TRIBUTARY__EXCHANGE__WS_URL = this.#simulator.wsUrl;
      childEnv.BINANCE_API_KEY = apiKey;
      childEnv.BINANCE_API_SECRET = apiSecret;
    } else {
      exchange = `${config.exchange.kind} at ${config.exchange.restUrl ?? '(default URL)'}`;
    }

    const hubPort = config.hub.port === 0 ? await freePort(config.hub.host) : config.hub.port;
    childEnv.TRIBUTARY__HUB__PORT = String(hubPort);
    let dashboardUrl: string | undefined;
    if (config.dashboard.enabled) {
      const port =
        config.dashboard.port === 0 ? await freePort(config.dashboard.host) : config.dashboard.port;
      childEnv.TRIBUTARY__DASHBOARD__PORT = String(port);
      const host = config.dashboard.host.includes(':') ? `[${config.dashboard.host}]` : config.dashboard.host;
      dashboardUrl = `http://${host}:${port}`;
    }
    const hubUrl = config.hub.url ?? `ws://${config.hub.host}:${hubPort}`;
    const statusUrl = `http://${config.hub.host}:${hubPort}/status`;
    const configArgs = this.#configFile === undefined ? [] : ['--config', this.#configFile];

    // Each peer its own key, for its own name only; the hub reads them from a private file.
    this.#keyDir = await mkdtemp(join(tmpdir(), 'tributary-up-'));
    const keysFile = join(this.#keyDir, 'hub-keys.json');
    const keys: ActiveKey[] = [];
    const children: ChildSpec[] = [];
    const add = (
      name: string,
      args: string[],
      role?: 'collector' | 'trader' | 'viewer',
      ownEnv: Record<string, string> = {},
      peer = name,
    ) => {
      const env = { ...childEnv, ...ownEnv };
      if (role !== undefined) {
        const key = newKey({ role, peers: [peer], label: `tributary up: ${name}` });
        keys.push(key);
        registerSecret(key.secret);
        env.TRIBUTARY_HUB_KEY = credentialsToken(key);
      }
      children.push({ name, args: [...args, ...configArgs], env, restart: true });
    };
    add('hub', ['hub', '--keys', keysFile]);
    let gatewayUrl: string | undefined;
    if (config.gateway.enabled) {
      // The order gateway checks traders' requests against the hub's key file; traders find it by gateway.port.
      const gatewayPort =
        config.gateway.port === 0 ? await freePort(config.gateway.host) : config.gateway.port;
      childEnv.TRIBUTARY__GATEWAY__PORT = String(gatewayPort);
      gatewayUrl = config.gateway.url ?? `http://${config.gateway.host}:${gatewayPort}`;
      // Its viewer key lets the hub show it (peer gateway-0) and carries its alerts to the records
      // store; traders' requests are checked against the key file.
      add('gateway', ['gateway', '--keys', keysFile], 'viewer', {}, 'gateway-0');
    }
    const kinds: CollectorKind[] = ['universe', ...COLLECTOR_KINDS.filter((k) => k !== 'universe')];
    for (const kind of kinds) {
      for (let i = 0; i < instancesOf(loaded, kind); i++)
        add(`${kind}-${i}`, ['collect', kind, '--instance', String(i)], 'collector');
    }
    // Without a configured strategy, paper traders run the demo; on the simulator's random walk
    // (≈0.08 % a minute) with thresholds it reaches. A configured strategy runs as configured.
    const demo =
      this.#simulator === undefined || config.trader.strategy !== undefined || config.trader.mode !== 'paper'
        ? []
        : [
            '--strategy',
            'demo',
            '--strategy-config',
            '{"openAbove":"0.0005","closeBelow":"-0.0003","notional":"500"}',
          ];
    for (let i = 0; i < config.trader.instances; i++)
      add(`trader-${i}`, ['trader', '--instance', String(i), ...demo], 'trader');
    // The recorder only reads from the hub (order events, status): a viewer key.
    if (config.recorder.enabled) add('recorder-0', ['record', '--instance', '0'], 'viewer');
    // The publisher reads the records store, and the hub's status over its own connection (a viewer
    // key, which also carries its alerts).
    if (config.publish.enabled) add('publish', ['publish'], 'viewer', {}, 'publisher-0');
    // The dashboard shows the owner the hub's full status, so it gets a viewer key.
    let ownerTokenFile: string | undefined;
    if (config.dashboard.enabled) {
      const ownEnv: Record<string, string> = {};
      if (loaded.secrets.ownerToken === undefined) {
        // No password configured: one for this run, in a private file the banner names.
        const token = randomBytes(18).toString('base64url');
        registerSecret(token);
        ownerTokenFile = join(this.#keyDir, 'owner.env');
        await writeFile(ownerTokenFile, `TRIBUTARY_OWNER_TOKEN=${token}\n`, { mode: 0o600 });
        ownEnv.TRIBUTARY_OWNER_TOKEN = token;
      }
      add('dashboard', ['dashboard', '--log-file', this.#logFile.path], 'viewer', ownEnv, 'dashboard-0');
    }
    // The supervisor's own alerts (children dying, crash loops) reach the records store through the hub too.
    const supervisorKey = newKey({
      role: 'viewer',
      peers: ['supervisor'],
      label: 'tributary up: supervisor',
    });
    keys.push(supervisorKey);
    registerSecret(supervisorKey.secret);
    const operator = newKey({
      role: 'admin',
      peers: ['operator', 'operator-*'],
      label: 'tributary up: operator',
    });
    keys.push(operator);
    registerSecret(operator.secret);
    await writeNewKeyFile(keysFile, keys);
    const operatorKeyFile = join(this.#keyDir, 'operator.env');
    await writeFile(operatorKeyFile, `TRIBUTARY_HUB_KEY=${credentialsToken(operator)}\n`, { mode: 0o600 });

    const [hub, ...rest] = children;
    if (hub !== undefined) {
      this.supervisor.start(hub);
      await waitForHttp(statusUrl, this.#options.startTimeoutMs ?? 20_000);
    }
    for (const child of rest) this.supervisor.start(child);
    const tls = hubClientTls(loaded);
    this.#presence = new HubPresence(
      {
        url: hubUrl,
        ...(tls === undefined ? {} : { tls }),
        key: { id: supervisorKey.id, secret: supervisorKey.secret },
      },
      {
        peer: 'supervisor',
        kind: 'supervisor',
        logger: log.child('hub'),
        report: () => {
          const children = this.supervisor.status();
          return { children: children.length, running: children.filter((c) => c.state === 'running').length };
        },
        alerts: this.alerts,
      },
    );
    log.info('system started', { exchange, hub: hubUrl, status: statusUrl, processes: children.length });
    return {
      exchange,
      simulator: this.#simulator,
      hubUrl,
      statusUrl,
      gatewayUrl,
      children: children.map((c) => c.name),
      operatorKey: { id: operator.id, secret: operator.secret },
      operatorKeyFile,
      dashboardUrl,
      ownerTokenFile,
      logFile: this.#logFile.path,
    };
  }

  /** Stops traders, collectors and the hub (reverse start order), then the simulator. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#presence?.close();
    await this.supervisor.stopAll();
    await this.alerts.close();
    await this.#simulator?.stop();
    if (this.#keyDir !== undefined) await rm(this.#keyDir, { recursive: true, force: true });
  }
}
