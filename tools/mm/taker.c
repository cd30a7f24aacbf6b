/*
 * shmex-taker: a sample taker on libshmex. At a steady rate it reads the
 * touch of its symbols (a query over the socket), then sends an IOC limit
 * order of random side and size priced a few ticks through it, prints each
 * of its trades as it happens, and at the end a summary: orders, fills,
 * volume and fees per symbol, and the round-trip latency of its orders
 * (submit -> the report marked DONE).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "latency.h"
#include "market.h"
#include "pending.h"
#include "shmex/fixed.h"

#define SX_PROG "shmex-taker"
#define SX_WAIT_MAX_NS INT64_C(2000000)
#define SX_DRAIN_NS INT64_C(3000000000)

struct sx_taker_opts {
	const char *socket, *symbols;
	uint32_t user;
	int64_t run_ms, rate, max_size, through, tick;
	uint64_t seed;
	int quiet, json;
};

struct sx_taker_stats { /* per symbol */
	uint64_t trades;
	int64_t bought, sold, paid, received, fees; /* lots; quote minor units */
};

struct sx_taker {
	struct sx_taker_opts o;
	struct shmex_client *c;
	int nmarkets;
	struct sx_market markets[SX_MAX_MARKETS];
	struct sx_taker_stats st[SX_MAX_MARKETS];
	struct sx_pending pending;
	struct sx_latency latency;
	uint64_t orders, filled, partial, missed, killed_lots, no_touch, refused, put_off;
	int64_t elapsed_ns;
	FILE *trades_out; /* stdout, or stderr when stdout carries JSON */
	const char *ended;
};

static void sx_usage(FILE *f)
{
	fprintf(f,
		"usage: " SX_PROG " [--socket PATH] [--user ID] [--symbols LIST] [--seconds S]\n"
		"         [--rate N] [--max-size LOTS] [--through TICKS] [--seed N] [--tick MINOR]\n"
		"         [--quiet] [--json]\n\n"
		"Sends N IOC limit orders a second (default 20) as user ID (default 3), each on\n"
		"a random symbol of LIST (default BTC/USD,ETH/USD), of random side and 1..LOTS\n"
		"lots (default 5), priced TICKS (default 5) through the touch, for S seconds\n"
		"(default 10, decimals allowed) or until SIGINT/SIGTERM. Prints each trade\n"
		"(time, symbol, side, lots, price, quote amount, fee) unless --quiet, then a\n"
		"summary (--json: one JSON object on stdout; trades then go to stderr).\n"
		"Prices print as decimals of the quote asset at the symbol's tick size (what\n"
		"the daemon says), or at MINOR quote units a tick with --tick.\n"
		"Exit status: 0 done, 1 failed (usage, daemon unreachable or gone).\n");
}

