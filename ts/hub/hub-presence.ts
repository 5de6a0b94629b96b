// A process that is no data peer (gateway, publisher, dashboard, the supervisor) keeps one hub connection so the hub's status, `tributary status` and the deploy's health check see it, and its alerts reach the records store.
import type { AlertFeed } from '../alerts/alert.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../log/logger.js';
import { HubAlertForwarder } from './hub-alert-forwarder.js';
import { HubClient } from './hub-client.js';
import { HUB_KEY_ENV, hubKey, hubTlsOption, hubUrl } from './hub-link.js';
import type { HubClientTls } from './hub-tls.js';
import type { HubKeyCredentials } from './peer-keys.js';

/** How often a present process reports its counters (and at every (re)connection). */
export const PRESENCE_REPORT_MS = 10_000;

/** What {@link HubPresence} needs. */
export interface HubPresenceOptions {
  /** The peer name (`gateway-0`, `publisher-0`, `dashboard-0`); the key must allow it. */
  readonly peer: string;
  /** Shown as the peer's kind in the hub's status. */
  readonly kind: string;
  /** The process's own counters, sent as its report (the hub shows them in `/status/full`). */
  readonly report: () => Record<string, unknown>;
  readonly logger: Logger;
  /** Default {@link PRESENCE_REPORT_MS}. */
  readonly everyMs?: number;
  /**
   * The process's alerter: every alert it raises is also carried to the hub, which relays it to
   * the recorder's store (a `HubAlertForwarder` on this connection).
   */
  readonly alerts?: AlertFeed;
}

/**
 * One hub connection that carries nothing but the process's identity (host, release, Node, pid:
 * the client's `auth`) and its report, so the hub knows the process is there, which release it
 * runs and how often it restarted. Connecting happens in the background and never stops the
 * process's own work: a hub that is away is retried by the client (bounded, logged); a hub that
 * refuses the key is logged as an error once, and the process goes on without being seen. With
 * `alerts`, the process's alerts travel on the same connection.
 */
export class HubPresence {
  readonly client: HubClient;
  readonly forwarder: HubAlertForwarder | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #offReady: () => void;
  #closing = false;

  constructor(
    connection: { url: string; tls?: HubClientTls; key: HubKeyCredentials },
    options: HubPresenceOptions,
  ) {
    const log = options.logger;
    this.client = new HubClient({
      url: connection.url,
      ...(connection.tls === undefined ? {} : { tls: connection.tls }),
      peer: options.peer,
      kind: options.kind,
      key: connection.key,
      logger: log,
    });
    const report = () => {
      try {
        this.client.report(options.report());
      } catch (error) {
        log.warn('report to the hub not sent', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    };
    this.#offReady = this.client.onState((state) => {
      if (state === 'ready') report();
    });
    this.#timer = setInterval(report, options.everyMs ?? PRESENCE_REPORT_MS);
    this.#timer.unref();
    this.forwarder =
      options.alerts === undefined
        ? undefined
        : new HubAlertForwarder({ client: this.client, alerts: options.alerts, logger: log.child('alerts') });
    this.forwarder?.start();
    // The client logs its connections; what ends them for good is logged here.
    this.client.connect().catch((error: unknown) => {
      if (this.#closing) return;
      log.error('the hub does not see this process: its connection ended', {
        peer: options.peer,
        hub: connection.url,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  /** Stops reporting, hands queued alerts to the hub if it takes them within `waitMs`, and closes the connection. */
  async close(waitMs?: number): Promise<void> {
    this.#closing = true;
    await this.forwarder?.stop(waitMs);
    clearInterval(this.#timer);
    this.#offReady();
    await this.client.close();
  }
}

/**
 * The presence of this process at the hub of `loaded` (its URL and TLS), with the key in
 * `TRIBUTARY_HUB_KEY`; undefined, with an info line saying so, when no key is set (a process run
 * by hand without one works as before, unseen by the hub). A malformed key throws `HubKeyError`.
 */
export function startHubPresence(
  loaded: LoadedConfig,
  options: HubPresenceOptions,
  env: NodeJS.ProcessEnv = process.env,
): HubPresence | undefined {
  const token = env[HUB_KEY_ENV];
  if (token === undefined || token === '') {
    options.logger.info(
      `no ${HUB_KEY_ENV}: the hub does not see this process, and its alerts are logged and messaged but not kept in the records store`,
      { peer: options.peer },
    );
    return undefined;
  }
  const key = hubKey(env);
  return new HubPresence({ url: hubUrl(loaded), ...hubTlsOption(loaded), key }, options);
}
