// Writes the native addon's PGO profile: an instrumented addon runs the benchmark workload, and llvm-profdata merges what it counted.
//
//   npm run pgo      # about 12 minutes; needs llvm-profdata of rustc's LLVM (Debian: apt-get install llvm-22)
//
// Steps: build the addon with `-Cprofile-generate` into target/pgo-generate (with an explicit
// --target, so build scripts and proc macros are not instrumented); put it in bindings/ in place
// of the built addon; run every benchmark (`node dist/benchmarks/run.js`: collectors' parsing, the
// hub's turns, traders' applies, REST polls, the aggregator, backtests and stage 4's processes);
// put the built addon back; merge the counts into bindings/pgo/tributary.profdata with the LLVM
// version and commit in bindings/pgo/profile.json; rebuild the addon with the new profile. Run it
// after changing core-rs or bindings, and commit both files.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rustcInfo, withRustFlag } from './rust-toolchain.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pgoDir = join(root, 'bindings', 'pgo');

/** Runs a command in the checkout, failing with its name when it fails. */
function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

const { version, host, llvm } = rustcInfo();
if (host === undefined || llvm === undefined) throw new Error('rustc -vV names no host or LLVM version');

/** An llvm-profdata of rustc's LLVM major version: the profile format follows it. */
function findProfdata() {
  for (const name of [`llvm-profdata-${llvm}`, 'llvm-profdata']) {
    const probe = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0 && new RegExp(`LLVM version ${llvm}\\.`).test(probe.stdout)) return name;
  }
  throw new Error(`no llvm-profdata of LLVM ${llvm} on PATH (Debian: apt-get install llvm-${llvm})`);
}

const profdata = findProfdata();
const addons = readdirSync(join(root, 'bindings')).filter((f) => /^tributary\..+\.node$/.test(f));
if (addons.length !== 1 || !existsSync(join(root, 'dist', 'benchmarks', 'run.js'))) {
  throw new Error(
    'build the checkout first (npm run build): one bindings/tributary.*.node and dist/ are needed',
  );
}
const addon = join(root, 'bindings', addons[0]);
const work = mkdtempSync(join(tmpdir(), 'tributary-pgo-'));
const raw = join(work, 'raw');
const targetDir = join(root, 'target', 'pgo-generate');

run('cargo', ['build', '--release', '-p', 'tributary-node', '--target', host], {
  ...withRustFlag(process.env, `-Cprofile-generate=${raw}`),
  CARGO_TARGET_DIR: targetDir,
});
const backup = join(work, addons[0]);
copyFileSync(addon, backup);
try {
  copyFileSync(join(targetDir, host, 'release', 'libtributary_node.so'), addon);
  // %m: one file per module, merged as processes exit, so the concurrent peers of stage 4 all count.
  run(process.execPath, ['dist/benchmarks/run.js', '--json', join(work, 'training.json')], {
    ...process.env,
    LLVM_PROFILE_FILE: join(raw, 'tributary-%m.profraw'),
  });
} finally {
  copyFileSync(backup, addon);
}
const counts = readdirSync(raw)
  .filter((f) => f.endsWith('.profraw'))
  .map((f) => join(raw, f));
if (counts.length === 0) throw new Error(`the workload wrote no counts into ${raw}`);
mkdirSync(pgoDir, { recursive: true });
run(profdata, ['merge', '--sparse', '-o', join(pgoDir, 'tributary.profdata'), ...counts]);
const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
// The counts are of the tree as it stood: say so when its Rust sources differ from the commit.
const dirty = execFileSync('git', ['status', '--porcelain', '--', 'core-rs', 'bindings/src', 'Cargo.lock'], {
  cwd: root,
  encoding: 'utf8',
}).trim();
const commit = dirty === '' ? head : `${head} with uncommitted changes`;
writeFileSync(
  join(pgoDir, 'profile.json'),
  `${JSON.stringify(
    {
      llvm,
      rustc: version ?? 'unknown',
      commit,
      workload: 'node dist/benchmarks/run.js',
      written: new Date().toISOString(),
    },
    null,
    2,
  )}\n`,
);
rmSync(work, { recursive: true, force: true });
run(process.execPath, ['scripts/build-native.mjs']);
console.log(`pgo: wrote bindings/pgo/tributary.profdata (LLVM ${llvm}, commit ${commit.slice(0, 7)})`);
