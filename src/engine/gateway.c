/*
 * The gateway agent: serves the sessions the control thread hands it.
 * Each duty cycle it takes hand-overs (control ring), writes the matcher's
 * reports into the sessions' response rings (out ring), and reads each
 * session's requests: copy, decode, check the grant, forward to the
 * matcher (cmd ring). Requests it refuses go to the matcher as REJECT
 * commands, so every session's answers stay in request order.
 *
 * A client is never waited for: a response ring that is full ends the
 * session (its reports would otherwise be lost or hold up everyone
 * behind it in the out ring); a broken ring index ends it too.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "rcu.h"
#include "registry.h"

#define SX_REQ_BATCH 32

struct sx_gw_session {
	uint8_t active;       /* attached and serving */
	uint8_t ending;       /* ended: no more requests read, no more reports written */
	uint8_t end_sent;     /* SESSION_END is with the matcher; SESSION_CLOSED will come */
	uint8_t dirty;        /* reports written this cycle */
	uint8_t end_reason;
	uint32_t uid;
	uint32_t flags;
	uint32_t ok_user;     /* last user the grant was checked for (0: none) */
	uint32_t drain_left;  /* draining: requests still to take (written before DRAIN) */
	uint64_t request_no;
	struct shmex_ring req;  /* consumer view */
	struct shmex_ring resp; /* producer view */
	struct shmex_bell *bell;
	struct sx_session *shared;
};

struct sx_gateway {
	struct sx_engine *e;
	uint32_t index;
	uint8_t draining, fenced, drained;
	struct shmex_ring cmd;  /* producer -> matcher */
	struct shmex_ring out;  /* consumer <- matcher */
	struct shmex_ring ctl;  /* consumer <- control */
	struct shmex_ring note; /* producer -> control */
	struct sx_gw_session *s; /* [max_sessions], by global slot */
	uint16_t *list;          /* active or ending slots */
	uint32_t nlist;
};

static void sx_note(struct sx_gateway *g, uint32_t session, uint32_t what, uint32_t reason)
{
	struct sx_gw_note n;
	memset(&n, 0, sizeof n);
	n.session = session;
	n.what = what;
	n.reason = reason;
	/* Never full: sized for every note that can be pending (engine.h). */
	if (shmex_ring_push(&g->note, &n, sizeof n) != 1)
		sx_log("gateway %u note ring full: a bug", g->index);
	sx_engine_wake_control(g->e);
}

/* Sends a command to the matcher; @return 0 if the cmd ring is full. */
static int sx_cmd_push(struct sx_gateway *g, const struct sx_cmd *c)
{
	return shmex_ring_push(&g->cmd, c, sizeof *c) == 1;
}

/* Starts ending a session: no more requests are read nor reports written.
 * SESSION_END goes to the matcher from the duty cycle (sx_send_ends), never
 * from here: this may run inside the matcher's own call (shared layout,
 * out ring full), where waiting for cmd ring room could never end. */
static void sx_session_end(struct sx_gateway *g, uint16_t slot, uint32_t reason)
{
	struct sx_gw_session *s = &g->s[slot];
	if (!s->active || s->ending)
		return;
	s->ending = 1;
	s->end_reason = (uint8_t)reason;
	if (reason == SX_END_HANGUP)
		return;
	/* Tell the client why: the last slot of its ring was kept for this
	 * (sx_write_report), unless the client broke the ring's indices. The
	 * socket closing says it in any case. */
	struct shmex_report rep;
	memset(&rep, 0, sizeof rep);
	rep.kind = SHMEX_RPT_ENDED;
	rep.reason = reason == SX_END_RING_FULL ? SHMEX_R_NOT_READING : SHMEX_R_RING_PROTOCOL;
	if (shmex_ring_push(&s->resp, &rep, sizeof rep) == 1)
		s->dirty = 1;
}

/* Tells the matcher about ended sessions, as cmd ring room allows; it
 * cancels their orders if they asked, then answers SESSION_CLOSED. */
static int sx_send_ends(struct sx_gateway *g)
{
	int work = 0;
	for (uint32_t i = 0; i < g->nlist; i++) {
		const uint16_t slot = g->list[i];
		struct sx_gw_session *s = &g->s[slot];
		if (!s->ending || s->end_sent)
			continue;
		struct sx_cmd c;
		memset(&c, 0, sizeof c);
		c.op = SX_CMD_SESSION_END;
		c.flags = (uint8_t)(s->flags & SHMEX_SESSION_CANCEL_ON_DISCONNECT);
		c.session = slot;
		if (!sx_cmd_push(g, &c))
			break;
		s->end_sent = 1;
		work++;
	}
	return work;
}

