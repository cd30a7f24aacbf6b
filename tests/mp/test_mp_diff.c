/*
 * mp suite: differential test of the daemon against the exchange core.
 *
 * A deterministic random flow of a few thousand requests (submits: limit
 * GTC, post-only, iceberg, IOC, FOK, market sells, market buys with a quote
 * budget, repeated client ids; cancels by id and by client id, amends, mass
 * cancels, cancels and amends of orders that are gone) for 3 users on 2
 * symbols is first run on a struct shmex_exchange in this process, built
 * from the same table as the daemon's configuration (mp_world.h) and in the
 * daemon's order, so event numbers match. Each call's reports, taken from
 * the exchange's report_sink, become the reports the protocol promises
 * (shmex_report.h): every report of request i carries request_no i, the
 * last one SHMEX_RPTF_DONE; a call that made no report is answered by one
 * SHMEX_RPT_REJECT with the call's reason; a mass cancel ends with a
 * SHMEX_RPT_MASS_CANCEL report.
 *
 * Then the same requests go, pipelined, through one session of a shmexd
 * with gateways = 2 and layout = dedicated (a gateway thread each and a
 * matcher thread; another process pings through the other gateway all the
 * while), and every field of every report must match (the engine clock
 * excepted): kind, event, status, reason, side, liquidity, user, symbol,
 * order and client ids, sequence, price, quantities, trade and counter ids,
 * quote amount, fee, request number, flags. Then every balance (fee account
 * included) must match, and both sides' invariant checks pass.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mp_harness.h"
#include "mp_session.h"
#include "mp_world.h"
#include "shmex/exchange.h"

#define DIFF_USERS 3
#define DIFF_REQUESTS 3000
#define DIFF_MAX_REPORTS 32768
#define DIFF_WINDOW 256

enum diff_op { D_SUBMIT, D_CANCEL, D_CANCEL_CID, D_AMEND, D_MASS };

struct diff_req {
	uint8_t op;
	struct shmex_order_request o; /* D_SUBMIT */
	uint32_t user, symbol;        /* others */
	uint64_t order_id, client_id;
	int64_t price, qty;
};

static struct diff_req g_req[DIFF_REQUESTS];
static struct shmex_report g_want[DIFF_MAX_REPORTS], g_got[DIFF_MAX_REPORTS];
static uint32_t g_nwant, g_ngot;
static struct shmex_exchange *g_ex;
static struct mp_daemon g_d;
static struct shmex_client *g_admin;
static struct mp_sess g_s;
static struct mp_pipe g_stop = { -1, -1 };
static char g_ini[16384];

/* The in-process reports of the call being made. */
static struct shmex_order_report g_call[4096];
static uint32_t g_ncall;

static void diff_sink(void *ctx, const struct shmex_order_report *r)
{
	(void)ctx;
	if (g_ncall < sizeof g_call / sizeof g_call[0])
		g_call[g_ncall++] = *r;
}

static uint64_t g_rng = UINT64_C(0xD1FFD1FF);

static uint64_t diff_rand(void)
{
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * UINT64_C(2685821657736338717);
}

/* ---- the in-process run ---------------------------------------------------------------- */

static int diff_world(void)
{
	struct shmex_exchange_config xc = {
		.max_assets = MP_WORLD_MAX_ASSETS, .max_symbols = MP_WORLD_MAX_SYMBOLS,
		.max_users = MP_WORLD_MAX_USERS, .max_orders = MP_WORLD_MAX_ORDERS,
		.report_sink = diff_sink,
	};
	int rc = shmex_exchange_create(&xc, &g_ex);
	uint32_t id;
	/* The daemon's order (src/engine/engine.c): assets, symbols, then each
	 * user followed by its deposits. */
	for (uint32_t a = 1; rc == 0 && a <= MP_NASSETS; a++)
		rc = shmex_exchange_add_asset(g_ex, mp_world_asset(a), &id);
	for (uint32_t s = 1; rc == 0 && s <= MP_NSYMBOLS; s++)
		rc = shmex_exchange_add_symbol(g_ex, mp_world_symbol(s), &id);
	for (uint32_t u = 1; rc == 0 && u <= DIFF_USERS; u++) {
		rc = shmex_exchange_add_user(g_ex, NULL, &id);
		for (uint32_t a = 1; rc == 0 && a <= MP_NASSETS; a++)
			rc = shmex_exchange_deposit(g_ex, id, a, mp_world_deposit(a), 0, NULL);
	}
	return rc;
}

