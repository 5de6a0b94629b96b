// What makes a file usable as a strategy module before it is imported: a .js or .mjs file that exists.
import { statSync } from 'node:fs';
import { STRATEGY_MODULE_FILE } from './trader-config.js';

/**
 * Why the file at `path` (absolute) cannot be a strategy module, as words that follow its path
 * ("does not exist"), or undefined when it can be imported. The trader's loader and the fleet
 * deploy ask the same question.
 */
export function strategyModuleFileProblem(path: string): string | undefined {
  if (!STRATEGY_MODULE_FILE.test(path)) return 'must be a .js or .mjs file (an ES module)';
  try {
    return statSync(path).isFile() ? undefined : 'is not a file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'does not exist';
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return `cannot be read: ${text.replace(/\s*\n\s*/g, ' ').trim()}`;
  }
}
