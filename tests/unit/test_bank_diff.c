/*
 * Unit test: the bank and several matchers (src/engine/bank*.c, matcher.c,
 * journal.c) against the exchange core, differential, deterministic, on
 * one thread.
 *
 * The engine is built by sx_engine_create() (gateways = 1, matchers = M,
 * layout dedicated, checking events) and never started: the test plays
 * the gateway, writing commands into its ring to the bank and reading the
 * bank's ring back, and runs the bank, each matcher and the journal by
 * hand in a seeded random order, some starved for a while, each now and
 * then seeing only a prefix of what was published to it (bank_diff_rig.h).
 * The same requests run one at a time on one shmex_exchange holding every
 * book and balance, as the matcher runs them (bank_diff_ref.h), from 4
 * sessions for 6 users on 5 symbols spread over the matchers: limit GTC,
 * post-only, iceberg, GTD (far), IOC, FOK, market IOC and FOK (budget,
 * protection price, none), stop and take-profit (limit, market),
 * self-trade prevention, oversized, out of band, unknown users and
 * symbols; cancels by id and by client id (of live orders, another
 * session's, ended ones, another user's, unknown ids), amends (up, down,
 * reduce, of ended and unknown orders), mass cancels of one symbol and of
 * every symbol, pings, and requests the gateway refused
 * (bank_diff_flow.h).
 *
 *   closed_loop_m2, _m3   one request in flight: each is answered (its
 *                         DONE) before the next goes; users funded tightly
 *                         (NO_FUNDS is common). When the DONE arrives every
 *                         balance must be what one exchange shows (the
 *                         proceeds came back ahead of the answer); then
 *                         the request's reports are compared lane by lane
 *                         (bank_diff_match.h) and nothing may come after
 *                         its DONE.
 *   pipelined_m2, _m3     1 to 48 requests in flight, funds ample (never
 *                         binding); at the end each order's reports, and
 *                         each request's other reports, are compared.
 *   fee_giveback_m2       five requests on SOL/ETH (maker rebate) whose
 *                         last trade costs the fee account a unit: a
 *                         matcher must not have swept its fee account to
 *                         the bank (it did before 1f4d5a9; checked).
 *
 * The _m2 tests keep 65536 order records per exchange; the _m3 ones few
 * (64, 256): the reference reuses records long before the matchers do,
 * and the bank's client-id routes collide, so cancels by client id also
 * go to every matcher and are merged.
 *
 * Then, in each: every balance of every user and of the fee account (the
 * bank's plus every matcher's) equals the reference's, the bank locks
 * nothing and no matcher keeps a user's unit available (all given back),
 * open orders agree, shmex_exchange_check() passes on every exchange (also
 * every 1024 requests), and the journal folded every event without a
 * violation.
 *
 * SHMEX_BANK_DIFF_REQUESTS (default 20000; ~2 s for all under ASan) and
 * SHMEX_BANK_DIFF_SEED (the base seed; each test adds its index) from the
 * environment; the engine's hash keys (SHMEX_HASH_SEED) follow the seed
 * unless given. A failure prints the seed that reproduces it; a hang
 * (240 s) too.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bank_diff_flow.h"
#include "bank_diff_match.h"
#include "bank_diff_ref.h"
#include "bank_diff_rig.h"
#include "bank_diff_world.h"

#define BD_USERS 6u
#define BD_STEPS_MAX 1000000u /* steps a wait may take before it is a failure */

struct bd_variant {
	const char *name;
	uint32_t index;    /* added to the base seed */
	uint32_t matchers;
	uint32_t window;   /* requests in flight (1: closed loop) */
	int tight;
	uint32_t max_orders; /* order records per exchange */
	const struct bd_req *script; /* these requests instead of random ones */
	uint32_t nscript;
};

static struct {
	const struct bd_variant *v;
	uint64_t seed;
	uint32_t requests;
	struct bd_world w;
	struct bd_ref ref;
	struct bd_flow flow;
	struct bd_rig rig;
	struct bd_match m;
	/* the engine's reports: this request's (closed loop) or all */
	struct bd_item *got;
	uint32_t ngot, gcap;
	/* the reference's, all (pipelined) */
	struct bd_item *want;
	uint32_t nwant, wcap;
	/* per request number */
	uint8_t *op, *bound;
	uint64_t *new_order, *want_target, *got_target;
	uint64_t done, awaited;
	int done_seen, broken;
	struct bd_req last;    /* closed loop: the request just answered */
} g;