static void diff_from_order(const struct shmex_order_report *r, struct shmex_report *o)
{
	memset(o, 0, sizeof *o);
	o->kind = SHMEX_RPT_ORDER;
	o->what = (uint8_t)r->what;
	o->status = r->status;
	o->reason = r->reason;
	o->side = r->side;
	o->liquidity = r->liquidity;
	o->user = r->user;
	o->symbol = r->symbol;
	o->order_id = r->order_id;
	o->client_id = r->client_id;
	o->seq = r->seq;
	o->price = r->price;
	o->last_qty = r->last_qty;
	o->remaining = r->remaining;
	o->trade_id = r->trade_id;
	o->counter_id = r->counter_id;
	o->filled = r->filled;
	o->qty = r->qty;
	o->quote_amount = r->quote_amount;
	o->fee = r->fee;
}

static uint16_t diff_reason(int rc, const struct shmex_order_ack *ack)
{
	if (ack->reason)
		return ack->reason;
	switch (rc) {
	case SHMEX_E_UNKNOWN_USER: return SHMEX_R_UNKNOWN_USER;
	case SHMEX_E_UNKNOWN_SYMBOL: return SHMEX_R_UNKNOWN_SYMBOL;
	case SHMEX_E_UNKNOWN_ORDER: return SHMEX_R_UNKNOWN_ORDER;
	default: return SHMEX_R_BAD_REQUEST;
	}
}

/* The answer to a request that made no report. */
static void diff_reject(const struct diff_req *q, uint16_t reason, struct shmex_report *o)
{
	memset(o, 0, sizeof *o);
	o->kind = SHMEX_RPT_REJECT;
	o->status = SHMEX_OS_REJECTED;
	o->reason = reason;
	if (q->op == D_SUBMIT) {
		o->user = q->o.user;
		o->symbol = q->o.symbol;
		o->client_id = q->o.client_id;
		o->side = q->o.side;
		o->price = q->o.price;
		o->qty = q->o.qty;
	} else {
		o->user = q->user;
		o->symbol = q->symbol;
		o->order_id = q->order_id;
		o->client_id = q->client_id;
	}
}

/* A live order of a random user (0 if none). */
static uint64_t diff_live(uint32_t *user, struct shmex_order_state *st)
{
	static struct shmex_order_state list[1024];
	*user = 1 + (uint32_t)(diff_rand() % DIFF_USERS);
	uint32_t total = 0;
	const int n = shmex_exchange_open_orders(g_ex, *user, SHMEX_ALL_SYMBOLS, 0, list, 1024,
						 &total);
	if (n <= 0)
		return 0;
	*st = list[diff_rand() % (uint32_t)n];
	return st->order_id;
}

static void diff_make_submit(struct diff_req *q, uint64_t *cid)
{
	q->op = D_SUBMIT;
	struct shmex_order_request *o = &q->o;
	o->user = 1 + (uint32_t)(diff_rand() % DIFF_USERS);
	o->symbol = 1 + (uint32_t)(diff_rand() % MP_NSYMBOLS);
	const int64_t ref = mp_world_symbol(o->symbol)->ref_price;
	o->client_id = ++*cid;
	if (diff_rand() % 50 == 0 && *cid > 10) /* a client id used before */
		o->client_id = *cid - 1 - diff_rand() % 10;
	o->side = (uint8_t)(diff_rand() % 2);
	o->qty = 1 + (int64_t)(diff_rand() % 20);
	o->price = ref + ((int64_t)(diff_rand() % 201) - 100) * (ref / 10000);
	o->type = SHMEX_LIMIT;
	const int r = (int)(diff_rand() % 100);
	if (r < 35) {
		o->tif = SHMEX_GTC;
	} else if (r < 45) {
		o->tif = SHMEX_GTC;
		o->flags = SHMEX_OF_POST_ONLY;
	} else if (r < 55) {
		o->tif = SHMEX_GTC;
		o->display_qty = 1 + o->qty / 4;
	} else if (r < 70) {
		o->tif = SHMEX_IOC;
	} else if (r < 80) {
		o->tif = SHMEX_FOK;
	} else {
		o->type = SHMEX_MARKET;
		o->tif = SHMEX_IOC;
		o->price = 0;
		if (o->side == SHMEX_BUY)
			o->quote_budget = 500 + (int64_t)(diff_rand() % 200000);
	}
}

