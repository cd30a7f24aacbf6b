/*
 * Exchange core, the parts that let one engine run several exchanges
 * (include/shmex/exchange.h): a sequence counter shared between them
 * (cfg.shared_seq), disjoint order and trade id ranges (cfg.id_base),
 * transfers of funds in and out, and what an order or an amend needs
 * (shmex_exchange_entry_need(), shmex_exchange_amend_need()).
 *
 * Assets: USD (2 decimals), BTC (8), ETH (8). The shared-counter and id
 * tests run one deterministic script twice (shared and private counter, or
 * two id bases) and compare the two runs' ledgers and reports entry by
 * entry: the shared run must be the private one with its numbers relabelled
 * (each exchange's k-th number is the k-th it took from the counter), the
 * based run the plain one with every id shifted. The need tests submit a
 * few thousand random orders, each with exactly need - 1 and then need
 * available.
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

enum { USD = 1, BTC = 2, ETH = 3 };

#define LEDGER_CAP (1u << 15)
#define REPORT_CAP (1u << 15)

/* ---- random (splitmix64, fixed seeds) ------------------------------------ */

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

/* ---- set-up helpers -------------------------------------------------------- */

static struct shmex_exchange_config ex_config(void)
{
	struct shmex_exchange_config c;
	memset(&c, 0, sizeof c);
	c.max_assets = 4;
	c.max_symbols = 6;
	c.max_users = 8;
	c.max_orders = 4096;
	c.book_orders = 1024;
	c.ledger_capacity = LEDGER_CAP;
	c.report_capacity = REPORT_CAP;
	c.start_time = 1000;
	return c;
}

static struct shmex_exchange *ex_make(const struct shmex_exchange_config *c, uint32_t users)
{
	static const struct shmex_asset_params a[] = {
		{.code = "USD", .decimals = 2}, {.code = "BTC", .decimals = 8}, {.code = "ETH", .decimals = 8}};
	struct shmex_exchange *ex = NULL;
	uint32_t id;
	assert_int_equal(shmex_exchange_create(c, &ex), 0);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(shmex_exchange_add_asset(ex, &a[i], &id), 0);
		assert_int_equal(id, i + 1);
	}
	for (uint32_t i = 1; i <= users; i++) {
		assert_int_equal(shmex_exchange_add_user(ex, NULL, &id), 0);
		assert_int_equal(id, i);
	}
	return ex;
}

static struct shmex_symbol_params sym_params(const char *code, uint32_t base, uint32_t quote,
					     int64_t tick, int64_t lot, int32_t maker, int32_t taker)
{
	struct shmex_symbol_params p;
	memset(&p, 0, sizeof p);
	snprintf(p.code, sizeof p.code, "%s", code);
	p.base = base;
	p.quote = quote;
	p.tick_size = tick;
	p.lot_size = lot;
	p.maker_fee_ppm = maker;
	p.taker_fee_ppm = taker;
	return p;
}

static uint32_t add_symbol(struct shmex_exchange *ex, const struct shmex_symbol_params *p)
{
	uint32_t id;
	assert_int_equal(shmex_exchange_add_symbol(ex, p, &id), 0);
	return id;
}

static void check_ok(const struct shmex_exchange *ex)
{
	char msg[256];
	int rc = shmex_exchange_check(ex, msg, sizeof msg);
	if (rc != 0)
		print_error("check: %s\n", msg);
	assert_int_equal(rc, 0);
}

static struct shmex_balance bal(const struct shmex_exchange *ex, uint32_t user, uint32_t asset)
{
	struct shmex_balance b;
	assert_int_equal(shmex_exchange_balance(ex, user, asset, &b), 0);
	return b;
}

static int64_t supply_of(const struct shmex_exchange *ex, uint32_t asset)
{
	int64_t s;
	assert_int_equal(shmex_exchange_supply(ex, asset, &s), 0);
	return s;
}

static struct shmex_ledger_entry ledger_at(const struct shmex_exchange *ex, uint64_t i)
{
	struct shmex_ledger_entry e;
	assert_int_equal(shmex_exchange_ledger_read(ex, i, &e), 0);
	return e;
}

static struct shmex_order_report report_at(const struct shmex_exchange *ex, uint64_t i)
{
	struct shmex_order_report r;
	assert_int_equal(shmex_exchange_report_read(ex, i, &r), 0);
	return r;
}

static struct shmex_order_request req(uint64_t clid, uint32_t user, uint32_t sym, int side,
				      int type, int tif, int64_t price, int64_t qty)
{
	struct shmex_order_request r;
	memset(&r, 0, sizeof r);
	r.client_id = clid;
	r.user = user;
	r.symbol = sym;
	r.side = (uint8_t)side;
	r.type = (uint8_t)type;
	r.tif = (uint8_t)tif;
	r.price = price;
	r.qty = qty;
	return r;
}

/* Brings @user's available @asset to exactly @amount. */
static void set_available(struct shmex_exchange *ex, uint32_t user, uint32_t asset, int64_t amount)
{
	int64_t have = bal(ex, user, asset).available;
	if (have > amount)
		assert_int_equal(shmex_exchange_withdraw(ex, user, asset, have - amount, 0, NULL), 0);
	else if (have < amount)
		assert_int_equal(shmex_exchange_deposit(ex, user, asset, amount - have, 0, NULL), 0);
	assert_true(bal(ex, user, asset).available == amount);
}

/* ==== 1. the shared sequence counter ======================================== */

/* Without a shared counter nothing changed: numbers start at 1 and each
 * event takes the next one, RESTED included (it makes no record). */
static void test_private_seq_counts_from_one(void **state)
{
	(void)state;
	struct shmex_exchange_config c = ex_config();
	struct shmex_exchange *ex = ex_make(&c, 2); /* 3 assets, 2 users: 1..5 */
	assert_int_equal(shmex_exchange_seq(ex), 5);
	struct shmex_symbol_params p = sym_params("BTC/USD", BTC, USD, 100, 1000000, 0, 0);
	add_symbol(ex, &p);
	assert_int_equal(shmex_exchange_seq(ex), 6);
	uint64_t seq = 0;
	assert_int_equal(shmex_exchange_deposit(ex, 1, BTC, 100000000, 0, &seq), 0);
	assert_int_equal(seq, 7);
	assert_int_equal(shmex_exchange_deposit(ex, 2, USD, 10000000, 0, &seq), 0);
	assert_int_equal(seq, 8);
	assert_int_equal(shmex_exchange_transfer_in(ex, 2, USD, 5, 1, &seq), 0);
	assert_int_equal(seq, 9);

	/* A resting sell: ACCEPTED 10 (the lock), RESTED 11. */
	struct shmex_order_ack ack;
	struct shmex_order_request r = req(1, 1, 1, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 30000, 10);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	assert_int_equal(ack.seq, 10);
	assert_int_equal(shmex_exchange_seq(ex), 11);
	struct shmex_ledger_entry e = ledger_at(ex, shmex_exchange_ledger_count(ex) - 1);
	assert_int_equal(e.cause, SHMEX_LC_ORDER_LOCK);
	assert_int_equal(e.seq, 10);
	/* A buy that fills it in part: ACCEPTED 12, TRADE 13, nothing rests. */
	r = req(2, 2, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_IOC, 30000, 4);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	assert_int_equal(ack.seq, 12);
	assert_int_equal(shmex_exchange_seq(ex), 13);
	e = ledger_at(ex, shmex_exchange_ledger_count(ex) - 1);
	assert_int_equal(e.seq, 13);
	/* A rejected order takes one number; a refused cancel none. */
	r = req(3, 2, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 0, 4);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), SHMEX_E_BAD_PRICE);
	assert_int_equal(ack.seq, 14);
	assert_int_equal(shmex_exchange_cancel(ex, 2, 999, &ack), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(ack.seq, 0);
	assert_int_equal(shmex_exchange_seq(ex), 14);
	/* The cancel of the rest of the sell: CANCELLED 15. */
	assert_int_equal(shmex_exchange_cancel(ex, 1, 1, &ack), 0);
	assert_int_equal(ack.seq, 15);
	assert_int_equal(shmex_exchange_seq(ex), 15);
	check_ok(ex);
	shmex_exchange_destroy(ex);
}

/* Two exchanges driven by one script; a run with a shared counter records
 * which numbers each exchange took (each call's range of the counter). */
#define PAIR_TAKEN 8192
#define PAIR_ACKS 1024

struct pair {
	struct shmex_exchange *ex[2];
	int shared;
	uint64_t counter;
	uint64_t taken[2][PAIR_TAKEN]; /* numbers exchange k took, increasing */
	uint32_t n_taken[2];
	uint64_t ack_seq[2][PAIR_ACKS]; /* every ack and transfer seq, in order */
	uint32_t n_acks[2];
	uint64_t clid;
};

static uint64_t pair_now(const struct pair *p, int k)
{
	return p->shared ? p->counter : shmex_exchange_seq(p->ex[k]);
}

/* Ends a call on exchange k that began with the counter at @before: every
 * number since was taken by k, and k's last number is the counter's. */
static void pair_end(struct pair *p, int k, uint64_t before)
{
	const uint64_t after = pair_now(p, k);
	assert_true(after >= before);
	for (uint64_t n = before + 1; n <= after; n++) {
		assert_true(p->n_taken[k] < PAIR_TAKEN);
		p->taken[k][p->n_taken[k]++] = n;
	}
	if (after > before)
		assert_int_equal(shmex_exchange_seq(p->ex[k]), after);
	/* The other exchange took nothing meanwhile. */
	const int o = 1 - k;
	if (p->ex[o] != NULL)
			assert_int_equal(shmex_exchange_seq(p->ex[o]),
				 p->n_taken[o] ? p->taken[o][p->n_taken[o] - 1] : 0);
}

