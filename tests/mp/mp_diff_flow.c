/*
 * The differential test's flow (mp_diff_flow.h).
 */
#include "mp_diff_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_world.h"
#include "report_convert.h"

#define MP_DIFF_MAX_REPORTS 32768u

/* One flow at a time: the generator's state and the exchange sink's
 * reports of the call being made. */
static uint64_t g_rng;
static struct shmex_order_report g_call[4096];
static uint32_t g_ncall;

static void diff_sink(void *ctx, const struct shmex_order_report *r)
{
	(void)ctx;
	if (g_ncall < sizeof g_call / sizeof g_call[0])
		g_call[g_ncall++] = *r;
}

static uint64_t diff_rand(void)
{
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * UINT64_C(2685821657736338717);
}

static int diff_world(struct mp_diff_flow *f, const struct mp_diff_flow_opts *o)
{
	struct shmex_exchange_config xc = {
		.max_assets = MP_WORLD_MAX_ASSETS, .max_symbols = MP_WORLD_MAX_SYMBOLS,
		.max_users = MP_WORLD_MAX_USERS, .max_orders = MP_WORLD_MAX_ORDERS,
		.report_sink = diff_sink,
	};
	int rc = shmex_exchange_create(&xc, &f->ex);
	uint32_t id;
	/* The daemon's order (src/engine/engine.c): assets, symbols, then each
	 * user followed by its deposits. */
	for (uint32_t a = 1; rc == 0 && a <= MP_NASSETS; a++)
		rc = shmex_exchange_add_asset(f->ex, mp_world_asset(a), &id);
	for (uint32_t s = 1; rc == 0 && s <= MP_NSYMBOLS; s++)
		rc = shmex_exchange_add_symbol(f->ex, mp_world_symbol(s), &id);
	for (uint32_t u = 1; rc == 0 && u <= o->users; u++) {
		rc = shmex_exchange_add_user(f->ex, NULL, &id);
		for (uint32_t a = 1; rc == 0 && a <= MP_NASSETS; a++) {
			const int64_t v = o->deposits ? o->deposits[a - 1] : mp_world_deposit(a);
			if (v > 0)
				rc = shmex_exchange_deposit(f->ex, id, a, v, 0, NULL);
		}
	}
	return rc;
}

