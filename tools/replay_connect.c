/*
 * shmex-replay --connect SOCKET FILE: the same replay file, run through a
 * running shmexd as one session instead of an in-process book, printing the
 * same lines (T, X, P/B/S) from the daemon's reports and book queries.
 *
 * Setup, over the admin path (the session's uid needs the admin role, as
 * the demo grants the uid that started the daemon): two assets with 0
 * decimals, REPLAY-BASE and REPLAY-QUOTE, made by the first run on a daemon
 * and shared by the later ones (assets are the scarcest registry: the demo
 * has room for 13 more), and a fresh symbol "R<pid>-<n>" with tick 1 and
 * lot 1, so a tick-lot is worth exactly one quote unit and P ticks times Q
 * lots cost P * Q; fees 0, no band, no notional or quantity
 * limit, max_matches and max_iceberg_parts at their largest (2^32 - 1: the
 * in-process book has no limit). One daemon user per distinct U= value and
 * one for orders without U=, created on first use and granted to this uid.
 *
 * Funding: before each order its owner's account is credited with what
 * the order can lock (a buy: price * qty quote; a sell: qty base; a market
 * buy: its budget), from a per-user credit topped up by deposits that
 * double in size. What one order locks is never more than was deposited
 * for it, so no order is refused for funds. The replay is exact for every
 * flow whose money fits in the funding: per asset, the sum of what its
 * orders can lock must stay within 2^63 - 1 (one asset's whole supply, less
 * what earlier runs on the daemon deposited); past that the run stops with
 * a reason (exit status 2). Runs on one daemon are otherwise independent:
 * each has its own symbol and users. A market buy's budget is qty times the
 * highest sell price sent so far (at least 1): no resting ask is above it,
 * so the budget never stops a fill.
 *
 * Each command is one request; the next is sent once its DONE report came
 * back (exact, and the book query of P sees everything before it). A: a
 * limit order (tif, post-only, iceberg, U, STP); M: a market IOC order;
 * C: a cancel by the engine id the tool learned from the order's first
 * report; R: an amend to (remaining - qty) at the same price, which the
 * book runs as a reduce (priority kept, hidden iceberg quantity first), or
 * a cancel when that reaches 0 (printed X,<id>,CANCELLED either way).
 * DUPLICATE and INVALID are decided here, as the in-process tool does
 * before its book, and UNKNOWN for an id that never reached the daemon;
 * an id that did is always sent, and the daemon's UNKNOWN_ORDER printed.
 *
 * Limits of the daemon path, each reported on standard error: the book
 * query returns at most 256 levels per side (a deeper P is printed cut, exit
 * status 1); the daemon's order records and book capacity (BOOK_FULL: "book
 * full", exit status 1); a refusal the book alone never makes (NO_FUNDS,
 * RATE_LIMIT, ...: exit status 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "replay.h"
#include "shmex/client.h"

#define RC_MAX_LINE (4u << 20)          /* as the in-process tool's input buffer */
#define RC_SLICE_NS INT64_C(100000000)  /* one wait */
#define RC_ANSWER_NS INT64_C(30000000000) /* no answer to a request this long: give up */
#define RC_BOOK_ITEMS 1024u             /* > 2 * 256, the daemon's cap per side */
#define RC_DAEMON_SIDE_MAX 256u         /* src/engine/control_cmd.c, sx_do_book() */
#define RC_ASSET_ITEMS 65536u           /* every asset a daemon can have */
#define RC_BASE_CODE "REPLAY-BASE"
#define RC_QUOTE_CODE "REPLAY-QUOTE"

/* ---- a u64 -> u32 map (open addressing, keyed hash as replay.c's id set) -- */

struct rc_map {
	uint64_t *keys; /* 0 = empty; key 0 is kept in zero_val */
	uint32_t *vals;
	size_t mask, count;
	unsigned shift;
	uint64_t seed;
	int has_zero;
	uint32_t zero_val;
};

static size_t rc_home(const struct rc_map *m, uint64_t k, unsigned shift)
{
	return (size_t)(((k ^ m->seed) * UINT64_C(0x9E3779B97F4A7C15)) >> shift);
}

