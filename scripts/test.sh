#!/usr/bin/env bash
# test.sh is `make test`: it installs what it needs, then runs every check:
# generated code, formatting, vet (native and js/wasm), the room's unit and
# fuzz tests, the integration tests against wrangler dev, and the browser
# client's unit and Chromium tests.
set -eu
cd "$(dirname "$0")/.."
# Fuzz budgets are counts of executions, not durations: with a duration, Go
# 1.26's fuzz coordinator can report a spurious "context deadline exceeded"
# when its deadline races a busy worker (go.dev/issue/75804, fixed in 1.27).
# About 10 s each on 2 cores.
: "${FUZZTIME:=150000x}"
# The Go client's FuzzHandle runs a whole client per execution (dial, read
# loop, reconnects, Close, over an in-memory socket): about 2,600 executions
# a second on 2 cores, so 150000x would take about a minute. It has its own,
# smaller count: about 15 s.
: "${CLIENT_FUZZTIME:=40000x}"

./scripts/deps.sh
echo "== generated code is fresh"
./scripts/check-generated.sh
echo "== gofmt"
unformatted=$(gofmt -l room worker e2e cmd internal client 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "not gofmt'ed: $unformatted" >&2; exit 1; fi
echo "== go vet (native and js/wasm)"
go vet ./...
# internal/sqlstore's tests use a cgo SQLite, which js/wasm cannot build.
GOOS=js GOARCH=wasm go vet ./room/... ./worker/... ./internal/router/... ./internal/config/... ./internal/auth/...
echo "== unit tests: protocol, room, router, config, store, auth, Go client, terminal chat"
go test -count=1 ./room/... ./internal/... ./client/... ./cmd/chattoken/... ./cmd/chat/...
echo "== worker: the adapter under Node, over a fake of the runtime"
GOOS=js GOARCH=wasm go test -count=1 -exec "$PWD/scripts/go_js_wasm_exec" ./worker/
echo "== fuzz ($FUZZTIME each, the Go client $CLIENT_FUZZTIME)"
go test ./room/protocol/ -run '^$' -fuzz '^FuzzDecode$' -fuzztime "$FUZZTIME"
go test ./room/ -run '^$' -fuzz '^FuzzFrame$' -fuzztime "$FUZZTIME"
go test ./room/ -run '^$' -fuzz '^FuzzDecodeAttachments$' -fuzztime "$FUZZTIME"
go test ./client/ -run '^$' -fuzz '^FuzzHandle$' -fuzztime "$CLIENT_FUZZTIME"
echo "== build"
./scripts/build.sh
echo "== integration: wrangler dev + real WebSocket clients"
go test -count=1 -v ./e2e/ 2>&1 | tee build/e2e.log | grep -E '^(=== RUN|\s*--- (PASS|FAIL|SKIP)|PASS|FAIL|ok)' | grep -v '=== RUN' || true
if ! grep -qE '^ok ' build/e2e.log; then
	tail -120 build/e2e.log >&2
	echo "== what the failed tests said" >&2
	./scripts/e2e-failures.sh build/e2e.log >&2
	exit 1
fi
echo "== chatbench: every scenario once at a tiny size, Go and JS"
go test -count=1 ./cmd/chatbench/
echo "== web: client unit tests and browser tests"
./scripts/web-test.sh
