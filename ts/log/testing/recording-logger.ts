// A logger for tests that keeps every line it writes, parsed: level, message and the other fields.
import { Logger, type LogLevel } from '../logger.js';

/** One line a {@link recordingLogger} wrote. */
export interface RecordedLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** A JSON logger at `level` (default `info`) and the lines it wrote, in order. */
export function recordingLogger(level: LogLevel = 'info'): {
  logger: Logger;
  lines: RecordedLine[];
} {
  const lines: RecordedLine[] = [];
  const logger = new Logger('test', {
    level,
    format: 'json',
    sink: (line, lineLevel) => {
      const { msg, ...fields } = JSON.parse(line) as { msg: string } & Record<string, unknown>;
      lines.push({ level: lineLevel, msg, fields });
    },
  });
  return { logger, lines };
}
