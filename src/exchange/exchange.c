/*
 * The exchange's commands: creation, order entry with its checks and funds
 * reservation, cancel, amend, mass cancel, the clock; order records and the
 * client-id index. What the books then do (accept, trade, rest, end) comes
 * back through sx_book_sink() in exchange_events.c, which applies it.
 */
#include <stdlib.h>
#include <string.h>

#include "exchange_internal.h"
#include "sx_hash_seed.h"

/* ---- creation -------------------------------------------------------- */

static uint32_t sx_pow2_at_least(uint64_t n)
{
	uint64_t p = 2;
	while (p < n)
		p <<= 1;
	return (uint32_t)p;
}

int shmex_exchange_create(const struct shmex_exchange_config *cfg, struct shmex_exchange **out)
{
	if (cfg == NULL || out == NULL || cfg->max_assets == 0 || cfg->max_symbols == 0 ||
	    cfg->max_users == 0 || cfg->max_orders < 2 || cfg->max_orders > (1u << 28) ||
	    cfg->max_assets > 65535u || cfg->max_symbols > (1u << 20) ||
	    cfg->max_users > (1u << 24) || (uint64_t)(cfg->max_users + 1) * cfg->max_assets > (1u << 28) ||
	    cfg->start_time < 0 || /* the books' clocks start at 0 and never go back */
	    cfg->id_base > (UINT64_C(1) << 62))
		return SHMEX_E_INVAL;
	struct shmex_exchange *ex = calloc(1, sizeof *ex);
	if (ex == NULL)
		return SHMEX_E_NOMEM;
	ex->cfg = *cfg;
	ex->max_assets = cfg->max_assets;
	ex->max_symbols = cfg->max_symbols;
	ex->max_users = cfg->max_users;
	uint32_t n_orders = sx_pow2_at_least(cfg->max_orders);
	if (ex->cfg.book_orders == 0)
		ex->cfg.book_orders = n_orders / 2;
	ex->order_mask = n_orders - 1;
	/* Load <= 1/2: short probe runs, mostly within one line, and 16
	 * bytes per record (16 MiB at 2^20 records: within a large L3). */
	ex->clid_mask = 2 * n_orders - 1;
	ex->clid_shift = (uint32_t)(64 - __builtin_ctzll((uint64_t)ex->clid_mask + 1));
	ex->clid_seed = sx_hash_seed(ex);
	ex->next_order_id = cfg->id_base + 1;
	ex->next_trade_id = cfg->id_base;
	ex->shared_seq = cfg->shared_seq;
	ex->now = cfg->start_time;
	ex->next_expiry = INT64_MAX;
	if (cfg->ledger_capacity > (1u << 30) || cfg->report_capacity > (1u << 30)) {
		free(ex);
		return SHMEX_E_INVAL;
	}
	ex->ledger_cap = cfg->ledger_capacity ? sx_pow2_at_least(cfg->ledger_capacity) : 0;
	ex->report_cap = cfg->report_capacity ? sx_pow2_at_least(cfg->report_capacity) : 0;

	ex->assets = calloc((size_t)ex->max_assets + 1, sizeof *ex->assets);
	ex->symbols = calloc((size_t)ex->max_symbols + 1, sizeof *ex->symbols);
	ex->users = calloc((size_t)ex->max_users + 1, sizeof *ex->users);
	ex->accounts = calloc(((size_t)ex->max_users + 1) * ex->max_assets, sizeof *ex->accounts);
	ex->orders = aligned_alloc(SX_CACHE_LINE, (size_t)n_orders * sizeof *ex->orders);
	if (ex->orders)
		memset(ex->orders, 0, (size_t)n_orders * sizeof *ex->orders);
	/* Written now, not calloc'ed: a fresh zero page would fault on the
	 * order path the first time a client id hashes there. */
	ex->clids = malloc(((size_t)ex->clid_mask + 1) * sizeof *ex->clids);
	if (ex->clids)
		memset(ex->clids, 0, ((size_t)ex->clid_mask + 1) * sizeof *ex->clids);
	ex->ledger = ex->ledger_cap ? aligned_alloc(SX_CACHE_LINE, ex->ledger_cap * sizeof *ex->ledger)
				    : NULL;
	ex->reports = ex->report_cap ? aligned_alloc(SX_CACHE_LINE,
						     ex->report_cap * sizeof *ex->reports)
				     : NULL;
	if (!ex->assets || !ex->symbols || !ex->users || !ex->accounts || !ex->orders ||
	    !ex->clids || (ex->ledger_cap && !ex->ledger) || (ex->report_cap && !ex->reports)) {
		shmex_exchange_destroy(ex);
		return SHMEX_E_NOMEM;
	}
	ex->users[SHMEX_FEE_ACCOUNT].used = 1;
	ex->users[SHMEX_FEE_ACCOUNT].head = ex->users[SHMEX_FEE_ACCOUNT].tail = SX_NONE;
	*out = ex;
	return 0;
}

