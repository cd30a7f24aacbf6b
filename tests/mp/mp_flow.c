/*
 * The fixed honest flow and its comparable form (mp_flow.h).
 */
#include "mp_flow.h"

#include <stdio.h>
#include <string.h>

#include "mp_harness.h"
#include "mp_session.h"
#include "mp_world.h"

#define MP_FLOW_BATCHES 30
#define MP_FLOW_SUBMITS 12
#define MP_FLOW_TARGETS 4
#define MP_FLOW_LIVE 1024

struct mp_flow {
	struct mp_sess s;
	struct mp_flow_record *rec;
	uint64_t rng, cid;
	struct {
		uint64_t id, cid;
		uint32_t user;
		int64_t price;
	} live[MP_FLOW_LIVE];
	uint32_t nlive;
};

static uint64_t mp_flow_rand(struct mp_flow *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * UINT64_C(2685821657736338717);
}

static void mp_flow_on_report(void *ctx, const struct shmex_report *r)
{
	struct mp_flow *f = ctx;
	if (f->rec->n < MP_FLOW_MAX_REPORTS)
		f->rec->rep[f->rec->n++] = *r;
	if (r->kind != SHMEX_RPT_ORDER)
		return;
	uint32_t i = 0;
	while (i < f->nlive && f->live[i].id != r->order_id)
		i++;
	const int live = r->status == SHMEX_OS_NEW || r->status == SHMEX_OS_PARTIALLY_FILLED;
	if (live && i == f->nlive && f->nlive < MP_FLOW_LIVE) {
		f->live[i].id = r->order_id;
		f->live[i].cid = r->client_id;
		f->live[i].user = r->user;
		f->nlive++;
	}
	if (live && i < f->nlive && r->what != SHMEX_EV_TRADE)
		f->live[i].price = r->price;
	if (!live && i < f->nlive) {
		/* keep entry order: the flow picks targets by position */
		memmove(&f->live[i], &f->live[i + 1], (f->nlive - i - 1) * sizeof f->live[0]);
		f->nlive--;
	}
}

static int mp_flow_submit(struct mp_flow *f)
{
	struct shmex_order_request q;
	memset(&q, 0, sizeof q);
	q.client_id = ++f->cid;
	q.user = 1 + (uint32_t)(mp_flow_rand(f) % 2);
	q.symbol = MP_BTC_USD;
	q.side = (uint8_t)(mp_flow_rand(f) % 2);
	q.qty = 1 + (int64_t)(mp_flow_rand(f) % 10);
	q.price = 6000000 + ((int64_t)(mp_flow_rand(f) % 201) - 100) * 600;
	q.type = SHMEX_LIMIT;
	const int r = (int)(mp_flow_rand(f) % 100);
	if (r < 40) {
		q.tif = SHMEX_GTC;
	} else if (r < 50) {
		q.tif = SHMEX_GTC;
		q.flags = SHMEX_OF_POST_ONLY;
	} else if (r < 60) {
		q.tif = SHMEX_GTC;
		q.display_qty = 1 + q.qty / 3;
	} else if (r < 75) {
		q.tif = SHMEX_IOC;
	} else if (r < 82) {
		q.tif = SHMEX_FOK;
	} else {
		q.type = SHMEX_MARKET;
		q.tif = SHMEX_IOC;
		q.price = 0;
		if (q.side == SHMEX_BUY)
			q.quote_budget = 1000 + (int64_t)(mp_flow_rand(f) % 100000);
	}
	return mp_sess_submit(&f->s, &q);
}

static int mp_flow_target(struct mp_flow *f)
{
	if (f->nlive == 0)
		return 0;
	const uint32_t i = (uint32_t)(mp_flow_rand(f) % f->nlive);
	const uint64_t id = f->live[i].id, cid = f->live[i].cid;
	const uint32_t user = f->live[i].user;
	switch (mp_flow_rand(f) % 3) {
	case 0:
		return mp_sess_cancel(&f->s, user, id);
	case 1:
		return mp_sess_cancel_cid(&f->s, user, cid);
	default:
		return mp_sess_amend(&f->s, user, id,
				     f->live[i].price + ((int64_t)(mp_flow_rand(f) % 5) - 2) * 600,
				     1 + (int64_t)(mp_flow_rand(f) % 10));
	}
}

