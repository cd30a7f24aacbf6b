/*
 * The several-matcher comparison of the differential test (mp_diff_match.h).
 */
#include "mp_diff_match.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_world.h"

#define MP_KEY_OTHER 0u           /* non-ORDER reports: their own line of pairing */

static int mp_fail(struct mp_diff_match *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int mp_fail(struct mp_diff_match *m, const char *fmt, ...)
{
	if (m->why[0] == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->why, sizeof m->why, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int mp_diff_match_init(struct mp_diff_match *m, uint32_t matchers)
{
	memset(m, 0, sizeof *m);
	m->matchers = matchers;
	if (tx_bijection_init(&m->orders) || tx_bijection_init(&m->trades)) {
		mp_diff_match_free(m);
		return -1;
	}
	return 0;
}

void mp_diff_match_free(struct mp_diff_match *m)
{
	tx_bijection_free(&m->orders);
	tx_bijection_free(&m->trades);
}

uint64_t mp_diff_match_order(const struct mp_diff_match *m, uint64_t id)
{
	return tx_bijection_get(&m->orders, id);
}

/* The matcher whose events a report numbers (-1: none, or every one). */
static int mp_report_matcher(const struct mp_diff_match *m, const struct shmex_report *r)
{
	if (r->kind == SHMEX_RPT_ORDER ||
	    (r->kind == SHMEX_RPT_MASS_CANCEL && r->symbol != SHMEX_ALL_SYMBOLS))
		return (int)mp_world_matcher(r->symbol, m->matchers);
	return -1;
}

int mp_diff_match_seq(struct mp_diff_match *m, const struct shmex_report *got)
{
	const int k = mp_report_matcher(m, got);
	if (k < 0 || (uint32_t)k >= MP_DIFF_MATCHERS)
		return 0;
	if (got->seq < m->last_seq[k])
		return mp_fail(m, "request %llu: seq %llu on matcher %d after %llu",
			       (unsigned long long)got->request_no, (unsigned long long)got->seq, k,
			       (unsigned long long)m->last_seq[k]);
	m->last_seq[k] = got->seq;
	return 0;
}

/* Pairs in-process id @p w with daemon id @p g (id_bijection.h). */
static int mp_pair(struct mp_diff_match *m, struct tx_bijection *b, const char *what, uint64_t w,
		   uint64_t g)
{
	char why[256];
	return tx_bijection_pair(b, what, w, g, why, sizeof why) ? mp_fail(m, "%s", why) : 0;
}

static uint32_t mp_key(const struct shmex_report *r)
{
	return r->kind == SHMEX_RPT_ORDER ? r->symbol : MP_KEY_OTHER;
}

static void mp_print(const char *who, const struct shmex_report *x)
{
	fprintf(stderr,
		"  %-6s %u %u %u %u %u %u %u %u %u %#llx %llu %llu %lld %lld %lld %#llx %#llx %lld "
		"%lld %lld %lld\n",
		who, x->kind, x->what, x->status, x->flags, x->reason, x->side, x->liquidity,
		x->user, x->symbol, (unsigned long long)x->order_id,
		(unsigned long long)x->client_id, (unsigned long long)x->seq, (long long)x->price,
		(long long)x->last_qty, (long long)x->remaining, (unsigned long long)x->trade_id,
		(unsigned long long)x->counter_id, (long long)x->filled, (long long)x->qty,
		(long long)x->quote_amount, (long long)x->fee);
}

/* One pair, normalised as the header says. */
static int mp_compare_pair(struct mp_diff_match *m, const struct shmex_report *w,
			   const struct shmex_report *g, uint64_t want_target, uint64_t got_target)
{
	struct shmex_report a = *w, b = *g;
	a.time = b.time = 0;
	a.seq = b.seq = 0; /* checked apart */
	int rc = 0;
	if (a.kind == SHMEX_RPT_REJECT) {
		if (a.order_id == want_target && b.order_id == got_target)
			a.order_id = b.order_id = 0;
	} else {
		rc |= mp_pair(m, &m->orders, "order", a.order_id, b.order_id);
		rc |= mp_pair(m, &m->orders, "counter", a.counter_id, b.counter_id);
		rc |= mp_pair(m, &m->trades, "trade", a.trade_id, b.trade_id);
		a.order_id = b.order_id = a.counter_id = b.counter_id = 0;
		a.trade_id = b.trade_id = 0;
	}
	if (rc == 0 && memcmp(&a, &b, sizeof a) == 0)
		return 0;
	fprintf(stderr,
		"mp diff: request %llu: reports differ (ids and seq as sent):\n"
		"         kind what status flags reason side liq user sym order cid seq price last "
		"rem trade counter filled qty quote fee\n",
		(unsigned long long)w->request_no);
	mp_print("want", w);
	mp_print("got", g);
	return mp_fail(m, "request %llu: the daemon's report differs from the exchange core's",
		       (unsigned long long)w->request_no);
}

int mp_diff_match_request(struct mp_diff_match *m, const struct shmex_report *want, uint32_t nw,
			  const struct shmex_report *const *got, uint32_t ng, uint64_t want_target,
			  uint64_t got_target)
{
	const uint64_t no = nw ? want[0].request_no : 0;
	if (nw != ng)
		return mp_fail(m, "request %llu: %u reports in process, %u from the daemon",
			       (unsigned long long)no, nw, ng);
	/* got[pos[i]] is the twin of want[i]: the next daemon report on the
	 * same symbol (or of the same other kind) in arrival order. */
	uint32_t pos[512], cursor[MP_NSYMBOLS + 1] = { 0 };
	if (nw > sizeof pos / sizeof pos[0])
		return mp_fail(m, "request %llu: %u reports, more than the test pairs", (unsigned long long)no, nw);
	for (uint32_t i = 0; i < nw; i++) {
		const uint32_t key = mp_key(&want[i]);
		if (key > MP_NSYMBOLS)
			return mp_fail(m, "request %llu: a report on symbol %u", (unsigned long long)no,
				       key);
		uint32_t j = cursor[key];
		while (j < ng && mp_key(got[j]) != key)
			j++;
		if (j == ng)
			return mp_fail(m, "request %llu: in-process report %u (kind %u, symbol %u) has "
					  "no twin from the daemon",
				       (unsigned long long)no, i, want[i].kind, want[i].symbol);
		pos[i] = j;
		cursor[key] = j + 1;
	}
	for (uint32_t i = 0; i < nw; i++) {
		if (mp_compare_pair(m, &want[i], got[pos[i]], want_target, got_target) != 0)
			return -1;
		/* seq: equal where the in-process twins are equal, else larger */
		for (uint32_t p = i; p-- > 0;) {
			if (mp_key(&want[p]) != mp_key(&want[i]))
				continue;
			const int weq = want[p].seq == want[i].seq;
			const int geq = got[pos[p]]->seq == got[pos[i]]->seq;
			if (weq != geq || (!geq && got[pos[p]]->seq > got[pos[i]]->seq))
				return mp_fail(m, "request %llu: seq %llu then %llu from the daemon, "
						  "%llu then %llu in process",
					       (unsigned long long)no,
					       (unsigned long long)got[pos[p]]->seq,
					       (unsigned long long)got[pos[i]]->seq,
					       (unsigned long long)want[p].seq,
					       (unsigned long long)want[i].seq);
			break;
		}
	}
	m->requests++;
	m->reports += nw;
	return 0;
}
