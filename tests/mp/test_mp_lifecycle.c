/*
 * mp suite: the daemon's end.
 *   sigterm_with_sessions   SIGTERM while sessions are open (idle ones with
 *                           resting orders, one streaming): each gets
 *                           SHMEX_RPT_SHUTDOWN as its last report and then sees
 *                           its socket close, every request it got an answer
 *                           for was answered in order; the daemon exits 0
 *                           (--check-events: no journal violation) within a
 *                           bound and leaves no socket file. Also as
 *                           sigterm_with_sessions_m2: gateways = 2, matchers = 2
 *                           (answers checked per matcher, mp_session.h).
 *   sixty_four_sessions     64 client processes hold sessions at once (the
 *                           configured maximum), each trading a little and
 *                           answered; a 65th connection is refused with
 *                           SHMEX_E_FULL; once they leave, their slots are
 *                           reused by new sessions.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mp_harness.h"
#include "mp_rester.h"
#include "mp_session.h"
#include "mp_trader.h"
#include "mp_world.h"

static struct mp_daemon g_d;
static struct mp_pipe g_ready = { -1, -1 };
static void *g_shared;
static size_t g_shared_size;
static char g_ini[16384];

static int mp_setup(void **state)
{
	(void)state;
	return mp_pipe_open(&g_ready);
}

static int mp_teardown(void **state)
{
	(void)state;
	mp_kill_all();
	mp_daemon_cleanup(&g_d);
	mp_pipe_close(&g_ready);
	mp_shared_free(g_shared, g_shared_size);
	g_shared = NULL;
	return 0;
}

static void mp_sigterm_with_sessions(uint32_t matchers)
{
	const struct mp_world_opts wo = {
		.engine_extra = matchers > 1 ? "gateways = 2\nlayout = dedicated\nwait = block\n"
					     : NULL,
		.nusers = 4, .matchers = matchers };
	mp_world_ini_opts(g_ini, sizeof g_ini, &wo);
	assert_int_equal(mp_daemon_start(&g_d, g_ini), 0);
	g_shared = mp_shared_alloc(sizeof(struct mp_trader_result));
	g_shared_size = sizeof(struct mp_trader_result);
	assert_non_null(g_shared);
	struct mp_trader_result *res = g_shared;
	struct mp_rester_opts idle[2] = {
		{ .sock = g_d.sock, .name = "idle-cod", .flags = SHMEX_SESSION_CANCEL_ON_DISCONNECT,
		  .user = 1, .symbol = MP_BTC_USD, .matchers = matchers, .n = 3, .price = 5900000,
		  .ready_fd = g_ready.wr, .stop_fd = -1, .wait_end = 1 },
		{ .sock = g_d.sock, .name = "idle", .user = 2, .symbol = MP_ETH_USD,
		  .matchers = matchers, .n = 3, .price = 290000, .ready_fd = g_ready.wr,
		  .stop_fd = -1, .wait_end = 1 },
	};
	static const uint32_t users[] = { 3, 4 };
	struct mp_trader_opts t = {
		.sock = g_d.sock, .name = "streaming", .users = users, .nusers = 2,
		.symbols = mp_world_symbols, .nsymbols = MP_NSYMBOLS, .seed = 11,
		.matchers = matchers,
		.ready_fd = g_ready.wr, .ready_after = 100, .stop_fd = -1, .quiet_end = 1,
		.result = res,
	};
	pid_t pid[3] = { mp_spawn(mp_rester_main, &idle[0]), mp_spawn(mp_rester_main, &idle[1]),
			 mp_spawn(mp_trader_main, &t) };
	for (int i = 0; i < 3; i++) {
		assert_true(pid[i] > 0);
		assert_int_equal(mp_pipe_read_byte(g_ready.rd, 10 * MP_SEC), 1);
	}
	mp_sleep_ms(50);
	const int64_t t0 = mp_now_ns();
	assert_int_equal(kill(g_d.pid, SIGTERM), 0);
	const int st = mp_daemon_wait(&g_d, 5 * MP_SEC);
	const int64_t took = mp_now_ns() - t0;
	if (st != 0)
		mp_daemon_log_dump(&g_d);
	assert_int_equal(st, 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(mp_child_wait(pid[i], 10 * MP_SEC), 0);
	assert_int_equal(mp_child_wait(pid[2], 10 * MP_SEC), 2); /* ended by the daemon */
	if (!res->ok)
		fail_msg("streaming: %s", res->why);
	assert_int_equal(res->ended, SHMEX_RPT_SHUTDOWN);
	assert_true(res->done >= 100);
	struct stat sb;
	assert_int_equal(stat(g_d.sock, &sb), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(mp_daemon_log_has(&g_d, "SIGTERM: draining"));
	assert_true(mp_daemon_log_has(&g_d, "0 violations"));
	assert_true(mp_daemon_log_clean(&g_d));
	assert_false(mp_daemon_log_has(&g_d, "drain timed out"));
	fprintf(stderr, "sigterm_with_sessions (%u matcher%s): daemon gone %.1f ms after SIGTERM; "
			"the streaming client had %llu of %llu requests answered\n",
		matchers, matchers > 1 ? "s" : "", (double)took / 1e6,
		(unsigned long long)res->done, (unsigned long long)res->sent);
}

