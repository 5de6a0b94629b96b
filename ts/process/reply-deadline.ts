// A reply's deadline, judged after the event loop read what had arrived: a timer overdue after a stall of the process fires before the poll phase reads the reply.

/** Stops a deadline set with {@link replyDeadline}; calling it again, or after it expired, does nothing. */
export type CancelDeadline = () => void;

/**
 * Calls `expired` once `ms` have passed unless cancelled first, in the check phase of the event
 * loop turn whose timers phase found the deadline due. After a stall of the process (a long GC
 * pause, a saturated machine) an overdue timer runs before the poll phase reads a reply that
 * arrived meanwhile; deciding in the check phase lets that read come first, so the reply's
 * handler cancels the deadline instead of a healthy peer being taken for a silent one.
 */
export function replyDeadline(ms: number, expired: () => void): CancelDeadline {
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(expired);
  }, ms);
  return () => {
    clearTimeout(timer);
    if (immediate !== undefined) clearImmediate(immediate);
  };
}
