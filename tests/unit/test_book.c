/*
 * One test per matching rule of docs/MATCHING.md. Each test drives a small
 * book, records every event, and checks the exact events and the resulting
 * depth; shmex_book_verify() runs after every command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "shmex/book.h"

#include "book_internal.h" /* region sizes, for test_memsize_is_what_create_reserves */

/* Counting allocator for test_no_allocation_after_create, in builds without
 * AddressSanitizer (which owns malloc there). glibc's own calls (qsort's
 * buffer, for one) go through these public symbols too. */
#if defined(__SANITIZE_ADDRESS__)
#define SX_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SX_TEST_ASAN 1
#endif
#endif
#ifndef SX_TEST_ASAN
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
static long g_allocs;
void *malloc(size_t n)
{
	g_allocs++;
	return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
	g_allocs++;
	return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
	g_allocs++;
	return __libc_realloc(p, n);
}
#endif

#define MAX_EVENTS 4096

struct rec {
	struct shmex_book_event ev[MAX_EVENTS];
	int n;
};

static struct rec R;
static struct shmex_book *B;

static void sink(void *ctx, const struct shmex_book_event *ev)
{
	struct rec *r = ctx;
	assert_true(r->n < MAX_EVENTS);
	r->ev[r->n++] = *ev;
}

static int setup_cap(uint32_t orders, uint32_t levels)
{
	memset(&R, 0, sizeof R);
	struct shmex_book_params p = { .max_orders = orders, .max_levels = levels };
	return shmex_book_create(&p, sink, &R, &B);
}

static int setup(void **state)
{
	(void)state;
	return setup_cap(1024, 0);
}

static int teardown(void **state)
{
	(void)state;
	shmex_book_destroy(B);
	B = NULL;
	return 0;
}

static void clear(void)
{
	R.n = 0;
}

static void verify(void)
{
	assert_int_equal(shmex_book_verify(B), 0);
}

static struct shmex_order limit(uint64_t id, int side, int64_t price, int64_t qty)
{
	struct shmex_order o;
	memset(&o, 0, sizeof o);
	o.id = id;
	o.side = (uint8_t)side;
	o.type = SHMEX_LIMIT;
	o.tif = SHMEX_GTC;
	o.price = price;
	o.qty = qty;
	return o;
}

static int submit(struct shmex_order o)
{
	clear();
	int rc = shmex_book_submit(B, &o);
	verify();
	return rc;
}

static int add(uint64_t id, int side, int64_t price, int64_t qty)
{
	return submit(limit(id, side, price, qty));
}

static int count_type(uint16_t type)
{
	int n = 0;
	for (int i = 0; i < R.n; i++)
		n += R.ev[i].type == type;
	return n;
}

/* The k-th event of a given type. */
static const struct shmex_book_event *nth(uint16_t type, int k)
{
	for (int i = 0; i < R.n; i++)
		if (R.ev[i].type == type && k-- == 0)
			return &R.ev[i];
	fail_msg("no event %d of type %u", k, type);
	return NULL;
}

static void assert_trade(int k, uint64_t taker, uint64_t maker, int64_t price, int64_t qty)
{
	const struct shmex_book_event *e = nth(SHMEX_EV_TRADE, k);
	assert_int_equal(e->order_id, taker);
	assert_int_equal(e->maker_id, maker);
	assert_int_equal(e->price, price);
	assert_int_equal(e->qty, qty);
}

static void assert_level(int side, int i, int64_t price, int64_t qty, uint32_t orders)
{
	struct shmex_level_info lv[64];
	uint32_t n = shmex_book_depth(B, side, lv, 64);
	assert_true((uint32_t)i < n);
	assert_int_equal(lv[i].price, price);
	assert_true(lv[i].qty == (shmex_u128)qty);
	assert_int_equal(lv[i].orders, orders);
}

static uint32_t levels(int side)
{
	return shmex_book_level_count(B, side);
}

/* ---- basic placement and priority -------------------------------------- */

static void test_limit_rests_and_best_price(void **state)
{
	(void)state;
	int64_t p;
	assert_int_equal(shmex_book_best(B, SHMEX_BUY, &p), 0);
	assert_int_equal(add(1, SHMEX_BUY, 100, 5), 0);
	assert_int_equal(R.n, 2);
	assert_int_equal(R.ev[0].type, SHMEX_EV_ACCEPTED);
	assert_int_equal(R.ev[1].type, SHMEX_EV_RESTED);
	assert_int_equal(R.ev[1].remaining, 5);
	add(2, SHMEX_BUY, 101, 1);
	add(3, SHMEX_BUY, 99, 1);
	add(4, SHMEX_SELL, 105, 1);
	add(5, SHMEX_SELL, 103, 1);
	assert_int_equal(shmex_book_best(B, SHMEX_BUY, &p), 1);
	assert_int_equal(p, 101);
	assert_int_equal(shmex_book_best(B, SHMEX_SELL, &p), 1);
	assert_int_equal(p, 103);
	shmex_book_cancel(B, 2);
	assert_int_equal(shmex_book_best(B, SHMEX_BUY, &p), 1);
	assert_int_equal(p, 100);
	assert_level(SHMEX_BUY, 1, 99, 1, 1);
	assert_int_equal(shmex_book_order_count(B), 4);
}

static void test_price_then_time_priority(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 101, 5);
	add(2, SHMEX_SELL, 100, 5);
	add(3, SHMEX_SELL, 100, 5);
	add(4, SHMEX_BUY, 101, 12);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 3);
	assert_trade(0, 4, 2, 100, 5); /* better price first */
	assert_trade(1, 4, 3, 100, 5); /* then the older order */
	assert_trade(2, 4, 1, 101, 2); /* at the maker's price */
	assert_int_equal(nth(SHMEX_EV_TRADE, 2)->remaining, 0);
	assert_true(nth(SHMEX_EV_TRADE, 0)->flags & SHMEX_EVF_MAKER_DONE);
	assert_false(nth(SHMEX_EV_TRADE, 2)->flags & SHMEX_EVF_MAKER_DONE);
	assert_level(SHMEX_SELL, 0, 101, 3, 1);
	assert_int_equal(levels(SHMEX_BUY), 0);
	int64_t last;
	assert_int_equal(shmex_book_last_price(B, &last), 1);
	assert_int_equal(last, 101);
}

static void test_partial_fill_rests_remainder(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 3);
	add(2, SHMEX_BUY, 100, 10);
	assert_trade(0, 2, 1, 100, 3);
	assert_int_equal(nth(SHMEX_EV_RESTED, 0)->qty, 7);
	assert_level(SHMEX_BUY, 0, 100, 7, 1);
	assert_int_equal(levels(SHMEX_SELL), 0);
}

/* ---- time in force ------------------------------------------------------- */

static void test_market_order_sweeps_and_kills_rest(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 2);
	add(2, SHMEX_SELL, 5000, 2);
	struct shmex_order m = limit(3, SHMEX_BUY, 0, 10);
	m.type = SHMEX_MARKET;
	m.tif = SHMEX_IOC;
	assert_int_equal(submit(m), 0);
	assert_trade(0, 3, 1, 100, 2);
	assert_trade(1, 3, 2, 5000, 2);
	const struct shmex_book_event *k = nth(SHMEX_EV_KILLED, 0);
	assert_int_equal(k->reason, SHMEX_R_IOC);
	assert_int_equal(k->qty, 6);
	assert_int_equal(levels(SHMEX_SELL), 0);
	assert_int_equal(shmex_book_order_count(B), 0);
}

static void test_market_order_on_empty_book(void **state)
{
	(void)state;
	struct shmex_order m = limit(1, SHMEX_SELL, 0, 10);
	m.type = SHMEX_MARKET;
	m.tif = SHMEX_IOC;
	assert_int_equal(submit(m), 0);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 0);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->qty, 10);
	assert_int_equal(shmex_book_order_count(B), 0);
	/* A market order must be IOC or FOK. */
	m.id = 2;
	m.tif = SHMEX_GTC;
	assert_int_equal(submit(m), SHMEX_E_BAD_OPTION);
}

static void test_market_budget_caps_notional(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 5);
	add(2, SHMEX_SELL, 110, 5);
	struct shmex_order m = limit(3, SHMEX_BUY, 0, 10);
	m.type = SHMEX_MARKET;
	m.tif = SHMEX_IOC;
	m.max_notional = 100 * 5 + 110 * 2 + 50; /* 2 lots at 110, not 3 */
	submit(m);
	assert_trade(0, 3, 1, 100, 5);
	assert_trade(1, 3, 2, 110, 2);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_BUDGET);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->qty, 3);
	assert_level(SHMEX_SELL, 0, 110, 3, 1);
	m.id = 4;
	m.type = SHMEX_LIMIT;
	m.price = 100;
	assert_int_equal(submit(m), SHMEX_E_BAD_OPTION); /* budget is for market orders */
}

static void test_ioc_fills_what_crosses(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 4);
	struct shmex_order o = limit(2, SHMEX_BUY, 100, 10);
	o.tif = SHMEX_IOC;
	submit(o);
	assert_trade(0, 2, 1, 100, 4);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->qty, 6);
	assert_int_equal(levels(SHMEX_BUY), 0);
}

static void test_fok_filled_only_by_several_levels(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 4);
	add(2, SHMEX_SELL, 101, 4);
	add(3, SHMEX_SELL, 102, 4);
	struct shmex_order o = limit(4, SHMEX_BUY, 102, 10);
	o.tif = SHMEX_FOK;
	submit(o);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 3);
	assert_trade(2, 4, 3, 102, 2);
	assert_int_equal(count_type(SHMEX_EV_KILLED), 0);
	assert_level(SHMEX_SELL, 0, 102, 2, 1);
}

