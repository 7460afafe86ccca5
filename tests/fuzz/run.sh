#!/usr/bin/env bash
# Runs each libFuzzer binary given for FUZZ_SECONDS (default 30) on its own
# corpus in tests/fuzz/corpus/<name>; stops at the first crash.
set -euo pipefail
secs=${FUZZ_SECONDS:-30}
here=$(cd "$(dirname "$0")" && pwd)
for bin in "$@"; do
	name=$(basename "$bin")
	mkdir -p "$here/corpus/$name"
	echo "== $name (${secs}s)"
	"$bin" -max_total_time="$secs" -print_final_stats=0 \
		-artifact_prefix="$here/corpus/$name-crash-" "$here/corpus/$name" \
		2>&1 | tail -3
done