static int rc_map_grow(struct rc_map *m)
{
	size_t cap = m->keys ? (m->mask + 1) * 2 : 1u << 12;
	unsigned shift = 64 - (unsigned)__builtin_ctzll((unsigned long long)cap);
	if (!m->keys && getrandom(&m->seed, sizeof m->seed, GRND_NONBLOCK) != (ssize_t)sizeof m->seed)
		m->seed = (uint64_t)time(NULL) * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)(uintptr_t)m;
	uint64_t *keys = calloc(cap, sizeof *keys);
	uint32_t *vals = calloc(cap, sizeof *vals);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (size_t i = 0; m->keys && i <= m->mask; i++) {
		if (!m->keys[i])
			continue;
		size_t j = rc_home(m, m->keys[i], shift);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->mask = cap - 1;
	m->shift = shift;
	return 0;
}

/* Returns 1 and *val if @p k is there, else 0. */
static int rc_map_get(const struct rc_map *m, uint64_t k, uint32_t *val)
{
	if (k == 0) {
		*val = m->zero_val;
		return m->has_zero;
	}
	if (!m->keys)
		return 0;
	for (size_t j = rc_home(m, k, m->shift);; j = (j + 1) & m->mask) {
		if (m->keys[j] == k) {
			*val = m->vals[j];
			return 1;
		}
		if (!m->keys[j])
			return 0;
	}
}

/* Sets @p k to @p val (new or not); -1 on no memory. */
static int rc_map_put(struct rc_map *m, uint64_t k, uint32_t val)
{
	if (k == 0) {
		m->has_zero = 1;
		m->zero_val = val;
		return 0;
	}
	if ((!m->keys || (m->count + 1) * 2 > m->mask + 1) && rc_map_grow(m) != 0)
		return -1;
	size_t j = rc_home(m, k, m->shift);
	while (m->keys[j] && m->keys[j] != k)
		j = (j + 1) & m->mask;
	if (!m->keys[j])
		m->count++;
	m->keys[j] = k;
	m->vals[j] = val;
	return 0;
}

static void rc_map_free(struct rc_map *m)
{
	free(m->keys);
	free(m->vals);
}

/* ---- state -------------------------------------------------------------- */

enum { RC_BASE = 0, RC_QUOTE = 1 };

/* Every id an A or M line named (DUPLICATE means "ever named"). */
struct rc_order {
	uint64_t replay_id;
	uint64_t engine_id; /* 0: never reached the exchange */
	int64_t price, remaining;
	uint32_t user;      /* daemon user */
	uint8_t live;
};

struct rc_user {
	uint32_t id;
	int64_t credit[2];    /* deposited and not yet promised to an order */
	int64_t deposited[2];
};

struct rc {
	struct shmex_client *c;
	uint32_t symbol, asset[2];
	int64_t supply[2];          /* deposited by this run */
	int64_t max_sell;           /* highest sell price sent */
	struct rc_order *orders;
	uint32_t norders, orders_cap;
	struct rc_map by_replay, by_engine, user_of; /* -> order index, order index, user index */
	struct rc_user *users;
	uint32_t nusers, users_cap;
	uint32_t default_user;      /* user index + 1 (0: not made yet) */
	uint64_t requests;
	/* the command being run */
	unsigned long lineno;
	uint32_t cur;               /* order index of the current A/M/C/R */
	uint64_t cur_request;
	int full, refused;          /* BOOK_FULL seen; a refusal the book never makes */
};

/* ---- output ------------------------------------------------------------- */

static void out_x(uint64_t id, const char *reason)
{
	printf("X,%llu,%s\n", (unsigned long long)id, reason);
}

/* The in-process tool's names for the book's reasons (replay.c, on_event). */
static const char *rc_kill_name(int reason)
{
	switch (reason) {
	case SHMEX_R_FOK: return "FOK";
	case SHMEX_R_IOC:
	case SHMEX_R_BUDGET: return "IOC";
	case SHMEX_R_POST_ONLY: return "POST";
	case SHMEX_R_UNKNOWN_ORDER: return "UNKNOWN";
	case SHMEX_R_DUPLICATE_ID: return "DUPLICATE";
	case SHMEX_R_BAD_PRICE:
	case SHMEX_R_BAD_QTY:
	case SHMEX_R_BAD_OPTION:
	case SHMEX_R_MATCH_LIMIT: return "INVALID";
	default: return NULL; /* not a reason of the book alone */
	}
}

