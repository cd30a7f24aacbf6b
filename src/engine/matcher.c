/*
 * The matcher agent: owns an exchange and runs every command sent to it,
 * in the order each sender sent them. Reports from the exchange's sink are
 * routed to the session that placed the order (owners.c); the last report
 * a command produced for its own session carries SHMEX_RPTF_DONE. Ledger
 * entries go to the journal's ring when the journal runs.
 *
 * One matcher: its exchange holds every book and every account, and it
 * talks to the gateways directly. Several matchers (docs/ARCHITECTURE.md,
 * "Several matchers"): each exchange holds the books of its symbols and,
 * per user, only the funds its orders hold; the bank (bank.c) owns the
 * rest and is this matcher's only sender. A command arrives with the funds
 * the bank moved for it (credited before it runs); after it, every
 * balance it left available goes back to the bank (SX_OUT_TRANSFER),
 * ahead of the command's reports, so a client that has its answer finds
 * its proceeds at the bank already.
 *
 * Events take their numbers when they are applied, on this thread (from
 * the exchange's own sequence, or from the engine's shared counter with
 * several matchers: see sx_next_seq() in src/exchange/).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "owners.h"
#include "report_convert.h"

#define SX_CMD_BATCH 64u
#define SX_STAGE_MIN 4096u    /* reports held until a command's funds are back (at least) */
#define SX_TOUCHED_MAX 16384u /* accounts a command moved (beyond: all are swept) */

struct sx_touched {
	uint32_t user, asset;
};

struct sx_matcher {
	struct sx_engine *e;
	struct shmex_exchange *ex;
	struct sx_owners *owners;
	uint32_t index;
	uint8_t shard;            /* several matchers: the bank is our only sender */
	uint8_t journal;          /* ledger entries go to the journal */
	uint32_t ngw;             /* senders: the gateways, or 1 (the bank) */
	struct shmex_ring *cmd;   /* [ngw] consumer views */
	struct shmex_ring *out;   /* [ngw] producer views */
	struct shmex_bell **out_bell; /* [ngw] the reader's bell */
	uint8_t *out_dirty;       /* [ngw] published since the last bell */
	struct shmex_ring ctl_in, ctl_out; /* control requests and answers */
	struct shmex_ring ledger;  /* producer view, to the journal */
	struct sx_ctl_exec exec;
	uint64_t marked_seq;      /* the counter at the last idle mark */
	/* shard: reports of the running command, and the accounts it moved */
	struct sx_out *stage;
	uint32_t staged, stage_cap;
	uint32_t ntouched;
	struct sx_touched *touched;
	uint16_t *session_gw;     /* [max_sessions] gateway of each session */
	/* the command being run */
	uint16_t cur_session;
	uint8_t cur_op;
	uint8_t has_pending;
	uint64_t cur_request;
	uint64_t cur_order;       /* SUBMIT: the new order's id, once seen */
	uint64_t target_order;    /* CANCEL/AMEND: the order acted on */
	uint8_t has_target_report;
	struct shmex_report pending;
	struct shmex_report target_report;
	int64_t last_clock;
	uint32_t idle_cycles;
	uint32_t ledger_open;     /* ledger entries since the last end mark */
	uint8_t ledger_pushed;    /* entries for the journal this cycle: ring its bell */
	uint64_t ids[256];
};

/* Writes one out message for sender @p g; waits (or, in the shared
 * layout, lets the gateway drain in this thread) while its ring is full. */
static void sx_out_push(struct sx_matcher *m, uint32_t g, const struct sx_out *msg)
{
	if (m->e->cfg.layout == SX_LAYOUT_SHARED) {
		while (shmex_ring_push(&m->out[g], msg, sizeof *msg) != 1)
			sx_gateway_drain_out(m->e->gateways[g]);
	} else if (!sx_push_wait(m->e, &m->out[g], msg, sizeof *msg, m->out_bell[g])) {
		return; /* stopping: the reader's thread may be gone already */
	}
	m->out_dirty[g] = 1;
}

static void sx_sweep(struct sx_matcher *m);

/* Several matchers: the command's funds go back before its reports
 * (@p sweep: between commands only; the stage filling up in the middle of
 * one only sends what it holds, since the exchange is inside an event
 * then and must not be called again). */