static void test_fok_unfillable_changes_nothing(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 4);
	add(2, SHMEX_SELL, 103, 4);
	struct shmex_order o = limit(3, SHMEX_BUY, 102, 5); /* only 4 at or below 102 */
	o.tif = SHMEX_FOK;
	submit(o);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 0);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_FOK);
	assert_level(SHMEX_SELL, 0, 100, 4, 1);
	assert_level(SHMEX_SELL, 1, 103, 4, 1);
}

static void test_fok_counts_hidden_iceberg(void **state)
{
	(void)state;
	struct shmex_order ice = limit(1, SHMEX_SELL, 100, 30);
	ice.display_qty = 5;
	submit(ice);
	assert_level(SHMEX_SELL, 0, 100, 5, 1);
	struct shmex_order o = limit(2, SHMEX_BUY, 100, 20);
	o.tif = SHMEX_FOK;
	submit(o);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 4);
	assert_level(SHMEX_SELL, 0, 100, 5, 1);
}

static void test_post_only(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 5);
	struct shmex_order o = limit(2, SHMEX_BUY, 100, 5);
	o.flags = SHMEX_OF_POST_ONLY;
	assert_int_equal(submit(o), SHMEX_E_WOULD_CROSS);
	assert_int_equal(R.n, 1);
	assert_int_equal(R.ev[0].type, SHMEX_EV_REJECTED);
	assert_int_equal(R.ev[0].reason, SHMEX_R_POST_ONLY);
	assert_level(SHMEX_SELL, 0, 100, 5, 1);
	o.price = 99;
	assert_int_equal(submit(o), 0);
	assert_level(SHMEX_BUY, 0, 99, 5, 1);
	o.id = 3;
	o.tif = SHMEX_IOC;
	assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
}

static void test_gtd_expires_on_the_injected_clock(void **state)
{
	(void)state;
	shmex_book_advance(B, 1000);
	struct shmex_order o = limit(1, SHMEX_BUY, 100, 5);
	o.tif = SHMEX_GTD;
	o.expire_at = 1000; /* not in the future */
	assert_int_equal(submit(o), SHMEX_E_EXPIRED);
	o.expire_at = 2000;
	assert_int_equal(submit(o), 0);
	o = limit(2, SHMEX_BUY, 99, 5);
	o.tif = SHMEX_GTD;
	o.expire_at = 1500;
	submit(o);
	clear();
	assert_int_equal(shmex_book_advance(B, 1499), 0);
	assert_int_equal(shmex_book_advance(B, 1400), 0); /* clock never goes back */
	assert_int_equal(shmex_book_advance(B, 1500), 1);
	assert_int_equal(R.ev[0].type, SHMEX_EV_EXPIRED);
	assert_int_equal(R.ev[0].order_id, 2);
	assert_int_equal(R.ev[0].qty, 5);
	verify();
	assert_int_equal(shmex_book_advance(B, 5000), 1);
	assert_int_equal(levels(SHMEX_BUY), 0);
	verify();
}

/* ---- cancel, reduce, amend ------------------------------------------------ */

static void test_cancel_and_unknown(void **state)
{
	(void)state;
	add(1, SHMEX_BUY, 100, 5);
	clear();
	assert_int_equal(shmex_book_cancel(B, 1), 0);
	assert_int_equal(R.ev[0].type, SHMEX_EV_CANCELLED);
	assert_int_equal(R.ev[0].reason, SHMEX_R_CANCEL_REQUEST);
	assert_int_equal(R.ev[0].qty, 5);
	assert_int_equal(levels(SHMEX_BUY), 0);
	clear();
	assert_int_equal(shmex_book_cancel(B, 1), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(R.ev[0].reason, SHMEX_R_UNKNOWN_ORDER);
	verify();
}

static void test_reduce_keeps_priority(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 10);
	add(2, SHMEX_SELL, 100, 10);
	clear();
	assert_int_equal(shmex_book_reduce(B, 1, 4), 0);
	assert_int_equal(R.ev[0].type, SHMEX_EV_REDUCED);
	assert_int_equal(R.ev[0].remaining, 6);
	assert_level(SHMEX_SELL, 0, 100, 16, 2);
	add(3, SHMEX_BUY, 100, 6);
	assert_trade(0, 3, 1, 100, 6); /* 1 is still first */
}

static void test_reduce_to_zero_cancels(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 10);
	clear();
	assert_int_equal(shmex_book_reduce(B, 1, 10), 0);
	assert_int_equal(R.ev[0].type, SHMEX_EV_CANCELLED);
	assert_int_equal(R.ev[0].reason, SHMEX_R_REDUCED_TO_ZERO);
	assert_int_equal(levels(SHMEX_SELL), 0);
	add(2, SHMEX_SELL, 100, 10);
	clear();
	assert_int_equal(shmex_book_reduce(B, 2, 11), 0); /* below zero too */
	assert_int_equal(R.ev[0].reason, SHMEX_R_REDUCED_TO_ZERO);
	assert_int_equal(shmex_book_reduce(B, 2, 0), SHMEX_E_BAD_QTY);
	assert_int_equal(shmex_book_reduce(B, 99, 1), SHMEX_E_UNKNOWN_ORDER);
	verify();
}

static void test_reduce_iceberg_takes_hidden_first(void **state)
{
	(void)state;
	struct shmex_order o = limit(1, SHMEX_SELL, 100, 30);
	o.display_qty = 10;
	submit(o);
	shmex_book_reduce(B, 1, 15);
	verify();
	assert_level(SHMEX_SELL, 0, 100, 10, 1); /* 15 left: 10 shown, 5 hidden */
	shmex_book_reduce(B, 1, 8);
	verify();
	assert_level(SHMEX_SELL, 0, 100, 7, 1); /* 7 left, all shown */
}

static void test_amend_quantity_down_keeps_priority(void **state)
{
	(void)state;
	add(1, SHMEX_BUY, 100, 10);
	add(2, SHMEX_BUY, 100, 10);
	clear();
	assert_int_equal(shmex_book_amend(B, 1, 100, 3), 0);
	assert_int_equal(R.ev[0].type, SHMEX_EV_REDUCED);
	verify();
	add(3, SHMEX_SELL, 100, 3);
	assert_trade(0, 3, 1, 100, 3);
}

static void test_amend_quantity_up_loses_priority(void **state)
{
	(void)state;
	add(1, SHMEX_BUY, 100, 10);
	add(2, SHMEX_BUY, 100, 10);
	clear();
	assert_int_equal(shmex_book_amend(B, 1, 100, 11), 0);
	assert_int_equal(R.ev[0].type, SHMEX_EV_AMENDED);
	verify();
	assert_level(SHMEX_BUY, 0, 100, 21, 2);
	add(3, SHMEX_SELL, 100, 10);
	assert_trade(0, 3, 2, 100, 10); /* 2 is now first */
}

static void test_amend_price_loses_priority_and_may_trade(void **state)
{
	(void)state;
	add(1, SHMEX_BUY, 99, 10);
	add(2, SHMEX_BUY, 100, 10);
	add(3, SHMEX_SELL, 102, 4);
	assert_int_equal(shmex_book_amend(B, 1, 100, 10), 0);
	verify();
	add(4, SHMEX_SELL, 100, 10);
	assert_trade(0, 4, 2, 100, 10); /* 1 moved behind 2 */
	clear();
	assert_int_equal(shmex_book_amend(B, 1, 102, 10), 0); /* now crosses */
	verify();
	assert_trade(0, 1, 3, 102, 4);
	assert_level(SHMEX_BUY, 0, 102, 6, 1);
	assert_int_equal(shmex_book_amend(B, 77, 100, 1), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_book_amend(B, 1, 0, 1), SHMEX_E_BAD_PRICE);
	assert_int_equal(shmex_book_amend(B, 1, 100, 0), SHMEX_E_BAD_QTY);
}

static void test_amend_post_only_that_would_cross(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 105, 1);
	struct shmex_order o = limit(2, SHMEX_BUY, 100, 5);
	o.flags = SHMEX_OF_POST_ONLY;
	submit(o);
	clear();
	assert_int_equal(shmex_book_amend(B, 2, 105, 5), SHMEX_E_WOULD_CROSS);
	assert_int_equal(R.ev[0].reason, SHMEX_R_POST_ONLY);
	assert_level(SHMEX_BUY, 0, 100, 5, 1); /* unchanged */
	verify();
}

static void test_mass_cancel_by_owner(void **state)
{
	(void)state;
	for (uint64_t id = 1; id <= 6; id++) {
		struct shmex_order o = limit(id, SHMEX_BUY, 90 + (int64_t)id, 1);
		o.owner = id % 2;
		o.flags = SHMEX_OF_OWNER;
		submit(o);
	}
	add(7, SHMEX_BUY, 50, 1); /* no owner */
	clear();
	assert_int_equal(shmex_book_cancel_owner(B, 1), 3);
	assert_int_equal(R.n, 3);
	assert_int_equal(R.ev[0].order_id, 1); /* in acceptance order */
	assert_int_equal(R.ev[2].order_id, 5);
	assert_int_equal(R.ev[1].reason, SHMEX_R_MASS_CANCEL);
	verify();
	assert_int_equal(shmex_book_order_count(B), 4);
}

/* ---- iceberg ---------------------------------------------------------------- */

