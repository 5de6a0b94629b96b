// What each transport's `publish` promises about the bytes it is given: a transport that says it copies them sends what they held at the call, whatever the caller writes there afterwards.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from '../log/logger.js';
import { TRANSPORTS, type TransportName, waitFor } from './testing/hub-fixtures.js';
import type { HubTransport } from './transport.js';
import { createTransport } from './transport-select.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A transport on loopback whose every connection joins `topic`, and one client connected to it. */
async function transportWithSubscriber(
  name: TransportName,
): Promise<{ transport: HubTransport; received: Buffer[] }> {
  const transport = createTransport(
    name,
    { maxPayloadBytes: 1024 * 1024, maxBackpressureBytes: 16 * 1024 * 1024 },
    silentLogger('transport'),
  );
  let joined = false;
  transport.onConnection((connection) => {
    connection.subscribe('topic');
    joined = true;
    return { message: () => {}, drain: () => {}, close: () => {} };
  });
  const port = await transport.listen('127.0.0.1', 0);
  cleanups.push(() => transport.close(1001, 'test over'));
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  cleanups.push(() => client.close());
  const received: Buffer[] = [];
  client.on('message', (data: Buffer) => received.push(data));
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  await waitFor(() => joined);
  return { transport, received };
}

describe.each(TRANSPORTS)('publish over %s', (name) => {
  it('sends what the bytes held at the call when the transport says it copies them', async () => {
    const { transport, received } = await transportWithSubscriber(name);
    const scratch = new Uint8Array(64 * 1024);
    // Small messages and ones past uWS's 16 KiB cork buffer, which it sends by another path.
    const sizes = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 4096 : 64 * 1024));
    transport.batch(() => {
      for (const [i, size] of sizes.entries()) {
        const bytes = scratch.subarray(0, size);
        bytes.fill(i);
        transport.publish('topic', transport.publishCopies ? bytes : bytes.slice());
        // The caller's next frame goes where this one was, as a book's turn scratch does.
        scratch.fill(255);
      }
    });
    await waitFor(() => received.length === sizes.length);
    expect(received.map((frame) => [frame.length, frame[0], frame.every((b) => b === frame[0])])).toEqual(
      sizes.map((size, i) => [size, i, true]),
    );
  });
});
