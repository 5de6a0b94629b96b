// Records the merge refused inside frames it otherwise merged: counted by reason, logged, told to each frame's sender.
import type { Logger } from '../../log/logger.js';
import type { IngestManyResult } from '../../native/hub.js';
import type { HubMetrics } from '../hub-metrics.js';
import type { LogThrottle } from '../log-throttle.js';
import type { InputPolice } from './input-police.js';
import type { PeerSession } from './session.js';

/**
 * A record the merge refused. The batch index of its frame is optional: a merge result that names
 * it lets the refusal go to that frame's sender, numbered; without it the refusal is attributed
 * only when every frame of the turn came from one peer.
 */
export type RecordRefusal = IngestManyResult['rejected'][number] & { index?: number };

/** The frames of one turn: who sent each, and its index among its sender's binary messages. */
export interface TurnFrames {
  readonly sessions: readonly PeerSession[];
  readonly numbers: readonly number[];
}

/** Refused records of one frame (or one sender), by reason. */
interface RefusalTally {
  session: PeerSession;
  frame: number | undefined;
  reasons: Record<string, number>;
  records: number;
  first: string;
}

/**
 * Tells each sender which records of which frame were refused and why (one `invalid_record` error
 * per frame, with the count by reason), counts them as `record_<reason>` and logs them at most
 * once a minute per peer and reason.
 */
export function tellRefusedRecords(
  rejected: readonly RecordRefusal[],
  turn: TurnFrames,
  parts: { police: InputPolice; metrics: HubMetrics; log: Logger; throttle: LogThrottle },
): void {
  const first = turn.sessions[0];
  const single = turn.sessions.every((s) => s === first) ? first : undefined;
  const tallies = new Map<string, RefusalTally>();
  let unattributed = 0;
  for (const record of rejected) {
    const index = record.index;
    const session = index === undefined ? single : turn.sessions[index];
    if (session === undefined) {
      unattributed += 1;
      parts.metrics.reject(`record_${record.code}`);
      continue;
    }
    const frame = index === undefined ? undefined : turn.numbers[index];
    const key = `${session.id}:${frame ?? '-'}`;
    let tally = tallies.get(key);
    if (tally === undefined) {
      tally = { session, frame, reasons: {}, records: 0, first: record.message };
      tallies.set(key, tally);
    }
    tally.records += 1;
    tally.reasons[record.code] = (tally.reasons[record.code] ?? 0) + 1;
  }
  for (const tally of tallies.values()) {
    for (const [reason, count] of Object.entries(tally.reasons)) {
      parts.police.refuse(tally.session, `record_${reason}`, tally.first, count);
    }
    const where = tally.frame === undefined ? 'in your latest frames' : `of frame ${tally.frame}`;
    parts.police.tell(
      tally.session,
      'invalid_record',
      `${tally.records} records ${where} refused: ${tally.first}`,
      {
        ...(tally.frame === undefined ? {} : { frame: tally.frame }),
        records: tally.records,
        reasons: tally.reasons,
      },
    );
  }
  const suppressed = unattributed > 0 ? parts.throttle.allow('unattributed', Date.now()) : undefined;
  if (suppressed !== undefined) {
    parts.log.warn('merge refused records of a turn with several senders', {
      records: unattributed,
      first: rejected[0]?.message.slice(0, 200) ?? null,
      suppressed,
    });
  }
}
