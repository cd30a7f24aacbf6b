/*
 * shmex-bench-tput: sustained orders per second through shmexd from several
 * sessions (one thread and one session each) sending a mixed flow as fast
 * as the engine takes it, and what the threaded path costs per order over
 * the same flow run in this process through the exchange core and through a
 * bare book.
 *
 * The flow, per session (its own user, seeded): 50 % passive GTC limit
 * orders 1..50 ticks from mid (qty 1..100), 35 % cancels of one of its
 * resting orders (by client id: the sender does not wait for acks), 15 %
 * IOC orders crossing up to 50 ticks (qty 1..50), as bench/book_bench.c's
 * mixed case. Each session keeps up to --window requests in flight and
 * drains its reports (its makers' fills from other sessions included).
 *
 * Layouts (--layout, default both, one daemon each): shared (one engine
 * thread: gateway and matcher, pinned to the last CPU given) and dedicated
 * (--gateways gateway threads and --matchers matcher threads, with the
 * bank thread when there are several; sessions are dealt to gateways in
 * turn). On a 2-CPU machine dedicated runs 3 or more engine threads and
 * the senders on 2 CPUs: oversubscribed, so its default wait is yield.
 *
 * Symbols: --matchers M (default 1) symbols, session s trading symbol
 * s % M, in process and in the daemon alike (the daemon puts symbols added
 * one after another on its matchers in turn).
 *
 * In process (same binary, same flows, sessions interleaved one order
 * each in turn, one thread): shmex_exchange_*() with a sink that drops
 * reports (the daemon's exchange has the same configuration: no ledger or
 * report ring), and a bare shmex_book. Each is timed whole (TSC); ns/order.
 *
 * Usage: shmex-bench-tput (--daemon SHMEXD | --connect SOCKET)
 *        [--layout shared|dedicated|both|none] [--sessions N] [--orders N]
 *        [--gateways N] [--matchers N] [--wait spin|yield|block] [--cpus LIST]
 *        [--client-cpus LIST] [--window N] [--max-orders N] [--seed S]
 *        [--json FILE]
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "daemon_bench.h"
#include "shmex/book.h"
#include "shmex/exchange.h"

#define MID 100000
#define SPREAD 50          /* passive orders 1..SPREAD ticks from mid; IOCs cross SPREAD */
#define MAX_SESSIONS 16u
#define FUNDS INT64_C(1000000000000000)
/* The first 1/WARM_DIV of each flow is not timed: it pays the first touch
 * of the order records, the books' pages and the indexes, in process and
 * in the daemon alike. */
#define WARM_DIV 5

enum op_kind { OP_ADD = 0, OP_CANCEL = 1, OP_IOC = 2 };

struct op {
	uint8_t kind, side;
	uint16_t pad;
	uint32_t qty;
	int64_t price;
	uint64_t cid; /* ADD, IOC: the new order's client id; CANCEL: the one to cancel */
};

struct opts {
	const char *shmexd, *sock, *json, *wait, *cpus, *client_cpus, *layout;
	uint32_t sessions, gateways, matchers, window, max_orders;
	uint64_t orders, seed;
};

/* ---- the flow ---------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((rng_next(s) >> 32) * n) >> 32);
}

static struct op *make_flow(uint64_t seed, uint64_t n)
{
	struct op *ops = calloc(n, sizeof *ops);
	uint64_t *live = calloc(n, sizeof *live);
	if (!ops || !live) {
		free(ops);
		free(live);
		return NULL;
	}
	uint64_t s = seed, nlive = 0, cid = 1;
	for (uint64_t i = 0; i < n; i++) {
		struct op *o = &ops[i];
		const uint32_t r = rng_below(&s, 100);
		o->side = (uint8_t)rng_below(&s, 2);
		if (r < 50 || (r < 85 && nlive == 0)) {
			const int64_t k = 1 + rng_below(&s, SPREAD);
			o->kind = OP_ADD;
			o->price = o->side == SHMEX_BUY ? MID - k : MID + k;
			o->qty = 1 + rng_below(&s, 100);
			o->cid = cid++;
			live[nlive++] = o->cid;
		} else if (r < 85) {
			const uint64_t j = rng_below(&s, (uint32_t)nlive);
			o->kind = OP_CANCEL;
			o->cid = live[j];
			live[j] = live[--nlive];
		} else {
			o->kind = OP_IOC;
			o->price = o->side == SHMEX_BUY ? MID + SPREAD : MID - SPREAD;
			o->qty = 1 + rng_below(&s, 50);
			o->cid = cid++;
		}
	}
	free(live);
	return ops;
}

/* ---- in process: the bare book and the exchange --------------------------- */

