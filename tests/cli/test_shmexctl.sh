#!/usr/bin/env bash
# shmexctl (tools/shmexctl.c) against a real shmexd (--check-events, demo
# config) on its own socket: every read command in text and --json with
# exact values; deposit/withdraw in exact minor units; orders placed by
# shmex-mm (frozen with SIGSTOP while inspected, so its quotes cannot move)
# seen through orders/order/book/symbols/status and taken away by
# mass-cancel; halt refuses new orders (shmex-mm counts HALTED refusals) and
# resume reopens; set-reference moves the price band; add-asset, add-symbol,
# add-user, grant; check; the exit statuses (1 usage, 2 unreachable,
# 3 refused) with a one-line reason; the daemon stops on SIGTERM with exit 0
# and a clean journal.
#
# With MATCHERS = 2 the daemon runs the demo config with two gateways and
# two matchers (BTC/USD on matcher 0, ETH/USD on 1: every listing, the book,
# halts and mass cancels then go through the bank's split and merge).
#
# usage: test_shmexctl.sh SHMEXD SHMEXCTL SHMEX-MM [MATCHERS]
set -u
shmexd=$1 ctl=$2 mm=$3 matchers=${4:-1}
fail=0 pass=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shmexctl-test.XXXXXX")
sock=$tmp/shmexd.sock
: >"$tmp/all.err"
: >"$tmp/py.err"
daemon='' maker=''
cleanup() {
	# Only what this script started, by pid.
	if [ -n "$maker" ]; then
		kill -CONT "$maker" 2>/dev/null
		kill -KILL "$maker" 2>/dev/null
		wait "$maker" 2>/dev/null
	fi
	if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
		kill -TERM "$daemon" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	[ -z "${py_pid:-}" ] || kill "$py_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() { # name status message
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $1: $3"
	fi
}

