/*
 * Randomized differential test of the order book: the fast book (src/book.c)
 * and the slow model (tests/model/model_book.c) run the same random command
 * stream; after every command their return values and event streams must be
 * identical, and periodically their full depth, queue order and live orders,
 * with shmex_book_verify() == 0.
 *
 * Environment:
 *   SHMEX_DIFF_COMMANDS  total commands over all random scenarios (default 5000000)
 *   SHMEX_DIFF_SEED      base seed (decimal or 0x hex, or "random")
 *   SHMEX_DIFF_FILTER    cmocka test name filter (e.g. "diff_stops")
 *   SHMEX_DIFF_CHECK     full-state check period in commands (default 64)
 *   SHMEX_DIFF_NO_MIN    set to skip shrinking a failing case
 *   SHMEX_DIFF_VERBOSE   set to print coverage (events by type / reason) per scenario
 *
 * On a mismatch the test prints the seed, the scenario, the command index,
 * the command and both event streams, then shrinks the last commands to a
 * short sequence that still shows a difference when run on fresh books.
 *
 * The first tests are handwritten scenarios with expected events derived by
 * hand from docs/MATCHING.md; they run on both books.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "model_book.h"
#include "shmex/book.h"
#include "shmex/error.h"

/* ---- event capture ---------------------------------------------------- */

struct evbuf {
	struct shmex_book_event *v;
	size_t n, cap;
};

/* No generated command legitimately makes this many events (the generator
 * keeps iceberg peaks large against huge quantities). */
#define RUNAWAY_EVENTS 5000000

static void evbuf_sink(void *ctx, const struct shmex_book_event *ev)
{
	struct evbuf *e = ctx;
	if (e->n >= RUNAWAY_EVENTS) {
		fprintf(stderr, "*** more than %d events for one command: runaway loop?\n",
			RUNAWAY_EVENTS);
		abort();
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 256;
		e->v = realloc(e->v, e->cap * sizeof *e->v);
		if (!e->v)
			abort();
	}
	e->v[e->n++] = *ev;
}

static int event_equal(const struct shmex_book_event *a, const struct shmex_book_event *b)
{
	return a->type == b->type && a->reason == b->reason && a->side == b->side &&
	       a->flags == b->flags && a->order_id == b->order_id && a->maker_id == b->maker_id &&
	       a->owner == b->owner && a->maker_owner == b->maker_owner && a->price == b->price &&
	       a->qty == b->qty && a->remaining == b->remaining;
}

static const char *event_name(unsigned t)
{
	static const char *const names[] = {"?",       "ACCEPTED", "TRADE",   "RESTED",
					    "CANCELLED", "EXPIRED", "KILLED", "REJECTED",
					    "TRIGGERED", "REDUCED", "AMENDED", "PARKED"};
	return t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static const char *reason_name(unsigned r)
{
	static const char *const names[] = {
		"NONE",         "CANCEL_REQUEST", "REDUCED_TO_ZERO", "SELF_TRADE",  "IOC",
		"FOK",          "POST_ONLY",      "EXPIRED",         "UNKNOWN_ORDER", "DUPLICATE_ID",
		"BAD_PRICE",    "BAD_QTY",        "BAD_OPTION",      "BOOK_FULL",   "BUDGET",
		"MASS_CANCEL"};
	return r < sizeof names / sizeof names[0] ? names[r] : "?";
}

static void event_print(FILE *f, const char *prefix, size_t i, const struct shmex_book_event *e)
{
	fprintf(f,
		"%s[%zu] %s reason=%s side=%u flags=%u id=%" PRIu64 " maker=%" PRIu64
		" owner=%" PRIu64 " mowner=%" PRIu64 " price=%" PRId64 " qty=%" PRId64
		" rem=%" PRId64 "\n",
		prefix, i, event_name(e->type), reason_name(e->reason), e->side, e->flags,
		e->order_id, e->maker_id, e->owner, e->maker_owner, e->price, e->qty, e->remaining);
}

/* ---- commands --------------------------------------------------------- */

enum cmd_kind { CMD_SUBMIT, CMD_CANCEL, CMD_REDUCE, CMD_AMEND, CMD_MASS, CMD_ADVANCE };

struct cmd {
	int kind;
	struct shmex_order o; /* CMD_SUBMIT */
	uint64_t id;          /* cancel / reduce / amend id, mass-cancel owner */
	int64_t a, b;         /* reduce: a = by; amend: a = price, b = qty; advance: a = now */
};

static const char *type_name(unsigned t)
{
	static const char *const n[] = {"LIMIT", "MARKET", "STOP_LIMIT", "STOP_MARKET", "TP_LIMIT",
					 "TP_MARKET"};
	return t < 6 ? n[t] : "BADTYPE";
}

static const char *tif_name(unsigned t)
{
	static const char *const n[] = {"GTC", "IOC", "FOK", "GTD"};
	return t < 4 ? n[t] : "BADTIF";
}

static void cmd_print(FILE *f, const struct cmd *c)
{
	const struct shmex_order *o = &c->o;
	switch (c->kind) {
	case CMD_SUBMIT:
		fprintf(f,
			"submit id=%" PRIu64 " side=%u type=%s(%u) tif=%s(%u) price=%" PRId64
			" qty=%" PRId64 " disp=%" PRId64 " trig=%" PRId64 " exp=%" PRId64
			" notional=%" PRId64 " owner=%" PRIu64 " flags=%" PRIu32 " stp=%u\n",
			o->id, o->side, type_name(o->type), o->type, tif_name(o->tif), o->tif, o->price,
			o->qty, o->display_qty, o->trigger_price, o->expire_at, o->max_notional,
			o->owner, o->flags, o->stp);
		break;
	case CMD_CANCEL: fprintf(f, "cancel id=%" PRIu64 "\n", c->id); break;
	case CMD_REDUCE: fprintf(f, "reduce id=%" PRIu64 " by=%" PRId64 "\n", c->id, c->a); break;
	case CMD_AMEND:
		fprintf(f, "amend id=%" PRIu64 " price=%" PRId64 " qty=%" PRId64 "\n", c->id, c->a,
			c->b);
		break;
	case CMD_MASS: fprintf(f, "cancel_owner owner=%" PRIu64 "\n", c->id); break;
	case CMD_ADVANCE: fprintf(f, "advance now=%" PRId64 "\n", c->a); break;
	default: fprintf(f, "?\n"); break;
	}
}

/* Prints @c as a line of shared/formats/replay.md; 0 if it has no such form
 * (stops, GTD, budgets, amend, mass cancel, clock, invalid fields). */
static int cmd_replay(FILE *f, const struct cmd *c)
{
	const struct shmex_order *o = &c->o;
	char line[256];
	int n;
	switch (c->kind) {
	case CMD_CANCEL: n = snprintf(line, sizeof line, "C,%" PRIu64, c->id); break;
	case CMD_REDUCE:
		if (c->a <= 0)
			return 0;
		n = snprintf(line, sizeof line, "R,%" PRIu64 ",%" PRId64, c->id, c->a);
		break;
	case CMD_SUBMIT:
		if (o->side > SHMEX_SELL || (o->type != SHMEX_LIMIT && o->type != SHMEX_MARKET) ||
		    o->tif > SHMEX_FOK || o->stp > SHMEX_STP_CANCEL_BOTH || o->max_notional ||
		    o->qty <= 0 || o->display_qty < 0 ||
		    (o->type == SHMEX_LIMIT && o->price <= 0) ||
		    (o->flags & ~(uint32_t)(SHMEX_OF_OWNER | SHMEX_OF_POST_ONLY)) ||
		    (o->stp && !(o->flags & SHMEX_OF_OWNER)))
			return 0;
		if (o->type == SHMEX_LIMIT)
			n = snprintf(line, sizeof line, "A,%" PRIu64 ",%c,%" PRId64 ",%" PRId64, o->id,
				     o->side == SHMEX_BUY ? 'B' : 'S', o->price, o->qty);
		else
			n = snprintf(line, sizeof line, "M,%" PRIu64 ",%c,%" PRId64, o->id,
				     o->side == SHMEX_BUY ? 'B' : 'S', o->qty);
		if (o->type == SHMEX_MARKET && o->tif != SHMEX_IOC)
			return 0;
		if (o->type == SHMEX_LIMIT && o->tif != SHMEX_GTC)
			n += snprintf(line + n, sizeof line - (size_t)n, ",%s", tif_name(o->tif));
		if (o->flags & SHMEX_OF_POST_ONLY)
			n += snprintf(line + n, sizeof line - (size_t)n, ",POST");
		if (o->display_qty)
			n += snprintf(line + n, sizeof line - (size_t)n, ",ICE=%" PRId64, o->display_qty);
		if (o->flags & SHMEX_OF_OWNER)
			n += snprintf(line + n, sizeof line - (size_t)n, ",U=%" PRIu64, o->owner);
		if (o->stp)
			n += snprintf(line + n, sizeof line - (size_t)n, ",STP=%s",
				      o->stp == 1 ? "CN" : o->stp == 2 ? "CO" : "CB");
		break;
	default: return 0;
	}
	(void)n;
	if (f)
		fprintf(f, "%s\n", line);
	return 1;
}

/* ---- the two books side by side --------------------------------------- */

struct pair {
	struct shmex_book *fast;
	struct model_book *model;
	struct evbuf ef, em;
	uint32_t max_orders;
	/* scratch for full checks */
	struct shmex_level_info *lf, *lm;
	struct shmex_order_info *wf, *wm;
	uint32_t nwf, nwm;
};

/* Options of the fast book that change no result, set per scenario. */
static uint32_t g_book_flags, g_ladder_ticks;

static int pair_open(struct pair *p, uint32_t max_orders, uint32_t max_levels,
		     uint32_t max_matches)
{
	memset(p, 0, sizeof *p);
	struct shmex_book_params params = {.max_orders = max_orders, .max_levels = max_levels,
					   .max_matches = max_matches, .flags = g_book_flags,
					   .ladder_ticks = g_ladder_ticks};
	if (shmex_book_create(&params, evbuf_sink, &p->ef, &p->fast) != 0)
		return -1;
	p->model = model_book_create_ex(max_orders, max_levels, max_matches, evbuf_sink, &p->em);
	if (!p->model)
		return -1;
	p->max_orders = max_orders;
	p->lf = calloc((size_t)max_orders + 1, sizeof *p->lf);
	p->lm = calloc((size_t)max_orders + 1, sizeof *p->lm);
	p->wf = calloc((size_t)max_orders + 1, sizeof *p->wf);
	p->wm = calloc((size_t)max_orders + 1, sizeof *p->wm);
	if (!p->lf || !p->lm || !p->wf || !p->wm)
		return -1;
	return 0;
}

static void pair_close(struct pair *p)
{
	shmex_book_destroy(p->fast);
	model_book_destroy(p->model);
	free(p->ef.v);
	free(p->em.v);
	free(p->lf);
	free(p->lm);
	free(p->wf);
	free(p->wm);
	memset(p, 0, sizeof *p);
}

/* Runs @c on both books; their return values in *rf / *rm. */
static void pair_apply(struct pair *p, const struct cmd *c, int64_t *rf, int64_t *rm)
{
	p->ef.n = p->em.n = 0;
	switch (c->kind) {
	case CMD_SUBMIT:
		if (g_book_flags & SHMEX_BOOK_ISSUE_IDS) {
			/* Both books take the id the fast book issues. */
			struct shmex_order o = c->o;
			uint64_t id = shmex_book_next_id(p->fast);
			if (id)
				o.id = id;
			*rf = shmex_book_submit(p->fast, &o);
			*rm = model_book_submit(p->model, &o);
			break;
		}
		*rf = shmex_book_submit(p->fast, &c->o);
		*rm = model_book_submit(p->model, &c->o);
		break;
	case CMD_CANCEL:
		*rf = shmex_book_cancel(p->fast, c->id);
		*rm = model_book_cancel(p->model, c->id);
		break;
	case CMD_REDUCE:
		*rf = shmex_book_reduce(p->fast, c->id, c->a);
		*rm = model_book_reduce(p->model, c->id, c->a);
		break;
	case CMD_AMEND:
		*rf = shmex_book_amend(p->fast, c->id, c->a, c->b);
		*rm = model_book_amend(p->model, c->id, c->a, c->b);
		break;
	case CMD_MASS:
		*rf = shmex_book_cancel_owner(p->fast, c->id);
		*rm = model_book_cancel_owner(p->model, c->id);
		break;
	case CMD_ADVANCE:
		*rf = shmex_book_advance(p->fast, c->a);
		*rm = model_book_advance(p->model, c->a);
		break;
	default: abort();
	}
}

/* Mismatch description goes here (first line only matters for shrinking). */
static char g_why[512];

static int why(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_why, sizeof g_why, fmt, ap);
	va_end(ap);
	return 1;
}

