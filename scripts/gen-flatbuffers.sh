#!/usr/bin/env bash
# Regenerates the committed FlatBuffers code for the hub wire schema (core-rs/schema/hub.fbs):
# Rust into core-rs/src/frame/generated/ and TypeScript into ts/wire/generated/.
# Only needed after a schema change; users build from the committed output without flatc.
#
# The Rust runtime is pinned to flatbuffers =2.1.2 because that is what flatc 2.0.8's Rust output
# targets; with another flatc, check the runtime pin in core-rs/Cargo.toml and the npm pin first.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
schema="$root/core-rs/schema/hub.fbs"
rust_out="$root/core-rs/src/frame/generated"
ts_out="$root/ts/wire/generated"
expected_version="2.0.8"

flatc="${FLATC:-flatc}"
if ! command -v "$flatc" >/dev/null 2>&1; then
  echo "gen-flatbuffers: flatc not found (apt-get install flatbuffers-compiler, or set FLATC)" >&2
  exit 1
fi
version="$("$flatc" --version | awk '{print $NF}')"
if [[ "$version" != "$expected_version" ]]; then
  echo "gen-flatbuffers: flatc $version found, the committed code comes from $expected_version;" >&2
  echo "  set ALLOW_FLATC_VERSION=1 to generate anyway, then re-check the runtime pins." >&2
  [[ "${ALLOW_FLATC_VERSION:-0}" == "1" ]] || exit 1
fi

# Start from empty folders so types removed from the schema leave no stale files behind.
rm -rf "$rust_out" "$ts_out"
mkdir -p "$rust_out" "$ts_out"
"$flatc" --rust -o "$rust_out" "$schema"
# One self-contained file: no relative imports, so it compiles the same under CommonJS, bundler
# and ESM (nodenext) resolution, which would demand ".js" extensions on relative imports.
"$flatc" --ts --ts-flat-files -o "$ts_out" "$schema"

echo "gen-flatbuffers: flatc $version wrote"
(cd "$root" && find core-rs/src/frame/generated ts/wire/generated -type f | sort | sed 's/^/  /')