static uint64_t book_events;

static void count_sink(void *ctx, const struct shmex_book_event *ev)
{
	(void)ctx;
	(void)ev;
	book_events++;
}

static void drop_report(void *ctx, const struct shmex_order_report *r)
{
	(void)ctx;
	(void)r;
}

/* ns per order of the flows through a bare book, sessions in turn. */
static double run_book(struct op *const *flows, uint32_t sessions, uint64_t n)
{
	struct shmex_book_params bp = { .max_orders = (uint32_t)(n * sessions / 2 + 4096) };
	struct shmex_book *b;
	if (shmex_book_create(&bp, count_sink, NULL, &b) != 0)
		return -1;
	uint64_t t0 = bb_tick_begin();
	for (uint64_t i = 0; i < n; i++) {
		if (i == n / WARM_DIV)
			t0 = bb_tick_begin();
		for (uint32_t s = 0; s < sessions; s++) {
			const struct op *o = &flows[s][i];
			const uint64_t id = (uint64_t)(s + 1) << 40 | o->cid;
			if (o->kind == OP_CANCEL) {
				shmex_book_cancel(b, id);
				continue;
			}
			struct shmex_order bo = { .id = id, .price = o->price, .qty = o->qty,
						  .side = o->side, .type = SHMEX_LIMIT,
						  .tif = o->kind == OP_IOC ? SHMEX_IOC : SHMEX_GTC };
			shmex_book_submit(b, &bo);
		}
	}
	const uint64_t t1 = bb_tick_end();
	shmex_book_destroy(b);
	return bb_ticks_to_ns(t1 - t0) / (double)((n - n / WARM_DIV) * sessions);
}

/* ns per order of the flows through the exchange core, as the daemon's
 * matcher calls it (a cancel by client id is a find, then a cancel). */
static double run_exchange(struct op *const *flows, uint32_t sessions, uint64_t n,
			   uint32_t max_orders, uint32_t nsym)
{
	struct shmex_exchange_config c = { .max_assets = 4, .max_symbols = BD_MAX_SYMBOLS,
					   .max_users = 64,
					   .max_orders = max_orders, .report_sink = drop_report };
	struct shmex_exchange *ex;
	if (shmex_exchange_create(&c, &ex) != 0)
		return -1;
	struct shmex_asset_params a = { .code = "B", .decimals = 0 }, q = { .code = "Q" };
	uint32_t base, quote, sym[BD_MAX_SYMBOLS], user[MAX_SESSIONS];
	struct shmex_symbol_params sp = { .code = "B/Q", .tick_size = 1, .lot_size = 1,
					  .min_qty = 1 };
	if (shmex_exchange_add_asset(ex, &a, &base) || shmex_exchange_add_asset(ex, &q, &quote))
		return -1;
	sp.base = base;
	sp.quote = quote;
	for (uint32_t k = 0; k < nsym; k++) {
		sp.code[3] = (char)('A' + k); /* B/QA, B/QB, ... */
		if (shmex_exchange_add_symbol(ex, &sp, &sym[k]))
			return -1;
	}
	for (uint32_t s = 0; s < sessions; s++)
		if (shmex_exchange_add_user(ex, NULL, &user[s]) ||
		    shmex_exchange_deposit(ex, user[s], base, FUNDS, 0, NULL) ||
		    shmex_exchange_deposit(ex, user[s], quote, FUNDS, 0, NULL))
			return -1;
	uint64_t t0 = bb_tick_begin();
	for (uint64_t i = 0; i < n; i++) {
		if (i == n / WARM_DIV)
			t0 = bb_tick_begin();
		for (uint32_t s = 0; s < sessions; s++) {
			const struct op *o = &flows[s][i];
			if (o->kind == OP_CANCEL) {
				uint64_t id;
				if (shmex_exchange_find_client_id(ex, user[s], o->cid, &id) == 0)
					shmex_exchange_cancel(ex, user[s], id, NULL);
				continue;
			}
			struct shmex_order_request r = {
				.client_id = o->cid, .user = user[s], .symbol = sym[s % nsym],
				.price = o->price,
				.qty = o->qty, .side = o->side, .type = SHMEX_LIMIT,
				.tif = o->kind == OP_IOC ? SHMEX_IOC : SHMEX_GTC,
			};
			shmex_exchange_submit(ex, &r, NULL);
		}
	}
	const uint64_t t1 = bb_tick_end();
	char msg[256];
	int bad = shmex_exchange_check(ex, msg, sizeof msg);
	shmex_exchange_destroy(ex);
	if (bad) {
		fprintf(stderr, "shmex-bench-tput: in-process exchange: %s\n", msg);
		return -1;
	}
	return bb_ticks_to_ns(t1 - t0) / (double)((n - n / WARM_DIV) * sessions);
}