/* Draws request i from the exchange's state now. */
static void diff_make(struct diff_req *q, uint64_t *cid)
{
	memset(q, 0, sizeof *q);
	const int r = (int)(diff_rand() % 100);
	struct shmex_order_state st;
	if (r >= 55 && r < 88 && diff_live(&q->user, &st) != 0) {
		if (r < 70) {
			q->op = D_CANCEL;
			q->order_id = st.order_id;
		} else if (r < 75) {
			q->op = D_CANCEL_CID;
			q->client_id = st.client_id;
		} else {
			q->op = D_AMEND;
			q->order_id = st.order_id;
			const int64_t step = mp_world_symbol(st.symbol)->ref_price / 10000;
			q->price = st.price + ((int64_t)(diff_rand() % 5) - 2) * step;
			q->qty = 1 + (int64_t)(diff_rand() % 20);
		}
		return;
	}
	q->user = 1 + (uint32_t)(diff_rand() % DIFF_USERS);
	if (r >= 88 && r < 91) {
		q->op = D_MASS;
		q->symbol = (uint32_t)(diff_rand() % (MP_NSYMBOLS + 1)); /* 0: all */
	} else if (r >= 91 && r < 94) {
		q->op = D_CANCEL; /* an order that is gone, or never was */
		q->order_id = 1 + diff_rand() % (*cid + 5);
	} else if (r >= 94 && r < 97) {
		q->op = D_AMEND;
		q->order_id = 1 + diff_rand() % (*cid + 5);
		q->price = 6000000;
		q->qty = 3;
	} else {
		diff_make_submit(q, cid);
	}
}

/* Runs request i in process; appends what the daemon must answer. */
static void diff_apply(const struct diff_req *q, uint64_t request_no)
{
	struct shmex_order_ack ack;
	memset(&ack, 0, sizeof ack);
	uint32_t count = 0;
	uint64_t id = q->order_id;
	int rc = 0;
	g_ncall = 0;
	switch (q->op) {
	case D_SUBMIT:
		rc = shmex_exchange_submit(g_ex, &q->o, &ack);
		break;
	case D_CANCEL_CID:
		rc = shmex_exchange_find_client_id(g_ex, q->user, q->client_id, &id);
		/* fall through */
	case D_CANCEL:
		if (rc == 0)
			rc = shmex_exchange_cancel(g_ex, q->user, id, &ack);
		break;
	case D_AMEND:
		rc = shmex_exchange_amend(g_ex, q->user, id, q->price, q->qty, &ack);
		break;
	case D_MASS:
		rc = shmex_exchange_mass_cancel(g_ex, q->user, q->symbol, &count);
		break;
	default:
		break;
	}
	const uint32_t first = g_nwant;
	for (uint32_t i = 0; i < g_ncall && g_nwant < DIFF_MAX_REPORTS; i++)
		diff_from_order(&g_call[i], &g_want[g_nwant++]);
	if (q->op == D_MASS && rc == 0 && g_nwant < DIFF_MAX_REPORTS) {
		struct shmex_report *m = &g_want[g_nwant++];
		memset(m, 0, sizeof *m);
		m->kind = SHMEX_RPT_MASS_CANCEL;
		m->user = q->user;
		m->symbol = q->symbol;
		m->last_qty = count;
		m->seq = shmex_exchange_seq(g_ex);
	} else if (g_nwant == first && g_nwant < DIFF_MAX_REPORTS) {
		diff_reject(q, diff_reason(rc, &ack), &g_want[g_nwant++]);
	}
	for (uint32_t i = first; i < g_nwant; i++)
		g_want[i].request_no = request_no;
	g_want[g_nwant - 1].flags = SHMEX_RPTF_DONE;
}

