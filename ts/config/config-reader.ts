// Reads an untyped JSON configuration value field by field, collecting errors that name the field.

/** One problem with the configuration, at a dotted path such as `hub.port`. */
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

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

/**
 * A cursor over one object of the configuration. Every getter returns the value or the default and
 * records an issue (never throws) so that one run reports every mistake; unknown keys are issues
 * too, because a misspelt option silently ignored is how money is lost.
 */
export class ConfigReader {
  readonly #value: Record<string, unknown>;
  readonly #path: string;
  readonly #issues: ConfigIssue[];
  readonly #seen = new Set<string>();

  private constructor(value: Record<string, unknown>, path: string, issues: ConfigIssue[]) {
    this.#value = value;
    this.#path = path;
    this.#issues = issues;
  }

  /** A reader for the root object; `value` that is not an object is reported at the root. */
  static root(value: unknown): ConfigReader {
    const issues: ConfigIssue[] = [];
    if (!isRecord(value)) {
      issues.push({ path: '(root)', message: `must be an object, got ${describe(value)}` });
      return new ConfigReader({}, '', issues);
    }
    return new ConfigReader(value, '', issues);
  }

  /** Issues found so far, including unknown keys of every reader created from this root. */
  get issues(): readonly ConfigIssue[] {
    return this.#issues;
  }

  /** Throws a `ConfigError` if anything was reported. */
  throwIfInvalid(source: string): void {
    if (this.#issues.length > 0) throw new ConfigError(this.#issues, source);
  }

  #at(key: string): string {
    return this.#path === '' ? key : `${this.#path}.${key}`;
  }

  #report(key: string, message: string): void {
    this.#issues.push({ path: this.#at(key), message });
  }

  #get(key: string): unknown {
    this.#seen.add(key);
    return this.#value[key];
  }

  /** Whether the key is present. */
  has(key: string): boolean {
    return this.#value[key] !== undefined;
  }

  /** A nested object (an empty one when absent). */
  object(key: string): ConfigReader {
    const value = this.#get(key);
    if (value === undefined) return new ConfigReader({}, this.#at(key), this.#issues);
    if (!isRecord(value)) {
      this.#report(key, `must be an object, got ${describe(value)}`);
      return new ConfigReader({}, this.#at(key), this.#issues);
    }
    return new ConfigReader(value, this.#at(key), this.#issues);
  }

  /** A list of objects, each read by its own reader. */
  objects(key: string): ConfigReader[] {
    const value = this.#get(key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.#report(key, `must be an array, got ${describe(value)}`);
      return [];
    }
    return value.map((item, i) => {
      const path = `${this.#at(key)}[${i}]`;
      if (!isRecord(item)) {
        this.#issues.push({ path, message: `must be an object, got ${describe(item)}` });
        return new ConfigReader({}, path, this.#issues);
      }
      return new ConfigReader(item, path, this.#issues);
    });
  }

  string(key: string, fallback: string): string {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || value === '') {
      this.#report(key, `must be a non-empty string, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') {
      this.#report(key, `must be a non-empty string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** One of `allowed`. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.#report(key, `must be one of ${allowed.join(', ')}, got ${describe(value)}`);
      return fallback;
    }
    return value as T;
  }

  /** An integer within `[min, max]`. */
  int(key: string, fallback: number, min: number, max: number): number {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.#report(key, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  /** A number within `[min, max]` (ratios, not money: money is a decimal string). */
  number(key: string, fallback: number, min: number, max: number): number {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.#report(key, `must be a number from ${min} to ${max}, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  /** A number within `[min, max]`, or the word `word` (e.g. a replay speed or `"max"`). */
  numberOrWord<W extends string>(
    key: string,
    word: W,
    fallback: number | W,
    min: number,
    max: number,
  ): number | W {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    if (value === word) return word;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.#report(key, `must be a number from ${min} to ${max} or "${word}", got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.#report(key, `must be true or false, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  /** A decimal written as a string (`"10000"`, `"0.0002"`), kept as the exact string. */
  decimalString(key: string, fallback: string): string {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value)) {
      this.#report(key, `must be a decimal number written as a string, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  /** A list of strings, each accepted by `check` (which returns an error message or undefined). */
  strings(key: string, fallback: readonly string[], check?: (item: string) => string | undefined): string[] {
    const value = this.#get(key);
    if (value === undefined) return [...fallback];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
      this.#report(key, `must be an array of strings, got ${describe(value)}`);
      return [...fallback];
    }
    const items = value as string[];
    items.forEach((item, i) => {
      const problem = check?.(item);
      if (problem !== undefined) this.#issues.push({ path: `${this.#at(key)}[${i}]`, message: problem });
    });
    return items;
  }

  /** Records `message` against `key` (cross-field rules). */
  reject(key: string, message: string): void {
    this.#report(key, message);
  }

  /** Reports every key of this object that no getter asked for. Call after reading the object. */
  rejectUnknownKeys(): void {
    for (const key of Object.keys(this.#value)) {
      if (!this.#seen.has(key)) this.#report(key, 'is not a known option');
    }
  }
}

/** Parses JSON text of a configuration file, naming the file on failure. */
export function parseConfigText(text: string, source: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: '(file)', message: `is not valid JSON: ${reason}` }], source);
  }
}
