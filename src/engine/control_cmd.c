/*
 * Control requests executed on the matcher thread (the exchange's owner):
 * queries (status, balances, orders, book, symbols, assets, check) and
 * administration (assets, symbols, users, deposits, halts, mass cancels).
 * The control thread has already checked the packet's size and the
 * requester's roles; here each request is answered with one or more reply
 * packets, the last flagged SHMEX_CTLF_END. Cold path: it may take its
 * time, but it never allocates.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

/* Reply buffer: one packet being filled (a list, a reply or a status). */
static _Thread_local _Alignas(16) uint8_t sx_bytes[SHMEX_CTL_MAX];
#define SX_LIST ((struct shmex_ctl_list *)(void *)sx_bytes)
#define SX_REPLY ((struct shmex_ctl_reply *)(void *)sx_bytes)
#define SX_STATUS ((struct shmex_ctl_status_info *)(void *)sx_bytes)

static void sx_header(struct shmex_ctl_header *h, const struct sx_ctl_in *in, uint16_t type,
		      uint32_t len, int status, uint16_t flags)
{
	shmex_ctl_header_set(h, type, flags, len, status, in->req.h.ref);
}

static void sx_reply(struct sx_ctl_exec *m, const struct sx_ctl_in *in, int status, uint64_t id,
		     uint64_t value, const char *text)
{
	struct shmex_ctl_reply *r = SX_REPLY;
	memset(r, 0, sizeof *r);
	sx_header(&r->h, in, SHMEX_CTL_REPLY, sizeof *r, status, SHMEX_CTLF_END);
	r->id = id;
	r->value = value;
	if (text)
		snprintf(r->text, sizeof r->text, "%s", text);
	sx_ctl_exec_reply(m, in->conn, r, sizeof *r);
}

/* List replies: items are appended; a full packet is sent and a new one
 * begun; sx_list_end() sends the last with END. */
struct sx_list {
	struct sx_ctl_exec *m;
	const struct sx_ctl_in *in;
	uint16_t type;
	uint32_t item, max, total;
};

static void sx_list_begin(struct sx_list *l, struct sx_ctl_exec *m, const struct sx_ctl_in *in,
			  uint16_t type, uint32_t item)
{
	l->m = m;
	l->in = in;
	l->type = type;
	l->item = item;
	l->max = (uint32_t)((SX_CTL_PKT_MAX - sizeof(struct shmex_ctl_list)) / item);
	l->total = 0;
	memset(SX_LIST, 0, sizeof *SX_LIST);
}

static void sx_list_flush(struct sx_list *l, uint16_t flags)
{
	struct shmex_ctl_list *p = SX_LIST;
	const uint32_t len = (uint32_t)(sizeof *p + (size_t)p->count * l->item);
	sx_header(&p->h, l->in, l->type, len, 0, flags);
	p->total = l->total;
	sx_ctl_exec_reply(l->m, l->in->conn, p, len);
	p->count = 0;
}

static void sx_list_add(struct sx_list *l, const void *item)
{
	struct shmex_ctl_list *p = SX_LIST;
	if (p->count == l->max)
		sx_list_flush(l, 0);
	memcpy(p->items + (size_t)p->count * l->item, item, l->item);
	p->count++;
	l->total++;
}

static void sx_list_end(struct sx_list *l)
{
	sx_list_flush(l, SHMEX_CTLF_END);
}

static void sx_symbol_item(const struct sx_engine *e, struct shmex_exchange *ex, uint32_t id,
			   struct shmex_ctl_symbol_item *it)
{
	struct shmex_symbol_params p;
	memset(it, 0, sizeof *it);
	if (shmex_exchange_symbol(ex, id, &p) != 0)
		return;
	const struct shmex_book *b = shmex_exchange_book(ex, id);
	it->symbol = id;
	it->status = p.status;
	it->base = p.base;
	it->quote = p.quote;
	memcpy(it->code, p.code, SHMEX_CODE_LEN);
	shmex_book_best(b, SHMEX_BUY, &it->best_bid);
	shmex_book_best(b, SHMEX_SELL, &it->best_ask);
	shmex_book_last_price(b, &it->last_price);
	it->bid_levels = shmex_book_level_count(b, SHMEX_BUY);
	it->ask_levels = shmex_book_level_count(b, SHMEX_SELL);
	it->orders = shmex_book_order_count(b);
	it->matcher = sx_engine_route(e, id);
	it->tick_size = p.tick_size;
	it->lot_size = p.lot_size;
	it->min_qty = p.min_qty;
	it->max_qty = p.max_qty;
	it->maker_fee_ppm = p.maker_fee_ppm;
	it->taker_fee_ppm = p.taker_fee_ppm;
}