/* ---- the daemon run -------------------------------------------------------------------------- */

static void diff_on_report(void *ctx, const struct shmex_report *r)
{
	(void)ctx;
	if (g_ngot < DIFF_MAX_REPORTS)
		g_got[g_ngot++] = *r;
}

static int diff_send(const struct diff_req *q)
{
	switch (q->op) {
	case D_SUBMIT: return mp_sess_submit(&g_s, &q->o);
	case D_CANCEL: return mp_sess_cancel(&g_s, q->user, q->order_id);
	case D_CANCEL_CID: return mp_sess_cancel_cid(&g_s, q->user, q->client_id);
	case D_AMEND: return mp_sess_amend(&g_s, q->user, q->order_id, q->price, q->qty);
	default: return mp_sess_mass_cancel(&g_s, q->user, q->symbol);
	}
}

/* Another process pinging through the other gateway until told to stop. */
static int diff_pinger(void *arg)
{
	(void)arg;
	struct mp_sess s;
	if (mp_sess_open(&s, g_d.sock, "pinger", 0, 0) != 0)
		return 1;
	uint64_t tag = 0;
	while (!mp_pipe_eof(g_stop.rd)) {
		if (mp_sess_ping(&s, ++tag) != 0 || mp_sess_sync(&s, 5 * MP_SEC) != 0)
			return 1;
	}
	mp_sess_close(&s);
	return tag > 0 ? 0 : 1;
}

static int diff_compare(void)
{
	const uint32_t n = g_nwant < g_ngot ? g_nwant : g_ngot;
	for (uint32_t i = 0; i < n; i++) {
		struct shmex_report got = g_got[i];
		got.time = 0; /* the engine clock: real time in the daemon */
		if (memcmp(&got, &g_want[i], sizeof got) == 0)
			continue;
		const struct shmex_report *w = &g_want[i], *x = &got;
		fprintf(stderr,
			"report %u (request %llu) differs:\n"
			"        kind what status flags reason side liq user sym order cid seq "
			"price last rem trade counter filled qty quote fee\n"
			"  want  %u %u %u %u %u %u %u %u %u %llu %llu %llu %lld %lld %lld %llu %llu "
			"%lld %lld %lld %lld\n"
			"  got   %u %u %u %u %u %u %u %u %u %llu %llu %llu %lld %lld %lld %llu %llu "
			"%lld %lld %lld %lld\n",
			i, (unsigned long long)w->request_no, w->kind, w->what, w->status, w->flags,
			w->reason, w->side, w->liquidity, w->user, w->symbol,
			(unsigned long long)w->order_id, (unsigned long long)w->client_id,
			(unsigned long long)w->seq, (long long)w->price, (long long)w->last_qty,
			(long long)w->remaining, (unsigned long long)w->trade_id,
			(unsigned long long)w->counter_id, (long long)w->filled, (long long)w->qty,
			(long long)w->quote_amount, (long long)w->fee, x->kind, x->what, x->status,
			x->flags, x->reason, x->side, x->liquidity, x->user, x->symbol,
			(unsigned long long)x->order_id, (unsigned long long)x->client_id,
			(unsigned long long)x->seq, (long long)x->price, (long long)x->last_qty,
			(long long)x->remaining, (unsigned long long)x->trade_id,
			(unsigned long long)x->counter_id, (long long)x->filled, (long long)x->qty,
			(long long)x->quote_amount, (long long)x->fee);
		return -1;
	}
	if (g_nwant != g_ngot) {
		fprintf(stderr, "%u reports wanted, %u received\n", g_nwant, g_ngot);
		return -1;
	}
	return 0;
}

static int diff_teardown(void **state)
{
	(void)state;
	shmex_client_close(g_admin);
	g_admin = NULL;
	mp_sess_close(&g_s);
	mp_kill_all();
	mp_daemon_cleanup(&g_d);
	mp_pipe_close(&g_stop);
	shmex_exchange_destroy(g_ex);
	g_ex = NULL;
	return 0;
}