static void pair_ack(struct pair *p, int k, uint64_t seq)
{
	assert_true(p->n_acks[k] < PAIR_ACKS);
	p->ack_seq[k][p->n_acks[k]++] = seq;
}

/* A command's ack: its seq is the first number the call took (0 and none
 * taken for a cancel or amend refused before the book), and the first
 * report it made, if any, is the order's, with that seq. */
static void pair_check_ack(struct pair *p, int k, uint64_t before, uint32_t taken0,
			   uint64_t reports0, const struct shmex_order_ack *ack)
{
	pair_end(p, k, before);
	pair_ack(p, k, ack->seq);
	const struct shmex_exchange *ex = p->ex[k];
	if (ack->seq == 0) {
		assert_int_equal(p->n_taken[k], taken0);
		return;
	}
	assert_true(p->n_taken[k] > taken0);
	assert_int_equal(ack->seq, p->taken[k][taken0]);
	if (shmex_exchange_report_count(ex) == reports0) {
		/* One event without a report: a reject that keeps no record
		 * (unknown symbol), or an amend the book refused (post-only). */
		assert_true(ack->order_id == 0 || ack->reason == SHMEX_R_POST_ONLY);
		assert_int_equal(p->n_taken[k], taken0 + 1);
		return;
	}
	struct shmex_order_report r = report_at(ex, reports0);
	assert_int_equal(r.seq, ack->seq);
	assert_int_equal(r.order_id, ack->order_id);
	/* The order's history has that event (the first one for a new order). */
	struct shmex_order_report h[64];
	uint32_t n = shmex_exchange_order_history(ex, ack->order_id, h, 64);
	assert_true(n > 0 && n < 64);
	int found = 0;
	for (uint32_t i = 0; i < n; i++)
		found |= h[i].seq == ack->seq && h[i].what == r.what;
	assert_true(found);
}

static int pair_submit(struct pair *p, int k, const struct shmex_order_request *r,
		       struct shmex_order_ack *ack)
{
	const uint64_t before = pair_now(p, k), reports0 = shmex_exchange_report_count(p->ex[k]);
	const uint32_t taken0 = p->n_taken[k];
	int rc = shmex_exchange_submit(p->ex[k], r, ack);
	pair_check_ack(p, k, before, taken0, reports0, ack);
	assert_true(ack->seq != 0); /* a new order always makes an event */
	if (ack->order_id != 0) {
		struct shmex_order_report h[64];
		assert_true(shmex_exchange_order_history(p->ex[k], ack->order_id, h, 64) > 0);
		assert_int_equal(h[0].seq, ack->seq);
		assert_true(h[0].what == SHMEX_EV_ACCEPTED || h[0].what == SHMEX_EV_REJECTED);
	}
	return rc;
}

static void pair_cancel(struct pair *p, int k, uint32_t user, uint64_t id)
{
	struct shmex_order_ack ack;
	const uint64_t before = pair_now(p, k), reports0 = shmex_exchange_report_count(p->ex[k]);
	const uint32_t taken0 = p->n_taken[k];
	int rc = shmex_exchange_cancel(p->ex[k], user, id, &ack);
	pair_check_ack(p, k, before, taken0, reports0, &ack);
	assert_true((rc == 0) == (ack.seq != 0));
}

static void pair_amend(struct pair *p, int k, uint32_t user, uint64_t id, int64_t price,
		       int64_t qty)
{
	struct shmex_order_ack ack;
	const uint64_t before = pair_now(p, k), reports0 = shmex_exchange_report_count(p->ex[k]);
	const uint32_t taken0 = p->n_taken[k];
	(void)shmex_exchange_amend(p->ex[k], user, id, price, qty, &ack);
	pair_check_ack(p, k, before, taken0, reports0, &ack);
}

/* A call without an ack: deposit, withdraw, transfer, mass cancel, advance. */
static void pair_funds(struct pair *p, int k, int what, uint32_t user, uint32_t asset,
		       int64_t amount)
{
	const uint64_t before = pair_now(p, k);
	const uint32_t taken0 = p->n_taken[k];
	uint64_t seq = 0;
	int rc;
	switch (what) {
	case 0: rc = shmex_exchange_deposit(p->ex[k], user, asset, amount, 7, &seq); break;
	case 1: rc = shmex_exchange_withdraw(p->ex[k], user, asset, amount, 8, &seq); break;
	case 2: rc = shmex_exchange_transfer_in(p->ex[k], user, asset, amount, 1u - (uint32_t)k, &seq); break;
	default: rc = shmex_exchange_transfer_out(p->ex[k], user, asset, amount, 1u - (uint32_t)k, &seq); break;
	}
	pair_end(p, k, before);
	if (rc == 0) {
		assert_int_equal(p->n_taken[k], taken0 + 1);
		assert_int_equal(seq, p->taken[k][taken0]);
	} else {
		assert_int_equal(p->n_taken[k], taken0); /* refused: no event, no number */
	}
	pair_ack(p, k, rc == 0 ? seq : 0);
}

static void pair_setup(struct pair *p, int k)
{
	struct shmex_exchange_config c = ex_config();
	c.shared_seq = p->shared ? &p->counter : NULL;
	c.id_base = k == 0 ? 0 : UINT64_C(1) << 48;
	/* Creation takes no number, the registries' events do (3 assets,
	 * 3 users, 1 symbol). */
	const uint64_t before = p->shared ? p->counter : 0;
	p->ex[k] = ex_make(&c, 3);
	struct shmex_symbol_params sp = sym_params("BTC/USD", BTC, USD, 100, 1000000, -100, 500);
	add_symbol(p->ex[k], &sp);
	pair_end(p, k, before);
	assert_int_equal(p->n_taken[k], 7);
}

static uint64_t first_live(const struct shmex_exchange *ex, uint32_t user)
{
	struct shmex_order_state s[4];
	int n = shmex_exchange_open_orders(ex, user, SHMEX_ALL_SYMBOLS, 0, s, 4, NULL);
	assert_true(n >= 0);
	return n > 0 ? s[rnd() % (uint64_t)n].order_id : 0;
}

/* The script: deposits, transfers, orders that rest, trade, get rejected
 * (with and without a record), cancels, amends, expiries, in random order
 * on random exchanges (fixed seed: both runs do the same). */
static void pair_script(struct pair *p)
{
	rng_state = 0x5eed0001;
	memset(p->ex, 0, sizeof p->ex);
	pair_setup(p, 0);
	pair_setup(p, 1);
	for (int k = 0; k < 2; k++)
		for (uint32_t u = 1; u <= 3; u++) {
			pair_funds(p, k, 0, u, USD, 100000000); /* 1,000,000.00 USD */
			pair_funds(p, k, 0, u, BTC, 3000000000); /* 30 BTC */
		}
	for (int i = 0; i < 1200; i++) {
		const int k = (int)(rnd() % 2);
		const uint32_t user = (uint32_t)rnd_in(1, 3);
		const int op = (int)rnd_in(0, 99);
		struct shmex_order_ack ack;
		if (op < 45) {
			const int side = (int)(rnd() % 2);
			const int tif = chance(70) ? SHMEX_GTC : chance(50) ? SHMEX_IOC : SHMEX_GTD;
			struct shmex_order_request r =
				req(++p->clid, user, 1, side, SHMEX_LIMIT, tif, rnd_in(29990, 30010),
				    chance(5) ? 1000000 : rnd_in(1, 20)); /* 10000 BTC: no funds */
			if (tif == SHMEX_GTD)
				r.expire_at = shmex_exchange_now(p->ex[k]) + rnd_in(1, 50);
			if (tif == SHMEX_GTC && chance(30))
				r.flags = SHMEX_OF_POST_ONLY; /* its amends may cross: refused */
			(void)pair_submit(p, k, &r, &ack);
		} else if (op < 50) {
			const int unknown = chance(50);
			struct shmex_order_request r = req(++p->clid, user, unknown ? 9 : 1, SHMEX_SELL,
							   SHMEX_LIMIT, SHMEX_GTC, 30000, unknown ? 1 : 0);
			assert_true(pair_submit(p, k, &r, &ack) != 0);
		} else if (op < 62) {
			uint64_t id = chance(10) ? 12345 : first_live(p->ex[k], user);
			pair_cancel(p, k, user, id);
		} else if (op < 74) {
			uint64_t id = first_live(p->ex[k], user);
			pair_amend(p, k, user, id, rnd_in(29990, 30010), chance(10) ? 0 : rnd_in(1, 20));
		} else if (op < 90) {
			const uint32_t asset = chance(50) ? USD : BTC;
			const uint32_t who = chance(20) ? SHMEX_FEE_ACCOUNT : user;
			pair_funds(p, k, (int)rnd_in(0, 3), who, asset,
				   chance(10) ? 0 : rnd_in(1, 200000000));
		} else if (op < 95) {
			const uint64_t before = pair_now(p, k);
			uint32_t n = 0;
			assert_int_equal(shmex_exchange_mass_cancel(p->ex[k], user, 1, &n), 0);
			pair_end(p, k, before);
			pair_ack(p, k, n);
		} else {
			const uint64_t before = pair_now(p, k);
			uint32_t n = shmex_exchange_advance(p->ex[k], shmex_exchange_now(p->ex[k]) +
									   rnd_in(1, 30));
			pair_end(p, k, before);
			pair_ack(p, k, n);
		}
	}
	check_ok(p->ex[0]);
	check_ok(p->ex[1]);
}

static uint64_t relabel(const struct pair *p, int k, uint64_t private_seq)
{
	assert_true(private_seq >= 1 && private_seq <= p->n_taken[k]);
	return p->taken[k][private_seq - 1];
}