/* ---- reports -------------------------------------------------------------- */

static struct rc_order *rc_order_of(struct rc *r, uint64_t engine_id)
{
	uint32_t i;
	if (engine_id != 0 && rc_map_get(&r->by_engine, engine_id, &i))
		return &r->orders[i];
	return NULL;
}

static int rc_final(uint8_t status)
{
	return status == SHMEX_OS_FILLED || status == SHMEX_OS_CANCELLED ||
	       status == SHMEX_OS_REJECTED || status == SHMEX_OS_EXPIRED;
}

/* A refusal or kill: the in-process line, or a reason on stderr. */
static void rc_refusal(struct rc *r, uint64_t replay_id, int reason)
{
	if (reason == SHMEX_R_BOOK_FULL) {
		r->full = 1;
		return;
	}
	const char *name = rc_kill_name(reason);
	if (name) {
		out_x(replay_id, name);
		return;
	}
	char id[32];
	snprintf(id, sizeof id, "%llu", (unsigned long long)replay_id);
	fprintf(stderr, "shmex-replay: line %lu: the daemon refused %s: %s\n", r->lineno, id,
		shmex_reason_name(reason));
	r->refused = 1;
}

static int rc_on_order_report(struct rc *r, const struct shmex_report *p)
{
	struct rc_order *o = rc_order_of(r, p->order_id);
	if (!o && p->request_no == r->cur_request && r->cur_request != 0) {
		/* The first report of a new order names its engine id. */
		o = &r->orders[r->cur];
		if (p->order_id != 0 && o->engine_id == 0) {
			o->engine_id = p->order_id;
			if (rc_map_put(&r->by_engine, p->order_id, r->cur) != 0)
				return SHMEX_E_NOMEM;
		}
	}
	if (!o) {
		fprintf(stderr, "shmex-replay: line %lu: a report for an order this run never sent (%llu)\n",
			r->lineno, (unsigned long long)p->order_id);
		r->refused = 1;
		return 0;
	}
	o->remaining = p->remaining;
	o->live = !rc_final(p->status);
	switch (p->what) {
	case SHMEX_EV_TRADE:
		if (p->liquidity == SHMEX_LIQ_TAKER) {
			const struct rc_order *maker = rc_order_of(r, p->counter_id);
			printf("T,%llu,%llu,%lld,%lld\n", (unsigned long long)o->replay_id,
			       (unsigned long long)(maker ? maker->replay_id : 0),
			       (long long)p->price, (long long)p->last_qty);
			if (!maker) {
				fprintf(stderr, "shmex-replay: line %lu: a trade with an unknown maker\n",
					r->lineno);
				r->refused = 1;
			}
		}
		break;
	case SHMEX_EV_CANCELLED:
		out_x(o->replay_id, "CANCELLED");
		break;
	case SHMEX_EV_KILLED:
	case SHMEX_EV_REJECTED:
		rc_refusal(r, o->replay_id, p->reason);
		break;
	default: /* accepted, reduced, amended, ...: nothing in the format */
		break;
	}
	return 0;
}

static int rc_on_report(struct rc *r, const struct shmex_report *p)
{
	switch (p->kind) {
	case SHMEX_RPT_ORDER:
		return rc_on_order_report(r, p);
	case SHMEX_RPT_REJECT: {
		/* Refused before the exchange: a cancel or amend of an order no
		 * longer live, or a request the daemon would not take. */
		const struct rc_order *o = rc_order_of(r, p->order_id);
		rc_refusal(r, o ? o->replay_id : r->orders[r->cur].replay_id, p->reason);
		return 0;
	}
	case SHMEX_RPT_SHUTDOWN:
	case SHMEX_RPT_ENDED:
		fprintf(stderr, "shmex-replay: line %lu: the daemon ended the session (%s)\n",
			r->lineno, shmex_reason_name(p->reason));
		return -ECONNRESET;
	default:
		return 0;
	}
}

