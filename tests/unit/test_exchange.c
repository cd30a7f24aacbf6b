/*
 * Exchange core: one test per rule of include/shmex/exchange.h and the
 * "Money flow" section of docs/ARCHITECTURE.md. Amounts are worked out by
 * hand in the comments; every test ends with shmex_exchange_check().
 *
 * Assets: USD (2 decimals), BTC (8), ETH (8). Symbols are made per test with
 * the tick, lot and fees the rule needs:
 *   "fine"   BTC/USD tick 0.01 USD, lot 0.0001 BTC: a tick-lot is 1/10^4 cent
 *   "coarse" BTC/USD tick 1.00 USD, lot 0.01 BTC:   a tick-lot is 1 cent
 *   "sat"    BTC/USD tick 0.01 USD, lot 1 satoshi:  a tick-lot is 1/10^8 cent
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "exchange_internal.h" /* only to corrupt state for the check() tests */
#include "shmex/exchange.h"

enum { USD = 1, BTC = 2, ETH = 3 };

struct fx {
	struct shmex_exchange *ex;
	uint32_t sym;
	uint32_t u[6]; /* u[1..5] */
};

static struct shmex_exchange_config fx_config(void)
{
	struct shmex_exchange_config c;
	memset(&c, 0, sizeof c);
	c.max_assets = 4;
	c.max_symbols = 4;
	c.max_users = 8;
	c.max_orders = 1024;
	c.book_orders = 256;
	c.ledger_capacity = 1 << 14;
	c.report_capacity = 1 << 14;
	c.start_time = 1000;
	return c;
}

static void fx_assets(struct fx *f)
{
	static const struct shmex_asset_params a[] = {
		{.code = "USD", .decimals = 2}, {.code = "BTC", .decimals = 8}, {.code = "ETH", .decimals = 8}};
	for (uint32_t i = 0; i < 3; i++) {
		uint32_t id;
		assert_int_equal(shmex_exchange_add_asset(f->ex, &a[i], &id), 0);
		assert_int_equal(id, i + 1);
	}
	for (int i = 1; i <= 5; i++)
		assert_int_equal(shmex_exchange_add_user(f->ex, NULL, &f->u[i]), 0);
}

static struct shmex_symbol_params sym_params(const char *code, int64_t tick, int64_t lot,
					     int32_t maker, int32_t taker)
{
	struct shmex_symbol_params p;
	memset(&p, 0, sizeof p);
	snprintf(p.code, sizeof p.code, "%s", code);
	p.base = BTC;
	p.quote = USD;
	p.tick_size = tick;
	p.lot_size = lot;
	p.maker_fee_ppm = maker;
	p.taker_fee_ppm = taker;
	return p;
}

static uint32_t add_symbol(struct fx *f, const struct shmex_symbol_params *p)
{
	uint32_t id;
	assert_int_equal(shmex_exchange_add_symbol(f->ex, p, &id), 0);
	return id;
}

/* A fixture with one symbol. */
static struct fx *fx_make(const struct shmex_exchange_config *c, struct shmex_symbol_params p)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(shmex_exchange_create(c, &f->ex), 0);
	fx_assets(f);
	f->sym = add_symbol(f, &p);
	return f;
}

static struct fx *fx_fine(int32_t maker, int32_t taker)
{
	struct shmex_exchange_config c = fx_config();
	return fx_make(&c, sym_params("BTC/USD", 1, 10000, maker, taker));
}

static struct fx *fx_coarse(int32_t maker, int32_t taker)
{
	struct shmex_exchange_config c = fx_config();
	return fx_make(&c, sym_params("BTC/USD", 100, 1000000, maker, taker));
}

static void check_ok(struct fx *f)
{
	char msg[256];
	int rc = shmex_exchange_check(f->ex, msg, sizeof msg);
	if (rc != 0)
		print_error("check: %s\n", msg);
	assert_int_equal(rc, 0);
}

static void fx_free(struct fx *f)
{
	check_ok(f);
	shmex_exchange_destroy(f->ex);
	free(f);
}

static void deposit(struct fx *f, uint32_t user, uint32_t asset, int64_t amount)
{
	assert_int_equal(shmex_exchange_deposit(f->ex, user, asset, amount, 0, NULL), 0);
}

static struct shmex_balance bal(struct fx *f, uint32_t user, uint32_t asset)
{
	struct shmex_balance b;
	assert_int_equal(shmex_exchange_balance(f->ex, user, asset, &b), 0);
	return b;
}

static void expect_bal(struct fx *f, uint32_t user, uint32_t asset, int64_t avail, int64_t locked)
{
	struct shmex_balance b = bal(f, user, asset);
	if (b.available != avail || b.locked != locked)
		print_error("user %u asset %u: %" PRId64 " / %" PRId64 ", want %" PRId64 " / %" PRId64
			    "\n", user, asset, b.available, b.locked, avail, locked);
	assert_true(b.available == avail && b.locked == locked);
}

static struct shmex_order_request req(uint32_t user, uint32_t sym, int side, int type, int tif,
				      int64_t price, int64_t qty)
{
	static uint64_t next_clid = 1;
	struct shmex_order_request r;
	memset(&r, 0, sizeof r);
	r.client_id = next_clid++;
	r.user = user;
	r.symbol = sym;
	r.side = (uint8_t)side;
	r.type = (uint8_t)type;
	r.tif = (uint8_t)tif;
	r.price = price;
	r.qty = qty;
	return r;
}

static uint64_t submit_ok(struct fx *f, const struct shmex_order_request *r)
{
	struct shmex_order_ack ack;
	int rc = shmex_exchange_submit(f->ex, r, &ack);
	if (rc != 0)
		print_error("submit: %s (reason %u)\n", shmex_strerror(rc), ack.reason);
	assert_int_equal(rc, 0);
	assert_int_equal(ack.reason, SHMEX_R_NONE);
	check_ok(f);
	return ack.order_id;
}

static uint64_t limit(struct fx *f, uint32_t user, int side, int64_t price, int64_t qty)
{
	struct shmex_order_request r = req(user, f->sym, side, SHMEX_LIMIT, SHMEX_GTC, price, qty);
	return submit_ok(f, &r);
}

static void submit_rejected(struct fx *f, const struct shmex_order_request *r, int code,
			    uint16_t reason)
{
	struct shmex_order_ack ack;
	int rc = shmex_exchange_submit(f->ex, r, &ack);
	if (rc != code || ack.reason != reason)
		print_error("submit: rc %d (%s) reason %u, want %d reason %u\n", rc, shmex_strerror(rc),
			    ack.reason, code, reason);
	assert_int_equal(rc, code);
	assert_int_equal(ack.reason, reason);
	assert_int_equal(ack.status, SHMEX_OS_REJECTED);
	check_ok(f);
}

static struct shmex_order_state order(struct fx *f, uint64_t id)
{
	struct shmex_order_state s;
	assert_int_equal(shmex_exchange_order(f->ex, id, &s), 0);
	assert_true(s.filled + s.remaining + s.cancelled == s.qty);
	return s;
}

/* Folds the whole ledger from zero; every entry's balance-after must agree,
 * and the result must equal every live balance. */
static void ledger_replay_matches(struct fx *f)
{
	struct shmex_balance fold[9][4];
	memset(fold, 0, sizeof fold);
	uint64_t n = shmex_exchange_ledger_count(f->ex), last_seq = 0;
	for (uint64_t i = 0; i < n; i++) {
		struct shmex_ledger_entry e;
		assert_int_equal(shmex_exchange_ledger_read(f->ex, i, &e), 0);
		assert_true(e.seq >= last_seq);
		assert_true(e.seq <= shmex_exchange_seq(f->ex));
		last_seq = e.seq;
		struct shmex_balance *b = &fold[e.user][e.asset];
		b->available += e.d_available;
		b->locked += e.d_locked;
		assert_true(b->available == e.available && b->locked == e.locked);
		assert_true(e.available >= 0 && e.locked >= 0);
	}
	for (uint32_t u = 0; u <= 5; u++)
		for (uint32_t a = 1; a <= 3; a++)
			expect_bal(f, u, a, fold[u][a].available, fold[u][a].locked);
}

/* ---- creation and registries ------------------------------------------ */

static void test_create_invalid(void **state)
{
	(void)state;
	struct shmex_exchange *ex = NULL;
	struct shmex_exchange_config c = fx_config();
	c.max_users = 0;
	assert_int_equal(shmex_exchange_create(&c, &ex), SHMEX_E_INVAL);
	c = fx_config();
	c.max_orders = 1;
	assert_int_equal(shmex_exchange_create(&c, &ex), SHMEX_E_INVAL);
	assert_int_equal(shmex_exchange_create(NULL, &ex), SHMEX_E_INVAL);
	shmex_exchange_destroy(NULL);
}

static void test_registry_assets_users(void **state)
{
	(void)state;
	struct shmex_exchange_config c = fx_config();
	c.max_assets = 2;
	c.max_users = 1;
	struct shmex_exchange *ex;
	uint32_t id;
	assert_int_equal(shmex_exchange_create(&c, &ex), 0);
	struct shmex_asset_params a = {.code = "USD", .decimals = 2};
	assert_int_equal(shmex_exchange_add_asset(ex, &a, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(shmex_exchange_add_asset(ex, &a, &id), SHMEX_E_EXISTS);
	struct shmex_asset_params bad = {.code = "X", .decimals = 19};
	assert_int_equal(shmex_exchange_add_asset(ex, &bad, &id), SHMEX_E_INVAL);
	struct shmex_asset_params empty = {.code = "", .decimals = 2};
	assert_int_equal(shmex_exchange_add_asset(ex, &empty, &id), SHMEX_E_INVAL);
	struct shmex_asset_params b = {.code = "BTC", .decimals = 8};
	assert_int_equal(shmex_exchange_add_asset(ex, &b, &id), 0);
	struct shmex_asset_params e = {.code = "ETH", .decimals = 8};
	assert_int_equal(shmex_exchange_add_asset(ex, &e, &id), SHMEX_E_FULL);
	assert_int_equal(shmex_exchange_find_asset(ex, "BTC", &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(shmex_exchange_find_asset(ex, "ETH", &id), SHMEX_E_UNKNOWN_ASSET);
	assert_int_equal(shmex_exchange_add_user(ex, NULL, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(shmex_exchange_add_user(ex, NULL, &id), SHMEX_E_FULL);
	/* The fee account is user 0: readable, not a depositor. */
	struct shmex_balance bl;
	assert_int_equal(shmex_exchange_balance(ex, SHMEX_FEE_ACCOUNT, 1, &bl), 0);
	assert_int_equal(shmex_exchange_deposit(ex, SHMEX_FEE_ACCOUNT, 1, 5, 0, NULL),
			 SHMEX_E_UNKNOWN_USER);
	assert_int_equal(shmex_exchange_balance(ex, 2, 1, &bl), SHMEX_E_UNKNOWN_USER);
	assert_int_equal(shmex_exchange_balance(ex, 1, 3, &bl), SHMEX_E_UNKNOWN_ASSET);
	shmex_exchange_destroy(ex);
}

static void test_registry_symbols(void **state)
{
	(void)state;
	struct fx *f = fx_fine(0, 0);
	uint32_t id;
	struct shmex_symbol_params p = sym_params("ETH/USD", 1, 10000, -100, 500);
	p.base = ETH;
	struct shmex_symbol_params q = p;
	q.base = USD; /* base == quote */
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), SHMEX_E_INVAL);
	q = p;
	q.base = 9;
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), SHMEX_E_UNKNOWN_ASSET);
	q = p;
	q.maker_fee_ppm = -501; /* rebate larger than the taker fee: refused */
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), SHMEX_E_INVAL);
	q = p;
	q.taker_fee_ppm = 1000001;
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), SHMEX_E_INVAL);
	q = p;
	q.tick_size = 0;
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), SHMEX_E_INVAL);
	q = p;
	q.min_qty = 10;
	q.max_qty = 5;
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), SHMEX_E_INVAL);
	q = p;
	q.code[0] = 0;
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), SHMEX_E_INVAL);
	q = p;
	snprintf(q.code, sizeof q.code, "BTC/USD");
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), SHMEX_E_EXISTS);
	/* A tick-lot of 3 / 10^13 cent: the denominator is over the limit. */
	struct shmex_asset_params fine = {.code = "FINE", .decimals = 18};
	uint32_t fine_id;
	assert_int_equal(shmex_exchange_add_asset(f->ex, &fine, &fine_id), 0);
	q = p;
	q.base = fine_id;
	q.tick_size = 3;
	q.lot_size = 100000;
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), SHMEX_E_INVAL);
	q.lot_size = 1000000; /* 3 / 10^12: allowed */
	snprintf(q.code, sizeof q.code, "FINE/USD");
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &q, &id), 0);
	assert_int_equal(shmex_exchange_add_symbol(f->ex, &p, &id), 0);
	assert_int_equal(shmex_exchange_find_symbol(f->ex, "ETH/USD", &id), 0);
	assert_int_equal(id, 3);
	struct shmex_symbol_params got;
	assert_int_equal(shmex_exchange_symbol(f->ex, id, &got), 0);
	assert_int_equal(got.maker_fee_ppm, -100);
	assert_int_equal(got.min_qty, 1);
	assert_non_null(shmex_exchange_book(f->ex, id));
	assert_null(shmex_exchange_book(f->ex, 99));
	fx_free(f);
}

/* ---- deposits and withdrawals ------------------------------------------- */

static void test_deposit_withdraw(void **state)
{
	(void)state;
	struct fx *f = fx_fine(0, 0);
	uint32_t a = f->u[1];
	uint64_t seq;
	int64_t supply;
	assert_int_equal(shmex_exchange_deposit(f->ex, a, USD, 0, 0, NULL), SHMEX_E_INVAL);
	assert_int_equal(shmex_exchange_deposit(f->ex, a, 7, 5, 0, NULL), SHMEX_E_UNKNOWN_ASSET);
	assert_int_equal(shmex_exchange_deposit(f->ex, 42, USD, 5, 0, NULL), SHMEX_E_UNKNOWN_USER);
	assert_int_equal(shmex_exchange_deposit(f->ex, a, USD, 10000, 77, &seq), 0);
	assert_int_equal(seq, shmex_exchange_seq(f->ex));
	assert_int_equal(shmex_exchange_withdraw(f->ex, a, USD, 10001, 0, NULL), SHMEX_E_NOFUNDS);
	expect_bal(f, a, USD, 10000, 0);
	assert_int_equal(shmex_exchange_withdraw(f->ex, a, USD, 2500, 78, &seq), 0);
	expect_bal(f, a, USD, 7500, 0);
	assert_int_equal(shmex_exchange_supply(f->ex, USD, &supply), 0);
	assert_int_equal(supply, 7500);

	/* The ledger has both, with cause, ref and balance after. */
	struct shmex_ledger_entry e;
	uint64_t n = shmex_exchange_ledger_count(f->ex);
	assert_int_equal(shmex_exchange_ledger_read(f->ex, n - 1, &e), 0);
	assert_int_equal(e.cause, SHMEX_LC_WITHDRAWAL);
	assert_int_equal(e.ref, 78);
	assert_int_equal(e.d_available, -2500);
	assert_int_equal(e.available, 7500);
	assert_int_equal(e.seq, seq);
	assert_int_equal(shmex_exchange_ledger_read(f->ex, n - 2, &e), 0);
	assert_int_equal(e.cause, SHMEX_LC_DEPOSIT);
	assert_int_equal(e.ref, 77);
	assert_int_equal(shmex_exchange_ledger_read(f->ex, n, &e), SHMEX_E_INVAL);

	/* The supply of an asset never exceeds INT64_MAX, so no balance can. */
	assert_int_equal(shmex_exchange_deposit(f->ex, f->u[2], USD, INT64_MAX - 7500, 0, NULL), 0);
	assert_int_equal(shmex_exchange_deposit(f->ex, f->u[3], USD, 1, 0, NULL), SHMEX_E_OVERFLOW);
	fx_free(f);
}