static void test_iceberg_replenishes_to_back_of_queue(void **state)
{
	(void)state;
	struct shmex_order ice = limit(1, SHMEX_SELL, 100, 25);
	ice.display_qty = 10;
	submit(ice);
	add(2, SHMEX_SELL, 100, 5);
	assert_level(SHMEX_SELL, 0, 100, 15, 2);
	add(3, SHMEX_BUY, 100, 10);
	assert_trade(0, 3, 1, 100, 10);
	assert_true(nth(SHMEX_EV_TRADE, 0)->flags & SHMEX_EVF_REPLENISHED);
	assert_level(SHMEX_SELL, 0, 100, 15, 2);
	add(4, SHMEX_BUY, 100, 8);
	assert_trade(0, 4, 2, 100, 5); /* 2 is now ahead of the new peak */
	assert_trade(1, 4, 1, 100, 3);
	assert_level(SHMEX_SELL, 0, 100, 7, 1);
}

static void test_incoming_iceberg_trades_whole_then_splits(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 100, 12);
	struct shmex_order ice = limit(2, SHMEX_BUY, 100, 40);
	ice.display_qty = 5;
	submit(ice);
	assert_trade(0, 2, 1, 100, 12); /* not capped at the peak */
	assert_level(SHMEX_BUY, 0, 100, 5, 1);
	struct shmex_order_info info;
	assert_int_equal(shmex_book_order(B, 2, &info), 0);
	assert_int_equal(info.remaining, 28);
	assert_int_equal(info.displayed, 5);
	ice.id = 3;
	ice.tif = SHMEX_IOC;
	assert_int_equal(submit(ice), SHMEX_E_BAD_OPTION);
}

/* ---- self-trade prevention ----------------------------------------------- */

static struct shmex_order owned(uint64_t id, int side, int64_t price, int64_t qty, uint64_t owner,
				int stp)
{
	struct shmex_order o = limit(id, side, price, qty);
	o.owner = owner;
	o.flags = SHMEX_OF_OWNER;
	o.stp = (uint8_t)stp;
	return o;
}

static void test_stp_cancel_newest(void **state)
{
	(void)state;
	submit(owned(1, SHMEX_SELL, 100, 5, 7, 0));
	submit(owned(2, SHMEX_SELL, 100, 5, 8, 0));
	submit(owned(3, SHMEX_BUY, 100, 10, 7, SHMEX_STP_CANCEL_NEWEST));
	assert_int_equal(count_type(SHMEX_EV_TRADE), 0);
	const struct shmex_book_event *c = nth(SHMEX_EV_CANCELLED, 0);
	assert_int_equal(c->order_id, 3);
	assert_int_equal(c->reason, SHMEX_R_SELF_TRADE);
	assert_level(SHMEX_SELL, 0, 100, 10, 2);
}

static void test_stp_cancel_oldest(void **state)
{
	(void)state;
	submit(owned(1, SHMEX_SELL, 100, 5, 7, 0));
	submit(owned(2, SHMEX_SELL, 100, 5, 8, 0));
	submit(owned(3, SHMEX_BUY, 100, 7, 7, SHMEX_STP_CANCEL_OLDEST));
	assert_int_equal(nth(SHMEX_EV_CANCELLED, 0)->order_id, 1);
	assert_trade(0, 3, 2, 100, 5);
	assert_level(SHMEX_BUY, 0, 100, 2, 1);
	assert_int_equal(levels(SHMEX_SELL), 0);
}

static void test_stp_cancel_both(void **state)
{
	(void)state;
	submit(owned(1, SHMEX_SELL, 100, 5, 7, 0));
	submit(owned(2, SHMEX_BUY, 100, 1, 7, SHMEX_STP_CANCEL_BOTH));
	assert_int_equal(count_type(SHMEX_EV_CANCELLED), 2);
	assert_int_equal(nth(SHMEX_EV_CANCELLED, 0)->order_id, 1); /* resting first */
	assert_int_equal(nth(SHMEX_EV_CANCELLED, 1)->order_id, 2);
	assert_int_equal(shmex_book_order_count(B), 0);
}

static void test_stp_needs_owner_and_same_owner(void **state)
{
	(void)state;
	struct shmex_order o = limit(1, SHMEX_BUY, 100, 1);
	o.stp = SHMEX_STP_CANCEL_NEWEST;
	assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
	submit(owned(2, SHMEX_SELL, 100, 5, 7, 0));
	submit(owned(3, SHMEX_BUY, 100, 1, 8, SHMEX_STP_CANCEL_NEWEST)); /* other owner */
	assert_trade(0, 3, 2, 100, 1);
	submit(owned(4, SHMEX_BUY, 100, 1, 7, SHMEX_STP_NONE)); /* no STP asked */
	assert_trade(0, 4, 2, 100, 1);
}

static void test_fok_with_stp_stops_at_own_order(void **state)
{
	(void)state;
	submit(owned(1, SHMEX_SELL, 100, 5, 8, 0));
	submit(owned(2, SHMEX_SELL, 100, 5, 7, 0));
	submit(owned(3, SHMEX_SELL, 100, 5, 8, 0));
	struct shmex_order o = owned(4, SHMEX_BUY, 100, 6, 7, SHMEX_STP_CANCEL_NEWEST);
	o.tif = SHMEX_FOK;
	submit(o); /* only 5 lie ahead of the own order */
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_FOK);
	assert_int_equal(count_type(SHMEX_EV_CANCELLED), 0);
	o.id = 5;
	o.stp = SHMEX_STP_CANCEL_OLDEST;
	submit(o); /* own order cancelled, 10 reachable */
	assert_int_equal(nth(SHMEX_EV_CANCELLED, 0)->order_id, 2);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 2);
}

/* ---- stops ------------------------------------------------------------------ */

static struct shmex_order stop(uint64_t id, int side, int type, int64_t trigger, int64_t price,
			       int64_t qty)
{
	struct shmex_order o = limit(id, side, price, qty);
	o.type = (uint8_t)type;
	o.trigger_price = trigger;
	if (type == SHMEX_STOP_MARKET || type == SHMEX_TAKE_PROFIT_MARKET)
		o.tif = SHMEX_IOC;
	return o;
}

static void trade_at(uint64_t id, int64_t price)
{
	add(id, SHMEX_SELL, price, 1);
	add(id + 1, SHMEX_BUY, price, 1);
}

static void test_stop_market_triggers_on_last_trade(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 110, 10);
	submit(stop(2, SHMEX_BUY, SHMEX_STOP_MARKET, 105, 0, 3));
	assert_int_equal(nth(SHMEX_EV_PARKED, 0)->order_id, 2);
	assert_int_equal(levels(SHMEX_BUY), 0);
	trade_at(10, 104);
	assert_int_equal(count_type(SHMEX_EV_TRIGGERED), 0);
	trade_at(20, 105);
	const struct shmex_book_event *t = nth(SHMEX_EV_TRIGGERED, 0);
	assert_int_equal(t->order_id, 2);
	assert_trade(1, 2, 1, 110, 3);
	assert_int_equal(shmex_book_order_count(B), 1);
}

static void test_stop_limit_rests_after_trigger(void **state)
{
	(void)state;
	add(1, SHMEX_BUY, 90, 10);
	submit(stop(2, SHMEX_SELL, SHMEX_STOP_LIMIT, 95, 93, 4));
	trade_at(10, 96);
	assert_int_equal(count_type(SHMEX_EV_TRIGGERED), 0);
	add(20, SHMEX_BUY, 95, 1);
	add(21, SHMEX_SELL, 95, 1); /* last = 95 <= 95: the sell stop fires */
	assert_int_equal(nth(SHMEX_EV_TRIGGERED, 0)->order_id, 2);
	assert_level(SHMEX_SELL, 0, 93, 4, 1); /* 93 > best bid 90: rests */
}

static void test_take_profit_triggers_opposite_direction(void **state)
{
	(void)state;
	submit(stop(1, SHMEX_BUY, SHMEX_TAKE_PROFIT_LIMIT, 95, 95, 2));
	submit(stop(2, SHMEX_SELL, SHMEX_TAKE_PROFIT_LIMIT, 105, 105, 2));
	trade_at(10, 100);
	assert_int_equal(count_type(SHMEX_EV_TRIGGERED), 0);
	trade_at(20, 95); /* falls to 95: buy take-profit fires */
	assert_int_equal(nth(SHMEX_EV_TRIGGERED, 0)->order_id, 1);
	assert_level(SHMEX_BUY, 0, 95, 2, 1);
	trade_at(30, 106); /* rises: sell take-profit fires */
	assert_int_equal(nth(SHMEX_EV_TRIGGERED, 0)->order_id, 2);
}

static void test_several_triggers_run_in_acceptance_order(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 120, 100);
	submit(stop(2, SHMEX_BUY, SHMEX_STOP_MARKET, 104, 0, 1));
	submit(stop(3, SHMEX_BUY, SHMEX_STOP_MARKET, 101, 0, 1));
	submit(stop(4, SHMEX_BUY, SHMEX_STOP_MARKET, 103, 0, 1));
	add(10, SHMEX_SELL, 101, 1);
	add(11, SHMEX_SELL, 105, 1);
	add(12, SHMEX_BUY, 105, 2); /* trades at 101 and 105: all three fire */
	assert_int_equal(count_type(SHMEX_EV_TRIGGERED), 3);
	assert_int_equal(nth(SHMEX_EV_TRIGGERED, 0)->order_id, 2);
	assert_int_equal(nth(SHMEX_EV_TRIGGERED, 1)->order_id, 3);
	assert_int_equal(nth(SHMEX_EV_TRIGGERED, 2)->order_id, 4);
}

