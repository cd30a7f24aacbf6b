/*
 * mp suite: sessions that may not, cannot or will not play by the rules.
 *   grants          a uid granted only some users: other users' requests are
 *                   refused (NO_GRANT, -EACCES), admin commands too; with
 *                   root, a second uid's orders are out of reach, and a uid
 *                   without a grant cannot connect
 *   garbage         random request lines and a client scribbling over its
 *                   rings and the shared bells, next to an honest client
 *                   whose reports are those of a run without them
 *   slow_reader     a client that never reads its reports is ended with a
 *                   logged reason while another keeps trading
 * Every test runs shmexd --check-events and wants exit status 0 from it.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "mp_admin.h"
#include "mp_flow.h"
#include "mp_garbage.h"
#include "mp_harness.h"
#include "mp_raw.h"
#include "mp_session.h"
#include "mp_trader.h"
#include "mp_world.h"

static struct mp_daemon g_d;
static struct shmex_client *g_admin;
static struct mp_sess g_s;
static struct mp_pipe g_ready = { -1, -1 }, g_stop = { -1, -1 }, g_back = { -1, -1 };
static void *g_shared;
static size_t g_shared_size;
static char g_ini[16384];

static int mp_setup(void **state)
{
	(void)state;
	if (mp_pipe_open(&g_ready) != 0 || mp_pipe_open(&g_stop) != 0 ||
	    mp_pipe_open(&g_back) != 0)
		return -1;
	mp_parent_only(g_stop.wr);
	return 0;
}

static int mp_teardown(void **state)
{
	(void)state;
	shmex_client_close(g_admin);
	g_admin = NULL;
	mp_sess_close(&g_s);
	mp_kill_all();
	mp_daemon_cleanup(&g_d);
	mp_pipe_close(&g_ready);
	mp_pipe_close(&g_stop);
	mp_pipe_close(&g_back);
	mp_shared_free(g_shared, g_shared_size);
	g_shared = NULL;
	return 0;
}

static void *mp_shared(size_t bytes)
{
	g_shared = mp_shared_alloc(bytes);
	g_shared_size = bytes;
	assert_non_null(g_shared);
	return g_shared;
}

static void mp_start(uint32_t nusers, const char *grants, int admin)
{
	mp_world_ini(g_ini, sizeof g_ini, NULL, nusers, grants);
	assert_int_equal(mp_daemon_start(&g_d, g_ini), 0);
	if (!admin)
		return;
	struct shmex_client_options o = { .socket_path = g_d.sock, .name = "admin" };
	const int rc = shmex_client_connect(&o, &g_admin);
	if (rc != 0)
		fail_msg("admin connect: %s (%s)", shmex_strerror(rc), shmex_client_last_error());
}

static void mp_stop_clean(void)
{
	shmex_client_close(g_admin);
	g_admin = NULL;
	const int st = mp_daemon_stop(&g_d, 10 * MP_SEC);
	if (st != 0)
		mp_daemon_log_dump(&g_d);
	assert_int_equal(st, 0);
	assert_true(mp_daemon_log_has(&g_d, "0 violations"));
	assert_true(mp_daemon_log_clean(&g_d));
}

static void mp_check_money(uint32_t nusers)
{
	struct mp_money m;
	char why[512];
	if (mp_admin_money(g_admin, nusers, &m, why, sizeof why) != 0) {
		mp_daemon_log_dump(&g_d);
		fail_msg("%s", why);
	}
}

/* Sends one request through g_s and returns its single (DONE) answer. */
static struct shmex_report mp_answer(int sent_rc)
{
	assert_int_equal(sent_rc, 0);
	struct shmex_report last;
	memset(&last, 0, sizeof last);
	const int64_t deadline = mp_now_ns() + 5 * MP_SEC;
	while (g_s.done < g_s.sent && mp_now_ns() < deadline) {
		struct shmex_report r;
		const int n = shmex_client_wait(g_s.c, &r, 1, 100 * MP_MS);
		assert_true(n >= 0);
		if (n == 1) {
			mp_sess_take(&g_s, &r);
			last = r;
		}
	}
	assert_false(g_s.failed);
	assert_int_equal(g_s.done, g_s.sent);
	return last;
}

