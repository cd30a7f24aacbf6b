#!/usr/bin/env bash
# Core scaling of shmexd with several matchers, in one short run for a
# machine with many cores (the 2-core development VMs cannot show it):
#   - throughput (shmex-bench-tput, layout dedicated, wait spin, every
#     engine thread and sender pinned to a core of its own) with 1, 2, 4, 8
#     matchers, as many as the cores allow; 2 sessions per matcher, session
#     s trading symbol s % M, so each matcher has its own book work;
#   - round trips (shmex-bench-rtt): 1 matcher (layout shared, one engine
#     thread) and 2 matchers (gateway, bank, 2 matchers on 4 cores): what
#     the bank's two extra ring hops cost.
# Builds a release tree in build-scale (reused), writes every JSON under
# OUT (default bench-scaling-<date>), prints a table. About 2-4 minutes on
# 16 cores.
#
# usage: bench/scaling.sh [--orders N] [--trips N] [--out DIR] [--max-matchers M]
set -euo pipefail
cd "$(dirname "$0")/.."

orders=300000
trips=50000
out=bench-scaling-$(date -u +%Y%m%dT%H%M%SZ)
max_m=8
while [ $# -gt 0 ]; do
	case $1 in
	--orders) orders=${2:?}; shift 2 ;;
	--trips) trips=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--max-matchers) max_m=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "scaling: unknown argument '$1' (--help)" >&2; exit 1 ;;
	esac
done

build=build-scale
if [ ! -f "$build/build.ninja" ]; then
	echo "== building (meson, release, $build)"
	meson setup "$build" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" tools/shmexd bench/shmex-bench-tput bench/shmex-bench-rtt >/dev/null
mkdir -p "$out"
cores=$(nproc)
echo "== $cores CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"

# A comma list of n CPUs from first on.
cpu_list() { seq -s, "$1" $(($1 + $2 - 1)); }

m=1
while [ "$m" -le "$max_m" ]; do
	gw=1
	bank=$((m > 1 ? 1 : 0))
	sessions=$((2 * m > 16 ? 16 : 2 * m))
	engine=$((gw + bank + m))
	need=$((engine + sessions))
	note=""
	if [ "$need" -gt "$cores" ]; then
		[ "$m" -gt 2 ] && break # more would only measure time-sharing
		note=" (oversubscribed: $need threads on $cores CPUs)"
	fi
	ecpus=$(cpu_list 0 $((engine < cores ? engine : cores)))
	ccpus=$(cpu_list $((engine < cores ? engine : 0)) $((sessions < cores ? sessions : cores)))
	echo "== throughput, $m matcher(s): engine CPUs $ecpus, senders $ccpus$note"
	"$build/bench/shmex-bench-tput" --daemon "$build/tools/shmexd" --layout dedicated \
		--gateways "$gw" --matchers "$m" --sessions "$sessions" --orders "$orders" \
		--wait "$([ -n "$note" ] && echo yield || echo spin)" --cpus "$ecpus" \
		--client-cpus "$ccpus" --json "$out/tput_m$m.json" | grep -E '^daemon'
	m=$((m * 2))
done

echo "== round trips, 1 matcher (layout shared): client CPU 0, engine CPU 1"
"$build/bench/shmex-bench-rtt" --daemon "$build/tools/shmexd" --mode ack,fill,ping \
	--count "$trips" --warmup $((trips / 10)) --cpus 0,1 --json "$out/rtt_m1.json" |
	grep -E '^(ack|fill|ping)'
if [ "$cores" -ge 5 ]; then
	echo "== round trips, 2 matchers: client CPU 0, gateway, bank, matchers on CPUs 1-4"
	"$build/bench/shmex-bench-rtt" --daemon "$build/tools/shmexd" --mode ack,fill,ping \
		--count "$trips" --warmup $((trips / 10)) --cpus 0,1 --matchers 2 \
		--engine-cpus 1,2,3,4 --json "$out/rtt_m2.json" | grep -E '^(ack|fill|ping)'
else
	echo "== round trips, 2 matchers: skipped ($cores CPUs; 5 needed to spin each thread)"
fi

python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
print("\nmatchers  sessions  orders/s      ns/order  (in-process exchange ns/order)")
for path in sorted(glob.glob(os.path.join(out, "tput_m*.json")),
                   key=lambda p: int(p.split("_m")[-1].split(".")[0])):
    j = json.load(open(path))
    for d in j["daemon"]:
        print("%8d  %8d  %12.0f  %8.1f  (%.1f)" % (d["matchers"], j["sessions"],
              d["orders_per_s"], d["ns_per_order"], j["in_process"]["exchange_ns_per_order"]))
print("JSON files in %s" % out)
PY