void shmex_exchange_destroy(struct shmex_exchange *ex)
{
	if (ex == NULL)
		return;
	if (ex->symbols)
		for (uint32_t s = 1; s <= ex->n_symbols; s++)
			shmex_book_destroy(ex->symbols[s].book);
	free(ex->assets);
	free(ex->symbols);
	free(ex->users);
	free(ex->accounts);
	free(ex->orders);
	free(ex->clids);
	free(ex->ledger);
	free(ex->reports);
	free(ex);
}

int64_t shmex_exchange_now(const struct shmex_exchange *ex)
{
	return ex->now;
}

uint64_t shmex_exchange_seq(const struct shmex_exchange *ex)
{
	return ex->seq;
}

/* ---- client ids ------------------------------------------------------- */

/* Hash of (user, client id): Fibonacci hashing, whose good bits are the
 * top ones. The home slot is the top log2(slots) bits (clid_shift = 64 -
 * log2(slots)), the tag the top 32, so an entry's home follows from its
 * tag. Clients choose their client ids: the key is xored with a secret
 * seed first, else ids computed with the multiplier's inverse would all
 * share one home and every insert and lookup would walk their whole run
 * (test_clid_index_resists_chosen_ids). */
static inline uint64_t sx_clid_hash(const struct shmex_exchange *ex, uint32_t user,
				    uint64_t client_id)
{
	return (client_id ^ ((uint64_t)user << 40) ^ user ^ ex->clid_seed) *
	       UINT64_C(0x9e3779b97f4a7c15);
}

static inline uint32_t sx_clid_home(const struct shmex_exchange *ex, uint32_t user,
				    uint64_t client_id)
{
	return (uint32_t)(sx_clid_hash(ex, user, client_id) >> ex->clid_shift);
}

/* Position of (user, client id) in the index, or of the empty word where
 * its probe ends (*found 0). */
static uint32_t sx_clid_locate(const struct shmex_exchange *ex, uint32_t user, uint64_t client_id,
			       int *found)
{
	const uint64_t h = sx_clid_hash(ex, user, client_id);
	const uint32_t tag = (uint32_t)(h >> 32);
	for (uint32_t i = (uint32_t)(h >> ex->clid_shift);; i = (i + 1) & ex->clid_mask) {
		const uint64_t e = ex->clids[i];
		if (e == 0) {
			*found = 0;
			return i;
		}
		if (SX_CLID_TAG(e) == tag) {
			const struct sx_order *o = &ex->orders[SX_CLID_SLOT(e)];
			if (o->user == user && o->client_id == client_id) {
				*found = 1;
				return i;
			}
		}
	}
}

int sx_clid_find(const struct shmex_exchange *ex, uint32_t user, uint64_t client_id,
		 uint32_t *slot)
{
	int found;
	const uint32_t i = sx_clid_locate(ex, user, client_id, &found);
	if (!found)
		return SHMEX_E_UNKNOWN_ORDER;
	if (slot)
		*slot = SX_CLID_SLOT(ex->clids[i]);
	return 0;
}

void sx_clid_insert(struct shmex_exchange *ex, uint32_t user, uint64_t client_id, uint32_t slot)
{
	/* At most one entry per order record and twice as many words as
	 * records: there is always an empty one. */
	const uint64_t h = sx_clid_hash(ex, user, client_id);
	uint32_t i = (uint32_t)(h >> ex->clid_shift);
	while (ex->clids[i] != 0)
		i = (i + 1) & ex->clid_mask;
	ex->clids[i] = (h & UINT64_C(0xffffffff00000000)) | ((uint64_t)slot + 1);
	ex->clid_count++;
}

void sx_clid_erase(struct shmex_exchange *ex, uint32_t user, uint64_t client_id)
{
	const uint32_t m = ex->clid_mask, tag_shift = ex->clid_shift - 32;
	int found;
	uint32_t i = sx_clid_locate(ex, user, client_id, &found);
	if (!found)
		return;
	/* Backward-shift deletion keeps every probe chain unbroken; an
	 * entry's home is the top bits of its tag. */
	for (uint32_t j = (i + 1) & m;; j = (j + 1) & m) {
		const uint64_t e = ex->clids[j];
		if (e == 0)
			break;
		const uint32_t home = SX_CLID_TAG(e) >> tag_shift;
		/* Move e into the hole at i unless its home lies cyclically in (i, j]. */
		if (((j - home) & m) >= ((j - i) & m)) {
			ex->clids[i] = e;
			i = j;
		}
	}
	ex->clids[i] = 0;
	ex->clid_count--;
}

int shmex_exchange_find_client_id(const struct shmex_exchange *ex, uint32_t user,
				  uint64_t client_id, uint64_t *order_id)
{
	uint32_t slot;
	if (user == 0 || client_id == 0 || sx_clid_find(ex, user, client_id, &slot) != 0)
		return SHMEX_E_UNKNOWN_ORDER;
	*order_id = ex->orders[slot].id;
	return 0;
}

/* ---- order records ----------------------------------------------------- */

/* A record for a new engine id, to be filled by sx_order_fill(). Ids only
 * grow; an id whose slot still holds a live order is skipped. NULL if every
 * slot is live. */
