/*
 * A random trader (mp_trader.h).
 */
#include "mp_trader.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mp_harness.h"

#define MP_MAX_LIVE 4096
#define MP_IDLE_FAIL_NS (10 * MP_SEC)

struct mp_live {
	uint64_t id, cid;
	uint32_t user, symbol;
	int64_t price;
};

struct mp_sym {
	uint32_t id, base, quote;
	int64_t ref, lot, step;
	int resolved, late;
	uint32_t matcher;
	const char *code;
};

struct mp_trader {
	const struct mp_trader_opts *o;
	struct mp_sess s;
	uint64_t rng;
	struct mp_sym sym[MP_MAX_SYMBOLS];
	uint32_t nsym;
	struct mp_live live[MP_MAX_LIVE];
	uint32_t nlive;
	/* by user index and asset id: what the trade reports say moved */
	int64_t delta[MP_MAX_USERS][MP_MAX_ASSETS + 1];
	int traded[MP_MAX_ASSETS + 1];
	int64_t fee_flow[MP_MAX_ASSETS + 1];
	uint64_t next_cid, trades, late_orders;
};

static uint64_t mp_rand(struct mp_trader *t)
{
	/* xorshift64*: deterministic per seed */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * UINT64_C(2685821657736338717);
}

static struct mp_sym *mp_sym_by_id(struct mp_trader *t, uint32_t id)
{
	for (uint32_t i = 0; i < t->nsym; i++)
		if (t->sym[i].resolved && t->sym[i].id == id)
			return &t->sym[i];
	return NULL;
}

static int mp_user_index(const struct mp_trader *t, uint32_t user)
{
	for (uint32_t i = 0; i < t->o->nusers; i++)
		if (t->o->users[i] == user)
			return (int)i;
	return -1;
}

static struct mp_live *mp_live_find(struct mp_trader *t, uint64_t id)
{
	for (uint32_t i = 0; i < t->nlive; i++)
		if (t->live[i].id == id)
			return &t->live[i];
	return NULL;
}

/* Follows live orders and money from every ORDER report. */
static void mp_on_report(void *ctx, const struct shmex_report *r)
{
	struct mp_trader *t = ctx;
	if (r->kind != SHMEX_RPT_ORDER)
		return;
	struct mp_live *l = mp_live_find(t, r->order_id);
	const int live = r->status == SHMEX_OS_NEW || r->status == SHMEX_OS_PARTIALLY_FILLED;
	if (live && !l && t->nlive < MP_MAX_LIVE) {
		l = &t->live[t->nlive++];
		l->id = r->order_id;
		l->cid = r->client_id;
		l->user = r->user;
		l->symbol = r->symbol;
	}
	if (live && l && r->what != SHMEX_EV_TRADE)
		l->price = r->price;
	if (!live && l)
		*l = t->live[--t->nlive];
	if (r->what != SHMEX_EV_TRADE)
		return;
	t->trades++;
	struct mp_sym *sy = mp_sym_by_id(t, r->symbol);
	const int u = mp_user_index(t, r->user);
	if (!sy || u < 0 || sy->base > MP_MAX_ASSETS || sy->quote > MP_MAX_ASSETS) {
		mp_sess_fail(&t->s, "trade on symbol %u for user %u: not ours", r->symbol, r->user);
		return;
	}
	const int64_t base = r->last_qty * sy->lot;
	if (r->side == SHMEX_BUY) {
		t->delta[u][sy->base] += base;
		t->delta[u][sy->quote] -= r->quote_amount;
		t->fee_flow[sy->quote] += r->quote_amount;
	} else {
		t->delta[u][sy->base] -= base;
		t->delta[u][sy->quote] += r->quote_amount;
		t->fee_flow[sy->quote] -= r->quote_amount;
	}
	t->traded[sy->base] = t->traded[sy->quote] = 1;
}

/* Looks up symbols not yet known (all at start; late ones while trading). */
static int mp_resolve(struct mp_trader *t)
{
	struct shmex_ctl_symbol_item items[32];
	int n = -1;
	for (uint32_t i = 0; i < t->nsym; i++) {
		struct mp_sym *sy = &t->sym[i];
		if (sy->resolved)
			continue;
		uint32_t id;
		const int rc = shmex_client_find_symbol(t->s.c, sy->code, &id);
		if (rc == SHMEX_E_UNKNOWN_SYMBOL && sy->late)
			continue;
		if (rc != 0)
			return mp_sess_fail(&t->s, "find_symbol %s: %s", sy->code, shmex_strerror(rc));
		if (n < 0)
			n = shmex_client_symbols(t->s.c, items, 32);
		for (int k = 0; k < n; k++)
			if (items[k].symbol == id) {
				sy->base = items[k].base;
				sy->quote = items[k].quote;
				sy->id = id;
				sy->resolved = 1;
				/* The daemon's word is taken only for a symbol added
				 * live: it chose that matcher. */
				if (t->o->matchers > 1 && !sy->late && items[k].matcher != sy->matcher)
					return mp_sess_fail(&t->s, "symbol %s on matcher %u, configured "
								   "on %u",
							    sy->code, items[k].matcher, sy->matcher);
				mp_sess_route(&t->s, id, sy->late ? items[k].matcher : sy->matcher);
			}
		if (!sy->resolved)
			return mp_sess_fail(&t->s, "symbol %s (%u) not listed", sy->code, id);
	}
	return 0;
}