/* ---- through the daemon ---------------------------------------------------------- */

struct sender {
	pthread_t tid;
	const struct opts *o;
	const char *sock;
	const struct op *ops;
	uint32_t user, symbol;
	pthread_barrier_t *start;
	struct shmex_client *c;
	int cpu;              /* -1: not pinned */
	uint64_t done, rejects, trades, t_warm, t_end;
	int rc;
};

static int send_op(struct sender *w, const struct op *o)
{
	if (o->kind == OP_CANCEL)
		return shmex_client_cancel_client_id(w->c, w->user, o->cid, NULL);
	struct shmex_order_request r = {
		.client_id = o->cid, .user = w->user, .symbol = w->symbol, .price = o->price,
		.qty = o->qty, .side = o->side, .type = SHMEX_LIMIT,
		.tif = o->kind == OP_IOC ? SHMEX_IOC : SHMEX_GTC,
	};
	return shmex_client_submit(w->c, &r, NULL);
}

static void take(struct sender *w, const struct shmex_report *rep, int n)
{
	for (int i = 0; i < n; i++) {
		if (rep[i].kind == SHMEX_RPT_ORDER && rep[i].what == SHMEX_EV_TRADE)
			w->trades++;
		if (!(rep[i].flags & SHMEX_RPTF_DONE))
			continue;
		w->done++;
		if (rep[i].kind == SHMEX_RPT_REJECT)
			w->rejects++; /* a cancel of an order another session filled */
	}
}

static void *sender_main(void *arg)
{
	struct sender *w = arg;
	static _Thread_local struct shmex_report rep[512];
	const uint64_t n = w->o->orders;
	uint64_t sent = 0;
	if (w->cpu >= 0)
		bb_pin_thread(w->cpu);
	pthread_barrier_wait(w->start);
	w->t_warm = bb_tick_begin();
	while (w->done < n) {
		if (w->done < n / WARM_DIV)
			w->t_warm = bb_tick_begin();
		while (sent < n && sent - w->done < w->o->window) {
			int rc = send_op(w, &w->ops[sent]);
			if (rc == SHMEX_E_FULL)
				break;
			if (rc != 0) {
				w->rc = rc;
				return NULL;
			}
			sent++;
		}
		int got = shmex_client_poll(w->c, rep, 512);
		if (got == 0)
			got = shmex_client_wait(w->c, rep, 512, 1000000);
		if (got < 0) {
			w->rc = got;
			return NULL;
		}
		take(w, rep, got);
	}
	w->t_end = bb_tick_end();
	/* Fills of its resting orders may still come: drain for 20 ms, so
	 * the daemon never finds this session's ring full before it closes. */
	for (int i = 0; i < 20; i++)
		if (shmex_client_wait(w->c, rep, 512, 1000000) < 0)
			break;
	return NULL;
}

struct daemon_result {
	const char *layout, *wait, *cpus, *client_cpus;
	uint32_t gateways, matchers;
	double orders_per_s, ns_per_order, seconds, whole_per_s;
	uint64_t orders, rejects, trades;
};