/* Waits for request @p no's DONE report, handling every report before it. */
static int rc_wait_done(struct rc *r, uint64_t no)
{
	struct shmex_report rep[64];
	int64_t waited = 0;
	r->cur_request = no;
	for (;;) {
		int n = shmex_client_wait(r->c, rep, 64, RC_SLICE_NS);
		if (n < 0) {
			fprintf(stderr, "shmex-replay: line %lu: lost the daemon: %s\n", r->lineno,
				shmex_strerror(n));
			return n;
		}
		if (n == 0) {
			waited += RC_SLICE_NS;
			if (waited >= RC_ANSWER_NS) {
				fprintf(stderr, "shmex-replay: line %lu: no answer from the daemon in 30 s\n",
					r->lineno);
				return -ETIMEDOUT;
			}
			continue;
		}
		int done = 0;
		for (int i = 0; i < n; i++) {
			int rc = rc_on_report(r, &rep[i]);
			if (rc != 0)
				return rc;
			if ((rep[i].flags & SHMEX_RPTF_DONE) && rep[i].request_no == no)
				done = 1;
		}
		if (done) {
			r->cur_request = 0;
			return 0;
		}
	}
}

/* ---- setup: symbol, users, funds ----------------------------------------- */

/* "R<pid>-<n>": at most 1 + 7 (pid_max is 2^22) + 1 + 3 characters. */
static void rc_code(char code[SHMEX_CODE_LEN], unsigned n)
{
	char tmp[64];
	int len = snprintf(tmp, sizeof tmp, "R%ld-%u", (long)getpid(), n);
	if (len < 0 || len >= (int)SHMEX_CODE_LEN)
		len = (int)SHMEX_CODE_LEN - 1;
	memcpy(code, tmp, (size_t)len);
	code[len] = '\0';
}

/* The replay assets: found, or made by the first run on this daemon. */
static int rc_assets(struct rc *r)
{
	static const char *const codes[2] = { RC_BASE_CODE, RC_QUOTE_CODE };
	static struct shmex_ctl_asset_item items[RC_ASSET_ITEMS];
	for (int k = 0; k < 2; k++) {
		struct shmex_asset_params a;
		memset(&a, 0, sizeof a);
		snprintf(a.code, sizeof a.code, "%s", codes[k]);
		int rc = shmex_client_add_asset(r->c, &a, &r->asset[k]);
		if (rc == SHMEX_E_EXISTS) /* an earlier run, or one running now */
			rc = shmex_client_find_asset(r->c, codes[k], &r->asset[k]);
		if (rc != 0) {
			fprintf(stderr, "shmex-replay: cannot make or find asset %s: %s (%s)\n", codes[k],
				shmex_strerror(rc), shmex_client_last_error());
			return rc;
		}
	}
	int n = shmex_client_assets(r->c, items, RC_ASSET_ITEMS);
	int found = 0;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 2; k++)
			if (items[i].asset == r->asset[k]) {
				found++;
				r->supply[k] = items[i].supply;
				if (items[i].decimals != 0) {
					fprintf(stderr, "shmex-replay: asset %s has %u decimals, not 0: "
						"someone else made it\n", codes[k], items[i].decimals);
					return SHMEX_E_INVAL;
				}
			}
	if (n < 0 || found != 2) {
		fprintf(stderr, "shmex-replay: cannot list the assets: %s\n",
			n < 0 ? shmex_strerror(n) : "the replay assets are missing");
		return n < 0 ? n : SHMEX_E_PROTOCOL;
	}
	return 0;
}

static int rc_setup(struct rc *r)
{
	int rc = rc_assets(r);
	if (rc != 0)
		return rc;
	for (unsigned n = 0; n < 1000; n++) {
		struct shmex_symbol_params s;
		memset(&s, 0, sizeof s);
		rc_code(s.code, n);
		s.base = r->asset[RC_BASE];
		s.quote = r->asset[RC_QUOTE];
		s.tick_size = 1;
		s.lot_size = 1;
		s.min_qty = 1;
		s.min_peak = 1;
		s.max_matches = UINT32_MAX;
		s.max_iceberg_parts = UINT32_MAX;
		s.status = SHMEX_SYMBOL_OPEN;
		rc = shmex_client_add_symbol(r->c, &s, &r->symbol);
		if (rc == SHMEX_E_EXISTS)
			continue; /* an earlier process with this pid */
		if (rc != 0)
			fprintf(stderr, "shmex-replay: cannot add the replay's symbol: %s (%s)\n",
				shmex_strerror(rc), shmex_client_last_error());
		return rc;
	}
	fprintf(stderr, "shmex-replay: cannot add the replay's symbol: every code is taken\n");
	return SHMEX_E_EXISTS;
}

