// `npm run soak`: runs the soak (app/soak/soak-run.ts) and prints its result as JSON; exits 1 when a check failed.
import { parseArgs } from 'node:util';
import { Logger } from '../../ts/log/logger.js';
import { runSoak } from './soak-run.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '20000' },
    'kill-every-s': { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
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

const result = await runSoak({
  durationMs: positive('minutes', values.minutes) * 60_000,
  tradesPerSecond: positive('rate', values.rate),
  killEveryMs: positive('kill-every-s', values['kill-every-s']) * 1000,
  seed: positive('seed', values.seed),
  logger: new Logger('soak'),
});
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.exit(result.passed ? 0 : 1);