static char g_alarm_text[256];

static void bd_on_alarm(int sig)
{
	(void)sig;
	if (write(2, g_alarm_text, strlen(g_alarm_text)) < 0) {
		/* nothing to do: about to abort */
	}
	abort();
}

static uint64_t bd_env(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return dflt;
	char *end;
	const unsigned long long v = strtoull(s, &end, 0);
	return *end == 0 ? (uint64_t)v : dflt;
}

#define bd_fail(...)                                                                            \
	do {                                                                                    \
		if (g.v->script)                                                                \
			fprintf(stderr, "bank diff %s (scripted): ", g.v->name);                \
		else                                                                            \
			fprintf(stderr, "bank diff %s: seed %llu (rerun: SHMEX_BANK_DIFF_SEED=%llu " \
					"SHMEX_BANK_DIFF_REQUESTS=%u): ",                        \
				g.v->name, (unsigned long long)g.seed,                          \
				(unsigned long long)(g.seed - g.v->index), g.requests);         \
		fail_msg(__VA_ARGS__);                                                          \
	} while (0)

/* ---- the engine's side ----------------------------------------------------------- */

static void bd_on_item(void *ctx, const struct bd_item *it)
{
	(void)ctx;
	if (g.ngot == g.gcap) {
		g.gcap = g.gcap ? 2 * g.gcap : 4096;
		struct bd_item *n = realloc(g.got, (size_t)g.gcap * sizeof *n);
		if (!n) {
			g.broken = 1;
			return;
		}
		g.got = n;
	}
	g.got[g.ngot++] = *it;
	const uint64_t no = it->rep.request_no;
	if (no > g.requests || it->session >= BD_SESSIONS) {
		bd_match_fail(&g.m, "a report for request %llu, session %u", (unsigned long long)no,
			      it->session);
		g.broken = 1;
		return;
	}
	/* The DONE of a cancel by client id may have gone to every matcher:
	 * the bank holds it until all have answered, while what the session
	 * sent later to the matcher that had the order comes on. */
	const int held = (it->rep.flags & SHMEX_RPTF_DONE) && no != 0 && g.op[no] == BD_CANCEL_CID;
	if (!held && bd_match_seq(&g.m, it) != 0)
		g.broken = 1;
	if (it->rep.flags & SHMEX_RPTF_DONE) {
		g.done++;
		if (no == g.awaited)
			g.done_seen = 1;
	}
	/* A new order's first report (its requester's, first of the request)
	 * names its id: later requests can name it. */
	if (no != 0 && g.op[no] == BD_SUBMIT && !g.bound[no] && it->rep.kind == SHMEX_RPT_ORDER) {
		g.bound[no] = 1;
		if (bd_match_bind(&g.m, g.new_order[no], it->rep.order_id) != 0)
			g.broken = 1;
	}
}

/* The engine's id for reference order @p id; 0: not known yet. */
static uint64_t bd_engine_id(uint64_t id)
{
	struct shmex_order_state st;
	if ((id & BD_JUNK_ID) || shmex_exchange_order(g.ref.ex, id, &st) != 0) {
		/* No order has it on either side (on matcher n % (M + 1): the
		 * bank's own block, M, is no matcher's). */
		const uint64_t n = id & (BD_JUNK_ID - 1);
		return (n % (g.w.matchers + 1)) << 48 | BD_JUNK_ID | n;
	}
	return bd_match_order(&g.m, id);
}

/* The command for @p q, with the engine's ids. @return 0, or 1 if it
 * names an order whose id has not come from the engine yet. */
