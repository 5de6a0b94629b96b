// `tributary dashboard`: serves the published dashboard and the owner's live view (behind the owner password) on a local URL.
import { join, resolve } from 'node:path';
import { loadConfig } from '../../ts/config/load-config.js';
import { dashboardTraders } from '../../ts/config/publish-config.js';
import { hubClientTls, hubKey, hubUrl } from '../../ts/hub/hub-link.js';
import { startHubPresence } from '../../ts/hub/hub-presence.js';
import { Logger } from '../../ts/log/logger.js';
import { packageRoot } from '../../ts/package-root.js';
import { runUntilSignal } from '../../ts/process/run-until-signal.js';
import { openRecordStore } from '../../ts/store/open-store.js';
import { DashboardServer } from '../../web/server/dashboard-server.js';
import { readHubStatus } from '../../web/server/hub-status-reader.js';
import { MachineSampler } from '../../web/server/machine-stats.js';
import { StorePaperTrades } from '../dashboard/paper-trades.js';
import { FileTradingControl } from '../dashboard/trading-control.js';
import { dashboardScope } from './record.js';
import { instanceArg, parseCommandArgs, tradersArg } from './usage-error.js';

const HELP = `Usage: tributary dashboard [--config <file>] [--state-root <dir>] [--log-file <file>]

Serves, on dashboard.host:dashboard.port:
  /         the public dashboard exactly as published (the publish folder, publish.target.dir);
            with an OSS target only the page is served here: the documents are in the bucket
  /owner/   the owner's live view: processes and heartbeats, hub latency and freshness per
            collector (the hub's full status), CPU/memory/disk, configuration with secrets masked,
            recent logs and alerts, paper trades, the trading state with HALT / REDUCE / resume

The owner view needs the password in TRIBUTARY_OWNER_TOKEN (environment or secrets file): the
browser asks for it (any user name), scripts send "Authorization: Bearer <token>". Without it
every /owner/ request is refused. The hub's full status is read with the viewer or admin key in
TRIBUTARY_HUB_KEY (tributary keys issue --role viewer --peer dashboard-0); with that key the
dashboard also connects to the hub as dashboard-<n> once it serves, so the hub's status shows it.

Options:
  -c, --config <file>     configuration file
      --state-root <dir>  where the traders keep their state (default .tributary: trader-<n>/)
      --log-file <file>   the system's log for the owner view (default TRIBUTARY_LOG_FILE)
      --instance <n>      instance number (default 0): the hub peer name is dashboard-<n>
      --traders <list>    instance numbers of the traders it shows and switches (0,2, or none;
                          default dashboard.traders, else 0 to trader.instances - 1)
`;

/** Runs `tributary dashboard`; returns the exit code. */
export async function runDashboard(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      'state-root': { type: 'string' },
      'log-file': { type: 'string' },
      instance: { type: 'string' },
      traders: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const instance = instanceArg(values.instance);
  // It never calls the exchange: no exchange keys needed (the deploy gives it none).
  const loaded = loadConfig(values.config, process.env, { exchangeKeys: 'unused' });
  const { config } = loaded;
  const traders = values.traders === undefined ? dashboardTraders(config) : tradersArg(values.traders);
  const logger = new Logger('dashboard');
  const stateRoot = resolve(values['state-root'] ?? '.tributary');
  const target = config.publish.target;
  const publicDir =
    target.kind === 'folder' ? resolve(target.dir) : join(packageRoot, 'dist', 'site', 'public');
  let key: ReturnType<typeof hubKey> | undefined;
  let keyProblem = '';
  try {
    key = hubKey();
  } catch (error) {
    keyProblem = error instanceof Error ? error.message : String(error);
    logger.warn('no hub key: the owner view shows no hub status', { reason: keyProblem });
  }
  const tls = hubClientTls(loaded);
  const store = await openRecordStore(loaded);
  const logFile = values['log-file'] ?? process.env.TRIBUTARY_LOG_FILE;
  const server = new DashboardServer({
    host: config.dashboard.host,
    port: config.dashboard.port,
    trustedProxies: config.dashboard.trustedProxies,
    publicDir,
    ownerDir: join(packageRoot, 'dist', 'site', 'owner'),
    ownerToken: loaded.secrets.ownerToken,
    owner: {
      hubStatus: async () =>
        key === undefined
          ? { ok: false, error: keyProblem }
          : readHubStatus({ hubUrl: hubUrl(loaded), key, tls, timeoutMs: 3000 }),
      machine: new MachineSampler(stateRoot),
      config,
      secrets: {
        BINANCE_API_KEY: loaded.secrets.apiKey,
        BINANCE_API_SECRET: loaded.secrets.apiSecret,
        TRIBUTARY_HUB_SECRET: loaded.secrets.hubSecret,
        OSS_ACCESS_KEY_ID: loaded.secrets.ossAccessKeyId,
        OSS_ACCESS_KEY_SECRET: loaded.secrets.ossAccessKeySecret,
        TRIBUTARY_OWNER_TOKEN: loaded.secrets.ownerToken,
        TRIBUTARY_HUB_KEY: key?.secret,
      },
      logFile,
      logLines: config.dashboard.logLines,
      trading: new FileTradingControl({
        root: stateRoot,
        traders,
        applyWaitMs: 3000,
      }),
      paperTrades: new StorePaperTrades(
        store,
        traders,
        dashboardScope(loaded, traders).mode === 'paper'
          ? dashboardScope(loaded, traders).account
          : undefined,
      ),
      publisherStateFile: join(stateRoot, 'publisher-state.json'),
    },
    logger,
  });
  const url = await server.start();
  logger.info('dashboard serving', {
    url,
    public: publicDir,
    owner: loaded.secrets.ownerToken === undefined ? 'closed (no TRIBUTARY_OWNER_TOKEN)' : `${url}/owner/`,
  });
  // Seen by the hub only once it serves: the deploy's health check then knows the port is open.
  const presence =
    key === undefined
      ? undefined
      : startHubPresence(loaded, {
          peer: `dashboard-${instance}`,
          kind: 'dashboard',
          logger: logger.child('hub'),
          report: () => ({ instance, url, owner: loaded.secrets.ownerToken !== undefined }),
        });
  return runUntilSignal(logger, async () => {
    await presence?.close();
    await server.stop();
    await store.close();
  });
}
