/*
 * The bank agent (several matchers only; docs/ARCHITECTURE.md, "Several
 * matchers"). It owns every user's free funds, in an exchange of its own
 * that holds every asset, symbol and user but never an order, and it sits
 * between the gateways and the matchers:
 *
 *   gateway --cmd--> bank --cmd + funds--> matcher k
 *   gateway <--out-- bank <--reports, funds back-- matcher k
 *
 * A new order or an amend takes from the user's balance here exactly what
 * the matcher's exchange will check and lock (shmex_exchange_entry_need,
 * _amend_need), or all the user has if that is less, and moves it to the
 * matcher with the command (TRANSFER_OUT here, TRANSFER_IN there). The
 * matcher's exchange then decides exactly as one exchange holding every
 * balance would, and gives back what its commands left available before
 * their reports; this thread credits it (TRANSFER_IN) before it forwards
 * those reports. So each account has one writer at any time (free funds:
 * this thread; what orders lock: their matcher), and a client that has an
 * answer finds its proceeds here.
 *
 * Every event takes its number from the engine's one counter when it is
 * applied, by the thread that applies it; funds in flight between two
 * exchanges are numbered when they leave (before the receiver can number
 * their arrival), so every prefix of the merged stream is a state that
 * existed, with the funds in flight counted apart (journal.c).
 *
 * Requests that name no matcher (cancel by client id, mass cancel of every
 * symbol, ping, session end, fence) go to every matcher; the bank merges
 * their answers into the one answer the session expects.
 */
#include <stdlib.h>
#include <string.h>

#include "bank.h"

#define SX_BANK_BATCH 64u

/* Broadcast requests of a session still being answered, oldest first.
 * They complete in that order: every matcher answers a session's requests
 * in the order the bank sent them, and the bank sent each to every matcher
 * in the same order. */
static struct sx_merge *sx_merge_find(struct sx_bank *b, uint16_t session, uint64_t request_no)
{
	struct sx_merge_fifo *f = &b->merges[session];
	for (uint32_t i = f->head; i != f->tail; i++) {
		struct sx_merge *mg = &f->m[i % SX_MERGES_PER_SESSION];
		if (mg->request_no == request_no)
			return mg;
	}
	return NULL;
}

/* A gateway never waits for the bank, so this wait ends. */
static void sx_bank_out(struct sx_bank *b, uint32_t g, const struct sx_out *msg)
{
	if (sx_push_wait(b->e, &b->gout[g], msg, sizeof *msg, &b->e->bells[g]))
		b->gout_dirty[g] = 1;
}

/* Room was checked first (sx_bank_room): a matcher may be waiting for the
 * bank to read its ring, so the bank must not wait for it. */
static void sx_bank_to_matcher(struct sx_bank *b, uint32_t k, const struct sx_cmd *c)
{
	if (sx_push_wait(b->e, &b->mcmd[k], c, sizeof *c, &b->e->matcher_bells[k]))
		b->mcmd_dirty[k] = 1;
}

static void sx_broadcast(struct sx_bank *b, struct sx_cmd *c)
{
	c->flags |= SX_CMD_BROADCAST;
	for (uint32_t k = 0; k < b->M; k++)
		sx_bank_to_matcher(b, k, c);
}

/* Moves up to @p want of @p asset from @p user's balance here to matcher
 * @p k, recording it in the command; @return the amount moved. */
static int64_t sx_fund(struct sx_bank *b, uint32_t k, uint32_t user, uint32_t asset,
		       int64_t want, struct sx_cmd *c, int slot)
{
	struct shmex_balance bal;
	if (asset == 0 || want <= 0 || shmex_exchange_balance(b->ex, user, asset, &bal) != 0 ||
	    user == SHMEX_FEE_ACCOUNT)
		return 0;
	const int64_t amount = bal.available < want ? bal.available : want;
	if (amount <= 0 || shmex_exchange_transfer_out(b->ex, user, asset, amount, k, NULL) != 0)
		return 0;
	c->xfer_asset[slot] = (uint16_t)asset;
	c->xfer_amount[slot] = amount;
	return amount;
}

static uint32_t sx_matcher_of_order(const struct sx_bank *b, uint64_t order_id)
{
	const uint64_t k = order_id >> 48;
	return k < b->M ? (uint32_t)k : 0; /* no matcher's id: matcher 0 says unknown */
}

