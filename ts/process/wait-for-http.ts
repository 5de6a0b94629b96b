// Waits for a local HTTP endpoint to answer 200, with a bounded number of attempts.
import { get } from 'node:http';

/** Answers the status code of one GET, or throws on a connection error or timeout. */
function probe(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get(url, { timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/** Polls `url` every `intervalMs` until it answers 200; throws after `timeoutMs` naming the last error. */
export async function waitForHttp(url: string, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    try {
      const status = await probe(url, Math.min(1000, timeoutMs));
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (last: ${last})`);
}
