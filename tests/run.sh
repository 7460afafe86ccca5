#!/usr/bin/env bash
# The test runner behind `make test` / `make unit` / `make integ`.
#
#   tests/run.sh               build, unit tests, integration tests
#   tests/run.sh --unit-only   cmocka unit binaries only
#   tests/run.sh --integ-only  pytest suites only
#
# The kube-apiserver build (minutes when cold) starts first, in the
# background, so it overlaps the C build and the unit tests. Unit binaries
# run under ASan+UBSan; integration tests run with /usr/bin/python3 -m pytest.
# The last line is always "N passed, M failed"; the exit status is non-zero
# if anything failed or nothing ran. A build error counts as one failure and
# the run goes on with whatever did build (make -k).
#
# Environment: B, BIN (build/binary dirs, as for make), PYTEST_ADDOPTS
# (extra pytest options for both suites, e.g. "-x"), UNIT_TIMEOUT (seconds
# per unit binary, default 300), CCM_KEEP_CLUSTER_DIR=1 keeps the test
# cluster's directory (logs, audit log) after the run.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT=$PWD
# B and BIN (build and binary dirs) pass through to make and the fixtures.
export B=${B:-build} BIN=${BIN:-bin}
MAKE=${MAKE:-make}
abspath() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
export CCM_BIN=${CCM_BIN:-$(abspath "$BIN")/san/cloud-controller-manager}
export CCM_BUILD_DIR=${CCM_BUILD_DIR:-$(abspath "$B")}

unit=1 integ=1
for a in "$@"; do
	case $a in
	--unit-only) integ=0 ;;
	--integ-only) unit=0 ;;
	*) echo "usage: tests/run.sh [--unit-only|--integ-only]" >&2; exit 2 ;;
	esac
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}
export CMOCKA_MESSAGE_OUTPUT=stdout

WORK=$(mktemp -d /tmp/ccm-run.XXXXXX)
PASSED=0 FAILED=0
APISERVER_JOB=