static int sx_parse_args(int argc, char **argv, struct sx_taker_opts *o)
{
	static const struct option longs[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },
		{ "symbols", required_argument, NULL, 'y' },
		{ "seconds", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "max-size", required_argument, NULL, 'z' },
		{ "through", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "tick", required_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct sx_taker_opts){
		.symbols = "BTC/USD,ETH/USD", .user = 3, .run_ms = 10000, .rate = 20,
		.max_size = 5, .through = 5, .tick = 0, .seed = 3,
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
		case 't':
			if (optarg == NULL || shmex_dec_parse(optarg, strlen(optarg), 3, &o->run_ms) != 0 ||
			    o->run_ms <= 0 || o->run_ms > INT64_C(86400000)) {
				fprintf(stderr, SX_PROG ": --seconds: '%s' is not a duration in (0, 86400]\n",
					optarg ? optarg : "");
				rc = -1;
			}
			break;
		case 'u':
			rc = sx_parse_i64(SX_PROG, "--user", optarg, 1, UINT32_MAX, &v);
			o->user = (uint32_t)v;
			break;
		case 'r': rc = sx_parse_i64(SX_PROG, "--rate", optarg, 1, 100000, &o->rate); break;
		case 'z': rc = sx_parse_i64(SX_PROG, "--max-size", optarg, 1, INT32_MAX, &o->max_size); break;
		case 'p': rc = sx_parse_i64(SX_PROG, "--through", optarg, 0, INT32_MAX, &o->through); break;
		case 'k': rc = sx_parse_i64(SX_PROG, "--tick", optarg, 1, INT32_MAX, &o->tick); break;
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
	return 0;
}

/* A price in ticks as a decimal of the quote asset (ticks if it overflows). */
static const char *sx_price_text(const struct sx_taker *t, const struct sx_market *m,
				 int64_t ticks, char *buf, size_t cap)
{
	int64_t minor;
	/* --tick overrides what the daemon says a tick is worth. */
	const int64_t tick = t->o.tick ? t->o.tick : m->tick_size;
	if (shmex_mul_checked(ticks, tick, &minor) != 0) {
		snprintf(buf, cap, "%" PRId64 "t", ticks);
		return buf;
	}
	return sx_dec(minor, m->quote_dec, buf, cap);
}

static void sx_on_trade(struct sx_taker *t, int i, const struct shmex_report *r)
{
	const struct sx_market *m = &t->markets[i];
	struct sx_taker_stats *st = &t->st[i];
	st->trades++;
	if (r->side == SHMEX_BUY) {
		st->bought += r->last_qty;
		st->paid += r->quote_amount;
	} else {
		st->sold += r->last_qty;
		st->received += r->quote_amount;
	}
	st->fees += r->fee;
	if (t->o.quiet)
		return;
	char clock[16], price[SHMEX_DEC_BUFSZ], amount[SHMEX_DEC_BUFSZ], fee[SHMEX_DEC_BUFSZ];
	fprintf(t->trades_out, "%s  %-8s %-4s %6" PRId64 " lots @ %12s  %s %12s %s  fee %s\n",
		sx_clock_text(clock, sizeof clock), m->code, r->side == SHMEX_BUY ? "buy" : "sell",
		r->last_qty, sx_price_text(t, m, r->price, price, sizeof price),
		r->side == SHMEX_BUY ? "paid" : "got ", sx_dec(r->quote_amount, m->quote_dec, amount,
							      sizeof amount),
		m->quote_code, sx_dec(r->fee, m->quote_dec, fee, sizeof fee));
	fflush(t->trades_out);
}

static int sx_market_index(const struct sx_taker *t, uint32_t symbol)
{
	for (int i = 0; i < t->nmarkets; i++)
		if (t->markets[i].id == symbol)
			return i;
	return -1;
}

static void sx_on_report(struct sx_taker *t, const struct shmex_report *r, int64_t now)
{
	if (r->kind == SHMEX_RPT_SHUTDOWN || r->kind == SHMEX_RPT_ENDED) {
		t->ended = r->kind == SHMEX_RPT_SHUTDOWN ? "the daemon is shutting down"
							 : "the daemon ended the session";
		return;
	}
	const int i = sx_market_index(t, r->symbol);
	if (r->kind == SHMEX_RPT_REJECT ||
	    (r->kind == SHMEX_RPT_ORDER && r->what == SHMEX_EV_REJECTED)) {
		t->refused++;
		if (!t->o.quiet)
			fprintf(stderr, SX_PROG ": order refused: %s\n", shmex_reason_name(r->reason));
	} else if (r->kind == SHMEX_RPT_ORDER && r->what == SHMEX_EV_TRADE && i >= 0) {
		sx_on_trade(t, i, r);
	} else if (r->kind == SHMEX_RPT_ORDER && r->what == SHMEX_EV_KILLED) {
		t->killed_lots += (uint64_t)r->last_qty;
	}
	struct sx_pending_entry *e = sx_pending_find(&t->pending, r->request_no);
	if ((r->flags & SHMEX_RPTF_DONE) && e != NULL) {
		sx_latency_record(&t->latency, now - e->sent_ns);
		if (r->kind == SHMEX_RPT_ORDER && r->what != SHMEX_EV_REJECTED) {
			if (r->status == SHMEX_OS_FILLED)
				t->filled++;
			else if (r->filled > 0)
				t->partial++;
			else
				t->missed++;
		}
		sx_pending_remove(&t->pending, e);
	}
}

static int sx_pump(struct sx_taker *t, int64_t timeout_ns)
{
	struct shmex_report reps[64];
	const int n = shmex_client_wait(t->c, reps, 64, timeout_ns);
	if (n < 0) {
		if (t->ended == NULL)
			t->ended = "the session broke";
		fprintf(stderr, SX_PROG ": reports: %s\n", shmex_strerror(n));
		return -1;
	}
	const int64_t now = sx_now_ns();
	for (int i = 0; i < n; i++)
		sx_on_report(t, &reps[i], now);
	return t->ended != NULL ? -1 : 0;
}

/* Reads the touch and sends one order: 0, or -1 if the session is gone. */
static int sx_send_one(struct sx_taker *t, struct sx_rng *rng)
{
	if (sx_markets_refresh(t->c, t->markets, t->nmarkets) != 0) {
		t->ended = "the daemon stopped answering queries";
		return -1;
	}
	const int i = (int)sx_rng_below(rng, (uint64_t)t->nmarkets);
	const struct sx_market *m = &t->markets[i];
	const uint8_t side = sx_rng_below(rng, 2) ? SHMEX_SELL : SHMEX_BUY;
	const int64_t touch = side == SHMEX_BUY ? m->best_ask : m->best_bid;
	if (touch <= 0) {
		t->no_touch++;
		return 0;
	}
	int64_t price = side == SHMEX_BUY ? touch + t->o.through : touch - t->o.through;
	if (price < 1)
		price = 1;
	const struct shmex_order_request o = {
		.user = t->o.user,
		.symbol = m->id,
		.price = price,
		.qty = 1 + (int64_t)sx_rng_below(rng, (uint64_t)t->o.max_size),
		.side = side,
		.type = SHMEX_LIMIT,
		.tif = SHMEX_IOC,
	};
	if (!sx_pending_room(&t->pending)) {
		t->put_off++;
		return 0;
	}
	struct sx_pending_entry e = { .kind = SX_REQ_NEW, .market = (uint16_t)i };
	e.sent_ns = sx_now_ns();
	const int rc = shmex_client_submit(t->c, &o, &e.request_no);
	if (rc == SHMEX_E_FULL) {
		t->put_off++;
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, SX_PROG ": submit: %s\n", shmex_strerror(rc));
		t->ended = "the session broke";
		return -1;
	}
	t->orders++;
	sx_pending_add(&t->pending, &e);
	return 0;
}