static void sx_stage_flush(struct sx_matcher *m, int sweep)
{
	if (sweep)
		sx_sweep(m);
	for (uint32_t i = 0; i < m->staged; i++)
		sx_out_push(m, 0, &m->stage[i]);
	m->staged = 0;
}

/* An out message in its place among the command's reports. */
static void sx_out_send(struct sx_matcher *m, uint32_t g, const struct sx_out *msg)
{
	if (!m->shard) {
		sx_out_push(m, g, msg);
		return;
	}
	if (m->staged == m->stage_cap)
		sx_stage_flush(m, 0);
	m->stage[m->staged++] = *msg;
}

static void sx_emit(struct sx_matcher *m, uint16_t session, const struct shmex_report *rep)
{
	uint16_t g = session < m->e->cfg.max_sessions ? m->session_gw[session] : 0xffff;
	if (g >= m->ngw) {
		/* No session takes it (gone, or none). With several matchers
		 * the bank still counts its user's open orders from it. */
		if (!m->shard)
			return;
		g = 0;
		session = SX_NO_SESSION;
	}
	struct sx_out msg;
	memset(&msg, 0, sizeof msg);
	msg.kind = SX_OUT_REPORT;
	msg.session = session;
	/* The bank counts new orders in flight: it must know which DONE
	 * answers a submit. */
	if (rep->flags & SHMEX_RPTF_DONE)
		msg.pad = m->cur_op;
	msg.rep = *rep;
	sx_out_send(m, g, &msg);
}

/* The requester's own reports are held back by one, so the last can be
 * marked DONE when the command ends. */
static void sx_emit_own(struct sx_matcher *m, const struct shmex_report *rep)
{
	if (m->has_pending)
		sx_emit(m, m->cur_session, &m->pending);
	m->pending = *rep;
	m->pending.request_no = m->cur_request;
	m->has_pending = 1;
}

static int sx_status_final(uint8_t status)
{
	return status == SHMEX_OS_FILLED || status == SHMEX_OS_CANCELLED ||
	       status == SHMEX_OS_REJECTED || status == SHMEX_OS_EXPIRED;
}

/* Exchange report sink (this thread). */
static void sx_on_report(void *ctx, const struct shmex_order_report *r)
{
	struct sx_matcher *m = ctx;
	struct shmex_report rep;
	sx_report_from_order(r, &rep);
	uint16_t target;
	if (m->cur_op == SX_CMD_SUBMIT && m->cur_order == 0) {
		/* The first report of a submit is the new order's (ACCEPTED or
		 * REJECTED, before any matching). */
		m->cur_order = r->order_id;
		if (!sx_status_final(r->status))
			sx_owners_add(m->owners, r->order_id, m->cur_session);
		target = m->cur_session;
	} else if (m->cur_op == SX_CMD_SUBMIT && r->order_id == m->cur_order) {
		target = m->cur_session;
	} else {
		target = sx_owners_find(m->owners, r->order_id);
	}
	if (sx_status_final(r->status))
		sx_owners_remove(m->owners, r->order_id);
	if (m->target_order != 0 && r->order_id == m->target_order) {
		m->target_report = rep;
		m->has_target_report = 1;
	}
	if (target == m->cur_session && m->cur_session != SX_NO_SESSION)
		sx_emit_own(m, &rep);
	else
		sx_emit(m, target, &rep);
}

static void sx_on_ledger(void *ctx, const struct shmex_ledger_entry *le)
{
	struct sx_matcher *m = ctx;
	struct sx_engine *e = m->e;
	if (m->shard && le->d_available > 0 && le->user != SHMEX_FEE_ACCOUNT) {
		if (m->ntouched < SX_TOUCHED_MAX)
			m->touched[m->ntouched] = (struct sx_touched){ le->user, le->asset };
		m->ntouched++; /* beyond the array: sx_sweep() visits every account */
	}
	if (!m->journal)
		return;
	/* Stopping: the journal may be gone (it folds what is left). */
	if (!sx_push_wait(e, &m->ledger, le, sizeof *le, &e->journal_bell))
		return;
	m->ledger_open++;
	m->ledger_pushed = 1;
}