# Runs shmexctl on the daemon: stdout in $tmp/out, stderr in $tmp/err, status
# in $rc. Every stderr is kept for the sanitizer check at the end.
run() {
	timeout 10 "$ctl" --socket "$sock" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	cat "$tmp/err" >>"$tmp/all.err"
}
# What the last run did, for a failure message.
said() { echo "rc=$rc stdout: $(head -c 600 "$tmp/out") stderr: $(cat "$tmp/err")"; }
# One Python for every JSON question (a start each costs more than all of
# shmexctl's runs): a line "FILE<tab>EXPR" in, the value of EXPR over d (the
# JSON object in FILE) out, or "E why" (also kept in py.err).
coproc PY { exec python3 -u -c 'import json, sys
for line in sys.stdin:
    path, expr = line.rstrip("\n").split("\t", 1)
    try:
        with open(path) as f:
            d = json.load(f)
        print(str(eval("(" + expr + ")")).replace("\n", " "))
    except Exception as e:
        print("E %s: %s" % (type(e).__name__, str(e).replace("\n", " ")))'; }
py_pid=$PY_PID
pyq() { # file expression
	local ans
	printf '%s\t%s\n' "$1" "${2//$'\n'/ }" >&"${PY[1]}"
	IFS= read -r -t 10 ans <&"${PY[0]}" || ans="E no answer"
	[ "${ans#E }" = "$ans" ] || echo "$ans ($2 on $(head -c 300 "$1"))" >>"$tmp/py.err"
	printf '%s\n' "$ans"
}
# Whether the last run's stdout is one JSON object for which the Python
# expression $1 (over d) holds.
js() { [ "$(pyq "$tmp/out" "$1")" = True ]; }
# Exit status $1, nothing on stdout and exactly one line on stderr.
refused_with() { [ "$rc" -eq "$1" ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]; }
# The number of open orders of user $1 (-1: the query failed).
open_orders() {
	local n
	timeout 10 "$ctl" --socket "$sock" --json orders "$1" >"$tmp/orders.json" 2>>"$tmp/all.err"
	n=$(pyq "$tmp/orders.json" 'd["total"]')
	[[ "$n" =~ ^[0-9]+$ ]] && echo "$n" || echo -1
}
# Waits up to $2 tenths of a second for pid $1 to end; its status in $rc.
wait_for() {
	local pid=$1 n=$2
	while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	if kill -0 "$pid" 2>/dev/null; then rc=124; return 1; fi
	wait "$pid"
	rc=$?
}

gateways=1
config=()
if [ "$matchers" -gt 1 ]; then
	gateways=2
	"$shmexd" --print-demo-config | python3 -c '
import sys
s = sys.stdin.read()
s = s.replace("gateways = 1", "gateways = 2").replace("matchers = 1", "matchers = 2")
s = s.replace("layout = shared ", "layout = dedicated ")
i = s.index("[symbol ETH/USD]")
j = s.index("matcher = 0", i)
print(s[:j] + "matcher = 1" + s[j + len("matcher = 0"):])' >"$tmp/shmexd.ini"
	printf '[grant]\nuid = %s\nusers = *\nroles = trader,admin\n' "$(id -u)" >>"$tmp/shmexd.ini"
	config=(--config "$tmp/shmexd.ini")
fi
"$shmexd" "${config[@]}" --socket "$sock" --check-events 2>"$tmp/shmexd.log" &
daemon=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
if [ ! -S "$sock" ]; then
	echo "FAIL: shmexd did not start: $(cat "$tmp/shmexd.log")"
	exit 1
fi
uid=$(id -u)

# ---- read commands on the demo config ----------------------------------------

run symbols --json
js '[(s["symbol"], s["code"], s["base"], s["quote"], s["status"], s["orders"]) for s in d["symbols"]]
    == [(1, "BTC/USD", "BTC", "USD", "open", 0), (2, "ETH/USD", "ETH", "USD", "open", 0)]'
check symbols_json $? "$(said)"
run symbols
[ "$rc" -eq 0 ] && [ "$(awk '$2 == "BTC/USD" || $2 == "ETH/USD" { print $1, $2, $3, $4, $5, $6 }' "$tmp/out")" = \
	"$(printf '1 BTC/USD BTC USD open -\n2 ETH/USD ETH USD open -')" ]
check symbols_text $? "$(said)"

run assets --json
js '[(a["asset"], a["code"], a["decimals"], a["supply"], a["supply_minor"]) for a in d["assets"]]
    == [(1, "USD", 2, "30000000.00", 3000000000), (2, "BTC", 8, "300.00000000", 30000000000),
        (3, "ETH", 8, "3000.00000000", 300000000000)]'
check assets_json $? "$(said)"
run assets
[ "$rc" -eq 0 ] && [ "$(awk 'NR > 1 { print $1, $2, $3, $4 }' "$tmp/out")" = \
	"$(printf '1 USD 2 30000000.00\n2 BTC 8 300.00000000\n3 ETH 8 3000.00000000')" ]
check assets_text $? "$(said)"

# The demo deposits: 10,000,000.00 USD, 100 BTC, 1000 ETH for each user.
run balances 1 --json
js 'd["user"] == 1 and [(b["code"], b["available_minor"], b["locked_minor"], b["available"]) for b in d["balances"]]
    == [("USD", 1000000000, 0, "10000000.00"), ("BTC", 10000000000, 0, "100.00000000"),
        ("ETH", 100000000000, 0, "1000.00000000")]'
check balances_json $? "$(said)"
run balances 3
[ "$rc" -eq 0 ] && [ "$(awk 'NR > 1 { print $1, $2, $3, $4 }' "$tmp/out")" = \
	"$(printf '1 USD 10000000.00 0.00\n2 BTC 100.00000000 0.00000000\n3 ETH 1000.00000000 0.00000000')" ]
check balances_text $? "$(said)"

run status --json
js 'd["engine"]["pid"] == '"$daemon"' and d["engine"]["wait_policy"] == "block"
    and (d["engine"]["assets"], d["engine"]["symbols"], d["engine"]["users"]) == (3, 2, 3)
    and d["engine"]["max_sessions"] == 64 and d["engine"]["sessions"] == 1
    and [(s["name"], s["uid"]) for s in d["sessions"]] == [("shmexctl", '"$uid"')]
    and [s["code"] for s in d["symbols"]] == ["BTC/USD", "ETH/USD"]'
check status_json $? "$(said)"
run status
[ "$rc" -eq 0 ] && grep -q "^shmexd pid $daemon, up .*, wait policy block$" "$tmp/out" &&
	grep -q '^  assets 3, symbols 2, users 3$' "$tmp/out" &&
	grep -q "^  sessions 1/64, gateways $gateways, matchers $matchers\$" "$tmp/out" &&
	grep -Eq "^ +[0-9]+ +$uid +[0-9]+ +0 .* shmexctl$" "$tmp/out" &&
	grep -Eq '^ +1 BTC/USD +BTC +USD +open ' "$tmp/out"
check status_text $? "$(said)"

run orders 1 --json
js 'd == {"user": 1, "total": 0, "orders": []}'
check orders_empty_json $? "$(said)"
run book BTC/USD --json
js 'd == {"symbol": "BTC/USD", "bids": [], "asks": []}'
check book_empty_json $? "$(said)"

run check
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "ok: every invariant holds" ]
check check_text $? "$(said)"
run check --json
[ "$rc" -eq 0 ] && js 'd == {"ok": True, "violation": ""}'
check check_json $? "$(said)"

