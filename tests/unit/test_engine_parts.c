/*
 * Unit tests of the daemon's single-threaded parts: the request decoder
 * (each rule a client line must pass) and the order -> session map
 * (against an obviously correct model under random operations).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "owners.h"

static struct shmex_request sx_limit(void)
{
	struct shmex_request r;
	memset(&r, 0, sizeof r);
	r.type = SHMEX_REQ_SUBMIT;
	r.side = SHMEX_SELL;
	r.order_type = SHMEX_LIMIT;
	r.tif = SHMEX_GTC;
	r.user = 3;
	r.symbol = 2;
	r.client_id = 77;
	r.price = 100;
	r.qty = 5;
	return r;
}

static void test_decode_submit(void **state)
{
	(void)state;
	struct shmex_request r = sx_limit();
	struct sx_cmd c;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_NONE);
	assert_int_equal(c.op, SX_CMD_SUBMIT);
	assert_int_equal(c.u.submit.user, 3);
	assert_int_equal(c.u.submit.symbol, 2);
	assert_int_equal(c.u.submit.side, SHMEX_SELL);
	assert_int_equal(c.u.submit.price, 100);
	assert_int_equal(c.u.submit.qty, 5);
	assert_int_equal(c.u.submit.client_id, 77);
	/* aux: trigger for stops, budget for market, else must be 0 */
	r.order_type = SHMEX_STOP_LIMIT;
	r.aux = 90;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_NONE);
	assert_int_equal(c.u.submit.trigger_price, 90);
	assert_int_equal(c.u.submit.quote_budget, 0);
	r.order_type = SHMEX_MARKET;
	r.tif = SHMEX_IOC;
	r.price = 0;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_NONE);
	assert_int_equal(c.u.submit.quote_budget, 90);
	assert_int_equal(c.u.submit.trigger_price, 0);
	r = sx_limit();
	r.aux = 1;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_OPTION);
	assert_int_equal(c.op, 0);
	r = sx_limit();
	r.flags = SHMEX_OF_POST_ONLY;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_NONE);
	assert_int_equal(c.u.submit.flags, SHMEX_OF_POST_ONLY);
}

/* One broken field per case, each with the reason it must get. */
static int sx_mutate(int i, struct shmex_request *r)
{
	switch (i) {
	case 0: r->type = 0; return SHMEX_R_BAD_REQUEST;
	case 1: r->type = 99; return SHMEX_R_BAD_REQUEST;
	case 2: r->side = 2; return SHMEX_R_BAD_REQUEST;
	case 3: r->order_type = 6; return SHMEX_R_BAD_REQUEST;
	case 4: r->tif = 4; return SHMEX_R_BAD_REQUEST;
	case 5: r->stp = 4; return SHMEX_R_BAD_REQUEST;
	case 6: r->flags = 1; return SHMEX_R_BAD_REQUEST;     /* OWNER is the engine's */
	case 7: r->pad = 1; return SHMEX_R_BAD_REQUEST;
	case 8: r->aux = 5; return SHMEX_R_BAD_OPTION;        /* aux for a plain limit */
	case 9: r->qty = 0; return SHMEX_R_BAD_QTY;
	case 10: r->qty = -1; return SHMEX_R_BAD_QTY;
	case 11: r->price = -1; return SHMEX_R_BAD_PRICE;
	case 12: r->display_qty = -1; return SHMEX_R_BAD_OPTION;
	case 13: r->expire_at = -1; return SHMEX_R_BAD_OPTION;
	case 14: r->user = SHMEX_FEE_ACCOUNT; return SHMEX_R_UNKNOWN_USER;
	default: return -1;
	}
}

static void test_decode_refuses_garbage(void **state)
{
	(void)state;
	for (int i = 0; i < 15; i++) {
		struct shmex_request r = sx_limit();
		struct sx_cmd c;
		const int want = sx_mutate(i, &r);
		assert_int_equal(sx_request_decode(&r, &c), want);
		assert_int_equal(c.op, 0);
	}
}

static struct shmex_request sx_req(uint8_t type, uint32_t user)
{
	struct shmex_request r;
	memset(&r, 0, sizeof r);
	r.type = type;
	r.user = user;
	return r;
}