/* The symbol of a live order, learnt from its reports (0: unknown). */
static uint32_t sx_order_symbol(const struct sx_bank *b, uint64_t order_id)
{
	const uint32_t k = sx_matcher_of_order(b, order_id);
	const size_t i = (size_t)k * (b->omask + 1) + (order_id & b->omask);
	return b->oid[i] == order_id ? b->osym[i] : 0;
}

static struct sx_clid_route *sx_clid_slot(struct sx_bank *b, uint32_t user, uint64_t client_id)
{
	/* Keyed, as the exchange's own index: a client choosing its client
	 * ids must not make its cancels miss the table (each miss goes to
	 * every matcher). */
	const uint64_t h = (client_id ^ (uint64_t)user << 40 ^ b->clid_seed) * 0x9E3779B97F4A7C15ull;
	return &b->clids[(h >> 32) & b->cmask];
}

#define SX_ALL UINT32_MAX

/* The matcher a command goes to (SX_ALL: every one). */
static uint32_t sx_bank_target(struct sx_bank *b, const struct sx_cmd *c)
{
	switch (c->op) {
	case SX_CMD_SUBMIT:
		return sx_engine_route(b->e, c->u.submit.symbol);
	case SX_CMD_AMEND:
		return sx_matcher_of_order(b, c->u.target.order_id);
	case SX_CMD_CANCEL: {
		if (c->u.target.order_id != 0)
			return sx_matcher_of_order(b, c->u.target.order_id);
		/* By client id: the matcher the user's latest order with this
		 * client id went to, when the table still holds it (client ids
		 * are unique per user on each matcher only: with one reused
		 * across matchers, the latest order's matcher is asked); else
		 * every matcher looks. */
		const struct sx_clid_route *cr =
			sx_clid_slot(b, c->u.target.user, c->u.target.client_id);
		return cr->user == c->u.target.user && cr->client_id == c->u.target.client_id
			       ? cr->matcher
			       : SX_ALL;
	}
	case SX_CMD_MASS_CANCEL:
		return c->u.target.symbol != SHMEX_ALL_SYMBOLS
			       ? sx_engine_route(b->e, c->u.target.symbol)
			       : SX_ALL;
	case SX_CMD_REJECT:
		return 0;
	default: /* PING (answered when every matcher has run what came
		    before), SESSION_END, FENCE */
		return SX_ALL;
	}
}

/* Whether the command's matcher(s) can take it now: the bank never waits
 * for a matcher (one may be waiting for the bank to read its reports);
 * the command stays in the gateway's ring meanwhile (back-pressure). */
static int sx_bank_room(struct sx_bank *b, uint32_t k)
{
	if (k != SX_ALL)
		return shmex_ring_room(&b->mcmd[k], 1) >= 1;
	for (uint32_t j = 0; j < b->M; j++)
		if (shmex_ring_room(&b->mcmd[j], 1) < 1)
			return 0;
	return 1;
}

int sx_bank_has_room(struct sx_bank *b, uint32_t k)
{
	return sx_bank_room(b, k);
}

void sx_bank_send(struct sx_bank *b, uint32_t k, const struct sx_cmd *c)
{
	sx_bank_to_matcher(b, k, c);
}

/* A user's open-order limit and order rate, one count across the
 * matchers: a new order over either is flagged, and its matcher's exchange
 * refuses it where it checks its own limits (so other reasons come first,
 * as with one exchange). Orders in flight count as open until answered:
 * the limit holds for a pipelining client too. */
static void sx_user_limits(struct sx_bank *b, struct shmex_order_request *r)
{
	struct shmex_user_params lim;
	if (shmex_exchange_user_limits(b->ex, r->user, &lim) != 0)
		return; /* no such user: its matcher refuses it */
	if (shmex_exchange_take_token(b->ex, r->user) == 0)
		r->flags |= SHMEX_OF_ENGINE_RATE;
	if (lim.max_open_orders &&
	    (uint64_t)b->open_orders[r->user] + b->submits[r->user] >= lim.max_open_orders)
		r->flags |= SHMEX_OF_ENGINE_AT_LIMIT;
	b->submits[r->user]++;
}

