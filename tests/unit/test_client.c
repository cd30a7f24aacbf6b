/*
 * libshmex (src/client/) against a fake daemon: a thread of this process
 * that listens on a SOCK_SEQPACKET socket in a temporary directory, makes
 * the session region and the bells region as shmexd does, and answers
 * control requests from a script. The test reads the request ring and
 * writes the response ring through the fake's own mappings of the memfds.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "shmex/client.h"
#include "shmex_session.h"

/* ---- the fake daemon ---------------------------------------------------- */

/* The fake's thread cannot use cmocka's asserts (they jump to the test's
 * thread); a broken fake stops the test instead. */
#define FAKE_CHECK(c)                                                             \
	do {                                                                      \
		if (!(c)) {                                                       \
			fprintf(stderr, "%s:%d: fake daemon: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                  \
		}                                                                 \
	} while (0)
#define FAKE_EQ(a, b) FAKE_CHECK((a) == (b))

enum fake_mode {
	FAKE_SERVE,      /* answer control requests until stopped */
	FAKE_PUSH_LATER, /* after 30 ms, write one report and ring the client */
};

enum fake_corruption {
	FAKE_OK,
	FAKE_BAD_MAGIC,     /* the region's magic is wrong */
	FAKE_BIG_REGION,    /* the header claims more than WELCOME maps */
	FAKE_BAD_GATEWAY,   /* the gateway's bell is outside the bells region */
	FAKE_ONE_FD,        /* WELCOME with one descriptor */
};

struct fake {
	char dir[64];
	char path[108];
	int lfd, cfd;
	pthread_t thread;
	/* set before the thread starts */
	enum fake_mode mode;
	enum fake_corruption corrupt;
	int32_t welcome_status;
	const char *welcome_text;
	uint32_t wait_policy;
	int ctl_silent;   /* never answer control requests */
	/* written by the fake before WELCOME, read by the test after `ready` */
	int ready;        /* atomic */
	int stop;         /* atomic: the test asks the fake to close and end */
	void *region;
	size_t region_size;
	void *bells;
	size_t bells_size;
	struct shmex_session_layout lay;
	struct shmex_ring req_view;  /* consumer side, for the test */
	struct shmex_ring resp_view; /* producer side, for the test or the fake */
	/* what the client sent, under lock */
	pthread_mutex_t lock;
	struct shmex_ctl_hello hello;
	struct shmex_ctl_request last;
	int nrequests;
};

#define FAKE_GATEWAY 1u
#define FAKE_SLOTS_DEFAULT 8u

static struct shmex_report make_report(uint64_t i)
{
	struct shmex_report r;
	memset(&r, 0, sizeof r);
	r.kind = SHMEX_RPT_ORDER;
	r.flags = SHMEX_RPTF_DONE;
	r.request_no = i;
	r.order_id = 100 + i;
	r.user = 7;
	r.price = (int64_t)(1000 + i);
	r.time = (int64_t)i * 11;
	return r;
}

static int memfd_sized(const char *name, size_t size)
{
	const int fd = memfd_create(name, MFD_CLOEXEC);
	FAKE_CHECK(fd >= 0);
	FAKE_EQ(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void *map_fd(int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	FAKE_CHECK(p != MAP_FAILED);
	return p;
}

/* The session region as shmexd makes it (with the corruption asked for). */
static int fake_make_region(struct fake *f, uint32_t req_slots, uint32_t resp_slots)
{
	FAKE_EQ(shmex_session_layout_make(req_slots, 64, resp_slots, 128, &f->lay), 0);
	f->region_size = f->lay.region_size;
	const int fd = memfd_sized("fake-session", f->region_size);
	f->region = map_fd(fd, f->region_size);
	FAKE_EQ(shmex_session_region_init(f->region, &f->lay), 0);
	struct shmex_session_header *h = f->region;
	if (f->corrupt == FAKE_BAD_MAGIC)
		__atomic_store_n(&h->magic, UINT64_C(0x1234), __ATOMIC_RELEASE);
	if (f->corrupt == FAKE_BIG_REGION)
		h->region_size = f->region_size + 4096;
	FAKE_EQ(shmex_session_ring_attach(&f->req_view, f->region, &f->lay.request), 0);
	FAKE_EQ(shmex_session_ring_attach(&f->resp_view, f->region, &f->lay.response), 0);
	return fd;
}

static int fake_make_bells(struct fake *f)
{
	f->bells_size = shmex_bells_size(2);
	const int fd = memfd_sized("fake-bells", f->bells_size);
	f->bells = map_fd(fd, f->bells_size);
	return fd;
}

static void fake_send_welcome(struct fake *f, int session_fd, int bells_fd)
{
	struct shmex_ctl_welcome w;
	memset(&w, 0, sizeof w);
	w.h = (struct shmex_ctl_header){ .magic = SHMEX_CTL_MAGIC, .type = SHMEX_CTL_WELCOME,
					 .len = sizeof w, .status = f->welcome_status };
	if (f->welcome_text != NULL)
		snprintf(w.text, sizeof w.text, "%s", f->welcome_text);
	int fds[2] = { session_fd, bells_fd };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof fds)];
	} cbuf;
	memset(&cbuf, 0, sizeof cbuf);
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof w };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (f->welcome_status == 0) {
		w.session_id = 42;
		w.gateway = f->corrupt == FAKE_BAD_GATEWAY ? 64 : FAKE_GATEWAY;
		w.wait_policy = f->wait_policy;
		w.roles = SHMEX_ROLE_TRADER | SHMEX_ROLE_ADMIN;
		w.region_size = f->region_size;
		w.bells_size = f->bells_size;
		w.seq = 1234;
		const int n = f->corrupt == FAKE_ONE_FD ? 1 : 2;
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	FAKE_EQ(sendmsg(f->cfd, &mh, 0), (ssize_t)sizeof w);
}

static void fake_handshake(struct fake *f)
{
	struct pollfd p = { .fd = f->lfd, .events = POLLIN };
	FAKE_EQ(poll(&p, 1, 5000), 1);
	f->cfd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	FAKE_CHECK(f->cfd >= 0);
	struct shmex_ctl_hello h;
	FAKE_EQ(recv(f->cfd, &h, sizeof h, 0), (ssize_t)sizeof h);
	pthread_mutex_lock(&f->lock);
	f->hello = h;
	pthread_mutex_unlock(&f->lock);
	int sfd = -1, bfd = -1;
	if (f->welcome_status == 0) {
		sfd = fake_make_region(f, h.request_slots ? h.request_slots : FAKE_SLOTS_DEFAULT,
				       h.response_slots ? h.response_slots : FAKE_SLOTS_DEFAULT);
		bfd = fake_make_bells(f);
	}
	/* Pairs with the acquire in fake_wait_ready(). */
	__atomic_store_n(&f->ready, 1, __ATOMIC_RELEASE);
	fake_send_welcome(f, sfd, bfd);
	if (sfd >= 0)
		close(sfd);
	if (bfd >= 0)
		close(bfd);
}

static void fake_wait_ready(struct fake *f)
{
	while (!__atomic_load_n(&f->ready, __ATOMIC_ACQUIRE))
		usleep(100);
}

/* ---- the fake's control script ---- */

static void fake_send(struct fake *f, void *msg, size_t len, uint16_t type, uint16_t flags,
		      int32_t status, uint64_t ref)
{
	struct shmex_ctl_header *h = msg;
	*h = (struct shmex_ctl_header){ .magic = SHMEX_CTL_MAGIC, .type = type, .flags = flags,
					.len = (uint32_t)len, .status = status, .ref = ref };
	FAKE_EQ(send(f->cfd, msg, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void fake_reply(struct fake *f, uint64_t ref, int32_t status, uint64_t id, const char *text)
{
	struct shmex_ctl_reply r;
	memset(&r, 0, sizeof r);
	r.id = id;
	if (text != NULL)
		snprintf(r.text, sizeof r.text, "%s", text);
	fake_send(f, &r, sizeof r, SHMEX_CTL_REPLY, SHMEX_CTLF_END, status, ref);
}

/* A list of @p count items of @p size from @p items. */
static void fake_list(struct fake *f, uint64_t ref, uint16_t type, const void *items,
		      uint32_t count, size_t size, uint32_t total, uint16_t flags)
{
	union {
		struct shmex_ctl_header h;
		uint8_t raw[SHMEX_CTL_MAX];
	} b;
	struct shmex_ctl_list head;
	memset(&b, 0, sizeof b);
	memset(&head, 0, sizeof head);
	head.count = count;
	head.total = total;
	memcpy(b.raw, &head, sizeof head);
	memcpy(b.raw + sizeof head, items, count * size);
	fake_send(f, &b, sizeof head + count * size, type, flags, 0, ref);
}

static struct shmex_ctl_balance_item balance_item(uint32_t asset, const char *code, int64_t a)
{
	struct shmex_ctl_balance_item it;
	memset(&it, 0, sizeof it);
	it.asset = asset;
	it.decimals = 2;
	snprintf(it.code, sizeof it.code, "%s", code);
	it.available = a;
	it.locked = a / 10;
	return it;
}

static void fake_answer_balances(struct fake *f, uint64_t ref)
{
	struct shmex_ctl_balance_item a[2] = { balance_item(1, "USD", 10025),
					       balance_item(2, "BTC", 300) };
	struct shmex_ctl_balance_item b = balance_item(3, "ETH", 7);
	/* A late reply to an earlier call first: the client must skip it. */
	fake_list(f, ref - 1, SHMEX_CTL_BALANCE_ITEMS, &b, 1, sizeof b, 0, SHMEX_CTLF_END);
	fake_list(f, ref, SHMEX_CTL_BALANCE_ITEMS, a, 2, sizeof a[0], 3, 0);
	fake_list(f, ref, SHMEX_CTL_BALANCE_ITEMS, &b, 1, sizeof b, 3, 0);
	fake_reply(f, ref, 0, 0, NULL);
}

static void fake_answer_status(struct fake *f, uint64_t ref)
{
	struct shmex_ctl_status_info s;
	memset(&s, 0, sizeof s);
	s.seq = 99;
	s.sessions = 1;
	s.max_sessions = 16;
	s.pid = 4242;
	fake_send(f, &s, sizeof s, SHMEX_CTL_STATUS_INFO, 0, 0, ref);
	struct shmex_ctl_session_item si;
	memset(&si, 0, sizeof si);
	si.session_id = 42;
	memset(si.name, 'x', sizeof si.name); /* unterminated: the client terminates it */
	fake_list(f, ref, SHMEX_CTL_SESSION_INFO, &si, 1, sizeof si, 1, 0);
	struct shmex_ctl_symbol_item sy;
	memset(&sy, 0, sizeof sy);
	sy.symbol = 1;
	fake_list(f, ref, SHMEX_CTL_SYMBOL_INFO, &sy, 1, sizeof sy, 1, SHMEX_CTLF_END);
}

static void fake_answer_assets(struct fake *f, uint64_t ref)
{
	struct shmex_ctl_asset_item a[2];
	memset(a, 0, sizeof a);
	a[0].asset = 1;
	snprintf(a[0].code, sizeof a[0].code, "USD");
	a[1].asset = 2;
	snprintf(a[1].code, sizeof a[1].code, "BTC");
	fake_list(f, ref, SHMEX_CTL_ASSET_ITEMS, a, 2, sizeof a[0], 2, SHMEX_CTLF_END);
}

static void fake_answer_order_garbage(struct fake *f, uint64_t ref)
{
	/* A list whose count does not match its length. */
	struct shmex_order_state o[2];
	memset(o, 0, sizeof o);
	union {
		struct shmex_ctl_header h;
		uint8_t raw[sizeof(struct shmex_ctl_list) + sizeof o];
	} b;
	struct shmex_ctl_list head = { .count = 3 };
	memset(&b, 0, sizeof b);
	memcpy(b.raw, &head, sizeof head);
	fake_send(f, &b, sizeof b, SHMEX_CTL_ORDER_ITEMS, SHMEX_CTLF_END, 0, ref);
}

static void fake_answer(struct fake *f, const struct shmex_ctl_request *rq)
{
	const uint64_t ref = rq->h.ref;
	switch (rq->h.type) {
	case SHMEX_CTL_BALANCES:
		fake_answer_balances(f, ref);
		break;
	case SHMEX_CTL_STATUS:
		fake_answer_status(f, ref);
		break;
	case SHMEX_CTL_ASSETS:
		fake_answer_assets(f, ref);
		break;
	case SHMEX_CTL_ORDER:
		fake_answer_order_garbage(f, ref);
		break;
	case SHMEX_CTL_ADD_ASSET:
		fake_reply(f, ref, 0, 7, NULL);
		break;
	case SHMEX_CTL_DEPOSIT:
		fake_reply(f, ref, rq->amount > 0 ? 0 : SHMEX_E_INVAL, 555,
			   rq->amount > 0 ? NULL : "amount must be positive");
		break;
	case SHMEX_CTL_GRANT:
		fake_reply(f, ref, -EACCES, 0, "admin role needed");
		break;
	case SHMEX_CTL_CHECK:
		fake_reply(f, ref, SHMEX_E_INVARIANT, 0, "USD: supply 10 != held 9");
		break;
	case SHMEX_CTL_MASS_CANCEL:
		fake_reply(f, ref, 0, 5, NULL);
		break;
	default:
		fake_reply(f, ref, SHMEX_E_PROTOCOL, 0, "unknown request");
		break;
	}
}

static void fake_take_request(struct fake *f)
{
	struct shmex_ctl_request rq;
	const ssize_t n = recv(f->cfd, &rq, sizeof rq, MSG_DONTWAIT);
	if (n <= 0) {
		__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
		return;
	}
	FAKE_EQ(n, (ssize_t)sizeof rq);
	pthread_mutex_lock(&f->lock);
	f->last = rq;
	f->nrequests++;
	pthread_mutex_unlock(&f->lock);
	if (!f->ctl_silent)
		fake_answer(f, &rq);
}

/* The gateway's side of a report: publish, then W1: ring the client if it sleeps. */
static void fake_push_and_ring(struct fake *f, const struct shmex_report *r)
{
	FAKE_EQ(shmex_ring_push(&f->resp_view, r, sizeof *r), 1);
	struct shmex_bell *b = shmex_session_bell(f->region);
	if (shmex_bell_should_ring(b)) { /* W1 */
		__atomic_fetch_add(&b->bell, 1, __ATOMIC_RELAXED);
		syscall(SYS_futex, &b->bell, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	fake_handshake(f);
	if (f->mode == FAKE_PUSH_LATER) {
		usleep(30000);
		const struct shmex_report r = make_report(77);
		fake_push_and_ring(f, &r);
	}
	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		struct pollfd p = { .fd = f->cfd, .events = POLLIN };
		if (poll(&p, 1, 5) > 0)
			fake_take_request(f);
	}
	close(f->cfd);
	return NULL;
}

static struct fake *fake_start(enum fake_mode mode)
{
	struct fake *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/shmex-test-client-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/s.sock", f->dir);
	f->mode = mode;
	f->cfd = -1;
	f->wait_policy = SHMEX_WAIT_BLOCK;
	pthread_mutex_init(&f->lock, NULL);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	return f;
}

static void fake_run(struct fake *f)
{
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

/* Closes the fake's end of the session and waits for its thread. */
static void fake_hang_up(struct fake *f)
{
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
	if (f->thread) {
		pthread_join(f->thread, NULL);
		f->thread = 0;
	}
}

static void fake_free(struct fake *f)
{
	fake_hang_up(f);
	close(f->lfd);
	if (f->region != NULL)
		munmap(f->region, f->region_size);
	if (f->bells != NULL)
		munmap(f->bells, f->bells_size);
	unlink(f->path);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static struct shmex_client *connect_to(struct fake *f)
{
	struct shmex_client_options o = { .socket_path = f->path, .name = "tc" };
	struct shmex_client *c = NULL;
	assert_int_equal(shmex_client_connect(&o, &c), 0);
	assert_non_null(c);
	fake_wait_ready(f);
	return c;
}

static struct shmex_bell *gateway_bell(struct fake *f)
{
	return (struct shmex_bell *)f->bells + FAKE_GATEWAY;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- handshake -------------------------------------------------------- */

static void test_handshake(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_SERVE);
	fake_run(f);
	struct shmex_client_options o = { .socket_path = f->path, .name = "market-maker-1",
					  .flags = SHMEX_SESSION_CANCEL_ON_DISCONNECT,
					  .request_slots = 16, .response_slots = 32 };
	struct shmex_client *c = NULL;
	assert_int_equal(shmex_client_connect(&o, &c), 0);
	fake_wait_ready(f);
	struct shmex_client_info info;
	shmex_client_info(c, &info);
	assert_int_equal(info.session_id, 42);
	assert_int_equal(info.roles, SHMEX_ROLE_TRADER | SHMEX_ROLE_ADMIN);
	assert_int_equal(info.wait_policy, SHMEX_WAIT_BLOCK);
	assert_int_equal(info.request_slots, 16);
	assert_int_equal(info.response_slots, 32);
	assert_int_equal(info.seq_at_connect, 1234);
	assert_true(shmex_client_fd(c) >= 0);
	pthread_mutex_lock(&f->lock);
	const struct shmex_ctl_hello h = f->hello;
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(h.h.magic, SHMEX_CTL_MAGIC);
	assert_int_equal(h.h.type, SHMEX_CTL_HELLO);
	assert_int_equal(h.h.len, sizeof h);
	assert_int_equal(h.version, SHMEX_SESSION_VERSION);
	assert_true(h.layout_hash == shmex_session_layout_hash());
	assert_int_equal(h.flags, SHMEX_SESSION_CANCEL_ON_DISCONNECT);
	assert_int_equal(h.request_slots, 16);
	assert_int_equal(h.response_slots, 32);
	assert_string_equal(h.name, "market-maker-1");
	shmex_client_close(c);
	fake_free(f);
}

static void test_no_daemon(void **state)
{
	(void)state;
	struct shmex_client_options o = { .socket_path = "/tmp/shmex-test-client-none/s.sock" };
	struct shmex_client *c = (struct shmex_client *)&o;
	assert_int_equal(shmex_client_connect(&o, &c), -ENOENT);
	assert_null(c);
	assert_non_null(strstr(shmex_client_last_error(), "shmex-test-client-none"));
	shmex_client_close(NULL);
}

/* ---- refusals --------------------------------------------------------- */

static int connect_refused(enum fake_corruption corrupt, int32_t status, const char *text)
{
	struct fake *f = fake_start(FAKE_SERVE);
	f->corrupt = corrupt;
	f->welcome_status = status;
	f->welcome_text = text;
	fake_run(f);
	struct shmex_client_options o = { .socket_path = f->path };
	struct shmex_client *c = (struct shmex_client *)&o;
	const int rc = shmex_client_connect(&o, &c);
	assert_null(c);
	fake_free(f);
	return rc;
}

static void test_refused_version(void **state)
{
	(void)state;
	assert_int_equal(connect_refused(FAKE_OK, SHMEX_E_VERSION, "client v1, daemon v2"),
			 SHMEX_E_VERSION);
	assert_non_null(strstr(shmex_client_last_error(), "client v1, daemon v2"));
	assert_int_equal(connect_refused(FAKE_OK, SHMEX_E_FULL, "no free session"), SHMEX_E_FULL);
	assert_non_null(strstr(shmex_client_last_error(), "no free session"));
	assert_int_equal(connect_refused(FAKE_OK, 5, NULL), SHMEX_E_PROTOCOL);
}

static void test_refused_region(void **state)
{
	(void)state;
	assert_int_equal(connect_refused(FAKE_BAD_MAGIC, 0, NULL), SHMEX_E_VERSION);
	assert_non_null(strstr(shmex_client_last_error(), "session region"));
	assert_int_equal(connect_refused(FAKE_BIG_REGION, 0, NULL), SHMEX_E_PROTOCOL);
	assert_int_equal(connect_refused(FAKE_BAD_GATEWAY, 0, NULL), SHMEX_E_PROTOCOL);
	assert_int_equal(connect_refused(FAKE_ONE_FD, 0, NULL), SHMEX_E_PROTOCOL);
}

/* ---- orders ----------------------------------------------------------- */

static struct shmex_request take_line(struct fake *f)
{
	struct shmex_request r;
	assert_int_equal(shmex_ring_pop(&f->req_view, &r, sizeof r), 1);
	return r;
}

static void expect_line(struct fake *f, const struct shmex_request *want)
{
	const struct shmex_request got = take_line(f);
	assert_memory_equal(&got, want, sizeof got);
}

static void test_submit_line(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_SERVE);
	fake_run(f);
	struct shmex_client *c = connect_to(f);
	struct shmex_order_request o = {
		.client_id = 991, .user = 3, .symbol = 2, .price = 4200000, .qty = 10,
		.display_qty = 2, .trigger_price = 4100000, .expire_at = 123456789,
		.side = SHMEX_SELL, .type = SHMEX_STOP_LIMIT, .tif = SHMEX_GTD,
		.stp = SHMEX_STP_CANCEL_BOTH, .flags = SHMEX_OF_POST_ONLY | SHMEX_OF_OWNER,
	};
	uint64_t no = 0;
	assert_int_equal(shmex_client_submit(c, &o, &no), 0);
	assert_int_equal(no, 1);
	struct shmex_request want;
	memset(&want, 0, sizeof want);
	want.type = SHMEX_REQ_SUBMIT;
	want.side = SHMEX_SELL;
	want.order_type = SHMEX_STOP_LIMIT;
	want.tif = SHMEX_GTD;
	want.stp = SHMEX_STP_CANCEL_BOTH;
	want.flags = SHMEX_OF_POST_ONLY; /* OWNER is the engine's business */
	want.user = 3;
	want.symbol = 2;
	want.client_id = 991;
	want.display_qty = 2;
	want.price = 4200000;
	want.qty = 10;
	want.aux = 4100000;
	want.expire_at = 123456789;
	expect_line(f, &want);

	/* A quote budget goes in aux too; with a trigger it is refused. */
	struct shmex_order_request m = { .client_id = 5, .user = 3, .symbol = 2, .qty = 4,
					 .quote_budget = 777, .side = SHMEX_BUY,
					 .type = SHMEX_MARKET, .tif = SHMEX_IOC };
	assert_int_equal(shmex_client_submit(c, &m, &no), 0);
	assert_int_equal(no, 2);
	memset(&want, 0, sizeof want);
	want.type = SHMEX_REQ_SUBMIT;
	want.order_type = SHMEX_MARKET;
	want.tif = SHMEX_IOC;
	want.user = 3;
	want.symbol = 2;
	want.client_id = 5;
	want.qty = 4;
	want.aux = 777;
	expect_line(f, &want);
	m.trigger_price = 9;
	assert_int_equal(shmex_client_submit(c, &m, &no), SHMEX_E_INVAL);
	assert_int_equal(no, 2);
	assert_int_equal(shmex_ring_available(&f->req_view), 0);

	assert_int_equal(shmex_client_cancel(c, 3, 88, &no), 0);
	assert_int_equal(no, 3);
	memset(&want, 0, sizeof want);
	want.type = SHMEX_REQ_CANCEL;
	want.user = 3;
	want.order_id = 88;
	expect_line(f, &want);
	assert_int_equal(shmex_client_cancel(c, 3, 0, &no), SHMEX_E_INVAL);

	assert_int_equal(shmex_client_cancel_client_id(c, 3, 991, &no), 0);
	memset(&want, 0, sizeof want);
	want.type = SHMEX_REQ_CANCEL;
	want.user = 3;
	want.client_id = 991;
	expect_line(f, &want);

	assert_int_equal(shmex_client_amend(c, 3, 88, 4300000, 6, &no), 0);
	memset(&want, 0, sizeof want);
	want.type = SHMEX_REQ_AMEND;
	want.user = 3;
	want.order_id = 88;
	want.price = 4300000;
	want.qty = 6;
	expect_line(f, &want);

	assert_int_equal(shmex_client_mass_cancel(c, 3, SHMEX_ALL_SYMBOLS, &no), 0);
	memset(&want, 0, sizeof want);
	want.type = SHMEX_REQ_MASS_CANCEL;
	want.user = 3;
	expect_line(f, &want);

	assert_int_equal(shmex_client_ping(c, 0xfeed, NULL), 0);
	memset(&want, 0, sizeof want);
	want.type = SHMEX_REQ_PING;
	want.client_id = 0xfeed;
	expect_line(f, &want);

	struct shmex_request raw;
	memset(&raw, 0xa5, sizeof raw);
	assert_int_equal(shmex_client_send_raw(c, &raw, &no), 0);
	assert_int_equal(no, 8);
	expect_line(f, &raw);

	/* A full ring: FULL, and nothing counted. */
	for (uint32_t i = 0; i < FAKE_SLOTS_DEFAULT; i++)
		assert_int_equal(shmex_client_ping(c, i, &no), 0);
	assert_int_equal(shmex_client_ping(c, 99, &no), SHMEX_E_FULL);
	assert_int_equal(no, 8 + FAKE_SLOTS_DEFAULT);
	take_line(f);
	assert_int_equal(shmex_client_ping(c, 99, &no), 0);
	assert_int_equal(no, 9 + FAKE_SLOTS_DEFAULT);
	shmex_client_close(c);
	fake_free(f);
}

static void test_gateway_bell(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_SERVE);
	fake_run(f);
	struct shmex_client *c = connect_to(f);
	struct shmex_bell *b = gateway_bell(f);
	assert_int_equal(shmex_client_ping(c, 1, NULL), 0);
	assert_int_equal(__atomic_load_n(&b->bell, __ATOMIC_RELAXED), 0); /* awake: no ring */
	__atomic_store_n(&b->sleeping, 1, __ATOMIC_RELAXED);
	assert_int_equal(shmex_client_ping(c, 2, NULL), 0);
	assert_int_equal(__atomic_load_n(&b->bell, __ATOMIC_RELAXED), 1);
	assert_int_equal(shmex_client_ping(c, 3, NULL), 0);
	assert_int_equal(__atomic_load_n(&b->bell, __ATOMIC_RELAXED), 2);
	/* Another gateway's bell is not touched. */
	assert_int_equal(((struct shmex_bell *)f->bells)[0].bell, 0);
	shmex_client_close(c);
	fake_free(f);

	/* SPIN policy: the engine never sleeps, so the client never rings. */
	f = fake_start(FAKE_SERVE);
	f->wait_policy = SHMEX_WAIT_SPIN;
	fake_run(f);
	c = connect_to(f);
	b = gateway_bell(f);
	__atomic_store_n(&b->sleeping, 1, __ATOMIC_RELAXED);
	assert_int_equal(shmex_client_ping(c, 2, NULL), 0);
	assert_int_equal(__atomic_load_n(&b->bell, __ATOMIC_RELAXED), 0);
	shmex_client_close(c);
	fake_free(f);
}

/* ---- reports ---------------------------------------------------------- */

static void test_poll_in_order(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_SERVE);
	fake_run(f);
	struct shmex_client *c = connect_to(f);
	struct shmex_report out[8];
	assert_int_equal(shmex_client_poll(c, out, 8), 0);
	uint64_t next = 1;
	for (int round = 0; round < 3; round++) {
		for (uint64_t i = 0; i < 5; i++) {
			const struct shmex_report r = make_report(next + i);
			assert_int_equal(shmex_ring_push(&f->resp_view, &r, sizeof r), 1);
		}
		assert_int_equal(shmex_client_poll(c, out, 3), 3);
		assert_int_equal(shmex_client_poll(c, out + 3, 8), 2);
		assert_int_equal(shmex_client_poll(c, out, 8), 0);
		for (uint64_t i = 0; i < 5; i++) {
			const struct shmex_report want = make_report(next + i);
			assert_memory_equal(&out[i], &want, sizeof want);
		}
		next += 5;
	}
	/* wait() returns what is there at once. */
	const struct shmex_report r = make_report(50);
	assert_int_equal(shmex_ring_push(&f->resp_view, &r, sizeof r), 1);
	assert_int_equal(shmex_client_wait(c, out, 8, -1), 1);
	assert_int_equal(out[0].request_no, 50);
	/* An impossible head from the engine breaks the session. */
	__atomic_store_n(&f->resp_view.ctl->head, UINT64_C(1) << 40, __ATOMIC_RELEASE);
	assert_int_equal(shmex_client_poll(c, out, 8), SHMEX_E_PROTOCOL);
	assert_int_equal(shmex_client_ping(c, 1, NULL), SHMEX_E_PROTOCOL);
	shmex_client_close(c);
	fake_free(f);
}

static void test_wait_times_out(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_SERVE);
	fake_run(f);
	struct shmex_client *c = connect_to(f);
	struct shmex_report out[4];
	assert_int_equal(shmex_client_wait(c, out, 4, 0), 0);
	const int64_t t0 = now_ns();
	assert_int_equal(shmex_client_wait(c, out, 4, 20000000), 0);
	const int64_t dt = now_ns() - t0;
	assert_true(dt >= 20000000);
	assert_true(dt < 2000000000);
	/* It left the bell as it found it: not sleeping. */
	assert_int_equal(__atomic_load_n(&shmex_session_bell(f->region)->sleeping,
					 __ATOMIC_RELAXED), 0);
	shmex_client_close(c);
	fake_free(f);
}

static void test_wait_wakes_on_report(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_PUSH_LATER);
	fake_run(f);
	struct shmex_client *c = connect_to(f);
	struct shmex_report out[4];
	const int64_t t0 = now_ns();
	assert_int_equal(shmex_client_wait(c, out, 4, 5000000000), 1);
	assert_true(now_ns() - t0 < 2000000000);
	const struct shmex_report want = make_report(77);
	assert_memory_equal(&out[0], &want, sizeof want);
	shmex_client_close(c);
	fake_free(f);
}

static void test_wait_connection_reset(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_SERVE);
	fake_run(f);
	struct shmex_client *c = connect_to(f);
	/* A last report before the end comes first, then the reset. */
	const struct shmex_report r = make_report(9);
	assert_int_equal(shmex_ring_push(&f->resp_view, &r, sizeof r), 1);
	fake_hang_up(f);
	struct shmex_report out[4];
	assert_int_equal(shmex_client_wait(c, out, 4, 5000000000), 1);
	const int64_t t0 = now_ns();
	assert_int_equal(shmex_client_wait(c, out, 4, 5000000000), -ECONNRESET);
	assert_true(now_ns() - t0 < 1000000000);
	assert_int_equal(shmex_client_wait(c, out, 4, -1), -ECONNRESET);
	/* Control calls see it too. */
	struct shmex_client_balance bal[2];
	assert_int_equal(shmex_client_balances(c, 1, bal, 2), -ECONNRESET);
	shmex_client_close(c);
	fake_free(f);
}

/* ---- control ---------------------------------------------------------- */

static struct shmex_ctl_request last_request(struct fake *f)
{
	pthread_mutex_lock(&f->lock);
	const struct shmex_ctl_request rq = f->last;
	pthread_mutex_unlock(&f->lock);
	return rq;
}

static void test_ctl_balances(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_SERVE);
	fake_run(f);
	struct shmex_client *c = connect_to(f);
	struct shmex_client_balance b[4];
	memset(b, 0, sizeof b);
	assert_int_equal(shmex_client_balances(c, 5, b, 4), 3);
	struct shmex_ctl_request rq = last_request(f);
	assert_int_equal(rq.h.magic, SHMEX_CTL_MAGIC);
	assert_int_equal(rq.h.type, SHMEX_CTL_BALANCES);
	assert_int_equal(rq.h.len, sizeof rq);
	assert_int_equal(rq.user, 5);
	assert_int_equal(b[0].asset, 1);
	assert_string_equal(b[0].code, "USD");
	assert_int_equal(b[0].decimals, 2);
	assert_int_equal(b[0].available, 10025);
	assert_int_equal(b[0].locked, 1002);
	assert_string_equal(b[1].code, "BTC");
	assert_string_equal(b[2].code, "ETH");
	assert_int_equal(b[2].available, 7);
	/* A smaller array takes the first ones; the stream stays in step. */
	assert_int_equal(shmex_client_balances(c, 5, b, 1), 1);
	assert_string_equal(b[0].code, "USD");
	const uint64_t ref = last_request(f).h.ref;
	assert_int_equal(shmex_client_balances(c, 5, b, 4), 3);
	assert_true(last_request(f).h.ref > ref);
	shmex_client_close(c);
	fake_free(f);
}

static void test_ctl_replies(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_SERVE);
	fake_run(f);
	struct shmex_client *c = connect_to(f);

	struct shmex_asset_params ap = { .code = "EUR", .decimals = 2 };
	uint32_t id = 0;
	assert_int_equal(shmex_client_add_asset(c, &ap, &id), 0);
	assert_int_equal(id, 7);
	struct shmex_ctl_request rq = last_request(f);
	assert_int_equal(rq.h.type, SHMEX_CTL_ADD_ASSET);
	assert_string_equal(rq.params.asset.code, "EUR");
	assert_int_equal(rq.params.asset.decimals, 2);

	uint64_t seq = 0;
	assert_int_equal(shmex_client_deposit(c, 3, 1, 10025, 17, &seq), 0);
	assert_int_equal(seq, 555);
	rq = last_request(f);
	assert_int_equal(rq.h.type, SHMEX_CTL_DEPOSIT);
	assert_int_equal(rq.user, 3);
	assert_int_equal(rq.asset, 1);
	assert_int_equal(rq.amount, 10025);
	assert_int_equal(rq.tag, 17);
	assert_int_equal(shmex_client_deposit(c, 3, 1, -1, 0, &seq), SHMEX_E_INVAL);
	assert_string_equal(shmex_client_last_error(), "amount must be positive");

	assert_int_equal(shmex_client_grant(c, 1000, UINT32_MAX, SHMEX_ROLE_ADMIN), -EACCES);
	assert_string_equal(shmex_client_last_error(), "admin role needed");
	rq = last_request(f);
	assert_int_equal(rq.uid, 1000);
	assert_int_equal(rq.user, UINT32_MAX);
	assert_int_equal(rq.roles, SHMEX_ROLE_ADMIN);

	char msg[64];
	assert_int_equal(shmex_client_check(c, msg, sizeof msg), SHMEX_E_INVARIANT);
	assert_string_equal(msg, "USD: supply 10 != held 9");

	uint32_t count = 0;
	assert_int_equal(shmex_client_admin_mass_cancel(c, 3, 0, &count), 0);
	assert_int_equal(count, 5);

	uint32_t asset = 0;
	assert_int_equal(shmex_client_find_asset(c, "BTC", &asset), 0);
	assert_int_equal(asset, 2);
	assert_int_equal(shmex_client_find_asset(c, "BT", &asset), SHMEX_E_UNKNOWN_ASSET);

	struct shmex_ctl_status_info st;
	struct shmex_ctl_session_item ss[2];
	assert_int_equal(shmex_client_status(c, &st, ss, 2), 1);
	assert_int_equal(st.seq, 99);
	assert_int_equal(st.pid, 4242);
	assert_int_equal(ss[0].session_id, 42);
	assert_int_equal(strlen(ss[0].name), sizeof ss[0].name - 1);

	/* A reply whose length does not match its count. */
	struct shmex_order_state os;
	assert_int_equal(shmex_client_order(c, 12, &os), SHMEX_E_PROTOCOL);
	shmex_client_close(c);
	fake_free(f);
}

static void test_ctl_timeout(void **state)
{
	(void)state;
	struct fake *f = fake_start(FAKE_SERVE);
	f->ctl_silent = 1;
	fake_run(f);
	struct shmex_client_options o = { .socket_path = f->path, .timeout_ns = 200000000 };
	struct shmex_client *c = NULL;
	assert_int_equal(shmex_client_connect(&o, &c), 0);
	struct shmex_ctl_asset_item a[2];
	const int64_t t0 = now_ns();
	assert_int_equal(shmex_client_assets(c, a, 2), -ETIMEDOUT);
	assert_true(now_ns() - t0 >= 200000000);
	shmex_client_close(c);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_no_daemon),
		cmocka_unit_test(test_refused_version),
		cmocka_unit_test(test_refused_region),
		cmocka_unit_test(test_submit_line),
		cmocka_unit_test(test_gateway_bell),
		cmocka_unit_test(test_poll_in_order),
		cmocka_unit_test(test_wait_times_out),
		cmocka_unit_test(test_wait_wakes_on_report),
		cmocka_unit_test(test_wait_connection_reset),
		cmocka_unit_test(test_ctl_balances),
		cmocka_unit_test(test_ctl_replies),
		cmocka_unit_test(test_ctl_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