cleanup() {
	if [ -n "$APISERVER_JOB" ] && kill -0 "$APISERVER_JOB" 2>/dev/null; then
		kill "$APISERVER_JOB" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# Ctrl-C already reaches pytest (same process group); TERM is forwarded.
CHILD=
on_signal() {
	if [ -n "$CHILD" ]; then
		[ "$1" = TERM ] && kill -INT "$CHILD" 2>/dev/null
		wait "$CHILD"
	fi
	echo "!! interrupted"
	echo "$PASSED passed, $((FAILED + 1)) failed"
	exit 1
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

now() { date +%s; }

finish() {
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$PASSED" -eq 0 ]; then exit 1; fi
	exit 0
}

start_apiserver_build() {
	echo "== kube-apiserver build (background): log $WORK/apiserver-build.log"
	bash tests/harness/build-apiserver.sh >"$WORK/apiserver.path" \
		2>"$WORK/apiserver-build.log" &
	APISERVER_JOB=$!
}

wait_apiserver_build() {
	local t0 rc
	t0=$(now)
	wait "$APISERVER_JOB"
	rc=$?
	APISERVER_JOB=
	if [ "$rc" -ne 0 ] || [ ! -x "$(cat "$WORK/apiserver.path")" ]; then
		echo "!! kube-apiserver build failed (exit $rc):"
		tail -40 "$WORK/apiserver-build.log"
		return 1
	fi
	KUBE_APISERVER=$(cat "$WORK/apiserver.path")
	export KUBE_APISERVER
	echo "== kube-apiserver: $KUBE_APISERVER ($("$KUBE_APISERVER" --version 2>&1 | head -1)); waited $(($(now) - t0))s"
}

build() {
	local targets=(testbins)
	if [ "$integ" -eq 0 ]; then
		targets=()
		for s in tests/unit/test_*.c; do
			[ -e "$s" ] || continue
			targets+=("$B/san/tests/$(basename "$s" .c)")
		done
		[ ${#targets[@]} -gt 0 ] || return 0
	fi
	echo "== $MAKE -j2 ${targets[*]}"
	local t0
	t0=$(now)
	# -k: a broken file fails the run but does not hide every other result
	if ! $MAKE -k -j2 --no-print-directory "${targets[@]}"; then
		echo "!! build failed (counted as one failure; running what was built)"
		return 1
	fi
	echo "== build took $(($(now) - t0))s"
}

# Counts one cmocka binary's results from its stdout: a test is passed if it
# printed "[       OK ]"; anything started and not OK (failed, skipped,
# or cut short by a sanitizer abort) is failed.
run_unit_binary() {
	local bin=$1 log rc runs oks fails
	log="$WORK/$(basename "$1").log"
	# a hung binary must not hang `make test`
	timeout -k 10 "${UNIT_TIMEOUT:-300}" "$bin" >"$log" 2>&1
	rc=$?
	[ "$rc" -eq 124 ] && echo "!! $(basename "$bin") timed out" >>"$log"
	runs=$(grep -c '^\[ RUN      \]' "$log")
	oks=$(grep -c '^\[       OK \]' "$log")
	fails=$((runs - oks))
	if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then fails=1; fi
	PASSED=$((PASSED + oks))
	FAILED=$((FAILED + fails))
	if [ "$fails" -ne 0 ]; then
		echo "FAIL $(basename "$bin"): $oks passed, $fails failed (exit $rc)"
		sed 's/^/    /' "$log" | tail -60
	else
		echo "ok   $(basename "$bin"): $oks passed"
	fi
}

run_units() {
	local found=0 bin
	for s in tests/unit/test_*.c; do
		[ -e "$s" ] || continue
		found=1
		bin="$B/san/tests/$(basename "$s" .c)"
		if [ ! -x "$bin" ]; then
			echo "FAIL $(basename "$bin"): not built"
			FAILED=$((FAILED + 1))
			continue
		fi
		run_unit_binary "$bin"
	done
	[ "$found" -eq 1 ] || echo "== no unit tests in tests/unit"
}

# Adds a pytest run's totals from its JUnit XML; errors and skips count as
# failures (tests are never skipped on purpose).
count_junit() {
	local xml=$1 counts
	counts=$(/usr/bin/python3 - "$xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 0"); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = 0
for s in suites:
    t += int(s.get("tests", 0))
    f += int(s.get("failures", 0)) + int(s.get("errors", 0)) + int(s.get("skipped", 0))
print(t - f, f)
EOF
)
	read -r JP JF <<<"$counts"
}

run_pytest() {
	local dir=$2 xml="$WORK/pytest-$1.xml" rc
	echo "== pytest $dir"
	# In the background so a TERM to this script reaches pytest (as SIGINT,
	# which pytest turns into an orderly teardown of its fixtures). Bash
	# starts background jobs with SIGINT ignored; the wrapper restores it.
	/usr/bin/python3 -c 'import signal, sys, pytest
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.exit(pytest.main(sys.argv[1:]))' \
		-q -p no:cacheprovider --junitxml="$xml" -o junit_family=xunit2 "$dir" &
	CHILD=$!
	wait "$CHILD"
	rc=$?
	CHILD=
	count_junit "$xml"
	PASSED=$((PASSED + JP))
	FAILED=$((FAILED + JF))
	if [ "$rc" -ne 0 ] && [ "$JF" -eq 0 ]; then
		# collection error, crash or no tests: still a failure
		[ "$rc" -eq 5 ] && echo "!! pytest $dir: no tests collected"
		FAILED=$((FAILED + 1))
	fi
}

has_tests() { compgen -G "$1/test_*.py" >/dev/null; }

T0=$(now)
[ "$integ" -eq 1 ] && start_apiserver_build
build || FAILED=$((FAILED + 1))
[ "$unit" -eq 1 ] && run_units

if [ "$integ" -eq 1 ]; then
	if wait_apiserver_build; then
		has_tests tests/sim && run_pytest sim tests/sim
		if has_tests tests/integ; then
			run_pytest integ tests/integ
		else
			echo "!! no integration tests in tests/integ"
			FAILED=$((FAILED + 1))
		fi
		echo "== kube-apiserver version used: $("$KUBE_APISERVER" --version 2>&1 | head -1)"
	else
		FAILED=$((FAILED + 1))
	fi
fi
echo "== total time $(($(now) - T0))s"
finish
