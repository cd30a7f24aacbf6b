/*
 * shmex-mm: a sample market maker on libshmex. It quotes K levels a side on
 * each of its symbols around a random-walk reference (quoter.h), amends as
 * the reference moves, counts its fills from the reports, and at the end
 * cancels everything and prints fills, the change of its balances, and the
 * round-trip latency of its requests (submit -> the report marked DONE).
 *
 * It shares two cores with the engine and other clients: it steps every
 * --interval-us and sleeps in shmex_client_wait() in between.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "mm.h"
#include "shmex/fixed.h"

#define SX_PROG "shmex-mm"
#define SX_ANCHOR_EVERY_NS INT64_C(250000000) /* re-anchor to the last trade */
#define SX_PROGRESS_EVERY_NS INT64_C(1000000000)
#define SX_DRAIN_NS INT64_C(3000000000) /* most the closing waits take */
#define SX_WAIT_MAX_NS INT64_C(2000000)

static void sx_usage(FILE *f)
{
	fprintf(f,
		"usage: " SX_PROG " [--socket PATH] [--user ID] [--symbols LIST] [--seconds S]\n"
		"         [--levels K] [--spread TICKS] [--size LOTS] [--seed N] [--walk TICKS]\n"
		"         [--revert N] [--interval-us US] [--quiet] [--json]\n\n"
		"Quotes K levels a side (post-only limit orders of LOTS each; level k at\n"
		"ref -/+ (ceil(TICKS/2) + k*TICKS)) on each symbol of LIST (default\n"
		"BTC/USD,ETH/USD; CODE@PRICE starts that symbol's reference at PRICE ticks),\n"
		"around a reference that moves up to --walk ticks every --interval-us\n"
		"(default 1 tick every 5000 us), pulled toward the last trade (--revert:\n"
		"one tick back with probability distance/N, default 32). After S seconds\n"
		"(default 10, decimals allowed) or SIGINT/SIGTERM it cancels its orders and\n"
		"prints its fills, balance changes and request round-trip latency.\n"
		"The socket is PATH, else $SHMEX_SOCKET, else " SHMEX_DEFAULT_SOCKET ".\n"
		"Exit status: 0 done, 1 failed (usage, daemon unreachable or gone).\n");
}

static int sx_parse_seconds(const char *val, int64_t *ms)
{
	if (val == NULL || shmex_dec_parse(val, strlen(val), 3, ms) != 0 || *ms <= 0 ||
	    *ms > INT64_C(86400000)) {
		fprintf(stderr, SX_PROG ": --seconds: '%s' is not a duration in (0, 86400]\n",
			val ? val : "");
		return -1;
	}
	return 0;
}

static int sx_parse_args(int argc, char **argv, struct sx_mm_opts *o)
{
	static const struct option longs[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },
		{ "symbols", required_argument, NULL, 'y' },
		{ "seconds", required_argument, NULL, 't' },
		{ "levels", required_argument, NULL, 'l' },
		{ "spread", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 'z' },
		{ "seed", required_argument, NULL, 's' },
		{ "walk", required_argument, NULL, 'w' },
		{ "revert", required_argument, NULL, 'r' },
		{ "interval-us", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct sx_mm_opts){
		.symbols = "BTC/USD,ETH/USD",
		.user = 1,
		.run_ms = 10000,
		.interval_us = 5000,
		.seed = 1,
		.q = { .levels = 3, .spread = 10, .size = 10, .walk = 1, .revert = 32 },
	};
	int64_t v = 0;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		int rc = 0;
		const char *name = argv[optind - 1];
		switch (c) {
		case 'S': o->socket = optarg; break;
		case 'y': o->symbols = optarg; break;
		case 't': rc = sx_parse_seconds(optarg, &o->run_ms); break;
		case 'u':
			rc = sx_parse_i64(SX_PROG, "--user", optarg, 1, UINT32_MAX, &v);
			o->user = (uint32_t)v;
			break;
		case 'l':
			rc = sx_parse_i64(SX_PROG, "--levels", optarg, 1, SX_MAX_LEVELS, &v);
			o->q.levels = (int)v;
			break;
		case 'p': rc = sx_parse_i64(SX_PROG, "--spread", optarg, 1, INT32_MAX, &o->q.spread); break;
		case 'z': rc = sx_parse_i64(SX_PROG, "--size", optarg, 1, INT32_MAX, &o->q.size); break;
		case 'w': rc = sx_parse_i64(SX_PROG, "--walk", optarg, 0, 1000000, &o->q.walk); break;
		case 'r': rc = sx_parse_i64(SX_PROG, "--revert", optarg, 1, INT32_MAX, &o->q.revert); break;
		case 'i':
			rc = sx_parse_i64(SX_PROG, "--interval-us", optarg, 100, 10000000,
					  &o->interval_us);
			break;
		case 's':
			rc = sx_parse_i64(SX_PROG, "--seed", optarg, 0, INT64_MAX, &v);
			o->seed = (uint64_t)v;
			break;
		case 'q': o->quiet = 1; break;
		case 'j': o->json = 1; break;
		case 'h': sx_usage(stdout); exit(0);
		default:
			fprintf(stderr, SX_PROG ": unknown or incomplete option '%s' (--help)\n", name);
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, SX_PROG ": unexpected argument '%s' (--help)\n", argv[optind]);
		return -1;
	}
	o->q.user = o->user;
	return 0;
}

