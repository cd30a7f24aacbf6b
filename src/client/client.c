/*
 * libshmex, the session half: connect and handshake (HELLO, WELCOME with
 * the session region and the bells region over SCM_RIGHTS), the order
 * functions (one 64-byte line pushed on the request ring, then the
 * gateway's bell if it sleeps), poll and wait on the response ring.
 *
 * Trust: the daemon is the more trusted side, but nothing read from shared
 * memory becomes an address or a size without a check: the layout is
 * checked and copied once at connect (shmex_session_layout_check()), the
 * ring views are private, and an impossible index from the engine breaks
 * the session (SHMEX_E_PROTOCOL) rather than the process.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "shmex_session.h"

#define SX_DEFAULT_TIMEOUT_NS INT64_C(5000000000)
/* Waiting, bounded by time rather than by loop counts (a pause costs from
 * a few to ~25 ns depending on the CPU): spin for SX_SPIN_NS, then yield
 * until SX_YIELD_NS, then sleep on the bell in slices of at most
 * SX_SLEEP_SLICE_NS, looking at the socket for a hang-up every
 * SX_HUP_CHECK_NS. Short, because on a small machine the client may share
 * its CPU with the engine, and every microsecond spun is one the engine
 * does not run. Under the engine's SPIN policy (dedicated cores) the
 * client spins until its deadline; under YIELD it never sleeps. */
#define SX_SPIN_NS INT64_C(5000)
#define SX_YIELD_NS INT64_C(25000)
#define SX_SLEEP_SLICE_NS 1000000
#define SX_HUP_CHECK_NS INT64_C(4000000)
#define SX_WELCOME_FDS 2
#define SX_MAX_CMSG_FDS 8

static _Thread_local char sx_last_error[256];

void sx_client_set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sx_last_error, sizeof sx_last_error, fmt, ap);
	va_end(ap);
}

const char *shmex_client_last_error(void)
{
	return sx_last_error;
}

int64_t sx_client_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int sx_client_wait_readable(int fd, int64_t deadline_ns)
{
	for (;;) {
		const int64_t left = deadline_ns - sx_client_now_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		/* Round up so that a wait never ends before its deadline. */
		const int64_t ms = (left + 999999) / 1000000;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		const int rc = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

/* ---- bells (shmex_bells.h) ------------------------------------------------ */

static long sx_futex(uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE_FLAG: the word is in a MAP_SHARED memfd that the
	 * daemon maps at another address in another process. */
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

/* ---- connect ------------------------------------------------------------- */

static const char *sx_socket_path(const struct shmex_client_options *o)
{
	if (o != NULL && o->socket_path != NULL)
		return o->socket_path;
	const char *env = getenv("SHMEX_SOCKET");
	return env != NULL && env[0] != '\0' ? env : SHMEX_DEFAULT_SOCKET;
}

static void sx_set_timeout_opt(int fd, int64_t timeout_ns)
{
	struct timeval tv = { .tv_sec = (time_t)(timeout_ns / 1000000000),
			      .tv_usec = (suseconds_t)(timeout_ns % 1000000000 / 1000) };
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1;
	/* Bounds connect() (a full backlog) and send() (a full peer queue). */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int sx_dial(const char *path, int64_t timeout_ns, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const size_t len = strlen(path);
	if (len == 0 || len >= sizeof sa.sun_path) {
		sx_client_set_error("socket path too long or empty: %.200s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, len + 1);
	const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		const int err = errno;
		sx_client_set_error("socket: %s", strerror(err));
		return -err;
	}
	sx_set_timeout_opt(fd, timeout_ns);
	if (connect(fd, (const struct sockaddr *)&sa, sizeof sa) != 0) {
		const int err = errno == EAGAIN || errno == EINPROGRESS ? ETIMEDOUT : errno;
		sx_client_set_error("connect %.200s: %s", path, strerror(err));
		close(fd);
		return -err;
	}
	*out = fd;
	return 0;
}

static int sx_send_hello(int fd, const struct shmex_client_options *o)
{
	struct shmex_ctl_hello h;
	memset(&h, 0, sizeof h);
	shmex_ctl_header_set(&h.h, SHMEX_CTL_HELLO, 0, sizeof h, 0, 0);
	h.version = SHMEX_SESSION_VERSION;
	h.layout_hash = shmex_session_layout_hash();
	const char *name = program_invocation_short_name;
	if (o != NULL) {
		h.flags = o->flags;
		h.request_slots = o->request_slots;
		h.response_slots = o->response_slots;
		if (o->name != NULL)
			name = o->name;
	}
	if (name != NULL)
		strncpy(h.name, name, sizeof h.name - 1);
	const ssize_t n = send(fd, &h, sizeof h, MSG_NOSIGNAL);
	if (n != (ssize_t)sizeof h) {
		const int err = n < 0 ? (errno == EAGAIN ? ETIMEDOUT : errno) : EPROTO;
		sx_client_set_error("send HELLO: %s", strerror(err));
		return -err;
	}
	return 0;
}

/* The WELCOME packet and the descriptors that came with it. */
struct sx_welcome_msg {
	union {
		struct shmex_ctl_welcome w;
		uint8_t raw[SHMEX_CTL_MAX];
	} u;
	size_t len;
	int fds[SX_MAX_CMSG_FDS];
	int nfds;
	int truncated; /* MSG_TRUNC or MSG_CTRUNC */
};

static void sx_close_fds(struct sx_welcome_msg *m)
{
	for (int i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}

/* Takes every descriptor out of the control messages (so that none leaks). */
static void sx_collect_fds(struct msghdr *mh, struct sx_welcome_msg *m)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		const size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
			if (m->nfds < SX_MAX_CMSG_FDS)
				m->fds[m->nfds++] = fd;
			else
				close(fd);
		}
	}
}

static int sx_recv_welcome(int fd, int64_t timeout_ns, struct sx_welcome_msg *m)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int) * SX_MAX_CMSG_FDS)];
	} cbuf;
	int rc = sx_client_wait_readable(fd, sx_client_now_ns() + timeout_ns);
	if (rc != 0) {
		sx_client_set_error("waiting for WELCOME: %s", strerror(-rc));
		return rc;
	}
	struct iovec iov = { .iov_base = m->u.raw, .iov_len = sizeof m->u.raw };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
			     .msg_controllen = sizeof cbuf.buf };
	ssize_t n;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		const int err = n == 0 ? ECONNRESET : errno;
		sx_client_set_error("receiving WELCOME: %s",
				    n == 0 ? "the daemon closed the connection" : strerror(err));
		return -err;
	}
	m->len = (size_t)n;
	sx_collect_fds(&mh, m);
	m->truncated = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	return 0;
}

