// Per-peer keys: each names a role and the peer names it may use; the key ring the hub authenticates against.
import { z } from 'zod';
import { isPeerName, KEY_ID, PEER_ROLES, type PeerRole } from './control-messages.js';

/** A peer-name pattern: an exact name, or one with `*` standing for any run of name characters. */
const NAME_PATTERN = /^[A-Za-z0-9._:@*-]{1,64}$/;

/** One key as the key file holds it. A revoked key keeps its id and history but not its secret. */
export const PeerKeySchema = z
  .strictObject({
    id: z.string().regex(KEY_ID, 'a key id is 1–64 of A–Z a–z 0–9 . _ -'),
    /** The HMAC secret (text; its UTF-8 bytes are the HMAC key). Absent once revoked. */
    secret: z.string().min(32, 'a key secret has at least 32 characters').max(256).optional(),
    role: z.enum(PEER_ROLES as [PeerRole, ...PeerRole[]]),
    /** Names (or `*` patterns) the peer may use. */
    peers: z
      .array(z.string().regex(NAME_PATTERN, 'a peer name or pattern: A–Z a–z 0–9 . _ : @ - and *'))
      .min(1),
    label: z.string().max(200).optional(),
    createdAt: z.number().int().nonnegative(),
    revokedAt: z.number().int().nonnegative().nullable().default(null),
  })
  .refine((key) => key.revokedAt !== null || key.secret !== undefined, {
    message: 'a key that is not revoked needs its secret',
    path: ['secret'],
  });

/** The key file: every key issued, revoked ones included. */
export const KeyFileSchema = z
  .strictObject({
    version: z.literal(1),
    keys: z.array(PeerKeySchema),
  })
  .refine((file) => new Set(file.keys.map((k) => k.id)).size === file.keys.length, {
    message: 'key ids must be unique',
    path: ['keys'],
  });

export type PeerKey = z.infer<typeof PeerKeySchema>;
export type KeyFileContent = z.infer<typeof KeyFileSchema>;

/** A usable key: not revoked, so it has its secret. */
export type ActiveKey = PeerKey & { secret: string; revokedAt: null };

/** What a peer holds to authenticate: its key id and secret. */
export interface HubKeyCredentials {
  id: string;
  secret: string;
}

function patternRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.]/g, '\\.').replaceAll('*', '[A-Za-z0-9._:@-]*');
  return new RegExp(`^${escaped}$`);
}

/** Whether `key` lets a peer use the name `peer`. */
export function keyAllowsName(key: Pick<PeerKey, 'peers'>, peer: string): boolean {
  if (!isPeerName(peer)) return false;
  return key.peers.some((pattern) =>
    pattern.includes('*') ? patternRegExp(pattern).test(peer) : pattern === peer,
  );
}

function isActive(key: PeerKey): key is ActiveKey {
  return key.revokedAt === null && key.secret !== undefined;
}

/** How the last (re)load of the keys went, for the status document. */
export interface KeyRingState {
  /** Active keys, and revoked ones still listed. */
  active: number;
  revoked: number;
  /** When the keys in use were loaded (Unix ms). */
  loadedAt: number;
  /** Loads that failed since start (the previous keys stayed in force), and the last failure. */
  failedLoads: number;
  lastError: string | null;
}

/**
 * The keys the hub accepts. Replaced as a whole when the key file changes; listeners (the hub) are
 * told, so a peer whose key was revoked or narrowed is closed at once.
 */
export class KeyRing {
  #active = new Map<string, ActiveKey>();
  #revoked = 0;
  #loadedAt = Date.now();
  #failedLoads = 0;
  #lastError: string | null = null;
  readonly #listeners = new Set<() => void>();

  constructor(keys: readonly PeerKey[] = []) {
    this.#set(keys);
  }

  /** The active key with this id (undefined for an unknown or revoked one). */
  lookup(id: string): ActiveKey | undefined {
    return this.#active.get(id);
  }

  /** Puts `keys` in force and tells the listeners. */
  replace(keys: readonly PeerKey[]): void {
    this.#set(keys);
    for (const listener of this.#listeners) listener();
  }

  /** Records a load that failed; the keys in force stay. */
  loadFailed(error: string): void {
    this.#failedLoads += 1;
    this.#lastError = error;
  }

  /** Called after every {@link replace}. Returns the function that removes the listener. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get state(): KeyRingState {
    return {
      active: this.#active.size,
      revoked: this.#revoked,
      loadedAt: this.#loadedAt,
      failedLoads: this.#failedLoads,
      lastError: this.#lastError,
    };
  }

  #set(keys: readonly PeerKey[]): void {
    const active = new Map<string, ActiveKey>();
    let revoked = 0;
    for (const key of keys) {
      if (isActive(key)) active.set(key.id, key);
      else revoked += 1;
    }
    this.#active = active;
    this.#revoked = revoked;
    this.#loadedAt = Date.now();
  }
}