/* The answer to a request that made no report. */
static void diff_reject(const struct mp_diff_req *q, uint16_t reason, struct shmex_report *o)
{
	memset(o, 0, sizeof *o);
	o->kind = SHMEX_RPT_REJECT;
	o->status = SHMEX_OS_REJECTED;
	o->reason = reason;
	if (q->op == D_SUBMIT) {
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

/* A live order of a random user (0 if none). */
static uint64_t diff_live(struct shmex_exchange *ex, uint32_t users, uint32_t *user,
			  struct shmex_order_state *st)
{
	static struct shmex_order_state list[1024];
	*user = 1 + (uint32_t)(diff_rand() % users);
	uint32_t total = 0;
	const int n = shmex_exchange_open_orders(ex, *user, SHMEX_ALL_SYMBOLS, 0, list, 1024,
						 &total);
	if (n <= 0)
		return 0;
	*st = list[diff_rand() % (uint32_t)n];
	return st->order_id;
}

static void diff_make_submit(const struct mp_diff_flow_opts *fo, struct mp_diff_req *q,
			     uint64_t *cid)
{
	q->op = D_SUBMIT;
	struct shmex_order_request *o = &q->o;
	o->user = 1 + (uint32_t)(diff_rand() % fo->users);
	o->symbol = 1 + (uint32_t)(diff_rand() % MP_NSYMBOLS);
	const int64_t ref = mp_world_symbol(o->symbol)->ref_price;
	o->client_id = ++*cid;
	if (diff_rand() % 50 == 0 && *cid > 10) /* a client id used before (or none) */
		o->client_id = fo->unique_client_ids ? 0 : *cid - 1 - diff_rand() % 10;
	o->side = (uint8_t)(diff_rand() % 2);
	o->qty = 1 + (int64_t)(diff_rand() % 20);
	o->price = ref + ((int64_t)(diff_rand() % 201) - 100) * (ref / 10000);
	o->type = SHMEX_LIMIT;
	const int r = (int)(diff_rand() % 100);
	if (r < 35) {
		o->tif = SHMEX_GTC;
	} else if (r < 45) {
		o->tif = SHMEX_GTC;
		o->flags = SHMEX_OF_POST_ONLY;
	} else if (r < 55) {
		o->tif = SHMEX_GTC;
		o->display_qty = 1 + o->qty / 4;
	} else if (r < 70) {
		o->tif = SHMEX_IOC;
	} else if (r < 80) {
		o->tif = SHMEX_FOK;
	} else {
		o->type = SHMEX_MARKET;
		o->tif = SHMEX_IOC;
		o->price = 0;
		if (o->side == SHMEX_BUY)
			o->quote_budget = 500 + (int64_t)(diff_rand() % 200000);
	}
}

/* Draws the next request from the exchange's state now. */
static void diff_make(struct mp_diff_flow *f, const struct mp_diff_flow_opts *fo,
		      struct mp_diff_req *q, uint64_t *cid)
{
	memset(q, 0, sizeof *q);
	const int r = (int)(diff_rand() % 100);
	struct shmex_order_state st;
	if (r >= 55 && r < 88 && diff_live(f->ex, fo->users, &q->user, &st) != 0) {
		if (r < 70 || (r < 75 && st.client_id == 0)) {
			q->op = D_CANCEL;
			q->order_id = st.order_id;
		} else if (r < 75) {
			q->op = D_CANCEL_CID;
			q->client_id = st.client_id;
		} else {
			q->op = D_AMEND;
			q->order_id = st.order_id;
			const int64_t step = mp_world_symbol(st.symbol)->ref_price / 10000;
			q->price = st.price + ((int64_t)(diff_rand() % 5) - 2) * step;
			q->qty = 1 + (int64_t)(diff_rand() % 20);
		}
		return;
	}
	q->user = 1 + (uint32_t)(diff_rand() % fo->users);
	if (r >= 88 && r < 91) {
		q->op = D_MASS;
		q->symbol = (uint32_t)(diff_rand() % (MP_NSYMBOLS + 1)); /* 0: all */
	} else if (r >= 91 && r < 94) {
		q->op = D_CANCEL; /* an order that is gone, or never was */
		q->order_id = 1 + diff_rand() % (*cid + 5);
	} else if (r >= 94 && r < 97) {
		q->op = D_AMEND;
		q->order_id = 1 + diff_rand() % (*cid + 5);
		q->price = 6000000;
		q->qty = 3;
	} else {
		diff_make_submit(fo, q, cid);
	}
}

/* Runs one request in process; appends what the daemon must answer. */
static int diff_apply(struct mp_diff_flow *f, const struct mp_diff_req *q, uint64_t request_no)
{
	struct shmex_order_ack ack;
	memset(&ack, 0, sizeof ack);
	uint32_t count = 0;
	uint64_t id = q->order_id;
	int rc = 0;
	g_ncall = 0;
	switch (q->op) {
	case D_SUBMIT:
		rc = shmex_exchange_submit(f->ex, &q->o, &ack);
		break;
	case D_CANCEL_CID:
		rc = shmex_exchange_find_client_id(f->ex, q->user, q->client_id, &id);
		/* fall through */
	case D_CANCEL:
		if (rc == 0)
			rc = shmex_exchange_cancel(f->ex, q->user, id, &ack);
		break;
	case D_AMEND:
		rc = shmex_exchange_amend(f->ex, q->user, id, q->price, q->qty, &ack);
		break;
	case D_MASS:
		rc = shmex_exchange_mass_cancel(f->ex, q->user, q->symbol, &count);
		break;
	default:
		break;
	}
	if (f->nwant + g_ncall + 1 > f->cap) {
		fprintf(stderr, "mp diff flow: more than %u reports\n", f->cap);
		return -1;
	}
	const uint32_t first = f->nwant;
	for (uint32_t i = 0; i < g_ncall; i++) {
		struct shmex_report *w = &f->want[f->nwant++];
		sx_report_from_order(&g_call[i], w);
		w->time = 0; /* the engine clock: real time in the daemon */
	}
	if (q->op == D_MASS && rc == 0) {
		struct shmex_report *m = &f->want[f->nwant++];
		memset(m, 0, sizeof *m);
		m->kind = SHMEX_RPT_MASS_CANCEL;
		m->user = q->user;
		m->symbol = q->symbol;
		m->last_qty = count;
		m->seq = shmex_exchange_seq(f->ex);
	} else if (f->nwant == first) {
		diff_reject(q, sx_reason_of(rc, &ack), &f->want[f->nwant++]);
	}
	for (uint32_t i = first; i < f->nwant; i++) {
		struct shmex_report *w = &f->want[i];
		w->request_no = request_no;
		f->kinds[w->kind & 7]++;
		f->trades += w->kind == SHMEX_RPT_ORDER && w->what == SHMEX_EV_TRADE;
		f->no_funds += w->reason == SHMEX_R_NO_FUNDS;
	}
	f->want[f->nwant - 1].flags = SHMEX_RPTF_DONE;
	return 0;
}

int mp_diff_flow_run(struct mp_diff_flow *f, const struct mp_diff_flow_opts *o)
{
	memset(f, 0, sizeof *f);
	g_rng = o->seed ? o->seed : UINT64_C(0xD1FFD1FF);
	f->cap = MP_DIFF_MAX_REPORTS;
	f->req = calloc(o->requests, sizeof *f->req);
	f->want = calloc(f->cap, sizeof *f->want);
	f->first = calloc((size_t)o->requests + 1, sizeof *f->first);
	if (!f->req || !f->want || !f->first || diff_world(f, o) != 0) {
		fprintf(stderr, "mp diff flow: cannot set up the exchange\n");
		return -1;
	}
	uint64_t cid = 0;
	for (uint32_t i = 0; i < o->requests; i++) {
		diff_make(f, o, &f->req[i], &cid);
		f->first[i] = f->nwant;
		if (diff_apply(f, &f->req[i], i + 1) != 0)
			return -1;
	}
	f->first[o->requests] = f->nwant;
	char msg[256];
	if (shmex_exchange_check(f->ex, msg, sizeof msg) != 0) {
		fprintf(stderr, "mp diff flow: the exchange's check fails: %s\n", msg);
		return -1;
	}
	return 0;
}

void mp_diff_flow_free(struct mp_diff_flow *f)
{
	shmex_exchange_destroy(f->ex);
	free(f->req);
	free(f->want);
	free(f->first);
	memset(f, 0, sizeof *f);
}
