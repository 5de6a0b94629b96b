// Locates the installed package's root folder, the same from sources (tests) and from dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Walks up from `start` to the folder whose package.json names this package. */
export function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'tributary') {
        return dir;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`tributary package root not found above ${start}`);
    }
    dir = parent;
  }
}

/** The root of this package (where package.json, bindings/ and dist/ live). */
export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
