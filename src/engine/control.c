/*
 * The control thread. One poll loop over: the listening socket, every
 * session's socket (SOCK_SEQPACKET: one control message per packet), an
 * eventfd the matcher and gateways ring when they have something for us,
 * and a signalfd (SIGTERM, SIGINT).
 *
 * A connection is a session slot. HELLO -> the uid (SO_PEERCRED) must hold
 * some grant; the session's memfd is created, sealed against resizing (a
 * client shrinking it would crash the engine with SIGBUS), laid out, handed
 * to a gateway (ATTACH through its ring), and passed to the client with the
 * bells region (SCM_RIGHTS). Control requests are checked here (size,
 * type, role) and executed by the matcher (ctl rings); GRANT is done here,
 * since this thread is the registries' only writer. A socket that closes
 * ends the session (DETACH); the slot is reused once its gateway says the
 * matcher forgot it.
 */
#define _GNU_SOURCE 1
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rcu.h"
#include "registry.h"

#define SX_HELLO_TIMEOUT_NS INT64_C(2000000000)
#define SX_DRAIN_TIMEOUT_NS INT64_C(3000000000)
#define SX_BLOCKED_TIMEOUT_NS INT64_C(2000000000)
#define SX_CLOSING_MAX 64
#define SX_CLOSING_TIMEOUT_NS INT64_C(1000000000)
#define SX_MAX_GRANT_UIDS 4096
/* Queue entries per session slot: a slot has at most one live entry, the
 * rest are entries of sessions that left before their turn (skipped). */
#define SX_FIFO_PER_SLOT 4u

enum sx_conn_state { SX_C_FREE = 0, SX_C_HELLO, SX_C_LIVE, SX_C_ENDING };

struct sx_conn {
	uint8_t state;
	uint8_t queued;       /* its request waits for the matcher (in c->fifo) */
	uint8_t free_on_answer; /* session over: free the slot once the answer is in */
	uint16_t gen;
	uint16_t pending;     /* type of its control request, queued or in the matcher
				 (0: none) */
	uint32_t roles_all;   /* the asker's roles for every user, when it asked */
	int64_t since;        /* when it connected */
};

struct sx_control {
	struct sx_engine *e;
	int listen_fd, sig_fd;
	struct sx_conn *conns;      /* [max_sessions] */
	struct pollfd *pfd;         /* [max_sessions + 3] */
	uint32_t *pfd_conn;
	uint32_t next_id;
	uint32_t next_gateway;
	uint32_t *gw_sessions;      /* sessions per gateway */
	uint32_t grant_uids[SX_MAX_GRANT_UIDS];
	uint32_t ngrant_uids;
	int stopping;
	uint32_t drained;
	int64_t stop_at;
	/* our private views of the rings we produce into or consume from */
	struct shmex_ring *gw_ctl;   /* [gateways] producer */
	struct shmex_ring *notes;    /* [gateways] consumer */
	struct shmex_ring ctl_in;    /* producer -> matcher */
	/* One control request at a time in the matcher: its answer (at most
	 * SX_CTL_ANSWER_MAX packets) then always fits the reply ring, so the
	 * matcher never waits for this thread (which may itself be waiting
	 * for the matcher's thread in synchronize_rcu()). Others queue here,
	 * in arrival order, their requests in queued_in[slot]. */
	int matcher_busy;
	uint32_t *fifo;              /* [SX_FIFO_PER_SLOT * max_sessions] slots, a ring */
	uint32_t fifo_head, fifo_n;
	struct sx_ctl_in *queued_in; /* [max_sessions] */
	/* the session whose control socket was full for the answer at the
	 * head of the reply ring, and since when (UINT32_MAX: none) */
	uint32_t blocked_slot;
	int64_t blocked_since;
	/* refused connections being closed gently: WELCOME sent, write side
	 * shut, what the client still sends is read until it hangs up (closing
	 * with unread data would reset the peer before it read the refusal) */
	int closing_fd[SX_CLOSING_MAX];
	int64_t closing_since[SX_CLOSING_MAX];
	uint32_t nclosing;
	/* refusals logged at most once a second; the others counted */
	int64_t refused_logged_at;
	uint32_t refused_quiet;
};

static int sx_uid_known(const struct sx_control *c, uint32_t uid)
{
	for (uint32_t i = 0; i < c->ngrant_uids; i++)
		if (c->grant_uids[i] == uid)
			return 1;
	return 0;
}

static int sx_grant(struct sx_control *c, uint32_t uid, uint32_t user, uint32_t roles)
{
	if (!sx_uid_known(c, uid)) {
		if (c->ngrant_uids == SX_MAX_GRANT_UIDS)
			return SHMEX_E_FULL;
		c->grant_uids[c->ngrant_uids++] = uid;
	}
	return sx_registry_grant(c->e->reg, uid, user, roles);
}

/* ---- sending ------------------------------------------------------------ */

static void sx_conn_close(struct sx_control *c, uint32_t slot, const char *why);