static void test_shared_seq_relabels_private(void **state)
{
	(void)state;
	struct pair *ref = calloc(1, sizeof *ref), *sh = calloc(1, sizeof *sh);
	assert_non_null(ref);
	assert_non_null(sh);
	sh->shared = 1;
	pair_script(ref);
	pair_script(sh);

	/* Every number of the counter went to exactly one exchange. */
	assert_int_equal(sh->counter, sh->n_taken[0] + sh->n_taken[1]);
	uint32_t i0 = 0, i1 = 0;
	for (uint64_t n = 1; n <= sh->counter; n++) {
		if (i0 < sh->n_taken[0] && sh->taken[0][i0] == n)
			i0++;
		else if (i1 < sh->n_taken[1] && sh->taken[1][i1] == n)
			i1++;
		else
			fail_msg("number %" PRIu64 " taken by neither exchange", n);
	}
	/* Both exchanges really interleaved. */
	assert_true(sh->taken[0][sh->n_taken[0] - 1] > sh->taken[1][0]);
	assert_true(sh->taken[1][sh->n_taken[1] - 1] > sh->taken[0][sh->n_taken[0] / 2]);

	for (int k = 0; k < 2; k++) {
		const struct shmex_exchange *a = ref->ex[k], *b = sh->ex[k];
		/* The private run numbers 1, 2, ... with the same events. */
		assert_int_equal(ref->n_taken[k], sh->n_taken[k]);
		assert_int_equal(shmex_exchange_seq(a), ref->n_taken[k]);
		for (uint32_t i = 0; i < ref->n_taken[k]; i++)
			assert_int_equal(ref->taken[k][i], i + 1);
		assert_int_equal(shmex_exchange_seq(b), sh->taken[k][sh->n_taken[k] - 1]);

		const uint64_t nl = shmex_exchange_ledger_count(a);
		assert_int_equal(shmex_exchange_ledger_count(b), nl);
		assert_true(nl > 1000 && nl <= LEDGER_CAP);
		uint64_t last = 0;
		for (uint64_t i = 0; i < nl; i++) {
			struct shmex_ledger_entry x = ledger_at(a, i), y = ledger_at(b, i);
			assert_true(y.seq >= last); /* increasing within the exchange */
			last = y.seq;
			assert_int_equal(y.seq, relabel(sh, k, x.seq));
			x.seq = y.seq;
			assert_memory_equal(&x, &y, sizeof x);
		}
		const uint64_t nr = shmex_exchange_report_count(a);
		assert_int_equal(shmex_exchange_report_count(b), nr);
		assert_true(nr > 300 && nr <= REPORT_CAP);
		last = 0;
		for (uint64_t i = 0; i < nr; i++) {
			struct shmex_order_report x = report_at(a, i), y = report_at(b, i);
			assert_true(y.seq >= last);
			last = y.seq;
			assert_int_equal(y.seq, relabel(sh, k, x.seq));
			x.seq = y.seq;
			assert_memory_equal(&x, &y, sizeof x);
		}
		assert_int_equal(ref->n_acks[k], sh->n_acks[k]);
		for (uint32_t i = 0; i < ref->n_acks[k]; i++) {
			/* Counts (mass cancel, advance) are not seqs, but equal. */
			uint64_t x = ref->ack_seq[k][i], y = sh->ack_seq[k][i];
			assert_true(x == y || (x != 0 && y == relabel(sh, k, x)));
		}
	}
	for (int k = 0; k < 2; k++) {
		shmex_exchange_destroy(ref->ex[k]);
		shmex_exchange_destroy(sh->ex[k]);
	}
	free(ref);
	free(sh);
}

/* The ack's seq is the first event of the command, also when the other
 * exchange took numbers between two commands (and the counter started
 * somewhere else than 0). */
