// Delivers alert messages to a Feishu/Lark custom-bot webhook: an interactive card coloured by severity, signed when a secret is set, bounded retries.
import type { Logger } from '../log/logger.js';
import { registerSecret } from '../log/logger.js';
import type { AlertSeverity } from './alert.js';
import type { AlertMessage } from './alert-message.js';
import { feishuSignature } from './feishu-signature.js';

/** The outcome of delivering one message. */
export type DeliveryResult =
  | { readonly ok: true; readonly attempts: number }
  | { readonly ok: false; readonly attempts: number; readonly reason: string };

/** Where alert messages go besides the log (a chat bot). */
export interface AlertChannel {
  /** For log lines (`feishu`); never the URL. */
  readonly name: string;
  /** Delivers one message; resolves (never rejects) with what happened after its own retries. */
  send(message: AlertMessage): Promise<DeliveryResult>;
}

/** Options of a Feishu/Lark custom-bot webhook. */
export interface FeishuWebhookOptions {
  /** `https://open.feishu.cn/open-apis/bot/v2/hook/<token>` (or open.larksuite.com): a secret, never logged. */
  readonly url: string;
  /** The bot's signing secret when "signature verification" is on in its security settings. */
  readonly secret?: string | undefined;
  /** Per-request timeout, ms. */
  readonly timeoutMs: number;
  /** Tries per message (1 = no retry). */
  readonly attempts: number;
  /** Wait before the second try, doubled before each further one, ms. */
  readonly retryDelayMs: number;
  readonly logger: Logger;
  /** Wall clock, epoch ms (the signature's timestamp). */
  readonly now?: () => number;
}

/** Header colours of a Feishu card by severity (the card templates Feishu offers). */
const CARD_TEMPLATE: Record<AlertSeverity, string> = {
  info: 'blue',
  warning: 'orange',
  critical: 'red',
};

/**
 * The request body for `message`: an interactive card whose header carries the title in the
 * severity's colour and whose body is the plain text (plain, not markdown, so symbols and error
 * texts are shown as they are).
 */
export function feishuCardBody(message: AlertMessage): Record<string, unknown> {
  return {
    msg_type: 'interactive',
    card: {
      config: { wide_screen_mode: true },
      header: {
        template: CARD_TEMPLATE[message.severity],
        title: { tag: 'plain_text', content: message.title },
      },
      elements: [{ tag: 'div', text: { tag: 'plain_text', content: message.text } }],
    },
  };
}

/**
 * Codes of configuration problems a retry cannot fix: 19001 an invalid webhook token, 19021 a
 * signature that does not match (or a clock more than an hour off), 19022 an address not on the
 * bot's allow list, 19024 a keyword missing. Other non-zero codes (9499 bad request, 11232 too
 * many requests) and network failures are tried again.
 */
const PERMANENT_CODES = new Set([19001, 19021, 19022, 19024]);

/** What one request came back with. */
interface AttemptResult {
  readonly ok: boolean;
  readonly reason: string;
  readonly retry: boolean;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/** Reads a webhook reply: `{ code, msg }` (older bots also `StatusCode`); a non-zero code is a failure. */
function readReply(status: number, text: string): AttemptResult {
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    return { ok: false, reason: `HTTP ${status}, reply is not JSON`, retry: status >= 500 || status === 429 };
  }
  const record = typeof reply === 'object' && reply !== null ? (reply as Record<string, unknown>) : {};
  const code = typeof record.code === 'number' ? record.code : record.StatusCode;
  const msg = typeof record.msg === 'string' ? record.msg : String(record.StatusMessage ?? '');
  if (status >= 200 && status < 300 && code === 0) return { ok: true, reason: 'ok', retry: false };
  if (typeof code !== 'number') {
    return { ok: false, reason: `HTTP ${status}, reply has no code`, retry: status >= 500 || status === 429 };
  }
  return { ok: false, reason: `HTTP ${status}, code ${code}: ${msg}`, retry: !PERMANENT_CODES.has(code) };
}

/** A Feishu/Lark custom bot as an alert channel. */
export class FeishuWebhook implements AlertChannel {
  readonly name = 'feishu';
  readonly #options: FeishuWebhookOptions;
  readonly #now: () => number;

  constructor(options: FeishuWebhookOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    // The URL's last segment is the bot's access token: masked on its own too, wherever it appears.
    registerSecret(options.url);
    registerSecret(new URL(options.url).pathname.split('/').pop());
    registerSecret(options.secret);
  }

  /** Sends `message`, trying again after transient failures; logs every failed try. */
  async send(message: AlertMessage): Promise<DeliveryResult> {
    const { attempts, retryDelayMs, logger } = this.#options;
    let delay = retryDelayMs;
    let last = 'not sent';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const result = await this.#post(message);
      if (result.ok) return { ok: true, attempts: attempt };
      last = result.reason;
      const final = attempt === attempts || !result.retry;
      logger.warn('alert webhook refused or failed', {
        channel: this.name,
        attempt,
        attempts,
        reason: result.reason,
        willRetry: !final,
      });
      if (final) return { ok: false, attempts: attempt, reason: last };
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay *= 2;
    }
    return { ok: false, attempts, reason: last };
  }

  async #post(message: AlertMessage): Promise<AttemptResult> {
    const body: Record<string, unknown> = feishuCardBody(message);
    const secret = this.#options.secret;
    if (secret !== undefined) {
      const timestamp = Math.floor(this.#now() / 1000);
      body.timestamp = String(timestamp);
      body.sign = feishuSignature(timestamp, secret);
    }
    try {
      const response = await fetch(this.#options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      return readReply(response.status, await response.text());
    } catch (error) {
      return { ok: false, reason: errorText(error), retry: true };
    }
  }
}
