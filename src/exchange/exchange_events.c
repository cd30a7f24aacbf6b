/*
 * Applying the books' events: reservations, settlement of fills, releases,
 * order status and history. Each book event is one exchange event: it takes
 * the next sequence number, and every ledger entry and report it causes
 * carries that number.
 *
 * Settlement rounds once per order on cumulative totals (exchange_internal.h,
 * struct sx_order): a fill moves the difference between the order's rounded
 * totals after and before it. So the buyer has always paid exactly
 * ceil(value + fee) of everything it bought, the seller received exactly
 * floor(value - fee), and the fee account holds the rest, which is never
 * less than the exact fees (>= 0 since maker + taker >= 0).
 */
#include "exchange_internal.h"

static void sx_order_fault(struct shmex_exchange *ex, const char *what, uint64_t id)
{
	sx_fault(ex, "seq %llu: %s (order %llu)", (unsigned long long)ex->cur_seq, what,
		 (unsigned long long)id);
}

static inline uint32_t sx_lock_asset(const struct sx_symbol *s, const struct sx_order *o)
{
	return o->side == SHMEX_BUY ? s->p.quote : s->p.base;
}

/* Locks (delta > 0) or releases (delta < 0) for @o. */
static void sx_adjust(struct shmex_exchange *ex, const struct sx_symbol *s, struct sx_order *o,
		      int64_t delta)
{
	if (delta == 0)
		return;
	int rc = sx_move(ex, o->user, sx_lock_asset(s, o), -delta, delta,
			 delta > 0 ? SHMEX_LC_ORDER_LOCK : SHMEX_LC_RELEASE, o->id, 0);
	if (rc != 0) {
		sx_order_fault(ex, delta > 0 ? "lock refused" : "release refused", o->id);
		return;
	}
	o->reserved += delta;
}

/* Sets @o's reservation to what its remaining quantity at its price needs:
 * after a fill (release the surplus), a reduce or an amend. A budget market
 * buy keeps its budget until it ends. */
static void sx_rereserve(struct shmex_exchange *ex, const struct sx_symbol *s, struct sx_order *o)
{
	int64_t need;

	if (o->budget_mode)
		return;
	if (o->side == SHMEX_SELL) {
		need = o->remaining * s->p.lot_size; /* <= qty * lot, checked at entry */
	} else if (sx_buy_reserve(s, o->wrem, o->price, o->remaining, &need) != 0) {
		sx_order_fault(ex, "reservation overflow", o->id);
		return;
	}
	sx_adjust(ex, s, o, need - o->reserved);
}

/* The order is done: release what it still holds, leave the live set. */
static void sx_finish(struct shmex_exchange *ex, struct sx_symbol *s, struct sx_order *o)
{
	sx_adjust(ex, s, o, -o->reserved);
	o->state = SX_OS_ENDED;
	o->parked = 0; /* an ended stop waits for nothing */
	sx_user_unlink(ex, o);
	ex->live_count--;
	ex->users[o->user].open_orders--;
	s->open_orders--;
	if (o->filled + o->remaining + o->cancelled != o->qty || o->remaining != 0)
		sx_order_fault(ex, "ended with filled + remaining + cancelled != qty", o->id);
}

static struct sx_order *sx_live_order(struct shmex_exchange *ex, uint64_t id)
{
	struct sx_order *o = sx_order_find(ex, id);
	if (o == NULL || o->state != SX_OS_LIVE) {
		sx_order_fault(ex, "book event for an order that is not live", id);
		return NULL;
	}
	return o;
}

static void sx_on_accepted(struct shmex_exchange *ex, struct sx_symbol *s,
			   const struct shmex_book_event *ev)
{
	struct sx_order *o = sx_order_find(ex, ev->order_id);
	if (o == NULL || o->state != SX_OS_PENDING) {
		sx_order_fault(ex, "ACCEPTED for an order not being entered", ev->order_id);
		return;
	}
	int64_t lock = o->reserved;
	o->reserved = 0;
	o->state = SX_OS_LIVE;
	o->status = SHMEX_OS_NEW;
	sx_user_link(ex, o);
	ex->live_count++;
	ex->users[o->user].open_orders++;
	s->open_orders++;
	if (o->client_id != 0) {
		sx_clid_insert(ex, o->user, o->client_id, (uint32_t)(o - ex->orders));
		o->clid_indexed = 1;
	}
	sx_adjust(ex, s, o, lock);
	sx_report(ex, o, SHMEX_EV_ACCEPTED, SHMEX_R_NONE, o->price, o->qty);
}