static void sx_bank_cmd(struct sx_bank *b, uint32_t g, struct sx_cmd *c, uint32_t k)
{
	if (c->session >= b->e->cfg.max_sessions)
		return; /* gateways are trusted; this would be a bug */
	if (c->op != SX_CMD_FENCE) /* a gateway's own command, session 0 by convention */
		b->session_gw[c->session] = (uint16_t)g;
	c->xfer_asset[0] = c->xfer_asset[1] = 0;
	c->xfer_amount[0] = c->xfer_amount[1] = 0;
	switch (c->op) {
	case SX_CMD_SUBMIT: {
		uint32_t asset;
		int64_t need;
		if (c->u.submit.client_id != 0) {
			/* A first route for this client id, so that a cancel sent
			 * right behind the order goes to its matcher; one that
			 * names another matcher (an order there may be live) is
			 * replaced only when this order is accepted. */
			struct sx_clid_route *cr =
				sx_clid_slot(b, c->u.submit.user, c->u.submit.client_id);
			if (cr->user != c->u.submit.user || cr->client_id != c->u.submit.client_id)
				*cr = (struct sx_clid_route){ c->u.submit.client_id,
							      c->u.submit.user, k };
		}
		sx_user_limits(b, &c->u.submit);
		if (!(c->u.submit.flags & (SHMEX_OF_ENGINE_AT_LIMIT | SHMEX_OF_ENGINE_RATE))) {
			shmex_exchange_entry_need(b->ex, &c->u.submit, &asset, &need);
			sx_fund(b, k, c->u.submit.user, asset, need, c, 0);
		}
		sx_bank_to_matcher(b, k, c);
		return;
	}
	case SX_CMD_AMEND: {
		if (shmex_exchange_take_token(b->ex, c->u.target.user) == 0) {
			/* Over the user's order rate (kept here, across the
			 * matchers): refused in the order's matcher's order. */
			c->op = SX_CMD_REJECT;
			c->flags = 0;
			c->pad = SHMEX_R_RATE_LIMIT;
			sx_bank_to_matcher(b, k, c);
			return;
		}
		const uint32_t sym = sx_order_symbol(b, c->u.target.order_id);
		struct shmex_symbol_params p;
		if (sym != 0 && shmex_exchange_symbol(b->ex, sym, &p) == 0) {
			int64_t quote, base;
			shmex_exchange_amend_need(b->ex, sym, c->u.target.price, c->u.target.qty, &quote,
						  &base);
			sx_fund(b, k, c->u.target.user, p.quote, quote, c, 0);
			sx_fund(b, k, c->u.target.user, p.base, base, c, 1);
		}
		sx_bank_to_matcher(b, k, c);
		return;
	}
	case SX_CMD_SESSION_END:
		b->closing[c->session] = (uint16_t)b->M;
		sx_broadcast(b, c);
		return;
	case SX_CMD_FENCE:
		if (b->fence_tail - b->fence_head == SX_FENCES_MAX) {
			sx_log("bank: too many fences in flight: a bug (dropped)");
			return;
		}
		b->fence_gw[b->fence_tail++ % SX_FENCES_MAX] = (uint16_t)g;
		sx_broadcast(b, c);
		return;
	default:
		if (k != SX_ALL) { /* cancel, mass cancel of one symbol, refusal */
			sx_bank_to_matcher(b, k, c);
			return;
		}
		break; /* ping, mass cancel of every symbol, cancel by an unknown client id */
	}
	struct sx_merge_fifo *f = &b->merges[c->session];
	if (f->tail - f->head == SX_MERGES_PER_SESSION) {
		/* Too many such requests of this session unanswered: refused
		 * (in matcher 0's order), never waited for, since waiting would
		 * hold up every session of its gateway. */
		c->op = SX_CMD_REJECT;
		c->flags = 0;
		c->pad = SHMEX_R_RATE_LIMIT;
		sx_bank_to_matcher(b, 0, c);
		return;
	}
	struct sx_merge *mg = &f->m[f->tail++ % SX_MERGES_PER_SESSION];
	memset(mg, 0, sizeof *mg);
	mg->request_no = c->request_no;
	mg->left = b->M;
	mg->op = c->op;
	b->merges_open++;
	sx_broadcast(b, c);
}

