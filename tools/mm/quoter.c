/* One symbol's quotes around a walking reference price (quoter.h). */
#include "quoter.h"

#include <string.h>

void sx_quoter_init(struct sx_quoter *q, const struct sx_market *m, uint16_t index,
		    const struct sx_quoter_params *p, int64_t start_price)
{
	memset(q, 0, sizeof *q);
	q->m = m;
	q->index = index;
	q->p = *p;
	q->anchor = q->ref = q->ref_lo = q->ref_hi = start_price;
	for (int k = 0; k < p->levels; k++) {
		q->slot[2 * k].side = SHMEX_BUY;
		q->slot[2 * k].level = (uint16_t)k;
		q->slot[2 * k + 1].side = SHMEX_SELL;
		q->slot[2 * k + 1].level = (uint16_t)k;
	}
}

void sx_quoter_set_anchor(struct sx_quoter *q, int64_t price)
{
	if (price > 0)
		q->anchor = price;
}

/* Where slot @p sl should quote now (ticks; <= 0: nowhere). */
static int64_t sx_target(const struct sx_quoter *q, const struct sx_slot *sl)
{
	const int64_t away = (q->p.spread + 1) / 2 + (int64_t)sl->level * q->p.spread;
	return sl->side == SHMEX_BUY ? q->ref - away : q->ref + away;
}

static void sx_walk(struct sx_quoter *q, struct sx_rng *rng)
{
	const int64_t w = q->p.walk;
	if (w > 0)
		q->ref += (int64_t)sx_rng_below(rng, (uint64_t)(2 * w + 1)) - w;
	/* Mean reversion: a random walk alone would drift the two makers apart
	 * (and across each other); this keeps each within a few steps of the
	 * shared anchor. */
	const int64_t d = q->ref - q->anchor;
	const uint64_t dist = d < 0 ? (uint64_t)-d : (uint64_t)d;
	if (d != 0 && sx_rng_below(rng, (uint64_t)q->p.revert) < dist)
		q->ref += d > 0 ? -1 : 1;
	/* Stay a whole ladder away from zero. */
	const int64_t floor_ref = (q->p.spread + 1) / 2 + (int64_t)q->p.levels * q->p.spread + 1;
	if (q->ref < floor_ref)
		q->ref = floor_ref;
	if (q->ref < q->ref_lo)
		q->ref_lo = q->ref;
	if (q->ref > q->ref_hi)
		q->ref_hi = q->ref;
}

int sx_quoter_step(struct sx_quoter *q, struct sx_rng *rng, struct sx_sender *s)
{
	int sent = 0;
	sx_walk(q, rng);
	q->steps++;
	for (int i = 0; i < 2 * q->p.levels; i++) {
		struct sx_slot *sl = &q->slot[i];
		const int64_t price = sx_target(q, sl);
		if (sl->busy_req != 0 || price <= 0)
			continue;
		struct sx_pending_entry e = { .market = q->index, .slot = (uint32_t)i };
		int rc;
		if (sl->state == SX_SLOT_EMPTY) {
			const struct shmex_order_request o = {
				.user = q->p.user,
				.symbol = q->m->id,
				.price = price,
				.qty = q->p.size,
				.side = sl->side,
				.type = SHMEX_LIMIT,
				.tif = SHMEX_GTC,
				.flags = SHMEX_OF_POST_ONLY, /* a maker never takes */
			};
			e.kind = SX_REQ_NEW;
			rc = sx_sender_new(s, &e, &o);
			if (rc == 0) {
				sl->state = SX_SLOT_OPENING;
				sl->order_id = 0;
				sl->price = price;
				sl->remaining = q->p.size;
			}
		} else if (sl->state == SX_SLOT_LIVE && sl->price != price) {
			/* Refills the level to full size as it moves. */
			e.kind = SX_REQ_AMEND;
			rc = sx_sender_amend(s, &e, q->p.user, sl->order_id, price, q->p.size);
		} else {
			continue;
		}
		if (rc < 0)
			return rc;
		if (rc == 1)
			break; /* full: the next step tries again */
		sl->busy_req = e.request_no;
		sent++;
	}
	return sent;
}

