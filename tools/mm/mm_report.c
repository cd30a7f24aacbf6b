/* shmex-mm's summary, as a table or one JSON object (mm.h). */
#include <inttypes.h>
#include <stdio.h>

#include "common.h"
#include "mm.h"
#include "shmex/fixed.h"

static uint64_t sx_requests(const struct sx_sender *s)
{
	uint64_t n = 0;
	for (int k = 0; k <= SX_REQ_MASS_CANCEL; k++)
		n += s->sent[k];
	return n;
}

/* Refusals over every symbol: the total, and by reason into @p by. */
static uint64_t sx_refused(const struct sx_mm *mm, uint64_t by[SX_REASONS])
{
	uint64_t n = 0;
	for (int k = 0; k < SX_REASONS; k++)
		by[k] = 0;
	for (int i = 0; i < mm->nmarkets; i++) {
		n += mm->quoters[i].st.rejects;
		for (int k = 0; k < SX_REASONS; k++)
			by[k] += mm->quoters[i].st.refused_by[k];
	}
	return n;
}

/* "REASON n, REASON n" (text) or "\"REASON\":n,..." (JSON). */
static void sx_print_reasons(const uint64_t by[SX_REASONS], int json)
{
	int first = 1;
	for (int k = 0; k < SX_REASONS; k++) {
		if (by[k] == 0)
			continue;
		printf(json ? "%s\"%s\":%" PRIu64 : "%s%s %" PRIu64, first ? "" : json ? "," : ", ",
		       shmex_reason_name(k), by[k]);
		first = 0;
	}
}

static void sx_report_text(const struct sx_mm *mm)
{
	const struct sx_sender *s = &mm->sender;
	char a[SHMEX_DEC_BUFSZ], b[SHMEX_DEC_BUFSZ], c[SHMEX_DEC_BUFSZ];
	uint64_t by[SX_REASONS];
	const uint64_t refused = sx_refused(mm, by);
	printf("shmex-mm user %u, seed %" PRIu64 ": %.2f s, %" PRIu64 " requests (%" PRIu64
	       " new, %" PRIu64 " amend, %" PRIu64 " mass cancel), %" PRIu64 " put off, %" PRIu64
	       " refused",
	       mm->o.user, mm->o.seed, (double)mm->elapsed_ns / 1e9, sx_requests(s),
	       s->sent[SX_REQ_NEW], s->sent[SX_REQ_AMEND], s->sent[SX_REQ_MASS_CANCEL],
	       s->deferred, refused);
	if (refused != 0) {
		printf(" (");
		sx_print_reasons(by, 0);
		printf(")");
	}
	printf("\n");
	printf("  %-10s %7s %7s %9s %9s %16s %16s %12s  %s\n", "symbol", "fills", "maker",
	       "bought", "sold", "paid", "received", "fees", "reference range (ticks)");
	for (int i = 0; i < mm->nmarkets; i++) {
		const struct sx_quoter *q = &mm->quoters[i];
		const struct sx_market *m = q->m;
		printf("  %-10s %7" PRIu64 " %7" PRIu64 " %9" PRId64 " %9" PRId64
		       " %12s %-3s %12s %-3s %12s  %" PRId64 "..%" PRId64 " (%" PRIu64 " steps)\n",
		       m->code, q->st.fills, q->st.maker_fills, q->st.bought, q->st.sold,
		       sx_dec(q->st.paid, m->quote_dec, a, sizeof a), m->quote_code,
		       sx_dec(q->st.received, m->quote_dec, b, sizeof b), m->quote_code,
		       sx_dec(q->st.fees, m->quote_dec, c, sizeof c), q->ref_lo, q->ref_hi,
		       q->steps);
	}
	printf("  (bought/sold in lots; paid and received include fees; fees < 0 are rebates;"
	       " %" PRIu64 " orders left for the closing mass cancel)\n",
	       mm->mass_cancelled);
	if (mm->have_after) {
		printf("  %-6s %24s %24s %20s\n", "asset", "before", "after", "change");
		for (int i = 0; i < mm->before.n; i++) {
			const struct shmex_client_balance *x = &mm->before.b[i];
			const int64_t was = x->available + x->locked;
			const int64_t now = sx_balances_total(&mm->after, x->asset);
			printf("  %-6.*s %24s %24s %20s\n", (int)sizeof x->code, x->code,
			       sx_dec(was, x->decimals, a, sizeof a),
			       sx_dec(now, x->decimals, b, sizeof b),
			       sx_dec(now - was, x->decimals, c, sizeof c));
		}
	}
	printf("  latency submit -> done (us): ");
	sx_latency_print(&mm->latency, stdout);
}