static void sx_do_symbols(struct sx_ctl_exec *m, const struct sx_ctl_in *in)
{
	struct shmex_exchange *ex = m->ex;
	uint32_t n = 0;
	shmex_exchange_counts(ex, NULL, &n, NULL);
	struct sx_list l;
	sx_list_begin(&l, m, in, SHMEX_CTL_SYMBOL_INFO, sizeof(struct shmex_ctl_symbol_item));
	for (uint32_t s = 1; s <= n && s <= SX_CTL_ITEMS_MAX; s++) {
		struct shmex_ctl_symbol_item it;
		sx_symbol_item(m->e, ex, s, &it);
		sx_list_add(&l, &it);
	}
	sx_list_end(&l);
}

static void sx_do_status(struct sx_ctl_exec *m, const struct sx_ctl_in *in)
{
	struct sx_engine *e = m->e;
	struct shmex_exchange *ex = m->ex;
	struct shmex_ctl_status_info *st = SX_STATUS;
	memset(st, 0, sizeof *st);
	sx_header(&st->h, in, SHMEX_CTL_STATUS_INFO, sizeof *st, 0, 0);
	st->seq = e->nmatchers > 1 ? __atomic_load_n(&e->seq_counter, __ATOMIC_RELAXED)
				   : shmex_exchange_seq(ex);
	st->uptime_ns = sx_now_ns() - e->start_ns;
	st->now = shmex_exchange_now(ex);
	st->max_sessions = e->cfg.max_sessions;
	st->gateways = e->cfg.gateways;
	st->matchers = e->nmatchers;
	st->wait_policy = e->cfg.wait_policy;
	st->pid = (uint32_t)getpid();
	shmex_exchange_counts(ex, &st->assets, &st->symbols, &st->users);
	/* The control thread adds the session table (it owns it) and ends the
	 * answer. */
	sx_ctl_exec_reply(m, in->conn, st, sizeof *st);
}

static void sx_do_balances(struct sx_ctl_exec *m, const struct sx_ctl_in *in)
{
	struct shmex_exchange *ex = m->ex;
	uint32_t nassets = 0, nusers = 0;
	shmex_exchange_counts(ex, &nassets, NULL, &nusers);
	/* User 0 is the fee account: admins may read it (conservation checks). */
	if ((in->req.user == SHMEX_FEE_ACCOUNT && !(in->roles & SHMEX_ROLE_ADMIN)) ||
	    in->req.user > nusers) {
		sx_reply(m, in, SHMEX_E_UNKNOWN_USER, 0, 0, "no such user");
		return;
	}
	struct sx_list l;
	sx_list_begin(&l, m, in, SHMEX_CTL_BALANCE_ITEMS, sizeof(struct shmex_ctl_balance_item));
	for (uint32_t a = 1; a <= nassets && a <= SX_CTL_ITEMS_MAX; a++) {
		struct shmex_ctl_balance_item it;
		struct shmex_asset_params ap;
		struct shmex_balance b;
		memset(&it, 0, sizeof it);
		if (shmex_exchange_asset(ex, a, &ap) != 0 ||
		    shmex_exchange_balance(ex, in->req.user, a, &b) != 0)
			continue;
		it.asset = a;
		it.decimals = ap.decimals;
		memcpy(it.code, ap.code, SHMEX_CODE_LEN);
		it.available = b.available;
		it.locked = b.locked;
		sx_list_add(&l, &it);
	}
	sx_list_end(&l);
}

static void sx_do_orders(struct sx_ctl_exec *m, const struct sx_ctl_in *in)
{
	struct shmex_exchange *ex = m->ex;
	struct sx_list l;
	uint64_t after = 0;
	uint32_t total = 0;
	static _Thread_local struct shmex_order_state page[16];
	int n = shmex_exchange_open_orders(ex, in->req.user, in->req.symbol, 0, page, 0, &total);
	if (n < 0) {
		sx_reply(m, in, n, 0, 0, shmex_strerror(n));
		return;
	}
	/* At most `depth` orders (0: 4096), so one answer stays a bounded
	 * number of packets; `total` says how many there are. */
	const uint32_t limit = in->req.depth && in->req.depth < SX_CTL_ITEMS_MAX ? in->req.depth
									    : SX_CTL_ITEMS_MAX;
	uint32_t sent = 0;
	sx_list_begin(&l, m, in, SHMEX_CTL_ORDER_ITEMS, sizeof(struct shmex_order_state));
	do {
		n = shmex_exchange_open_orders(ex, in->req.user, in->req.symbol, after, page, 16, NULL);
		for (int i = 0; i < n && sent < limit; i++, sent++) {
			sx_list_add(&l, &page[i]);
			after = page[i].order_id;
		}
	} while (n == 16 && sent < limit);
	l.total = total;
	sx_list_end(&l);
}

