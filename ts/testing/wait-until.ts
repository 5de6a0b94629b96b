// Test support: wait for a condition with a deadline, failing with a message that names what was awaited.

/**
 * Polls `check` every `pollMs` until it holds; throws `timed out after <n> ms waiting for <what>`
 * once `timeoutMs` has passed. `check` may be async.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 3_000,
  pollMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
