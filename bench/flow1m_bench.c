/*
 * shmex-bench-flow1m: the book at full size (issue 7). A seeded stream is
 * generated before any timing, then run through one shmex book:
 *
 *   build phase: N resting GTC limit orders (default 1M), bids uniform on
 *     32768-5000 .. 32767, asks on 32769 .. 32768+5000, qty 1..100;
 *   mixed phase: M messages (default 10M), each drawn as
 *     48 % passive add: a quarter within 20 ticks of the touch (1 to 20
 *          ticks from the opposite best price, so inside the spread when
 *          it is wider, which keeps it narrow), the rest uniform over the
 *          side's range; never crossing (capped at one tick off the
 *          opposite touch); qty 1..100;
 *     35 % cancel of a uniformly random live order;
 *     17 % aggressive GTC limit from the opposite touch, trading with the
 *          first k makers in priority order, k = 1 (1/2), 2 (1/4) or 3 (1/4):
 *          the first k-1 filled whole, the k-th by a random part (1 .. its
 *          qty-1; whole if its qty is 1). It is priced at the touch, or at
 *          the k-th maker's price when the touch level holds fewer than k
 *          orders, and sized so that it never rests. So the book stays near
 *          N orders: 0.48 added vs 0.35 + 0.17 x 0.75 removed per message.
 *
 * Ids are 1, 2, 3 ... in submission order (aggressive orders take one too),
 * so an engine that numbers orders itself (QuantCup's voyager) can run the
 * same stream. The generator is an independent model of a price-time book
 * (FIFO per price, live-order set), which also gives the fills and lots
 * every engine must reproduce; the bench checks shmex against it.
 *
 * Each phase is timed in batches (default 64 messages, TSC pair per
 * batch): ns per message, and per-batch mean, sd, p50, p99, p99.9.
 *
 * Usage: shmex-bench-flow1m [--seed S] [--orders N] [--messages M]
 *          [--batch B] [--prefetch] [--json] [--dump FILE]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmex/book.h"

#include "bench_util.h"
#include "flow.h"
#include "flow_shmex.h"

#define FM_MID 32768
#define FM_RANGE 5000
#define FM_NEAR 20
#define FM_NIL UINT32_MAX
#define FM_PRICES 65536

/* ---- random numbers (splitmix64, as bench/book_bench.c) ------------------ */

