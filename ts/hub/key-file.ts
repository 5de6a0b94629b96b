// The hub's key file: read and validated, written atomically (mode 0600), watched so keys change without a restart.
import { randomBytes } from 'node:crypto';
import { type Stats, unwatchFile, watchFile } from 'node:fs';
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { PeerRole } from './control-messages.js';
import {
  type ActiveKey,
  type HubKeyCredentials,
  type KeyFileContent,
  KeyFileSchema,
  KeyRing,
  type PeerKey,
  PeerKeySchema,
} from './peer-keys.js';

/** A key file that cannot be read, is readable by others, or does not hold valid keys. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`key file ${path}: ${message}`, options);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads and validates the key file; refuses one that group or others may read. */
export async function readKeyFile(path: string): Promise<KeyFileContent> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    throw new KeyFileError(path, `cannot be read: ${describe(error)}`, { cause: error });
  }
  if ((info.mode & 0o077) !== 0) {
    throw new KeyFileError(
      path,
      `is readable by group or others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new KeyFileError(path, `is not valid JSON: ${describe(error)}`, { cause: error });
  }
  const parsed = KeyFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new KeyFileError(path, `is not a valid key file: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** Writes `content` to `path` atomically (a 0600 file beside it, then rename). */
async function writeKeyFile(path: string, content: KeyFileContent): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.keys.tmp`);
  try {
    await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new KeyFileError(path, `cannot be written: ${describe(error)}`, { cause: error });
  }
}

/** Runs `change` on the file's content under an exclusive lock file, and writes what it returns. */
async function updateKeyFile<T>(
  path: string,
  change: (content: KeyFileContent) => { content: KeyFileContent; result: T },
  create: boolean,
): Promise<T> {
  const lock = `${path}.lock`;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(lock, 'wx', 0o600);
  } catch (error) {
    throw new KeyFileError(
      path,
      `is locked by another writer (${lock}); retry, or remove the lock if no \`tributary keys\` is running: ${describe(error)}`,
      { cause: error },
    );
  }
  try {
    let current: KeyFileContent;
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) current = await readKeyFile(path);
    else if (create) current = { version: 1, keys: [] };
    else throw new KeyFileError(path, 'does not exist');
    const { content, result } = change(current);
    await writeKeyFile(path, content);
    return result;
  } finally {
    await handle.close();
    await unlink(lock).catch(() => undefined);
  }
}

/** What to issue a key for. */
export interface KeyRequest {
  role: PeerRole;
  /** Peer names or `*` patterns the key may use. */
  peers: string[];
  label?: string;
}

/** Makes a new key (id `hk` + 16 hex digits, 64-hex-digit secret), valid for the schema. */
export function newKey(request: KeyRequest, now: number = Date.now()): ActiveKey {
  const key = PeerKeySchema.parse({
    id: `hk${randomBytes(8).toString('hex')}`,
    secret: randomBytes(32).toString('hex'),
    role: request.role,
    peers: request.peers,
    ...(request.label === undefined ? {} : { label: request.label }),
    createdAt: now,
    revokedAt: null,
  });
  return key as ActiveKey;
}

/** Adds a new key to the file (created, mode 0600, when absent); returns it with its secret. */
export async function issueKey(path: string, request: KeyRequest): Promise<ActiveKey> {
  return updateKeyFile(
    path,
    (content) => {
      const key = newKey(request);
      return { content: { ...content, keys: [...content.keys, key] }, result: key };
    },
    true,
  );
}

/**
 * Revokes a key: it stays listed with `revokedAt`, its secret is erased. A hub watching the file
 * closes the peers using it. Returns the revoked key; throws when the id is unknown.
 */
export async function revokeKey(path: string, id: string, now: number = Date.now()): Promise<PeerKey> {
  return updateKeyFile(
    path,
    (content) => {
      const index = content.keys.findIndex((k) => k.id === id);
      const found = content.keys[index];
      if (found === undefined) throw new KeyFileError(path, `has no key ${id}`);
      const { secret: _erased, ...rest } = found;
      const revoked: PeerKey = { ...rest, revokedAt: found.revokedAt ?? now };
      const keys = [...content.keys];
      keys[index] = revoked;
      return { content: { ...content, keys }, result: revoked };
    },
    false,
  );
}

/** Writes a fresh key file holding exactly `keys` (used by `tributary up` for its own processes). */
export async function writeNewKeyFile(path: string, keys: readonly PeerKey[]): Promise<void> {
  await writeKeyFile(path, KeyFileSchema.parse({ version: 1, keys }));
}

/** The `TRIBUTARY_HUB_KEY` value a peer authenticates with: `<key id>:<secret>`. */
export function credentialsToken(key: HubKeyCredentials): string {
  return `${key.id}:${key.secret}`;
}

/** A key file the hub follows: the ring it keeps current, and how to reload or stop. */
export interface WatchedKeyFile {
  readonly ring: KeyRing;
  /** Reads the file now (also on SIGHUP); keeps the keys in force when the file is invalid. */
  reload(): Promise<boolean>;
  close(): void;
}

/**
 * Loads the key file (failing when it is invalid) and watches it: every change is read, validated
 * and put in force; a file that fails to load is logged and counted, and the previous keys stay.
 * Stat polling (`intervalMs`, default 1 s) also sees editors' and `tributary keys`' atomic renames.
 */
export async function watchKeyFile(path: string, log: Logger, intervalMs = 1_000): Promise<WatchedKeyFile> {
  const ring = new KeyRing((await readKeyFile(path)).keys);
  log.info('hub keys loaded', { file: path, ...ring.state });
  let loading: Promise<boolean> | undefined;
  const load = async (): Promise<boolean> => {
    try {
      const content = await readKeyFile(path);
      ring.replace(content.keys);
      log.info('hub keys reloaded', { file: path, active: ring.state.active, revoked: ring.state.revoked });
      return true;
    } catch (error) {
      const message = describe(error);
      ring.loadFailed(message);
      log.error('hub keys not reloaded; the previous keys stay in force', { file: path, error: message });
      return false;
    }
  };
  const reload = (): Promise<boolean> => {
    // One load at a time; a change during a load is picked up by the next poll.
    loading ??= load().finally(() => {
      loading = undefined;
    });
    return loading;
  };
  const listener = (current: Stats, previous: Stats): void => {
    if (
      current.mtimeMs === previous.mtimeMs &&
      current.ino === previous.ino &&
      current.size === previous.size
    )
      return;
    void reload();
  };
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return {
    ring,
    reload,
    close: () => unwatchFile(path, listener),
  };
}
