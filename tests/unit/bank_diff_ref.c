/*
 * The bank differential test's reference (bank_diff_ref.h). The routing
 * below restates matcher.c's (sx_on_report, sx_emit_own, sx_run_target,
 * sx_run_mass_cancel) on one exchange; a request that several matchers
 * answer (a mass cancel of every symbol, a ping) is answered by each, and
 * the bank merges the answers: each matcher holds back its own last
 * report, so the hold-back is kept per matcher here.
 */
#include "bank_diff_ref.h"
#include "report_convert.h"

#include <stdlib.h>
#include <string.h>

#define BD_CALL_MAX 65536u

/* The reports of the call being made (one reference at a time). */
static struct shmex_order_report *g_call;
static uint32_t g_ncall, g_call_over;

static void bd_sink(void *ctx, const struct shmex_order_report *r)
{
	(void)ctx;
	if (g_ncall < BD_CALL_MAX)
		g_call[g_ncall++] = *r;
	else
		g_call_over = 1;
}

int bd_ref_create(struct bd_ref *r, const struct bd_world *w)
{
	memset(r, 0, sizeof *r);
	r->w = w;
	r->owner = calloc(BD_MAX_ORDERS, sizeof *r->owner);
	r->cap = 4096;
	r->out = malloc(r->cap * sizeof *r->out);
	if (!g_call)
		g_call = malloc(BD_CALL_MAX * sizeof *g_call);
	if (!r->owner || !r->out || !g_call)
		return SHMEX_E_NOMEM;
	return bd_world_reference(w, bd_sink, r, &r->ex);
}

void bd_ref_destroy(struct bd_ref *r)
{
	shmex_exchange_destroy(r->ex);
	free(r->owner);
	free(r->out);
	free(g_call);
	g_call = NULL;
	memset(r, 0, sizeof *r);
}

uint16_t bd_lane(const struct bd_world *w, const struct shmex_report *rep)
{
	return (uint16_t)(rep->kind == SHMEX_RPT_ORDER ? bd_world_matcher(w, rep->symbol)
						       : w->matchers);
}

static uint16_t bd_owner_find(const struct bd_ref *r, uint64_t id)
{
	const struct bd_owner *o = &r->owner[id & (BD_MAX_ORDERS - 1)];
	return o->id == id && id != 0 ? o->session : BD_NO_SESSION;
}

static int bd_push(struct bd_ref *r, uint16_t session, const struct shmex_report *rep)
{
	if (session == BD_NO_SESSION)
		return 0; /* the engine drops it too (sx_emit) */
	if (r->nout == r->cap) {
		struct bd_item *n = realloc(r->out, 2 * r->cap * sizeof *n);
		if (!n)
			return -1;
		r->out = n;
		r->cap *= 2;
	}
	struct bd_item *it = &r->out[r->nout++];
	memset(it, 0, sizeof *it);
	it->session = session;
	it->lane = bd_lane(r->w, rep);
	it->rep = *rep;
	return 0;
}

/* Each matcher's held-back report of the requester. */
struct bd_pend {
	int has;
	struct shmex_report rep;
};

static int bd_final(uint8_t status)
{
	return status == SHMEX_OS_FILLED || status == SHMEX_OS_CANCELLED ||
	       status == SHMEX_OS_REJECTED || status == SHMEX_OS_EXPIRED;
}

/* sx_reject() */
static void bd_reject(const struct bd_req *q, uint16_t reason, struct shmex_report *o)
{
	memset(o, 0, sizeof *o);
	o->kind = SHMEX_RPT_REJECT;
	o->reason = reason;
	o->status = SHMEX_OS_REJECTED;
	if (q->op == BD_SUBMIT || (q->op == BD_REFUSE && q->refuse_submit)) {
		o->user = q->o.user;
		o->symbol = q->o.symbol;
		o->client_id = q->o.client_id;
		o->side = q->o.side;
		o->price = q->o.price;
		o->qty = q->o.qty;
	} else {
		o->user = q->user;
		o->symbol = q->symbol;
		o->order_id = q->order_id;
		o->client_id = q->client_id;
	}
}

/* The exchange call of matcher.c's sx_run for @p q. */
static int bd_call(struct bd_ref *r, const struct bd_req *q, struct shmex_order_ack *ack,
		   uint64_t *target, uint32_t *count)
{
	int rc = 0;
	uint64_t id = q->order_id;
	switch (q->op) {
	case BD_SUBMIT:
		return shmex_exchange_submit(r->ex, &q->o, ack);
	case BD_CANCEL_CID:
		id = 0;
		if (shmex_exchange_find_client_id(r->ex, q->user, q->client_id, &id) != 0)
			rc = SHMEX_E_UNKNOWN_ORDER;
		/* fall through */
	case BD_CANCEL:
	case BD_AMEND:
		*target = id;
		if (rc == 0)
			rc = q->op == BD_AMEND
				     ? shmex_exchange_amend(r->ex, q->user, id, q->price, q->qty, ack)
				     : shmex_exchange_cancel(r->ex, q->user, id, ack);
		return rc;
	case BD_MASS:
		return shmex_exchange_mass_cancel(r->ex, q->user, q->symbol, count);
	default:
		return 0;
	}
}

