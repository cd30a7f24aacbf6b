/*
 * The ledger (balance movements) and the order reports (status changes):
 * two fixed-capacity rings, each entry also handed to an optional sink as it
 * is made. An order's reports are chained (each names the previous one of
 * the same order), so its history can be read back while the ring holds it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exchange_internal.h"

_Static_assert(sizeof(struct shmex_ledger_entry) == 64, "ledger entry: one cache line");
_Static_assert(sizeof(struct shmex_order_report) == 128, "order report: two cache lines");

/* Ring slots are written a few entries ahead of the reader's interest;
 * prefetching them for write hides the cold line's read-for-ownership. */
#define SX_PREFETCH_AHEAD 4u

void sx_ledger_commit(struct shmex_exchange *ex, const struct shmex_ledger_entry *e)
{
	ex->ledger_count++;
	if (ex->ledger_cap)
		__builtin_prefetch(&ex->ledger[(ex->ledger_count + SX_PREFETCH_AHEAD) &
					       (ex->ledger_cap - 1)], 1);
	if (ex->cfg.ledger_sink)
		ex->cfg.ledger_sink(ex->cfg.ledger_ctx, e);
}

static inline struct shmex_order_report *sx_report_slot(struct shmex_exchange *ex,
							struct shmex_order_report *spare)
{
	return ex->report_cap ? &ex->reports[ex->report_count & (ex->report_cap - 1)] : spare;
}

/* Fills the order's part of @r (a ring slot) and commits it. */
static void sx_report_push(struct shmex_exchange *ex, struct sx_order *o,
			   struct shmex_order_report *r)
{
	r->seq = ex->cur_seq;
	r->time = ex->now;
	r->order_id = o->id;
	r->client_id = o->client_id;
	r->user = o->user;
	r->symbol = o->symbol;
	r->status = o->status;
	r->side = o->side;
	r->filled = o->filled;
	r->remaining = o->remaining;
	r->qty = o->qty;
	r->prev = o->last_report;
	r->pad = 0;
	o->updated = ex->now;
	o->last_report = ++ex->report_count;
	if (ex->report_cap) {
		const char *ahead = (const char *)&ex->reports[(ex->report_count + SX_PREFETCH_AHEAD) &
							       (ex->report_cap - 1)];
		__builtin_prefetch(ahead, 1);
		__builtin_prefetch(ahead + SX_CACHE_LINE, 1);
	}
	if (ex->cfg.report_sink)
		ex->cfg.report_sink(ex->cfg.report_ctx, r);
}

void sx_report(struct shmex_exchange *ex, struct sx_order *o, uint16_t what, uint16_t reason,
	       int64_t price, int64_t last_qty)
{
	struct shmex_order_report spare, *r = sx_report_slot(ex, &spare);
	r->what = what;
	r->reason = reason;
	r->price = price;
	r->last_qty = last_qty;
	r->trade_id = 0;
	r->counter_id = 0;
	r->liquidity = SHMEX_LIQ_NONE;
	r->quote_amount = 0;
	r->fee = 0;
	sx_report_push(ex, o, r);
}

void sx_report_trade(struct shmex_exchange *ex, struct sx_order *o, uint64_t trade_id,
		     uint64_t counter_id, int liquidity, int64_t price, int64_t qty,
		     int64_t quote_amount, int64_t fee)
{
	struct shmex_order_report spare, *r = sx_report_slot(ex, &spare);
	r->what = SHMEX_EV_TRADE;
	r->reason = SHMEX_R_NONE;
	r->trade_id = trade_id;
	r->counter_id = counter_id;
	r->liquidity = (uint8_t)liquidity;
	r->price = price;
	r->last_qty = qty;
	r->quote_amount = quote_amount;
	r->fee = fee;
	sx_report_push(ex, o, r);
}

void sx_fault(struct shmex_exchange *ex, const char *fmt, ...)
{
	va_list ap;

	if (ex->fault)
		return; /* keep the first */
	ex->fault = 1;
	va_start(ap, fmt);
	vsnprintf(ex->fault_msg, sizeof ex->fault_msg, fmt, ap);
	va_end(ap);
}

uint64_t shmex_exchange_ledger_count(const struct shmex_exchange *ex)
{
	return ex->ledger_count;
}

/* Whether ring index @i (of @count made, @cap kept) is still held. */
static int sx_ring_holds(uint64_t i, uint64_t count, uint32_t cap)
{
	return i < count && cap != 0 && count - i <= cap;
}

int shmex_exchange_ledger_read(const struct shmex_exchange *ex, uint64_t index,
			       struct shmex_ledger_entry *out)
{
	if (!sx_ring_holds(index, ex->ledger_count, ex->ledger_cap))
		return SHMEX_E_INVAL;
	*out = ex->ledger[index % ex->ledger_cap];
	return 0;
}

uint64_t shmex_exchange_report_count(const struct shmex_exchange *ex)
{
	return ex->report_count;
}

int shmex_exchange_report_read(const struct shmex_exchange *ex, uint64_t index,
			       struct shmex_order_report *out)
{
	if (!sx_ring_holds(index, ex->report_count, ex->report_cap))
		return SHMEX_E_INVAL;
	*out = ex->reports[index % ex->report_cap];
	return 0;
}

/* The report at chain link @link (index + 1) if it is still held and is
 * @order_id's; NULL otherwise. */
static const struct shmex_order_report *sx_report_at(const struct shmex_exchange *ex,
						     uint64_t link, uint64_t order_id)
{
	if (link == 0 || !sx_ring_holds(link - 1, ex->report_count, ex->report_cap))
		return NULL;
	const struct shmex_order_report *r = &ex->reports[(link - 1) % ex->report_cap];
	return r->order_id == order_id ? r : NULL;
}

uint32_t shmex_exchange_order_history(const struct shmex_exchange *ex, uint64_t order_id,
				      struct shmex_order_report *out, uint32_t max)
{
	const struct sx_order *o = &ex->orders[order_id & ex->order_mask];
	const struct shmex_order_report *r;
	uint32_t n = 0;

	if (o->id != order_id || o->state == SX_OS_FREE || order_id == 0 || max == 0)
		return 0;
	for (r = sx_report_at(ex, o->last_report, order_id); r; r = sx_report_at(ex, r->prev, order_id))
		n++;
	if (n > max)
		n = max;
	uint32_t k = n;
	for (r = sx_report_at(ex, o->last_report, order_id); r && k > 0;
	     r = sx_report_at(ex, r->prev, order_id))
		out[--k] = *r;
	return n;
}

const char *shmex_ledger_cause_name(int cause)
{
	switch (cause) {
	case SHMEX_LC_DEPOSIT: return "deposit";
	case SHMEX_LC_WITHDRAWAL: return "withdrawal";
	case SHMEX_LC_ORDER_LOCK: return "order lock";
	case SHMEX_LC_TRADE: return "trade";
	case SHMEX_LC_FEE: return "fee";
	case SHMEX_LC_RELEASE: return "release";
	case SHMEX_LC_TRANSFER_IN: return "transfer in";
	case SHMEX_LC_TRANSFER_OUT: return "transfer out";
	default: return "?";
	}
}

const char *shmex_order_status_name(int status)
{
	switch (status) {
	case SHMEX_OS_NEW: return "new";
	case SHMEX_OS_PARTIALLY_FILLED: return "partially filled";
	case SHMEX_OS_FILLED: return "filled";
	case SHMEX_OS_CANCELLED: return "cancelled";
	case SHMEX_OS_REJECTED: return "rejected";
	case SHMEX_OS_EXPIRED: return "expired";
	default: return "?";
	}
}