static void test_withdraw_never_touches_locked(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t a = f->u[1];
	deposit(f, a, BTC, 5000000); /* 0.05 BTC = 5 lots */
	limit(f, a, SHMEX_SELL, 30000, 3); /* locks 3 lots = 3000000 sat */
	expect_bal(f, a, BTC, 2000000, 3000000);
	assert_int_equal(shmex_exchange_withdraw(f->ex, a, BTC, 2000001, 0, NULL), SHMEX_E_NOFUNDS);
	expect_bal(f, a, BTC, 2000000, 3000000);
	assert_int_equal(shmex_exchange_withdraw(f->ex, a, BTC, 2000000, 0, NULL), 0);
	expect_bal(f, a, BTC, 0, 3000000);
	fx_free(f);
}

/* ---- reservation at entry --------------------------------------------- */

static void test_buy_limit_locks_value_and_worst_fee(void **state)
{
	(void)state;
	/* fine BTC/USD, taker 0.05 %: buy 0.5 BTC (5000 lots) at 30000.00
	 * (3000000 ticks) is worth 15000.00 USD; worst fee 7.50 USD. */
	struct fx *f = fx_fine(-100, 500);
	uint32_t a = f->u[1];
	deposit(f, a, USD, 2000000);
	uint64_t id = limit(f, a, SHMEX_BUY, 3000000, 5000);
	expect_bal(f, a, USD, 2000000 - 1500750, 1500750);
	struct shmex_order_state s = order(f, id);
	assert_int_equal(s.reserved, 1500750);
	assert_int_equal(s.status, SHMEX_OS_NEW);
	assert_true(s.live);

	struct shmex_ledger_entry e;
	assert_int_equal(shmex_exchange_ledger_read(f->ex, shmex_exchange_ledger_count(f->ex) - 1, &e), 0);
	assert_int_equal(e.cause, SHMEX_LC_ORDER_LOCK);
	assert_int_equal(e.ref, id);
	assert_int_equal(e.d_available, -1500750);
	assert_int_equal(e.d_locked, 1500750);

	/* Maker fee above taker: the worst case is the maker rate. */
	struct shmex_symbol_params p = sym_params("BTC/USD2", 1, 10000, 800, 500);
	uint32_t s2 = add_symbol(f, &p);
	struct shmex_order_request r = req(a, s2, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 3000000, 1000);
	uint64_t id2 = submit_ok(f, &r);
	assert_int_equal(order(f, id2).reserved, 300240); /* 3000.00 + 0.08 % = 3002.40 */
	fx_free(f);
}

static void test_sell_locks_base(void **state)
{
	(void)state;
	struct fx *f = fx_fine(0, 500);
	uint32_t a = f->u[1];
	deposit(f, a, BTC, 100000000);
	uint64_t id = limit(f, a, SHMEX_SELL, 3000000, 2500); /* 0.25 BTC */
	expect_bal(f, a, BTC, 75000000, 25000000);
	assert_int_equal(order(f, id).reserved, 25000000);
	/* Market sell: locks its quantity, the unfilled rest is released. */
	struct shmex_order_request r = req(a, f->sym, SHMEX_SELL, SHMEX_MARKET, SHMEX_IOC, 0, 100);
	uint64_t m = submit_ok(f, &r);
	struct shmex_order_state s = order(f, m);
	assert_int_equal(s.status, SHMEX_OS_CANCELLED);
	assert_int_equal(s.reason, SHMEX_R_IOC);
	assert_int_equal(s.cancelled, 100);
	expect_bal(f, a, BTC, 75000000, 25000000);
	fx_free(f);
}

static void test_insufficient_funds_changes_nothing(void **state)
{
	(void)state;
	struct fx *f = fx_fine(0, 500);
	uint32_t a = f->u[1];
	deposit(f, a, USD, 1500749); /* one cent short of 1500750 */
	uint64_t ledger = shmex_exchange_ledger_count(f->ex);
	struct shmex_order_request r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 3000000, 5000);
	submit_rejected(f, &r, SHMEX_E_NOFUNDS, SHMEX_R_NO_FUNDS);
	expect_bal(f, a, USD, 1500749, 0);
	assert_int_equal(shmex_exchange_ledger_count(f->ex), ledger);
	assert_int_equal(shmex_book_order_count(shmex_exchange_book(f->ex, f->sym)), 0);
	/* The refused order is on record, rejected, with its reason. */
	uint64_t oid;
	assert_int_equal(shmex_exchange_find_client_id(f->ex, a, r.client_id, &oid),
			 SHMEX_E_UNKNOWN_ORDER);
	/* A rejection does not use up the client id: the retry after a deposit works. */
	deposit(f, a, USD, 1);
	uint64_t id = submit_ok(f, &r);
	expect_bal(f, a, USD, 0, 1500750);
	assert_int_equal(shmex_exchange_find_client_id(f->ex, a, r.client_id, &oid), 0);
	assert_int_equal(oid, id);
	/* Selling base one has not: refused too. */
	struct shmex_order_request s = req(a, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 3000000, 1);
	submit_rejected(f, &s, SHMEX_E_NOFUNDS, SHMEX_R_NO_FUNDS);
	fx_free(f);
}

/* ---- settlement ---------------------------------------------------------- */

static void test_trade_settles_fees_and_rebate(void **state)
{
	(void)state;
	/* fine BTC/USD, maker -0.01 % (rebate), taker 0.05 %. Seller rests
	 * 1 BTC at 30000.00; buyer takes 0.5 BTC: value 15000.00 USD. Buyer
	 * pays 15000.00 + 7.50, seller gets 15000.00 + 1.50, fees 6.00. */
	struct fx *f = fx_fine(-100, 500);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 2000000);
	deposit(f, s, BTC, 100000000);
	uint64_t ask = limit(f, s, SHMEX_SELL, 3000000, 10000);
	uint64_t bid = limit(f, b, SHMEX_BUY, 3000000, 5000);
	expect_bal(f, b, USD, 2000000 - 1500750, 0);
	expect_bal(f, b, BTC, 50000000, 0);
	expect_bal(f, s, USD, 1500150, 0);
	expect_bal(f, s, BTC, 0, 50000000);
	expect_bal(f, SHMEX_FEE_ACCOUNT, USD, 600, 0);

	struct shmex_order_state bs = order(f, bid), as = order(f, ask);
	assert_int_equal(bs.status, SHMEX_OS_FILLED);
	assert_false(bs.live);
	assert_int_equal(bs.quote_settled, 1500750);
	assert_int_equal(bs.fees, 750);
	assert_int_equal(as.status, SHMEX_OS_PARTIALLY_FILLED);
	assert_int_equal(as.quote_settled, 1500150);
	assert_int_equal(as.fees, -150);
	assert_int_equal(as.remaining, 5000);
	assert_int_equal(as.reserved, 50000000);

	/* The trade report of each side carries the same trade and sequence. */
	struct shmex_order_report h[8];
	uint32_t n = shmex_exchange_order_history(f->ex, bid, h, 8);
	assert_int_equal(n, 2); /* ACCEPTED, TRADE (filled: no end event) */
	assert_int_equal(h[0].what, SHMEX_EV_ACCEPTED);
	assert_int_equal(h[1].what, SHMEX_EV_TRADE);
	assert_int_equal(h[1].liquidity, SHMEX_LIQ_TAKER);
	assert_int_equal(h[1].quote_amount, 1500750);
	assert_int_equal(h[1].fee, 750);
	assert_int_equal(h[1].counter_id, ask);
	struct shmex_order_report m[8];
	assert_int_equal(shmex_exchange_order_history(f->ex, ask, m, 8), 2); /* ACCEPTED, TRADE */
	assert_int_equal(m[1].what, SHMEX_EV_TRADE);
	assert_int_equal(m[1].trade_id, h[1].trade_id);
	assert_int_equal(m[1].seq, h[1].seq);
	assert_int_equal(m[1].liquidity, SHMEX_LIQ_MAKER);
	assert_int_equal(m[1].fee, -150);
	assert_int_equal(m[1].quote_amount, 1500150);

	/* The trade's ledger entries carry its sequence and trade id. */
	int trade_entries = 0;
	for (uint64_t i = 0; i < shmex_exchange_ledger_count(f->ex); i++) {
		struct shmex_ledger_entry e;
		assert_int_equal(shmex_exchange_ledger_read(f->ex, i, &e), 0);
		if (e.trade_id == h[1].trade_id) {
			assert_int_equal(e.seq, h[1].seq);
			trade_entries++;
			if (e.user == SHMEX_FEE_ACCOUNT)
				assert_int_equal(e.cause, SHMEX_LC_FEE);
			else
				assert_int_equal(e.cause, SHMEX_LC_TRADE);
		}
	}
	assert_int_equal(trade_entries, 5);
	ledger_replay_matches(f);
	fx_free(f);
}

/* The worked example of docs/ARCHITECTURE.md, "Money flow", number for number. */
static void test_worked_example_from_docs(void **state)
{
	(void)state;
	struct fx *f = fx_fine(-100, 500);
	uint32_t alice = f->u[1], bob = f->u[2];
	deposit(f, alice, USD, 2000000);   /* 20,000.00 USD */
	deposit(f, bob, BTC, 100000000);   /* 1 BTC */
	uint64_t ask = limit(f, bob, SHMEX_SELL, 3000000, 10000); /* 1 BTC at 30,000.00 */
	expect_bal(f, bob, BTC, 0, 100000000);
	/* 0.5 BTC at 30,100.00: 15,050.00 + 0.05 % = 15,057.525 -> 15,057.53 */
	struct shmex_order_request r =
		req(alice, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 3010000, 5000);
	struct shmex_order_ack ack;
	uint64_t seq0 = shmex_exchange_seq(f->ex);
	uint64_t led0 = shmex_exchange_ledger_count(f->ex);
	assert_int_equal(shmex_exchange_submit(f->ex, &r, &ack), 0);
	/* One lock, then the trade at 30,000.00: 15,007.50 paid, 15,001.50
	 * received, 6.00 of fees, 0.5 BTC delivered, 50.03 released. */
	const struct {
		uint32_t user, asset;
		int64_t da, dl;
		uint16_t cause;
		uint64_t seq_off;
	} want[] = {
		{alice, USD, -1505753, 1505753, SHMEX_LC_ORDER_LOCK, 1},
		{alice, USD, 0, -1500750, SHMEX_LC_TRADE, 2},
		{bob, BTC, 0, -50000000, SHMEX_LC_TRADE, 2},
		{alice, BTC, 50000000, 0, SHMEX_LC_TRADE, 2},
		{bob, USD, 1500150, 0, SHMEX_LC_TRADE, 2},
		{SHMEX_FEE_ACCOUNT, USD, 600, 0, SHMEX_LC_FEE, 2},
		{alice, USD, 5003, -5003, SHMEX_LC_RELEASE, 2},
	};
	assert_int_equal(shmex_exchange_ledger_count(f->ex) - led0, 7);
	for (unsigned i = 0; i < 7; i++) {
		struct shmex_ledger_entry e;
		assert_int_equal(shmex_exchange_ledger_read(f->ex, led0 + i, &e), 0);
		assert_int_equal(e.user, want[i].user);
		assert_int_equal(e.asset, want[i].asset);
		assert_int_equal(e.d_available, want[i].da);
		assert_int_equal(e.d_locked, want[i].dl);
		assert_int_equal(e.cause, want[i].cause);
		assert_int_equal(e.seq, seq0 + want[i].seq_off);
	}
	expect_bal(f, alice, USD, 499250, 0);      /* 4,992.50 */
	expect_bal(f, alice, BTC, 50000000, 0);    /* 0.5 BTC */
	expect_bal(f, bob, USD, 1500150, 0);       /* 15,001.50 */
	expect_bal(f, bob, BTC, 0, 50000000);      /* 0.5 BTC still offered */
	expect_bal(f, SHMEX_FEE_ACCOUNT, USD, 600, 0); /* 6.00 */
	assert_int_equal(order(f, ask).remaining, 5000);
	/* Bob cancels: his 0.5 BTC comes back. */
	assert_int_equal(shmex_exchange_cancel(f->ex, bob, ask, NULL), 0);
	expect_bal(f, bob, BTC, 50000000, 0);
	ledger_replay_matches(f);
	fx_free(f);
}

static void test_rebate_to_buying_maker(void **state)
{
	(void)state;
	/* coarse (1 tick-lot = 1 cent), maker -0.1 %, taker 0.3 %. A buy of
	 * 100 lots at 100 rests (value 10000, reserved at the worst rate
	 * 0.3 %: 10030); a seller takes it: the buyer pays 10000 - 10 = 9990,
	 * the seller gets 10000 - 30 = 9970, fees 20; the buyer's 40 left
	 * over is released. */
	struct fx *f = fx_coarse(-1000, 3000);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 10030);
	deposit(f, s, BTC, 100000000);
	uint64_t bid = limit(f, b, SHMEX_BUY, 100, 100);
	expect_bal(f, b, USD, 0, 10030);
	limit(f, s, SHMEX_SELL, 100, 100);
	expect_bal(f, b, USD, 40, 0);
	expect_bal(f, b, BTC, 100000000, 0);
	expect_bal(f, s, USD, 9970, 0);
	expect_bal(f, SHMEX_FEE_ACCOUNT, USD, 20, 0);
	assert_int_equal(order(f, bid).fees, -10);
	ledger_replay_matches(f);
	fx_free(f);
}

