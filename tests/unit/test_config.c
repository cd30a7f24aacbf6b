/*
 * shmexd's configuration (src/engine/config.c, docs/CONFIG.md): one test per
 * rule. Every error case checks the code (SHMEX_E_PARSE for a line that is
 * wrong on its own, SHMEX_E_INVAL for a whole-file rule), the "name:line: "
 * prefix and a word of the reason. Texts are parsed under the name "t"; the
 * line numbers in the expectations count the lines of each text.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/config.h"

#define ERR_CAP 512

/* Two assets, four lines: USD is asset 1 (2 decimals), BTC asset 2 (8). */
#define ASSETS "[asset USD]\ndecimals = 2\n[asset BTC]\ndecimals = 8\n"
/* A minimal valid BTC/USD symbol section, five lines. */
#define BTCUSD "[symbol BTC/USD]\nbase = BTC\nquote = USD\ntick = 1\nlot = 100000\n"

static struct sx_config *cfg_new(void)
{
	struct sx_config *c = calloc(1, sizeof *c);
	assert_non_null(c);
	return c;
}

static int parse(struct sx_config *c, const char *text, char *err)
{
	return sx_config_parse(text, "t", c, err, ERR_CAP);
}

/* Parses @p text, which must be valid; the caller frees the result. */
static struct sx_config *ok(const char *text)
{
	struct sx_config *c = cfg_new();
	char err[ERR_CAP];
	int rc = parse(c, text, err);

	if (rc != 0)
		print_error("unexpected error %d: %s\n--- text:\n%s---\n", rc, err, text);
	assert_int_equal(rc, 0);
	return c;
}

/* @p text must fail with @p code at @p line (0: no line) with @p word in
 * the reason. */
static void bad(const char *text, int code, unsigned line, const char *word)
{
	struct sx_config *c = cfg_new();
	char err[ERR_CAP], prefix[32];
	int rc = parse(c, text, err);

	if (line != 0)
		snprintf(prefix, sizeof prefix, "t:%u: ", line);
	else
		snprintf(prefix, sizeof prefix, "t: ");
	if (rc != code || strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, word) == NULL)
		print_error("got %d \"%s\", want %d \"%s...%s...\"\n--- text:\n%s---\n", rc, err,
			    code, prefix, word, text);
	assert_int_equal(rc, code);
	assert_memory_equal(err, prefix, strlen(prefix));
	assert_non_null(strstr(err, word));
	assert_true(strlen(err) > strlen(prefix) + 3); /* a reason follows */
	free(c);
}

/* sx_config_check() on @p c must fail with @p word in its reason. */
static void bad_check(const struct sx_config *c, const char *word)
{
	char err[ERR_CAP];
	int rc = sx_config_check(c, err, sizeof err);

	if (rc != SHMEX_E_INVAL || strstr(err, word) == NULL)
		print_error("check: got %d \"%s\", want \"%s\"\n", rc, err, word);
	assert_int_equal(rc, SHMEX_E_INVAL);
	assert_non_null(strstr(err, word));
}

/* A valid config built in code: the demo. */
static struct sx_config *demo(void)
{
	struct sx_config *c = cfg_new();
	char err[ERR_CAP];
	assert_int_equal(sx_config_demo(1000, c, err, sizeof err), 0);
	return c;
}

/* ---- defaults and the demo -------------------------------------------- */

static void test_defaults(void **state)
{
	(void)state;
	struct sx_config *c = cfg_new(), *e;
	char err[ERR_CAP];

	sx_config_defaults(c);
	assert_int_equal(c->gateways, 1);
	assert_int_equal(c->matchers, 1);
	assert_int_equal(c->layout, SX_LAYOUT_SHARED);
	assert_int_equal(c->wait_policy, SHMEX_WAIT_BLOCK);
	assert_int_equal(c->max_sessions, 64);
	assert_int_equal(c->request_slots, 1024);
	assert_int_equal(c->response_slots, 4096);
	assert_int_equal(c->ncpus, 0);
	assert_int_equal(c->exchange.max_orders, 1048576);
	assert_int_equal(c->exchange.max_users, 1024);
	assert_int_equal(c->exchange.max_symbols, 64);
	assert_int_equal(c->exchange.max_assets, 32);
	assert_int_equal(c->exchange.max_open_orders, 0);
	assert_string_equal(c->socket_path, "/tmp/shmex.sock");
	assert_string_equal(c->data_dir, "./shmex-data");
	assert_int_equal(c->nassets + c->nsymbols + c->nusers + c->ngrants, 0);
	assert_int_equal(sx_config_check(c, err, sizeof err), 0);

	/* An empty file (or only comments) is the defaults. */
	e = ok("; nothing\n\n# at all\n");
	assert_memory_equal(c, e, sizeof *c);
	free(e);
	free(c);
}

static void test_demo(void **state)
{
	(void)state;
	struct sx_config *c = demo(), *t;
	char err[ERR_CAP];

	assert_int_equal(c->layout, SX_LAYOUT_SHARED);
	assert_int_equal(c->wait_policy, SHMEX_WAIT_BLOCK);
	assert_int_equal(c->max_sessions, 64);
	assert_string_equal(c->socket_path, "/tmp/shmex.sock");
	assert_int_equal(c->nassets, 3);
	assert_string_equal(c->assets[0].p.code, "USD");
	assert_int_equal(c->assets[0].p.decimals, 2);
	assert_string_equal(c->assets[1].p.code, "BTC");
	assert_int_equal(c->assets[1].p.decimals, 8);
	assert_string_equal(c->assets[2].p.code, "ETH");
	assert_int_equal(c->assets[2].p.decimals, 8);

	assert_int_equal(c->nsymbols, 2);
	const struct shmex_symbol_params *b = &c->symbols[0].p, *e = &c->symbols[1].p;
	assert_string_equal(b->code, "BTC/USD");
	assert_int_equal(b->base, 2);
	assert_int_equal(b->quote, 1);
	assert_int_equal(b->tick_size, 1);
	assert_int_equal(b->lot_size, 100000);
	assert_int_equal(b->ref_price, 6000000);
	assert_int_equal(b->band_ppm, 100000);
	assert_int_equal(b->taker_fee_ppm, 200);
	assert_true(b->maker_fee_ppm <= 0 && b->maker_fee_ppm + b->taker_fee_ppm >= 0);
	assert_string_equal(e->code, "ETH/USD");
	assert_int_equal(e->base, 3);
	assert_int_equal(e->lot_size, 1000000);
	assert_int_equal(e->ref_price, 300000);

	assert_int_equal(c->nusers, 3);
	const char *names[] = {"mm1", "mm2", "taker"};
	for (int i = 0; i < 3; i++) {
		const struct sx_cfg_user *u = &c->users[i];
		assert_string_equal(u->name, names[i]);
		assert_int_equal(u->nfunds, 3);
		assert_int_equal(u->funds[0].asset, 1);
		assert_true(u->funds[0].amount == INT64_C(1000000000)); /* 10,000,000.00 USD */
		assert_int_equal(u->funds[1].asset, 2);
		assert_true(u->funds[1].amount == INT64_C(10000000000)); /* 100 BTC */
		assert_int_equal(u->funds[2].asset, 3);
		assert_true(u->funds[2].amount == INT64_C(100000000000)); /* 1000 ETH */
	}
	assert_int_equal(c->ngrants, 1);
	assert_int_equal(c->grants[0].uid, 1000);
	assert_int_equal(c->grants[0].user, SX_CFG_ALL_USERS);
	assert_int_equal(c->grants[0].roles, SHMEX_ROLE_TRADER | SHMEX_ROLE_ADMIN);

	/* The printed text is the same config, less the grant. */
	t = cfg_new();
	assert_int_equal(sx_config_parse(sx_config_demo_text(), "demo", t, err, sizeof err), 0);
	assert_int_equal(t->ngrants, 0);
	t->grants[t->ngrants++] = c->grants[0];
	assert_memory_equal(c, t, sizeof *c);
	free(t);
	free(c);
}