static struct sx_order *sx_order_alloc(struct shmex_exchange *ex)
{
	for (uint32_t tries = 0; tries <= ex->order_mask; tries++) {
		uint64_t id = ex->next_order_id++;
		struct sx_order *o = &ex->orders[id & ex->order_mask];
		if (o->state == SX_OS_LIVE || o->state == SX_OS_PENDING)
			continue;
		if (o->clid_indexed)
			sx_clid_erase(ex, o->user, o->client_id);
		o->id = id;
		o->state = SX_OS_FREE; /* sx_order_fill() writes the rest */
		/* The next record to hand out, and the client-id slot it will
		 * free, are far apart in memory and cold: start loading them now. */
		const struct sx_order *next = &ex->orders[ex->next_order_id & ex->order_mask];
		__builtin_prefetch(next, 1);
		__builtin_prefetch((const char *)next + SX_CACHE_LINE, 1);
		__builtin_prefetch((const char *)next + 2 * SX_CACHE_LINE, 1);
		if (next->clid_indexed)
			__builtin_prefetch(&ex->clids[sx_clid_home(ex, next->user, next->client_id)]);
		return o;
	}
	return NULL;
}

int shmex_exchange_order(const struct shmex_exchange *ex, uint64_t order_id,
			 struct shmex_order_state *out)
{
	const struct sx_order *o = &ex->orders[order_id & ex->order_mask];
	if (order_id == 0 || o->id != order_id || o->state == SX_OS_FREE)
		return SHMEX_E_UNKNOWN_ORDER;
	memset(out, 0, sizeof *out);
	out->order_id = o->id;
	out->client_id = o->client_id;
	out->user = o->user;
	out->symbol = o->symbol;
	out->side = o->side;
	out->type = o->type;
	out->tif = o->tif;
	out->stp = o->stp;
	out->status = o->status;
	out->live = o->state == SX_OS_LIVE;
	out->parked = o->parked;
	out->reason = o->reason;
	out->trades = o->trades;
	out->price = o->price;
	out->trigger_price = o->trigger;
	out->display_qty = o->budget_mode ? 0 : o->display;
	out->expire_at = o->expire_at;
	out->quote_budget = o->budget_mode ? o->budget : 0;
	out->orig_qty = o->orig_qty;
	out->qty = o->qty;
	out->filled = o->filled;
	out->remaining = o->remaining;
	out->cancelled = o->cancelled;
	out->reserved = o->reserved;
	out->quote_settled = o->settled;
	/* Both totals are kept modulo 2^64, so is their difference. */
	out->fees = (int64_t)(o->side == SHMEX_BUY ? (uint64_t)o->settled - (uint64_t)o->gross
						   : (uint64_t)o->gross - (uint64_t)o->settled);
	out->filled_notional = o->notional;
	out->created = o->created;
	out->updated = o->updated;
	return 0;
}

/* ---- order entry -------------------------------------------------------- */

static int sx_reason_code(uint16_t reason)
{
	switch (reason) {
	case SHMEX_R_NONE: return 0;
	case SHMEX_R_DUPLICATE_ID:
	case SHMEX_R_DUPLICATE_CLIENT_ID: return SHMEX_E_DUPLICATE;
	case SHMEX_R_BAD_PRICE: return SHMEX_E_BAD_PRICE;
	case SHMEX_R_BAD_QTY: return SHMEX_E_BAD_QTY;
	case SHMEX_R_BAD_OPTION: return SHMEX_E_BAD_OPTION;
	case SHMEX_R_BOOK_FULL: return SHMEX_E_FULL;
	case SHMEX_R_POST_ONLY: return SHMEX_E_WOULD_CROSS;
	case SHMEX_R_EXPIRED: return SHMEX_E_EXPIRED;
	case SHMEX_R_UNKNOWN_ORDER: return SHMEX_E_UNKNOWN_ORDER;
	case SHMEX_R_HALTED: return SHMEX_E_HALTED;
	case SHMEX_R_NO_FUNDS:
	case SHMEX_R_BUDGET: return SHMEX_E_NOFUNDS;
	case SHMEX_R_RISK:
	case SHMEX_R_PRICE_BAND:
	case SHMEX_R_MAX_OPEN_ORDERS: return SHMEX_E_RISK;
	case SHMEX_R_RATE_LIMIT: return SHMEX_E_RATE;
	case SHMEX_R_UNKNOWN_USER: return SHMEX_E_UNKNOWN_USER;
	case SHMEX_R_UNKNOWN_SYMBOL: return SHMEX_E_UNKNOWN_SYMBOL;
	case SHMEX_R_OVERFLOW: return SHMEX_E_OVERFLOW;
	default: return SHMEX_E_INVAL;
	}
}

static inline int sx_is_market(uint8_t type)
{
	return type == SHMEX_MARKET || type == SHMEX_STOP_MARKET || type == SHMEX_TAKE_PROFIT_MARKET;
}

/* What an accepted order will be: the book's order and the lock. */
struct sx_plan {
	struct shmex_order bo;
	int64_t lock;
	uint8_t budget_mode;
};

static uint16_t sx_rc_reason(int rc)
{
	return rc == SHMEX_E_OVERFLOW ? SHMEX_R_OVERFLOW : SHMEX_R_RISK;
}