static void mp_expect_no_grant(struct shmex_report r, uint32_t user)
{
	assert_int_equal(r.kind, SHMEX_RPT_REJECT);
	assert_int_equal(r.reason, SHMEX_R_NO_GRANT);
	assert_int_equal(r.user, user);
	assert_int_equal(r.flags & SHMEX_RPTF_DONE, SHMEX_RPTF_DONE);
}

/* ---- 4. grants ----------------------------------------------------------------------- */

#define OTHER_UID 65534u /* nobody: trader for u2 (used only when we are root) */
#define STRANGER_UID 65533u /* no grant at all */

struct mp_other_opts {
	const char *sock;
	int ready_fd, back_fd, stop_fd;
};

/* Runs as OTHER_UID: rests an order for user 2, sends its id back, checks
 * what it may not see, then waits to be told to leave. */
static int mp_other_main(void *arg)
{
	const struct mp_other_opts *o = arg;
	if (setgid(OTHER_UID) != 0 || setuid(OTHER_UID) != 0)
		return 10;
	struct mp_sess s;
	if (mp_sess_open(&s, o->sock, "other-uid", 0, 0) != 0)
		return 11;
	uint64_t id = 0;
	struct shmex_order_request q = { .client_id = 9, .user = 2, .symbol = MP_BTC_USD,
		.side = SHMEX_BUY, .type = SHMEX_LIMIT, .tif = SHMEX_GTC, .price = 5900000, .qty = 3 };
	struct shmex_report r;
	if (mp_sess_submit(&s, &q) != 0 || shmex_client_wait(s.c, &r, 1, 5 * MP_SEC) != 1 ||
	    r.kind != SHMEX_RPT_ORDER || r.status != SHMEX_OS_NEW)
		return 12;
	id = r.order_id;
	struct shmex_client_balance b[4];
	if (shmex_client_balances(s.c, 1, b, 4) != -EACCES)
		return 13;
	if (write(o->back_fd, &id, sizeof id) != (ssize_t)sizeof id)
		return 14;
	if (mp_pipe_read_byte(o->stop_fd, 10 * MP_SEC) != 0)
		return 15;
	mp_sess_close(&s);
	return 0;
}

/* Runs as STRANGER_UID: the daemon must refuse the session. */
static int mp_stranger_main(void *arg)
{
	const struct mp_other_opts *o = arg;
	if (setgid(STRANGER_UID) != 0 || setuid(STRANGER_UID) != 0)
		return 10;
	struct shmex_client *c = NULL;
	struct shmex_client_options co = { .socket_path = o->sock, .name = "stranger" };
	const int rc = shmex_client_connect(&co, &c);
	shmex_client_close(c);
	return rc == -EACCES ? 0 : 20;
}

static void mp_grants_admin_refused(struct shmex_client *c)
{
	struct shmex_asset_params ap = { .code = "XAU", .decimals = 2 };
	struct shmex_symbol_params sp = { .code = "ETH/BTC", .base = MP_ETH, .quote = MP_BTC,
		.tick_size = 1, .lot_size = 1 };
	uint32_t id;
	char msg[64];
	assert_int_equal(shmex_client_add_asset(c, &ap, &id), -EACCES);
	assert_int_equal(shmex_client_add_symbol(c, &sp, &id), -EACCES);
	assert_int_equal(shmex_client_add_user(c, NULL, &id), -EACCES);
	assert_int_equal(shmex_client_grant(c, (uint32_t)getuid(), 2, SHMEX_ROLE_TRADER), -EACCES);
	assert_int_equal(shmex_client_deposit(c, 1, MP_USD, 100, 1, NULL), -EACCES);
	assert_int_equal(shmex_client_withdraw(c, 1, MP_USD, 100, 1, NULL), -EACCES);
	assert_int_equal(shmex_client_set_status(c, MP_BTC_USD, SHMEX_SYMBOL_HALTED), -EACCES);
	assert_int_equal(shmex_client_set_reference(c, MP_BTC_USD, 5000000), -EACCES);
	assert_int_equal(shmex_client_admin_mass_cancel(c, 2, 0, NULL), -EACCES);
	assert_int_equal(shmex_client_check(c, msg, sizeof msg), -EACCES);
}

