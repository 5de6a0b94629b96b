// Types of rust-toolchain.mjs (the build scripts are plain JavaScript, run before anything is compiled).

/** What `rustc -vV` says of a rustc (undefined where it does not say). */
export interface RustcInfo {
  /** The version line, as `rustc --version` prints it. */
  version: string | undefined;
  host: string | undefined;
  llvm: number | undefined;
}

/** What `rustc -vV` says of the rustc on PATH. */
export function rustcInfo(): RustcInfo;

/** {@link rustcInfo} of the text `rustc -vV` printed. */
export function parseRustcInfo(text: string): RustcInfo;

/** The environment `env` with `flag` added to the compiler flags it sets, as cargo's encoded list. */
export function withRustFlag(env: NodeJS.ProcessEnv, flag: string): NodeJS.ProcessEnv;
