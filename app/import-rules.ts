// The layering of the repository as rules over imports, and the check that finds every import breaking them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Top-level folders that hold TypeScript. */
export type Layer =
  | 'ts'
  | 'collectors'
  | 'trader'
  | 'gateway'
  | 'publisher'
  | 'recorder'
  | 'sim'
  | 'web'
  | 'app'
  | 'benchmarks'
  | 'bindings';

/**
 * What each folder may import besides itself and packages. `ts/` is the library every process
 * shares: it imports no process. Processes (`collectors/`, `trader/`, `gateway/`, `recorder/`, `sim/`, `publisher/`, `web/`) import the
 * library, never each other; only the composition root (`app/`) wires them. Tests of a process may
 * also use the simulator, the exchange they run against. Only `ts/native/` touches the binding
 * (and the binding's own tests in `bindings/__test__/`).
 */
export const ALLOWED: Record<Layer, { code: readonly Layer[]; tests: readonly Layer[] }> = {
  ts: { code: [], tests: [] },
  collectors: { code: ['ts'], tests: ['sim'] },
  trader: { code: ['ts'], tests: ['sim'] },
  gateway: { code: ['ts'], tests: ['sim'] },
  recorder: { code: ['ts'], tests: ['sim'] },
  sim: { code: ['ts'], tests: [] },
  publisher: { code: ['ts'], tests: ['sim'] },
  // The dashboard's tests publish documents to read, so they may use the publisher.
  web: { code: ['ts'], tests: ['sim', 'publisher'] },
  app: { code: ['ts', 'collectors', 'trader', 'gateway', 'recorder', 'sim', 'publisher', 'web'], tests: [] },
  benchmarks: { code: ['ts', 'collectors', 'trader', 'recorder', 'sim', 'app'], tests: [] },
  bindings: { code: [], tests: [] },
};

const LAYERS = new Set<string>(Object.keys(ALLOWED));

/** One import that breaks a rule. */
export interface ImportViolation {
  /** The importing file, relative to the root. */
  file: string;
  /** The import as written. */
  specifier: string;
  rule: string;
}

function isTestFile(file: string): boolean {
  return file.endsWith('.test.ts') || file.split(sep).includes('testing');
}

/** Every `.ts` file under `dir` (relative to `root`), skipping build output and dependencies. */
function tsFiles(root: string, dir: string, out: string[]): string[] {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) tsFiles(root, path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Relative module specifiers of `source`: static imports, re-exports and dynamic `import('...')`. */
export function relativeSpecifiers(source: string): string[] {
  const found: string[] = [];
  // Statements start a line (so import-like text inside strings and comments is not taken).
  const statement = /^\s*(?:import|export)\b[^;'"]*?(?:\bfrom\s*)?(['"])(\.{1,2}\/[^'"]+)\1/gm;
  const dynamic = /\bimport\s*\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g;
  for (const pattern of [statement, dynamic]) {
    for (const match of source.matchAll(pattern)) {
      const specifier = match[2];
      if (specifier !== undefined) found.push(specifier);
    }
  }
  return found;
}

/** Checks every TypeScript file of the repository at `root` against {@link ALLOWED}. */
export function checkImports(root: string): ImportViolation[] {
  const violations: ImportViolation[] = [];
  const files: string[] = [];
  for (const layer of LAYERS) {
    try {
      tsFiles(root, layer, files);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  for (const file of files) {
    const from = file.split(sep)[0] as Layer;
    const allowed = new Set<Layer>([from, ...ALLOWED[from].code]);
    if (isTestFile(file)) for (const layer of ALLOWED[from].tests) allowed.add(layer);
    for (const specifier of relativeSpecifiers(readFileSync(join(root, file), 'utf8'))) {
      const target = relative(root, resolve(root, dirname(file), specifier));
      const top = target.split(sep)[0] ?? '';
      if (target.startsWith('..')) {
        violations.push({ file, specifier, rule: 'imports from outside the repository' });
      } else if (top === 'bindings' && from !== 'bindings' && !file.startsWith(join('ts', 'native') + sep)) {
        violations.push({ file, specifier, rule: 'only ts/native/ imports the binding' });
      } else if (LAYERS.has(top) && top !== 'bindings' && !allowed.has(top as Layer)) {
        violations.push({ file, specifier, rule: `${from}/ may not import ${top}/` });
      }
    }
  }
  return violations;
}