static void sx_send(struct sx_control *c, uint32_t slot, const void *pkt, size_t len)
{
	struct sx_session *s = &c->e->sessions[slot];
	if (s->fd < 0)
		return;
	if (send(s->fd, pkt, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
		sx_conn_close(c, slot, "control socket not read or gone");
}

static void sx_send_reply(struct sx_control *c, uint32_t slot, uint64_t ref, int status,
			  uint64_t id, const char *text)
{
	struct shmex_ctl_reply r;
	memset(&r, 0, sizeof r);
	shmex_ctl_header_set(&r.h, SHMEX_CTL_REPLY, SHMEX_CTLF_END, sizeof r, status, ref);
	r.id = id;
	if (text)
		snprintf(r.text, sizeof r.text, "%s", text);
	sx_send(c, slot, &r, sizeof r);
}

static void sx_welcome(struct sx_control *c, uint32_t slot, uint64_t ref, int status,
		       const char *text, const int *fds)
{
	struct sx_engine *e = c->e;
	struct sx_session *s = &e->sessions[slot];
	struct shmex_ctl_welcome w;
	memset(&w, 0, sizeof w);
	shmex_ctl_header_set(&w.h, SHMEX_CTL_WELCOME, SHMEX_CTLF_END, sizeof w, status, ref);
	if (status == 0) {
		w.session_id = s->id;
		w.gateway = s->gateway;
		w.wait_policy = e->cfg.wait_policy;
		w.roles = s->roles;
		w.region_size = s->size;
		w.bells_size = e->bells_size;
		w.seq = __atomic_load_n(&e->seq_now, __ATOMIC_RELAXED);
	}
	if (text)
		snprintf(w.text, sizeof w.text, "%s", text);
	struct iovec iov = { &w, sizeof w };
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fds) {
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof u.buf;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, 2 * sizeof(int));
	}
	if (sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof w)
		sx_log("session slot %u: welcome not sent: %s", slot, strerror(errno));
}

/* Logs a refused connection, at most one line a second (any local uid can
 * connect: a loop of refusals must not flood the log). */
static void sx_log_refusal(struct sx_control *c, const char *text)
{
	const int64_t now = sx_now_ns();
	if (now - c->refused_logged_at < INT64_C(1000000000)) {
		c->refused_quiet++;
		return;
	}
	if (c->refused_quiet)
		sx_log("connection refused: %s (and %u more in the last second)", text,
		       c->refused_quiet);
	else
		sx_log("connection refused: %s", text);
	c->refused_logged_at = now;
	c->refused_quiet = 0;
}

/* ---- sessions -------------------------------------------------------------- */

static void sx_slot_free(struct sx_control *c, uint32_t slot)
{
	struct sx_session *s = &c->e->sessions[slot];
	struct sx_conn *cn = &c->conns[slot];
	if (c->blocked_slot == slot)
		c->blocked_slot = UINT32_MAX;
	if (cn->pending && !cn->queued) {
		/* Its request is in the matcher: keep the slot (and its
		 * generation) until that answer has come back, so it can never
		 * reach a new session in this slot. */
		cn->free_on_answer = 1;
		cn->state = SX_C_ENDING;
		if (s->fd >= 0) {
			close(s->fd);
			s->fd = -1;
		}
		return;
	}
	if (s->mem)
		munmap(s->mem, s->size);
	if (s->memfd >= 0)
		close(s->memfd);
	if (s->fd >= 0)
		close(s->fd);
	if (c->conns[slot].state == SX_C_LIVE || c->conns[slot].state == SX_C_ENDING)
		c->gw_sessions[s->gateway]--;
	const uint16_t gen = c->conns[slot].gen;
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->memfd = -1;
	memset(&c->conns[slot], 0, sizeof c->conns[slot]);
	c->conns[slot].gen = (uint16_t)(gen + 1);
}

static void sx_gw_send(struct sx_control *c, uint32_t g, uint32_t op, uint32_t session)
{
	struct sx_gw_msg msg;
	memset(&msg, 0, sizeof msg);
	msg.op = op;
	msg.session = session;
	/* Never full: sized for every message that can be pending (engine.h). */
	if (shmex_ring_push(&c->gw_ctl[g], &msg, sizeof msg) != 1) {
		sx_log("gateway %u control ring full: a bug", g);
		return;
	}
	struct shmex_bell *bell = &c->e->bells[g];
	/* relaxed: only moves the futex word; the ring's release publishes */
	__atomic_fetch_add(&bell->bell, 1, __ATOMIC_RELAXED);
	sx_bell_ring(bell);
}

/* Ends a connection: a live session is detached (the gateway ends it and
 * the slot is freed when it says so); otherwise freed now. */
static void sx_conn_close(struct sx_control *c, uint32_t slot, const char *why)
{
	struct sx_session *s = &c->e->sessions[slot];
	struct sx_conn *cn = &c->conns[slot];
	if (c->blocked_slot == slot)
		c->blocked_slot = UINT32_MAX; /* its packets are dropped now */
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (cn->state == SX_C_LIVE) {
		cn->state = SX_C_ENDING;
		if (why)
			sx_log("session %u (%s, uid %u, pid %u) ending: %s", s->id, s->name, s->uid,
			       s->pid, why);
		sx_gw_send(c, s->gateway, SX_GW_DETACH, slot);
	} else if (cn->state == SX_C_HELLO) {
		sx_slot_free(c, slot);
	}
}

