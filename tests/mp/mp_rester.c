/*
 * The resting-orders client (mp_rester.h).
 */
#include "mp_rester.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mp_harness.h"
#include "mp_session.h"
#include "mp_world.h"

#define MP_STREAM_LIVE 8

struct mp_rest_state {
	uint64_t accepted; /* ORDER reports that left an order resting */
};

static void mp_rest_on_report(void *ctx, const struct shmex_report *r)
{
	struct mp_rest_state *st = ctx;
	if (r->kind == SHMEX_RPT_ORDER && r->what == SHMEX_EV_ACCEPTED &&
	    r->status == SHMEX_OS_NEW)
		st->accepted++;
}

static int mp_rest_place(struct mp_sess *s, const struct mp_rester_opts *o, uint64_t cid,
			 int64_t price)
{
	struct shmex_order_request q;
	memset(&q, 0, sizeof q);
	q.client_id = cid;
	q.user = o->user;
	q.symbol = o->symbol;
	q.side = SHMEX_BUY;
	q.type = SHMEX_LIMIT;
	q.tif = SHMEX_GTC;
	q.price = price;
	q.qty = 5;
	return mp_sess_submit(s, &q);
}

/* After ready: a resting order in, the oldest out, forever (until killed). */
static int mp_rest_stream(struct mp_sess *s, const struct mp_rester_opts *o)
{
	const int64_t deadline = mp_now_ns() + 30 * MP_SEC;
	uint64_t cid = o->n;
	uint64_t oldest = 1;
	while (mp_now_ns() < deadline) {
		cid++;
		if (mp_rest_place(s, o, cid, o->price - (int64_t)(cid % 16)) != 0)
			return 1;
		if (cid - oldest >= MP_STREAM_LIVE && mp_sess_cancel_cid(s, o->user, oldest++) != 0)
			return 1;
		if (s->sent - s->done > 32 && mp_sess_pump(s, 100 * MP_MS) < 0)
			return 1;
		if (mp_sess_pump(s, 0) < 0)
			return 1;
	}
	fprintf(stderr, "mp rester %s: was never killed\n", o->name);
	return 1;
}

/* After ready: the daemon stops; SHUTDOWN must come, then the socket closes. */
static int mp_rest_wait_end(struct mp_sess *s, const struct mp_rester_opts *o)
{
	const int64_t deadline = mp_now_ns() + 10 * MP_SEC;
	while (!s->ended && mp_now_ns() < deadline)
		if (mp_sess_pump(s, 100 * MP_MS) < 0 && !s->ended)
			return 1;
	if (s->ended != SHMEX_RPT_SHUTDOWN) {
		fprintf(stderr, "mp rester %s: ended %d, not by a SHUTDOWN report\n", o->name,
			s->ended);
		return 1;
	}
	/* Nothing may follow SHUTDOWN, and the socket must close. */
	struct shmex_report rep;
	while (mp_now_ns() < deadline) {
		const int n = shmex_client_wait(s->c, &rep, 1, 100 * MP_MS);
		if (n == -ECONNRESET)
			return 0;
		if (n > 0) {
			fprintf(stderr, "mp rester %s: report kind %u after SHUTDOWN\n", o->name,
				rep.kind);
			return 1;
		}
		if (n < 0) {
			fprintf(stderr, "mp rester %s: %s\n", o->name, shmex_strerror(n));
			return 1;
		}
	}
	fprintf(stderr, "mp rester %s: socket still open 10 s after SHUTDOWN\n", o->name);
	return 1;
}

int mp_rester_main(void *arg)
{
	const struct mp_rester_opts *o = arg;
	struct mp_sess s;
	struct mp_rest_state st = { 0 };
	if (mp_sess_open(&s, o->sock, o->name, o->flags, 0) != 0)
		return 1;
	s.users[s.nusers++] = o->user;
	if (o->matchers > 1) {
		mp_sess_matchers(&s, o->matchers);
		mp_sess_route(&s, o->symbol, mp_world_matcher(o->symbol, o->matchers));
	}
	s.on_report = mp_rest_on_report;
	s.ctx = &st;
	for (uint32_t i = 0; i < o->n; i++)
		if (mp_rest_place(&s, o, i + 1, o->price - (int64_t)i) != 0)
			return 1;
	if (mp_sess_sync(&s, 5 * MP_SEC) != 0)
		return 1;
	if (st.accepted != o->n) {
		fprintf(stderr, "mp rester %s: %llu of %u orders rest\n", o->name,
			(unsigned long long)st.accepted, o->n);
		return 1;
	}
	if (write(o->ready_fd, "r", 1) != 1)
		return 1;
	if (o->stream)
		return mp_rest_stream(&s, o);
	if (o->wait_end)
		return mp_rest_wait_end(&s, o);
	/* Exit without closing the session: the daemon must see the socket go. */
	if (mp_pipe_read_byte(o->stop_fd, 10 * MP_SEC) != 0) {
		fprintf(stderr, "mp rester %s: never told to leave\n", o->name);
		return 1;
	}
	return 0;
}
