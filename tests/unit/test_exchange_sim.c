/*
 * Randomized simulation of the exchange core: many users, four symbols
 * sharing quote assets (BTC/USD, ETH/USD, ETH/BTC, and a satoshi-lot
 * BTC/USD where every fill rounds), random deposits, withdrawals, orders of
 * every kind, cancels, amends, mass cancels, halts and clock advances.
 *
 * After every command shmex_exchange_check() must pass, refused commands
 * must leave every balance as it was, and the test's own tally of deposits
 * minus withdrawals must equal the sum of all balances. At the end the
 * ledger, replayed from zero, must reproduce every balance and every
 * balance-after exactly; each trade must conserve each asset; each order's
 * fills in its reports must add up to its filled quantity.
 *
 * Environment:
 *   SHMEX_EXSIM_COMMANDS  commands to run (default 100000)
 *   SHMEX_EXSIM_SEED      seed (decimal or 0x hex; default fixed)
 *   SHMEX_EXSIM_VERBOSE   set to print what ran (events by kind, rejects)
 * On failure the seed and the command index are printed.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shmex/exchange.h"

#define N_USERS 40
#define N_ASSETS 3
#define N_SYMBOLS 4
#define MAX_TRACKED 4096
#define MAX_CLID 8192

enum { USD = 1, BTC = 2, ETH = 3 };

/* ---- random ------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int64_t rnd_in(int64_t lo, int64_t hi) /* inclusive */
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int chance(unsigned percent)
{
	return rnd() % 100 < percent;
}

/* ---- captured streams ----------------------------------------------------- */

struct vec {
	void *v;
	size_t n, cap, size;
};

static void vec_push(struct vec *a, const void *x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 1024;
		a->v = realloc(a->v, a->cap * a->size);
		if (!a->v)
			abort();
	}
	memcpy((char *)a->v + a->n++ * a->size, x, a->size);
}

static void ledger_sink(void *ctx, const struct shmex_ledger_entry *e)
{
	vec_push(ctx, e);
}

static void report_sink(void *ctx, const struct shmex_order_report *r)
{
	vec_push(ctx, r);
}

/* ---- the simulation ------------------------------------------------------ */

struct symdef {
	const char *code;
	uint32_t base, quote;
	int64_t tick, lot, mid, step, ref;
	int32_t maker, taker;
	uint32_t band;
	int64_t max_notional;
	uint32_t max_matches;      /* 0: the default */
	int64_t min_peak;          /* 0: min_qty */
};

static const struct symdef symdefs[N_SYMBOLS] = {
	/* 30000.00 USD/BTC, lot 0.0001 BTC: a tick-lot is 1/10^4 cent */
	{"BTC/USD", BTC, USD, 1, 10000, 3000000, 500, 3000000, -100, 500, 300000, 0, 0, 0},
	/* 2000.00 USD/ETH, lot 0.001 ETH: 1/10^3 cent; at most 1000.00 USD an order */
	{"ETH/USD", ETH, USD, 1, 100000, 200000, 50, 0, 0, 1000, 0, 100000, 0, 0},
	/* 0.066 BTC/ETH (in satoshi ticks), lot 0.001 ETH: 1/10^3 satoshi; an
	 * order makes at most 4 matches at a time (remainder killed) */
	{"ETH/BTC", ETH, BTC, 1, 100000, 6600000, 700, 0, -333, 777, 0, 0, 4, 0},
	/* satoshi lots: a tick-lot is 10^-8 cent, a lot at 30000 is 0.03 cent;
	 * iceberg peaks of 500 satoshi or more */
	{"BTCs/USD", BTC, USD, 1, 1, 3000000, 500, 0, -250, 250, 0, 0, 0, 500},
};

struct sim {
	struct shmex_exchange *ex;
	uint32_t sym[N_SYMBOLS];
	int64_t mid[N_SYMBOLS];
	uint32_t user[N_USERS + 1];
	uint64_t next_clid[N_USERS + 1];
	int64_t supply[N_ASSETS + 1]; /* the test's own deposits - withdrawals */
	uint64_t tracked[MAX_TRACKED]; /* recently accepted order ids */
	uint32_t n_tracked;
	uint64_t orders_made;
	uint8_t accepted[N_USERS + 1][MAX_CLID]; /* client ids accepted */
	struct vec ledger, reports;
	uint64_t seed, cmd;
	unsigned long counts[16];  /* reports by what */
	unsigned long rejects[32]; /* by reason */
	unsigned long capped;      /* market sells stopped at max_notional */
	unsigned long match_limited; /* orders killed at max_matches */
};

