#!/usr/bin/env bash
# web-test.sh tests the browser client and page (worker/public):
#   1. unit tests of chat-client.js over a fake socket and clock (node --test);
#   2. browser tests in headless Debian Chromium, driven by playwright-core,
#      against a wrangler dev that the tests start on a free port.
# Screenshots land in build/browser-test/<test>/. It needs build/app.wasm
# (make build; make test builds it before calling this) and builds it only
# when it is missing.
set -eu
cd "$(dirname "$0")/.."

./scripts/browser-deps.sh
./scripts/deps.sh
if [ ! -f build/app.wasm ]; then
	./scripts/build.sh
fi
echo "== web: chat-client.js unit tests"
node --test web/test/*.test.mjs
echo "== web: browser tests (headless Chromium against wrangler dev)"
rm -rf build/browser-test
node --test --test-concurrency=1 web/e2e/*.e2e.test.mjs
