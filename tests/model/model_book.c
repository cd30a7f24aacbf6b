/*
 * Model order book: the matching contract of docs/MATCHING.md written as
 * plainly as possible, to check the fast book (src/book.c) against.
 *
 * Representation: one array of live orders (resting and parked), unordered;
 * every question ("best maker", "orders of a level", "orders of an owner")
 * is a linear scan, and an order that must be respected ("acceptance order",
 * "queue order") comes from sorting on a sequence number. Nothing is cached:
 * levels, best prices and level totals are computed from the orders each
 * time, so they cannot disagree with them.
 *
 * Interpretations where docs/MATCHING.md and include/shmex/book.h leave a
 * detail open (the fast book must agree, or one of the two must change):
 *
 *  1. Event fields not named by the doc: maker_id / maker_owner / flags are 0
 *     except on TRADE; `owner` is the order's owner field as submitted, even
 *     without SHMEX_OF_OWNER (that flag only governs STP and mass cancel);
 *     `price` is the order's limit price, 0 for market types (MARKET,
 *     STOP_MARKET, TAKE_PROFIT_MARKET), except TRIGGERED, which carries the
 *     trigger price. CANCELLED / EXPIRED / KILLED: qty = the quantity that
 *     ended (hidden included), remaining 0. PARKED / TRIGGERED / RESTED:
 *     qty = remaining = the order's remaining.
 *  2. REJECTED of a submit echoes the request: side, owner, price and qty as
 *     given (raw, even when invalid), remaining 0. REJECTED of cancel: only
 *     order_id. Of reduce: order_id and qty = by. Of amend: order_id,
 *     price = new_price, qty = new_qty, and side / owner of the order when the
 *     id was found (parked stop, post-only cross), remaining 0.
 *  3. EXPIRED events carry reason SHMEX_R_EXPIRED; a GTD order refused at
 *     submit because expire_at <= now is REJECTED(EXPIRED). The book clock
 *     starts at 0. Other non-REJECTED events carry reason NONE unless the doc
 *     names one.
 *  4. Every new order, IOC / FOK / market included, needs a free order slot
 *     (validation step 7) even if it will never rest.
 *  5. In the matching loop the STP check on a maker comes before the market
 *     budget check (an STP cancel uses no budget), and a fill cut to
 *     floor(budget / price) leaves the taker facing the same maker, whose next
 *     cap is 0: KILLED(BUDGET).
 *  6. A triggered order's FOK check and KILLED(FOK) use its remaining quantity
 *     (it may have been reduced while parked).
 *  7. Levels: one per (side, price) with resting orders; level capacity counts
 *     levels of both sides. Parked stops use an order slot but no level.
 *  8. A replenished iceberg keeps its acceptance number (only an amend that
 *     loses priority gives a new one); it only moves to the back of its queue.
 *  9. Amend that loses priority: AMENDED, then matching exactly as a new order
 *     (so RESTED follows when it rests), then triggers. Same price and same
 *     quantity: AMENDED only.
 * 10. Reduce of a parked stop changes its remaining only (it has no
 *     displayed part; order lookup shows displayed 0 while parked).
 * 11. A triggered order keeps its id, owner, acceptance number, tif, stp,
 *     flags and iceberg peak; it matches as LIMIT (price) or MARKET. Its
 *     lookup `type` after triggering is not compared by the test (the model
 *     keeps the submitted type; the fast book reports LIMIT / MARKET).
 * 12. Amend of a post-only order at the same price with a larger quantity
 *     needs no cross check: a resting order's own price never crosses.
 */
#include "model_book.h"

#include <stdlib.h>
#include <string.h>

struct model_order {
	uint64_t id, owner;
	int64_t price;     /* limit price, 0 for market types */
	int64_t trigger;   /* stop / take-profit trigger */
	int64_t expire_at; /* GTD only */
	int64_t peak;      /* iceberg display_qty, 0 = none */
	int64_t remaining; /* hidden included */
	int64_t displayed; /* resting only */
	uint64_t seq;      /* acceptance order */
	uint64_t qtime;    /* position in its level's queue: lower = earlier */
	uint8_t side, type, tif, stp;
	uint32_t flags;
	int parked;
};

