#!/usr/bin/env bash
# Runs every benchmark once (what `make bench` calls after building):
#   1. each C benchmark ${B:-build}/rel/bench/bench_* (CPU-bound, ~10 s each)
#   2. bench/bench_scale.py against the release binary ${BIN:-bin}/...
#   3. bench/bench_failover.py: failover times (SIGKILL, SIGTERM; leases and
#      endpoints lock types), about 2 min
# Each step runs under `timeout`, so the whole run ends by itself (about
# 6 min on 2 cores; hard limits add up to 11 min). Output lines of the C
# benchmarks are "name value unit" (also saved in bench/results/<date>-c.txt);
# the scale benchmark prints a table and writes bench/results/<date>.txt.
# Exit status: non-zero if any step failed.
#
#   BENCH_C_TIMEOUT=60  BENCH_SCALE_TIMEOUT=540  BENCH_FAILOVER_TIMEOUT=420
#   extra args -> bench_scale.py
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${B:-build}
BIN=${BIN:-bin}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
C_TIMEOUT=${BENCH_C_TIMEOUT:-60}
SCALE_TIMEOUT=${BENCH_SCALE_TIMEOUT:-540}
rc=0

shopt -s nullglob
progs=("$B"/rel/bench/bench_*)
[ ${#progs[@]} -gt 0 ] || { echo "bench: no programs in $B/rel/bench (make bench)" >&2; rc=1; }
mkdir -p "$ROOT/bench/results"
c_out=$ROOT/bench/results/$(date +%F)-c.txt
: >"$c_out"
for p in "${progs[@]}"; do
	[ -x "$p" ] || continue
	echo "== $(basename "$p")" | tee -a "$c_out"
	# TERM, then KILL 5 s later if it ignores it
	timeout -k 5 "$C_TIMEOUT" "$p" | tee -a "$c_out"
	st=${PIPESTATUS[0]}
	[ "$st" = 0 ] || { echo "bench: $(basename "$p") failed ($st)" >&2; rc=1; }
done
[ ${#progs[@]} -gt 0 ] && echo "bench: C results in $c_out"

echo "== bench_scale.py"
# bench_scale.py tears everything down on SIGTERM; the KILL after 60 s more
# is covered by the cluster watchdog and the children's parent-death signal.
timeout -k 60 "$SCALE_TIMEOUT" /usr/bin/python3 "$ROOT/bench/bench_scale.py" \
	--bin "$BIN/cloud-controller-manager" "$@" ||
	{ echo "bench: bench_scale.py failed ($?)" >&2; rc=1; }
echo "== bench_failover.py"
timeout -k 30 "${BENCH_FAILOVER_TIMEOUT:-420}" /usr/bin/python3 \
	"$ROOT/bench/bench_failover.py" --bin "$BIN/cloud-controller-manager" ||
	{ echo "bench: bench_failover.py failed ($?)" >&2; rc=1; }
exit $rc
