/*
 * Control requests with several matchers: the bank is the control
 * thread's executor (one request at a time, as the matcher is with one
 * matcher). It answers what it holds alone (status, assets, deposits,
 * withdrawals), passes what belongs to one matcher to it (an order, a
 * book, a symbol's status or reference, one symbol's orders or mass
 * cancel), and asks every matcher for the rest, merging the answers:
 * balances (free funds here plus what each matcher's orders hold),
 * symbols (each from its owner), every symbol's open orders, mass cancels
 * and checks (counts summed, the first failure wins), and new assets,
 * users and symbols (added here first, then everywhere, with the same id).
 * Cold path: it never waits; the bank's data path runs between the steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank.h"

static void sx_to_control(struct sx_bank *b, const struct sx_ctl_out *out, size_t bytes)
{
	/* Never full: one request at a time, and a whole answer fits. */
	if (shmex_ring_push(&b->ctl_out, out, bytes) != 1)
		sx_log("bank: control reply ring full: a bug (reply dropped)");
}

static void sx_finish(struct sx_bank *b)
{
	b->ctl.mode = SX_BC_IDLE;
	sx_engine_wake_control(b->e);
}

static void sx_ask(struct sx_bank *b, uint32_t k)
{
	if (shmex_ring_push(&b->mctl_in[k], &b->ctl.in, sizeof b->ctl.in) != 1)
		sx_log("bank: control ring to matcher %u full: a bug", k);
	sx_bell_ring(&b->e->matcher_bells[k]);
}

static void sx_pass(struct sx_bank *b, uint32_t k)
{
	b->ctl.mode = SX_BC_PASS;
	b->ctl.target = k;
	sx_ask(b, k);
}

/* Starts collecting @p left answers (REPLY or LIST). */
static void sx_collect(struct sx_bank *b, uint32_t mode, uint32_t item_size, uint32_t left)
{
	struct sx_bank_ctl *c = &b->ctl;
	c->mode = mode;
	c->left = left;
	c->phase = 0;
	c->status = 0;
	c->id = 0;
	c->sum = 0;
	c->text[0] = 0;
	c->nitems = 0;
	c->total = 0;
	c->item_size = item_size;
}

static void sx_ask_all(struct sx_bank *b, uint32_t mode, uint32_t item_size)
{
	sx_collect(b, mode, item_size, b->M);
	for (uint32_t k = 0; k < b->M; k++)
		sx_ask(b, k);
}

/* ---- balances: one cut across the exchanges ------------------------------
 *
 * The question goes to every matcher through its command ring, so each
 * answers at one point of its command stream (sx_run_balances), through
 * the ring that carries the funds it gives back. The bank reads its own
 * balances when it sends the question. A unit of the user's funds is then
 * counted exactly once: in the bank's balance then (also if the bank sends
 * it to a matcher later: it reaches that matcher after its answer); in a
 * matcher's answer (also what the bank had sent it before the question);
 * or, if a matcher gave it back before answering and it reached the bank
 * after the question left, as it arrives (before that matcher's answer, in
 * the same ring). Nothing is counted twice or missed while the user trades
 * (a review's reproducer: 3 592 of 25 543 wrong answers before). */

static struct shmex_ctl_balance_item *sx_query_item(struct sx_bank *b, uint32_t asset)
{
	struct sx_bank_ctl *c = &b->ctl;
	if (asset == 0 || asset > c->nitems)
		return NULL;
	return (struct shmex_ctl_balance_item *)(void *)(c->items +
							 (size_t)(asset - 1) * sizeof(struct shmex_ctl_balance_item));
}

void sx_bank_query_credit(struct sx_bank *b, uint32_t k, uint32_t user, uint32_t asset,
			  int64_t amount)
{
	struct sx_bank_ctl *c = &b->ctl;
	if (c->phase != 1 || user != c->query_user || !c->query_open[k])
		return;
	struct shmex_ctl_balance_item *it = sx_query_item(b, asset);
	if (it)
		it->available += amount;
}

