// The `alerts` section: how often a process may message the owner's chat, how hard it tries, how messages read (the webhook itself is a secret: TRIBUTARY_ALERT_WEBHOOK_URL).
import { z } from 'zod';
import { COLLECTOR_KINDS, type CollectorKind, isCollectorKind } from './collector-kinds.js';
import { expecting, integer, type SectionSettings, section, text } from './config-fields.js';

/** What the hub and the traders watch for: silent processes and stale data. */
export const alertWatchSection = section({
  checkMs: integer(500, 600_000).default(5000).describe('How often peers and data are looked at, ms'),
  // Peers ping every 5 s and the hub drops one silent for 15 s: a shorter limit would call live peers silent.
  peerSilentMs: integer(16_000, 3_600_000)
    .default(30_000)
    .describe(
      'A collector, trader or recorder the hub has not heard from this long is alerted, ms (above the hub’s 15 s idle timeout)',
    ),
  staleDataMs: integer(1000, 3_600_000)
    .default(60_000)
    .describe(
      "A collector's last ingest (at the hub) or a trader's book (not synced) this old is alerted, ms",
    ),
  sparseKinds: z
    .array(
      // A misspelt kind would be alerted as stale.
      text().refine(isCollectorKind, {
        error: expecting(`one of ${COLLECTOR_KINDS.join(', ')}`),
      }),
      { error: expecting('an array of collector kinds') },
    )
    .default((): CollectorKind[] => ['universe', 'income', 'user-stream'])
    .describe('Collector kinds whose data is naturally sparse (events, daily lists): never called stale'),
});

/** The `alerts` section (DESIGN.md 7; seed 000: a Feishu bot, at most one message a minute). */
export const alertsSection = section({
  label: text()
    .default('Tributary')
    .describe("First word of every message's title (use it as the bot's keyword if it checks one)"),
  minIntervalMs: integer(1000, 3_600_000)
    .default(60_000)
    .describe(
      'Least time between two messages of one process, ms; alerts raised meanwhile are counted and summarised in the next',
    ),
  gatherMs: integer(0, 60_000)
    .default(1000)
    .describe('After a quiet spell, wait this long for the rest of a burst before sending, ms'),
  timeoutMs: integer(500, 60_000).default(5000).describe('Timeout of one webhook request, ms'),
  attempts: integer(1, 10).default(3).describe('Tries per message before it is logged as not delivered'),
  retryDelayMs: integer(100, 60_000)
    .default(2000)
    .describe('Wait before the second try, doubled before each further one, ms'),
  maxPending: integer(10, 100_000)
    .default(1000)
    .describe('Alerts kept for the next message; further ones are logged and counted only'),
  maxKinds: integer(1, 100)
    .default(15)
    .describe('Kinds of alert (source and title) listed in one message; the rest are summed up'),
  maxDetailChars: integer(20, 2000).default(200).describe('Characters shown of one detail value'),
  watch: alertWatchSection.prefault({}),
});

export type AlertsSettings = SectionSettings<typeof alertsSection>;
export type AlertWatchSettings = AlertsSettings['watch'];

/** The defaults, for code that runs without a configuration file (tests, tools). */
export function defaultAlertsSettings(): AlertsSettings {
  return alertsSection.parse({});
}