static void sx_on_rejected(struct shmex_exchange *ex, const struct shmex_book_event *ev)
{
	struct sx_order *o = sx_order_find(ex, ev->order_id);
	if (o != NULL && o->state == SX_OS_PENDING) {
		/* A new order the book refused (post-only cross, book full):
		 * nothing was locked yet. */
		o->state = SX_OS_ENDED;
		o->status = SHMEX_OS_REJECTED;
		o->reason = ev->reason;
		o->reserved = 0;
		o->cancelled = o->remaining;
		o->remaining = 0;
		sx_report(ex, o, SHMEX_EV_REJECTED, ev->reason, ev->price, ev->qty);
		return;
	}
	ex->cmd_reason = ev->reason; /* a refused amend or cancel: nothing changed */
}

static void sx_on_end(struct shmex_exchange *ex, struct sx_symbol *s,
		      const struct shmex_book_event *ev)
{
	struct sx_order *o = sx_live_order(ex, ev->order_id);
	if (o == NULL)
		return;
	if (ev->qty != o->remaining)
		sx_order_fault(ex, "end quantity differs from remaining", o->id);
	o->cancelled += ev->qty;
	o->remaining -= ev->qty;
	o->status = ev->type == SHMEX_EV_EXPIRED ? SHMEX_OS_EXPIRED : SHMEX_OS_CANCELLED;
	o->reason = ev->reason;
	sx_finish(ex, s, o);
	sx_report(ex, o, ev->type, ev->reason, o->price, ev->qty);
}

static void sx_on_reduced(struct shmex_exchange *ex, struct sx_symbol *s,
			  const struct shmex_book_event *ev)
{
	struct sx_order *o = sx_live_order(ex, ev->order_id);
	if (o == NULL)
		return;
	o->remaining -= ev->qty;
	o->qty -= ev->qty; /* an amend down changes the order's quantity */
	if (o->remaining != ev->remaining)
		sx_order_fault(ex, "remaining differs from the book after a reduce", o->id);
	sx_rereserve(ex, s, o);
	sx_report(ex, o, SHMEX_EV_REDUCED, SHMEX_R_NONE, o->price, ev->qty);
}

static void sx_on_amended(struct shmex_exchange *ex, struct sx_symbol *s,
			  const struct shmex_book_event *ev)
{
	struct sx_order *o = sx_live_order(ex, ev->order_id);
	if (o == NULL)
		return;
	o->qty += ev->qty - o->remaining;
	o->remaining = ev->qty;
	o->price = ev->price;
	/* Before any trade of the re-entered order: lock more (checked by
	 * shmex_exchange_amend) or release. */
	sx_rereserve(ex, s, o);
	sx_report(ex, o, SHMEX_EV_AMENDED, SHMEX_R_NONE, o->price, ev->qty);
}

static void sx_on_info(struct shmex_exchange *ex, const struct shmex_book_event *ev)
{
	struct sx_order *o = sx_live_order(ex, ev->order_id);
	if (o == NULL)
		return;
	if (ev->type == SHMEX_EV_RESTED)
		return; /* changes no status: not part of the history */
	o->parked = ev->type == SHMEX_EV_PARKED;
	sx_report(ex, o, ev->type, SHMEX_R_NONE, ev->price, ev->qty);
}

