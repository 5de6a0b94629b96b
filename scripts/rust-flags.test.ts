import { describe, expect, it } from 'vitest';
import { withRustFlag } from './rust-flags.mjs';

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