static void test_stop_cascade_and_immediate_trigger(void **state)
{
	(void)state;
	add(1, SHMEX_SELL, 110, 1);
	add(2, SHMEX_SELL, 120, 1);
	submit(stop(3, SHMEX_BUY, SHMEX_STOP_MARKET, 101, 0, 1)); /* trades at 110 */
	submit(stop(4, SHMEX_BUY, SHMEX_STOP_MARKET, 110, 0, 1)); /* fired by 3's trade */
	trade_at(10, 101);
	assert_int_equal(count_type(SHMEX_EV_TRIGGERED), 2);
	assert_trade(2, 4, 2, 120, 1);
	/* Last is now 120: a buy stop at 115 fires on entry. */
	add(30, SHMEX_SELL, 130, 1);
	submit(stop(31, SHMEX_BUY, SHMEX_STOP_MARKET, 115, 0, 1));
	assert_int_equal(count_type(SHMEX_EV_PARKED), 0);
	assert_int_equal(nth(SHMEX_EV_TRIGGERED, 0)->order_id, 31);
	assert_trade(0, 31, 30, 130, 1);
}

static void test_parked_stop_cancel_reduce_expire(void **state)
{
	(void)state;
	submit(stop(1, SHMEX_BUY, SHMEX_STOP_LIMIT, 105, 106, 10));
	struct shmex_order_info info;
	assert_int_equal(shmex_book_order(B, 1, &info), 0);
	assert_int_equal(info.parked, 1);
	assert_int_equal(info.trigger_price, 105);
	assert_int_equal(shmex_book_reduce(B, 1, 4), 0);
	assert_int_equal(shmex_book_amend(B, 1, 107, 6), SHMEX_E_BAD_OPTION);
	assert_int_equal(shmex_book_cancel(B, 1), 0);
	verify();
	struct shmex_order o = stop(2, SHMEX_SELL, SHMEX_STOP_LIMIT, 95, 94, 1);
	o.tif = SHMEX_GTD;
	o.expire_at = 50;
	submit(o);
	clear();
	assert_int_equal(shmex_book_advance(B, 50), 1);
	assert_int_equal(R.ev[0].type, SHMEX_EV_EXPIRED);
	verify();
	o = stop(3, SHMEX_SELL, SHMEX_STOP_LIMIT, 0, 94, 1);
	assert_int_equal(submit(o), SHMEX_E_BAD_PRICE);
}

/* ---- validation and capacity ----------------------------------------------- */

static void test_rejects_with_reason_codes(void **state)
{
	(void)state;
	add(1, SHMEX_BUY, 100, 1);
	assert_int_equal(add(1, SHMEX_BUY, 100, 1), SHMEX_E_DUPLICATE);
	assert_int_equal(R.ev[0].reason, SHMEX_R_DUPLICATE_ID);
	assert_int_equal(add(2, SHMEX_BUY, 0, 1), SHMEX_E_BAD_PRICE);
	assert_int_equal(add(2, SHMEX_BUY, -5, 1), SHMEX_E_BAD_PRICE);
	assert_int_equal(add(2, SHMEX_BUY, 100, 0), SHMEX_E_BAD_QTY);
	assert_int_equal(add(2, SHMEX_BUY, 100, INT64_MIN), SHMEX_E_BAD_QTY);
	assert_int_equal(R.ev[0].type, SHMEX_EV_REJECTED);
	struct shmex_order o = limit(2, 2, 100, 1);
	assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
	o = limit(2, SHMEX_BUY, 100, 1);
	o.tif = 9;
	assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
	o.tif = SHMEX_GTC;
	o.flags = 0x80;
	assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
	o.flags = 0;
	o.display_qty = -1;
	assert_int_equal(submit(o), SHMEX_E_BAD_QTY);
	assert_int_equal(shmex_book_order_count(B), 1);
	/* A cancelled id can be used again on the book. */
	shmex_book_cancel(B, 1);
	assert_int_equal(add(1, SHMEX_BUY, 100, 1), 0);
}

static void test_book_full_and_level_pool_full(void **state)
{
	(void)state;
	shmex_book_destroy(B);
	assert_int_equal(setup_cap(3, 2), 0);
	assert_int_equal(add(1, SHMEX_BUY, 100, 1), 0);
	assert_int_equal(add(2, SHMEX_BUY, 99, 1), 0);
	/* Third order needs a third level: killed, the book unchanged. */
	assert_int_equal(add(3, SHMEX_BUY, 98, 1), 0);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_BOOK_FULL);
	assert_int_equal(add(4, SHMEX_BUY, 100, 1), 0); /* existing level: fine */
	assert_int_equal(add(5, SHMEX_BUY, 100, 1), SHMEX_E_FULL);
	assert_int_equal(R.ev[0].reason, SHMEX_R_BOOK_FULL);
	shmex_book_cancel(B, 2);
	assert_int_equal(add(6, SHMEX_SELL, 101, 1), 0);
	assert_level(SHMEX_SELL, 0, 101, 1, 1);
	verify();
}

static void test_extreme_prices_and_quantities(void **state)
{
	(void)state;
	const int64_t M = INT64_MAX;
	assert_int_equal(add(1, SHMEX_SELL, M, M), 0);
	assert_int_equal(add(2, SHMEX_SELL, M, M), 0);
	assert_int_equal(add(3, SHMEX_SELL, M, M), 0);
	assert_int_equal(add(4, SHMEX_BUY, 1, M), 0);
	struct shmex_level_info lv[2];
	assert_int_equal(shmex_book_depth(B, SHMEX_SELL, lv, 2), 1);
	assert_true(lv[0].qty == (shmex_u128)M * 3);
	assert_int_equal(add(5, SHMEX_SELL, 1, M), 0); /* fills 4 whole at price 1 */
	assert_trade(0, 5, 4, 1, M);
	assert_int_equal(add(6, SHMEX_BUY, M, 1), 0);
	assert_trade(0, 6, 1, M, 1);
	struct shmex_order f = limit(7, SHMEX_BUY, M, M);
	f.tif = SHMEX_FOK; /* needs M, 3M-1 available: fills across two orders */
	submit(f);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 2);
	assert_trade(1, 7, 2, M, 1);
}

static void test_depth_top_n_and_full(void **state)
{
	(void)state;
	for (int i = 0; i < 20; i++) {
		add((uint64_t)(100 + i), SHMEX_BUY, 1000 - i * 3, i + 1);
		add((uint64_t)(200 + i), SHMEX_BUY, 1000 - i * 3, 1);
	}
	struct shmex_level_info lv[64];
	assert_int_equal(shmex_book_depth(B, SHMEX_BUY, lv, 5), 5);
	assert_int_equal(lv[4].price, 1000 - 12);
	assert_true(lv[4].qty == 6);
	assert_int_equal(lv[4].orders, 2);
	assert_int_equal(shmex_book_depth(B, SHMEX_BUY, lv, 64), 20);
	assert_int_equal(lv[19].price, 1000 - 57);
	assert_int_equal(shmex_book_depth(B, SHMEX_SELL, lv, 64), 0);
	assert_int_equal(levels(SHMEX_BUY), 20);
}

static void test_prefetch_hints_change_nothing(void **state)
{
	(void)state;
	for (uint64_t id = 1; id <= 200; id++)
		add(id, id % 2 ? SHMEX_BUY : SHMEX_SELL, id % 2 ? 100 - (int64_t)(id % 7) : 110 + (int64_t)(id % 5), 3);
	struct shmex_level_info before[2][16], after[2][16];
	uint32_t nb[2], na[2];
	for (int s = 0; s < 2; s++)
		nb[s] = shmex_book_depth(B, s, before[s], 16);
	clear();
	const uint64_t ids[] = { 1, 2, 150, 0, 999, UINT64_MAX };
	const int64_t prices[] = { 100, 110, 1, INT64_MAX, -5, 0 };
	for (int stage = -1; stage <= 3; stage++)
		for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
			shmex_book_prefetch_order(B, ids[i], stage);
			shmex_book_prefetch_level(B, (int)i, prices[i], stage);
		}
	assert_int_equal(R.n, 0);
	verify();
	for (int s = 0; s < 2; s++) {
		na[s] = shmex_book_depth(B, s, after[s], 16);
		assert_int_equal(na[s], nb[s]);
		assert_memory_equal(before[s], after[s], nb[s] * sizeof before[s][0]);
	}
}


/* ---- hostile input and cost ------------------------------------------------- */