struct model_book {
	struct model_order *live; /* resting and parked orders, unordered */
	uint32_t n, max_orders, max_levels;
	uint32_t max_matches; /* 0 = unlimited */
	shmex_book_sink_fn sink;
	void *ctx;
	uint64_t next_seq, next_qtime;
	int64_t now;
	int has_last;
	int64_t last;
	int traded_since_check;
	int64_t lo, hi; /* lowest / highest trade price since the last trigger check */
};

/* ---- small helpers --------------------------------------------------- */

static int is_market_type(uint8_t type)
{
	return type == SHMEX_MARKET || type == SHMEX_STOP_MARKET || type == SHMEX_TAKE_PROFIT_MARKET;
}

static int is_stop_type(uint8_t type)
{
	return type >= SHMEX_STOP_LIMIT && type <= SHMEX_TAKE_PROFIT_MARKET;
}

static int has_owner(const struct model_order *o)
{
	return (o->flags & SHMEX_OF_OWNER) != 0;
}

static void emit(struct model_book *b, uint16_t type, uint16_t reason, const struct model_order *o,
		 int64_t price, int64_t qty, int64_t remaining)
{
	struct shmex_book_event ev;
	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.reason = reason;
	ev.side = o->side;
	ev.order_id = o->id;
	ev.owner = o->owner;
	ev.price = price;
	ev.qty = qty;
	ev.remaining = remaining;
	b->sink(b->ctx, &ev);
}

static void emit_reject(struct model_book *b, uint16_t reason, uint64_t id, uint8_t side,
			uint64_t owner, int64_t price, int64_t qty)
{
	struct shmex_book_event ev;
	memset(&ev, 0, sizeof ev);
	ev.type = SHMEX_EV_REJECTED;
	ev.reason = reason;
	ev.side = side;
	ev.order_id = id;
	ev.owner = owner;
	ev.price = price;
	ev.qty = qty;
	b->sink(b->ctx, &ev);
}

static int find(const struct model_book *b, uint64_t id)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (b->live[i].id == id)
			return (int)i;
	return -1;
}

static void remove_at(struct model_book *b, int i)
{
	b->live[i] = b->live[b->n - 1];
	b->n--;
}

/* Ends live order i (cancel, expiry, STP): event, then gone. */
static void end_order(struct model_book *b, int i, uint16_t type, uint16_t reason)
{
	struct model_order o = b->live[i];
	remove_at(b, i);
	emit(b, type, reason, &o, o.price, o.remaining, 0);
}

static int is_resting(const struct model_order *o)
{
	return !o->parked;
}

/* Whether a buy (side 0) price a is better than b. */
static int better(int side, int64_t a, int64_t b)
{
	return side == SHMEX_BUY ? a > b : a < b;
}

static int cmp_seq(const void *pa, const void *pb)
{
	const struct model_order *a = pa, *b = pb;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_expiry(const void *pa, const void *pb)
{
	const struct model_order *a = pa, *b = pb;
	if (a->expire_at != b->expire_at)
		return a->expire_at < b->expire_at ? -1 : 1;
	return cmp_seq(pa, pb);
}

/* Bids: higher price first; asks: lower price first; then queue order. */
static int cmp_bid_queue(const void *pa, const void *pb)
{
	const struct model_order *a = pa, *b = pb;
	if (a->price != b->price)
		return a->price > b->price ? -1 : 1;
	return a->qtime < b->qtime ? -1 : a->qtime > b->qtime;
}

static int cmp_ask_queue(const void *pa, const void *pb)
{
	const struct model_order *a = pa, *b = pb;
	if (a->price != b->price)
		return a->price < b->price ? -1 : 1;
	return a->qtime < b->qtime ? -1 : a->qtime > b->qtime;
}

/* Resting orders of @side, copied and sorted in matching order; *n set. */
static struct model_order *sorted_side(const struct model_book *b, int side, uint32_t *n)
{
	struct model_order *v = malloc(sizeof *v * (b->n ? b->n : 1));
	if (!v)
		abort();
	uint32_t k = 0;
	for (uint32_t i = 0; i < b->n; i++)
		if (is_resting(&b->live[i]) && b->live[i].side == side)
			v[k++] = b->live[i];
	qsort(v, k, sizeof *v, side == SHMEX_BUY ? cmp_bid_queue : cmp_ask_queue);
	*n = k;
	return v;
}

static int level_exists(const struct model_book *b, int side, int64_t price)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (is_resting(&b->live[i]) && b->live[i].side == side && b->live[i].price == price)
			return 1;
	return 0;
}