/* The journal's frontier mark: every event this exchange numbered so far
 * is in the ring, and its later ones will take larger numbers (journal.c).
 * With the shared counter, its value now bounds both. */
static void sx_push_mark(struct sx_matcher *m)
{
	struct shmex_ledger_entry mark;
	memset(&mark, 0, sizeof mark);
	/* relaxed: at least this thread's last number, by coherence (engine.h) */
	mark.seq = m->shard ? __atomic_load_n(&m->e->seq_counter, __ATOMIC_RELAXED)
			    : shmex_exchange_seq(m->ex);
	sx_on_ledger(m, &mark);
	m->marked_seq = mark.seq;
}

/* After a command: marks the end of its events for the journal. */
static void sx_ledger_mark(struct sx_matcher *m)
{
	if (!m->ledger_open)
		return;
	sx_push_mark(m);
	m->ledger_open = 0;
}

/* Several matchers: gives the bank every balance the last commands left
 * available here (proceeds, releases, fees, funds an order did not need).
 * Between commands this exchange holds only what live orders lock. */
static void sx_sweep(struct sx_matcher *m)
{
	if (!m->shard || m->ntouched == 0)
		return;
	const uint32_t n = m->ntouched;
	uint32_t users, assets;
	shmex_exchange_counts(m->ex, &assets, NULL, &users);
	for (uint32_t i = 0, u = 0, a = 1;; i++) {
		uint32_t user, asset;
		if (n <= SX_TOUCHED_MAX) {
			if (i == n)
				break;
			user = m->touched[i].user;
			asset = m->touched[i].asset;
		} else { /* too many to list: every account (cold) */
			if (u > users)
				break;
			user = u;
			asset = a;
			if (++a > assets) {
				a = 1;
				u++;
			}
		}
		/* The fee account stays: fees round once per order, so a trade
		 * may cost it the unit an earlier fill of the same orders gave
		 * it, and only the gains this exchange's symbols left it keep
		 * it from going below zero (it is never withdrawn; balance
		 * queries add every exchange's). */
		struct shmex_balance b;
		if (user == SHMEX_FEE_ACCOUNT ||
		    shmex_exchange_balance(m->ex, user, asset, &b) != 0 || b.available <= 0)
			continue;
		if (shmex_exchange_transfer_out(m->ex, user, asset, b.available, m->e->nmatchers,
						NULL) != 0)
			continue;
		struct sx_out msg;
		memset(&msg, 0, sizeof msg);
		msg.kind = SX_OUT_TRANSFER;
		msg.session = SX_NO_SESSION;
		msg.xfer_user = user;
		msg.xfer_asset = asset;
		msg.xfer_amount = b.available;
		sx_out_push(m, 0, &msg);
	}
	m->ntouched = 0;
}

/* A report for a request refused without an exchange event. */
static void sx_reject(struct sx_matcher *m, const struct sx_cmd *c, uint16_t reason)
{
	struct shmex_report rep;
	memset(&rep, 0, sizeof rep);
	rep.kind = SHMEX_RPT_REJECT;
	rep.reason = reason;
	if (c->op == SX_CMD_SUBMIT || (c->op == SX_CMD_REJECT && (c->flags & SX_REJECT_SUBMIT))) {
		rep.user = c->u.submit.user;
		rep.symbol = c->u.submit.symbol;
		rep.client_id = c->u.submit.client_id;
		rep.side = c->u.submit.side;
		rep.price = c->u.submit.price;
		rep.qty = c->u.submit.qty;
	} else {
		rep.user = c->u.target.user;
		rep.symbol = c->u.target.symbol;
		rep.order_id = c->u.target.order_id;
		rep.client_id = c->u.target.client_id;
	}
	rep.status = SHMEX_OS_REJECTED;
	rep.time = shmex_exchange_now(m->ex);
	sx_emit_own(m, &rep);
}