static void sx_attach(struct sx_gateway *g, uint32_t slot)
{
	struct sx_session *sh = &g->e->sessions[slot];
	struct sx_gw_session *s = &g->s[slot];
	memset(s, 0, sizeof *s);
	s->shared = sh;
	s->uid = sh->uid;
	s->flags = sh->flags;
	s->bell = shmex_session_bell(sh->mem);
	/* The control thread checked the layout it created; these views are
	 * ours, computed from its private copy, never from the region. */
	if (shmex_session_ring_attach(&s->req, sh->mem, &sh->layout.request) != 0 ||
	    shmex_session_ring_attach(&s->resp, sh->mem, &sh->layout.response) != 0) {
		sx_note(g, slot, 1, SX_END_PROTOCOL);
		return;
	}
	s->active = 1;
	if (g->drained) {
		/* Its handshake finished after the drain: it is told at once. */
		struct shmex_report rep;
		memset(&rep, 0, sizeof rep);
		rep.kind = SHMEX_RPT_SHUTDOWN;
		rep.reason = SHMEX_R_SHUTDOWN;
		if (shmex_ring_push(&s->resp, &rep, sizeof rep) == 1)
			s->dirty = 1;
		s->ending = 1;
		s->end_sent = 1;
	}
	g->list[g->nlist++] = (uint16_t)slot;
}

static void sx_forget(struct sx_gateway *g, uint16_t slot)
{
	for (uint32_t i = 0; i < g->nlist; i++)
		if (g->list[i] == slot) {
			g->list[i] = g->list[--g->nlist];
			break;
		}
	g->s[slot].active = 0;
	g->s[slot].ending = 0;
	g->s[slot].end_sent = 0;
}

static void sx_write_report(struct sx_gateway *g, uint16_t slot, const struct shmex_report *rep)
{
	struct sx_gw_session *s = &g->s[slot];
	if (!s->active || s->ending)
		return;
	/* The last free slot is kept for the ENDED report: a client that stops
	 * reading learns why its session ended. */
	const int64_t room = shmex_ring_room(&s->resp, 2);
	const int rc = room < 0 ? (int)room
		     : room < 2 ? 0
				: shmex_ring_push(&s->resp, rep, sizeof *rep);
	if (rc == 1) {
		s->dirty = 1;
		__atomic_fetch_add(&s->shared->reports, 1, __ATOMIC_RELAXED);
		return;
	}
	sx_log("session %u (%s, pid %u): %s, ending it", s->shared->id, s->shared->name,
	       s->shared->pid, rc == 0 ? "response ring full (client not reading)"
				       : "response ring index broken by the client");
	sx_session_end(g, slot, rc == 0 ? SX_END_RING_FULL : SX_END_PROTOCOL);
}

static void sx_shutdown_notice(struct sx_gateway *g)
{
	struct shmex_report rep;
	memset(&rep, 0, sizeof rep);
	rep.kind = SHMEX_RPT_SHUTDOWN;
	rep.reason = SHMEX_R_SHUTDOWN;
	for (uint32_t i = 0; i < g->nlist; i++) {
		struct sx_gw_session *s = &g->s[g->list[i]];
		if (s->active && !s->ending && shmex_ring_push(&s->resp, &rep, sizeof rep) == 1)
			s->dirty = 1;
		/* SHUTDOWN is the last report: nothing more is written (an
		 * expiry, a fill through another gateway), nothing more read.
		 * The engine stops: no SESSION_END is needed. */
		s->ending = 1;
		s->end_sent = 1;
	}
}

int sx_gateway_drain_out(struct sx_gateway *g)
{
	int work = 0;
	int64_t n = shmex_ring_available(&g->out);
	if (n <= 0)
		return 0;
	for (int64_t i = 0; i < n; i++) {
		const struct sx_out *o = shmex_ring_peek(&g->out, (uint32_t)i);
		/* Trusted (our matcher): read in place, no copy needed. */
		switch (o->kind) {
		case SX_OUT_REPORT:
			sx_write_report(g, o->session, &o->rep);
			break;
		case SX_OUT_SESSION_CLOSED: {
			const uint16_t slot = o->session;
			const uint32_t reason = g->s[slot].end_reason;
			sx_forget(g, slot);
			sx_note(g, slot, 1, reason);
			break;
		}
		case SX_OUT_FENCE:
			g->fenced = 1;
			break;
		default:
			break;
		}
	}
	shmex_ring_consume(&g->out, (uint32_t)n);
	work += (int)n;
	return work;
}