static void test_better_price_releases_surplus(void **state)
{
	(void)state;
	/* No fees, fine symbol: a lot at 30000.00 is 3.00 USD. A buy of 2 lots
	 * at 31000.00 locks 6.20; it fills 1 lot at 30000.00 (3.00): 0.10 of
	 * surplus is released at once, 3.10 stays for the lot that rests. */
	struct fx *f = fx_fine(0, 0);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 10000);
	deposit(f, s, BTC, 10000);
	limit(f, s, SHMEX_SELL, 3000000, 1);
	uint64_t bid = limit(f, b, SHMEX_BUY, 3100000, 2);
	expect_bal(f, b, USD, 10000 - 300 - 310, 310);
	struct shmex_order_state o = order(f, bid);
	assert_int_equal(o.reserved, 310);
	assert_int_equal(o.status, SHMEX_OS_PARTIALLY_FILLED);
	/* The release is its own ledger entry, right after the trade's. */
	int releases = 0;
	for (uint64_t i = 0; i < shmex_exchange_ledger_count(f->ex); i++) {
		struct shmex_ledger_entry e;
		assert_int_equal(shmex_exchange_ledger_read(f->ex, i, &e), 0);
		if (e.cause == SHMEX_LC_RELEASE && e.ref == bid) {
			assert_int_equal(e.d_available, 10);
			assert_int_equal(e.d_locked, -10);
			releases++;
		}
	}
	assert_int_equal(releases, 1);
	/* With fees: 0.05 % taker. 2 lots at 31000.00 lock ceil(6.2031) = 6.21;
	 * after 1 lot at 30000.00 (paid ceil(3.0015) = 3.01) the rest needs
	 * ceil(3.0015 + 3.10155) - 3.01 = 3.10. */
	struct shmex_symbol_params p = sym_params("BTC/USD.F", 1, 10000, 0, 500);
	uint32_t s2 = add_symbol(f, &p);
	deposit(f, s, BTC, 10000);
	struct shmex_order_request a = req(s, s2, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 3000000, 1);
	submit_ok(f, &a);
	struct shmex_balance before = bal(f, b, USD);
	struct shmex_order_request r = req(b, s2, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 3100000, 2);
	uint64_t bid2 = submit_ok(f, &r);
	o = order(f, bid2);
	assert_int_equal(o.quote_settled, 301);
	assert_int_equal(o.reserved, 310);
	expect_bal(f, b, USD, before.available - 301 - 310, before.locked + 310);
	fx_free(f);
}

static void test_rounding_smallest_unit(void **state)
{
	(void)state;
	/* "sat" symbol: lot 1 satoshi, tick 0.01 USD: a tick-lot is 10^-8 cent.
	 * At 500000.00 USD/BTC (50000000 ticks) one satoshi is worth 0.5 cent. */
	struct shmex_exchange_config c = fx_config();
	struct fx *f = fx_make(&c, sym_params("SAT/USD", 1, 1, 0, 0));
	uint32_t s = f->u[1];
	deposit(f, s, BTC, 3);
	uint64_t ask = limit(f, s, SHMEX_SELL, 50000000, 3);
	/* Three buyers take one satoshi each: each pays ceil(0.5) = 1 cent. */
	for (int i = 2; i <= 4; i++) {
		deposit(f, f->u[i], USD, 1);
		uint64_t bid = limit(f, f->u[i], SHMEX_BUY, 50000000, 1);
		assert_int_equal(order(f, bid).quote_settled, 1);
		expect_bal(f, f->u[i], USD, 0, 0);
		expect_bal(f, f->u[i], BTC, 1, 0);
	}
	/* The seller's order is rounded once on its total, 1.5 cent: it
	 * received floor(0.5) = 0, then floor(1.0) - 0 = 1, then floor(1.5) - 1 = 0. */
	assert_int_equal(order(f, ask).quote_settled, 1);
	expect_bal(f, s, USD, 1, 0);
	/* Rounding went to the fee account; nothing was created or lost. */
	expect_bal(f, SHMEX_FEE_ACCOUNT, USD, 2, 0);
	int64_t supply;
	assert_int_equal(shmex_exchange_supply(f->ex, USD, &supply), 0);
	assert_int_equal(supply, 3);

	/* One buy order filled in three pieces pays its total once rounded:
	 * 3 x 0.5 = 1.5 -> 2 cents (three separate orders paid 3). */
	for (int i = 0; i < 3; i++) {
		deposit(f, s, BTC, 1);
		limit(f, s, SHMEX_SELL, 50000000, 1);
	}
	deposit(f, f->u[5], USD, 2);
	uint64_t big = limit(f, f->u[5], SHMEX_BUY, 50000000, 3);
	struct shmex_order_state o = order(f, big);
	assert_int_equal(o.status, SHMEX_OS_FILLED);
	assert_int_equal(o.trades, 3);
	assert_int_equal(o.quote_settled, 2);
	expect_bal(f, f->u[5], USD, 0, 0);
	ledger_replay_matches(f);
	fx_free(f);
}

static void test_fee_rounding_favours_exchange(void **state)
{
	(void)state;
	/* coarse, taker 0.3 %, maker rebate 0.1 %: 1 lot at 150 is 150 cents.
	 * Taker fee 0.45 -> 1 cent (up); maker rebate 0.15 -> 0 (down). */
	struct fx *f = fx_coarse(-1000, 3000);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 1000);
	deposit(f, s, BTC, 1000000);
	uint64_t ask = limit(f, s, SHMEX_SELL, 150, 1);
	uint64_t bid = limit(f, b, SHMEX_BUY, 150, 1);
	assert_int_equal(order(f, bid).quote_settled, 151);
	assert_int_equal(order(f, bid).fees, 1);
	assert_int_equal(order(f, ask).quote_settled, 150);
	assert_int_equal(order(f, ask).fees, 0);
	expect_bal(f, SHMEX_FEE_ACCOUNT, USD, 1, 0);
	/* A selling taker: fee 0.45 -> 1 (it receives floor(149.55) = 149); a
	 * buying maker with rebate 0.15 pays ceil(149.85) = 150. */
	deposit(f, s, BTC, 1000000);
	uint64_t bid2 = limit(f, b, SHMEX_BUY, 150, 1);
	uint64_t ask2 = limit(f, s, SHMEX_SELL, 150, 1);
	assert_int_equal(order(f, ask2).quote_settled, 149);
	assert_int_equal(order(f, bid2).quote_settled, 150);
	expect_bal(f, SHMEX_FEE_ACCOUNT, USD, 2, 0);
	fx_free(f);
}

static void test_fee_account_conservation_many_rebates(void **state)
{
	(void)state;
	/* Maker rebate equal to the taker fee: the fee account only ever keeps
	 * rounding, and never goes below zero, fill after fill. */
	struct shmex_exchange_config c = fx_config();
	struct fx *f = fx_make(&c, sym_params("SAT/USD", 1, 1, -700, 700));
	deposit(f, f->u[1], BTC, 1000);
	deposit(f, f->u[2], USD, 1000000);
	for (int i = 0; i < 50; i++) {
		limit(f, f->u[1], SHMEX_SELL, 123456789 + i, 7 + i % 5);
		struct shmex_order_request r = req(f->u[2], f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_IOC,
						   123456789 + i, 3 + i % 4);
		submit_ok(f, &r);
		assert_true(bal(f, SHMEX_FEE_ACCOUNT, USD).available >= 0);
	}
	ledger_replay_matches(f);
	fx_free(f);
}

/* ---- market orders -------------------------------------------------------- */

static void test_market_buy_budget(void **state)
{
	(void)state;
	/* coarse, no fee: asks 3 lots at 300, 2 at 400. A market buy of 10
	 * with a 1000-cent budget takes the 3 (900); 100 left buys no lot at
	 * 400: killed (BUDGET); 100 released. */
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, s, BTC, 5000000);
	limit(f, s, SHMEX_SELL, 300, 3);
	limit(f, s, SHMEX_SELL, 400, 2);
	deposit(f, b, USD, 5000);
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_MARKET, SHMEX_IOC, 0, 10);
	r.quote_budget = 1000;
	uint64_t id = submit_ok(f, &r);
	struct shmex_order_state o = order(f, id);
	assert_int_equal(o.filled, 3);
	assert_int_equal(o.reason, SHMEX_R_BUDGET);
	assert_int_equal(o.status, SHMEX_OS_CANCELLED);
	assert_int_equal(o.quote_settled, 900);
	expect_bal(f, b, USD, 4100, 0);
	expect_bal(f, b, BTC, 3000000, 0);
	fx_free(f);

	/* With a 0.05 % taker fee the budget covers the fee too: 1000 cents
	 * buy at most floor(1000 / 1.0005) = 999 tick-lots; 3 at 300 cost
	 * ceil(900.45) = 901; 2 at 400 more would be 1701: not affordable. */
	f = fx_coarse(0, 500);
	b = f->u[1];
	s = f->u[2];
	deposit(f, s, BTC, 5000000);
	limit(f, s, SHMEX_SELL, 300, 3);
	limit(f, s, SHMEX_SELL, 330, 1);
	deposit(f, b, USD, 5000);
	r = req(b, f->sym, SHMEX_BUY, SHMEX_MARKET, SHMEX_IOC, 0, 10);
	r.quote_budget = 1000;
	id = submit_ok(f, &r);
	o = order(f, id);
	assert_int_equal(o.filled, 3); /* 900 + 330 > 999 */
	assert_int_equal(o.quote_settled, 901);
	assert_true(o.quote_settled <= r.quote_budget);
	expect_bal(f, b, USD, 5000 - 901, 0);

	/* A budget that buys no tick-lot is refused; as is a market buy with
	 * neither budget nor protection price, or with both. */
	r = req(b, f->sym, SHMEX_BUY, SHMEX_MARKET, SHMEX_IOC, 0, 10);
	r.quote_budget = 1;
	submit_rejected(f, &r, SHMEX_E_NOFUNDS, SHMEX_R_BUDGET);
	r.quote_budget = 0;
	submit_rejected(f, &r, SHMEX_E_BAD_OPTION, SHMEX_R_BAD_OPTION);
	r.quote_budget = 100;
	r.price = 400;
	submit_rejected(f, &r, SHMEX_E_BAD_OPTION, SHMEX_R_BAD_OPTION);
	/* More budget than available: refused. */
	r = req(b, f->sym, SHMEX_BUY, SHMEX_MARKET, SHMEX_IOC, 0, 10);
	r.quote_budget = 5000;
	submit_rejected(f, &r, SHMEX_E_NOFUNDS, SHMEX_R_NO_FUNDS);
	fx_free(f);
}

static void test_market_buy_protection_price(void **state)
{
	(void)state;
	/* A market buy with a protection price is a limit IOC there: locks
	 * as a limit, trades up to it, releases the rest. */
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, s, BTC, 5000000);
	limit(f, s, SHMEX_SELL, 300, 2);
	limit(f, s, SHMEX_SELL, 500, 2);
	deposit(f, b, USD, 4000);
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_MARKET, SHMEX_IOC, 400, 3);
	uint64_t id = submit_ok(f, &r);
	struct shmex_order_state o = order(f, id);
	assert_int_equal(o.filled, 2);
	assert_int_equal(o.cancelled, 1);
	assert_int_equal(o.type, SHMEX_MARKET);
	expect_bal(f, b, USD, 3400, 0);
	fx_free(f);
}

static void test_ioc_fok_post_only_stp(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, s, BTC, 10000000);
	deposit(f, b, USD, 100000);
	limit(f, s, SHMEX_SELL, 300, 2);
	/* FOK for 3: killed whole, everything released. */
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_FOK, 300, 3);
	uint64_t id = submit_ok(f, &r);
	assert_int_equal(order(f, id).reason, SHMEX_R_FOK);
	assert_int_equal(order(f, id).cancelled, 3);
	expect_bal(f, b, USD, 100000, 0);
	/* Post-only that would cross: rejected by the book, nothing locked. */
	r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 300, 1);
	r.flags = SHMEX_OF_POST_ONLY;
	submit_rejected(f, &r, SHMEX_E_WOULD_CROSS, SHMEX_R_POST_ONLY);
	expect_bal(f, b, USD, 100000, 0);
	r.price = 299;
	uint64_t po = submit_ok(f, &r);
	expect_bal(f, b, USD, 100000 - 299, 299);
	/* Self-trade prevention, cancel newest: the seller's own buy crosses
	 * its ask; the incoming remainder is cancelled and released. */
	deposit(f, s, USD, 1000);
	r = req(s, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 300, 1);
	r.stp = SHMEX_STP_CANCEL_NEWEST;
	id = submit_ok(f, &r);
	assert_int_equal(order(f, id).reason, SHMEX_R_SELF_TRADE);
	expect_bal(f, s, USD, 1000, 0);
	/* Cancel oldest: the resting ask goes, base released; the buy rests. */
	r = req(s, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 300, 1);
	r.stp = SHMEX_STP_CANCEL_OLDEST;
	id = submit_ok(f, &r);
	expect_bal(f, s, BTC, 10000000, 0);
	expect_bal(f, s, USD, 700, 300);
	assert_int_equal(order(f, po).status, SHMEX_OS_NEW);
	fx_free(f);
}

/* ---- risk ------------------------------------------------------------------ */

static void test_duplicate_client_id(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t a = f->u[1];
	deposit(f, a, USD, 100000);
	struct shmex_order_request r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	r.client_id = 4242;
	uint64_t id = submit_ok(f, &r);
	struct shmex_balance before = bal(f, a, USD);
	submit_rejected(f, &r, SHMEX_E_DUPLICATE, SHMEX_R_DUPLICATE_CLIENT_ID);
	expect_bal(f, a, USD, before.available, before.locked);
	/* Still a duplicate after the order ended: retries stay safe. */
	assert_int_equal(shmex_exchange_cancel(f->ex, a, id, NULL), 0);
	submit_rejected(f, &r, SHMEX_E_DUPLICATE, SHMEX_R_DUPLICATE_CLIENT_ID);
	/* Another user may use the same id. */
	deposit(f, f->u[2], USD, 1000);
	r.user = f->u[2];
	submit_ok(f, &r);
	uint64_t found;
	assert_int_equal(shmex_exchange_find_client_id(f->ex, a, 4242, &found), 0);
	assert_int_equal(found, id);
	fx_free(f);
}

static void test_shed_rejects_keep_no_record(void **state)
{
	(void)state;
	/* A small record pool: junk traffic (unknown users and symbols, retries
	 * of a known client id) far beyond it must not push user a's ended
	 * order, and so its client id, out of the retry window. */
	struct shmex_exchange_config c = fx_config();
	c.max_orders = 16;
	c.book_orders = 8;
	struct fx *f = fx_make(&c, sym_params("C/USD", 100, 1000000, 0, 0));
	uint32_t a = f->u[1], b = f->u[2];
	deposit(f, a, USD, 1000000);
	struct shmex_order_request r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	r.client_id = 77;
	uint64_t id = submit_ok(f, &r);
	assert_int_equal(shmex_exchange_cancel(f->ex, a, id, NULL), 0);
	for (int i = 0; i < 100; i++) {
		struct shmex_order_request junk = r;
		junk.user = 9999; /* no such user */
		submit_rejected(f, &junk, SHMEX_E_UNKNOWN_USER, SHMEX_R_UNKNOWN_USER);
		junk = r;
		junk.user = b;
		junk.symbol = 9999; /* no such symbol */
		submit_rejected(f, &junk, SHMEX_E_UNKNOWN_SYMBOL, SHMEX_R_UNKNOWN_SYMBOL);
		submit_rejected(f, &r, SHMEX_E_DUPLICATE, SHMEX_R_DUPLICATE_CLIENT_ID);
	}
	uint64_t found;
	assert_int_equal(shmex_exchange_find_client_id(f->ex, a, 77, &found), 0);
	assert_int_equal(found, id);
	assert_int_equal(order(f, id).status, SHMEX_OS_CANCELLED);
	fx_free(f);
}

