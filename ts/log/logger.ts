// Structured logging for every process: one line per event, to stderr, with a component name; pino underneath, secrets masked.
import { type Logger as PinoLogger, pino } from 'pino';
import { maskSecretValues, redactFields } from './log-redaction.js';
import { textLogLine } from './log-text-format.js';

export { registerSecret } from './log-redaction.js';

/** Severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** pino's numbers for our levels, and back. */
const PINO_LEVEL: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };
const LEVEL_OF = new Map<number, LogLevel>(
  Object.entries(PINO_LEVEL).map(([name, value]) => [value, name as LogLevel]),
);

/**
 * A value of a log field: JSON-like data (nested records and lists too) or an `Error`. Name secret
 * fields for what they are (`apiSecret`, `token`): their values are masked; registered secret values
 * are masked wherever they appear.
 */
export type LogValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | Error
  | readonly LogValue[]
  | { readonly [key: string]: LogValue };

/** Extra fields of a log event. */
export type LogFields = Readonly<Record<string, LogValue>>;

/** Where formatted lines go (without the newline); tests pass their own to read what was logged. */
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

/**
 * Standard error, written synchronously: a line logged just before a crash or `process.exit` is
 * never lost in a buffer. One per process, shared by every logger.
 */
let stderr: ReturnType<typeof pino.destination> | undefined;
/** Set when stderr cannot be written any more (EPIPE: the supervisor reading it is gone). */
let stderrClosed = false;
const stderrSink: LogSink = (line) => {
  if (stderrClosed) return;
  if (stderr === undefined) {
    stderr = pino.destination({ dest: 2, sync: true });
    // The log's own channel is the only place a failure to write it could be reported, so the
    // lines are dropped from here on; the process goes on (and stops cleanly when told to).
    stderr.on('error', () => {
      stderrClosed = true;
    });
  }
  stderr.write(`${line}\n`);
};

/**
 * pino's destination: hands each finished line (secrets already masked by the `streamWrite` hook)
 * to the sink, as JSON or as text. pino tells it each line's level through its metadata symbol.
 */
class SinkDestination {
  [pino.symbols.needsMetadataGsym] = true as const;
  lastLevel = 0;
  lastTime = '';
  lastMsg = '';
  lastObj: object = {};
  lastLogger: PinoLogger | undefined;

  constructor(
    private readonly sink: LogSink,
    private readonly format: 'json' | 'text',
  ) {}

  write(chunk: string): void {
    const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
    this.sink(this.format === 'text' ? textLogLine(line) : line, LEVEL_OF.get(this.lastLevel) ?? 'error');
  }
}

function createRoot(options: LoggerOptions): PinoLogger {
  const destination = new SinkDestination(
    options.sink ?? stderrSink,
    options.format ?? (process.stderr.isTTY ? 'text' : 'json'),
  );
  return pino(
    {
      level: options.level ?? defaultLevel(),
      // No pid or hostname: the supervisor prefixes each child's lines with its name.
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => redactFields(record) as Record<string, unknown>,
      },
      hooks: { streamWrite: maskSecretValues },
    },
    destination as pino.DestinationStream,
  );
}

/** How `child` hands its root to the new logger without widening the public options. */
const ROOT = Symbol('pino root');
interface ChildOptions extends LoggerOptions {
  readonly [ROOT]: PinoLogger;
}

/**
 * A logger bound to a component (`hub`, `collector.kline`, `sim.server`, ...). `child` adds a
 * sub-component; every line carries the time, level, component and message, then the fields.
 */
export class Logger {
  readonly #component: string;
  /** The root's pino logger (level, destination), shared by every child. */
  readonly #root: PinoLogger;
  readonly #pino: PinoLogger;

  constructor(component: string, options: LoggerOptions = {}) {
    this.#component = component;
    this.#root = (options as Partial<ChildOptions>)[ROOT] ?? createRoot(options);
    this.#pino = this.#root.child({ component });
  }

  /** A logger for a part of this component, sharing its level, format and sink. */
  child(name: string): Logger {
    const options: ChildOptions = { [ROOT]: this.#root };
    return new Logger(`${this.#component}.${name}`, options);
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
    return this.#pino.isLevelEnabled(level);
  }

  #write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (!this.#pino.isLevelEnabled(level)) return;
    this.#pino[level](fields ?? {}, message);
  }
}

/** A logger that writes nothing (for tests and benchmarks that do not read the log). */
export function silentLogger(component = 'test'): Logger {
  return new Logger(component, { level: 'error', sink: () => {} });
}
