#!/usr/bin/env bash
# bundle.sh builds the exact upload bundle of `make deploy`, offline, and
# prints its size: wrangler's own total and the Wasm module gzipped.
set -eu
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false WRANGLER_HIDE_BANNER=true CLOUDFLARE_CF_FETCH_ENABLED=false
out=build/dist
rm -rf "$out"
npx wrangler deploy --dry-run --outdir "$out"
echo "app.wasm: $(wc -c < build/app.wasm) bytes raw, $(gzip -9 -c build/app.wasm | wc -c) bytes gzip -9"