static void test_shared_seq_ack_after_other_exchange(void **state)
{
	(void)state;
	uint64_t counter = 1000;
	struct shmex_exchange_config c = ex_config();
	c.shared_seq = &counter;
	struct shmex_exchange *a = ex_make(&c, 2), *b = ex_make(&c, 2);
	assert_int_equal(counter, 1010);
	assert_int_equal(shmex_exchange_seq(a), 1005);
	assert_int_equal(shmex_exchange_seq(b), 1010);
	struct shmex_symbol_params sp = sym_params("BTC/USD", BTC, USD, 100, 1000000, 0, 0);
	add_symbol(a, &sp);
	add_symbol(b, &sp);
	uint64_t seq;
	assert_int_equal(shmex_exchange_deposit(a, 1, BTC, 100000000, 0, &seq), 0);
	assert_int_equal(seq, 1013);
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 100000000, 0, &seq), 0);
	assert_int_equal(seq, 1014);
	assert_int_equal(shmex_exchange_transfer_in(a, 2, USD, 100000000, 1, &seq), 0);
	assert_int_equal(seq, 1015);

	struct shmex_order_ack ack;
	struct shmex_order_request r = req(1, 1, 1, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 30000, 10);
	assert_int_equal(shmex_exchange_submit(a, &r, &ack), 0); /* ACCEPTED 1016, RESTED 1017 */
	assert_int_equal(ack.seq, 1016);
	assert_int_equal(shmex_exchange_seq(a), 1017);
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 1, 0, &seq), 0);
	assert_int_equal(seq, 1018);
	r = req(2, 2, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 30000, 4);
	assert_int_equal(shmex_exchange_submit(a, &r, &ack), 0); /* ACCEPTED 1019, TRADE 1020 */
	assert_int_equal(ack.seq, 1019);
	assert_int_equal(shmex_exchange_seq(a), 1020);
	struct shmex_ledger_entry e = ledger_at(a, shmex_exchange_ledger_count(a) - 1);
	assert_int_equal(e.seq, 1020);
	/* A rejected order, new orders, amends and a cancel, each after b
	 * took a number: each ack names the first number its call took. */
	uint64_t acks[6], before;
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 1, 0, &seq), 0);
	assert_int_equal(seq, 1021);
	r = req(3, 2, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 30000, 1000000);
	assert_int_equal(shmex_exchange_submit(a, &r, &ack), SHMEX_E_NOFUNDS);
	assert_int_equal(ack.seq, 1022);
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 1, 0, &seq), 0);
	assert_int_equal(seq, 1023);
	r = req(4, 2, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 29000, 1);
	assert_int_equal(shmex_exchange_submit(a, &r, &ack), 0);
	assert_int_equal(ack.seq, 1024);
	acks[0] = ack.seq;
	const uint64_t bid = ack.order_id;
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 1, 0, &seq), 0);
	assert_int_equal(seq, counter);
	before = counter;
	assert_int_equal(shmex_exchange_amend(a, 2, bid, 29500, 2, &ack), 0); /* AMENDED */
	assert_int_equal(ack.seq, before + 1);
	acks[1] = ack.seq;
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 1, 0, &seq), 0);
	before = counter;
	assert_int_equal(shmex_exchange_amend(a, 2, bid, 29500, 1, &ack), 0); /* REDUCED */
	assert_int_equal(ack.seq, before + 1);
	acks[2] = ack.seq;
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 1, 0, &seq), 0);
	before = counter;
	r = req(5, 1, 1, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 29500, 3); /* trades 1, rests 2 */
	assert_int_equal(shmex_exchange_submit(a, &r, &ack), 0);
	assert_int_equal(ack.seq, before + 1);
	assert_int_equal(ack.status, SHMEX_OS_PARTIALLY_FILLED);
	acks[3] = ack.seq;
	const uint64_t ask = ack.order_id;
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 1, 0, &seq), 0);
	before = counter;
	assert_int_equal(shmex_exchange_amend(a, 1, ask, 29400, 2, &ack), 0); /* AMENDED */
	assert_int_equal(ack.seq, before + 1);
	acks[4] = ack.seq;
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 1, 0, &seq), 0);
	before = counter;
	assert_int_equal(shmex_exchange_cancel(a, 1, ask, &ack), 0);
	assert_int_equal(ack.seq, before + 1);
	assert_int_equal(shmex_exchange_seq(a), before + 1);
	acks[5] = ack.seq;
	struct shmex_order_report h[8];
	uint32_t n = shmex_exchange_order_history(a, bid, h, 8);
	assert_int_equal(n, 4); /* ACCEPTED, AMENDED, REDUCED, TRADE (filled) */
	assert_int_equal(h[0].seq, acks[0]);
	assert_int_equal(h[1].seq, acks[1]);
	assert_int_equal(h[2].seq, acks[2]);
	assert_true(h[3].seq > acks[3] && h[3].what == SHMEX_EV_TRADE);
	n = shmex_exchange_order_history(a, ask, h, 8);
	assert_int_equal(n, 4); /* ACCEPTED, TRADE, AMENDED, CANCELLED */
	assert_int_equal(h[0].seq, acks[3]);
	assert_int_equal(h[2].seq, acks[4]);
	assert_int_equal(h[3].seq, acks[5]);
	/* An amend the book refuses (a post-only bid moved across the ask) is
	 * one event: REJECTED, with no report and no balance moved. */
	r = req(6, 2, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 29000, 1);
	r.flags = SHMEX_OF_POST_ONLY;
	assert_int_equal(shmex_exchange_submit(a, &r, &ack), 0);
	const uint64_t post = ack.order_id;
	assert_int_equal(shmex_exchange_deposit(b, 2, USD, 1, 0, &seq), 0);
	before = counter;
	const uint64_t nr = shmex_exchange_report_count(a), nl = shmex_exchange_ledger_count(a);
	assert_int_equal(shmex_exchange_amend(a, 2, post, 30000, 1, &ack), SHMEX_E_WOULD_CROSS);
	assert_int_equal(ack.reason, SHMEX_R_POST_ONLY);
	assert_int_equal(ack.seq, before + 1);
	assert_int_equal(counter, before + 1);
	assert_int_equal(shmex_exchange_report_count(a), nr);
	assert_int_equal(shmex_exchange_ledger_count(a), nl);
	const uint64_t c0 = counter;
	/* Refused before the book: no event, no number, ack seq 0. */
	assert_int_equal(shmex_exchange_cancel(a, 2, bid, &ack), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(ack.seq, 0);
	assert_int_equal(shmex_exchange_amend(a, 1, ask, 29400, 1, &ack), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(ack.seq, 0);
	assert_int_equal(shmex_exchange_withdraw(a, 2, USD, INT64_MAX, 0, &seq), SHMEX_E_NOFUNDS);
	assert_int_equal(counter, c0);
	check_ok(a);
	check_ok(b);
	shmex_exchange_destroy(a);
	shmex_exchange_destroy(b);
}

/* ==== 2. id bases ==================================================== */

static void test_id_base_limit(void **state)
{
	(void)state;
	struct shmex_exchange_config c = ex_config();
	struct shmex_exchange *ex = NULL;
	c.id_base = (UINT64_C(1) << 62) + 1;
	assert_int_equal(shmex_exchange_create(&c, &ex), SHMEX_E_INVAL);
	c.id_base = UINT64_MAX;
	assert_int_equal(shmex_exchange_create(&c, &ex), SHMEX_E_INVAL);
	c.id_base = UINT64_C(1) << 62;
	assert_int_equal(shmex_exchange_create(&c, &ex), 0);
	shmex_exchange_destroy(ex);
}

/* One scenario on an exchange whose ids start after @base: returns it for
 * comparison. Checks ids and every lookup by id as it goes. */
static struct shmex_exchange *id_scenario(uint64_t base)
{
	struct shmex_exchange_config c = ex_config();
	c.id_base = base;
	struct shmex_exchange *ex = ex_make(&c, 3);
	struct shmex_symbol_params sp = sym_params("BTC/USD", BTC, USD, 100, 1000000, -100, 500);
	add_symbol(ex, &sp);
	for (uint32_t u = 1; u <= 3; u++) {
		assert_int_equal(shmex_exchange_deposit(ex, u, USD, 100000000, 0, NULL), 0);
		assert_int_equal(shmex_exchange_deposit(ex, u, BTC, 1000000000, 0, NULL), 0);
	}
	struct shmex_order_ack ack;
	struct shmex_order_request r = req(11, 1, 1, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 30000, 5);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	assert_true(ack.order_id == base + 1);
	r = req(12, 1, 1, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 30100, 5);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	assert_true(ack.order_id == base + 2);
	/* A rejected order with a record takes the next id, one without none. */
	r = req(13, 2, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 30000, 100000);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), SHMEX_E_NOFUNDS);
	assert_true(ack.order_id == base + 3);
	r = req(14, 2, 7, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 30000, 1);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), SHMEX_E_UNKNOWN_SYMBOL);
	assert_true(ack.order_id == 0);
	/* A buy that takes the first sell and part of the second: trades
	 * base + 1 and base + 2. */
	r = req(15, 2, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 30100, 7);
	const uint64_t r0 = shmex_exchange_report_count(ex), l0 = shmex_exchange_ledger_count(ex);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	assert_true(ack.order_id == base + 4);
	assert_int_equal(ack.status, SHMEX_OS_FILLED);
	uint64_t trade = base; /* trade base + i has maker base + i */
	for (uint64_t i = r0; i < shmex_exchange_report_count(ex); i++) {
		struct shmex_order_report x = report_at(ex, i);
		if (x.what != SHMEX_EV_TRADE)
			continue;
		if (x.order_id == base + 4) {
			assert_true(x.trade_id == ++trade);
			assert_true(x.counter_id == trade);
		} else {
			assert_true(x.order_id == trade && x.trade_id == trade);
			assert_true(x.counter_id == base + 4);
		}
	}
	assert_true(trade == base + 2);
	for (uint64_t i = l0; i < shmex_exchange_ledger_count(ex); i++) {
		struct shmex_ledger_entry e = ledger_at(ex, i);
		if (e.cause == SHMEX_LC_TRADE || e.cause == SHMEX_LC_FEE)
			assert_true(e.trade_id == base + 1 || e.trade_id == base + 2);
		if (e.cause != SHMEX_LC_FEE)
			assert_true(e.ref > base && e.ref <= base + 4);
	}
	/* Lookups by those ids. */
	struct shmex_order_state st;
	assert_int_equal(shmex_exchange_order(ex, base + 2, &st), 0);
	assert_int_equal(st.filled, 2);
	assert_int_equal(st.remaining, 3);
	assert_int_equal(shmex_exchange_order(ex, base + 5, &st), SHMEX_E_UNKNOWN_ORDER);
	uint64_t id = 0;
	assert_int_equal(shmex_exchange_find_client_id(ex, 1, 12, &id), 0);
	assert_true(id == base + 2);
	assert_int_equal(shmex_exchange_find_client_id(ex, 2, 15, &id), 0);
	assert_true(id == base + 4);
	r = req(16, 3, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 29000, 3);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	assert_true(ack.order_id == base + 5);
	r = req(17, 3, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 28000, 3);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	assert_true(ack.order_id == base + 6);
	struct shmex_order_state list[4];
	uint32_t total = 0;
	assert_int_equal(shmex_exchange_open_orders(ex, 3, 1, 0, list, 4, &total), 2);
	assert_true(list[0].order_id == base + 5 && list[1].order_id == base + 6);
	assert_int_equal(shmex_exchange_open_orders(ex, 3, 1, base + 5, list, 4, &total), 1);
	assert_true(list[0].order_id == base + 6);
	assert_int_equal(total, 1);
	/* Amend and cancel by id; an id of another base is unknown here,
	 * though it names the same record slot. */
	const uint64_t other = base == 0 ? (UINT64_C(1) << 48) + 5 : 5;
	assert_int_equal(shmex_exchange_cancel(ex, 3, other, &ack), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_exchange_amend(ex, 3, other, 29000, 1, &ack), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_exchange_order(ex, other, &st), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_exchange_amend(ex, 3, base + 5, 29000, 2, &ack), 0);
	assert_true(ack.order_id == base + 5);
	assert_int_equal(shmex_exchange_amend(ex, 3, base + 6, 29900, 4, &ack), 0);
	assert_int_equal(shmex_exchange_cancel(ex, 3, base + 5, &ack), 0);
	assert_int_equal(ack.status, SHMEX_OS_CANCELLED);
	assert_int_equal(shmex_exchange_order(ex, base + 5, &st), 0);
	assert_int_equal(st.status, SHMEX_OS_CANCELLED);
	struct shmex_order_report h[8];
	assert_int_equal(shmex_exchange_order_history(ex, base + 5, h, 8), 3);
	assert_true(h[2].order_id == base + 5 && h[2].what == SHMEX_EV_CANCELLED);
	/* A seller hits the amended bid: trade base + 3. */
	r = req(18, 1, 1, SHMEX_SELL, SHMEX_LIMIT, SHMEX_IOC, 29900, 1);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	assert_true(ack.order_id == base + 7);
	struct shmex_order_report last = report_at(ex, shmex_exchange_report_count(ex) - 1);
	assert_true(last.trade_id == base + 3);
	uint32_t n = 0;
	assert_int_equal(shmex_exchange_mass_cancel(ex, 3, SHMEX_ALL_SYMBOLS, &n), 0);
	assert_int_equal(n, 1);
	check_ok(ex);
	return ex;
}

/* Two bases, the same scenario: every id shifted, nothing else changed. */
static void compare_shifted(const struct shmex_exchange *a, const struct shmex_exchange *b,
			    uint64_t base)
{
	const uint64_t nl = shmex_exchange_ledger_count(a);
	assert_int_equal(shmex_exchange_ledger_count(b), nl);
	for (uint64_t i = 0; i < nl; i++) {
		struct shmex_ledger_entry x = ledger_at(a, i), y = ledger_at(b, i);
		if (x.cause == SHMEX_LC_ORDER_LOCK || x.cause == SHMEX_LC_RELEASE ||
		    x.cause == SHMEX_LC_TRADE)
			x.ref += base;
		if (x.trade_id != 0)
			x.trade_id += base;
		assert_memory_equal(&x, &y, sizeof x);
	}
	const uint64_t nr = shmex_exchange_report_count(a);
	assert_int_equal(shmex_exchange_report_count(b), nr);
	for (uint64_t i = 0; i < nr; i++) {
		struct shmex_order_report x = report_at(a, i), y = report_at(b, i);
		x.order_id += base;
		if (x.trade_id != 0) {
			x.trade_id += base;
			x.counter_id += base;
		}
		assert_memory_equal(&x, &y, sizeof x);
		assert_true(y.order_id > base && y.order_id <= base + 7);
	}
}

static void test_id_base_disjoint_ranges(void **state)
{
	(void)state;
	struct shmex_exchange *a = id_scenario(0);
	struct shmex_exchange *b = id_scenario(UINT64_C(1) << 48);
	struct shmex_exchange *c = id_scenario(UINT64_C(1) << 62);
	compare_shifted(a, b, UINT64_C(1) << 48);
	compare_shifted(a, c, UINT64_C(1) << 62);
	shmex_exchange_destroy(a);
	shmex_exchange_destroy(b);
	shmex_exchange_destroy(c);
}

/* ==== 3. transfers ===================================================== */

static void expect_bal(const struct shmex_exchange *ex, uint32_t user, uint32_t asset,
		       int64_t avail, int64_t locked)
{
	struct shmex_balance b = bal(ex, user, asset);
	if (b.available != avail || b.locked != locked)
		print_error("user %u asset %u: %" PRId64 " / %" PRId64 ", want %" PRId64 " / %" PRId64
			    "\n", user, asset, b.available, b.locked, avail, locked);
	assert_true(b.available == avail && b.locked == locked);
}

