#!/usr/bin/env bash
# shmex-replay --connect against a real shmexd: every tests/cli/replay/*.in
# scenario, and seeded random flows that use every command and option, must
# print byte for byte what the in-process run prints, with the same exit
# status. Runs on one daemon are independent (each has its own symbol and
# users): the same file twice, and two files at once, print the same again.
# Also: standard input, the documented limits (money beyond an asset's
# 2^63-1 supply, a book deeper than the daemon's 256-level query), and a
# daemon that is not there. The daemon runs with --check-events, so every
# ledger event of every run is checked too (exit status 2 on a violation).
#
# With MATCHERS > 1 (default 1) the daemon runs that many matcher threads
# and two gateways (layout dedicated): each run's fresh symbol lands on the
# next matcher, so the runs go through every matcher and the bank.
#
# usage: test_replay_connect.sh SHMEXD SHMEX-REPLAY [MATCHERS]
set -u
shmexd=$1
replay=$2
matchers=${3:-1}
dir=$(dirname "$0")/replay
fail=0 pass=0
tmp=$(mktemp -d)
daemon=
cleanup() {
	# Only the daemon this script started, by its pid.
	if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
		kill -TERM "$daemon" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

check() { # name condition-result message
	if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $3"; fi
}

# The demo configuration with room for every run's symbol and users (the
# demo's 16 symbols would last 14 runs), and the demo's grant written out.
sock=$tmp/shmexd.sock
"$shmexd" --print-demo-config |
	sed -e 's/^max_symbols = .*/max_symbols = 256/' -e 's/^max_users = .*/max_users = 1024/' \
		>"$tmp/shmexd.ini"
if [ "$matchers" -gt 1 ]; then
	sed -i -e "s/^matchers = .*/matchers = $matchers/" -e 's/^gateways = .*/gateways = 2/' \
		-e 's/^layout = .*/layout = dedicated/' "$tmp/shmexd.ini"
fi
printf '[grant]\nuid = %s\nusers = *\nroles = trader,admin\n' "$(id -u)" >>"$tmp/shmexd.ini"
"$shmexd" --config "$tmp/shmexd.ini" --socket "$sock" --check-events 2>"$tmp/shmexd.log" &
daemon=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
if [ ! -S "$sock" ]; then
	echo "FAIL: shmexd did not start: $(cat "$tmp/shmexd.log")"
	exit 1
fi

# Runs FILE in process and through the daemon; compares output and status.
compare() { # name file
	"$replay" "$2" >"$tmp/want" 2>/dev/null
	local want_rc=$?
	timeout 60 "$replay" --connect "$sock" "$2" >"$tmp/got" 2>"$tmp/err"
	local rc=$?
	cmp -s "$tmp/want" "$tmp/got"
	check "$1" $? "output differs: $(diff "$tmp/want" "$tmp/got" | head -20) stderr: $(head -5 "$tmp/err")"
	[ "$rc" -eq "$want_rc" ]
	check "$1" $? "exit status $rc, want $want_rc: $(head -5 "$tmp/err")"
}

# Scenarios whose money cannot fit in one asset's supply (2^63-1 units): the
# run stops with that reason (exit status 2) instead of printing something else.
unfit=" extremes "

for in in "$dir"/*.in; do
	name=$(basename "$in" .in)
	if [[ "$unfit" == *" $name "* ]]; then
		timeout 60 "$replay" --connect "$sock" "$in" >"$tmp/got" 2>"$tmp/err"
		rc=$?
		[ "$rc" -eq 2 ] && grep -q "does not fit in the funding" "$tmp/err"
		check "$name" $? "rc=$rc stderr=$(cat "$tmp/err")"
		continue
	fi
	compare "$name" "$in"
done

# Seeded random flows: adds with every option (time in force, post-only,
# iceberg, users, self-trade prevention), market orders, cancels and reduces
# of live, ended and unknown ids, repeated ids, book prints; a narrow price
# range so that orders meet.
python3 - "$tmp" <<'PY'
import random, sys
for seed in (1, 2, 3):
    rng = random.Random(seed)
    ids, nid, out = [], 1, []
    for _ in range(2000):
        r = rng.random()
        if r < 0.55:
            oid = rng.choice(ids) if ids and rng.random() < 0.03 else nid
            nid += oid == nid
            ids.append(oid)
            opts = []
            t = rng.random()
            opts += ["IOC"] if t < 0.1 else ["FOK"] if t < 0.17 else ["POST"] if t < 0.27 else []
            if rng.random() < 0.15 and not set(opts) & {"IOC", "FOK"}:
                opts.append("ICE=%d" % rng.randint(1, 8))
            if rng.random() < 0.5:
                opts.append("U=%d" % rng.randint(0, 3))
                if rng.random() < 0.5:
                    opts.append("STP=" + rng.choice(["CN", "CO", "CB"]))
            rng.shuffle(opts)
            out.append(",".join(["A", str(oid), rng.choice("BS"), str(rng.randint(95, 105)),
                                 str(rng.randint(1, 30))] + opts))
        elif r < 0.62:
            opts = []
            if rng.random() < 0.4:
                opts.append("U=%d" % rng.randint(0, 3))
                if rng.random() < 0.5:
                    opts.append("STP=" + rng.choice(["CN", "CO", "CB"]))
            out.append(",".join(["M", str(nid), rng.choice("BS"), str(rng.randint(1, 40))] + opts))
            ids.append(nid)
            nid += 1
        elif r < 0.8:
            out.append("C,%d" % (rng.choice(ids) if ids and rng.random() < 0.95 else nid + 5))
        elif r < 0.97:
            out.append("R,%d,%d" % (rng.choice(ids) if ids else 1, rng.randint(1, 12)))
        else:
            out.append("P")
    with open("%s/random%d.in" % (sys.argv[1], seed), "w") as f:
        f.write("\n".join(out) + "\n")
PY
for seed in 1 2 3; do
	compare "random$seed" "$tmp/random$seed.in"
done

# Independent runs: the same file again prints the same; two files at once
# against the same daemon each print what they print alone.
compare "spec_example again" "$dir/spec_example.in"
"$replay" "$tmp/random1.in" >"$tmp/want1"
"$replay" "$dir/stp.in" >"$tmp/want2"
timeout 60 "$replay" --connect "$sock" "$tmp/random1.in" >"$tmp/got1" 2>/dev/null &
p1=$!
timeout 60 "$replay" --connect "$sock" "$dir/stp.in" >"$tmp/got2" 2>/dev/null &
p2=$!
wait "$p1"
rc1=$?
wait "$p2"
rc2=$?
cmp -s "$tmp/want1" "$tmp/got1" && cmp -s "$tmp/want2" "$tmp/got2" && [ "$rc1" -eq 0 ] &&
	[ "$rc2" -eq 0 ]
check concurrent $? "rc $rc1 $rc2: $(diff "$tmp/want1" "$tmp/got1" | head -5) $(diff "$tmp/want2" "$tmp/got2" | head -5)"

# Standard input.
printf 'A,1,S,101,5\nA,2,B,101,2' | timeout 60 "$replay" --connect "$sock" - >"$tmp/got"
printf 'T,2,1,101,2\nP\nS,101,3,1\n' | cmp -s - "$tmp/got"
check stdin $? "got: $(cat "$tmp/got")"

# A book deeper than the daemon's book query (256 levels a side): the levels
# it shows are printed, the cut is reported, exit status 1.
python3 -c '
for i in range(1, 301): print("A,%d,S,%d,1" % (i, 1000 + i))' >"$tmp/deep.in"
timeout 60 "$replay" --connect "$sock" "$tmp/deep.in" >"$tmp/got" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "at most 256 per side" "$tmp/err" && [ "$(grep -c '^S,' "$tmp/got")" -eq 256 ]
check deep_book $? "rc=$rc stderr=$(cat "$tmp/err")"

# No daemon there: a one-line reason, exit status 2.
"$replay" --connect "$tmp/nobody.sock" "$dir/spec_example.in" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
check no_daemon $? "rc=$rc stderr=$(cat "$tmp/err")"

# The daemon stops cleanly, and its journal found every event consistent.
kill -TERM "$daemon"
for _ in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
kill -0 "$daemon" 2>/dev/null && kill -KILL "$daemon"
wait "$daemon"
rc=$?
daemon=
[ "$rc" -eq 0 ] && grep -q "journal: .* 0 violations" "$tmp/shmexd.log"
check daemon_exit $? "rc=$rc log: $(tail -3 "$tmp/shmexd.log")"
if [ "$matchers" -gt 1 ]; then # it really ran them
	grep -q "listening on .*(2 gateway(s), $matchers matcher(s), layout dedicated" "$tmp/shmexd.log"
	check matchers $? "log: $(head -3 "$tmp/shmexd.log")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