struct fm_rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct fm_rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint32_t rng_below(struct fm_rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* ---- the generator's model of the book ------------------------------------- */

struct gm_order {
	uint32_t prev, next, qty, pos; /* pos: index in the live array */
	uint16_t price;
	uint8_t side, live;
};

struct gm_level {
	uint32_t head, tail, count;
};

struct gm {
	struct gm_order *o;        /* indexed by id */
	struct gm_level *lv;       /* [side * FM_PRICES + price] */
	uint32_t *live, n_live, max_live;
	int32_t best[2];           /* best bid / ask price, -1 if the side is empty */
	uint64_t trades, volume;
	uint64_t n_add, n_cancel, n_aggr, n_through; /* n_through: aggressive past the touch */
};

static struct gm_level *gm_level(struct gm *g, int side, uint32_t price)
{
	return &g->lv[(size_t)side * FM_PRICES + price];
}

static void gm_add(struct gm *g, uint32_t id, int side, uint32_t price, uint32_t qty)
{
	struct gm_order *o = &g->o[id];
	struct gm_level *l = gm_level(g, side, price);
	o->price = (uint16_t)price;
	o->side = (uint8_t)side;
	o->qty = qty;
	o->live = 1;
	o->next = FM_NIL;
	o->prev = l->tail;
	if (l->tail != FM_NIL)
		g->o[l->tail].next = id;
	else
		l->head = id;
	l->tail = id;
	l->count++;
	o->pos = g->n_live;
	g->live[g->n_live++] = id;
	if (g->n_live > g->max_live)
		g->max_live = g->n_live;
	if (g->best[side] < 0 || (side == 0 ? (int32_t)price > g->best[0]
					    : (int32_t)price < g->best[1]))
		g->best[side] = (int32_t)price;
}

static void gm_remove(struct gm *g, uint32_t id)
{
	struct gm_order *o = &g->o[id];
	struct gm_level *l = gm_level(g, o->side, o->price);
	if (o->prev != FM_NIL)
		g->o[o->prev].next = o->next;
	else
		l->head = o->next;
	if (o->next != FM_NIL)
		g->o[o->next].prev = o->prev;
	else
		l->tail = o->prev;
	l->count--;
	o->live = 0;
	uint32_t last = g->live[--g->n_live];
	g->live[o->pos] = last;
	g->o[last].pos = o->pos;
	if (l->count == 0 && (int32_t)o->price == g->best[o->side]) {
		int32_t p = o->price;
		if (o->side == 0) {
			while (p > 0 && gm_level(g, 0, (uint32_t)p)->count == 0)
				p--;
			g->best[0] = p > 0 ? p : -1;
		} else {
			while (p < FM_PRICES && gm_level(g, 1, (uint32_t)p)->count == 0)
				p++;
			g->best[1] = p < FM_PRICES ? p : -1;
		}
	}
}

static uint32_t clamp_price(int64_t p)
{
	return p < 1 ? 1 : p > FM_PRICES - 1 ? FM_PRICES - 1 : (uint32_t)p;
}

/* A passive add: never crosses the opposite touch. */
static void gen_add(struct gm *g, struct fm_rng *r, uint32_t id, struct bf_cmd *c)
{
	int side = (int)(rng_next(r) & 1);
	int near = rng_below(r, 4) == 0;
	int64_t p;
	const int64_t bid = g->best[0], ask = g->best[1];
	if (side == 0) {
		if (near) {
			int64_t anchor = ask >= 0 ? ask : bid >= 0 ? bid + 1 : FM_MID + 1;
			p = anchor - 1 - (int64_t)rng_below(r, FM_NEAR);
		} else {
			int64_t lo = FM_MID - FM_RANGE, hi = FM_MID - 1;
			if (ask >= 0 && hi >= ask)
				hi = ask - 1;
			if (lo > hi)
				lo = hi;
			p = lo + rng_below(r, (uint32_t)(hi - lo + 1));
		}
		if (ask >= 0 && p >= ask)
			p = ask - 1;
	} else {
		if (near) {
			int64_t anchor = bid >= 0 ? bid : ask >= 0 ? ask - 1 : FM_MID - 1;
			p = anchor + 1 + (int64_t)rng_below(r, FM_NEAR);
		} else {
			int64_t lo = FM_MID + 1, hi = FM_MID + FM_RANGE;
			if (bid >= 0 && lo <= bid)
				lo = bid + 1;
			if (hi < lo)
				hi = lo;
			p = lo + rng_below(r, (uint32_t)(hi - lo + 1));
		}
		if (bid >= 0 && p <= bid)
			p = bid + 1;
	}
	uint32_t price = clamp_price(p);
	if ((side == 0 && ask >= 0 && price >= (uint32_t)ask) ||
	    (side == 1 && bid >= 0 && price <= (uint32_t)bid)) {
		fprintf(stderr, "generator: no room for a passive order (touch at the edge)\n");
		exit(1);
	}
	uint32_t qty = 1 + rng_below(r, 100);
	*c = (struct bf_cmd){ .id = id, .qty = qty, .price = (uint16_t)price, .op = BF_ADD,
			      .side = (uint8_t)side };
	gm_add(g, id, side, price, qty);
	g->n_add++;
}

/* An aggressive order trading with the first k makers of the opposite side
 * from its touch; returns 0 if both sides are empty. */
static int gen_aggressive(struct gm *g, struct fm_rng *r, uint32_t id, struct bf_cmd *c)
{
	int side = (int)(rng_next(r) & 1);
	if (g->best[!side] < 0)
		side = !side;
	if (g->best[!side] < 0)
		return 0;
	const int ms = !side; /* the makers' side */
	const int step = ms == 0 ? -1 : 1;
	const int32_t touch = g->best[ms];
	int32_t p = touch, price = p;
	uint32_t k = rng_below(r, 4);
	k = k < 2 ? 1 : k;
	uint64_t qty = 0;
	uint32_t m = gm_level(g, ms, (uint32_t)p)->head;
	for (uint32_t j = 0; j < k; j++) {
		while (m == FM_NIL) { /* level used up: the next one away from the touch */
			p += step;
			if (p < 1 || p >= FM_PRICES)
				break;
			m = gm_level(g, ms, (uint32_t)p)->head;
		}
		if (m == FM_NIL)
			break; /* no more makers on that side */
		price = p;
		uint32_t next = g->o[m].next, q = g->o[m].qty;
		uint32_t take = j + 1 < k || q == 1 ? q : 1 + rng_below(r, q - 1);
		qty += take;
		g->trades++;
		g->volume += take;
		if (take == q)
			gm_remove(g, m);
		else
			g->o[m].qty = q - take;
		m = next;
	}
	if (price != touch)
		g->n_through++;
	*c = (struct bf_cmd){ .id = id, .qty = (uint32_t)qty, .price = (uint16_t)price,
			      .op = BF_ADD, .side = (uint8_t)side };
	g->n_aggr++;
	return 1;
}

struct fm_gen_info {
	uint64_t n_add, n_cancel, n_aggr, n_through;
	uint32_t live_end;
	int32_t best_end[2];
	double seconds;
};

/* Generates the flow into @f (f->cmd allocated here). */
static int generate(uint64_t seed, uint32_t orders, uint64_t messages, struct bf_flow *f,
		    struct fm_gen_info *info)
{
	const uint64_t n = orders + messages;
	if (n >= UINT32_MAX) {
		fprintf(stderr, "too many commands for 32-bit ids\n");
		return -1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(f, 0, sizeof *f);
	struct gm g;
	memset(&g, 0, sizeof g);
	f->cmd = malloc(n * sizeof f->cmd[0]);
	g.o = malloc((n + 1) * sizeof g.o[0]);
	g.lv = malloc(2 * (size_t)FM_PRICES * sizeof g.lv[0]);
	g.live = malloc((n + 1) * sizeof g.live[0]);
	if (!f->cmd || !g.o || !g.lv || !g.live) {
		fprintf(stderr, "out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < 2 * (size_t)FM_PRICES; i++)
		g.lv[i] = (struct gm_level){ FM_NIL, FM_NIL, 0 };
	g.best[0] = g.best[1] = -1;
	struct fm_rng r = { seed };
	uint32_t next_id = 1;

	for (uint32_t i = 0; i < orders; i++) {
		int side = (int)(rng_next(&r) & 1);
		uint32_t price = side == 0 ? FM_MID - FM_RANGE + rng_below(&r, FM_RANGE)
					   : FM_MID + 1 + rng_below(&r, FM_RANGE);
		uint32_t qty = 1 + rng_below(&r, 100);
		f->cmd[i] = (struct bf_cmd){ .id = next_id, .qty = qty, .price = (uint16_t)price,
					     .op = BF_ADD, .side = (uint8_t)side };
		gm_add(&g, next_id++, side, price, qty);
	}
	for (uint64_t i = orders; i < n; i++) {
		uint32_t x = rng_below(&r, 100);
		struct bf_cmd *c = &f->cmd[i];
		if (x >= 48 && x < 83 && g.n_live > 0) {
			uint32_t id = g.live[rng_below(&r, g.n_live)];
			*c = (struct bf_cmd){ .id = id, .op = BF_CANCEL };
			gm_remove(&g, id);
			g.n_cancel++;
		} else if (x >= 83 && gen_aggressive(&g, &r, next_id, c)) {
			next_id++;
		} else {
			gen_add(&g, &r, next_id++, c);
		}
	}
	f->n = n;
	f->n_build = orders;
	f->expect_msgs = n;
	f->expect_trades = g.trades;
	f->expect_volume = g.volume;
	f->seed = seed;
	f->max_live = g.max_live;
	f->max_id = next_id - 1;
	snprintf(f->kind, sizeof f->kind, "flow1m");
	info->n_add = g.n_add;
	info->n_cancel = g.n_cancel;
	info->n_aggr = g.n_aggr;
	info->n_through = g.n_through;
	info->live_end = g.n_live;
	info->best_end[0] = g.best[0];
	info->best_end[1] = g.best[1];
	free(g.o);
	free(g.lv);
	free(g.live);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	info->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	return 0;
}

/* ---- running it on shmex ---------------------------------------------------- */

struct fm_counts {
	uint64_t trades, volume, rejects;
};

static void fm_sink(void *ctx, const struct shmex_book_event *ev)
{
	struct fm_counts *c = ctx;
	if (ev->type == SHMEX_EV_TRADE) {
		c->trades++;
		c->volume += (uint64_t)ev->qty;
	} else if (ev->type == SHMEX_EV_REJECTED) {
		c->rejects++;
	}
}

/* The hints a matcher that sees its next messages would give (book.h):
 * a cancel names an order; an add needs its level (and, with external
 * ids, the duplicate check reads the id index). */
static int fm_external_ids; /* set once in main() */
static struct shmex_book_cmd *fm_batch; /* --run: one batch of commands */

static inline void fm_hint(const struct shmex_book *b, const struct bf_cmd *c, uint64_t id,
			   int stage)
{
	if (c->op == BF_CANCEL || fm_external_ids)
		shmex_book_prefetch_order(b, id, stage);
	if (c->op == BF_ADD)
		shmex_book_prefetch_level(b, c->side, c->price, stage);
}

/* Runs c[0..n) in timed batches of @batch (a last partial batch untimed);
 * fills ticks[] and returns the number of batches. @e: the id each
 * command names. */
static uint64_t run_phase(struct shmex_book *b, const struct bf_cmd *cmd, const uint64_t *e,
			  uint64_t n, uint64_t batch, int prefetch, uint64_t *ticks)
{
	const struct bf_cmd *c = cmd;
	const uint64_t nb = n / batch;
	uint64_t i = 0;
	for (uint64_t k = 0; k < nb; k++) {
		const uint64_t end = i + batch;
		uint64_t t0 = bb_tick_begin();
		if (prefetch == 2) {
			/* The batch entry point: the book hints ahead itself, 8
			 * commands into the next batch (as a matcher sees more in
			 * its ring than it runs at once). */
			const uint64_t ahead = n - end < 8 ? n - end : 8;
			for (uint64_t j = 0; j < batch + ahead; j++)
				bfs_cmd(&fm_batch[j], &c[i + j], e[i + j]);
			shmex_book_run(b, fm_batch, (uint32_t)batch, (uint32_t)ahead, NULL);
			i = end;
		} else if (prefetch) {
			for (; i < end; i++) {
				if (i + 8 < n)
					fm_hint(b, &c[i + 8], e[i + 8], 0);
				if (i + 4 < n)
					fm_hint(b, &c[i + 4], e[i + 4], 1);
				if (i + 2 < n)
					fm_hint(b, &c[i + 2], e[i + 2], 2);
				bfs_exec(b, &c[i], e[i]);
			}
		} else {
			for (; i < end; i++)
				bfs_exec(b, &c[i], e[i]);
		}
		ticks[k] = bb_tick_end() - t0;
	}
	for (; i < n; i++)
		bfs_exec(b, &c[i], e[i]);
	return nb;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: shmex-bench-flow1m [--seed S] [--orders N] [--messages M] [--batch B]\n"
		"                          [--prefetch] [--json] [--dump FILE]\n"
		"  --seed      generator seed (default 1)\n"
		"  --orders    resting orders of the build phase (default 1000000)\n"
		"  --messages  messages of the mixed phase (default 10000000)\n"
		"  --batch     messages per timed batch (default 64)\n"
		"  --prefetch  shmex_book_prefetch_order/level hints for messages i+8/i+4/i+2\n"
		"  --run       each batch through shmex_book_run(), which hints ahead itself\n"
		"  --json      one JSON object on stdout instead of the text report\n"
		"  --dump      write the stream (bench/flow.h format, with the expected fills\n"
		"              and lots) for bench/peer/voyager_harness.c, and exit\n"
		"%s",
		bfs_usage);
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, orders = 1000000, messages = 10000000, batch = 64;
	int prefetch = 0, json = 0;
	struct bfs_options opt = { 0, 0, 0 };
	const char *dump = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = bf_parse_u64(argv[i], argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--orders") && i + 1 < argc) {
			orders = bf_parse_u64(argv[i], argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--messages") && i + 1 < argc) {
			messages = bf_parse_u64(argv[i], argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			batch = bf_parse_u64(argv[i], argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--prefetch"))
			prefetch = 1;
		else if (!strcmp(argv[i], "--run"))
			prefetch = 2;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
			dump = argv[++i];
		else if (!bfs_parse_option(&opt, argv[i]))
			usage();
	}
	if (orders == 0 || orders > (1u << 28) || messages > (UINT64_C(1) << 31) || batch == 0 ||
	    batch > 1000000)
		usage();

	struct bf_flow f;
	struct fm_gen_info gi;
	if (generate(seed, (uint32_t)orders, messages, &f, &gi) != 0)
		return 1;
	if (dump) {
		int rc = bf_dump_write(dump, &f);
		if (rc == 0)
			fprintf(stderr,
				"wrote %s: %" PRIu64 " commands (%" PRIu64 " build), %" PRIu64
				" fills, %" PRIu64 " lots expected\n",
				dump, f.n, f.n_build, f.expect_trades, f.expect_volume);
		free(f.cmd);
		return rc ? 1 : 0;
	}

	bb_timer_init();
	int cpu = bb_pin_thread(-1);
	struct bb_machine m;
	bb_machine_read(&m);

	struct fm_counts cnt = { 0, 0, 0 };
	fm_external_ids = opt.external_ids;
	fm_batch = calloc(batch + 8, sizeof *fm_batch);
	if (!fm_batch) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	struct shmex_book_params params = { .max_orders = f.max_live + 4096,
					    .flags = bfs_book_flags(&opt) };
	uint64_t *eid = bfs_ids(&f, f.n, &params);
	if (!eid)
		return 1;
	struct shmex_book *book;
	if (shmex_book_create(&params, fm_sink, &cnt, &book) != 0) {
		fprintf(stderr, "shmex_book_create failed\n");
		return 1;
	}
	const uint64_t n_mixed = f.n - f.n_build;
	uint64_t *tb = malloc((f.n_build / batch + 1) * sizeof *tb);
	uint64_t *tm = malloc((n_mixed / batch + 1) * sizeof *tm);
	if (!tb || !tm) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	uint64_t nbb = run_phase(book, f.cmd, eid, f.n_build, batch, prefetch, tb);
	struct fm_counts after_build = cnt;
	uint32_t live_build = shmex_book_order_count(book);
	uint64_t nbm = run_phase(book, f.cmd + f.n_build, eid + f.n_build, n_mixed, batch, prefetch,
				 tm);
	uint32_t live_end = shmex_book_order_count(book);
	int64_t bid = -1, ask = -1;
	if (!shmex_book_best(book, SHMEX_BUY, &bid))
		bid = -1;
	if (!shmex_book_best(book, SHMEX_SELL, &ask))
		ask = -1;
	shmex_book_destroy(book);

	struct bf_stats sb, sm;
	bf_stats_of(tb, nbb, nbb * batch, &sb);
	bf_stats_of(tm, nbm, nbm * batch, &sm);
	const uint64_t trades = cnt.trades - after_build.trades,
		       volume = cnt.volume - after_build.volume;
	const int ok = after_build.trades == 0 && cnt.rejects == 0 && live_build == f.n_build &&
		       trades == f.expect_trades && volume == f.expect_volume &&
		       live_end == gi.live_end && bid == gi.best_end[0] && ask == gi.best_end[1];

	if (json) {
		bf_json_begin("shmex-bench-flow1m", argc, argv, cpu, &m);
		bf_json_str("engine", prefetch == 2 ? "shmex-run" : prefetch ? "shmex-prefetch" : "shmex");
		bf_json_u64("seed", seed);
		bf_json_u64("orders", f.n_build);
		bf_json_u64("messages", n_mixed);
		bf_json_u64("batch", batch);
		bf_json_u64("max_orders", params.max_orders);
		bf_json_str("book", bfs_describe(&opt));
		bf_json_u64("adds", gi.n_add);
		bf_json_u64("cancels", gi.n_cancel);
		bf_json_u64("aggressive", gi.n_aggr);
		bf_json_u64("aggressive_past_touch", gi.n_through);
		bf_json_u64("live_end", live_end);
		bf_json_u64("trades", trades);
		bf_json_u64("volume", volume);
		bf_json_u64("expect_trades", f.expect_trades);
		bf_json_u64("expect_volume", f.expect_volume);
		bf_json_u64("check_ok", (uint64_t)ok);
		bf_json_num("generate_s", gi.seconds);
		bf_json_u64("rss_bytes", bb_rss_bytes());
		bf_json_stats("build", &sb);
		bf_json_stats("mixed", &sm);
		bf_json_end();
	} else {
		bf_print_header("shmex-bench-flow1m: 1M resting orders, then a mixed stream "
				"(docs/BENCHMARKS.md)",
				argc, argv, cpu, &m);
		printf("flow    : seed %" PRIu64 ": build %" PRIu64 " resting orders (bids %d..%d, "
		       "asks %d..%d, qty 1..100), then %" PRIu64 " messages: %" PRIu64
		       " passive adds, %" PRIu64 " cancels, %" PRIu64 " aggressive (%.2f fills each, "
		       "%.1f %% priced past the touch)\n",
		       seed, f.n_build, FM_MID - FM_RANGE, FM_MID - 1, FM_MID + 1, FM_MID + FM_RANGE,
		       n_mixed, gi.n_add, gi.n_cancel, gi.n_aggr,
		       gi.n_aggr ? (double)f.expect_trades / (double)gi.n_aggr : 0.0,
		       gi.n_aggr ? 100.0 * (double)gi.n_through / (double)gi.n_aggr : 0.0);
		printf("          generated in %.2f s (untimed), %zu B/command; live orders %" PRIu64
		       " -> %" PRIu32 " (peak %" PRIu32 "), touch at the end %" PRId64 " / %" PRId64
		       "\n",
		       gi.seconds, sizeof(struct bf_cmd), f.n_build, live_end, f.max_live, bid, ask);
		printf("engine  : shmex book, max_orders %" PRIu32 " (peak live + 4096), max_levels 0, "
		       "one book for both phases; %s; prefetch hints %s\n",
		       params.max_orders, bfs_describe(&opt),
		       prefetch == 2 ? "inside shmex_book_run() (batches of the timed size)"
		       : prefetch ? "on (stages 0/1/2 at i+8/i+4/i+2)" : "off");
		printf("batch   : %" PRIu64 " messages (a last partial batch runs untimed)\n", batch);
		bf_print_stats("build", &sb);
		bf_print_stats("mixed", &sm);
		printf("trades  : mixed %" PRIu64 " fills, %" PRIu64 " lots; model %" PRIu64
		       " fills, %" PRIu64 " lots; build phase %" PRIu64 " fills; rejects %" PRIu64
		       ": %s\n",
		       trades, volume, f.expect_trades, f.expect_volume, after_build.trades,
		       cnt.rejects, ok ? "OK" : "MISMATCH");
		printf("memory  : RSS %.0f MiB at the end (commands %.0f MiB)\n",
		       (double)bb_rss_bytes() / 1048576.0,
		       (double)(f.n * sizeof(struct bf_cmd)) / 1048576.0);
	}
	free(tb);
	free(tm);
	free(eid);
	free(fm_batch);
	free(f.cmd);
	return ok ? 0 : 1;
}