void sx_bank_query_answer(struct sx_bank *b, uint32_t k, const struct sx_out *msg)
{
	struct sx_bank_ctl *c = &b->ctl;
	if (c->mode != SX_BC_BALANCES || c->phase != 1 || !c->query_open[k] ||
	    msg->xfer_user != c->query_user)
		return; /* not ours: a bug */
	struct shmex_ctl_balance_item *it = sx_query_item(b, msg->xfer_asset);
	if (it) {
		it->available += msg->xfer_amount;
		it->locked += msg->rep.qty;
	}
	if (msg->pad) { /* its last asset */
		c->query_open[k] = 0;
		c->left--;
	}
}

/* Sends the question once every matcher's ring has room (the bank never
 * waits for a matcher), with the bank's own balances read at that moment. */
static void sx_query_send(struct sx_bank *b)
{
	struct sx_bank_ctl *c = &b->ctl;
	if (!sx_bank_has_room(b, UINT32_MAX))
		return;
	uint32_t nassets = 0;
	shmex_exchange_counts(b->ex, &nassets, NULL, NULL);
	c->nitems = 0;
	for (uint32_t a = 1; a <= nassets && a <= SX_CTL_ITEMS_MAX; a++) {
		struct shmex_ctl_balance_item it;
		struct shmex_asset_params ap;
		struct shmex_balance bal = { 0, 0 };
		memset(&it, 0, sizeof it);
		shmex_exchange_asset(b->ex, a, &ap);
		shmex_exchange_balance(b->ex, c->query_user, a, &bal);
		it.asset = a;
		it.decimals = ap.decimals;
		memcpy(it.code, ap.code, SHMEX_CODE_LEN);
		it.available = bal.available;
		it.locked = bal.locked;
		memcpy(c->items + (size_t)c->nitems++ * sizeof it, &it, sizeof it);
	}
	struct sx_cmd q;
	memset(&q, 0, sizeof q);
	q.op = SX_CMD_BALANCES;
	q.session = 0; /* by convention, as a fence's (matcher.c) */
	q.u.target.user = c->query_user;
	for (uint32_t k = 0; k < b->M; k++) {
		c->query_open[k] = 1;
		sx_bank_send(b, k, &q);
	}
	c->left = b->M;
	c->phase = 1;
}

