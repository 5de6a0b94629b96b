// The configuration's one error type: every problem found, each naming its field.
import type { z } from 'zod';

/** One problem with the configuration, at a dotted path such as `hub.port` or `symbols[2]`. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Thrown when a configuration is invalid; lists every problem found, each naming its field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: readonly ConfigIssue[],
    readonly source: string,
  ) {
    super(`invalid configuration (${source}):\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
  }
}

/** `['collectors', 'kline', 'intervals', 1]` → `collectors.kline.intervals[1]`; the root is `(root)`. */
export function configPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text === '' ? '(root)' : text;
}

/**
 * The issues of a failed parse in the configuration's wording. Each unknown key becomes its own
 * issue at its own path ("is not a known option"): a misspelt option silently ignored is how money
 * is lost, so the user must see exactly which one.
 */
export function configIssues(error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: configPath([...issue.path, key]), message: 'is not a known option' });
      }
    } else {
      issues.push({ path: configPath(issue.path), message: issue.message });
    }
  }
  return issues;
}

/** Parses JSON text of a configuration file, naming the file on failure. */
export function parseConfigText(text: string, source: string): unknown {
  try {
    // A byte-order mark (some Windows editors write one) is not part of the JSON (RFC 8259 8.1).
    return JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: '(file)', message: `is not valid JSON: ${reason}` }], source);
  }
}
