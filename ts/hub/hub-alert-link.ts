// A hub link that only carries a process's alerts, for the processes that are no hub peers otherwise (gateway, publisher, the supervisor).
import type { AlertFeed } from '../alerts/alert.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../log/logger.js';
import { HubAlertForwarder } from './hub-alert-forwarder.js';
import { HubClient } from './hub-client.js';
import { HUB_KEY_ENV, hubKey, hubTlsOption, hubUrl } from './hub-link.js';
import type { HubKeyCredentials } from './peer-keys.js';

/** What a {@link HubAlertLink} needs. */
export interface HubAlertLinkOptions {
  readonly loaded: LoadedConfig;
  /** The hub's address when it is not the configured one (a port chosen at start). */
  readonly url?: string;
  /** The peer name (`gateway`, `publish`, `supervisor`): the key must allow it. */
  readonly peer: string;
  /** The process kind the hub shows (and its watch keys on: a watched kind's silence is alerted). */
  readonly kind: string;
  readonly key: HubKeyCredentials;
  readonly alerts: AlertFeed;
  readonly logger: Logger;
}

/**
 * Connects to the hub (in the background, reconnecting by itself) and forwards every alert the
 * process raises, so it reaches the records store like every peer's. Alerts raised before the hub
 * answers wait in the forwarder's bounded queue.
 */
export class HubAlertLink {
  readonly client: HubClient;
  readonly forwarder: HubAlertForwarder;
  readonly #log: Logger;

  constructor(options: HubAlertLinkOptions) {
    this.#log = options.logger;
    this.client = new HubClient({
      url: options.url ?? hubUrl(options.loaded),
      ...hubTlsOption(options.loaded),
      peer: options.peer,
      kind: options.kind,
      key: options.key,
      logger: options.logger.child('hub'),
    });
    this.forwarder = new HubAlertForwarder({
      client: this.client,
      alerts: options.alerts,
      logger: options.logger,
    });
  }

  /**
   * The link of a process whose key, if any, is in `TRIBUTARY_HUB_KEY`; undefined (logged once)
   * when none is set: its alerts are then only logged and sent to the chat.
   */
  static fromEnvironment(options: Omit<HubAlertLinkOptions, 'key'>): HubAlertLink | undefined {
    const token = process.env[HUB_KEY_ENV];
    if (token === undefined || token === '') {
      options.logger.info(
        `no ${HUB_KEY_ENV}: this process's alerts are logged and sent to the chat but not kept in the records store`,
        { peer: options.peer },
      );
      return undefined;
    }
    return new HubAlertLink({ ...options, key: hubKey() });
  }

  start(): void {
    this.forwarder.start();
    this.client.connect().catch((error: unknown) => {
      this.#log.warn('hub link for alerts did not connect; alerts stay in the log', {
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  /** Hands what is queued to the hub if it takes it within `waitMs`, then closes the link. */
  async stop(waitMs?: number): Promise<void> {
    await this.forwarder.stop(waitMs);
    await this.client.close();
  }
}
