// Sessions and authentication: connections from hello to close, each peer's key checked, name and role taken from the key.
import type { Logger } from '../../log/logger.js';
import {
  ControlError,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
} from '../control-messages.js';
import type { HubMetrics } from '../hub-metrics.js';
import { newNonce, verifyAuthMac } from '../peer-auth.js';
import { type KeyRing, keyAllowsName } from '../peer-keys.js';
import type { SymbolDirectory } from '../symbol-directory.js';
import { CloseCode, type HubConnection } from '../transport.js';
import type { InputPolice } from './input-police.js';
import type { PeerOutbox } from './peer-outbox.js';
import { type PeerSession, type PendingSession, type Session, sessionLabel } from './session.js';

/** Timing and limits the sessions announce in `welcome` and enforce. */
export interface SessionSettings {
  /** The hub instance id (`hello`, `welcome`). */
  instance: string;
  authTimeoutMs: number;
  heartbeatMs: number;
  idleTimeoutMs: number;
  maxMessageBytes: number;
}

/** What the other parts do when a peer arrives or a connection goes. */
export interface SessionHooks {
  /** A connection authenticated (after `welcome`). */
  ready(session: PeerSession): void;
  /** A connection is gone: forget everything of it. */
  gone(session: Session): void;
}

/**
 * Every connection from accept to close. A connection starts pending with a fresh nonce; its first
 * message must be `auth` naming a key of the ring and carrying the MAC of the nonce with that key's
 * secret. The key gives the role and the names the peer may use; what the peer says about itself
 * is never trusted. A second connection with the same name replaces the first (4409). When the
 * key ring changes, peers whose key was revoked or no longer allows their name are closed (4401).
 */
export class Sessions {
  readonly #settings: SessionSettings;
  readonly #keys: KeyRing;
  readonly #police: InputPolice;
  readonly #outbox: PeerOutbox;
  readonly #metrics: HubMetrics;
  readonly #log: Logger;
  readonly #symbols: SymbolDirectory;
  #hooks: SessionHooks | undefined;
  readonly #byConnection = new Map<number, Session>();
  readonly #byPeer = new Map<string, PeerSession>();
  readonly #peerIds = new Map<string, number>();

  constructor(
    settings: SessionSettings,
    keys: KeyRing,
    parts: {
      police: InputPolice;
      outbox: PeerOutbox;
      metrics: HubMetrics;
      log: Logger;
      symbols: SymbolDirectory;
    },
  ) {
    this.#settings = settings;
    this.#keys = keys;
    this.#police = parts.police;
    this.#outbox = parts.outbox;
    this.#metrics = parts.metrics;
    this.#log = parts.log;
    this.#symbols = parts.symbols;
  }

  /** Wires what happens when peers arrive and leave. */
  hookWith(hooks: SessionHooks): void {
    this.#hooks = hooks;
  }

  get(connectionId: number): Session | undefined {
    return this.#byConnection.get(connectionId);
  }

  /** Authenticated sessions. */
  *peers(): IterableIterator<PeerSession> {
    for (const session of this.#byConnection.values()) if (session.state === 'ready') yield session;
  }

  /** The session authenticated with this peer name, if connected. */
  peerNamed(name: string): PeerSession | undefined {
    return this.#byPeer.get(name);
  }

  /** Connections waiting for `auth`. */
  pendingCount(): number {
    let pending = 0;
    for (const session of this.#byConnection.values()) if (session.state === 'pending') pending += 1;
    return pending;
  }

  /** A new connection: pending, with its `hello` sent and its auth timer running. */
  accept(connection: HubConnection, now: number): PendingSession {
    const authTimer = setTimeout(() => {
      const current = this.#byConnection.get(connection.id);
      if (current?.state !== 'pending') return;
      this.#police.refuse(current, 'auth_timeout', 'no auth before the timeout');
      this.#police.tell(
        current,
        'not_authenticated',
        `no auth within ${this.#settings.authTimeoutMs} ms`,
        {},
      );
      this.close(current, CloseCode.timeout, 'auth timeout');
    }, this.#settings.authTimeoutMs);
    authTimer.unref();
    const session: PendingSession = {
      state: 'pending',
      id: connection.id,
      connection,
      connectedAt: now,
      lastSeen: now,
      closing: false,
      traffic: { messagesIn: 0, bytesIn: 0, binaryIn: 0, messagesOut: 0, bytesOut: 0 },
      policing: this.#police.newPolicing(now),
      nonce: newNonce(),
      authTimer,
    };
    this.#byConnection.set(session.id, session);
    this.#outbox.text(session, {
      op: 'hello',
      nonce: session.nonce,
      version: PROTOCOL_VERSION,
      hub: this.#settings.instance,
    });
    return session;
  }

