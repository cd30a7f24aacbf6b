#!/usr/bin/env bash
# shmex-lobster through its command line.
#
#   test_lobster.sh LOBSTER [REPLAY] excerpt   a hand-made level-2 day and the GOOG excerpt
#                                              in tests/data/lobster
#   test_lobster.sh LOBSTER [REPLAY] full      the LOBSTER samples in ../shared/data/lobster
#                                              (exit 77, a skip, when they are absent)
#
# REPLAY is shmex-replay, or "" when it is not built: then the checks that the
# conversion is valid replay input are left out.
set -u
lob=$1
replay=${2:-}
mode=${3:-excerpt}
src=${SHMEX_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
fail=0 pass=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name condition-result message
	if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $3"; fi
}

have_replay() { [ -n "$replay" ] && [ -x "$replay" ]; }

# final_matches REPLAY_OUTPUT ORDERBOOK: the book shmex-replay prints at the
# end has, level for level, the last orderbook row as its top levels.
final_matches() {
	awk -F, -v row="$(tail -n 1 "$2")" '
		$1 == "P" { nb = ns = 0; next }
		$1 == "B" { b[++nb] = $2 "," $3; next }
		$1 == "S" { s[++ns] = $2 "," $3; next }
		END {
			n = split(row, v, ",") / 4
			for (i = 1; i <= n; i++) {
				if (v[4 * i - 2] > 0 && (i > ns || s[i] != v[4 * i - 3] "," v[4 * i - 2])) {
					print "ask level " i ": book " s[i] ", file " v[4 * i - 3] "," v[4 * i - 2]
					bad = 1
				}
				if (v[4 * i] > 0 && (i > nb || b[i] != v[4 * i - 1] "," v[4 * i])) {
					print "bid level " i ": book " b[i] ", file " v[4 * i - 1] "," v[4 * i]
					bad = 1
				}
			}
			exit bad
		}' "$1"
}

