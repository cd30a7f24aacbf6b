/*
 * A checked client session (mp_session.h).
 */
#include "mp_session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mp_harness.h"

#define MP_BATCH 64
#define MP_FULL_WAIT_NS (5 * MP_SEC)

int mp_sess_fail(struct mp_sess *s, const char *fmt, ...)
{
	if (!s->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->why, sizeof s->why, fmt, ap);
		va_end(ap);
		s->failed = 1;
		fprintf(stderr, "mp session %s: %s; %llu sent, %llu answered; the last reports "
				"(request, kind, reason, flags, symbol, order id):\n",
			s->name, s->why, (unsigned long long)s->sent, (unsigned long long)s->done);
		const uint64_t from = s->nlast > MP_SESS_HISTORY ? s->nlast - MP_SESS_HISTORY : 0;
		for (uint64_t i = from; i < s->nlast; i++) {
			const struct shmex_report *r = &s->last[i % MP_SESS_HISTORY];
			fprintf(stderr, "  %llu %u %s %u %u %#llx\n", (unsigned long long)r->request_no,
				r->kind, shmex_reason_name(r->reason), r->flags, r->symbol,
				(unsigned long long)r->order_id);
		}
	}
	return -1;
}

int mp_sess_open(struct mp_sess *s, const char *sock, const char *name, uint32_t flags,
		 uint32_t resp_slots)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	struct shmex_client_options o = { .socket_path = sock, .name = name, .flags = flags,
					  .response_slots = resp_slots };
	const int rc = shmex_client_connect(&o, &s->c);
	if (rc != 0) {
		fprintf(stderr, "mp session %s: connect: %s (%s)\n", name, shmex_strerror(rc),
			shmex_client_last_error());
		s->c = NULL;
	}
	return rc;
}

void mp_sess_close(struct mp_sess *s)
{
	shmex_client_close(s->c);
	s->c = NULL;
}

static int mp_user_ok(const struct mp_sess *s, uint32_t user)
{
	if (s->nusers == 0)
		return 1;
	for (uint32_t i = 0; i < s->nusers; i++)
		if (s->users[i] == user)
			return 1;
	return 0;
}

void mp_sess_matchers(struct mp_sess *s, uint32_t matchers)
{
	s->matchers = matchers;
	s->oldest = s->sent + 1;
	memset(s->route, MP_ROUTE_ANY, sizeof s->route);
}

void mp_sess_route(struct mp_sess *s, uint32_t symbol, uint32_t matcher)
{
	if (symbol <= MP_MAX_ROUTES && matcher < s->matchers)
		s->route[symbol] = (uint8_t)matcher;
}

static uint8_t mp_route_sym(const struct mp_sess *s, uint32_t symbol)
{
	return symbol <= MP_MAX_ROUTES ? s->route[symbol] : MP_ROUTE_ANY;
}

/* Order ids (and trade ids) of matcher k are (k << 48) + n; an id of no
 * matcher goes to matcher 0, which says it is unknown. */
static uint8_t mp_route_id(const struct mp_sess *s, uint64_t id)
{
	const uint64_t k = id >> 48;
	return k < s->matchers ? (uint8_t)k : 0;
}

static struct mp_cid_route *mp_cid_slot(struct mp_sess *s, uint32_t user, uint64_t client_id)
{
	const uint64_t h = (client_id ^ (uint64_t)user << 40) * UINT64_C(0x9E3779B97F4A7C15);
	return &s->cids[(h >> 32) % MP_CID_ROUTES];
}

/* A new order: its client id now names its symbol's matcher. */
static uint8_t mp_route_submit(struct mp_sess *s, uint32_t user, uint32_t symbol,
			       uint64_t client_id)
{
	const uint8_t k = mp_route_sym(s, symbol);
	if (s->matchers > 1 && client_id != 0)
		*mp_cid_slot(s, user, client_id) = (struct mp_cid_route){ client_id, user, k };
	return k;
}