/* Checks the WELCOME packet itself; returns its status when it is a clean
 * refusal. */
static int sx_check_welcome(const struct sx_welcome_msg *m)
{
	const struct shmex_ctl_welcome *w = &m->u.w;
	if (m->truncated || m->len != sizeof *w || w->h.magic != SHMEX_CTL_MAGIC ||
	    w->h.type != SHMEX_CTL_WELCOME || w->h.len != sizeof *w) {
		sx_client_set_error("malformed WELCOME (%zu bytes)", m->len);
		return SHMEX_E_PROTOCOL;
	}
	if (w->h.status > 0) {
		sx_client_set_error("WELCOME with a positive status %d", (int)w->h.status);
		return SHMEX_E_PROTOCOL;
	}
	if (w->h.status < 0) {
		char text[sizeof w->text + 1];
		memcpy(text, w->text, sizeof w->text);
		text[sizeof w->text] = '\0';
		sx_client_set_error("shmexd refused the session: %s%s%s",
				    shmex_strerror(w->h.status), text[0] ? ": " : "", text);
		return w->h.status;
	}
	if (m->nfds != SX_WELCOME_FDS) {
		sx_client_set_error("WELCOME with %d descriptors, not %d", m->nfds,
				    SX_WELCOME_FDS);
		return SHMEX_E_PROTOCOL;
	}
	return 0;
}

/* Maps @p bytes of @p fd read-write, after checking the file holds them. */
static int sx_map(int fd, uint64_t bytes, const char *what, void **out)
{
	struct stat st;
	if (bytes == 0 || bytes > SIZE_MAX / 2 || fstat(fd, &st) != 0 ||
	    st.st_size < 0 || (uint64_t)st.st_size < bytes) {
		sx_client_set_error("%s region: %llu bytes announced, file too small or bad",
				    what, (unsigned long long)bytes);
		return SHMEX_E_PROTOCOL;
	}
	void *p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		const int err = errno;
		sx_client_set_error("mmap %s region: %s", what, strerror(err));
		return -err;
	}
	*out = p;
	return 0;
}