/* The n-th CPU of a list "a,b,c" (cycling), or -1 for none. */
static int nth_cpu(const char *list, uint32_t n)
{
	if (!list || !*list)
		return -1;
	int cpus[64], k = 0;
	for (const char *p = list; *p && k < 64;) {
		cpus[k++] = atoi(p);
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return cpus[n % (uint32_t)k];
}

static int run_daemon(const struct opts *o, const char *layout, struct op *const *flows,
		      struct daemon_result *res)
{
	struct bd_daemon d;
	memset(&d, 0, sizeof d);
	memset(res, 0, sizeof *res);
	const int dedicated = strcmp(layout, "dedicated") == 0;
	res->layout = layout;
	res->gateways = dedicated ? o->gateways : 1;
	res->matchers = dedicated ? o->matchers : 1;
	res->wait = o->wait ? o->wait : dedicated ? "yield" : "spin";
	res->cpus = o->cpus ? o->cpus : dedicated ? "0,1" : "1";
	res->client_cpus = o->client_cpus ? o->client_cpus : dedicated || o->sock ? "" : "0";
	const char *sock = o->sock;
	if (o->shmexd) {
		struct bd_daemon_opts dopt = { .layout = layout, .wait = res->wait,
					       .cpus = res->cpus, .gateways = res->gateways,
					       .matchers = res->matchers,
					       .max_orders = o->max_orders };
		if (bd_daemon_start(o->shmexd, &dopt, &d) != 0)
			return -1;
		sock = d.sock;
	}
	struct shmex_client *admin = NULL;
	struct bd_market m;
	int rc = bd_connect(sock, "bench-tput-admin", 0, &admin);
	if (rc == 0)
		rc = bd_market_setup(admin, o->sessions, FUNDS, &m);
	/* As many symbols as matchers (in process too): session s on s % M. */
	while (rc == 0 && m.nsymbols < o->matchers)
		rc = bd_market_add_symbol(admin, &m);
	static struct sender w[MAX_SESSIONS];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, o->sessions + 1);
	uint32_t started = 0;
	for (uint32_t s = 0; rc == 0 && s < o->sessions; s++) {
		memset(&w[s], 0, sizeof w[s]);
		w[s].o = o;
		w[s].ops = flows[s];
		w[s].user = m.users[s];
		w[s].symbol = m.symbols[s % m.nsymbols];
		w[s].start = &start;
		w[s].cpu = nth_cpu(res->client_cpus, s);
		rc = bd_connect(sock, "bench-tput", 16384, &w[s].c);
		if (rc == 0)
			rc = pthread_create(&w[s].tid, NULL, sender_main, &w[s]);
		if (rc == 0)
			started++;
	}
	if (rc != 0) {
		/* Threads that started wait at the barrier: they cannot be
		 * released without all parties, so stop here. */
		fprintf(stderr, "shmex-bench-tput: setup failed (%s)\n", shmex_strerror(rc));
		if (started)
			_exit(1);
		shmex_client_close(admin);
		bd_daemon_stop(&d);
		return -1;
	}
	const uint64_t t0 = bb_tick_begin();
	pthread_barrier_wait(&start);
	uint64_t t_end = t0;
	double rate = 0;
	for (uint32_t s = 0; s < o->sessions; s++) {
		pthread_join(w[s].tid, NULL);
		if (w[s].rc != 0) {
			fprintf(stderr, "shmex-bench-tput: session %u: %s\n", s, shmex_strerror(w[s].rc));
			rc = w[s].rc;
		}
		if (w[s].t_end > t_end)
			t_end = w[s].t_end;
		/* Steady state: the sessions run side by side, so their rates add. */
		if (w[s].t_end > w[s].t_warm)
			rate += (double)(o->orders - o->orders / WARM_DIV) /
				(bb_ticks_to_ns(w[s].t_end - w[s].t_warm) / 1e9);
		res->orders += w[s].done;
		res->rejects += w[s].rejects;
		res->trades += w[s].trades;
		shmex_client_close(w[s].c);
	}
	pthread_barrier_destroy(&start);
	char msg[256] = "";
	if (rc == 0 && shmex_client_check(admin, msg, sizeof msg) != 0) {
		fprintf(stderr, "shmex-bench-tput: the daemon's invariants: %s\n", msg);
		rc = -1;
	}
	shmex_client_close(admin);
	bd_daemon_stop(&d);
	res->seconds = bb_ticks_to_ns(t_end - t0) / 1e9;
	res->whole_per_s = (double)res->orders / res->seconds;
	res->orders_per_s = rate;
	res->ns_per_order = 1e9 / rate;
	return rc;
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmex-bench-tput (--daemon SHMEXD | --connect SOCKET)\n"
		"         [--layout shared|dedicated|both|none] [--sessions N] [--orders N]\n"
		"         [--gateways N] [--matchers N] [--wait spin|yield|block] [--cpus LIST]\n"
		"         [--client-cpus LIST] [--window N] [--max-orders N] [--seed S]\n"
		"         [--json FILE]\n"
		"  --layout    daemons to start (default both; none: in process only; with\n"
		"              --connect: the running one)\n"
		"  --sessions  sessions, one sender thread each (default 2)\n"
		"  --orders    requests per session (default 1000000)\n"
		"  --gateways  gateway threads of the dedicated layout (default 2)\n"
		"  --matchers  matcher threads of the dedicated layout, and symbols: session s\n"
		"              trades symbol s %% N, in process too (default 1)\n"
		"  --wait      the started daemons' wait (default spin shared, yield dedicated)\n"
		"  --cpus      the started daemons' pin list (default 1 shared, 0,1 dedicated)\n"
		"  --client-cpus  the senders' CPUs, in turn (default 0 shared, none dedicated)\n"
		"  --window    requests in flight per session (default 256)\n"
		"  --max-orders  order records, of the started daemons and the in-process\n"
		"              exchange (default 1048576)\n"
		"  --json FILE every figure, the machine and the command\n");
}