static void sx_run(struct sx_taker *t)
{
	struct sx_rng rng;
	sx_rng_seed(&rng, t->o.seed);
	const int64_t start = sx_now_ns();
	const int64_t end = start + t->o.run_ms * 1000000;
	const int64_t period = INT64_C(1000000000) / t->o.rate;
	int64_t next = start;
	for (;;) {
		int64_t now = sx_now_ns();
		if (now >= end || sx_stop_requested || t->ended != NULL)
			break;
		if (now >= next) {
			if (sx_send_one(t, &rng) != 0)
				break;
			next += period;
			if (next <= now)
				next = now + period;
		}
		now = sx_now_ns();
		int64_t wait = next < end ? next - now : end - now;
		if (wait > SX_WAIT_MAX_NS)
			wait = SX_WAIT_MAX_NS;
		if (sx_pump(t, wait > 0 ? wait : 0) != 0)
			break;
	}
	const int64_t deadline = sx_now_ns() + SX_DRAIN_NS;
	while (t->ended == NULL && t->pending.in_flight > 0 && sx_now_ns() < deadline)
		if (sx_pump(t, SX_WAIT_MAX_NS) != 0)
			break;
	t->elapsed_ns = sx_now_ns() - start;
}

static uint64_t sx_total_trades(const struct sx_taker *t)
{
	uint64_t n = 0;
	for (int i = 0; i < t->nmarkets; i++)
		n += t->st[i].trades;
	return n;
}