/* Checks the mapped session region and attaches the ring views. */
static int sx_attach_region(struct shmex_client *c)
{
	struct shmex_session_layout lay;
	int rc = shmex_session_layout_check(c->region, c->region_size, &lay);
	if (rc != 0) {
		sx_client_set_error("session region refused: %s", shmex_strerror(rc));
		return rc;
	}
	if (lay.request.slot_size < sizeof(struct shmex_request) ||
	    lay.response.slot_size < sizeof(struct shmex_report) ||
	    shmex_session_ring_attach(&c->req, c->region, &lay.request) != 0 ||
	    shmex_session_ring_attach(&c->resp, c->region, &lay.response) != 0) {
		sx_client_set_error("session region: ring slots too small for the messages");
		return SHMEX_E_PROTOCOL;
	}
	c->own_bell = shmex_session_bell(c->region);
	c->info.request_slots = lay.request.slots;
	c->info.response_slots = lay.response.slots;
	return 0;
}

static int sx_map_welcome(struct shmex_client *c, const struct shmex_ctl_welcome *w,
			  const int fds[SX_WELCOME_FDS])
{
	const uint64_t bell_count = w->bells_size / sizeof(struct shmex_bell);
	if (w->bells_size % sizeof(struct shmex_bell) != 0 || w->gateway >= bell_count ||
	    w->region_size < SHMEX_SESSION_RINGS_OFFSET) {
		sx_client_set_error("WELCOME: gateway %u outside %llu bytes of bells, or region "
				    "of %llu bytes", w->gateway,
				    (unsigned long long)w->bells_size,
				    (unsigned long long)w->region_size);
		return SHMEX_E_PROTOCOL;
	}
	int rc = sx_map(fds[0], w->region_size, "session", &c->region);
	if (rc != 0)
		return rc;
	c->region_size = (size_t)w->region_size;
	rc = sx_attach_region(c);
	if (rc != 0)
		return rc;
	rc = sx_map(fds[1], w->bells_size, "bells", &c->bells);
	if (rc != 0)
		return rc;
	c->bells_size = (size_t)w->bells_size;
	c->gateway_bell = (struct shmex_bell *)c->bells + w->gateway;
	c->wait_policy = w->wait_policy;
	c->info.session_id = w->session_id;
	c->info.roles = w->roles;
	c->info.wait_policy = w->wait_policy;
	c->info.seq_at_connect = w->seq;
	return 0;
}

static int sx_handshake(struct shmex_client *c, const struct shmex_client_options *o)
{
	struct sx_welcome_msg *m = calloc(1, sizeof *m);
	if (m == NULL) {
		sx_client_set_error("out of memory");
		return SHMEX_E_NOMEM;
	}
	int rc = sx_send_hello(c->fd, o);
	/* A daemon that refuses at once (no free session, stopping) writes its
	 * WELCOME and closes before our HELLO arrives: the send fails, but the
	 * refusal and its reason are waiting to be read. */
	if (rc == 0 || rc == -EPIPE || rc == -ECONNRESET) {
		const int send_rc = rc;
		rc = sx_recv_welcome(c->fd, c->timeout_ns, m);
		if (rc != 0 && send_rc != 0)
			rc = send_rc;
	}
	if (rc == 0)
		rc = sx_check_welcome(m);
	if (rc == 0)
		rc = sx_map_welcome(c, &m->u.w, m->fds);
	sx_close_fds(m); /* the mappings stay valid without the descriptors */
	free(m);
	return rc;
}

