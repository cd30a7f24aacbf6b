/*
 * What the exchange core (accounts, risk, ledger, history) adds per order
 * over the bare book (target: <= 30 ns median).
 *
 * The same pregenerated command stream runs twice, on a bare struct
 * shmex_book (sink: an event counter) and through shmex_exchange_*() (the
 * book inside, its sink settling, ledger and report rings on, no external
 * sinks). Each call is timed alone (rdtsc pair, timer overhead subtracted)
 * into a full histogram; the difference of the medians is the cost added.
 *
 * Sizing: order records 1.5 x the book's capacity, ledger and report rings
 * of 4096 entries (see engine_init()).
 *
 * Cases, on a book kept at N resting orders (default 10000) from 1000 users:
 *   add     a passive limit order (rests; the exchange locks funds)
 *   cancel  a random resting order (the exchange releases its funds)
 *   fill    an IOC order that fills exactly one resting order (one trade:
 *           settlement of both sides, fee account, surplus release)
 *
 * Usage: shmex-bench-exchange [resting orders] [operations per case]
 * Environment: SHMEX_BENCH_CPU pins to that CPU (default: the last one).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "shmex/book.h"
#include "shmex/exchange.h"

#define MID 3000000
#define USERS 1000u

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* ---- the two engines behind one interface ---------------------------------- */

struct engine {
	int with_exchange;
	struct shmex_book *book; /* bare */
	struct shmex_exchange *ex;
	uint32_t sym, user[USERS + 1];
	uint64_t next_id;        /* bare book ids */
	uint64_t events;
};

static void count_sink(void *ctx, const struct shmex_book_event *ev)
{
	(void)ev;
	((struct engine *)ctx)->events++;
}

static void engine_init(struct engine *e, int with_exchange, uint32_t capacity)
{
	memset(e, 0, sizeof *e);
	e->with_exchange = with_exchange;
	e->next_id = 1;
	if (!with_exchange) {
		struct shmex_book_params bp = {.max_orders = capacity, .max_levels = 0};
		if (shmex_book_create(&bp, count_sink, e, &e->book) != 0)
			abort();
		return;
	}
	struct shmex_exchange_config c;
	memset(&c, 0, sizeof c);
	c.max_assets = 2;
	c.max_symbols = 1;
	c.max_users = USERS;
	/* Records: the live orders plus as many recently ended ones kept for
	 * queries and duplicate client ids. Rings: a few thousand entries, as
	 * a persistence thread draining them needs; the footprint of both is
	 * what the exchange adds to the cache. */
	c.max_orders = capacity + capacity / 2;
	c.book_orders = capacity;
	c.ledger_capacity = 4096;
	c.report_capacity = 4096;
	if (shmex_exchange_create(&c, &e->ex) != 0)
		abort();
	struct shmex_asset_params usd = {.code = "USD", .decimals = 2};
	struct shmex_asset_params btc = {.code = "BTC", .decimals = 8};
	uint32_t a_usd, a_btc;
	if (shmex_exchange_add_asset(e->ex, &usd, &a_usd) || shmex_exchange_add_asset(e->ex, &btc, &a_btc))
		abort();
	struct shmex_symbol_params p;
	memset(&p, 0, sizeof p);
	snprintf(p.code, sizeof p.code, "BTC/USD");
	p.base = a_btc;
	p.quote = a_usd;
	p.tick_size = 1;       /* 0.01 USD */
	p.lot_size = 10000;    /* 0.0001 BTC */
	p.maker_fee_ppm = -100;
	p.taker_fee_ppm = 500;
	if (shmex_exchange_add_symbol(e->ex, &p, &e->sym))
		abort();
	for (uint32_t u = 1; u <= USERS; u++) {
		if (shmex_exchange_add_user(e->ex, NULL, &e->user[u]) ||
		    shmex_exchange_deposit(e->ex, e->user[u], a_usd, INT64_C(1) << 52, 0, NULL) ||
		    shmex_exchange_deposit(e->ex, e->user[u], a_btc, INT64_C(1) << 52, 0, NULL))
			abort();
	}
}

static void engine_fini(struct engine *e)
{
	if (e->with_exchange) {
		char msg[256];
		if (shmex_exchange_check(e->ex, msg, sizeof msg) != 0) {
			fprintf(stderr, "invariant check failed: %s\n", msg);
			exit(1);
		}
		shmex_exchange_destroy(e->ex);
	} else {
		shmex_book_destroy(e->book);
	}
}

/* Returns the order id (0 if not accepted). */
static inline uint64_t engine_submit(struct engine *e, uint32_t user, int side, int tif,
				     int64_t price, int64_t qty)
{
	if (!e->with_exchange) {
		struct shmex_order o;
		memset(&o, 0, sizeof o);
		o.id = e->next_id++;
		o.owner = user;
		o.flags = SHMEX_OF_OWNER;
		o.price = price;
		o.qty = qty;
		o.side = (uint8_t)side;
		o.type = SHMEX_LIMIT;
		o.tif = (uint8_t)tif;
		return shmex_book_submit(e->book, &o) == 0 ? o.id : 0;
	}
	struct shmex_order_request r;
	memset(&r, 0, sizeof r);
	r.client_id = e->next_id++;
	r.user = e->user[user];
	r.symbol = e->sym;
	r.price = price;
	r.qty = qty;
	r.side = (uint8_t)side;
	r.type = SHMEX_LIMIT;
	r.tif = (uint8_t)tif;
	struct shmex_order_ack ack;
	return shmex_exchange_submit(e->ex, &r, &ack) == 0 ? ack.order_id : 0;
}