static int sx_take_ctl(struct sx_gateway *g)
{
	struct sx_gw_msg msg;
	int work = 0;
	while (shmex_ring_pop(&g->ctl, &msg, sizeof msg) == 1) {
		work++;
		if (msg.op == SX_GW_ATTACH && msg.session < g->e->cfg.max_sessions)
			sx_attach(g, msg.session);
		else if (msg.op == SX_GW_DETACH && msg.session < g->e->cfg.max_sessions)
			sx_session_end(g, (uint16_t)msg.session, SX_END_HANGUP);
		else if (msg.op == SX_GW_DRAIN && !g->draining) {
			/* Answer what each client had written by now, and no more:
			 * a client that keeps writing cannot put off the others'
			 * SHUTDOWN. */
			g->draining = 1;
			for (uint32_t i = 0; i < g->nlist; i++) {
				struct sx_gw_session *s = &g->s[g->list[i]];
				const int64_t n = shmex_ring_available(&s->req);
				s->drain_left = n > 0 ? (uint32_t)n : 0;
			}
		}
	}
	return work;
}

/* Whether the session may trade for @p user (a cached positive answer:
 * grants are only ever added). */
static int sx_granted(struct sx_gateway *g, struct sx_gw_session *s, uint32_t user)
{
	if (user == s->ok_user && user != 0)
		return 1;
	if (!(sx_registry_roles(g->e->reg, s->uid, user) & (SHMEX_ROLE_TRADER | SHMEX_ROLE_ADMIN)))
		return 0;
	s->ok_user = user;
	return 1;
}

/* A refused request, answered in its place by the matcher: a new order's
 * refusal carries what the exchange's would (side, price, quantity). */
static void sx_refuse(struct sx_cmd *c, const struct shmex_request *r, int reason)
{
	memset(c, 0, sizeof *c);
	c->op = SX_CMD_REJECT;
	c->pad = (uint32_t)reason;
	if (r->type == SHMEX_REQ_SUBMIT) {
		c->flags = SX_REJECT_SUBMIT;
		c->u.submit.user = r->user;
		c->u.submit.symbol = r->symbol;
		c->u.submit.client_id = r->client_id;
		c->u.submit.side = r->side;
		c->u.submit.price = r->price;
		c->u.submit.qty = r->qty;
		return;
	}
	c->u.target.user = r->user;
	c->u.target.symbol = r->symbol;
	c->u.target.order_id = r->order_id;
	c->u.target.client_id = r->client_id;
}

/* Reads up to a batch of one session's requests. */
static int sx_read_session(struct sx_gateway *g, uint16_t slot)
{
	struct sx_gw_session *s = &g->s[slot];
	const int64_t avail = shmex_ring_available(&s->req);
	if (avail < 0) {
		sx_log("session %u (%s, pid %u): request ring index broken by the client, ending it",
		       s->shared->id, s->shared->name, s->shared->pid);
		sx_session_end(g, slot, SX_END_PROTOCOL);
		return 1;
	}
	int64_t n = avail < SX_REQ_BATCH ? avail : SX_REQ_BATCH;
	if (g->draining && n > s->drain_left)
		n = s->drain_left;
	int64_t done = 0;
	for (; done < n; done++) {
		struct shmex_request r;
		struct sx_cmd c;
		/* Copy first: the client may rewrite the slot while we look. */
		shmex_ring_read(&s->req, (uint32_t)done, &r, sizeof r);
		int reason = sx_request_decode(&r, &c);
		if (reason == SHMEX_R_NONE && c.op != SX_CMD_PING && !sx_granted(g, s, r.user))
			reason = SHMEX_R_NO_GRANT;
		/* Routing: a new order goes to its symbol's matcher. With one
		 * matcher every route is 0, and a symbol without one (unknown, or
		 * added a moment ago and not yet published by the control thread)
		 * goes there too: the exchange knows every symbol and refuses an
		 * unknown one itself, so there is no window in which a symbol
		 * already listed is refused. (With several matchers, adding a
		 * symbol must publish its route before the symbol is listed.) */
		if (reason != SHMEX_R_NONE) {
			sx_refuse(&c, &r, reason);
			__atomic_fetch_add(&s->shared->rejects, 1, __ATOMIC_RELAXED);
		}
		c.session = slot;
		c.request_no = s->request_no + 1;
		if (!sx_cmd_push(g, &c))
			break; /* the matcher is behind: leave the rest in the client's ring */
		s->request_no++;
	}
	if (done > 0) {
		if (g->draining)
			s->drain_left -= (uint32_t)done;
		shmex_ring_consume(&s->req, (uint32_t)done);
		__atomic_fetch_add(&s->shared->requests, (uint64_t)done, __ATOMIC_RELAXED);
	}
	return (int)done;
}