/* One matcher's DONE answer to a broadcast request. */
static void sx_merge_add(struct sx_bank *b, struct sx_merge *mg, const struct sx_out *msg)
{
	const struct shmex_report *r = &msg->rep;
	if (mg->op == SX_CMD_MASS_CANCEL && r->kind == SHMEX_RPT_MASS_CANCEL)
		mg->count += (uint64_t)r->last_qty;
	/* Cancel by client id: the matcher that had the order answers with
	 * its report, the others with UNKNOWN_ORDER. Otherwise the answers
	 * agree but for the count (mass cancel) or are the same (ping). */
	const uint16_t g = b->session_gw[msg->session];
	if (mg->has_best && mg->best.kind != SHMEX_RPT_REJECT && r->kind != SHMEX_RPT_REJECT &&
	    mg->op == SX_CMD_CANCEL) {
		/* A client id live on two matchers (unique per matcher only):
		 * both orders were cancelled; the session hears of each, this
		 * one as an ordinary report of the request, before its DONE. */
		if (g < b->G) {
			struct sx_out extra = *msg;
			extra.rep.flags &= (uint8_t)~SHMEX_RPTF_DONE;
			sx_bank_out(b, g, &extra);
		}
	} else if (!mg->has_best ||
		   (mg->best.kind == SHMEX_RPT_REJECT && r->kind != SHMEX_RPT_REJECT)) {
		mg->best = *r;
	}
	mg->has_best = 1;
	if (--mg->left != 0)
		return;
	struct sx_out out;
	memset(&out, 0, sizeof out);
	out.kind = SX_OUT_REPORT;
	out.session = msg->session;
	out.rep = mg->best;
	if (out.rep.kind == SHMEX_RPT_MASS_CANCEL)
		out.rep.last_qty = (int64_t)mg->count;
	/* A ping's or mass cancel's sequence: the engine's now, at or beyond
	 * every event reported before it (each matcher's own would not be). */
	if (out.rep.kind == SHMEX_RPT_PONG || out.rep.kind == SHMEX_RPT_MASS_CANCEL)
		/* relaxed: at least every number this thread saw (seq_counter) */
		out.rep.seq = __atomic_load_n(&b->e->seq_counter, __ATOMIC_RELAXED);
	if (g < b->G)
		sx_bank_out(b, g, &out);
	struct sx_merge_fifo *f = &b->merges[msg->session];
	while (f->head != f->tail && f->m[f->head % SX_MERGES_PER_SESSION].left == 0)
		f->head++;
	b->merges_open--;
}

static void sx_bank_from_matcher(struct sx_bank *b, uint32_t k, const struct sx_out *msg)
{
	switch (msg->kind) {
	case SX_OUT_TRANSFER:
		if (shmex_exchange_transfer_in(b->ex, msg->xfer_user, msg->xfer_asset,
					       msg->xfer_amount, k, NULL) != 0)
			sx_log("bank: funds from matcher %u refused: a bug", k);
		else if (b->ctl.mode == SX_BC_BALANCES)
			sx_bank_query_credit(b, k, msg->xfer_user, msg->xfer_asset, msg->xfer_amount);
		return;
	case SX_OUT_BALANCE:
		sx_bank_query_answer(b, k, msg);
		return;
	case SX_OUT_SESSION_CLOSED:
		if (msg->session < b->e->cfg.max_sessions && b->closing[msg->session] > 0 &&
		    --b->closing[msg->session] == 0) {
			const uint16_t g = b->session_gw[msg->session];
			b->session_gw[msg->session] = 0xffff;
			if (g < b->G)
				sx_bank_out(b, g, msg);
		}
		return;
	case SX_OUT_FENCE: {
		/* Fences went to every matcher in one order, and each answers
		 * them in that order: the oldest is passed on to its gateway
		 * once every matcher has answered it. */
		b->fence_seen[k]++;
		uint64_t min = UINT64_MAX;
		for (uint32_t j = 0; j < b->M; j++)
			if (b->fence_seen[j] < min)
				min = b->fence_seen[j];
		while (b->fence_head < min && b->fence_head < b->fence_tail) {
			const uint16_t gw = b->fence_gw[b->fence_head++ % SX_FENCES_MAX];
			if (gw < b->G)
				sx_bank_out(b, gw, msg);
		}
		return;
	}
	case SX_OUT_REPORT:
		break;
	default:
		return;
	}
	const struct shmex_report *r = &msg->rep;
	const uint32_t nusers = b->e->cfg.exchange.max_users;
	if ((r->flags & SHMEX_RPTF_DONE) && msg->pad == SX_CMD_SUBMIT && r->user <= nusers &&
	    b->submits[r->user] > 0)
		b->submits[r->user]--; /* the new order is answered: open or not */
	if (r->kind == SHMEX_RPT_ORDER && r->order_id != 0 && r->user <= nusers &&
	    (r->status == SHMEX_OS_FILLED || r->status == SHMEX_OS_CANCELLED ||
	     r->status == SHMEX_OS_REJECTED || r->status == SHMEX_OS_EXPIRED)) {
		const size_t i = (size_t)k * (b->omask + 1) + (r->order_id & b->omask);
		if (b->oid[i] == r->order_id && b->ocounted[i]) {
			b->ocounted[i] = 0;
			b->open_orders[r->user]--;
		}
	}
	/* An order's first report (ACCEPTED, or PARKED for a stop) tells its
	 * symbol, which an amend of it will need, and makes it open. */
	if (r->kind == SHMEX_RPT_ORDER && r->order_id != 0 &&
	    (r->what == SHMEX_EV_ACCEPTED || r->what == SHMEX_EV_PARKED)) {
		const size_t i = (size_t)k * (b->omask + 1) + (r->order_id & b->omask);
		if (!(b->oid[i] == r->order_id && b->ocounted[i]) && r->user <= nusers &&
		    r->status != SHMEX_OS_FILLED && r->status != SHMEX_OS_CANCELLED &&
		    r->status != SHMEX_OS_REJECTED && r->status != SHMEX_OS_EXPIRED) {
			b->ocounted[i] = 1;
			b->open_orders[r->user]++;
		}
		b->oid[i] = r->order_id;
		b->osym[i] = r->symbol;
		/* Where a cancel by this client id goes: the matcher of the
		 * latest order accepted with it (a submit refused before its
		 * book, for an unknown symbol say, must not move the route of
		 * a live order elsewhere). */
		if (r->client_id != 0)
			*sx_clid_slot(b, r->user, r->client_id) =
				(struct sx_clid_route){ r->client_id, r->user, k };
	}
	if (msg->session >= b->e->cfg.max_sessions)
		return;
	if (b->merges_open && (r->flags & SHMEX_RPTF_DONE)) {
		struct sx_merge *mg = sx_merge_find(b, msg->session, r->request_no);
		if (mg && mg->left) {
			sx_merge_add(b, mg, msg);
			return;
		}
	}
	const uint16_t g = b->session_gw[msg->session];
	if (g < b->G)
		sx_bank_out(b, g, msg);
}