static void expect_transfer_entry(const struct shmex_exchange *ex, uint64_t seq, uint32_t user,
				  uint32_t asset, int cause, int64_t d, int64_t after_avail,
				  int64_t after_locked, uint64_t peer)
{
	struct shmex_ledger_entry e = ledger_at(ex, shmex_exchange_ledger_count(ex) - 1);
	assert_int_equal(e.seq, seq);
	assert_int_equal(e.seq, shmex_exchange_seq(ex));
	assert_int_equal(e.user, user);
	assert_int_equal(e.asset, asset);
	assert_int_equal(e.cause, cause);
	assert_int_equal(e.ref, peer);
	assert_int_equal(e.trade_id, 0);
	assert_true(e.d_available == d && e.d_locked == 0);
	assert_true(e.available == after_avail && e.locked == after_locked);
}

static void test_transfer_moves_available_and_supply(void **state)
{
	(void)state;
	struct shmex_exchange_config c = ex_config();
	struct shmex_exchange *ex = ex_make(&c, 2);
	uint64_t seq = 0;
	assert_int_equal(shmex_exchange_transfer_in(ex, 1, USD, 250000, 3, &seq), 0);
	expect_transfer_entry(ex, seq, 1, USD, SHMEX_LC_TRANSFER_IN, 250000, 250000, 0, 3);
	expect_bal(ex, 1, USD, 250000, 0);
	assert_int_equal(supply_of(ex, USD), 250000);
	assert_int_equal(shmex_exchange_transfer_out(ex, 1, USD, 50001, 4, &seq), 0);
	expect_transfer_entry(ex, seq, 1, USD, SHMEX_LC_TRANSFER_OUT, -50001, 199999, 0, 4);
	expect_bal(ex, 1, USD, 199999, 0);
	assert_int_equal(supply_of(ex, USD), 199999);
	/* The fee account may send and receive (its fees move with it). */
	assert_int_equal(shmex_exchange_transfer_in(ex, SHMEX_FEE_ACCOUNT, BTC, 7, 0, &seq), 0);
	expect_transfer_entry(ex, seq, SHMEX_FEE_ACCOUNT, BTC, SHMEX_LC_TRANSFER_IN, 7, 7, 0, 0);
	assert_int_equal(shmex_exchange_transfer_out(ex, SHMEX_FEE_ACCOUNT, BTC, 7, 1, &seq), 0);
	expect_transfer_entry(ex, seq, SHMEX_FEE_ACCOUNT, BTC, SHMEX_LC_TRANSFER_OUT, -7, 0, 0, 1);
	assert_int_equal(supply_of(ex, BTC), 0);
	/* Deposits and transfers add up in the one supply; seq is optional. */
	assert_int_equal(shmex_exchange_deposit(ex, 2, USD, 1, 0, NULL), 0);
	assert_int_equal(shmex_exchange_transfer_in(ex, 2, USD, 10, 5, NULL), 0);
	assert_int_equal(supply_of(ex, USD), 200010);
	expect_bal(ex, 2, USD, 11, 0);
	assert_int_equal(shmex_exchange_transfer_out(ex, 2, USD, 11, 5, NULL), 0);
	expect_bal(ex, 2, USD, 0, 0);
	assert_int_equal(supply_of(ex, USD), 199999);
	check_ok(ex);
	shmex_exchange_destroy(ex);
}

/* Every refusal changes nothing: no balance, no supply, no ledger entry,
 * no number (here the counter is shared, to see that too). */
static void test_transfer_refusals(void **state)
{
	(void)state;
	uint64_t counter = 0;
	struct shmex_exchange_config c = ex_config();
	c.shared_seq = &counter;
	struct shmex_exchange *ex = ex_make(&c, 2);
	struct shmex_symbol_params sp = sym_params("BTC/USD", BTC, USD, 100, 1000000, 0, 0);
	add_symbol(ex, &sp);
	assert_int_equal(shmex_exchange_deposit(ex, 1, BTC, 5000000, 0, NULL), 0);
	struct shmex_order_ack ack;
	struct shmex_order_request r = req(1, 1, 1, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 30000, 3);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0); /* locks 3000000 */
	expect_bal(ex, 1, BTC, 2000000, 3000000);
	const uint64_t n0 = shmex_exchange_ledger_count(ex), c0 = counter;
	uint64_t seq = 99;
	/* Locked funds are not available to send. */
	assert_int_equal(shmex_exchange_transfer_out(ex, 1, BTC, 2000001, 1, &seq), SHMEX_E_NOFUNDS);
	assert_int_equal(shmex_exchange_transfer_out(ex, 2, BTC, 1, 1, &seq), SHMEX_E_NOFUNDS);
	assert_int_equal(shmex_exchange_transfer_out(ex, SHMEX_FEE_ACCOUNT, USD, 1, 1, &seq),
			 SHMEX_E_NOFUNDS);
	assert_int_equal(shmex_exchange_transfer_in(ex, 1, BTC, 0, 1, &seq), SHMEX_E_INVAL);
	assert_int_equal(shmex_exchange_transfer_in(ex, 1, BTC, -5, 1, &seq), SHMEX_E_INVAL);
	assert_int_equal(shmex_exchange_transfer_out(ex, 1, BTC, 0, 1, &seq), SHMEX_E_INVAL);
	assert_int_equal(shmex_exchange_transfer_out(ex, 1, BTC, INT64_MIN, 1, &seq), SHMEX_E_INVAL);
	assert_int_equal(shmex_exchange_transfer_in(ex, 3, BTC, 5, 1, &seq), SHMEX_E_UNKNOWN_USER);
	assert_int_equal(shmex_exchange_transfer_out(ex, 3, BTC, 5, 1, &seq), SHMEX_E_UNKNOWN_USER);
	assert_int_equal(shmex_exchange_transfer_in(ex, 1, 0, 5, 1, &seq), SHMEX_E_UNKNOWN_ASSET);
	assert_int_equal(shmex_exchange_transfer_in(ex, 1, 4, 5, 1, &seq), SHMEX_E_UNKNOWN_ASSET);
	assert_int_equal(shmex_exchange_transfer_out(ex, 1, 9, 5, 1, &seq), SHMEX_E_UNKNOWN_ASSET);
	/* The supply stays within INT64_MAX, summed over deposits and transfers. */
	assert_int_equal(shmex_exchange_transfer_in(ex, 2, BTC, INT64_MAX - 5000000, 1, &seq), 0);
	const uint64_t n1 = shmex_exchange_ledger_count(ex), c1 = counter;
	assert_int_equal(c1, c0 + 1);
	assert_int_equal(shmex_exchange_transfer_in(ex, 2, BTC, 1, 1, NULL), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_exchange_transfer_in(ex, SHMEX_FEE_ACCOUNT, BTC, 1, 1, NULL),
			 SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_exchange_transfer_in(ex, 1, BTC, INT64_MAX, 1, NULL), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_exchange_deposit(ex, 1, BTC, 1, 0, NULL), SHMEX_E_OVERFLOW);
	assert_int_equal(supply_of(ex, BTC), INT64_MAX);
	assert_int_equal(shmex_exchange_ledger_count(ex), n1);
	assert_int_equal(counter, c1);
	assert_int_equal(n1, n0 + 1);
	assert_int_equal(seq, c1); /* the one that passed; the refusals left it */
	expect_bal(ex, 1, BTC, 2000000, 3000000);
	expect_bal(ex, 2, BTC, INT64_MAX - 5000000, 0);
	/* Out and in again reach INT64_MAX exactly. */
	assert_int_equal(shmex_exchange_transfer_out(ex, 2, BTC, INT64_MAX - 5000000, 0, NULL), 0);
	assert_int_equal(supply_of(ex, BTC), 5000000);
	assert_int_equal(shmex_exchange_transfer_in(ex, 1, BTC, INT64_MAX - 5000000, 0, NULL), 0);
	expect_bal(ex, 1, BTC, INT64_MAX - 3000000, 3000000);
	check_ok(ex);
	shmex_exchange_destroy(ex);
}

/* Funds sent in trade like deposited ones; the fee account's earnings can be
 * sent away; check() passes throughout and the ledger folds to every balance. */