/* Checks 5 to 9 of shmex_exchange_submit(); fills @plan. */
static uint16_t sx_prepare(struct shmex_exchange *ex, const struct sx_symbol *s,
			   const struct sx_user *u, const struct shmex_order_request *r,
			   struct sx_plan *plan)
{
	if (r->side > SHMEX_SELL || r->type > SHMEX_TAKE_PROFIT_MARKET || r->tif > SHMEX_GTD ||
	    r->stp > SHMEX_STP_CANCEL_BOTH ||
	    (r->flags & ~(uint32_t)(SHMEX_OF_POST_ONLY | SHMEX_OF_ENGINE_AT_LIMIT | SHMEX_OF_ENGINE_RATE)))
		return SHMEX_R_BAD_OPTION;
	const int market = sx_is_market(r->type);
	const int stop = r->type >= SHMEX_STOP_LIMIT;
	const int immediate = r->tif == SHMEX_IOC || r->tif == SHMEX_FOK;
	const int post = (r->flags & SHMEX_OF_POST_ONLY) != 0;
	if ((market && !immediate) || (post && (immediate || r->type != SHMEX_LIMIT)) ||
	    (r->display_qty > 0 && (immediate || market)))
		return SHMEX_R_BAD_OPTION;
	if (r->quote_budget != 0 &&
	    (r->type != SHMEX_MARKET || r->side != SHMEX_BUY || r->tif != SHMEX_IOC ||
	     r->quote_budget < 0 || r->price != 0))
		return SHMEX_R_BAD_OPTION;
	if (market && r->side == SHMEX_BUY && r->price == 0 && r->quote_budget == 0)
		return SHMEX_R_BAD_OPTION; /* a market buy needs a budget or a protection price */
	if (r->qty <= 0 || r->display_qty < 0 || r->qty < s->p.min_qty ||
	    (s->p.max_qty && r->qty > s->p.max_qty) || !sx_peak_ok(s, r->display_qty, r->qty))
		return SHMEX_R_BAD_QTY;
	if ((!market && r->price <= 0) || r->price < 0 || (stop && r->trigger_price <= 0))
		return SHMEX_R_BAD_PRICE;
	if (r->tif == SHMEX_GTD && r->expire_at <= ex->now)
		return SHMEX_R_EXPIRED;
	if ((r->price > 0 && !sx_band_ok(s, r->price)) || (stop && !sx_band_ok(s, r->trigger_price)))
		return SHMEX_R_PRICE_BAND;

	struct shmex_order *bo = &plan->bo;
	memset(bo, 0, sizeof *bo);
	bo->owner = r->user;
	bo->price = r->price;
	bo->qty = r->qty;
	bo->display_qty = r->display_qty;
	bo->trigger_price = stop ? r->trigger_price : 0;
	bo->expire_at = r->tif == SHMEX_GTD ? r->expire_at : 0;
	bo->side = r->side;
	bo->tif = r->tif;
	bo->stp = r->stp;
	bo->flags = SHMEX_OF_OWNER | (r->flags & SHMEX_OF_POST_ONLY);
	bo->type = r->type;
	if (market && r->price > 0) /* protection price: the limit type at that price */
		bo->type = r->type == SHMEX_MARKET ? SHMEX_LIMIT
			   : r->type == SHMEX_STOP_MARKET ? SHMEX_STOP_LIMIT : SHMEX_TAKE_PROFIT_LIMIT;
	plan->budget_mode = r->quote_budget > 0;

	int64_t base;
	int rc;
	if (__builtin_mul_overflow(r->qty, s->p.lot_size, &base))
		return SHMEX_R_OVERFLOW;
	if (s->p.max_notional) {
		uint16_t why;
		/* A sell trades at the bids if it matches on entry: any but
		 * a stop, or a stop that triggers at once. */
		if (r->side == SHMEX_BUY || r->price > 0)
			why = sx_notional_check(s, r->side,
						!stop || sx_stop_triggers_now(s, r->side, r->type,
									      r->trigger_price),
						r->price, r->qty);
		else if (r->type == SHMEX_MARKET && r->tif == SHMEX_IOC)
			why = (bo->max_notional = s->max_ticklots) > 0 ? SHMEX_R_NONE : SHMEX_R_RISK;
		else if (r->type == SHMEX_MARKET) /* FOK: at the best bid */
			why = sx_notional_check(s, r->side, 1, 0, r->qty);
		else /* stop / take-profit market: its bids are not known before it triggers */
			why = SHMEX_R_RISK;
		if (why != SHMEX_R_NONE)
			return why;
	}
	if (r->side == SHMEX_SELL) {
		plan->lock = base;
	} else if (plan->budget_mode) {
		if (s->p.max_notional && r->quote_budget > s->p.max_notional)
			return SHMEX_R_RISK;
		if (sx_budget_ticklots(s, r->quote_budget, &bo->max_notional) != 0 ||
		    bo->max_notional == 0)
			return SHMEX_R_BUDGET;
		/* A taker rebate buys more value than the budget. */
		if (s->p.max_notional && bo->max_notional > s->max_ticklots) {
			if (s->max_ticklots == 0)
				return SHMEX_R_RISK;
			bo->max_notional = s->max_ticklots;
		}
		plan->lock = r->quote_budget;
	} else {
		rc = sx_buy_reserve(s, 0, r->price, r->qty, &plan->lock);
		if (rc != 0)
			return sx_rc_reason(rc);
	}
	if ((u->max_open && u->open_orders >= u->max_open) || (r->flags & SHMEX_OF_ENGINE_AT_LIMIT))
		return SHMEX_R_MAX_OPEN_ORDERS;
	uint32_t asset = r->side == SHMEX_BUY ? s->p.quote : s->p.base;
	if (sx_account(ex, r->user, asset)->available < plan->lock)
		return SHMEX_R_NO_FUNDS;
	return SHMEX_R_NONE;
}