/* ---- [engine] --------------------------------------------------------- */

static void test_engine_keys(void **state)
{
	(void)state;
	struct sx_config *c = ok("[engine]\n"
				 "gateways = 2\n"
				 "matchers = 3\n"
				 "layout = dedicated\n"
				 "wait = spin\n"
				 "cpus = 0, 2,3\n"
				 "max_sessions = 4096\n"
				 "request_slots = 16\n"
				 "response_slots = 65536\n"
				 "max_orders = 4096\n"
				 "max_users = 10\n"
				 "max_symbols = 5\n"
				 "max_assets = 7\n"
				 "max_open_orders = 11\n"
				 "rate_per_sec = 12\n"
				 "rate_burst = 13\n"
				 "book_orders = 14\n"
				 "ledger_capacity = 15\n"
				 "report_capacity = 16\n"
				 "socket = /run/shmex/s.sock\n"
				 "data = /var/lib/shmex\n");
	assert_int_equal(c->gateways, 2);
	assert_int_equal(c->matchers, 3);
	assert_int_equal(c->layout, SX_LAYOUT_DEDICATED);
	assert_int_equal(c->wait_policy, SHMEX_WAIT_SPIN);
	assert_int_equal(c->ncpus, 3);
	assert_int_equal(c->cpus[0], 0);
	assert_int_equal(c->cpus[1], 2);
	assert_int_equal(c->cpus[2], 3);
	assert_int_equal(c->max_sessions, 4096);
	assert_int_equal(c->request_slots, 16);
	assert_int_equal(c->response_slots, 65536);
	assert_int_equal(c->exchange.max_orders, 4096);
	assert_int_equal(c->exchange.max_users, 10);
	assert_int_equal(c->exchange.max_symbols, 5);
	assert_int_equal(c->exchange.max_assets, 7);
	assert_int_equal(c->exchange.max_open_orders, 11);
	assert_int_equal(c->exchange.rate_per_sec, 12);
	assert_int_equal(c->exchange.rate_burst, 13);
	assert_int_equal(c->exchange.book_orders, 14);
	assert_int_equal(c->exchange.ledger_capacity, 15);
	assert_int_equal(c->exchange.report_capacity, 16);
	assert_string_equal(c->socket_path, "/run/shmex/s.sock");
	assert_string_equal(c->data_dir, "/var/lib/shmex");
	free(c);

	c = ok("[engine]\nwait = yield\n");
	assert_int_equal(c->wait_policy, SHMEX_WAIT_YIELD);
	free(c);
	c = ok("[engine]\nwait = block\n");
	assert_int_equal(c->wait_policy, SHMEX_WAIT_BLOCK);
	free(c);
}

static void test_engine_words(void **state)
{
	(void)state;
	bad("[engine]\nlayout = split\n", SHMEX_E_PARSE, 2, "shared | dedicated");
	bad("[engine]\nlayout = Shared\n", SHMEX_E_PARSE, 2, "layout");
	bad("[engine]\nwait = sleep\n", SHMEX_E_PARSE, 2, "spin | yield | block");
	bad("[engine]\nwait =\n", SHMEX_E_PARSE, 2, "wait");
}

static void test_threads(void **state)
{
	(void)state;
	struct sx_config *c;

	bad("[engine]\ngateways = 0\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nlayout = dedicated\ngateways = 65\n", SHMEX_E_PARSE, 3, "out of range");
	bad("[engine]\nmatchers = 0\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nlayout = dedicated\nmatchers = 65\n", SHMEX_E_PARSE, 3, "out of range");
	/* Every gateway and matcher is a thread, the bank one more. */
	bad("[engine]\nlayout = dedicated\ngateways = 64\nmatchers = 64\n", SHMEX_E_INVAL, 4,
	    "at most 64 threads");
	bad("[engine]\nlayout = dedicated\nmatchers = 2\ngateways = 63\n", SHMEX_E_INVAL, 4,
	    "at most 64 threads");
	c = ok("[engine]\nlayout = dedicated\ngateways = 32\nmatchers = 32\n");
	free(c);

	c = demo();
	c->gateways = 0;
	bad_check(c, "gateways");
	c->gateways = SX_CFG_MAX_THREADS + 1;
	bad_check(c, "gateways");
	c->gateways = 1;
	c->matchers = 0;
	bad_check(c, "matchers");
	c->matchers = 1;
	c->layout = 2;
	bad_check(c, "layout");
	c->layout = SX_LAYOUT_SHARED;
	c->wait_policy = 3;
	bad_check(c, "wait");
	free(c);
}

/* layout = shared (the default) is one thread: one gateway, one matcher. */
static void test_layout_shared(void **state)
{
	(void)state;
	struct sx_config *c;

	bad("[engine]\ngateways = 2\n", SHMEX_E_INVAL, 2, "layout = shared");
	bad("[engine]\nmatchers = 2\n", SHMEX_E_INVAL, 2, "layout = shared");
	/* The line of the key that completed the conflict. */
	bad("[engine]\nmatchers = 2\nlayout = shared\n", SHMEX_E_INVAL, 3, "layout = shared");
	c = ok("[engine]\nlayout = dedicated\ngateways = 2\nmatchers = 2\n");
	free(c);
	c = ok("[engine]\nlayout = dedicated\n"); /* dedicated with 1 + 1 is fine too */
	free(c);

	c = demo();
	c->gateways = 2;
	bad_check(c, "layout = shared");
	c->layout = SX_LAYOUT_DEDICATED;
	assert_int_equal(sx_config_check(c, NULL, 0), 0);
	free(c);
}

