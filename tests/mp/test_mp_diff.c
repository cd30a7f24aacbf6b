/*
 * mp suite: differential test of the daemon against the exchange core.
 *
 * A deterministic random flow of a few thousand requests (submits: limit
 * GTC, post-only, iceberg, IOC, FOK, market sells, market buys with a quote
 * budget, repeated client ids; cancels by id and by client id, amends, mass
 * cancels, cancels and amends of orders that are gone) for 3 users on 2
 * symbols is first run on a struct shmex_exchange in this process
 * (mp_diff_flow.h), which gives the reports the daemon must answer.
 *
 *   diff_daemon_vs_core     the requests go, 256 in flight, through one
 *                           session of a shmexd with gateways = 2 and layout =
 *                           dedicated (a gateway thread each and a matcher
 *                           thread; another process pings through the other
 *                           gateway all the while), and every field of every
 *                           report must match (the engine clock excepted):
 *                           kind, event, status, reason, side, liquidity, user,
 *                           symbol, order and client ids, sequence, price,
 *                           quantities, trade and counter ids, quote amount,
 *                           fee, request number, flags.
 *   diff_two_matchers       the same through gateways = 2, matchers = 2
 *                           (BTC/USD on matcher 0, ETH/USD on matcher 1, the
 *                           bank holding free funds), closed loop (each
 *                           request sent once the previous one is answered,
 *                           so funds are exactly as in process), the users
 *                           funded so that some orders are refused NO_FUNDS,
 *                           client ids unique per user or 0; reports compared
 *                           with only ids, seq and the interleaving of the
 *                           matchers normalised (mp_diff_match.h).
 *   diff_two_matchers_pipelined  likewise with 16 requests in flight and the
 *                           users funded so amply that funds never bind.
 *
 * Then, in each, every balance (fee account included) must match, and both
 * sides' invariant checks pass; the daemon's journal folds every event
 * without a violation.
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

#include "mp_diff_flow.h"
#include "mp_diff_match.h"
#include "mp_harness.h"
#include "mp_session.h"
#include "mp_world.h"
#include "shmex/exchange.h"

#define DIFF_USERS 3
#define DIFF_MAX_REPORTS 32768

/* One way of running the flow through a daemon. */
struct diff_variant {
	const char *name;
	uint32_t matchers;
	uint32_t requests;
	uint32_t window;          /* requests in flight (1: closed loop) */
	const int64_t *deposits;  /* NULL: the world's (funds never bind) */
	int tight;                /* some orders must be refused NO_FUNDS */
};

static struct mp_diff_flow g_flow;
static struct shmex_report g_got[DIFF_MAX_REPORTS];
static uint32_t g_ngot;
static struct mp_daemon g_d;
static struct shmex_client *g_admin;
static struct mp_sess g_s;
static struct mp_pipe g_stop = { -1, -1 };
static char g_ini[16384];

/* Several matchers: each request's daemon reports (a list through g_got in
 * arrival order), the order id it named on each side, and where each
 * in-process order id first appears. */
static struct mp_diff_match g_m;
static uint32_t *g_head, *g_tail, *g_next;
static uint64_t *g_want_target, *g_got_target;
static uint32_t *g_first_req;
static uint64_t g_max_id;
static uint32_t g_requests;

#define DIFF_NONE UINT32_MAX

/* ---- one matcher: every field equal ------------------------------------------------- */

static void diff_on_report(void *ctx, const struct shmex_report *r)
{
	(void)ctx;
	if (g_ngot < DIFF_MAX_REPORTS)
		g_got[g_ngot++] = *r;
}

