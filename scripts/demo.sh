#!/usr/bin/env bash
# Installs what shmex needs, builds it, and runs the main job: for now, a
# replay of the bundled sample order flow through the matching engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
meson compile -C build >/dev/null
echo "== shmex-replay examples/demo.replay"
echo "   T,taker,maker,price,qty = a trade   X,id,reason = an order ends or is refused"
echo "   P then B/S,price,qty,orders = the book (bids, then asks, best first)"
build/tools/shmex-replay examples/demo.replay