# one_line_error NAME RC: the command failed with exit status 2 and said why
# in exactly one line on standard error.
one_line_error() {
	[ "$2" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
	check "$1" $? "rc=$2 stderr=$(cat "$tmp/err")"
}

if [ "$mode" = full ]; then
	dir=$src/../shared/data/lobster
	goog_m=$dir/GOOG_2012-06-21_34200000_57600000_message_10.csv
	goog_o=$dir/GOOG_2012-06-21_34200000_57600000_orderbook_10.csv
	if [ ! -f "$goog_m" ] || [ ! -f "$goog_o" ]; then
		echo "skip: no LOBSTER samples in $dir"
		exit 77
	fi
	# The whole GOOG day, well under 10 s, every row matching.
	t0=$(date +%s%N)
	"$lob" check --json "$goog_m" "$goog_o" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" -eq 0 ] && grep -q '"rows_compared":147916,"rows_matching":147916,' "$tmp/out" &&
		grep -q '"result":"PASS"' "$tmp/out"
	check goog_check $? "rc=$rc $(cat "$tmp/out" "$tmp/err")"
	[ "$ms" -lt 10000 ]
	check goog_time $? "check took $ms ms"
	echo "GOOG level 10 check: $ms ms"
	"$lob" check --aggressors "$goog_m" "$goog_o" >"$tmp/out" 2>&1
	check goog_aggressors $? "$(cat "$tmp/out")"
	for f in AMZN AAPL; do
		m=$dir/${f}_2012-06-21_34200000_57600000_message_1.csv
		o=$dir/${f}_2012-06-21_34200000_57600000_orderbook_1.csv
		[ -f "$m" ] || continue
		"$lob" check "$m" "$o" >"$tmp/out" 2>&1
		check "${f}_check" $? "$(cat "$tmp/out")"
		"$lob" check --aggressors "$m" "$o" >"$tmp/out" 2>&1
		check "${f}_aggressors" $? "$(cat "$tmp/out")"
	done
	# AMZN level 5 comes zipped; one of its times has 12 decimals.
	if [ -f "$dir/LOBSTER_SampleFile_AMZN_2012-06-21_5.zip" ] && command -v unzip >/dev/null; then
		unzip -q -d "$tmp/amzn5" "$dir/LOBSTER_SampleFile_AMZN_2012-06-21_5.zip"
		m=$tmp/amzn5/AMZN_2012-06-21_34200000_57600000_message_5.csv
		o=$tmp/amzn5/AMZN_2012-06-21_34200000_57600000_orderbook_5.csv
		"$lob" check --json "$m" "$o" >"$tmp/out" 2>&1
		rc=$?
		[ "$rc" -eq 0 ] && grep -q '"times_rounded":1,' "$tmp/out"
		check AMZN5_check $? "rc=$rc $(cat "$tmp/out")"
		"$lob" check --aggressors "$m" "$o" >"$tmp/out" 2>&1
		check AMZN5_aggressors $? "$(cat "$tmp/out")"
		rm -rf "$tmp/amzn5"
	fi
	if have_replay; then
		for a in "" --aggressors; do
			"$lob" convert -q $a "$goog_m" "$goog_o" | "$replay" - >"$tmp/out" 2>"$tmp/err"
			rc=$?
			[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]
			check "goog_replay$a" $? "rc=$rc $(head -3 "$tmp/err")"
			final_matches "$tmp/out" "$goog_o" >"$tmp/diff"
			check "goog_replay_final$a" $? "$(cat "$tmp/diff")"
		done
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi

# --- help and usage -------------------------------------------------------
"$lob" --help >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q '^usage: shmex-lobster convert' "$tmp/out"
check help $? "rc=$rc"
"$lob" >/dev/null 2>"$tmp/err"
one_line_error no_args $?
"$lob" frobnicate a b >/dev/null 2>"$tmp/err"
one_line_error bad_command $?
"$lob" check --bogus a b >/dev/null 2>"$tmp/err"
one_line_error bad_option $?

# --- a hand-made level-2 day ----------------------------------------------
# Row 0 seeds bid 1000000x100 (asks empty: filler). Id 99 and 98 were never
# submitted (pre-open orders): applied to the seeded level. Row 5: 980000
# enters the window from deeper (resync add). Row 7 adds 970000 below the
# window; row 8 shows 960000 as second level, so 970000 is a phantom that
# went unseen (removed) and 960000 is added. Row 9 is a hidden trade.
m=$tmp/day_message_2.csv o=$tmp/day_orderbook_2.csv
cat >"$m" <<'EOF'
34200.000000001,1,1,100,1000000,1
34200.1,1,2,50,1010000,-1
34200.2,3,99,30,1000000,1
34200.3,4,2,50,1010000,-1
34200.4,1,3,10,990000,1
34200.5,3,98,70,1000000,1
34200.6,1,4,10,1020000,-1
34200.7,1,5,5,970000,1
34200.8,3,3,10,990000,1
34200.900000000,5,0,3,1005000,1
EOF
cat >"$o" <<'EOF'
9999999999,0,1000000,100,9999999999,0,-9999999999,0
1010000,50,1000000,100,9999999999,0,-9999999999,0
1010000,50,1000000,70,9999999999,0,-9999999999,0
9999999999,0,1000000,70,9999999999,0,-9999999999,0
9999999999,0,1000000,70,9999999999,0,990000,10
9999999999,0,990000,10,9999999999,0,980000,40
1020000,10,990000,10,9999999999,0,980000,40
1020000,10,990000,10,9999999999,0,980000,40
1020000,10,980000,40,9999999999,0,960000,7
1020000,10,980000,40,9999999999,0,960000,7
EOF
s=4611686018427387904 # 2^62, the first synthetic id
cat >"$tmp/want_passive" <<EOF
A,$s,B,1000000,100
A,2,S,1010000,50
R,$s,30
R,2,50
A,3,B,990000,10
C,$s
A,$((s + 1)),B,980000,40
A,4,S,1020000,10
A,5,B,970000,5
C,3
C,5
A,$((s + 2)),B,960000,7
# hidden trade,1005000,3
EOF
sed -e "s/^R,2,50$/A,$((s + 1)),B,1010000,50,IOC/" -e "s/^A,$((s + 1)),B,980000/A,$((s + 2)),B,980000/" \
	-e "s/^A,$((s + 2)),B,960000/A,$((s + 3)),B,960000/" "$tmp/want_passive" >"$tmp/want_aggr"

"$lob" convert "$m" "$o" -o "$tmp/day.replay" 2>"$tmp/err"
rc=$?
grep -v '^# [rs]' "$tmp/day.replay" | diff -u "$tmp/want_passive" - >"$tmp/diff"
[ "$rc" -eq 0 ] && [ ! -s "$tmp/diff" ]
check day_convert $? "rc=$rc $(cat "$tmp/diff" "$tmp/err")"
grep -q 'resyncs on 2 rows: 2 levels entered (2 added to, 0 cut), 1 phantom levels removed' "$tmp/err"
check day_convert_summary $? "$(cat "$tmp/err")"
"$lob" convert --aggressors -q "$m" "$o" >"$tmp/out" 2>"$tmp/err"
rc=$?
grep -v '^# [rs]' "$tmp/out" | diff -u "$tmp/want_aggr" - >"$tmp/diff"
[ "$rc" -eq 0 ] && [ ! -s "$tmp/diff" ] && [ ! -s "$tmp/err" ]
check day_convert_aggressors $? "rc=$rc $(cat "$tmp/diff" "$tmp/err")"
"$lob" check --json "$m" "$o" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q '"rows_compared":10,"rows_matching":10,' "$tmp/out" &&
	grep -q '"unknown_ids":{"2":0,"3":2,"4":0}' "$tmp/out" &&
	grep -q '"resync":{"rows":2,"entered_added":2,"entered_cut":0,"phantom_levels":1,"missing_levels":0}' "$tmp/out" &&
	grep -q '"hidden_trades":1,' "$tmp/out" && grep -q '"result":"PASS"}$' "$tmp/out"
check day_check_json $? "rc=$rc $(cat "$tmp/out")"
"$lob" check --aggressors "$m" "$o" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q 'trades 1 (50 lots; model 50)' "$tmp/out" && grep -q '^PASS$' "$tmp/out"
check day_check_aggressors $? "rc=$rc $(cat "$tmp/out")"
"$lob" convert --annotate --print-every 4 -q "$m" "$o" >"$tmp/out"
[ "$(grep -c '^P$' "$tmp/out")" -eq 2 ] && grep -q '^# row 3: 34200.300000000,4,2,50,1010000,-1$' "$tmp/out" &&
	grep -q '^# resync row 8$' "$tmp/out"
check day_annotate $? "$(cat "$tmp/out")"
# More than 9 decimals (float noise, as in the AMZN level-5 sample): rounded
# to the nanosecond, counted, and the day still checks.
sed '5s/^34200.4,/34200.39999999995,/' "$m" >"$tmp/noisy.csv"
"$lob" check --json "$tmp/noisy.csv" "$o" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q '"times_rounded":1,' "$tmp/out"
check noisy_time $? "rc=$rc $(cat "$tmp/out")"
"$lob" convert -q --annotate "$tmp/noisy.csv" "$o" | grep -q '^# row 4: 34200.400000000,1,3,10,990000,1$'
check noisy_time_rounded $? "time not rounded to 34200.400000000"
if have_replay; then
	"$replay" "$tmp/day.replay" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	printf 'X,2,CANCELLED\nX,%s,CANCELLED\nX,3,CANCELLED\nX,5,CANCELLED\nP\nB,980000,40,1\nB,960000,7,1\nS,1020000,10,1\n' \
		"$s" | diff -u - "$tmp/out" >"$tmp/diff"
	[ "$rc" -eq 0 ] && [ ! -s "$tmp/diff" ] && [ ! -s "$tmp/err" ]
	check day_replay $? "rc=$rc $(cat "$tmp/diff" "$tmp/err")"
fi

# --- bad input: one line saying why, exit status 2 ------------------------
bad_msg() { # name line-number replacement-line expected-text
	sed "$2s/.*/$3/" "$m" >"$tmp/bad.csv"
	"$lob" convert "$tmp/bad.csv" "$o" >/dev/null 2>"$tmp/err"
	one_line_error "$1" $?
	grep -q "bad.csv:$2: $4" "$tmp/err"
	check "$1_text" $? "$(cat "$tmp/err")"
}
bad_msg bad_id 3 '34200.2,3,x99,30,1000000,1' 'field 3 (order id): not an integer'
bad_msg few_fields 4 '34200.3,4,2,50,1010000' 'too few fields (5)'
bad_msg many_fields 4 '34200.3,4,2,50,1010000,-1,7' 'too many fields'
bad_msg bad_type 5 '34200.4,9,3,10,990000,1' 'unknown message type 9'
bad_msg bad_dir 5 '34200.4,1,3,10,990000,0' 'direction must be 1 or -1'
bad_msg bad_time 5 '34200.,1,3,10,990000,1' 'field 1 (time): no digits after the point'
bad_msg long_secs 5 '1234567890.4,1,3,10,990000,1' 'field 1 (time): more than 9 digits of seconds'
bad_msg float_time 5 '3.42e4,1,3,10,990000,1' 'field 1: unexpected character'
bad_msg backwards 5 '34200.15,1,3,10,990000,1' 'time goes backwards'
bad_msg zero_size 5 '34200.4,1,3,0,990000,1' 'size must be positive'
bad_msg synth_id 5 '34200.4,1,4611686018427387904,10,990000,1' 'order id out of range'
sed '9d' "$o" >"$tmp/short.csv"
"$lob" check "$m" "$tmp/short.csv" >/dev/null 2>"$tmp/err"
one_line_error row_count $?
grep -q 'short.csv has 9 rows but .* has 10' "$tmp/err"
check row_count_text $? "$(cat "$tmp/err")"
sed '2s/.*/1010000,50,1010000,100,9999999999,0,-9999999999,0/' "$o" >"$tmp/crossed.csv"
"$lob" check "$m" "$tmp/crossed.csv" >/dev/null 2>"$tmp/err"
one_line_error crossed $?
grep -q 'crossed.csv:2: crossed or locked book' "$tmp/err"
check crossed_text $? "$(cat "$tmp/err")"
sed '3s/.*/1010000,50,1000000,70,9999999999,0/' "$o" >"$tmp/cols.csv"
"$lob" check "$m" "$tmp/cols.csv" >/dev/null 2>"$tmp/err"
one_line_error ob_few_fields $?
"$lob" check "$m" "$tmp/nope.csv" >/dev/null 2>"$tmp/err"
one_line_error missing_file $?
grep -q 'nope.csv: No such file' "$tmp/err"
check missing_file_text $? "$(cat "$tmp/err")"

# --- the GOOG excerpt: 1,800 consecutive rows of the level-10 day ----------
em=$src/tests/data/lobster/GOOG_2012-06-21_excerpt_message_10.csv
eo=$src/tests/data/lobster/GOOG_2012-06-21_excerpt_orderbook_10.csv
"$lob" check "$em" "$eo" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q 'rows compared          1800$' "$tmp/out" &&
	grep -q 'rows matching          1800 (100.000%)' "$tmp/out" && grep -q '^PASS$' "$tmp/out"
check excerpt_check $? "rc=$rc $(cat "$tmp/out")"
"$lob" check --aggressors "$em" "$eo" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q 'rejected 0$' "$tmp/out" && grep -q '^PASS$' "$tmp/out"
check excerpt_check_aggressors $? "rc=$rc $(cat "$tmp/out")"
"$lob" check - "$eo" <"$em" >/dev/null 2>&1
check excerpt_stdin $? "check from standard input failed"

# One corrupted size (best bid of row 900): that row, and only it, fails.
awk -F, -v OFS=, 'NR == 901 { $4 = $4 + 1 } 1' "$eo" >"$tmp/corrupt.csv"
"$lob" check "$em" "$tmp/corrupt.csv" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q '^mismatch at row 900 (line 901)' "$tmp/out" &&
	grep -q 'rows mismatching       1$' "$tmp/out" && grep -q '^FAIL$' "$tmp/out"
check excerpt_corrupt $? "rc=$rc $(cat "$tmp/out")"
"$lob" check --json "$em" "$tmp/corrupt.csv" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q '"mismatches":\[{"row":900,"line":901,"bid_book":\[\[' "$tmp/out" &&
	grep -q '"result":"FAIL"}$' "$tmp/out"
check excerpt_corrupt_json $? "rc=$rc $(cat "$tmp/out")"

# Convert: only replay lines, and valid replay input that ends on the last row.
"$lob" convert "$em" "$eo" -o "$tmp/ex.replay" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && ! grep -qvE '^(A,[0-9]+,[BS],[0-9]+,[0-9]+|R,[0-9]+,[0-9]+|C,[0-9]+|# .*)$' "$tmp/ex.replay" &&
	grep -q '^shmex-lobster: 1800 messages -> ' "$tmp/err"
check excerpt_convert $? "rc=$rc $(cat "$tmp/err")"
"$lob" convert -q --print-every 500 "$em" "$eo" >"$tmp/out"
[ "$(grep -c '^P$' "$tmp/out")" -eq 3 ]
check excerpt_print_every $? "$(grep -c '^P$' "$tmp/out") P lines, want 3"
if have_replay; then
	for a in "" --aggressors; do
		"$lob" convert -q $a "$em" "$eo" | "$replay" - >"$tmp/out" 2>"$tmp/err"
		rc=$?
		[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && ! grep -qE ',(UNKNOWN|DUPLICATE|INVALID)$' "$tmp/out"
		check "excerpt_replay$a" $? "rc=$rc $(head -3 "$tmp/err")"
		final_matches "$tmp/out" "$eo" >"$tmp/diff"
		check "excerpt_replay_final$a" $? "$(cat "$tmp/diff")"
	done
else
	echo "note: no shmex-replay, replay validity not checked"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