static void test_client_id_index_survives_churn(void **state)
{
	(void)state;
	/* Many orders through a small record pool: ids recycle, the client-id
	 * index keeps exactly the ids of the records it still holds. */
	struct shmex_exchange_config c = fx_config();
	c.max_orders = 16;
	c.book_orders = 8;
	struct fx *f = fx_make(&c, sym_params("C/USD", 100, 1000000, 0, 0));
	uint32_t a = f->u[1];
	deposit(f, a, USD, 1000000);
	uint64_t keep = 0;
	for (uint64_t i = 1; i <= 200; i++) {
		struct shmex_order_request r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
		r.client_id = 1000 + i;
		uint64_t id = submit_ok(f, &r);
		if (i == 1)
			keep = id; /* stays live the whole time */
		else
			assert_int_equal(shmex_exchange_cancel(f->ex, a, id, NULL), 0);
		uint64_t found;
		assert_int_equal(shmex_exchange_find_client_id(f->ex, a, 1000 + i, &found), 0);
		assert_int_equal(found, id);
		assert_int_equal(shmex_exchange_find_client_id(f->ex, a, 1001, &found), 0);
		assert_int_equal(found, keep);
	}
	fx_free(f);
}

static void test_rate_limit(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	struct shmex_user_params up = {.rate_per_sec = 2, .rate_burst = 2};
	uint32_t a;
	assert_int_equal(shmex_exchange_add_user(f->ex, &up, &a), 0);
	deposit(f, a, USD, 100000);
	struct shmex_order_request r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	uint64_t id = submit_ok(f, &r);
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_ok(f, &r);
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_rejected(f, &r, SHMEX_E_RATE, SHMEX_R_RATE_LIMIT);
	/* Amends take tokens too; cancels do not. */
	assert_int_equal(shmex_exchange_amend(f->ex, a, id, 100, 2, NULL), SHMEX_E_RATE);
	assert_int_equal(shmex_exchange_cancel(f->ex, a, id, NULL), 0);
	/* 2 per second: 499 ms refill nothing, 500 ms one token. */
	int64_t t0 = shmex_exchange_now(f->ex);
	shmex_exchange_advance(f->ex, t0 + 499999999);
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_rejected(f, &r, SHMEX_E_RATE, SHMEX_R_RATE_LIMIT);
	shmex_exchange_advance(f->ex, t0 + 500000000);
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_ok(f, &r);
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_rejected(f, &r, SHMEX_E_RATE, SHMEX_R_RATE_LIMIT);
	/* A long pause refills up to the burst only. */
	shmex_exchange_advance(f->ex, t0 + 100000000000);
	for (int i = 0; i < 2; i++) {
		r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
		submit_ok(f, &r);
	}
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_rejected(f, &r, SHMEX_E_RATE, SHMEX_R_RATE_LIMIT);
	/* Other users are not affected. */
	deposit(f, f->u[1], USD, 1000);
	limit(f, f->u[1], SHMEX_BUY, 100, 1);
	fx_free(f);
}

static void test_price_band(void **state)
{
	(void)state;
	/* Band 10 % around the reference 1000, then around the last trade. */
	struct shmex_symbol_params p = sym_params("B/USD", 100, 1000000, 0, 0);
	p.band_ppm = 100000;
	p.ref_price = 1000;
	struct shmex_exchange_config c = fx_config();
	struct fx *f = fx_make(&c, p);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 1000000);
	deposit(f, s, BTC, 100000000);
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 1101, 1);
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_PRICE_BAND);
	r.price = 899;
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_PRICE_BAND);
	limit(f, b, SHMEX_BUY, 900, 1);
	limit(f, s, SHMEX_SELL, 1100, 1);
	/* Stops: the trigger is checked too. */
	r = req(s, f->sym, SHMEX_SELL, SHMEX_STOP_MARKET, SHMEX_IOC, 0, 1);
	r.trigger_price = 850;
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_PRICE_BAND);
	/* A trade at 1100 moves the band to 990..1210. */
	r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_IOC, 1100, 1);
	submit_ok(f, &r);
	r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 989, 1);
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_PRICE_BAND);
	r.price = 1210;
	submit_ok(f, &r);
	/* Amends are checked against the band too. */
	uint64_t id = limit(f, b, SHMEX_BUY, 1000, 1);
	struct shmex_order_ack ack;
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 1211, 1, &ack), SHMEX_E_RISK);
	assert_int_equal(ack.reason, SHMEX_R_PRICE_BAND);
	fx_free(f);
}

static void test_quantity_notional_open_order_limits(void **state)
{
	(void)state;
	struct shmex_symbol_params p = sym_params("L/USD", 100, 1000000, 0, 0);
	p.min_qty = 2;
	p.max_qty = 100;
	p.max_notional = 50000; /* 500.00 USD */
	struct shmex_exchange_config c = fx_config();
	c.max_open_orders = 3;
	struct fx *f = fx_make(&c, p);
	uint32_t b = f->u[1];
	deposit(f, b, USD, 10000000);
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_rejected(f, &r, SHMEX_E_BAD_QTY, SHMEX_R_BAD_QTY);
	r.qty = 101;
	submit_rejected(f, &r, SHMEX_E_BAD_QTY, SHMEX_R_BAD_QTY);
	r.qty = 100;
	r.price = 501; /* 50100 > 50000 */
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_RISK);
	r.price = 500;
	submit_ok(f, &r);
	limit(f, b, SHMEX_BUY, 100, 2);
	uint64_t third = limit(f, b, SHMEX_BUY, 100, 2);
	r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 2);
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_MAX_OPEN_ORDERS);
	assert_int_equal(shmex_exchange_cancel(f->ex, b, third, NULL), 0);
	submit_ok(f, &r);
	/* Overflow of price * qty * value is a reject, never a wrap. */
	struct shmex_symbol_params q = sym_params("O/USD", INT64_MAX / 2, 100000000, 0, 0);
	uint32_t so = add_symbol(f, &q);
	r = req(f->u[2], so, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, INT64_MAX, INT64_MAX);
	submit_rejected(f, &r, SHMEX_E_OVERFLOW, SHMEX_R_OVERFLOW);
	fx_free(f);
}

/* Issue 6.2: max_notional bounds what a sell can trade, not only what its
 * price says. A sell trades at the bids, at or above its price: it is
 * measured at the better of its price and the best bid; a market IOC sell
 * without a price is stopped at the limit (the book's budget); a sell whose
 * value cannot be bounded before it trades (stop-market without a
 * protection price) is refused. tick 0.01 USD, lot 0.01 BTC: a tick-lot is
 * 1/100 cent; max_notional 10.00 USD. */
static void test_max_notional_sells(void **state)
{
	(void)state;
	struct shmex_symbol_params p = sym_params("N/USD", 1, 1000000, 0, 0);
	p.max_notional = 1000;
	struct shmex_exchange_config c = fx_config();
	struct fx *f = fx_make(&c, p);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 2000);
	for (int i = 0; i < 20; i++) /* 20 bids of 10 lots at 1000: 1.00 USD each */
		limit(f, b, SHMEX_BUY, 1000, 10);
	deposit(f, s, BTC, 200000000);

	/* Worth 20.00 USD at its price: refused, as before. */
	struct shmex_order_request r = req(s, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 1000, 200);
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_RISK);
	/* Worth 0.02 USD at its price, 20.00 at the bids it would hit. */
	r = req(s, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_IOC, 1, 200);
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_RISK);
	/* A market FOK sell is measured at the best bid. */
	r = req(s, f->sym, SHMEX_SELL, SHMEX_MARKET, SHMEX_FOK, 0, 200);
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_RISK);
	/* A stop-market sell without a protection price: its bids are not
	 * known until it triggers. With one, it is a stop-limit there. */
	r = req(s, f->sym, SHMEX_SELL, SHMEX_STOP_MARKET, SHMEX_IOC, 0, 1);
	r.trigger_price = 900;
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_RISK);
	r.type = SHMEX_TAKE_PROFIT_MARKET;
	r.trigger_price = 1100;
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_RISK);
	r.price = 900;
	uint64_t tp = submit_ok(f, &r);
	assert_int_equal(shmex_exchange_cancel(f->ex, s, tp, NULL), 0);
	/* An amend that makes a resting sell cross is measured at the bids:
	 * 150 lots at 1 tick hit bids worth 15.00 USD. */
	uint64_t ask = limit(f, s, SHMEX_SELL, 2000, 5);
	assert_int_equal(shmex_exchange_amend(f->ex, s, ask, 1, 150, NULL), SHMEX_E_RISK);
	assert_int_equal(order(f, ask).remaining, 5);
	assert_int_equal(shmex_exchange_cancel(f->ex, s, ask, NULL), 0);
	expect_bal(f, s, USD, 0, 0);
	expect_bal(f, s, BTC, 200000000, 0);

	/* A market IOC sell of 200 lots stops at 10.00 USD: 100 lots, the
	 * rest killed (BUDGET). */
	r = req(s, f->sym, SHMEX_SELL, SHMEX_MARKET, SHMEX_IOC, 0, 200);
	uint64_t id = submit_ok(f, &r);
	struct shmex_order_state o = order(f, id);
	assert_int_equal(o.filled, 100);
	assert_int_equal(o.status, SHMEX_OS_CANCELLED);
	assert_int_equal(o.reason, SHMEX_R_BUDGET);
	assert_int_equal(o.quote_settled, 1000);
	expect_bal(f, s, USD, 1000, 0);
	expect_bal(f, s, BTC, 100000000, 0);
	/* A stop sell that triggers at once (last 1000 <= 1000) matches on
	 * entry: measured at the bids too. */
	deposit(f, s, BTC, 1000000);
	r = req(s, f->sym, SHMEX_SELL, SHMEX_STOP_LIMIT, SHMEX_IOC, 1, 101);
	r.trigger_price = 1000;
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_RISK);
	assert_int_equal(shmex_exchange_withdraw(f->ex, s, BTC, 1000000, 0, NULL), 0);
	/* Within the limit at the bids: accepted and filled. */
	r = req(s, f->sym, SHMEX_SELL, SHMEX_MARKET, SHMEX_FOK, 0, 10);
	assert_int_equal(order(f, submit_ok(f, &r)).filled, 10);
	r = req(s, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_IOC, 1, 90);
	assert_int_equal(order(f, submit_ok(f, &r)).filled, 90);
	expect_bal(f, s, USD, 2000, 0);
	expect_bal(f, b, BTC, 200000000, 0);
	/* No bid left: a market IOC sell finds nothing; a limit sell is
	 * measured at its price again. */
	deposit(f, s, BTC, 100000000);
	r = req(s, f->sym, SHMEX_SELL, SHMEX_MARKET, SHMEX_IOC, 0, 100);
	o = order(f, submit_ok(f, &r));
	assert_int_equal(o.filled, 0);
	assert_int_equal(o.reason, SHMEX_R_IOC);
	r = req(s, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 100, 100);
	submit_ok(f, &r);
	r = req(s, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 1001, 100);
	submit_rejected(f, &r, SHMEX_E_RISK, SHMEX_R_RISK);

	/* A budget buy with a 50 % taker rebate: a 10.00 USD budget would buy
	 * 20.00 USD of value; it stops at the limit, 10.00 (paying 5.00). */
	struct shmex_symbol_params pr = sym_params("NR/USD", 1, 1000000, 500000, -500000);
	pr.max_notional = 1000;
	uint32_t sr = add_symbol(f, &pr);
	deposit(f, s, BTC, 200000000);
	for (int i = 0; i < 20; i++) {
		r = req(s, sr, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 1000, 10);
		submit_ok(f, &r);
	}
	deposit(f, b, USD, 1000);
	r = req(b, sr, SHMEX_BUY, SHMEX_MARKET, SHMEX_IOC, 0, 200);
	r.quote_budget = 1000;
	o = order(f, submit_ok(f, &r));
	assert_int_equal(o.filled, 100);
	assert_int_equal(o.reason, SHMEX_R_BUDGET);
	assert_int_equal(o.quote_settled, 500);
	fx_free(f);
}

static void test_halt(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1];
	deposit(f, b, USD, 100000);
	uint64_t id = limit(f, b, SHMEX_BUY, 100, 5);
	assert_int_equal(shmex_exchange_set_status(f->ex, f->sym, SHMEX_SYMBOL_HALTED), 0);
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_rejected(f, &r, SHMEX_E_HALTED, SHMEX_R_HALTED);
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 100, 2, NULL), SHMEX_E_HALTED);
	assert_int_equal(order(f, id).remaining, 5);
	/* Cancel works while halted and releases. */
	assert_int_equal(shmex_exchange_cancel(f->ex, b, id, NULL), 0);
	expect_bal(f, b, USD, 100000, 0);
	assert_int_equal(shmex_exchange_set_status(f->ex, f->sym, 7), SHMEX_E_INVAL);
	assert_int_equal(shmex_exchange_set_status(f->ex, f->sym, SHMEX_SYMBOL_OPEN), 0);
	submit_ok(f, &r);
	fx_free(f);
}

static void test_mass_cancel(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	struct shmex_symbol_params p = sym_params("ETH/USD", 100, 1000000, 0, 0);
	p.base = ETH;
	uint32_t s2 = add_symbol(f, &p);
	uint32_t a = f->u[1], other = f->u[2];
	deposit(f, a, USD, 100000);
	deposit(f, a, ETH, 100000000);
	deposit(f, other, USD, 100000);
	limit(f, a, SHMEX_BUY, 100, 1);
	limit(f, a, SHMEX_BUY, 101, 2);
	uint64_t keep = limit(f, other, SHMEX_BUY, 100, 1);
	struct shmex_order_request r = req(a, s2, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 500, 3);
	submit_ok(f, &r);
	r = req(a, s2, SHMEX_BUY, SHMEX_STOP_LIMIT, SHMEX_GTC, 600, 1);
	r.trigger_price = 550;
	submit_ok(f, &r); /* parked: cancelled too */
	uint32_t n = 0;
	assert_int_equal(shmex_exchange_mass_cancel(f->ex, a, f->sym, &n), 0);
	assert_int_equal(n, 2);
	check_ok(f);
	expect_bal(f, a, USD, 100000 - 600, 600);
	assert_int_equal(shmex_exchange_mass_cancel(f->ex, a, SHMEX_ALL_SYMBOLS, &n), 0);
	assert_int_equal(n, 2);
	expect_bal(f, a, USD, 100000, 0);
	expect_bal(f, a, ETH, 100000000, 0);
	assert_true(order(f, keep).live);
	assert_int_equal(shmex_exchange_mass_cancel(f->ex, 99, SHMEX_ALL_SYMBOLS, &n),
			 SHMEX_E_UNKNOWN_USER);
	assert_int_equal(shmex_exchange_mass_cancel(f->ex, a, 99, &n), SHMEX_E_UNKNOWN_SYMBOL);
	fx_free(f);
}

/* ---- order types ------------------------------------------------------- */

static void test_gtd_expiry_releases(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1];
	deposit(f, b, USD, 10000);
	int64_t t = shmex_exchange_now(f->ex);
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTD, 100, 5);
	r.expire_at = t;
	submit_rejected(f, &r, SHMEX_E_EXPIRED, SHMEX_R_EXPIRED);
	r.expire_at = t + 1000;
	uint64_t id = submit_ok(f, &r);
	expect_bal(f, b, USD, 9500, 500);
	assert_int_equal(shmex_exchange_advance(f->ex, t + 999), 0);
	expect_bal(f, b, USD, 9500, 500);
	assert_int_equal(shmex_exchange_advance(f->ex, t + 1000), 1);
	check_ok(f);
	expect_bal(f, b, USD, 10000, 0);
	struct shmex_order_state o = order(f, id);
	assert_int_equal(o.status, SHMEX_OS_EXPIRED);
	assert_int_equal(o.reason, SHMEX_R_EXPIRED);
	assert_int_equal(o.cancelled, 5);
	assert_int_equal(o.updated, t + 1000);
	struct shmex_order_report h[4];
	assert_int_equal(shmex_exchange_order_history(f->ex, id, h, 4), 2);
	assert_int_equal(h[1].what, SHMEX_EV_EXPIRED);
	assert_int_equal(h[1].time, t + 1000);
	fx_free(f);
}

