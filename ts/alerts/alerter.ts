// A process's alerter: logs every alert, and sends at most one message a minute to the chat channel, summarising what waited; the log is the fallback.
import { maskSecretValues } from '../log/log-redaction.js';
import type { Logger, LogLevel } from '../log/logger.js';
import type { Alert, AlertFeed, AlertInput, AlertSeverity, AlertSink } from './alert.js';
import { composeAlertMessage, type MessageLimits, type MessageOrigin } from './alert-message.js';
import type { AlertChannel } from './feishu-webhook.js';

/** Options of an `Alerter`. */
export interface AlerterOptions {
  readonly logger: Logger;
  /** Names the process in every message. */
  readonly origin: MessageOrigin;
  /** Where messages go; absent: alerts are only logged (the fallback is the whole delivery). */
  readonly channel?: AlertChannel | undefined;
  /** Least time between two messages of this process, ms (60,000: one a minute). */
  readonly minIntervalMs: number;
  /** After a quiet spell, wait this long for the alerts of the same burst before sending, ms. */
  readonly gatherMs: number;
  /** Alerts kept for the next message; more are still logged and counted, not listed. */
  readonly maxPending: number;
  readonly limits: MessageLimits;
  /** Wall clock, epoch ms. */
  readonly now?: () => number;
}

/** Counts since the alerter started. */
export interface AlerterStats {
  /** Alerts raised (every one was logged). */
  readonly raised: number;
  /** Alerts that waited for the one-message-a-minute limit. */
  readonly heldBack: number;
  /** Alerts beyond `maxPending`: logged and counted in a message, not listed in it. */
  readonly unkept: number;
  /** Messages handed to the channel. */
  readonly messages: number;
  /** ... of which the channel accepted. */
  readonly delivered: number;
  /** ... of which failed after their retries (their text went to the log instead). */
  readonly failed: number;
  /** Alerts waiting for the next message. */
  readonly pending: number;
}

const LOG_LEVEL: Record<AlertSeverity, LogLevel> = { info: 'info', warning: 'warn', critical: 'error' };

/**
 * Raises alerts for one process. Every alert is logged at once (info, warn or error by severity),
 * so the log holds all of them whatever happens to the channel. With a channel, alerts raised
 * together are gathered for `gatherMs` and sent as one message; after a message the next waits
 * until `minIntervalMs` has passed, and everything raised meanwhile goes into it, counted and
 * grouped by kind. A message the channel cannot deliver is logged in full as an error.
 */
export class Alerter implements AlertSink, AlertFeed {
  readonly #options: AlerterOptions;
  readonly #now: () => number;
  #pending: Alert[] = [];
  #pendingHeldBack = 0;
  #pendingUnkept = 0;
  #lastSentAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;
  #lastAt = 0;
  readonly #listeners = new Set<(alert: Alert) => void>();
  #stats = { raised: 0, heldBack: 0, unkept: 0, messages: 0, delivered: 0, failed: 0 };

