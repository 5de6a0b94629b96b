// The `supervisor` section: how `tributary up` restarts its children, and when it gives up.
import { integer, type SectionSettings, section } from './config-fields.js';

/** The `supervisor` section. */
export const supervisorSection = section({
  maxRestarts: integer(0, 1000)
    .default(5)
    .describe(
      'Restarts allowed per child within restartWindowMs; one more death stops everything and ends `tributary up` with an error',
    ),
  restartWindowMs: integer(1000, 86_400_000)
    .default(60_000)
    .describe('The window restarts are counted in, ms'),
  restartDelayMs: integer(0, 60_000).default(1000).describe('Wait before restarting a child that died, ms'),
  stopTimeoutMs: integer(100, 600_000)
    .default(5000)
    .describe('How long a child may take to stop after SIGTERM before it is killed, ms'),
});

export type SupervisorSettings = SectionSettings<typeof supervisorSection>;