/* The exchange visits the books only when a GTD order may expire (its
 * earliest expiry), yet every order still expires exactly when the clock
 * reaches it, in order, whatever came between: clock moves that skipped
 * the books, a new GTD order earlier than every other, an expired one
 * refused at entry against the exchange's clock. */
static void test_gtd_expiry_exact_with_skips(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1];
	deposit(f, b, USD, 100000);
	const int64_t t = shmex_exchange_now(f->ex);
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTD, 100, 1);
	r.expire_at = t + 5000;
	uint64_t late = submit_ok(f, &r);
	/* Many moves with nothing due: no expiry. */
	for (int64_t k = 1; k < 50; k++)
		assert_int_equal(shmex_exchange_advance(f->ex, t + k * 10), 0);
	/* An order due sooner than the first, entered after those moves. */
	r.expire_at = t + 1000;
	r.client_id += 1;
	uint64_t soon = submit_ok(f, &r);
	/* Due at a time the clock already passed: refused, the exchange's clock
	 * being the one that counts (the book's may lag). */
	r.expire_at = t + 400;
	r.client_id += 1;
	submit_rejected(f, &r, SHMEX_E_EXPIRED, SHMEX_R_EXPIRED);
	assert_int_equal(shmex_exchange_advance(f->ex, t + 999), 0);
	assert_int_equal(order(f, soon).status, SHMEX_OS_NEW);
	assert_int_equal(shmex_exchange_advance(f->ex, t + 1000), 1);
	assert_int_equal(order(f, soon).status, SHMEX_OS_EXPIRED);
	assert_int_equal(order(f, late).status, SHMEX_OS_NEW);
	assert_int_equal(shmex_exchange_advance(f->ex, t + 4999), 0);
	assert_int_equal(shmex_exchange_advance(f->ex, t + 6000), 1);
	assert_int_equal(order(f, late).status, SHMEX_OS_EXPIRED);
	assert_int_equal(order(f, late).updated, t + 6000);
	/* Nothing left: later moves expire nothing, and a new GTD order is
	 * still seen. */
	assert_int_equal(shmex_exchange_advance(f->ex, t + 7000), 0);
	r.expire_at = t + 8000;
	r.client_id += 1;
	uint64_t again = submit_ok(f, &r);
	assert_int_equal(shmex_exchange_advance(f->ex, t + 8000), 1);
	assert_int_equal(order(f, again).status, SHMEX_OS_EXPIRED);
	check_ok(f);
	fx_free(f);
}

/* Runs a seeded flow on a fresh exchange, with or without prefetch hints
 * (well-formed ones for the next command, and garbage: unknown users and
 * symbols, ids never issued, every stage) before each command; returns a
 * digest of every ack and every balance. */
static uint64_t hinted_flow(int hints)
{
	struct fx *f = fx_coarse(-100, 300);
	for (int i = 1; i <= 3; i++) {
		deposit(f, f->u[i], USD, 100000000);
		deposit(f, f->u[i], BTC, 100000000);
	}
	uint64_t x = 99, digest = 1469598103934665603ULL;
	uint64_t ids[64] = { 0 };
	for (int step = 0; step < 3000; step++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		const uint32_t user = f->u[1 + (x >> 20) % 3];
		struct shmex_order_request r = req(user, f->sym, (int)((x >> 30) & 1), SHMEX_LIMIT,
						   (x >> 31) % 4 == 0 ? SHMEX_IOC : SHMEX_GTC,
						   90 + (int64_t)((x >> 33) % 20), 1 + (int64_t)((x >> 40) % 9));
		const uint64_t target = ids[(x >> 45) % 64];
		if (hints) {
			struct shmex_order_request junk = r;
			junk.user = (uint32_t)(x >> 7);
			junk.symbol = (uint32_t)(x >> 13);
			junk.price = (int64_t)(x >> 3);
			for (int stage = 0; stage < 3; stage++) {
				shmex_exchange_prefetch_submit(f->ex, &r, stage);
				shmex_exchange_prefetch_submit(f->ex, &junk, stage);
				shmex_exchange_prefetch_order(f->ex, target, stage);
				shmex_exchange_prefetch_order(f->ex, x, stage);
			}
			shmex_exchange_prefetch_client_id(f->ex, user, r.client_id);
			shmex_exchange_prefetch_client_id(f->ex, (uint32_t)x, x);
		}
		struct shmex_order_ack ack;
		memset(&ack, 0, sizeof ack);
		int rc;
		if ((x >> 50) % 4 == 0 && target)
			rc = shmex_exchange_cancel(f->ex, user, target, &ack);
		else {
			rc = shmex_exchange_submit(f->ex, &r, &ack);
			ids[(x >> 45) % 64] = ack.order_id;
		}
		digest = (digest ^ (uint64_t)(int64_t)rc ^ ack.order_id ^ ack.seq << 1 ^
			  (uint64_t)ack.reason << 7 ^ (uint64_t)ack.status << 13) *
			 1099511628211ULL;
	}
	for (int i = 0; i <= 3; i++)
		for (uint32_t a = USD; a <= BTC; a++) {
			struct shmex_balance b = bal(f, i ? f->u[i] : SHMEX_FEE_ACCOUNT, a);
			digest = (digest ^ (uint64_t)b.available ^ (uint64_t)b.locked << 1) *
				 1099511628211ULL;
		}
	fx_free(f);
	return digest;
}

/* Prefetch hints never change a result, whatever they are given. */
static void test_prefetch_hints_change_nothing(void **state)
{
	(void)state;
	assert_true(hinted_flow(0) == hinted_flow(1));
}

static void test_stop_reserves_at_entry(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1], s = f->u[2], m = f->u[3];
	deposit(f, b, USD, 10000);
	/* Stop-limit buy, trigger 110, limit 120, 10 lots: locks 1200. */
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_STOP_LIMIT, SHMEX_GTC, 120, 10);
	r.trigger_price = 110;
	uint64_t stop = submit_ok(f, &r);
	expect_bal(f, b, USD, 8800, 1200);
	assert_true(order(f, stop).parked);
	/* Stop-market buy: needs a protection price. */
	r = req(b, f->sym, SHMEX_BUY, SHMEX_STOP_MARKET, SHMEX_IOC, 0, 1);
	r.trigger_price = 110;
	submit_rejected(f, &r, SHMEX_E_BAD_OPTION, SHMEX_R_BAD_OPTION);
	r.price = 130;
	uint64_t sm = submit_ok(f, &r);
	expect_bal(f, b, USD, 8670, 1330);
	/* Stop-market sell locks its base. */
	deposit(f, s, BTC, 20000000); /* 20 lots */
	r = req(s, f->sym, SHMEX_SELL, SHMEX_STOP_MARKET, SHMEX_IOC, 0, 4);
	r.trigger_price = 90;
	uint64_t ss = submit_ok(f, &r);
	expect_bal(f, s, BTC, 16000000, 4000000);
	/* A parked stop cannot be amended. */
	assert_int_equal(shmex_exchange_amend(f->ex, b, stop, 120, 5, NULL), SHMEX_E_BAD_OPTION);
	/* Asks at 115 (10 lots) and a trade at 112 trigger both buy stops. */
	limit(f, s, SHMEX_SELL, 115, 10);
	deposit(f, m, USD, 1000);
	limit(f, s, SHMEX_SELL, 112, 1);
	limit(f, m, SHMEX_BUY, 112, 1);
	/* The stop-limit ran first (acceptance order) and bought 10 at 115:
	 * 1150 paid, 50 released; the stop-market found nothing left and was
	 * killed (IOC): its 130 released. */
	struct shmex_order_state o = order(f, stop);
	assert_int_equal(o.status, SHMEX_OS_FILLED);
	assert_int_equal(o.quote_settled, 1150);
	assert_int_equal(order(f, sm).status, SHMEX_OS_CANCELLED);
	assert_int_equal(order(f, sm).reason, SHMEX_R_IOC);
	expect_bal(f, b, USD, 10000 - 1150, 0);
	expect_bal(f, b, BTC, 10000000, 0);
	expect_bal(f, s, BTC, 5000000, 4000000);
	expect_bal(f, s, USD, 112 + 1150, 0);
	/* The sell stop (trigger 90) did not fire; cancelling it releases its base. */
	assert_true(order(f, ss).parked);
	assert_int_equal(shmex_exchange_cancel(f->ex, s, ss, NULL), 0);
	expect_bal(f, s, BTC, 9000000, 0);
	fx_free(f);
}

/* Issue 6.4: a stop that ended before it triggered (cancelled, expired,
 * mass cancelled) no longer waits for anything: parked is 0. */
static void test_ended_stop_not_parked(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t s = f->u[2];
	deposit(f, s, BTC, 30000000);
	struct shmex_order_request r = req(s, f->sym, SHMEX_SELL, SHMEX_STOP_MARKET, SHMEX_IOC, 0, 7);
	r.trigger_price = 53;
	uint64_t id = submit_ok(f, &r);
	assert_true(order(f, id).parked);
	assert_int_equal(shmex_exchange_cancel(f->ex, s, id, NULL), 0);
	struct shmex_order_state o = order(f, id);
	assert_int_equal(o.status, SHMEX_OS_CANCELLED);
	assert_int_equal(o.live, 0);
	assert_int_equal(o.parked, 0);
	/* Expiry and mass cancel of a parked stop likewise. */
	r = req(s, f->sym, SHMEX_SELL, SHMEX_STOP_LIMIT, SHMEX_GTD, 50, 7);
	r.trigger_price = 53;
	r.expire_at = shmex_exchange_now(f->ex) + 10;
	uint64_t gtd = submit_ok(f, &r);
	r = req(s, f->sym, SHMEX_SELL, SHMEX_STOP_LIMIT, SHMEX_GTC, 50, 7);
	r.trigger_price = 53;
	uint64_t gtc = submit_ok(f, &r);
	assert_true(order(f, gtd).parked && order(f, gtc).parked);
	assert_int_equal(shmex_exchange_advance(f->ex, shmex_exchange_now(f->ex) + 10), 1);
	assert_int_equal(order(f, gtd).status, SHMEX_OS_EXPIRED);
	assert_int_equal(order(f, gtd).parked, 0);
	assert_int_equal(shmex_exchange_mass_cancel(f->ex, s, SHMEX_ALL_SYMBOLS, NULL), 0);
	assert_int_equal(order(f, gtc).status, SHMEX_OS_CANCELLED);
	assert_int_equal(order(f, gtc).parked, 0);
	expect_bal(f, s, BTC, 30000000, 0);
	fx_free(f);
}

static void test_iceberg(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, s, BTC, 10000000);
	struct shmex_order_request r = req(s, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 100, 10);
	r.display_qty = 3;
	uint64_t ice = submit_ok(f, &r);
	expect_bal(f, s, BTC, 0, 10000000);
	deposit(f, b, USD, 700);
	limit(f, b, SHMEX_BUY, 100, 7);
	struct shmex_order_state o = order(f, ice);
	assert_int_equal(o.filled, 7);
	assert_int_equal(o.trades, 3); /* 3 + 3 + 1 */
	expect_bal(f, s, BTC, 0, 3000000);
	expect_bal(f, s, USD, 700, 0);
	fx_free(f);
}

/* Issue 6.3: one command's work is bounded. An iceberg needs a peak of at
 * least min_peak lots and at most max_iceberg_parts peaks in its quantity
 * (also after an amend); an order makes at most max_matches matches each
 * time it executes, and its remainder is killed (MATCH_LIMIT). */
