#!/usr/bin/env bash
# mm_smoke (suite mp): a real shmexd on its own socket, two shmex-mm and one
# shmex-taker for about 2 s. Passes when all three clients exit 0, the taker
# traded, each maker was filled, and the daemon stops on SIGTERM with a clean
# journal (--check-events: exit status 2 on a violation). Kills only the PIDs
# it started and removes its directory, also on failure.
# usage: smoke.sh SHMEXD SHMEX-MM SHMEX-TAKER [SECONDS]
set -uo pipefail
daemon=$1 mm=$2 taker=$3 secs=${4:-2}

dir=$(mktemp -d "${TMPDIR:-/tmp}/shmex-mm-smoke.XXXXXX")
sock=$dir/shmex.sock
cleanup() {
	# jobs -p: this shell's children not yet reaped, so only what it started.
	local left
	left=$(jobs -p)
	[ -z "$left" ] || kill -KILL $left 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "mm_smoke: FAIL: $*"; for f in "$dir"/*.out "$dir"/*.err; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

# Waits up to $2 tenths of a second for PID $1 to end; its status in $rc.
wait_for() {
	local pid=$1 n=$2
	while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	if kill -0 "$pid" 2>/dev/null; then rc=124; return 1; fi
	wait "$pid"; rc=$?
}

"$daemon" --socket "$sock" --check-events >"$dir/daemon.out" 2>"$dir/daemon.err" &
dpid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || fail "the daemon did not open $sock"

"$mm" --socket "$sock" --user 1 --seed 11 --seconds "$secs" --quiet --json \
	>"$dir/mm1.out" 2>"$dir/mm1.err" & m1=$!
"$mm" --socket "$sock" --user 2 --seed 22 --seconds "$secs" --quiet --json \
	>"$dir/mm2.out" 2>"$dir/mm2.err" & m2=$!
sleep 0.3 # the makers quote first, and stay until the taker is done
tsecs=$(awk -v s="$secs" 'BEGIN { t = s - 0.6; printf "%.1f", t < 0.5 ? 0.5 : t }')
"$taker" --socket "$sock" --user 3 --seed 33 --rate 50 --seconds "$tsecs" --json \
	>"$dir/taker.out" 2>"$dir/taker.err" & t=$!

limit=$(( (${secs%.*} + 15) * 10 ))
wait_for "$m1" "$limit" || fail "shmex-mm 1 did not end"
[ "$rc" -eq 0 ] || fail "shmex-mm 1 exited $rc"
wait_for "$m2" "$limit" || fail "shmex-mm 2 did not end"
[ "$rc" -eq 0 ] || fail "shmex-mm 2 exited $rc"
wait_for "$t" "$limit" || fail "shmex-taker did not end"
[ "$rc" -eq 0 ] || fail "shmex-taker exited $rc"

trades=$(grep -o '"trades":[0-9]*' "$dir/taker.out" | head -1 | cut -d: -f2)
[ "${trades:-0}" -gt 0 ] || fail "the taker saw no trade"
for m in mm1 mm2; do
	grep -q '"ended_early":false' "$dir/$m.out" || fail "$m: no summary or ended early"
	grep -q '"fills":[1-9]' "$dir/$m.out" || fail "$m: never filled"
done

kill -TERM "$dpid"
wait_for "$dpid" 100 || fail "the daemon did not stop on SIGTERM"
[ "$rc" -eq 0 ] || fail "the daemon exited $rc"
grep -q 'journal: .* 0 violations' "$dir/daemon.err" || fail "the journal saw violations"
echo "mm_smoke: ok: $trades taker trades"
grep -o '"latency":{[^}]*}' "$dir/mm1.out" | sed 's/^/mm1 /'
exit 0