static void sx_begin(struct sx_bank *b)
{
	struct sx_bank_ctl *c = &b->ctl;
	const struct shmex_ctl_request *q = &c->in.req;
	static _Thread_local char msg[256];
	uint32_t id = 0;
	int rc;
	switch (q->h.type) {
	case SHMEX_CTL_DEPOSIT:
	case SHMEX_CTL_WITHDRAW: {
		int64_t before = 0, after = 0;
		shmex_exchange_supply(b->ex, q->asset, &before);
		sx_ctl_execute(&b->exec, &c->in);
		shmex_exchange_supply(b->ex, q->asset, &after);
		if (after != before) /* funds enter and leave the engine here only */
			b->supply[q->asset] += after - before;
		sx_finish(b);
		return;
	}
	case SHMEX_CTL_ORDER:
		sx_pass(b, (uint32_t)(q->order_id >> 48) < b->M ? (uint32_t)(q->order_id >> 48) : 0);
		return;
	case SHMEX_CTL_BOOK:
	case SHMEX_CTL_SET_STATUS:
	case SHMEX_CTL_SET_REFERENCE:
		sx_pass(b, sx_engine_route(b->e, q->symbol));
		return;
	case SHMEX_CTL_ORDERS:
		if (q->symbol != SHMEX_ALL_SYMBOLS)
			sx_pass(b, sx_engine_route(b->e, q->symbol));
		else
			sx_ask_all(b, SX_BC_LIST, sizeof(struct shmex_order_state));
		return;
	case SHMEX_CTL_MASS_CANCEL:
		if (q->symbol != SHMEX_ALL_SYMBOLS)
			sx_pass(b, sx_engine_route(b->e, q->symbol));
		else
			sx_ask_all(b, SX_BC_REPLY, 0);
		return;
	case SHMEX_CTL_BALANCES: {
		uint32_t nusers = 0;
		shmex_exchange_counts(b->ex, NULL, NULL, &nusers);
		/* User 0 is the fee account: admins may read it. */
		if ((q->user == SHMEX_FEE_ACCOUNT && !(c->in.roles & SHMEX_ROLE_ADMIN)) ||
		    q->user > nusers) {
			sx_ctl_exec_plain(&b->exec, &c->in, SHMEX_E_UNKNOWN_USER, 0, "no such user");
			sx_finish(b);
			return;
		}
		sx_collect(b, SX_BC_BALANCES, sizeof(struct shmex_ctl_balance_item), b->M);
		c->query_user = q->user;
		sx_query_send(b);
		return;
	}
	case SHMEX_CTL_SYMBOLS:
		sx_ask_all(b, SX_BC_LIST, sizeof(struct shmex_ctl_symbol_item));
		return;
	case SHMEX_CTL_CHECK:
		rc = shmex_exchange_check(b->ex, msg, sizeof msg);
		if (rc != 0) {
			char text[256];
			snprintf(text, sizeof text, "bank: %.240s", msg);
			sx_ctl_exec_plain(&b->exec, &c->in, rc, 0, text);
			sx_finish(b);
			return;
		}
		sx_ask_all(b, SX_BC_REPLY, 0);
		return;
	case SHMEX_CTL_ADD_SYMBOL: {
		/* Its owner first: only the owner builds a full book, the one
		 * allocation that can fail. Then the bank and the others, with
		 * the smallest book (they never hold its orders), under the
		 * same id, since every exchange has as many symbols. */
		uint32_t nsym = 0;
		shmex_exchange_counts(b->ex, NULL, &nsym, NULL);
		sx_collect(b, SX_BC_REPLY, 0, 1);
		c->id = nsym + 1;
		c->phase = 1;
		c->target = sx_engine_route(b->e, nsym + 1);
		sx_ask(b, c->target);
		return;
	}
	case SHMEX_CTL_ADD_ASSET:
	case SHMEX_CTL_ADD_USER:
		rc = q->h.type == SHMEX_CTL_ADD_ASSET ? shmex_exchange_add_asset(b->ex, &q->params.asset, &id)
						     : shmex_exchange_add_user(b->ex, &q->params.user, &id);
		if (rc != 0) {
			sx_ctl_exec_plain(&b->exec, &c->in, rc, 0, shmex_strerror(rc));
			sx_finish(b);
			return;
		}
		/* The user's limits stay here, one count across the matchers;
		 * theirs have none (their defaults are none too). */
		if (q->h.type == SHMEX_CTL_ADD_USER)
			memset(&c->in.req.params.user, 0, sizeof c->in.req.params.user);
		sx_ask_all(b, SX_BC_REPLY, 0);
		c->id = id;
		return;
	default: /* STATUS, ASSETS, and what no one knows */
		/* The bank's exchange has no orders: its clock moves only here,
		 * for the status. */
		shmex_exchange_advance(b->ex, sx_now_ns() - b->e->start_ns);
		sx_ctl_execute(&b->exec, &c->in);
		sx_finish(b);
		return;
	}
}

/* One list packet of matcher @p k into the merged answer. */
static void sx_merge_list(struct sx_bank *b, uint32_t k, const struct shmex_ctl_list *l)
{
	struct sx_bank_ctl *c = &b->ctl;
	const uint32_t limit = c->in.req.depth && c->in.req.depth < SX_CTL_ITEMS_MAX
				       ? c->in.req.depth
				       : SX_CTL_ITEMS_MAX;
	for (uint32_t i = 0; i < l->count; i++) {
		const uint8_t *it = l->items + (size_t)i * c->item_size;
		if (l->h.type == SHMEX_CTL_BALANCE_ITEMS) {
			struct shmex_ctl_balance_item in, *mine = NULL;
			memcpy(&in, it, sizeof in);
			for (uint32_t j = 0; j < c->nitems && !mine; j++) {
				struct shmex_ctl_balance_item *x =
					(struct shmex_ctl_balance_item *)(void *)(c->items +
										  (size_t)j * sizeof in);
				if (x->asset == in.asset)
					mine = x;
			}
			if (mine) {
				mine->available += in.available;
				mine->locked += in.locked;
			} else if (c->nitems < SX_CTL_ITEMS_MAX) {
				memcpy(c->items + (size_t)c->nitems++ * sizeof in, &in, sizeof in);
			}
		} else if (l->h.type == SHMEX_CTL_SYMBOL_INFO) {
			struct shmex_ctl_symbol_item s;
			memcpy(&s, it, sizeof s);
			if (sx_engine_route(b->e, s.symbol) == k && c->nitems < SX_CTL_ITEMS_MAX)
				memcpy(c->items + (size_t)c->nitems++ * sizeof s, &s, sizeof s);
		} else if (c->nitems < limit) { /* orders: matcher by matcher, in id order */
			memcpy(c->items + (size_t)c->nitems++ * c->item_size, it, c->item_size);
		}
	}
	if (l->h.flags & SHMEX_CTLF_END)
		c->total += l->h.type == SHMEX_CTL_ORDER_ITEMS ? l->total : 0;
}