static int info_differs(const struct shmex_order_info *f, const struct shmex_order_info *m)
{
	if (f->id != m->id || f->side != m->side || f->remaining != m->remaining ||
	    f->parked != m->parked || f->owner != m->owner || f->tif != m->tif ||
	    f->flags != m->flags)
		return 1;
	if (!m->parked && (f->price != m->price || f->displayed != m->displayed))
		return 1;
	if (m->parked && (f->trigger_price != m->trigger_price || f->type != m->type ||
			  f->price != m->price))
		return 1;
	if (m->tif == SHMEX_GTD && f->expire_at != m->expire_at)
		return 1;
	return 0;
}

static void info_print(const char *who, const struct shmex_order_info *o)
{
	fprintf(stderr,
		"  %s: id=%" PRIu64 " side=%u type=%u tif=%u parked=%u price=%" PRId64
		" rem=%" PRId64 " disp=%" PRId64 " trig=%" PRId64 " exp=%" PRId64 " owner=%" PRIu64
		" flags=%" PRIu32 "\n",
		who, o->id, o->side, o->type, o->tif, o->parked, o->price, o->remaining, o->displayed,
		o->trigger_price, o->expire_at, o->owner, o->flags);
}

/* Compares one id's lookup; returns nonzero on a difference. */
static int compare_lookup(const struct pair *p, uint64_t id, int verbose)
{
	struct shmex_order_info f, m;
	memset(&f, 0, sizeof f);
	memset(&m, 0, sizeof m);
	int rf = shmex_book_order(p->fast, id, &f);
	int rm = model_book_order(p->model, id, &m);
	if (rf != rm)
		return why("order(%" PRIu64 ") returns fast=%d model=%d", id, rf, rm);
	if (rf == 0 && info_differs(&f, &m)) {
		if (verbose) {
			info_print("fast ", &f);
			info_print("model", &m);
		}
		return why("order(%" PRIu64 ") info differs", id);
	}
	return 0;
}

/* Cheap checks after every command: returns, events, best, last, count, lookup. */
static int compare_step(const struct pair *p, const struct cmd *c, int64_t rf, int64_t rm)
{
	if (rf != rm)
		return why("return values differ: fast=%" PRId64 " model=%" PRId64, rf, rm);
	if (p->ef.n != p->em.n)
		return why("event counts differ: fast=%zu model=%zu", p->ef.n, p->em.n);
	for (size_t i = 0; i < p->ef.n; i++)
		if (!event_equal(&p->ef.v[i], &p->em.v[i]))
			return why("event %zu differs", i);
	for (int side = 0; side < 2; side++) {
		int64_t bf = 0, bm = 0;
		int hf = shmex_book_best(p->fast, side, &bf);
		int hm = model_book_best(p->model, side, &bm);
		if (hf != hm || (hf && bf != bm))
			return why("best(%d) differs: fast=%d/%" PRId64 " model=%d/%" PRId64, side, hf,
				   bf, hm, bm);
	}
	int64_t lf = 0, lm = 0;
	int hf = shmex_book_last_price(p->fast, &lf);
	int hm = model_book_last_price(p->model, &lm);
	if (hf != hm || (hf && lf != lm))
		return why("last_price differs: fast=%d/%" PRId64 " model=%d/%" PRId64, hf, lf, hm,
			   lm);
	uint32_t cf = shmex_book_order_count(p->fast), cm = model_book_order_count(p->model);
	if (cf != cm)
		return why("order_count differs: fast=%u model=%u", cf, cm);
	uint64_t id = c->kind == CMD_SUBMIT ? c->o.id : c->id;
	if (c->kind != CMD_ADVANCE && c->kind != CMD_MASS && compare_lookup(p, id, 0))
		return 1;
	return 0;
}

static void walk_collect_f(void *ctx, const struct shmex_order_info *o)
{
	struct pair *p = ctx;
	if (p->nwf <= p->max_orders)
		p->wf[p->nwf] = *o;
	p->nwf++;
}

static void walk_collect_m(void *ctx, const struct shmex_order_info *o)
{
	struct pair *p = ctx;
	if (p->nwm <= p->max_orders)
		p->wm[p->nwm] = *o;
	p->nwm++;
}

/* Full state: verify, level counts, depth, queue order, every live order. */
static int compare_full(struct pair *p, int verbose)
{
	if (shmex_book_verify(p->fast) != 0)
		return why("shmex_book_verify() failed");
	for (int side = 0; side < 2; side++) {
		uint32_t cf = shmex_book_level_count(p->fast, side);
		uint32_t cm = model_book_level_count(p->model, side);
		if (cf != cm)
			return why("level_count(%d) differs: fast=%u model=%u", side, cf, cm);
		uint32_t df = shmex_book_depth(p->fast, side, p->lf, p->max_orders + 1);
		uint32_t dm = model_book_depth(p->model, side, p->lm, p->max_orders + 1);
		if (df != dm || df != cf)
			return why("depth(%d) lengths differ: fast=%u model=%u", side, df, dm);
		for (uint32_t i = 0; i < df; i++)
			if (p->lf[i].price != p->lm[i].price || p->lf[i].orders != p->lm[i].orders ||
			    p->lf[i].qty != p->lm[i].qty) {
				if (verbose)
					fprintf(stderr,
						"  level %u: fast price=%" PRId64 " orders=%u qty=%.0f"
						" | model price=%" PRId64 " orders=%u qty=%.0f\n",
						i, p->lf[i].price, p->lf[i].orders, (double)p->lf[i].qty,
						p->lm[i].price, p->lm[i].orders, (double)p->lm[i].qty);
				return why("depth(%d) level %u differs", side, i);
			}
		/* a partial depth must be the prefix */
		if (df > 1) {
			uint32_t k = shmex_book_depth(p->fast, side, p->lf, 1);
			if (k != 1 || p->lf[0].price != p->lm[0].price)
				return why("depth(%d, max=1) is not the best level", side);
		}
		p->nwf = p->nwm = 0;
		shmex_book_walk(p->fast, side, walk_collect_f, p);
		model_book_walk(p->model, side, walk_collect_m, p);
		if (p->nwf != p->nwm)
			return why("walk(%d) lengths differ: fast=%u model=%u", side, p->nwf, p->nwm);
		for (uint32_t i = 0; i < p->nwf; i++)
			if (info_differs(&p->wf[i], &p->wm[i])) {
				if (verbose) {
					info_print("fast ", &p->wf[i]);
					info_print("model", &p->wm[i]);
				}
				return why("walk(%d) order %u differs (queue order or fields)", side,
					   i);
			}
	}
	/* live orders by id (parked stops are seen only here): all of a small
	 * book, an even sample of a big one (the model's lookup is a scan) */
	uint32_t n = model_book_order_count(p->model);
	uint32_t step = n <= 64 ? 1 : n / 64;
	for (uint32_t i = 0; i < n; i += step)
		if (compare_lookup(p, model_book_live_id(p->model, i), verbose))
			return 1;
	return 0;
}

static void print_streams(const struct pair *p)
{
	size_t n = p->ef.n > p->em.n ? p->ef.n : p->em.n;
	for (size_t i = 0; i < n; i++) {
		int same = i < p->ef.n && i < p->em.n && event_equal(&p->ef.v[i], &p->em.v[i]);
		if (i < p->ef.n)
			event_print(stderr, same ? "  fast  " : "* fast  ", i, &p->ef.v[i]);
		else
			fprintf(stderr, "* fast  [%zu] (none)\n", i);
		if (i < p->em.n)
			event_print(stderr, same ? "  model " : "* model ", i, &p->em.v[i]);
		else
			fprintf(stderr, "* model [%zu] (none)\n", i);
	}
}

/*
 * Runs @n commands on fresh books, checking everything after every command.
 * @return the index of the first command after which they differ, or -1.
 */
static long replay_sequence(const struct cmd *cmds, size_t n, uint32_t max_orders,
			    uint32_t max_levels, uint32_t max_matches, int verbose)
{
	struct pair p;
	if (pair_open(&p, max_orders, max_levels, max_matches) != 0)
		abort();
	long bad = -1;
	for (size_t i = 0; i < n; i++) {
		int64_t rf, rm;
		pair_apply(&p, &cmds[i], &rf, &rm);
		if (compare_step(&p, &cmds[i], rf, rm) || compare_full(&p, verbose)) {
			if (verbose) {
				fprintf(stderr, "  -> after command %zu: %s\n", i, g_why);
				fprintf(stderr, "     returns: fast=%" PRId64 " model=%" PRId64 "\n", rf,
					rm);
				print_streams(&p);
			}
			bad = (long)i;
			break;
		}
	}
	pair_close(&p);
	return bad;
}