static uint8_t mp_route_cid(struct mp_sess *s, uint32_t user, uint64_t client_id)
{
	const struct mp_cid_route *c = mp_cid_slot(s, user, client_id);
	return c->client_id == client_id && c->user == user ? (uint8_t)c->matcher : MP_ROUTE_ALL;
}

static int mp_answered(const struct mp_sess *s, uint64_t no)
{
	return no < s->oldest || s->answered[no % MP_SESS_OPEN];
}

/* The oldest request before @p no routed to matcher @p k and still without
 * its DONE (0: none). */
static uint64_t mp_open_before(const struct mp_sess *s, uint8_t k, uint64_t no)
{
	for (uint64_t q = s->oldest; q < no; q++)
		if (!s->answered[q % MP_SESS_OPEN] && s->rt[q % MP_SESS_OPEN] == k)
			return q;
	return 0;
}

/* A refusal given before any matcher ran the request: it travels in
 * matcher 0's order whatever the request's route. */
static int mp_refused_early(const struct shmex_report *r)
{
	if (r->kind != SHMEX_RPT_REJECT)
		return 0;
	switch (r->reason) {
	case SHMEX_R_BAD_REQUEST: case SHMEX_R_BAD_QTY: case SHMEX_R_BAD_PRICE:
	case SHMEX_R_BAD_OPTION: case SHMEX_R_UNKNOWN_USER: case SHMEX_R_NO_GRANT:
	case SHMEX_R_RATE_LIMIT:
		return 1;
	default:
		return 0;
	}
}

/* Ids of an ORDER report carry its symbol's matcher. */
static void mp_check_ids(struct mp_sess *s, const struct shmex_report *r, uint8_t k)
{
	const uint64_t ids[3] = { r->order_id, r->trade_id, r->counter_id };
	static const char *const names[3] = { "order", "trade", "counter" };
	for (int i = 0; i < 3; i++)
		if (ids[i] != 0 && ids[i] >> 48 != k)
			mp_sess_fail(s, "%s id %#llx on symbol %u, whose matcher is %u", names[i],
				     (unsigned long long)ids[i], r->symbol, k);
}

/* The per-matcher order (mp_session.h); r->request_no is 1..sent. */
static void mp_take_routed(struct mp_sess *s, const struct shmex_report *r)
{
	const uint64_t no = r->request_no;
	const int done = (r->flags & SHMEX_RPTF_DONE) != 0;
	if (mp_answered(s, no)) {
		mp_sess_fail(s, "report (kind %u, flags %u) for request %llu after its DONE",
			     r->kind, r->flags, (unsigned long long)no);
		return;
	}
	const uint8_t k = s->rt[no % MP_SESS_OPEN];
	const uint8_t ks = r->kind == SHMEX_RPT_ORDER ? mp_route_sym(s, r->symbol) : MP_ROUTE_ANY;
	uint64_t q = 0;
	if (k == MP_ROUTE_ALL && done) {
		if (no != s->oldest && !(mp_refused_early(r) && !mp_open_before(s, 0, no)))
			q = s->oldest;
	} else if (k == MP_ROUTE_ALL) {
		if (ks < s->matchers)
			q = mp_open_before(s, ks, no);
	} else if (k != MP_ROUTE_ANY) {
		if (ks < s->matchers && ks != k)
			mp_sess_fail(s, "report on symbol %u (matcher %u) for request %llu, sent to "
					"matcher %u",
				     r->symbol, ks, (unsigned long long)no, k);
		q = mp_open_before(s, k, no);
		if (q && done && mp_refused_early(r) && !mp_open_before(s, 0, no))
			q = 0;
	}
	if (q)
		mp_sess_fail(s, "report (kind %u, reason %s, flags %u) for request %llu (route %u) "
				"while request %llu (route %u) is unanswered",
			     r->kind, shmex_reason_name(r->reason), r->flags, (unsigned long long)no,
			     k, (unsigned long long)q, s->rt[q % MP_SESS_OPEN]);
	if (!done)
		return;
	s->answered[no % MP_SESS_OPEN] = 1;
	s->done++;
	while (s->oldest <= s->sent && s->answered[s->oldest % MP_SESS_OPEN])
		s->oldest++;
}