static struct mp_sym *mp_pick_sym(struct mp_trader *t)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < t->nsym; i++)
		n += t->sym[i].resolved != 0;
	uint32_t k = (uint32_t)(mp_rand(t) % n);
	for (uint32_t i = 0; i < t->nsym; i++)
		if (t->sym[i].resolved && k-- == 0)
			return &t->sym[i];
	return NULL;
}

static int mp_submit_random(struct mp_trader *t, int r)
{
	const struct mp_trader_opts *o = t->o;
	struct mp_sym *sy = mp_pick_sym(t);
	struct shmex_order_request q;
	memset(&q, 0, sizeof q);
	q.client_id = ++t->next_cid;
	q.user = o->users[mp_rand(t) % o->nusers];
	q.symbol = sy->id;
	q.side = (uint8_t)(mp_rand(t) & 1);
	q.qty = 1 + (int64_t)(mp_rand(t) % 10);
	q.price = sy->ref + ((int64_t)(mp_rand(t) % 201) - 100) * sy->step;
	q.type = SHMEX_LIMIT;
	if (r < 36) {
		q.tif = SHMEX_GTC;
		const uint64_t v = mp_rand(t) % 8;
		if (v == 0)
			q.flags = SHMEX_OF_POST_ONLY;
		else if (v == 1)
			q.display_qty = 1 + q.qty / 3;
	} else if (r < 46) {
		q.tif = SHMEX_IOC;
	} else if (r < 50) {
		q.tif = SHMEX_FOK;
	} else {
		q.type = SHMEX_MARKET;
		q.tif = SHMEX_IOC;
		q.price = 0;
		if (q.side == SHMEX_BUY)
			q.quote_budget = 1000 + (int64_t)(mp_rand(t) % 100000);
	}
	if (sy->late) {
		t->late_orders++;
		if (o->result) /* read by the parent while this runs */
			__atomic_store_n(&o->result->late_orders, t->late_orders,
					 __ATOMIC_RELAXED);
	}
	return mp_sess_submit(&t->s, &q);
}

/* One random request. */
static int mp_act(struct mp_trader *t)
{
	const struct mp_trader_opts *o = t->o;
	int r = (int)(mp_rand(t) % 100);
	if (r >= 58 && r < 92 && t->nlive == 0)
		r = (int)(mp_rand(t) % 58);
	if (r < 58)
		return mp_submit_random(t, r);
	struct mp_live *l = t->nlive ? &t->live[mp_rand(t) % t->nlive] : NULL;
	if (r < 72)
		return mp_sess_cancel(&t->s, l->user, l->id);
	if (r < 77)
		return mp_sess_cancel_cid(&t->s, l->user, l->cid);
	if (r < 92) {
		const struct mp_sym *sy = mp_sym_by_id(t, l->symbol);
		const int64_t step = sy ? sy->step : 1;
		const int64_t price = l->price + ((int64_t)(mp_rand(t) % 5) - 2) * step;
		return mp_sess_amend(&t->s, l->user, l->id, price > 0 ? price : 1,
				     1 + (int64_t)(mp_rand(t) % 10));
	}
	if (r < 94)
		return mp_sess_mass_cancel(&t->s, o->users[mp_rand(t) % o->nusers],
					   mp_pick_sym(t)->id);
	if (r < 96) /* an id that is not live: a REJECT */
		return mp_sess_cancel(&t->s, o->users[0], UINT64_C(1) << 40 | mp_rand(t) % 1000);
	return mp_sess_ping(&t->s, mp_rand(t));
}

