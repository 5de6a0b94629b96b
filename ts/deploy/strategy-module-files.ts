// The files a strategy module needs on a trader host: the module and every file it imports by relative path, found by reading its imports; what a host could not resolve is refused.
import { readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'es-module-lexer/js';

/** One file to ship: where it is here, and its path under the host's strategy folder (`/`-separated). */
export interface StrategyModuleFile {
  readonly source: string;
  readonly path: string;
  readonly text: string;
}

/** The module's files, the module first; or why they cannot be shipped, each naming the file. */
export type StrategyModuleFiles =
  | { readonly ok: true; readonly files: readonly StrategyModuleFile[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/** More files than this is not a strategy module but a mistake (an import of a whole tree). */
export const MAX_STRATEGY_MODULE_FILES = 200;

/** Kinds of file the walk ships: ES modules (a `.js` is one beside the shipped package.json) and JSON. */
const SHIPPED_FILE = /\.(m?js|json)$/;
/** A name a host keeps as it is (the host probe reads names split on blanks). */
const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Walks the static and dynamic imports of the module at `entry` (absolute) and of every file it
 * reaches by a relative path: each must be a `.js`, `.mjs` or `.json` file in the module's folder
 * or below it, with a name a host keeps as it is. Node's built-in modules are left to the host;
 * a package (`zod`, `#internal`) is refused, since a trader host resolves no package from its
 * strategy folder, and so is an `import()` of a computed name, whose file cannot be known.
 * `entryPath` is the module's own path on the host (its name made safe by the caller).
 */
export function strategyModuleFiles(entry: string, entryPath: string): StrategyModuleFiles {
  const root = dirname(entry);
  const problems: string[] = [];
  const files: StrategyModuleFile[] = [];
  const seen = new Set<string>([entry]);
  const queue: Array<{ source: string; path: string }> = [{ source: entry, path: entryPath }];
  while (queue.length > 0) {
    const next = queue.shift() as { source: string; path: string };
    if (files.length >= MAX_STRATEGY_MODULE_FILES) {
      problems.push(
        `${entry} imports more than ${MAX_STRATEGY_MODULE_FILES} files of its own; the deploy ships at most that many`,
      );
      break;
    }
    let text: string;
    try {
      text = readFileSync(next.source, 'utf8');
    } catch (error) {
      problems.push(`${next.source} cannot be read: ${(error as Error).message}`);
      continue;
    }
    files.push({ source: next.source, path: next.path, text });
    if (next.source.endsWith('.json')) continue;
    for (const specifier of importsOf(next.source, text, problems)) {
      const target = localTarget(next.source, specifier, root, problems);
      if (target === undefined || seen.has(target.source)) continue;
      seen.add(target.source);
      // The module's own name is made safe on the host: a file of its folder may already have it.
      if (target.path === entryPath) {
        problems.push(
          `${next.source} imports ${target.source}, which a host would keep under the module's own name ${entryPath}: rename one of them`,
        );
        continue;
      }
      queue.push(target);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, files };
}

/** The specifiers `file` imports that name a file of its own (builtins and `import.meta` left out). */
function importsOf(file: string, withBom: string, problems: string[]): string[] {
  // Node reads a module that starts with a byte order mark; the lexer would find no import in it.
  const text = withBom.charCodeAt(0) === 0xfeff ? withBom.slice(1) : withBom;
  let imports: ReturnType<typeof parse>[0];
  try {
    [imports] = parse(text, file);
  } catch (error) {
    problems.push(`${file} cannot be read as an ES module: ${(error as Error).message}`);
    return [];
  }
  const specifiers: string[] = [];
  for (const entry of imports) {
    const name = entry.n;
    if (name === undefined) {
      // `import.meta` has no specifier; an `import(expression)` has one nobody can know here.
      if (entry.d >= 0)
        problems.push(
          `${file} imports a computed name (\`${text.slice(entry.s, entry.e)}\`): the deploy cannot tell which file to ship; import it by a literal path`,
        );
      continue;
    }
    if (name.startsWith('node:') || isBuiltin(name)) continue;
    specifiers.push(name);
  }
  return specifiers;
}

/** The file `specifier` names from `from`, or undefined after naming why it cannot be shipped. */
function localTarget(
  from: string,
  specifier: string,
  root: string,
  problems: string[],
): { source: string; path: string } | undefined {
  const local = specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/');
  if (!local && !specifier.startsWith('file:')) {
    problems.push(
      `${from} imports the package "${specifier}", which a trader host cannot resolve: the deploy ships the module's own files, not packages (take \`z\` and \`Decimal\` from the kit the module's default export is called with, or bundle the package into the module)`,
    );
    return undefined;
  }
  if (/[?#]/.test(specifier)) {
    problems.push(`${from} imports "${specifier}": a query or fragment in a module's imports is not shipped`);
    return undefined;
  }
  let source: string;
  try {
    source = local ? resolve(dirname(from), specifier) : fileURLToPath(specifier);
  } catch (error) {
    problems.push(
      `${from} imports "${specifier}", which is not a file URL of this machine: ${(error as Error).message}`,
    );
    return undefined;
  }
  const within = relative(root, source);
  if (within === '..' || within.startsWith(`..${sep}`) || isAbsolute(within)) {
    problems.push(
      `${from} imports ${source}, outside the module's folder ${root}: the deploy ships that folder and what is below it`,
    );
    return undefined;
  }
  const segments = within.split(sep);
  if (!segments.every((segment) => SAFE_SEGMENT.test(segment)) || segments[0] === 'package.json') {
    problems.push(
      `${from} imports ${source}, whose path a host would not keep as it is: use letters, digits, ".", "_" and "-" (and no package.json beside the module)`,
    );
    return undefined;
  }
  if (!SHIPPED_FILE.test(source)) {
    problems.push(`${from} imports ${source}: only .js, .mjs and .json files are shipped`);
    return undefined;
  }
  try {
    if (!statSync(source).isFile()) {
      problems.push(`${from} imports ${source}, which is not a file`);
      return undefined;
    }
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    problems.push(
      `${from} imports ${source}, which ${missing ? 'does not exist' : `cannot be read: ${(error as Error).message}`}`,
    );
    return undefined;
  }
  return { source, path: segments.join('/') };
}
