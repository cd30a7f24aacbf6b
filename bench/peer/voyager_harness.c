/*
 * voyager-harness: runs a flow written by `shmex-bench-quantcup --dump` or
 * `shmex-bench-flow1m --dump` (format: bench/flow.h) through a QuantCup 2011
 * engine with the contest's API (init, destroy, limit, cancel and the
 * execution callback; engine.h of the starter kit), timed exactly as the
 * shmex benches time the shmex book, so the figures sit side by side:
 *
 *   quantcup flow: R replays (default 200), each on a fresh engine (init()
 *     and destroy() untimed), batches of B messages (default 10) over the
 *     first floor((n - 1) / B) * B messages, as the contest's score.c;
 *   flow1m: one init(), then the build phase and the mixed phase, each in
 *     batches of B messages (default 64), a last partial batch untimed.
 *
 * Each command is turned into a t_order (or a cancel) inside the timed
 * loop, as the shmex benches build a struct shmex_order. The execution
 * callback counts the buy-side report of each fill and sums its lots; the
 * totals must equal the dump's expectation (the generator's model for
 * flow1m, shmex's result for the QuantCup feed).
 *
 * This file contains no engine code. The engine comes in at build time,
 * from a path outside the repository (bench/peer/build_voyager.sh):
 *   -DVOYAGER_ENGINE_C='"/path/engine.c"'  includes it into this translation
 *       unit, as the contest's score.c did (#include "engine.c");
 *   -DVOYAGER_SEPARATE -DVOYAGER_MAX_ORDERS=n  links it as its own object.
 * Both need -iquote DIR for the starter kit's engine.h, types.h, limits.h.
 *
 * Usage: voyager-harness [--replays N] [--batch N] [--json] DUMP
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench_util.h"
#include "../flow.h"

#if defined(VOYAGER_ENGINE_C)
#include VOYAGER_ENGINE_C
#define VH_MAX_ORDERS ((uint64_t)MAX_NUM_ORDERS)
#define VH_LINK "compiled into the harness's translation unit (as score.c)"
#elif defined(VOYAGER_SEPARATE)
#define is_ask vh_is_ask /* types.h defines it in the header: keep the engine's */
#include "engine.h"
#define VH_MAX_ORDERS ((uint64_t)VOYAGER_MAX_ORDERS)
#define VH_LINK "linked as a separate object"
#else
#error "define VOYAGER_ENGINE_C or VOYAGER_SEPARATE (see the comment at the top)"
#endif

static uint64_t vh_trades, vh_volume, vh_id_mismatch;

/* One report per side of each fill: count the buy side's. */
void execution(t_execution exec)
{
	if (exec.side == 0) {
		vh_trades++;
		vh_volume += exec.size;
	}
}

static inline void vh_exec(const struct bf_cmd *c)
{
	if (c->op == BF_CANCEL) {
		cancel(c->id);
		return;
	}
	t_order o;
	memcpy(o.symbol, "SYM", 4);
	memcpy(o.trader, "TRD", 4);
	o.side = c->side;
	o.price = c->price;
	o.size = c->qty;
	if (limit(o) != c->id)
		vh_id_mismatch++;
}

/* Runs c[0..n) in timed batches of @batch; @tail: run a last partial
 * batch untimed. Returns the number of batches. */
static uint64_t vh_phase(const struct bf_cmd *c, uint64_t n, uint64_t batch, int tail,
			 uint64_t *ticks)
{
	const uint64_t nb = n / batch;
	uint64_t i = 0;
	for (uint64_t k = 0; k < nb; k++) {
		const uint64_t end = i + batch;
		uint64_t t0 = bb_tick_begin();
		for (; i < end; i++)
			vh_exec(&c[i]);
		ticks[k] = bb_tick_end() - t0;
	}
	if (tail)
		for (; i < n; i++)
			vh_exec(&c[i]);
	return nb;
}