static void test_cpus(void **state)
{
	(void)state;
	struct sx_config *c;
	char many[256] = "[engine]\ncpus = ";

	c = ok("[engine]\ncpus =\n");
	assert_int_equal(c->ncpus, 0);
	free(c);
	c = ok("[engine]\ncpus = 1023\n");
	assert_int_equal(c->ncpus, 1);
	assert_int_equal(c->cpus[0], 1023);
	free(c);
	bad("[engine]\ncpus = -1\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\ncpus = 1024\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\ncpus = 1,,2\n", SHMEX_E_PARSE, 2, "empty item");
	bad("[engine]\ncpus = 1,\n", SHMEX_E_PARSE, 2, "empty item");
	bad("[engine]\ncpus = 1 2\n", SHMEX_E_PARSE, 2, "not an integer");
	for (int i = 0; i < SX_CFG_MAX_THREADS + 1; i++)
		strcat(many, i ? ",1" : "1");
	strcat(many, "\n");
	bad(many, SHMEX_E_PARSE, 2, "more than 64");

	c = demo();
	c->ncpus = 2;
	c->cpus[0] = 0;
	c->cpus[1] = -1;
	bad_check(c, "cpus");
	c->cpus[1] = 1024;
	bad_check(c, "cpus");
	c->cpus[1] = 1;
	c->ncpus = SX_CFG_MAX_THREADS + 1;
	bad_check(c, "cpus");
	free(c);
}

static void test_sessions_and_slots(void **state)
{
	(void)state;
	struct sx_config *c;

	bad("[engine]\nmax_sessions = 0\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nmax_sessions = 4097\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nrequest_slots = 100\n", SHMEX_E_PARSE, 2, "power of two");
	bad("[engine]\nrequest_slots = 8\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nrequest_slots = 131072\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nresponse_slots = 4095\n", SHMEX_E_PARSE, 2, "power of two");
	bad("[engine]\nresponse_slots = 0\n", SHMEX_E_PARSE, 2, "out of range");
	c = ok("[engine]\nmax_sessions = 1\nrequest_slots = 65536\nresponse_slots = 16\n");
	assert_int_equal(c->max_sessions, 1);
	free(c);

	c = demo();
	c->max_sessions = 0;
	bad_check(c, "max_sessions");
	c->max_sessions = 4097;
	bad_check(c, "max_sessions");
	c->max_sessions = 1;
	c->request_slots = 1000;
	bad_check(c, "request_slots");
	c->request_slots = 8;
	bad_check(c, "request_slots");
	c->request_slots = 1u << 17;
	bad_check(c, "request_slots");
	c->request_slots = 16;
	c->response_slots = 3;
	bad_check(c, "response_slots");
	free(c);
}

static void test_paths(void **state)
{
	(void)state;
	struct sx_config *c;
	char text[400], path[300];

	memset(path, 'p', 107);
	path[107] = '\0';
	snprintf(text, sizeof text, "[engine]\nsocket = %s\n", path);
	c = ok(text);
	assert_string_equal(c->socket_path, path);
	free(c);
	snprintf(text, sizeof text, "[engine]\nsocket = %sq\n", path);
	bad(text, SHMEX_E_PARSE, 2, "socket");
	bad("[engine]\nsocket =\n", SHMEX_E_PARSE, 2, "socket");
	bad("[engine]\ndata =\n", SHMEX_E_PARSE, 2, "data");

	c = demo();
	c->socket_path[0] = '\0';
	bad_check(c, "socket");
	snprintf(c->socket_path, sizeof c->socket_path, "/s");
	memset(c->data_dir, 'd', sizeof c->data_dir); /* not terminated */
	bad_check(c, "data");
	free(c);
}

/* The exchange's capacities (shmex_exchange_create()) and the counts. */
static void test_capacities(void **state)
{
	(void)state;
	struct sx_config *c;

	bad("[engine]\nmax_orders = 1\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nmax_orders = 268435457\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nmax_assets = 0\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nmax_assets = 65536\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nmax_users = 0\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nmax_symbols = 0\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nbook_orders = 268435457\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nledger_capacity = 1073741825\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nmax_users = 16777216\nmax_assets = 100\n", SHMEX_E_INVAL, 3, "2^28");

	/* More than the capacity: the first section over it is cited. */
	bad("[engine]\nmax_assets = 1\n" ASSETS, SHMEX_E_INVAL, 5, "max_assets = 1");
	bad("[engine]\nmax_symbols = 1\n" ASSETS BTCUSD "[symbol X]\nbase = USD\nquote = BTC\n"
	    "tick = 1\nlot = 1\n",
	    SHMEX_E_INVAL, 12, "max_symbols = 1");
	bad("[user a]\n[user b]\n[engine]\nmax_users = 1\n", SHMEX_E_INVAL, 2, "max_users = 1");
	c = ok("[engine]\nmax_assets = 2\n" ASSETS);
	free(c);

	c = demo();
	c->exchange.max_orders = 1;
	bad_check(c, "max_orders");
	c->exchange.max_orders = 1024;
	c->exchange.max_assets = 2; /* the demo has 3 */
	bad_check(c, "max_assets");
	c->exchange.max_assets = 0;
	bad_check(c, "max_assets");
	c->exchange.max_assets = 3;
	c->exchange.max_symbols = 1;
	bad_check(c, "max_symbols");
	c->exchange.max_symbols = 2;
	c->exchange.max_users = 2;
	bad_check(c, "max_users");
	c->exchange.max_users = 3;
	c->exchange.book_orders = (1u << 28) + 1;
	bad_check(c, "book_orders");
	c->exchange.book_orders = 0;
	c->exchange.report_capacity = (1u << 30) + 1;
	bad_check(c, "report_capacity");
	c->exchange.report_capacity = 0;
	c->exchange.start_time = -1;
	bad_check(c, "start_time");
	c->exchange.start_time = 0;
	assert_int_equal(sx_config_check(c, NULL, 0), 0);
	free(c);
}

