/*
 * shmex_exchange_check(): DESIGN.md section 5, invariants 1-4, recomputed
 * from the live state, naming the first violation. Cold path.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange_internal.h"

static int sx_violation(char *msg, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int sx_violation(char *msg, size_t cap, const char *fmt, ...)
{
	if (msg && cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, cap, fmt, ap);
		va_end(ap);
	}
	return SHMEX_E_INVARIANT;
}

/* Sum of the TRADE quantities in @o's history; -1 if the ring no longer
 * holds all of it. */
static int64_t sx_history_fills(const struct shmex_exchange *ex, const struct sx_order *o)
{
	uint64_t link = o->last_report;
	int64_t sum = 0;
	const struct shmex_order_report *r = NULL;

	while (link != 0) {
		if (ex->report_cap == 0 || link > ex->report_count ||
		    ex->report_count - (link - 1) > ex->report_cap)
			return -1;
		r = &ex->reports[(link - 1) % ex->report_cap];
		if (r->order_id != o->id)
			return -1;
		if (r->what == SHMEX_EV_TRADE)
			sum += r->last_qty;
		link = r->prev;
	}
	return r && r->what == SHMEX_EV_ACCEPTED ? sum : -1;
}

static int sx_check_order(const struct shmex_exchange *ex, const struct sx_order *o,
			  shmex_i128 *want, uint32_t *user_open, uint32_t *sym_open, char *msg,
			  size_t cap)
{
	const unsigned long long id = (unsigned long long)o->id;
	if (o->symbol < 1 || o->symbol > ex->n_symbols || o->user < 1 || o->user > ex->n_users)
		return sx_violation(msg, cap, "order %llu: bad user or symbol", id);
	const struct sx_symbol *s = &ex->symbols[o->symbol];
	struct shmex_order_info info;
	int64_t expect;

	if (o->remaining <= 0)
		return sx_violation(msg, cap, "order %llu: live with remaining %" PRId64, id,
				    o->remaining);
	if (o->wrem < 0 || o->wrem >= s->den)
		return sx_violation(msg, cap, "order %llu: settlement remainder %" PRId64
				    " outside [0, %" PRId64 ")", id, o->wrem, s->den);
	if (shmex_book_order(s->book, o->id, &info) != 0)
		return sx_violation(msg, cap, "order %llu: live but not in its book", id);
	if (info.remaining != o->remaining || info.owner != o->user || info.side != o->side ||
	    info.parked != o->parked || (!o->parked && info.price != o->price))
		return sx_violation(msg, cap,
				    "order %llu: book says remaining %" PRId64 " price %" PRId64
				    " parked %u, exchange %" PRId64 " %" PRId64 " %u",
				    id, info.remaining, info.price, info.parked, o->remaining,
				    o->price, o->parked);
	/* Invariant 2, per order: the reservation is exactly what the money
	 * model says the order's remaining quantity needs. */
	if (o->side == SHMEX_SELL) {
		expect = o->remaining * s->p.lot_size;
	} else if (o->budget_mode) {
		expect = o->budget - o->settled;
	} else if (sx_buy_reserve(s, o->wrem, o->price, o->remaining, &expect) != 0) {
		return sx_violation(msg, cap, "order %llu: reservation overflows", id);
	}
	if (o->reserved != expect)
		return sx_violation(msg, cap,
				    "order %llu: reserves %" PRId64 ", its remaining %" PRId64
				    " at %" PRId64 " needs %" PRId64,
				    id, o->reserved, o->remaining, o->price, expect);
	uint32_t asset = o->side == SHMEX_BUY ? s->p.quote : s->p.base;
	want[(size_t)o->user * ex->max_assets + asset - 1] += o->reserved;
	user_open[o->user]++;
	sym_open[o->symbol]++;
	/* Invariant 3: filled equals the sum of its fills. */
	int64_t fills = sx_history_fills(ex, o);
	if (fills >= 0 && fills != o->filled)
		return sx_violation(msg, cap,
				    "order %llu: filled %" PRId64 " but its trades sum to %" PRId64,
				    id, o->filled, fills);
	return 0;
}

