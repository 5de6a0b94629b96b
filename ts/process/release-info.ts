// Which release of Tributary this process runs: the package version, and the release id when installed from a release artifact.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';

/** The file a release artifact carries at the package root (written by `tributary release`). */
export const RELEASE_FILE = 'release.json';

function readVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
  const version = (manifest as { version?: unknown }).version;
  return typeof version === 'string' ? version : '0.0.0';
}

function readReleaseId(): string | undefined {
  const file = join(packageRoot, RELEASE_FILE);
  if (!existsSync(file)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const id = (parsed as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * This process's version as status shows it: `<package version>` from a checkout, or
 * `<package version>+<release id>` when installed from a release artifact.
 */
export const releaseVersion: string = (() => {
  const id = readReleaseId();
  const version = readVersion();
  return id === undefined ? version : `${version}+${id.slice(0, 24)}`;
})();

/** The host name status shows: `TRIBUTARY_HOST` (the deploy sets the inventory's name), else the OS's. */
export function hostName(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.TRIBUTARY_HOST;
  const name = named !== undefined && named !== '' ? named : hostname();
  // The hub accepts [A-Za-z0-9._:+@-] in a host name; anything else becomes `-`.
  return name.replace(/[^A-Za-z0-9._:+@-]/g, '-').slice(0, 64) || 'unknown';
}

/** When this process started (Unix ms). */
export const processStartedAt: number = Math.round(Date.now() - process.uptime() * 1000);