static void test_transfer_then_trade_and_fold(void **state)
{
	(void)state;
	struct shmex_exchange_config c = ex_config();
	struct shmex_exchange *ex = ex_make(&c, 2);
	struct shmex_symbol_params sp = sym_params("BTC/USD", BTC, USD, 100, 1000000, 1000, 2000);
	add_symbol(ex, &sp);
	assert_int_equal(shmex_exchange_transfer_in(ex, 1, BTC, 10000000, 1, NULL), 0);
	assert_int_equal(shmex_exchange_transfer_in(ex, 2, USD, 10000000, 1, NULL), 0);
	struct shmex_order_ack ack;
	struct shmex_order_request r = req(1, 1, 1, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 30000, 10);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	check_ok(ex);
	/* 4 lots of 0.01 BTC at 30000.00: 1200.00 USD; taker 0.2 % 2.40 USD,
	 * maker 0.1 % 1.20 USD. */
	r = req(2, 2, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_IOC, 30000, 4);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);
	check_ok(ex);
	expect_bal(ex, SHMEX_FEE_ACCOUNT, USD, 360, 0);
	expect_bal(ex, 1, USD, 119880, 0);
	expect_bal(ex, 2, USD, 10000000 - 120240, 0);
	expect_bal(ex, 2, BTC, 4000000, 0);
	assert_int_equal(shmex_exchange_transfer_out(ex, SHMEX_FEE_ACCOUNT, USD, 361, 1, NULL),
			 SHMEX_E_NOFUNDS);
	assert_int_equal(shmex_exchange_transfer_out(ex, SHMEX_FEE_ACCOUNT, USD, 360, 1, NULL), 0);
	/* The seller's other 6 lots are locked: none of its BTC can leave. */
	assert_int_equal(shmex_exchange_transfer_out(ex, 1, BTC, 1, 1, NULL), SHMEX_E_NOFUNDS);
	assert_int_equal(shmex_exchange_transfer_out(ex, 1, USD, 119880, 1, NULL), 0);
	assert_int_equal(shmex_exchange_transfer_out(ex, 2, BTC, 4000000, 1, NULL), 0);
	expect_bal(ex, 1, BTC, 0, 6000000);
	expect_bal(ex, 1, USD, 0, 0);
	assert_int_equal(supply_of(ex, USD), 10000000 - 360 - 119880);
	assert_int_equal(supply_of(ex, BTC), 6000000); /* the 6 lots still offered */
	check_ok(ex);
	/* Fold the ledger from zero. */
	struct shmex_balance fold[3][4];
	memset(fold, 0, sizeof fold);
	int transfers = 0;
	for (uint64_t i = 0; i < shmex_exchange_ledger_count(ex); i++) {
		struct shmex_ledger_entry e = ledger_at(ex, i);
		fold[e.user][e.asset].available += e.d_available;
		fold[e.user][e.asset].locked += e.d_locked;
		assert_true(fold[e.user][e.asset].available == e.available);
		assert_true(fold[e.user][e.asset].locked == e.locked);
		transfers += e.cause == SHMEX_LC_TRANSFER_IN || e.cause == SHMEX_LC_TRANSFER_OUT;
	}
	assert_int_equal(transfers, 5);
	for (uint32_t u = 0; u <= 2; u++)
		for (uint32_t a = 1; a <= 3; a++)
			expect_bal(ex, u, a, fold[u][a].available, fold[u][a].locked);
	shmex_exchange_destroy(ex);
}

static void test_transfer_cause_names(void **state)
{
	(void)state;
	assert_string_equal(shmex_ledger_cause_name(SHMEX_LC_TRANSFER_IN), "transfer in");
	assert_string_equal(shmex_ledger_cause_name(SHMEX_LC_TRANSFER_OUT), "transfer out");
	assert_string_equal(shmex_ledger_cause_name(SHMEX_LC_RELEASE), "release");
	assert_string_equal(shmex_ledger_cause_name(9), "?");
	assert_string_equal(shmex_ledger_cause_name(0), "?");
}

/* ==== 4. entry and amend needs ======================================== */

#define N_SYM 4

/* Random orders on four symbols: fine BTC/USD with a maker rebate, coarse
 * ETH/USD, ETH/BTC with satoshi lots (every value rounds), and a BTC/USD
 * with min/max quantity, a notional limit and a price band. Users 1-2 make
 * the markets, 3-5 send the orders under test. */
struct rig {
	struct shmex_exchange *ex;
	int64_t mid[N_SYM + 1], step[N_SYM + 1], qmax[N_SYM + 1];
	uint32_t base[N_SYM + 1], quote[N_SYM + 1];
	uint64_t clid;
	/* what ran */
	uint32_t accepted, no_funds, pre_funds, zero_need, rested;
	uint32_t kinds[8]; /* accepted by kind */
	uint32_t amends, amend_locked, amend_refused, huge;
};

enum { K_LIMIT, K_ICEBERG, K_BUDGET, K_PROTECTED, K_MARKET_SELL, K_STOP, K_POST, K_BAD };

static void rig_init(struct rig *g)
{
	memset(g, 0, sizeof *g);
	struct shmex_exchange_config c = ex_config();
	g->ex = ex_make(&c, 5);
	struct shmex_symbol_params p[N_SYM + 1];
	p[1] = sym_params("BTC/USD", BTC, USD, 1, 10000, -100, 500);
	p[2] = sym_params("ETH/USD", ETH, USD, 100, 1000000, 0, 1000);
	p[3] = sym_params("ETH/BTC", ETH, BTC, 1, 1, 200, 300);
	p[4] = sym_params("BTC/USD.R", BTC, USD, 100, 1000000, 250, 250);
	p[4].min_qty = 2;
	p[4].max_qty = 400;
	p[4].max_notional = 5000000; /* 50,000.00 USD: about 166 lots */
	p[4].ref_price = 30000;
	p[4].band_ppm = 1000; /* +-30 ticks of the last price */
	p[4].min_peak = 5;
	p[4].max_iceberg_parts = 10;
	const int64_t mid[] = {0, 3000000, 2000, 5000000, 30000};
	const int64_t step[] = {0, 100, 1, 1000, 2};
	const int64_t qmax[] = {0, 20000, 300, 100000000, 300};
	for (uint32_t s = 1; s <= N_SYM; s++) {
		assert_int_equal(add_symbol(g->ex, &p[s]), s);
		g->mid[s] = mid[s];
		g->step[s] = step[s];
		g->qmax[s] = qmax[s];
		g->base[s] = p[s].base;
		g->quote[s] = p[s].quote;
	}
	for (uint32_t u = 1; u <= 2; u++)
		for (uint32_t a = 1; a <= 3; a++)
			assert_int_equal(shmex_exchange_deposit(g->ex, u, a, INT64_C(1) << 56, 0, NULL), 0);
}

/* The market makers quote both sides of a symbol, a few levels deep. */
static void rig_quote(struct rig *g, uint32_t s)
{
	for (int i = 0; i < 3; i++) {
		for (int side = 0; side < 2; side++) {
			const int64_t off = rnd_in(1, 12) * g->step[s];
			struct shmex_order_request r =
				req(++g->clid, (uint32_t)rnd_in(1, 2), s, side, SHMEX_LIMIT, SHMEX_GTC,
				    side == SHMEX_BUY ? g->mid[s] - off : g->mid[s] + off,
				    rnd_in(1, g->qmax[s] / 2));
			if (s == 4)
				r.qty = rnd_in(2, 300);
			struct shmex_order_ack ack;
			(void)shmex_exchange_submit(g->ex, &r, &ack); /* may be refused: a band */
		}
	}
}

static int64_t rig_price(struct rig *g, uint32_t s, int spread)
{
	return g->mid[s] + rnd_in(-spread, spread) * g->step[s];
}

/* A random order of user @u, of kind @kind. */
static struct shmex_order_request rig_order(struct rig *g, uint32_t u, int kind)
{
	const uint32_t s = (uint32_t)rnd_in(1, N_SYM);
	const int side = (int)(rnd() % 2);
	struct shmex_order_request r =
		req(++g->clid, u, s, side, SHMEX_LIMIT, SHMEX_GTC, rig_price(g, s, 15),
		    rnd_in(1, g->qmax[s]));
	switch (kind) {
	case K_LIMIT:
		r.tif = (uint8_t)(chance(55) ? SHMEX_GTC : chance(40) ? SHMEX_IOC
						  : chance(50)  ? SHMEX_FOK : SHMEX_GTD);
		if (r.tif == SHMEX_GTD)
			r.expire_at = shmex_exchange_now(g->ex) + rnd_in(1, 1000);
		r.stp = (uint8_t)rnd_in(0, 3);
		break;
	case K_ICEBERG:
		r.display_qty = rnd_in(1, r.qty);
		if (chance(80) && r.display_qty * 10 < r.qty)
			r.display_qty = (r.qty + 9) / 10;
		break;
	case K_BUDGET:
		r.side = SHMEX_BUY;
		r.type = SHMEX_MARKET;
		r.tif = SHMEX_IOC;
		r.price = 0;
		/* From too small for one tick-lot to a few levels' worth. */
		r.quote_budget = chance(10) ? rnd_in(1, 3) : rnd_in(1, s == 3 ? 50000000 : 2000000000);
		break;
	case K_PROTECTED:
		r.type = SHMEX_MARKET;
		r.tif = (uint8_t)(chance(60) ? SHMEX_IOC : SHMEX_FOK);
		break;
	case K_MARKET_SELL:
		r.side = SHMEX_SELL;
		r.type = SHMEX_MARKET;
		r.tif = (uint8_t)(chance(70) ? SHMEX_IOC : SHMEX_FOK);
		r.price = 0;
		break;
	case K_STOP:
		r.type = (uint8_t)rnd_in(SHMEX_STOP_LIMIT, SHMEX_TAKE_PROFIT_MARKET);
		r.trigger_price = rig_price(g, s, 10);
		if (r.type == SHMEX_STOP_MARKET || r.type == SHMEX_TAKE_PROFIT_MARKET) {
			r.tif = (uint8_t)(chance(70) ? SHMEX_IOC : SHMEX_FOK);
			if (r.side == SHMEX_SELL && chance(50))
				r.price = 0; /* no protection: fine for a sell */
		}
		break;
	case K_POST:
		r.flags = SHMEX_OF_POST_ONLY;
		break;
	default: /* refused one way or another, most before the funds check */
		switch (rnd() % 12) {
		case 0: r.qty = -rnd_in(0, 5); break;
		case 1: r.price = -rnd_in(1, 100); break;
		case 2: r.symbol = 9; break;
		case 3: r.symbol = 0; break;
		case 4: r.side = 2; break;
		case 5: r.qty = INT64_MAX / 2; break; /* qty * lot or the value overflows */
		case 6: r.price = INT64_MAX / 3; r.qty = 1000; break;
		case 7: r.side = SHMEX_BUY; r.type = SHMEX_MARKET; r.tif = SHMEX_IOC; r.price = 0; break;
		case 8: r.type = SHMEX_MARKET; r.tif = SHMEX_GTC; break;
		case 9: r.side = SHMEX_BUY; r.quote_budget = rnd_in(1, 1000000); break;
		case 10: r.tif = SHMEX_GTD; r.expire_at = shmex_exchange_now(g->ex); break;
		default: r.side = SHMEX_BUY; r.price = 0; break;
		}
		break;
	}
	return r;
}