static int bd_command(const struct bd_req *q, uint64_t no, struct sx_cmd *c)
{
	memset(c, 0, sizeof *c);
	c->session = q->session;
	c->request_no = no;
	c->u.target.user = q->user;
	switch (q->op) {
	case BD_SUBMIT:
		c->op = SX_CMD_SUBMIT;
		c->u.submit = q->o;
		break;
	case BD_CANCEL:
	case BD_AMEND:
		c->op = q->op == BD_CANCEL ? SX_CMD_CANCEL : SX_CMD_AMEND;
		c->u.target.order_id = bd_engine_id(q->order_id);
		if (c->u.target.order_id == 0)
			return 1;
		c->u.target.price = q->price;
		c->u.target.qty = q->qty;
		g.got_target[no] = c->u.target.order_id;
		g.want_target[no] = q->order_id;
		break;
	case BD_CANCEL_CID:
		c->op = SX_CMD_CANCEL;
		c->u.target.client_id = q->client_id;
		break;
	case BD_MASS:
		c->op = SX_CMD_MASS_CANCEL;
		c->u.target.symbol = q->symbol;
		break;
	case BD_PING:
		c->op = SX_CMD_PING;
		c->u.target.user = 0;
		c->u.target.client_id = q->client_id;
		break;
	default: /* BD_REFUSE */
		c->op = SX_CMD_REJECT;
		c->pad = q->reason;
		if (q->refuse_submit) {
			c->flags = SX_REJECT_SUBMIT;
			c->u.submit = q->o;
		} else {
			c->u.target.symbol = q->symbol;
			c->u.target.client_id = q->client_id;
		}
		break;
	}
	return 0;
}

static void bd_check_engine(void)
{
	if (g.broken || g.m.why[0])
		bd_fail("%s", g.m.why[0] ? g.m.why : "out of memory");
	if (g.rig.why[0])
		bd_fail("%s", g.rig.why);
}

/* Steps the engine until @p cond holds. */
#define bd_until(cond, what)                                                                    \
	do {                                                                                    \
		uint32_t steps_ = 0;                                                            \
		while (!(cond)) {                                                               \
			if (++steps_ > BD_STEPS_MAX)                                            \
				bd_fail("%s: no progress in %u steps", what, BD_STEPS_MAX);     \
			bd_rig_step(&g.rig);                                                    \
			bd_check_engine();                                                      \
		}                                                                               \
	} while (0)

/* ---- the run ------------------------------------------------------------------------ */

/* One account: the bank's balance plus every matcher's against the
 * reference's; the bank locks nothing and a matcher keeps nothing of a
 * user available (it gave it back; the fee account stays where it was
 * earned). @return 1 if it differs (printed), 0 if not. */
static int bd_check_account(uint64_t after, uint32_t u, uint32_t a)
{
	struct sx_engine *e = g.rig.e;
	struct shmex_balance want, b, mb, sum = { 0, 0 };
	assert_int_equal(shmex_exchange_balance(g.ref.ex, u, a, &want), 0);
	assert_int_equal(shmex_exchange_balance(sx_bank_exchange(e->bank), u, a, &b), 0);
	if (b.locked != 0)
		bd_fail("after request %llu: user %u asset %u: the bank locks %lld",
			(unsigned long long)after, u, a, (long long)b.locked);
	for (uint32_t k = 0; k < e->nmatchers; k++) {
		struct shmex_exchange *mx = sx_matcher_exchange(e->matchers[k]);
		assert_int_equal(shmex_exchange_balance(mx, u, a, &mb), 0);
		if (mb.available != 0 && u != SHMEX_FEE_ACCOUNT)
			bd_fail("after request %llu: user %u asset %u: matcher %u keeps %lld available",
				(unsigned long long)after, u, a, k, (long long)mb.available);
		sum.available += mb.available;
		sum.locked += mb.locked;
	}
	sum.available += b.available;
	if (sum.available == want.available && sum.locked == want.locked)
		return 0;
	fprintf(stderr, "after request %llu: user %u asset %u: available %lld locked %lld, the "
			"reference %lld and %lld\n",
		(unsigned long long)after, u, a, (long long)sum.available, (long long)sum.locked,
		(long long)want.available, (long long)want.locked);
	return 1;
}

