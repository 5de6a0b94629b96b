// Structured logging for every process: one line per event, to stderr, with a component name.

/** Severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Extra fields of a log event; values must be JSON-serialisable. Secrets never go here. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where formatted lines go; tests pass their own to read what was logged. */
export type LogSink = (line: string, level: LogLevel) => void;

/** Options of a root logger. */
export interface LoggerOptions {
  /** Lowest level written (default `info`, or `TRIBUTARY_LOG_LEVEL`). */
  level?: LogLevel;
  /** `json` for one JSON object per line (production), `text` for people (default when stderr is a TTY). */
  format?: 'json' | 'text';
  sink?: LogSink;
}

function defaultLevel(): LogLevel {
  const env = process.env.TRIBUTARY_LOG_LEVEL;
  return env === 'debug' || env === 'info' || env === 'warn' || env === 'error' ? env : 'info';
}

const stderrSink: LogSink = (line) => {
  process.stderr.write(`${line}\n`);
};

/**
 * A logger bound to a component (`hub`, `collector.kline`, `sim.server`, ...). `child` adds a
 * sub-component; every line carries the time, level, component and message.
 */
export class Logger {
  readonly #component: string;
  readonly #levelName: LogLevel;
  readonly #level: number;
  readonly #format: 'json' | 'text';
  readonly #sink: LogSink;

  constructor(component: string, options: LoggerOptions = {}) {
    this.#component = component;
    this.#levelName = options.level ?? defaultLevel();
    this.#level = RANK[this.#levelName];
    this.#format = options.format ?? (process.stderr.isTTY ? 'text' : 'json');
    this.#sink = options.sink ?? stderrSink;
  }

  /** A logger for a part of this component, sharing its level, format and sink. */
  child(name: string): Logger {
    return new Logger(`${this.#component}.${name}`, {
      level: this.#levelName,
      format: this.#format,
      sink: this.#sink,
    });
  }

  debug(message: string, fields?: LogFields): void {
    this.#write('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.#write('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.#write('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.#write('error', message, fields);
  }

  /** Whether `level` would be written (to skip building expensive fields). */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#level;
  }

  #write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (RANK[level] < this.#level) return;
    const time = new Date().toISOString();
    if (this.#format === 'json') {
      this.#sink(JSON.stringify({ time, level, component: this.#component, msg: message, ...fields }), level);
      return;
    }
    const extra =
      fields === undefined
        ? ''
        : Object.entries(fields)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => ` ${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
            .join('');
    this.#sink(`${time} ${level.toUpperCase().padEnd(5)} ${this.#component}: ${message}${extra}`, level);
  }
}

/** A logger that writes nothing (for tests and benchmarks that do not read the log). */
export function silentLogger(component = 'test'): Logger {
  return new Logger(component, { level: 'error', sink: () => {} });
}