static inline int engine_cancel(struct engine *e, uint32_t user, uint64_t id)
{
	if (!e->with_exchange)
		return shmex_book_cancel(e->book, id);
	return shmex_exchange_cancel(e->ex, e->user[user], id, NULL);
}

/* ---- the stream ------------------------------------------------------------ */

struct resting {
	uint64_t id;
	uint32_t user;
	int side;
	int64_t price;
};

static int64_t passive_price(struct rng *r, int side)
{
	int64_t off = 1 + rng_below(r, 200);
	return side == SHMEX_BUY ? MID - off : MID + off;
}

static void report(const char *what, const struct bb_hist *bare, const struct bb_hist *ex)
{
	uint64_t b50 = bb_hist_quantile(bare, 0.5), e50 = bb_hist_quantile(ex, 0.5);
	printf("%-7s  bare p50 %5" PRIu64 "  p99 %6" PRIu64 "  mean %7.1f | exchange p50 %5" PRIu64
	       "  p99 %6" PRIu64 "  mean %7.1f | added p50 %+5" PRId64 " ns  mean %+7.1f ns\n",
	       what, b50, bb_hist_quantile(bare, 0.99), bare->sum / (double)bare->count, e50,
	       bb_hist_quantile(ex, 0.99), ex->sum / (double)ex->count, (int64_t)e50 - (int64_t)b50,
	       ex->sum / (double)ex->count - bare->sum / (double)bare->count);
}

static uint64_t timed_ns(uint64_t t0, uint64_t t1, uint64_t overhead)
{
	uint64_t d = t1 - t0;
	d = d > overhead ? d - overhead : 0;
	return (uint64_t)(bb_ticks_to_ns(d) + 0.5);
}

/* Runs all three cases on one engine; fills the histograms. */
static void run(int with_exchange, uint32_t n, uint32_t ops, struct bb_hist *h_add,
		struct bb_hist *h_cancel, struct bb_hist *h_fill)
{
	struct engine e;
	struct rng r = {UINT64_C(0x5eed0e8c)};
	uint64_t ovh = bb_timer_overhead_ticks();
	struct resting *rest = malloc((size_t)n * sizeof *rest);
	if (!rest)
		abort();
	engine_init(&e, with_exchange, 2 * n + 1024);
	for (uint32_t i = 0; i < n; i++) {
		rest[i].user = 1 + rng_below(&r, USERS);
		rest[i].side = (int)(rng_next(&r) & 1);
		rest[i].price = passive_price(&r, rest[i].side);
		rest[i].id = engine_submit(&e, rest[i].user, rest[i].side, SHMEX_GTC, rest[i].price,
					   1 + rng_below(&r, 100));
		if (!rest[i].id)
			abort();
	}
	bb_hist_reset(h_add);
	bb_hist_reset(h_cancel);
	bb_hist_reset(h_fill);

	/* add / cancel: replace a random resting order by a new one. */
	for (uint32_t k = 0; k < ops; k++) {
		uint32_t i = rng_below(&r, n);
		uint64_t t0 = bb_tick_begin();
		int rc = engine_cancel(&e, rest[i].user, rest[i].id);
		uint64_t t1 = bb_tick_end();
		if (rc != 0)
			abort();
		bb_hist_add(h_cancel, timed_ns(t0, t1, ovh));
		rest[i].user = 1 + rng_below(&r, USERS);
		rest[i].side = (int)(rng_next(&r) & 1);
		rest[i].price = passive_price(&r, rest[i].side);
		int64_t qty = 1 + rng_below(&r, 100);
		t0 = bb_tick_begin();
		rest[i].id = engine_submit(&e, rest[i].user, rest[i].side, SHMEX_GTC, rest[i].price, qty);
		t1 = bb_tick_end();
		if (!rest[i].id)
			abort();
		bb_hist_add(h_add, timed_ns(t0, t1, ovh));
	}

	/* fill: a sell of 5 lots at MID + 1 rests (untimed); an IOC buy of 5
	 * at MID + 1 from another user takes exactly it (timed). */
	for (uint32_t k = 0; k < ops; k++) {
		uint32_t maker = 1 + rng_below(&r, USERS), taker = 1 + (maker % USERS);
		if (!engine_submit(&e, maker, SHMEX_SELL, SHMEX_GTC, MID + 1, 5))
			abort();
		uint64_t t0 = bb_tick_begin();
		uint64_t id = engine_submit(&e, taker, SHMEX_BUY, SHMEX_IOC, MID + 1, 5);
		uint64_t t1 = bb_tick_end();
		if (!id)
			abort();
		bb_hist_add(h_fill, timed_ns(t0, t1, ovh));
	}
	engine_fini(&e);
	free(rest);
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 10000;
	uint32_t ops = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 1000000;
	char cpu[128];
	static struct bb_hist bare[3], exch[3];

	bb_timer_init();
	int pinned = bb_pin_thread(-1);
	bb_cpu_model(cpu, sizeof cpu);
	printf("shmex-bench-exchange %u %u\ncpu: %s, pinned to %d, timer overhead %" PRIu64
	       " ticks subtracted\n",
	       n, ops, cpu, pinned, bb_timer_overhead_ticks());
	printf("resting orders %u, %u operations per case, each call timed alone (ns)\n", n, ops);
	/* Warm up both, then measure each twice, alternating, keeping the second. */
	for (int round = 0; round < 2; round++) {
		run(0, n, ops, &bare[0], &bare[1], &bare[2]);
		run(1, n, ops, &exch[0], &exch[1], &exch[2]);
	}
	report("add", &bare[0], &exch[0]);
	report("cancel", &bare[1], &exch[1]);
	report("fill", &bare[2], &exch[2]);
	return 0;
}