/* Every balance and open order count against the reference's. */
static void bd_check_balances(uint64_t after)
{
	struct sx_engine *e = g.rig.e;
	uint32_t bad = 0;
	for (uint32_t u = 0; u <= g.w.users; u++) {
		for (uint32_t a = 1; a <= BD_NASSETS; a++)
			bad += (uint32_t)bd_check_account(after, u, a);
		uint32_t want_open = 0, open = 0, n = 0;
		if (u == 0)
			continue;
		shmex_exchange_open_orders(g.ref.ex, u, SHMEX_ALL_SYMBOLS, 0, NULL, 0, &want_open);
		for (uint32_t k = 0; k < e->nmatchers; k++) {
			shmex_exchange_open_orders(sx_matcher_exchange(e->matchers[k]), u,
						   SHMEX_ALL_SYMBOLS, 0, NULL, 0, &n);
			open += n;
		}
		if (open != want_open)
			bd_fail("after request %llu: user %u: %u open orders, the reference %u",
				(unsigned long long)after, u, open, want_open);
	}
	if (bad && g.v->window <= 1) {
		const struct bd_req *q = &g.last;
		fprintf(stderr, "request %llu: op %u session %u user %u symbol %u order %#llx cid %llu "
				"price %lld qty %lld; order: user %u symbol %u side %u type %u tif %u "
				"price %lld qty %lld display %lld trigger %lld budget %lld stp %u "
				"flags %u\n",
			(unsigned long long)after, q->op, q->session, q->user, q->symbol,
			(unsigned long long)q->order_id, (unsigned long long)q->client_id,
			(long long)q->price, (long long)q->qty, q->o.user, q->o.symbol, q->o.side,
			q->o.type, q->o.tif, (long long)q->o.price, (long long)q->o.qty,
			(long long)q->o.display_qty, (long long)q->o.trigger_price,
			(long long)q->o.quote_budget, q->o.stp, q->o.flags);
		bd_match_dump(g.ref.out, g.ref.nout, g.got, g.ngot);
	}
	if (bad)
		bd_fail("after request %llu: %u balances differ from the reference's (above)",
			(unsigned long long)after, bad);
}


/* Every exchange's invariants (shmex_exchange_check()). */
static void bd_check_exchanges(uint64_t after)
{
	struct sx_engine *e = g.rig.e;
	char msg[256];
	if (shmex_exchange_check(g.ref.ex, msg, sizeof msg) != 0)
		bd_fail("after request %llu: the reference's check: %s", (unsigned long long)after,
			msg);
	if (shmex_exchange_check(sx_bank_exchange(e->bank), msg, sizeof msg) != 0)
		bd_fail("after request %llu: the bank's check: %s", (unsigned long long)after, msg);
	for (uint32_t k = 0; k < e->nmatchers; k++)
		if (shmex_exchange_check(sx_matcher_exchange(e->matchers[k]), msg, sizeof msg) != 0)
			bd_fail("after request %llu: matcher %u's check: %s",
				(unsigned long long)after, k, msg);
}

/* The next request, run on the reference (its reports in g.ref.out). */
static void bd_next(uint64_t no, struct bd_req *q)
{
	if (g.v->script)
		*q = g.v->script[no - 1];
	else
		bd_flow_next(&g.flow, g.ref.ex, g.ref.max_id, q);
	g.op[no] = q->op;
	if (bd_ref_run(&g.ref, q, no) != 0)
		bd_fail("request %llu: more reports than the test holds", (unsigned long long)no);
	/* Records are per exchange: one that runs out where the others do
	 * not answers differently, and rightly. */
	if (g.ref.reasons[SHMEX_R_BOOK_FULL] != 0)
		bd_fail("request %llu: the reference ran out of order records or book room: "
			"the test's capacities are too small for its flow",
			(unsigned long long)no);
	g.new_order[no] = g.ref.new_order;
}

