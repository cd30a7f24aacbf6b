/*
 * The bank differential test's requests (bank_diff_flow.h). Every request
 * is one the gateway would forward (request_decode.c): users 1.., amends
 * with a price and a quantity, cancels naming an id or a client id.
 */
#include "bank_diff_flow.h"

#include <string.h>

void bd_flow_init(struct bd_flow *f, const struct bd_world *w, uint64_t seed)
{
	memset(f, 0, sizeof *f);
	f->rng = seed ? seed : 1;
	f->w = w;
}

uint64_t bd_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

/* Client id number @p k: a bijection of 64-bit words, so ids stay unique
 * per user but look random (sequential ones would never share a slot of
 * the bank's client-id routes, whose misses go to every matcher). */
static uint64_t bd_cid(uint64_t k)
{
	uint64_t x = k * UINT64_C(0x9E3779B97F4A7C15);
	x ^= x >> 29;
	x *= UINT64_C(0xBF58476D1CE4E5B9);
	x ^= x >> 32;
	return x ? x : k;
}

static uint32_t bd_below(struct bd_flow *f, uint32_t n)
{
	return (uint32_t)(bd_rand(&f->rng) % n);
}

/* A price @p steps hundredths of a percent from @p base (ticks, >= 1). */
static int64_t bd_price(uint32_t symbol, int64_t base, int64_t steps)
{
	const struct shmex_symbol_params *p = bd_world_symbol(symbol);
	const int64_t step = p && p->ref_price >= 10000 ? p->ref_price / 10000 : 1;
	const int64_t v = base + steps * step;
	return v > 0 ? v : 1;
}

static void bd_make_order(struct bd_flow *f, struct shmex_order_request *o)
{
	memset(o, 0, sizeof *o);
	o->user = 1 + bd_below(f, f->w->users);
	if (bd_below(f, 100) == 0)
		o->user = f->w->users + 1 + bd_below(f, 4); /* no such user */
	o->symbol = 1 + bd_below(f, BD_NSYMBOLS);
	if (bd_below(f, 100) == 0)
		o->symbol = BD_NSYMBOLS + 1 + bd_below(f, 3); /* no such symbol */
	const struct shmex_symbol_params *sp = bd_world_symbol(o->symbol);
	const int64_t ref = sp ? sp->ref_price : 1000;
	o->client_id = bd_below(f, 16) == 0 ? 0 : bd_cid(++f->cid);
	o->side = (uint8_t)bd_below(f, 2);
	o->qty = 1 + bd_below(f, 20);
	if (bd_below(f, 40) == 0)
		o->qty += bd_below(f, 200); /* sweeps levels */
	o->price = bd_price(o->symbol, ref, (int64_t)bd_below(f, 201) - 100);
	if (bd_below(f, 100) == 0)
		o->price = 2 * ref; /* out of the band */
	const int buy = o->side == SHMEX_BUY;
	const int64_t trig = bd_price(o->symbol, ref, (int64_t)bd_below(f, 201) - 100);
	const int64_t guard = bd_price(o->symbol, trig, buy ? 100 : -100);
	const uint32_t r = bd_below(f, 100);
	o->type = SHMEX_LIMIT;
	o->tif = SHMEX_GTC;
	if (r < 28) {
		/* plain GTC */
	} else if (r < 34) {
		o->flags = SHMEX_OF_POST_ONLY;
	} else if (r < 40) {
		o->display_qty = 1 + o->qty / 4;
	} else if (r < 44) {
		o->tif = SHMEX_GTD; /* far away: neither clock reaches it */
		o->expire_at = INT64_C(10000000000000) + bd_below(f, 1000);
	} else if (r < 52) {
		o->tif = SHMEX_IOC;
	} else if (r < 58) {
		o->tif = SHMEX_FOK;
	} else if (r < 66) {
		o->type = SHMEX_MARKET;
		o->tif = SHMEX_IOC;
		o->price = 0;
		if (buy && bd_below(f, 3) != 0)
			o->quote_budget =
				1 + (int64_t)(bd_rand(&f->rng) % (uint64_t)bd_world_budget(o->symbol));
		else if (buy || bd_below(f, 3) == 0)
			o->price = guard; /* a protection price */
	} else if (r < 70) {
		o->type = SHMEX_MARKET;
		o->tif = SHMEX_FOK;
		o->price = buy || bd_below(f, 2) ? guard : 0;
	} else if (r < 78) {
		o->type = bd_below(f, 2) ? SHMEX_STOP_LIMIT : SHMEX_TAKE_PROFIT_LIMIT;
		o->trigger_price = trig;
	} else if (r < 86) {
		o->type = bd_below(f, 2) ? SHMEX_STOP_MARKET : SHMEX_TAKE_PROFIT_MARKET;
		o->tif = bd_below(f, 4) ? SHMEX_IOC : SHMEX_GTC;
		o->trigger_price = trig;
		o->price = buy || bd_below(f, 2) ? guard : 0;
	} else if (r < 90) {
		o->tif = SHMEX_IOC;
		o->display_qty = 1 + o->qty / 3; /* no iceberg IOC: BAD_OPTION */
	}
	if (bd_below(f, 8) == 0)
		o->stp = (uint8_t)(1 + bd_below(f, 3));
}