static void test_grants(void **state)
{
	(void)state;
	const int root = getuid() == 0;
	char grants[256];
	int n = snprintf(grants, sizeof grants, "[grant]\nuid = %u\nusers = u1\nroles = trader\n",
			 (unsigned)getuid());
	if (root)
		snprintf(grants + n, sizeof grants - (size_t)n,
			 "\n[grant]\nuid = %u\nusers = u2\nroles = trader\n", OTHER_UID);
	mp_start(3, grants, 0);
	pid_t po = 0;
	uint64_t other_id = 0;
	struct mp_other_opts oo = { g_d.sock, g_ready.wr, g_back.wr, g_stop.rd };
	if (root) {
		chmod(g_d.dir, 0711); /* let the other uids reach the socket */
		assert_int_equal(mp_child_wait(mp_spawn(mp_stranger_main, &oo), 10 * MP_SEC), 0);
		po = mp_spawn(mp_other_main, &oo);
		assert_true(po > 0);
		struct pollfd pb = { g_back.rd, POLLIN, 0 };
		assert_int_equal(poll(&pb, 1, 10000), 1);
		assert_int_equal(read(g_back.rd, &other_id, sizeof other_id),
				 (ssize_t)sizeof other_id);
		assert_true(other_id != 0);
	} else {
		fprintf(stderr, "grants: not root: the second-uid and no-grant parts are skipped\n");
	}
	assert_int_equal(mp_sess_open(&g_s, g_d.sock, "trader-u1", 0, 0), 0);
	/* Its own user works. */
	struct shmex_order_request q = { .client_id = 1, .user = 1, .symbol = MP_BTC_USD,
		.side = SHMEX_SELL, .type = SHMEX_LIMIT, .tif = SHMEX_GTC, .price = 6100000, .qty = 2 };
	struct shmex_report r = mp_answer(mp_sess_submit(&g_s, &q));
	assert_int_equal(r.kind, SHMEX_RPT_ORDER);
	assert_int_equal(r.status, SHMEX_OS_NEW);
	const uint64_t own_id = r.order_id;
	/* Every request for another user is refused, and changes nothing. */
	for (uint32_t u = 2; u <= 3; u++) {
		q.user = u;
		q.client_id = 10 + u;
		mp_expect_no_grant(mp_answer(mp_sess_submit(&g_s, &q)), u);
		mp_expect_no_grant(mp_answer(mp_sess_cancel(&g_s, u, other_id ? other_id : 99)), u);
		mp_expect_no_grant(mp_answer(mp_sess_cancel_cid(&g_s, u, 9)), u);
		mp_expect_no_grant(mp_answer(mp_sess_amend(&g_s, u, other_id ? other_id : 99,
							   5800000, 1)), u);
		mp_expect_no_grant(mp_answer(mp_sess_mass_cancel(&g_s, u, 0)), u);
		struct shmex_client_balance b[4];
		struct shmex_order_state st[2];
		assert_int_equal(shmex_client_balances(g_s.c, u, b, 4), -EACCES);
		assert_int_equal(shmex_client_open_orders(g_s.c, u, 0, st, 2, NULL), -EACCES);
	}
	if (root) {
		/* The other uid's order: out of reach under its own user or ours. */
		r = mp_answer(mp_sess_cancel(&g_s, 1, other_id));
		assert_int_equal(r.kind, SHMEX_RPT_REJECT);
		assert_int_equal(r.reason, SHMEX_R_UNKNOWN_ORDER);
		struct shmex_order_state st;
		assert_int_equal(shmex_client_order(g_s.c, other_id, &st), SHMEX_E_UNKNOWN_ORDER);
		assert_int_equal(shmex_client_order(g_s.c, own_id, &st), 0);
		assert_int_equal(st.user, 1);
	}
	/* Its own user's data is readable; the fee account is not. */
	struct shmex_client_balance b[4];
	assert_int_equal(shmex_client_balances(g_s.c, 1, b, 4), MP_NASSETS);
	assert_true(shmex_client_balances(g_s.c, 0, b, 4) < 0);
	/* Reading public data is allowed; administration is not. */
	struct shmex_ctl_symbol_item sy[4];
	struct shmex_ctl_level_item lv[8];
	assert_int_equal(shmex_client_symbols(g_s.c, sy, 4), MP_NSYMBOLS);
	assert_true(shmex_client_book(g_s.c, MP_BTC_USD, 4, lv, 8) >= 1);
	mp_grants_admin_refused(g_s.c);
	/* The refused self-grant gave nothing. */
	q.user = 2;
	q.client_id = 77;
	mp_expect_no_grant(mp_answer(mp_sess_submit(&g_s, &q)), 2);
	assert_true(mp_daemon_log_has(&g_d, "trader-u1"));
	mp_sess_close(&g_s);
	if (root) {
		mp_pipe_close_wr(&g_stop);
		assert_int_equal(mp_child_wait(po, 10 * MP_SEC), 0);
		assert_true(mp_daemon_log_has(&g_d, "uid 65533 has no grant"));
	}
	mp_stop_clean();
}