static void sx_do_order(struct sx_ctl_exec *m, const struct sx_ctl_in *in)
{
	struct shmex_order_state st;
	int rc = shmex_exchange_order(m->ex, in->req.order_id, &st);
	/* Whether the asker may see it (a grant for st.user) is checked by the
	 * control thread on the way back. */
	if (rc != 0) {
		sx_reply(m, in, SHMEX_E_UNKNOWN_ORDER, 0, 0, "no such order");
		return;
	}
	struct sx_list l;
	sx_list_begin(&l, m, in, SHMEX_CTL_ORDER_ITEMS, sizeof st);
	sx_list_add(&l, &st);
	sx_list_end(&l);
}

static void sx_do_book(struct sx_ctl_exec *m, const struct sx_ctl_in *in)
{
	const struct shmex_book *b = shmex_exchange_book(m->ex, in->req.symbol);
	if (!b) {
		sx_reply(m, in, SHMEX_E_UNKNOWN_SYMBOL, 0, 0, "no such symbol");
		return;
	}
	static _Thread_local struct shmex_level_info lv[256];
	struct sx_list l;
	sx_list_begin(&l, m, in, SHMEX_CTL_LEVEL_ITEMS, sizeof(struct shmex_ctl_level_item));
	const uint32_t depth = in->req.depth && in->req.depth < 256 ? in->req.depth : 256;
	for (int side = SHMEX_BUY; side <= SHMEX_SELL; side++) {
		const uint32_t n = shmex_book_depth(b, side, lv, depth);
		for (uint32_t i = 0; i < n; i++) {
			struct shmex_ctl_level_item it;
			memset(&it, 0, sizeof it);
			it.side = (uint8_t)side;
			it.orders = lv[i].orders;
			it.price = lv[i].price;
			it.qty = lv[i].qty > (shmex_u128)INT64_MAX ? INT64_MAX : (int64_t)lv[i].qty;
			sx_list_add(&l, &it);
		}
	}
	sx_list_end(&l);
}

static void sx_do_assets(struct sx_ctl_exec *m, const struct sx_ctl_in *in)
{
	struct shmex_exchange *ex = m->ex;
	uint32_t n = 0;
	shmex_exchange_counts(ex, &n, NULL, NULL);
	struct sx_list l;
	sx_list_begin(&l, m, in, SHMEX_CTL_ASSET_ITEMS, sizeof(struct shmex_ctl_asset_item));
	for (uint32_t a = 1; a <= n && a <= SX_CTL_ITEMS_MAX; a++) {
		struct shmex_ctl_asset_item it;
		struct shmex_asset_params ap;
		memset(&it, 0, sizeof it);
		if (shmex_exchange_asset(ex, a, &ap) != 0)
			continue;
		it.asset = a;
		it.decimals = ap.decimals;
		memcpy(it.code, ap.code, SHMEX_CODE_LEN);
		if (m->supply) /* the bank: deposits - withdrawals of the whole engine */
			it.supply = m->supply[a];
		else
			shmex_exchange_supply(ex, a, &it.supply);
		sx_list_add(&l, &it);
	}
	sx_list_end(&l);
}