static void bd_closed_loop(void)
{
	for (uint64_t no = 1; no <= g.requests; no++) {
		struct bd_req q;
		struct sx_cmd c;
		bd_next(no, &q);
		g.last = q;
		if (bd_command(&q, no, &c) != 0)
			bd_fail("request %llu names order %llu, never seen from the engine",
				(unsigned long long)no, (unsigned long long)q.order_id);
		g.ngot = 0;
		g.awaited = no;
		g.done_seen = 0;
		if (!bd_rig_send(&g.rig, &c))
			bd_fail("the command ring is full with nothing in flight");
		bd_until(g.done_seen, "waiting for a DONE");
		/* What one exchange would show, as soon as the request is
		 * answered (the proceeds came back before the answer). */
		bd_check_balances(no);
		/* Nothing of it may come after its DONE. */
		if (bd_rig_settle(&g.rig, 2, 100000) != 0)
			bd_check_engine();
		bd_check_engine();
		if (bd_match_request(&g.m, g.ref.out, g.ref.nout, g.got, g.ngot, g.want_target[no],
				     g.got_target[no]) != 0)
			bd_fail("%s", g.m.why);
		if (no % 1024 == 0)
			bd_check_exchanges(no);
	}
}

static void bd_keep_want(void)
{
	if (g.nwant + g.ref.nout > g.wcap) {
		while (g.nwant + g.ref.nout > g.wcap)
			g.wcap = g.wcap ? 2 * g.wcap : 16384;
		struct bd_item *n = realloc(g.want, (size_t)g.wcap * sizeof *n);
		assert_non_null(n);
		g.want = n;
	}
	memcpy(&g.want[g.nwant], g.ref.out, g.ref.nout * sizeof *g.ref.out);
	g.nwant += g.ref.nout;
}

static void bd_pipelined(void)
{
	uint32_t window = g.v->window;
	for (uint64_t no = 1; no <= g.requests; no++) {
		struct bd_req q;
		struct sx_cmd c;
		bd_next(no, &q);
		bd_keep_want();
		if (no % 256 == 1) /* a new window now and then: 1 .. the variant's */
			window = 1 + (uint32_t)(bd_rand(&g.flow.rng) % g.v->window);
		bd_until(no - 1 - g.done < window, "waiting for room in the window");
		bd_until(bd_command(&q, no, &c) == 0, "waiting for an order's first report");
		bd_until(bd_rig_send(&g.rig, &c), "waiting for room in the command ring");
		for (uint32_t i = (uint32_t)(bd_rand(&g.flow.rng) % 4); i > 0; i--)
			bd_rig_step(&g.rig);
		if (no % 1024 == 0)
			bd_check_exchanges(no);
	}
	bd_until(g.done == g.requests, "waiting for the last DONE");
	if (bd_rig_settle(&g.rig, 2, 100000) != 0)
		bd_check_engine();
	bd_check_engine();
	if (bd_match_run(&g.m, g.want, g.nwant, g.got, g.ngot, g.want_target, g.got_target,
			 g.requests) != 0)
		bd_fail("%s", g.m.why);
}

/* Every balance, open order count and invariant, then the journal. */
static void bd_final_checks(void)
{
	struct sx_engine *e = g.rig.e;
	bd_check_balances(g.requests);
	bd_check_exchanges(g.requests);
	if (bd_rig_finish(&g.rig) != 0)
		bd_fail("%s", g.rig.why);
	const uint64_t errors = __atomic_load_n(&e->journal_errors, __ATOMIC_RELAXED);
	const uint64_t events = __atomic_load_n(&e->journal_events, __ATOMIC_RELAXED);
	if (errors != 0 || events == 0)
		bd_fail("the journal folded %llu events with %llu violations",
			(unsigned long long)events, (unsigned long long)errors);
}

/* The flow must have reached what it is there to reach. */
static void bd_check_flow(void)
{
	const struct bd_ref *r = &g.ref;
	const uint64_t n = g.requests, no_funds = r->reasons[SHMEX_R_NO_FUNDS];
	if (r->trades < n / 8 || r->rejects < n / 50 || r->mass < n / 100 ||
	    r->whats[SHMEX_EV_TRIGGERED] == 0 || r->whats[SHMEX_EV_AMENDED] == 0 ||
	    r->whats[SHMEX_EV_REDUCED] == 0 || r->copies == 0)
		bd_fail("flow too thin: %llu trades, %llu rejects, %llu mass cancels, %llu triggers, "
			"%llu amends, %llu reduces, %llu copies",
			(unsigned long long)r->trades, (unsigned long long)r->rejects,
			(unsigned long long)r->mass, (unsigned long long)r->whats[SHMEX_EV_TRIGGERED],
			(unsigned long long)r->whats[SHMEX_EV_AMENDED],
			(unsigned long long)r->whats[SHMEX_EV_REDUCED], (unsigned long long)r->copies);
	if (g.v->tight && no_funds < n / 50)
		bd_fail("only %llu NO_FUNDS refusals", (unsigned long long)no_funds);
	if (!g.v->tight && no_funds != 0)
		bd_fail("%llu NO_FUNDS refusals: funds bind", (unsigned long long)no_funds);
}