static struct sx_quoter *sx_quoter_for_symbol(struct sx_mm *mm, uint32_t symbol)
{
	for (int i = 0; i < mm->nmarkets; i++)
		if (mm->markets[i].id == symbol)
			return &mm->quoters[i];
	return NULL;
}

/* Takes one report; @p now is when its batch arrived. */
static void sx_on_report(struct sx_mm *mm, const struct shmex_report *r, int64_t now)
{
	if (r->kind == SHMEX_RPT_SHUTDOWN || r->kind == SHMEX_RPT_ENDED) {
		mm->ended = r->kind == SHMEX_RPT_SHUTDOWN ? "the daemon is shutting down"
							  : "the daemon ended the session";
		return;
	}
	struct sx_pending_entry *e = sx_pending_find(&mm->sender.pending, r->request_no);
	struct sx_quoter *q = e != NULL && e->market < mm->nmarkets ? &mm->quoters[e->market]
								  : sx_quoter_for_symbol(mm, r->symbol);
	if (q != NULL && (r->kind == SHMEX_RPT_ORDER || r->kind == SHMEX_RPT_REJECT))
		sx_quoter_on_report(q, r, e);
	if (r->kind == SHMEX_RPT_MASS_CANCEL)
		mm->mass_cancelled += (uint64_t)r->last_qty;
	if ((r->flags & SHMEX_RPTF_DONE) && e != NULL) {
		sx_latency_record(&mm->latency, now - e->sent_ns);
		if (q != NULL)
			sx_quoter_on_done(q, e);
		sx_pending_remove(&mm->sender.pending, e);
	}
}

/* Waits up to @p timeout_ns and takes what arrived: 0, or -1 if the session is gone. */
static int sx_pump(struct sx_mm *mm, int64_t timeout_ns)
{
	struct shmex_report reps[64];
	const int n = shmex_client_wait(mm->c, reps, 64, timeout_ns);
	if (n < 0) {
		if (mm->ended == NULL)
			mm->ended = "the session broke";
		fprintf(stderr, SX_PROG ": reports: %s\n", shmex_strerror(n));
		return -1;
	}
	const int64_t now = sx_now_ns();
	for (int i = 0; i < n; i++)
		sx_on_report(mm, &reps[i], now);
	return mm->ended != NULL ? -1 : 0;
}

/* Waits until no request is in flight, at most until @p deadline. */
static void sx_drain(struct sx_mm *mm, int64_t deadline)
{
	while (mm->sender.pending.in_flight > 0 && sx_now_ns() < deadline)
		if (sx_pump(mm, SX_WAIT_MAX_NS) != 0)
			return;
}

static void sx_progress(const struct sx_mm *mm, int64_t elapsed)
{
	uint64_t fills = 0, requests = 0;
	int live = 0;
	for (int i = 0; i < mm->nmarkets; i++) {
		fills += mm->quoters[i].st.fills;
		live += sx_quoter_live(&mm->quoters[i]);
	}
	for (int k = 0; k <= SX_REQ_MASS_CANCEL; k++)
		requests += mm->sender.sent[k];
	fprintf(stderr, SX_PROG " user %u: %.1f s, %llu requests, %llu fills, %d quotes live\n",
		mm->o.user, (double)elapsed / 1e9, (unsigned long long)requests,
		(unsigned long long)fills, live);
}

/* Quotes until the time is up, a signal, or the session ends. */
static void sx_run(struct sx_mm *mm)
{
	struct sx_rng rng;
	sx_rng_seed(&rng, mm->o.seed);
	const int64_t start = sx_now_ns();
	const int64_t end = start + mm->o.run_ms * 1000000;
	const int64_t interval = mm->o.interval_us * 1000;
	int64_t next_step = start, next_anchor = start + SX_ANCHOR_EVERY_NS;
	int64_t next_progress = start + SX_PROGRESS_EVERY_NS;
	for (;;) {
		int64_t now = sx_now_ns();
		if (now >= end || sx_stop_requested || mm->ended != NULL)
			break;
		if (now >= next_step) {
			for (int i = 0; i < mm->nmarkets; i++)
				if (sx_quoter_step(&mm->quoters[i], &rng, &mm->sender) < 0) {
					fprintf(stderr, SX_PROG ": requests: %s\n",
						shmex_strerror(mm->sender.error));
					mm->ended = "the session broke";
					return;
				}
			/* Late steps are dropped, not bunched. */
			next_step += interval;
			if (next_step <= now)
				next_step = now + interval;
		}
		if (now >= next_anchor) {
			if (sx_markets_refresh(mm->c, mm->markets, mm->nmarkets) == 0)
				for (int i = 0; i < mm->nmarkets; i++)
					sx_quoter_set_anchor(&mm->quoters[i],
							     mm->markets[i].last_price);
			next_anchor = now + SX_ANCHOR_EVERY_NS;
		}
		if (!mm->o.quiet && now >= next_progress) {
			sx_progress(mm, now - start);
			next_progress += SX_PROGRESS_EVERY_NS;
		}
		now = sx_now_ns();
		int64_t wait = next_step - now;
		if (wait > end - now)
			wait = end - now;
		if (wait > SX_WAIT_MAX_NS)
			wait = SX_WAIT_MAX_NS;
		if (sx_pump(mm, wait > 0 ? wait : 0) != 0)
			return;
	}
}