int mp_flow_run(const char *sock, struct mp_flow_record *rec)
{
	static struct mp_flow f;
	memset(&f, 0, sizeof f);
	memset(rec, 0, sizeof *rec);
	f.rec = rec;
	f.rng = UINT64_C(0x5EED5EED5EED);
	if (mp_sess_open(&f.s, sock, "honest", 0, 0) != 0)
		return -1;
	f.s.users[0] = 1;
	f.s.users[1] = 2;
	f.s.nusers = 2;
	f.s.on_report = mp_flow_on_report;
	f.s.ctx = &f;
	int rc = 0;
	for (int b = 0; rc == 0 && b < MP_FLOW_BATCHES; b++) {
		for (int j = 0; rc == 0 && j < MP_FLOW_SUBMITS; j++)
			rc = mp_flow_submit(&f);
		if (rc == 0)
			rc = mp_sess_sync(&f.s, 10 * MP_SEC);
		for (int j = 0; rc == 0 && j < MP_FLOW_TARGETS; j++)
			rc = mp_flow_target(&f);
		if (rc == 0)
			rc = mp_sess_sync(&f.s, 10 * MP_SEC);
	}
	for (uint32_t u = 1; rc == 0 && u <= 2; u++)
		rc = mp_sess_mass_cancel(&f.s, u, MP_BTC_USD);
	if (rc == 0)
		rc = mp_sess_sync(&f.s, 10 * MP_SEC);
	rec->requests = f.s.sent;
	if (rc == 0 && rec->n == MP_FLOW_MAX_REPORTS)
		rc = mp_sess_fail(&f.s, "more reports than the record holds");
	mp_sess_close(&f.s);
	return rc == 0 && !f.s.failed ? 0 : -1;
}

/* Index (from 1) of @p v among the values seen so far, added if new. */
static uint64_t mp_flow_rank(uint64_t *seen, uint32_t *n, uint64_t v)
{
	if (v == 0)
		return 0;
	for (uint32_t i = 0; i < *n; i++)
		if (seen[i] == v)
			return i + 1;
	seen[(*n)++] = v;
	return *n;
}

void mp_flow_normalize(struct mp_flow_record *rec)
{
	static uint64_t ids[2 * MP_FLOW_MAX_REPORTS], trades[MP_FLOW_MAX_REPORTS],
		seqs[MP_FLOW_MAX_REPORTS];
	uint32_t nids = 0, ntrades = 0, nseqs = 0;
	for (uint32_t i = 0; i < rec->n; i++) {
		struct shmex_report *r = &rec->rep[i];
		r->order_id = mp_flow_rank(ids, &nids, r->order_id);
		r->counter_id = mp_flow_rank(ids, &nids, r->counter_id);
		r->trade_id = mp_flow_rank(trades, &ntrades, r->trade_id);
		/* An ORDER report's sequence is its event's; a MASS_CANCEL's is
		 * "the sequence now", which other sessions move. */
		r->seq = r->kind == SHMEX_RPT_ORDER ? mp_flow_rank(seqs, &nseqs, r->seq) : 0;
		r->time = 0;
	}
}

int mp_flow_compare(const struct mp_flow_record *a, const struct mp_flow_record *b)
{
	const uint32_t n = a->n < b->n ? a->n : b->n;
	for (uint32_t i = 0; i < n; i++)
		if (memcmp(&a->rep[i], &b->rep[i], sizeof a->rep[i]) != 0) {
			const struct shmex_report *x = &a->rep[i], *y = &b->rep[i];
			fprintf(stderr,
				"mp flow: report %u differs:\n"
				"  kind %u what %u status %u reason %u user %u order %llu cid %llu "
				"seq %llu price %lld last %lld rem %lld req %llu fee %lld quote %lld\n"
				"  kind %u what %u status %u reason %u user %u order %llu cid %llu "
				"seq %llu price %lld last %lld rem %lld req %llu fee %lld quote %lld\n",
				i, x->kind, x->what, x->status, x->reason, x->user,
				(unsigned long long)x->order_id, (unsigned long long)x->client_id,
				(unsigned long long)x->seq, (long long)x->price, (long long)x->last_qty,
				(long long)x->remaining, (unsigned long long)x->request_no,
				(long long)x->fee, (long long)x->quote_amount, y->kind, y->what,
				y->status, y->reason, y->user, (unsigned long long)y->order_id,
				(unsigned long long)y->client_id, (unsigned long long)y->seq,
				(long long)y->price, (long long)y->last_qty, (long long)y->remaining,
				(unsigned long long)y->request_no, (long long)y->fee,
				(long long)y->quote_amount);
			return -1;
		}
	if (a->n != b->n || a->requests != b->requests) {
		fprintf(stderr, "mp flow: %u reports for %llu requests, then %u for %llu\n", a->n,
			(unsigned long long)a->requests, b->n, (unsigned long long)b->requests);
		return -1;
	}
	return 0;
}