/* Integers: decimal, whole value, range checked, never wrapped. */
static void test_integers(void **state)
{
	(void)state;
	struct sx_config *c;

	bad("[engine]\ngateways = 1x\n", SHMEX_E_PARSE, 2, "not an integer");
	bad("[engine]\ngateways =\n", SHMEX_E_PARSE, 2, "not an integer");
	bad("[engine]\ngateways = 0x1\n", SHMEX_E_PARSE, 2, "not an integer");
	bad("[engine]\ngateways = 1.0\n", SHMEX_E_PARSE, 2, "not an integer");
	bad("[engine]\ngateways = 1 1\n", SHMEX_E_PARSE, 2, "not an integer");
	bad("[engine]\ngateways = -\n", SHMEX_E_PARSE, 2, "not an integer");
	bad("[engine]\nmax_open_orders = -1\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nmax_open_orders = 4294967296\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nrate_per_sec = 99999999999999999999\n", SHMEX_E_PARSE, 2,
	    "out of range");
	bad(ASSETS BTCUSD "max_notional = 9223372036854775808\n", SHMEX_E_PARSE, 10,
	    "out of range");
	bad(ASSETS BTCUSD "maker_fee_ppm = -1000001\n", SHMEX_E_PARSE, 10, "out of range");
	bad(ASSETS BTCUSD "taker_fee_ppm = 1000001\n", SHMEX_E_PARSE, 10, "out of range");
	c = ok("[engine]\nmax_open_orders = 4294967295\n" ASSETS BTCUSD
	       "max_notional = 9223372036854775807\nmaker_fee_ppm = -1000000\n"
	       "taker_fee_ppm = 1000000\n");
	assert_int_equal(c->exchange.max_open_orders, UINT32_MAX);
	assert_true(c->symbols[0].p.max_notional == INT64_MAX);
	assert_int_equal(c->symbols[0].p.maker_fee_ppm, -1000000);
	free(c);
	c = ok("[engine]\ngateways = 01\nmax_open_orders = +7\n");
	assert_int_equal(c->gateways, 1);
	assert_int_equal(c->exchange.max_open_orders, 7);
	free(c);
}

/* ---- [asset] ---------------------------------------------------------- */

static void test_assets(void **state)
{
	(void)state;
	struct sx_config *c = ok(ASSETS "[asset A_b-c.d/e012345]\ndecimals = 18\n"
					"[asset Z]\ndecimals = 0\n");

	assert_int_equal(c->nassets, 4);
	assert_string_equal(c->assets[0].p.code, "USD");
	assert_int_equal(c->assets[0].p.decimals, 2);
	assert_string_equal(c->assets[1].p.code, "BTC");
	assert_int_equal(c->assets[1].p.decimals, 8);
	assert_string_equal(c->assets[2].p.code, "A_b-c.d/e012345"); /* 15 characters */
	assert_int_equal(c->assets[2].p.decimals, 18);
	assert_int_equal(c->assets[3].p.decimals, 0);
	free(c);

	bad("[asset USD]\n[asset BTC]\ndecimals = 8\n", SHMEX_E_PARSE, 1, "'decimals'");
	bad("[asset USD]\n", SHMEX_E_PARSE, 1, "'decimals'");
	bad("[asset USD]\ndecimals = 19\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[asset USD]\ndecimals = -1\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[asset ABCDEFGHIJKLMNOP]\ndecimals = 1\n", SHMEX_E_PARSE, 1, "1..15");
	bad("[asset US$]\ndecimals = 1\n", SHMEX_E_PARSE, 1, "US$");
	bad("[asset U:S]\ndecimals = 1\n", SHMEX_E_PARSE, 1, "U:S");
	bad("[asset U,S]\ndecimals = 1\n", SHMEX_E_PARSE, 1, "U,S");
	bad("[asset US D]\ndecimals = 1\n", SHMEX_E_PARSE, 1, "US D");
	bad("[asset]\ndecimals = 1\n", SHMEX_E_PARSE, 1, "[asset ]");
	bad(ASSETS "[asset USD]\ndecimals = 2\n", SHMEX_E_PARSE, 5, "first at line 1");
	bad("[asset USD]\nprecision = 2\n", SHMEX_E_PARSE, 2, "unknown key 'precision'");

	c = demo();
	c->assets[1].p.decimals = 19;
	bad_check(c, "decimals");
	c->assets[1].p.decimals = 8;
	memcpy(c->assets[1].p.code, "USD", 4);
	bad_check(c, "repeats");
	c->assets[1].p.code[0] = '\0';
	bad_check(c, "bad code");
	memset(c->assets[1].p.code, 'B', SHMEX_CODE_LEN); /* not terminated */
	bad_check(c, "bad code");
	free(c);
}

/* ---- [symbol] --------------------------------------------------------- */

static void test_symbol_keys(void **state)
{
	(void)state;
	struct sx_config *c = ok("[engine]\nlayout = dedicated\nmatchers = 4\n" ASSETS
				 "[symbol BTC/USD]\n"
				 "base = BTC\n"
				 "quote = USD\n"
				 "tick = 5\n"
				 "lot = 1000\n"
				 "min_qty = 2\n"
				 "max_qty = 30\n"
				 "max_notional = 40\n"
				 "ref_price = 50\n"
				 "band_ppm = 60\n"
				 "maker_fee_ppm = -70\n"
				 "taker_fee_ppm = 80\n"
				 "max_matches = 90\n"
				 "min_peak = 3\n"
				 "max_iceberg_parts = 11\n"
				 "book_orders = 12\n"
				 "status = halted\n"
				 "matcher = 3\n"
				 "[symbol USD/BTC]\n"
				 "base = USD\n"
				 "quote = BTC\n"
				 "tick = 1\n"
				 "lot = 1\n");
	const struct sx_cfg_symbol *s = &c->symbols[0];

	assert_int_equal(c->nsymbols, 2);
	assert_string_equal(s->p.code, "BTC/USD");
	assert_int_equal(s->p.base, 2);
	assert_int_equal(s->p.quote, 1);
	assert_int_equal(s->p.tick_size, 5);
	assert_int_equal(s->p.lot_size, 1000);
	assert_int_equal(s->p.min_qty, 2);
	assert_int_equal(s->p.max_qty, 30);
	assert_int_equal(s->p.max_notional, 40);
	assert_int_equal(s->p.ref_price, 50);
	assert_int_equal(s->p.band_ppm, 60);
	assert_int_equal(s->p.maker_fee_ppm, -70);
	assert_int_equal(s->p.taker_fee_ppm, 80);
	assert_int_equal(s->p.max_matches, 90);
	assert_int_equal(s->p.min_peak, 3);
	assert_int_equal(s->p.max_iceberg_parts, 11);
	assert_int_equal(s->p.book_orders, 12);
	assert_int_equal(s->p.status, SHMEX_SYMBOL_HALTED);
	assert_int_equal(s->matcher, 3);
	/* Defaults of the second: open, matcher 0, zero limits. */
	s = &c->symbols[1];
	assert_string_equal(s->p.code, "USD/BTC");
	assert_int_equal(s->p.base, 1);
	assert_int_equal(s->p.quote, 2);
	assert_int_equal(s->p.status, SHMEX_SYMBOL_OPEN);
	assert_int_equal(s->matcher, 0);
	assert_int_equal(s->p.min_qty + s->p.max_qty + s->p.maker_fee_ppm, 0);
	free(c);
	c = ok(ASSETS BTCUSD "status = open\n");
	assert_int_equal(c->symbols[0].p.status, SHMEX_SYMBOL_OPEN);
	free(c);
}