/* Cancels every quote (one mass cancel per symbol) and waits for the answers. */
static void sx_close_out(struct sx_mm *mm)
{
	const int64_t deadline = sx_now_ns() + SX_DRAIN_NS;
	sx_drain(mm, deadline);
	for (int i = 0; i < mm->nmarkets && mm->ended == NULL; i++) {
		struct sx_pending_entry e = { .kind = SX_REQ_MASS_CANCEL, .market = (uint16_t)i };
		int rc;
		while ((rc = sx_sender_mass_cancel(&mm->sender, &e, mm->o.user,
						   mm->markets[i].id)) == 1 &&
		       sx_now_ns() < deadline)
			if (sx_pump(mm, SX_WAIT_MAX_NS) != 0)
				return;
		if (rc != 0) {
			fprintf(stderr, SX_PROG ": mass cancel on %s: %s\n", mm->markets[i].code,
				rc < 0 ? shmex_strerror(rc) : "the request ring stayed full");
			return;
		}
	}
	sx_drain(mm, deadline);
}

static int sx_connect(struct sx_mm *mm)
{
	char name[32];
	snprintf(name, sizeof name, "mm-%u", mm->o.user);
	const struct shmex_client_options co = {
		.socket_path = mm->o.socket,
		.name = name,
		.flags = SHMEX_SESSION_CANCEL_ON_DISCONNECT,
	};
	const int rc = shmex_client_connect(&co, &mm->c);
	if (rc != 0) {
		const char *detail = shmex_client_last_error();
		/* The library's detail names the socket and the cause. */
		fprintf(stderr, SX_PROG ": cannot connect: %s\n",
			detail[0] ? detail : shmex_strerror(rc));
		return -1;
	}
	return 0;
}

/* Connects, finds the symbols and the start prices, reads the balances. */
static int sx_setup(struct sx_mm *mm)
{
	if (sx_connect(mm) != 0)
		return -1;
	mm->nmarkets = sx_markets_load(mm->c, SX_PROG, mm->o.symbols, mm->markets, SX_MAX_MARKETS);
	if (mm->nmarkets < 0)
		return -1;
	const int rc = sx_balances_get(mm->c, mm->o.user, &mm->before);
	if (rc != 0) {
		fprintf(stderr, SX_PROG ": balances of user %u: %s\n", mm->o.user,
			shmex_strerror(rc));
		return -1;
	}
	for (int i = 0; i < mm->nmarkets; i++) {
		const int64_t start = sx_market_start_price(&mm->markets[i]);
		if (start <= 0) {
			fprintf(stderr, SX_PROG ": %s: no trade, book or known reference to start "
					"from: give one as %s@PRICE\n",
				mm->markets[i].code, mm->markets[i].code);
			return -1;
		}
		sx_quoter_init(&mm->quoters[i], &mm->markets[i], (uint16_t)i, &mm->o.q, start);
	}
	sx_sender_init(&mm->sender, mm->c);
	sx_latency_init(&mm->latency);
	return 0;
}

int main(int argc, char **argv)
{
	static struct sx_mm mm; /* large (histogram, tables): not on the stack */
	if (sx_parse_args(argc, argv, &mm.o) != 0)
		return 1;
	sx_install_stop_handler();
	if (sx_setup(&mm) != 0) {
		shmex_client_close(mm.c);
		return 1;
	}
	const int64_t start = sx_now_ns();
	sx_run(&mm);
	sx_close_out(&mm);
	mm.elapsed_ns = sx_now_ns() - start;
	if (mm.ended == NULL || strcmp(mm.ended, "the session broke") != 0)
		mm.have_after = sx_balances_get(mm.c, mm.o.user, &mm.after) == 0;
	sx_mm_report(&mm);
	shmex_client_close(mm.c);
	if (mm.ended != NULL) {
		fprintf(stderr, SX_PROG ": stopped early: %s\n", mm.ended);
		return 1;
	}
	return 0;
}
