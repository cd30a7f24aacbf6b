/*
 * shmex-bench-rtt: client -> shmexd -> client round trips over shared
 * memory (the session's request ring, the engine, its response ring), open
 * loop at a fixed rate, against a shmexd this bench starts (--daemon: layout
 * shared, the engine thread pinned to one CPU, the client to another) or a
 * running one (--connect).
 *
 * Modes (--mode, several may be given: ack,fill,ping):
 *   ack   a post-only buy far from any ask (it rests), then its cancel:
 *         new order -> its ACCEPTED report (DONE), and cancel -> CANCELLED
 *         (DONE), two histograms; the two requests alternate at the rate.
 *   fill  an IOC buy of 1 lot crossing a resting maker sell, which a second
 *         session re-quotes when half of it is gone (unmeasured): order ->
 *         the TRADE report that fills it (DONE).
 *   ping  a PING -> its PONG (the engine's duty cycle without the exchange).
 * Every request has an intended send time (start + i / rate); latency is the
 * report's arrival minus that time, so a stall delays the requests behind it
 * and they count it (no coordinated omission). Full histogram (bench_util.h:
 * exact below 512 ns, 0.4 % buckets above); p50, p99, p99.9, p99.99, max.
 *
 * --floor first runs shmex-bench-ring (the bare two-ring ping-pong between
 * two processes on the same two CPUs, beside this binary) and prints each
 * mode against it: DESIGN.md section 6 asks for <= floor + 150 ns at p50 and
 * <= 2x the floor at p99.
 *
 * Usage: shmex-bench-rtt (--daemon SHMEXD | --connect SOCKET) [--mode M[,M]]
 *        [--rate N[/s]] [--count N] [--warmup N] [--cpus CLIENT,ENGINE]
 *        [--wait spin|yield|block] [--max-orders N] [--floor] [--floor-trips N]
 *        [--extra-symbols N] [--warm-orders N] [--matchers M [--engine-cpus LIST]]
 *        [--json FILE]
 *
 * --matchers M > 1 starts a daemon with layout dedicated, one gateway, the
 * bank and M matchers (the market's one symbol lands on one of them): the
 * round trip through the bank. Its threads are pinned to --engine-cpus
 * (gateway, bank, matchers in that order; default ENGINE, ENGINE+1, ...):
 * give each its own core, as a spinning wait needs.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "daemon_bench.h"

#define PEND_SLOTS (1u << 16) /* requests in flight at most (the ring holds fewer) */
#define ACK_PRICE 1000        /* ack mode: buys rest here, with no ask anywhere */
#define FILL_PRICE 1000       /* fill mode: the maker's sell and the IOC's limit */
#define MAKER_QTY 1000        /* fill mode: one maker quote; re-quoted below half */
#define FUNDS INT64_C(1000000000000000) /* per user and asset */

enum mode { M_ACK = 0, M_FILL = 1, M_PING = 2 };
static const char *const mode_name[] = { "ack", "fill", "ping" };

struct opts {
	const char *shmexd, *sock, *json, *wait, *engine_cpus;
	uint64_t rate, count, warmup, floor_trips, extra_symbols, warm_orders, max_orders;
	uint32_t matchers;
	int cpu_client, cpu_engine, floor;
	int modes[3], nmodes;
};

/* One request sent and not yet answered. */
struct pend {
	uint64_t intended; /* TSC when it should have left */
	uint64_t index;    /* its place in the schedule (warm-up if < warmup) */
	uint32_t kind;     /* histogram: 0, or 1 for ack mode's cancels */
	uint32_t pad;
};

struct result {
	enum mode mode;
	struct bb_hist hist[2];
	uint64_t errors, unfilled, requotes;
};

static uint64_t next_client_id = 1;

static inline void relax(unsigned *n)
{
	if (++*n % 4096 == 0)
		sched_yield(); /* a shared machine degrades instead of starving */
	else
		__builtin_ia32_pause();
}

/* ---- the floor: shmex-bench-ring beside this binary ----------------------- */

