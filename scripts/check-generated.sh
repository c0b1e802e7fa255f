#!/usr/bin/env bash
# check-generated.sh fails when the committed easyjson code is stale: it
# regenerates it and compares with what was there.
set -eu
cd "$(dirname "$0")/.."
before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
files=$(find room -name '*_easyjson.go')
for f in $files; do cp "$f" "$before/$(echo "$f" | tr / _)"; done
./scripts/generate.sh
stale=0
for f in $(find room -name '*_easyjson.go'); do
	old="$before/$(echo "$f" | tr / _)"
	if [ ! -f "$old" ] || ! cmp -s "$old" "$f"; then
		echo "stale generated file: $f (run make generate and commit it)" >&2
		[ -f "$old" ] && diff -u "$old" "$f" | head -40 >&2 || true
		stale=1
	fi
done
exit $stale