static int sx_is_pow2_in(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

static void sx_hello(struct sx_control *c, uint32_t slot, const struct shmex_ctl_hello *h)
{
	struct sx_engine *e = c->e;
	struct sx_session *s = &e->sessions[slot];
	char text[64];
	if (h->version != SHMEX_SESSION_VERSION || h->layout_hash != shmex_session_layout_hash()) {
		snprintf(text, sizeof text, "daemon speaks session version %u, client %u",
			 SHMEX_SESSION_VERSION, h->version);
		sx_welcome(c, slot, h->h.ref, SHMEX_E_VERSION, text, NULL);
		sx_log_refusal(c, text);
		sx_conn_close(c, slot, NULL);
		return;
	}
	if (!sx_uid_known(c, s->uid)) {
		snprintf(text, sizeof text, "uid %u has no grant", s->uid);
		sx_welcome(c, slot, h->h.ref, -EACCES, text, NULL);
		sx_log_refusal(c, text);
		sx_conn_close(c, slot, NULL);
		return;
	}
	const uint32_t rq = h->request_slots ? h->request_slots : e->cfg.request_slots;
	const uint32_t rs = h->response_slots ? h->response_slots : e->cfg.response_slots;
	struct shmex_session_layout lay;
	if (!sx_is_pow2_in(rq, 16, 65536) || !sx_is_pow2_in(rs, 16, 65536) ||
	    (h->flags & ~(uint32_t)SHMEX_SESSION_CANCEL_ON_DISCONNECT) ||
	    shmex_session_layout_make(rq, sizeof(struct shmex_request), rs,
				      sizeof(struct shmex_report), &lay) != 0) {
		sx_welcome(c, slot, h->h.ref, SHMEX_E_INVAL, "bad ring sizes or flags", NULL);
		sx_conn_close(c, slot, NULL);
		return;
	}
	s->memfd = memfd_create("shmex-session", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	s->size = (lay.region_size + 4095) & ~(size_t)4095;
	if (s->memfd < 0 || ftruncate(s->memfd, (off_t)s->size) != 0 ||
	    (s->mem = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0)) ==
		    MAP_FAILED ||
	    fcntl(s->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0 ||
	    shmex_session_region_init(s->mem, &lay) != 0) {
		if (s->mem == MAP_FAILED)
			s->mem = NULL;
		sx_log("session slot %u: memory: %s", slot, strerror(errno));
		sx_welcome(c, slot, h->h.ref, SHMEX_E_NOMEM, "engine out of memory", NULL);
		sx_conn_close(c, slot, NULL);
		return;
	}
	s->layout = lay;
	s->flags = h->flags;
	memcpy(s->name, h->name, SHMEX_NAME_LEN);
	s->name[SHMEX_NAME_LEN - 1] = 0;
	for (char *p = s->name; *p; p++)
		if (*p < 32 || *p > 126)
			*p = '?';
	s->roles = sx_registry_roles(e->reg, s->uid, UINT32_MAX);
	/* The least loaded gateway. */
	uint32_t g = 0;
	for (uint32_t i = 1; i < e->cfg.gateways; i++)
		if (c->gw_sessions[i] < c->gw_sessions[g])
			g = i;
	s->gateway = g;
	c->gw_sessions[g]++;
	s->id = ++c->next_id;
	s->started_ns = sx_now_ns() - e->start_ns;
	c->conns[slot].state = SX_C_LIVE;
	/* The gateway reads the session's fields after it takes ATTACH from
	 * its ring (ring release/acquire); they do not change until freed. */
	sx_gw_send(c, g, SX_GW_ATTACH, slot);
	const int fds[2] = { s->memfd, e->bells_fd };
	sx_welcome(c, slot, h->h.ref, 0, NULL, fds);
	sx_log("session %u started: name %s, uid %u, pid %u, gateway %u, %u/%u slots%s", s->id,
	       s->name, s->uid, s->pid, g, rq, rs,
	       (s->flags & SHMEX_SESSION_CANCEL_ON_DISCONNECT) ? ", cancel on disconnect" : "");
}

/* ---- control requests -------------------------------------------------------- */

/* Hands @p in to the matcher (the only request there until its answer). */
static void sx_to_matcher(struct sx_control *c, const struct sx_ctl_in *in)
{
	if (shmex_ring_push(&c->ctl_in, in, sizeof *in) != 1) {
		sx_log("control ring to the matcher full: a bug");
		return;
	}
	c->matcher_busy = 1;
	sx_bell_ring(c->e->hub_wake);
}

/* The matcher is free: the next queued request of a session still there. */
static void sx_dispatch_next(struct sx_control *c)
{
	const uint32_t cap = SX_FIFO_PER_SLOT * c->e->cfg.max_sessions;
	while (!c->matcher_busy && c->fifo_n > 0) {
		const uint32_t slot = c->fifo[c->fifo_head];
		c->fifo_head = (c->fifo_head + 1) % cap;
		c->fifo_n--;
		struct sx_conn *cn = &c->conns[slot];
		if (!cn->queued)
			continue; /* its session went away meanwhile */
		cn->queued = 0;
		sx_to_matcher(c, &c->queued_in[slot]);
	}
}

static int sx_is_admin_type(uint16_t t)
{
	return t == SHMEX_CTL_CHECK || (t >= SHMEX_CTL_ADD_ASSET && t <= SHMEX_CTL_SET_REFERENCE);
}

static void sx_request(struct sx_control *c, uint32_t slot, const struct shmex_ctl_request *q)
{
	struct sx_engine *e = c->e;
	struct sx_session *s = &e->sessions[slot];
	const uint16_t t = q->h.type;
	const uint32_t roles_all = sx_registry_roles(e->reg, s->uid, UINT32_MAX);
	if (c->conns[slot].pending) {
		sx_send_reply(c, slot, q->h.ref, SHMEX_E_PROTOCOL, 0,
			      "one control request at a time");
		return;
	}
	if (t < SHMEX_CTL_STATUS || (t > SHMEX_CTL_CHECK && t < SHMEX_CTL_ADD_ASSET) ||
	    t > SHMEX_CTL_SET_REFERENCE) {
		sx_send_reply(c, slot, q->h.ref, SHMEX_E_PROTOCOL, 0, "unknown control request");
		return;
	}
	if (sx_is_admin_type(t) && !(roles_all & SHMEX_ROLE_ADMIN)) {
		sx_send_reply(c, slot, q->h.ref, -EACCES, 0, "admin role needed");
		return;
	}
	/* ORDER: the grant is checked against the order's user when the
	 * matcher's answer comes back (sx_take_replies). */
	if ((t == SHMEX_CTL_BALANCES || t == SHMEX_CTL_ORDERS) &&
	    !sx_registry_roles(e->reg, s->uid, q->user)) {
		sx_send_reply(c, slot, q->h.ref, -EACCES, 0, "no grant for that user");
		return;
	}
	if (t == SHMEX_CTL_GRANT) {
		const int rc = (q->roles & ~(uint32_t)(SHMEX_ROLE_TRADER | SHMEX_ROLE_ADMIN)) ||
					       q->roles == 0
				       ? SHMEX_E_INVAL
				       : sx_grant(c, q->uid, q->user, q->roles);
		sx_send_reply(c, slot, q->h.ref, rc, 0, rc ? shmex_strerror(rc) : NULL);
		if (rc == 0) {
			char who[32];
			if (q->user == UINT32_MAX)
				snprintf(who, sizeof who, "every user");
			else
				snprintf(who, sizeof who, "user %u", q->user);
			sx_log("grant: uid %u may act for %s as %s", q->uid, who,
			       q->roles == (SHMEX_ROLE_TRADER | SHMEX_ROLE_ADMIN) ? "trader and admin"
			       : q->roles == SHMEX_ROLE_ADMIN			   ? "admin"
										   : "trader");
		}
		return;
	}
	struct sx_ctl_in *in = &c->queued_in[slot];
	memset(in, 0, sizeof *in);
	in->conn = (uint32_t)c->conns[slot].gen << 16 | slot;
	in->uid = s->uid;
	in->roles = roles_all;
	in->req = *q;
	/* Text fields end inside their arrays, whatever the client sent. */
	in->req.params.symbol.code[SHMEX_CODE_LEN - 1] = 0;
	c->conns[slot].pending = t;
	c->conns[slot].roles_all = roles_all;
	c->conns[slot].queued = 1;
	const uint32_t cap = SX_FIFO_PER_SLOT * e->cfg.max_sessions;
	if (c->fifo_n == cap) { /* stale entries of gone sessions fill it: retry later */
		c->conns[slot].pending = 0;
		c->conns[slot].queued = 0;
		sx_send_reply(c, slot, q->h.ref, SHMEX_E_FULL, 0, "engine busy, retry");
		return;
	}
	c->fifo[(c->fifo_head + c->fifo_n) % cap] = slot;
	c->fifo_n++;
	sx_dispatch_next(c);
}

static void sx_packet(struct sx_control *c, uint32_t slot, const uint8_t *buf, ssize_t n)
{
	struct shmex_ctl_header h;
	if (n < (ssize_t)sizeof h) {
		sx_conn_close(c, slot, "short control packet");
		return;
	}
	memcpy(&h, buf, sizeof h);
	if (h.magic != SHMEX_CTL_MAGIC || h.len != (uint32_t)n) {
		sx_conn_close(c, slot, "bad control packet header");
		return;
	}
	if (c->conns[slot].state == SX_C_HELLO) {
		struct shmex_ctl_hello hello;
		if (h.type != SHMEX_CTL_HELLO || n != (ssize_t)sizeof hello) {
			sx_conn_close(c, slot, NULL);
			return;
		}
		memcpy(&hello, buf, sizeof hello);
		sx_hello(c, slot, &hello);
		return;
	}
	struct shmex_ctl_request q;
	if (n != (ssize_t)sizeof q) {
		sx_send_reply(c, slot, h.ref, SHMEX_E_PROTOCOL, 0, "control request of wrong size");
		return;
	}
	memcpy(&q, buf, sizeof q);
	sx_request(c, slot, &q);
}

/* ---- what the matcher and gateways sent us ------------------------------------ */

/* Adds the session table to a STATUS answer (this thread owns it). */
static void sx_status_tail(struct sx_control *c, uint32_t slot, struct shmex_ctl_status_info *st)
{
	struct sx_engine *e = c->e;
	static _Thread_local _Alignas(16) uint8_t bytes[SHMEX_CTL_MAX];
	struct shmex_ctl_list *const pl = (struct shmex_ctl_list *)(void *)bytes;
	const uint32_t max = (uint32_t)SHMEX_CTL_ITEMS_MAX(struct shmex_ctl_session_item);
	struct shmex_ctl_session_item *items = (struct shmex_ctl_session_item *)pl->items;
	uint32_t count = 0;
	for (uint32_t i = 0; i < e->cfg.max_sessions; i++)
		if (c->conns[i].state == SX_C_LIVE) {
			const struct sx_session *s = &e->sessions[i];
			st->sessions++;
			st->requests += __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
			st->reports += __atomic_load_n(&s->reports, __ATOMIC_RELAXED);
		}
	sx_send(c, slot, st, sizeof *st);
	for (uint32_t i = 0; i <= e->cfg.max_sessions; i++) {
		const int last = i == e->cfg.max_sessions;
		if (!last && c->conns[i].state == SX_C_LIVE) {
			const struct sx_session *s = &e->sessions[i];
			struct shmex_ctl_session_item *it = &items[count++];
			memset(it, 0, sizeof *it);
			it->session_id = s->id;
			it->uid = s->uid;
			it->pid = s->pid;
			it->gateway = s->gateway;
			it->flags = s->flags;
			it->requests = __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
			it->reports = __atomic_load_n(&s->reports, __ATOMIC_RELAXED);
			it->rejects = __atomic_load_n(&s->rejects, __ATOMIC_RELAXED);
			it->started_ns = s->started_ns;
			memcpy(it->name, s->name, SHMEX_NAME_LEN);
		}
		if (count == max || last) {
			shmex_ctl_header_set(&pl->h, SHMEX_CTL_SESSION_INFO, last ? SHMEX_CTLF_END : 0,
					     (uint32_t)(sizeof *pl + (size_t)count * sizeof *items), 0,
					     st->h.ref);
			pl->count = count;
			pl->total = st->sessions;
			sx_send(c, slot, pl, pl->h.len);
			count = 0;
		}
	}
}

/* One packet of the matcher's answer to a live session's request.
 * @return 0 if the client's socket is full for now (nothing done: the
 * packet stays in the ring and is offered again when it can be written),
 * else 1. */
static int sx_answer(struct sx_control *c, uint32_t slot, struct shmex_ctl_header *h,
		     const uint8_t *pkt, size_t len, int last)
{
	struct sx_engine *e = c->e;
	const uint16_t asked = c->conns[slot].pending;
	if (asked == SHMEX_CTL_ORDER && h->type == SHMEX_CTL_ORDER_ITEMS &&
	    !(c->conns[slot].roles_all & SHMEX_ROLE_ADMIN)) {
		const struct shmex_ctl_list *l = (const struct shmex_ctl_list *)(const void *)pkt;
		struct shmex_order_state st;
		memcpy(&st, l->items, sizeof st);
		if (l->count != 1 || !sx_registry_roles(e->reg, e->sessions[slot].uid, st.user)) {
			c->conns[slot].pending = 0;
			sx_send_reply(c, slot, h->ref, SHMEX_E_UNKNOWN_ORDER, 0,
				      "no such order among your users'");
			return 1;
		}
	}
	if (h->type == SHMEX_CTL_STATUS_INFO) {
		c->conns[slot].pending = 0;
		sx_status_tail(c, slot, (struct shmex_ctl_status_info *)(void *)h);
		return 1;
	}
	const int fd = e->sessions[slot].fd;
	if (fd >= 0) {
		/* A big answer (up to ~200 packets) may fill the socket: then
		 * wait for the client to read, bounded (sx_control_run). */
		const ssize_t n = send(fd, pkt, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->blocked_slot != slot) {
				c->blocked_slot = slot;
				c->blocked_since = sx_now_ns();
			}
			return 0;
		}
		c->blocked_slot = UINT32_MAX;
		if (n != (ssize_t)len)
			sx_conn_close(c, slot, "control socket gone");
	}
	if (last) {
		c->conns[slot].pending = 0;
		if (asked == SHMEX_CTL_ADD_SYMBOL && h->status == 0) {
			const struct shmex_ctl_reply *r = (const struct shmex_ctl_reply *)(const void *)pkt;
			sx_registry_route(e->reg, (uint32_t)r->id,
					  sx_engine_route(e, (uint32_t)r->id));
			sx_log("symbol %llu added", (unsigned long long)r->id);
		}
	}
	return 1;
}

static void sx_take_replies(struct sx_control *c)
{
	struct sx_engine *e = c->e;
	static _Thread_local struct sx_ctl_out out;
	while (shmex_ring_available(&e->ctl_out_cons) > 0) {
		const struct sx_ctl_out *o = shmex_ring_peek(&e->ctl_out_cons, 0);
		const size_t len = o->len <= SX_CTL_PKT_MAX ? o->len : SX_CTL_PKT_MAX;
		shmex_ring_read(&e->ctl_out_cons, 0, &out, offsetof(struct sx_ctl_out, pkt) + len);
		const uint32_t slot = out.conn & 0xffff;
		struct shmex_ctl_header *h = (struct shmex_ctl_header *)out.pkt;
		/* The matcher's last packet of an answer: END, or STATUS_INFO
		 * (whose session table this thread adds). */
		const int last = (h->flags & SHMEX_CTLF_END) || h->type == SHMEX_CTL_STATUS_INFO;
		if (slot < e->cfg.max_sessions && c->conns[slot].gen == (out.conn >> 16) &&
		    c->conns[slot].state == SX_C_LIVE && !sx_answer(c, slot, h, out.pkt, len, last))
			return; /* the client's socket is full: this packet again later */
		shmex_ring_consume(&e->ctl_out_cons, 1);
		if (last)
			c->matcher_busy = 0;
		if (slot >= e->cfg.max_sessions || c->conns[slot].gen != (out.conn >> 16)) {
			sx_log("control answer for no one: a bug");
		} else if (c->conns[slot].state != SX_C_LIVE) {
			/* the asker is gone: drop; free its slot after the last packet */
			if (last) {
				c->conns[slot].pending = 0;
				if (c->conns[slot].free_on_answer)
					sx_slot_free(c, slot);
			}
		}
		if (last)
			sx_dispatch_next(c);
	}
}

static void sx_take_notes(struct sx_control *c)
{
	struct sx_engine *e = c->e;
	static const char *const why[] = { "", "client gone", "client stopped reading its reports",
					   "client broke the ring protocol", "shutdown" };
	for (uint32_t g = 0; g < e->cfg.gateways; g++) {
		struct sx_gw_note n;
		while (shmex_ring_pop(&c->notes[g], &n, sizeof n) == 1) {
			if (n.what == 2) {
				c->drained++;
				continue;
			}
			if (n.session >= e->cfg.max_sessions)
				continue;
			struct sx_session *s = &e->sessions[n.session];
			sx_log("session %u (%s, uid %u, pid %u) ended: %s; %llu requests, %llu reports",
			       s->id, s->name, s->uid, s->pid,
			       n.reason < sizeof why / sizeof why[0] ? why[n.reason] : "?",
			       (unsigned long long)__atomic_load_n(&s->requests, __ATOMIC_RELAXED),
			       (unsigned long long)__atomic_load_n(&s->reports, __ATOMIC_RELAXED));
			sx_slot_free(c, n.session);
		}
	}
}

/* ---- the loop ----------------------------------------------------------------- */

static int sx_listen(struct sx_control *c, char *err, size_t cap)
{
	const char *path = c->e->cfg.socket_path;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, cap, "socket path too long: %s", path);
		return SHMEX_E_INVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return -errno;
	/* A socket file nobody answers on is a leftover of a dead daemon. */
	int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
		close(probe);
		snprintf(err, cap, "another daemon is listening on %s", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(c->listen_fd, 64) != 0) {
		const int rc = -errno;
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return rc;
	}
	/* Anyone may connect; the uid's grants decide what it may do. */
	chmod(path, 0666);
	return 0;
}