struct floor {
	int ok;
	uint64_t p50, p99, p999, p9999, max;
	char json[1024];
};

static uint64_t json_u64(const char *json, const char *key)
{
	const char *p = strstr(json, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void run_floor(const struct opts *o, struct floor *f)
{
	memset(f, 0, sizeof *f);
	char self[PATH_MAX], cmd[PATH_MAX + 128];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(cmd, sizeof cmd, "'%s/shmex-bench-ring' --trips %" PRIu64 " --cpus %d,%d --json",
		 self, o->floor_trips, o->cpu_client, o->cpu_engine);
	FILE *p = popen(cmd, "r");
	if (!p)
		return;
	size_t got = fread(f->json, 1, sizeof f->json - 1, p);
	f->json[got] = 0;
	f->json[strcspn(f->json, "\n")] = 0;
	if (pclose(p) != 0 || !strstr(f->json, "\"p50_ns\"")) {
		fprintf(stderr, "shmex-bench-rtt: the floor (%s) failed\n", cmd);
		f->json[0] = 0;
		return;
	}
	f->p50 = json_u64(f->json, "\"p50_ns\": ");
	f->p99 = json_u64(f->json, "\"p99_ns\": ");
	f->p999 = json_u64(f->json, "\"p999_ns\": ");
	f->p9999 = json_u64(f->json, "\"p9999_ns\": ");
	f->max = json_u64(f->json, "\"max_ns\": ");
	f->ok = 1;
}

/* ---- one mode --------------------------------------------------------------- */

struct run {
	const struct opts *o;
	struct shmex_client *c, *maker;
	const struct bd_market *m;
	struct result *res;
	struct pend *pend;
	uint64_t *engine_id;  /* ack: engine id of new order i/2, once acked */
	int64_t maker_left;   /* fill: the maker's resting quantity */
	int requoting;        /* fill: a re-quote is in flight */
	int spin;
};

static int send_one(struct run *r, uint64_t i, uint64_t *no, uint32_t *kind)
{
	const struct bd_market *m = r->m;
	*kind = 0;
	switch (r->res->mode) {
	case M_ACK:
		if (i % 2 == 1) {
			/* The cancel of the order just before it (new orders and
			 * cancels alternate): by engine id, which its ack normally
			 * brought long ago, else by client id. */
			const uint64_t cid = next_client_id - 1;
			const uint64_t eid = r->engine_id[cid % PEND_SLOTS];
			*kind = 1;
			return eid ? shmex_client_cancel(r->c, m->users[0], eid, no)
				   : shmex_client_cancel_client_id(r->c, m->users[0], cid, no);
		} else {
			struct shmex_order_request q = {
				.client_id = next_client_id, .user = m->users[0], .symbol = m->symbol,
				.price = ACK_PRICE, .qty = 1, .side = SHMEX_BUY, .type = SHMEX_LIMIT,
				.tif = SHMEX_GTC, .flags = SHMEX_OF_POST_ONLY,
			};
			r->engine_id[next_client_id % PEND_SLOTS] = 0;
			int rc = shmex_client_submit(r->c, &q, no);
			if (rc == 0)
				next_client_id++;
			return rc;
		}
	case M_FILL: {
		struct shmex_order_request q = {
			.client_id = next_client_id, .user = m->users[0], .symbol = m->symbol,
			.price = FILL_PRICE, .qty = 1, .side = SHMEX_BUY, .type = SHMEX_LIMIT,
			.tif = SHMEX_IOC,
		};
		int rc = shmex_client_submit(r->c, &q, no);
		if (rc == 0)
			next_client_id++;
		return rc;
	}
	case M_PING:
	default:
		return shmex_client_ping(r->c, i + 1, no);
	}
}

/* The maker's side of fill mode: its reports, and a new quote when half of
 * the last one is gone. */
static int maker_work(struct run *r)
{
	struct shmex_report rep[64];
	int n = shmex_client_poll(r->maker, rep, 64);
	for (int i = 0; i < n; i++) {
		if (rep[i].kind == SHMEX_RPT_ORDER && rep[i].what == SHMEX_EV_TRADE)
			r->maker_left -= rep[i].last_qty;
		if (rep[i].flags & SHMEX_RPTF_DONE) {
			r->requoting = 0;
			if (rep[i].kind == SHMEX_RPT_ORDER && rep[i].what == SHMEX_EV_ACCEPTED)
				r->maker_left += MAKER_QTY;
			else
				r->res->errors++;
		}
	}
	if (n < 0)
		return n;
	if (!r->requoting && r->maker_left < MAKER_QTY / 2) {
		struct shmex_order_request q = {
			.client_id = next_client_id, .user = r->m->users[1], .symbol = r->m->symbol,
			.price = FILL_PRICE, .qty = MAKER_QTY, .side = SHMEX_SELL, .type = SHMEX_LIMIT,
			.tif = SHMEX_GTC,
		};
		if (shmex_client_submit(r->maker, &q, NULL) == 0) {
			next_client_id++;
			r->requoting = 1;
			r->res->requotes++;
		}
	}
	return n;
}

/* Whether a DONE report is the answer this mode expects. */
static int answer_ok(const struct run *r, const struct shmex_report *p, uint32_t kind)
{
	switch (r->res->mode) {
	case M_ACK:
		return p->kind == SHMEX_RPT_ORDER &&
		       p->what == (kind ? SHMEX_EV_CANCELLED : SHMEX_EV_ACCEPTED);
	case M_FILL:
		return p->kind == SHMEX_RPT_ORDER &&
		       (p->what == SHMEX_EV_TRADE || p->what == SHMEX_EV_KILLED);
	default:
		return p->kind == SHMEX_RPT_PONG;
	}
}

/* Takes @p n reports that arrived at TSC @p t: each DONE ends a round trip. */
static uint64_t take(struct run *r, const struct shmex_report *rep, int n, uint64_t t,
		     uint64_t warm)
{
	uint64_t done = 0;
	for (int i = 0; i < n; i++) {
		const struct shmex_report *p = &rep[i];
		if (r->res->mode == M_ACK && p->kind == SHMEX_RPT_ORDER &&
		    p->what == SHMEX_EV_ACCEPTED)
			r->engine_id[p->client_id % PEND_SLOTS] = p->order_id;
		if (!(p->flags & SHMEX_RPTF_DONE))
			continue;
		const struct pend *e = &r->pend[p->request_no % PEND_SLOTS];
		if (!answer_ok(r, p, e->kind))
			r->res->errors++;
		if (r->res->mode == M_FILL && p->what != SHMEX_EV_TRADE)
			r->res->unfilled++;
		if (e->index >= warm)
			bb_hist_add(&r->res->hist[e->kind], (uint64_t)bb_ticks_to_ns(t - e->intended));
		done++;
	}
	return done;
}

/* Fill mode: polls the maker until it has no re-quote in flight and a
 * quote resting (5 s at most). */
static int maker_settle(struct run *r)
{
	const uint64_t end = bb_tick_begin() + (uint64_t)(bb_ticks_per_ns() * 5e9);
	while (r->requoting || r->maker_left < MAKER_QTY / 2) {
		int rc = maker_work(r);
		if (rc < 0)
			return rc;
		if (bb_tick_begin() > end) {
			fprintf(stderr, "shmex-bench-rtt: the maker's quote got no answer in 5 s\n");
			return SHMEX_E_PROTOCOL;
		}
	}
	return 0;
}

static int run_mode(struct run *r)
{
	const struct opts *o = r->o;
	const uint64_t per = r->res->mode == M_ACK ? 2 : 1; /* requests per sample */
	const uint64_t total = (o->warmup + o->count) * per, warm = o->warmup * per;
	const double period = bb_ticks_per_ns() * 1e9 / (double)o->rate;
	struct shmex_report rep[64];
	uint64_t sent = 0, done = 0;
	unsigned spins = 0;
	const uint64_t t0 = bb_tick_begin() + (uint64_t)(bb_ticks_per_ns() * 1e6);
	while (done < total) {
		uint64_t now = bb_tick_begin();
		const uint64_t due = t0 + (uint64_t)((double)sent * period);
		if (sent < total && now >= due && sent - done < PEND_SLOTS) {
			uint64_t no;
			uint32_t kind;
			int rc = send_one(r, sent, &no, &kind);
			if (rc == 0) {
				r->pend[no % PEND_SLOTS] = (struct pend){ due, sent, kind, 0 };
				sent++;
				continue;
			}
			if (rc != SHMEX_E_FULL) {
				fprintf(stderr, "shmex-bench-rtt: send: %s\n", shmex_strerror(rc));
				return rc;
			}
		}
		int n = shmex_client_poll(r->c, rep, 64);
		if (n > 0) {
			done += take(r, rep, n, bb_tick_end(), warm);
			spins = 0;
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "shmex-bench-rtt: poll: %s\n", shmex_strerror(n));
			return n;
		}
		if (r->maker) {
			int m = maker_work(r);
			if (m < 0)
				return m;
			if (m > 0)
				continue;
		}
		if (r->spin) {
			relax(&spins);
			continue;
		}
		/* A blocking daemon: sleep until the next send at most (the
		 * library spins and yields first). */
		now = bb_tick_begin();
		int64_t wait_ns = sent < total && due > now ? (int64_t)bb_ticks_to_ns(due - now) : 1000000;
		n = shmex_client_wait(r->c, rep, 64, wait_ns > 1000000 ? 1000000 : wait_ns);
		if (n < 0) {
			fprintf(stderr, "shmex-bench-rtt: wait: %s\n", shmex_strerror(n));
			return n;
		}
		if (n > 0)
			done += take(r, rep, n, bb_tick_end(), warm);
	}
	return r->maker ? maker_settle(r) : 0;
}

/* Sessions for one mode (a maker's too for fill mode, with its first quote
 * resting before the clock starts). */
static int setup_run(const struct opts *o, const char *sock, enum mode mode,
		     const struct bd_market *m, struct run *r, struct result *res)
{
	memset(r, 0, sizeof *r);
	memset(res, 0, sizeof *res);
	r->o = o;
	r->m = m;
	r->res = res;
	res->mode = mode;
	bb_hist_reset(&res->hist[0]);
	bb_hist_reset(&res->hist[1]);
	r->pend = calloc(PEND_SLOTS, sizeof *r->pend);
	r->engine_id = calloc(PEND_SLOTS, sizeof *r->engine_id);
	if (!r->pend || !r->engine_id)
		return SHMEX_E_NOMEM;
	int rc = bd_connect(sock, "bench-rtt", 0, &r->c);
	if (rc != 0)
		return rc;
	struct shmex_client_info info;
	shmex_client_info(r->c, &info);
	r->spin = info.wait_policy != SHMEX_WAIT_BLOCK;
	if (mode != M_FILL)
		return 0;
	rc = bd_connect(sock, "bench-rtt-maker", 0, &r->maker);
	return rc != 0 ? rc : maker_settle(r);
}

static void close_run(struct run *r)
{
	shmex_client_close(r->c);
	shmex_client_close(r->maker);
	free(r->pend);
	free(r->engine_id);
}

/* ---- output ----------------------------------------------------------------- */

static const char *hist_name(enum mode mode, int k)
{
	if (mode == M_ACK)
		return k ? "ack-cancel" : "ack";
	return mode_name[mode];
}

static const char *hist_what(enum mode mode, int k)
{
	switch (mode) {
	case M_ACK:
		return k ? "cancel of a resting order -> its CANCELLED report (DONE)"
			 : "post-only limit buy that rests -> its ACCEPTED report (DONE)";
	case M_FILL:
		return "IOC buy of 1 lot crossing a resting maker quote -> its TRADE report (DONE)";
	default:
		return "PING -> PONG";
	}
}

static void print_hist(const char *name, const struct bb_hist *h, const struct floor *f)
{
	const uint64_t p50 = bb_hist_quantile(h, 0.5), p99 = bb_hist_quantile(h, 0.99);
	printf("%-10s %8" PRIu64 " trips: p50 %6" PRIu64 " ns, p99 %6" PRIu64 " ns, p99.9 %7" PRIu64
	       " ns, p99.99 %7" PRIu64 " ns, max %8" PRIu64 " ns, mean %.0f ns\n",
	       name, h->count, p50, p99, bb_hist_quantile(h, 0.999), bb_hist_quantile(h, 0.9999),
	       h->max, h->count ? h->sum / (double)h->count : 0.0);
	if (f->ok && f->p50 && f->p99)
		printf("%-10s vs floor: p50 floor + %" PRId64 " ns (target <= +150), p99 %.2fx the "
		       "floor (target <= 2x)\n",
		       "", (int64_t)p50 - (int64_t)f->p50, (double)p99 / (double)f->p99);
}

static int write_json(const struct opts *o, int argc, char **argv, const struct bb_machine *mach,
		      const char *layout, const char *wait, const struct result *res, int nres,
		      const struct floor *f)
{
	FILE *j = fopen(o->json, "w");
	if (!j) {
		fprintf(stderr, "shmex-bench-rtt: %s: %s\n", o->json, strerror(errno));
		return -1;
	}
	char date[64];
	time_t now = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(j, "{\"bench\": \"shmex-bench-rtt\", \"command\": ");
	bd_json_cmdline(j, argc, argv);
	fprintf(j, ", \"date\": \"%s\", ", date);
	bd_json_machine(j, mach);
	fprintf(j, "\"cpus\": {\"client\": %d, \"engine\": %d}, \"daemon\": {\"started\": %s, "
		   "\"layout\": \"%s\", \"matchers\": %u, \"wait\": \"%s\", "
		   "\"extra_symbols\": %" PRIu64
		   ", \"warm_orders\": %" PRIu64 ", \"max_orders\": %" PRIu64 "}, "
		   "\"rate_per_s\": %" PRIu64
		   ", \"count\": %" PRIu64 ", \"warmup\": %" PRIu64 ", \"results\": [",
		o->cpu_client, o->cpu_engine, o->shmexd ? "true" : "false", layout, o->matchers, wait,
		o->extra_symbols, o->warm_orders, o->max_orders ? o->max_orders : 1048576, o->rate,
		o->count, o->warmup);
	int first = 1;
	for (int i = 0; i < nres; i++)
		for (int k = 0; k < (res[i].mode == M_ACK ? 2 : 1); k++) {
			fprintf(j, "%s{\"name\": \"%s\", \"what\": ", first ? "" : ", ",
				hist_name(res[i].mode, k));
			bd_json_string(j, hist_what(res[i].mode, k));
			fprintf(j, ", \"errors\": %" PRIu64 ", \"unfilled\": %" PRIu64
				   ", \"requotes\": %" PRIu64 ", \"latency\": ",
				res[i].errors, res[i].unfilled, res[i].requotes);
			bd_json_hist(j, &res[i].hist[k]);
			fprintf(j, "}");
			first = 0;
		}
	fprintf(j, "], \"floor\": %s}\n", f->ok ? f->json : "null");
	return fclose(j) == 0 ? 0 : -1;
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmex-bench-rtt (--daemon SHMEXD | --connect SOCKET) [--mode ack,fill,ping]\n"
		"         [--rate N[/s]] [--count N] [--warmup N] [--cpus CLIENT,ENGINE]\n"
		"         [--wait spin|yield|block] [--max-orders N] [--floor] [--floor-trips N]\n"
		"         [--extra-symbols N] [--warm-orders N] [--matchers M [--engine-cpus L]]\n"
		"         [--json FILE]\n"
		"  --daemon SHMEXD  start that shmexd (layout shared, the engine pinned to ENGINE)\n"
		"  --connect SOCK   use a running shmexd (its uid needs the admin role)\n"
		"  --mode           ack (default), fill, ping, or a comma-separated list\n"
		"  --rate           requests per second, open loop (default 20000)\n"
		"  --count          measured round trips per mode (default 200000)\n"
		"  --warmup         round trips before them, not counted (default 20000)\n"
		"  --cpus           the client's CPU and the engine's (default 0,1)\n"
		"  --wait           the started daemon's wait policy (default spin)\n"
		"  --max-orders N   the started daemon's order records (default 1048576)\n"
		"  --floor          run shmex-bench-ring on the same CPUs first, compare\n"
		"  --extra-symbols N  add N idle symbols first (the engine's cost per symbol)\n"
		"  --warm-orders N  place and cancel N orders first, untimed (default 300000;\n"
		"                   0: a cold daemon, whose indexes fault pages in)\n"
		"  --matchers M     the started daemon: layout dedicated, 1 gateway, the bank and\n"
		"                   M matchers (default 1: layout shared)\n"
		"  --engine-cpus L  their pin list (default ENGINE, ENGINE+1, ...: one CPU each)\n"
		"  --json FILE      everything, with the full histograms\n");
}