/* Shrinks @cmds[0..*n) (whose last command fails) to a short failing list. */
static void shrink(struct cmd *cmds, size_t *n, uint32_t max_orders, uint32_t max_levels,
		   uint32_t max_matches)
{
	struct cmd *tmp = malloc(sizeof *tmp * (*n ? *n : 1));
	if (!tmp)
		abort();
	for (size_t chunk = *n / 2; chunk >= 1; chunk /= 2) {
		size_t i = 0;
		while (i < *n && *n > 1) {
			size_t len = chunk < *n - i ? chunk : *n - i;
			size_t k = 0;
			for (size_t j = 0; j < *n; j++)
				if (j < i || j >= i + len)
					tmp[k++] = cmds[j];
			long bad = k ? replay_sequence(tmp, k, max_orders, max_levels, max_matches, 0)
				     : -1;
			if (bad >= 0) {
				memcpy(cmds, tmp, sizeof *tmp * ((size_t)bad + 1));
				*n = (size_t)bad + 1;
			} else {
				i += len;
			}
		}
	}
	free(tmp);
}

/* ---- random generation ------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s[2]; /* xorshift128+ */
};

static void rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t s = seed;
	r->s[0] = splitmix64(&s);
	r->s[1] = splitmix64(&s);
	if (!r->s[0] && !r->s[1])
		r->s[1] = 1;
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t a = r->s[0];
	const uint64_t b = r->s[1];
	r->s[0] = b;
	a ^= a << 23;
	r->s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
	return r->s[1] + b;
}

/* Uniform in [0, n) (n > 0; the bias of % is irrelevant here). */
static uint64_t rnd(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

/* In [lo, hi]. */
static int64_t rnd_range(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)rnd(r, (uint64_t)(hi - lo) + 1);
}

/* True with probability pm / 1000. */
static int chance(struct rng *r, unsigned pm)
{
	return rnd(r, 1000) < pm;
}

/* a + b for b >= 0, saturating at INT64_MAX. */
static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

struct scenario {
	const char *name;
	unsigned share;          /* parts per 100 of SHMEX_DIFF_COMMANDS */
	uint32_t max_orders, max_levels;
	uint32_t max_matches;    /* struct shmex_book_params.max_matches */
	uint32_t ladder_ticks;   /* struct shmex_book_params.ladder_ticks (0: default) */
	int issue_ids;           /* the fast book issues ids (SHMEX_BOOK_ISSUE_IDS) */
	uint32_t target_live;    /* above this, cancels are favoured */
	int64_t mid, band;       /* limit prices in mid +- band */
	unsigned passive;        /* per mille: price on the order's own side of mid */
	int64_t qty_max;         /* quantities 1..qty_max (mostly) */
	uint64_t owners;         /* owners 1..owners */
	/* command weights */
	unsigned w_limit, w_market, w_stop, w_cancel, w_reduce, w_amend, w_mass, w_advance;
	/* per-mille chances */
	unsigned p_ioc, p_fok, p_gtd, p_post, p_ice, p_owner, p_stp, p_invalid, p_extreme;
	unsigned p_dup, p_notional;
	unsigned id_shift;       /* ids are n << id_shift (64: random 64-bit ids) */
};

static const struct scenario scenarios[] = {
	{.name = "narrow", .share = 15, .max_orders = 1024, .target_live = 200, .mid = 1000,
	 .band = 6, .qty_max = 20, .owners = 8, .w_limit = 50, .w_market = 8, .w_stop = 6,
	 .w_cancel = 14, .w_reduce = 6, .w_amend = 10, .w_mass = 1, .w_advance = 3,
	 .p_ioc = 120, .p_fok = 80, .p_gtd = 150, .p_post = 80, .p_ice = 120, .p_owner = 500,
	 .p_stp = 400, .p_invalid = 30, .p_extreme = 8, .p_dup = 20, .p_notional = 300},
	{.name = "deep", .share = 10, .max_orders = 4096, .target_live = 1500, .mid = 100000,
	 .band = 400, .passive = 850, .qty_max = 100, .owners = 16, .w_limit = 60,
	 .w_market = 3, .w_stop = 4, .w_cancel = 15, .w_reduce = 6, .w_amend = 10, .w_mass = 1,
	 .w_advance = 2, .p_ioc = 50, .p_fok = 40, .p_gtd = 100, .p_post = 100, .p_ice = 120,
	 .p_owner = 400, .p_stp = 300, .p_invalid = 20, .p_extreme = 3, .p_dup = 10,
	 .p_notional = 300, .id_shift = 20},
	{.name = "tiny", .share = 10, .max_orders = 8, .max_levels = 0, .target_live = 9,
	 .mid = 50, .band = 4, .qty_max = 6, .owners = 3, .w_limit = 50, .w_market = 8,
	 .w_stop = 10, .w_cancel = 12, .w_reduce = 6, .w_amend = 10, .w_mass = 2,
	 .w_advance = 4, .p_ioc = 100, .p_fok = 100, .p_gtd = 200, .p_post = 100, .p_ice = 150,
	 .p_owner = 500, .p_stp = 400, .p_invalid = 40, .p_extreme = 10, .p_dup = 40,
	 .p_notional = 300},
	{.name = "tiny_levels", .share = 5, .max_orders = 12, .max_levels = 3,
	 .target_live = 13, .mid = 50, .band = 5, .passive = 300, .qty_max = 6, .owners = 3,
	 .w_limit = 50, .w_market = 6, .w_stop = 10, .w_cancel = 12, .w_reduce = 6,
	 .w_amend = 12, .w_mass = 2, .w_advance = 4, .p_ioc = 100, .p_fok = 100, .p_gtd = 200,
	 .p_post = 100, .p_ice = 150, .p_owner = 500, .p_stp = 400, .p_invalid = 30,
	 .p_extreme = 10, .p_dup = 40, .p_notional = 300},
	{.name = "stops", .share = 10, .max_orders = 1024, .target_live = 250, .mid = 1000,
	 .band = 10, .passive = 300, .qty_max = 15, .owners = 6, .w_limit = 40, .w_market = 8,
	 .w_stop = 30, .w_cancel = 12, .w_reduce = 6, .w_amend = 8, .w_mass = 1, .w_advance = 3,
	 .p_ioc = 150, .p_fok = 100, .p_gtd = 150, .p_post = 60, .p_ice = 100, .p_owner = 500,
	 .p_stp = 300, .p_invalid = 20, .p_extreme = 5, .p_dup = 15, .p_notional = 300},
	{.name = "stp", .share = 15, .max_orders = 1024, .target_live = 150, .mid = 1000,
	 .band = 4, .qty_max = 12, .owners = 3, .w_limit = 50, .w_market = 10, .w_stop = 6,
	 .w_cancel = 12, .w_reduce = 6, .w_amend = 10, .w_mass = 3, .w_advance = 2,
	 .p_ioc = 150, .p_fok = 150, .p_gtd = 100, .p_post = 50, .p_ice = 200, .p_owner = 950,
	 .p_stp = 800, .p_invalid = 20, .p_extreme = 5, .p_dup = 15, .p_notional = 200,
	 .id_shift = 32},
	{.name = "extreme", .share = 5, .max_orders = 256, .target_live = 60, .mid = 1000,
	 .band = 6, .qty_max = 10, .owners = 4, .w_limit = 50, .w_market = 10, .w_stop = 10,
	 .w_cancel = 12, .w_reduce = 8, .w_amend = 10, .w_mass = 1, .w_advance = 4,
	 .p_ioc = 120, .p_fok = 120, .p_gtd = 150, .p_post = 80, .p_ice = 150, .p_owner = 500,
	 .p_stp = 400, .p_invalid = 150, .p_extreme = 150, .p_dup = 40, .p_notional = 400,
	 .id_shift = 64},
	/* Work bounds: deep narrow levels of small orders and icebergs, so that
	 * orders (FOK included) often reach max_matches. */
	{.name = "capped", .share = 10, .max_orders = 1024, .max_matches = 3, .target_live = 250,
	 .mid = 1000, .band = 3, .passive = 700, .qty_max = 8, .owners = 6, .w_limit = 50,
	 .w_market = 10, .w_stop = 6, .w_cancel = 10, .w_reduce = 6, .w_amend = 10, .w_mass = 1,
	 .w_advance = 2, .p_ioc = 150, .p_fok = 250, .p_gtd = 100, .p_post = 50, .p_ice = 300,
	 .p_owner = 600, .p_stp = 500, .p_invalid = 20, .p_extreme = 5, .p_dup = 15,
	 .p_notional = 200},
	/* A 64-tick ladder on a market that wanders over thousands of ticks:
	 * levels on both sides of the window, in the trees and the ladder,
	 * and the window moving all the time. */
	/* The fast book issues the ids (both books use them): slots reused
	 * under new generations, stale ids of ended orders named again. */
	{.name = "issued", .share = 5, .max_orders = 1024, .issue_ids = 1, .target_live = 200,
	 .mid = 1000, .band = 6, .qty_max = 20, .owners = 8, .w_limit = 50, .w_market = 8,
	 .w_stop = 6, .w_cancel = 14, .w_reduce = 6, .w_amend = 10, .w_mass = 1, .w_advance = 3,
	 .p_ioc = 120, .p_fok = 80, .p_gtd = 150, .p_post = 80, .p_ice = 120, .p_owner = 500,
	 .p_stp = 400, .p_invalid = 30, .p_extreme = 8, .p_notional = 300},
	{.name = "issued_tiny", .share = 5, .max_orders = 8, .issue_ids = 1, .target_live = 9,
	 .mid = 50, .band = 4, .qty_max = 6, .owners = 3, .w_limit = 50, .w_market = 8,
	 .w_stop = 10, .w_cancel = 12, .w_reduce = 6, .w_amend = 10, .w_mass = 2,
	 .w_advance = 4, .p_ioc = 100, .p_fok = 100, .p_gtd = 200, .p_post = 100, .p_ice = 150,
	 .p_owner = 500, .p_stp = 400, .p_invalid = 40, .p_extreme = 10, .p_notional = 300},
	{.name = "ladder_moves", .share = 5, .max_orders = 1024, .ladder_ticks = 64,
	 .target_live = 300, .mid = 5000, .band = 150, .passive = 600, .qty_max = 10,
	 .owners = 6, .w_limit = 60, .w_market = 6, .w_stop = 6, .w_cancel = 12, .w_reduce = 5,
	 .w_amend = 10, .w_mass = 1, .w_advance = 2, .p_ioc = 100, .p_fok = 80, .p_gtd = 100,
	 .p_post = 80, .p_ice = 100, .p_owner = 400, .p_stp = 300, .p_invalid = 20,
	 .p_extreme = 10, .p_dup = 15, .p_notional = 200},
	{.name = "capped_one", .share = 5, .max_orders = 64, .max_matches = 1, .target_live = 40,
	 .mid = 100, .band = 2, .passive = 600, .qty_max = 5, .owners = 3, .w_limit = 50,
	 .w_market = 10, .w_stop = 8, .w_cancel = 10, .w_reduce = 6, .w_amend = 10, .w_mass = 2,
	 .w_advance = 2, .p_ioc = 150, .p_fok = 300, .p_gtd = 100, .p_post = 50, .p_ice = 300,
	 .p_owner = 700, .p_stp = 600, .p_invalid = 20, .p_extreme = 5, .p_dup = 15,
	 .p_notional = 200},
};