static void test_decode_other_types(void **state)
{
	(void)state;
	struct sx_cmd c;
	struct shmex_request r = sx_req(SHMEX_REQ_CANCEL, 1);
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_REQUEST); /* no id at all */
	r.order_id = 9;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_NONE);
	assert_int_equal(c.op, SX_CMD_CANCEL);
	assert_int_equal(c.u.target.order_id, 9);
	r.order_id = 0;
	r.client_id = 4; /* by client id */
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_NONE);
	r.price = 1; /* a cancel carries no price */
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_REQUEST);
	r = sx_req(SHMEX_REQ_CANCEL, 1);
	r.order_id = 9;
	r.side = 1; /* order fields must be zero */
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_REQUEST);
	r.side = 0;
	r.expire_at = 1;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_REQUEST);

	r = sx_req(SHMEX_REQ_AMEND, 1);
	r.order_id = 9;
	r.price = 10;
	r.qty = 3;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_NONE);
	assert_int_equal(c.op, SX_CMD_AMEND);
	assert_int_equal(c.u.target.price, 10);
	assert_int_equal(c.u.target.qty, 3);
	r.qty = 0;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_QTY);
	r.qty = 3;
	r.price = 0;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_PRICE);
	r.price = 10;
	r.order_id = 0;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_REQUEST);

	r = sx_req(SHMEX_REQ_MASS_CANCEL, 2);
	r.symbol = 1;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_NONE);
	assert_int_equal(c.op, SX_CMD_MASS_CANCEL);
	r.order_id = 1;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_REQUEST);

	r = sx_req(SHMEX_REQ_PING, 0);
	r.client_id = 42;
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_NONE);
	assert_int_equal(c.op, SX_CMD_PING);
	assert_int_equal(c.u.target.client_id, 42);
	r.user = 1; /* a ping is for no user */
	assert_int_equal(sx_request_decode(&r, &c), SHMEX_R_BAD_REQUEST);
}

/* Random adds, removes and session takes against a plain model, with ids
 * as the exchange hands them out (live ones distinct modulo the capacity;
 * a slot's id changes only once its order ended). */
static void test_owners_model(void **state)
{
	(void)state;
	enum { CAP = 512, SESSIONS = 8 };
	assert_null(sx_owners_create(500, SESSIONS)); /* not a power of two */
	struct sx_owners *o = sx_owners_create(CAP, SESSIONS);
	assert_non_null(o);
	static uint64_t id_of[CAP];   /* the id last given to each slot */
	static uint16_t model[CAP];   /* session + 1 of the live order there, 0: none */
	memset(id_of, 0, sizeof id_of);
	memset(model, 0, sizeof model);
	uint32_t live = 0;
	uint64_t x = 12345;
	for (int step = 0; step < 200000; step++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		const uint32_t slot = (uint32_t)((x >> 33) % CAP);
		const uint16_t s = (uint16_t)((x >> 20) % SESSIONS);
		const int op = (int)((x >> 10) % 100);
		if (op < 55) {
			if (model[slot]) {
				/* the same id again is refused */
				assert_int_equal(sx_owners_add(o, id_of[slot], s), SHMEX_E_DUPLICATE);
			} else {
				id_of[slot] = id_of[slot] ? id_of[slot] + CAP : slot + CAP; /* never 0 */
				assert_int_equal(sx_owners_add(o, id_of[slot], s), 0);
				model[slot] = (uint16_t)(s + 1);
				live++;
			}
		} else if (op < 98) {
			/* an id not given yet: no effect */
			sx_owners_remove(o, (id_of[slot] ? id_of[slot] : slot) + CAP);
			sx_owners_remove(o, id_of[slot]);
			if (model[slot]) {
				model[slot] = 0;
				live--;
			}
		} else {
			uint64_t got[CAP];
			const uint32_t n = sx_owners_take_session(o, s, got, CAP);
			uint32_t want = 0;
			for (uint32_t i = 0; i < CAP; i++)
				if (model[i] == s + 1) {
					want++;
					model[i] = 0;
				}
			assert_int_equal(n, want);
			for (uint32_t i = 0; i < n; i++) {
				assert_int_equal(got[i], id_of[got[i] % CAP]);
				assert_int_equal(sx_owners_find(o, got[i]), SX_NO_SESSION);
			}
			live -= n;
		}
		assert_int_equal(sx_owners_count(o), live);
		if (step % 1000 == 0)
			for (uint32_t i = 0; i < CAP; i++) {
				assert_int_equal(sx_owners_find(o, id_of[i]),
						 model[i] ? (unsigned)(model[i] - 1) : SX_NO_SESSION);
				if (id_of[i] > CAP) /* an older id of the slot is no one's */
					assert_int_equal(sx_owners_find(o, id_of[i] - CAP), SX_NO_SESSION);
			}
	}
	/* An entry left by an order that ended unseen gives way to the slot's
	 * next id, and leaves its session's list. */
	uint64_t got[CAP];
	for (uint16_t s2 = 0; s2 < SESSIONS; s2++)
		sx_owners_take_session(o, s2, got, CAP);
	assert_int_equal(sx_owners_add(o, 7, 1), 0);
	assert_int_equal(sx_owners_add(o, 7 + CAP, 2), 0);
	assert_int_equal(sx_owners_find(o, 7), SX_NO_SESSION);
	assert_int_equal(sx_owners_find(o, 7 + CAP), 2);
	assert_int_equal(sx_owners_take_session(o, 1, got, CAP), 0);
	assert_int_equal(sx_owners_take_session(o, 2, got, CAP), 1);
	assert_int_equal(sx_owners_count(o), 0);
	sx_owners_destroy(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_submit),
		cmocka_unit_test(test_decode_refuses_garbage),
		cmocka_unit_test(test_decode_other_types),
		cmocka_unit_test(test_owners_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
