// Keeps a long-running command alive until SIGINT/SIGTERM, then stops it cleanly once.
import type { Logger } from '../log/logger.js';

/**
 * Resolves with exit code 0 after `stop` completes when the process receives SIGINT or SIGTERM,
 * or 1 if `stop` fails. A second SIGINT while stopping (Ctrl-C twice) exits at once with 130; a
 * SIGTERM while stopping is ignored (a supervisor sends one after the terminal's Ctrl-C already
 * reached the process, and kills it itself if stopping takes too long).
 */
export function runUntilSignal(logger: Logger, stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        if (signal === 'SIGTERM') return;
        logger.warn('second Ctrl-C while stopping; exiting now', { signal });
        process.exit(130);
      }
      stopping = true;
      logger.info('stopping', { signal });
      stop().then(
        () => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(0);
        },
        (error: unknown) => {
          logger.error('stop failed', { error: error instanceof Error ? error.message : String(error) });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
