#!/usr/bin/env bash
# browser-deps.sh installs Debian's Chromium for the browser tests, only when
# it is missing. Playwright's own browser download cannot work offline, so the
# tests drive /usr/bin/chromium through playwright-core instead.
set -eu
if [ -x /usr/bin/chromium ]; then
	exit 0
fi
echo "== installing Debian chromium (missing)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