/* Rings the bell of each session that got reports this cycle and sleeps
 * (at most once per cycle per session). */
static void sx_ring_clients(struct sx_gateway *g)
{
	for (uint32_t i = 0; i < g->nlist; i++) {
		struct sx_gw_session *s = &g->s[g->list[i]];
		if (s->dirty) {
			s->dirty = 0;
			sx_bell_ring(s->bell);
		}
	}
}

/* Draining: whether every request the clients had written when DRAIN came
 * (and every session end) is with the matcher. */
static int sx_drain_taken(const struct sx_gateway *g)
{
	for (uint32_t i = 0; i < g->nlist; i++) {
		const struct sx_gw_session *s = &g->s[g->list[i]];
		if (s->active && ((!s->ending && s->drain_left) || (s->ending && !s->end_sent)))
			return 0;
	}
	return 1;
}

int sx_gateway_work(void *arg)
{
	struct sx_gateway *g = arg;
	struct sx_engine *e = g->e;
	int work = sx_take_ctl(g);
	work += sx_gateway_drain_out(g);
	int sent = 0;
	if (!g->draining || !g->fenced) {
		for (uint32_t i = 0; i < g->nlist; i++) {
			const uint16_t slot = g->list[i];
			if (g->s[slot].active && !g->s[slot].ending)
				sent += sx_read_session(g, slot);
		}
	}
	sent += sx_send_ends(g);
	if (g->draining && !g->fenced && !g->drained && sx_drain_taken(g)) {
		/* Everything the clients had written is with the matcher: a fence
		 * tells us when it is all answered. */
		struct sx_cmd c;
		memset(&c, 0, sizeof c);
		c.op = SX_CMD_FENCE;
		c.session = 0;
		if (sx_cmd_push(g, &c)) {
			g->fenced = 2; /* sent; becomes 1 when it comes back */
			sent++;
		}
	}
	work += sent;
	if (sent && e->cfg.layout != SX_LAYOUT_SHARED)
		sx_bell_ring(e->hub_wake);
	if (g->fenced == 1 && !g->drained) {
		sx_shutdown_notice(g);
		g->drained = 1;
		sx_note(g, UINT32_MAX, 2, SX_END_SHUTDOWN);
		work++;
	}
	sx_ring_clients(g);
	return work;
}

int sx_gateway_flush(void *arg)
{
	struct sx_gateway *g = arg;
	const int work = sx_gateway_drain_out(g);
	sx_ring_clients(g);
	return work;
}

int sx_gateway_create(struct sx_engine *e, uint32_t index, struct sx_gateway **out)
{
	struct sx_gateway *g = calloc(1, sizeof *g);
	if (!g)
		return SHMEX_E_NOMEM;
	g->e = e;
	g->index = index;
	g->s = calloc(e->cfg.max_sessions, sizeof *g->s);
	g->list = calloc(e->cfg.max_sessions, sizeof *g->list);
	if (!g->s || !g->list ||
	    shmex_ring_attach(&g->cmd, e->cmd_mem[index], SX_CMD_SLOTS, SX_CMD_SLOT) != 0 ||
	    shmex_ring_attach(&g->out, e->out_mem[index], SX_OUT_SLOTS, SX_OUT_SLOT) != 0 ||
	    shmex_ring_attach(&g->ctl, e->gw_ctl_mem[index], e->gw_ctl_slots, SX_GW_MSG_SLOT) != 0 ||
	    shmex_ring_attach(&g->note, e->note_mem[index], e->gw_ctl_slots, SX_GW_MSG_SLOT) != 0) {
		sx_gateway_destroy(g);
		return SHMEX_E_NOMEM;
	}
	*out = g;
	return 0;
}

void sx_gateway_destroy(struct sx_gateway *g)
{
	if (!g)
		return;
	free(g->s);
	free(g->list);
	free(g);
}
