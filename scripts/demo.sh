#!/usr/bin/env bash
# The main job: installs what shmex needs, builds the daemon and the sample
# clients (release build in build-demo, reused when it exists), then runs a
# small live market for a few seconds:
#   shmexd            the engine, built-in demo config, on a temporary socket
#   shmex-mm  x2      market makers (users 1 and 2, different seeds) quoting
#                     BTC/USD and ETH/USD
#   shmex-taker       a taker (user 3) sending IOC orders through the touch;
#                     its trades are printed as they happen
# then the engine's status (shmexctl, when built), the makers' summaries
# (fills, balance changes, request round-trip latency) and everyone's
# balances; stops the daemon with SIGTERM and cleans up.
#
# usage: scripts/demo.sh [--seconds N] [--rate ORDERS_PER_SEC] [--matchers 1|2]
# (--matchers 2: the demo config on two gateway and two matcher threads,
# BTC/USD on one and ETH/USD on the other, with the bank thread between)
# Exit status 0 when every process ended well and the engine's invariants
# and event journal check out; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=8
rate=10
matchers=1
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
	--rate) rate=${2:?--rate needs a value}; shift 2 ;;
	--matchers) matchers=${2:?--matchers needs a value}; shift 2 ;;
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo: unknown argument '$1' (--help)" >&2; exit 1 ;;
	esac
done
case $seconds in '' | *[!0-9]*) echo "demo: --seconds: a whole number" >&2; exit 1 ;; esac
case $rate in '' | *[!0-9]*) echo "demo: --rate: a whole number" >&2; exit 1 ;; esac
case $matchers in 1 | 2) ;; *) echo "demo: --matchers: 1 or 2" >&2; exit 1 ;; esac

bash scripts/install-deps.sh

build=build-demo
echo "== building (meson, release, $build)"
if [ ! -f "$build/build.ninja" ]; then
	log=$(mktemp)
	if ! meson setup "$build" --buildtype=release -Dtests=false >"$log" 2>&1; then
		cat "$log"; rm -f "$log"; exit 1
	fi
	rm -f "$log"
fi
targets=(shmexd shmex-mm shmex-taker)
if meson introspect "$build" --targets | grep -q '"name": "shmexctl"'; then
	targets+=(shmexctl)
fi
if ! meson compile -C "$build" "${targets[@]}" >"$build/demo-compile.log" 2>&1; then
	tail -40 "$build/demo-compile.log"; exit 1
fi
bin=$build/tools
ctl=()
[ -x "$bin/shmexctl" ] && ctl=("$bin/shmexctl")

dir=$(mktemp -d "${TMPDIR:-/tmp}/shmex-demo.XXXXXX")
sock=$dir/shmex.sock
cleanup() {
	# jobs -p: the children of this script not yet reaped, so only what it started.
	local left
	left=$(jobs -p)
	[ -z "$left" ] || kill -KILL $left 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 1' INT TERM

status=0
fail() { echo "demo: FAILED: $*" >&2; status=1; }

# Waits up to $2 seconds for PID $1; its exit status in $rc (124: still running).
wait_for() {
	local pid=$1 n=$(($2 * 10))
	while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	if kill -0 "$pid" 2>/dev/null; then rc=124; return 0; fi
	rc=0; wait "$pid" || rc=$?
}

config=()
if [ "$matchers" -gt 1 ]; then
	# The demo config on two gateways and two matchers; a config file
	# names its grants, so this uid's is written out.
	"$bin/shmexd" --print-demo-config |
		sed -e 's/^gateways = .*/gateways = 2/' -e 's/^matchers = .*/matchers = 2/' \
			-e 's/^layout = [a-z]*/layout = dedicated/' \
			-e '/^\[symbol ETH\/USD\]/,/^matcher = / s/^matcher = .*/matcher = 1/' \
			>"$dir/shmexd.ini"
	printf '[grant]\nuid = %s\nusers = *\nroles = trader,admin\n' "$(id -u)" >>"$dir/shmexd.ini"
	config=(--config "$dir/shmexd.ini")
	echo "== shmexd --config $dir/shmexd.ini (the demo config, 2 gateways, 2 matchers) --socket $sock --check-events"
else
	echo "== shmexd --socket $sock --check-events (built-in demo config: shmexd --print-demo-config)"
fi
"$bin/shmexd" "${config[@]}" --socket "$sock" --check-events 2>"$dir/daemon.log" &
daemon=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
if [ ! -S "$sock" ]; then
	cat "$dir/daemon.log" >&2
	echo "demo: FAILED: the daemon did not start" >&2
	exit 1
fi

mm_secs=$((seconds + 2)) # the makers quote before the taker comes and after it leaves
echo "== 2 x shmex-mm (users 1 and 2, BTC/USD and ETH/USD, 3 levels a side, ${mm_secs} s)"
"$bin/shmex-mm" --socket "$sock" --user 1 --seed 1 --seconds "$mm_secs" --quiet \
	>"$dir/mm1.out" 2>"$dir/mm1.err" &
mm1=$!
"$bin/shmex-mm" --socket "$sock" --user 2 --seed 2 --seconds "$mm_secs" --quiet \
	>"$dir/mm2.out" 2>"$dir/mm2.err" &
mm2=$!
sleep 0.5

echo "== shmex-taker (user 3, $rate IOC orders/s for $seconds s): its trades as they happen"
"$bin/shmex-taker" --socket "$sock" --user 3 --seed 3 --rate "$rate" --seconds "$seconds" &
taker=$!
wait_for "$taker" $((seconds + 15))
[ "$rc" -eq 0 ] || fail "shmex-taker exited $rc"

if [ ${#ctl[@]} -gt 0 ]; then
	echo
	echo "== shmexctl status (the makers still quoting)"
	"${ctl[@]}" --socket "$sock" status || fail "shmexctl status"
fi

for m in 1 2; do
	pid=$([ "$m" = 1 ] && echo "$mm1" || echo "$mm2")
	wait_for "$pid" $((mm_secs + 15))
	echo
	echo "== shmex-mm user $m: summary"
	cat "$dir/mm$m.out"
	[ ! -s "$dir/mm$m.err" ] || cat "$dir/mm$m.err" >&2
	[ "$rc" -eq 0 ] || fail "shmex-mm user $m exited $rc"
done

if [ ${#ctl[@]} -gt 0 ]; then
	for u in 1 2 3; do
		echo
		echo "== shmexctl balances $u"
		"${ctl[@]}" --socket "$sock" balances "$u" || fail "shmexctl balances $u"
	done
	echo
	echo "== shmexctl check"
	"${ctl[@]}" --socket "$sock" check || fail "shmexctl check: an invariant does not hold"
fi

echo
echo "== stopping shmexd (SIGTERM)"
kill -TERM "$daemon"
wait_for "$daemon" 15
grep -E 'journal|stopped|SIGTERM' "$dir/daemon.log" || true
if [ "$rc" -ne 0 ]; then
	[ "$rc" -ne 124 ] || kill -KILL "$daemon" 2>/dev/null || true
	fail "shmexd exited $rc (2: the event journal saw violations; 124: it did not stop)"
fi

if [ "$status" -eq 0 ]; then
	echo "demo: ok"
fi
exit "$status"