#define N_SCENARIOS (sizeof scenarios / sizeof scenarios[0])
#define DEAD_IDS 64

struct gen {
	struct rng r;
	const struct scenario *sc;
	uint64_t next_id; /* counter behind the ids, see gen_id() */
	int64_t now;
	uint64_t dead[DEAD_IDS]; /* ids used before (maybe still live) */
	unsigned ndead, dead_pos;
	uint8_t *ice; /* ice[id]: that id may be an iceberg (ids < ICE_IDS) */
};

#define ICE_IDS (1u << 24)

/* The id numbered @n: sequential, spread out (hash-unfriendly), or random. */
static uint64_t gen_id(const struct gen *g, uint64_t n)
{
	if (g->sc->id_shift >= 64) {
		uint64_t x = n ^ 0x1d5e11d5ull;
		return splitmix64(&x);
	}
	return n << g->sc->id_shift;
}

/* Slot of @id in g->ice, or ICE_IDS if not tracked. */
static uint64_t gen_ice_slot(const struct gen *g, uint64_t id)
{
	if (g->sc->id_shift >= 64)
		return ICE_IDS;
	if (id & ((1ull << g->sc->id_shift) - 1))
		return ICE_IDS;
	id >>= g->sc->id_shift;
	return id < ICE_IDS ? id : ICE_IDS;
}

/* Whether live order @id may be an iceberg (untracked ids: assume so). */
static int gen_is_ice(const struct gen *g, uint64_t id)
{
	uint64_t k = gen_ice_slot(g, id);
	return k >= ICE_IDS || g->ice[k];
}

static void gen_remember(struct gen *g, uint64_t id)
{
	g->dead[g->dead_pos] = id;
	g->dead_pos = (g->dead_pos + 1) % DEAD_IDS;
	if (g->ndead < DEAD_IDS)
		g->ndead++;
}

/* A live id if any, else a fresh unknown one. */
static uint64_t gen_live_id(struct gen *g, const struct model_book *m)
{
	uint32_t n = model_book_order_count(m);
	if (n == 0)
		return gen_id(g, g->next_id + 1000000);
	return model_book_live_id(m, (uint32_t)rnd(&g->r, n));
}

/* Live (mostly), dead, or never-used id. */
static uint64_t gen_target_id(struct gen *g, const struct model_book *m)
{
	unsigned k = (unsigned)rnd(&g->r, 100);
	if (k < 80)
		return gen_live_id(g, m);
	if (k < 92 && g->ndead)
		return g->dead[rnd(&g->r, g->ndead)];
	if (k < 94)
		return chance(&g->r, 500) ? 0 : UINT64_MAX;
	return gen_id(g, g->next_id + 1 + rnd(&g->r, 1000));
}

static int64_t gen_extreme_price(struct gen *g)
{
	static const int64_t v[] = {1, 2, INT64_MAX, INT64_MAX - 1, INT64_MAX / 2, INT64_MAX / 1000};
	return v[rnd(&g->r, sizeof v / sizeof v[0])];
}

static int64_t gen_extreme_qty(struct gen *g)
{
	static const int64_t v[] = {1, INT64_MAX, INT64_MAX - 1, INT64_MAX / 2, INT64_MAX / 3,
				    (int64_t)1 << 40};
	return v[rnd(&g->r, sizeof v / sizeof v[0])];
}

static int64_t gen_price(struct gen *g, int side)
{
	int64_t p = g->sc->mid + rnd_range(&g->r, -g->sc->band, g->sc->band);
	if (chance(&g->r, g->sc->passive)) {
		int64_t off = (int64_t)rnd(&g->r, (uint64_t)g->sc->band + 1);
		p = side == SHMEX_BUY ? g->sc->mid - off : g->sc->mid + 1 + off;
	}
	return p > 0 ? p : 1;
}

static int64_t gen_qty(struct gen *g)
{
	if (chance(&g->r, 50))
		return 1 + (int64_t)rnd(&g->r, (uint64_t)g->sc->qty_max * 10);
	return 1 + (int64_t)rnd(&g->r, (uint64_t)g->sc->qty_max);
}

/* Breaks one field of @o so that some validation step fails. */
static void gen_invalidate(struct gen *g, struct shmex_order *o)
{
	switch (rnd(&g->r, 22)) {
	case 0: o->side = (uint8_t)(2 + rnd(&g->r, 254)); break;
	case 1: o->type = (uint8_t)(6 + rnd(&g->r, 250)); break;
	case 2: o->tif = (uint8_t)(4 + rnd(&g->r, 252)); break;
	case 3: o->stp = (uint8_t)(4 + rnd(&g->r, 252)); o->flags |= SHMEX_OF_OWNER; break;
	case 4: o->flags |= 1u << (2 + rnd(&g->r, 30)); break;
	case 5: o->type = SHMEX_MARKET; o->tif = chance(&g->r, 500) ? SHMEX_GTC : SHMEX_GTD; break;
	case 6: o->flags |= SHMEX_OF_POST_ONLY; o->tif = SHMEX_IOC + (uint8_t)rnd(&g->r, 2); break;
	case 7: o->flags |= SHMEX_OF_POST_ONLY; o->type = (uint8_t)(1 + rnd(&g->r, 5)); break;
	case 8:
		o->display_qty = 1 + (int64_t)rnd(&g->r, 5);
		o->tif = SHMEX_IOC + (uint8_t)rnd(&g->r, 2);
		break;
	case 9: o->display_qty = 1 + (int64_t)rnd(&g->r, 5); o->type = SHMEX_MARKET; break;
	case 10: o->stp = (uint8_t)(1 + rnd(&g->r, 3)); o->flags &= ~(uint32_t)SHMEX_OF_OWNER; break;
	case 11: /* on a limit, stop-market or take-profit-market order */
		o->max_notional = 1 + (int64_t)rnd(&g->r, 100000);
		o->type = (uint8_t)(rnd(&g->r, 2) ? SHMEX_LIMIT : 3 + 2 * rnd(&g->r, 2));
		break;
	case 12:
		o->max_notional = 1 + (int64_t)rnd(&g->r, 100000);
		o->type = SHMEX_MARKET;
		o->tif = SHMEX_FOK;
		break;
	case 13: o->max_notional = -1 - (int64_t)rnd(&g->r, 100); break;
	case 14: o->qty = -(int64_t)rnd(&g->r, 3); break;
	case 15: o->qty = INT64_MIN; break;
	case 16: o->display_qty = -1 - (int64_t)rnd(&g->r, 3); break;
	case 17: o->price = -(int64_t)rnd(&g->r, 2); break;
	case 18: o->price = INT64_MIN; o->type = (uint8_t)(rnd(&g->r, 3) * 2); break;
	case 19: o->trigger_price = -(int64_t)rnd(&g->r, 2); o->type = (uint8_t)(2 + rnd(&g->r, 4)); break;
	case 20: o->tif = SHMEX_GTD; o->expire_at = g->now - (int64_t)rnd(&g->r, 3); break;
	default: o->tif = SHMEX_GTD; o->expire_at = INT64_MIN; break;
	}
}