static void sx_run_target(struct sx_matcher *m, const struct sx_cmd *c)
{
	struct shmex_order_ack ack;
	memset(&ack, 0, sizeof ack);
	uint64_t id = c->u.target.order_id;
	int rc = 0;
	if (id == 0 && shmex_exchange_find_client_id(m->ex, c->u.target.user,
						     c->u.target.client_id, &id) != 0)
		rc = SHMEX_E_UNKNOWN_ORDER;
	m->target_order = id;
	if (rc == 0) {
		if (c->op == SX_CMD_CANCEL)
			rc = shmex_exchange_cancel(m->ex, c->u.target.user, id, &ack);
		else
			rc = shmex_exchange_amend(m->ex, c->u.target.user, id, c->u.target.price,
						  c->u.target.qty, &ack);
	}
	if (!m->has_pending) {
		/* The order belongs to another session of the user (it got the
		 * report): the requester gets a copy as its answer. */
		if (m->has_target_report)
			sx_emit_own(m, &m->target_report);
		else
			sx_reject(m, c, sx_reason_of(rc, &ack));
	}
}

static void sx_run_mass_cancel(struct sx_matcher *m, const struct sx_cmd *c)
{
	uint32_t count = 0;
	int rc = shmex_exchange_mass_cancel(m->ex, c->u.target.user, c->u.target.symbol, &count);
	if (rc != 0) {
		struct shmex_order_ack ack = { 0 };
		sx_reject(m, c, sx_reason_of(rc, &ack));
		return;
	}
	struct shmex_report rep;
	memset(&rep, 0, sizeof rep);
	rep.kind = SHMEX_RPT_MASS_CANCEL;
	rep.user = c->u.target.user;
	rep.symbol = c->u.target.symbol;
	rep.last_qty = count;
	rep.seq = shmex_exchange_seq(m->ex);
	rep.time = shmex_exchange_now(m->ex);
	sx_emit_own(m, &rep);
}

/* The session is gone: cancel its orders if it asked, forget them, and
 * tell its gateway nothing more will come for it. */
static void sx_run_session_end(struct sx_matcher *m, uint32_t g, const struct sx_cmd *c)
{
	const uint16_t s = c->session;
	m->cur_session = SX_NO_SESSION; /* its reports go nowhere now */
	uint32_t n;
	do {
		n = sx_owners_take_session(m->owners, s, m->ids, 256);
		for (uint32_t i = 0; i < n && (c->flags & SHMEX_SESSION_CANCEL_ON_DISCONNECT); i++) {
			struct shmex_order_state st;
			if (shmex_exchange_order(m->ex, m->ids[i], &st) == 0 && st.live)
				shmex_exchange_cancel(m->ex, st.user, m->ids[i], NULL);
		}
	} while (n == 256);
	struct sx_out msg;
	memset(&msg, 0, sizeof msg);
	msg.kind = SX_OUT_SESSION_CLOSED;
	msg.session = s;
	sx_out_send(m, g, &msg);
	m->session_gw[s] = 0xffff;
}

/* Several matchers: credits the funds the bank moved for this command. */
static void sx_take_funds(struct sx_matcher *m, const struct sx_cmd *c)
{
	const uint32_t user = c->op == SX_CMD_SUBMIT ? c->u.submit.user : c->u.target.user;
	for (int i = 0; i < 2; i++) {
		if (c->xfer_asset[i] == 0 || c->xfer_amount[i] <= 0)
			continue;
		int rc = shmex_exchange_transfer_in(m->ex, user, c->xfer_asset[i], c->xfer_amount[i],
						    m->e->nmatchers, NULL);
		if (rc != 0) /* the bank moves funds only for users and assets all know */
			sx_log("matcher %u: funds from the bank refused (%s): a bug", m->index,
			       shmex_strerror(rc));
	}
}

/* Several matchers: the bank's balance query, answered at this point of
 * the command stream, through the ring that carries the funds given back,
 * so that the bank can tell which transfers came before it (bank_ctl.c). */
static void sx_run_balances(struct sx_matcher *m, uint32_t g, const struct sx_cmd *c)
{
	uint32_t nassets = 0;
	shmex_exchange_counts(m->ex, &nassets, NULL, NULL);
	struct sx_out msg;
	memset(&msg, 0, sizeof msg);
	msg.kind = SX_OUT_BALANCE;
	msg.session = SX_NO_SESSION;
	msg.xfer_user = c->u.target.user;
	for (uint32_t a = 1; a <= nassets; a++) {
		struct shmex_balance b = { 0, 0 };
		shmex_exchange_balance(m->ex, c->u.target.user, a, &b);
		msg.xfer_asset = a;
		msg.xfer_amount = b.available;
		msg.rep.qty = b.locked;
		msg.pad = a == nassets;
		sx_out_send(m, g, &msg);
	}
	if (nassets == 0) {
		msg.pad = 1;
		sx_out_send(m, g, &msg);
	}
}

