import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHubKey } from '../../ts/hub/hub-link.js';
import { readKeyFile } from '../../ts/hub/key-file.js';
import { keyAllowsName } from '../../ts/hub/peer-keys.js';
import { runKeys } from './keys.js';
import { UsageError } from './usage-error.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function file(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keys-cli-'));
  dirs.push(dir);
  return join(dir, 'hub-keys.json');
}

/** Runs `tributary keys` and returns its exit code and output. */
async function keys(args: string[]) {
  let out = '';
  let err = '';
  const code = await runKeys(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('tributary keys', () => {
  it('issues a key into a 0600 file and prints its TRIBUTARY_HUB_KEY line once', async () => {
    const path = await file();
    const issued = await keys([
      'issue',
      '--file',
      path,
      '--role',
      'collector',
      '--peer',
      'kline-*',
      '--label',
      'box 1',
    ]);
    expect(issued.code).toBe(0);
    expect(issued.out).toMatch(/^TRIBUTARY_HUB_KEY=hk[0-9a-f]{16}:[0-9a-f]{64}\n$/);
    expect(issued.err).toContain('not shown again');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const token = issued.out.trim().split('=')[1] ?? '';
    const credentials = parseHubKey(token);
    const content = await readKeyFile(path);
    expect(content.keys).toHaveLength(1);
    const [key] = content.keys;
    expect(key).toMatchObject({
      id: credentials?.id,
      secret: credentials?.secret,
      role: 'collector',
      label: 'box 1',
    });
    expect(key !== undefined && keyAllowsName(key, 'kline-12')).toBe(true);
    expect(key !== undefined && keyAllowsName(key, 'tick-0')).toBe(false);
  });

  it('lists keys without their secrets, and revokes one (its secret erased, still listed)', async () => {
    const path = await file();
    const a = await keys(['issue', '-f', path, '--role', 'trader', '--peer', 'trader-0']);
    await keys(['issue', '-f', path, '--role', 'viewer', '--peer', 'dashboard', '--peer', 'viewer-*']);
    const secret = a.out.trim().split(':')[1] ?? '';
    const id = parseHubKey(a.out.trim().split('=')[1] ?? '')?.id ?? '';
    const listed = await keys(['list', '-f', path]);
    expect(listed.out).toContain(id);
    expect(listed.out).toContain('dashboard,viewer-*');
    expect(listed.out).not.toContain(secret);
    expect((await keys(['revoke', id, '-f', path])).code).toBe(0);
    const json = JSON.parse((await keys(['list', '-f', path, '--json'])).out) as Array<
      Record<string, unknown>
    >;
    expect(json.map((k) => [k.role, k.revokedAt !== null])).toEqual([
      ['trader', true],
      ['viewer', false],
    ]);
    expect(json.every((k) => !('secret' in k))).toBe(true);
    expect(await readFile(path, 'utf8')).not.toContain(secret);
    await expect(keys(['revoke', 'hk-nope', '-f', path])).rejects.toThrow(/has no key hk-nope/);
  });

  it('refuses what it cannot do with a usage error', async () => {
    const path = await file();
    await expect(keys(['issue', '-f', path, '--role', 'root', '--peer', 'x'])).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(keys(['issue', '-f', path, '--role', 'viewer'])).rejects.toThrow(/--peer/);
    await expect(keys(['issue', '-f', path, '--role', 'viewer', '--peer', 'a b'])).rejects.toThrow(/--peer/);
    await expect(keys(['burn', '-f', path])).rejects.toThrow(/unknown action/);
    await expect(keys(['list'])).rejects.toThrow(/TRIBUTARY_HUB_KEYS/);
    expect((await keys([])).code).toBe(2);
  });
});