static void sx_ack(struct shmex_order_ack *ack, uint64_t id, uint64_t seq, uint16_t reason,
		   uint8_t status)
{
	if (ack) {
		memset(ack, 0, sizeof *ack);
		ack->order_id = id;
		ack->seq = seq;
		ack->reason = reason;
		ack->status = status;
	}
}

/* Writes every field of a fresh record (no memset: a 192-byte memset
 * becomes a slow "rep stos"). */
static void sx_order_fill(struct shmex_exchange *ex, struct sx_order *o,
			  const struct shmex_order_request *r)
{
	o->user = r->user;
	o->symbol = r->symbol;
	o->state = SX_OS_FREE;
	o->status = SHMEX_OS_NEW;
	o->side = r->side;
	o->type = r->type;
	o->tif = r->tif;
	o->stp = r->stp;
	o->book_type = r->type;
	o->parked = 0;
	o->reserved = 0;
	o->price = r->price;
	o->remaining = r->qty;
	o->filled = 0;
	o->last_report = 0;
	o->qty = r->qty;
	o->cancelled = 0;
	o->client_id = r->client_id;
	o->updated = ex->now;
	o->settled = 0;
	o->gross = 0;
	o->orig_qty = r->qty;
	o->reason = SHMEX_R_NONE;
	o->budget_mode = r->quote_budget != 0;
	o->clid_indexed = 0;
	o->trades = 0;
	o->notional = 0;
	o->wrem = 0;
	o->trigger = r->trigger_price;
	o->expire_at = r->expire_at;
	o->created = ex->now;
	if (o->budget_mode)
		o->budget = r->quote_budget;
	else
		o->display = r->display_qty;
	o->user_prev = o->user_next = SX_NONE;
}

/* A new order refused before the book: a record (if one is free) with its
 * one REJECTED report, and no balance touched. */
/* Rejects that shed load (no such user or symbol, a retry of a known
 * client id, over the rate limit) keep no record: a record would push the
 * oldest ended order, and its client id, out of the retry window of every
 * user. The others are the user's real orders and keep their history. */
static int sx_reject_keeps_record(uint16_t reason)
{
	return reason != SHMEX_R_UNKNOWN_USER && reason != SHMEX_R_UNKNOWN_SYMBOL &&
	       reason != SHMEX_R_DUPLICATE_CLIENT_ID && reason != SHMEX_R_RATE_LIMIT;
}

static int sx_reject_new(struct shmex_exchange *ex, const struct shmex_order_request *r,
			 uint16_t reason, struct shmex_order_ack *ack)
{
	sx_next_seq(ex);
	struct sx_order *o = sx_reject_keeps_record(reason) ? sx_order_alloc(ex) : NULL;
	uint64_t id = 0;
	if (o) {
		sx_order_fill(ex, o, r);
		o->state = SX_OS_ENDED;
		o->status = SHMEX_OS_REJECTED;
		o->reason = reason;
		o->cancelled = o->qty;
		o->remaining = 0;
		if (o->qty < 0) /* keep filled + remaining + cancelled == qty */
			o->qty = o->orig_qty = o->cancelled = 0;
		sx_report(ex, o, SHMEX_EV_REJECTED, reason, r->price, r->qty);
		id = o->id;
	}
	sx_ack(ack, id, ex->cur_seq, reason, SHMEX_OS_REJECTED);
	return sx_reason_code(reason);
}

int shmex_exchange_submit(struct shmex_exchange *ex, const struct shmex_order_request *req,
			  struct shmex_order_ack *ack)
{
	struct sx_user *u = sx_user_get(ex, req->user);
	struct sx_symbol *s = NULL;
	struct sx_plan plan;
	uint16_t reason;