/* The user index for an order (U= value, or none): made on first use. */
static int rc_user(struct rc *r, const struct shmex_order *o, uint32_t *index)
{
	const int owned = (o->flags & SHMEX_OF_OWNER) != 0;
	uint32_t i;
	if (owned ? rc_map_get(&r->user_of, o->owner, &i) : (r->default_user != 0)) {
		*index = owned ? i : r->default_user - 1;
		return 0;
	}
	if (r->nusers == r->users_cap) {
		uint32_t cap = r->users_cap ? r->users_cap * 2 : 16;
		struct rc_user *u = realloc(r->users, cap * sizeof *u);
		if (!u)
			return SHMEX_E_NOMEM;
		r->users = u;
		r->users_cap = cap;
	}
	struct rc_user *u = &r->users[r->nusers];
	memset(u, 0, sizeof *u);
	int rc = shmex_client_add_user(r->c, NULL, &u->id);
	if (rc == 0)
		rc = shmex_client_grant(r->c, (uint32_t)getuid(), u->id, SHMEX_ROLE_TRADER);
	if (rc != 0) {
		fprintf(stderr, "shmex-replay: line %lu: cannot add a user: %s (%s)\n", r->lineno,
			shmex_strerror(rc), shmex_client_last_error());
		return rc;
	}
	i = r->nusers++;
	if (owned) {
		if (rc_map_put(&r->user_of, o->owner, i) != 0)
			return SHMEX_E_NOMEM;
	} else {
		r->default_user = i + 1;
	}
	*index = i;
	return 0;
}

/* Promises @p need units of @p asset to one order of user @p ui, depositing
 * first if the user's credit is short: at least what is missing, and as
 * much as the user had deposited before (doubling) while the supply has
 * room. */
static int rc_fund(struct rc *r, uint32_t ui, int asset, int64_t need)
{
	struct rc_user *u = &r->users[ui];
	if (u->credit[asset] >= need) {
		u->credit[asset] -= need;
		return 0;
	}
	const int64_t want = need - u->credit[asset];
	const int64_t room = INT64_MAX - r->supply[asset];
	if (want > room) {
		fprintf(stderr, "shmex-replay: line %lu: the flow's money does not fit in the funding "
			"(one asset's supply is at most 2^63-1 units)\n", r->lineno);
		return SHMEX_E_OVERFLOW;
	}
	int64_t amount = u->deposited[asset] > want ? u->deposited[asset] : want;
	if (amount > room)
		amount = room;
	int rc = shmex_client_deposit(r->c, u->id, r->asset[asset], amount, 0, NULL);
	if (rc == SHMEX_E_OVERFLOW && amount > want) {
		/* Another run on the same assets took some of the room. */
		amount = want;
		rc = shmex_client_deposit(r->c, u->id, r->asset[asset], amount, 0, NULL);
	}
	if (rc == SHMEX_E_OVERFLOW) {
		fprintf(stderr, "shmex-replay: line %lu: the flow's money does not fit in the funding "
			"(one asset's supply is at most 2^63-1 units)\n", r->lineno);
		return rc;
	}
	if (rc != 0) {
		fprintf(stderr, "shmex-replay: line %lu: deposit refused: %s (%s)\n", r->lineno,
			shmex_strerror(rc), shmex_client_last_error());
		return rc;
	}
	r->supply[asset] += amount;
	u->deposited[asset] += amount;
	u->credit[asset] += amount - need;
	return 0;
}

/* ---- commands -------------------------------------------------------------- */

/* Records a named id; returns its index, or -1 if it was named before. */
static int64_t rc_name(struct rc *r, uint64_t id)
{
	uint32_t i;
	if (rc_map_get(&r->by_replay, id, &i))
		return -1;
	if (r->norders == r->orders_cap) {
		uint32_t cap = r->orders_cap ? r->orders_cap * 2 : 1024;
		struct rc_order *o = realloc(r->orders, (size_t)cap * sizeof *o);
		if (!o)
			return -2;
		r->orders = o;
		r->orders_cap = cap;
	}
	i = r->norders++;
	memset(&r->orders[i], 0, sizeof r->orders[i]);
	r->orders[i].replay_id = id;
	if (rc_map_put(&r->by_replay, id, i) != 0)
		return -2;
	return i;
}