static void test_symbol_errors(void **state)
{
	(void)state;
	/* Required keys, cited at the header. */
	bad(ASSETS "[symbol BTC/USD]\nbase = BTC\nquote = USD\ntick = 1\n", SHMEX_E_PARSE, 5,
	    "'lot'");
	bad(ASSETS "[symbol BTC/USD]\nbase = BTC\nquote = USD\nlot = 1\n", SHMEX_E_PARSE, 5,
	    "'tick'");
	bad(ASSETS "[symbol BTC/USD]\nquote = USD\ntick = 1\nlot = 1\n", SHMEX_E_PARSE, 5,
	    "'base'");
	bad(ASSETS "[symbol BTC/USD]\nbase = BTC\ntick = 1\nlot = 1\n[engine]\n", SHMEX_E_PARSE,
	    5, "'quote'");
	/* Assets must be declared above. */
	bad(ASSETS "[symbol ETH/USD]\nbase = ETH\n", SHMEX_E_PARSE, 6, "unknown asset");
	bad("[symbol BTC/USD]\nbase = BTC\n" ASSETS, SHMEX_E_PARSE, 2, "unknown asset");
	/* Values. */
	bad(ASSETS BTCUSD "tick = 0\n", SHMEX_E_PARSE, 10, "repeats (first at line 8)");
	bad(ASSETS "[symbol BTC/USD]\ntick = 0\n", SHMEX_E_PARSE, 6, "out of range");
	bad(ASSETS "[symbol BTC/USD]\nlot = -1\n", SHMEX_E_PARSE, 6, "out of range");
	bad(ASSETS BTCUSD "min_qty = -1\n", SHMEX_E_PARSE, 10, "out of range");
	bad(ASSETS BTCUSD "status = closed\n", SHMEX_E_PARSE, 10, "open | halted");
	bad(ASSETS BTCUSD "matcher = 64\n", SHMEX_E_PARSE, 10, "out of range");
	bad(ASSETS BTCUSD "fee = 1\n", SHMEX_E_PARSE, 10, "unknown key 'fee'");
	bad(ASSETS "[symbol BTCUSD-PERPETUAL]\n", SHMEX_E_PARSE, 5, "1..15");
	bad(ASSETS BTCUSD BTCUSD, SHMEX_E_PARSE, 10, "first at line 5");
	/* Whole-symbol rules, cited at the header. */
	bad(ASSETS "[symbol X]\nbase = USD\nquote = USD\ntick = 1\nlot = 1\n", SHMEX_E_INVAL, 5,
	    "same asset");
	bad(ASSETS BTCUSD "min_qty = 5\nmax_qty = 4\n", SHMEX_E_INVAL, 5, "max_qty");
	bad(ASSETS BTCUSD "maker_fee_ppm = -201\ntaker_fee_ppm = 200\n", SHMEX_E_INVAL, 5,
	    "maker + taker");
	/* One tick-lot of 10^-18 quote units: finer than the exchange takes. */
	bad("[asset W]\ndecimals = 18\n[asset Q]\ndecimals = 0\n"
	    "[symbol W/Q]\nbase = W\nquote = Q\ntick = 1\nlot = 1\n",
	    SHMEX_E_INVAL, 5, "too fine");
	struct sx_config *c = ok("[asset W]\ndecimals = 18\n[asset Q]\ndecimals = 0\n"
				 "[symbol W/Q]\nbase = W\nquote = Q\ntick = 1\nlot = 1000000\n");
	free(c);
}

/* Every symbol's matcher is one of the matchers. */
static void test_symbol_matcher(void **state)
{
	(void)state;
	struct sx_config *c;

	c = ok("[engine]\nlayout = dedicated\nmatchers = 2\n" ASSETS BTCUSD "matcher = 1\n");
	assert_int_equal(c->symbols[0].matcher, 1);
	free(c);
	bad("[engine]\nlayout = dedicated\nmatchers = 2\n" ASSETS BTCUSD "matcher = 2\n",
	    SHMEX_E_INVAL, 13, "matchers = 2");
	bad(ASSETS BTCUSD "matcher = 1\n", SHMEX_E_INVAL, 10, "matcher = 1");
	/* [engine] may come last: the rule runs after the file. */
	bad(ASSETS BTCUSD "matcher = 3\n[engine]\nlayout = dedicated\nmatchers = 3\n",
	    SHMEX_E_INVAL, 10, "matchers = 3");

	c = demo();
	c->symbols[1].matcher = 1;
	bad_check(c, "matcher");
	c->layout = SX_LAYOUT_DEDICATED;
	c->matchers = 2;
	assert_int_equal(sx_config_check(c, NULL, 0), 0);
	c->symbols[1].matcher = 2;
	bad_check(c, "matcher");
	free(c);
}

static void test_symbol_check(void **state)
{
	(void)state;
	struct sx_config *c = demo();
	struct shmex_symbol_params *p = &c->symbols[1].p, keep = *p;

	p->base = 0;
	bad_check(c, "not an asset");
	p->base = 4;
	bad_check(c, "not an asset");
	*p = keep;
	p->quote = p->base;
	bad_check(c, "same asset");
	*p = keep;
	memcpy(p->code, "BTC/USD", 8);
	bad_check(c, "repeats");
	*p = keep;
	p->code[0] = '\0';
	bad_check(c, "bad code");
	*p = keep;
	p->tick_size = 0;
	bad_check(c, "tick");
	*p = keep;
	p->lot_size = -1;
	bad_check(c, "lot");
	*p = keep;
	p->max_qty = -1;
	bad_check(c, "max_qty");
	*p = keep;
	p->min_qty = -1;
	bad_check(c, "min_qty");
	*p = keep;
	p->ref_price = -1;
	bad_check(c, "negative");
	*p = keep;
	p->taker_fee_ppm = 1000001;
	bad_check(c, "fees");
	*p = keep;
	p->maker_fee_ppm = -1000001;
	p->taker_fee_ppm = 1000000;
	bad_check(c, "fees");
	*p = keep;
	p->status = 2;
	bad_check(c, "status");
	*p = keep;
	p->book_orders = (1u << 28) + 1;
	bad_check(c, "book_orders");
	*p = keep;
	p->tick_size = INT64_MAX; /* a tick-lot too coarse for int64 */
	p->lot_size = INT64_MAX;
	bad_check(c, "too coarse");
	*p = keep;
	assert_int_equal(sx_config_check(c, NULL, 0), 0);
	free(c);
}