static void sx_on_trade(struct shmex_exchange *ex, struct sx_symbol *s,
			const struct shmex_book_event *ev)
{
	struct sx_order *t = sx_live_order(ex, ev->order_id);
	struct sx_order *m = sx_live_order(ex, ev->maker_id);
	if (t == NULL || m == NULL)
		return;
	const int64_t q = ev->qty, p = ev->price;
	const int taker_buys = t->side == SHMEX_BUY;
	struct sx_order *b = taker_buys ? t : m, *sl = taker_buys ? m : t;
	const int32_t rb = taker_buys ? s->p.taker_fee_ppm : s->p.maker_fee_ppm;
	const int32_t rs = taker_buys ? s->p.maker_fee_ppm : s->p.taker_fee_ppm;
	const shmex_i128 n = (shmex_i128)p * q;
	const uint64_t trade_id = ++ex->next_trade_id;
	int64_t paid, b_gross, got, s_gross, base;

	if (sx_accrue(s, b, n, rb, &paid, &b_gross) != 0 ||
	    sx_accrue(s, sl, n, rs, &got, &s_gross) != 0 ||
	    __builtin_mul_overflow(q, s->p.lot_size, &base)) {
		sx_order_fault(ex, "settlement overflow", t->id);
		return;
	}
	/* Buyer's locked quote pays value and fee; seller's locked base goes
	 * to the buyer; the seller gets value less fee; the fee account the
	 * difference (fees, less rebates, plus rounding). */
	if (paid > b->reserved)
		sx_order_fault(ex, "fill costs more than the buy order reserved", b->id);
	if (sx_move(ex, b->user, s->p.quote, 0, -paid, SHMEX_LC_TRADE, b->id, trade_id) != 0 ||
	    sx_move(ex, sl->user, s->p.base, 0, -base, SHMEX_LC_TRADE, sl->id, trade_id) != 0 ||
	    sx_move(ex, b->user, s->p.base, base, 0, SHMEX_LC_TRADE, b->id, trade_id) != 0 ||
	    sx_move(ex, sl->user, s->p.quote, got, 0, SHMEX_LC_TRADE, sl->id, trade_id) != 0 ||
	    sx_move(ex, SHMEX_FEE_ACCOUNT, s->p.quote, paid - got, 0, SHMEX_LC_FEE, 0, trade_id) != 0)
		sx_order_fault(ex, "trade balance move refused", t->id);
	b->reserved -= paid;
	sl->reserved -= base;

	t->filled += q;
	t->remaining -= q;
	m->filled += q;
	m->remaining -= q;
	t->trades++;
	m->trades++;
	if (t->remaining != ev->remaining)
		sx_order_fault(ex, "taker remaining differs from the book", t->id);
	if ((m->remaining == 0) != ((ev->flags & SHMEX_EVF_MAKER_DONE) != 0))
		sx_order_fault(ex, "maker remaining differs from the book", m->id);
	t->status = t->remaining == 0 ? SHMEX_OS_FILLED : SHMEX_OS_PARTIALLY_FILLED;
	m->status = m->remaining == 0 ? SHMEX_OS_FILLED : SHMEX_OS_PARTIALLY_FILLED;

	/* Ended orders release everything; a live buyer releases the surplus
	 * a better price (or rounding) left in its reservation, at once. */
	if (m->remaining == 0)
		sx_finish(ex, s, m);
	else
		sx_rereserve(ex, s, m);
	if (t->remaining == 0)
		sx_finish(ex, s, t);
	else
		sx_rereserve(ex, s, t);

	sx_report_trade(ex, t, trade_id, m->id, SHMEX_LIQ_TAKER, p, q, taker_buys ? paid : got,
			taker_buys ? paid - b_gross : s_gross - got);
	sx_report_trade(ex, m, trade_id, t->id, SHMEX_LIQ_MAKER, p, q, taker_buys ? got : paid,
			taker_buys ? s_gross - got : paid - b_gross);
}

void sx_book_sink(void *ctx, const struct shmex_book_event *ev)
{
	struct sx_symbol *s = ctx;
	struct shmex_exchange *ex = s->ex;

	sx_next_seq(ex);
	switch (ev->type) {
	case SHMEX_EV_ACCEPTED:
		sx_on_accepted(ex, s, ev);
		break;
	case SHMEX_EV_TRADE:
		sx_on_trade(ex, s, ev);
		break;
	case SHMEX_EV_RESTED:
	case SHMEX_EV_PARKED:
	case SHMEX_EV_TRIGGERED:
		sx_on_info(ex, ev);
		break;
	case SHMEX_EV_CANCELLED:
	case SHMEX_EV_EXPIRED:
	case SHMEX_EV_KILLED:
		sx_on_end(ex, s, ev);
		break;
	case SHMEX_EV_REJECTED:
		sx_on_rejected(ex, ev);
		break;
	case SHMEX_EV_REDUCED:
		sx_on_reduced(ex, s, ev);
		break;
	case SHMEX_EV_AMENDED:
		sx_on_amended(ex, s, ev);
		break;
	default:
		sx_fault(ex, "seq %llu: unknown book event type %u", (unsigned long long)ex->cur_seq,
			 ev->type);
		break;
	}
}