# ---- deposit and withdraw: exact minor units ------------------------------------

run deposit 1 USD 100.25
[ "$rc" -eq 0 ] && grep -Eq '^deposited 100\.25 USD to user 1: event seq [0-9]+$' "$tmp/out"
check deposit $? "$(said)"
run balances 1 --json
js '[b["available_minor"] for b in d["balances"] if b["code"] == "USD"] == [1000010025]'
check deposit_balance $? "$(said)"
run assets --json
js '[a["supply_minor"] for a in d["assets"] if a["code"] == "USD"] == [3000010025]'
check deposit_supply $? "$(said)"
run withdraw 1 USD 0.26 --json
[ "$rc" -eq 0 ] && js 'd["user"] == 1 and d["asset"] == 1 and d["amount"] == "0.26" and d["amount_minor"] == 26 and d["seq"] > 0'
check withdraw_json $? "$(said)"
run withdraw 1 2 0.00000001 # the asset by id
[ "$rc" -eq 0 ] && grep -Eq '^withdrew 0\.00000001 BTC from user 1: event seq [0-9]+$' "$tmp/out"
check withdraw_by_id $? "$(said)"
run balances 1 --json
js '[(b["code"], b["available_minor"]) for b in d["balances"]][:2] == [("USD", 1000009999), ("BTC", 9999999999)]'
check withdraw_balance $? "$(said)"
# Too many decimals is a bad argument (exit 1, the documented usage status);
# nothing moves.
run deposit 1 USD 100.001
refused_with 1 && grep -q "'100.001' is not a decimal of USD (2 places)" "$tmp/err"
check deposit_too_precise $? "$(said)"
run withdraw 1 USD 20000000
refused_with 3 && grep -q 'insufficient available balance' "$tmp/err"
check withdraw_too_much $? "$(said)"
run deposit 1 NOPE 1
refused_with 3 && grep -q "unknown asset 'NOPE'" "$tmp/err"
check deposit_unknown_asset $? "$(said)"
run balances 1 --json
js '[b["available_minor"] for b in d["balances"] if b["code"] == "USD"] == [1000009999]'
check refused_moved_nothing $? "$(said)"

# ---- orders from a client: orders, order, book, mass-cancel ---------------------

# shmex-mm as user 1 quotes 2 levels a side of 10 lots around 6,000,000 ticks
# with a still reference: bids 5999995 and 5999985, asks 6000005 and 6000015.
mm_args=(--socket "$sock" --user 1 --symbols BTC/USD@6000000 --levels 2 --spread 10
	--size 10 --walk 0 --interval-us 20000 --quiet --json)