/* ---- 5. garbage next to an honest client ---------------------------------------------------- */

static void test_garbage(void **state)
{
	(void)state;
	static struct mp_flow_record base, run;
	/* The honest flow alone. */
	mp_start(3, NULL, 1);
	int64_t t0 = mp_now_ns();
	assert_int_equal(mp_flow_run(g_d.sock, &base), 0);
	const int64_t alone = mp_now_ns() - t0;
	struct shmex_client_balance bal_base[2][4], bal_run[2][4];
	memset(bal_base, 0, sizeof bal_base);
	memset(bal_run, 0, sizeof bal_run);
	for (uint32_t u = 1; u <= 2; u++)
		assert_int_equal(shmex_client_balances(g_admin, u, bal_base[u - 1], 4), MP_NASSETS);
	mp_check_money(3);
	mp_stop_clean();
	mp_daemon_cleanup(&g_d);

	/* Again, with the garbage clients running all along. */
	mp_start(3, NULL, 1);
	struct mp_garbage_result *res = mp_shared(2 * sizeof *res);
	struct mp_garbage_opts lines = { g_d.sock, 1, g_ready.wr, g_stop.rd, &res[0] };
	struct mp_garbage_opts scrib = { g_d.sock, 2, g_ready.wr, g_stop.rd, &res[1] };
	pid_t pl = mp_spawn(mp_garbage_lines_main, &lines);
	pid_t ps = mp_spawn(mp_garbage_scribbler_main, &scrib);
	assert_true(pl > 0 && ps > 0);
	assert_int_equal(mp_pipe_read_byte(g_ready.rd, 10 * MP_SEC), 1);
	assert_int_equal(mp_pipe_read_byte(g_ready.rd, 10 * MP_SEC), 1);
	t0 = mp_now_ns();
	assert_int_equal(mp_flow_run(g_d.sock, &run), 0);
	const int64_t beside = mp_now_ns() - t0;
	mp_pipe_close_wr(&g_stop);
	assert_int_equal(mp_child_wait(pl, 20 * MP_SEC), 0);
	assert_int_equal(mp_child_wait(ps, 20 * MP_SEC), 0);
	if (!res[0].ok || !res[1].ok)
		fail_msg("garbage clients: lines: %s; scribbler: %s", res[0].why, res[1].why);
	for (uint32_t u = 1; u <= 2; u++)
		assert_int_equal(shmex_client_balances(g_admin, u, bal_run[u - 1], 4), MP_NASSETS);
	mp_check_money(3);
	assert_true(mp_daemon_log_has(&g_d, "request ring index broken by the client"));
	assert_true(mp_daemon_log_has(&g_d, "client broke the ring protocol"));
	mp_stop_clean();

	/* The honest client saw exactly what it sees alone. */
	assert_true(base.n > 500);
	mp_flow_normalize(&base);
	mp_flow_normalize(&run);
	assert_int_equal(mp_flow_compare(&base, &run), 0);
	assert_memory_equal(bal_base, bal_run, sizeof bal_base);
	fprintf(stderr, "garbage: honest flow %llu requests / %u reports, %.0f ms alone, %.0f ms "
			"beside %llu garbage lines (%llu rejected, %llu order reports) and %llu "
			"scribbling sessions (%llu ended by the daemon)\n",
		(unsigned long long)base.requests, base.n, (double)alone / 1e6,
		(double)beside / 1e6, (unsigned long long)res[0].done,
		(unsigned long long)res[0].rejects, (unsigned long long)res[0].orders,
		(unsigned long long)res[1].rounds, (unsigned long long)res[1].closed);
}

