// Where a peer process finds the hub and the key it authenticates with.
import type { LoadedConfig } from '../config/load-config.js';
import { registerSecret } from '../log/log-redaction.js';
import { type HubClientTls, type HubServerTls, HubTlsError, loadClientTls } from './hub-tls.js';
import type { HubKeyCredentials } from './peer-keys.js';

/** The environment variable holding a peer's hub key: `<key id>:<secret>` as `tributary keys issue` prints it. */
export const HUB_KEY_ENV = 'TRIBUTARY_HUB_KEY';

/** A peer's hub key is missing or malformed. */
export class HubKeyError extends Error {
  override readonly name = 'HubKeyError';
}

/** Where peers reach the hub. */
export function hubUrl(loaded: LoadedConfig): string {
  const { hub } = loaded.config;
  const scheme = hub.tls?.ca !== undefined || hub.tls?.cert !== undefined ? 'wss' : 'ws';
  return hub.url ?? `${scheme}://${hub.host}:${hub.port}`;
}

/** Reads a `<key id>:<secret>` token. */
export function parseHubKey(token: string): HubKeyCredentials | undefined {
  const colon = token.indexOf(':');
  if (colon <= 0) return undefined;
  const id = token.slice(0, colon).trim();
  const secret = token.slice(colon + 1).trim();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id) || secret.length < 32) return undefined;
  return { id, secret };
}

/** This process's hub key from `TRIBUTARY_HUB_KEY`, or a {@link HubKeyError} saying how to get one. */
export function hubKey(env: NodeJS.ProcessEnv = process.env): HubKeyCredentials {
  const token = env[HUB_KEY_ENV];
  if (token === undefined || token === '') {
    throw new HubKeyError(
      `${HUB_KEY_ENV} is not set: issue this peer a key on the hub machine (\`tributary keys issue --role <role> --peer <name>\`) and put the printed ${HUB_KEY_ENV}=<id>:<secret> line in its environment`,
    );
  }
  const key = parseHubKey(token);
  if (key === undefined) {
    throw new HubKeyError(`${HUB_KEY_ENV} must be <key id>:<secret> as \`tributary keys issue\` prints it`);
  }
  // Masked wherever it might surface in a log line (an error text, a URL).
  registerSecret(key.secret);
  return key;
}

/** The hub's TLS files from `hub.tls` (cert and key, optional CA), or undefined when TLS is off. */
export function hubServerTls(loaded: LoadedConfig): HubServerTls | undefined {
  const tls = loaded.config.hub.tls;
  if (tls === undefined || (tls.cert === undefined && tls.key === undefined)) return undefined;
  if (tls.cert === undefined || tls.key === undefined) {
    throw new HubTlsError(
      tls.cert === undefined ? 'hub.tls.cert' : 'hub.tls.key',
      'the hub needs both cert and key',
    );
  }
  return {
    certFile: tls.cert,
    keyFile: tls.key,
    caFile: tls.peerCertificates === 'required' ? tls.ca : undefined,
  };
}

/**
 * What a peer needs to reach a `wss://` hub from `hub.tls`: the CA that signed the hub's
 * certificate and this peer's own certificate and key; undefined when `hub.tls.ca` is not set
 * (then a `wss://` hub is checked against the system's CAs).
 */
export function hubClientTls(loaded: LoadedConfig): HubClientTls | undefined {
  const tls = loaded.config.hub.tls;
  if (tls?.ca === undefined) return undefined;
  return loadClientTls({ caFile: tls.ca, certFile: tls.cert, keyFile: tls.key });
}

/** `{ tls }` for a {@link HubClient}'s options when the configuration has TLS, else `{}`. */
export function hubTlsOption(loaded: LoadedConfig): { tls?: HubClientTls } {
  const tls = hubClientTls(loaded);
  return tls === undefined ? {} : { tls };
}
