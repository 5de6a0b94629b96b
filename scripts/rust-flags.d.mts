// Types of rust-flags.mjs (the build scripts are plain JavaScript, run before anything is compiled).

/** The environment `env` with `flag` added to the compiler flags it sets, as cargo's encoded list. */
export function withRustFlag(env: NodeJS.ProcessEnv, flag: string): NodeJS.ProcessEnv;