static double seconds_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Inverse of an odd number modulo 2^64 (Newton's iteration). */
static uint64_t inverse_u64(uint64_t a)
{
	uint64_t x = a;
	for (int i = 0; i < 6; i++)
		x *= 2 - a * x;
	return x;
}

#define PHI64 UINT64_C(0x9E3779B97F4A7C15)

/* Submits without the per-command verify (which is O(book)). */
static int submit_quiet(struct shmex_order o)
{
	clear();
	return shmex_book_submit(B, &o);
}

static void test_create_refuses_bad_params(void **state)
{
	(void)state;
	struct shmex_book *b = NULL;
	struct shmex_book_params p = { .max_orders = 16, .max_levels = 0 };
	assert_int_equal(shmex_book_create(&p, NULL, NULL, &b), SHMEX_E_INVAL); /* no sink */
	assert_null(b);
	assert_int_equal(shmex_book_create(NULL, sink, &R, &b), SHMEX_E_INVAL);
	assert_int_equal(shmex_book_create(&p, sink, &R, NULL), SHMEX_E_INVAL);
	p.max_orders = 0;
	assert_int_equal(shmex_book_create(&p, sink, &R, &b), SHMEX_E_INVAL);
	p.max_orders = (1u << 30) + 1;
	assert_int_equal(shmex_book_create(&p, sink, &R, &b), SHMEX_E_INVAL);
	p.max_orders = 16;
	p.max_levels = (1u << 30) + 1;
	assert_int_equal(shmex_book_create(&p, sink, &R, &b), SHMEX_E_INVAL);
	assert_null(b);
}

/* Every field at its worst: a clean reject (or no-op) and an unchanged book. */
static void test_hostile_fields_never_change_the_book(void **state)
{
	(void)state;
	add(1, SHMEX_BUY, 100, 5);
	add(2, SHMEX_SELL, 101, 5);
	const int64_t bad64[] = { INT64_MIN, -1, 0 };
	for (size_t i = 0; i < sizeof bad64 / sizeof bad64[0]; i++) {
		struct shmex_order o = limit(10, SHMEX_BUY, 100, 1);
		o.qty = bad64[i];
		assert_int_equal(submit(o), SHMEX_E_BAD_QTY);
		o = limit(10, SHMEX_BUY, 100, 1);
		o.display_qty = bad64[i] == 0 ? INT64_MIN : bad64[i];
		assert_int_equal(submit(o), SHMEX_E_BAD_QTY);
		o = limit(10, SHMEX_BUY, bad64[i], 1);
		assert_int_equal(submit(o), SHMEX_E_BAD_PRICE);
		o = limit(10, SHMEX_BUY, 100, 1);
		o.type = SHMEX_STOP_LIMIT;
		o.trigger_price = bad64[i];
		assert_int_equal(submit(o), SHMEX_E_BAD_PRICE);
		o = limit(10, SHMEX_BUY, 100, 1);
		o.tif = SHMEX_GTD;
		o.expire_at = bad64[i];
		assert_int_equal(submit(o), SHMEX_E_EXPIRED);
		o = limit(10, SHMEX_BUY, 100, 1);
		o.type = SHMEX_MARKET;
		o.tif = SHMEX_IOC;
		o.max_notional = bad64[i] == 0 ? INT64_MIN : bad64[i];
		assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
		assert_int_equal(shmex_book_reduce(B, 1, bad64[i]), SHMEX_E_BAD_QTY);
		assert_int_equal(shmex_book_amend(B, 1, 100, bad64[i]), SHMEX_E_BAD_QTY);
		assert_int_equal(shmex_book_amend(B, 1, bad64[i], 5), SHMEX_E_BAD_PRICE);
		assert_int_equal(shmex_book_advance(B, bad64[i]), 0);
	}
	for (unsigned v = 4; v < 256; v += 7) {
		struct shmex_order o = limit(10, SHMEX_BUY, 100, 1);
		o.side = (uint8_t)(v % 254 + 2);
		assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
		o = limit(10, SHMEX_BUY, 100, 1);
		o.type = (uint8_t)(v % 250 + 6);
		assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
		o = limit(10, SHMEX_BUY, 100, 1);
		o.tif = (uint8_t)v;
		assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
		o = limit(10, SHMEX_BUY, 100, 1);
		o.stp = (uint8_t)v;
		o.flags = SHMEX_OF_OWNER;
		assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
		o = limit(10, SHMEX_BUY, 100, 1);
		o.flags = 1u << (v % 30 + 2);
		assert_int_equal(submit(o), SHMEX_E_BAD_OPTION);
	}
	/* Unknown ids at both ends of the range. */
	assert_int_equal(shmex_book_cancel(B, 0), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_book_cancel(B, UINT64_MAX), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_book_reduce(B, UINT64_MAX, INT64_MAX), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_book_amend(B, 0, INT64_MAX, INT64_MAX), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_book_cancel_owner(B, UINT64_MAX), 0);
	struct shmex_order_info info;
	assert_int_equal(shmex_book_order(B, UINT64_MAX, &info), SHMEX_E_UNKNOWN_ORDER);
	/* Queries take any side value. */
	struct shmex_level_info lv[4];
	int64_t p;
	assert_int_equal(shmex_book_depth(B, 7, lv, 4), 1);
	assert_int_equal(lv[0].price, 101);
	assert_int_equal(shmex_book_best(B, -2, &p), 1);
	assert_int_equal(p, 100);
	verify();
	assert_int_equal(shmex_book_order_count(B), 2);
	assert_level(SHMEX_BUY, 0, 100, 5, 1);
	assert_level(SHMEX_SELL, 0, 101, 5, 1);
	/* Ids 0 and UINT64_MAX are ordinary ids; extreme amends and reduces work. */
	assert_int_equal(add(0, SHMEX_BUY, 1, INT64_MAX), 0);
	assert_int_equal(add(UINT64_MAX, SHMEX_SELL, INT64_MAX, INT64_MAX), 0);
	assert_int_equal(shmex_book_amend(B, 0, 99, INT64_MAX), 0);
	verify();
	assert_int_equal(shmex_book_reduce(B, UINT64_MAX, INT64_MAX - 1), 0);
	verify();
	assert_int_equal(shmex_book_reduce(B, UINT64_MAX, INT64_MAX), 0); /* below zero */
	assert_int_equal(R.ev[R.n - 1].reason, SHMEX_R_REDUCED_TO_ZERO);
	struct shmex_order ice = limit(20, SHMEX_SELL, 100, INT64_MAX);
	ice.display_qty = INT64_MAX; /* peak above the quantity: fully shown */
	assert_int_equal(submit(ice), 0);
	assert_trade(0, 20, 1, 100, 5); /* 100 > 99: only order 1 crosses */
	assert_int_equal(count_type(SHMEX_EV_TRADE), 1);
	assert_level(SHMEX_SELL, 0, 100, INT64_MAX - 5, 1);
	assert_int_equal(shmex_book_advance(B, INT64_MAX), 0);
	assert_int_equal(shmex_book_advance(B, INT64_MIN), 0);
	verify();
}

/* book.h: "never allocates after shmex_book_create()". Big trigger batches
 * and mass cancels sort by acceptance order; glibc's qsort_r mallocs a
 * buffer for more than 1 KiB of elements. */
static void test_no_allocation_after_create(void **state)
{
	(void)state;
	shmex_book_destroy(B);
	assert_int_equal(setup_cap(4096, 0), 0);
#ifndef SX_TEST_ASAN
	long before = g_allocs;
#endif
	add(1, SHMEX_SELL, 200, 5000);
	for (uint64_t id = 100; id < 1100; id++) {
		struct shmex_order o = limit(id, SHMEX_BUY, 0, 1);
		o.type = SHMEX_STOP_MARKET;
		o.tif = SHMEX_IOC;
		o.trigger_price = 150 - (int64_t)(id % 40); /* heap order != acceptance order */
		submit_quiet(o);
	}
	add(2, SHMEX_SELL, 150, 1);
	add(3, SHMEX_BUY, 150, 1); /* trades at 150: all 1000 stops fire */
	assert_int_equal(count_type(SHMEX_EV_TRIGGERED), 1000);
	uint64_t prev = 0;
	for (int k = 0; k < 1000; k++) { /* in acceptance order */
		uint64_t id = nth(SHMEX_EV_TRIGGERED, k)->order_id;
		assert_true(id > prev);
		prev = id;
	}
	for (uint64_t id = 2000; id < 3000; id++) {
		struct shmex_order o = limit(id, SHMEX_BUY, 100 - (int64_t)(id % 50), 1);
		o.owner = 9;
		o.flags = SHMEX_OF_OWNER;
		submit_quiet(o);
	}
	for (uint64_t id = 2000; id < 3000; id += 3)
		shmex_book_cancel(B, id); /* holes in the pool */
	for (uint64_t id = 3000; id < 3300; id++) {
		struct shmex_order o = limit(id, SHMEX_BUY, 100 - (int64_t)(id % 50), 1);
		o.owner = 9;
		o.flags = SHMEX_OF_OWNER;
		submit_quiet(o); /* reuse freed slots: pool order != acceptance order */
	}
	clear();
	uint32_t n = shmex_book_cancel_owner(B, 9);
	assert_int_equal(n, 966);
	prev = 0;
	for (int k = 0; k < R.n; k++) {
		assert_true(R.ev[k].order_id > prev);
		prev = R.ev[k].order_id;
	}
	verify();
#ifndef SX_TEST_ASAN
	assert_int_equal(g_allocs, before); /* under ASan only the orders are checked */
#endif
}

/* A FOK with self-trade prevention walks the orders of a level to find the
 * owner's own ones; it must stop as soon as it has seen enough, not read
 * the whole level for every order (here 4000 FOKs of 1 lot, each filled by
 * the head order of a 400k-order level). */
static void test_fok_with_stp_stops_walking_when_filled(void **state)
{
	(void)state;
	shmex_book_destroy(B);
	assert_int_equal(setup_cap(1u << 19, 0), 0);
	const uint64_t n = 400000;
	for (uint64_t id = 1; id <= n; id++)
		submit_quiet(owned(id, SHMEX_SELL, 100, 1, 8, 0));
	submit_quiet(owned(n + 1, SHMEX_SELL, 100, 1, 7, 0)); /* the own order, last */
	double t0 = seconds_now();
	for (uint64_t k = 0; k < 4000; k++) {
		struct shmex_order o = owned(n + 10 + k, SHMEX_BUY, 100, 1, 7,
					     (int)(1 + k % 3)); /* CN, CO, CB */
		o.tif = SHMEX_FOK;
		submit_quiet(o);
		assert_int_equal(count_type(SHMEX_EV_TRADE), 1);
		assert_trade(0, n + 10 + k, k + 1, 100, 1);
	}
	double dt = seconds_now() - t0;
	verify();
	assert_int_equal(shmex_book_order_count(B), n + 1 - 4000);
	if (dt > 1.0)
		fail_msg("4000 FOK+STP orders took %.2f s: the walk reads the whole level", dt);
}

/* Order ids chosen so that id * 2^64/phi shares its top 32 bits: under an
 * unkeyed Fibonacci hash they all land on one home slot with one tag, and
 * every insert and lookup walks the whole run (quadratic). */
static void test_id_index_resists_chosen_ids(void **state)
{
	(void)state;
	shmex_book_destroy(B);
	assert_int_equal(setup_cap(1u << 18, 0), 0);
	const uint64_t pinv = inverse_u64(PHI64), n = 100000;
	double t0 = seconds_now();
	for (uint64_t j = 1; j <= n; j++) {
		uint64_t id = ((UINT64_C(0x1234) << 32) | j) * pinv;
		assert_int_equal(submit_quiet(limit(id, SHMEX_BUY, 100, 1)), 0);
	}
	for (uint64_t j = 1; j <= n; j += 2) {
		clear();
		assert_int_equal(shmex_book_cancel(B, ((UINT64_C(0x1234) << 32) | j) * pinv), 0);
	}
	double dt = seconds_now() - t0;
	verify();
	assert_int_equal(shmex_book_order_count(B), n / 2);
	if (dt > 1.0)
		fail_msg("100k chosen ids took %.2f s: the id index is not keyed", dt);
}

/* Same for prices: blocks of 64 prices whose Fibonacci hash shares the top
 * 21 bits all start their probe at one slot of the price index. */
static void test_price_index_resists_chosen_prices(void **state)
{
	(void)state;
	shmex_book_destroy(B);
	assert_int_equal(setup_cap(1u << 17, 0), 0);
	const uint64_t pinv = inverse_u64(PHI64);
	const int n = 60000;
	uint64_t r = 1;
	double t0 = seconds_now();
	for (int j = 0; j < n; j++) {
		uint64_t block;
		do
			block = ((UINT64_C(0x123) << 43) | (r++ << 10)) * pinv;
		while (block == 0 || block >= (UINT64_C(1) << 57));
		assert_int_equal(submit_quiet(limit((uint64_t)j + 1, SHMEX_BUY, (int64_t)(block << 6), 1)),
				 0);
	}
	double dt = seconds_now() - t0;
	verify();
	assert_int_equal(levels(SHMEX_BUY), (uint32_t)n);
	if (dt > 1.0)
		fail_msg("60k chosen price levels took %.2f s: the price index is not keyed", dt);
}

/* Every order slot in use, heaps full of parked GTD stops, one trade
 * triggering them all at once (the whole trigger queue), and the level pool
 * running out in the middle of the cascade: clean kills, no crash. */
static void test_pools_exhausted_in_a_cascade(void **state)
{
	(void)state;
	shmex_book_destroy(B);
	assert_int_equal(setup_cap(63, 3), 0);
	add(1, SHMEX_SELL, 150, 1);
	for (uint64_t k = 0; k < 60; k++) {
		struct shmex_order o = limit(100 + k, SHMEX_BUY, 100 + (int64_t)k, 1);
		o.type = SHMEX_STOP_LIMIT;
		o.trigger_price = 150;
		o.tif = SHMEX_GTD;
		o.expire_at = 1000;
		assert_int_equal(submit(o), 0);
	}
	assert_int_equal(add(2, SHMEX_BUY, 150, 1), 0); /* the 62nd slot */
	assert_int_equal(count_type(SHMEX_EV_TRIGGERED), 60);
	assert_int_equal(count_type(SHMEX_EV_RESTED), 3);
	assert_int_equal(count_type(SHMEX_EV_KILLED), 57);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_BOOK_FULL);
	assert_int_equal(levels(SHMEX_BUY), 3);
	add(3, SHMEX_SELL, 500, 1); /* a fourth level: killed */
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_BOOK_FULL);
	clear();
	assert_int_equal(shmex_book_advance(B, 1000), 3);
	assert_int_equal(count_type(SHMEX_EV_EXPIRED), 3);
	verify();
	assert_int_equal(shmex_book_order_count(B), 0);
	/* Refill every slot with parked stops, then one more is refused. */
	for (uint64_t k = 0; k < 63; k++) {
		struct shmex_order o = limit(1000 + k, SHMEX_SELL, 10, 1);
		o.type = SHMEX_STOP_MARKET;
		o.tif = SHMEX_IOC;
		o.price = 0;
		o.trigger_price = 10; /* last is 150: parked */
		assert_int_equal(submit(o), 0);
	}
	assert_int_equal(add(5000, SHMEX_BUY, 1, 1), SHMEX_E_FULL);
	verify();
}

