// Records the merge refused inside frames it otherwise merged: counted by reason, logged, told to the sender of their frame.
import type { RejectedRecord } from '../../native/hub.js';
import type { InputPolice } from './input-police.js';
import type { PeerSession } from './session.js';

/** The frames of one turn: who sent each, and its index among its sender's binary messages. */
export interface TurnFrames {
  readonly sessions: readonly PeerSession[];
  readonly numbers: readonly number[];
}

/** Refused records of one frame, by reason. */
interface RefusalTally {
  session: PeerSession;
  frame: number;
  reasons: Record<string, number>;
  records: number;
  first: string;
}

/**
 * Tells each sender which records of which of its frames were refused and why (one
 * `invalid_record` error per frame, with the count by reason), counts them as `record_<reason>`
 * and logs them at most once a minute per peer and reason. A refused record names the index of
 * its frame in the turn (`RejectedRecord.index`), so the turn's frame list says who sent it.
 * Returns how many records named no frame of the turn (a native bug: the caller logs it).
 */
export function tellRefusedRecords(
  rejected: readonly RejectedRecord[],
  turn: TurnFrames,
  police: InputPolice,
): number {
  const tallies = new Map<number, RefusalTally>();
  let unattributed = 0;
  for (const record of rejected) {
    let tally = tallies.get(record.index);
    if (tally === undefined) {
      const session = turn.sessions[record.index];
      const frame = turn.numbers[record.index];
      // The native merge names only frames of the turn it was given: anything else is a bug there.
      if (session === undefined || frame === undefined) {
        unattributed += 1;
        continue;
      }
      tally = { session, frame, reasons: {}, records: 0, first: record.message };
      tallies.set(record.index, tally);
    }
    tally.records += 1;
    tally.reasons[record.code] = (tally.reasons[record.code] ?? 0) + 1;
  }
  for (const tally of tallies.values()) {
    for (const [reason, count] of Object.entries(tally.reasons)) {
      police.refuse(tally.session, `record_${reason}`, tally.first, count);
    }
    police.tell(
      tally.session,
      'invalid_record',
      `${tally.records} records of frame ${tally.frame} refused: ${tally.first}`,
      {
        frame: tally.frame,
        records: tally.records,
        reasons: tally.reasons,
      },
    );
  }
  return unattributed;
}