/* ---- 6. a client that stops reading ------------------------------------------------------------- */

/* One random control packet on @p fd: random bytes, often behind a header
 * that is right in part (magic, length, a known type). */
static void mp_ctl_noise(int fd, uint64_t *rng)
{
	static uint8_t buf[SHMEX_CTL_MAX + 256];
	*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
	const uint64_t x = *rng;
	size_t len = (size_t)(x >> 40) % sizeof buf;
	if ((x & 3) == 0)
		len = sizeof(struct shmex_ctl_request); /* the size the daemon expects */
	for (size_t i = 0; i < len; i++) {
		*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(*rng >> 56);
	}
	if (len >= sizeof(struct shmex_ctl_header) && (x & 4)) {
		struct shmex_ctl_header h;
		memcpy(&h, buf, sizeof h);
		h.magic = SHMEX_CTL_MAGIC;
		h.len = (x & 8) ? (uint32_t)len : h.len;
		h.type = (uint16_t)((x >> 8) % 80);
		memcpy(buf, &h, sizeof h);
	}
	(void)send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* Take what came back, without waiting. */
	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
}

/* Garbage on the control socket, before the handshake (as the first
 * packet of a connection) and after it (as requests of a live session):
 * the daemon answers or drops each, never crashes or hangs, and an honest
 * client then trades and finds every invariant holding. */
static void test_control_garbage(void **state)
{
	(void)state;
	mp_start(3, NULL, 1);
	uint64_t rng = 2024;
	for (int i = 0; i < 200; i++) {
		const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", g_d.sock);
		/* The backlog may be full for a moment while the daemon closes
		 * the ones before: retry, bounded. */
		int rc = -1;
		for (int tries = 0; tries < 500 && rc != 0; tries++)
			if ((rc = connect(fd, (struct sockaddr *)&sa, sizeof sa)) != 0)
				mp_sleep_ms(10);
		assert_int_equal(rc, 0);
		mp_ctl_noise(fd, &rng);
		close(fd);
	}
	struct mp_raw raw;
	for (int round = 0; round < 20; round++) {
		/* The slots of the sessions just closed come back once the daemon
		 * has seen them go (it may be refused as full until then). */
		int rc = -1;
		for (int tries = 0; tries < 500 && rc != 0; tries++)
			if ((rc = mp_raw_connect(&raw, g_d.sock, "ctl-garbage")) != 0)
				mp_sleep_ms(10);
		assert_int_equal(rc, 0);
		for (int i = 0; i < 100; i++)
			mp_ctl_noise(raw.fd, &rng);
		mp_raw_close(&raw);
	}
	/* Still serving, and still right. */
	struct mp_sess honest;
	memset(&honest, 0, sizeof honest);
	assert_int_equal(mp_sess_open(&honest, g_d.sock, "honest", 0, 0), 0);
	for (uint64_t i = 1; i <= 10; i++)
		assert_int_equal(mp_sess_ping(&honest, i), 0);
	struct shmex_report rep[16];
	int got = 0;
	const int64_t until = mp_now_ns() + 5 * MP_SEC;
	while (got < 10 && mp_now_ns() < until) {
		const int n = shmex_client_wait(honest.c, rep, 16, 100 * MP_MS);
		assert_true(n >= 0);
		got += n;
	}
	assert_int_equal(got, 10);
	mp_sess_close(&honest);
	char msg[256];
	assert_int_equal(shmex_client_check(g_admin, msg, sizeof msg), 0);
	/* The garbage did reach the daemon and was refused as such. */
	assert_true(mp_daemon_log_has(&g_d, "name ctl-garbage"));
	assert_true(mp_daemon_log_has(&g_d, "bad control packet header") ||
		    mp_daemon_log_has(&g_d, "short control packet"));
	mp_stop_clean();
}

/* Rests @p n post-only bids of user @p user on @p symbol at @p price,
 * waiting for each batch's answers. */
