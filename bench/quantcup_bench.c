/*
 * shmex-bench-quantcup: the QuantCup 2011 scoring feed through the shmex
 * book, timed the way the contest's harness (score.c of the starter kit,
 * github.com/cjoverzijl/quantcup-2011 submission/reference/score.c) timed
 * the entries:
 *
 *   for each of 200 replays: init();  (untimed)
 *     for (i = 10; i < feed_len; i += 10): time feed(i - 10, i)
 *   destroy();                          (untimed)
 *   score = (mean + sd) / 2 of the batch latencies, over all batches.
 *
 * Here init() is shmex_book_create(), destroy() shmex_book_destroy(), a
 * limit() is shmex_book_submit() of a GTC limit order and a cancel()
 * shmex_book_cancel(), with the feed's ids (1, 2, 3 ... in feed order, as
 * the contest's engines numbered them). The timer is the TSC (score.c used
 * clock_gettime(CLOCK_MONOTONIC_RAW)), its empty-pair cost subtracted. The
 * feed is parsed into memory before any timing. The event sink counts
 * fills and sums their lots, about what the contest's empty execution()
 * callback costs plus the totals that let engines be checked against each
 * other.
 *
 * Usage: shmex-bench-quantcup [--replays N] [--batch N] [--reuse] [--json]
 *                             [--dump FILE] [FEED]
 * Exit 77 (meson: skipped) if the feed file is absent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmex/book.h"

#include "bench_util.h"
#include "flow.h"

#ifndef SHMEX_SOURCE_ROOT
#define SHMEX_SOURCE_ROOT "."
#endif
#define QC_DEFAULT_FEED SHMEX_SOURCE_ROOT "/../shared/data/quantcup/score_feed.replay"

/* The contest's MAX_LIVE_ORDERS (limits.h): at most 65536 resting orders.
 * The feed has 17 894 orders in all, so this is never the limit. */
#define QC_MAX_ORDERS 65536u

struct qc_counts {
	uint64_t trades, volume, rejects;
};

static void qc_sink(void *ctx, const struct shmex_book_event *ev)
{
	struct qc_counts *c = ctx;
	if (ev->type == SHMEX_EV_TRADE) {
		c->trades++;
		c->volume += (uint64_t)ev->qty;
	} else if (ev->type == SHMEX_EV_REJECTED) {
		c->rejects++;
	}
}

static inline void qc_exec(struct shmex_book *b, const struct bf_cmd *c)
{
	if (c->op == BF_CANCEL) {
		shmex_book_cancel(b, c->id);
		return;
	}
	struct shmex_order o;
	memset(&o, 0, sizeof o);
	o.id = c->id;
	o.price = c->price;
	o.qty = c->qty;
	o.side = c->side;
	o.type = SHMEX_LIMIT;
	o.tif = SHMEX_GTC;
	shmex_book_submit(b, &o);
}

/* ---- the replay file (../shared/formats/replay.md, A and C lines only) ---- */

static int parse_field(const char **p, uint64_t *v)
{
	const char *s = *p;
	if (*s < '0' || *s > '9')
		return -1;
	uint64_t x = 0;
	while (*s >= '0' && *s <= '9') {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s++ - '0');
	}
	*v = x;
	*p = s;
	return 0;
}

/* One line of [p, eol): @return 1 and *c, 0 for a blank or comment line, -1. */
static int parse_line(const char *p, const char *eol, struct bf_cmd *c)
{
	memset(c, 0, sizeof *c);
	if (p == eol || *p == '#' || *p == '\r')
		return 0;
	uint64_t id = 0, price = 0, qty = 0;
	const char *s = p + 1;
	int ok = 0;
	if (*p == 'A' && *s == ',') {
		s++;
		if (parse_field(&s, &id) == 0 && *s++ == ',' && (*s == 'B' || *s == 'S') &&
		    s[1] == ',') {
			c->side = *s == 'S';
			s += 2;
			ok = parse_field(&s, &price) == 0 && *s++ == ',' &&
			     parse_field(&s, &qty) == 0 && (s == eol || *s == '\r');
		}
		ok = ok && price >= 1 && price <= 65535 && qty >= 1 && qty <= UINT32_MAX;
		c->op = BF_ADD;
	} else if (*p == 'C' && *s == ',') {
		s++;
		ok = parse_field(&s, &id) == 0 && (s == eol || *s == '\r');
		c->op = BF_CANCEL;
	}
	if (!ok || id == 0 || id > UINT32_MAX)
		return -1;
	c->id = (uint32_t)id;
	c->price = (uint16_t)price;
	c->qty = (uint32_t)qty;
	return 1;
}

