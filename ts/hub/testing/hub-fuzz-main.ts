// `npm run fuzz:hub -- --frames 1000000 --seed 1 --transport uws`: the hub fuzzer at length; prints its result as JSON, exits 1 on a mismatch.
import { parseArgs } from 'node:util';
import { TRANSPORTS, type TransportName } from './hub-fixtures.js';
import { fuzzHub } from './hub-fuzzer.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    transport: { type: 'string', default: 'uws' },
  },
});
const transport = values.transport as TransportName;
if (!TRANSPORTS.includes(transport)) {
  process.stderr.write(`--transport must be one of ${TRANSPORTS.join(', ')}\n`);
  process.exit(2);
}
const frames = Number(values.frames);
const seed = Number(values.seed);
if (!Number.isInteger(frames) || frames <= 0 || !Number.isInteger(seed)) {
  process.stderr.write('--frames must be a positive integer and --seed an integer\n');
  process.exit(2);
}
const result = await fuzzHub({
  frames,
  seed,
  transport,
  progressEvery: 50_000,
  onProgress: (sent, rss) => process.stderr.write(`fuzz: ${sent} sent, RSS ${rss.toFixed(0)} MiB\n`),
});
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.exit(result.mismatches.length === 0 ? 0 : 1);