/* Several matchers: records the route of the request about to be number
 * sent + 1. */
static int mp_sent_routed(struct mp_sess *s, uint8_t route)
{
	if (s->matchers <= 1)
		return 0;
	const uint64_t no = s->sent + 1;
	if (no - s->oldest >= MP_SESS_OPEN)
		return mp_sess_fail(s, "more than %u requests unanswered: the checker's window",
				    MP_SESS_OPEN);
	s->rt[no % MP_SESS_OPEN] = route;
	s->answered[no % MP_SESS_OPEN] = 0;
	return 0;
}

void mp_sess_take(struct mp_sess *s, const struct shmex_report *r)
{
	s->reports++;
	s->last[s->nlast++ % MP_SESS_HISTORY] = *r;
	if (s->ended > 0) {
		mp_sess_fail(s, "report kind %u after the session's end", r->kind);
		return;
	}
	if (r->kind == SHMEX_RPT_SHUTDOWN || r->kind == SHMEX_RPT_ENDED) {
		s->ended = r->kind;
		return;
	}
	if (r->kind == SHMEX_RPT_REJECT)
		s->rejects++;
	if (r->kind == SHMEX_RPT_ORDER) {
		s->orders_reports++;
		if (!mp_user_ok(s, r->user))
			mp_sess_fail(s, "ORDER report about user %u, not one of ours", r->user);
		if (s->matchers > 1 && mp_route_sym(s, r->symbol) < s->matchers)
			mp_check_ids(s, r, mp_route_sym(s, r->symbol));
	}
	if (r->request_no == 0) {
		if (r->flags & SHMEX_RPTF_DONE)
			mp_sess_fail(s, "DONE report without a request number");
		if (r->kind != SHMEX_RPT_ORDER)
			mp_sess_fail(s, "unsolicited report of kind %u", r->kind);
	} else if (r->request_no > s->sent) {
		mp_sess_fail(s, "report for request %llu, only %llu sent",
			     (unsigned long long)r->request_no, (unsigned long long)s->sent);
	} else if (s->matchers > 1) {
		mp_take_routed(s, r);
	} else if (r->request_no != s->done + 1) {
		mp_sess_fail(s, "report for request %llu while request %llu is the oldest open "
				"(kind %u, flags %u)",
			     (unsigned long long)r->request_no, (unsigned long long)(s->done + 1),
			     r->kind, r->flags);
	} else if (r->flags & SHMEX_RPTF_DONE) {
		s->done++;
	}
	if (s->on_report)
		s->on_report(s->ctx, r);
}

int mp_sess_pump(struct mp_sess *s, int64_t timeout_ns)
{
	if (s->failed || s->ended)
		return -1;
	struct shmex_report rep[MP_BATCH];
	const int n = shmex_client_wait(s->c, rep, MP_BATCH, timeout_ns);
	if (n == -ECONNRESET) {
		s->ended = -1;
		return -1;
	}
	if (n < 0)
		return mp_sess_fail(s, "wait: %s", shmex_strerror(n));
	for (int i = 0; i < n; i++)
		mp_sess_take(s, &rep[i]);
	return s->failed ? -1 : n;
}

int mp_sess_sync(struct mp_sess *s, int64_t timeout_ns)
{
	const int64_t deadline = mp_now_ns() + timeout_ns;
	while (s->done < s->sent) {
		const int64_t left = deadline - mp_now_ns();
		if (left <= 0)
			return mp_sess_fail(s, "%llu of %llu requests answered within the bound",
					    (unsigned long long)s->done,
					    (unsigned long long)s->sent);
		if (mp_sess_pump(s, left < 100 * MP_MS ? left : 100 * MP_MS) < 0)
			return -1;
	}
	return 0;
}

