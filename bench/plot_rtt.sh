#!/usr/bin/env bash
# Turns the JSON of shmex-bench-rtt --json into a percentile plot (PNG):
# latency against the percentile on the 1/(1-p) scale (50 %, 90 %, 99 % ...
# equally spaced, as HdrHistogram plots it), one line per histogram, and the
# ring floor's percentiles as points when the run measured it (--floor).
#
# usage: bench/plot_rtt.sh RTT.json OUT.png [TITLE]
# Needs python3 and gnuplot (gnuplot-nox).
set -eu
if [ $# -lt 2 ]; then
	echo "usage: $0 RTT.json OUT.png [TITLE]" >&2
	exit 2
fi
json=$1
png=$2
title=${3:-}
command -v gnuplot >/dev/null || { echo "$0: gnuplot is not installed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One data file per histogram: "x latency_us" where x = 1 / (1 - fraction at
# or below the bucket), and a gnuplot script naming them.
python3 - "$json" "$tmp" "$png" "$title" <<'PY'
import json, sys
src, tmp, png, title = sys.argv[1:5]
d = json.load(open(src))
plots = []
xmax = 10
for k, r in enumerate(d["results"]):
    lat = r["latency"]
    total = lat["count"]
    if not total:
        continue
    path = "%s/h%d.dat" % (tmp, k)
    seen = 0
    with open(path, "w") as f:
        for top, count in lat["histogram"]:
            seen += count
            q = seen / total
            x = 1 / (1 - q) if q < 1 else total  # the last bucket: 1 in count
            xmax = max(xmax, x)
            f.write("%.6g %.6g\n" % (x, top / 1000.0))
    label = "%s (p50 %.2f, p99 %.2f, p99.99 %.1f us)" % (
        r["name"], lat["p50_ns"] / 1e3, lat["p99_ns"] / 1e3, lat["p9999_ns"] / 1e3)
    plots.append("'%s' using 1:2 with steps lw 2 title \"%s\"" % (path, label))
fl = d.get("floor")
if fl:
    path = "%s/floor.dat" % tmp
    with open(path, "w") as f:
        for p, key in ((2, "p50_ns"), (100, "p99_ns"), (1000, "p999_ns"), (10000, "p9999_ns")):
            f.write("%d %.6g\n" % (p, fl[key] / 1000.0))
    plots.append("'%s' using 1:2 with linespoints pt 7 lw 1 dt 2 lc rgb 'black' "
                 "title \"ring floor, closed loop (p50 %.2f, p99 %.2f us)\""
                 % (path, fl["p50_ns"] / 1e3, fl["p99_ns"] / 1e3))
if not title:
    title = "shmexd round trips, %s/s open loop, %s" % (d["rate_per_s"], d["cpu_model"])
sub = "%s, layout %s, wait %s, client CPU %d, engine CPU %d" % (
    d["date"], d["daemon"]["layout"], d["daemon"]["wait"], d["cpus"]["client"],
    d["cpus"]["engine"])
with open("%s/plot.gp" % tmp, "w") as g:
    g.write("""set terminal pngcairo size 1100,650 font ',10'
set output '%(png)s'
set title "%(title)s\\n{/*0.8 %(sub)s}"
set logscale x
set logscale y
set xrange [1:%(xmax)g]
set xtics ("0%%%%" 1, "50%%%%" 2, "90%%%%" 10, "99%%%%" 100, "99.9%%%%" 1000, "99.99%%%%" 10000, "99.999%%%%" 100000, "99.9999%%%%" 1000000)
set xlabel "percentile"
set ylabel "latency (us)"
set grid xtics ytics mytics
set key top left
plot %(plots)s
""" % {"png": png.replace("'", "''"), "title": title.replace('"', "'"), "sub": sub.replace('"', "'"),
       "xmax": xmax * 1.5, "plots": ", \\\n     ".join(plots)})
PY
gnuplot "$tmp/plot.gp"
echo "$png"
