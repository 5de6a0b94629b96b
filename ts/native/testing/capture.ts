// Test helper: reads the real exchange capture from ../shared/data when it is there.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../package-root.js';

/** The shared data folder beside the repository (present in CI, absent in a bare clone). */
export const sharedDataDir = join(packageRoot, '..', 'shared', 'data');

/** The raw JSON messages of the websocket capture, or undefined (with a visible SKIP) when absent. */
export function captureMessages(test: string): string[] | undefined {
  const path = join(sharedDataDir, 'usdm-ws-capture-2021-07-22.txt');
  if (!existsSync(path)) {
    console.warn(`SKIP: ${test}: ${path} is absent`);
    return undefined;
  }
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.slice(line.indexOf(': ') + 2))
    .filter((json) => json.startsWith('{'));
}
