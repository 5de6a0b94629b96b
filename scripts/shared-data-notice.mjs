// Says, before the test suites run, whether the real exchange captures in ../shared/data are there:
// without them the capture-based tests pass without checking anything, and cargo hides their SKIP lines.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = resolve(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'data'));
const files = [
  'usdm-ws-capture-2021-07-22.txt',
  'usdm-exchangeInfo-2021-07-22.txt',
  'BTCUSD_PERP-aggTrades-2026-05-08.csv',
];
const missing = files.filter((f) => !existsSync(join(dir, f)));
if (missing.length === 0) {
  console.log(`shared data: ${dir} present; the real-capture tests run`);
} else {
  console.log(`SKIP: ${dir} lacks ${missing.join(', ')}; the real-capture tests that need them are skipped`);
}