static void mp_rest_many(struct shmex_client *c, uint32_t user, uint32_t symbol, int64_t price,
			 uint32_t n)
{
	uint64_t sent = 0, done = 0, last_no = 0;
	const int64_t until = mp_now_ns() + 60 * MP_SEC;
	while (done < n && mp_now_ns() < until) {
		while (sent < n) {
			struct shmex_order_request r = { .client_id = 0, .user = user,
				.symbol = symbol, .side = SHMEX_BUY, .type = SHMEX_LIMIT,
				.tif = SHMEX_GTC, .flags = SHMEX_OF_POST_ONLY, .price = price,
				.qty = 1 };
			if (shmex_client_submit(c, &r, &last_no) != 0)
				break; /* ring full: take answers first */
			sent++;
		}
		struct shmex_report rep[256];
		const int k = shmex_client_wait(c, rep, 256, 100 * MP_MS);
		assert_true(k >= 0);
		for (int i = 0; i < k; i++)
			if (rep[i].flags & SHMEX_RPTF_DONE) {
				assert_int_equal(rep[i].kind, SHMEX_RPT_ORDER);
				assert_int_equal(rep[i].status, SHMEX_OS_NEW);
				done++;
			}
	}
	assert_int_equal(done, n);
}

struct mp_lister {
	const char *sock;
};

/* Lists user 1's open orders once (the daemon caps an answer at 4096). */
static int mp_lister_main(void *arg)
{
	const struct mp_lister *l = arg;
	struct shmex_client_options o = { .socket_path = l->sock, .name = "lister",
					  .timeout_ns = 20 * MP_SEC };
	struct shmex_client *c;
	if (shmex_client_connect(&o, &c) != 0)
		return 3;
	static struct shmex_order_state st[5000];
	uint32_t total = 0;
	const int n = shmex_client_open_orders(c, 1, SHMEX_ALL_SYMBOLS, st, 5000, &total);
	shmex_client_close(c);
	if (n != 4096 || total != 50000) {
		fprintf(stderr, "lister: %d orders, total %u\n", n, total);
		return 4;
	}
	for (int i = 1; i < n; i++)
		if (st[i].order_id <= st[i - 1].order_id)
			return 5;
	return 0;
}

/* A user with 50 000 open orders asks for them while others trade and an
 * admin grants: the matcher answers in bounded time (one walk, 4096 at
 * most), pings keep being answered within a few milliseconds, and the
 * grant (a grace period the engine thread must pass) completes. */
static void test_big_listing(void **state)
{
	(void)state;
	mp_start(3, NULL, 1);
	struct mp_sess a;
	memset(&a, 0, sizeof a);
	assert_int_equal(mp_sess_open(&a, g_d.sock, "rester", 0, 0), 0);
	mp_rest_many(a.c, 1, MP_BTC_USD, 5500000, 25000);
	mp_rest_many(a.c, 1, MP_ETH_USD, 290000, 25000);
	struct mp_lister l = { g_d.sock };
	int64_t worst = 0;
	for (int round = 0; round < 3; round++) {
		const pid_t pid = mp_spawn(mp_lister_main, &l);
		assert_true(pid > 0);
		assert_int_equal(shmex_client_grant(g_admin, 4000 + (uint32_t)round, 2,
						    SHMEX_ROLE_TRADER), 0);
		for (uint64_t i = 1; i <= 20; i++) {
			const int64_t t0 = mp_now_ns();
			uint64_t no;
			assert_int_equal(shmex_client_ping(a.c, i, &no), 0);
			struct shmex_report rep[4];
			int got = 0;
			while (!got && mp_now_ns() - t0 < 5 * MP_SEC) {
				const int k = shmex_client_wait(a.c, rep, 4, 100 * MP_MS);
				assert_true(k >= 0);
				for (int j = 0; j < k; j++)
					got |= rep[j].kind == SHMEX_RPT_PONG && rep[j].request_no == no;
			}
			assert_true(got);
			const int64_t took = mp_now_ns() - t0;
			if (took > worst)
				worst = took;
			mp_sleep_ms(2);
		}
		assert_int_equal(mp_child_wait(pid, 30 * MP_SEC), 0);
	}
	/* Generous for a loaded 2-core machine; the quadratic walk it replaced
	 * took seconds here. */
	assert_true(worst < 500 * MP_MS);
	mp_sess_close(&a);
	fprintf(stderr, "big_listing: slowest ping %.2f ms during 3 listings of 50 000 orders\n",
		(double)worst / 1e6);
	mp_stop_clean();
}

