// Reads what a host has now: Node, the installed releases, our units and their state, and the hashes of our files (never a secret).

import { type RemoteShell, type SshTarget, shellQuote } from './remote-shell.js';
import { hostPaths } from './systemd-unit.js';

/** One installed unit. */
export interface ObservedUnit {
  /** The file's sha256. */
  readonly hash: string;
  /** `systemctl is-active`: active, inactive, failed, ... */
  readonly state: string;
}

/** One service's environment file: the hash of what the deploy wrote, and the id of its hub key. */
export interface ObservedEnv {
  readonly managedHash: string;
  readonly keyId: string | undefined;
}

/** What a host has now. */
export interface HostState {
  /** Node's version and ABI (`process.versions.modules`), or undefined when the binary is missing. */
  readonly node: { version: string; abi: string } | undefined;
  readonly userExists: boolean;
  readonly hasRsync: boolean;
  readonly hasSystemd: boolean;
  readonly current: string | undefined;
  readonly previous: string | undefined;
  readonly releases: readonly string[];
  /** By service name. */
  readonly units: ReadonlyMap<string, ObservedUnit>;
  /**
   * sha256 by path relative to the install dir (`etc/config.json`, `etc/tls/ca.crt`, every file
   * below `etc/strategy/`). A `node_modules` folder there is left out: it is the operator's, put
   * there by hand, so the deploy neither lists nor removes it.
   */
  readonly files: ReadonlyMap<string, string>;
  /** By service name. */
  readonly envs: ReadonlyMap<string, ObservedEnv>;
}

/** The probe script: prints one fact a line; reads env files only to hash them and to name the key id. */
export function probeScript(dir: string, user: string, node: string, unitDir: string): string {
  const p = hostPaths(dir);
  const q = shellQuote;
  return `set -u
v=$(${q(node)} -p 'process.versions.node+" "+process.versions.modules' 2>/dev/null) && echo "node $v" || echo "node none"
id -u ${q(user)} >/dev/null 2>&1 && echo "user yes" || echo "user no"
command -v rsync >/dev/null 2>&1 && echo "rsync yes" || echo "rsync no"
command -v systemctl >/dev/null 2>&1 && echo "systemd yes" || echo "systemd no"
[ -L ${q(p.current)} ] && echo "current $(basename "$(readlink ${q(p.current)})")"
[ -L ${q(p.previous)} ] && echo "previous $(basename "$(readlink ${q(p.previous)})")"
for r in ${q(p.releases)}/*/; do [ -f "$r/release.json" ] && echo "release $(basename "$r")"; done
for f in ${q(unitDir)}/tributary-*.service; do
  [ -f "$f" ] || continue
  u=$(basename "$f")
  echo "unit $(basename "$u" .service | sed 's/^tributary-//') $(sha256sum < "$f" | cut -c1-64) $(systemctl is-active "$u" 2>/dev/null || true)"
done
for f in ${q(p.config)} ${q(p.tls)}/*; do
  [ -f "$f" ] && echo "file \${f#${q(`${dir}/`)}} $(sha256sum < "$f" | cut -c1-64)"
done
[ -d ${q(p.strategy)} ] && find ${q(p.strategy)} -name node_modules -prune -o -type f -print | sort | while read -r f; do
  echo "file \${f#${q(`${dir}/`)}} $(sha256sum < "$f" | cut -c1-64)"
done
for f in ${q(p.env)}/*.env; do
  [ -f "$f" ] || continue
  k=$(sed -n 's/^TRIBUTARY_HUB_KEY=\\([^:]*\\):.*/\\1/p' "$f")
  echo "env $(basename "$f" .env) $(grep -v '^TRIBUTARY_HUB_KEY=' "$f" | sha256sum | cut -c1-64) \${k:-none}"
done
echo "end"
`;
}

/** Reads the probe's output; throws when it is cut short (no `end` line). */
export function parseProbe(output: string): HostState {
  let node: HostState['node'];
  let userExists = false;
  let hasRsync = false;
  let hasSystemd = false;
  let current: string | undefined;
  let previous: string | undefined;
  let complete = false;
  const releases: string[] = [];
  const units = new Map<string, ObservedUnit>();
  const files = new Map<string, string>();
  const envs = new Map<string, ObservedEnv>();
  for (const line of output.split('\n')) {
    const [word, a, b, c] = line.trim().split(/\s+/);
    switch (word) {
      case 'node':
        node = a === undefined || a === 'none' || b === undefined ? undefined : { version: a, abi: b };
        break;
      case 'user':
        userExists = a === 'yes';
        break;
      case 'rsync':
        hasRsync = a === 'yes';
        break;
      case 'systemd':
        hasSystemd = a === 'yes';
        break;
      case 'current':
        current = a;
        break;
      case 'previous':
        previous = a;
        break;
      case 'release':
        if (a !== undefined) releases.push(a);
        break;
      case 'unit':
        if (a !== undefined && b !== undefined) units.set(a, { hash: b, state: c ?? 'unknown' });
        break;
      case 'file':
        if (a !== undefined && b !== undefined) files.set(a, b);
        break;
      case 'env':
        if (a !== undefined && b !== undefined)
          envs.set(a, { managedHash: b, keyId: c === 'none' ? undefined : c });
        break;
      case 'end':
        complete = true;
        break;
    }
  }
  if (!complete) throw new Error('the probe output was cut short');
  return { node, userExists, hasRsync, hasSystemd, current, previous, releases, units, files, envs };
}

/** Probes `target`: a {@link RemoteError} (unreachable) when ssh cannot connect. */
export async function probeHost(
  shell: RemoteShell,
  target: SshTarget,
  layout: { dir: string; user: string; node: string; unitDir: string },
): Promise<HostState> {
  const out = await shell.check(
    target,
    'probe',
    probeScript(layout.dir, layout.user, layout.node, layout.unitDir),
    30_000,
  );
  return parseProbe(out);
}