static int rc_add(struct rc *r, const struct replay_cmd *cmd)
{
	const int64_t idx = rc_name(r, cmd->id);
	if (idx == -2)
		return SHMEX_E_NOMEM;
	if (idx == -1) {
		out_x(cmd->id, "DUPLICATE");
		return 0;
	}
	if (cmd->invalid) {
		out_x(cmd->id, "INVALID");
		return 0;
	}
	const struct shmex_order *o = &cmd->order;
	uint32_t ui;
	int rc = rc_user(r, o, &ui);
	if (rc != 0)
		return rc;
	struct shmex_order_request q;
	memset(&q, 0, sizeof q);
	q.client_id = cmd->id;
	q.user = r->users[ui].id;
	q.symbol = r->symbol;
	q.qty = o->qty;
	q.display_qty = o->display_qty;
	q.side = o->side;
	q.type = o->type;
	q.tif = o->tif;
	q.stp = o->stp;
	q.flags = o->flags & SHMEX_OF_POST_ONLY;
	int64_t need;
	if (o->side == SHMEX_SELL) {
		need = o->qty;
	} else if (o->type == SHMEX_MARKET) {
		const int64_t top = r->max_sell > 0 ? r->max_sell : 1;
		if (__builtin_mul_overflow(o->qty, top, &need))
			need = INT64_MAX; /* a budget of the whole supply */
		q.quote_budget = need;
	} else if (__builtin_mul_overflow(o->price, o->qty, &need)) {
		fprintf(stderr, "shmex-replay: line %lu: the flow's money does not fit in the funding "
			"(price * qty beyond 2^63-1)\n", r->lineno);
		return SHMEX_E_OVERFLOW;
	}
	if (o->type != SHMEX_MARKET)
		q.price = o->price;
	rc = rc_fund(r, ui, o->side == SHMEX_SELL ? RC_BASE : RC_QUOTE, need);
	if (rc != 0)
		return rc;
	if (o->side == SHMEX_SELL && o->type != SHMEX_MARKET && o->price > r->max_sell)
		r->max_sell = o->price;
	struct rc_order *ro = &r->orders[idx];
	ro->user = q.user;
	ro->price = o->price;
	r->cur = (uint32_t)idx;
	uint64_t no;
	while ((rc = shmex_client_submit(r->c, &q, &no)) == SHMEX_E_FULL)
		;
	if (rc != 0)
		return rc;
	r->full = 0;
	rc = rc_wait_done(r, no);
	if (rc == 0 && r->full) {
		fprintf(stderr, "shmex-replay: line %lu: book full (the daemon's order capacity)\n",
			r->lineno);
		r->refused = 1;
	}
	return rc;
}

/* C, and R: a cancel, or an amend to the smaller remainder at the same price. */
static int rc_cancel_reduce(struct rc *r, const struct replay_cmd *cmd)
{
	uint32_t i;
	if (cmd->op == REPLAY_REDUCE && cmd->invalid) {
		out_x(cmd->id, "INVALID");
		return 0;
	}
	if (!rc_map_get(&r->by_replay, cmd->id, &i) || r->orders[i].engine_id == 0) {
		out_x(cmd->id, "UNKNOWN"); /* never reached the daemon */
		return 0;
	}
	const struct rc_order *o = &r->orders[i];
	r->cur = i;
	uint64_t no;
	int rc;
	if (cmd->op == REPLAY_REDUCE && o->live && cmd->qty < o->remaining)
		rc = shmex_client_amend(r->c, o->user, o->engine_id, o->price, o->remaining - cmd->qty,
					&no);
	else
		rc = shmex_client_cancel(r->c, o->user, o->engine_id, &no);
	if (rc != 0)
		return rc;
	return rc_wait_done(r, no);
}