static void test_sigterm_with_sessions(void **state)
{
	(void)state;
	mp_sigterm_with_sessions(1);
}

static void test_sigterm_with_sessions_m2(void **state)
{
	(void)state;
	mp_sigterm_with_sessions(2);
}

/* One of the 64: connects, rests a bid and pings, says it is ready, holds
 * its session until the stop pipe closes, then leaves. */
struct mp_holder {
	const char *sock;
	int ready_fd, stop_fd;
	uint32_t index;
};

static int mp_holder_main(void *arg)
{
	const struct mp_holder *h = arg;
	struct shmex_client_options o = { .socket_path = h->sock, .name = "holder",
					  .flags = SHMEX_SESSION_CANCEL_ON_DISCONNECT };
	struct shmex_client *c;
	/* The harness's readiness probe holds a slot until the daemon has
	 * seen it close: a moment of "full" is possible, retry (bounded). */
	int rc = SHMEX_E_FULL;
	for (int tries = 0; tries < 500 && rc == SHMEX_E_FULL; tries++)
		if ((rc = shmex_client_connect(&o, &c)) == SHMEX_E_FULL)
			mp_sleep_ms(10);
	if (rc != 0)
		return 3;
	struct shmex_order_request r = { .client_id = 1000 + h->index, .user = 1 + h->index % 4,
					 .symbol = MP_BTC_USD, .side = SHMEX_BUY,
					 .type = SHMEX_LIMIT, .tif = SHMEX_GTC,
					 .price = 5900000 - h->index, .qty = 1 };
	uint64_t no[2];
	if (shmex_client_submit(c, &r, &no[0]) != 0 || shmex_client_ping(c, h->index, &no[1]) != 0)
		return 4;
	uint32_t done = 0;
	const int64_t until = mp_now_ns() + 10 * MP_SEC;
	while (done < 2 && mp_now_ns() < until) {
		struct shmex_report rep[8];
		const int n = shmex_client_wait(c, rep, 8, 100 * MP_MS);
		if (n < 0)
			return 5;
		for (int i = 0; i < n; i++)
			if ((rep[i].flags & SHMEX_RPTF_DONE) && rep[i].request_no == no[done]) {
				if (done == 0 && (rep[i].kind != SHMEX_RPT_ORDER ||
						  rep[i].status != SHMEX_OS_NEW))
					return 6;
				done++;
			}
	}
	if (done != 2)
		return 7;
	const char one = 1;
	if (write(h->ready_fd, &one, 1) != 1)
		return 8;
	mp_pipe_read_byte(h->stop_fd, 20 * MP_SEC); /* EOF: the parent says go */
	shmex_client_close(c);
	return 0;
}

static void test_sixty_four_sessions(void **state)
{
	(void)state;
	enum { N = 64 };
	struct mp_pipe stop = { -1, -1 };
	assert_int_equal(mp_pipe_open(&stop), 0);
	mp_world_ini(g_ini, sizeof g_ini, "max_sessions = 64\n", 4, NULL);
	assert_int_equal(mp_daemon_start(&g_d, g_ini), 0);
	static struct mp_holder h[N];
	pid_t pid[N];
	mp_parent_only(stop.wr); /* children must not hold the stop pipe open */
	for (uint32_t i = 0; i < N; i++) {
		h[i] = (struct mp_holder){ g_d.sock, g_ready.wr, stop.rd, i };
		pid[i] = mp_spawn(mp_holder_main, &h[i]);
		assert_true(pid[i] > 0);
	}
	for (uint32_t i = 0; i < N; i++)
		if (mp_pipe_read_byte(g_ready.rd, 20 * MP_SEC) != 1) {
			for (uint32_t k = 0; k < N; k++)
				fprintf(stderr, "holder %u: %d\n", k, mp_child_wait(pid[k], MP_SEC));
			mp_daemon_log_dump(&g_d);
			fail_msg("only %u of %u sessions ready", i, (unsigned)N);
		}
	/* All 64 slots are held: the next one is refused, clearly. */
	struct shmex_client_options o = { .socket_path = g_d.sock, .name = "65th" };
	struct shmex_client *c = NULL;
	assert_int_equal(shmex_client_connect(&o, &c), SHMEX_E_FULL);
	mp_pipe_close_wr(&stop);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(mp_child_wait(pid[i], 20 * MP_SEC), 0);
	/* Their slots come back (after the matcher forgot each session). */
	int rc = -1;
	for (int tries = 0; tries < 200 && rc != 0; tries++) {
		rc = shmex_client_connect(&o, &c);
		if (rc != 0)
			mp_sleep_ms(10);
	}
	assert_int_equal(rc, 0);
	uint32_t total = 0;
	struct shmex_order_state st[4];
	for (uint32_t u = 1; u <= 4; u++) {
		uint32_t t = 0;
		assert_true(shmex_client_open_orders(c, u, SHMEX_ALL_SYMBOLS, st, 4, &t) >= 0);
		total += t;
	}
	assert_int_equal(total, 0); /* cancel-on-disconnect took every bid */
	char msg[256];
	assert_int_equal(shmex_client_check(c, msg, sizeof msg), 0);
	shmex_client_close(c);
	mp_pipe_close(&stop);
	assert_int_equal(mp_daemon_stop(&g_d, 5 * MP_SEC), 0);
	assert_true(mp_daemon_log_has(&g_d, "connection refused: no free session"));
	assert_true(mp_daemon_log_clean(&g_d));
}