static int sx_symbol_cmp(const void *a, const void *b)
{
	const struct shmex_ctl_symbol_item *x = a, *y = b;
	return (x->symbol > y->symbol) - (x->symbol < y->symbol);
}

/* Every matcher has answered: the one merged answer. */
static void sx_emit_merged(struct sx_bank *b, uint16_t list_type)
{
	struct sx_bank_ctl *c = &b->ctl;
	if (c->mode == SX_BC_REPLY || c->status != 0) {
		const int mass = c->in.req.h.type == SHMEX_CTL_MASS_CANCEL;
		sx_ctl_exec_plain(&b->exec, &c->in, c->status,
				  c->status ? 0 : mass ? c->sum : c->id, c->status ? c->text : NULL);
		return;
	}
	if (list_type == SHMEX_CTL_SYMBOL_INFO)
		qsort(c->items, c->nitems, c->item_size, sx_symbol_cmp);
	static _Thread_local _Alignas(16) uint8_t bytes[SX_CTL_PKT_MAX];
	struct shmex_ctl_list *p = (struct shmex_ctl_list *)(void *)bytes;
	const uint32_t per = (uint32_t)((SX_CTL_PKT_MAX - sizeof *p) / c->item_size);
	uint32_t i = 0;
	do {
		const uint32_t n = c->nitems - i < per ? c->nitems - i : per;
		const int last = i + n == c->nitems;
		memcpy(p->items, c->items + (size_t)i * c->item_size, (size_t)n * c->item_size);
		p->count = n;
		p->total = list_type == SHMEX_CTL_ORDER_ITEMS ? (last ? c->total : i + n) : i + n;
		const uint32_t len = (uint32_t)(sizeof *p + (size_t)n * c->item_size);
		shmex_ctl_header_set(&p->h, list_type, last ? SHMEX_CTLF_END : 0, len, 0,
				     c->in.req.h.ref);
		sx_ctl_exec_reply(&b->exec, c->in.conn, p, len);
		i += n;
	} while (i < c->nitems);
}