static void test_work_bounds(void **state)
{
	(void)state;
	struct shmex_exchange_config c = fx_config();
	c.max_orders = 4096;
	c.book_orders = 2048;
	c.report_capacity = 1 << 16;
	c.ledger_capacity = 1 << 16;
	struct fx *f = fx_make(&c, sym_params("BTC/USD", 100, 1000000, 0, 0)); /* 1 cent a tick-lot */
	uint32_t b = f->u[1], s = f->u[2];
	struct shmex_symbol_params got;
	assert_int_equal(shmex_exchange_symbol(f->ex, f->sym, &got), 0);
	assert_int_equal(got.max_matches, SHMEX_MAX_MATCHES_DEFAULT);
	assert_int_equal(got.max_iceberg_parts, SHMEX_ICEBERG_PARTS_DEFAULT);
	assert_int_equal(got.min_peak, 1);

	/* Peaks: 1 lot holds at most 100 lots; the amend that would make it
	 * 10^9 lots is refused and changes nothing. */
	deposit(f, s, BTC, INT64_C(2000) * 1000000);
	struct shmex_order_request r = req(s, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 100, 101);
	r.display_qty = 1;
	submit_rejected(f, &r, SHMEX_E_BAD_QTY, SHMEX_R_BAD_QTY);
	r.qty = 100;
	uint64_t ice = submit_ok(f, &r);
	deposit(f, s, BTC, INT64_C(1000000000) * 1000000);
	assert_int_equal(shmex_exchange_amend(f->ex, s, ice, 100, 1000000000, NULL), SHMEX_E_BAD_QTY);
	assert_int_equal(shmex_exchange_amend(f->ex, s, ice, 100, 101, NULL), SHMEX_E_BAD_QTY);
	assert_int_equal(order(f, ice).remaining, 100);
	assert_int_equal(shmex_exchange_amend(f->ex, s, ice, 100, 50, NULL), 0);
	assert_int_equal(shmex_exchange_cancel(f->ex, s, ice, NULL), 0);
	/* An absolute minimum peak. */
	struct shmex_symbol_params pp = sym_params("P/USD", 100, 1000000, 0, 0);
	pp.min_peak = 5;
	pp.max_iceberg_parts = 4;
	uint32_t sp = add_symbol(f, &pp);
	r = req(s, sp, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 100, 20);
	r.display_qty = 4;
	submit_rejected(f, &r, SHMEX_E_BAD_QTY, SHMEX_R_BAD_QTY);
	r.display_qty = 5;
	uint64_t ice2 = submit_ok(f, &r);
	assert_int_equal(shmex_exchange_amend(f->ex, s, ice2, 100, 21, NULL), SHMEX_E_BAD_QTY);
	assert_int_equal(shmex_exchange_cancel(f->ex, s, ice2, NULL), 0);

	/* 1200 resting asks of one lot: a buy for all of them trades 1000
	 * times and its remainder is killed, GTC or not. One command, at most
	 * a report per side of each trade and a few more. */
	for (int i = 0; i < 1200; i++) {
		struct shmex_order_request a = req(s, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
		assert_int_equal(shmex_exchange_submit(f->ex, &a, NULL), 0);
	}
	check_ok(f);
	deposit(f, b, USD, 200000);
	uint64_t reports = shmex_exchange_report_count(f->ex);
	r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1200);
	uint64_t big = submit_ok(f, &r);
	assert_true(shmex_exchange_report_count(f->ex) - reports <= 2 * 1000 + 4);
	struct shmex_order_state o = order(f, big);
	assert_int_equal(o.filled, 1000);
	assert_int_equal(o.cancelled, 200);
	assert_int_equal(o.status, SHMEX_OS_CANCELLED);
	assert_int_equal(o.reason, SHMEX_R_MATCH_LIMIT);
	assert_int_equal(o.live, 0);
	expect_bal(f, b, USD, 200000 - 100000, 0);
	expect_bal(f, b, BTC, 1000 * 1000000, 0);
	struct shmex_order_report h[1];
	assert_int_equal(shmex_exchange_order_history(f->ex, big, h, 1), 1);
	assert_int_equal(h[0].what, SHMEX_EV_KILLED);
	assert_int_equal(h[0].reason, SHMEX_R_MATCH_LIMIT);
	assert_int_equal(h[0].last_qty, 200);

	/* A symbol's own bound; a FOK that would need more matches is killed
	 * whole, before any trade, and releases everything. */
	struct shmex_symbol_params pm = sym_params("M/USD", 100, 1000000, 0, 0);
	pm.max_matches = 5;
	uint32_t sm = add_symbol(f, &pm);
	for (int i = 0; i < 8; i++) {
		struct shmex_order_request a = req(s, sm, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
		submit_ok(f, &a);
	}
	r = req(b, sm, SHMEX_BUY, SHMEX_LIMIT, SHMEX_FOK, 100, 6);
	o = order(f, submit_ok(f, &r));
	assert_int_equal(o.filled, 0);
	assert_int_equal(o.reason, SHMEX_R_MATCH_LIMIT);
	r = req(b, sm, SHMEX_BUY, SHMEX_LIMIT, SHMEX_FOK, 100, 5);
	assert_int_equal(order(f, submit_ok(f, &r)).status, SHMEX_OS_FILLED);
	expect_bal(f, b, USD, 200000 - 100000 - 500, 0);
	fx_free(f);
}

static void test_amend_up_down(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 2000);
	uint64_t id = limit(f, b, SHMEX_BUY, 100, 10); /* locks 1000 */
	struct shmex_order_ack ack;
	/* Quantity up: needs 500 more. */
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 100, 15, &ack), 0);
	expect_bal(f, b, USD, 500, 1500);
	assert_int_equal(order(f, id).qty, 15);
	/* Up beyond the funds: refused, nothing changes. */
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 100, 21, &ack), SHMEX_E_NOFUNDS);
	assert_int_equal(ack.reason, SHMEX_R_NO_FUNDS);
	expect_bal(f, b, USD, 500, 1500);
	assert_int_equal(order(f, id).remaining, 15);
	/* Price up: 15 at 120 = 1800. */
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 120, 15, NULL), 0);
	expect_bal(f, b, USD, 200, 1800);
	/* Down: quantity and price, released at once. */
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 120, 5, NULL), 0);
	expect_bal(f, b, USD, 1400, 600);
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 90, 5, NULL), 0);
	expect_bal(f, b, USD, 1550, 450);
	struct shmex_order_state o = order(f, id);
	assert_int_equal(o.qty, 5);
	assert_int_equal(o.orig_qty, 10);
	assert_int_equal(o.price, 90);
	/* An amend that crosses trades: 5 at 95 against an ask at 95. */
	deposit(f, s, BTC, 5000000);
	limit(f, s, SHMEX_SELL, 95, 5);
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 96, 5, NULL), 0);
	assert_int_equal(order(f, id).status, SHMEX_OS_FILLED);
	expect_bal(f, b, USD, 2000 - 475, 0);
	/* Sells: amend moves the base lock. */
	deposit(f, s, BTC, 10000000);
	uint64_t ask = limit(f, s, SHMEX_SELL, 200, 4);
	assert_int_equal(shmex_exchange_amend(f->ex, s, ask, 200, 6, NULL), 0);
	expect_bal(f, s, BTC, 4000000, 6000000);
	assert_int_equal(shmex_exchange_amend(f->ex, s, ask, 200, 1, NULL), 0);
	expect_bal(f, s, BTC, 9000000, 1000000);
	assert_int_equal(shmex_exchange_amend(f->ex, s, ask, 200, 11, NULL), SHMEX_E_NOFUNDS);
	/* Bad arguments, someone else's order, an ended order. */
	assert_int_equal(shmex_exchange_amend(f->ex, s, ask, 200, 0, NULL), SHMEX_E_BAD_QTY);
	assert_int_equal(shmex_exchange_amend(f->ex, s, ask, 0, 1, NULL), SHMEX_E_BAD_PRICE);
	assert_int_equal(shmex_exchange_amend(f->ex, b, ask, 200, 1, NULL), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 200, 1, NULL), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_exchange_cancel(f->ex, b, ask, NULL), SHMEX_E_UNKNOWN_ORDER);
	fx_free(f);
}

static void test_amend_with_fees_and_partial_fill(void **state)
{
	(void)state;
	/* fine, taker 0.05 %: after a partial fill, amending the rest keeps
	 * the reservation exact (the check recomputes it from the model). */
	struct fx *f = fx_fine(-100, 500);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 10000000);
	deposit(f, s, BTC, 100000000);
	limit(f, s, SHMEX_SELL, 2999999, 333);
	uint64_t id = limit(f, b, SHMEX_BUY, 3000001, 1000);
	assert_int_equal(order(f, id).filled, 333);
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 3000007, 2000, NULL), 0);
	check_ok(f);
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 2999990, 17, NULL), 0);
	check_ok(f);
	limit(f, s, SHMEX_SELL, 2999990, 10);
	check_ok(f);
	assert_int_equal(shmex_exchange_cancel(f->ex, b, id, NULL), 0);
	expect_bal(f, b, USD, bal(f, b, USD).available, 0);
	ledger_replay_matches(f);
	fx_free(f);
}

static void test_cross_quote_asset(void **state)
{
	(void)state;
	/* ETH/BTC: the fee account collects BTC. Tick 0.000001 BTC (100 sat)
	 * per ETH, lot 0.01 ETH: a tick-lot is 1 sat. Taker 0.1 %. */
	struct fx *f = fx_coarse(0, 0);
	struct shmex_symbol_params p = sym_params("ETH/BTC", 100, 1000000, 0, 1000);
	p.base = ETH;
	p.quote = BTC;
	uint32_t eb = add_symbol(f, &p);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, BTC, 1000000);
	deposit(f, s, ETH, 100000000);
	struct shmex_order_request r = req(s, eb, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 60000, 10);
	submit_ok(f, &r); /* 0.1 ETH at 0.06 BTC */
	r = req(b, eb, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 60000, 10);
	submit_ok(f, &r);
	/* 600000 sat + 600 fee. */
	expect_bal(f, b, BTC, 1000000 - 600600, 0);
	expect_bal(f, b, ETH, 10000000, 0);
	expect_bal(f, s, BTC, 600000, 0);
	expect_bal(f, SHMEX_FEE_ACCOUNT, BTC, 600, 0);
	expect_bal(f, SHMEX_FEE_ACCOUNT, USD, 0, 0);
	fx_free(f);
}

/* ---- history, sequence, ledger -------------------------------------------- */

static void test_order_history_and_sequence(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 10000);
	deposit(f, s, BTC, 10000000);
	struct shmex_order_request q = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 10);
	struct shmex_order_ack a1, a2;
	assert_int_equal(shmex_exchange_submit(f->ex, &q, &a1), 0);
	uint64_t id = a1.order_id;
	limit(f, s, SHMEX_SELL, 100, 4);
	assert_int_equal(shmex_exchange_cancel(f->ex, b, id, &a2), 0);
	struct shmex_order_report h[8];
	uint32_t n = shmex_exchange_order_history(f->ex, id, h, 8);
	assert_int_equal(n, 3); /* RESTED changes no status: not reported */
	/* Acks name the sequence of the event they acknowledge. */
	assert_int_equal(a1.seq, h[0].seq);
	assert_int_equal(a2.seq, h[2].seq);
	assert_int_equal(a2.status, SHMEX_OS_CANCELLED);
	const uint16_t what[] = {SHMEX_EV_ACCEPTED, SHMEX_EV_TRADE, SHMEX_EV_CANCELLED};
	const uint8_t status[] = {SHMEX_OS_NEW, SHMEX_OS_PARTIALLY_FILLED, SHMEX_OS_CANCELLED};
	const int64_t filled[] = {0, 4, 4}, remaining[] = {10, 6, 0};
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(h[i].what, what[i]);
		assert_int_equal(h[i].status, status[i]);
		assert_int_equal(h[i].filled, filled[i]);
		assert_int_equal(h[i].remaining, remaining[i]);
		assert_int_equal(h[i].order_id, id);
		if (i > 0)
			assert_true(h[i].seq > h[i - 1].seq);
	}
	assert_int_equal(h[2].reason, SHMEX_R_CANCEL_REQUEST);
	assert_int_equal(h[2].last_qty, 6);
	/* The newest two only. */
	assert_int_equal(shmex_exchange_order_history(f->ex, id, h, 2), 2);
	assert_int_equal(h[0].what, SHMEX_EV_TRADE);
	assert_int_equal(h[1].what, SHMEX_EV_CANCELLED);
	/* A rejected order has a one-line history. */
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1000);
	struct shmex_order_ack ack;
	assert_int_equal(shmex_exchange_submit(f->ex, &r, &ack), SHMEX_E_NOFUNDS);
	assert_int_equal(shmex_exchange_order_history(f->ex, ack.order_id, h, 8), 1);
	assert_int_equal(h[0].what, SHMEX_EV_REJECTED);
	assert_int_equal(h[0].reason, SHMEX_R_NO_FUNDS);
	assert_int_equal(h[0].seq, ack.seq);
	assert_int_equal(order(f, ack.order_id).status, SHMEX_OS_REJECTED);
	/* Reports come out in sequence order. */
	uint64_t last = 0;
	for (uint64_t i = 0; i < shmex_exchange_report_count(f->ex); i++) {
		struct shmex_order_report x;
		assert_int_equal(shmex_exchange_report_read(f->ex, i, &x), 0);
		assert_true(x.seq >= last);
		last = x.seq;
	}
	ledger_replay_matches(f);
	fx_free(f);
}

struct sink_count {
	uint64_t ledger, reports;
};

static void count_ledger(void *ctx, const struct shmex_ledger_entry *e)
{
	(void)e;
	((struct sink_count *)ctx)->ledger++;
}

static void count_report(void *ctx, const struct shmex_order_report *r)
{
	(void)r;
	((struct sink_count *)ctx)->reports++;
}

/* A user's open orders, by id, per symbol or on all; paging by id. */
static void test_open_orders(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	struct shmex_symbol_params p2 = sym_params("ETH/USD", 100, 1000000, 0, 0);
	p2.base = ETH;
	uint32_t s2 = add_symbol(f, &p2);
	uint32_t b = f->u[1], s = f->u[2], other = f->u[3];
	struct shmex_order_state out[8];
	uint32_t total = 99;
	deposit(f, b, USD, 100000);
	deposit(f, s, BTC, 100000000);
	deposit(f, other, USD, 100000);
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, SHMEX_ALL_SYMBOLS, 0, out, 8, &total), 0);
	assert_int_equal(total, 0);

	uint64_t a = limit(f, b, SHMEX_BUY, 90, 5);
	struct shmex_order_request r = req(b, s2, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 80, 2);
	uint64_t c = submit_ok(f, &r);
	r = req(b, f->sym, SHMEX_BUY, SHMEX_STOP_LIMIT, SHMEX_GTC, 120, 1);
	r.trigger_price = 110;
	uint64_t stop = submit_ok(f, &r);
	r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_IOC, 90, 1); /* ends at once */
	submit_ok(f, &r);
	r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 90, 0); /* rejected */
	submit_rejected(f, &r, SHMEX_E_BAD_QTY, SHMEX_R_BAD_QTY);
	limit(f, other, SHMEX_BUY, 91, 1);
	uint64_t d = limit(f, b, SHMEX_BUY, 85, 3);

	assert_int_equal(shmex_exchange_open_orders(f->ex, b, SHMEX_ALL_SYMBOLS, 0, out, 8, &total), 4);
	assert_int_equal(total, 4);
	assert_true(out[0].order_id == a && out[1].order_id == c && out[2].order_id == stop &&
		    out[3].order_id == d);
	assert_int_equal(out[1].symbol, s2);
	assert_int_equal(out[2].parked, 1);
	assert_int_equal(out[3].remaining, 3);
	assert_true(out[0].live && out[0].user == b && out[0].price == 90);
	/* One symbol. */
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, f->sym, 0, out, 8, &total), 3);
	assert_int_equal(total, 3);
	assert_true(out[0].order_id == a && out[1].order_id == stop && out[2].order_id == d);
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, s2, 0, out, 8, &total), 1);
	assert_true(out[0].order_id == c);
	/* Pages: two at a time, then after the last id received. */
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, SHMEX_ALL_SYMBOLS, 0, out, 2, &total), 2);
	assert_int_equal(total, 4);
	assert_true(out[1].order_id == c);
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, SHMEX_ALL_SYMBOLS, c, out, 2, &total), 2);
	assert_int_equal(total, 2);
	assert_true(out[0].order_id == stop && out[1].order_id == d);
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, SHMEX_ALL_SYMBOLS, 0, NULL, 0, &total), 0);
	assert_int_equal(total, 4);

	/* Orders leave as they end: a cancel, a fill; an amend keeps the
	 * order's place (its id). */
	assert_int_equal(shmex_exchange_cancel(f->ex, b, c, NULL), 0);
	assert_int_equal(shmex_exchange_amend(f->ex, b, a, 95, 6, NULL), 0);
	limit(f, s, SHMEX_SELL, 95, 6); /* fills a */
	limit(f, s, SHMEX_SELL, 85, 1); /* 1 of d (91 of other first) */
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, SHMEX_ALL_SYMBOLS, 0, out, 8, &total), 2);
	assert_true(out[0].order_id == stop && out[1].order_id == d);
	assert_int_equal(shmex_exchange_open_orders(f->ex, other, SHMEX_ALL_SYMBOLS, 0, out, 8, &total),
			 0);
	assert_int_equal(shmex_exchange_mass_cancel(f->ex, b, f->sym, NULL), 0);
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, SHMEX_ALL_SYMBOLS, 0, out, 8, &total), 0);
	assert_int_equal(total, 0);

	/* Unknown user (the fee account included) or symbol. */
	assert_int_equal(shmex_exchange_open_orders(f->ex, 77, SHMEX_ALL_SYMBOLS, 0, out, 8, &total),
			 SHMEX_E_UNKNOWN_USER);
	assert_int_equal(shmex_exchange_open_orders(f->ex, SHMEX_FEE_ACCOUNT, SHMEX_ALL_SYMBOLS, 0, out,
						    8, &total),
			 SHMEX_E_UNKNOWN_USER);
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, 77, 0, out, 8, &total),
			 SHMEX_E_UNKNOWN_SYMBOL);

	/* Churn through every record slot (1024) a few times: the lists follow. */
	for (int i = 0; i < 3000; i++) {
		uint32_t u = f->u[1 + i % 3];
		struct shmex_order_request x = req(u, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC,
						   50 + i % 7, 1);
		uint64_t id;
		struct shmex_order_ack ack;
		assert_int_equal(shmex_exchange_submit(f->ex, &x, &ack), 0);
		id = ack.order_id;
		if (i % 3 != 0 || i % 15 != 0) /* b keeps one order in 15 */
			assert_int_equal(shmex_exchange_cancel(f->ex, u, id, NULL), 0);
	}
	check_ok(f);
	uint32_t n1 = 0;
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, SHMEX_ALL_SYMBOLS, 0, NULL, 0, &n1), 0);
	assert_int_equal(n1, 200);
	struct shmex_order_state *all = calloc(n1, sizeof *all);
	assert_non_null(all);
	assert_int_equal(shmex_exchange_open_orders(f->ex, b, f->sym, 0, all, n1, &total), (int)n1);
	for (uint32_t i = 1; i < n1; i++)
		assert_true(all[i - 1].order_id < all[i].order_id);
	free(all);
	fx_free(f);
}