static void gen_submit(struct gen *g, const struct model_book *m, int kind, struct cmd *c)
{
	const struct scenario *sc = g->sc;
	struct rng *r = &g->r;
	struct shmex_order *o = &c->o;
	memset(c, 0, sizeof *c);
	c->kind = CMD_SUBMIT;

	if (chance(r, sc->p_dup))
		o->id = chance(r, 700) ? gen_live_id(g, m)
					 : (g->ndead ? g->dead[rnd(r, g->ndead)] : gen_id(g, g->next_id++));
	else if (chance(r, 2))
		o->id = chance(r, 500) ? 0 : UINT64_MAX - rnd(r, 2);
	else
		o->id = gen_id(g, g->next_id++);
	gen_remember(g, o->id);

	o->side = (uint8_t)rnd(r, 2);
	o->qty = gen_qty(g);
	o->price = gen_price(g, o->side);
	/* kind: 0 limit, 1 market, 2 stop / take-profit */
	if (kind == 0) {
		o->type = SHMEX_LIMIT;
	} else if (kind == 1) {
		o->type = SHMEX_MARKET;
		if (chance(r, 500))
			o->price = 0; /* ignored anyway */
	} else {
		o->type = (uint8_t)(SHMEX_STOP_LIMIT + rnd(r, 4));
		int64_t last;
		int64_t base = model_book_last_price(m, &last) && chance(r, 700) ? last : sc->mid;
		o->trigger_price = sat_add(base, (int64_t)rnd(r, 7)) - 3;
		if (o->trigger_price <= 0)
			o->trigger_price = 1;
	}
	const int market = o->type == SHMEX_MARKET || o->type == SHMEX_STOP_MARKET ||
			   o->type == SHMEX_TAKE_PROFIT_MARKET;
	if (market) {
		o->tif = chance(r, sc->p_fok) ? SHMEX_FOK : SHMEX_IOC;
	} else {
		unsigned k = (unsigned)rnd(r, 1000);
		if (k < sc->p_ioc)
			o->tif = SHMEX_IOC;
		else if (k < sc->p_ioc + sc->p_fok)
			o->tif = SHMEX_FOK;
		else if (k < sc->p_ioc + sc->p_fok + sc->p_gtd)
			o->tif = SHMEX_GTD;
		else
			o->tif = SHMEX_GTC;
	}
	if (o->tif == SHMEX_GTD)
		o->expire_at = sat_add(g->now, 1 + (int64_t)rnd(r, 30));
	const int rests = !market && (o->tif == SHMEX_GTC || o->tif == SHMEX_GTD);
	if (rests && o->type == SHMEX_LIMIT && chance(r, sc->p_post))
		o->flags |= SHMEX_OF_POST_ONLY;
	if (rests && chance(r, sc->p_ice))
		o->display_qty = 1 + (int64_t)rnd(r, (uint64_t)(o->qty > 8 ? o->qty / 2 : 4));
	if (chance(r, sc->p_owner)) {
		o->flags |= SHMEX_OF_OWNER;
		o->owner = 1 + rnd(r, sc->owners);
		if (chance(r, 30))
			o->owner = chance(r, 500) ? 0 : UINT64_MAX;
		if (chance(r, sc->p_stp))
			o->stp = (uint8_t)(1 + rnd(r, 3));
	} else if (chance(r, 100)) {
		o->owner = 1 + rnd(r, sc->owners); /* owner without SHMEX_OF_OWNER */
	}
	if (o->type == SHMEX_MARKET && o->tif == SHMEX_IOC && chance(r, sc->p_notional))
		o->max_notional = 1 + (int64_t)rnd(r, (uint64_t)(sc->mid * sc->qty_max * 2));
	if (chance(r, sc->p_extreme)) {
		switch (rnd(r, 7)) {
		case 0: o->price = gen_extreme_price(g); break;
		case 1: o->qty = gen_extreme_qty(g); break;
		case 2: o->price = gen_extreme_price(g); o->qty = gen_extreme_qty(g); break;
		case 3:
			if (o->display_qty)
				o->display_qty = chance(r, 500) ? INT64_MAX : 1;
			else
				o->qty = gen_extreme_qty(g);
			break;
		case 4:
			if (o->trigger_price)
				o->trigger_price = gen_extreme_price(g);
			else
				o->price = gen_extreme_price(g);
			break;
		case 5:
			if (o->max_notional)
				o->max_notional = chance(r, 500) ? INT64_MAX : 1;
			else
				o->qty = gen_extreme_qty(g);
			break;
		default:
			if (o->tif == SHMEX_GTD)
				o->expire_at = INT64_MAX;
			else
				o->price = gen_extreme_price(g);
			break;
		}
	}
	if (chance(r, sc->p_invalid)) {
		gen_invalidate(g, o);
		if (chance(r, 300))
			gen_invalidate(g, o); /* two faults: the first check wins */
	}
	/* A huge iceberg with a small peak would trade peak by peak for ever. */
	if (o->display_qty > 0 && o->qty > (1 << 20) && o->display_qty < o->qty / 4)
		o->display_qty = o->qty / 4;
	struct shmex_order_info info;
	uint64_t slot = gen_ice_slot(g, o->id);
	if (slot < ICE_IDS && model_book_order(m, o->id, &info) != 0)
		g->ice[slot] = o->display_qty > 0;
	else if (slot < ICE_IDS && o->display_qty > 0)
		g->ice[slot] = 1;
}

static void gen_command(struct gen *g, const struct model_book *m, long index, long total,
			struct cmd *c)
{
	const struct scenario *sc = g->sc;
	struct rng *r = &g->r;
	memset(c, 0, sizeof *c);
	uint32_t live = model_book_order_count(m);
	if (live > sc->target_live && chance(r, 400)) {
		c->kind = chance(r, 30) ? CMD_MASS : CMD_CANCEL;
		c->id = c->kind == CMD_MASS ? 1 + rnd(r, sc->owners) : gen_live_id(g, m);
		return;
	}
	unsigned wsum = sc->w_limit + sc->w_market + sc->w_stop + sc->w_cancel + sc->w_reduce +
			sc->w_amend + sc->w_mass + sc->w_advance;
	unsigned k = (unsigned)rnd(r, wsum);
	if (k < sc->w_limit) {
		gen_submit(g, m, 0, c);
		return;
	}
	k -= sc->w_limit;
	if (k < sc->w_market) {
		gen_submit(g, m, 1, c);
		return;
	}
	k -= sc->w_market;
	if (k < sc->w_stop) {
		gen_submit(g, m, 2, c);
		return;
	}
	k -= sc->w_stop;
	if (k < sc->w_cancel) {
		c->kind = CMD_CANCEL;
		c->id = gen_target_id(g, m);
		return;
	}
	k -= sc->w_cancel;
	if (k < sc->w_reduce) {
		c->kind = CMD_REDUCE;
		c->id = gen_target_id(g, m);
		struct shmex_order_info info;
		int64_t rem = model_book_order(m, c->id, &info) == 0 ? info.remaining : sc->qty_max;
		unsigned v = (unsigned)rnd(r, 100);
		if (v < 70)
			c->a = 1 + (int64_t)rnd(r, (uint64_t)(rem < 1000000 ? rem : 1000000));
		else if (v < 85)
			c->a = sat_add(rem - (rem > 1 ? 1 : 0), (int64_t)rnd(r, 3));
		else if (v < 93)
			c->a = -(int64_t)rnd(r, 2);
		else
			c->a = chance(r, 500) ? INT64_MAX : INT64_MIN;
		return;
	}
	k -= sc->w_reduce;
	if (k < sc->w_amend) {
		c->kind = CMD_AMEND;
		c->id = gen_target_id(g, m);
		struct shmex_order_info info;
		int found = model_book_order(m, c->id, &info) == 0;
		int side = found ? info.side : (int)rnd(r, 2);
		int64_t price = found && info.price > 0 ? info.price : gen_price(g, side);
		int64_t rem = found ? info.remaining : gen_qty(g);
		unsigned v = (unsigned)rnd(r, 100);
		c->a = v < 45   ? price
		       : v < 90 ? gen_price(g, side)
		       : v < 95 ? gen_extreme_price(g)
				: -(int64_t)rnd(r, 2);
		v = (unsigned)rnd(r, 100);
		if (v < 30)
			c->b = rem;
		else if (v < 60)
			c->b = rem > 1 ? 1 + (int64_t)rnd(r, (uint64_t)(rem - 1)) : 1;
		else if (v < 90)
			c->b = sat_add(rem, 1 + (int64_t)rnd(r, 20));
		else if (v < 95 && !gen_is_ice(g, c->id))
			c->b = gen_extreme_qty(g);
		else if (v < 95)
			c->b = sat_add(rem, 1 + (int64_t)rnd(r, 1000));
		else
			c->b = -(int64_t)rnd(r, 2);
		return;
	}
	k -= sc->w_amend;
	if (k < sc->w_mass) {
		c->kind = CMD_MASS;
		c->id = rnd(r, sc->owners + 2); /* 0 and owners+1 included */
		if (chance(r, 50))
			c->id = UINT64_MAX;
		return;
	}
	c->kind = CMD_ADVANCE;
	unsigned v = (unsigned)rnd(r, 100);
	if (v < 80)
		g->now = sat_add(g->now, (int64_t)rnd(r, 6));
	else if (v < 95)
		c->a = g->now - 1 - (int64_t)rnd(r, 5); /* goes back: ignored */
	else if (index > total - total / 50 && chance(r, 100))
		g->now = INT64_MAX - (int64_t)rnd(r, 3); /* near the end only: freezes GTD */
	else
		g->now = sat_add(g->now, 10 + (int64_t)rnd(r, 50)); /* many expire at once */
	if (v < 80 || v >= 95)
		c->a = g->now;
}

/* ---- configuration ---------------------------------------------------- */

static long g_total = 5000000;
static uint64_t g_seed = 0x5348584d45584449ull; /* "SHXMEXDI" */
static long g_check_every = 64;
static int g_no_min;
static int g_verbose;

/* For the crash handler: what was running. */
static const char *g_cur_scenario;
static long g_cur_index = -1;
static uint64_t g_cur_seed;
static struct cmd g_cur_cmd;

