#!/usr/bin/env python3
"""Generates a seeded replay file (../shared/formats/replay.md) for timing
shmex-replay on a venue-like order flow.

    python3 bench/gen_replay_flow.py [--lines 10000000] [--orders 1000000]
                                     [--seed 1] OUT

The file starts with --orders passive adds (the book is built: bids at
mid-1-k, asks at mid+1+k, k uniform in [0, L), L = clamp(orders/200, 50,
5000), as bench/book_bench.c does), then runs a mixed flow until --lines,
like the `mixed` case of bench/book_bench.c:
  - 50% adds: GTC limit orders, buys at best_ask-2-k and sells at
    best_bid+2+k (k as above, qty 1..100): passive, joining or creating a
    level, sometimes improving the touch;
  - 35% cancels (`C`) of a random order the generator believes rests;
  - 15% aggressive IOC limit orders at the touch (qty 1..150, so one
    removes about one resting order).
Adds and cancels are nudged by up to 5 points to hold the generator's count
of resting orders at --orders. The generator keeps a per-price quantity
model of the book (not a queue model): it knows the touch and follows the
price as IOCs eat levels, but it does not know which orders an IOC filled,
so a cancel can name a filled order (the tool prints X,<id>,UNKNOWN), as
happens on a real venue. The same seed always gives the same file.
"""
import argparse
import random
import sys
from array import array


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output file, or - for standard output")
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--orders", type=int, default=1_000_000,
                    help="orders in the initial book, and the resting target")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    rnd = rng.random
    n = args.orders
    levels = max(50, min(5000, n // 200))
    mid = 1_000_000
    lines = args.lines
    # Model: resting quantity per price, per side; price and qty per id
    # (price < 0 for a bid, 0 once the generator thinks it is gone).
    book = ({}, {})  # bids, asks
    price_of = array("q", bytes(8 * (lines + 2)))
    qty_of = array("l", bytes(array("l").itemsize * (lines + 2)))
    live = []
    next_id = 1
    out = sys.stdout if args.out == "-" else open(args.out, "w", buffering=1 << 20)
    w = out.write
    buf = []
    push = buf.append

    def add(side, price, q):
        nonlocal next_id
        oid = next_id
        next_id += 1
        lv = book[side]
        lv[price] = lv.get(price, 0) + q
        price_of[oid] = price if side else -price
        qty_of[oid] = q
        live.append(oid)
        push(f"A,{oid},{'S' if side else 'B'},{price},{q}\n")

    def next_best(side, p):
        """Best price of side at or beyond p (away from the touch)."""
        lv = book[side]
        step = 1 if side else -1
        for _ in range(4 * levels):
            if p in lv:
                return p
            p += step
        return None

    prefill = min(n, lines)
    for _ in range(prefill):
        k = int(rnd() * levels)
        q = 1 + int(rnd() * 100)
        if rnd() < 0.5:
            add(0, mid - 1 - k, q)
        else:
            add(1, mid + 1 + k, q)
        if len(buf) >= 65536:
            w("".join(buf))
            buf.clear()
    best = [max(book[0], default=mid - 1), min(book[1], default=mid + 1)]

    for _ in range(lines - prefill):
        adj = (n - len(live)) * 5 / n if n else 0.0
        adj = max(-0.05, min(0.05, adj))
        r = rnd()
        if r < 0.50 + adj or not live:
            k = int(rnd() * levels)
            q = 1 + int(rnd() * 100)
            if rnd() < 0.5:
                p = max(1, best[1] - 2 - k)
                add(0, p, q)
                if p > best[0]:
                    best[0] = p
            else:
                p = best[0] + 2 + k
                add(1, p, q)
                if p < best[1]:
                    best[1] = p
        elif r < 0.85:
            j = int(rnd() * len(live))
            oid = live[j]
            live[j] = live[-1]
            live.pop()
            push(f"C,{oid}\n")
            p = price_of[oid]
            side = 1 if p > 0 else 0
            p = abs(p)
            lv = book[side]
            left = lv.get(p, 0) - qty_of[oid]
            if left > 0:
                lv[p] = left
            elif p in lv:
                del lv[p]
                if p == best[side]:
                    b = next_best(side, p)
                    best[side] = b if b is not None else (best[1 - side] + (-2 if side == 0 else 2))
        else:
            q = 1 + int(rnd() * 150)
            side = 0 if rnd() < 0.5 else 1  # the aggressor's side
            opp = 1 - side
            p = best[opp]
            push(f"A,{next_id},{'S' if side else 'B'},{p},{q},IOC\n")
            next_id += 1
            lv = book[opp]
            left = lv.get(p, 0) - q
            if left > 0:
                lv[p] = left
            elif p in lv:
                del lv[p]
                b = next_best(opp, p)
                best[opp] = b if b is not None else (best[side] + (2 if opp else -2))
        if len(buf) >= 65536:
            w("".join(buf))
            buf.clear()
    w("".join(buf))
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