/* Levels of both sides: the distinct (side, price) among resting orders. */
static uint32_t levels_total(const struct model_book *b)
{
	return model_book_level_count(b, SHMEX_BUY) + model_book_level_count(b, SHMEX_SELL);
}

/* Whether an incoming order of @side with limit @price (market: any)
 * may trade with a resting order priced @maker_price. */
static int crosses(const struct model_order *o, int64_t maker_price)
{
	if (is_market_type(o->type))
		return 1;
	return o->side == SHMEX_BUY ? maker_price <= o->price : maker_price >= o->price;
}

/* Index of the first resting order the incoming @o would meet, or -1. */
static int best_maker(const struct model_book *b, const struct model_order *o)
{
	int best = -1;
	int mside = o->side ^ 1;
	for (uint32_t i = 0; i < b->n; i++) {
		const struct model_order *m = &b->live[i];
		if (!is_resting(m) || m->side != mside || !crosses(o, m->price))
			continue;
		if (best < 0 || better(mside, m->price, b->live[best].price) ||
		    (m->price == b->live[best].price && m->qtime < b->live[best].qtime))
			best = (int)i;
	}
	return best;
}

/* STP applies between incoming @o and resting @m. */
static int stp_hits(const struct model_order *o, const struct model_order *m)
{
	return has_owner(o) && o->stp != SHMEX_STP_NONE && has_owner(m) && m->owner == o->owner;
}

/* ---- matching -------------------------------------------------------- */

/* FOK: can @o fill whole, walking the book as matching would? */
static int fok_fillable(const struct model_book *b, const struct model_order *o)
{
	uint32_t n;
	struct model_order *v = sorted_side(b, o->side ^ 1, &n);
	shmex_u128 sum = 0;
	const shmex_u128 want = (shmex_u128)o->remaining;
	uint32_t i = 0;
	int ok = 0;
	while (i < n && crosses(o, v[i].price)) {
		/* one level: v[i .. j) */
		uint32_t j = i;
		while (j < n && v[j].price == v[i].price)
			j++;
		int blocked = 0;
		shmex_u128 ahead = 0; /* displayed ahead of a blocking order */
		shmex_u128 all = 0;   /* whole quantity of the level */
		for (uint32_t k = i; k < j; k++) {
			if (stp_hits(o, &v[k])) {
				if (o->stp == SHMEX_STP_CANCEL_OLDEST)
					continue;
				blocked = 1;
				break;
			}
			ahead += (shmex_u128)v[k].displayed;
			all += (shmex_u128)v[k].remaining;
		}
		sum += blocked ? ahead : all;
		if (sum >= want) {
			ok = 1;
			break;
		}
		if (blocked)
			break;
		i = j;
	}
	free(v);
	return ok;
}

static void match_and_rest(struct model_book *b, struct model_order *o, shmex_u128 budget);

/* What a dry run of a FOK under max_matches saw. */
struct dry_run {
	int64_t filled;
	int hit_limit;
};

static void dry_run_sink(void *ctx, const struct shmex_book_event *ev)
{
	struct dry_run *d = ctx;
	if (ev->type == SHMEX_EV_TRADE)
		d->filled += ev->qty;
	else if (ev->type == SHMEX_EV_KILLED && ev->reason == SHMEX_R_MATCH_LIMIT)
		d->hit_limit = 1;
}

/* FOK under max_matches, the obvious way: run the order as an IOC on a
 * copy of the book and look at what happened. */
static uint16_t fok_dry_run(const struct model_book *b, const struct model_order *o)
{
	struct model_book copy = *b;
	struct dry_run d = {0, 0};
	copy.live = malloc(sizeof *copy.live * ((size_t)b->max_orders + 1));
	memcpy(copy.live, b->live, sizeof *copy.live * b->n);
	copy.sink = dry_run_sink;
	copy.ctx = &d;
	struct model_order t = *o;
	t.tif = SHMEX_IOC;
	match_and_rest(&copy, &t, 0);
	free(copy.live);
	if (d.filled == o->remaining)
		return SHMEX_R_NONE;
	return d.hit_limit ? SHMEX_R_MATCH_LIMIT : SHMEX_R_FOK;
}