static int is_lock_of(const struct shmex_ledger_entry *e, uint64_t id)
{
	return e->cause == SHMEX_LC_ORDER_LOCK && e->ref == id;
}

/* The central property of entry_need, for one order: need - 1 available is
 * NO_FUNDS where need available is not, and what acceptance locks is the
 * need, in its asset. */
static void rig_entry(struct rig *g, const struct shmex_order_request *r, int kind)
{
	struct shmex_exchange *ex = g->ex;
	uint32_t asset = 99;
	int64_t need = -1;
	struct shmex_order_ack ack;
	shmex_exchange_entry_need(ex, r, &asset, &need);
	if (asset == 0) {
		/* Refused before its funds are checked, with any funds. */
		assert_int_equal(need, 0);
		set_available(ex, r->user, USD, INT64_C(1) << 50);
		set_available(ex, r->user, BTC, INT64_C(1) << 50);
		set_available(ex, r->user, ETH, INT64_C(1) << 50);
		int rc = shmex_exchange_submit(ex, r, &ack);
		if (rc == 0 || ack.reason == SHMEX_R_NO_FUNDS)
			fail_msg("order needing nothing: rc %d reason %s (sym %u side %u type %u qty %" PRId64
				 " price %" PRId64 ")", rc, shmex_reason_name(ack.reason), r->symbol,
				 r->side, r->type, r->qty, r->price);
		g->zero_need++;
		return;
	}
	assert_true(r->symbol >= 1 && r->symbol <= N_SYM);
	assert_int_equal(asset, r->side == SHMEX_BUY ? g->quote[r->symbol] : g->base[r->symbol]);
	assert_true(need > 0);
	if (r->side == SHMEX_SELL)
		assert_true(need == r->qty * (r->symbol == 1 ? 10000 : r->symbol == 3 ? 1 : 1000000));
	else if (r->quote_budget > 0)
		assert_true(need == r->quote_budget);

	if (need > INT64_C(1) << 58) {
		g->huge++; /* more than the test can fund: its shape is checked */
		return;
	}

	set_available(ex, r->user, asset, need - 1);
	const struct shmex_balance bm = bal(ex, r->user, asset);
	const uint64_t seq1 = shmex_exchange_seq(ex), lm = shmex_exchange_ledger_count(ex);
	int rc1 = shmex_exchange_submit(ex, r, &ack);
	const uint16_t why1 = ack.reason;
	if (rc1 == 0)
		fail_msg("accepted with need - 1 = %" PRId64 " available", need - 1);
	assert_int_equal(shmex_exchange_seq(ex), seq1 + 1); /* only the REJECTED event */
	assert_int_equal(shmex_exchange_ledger_count(ex), lm);
	expect_bal(ex, r->user, asset, bm.available, bm.locked);

	assert_int_equal(shmex_exchange_deposit(ex, r->user, asset, 1, 0, NULL), 0);
	const struct shmex_balance b0 = bal(ex, r->user, asset);
	const uint64_t l0 = shmex_exchange_ledger_count(ex);
	int rc2 = shmex_exchange_submit(ex, r, &ack);
	if (ack.reason == SHMEX_R_NO_FUNDS)
		fail_msg("NO_FUNDS with need = %" PRId64 " available (sym %u side %u type %u qty %" PRId64
			 " price %" PRId64 " budget %" PRId64 ")", need, r->symbol, r->side, r->type,
			 r->qty, r->price, r->quote_budget);
	if (why1 != SHMEX_R_NO_FUNDS) {
		/* Refused before the funds check: the same again. */
		assert_int_equal(ack.reason, why1);
		g->pre_funds++;
		return;
	}
	g->no_funds++;
	if (rc2 != 0) {
		/* Refused after the funds check (POST_ONLY, a book's own check):
		 * nothing locked. */
		assert_int_equal(ack.status, SHMEX_OS_REJECTED);
		expect_bal(ex, r->user, asset, b0.available, b0.locked);
		return;
	}
	g->accepted++;
	g->kinds[kind]++;
	/* The acceptance's lock is the ledger's first entry of the command;
	 * the order never locks more in it (fills only release). */
	const uint64_t l1 = shmex_exchange_ledger_count(ex);
	assert_true(l1 > l0);
	struct shmex_ledger_entry e = ledger_at(ex, l0);
	assert_true(is_lock_of(&e, ack.order_id));
	assert_int_equal(e.seq, ack.seq);
	assert_int_equal(e.user, r->user);
	assert_int_equal(e.asset, asset);
	if (e.d_locked != need)
		fail_msg("locked %" PRId64 ", entry_need %" PRId64, e.d_locked, need);
	assert_true(e.d_available == -need && e.available == 0);
	assert_true(e.locked == b0.locked + need);
	for (uint64_t i = l0 + 1; i < l1; i++) {
		struct shmex_ledger_entry x = ledger_at(ex, i);
		assert_false(is_lock_of(&x, ack.order_id));
	}
	struct shmex_order_state st;
	assert_int_equal(shmex_exchange_order(ex, ack.order_id, &st), 0);
	if (st.live && st.filled == 0 && l1 == l0 + 1) {
		/* Resting untouched: the account's locked grew by the need. */
		assert_int_equal(st.reserved, need);
		expect_bal(ex, r->user, asset, 0, b0.locked + need);
		g->rested++;
	}
}

/* amend_need bounds what an amend may lock more; with that much available
 * the amend is never NO_FUNDS. */
static void rig_amend(struct rig *g, uint32_t u)
{
	struct shmex_exchange *ex = g->ex;
	struct shmex_order_state list[16];
	int n = shmex_exchange_open_orders(ex, u, SHMEX_ALL_SYMBOLS, 0, list, 16, NULL);
	assert_true(n >= 0);
	if (n == 0)
		return;
	const struct shmex_order_state *o = &list[rnd() % (uint64_t)n];
	const uint32_t s = o->symbol;
	int64_t price = chance(70) ? o->price + rnd_in(-4, 4) * g->step[s] : rig_price(g, s, 20);
	int64_t qty = chance(30) ? o->remaining : rnd_in(1, o->remaining * 2 + 2);
	if (chance(4))
		price = chance(50) ? 0 : -g->step[s];
	else if (chance(4))
		qty = chance(50) ? 0 : -1;
	int64_t quote = -1, base = -1;
	shmex_exchange_amend_need(ex, s, price, qty, &quote, &base);
	assert_true(quote >= 0 && base >= 0);
	if (price <= 0 || qty <= 0)
		assert_true(quote == 0 && base == 0);
	else
		assert_true(base == qty * (s == 1 ? 10000 : s == 3 ? 1 : 1000000));
	const int64_t bound = o->side == SHMEX_BUY ? quote : base;
	const uint32_t asset = o->side == SHMEX_BUY ? g->quote[s] : g->base[s];
	set_available(ex, u, asset, bound);
	const uint64_t l0 = shmex_exchange_ledger_count(ex);
	struct shmex_order_ack ack;
	int rc = shmex_exchange_amend(ex, u, o->order_id, price, qty, &ack);
	g->amends++;
	if (ack.reason == SHMEX_R_NO_FUNDS)
		fail_msg("amend NO_FUNDS with amend_need %" PRId64 " available (sym %u side %u price %" PRId64
			 " -> %" PRId64 " remaining %" PRId64 " -> %" PRId64 ")", bound, s, o->side,
			 o->price, price, o->remaining, qty);
	if (rc != 0) {
		g->amend_refused++;
		assert_int_equal(shmex_exchange_ledger_count(ex), l0);
		return;
	}
	int64_t locked = 0;
	for (uint64_t i = l0; i < shmex_exchange_ledger_count(ex); i++) {
		struct shmex_ledger_entry e = ledger_at(ex, i);
		if (is_lock_of(&e, o->order_id))
			locked += e.d_locked;
	}
	if (locked > bound)
		fail_msg("amend locked %" PRId64 " > amend_need %" PRId64, locked, bound);
	g->amend_locked += locked > 0;
}

static void test_entry_need_random_orders(void **state)
{
	(void)state;
	struct rig *g = calloc(1, sizeof *g);
	assert_non_null(g);
	rng_state = 0x5eed0004;
	rig_init(g);
	for (uint32_t s = 1; s <= N_SYM; s++)
		rig_quote(g, s);
	for (int i = 0; i < 3000; i++) {
		if (i % 8 == 0)
			rig_quote(g, (uint32_t)rnd_in(1, N_SYM));
		const uint32_t u = (uint32_t)rnd_in(3, 5);
		const int pick = (int)rnd_in(0, 99);
		const int kind = pick < 30 ? K_LIMIT : pick < 40 ? K_ICEBERG : pick < 52 ? K_BUDGET
				 : pick < 62 ? K_PROTECTED : pick < 70 ? K_MARKET_SELL
				 : pick < 84 ? K_STOP : pick < 90 ? K_POST : K_BAD;
		struct shmex_order_request r = rig_order(g, u, kind);
		rig_entry(g, &r, kind);
		if (chance(35))
			rig_amend(g, (uint32_t)rnd_in(3, 5));
		if (i % 200 == 199) {
			check_ok(g->ex);
			for (uint32_t v = 1; v <= 5; v++)
				assert_int_equal(shmex_exchange_mass_cancel(g->ex, v, SHMEX_ALL_SYMBOLS, NULL), 0);
			(void)shmex_exchange_advance(g->ex, shmex_exchange_now(g->ex) + 500);
		}
	}
	check_ok(g->ex);
	/* The run covered what it claims to (seed 0x5eed0004: 2240 accepted,
	 * 847 rested untouched, 458 refused before the funds check, 229
	 * needing nothing; 950 amends, 290 locking more, 240 refused). */
	assert_true(g->accepted > 1000 && g->rested > 200 && g->zero_need > 50);
	assert_true(g->pre_funds > 100 && g->no_funds >= g->accepted);
	for (int k = K_LIMIT; k <= K_POST; k++)
		assert_true(g->kinds[k] > 30);
	assert_true(g->amend_locked > 100 && g->amend_refused > 20);
	shmex_exchange_destroy(g->ex);
	free(g);
}

