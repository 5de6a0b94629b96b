// The end-to-end baseline: a plain relay on the hub's own transport that forwards each collector frame's bytes to every subscriber, without merging.

import {
  ControlError,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
} from '../../ts/hub/control-messages.js';
import { newNonce, verifyAuthMac } from '../../ts/hub/peer-auth.js';
import { CloseCode, type HubConnection, type HubTransport } from '../../ts/hub/transport.js';
import { createTransport, type TransportChoice } from '../../ts/hub/transport-select.js';
import type { Logger } from '../../ts/log/logger.js';
import { benchRoleOf } from './bench-keys.js';

const TOPIC = 'relay';
const HEARTBEAT_MS = 5_000;

/** Options of {@link RelayServer.start}. */
export interface RelayServerOptions {
  secret: string;
  transport: TransportChoice;
  symbols: readonly string[];
  logger: Logger;
}

/** Counters of the relay. */
export interface RelayStats {
  framesIn: number;
  /** Publishes (each goes to every subscriber). */
  framesOut: number;
  refused: number;
}

/**
 * Speaks just enough of the hub protocol for the hub's own client to connect (hello, auth with
 * the HMAC check, welcome, ping, heartbeat), so collectors and subscribers run the same client
 * code against it as against the hub. Binary frames from collectors are gathered per event-loop
 * turn and published unchanged to every trader in one `batch`, the hub's corking policy, with
 * no decoding, merging or re-encoding: what is left is the transport's own cost.
 */
export class RelayServer {
  readonly stats: RelayStats = { framesIn: 0, framesOut: 0, refused: 0 };
  readonly #transport: HubTransport;
  readonly #options: RelayServerOptions;
  readonly #instance = newNonce().slice(0, 16);
  #pending: Buffer[] = [];
  #scheduled = false;
  #port = 0;
  readonly #heartbeat: NodeJS.Timeout;

  private constructor(options: RelayServerOptions, transport: HubTransport) {
    this.#options = options;
    this.#transport = transport;
    transport.onConnection((connection) => this.#accept(connection));
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  static async start(options: RelayServerOptions): Promise<RelayServer> {
    // The hub's limits, so the transports behave the same (uWS drops only far past them).
    const transport = createTransport(
      options.transport,
      { maxPayloadBytes: 16 * 1024 * 1024 + 4096, maxBackpressureBytes: 128 * 1024 * 1024 },
      options.logger,
    );
    const relay = new RelayServer(options, transport);
    relay.#port = await transport.listen('127.0.0.1', 0);
    return relay;
  }

  get port(): number {
    return this.#port;
  }

  get transportName(): string {
    return this.#transport.name;
  }

  readonly #connections = new Set<HubConnection>();

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#transport.close(CloseCode.goingAway, 'relay shutting down');
  }

  #beat(): void {
    const text = JSON.stringify({ op: 'heartbeat', time: Date.now() } satisfies ServerMessage);
    for (const connection of this.#connections) connection.sendText(text);
  }

  #accept(connection: HubConnection) {
    const nonce = newNonce();
    let role: string | undefined;
    this.#connections.add(connection);
    connection.sendText(
      JSON.stringify({
        op: 'hello',
        nonce,
        version: PROTOCOL_VERSION,
        hub: this.#instance,
      } satisfies ServerMessage),
    );
    return {
      message: (data: Buffer, isBinary: boolean) => {
        if (isBinary) {
          if (role !== 'collector') {
            this.#refuse(connection, 'only an authenticated collector sends frames');
            return;
          }
          this.stats.framesIn += 1;
          this.#pending.push(data);
          if (!this.#scheduled) {
            this.#scheduled = true;
            setImmediate(() => this.#flush());
          }
          return;
        }
        const message = parseClientMessage(data.toString('utf8'));
        if (message instanceof ControlError) {
          this.#refuse(connection, message.message);
          return;
        }
        if (message.op === 'auth' && role === undefined) {
          const keyRole = benchRoleOf(message.key);
          if (
            keyRole === undefined ||
            !verifyAuthMac(this.#options.secret, nonce, message.key, message.peer, message.mac)
          ) {
            this.#refuse(connection, `bad credentials for ${message.peer}`);
            connection.close(CloseCode.unauthorized, 'bad credentials');
            return;
          }
          role = keyRole;
          const welcome: ServerMessage = {
            op: 'welcome',
            peerId: this.#connections.size,
            peer: message.peer,
            role: keyRole,
            key: message.key,
            maxMessageBytes: 4 * 1024 * 1024,
            version: PROTOCOL_VERSION,
            hub: this.#instance,
            symbols: [...this.#options.symbols],
            symbolsVersion: 1,
            heartbeatMs: HEARTBEAT_MS,
            idleTimeoutMs: 3 * HEARTBEAT_MS,
          };
          if (message.id !== undefined) welcome.id = message.id;
          connection.sendText(JSON.stringify(welcome));
          if (role === 'trader') connection.subscribe(TOPIC);
          return;
        }
        if (message.op === 'ping') {
          const pong: ServerMessage =
            message.id === undefined
              ? { op: 'pong', time: Date.now() }
              : { op: 'pong', id: message.id, time: Date.now() };
          connection.sendText(JSON.stringify(pong));
          return;
        }
        this.#refuse(connection, `op ${message.op} is not served by the relay`);
      },
      drain: () => {},
      close: () => {
        this.#connections.delete(connection);
      },
    };
  }

  #flush(): void {
    this.#scheduled = false;
    const frames = this.#pending;
    this.#pending = [];
    this.#transport.batch(() => {
      for (const frame of frames) this.#transport.publish(TOPIC, frame);
    });
    this.stats.framesOut += frames.length;
  }

  #refuse(connection: HubConnection, reason: string): void {
    this.stats.refused += 1;
    this.#options.logger.warn('relay refused input', {
      connection: connection.id,
      reason: reason.slice(0, 120),
    });
  }
}
