// Messages between the end-to-end benchmark's coordinator and its peer processes (over the fork IPC channel).
import type { E2eUniverse } from './market-stream.js';

/** What a peer process runs. */
export type PeerRole = 'hub' | 'relay' | 'collector' | 'trader' | 'relay-trader';

/** The hub transports measured. */
export type E2eTransport = 'uws' | 'ws';

/** CPU and memory of one process over a measured window. */
export interface ProcessUsage {
  /** CPU time (user + system) over the window, in % of one core. */
  cpuPercent: number;
  /** Resident set at the end of the window. */
  rssMiB: number;
  /** V8 heap in use at the end of the window. */
  heapUsedMiB: number;
  /** Peak resident set of the process so far. */
  maxRssMiB: number;
}

/** Coordinator → peer. Times are {@link monotonicMs} values (one clock for every process). */
export type CoordinatorMessage =
  | {
      type: 'init';
      role: PeerRole;
      transport: E2eTransport;
      secret: string;
      url: string;
      name: string;
      /** The symbols and intervals the run carries. */
      universe: E2eUniverse;
    }
  /** Collector: build the phase's Ingest frames (one per tick) now, before the clock starts. */
  | { type: 'prepare'; phase: number; rate: number; durationMs: number }
  /**
   * Everyone: the phase's messages are `[first, first + count)`; the collector sends tick 0 at
   * `startAt`; CPU is measured over `[windowStart, windowEnd]`.
   */
  | {
      type: 'start';
      phase: number;
      startAt: number;
      windowStart: number;
      windowEnd: number;
      first: number;
      count: number;
    }
  /** Everyone: report the phase; subscribers first wait (until `drainUntil`) for every message. */
  | { type: 'collect'; phase: number; drainUntil: number }
  | { type: 'stop' };

/** Peer → coordinator. */
export type PeerMessage =
  | { type: 'ready'; port?: number }
  | { type: 'prepared'; phase: number; first: number; count: number; frames: number; bytes: number }
  /** Acknowledges `start`: the peer is measuring the phase. */
  | { type: 'started'; phase: number }
  | {
      type: 'collected';
      phase: number;
      usage: ProcessUsage;
      /** Collector: send time of each message of the phase. */
      sendTimes?: Float64Array;
      /** Subscribers: arrival time of each message of the phase (NaN: never arrived). */
      arrivals?: Float64Array;
      /** Role-specific counters (collector lag, trader gaps, hub merge counts, ...). */
      notes: Record<string, number>;
    }
  | { type: 'failed'; message: string };
