#!/usr/bin/env python3
"""Median-of-rounds table from the JSON lines bench/peer/compare_voyager.sh writes."""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    runs = defaultdict(list)
    order = []
    loads = []
    machine = None
    for line in open(path):
        if not line.strip():
            continue
        j = json.loads(line)
        if j["label"] not in runs:
            order.append(j["label"])
        runs[j["label"]].append(j)
        loads.append(j["loadavg"][0])
        machine = machine or "%s (%s), %d CPUs, %s" % (
            j["cpu_model"], j["cpu_signature"], j["cpus"], j["kernel"])
    print("machine: %s" % machine)
    print("load average (1 min) at the start of the runs: %.2f .. %.2f" % (min(loads), max(loads)))
    print()
    print("| flow | engine | runs | ns/msg (median, range) | batch mean ns | batch sd ns "
          "| batch p50 ns | batch p99 ns | fills | lots | check |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for label in order:
        rs = runs[label]
        for phase in ("result", "build", "mixed"):
            if phase not in rs[0]:
                continue
            st = [r[phase] for r in rs]

            def med(k):
                return statistics.median(s[k] for s in st)

            nsm = [s["ns_per_msg"] for s in st]
            fills = rs[0].get("trades_per_replay", rs[0].get("trades"))
            lots = rs[0].get("volume_per_replay", rs[0].get("volume"))
            if phase == "build":
                fills, lots = 0, 0
            same = all(r.get("trades_per_replay", r.get("trades")) ==
                       rs[0].get("trades_per_replay", rs[0].get("trades")) for r in rs)
            ok = all(r.get("check_ok", 1 - r.get("replays_differing", 0)) for r in rs) and same
            flow, _, engine = label.partition("-")
            name = flow if phase == "result" else "%s %s" % (flow, phase)
            print("| %s | %s | %d | %.1f (%.1f–%.1f) | %.0f | %.0f | %.0f | %.0f | %s | %s | %s |" % (
                name, engine, len(rs), statistics.median(nsm), min(nsm), max(nsm),
                med("batch_mean_ns"), med("batch_sd_ns"), med("batch_p50_ns"),
                med("batch_p99_ns"), fills, lots, "OK" if ok else "MISMATCH"))


if __name__ == "__main__":
    main(sys.argv[1])
