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
		fprintf(stderr, "mp session %s: %s\n", s->name, s->why);
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

void mp_sess_take(struct mp_sess *s, const struct shmex_report *r)
{
	s->reports++;
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
	}
	if (r->request_no == 0) {
		if (r->flags & SHMEX_RPTF_DONE)
			mp_sess_fail(s, "DONE report without a request number");
		if (r->kind != SHMEX_RPT_ORDER)
			mp_sess_fail(s, "unsolicited report of kind %u", r->kind);
	} else if (r->request_no > s->sent) {
		mp_sess_fail(s, "report for request %llu, only %llu sent",
			     (unsigned long long)r->request_no, (unsigned long long)s->sent);
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

/* Runs one send, pumping while the request ring is full. */
#define MP_SEND(s, call)                                                                 \
	do {                                                                             \
		const int64_t deadline_ = mp_now_ns() + MP_FULL_WAIT_NS;                 \
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
	MP_SEND(s, shmex_client_submit(s->c, r, &no_));
}

int mp_sess_cancel(struct mp_sess *s, uint32_t user, uint64_t order_id)
{
	MP_SEND(s, shmex_client_cancel(s->c, user, order_id, &no_));
}

int mp_sess_cancel_cid(struct mp_sess *s, uint32_t user, uint64_t client_id)
{
	MP_SEND(s, shmex_client_cancel_client_id(s->c, user, client_id, &no_));
}

int mp_sess_amend(struct mp_sess *s, uint32_t user, uint64_t order_id, int64_t price,
		  int64_t qty)
{
	MP_SEND(s, shmex_client_amend(s->c, user, order_id, price, qty, &no_));
}

int mp_sess_mass_cancel(struct mp_sess *s, uint32_t user, uint32_t symbol)
{
	MP_SEND(s, shmex_client_mass_cancel(s->c, user, symbol, &no_));
}

int mp_sess_ping(struct mp_sess *s, uint64_t tag)
{
	MP_SEND(s, shmex_client_ping(s->c, tag, &no_));
}

int mp_sess_raw(struct mp_sess *s, const struct shmex_request *r)
{
	MP_SEND(s, shmex_client_send_raw(s->c, r, &no_));
}