"$mm" "${mm_args[@]}" --seconds 20 >"$tmp/mm.out" 2>"$tmp/mm.err" &
maker=$!
n=-1
for _ in $(seq 100); do
	n=$(open_orders 1)
	[ "$n" -ge 4 ] && break
	sleep 0.05
done
# Frozen, the maker cannot replace what is looked at or cancelled below.
kill -STOP "$maker" 2>/dev/null
[ "$n" -eq 4 ]
check mm_quoted $? "user 1 has $n open orders, want 4: $(cat "$tmp/mm.err")"

run orders 1 --json
js 'd["user"] == 1 and d["total"] == 4 and sorted((o["price"], o["side"], o["qty"], o["remaining"], o["filled"],
    o["symbol"], o["symbol_id"], o["user"], o["status"], o["live"], o["type"], o["tif"]) for o in d["orders"])
    == [(5999985, "buy", 10, 10, 0, "BTC/USD", 1, 1, "new", True, "limit", "gtc"),
        (5999995, "buy", 10, 10, 0, "BTC/USD", 1, 1, "new", True, "limit", "gtc"),
        (6000005, "sell", 10, 10, 0, "BTC/USD", 1, 1, "new", True, "limit", "gtc"),
        (6000015, "sell", 10, 10, 0, "BTC/USD", 1, 1, "new", True, "limit", "gtc")]'
check orders_json $? "$(said)"
oid=$(pyq "$tmp/out" 'max(d["orders"], key=lambda o: o["price"])["order_id"]')
run orders 1
[ "$rc" -eq 0 ] && [ "$(awk 'NR > 1 { print $3, $4, $5, $6, $7, $8, $9 }' "$tmp/out" | sort)" = \
	"$(printf '%s\n' 'BTC/USD buy limit gtc new 5999985 10' 'BTC/USD buy limit gtc new 5999995 10' \
		'BTC/USD sell limit gtc new 6000005 10' 'BTC/USD sell limit gtc new 6000015 10')" ] &&
	grep -Eq "^ +$oid +[0-9]+ BTC/USD " "$tmp/out"
check orders_text $? "$(said)"
run orders 1 ETH/USD --json
js 'd == {"user": 1, "total": 0, "orders": []}'
check orders_other_symbol $? "$(said)"
run orders 2 BTC/USD --json
js 'd == {"user": 2, "total": 0, "orders": []}'
check orders_other_user $? "$(said)"

run order "$oid" --json
js 'd["order_id"] == '"${oid:-0}"' and (d["user"], d["symbol"], d["side"], d["price"], d["qty"], d["remaining"],
    d["status"], d["live"]) == (1, "BTC/USD", "sell", 6000015, 10, 10, "new", True)'
check order_json $? "$(said)"
run order "$oid"
[ "$rc" -eq 0 ] && grep -q "^order $oid (client id [0-9]*) of user 1 on BTC/USD$" "$tmp/out" &&
	grep -q '^  sell limit gtc, stp [0-9]*, status new, live, reason 0$' "$tmp/out" &&
	grep -q '^  price 6000015, ' "$tmp/out" &&
	grep -q '^  qty 10 (at entry 10): filled 0, remaining 10, cancelled 0$' "$tmp/out"
check order_text $? "$(said)"

run book BTC/USD --json
js 'd == {"symbol": "BTC/USD",
          "bids": [{"price": 5999995, "qty": 10, "orders": 1}, {"price": 5999985, "qty": 10, "orders": 1}],
          "asks": [{"price": 6000005, "qty": 10, "orders": 1}, {"price": 6000015, "qty": 10, "orders": 1}]}'
check book_json $? "$(said)"
run book 1 1 --json # by id, one level a side
js 'd == {"symbol": "BTC/USD", "bids": [{"price": 5999995, "qty": 10, "orders": 1}],
          "asks": [{"price": 6000005, "qty": 10, "orders": 1}]}'