int shmex_client_connect(const struct shmex_client_options *o, struct shmex_client **out)
{
	if (out == NULL)
		return SHMEX_E_INVAL;
	*out = NULL;
	sx_last_error[0] = '\0';
	struct shmex_client *c = calloc(1, sizeof *c);
	if (c == NULL) {
		sx_client_set_error("out of memory");
		return SHMEX_E_NOMEM;
	}
	c->fd = -1;
	c->timeout_ns = o != NULL && o->timeout_ns > 0 ? o->timeout_ns : SX_DEFAULT_TIMEOUT_NS;
	int rc = sx_dial(sx_socket_path(o), c->timeout_ns, &c->fd);
	if (rc == 0)
		rc = sx_handshake(c, o);
	if (rc != 0) {
		shmex_client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void shmex_client_close(struct shmex_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->region != NULL)
		munmap(c->region, c->region_size);
	if (c->bells != NULL)
		munmap(c->bells, c->bells_size);
	free(c);
}

void shmex_client_info(const struct shmex_client *c, struct shmex_client_info *out)
{
	*out = c->info;
}

int shmex_client_fd(const struct shmex_client *c)
{
	return c->fd;
}

/* ---- orders ---------------------------------------------------------------- */

/* After a publish: wakes the gateway if it may be asleep (shmex_bells.h). */
static inline void sx_ring_gateway(struct shmex_client *c)
{
	if (c->wait_policy != SHMEX_WAIT_BLOCK)
		return;
	/* W1, after the release of head in the push: pairs with the gateway's
	 * S1 (its exchange of sleeping = 1 before it re-checks the ring), so
	 * either it sees the new head or we see it sleeping. */
	struct shmex_bell *b = c->gateway_bell;
	if (shmex_bell_should_ring(b)) {
		/* relaxed: only moves the futex word; the request ring's
		 * release and W1 order what the gateway reads */
		__atomic_fetch_add(&b->bell, 1, __ATOMIC_RELAXED);
		sx_futex(&b->bell, FUTEX_WAKE, 1, NULL);
	}
}

static int sx_push(struct shmex_client *c, const struct shmex_request *r, uint64_t *request_no)
{
	if (c->broken)
		return SHMEX_E_PROTOCOL;
	const int rc = shmex_ring_push(&c->req, r, sizeof *r);
	if (rc == 0)
		return SHMEX_E_FULL;
	if (rc < 0) {
		c->broken = 1;
		return SHMEX_E_PROTOCOL;
	}
	c->requests++;
	if (request_no != NULL)
		*request_no = c->requests;
	sx_ring_gateway(c);
	return 0;
}

int shmex_client_submit(struct shmex_client *c, const struct shmex_order_request *req,
			uint64_t *request_no)
{
	if (req == NULL || (req->trigger_price != 0 && req->quote_budget != 0))
		return SHMEX_E_INVAL;
	struct shmex_request r;
	memset(&r, 0, sizeof r);
	r.type = SHMEX_REQ_SUBMIT;
	r.side = req->side;
	r.order_type = req->type;
	r.tif = req->tif;
	r.stp = req->stp;
	r.flags = (uint8_t)(req->flags & SHMEX_OF_POST_ONLY);
	r.user = req->user;
	r.symbol = req->symbol;
	r.client_id = req->client_id;
	r.price = req->price;
	r.qty = req->qty;
	r.display_qty = req->display_qty;
	r.aux = req->trigger_price != 0 ? req->trigger_price : req->quote_budget;
	r.expire_at = req->expire_at;
	return sx_push(c, &r, request_no);
}

int shmex_client_cancel(struct shmex_client *c, uint32_t user, uint64_t order_id,
			uint64_t *request_no)
{
	if (order_id == 0)
		return SHMEX_E_INVAL; /* 0 would mean "by client id" on the wire */
	struct shmex_request r;
	memset(&r, 0, sizeof r);
	r.type = SHMEX_REQ_CANCEL;
	r.user = user;
	r.order_id = order_id;
	return sx_push(c, &r, request_no);
}

int shmex_client_cancel_client_id(struct shmex_client *c, uint32_t user, uint64_t client_id,
				  uint64_t *request_no)
{
	if (client_id == 0)
		return SHMEX_E_INVAL; /* 0 is "no client id" */
	struct shmex_request r;
	memset(&r, 0, sizeof r);
	r.type = SHMEX_REQ_CANCEL;
	r.user = user;
	r.client_id = client_id;
	return sx_push(c, &r, request_no);
}

int shmex_client_amend(struct shmex_client *c, uint32_t user, uint64_t order_id,
		       int64_t new_price, int64_t new_qty, uint64_t *request_no)
{
	struct shmex_request r;
	memset(&r, 0, sizeof r);
	r.type = SHMEX_REQ_AMEND;
	r.user = user;
	r.order_id = order_id;
	r.price = new_price;
	r.qty = new_qty;
	return sx_push(c, &r, request_no);
}

int shmex_client_mass_cancel(struct shmex_client *c, uint32_t user, uint32_t symbol,
			     uint64_t *request_no)
{
	struct shmex_request r;
	memset(&r, 0, sizeof r);
	r.type = SHMEX_REQ_MASS_CANCEL;
	r.user = user;
	r.symbol = symbol;
	return sx_push(c, &r, request_no);
}

int shmex_client_ping(struct shmex_client *c, uint64_t tag, uint64_t *request_no)
{
	struct shmex_request r;
	memset(&r, 0, sizeof r);
	r.type = SHMEX_REQ_PING;
	r.client_id = tag;
	return sx_push(c, &r, request_no);
}

int shmex_client_send_raw(struct shmex_client *c, const struct shmex_request *r,
			  uint64_t *request_no)
{
	if (r == NULL)
		return SHMEX_E_INVAL;
	return sx_push(c, r, request_no);
}

/* ---- reports ---------------------------------------------------------------- */

int shmex_client_poll(struct shmex_client *c, struct shmex_report *out, uint32_t max)
{
	if (c->broken)
		return SHMEX_E_PROTOCOL;
	const int64_t avail = shmex_ring_available(&c->resp);
	if (avail < 0) {
		c->broken = 1;
		return SHMEX_E_PROTOCOL;
	}
	const uint32_t n = (uint64_t)avail < max ? (uint32_t)avail : max;
	for (uint32_t i = 0; i < n; i++)
		shmex_ring_read(&c->resp, i, &out[i], sizeof out[i]);
	if (n != 0)
		shmex_ring_consume(&c->resp, n);
	return (int)n;
}

/* Whether the daemon has closed the socket (hang-up or error). */
static int sx_hung_up(const struct shmex_client *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLRDHUP };
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

static inline void sx_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Spins, then yields, while the deadline allows: a report, an error or 0. */
static int sx_wait_busy(struct shmex_client *c, struct shmex_report *out, uint32_t max,
			int64_t deadline)
{
	const int64_t start = sx_client_now_ns();
	const uint32_t policy = c->wait_policy;
	const int64_t spin_end = policy == SHMEX_WAIT_SPIN ? deadline : start + SX_SPIN_NS;
	const int64_t yield_end = policy == SHMEX_WAIT_BLOCK ? start + SX_YIELD_NS : deadline;
	int64_t now = start;
	for (uint32_t i = 1;; i++) {
		if (now < spin_end)
			sx_cpu_relax();
		else
			sched_yield();
		const int n = shmex_client_poll(c, out, max);
		if (n != 0)
			return n;
		if (now >= spin_end || i % 16 == 0) {
			now = sx_client_now_ns();
			if (now >= deadline || now >= yield_end)
				return 0;
		}
	}
}

/* One sleep on the session's bell, at most @p slice_ns (the sleeper's side
 * of the pairing in shmex_bells.h). */
static int sx_wait_sleep(struct shmex_client *c, struct shmex_report *out, uint32_t max,
			 int64_t slice_ns)
{
	struct shmex_bell *b = c->own_bell;
	/* S1: pairs with the gateway's W1 after it publishes reports. */
	const uint32_t seen = shmex_bell_prepare(b);
	int n = shmex_client_poll(c, out, max);
	if (n == 0) {
		const struct timespec ts = { 0, (long)slice_ns };
		/* A ring after `seen` was read makes this return at once. */
		sx_futex(&b->bell, FUTEX_WAIT, seen, &ts);
		n = shmex_client_poll(c, out, max);
	}
	shmex_bell_awake(b);
	return n;
}

int shmex_client_wait(struct shmex_client *c, struct shmex_report *out, uint32_t max,
		      int64_t timeout_ns)
{
	int n = shmex_client_poll(c, out, max);
	if (n != 0 || timeout_ns == 0 || max == 0)
		return n;
	const int64_t start = sx_client_now_ns();
	const int64_t deadline = timeout_ns < 0 || timeout_ns > INT64_MAX - start
					 ? INT64_MAX : start + timeout_ns;
	n = sx_wait_busy(c, out, max, deadline);
	if (n != 0)
		return n;
	int64_t next_hup_check = 0;
	for (;;) {
		const int64_t now = sx_client_now_ns();
		if (now >= next_hup_check || now >= deadline) {
			if (sx_hung_up(c)) {
				/* Reports written before the end come first. */
				n = shmex_client_poll(c, out, max);
				return n != 0 ? n : -ECONNRESET;
			}
			next_hup_check = now + SX_HUP_CHECK_NS;
		}
		if (now >= deadline)
			return 0;
		const int64_t left = deadline - now;
		n = sx_wait_sleep(c, out, max, left < SX_SLEEP_SLICE_NS ? left : SX_SLEEP_SLICE_NS);
		if (n != 0)
			return n;
	}
}
