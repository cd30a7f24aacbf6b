/*
 * The bank differential test's comparison (bank_diff_match.h).
 */
#include "bank_diff_match.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int bd_match_fail(struct bd_match *m, const char *fmt, ...)
{
	if (m->why[0] == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->why, sizeof m->why, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- the bijection ------------------------------------------------------------ */

int bd_match_init(struct bd_match *m, const struct bd_world *w)
{
	memset(m, 0, sizeof *m);
	m->w = w;
	if (tx_bijection_init(&m->orders) || tx_bijection_init(&m->trades)) {
		bd_match_free(m);
		return -1;
	}
	return 0;
}

void bd_match_free(struct bd_match *m)
{
	tx_bijection_free(&m->orders);
	tx_bijection_free(&m->trades);
}

uint64_t bd_match_order(const struct bd_match *m, uint64_t id)
{
	return tx_bijection_get(&m->orders, id);
}

/* Pairs reference id @p w with engine id @p g (id_bijection.h). */
static int bd_pair(struct bd_match *m, struct tx_bijection *b, const char *what, uint64_t w,
		   uint64_t g)
{
	char why[256];
	return tx_bijection_pair(b, what, w, g, why, sizeof why) ? bd_match_fail(m, "%s", why) : 0;
}

int bd_match_bind(struct bd_match *m, uint64_t ref, uint64_t eng)
{
	return bd_pair(m, &m->orders, "order", ref, eng);
}

/* ---- one pair -------------------------------------------------------------------- */

static void bd_print(const char *who, const struct bd_item *it)
{
	const struct shmex_report *x = &it->rep;
	fprintf(stderr,
		"  %-5s s%u L%u %u %u %u %u %u %u %u %u %u %#llx %llu %llu %lld %lld %lld %#llx "
		"%#llx %lld %lld %lld %lld r%llu\n",
		who, it->session, it->lane, x->kind, x->what, x->status, x->flags, x->reason,
		x->side, x->liquidity, x->user, x->symbol, (unsigned long long)x->order_id,
		(unsigned long long)x->client_id, (unsigned long long)x->seq, (long long)x->price,
		(long long)x->last_qty, (long long)x->remaining, (unsigned long long)x->trade_id,
		(unsigned long long)x->counter_id, (long long)x->filled, (long long)x->qty,
		(long long)x->quote_amount, (long long)x->fee, (unsigned long long)x->request_no);
}

static void bd_print_header(void)
{
	fprintf(stderr, "        session lane kind what status flags reason side liq user sym "
			"order cid seq price last rem trade counter filled qty quote fee request\n");
}

static int bd_compare(struct bd_match *m, const struct bd_item *w, const struct bd_item *g,
		      uint64_t want_target, uint64_t got_target)
{
	struct shmex_report a = w->rep, b = g->rep;
	a.time = b.time = 0;
	a.seq = b.seq = 0; /* checked apart */
	int rc = 0;
	if (a.kind == SHMEX_RPT_REJECT) {
		if (a.order_id == want_target && b.order_id == got_target)
			a.order_id = b.order_id = 0;
	} else {
		rc |= bd_pair(m, &m->orders, "order", a.order_id, b.order_id);
		rc |= bd_pair(m, &m->orders, "counter", a.counter_id,
			      b.counter_id);
		rc |= bd_pair(m, &m->trades, "trade", a.trade_id, b.trade_id);
		a.order_id = b.order_id = a.counter_id = b.counter_id = 0;
		a.trade_id = b.trade_id = 0;
	}
	m->compared++;
	if (rc == 0 && w->session == g->session && memcmp(&a, &b, sizeof a) == 0)
		return 0;
	fprintf(stderr, "bank diff: reports differ (ids and seq as sent):\n");
	bd_print_header();
	bd_print("want", w);
	bd_print("got", g);
	return bd_match_fail(m, "request %llu: the engine's report differs from the reference's",
			     (unsigned long long)w->rep.request_no);
}

/* Seq of two reports of one lane or order, p before i: equal, up or down
 * exactly as the reference's are (down: the requester's held-back report
 * after another session's). */
static int bd_seq_pair(struct bd_match *m, const struct bd_item *wp, const struct bd_item *wi,
		       const struct bd_item *gp, const struct bd_item *gi)
{
	const int wo = (wp->rep.seq > wi->rep.seq) - (wp->rep.seq < wi->rep.seq);
	const int go = (gp->rep.seq > gi->rep.seq) - (gp->rep.seq < gi->rep.seq);
	if (wo == go)
		return 0;
	return bd_match_fail(m, "request %llu: seq %llu then %llu from the engine, %llu then %llu "
				"in the reference",
			     (unsigned long long)wi->rep.request_no, (unsigned long long)gp->rep.seq,
			     (unsigned long long)gi->rep.seq, (unsigned long long)wp->rep.seq,
			     (unsigned long long)wi->rep.seq);
}

int bd_match_seq(struct bd_match *m, const struct bd_item *it)
{
	const struct shmex_report *got = &it->rep;
	const int order = got->kind == SHMEX_RPT_ORDER;
	if (!order && !(got->kind == SHMEX_RPT_MASS_CANCEL && got->symbol != SHMEX_ALL_SYMBOLS))
		return 0;
	const uint32_t k = bd_world_matcher(m->w, got->symbol);
	if (k >= BD_MAX_MATCHERS || it->session >= BD_SESSIONS)
		return 0;
	uint64_t *last = &m->last_seq[it->session][k];
	if (got->seq < *last)
		return bd_match_fail(m, "request %llu: seq %llu on matcher %u to session %u after %llu",
				     (unsigned long long)got->request_no, (unsigned long long)got->seq,
				     k, it->session, (unsigned long long)*last);
	*last = got->seq;
	return 0;
}

/* ---- closed loop: one request, lane by lane ---------------------------------------- */

void bd_match_dump(const struct bd_item *want, uint32_t nw, const struct bd_item *got,
		   uint32_t ng)
{
	bd_print_header();
	for (uint32_t i = 0; i < nw && i < 40; i++)
		bd_print("want", &want[i]);
	for (uint32_t i = 0; i < ng && i < 40; i++)
		bd_print("got", &got[i]);
}

static int bd_match_lanes(struct bd_match *m, const struct bd_item *want, uint32_t nw,
			  const struct bd_item *got, uint32_t ng, uint64_t want_target,
			  uint64_t got_target)
{
	const uint64_t no = want[nw - 1].rep.request_no;
	for (uint16_t lane = 0; lane <= m->w->matchers; lane++) {
		uint32_t j = 0, pw = UINT32_MAX, pg = UINT32_MAX;
		for (uint32_t i = 0; i < nw; i++) {
			if (want[i].lane != lane)
				continue;
			while (j < ng && bd_lane(m->w, &got[j].rep) != lane)
				j++;
			if (j == ng)
				return bd_match_fail(m, "request %llu: reference report %u (lane %u) has "
							"no twin from the engine",
						     (unsigned long long)no, i, lane);
			if (bd_compare(m, &want[i], &got[j], want_target, got_target) != 0)
				return -1;
			if (lane < m->w->matchers && pw != UINT32_MAX &&
			    bd_seq_pair(m, &want[pw], &want[i], &got[pg], &got[j]) != 0)
				return -1;
			pw = i;
			pg = j++;
		}
		while (j < ng && bd_lane(m->w, &got[j].rep) != lane)
			j++;
		if (j < ng)
			return bd_match_fail(m, "request %llu: engine report %u (lane %u) has no twin "
						"in the reference",
					     (unsigned long long)no, j, lane);
	}
	return 0;
}

int bd_match_request(struct bd_match *m, const struct bd_item *want, uint32_t nw,
		     const struct bd_item *got, uint32_t ng, uint64_t want_target,
		     uint64_t got_target)
{
	if (nw == 0)
		return bd_match_fail(m, "a request without a reference report");
	const uint64_t no = want[nw - 1].rep.request_no;
	uint32_t done = 0;
	for (uint32_t i = 0; i < ng; i++)
		done += (got[i].rep.flags & SHMEX_RPTF_DONE) != 0;
	int rc = 0;
	if (nw != ng)
		rc = bd_match_fail(m, "request %llu: %u reports in the reference, %u from the engine",
				   (unsigned long long)no, nw, ng);
	else if (done != 1 || !(got[ng - 1].rep.flags & SHMEX_RPTF_DONE) ||
		 got[ng - 1].rep.request_no != no)
		rc = bd_match_fail(m, "request %llu: %u DONE reports, the last report not its DONE",
				   (unsigned long long)no, done);
	else
		rc = bd_match_lanes(m, want, nw, got, ng, want_target, got_target);
	if (rc != 0)
		bd_match_dump(want, nw, got, ng);
	return rc;
}

/* ---- pipelined: per order, and per request for the other kinds ------------------------ */

struct bd_key {
	uint64_t key;
	uint32_t idx;
};

static int bd_key_cmp(const void *a, const void *b)
{
	const struct bd_key *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Indices of the ORDER items (@p orders) or the others, sorted by order
 * id or request number, then by place. */
static struct bd_key *bd_sorted(const struct bd_item *it, uint32_t n, int orders, uint32_t *count)
{
	struct bd_key *k = malloc((n + 1) * sizeof *k);
	if (!k)
		return NULL;
	uint32_t c = 0;
	for (uint32_t i = 0; i < n; i++)
		if ((it[i].rep.kind == SHMEX_RPT_ORDER) == orders)
			k[c++] = (struct bd_key){ orders ? it[i].rep.order_id : it[i].rep.request_no,
						  i };
	qsort(k, c, sizeof *k, bd_key_cmp);
	*count = c;
	return k;
}

/* Where group @p key starts in @p k (c if absent). */
static uint32_t bd_find(const struct bd_key *k, uint32_t c, uint64_t key)
{
	uint32_t lo = 0, hi = c;
	while (lo < hi) {
		const uint32_t mid = lo + (hi - lo) / 2;
		if (k[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c && k[lo].key == key ? lo : c;
}

/* Compares each group of @p wk with the engine's group its key maps to. */
static int bd_groups(struct bd_match *m, const struct bd_item *want, const struct bd_key *wk,
		     uint32_t wc, const struct bd_item *got, const struct bd_key *gk, uint32_t gc,
		     int orders, const uint64_t *want_target, const uint64_t *got_target,
		     uint32_t requests)
{
	uint32_t matched = 0;
	for (uint32_t i = 0; i < wc;) {
		uint32_t e = i;
		while (e < wc && wk[e].key == wk[i].key)
			e++;
		const uint64_t gkey = orders ? bd_match_order(m, wk[i].key) : wk[i].key;
		uint32_t j = gkey ? bd_find(gk, gc, gkey) : gc;
		if (j == gc)
			return bd_match_fail(m, "%s %#llx: %u reports in the reference, none from the "
						"engine",
					     orders ? "order" : "request", (unsigned long long)wk[i].key,
					     e - i);
		const uint64_t no = want[wk[i].idx].rep.request_no;
		const uint64_t wt = !orders && no <= requests ? want_target[no] : 0;
		const uint64_t gt = !orders && no <= requests ? got_target[no] : 0;
		for (uint32_t a = i; a < e; a++, j++) {
			if (j == gc || gk[j].key != gkey)
				return bd_match_fail(m, "%s %#llx: %u reports in the reference, fewer "
							"from the engine",
						     orders ? "order" : "request",
						     (unsigned long long)wk[i].key, e - i);
			if (bd_compare(m, &want[wk[a].idx], &got[gk[j].idx], wt, gt) != 0)
				return -1;
			if (orders && a > i &&
			    bd_seq_pair(m, &want[wk[a - 1].idx], &want[wk[a].idx], &got[gk[j - 1].idx],
					&got[gk[j].idx]) != 0)
				return -1;
			matched++;
		}
		if (j < gc && gk[j].key == gkey)
			return bd_match_fail(m, "%s %#llx: more reports from the engine than the "
						"reference's %u",
					     orders ? "order" : "request", (unsigned long long)wk[i].key,
					     e - i);
		i = e;
	}
	if (matched != gc)
		return bd_match_fail(m, "%u engine %s reports have no reference twin", gc - matched,
				     orders ? "ORDER" : "other");
	return 0;
}

int bd_match_run(struct bd_match *m, const struct bd_item *want, uint32_t nw,
		 const struct bd_item *got, uint32_t ng, const uint64_t *want_target,
		 const uint64_t *got_target, uint32_t requests)
{
	if (nw != ng)
		return bd_match_fail(m, "%u reports in the reference, %u from the engine", nw, ng);
	uint32_t *done = calloc((size_t)requests + 1, sizeof *done);
	if (!done)
		return bd_match_fail(m, "out of memory");
	int rc = 0;
	for (uint32_t i = 0; i < ng && rc == 0; i++) {
		const uint64_t no = got[i].rep.request_no;
		if (no > requests)
			rc = bd_match_fail(m, "a report for request %llu", (unsigned long long)no);
		else if (got[i].rep.flags & SHMEX_RPTF_DONE)
			done[no]++;
	}
	for (uint32_t no = 1; no <= requests && rc == 0; no++)
		if (done[no] != 1)
			rc = bd_match_fail(m, "request %u: %u DONE reports", no, done[no]);
	free(done);
	for (int orders = 1; orders >= 0 && rc == 0; orders--) {
		uint32_t wc = 0, gc = 0;
		struct bd_key *wk = bd_sorted(want, nw, orders, &wc);
		struct bd_key *gk = bd_sorted(got, ng, orders, &gc);
		rc = !wk || !gk ? bd_match_fail(m, "out of memory")
				: bd_groups(m, want, wk, wc, got, gk, gc, orders, want_target,
					    got_target, requests);
		free(wk);
		free(gk);
	}
	return rc;
}