  constructor(options: AlerterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether messages go to a chat channel (else only to the log). */
  get hasChannel(): boolean {
    return this.#options.channel !== undefined;
  }

  /** Logs `input` and queues it for the next message. Never throws, never waits. */
  raise(input: AlertInput): void {
    const now = this.#now();
    // Stamps strictly increase: an alert record is keyed by process, time and kind, so two alerts
    // of one burst in the same millisecond must not share a stamp (a later one moves up by 1 ms).
    this.#lastAt = Math.max(now, this.#lastAt + 1);
    const alert: Alert = { ...input, at: this.#lastAt };
    this.#stats.raised += 1;
    this.#options.logger[LOG_LEVEL[alert.severity]](`alert: ${alert.title}`, {
      severity: alert.severity,
      source: alert.source,
      details: alert.details ?? {},
    });
    for (const listener of this.#listeners) {
      try {
        listener(alert);
      } catch (error) {
        this.#options.logger.error('alert listener failed', {
          error: error instanceof Error ? error : String(error),
        });
      }
    }
    if (this.#options.channel === undefined || this.#closed) return;
    const windowClosed =
      this.#lastSentAt !== undefined && now < this.#lastSentAt + this.#options.minIntervalMs;
    if (windowClosed || this.#inFlight !== undefined) {
      this.#pendingHeldBack += 1;
      this.#stats.heldBack += 1;
    }
    if (this.#pending.length < this.#options.maxPending) {
      this.#pending.push(alert);
    } else {
      this.#pendingUnkept += 1;
      this.#stats.unkept += 1;
    }
    this.#schedule();
  }

  /**
   * Calls `listener` with every alert raised (stamped), before any message: for a process that
   * also keeps alerts elsewhere (the recorder's store). Returns the unsubscribe function.
   */
  onAlert(listener: (alert: Alert) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Counts since start. */
  stats(): AlerterStats {
    return { ...this.#stats, pending: this.#pending.length + this.#pendingUnkept };
  }

  /**
   * Stops the alerter: waits for a message in flight, then sends what is pending if the
   * one-a-minute limit allows it now, or if a pending alert is critical (the one exception to the
   * limit: a process stopping on a critical event, such as a crash loop that ends `tributary up`,
   * must not leave it in the log only; it can happen once per alerter). Otherwise the pending
   * alerts' summary goes to the log as an error (each was logged when raised). Alerts raised
   * afterwards are only logged.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    if (this.#pending.length === 0 && this.#pendingUnkept === 0) return;
    const now = this.#now();
    const windowOpen =
      this.#lastSentAt === undefined || now >= this.#lastSentAt + this.#options.minIntervalMs;
    if (windowOpen || this.#pending.some((alert) => alert.severity === 'critical')) {
      this.#flush();
      await this.#inFlight;
      return;
    }
    const message = this.#takeMessage();
    this.#options.logger.error('alerts not sent before stopping (one message a minute): summary', {
      title: message.title,
      text: message.text,
    });
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#inFlight !== undefined || this.#pending.length === 0) return;
    const now = this.#now();
    const windowOpens = this.#lastSentAt === undefined ? now : this.#lastSentAt + this.#options.minIntervalMs;
    const dueAt = Math.max(now + this.#options.gatherMs, windowOpens);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, dueAt - now);
    // Never keeps a process alive: every alert is already in the log; `close` sends the rest.
    this.#timer.unref();
  }

  #takeMessage() {
    const alerts = this.#pending;
    const heldBack = this.#pendingHeldBack;
    const unkept = this.#pendingUnkept;
    this.#pending = [];
    this.#pendingHeldBack = 0;
    this.#pendingUnkept = 0;
    const message = composeAlertMessage(
      alerts,
      { heldBack, unkept },
      this.#options.origin,
      this.#options.limits,
    );
    // A registered secret that slipped into a detail (an error text with a URL) never leaves the process.
    return { ...message, title: maskSecretValues(message.title), text: maskSecretValues(message.text) };
  }

  #flush(): void {
    const channel = this.#options.channel;
    if (channel === undefined || this.#pending.length === 0) return;
    const message = this.#takeMessage();
    this.#lastSentAt = this.#now();
    this.#stats.messages += 1;
    this.#inFlight = channel
      .send(message)
      .then(
        (result) => {
          if (result.ok) {
            this.#stats.delivered += 1;
            return;
          }
          this.#stats.failed += 1;
          this.#options.logger.error('alert message not delivered; logged here instead', {
            channel: channel.name,
            reason: result.reason,
            attempts: result.attempts,
            title: message.title,
            text: message.text,
          });
        },
        (error: unknown) => {
          // A channel resolves with its result; a rejection is a bug in it, logged with the message.
          this.#stats.failed += 1;
          this.#options.logger.error('alert channel threw; message logged here instead', {
            channel: channel.name,
            error: error instanceof Error ? error : String(error),
            title: message.title,
            text: message.text,
          });
        },
      )
      .finally(() => {
        this.#inFlight = undefined;
        if (!this.#closed) this.#schedule();
      });
  }
}
