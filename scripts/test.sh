#!/usr/bin/env bash
# Installs what shmex needs, then builds and runs every test suite:
#   1. gcc, AddressSanitizer + UBSan (any sanitizer report fails the test),
#      with a shorter randomized differential run;
#   2. gcc, optimized, the full suites (the differential test at
#      >= 5 million commands);
#   3. clang, warnings as errors, the unit suite and a short run of each
#      fuzz target (libFuzzer);
#   4. gcc, ThreadSanitizer, the concurrent suite (rings shared by threads
#      and processes, the client library, and the multi-process tests of the
#      daemon, whose threads then run under TSan).
# Ends with one line "N passed, N failed, N skipped" over all four.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
jobs=$(nproc)
status=0
logs=()

run_build() { # dir, test args..., -- meson setup args...
	local dir=$1; shift
	local targs=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do targs+=("$1"); shift; done
	shift
	echo "== $dir: meson setup $*"
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; status=1; return; }
	fi
	if ! meson compile -C "$dir" >"$dir.compile.log" 2>&1; then
		tail -50 "$dir.compile.log"; status=1; return
	fi
	echo "== $dir: meson test ${targs[*]}"
	meson test -C "$dir" --num-processes "$jobs" --print-errorlogs "${targs[@]}" || status=1
	logs+=("$dir/meson-logs/testlog.json")
}

run_build build-asan -- --buildtype=debug -Db_sanitize=address,undefined \
	-Dc_args=-fno-sanitize-recover=all -Dcpp_args=-fno-sanitize-recover=all \
	-Ddiff_commands=300000
run_build build-release -- --buildtype=release -Ddiff_commands=5000000
if command -v clang >/dev/null; then
	CC=clang CXX=clang++ run_build build-clang --suite unit --suite fuzz -- \
		--buildtype=debugoptimized \
		-Ddiff_commands=200000
fi

run_build build-tsan --suite concurrent -- --buildtype=debugoptimized -Db_sanitize=thread \
	-Ddiff_commands=100000

python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
