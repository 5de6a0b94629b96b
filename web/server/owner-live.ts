// Gathers the owner's live view: hub status, machines, masked configuration, logs and alerts, paper trades, trading states, publisher state.
import { readFile } from 'node:fs/promises';
import { maskSecretValues, redactFields } from '../../ts/log/log-redaction.js';
import type { OwnerLive, OwnerTrade, OwnerTradingState } from '../ui/owner-types.js';
import type { HubStatusResult } from './hub-status-reader.js';
import { tailLines } from './log-tail.js';
import type { MachineSampler } from './machine-stats.js';

/** The trading states and the owner's switch (the risk engine's command file, wired by the app). */
export interface TradingControl {
  states(): Promise<readonly OwnerTradingState[]>;
  /** Writes the owner command; resolves whether the trader applied it within the wait. */
  command(
    trader: string,
    state: 'ACTIVE' | 'REDUCING' | 'HALTED',
    reason: string,
  ): Promise<{ applied: boolean }>;
}

/** Recent paper-mode fills (newest first) and a note saying where they come from. */
export interface PaperTrades {
  recent(limit: number): Promise<{ trades: readonly OwnerTrade[]; note: string | null }>;
}

/** What the live view reads. */
export interface OwnerSources {
  readonly hubStatus: () => Promise<HubStatusResult>;
  readonly machine: MachineSampler;
  /** The configuration in force (secrets are never part of it; fields with secret names are masked anyway). */
  readonly config: unknown;
  /** Secret names → whether set; values never leave the process. */
  readonly secrets: Readonly<Record<string, string | undefined>>;
  /** The system's log file (`tributary up` writes every process's lines there). */
  readonly logFile: string | undefined;
  readonly logLines: number;
  readonly trading: TradingControl;
  readonly paperTrades: PaperTrades;
  /** The publisher's state file (rounds, failures), if any. */
  readonly publisherStateFile: string | undefined;
}

/** Masks a secret's value: only whether it is set, and its length class. */
export function maskedSecret(value: string | undefined): string {
  return value === undefined ? 'not set' : `set (${value.length} characters, masked)`;
}

/** A log line is an alert when it is a warning or worse (JSON or text format). */
function isAlert(line: string): boolean {
  return /"level":"(warn|error|fatal)"|\b(WARN|ERROR|FATAL)\b|"level":(40|50|60)\b/.test(line);
}

/**
 * The publisher's state file: null with no note when there is none (no file configured, or the
 * publisher has not written it yet), null with a note saying why when it cannot be read or parsed.
 */
async function readPublisherState(
  path: string | undefined,
): Promise<{ state: Record<string, unknown> | null; note: string | null }> {
  if (path === undefined) return { state: null, note: null };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: null, note: null };
    return { state: null, note: `the publisher's state could not be read: ${reason(error)}` };
  }
  try {
    const state: unknown = JSON.parse(text);
    if (typeof state === 'object' && state !== null && !Array.isArray(state))
      return { state: state as Record<string, unknown>, note: null };
    return { state: null, note: `the publisher's state file ${path} does not hold a JSON object` };
  } catch (error) {
    return { state: null, note: `the publisher's state file ${path} is not JSON: ${reason(error)}` };
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A part of the live document: its value, or `empty` and a note saying why it failed. */
async function orNote<T>(
  part: Promise<T>,
  empty: T,
  what: string,
): Promise<{ value: T; note: string | null }> {
  try {
    return { value: await part, note: null };
  } catch (error) {
    return { value: empty, note: `${what}: ${reason(error)}` };
  }
}

/**
 * Builds the live document; each part fails on its own (an unreachable hub, a store another
 * process is still creating or a log file that cannot be read still shows the rest).
 */
export async function gatherOwnerLive(sources: OwnerSources, now = Date.now()): Promise<OwnerLive> {
  const [hub, machine, lines, trades, trading, publisher] = await Promise.all([
    sources.hubStatus(),
    orNote(
      sources.machine.sample().then((sample) => [sample]),
      [],
      'this machine could not be sampled',
    ),
    sources.logFile === undefined
      ? Promise.resolve([])
      : tailLines(sources.logFile, Math.max(sources.logLines, 1) * 4).catch((error: unknown) => [
          `the log file could not be read: ${reason(error)}`,
        ]),
    sources.paperTrades
      .recent(200)
      .catch((error: unknown) => ({ trades: [], note: `paper trades could not be read: ${reason(error)}` })),
    orNote(sources.trading.states(), [], 'the trading states could not be read'),
    readPublisherState(sources.publisherStateFile),
  ]);
  // Every line passes the logger's own masking again: a secret never reaches the page.
  const masked = lines.map(maskSecretValues);
  const status = hub.ok ? hub.status : undefined;
  return {
    now,
    hub: {
      reachable: hub.ok,
      error: hub.ok ? null : hub.error,
      uptimeMs: status?.uptimeMs ?? null,
      latencyUs:
        status === undefined
          ? null
          : {
              p50: status.latencyUs.p50,
              p90: status.latencyUs.p90,
              p99: status.latencyUs.p99,
              max: status.latencyUs.max,
            },
      peers: (status?.peers ?? []).map((p) => ({
        name: p.peer,
        role: p.role,
        kind: p.kind,
        remote: p.remote,
        connectedAt: p.connectedAt,
        lastSeen: p.lastSeen,
        mode: p.mode,
        messagesIn: p.messagesIn,
        messagesOut: p.messagesOut,
        report: p.report === null ? null : (redactFields(p.report) as Record<string, unknown>),
      })),
      collectors: (status?.collectors ?? []).map((c) => ({
        name: c.peer,
        kind: c.kind,
        connected: c.connected,
        frames: c.frames,
        ageMs: c.ageMs,
      })),
    },
    machines: machine.value,
    machinesNote: machine.note,
    config: redactFields(sources.config),
    secrets: Object.fromEntries(Object.entries(sources.secrets).map(([k, v]) => [k, maskedSecret(v)])),
    logs: masked.slice(-sources.logLines),
    alerts: masked.filter(isAlert).slice(-100),
    trades: trades.trades,
    tradesNote: trades.note,
    trading: trading.value,
    tradingNote: trading.note,
    publisher: publisher.state,
    publisherNote: publisher.note,
  };
}
