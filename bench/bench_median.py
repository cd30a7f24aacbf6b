#!/usr/bin/env python3
"""Median of several shmex-bench-book runs, as the tables of docs/BENCHMARKS.md.

    for i in 1 2 3; do build-bench/bench/shmex-bench-book \\
        --benchmark_out=run$i.json --benchmark_out_format=json; done
    python3 bench/bench_median.py run1.json run2.json run3.json

Each figure is the median over the runs of that figure (so a row can mix
runs); the spread column is (max - min) / median of the mean ns/op.
"""
import json
import statistics
import sys

TARGETS = {
    "add": "≤ 40 ns median",
    "add_level": "≤ 40 ns median",
    "cancel": "≤ 40 ns median",
    "fill1": "≤ 60 ns median",
    "sweep10": "–",
    "mixed": "≥ 20 M msgs/s",
    "mixed_pf": "≥ 20 M msgs/s",
}


def load(paths):
    runs = []
    for p in paths:
        with open(p) as f:
            benches = json.load(f)["benchmarks"]
        runs.append({b["name"].split("/manual_time")[0].split("/iterations:")[0]: b
                     for b in benches if not b.get("error_occurred")})
    return runs


def med(runs, name, field):
    vals = [r[name][field] for r in runs if name in r and field in r[name]]
    return (statistics.median(vals), min(vals), max(vals)) if vals else (None, None, None)


def fmt(v, nd=0):
    return "–" if v is None else f"{v:,.{nd}f}"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = load(sys.argv[1:])
    sizes = sorted({int(k.split("/")[2]) for r in runs for k in r if k.startswith("book/")})
    cases = ["add", "add_level", "cancel", "fill1", "sweep10", "mixed", "mixed_pf"]
    print(f"Median of {len(runs)} runs.\n")
    for n in sizes:
        print(f"N = {n:,} resting orders\n")
        print("| case | mean ns/msg (batch) | spread | M msgs/s | p50 ns | p99 ns | p99.9 ns "
              "| trades/msg | target |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for c in cases:
            b, l = f"book/{c}/{n}", f"latency/{c}/{n}"
            m, lo, hi = med(runs, b, "ns/op")
            if m is None:
                continue
            ips = med(runs, b, "items_per_second")[0]
            tpo = med(runs, b, "trades/op")[0]
            spread = f"{100 * (hi - lo) / m:.0f}%" if m else "–"
            p50, p99, p999 = (med(runs, l, k)[0] for k in ("p50_ns", "p99_ns", "p99.9_ns"))
            print(f"| {c} | {fmt(m, 1)} | {spread} | {fmt(ips / 1e6 if ips else None, 2)} "
                  f"| {fmt(p50)} | {fmt(p99)} | {fmt(p999)} | {fmt(tpo, 2)} | {TARGETS[c]} |")
        print()
    mem = [k for k in runs[0] if k.startswith("memory/")]
    if mem:
        print("| memory | memsize B/order | resident B/order (mincore) | RSS growth B/order "
              "| levels |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for k in mem:
            print(f"| {k[len('memory/'):]} | {fmt(med(runs, k, 'memsize_B/order')[0], 1)} "
                  f"| {fmt(med(runs, k, 'resident_B/order')[0], 1)} "
                  f"| {fmt(med(runs, k, 'rss_B/order')[0], 1)} | {fmt(med(runs, k, 'levels')[0])} |")


if __name__ == "__main__":
    main()
