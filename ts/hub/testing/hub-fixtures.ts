// Test helpers for the hub: an in-test hub on loopback with a key per role, a raw websocket peer, and polling waits.
import { connect, type createConnection, type NetConnectOpts, type Socket } from 'node:net';
import WebSocket, { type RawData } from 'ws';
import { silentLogger } from '../../log/logger.js';
import { waitUntil } from '../../testing/wait-until.js';
import {
  type PeerRole,
  parseServerMessage,
  type ServerMessage,
  ServerMessageError,
} from '../control-messages.js';
import { HubServer, type HubServerOptions } from '../hub-server.js';
import { authMac } from '../peer-auth.js';
import { type ActiveKey, type HubKeyCredentials, KeyRing } from '../peer-keys.js';
import { loadUws } from '../transport-uws.js';

export const SYMBOLS = ['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT', 'BTCUSDT'];
export type TransportName = 'uws' | 'ws';
/**
 * The transports that run on this Node: uWS where its binary loads (its npm build has Node 16, 18
 * and 20 binaries), and ws. Suites run on each; a missing uWS is said once, never silently.
 */
export const TRANSPORTS: readonly TransportName[] = (() => {
  const uws = loadUws();
  if (!(uws instanceof Error)) return ['uws', 'ws'];
  process.stderr.write(`hub tests on ws only: ${uws.message} on Node ${process.versions.node}\n`);
  return ['ws'];
})();

function testKey(role: PeerRole, peers: string[] = ['*']): ActiveKey {
  return {
    id: `test-${role}`,
    secret: `${role}-secret-for-tests-only-0123456789abcdef`,
    role,
    peers,
    createdAt: 0,
    revokedAt: null,
  };
}

/** One key per role, each allowing any peer name (tests that check names make their own). */
export const TEST_KEYS: Readonly<Record<PeerRole, ActiveKey>> = {
  collector: testKey('collector'),
  trader: testKey('trader'),
  viewer: testKey('viewer'),
  admin: testKey('admin'),
};

/** The credentials of the test key of `role`. */
export function keyOf(role: PeerRole): HubKeyCredentials {
  const key = TEST_KEYS[role];
  return { id: key.id, secret: key.secret };
}

/** A ring holding {@link TEST_KEYS} (and `extra`). */
export function testKeyRing(extra: ActiveKey[] = []): KeyRing {
  return new KeyRing([...Object.values(TEST_KEYS), ...extra]);
}

/** A hub on 127.0.0.1, any free port, quiet logs, the test keys. */
export function startHub(
  transport: TransportName,
  options: Partial<HubServerOptions> = {},
): Promise<HubServer> {
  return HubServer.start({
    keys: testKeyRing(),
    transport,
    symbols: SYMBOLS,
    logger: silentLogger('hub'),
    ...options,
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export function waitFor(check: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  return waitUntil(check, what, timeoutMs);
}

/** A websocket peer that speaks the protocol by hand (to send what a real client never would). */
export class RawPeer {
  readonly messages: ServerMessage[] = [];
  readonly frames: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #consumed = 0;
  #closeInfo: { code: number; reason: string } | undefined;

  private constructor(
    readonly ws: WebSocket,
    /** The TCP socket (pause it to play a slow reader). */
    readonly socket: Socket,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      if (isBinary) {
        this.frames.push(bytes);
        return;
      }
      const message = parseServerMessage(bytes.toString('utf8'));
      if (message instanceof ServerMessageError) throw message;
      this.messages.push(message);
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.#closeInfo = { code, reason: reason.toString() };
        resolve(this.#closeInfo);
      });
    });
  }

  static open(url: string): Promise<RawPeer> {
    let socket: Socket | undefined;
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: 256 * 1024 * 1024,
      // ws calls it with an options object only; keep the socket to pause it in tests.
      createConnection: ((options: NetConnectOpts) => {
        socket = connect(options);
        return socket;
      }) as typeof createConnection,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        if (socket === undefined) reject(new Error('no socket'));
        else resolve(new RawPeer(ws, socket));
      });
      ws.once('error', reject);
    });
  }

  get closeInfo(): { code: number; reason: string } | undefined {
    return this.#closeInfo;
  }

  sendJson(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  send(data: Uint8Array | string, binary: boolean): void {
    this.ws.send(data, { binary });
  }

  /** The next message with `op` after the ones already taken. */
  async next<O extends ServerMessage['op']>(
    op: O,
    timeoutMs = 3_000,
  ): Promise<Extract<ServerMessage, { op: O }>> {
    let found: ServerMessage | undefined;
    await waitFor(
      () => {
        const index = this.messages.findIndex((m, i) => i >= this.#consumed && m.op === op);
        if (index < 0) return false;
        found = this.messages[index];
        this.#consumed = index + 1;
        return true;
      },
      timeoutMs,
      `a ${op} message`,
    );
    return found as Extract<ServerMessage, { op: O }>;
  }

  /**
   * Answers the hub's hello as `peer` with the test key of `role` (or the given key, or a given
   * MAC) and returns the welcome.
   */
  async auth(
    peer: string,
    role: PeerRole,
    options: { kind?: string; key?: HubKeyCredentials; mac?: string } = {},
  ) {
    const hello = await this.next('hello');
    const key = options.key ?? keyOf(role);
    this.sendJson(this.authMessage(hello.nonce, peer, key, options));
    return this.next('welcome');
  }

  /** An `auth` message for `nonce` (with a given MAC when `mac` is set). */
  authMessage(
    nonce: string,
    peer: string,
    key: HubKeyCredentials,
    options: { kind?: string; mac?: string } = {},
  ) {
    const mac = options.mac ?? authMac(key.secret, nonce, key.id, peer);
    return options.kind === undefined
      ? { op: 'auth', key: key.id, peer, mac }
      : { op: 'auth', key: key.id, peer, kind: options.kind, mac };
  }

  close(): void {
    this.ws.terminate();
  }
}
