// A small private certificate authority for one fleet: a CA and one certificate per host, made with the openssl command.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** An openssl step failed; `step` says which, the message carries openssl's own words. */
export class FleetCaError extends Error {
  override readonly name = 'FleetCaError';
  constructor(
    readonly step: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${step}: ${message}`, options);
  }
}

/** Where a CA's files are. */
export interface FleetCa {
  readonly dir: string;
  /** The CA certificate (public: every host gets it). */
  readonly certFile: string;
  /** The CA's private key (mode 600; stays on the machine that runs the deploy). */
  readonly keyFile: string;
}

/** One issued certificate and its key. */
export interface HostCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/** The openssl binary (override with `TRIBUTARY_OPENSSL`). */
function openssl(): string {
  return process.env.TRIBUTARY_OPENSSL ?? 'openssl';
}

async function openSsl(step: string, args: string[]): Promise<void> {
  try {
    await run(openssl(), args, { timeout: 60_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const message = stderr.trim().split('\n').slice(-3).join(' | ') || (error as Error).message;
    throw new FleetCaError(step, `openssl ${args[0]} failed: ${message}`, { cause: error });
  }
}

/** A new P-256 private key at `file`, mode 600 from the start. */
async function newKey(step: string, file: string): Promise<void> {
  writeFileSync(file, '', { mode: 0o600 });
  await openSsl(step, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  chmodSync(file, 0o600);
}

/** The CA in `dir` (`ca.crt`, `ca.key`), made when absent; an existing CA is kept as it is. */
export async function ensureFleetCa(dir: string, name: string): Promise<FleetCa> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca: FleetCa = { dir, certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
  if (existsSync(ca.certFile) && existsSync(ca.keyFile)) return ca;
  await newKey('CA key', ca.keyFile);
  await openSsl('CA certificate', [
    'req',
    '-x509',
    '-new',
    '-key',
    ca.keyFile,
    '-sha256',
    '-days',
    '3650',
    '-subj',
    `/CN=${subjectName(name)} fleet CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    ca.certFile,
  ]);
  return ca;
}

/** Characters safe in an openssl `-subj` value. */
function subjectName(name: string): string {
  return name.replace(/[^A-Za-z0-9 ._-]/g, '_').slice(0, 60);
}

/**
 * A certificate for `host` signed by `ca`, valid for each of `names` (DNS names or IP addresses)
 * as a TLS server and as a TLS client, so one certificate serves a host's hub and its peers.
 * Written to `<dir>/<host>.crt` and `<dir>/<host>.key` (600); an existing pair for the same names is kept.
 */
export async function issueHostCertificate(
  ca: FleetCa,
  dir: string,
  host: string,
  names: readonly string[],
): Promise<HostCertificate> {
  if (names.length === 0)
    throw new FleetCaError('host certificate', `${host}: no names or addresses to certify`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cert: HostCertificate = { certFile: join(dir, `${host}.crt`), keyFile: join(dir, `${host}.key`) };
  const sans = [...new Set(names)].map((n) => (isIP(n) === 0 ? `DNS:${n}` : `IP:${n}`)).join(',');
  const namesFile = join(dir, `${host}.names`);
  if (
    existsSync(cert.certFile) &&
    existsSync(cert.keyFile) &&
    existsSync(namesFile) &&
    readFileSync(namesFile, 'utf8') === sans
  ) {
    return cert;
  }
  const csr = join(dir, `${host}.csr`);
  const ext = join(dir, `${host}.ext`);
  await newKey(`key of ${host}`, cert.keyFile);
  await openSsl(`request of ${host}`, [
    'req',
    '-new',
    '-key',
    cert.keyFile,
    '-subj',
    `/CN=${subjectName(host)}`,
    '-out',
    csr,
  ]);
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${sans}`,
      '',
    ].join('\n'),
  );
  await openSsl(`certificate of ${host}`, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-sha256',
    '-days',
    '825',
    '-extfile',
    ext,
    '-out',
    cert.certFile,
  ]);
  rmSync(csr, { force: true });
  rmSync(ext, { force: true });
  writeFileSync(namesFile, sans);
  return cert;
}