static void test_sinks_and_small_rings(void **state)
{
	(void)state;
	struct sink_count sc = {0, 0};
	struct shmex_exchange_config c = fx_config();
	c.ledger_capacity = 4;
	c.report_capacity = 0;
	c.ledger_sink = count_ledger;
	c.ledger_ctx = &sc;
	c.report_sink = count_report;
	c.report_ctx = &sc;
	struct fx *f = fx_make(&c, sym_params("BTC/USD", 100, 1000000, 0, 0));
	deposit(f, f->u[1], USD, 10000);
	deposit(f, f->u[2], BTC, 10000000);
	limit(f, f->u[1], SHMEX_BUY, 100, 10);
	limit(f, f->u[2], SHMEX_SELL, 100, 10);
	assert_int_equal(sc.ledger, shmex_exchange_ledger_count(f->ex));
	assert_int_equal(sc.reports, shmex_exchange_report_count(f->ex));
	struct shmex_ledger_entry e;
	uint64_t n = shmex_exchange_ledger_count(f->ex);
	assert_int_equal(shmex_exchange_ledger_read(f->ex, n - 4, &e), 0);
	assert_int_equal(shmex_exchange_ledger_read(f->ex, n - 5, &e), SHMEX_E_INVAL);
	struct shmex_order_report r;
	assert_int_equal(shmex_exchange_report_read(f->ex, 0, &r), SHMEX_E_INVAL);
	fx_free(f);
}

/* ---- extremes -------------------------------------------------------------- */

/* The clock is nanoseconds from 0, as the books' clocks are: a negative
 * start is refused (it overflowed the rate limiter's refill, and a book
 * cannot go below 0, so it refused GTD orders expiring before 0 as EXPIRED).
 * Over the whole positive range the token bucket refills, GTD works. */
static void test_clock_extremes(void **state)
{
	(void)state;
	struct shmex_exchange *ex;
	struct shmex_exchange_config c = fx_config();
	c.start_time = -1;
	assert_int_equal(shmex_exchange_create(&c, &ex), SHMEX_E_INVAL);
	c.start_time = INT64_MIN + 1;
	assert_int_equal(shmex_exchange_create(&c, &ex), SHMEX_E_INVAL);
	c.start_time = 0;
	struct fx *f = fx_make(&c, sym_params("BTC/USD", 100, 1000000, 0, 0));
	struct shmex_user_params up = {.rate_per_sec = 1, .rate_burst = 1};
	uint32_t a;
	assert_int_equal(shmex_exchange_add_user(f->ex, &up, &a), 0);
	deposit(f, a, USD, 100000);
	struct shmex_order_request r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTD, 100, 1);
	r.expire_at = INT64_MAX;
	uint64_t gtd = submit_ok(f, &r);
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_rejected(f, &r, SHMEX_E_RATE, SHMEX_R_RATE_LIMIT);
	assert_int_equal(shmex_exchange_advance(f->ex, INT64_MAX - 1), 0);
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_ok(f, &r);
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_rejected(f, &r, SHMEX_E_RATE, SHMEX_R_RATE_LIMIT);
	assert_int_equal(shmex_exchange_advance(f->ex, INT64_MAX), 1);
	assert_int_equal(order(f, gtd).status, SHMEX_OS_EXPIRED);
	expect_bal(f, a, USD, 100000 - 100, 100);
	fx_free(f);
}

/* An order can receive more over its life than an asset's whole supply
 * (the same units come back to trade with it again): with an 18-decimal
 * quote asset INT64_MAX is only 9.2 units. Each fill must still settle;
 * the order's cumulative totals are kept modulo 2^64. */
static void test_order_proceeds_beyond_int64(void **state)
{
	(void)state;
	struct fx *f = fx_fine(0, 1000);
	struct shmex_asset_params wp = {.code = "WEI", .decimals = 18};
	uint32_t wei;
	assert_int_equal(shmex_exchange_add_asset(f->ex, &wp, &wei), 0);
	/* BTC/WEI, tick 10^-8 WEI-unit per BTC, lot 0.0001 BTC: a tick-lot is
	 * 10^6 wei. Taker 0.1 %. One lot at 4 * 10^12 ticks is worth 4 * 10^18
	 * wei; the buyer pays 4.004 * 10^18. */
	struct shmex_symbol_params p = sym_params("BTC/WEI", 10000000000, 10000, 0, 1000);
	p.quote = wei;
	uint32_t sym = add_symbol(f, &p);
	uint32_t b = f->u[1], s = f->u[2];
	const int64_t value = 4000000000000000000, cost = 4004000000000000000;
	deposit(f, s, BTC, 30000);
	struct shmex_order_request ask = req(s, sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC,
					     4000000000000, 3);
	uint64_t ask_id = submit_ok(f, &ask);
	for (int i = 1; i <= 3; i++) {
		/* The buyer brings the cost in, the seller takes the proceeds out. */
		deposit(f, b, wei, cost);
		struct shmex_order_request bid = req(b, sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_IOC,
						     4000000000000, 1);
		uint64_t bid_id = submit_ok(f, &bid);
		struct shmex_order_state bo = order(f, bid_id);
		assert_int_equal(bo.status, SHMEX_OS_FILLED);
		assert_true(bo.quote_settled == cost);
		assert_true(bo.fees == cost - value);
		expect_bal(f, s, wei, value, 0);
		expect_bal(f, SHMEX_FEE_ACCOUNT, wei, i * (cost - value), 0);
		assert_int_equal(shmex_exchange_withdraw(f->ex, s, wei, value, 0, NULL), 0);
		struct shmex_order_report h[1];
		assert_int_equal(shmex_exchange_order_history(f->ex, ask_id, h, 1), 1);
		assert_int_equal(h[0].what, SHMEX_EV_TRADE);
		assert_true(h[0].quote_amount == value);
		assert_int_equal(h[0].fee, 0);
	}
	struct shmex_order_state so = order(f, ask_id);
	assert_int_equal(so.filled, 3);
	assert_int_equal(so.status, SHMEX_OS_FILLED);
	assert_int_equal(so.fees, 0);
	/* 3 * 4 * 10^18 modulo 2^64. */
	assert_true((uint64_t)so.quote_settled == (uint64_t)value * 3);
	expect_bal(f, s, BTC, 0, 0);
	expect_bal(f, b, BTC, 30000, 0);
	fx_free(f);
}

/* A taker rebate lets a budget buy take more value than its budget: it is
 * capped where that value would no longer fit int64. */
static void test_budget_buy_taker_rebate_value_beyond_int64(void **state)
{
	(void)state;
	/* tick 10,000.00 USD per BTC, lot 1 BTC: a tick-lot is 10^6 cents.
	 * Taker -50 % (a rebate), maker +50 %. A budget B buys value 2B. */
	struct shmex_exchange_config c = fx_config();
	struct fx *f = fx_make(&c, sym_params("BTC/USD", 1000000, 100000000, 500000, -500000));
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, s, BTC, 200000000);
	limit(f, s, SHMEX_SELL, 5000000000000, 2); /* 2 lots worth 5 * 10^18 cents each */
	const int64_t budget = 5000000000000000000;
	deposit(f, b, USD, budget);
	struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_MARKET, SHMEX_IOC, 0, 2);
	r.quote_budget = budget;
	uint64_t id = submit_ok(f, &r);
	/* Both lots (10^19 cents of value) would overflow: one is bought. */
	struct shmex_order_state o = order(f, id);
	assert_int_equal(o.filled, 1);
	assert_int_equal(o.status, SHMEX_OS_CANCELLED);
	assert_int_equal(o.reason, SHMEX_R_BUDGET);
	assert_true(o.quote_settled == 2500000000000000000);
	assert_true(o.fees == -2500000000000000000);
	expect_bal(f, b, USD, budget - 2500000000000000000, 0);
	expect_bal(f, b, BTC, 100000000, 0);
	expect_bal(f, s, USD, 2500000000000000000, 0);
	expect_bal(f, SHMEX_FEE_ACCOUNT, USD, 0, 0);
	fx_free(f);
}

/* Issue 6.1: an order's lifetime totals (W = sum of price * qty * (10^6 +/-
 * fee)) pass 2^127 while every fill is small: the same units come back to
 * trade with a long-lived order again and again. Every fill must still
 * settle exactly. ETH with 18 decimals, a 0-decimal quote: kd = 10^12. */
static void test_lifetime_totals_beyond_128_bits(void **state)
{
	(void)state;
	struct shmex_exchange_config c = fx_config();
	c.max_assets = 6;
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(shmex_exchange_create(&c, &f->ex), 0);
	fx_assets(f);
	struct shmex_asset_params pts_p = {.code = "PTS", .decimals = 0};
	struct shmex_asset_params eth_p = {.code = "ETH18", .decimals = 18};
	uint32_t pts, eth;
	assert_int_equal(shmex_exchange_add_asset(f->ex, &pts_p, &pts), 0);
	assert_int_equal(shmex_exchange_add_asset(f->ex, &eth_p, &eth), 0);
	/* tick 10^6 PTS per 10^18 wei, lot 1 wei: a tick-lot is 10^-12 PTS. */
	struct shmex_symbol_params p = sym_params("ETH/PTS", 1000000, 1, 0, 0);
	p.base = eth;
	p.quote = pts;
	f->sym = add_symbol(f, &p);
	/* The same with a 0.1 % maker rebate (seller) and taker fee (buyer). */
	struct shmex_symbol_params pr = sym_params("ETH/PTSr", 1000000, 1, -1000, 1000);
	pr.base = eth;
	pr.quote = pts;
	uint32_t sym_r = add_symbol(f, &pr);
	uint32_t b = f->u[1], s = f->u[2];

	/* The reproducer: fills worth 9 * 10^18 PTS; W grows by 9 * 10^36 a
	 * fill and passes 2^127 at fill 19. */
	const int64_t nine = 9000000000000000000;
	deposit(f, s, eth, 1000000000000000000);
	uint64_t ask = limit(f, s, SHMEX_SELL, nine, 100000000000000);
	for (int i = 1; i <= 30; i++) {
		deposit(f, b, pts, nine);
		struct shmex_order_request r = req(b, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_IOC, nine,
						   1000000000000);
		uint64_t bid = submit_ok(f, &r);
		assert_int_equal(order(f, bid).status, SHMEX_OS_FILLED);
		assert_true(order(f, bid).quote_settled == nine);
		expect_bal(f, b, pts, 0, 0);
		expect_bal(f, s, pts, nine, 0);
		struct shmex_order_state so = order(f, ask);
		assert_true(so.remaining == 100000000000000 - i * INT64_C(1000000000000));
		assert_true((uint64_t)so.quote_settled == (uint64_t)nine * (uint64_t)i);
		assert_int_equal(shmex_exchange_withdraw(f->ex, s, pts, nine, 0, NULL), 0);
	}
	expect_bal(f, SHMEX_FEE_ACCOUNT, pts, 0, 0);

	/* With fees and rounding: one fill's W = P * Q * 1001000 = a * 10^18 +
	 * rem. Each buyer pays ceil = a + (rem > 0); after n fills the seller
	 * has received floor(n * W / 10^18) = n * a + floor(n * rem / 10^18). */
	const int64_t P = 8000000000000012345, Q = 999999999993;
	const shmex_i128 w1 = (shmex_i128)P * Q * 1001000, e18 = (shmex_i128)1000000000000000000;
	const int64_t a = (int64_t)(w1 / e18), rem = (int64_t)(w1 % e18);
	assert_true(rem != 0);
	deposit(f, s, eth, Q * 30);
	uint64_t ask_r = 0;
	{
		struct shmex_order_request r = req(s, sym_r, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, P,
						   Q * 30);
		ask_r = submit_ok(f, &r);
	}
	int64_t fees = 0;
	for (int64_t n = 1; n <= 30; n++) {
		const int64_t paid = a + 1;
		const int64_t got = a + (int64_t)((n * (shmex_i128)rem) / e18 -
						  ((n - 1) * (shmex_i128)rem) / e18);
		deposit(f, b, pts, paid);
		struct shmex_order_request r = req(b, sym_r, SHMEX_BUY, SHMEX_LIMIT, SHMEX_IOC, P, Q);
		uint64_t bid = submit_ok(f, &r);
		assert_int_equal(order(f, bid).status, SHMEX_OS_FILLED);
		assert_true(order(f, bid).quote_settled == paid);
		expect_bal(f, b, pts, 0, 0);
		expect_bal(f, s, pts, got, 0);
		fees += paid - got;
		expect_bal(f, SHMEX_FEE_ACCOUNT, pts, fees, 0);
		assert_int_equal(shmex_exchange_withdraw(f->ex, s, pts, got, 0, NULL), 0);
	}
	assert_int_equal(order(f, ask_r).status, SHMEX_OS_FILLED);
	fx_free(f);
}

/* A cancel or amend refused with the order known acks the order's status,
 * not "new"; one the book refused acks the number of its REJECTED event. */
static void test_refused_amend_ack(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1], s = f->u[2];
	deposit(f, b, USD, 2000);
	deposit(f, s, BTC, 6000000); /* 6 lots */
	uint64_t id = limit(f, b, SHMEX_BUY, 100, 10);
	limit(f, s, SHMEX_SELL, 100, 4);
	assert_int_equal(order(f, id).status, SHMEX_OS_PARTIALLY_FILLED);
	struct shmex_order_ack ack;
	memset(&ack, 0xff, sizeof ack);
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 100, 0, &ack), SHMEX_E_BAD_QTY);
	assert_int_equal(ack.reason, SHMEX_R_BAD_QTY);
	assert_int_equal(ack.status, SHMEX_OS_PARTIALLY_FILLED);
	assert_int_equal(ack.order_id, id);
	assert_int_equal(ack.seq, 0); /* refused before the book: no event */
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 100, 100, &ack), SHMEX_E_NOFUNDS);
	assert_int_equal(ack.status, SHMEX_OS_PARTIALLY_FILLED);
	/* A post-only order whose amend would cross: the book refuses it. */
	struct shmex_order_request po = req(s, f->sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 120, 2);
	po.flags = SHMEX_OF_POST_ONLY;
	uint64_t po_id = submit_ok(f, &po);
	uint64_t ledger = shmex_exchange_ledger_count(f->ex);
	assert_int_equal(shmex_exchange_amend(f->ex, s, po_id, 100, 2, &ack), SHMEX_E_WOULD_CROSS);
	assert_int_equal(ack.reason, SHMEX_R_POST_ONLY);
	assert_int_equal(ack.status, SHMEX_OS_NEW);
	assert_true(ack.seq != 0 && ack.seq == shmex_exchange_seq(f->ex));
	assert_int_equal(order(f, po_id).price, 120);
	assert_int_equal(shmex_exchange_ledger_count(f->ex), ledger);
	fx_free(f);
}