/* A live order of a random user; 0 if that user has none. */
static uint64_t bd_pick_live(struct bd_flow *f, const struct shmex_exchange *ex,
			     struct shmex_order_state *st)
{
	static struct shmex_order_state list[64];
	const uint32_t user = 1 + bd_below(f, f->w->users);
	const int n = shmex_exchange_open_orders(ex, user, SHMEX_ALL_SYMBOLS, 0, list, 64, NULL);
	if (n <= 0)
		return 0;
	*st = list[bd_below(f, (uint32_t)n)];
	return st->order_id;
}

/* Any order the reference numbered, live or not, with its user (most of
 * the time: else another, whose cancel must fail). */
static void bd_pick_past(struct bd_flow *f, const struct shmex_exchange *ex, uint64_t max_id,
			 struct bd_req *q)
{
	q->user = 1 + bd_below(f, f->w->users);
	if (max_id == 0) {
		q->order_id = BD_JUNK_ID | bd_rand(&f->rng) % 100000;
		return;
	}
	q->order_id = 1 + bd_rand(&f->rng) % max_id;
	struct shmex_order_state st;
	if (bd_below(f, 4) != 0 && shmex_exchange_order(ex, q->order_id, &st) == 0)
		q->user = st.user;
}

static void bd_make_amend(struct bd_flow *f, const struct shmex_order_state *st, struct bd_req *q)
{
	q->op = BD_AMEND;
	q->user = st->user;
	q->order_id = st->order_id;
	const int64_t base = st->price > 0 ? st->price : bd_world_symbol(st->symbol)->ref_price;
	q->price = base;
	if (bd_below(f, 3) != 0)
		q->price = bd_price(st->symbol, base, (int64_t)bd_below(f, 5) - 2);
	q->qty = 1 + bd_below(f, 20);
	if (bd_below(f, 3) == 0 && st->remaining > 1) {
		q->price = st->price > 0 ? st->price : q->price;
		q->qty = st->remaining - 1; /* reduce: keeps priority */
	}
}

static void bd_make_refuse(struct bd_flow *f, struct bd_req *q)
{
	static const uint16_t reasons[] = { SHMEX_R_BAD_REQUEST, SHMEX_R_NO_GRANT, SHMEX_R_BAD_QTY,
					    SHMEX_R_BAD_PRICE, SHMEX_R_UNKNOWN_USER };
	q->op = BD_REFUSE;
	q->reason = reasons[bd_below(f, 5)];
	q->refuse_submit = (uint8_t)bd_below(f, 2);
	if (q->refuse_submit) {
		bd_make_order(f, &q->o);
		return;
	}
	q->user = 1 + bd_below(f, f->w->users);
	q->symbol = bd_below(f, BD_NSYMBOLS + 1);
	q->client_id = bd_below(f, 1000);
}

void bd_flow_next(struct bd_flow *f, const struct shmex_exchange *ex, uint64_t max_id,
		  struct bd_req *q)
{
	memset(q, 0, sizeof *q);
	q->session = (uint16_t)bd_below(f, BD_SESSIONS);
	const uint32_t r = bd_below(f, 100);
	struct shmex_order_state st;
	if (r >= 48 && r < 76 && bd_pick_live(f, ex, &st) != 0) {
		if (r < 60 || (r < 64 && st.client_id == 0)) {
			q->op = BD_CANCEL;
			q->user = bd_below(f, 10) == 0 ? 1 + bd_below(f, f->w->users) : st.user;
			q->order_id = st.order_id;
		} else if (r < 64) {
			q->op = BD_CANCEL_CID;
			q->user = st.user;
			q->client_id = st.client_id;
		} else {
			bd_make_amend(f, &st, q);
		}
		return;
	}
	if (r >= 76 && r < 79) {
		q->op = BD_MASS;
		q->user = 1 + bd_below(f, f->w->users);
		if (bd_below(f, 50) == 0)
			q->user = f->w->users + 1;
		const uint32_t s = bd_below(f, 20);
		q->symbol = s < 9 ? 0 : s < 19 ? 1 + bd_below(f, BD_NSYMBOLS) : BD_NSYMBOLS + 2;
	} else if (r >= 79 && r < 82) {
		q->op = BD_PING;
		q->client_id = ++f->tag;
	} else if (r >= 82 && r < 85) {
		q->op = BD_CANCEL;
		bd_pick_past(f, ex, max_id, q);
	} else if (r >= 85 && r < 87) {
		q->op = BD_CANCEL_CID;
		q->user = 1 + bd_below(f, f->w->users);
		q->client_id = bd_cid(1 + bd_rand(&f->rng) % (f->cid + 10));
	} else if (r >= 87 && r < 89) {
		q->op = BD_AMEND;
		bd_pick_past(f, ex, max_id, q);
		q->price = 1 + bd_below(f, 1000);
		q->qty = 1 + bd_below(f, 20);
		if (shmex_exchange_order(ex, q->order_id, &st) == 0 && st.price > 0)
			q->price = st.price; /* its own symbol's price, so the band passes */
	} else if (r >= 89 && r < 91) {
		q->op = r == 89 ? BD_CANCEL : BD_AMEND;
		q->user = 1 + bd_below(f, f->w->users);
		q->order_id = BD_JUNK_ID | bd_rand(&f->rng) % 100000;
		q->price = 100 + bd_below(f, 100);
		q->qty = 1 + bd_below(f, 5);
	} else if (r == 91) {
		bd_make_refuse(f, q);
	} else {
		q->op = BD_SUBMIT;
		bd_make_order(f, &q->o);
	}
}
