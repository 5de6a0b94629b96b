// scriptArgs: an npm script's options, a bad one answered with one line and the usage (exit 2), --help with the usage (exit 0).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { scriptArgs } from './usage-error.js';

const USAGE = 'usage: npm run demo -- [--rate N]\n';
const config = (args: string[]) => ({ args, options: { rate: { type: 'string' as const, default: '1' } } });

/** Runs `scriptArgs` with stdout, stderr and exit caught: what it wrote, and the exit code if it exited. */
function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((text) => out.push(String(text)) > 0);
  vi.spyOn(process.stderr, 'write').mockImplementation((text) => err.push(String(text)) > 0);
  vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new ExitCalled(Number(code));
  });
  try {
    return { values: scriptArgs('demo', USAGE, config(args)), out, err, exit: undefined };
  } catch (error) {
    if (!(error instanceof ExitCalled)) throw error;
    return { values: undefined, out, err, exit: error.code };
  }
}

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('scriptArgs', () => {
  it('returns the values of good options', () => {
    expect(run(['--rate', '5'])).toMatchObject({ values: { rate: '5' }, exit: undefined });
  });

  it('answers an unknown or repeated option with one line and the usage, exit 2', () => {
    expect(run(['--bogus'])).toMatchObject({ exit: 2, err: [`demo: Unknown option '--bogus'\n${USAGE}`] });
    expect(run(['--rate', '1', '--rate', '2'])).toMatchObject({
      exit: 2,
      err: [`demo: --rate is given twice\n${USAGE}`],
    });
  });

  it('prints the usage for --help, exit 0', () => {
    expect(run(['--help'])).toMatchObject({ exit: 0, out: [USAGE], err: [] });
  });
});