	/* Acceptance links the order after the user's newest live one: start
	 * loading that record's link now, ahead of the checks. */
	if (u != NULL && u->tail != SX_NONE)
		__builtin_prefetch(&ex->orders[u->tail].user_next, 1);
	if (u == NULL)
		reason = SHMEX_R_UNKNOWN_USER;
	else if ((s = sx_symbol_get(ex, req->symbol)) == NULL)
		reason = SHMEX_R_UNKNOWN_SYMBOL;
	else if (req->client_id != 0 && sx_clid_find(ex, req->user, req->client_id, NULL) == 0)
		reason = SHMEX_R_DUPLICATE_CLIENT_ID;
	else if ((req->flags & SHMEX_OF_ENGINE_RATE) || !sx_rate_take(u, ex->now))
		reason = SHMEX_R_RATE_LIMIT;
	else if (s->p.status != SHMEX_SYMBOL_OPEN)
		reason = SHMEX_R_HALTED;
	else
		reason = sx_prepare(ex, s, u, req, &plan);
	if (SX_UNLIKELY(reason != SHMEX_R_NONE))
		return sx_reject_new(ex, req, reason, ack);

	struct sx_order *o = sx_order_alloc(ex);
	if (SX_UNLIKELY(o == NULL))
		return sx_reject_new(ex, req, SHMEX_R_BOOK_FULL, ack);
	sx_order_fill(ex, o, req);
	o->state = SX_OS_PENDING;
	o->price = plan.bo.price;
	o->book_type = plan.bo.type;
	o->reserved = plan.lock; /* locked when the book accepts it */
	plan.bo.id = o->id;

	/* The book reports ACCEPTED (the lock is applied then), trades, the
	 * end of the remainder and any stops it triggered, through the sink.
	 * Its first event, ACCEPTED or REJECTED, takes the next number. */
	ex->cmd_first = 0;
	if (req->tif == SHMEX_GTD && req->expire_at < ex->next_expiry)
		ex->next_expiry = req->expire_at;
	int rc = shmex_book_submit(s->book, &plan.bo);
	if (SX_UNLIKELY(rc != 0)) {
		sx_ack(ack, o->id, sx_cmd_first(ex), o->reason, SHMEX_OS_REJECTED);
		return rc;
	}
	sx_ack(ack, o->id, sx_cmd_first(ex), SHMEX_R_NONE, o->status);
	return 0;
}

/* ---- what an order needs (an engine moves that much to its exchange) ----- */

void shmex_exchange_entry_need(const struct shmex_exchange *ex,
			       const struct shmex_order_request *r, uint32_t *asset,
			       int64_t *amount)
{
	const struct sx_symbol *s =
		r->symbol >= 1 && r->symbol <= ex->n_symbols ? &ex->symbols[r->symbol] : NULL;
	int64_t need = 0;

	*asset = 0;
	*amount = 0;
	if (s == NULL || r->qty <= 0 || r->price < 0)
		return;
	/* The same amounts as sx_prepare()'s plan->lock. */
	if (r->side == SHMEX_SELL) {
		if (__builtin_mul_overflow(r->qty, s->p.lot_size, &need))
			return;
	} else if (r->side == SHMEX_BUY && r->quote_budget > 0) {
		need = r->quote_budget;
	} else if (r->side == SHMEX_BUY) {
		if (r->price == 0 || sx_buy_reserve(s, 0, r->price, r->qty, &need) != 0)
			return;
	} else {
		return;
	}
	*asset = r->side == SHMEX_BUY ? s->p.quote : s->p.base;
	*amount = need;
}

void shmex_exchange_amend_need(const struct shmex_exchange *ex, uint32_t symbol,
			       int64_t new_price, int64_t new_qty, int64_t *quote, int64_t *base)
{
	const struct sx_symbol *s =
		symbol >= 1 && symbol <= ex->n_symbols ? &ex->symbols[symbol] : NULL;

	*quote = 0;
	*base = 0;
	if (s == NULL || new_price <= 0 || new_qty <= 0)
		return;
	/* An amend's need is sx_buy_reserve() with the order's own remainder
	 * of rounding (wrem), which never exceeds the value with none, less
	 * what the order already holds: both bounded by these. */
	if (__builtin_mul_overflow(new_qty, s->p.lot_size, base))
		*base = 0;
	if (sx_buy_reserve(s, 0, new_price, new_qty, quote) != 0)
		*quote = 0;
}

/* ---- prefetch hints ------------------------------------------------------ */

void shmex_exchange_prefetch_submit(const struct shmex_exchange *ex,
				    const struct shmex_order_request *r, int stage)
{
	if (r->symbol < 1 || r->symbol > ex->n_symbols || r->user < 1 || r->user > ex->n_users)
		return;
	const struct sx_symbol *s = &ex->symbols[r->symbol];
	if (stage == 0) {
		__builtin_prefetch(&ex->users[r->user]);
		if (r->client_id != 0)
			__builtin_prefetch(&ex->clids[sx_clid_home(ex, r->user, r->client_id)]);
	} else if (stage == 1) {
		/* the accounts the reservation moves */
		const uint32_t asset = r->side == SHMEX_BUY ? s->p.quote : s->p.base;
		__builtin_prefetch(&ex->accounts[(size_t)r->user * ex->max_assets + (asset - 1)], 1);
	}
	if (r->type == SHMEX_LIMIT && r->side <= SHMEX_SELL)
		shmex_book_prefetch_level(s->book, r->side, r->price, stage);
}

void shmex_exchange_prefetch_client_id(const struct shmex_exchange *ex, uint32_t user,
				       uint64_t client_id)
{
	if (client_id != 0)
		__builtin_prefetch(&ex->clids[sx_clid_home(ex, user, client_id)]);
}

