#!/bin/sh
# Side-by-side runs of shmex and voyager on the QuantCup feed and the 1M flow
# (docs/BENCHMARKS.md, "QuantCup feed and 1M flow"): writes the two flow
# dumps, then ROUNDS interleaved rounds (default 3), each running every
# variant once, pinned with taskset to CPU (default 1); prints the medians.
#
# usage: bench/peer/compare_voyager.sh BUILD_DIR [VOYAGER_DIR] [ROUNDS] [CPU]
#   BUILD_DIR    a release meson build of shmex (bench/shmex-bench-* built)
#   VOYAGER_DIR  where bench/peer/build_voyager.sh put its binaries (/tmp/voyager)
set -eu
build=$1
voy=${2:-/tmp/voyager}
rounds=${3:-3}
cpu=${4:-1}
out=$voy/results.jsonl
here=$(cd "$(dirname "$0")" && pwd)
run() { # label command...
	label=$1
	shift
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	printf '%s (load %s)\n' "$label" "$load" >&2
	SHMEX_BENCH_CPU=$cpu taskset -c "$cpu" "$@" --json |
		sed "s/^{/{\"label\": \"$label\", \"round\": $r, /" >> "$out"
}

"$build/bench/shmex-bench-quantcup" --dump "$voy/qc.flow"
"$build/bench/shmex-bench-flow1m" --dump "$voy/flow1m.flow"
: > "$out"
for r in $(seq 1 "$rounds"); do
	run qc-shmex "$build/bench/shmex-bench-quantcup"
	run qc-shmex-reuse "$build/bench/shmex-bench-quantcup" --reuse
	run qc-shmex-external "$build/bench/shmex-bench-quantcup" --external-ids --no-prefault \
		--no-huge-pages
	run qc-voyager "$voy/voyager-qc" "$voy/qc.flow"
	run qc-voyager-sep "$voy/voyager-qc-sep" "$voy/qc.flow"
	run 1m-shmex "$build/bench/shmex-bench-flow1m"
	run 1m-shmex-prefetch "$build/bench/shmex-bench-flow1m" --prefetch
	run 1m-shmex-external "$build/bench/shmex-bench-flow1m" --external-ids --no-prefault \
		--no-huge-pages
	run 1m-voyager "$voy/voyager-1m" "$voy/flow1m.flow"
done
python3 "$here/compare_table.py" "$out"
