// The dashboard server refuses bad requests from any client with a clear status, counted, without crashing or flooding the log.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from '../../ts/log/logger.js';
import { DashboardServer } from './dashboard-server.js';
import { MachineSampler } from './machine-stats.js';

const TOKEN = 'the-owner-token';

let server: DashboardServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(
  now?: () => number,
  maxConnections?: number,
  trustedProxies?: readonly string[],
): Promise<{ server: DashboardServer; port: number; lines: string[]; commands: string[]; dir: string }> {
  const dir = mkdtempSync(`${tmpdir()}/dashboard-server-`);
  mkdirSync(`${dir}/public`);
  mkdirSync(`${dir}/owner`);
  writeFileSync(`${dir}/public/index.html`, 'public');
  writeFileSync(`${dir}/owner/index.html`, 'owner');
  const lines: string[] = [];
  const commands: string[] = [];
  const created = new DashboardServer({
    host: '127.0.0.1',
    port: 0,
    publicDir: `${dir}/public`,
    ownerDir: `${dir}/owner`,
    ownerToken: TOKEN,
    owner: {
      hubStatus: async () => ({ ok: false, error: 'hub down' }),
      machine: new MachineSampler(dir),
      config: {},
      secrets: {},
      logFile: undefined,
      logLines: 10,
      trading: {
        states: async () => [],
        command: async (trader, state) => {
          commands.push(`${trader}:${state}`);
          return { applied: true };
        },
      },
      paperTrades: { recent: async () => ({ trades: [], note: null }) },
      publisherStateFile: undefined,
    },
    logger: new Logger('dashboard', { sink: (line) => lines.push(line) }),
    ...(now === undefined ? {} : { now }),
    ...(maxConnections === undefined ? {} : { maxConnections }),
    ...(trustedProxies === undefined ? {} : { trustedProxies }),
  });
  server = created;
  await created.start();
  return { server: created, port: Number(new URL(created.url).port), lines, commands, dir };
}