static void note_trade(struct model_book *b, int64_t price)
{
	b->has_last = 1;
	b->last = price;
	if (!b->traded_since_check) {
		b->traded_since_check = 1;
		b->lo = b->hi = price;
	} else {
		if (price < b->lo)
			b->lo = price;
		if (price > b->hi)
			b->hi = price;
	}
}

/*
 * Matches incoming @o (not in the live array) against the book, then ends
 * or rests its remainder. @budget: max_notional of a market order, 0 = none.
 */
static void match_and_rest(struct model_book *b, struct model_order *o, shmex_u128 budget)
{
	const int use_budget = budget > 0;
	shmex_u128 left = budget;

	if (o->tif == SHMEX_FOK) {
		uint16_t why = b->max_matches ? fok_dry_run(b, o)
					      : (fok_fillable(b, o) ? SHMEX_R_NONE : SHMEX_R_FOK);
		if (why != SHMEX_R_NONE) {
			emit(b, SHMEX_EV_KILLED, why, o, o->price, o->remaining, 0);
			return;
		}
	}
	uint32_t matches = 0;
	while (o->remaining > 0) {
		int mi = best_maker(b, o);
		if (mi < 0)
			break;
		if (b->max_matches && matches++ == b->max_matches) {
			emit(b, SHMEX_EV_KILLED, SHMEX_R_MATCH_LIMIT, o, o->price, o->remaining, 0);
			return;
		}
		struct model_order *m = &b->live[mi];
		if (stp_hits(o, m)) {
			if (o->stp == SHMEX_STP_CANCEL_OLDEST) {
				end_order(b, mi, SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE);
				continue;
			}
			if (o->stp == SHMEX_STP_CANCEL_BOTH)
				end_order(b, mi, SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE);
			emit(b, SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE, o, o->price, o->remaining, 0);
			o->remaining = 0;
			return;
		}
		int64_t fill = o->remaining < m->displayed ? o->remaining : m->displayed;
		if (use_budget) {
			shmex_u128 cap = left / (shmex_u128)m->price;
			if (cap == 0) {
				emit(b, SHMEX_EV_KILLED, SHMEX_R_BUDGET, o, o->price, o->remaining, 0);
				o->remaining = 0;
				return;
			}
			if (cap < (shmex_u128)fill)
				fill = (int64_t)cap;
			left -= (shmex_u128)fill * (shmex_u128)m->price;
		}
		o->remaining -= fill;
		m->remaining -= fill;
		m->displayed -= fill;

		struct shmex_book_event ev;
		memset(&ev, 0, sizeof ev);
		ev.type = SHMEX_EV_TRADE;
		ev.side = o->side;
		ev.order_id = o->id;
		ev.maker_id = m->id;
		ev.owner = o->owner;
		ev.maker_owner = m->owner;
		ev.price = m->price;
		ev.qty = fill;
		ev.remaining = o->remaining;
		if (m->remaining == 0) {
			ev.flags = SHMEX_EVF_MAKER_DONE;
			remove_at(b, mi);
		} else if (m->displayed == 0) {
			ev.flags = SHMEX_EVF_REPLENISHED;
			m->displayed = m->peak < m->remaining ? m->peak : m->remaining;
			m->qtime = b->next_qtime++;
		}
		note_trade(b, ev.price);
		b->sink(b->ctx, &ev);
	}
	if (o->remaining == 0)
		return;
	if (is_market_type(o->type) || o->tif == SHMEX_IOC || o->tif == SHMEX_FOK) {
		emit(b, SHMEX_EV_KILLED, SHMEX_R_IOC, o, o->price, o->remaining, 0);
		return;
	}
	/* With max_levels >= max_orders a level is always free (each level holds
	 * a resting order and this one holds a slot): skip the costly count. */
	if (b->max_levels < b->max_orders && !level_exists(b, o->side, o->price) &&
	    levels_total(b) >= b->max_levels) {
		emit(b, SHMEX_EV_KILLED, SHMEX_R_BOOK_FULL, o, o->price, o->remaining, 0);
		return;
	}
	o->parked = 0;
	o->displayed = (o->peak > 0 && o->peak < o->remaining) ? o->peak : o->remaining;
	o->qtime = b->next_qtime++;
	b->live[b->n++] = *o;
	emit(b, SHMEX_EV_RESTED, SHMEX_R_NONE, o, o->price, o->remaining, o->remaining);
}

