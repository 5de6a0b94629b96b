// replyDeadline: a reply waiting in a socket when the process stalls past the deadline is read before the deadline is judged.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { stall } from '../testing/stall.js';
import { replyDeadline } from './reply-deadline.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A loopback pair: the server's side (written by the test) and the client's. */
async function socketPair(): Promise<{ server: Socket; client: Socket }> {
  let accepted: (socket: Socket) => void = () => {};
  const serverSide = new Promise<Socket>((resolve) => {
    accepted = resolve;
  });
  const listener: Server = createServer((socket) => accepted(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const client = connect(address.port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const server = await serverSide;
  cleanups.push(() => {
    client.destroy();
    server.destroy();
    listener.close();
  });
  return { server, client };
}

describe('replyDeadline', () => {
  it('lets a reply that arrived during a stall past the deadline cancel it', async () => {
    const { server, client } = await socketPair();
    let expired = false;
    const cancel = replyDeadline(100, () => {
      expired = true;
    });
    const replied = new Promise<void>((resolve) =>
      client.once('data', () => {
        cancel();
        resolve();
      }),
    );
    // The reply is in the client's socket, unread, when the process stalls for 300 ms.
    server.write('reply');
    stall(300);
    await replied;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(expired).toBe(false);
  });

  it('expires once, after its time, when nothing cancels it; a cancel after that does nothing', async () => {
    let calls = 0;
    const started = Date.now();
    let at = 0;
    const cancel = replyDeadline(50, () => {
      calls += 1;
      at = Date.now();
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    cancel();
    expect(calls).toBe(1);
    expect(at - started).toBeGreaterThanOrEqual(49);
  });

  it('never expires once cancelled', async () => {
    let expired = false;
    const cancel = replyDeadline(20, () => {
      expired = true;
    });
    cancel();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(expired).toBe(false);
  });
});