static void sx_run(struct sx_matcher *m, uint32_t g, const struct sx_cmd *c)
{
	if (c->session >= m->e->cfg.max_sessions)
		return; /* gateways are trusted; this would be a bug */
	/* A fence (a gateway's own command) and a balance query (the bank's)
	 * carry session 0 by convention: they must not move session 0's
	 * reports to their sender. */
	if (c->op != SX_CMD_FENCE && c->op != SX_CMD_BALANCES)
		m->session_gw[c->session] = (uint16_t)g;
	m->cur_session = c->session;
	m->cur_request = c->request_no;
	m->cur_op = c->op;
	m->cur_order = 0;
	m->target_order = 0;
	m->has_target_report = 0;
	m->has_pending = 0;
	if (m->shard && (c->op == SX_CMD_SUBMIT || c->op == SX_CMD_AMEND))
		sx_take_funds(m, c);
	switch (c->op) {
	case SX_CMD_SUBMIT: {
		struct shmex_order_ack ack;
		int rc = shmex_exchange_submit(m->ex, &c->u.submit, &ack);
		if (!m->has_pending)
			sx_reject(m, c, sx_reason_of(rc, &ack));
		break;
	}
	case SX_CMD_CANCEL:
	case SX_CMD_AMEND:
		sx_run_target(m, c);
		break;
	case SX_CMD_MASS_CANCEL:
		sx_run_mass_cancel(m, c);
		break;
	case SX_CMD_PING: {
		struct shmex_report rep;
		memset(&rep, 0, sizeof rep);
		rep.kind = SHMEX_RPT_PONG;
		rep.client_id = c->u.target.client_id;
		rep.seq = shmex_exchange_seq(m->ex);
		rep.time = shmex_exchange_now(m->ex);
		sx_emit_own(m, &rep);
		break;
	}
	case SX_CMD_SESSION_END:
		sx_run_session_end(m, g, c);
		break;
	case SX_CMD_REJECT:
		sx_reject(m, c, (uint16_t)c->pad);
		break;
	case SX_CMD_BALANCES:
		sx_run_balances(m, g, c);
		break;
	case SX_CMD_FENCE: {
		struct sx_out msg;
		memset(&msg, 0, sizeof msg);
		msg.kind = SX_OUT_FENCE;
		msg.session = c->session;
		sx_out_send(m, g, &msg);
		break;
	}
	default:
		break;
	}
	if (m->has_pending) {
		m->pending.flags |= SHMEX_RPTF_DONE;
		sx_emit(m, m->cur_session, &m->pending);
		m->has_pending = 0;
	}
	if (m->shard)
		sx_stage_flush(m, 1);
	m->cur_op = 0;
	m->cur_session = SX_NO_SESSION;
	sx_ledger_mark(m);
}

/* Prefetch hint for a queued command (read in place: the ring is ours). */
static void sx_hint(const struct sx_matcher *m, const void *slot, int stage)
{
	const struct sx_cmd *c = slot;
	if (c->op == SX_CMD_SUBMIT)
		shmex_exchange_prefetch_submit(m->ex, &c->u.submit, stage);
	else if ((c->op == SX_CMD_CANCEL || c->op == SX_CMD_AMEND) && c->u.target.order_id)
		shmex_exchange_prefetch_order(m->ex, c->u.target.order_id, stage);
	else if (c->op == SX_CMD_CANCEL && stage == 0)
		shmex_exchange_prefetch_client_id(m->ex, c->u.target.user, c->u.target.client_id);
}