/* @return 0, -1 (error, message printed) or 77 (file absent). */
static int qc_load(const char *path, struct bf_flow *f, uint64_t *adds)
{
	FILE *in = fopen(path, "rb");
	if (!in) {
		fprintf(stderr, "shmex-bench-quantcup: cannot open the feed %s; skipped\n", path);
		return 77;
	}
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap + 1);
	size_t nread;
	while (buf && (nread = fread(buf + len, 1, cap - len, in)) > 0) {
		len += nread;
		if (len == cap) {
			char *nb = realloc(buf, 2 * cap + 1);
			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	fclose(in);
	if (!buf) {
		fprintf(stderr, "out of memory\n");
		return -1;
	}
	buf[len] = 0;
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	memset(f, 0, sizeof *f);
	f->cmd = calloc(lines, sizeof f->cmd[0]);
	if (!f->cmd) {
		free(buf);
		return -1;
	}
	snprintf(f->kind, sizeof f->kind, "quantcup");
	*adds = 0;
	const char *p = buf;
	for (size_t line = 1; *p; line++) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		struct bf_cmd c;
		int got = parse_line(p, eol, &c);
		if (got < 0) {
			fprintf(stderr, "%s:%zu: not an A line (A,id,B|S,price<65536,qty, no options) "
					"or C line\n",
				path, line);
			free(buf);
			free(f->cmd);
			f->cmd = NULL;
			return -1;
		}
		if (got > 0) {
			*adds += c.op == BF_ADD;
			f->cmd[f->n++] = c;
		}
		p = *eol ? eol + 1 : eol;
	}
	free(buf);
	bf_flow_scan(f);
	return 0;
}

/* ---- reused book: cancel what rests between replays ---------------------- */

struct qc_ids {
	uint64_t *id;
	uint32_t n;
};

static void qc_collect(void *ctx, const struct shmex_order_info *o)
{
	struct qc_ids *ids = ctx;
	if (ids->n < QC_MAX_ORDERS)
		ids->id[ids->n++] = o->id;
}

