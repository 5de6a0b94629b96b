// `tributary hub`: runs the hub server until SIGINT/SIGTERM.
import { alerterFromConfig } from '../../ts/alerts/create-alerter.js';
import { loadConfig } from '../../ts/config/load-config.js';
import { hubServerTls } from '../../ts/hub/hub-link.js';
import { HubServer } from '../../ts/hub/hub-server.js';
import { HubWatch } from '../../ts/hub/hub-watch.js';
import { KeyFileError, watchKeyFile } from '../../ts/hub/key-file.js';
import type { TransportChoice } from '../../ts/hub/transport-select.js';
import { Logger } from '../../ts/log/logger.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage: tributary hub [--config <file>] --keys <file> [options]

Runs the hub: collectors send it data, traders and viewers subscribe to it. Defaults come from the
configuration (hub.host, hub.port, hub.transport, hub.snapshotIntervalMs, symbols); options
override them. Every peer authenticates with its own key from the key file (\`tributary keys\`),
which the hub watches: keys issued or revoked there take effect without a restart (also on SIGHUP).

Options:
  -c, --config <file>        configuration file (TRIBUTARY__* environment variables override it)
      --keys <file>          the key file (default: TRIBUTARY_HUB_KEYS); mode 600
      --host <addr>          listen address (default hub.host, 127.0.0.1: loopback only)
      --port <n>             listen port (default hub.port, 7700; 0 picks a free one)
      --symbols <list>       initial symbol registry, comma-separated (BTCUSDT,ETHUSDT,...);
                             the universe collector may set it later
      --transport <t>        auto (default: uWebSockets.js, else ws), uws or ws
      --kline-window <n>     bars kept per symbol and interval (default 45)
      --snapshot-every <ms>  periodic full snapshots (default hub.snapshotIntervalMs; 0 turns them off)

TLS: with hub.tls.cert and hub.tls.key the hub speaks TLS only (wss://, https://); with hub.tls.ca
it also requires every peer's certificate to be signed by that CA. Without TLS it accepts plain
connections from loopback addresses only (others are closed with 4426).
`;

/** The environment variable naming the key file when --keys is not given. */
export const KEYS_FILE_ENV = 'TRIBUTARY_HUB_KEYS';

function parse(args: string[]) {
  return parseCommandArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      keys: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
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
  // Digits only: `Number` reads "" (an unset `"$PORT"`) as 0, a random port, and "0x50" as 80.
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** The `--symbols` list: upper-case names, each once (a lower-case one would match no contract). */
function symbolsArg(text: string): string[] {
  const symbols = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const [i, symbol] of symbols.entries()) {
    if (!/^[A-Z0-9]{2,20}$/.test(symbol))
      throw new UsageError(`--symbols: ${JSON.stringify(symbol)} is not a symbol name (A-Z, 0-9)`);
    if (symbols.indexOf(symbol) !== i) throw new UsageError(`--symbols: ${symbol} is named twice`);
  }
  return symbols;
}

/** The key file named by `--keys` or `TRIBUTARY_HUB_KEYS`, or a usage error saying how to make one. */
export function keysFileOf(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const file = option ?? env[KEYS_FILE_ENV];
  if (file === undefined || file === '') {
    throw new UsageError(
      `no key file: give --keys <file> or set ${KEYS_FILE_ENV}; make one with \`tributary keys issue --file <file> --role collector --peer 'kline-*'\` (and one per peer)`,
    );
  }
  return file;
}

/** Runs `tributary hub` with its arguments; resolves with the exit code once stopped by a signal. */
export async function runHub(args: string[]): Promise<number> {
  const { values } = parse(args);
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  // It never calls the exchange: no exchange keys needed (the deploy gives it none).
  const loaded = loadConfig(values.config, process.env, { exchangeKeys: 'unused' });
  const settings = loaded.config.hub;
  const transport = values.transport ?? settings.transport;
  if (transport !== 'auto' && transport !== 'uws' && transport !== 'ws') {
    throw new UsageError(`--transport must be auto, uws or ws, got ${JSON.stringify(transport)}`);
  }
  const symbols = values.symbols === undefined ? [...loaded.config.symbols] : symbolsArg(values.symbols);
  const port = integer('port', values.port, settings.port, 0, 65_535);
  const klineWindow = integer('kline-window', values['kline-window'], 45, 1, 100_000);
  const snapshotIntervalMs = integer(
    'snapshot-every',
    values['snapshot-every'],
    settings.snapshotIntervalMs,
    0,
    86_400_000,
  );
  // Milliseconds, as hub.snapshotIntervalMs (at least 1000): "30" meant as seconds would send a full
  // snapshot to every subscriber 33 times a second.
  if (snapshotIntervalMs > 0 && snapshotIntervalMs < 1000)
    throw new UsageError(
      `--snapshot-every must be 0 (off) or from 1000 to 86400000 ms, got ${JSON.stringify(values['snapshot-every'])}`,
    );
  const keysFile = keysFileOf(values.keys);
  const tls = hubServerTls(loaded);
  const log = new Logger('hub');
  if (process.env.TRIBUTARY_HUB_SECRET !== undefined) {
    log.warn(
      'TRIBUTARY_HUB_SECRET is no longer used: every peer authenticates with its own key (tributary keys)',
    );
  }
  let keys: Awaited<ReturnType<typeof watchKeyFile>>;
  try {
    keys = await watchKeyFile(keysFile, log.child('keys'));
  } catch (error) {
    if (error instanceof KeyFileError) throw new UsageError(error.message);
    throw error;
  }
  const onHangup = (): void => void keys.reload();
  process.on('SIGHUP', onHangup);
  let hub: HubServer;
  try {
    hub = await HubServer.start({
      keys: keys.ring,
      host: values.host ?? settings.host,
      port,
      transport: transport satisfies TransportChoice,
      symbols,
      klineWindow,
      snapshotIntervalMs,
      logger: log,
      ...(tls === undefined ? {} : { tls }),
    });
  } catch (error) {
    process.off('SIGHUP', onHangup);
    keys.close();
    throw error;
  }
  // Silent peers and stale collectors are told to the owner (alerts section; the log without a webhook).
  const alerts = alerterFromConfig(loaded, 'hub', log);
  // Its alerts reach the records store like every process's: relayed to the recorder.
  const offRelay = hub.relayAlertsFrom(alerts);
  const { watch } = loaded.config.alerts;
  const hubWatch = new HubWatch({
    health: () => hub.health(),
    alerts,
    peerSilentMs: watch.peerSilentMs,
    staleDataMs: watch.staleDataMs,
    sparseKinds: watch.sparseKinds,
    checkMs: watch.checkMs,
  });
  hubWatch.start();
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info('stopping', { signal });
  process.off('SIGHUP', onHangup);
  keys.close();
  hubWatch.stop();
  offRelay();
  await hub.close();
  await alerts.close();
  return 0;
}
