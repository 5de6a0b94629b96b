// `tributary keys`: issues, lists and revokes the hub's per-peer keys in its key file.
import { isPeerRole, PEER_ROLES } from '../../ts/hub/control-messages.js';
import { HUB_KEY_ENV } from '../../ts/hub/hub-link.js';
import { credentialsToken, issueKey, readKeyFile, revokeKey } from '../../ts/hub/key-file.js';
import type { PeerKey } from '../../ts/hub/peer-keys.js';
import { keysFileOf } from './hub.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage:
  tributary keys issue --role <role> --peer <name> [--peer <name> ...] [--label <text>] [--file <f>]
  tributary keys list [--file <f>] [--json]
  tributary keys revoke <key id> [--file <f>]

Manages the hub's key file (default: the file named by TRIBUTARY_HUB_KEYS; created with mode 600
by the first issue). Every peer authenticates with its own key; the key, not the peer, says its role
(${PEER_ROLES.join(', ')}) and the peer names it may use (exact names, or patterns with * such as
kline-*). A running hub picks up issued and revoked keys within a second (or on SIGHUP) and closes
the peers of a revoked key.

issue   prints the new key's ${HUB_KEY_ENV}=<id>:<secret> line on stdout (the only time the secret is
        shown): put it in the peer's environment, e.g. a mode 600 env file.
list    every key without its secret: id, role, peer names, state, created, label.
revoke  erases the key's secret and marks it revoked (it stays listed).

Options:
  -f, --file <f>     the key file (default: TRIBUTARY_HUB_KEYS)
      --role <role>  issue: the key's role
      --peer <name>  issue: a peer name or pattern the key may use (repeat for several)
      --label <text> issue: a note shown by list (who or what the key is for)
      --json         list: JSON instead of a table
`;

function parse(args: string[]) {
  return parseCommandArgs({
    args,
    options: {
      file: { type: 'string', short: 'f' },
      role: { type: 'string' },
      peer: { type: 'string', multiple: true },
      label: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
}

/** Where `tributary keys` writes: stdout for results, stderr for what a person reads. */
export interface KeysOutput {
  out(text: string): void;
  err(text: string): void;
}

const STDIO: KeysOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function date(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function table(keys: readonly PeerKey[]): string {
  const rows = [
    ['id', 'role', 'peers', 'state', 'created', 'label'],
    ...keys.map((k) => [
      k.id,
      k.role,
      k.peers.join(','),
      k.revokedAt === null ? 'active' : `revoked ${date(k.revokedAt)}`,
      date(k.createdAt),
      k.label ?? '',
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((r) => (r[column] ?? '').length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** Runs `tributary keys` with its arguments; returns the exit code. */
export async function runKeys(args: string[], output: KeysOutput = STDIO): Promise<number> {
  const { values, positionals } = parse(args);
  const [action, ...rest] = positionals;
  if (values.help === true || action === undefined) {
    output.out(HELP);
    return action === undefined && values.help !== true ? 2 : 0;
  }
  const file = keysFileOf(values.file);
  switch (action) {
    case 'issue': {
      if (rest.length > 0) throw new UsageError(`issue takes no arguments, got ${rest.join(' ')}`);
      const role = values.role;
      if (!isPeerRole(role)) throw new UsageError(`--role must be one of ${PEER_ROLES.join(', ')}`);
      const peers = values.peer ?? [];
      if (peers.length === 0) throw new UsageError('give at least one --peer <name or pattern>');
      for (const peer of peers) {
        if (!/^[A-Za-z0-9._:@*-]{1,64}$/.test(peer)) {
          throw new UsageError(
            `--peer ${JSON.stringify(peer)}: a name or pattern of A–Z a–z 0–9 . _ : @ - and *`,
          );
        }
      }
      const key = await issueKey(file, {
        role,
        peers,
        ...(values.label === undefined ? {} : { label: values.label }),
      });
      output.err(
        `Issued key ${key.id} (${key.role}; peers ${key.peers.join(', ')}) in ${file}.\n` +
          `Put the line below in the peer's environment (a mode 600 env file); the secret is not shown again.\n`,
      );
      output.out(`${HUB_KEY_ENV}=${credentialsToken(key)}\n`);
      return 0;
    }
    case 'list': {
      if (rest.length > 0) throw new UsageError(`list takes no arguments, got ${rest.join(' ')}`);
      const { keys } = await readKeyFile(file);
      const listed = keys.map(({ secret: _secret, ...key }) => key);
      output.out(values.json === true ? `${JSON.stringify(listed, null, 2)}\n` : table(listed));
      return 0;
    }
    case 'revoke': {
      const [id, ...extra] = rest;
      if (id === undefined || extra.length > 0) throw new UsageError('revoke takes exactly one key id');
      const key = await revokeKey(file, id);
      output.err(
        `Revoked key ${key.id} (${key.role}; peers ${key.peers.join(', ')}). A hub watching ${file} closes its peers within a second.\n`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown action ${JSON.stringify(action)}: issue, list or revoke`);
  }
}