check book_depth $? "$(said)"
run book BTC/USD
[ "$rc" -eq 0 ] && [ "$(head -1 "$tmp/out")" = "BTC/USD (prices in ticks, quantities in lots)" ] &&
	[ "$(awk 'NR > 2 { print $1, $2, $3, $4, $5, $6, $7 }' "$tmp/out")" = \
		"$(printf '1 10 5999995 | 6000005 10 1\n1 10 5999985 | 6000015 10 1')" ]
check book_text $? "$(said)"

run symbols --json
js '[(s["best_bid"], s["best_ask"], s["bid_levels"], s["ask_levels"], s["orders"]) for s in d["symbols"]]
    == [(5999995, 6000005, 2, 2, 4), (0, 0, 0, 0, 0)]'
check symbols_with_orders $? "$(said)"
run status --json
js 'sorted(s["name"] for s in d["sessions"]) == ["mm-1", "shmexctl"] and d["engine"]["sessions"] == 2
    and d["symbols"][0]["best_bid"] == 5999995'
check status_with_orders $? "$(said)"
# The asks lock their base exactly: 2 x 10 lots x 0.001 BTC.
run balances 1 --json
js '[(b["code"], b["locked_minor"], b["available_minor"] + b["locked_minor"]) for b in d["balances"]][1]
    == ("BTC", 2000000, 9999999999) and d["balances"][0]["locked_minor"] > 0'
check balances_locked $? "$(said)"
run check
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "ok: every invariant holds" ]
check check_with_orders $? "$(said)"

run mass-cancel 1 ETH/USD
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "orders cancelled: 0" ] && [ "$(open_orders 1)" -eq 4 ]
check mass_cancel_other_symbol $? "$(said)"
run mass-cancel 1
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "orders cancelled: 4" ]
check mass_cancel $? "$(said)"
run orders 1 --json
js 'd == {"user": 1, "total": 0, "orders": []}'
check mass_cancel_orders_empty $? "$(said)"
run book BTC/USD --json
js 'd == {"symbol": "BTC/USD", "bids": [], "asks": []}'
check mass_cancel_book_empty $? "$(said)"
run order "$oid" --json
js '(d["status"], d["live"], d["cancelled"], d["remaining"]) == ("cancelled", False, 10, 0)'
check mass_cancel_order_ended $? "$(said)"
run balances 1 --json
js '[(b["locked_minor"], b["available_minor"]) for b in d["balances"]][:2] == [(0, 1000009999), (0, 9999999999)]'
check mass_cancel_unlocked $? "$(said)"
run mass-cancel 1 --json
js 'd == {"cancelled": 0}'
check mass_cancel_json $? "$(said)"

# The maker goes on (it may quote again), then stops and cancels on SIGTERM.
kill -CONT "$maker" 2>/dev/null
kill -TERM "$maker" 2>/dev/null
wait_for "$maker" 100
maker=
[ "$rc" -eq 0 ] && grep -q '"ended_early":false' "$tmp/mm.out"
check mm_exit $? "rc=$rc $(cat "$tmp/mm.out" "$tmp/mm.err")"
[ "$(open_orders 1)" -eq 0 ]
check mm_left_nothing $? "user 1 still has orders"

# ---- halt and resume --------------------------------------------------------------

run halt BTC/USD
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "BTC/USD halted" ]
check halt $? "$(said)"
run symbols --json
js '[s["status"] for s in d["symbols"]] == ["halted", "open"]'
check halt_symbols $? "$(said)"
run status
grep -Eq '^ +1 BTC/USD +BTC +USD +halted ' "$tmp/out" && grep -Eq '^ +2 ETH/USD +ETH +USD +open ' "$tmp/out"
check halt_status $? "$(said)"
# Every order the maker sends on the halted symbol is refused HALTED.
timeout 10 "$mm" "${mm_args[@]}" --seconds 0.5 >"$tmp/mm.out" 2>"$tmp/mm.err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(pyq "$tmp/mm.out" '[r["new"] > 0 and r["refused"] == r["new"] and r["refused_by"] == {"HALTED": r["new"]}
	for r in [d["requests"]]][0]')" = True ]