/* ---- [user] ----------------------------------------------------------- */

static void test_users(void **state)
{
	(void)state;
	struct sx_config *c = ok(ASSETS "[user mm1]\n"
					"max_open_orders = 5\n"
					"rate_per_sec = 6\n"
					"rate_burst = 7\n"
					"deposit = USD:1000000.00\n"
					"deposit = BTC:10\n"
					"[user abcdefghijklmnopqrstuvwxyz01234]\n"
					"deposit = BTC : 0.00000001\n"
					"deposit = USD:1.5\n"
					"[user empty]\n");

	assert_int_equal(c->nusers, 3);
	const struct sx_cfg_user *u = &c->users[0];
	assert_string_equal(u->name, "mm1");
	assert_int_equal(u->limits.max_open_orders, 5);
	assert_int_equal(u->limits.rate_per_sec, 6);
	assert_int_equal(u->limits.rate_burst, 7);
	assert_int_equal(u->nfunds, 2);
	assert_int_equal(u->funds[0].asset, 1);
	assert_true(u->funds[0].amount == INT64_C(100000000)); /* cents */
	assert_int_equal(u->funds[1].asset, 2);
	assert_true(u->funds[1].amount == INT64_C(1000000000)); /* satoshis */
	u = &c->users[1];
	assert_string_equal(u->name, "abcdefghijklmnopqrstuvwxyz01234"); /* 31 characters */
	assert_int_equal(u->funds[0].asset, 2);
	assert_true(u->funds[0].amount == 1);
	assert_int_equal(u->funds[1].asset, 1);
	assert_true(u->funds[1].amount == 150);
	assert_int_equal(c->users[2].nfunds, 0);
	free(c);

	bad("[user abcdefghijklmnopqrstuvwxyz012345]\n", SHMEX_E_PARSE, 1, "1..31");
	bad("[user a*]\n", SHMEX_E_PARSE, 1, "a*");
	bad("[user mm1]\n[user mm2]\n[user mm1]\n", SHMEX_E_PARSE, 3, "first at line 1");
	bad("[user mm1]\nrate = 1\n", SHMEX_E_PARSE, 2, "unknown key 'rate'");
	bad("[user mm1]\nrate_burst = 1\nrate_burst = 1\n", SHMEX_E_PARSE, 3, "repeats");

	c = demo();
	c->users[2].name[0] = '\0';
	bad_check(c, "bad name");
	memcpy(c->users[2].name, "mm1", 4);
	bad_check(c, "repeats");
	free(c);
}

/* Deposits: exact decimals in the asset's units, never more decimals than
 * the asset has, positive, one per asset. */
static void test_deposits(void **state)
{
	(void)state;
	struct sx_config *c;
	char text[1024];

	bad(ASSETS "[user a]\ndeposit = USD:1.001\n", SHMEX_E_PARSE, 6, "more decimals");
	bad(ASSETS "[user a]\ndeposit = USD:1.000\n", SHMEX_E_PARSE, 6, "more decimals");
	bad(ASSETS "[user a]\ndeposit = BTC:0.000000001\n", SHMEX_E_PARSE, 6, "more decimals");
	bad(ASSETS "[user a]\ndeposit = USD:0\n", SHMEX_E_PARSE, 6, "positive");
	bad(ASSETS "[user a]\ndeposit = USD:-5\n", SHMEX_E_PARSE, 6, "positive");
	bad(ASSETS "[user a]\ndeposit = USD:1e3\n", SHMEX_E_PARSE, 6, "not a decimal");
	bad(ASSETS "[user a]\ndeposit = USD:\n", SHMEX_E_PARSE, 6, "not a decimal");
	bad(ASSETS "[user a]\ndeposit = USD:1,000\n", SHMEX_E_PARSE, 6, "not a decimal");
	bad(ASSETS "[user a]\ndeposit = USD 5\n", SHMEX_E_PARSE, 6, "ASSET:AMOUNT");
	bad(ASSETS "[user a]\ndeposit = EUR:5\n", SHMEX_E_PARSE, 6, "unknown asset 'EUR'");
	bad("[user a]\ndeposit = USD:5\n" ASSETS, SHMEX_E_PARSE, 2, "unknown asset");
	bad(ASSETS "[user a]\ndeposit = USD:1\ndeposit = USD:2\n", SHMEX_E_PARSE, 7,
	    "second deposit");
	/* 10^11 BTC is 10^19 satoshis: more than int64. */
	bad(ASSETS "[user a]\ndeposit = BTC:100000000000\n", SHMEX_E_PARSE, 6, "too large");
	/* Each fits, the supply does not: cited at the user who overflows it. */
	bad(ASSETS "[user a]\ndeposit = BTC:90000000000\n[user b]\ndeposit = BTC:1\n"
		   "[user c]\ndeposit = BTC:90000000000\n",
	    SHMEX_E_INVAL, 9, "more than 2^63-1");
	c = ok(ASSETS "[user a]\ndeposit = BTC:92233720368.54775807\n");
	assert_true(c->users[0].funds[0].amount == INT64_MAX);
	free(c);

	/* At most SX_CFG_MAX_FUNDS deposits per user. */
	size_t n = 0;
	for (int i = 0; i < SX_CFG_MAX_FUNDS + 1; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "[asset A%d]\ndecimals = 0\n", i);
	n += (size_t)snprintf(text + n, sizeof text - n, "[user a]\n");
	for (int i = 0; i < SX_CFG_MAX_FUNDS; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "deposit = A%d:1\n", i);
	c = ok(text);
	assert_int_equal(c->users[0].nfunds, SX_CFG_MAX_FUNDS);
	free(c);
	snprintf(text + n, sizeof text - n, "deposit = A8:1\n");
	bad(text, SHMEX_E_PARSE, 2 * (SX_CFG_MAX_FUNDS + 1) + 2 + SX_CFG_MAX_FUNDS, "more than 8");

	c = demo();
	struct sx_cfg_user *u = &c->users[0];
	u->funds[1].amount = 0;
	bad_check(c, "amount");
	u->funds[1].amount = 1;
	u->funds[1].asset = 9;
	bad_check(c, "asset");
	u->funds[1].asset = 1;
	bad_check(c, "two deposits");
	u->funds[1].asset = 2;
	u->nfunds = SX_CFG_MAX_FUNDS + 1;
	bad_check(c, "deposits");
	u->nfunds = 3;
	u->funds[1].amount = INT64_MAX; /* plus the others' BTC */
	bad_check(c, "2^63-1");
	free(c);
}