/* ---- stops ----------------------------------------------------------- */

static int stop_fires_at(const struct model_order *o, int64_t price)
{
	const int stop = o->type == SHMEX_STOP_LIMIT || o->type == SHMEX_STOP_MARKET;
	const int rising = stop == (o->side == SHMEX_BUY); /* buy stop, sell take-profit */
	return rising ? price >= o->trigger : price <= o->trigger;
}

/* Activates a stop: TRIGGERED, then matched as LIMIT or MARKET. */
static void run_triggered(struct model_book *b, struct model_order *o)
{
	emit(b, SHMEX_EV_TRIGGERED, SHMEX_R_NONE, o, o->trigger, o->remaining, o->remaining);
	o->parked = 0;
	o->displayed = 0;
	match_and_rest(b, o, 0);
}

/* After a command's matching: trigger, in FIFO, until nothing more fires. */
static void run_triggers(struct model_book *b)
{
	struct model_order *fifo = NULL;
	uint32_t head = 0, tail = 0, cap = 0;
	for (;;) {
		if (b->traded_since_check) {
			b->traded_since_check = 0;
			uint32_t first = tail;
			for (uint32_t i = 0; i < b->n;) {
				struct model_order *o = &b->live[i];
				if (o->parked && (stop_fires_at(o, b->lo) || stop_fires_at(o, b->hi))) {
					if (tail == cap) {
						cap = cap ? 2 * cap : 16;
						fifo = realloc(fifo, sizeof *fifo * cap);
						if (!fifo)
							abort();
					}
					fifo[tail++] = *o;
					remove_at(b, (int)i);
				} else {
					i++;
				}
			}
			if (tail - first > 1)
				qsort(fifo + first, tail - first, sizeof *fifo, cmp_seq);
		}
		if (head == tail)
			break;
		struct model_order o = fifo[head++];
		run_triggered(b, &o);
	}
	free(fifo);
	b->traded_since_check = 0;
}

/* ---- commands -------------------------------------------------------- */

struct model_book *model_book_create_levels(uint32_t max_orders, uint32_t max_levels,
					    shmex_book_sink_fn sink, void *ctx)
{
	return model_book_create_ex(max_orders, max_levels, 0, sink, ctx);
}

struct model_book *model_book_create_ex(uint32_t max_orders, uint32_t max_levels,
					uint32_t max_matches, shmex_book_sink_fn sink, void *ctx)
{
	if (max_orders == 0)
		return NULL;
	struct model_book *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	/* one spare slot: an order in flight (amend, trigger) re-enters the array */
	b->live = malloc(sizeof *b->live * ((size_t)max_orders + 1));
	if (!b->live) {
		free(b);
		return NULL;
	}
	b->max_orders = max_orders;
	b->max_levels = max_levels ? max_levels : max_orders;
	b->max_matches = max_matches;
	b->sink = sink;
	b->ctx = ctx;
	b->next_seq = 1;
	b->next_qtime = 1;
	return b;
}

struct model_book *model_book_create(uint32_t max_orders, shmex_book_sink_fn sink, void *ctx)
{
	return model_book_create_levels(max_orders, 0, sink, ctx);
}

void model_book_destroy(struct model_book *b)
{
	if (!b)
		return;
	free(b->live);
	free(b);
}