void shmex_exchange_prefetch_order(const struct shmex_exchange *ex, uint64_t order_id, int stage)
{
	const struct sx_order *o = &ex->orders[order_id & ex->order_mask];
	if (stage == 0) {
		__builtin_prefetch(o);
		__builtin_prefetch((const char *)o + SX_CACHE_LINE);
		return;
	}
	/* Later stages read the record the first one brought in. */
	if (o->id != order_id || o->symbol < 1 || o->symbol > ex->n_symbols)
		return;
	shmex_book_prefetch_order(ex->symbols[o->symbol].book, order_id, stage - 1);
}

/* ---- cancel, amend, mass cancel, clock -------------------------------- */

static struct sx_order *sx_users_live(struct shmex_exchange *ex, uint32_t user, uint64_t id)
{
	struct sx_order *o = id ? sx_order_find(ex, id) : NULL;
	return o && o->state == SX_OS_LIVE && o->user == user ? o : NULL;
}

/* A cancel or amend refused: @seq is the book's REJECTED event, or 0 if
 * refused before the book (no event); the status is @o's, 0 if unknown. */
static int sx_refuse(struct shmex_order_ack *ack, const struct sx_order *o, uint64_t id,
		     uint64_t seq, uint16_t reason)
{
	sx_ack(ack, id, seq, reason, o ? o->status : 0);
	return sx_reason_code(reason);
}

int shmex_exchange_cancel(struct shmex_exchange *ex, uint32_t user, uint64_t order_id,
			  struct shmex_order_ack *ack)
{
	if (sx_user_get(ex, user) == NULL)
		return sx_refuse(ack, NULL, order_id, 0, SHMEX_R_UNKNOWN_USER);
	struct sx_order *o = sx_users_live(ex, user, order_id);
	if (o == NULL)
		return sx_refuse(ack, NULL, order_id, 0, SHMEX_R_UNKNOWN_ORDER);
	ex->cmd_reason = SHMEX_R_NONE;
	ex->cmd_first = 0;
	int rc = shmex_book_cancel(ex->symbols[o->symbol].book, order_id);
	if (rc != 0) {
		sx_fault(ex, "order %llu live here but unknown to its book",
			 (unsigned long long)order_id);
		return sx_refuse(ack, o, order_id, sx_cmd_first(ex), ex->cmd_reason);
	}
	sx_ack(ack, order_id, sx_cmd_first(ex), SHMEX_R_NONE, o->status);
	return 0;
}

int shmex_exchange_amend(struct shmex_exchange *ex, uint32_t user, uint64_t order_id,
			 int64_t new_price, int64_t new_qty, struct shmex_order_ack *ack)
{
	struct sx_user *u = sx_user_get(ex, user);
	if (u == NULL)
		return sx_refuse(ack, NULL, order_id, 0, SHMEX_R_UNKNOWN_USER);
	struct sx_order *o = sx_users_live(ex, user, order_id);
	if (o == NULL)
		return sx_refuse(ack, NULL, order_id, 0, SHMEX_R_UNKNOWN_ORDER);
	struct sx_symbol *s = &ex->symbols[o->symbol];
	if (s->p.status != SHMEX_SYMBOL_OPEN)
		return sx_refuse(ack, o, order_id, 0, SHMEX_R_HALTED);
	if (!sx_rate_take(u, ex->now))
		return sx_refuse(ack, o, order_id, 0, SHMEX_R_RATE_LIMIT);
	if (new_qty <= 0 || (s->p.max_qty && new_qty > s->p.max_qty) ||
	    (!o->budget_mode && !sx_peak_ok(s, o->display, new_qty)))
		return sx_refuse(ack, o, order_id, 0, SHMEX_R_BAD_QTY);
	if (new_price <= 0)
		return sx_refuse(ack, o, order_id, 0, SHMEX_R_BAD_PRICE);
	if (o->parked || o->price <= 0)
		return sx_refuse(ack, o, order_id, 0, SHMEX_R_BAD_OPTION);
	if (new_price != o->price && !sx_band_ok(s, new_price))
		return sx_refuse(ack, o, order_id, 0, SHMEX_R_PRICE_BAND);

	/* The order's quantity becomes filled + new_qty (cancelled is 0 while
	 * it lives): it must fit too. */
	int64_t need, base, qty;
	if (__builtin_mul_overflow(new_qty, s->p.lot_size, &base) ||
	    __builtin_add_overflow(o->filled, new_qty, &qty))
		return sx_refuse(ack, o, order_id, 0, SHMEX_R_OVERFLOW);
	uint16_t why = sx_notional_check(s, o->side, 1, new_price, new_qty);
	if (why != SHMEX_R_NONE)
		return sx_refuse(ack, o, order_id, 0, why);
	if (o->side == SHMEX_SELL) {
		need = base;
	} else {
		int rc = sx_buy_reserve(s, o->wrem, new_price, new_qty, &need);
		if (rc != 0)
			return sx_refuse(ack, o, order_id, 0, sx_rc_reason(rc));
	}
	uint32_t asset = o->side == SHMEX_BUY ? s->p.quote : s->p.base;
	if (need > o->reserved && need - o->reserved > sx_account(ex, user, asset)->available)
		return sx_refuse(ack, o, order_id, 0, SHMEX_R_NO_FUNDS);

	/* AMENDED or REDUCED comes back through the sink, which moves the
	 * reservation to the new price and quantity before any trade. */
	ex->cmd_reason = SHMEX_R_NONE;
	ex->cmd_first = 0;
	int rc = shmex_book_amend(s->book, order_id, new_price, new_qty);
	if (rc != 0)
		return sx_refuse(ack, o, order_id, sx_cmd_first(ex),
				 ex->cmd_reason ? ex->cmd_reason : SHMEX_R_BAD_OPTION);
	sx_ack(ack, order_id, sx_cmd_first(ex), SHMEX_R_NONE, o->status);
	return 0;
}

