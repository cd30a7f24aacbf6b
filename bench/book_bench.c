/*
 * Order-book benchmark bodies. What each case times, and how it keeps the
 * book at N resting orders, is in bb_case_doc() and docs/BENCHMARKS.md.
 *
 * All commands of a batch are generated before its timer starts, into
 * arrays allocated when the fixture is built. The timed loop is: build a
 * struct shmex_order on the stack (as a matcher decoding a message would)
 * and call shmex_book_submit() / shmex_book_cancel(); the sink counts events.
 */
#include "book_bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BB_MID 1000000
#define BB_SWEEP_LEVELS 10
#define BB_MAX_BATCH 4096u
#define BB_INIT_SEED UINT64_C(0x5eed0b00c)
#define BB_MIXED_LEN (1u << 21)   /* messages in the pregenerated mixed stream */
#define BB_MIXED_BATCH 4096u

/* ---- random numbers (splitmix64) ------------------------------------------ */

struct bb_rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct bb_rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint32_t rng_below(struct bb_rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* ---- commands ---------------------------------------------------------------- */

enum { OP_ADD = 0, OP_CANCEL = 1, OP_IOC = 2 };

/* 24 bytes: what a decoded order-entry message carries. */
struct bb_cmd {
	uint64_t id;
	int64_t price;
	uint32_t qty;
	uint8_t op, side, pad[2];
};

/* The prefetch hints for message @c at @stage (see shmex_book_prefetch_order). */
static inline void hint_cmd(const struct shmex_book *b, const struct bb_cmd *c, int stage)
{
	shmex_book_prefetch_order(b, c->id, stage);
	if (c->op != OP_CANCEL)
		shmex_book_prefetch_level(b, c->side, c->price, stage);
}

static inline void exec_cmd(struct shmex_book *b, const struct bb_cmd *c)
{
	if (c->op == OP_CANCEL) {
		shmex_book_cancel(b, c->id);
		return;
	}
	struct shmex_order o;
	memset(&o, 0, sizeof o);
	o.id = c->id;
	o.price = c->price;
	o.qty = c->qty;
	o.side = c->side;
	o.type = SHMEX_LIMIT;
	o.tif = c->op == OP_IOC ? SHMEX_IOC : SHMEX_GTC;
	shmex_book_submit(b, &o);
}

/* Runs message i of c[0..n) after hinting messages i+8, i+4 and i+2. */
static inline void exec_cmd_pf(struct shmex_book *b, const struct bb_cmd *c, uint32_t i,
			       uint32_t n)
{
	if (i + 8 < n)
		hint_cmd(b, &c[i + 8], 0);
	if (i + 4 < n)
		hint_cmd(b, &c[i + 4], 1);
	if (i + 2 < n)
		hint_cmd(b, &c[i + 2], 2);
	exec_cmd(b, &c[i]);
}

static inline int64_t price_at(int side, uint32_t k)
{
	return side == SHMEX_BUY ? BB_MID - 1 - (int64_t)k : BB_MID + 1 + (int64_t)k;
}

uint32_t bb_levels_for(uint32_t n)
{
	uint32_t l = n / 200;
	return l < 50 ? 50 : l > 5000 ? 5000 : l;
}

/* The i-th order of the initial book (the generator is advanced). */
static void init_order(struct bb_rng *r, uint32_t levels, uint64_t id, struct bb_cmd *c)
{
	memset(c, 0, sizeof *c);
	c->op = OP_ADD;
	c->side = (uint8_t)(rng_next(r) & 1);
	c->price = price_at(c->side, rng_below(r, levels));
	c->qty = 1 + rng_below(r, 100);
	c->id = id;
}

/* ---- event sinks ------------------------------------------------------------- */

struct bb_counts {
	uint64_t ev[16];
	uint64_t maker_done;
};

static void count_sink(void *ctx, const struct shmex_book_event *ev)
{
	struct bb_counts *c = ctx;
	c->ev[ev->type & 15]++;
	c->maker_done += ev->flags & SHMEX_EVF_MAKER_DONE;
}

uint32_t bb_populate(struct shmex_book *book, uint32_t n)
{
	struct bb_rng r = { BB_INIT_SEED };
	uint32_t levels = bb_levels_for(n);
	for (uint32_t i = 0; i < n; i++) {
		struct bb_cmd c;
		init_order(&r, levels, (uint64_t)i + 1, &c);
		exec_cmd(book, &c);
	}
	return shmex_book_order_count(book);
}

/* ---- fixture ------------------------------------------------------------------ */

/* The queue of one level, as the benchmark knows it (ring, oldest at head). */
struct bb_fifo {
	struct bb_cmd *o;
	uint32_t n, head;
};

struct bb_fixture {
	enum bb_case c;
	uint32_t n, levels, batch;
	struct shmex_book_params params;
	struct shmex_book *book;
	struct bb_counts cnt;
	struct bb_rng rng;
	uint64_t next_id;
	struct bb_cmd *init; /* the initial book, in submit order */

	/* Current batch: run[] is timed, after[] restores the book. */
	struct bb_cmd *buf, *after;
	const struct bb_cmd *run;
	uint32_t nrun, nafter;
	uint64_t *ticks; /* per-message latency samples of a batch */
	uint32_t *slot;  /* add_level: shuffled price slots */

	/* add / cancel: ids of resting orders. */
	uint64_t *live;
	uint32_t nlive, live_cap;

	/* fill: the best level of each side; sweep: the 10 best levels. */
	struct bb_fifo fifo[2];
	struct bb_cmd *swept[2];
	uint32_t nswept[2];
	int64_t sweep_price[2], sweep_qty[2];
	uint64_t sweeps;

	/* mixed: the pregenerated stream, replayed on a rebuilt book. */
	struct bb_cmd *stream;
	size_t nstream, cursor;
	uint64_t rebuilds, mix[3], stream_trades;

	uint64_t expect_orders; /* live orders after each batch (0: unchecked) */
	char err[200];
};

const char *bb_case_name(enum bb_case c)
{
	static const char *const names[BB_NCASES] = { "add", "add_level", "cancel", "fill1",
						     "sweep10", "mixed", "mixed_pf" };
	return (unsigned)c < BB_NCASES ? names[c] : "?";
}

const char *bb_case_doc(enum bb_case c)
{
	switch (c) {
	case BB_ADD:
		return "timed: batch of GTC adds at random existing prices; untimed: as many "
		       "cancels of random resting orders";
	case BB_ADD_LEVEL:
		return "timed: batch of GTC adds, each at a price with no level (beyond the "
		       "deepest level); untimed: cancel them";
	case BB_CANCEL:
		return "timed: batch of cancels of random resting orders; untimed: as many adds";
	case BB_FILL:
		return "timed: batch of IOC orders, each filling exactly the head order of the "
		       "best level (alternating sides); untimed: the makers re-added";
	case BB_SWEEP:
		return "timed: one IOC order emptying the 10 best levels of one side "
		       "(alternating); untimed: the swept orders re-added in queue order";
	case BB_MIXED:
		return "timed: 4096-message slices of a pregenerated stream, ~50% adds / "
		       "35% cancels / 15% IOC at the touch";
	case BB_MIXED_PF:
		return "as mixed, and before each message the prefetch hints a matcher "
		       "reading its ring would give: stages 0/1/2 for messages i+8/i+4/i+2";
	default:
		return "?";
	}
}

static int fail(struct bb_fixture *f, const char *what)
{
	if (!f->err[0])
		snprintf(f->err, sizeof f->err, "%s %u: %s", bb_case_name(f->c), f->n, what);
	return -1;
}

const char *bb_fixture_error(const struct bb_fixture *f)
{
	return f && f->err[0] ? f->err : NULL;
}

static int build_book(struct bb_fixture *f)
{
	shmex_book_destroy(f->book);
	f->book = NULL;
	if (shmex_book_create(&f->params, count_sink, &f->cnt, &f->book) != 0)
		return fail(f, "shmex_book_create failed");
	for (uint32_t i = 0; i < f->n; i++)
		exec_cmd(f->book, &f->init[i]);
	if (shmex_book_order_count(f->book) != f->n)
		return fail(f, "initial book has the wrong order count");
	return 0;
}

/* Orders of the initial book at @price, in queue order, into a new array. */
static struct bb_cmd *orders_at(const struct bb_fixture *f, int side, int64_t price, uint32_t *n)
{
	uint32_t cnt = 0;
	for (uint32_t i = 0; i < f->n; i++)
		cnt += f->init[i].side == side && f->init[i].price == price;
	struct bb_cmd *o = malloc((cnt ? cnt : 1) * sizeof *o);
	if (!o)
		return NULL;
	uint32_t j = 0;
	for (uint32_t i = 0; i < f->n; i++)
		if (f->init[i].side == side && f->init[i].price == price)
			o[j++] = f->init[i];
	*n = cnt;
	return o;
}

static int setup_fill(struct bb_fixture *f)
{
	uint32_t per_side = 256;
	for (int s = 0; s < 2; s++) {
		int64_t best;
		if (!shmex_book_best(f->book, s, &best))
			return fail(f, "empty side");
		f->fifo[s].o = orders_at(f, s, best, &f->fifo[s].n);
		if (!f->fifo[s].o || f->fifo[s].n < 2)
			return fail(f, "best level too thin for the fill case");
		if (f->fifo[s].n - 1 < per_side)
			per_side = f->fifo[s].n - 1;
	}
	f->batch = 2 * per_side;
	return 0;
}

static int setup_sweep(struct bb_fixture *f)
{
	struct shmex_level_info lv[BB_SWEEP_LEVELS];
	for (int s = 0; s < 2; s++) {
		if (shmex_book_depth(f->book, s, lv, BB_SWEEP_LEVELS) != BB_SWEEP_LEVELS)
			return fail(f, "fewer than 10 levels");
		uint32_t total = 0;
		for (int k = 0; k < BB_SWEEP_LEVELS; k++)
			total += lv[k].orders;
		f->swept[s] = malloc(total * sizeof(struct bb_cmd));
		if (!f->swept[s])
			return fail(f, "out of memory");
		uint32_t j = 0;
		int64_t qty = 0;
		for (int k = 0; k < BB_SWEEP_LEVELS; k++) {
			uint32_t m;
			struct bb_cmd *o = orders_at(f, s, lv[k].price, &m);
			if (!o)
				return fail(f, "out of memory");
			for (uint32_t i = 0; i < m; i++) {
				f->swept[s][j++] = o[i];
				qty += o[i].qty;
			}
			free(o);
		}
		if (j != total || (shmex_u128)qty != lv[0].qty + lv[1].qty + lv[2].qty + lv[3].qty +
								lv[4].qty + lv[5].qty + lv[6].qty +
								lv[7].qty + lv[8].qty + lv[9].qty)
			return fail(f, "sweep levels do not match the initial book");
		f->nswept[s] = total;
		f->sweep_price[s] = lv[BB_SWEEP_LEVELS - 1].price;
		f->sweep_qty[s] = qty;
	}
	return 0;
}

/* ---- mixed stream generation ----------------------------------------------- */

/* Generator state: which ids rest on the generator's own book. */
struct bb_gen {
	uint32_t *pos; /* by id: 1 + index in live[], 0 if not resting */
	uint64_t *live;
	uint32_t nlive;
	uint64_t trades, full;
};

static void gen_add(struct bb_gen *g, uint64_t id)
{
	g->live[g->nlive] = id;
	g->pos[id] = ++g->nlive;
}

static void gen_del(struct bb_gen *g, uint64_t id)
{
	uint32_t p = g->pos[id];
	if (!p)
		return;
	uint64_t last = g->live[--g->nlive];
	g->live[p - 1] = last;
	g->pos[last] = p;
	g->pos[id] = 0;
}

static void gen_sink(void *ctx, const struct shmex_book_event *ev)
{
	struct bb_gen *g = ctx;
	if (ev->type == SHMEX_EV_RESTED)
		gen_add(g, ev->order_id);
	else if (ev->type == SHMEX_EV_TRADE) {
		g->trades++;
		if (ev->flags & SHMEX_EVF_MAKER_DONE)
			gen_del(g, ev->maker_id);
	} else if (ev->type == SHMEX_EV_CANCELLED)
		gen_del(g, ev->order_id);
	else if (ev->reason == SHMEX_R_BOOK_FULL || ev->type == SHMEX_EV_REJECTED)
		g->full++;
}

/* Generates the mixed stream by running it on a second book, so that every
 * cancel names a resting order and every IOC goes at the current touch. */
static int setup_mixed(struct bb_fixture *f)
{
	size_t ids = (size_t)f->n + BB_MIXED_LEN + 2;
	struct bb_gen g = { calloc(ids, sizeof(uint32_t)), malloc(ids * sizeof(uint64_t)), 0, 0, 0 };
	struct shmex_book *gb = NULL;
	f->stream = malloc((size_t)BB_MIXED_LEN * sizeof *f->stream);
	if (!g.pos || !g.live || !f->stream ||
	    shmex_book_create(&f->params, gen_sink, &g, &gb) != 0) {
		free(g.pos);
		free(g.live);
		return fail(f, "out of memory for the mixed stream");
	}
	for (uint32_t i = 0; i < f->n; i++)
		exec_cmd(gb, &f->init[i]);
	uint64_t id = f->n + 1;
	for (size_t i = 0; i < BB_MIXED_LEN; i++) {
		int64_t bid = 0, ask = 0;
		int has_bid = shmex_book_best(gb, SHMEX_BUY, &bid);
		int has_ask = shmex_book_best(gb, SHMEX_SELL, &ask);
		/* 50 / 35 / 15 per mille thresholds, adds vs cancels nudged by up
		 * to 5 points to hold the book at N orders. */
		int64_t adj = ((int64_t)f->n - (int64_t)g.nlive) * 5000 / (int64_t)f->n;
		adj = adj > 50 ? 50 : adj < -50 ? -50 : adj;
		uint32_t r = rng_below(&f->rng, 1000);
		int op = r < (uint32_t)(500 + adj) ? OP_ADD : r < 850 ? OP_CANCEL : OP_IOC;
		struct bb_cmd c;
		memset(&c, 0, sizeof c);
		c.side = (uint8_t)(rng_next(&f->rng) & 1);
		if (op == OP_CANCEL && g.nlive == 0)
			op = OP_ADD;
		if (op == OP_IOC && !(c.side == SHMEX_BUY ? has_ask : has_bid))
			op = OP_ADD;
		c.op = (uint8_t)op;
		if (op == OP_ADD) {
			uint32_t k = rng_below(&f->rng, f->levels);
			if (c.side == SHMEX_BUY)
				c.price = (has_ask ? ask : has_bid ? bid + 2 : BB_MID + 1) - 2 - k;
			else
				c.price = (has_bid ? bid : has_ask ? ask - 2 : BB_MID - 1) + 2 + k;
			if (c.price <= 0)
				c.price = 1;
			c.qty = 1 + rng_below(&f->rng, 100);
			c.id = id++;
		} else if (op == OP_CANCEL) {
			c.id = g.live[rng_below(&f->rng, g.nlive)];
			gen_del(&g, c.id);
		} else {
			/* At the touch; sized so that an IOC removes about one
			 * resting order on average (the mix then holds N). */
			c.price = c.side == SHMEX_BUY ? ask : bid;
			c.qty = 1 + rng_below(&f->rng, 150);
			c.id = id++;
		}
		f->mix[op == OP_ADD ? 0 : op == OP_CANCEL ? 1 : 2]++;
		f->stream[i] = c;
		exec_cmd(gb, &c);
	}
	f->stream_trades = g.trades;
	f->nstream = BB_MIXED_LEN;
	shmex_book_destroy(gb);
	free(g.pos);
	free(g.live);
	if (g.full)
		return fail(f, "the mixed stream was refused or ran out of capacity");
	return 0;
}

struct bb_fixture *bb_fixture_create(enum bb_case c, uint32_t n)
{
	if ((unsigned)c >= BB_NCASES || n < 100)
		return NULL;
	struct bb_fixture *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->c = c;
	f->n = n;
	f->levels = bb_levels_for(n);
	f->rng.s = UINT64_C(0xbe7c4) + (uint64_t)c * 7919u + n;
	/* Room for a batch on top of N; the mixed flow drifts by a few %. */
	f->params.max_orders = n + (c >= BB_MIXED ? n / 32 : 0) + 2 * BB_MAX_BATCH;
	/* As shmex-replay: max_levels 0, one level slot per order (the price
	 * index is then sized by max_orders). $SHMEX_BENCH_MAX_LEVELS overrides. */
	const char *ml = getenv("SHMEX_BENCH_MAX_LEVELS");
	f->params.max_levels = ml && *ml ? (uint32_t)strtoul(ml, NULL, 10) : 0;
	f->init = malloc((size_t)n * sizeof *f->init);
	f->buf = malloc(BB_MAX_BATCH * sizeof *f->buf);
	f->after = malloc(BB_MAX_BATCH * sizeof *f->after);
	f->ticks = malloc(BB_MAX_BATCH * sizeof *f->ticks);
	f->slot = malloc(BB_MAX_BATCH * sizeof *f->slot);
	f->live_cap = n + 2 * BB_MAX_BATCH;
	f->live = malloc((size_t)f->live_cap * sizeof *f->live);
	if (!f->init || !f->buf || !f->after || !f->ticks || !f->slot || !f->live)
		goto out;
	struct bb_rng r = { BB_INIT_SEED };
	for (uint32_t i = 0; i < n; i++) {
		init_order(&r, f->levels, (uint64_t)i + 1, &f->init[i]);
		f->live[i] = (uint64_t)i + 1;
	}
	f->nlive = n;
	f->next_id = (uint64_t)n + 1;
	if (build_book(f) != 0)
		goto out;
	f->batch = n / 16 < 16 ? 16 : n / 16 > 1024 ? 1024 : n / 16;
	f->expect_orders = n;
	int rc = 0;
	if (c == BB_FILL)
		rc = setup_fill(f);
	else if (c == BB_SWEEP) {
		rc = setup_sweep(f);
		f->batch = 1;
	} else if (c == BB_MIXED || c == BB_MIXED_PF) {
		rc = setup_mixed(f);
		f->batch = BB_MIXED_BATCH;
		f->expect_orders = 0;
	}
	if (rc != 0)
		goto out;
	return f;
out:
	if (f->err[0])
		fprintf(stderr, "%s\n", f->err);
	bb_fixture_destroy(f);
	return NULL;
}

void bb_fixture_destroy(struct bb_fixture *f)
{
	if (!f)
		return;
	shmex_book_destroy(f->book);
	free(f->init);
	free(f->buf);
	free(f->after);
	free(f->ticks);
	free(f->slot);
	free(f->live);
	for (int s = 0; s < 2; s++) {
		free(f->fifo[s].o);
		free(f->swept[s]);
	}
	free(f->stream);
	free(f);
}

void bb_fixture_info(const struct bb_fixture *f, struct bb_fixture_info *out)
{
	memset(out, 0, sizeof *out);
	out->n = f->n;
	out->levels_per_side = f->levels;
	out->batch = f->batch;
	out->orders = shmex_book_order_count(f->book);
	out->levels[0] = shmex_book_level_count(f->book, SHMEX_BUY);
	out->levels[1] = shmex_book_level_count(f->book, SHMEX_SELL);
	out->stream_len = f->nstream;
	out->rebuilds = f->rebuilds;
	memcpy(out->mix, f->mix, sizeof out->mix);
	out->stream_trades = f->stream_trades;
}

/* ---- batches ------------------------------------------------------------------- */

static inline void random_add(struct bb_fixture *f, struct bb_cmd *c)
{
	memset(c, 0, sizeof *c);
	c->op = OP_ADD;
	c->side = (uint8_t)(rng_next(&f->rng) & 1);
	c->price = price_at(c->side, rng_below(&f->rng, f->levels));
	c->qty = 1 + rng_below(&f->rng, 100);
	c->id = f->next_id++;
}

static inline void random_cancel(struct bb_fixture *f, struct bb_cmd *c)
{
	uint32_t j = rng_below(&f->rng, f->nlive);
	memset(c, 0, sizeof *c);
	c->op = OP_CANCEL;
	c->id = f->live[j];
	f->live[j] = f->live[--f->nlive];
}

/* Generates the batch: f->run (timed) and f->after (restores the book). */
static int prepare(struct bb_fixture *f)
{
	uint32_t b = f->batch;
	f->run = f->buf;
	f->nrun = b;
	f->nafter = 0;
	switch (f->c) {
	case BB_ADD:
		for (uint32_t i = 0; i < b; i++) {
			random_add(f, &f->buf[i]);
			f->live[f->nlive++] = f->buf[i].id;
		}
		for (uint32_t i = 0; i < b; i++)
			random_cancel(f, &f->after[i]);
		f->nafter = b;
		break;
	case BB_ADD_LEVEL: {
		/* Distinct empty prices beyond the deepest level, random order. */
		uint32_t *slot = f->slot;
		for (uint32_t i = 0; i < b; i++)
			slot[i] = i;
		for (uint32_t i = b - 1; i > 0; i--) {
			uint32_t j = rng_below(&f->rng, i + 1), t = slot[i];
			slot[i] = slot[j];
			slot[j] = t;
		}
		for (uint32_t i = 0; i < b; i++) {
			struct bb_cmd *c = &f->buf[i];
			memset(c, 0, sizeof *c);
			c->op = OP_ADD;
			c->side = (uint8_t)(rng_next(&f->rng) & 1);
			c->price = price_at(c->side, f->levels + 2 * slot[i] + rng_below(&f->rng, 2));
			c->qty = 1 + rng_below(&f->rng, 100);
			c->id = f->next_id++;
			memset(&f->after[i], 0, sizeof f->after[i]);
			f->after[i].op = OP_CANCEL;
			f->after[i].id = c->id;
		}
		f->nafter = b;
		break;
	}
	case BB_CANCEL:
		for (uint32_t i = 0; i < b; i++)
			random_cancel(f, &f->buf[i]);
		for (uint32_t i = 0; i < b; i++) {
			random_add(f, &f->after[i]);
			f->live[f->nlive++] = f->after[i].id;
		}
		f->nafter = b;
		break;
	case BB_FILL:
		for (uint32_t i = 0; i < b; i++) {
			int side = (int)(i & 1); /* the aggressor's side */
			struct bb_fifo *q = &f->fifo[side ^ 1];
			const struct bb_cmd *m = &q->o[q->head];
			q->head = q->head + 1 == q->n ? 0 : q->head + 1;
			struct bb_cmd *c = &f->buf[i];
			memset(c, 0, sizeof *c);
			c->op = OP_IOC;
			c->side = (uint8_t)side;
			c->price = m->price;
			c->qty = m->qty;
			c->id = f->next_id++;
			f->after[i] = *m;
		}
		f->nafter = b;
		break;
	case BB_SWEEP: {
		int side = (int)(f->sweeps++ & 1), ms = side ^ 1;
		struct bb_cmd *c = &f->buf[0];
		memset(c, 0, sizeof *c);
		c->op = OP_IOC;
		c->side = (uint8_t)side;
		c->price = f->sweep_price[ms];
		c->qty = (uint32_t)f->sweep_qty[ms];
		c->id = f->next_id++;
		f->nrun = 1;
		f->run = f->buf;
		/* Restored straight from swept[] below (it can exceed a batch). */
		break;
	}
	case BB_MIXED:
	case BB_MIXED_PF:
		if (f->cursor + b > f->nstream) {
			if (build_book(f) != 0)
				return -1;
			f->cursor = 0;
			f->rebuilds++;
		}
		f->run = &f->stream[f->cursor];
		f->cursor += b;
		break;
	default:
		return fail(f, "bad case");
	}
	return 0;
}

/* Checks the events of the timed part against what the case expects. */
static int check_timed(struct bb_fixture *f, const struct bb_counts *before)
{
	uint64_t d[16], done = f->cnt.maker_done - before->maker_done;
	for (int i = 0; i < 16; i++)
		d[i] = f->cnt.ev[i] - before->ev[i];
	uint64_t n = f->nrun;
	if (d[SHMEX_EV_REJECTED])
		return fail(f, "a timed command was rejected");
	switch (f->c) {
	case BB_ADD:
	case BB_ADD_LEVEL:
		if (d[SHMEX_EV_RESTED] != n || d[SHMEX_EV_TRADE])
			return fail(f, "an add did not rest untouched");
		break;
	case BB_CANCEL:
		if (d[SHMEX_EV_CANCELLED] != n)
			return fail(f, "a cancel did not cancel");
		break;
	case BB_FILL:
		if (d[SHMEX_EV_TRADE] != n || done != n || d[SHMEX_EV_KILLED])
			return fail(f, "a fill did not fill exactly one order");
		break;
	case BB_SWEEP: {
		int ms = (int)((f->sweeps - 1) & 1) ^ 1;
		if (d[SHMEX_EV_TRADE] != f->nswept[ms] || done != f->nswept[ms] ||
		    d[SHMEX_EV_KILLED])
			return fail(f, "a sweep did not take exactly 10 levels");
		break;
	}
	default:
		break;
	}
	return 0;
}

static void restore(struct bb_fixture *f)
{
	if (f->c == BB_SWEEP) {
		int ms = (int)((f->sweeps - 1) & 1) ^ 1;
		for (uint32_t i = 0; i < f->nswept[ms]; i++)
			exec_cmd(f->book, &f->swept[ms][i]);
	} else {
		for (uint32_t i = 0; i < f->nafter; i++)
			exec_cmd(f->book, &f->after[i]);
	}
}

int bb_run_batch(struct bb_fixture *f, struct bb_batch_result *out)
{
	if (f->err[0] || prepare(f) != 0)
		return -1;
	struct bb_counts before = f->cnt;
	struct shmex_book *book = f->book;
	const struct bb_cmd *c = f->run;
	const uint32_t n = f->nrun;
	uint64_t t0 = bb_tick_begin();
	if (f->c == BB_MIXED_PF)
		for (uint32_t i = 0; i < n; i++)
			exec_cmd_pf(book, c, i, n);
	else
		for (uint32_t i = 0; i < n; i++)
			exec_cmd(book, &c[i]);
	uint64_t t1 = bb_tick_end();
	uint64_t ticks = t1 - t0, oh = bb_timer_overhead_ticks();
	out->ns = bb_ticks_to_ns(ticks > oh ? ticks - oh : 0);
	out->ops = n;
	out->trades = (uint32_t)(f->cnt.ev[SHMEX_EV_TRADE] - before.ev[SHMEX_EV_TRADE]);
	if (check_timed(f, &before) != 0)
		return -1;
	restore(f);
	return 0;
}

int bb_run_latency(struct bb_fixture *f, uint64_t samples, struct bb_hist *h, double *total_ns)
{
	const uint64_t oh = bb_timer_overhead_ticks();
	double total = 0;
	uint64_t got = 0;
	while (got < samples) {
		if (f->err[0] || prepare(f) != 0)
			return -1;
		struct bb_counts before = f->cnt;
		struct shmex_book *book = f->book;
		const struct bb_cmd *c = f->run;
		const uint32_t n = f->nrun;
		uint64_t *t = f->ticks;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t t0 = bb_tick_begin();
			if (f->c == BB_MIXED_PF)
				exec_cmd_pf(book, c, i, n);
			else
				exec_cmd(book, &c[i]);
			t[i] = bb_tick_end() - t0;
		}
		if (check_timed(f, &before) != 0)
			return -1;
		restore(f);
		for (uint32_t i = 0; i < n; i++) {
			double ns = bb_ticks_to_ns(t[i] > oh ? t[i] - oh : 0);
			bb_hist_add(h, (uint64_t)(ns + 0.5));
			total += ns;
		}
		got += n;
	}
	*total_ns = total;
	return 0;
}

int bb_fixture_check(struct bb_fixture *f)
{
	if (f->err[0])
		return -1;
	if (shmex_book_verify(f->book) != 0)
		return fail(f, "shmex_book_verify failed");
	if (f->expect_orders && shmex_book_order_count(f->book) != f->expect_orders)
		return fail(f, "the book did not stay at N orders");
	if (f->cnt.ev[SHMEX_EV_REJECTED])
		return fail(f, "a command was rejected");
	return 0;
}