static void sx_report_json(const struct sx_mm *mm)
{
	const struct sx_sender *s = &mm->sender;
	char a[SHMEX_DEC_BUFSZ], b[SHMEX_DEC_BUFSZ], c[SHMEX_DEC_BUFSZ];
	uint64_t by[SX_REASONS];
	const uint64_t refused = sx_refused(mm, by);
	printf("{\"user\":%u,\"seed\":%" PRIu64 ",\"seconds\":%.3f,\"ended_early\":%s,"
	       "\"requests\":{\"total\":%" PRIu64 ",\"new\":%" PRIu64 ",\"amend\":%" PRIu64
	       ",\"mass_cancel\":%" PRIu64 ",\"put_off\":%" PRIu64 ",\"untracked\":%" PRIu64
	       ",\"refused\":%" PRIu64 ",\"refused_by\":{",
	       mm->o.user, mm->o.seed, (double)mm->elapsed_ns / 1e9, mm->ended ? "true" : "false",
	       sx_requests(s), s->sent[SX_REQ_NEW], s->sent[SX_REQ_AMEND],
	       s->sent[SX_REQ_MASS_CANCEL], s->deferred, s->untracked, refused);
	sx_print_reasons(by, 1);
	printf("}},\"mass_cancelled\":%" PRIu64 ",\"symbols\":[", mm->mass_cancelled);
	for (int i = 0; i < mm->nmarkets; i++) {
		const struct sx_quoter *q = &mm->quoters[i];
		const struct sx_market *m = q->m;
		printf("%s{\"symbol\":\"%s\",\"fills\":%" PRIu64 ",\"maker_fills\":%" PRIu64
		       ",\"bought_lots\":%" PRId64 ",\"sold_lots\":%" PRId64
		       ",\"paid\":\"%s\",\"received\":\"%s\",\"fees\":\"%s\",\"quote\":\"%s\","
		       "\"steps\":%" PRIu64 ",\"ref_low\":%" PRId64 ",\"ref_high\":%" PRId64 "}",
		       i ? "," : "", m->code, q->st.fills, q->st.maker_fills, q->st.bought,
		       q->st.sold, sx_dec(q->st.paid, m->quote_dec, a, sizeof a),
		       sx_dec(q->st.received, m->quote_dec, b, sizeof b),
		       sx_dec(q->st.fees, m->quote_dec, c, sizeof c), m->quote_code, q->steps,
		       q->ref_lo, q->ref_hi);
	}
	printf("],\"assets\":[");
	for (int i = 0; mm->have_after && i < mm->before.n; i++) {
		const struct shmex_client_balance *x = &mm->before.b[i];
		const int64_t was = x->available + x->locked;
		const int64_t now = sx_balances_total(&mm->after, x->asset);
		printf("%s{\"asset\":\"%.*s\",\"before\":\"%s\",\"after\":\"%s\",\"change\":\"%s\"}",
		       i ? "," : "", (int)sizeof x->code, x->code,
		       sx_dec(was, x->decimals, a, sizeof a), sx_dec(now, x->decimals, b, sizeof b),
		       sx_dec(now - was, x->decimals, c, sizeof c));
	}
	printf("],\"latency\":");
	sx_latency_print_json(&mm->latency, stdout);
	printf("}\n");
}

void sx_mm_report(const struct sx_mm *mm)
{
	if (mm->o.json)
		sx_report_json(mm);
	else
		sx_report_text(mm);
	fflush(stdout);
}