static void on_crash(int sig)
{
	fprintf(stderr, "\n*** signal %d in scenario %s, seed=0x%016" PRIx64 ", command %ld: ", sig,
		g_cur_scenario ? g_cur_scenario : "?", g_cur_seed, g_cur_index);
	cmd_print(stderr, &g_cur_cmd);
	fprintf(stderr, "*** reproduce: SHMEX_DIFF_SEED=0x%016" PRIx64 " SHMEX_DIFF_FILTER=diff_%s\n",
		(uint64_t)g_seed, g_cur_scenario ? g_cur_scenario : "?");
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t scenario_seed(size_t i)
{
	uint64_t s = g_seed ^ (0x9e3779b97f4a7c15ull * (i + 1));
	return splitmix64(&s);
}

static long scenario_commands(const struct scenario *sc)
{
	long n = g_total / 100 * (long)sc->share + (g_total % 100) * (long)sc->share / 100;
	return n > 0 ? n : 1;
}

#define HISTORY 8192 /* commands kept for shrinking */

static void run_scenario(const struct scenario *sc, size_t idx)
{
	const uint64_t seed = scenario_seed(idx);
	const long total = scenario_commands(sc);
	struct pair p;
	g_book_flags = sc->issue_ids ? SHMEX_BOOK_ISSUE_IDS : 0;
	g_ladder_ticks = sc->ladder_ticks;
	assert_int_equal(pair_open(&p, sc->max_orders, sc->max_levels, sc->max_matches), 0);
	struct gen g;
	memset(&g, 0, sizeof g);
	rng_seed(&g.r, seed);
	g.sc = sc;
	g.next_id = 1;
	g.ice = calloc(ICE_IDS, 1);
	assert_non_null(g.ice);
	struct cmd *hist = calloc(HISTORY, sizeof *hist);
	assert_non_null(hist);

	g_cur_scenario = sc->name;
	g_cur_seed = seed;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t events = 0, trades = 0;
	/* coverage: events by type and reason, trade flags, book size */
	static uint64_t by_kind[12][26];
	uint64_t repl = 0, done_flag = 0, rc_nonzero = 0;
	uint32_t max_live = 0;
	static uint64_t by_rc[6][3 + SHMEX_ERR_LAST - SHMEX_ERR_FIRST];
	uint64_t big_levels = 0;
	memset(by_kind, 0, sizeof by_kind);
	memset(by_rc, 0, sizeof by_rc);
	long fail_at = -1;
	for (long i = 0; i < total; i++) {
		struct cmd *c = &hist[i % HISTORY];
		gen_command(&g, p.model, i, total, c);
		g_cur_index = i;
		g_cur_cmd = *c;
		int64_t rf, rm;
		pair_apply(&p, c, &rf, &rm);
		events += p.em.n;
		for (size_t e = 0; e < p.em.n; e++) {
			const struct shmex_book_event *v = &p.em.v[e];
			trades += v->type == SHMEX_EV_TRADE;
			if (v->type < 12 && v->reason < 26)
				by_kind[v->type][v->reason]++;
			repl += (v->flags & SHMEX_EVF_REPLENISHED) != 0;
			done_flag += (v->flags & SHMEX_EVF_MAKER_DONE) != 0;
		}
		rc_nonzero += rm != 0;
		if (rm > 0)
			by_rc[c->kind][1]++;
		else if (rm == 0)
			by_rc[c->kind][0]++;
		else if (rm >= SHMEX_ERR_FIRST)
			by_rc[c->kind][2 + rm - SHMEX_ERR_FIRST]++;
		if (model_book_order_count(p.model) > max_live)
			max_live = model_book_order_count(p.model);
		int bad = compare_step(&p, c, rf, rm);
		if (!bad && (i % g_check_every == g_check_every - 1 || i == total - 1)) {
			bad = compare_full(&p, 1);
			for (int side = 0; g_verbose && side < 2; side++) {
				uint32_t nl = model_book_depth(p.model, side, p.lm, p.max_orders + 1);
				for (uint32_t l = 0; l < nl; l++)
					big_levels += p.lm[l].qty > (shmex_u128)INT64_MAX;
			}
		}
		if (bad) {
			fprintf(stderr,
				"\n*** book_diff mismatch: scenario %s, base seed 0x%016" PRIx64
				" (scenario seed 0x%016" PRIx64 "), command %ld: %s\n",
				sc->name, g_seed, seed, i, g_why);
			fprintf(stderr, "*** command: ");
			cmd_print(stderr, c);
			fprintf(stderr, "*** returns: fast=%" PRId64 " model=%" PRId64 "\n", rf, rm);
			print_streams(&p);
			fprintf(stderr,
				"*** reproduce: SHMEX_DIFF_SEED=0x%016" PRIx64
				" SHMEX_DIFF_FILTER=diff_%s SHMEX_DIFF_COMMANDS=%ld\n",
				g_seed, sc->name, g_total);
			fail_at = i;
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	long done = fail_at >= 0 ? fail_at + 1 : total;
	printf("[ book_diff ] %-12s seed 0x%016" PRIx64 ": %ld commands, %" PRIu64 " events, %" PRIu64
	       " trades in %.2f s (%.0f commands/s)\n",
	       sc->name, seed, done, events, trades, secs, secs > 0 ? (double)done / secs : 0.0);
	if (g_verbose) {
		printf("    max live %u, replenished %" PRIu64 ", maker done %" PRIu64
		       ", nonzero returns %" PRIu64 "\n   ",
		       max_live, repl, done_flag, rc_nonzero);
		for (unsigned t = 1; t < 12; t++)
			for (unsigned rs = 0; rs < 26; rs++)
				if (by_kind[t][rs])
					printf(" %s/%s=%" PRIu64, event_name(t), reason_name(rs),
					       by_kind[t][rs]);
		static const char *const kinds[] = {"submit", "cancel", "reduce", "amend", "mass",
						    "advance"};
		printf("\n    levels over INT64_MAX seen %" PRIu64 "; returns:", big_levels);
		for (int kd = 0; kd < 6; kd++) {
			printf("\n      %s:", kinds[kd]);
			for (int rs = 0; rs < 3 + SHMEX_ERR_LAST - SHMEX_ERR_FIRST; rs++)
				if (by_rc[kd][rs])
					printf(" %s=%" PRIu64,
					       rs == 0 ? "0" : rs == 1 ? ">0"
							   : shmex_strerror(rs - 2 + SHMEX_ERR_FIRST),
					       by_rc[kd][rs]);
		}
		printf("\n");
	}
	fflush(stdout);
	pair_close(&p);

	if (fail_at >= 0 && !g_no_min) {
		/* Shrink: find a window of the last commands that fails on fresh books. */
		size_t have = (size_t)(fail_at + 1 < HISTORY ? fail_at + 1 : HISTORY);
		struct cmd *w = malloc(sizeof *w * have);
		assert_non_null(w);
		size_t n = 0;
		for (size_t win = 16; ; win *= 4) {
			if (win > have)
				win = have;
			for (size_t k = 0; k < win; k++)
				w[k] = hist[(size_t)(fail_at + 1 - (long)win + (long)k) % HISTORY];
			long bad = replay_sequence(w, win, sc->max_orders, sc->max_levels,
						   sc->max_matches, 0);
			if (bad >= 0) {
				n = (size_t)bad + 1;
				break;
			}
			if (win == have)
				break;
		}
		if (n) {
			shrink(w, &n, sc->max_orders, sc->max_levels, sc->max_matches);
			fprintf(stderr,
				"*** shrunk to %zu commands (fresh book, max_orders=%u max_levels=%u"
				" max_matches=%u):\n",
				n, sc->max_orders, sc->max_levels, sc->max_matches);
			for (size_t k = 0; k < n; k++) {
				fprintf(stderr, "  %zu: ", k);
				cmd_print(stderr, &w[k]);
			}
			size_t k = 0;
			while (k < n && cmd_replay(NULL, &w[k]))
				k++;
			if (k == n) {
				fprintf(stderr, "*** as shmex-replay input:\n");
				for (k = 0; k < n; k++)
					cmd_replay(stderr, &w[k]);
				fprintf(stderr, "P\n");
			}
			replay_sequence(w, n, sc->max_orders, sc->max_levels, sc->max_matches, 1);
		} else {
			fprintf(stderr, "*** could not reproduce from the last %zu commands on a fresh"
					" book\n", have);
		}
		free(w);
	}
	free(hist);
	free(g.ice);
	g_cur_scenario = NULL;
	if (fail_at >= 0)
		fail_msg("book_diff: fast book and model differ (scenario %s, command %ld)", sc->name,
			 fail_at);
}

/* Runs after a diff test, also when cmocka caught a signal in it. */
static int diff_teardown(void **state)
{
	(void)state;
	if (g_cur_scenario) {
		fprintf(stderr, "\n*** crashed in scenario %s (scenario seed 0x%016" PRIx64
				"), command %ld: ",
			g_cur_scenario, g_cur_seed, g_cur_index);
		cmd_print(stderr, &g_cur_cmd);
		fprintf(stderr,
			"*** reproduce: SHMEX_DIFF_SEED=0x%016" PRIx64
			" SHMEX_DIFF_FILTER=diff_%s SHMEX_DIFF_COMMANDS=%ld\n",
			g_seed, g_cur_scenario, g_total);
		g_cur_scenario = NULL;
	}
	return 0;
}

static void diff_narrow(void **state) { (void)state; run_scenario(&scenarios[0], 0); }
static void diff_deep(void **state) { (void)state; run_scenario(&scenarios[1], 1); }
static void diff_tiny(void **state) { (void)state; run_scenario(&scenarios[2], 2); }
static void diff_tiny_levels(void **state) { (void)state; run_scenario(&scenarios[3], 3); }
static void diff_stops(void **state) { (void)state; run_scenario(&scenarios[4], 4); }
static void diff_stp(void **state) { (void)state; run_scenario(&scenarios[5], 5); }
static void diff_extreme(void **state) { (void)state; run_scenario(&scenarios[6], 6); }
static void diff_capped(void **state) { (void)state; run_scenario(&scenarios[7], 7); }
static void diff_issued(void **state) { (void)state; run_scenario(&scenarios[8], 8); }
static void diff_issued_tiny(void **state) { (void)state; run_scenario(&scenarios[9], 9); }
static void diff_ladder_moves(void **state) { (void)state; run_scenario(&scenarios[10], 10); }
static void diff_capped_one(void **state) { (void)state; run_scenario(&scenarios[11], 11); }

/* ---- handwritten scenarios (both books) ------------------------------- */

/* The fields a handwritten expectation names. */
struct want {
	uint16_t type, reason;
	uint64_t id, maker;
	int64_t price, qty, rem;
	uint8_t flags;
};

struct hand {
	struct pair p;
	int which; /* 0 fast, 1 model */
};

static struct shmex_order lim(uint64_t id, int side, int64_t price, int64_t qty)
{
	struct shmex_order o;
	memset(&o, 0, sizeof o);
	o.id = id;
	o.side = (uint8_t)side;
	o.type = SHMEX_LIMIT;
	o.tif = SHMEX_GTC;
	o.price = price;
	o.qty = qty;
	return o;
}

static struct evbuf *hand_events(struct hand *h)
{
	return h->which ? &h->p.em : &h->p.ef;
}

static int hand_submit(struct hand *h, const struct shmex_order *o)
{
	hand_events(h)->n = 0;
	return h->which ? model_book_submit(h->p.model, o) : shmex_book_submit(h->p.fast, o);
}

static int hand_cancel(struct hand *h, uint64_t id)
{
	hand_events(h)->n = 0;
	return h->which ? model_book_cancel(h->p.model, id) : shmex_book_cancel(h->p.fast, id);
}

static int hand_amend(struct hand *h, uint64_t id, int64_t price, int64_t qty)
{
	hand_events(h)->n = 0;
	return h->which ? model_book_amend(h->p.model, id, price, qty)
			: shmex_book_amend(h->p.fast, id, price, qty);
}

static uint32_t hand_advance(struct hand *h, int64_t now)
{
	hand_events(h)->n = 0;
	return h->which ? model_book_advance(h->p.model, now) : shmex_book_advance(h->p.fast, now);
}

static uint32_t hand_depth(struct hand *h, int side, struct shmex_level_info *out, uint32_t max)
{
	return h->which ? model_book_depth(h->p.model, side, out, max)
			: shmex_book_depth(h->p.fast, side, out, max);
}

static void hand_expect(struct hand *h, const struct want *w, size_t n)
{
	const struct evbuf *e = hand_events(h);
	int ok = e->n == n;
	for (size_t i = 0; ok && i < n; i++) {
		const struct shmex_book_event *v = &e->v[i];
		ok = v->type == w[i].type && v->reason == w[i].reason && v->order_id == w[i].id &&
		     v->maker_id == w[i].maker && v->price == w[i].price && v->qty == w[i].qty &&
		     v->remaining == w[i].rem && v->flags == w[i].flags;
	}
	if (!ok) {
		fprintf(stderr, "%s book: unexpected events; got:\n", h->which ? "model" : "fast");
		for (size_t i = 0; i < e->n; i++)
			event_print(stderr, "  ", i, &e->v[i]);
		fprintf(stderr, "wanted:\n");
		for (size_t i = 0; i < n; i++)
			fprintf(stderr,
				"  [%zu] %s reason=%s id=%" PRIu64 " maker=%" PRIu64 " price=%" PRId64
				" qty=%" PRId64 " rem=%" PRId64 " flags=%u\n",
				i, event_name(w[i].type), reason_name(w[i].reason), w[i].id, w[i].maker,
				w[i].price, w[i].qty, w[i].rem, w[i].flags);
		fail();
	}
}

#define EXPECT(h, ...)                                                                   \
	do {                                                                             \
		const struct want w_[] = {__VA_ARGS__};                                  \
		hand_expect((h), w_, sizeof w_ / sizeof w_[0]);                          \
	} while (0)

/* Shorthands: ACC(id, price, qty), RST(id, price, rem), TR(taker, maker, price, qty, rem, flags) */
#define ACC(i, p, q) {SHMEX_EV_ACCEPTED, 0, (i), 0, (p), (q), (q), 0}
#define RST(i, p, q) {SHMEX_EV_RESTED, 0, (i), 0, (p), (q), (q), 0}
#define TR(t, m, p, q, r, f) {SHMEX_EV_TRADE, 0, (t), (m), (p), (q), (r), (f)}
#define END(ty, re, i, p, q) {(ty), (re), (i), 0, (p), (q), 0, 0}
#define DONE SHMEX_EVF_MAKER_DONE
#define REPL SHMEX_EVF_REPLENISHED

static void hand_open(struct hand *h, int which, uint32_t max_orders)
{
	memset(h, 0, sizeof *h);
	assert_int_equal(pair_open(&h->p, max_orders, 0, 0), 0);
	h->which = which;
}

static void hand_level(struct hand *h, int side, uint32_t i, int64_t price, uint32_t orders,
		       int64_t qty)
{
	struct shmex_level_info lv[16];
	uint32_t n = hand_depth(h, side, lv, 16);
	assert_true(i < n);
	assert_int_equal(lv[i].price, price);
	assert_int_equal(lv[i].orders, orders);
	assert_true(lv[i].qty == (shmex_u128)qty);
}

/* The example of shared/formats/replay.md. */
static void hand_replay_example(struct hand *h)
{
	struct shmex_order o = lim(1, SHMEX_SELL, 101, 5);
	assert_int_equal(hand_submit(h, &o), 0);
	EXPECT(h, ACC(1, 101, 5), RST(1, 101, 5));
	o = lim(2, SHMEX_SELL, 101, 3);
	hand_submit(h, &o);
	EXPECT(h, ACC(2, 101, 3), RST(2, 101, 3));
	o = lim(3, SHMEX_BUY, 100, 4);
	hand_submit(h, &o);
	EXPECT(h, ACC(3, 100, 4), RST(3, 100, 4));
	o = lim(4, SHMEX_BUY, 102, 6);
	o.tif = SHMEX_IOC;
	hand_submit(h, &o);
	EXPECT(h, ACC(4, 102, 6), TR(4, 1, 101, 5, 1, DONE), TR(4, 2, 101, 1, 0, 0));
	assert_int_equal(hand_cancel(h, 3), 0);
	EXPECT(h, END(SHMEX_EV_CANCELLED, SHMEX_R_CANCEL_REQUEST, 3, 100, 4));
	struct shmex_level_info lv[4];
	assert_int_equal(hand_depth(h, SHMEX_BUY, lv, 4), 0);
	hand_level(h, SHMEX_SELL, 0, 101, 1, 2);
	assert_int_equal(hand_cancel(h, 3), SHMEX_E_UNKNOWN_ORDER);
	EXPECT(h, {SHMEX_EV_REJECTED, SHMEX_R_UNKNOWN_ORDER, 3, 0, 0, 0, 0, 0});
}

/* Iceberg: replenished peak goes behind the orders that were behind it. */
static void hand_iceberg(struct hand *h)
{
	struct shmex_order o = lim(1, SHMEX_SELL, 101, 10);
	o.display_qty = 3;
	hand_submit(h, &o);
	EXPECT(h, ACC(1, 101, 10), RST(1, 101, 10));
	hand_level(h, SHMEX_SELL, 0, 101, 1, 3);
	o = lim(2, SHMEX_SELL, 101, 2);
	hand_submit(h, &o);
	o = lim(3, SHMEX_BUY, 101, 7);
	o.tif = SHMEX_IOC;
	hand_submit(h, &o);
	EXPECT(h, ACC(3, 101, 7), TR(3, 1, 101, 3, 4, REPL), TR(3, 2, 101, 2, 2, DONE),
	       TR(3, 1, 101, 2, 0, 0));
	hand_level(h, SHMEX_SELL, 0, 101, 1, 1);
	/* an incoming iceberg trades its whole quantity; a FOK counts hidden quantity */
	o = lim(4, SHMEX_BUY, 101, 6);
	o.tif = SHMEX_FOK;
	hand_submit(h, &o);
	EXPECT(h, ACC(4, 101, 6), END(SHMEX_EV_KILLED, SHMEX_R_FOK, 4, 101, 6));
	o = lim(5, SHMEX_BUY, 101, 5);
	o.tif = SHMEX_FOK;
	hand_submit(h, &o);
	EXPECT(h, ACC(5, 101, 5), TR(5, 1, 101, 1, 4, REPL), TR(5, 1, 101, 3, 1, REPL),
	       TR(5, 1, 101, 1, 0, DONE));
}

/* Self-trade prevention, all three modes. */
static void hand_stp(struct hand *h)
{
	struct shmex_order o = lim(1, SHMEX_SELL, 101, 5);
	o.flags = SHMEX_OF_OWNER;
	o.owner = 7;
	hand_submit(h, &o);
	o = lim(2, SHMEX_SELL, 101, 5);
	o.flags = SHMEX_OF_OWNER;
	o.owner = 8;
	hand_submit(h, &o);
	o = lim(3, SHMEX_BUY, 101, 6);
	o.flags = SHMEX_OF_OWNER;
	o.owner = 7;
	o.stp = SHMEX_STP_CANCEL_OLDEST;
	hand_submit(h, &o);
	EXPECT(h, ACC(3, 101, 6), END(SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE, 1, 101, 5),
	       TR(3, 2, 101, 5, 1, DONE), RST(3, 101, 1));
	o = lim(4, SHMEX_SELL, 102, 5);
	o.flags = SHMEX_OF_OWNER;
	o.owner = 9;
	hand_submit(h, &o);
	o = lim(5, SHMEX_BUY, 102, 3);
	o.flags = SHMEX_OF_OWNER;
	o.owner = 9;
	o.stp = SHMEX_STP_CANCEL_NEWEST;
	hand_submit(h, &o);
	EXPECT(h, ACC(5, 102, 3), END(SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE, 5, 102, 3));
	o.id = 6;
	o.stp = SHMEX_STP_CANCEL_BOTH;
	hand_submit(h, &o);
	EXPECT(h, ACC(6, 102, 3), END(SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE, 4, 102, 5),
	       END(SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE, 6, 102, 3));
	/* FOK: a same-owner order under CANCEL_NEWEST stops the walk */
	o = lim(7, SHMEX_SELL, 103, 2);
	hand_submit(h, &o);
	o = lim(8, SHMEX_SELL, 103, 2);
	o.flags = SHMEX_OF_OWNER;
	o.owner = 9;
	hand_submit(h, &o);
	o = lim(9, SHMEX_SELL, 103, 2);
	hand_submit(h, &o);
	o = lim(10, SHMEX_BUY, 103, 3);
	o.flags = SHMEX_OF_OWNER;
	o.owner = 9;
	o.stp = SHMEX_STP_CANCEL_NEWEST;
	o.tif = SHMEX_FOK;
	hand_submit(h, &o);
	EXPECT(h, ACC(10, 103, 3), END(SHMEX_EV_KILLED, SHMEX_R_FOK, 10, 103, 3));
	o.stp = SHMEX_STP_CANCEL_OLDEST;
	hand_submit(h, &o);
	EXPECT(h, ACC(10, 103, 3), TR(10, 7, 103, 2, 1, DONE),
	       END(SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE, 8, 103, 2), TR(10, 9, 103, 1, 0, 0));
}

/* Stops trigger on trades, then run in acceptance order. */
static void hand_stops(struct hand *h)
{
	struct shmex_order o = lim(1, SHMEX_SELL, 101, 5);
	hand_submit(h, &o);
	o = lim(2, SHMEX_SELL, 103, 5);
	hand_submit(h, &o);
	o = lim(3, SHMEX_BUY, 0, 5);
	o.type = SHMEX_STOP_MARKET;
	o.tif = SHMEX_IOC;
	o.trigger_price = 101;
	hand_submit(h, &o);
	EXPECT(h, ACC(3, 0, 5), {SHMEX_EV_PARKED, 0, 3, 0, 0, 5, 5, 0});
	o = lim(4, SHMEX_SELL, 99, 2);
	o.type = SHMEX_TAKE_PROFIT_LIMIT;
	o.trigger_price = 103;
	hand_submit(h, &o);
	EXPECT(h, ACC(4, 99, 2), {SHMEX_EV_PARKED, 0, 4, 0, 99, 2, 2, 0});
	o = lim(5, SHMEX_BUY, 101, 1);
	o.tif = SHMEX_IOC;
	hand_submit(h, &o);
	EXPECT(h, ACC(5, 101, 1), TR(5, 1, 101, 1, 0, 0), {SHMEX_EV_TRIGGERED, 0, 3, 0, 101, 5, 5, 0},
	       TR(3, 1, 101, 4, 1, DONE), TR(3, 2, 103, 1, 0, 0),
	       {SHMEX_EV_TRIGGERED, 0, 4, 0, 103, 2, 2, 0}, RST(4, 99, 2));
}

/* Market budget: a fill is cut to floor(left / price), then KILLED(BUDGET). */
static void hand_budget(struct hand *h)
{
	struct shmex_order o = lim(1, SHMEX_SELL, 10, 5);
	hand_submit(h, &o);
	o = lim(2, SHMEX_SELL, 20, 5);
	hand_submit(h, &o);
	o = lim(3, SHMEX_BUY, 0, 10);
	o.type = SHMEX_MARKET;
	o.tif = SHMEX_IOC;
	o.max_notional = 95;
	hand_submit(h, &o);
	EXPECT(h, ACC(3, 0, 10), TR(3, 1, 10, 5, 5, DONE), TR(3, 2, 20, 2, 3, 0),
	       END(SHMEX_EV_KILLED, SHMEX_R_BUDGET, 3, 0, 3));
}

/* Expiry by (expire_at, acceptance order); amend re-queues or reduces. */
static void hand_expiry_amend(struct hand *h)
{
	struct shmex_order o = lim(1, SHMEX_BUY, 100, 5);
	o.tif = SHMEX_GTD;
	o.expire_at = 5;
	hand_submit(h, &o);
	o.id = 2;
	o.expire_at = 3;
	hand_submit(h, &o);
	o.id = 3;
	o.expire_at = 5;
	hand_submit(h, &o);
	o.id = 4;
	o.expire_at = 9;
	hand_submit(h, &o);
	assert_int_equal(hand_amend(h, 1, 100, 6), 0); /* more: to the back, new acceptance */
	EXPECT(h, {SHMEX_EV_AMENDED, 0, 1, 0, 100, 6, 6, 0}, RST(1, 100, 6));
	assert_int_equal(hand_amend(h, 4, 100, 2), 0); /* less: reduce */
	EXPECT(h, {SHMEX_EV_REDUCED, 0, 4, 0, 100, 3, 2, 0});
	assert_int_equal(hand_advance(h, 5), 3);
	EXPECT(h, END(SHMEX_EV_EXPIRED, SHMEX_R_EXPIRED, 2, 100, 5),
	       END(SHMEX_EV_EXPIRED, SHMEX_R_EXPIRED, 3, 100, 5),
	       END(SHMEX_EV_EXPIRED, SHMEX_R_EXPIRED, 1, 100, 6));
	assert_int_equal(hand_advance(h, 4), 0);
	o.id = 5;
	o.expire_at = 5;
	assert_int_equal(hand_submit(h, &o), SHMEX_E_EXPIRED);
	EXPECT(h, {SHMEX_EV_REJECTED, SHMEX_R_EXPIRED, 5, 0, 100, 5, 0, 0});
}

static int hand_do_reduce(struct hand *h, uint64_t id, int64_t by)
{
	hand_events(h)->n = 0;
	return h->which ? model_book_reduce(h->p.model, id, by)
			: shmex_book_reduce(h->p.fast, id, by);
}

/* Reduce takes hidden quantity first; amend of a parked stop is refused. */
static void hand_reduce(struct hand *h)
{
	struct shmex_order o = lim(1, SHMEX_SELL, 101, 10);
	o.display_qty = 4;
	hand_submit(h, &o);
	assert_int_equal(hand_do_reduce(h, 1, 5), 0);
	EXPECT(h, {SHMEX_EV_REDUCED, 0, 1, 0, 101, 5, 5, 0});
	hand_level(h, SHMEX_SELL, 0, 101, 1, 4);
	assert_int_equal(hand_do_reduce(h, 1, 3), 0);
	EXPECT(h, {SHMEX_EV_REDUCED, 0, 1, 0, 101, 3, 2, 0});
	hand_level(h, SHMEX_SELL, 0, 101, 1, 2);
	assert_int_equal(hand_do_reduce(h, 1, 0), SHMEX_E_BAD_QTY);
	EXPECT(h, {SHMEX_EV_REJECTED, SHMEX_R_BAD_QTY, 1, 0, 0, 0, 0, 0});
	assert_int_equal(hand_do_reduce(h, 1, 2), 0);
	EXPECT(h, END(SHMEX_EV_CANCELLED, SHMEX_R_REDUCED_TO_ZERO, 1, 101, 2));
	o = lim(2, SHMEX_BUY, 90, 3);
	o.type = SHMEX_STOP_LIMIT;
	o.trigger_price = 105;
	hand_submit(h, &o);
	assert_int_equal(hand_amend(h, 2, 91, 3), SHMEX_E_BAD_OPTION);
	EXPECT(h, {SHMEX_EV_REJECTED, SHMEX_R_BAD_OPTION, 2, 0, 91, 3, 0, 0});
	assert_int_equal(hand_do_reduce(h, 2, 1), 0);
	EXPECT(h, {SHMEX_EV_REDUCED, 0, 2, 0, 90, 1, 2, 0});
}

/* Validation: first failing check wins; capacity; post-only. */
static void hand_validation(struct hand *h)
{
	struct shmex_order o = lim(1, SHMEX_SELL, 101, 5);
	hand_submit(h, &o);
	o = lim(1, SHMEX_BUY, 0, 5); /* duplicate beats bad price */
	assert_int_equal(hand_submit(h, &o), SHMEX_E_DUPLICATE);
	EXPECT(h, {SHMEX_EV_REJECTED, SHMEX_R_DUPLICATE_ID, 1, 0, 0, 5, 0, 0});
	o = lim(2, SHMEX_BUY, 0, 0); /* bad option beats bad qty and price */
	o.display_qty = 1;
	o.tif = SHMEX_IOC;
	assert_int_equal(hand_submit(h, &o), SHMEX_E_BAD_OPTION);
	o = lim(2, SHMEX_BUY, 0, 0); /* bad qty beats bad price */
	assert_int_equal(hand_submit(h, &o), SHMEX_E_BAD_QTY);
	o = lim(2, SHMEX_BUY, 101, 5);
	o.flags = SHMEX_OF_POST_ONLY;
	assert_int_equal(hand_submit(h, &o), SHMEX_E_WOULD_CROSS);
	EXPECT(h, {SHMEX_EV_REJECTED, SHMEX_R_POST_ONLY, 2, 0, 101, 5, 0, 0});
	o.price = 100;
	assert_int_equal(hand_submit(h, &o), 0);
	EXPECT(h, ACC(2, 100, 5), RST(2, 100, 5));
	/* the book holds 2 orders: a third, even an IOC, is refused */
	o = lim(3, SHMEX_BUY, 101, 1);
	o.tif = SHMEX_IOC;
	assert_int_equal(hand_submit(h, &o), SHMEX_E_FULL);
	EXPECT(h, {SHMEX_EV_REJECTED, SHMEX_R_BOOK_FULL, 3, 0, 101, 1, 0, 0});
	assert_int_equal(hand_amend(h, 2, 101, 5), SHMEX_E_WOULD_CROSS);
	EXPECT(h, {SHMEX_EV_REJECTED, SHMEX_R_POST_ONLY, 2, 0, 101, 5, 0, 0});
}

static void run_hand_sized(void (*fn)(struct hand *), int which, uint32_t max_orders)
{
	struct hand h;
	hand_open(&h, which, max_orders);
	fn(&h);
	pair_close(&h.p);
}

static void run_hand(void (*fn)(struct hand *), int which)
{
	struct hand h;
	hand_open(&h, which, 64);
	fn(&h);
	pair_close(&h.p);
}

#define HAND_TEST(name)                                                                   \
	static void model_##name(void **state) { (void)state; run_hand(hand_##name, 1); } \
	static void fast_##name(void **state) { (void)state; run_hand(hand_##name, 0); }

HAND_TEST(replay_example)
HAND_TEST(iceberg)
HAND_TEST(stp)
HAND_TEST(stops)
HAND_TEST(budget)
HAND_TEST(expiry_amend)
HAND_TEST(reduce)

static void model_validation(void **state) { (void)state; run_hand_sized(hand_validation, 1, 2); }
static void fast_validation(void **state) { (void)state; run_hand_sized(hand_validation, 0, 2); }

/* ---- main ------------------------------------------------------------- */

static void read_env(void)
{
	const char *s = getenv("SHMEX_DIFF_COMMANDS");
	if (s && *s) {
		long v = strtol(s, NULL, 0);
		if (v > 0)
			g_total = v;
	}
	s = getenv("SHMEX_DIFF_SEED");
	if (s && *s) {
		if (strcmp(s, "random") == 0) {
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			uint64_t x = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 20) ^ (uint64_t)getpid();
			g_seed = splitmix64(&x);
		} else {
			g_seed = strtoull(s, NULL, 0);
		}
	}
	s = getenv("SHMEX_DIFF_CHECK");
	if (s && *s && strtol(s, NULL, 0) > 0)
		g_check_every = strtol(s, NULL, 0);
	s = getenv("SHMEX_DIFF_NO_MIN");
	g_no_min = s && *s && strcmp(s, "0") != 0;
	s = getenv("SHMEX_DIFF_VERBOSE");
	g_verbose = s && *s && strcmp(s, "0") != 0;
	s = getenv("SHMEX_DIFF_FILTER");
	if (s && *s)
		cmocka_set_test_filter(s);
	/* The fast book keys its hash indices with a random seed unless
	 * SHMEX_HASH_SEED is set; tie it to the base seed so that a failure
	 * reproduces with the same memory layout. */
	s = getenv("SHMEX_HASH_SEED");
	if (!s || !*s) {
		char buf[32];
		uint64_t x = g_seed;
		snprintf(buf, sizeof buf, "0x%016" PRIx64, splitmix64(&x));
		setenv("SHMEX_HASH_SEED", buf, 1);
	}
}

int main(void)
{
	read_env();
	printf("[ book_diff ] base seed 0x%016" PRIx64 " (SHMEX_DIFF_SEED), %ld commands"
	       " (SHMEX_DIFF_COMMANDS), hash seed %s (SHMEX_HASH_SEED)\n",
	       g_seed, g_total, getenv("SHMEX_HASH_SEED"));
	fflush(stdout);
	signal(SIGSEGV, on_crash);
	signal(SIGABRT, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(model_replay_example), cmocka_unit_test(fast_replay_example),
		cmocka_unit_test(model_iceberg),        cmocka_unit_test(fast_iceberg),
		cmocka_unit_test(model_stp),            cmocka_unit_test(fast_stp),
		cmocka_unit_test(model_stops),          cmocka_unit_test(fast_stops),
		cmocka_unit_test(model_budget),         cmocka_unit_test(fast_budget),
		cmocka_unit_test(model_expiry_amend),   cmocka_unit_test(fast_expiry_amend),
		cmocka_unit_test(model_reduce),         cmocka_unit_test(fast_reduce),
		cmocka_unit_test(model_validation),     cmocka_unit_test(fast_validation),
		cmocka_unit_test_teardown(diff_narrow, diff_teardown),
		cmocka_unit_test_teardown(diff_deep, diff_teardown),
		cmocka_unit_test_teardown(diff_tiny, diff_teardown),
		cmocka_unit_test_teardown(diff_tiny_levels, diff_teardown),
		cmocka_unit_test_teardown(diff_stops, diff_teardown),
		cmocka_unit_test_teardown(diff_stp, diff_teardown),
		cmocka_unit_test_teardown(diff_extreme, diff_teardown),
		cmocka_unit_test_teardown(diff_capped, diff_teardown),
		cmocka_unit_test_teardown(diff_issued, diff_teardown),
		cmocka_unit_test_teardown(diff_issued_tiny, diff_teardown),
		cmocka_unit_test_teardown(diff_ladder_moves, diff_teardown),
		cmocka_unit_test_teardown(diff_capped_one, diff_teardown),
	};
	return cmocka_run_group_tests_name("book_diff", tests, NULL, NULL);
}
