#!/usr/bin/env bash
# Runs a libFuzzer target over its seed corpus for a bounded number of
# inputs (CI) or a bounded time (scripts/fuzz.sh), writing new inputs to a
# scratch directory, never into the source tree.
#   run_fuzz.sh TARGET SEED_DIR -runs=N | -max_total_time=S [libFuzzer options...]
set -u
target=$1
seeds=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# -seed fixed in CI for a reproducible run; crash files go to the scratch dir.
"$target" -seed=1 -artifact_prefix="$work/" "$@" "$work" "$seeds"
rc=$?
if [ "$rc" -ne 0 ]; then
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
		[ -e "$f" ] && { echo "failing input ($f), base64:"; base64 "$f"; }
	done
fi
exit "$rc"
