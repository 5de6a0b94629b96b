// Builds the native addon (napi build, release) with the committed PGO profile when this rustc's LLVM can read it.
//
//   node scripts/build-native.mjs            # what `npm run build:native` runs
//   TRIBUTARY_PGO=off node scripts/build-native.mjs   # without the profile
//
// The profile (bindings/pgo/tributary.profdata, made by `npm run pgo`) tells LLVM which paths the
// benchmark workload runs, so it lays the hot code of a hub turn and a trader apply out together
// and the error paths apart: about a sixth fewer instructions and instruction cache lines a turn
// (docs/benchmarks-journal.md). A profile is read only by the LLVM major version that wrote it; with
// another rustc the addon builds without it, and says so. A profile older than the code only
// loses the optimisation for the functions that changed.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rustcInfo, withRustFlag } from './rust-toolchain.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pgoDir = join(root, 'bindings', 'pgo');
const profile = join(pgoDir, 'tributary.profdata');

/** Why the build goes without the profile, or undefined when it uses it. */
function withoutProfile() {
  if (process.env.TRIBUTARY_PGO === 'off') return 'TRIBUTARY_PGO=off';
  if (!existsSync(profile)) return `no profile at ${profile}`;
  let meta;
  try {
    meta = JSON.parse(readFileSync(join(pgoDir, 'profile.json'), 'utf8'));
  } catch (error) {
    return `bindings/pgo/profile.json is unreadable: ${error instanceof Error ? error.message : error}`;
  }
  const { llvm } = rustcInfo();
  if (llvm !== meta.llvm) {
    return `rustc's LLVM is ${llvm ?? 'unknown'}, the profile was written by LLVM ${meta.llvm}`;
  }
  return undefined;
}

const reason = withoutProfile();
let env = process.env;
if (reason === undefined) {
  env = withRustFlag(env, `-Cprofile-use=${profile}`);
  console.log('build:native: with the PGO profile bindings/pgo/tributary.profdata');
} else {
  console.log(`build:native: without the PGO profile (${reason})`);
}

const napi = join(root, 'node_modules', '.bin', 'napi');
const args = [
  'build',
  '--platform',
  '--release',
  '--manifest-path',
  'bindings/Cargo.toml',
  '--output-dir',
  'bindings',
  '--package-json-path',
  'package.json',
  '--js',
  'index.cjs',
  '--dts',
  'index.d.cts',
  ...process.argv.slice(2),
];
const result = spawnSync(napi, args, { cwd: root, env, stdio: 'inherit' });
if (result.error !== undefined) throw result.error;
process.exit(result.status ?? 1);