static void sim_fail(struct sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sim_fail(struct sim *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	print_error("exchange sim: seed 0x%" PRIx64 " (SHMEX_EXSIM_SEED), command %" PRIu64 ": %s\n",
		    s->seed, s->cmd, buf);
	fail();
}

static void sim_setup(struct sim *s)
{
	struct shmex_exchange_config c;
	memset(&c, 0, sizeof c);
	c.max_assets = N_ASSETS;
	c.max_symbols = N_SYMBOLS;
	c.max_users = N_USERS;
	c.max_orders = 1u << 14;
	c.book_orders = 2048;
	c.max_open_orders = 60;
	c.report_capacity = 1u << 16;
	c.ledger_capacity = 1u << 12;
	c.ledger_sink = ledger_sink;
	c.ledger_ctx = &s->ledger;
	c.report_sink = report_sink;
	c.report_ctx = &s->reports;
	c.start_time = 1000000000;
	s->ledger.size = sizeof(struct shmex_ledger_entry);
	s->reports.size = sizeof(struct shmex_order_report);
	assert_int_equal(shmex_exchange_create(&c, &s->ex), 0);

	static const struct shmex_asset_params assets[N_ASSETS] = {
		{.code = "USD", .decimals = 2}, {.code = "BTC", .decimals = 8}, {.code = "ETH", .decimals = 8}};
	for (uint32_t a = 0; a < N_ASSETS; a++) {
		uint32_t id;
		assert_int_equal(shmex_exchange_add_asset(s->ex, &assets[a], &id), 0);
		assert_int_equal(id, a + 1);
	}
	for (int i = 0; i < N_SYMBOLS; i++) {
		const struct symdef *d = &symdefs[i];
		struct shmex_symbol_params p;
		memset(&p, 0, sizeof p);
		snprintf(p.code, sizeof p.code, "%s", d->code);
		p.base = d->base;
		p.quote = d->quote;
		p.tick_size = d->tick;
		p.lot_size = d->lot;
		p.maker_fee_ppm = d->maker;
		p.taker_fee_ppm = d->taker;
		p.band_ppm = d->band;
		p.ref_price = d->ref;
		p.max_qty = 1000000;
		p.max_notional = d->max_notional;
		p.max_matches = d->max_matches;
		p.min_peak = d->min_peak;
		assert_int_equal(shmex_exchange_add_symbol(s->ex, &p, &s->sym[i]), 0);
		s->mid[i] = d->mid;
	}
	for (int u = 1; u <= N_USERS; u++) {
		/* Every seventh user is rate limited (50/s, burst 5). */
		struct shmex_user_params up = {0, 0, 0, 0};
		if (u % 7 == 0) {
			up.rate_per_sec = 50;
			up.rate_burst = 5;
		}
		if (u % 5 == 0) /* and every fifth has few open orders */
			up.max_open_orders = 20;
		assert_int_equal(shmex_exchange_add_user(s->ex, &up, &s->user[u]), 0);
		s->next_clid[u] = 1;
	}
}

struct snapshot {
	struct shmex_balance b[N_USERS + 1][N_ASSETS + 1];
	uint64_t ledger;
};

static void snap(struct sim *s, struct snapshot *sn)
{
	for (uint32_t u = 0; u <= N_USERS; u++)
		for (uint32_t a = 1; a <= N_ASSETS; a++)
			assert_int_equal(shmex_exchange_balance(s->ex, u, a, &sn->b[u][a]), 0);
	sn->ledger = shmex_exchange_ledger_count(s->ex);
}

static void expect_unchanged(struct sim *s, const struct snapshot *before, const char *what)
{
	struct snapshot now;
	snap(s, &now);
	if (now.ledger != before->ledger)
		sim_fail(s, "refused %s wrote %" PRIu64 " ledger entries", what,
			 now.ledger - before->ledger);
	for (uint32_t u = 0; u <= N_USERS; u++)
		for (uint32_t a = 1; a <= N_ASSETS; a++)
			if (memcmp(&now.b[u][a], &before->b[u][a], sizeof now.b[u][a]) != 0)
				sim_fail(s, "refused %s changed user %u asset %u", what, u, a);
}

static void check_all(struct sim *s)
{
	char msg[512];
	if (shmex_exchange_check(s->ex, msg, sizeof msg) != 0)
		sim_fail(s, "check: %s", msg);
	/* The test's own tally, independent of the exchange's. */
	for (uint32_t a = 1; a <= N_ASSETS; a++) {
		int64_t sum = 0;
		for (uint32_t u = 0; u <= N_USERS; u++) {
			struct shmex_balance b;
			assert_int_equal(shmex_exchange_balance(s->ex, u, a, &b), 0);
			sum += b.available + b.locked;
		}
		if (sum != s->supply[a])
			sim_fail(s, "asset %u: balances %" PRId64 " != deposits - withdrawals %" PRId64, a,
				 sum, s->supply[a]);
	}
}

/* A user's open orders, listed whole and per symbol, are its live orders,
 * by id, and agree with the records (every few commands, one user). */
static void check_open_orders(struct sim *s)
{
	static struct shmex_order_state all[N_SYMBOLS * 200], one[N_SYMBOLS * 200];
	const uint32_t u = s->user[s->cmd % N_USERS + 1];
	uint32_t total, sum = 0;
	int n = shmex_exchange_open_orders(s->ex, u, SHMEX_ALL_SYMBOLS, 0, all, N_SYMBOLS * 200,
					   &total);
	if (n < 0 || (uint32_t)n != total)
		sim_fail(s, "open orders of user %u: %d of %u", u, n, total);
	for (int i = 0; i < n; i++) {
		struct shmex_order_state o;
		if (!all[i].live || all[i].user != u || (i > 0 && all[i].order_id <= all[i - 1].order_id) ||
		    shmex_exchange_order(s->ex, all[i].order_id, &o) != 0 ||
		    memcmp(&o, &all[i], sizeof o) != 0)
			sim_fail(s, "open orders of user %u: entry %d wrong", u, i);
	}
	for (int k = 0; k < N_SYMBOLS; k++) {
		int m = shmex_exchange_open_orders(s->ex, u, s->sym[k], 0, one, N_SYMBOLS * 200, &total);
		for (int i = 0; i < m; i++)
			if (one[i].symbol != s->sym[k])
				sim_fail(s, "open orders of user %u on symbol %u: entry %d wrong", u,
					 s->sym[k], i);
		sum += (uint32_t)m;
	}
	if (sum != (uint32_t)n)
		sim_fail(s, "open orders of user %u: %u per symbol, %d in all", u, sum, n);
}

static int64_t deposit_amount(uint32_t asset)
{
	switch (asset) {
	case USD: return rnd_in(1, 5000000);            /* up to 50000.00 USD */
	case BTC: return rnd_in(1, 200000000);          /* up to 2 BTC */
	default: return rnd_in(1, 3000000000);          /* up to 30 ETH */
	}
}

static void cmd_deposit(struct sim *s)
{
	uint32_t u = (uint32_t)rnd_in(1, N_USERS), a = (uint32_t)rnd_in(1, N_ASSETS);
	int64_t amount = deposit_amount(a);
	if (shmex_exchange_deposit(s->ex, s->user[u], a, amount, s->cmd, NULL) != 0)
		sim_fail(s, "deposit refused");
	s->supply[a] += amount;
}

static void cmd_withdraw(struct sim *s)
{
	uint32_t u = (uint32_t)rnd_in(1, N_USERS), a = (uint32_t)rnd_in(1, N_ASSETS);
	struct shmex_balance b;
	assert_int_equal(shmex_exchange_balance(s->ex, s->user[u], a, &b), 0);
	int64_t amount = chance(70) && b.available > 0 ? rnd_in(1, b.available)
						       : b.available + rnd_in(1, 1000);
	struct snapshot before;
	snap(s, &before);
	int rc = shmex_exchange_withdraw(s->ex, s->user[u], a, amount, s->cmd, NULL);
	if (amount <= b.available) {
		if (rc != 0)
			sim_fail(s, "withdraw of %" PRId64 " of %" PRId64 " refused", amount, b.available);
		s->supply[a] -= amount;
	} else {
		if (rc != SHMEX_E_NOFUNDS)
			sim_fail(s, "withdraw beyond available: rc %d", rc);
		expect_unchanged(s, &before, "withdrawal");
	}
}

static void track(struct sim *s, uint64_t id)
{
	if (s->n_tracked < MAX_TRACKED)
		s->tracked[s->n_tracked++] = id;
	else
		s->tracked[rnd() % MAX_TRACKED] = id;
}

/* A tracked order, preferring live ones (dropping ended ones met). */
static int pick_order(struct sim *s, struct shmex_order_state *o)
{
	for (int tries = 0; tries < 8 && s->n_tracked > 0; tries++) {
		uint32_t i = (uint32_t)(rnd() % s->n_tracked);
		if (shmex_exchange_order(s->ex, s->tracked[i], o) == 0 && o->live)
			return 1;
		s->tracked[i] = s->tracked[--s->n_tracked];
	}
	return 0;
}

/* The iceberg rules of the symbols here (max_iceberg_parts is the default). */
static int peak_ok(int k, int64_t display, int64_t qty)
{
	int64_t min_peak = symdefs[k].min_peak ? symdefs[k].min_peak : 1;
	return display == 0 ||
	       (display >= min_peak && (shmex_i128)display * SHMEX_ICEBERG_PARTS_DEFAULT >= qty);
}

static int64_t near(struct sim *s, int k, int spread)
{
	int64_t p = s->mid[k] + rnd_in(-spread, spread) * symdefs[k].step;
	return p > 0 ? p : symdefs[k].step;
}

static void cmd_order(struct sim *s)
{
	const int k = (int)rnd_in(0, N_SYMBOLS - 1);
	const uint32_t u = (uint32_t)rnd_in(1, N_USERS);
	struct shmex_order_request r;
	memset(&r, 0, sizeof r);
	r.user = s->user[u];
	r.symbol = s->sym[k];
	r.side = (uint8_t)(rnd() & 1);
	r.qty = chance(90) ? rnd_in(1, 40) : rnd_in(1, 3000);
	if (k == 3)
		r.qty *= 1000; /* satoshi lots */
	/* Resting prices mostly on the order's own side of the mid: depth. */
	r.price = s->mid[k] + (r.side == SHMEX_BUY ? -1 : 1) * rnd_in(-3, 25) * symdefs[k].step;
	if (r.price <= 0)
		r.price = symdefs[k].step;
	if (chance(2)) /* far off: outside the band where there is one */
		r.price = chance(50) ? r.price * 2 : r.price / 2 + 1;
	r.tif = SHMEX_GTC;
	r.type = SHMEX_LIMIT;
	int dup = 0;
	if (chance(3) && s->next_clid[u] > 1) {
		r.client_id = (uint64_t)rnd_in(1, (int64_t)s->next_clid[u] - 1);
		dup = 1;
	} else {
		r.client_id = s->next_clid[u]++;
	}
	if (chance(10))
		r.stp = (uint8_t)rnd_in(1, 3);

	unsigned kind = (unsigned)rnd_in(0, 99);
	if (kind < 40) {
		/* plain GTC limit */
	} else if (kind < 48) {
		r.tif = SHMEX_IOC;
		r.price = near(s, k, 3);
	} else if (kind < 53) {
		r.tif = SHMEX_FOK;
		r.price = near(s, k, 3);
	} else if (kind < 61) {
		r.tif = SHMEX_GTD;
		r.expire_at = shmex_exchange_now(s->ex) + rnd_in(-1000, 3000000000);
	} else if (kind < 67) {
		r.flags = SHMEX_OF_POST_ONLY;
	} else if (kind < 72) {
		/* Mostly a peak the symbol allows (at most 100 peaks, at least
		 * min_peak); sometimes any, which must then be refused. */
		r.display_qty = chance(85) ? rnd_in((r.qty + 99) / 100, r.qty) : rnd_in(1, r.qty);
		if (chance(85) && r.display_qty < symdefs[k].min_peak)
			r.display_qty = symdefs[k].min_peak;
	} else if (kind < 80) {
		r.type = SHMEX_MARKET;
		r.tif = chance(80) ? SHMEX_IOC : SHMEX_FOK;
		r.price = 0;
		if (r.side == SHMEX_BUY) {
			if (r.tif == SHMEX_IOC && chance(60))
				r.quote_budget = rnd_in(1, symdefs[k].quote == USD ? 2000000 : 20000000);
			else
				r.price = near(s, k, 10);
		} else if (chance(30)) {
			r.price = near(s, k, 10);
		}
	} else if (kind < 96) {
		static const uint8_t stops[] = {SHMEX_STOP_LIMIT, SHMEX_STOP_MARKET,
						SHMEX_TAKE_PROFIT_LIMIT, SHMEX_TAKE_PROFIT_MARKET};
		r.type = stops[rnd() % 4];
		r.trigger_price = near(s, k, 6);
		if (r.type == SHMEX_STOP_MARKET || r.type == SHMEX_TAKE_PROFIT_MARKET) {
			r.tif = chance(80) ? SHMEX_IOC : SHMEX_FOK;
			r.price = r.side == SHMEX_BUY || chance(30) ? near(s, k, 10) : 0;
		} else {
			r.tif = chance(80) ? SHMEX_GTC : SHMEX_IOC;
		}
	} else {
		/* garbage: every field check must refuse it cleanly */
		switch (rnd() % 6) {
		case 0: r.qty = -r.qty; break;
		case 1: r.price = -5; break;
		case 2: r.type = 9; break;
		case 3: r.tif = SHMEX_GTC; r.type = SHMEX_MARKET; break;
		case 4: r.quote_budget = 100; break;
		default: r.symbol = 77; break;
		}
	}

	/* A client id this user had accepted must be refused while its record
	 * is kept: always, until the record pool wraps. */
	uint64_t prior;
	const int indexed = r.client_id != 0 &&
			    shmex_exchange_find_client_id(s->ex, r.user, r.client_id, &prior) == 0;
	const int was_accepted = dup && r.client_id < MAX_CLID && s->accepted[u][r.client_id];
	if (was_accepted && !indexed && s->orders_made < (1u << 14))
		sim_fail(s, "client id %" PRIu64 " of user %u forgotten", r.client_id, r.user);
	struct snapshot before;
	snap(s, &before);
	struct shmex_order_ack ack;
	int rc = shmex_exchange_submit(s->ex, &r, &ack);
	s->orders_made++;
	if (indexed && r.symbol == s->sym[k] && ack.reason != SHMEX_R_DUPLICATE_CLIENT_ID)
		sim_fail(s, "client id %" PRIu64 " of user %u reused: reason %u", r.client_id, r.user,
			 ack.reason);
	if (rc == 0 && r.client_id < MAX_CLID)
		s->accepted[u][r.client_id] = 1;
	if (rc == 0 && !peak_ok(k, r.display_qty, r.qty))
		sim_fail(s, "iceberg of %" PRId64 " lots, peak %" PRId64 " accepted", r.qty,
			 r.display_qty);
	if (rc != 0) {
		s->rejects[ack.reason < 32 ? ack.reason : 31]++;
		if (ack.status != SHMEX_OS_REJECTED)
			sim_fail(s, "rejected order has status %u", ack.status);
		expect_unchanged(s, &before, "order");
		return;
	}
	track(s, ack.order_id);
	/* An order that ends on entry (IOC, FOK, market) traded at most the
	 * symbol's max_notional, whatever its side and type. */
	const struct symdef *d = &symdefs[k];
	struct shmex_order_state o;
	if (d->max_notional && r.type <= SHMEX_MARKET && r.tif != SHMEX_GTC && r.tif != SHMEX_GTD &&
	    shmex_exchange_order(s->ex, ack.order_id, &o) == 0) {
		shmex_i128 num = o.filled_notional * d->tick * d->lot, den = 100000000;
		if ((num + den - 1) / den > d->max_notional)
			sim_fail(s, "order %" PRIu64 " traded %" PRId64 " tick-lots beyond max_notional",
				 o.order_id, (int64_t)o.filled_notional);
		s->capped += o.reason == SHMEX_R_BUDGET && o.side == SHMEX_SELL;
	}
}

static void cmd_cancel(struct sim *s)
{
	struct shmex_order_state o;
	if (!pick_order(s, &o))
		return;
	int rc;
	if (chance(10)) {
		/* Someone else's order: refused. */
		struct snapshot before;
		snap(s, &before);
		uint32_t other = o.user % N_USERS + 1;
		rc = shmex_exchange_cancel(s->ex, other, o.order_id, NULL);
		if (rc != SHMEX_E_UNKNOWN_ORDER)
			sim_fail(s, "cancel of another user's order: rc %d", rc);
		expect_unchanged(s, &before, "cancel");
		return;
	}
	rc = shmex_exchange_cancel(s->ex, o.user, o.order_id, NULL);
	if (rc != 0)
		sim_fail(s, "cancel of live order %" PRIu64 ": rc %d", o.order_id, rc);
	struct shmex_order_state after;
	assert_int_equal(shmex_exchange_order(s->ex, o.order_id, &after), 0);
	if (after.live || after.parked || after.reserved != 0 || after.status != SHMEX_OS_CANCELLED)
		sim_fail(s, "cancelled order %" PRIu64 " still live or reserving", o.order_id);
}

static void cmd_amend(struct sim *s)
{
	struct shmex_order_state o;
	if (!pick_order(s, &o))
		return;
	int k = (int)o.symbol - 1;
	int64_t price = chance(50) ? o.price : o.price + rnd_in(-4, 4) * symdefs[k].step;
	int64_t qty = chance(50) ? o.remaining + rnd_in(-o.remaining + 1, 5)
				 : rnd_in(1, k == 3 ? 40000 : 40);
	if (chance(3))
		qty = 0;
	struct snapshot before;
	snap(s, &before);
	struct shmex_order_ack ack;
	int rc = shmex_exchange_amend(s->ex, o.user, o.order_id, price, qty, &ack);
	if (rc == 0 && !peak_ok(k, o.display_qty, qty))
		sim_fail(s, "iceberg (peak %" PRId64 ") amended to %" PRId64 " lots", o.display_qty, qty);
	if (rc != 0) {
		s->rejects[ack.reason < 32 ? ack.reason : 31]++;
		expect_unchanged(s, &before, "amend");
	}
}

static void cmd_mass_cancel(struct sim *s)
{
	uint32_t u = (uint32_t)rnd_in(1, N_USERS);
	uint32_t sym = chance(50) ? SHMEX_ALL_SYMBOLS : s->sym[rnd() % N_SYMBOLS];
	uint32_t n;
	assert_int_equal(shmex_exchange_mass_cancel(s->ex, s->user[u], sym, &n), 0);
	for (int k = 0; k < N_SYMBOLS; k++) {
		if (sym != SHMEX_ALL_SYMBOLS && sym != s->sym[k])
			continue;
		/* Nothing of the user's is left on those books. */
		struct shmex_order_state o;
		for (uint32_t i = 0; i < s->n_tracked; i++)
			if (shmex_exchange_order(s->ex, s->tracked[i], &o) == 0 && o.live &&
			    o.user == s->user[u] && o.symbol == s->sym[k])
				sim_fail(s, "order %" PRIu64 " survived a mass cancel", o.order_id);
	}
}

static void cmd_advance(struct sim *s)
{
	int64_t step = chance(95) ? rnd_in(0, 50000000) : rnd_in(0, 5000000000);
	shmex_exchange_advance(s->ex, shmex_exchange_now(s->ex) + step);
}

static void cmd_admin(struct sim *s)
{
	int k = (int)(rnd() % N_SYMBOLS);
	struct shmex_symbol_params p;
	assert_int_equal(shmex_exchange_symbol(s->ex, s->sym[k], &p), 0);
	if (chance(50))
		assert_int_equal(shmex_exchange_set_status(s->ex, s->sym[k],
							   p.status == SHMEX_SYMBOL_OPEN && chance(50)
								   ? SHMEX_SYMBOL_HALTED
								   : SHMEX_SYMBOL_OPEN),
				 0);
	else
		assert_int_equal(shmex_exchange_set_reference(s->ex, s->sym[k], s->mid[k]), 0);
}

/* Prices follow the last trade, with a drift; halts are short. */
static void walk(struct sim *s)
{
	for (int k = 0; k < N_SYMBOLS; k++) {
		struct shmex_symbol_params p;
		assert_int_equal(shmex_exchange_symbol(s->ex, s->sym[k], &p), 0);
		if (p.status == SHMEX_SYMBOL_HALTED && chance(3))
			assert_int_equal(shmex_exchange_set_status(s->ex, s->sym[k], SHMEX_SYMBOL_OPEN), 0);
		int64_t last;
		if (chance(30) && shmex_book_last_price(shmex_exchange_book(s->ex, s->sym[k]), &last))
			s->mid[k] = last;
		if (chance(10))
			s->mid[k] += rnd_in(-1, 1) * symdefs[k].step;
		if (s->mid[k] < 20 * symdefs[k].step)
			s->mid[k] = 20 * symdefs[k].step;
	}
}

/* ---- end-of-run verification ------------------------------------------- */

static void verify_ledger(struct sim *s)
{
	static struct shmex_balance fold[N_USERS + 1][N_ASSETS + 1];
	int64_t net[N_ASSETS + 1] = {0};
	const struct shmex_ledger_entry *e = s->ledger.v;
	memset(fold, 0, sizeof fold);
	if (s->ledger.n != shmex_exchange_ledger_count(s->ex))
		sim_fail(s, "sink saw %zu ledger entries, exchange made %" PRIu64, s->ledger.n,
			 shmex_exchange_ledger_count(s->ex));
	uint64_t last_seq = 0;
	for (size_t i = 0; i < s->ledger.n; i++) {
		if (e[i].user > N_USERS || e[i].asset < 1 || e[i].asset > N_ASSETS)
			sim_fail(s, "ledger entry %zu: bad user or asset", i);
		if (e[i].seq < last_seq)
			sim_fail(s, "ledger entry %zu: sequence goes back", i);
		last_seq = e[i].seq;
		struct shmex_balance *b = &fold[e[i].user][e[i].asset];
		b->available += e[i].d_available;
		b->locked += e[i].d_locked;
		if (b->available != e[i].available || b->locked != e[i].locked || b->available < 0 ||
		    b->locked < 0)
			sim_fail(s, "ledger entry %zu: replay gives %" PRId64 "/%" PRId64
				    ", entry says %" PRId64 "/%" PRId64,
				 i, b->available, b->locked, e[i].available, e[i].locked);
		if (e[i].cause == SHMEX_LC_DEPOSIT || e[i].cause == SHMEX_LC_WITHDRAWAL)
			net[e[i].asset] += e[i].d_available;
		/* A lock or release moves between available and locked only. */
		if ((e[i].cause == SHMEX_LC_ORDER_LOCK || e[i].cause == SHMEX_LC_RELEASE) &&
		    e[i].d_available + e[i].d_locked != 0)
			sim_fail(s, "ledger entry %zu: lock/release changes the total", i);
		if (e[i].user == SHMEX_FEE_ACCOUNT && e[i].cause != SHMEX_LC_FEE)
			sim_fail(s, "ledger entry %zu: fee account moved by cause %u", i, e[i].cause);
	}
	for (uint32_t u = 0; u <= N_USERS; u++)
		for (uint32_t a = 1; a <= N_ASSETS; a++) {
			struct shmex_balance b;
			assert_int_equal(shmex_exchange_balance(s->ex, u, a, &b), 0);
			if (b.available != fold[u][a].available || b.locked != fold[u][a].locked)
				sim_fail(s, "user %u asset %u: balance %" PRId64 "/%" PRId64
					    " but the ledger replays to %" PRId64 "/%" PRId64,
					 u, a, b.available, b.locked, fold[u][a].available,
					 fold[u][a].locked);
		}
	for (uint32_t a = 1; a <= N_ASSETS; a++)
		if (net[a] != s->supply[a])
			sim_fail(s, "asset %u: ledger deposits - withdrawals %" PRId64 " != %" PRId64, a,
				 net[a], s->supply[a]);

	/* Each trade conserves each asset: its entries (same trade id, all
	 * contiguous) sum to zero per asset. */
	for (size_t i = 0; i < s->ledger.n;) {
		if (e[i].trade_id == 0) {
			i++;
			continue;
		}
		int64_t sum[N_ASSETS + 1] = {0};
		size_t j = i;
		for (; j < s->ledger.n && e[j].trade_id == e[i].trade_id; j++)
			sum[e[j].asset] += e[j].d_available + e[j].d_locked;
		for (uint32_t a = 1; a <= N_ASSETS; a++)
			if (sum[a] != 0)
				sim_fail(s, "trade %" PRIu64 " creates %" PRId64 " of asset %u",
					 e[i].trade_id, sum[a], a);
		i = j;
	}
}

static void verify_reports(struct sim *s)
{
	const struct shmex_order_report *r = s->reports.v;
	uint64_t last_seq = 0, checked = 0;
	for (size_t i = 0; i < s->reports.n; i++) {
		if (r[i].seq < last_seq)
			sim_fail(s, "report %zu: sequence goes back", i);
		last_seq = r[i].seq;
		if (r[i].what < 16)
			s->counts[r[i].what]++;
	}
	/* For every order still on record: the sum of its fills in the full
	 * report stream equals its filled quantity, its last report has its
	 * final status. One pass with a map from order id to the sum. */
	uint64_t max_id = 0;
	for (size_t i = 0; i < s->reports.n; i++)
		if (r[i].order_id > max_id)
			max_id = r[i].order_id;
	int64_t *fills = calloc(max_id + 1, sizeof *fills);
	int64_t *paid = calloc(max_id + 1, sizeof *paid);
	uint8_t *last_status = calloc(max_id + 1, 1);
	shmex_i128 *w = calloc(max_id + 1, sizeof *w);
	uint32_t *run = calloc(max_id + 1, sizeof *run); /* taker trades this execution */
	assert_non_null(run);
	assert_non_null(fills);
	assert_non_null(paid);
	assert_non_null(last_status);
	assert_non_null(w);
	for (size_t i = 0; i < s->reports.n; i++) {
		const struct shmex_order_report *x = &r[i];
		if (x->what == SHMEX_EV_TRADE) {
			const struct symdef *d = &symdefs[x->symbol - 1];
			int32_t rate = x->liquidity == SHMEX_LIQ_TAKER ? d->taker : d->maker;
			fills[x->order_id] += x->last_qty;
			paid[x->order_id] += x->quote_amount;
			w[x->order_id] += (shmex_i128)x->price * x->last_qty *
					  (1000000 + (x->side == SHMEX_BUY ? rate : -rate));
			/* An execution (entry, re-entry after an amend, trigger)
			 * makes at most max_matches matches. */
			uint32_t most = d->max_matches ? d->max_matches : SHMEX_MAX_MATCHES_DEFAULT;
			if (x->liquidity == SHMEX_LIQ_TAKER && ++run[x->order_id] > most)
				sim_fail(s, "order %" PRIu64 ": more than %u trades in one execution",
					 x->order_id, most);
		} else if (x->what == SHMEX_EV_ACCEPTED || x->what == SHMEX_EV_AMENDED ||
			   x->what == SHMEX_EV_TRIGGERED) {
			run[x->order_id] = 0;
		}
		if (x->what == SHMEX_EV_KILLED && x->reason == SHMEX_R_MATCH_LIMIT)
			s->match_limited++;
		last_status[x->order_id] = x->status;
	}
	for (uint64_t id = 1; id <= max_id; id++) {
		struct shmex_order_state o;
		if (shmex_exchange_order(s->ex, id, &o) != 0)
			continue;
		if (o.filled != fills[id] || o.status != last_status[id])
			sim_fail(s, "order %" PRIu64 ": filled %" PRId64 " status %u, reports say %" PRId64
				    " status %u",
				 id, o.filled, o.status, fills[id], last_status[id]);
		if (o.filled + o.remaining + o.cancelled != o.qty)
			sim_fail(s, "order %" PRIu64 ": quantities do not add up", id);
		if (!o.live && o.parked)
			sim_fail(s, "order %" PRIu64 ": ended but still parked", id);
		/* The money model, computed here without the exchange's code:
		 * value = price * qty * tick * lot / 10^decimals quote minor units;
		 * a buy order pays ceil(sum value * (1 + its fee)), a sell order
		 * receives floor(sum value * (1 - its fee)), over all its fills. */
		if (o.symbol < 1 || o.symbol > N_SYMBOLS) { /* a garbage order, rejected */
			if (o.status != SHMEX_OS_REJECTED || o.filled != 0)
				sim_fail(s, "order %" PRIu64 " on unknown symbol %u", id, o.symbol);
			checked++;
			continue;
		}
		const struct symdef *d = &symdefs[o.symbol - 1];
		shmex_i128 den = 1000000, num = w[id] * d->tick * d->lot, want;
		for (int i = 0; i < 8; i++) /* BTC and ETH both have 8 decimals */
			den *= 10;
		want = num / den;
		if (o.side == SHMEX_BUY && want * den != num)
			want++;
		if (o.quote_settled != (int64_t)want || paid[id] != o.quote_settled)
			sim_fail(s, "order %" PRIu64 " (%s): settled %" PRId64 ", reports sum to %" PRId64
				    ", the model says %" PRId64,
				 id, o.side == SHMEX_BUY ? "buy" : "sell", o.quote_settled, paid[id],
				 (int64_t)want);
		checked++;
	}
	free(run);
	free(w);
	free(paid);
	free(fills);
	free(last_status);
	if (checked == 0)
		sim_fail(s, "no order checked");
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return dflt;
	return strtoull(v, NULL, 0);
}

static void test_exchange_sim(void **state)
{
	(void)state;
	static struct sim sim;
	struct sim *s = &sim;
	uint64_t commands = env_u64("SHMEX_EXSIM_COMMANDS", 100000);
	memset(s, 0, sizeof *s);
	s->seed = env_u64("SHMEX_EXSIM_SEED", UINT64_C(0x5eed0e8c4a11));
	rng_state = s->seed;
	sim_setup(s);

	/* Everyone starts with some of everything. */
	for (uint32_t u = 1; u <= N_USERS; u++)
		for (uint32_t a = 1; a <= N_ASSETS; a++) {
			int64_t amount = deposit_amount(a) * 4;
			assert_int_equal(shmex_exchange_deposit(s->ex, s->user[u], a, amount, 0, NULL), 0);
			s->supply[a] += amount;
		}
	check_all(s);

	for (s->cmd = 0; s->cmd < commands; s->cmd++) {
		unsigned c = (unsigned)rnd_in(0, 99);
		if (c < 4) {
			cmd_deposit(s);
		} else if (c < 8) {
			cmd_withdraw(s);
		} else if (c < 70) {
			cmd_order(s);
		} else if (c < 80) {
			cmd_cancel(s);
		} else if (c < 91) {
			cmd_amend(s);
		} else if (c < 92) {
			cmd_mass_cancel(s);
		} else if (c < 99) {
			cmd_advance(s);
		} else {
			cmd_admin(s);
		}
		walk(s);
		check_all(s);
		if (s->cmd % 8 == 0)
			check_open_orders(s);
	}
	if (getenv("SHMEX_EXSIM_VERBOSE"))
		for (int k = 0; k < N_SYMBOLS; k++)
			printf("  %-9s %u live orders at the end\n", symdefs[k].code,
			       shmex_book_order_count(shmex_exchange_book(s->ex, s->sym[k])));
	/* Open everything, let every GTD expire, then cancel the rest. */
	for (int k = 0; k < N_SYMBOLS; k++)
		assert_int_equal(shmex_exchange_set_status(s->ex, s->sym[k], SHMEX_SYMBOL_OPEN), 0);
	shmex_exchange_advance(s->ex, shmex_exchange_now(s->ex) + INT64_C(10000000000));
	check_all(s);
	for (uint32_t u = 1; u <= N_USERS; u++)
		assert_int_equal(shmex_exchange_mass_cancel(s->ex, s->user[u], SHMEX_ALL_SYMBOLS, NULL), 0);
	check_all(s);
	for (uint32_t u = 1; u <= N_USERS; u++)
		for (uint32_t a = 1; a <= N_ASSETS; a++) {
			struct shmex_balance b;
			assert_int_equal(shmex_exchange_balance(s->ex, s->user[u], a, &b), 0);
			if (b.locked != 0)
				sim_fail(s, "user %u asset %u: %" PRId64 " still locked with no order", u, a,
					 b.locked);
		}
	verify_ledger(s);
	verify_reports(s);

	if (getenv("SHMEX_EXSIM_VERBOSE")) {
		static const char *const what[] = {"?", "accepted", "trade", "rested", "cancelled",
						   "expired", "killed", "rejected", "triggered",
						   "reduced", "amended", "parked"};
		printf("seed 0x%" PRIx64 ", %" PRIu64 " commands, %zu ledger entries, %zu reports,"
		       " last seq %" PRIu64 "\n",
		       s->seed, commands, s->ledger.n, s->reports.n, shmex_exchange_seq(s->ex));
		for (int i = 1; i < 12; i++)
			printf("  %-10s %lu\n", what[i], s->counts[i]);
		printf("  market sells stopped at max_notional: %lu\n", s->capped);
		printf("  orders killed at max_matches: %lu\n", s->match_limited);
		for (int i = 0; i < 32; i++)
			if (s->rejects[i])
				printf("  reject reason %2d: %lu\n", i, s->rejects[i]);
		for (uint32_t a = 1; a <= N_ASSETS; a++) {
			struct shmex_balance b;
			shmex_exchange_balance(s->ex, SHMEX_FEE_ACCOUNT, a, &b);
			printf("  fee account asset %u: %" PRId64 "\n", a, b.available);
		}
	}
	free(s->ledger.v);
	free(s->reports.v);
	shmex_exchange_destroy(s->ex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchange_sim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