/* A book whose orders may make at most @cap matches each. */
static void reopen_with_match_limit(uint32_t cap)
{
	shmex_book_destroy(B);
	memset(&R, 0, sizeof R);
	struct shmex_book_params p = { .max_orders = 1024, .max_levels = 0, .max_matches = cap };
	assert_int_equal(shmex_book_create(&p, sink, &R, &B), 0);
}

static void test_match_limit_kills_the_rest(void **state)
{
	(void)state;
	reopen_with_match_limit(3);
	for (uint64_t id = 1; id <= 5; id++)
		assert_int_equal(add(id, SHMEX_SELL, 100 + (int64_t)(id % 2), 1), 0);
	/* A GTC buy for 10 at 101 crosses 5 makers: 3 trades, then the rest is
	 * killed (resting it would cross the book). */
	assert_int_equal(add(10, SHMEX_BUY, 101, 10), 0);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 3);
	assert_int_equal(nth(SHMEX_EV_TRADE, 0)->maker_id, 2); /* 100 first: ids 2, 4 */
	assert_int_equal(nth(SHMEX_EV_TRADE, 1)->maker_id, 4);
	assert_int_equal(nth(SHMEX_EV_TRADE, 2)->maker_id, 1);
	const struct shmex_book_event *k = &R.ev[R.n - 1];
	assert_int_equal(k->type, SHMEX_EV_KILLED);
	assert_int_equal(k->reason, SHMEX_R_MATCH_LIMIT);
	assert_int_equal(k->qty, 7);
	assert_int_equal(count_type(SHMEX_EV_RESTED), 0);
	assert_int_equal(shmex_book_order_count(B), 2);
	/* Exactly at the limit with nothing more to meet: rests as usual. */
	assert_int_equal(add(11, SHMEX_BUY, 101, 4), 0);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 2);
	assert_int_equal(count_type(SHMEX_EV_RESTED), 1);
	assert_int_equal(add(12, SHMEX_SELL, 101, 1), 0);
	assert_int_equal(add(13, SHMEX_SELL, 101, 1), 0);
	assert_int_equal(add(14, SHMEX_SELL, 101, 1), 0);
	assert_int_equal(count_type(SHMEX_EV_KILLED), 0);
}

static void test_match_limit_counts_iceberg_peaks_and_stp(void **state)
{
	(void)state;
	reopen_with_match_limit(4);
	/* An iceberg of 100 showing 1: each peak is one match. */
	struct shmex_order ice = limit(1, SHMEX_SELL, 100, 100);
	ice.display_qty = 1;
	assert_int_equal(submit(ice), 0);
	struct shmex_order ioc = limit(2, SHMEX_BUY, 100, 50);
	ioc.tif = SHMEX_IOC;
	assert_int_equal(submit(ioc), 0);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 4);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_MATCH_LIMIT);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->qty, 46);
	/* Self-trade cancels of resting orders count too. */
	struct shmex_order mine = limit(3, SHMEX_SELL, 99, 1);
	mine.flags = SHMEX_OF_OWNER;
	mine.owner = 7;
	for (uint64_t id = 3; id <= 6; id++) {
		mine.id = id;
		assert_int_equal(submit(mine), 0);
	}
	struct shmex_order taker = limit(8, SHMEX_BUY, 100, 1);
	taker.flags = SHMEX_OF_OWNER;
	taker.owner = 7;
	taker.stp = SHMEX_STP_CANCEL_OLDEST;
	taker.tif = SHMEX_IOC;
	assert_int_equal(submit(taker), 0);
	assert_int_equal(count_type(SHMEX_EV_CANCELLED), 4);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 0);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_MATCH_LIMIT);
}