int sx_matcher_work(void *arg)
{
	struct sx_matcher *m = arg;
	struct sx_engine *e = m->e;
	int work = 0;
	/* The clock (vDSO, ~20-35 ns on a VM) is read before commands, which
	 * it stamps and rate-limits, and every 16th idle cycle for expiries. */
	int pending = 0;
	for (uint32_t g = 0; g < m->ngw && !pending; g++)
		pending = shmex_ring_available(&m->cmd[g]) > 0;
	if (pending || (++m->idle_cycles & 15) == 0) {
		const int64_t now = sx_now_ns() - e->start_ns;
		if (now > m->last_clock) {
			m->cur_session = SX_NO_SESSION;
			shmex_exchange_advance(m->ex, now);
			m->last_clock = now;
			if (m->shard)
				sx_stage_flush(m, 1);
			sx_ledger_mark(m);
		}
		/* Several exchanges: an idle one still moves the journal's
		 * frontier on (journal.c), now and then. */
		if (!pending && m->shard && m->journal &&
		    __atomic_load_n(&e->seq_counter, __ATOMIC_RELAXED) != m->marked_seq)
			sx_push_mark(m);
	}
	for (uint32_t g = 0; g < m->ngw; g++) {
		int64_t n = shmex_ring_available(&m->cmd[g]);
		if (n <= 0)
			continue;
		if (n > SX_CMD_BATCH)
			n = SX_CMD_BATCH;
		for (int64_t i = 0; i < n; i++) {
			/* The commands behind this one are already here: start
			 * their memory loads (the exchange's and book's hints),
			 * two stages at distances 2 and 1. */
			if (i + 2 < n)
				sx_hint(m, shmex_ring_peek(&m->cmd[g], (uint32_t)(i + 2)), 0);
			if (i + 1 < n)
				sx_hint(m, shmex_ring_peek(&m->cmd[g], (uint32_t)(i + 1)), 1);
			struct sx_cmd c;
			shmex_ring_read(&m->cmd[g], (uint32_t)i, &c, sizeof c);
			sx_run(m, g, &c);
		}
		shmex_ring_consume(&m->cmd[g], (uint32_t)n);
		work += (int)n;
	}
	/* Control requests (cold path), one per cycle. */
	if (shmex_ring_available(&m->ctl_in) > 0) {
		static _Thread_local struct sx_ctl_in in;
		shmex_ring_read(&m->ctl_in, 0, &in, sizeof in);
		shmex_ring_consume(&m->ctl_in, 1);
		m->cur_session = SX_NO_SESSION;
		sx_ctl_execute(&m->exec, &in);
		if (m->shard) {
			sx_stage_flush(m, 1);
			sx_bell_ring(&e->bank_bell);
		} else {
			sx_engine_wake_control(e);
		}
		sx_ledger_mark(m);
		work++;
	}
	for (uint32_t g = 0; g < m->ngw; g++)
		if (m->out_dirty[g]) {
			m->out_dirty[g] = 0;
			if (e->cfg.layout != SX_LAYOUT_SHARED)
				sx_bell_ring(m->out_bell[g]);
		}
	/* Several exchanges: a busy one that wrote no entry (refusals, say)
	 * still moves the journal's frontier on, every cycle. */
	if (work && m->shard && m->journal &&
	    __atomic_load_n(&e->seq_counter, __ATOMIC_RELAXED) != m->marked_seq)
		sx_push_mark(m);
	if (m->ledger_pushed) {
		m->ledger_pushed = 0;
		sx_bell_ring(&e->journal_bell);
	}
	if (work && !m->shard)
		__atomic_store_n(&e->seq_now, shmex_exchange_seq(m->ex), __ATOMIC_RELAXED);
	return work;
}

struct shmex_exchange *sx_matcher_exchange(struct sx_matcher *m)
{
	return m->ex;
}