/* Refuses a connection before it has a slot: WELCOME with the reason, then
 * close (reading first what the client already sent: closing a socket with
 * unread data resets the peer, which could then lose the refusal). */
static void sx_refuse_now(struct sx_control *c, int fd, int status, const char *text)
{
	struct shmex_ctl_welcome w;
	memset(&w, 0, sizeof w);
	shmex_ctl_header_set(&w.h, SHMEX_CTL_WELCOME, SHMEX_CTLF_END, sizeof w, status, 0);
	snprintf(w.text, sizeof w.text, "%s", text);
	send(fd, &w, sizeof w, MSG_NOSIGNAL | MSG_DONTWAIT);
	sx_log_refusal(c, w.text);
	/* Not closed yet: its HELLO may still be on the way, and closing with
	 * unread data would reset the client before it reads the refusal. */
	shutdown(fd, SHUT_WR);
	if (c->nclosing == SX_CLOSING_MAX) {
		close(fd); /* a flood of refusals: no gentleness for the excess */
		return;
	}
	c->closing_fd[c->nclosing] = fd;
	c->closing_since[c->nclosing] = sx_now_ns();
	c->nclosing++;
}

/* Reads and drops what refused clients still send; closes each when it
 * hangs up or after SX_CLOSING_TIMEOUT_NS. */