static void test_match_limit_fok_is_all_or_nothing(void **state)
{
	(void)state;
	reopen_with_match_limit(3);
	for (uint64_t id = 1; id <= 4; id++)
		assert_int_equal(add(id, SHMEX_SELL, 100, 2), 0);
	/* 6 lots fill in 3 matches; 7 would need a 4th: killed, nothing traded. */
	struct shmex_order fok = limit(10, SHMEX_BUY, 100, 7);
	fok.tif = SHMEX_FOK;
	assert_int_equal(submit(fok), 0);
	assert_int_equal(R.n, 2);
	assert_int_equal(R.ev[1].type, SHMEX_EV_KILLED);
	assert_int_equal(R.ev[1].reason, SHMEX_R_MATCH_LIMIT);
	assert_int_equal(R.ev[1].qty, 7);
	assert_int_equal(shmex_book_order_count(B), 4);
	/* Not enough quantity at all is still FOK. */
	fok.id = 11;
	fok.qty = 9;
	fok.price = 100;
	reopen_with_match_limit(100);
	for (uint64_t id = 1; id <= 4; id++)
		assert_int_equal(add(id, SHMEX_SELL, 100, 2), 0);
	assert_int_equal(submit(fok), 0);
	assert_int_equal(R.ev[1].reason, SHMEX_R_FOK);
	/* An iceberg's later peaks come back behind the rest of the level. */
	reopen_with_match_limit(3);
	struct shmex_order ice = limit(1, SHMEX_SELL, 100, 10);
	ice.display_qty = 2;
	assert_int_equal(submit(ice), 0);
	assert_int_equal(add(2, SHMEX_SELL, 100, 1), 0);
	fok.id = 12;
	fok.qty = 5; /* ice 2, order 2 1, ice 2 again: 3 matches */
	assert_int_equal(submit(fok), 0);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 3);
	assert_int_equal(nth(SHMEX_EV_TRADE, 2)->maker_id, 1);
	fok.id = 13;
	fok.qty = 7; /* the iceberg holds 6 (showing 2): short, whatever the limit */
	assert_int_equal(submit(fok), 0);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_FOK);
	assert_int_equal(add(3, SHMEX_SELL, 100, 1), 0);
	fok.id = 14;
	fok.qty = 6; /* ice 2, order 3 1, ice 2, then a 4th match for the last lot */
	assert_int_equal(submit(fok), 0);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 0);
	assert_int_equal(nth(SHMEX_EV_KILLED, 0)->reason, SHMEX_R_MATCH_LIMIT);
	fok.id = 15;
	fok.qty = 5; /* ice 2, order 3 1, ice 2: fills in 3 */
	assert_int_equal(submit(fok), 0);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 3);
	assert_int_equal(nth(SHMEX_EV_TRADE, 1)->maker_id, 3);
}

static void test_create_refuses_bad_options(void **state)
{
	(void)state;
	struct shmex_book *b = NULL;
	struct shmex_book_params p = { .max_orders = 16, .flags = 1u << 7 };
	assert_int_equal(shmex_book_create(&p, sink, &R, &b), SHMEX_E_INVAL); /* unknown flag */
	const uint32_t bad_ticks[] = { 1, 32, 63, 96, 1000, (1u << 24) + 64, 1u << 25 };
	p.flags = 0;
	for (size_t i = 0; i < sizeof bad_ticks / sizeof bad_ticks[0]; i++) {
		p.ladder_ticks = bad_ticks[i];
		assert_int_equal(shmex_book_create(&p, sink, &R, &b), SHMEX_E_INVAL);
	}
	assert_null(b);
	p.ladder_ticks = 64;
	p.flags = SHMEX_BOOK_ISSUE_IDS | SHMEX_BOOK_PREFAULT | SHMEX_BOOK_HUGE_PAGES;
	assert_int_equal(shmex_book_create(&p, sink, &R, &b), 0);
	shmex_book_destroy(b);
}

/* A book that issues ids: the id names the slot; freed slots come back
 * under a new generation, so an ended order's id stays unknown. */
static void test_issued_ids(void **state)
{
	(void)state;
	shmex_book_destroy(B);
	memset(&R, 0, sizeof R);
	struct shmex_book_params p = { .max_orders = 3, .flags = SHMEX_BOOK_ISSUE_IDS };
	assert_int_equal(shmex_book_create(&p, sink, &R, &B), 0);
	struct shmex_order o = limit(999, SHMEX_BUY, 100, 5); /* the id given is ignored */
	assert_int_equal(shmex_book_next_id(B), 1);
	assert_int_equal(submit(o), 0);
	assert_int_equal(R.ev[0].type, SHMEX_EV_ACCEPTED);
	assert_int_equal(R.ev[0].order_id, 1);
	assert_int_equal(R.ev[1].order_id, 1);
	assert_int_equal(shmex_book_next_id(B), 2);
	assert_int_equal(submit(o), 0); /* the same id again is no duplicate here */
	assert_int_equal(R.ev[0].order_id, 2);
	/* Refused orders take no id. */
	o.qty = 0;
	assert_int_equal(submit(o), SHMEX_E_BAD_QTY);
	assert_int_equal(R.ev[0].order_id, 999);
	assert_int_equal(shmex_book_next_id(B), 3);
	o.qty = 5;
	assert_int_equal(submit(o), 0);
	assert_int_equal(shmex_book_next_id(B), 0); /* full */
	assert_int_equal(submit(o), SHMEX_E_FULL);
	/* Cancel 2: its slot comes back as generation 1. */
	clear();
	assert_int_equal(shmex_book_cancel(B, 2), 0);
	assert_int_equal(R.ev[0].order_id, 2);
	const uint64_t reissued = (UINT64_C(1) << 32) | 2;
	assert_int_equal(shmex_book_next_id(B), reissued);
	assert_int_equal(submit(o), 0);
	assert_int_equal(R.ev[0].order_id, reissued);
	/* Stale and never-issued ids are unknown; live ones are found. */
	struct shmex_order_info info;
	assert_int_equal(shmex_book_order(B, 2, &info), SHMEX_E_UNKNOWN_ORDER);
	assert_int_equal(shmex_book_cancel(B, 2), SHMEX_E_UNKNOWN_ORDER);
	const uint64_t unknown[] = { 0, 4, UINT64_MAX, (UINT64_C(2) << 32) | 2, UINT64_C(1) << 32 };
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		assert_int_equal(shmex_book_cancel(B, unknown[i]), SHMEX_E_UNKNOWN_ORDER);
		assert_int_equal(shmex_book_reduce(B, unknown[i], 1), SHMEX_E_UNKNOWN_ORDER);
		assert_int_equal(shmex_book_amend(B, unknown[i], 100, 1), SHMEX_E_UNKNOWN_ORDER);
		shmex_book_prefetch_order(B, unknown[i], 0);
		shmex_book_prefetch_order(B, unknown[i], 1);
		shmex_book_prefetch_order(B, unknown[i], 2);
	}
	assert_int_equal(shmex_book_order(B, reissued, &info), 0);
	assert_int_equal(info.id, reissued);
	assert_int_equal(shmex_book_order(B, 3, &info), 0);
	/* A trade names both by their issued ids (an IOC needs a slot too). */
	assert_int_equal(shmex_book_cancel(B, 3), 0);
	struct shmex_order sell = limit(0, SHMEX_SELL, 100, 15);
	sell.tif = SHMEX_IOC;
	assert_int_equal(submit(sell), 0);
	assert_int_equal(R.ev[0].order_id, (UINT64_C(1) << 32) | 3);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 2);
	assert_int_equal(nth(SHMEX_EV_TRADE, 0)->maker_id, 1);
	assert_int_equal(nth(SHMEX_EV_TRADE, 1)->maker_id, reissued);
	assert_int_equal(nth(SHMEX_EV_TRADE, 1)->order_id, (UINT64_C(1) << 32) | 3);
	assert_int_equal(shmex_book_order_count(B), 0);
	verify();
}

/* Levels on both sides of the ladder window, in the window and far away,
 * come out in price order, and the window follows the market. */
static void test_ladder_and_far_levels_in_order(void **state)
{
	(void)state;
	shmex_book_destroy(B);
	memset(&R, 0, sizeof R);
	struct shmex_book_params p = { .max_orders = 64, .ladder_ticks = 64 };
	assert_int_equal(shmex_book_create(&p, sink, &R, &B), 0);
	const int64_t bids[] = { 10, 70, 1, 63, 64, 200, 5000 };
	const int64_t asks[] = { INT64_MAX, 6000, 5001, 9000, INT64_MAX - 70 };
	uint64_t id = 1;
	for (size_t i = 0; i < sizeof bids / sizeof bids[0]; i++)
		assert_int_equal(add(id++, SHMEX_BUY, bids[i], 1), 0);
	for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++)
		assert_int_equal(add(id++, SHMEX_SELL, asks[i], 1), 0);
	struct shmex_level_info lv[16];
	const int64_t want_bids[] = { 5000, 200, 70, 64, 63, 10, 1 };
	const int64_t want_asks[] = { 5001, 6000, 9000, INT64_MAX - 70, INT64_MAX };
	assert_int_equal(shmex_book_depth(B, SHMEX_BUY, lv, 16), 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(lv[i].price, want_bids[i]);
	assert_int_equal(shmex_book_depth(B, SHMEX_SELL, lv, 16), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(lv[i].price, want_asks[i]);
	/* Sweep the asks from the top: every best on the way is right. */
	struct shmex_order sweep = limit(100, SHMEX_BUY, INT64_MAX, 4);
	sweep.tif = SHMEX_IOC;
	assert_int_equal(submit(sweep), 0);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 4);
	assert_int_equal(nth(SHMEX_EV_TRADE, 3)->price, INT64_MAX - 70);
	int64_t best;
	assert_true(shmex_book_best(B, SHMEX_SELL, &best));
	assert_int_equal(best, INT64_MAX);
	struct shmex_order down = limit(101, SHMEX_SELL, 1, 7);
	down.tif = SHMEX_IOC;
	assert_int_equal(submit(down), 0);
	assert_int_equal(count_type(SHMEX_EV_TRADE), 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(nth(SHMEX_EV_TRADE, i)->price, want_bids[i]);
	assert_false(shmex_book_best(B, SHMEX_BUY, &best));
}

/* Two books, one driven by single calls and one by shmex_book_run() in
 * batches of random sizes with random look-ahead: the same events, in the
 * same order, and the same return codes, in both id modes. */
#define RUN_CMDS 20000
struct run_rec {
	struct shmex_book_event *ev;
	size_t n, cap;
};

static void run_sink(void *ctx, const struct shmex_book_event *ev)
{
	struct run_rec *r = ctx;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4096;
		r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
		assert_non_null(r->ev);
	}
	r->ev[r->n++] = *ev;
}