int sx_bank_control(struct sx_bank *b)
{
	struct sx_bank_ctl *c = &b->ctl;
	static _Thread_local struct sx_ctl_out out;
	int work = 0;
	if (c->mode == SX_BC_IDLE) {
		if (shmex_ring_available(&b->ctl_in) <= 0)
			return 0;
		shmex_ring_read(&b->ctl_in, 0, &c->in, sizeof c->in);
		shmex_ring_consume(&b->ctl_in, 1);
		sx_begin(b);
		work++;
	}
	if (c->mode == SX_BC_PASS) {
		struct shmex_ring *r = &b->mctl_out[c->target];
		while (c->mode == SX_BC_PASS && shmex_ring_available(r) > 0) {
			const struct sx_ctl_out *o = shmex_ring_peek(r, 0);
			const size_t bytes = offsetof(struct sx_ctl_out, pkt) +
					     (o->len <= SX_CTL_PKT_MAX ? o->len : SX_CTL_PKT_MAX);
			shmex_ring_read(r, 0, &out, bytes);
			shmex_ring_consume(r, 1);
			sx_to_control(b, &out, bytes);
			const struct shmex_ctl_header *h = (const void *)out.pkt;
			if (h->flags & SHMEX_CTLF_END)
				sx_finish(b);
			work++;
		}
		return work;
	}
	if (c->mode == SX_BC_IDLE)
		return work;
	if (c->mode == SX_BC_BALANCES) {
		/* Answers come through the matchers' out rings (bank.c). */
		if (c->phase == 0)
			sx_query_send(b);
		if (c->phase == 1 && c->left == 0) {
			c->phase = 0;
			sx_emit_merged(b, SHMEX_CTL_BALANCE_ITEMS);
			sx_finish(b);
			work++;
		}
		return work;
	}
	uint16_t list_type = 0;
	for (uint32_t k = 0; k < b->M; k++) {
		struct shmex_ring *r = &b->mctl_out[k];
		/* What the matcher sent before its answer comes first (funds
		 * back: an answer must not count them nowhere). The answer's
		 * acquire makes them visible. */
		if (shmex_ring_available(r) > 0)
			work += sx_bank_drain_matcher(b, k);
		while (shmex_ring_available(r) > 0) {
			const struct sx_ctl_out *o = shmex_ring_peek(r, 0);
			const size_t bytes = offsetof(struct sx_ctl_out, pkt) +
					     (o->len <= SX_CTL_PKT_MAX ? o->len : SX_CTL_PKT_MAX);
			shmex_ring_read(r, 0, &out, bytes);
			shmex_ring_consume(r, 1);
			work++;
			const struct shmex_ctl_header *h = (const void *)out.pkt;
			if (h->type == SHMEX_CTL_REPLY) {
				const struct shmex_ctl_reply *rp = (const void *)out.pkt;
				if (rp->h.status != 0 && c->status == 0) {
					c->status = rp->h.status;
					snprintf(c->text, sizeof c->text, "matcher %u: %.200s", k, rp->text);
				} else if (c->mode == SX_BC_REPLY && c->id != 0 && rp->id != c->id &&
					   c->in.req.h.type >= SHMEX_CTL_ADD_ASSET &&
					   c->in.req.h.type <= SHMEX_CTL_ADD_USER && c->status == 0) {
					c->status = SHMEX_E_INVAL;
					snprintf(c->text, sizeof c->text,
						 "matcher %u gave id %llu, the bank %llu: a bug", k,
						 (unsigned long long)rp->id, (unsigned long long)c->id);
				}
				c->sum += rp->id;
			} else {
				sx_merge_list(b, k, (const struct shmex_ctl_list *)(const void *)out.pkt);
			}
			if (h->flags & SHMEX_CTLF_END)
				c->left--;
		}
	}
	if (c->left == 0 && c->phase == 1) {
		/* The owner has it: now the bank and the others, small books. */
		c->phase = 2;
		if (c->status == 0) {
			struct shmex_symbol_params p = c->in.req.params.symbol;
			uint32_t id = 0;
			p.book_orders = 2;
			const int rc = shmex_exchange_add_symbol(b->ex, &p, &id);
			if (rc != 0 || id != c->id) {
				c->status = rc ? rc : SHMEX_E_INVAL;
				snprintf(c->text, sizeof c->text,
					 "bank: %s after matcher %u added symbol %llu: a bug",
					 shmex_strerror(c->status), c->target, (unsigned long long)c->id);
				sx_log("%s", c->text);
			} else {
				c->in.req.params.symbol.book_orders = 2;
				for (uint32_t k = 0; k < b->M; k++)
					if (k != c->target) {
						c->left++;
						sx_ask(b, k);
					}
				return work;
			}
		}
	}
	if (c->left == 0) {
		switch (c->in.req.h.type) {
		case SHMEX_CTL_BALANCES: list_type = SHMEX_CTL_BALANCE_ITEMS; break;
		case SHMEX_CTL_SYMBOLS: list_type = SHMEX_CTL_SYMBOL_INFO; break;
		default: list_type = SHMEX_CTL_ORDER_ITEMS; break;
		}
		sx_emit_merged(b, list_type);
		sx_finish(b);
	}
	return work;
}