static void sx_closing_tick(struct sx_control *c)
{
	const int64_t now = sx_now_ns();
	for (uint32_t i = 0; i < c->nclosing;) {
		char sink[512];
		ssize_t r;
		while ((r = recv(c->closing_fd[i], sink, sizeof sink, MSG_DONTWAIT)) > 0)
			;
		const int gone = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
		if (gone || now - c->closing_since[i] > SX_CLOSING_TIMEOUT_NS) {
			close(c->closing_fd[i]);
			c->nclosing--;
			c->closing_fd[i] = c->closing_fd[c->nclosing];
			c->closing_since[i] = c->closing_since[c->nclosing];
			continue;
		}
		i++;
	}
}

static void sx_accept(struct sx_control *c)
{
	struct sx_engine *e = c->e;
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct ucred cred;
		socklen_t len = sizeof cred;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
			close(fd);
			continue;
		}
		/* A uid without any grant never holds a slot, not even while
		 * its HELLO is awaited. */
		if (!sx_uid_known(c, cred.uid)) {
			char text[64];
			snprintf(text, sizeof text, "uid %u has no grant", (unsigned)cred.uid);
			sx_refuse_now(c, fd, -EACCES, text);
			continue;
		}
		uint32_t slot = UINT32_MAX;
		for (uint32_t i = 0; i < e->cfg.max_sessions; i++)
			if (c->conns[i].state == SX_C_FREE) {
				slot = i;
				break;
			}
		if (slot == UINT32_MAX || c->stopping) {
			sx_refuse_now(c, fd, c->stopping ? SHMEX_E_HALTED : SHMEX_E_FULL,
				      c->stopping ? "daemon stopping" : "no free session");
			continue;
		}
		struct sx_session *s = &e->sessions[slot];
		s->fd = fd;
		s->uid = cred.uid;
		s->pid = (uint32_t)cred.pid;
		c->conns[slot].state = SX_C_HELLO;
		c->conns[slot].since = sx_now_ns();
	}
}

