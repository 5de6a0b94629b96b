// Builds a process's alerter from the `alerts` section and the webhook secrets: Feishu when a webhook URL is set, the log alone otherwise.
import { hostname } from 'node:os';
import type { AlertsSettings } from '../config/alerts-config.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../log/logger.js';
import { Alerter } from './alerter.js';
import { FeishuWebhook } from './feishu-webhook.js';

/** What `createAlerter` needs. */
export interface CreateAlerterOptions {
  readonly settings: AlertsSettings;
  /** `TRIBUTARY_ALERT_WEBHOOK_URL`; absent: alerts are only logged. */
  readonly webhookUrl?: string | undefined;
  /** `TRIBUTARY_ALERT_WEBHOOK_SECRET`: signs each request when the bot checks signatures. */
  readonly webhookSecret?: string | undefined;
  /** The process's role, named in every message (`trader`, `hub`, `supervisor`). */
  readonly process: string;
  /** The logger alerts are written to (a component such as `trader.alerts`). */
  readonly logger: Logger;
  /** Defaults to the machine's host name. */
  readonly host?: string;
}

/**
 * The alerter of one process. Call it once per process (the one-message-a-minute limit is per
 * alerter) in the composition root and hand it to the components as an `AlertSink`; `close()` it
 * on the way out.
 */
export function createAlerter(options: CreateAlerterOptions): Alerter {
  const { settings, logger } = options;
  const channel =
    options.webhookUrl === undefined
      ? undefined
      : new FeishuWebhook({
          url: options.webhookUrl,
          secret: options.webhookSecret,
          timeoutMs: settings.timeoutMs,
          attempts: settings.attempts,
          retryDelayMs: settings.retryDelayMs,
          logger,
        });
  if (channel === undefined) {
    logger.debug('no alert webhook configured (TRIBUTARY_ALERT_WEBHOOK_URL): alerts go to the log only');
  }
  return new Alerter({
    logger,
    channel,
    origin: { label: settings.label, process: options.process, host: options.host ?? hostname() },
    minIntervalMs: settings.minIntervalMs,
    gatherMs: settings.gatherMs,
    maxPending: settings.maxPending,
    limits: { maxKinds: settings.maxKinds, maxDetailChars: settings.maxDetailChars },
  });
}

/** The alerter of a process from its loaded configuration (the `alerts` section and the webhook secrets). */
export function alerterFromConfig(loaded: LoadedConfig, process: string, logger: Logger): Alerter {
  return createAlerter({
    settings: loaded.config.alerts,
    webhookUrl: loaded.secrets.alertWebhookUrl,
    webhookSecret: loaded.secrets.alertWebhookSecret,
    process,
    logger: logger.child('alerts'),
  });
}