/* Runs one send, pumping while the request ring is full; @p route: where
 * it goes (several matchers). */
#define MP_SEND(s, route, call)                                                          \
	do {                                                                             \
		const int64_t deadline_ = mp_now_ns() + MP_FULL_WAIT_NS;                 \
		if (mp_sent_routed((s), (route)) != 0)                                   \
			return -1;                                                       \
		for (;;) {                                                               \
			uint64_t no_ = 0;                                                \
			const int rc_ = (call);                                          \
			if (rc_ == 0) {                                                  \
				if (no_ != (s)->sent + 1)                                \
					return mp_sess_fail((s), "request number %llu, " \
							    "expected %llu",             \
							    (unsigned long long)no_,     \
							    (unsigned long long)((s)->sent + 1)); \
				(s)->sent++;                                             \
				return 0;                                                \
			}                                                                \
			if (rc_ != SHMEX_E_FULL)                                         \
				return mp_sess_fail((s), "send: %s", shmex_strerror(rc_)); \
			if (mp_now_ns() > deadline_)                                     \
				return mp_sess_fail((s), "request ring full for 5 s");   \
			if (mp_sess_pump((s), 10 * MP_MS) < 0)                           \
				return -1;                                               \
		}                                                                        \
	} while (0)

int mp_sess_submit(struct mp_sess *s, const struct shmex_order_request *r)
{
	MP_SEND(s, mp_route_submit(s, r->user, r->symbol, r->client_id),
		shmex_client_submit(s->c, r, &no_));
}

int mp_sess_cancel(struct mp_sess *s, uint32_t user, uint64_t order_id)
{
	MP_SEND(s, mp_route_id(s, order_id), shmex_client_cancel(s->c, user, order_id, &no_));
}

int mp_sess_cancel_cid(struct mp_sess *s, uint32_t user, uint64_t client_id)
{
	MP_SEND(s, mp_route_cid(s, user, client_id),
		shmex_client_cancel_client_id(s->c, user, client_id, &no_));
}

int mp_sess_amend(struct mp_sess *s, uint32_t user, uint64_t order_id, int64_t price,
		  int64_t qty)
{
	MP_SEND(s, mp_route_id(s, order_id),
		shmex_client_amend(s->c, user, order_id, price, qty, &no_));
}

int mp_sess_mass_cancel(struct mp_sess *s, uint32_t user, uint32_t symbol)
{
	MP_SEND(s, symbol == SHMEX_ALL_SYMBOLS ? MP_ROUTE_ALL : mp_route_sym(s, symbol),
		shmex_client_mass_cancel(s->c, user, symbol, &no_));
}

int mp_sess_ping(struct mp_sess *s, uint64_t tag)
{
	MP_SEND(s, MP_ROUTE_ALL, shmex_client_ping(s->c, tag, &no_));
}

/* A raw line's route as the daemon reads it (a malformed one is refused
 * early, in matcher 0's order). */
static uint8_t mp_route_raw(struct mp_sess *s, const struct shmex_request *r)
{
	switch (r->type) {
	case SHMEX_REQ_SUBMIT: return mp_route_submit(s, r->user, r->symbol, r->client_id);
	case SHMEX_REQ_CANCEL:
		return r->order_id ? mp_route_id(s, r->order_id)
				   : mp_route_cid(s, r->user, r->client_id);
	case SHMEX_REQ_AMEND: return mp_route_id(s, r->order_id);
	case SHMEX_REQ_MASS_CANCEL:
		return r->symbol == SHMEX_ALL_SYMBOLS ? MP_ROUTE_ALL : mp_route_sym(s, r->symbol);
	case SHMEX_REQ_PING: return MP_ROUTE_ALL;
	default: return 0;
	}
}

int mp_sess_raw(struct mp_sess *s, const struct shmex_request *r)
{
	MP_SEND(s, mp_route_raw(s, r), shmex_client_send_raw(s->c, r, &no_));
}