int sx_matcher_create(struct sx_engine *e, uint32_t index, struct sx_matcher **out)
{
	struct sx_matcher *m = calloc(1, sizeof *m);
	if (!m)
		return SHMEX_E_NOMEM;
	m->e = e;
	m->index = index;
	m->shard = e->nmatchers > 1;
	m->journal = e->check_events != 0;
	m->ngw = m->shard ? 1 : e->cfg.gateways;
	m->cur_session = SX_NO_SESSION;
	m->cmd = calloc(m->ngw, sizeof *m->cmd);
	m->out = calloc(m->ngw, sizeof *m->out);
	m->out_bell = calloc(m->ngw, sizeof *m->out_bell);
	m->out_dirty = calloc(m->ngw, 1);
	m->session_gw = malloc(e->cfg.max_sessions * sizeof *m->session_gw);
	if (m->shard) {
		/* Room for the reports of an order's whole execution on the
		 * configured symbols (two per match, and its own), so that its
		 * funds go back before any of them; beyond that (a symbol added
		 * later with a larger bound, a mass cancel or an expiry pass
		 * over more orders) the reports leave first (ARCHITECTURE.md). */
		uint64_t cap = SX_STAGE_MIN;
		for (uint32_t i = 0; i < e->cfg.nsymbols; i++) {
			const uint64_t mm = e->cfg.symbols[i].p.max_matches
						    ? e->cfg.symbols[i].p.max_matches
						    : SHMEX_MAX_MATCHES_DEFAULT;
			if (4 * mm + 64 > cap)
				cap = 4 * mm + 64;
		}
		m->stage_cap = cap < (1u << 22) ? (uint32_t)cap : (1u << 22);
		m->stage = aligned_alloc(64, (size_t)m->stage_cap * sizeof *m->stage);
		m->touched = malloc(SX_TOUCHED_MAX * sizeof *m->touched);
	}
	struct shmex_exchange_config xc = e->cfg.exchange;
	xc.report_sink = sx_on_report;
	xc.report_ctx = m;
	if (m->journal || m->shard) {
		xc.ledger_sink = sx_on_ledger;
		xc.ledger_ctx = m;
	}
	if (m->shard) {
		xc.shared_seq = &e->seq_counter;
		xc.id_base = (uint64_t)index << 48;
		/* A user's open-order limit and order rate are the bank's, one
		 * count across the matchers (it flags what they refuse). */
		xc.max_open_orders = 0;
		xc.rate_per_sec = 0;
	}
	int rc = (!m->cmd || !m->out || !m->out_bell || !m->out_dirty || !m->session_gw ||
		  (m->shard && (!m->stage || !m->touched)))
			 ? SHMEX_E_NOMEM
			 : shmex_exchange_create(&xc, &m->ex);
	if (rc == 0) {
		m->owners = sx_owners_create(shmex_exchange_order_capacity(m->ex),
					     e->cfg.max_sessions);
		if (!m->owners)
			rc = SHMEX_E_NOMEM;
	}
	for (uint32_t g = 0; rc == 0 && g < m->ngw; g++) {
		void *cm = m->shard ? e->mcmd_mem[index] : e->cmd_mem[g];
		void *om = m->shard ? e->mout_mem[index] : e->out_mem[g];
		m->out_bell[g] = m->shard ? &e->bank_bell : &e->bells[g];
		if (shmex_ring_attach(&m->cmd[g], cm, SX_CMD_SLOTS, SX_CMD_SLOT) != 0 ||
		    shmex_ring_attach(&m->out[g], om, SX_OUT_SLOTS, SX_OUT_SLOT) != 0)
			rc = SHMEX_E_INVAL;
	}
	if (rc == 0) {
		void *in = m->shard ? e->mctl_in_mem[index] : e->ring_mem[0];
		void *outm = m->shard ? e->mctl_out_mem[index] : e->ring_mem[1];
		if (shmex_ring_attach(&m->ctl_in, in, SX_CTL_IN_SLOTS, SX_CTL_IN_SLOT) != 0 ||
		    shmex_ring_attach(&m->ctl_out, outm, SX_CTL_OUT_SLOTS, SX_CTL_OUT_SLOT) != 0 ||
		    (m->journal && shmex_ring_attach(&m->ledger, e->ledger_mem[index],
						     SX_LEDGER_SLOTS,
						     sizeof(struct shmex_ledger_entry)) != 0))
			rc = SHMEX_E_INVAL;
	}
	if (rc != 0) {
		sx_matcher_destroy(m);
		return rc;
	}
	m->exec.e = e;
	m->exec.ex = m->ex;
	m->exec.reply = &m->ctl_out;
	memset(m->session_gw, 0xff, e->cfg.max_sessions * sizeof *m->session_gw);
	*out = m;
	return 0;
}

void sx_matcher_destroy(struct sx_matcher *m)
{
	if (!m)
		return;
	shmex_exchange_destroy(m->ex);
	sx_owners_destroy(m->owners);
	free(m->cmd);
	free(m->out);
	free(m->out_bell);
	free(m->out_dirty);
	free(m->session_gw);
	free(m->stage);
	free(m->touched);
	free(m);
}