/* ---- [grant] ---------------------------------------------------------- */

#define USERS "[user mm1]\n[user mm2]\n[user taker]\n"

static void test_grants(void **state)
{
	(void)state;
	struct sx_config *c = ok(USERS "[grant]\nuid = 1000\nusers = mm1, mm2\nroles = trader\n"
				       "[grant]\nroles = admin,trader\nusers = *\nuid = 0\n"
				       "[grant]\nuid = 4294967294\nusers = taker\nroles = admin\n");

	assert_int_equal(c->ngrants, 4);
	assert_int_equal(c->grants[0].uid, 1000);
	assert_int_equal(c->grants[0].user, 1);
	assert_int_equal(c->grants[0].roles, SHMEX_ROLE_TRADER);
	assert_int_equal(c->grants[1].uid, 1000);
	assert_int_equal(c->grants[1].user, 2);
	assert_int_equal(c->grants[2].uid, 0);
	assert_int_equal(c->grants[2].user, SX_CFG_ALL_USERS);
	assert_int_equal(c->grants[2].roles, SHMEX_ROLE_TRADER | SHMEX_ROLE_ADMIN);
	assert_int_equal(c->grants[3].uid, UINT32_MAX - 1);
	assert_int_equal(c->grants[3].user, 3);
	assert_int_equal(c->grants[3].roles, SHMEX_ROLE_ADMIN);
	free(c);

	/* Each key is required, in each [grant]. */
	bad(USERS "[grant]\nusers = mm1\nroles = trader\n", SHMEX_E_PARSE, 4, "'uid'");
	bad(USERS "[grant]\nuid = 1\nroles = trader\n", SHMEX_E_PARSE, 4, "'users'");
	bad(USERS "[grant]\nuid = 1\nusers = mm1\n", SHMEX_E_PARSE, 4, "'roles'");
	bad(USERS "[grant]\nuid = 1\nusers = mm1\nroles = admin\n[grant]\nuid = 2\n"
		  "users = mm1\n",
	    SHMEX_E_PARSE, 8, "'roles'");
	bad(USERS "[grant]\n[user x]\n", SHMEX_E_PARSE, 4, "lacks");
	/* Values. */
	bad(USERS "[grant]\nuid = self\n", SHMEX_E_PARSE, 5, "not an integer");
	bad(USERS "[grant]\nuid = 4294967295\n", SHMEX_E_PARSE, 5, "out of range");
	bad(USERS "[grant]\nuid = -1\n", SHMEX_E_PARSE, 5, "out of range");
	bad(USERS "[grant]\nusers = mm3\n", SHMEX_E_PARSE, 5, "unknown user 'mm3'");
	bad("[grant]\nusers = mm1\n" USERS, SHMEX_E_PARSE, 2, "unknown user");
	bad(USERS "[grant]\nusers = *,mm1\n", SHMEX_E_PARSE, 5, "stands alone");
	bad(USERS "[grant]\nusers = mm1,\n", SHMEX_E_PARSE, 5, "empty item");
	bad(USERS "[grant]\nroles = trader,root\n", SHMEX_E_PARSE, 5, "unknown role 'root'");
	bad(USERS "[grant]\nroles =\n", SHMEX_E_PARSE, 5, "empty item");
	bad(USERS "[grant]\nuid = 1\nuid = 2\n", SHMEX_E_PARSE, 6, "repeats");
	bad(USERS "[grant]\ngid = 1\n", SHMEX_E_PARSE, 5, "unknown key 'gid'");
	bad(USERS "[grant all]\n", SHMEX_E_PARSE, 4, "takes no name");
	/* The same (uid, user) twice: cited at the later [grant]. */
	bad(USERS "[grant]\nuid = 7\nusers = mm1\nroles = trader\n"
		  "[grant]\nuid = 7\nusers = mm2,mm1\nroles = admin\n",
	    SHMEX_E_INVAL, 8, "uid 7 for mm1 repeats");
	bad(USERS "[grant]\nuid = 7\nusers = mm2,mm2\nroles = admin\n", SHMEX_E_INVAL, 4,
	    "repeats");
	bad(USERS "[grant]\nuid = 7\nusers = *\nroles = admin\n[grant]\nuid = 7\nusers = *\n"
		  "roles = admin\n",
	    SHMEX_E_INVAL, 8, "for * repeats");

	c = demo();
	struct sx_cfg_grant *g = &c->grants[0];
	g->roles = 0;
	bad_check(c, "roles");
	g->roles = 4;
	bad_check(c, "roles");
	g->roles = SHMEX_ROLE_TRADER;
	g->user = 4;
	bad_check(c, "user 4");
	g->user = 0;
	bad_check(c, "user 0");
	g->user = 1;
	g->uid = UINT32_MAX;
	bad_check(c, "uid");
	g->uid = 5;
	c->grants[c->ngrants++] = *g;
	bad_check(c, "repeats");
	free(c);
}

/* ---- structure: sections, keys, lines ---------------------------------- */

static void test_duplicates(void **state)
{
	(void)state;
	bad("[engine]\ngateways = 1\nmatchers = 1\ngateways = 1\n", SHMEX_E_PARSE, 4,
	    "'gateways' repeats (first at line 2)");
	bad("[engine]\ncpus = 1\ncpus = 2\n", SHMEX_E_PARSE, 3, "repeats");
	bad("[engine]\n[asset USD]\ndecimals = 2\n[engine]\n", SHMEX_E_PARSE, 4,
	    "second [engine] section (the first is at line 1)");
	bad(ASSETS "[asset BTC]\ndecimals = 8\n", SHMEX_E_PARSE, 5, "asset BTC repeats");
}

