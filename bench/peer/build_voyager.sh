#!/bin/sh
# Builds bench/peer/voyager_harness.c against the QuantCup 2011 winner's
# engine ("voyager") OUTSIDE the repository; no engine code enters the tree.
#
# usage: bench/peer/build_voyager.sh QUANTCUP_REPO VOYAGER_ENGINE_C [OUT_DIR]
#   QUANTCUP_REPO     a clone (work tree or bare git dir) of
#                     github.com/cjoverzijl/quantcup-2011: the contest's starter
#                     kit (submission/reference: engine.h, types.h, limits.h,
#                     score.c, score_feed.h)
#   VOYAGER_ENGINE_C  voyager's engine.c ("Submitted by: voyager"); it is not in
#                     that repository: see docs/BENCHMARKS.md for where to get it
#   OUT_DIR           default /tmp/voyager
#
# Builds, with the compiler and -O3 of a release build of shmex:
#   OUT_DIR/voyager-qc      engine as published (MAX_NUM_ORDERS 1010000),
#                           included into the harness (the contest's way)
#   OUT_DIR/voyager-qc-sep  the same engine compiled as its own object
#   OUT_DIR/voyager-1m      MAX_NUM_ORDERS raised to 12000000 (the 1M flow names
#                           ids up to about 7.5M), included
set -eu
[ $# -ge 2 ] || { sed -n '2,20p' "$0"; exit 2; }
repo=$1
engine=$2
out=${3:-/tmp/voyager}
here=$(cd "$(dirname "$0")/.." && pwd)   # bench/
CC=${CC:-cc}
CFLAGS=${CFLAGS:--O3}

mkdir -p "$out/qc" "$out/1m"
for f in engine.h types.h limits.h score.c; do
	if [ -f "$repo/submission/reference/$f" ]; then
		cp "$repo/submission/reference/$f" "$out/qc/$f"
	else
		git -C "$repo" show "HEAD:submission/reference/$f" > "$out/qc/$f"
	fi
	cp "$out/qc/$f" "$out/1m/$f"
done
cp "$engine" "$out/qc/engine.c"
grep -q '^#define MAX_NUM_ORDERS 1010000' "$out/qc/engine.c" ||
	{ echo "$engine: no '#define MAX_NUM_ORDERS 1010000': not voyager's engine.c?" >&2; exit 1; }
sed 's/^#define MAX_NUM_ORDERS 1010000/#define MAX_NUM_ORDERS 12000000/' "$engine" > "$out/1m/engine.c"

common="-D_GNU_SOURCE $here/peer/voyager_harness.c $here/flow.c $here/bench_util.c -lm"
# The engine is 2011 C (old-style prototypes): warnings from it are expected.
$CC $CFLAGS -iquote "$out/qc" -DVOYAGER_ENGINE_C="\"$out/qc/engine.c\"" $common -o "$out/voyager-qc"
$CC $CFLAGS -iquote "$out/1m" -DVOYAGER_ENGINE_C="\"$out/1m/engine.c\"" $common -o "$out/voyager-1m"
$CC $CFLAGS -iquote "$out/qc" -c "$out/qc/engine.c" -o "$out/qc/engine.o"
$CC $CFLAGS -iquote "$out/qc" -DVOYAGER_SEPARATE -DVOYAGER_MAX_ORDERS=1010000 \
	$common "$out/qc/engine.o" -o "$out/voyager-qc-sep"
echo "built $out/voyager-qc $out/voyager-qc-sep $out/voyager-1m"