/* Cancels everything, then checks every balance against deposits and trades. */
static int mp_settle(struct mp_trader *t)
{
	const struct mp_trader_opts *o = t->o;
	for (uint32_t i = 0; i < o->nusers; i++)
		if (mp_sess_mass_cancel(&t->s, o->users[i], SHMEX_ALL_SYMBOLS) != 0)
			return -1;
	if (mp_sess_sync(&t->s, 10 * MP_SEC) != 0)
		return -1;
	if (t->nlive != 0)
		return mp_sess_fail(&t->s, "%u orders still live after mass cancels", t->nlive);
	for (uint32_t i = 0; i < o->nusers; i++) {
		struct shmex_client_balance b[MP_MAX_ASSETS];
		const int n = shmex_client_balances(t->s.c, o->users[i], b, MP_MAX_ASSETS);
		if (n < 0)
			return mp_sess_fail(&t->s, "balances of user %u: %s", o->users[i],
					    shmex_strerror(n));
		for (int k = 0; k < n; k++) {
			const struct mp_deposit *dep = NULL;
			for (uint32_t d = 0; d < o->ndeposits; d++)
				if (strcmp(o->deposits[d].code, b[k].code) == 0)
					dep = &o->deposits[d];
			if (!dep || b[k].asset > MP_MAX_ASSETS ||
			    (dep->late && !t->traded[b[k].asset]))
				continue;
			const int64_t want = dep->amount + t->delta[i][b[k].asset];
			if (b[k].locked != 0 || b[k].available != want)
				return mp_sess_fail(&t->s, "user %u %s: available %lld locked %lld, "
							"trade reports say %lld and 0",
						    o->users[i], b[k].code, (long long)b[k].available,
						    (long long)b[k].locked, (long long)want);
		}
	}
	return 0;
}

static int mp_trade_loop(struct mp_trader *t)
{
	const struct mp_trader_opts *o = t->o;
	const uint32_t window = o->window ? o->window : 16;
	int ready = o->ready_fd < 0;
	int64_t idle_since = 0;
	for (;;) {
		if (!ready && t->s.done >= o->ready_after) {
			ready = write(o->ready_fd, "r", 1) == 1;
			if (!ready)
				return mp_sess_fail(&t->s, "cannot tell the parent it is ready");
		}
		if (o->count && t->s.sent >= o->count)
			break;
		if (o->stop_fd >= 0 && t->s.sent % 8 == 0 && mp_pipe_eof(o->stop_fd))
			break;
		if (t->s.sent % 64 == 0 && mp_resolve(t) != 0)
			return -1;
		if (t->s.sent - t->s.done >= window) {
			const int n = mp_sess_pump(&t->s, 100 * MP_MS);
			if (n < 0)
				return -1;
			const int64_t now = mp_now_ns();
			if (n > 0 || !idle_since)
				idle_since = now;
			else if (now - idle_since > MP_IDLE_FAIL_NS)
				return mp_sess_fail(&t->s, "no report for 10 s");
			continue;
		}
		idle_since = 0;
		if (mp_sess_pump(&t->s, 0) < 0 || mp_act(t) != 0)
			return -1;
	}
	return mp_sess_sync(&t->s, 10 * MP_SEC);
}

int mp_trader_run(const struct mp_trader_opts *o)
{
	static struct mp_trader t; /* large; one per process */
	memset(&t, 0, sizeof t);
	t.o = o;
	t.rng = o->seed * UINT64_C(0x9E3779B97F4A7C15) + 1;
	for (uint32_t i = 0; i < o->nsymbols && i < MP_MAX_SYMBOLS; i++) {
		t.sym[i].code = o->symbols[i].code;
		t.sym[i].ref = o->symbols[i].ref;
		t.sym[i].lot = o->symbols[i].lot;
		t.sym[i].late = o->symbols[i].late;
		t.sym[i].matcher = o->symbols[i].matcher;
		t.sym[i].step = o->symbols[i].ref / 10000 > 0 ? o->symbols[i].ref / 10000 : 1;
	}
	t.nsym = o->nsymbols;
	int rc = mp_sess_open(&t.s, o->sock, o->name, o->flags, 0);
	if (rc != 0)
		return 1;
	for (uint32_t i = 0; i < o->nusers && i < MP_MAX_USERS; i++)
		t.s.users[t.s.nusers++] = o->users[i];
	if (o->matchers > 1)
		mp_sess_matchers(&t.s, o->matchers);
	t.s.on_report = mp_on_report;
	t.s.ctx = &t;
	rc = mp_trade_loop(&t);
	if (rc == 0 && o->settle)
		rc = mp_settle(&t);
	int status = rc == 0 ? 0 : 1;
	if (t.s.ended && !t.s.failed) {
		if (o->quiet_end)
			status = 2;
		else
			mp_sess_fail(&t.s, "the daemon ended the session (%d)", t.s.ended);
	}
	if (o->result) {
		struct mp_trader_result *res = o->result;
		memcpy(res->fee_flow, t.fee_flow, sizeof res->fee_flow);
		res->sent = t.s.sent;
		res->done = t.s.done;
		res->trades = t.trades;
		res->rejects = t.s.rejects;
		res->late_orders = t.late_orders;
		res->ended = t.s.ended;
		res->ok = status != 1 && !t.s.failed;
		snprintf(res->why, sizeof res->why, "%s", t.s.why);
	}
	mp_sess_close(&t.s);
	return t.s.failed ? 1 : status;
}

int mp_trader_main(void *arg)
{
	return mp_trader_run(arg);
}
