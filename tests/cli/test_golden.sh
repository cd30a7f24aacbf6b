#!/usr/bin/env bash
# shmex-replay's output on real flows, byte for byte, against digests taken
# with the book before its rewrite for speed (commit a45cdc0: hashed price
# index and rb-trees, no ladder, no issued ids), whose replay output had
# been checked against an independent reference on NASDAQ flow:
#   - the QuantCup 2011 scoring feed, with a P (book print) every 1000 lines;
#   - the LOBSTER GOOG day converted by shmex-lobster, passive and
#     --aggressors, with a P every 5000 messages.
# A change to the book's structures must leave all of it unchanged.
#
#   test_golden.sh REPLAY LOBSTER
# Exit 77 (a skip) when ../shared/data is absent.
set -u
replay=$1
lob=$2
src=${SHMEX_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$src/../shared/data
sums=$src/tests/data/golden.sha256
feed=$data/quantcup/score_feed.replay
goog=$data/lobster/GOOG_2012-06-21_34200000_57600000
if [ ! -r "$feed" ] || [ ! -r "${goog}_message_10.csv" ]; then
	echo "no ../shared/data beside the source tree: skipped"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0

digest() { # name: replay $tmp/name.replay, print "digest  name"
	"$replay" "$tmp/$1.replay" >"$tmp/$1.out" 2>"$tmp/$1.err" || {
		echo "FAIL $1: shmex-replay exited $?"; cat "$tmp/$1.err"; fail=$((fail + 1)); }
	echo "$(sha256sum <"$tmp/$1.out" | cut -d' ' -f1)  $1"
}

awk '{ print } NR % 1000 == 0 { print "P" }' "$feed" >"$tmp/quantcup.replay"
"$lob" convert -q --print-every 5000 "${goog}_message_10.csv" "${goog}_orderbook_10.csv" \
	-o "$tmp/goog_passive.replay" || fail=$((fail + 1))
"$lob" convert -q --aggressors --print-every 5000 "${goog}_message_10.csv" \
	"${goog}_orderbook_10.csv" -o "$tmp/goog_aggressors.replay" || fail=$((fail + 1))

for name in quantcup goog_passive goog_aggressors; do
	got=$(digest "$name")
	want=$(grep "  $name\$" "$sums")
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: output digest $got, expected $want"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