/* An amend sets the remaining quantity; with what is filled it makes the
 * order's quantity, which must fit int64 too: refused (OVERFLOW), unchanged. */
static void test_amend_quantity_overflow(void **state)
{
	(void)state;
	struct fx *f = fx_fine(0, 0);
	struct shmex_asset_params tp = {.code = "TOK", .decimals = 12};
	uint32_t tok;
	assert_int_equal(shmex_exchange_add_asset(f->ex, &tp, &tok), 0);
	/* TOK/USD, tick 0.01 USD per TOK, lot 10^-12 TOK: a tick-lot is
	 * 10^-12 cent, so 5 * 10^18 lots at 1 tick cost 5 * 10^6 cents. */
	struct shmex_symbol_params p = sym_params("TOK/USD", 1, 1, 0, 0);
	p.base = tok;
	uint32_t sym = add_symbol(f, &p);
	uint32_t b = f->u[1], s = f->u[2];
	const int64_t half = 5000000000000000000;
	deposit(f, s, tok, half);
	deposit(f, b, USD, 20000000);
	struct shmex_order_request ask = req(s, sym, SHMEX_SELL, SHMEX_LIMIT, SHMEX_GTC, 1, half);
	submit_ok(f, &ask);
	struct shmex_order_request bid = req(b, sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 1, half + 1);
	uint64_t id = submit_ok(f, &bid);
	struct shmex_order_state o = order(f, id);
	assert_true(o.filled == half && o.remaining == 1);
	struct shmex_balance before = bal(f, b, USD);
	uint64_t ledger = shmex_exchange_ledger_count(f->ex);
	struct shmex_order_ack ack;
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 1, half, &ack), SHMEX_E_OVERFLOW);
	assert_int_equal(ack.reason, SHMEX_R_OVERFLOW);
	o = order(f, id);
	assert_true(o.qty == half + 1 && o.remaining == 1);
	expect_bal(f, b, USD, before.available, before.locked);
	assert_int_equal(shmex_exchange_ledger_count(f->ex), ledger);
	/* Up to INT64_MAX in all is fine. */
	assert_int_equal(shmex_exchange_amend(f->ex, b, id, 1, INT64_MAX - half, NULL), 0);
	assert_true(order(f, id).qty == INT64_MAX);
	assert_int_equal(shmex_exchange_cancel(f->ex, b, id, NULL), 0);
	fx_free(f);
}

/* Every order record live: a new order is refused BOOK_FULL, without a
 * record (order id 0) and without touching a balance, after the funds
 * check (exchange.h, shmex_exchange_submit(), checks 9 and 10). */
static void test_order_records_exhausted(void **state)
{
	(void)state;
	struct shmex_exchange_config c = fx_config();
	c.max_orders = 4;
	c.book_orders = 8;
	struct fx *f = fx_make(&c, sym_params("C/USD", 100, 1000000, 0, 0));
	uint32_t a = f->u[1], poor = f->u[2];
	deposit(f, a, USD, 1000);
	uint64_t ids[4];
	for (int i = 0; i < 4; i++)
		ids[i] = limit(f, a, SHMEX_BUY, 100, 1);
	uint64_t ledger = shmex_exchange_ledger_count(f->ex);
	struct shmex_order_request r = req(poor, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	submit_rejected(f, &r, SHMEX_E_NOFUNDS, SHMEX_R_NO_FUNDS);
	r = req(a, f->sym, SHMEX_BUY, SHMEX_LIMIT, SHMEX_GTC, 100, 1);
	struct shmex_order_ack ack;
	assert_int_equal(shmex_exchange_submit(f->ex, &r, &ack), SHMEX_E_FULL);
	assert_int_equal(ack.reason, SHMEX_R_BOOK_FULL);
	assert_int_equal(ack.status, SHMEX_OS_REJECTED);
	assert_int_equal(ack.order_id, 0);
	assert_int_equal(shmex_exchange_ledger_count(f->ex), ledger);
	expect_bal(f, a, USD, 600, 400);
	uint64_t found;
	assert_int_equal(shmex_exchange_find_client_id(f->ex, a, r.client_id, &found),
			 SHMEX_E_UNKNOWN_ORDER);
	/* A record freed: the retry is accepted; the live ones are all kept. */
	assert_int_equal(shmex_exchange_cancel(f->ex, a, ids[0], NULL), 0);
	submit_ok(f, &r);
	for (int i = 1; i < 4; i++)
		assert_true(order(f, ids[i]).live);
	fx_free(f);
}

/* ---- check() finds violations ------------------------------------------- */

static void expect_violation(struct fx *f, const char *needle)
{
	char msg[256];
	assert_int_equal(shmex_exchange_check(f->ex, msg, sizeof msg), SHMEX_E_INVARIANT);
	if (strstr(msg, needle) == NULL)
		print_error("message \"%s\" does not name \"%s\"\n", msg, needle);
	assert_non_null(strstr(msg, needle));
}

static void test_check_names_violations(void **state)
{
	(void)state;
	struct fx *f = fx_coarse(0, 0);
	uint32_t b = f->u[1];
	deposit(f, b, USD, 10000);
	uint64_t id = limit(f, b, SHMEX_BUY, 100, 10);
	struct shmex_exchange *ex = f->ex;
	struct sx_account *acc = sx_account(ex, b, USD);

	/* Conservation: a unit from nowhere. */
	acc->available++;
	expect_violation(f, "asset USD");
	acc->available--;
	check_ok(f);
	/* Negative balance. */
	acc->available -= 10000;
	acc->locked += 10000;
	expect_violation(f, "negative");
	acc->available += 10000;
	acc->locked -= 10000;
	/* Locked not matching the orders (conservation kept). */
	acc->available--;
	acc->locked++;
	expect_violation(f, "locked");
	acc->available++;
	acc->locked--;
	/* An order reserving other than the model says. */
	struct sx_order *o = sx_order_find(ex, id);
	o->reserved--;
	expect_violation(f, "reserves");
	o->reserved++;
	/* filled + remaining + cancelled != qty. */
	o->qty++;
	expect_violation(f, "qty");
	o->qty--;
	/* Exchange and book disagree. */
	o->remaining--;
	expect_violation(f, "book says");
	o->remaining++;
	/* A recorded fault. */
	sx_fault(ex, "test fault %d", 7);
	expect_violation(f, "test fault 7");
	ex->fault = 0;
	check_ok(f);
	assert_int_equal(shmex_exchange_cancel(ex, b, id, NULL), 0);
	fx_free(f);
}

/* The reciprocal division of the money model against plain 128-bit
 * division, on edges and random operands, both roundings. */
static void test_scale_matches_exact_division(void **state)
{
	(void)state;
	static const int64_t divisors[] = {1, 2, 3, 7, 10, 999983, 1000000, 10000000000,
					   1000000000000000000, INT64_MAX};
	static const uint64_t nums[] = {0, 1, 2, 999999, UINT64_MAX / 3, UINT64_MAX - 1, UINT64_MAX};
	uint64_t x = 0x243f6a8885a308d3u;
	for (unsigned di = 0; di < sizeof divisors / sizeof divisors[0]; di++) {
		struct sx_divisor dv;
		sx_divisor_init(&dv, divisors[di]);
		for (unsigned k = 0; k < 20000; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			shmex_i128 num = k < 7 ? (shmex_i128)nums[k] : (shmex_i128)(x >> (k % 64));
			shmex_i128 wide;
			if (k % 5 == 0 && !__builtin_mul_overflow(num, (shmex_i128)(x | 1), &wide))
				num = wide; /* beyond 64 bits: the slow path */
			int64_t kn = k % 3 == 0 ? 1 : (int64_t)(1 + (x >> 40) % 1000);
			for (int up = 0; up <= 1; up++) {
				int64_t got = -1;
				int rc = sx_scale(num, kn, &dv, up, &got);
				shmex_i128 p, q = 0;
				int ovf = __builtin_mul_overflow(num, (shmex_i128)kn, &p);
				if (!ovf) {
					q = p / divisors[di];
					if (up && q * divisors[di] != p)
						q++;
				}
				if (ovf || q > INT64_MAX) {
					assert_int_equal(rc, SHMEX_E_OVERFLOW);
				} else {
					assert_int_equal(rc, 0);
					assert_true(got == (int64_t)q);
				}
				/* The quotient and remainder under it. */
				if (!ovf) {
					shmex_i128 dq;
					uint64_t dr;
					sx_divmod(p, &dv, &dq, &dr);
					assert_true(dq == p / divisors[di]);
					assert_true((shmex_i128)dr == p % divisors[di]);
				}
			}
		}
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(shmex_ledger_cause_name(SHMEX_LC_RELEASE), "release");
	assert_string_equal(shmex_ledger_cause_name(99), "?");
	assert_string_equal(shmex_order_status_name(SHMEX_OS_PARTIALLY_FILLED), "partially filled");
	assert_string_equal(shmex_order_status_name(-1), "?");
}

/* ---- hostile client ids ------------------------------------------------ */

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The inverse of an odd number modulo 2^64 (Newton's iteration). */
static uint64_t inverse_u64(uint64_t a)
{
	uint64_t x = a; /* correct to 3 bits: a * a = 1 mod 8 */
	for (int i = 0; i < 5; i++)
		x *= 2 - a * x;
	return x;
}

/* Client ids are the client's to choose. Chosen so that, under an unkeyed
 * Fibonacci hash of (client id, user), they all share one home slot, every
 * insert and lookup would walk their whole run: 50 000 of them would take
 * tens of seconds (quadratic) instead of a fraction of one, and stall
 * every other user of the exchange meanwhile. The secret seed scatters
 * them. A work bound, not a speed goal: the margin is two orders. */
static void test_clid_index_resists_chosen_ids(void **state)
{
	(void)state;
	struct shmex_exchange_config c = fx_config();
	c.max_orders = 1u << 17;
	c.book_orders = 1u << 17;
	struct fx *f = fx_make(&c, sym_params("BTC/USD", 100, 1000000, 0, 0));
	const uint32_t user = f->u[1];
	deposit(f, user, USD, INT64_C(1) << 40);
	const uint64_t kinv = inverse_u64(UINT64_C(0x9e3779b97f4a7c15)), n = 50000;
	assert_true(UINT64_C(0x9e3779b97f4a7c15) * kinv == 1);
	const double t0 = seconds_now();
	for (uint64_t j = 1; j <= n; j++) {
		struct shmex_order_request r;
		memset(&r, 0, sizeof r);
		r.client_id = (((UINT64_C(0x1234) << 32) | j) * kinv) ^ ((uint64_t)user << 40) ^ user;
		r.user = user;
		r.symbol = f->sym;
		r.price = 1;
		r.qty = 1;
		r.side = SHMEX_BUY;
		r.type = SHMEX_LIMIT;
		r.tif = SHMEX_GTC;
		assert_int_equal(shmex_exchange_submit(f->ex, &r, NULL), 0);
	}
	for (uint64_t j = 1; j <= n; j += 2) {
		uint64_t id;
		const uint64_t cid = (((UINT64_C(0x1234) << 32) | j) * kinv) ^ ((uint64_t)user << 40) ^ user;
		assert_int_equal(shmex_exchange_find_client_id(f->ex, user, cid, &id), 0);
		assert_int_equal(shmex_exchange_cancel(f->ex, user, id, NULL), 0);
	}
	const double dt = seconds_now() - t0;
	uint32_t total = 0;
	struct shmex_order_state page[1];
	assert_true(shmex_exchange_open_orders(f->ex, user, 0, 0, page, 0, &total) >= 0);
	assert_int_equal(total, n / 2);
	if (dt > 2.0)
		fail_msg("50k chosen client ids took %.2f s: the client-id index is not keyed", dt);
	fx_free(f);
}

int main(void)
{
	/* The flooding test needs the default, randomly keyed hash. */
	unsetenv("SHMEX_HASH_SEED");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clid_index_resists_chosen_ids),
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_registry_assets_users),
		cmocka_unit_test(test_registry_symbols),
		cmocka_unit_test(test_deposit_withdraw),
		cmocka_unit_test(test_withdraw_never_touches_locked),
		cmocka_unit_test(test_buy_limit_locks_value_and_worst_fee),
		cmocka_unit_test(test_sell_locks_base),
		cmocka_unit_test(test_insufficient_funds_changes_nothing),
		cmocka_unit_test(test_trade_settles_fees_and_rebate),
		cmocka_unit_test(test_worked_example_from_docs),
		cmocka_unit_test(test_rebate_to_buying_maker),
		cmocka_unit_test(test_better_price_releases_surplus),
		cmocka_unit_test(test_rounding_smallest_unit),
		cmocka_unit_test(test_fee_rounding_favours_exchange),
		cmocka_unit_test(test_fee_account_conservation_many_rebates),
		cmocka_unit_test(test_market_buy_budget),
		cmocka_unit_test(test_market_buy_protection_price),
		cmocka_unit_test(test_ioc_fok_post_only_stp),
		cmocka_unit_test(test_duplicate_client_id),
		cmocka_unit_test(test_client_id_index_survives_churn),
		cmocka_unit_test(test_shed_rejects_keep_no_record),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_price_band),
		cmocka_unit_test(test_quantity_notional_open_order_limits),
		cmocka_unit_test(test_max_notional_sells),
		cmocka_unit_test(test_halt),
		cmocka_unit_test(test_mass_cancel),
		cmocka_unit_test(test_gtd_expiry_releases),
		cmocka_unit_test(test_gtd_expiry_exact_with_skips),
		cmocka_unit_test(test_prefetch_hints_change_nothing),
		cmocka_unit_test(test_stop_reserves_at_entry),
		cmocka_unit_test(test_ended_stop_not_parked),
		cmocka_unit_test(test_iceberg),
		cmocka_unit_test(test_work_bounds),
		cmocka_unit_test(test_amend_up_down),
		cmocka_unit_test(test_amend_with_fees_and_partial_fill),
		cmocka_unit_test(test_cross_quote_asset),
		cmocka_unit_test(test_order_history_and_sequence),
		cmocka_unit_test(test_open_orders),
		cmocka_unit_test(test_sinks_and_small_rings),
		cmocka_unit_test(test_clock_extremes),
		cmocka_unit_test(test_order_proceeds_beyond_int64),
		cmocka_unit_test(test_budget_buy_taker_rebate_value_beyond_int64),
		cmocka_unit_test(test_lifetime_totals_beyond_128_bits),
		cmocka_unit_test(test_refused_amend_ack),
		cmocka_unit_test(test_amend_quantity_overflow),
		cmocka_unit_test(test_order_records_exhausted),
		cmocka_unit_test(test_check_names_violations),
		cmocka_unit_test(test_scale_matches_exact_division),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