int sx_bank_drain_matcher(struct sx_bank *b, uint32_t k)
{
	const int64_t n = shmex_ring_available(&b->mout[k]);
	if (n <= 0)
		return 0;
	for (int64_t i = 0; i < n; i++) {
		/* Trusted (our matcher): read in place. */
		const struct sx_out *msg = shmex_ring_peek(&b->mout[k], (uint32_t)i);
		sx_bank_from_matcher(b, k, msg);
	}
	shmex_ring_consume(&b->mout[k], (uint32_t)n);
	return (int)n;
}

int sx_bank_work(void *arg)
{
	struct sx_bank *b = arg;
	struct sx_engine *e = b->e;
	int work = 0;
	/* What the matchers sent first: funds come back before new orders
	 * may need them. */
	for (uint32_t k = 0; k < b->M; k++)
		work += sx_bank_drain_matcher(b, k);
	int clock_read = 0;
	for (uint32_t g = 0; g < b->G; g++) {
		int64_t n = shmex_ring_available(&b->gcmd[g]);
		if (n <= 0)
			continue;
		if (!clock_read) {
			/* The users' order rates are counted at this clock (the
			 * bank's exchange has no orders: no book is visited). */
			shmex_exchange_advance(b->ex, sx_now_ns() - e->start_ns);
			clock_read = 1;
		}
		if (n > SX_BANK_BATCH)
			n = SX_BANK_BATCH;
		int64_t i = 0;
		for (; i < n; i++) {
			struct sx_cmd c;
			shmex_ring_read(&b->gcmd[g], (uint32_t)i, &c, sizeof c);
			const uint32_t k = sx_bank_target(b, &c);
			if (!sx_bank_room(b, k))
				break;
			sx_bank_cmd(b, g, &c, k);
		}
		if (i > 0)
			shmex_ring_consume(&b->gcmd[g], (uint32_t)i);
		work += (int)i;
	}
	work += sx_bank_control(b);
	for (uint32_t k = 0; k < b->M; k++)
		if (b->mcmd_dirty[k]) {
			b->mcmd_dirty[k] = 0;
			sx_bell_ring(&e->matcher_bells[k]);
		}
	for (uint32_t g = 0; g < b->G; g++)
		if (b->gout_dirty[g]) {
			b->gout_dirty[g] = 0;
			sx_bell_ring(&e->bells[g]);
		}
	sx_bank_ledger_flush(b, work == 0);
	if (work)
		__atomic_store_n(&e->seq_now, __atomic_load_n(&e->seq_counter, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	return work;
}

struct shmex_exchange *sx_bank_exchange(struct sx_bank *b)
{
	return b->ex;
}
