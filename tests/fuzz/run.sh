#!/usr/bin/env bash
# Runs each libFuzzer binary given for FUZZ_SECONDS (default 30) on its own
# corpus in tests/fuzz/corpus/<name>; stops at the first crash. The
# kubeconfig corpus then goes through the PyYAML differential check.
set -euo pipefail
secs=${FUZZ_SECONDS:-30}
here=$(cd "$(dirname "$0")" && pwd)
for bin in "$@"; do
	name=$(basename "$bin")
	mkdir -p "$here/corpus/$name"
	echo "== $name (${secs}s)"
	seeds=()
	# the kubeconfig fuzzer starts from the differential test's corpus
	[ "$name" = fuzz_kubeconfig ] && seeds=("$here/../yaml/corpus")
	"$bin" -max_total_time="$secs" -print_final_stats=0 \
		-artifact_prefix="$here/corpus/$name-crash-" "$here/corpus/$name" \
		"${seeds[@]}" 2>&1 | tail -3
	if [ "$name" = fuzz_kubeconfig ]; then
		echo "== $name corpus against PyYAML"
		/usr/bin/python3 "$here/../yaml/yaml_diff.py" \
			"${PROG_YAML:-build/san/tests/integ/prog_yaml}" \
			"$here/corpus/$name" "$here/../yaml/corpus"
	fi
done