  /** The first message of a pending connection: it must be a valid `auth`. */
  authenticate(session: PendingSession, data: Buffer, isBinary: boolean): void {
    const message = isBinary ? undefined : parseClientMessage(data.toString('utf8'));
    if (message === undefined || message instanceof ControlError || message.op !== 'auth') {
      const detail =
        message === undefined
          ? 'binary frame'
          : message instanceof ControlError
            ? message.message
            : message.op;
      this.#police.refuse(session, 'unauthenticated', `before auth: ${detail}`);
      this.#police.tell(session, 'not_authenticated', `the first message must be auth (got ${detail})`, {});
      this.close(session, CloseCode.badRequest, 'not authenticated');
      return;
    }
    const id = message.id;
    const key = this.#keys.lookup(message.key);
    if (
      key === undefined ||
      !verifyAuthMac(key.secret, session.nonce, message.key, message.peer, message.mac)
    ) {
      // One answer for an unknown key and a wrong MAC: the hub does not say which key ids exist.
      this.#police.refuse(session, key === undefined ? 'unknown_key' : 'bad_mac', `auth as ${message.peer}`);
      this.#police.tell(
        session,
        'not_authenticated',
        'authentication failed: unknown or revoked key, or wrong MAC',
        {
          ...(id === undefined ? {} : { id }),
        },
      );
      this.close(session, CloseCode.unauthorized, 'bad credentials');
      return;
    }
    if (!keyAllowsName(key, message.peer)) {
      this.#police.refuse(session, 'name_not_allowed', `key ${key.id} may not use ${message.peer}`);
      this.#police.tell(session, 'forbidden', `key ${key.id} may not use the peer name ${message.peer}`, {
        ...(id === undefined ? {} : { id }),
        hint: `use a name the key allows (${key.peers.join(', ')}) or issue a key for this name`,
      });
      this.close(session, CloseCode.forbidden, 'name not allowed');
      return;
    }
    let peerId = this.#peerIds.get(message.peer);
    if (peerId === undefined) {
      peerId = this.#peerIds.size + 1;
      if (peerId > 0xffff) {
        this.#police.refuse(session, 'too_many_peers', 'peer ids exhausted');
        this.#police.tell(session, 'forbidden', 'the hub has no peer ids left; restart it', {});
        this.close(session, CloseCode.forbidden, 'too many peers');
        return;
      }
      this.#peerIds.set(message.peer, peerId);
    }
    clearTimeout(session.authTimer);
    const previous = this.#byPeer.get(message.peer);
    if (previous !== undefined) {
      this.#log.warn('peer reconnected, closing its previous connection', {
        peer: message.peer,
        previous: previous.id,
        connection: session.id,
      });
      this.close(previous, CloseCode.replaced, 'replaced');
    }
    const peer: PeerSession = {
      state: 'ready',
      id: session.id,
      connection: session.connection,
      connectedAt: session.connectedAt,
      lastSeen: session.lastSeen,
      closing: false,
      traffic: session.traffic,
      policing: session.policing,
      identity: {
        peer: message.peer,
        peerId,
        role: key.role,
        key: key.id,
        kind: message.kind,
        agent: message.agent,
      },
      ingestFrames: 0,
      report: null,
      reportedAt: null,
      snapshotsInFlight: new Map(),
    };
    this.#byConnection.set(peer.id, peer);
    this.#byPeer.set(message.peer, peer);
    const welcome: ServerMessage = {
      op: 'welcome',
      peerId,
      peer: message.peer,
      role: key.role,
      key: key.id,
      version: PROTOCOL_VERSION,
      hub: this.#settings.instance,
      symbols: [...this.#symbols.names],
      symbolsVersion: this.#symbols.version,
      heartbeatMs: this.#settings.heartbeatMs,
      idleTimeoutMs: this.#settings.idleTimeoutMs,
      maxMessageBytes: this.#settings.maxMessageBytes,
    };
    if (id !== undefined) welcome.id = id;
    this.#outbox.text(peer, welcome);
    this.#log.info('peer authenticated', {
      peer: message.peer,
      role: key.role,
      key: key.id,
      kind: message.kind ?? null,
      peerId,
      connection: peer.id,
      remote: peer.connection.remoteAddress,
    });
    this.#hooks?.ready(peer);
  }

  /** Closes a connection from the hub's side (counted by reason); what it sends afterwards is ignored. */
  close(session: Session, code: number, reason: string): void {
    if (session.closing) return;
    session.closing = true;
    this.#metrics.closed(reason.replaceAll(' ', '_'));
    session.connection.close(code, reason);
  }

  /** The transport reports the connection gone. */
  closed(connectionId: number, code: number, reason: string): void {
    const session = this.#byConnection.get(connectionId);
    if (session === undefined) return;
    this.#byConnection.delete(connectionId);
    session.closing = true;
    if (session.state === 'pending') clearTimeout(session.authTimer);
    else if (this.#byPeer.get(session.identity.peer) === session) this.#byPeer.delete(session.identity.peer);
    this.#hooks?.gone(session);
    this.#log.info('peer disconnected', {
      peer: sessionLabel(session),
      role: session.state === 'ready' ? session.identity.role : null,
      connection: session.id,
      code,
      reason: reason.slice(0, 80),
    });
  }

  /** Closes peers silent past the idle timeout and sends the others a heartbeat. */
  heartbeat(now: number): void {
    for (const session of this.peers()) {
      if (session.closing) continue;
      if (now - session.lastSeen > this.#settings.idleTimeoutMs) {
        this.#police.refuse(session, 'idle', `silent for ${now - session.lastSeen} ms`);
        this.close(session, CloseCode.timeout, 'idle timeout');
        continue;
      }
      this.#outbox.text(session, { op: 'heartbeat', time: now });
    }
  }

  /** After the key ring changed: closes peers whose key is gone or revoked, changed role, or no longer allows their name. */
  recheckKeys(): void {
    for (const session of this.peers()) {
      if (session.closing) continue;
      const { key: keyId, role, peer } = session.identity;
      const key = this.#keys.lookup(keyId);
      if (key !== undefined && key.role === role && keyAllowsName(key, peer)) continue;
      this.#log.warn('key revoked or changed; closing its peer', { peer, key: keyId });
      this.#police.tell(session, 'not_authenticated', `key ${keyId} was revoked or changed`, {
        hint: 'the hub operator revoked this key; get a new one (`tributary keys issue`)',
      });
      this.close(session, CloseCode.unauthorized, 'key revoked');
    }
  }
}