static void usage(void)
{
	fprintf(stderr, "usage: voyager-harness [--replays N] [--batch N] [--json] DUMP\n"
			"  DUMP: written by shmex-bench-quantcup --dump or shmex-bench-flow1m --dump\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t replays = 200, batch = 0;
	int json = 0;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--replays") && i + 1 < argc) {
			replays = bf_parse_u64(argv[i], argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			batch = bf_parse_u64(argv[i], argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (argv[i][0] == '-' || path) {
			usage();
		} else {
			path = argv[i];
		}
	}
	struct bf_flow f;
	if (!path || replays == 0 || replays > 100000 || bf_dump_read(path, &f) != 0)
		usage();
	const int qc = strcmp(f.kind, "quantcup") == 0;
	if (batch == 0)
		batch = qc ? 10 : 64;
	if (f.max_id >= VH_MAX_ORDERS) {
		fprintf(stderr,
			"%s names id %" PRIu32 ", the engine holds ids below %" PRIu64
			": raise MAX_NUM_ORDERS\n",
			path, f.max_id, VH_MAX_ORDERS);
		return 1;
	}
	for (uint64_t i = 0; i < f.n; i++)
		if (f.cmd[i].op == BF_ADD && (f.cmd[i].price < MIN_PRICE || f.cmd[i].qty == 0)) {
			fprintf(stderr, "%s: command %" PRIu64 " is out of the engine's range\n", path,
				i);
			return 1;
		}

	bb_timer_init();
	int cpu = bb_pin_thread(-1);
	struct bb_machine m;
	bb_machine_read(&m);

	struct bf_stats s_build, s_main;
	memset(&s_build, 0, sizeof s_build);
	uint64_t trades = 0, volume = 0, differ = 0, checked_msgs;
	if (qc) {
		const uint64_t nb = f.n ? (f.n - 1) / batch : 0;
		const uint64_t msgs = nb * batch;
		uint64_t *ticks = malloc((replays * nb + 1) * sizeof *ticks);
		if (!ticks || nb == 0)
			return 1;
		for (uint64_t r = 0; r < replays; r++) {
			init();
			uint64_t t0 = vh_trades, v0 = vh_volume;
			vh_phase(f.cmd, msgs, batch, 0, ticks + r * nb);
			destroy();
			if (r == 0) {
				trades = vh_trades - t0;
				volume = vh_volume - v0;
			} else if (vh_trades - t0 != trades || vh_volume - v0 != volume) {
				differ++;
			}
		}
		bf_stats_of(ticks, replays * nb, replays * msgs, &s_main);
		free(ticks);
		checked_msgs = msgs;
	} else {
		uint64_t *tb = malloc((f.n_build / batch + 1) * sizeof *tb);
		uint64_t *tm = malloc(((f.n - f.n_build) / batch + 1) * sizeof *tm);
		if (!tb || !tm)
			return 1;
		init();
		uint64_t nbb = vh_phase(f.cmd, f.n_build, batch, 1, tb);
		uint64_t build_trades = vh_trades;
		uint64_t nbm = vh_phase(f.cmd + f.n_build, f.n - f.n_build, batch, 1, tm);
		destroy();
		bf_stats_of(tb, nbb, nbb * batch, &s_build);
		bf_stats_of(tm, nbm, nbm * batch, &s_main);
		free(tb);
		free(tm);
		trades = vh_trades;
		volume = vh_volume;
		differ = build_trades != 0;
		checked_msgs = f.n;
	}
	const int have_expect = f.expect_msgs == checked_msgs;
	const int ok = !differ && vh_id_mismatch == 0 &&
		       (!have_expect || (trades == f.expect_trades && volume == f.expect_volume));

	if (json) {
		bf_json_begin("voyager-harness", argc, argv, cpu, &m);
		bf_json_str("engine", "voyager");
		bf_json_str("engine_link", VH_LINK);
		bf_json_str("flow", f.kind);
		bf_json_str("dump", path);
		bf_json_u64("batch", batch);
		bf_json_u64("max_num_orders", VH_MAX_ORDERS);
		if (qc) {
			bf_json_u64("replays", replays);
			bf_json_u64("trades_per_replay", trades);
			bf_json_u64("volume_per_replay", volume);
			bf_json_stats("result", &s_main);
		} else {
			bf_json_u64("seed", f.seed);
			bf_json_u64("orders", f.n_build);
			bf_json_u64("messages", f.n - f.n_build);
			bf_json_u64("trades", trades);
			bf_json_u64("volume", volume);
			bf_json_stats("build", &s_build);
			bf_json_stats("mixed", &s_main);
		}
		bf_json_u64("expect_trades", f.expect_trades);
		bf_json_u64("expect_volume", f.expect_volume);
		bf_json_u64("check_ok", (uint64_t)ok);
		bf_json_u64("rss_bytes", bb_rss_bytes());
		bf_json_end();
	} else {
		bf_print_header("voyager-harness: a QuantCup engine on a shmex bench flow "
				"(docs/BENCHMARKS.md)",
				argc, argv, cpu, &m);
		printf("engine  : voyager (QuantCup 2011 winner), %s; MAX_NUM_ORDERS %" PRIu64 "\n",
		       VH_LINK, VH_MAX_ORDERS);
		if (qc) {
			printf("flow    : %s: QuantCup feed, %" PRIu64 " messages; %" PRIu64
			       " replays, fresh engine each (init/destroy untimed), batches of %" PRIu64
			       "\n",
			       path, f.n, replays, batch);
			printf("trades  : %" PRIu64 " fills, %" PRIu64 " lots per replay%s\n", trades,
			       volume, differ ? " (REPLAYS DIFFER)" : " (same in every replay)");
			bf_print_stats("result", &s_main);
		} else {
			printf("flow    : %s: seed %" PRIu64 ", build %" PRIu64 " orders, then %" PRIu64
			       " messages; batches of %" PRIu64 "\n",
			       path, f.seed, f.n_build, f.n - f.n_build, batch);
			bf_print_stats("build", &s_build);
			bf_print_stats("mixed", &s_main);
			printf("trades  : %" PRIu64 " fills, %" PRIu64 " lots\n", trades, volume);
		}
		if (have_expect)
			printf("check   : expected %" PRIu64 " fills, %" PRIu64 " lots; ids %s: %s\n",
			       f.expect_trades, f.expect_volume,
			       vh_id_mismatch ? "DIFFER" : "as the engine numbered them",
			       ok ? "OK" : "MISMATCH");
		else
			printf("check   : no expectation in the dump for this batch size; ids %s\n",
			       vh_id_mismatch ? "DIFFER" : "as the engine numbered them");
		printf("memory  : RSS %.0f MiB\n", (double)bb_rss_bytes() / 1048576.0);
	}
	free(f.cmd);
	return ok ? 0 : 1;
}
