#!/usr/bin/env bash
# deps.sh installs what the build and tests need: the pinned JS tools
# (package-lock.json) and the Go modules (go.sum).
set -eu
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
	npm ci --no-audit --no-fund
fi
go mod download
