// Test support: block the event loop for a while, as a long GC pause or a saturated machine does.

/** Blocks this process for `ms`: timers fall due and sockets fill meanwhile, unread. */
export function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // blocked on purpose
  }
}
