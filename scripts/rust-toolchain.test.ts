import { describe, expect, it } from 'vitest';
import { parseRustcInfo, withRustFlag } from './rust-toolchain.mjs';

describe('withRustFlag', () => {
  it('adds the flag after the ones RUSTFLAGS sets, as one encoded list', () => {
    const env = withRustFlag(
      { RUSTFLAGS: ' -C  target-cpu=native -Dwarnings ' },
      '-Cprofile-use=/a b/p.profdata',
    );
    expect(env.CARGO_ENCODED_RUSTFLAGS?.split('\x1f')).toEqual([
      '-C',
      'target-cpu=native',
      '-Dwarnings',
      '-Cprofile-use=/a b/p.profdata',
    ]);
  });

  it('prefers the encoded list cargo itself prefers, keeping flags with spaces whole', () => {
    const env = withRustFlag(
      { CARGO_ENCODED_RUSTFLAGS: '-Clink-arg=-L/x y\x1f-Copt-level=3', RUSTFLAGS: '-Cignored' },
      '-Cprofile-use=/p',
    );
    expect(env.CARGO_ENCODED_RUSTFLAGS?.split('\x1f')).toEqual([
      '-Clink-arg=-L/x y',
      '-Copt-level=3',
      '-Cprofile-use=/p',
    ]);
  });

  it('gives the flag alone when nothing was set, and leaves the rest of the environment', () => {
    const env = withRustFlag({ PATH: '/bin' }, '-Cprofile-use=/p');
    expect(env).toEqual({ PATH: '/bin', CARGO_ENCODED_RUSTFLAGS: '-Cprofile-use=/p' });
  });
});

describe('parseRustcInfo', () => {
  it('reads the version line, host and LLVM major of rustc -vV', () => {
    const text = [
      'rustc 1.95.0 (59807616e 2026-04-14)',
      'binary: rustc',
      'commit-hash: 59807616e',
      'host: x86_64-unknown-linux-gnu',
      'release: 1.95.0',
      'LLVM version: 22.1.2',
      '',
    ].join('\n');
    expect(parseRustcInfo(text)).toEqual({
      version: 'rustc 1.95.0 (59807616e 2026-04-14)',
      host: 'x86_64-unknown-linux-gnu',
      llvm: 22,
    });
  });

  it('says nothing it was not told (a rustc built without LLVM)', () => {
    expect(parseRustcInfo('rustc 1.95.0-dev\nhost: aarch64-apple-darwin\n')).toEqual({
      version: 'rustc 1.95.0-dev',
      host: 'aarch64-apple-darwin',
      llvm: undefined,
    });
  });
});