static int reason_error(uint16_t reason)
{
	switch (reason) {
	case SHMEX_R_DUPLICATE_ID: return SHMEX_E_DUPLICATE;
	case SHMEX_R_BAD_OPTION: return SHMEX_E_BAD_OPTION;
	case SHMEX_R_BAD_QTY: return SHMEX_E_BAD_QTY;
	case SHMEX_R_BAD_PRICE: return SHMEX_E_BAD_PRICE;
	case SHMEX_R_EXPIRED: return SHMEX_E_EXPIRED;
	case SHMEX_R_BOOK_FULL: return SHMEX_E_FULL;
	case SHMEX_R_POST_ONLY: return SHMEX_E_WOULD_CROSS;
	case SHMEX_R_UNKNOWN_ORDER: return SHMEX_E_UNKNOWN_ORDER;
	default: return SHMEX_E_INVAL;
	}
}

/* Whether a post-only order of @side at @price would trade now. */
static int post_only_crosses(const struct model_book *b, int side, int64_t price)
{
	int64_t best;
	if (!model_book_best(b, side ^ 1, &best))
		return 0;
	return side == SHMEX_BUY ? price >= best : price <= best;
}

/* docs/MATCHING.md "Validation of a new order": first failing check wins. */
static uint16_t validate(const struct model_book *b, const struct shmex_order *p)
{
	if (find(b, p->id) >= 0)
		return SHMEX_R_DUPLICATE_ID;
	if (p->side > SHMEX_SELL || p->type > SHMEX_TAKE_PROFIT_MARKET || p->tif > SHMEX_GTD ||
	    p->stp > SHMEX_STP_CANCEL_BOTH ||
	    (p->flags & ~(uint32_t)(SHMEX_OF_OWNER | SHMEX_OF_POST_ONLY)))
		return SHMEX_R_BAD_OPTION;
	const int market = is_market_type(p->type);
	const int gtc_gtd = p->tif == SHMEX_GTC || p->tif == SHMEX_GTD;
	const int ioc_fok = p->tif == SHMEX_IOC || p->tif == SHMEX_FOK;
	const int post = (p->flags & SHMEX_OF_POST_ONLY) != 0;
	if (market && gtc_gtd)
		return SHMEX_R_BAD_OPTION;
	if (post && (ioc_fok || p->type != SHMEX_LIMIT))
		return SHMEX_R_BAD_OPTION;
	if (p->display_qty > 0 && (ioc_fok || market))
		return SHMEX_R_BAD_OPTION;
	if (p->stp != SHMEX_STP_NONE && !(p->flags & SHMEX_OF_OWNER))
		return SHMEX_R_BAD_OPTION;
	if (p->max_notional != 0 &&
	    (p->type != SHMEX_MARKET || p->tif == SHMEX_FOK || p->max_notional < 0))
		return SHMEX_R_BAD_OPTION;
	if (p->qty <= 0 || p->display_qty < 0)
		return SHMEX_R_BAD_QTY;
	if (!market && p->price <= 0)
		return SHMEX_R_BAD_PRICE;
	if (is_stop_type(p->type) && p->trigger_price <= 0)
		return SHMEX_R_BAD_PRICE;
	if (p->tif == SHMEX_GTD && p->expire_at <= b->now)
		return SHMEX_R_EXPIRED;
	if (b->n >= b->max_orders)
		return SHMEX_R_BOOK_FULL;
	if (post && post_only_crosses(b, p->side, p->price))
		return SHMEX_R_POST_ONLY;
	return SHMEX_R_NONE;
}

int model_book_submit(struct model_book *b, const struct shmex_order *p)
{
	uint16_t reason = validate(b, p);
	if (reason != SHMEX_R_NONE) {
		emit_reject(b, reason, p->id, p->side, p->owner, p->price, p->qty);
		return reason_error(reason);
	}
	struct model_order o;
	memset(&o, 0, sizeof o);
	o.id = p->id;
	o.owner = p->owner;
	o.price = is_market_type(p->type) ? 0 : p->price;
	o.trigger = p->trigger_price;
	o.expire_at = p->tif == SHMEX_GTD ? p->expire_at : 0;
	o.peak = p->display_qty;
	o.remaining = p->qty;
	o.seq = b->next_seq++;
	o.side = p->side;
	o.type = p->type;
	o.tif = p->tif;
	o.stp = p->stp;
	o.flags = p->flags;
	emit(b, SHMEX_EV_ACCEPTED, SHMEX_R_NONE, &o, o.price, p->qty, p->qty);

	if (is_stop_type(o.type)) {
		if (b->has_last && stop_fires_at(&o, b->last)) {
			run_triggered(b, &o);
		} else {
			o.parked = 1;
			b->live[b->n++] = o;
			emit(b, SHMEX_EV_PARKED, SHMEX_R_NONE, &o, o.price, o.remaining, o.remaining);
		}
	} else {
		shmex_u128 budget = p->max_notional > 0 ? (shmex_u128)p->max_notional : 0;
		match_and_rest(b, &o, budget);
	}
	run_triggers(b);
	return 0;
}

