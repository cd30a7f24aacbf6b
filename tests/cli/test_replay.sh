#!/usr/bin/env bash
# Runs shmex-replay on every tests/cli/replay/*.in and compares standard
# output with the hand-written .out (and the exit status with .rc, default 0;
# lines named in .errlines must each be reported on standard error).
# Also checks stdin input, a missing file, a stream without a final newline, an
# over-long line, a read error, book capacity, ids chosen to collide in a fixed
# hash, and --progress.
set -u
replay=$1
dir=$(dirname "$0")/replay
fail=0 pass=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name condition-result message
	if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $3"; fi
}

for in in "$dir"/*.in; do
	name=$(basename "$in" .in)
	want_rc=0
	[ -f "$dir/$name.rc" ] && want_rc=$(cat "$dir/$name.rc")
	"$replay" "$in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	diff -u "$dir/$name.out" "$tmp/out" >"$tmp/diff"
	check "$name" $? "output differs: $(cat "$tmp/diff")"
	[ "$rc" -eq "$want_rc" ]
	check "$name" $? "exit status $rc, want $want_rc"
	if [ -f "$dir/$name.errlines" ]; then
		while read -r n; do
			grep -q "line $n:" "$tmp/err"
			check "$name" $? "line $n not reported on stderr: $(cat "$tmp/err")"
		done <"$dir/$name.errlines"
	else
		[ ! -s "$tmp/err" ]
		check "$name" $? "unexpected stderr: $(cat "$tmp/err")"
	fi
done

# Standard input, and a last line without a newline.
printf 'A,1,S,101,5\nA,2,B,101,2' | "$replay" - >"$tmp/out"
printf 'T,2,1,101,2\nP\nS,101,3,1\n' | diff -u - "$tmp/out" >/dev/null
check stdin $? "stdin replay differs: $(cat "$tmp/out")"

# A missing file: one-line reason, non-zero exit.
"$replay" "$tmp/nope" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
check missing_file $? "rc=$rc stderr=$(cat "$tmp/err")"

# A book too small for the flow says so and fails.
printf 'A,1,S,101,5\nA,2,S,102,5\nA,3,S,103,5\n' | "$replay" --capacity 2 - >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "line 3: book full" "$tmp/err"
check capacity $? "rc=$rc stderr=$(cat "$tmp/err")"

# A line longer than the input buffer (4 MiB) cannot be read: it is reported with its
# number and skipped, the rest of the file still runs, the final book is printed, exit 1.
python3 - "$tmp/long.in" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("A,1,S,100,5\nA," + "9" * (5 << 20) + ",B,100,1\nA,2,B,100,2\n")
PY
"$replay" "$tmp/long.in" >"$tmp/out" 2>"$tmp/err"
rc=$?
printf 'T,2,1,100,2\nP\nS,100,3,1\n' | diff -u - "$tmp/out" >/dev/null && [ "$rc" -eq 1 ] &&
	grep -q "line 2:" "$tmp/err" && [ "$(wc -l <"$tmp/err")" -eq 1 ]
check long_line $? "rc=$rc stdout=$(head -c 200 "$tmp/out") stderr=$(head -c 300 "$tmp/err")"

# A file that cannot be read (a directory) is an I/O error: exit 2.
"$replay" "$dir" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "read error" "$tmp/err"
check read_error $? "rc=$rc stderr=$(cat "$tmp/err")"

# Ids chosen to collide under a fixed multiplicative hash (all share one home
# slot of the tool's id set and of the book's id index) must not make the
# replay quadratic: 100k such orders take well under a second when hashing is
# keyed, and minutes when it is not.
python3 - "$tmp/flood.in" <<'PY'
import sys
pinv = pow(0x9E3779B97F4A7C15, -1, 1 << 64)
with open(sys.argv[1], "w") as f:
    for j in range(1, 100001):
        f.write("A,%d,B,1,1\n" % ((((0x1234 << 32) | j) * pinv) % (1 << 64)))
PY
start=$(date +%s%N)
timeout 120 "$replay" "$tmp/flood.in" >"$tmp/out" 2>"$tmp/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" -eq 0 ] && [ "$(tail -1 "$tmp/out")" = "B,1,100000,100000" ] && [ "$ms" -lt 5000 ]
check id_flood $? "rc=$rc, $ms ms (limit 5000), last line $(tail -1 "$tmp/out")"

# --progress reports on stderr only; stdout is unchanged.
"$replay" --progress "$dir/spec_example.in" >"$tmp/out" 2>"$tmp/err"
diff -q "$dir/spec_example.out" "$tmp/out" >/dev/null && grep -q "lines, .* live orders, done" "$tmp/err"
check progress $? "stderr=$(cat "$tmp/err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
