// `tributary hub`: runs the hub server until SIGINT/SIGTERM.
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../ts/config/load-config.js';
import { HubServer } from '../../ts/hub/hub-server.js';
import type { TransportChoice } from '../../ts/hub/transport-select.js';
import { Logger } from '../../ts/log/logger.js';
import { UsageError } from './usage-error.js';

const HELP = `Usage: tributary hub [--config <file>] [options]

Runs the hub: collectors send it data, traders and viewers subscribe to it. Defaults come from the
configuration (hub.host, hub.port, hub.transport, hub.snapshotIntervalMs, symbols); options
override them. The shared secret is TRIBUTARY_HUB_SECRET (environment or TRIBUTARY_SECRETS_FILE),
or the variable or file named below, never the command line.

Options:
  -c, --config <file>        configuration file (TRIBUTARY__* environment variables override it)
      --host <addr>          listen address (default hub.host, 127.0.0.1: loopback only)
      --port <n>             listen port (default hub.port, 7700; 0 picks a free one)
      --secret-env <NAME>    environment variable that holds the shared secret
      --secret-file <FILE>   file that holds the shared secret (trailing newline ignored;
                             must not be readable by group or others)
      --symbols <list>       initial symbol registry, comma-separated (BTCUSDT,ETHUSDT,...);
                             the universe collector may set it later
      --transport <t>        auto (default: uWebSockets.js, else ws), uws or ws
      --kline-window <n>     bars kept per symbol and interval (default 45)
      --snapshot-every <ms>  periodic full snapshots (default hub.snapshotIntervalMs; 0 turns them off)
`;

/** Shortest secret accepted: an HMAC key guessable by brute force protects nothing. */
const MIN_SECRET_BYTES = 16;

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      port: { type: 'string' },
      'secret-env': { type: 'string' },
      'secret-file': { type: 'string' },
      symbols: { type: 'string' },
      transport: { type: 'string' },
      'kline-window': { type: 'string' },
      'snapshot-every': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
    strict: true,
  });
}

function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function checkLength(secret: string): string {
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    throw new UsageError(`the shared secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return secret;
}

/** Reads the shared secret from the named environment variable or file. */
export async function readSecret(env: string | undefined, file: string | undefined): Promise<string> {
  if ((env === undefined) === (file === undefined)) {
    throw new UsageError('give exactly one of --secret-env NAME or --secret-file FILE');
  }
  let secret: string;
  if (env !== undefined) {
    const value = process.env[env];
    if (value === undefined) throw new UsageError(`--secret-env: environment variable ${env} is not set`);
    secret = value;
  } else {
    const path = file ?? '';
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      throw new UsageError(
        `--secret-file: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if ((info.mode & 0o077) !== 0) {
      throw new UsageError(`--secret-file: ${path} is readable by group or others (chmod 600 it)`);
    }
    secret = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  }
  return checkLength(secret);
}

/** Runs `tributary hub` with its arguments; resolves with the exit code once stopped by a signal. */
export async function runHub(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const loaded = loadConfig(values.config);
  const settings = loaded.config.hub;
  const transport = values.transport ?? settings.transport;
  if (transport !== 'auto' && transport !== 'uws' && transport !== 'ws') {
    throw new UsageError(`--transport must be auto, uws or ws, got ${JSON.stringify(transport)}`);
  }
  const symbols =
    values.symbols === undefined
      ? [...loaded.config.symbols]
      : values.symbols
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
  let secret: string;
  if (values['secret-env'] !== undefined || values['secret-file'] !== undefined) {
    secret = await readSecret(values['secret-env'], values['secret-file']);
  } else if (loaded.secrets.hubSecret !== undefined) {
    secret = checkLength(loaded.secrets.hubSecret);
  } else {
    throw new UsageError('no shared secret: set TRIBUTARY_HUB_SECRET, or give --secret-env or --secret-file');
  }
  const log = new Logger('hub');
  const hub = await HubServer.start({
    secret,
    host: values.host ?? settings.host,
    port: integer('port', values.port, settings.port, 0, 65_535),
    transport: transport satisfies TransportChoice,
    symbols,
    klineWindow: integer('kline-window', values['kline-window'], 45, 1, 100_000),
    snapshotIntervalMs: integer(
      'snapshot-every',
      values['snapshot-every'],
      settings.snapshotIntervalMs,
      0,
      86_400_000,
    ),
    logger: log,
  });
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info('stopping', { signal });
  await hub.close();
  return 0;
}