int model_book_cancel(struct model_book *b, uint64_t id)
{
	int i = find(b, id);
	if (i < 0) {
		emit_reject(b, SHMEX_R_UNKNOWN_ORDER, id, 0, 0, 0, 0);
		return SHMEX_E_UNKNOWN_ORDER;
	}
	end_order(b, i, SHMEX_EV_CANCELLED, SHMEX_R_CANCEL_REQUEST);
	return 0;
}

/* Takes 0 < by < remaining from live order i, hidden quantity first. */
static void shrink(struct model_book *b, int i, int64_t by)
{
	struct model_order *o = &b->live[i];
	o->remaining -= by;
	if (!o->parked && o->displayed > o->remaining)
		o->displayed = o->remaining;
	emit(b, SHMEX_EV_REDUCED, SHMEX_R_NONE, o, o->price, by, o->remaining);
}

int model_book_reduce(struct model_book *b, uint64_t id, int64_t by)
{
	if (by <= 0) {
		emit_reject(b, SHMEX_R_BAD_QTY, id, 0, 0, 0, by);
		return SHMEX_E_BAD_QTY;
	}
	int i = find(b, id);
	if (i < 0) {
		emit_reject(b, SHMEX_R_UNKNOWN_ORDER, id, 0, 0, 0, by);
		return SHMEX_E_UNKNOWN_ORDER;
	}
	if (by >= b->live[i].remaining)
		end_order(b, i, SHMEX_EV_CANCELLED, SHMEX_R_REDUCED_TO_ZERO);
	else
		shrink(b, i, by);
	return 0;
}

int model_book_amend(struct model_book *b, uint64_t id, int64_t new_price, int64_t new_qty)
{
	uint16_t reason = SHMEX_R_NONE;
	int i = -1;
	if (new_qty <= 0)
		reason = SHMEX_R_BAD_QTY;
	else if (new_price <= 0)
		reason = SHMEX_R_BAD_PRICE;
	else if ((i = find(b, id)) < 0)
		reason = SHMEX_R_UNKNOWN_ORDER;
	else if (b->live[i].parked)
		reason = SHMEX_R_BAD_OPTION;
	if (reason != SHMEX_R_NONE) {
		emit_reject(b, reason, id, i >= 0 ? b->live[i].side : 0,
			    i >= 0 ? b->live[i].owner : 0, new_price, new_qty);
		return reason_error(reason);
	}
	struct model_order *o = &b->live[i];
	if (new_price == o->price && new_qty < o->remaining) {
		shrink(b, i, o->remaining - new_qty);
		return 0;
	}
	if (new_price == o->price && new_qty == o->remaining) {
		emit(b, SHMEX_EV_AMENDED, SHMEX_R_NONE, o, o->price, new_qty, new_qty);
		return 0;
	}
	if ((o->flags & SHMEX_OF_POST_ONLY) && post_only_crosses(b, o->side, new_price)) {
		emit_reject(b, SHMEX_R_POST_ONLY, id, o->side, o->owner, new_price, new_qty);
		return SHMEX_E_WOULD_CROSS;
	}
	struct model_order in = *o;
	remove_at(b, i);
	in.price = new_price;
	in.remaining = new_qty;
	in.displayed = 0;
	in.seq = b->next_seq++;
	emit(b, SHMEX_EV_AMENDED, SHMEX_R_NONE, &in, new_price, new_qty, new_qty);
	match_and_rest(b, &in, 0);
	run_triggers(b);
	return 0;
}

