/*
 * mp suite: the daemon's end.
 *   sigterm_with_sessions   SIGTERM while sessions are open (idle ones with
 *                           resting orders, one streaming): each gets
 *                           SHMEX_RPT_SHUTDOWN as its last report and then sees
 *                           its socket close, every request it got an answer
 *                           for was answered in order; the daemon exits 0
 *                           (--check-events: no journal violation) within a
 *                           bound and leaves no socket file.
 */
#include <errno.h>
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

static void test_sigterm_with_sessions(void **state)
{
	(void)state;
	mp_world_ini(g_ini, sizeof g_ini, NULL, 4, NULL);
	assert_int_equal(mp_daemon_start(&g_d, g_ini), 0);
	g_shared = mp_shared_alloc(sizeof(struct mp_trader_result));
	g_shared_size = sizeof(struct mp_trader_result);
	assert_non_null(g_shared);
	struct mp_trader_result *res = g_shared;
	struct mp_rester_opts idle[2] = {
		{ .sock = g_d.sock, .name = "idle-cod", .flags = SHMEX_SESSION_CANCEL_ON_DISCONNECT,
		  .user = 1, .symbol = MP_BTC_USD, .n = 3, .price = 5900000,
		  .ready_fd = g_ready.wr, .stop_fd = -1, .wait_end = 1 },
		{ .sock = g_d.sock, .name = "idle", .user = 2, .symbol = MP_ETH_USD, .n = 3,
		  .price = 290000, .ready_fd = g_ready.wr, .stop_fd = -1, .wait_end = 1 },
	};
	static const uint32_t users[] = { 3, 4 };
	struct mp_trader_opts t = {
		.sock = g_d.sock, .name = "streaming", .users = users, .nusers = 2,
		.symbols = mp_world_symbols, .nsymbols = MP_NSYMBOLS, .seed = 11,
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
	fprintf(stderr, "sigterm_with_sessions: daemon gone %.1f ms after SIGTERM; the streaming "
			"client had %llu of %llu requests answered\n",
		(double)took / 1e6, (unsigned long long)res->done, (unsigned long long)res->sent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sigterm_with_sessions, mp_setup, mp_teardown),
	};
	return cmocka_run_group_tests_name("mp_lifecycle", tests, NULL, NULL);
}