static void sx_read_conn(struct sx_control *c, uint32_t slot, short revents)
{
	static _Thread_local uint8_t buf[SHMEX_CTL_MAX + 1];
	struct sx_session *s = &c->e->sessions[slot];
	for (int i = 0; i < 16 && s->fd >= 0; i++) {
		ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0) {
			sx_packet(c, slot, buf, n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(revents & (POLLHUP | POLLERR)))
			return;
		sx_conn_close(c, slot, "client closed its socket");
		return;
	}
}

static int sx_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void sx_begin_stop(struct sx_control *c, const char *why)
{
	if (c->stopping)
		return;
	sx_log("%s: draining %u gateway(s)", why, c->e->cfg.gateways);
	c->stopping = 1;
	c->stop_at = sx_now_ns();
	close(c->listen_fd);
	c->listen_fd = -1;
	unlink(c->e->cfg.socket_path);
	for (uint32_t g = 0; g < c->e->cfg.gateways; g++)
		sx_gw_send(c, g, SX_GW_DRAIN, 0);
}

int sx_control_run(struct sx_engine *e, void (*ready)(void), char *err, size_t cap)
{
	struct sx_control c;
	memset(&c, 0, sizeof c);
	c.e = e;
	c.listen_fd = -1;
	c.blocked_slot = UINT32_MAX;
	const uint32_t N = e->cfg.max_sessions;
	c.conns = calloc(N, sizeof *c.conns);
	c.pfd = calloc(N + 3 + SX_CLOSING_MAX, sizeof *c.pfd);
	c.pfd_conn = calloc(N + 3 + SX_CLOSING_MAX, sizeof *c.pfd_conn);
	c.gw_sessions = calloc(e->cfg.gateways, sizeof *c.gw_sessions);
	c.gw_ctl = calloc(e->cfg.gateways, sizeof *c.gw_ctl);
	c.notes = calloc(e->cfg.gateways, sizeof *c.notes);
	c.fifo = calloc((size_t)SX_FIFO_PER_SLOT * N, sizeof *c.fifo);
	c.queued_in = calloc(N, sizeof *c.queued_in);
	int rc = (!c.conns || !c.pfd || !c.pfd_conn || !c.gw_sessions || !c.gw_ctl || !c.notes ||
		  !c.fifo || !c.queued_in)
			 ? SHMEX_E_NOMEM
			 : 0;
	for (uint32_t g = 0; rc == 0 && g < e->cfg.gateways; g++) {
		shmex_ring_attach(&c.gw_ctl[g], e->gw_ctl_mem[g], e->gw_ctl_slots, SX_GW_MSG_SLOT);
		shmex_ring_attach(&c.notes[g], e->note_mem[g], e->gw_ctl_slots, SX_GW_MSG_SLOT);
	}
	if (rc == 0)
		shmex_ring_attach(&c.ctl_in, e->ring_mem[0], SX_CTL_IN_SLOTS, SX_CTL_IN_SLOT);
	for (uint32_t i = 0; rc == 0 && i < e->cfg.ngrants; i++)
		if (!sx_uid_known(&c, e->cfg.grants[i].uid) && c.ngrant_uids < SX_MAX_GRANT_UIDS)
			c.grant_uids[c.ngrant_uids++] = e->cfg.grants[i].uid;
	if (rc == 0)
		rc = sx_listen(&c, err, cap);
	c.sig_fd = rc == 0 ? sx_signals() : -1;
	if (rc == 0 && c.sig_fd < 0)
		rc = -errno;
	if (rc == 0) {
		sx_log("listening on %s (%u gateway(s), %u matcher(s), layout %s, wait %s, pid %d)",
		       e->cfg.socket_path, e->cfg.gateways, e->cfg.matchers,
		       e->cfg.layout == SX_LAYOUT_SHARED ? "shared" : "dedicated",
		       e->cfg.wait_policy == SHMEX_WAIT_SPIN    ? "spin"
		       : e->cfg.wait_policy == SHMEX_WAIT_YIELD ? "yield"
								: "block",
		       (int)getpid());
		if (ready)
			ready();
	}
	while (rc == 0) {
		uint32_t n = 0;
		c.pfd[n] = (struct pollfd){ e->wake_fd, POLLIN, 0 };
		c.pfd_conn[n++] = UINT32_MAX;
		c.pfd[n] = (struct pollfd){ c.sig_fd, POLLIN, 0 };
		c.pfd_conn[n++] = UINT32_MAX;
		if (c.listen_fd >= 0) {
			c.pfd[n] = (struct pollfd){ c.listen_fd, POLLIN, 0 };
			c.pfd_conn[n++] = UINT32_MAX;
		}
		for (uint32_t i = 0; i < c.nclosing; i++) {
			c.pfd[n] = (struct pollfd){ c.closing_fd[i], POLLIN, 0 };
			c.pfd_conn[n++] = UINT32_MAX;
		}
		for (uint32_t i = 0; i < N; i++)
			if (e->sessions[i].fd >= 0) {
				const short ev = i == c.blocked_slot ? POLLIN | POLLOUT : POLLIN;
				c.pfd[n] = (struct pollfd){ e->sessions[i].fd, ev, 0 };
				c.pfd_conn[n++] = i;
			}
		sx_rcu_offline();
		/* woken by its eventfd when needed; while an answer waits for a
		 * client to read, its POLLOUT does */
		int k = poll(c.pfd, n, 250);
		sx_rcu_online();
		if (k < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		uint64_t v;
		if (read(e->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
			sx_log("wake read: %s", strerror(errno));
		struct signalfd_siginfo si;
		if (read(c.sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
			sx_begin_stop(&c, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
		if (c.listen_fd >= 0 && k > 0 && (c.pfd[2].revents & POLLIN))
			sx_accept(&c);
		for (uint32_t i = 0; k > 0 && i < n; i++)
			if (c.pfd_conn[i] != UINT32_MAX && (c.pfd[i].revents & ~POLLOUT))
				sx_read_conn(&c, c.pfd_conn[i], c.pfd[i].revents);
		/* A client that does not read its control answer for 2 s loses
		 * its session: the answers of others wait behind it. */
		if (c.blocked_slot != UINT32_MAX &&
		    sx_now_ns() - c.blocked_since > SX_BLOCKED_TIMEOUT_NS) {
			const uint32_t slot = c.blocked_slot;
			c.blocked_slot = UINT32_MAX;
			sx_conn_close(&c, slot, "control answer not read for 2 s");
		}
		sx_closing_tick(&c);
		sx_take_replies(&c);
		sx_take_notes(&c);
		const int64_t now = sx_now_ns();
		for (uint32_t i = 0; i < N; i++)
			if (c.conns[i].state == SX_C_HELLO && now - c.conns[i].since > SX_HELLO_TIMEOUT_NS)
				sx_conn_close(&c, i, NULL);
		if (c.stopping && (c.drained == e->cfg.gateways ||
				   now - c.stop_at > SX_DRAIN_TIMEOUT_NS)) {
			if (c.drained != e->cfg.gateways)
				sx_log("drain timed out (%u of %u gateways)", c.drained,
				       e->cfg.gateways);
			break;
		}
		sx_rcu_quiescent();
	}
	if (c.listen_fd >= 0) {
		close(c.listen_fd);
		unlink(e->cfg.socket_path);
	}
	if (c.sig_fd >= 0)
		close(c.sig_fd);
	for (uint32_t i = 0; i < c.nclosing; i++)
		close(c.closing_fd[i]);
	free(c.conns);
	free(c.pfd);
	free(c.pfd_conn);
	free(c.gw_sessions);
	free(c.gw_ctl);
	free(c.notes);
	free(c.fifo);
	free(c.queued_in);
	return rc;
}