static void sx_do_admin(struct sx_ctl_exec *m, const struct sx_ctl_in *in)
{
	struct shmex_exchange *ex = m->ex;
	const struct shmex_ctl_request *q = &in->req;
	uint32_t id = 0, count = 0;
	uint64_t seq = 0;
	int rc;
	switch (q->h.type) {
	case SHMEX_CTL_ADD_ASSET:
		rc = shmex_exchange_add_asset(ex, &q->params.asset, &id);
		sx_reply(m, in, rc, id, 0, rc ? shmex_strerror(rc) : NULL);
		return;
	case SHMEX_CTL_ADD_SYMBOL:
		rc = shmex_exchange_add_symbol(ex, &q->params.symbol, &id);
		sx_reply(m, in, rc, id, 0, rc ? shmex_strerror(rc) : NULL);
		return;
	case SHMEX_CTL_ADD_USER:
		rc = shmex_exchange_add_user(ex, &q->params.user, &id);
		sx_reply(m, in, rc, id, 0, rc ? shmex_strerror(rc) : NULL);
		return;
	case SHMEX_CTL_DEPOSIT:
		rc = shmex_exchange_deposit(ex, q->user, q->asset, q->amount, q->tag, &seq);
		sx_reply(m, in, rc, seq, 0, rc ? shmex_strerror(rc) : NULL);
		return;
	case SHMEX_CTL_WITHDRAW:
		rc = shmex_exchange_withdraw(ex, q->user, q->asset, q->amount, q->tag, &seq);
		sx_reply(m, in, rc, seq, 0, rc ? shmex_strerror(rc) : NULL);
		return;
	case SHMEX_CTL_SET_STATUS:
		rc = shmex_exchange_set_status(ex, q->symbol, (int)q->status);
		sx_reply(m, in, rc, 0, 0, rc ? shmex_strerror(rc) : NULL);
		return;
	case SHMEX_CTL_SET_REFERENCE:
		rc = shmex_exchange_set_reference(ex, q->symbol, q->amount);
		sx_reply(m, in, rc, 0, 0, rc ? shmex_strerror(rc) : NULL);
		return;
	case SHMEX_CTL_MASS_CANCEL:
		rc = shmex_exchange_mass_cancel(ex, q->user, q->symbol, &count);
		sx_reply(m, in, rc, count, 0, rc ? shmex_strerror(rc) : NULL);
		return;
	case SHMEX_CTL_CHECK: {
		static _Thread_local char msg[256];
		rc = shmex_exchange_check(ex, msg, sizeof msg);
		sx_reply(m, in, rc, 0, 0, msg);
		return;
	}
	default:
		sx_reply(m, in, SHMEX_E_PROTOCOL, 0, 0, "unknown control request");
	}
}

void sx_ctl_exec_plain(struct sx_ctl_exec *x, const struct sx_ctl_in *in, int status, uint64_t id,
		       const char *text)
{
	sx_reply(x, in, status, id, 0, text);
}

void sx_ctl_exec_reply(struct sx_ctl_exec *x, uint32_t conn, const void *pkt, uint32_t len)
{
	static _Thread_local struct sx_ctl_out out;
	if (len > SX_CTL_PKT_MAX)
		len = SX_CTL_PKT_MAX;
	out.conn = conn;
	out.len = len;
	memcpy(out.pkt, pkt, len);
	const size_t bytes = offsetof(struct sx_ctl_out, pkt) + len;
	/* Never full: one request at a time is let in, and a whole answer
	 * fits (engine.h, SX_CTL_ITEMS_MAX). */
	if (shmex_ring_push(x->reply, &out, bytes) != 1)
		sx_log("control reply ring full: a bug (reply dropped)");
}

void sx_ctl_execute(struct sx_ctl_exec *m, const struct sx_ctl_in *in)
{
	switch (in->req.h.type) {
	case SHMEX_CTL_STATUS: sx_do_status(m, in); break;
	case SHMEX_CTL_BALANCES: sx_do_balances(m, in); break;
	case SHMEX_CTL_ORDERS: sx_do_orders(m, in); break;
	case SHMEX_CTL_ORDER: sx_do_order(m, in); break;
	case SHMEX_CTL_BOOK: sx_do_book(m, in); break;
	case SHMEX_CTL_SYMBOLS: sx_do_symbols(m, in); break;
	case SHMEX_CTL_ASSETS: sx_do_assets(m, in); break;
	default: sx_do_admin(m, in); break;
	}
}

/* A whole answer fits the reply ring (engine.h, SX_CTL_ITEMS_MAX). */
_Static_assert(SX_CTL_PACKETS(sizeof(struct shmex_order_state)) < SX_CTL_OUT_SLOTS, "orders");
_Static_assert(SX_CTL_PACKETS(sizeof(struct shmex_ctl_symbol_item)) < SX_CTL_OUT_SLOTS, "symbols");
_Static_assert(SX_CTL_PACKETS(sizeof(struct shmex_ctl_asset_item)) < SX_CTL_OUT_SLOTS, "assets");
_Static_assert(SX_CTL_PACKETS(sizeof(struct shmex_ctl_balance_item)) < SX_CTL_OUT_SLOTS, "balances");
_Static_assert(SX_CTL_PACKETS(sizeof(struct shmex_ctl_level_item)) < SX_CTL_OUT_SLOTS, "levels");
