// Adds a compiler flag to the ones a caller set for cargo, keeping each flag whole.

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