static int diff_compare(void)
{
	const uint32_t n = g_flow.nwant < g_ngot ? g_flow.nwant : g_ngot;
	for (uint32_t i = 0; i < n; i++) {
		struct shmex_report got = g_got[i];
		got.time = 0; /* the engine clock: real time in the daemon */
		if (memcmp(&got, &g_flow.want[i], sizeof got) == 0)
			continue;
		const struct shmex_report *w = &g_flow.want[i], *x = &got;
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
	if (g_flow.nwant != g_ngot) {
		fprintf(stderr, "%u reports wanted, %u received\n", g_flow.nwant, g_ngot);
		return -1;
	}
	return 0;
}

/* ---- several matchers: compared request by request as each is answered ------------ */

static void diff_on_report_m(void *ctx, const struct shmex_report *r)
{
	(void)ctx;
	if (g_ngot >= DIFF_MAX_REPORTS) {
		mp_sess_fail(&g_s, "more than %u reports", DIFF_MAX_REPORTS);
		return;
	}
	const uint64_t no = r->request_no;
	if (no == 0 || no > g_requests) { /* every order here is this session's */
		mp_sess_fail(&g_s, "a report for request %llu", (unsigned long long)no);
		return;
	}
	const uint32_t idx = g_ngot++;
	g_got[idx] = *r;
	g_next[idx] = DIFF_NONE;
	if (g_head[no] == DIFF_NONE)
		g_head[no] = idx;
	else
		g_next[g_tail[no]] = idx;
	g_tail[no] = idx;
	if (mp_diff_match_seq(&g_m, r) != 0) {
		mp_sess_fail(&g_s, "%s", g_m.why);
		return;
	}
	if (!(r->flags & SHMEX_RPTF_DONE))
		return;
	/* The checker saw to it that nothing of this request comes later. */
	static const struct shmex_report *got[512];
	uint32_t ng = 0;
	for (uint32_t i = g_head[no]; i != DIFF_NONE && ng < 512; i = g_next[i])
		got[ng++] = &g_got[i];
	const uint32_t a = g_flow.first[no - 1], b = g_flow.first[no];
	if (mp_diff_match_request(&g_m, &g_flow.want[a], b - a, got, ng, g_want_target[no],
				  g_got_target[no]) != 0)
		mp_sess_fail(&g_s, "%s", g_m.why);
}

/* The daemon's id for in-process order @p x named by request @p no: the
 * twin of its first report, once that has come; an id no order has, if
 * in process none had it before this request either. 0: not in time. */
static uint64_t diff_daemon_id(uint64_t x, uint64_t no)
{
	if (x > g_max_id || g_first_req[x] == 0 || g_first_req[x] >= no)
		return (x & 1) << 48 | UINT64_C(1) << 40 | x; /* on matcher 0 or 1 */
	const int64_t deadline = mp_now_ns() + 5 * MP_SEC;
	uint64_t y;
	while ((y = mp_diff_match_order(&g_m, x)) == 0)
		if (mp_now_ns() > deadline || mp_sess_pump(&g_s, 10 * MP_MS) < 0)
			return 0;
	return y;
}

static int diff_send_m(uint32_t i)
{
	const struct mp_diff_req *q = &g_flow.req[i];
	const uint64_t no = (uint64_t)i + 1;
	uint64_t target = 0;
	if (q->op == D_CANCEL || q->op == D_AMEND) {
		target = diff_daemon_id(q->order_id, no);
		if (target == 0)
			return mp_sess_fail(&g_s, "request %llu names order %llu, whose first report "
						  "(request %u) has not come",
					    (unsigned long long)no, (unsigned long long)q->order_id,
					    g_first_req[q->order_id]);
	}
	g_want_target[no] = q->op == D_CANCEL || q->op == D_AMEND ? q->order_id : 0;
	g_got_target[no] = target;
	switch (q->op) {
	case D_SUBMIT: return mp_sess_submit(&g_s, &q->o);
	case D_CANCEL: return mp_sess_cancel(&g_s, q->user, target);
	case D_CANCEL_CID: return mp_sess_cancel_cid(&g_s, q->user, q->client_id);
	case D_AMEND: return mp_sess_amend(&g_s, q->user, target, q->price, q->qty);
	default: return mp_sess_mass_cancel(&g_s, q->user, q->symbol);
	}
}

static void diff_m_setup(uint32_t requests)
{
	assert_int_equal(mp_diff_match_init(&g_m, 2), 0);
	g_requests = requests;
	g_head = malloc(((size_t)requests + 1) * sizeof *g_head);
	g_tail = calloc((size_t)requests + 1, sizeof *g_tail);
	g_next = calloc(DIFF_MAX_REPORTS, sizeof *g_next);
	g_want_target = calloc((size_t)requests + 1, sizeof *g_want_target);
	g_got_target = calloc((size_t)requests + 1, sizeof *g_got_target);
	assert_true(g_head && g_tail && g_next && g_want_target && g_got_target);
	memset(g_head, 0xff, ((size_t)requests + 1) * sizeof *g_head);
	g_max_id = 0;
	for (uint32_t i = 0; i < g_flow.nwant; i++)
		if (g_flow.want[i].kind == SHMEX_RPT_ORDER && g_flow.want[i].order_id > g_max_id)
			g_max_id = g_flow.want[i].order_id;
	g_first_req = calloc(g_max_id + 1, sizeof *g_first_req);
	assert_non_null(g_first_req);
	for (uint32_t i = 0; i < g_flow.nwant; i++) {
		const struct shmex_report *w = &g_flow.want[i];
		if (w->kind == SHMEX_RPT_ORDER && g_first_req[w->order_id] == 0)
			g_first_req[w->order_id] = (uint32_t)w->request_no;
	}
}

/* ---- the run ------------------------------------------------------------------------------ */

/* Another process pinging through the other gateway until told to stop. */
static int diff_pinger(void *arg)
{
	const uint32_t matchers = *(const uint32_t *)arg;
	struct mp_sess s;
	if (mp_sess_open(&s, g_d.sock, "pinger", 0, 0) != 0)
		return 1;
	if (matchers > 1)
		mp_sess_matchers(&s, matchers);
	uint64_t tag = 0;
	while (!mp_pipe_eof(g_stop.rd)) {
		if (mp_sess_ping(&s, ++tag) != 0 || mp_sess_sync(&s, 5 * MP_SEC) != 0)
			return 1;
	}
	mp_sess_close(&s);
	return tag > 0 ? 0 : 1;
}

static int diff_send(const struct mp_diff_req *q)
{
	switch (q->op) {
	case D_SUBMIT: return mp_sess_submit(&g_s, &q->o);
	case D_CANCEL: return mp_sess_cancel(&g_s, q->user, q->order_id);
	case D_CANCEL_CID: return mp_sess_cancel_cid(&g_s, q->user, q->client_id);
	case D_AMEND: return mp_sess_amend(&g_s, q->user, q->order_id, q->price, q->qty);
	default: return mp_sess_mass_cancel(&g_s, q->user, q->symbol);
	}
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
	mp_diff_flow_free(&g_flow);
	mp_diff_match_free(&g_m);
	free(g_head);
	free(g_tail);
	free(g_next);
	free(g_want_target);
	free(g_got_target);
	free(g_first_req);
	g_head = g_tail = g_next = g_first_req = NULL;
	g_want_target = g_got_target = NULL;
	g_ngot = 0;
	return 0;
}

static void diff_run(const struct diff_variant *v)
{
	/* In process. */
	const struct mp_diff_flow_opts fo = { .users = DIFF_USERS, .requests = v->requests,
					      .unique_client_ids = v->matchers > 1,
					      .deposits = v->deposits };
	assert_int_equal(mp_diff_flow_run(&g_flow, &fo), 0);
	/* The flow is only worth running if it reaches every path. */
	const uint32_t *kinds = g_flow.kinds;
	if (!(g_flow.trades > v->requests / 6 && kinds[SHMEX_RPT_REJECT] > v->requests / 60 &&
	      kinds[SHMEX_RPT_MASS_CANCEL] > v->requests / 300))
		fail_msg("flow too thin: %u trades, %u rejects, %u mass cancels", g_flow.trades,
			 kinds[SHMEX_RPT_REJECT], kinds[SHMEX_RPT_MASS_CANCEL]);
	if (v->tight && g_flow.no_funds < v->requests / 50)
		fail_msg("only %u NO_FUNDS refusals in process", g_flow.no_funds);
	if (!v->tight && g_flow.no_funds != 0)
		fail_msg("%u NO_FUNDS refusals in process: funds bind", g_flow.no_funds);

	/* Through the daemon. */
	const struct mp_world_opts wo = {
		.engine_extra = "gateways = 2\nlayout = dedicated\nwait = block\n",
		.nusers = DIFF_USERS, .matchers = v->matchers, .deposits = v->deposits };
	mp_world_ini_opts(g_ini, sizeof g_ini, &wo);
	assert_int_equal(mp_daemon_start(&g_d, g_ini), 0);
	struct shmex_client_options o = { .socket_path = g_d.sock, .name = "admin" };
	assert_int_equal(shmex_client_connect(&o, &g_admin), 0);
	assert_int_equal(mp_pipe_open(&g_stop), 0);
	mp_parent_only(g_stop.wr);
	static uint32_t matchers;
	matchers = v->matchers;
	pid_t pp = mp_spawn(diff_pinger, &matchers);
	assert_true(pp > 0);
	assert_int_equal(mp_sess_open(&g_s, g_d.sock, "flow", 0, 0), 0);
	if (v->matchers > 1) {
		diff_m_setup(v->requests);
		mp_sess_matchers(&g_s, v->matchers);
		for (uint32_t s = 1; s <= MP_NSYMBOLS; s++)
			mp_sess_route(&g_s, s, mp_world_matcher(s, v->matchers));
		g_s.on_report = diff_on_report_m;
	} else {
		g_s.on_report = diff_on_report;
	}
	const int64_t t0 = mp_now_ns();
	for (uint32_t i = 0; i < v->requests; i++) {
		while (g_s.sent - g_s.done >= v->window)
			if (mp_sess_pump(&g_s, 100 * MP_MS) < 0)
				fail_msg("%s", g_s.why);
		const int rc = v->matchers > 1 ? diff_send_m(i) : diff_send(&g_flow.req[i]);
		if (rc != 0)
			fail_msg("%s", g_s.why);
	}
	if (mp_sess_sync(&g_s, 30 * MP_SEC) != 0)
		fail_msg("%s", g_s.why);
	const int64_t took = mp_now_ns() - t0;
	mp_pipe_close_wr(&g_stop);
	assert_int_equal(mp_child_wait(pp, 10 * MP_SEC), 0);
	if (v->matchers > 1) {
		assert_int_equal(g_m.requests, v->requests);
		assert_int_equal(g_m.reports, g_flow.nwant);
		assert_int_equal(g_ngot, g_flow.nwant);
	} else if (diff_compare() != 0) {
		fail_msg("the daemon's reports differ from the exchange core's");
	}

	/* Same money everywhere, the fee account included. */
	for (uint32_t u = 0; u <= DIFF_USERS; u++) {
		struct shmex_client_balance b[8];
		const int nb = shmex_client_balances(g_admin, u, b, 8);
		assert_int_equal(nb, MP_NASSETS);
		for (int k = 0; k < nb; k++) {
			struct shmex_balance want;
			assert_int_equal(shmex_exchange_balance(g_flow.ex, u, b[k].asset, &want), 0);
			if (b[k].available != want.available || b[k].locked != want.locked)
				fail_msg("user %u %s: available %lld locked %lld, in process %lld and "
					 "%lld",
					 u, b[k].code, (long long)b[k].available,
					 (long long)b[k].locked, (long long)want.available,
					 (long long)want.locked);
		}
	}
	char msg[256];
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
	fprintf(stderr, "%s: %u requests, %u reports (%u trades, %u rejects, %u NO_FUNDS, %u mass "
			"cancels) %s; %.0f ms through the daemon\n",
		v->name, v->requests, g_flow.nwant, g_flow.trades, kinds[SHMEX_RPT_REJECT],
		g_flow.no_funds, kinds[SHMEX_RPT_MASS_CANCEL],
		v->matchers > 1 ? "the same, ids, seq and interleaving normalised" : "identical",
		(double)took / 1e6);
}

static void test_diff_daemon_vs_core(void **state)
{
	(void)state;
	static const struct diff_variant v = { "diff", 1, 3000, 256, NULL, 0 };
	diff_run(&v);
}

/* Tight: a few orders' worth each (a resting BTC/USD bid of 20 lots locks
 * ~$1,200; a market buy's budget is up to $2,000). */
static const int64_t diff_tight[MP_NASSETS] = {
	INT64_C(500000),    /* USD 5,000.00 */
	INT64_C(5000000),   /* BTC 0.05 */
	INT64_C(100000000), /* ETH 1 */
};

static void test_diff_two_matchers(void **state)
{
	(void)state;
	static const struct diff_variant v = { "diff_two_matchers", 2, 3000, 1, diff_tight, 1 };
	diff_run(&v);
}

static void test_diff_two_matchers_pipelined(void **state)
{
	(void)state;
	static const struct diff_variant v = { "diff_two_matchers_pipelined", 2, 3000, 16, NULL,
					       0 };
	diff_run(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_diff_daemon_vs_core, diff_teardown),
		cmocka_unit_test_teardown(test_diff_two_matchers, diff_teardown),
		cmocka_unit_test_teardown(test_diff_two_matchers_pipelined, diff_teardown),
	};
	return cmocka_run_group_tests_name("mp_diff", tests, NULL, NULL);
}