/* The slot report @p r is about, or NULL. */
static struct sx_slot *sx_slot_of(struct sx_quoter *q, const struct shmex_report *r,
				  const struct sx_pending_entry *e)
{
	if (e != NULL && e->kind != SX_REQ_MASS_CANCEL && e->slot < 2u * (uint32_t)q->p.levels) {
		struct sx_slot *sl = &q->slot[e->slot];
		/* A NEW's first report names the order; anything else must match it. */
		if (sl->busy_req == e->request_no &&
		    (sl->order_id == r->order_id ||
		     (sl->state == SX_SLOT_OPENING && e->kind == SX_REQ_NEW)))
			return sl;
	}
	if (r->order_id == 0)
		return NULL;
	for (int i = 0; i < 2 * q->p.levels; i++)
		if (q->slot[i].state != SX_SLOT_EMPTY && q->slot[i].order_id == r->order_id)
			return &q->slot[i];
	return NULL;
}

static void sx_count_trade(struct sx_quoter *q, const struct shmex_report *r)
{
	struct sx_quote_stats *st = &q->st;
	st->fills++;
	if (r->liquidity == SHMEX_LIQ_MAKER)
		st->maker_fills++;
	if (r->side == SHMEX_BUY) {
		st->bought += r->last_qty;
		st->paid += r->quote_amount;
	} else {
		st->sold += r->last_qty;
		st->received += r->quote_amount;
	}
	st->fees += r->fee;
}

void sx_quoter_on_report(struct sx_quoter *q, const struct shmex_report *r,
			 const struct sx_pending_entry *e)
{
	if (r->kind == SHMEX_RPT_REJECT) {
		/* Refused before the exchange: a NEW leaves its level empty. */
		q->st.rejects++;
		q->st.refused_by[r->reason < SX_REASONS ? r->reason : 0]++;
		if (e != NULL && e->kind == SX_REQ_NEW && e->slot < 2u * (uint32_t)q->p.levels &&
		    q->slot[e->slot].busy_req == e->request_no)
			q->slot[e->slot].state = SX_SLOT_EMPTY;
		return;
	}
	if (r->kind != SHMEX_RPT_ORDER || r->user != q->p.user)
		return;
	if (r->what == SHMEX_EV_TRADE)
		sx_count_trade(q, r);
	if (r->what == SHMEX_EV_REJECTED) {
		q->st.rejects++;
		q->st.refused_by[r->reason < SX_REASONS ? r->reason : 0]++;
	}
	struct sx_slot *sl = sx_slot_of(q, r, e);
	if (sl == NULL)
		return;
	switch (r->what) {
	case SHMEX_EV_ACCEPTED:
		sl->state = SX_SLOT_LIVE;
		sl->order_id = r->order_id;
		sl->price = r->price;
		sl->remaining = r->remaining;
		break;
	case SHMEX_EV_REJECTED:
		/* A refused NEW never lived; a refused amend leaves the order as it was. */
		if (sl->state == SX_SLOT_OPENING)
			sl->state = SX_SLOT_EMPTY;
		return;
	case SHMEX_EV_TRADE:
		sl->remaining = r->remaining;
		break;
	case SHMEX_EV_AMENDED:
	case SHMEX_EV_REDUCED:
		sl->price = r->price;
		sl->remaining = r->remaining;
		break;
	default:
		break;
	}
	if (r->status == SHMEX_OS_FILLED || r->status == SHMEX_OS_CANCELLED ||
	    r->status == SHMEX_OS_EXPIRED || r->status == SHMEX_OS_REJECTED) {
		if (r->status != SHMEX_OS_FILLED && (e == NULL || e->kind != SX_REQ_MASS_CANCEL))
			q->st.ended_by_engine++;
		sl->state = SX_SLOT_EMPTY;
		sl->order_id = 0;
	}
}

void sx_quoter_on_done(struct sx_quoter *q, const struct sx_pending_entry *e)
{
	if (e->kind == SX_REQ_MASS_CANCEL || e->slot >= 2u * (uint32_t)q->p.levels)
		return;
	struct sx_slot *sl = &q->slot[e->slot];
	if (sl->busy_req == e->request_no)
		sl->busy_req = 0;
	/* A NEW answered without ACCEPTED or REJECTED (it cannot be, but the
	 * level must not stay stuck). */
	if (sl->state == SX_SLOT_OPENING)
		sl->state = SX_SLOT_EMPTY;
}

int sx_quoter_live(const struct sx_quoter *q)
{
	int n = 0;
	for (int i = 0; i < 2 * q->p.levels; i++)
		n += q->slot[i].state != SX_SLOT_EMPTY;
	return n;
}