static void sx_report_text(const struct sx_taker *t)
{
	char a[SHMEX_DEC_BUFSZ], b[SHMEX_DEC_BUFSZ], c[SHMEX_DEC_BUFSZ];
	printf("shmex-taker user %u: %.2f s, %" PRIu64 " orders (%" PRIu64 " filled, %" PRIu64
	       " in part, %" PRIu64 " missed, %" PRIu64 " refused), %" PRIu64
	       " trades, %" PRIu64 " lots killed, %" PRIu64 " skipped (no touch), %" PRIu64
	       " put off\n",
	       t->o.user, (double)t->elapsed_ns / 1e9, t->orders, t->filled, t->partial,
	       t->missed, t->refused, sx_total_trades(t), t->killed_lots, t->no_touch,
	       t->put_off);
	printf("  %-10s %7s %9s %9s %16s %16s %12s\n", "symbol", "trades", "bought", "sold",
	       "paid", "received", "fees");
	for (int i = 0; i < t->nmarkets; i++) {
		const struct sx_taker_stats *st = &t->st[i];
		const struct sx_market *m = &t->markets[i];
		printf("  %-10s %7" PRIu64 " %9" PRId64 " %9" PRId64 " %12s %-3s %12s %-3s %12s\n",
		       m->code, st->trades, st->bought, st->sold,
		       sx_dec(st->paid, m->quote_dec, a, sizeof a), m->quote_code,
		       sx_dec(st->received, m->quote_dec, b, sizeof b), m->quote_code,
		       sx_dec(st->fees, m->quote_dec, c, sizeof c));
	}
	printf("  latency submit -> done (us): ");
	sx_latency_print(&t->latency, stdout);
}

static void sx_report_json(const struct sx_taker *t)
{
	char a[SHMEX_DEC_BUFSZ], b[SHMEX_DEC_BUFSZ], c[SHMEX_DEC_BUFSZ];
	printf("{\"user\":%u,\"seconds\":%.3f,\"ended_early\":%s,\"orders\":%" PRIu64
	       ",\"filled\":%" PRIu64 ",\"partial\":%" PRIu64 ",\"missed\":%" PRIu64
	       ",\"refused\":%" PRIu64 ",\"trades\":%" PRIu64 ",\"killed_lots\":%" PRIu64
	       ",\"no_touch\":%" PRIu64 ",\"put_off\":%" PRIu64 ",\"symbols\":[",
	       t->o.user, (double)t->elapsed_ns / 1e9, t->ended ? "true" : "false", t->orders,
	       t->filled, t->partial, t->missed, t->refused, sx_total_trades(t), t->killed_lots,
	       t->no_touch, t->put_off);
	for (int i = 0; i < t->nmarkets; i++) {
		const struct sx_taker_stats *st = &t->st[i];
		const struct sx_market *m = &t->markets[i];
		printf("%s{\"symbol\":\"%s\",\"trades\":%" PRIu64 ",\"bought_lots\":%" PRId64
		       ",\"sold_lots\":%" PRId64 ",\"paid\":\"%s\",\"received\":\"%s\","
		       "\"fees\":\"%s\",\"quote\":\"%s\"}",
		       i ? "," : "", m->code, st->trades, st->bought, st->sold,
		       sx_dec(st->paid, m->quote_dec, a, sizeof a),
		       sx_dec(st->received, m->quote_dec, b, sizeof b),
		       sx_dec(st->fees, m->quote_dec, c, sizeof c), m->quote_code);
	}
	printf("],\"latency\":");
	sx_latency_print_json(&t->latency, stdout);
	printf("}\n");
}

int main(int argc, char **argv)
{
	static struct sx_taker t;
	if (sx_parse_args(argc, argv, &t.o) != 0)
		return 1;
	t.trades_out = t.o.json ? stderr : stdout;
	sx_install_stop_handler();
	sx_pending_init(&t.pending);
	sx_latency_init(&t.latency);
	char name[32];
	snprintf(name, sizeof name, "taker-%u", t.o.user);
	const struct shmex_client_options co = {
		.socket_path = t.o.socket,
		.name = name,
		.flags = SHMEX_SESSION_CANCEL_ON_DISCONNECT,
	};
	int rc = shmex_client_connect(&co, &t.c);
	if (rc != 0) {
		const char *detail = shmex_client_last_error();
		fprintf(stderr, SX_PROG ": cannot connect: %s\n",
			detail[0] ? detail : shmex_strerror(rc));
		return 1;
	}
	t.nmarkets = sx_markets_load(t.c, SX_PROG, t.o.symbols, t.markets, SX_MAX_MARKETS);
	if (t.nmarkets < 0) {
		shmex_client_close(t.c);
		return 1;
	}
	sx_run(&t);
	if (t.o.json)
		sx_report_json(&t);
	else
		sx_report_text(&t);
	fflush(stdout);
	shmex_client_close(t.c);
	if (t.ended != NULL) {
		fprintf(stderr, SX_PROG ": stopped early: %s\n", t.ended);
		return 1;
	}
	return 0;
}