static void bd_count(struct bd_ref *r)
{
	for (uint32_t i = 0; i < r->nout; i++) {
		const struct shmex_report *x = &r->out[i].rep;
		r->reports++;
		r->trades += x->kind == SHMEX_RPT_ORDER && x->what == SHMEX_EV_TRADE;
		r->rejects += x->kind == SHMEX_RPT_REJECT;
		r->mass += x->kind == SHMEX_RPT_MASS_CANCEL;
		r->pongs += x->kind == SHMEX_RPT_PONG;
		r->reasons[x->reason & 63]++;
		if (x->kind == SHMEX_RPT_ORDER)
			r->whats[x->what & 15]++;
	}
}

int bd_ref_run(struct bd_ref *r, const struct bd_req *q, uint64_t request_no)
{
	struct shmex_order_ack ack;
	memset(&ack, 0, sizeof ack);
	uint64_t target = 0;
	uint32_t count = 0;
	g_ncall = 0;
	g_call_over = 0;
	r->nout = 0;
	r->new_order = 0;
	const int rc = bd_call(r, q, &ack, &target, &count);
	if (g_call_over)
		return -1;
	struct bd_pend pend[BD_MAX_MATCHERS];
	memset(pend, 0, sizeof pend);
	struct shmex_report trep, rep;
	int has_trep = 0, any_own = 0;
	uint32_t last_k = 0;
	for (uint32_t i = 0; i < g_ncall; i++) {
		sx_report_from_order(&g_call[i], &rep);
		if (rep.order_id > r->max_id)
			r->max_id = rep.order_id;
		uint16_t to;
		struct bd_owner *o = &r->owner[rep.order_id & (BD_MAX_ORDERS - 1)];
		if (q->op == BD_SUBMIT && i == 0) { /* the new order's first report */
			r->new_order = rep.order_id;
			if (!bd_final(rep.status))
				*o = (struct bd_owner){ rep.order_id, q->session };
			to = q->session;
		} else if (q->op == BD_SUBMIT && rep.order_id == r->new_order) {
			to = q->session;
		} else {
			to = bd_owner_find(r, rep.order_id);
		}
		if (bd_final(rep.status) && o->id == rep.order_id)
			o->id = 0;
		if (target != 0 && rep.order_id == target) {
			trep = rep;
			has_trep = 1;
		}
		if (to != q->session) {
			if (bd_push(r, to, &rep) != 0)
				return -1;
			continue;
		}
		const uint32_t k = bd_world_matcher(r->w, rep.symbol);
		if (pend[k].has && bd_push(r, q->session, &pend[k].rep) != 0)
			return -1;
		pend[k].rep = rep;
		pend[k].rep.request_no = request_no;
		pend[k].has = 1;
		any_own = 1;
		last_k = k;
	}
	/* The command's end: each matcher's held-back report goes out, the
	 * last one (or the closing report) marked DONE. */
	struct shmex_report fin;
	if (q->op == BD_MASS && rc == 0) {
		memset(&fin, 0, sizeof fin);
		fin.kind = SHMEX_RPT_MASS_CANCEL;
		fin.user = q->user;
		fin.symbol = q->symbol;
		fin.last_qty = count;
		fin.seq = shmex_exchange_seq(r->ex);
	} else if (q->op == BD_PING) {
		memset(&fin, 0, sizeof fin);
		fin.kind = SHMEX_RPT_PONG;
		fin.client_id = q->client_id;
		fin.seq = shmex_exchange_seq(r->ex);
	} else if (any_own) {
		pend[last_k].has = 0;
		fin = pend[last_k].rep;
	} else if (has_trep && (q->op == BD_CANCEL || q->op == BD_CANCEL_CID || q->op == BD_AMEND)) {
		fin = trep; /* another session of the user owns it: a copy */
		r->copies++;
	} else {
		bd_reject(q, q->op == BD_REFUSE ? q->reason : sx_reason_of(rc, &ack), &fin);
	}
	for (uint32_t k = 0; k < BD_MAX_MATCHERS; k++)
		if (pend[k].has && bd_push(r, q->session, &pend[k].rep) != 0)
			return -1;
	fin.request_no = request_no;
	fin.flags |= SHMEX_RPTF_DONE;
	if (bd_push(r, q->session, &fin) != 0)
		return -1;
	bd_count(r);
	return 0;
}