/* Keeps its request ring as full as it may (never more requests unanswered
 * or unread than its response ring holds, so the daemon has no reason to
 * end it) until SHUTDOWN. Exit 0 on SHUTDOWN, 6 if it was ended instead. */
static int mp_flooder_main(void *arg)
{
	const struct mp_holder *h = arg;
	struct shmex_client_options o = { .socket_path = h->sock, .name = "flooder",
					  .request_slots = 65536, .response_slots = 65536 };
	struct shmex_client *c;
	if (shmex_client_connect(&o, &c) != 0)
		return 3;
	const char one = 1;
	int said = 0;
	uint64_t sent = 0, got = 0;
	static struct shmex_report rep[8192];
	const int64_t until = mp_now_ns() + 20 * MP_SEC;
	while (mp_now_ns() < until) {
		uint64_t no;
		while (sent - got < 65000 && shmex_client_ping(c, 1, &no) == 0)
			sent++;
		if (!said && write(h->ready_fd, &one, 1) == 1)
			said = 1;
		const int n = shmex_client_poll(c, rep, 8192);
		if (n < 0)
			break;
		got += (uint64_t)n;
		for (int i = 0; i < n; i++) {
			if (rep[i].kind == SHMEX_RPT_SHUTDOWN) {
				shmex_client_close(c);
				return 0;
			}
			if (rep[i].kind == SHMEX_RPT_ENDED) {
				shmex_client_close(c);
				return 6;
			}
		}
	}
	shmex_client_close(c);
	return 7;
}

/* SIGTERM while one client keeps its ring full: the drain takes what each
 * client had written when it began and no more, so an idle session still
 * gets its SHUTDOWN at once and the daemon stops without the drain's
 * timeout. */
static void test_drain_with_flooder(void **state)
{
	(void)state;
	mp_world_ini(g_ini, sizeof g_ini, NULL, 4, NULL);
	assert_int_equal(mp_daemon_start(&g_d, g_ini), 0);
	static struct mp_holder h;
	h = (struct mp_holder){ g_d.sock, g_ready.wr, -1, 0 };
	const pid_t pid = mp_spawn(mp_flooder_main, &h);
	assert_true(pid > 0);
	assert_int_equal(mp_pipe_read_byte(g_ready.rd, 10 * MP_SEC), 1);
	struct shmex_client_options o = { .socket_path = g_d.sock, .name = "bystander" };
	struct shmex_client *c;
	assert_int_equal(shmex_client_connect(&o, &c), 0);
	mp_sleep_ms(50);
	const int64_t t0 = mp_now_ns();
	assert_int_equal(kill(g_d.pid, SIGTERM), 0);
	int shutdown = 0;
	while (!shutdown && mp_now_ns() - t0 < 5 * MP_SEC) {
		struct shmex_report rep[8];
		const int n = shmex_client_wait(c, rep, 8, 100 * MP_MS);
		for (int i = 0; i < n; i++)
			shutdown |= rep[i].kind == SHMEX_RPT_SHUTDOWN;
		if (n < 0)
			break;
	}
	const int64_t took = mp_now_ns() - t0;
	shmex_client_close(c);
	assert_true(shutdown);
	assert_true(took < 2 * MP_SEC); /* the drain's timeout is 3 s */
	assert_int_equal(mp_daemon_wait(&g_d, 5 * MP_SEC), 0);
	assert_int_equal(mp_child_wait(pid, 10 * MP_SEC), 0);
	assert_false(mp_daemon_log_has(&g_d, "drain timed out"));
	assert_true(mp_daemon_log_clean(&g_d));
	fprintf(stderr, "drain_with_flooder: SHUTDOWN %.1f ms after SIGTERM\n", (double)took / 1e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sigterm_with_sessions, mp_setup, mp_teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_with_sessions_m2, mp_setup, mp_teardown),
		cmocka_unit_test_setup_teardown(test_sixty_four_sessions, mp_setup, mp_teardown),
		cmocka_unit_test_setup_teardown(test_drain_with_flooder, mp_setup, mp_teardown),
	};
	return cmocka_run_group_tests_name("mp_lifecycle", tests, NULL, NULL);
}
