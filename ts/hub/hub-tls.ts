// TLS between machines: the hub's certificate files, what a peer needs to verify the hub, and the loopback rule for plain connections.
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';

/**
 * The hub's TLS files (PEM paths). With `caFile` the hub asks every peer for a certificate and
 * refuses one that the CA did not sign (mutual TLS); without it, peers are authenticated by their
 * hub keys alone.
 */
export interface HubServerTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string | undefined;
}

/** The hub's TLS material read from its files (what `node:https` takes). */
export interface LoadedServerTls {
  readonly files: HubServerTls;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/**
 * What a peer needs to speak TLS to the hub: the CA that signed the hub's certificate (the peer
 * refuses any other) and, when the hub asks for one, the peer's own certificate and key.
 */
export interface HubClientTls {
  readonly ca: Buffer;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
}

/** A TLS file is missing, unreadable or not PEM; `field` names the option that points at it. */
export class HubTlsError extends Error {
  override readonly name = 'HubTlsError';
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** The close code and reason for a plain (non-TLS) connection from an address that is not loopback. */
export const PLAIN_REFUSED = {
  code: 4426,
  reason: 'TLS required: plain connections are accepted from loopback only',
} as const;

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms (`::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const lower = bare.toLowerCase();
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  const v4 = lower.startsWith('::ffff:') ? lower.slice(7) : lower;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  // uWS writes IPv4-mapped addresses in full hex form: 0000:0000:0000:0000:0000:ffff:7f00:0001.
  const mapped = /^(?:0{1,4}:){5}ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(lower);
  if (mapped !== null) return Number.parseInt(mapped[1] ?? '0', 16) >> 8 === 127;
  return false;
}

function readPem(field: string, path: string, what: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new HubTlsError(
      field,
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: error,
      },
    );
  }
  const text = bytes.toString('latin1');
  const marker =
    what === 'CERTIFICATE' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (!marker.test(text)) throw new HubTlsError(field, `${path} holds no PEM ${what.toLowerCase()}`);
  return bytes;
}

function checkPrivate(field: string, path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new HubTlsError(
      field,
      `${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it (a private key must stay private)`,
    );
  }
}

/** Reads and checks the hub's TLS files (the private key must be mode 600 or stricter). */
export function loadServerTls(files: HubServerTls, fieldPrefix = 'hub.tls'): LoadedServerTls {
  const cert = readPem(`${fieldPrefix}.cert`, files.certFile, 'CERTIFICATE');
  const key = readPem(`${fieldPrefix}.key`, files.keyFile, 'PRIVATE KEY');
  checkPrivate(`${fieldPrefix}.key`, files.keyFile);
  const ca =
    files.caFile === undefined ? undefined : readPem(`${fieldPrefix}.ca`, files.caFile, 'CERTIFICATE');
  return { files, cert, key, ca };
}

/** Reads a peer's TLS files: the CA (required), and its own certificate and key (both or neither). */
export function loadClientTls(
  files: { caFile: string; certFile?: string | undefined; keyFile?: string | undefined },
  fieldPrefix = 'hub.tls',
): HubClientTls {
  const ca = readPem(`${fieldPrefix}.ca`, files.caFile, 'CERTIFICATE');
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new HubTlsError(
      files.certFile === undefined ? `${fieldPrefix}.cert` : `${fieldPrefix}.key`,
      'cert and key go together',
    );
  }
  if (files.certFile === undefined || files.keyFile === undefined) return { ca };
  const cert = readPem(`${fieldPrefix}.cert`, files.certFile, 'CERTIFICATE');
  const key = readPem(`${fieldPrefix}.key`, files.keyFile, 'PRIVATE KEY');
  checkPrivate(`${fieldPrefix}.key`, files.keyFile);
  return { ca, cert, key };
}
