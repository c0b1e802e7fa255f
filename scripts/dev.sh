#!/usr/bin/env bash
# dev.sh serves the chat on http://127.0.0.1:8787 with wrangler dev, offline.
# Room state persists under .wrangler/state between runs.
set -eu
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false WRANGLER_HIDE_BANNER=true CLOUDFLARE_CF_FETCH_ENABLED=false
exec npx wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" --show-interactive-dev-session=false "$@"
