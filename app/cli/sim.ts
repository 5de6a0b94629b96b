// `tributary sim`: runs the Binance USD-M futures simulator until Ctrl-C.
import { readFile } from 'node:fs/promises';
import { startSimulator } from '../../sim/simulator.js';
import {
  DEFAULT_SIM_HOST,
  DEFAULT_SIM_PORT,
  DEMO_API_KEY,
  DEMO_API_SECRET,
  type SimulatorConfig,
  SimulatorConfigError,
  validateSimulatorConfig,
} from '../../sim/simulator-config.js';
import { Logger } from '../../ts/log/logger.js';
import { symbolFromFileName } from './aggregate.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage: tributary sim [options]

Runs a local Binance USD-M futures exchange (REST + websocket) that Tributary, tests and any Binance
client can use unchanged: point the client's fapi base URL at the printed REST URL.

Options:
      --host <h>              interface to listen on (default ${DEFAULT_SIM_HOST})
      --port <p>              port (default ${DEFAULT_SIM_PORT}; 0 picks a free port)
      --api-key <k>           API key of the simulated account (with --api-secret)
      --api-secret <s>        its secret (never printed)
      --balance <usdt>        starting USDT balance (default 10000)
      --position-mode <m>     one-way (default) or hedge
      --seed <n>              random-walk seed (runs with one seed repeat)
      --symbols <a,b>         contracts to list (default: all built-in ones)
      --replay <file.csv>     replay a data.binance.vision aggTrades dump instead of a random walk
      --replay-symbol <s>     the dump's symbol (default: from the file name)
      --speed <1|10|max>      replay speed (default 1)
      --config <sim.json>     a JSON SimulatorConfig; flags override it
  -h, --help                  this text

Without --api-key/--api-secret (and no accounts in --config) the simulator uses the demo key pair
  API key:    ${DEMO_API_KEY}
  API secret: ${DEMO_API_SECRET}
which is public on purpose (the simulator holds no real money).

Admin API on the same port: GET /_sim/health, GET|POST|DELETE /_sim/faults (see docs).
`;

/** Where the command writes, and what stops it (tests pass their own). */
export interface SimCliIo {
  readonly out: (text: string) => void;
  /** Resolves when the simulator should stop (default: SIGINT or SIGTERM). */
  readonly stopped: () => Promise<string>;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

const defaultIo: SimCliIo = { out: (text) => process.stdout.write(text), stopped: waitForSignal };

function parse(args: string[]) {
  return parseCommandArgs({
    args,
    allowPositionals: false,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'api-key': { type: 'string' },
      'api-secret': { type: 'string' },
      balance: { type: 'string' },
      'position-mode': { type: 'string' },
      seed: { type: 'string' },
      symbols: { type: 'string' },
      replay: { type: 'string' },
      'replay-symbol': { type: 'string' },
      speed: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

type Values = ReturnType<typeof parse>['values'];

function integerFlag(name: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${name}: expected an integer ${min}..${max}, got "${text}"`);
  }
  return Number(text);
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--config: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--config: ${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--config: ${path} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * The simulator configuration from `--config` (if any) overridden by flags, validated. `usesDemoKey`
 * says whether the documented demo key pair was filled in.
 */
export async function simConfigFromArgs(
  values: Values,
): Promise<{ config: SimulatorConfig; usesDemoKey: boolean }> {
  const raw: Record<string, unknown> = values.config === undefined ? {} : await readConfigFile(values.config);
  if (values.host !== undefined) raw.host = values.host;
  raw.port =
    values.port === undefined ? (raw.port ?? DEFAULT_SIM_PORT) : integerFlag('port', values.port, 0, 65_535);
  if (values.seed !== undefined) raw.seed = integerFlag('seed', values.seed, -(2 ** 53 - 1), 2 ** 53 - 1);
  if (values.symbols !== undefined)
    raw.symbols = values.symbols.split(',').map((s) => s.trim().toUpperCase());
  if ((values['api-key'] === undefined) !== (values['api-secret'] === undefined)) {
    throw new UsageError('--api-key and --api-secret go together');
  }
  let usesDemoKey = false;
  if (values['api-key'] !== undefined && values['api-secret'] !== undefined) {
    raw.accounts = [{ apiKey: values['api-key'], apiSecret: values['api-secret'] }];
  } else if (raw.accounts === undefined) {
    raw.accounts = [{ apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET }];
    usesDemoKey = true;
  }
  if (values.balance !== undefined || values['position-mode'] !== undefined) {
    if (!Array.isArray(raw.accounts)) throw new UsageError('--config: accounts must be a list');
    raw.accounts = raw.accounts.map((account: unknown) => ({
      ...(typeof account === 'object' && account !== null ? account : {}),
      ...(values.balance === undefined ? {} : { balances: { USDT: values.balance } }),
      ...(values['position-mode'] === undefined ? {} : { positionMode: values['position-mode'] }),
    }));
  }
  if (values.replay !== undefined) {
    const symbol = values['replay-symbol'] ?? symbolFromFileName(values.replay);
    if (symbol === undefined)
      throw new UsageError('--replay: cannot tell the symbol from the file name; pass --replay-symbol');
    const speedText = values.speed ?? '1';
    const speed = speedText === 'max' ? 'max' : Number(speedText);
    if (speed !== 'max' && !(Number.isFinite(speed) && speed > 0)) {
      throw new UsageError(`--speed: expected a positive number or "max", got "${speedText}"`);
    }
    raw.source = { kind: 'replay', csvPath: values.replay, symbol, speed };
  } else if (values['replay-symbol'] !== undefined || values.speed !== undefined) {
    throw new UsageError('--replay-symbol and --speed need --replay');
  }
  try {
    return { config: validateSimulatorConfig(raw), usesDemoKey };
  } catch (error) {
    if (error instanceof SimulatorConfigError) throw new UsageError(`configuration: ${error.message}`);
    throw error;
  }
}

/** Runs `tributary sim` with its arguments until SIGINT/SIGTERM; returns the exit code. */
export async function runSim(args: string[], io: SimCliIo = defaultIo): Promise<number> {
  let values: Values;
  try {
    values = parse(args).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    io.out(HELP);
    return 0;
  }
  const { config, usesDemoKey } = await simConfigFromArgs(values);
  const logger = new Logger('sim');
  const sim = await startSimulator(config, { logger });
  const stopped = io.stopped();
  const keys = config.accounts.map((a) => a.apiKey).join(', ');
  io.out(
    [
      'Tributary Binance USD-M futures simulator',
      `  REST:       ${sim.restUrl}`,
      `  WebSocket:  ${sim.wsUrl}  (/market/ws/<stream>, /public/ws/<stream>, /private/ws/<listenKey>)`,
      `  Admin:      ${sim.restUrl}/_sim/health, ${sim.restUrl}/_sim/faults`,
      `  API key:    ${keys}`,
      usesDemoKey
        ? '  Using the documented demo key pair (see `tributary sim --help`); pass --api-key/--api-secret for your own.'
        : '  API secret: as configured (not printed).',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  const signal = await stopped;
  logger.info('stopping', { signal });
  await sim.stop();
  io.out('Simulator stopped.\n');
  return 0;
}
