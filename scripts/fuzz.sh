#!/usr/bin/env bash
# Longer fuzzing runs than CI's: builds the fuzz targets with clang
# (libFuzzer + AddressSanitizer) and runs each for SECONDS (default 300).
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
secs=${1:-300}
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang CXX=clang++ meson setup build-fuzz --buildtype=debugoptimized >/dev/null
fi
meson compile -C build-fuzz tests/fuzz_shm tests/fuzz_request
for t in shm request; do
	echo "fuzz_$t: ${secs} s (progress below is libFuzzer's)"
	bash tests/fuzz/run_fuzz.sh build-fuzz/tests/fuzz_$t tests/fuzz/corpus_$t \
		-max_total_time="$secs" -print_final_stats=1
done
