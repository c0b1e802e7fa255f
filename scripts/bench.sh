#!/usr/bin/env bash
# bench.sh is `make bench`: it measures the Go room against the plain-JS
# baseline (bench/js-room.mjs) in one run of one wrangler dev
# (bench/wrangler.toml, started and stopped by chatbench), prints the machine
# and the scenarios side by side with the Go/JS ratio of every figure (a
# figure measured over rounds as median (min–max)), and writes the results to
# build/bench.json.
#   QUICK=1 (default)  small sizes, under a minute on 2 cores; hold scaled down
#   FULL=1             issue 6's sizes: 10,000 connections in hold, 100 rooms
# Extra arguments go to chatbench, e.g. ./scripts/bench.sh -scenarios fanout.
set -eu
cd "$(dirname "$0")/.."

size=quick
if [ "${FULL:-0}" = 1 ]; then size=full; fi

# Each connection is a file descriptor on our side and about four in workerd
# under wrangler dev (measured: ~20,000 at 5,000 connections), and workerd
# inherits our limit. FULL's 10,000-connection hold needs ~45,000, so ask for
# 65536 (this can raise the hard limit only with privilege); otherwise take
# the hard limit. chatbench raises its soft limit again in-process and says so.
soft=$(ulimit -n)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open files: ulimit -n $soft -> $(ulimit -n) (hard limit $(ulimit -Hn)); workerd needs ~4 per connection"

if [ ! -f build/app.wasm ]; then ./scripts/build.sh; fi
echo "build/app.wasm: $(wc -c < build/app.wasm) bytes raw, $(gzip -9 -c build/app.wasm | wc -c) bytes gzip -9 (target: at most 1.6 MB)"

go build -o build/chatbench ./cmd/chatbench
start=$(date +%s)
status=0
build/chatbench -serve bench/wrangler.toml -path go=/api/chat,js=/js/api/chat -baseline js \
	-size "$size" -wasm build/app.wasm -json-file build/bench.json "$@" || status=$?
echo "bench ($size) took $(($(date +%s) - start)) s; JSON in build/bench.json"
exit $status