/* Exact values by hand, and the orders that need nothing. */
static void test_entry_need_exact(void **state)
{
	(void)state;
	struct rig *g = calloc(1, sizeof *g);
	assert_non_null(g);
	rig_init(g);
	struct shmex_exchange *ex = g->ex;
	uint32_t asset;
	int64_t need;
	/* Fine BTC/USD, taker 0.05 %, maker -0.01 %: 0.5 BTC at 30000.00 is
	 * 15000.00 USD, worst fee 7.50: 1500750 cents. */
	struct shmex_order_request r = req(1, 3, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 3000000, 5000);
	shmex_exchange_entry_need(ex, &r, &asset, &need);
	assert_int_equal(asset, USD);
	assert_int_equal(need, 1500750);
	/* 1 lot (0.0001 BTC) at 30000.01: 3.000001 USD, fee 0.0015000005:
	 * 300.15000 + ... cents, rounded up to 301. */
	r.price = 3000001;
	r.qty = 1;
	shmex_exchange_entry_need(ex, &r, &asset, &need);
	assert_int_equal(need, 301);
	/* A market buy with a protection price is a limit buy there. */
	r.type = SHMEX_MARKET;
	r.tif = SHMEX_IOC;
	shmex_exchange_entry_need(ex, &r, &asset, &need);
	assert_int_equal(need, 301);
	/* A budget: the budget. */
	r.price = 0;
	r.quote_budget = 12345;
	shmex_exchange_entry_need(ex, &r, &asset, &need);
	assert_true(asset == USD && need == 12345);
	/* A sell: qty lots of base, whatever the type. */
	r = req(2, 3, 3, SHMEX_SELL, SHMEX_STOP_MARKET, SHMEX_IOC, 0, 777);
	r.trigger_price = 4000000;
	shmex_exchange_entry_need(ex, &r, &asset, &need);
	assert_true(asset == ETH && need == 777);
	r = req(3, 3, 2, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 2000, 3);
	r.display_qty = 1;
	shmex_exchange_entry_need(ex, &r, &asset, &need);
	assert_true(asset == ETH && need == 3000000);

	/* Needing nothing: unknown symbol, quantity <= 0, negative price, a
	 * buy without a price (market without budget or protection, or a
	 * limit at 0), an amount that overflows, no such side. */
	struct shmex_order_request zero[8];
	for (int i = 0; i < 8; i++)
		zero[i] = req(10 + (uint64_t)i, 3, 1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 3000000, 10);
	zero[0].symbol = 5;
	zero[1].symbol = 0;
	zero[2].qty = 0;
	zero[3].side = SHMEX_SELL;
	zero[3].price = -1;
	zero[4].type = SHMEX_MARKET;
	zero[4].tif = SHMEX_IOC;
	zero[4].price = 0;
	zero[5].price = 0;
	zero[6].side = SHMEX_SELL;
	zero[6].qty = INT64_MAX / 10000 + 1; /* qty * lot overflows */
	zero[7].price = INT64_MAX;
	zero[7].qty = 100000000; /* the value, 9.2e23 cents, overflows */
	for (int i = 0; i < 8; i++) {
		asset = 99;
		need = 99;
		shmex_exchange_entry_need(ex, &zero[i], &asset, &need);
		if (asset != 0 || need != 0)
			fail_msg("case %d: asset %u need %" PRId64, i, asset, need);
	}
	r = req(20, 3, 1, 2, SHMEX_LIMIT, SHMEX_GTC, 3000000, 10);
	shmex_exchange_entry_need(ex, &r, &asset, &need);
	assert_true(asset == 0 && need == 0);

	/* amend_need: both sides' bounds at once. 3 lots (0.03 ETH) of
	 * ETH/USD at 2001.00, taker 0.1 %: 60.03 USD + 0.06003 -> 6010 cents. */
	int64_t quote, base;
	shmex_exchange_amend_need(ex, 2, 2001, 3, &quote, &base);
	assert_true(quote == 6010 && base == 3000000);
	shmex_exchange_amend_need(ex, 9, 2001, 3, &quote, &base);
	assert_true(quote == 0 && base == 0);
	shmex_exchange_amend_need(ex, 0, 2001, 3, &quote, &base);
	assert_true(quote == 0 && base == 0);
	shmex_exchange_amend_need(ex, 2, 0, 3, &quote, &base);
	assert_true(quote == 0 && base == 0);
	shmex_exchange_amend_need(ex, 2, 2001, 0, &quote, &base);
	assert_true(quote == 0 && base == 0);
	shmex_exchange_amend_need(ex, 2, 2001, -3, &quote, &base);
	assert_true(quote == 0 && base == 0);
	/* The value overflows: no quote bound, the base one stands. */
	shmex_exchange_amend_need(ex, 2, INT64_MAX, 3, &quote, &base);
	assert_true(quote == 0 && base == 3000000);
	shmex_exchange_amend_need(ex, 2, 2001, INT64_MAX, &quote, &base);
	assert_true(quote == 0 && base == 0);
	shmex_exchange_destroy(ex);
	free(g);
}

/* ---- limits kept by an engine ---------------------------------------------- */

/* SHMEX_OF_ENGINE_AT_LIMIT and _RATE refuse an order where the exchange
 * checks its own open-order limit and rate: its other reasons first, a
 * record and a REJECTED report for MAX_OPEN_ORDERS, none for RATE_LIMIT
 * (as the exchange's own limits); take_token and user_limits read and
 * spend the user's own bucket. */
static void test_engine_limit_flags(void **state)
{
	(void)state;
	struct shmex_exchange_config c = ex_config();
	struct shmex_exchange *ex = ex_make(&c, 2);
	struct shmex_symbol_params sp = sym_params("BTC/USD", 2, 1, 1, 1000, 0, 0);
	const uint32_t s1 = add_symbol(ex, &sp);
	set_available(ex, 1, 1, INT64_C(1) << 40);
	struct shmex_order_ack ack;
	struct shmex_order_request r = req(0, 1, s1, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	r.flags = SHMEX_OF_ENGINE_AT_LIMIT;
	const uint64_t reports = shmex_exchange_report_count(ex);
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), SHMEX_E_RISK);
	assert_int_equal(ack.reason, SHMEX_R_MAX_OPEN_ORDERS);
	assert_true(ack.order_id != 0); /* a record, as for the exchange's own limit */
	assert_int_equal(shmex_exchange_report_count(ex), reports + 1);
	r.price = 0; /* an invalid order: its own reason comes first */
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), SHMEX_E_BAD_PRICE);
	r.price = 100;
	r.flags = SHMEX_OF_ENGINE_RATE;
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), SHMEX_E_RATE);
	assert_int_equal(ack.reason, SHMEX_R_RATE_LIMIT);
	assert_int_equal(ack.order_id, 0); /* no record, as for the exchange's own rate */
	r.symbol = 99; /* an unknown symbol is refused first */
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), SHMEX_E_UNKNOWN_SYMBOL);
	r.symbol = s1;
	r.flags = 0;
	assert_int_equal(shmex_exchange_submit(ex, &r, &ack), 0);

	/* A bucket of 2 at 1 a second: two tokens, then none until the clock moves. */
	const struct shmex_user_params up = { .max_open_orders = 5, .rate_per_sec = 1, .rate_burst = 2 };
	uint32_t u = 0;
	assert_int_equal(shmex_exchange_add_user(ex, &up, &u), 0);
	struct shmex_user_params got;
	assert_int_equal(shmex_exchange_user_limits(ex, u, &got), 0);
	assert_int_equal(got.max_open_orders, 5);
	assert_int_equal(got.rate_per_sec, 1);
	assert_int_equal(got.rate_burst, 2);
	assert_int_equal(shmex_exchange_take_token(ex, u), 1);
	assert_int_equal(shmex_exchange_take_token(ex, u), 1);
	assert_int_equal(shmex_exchange_take_token(ex, u), 0);
	shmex_exchange_advance(ex, shmex_exchange_now(ex) + 1000000000);
	assert_int_equal(shmex_exchange_take_token(ex, u), 1);
	assert_int_equal(shmex_exchange_take_token(ex, 1), 1); /* no limit */
	assert_int_equal(shmex_exchange_take_token(ex, 77), SHMEX_E_UNKNOWN_USER);
	assert_int_equal(shmex_exchange_user_limits(ex, 77, &got), SHMEX_E_UNKNOWN_USER);
	check_ok(ex);
	shmex_exchange_destroy(ex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_limit_flags),
		cmocka_unit_test(test_private_seq_counts_from_one),
		cmocka_unit_test(test_shared_seq_relabels_private),
		cmocka_unit_test(test_shared_seq_ack_after_other_exchange),
		cmocka_unit_test(test_id_base_limit),
		cmocka_unit_test(test_id_base_disjoint_ranges),
		cmocka_unit_test(test_transfer_moves_available_and_supply),
		cmocka_unit_test(test_transfer_refusals),
		cmocka_unit_test(test_transfer_then_trade_and_fold),
		cmocka_unit_test(test_transfer_cause_names),
		cmocka_unit_test(test_entry_need_exact),
		cmocka_unit_test(test_entry_need_random_orders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
