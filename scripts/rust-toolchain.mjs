// The Rust toolchain as the build scripts see it: what rustc says of itself, and compiler flags passed to cargo.
import { execFileSync } from 'node:child_process';

/**
 * What `rustc -vV` says of the rustc on PATH: its version line, host triple and LLVM major
 * version (undefined where it does not say).
 */
export function rustcInfo() {
  return parseRustcInfo(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }));
}

/** {@link rustcInfo} of the text `rustc -vV` printed. */
export function parseRustcInfo(text) {
  const llvm = /^LLVM version: (\d+)\./m.exec(text)?.[1];
  return {
    version: /^rustc .*$/m.exec(text)?.[0],
    host: /^host: (\S+)$/m.exec(text)?.[1],
    llvm: llvm === undefined ? undefined : Number(llvm),
  };
}

/**
 * The environment `env` with `flag` added to the compiler flags it sets, as cargo's encoded list
 * (`CARGO_ENCODED_RUSTFLAGS`, 0x1f-separated, read before `RUSTFLAGS`), so a path with spaces
 * stays one flag.
 */
export function withRustFlag(env, flag) {
  const given =
    env.CARGO_ENCODED_RUSTFLAGS !== undefined
      ? env.CARGO_ENCODED_RUSTFLAGS.split('\x1f')
      : (env.RUSTFLAGS ?? '').split(/\s+/);
  const flags = [...given.filter((f) => f !== ''), flag];
  return { ...env, CARGO_ENCODED_RUSTFLAGS: flags.join('\x1f') };
}