static int sx_check(const struct shmex_exchange *ex, shmex_i128 *want, uint32_t *user_open,
		    uint32_t *sym_open, char *msg, size_t cap)
{
	if (ex->fault)
		return sx_violation(msg, cap, "fault: %s", ex->fault_msg);

	/* Invariant 1: nothing negative; conservation per asset. */
	for (uint32_t a = 1; a <= ex->n_assets; a++) {
		shmex_i128 sum = 0;
		for (uint32_t u = 0; u <= ex->n_users; u++) {
			const struct sx_account *acc =
				&ex->accounts[(size_t)u * ex->max_assets + a - 1];
			if (acc->available < 0 || acc->locked < 0)
				return sx_violation(msg, cap,
						    "user %u asset %s: negative balance %" PRId64
						    " / %" PRId64,
						    u, ex->assets[a].code, acc->available, acc->locked);
			sum += (shmex_i128)acc->available + acc->locked;
		}
		if (sum != ex->assets[a].supply)
			return sx_violation(msg, cap,
					    "asset %s: balances sum to %lld, deposits - withdrawals = %" PRId64,
					    ex->assets[a].code, (long long)sum, ex->assets[a].supply);
	}

	/* Invariants 2 and 3 on live orders. */
	uint32_t n = 0;
	for (uint32_t i = 0; i <= ex->order_mask; i++) {
		const struct sx_order *o = &ex->orders[i];
		if (o->state != SX_OS_LIVE)
			continue;
		n++;
		int rc = sx_check_order(ex, o, want, user_open, sym_open, msg, cap);
		if (rc != 0)
			return rc;
	}
	if (n != ex->live_count)
		return sx_violation(msg, cap, "%u live orders, count says %u", n, ex->live_count);
	for (uint32_t u = 0; u <= ex->n_users; u++) {
		if (u > 0 && user_open[u] != ex->users[u].open_orders)
			return sx_violation(msg, cap, "user %u: %u live orders, count says %u", u,
					    user_open[u], ex->users[u].open_orders);
		for (uint32_t a = 1; a <= ex->n_assets; a++) {
			size_t k = (size_t)u * ex->max_assets + a - 1;
			if (ex->accounts[k].locked != want[k])
				return sx_violation(msg, cap,
						    "user %u asset %s: locked %" PRId64
						    " but its live orders reserve %" PRId64,
						    u, ex->assets[a].code, ex->accounts[k].locked,
						    (int64_t)want[k]);
		}
	}

	/* Each user's list holds exactly its live records, in id order. */
	for (uint32_t u = 0; u <= ex->n_users; u++) {
		uint32_t k = 0, prev = SX_NONE;
		uint64_t last = 0;
		for (uint32_t i = ex->users[u].head; i != SX_NONE; i = ex->orders[i].user_next) {
			const struct sx_order *o = &ex->orders[i];
			if (i > ex->order_mask || k++ > user_open[u] || o->state != SX_OS_LIVE ||
			    o->user != u || o->id <= last || o->user_prev != prev)
				return sx_violation(msg, cap, "user %u: open order list broken at slot %u",
						    u, i);
			last = o->id;
			prev = i;
		}
		if (k != user_open[u] || ex->users[u].tail != prev)
			return sx_violation(msg, cap, "user %u: open order list holds %u of %u", u, k,
					    user_open[u]);
	}

	/* Invariant 3 on every record kept. */
	for (uint32_t i = 0; i <= ex->order_mask; i++) {
		const struct sx_order *o = &ex->orders[i];
		if (o->state == SX_OS_FREE)
			continue;
		if (o->state == SX_OS_PENDING)
			return sx_violation(msg, cap, "order %llu: still pending",
					    (unsigned long long)o->id);
		if (o->filled < 0 || o->remaining < 0 || o->cancelled < 0 ||
		    o->filled + o->remaining + o->cancelled != o->qty)
			return sx_violation(msg, cap,
					    "order %llu: filled %" PRId64 " + remaining %" PRId64
					    " + cancelled %" PRId64 " != qty %" PRId64,
					    (unsigned long long)o->id, o->filled, o->remaining,
					    o->cancelled, o->qty);
		if (o->state == SX_OS_ENDED && (o->remaining != 0 || o->reserved != 0))
			return sx_violation(msg, cap, "order %llu: ended but holds %" PRId64 " / %" PRId64,
					    (unsigned long long)o->id, o->remaining, o->reserved);
	}

	/* The client-id index holds exactly the records marked indexed (its
	 * entries are counted as they are inserted and erased), each found
	 * under its own (user, client id). The lookups take an eighth of the
	 * records per check, a different eighth each event: a check after
	 * every command (the simulation) still sees every record, at an eighth
	 * of the cost. */
	uint32_t indexed = 0;
	const uint32_t part = (uint32_t)(ex->seq & 7);
	for (uint32_t i = 0; i <= ex->order_mask; i++) {
		const struct sx_order *o = &ex->orders[i];
		if (!o->clid_indexed)
			continue;
		uint32_t slot;
		indexed++;
		if (o->state == SX_OS_FREE || o->client_id == 0 ||
		    ((i & 7) == part &&
		     (sx_clid_find(ex, o->user, o->client_id, &slot) != 0 || slot != i)))
			return sx_violation(msg, cap, "order %llu: client id %llu not indexed to it",
					    (unsigned long long)o->id, (unsigned long long)o->client_id);
	}
	if (ex->clid_count != indexed)
		return sx_violation(msg, cap, "client-id index: %u entries for %u indexed records",
				    ex->clid_count, indexed);

	/* Invariant 4: each book sound and not crossed; it holds exactly the
	 * live orders of its symbol. */
	for (uint32_t sid = 1; sid <= ex->n_symbols; sid++) {
		const struct sx_symbol *s = &ex->symbols[sid];
		int64_t bid, ask;
		if (shmex_book_verify(s->book) != 0)
			return sx_violation(msg, cap, "symbol %s: book does not verify", s->p.code);
		if (shmex_book_best(s->book, SHMEX_BUY, &bid) && shmex_book_best(s->book, SHMEX_SELL, &ask) &&
		    bid >= ask)
			return sx_violation(msg, cap, "symbol %s: crossed, bid %" PRId64 " >= ask %" PRId64,
					    s->p.code, bid, ask);
		if (shmex_book_order_count(s->book) != sym_open[sid] || s->open_orders != sym_open[sid])
			return sx_violation(msg, cap,
					    "symbol %s: book holds %u orders, exchange %u live (count %u)",
					    s->p.code, shmex_book_order_count(s->book), sym_open[sid],
					    s->open_orders);
	}
	return 0;
}

int shmex_exchange_check(const struct shmex_exchange *ex, char *msg, size_t cap)
{
	size_t n_acc = ((size_t)ex->n_users + 1) * ex->max_assets;
	shmex_i128 *want = calloc(n_acc, sizeof *want);
	uint32_t *user_open = calloc((size_t)ex->n_users + 1, sizeof *user_open);
	uint32_t *sym_open = calloc((size_t)ex->n_symbols + 1, sizeof *sym_open);
	int rc = SHMEX_E_NOMEM;

	if (msg && cap)
		msg[0] = '\0';
	if (want && user_open && sym_open)
		rc = sx_check(ex, want, user_open, sym_open, msg, cap);
	free(want);
	free(user_open);
	free(sym_open);
	return rc;
}
