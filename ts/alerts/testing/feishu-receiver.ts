// Test support: a local Feishu/Lark custom-bot webhook that checks token, body and signature as the service documents them and replies in its `{ code, msg }` shape.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkFeishuSignature } from '../feishu-signature.js';

/** A reply of the bot service. */
export interface FeishuReply {
  readonly code: number;
  readonly msg: string;
}

/** A message the receiver accepted. */
export interface ReceivedMessage {
  /** The request body as parsed. */
  readonly body: Record<string, unknown>;
  /** For an interactive card: its header title, colour and body text; for text: the text. */
  readonly title: string;
  readonly template: string;
  readonly text: string;
  /** Receiver clock, epoch ms. */
  readonly at: number;
}

/** Options of the receiver. */
export interface FeishuReceiverOptions {
  /** The token that ends the webhook path (`/open-apis/bot/v2/hook/<token>`). */
  readonly token: string;
  /** When set, every request must be signed with it (the bot's "signature verification"). */
  readonly secret?: string;
  /** The service's clock, epoch ms (to test stale timestamps). */
  readonly now?: () => number;
}

/** The service's replies (Feishu custom-bot guide, error codes section). */
export const FEISHU_REPLIES = {
  ok: { code: 0, msg: 'success' },
  badRequest: { code: 9499, msg: 'Bad Request' },
  tokenInvalid: { code: 19001, msg: 'param invalid: incoming webhook access token invalid' },
  signFailed: { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' },
  tooManyRequests: { code: 11232, msg: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]' },
} as const;

const HOOK_PATH = '/open-apis/bot/v2/hook/';
const MESSAGE_TYPES = new Set(['text', 'post', 'image', 'share_chat', 'interactive']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Title, colour and text of a body the service would show (`undefined`: not a valid message). */
function readMessage(body: Record<string, unknown>): Omit<ReceivedMessage, 'body' | 'at'> | undefined {
  if (typeof body.msg_type !== 'string' || !MESSAGE_TYPES.has(body.msg_type)) return undefined;
  if (body.msg_type === 'text') {
    const content = body.content;
    if (!isRecord(content) || typeof content.text !== 'string') return undefined;
    return { title: '', template: '', text: content.text };
  }
  if (body.msg_type !== 'interactive' || !isRecord(body.card)) return { title: '', template: '', text: '' };
  const header = isRecord(body.card.header) ? body.card.header : {};
  const title =
    isRecord(header.title) && typeof header.title.content === 'string' ? header.title.content : '';
  const elements = Array.isArray(body.card.elements) ? body.card.elements : [];
  const texts = elements.flatMap((element: unknown) =>
    isRecord(element) && isRecord(element.text) && typeof element.text.content === 'string'
      ? [element.text.content]
      : [],
  );
  return {
    title,
    template: typeof header.template === 'string' ? header.template : '',
    text: texts.join('\n'),
  };
}

/**
 * A custom-bot webhook on loopback. It accepts a POST to its hook path with a valid JSON message
 * and, when it has a secret, a `timestamp` within an hour of its clock and the matching `sign`;
 * anything else gets the service's error reply. `failNext` makes it refuse the next requests.
 */
export class FeishuReceiver {
  readonly accepted: ReceivedMessage[] = [];
  readonly refused: FeishuReply[] = [];
  /** Every request body as received (for checking that no secret travels in a message). */
  readonly rawBodies: string[] = [];
  readonly #options: FeishuReceiverOptions;
  readonly #server: Server;
  #failures: { count: number; reply: FeishuReply; status: number } | undefined;

  private constructor(options: FeishuReceiverOptions) {
    this.#options = options;
    this.#server = createServer((request, response) => this.#handle(request, response));
  }

  /** Starts a receiver on an ephemeral loopback port. */
  static async start(options: FeishuReceiverOptions): Promise<FeishuReceiver> {
    const receiver = new FeishuReceiver(options);
    await new Promise<void>((resolve, reject) => {
      receiver.#server.once('error', reject);
      receiver.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return receiver;
  }

  /** The webhook URL to configure. */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${HOOK_PATH}${this.#options.token}`;
  }

  /** Answers the next `count` valid requests with `reply` (HTTP `status`) instead of accepting them. */
  failNext(count: number, reply: FeishuReply, status = 200): void {
    this.#failures = { count, reply, status };
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #reply(response: ServerResponse, status: number, reply: FeishuReply): void {
    if (reply.code !== 0) this.refused.push(reply);
    const body =
      reply.code === 0
        ? { StatusCode: 0, StatusMessage: 'success', ...reply, data: {} }
        : { ...reply, data: {} };
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      this.rawBodies.push(raw);
      if (request.method !== 'POST' || request.url !== `${HOOK_PATH}${this.#options.token}`) {
        this.#reply(response, 200, FEISHU_REPLIES.tokenInvalid);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        this.#reply(response, 400, FEISHU_REPLIES.badRequest);
        return;
      }
      if (!isRecord(body)) {
        this.#reply(response, 400, FEISHU_REPLIES.badRequest);
        return;
      }
      const now = (this.#options.now ?? Date.now)();
      const secret = this.#options.secret;
      if (
        secret !== undefined &&
        checkFeishuSignature(body.timestamp, body.sign, secret, Math.floor(now / 1000)) !== undefined
      ) {
        this.#reply(response, 200, FEISHU_REPLIES.signFailed);
        return;
      }
      const message = readMessage(body);
      if (message === undefined) {
        this.#reply(response, 200, FEISHU_REPLIES.badRequest);
        return;
      }
      if (this.#failures !== undefined && this.#failures.count > 0) {
        this.#failures.count -= 1;
        this.#reply(response, this.#failures.status, this.#failures.reply);
        return;
      }
      this.accepted.push({ body, ...message, at: now });
      this.#reply(response, 200, FEISHU_REPLIES.ok);
    });
  }
}