static void test_syntax(void **state)
{
	(void)state;
	char text[512];

	bad("[markets]\n", SHMEX_E_PARSE, 1, "unknown section [markets]");
	bad("[Engine]\n", SHMEX_E_PARSE, 1, "unknown section");
	bad("[engine]\ngateway = 1\n", SHMEX_E_PARSE, 2, "unknown key 'gateway'");
	bad("[engine]\nGateways = 1\n", SHMEX_E_PARSE, 2, "unknown key");
	bad("gateways = 1\n", SHMEX_E_PARSE, 1, "outside a section");
	bad("; comment\n\ngateways = 1\n[engine]\n", SHMEX_E_PARSE, 3, "outside a section");
	bad("[engine]\ngateways 1\n", SHMEX_E_PARSE, 2, "expected [section] or key = value");
	bad("[engine]\n= 1\n", SHMEX_E_PARSE, 2, "unknown key ''");
	bad("[engine\ngateways = 1\n", SHMEX_E_PARSE, 1, "without ']'");
	bad("[engine] gateways = 1\n", SHMEX_E_PARSE, 1, "text after");
	bad("[engine]]\n", SHMEX_E_PARSE, 1, "text after");
	bad("[engine x]\n", SHMEX_E_PARSE, 1, "takes no name");
	bad("[]\n", SHMEX_E_PARSE, 1, "unknown section");
	/* The first error wins, whichever kind it is. */
	bad("[engine]\nnonsense\ngateways = 0\n", SHMEX_E_PARSE, 2, "expected");
	bad("[engine]\ngateways = 0\nnonsense\n", SHMEX_E_PARSE, 2, "out of range");
	bad("[engine]\nnonsense\n[nonsense]\n", SHMEX_E_PARSE, 2, "expected");
	/* An over-long line is refused, not split. */
	snprintf(text, sizeof text, "[engine]\n; %0250d\n", 0);
	bad(text, SHMEX_E_PARSE, 2, "longer than");
	snprintf(text, sizeof text, "[engine]\ndata = /%0197d\n", 0);
	bad(text, SHMEX_E_PARSE, 2, "longer than 198");
	snprintf(text, sizeof text, "[engine]\ndata = /%0190d\n", 0);
	struct sx_config *c = ok(text);
	assert_int_equal(strlen(c->data_dir), 191);
	free(c);
}

/* Comments, blank lines, indentation, CRLF, a byte order mark. */
static void test_lexical(void **state)
{
	(void)state;
	struct sx_config *c = ok("\xEF\xBB\xBF; shmexd\r\n"
				 "# another comment\r\n"
				 "\r\n"
				 "  [engine]   ; the engine\r\n"
				 "\tlayout = dedicated ; inline comment\r\n"
				 "    gateways=2\r\n"
				 "    matchers   =   3   \r\n"
				 "\tsocket = /tmp/a;b\r\n"
				 "  [ asset   USD ] # trailing comment\r\n"
				 "  decimals: 2\r\n"
				 "[user x]\n"
				 "deposit = USD:1 ; one dollar\n");

	assert_int_equal(c->layout, SX_LAYOUT_DEDICATED);
	assert_int_equal(c->gateways, 2);
	assert_int_equal(c->matchers, 3);
	assert_string_equal(c->socket_path, "/tmp/a;b"); /* ';' not after a blank */
	assert_string_equal(c->assets[0].p.code, "USD");
	assert_int_equal(c->assets[0].p.decimals, 2);
	assert_true(c->users[0].funds[0].amount == 100);
	free(c);

	/* An indented line is a key of its own, never a continuation. */
	bad("[engine]\nlayout = dedicated\n  gateways\n", SHMEX_E_PARSE, 3, "expected");
	/* A BOM only at the very start, where it may precede a header. */
	c = ok("\xEF\xBB\xBF[engine]\nmatchers = 1\n");
	free(c);
	bad("[engine]\n\xEF\xBB\xBFgateways = 1\n", SHMEX_E_PARSE, 2, "unknown key");
	/* No trailing newline. */
	c = ok("[engine]\ngateways = 1");
	free(c);
	bad("[asset USD]\ndecimals = 2\n[user a]\ndeposit = USD:1.5.0", SHMEX_E_PARSE, 4,
	    "not a decimal");
}

/* ---- sx_config_load() ---------------------------------------------------- */

static char *write_temp(const char *text, size_t len)
{
	char *path = strdup("/tmp/shmex-test-config-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_load(void **state)
{
	(void)state;
	struct sx_config *c = cfg_new();
	char err[ERR_CAP], want[128];
	const char *text = sx_config_demo_text();
	char *path = write_temp(text, strlen(text));

	assert_int_equal(sx_config_load(path, c, err, sizeof err), 0);
	assert_int_equal(c->nsymbols, 2);
	assert_int_equal(c->nusers, 3);
	unlink(path);
	free(path);

	/* Messages name the file. */
	path = write_temp("[engine]\n\ngateways = 0\n", 23);
	assert_int_equal(sx_config_load(path, c, err, sizeof err), SHMEX_E_PARSE);
	snprintf(want, sizeof want, "%s:3: ", path);
	assert_memory_equal(err, want, strlen(want));
	unlink(path);
	free(path);

	path = write_temp("[engine]\n\0gateways = 0\n", 23);
	assert_int_equal(sx_config_load(path, c, err, sizeof err), SHMEX_E_PARSE);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "NUL"));
	unlink(path);

	/* A missing file is -errno, with the path. */
	assert_int_equal(sx_config_load(path, c, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, path));
	free(path);

	/* A large file is read whole (lines of comments around the keys). */
	size_t n = 0, cap = 1 << 20;
	char *big = malloc(cap);
	assert_non_null(big);
	while (n + 100 < cap)
		n += (size_t)snprintf(big + n, cap - n, "; %070zu\n", n);
	n += (size_t)snprintf(big + n, cap - n, "[engine]\nmax_sessions = 7\n");
	path = write_temp(big, n);
	assert_int_equal(sx_config_load(path, c, err, sizeof err), 0);
	assert_int_equal(c->max_sessions, 7);
	unlink(path);
	free(path);
	free(big);
	free(c);
}

/* No message buffer, or a small one: still the right code, no overflow. */
static void test_err_buffer(void **state)
{
	(void)state;
	struct sx_config *c = cfg_new();
	char small[8];

	assert_int_equal(sx_config_parse("[engine]\ngateways = 0\n", "t", c, NULL, 0),
			 SHMEX_E_PARSE);
	assert_int_equal(sx_config_parse("[engine]\ngateways = 2\n", "t", c, NULL, 0),
			 SHMEX_E_INVAL);
	assert_int_equal(sx_config_parse("[engine]\ngateways = 0\n", "t", c, small, sizeof small),
			 SHMEX_E_PARSE);
	assert_string_equal(small, "t:2: ga"); /* "gateways = 0: ...", cut */
	assert_int_equal(sx_config_load("/nonexistent/shmex.ini", c, NULL, 0), -ENOENT);
	/* The demo's grant: any uid, root included. */
	assert_int_equal(sx_config_demo(0, c, NULL, 0), 0);
	assert_int_equal(c->grants[0].uid, 0);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_engine_keys),
		cmocka_unit_test(test_engine_words),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_layout_shared),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_sessions_and_slots),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_capacities),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_assets),
		cmocka_unit_test(test_symbol_keys),
		cmocka_unit_test(test_symbol_errors),
		cmocka_unit_test(test_symbol_matcher),
		cmocka_unit_test(test_symbol_check),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_deposits),
		cmocka_unit_test(test_grants),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_lexical),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_err_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