static void qc_clear(struct shmex_book *b, struct qc_ids *ids)
{
	ids->n = 0;
	shmex_book_walk(b, SHMEX_BUY, qc_collect, ids);
	shmex_book_walk(b, SHMEX_SELL, qc_collect, ids);
	for (uint32_t i = 0; i < ids->n; i++)
		shmex_book_cancel(b, ids->id[i]);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: shmex-bench-quantcup [--replays N] [--batch N] [--reuse] [--json] "
		"[--dump FILE] [FEED]\n"
		"  FEED       replay file (default %s)\n"
		"  --replays  replays of the feed (default 200, as the contest)\n"
		"  --batch    messages per timed batch (default 10, as the contest)\n"
		"  --reuse    one book for all replays (orders left are cancelled between\n"
		"             replays, untimed) instead of a fresh book per replay\n"
		"  --json     one JSON object on stdout instead of the text report\n"
		"  --dump     write the parsed feed (bench/flow.h format) with this engine's\n"
		"             fills and lots for one replay, for bench/peer/voyager_harness.c,\n"
		"             and exit\n",
		QC_DEFAULT_FEED);
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t replays = 200, batch = 10;
	int reuse = 0, json = 0;
	const char *path = QC_DEFAULT_FEED, *dump = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--replays") && i + 1 < argc) {
			replays = bf_parse_u64(argv[i], argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			batch = bf_parse_u64(argv[i], argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--reuse"))
			reuse = 1;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
			dump = argv[++i];
		else if (argv[i][0] == '-')
			usage();
		else
			path = argv[i];
	}
	if (replays == 0 || batch == 0 || replays > 100000 || batch > 1000000)
		usage();

	struct bf_flow f;
	uint64_t adds;
	int rc = qc_load(path, &f, &adds);
	if (rc)
		return rc < 0 ? 1 : rc;
	/* score.c: for (i = batch; i < len; i += batch) feed(i - batch, i); */
	const uint64_t nb = f.n ? (f.n - 1) / batch : 0;
	const uint64_t msgs = nb * batch;
	if (nb == 0) {
		fprintf(stderr, "%s: fewer than %" PRIu64 " + 1 messages\n", path, batch);
		return 1;
	}

	struct shmex_book_params params = { .max_orders = QC_MAX_ORDERS, .max_levels = 0 };
	struct qc_counts cnt = { 0, 0, 0 };
	struct shmex_book *book = NULL;

	if (dump) {
		if (shmex_book_create(&params, qc_sink, &cnt, &book) != 0)
			return 1;
		for (uint64_t i = 0; i < msgs; i++)
			qc_exec(book, &f.cmd[i]);
		shmex_book_destroy(book);
		f.expect_msgs = msgs;
		f.expect_trades = cnt.trades;
		f.expect_volume = cnt.volume;
		if (bf_dump_write(dump, &f) != 0)
			return 1;
		fprintf(stderr,
			"wrote %s: %" PRIu64 " commands; after the first %" PRIu64
			" from an empty book: %" PRIu64 " fills, %" PRIu64 " lots\n",
			dump, f.n, msgs, cnt.trades, cnt.volume);
		free(f.cmd);
		return 0;
	}

	bb_timer_init();
	int cpu = bb_pin_thread(-1);
	struct bb_machine m;
	bb_machine_read(&m);
	uint64_t *ticks = malloc(replays * nb * sizeof *ticks);
	struct qc_ids ids = { malloc(QC_MAX_ORDERS * sizeof(uint64_t)), 0 };
	if (!ticks || !ids.id) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	if (reuse && shmex_book_create(&params, qc_sink, &cnt, &book) != 0) {
		fprintf(stderr, "shmex_book_create failed\n");
		return 1;
	}

	uint64_t trades0 = 0, volume0 = 0, rejects0 = 0, differ = 0;
	for (uint64_t r = 0; r < replays; r++) {
		if (!reuse && shmex_book_create(&params, qc_sink, &cnt, &book) != 0) {
			fprintf(stderr, "shmex_book_create failed\n");
			return 1;
		}
		struct qc_counts before = cnt;
		const struct bf_cmd *c = f.cmd;
		uint64_t *t = ticks + r * nb;
		for (uint64_t k = 0; k < nb; k++, c += batch) {
			uint64_t t0 = bb_tick_begin();
			for (uint64_t j = 0; j < batch; j++)
				qc_exec(book, &c[j]);
			t[k] = bb_tick_end() - t0;
		}
		uint64_t tr = cnt.trades - before.trades, vol = cnt.volume - before.volume;
		if (r == 0) {
			trades0 = tr;
			volume0 = vol;
			rejects0 = cnt.rejects - before.rejects;
		} else if (tr != trades0 || vol != volume0) {
			differ++;
		}
		if (reuse) {
			qc_clear(book, &ids);
		} else {
			shmex_book_destroy(book);
			book = NULL;
		}
	}
	shmex_book_destroy(book);

	struct bf_stats s;
	bf_stats_of(ticks, replays * nb, replays * msgs, &s);
	const char *engine = reuse ? "shmex book, one book for all replays (orders left are "
				     "cancelled between replays, untimed)"
				   : "shmex book, a fresh book per replay (create/destroy untimed, "
				     "as score.c's init()/destroy())";
	if (json) {
		bf_json_begin("shmex-bench-quantcup", argc, argv, cpu, &m);
		bf_json_str("engine", reuse ? "shmex-reuse" : "shmex");
		bf_json_str("feed", path);
		bf_json_u64("feed_messages", f.n);
		bf_json_u64("replays", replays);
		bf_json_u64("batch", batch);
		bf_json_u64("max_orders", QC_MAX_ORDERS);
		bf_json_u64("trades_per_replay", trades0);
		bf_json_u64("volume_per_replay", volume0);
		bf_json_u64("rejects_per_replay", rejects0);
		bf_json_u64("replays_differing", differ);
		bf_json_stats("result", &s);
		bf_json_end();
	} else {
		bf_print_header("shmex-bench-quantcup: the QuantCup 2011 scoring feed, timed as the "
				"contest's score.c (docs/BENCHMARKS.md)",
				argc, argv, cpu, &m);
		printf("feed    : %s: %" PRIu64 " messages (%" PRIu64 " adds, %" PRIu64
		       " cancels), largest id %" PRIu32 "\n",
		       path, f.n, adds, f.n - adds, f.max_id);
		printf("engine  : %s; max_orders %u (the contest's MAX_LIVE_ORDERS), max_levels 0\n",
		       engine, QC_MAX_ORDERS);
		printf("method  : %" PRIu64 " replays x %" PRIu64 " batches of %" PRIu64
		       " messages; the last %" PRIu64 " messages are not run (score.c's loop)\n",
		       replays, nb, batch, f.n - msgs);
		printf("trades  : %" PRIu64 " fills, %" PRIu64 " lots per replay%s; %" PRIu64
		       " rejects per replay (cancels of ids not live)\n",
		       trades0, volume0, differ ? " (REPLAYS DIFFER)" : " (same in every replay)",
		       rejects0);
		bf_print_stats("result", &s);
	}
	free(ticks);
	free(ids.id);
	free(f.cmd);
	return differ ? 1 : 0;
}