check halt_refuses $? "rc=$rc $(cat "$tmp/mm.out" "$tmp/mm.err")"
run orders 1 --json
js 'd["total"] == 0'
check halt_no_orders $? "$(said)"

run resume 1 --json # by id
[ "$rc" -eq 0 ] && js 'd == {"symbol": 1, "status": "open"}'
check resume $? "$(said)"
run symbols --json
js '[s["status"] for s in d["symbols"]] == ["open", "open"]'
check resume_symbols $? "$(said)"
"$mm" "${mm_args[@]}" --seconds 20 >"$tmp/mm.out" 2>"$tmp/mm.err" &
maker=$!
n=-1
for _ in $(seq 100); do
	n=$(open_orders 1)
	[ "$n" -ge 4 ] && break
	sleep 0.05
done
kill -TERM "$maker" 2>/dev/null
wait_for "$maker" 100
maker=
[ "$n" -eq 4 ] && [ "$rc" -eq 0 ] &&
	[ "$(pyq "$tmp/mm.out" 'd["requests"]["new"] >= 4 and d["requests"]["refused"] == 0')" = True ]
check resume_accepts $? "$n orders, rc=$rc $(cat "$tmp/mm.out" "$tmp/mm.err")"

# No trade yet, so the reference bounds prices (band 10 %): at 3,000,000
# ticks the maker's 6,000,000 is out of the band.
run set-reference BTC/USD 3000000
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "reference price set to 3000000" ]
check set_reference $? "$(said)"
timeout 10 "$mm" "${mm_args[@]}" --seconds 0.3 >"$tmp/mm.out" 2>"$tmp/mm.err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(pyq "$tmp/mm.out" '[r["new"] > 0 and r["refused_by"] == {"PRICE_BAND": r["new"]}
	for r in [d["requests"]]][0]')" = True ]
check set_reference_band $? "rc=$rc $(cat "$tmp/mm.out" "$tmp/mm.err")"
run set-reference BTC/USD 0 --json
[ "$rc" -eq 0 ] && js 'd == {"reference_price": 0}'
check set_reference_none $? "$(said)"

# ---- administration ---------------------------------------------------------------

run add-asset DOGE 8
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "asset 4" ]
check add_asset $? "$(said)"
run assets --json
js 'd["assets"][3] == {"asset": 4, "code": "DOGE", "decimals": 8, "supply": "0.00000000", "supply_minor": 0}
    and len(d["assets"]) == 4'
check add_asset_listed $? "$(said)"
run add-asset DOGE 8
refused_with 3 && grep -q 'add-asset: already exists' "$tmp/err"
check add_asset_again $? "$(said)"

run add-symbol DOGE/USD DOGE USD --tick 1 --lot 1000000 --min-qty 1 --max-qty 1000 --json
[ "$rc" -eq 0 ] && js 'd == {"symbol": 3}'
check add_symbol $? "$(said)"
run symbols --json
js 'len(d["symbols"]) == 3 and {k: d["symbols"][2][k] for k in ("symbol", "code", "base", "quote", "status", "orders")}
    == {"symbol": 3, "code": "DOGE/USD", "base": "DOGE", "quote": "USD", "status": "open", "orders": 0}'
check add_symbol_listed $? "$(said)"
run add-symbol XRP/USD DOGE USD --lot 1
refused_with 1 && grep -q 'add-symbol needs --tick and --lot' "$tmp/err"
check add_symbol_no_tick $? "$(said)"
run add-symbol XRP/USD XRP USD --tick 1 --lot 1
refused_with 3 && grep -q "unknown asset 'XRP'" "$tmp/err"
check add_symbol_unknown_asset $? "$(said)"