static void write_json(const struct opts *o, int argc, char **argv, const struct bb_machine *mach,
		       double book_ns, double ex_ns, const struct daemon_result *res, int nres)
{
	FILE *j = fopen(o->json, "w");
	if (!j) {
		fprintf(stderr, "shmex-bench-tput: %s: %s\n", o->json, strerror(errno));
		return;
	}
	fprintf(j, "{\"bench\": \"shmex-bench-tput\", \"command\": ");
	bd_json_cmdline(j, argc, argv);
	fprintf(j, ", ");
	bd_json_machine(j, mach);
	fprintf(j, "\"sessions\": %u, \"orders_per_session\": %" PRIu64 ", \"window\": %u, "
		   "\"max_orders\": %u, \"symbols\": %u, "
		   "\"in_process\": {\"book_ns_per_order\": %.1f, \"exchange_ns_per_order\": %.1f}, "
		   "\"daemon\": [",
		o->sessions, o->orders, o->window, o->max_orders, o->matchers, book_ns, ex_ns);
	for (int i = 0; i < nres; i++)
		fprintf(j, "%s{\"layout\": \"%s\", \"gateways\": %u, \"matchers\": %u, "
			   "\"wait\": \"%s\", \"cpus\": \"%s\", "
			   "\"client_cpus\": \"%s\", \"orders\": %" PRIu64 ", \"seconds\": %.4f, "
			   "\"whole_run_orders_per_s\": %.0f, \"orders_per_s\": %.0f, \"ns_per_order\": %.1f, "
			   "\"over_exchange_ns\": %.1f, \"over_book_ns\": %.1f, \"rejects\": %" PRIu64
			   ", \"trade_reports\": %" PRIu64 "}",
			i ? ", " : "", res[i].layout, res[i].gateways, res[i].matchers, res[i].wait,
			res[i].cpus,
			res[i].client_cpus, res[i].orders, res[i].seconds, res[i].whole_per_s,
			res[i].orders_per_s, res[i].ns_per_order,
			res[i].ns_per_order - ex_ns, res[i].ns_per_order - book_ns, res[i].rejects,
			res[i].trades);
	fprintf(j, "]}\n");
	fclose(j);
}