static void test_slow_reader(void **state)
{
	(void)state;
	mp_start(3, NULL, 1);
	struct mp_trader_result *res = mp_shared(sizeof *res);
	static const uint32_t users[] = { 2, 3 };
	struct mp_trader_opts t = {
		.sock = g_d.sock, .name = "busy", .users = users, .nusers = 2,
		.symbols = mp_world_symbols, .nsymbols = MP_NSYMBOLS,
		.deposits = mp_world_deposits, .ndeposits = MP_NASSETS, .seed = 3,
		.ready_fd = g_ready.wr, .ready_after = 50, .stop_fd = g_stop.rd, .settle = 1,
		.result = res,
	};
	pid_t pt = mp_spawn(mp_trader_main, &t);
	assert_true(pt > 0);
	assert_int_equal(mp_pipe_read_byte(g_ready.rd, 10 * MP_SEC), 1);
	/* 16 response slots, 100 pings, and never a look at the answers. */
	assert_int_equal(mp_sess_open(&g_s, g_d.sock, "sleeper", 0, 16), 0);
	struct shmex_client_info info;
	shmex_client_info(g_s.c, &info);
	assert_int_equal(info.response_slots, 16);
	for (uint64_t i = 1; i <= 100; i++)
		assert_int_equal(mp_sess_ping(&g_s, i), 0);
	const int64_t t0 = mp_now_ns();
	assert_true(mp_daemon_log_wait(&g_d, "response ring full (client not reading)", 5 * MP_SEC));
	assert_true(mp_daemon_log_wait(&g_d, "client stopped reading its reports", 5 * MP_SEC));
	struct pollfd p = { shmex_client_fd(g_s.c), POLLIN | POLLRDHUP, 0 };
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_true(p.revents & (POLLHUP | POLLRDHUP));
	const int64_t ended = mp_now_ns() - t0;
	/* What fitted is there, in order (the ring's last slot was kept for
	 * the reason); then the session is over. */
	struct shmex_report rep[32];
	assert_int_equal(shmex_client_poll(g_s.c, rep, 32), 16);
	for (uint64_t i = 0; i < 15; i++) {
		assert_int_equal(rep[i].kind, SHMEX_RPT_PONG);
		assert_int_equal(rep[i].request_no, i + 1);
		assert_int_equal(rep[i].client_id, i + 1);
		assert_int_equal(rep[i].flags, SHMEX_RPTF_DONE);
	}
	assert_int_equal(rep[15].kind, SHMEX_RPT_ENDED);
	assert_int_equal(rep[15].reason, SHMEX_R_NOT_READING);
	assert_int_equal(shmex_client_wait(g_s.c, rep, 32, 1 * MP_SEC), -ECONNRESET);
	assert_int_equal(mp_admin_session_live(g_admin, "sleeper"), 0);
	/* The other session never noticed. */
	assert_int_equal(mp_admin_session_live(g_admin, "busy"), 1);
	mp_sleep_ms(100);
	mp_pipe_close_wr(&g_stop);
	assert_int_equal(mp_child_wait(pt, 30 * MP_SEC), 0);
	if (!res->ok)
		fail_msg("busy: %s", res->why);
	assert_true(res->done > 50);
	mp_check_money(3);
	fprintf(stderr, "slow_reader: ended %.1f ms after its 100 pings; the busy trader made %llu "
			"requests\n",
		(double)ended / 1e6, (unsigned long long)res->done);
	mp_stop_clean();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_grants, mp_setup, mp_teardown),
		cmocka_unit_test_setup_teardown(test_garbage, mp_setup, mp_teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader, mp_setup, mp_teardown),
		cmocka_unit_test_setup_teardown(test_control_garbage, mp_setup, mp_teardown),
		cmocka_unit_test_setup_teardown(test_big_listing, mp_setup, mp_teardown),
	};
	return cmocka_run_group_tests_name("mp_hostile", tests, NULL, NULL);
}
