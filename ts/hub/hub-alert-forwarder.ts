// Carries a process's alerts to the hub, which relays them to the recorder: queued while the link is down, bounded, retried.
import type { Alert, AlertFeed } from '../alerts/alert.js';
import type { Logger } from '../log/logger.js';
import { ALERTS_VERSION } from './control-messages.js';
import { type HubClient, HubRequestError } from './hub-client.js';
import { MAX_ALERTS_PER_MESSAGE, toAlertWire } from './relayed-alerts.js';

/** Options of a {@link HubAlertForwarder}. */
export interface HubAlertForwarderOptions {
  /** This process's hub link (any role may publish alerts). */
  readonly client: HubClient;
  /** Where the process's alerts are raised (its `Alerter`). */
  readonly alerts: AlertFeed;
  readonly logger: Logger;
  /** Alerts kept while the hub cannot take them; the oldest beyond are dropped (counted, logged). Default 1,000. */
  readonly maxQueued?: number;
  /** Wait before sending again after a failed publish, ms (default 5,000). */
  readonly retryMs?: number;
}

/** Counters of a forwarder. */
export interface HubAlertForwarderStats {
  readonly forwarded: number;
  readonly queued: number;
  /** Dropped: the queue overflowed, the hub refused them for good, or it speaks no alerts. */
  readonly dropped: number;
  readonly failures: number;
}

/** Hub error codes after which sending the same alerts again cannot succeed. */
const FINAL_CODES = new Set(['bad_field', 'forbidden', 'unknown_op', 'oversized']);

/**
 * Publishes every alert the process raises to the hub (`alerts.publish`), which relays it to the
 * recorder for the store's alerts table. An alert stays queued until the hub acknowledged it: while
 * the link is down it waits for the next `ready`, after a failed publish it is sent again after
 * `retryMs` (each failure logged), at most `maxQueued` wait (the oldest dropped first, logged). A
 * hub older than protocol 5 cannot take alerts: they are dropped with one log line (they remain in
 * this process's log and chat messages, as every alert does).
 */
export class HubAlertForwarder {
  readonly #o: HubAlertForwarderOptions;
  readonly #queue: Alert[] = [];
  readonly #off: Array<() => void> = [];
  readonly #max: number;
  #sending: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #warnedVersion = false;
  #stats = { forwarded: 0, dropped: 0, failures: 0 };

  constructor(options: HubAlertForwarderOptions) {
    this.#o = options;
    this.#max = options.maxQueued ?? 1000;
  }

  start(): void {
    this.#off.push(
      this.#o.alerts.onAlert((alert) => this.#add(alert)),
      this.#o.client.onState((state) => {
        if (state === 'ready') this.#kick();
      }),
    );
    this.#kick();
  }

  /** Stops listening; what is queued is sent if the hub takes it within `waitMs` (default 2 s). */
  async stop(waitMs = 2000): Promise<void> {
    for (const off of this.#off.splice(0)) off();
    this.#kick();
    const deadline = Date.now() + waitMs;
    while (this.#queue.length > 0 && this.#sending !== undefined && Date.now() < deadline) {
      await Promise.race([
        this.#sending,
        new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now()))),
      ]);
    }
    this.#stopped = true;
    clearTimeout(this.#retry);
    if (this.#queue.length > 0)
      this.#o.logger.warn('alerts not handed to the hub before stopping (they are in this log)', {
        alerts: this.#queue.length,
      });
  }

  stats(): HubAlertForwarderStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  #add(alert: Alert): void {
    this.#queue.push(alert);
    if (this.#queue.length > this.#max) {
      const dropped = this.#queue.splice(0, this.#queue.length - this.#max);
      this.#stats.dropped += dropped.length;
      this.#o.logger.warn('alert queue for the hub full; oldest dropped (they are in this log)', {
        dropped: dropped.length,
        kept: this.#max,
      });
    }
    this.#kick();
  }

  #kick(): void {
    if (this.#stopped || this.#sending !== undefined || this.#retry !== undefined) return;
    if (this.#queue.length === 0 || this.#o.client.state !== 'ready') return;
    const version = this.#o.client.welcome?.version ?? 0;
    if (version < ALERTS_VERSION) {
      this.#stats.dropped += this.#queue.length;
      if (!this.#warnedVersion)
        this.#o.logger.warn(
          'the hub is older than protocol 5 and takes no alerts; they stay in this log only',
          {
            hubVersion: version,
          },
        );
      this.#warnedVersion = true;
      this.#queue.length = 0;
      return;
    }
    this.#sending = this.#send().finally(() => {
      this.#sending = undefined;
      this.#kick();
    });
  }

  async #send(): Promise<void> {
    const batch = this.#queue.slice(0, MAX_ALERTS_PER_MESSAGE);
    try {
      await this.#o.client.publishAlerts(batch.map((alert) => toAlertWire(alert)));
      this.#queue.splice(0, batch.length);
      this.#stats.forwarded += batch.length;
    } catch (error) {
      this.#stats.failures += 1;
      const code = error instanceof HubRequestError ? error.code : undefined;
      if (code !== undefined && FINAL_CODES.has(code)) {
        this.#queue.splice(0, batch.length);
        this.#stats.dropped += batch.length;
        this.#o.logger.error('the hub refused alerts; dropped (they are in this log)', {
          code,
          error: error instanceof Error ? error.message : String(error),
          alerts: batch.length,
        });
        return;
      }
      this.#o.logger.warn('alerts not handed to the hub; sending again', {
        error: error instanceof Error ? error.message : String(error),
        alerts: this.#queue.length,
        retryInMs: this.#o.retryMs ?? 5000,
      });
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#kick();
      }, this.#o.retryMs ?? 5000);
      this.#retry.unref();
    }
  }
}