/** Sends `text` as is on a new connection; resolves the status line of the answer. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    // Written, not ended: a half-closed client makes the server drop an answer it is still preparing.
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (data) => {
      out += data.toString();
    });
    socket.on('close', () => resolve(out.split('\r\n')[0] ?? ''));
    socket.on('error', (error) => resolve(`error ${error.message}`));
  });
}

function get(port: number, path: string, authorization?: string, forwardedFor?: string): Promise<number> {
  const auth = authorization === undefined ? '' : `Authorization: ${authorization}\r\n`;
  const forwarded = forwardedFor === undefined ? '' : `X-Forwarded-For: ${forwardedFor}\r\n`;
  return raw(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n${auth}${forwarded}Connection: close\r\n\r\n`).then(
    (line) => Number(line.split(' ')[1]),
  );
}

describe('DashboardServer', () => {
  it('refuses a path it cannot use with 400, without an error in the log', async () => {
    const { port, lines } = await start();
    expect(await raw(port, 'GET /a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    expect(await raw(port, 'GET http://[bad/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    expect(await raw(port, 'GET //[/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    // Longer than a file name may be: no such file.
    expect(await get(port, `/${'a'.repeat(5000)}`)).toBe(404);
    // An error line is an alert in the owner view: a stranger must not be able to raise one.
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
    expect(server?.refused.badRequests).toBe(3);
  });

  it('stops checking passwords from an address after repeated wrong ones, for a while', async () => {
    let now = 1_000_000;
    const { port, lines } = await start(() => now);
    for (let i = 0; i < 10; i++) expect(await get(port, '/owner/', `Bearer guess-${i}`)).toBe(401);
    // Blocked: even the right password is not checked (else the block would tell a right guess).
    expect(await get(port, '/owner/', `Bearer guess-10`)).toBe(429);
    expect(await get(port, '/owner/', `Bearer ${TOKEN}`)).toBe(429);
    expect(server?.refused.limited).toBe(2);
    expect(server?.refused.badCredentials).toBe(10);
    // The log says so once, not once per attempt.
    expect(lines.filter((l) => l.includes('"msg":"owner view: wrong password"'))).toHaveLength(10);
    expect(lines.filter((l) => l.includes('refused after repeated wrong passwords'))).toHaveLength(1);
    // The public site still answers.
    expect(await get(port, '/')).toBe(200);
    now += 60_001;
    expect(await get(port, '/owner/', `Bearer ${TOKEN}`)).toBe(200);
  });

  it('behind a trusted proxy, limits the client X-Forwarded-For names, not the proxy', async () => {
    const { port } = await start(() => 1_000_000, undefined, ['127.0.0.1']);
    for (let i = 0; i < 10; i++)
      expect(await get(port, '/owner/', `Bearer guess-${i}`, '203.0.113.9')).toBe(401);
    expect(await get(port, '/owner/', `Bearer ${TOKEN}`, '203.0.113.9')).toBe(429);
    // The owner, through the same proxy from another address, is not locked out by the guesser.
    expect(await get(port, '/owner/', `Bearer ${TOKEN}`, '198.51.100.7')).toBe(200);
    // A guesser cannot escape its limit by claiming another address to the left of its own.
    expect(await get(port, '/owner/', `Bearer ${TOKEN}`, '198.51.100.7, 203.0.113.9')).toBe(429);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const { port } = await start(() => 1_000_000);
    for (let i = 0; i < 10; i++)
      expect(await get(port, '/owner/', `Bearer guess-${i}`, `192.0.2.${i}`)).toBe(401);
    // Ten claimed addresses were one peer: it is limited whatever it claims next.
    expect(await get(port, '/owner/', `Bearer ${TOKEN}`, '198.51.100.7')).toBe(429);
  });

  it('answers a body larger than a command with 413, and applies nothing', async () => {
    const { port, commands } = await start();
    const status = await new Promise<string>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/owner/api/trading-state',
          method: 'POST',
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/json',
            'x-tributary-owner': '1',
          },
        },
        (response) => {
          resolve(`status ${response.statusCode}`);
          response.resume();
        },
      );
      req.on('error', (error) => resolve(`error ${error.message}`));
      // 100 MB, streamed (no content-length): the server cannot refuse it before reading.
      const chunk = Buffer.alloc(1 << 20, 32);
      let sent = 0;
      const write = (): void => {
        while (sent < 100) {
          sent++;
          if (!req.write(chunk)) {
            req.once('drain', write);
            return;
          }
        }
        req.end();
      };
      write();
    });
    expect(status).toBe('status 413');
    expect(commands).toEqual([]);
    expect(server?.refused.badRequests).toBe(1);
  });

  it('applies a command of ordinary size, and refuses one that is not a command with 400', async () => {
    const { port, commands, lines } = await start();
    const post = (body: string) =>
      raw(
        port,
        `POST /owner/api/trading-state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nx-tributary-owner: 1\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    expect(await post('{"trader":"trader-0","state":"HALTED","reason":"owner says stop"}')).toBe(
      'HTTP/1.1 200 OK',
    );
    expect(commands).toEqual(['trader-0:HALTED']);
    expect(await post('{"trader":"trader-0","state":"HALTED"')).toBe('HTTP/1.1 400 Bad Request');
    expect(await post('{"trader":"x","state":"HALTED","reason":"r"}')).toBe('HTTP/1.1 400 Bad Request');
    expect(commands).toEqual(['trader-0:HALTED']);
    expect(server?.refused.badRequests).toBe(2);
    expect(lines.filter((l) => l.includes('owner command refused: bad command'))).toHaveLength(2);
  });

  it('refuses a declared body larger than a command before reading it', async () => {
    const { port } = await start();
    const line = await raw(
      port,
      `POST /owner/api/trading-state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nx-tributary-owner: 1\r\nContent-Length: 104857600\r\nConnection: close\r\n\r\n{`,
    );
    expect(line).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it('does not follow a link in the served folders to a file outside them', async () => {
    const { port, dir } = await start();
    writeFileSync(`${dir}/secrets.env`, 'TRIBUTARY_OWNER_TOKEN=x');
    symlinkSync(`${dir}/secrets.env`, `${dir}/public/leak.txt`);
    symlinkSync(`${dir}/secrets.env`, `${dir}/owner/leak.txt`);
    symlinkSync(dir, `${dir}/public/up`);
    symlinkSync(`${dir}/public/index.html`, `${dir}/public/same.html`);
    expect(await get(port, '/leak.txt')).toBe(404);
    expect(await get(port, '/up/secrets.env')).toBe(404);
    expect(await get(port, '/owner/leak.txt', `Bearer ${TOKEN}`)).toBe(404);
    // A link that stays inside is served.
    expect(await get(port, '/same.html')).toBe(200);
  });

  it('drops connections past its cap on arrival, counted and logged once, and serves again when one closes', async () => {
    const { server, port, lines } = await start(undefined, 3);
    /** A connection that sends nothing, resolved once open; `closed` says when the server ended it. */
    const idle = () =>
      new Promise<{ socket: Socket; closed: Promise<void> }>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        const closed = new Promise<void>((done) => socket.on('close', () => done()));
        socket.on('error', () => {});
        socket.on('connect', () => resolve({ socket, closed }));
      });
    const held = [await idle(), await idle(), await idle()];
    // The server counts a connection when it accepts it, a loop turn after the client sees it open.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const extra = await Promise.all([idle(), idle(), idle(), idle()]);
    await Promise.all(extra.map((c) => c.closed));
    expect(server.refused.tooManyConnections).toBe(4);
    expect(lines.filter((l) => l.includes('connections dropped, too many open'))).toHaveLength(1);
    held[0]?.socket.destroy();
    await held[0]?.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    held[1]?.socket.destroy();
    await held[1]?.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await get(port, '/')).toBe(200);
    for (const c of held) c.socket.destroy();
  });
});
