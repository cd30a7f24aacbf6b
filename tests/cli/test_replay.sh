#!/usr/bin/env bash
# Runs shmex-replay on every tests/cli/replay/*.in and compares standard
# output with the hand-written .out (and the exit status with .rc, default 0;
# lines named in .errlines must each be reported on standard error).
# Also checks stdin input, a missing file, and a stream without a final newline.
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

# --progress reports on stderr only; stdout is unchanged.
"$replay" --progress "$dir/spec_example.in" >"$tmp/out" 2>"$tmp/err"
diff -q "$dir/spec_example.out" "$tmp/out" >/dev/null && grep -q "lines, .* live orders, done" "$tmp/err"
check progress $? "stderr=$(cat "$tmp/err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
