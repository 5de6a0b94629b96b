// `npm run soak`: runs the soak (app/soak/soak-run.ts) and prints its result as JSON; exits 1 when a check failed.
import { Logger } from '../../ts/log/logger.js';
import { scriptArgs } from '../cli/usage-error.js';
import { runSoak } from './soak-run.js';

const USAGE = `usage: npm run soak -- [--minutes N] [--rate trades/s] [--universe contracts] [--kill-every-s N] [--seed N] [--state-dir DIR]
  defaults: 10 minutes, 20000 trades/s, 600 contracts (the real USD-M universe), a kill every 30 s, seed 1
  --state-dir: where the system keeps its records, journal and log (default a new temporary folder,
  removed when the soak passes, kept when it fails; the result's stateDir names it)
`;

const values = scriptArgs('soak', USAGE, {
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '20000' },
    // The real USD-M universe by default: a soak of six symbols hides what breaks at 600.
    universe: { type: 'string', default: '600' },
    'kill-every-s': { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    'state-dir': { type: 'string' },
  },
});

function positive(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`--${name} must be a positive number, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return value;
}

/** `--universe`: a whole number of contracts the simulator can list (1 … 2,000, as its config allows). */
function contracts(text: string | undefined): number {
  const value = positive('universe', text);
  if (!Number.isInteger(value) || value > 2_000) {
    process.stderr.write(`--universe must be a whole number from 1 to 2000, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return value;
}

const result = await runSoak({
  durationMs: positive('minutes', values.minutes) * 60_000,
  tradesPerSecond: positive('rate', values.rate),
  universe: contracts(values.universe),
  killEveryMs: positive('kill-every-s', values['kill-every-s']) * 1000,
  seed: positive('seed', values.seed),
  logger: new Logger('soak'),
  ...(values['state-dir'] === undefined ? {} : { stateDir: values['state-dir'] }),
});
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.exit(result.passed ? 0 : 1);