int shmex_exchange_mass_cancel(struct shmex_exchange *ex, uint32_t user, uint32_t symbol,
			       uint32_t *count)
{
	uint32_t n = 0;
	const struct sx_user *u = sx_user_get(ex, user);

	if (u == NULL)
		return SHMEX_E_UNKNOWN_USER;
	if (symbol != SHMEX_ALL_SYMBOLS && sx_symbol_get(ex, symbol) == NULL)
		return SHMEX_E_UNKNOWN_SYMBOL;
	/* A book's mass cancel scans its whole pool: skip the books where
	 * this user cannot have orders (none left, or none on the symbol). */
	for (uint32_t sid = 1; sid <= ex->n_symbols && u->open_orders > 0; sid++)
		if ((symbol == SHMEX_ALL_SYMBOLS || symbol == sid) && ex->symbols[sid].open_orders > 0)
			n += shmex_book_cancel_owner(ex->symbols[sid].book, user);
	if (count)
		*count = n;
	return 0;
}

uint32_t shmex_exchange_advance(struct shmex_exchange *ex, int64_t now)
{
	uint32_t n = 0;

	if (now <= ex->now)
		return 0;
	ex->now = now;
	if (now < ex->next_expiry)
		return 0; /* nothing can expire yet: the books need not be visited */
	int64_t next = INT64_MAX;
	for (uint32_t sid = 1; sid <= ex->n_symbols; sid++) {
		n += shmex_book_advance(ex->symbols[sid].book, now);
		const int64_t t = shmex_book_next_expiry(ex->symbols[sid].book);
		if (t < next)
			next = t;
	}
	ex->next_expiry = next;
	return n;
}

/* ---- open orders --------------------------------------------------------- */

void sx_user_link(struct shmex_exchange *ex, struct sx_order *o)
{
	struct sx_user *u = &ex->users[o->user];
	uint32_t slot = (uint32_t)(o - ex->orders);
	o->user_prev = u->tail;
	o->user_next = SX_NONE;
	if (u->tail == SX_NONE)
		u->head = slot;
	else
		ex->orders[u->tail].user_next = slot;
	u->tail = slot;
}

void sx_user_unlink(struct shmex_exchange *ex, struct sx_order *o)
{
	struct sx_user *u = &ex->users[o->user];
	if (o->user_prev == SX_NONE)
		u->head = o->user_next;
	else
		ex->orders[o->user_prev].user_next = o->user_next;
	if (o->user_next == SX_NONE)
		u->tail = o->user_prev;
	else
		ex->orders[o->user_next].user_prev = o->user_prev;
	o->user_prev = o->user_next = SX_NONE;
}

int shmex_exchange_open_orders(const struct shmex_exchange *ex, uint32_t user, uint32_t symbol,
			       uint64_t after_id, struct shmex_order_state *out, uint32_t max,
			       uint32_t *total)
{
	uint32_t n = 0, seen = 0;

	if (user == SHMEX_FEE_ACCOUNT || user > ex->n_users)
		return SHMEX_E_UNKNOWN_USER;
	if (symbol != SHMEX_ALL_SYMBOLS && (symbol < 1 || symbol > ex->n_symbols))
		return SHMEX_E_UNKNOWN_SYMBOL;
	/* Paging: when after_id is still one of the user's live orders, the
	 * walk starts right after it (the list is in id order), so listing N
	 * orders a page at a time costs O(N), not O(N^2 / page). */
	uint32_t i = ex->users[user].head;
	const struct sx_order *at = after_id ? &ex->orders[after_id & ex->order_mask] : NULL;
	if (at && at->id == after_id && at->state == SX_OS_LIVE && at->user == user)
		i = at->user_next;
	for (; i != SX_NONE; i = ex->orders[i].user_next) {
		const struct sx_order *o = &ex->orders[i];
		if (o->id <= after_id || (symbol != SHMEX_ALL_SYMBOLS && o->symbol != symbol))
			continue;
		seen++;
		if (n < max)
			shmex_exchange_order(ex, o->id, &out[n++]);
		else if (total == NULL)
			break; /* nobody asked how many more there are */
	}
	if (total)
		*total = seen;
	return (int)n;
}