static void test_diff_daemon_vs_core(void **state)
{
	(void)state;
	/* In process. */
	assert_int_equal(diff_world(), 0);
	uint64_t cid = 0;
	for (uint32_t i = 0; i < DIFF_REQUESTS; i++) {
		diff_make(&g_req[i], &cid);
		diff_apply(&g_req[i], i + 1);
	}
	assert_true(g_nwant < DIFF_MAX_REPORTS);
	char msg[256];
	assert_int_equal(shmex_exchange_check(g_ex, msg, sizeof msg), 0);
	uint32_t kinds[8] = { 0 }, trades = 0;
	for (uint32_t i = 0; i < g_nwant; i++) {
		kinds[g_want[i].kind & 7]++;
		trades += g_want[i].kind == SHMEX_RPT_ORDER && g_want[i].what == SHMEX_EV_TRADE;
	}
	/* The flow is only worth running if it reaches every path. */
	assert_true(trades > 500 && kinds[SHMEX_RPT_REJECT] > 50 &&
		    kinds[SHMEX_RPT_MASS_CANCEL] > 10);

	/* Through the daemon. */
	mp_world_ini(g_ini, sizeof g_ini,
		     "gateways = 2\nmatchers = 1\nlayout = dedicated\nwait = block\n", DIFF_USERS,
		     NULL);
	assert_int_equal(mp_daemon_start(&g_d, g_ini), 0);
	struct shmex_client_options o = { .socket_path = g_d.sock, .name = "admin" };
	assert_int_equal(shmex_client_connect(&o, &g_admin), 0);
	assert_int_equal(mp_pipe_open(&g_stop), 0);
	mp_parent_only(g_stop.wr);
	pid_t pp = mp_spawn(diff_pinger, NULL);
	assert_true(pp > 0);
	assert_int_equal(mp_sess_open(&g_s, g_d.sock, "flow", 0, 0), 0);
	g_s.on_report = diff_on_report;
	const int64_t t0 = mp_now_ns();
	for (uint32_t i = 0; i < DIFF_REQUESTS; i++) {
		while (g_s.sent - g_s.done >= DIFF_WINDOW)
			assert_true(mp_sess_pump(&g_s, 100 * MP_MS) >= 0);
		assert_int_equal(diff_send(&g_req[i]), 0);
	}
	assert_int_equal(mp_sess_sync(&g_s, 30 * MP_SEC), 0);
	const int64_t took = mp_now_ns() - t0;
	mp_pipe_close_wr(&g_stop);
	assert_int_equal(mp_child_wait(pp, 10 * MP_SEC), 0);
	if (diff_compare() != 0)
		fail_msg("the daemon's reports differ from the exchange core's");

	/* Same money everywhere, the fee account included. */
	for (uint32_t u = 0; u <= DIFF_USERS; u++) {
		struct shmex_client_balance b[8];
		const int nb = shmex_client_balances(g_admin, u, b, 8);
		assert_int_equal(nb, MP_NASSETS);
		for (int k = 0; k < nb; k++) {
			struct shmex_balance want;
			assert_int_equal(shmex_exchange_balance(g_ex, u, b[k].asset, &want), 0);
			assert_int_equal(b[k].available, want.available);
			assert_int_equal(b[k].locked, want.locked);
		}
	}
	assert_int_equal(shmex_client_check(g_admin, msg, sizeof msg), 0);
	shmex_client_close(g_admin);
	g_admin = NULL;
	mp_sess_close(&g_s);
	const int st = mp_daemon_stop(&g_d, 10 * MP_SEC);
	if (st != 0)
		mp_daemon_log_dump(&g_d);
	assert_int_equal(st, 0);
	assert_true(mp_daemon_log_has(&g_d, "layout dedicated"));
	assert_true(mp_daemon_log_has(&g_d, "0 violations"));
	assert_true(mp_daemon_log_clean(&g_d));
	fprintf(stderr, "diff: %u requests, %u reports (%u trades, %u rejects, %u mass cancels) "
			"identical; %.0f ms through the daemon\n",
		DIFF_REQUESTS, g_nwant, trades, kinds[SHMEX_RPT_REJECT],
		kinds[SHMEX_RPT_MASS_CANCEL], (double)took / 1e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_diff_daemon_vs_core, diff_teardown),
	};
	return cmocka_run_group_tests_name("mp_diff", tests, NULL, NULL);
}
