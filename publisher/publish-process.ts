// `tributary publish` as a process: the target from the configuration, the forbidden texts from the secrets and addresses, the state file, the rounds.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AlertSink } from '../ts/alerts/alert.js';
import { ConfigError } from '../ts/config/config-error.js';
import type { LoadedConfig } from '../ts/config/load-config.js';
import type { Logger } from '../ts/log/logger.js';
import { replaceFileDurably } from '../ts/process/durable-file.js';
import type { DashboardSource } from './dashboard-source.js';
import type { DocumentLimits } from './document-builder.js';
import { type ForbiddenText, forbiddenAddress } from './forbidden-text.js';
import { OssTarget } from './oss-target.js';
import { LocalFolderTarget, type PublishTarget } from './publish-target.js';
import { Publisher, type PublishReport } from './publisher.js';
import { readSiteFiles } from './site-files.js';

/** What the process needs besides the configuration. */
export interface PublishProcessOptions {
  readonly loaded: LoadedConfig;
  readonly source: DashboardSource;
  /** The built public site (dist/site/public); undefined publishes documents only. */
  readonly siteDir: string | undefined;
  /** Where the round's state is written for the owner view (never inside the published folder). */
  readonly stateFile: string;
  /** Other text never to publish: addresses and keys only the caller knows (hub key, store URL). */
  readonly extraForbidden: readonly ForbiddenText[];
  readonly alerts: AlertSink;
  readonly logger: Logger;
}

/** The document limits of the `publish` section. */
export function limitsOf(loaded: LoadedConfig): DocumentLimits {
  const p = loaded.config.publish;
  return {
    equityDays: p.equityDays,
    equityPoints: p.equityPoints,
    dailyDays: p.dailyDays,
    roundTrips: p.roundTrips,
    largeLossThreshold: p.largeLoss,
    largeLosses: p.largeLosses,
    chartInterval: p.chartInterval,
    chartCandles: p.chartCandles,
    chartSymbols: p.chartSymbols,
    chartDays: p.chartDays,
  };
}

/** The configured target; OSS needs OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET. */
export function targetOf(loaded: LoadedConfig): PublishTarget {
  const target = loaded.config.publish.target;
  if (target.kind === 'folder') return new LocalFolderTarget(target.dir);
  const { ossAccessKeyId, ossAccessKeySecret } = loaded.secrets;
  if (ossAccessKeyId === undefined || ossAccessKeySecret === undefined)
    throw new ConfigError(
      [
        {
          path: 'publish.target.kind',
          message:
            '"oss" needs OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET in the environment or the secrets file',
        },
      ],
      'secrets',
    );
  if (target.region === undefined && target.endpoint === undefined)
    throw new ConfigError([{ path: 'publish.target.region', message: 'give region or endpoint' }], 'publish');
  return new OssTarget({
    bucket: target.bucket,
    region: target.region,
    endpoint: target.endpoint,
    cname: target.cname,
    prefix: target.prefix,
    timeoutMs: target.timeoutMs,
    accessKeyId: ossAccessKeyId,
    accessKeySecret: ossAccessKeySecret,
  });
}

/**
 * Everything that must never be published: every secret the configuration loaded, and every
 * address of the system (hub, exchange, simulator, OSS endpoint, dashboard) as URL, host:port and
 * host. Loopback names and 0.0.0.0 are left out as bare hosts only when they are `localhost`.
 */
export function forbiddenTexts(loaded: LoadedConfig, extra: readonly ForbiddenText[]): ForbiddenText[] {
  const { config, secrets } = loaded;
  const out: ForbiddenText[] = [];
  for (const [name, value] of Object.entries(secrets))
    if (typeof value === 'string' && value !== '') out.push({ label: `secret ${name}`, text: value });
  const hubHttp = `http://${config.hub.host}:${config.hub.port}`;
  out.push(...forbiddenAddress('hub', config.hub.url ?? hubHttp), ...forbiddenAddress('hub status', hubHttp));
  if (config.exchange.restUrl !== undefined)
    out.push(...forbiddenAddress('exchange REST', config.exchange.restUrl));
  if (config.exchange.wsUrl !== undefined)
    out.push(...forbiddenAddress('exchange websocket', config.exchange.wsUrl));
  out.push(...forbiddenAddress('dashboard', `http://${config.dashboard.host}:${config.dashboard.port}`));
  const target = config.publish.target;
  if (target.kind === 'oss' && target.endpoint !== undefined)
    out.push(...forbiddenAddress('oss endpoint', target.endpoint));
  out.push(...extra);
  return out;
}

/** Builds the publisher of this process (not started). */
export function createPublishProcess(options: PublishProcessOptions): {
  publisher: Publisher;
  target: PublishTarget;
} {
  const { loaded, logger } = options;
  const target = targetOf(loaded);
  const forbidden = forbiddenTexts(loaded, options.extraForbidden);
  mkdirSync(dirname(options.stateFile), { recursive: true });
  const writeState = (report: PublishReport & { at: number }, publisher: Publisher) => {
    const stats = publisher.stats();
    const state = {
      target: target.description,
      intervalMs: loaded.config.publish.intervalMs,
      rounds: stats.rounds,
      failing: stats.failing,
      last: {
        at: report.at,
        uploaded: report.uploaded.length,
        unchanged: report.unchanged,
        failed: report.failed,
        refused: report.refused,
        attempts: report.attempts,
      },
    };
    try {
      replaceFileDurably(options.stateFile, `${JSON.stringify(state, null, 2)}\n`);
    } catch (error) {
      logger.warn('cannot write the publisher state file', {
        path: options.stateFile,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  };
  const siteDir = options.siteDir;
  const publisher: Publisher = new Publisher({
    source: options.source,
    target,
    limits: limitsOf(loaded),
    site: siteDir === undefined ? undefined : () => readSiteFiles(siteDir),
    forbidden: () => forbidden,
    retry: loaded.config.publish.retry,
    alerts: options.alerts,
    logger,
    onRound: (report) => writeState(report, publisher),
  });
  return { publisher, target };
}