run add-user --max-open-orders 100
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "user 4" ]
check add_user $? "$(said)"
run status --json
js '(d["engine"]["assets"], d["engine"]["symbols"], d["engine"]["users"]) == (4, 3, 4)
    and [s["code"] for s in d["symbols"]] == ["BTC/USD", "ETH/USD", "DOGE/USD"]'
check add_shows_in_status $? "$(said)"
run deposit 4 DOGE 1.5
[ "$rc" -eq 0 ] || echo "deposit to the new user: $(said)"
run balances 4 --json
js '[(b["code"], b["available_minor"]) for b in d["balances"] if b["code"] == "DOGE"] == [("DOGE", 150000000)]'
check new_user_balance $? "$(said)"

run grant 4242 4 trader
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "uid 4242 may act for user 4 as trader" ] &&
	grep -q 'grant: uid 4242 may act for user 4 as trader' "$tmp/shmexd.log"
check grant $? "$(said) log: $(grep grant "$tmp/shmexd.log")"
run grant 4243 '*' admin,trader --json
[ "$rc" -eq 0 ] && js 'd == {"uid": 4243, "user": "*", "roles": "admin,trader"}'
check grant_every_user $? "$(said)"
run grant 4242 4 owner
refused_with 1 && grep -q 'ROLES must be trader, admin or trader,admin' "$tmp/err"
check grant_bad_roles $? "$(said)"

# ---- errors -------------------------------------------------------------------------

run frobnicate
refused_with 1 && grep -q "unknown command 'frobnicate'" "$tmp/err"
check unknown_command $? "$(said)"
run balances
refused_with 1 && grep -q 'usage: shmexctl balances USER' "$tmp/err"
check missing_argument $? "$(said)"
run balances one
refused_with 1
check bad_number $? "$(said)"
run halt BTC/USD --tag 1
refused_with 1 && grep -q 'halt takes no option --tag' "$tmp/err"
check bad_option $? "$(said)"
timeout 10 "$ctl" --socket "$tmp/nobody.sock" status >"$tmp/out" 2>"$tmp/err"
rc=$?
refused_with 2 && grep -q "nobody.sock" "$tmp/err"
check no_daemon $? "$(said)"
timeout 10 "$ctl" --socket "$tmp/nobody.sock" --json symbols >"$tmp/out" 2>"$tmp/err"
rc=$?
refused_with 2
check no_daemon_json $? "$(said)"
run book NOPE/USD
refused_with 3 && grep -q "unknown symbol 'NOPE/USD'" "$tmp/err"
check unknown_symbol $? "$(said)"
run halt 99 --json
refused_with 3 && grep -q "unknown symbol '99'" "$tmp/err"
check unknown_symbol_id $? "$(said)"
run order 987654321
refused_with 3 && grep -q 'order: unknown order' "$tmp/err"
check unknown_order $? "$(said)"
run balances 99 --json
refused_with 3 && grep -q 'balances: unknown user' "$tmp/err"
check unknown_user $? "$(said)"
"$ctl" --help >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(grep -Ec '^  (status|symbols|assets|balances|orders|order|book|deposit|withdraw|halt|resume|set-reference|mass-cancel|add-asset|add-symbol|add-user|grant|check)( |$)' "$tmp/out")" -eq 18 ]
check help $? "$(said)"

run check
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "ok: every invariant holds" ]
check check_at_end $? "$(said)"

# ---- the daemon stops cleanly; nothing reported by a sanitizer -------------------

kill -TERM "$daemon"
wait_for "$daemon" 100
daemon=
[ "$rc" -eq 0 ] && grep -q 'journal: .* 0 violations' "$tmp/shmexd.log"
check daemon_exit $? "rc=$rc log: $(tail -3 "$tmp/shmexd.log")"
! grep -Eq 'Sanitizer|runtime error' "$tmp/shmexd.log" "$tmp/all.err"
check no_sanitizer_report $? "$(grep -E -m3 'Sanitizer|runtime error' "$tmp/shmexd.log" "$tmp/all.err")"
[ ! -s "$tmp/py.err" ]
check json_valid $? "$(head -5 "$tmp/py.err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