uint32_t model_book_cancel_owner(struct model_book *b, uint64_t owner)
{
	struct model_order *v = malloc(sizeof *v * (b->n ? b->n : 1));
	if (!v)
		abort();
	uint32_t k = 0;
	for (uint32_t i = 0; i < b->n; i++)
		if (has_owner(&b->live[i]) && b->live[i].owner == owner)
			v[k++] = b->live[i];
	qsort(v, k, sizeof *v, cmp_seq);
	for (uint32_t j = 0; j < k; j++)
		end_order(b, find(b, v[j].id), SHMEX_EV_CANCELLED, SHMEX_R_MASS_CANCEL);
	free(v);
	return k;
}

uint32_t model_book_advance(struct model_book *b, int64_t now)
{
	if (now < b->now)
		return 0;
	b->now = now;
	struct model_order *v = malloc(sizeof *v * (b->n ? b->n : 1));
	if (!v)
		abort();
	uint32_t k = 0;
	for (uint32_t i = 0; i < b->n; i++)
		if (b->live[i].tif == SHMEX_GTD && b->live[i].expire_at <= now)
			v[k++] = b->live[i];
	qsort(v, k, sizeof *v, cmp_expiry);
	for (uint32_t j = 0; j < k; j++)
		end_order(b, find(b, v[j].id), SHMEX_EV_EXPIRED, SHMEX_R_EXPIRED);
	free(v);
	return k;
}

/* ---- queries --------------------------------------------------------- */

int model_book_best(const struct model_book *b, int side, int64_t *price)
{
	int found = 0;
	int64_t best = 0;
	for (uint32_t i = 0; i < b->n; i++) {
		const struct model_order *o = &b->live[i];
		if (!is_resting(o) || o->side != side)
			continue;
		if (!found || better(side, o->price, best))
			best = o->price;
		found = 1;
	}
	if (found)
		*price = best;
	return found;
}

uint32_t model_book_depth(const struct model_book *b, int side, struct shmex_level_info *out,
			  uint32_t max)
{
	uint32_t n;
	struct model_order *v = sorted_side(b, side, &n);
	uint32_t levels = 0;
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i;
		shmex_u128 qty = 0;
		while (j < n && v[j].price == v[i].price)
			qty += (shmex_u128)v[j++].displayed;
		if (levels == max)
			break;
		memset(&out[levels], 0, sizeof out[levels]);
		out[levels].price = v[i].price;
		out[levels].orders = j - i;
		out[levels].qty = qty;
		levels++;
		i = j;
	}
	free(v);
	return levels;
}

uint32_t model_book_level_count(const struct model_book *b, int side)
{
	uint32_t n;
	struct model_order *v = sorted_side(b, side, &n);
	uint32_t levels = 0;
	for (uint32_t i = 0; i < n; i++)
		if (i == 0 || v[i].price != v[i - 1].price)
			levels++;
	free(v);
	return levels;
}

uint32_t model_book_order_count(const struct model_book *b)
{
	return b->n;
}

static void info_of(const struct model_order *o, struct shmex_order_info *out)
{
	memset(out, 0, sizeof *out);
	out->id = o->id;
	out->owner = o->owner;
	out->price = o->price;
	out->remaining = o->remaining;
	out->displayed = o->parked ? 0 : o->displayed;
	out->trigger_price = o->trigger;
	out->expire_at = o->expire_at;
	out->side = o->side;
	out->type = o->type;
	out->tif = o->tif;
	out->parked = (uint8_t)o->parked;
	out->flags = o->flags;
}

int model_book_order(const struct model_book *b, uint64_t id, struct shmex_order_info *out)
{
	int i = find(b, id);
	if (i < 0)
		return SHMEX_E_UNKNOWN_ORDER;
	info_of(&b->live[i], out);
	return 0;
}

int model_book_last_price(const struct model_book *b, int64_t *price)
{
	if (b->has_last)
		*price = b->last;
	return b->has_last;
}

void model_book_walk(const struct model_book *b, int side,
		     void (*fn)(void *ctx, const struct shmex_order_info *o), void *ctx)
{
	uint32_t n;
	struct model_order *v = sorted_side(b, side, &n);
	for (uint32_t i = 0; i < n; i++) {
		struct shmex_order_info info;
		info_of(&v[i], &info);
		fn(ctx, &info);
	}
	free(v);
}

uint64_t model_book_live_id(const struct model_book *b, uint32_t i)
{
	return i < b->n ? b->live[i].id : 0;
}