int main(int argc, char **argv)
{
	struct opts o = { .sessions = 2, .gateways = 2, .matchers = 1, .window = 256, .orders = 1000000,
			  .seed = 1, .layout = "both", .max_orders = 1u << 20 };
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(a, "--daemon"))
			o.shmexd = v;
		else if (!strcmp(a, "--connect"))
			o.sock = v;
		else if (!strcmp(a, "--json"))
			o.json = v;
		else if (!strcmp(a, "--wait"))
			o.wait = v;
		else if (!strcmp(a, "--cpus"))
			o.cpus = v;
		else if (!strcmp(a, "--client-cpus"))
			o.client_cpus = v;
		else if (!strcmp(a, "--layout"))
			o.layout = v;
		else if (!strcmp(a, "--sessions"))
			o.sessions = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--gateways"))
			o.gateways = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--matchers"))
			o.matchers = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--max-orders"))
			o.max_orders = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--window"))
			o.window = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--orders"))
			o.orders = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--seed"))
			o.seed = strtoull(v, NULL, 10);
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!o.shmexd == !o.sock || o.sessions == 0 || o.sessions > MAX_SESSIONS ||
	    o.orders == 0 || o.window == 0 || o.gateways == 0 || o.max_orders < 2 ||
	    o.matchers == 0 || o.matchers > BD_MAX_SYMBOLS ||
	    (strcmp(o.layout, "shared") && strcmp(o.layout, "dedicated") && strcmp(o.layout, "both") &&
	     strcmp(o.layout, "none"))) {
		usage(stderr);
		return 2;
	}
	bb_timer_init();
	struct bb_machine mach;
	bb_machine_read(&mach);
	struct op *flows[MAX_SESSIONS];
	for (uint32_t s = 0; s < o.sessions; s++)
		if (!(flows[s] = make_flow(o.seed * 1000 + s, o.orders))) {
			fprintf(stderr, "shmex-bench-tput: out of memory\n");
			return 1;
		}
	printf("shmex-bench-tput: %u sessions x %" PRIu64 " requests (50%% adds, 35%% cancels, "
	       "15%% IOC), window %u, %u symbol%s\n", o.sessions, o.orders, o.window, o.matchers,
	       o.matchers > 1 ? "s" : "");
	printf("machine : %s (%s), %ld CPUs, %s, load %.2f\n", mach.model, mach.signature,
	       mach.cpus, mach.kernel, mach.load[0]);
	const double book_ns = run_book(flows, o.sessions, o.orders);
	const double ex_ns = run_exchange(flows, o.sessions, o.orders, o.max_orders, o.matchers);
	if (book_ns < 0 || ex_ns < 0) {
		fprintf(stderr, "shmex-bench-tput: the in-process runs failed\n");
		return 1;
	}
	printf("in process, one thread: bare book %.1f ns/order, exchange %.1f ns/order "
	       "(+%.1f over the book)\n", book_ns, ex_ns, ex_ns - book_ns);
	fflush(stdout);
	const char *layouts[2];
	int nl = 0;
	if (o.sock)
		layouts[nl++] = "running";
	else if (!strcmp(o.layout, "none"))
		; /* the in-process figures only */
	else if (!strcmp(o.layout, "both")) {
		layouts[nl++] = "shared";
		layouts[nl++] = "dedicated";
	} else
		layouts[nl++] = o.layout;
	struct daemon_result res[2];
	int rc = 0, nres = 0;
	for (int i = 0; i < nl && rc == 0; i++) {
		rc = run_daemon(&o, layouts[i], flows, &res[nres]);
		if (rc != 0)
			break;
		const struct daemon_result *r = &res[nres++];
		printf("daemon, %s (%u gateway%s, %u matcher%s, wait %s, engine CPUs %s, senders %s): "
		       "%.0f orders/s (%.1f ns/order; whole run %.0f/s in %.2f s), +%.1f ns/order over "
		       "the in-process exchange, +%.1f over the bare book; %" PRIu64 " refused cancels\n",
		       r->layout, r->gateways, r->gateways > 1 ? "s" : "", r->matchers,
		       r->matchers > 1 ? "s" : "", r->wait, r->cpus,
		       *r->client_cpus ? r->client_cpus : "unpinned", r->orders_per_s, r->ns_per_order,
		       r->whole_per_s, r->seconds, r->ns_per_order - ex_ns, r->ns_per_order - book_ns,
		       r->rejects);
		fflush(stdout);
	}
	if (rc == 0 && o.json)
		write_json(&o, argc, argv, &mach, book_ns, ex_ns, res, nres);
	for (uint32_t s = 0; s < o.sessions; s++)
		free(flows[s]);
	return rc == 0 ? 0 : 1;
}
