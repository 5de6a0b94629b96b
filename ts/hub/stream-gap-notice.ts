// The notice a user-stream collector relays with the order events when its stream may have missed some, so readers reconcile by REST.

/** The event type of the notice (Binance's own types are upper case words; this one is ours). */
export const STREAM_GAP_EVENT = 'tributary.userStreamGap';

/** Why events may be missing. */
export type StreamGapReason = 'stream-start' | 'stream-reconnect' | 'hub-reconnect';

/** A notice as read back from a relayed event. */
export interface StreamGapNotice {
  readonly reason: StreamGapReason;
  /** When the notice was made (Unix ms). */
  readonly at: number;
  /** Since when events may be missing (Unix ms), when the collector knows it. */
  readonly lostAt: number | null;
}

const REASONS: readonly StreamGapReason[] = ['stream-start', 'stream-reconnect', 'hub-reconnect'];

/**
 * The relayed event text of a notice: a JSON object with the `e` and `E` fields every user-data
 * event has, so a reader that does not know it parses it as an unknown event and ignores it.
 */
export function streamGapEvent(notice: StreamGapNotice): Buffer {
  return Buffer.from(
    JSON.stringify({ e: STREAM_GAP_EVENT, E: notice.at, reason: notice.reason, lostAt: notice.lostAt }),
  );
}

/** The notice in a relayed event, or undefined when the event is anything else. */
export function readStreamGapNotice(json: string): StreamGapNotice | undefined {
  // Cheap test first: order events are the common case and never contain the name.
  if (!json.includes(STREAM_GAP_EVENT)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.e !== STREAM_GAP_EVENT || typeof v.E !== 'number') return undefined;
  const reason = REASONS.find((r) => r === v.reason);
  if (reason === undefined) return undefined;
  const lostAt = typeof v.lostAt === 'number' ? v.lostAt : null;
  return { reason, at: v.E, lostAt };
}
