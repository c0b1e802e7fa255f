#!/usr/bin/env bash
# build.sh compiles the Go worker to Wasm and lays out build/ for wrangler:
#   build/wasm_exec.js  syumai/workers' patched Go runtime glue (run(instance, context))
#   build/app.wasm      the Go program (worker/ + room/)
# Files are replaced atomically, so a running `wrangler dev` reloads cleanly.
set -eu
cd "$(dirname "$0")/.."
mkdir -p build
tmp=$(mktemp -d build/.tmp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# workers-assets-gen also writes its per-request worker.mjs and runtime.mjs; we
# take only its wasm_exec.js (see README, "What we use of syumai/workers").
go tool workers-assets-gen -mode go -o "$tmp/gen" >/dev/null
# DEBUG=1 keeps the symbol names, so that CPU profiles (cmd/chatprof) name Go's functions.
ldflags="-s -w"
if [ "${DEBUG:-0}" = 1 ]; then ldflags=""; fi
GOOS=js GOARCH=wasm go build -trimpath -ldflags="$ldflags" -o "$tmp/app.wasm" ./worker
mv -f "$tmp/gen/wasm_exec.js" build/wasm_exec.js
mv -f "$tmp/app.wasm" build/app.wasm