static int parse_modes(const char *s, struct opts *o)
{
	o->nmodes = 0;
	char buf[64];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		int k = -1;
		for (int m = 0; m < 3; m++)
			if (strcmp(tok, mode_name[m]) == 0)
				k = m;
		if (k < 0 || o->nmodes == 3)
			return -1;
		o->modes[o->nmodes++] = k;
	}
	return o->nmodes ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .rate = 20000, .count = 200000, .warmup = 20000, .cpu_client = 0,
			  .cpu_engine = 1, .wait = "spin", .floor_trips = 1000000, .warm_orders = 300000,
			  .modes = { M_ACK }, .nmodes = 1 };
	for (int i = 1; i < argc;) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int used = 1;
		if (!strcmp(a, "--daemon") && v)
			o.shmexd = v;
		else if (!strcmp(a, "--connect") && v)
			o.sock = v;
		else if (!strcmp(a, "--json") && v)
			o.json = v;
		else if (!strcmp(a, "--wait") && v)
			o.wait = v;
		else if (!strcmp(a, "--rate") && v)
			o.rate = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--count") && v)
			o.count = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--warmup") && v)
			o.warmup = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--floor-trips") && v)
			o.floor_trips = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--max-orders") && v)
			o.max_orders = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--warm-orders") && v)
			o.warm_orders = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--extra-symbols") && v)
			o.extra_symbols = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--matchers") && v)
			o.matchers = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--engine-cpus") && v)
			o.engine_cpus = v;
		else if (!strcmp(a, "--cpus") && v &&
			 sscanf(v, "%d,%d", &o.cpu_client, &o.cpu_engine) == 2)
			;
		else if (!strcmp(a, "--mode") && v) {
			if (parse_modes(v, &o) != 0) {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(a, "--floor")) {
			o.floor = 1;
			used = 0;
		} else if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
		i += 1 + used;
	}
	if (o.matchers == 0)
		o.matchers = 1;
	if (!o.shmexd == !o.sock || o.rate == 0 || o.count == 0 || o.matchers > 16) {
		usage(stderr);
		return 2;
	}
	bb_timer_init();
	struct bb_machine mach;
	bb_machine_read(&mach);
	struct floor fl;
	memset(&fl, 0, sizeof fl);
	if (o.floor)
		run_floor(&o, &fl); /* before a spinning engine takes its CPU */

	struct bd_daemon d;
	memset(&d, 0, sizeof d);
	char cpus[256];
	snprintf(cpus, sizeof cpus, "%d", o.cpu_engine);
	/* Several matchers: gateway, bank, matchers, each on its own CPU. */
	for (uint32_t t = 1; o.matchers > 1 && t < o.matchers + 2; t++)
		snprintf(cpus + strlen(cpus), sizeof cpus - strlen(cpus), ",%d",
			 o.cpu_engine + (int)t);
	if (o.engine_cpus)
		snprintf(cpus, sizeof cpus, "%s", o.engine_cpus);
	const char *layout = o.matchers > 1 ? "dedicated" : "shared";
	const char *sock = o.sock;
	if (o.shmexd) {
		struct bd_daemon_opts dopt = { .layout = layout, .wait = o.wait, .cpus = cpus,
					       .gateways = 1, .matchers = o.matchers,
					       .max_orders = (uint32_t)o.max_orders };
		if (bd_daemon_start(o.shmexd, &dopt, &d) != 0)
			return 1;
		sock = d.sock;
	}
	int pinned = bb_pin_thread(o.cpu_client);
	struct shmex_client *admin = NULL;
	struct bd_market m;
	int rc = bd_connect(sock, "bench-rtt-admin", 0, &admin);
	if (rc == 0)
		rc = bd_market_setup(admin, 2, FUNDS, &m);
	if (rc == 0 && o.warm_orders)
		rc = bd_warm(admin, m.users[0], m.symbol, o.warm_orders, &next_client_id);
	/* Idle symbols: what the engine's duty cycle pays per symbol. */
	for (uint64_t k = 0; rc == 0 && k < o.extra_symbols; k++) {
		struct bd_market idle;
		rc = bd_market_setup(admin, 0, 0, &idle);
	}
	struct shmex_client_info info = { 0 };
	if (admin)
		shmex_client_info(admin, &info);
	static const char *const waits[] = { "spin", "yield", "block" };
	const char *wait = info.wait_policy <= 2 ? waits[info.wait_policy] : "?";

	printf("shmex-bench-rtt: client -> shmexd -> client over shared memory, open loop\n");
	printf("machine : %s (%s), %ld CPUs, %s, load %.2f\n", mach.model, mach.signature,
	       mach.cpus, mach.kernel, mach.load[0]);
	printf("daemon  : %s, layout %s, %u matcher%s, wait %s, engine on CPU%s %s; client on CPU "
	       "%d (%s)\n",
	       o.shmexd ? "started" : sock, o.shmexd ? layout : "as configured", o.matchers,
	       o.matchers > 1 ? "s" : "", wait, strchr(cpus, ',') ? "s" : "", cpus, o.cpu_client,
	       pinned >= 0 ? "pinned" : "not pinned");
	printf("rate    : %" PRIu64 " requests/s, %" PRIu64 " measured + %" PRIu64
	       " warm-up round trips per histogram; %" PRIu64 " orders placed and cancelled "
	       "first\n", o.rate, o.count, o.warmup, o.warm_orders);
	if (fl.ok)
		printf("floor   : shmex-bench-ring (closed loop, %" PRIu64 " trips): p50 %" PRIu64
		       " ns, p99 %" PRIu64 " ns, p99.9 %" PRIu64 " ns, p99.99 %" PRIu64
		       " ns, max %" PRIu64 " ns\n",
		       o.floor_trips, fl.p50, fl.p99, fl.p999, fl.p9999, fl.max);
	fflush(stdout);

	static struct result res[3];
	int nres = 0;
	for (int i = 0; rc == 0 && i < o.nmodes; i++) {
		struct run r;
		rc = setup_run(&o, sock, (enum mode)o.modes[i], &m, &r, &res[nres]);
		if (rc == 0)
			rc = run_mode(&r);
		close_run(&r);
		if (rc != 0)
			break;
		for (int k = 0; k < (res[nres].mode == M_ACK ? 2 : 1); k++)
			print_hist(hist_name(res[nres].mode, k), &res[nres].hist[k], &fl);
		if (res[nres].errors || res[nres].unfilled)
			printf("%-10s %" PRIu64 " unexpected answers, %" PRIu64 " IOCs not filled\n", "",
			       res[nres].errors, res[nres].unfilled);
		fflush(stdout);
		nres++;
	}
	shmex_client_close(admin);
	if (o.shmexd)
		bd_daemon_stop(&d);
	if (rc == 0 && o.json && write_json(&o, argc, argv, &mach, layout, wait, res, nres, &fl))
		rc = -1;
	for (int i = 0; i < nres; i++)
		if (res[i].errors)
			rc = rc ? rc : -1;
	return rc == 0 ? 0 : 1;
}