static int rc_print_book(struct rc *r)
{
	static struct shmex_ctl_level_item lv[RC_BOOK_ITEMS];
	int n = shmex_client_book(r->c, r->symbol, 0, lv, RC_BOOK_ITEMS);
	if (n < 0) {
		fprintf(stderr, "shmex-replay: line %lu: book query: %s (%s)\n", r->lineno,
			shmex_strerror(n), shmex_client_last_error());
		return n;
	}
	uint32_t per_side[2] = { 0, 0 };
	fputs("P\n", stdout);
	for (int k = 0; k < n; k++) {
		per_side[lv[k].side & 1]++;
		printf("%c,%lld,%lld,%u\n", lv[k].side == SHMEX_BUY ? 'B' : 'S', (long long)lv[k].price,
		       (long long)lv[k].qty, lv[k].orders);
	}
	if (per_side[0] >= RC_DAEMON_SIDE_MAX || per_side[1] >= RC_DAEMON_SIDE_MAX) {
		/* Perhaps cut: the symbol list says how many levels there are. */
		static struct shmex_ctl_symbol_item sy[1024];
		int m = shmex_client_symbols(r->c, sy, 1024);
		for (int k = 0; k < m; k++)
			if (sy[k].symbol == r->symbol &&
			    (sy[k].bid_levels > per_side[0] || sy[k].ask_levels > per_side[1])) {
				fprintf(stderr, "shmex-replay: line %lu: the book has %u bid and %u ask levels; "
					"the daemon's book query shows at most %u per side\n", r->lineno,
					sy[k].bid_levels, sy[k].ask_levels, RC_DAEMON_SIDE_MAX);
				r->refused = 1;
			}
	}
	return 0;
}

static int rc_line(struct rc *r, const char *line, size_t len, int *bad)
{
	struct replay_cmd cmd;
	const char *why = NULL;
	if (replay_parse_line(line, len, &cmd, &why) != 0) {
		fprintf(stderr, "shmex-replay: line %lu: %s\n", r->lineno, why);
		*bad = 1;
		return 0;
	}
	switch (cmd.op) {
	case REPLAY_SKIP: return 0;
	case REPLAY_PRINT: return rc_print_book(r);
	case REPLAY_ADD: return rc_add(r, &cmd);
	case REPLAY_CANCEL:
	case REPLAY_REDUCE: return rc_cancel_reduce(r, &cmd);
	}
	return 0;
}

int replay_connect_run(const char *socket_path, FILE *in, const char *path, int progress)
{
	struct shmex_client_options opt = { .socket_path = socket_path, .name = "shmex-replay" };
	struct rc r;
	memset(&r, 0, sizeof r);
	int rc = shmex_client_connect(&opt, &r.c);
	if (rc != 0) {
		fprintf(stderr, "shmex-replay: cannot connect to %s: %s%s%s\n", socket_path,
			shmex_strerror(rc), *shmex_client_last_error() ? ": " : "",
			shmex_client_last_error());
		return 2;
	}
	static char obuf[1u << 20];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	if (progress < 0)
		progress = isatty(STDERR_FILENO);
	int bad = 0;
	rc = rc_setup(&r);
	char *line = NULL;
	size_t cap = 0;
	time_t last = time(NULL);
	while (rc == 0) {
		errno = 0;
		ssize_t len = getline(&line, &cap, in);
		if (len < 0)
			break;
		r.lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if ((size_t)len > RC_MAX_LINE) {
			fprintf(stderr, "shmex-replay: line %lu: longer than %u bytes, skipped\n", r.lineno,
				RC_MAX_LINE);
			bad = 1;
			continue;
		}
		rc = rc_line(&r, line, (size_t)len, &bad);
		if (progress && (r.lineno & 1023) == 0 && time(NULL) != last) {
			last = time(NULL);
			fprintf(stderr, "shmex-replay: %lu lines, %u orders sent\n", r.lineno, r.norders);
		}
	}
	free(line);
	if (rc == 0 && ferror(in)) {
		fprintf(stderr, "shmex-replay: %s: read error\n", path);
		bad = 2;
	}
	if (rc == 0)
		rc = rc_print_book(&r);
	if (rc == 0 && progress)
		fprintf(stderr, "shmex-replay: %lu lines, %u orders sent, done\n", r.lineno, r.norders);
	shmex_client_close(r.c);
	rc_map_free(&r.by_replay);
	rc_map_free(&r.by_engine);
	rc_map_free(&r.user_of);
	free(r.orders);
	free(r.users);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "shmex-replay: write error\n");
		return 2;
	}
	if (rc != 0)
		return 2;
	return bad ? bad : r.refused;
}