static uint64_t run_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void run_batches_like_single_calls(uint32_t flags)
{
	struct shmex_book_params p = { .max_orders = 512, .flags = flags, .max_matches = 8 };
	struct run_rec ra = { NULL, 0, 0 }, rb = { NULL, 0, 0 };
	struct shmex_book *a, *b;
	assert_int_equal(shmex_book_create(&p, run_sink, &ra, &a), 0);
	assert_int_equal(shmex_book_create(&p, run_sink, &rb, &b), 0);
	struct shmex_book_cmd *cmds = calloc(RUN_CMDS, sizeof *cmds);
	int *rc_a = calloc(RUN_CMDS, sizeof *rc_a), *rc_b = calloc(RUN_CMDS, sizeof *rc_b);
	assert_non_null(cmds);
	assert_non_null(rc_a);
	assert_non_null(rc_b);
	/* Ids a command may name: issued or given ids of earlier submits (some
	 * ended), never-issued ones, and garbage. */
	uint64_t x = 0x2545F4914F6CDD1Dull, known[64] = { 0 };
	for (uint32_t i = 0; i < RUN_CMDS; i++) {
		struct shmex_book_cmd *c = &cmds[i];
		uint64_t r = run_rand(&x);
		c->op = (uint32_t)(r % 10 < 5 ? SHMEX_OP_SUBMIT : r % 10 < 8 ? SHMEX_OP_CANCEL
					: r % 10 < 9 ? SHMEX_OP_REDUCE : SHMEX_OP_AMEND);
		if (r % 97 == 0)
			c->op = 99; /* unknown */
		c->id = (r >> 20) % 5 == 0 ? run_rand(&x) : known[(r >> 8) % 64];
		c->a = 1 + (int64_t)((r >> 30) % 40) + ((r >> 40) % 3 == 0 ? 0 : 80);
		c->b = 1 + (int64_t)((r >> 36) % 9);
		c->order = limit(i + 1, (int)((r >> 12) & 1), 90 + (int64_t)((r >> 16) % 20),
				 1 + (int64_t)((r >> 24) % 9));
		c->order.tif = (uint8_t)((r >> 44) % 4 == 0 ? SHMEX_IOC : SHMEX_GTC);
		c->order.display_qty = (r >> 48) % 7 == 0 ? 2 : 0;
	}
	uint32_t i = 0;
	while (i < RUN_CMDS) {
		uint32_t n = 1 + (uint32_t)(run_rand(&x) % 40);
		uint32_t ahead = (uint32_t)(run_rand(&x) % 12);
		if (n > RUN_CMDS - i)
			n = RUN_CMDS - i;
		if (ahead > RUN_CMDS - i - n)
			ahead = RUN_CMDS - i - n;
		/* Submits learn the ids they will get before they run (both books
		 * issue the same ids), so later commands can name them. */
		for (uint32_t k = i; k < i + n; k++) {
			if (cmds[k].op == SHMEX_OP_SUBMIT)
				known[k % 64] = flags & SHMEX_BOOK_ISSUE_IDS ? shmex_book_next_id(a)
									  : cmds[k].order.id;
			switch (cmds[k].op) {
			case SHMEX_OP_SUBMIT: rc_a[k] = shmex_book_submit(a, &cmds[k].order); break;
			case SHMEX_OP_CANCEL: rc_a[k] = shmex_book_cancel(a, cmds[k].id); break;
			case SHMEX_OP_REDUCE: rc_a[k] = shmex_book_reduce(a, cmds[k].id, cmds[k].a); break;
			case SHMEX_OP_AMEND:
				rc_a[k] = shmex_book_amend(a, cmds[k].id, cmds[k].a, cmds[k].b);
				break;
			default: rc_a[k] = SHMEX_E_INVAL; break;
			}
			/* Later commands of this batch may name these ids. */
			for (uint32_t j = k + 1; j < i + n + ahead && j < RUN_CMDS; j++)
				if (cmds[j].op != SHMEX_OP_SUBMIT && (run_rand(&x) & 7) == 0)
					cmds[j].id = known[k % 64];
		}
		assert_int_equal(shmex_book_run(b, &cmds[i], n, ahead, &rc_b[i]), n);
		i += n;
	}
	for (uint32_t k = 0; k < RUN_CMDS; k++)
		assert_int_equal(rc_a[k], rc_b[k]);
	assert_int_equal(ra.n, rb.n);
	assert_memory_equal(ra.ev, rb.ev, ra.n * sizeof *ra.ev);
	assert_true(ra.n > RUN_CMDS); /* the flow did trade, rest, cancel */
	assert_int_equal(shmex_book_verify(b), 0);
	shmex_book_destroy(a);
	shmex_book_destroy(b);
	free(ra.ev);
	free(rb.ev);
	free(cmds);
	free(rc_a);
	free(rc_b);
}

static void test_run_batches_like_single_calls(void **state)
{
	(void)state;
	run_batches_like_single_calls(0);
	run_batches_like_single_calls(SHMEX_BOOK_ISSUE_IDS);
}

/* shmex_book_memsize() is what shmex_book_create() reserves, to the byte,
 * whatever the options. */
static void test_memsize_is_what_create_reserves(void **state)
{
	(void)state;
	const struct shmex_book_params cases[] = {
		{ .max_orders = 1000 },
		{ .max_orders = 1000, .flags = SHMEX_BOOK_ISSUE_IDS },
		{ .max_orders = 1000, .max_levels = 37, .ladder_ticks = 64 },
		{ .max_orders = 5000, .max_matches = 100, .ladder_ticks = 1u << 20 },
		{ .max_orders = 64, .max_matches = 1000, .flags = SHMEX_BOOK_ISSUE_IDS },
		{ .max_orders = 1, .ladder_ticks = 128 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct shmex_book *b = NULL;
		assert_int_equal(shmex_book_create(&cases[i], sink, &R, &b), 0);
		size_t reserved = sizeof *b;
		for (unsigned r = 0; r < b->nregions; r++)
			reserved += b->region_size[r];
		assert_int_equal(shmex_book_memsize(&cases[i]), reserved);
		shmex_book_destroy(b);
	}
}

int main(void)
{
	/* The flooding tests need the default, randomly keyed hash. */
	unsetenv("SHMEX_HASH_SEED");
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_limit_rests_and_best_price),
		T(test_price_then_time_priority),
		T(test_partial_fill_rests_remainder),
		T(test_market_order_sweeps_and_kills_rest),
		T(test_market_order_on_empty_book),
		T(test_market_budget_caps_notional),
		T(test_ioc_fills_what_crosses),
		T(test_fok_filled_only_by_several_levels),
		T(test_fok_unfillable_changes_nothing),
		T(test_fok_counts_hidden_iceberg),
		T(test_post_only),
		T(test_gtd_expires_on_the_injected_clock),
		T(test_cancel_and_unknown),
		T(test_reduce_keeps_priority),
		T(test_reduce_to_zero_cancels),
		T(test_reduce_iceberg_takes_hidden_first),
		T(test_amend_quantity_down_keeps_priority),
		T(test_amend_quantity_up_loses_priority),
		T(test_amend_price_loses_priority_and_may_trade),
		T(test_amend_post_only_that_would_cross),
		T(test_mass_cancel_by_owner),
		T(test_iceberg_replenishes_to_back_of_queue),
		T(test_incoming_iceberg_trades_whole_then_splits),
		T(test_stp_cancel_newest),
		T(test_stp_cancel_oldest),
		T(test_stp_cancel_both),
		T(test_stp_needs_owner_and_same_owner),
		T(test_fok_with_stp_stops_at_own_order),
		T(test_stop_market_triggers_on_last_trade),
		T(test_stop_limit_rests_after_trigger),
		T(test_take_profit_triggers_opposite_direction),
		T(test_several_triggers_run_in_acceptance_order),
		T(test_stop_cascade_and_immediate_trigger),
		T(test_parked_stop_cancel_reduce_expire),
		T(test_rejects_with_reason_codes),
		T(test_book_full_and_level_pool_full),
		T(test_extreme_prices_and_quantities),
		T(test_depth_top_n_and_full),
		T(test_prefetch_hints_change_nothing),
		T(test_create_refuses_bad_params),
		T(test_hostile_fields_never_change_the_book),
		T(test_no_allocation_after_create),
		T(test_pools_exhausted_in_a_cascade),
		T(test_fok_with_stp_stops_walking_when_filled),
		T(test_id_index_resists_chosen_ids),
		T(test_price_index_resists_chosen_prices),
		T(test_match_limit_kills_the_rest),
		T(test_match_limit_counts_iceberg_peaks_and_stp),
		T(test_match_limit_fok_is_all_or_nothing),
		T(test_create_refuses_bad_options),
		T(test_issued_ids),
		T(test_ladder_and_far_levels_in_order),
		T(test_run_batches_like_single_calls),
		T(test_memsize_is_what_create_reserves),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
