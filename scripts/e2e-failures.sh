#!/usr/bin/env bash
# e2e-failures.sh LOG prints what each failed test of a `go test -v` log
# said, under its name: with parallel tests, -v interleaves their output under
# "=== CONT"/"=== NAME" headers, and the servers' log tails printed at exit
# would push the reasons out of a short tail. make test prints this last.
set -eu
log=$1
awk '
	FNR == NR {
		if (match($0, /^ *--- FAIL: [^ ]+/)) {
			name = substr($0, RSTART, RLENGTH); sub(/^ *--- FAIL: /, "", name)
			failed[name] = 1
		}
		next
	}
	/^=== (RUN|CONT|NAME|PAUSE) / { current = $3; next }
	/^ *--- (PASS|FAIL|SKIP): / || /^(PASS|FAIL|ok)/ { current = ""; next }
	current in failed {
		if (!(current in shown)) { print "--- " current ":"; shown[current] = 1 }
		if (printed[current]++ < 80) print
	}
' "$log" "$log"