static int bd_teardown(void **state)
{
	(void)state;
	alarm(0);
	if (g.rig.e)
		bd_rig_destroy(&g.rig);
	bd_ref_destroy(&g.ref);
	bd_match_free(&g.m);
	free(g.got);
	free(g.want);
	free(g.op);
	free(g.bound);
	free(g.new_order);
	free(g.want_target);
	free(g.got_target);
	memset(&g, 0, sizeof g);
	return 0;
}

static void bd_run(const struct bd_variant *v)
{
	memset(&g, 0, sizeof g);
	g.v = v;
	g.requests = v->script ? v->nscript : (uint32_t)bd_env("SHMEX_BANK_DIFF_REQUESTS", 20000);
	g.seed = bd_env("SHMEX_BANK_DIFF_SEED", UINT64_C(0xBA4CD1FF)) + v->index;
	snprintf(g_alarm_text, sizeof g_alarm_text,
		 "bank diff %s: hung; seed %llu (rerun: SHMEX_BANK_DIFF_SEED=%llu "
		 "SHMEX_BANK_DIFF_REQUESTS=%u)\n",
		 v->name, (unsigned long long)g.seed, (unsigned long long)(g.seed - v->index),
		 g.requests);
	signal(SIGALRM, bd_on_alarm);
	alarm(240);
	/* The engine's hash keys (the bank's client-id routes: which cancels
	 * by client id go to every matcher) from the seed too, unless given. */
	static int hash_seed_given = -1;
	if (hash_seed_given < 0)
		hash_seed_given = getenv("SHMEX_HASH_SEED") != NULL;
	if (!hash_seed_given) {
		char hs[32];
		snprintf(hs, sizeof hs, "%llu", (unsigned long long)(g.seed * 0x9E3779B97F4A7C15ull));
		setenv("SHMEX_HASH_SEED", hs, 1);
	}
	const size_t n = (size_t)g.requests + 1;
	g.op = calloc(n, 1);
	g.bound = calloc(n, 1);
	g.new_order = calloc(n, sizeof *g.new_order);
	g.want_target = calloc(n, sizeof *g.want_target);
	g.got_target = calloc(n, sizeof *g.got_target);
	assert_true(g.op && g.bound && g.new_order && g.want_target && g.got_target);
	bd_world_init(&g.w, v->matchers, BD_USERS, v->tight, v->max_orders);
	assert_int_equal(bd_ref_create(&g.ref, &g.w), 0);
	assert_int_equal(bd_match_init(&g.m, &g.w), 0);
	bd_flow_init(&g.flow, &g.w, g.seed);
	char err[256] = "";
	if (bd_rig_create(&g.rig, &g.w, g.seed ^ UINT64_C(0x9E3779B97F4A7C15), err, sizeof err) != 0)
		bd_fail("engine: %s", err);
	g.rig.on_item = bd_on_item;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (v->window <= 1)
		bd_closed_loop();
	else
		bd_pipelined();
	bd_final_checks();
	if (!v->script)
		bd_check_flow();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	const struct bd_ref *r = &g.ref;
	fprintf(stderr,
		"%s: seed %llu, %u requests, %llu reports (%llu trades, %llu rejects, %llu NO_FUNDS, "
		"%llu triggers, %llu mass cancels, %llu copies) the same; %llu agent steps "
		"(%llu seeing part of a ring, %llu to relieve the journal); %.0f ms\n",
		v->name, (unsigned long long)g.seed, g.requests, (unsigned long long)r->reports,
		(unsigned long long)r->trades, (unsigned long long)r->rejects,
		(unsigned long long)r->reasons[SHMEX_R_NO_FUNDS],
		(unsigned long long)r->whats[SHMEX_EV_TRIGGERED], (unsigned long long)r->mass,
		(unsigned long long)r->copies, (unsigned long long)g.rig.steps,
		(unsigned long long)g.rig.hidden, (unsigned long long)g.rig.relieved,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

static void test_closed_loop_m2(void **state)
{
	(void)state;
	static const struct bd_variant v = { "closed_loop_m2", 0, 2, 1, 1, 65536, NULL, 0 };
	bd_run(&v);
}

static void test_closed_loop_m3(void **state)
{
	(void)state;
	static const struct bd_variant v = { "closed_loop_m3", 1, 3, 1, 1, 64, NULL, 0 };
	bd_run(&v);
}

static void test_pipelined_m2(void **state)
{
	(void)state;
	static const struct bd_variant v = { "pipelined_m2", 2, 2, 48, 0, 65536, NULL, 0 };
	bd_run(&v);
}

static void test_pipelined_m3(void **state)
{
	(void)state;
	static const struct bd_variant v = { "pipelined_m3", 3, 3, 48, 0, 256, NULL, 0 };
	bd_run(&v);
}

/* A fill whose rounding gives a unit back to its buyer (the fee account
 * pays it), on a matcher whose fee account the matchers' sweep (matcher.c,
 * sx_sweep) has emptied: SOL/ETH, maker -20 ppm, taker 20 ppm. u1 rests a
 * bid and sells 20 into it (the bid has paid a fraction of a unit ahead),
 * u3 rests a higher bid and u2 sells 4 into it, then u4's sell fills 12 of
 * u3's bid (fee 0) and 6 of u1's: paid 1 unit less than the seller gets. */
#define BD_SOLETH 5u
static const struct bd_req bd_fee_giveback[] = {
	{ .op = BD_SUBMIT, .session = 0,
	  .o = { .client_id = 1, .user = 1, .symbol = BD_SOLETH, .price = 49677, .qty = 40,
		 .side = SHMEX_BUY, .type = SHMEX_LIMIT, .tif = SHMEX_GTC } },
	{ .op = BD_SUBMIT, .session = 1,
	  .o = { .client_id = 2, .user = 2, .symbol = BD_SOLETH, .price = 49677, .qty = 20,
		 .side = SHMEX_SELL, .type = SHMEX_LIMIT, .tif = SHMEX_IOC } },
	{ .op = BD_SUBMIT, .session = 2,
	  .o = { .client_id = 3, .user = 3, .symbol = BD_SOLETH, .price = 49727, .qty = 16,
		 .side = SHMEX_BUY, .type = SHMEX_LIMIT, .tif = SHMEX_GTC } },
	{ .op = BD_SUBMIT, .session = 1,
	  .o = { .client_id = 4, .user = 2, .symbol = BD_SOLETH, .price = 49727, .qty = 4,
		 .side = SHMEX_SELL, .type = SHMEX_LIMIT, .tif = SHMEX_IOC } },
	{ .op = BD_SUBMIT, .session = 3,
	  .o = { .client_id = 5, .user = 4, .symbol = BD_SOLETH, .price = 49677, .qty = 18,
		 .side = SHMEX_SELL, .type = SHMEX_LIMIT, .tif = SHMEX_IOC } },
};

static void test_fee_giveback_m2(void **state)
{
	(void)state;
	static const struct bd_variant v = { "fee_giveback_m2", 4, 2, 1, 1, 1024, bd_fee_giveback,
					     sizeof bd_fee_giveback / sizeof bd_fee_giveback[0] };
	bd_run(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_closed_loop_m2, bd_teardown),
		cmocka_unit_test_teardown(test_closed_loop_m3, bd_teardown),
		cmocka_unit_test_teardown(test_pipelined_m2, bd_teardown),
		cmocka_unit_test_teardown(test_pipelined_m3, bd_teardown),
		cmocka_unit_test_teardown(test_fee_giveback_m2, bd_teardown),
	};
	return cmocka_run_group_tests_name("bank_diff", tests, NULL, NULL);
}
