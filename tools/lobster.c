/*
 * shmex-lobster: turns a LOBSTER message file into the shmex replay format
 * and checks a real struct shmex_book against the LOBSTER orderbook file.
 * Usage and the meaning of every caveat: docs/LOBSTER.md.
 *
 * Three stages, each a loop over flat arrays:
 *  1. load: both files are mapped whole and parsed by hand into integers.
 *     Times become integer nanoseconds; there is no floating point here.
 *  2. convert: a small model book (price-time FIFO per level, the rules of
 *     docs/MATCHING.md for plain limit and IOC orders) turns each message
 *     into replay commands, and resyncs the levels that the file cannot
 *     explain (README caveats 1 and 2) from the snapshots.
 *  3. output: the commands are printed (convert), or run through a
 *     shmex_book whose top levels are compared with every snapshot (check).
 * The model is written apart from src/book/book.c on purpose: check then holds
 * two implementations and the data to the same book.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shmex/book.h"
#include "shmex/fixed.h"

/* Ids of the orders the tool makes up (seeds, resyncs, aggressors) start
 * here; LOBSTER ids are NASDAQ order reference numbers, far below it. */
#define SX_SYNTH_BASE (UINT64_C(1) << 62)
#define SX_NIL UINT32_MAX
#define SX_MAX_LEVELS 1000u  /* LOBSTER offers up to 200 */
#define SX_MAX_MISMATCHES 10u
#define SX_MAX_LINE_SHOWN 96
/* Largest size accepted: sums of a whole file's sizes stay far from
 * overflowing int64. */
#define SX_MAX_QTY (INT64_C(1) << 40)

enum {
	SX_T_ADD = 1,    /* new limit order */
	SX_T_PART = 2,   /* partial cancellation */
	SX_T_DEL = 3,    /* deletion */
	SX_T_EXEC = 4,   /* execution of a visible resting order */
	SX_T_HIDDEN = 5, /* execution of a hidden order */
	SX_T_CROSS = 6,  /* cross / auction trade */
	SX_T_HALT = 7,   /* trading halt indicator */
};

/* Commands of the converted stream. */
enum {
	SX_OP_ADD = 'A',
	SX_OP_REDUCE = 'R',
	SX_OP_CANCEL = 'C',
	SX_OP_PRINT = 'P',
	SX_OP_HIDDEN = 'H', /* comment: a type 5 (or 6) trade, book untouched */
	SX_OP_NOTE = '#',   /* comment: --annotate row marker (id = row, qty = kind) */
};

enum { SX_NOTE_MESSAGE = 0, SX_NOTE_RESYNC = 1, SX_NOTE_HALT = 2 };

static const char *sx_prog = "shmex-lobster";

__attribute__((noreturn, format(printf, 1, 2))) static void sx_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", sx_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *sx_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		sx_fail("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

/* Grows *p to hold at least need elements of size bytes. */
static void sx_reserve(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	size_t ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(*p, ncap * size);
	if (!np)
		sx_fail("out of memory (%zu x %zu bytes)", ncap, size);
	*p = np;
	*cap = ncap;
}

static uint64_t sx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Loading                                                              */

struct sx_text {
	const char *path;
	const char *p;
	size_t len;
	void *map; /* mmap base, or malloc'ed buffer when map_len == 0 */
	size_t map_len;
};

/* The whole file in memory: mmap for regular files, one growing read for
 * pipes ("-" is standard input). */
static void sx_text_load(struct sx_text *t, const char *path)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	t->path = path;
	if (fd < 0)
		sx_fail("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (m != MAP_FAILED) {
			t->map = m;
			t->map_len = (size_t)st.st_size;
			t->p = m;
			t->len = (size_t)st.st_size;
			if (fd != STDIN_FILENO)
				close(fd);
			return;
		}
	}
	size_t cap = 0, len = 0;
	char *buf = NULL;
	for (;;) {
		sx_reserve((void **)&buf, &cap, len + (1u << 20), 1);
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			sx_fail("%s: %s", path, strerror(errno));
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	t->map = buf;
	t->map_len = 0;
	t->p = buf;
	t->len = len;
}

static void sx_text_free(struct sx_text *t)
{
	if (t->map_len)
		munmap(t->map, t->map_len);
	else
		free(t->map);
	t->map = NULL;
}

static size_t sx_count_lines(const struct sx_text *t)
{
	size_t n = 0;
	const char *p = t->p, *end = t->p + t->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		n++;
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

/* A position in a file being parsed, for error messages. */
struct sx_cur {
	const char *p, *end, *line0;
	const char *path;
	size_t line;
};

__attribute__((noreturn, format(printf, 2, 3))) static void sx_bad(const struct sx_cur *c,
								    const char *fmt, ...)
{
	char why[200];
	va_list ap;
	const char *e = c->line0;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	while (e < c->end && *e != '\n' && *e != '\r' && e - c->line0 < SX_MAX_LINE_SHOWN)
		e++;
	sx_fail("%s:%zu: %s: \"%.*s%s\"", c->path, c->line, why, (int)(e - c->line0), c->line0,
		e < c->end && *e != '\n' && *e != '\r' ? "..." : "");
}

/* Consumes what follows field number @p field: a comma, or the end of the
 * line when it is the last one. */
static void sx_sep(struct sx_cur *c, const char *p, int field, int last)
{
	if (!last) {
		if (p < c->end && *p == ',') {
			c->p = p + 1;
			return;
		}
		if (p >= c->end || *p == '\n' || *p == '\r')
			sx_bad(c, "too few fields (%d)", field);
		sx_bad(c, "field %d: unexpected character '%c'", field, *p);
	}
	if (p < c->end && *p == '\r')
		p++;
	if (p < c->end && *p != '\n') {
		if (*p == ',')
			sx_bad(c, "too many fields (more than %d)", field);
		sx_bad(c, "field %d: unexpected character '%c'", field, *p);
	}
	c->p = p < c->end ? p + 1 : p;
	c->line++;
	c->line0 = c->p;
}

static int64_t sx_int(struct sx_cur *c, int field, const char *name, int last)
{
	const char *p = c->p, *digits;
	uint64_t v = 0;
	int neg = 0;

	if (p < c->end && *p == '-') {
		neg = 1;
		p++;
	}
	digits = p;
	while (p < c->end && (unsigned)(*p - '0') < 10) {
		unsigned d = (unsigned)(*p - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			sx_bad(c, "field %d (%s): out of range", field, name);
		v = v * 10 + d;
		p++;
	}
	if (p == digits)
		sx_bad(c, "field %d (%s): not an integer", field, name);
	sx_sep(c, p, field, last);
	return neg ? -(int64_t)v : (int64_t)v;
}

/*
 * Seconds after midnight -> integer nanoseconds. Up to 9 decimals are
 * exact; a longer fraction (the AMZN level-5 sample has one row written as
 * 43002.632812672004, binary floating-point noise) is rounded to the nearest
 * nanosecond and *rounded is set.
 */
static int64_t sx_time(struct sx_cur *c, int *rounded)
{
	const char *p = c->p;
	int64_t s = 0, frac = 0, up = 0;
	int nd = 0, nf = 0;

	while (p < c->end && (unsigned)(*p - '0') < 10) {
		if (++nd > 9)
			sx_bad(c, "field 1 (time): more than 9 digits of seconds");
		s = s * 10 + (*p++ - '0');
	}
	if (nd == 0)
		sx_bad(c, "field 1 (time): not a number");
	if (p < c->end && *p == '.') {
		p++;
		while (p < c->end && (unsigned)(*p - '0') < 10) {
			if (++nf <= 9)
				frac = frac * 10 + (*p - '0');
			else if (nf == 10)
				up = *p >= '5';
			p++;
		}
		if (nf == 0)
			sx_bad(c, "field 1 (time): no digits after the point");
	}
	*rounded = nf > 9;
	for (; nf < 9; nf++)
		frac *= 10;
	sx_sep(c, p, 1, 0);
	return s * 1000000000 + frac + up;
}

struct sx_msg {
	int64_t t_ns;
	int64_t size;
	int64_t price;
	uint64_t id;
	int8_t type;
	int8_t dir; /* 1 buy, -1 sell: the resting order's side for types 4 and 5 */
	uint8_t pad[6];
};

struct sx_input {
	const char *msg_path, *ob_path;
	struct sx_msg *msg;
	size_t rows;
	int64_t *ob;     /* rows x 4 x levels: ask px, ask qty, bid px, bid qty per level */
	uint32_t levels; /* N, from the orderbook's column count */
	uint64_t by_type[8];
	uint64_t times_rounded; /* times with more than 9 decimals */
};

static void sx_load_messages(struct sx_input *in, const struct sx_text *t)
{
	size_t rows = sx_count_lines(t), k = 0;
	struct sx_cur c = {t->p, t->p + t->len, t->p, t->path, 1};
	int64_t last_t = INT64_MIN;

	in->msg = sx_calloc(rows, sizeof *in->msg);
	while (c.p < c.end) {
		struct sx_cur at = c;
		struct sx_msg *m = &in->msg[k];
		if (*c.p == '\n' || *c.p == '\r')
			sx_bad(&at, "empty line");
		int rounded;
		m->t_ns = sx_time(&c, &rounded);
		in->times_rounded += (uint64_t)rounded;
		int64_t type = sx_int(&c, 2, "type", 0);
		int64_t id = sx_int(&c, 3, "order id", 0);
		int64_t size = sx_int(&c, 4, "size", 0);
		int64_t price = sx_int(&c, 5, "price", 0);
		int64_t dir = sx_int(&c, 6, "direction", 1);

		if (type < 1 || type > 7)
			sx_bad(&at, "unknown message type %" PRId64, type);
		if (dir != 1 && dir != -1)
			sx_bad(&at, "direction must be 1 or -1");
		if (m->t_ns < last_t)
			sx_bad(&at, "time goes backwards");
		if (type <= SX_T_HIDDEN && size <= 0)
			sx_bad(&at, "size must be positive");
		if (size > SX_MAX_QTY)
			sx_bad(&at, "size out of range (at most 2^40)");
		if (type <= SX_T_CROSS && price <= 0)
			sx_bad(&at, "price must be positive");
		if (type <= SX_T_EXEC && (id <= 0 || (uint64_t)id >= SX_SYNTH_BASE))
			sx_bad(&at, "order id out of range (1 to 2^62-1)");
		last_t = m->t_ns;
		m->type = (int8_t)type;
		m->id = (uint64_t)id;
		m->size = size;
		m->price = price;
		m->dir = (int8_t)dir;
		in->by_type[type]++;
		k++;
	}
	in->rows = k;
}

static inline const int64_t *sx_row(const struct sx_input *in, size_t k)
{
	return in->ob + k * 4 * in->levels;
}

static inline int64_t sx_snap_px(const int64_t *row, int side, uint32_t i)
{
	return row[4 * i + (side == SHMEX_SELL ? 0 : 2)];
}

static inline int64_t sx_snap_qty(const int64_t *row, int side, uint32_t i)
{
	return row[4 * i + (side == SHMEX_SELL ? 1 : 3)];
}

/* Occupied levels of a (validated) row: they come first, filler after. */
static uint32_t sx_snap_count(const struct sx_input *in, const int64_t *row, int side)
{
	uint32_t n = 0;

	while (n < in->levels && sx_snap_qty(row, side, n) > 0)
		n++;
	return n;
}

static int sx_snap_has(const struct sx_input *in, const int64_t *row, int side, int64_t px)
{
	for (uint32_t i = 0; i < in->levels && sx_snap_qty(row, side, i) > 0; i++)
		if (sx_snap_px(row, side, i) == px)
			return 1;
	return 0;
}

static void sx_check_row(const struct sx_input *in, const struct sx_cur *at, const int64_t *row)
{
	static const char *const name[2] = {"bid", "ask"};

	for (int side = 0; side < 2; side++) {
		int ended = 0;
		for (uint32_t i = 0; i < in->levels; i++) {
			int64_t px = sx_snap_px(row, side, i), q = sx_snap_qty(row, side, i);
			if (q < 0 || q > SX_MAX_QTY)
				sx_bad(at, "%s size %u out of range (0 to 2^40)", name[side], i + 1);
			if (q == 0) { /* filler: ask 9999999999 / bid -9999999999 */
				ended = 1;
				continue;
			}
			if (ended)
				sx_bad(at, "%s level %u follows an empty level", name[side], i + 1);
			if (px <= 0)
				sx_bad(at, "%s price %u must be positive", name[side], i + 1);
			if (i > 0 && (side == SHMEX_SELL ? px <= sx_snap_px(row, side, i - 1)
							 : px >= sx_snap_px(row, side, i - 1)))
				sx_bad(at, "%s prices out of order at level %u", name[side], i + 1);
		}
	}
	if (sx_snap_qty(row, SHMEX_BUY, 0) > 0 && sx_snap_qty(row, SHMEX_SELL, 0) > 0 &&
	    sx_snap_px(row, SHMEX_BUY, 0) >= sx_snap_px(row, SHMEX_SELL, 0))
		sx_bad(at, "crossed or locked book");
}

static void sx_load_orderbook(struct sx_input *in, const struct sx_text *t)
{
	static const char *const colname[4] = {"ask price", "ask size", "bid price", "bid size"};
	struct sx_cur c = {t->p, t->p + t->len, t->p, t->path, 1};
	const char *nl = memchr(t->p, '\n', t->len);
	const char *e1 = nl ? nl : t->p + t->len;
	size_t cols = 1, rows, k = 0;

	if (t->len == 0)
		sx_fail("%s: empty file", t->path);
	for (const char *p = t->p; p < e1; p++)
		cols += *p == ',';
	if (cols % 4 != 0 || cols / 4 > SX_MAX_LEVELS)
		sx_bad(&c, "%zu columns: expected 4 per level, at most %u levels", cols,
		       SX_MAX_LEVELS);
	in->levels = (uint32_t)(cols / 4);
	rows = sx_count_lines(t);
	in->ob = sx_calloc(rows * cols, sizeof *in->ob);
	while (c.p < c.end) {
		struct sx_cur at = c;
		int64_t *row = in->ob + k * cols;
		if (*c.p == '\n' || *c.p == '\r')
			sx_bad(&at, "empty line");
		for (size_t j = 0; j < cols; j++)
			row[j] = sx_int(&c, (int)j + 1, colname[j % 4], j + 1 == cols);
		sx_check_row(in, &at, row);
		k++;
	}
	if (k != in->rows)
		sx_fail("%s has %zu rows but %s has %zu: they must match line for line", t->path, k,
			in->msg_path, in->rows);
}

/* ------------------------------------------------------------------ */
/* Model book: what the converted stream leaves on a correct book.     */

struct sx_ord {
	uint64_t id;
	int64_t price;
	int64_t qty;
	uint32_t prev, next; /* FIFO at its level; next links free slots */
	uint8_t side;
	uint8_t synth;  /* liquidity no message names: seeds, resync adds */
	uint8_t mapped; /* an order of the file, found by id in the map */
	uint8_t pad[5];
};

struct sx_lvl {
	int64_t key; /* ask: price, bid: -price; ascending key = better first */
	int64_t total;
	uint32_t head, tail;
};

struct sx_side {
	struct sx_lvl *lv; /* sorted by key: lv[0] is the best level */
	size_t n, cap;
};

/* Every id the file submitted -> its order slot, or SX_NIL once it left
 * the model (so "never seen" and "gone" can be told apart). */
struct sx_map {
	uint64_t *key;
	uint32_t *val;
	size_t mask, used;
};

struct sx_model {
	struct sx_ord *o;
	size_t no, cap;
	uint32_t free;
	size_t live, max_live;
	int64_t traded; /* lots matched by the model (aggressors) */
	struct sx_map ids;
	struct sx_side s[2];
};

static inline int64_t sx_key(int side, int64_t price)
{
	return side == SHMEX_BUY ? -price : price;
}

static inline uint64_t sx_hash(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return x;
}

static uint32_t *sx_map_get(struct sx_map *mp, uint64_t id, int create)
{
	if (create && (mp->used + 1) * 2 > mp->mask + 1) {
		struct sx_map old = *mp;
		size_t size = old.mask ? (old.mask + 1) * 2 : 1024;
		mp->key = sx_calloc(size, sizeof *mp->key);
		mp->val = sx_calloc(size, sizeof *mp->val);
		mp->mask = size - 1;
		for (size_t i = 0; old.mask && i <= old.mask; i++) {
			if (!old.key[i])
				continue;
			size_t j = sx_hash(old.key[i]) & mp->mask;
			while (mp->key[j])
				j = (j + 1) & mp->mask;
			mp->key[j] = old.key[i];
			mp->val[j] = old.val[i];
		}
		free(old.key);
		free(old.val);
	}
	if (!mp->mask)
		return NULL;
	for (size_t j = sx_hash(id) & mp->mask;; j = (j + 1) & mp->mask) {
		if (mp->key[j] == id)
			return &mp->val[j];
		if (!mp->key[j]) {
			if (!create)
				return NULL;
			mp->key[j] = id;
			mp->val[j] = SX_NIL;
			mp->used++;
			return &mp->val[j];
		}
	}
}

/* First level whose key is >= @p key. */
static size_t sx_lower(const struct sx_side *bs, int64_t key)
{
	size_t lo = 0, hi = bs->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (bs->lv[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct sx_lvl *sx_level(struct sx_model *m, int side, int64_t price)
{
	struct sx_side *bs = &m->s[side];
	int64_t key = sx_key(side, price);
	size_t i = sx_lower(bs, key);

	return i < bs->n && bs->lv[i].key == key ? &bs->lv[i] : NULL;
}

static uint32_t sx_ord_alloc(struct sx_model *m)
{
	uint32_t i;

	if (m->free != SX_NIL) {
		i = m->free;
		m->free = m->o[i].next;
	} else {
		if (m->no >= SX_NIL - 1)
			sx_fail("too many orders");
		sx_reserve((void **)&m->o, &m->cap, m->no + 1, sizeof *m->o);
		i = (uint32_t)m->no++;
	}
	if (++m->live > m->max_live)
		m->max_live = m->live;
	return i;
}

/* Puts order @p oi at the back of its level's queue. */
static void sx_rest(struct sx_model *m, uint32_t oi)
{
	struct sx_ord *o = &m->o[oi];
	struct sx_side *bs = &m->s[o->side];
	int64_t key = sx_key(o->side, o->price);
	size_t i = sx_lower(bs, key);

	if (i == bs->n || bs->lv[i].key != key) {
		sx_reserve((void **)&bs->lv, &bs->cap, bs->n + 1, sizeof *bs->lv);
		memmove(&bs->lv[i + 1], &bs->lv[i], (bs->n - i) * sizeof *bs->lv);
		bs->lv[i] = (struct sx_lvl){key, 0, SX_NIL, SX_NIL};
		bs->n++;
	}
	struct sx_lvl *l = &bs->lv[i];
	o->next = SX_NIL;
	o->prev = l->tail;
	if (l->tail != SX_NIL)
		m->o[l->tail].next = oi;
	else
		l->head = oi;
	l->tail = oi;
	l->total += o->qty;
}

/* Takes order @p oi off the book and frees its slot. */
static void sx_remove(struct sx_model *m, uint32_t oi)
{
	struct sx_ord *o = &m->o[oi];
	struct sx_side *bs = &m->s[o->side];
	int64_t key = sx_key(o->side, o->price);
	size_t i = sx_lower(bs, key);
	struct sx_lvl *l = &bs->lv[i];

	if (o->prev != SX_NIL)
		m->o[o->prev].next = o->next;
	else
		l->head = o->next;
	if (o->next != SX_NIL)
		m->o[o->next].prev = o->prev;
	else
		l->tail = o->prev;
	l->total -= o->qty;
	if (l->head == SX_NIL) {
		memmove(&bs->lv[i], &bs->lv[i + 1], (bs->n - i - 1) * sizeof *bs->lv);
		bs->n--;
	}
	if (o->mapped)
		*sx_map_get(&m->ids, o->id, 0) = SX_NIL;
	o->next = m->free;
	m->free = oi;
	m->live--;
}

static void sx_cut(struct sx_model *m, uint32_t oi, int64_t by)
{
	struct sx_ord *o = &m->o[oi];

	if (by >= o->qty) {
		sx_remove(m, oi);
		return;
	}
	o->qty -= by;
	m->s[o->side].lv[sx_lower(&m->s[o->side], sx_key(o->side, o->price))].total -= by;
}

/* Matches an incoming limit order against the opposite side, best price
 * first and oldest first within a price. @return the quantity left. */
static int64_t sx_match(struct sx_model *m, int side, int64_t price, int64_t qty)
{
	struct sx_side *opp = &m->s[side ^ 1];

	while (qty > 0 && opp->n > 0) {
		struct sx_lvl *l = &opp->lv[0];
		int64_t best = side == SHMEX_BUY ? l->key : -l->key;
		if (side == SHMEX_BUY ? best > price : best < price)
			break;
		uint32_t oi = l->head;
		int64_t fill = m->o[oi].qty < qty ? m->o[oi].qty : qty;
		qty -= fill;
		m->traded += fill;
		sx_cut(m, oi, fill);
	}
	return qty;
}

/* ------------------------------------------------------------------ */
/* Conversion                                                           */

struct sx_cmd {
	uint64_t id;
	int64_t price;
	int64_t qty;
	uint8_t op;
	uint8_t side;
	uint8_t ioc;
	uint8_t pad[5];
};

struct sx_opts {
	int aggressors;
	int annotate;
	int progress;
	int json;
	int quiet;
	uint64_t print_every;
	const char *out_path;
};

struct sx_stats {
	uint64_t seeded;              /* levels seeded from row 0 */
	uint64_t unknown[8];          /* by type: ids never submitted in the file (2b) */
	uint64_t gone[8];             /* by type: ids submitted but no longer in the model */
	uint64_t short_orders;        /* named order held less than the message removed */
	uint64_t stale_deletes;       /* deletion removed less than the order held (2c) */
	uint64_t moved;               /* named order's side or price differs from the message */
	uint64_t dup_ids;             /* type 1 reusing a live id */
	int64_t absorbed;             /* lots taken from named orders by level granularity */
	int64_t shortfall;            /* lots a level did not have when a message removed them */
	uint64_t resync_rows;         /* rows needing at least one resync */
	uint64_t enter_add, enter_cut; /* levels that entered the window, size fixed (2a, 2c) */
	uint64_t phantom;             /* levels in the window the snapshot lacks (2c) */
	uint64_t missing;             /* levels visible in both rows but absent here: added */
	uint64_t unexplained;         /* levels visible in both rows whose size differs: left */
	uint64_t unexplained_rows;
	uint64_t runs, run_rows;      /* aggressor runs and the rows inside them not compared */
	int64_t run_qty;              /* visible lots executed in runs */
	int64_t run_short;            /* lots aggressors could not fill on the model */
	uint64_t hidden;              /* type 5 messages */
	int64_t hidden_qty;
	uint64_t synthetic_lines;     /* A/R/C lines on synthetic ids or from resyncs */
};

enum { SX_FIX_ADD, SX_FIX_CUT };

struct sx_fix {
	int64_t price;
	int64_t qty;
	int side, kind;
};

struct sx_conv {
	const struct sx_input *in;
	const struct sx_opts *opt;
	struct sx_model m;
	struct sx_cmd *cmd;
	size_t ncmd, cap;
	size_t *row_end;  /* commands of row k: [row_end[k-1], row_end[k]) */
	uint8_t *row_cmp; /* 1: the book is resynced and compared after row k */
	uint64_t next_synth;
	uint64_t counts[128]; /* commands by op */
	struct sx_fix *fix;   /* sx_resync's work list */
	size_t fix_cap;
	struct sx_stats st;
	int in_resync;
};

static void sx_emit(struct sx_conv *cv, int op, uint64_t id, int side, int64_t price, int64_t qty,
		    int ioc)
{
	sx_reserve((void **)&cv->cmd, &cv->cap, cv->ncmd + 1, sizeof *cv->cmd);
	cv->cmd[cv->ncmd++] = (struct sx_cmd){id, price, qty, (uint8_t)op, (uint8_t)side,
					      (uint8_t)ioc, {0}};
	cv->counts[op & 127]++;
	if ((op == SX_OP_ADD || op == SX_OP_REDUCE || op == SX_OP_CANCEL) &&
	    (cv->in_resync || id >= SX_SYNTH_BASE))
		cv->st.synthetic_lines++;
}

/* A new order: emitted, matched on the model, the rest put on the model.
 * @return the quantity left unfilled. */
static int64_t sx_add(struct sx_conv *cv, uint64_t id, int side, int64_t price, int64_t qty,
		      int ioc, int synth)
{
	struct sx_model *m = &cv->m;
	int64_t left;

	sx_emit(cv, SX_OP_ADD, id, side, price, qty, ioc);
	left = sx_match(m, side, price, qty);
	if (!synth)
		sx_map_get(&m->ids, id, 1);
	if (left > 0 && !ioc) {
		uint32_t oi = sx_ord_alloc(m);
		m->o[oi] = (struct sx_ord){id, price, left, SX_NIL, SX_NIL, (uint8_t)side,
					   (uint8_t)synth, (uint8_t)!synth, {0}};
		sx_rest(m, oi);
		if (!synth)
			*sx_map_get(&m->ids, id, 0) = oi;
	}
	return left;
}

static uint64_t sx_synth_id(struct sx_conv *cv)
{
	return cv->next_synth++;
}

static void sx_reduce(struct sx_conv *cv, uint32_t oi, int64_t by)
{
	sx_emit(cv, SX_OP_REDUCE, cv->m.o[oi].id, cv->m.o[oi].side, 0, by, 0);
	sx_cut(&cv->m, oi, by);
}

static void sx_cancel(struct sx_conv *cv, uint32_t oi)
{
	sx_emit(cv, SX_OP_CANCEL, cv->m.o[oi].id, cv->m.o[oi].side, 0, 0, 0);
	sx_remove(&cv->m, oi);
}

/*
 * Removes @p q lots from the level (side, price) without knowing which
 * orders they were (README caveat 2b): first liquidity no message names
 * (seeds, resync adds), front of the queue first, as pre-open orders are
 * the oldest; then named orders, front first. @return the lots the level
 * did not have.
 */
static int64_t sx_take(struct sx_conv *cv, int side, int64_t price, int64_t q)
{
	for (int pass = 0; pass < 2 && q > 0; pass++) {
		struct sx_lvl *l = sx_level(&cv->m, side, price);
		uint32_t i = l ? l->head : SX_NIL;
		while (i != SX_NIL && q > 0) {
			struct sx_ord *o = &cv->m.o[i];
			uint32_t next = o->next;
			if (pass == 1 || o->synth) {
				int64_t t = o->qty < q ? o->qty : q;
				if (!o->synth)
					cv->st.absorbed += t;
				if (t == o->qty)
					sx_cancel(cv, i);
				else
					sx_reduce(cv, i, t);
				q -= t;
			}
			i = next;
		}
	}
	return q;
}

static void sx_note(struct sx_conv *cv, size_t row, int kind)
{
	if (cv->opt->annotate)
		sx_emit(cv, SX_OP_NOTE, row, 0, 0, kind, 0);
}

/* Types 2, 3 and 4 (4 only in passive mode): removals from a named order. */
static void sx_removal(struct sx_conv *cv, const struct sx_msg *mg)
{
	struct sx_model *m = &cv->m;
	int side = mg->dir == 1 ? SHMEX_BUY : SHMEX_SELL;
	uint32_t *slot = sx_map_get(&m->ids, mg->id, 0);
	int64_t rest = mg->size;

	if (!slot || *slot == SX_NIL) {
		if (!slot)
			cv->st.unknown[mg->type]++;
		else
			cv->st.gone[mg->type]++;
	} else {
		uint32_t oi = *slot;
		int64_t have = m->o[oi].qty;
		if (m->o[oi].side != side || m->o[oi].price != mg->price)
			cv->st.moved++;
		if (mg->type == SX_T_DEL && have > mg->size) {
			/* stale remainder (2c): remove what the file says, keep the rest */
			cv->st.stale_deletes++;
			sx_reduce(cv, oi, mg->size);
			return;
		}
		if (have >= mg->size) {
			if (mg->type == SX_T_DEL)
				sx_cancel(cv, oi);
			else
				sx_reduce(cv, oi, mg->size);
			return;
		}
		cv->st.short_orders++;
		sx_cancel(cv, oi);
		rest -= have;
	}
	cv->st.shortfall += sx_take(cv, side, mg->price, rest);
}

static void sx_message(struct sx_conv *cv, size_t k)
{
	const struct sx_msg *mg = &cv->in->msg[k];
	int side = mg->dir == 1 ? SHMEX_BUY : SHMEX_SELL;
	uint32_t *slot;

	switch (mg->type) {
	case SX_T_ADD:
		slot = sx_map_get(&cv->m.ids, mg->id, 0);
		if (slot && *slot != SX_NIL) {
			cv->st.dup_ids++;
			sx_add(cv, sx_synth_id(cv), side, mg->price, mg->size, 0, 0);
		} else {
			sx_add(cv, mg->id, side, mg->price, mg->size, 0, 0);
		}
		break;
	case SX_T_PART:
	case SX_T_DEL:
	case SX_T_EXEC:
		sx_removal(cv, mg);
		break;
	case SX_T_HIDDEN:
		cv->st.hidden++;
		cv->st.hidden_qty += mg->size;
		sx_emit(cv, SX_OP_HIDDEN, 0, side, mg->price, mg->size, 0);
		break;
	case SX_T_CROSS:
		sx_emit(cv, SX_OP_HIDDEN, 1, side, mg->price, mg->size, 0);
		break;
	default: /* halt: the book row repeats the previous one */
		sx_note(cv, k, SX_NOTE_HALT);
		break;
	}
}

/*
 * Brings the model's visible window in line with snapshot @p row, where the
 * file cannot explain the difference; @p prev is the last row compared.
 * The window of a side is its occupied snapshot levels, or the whole side
 * when the snapshot shows fewer than N. Resynced (synthetic A, or R/C taken
 * as by sx_take):
 *  - a level that was not in row @p prev (it entered from deeper, 2a) and
 *    whose size differs: add the missing lots, or cut stale ones (2c);
 *  - a level of the model inside the window that neither row shows: its
 *    orders left unseen while it was out of the window (2c);
 *  - a snapshot level the model lacks although row @p prev showed it
 *    (should not happen; counted as missing).
 * A level visible in both rows whose size differs is left alone and counted
 * as unexplained: each message explains such a level exactly, so it is a
 * real mismatch, which check reports.
 */
static void sx_resync(struct sx_conv *cv, size_t prev, size_t row)
{
	const struct sx_input *in = cv->in;
	const int64_t *cur = sx_row(in, row), *old = sx_row(in, prev);
	size_t nfix = 0;
	uint64_t unexplained = cv->st.unexplained;

	for (int side = 0; side < 2; side++) {
		struct sx_side *bs = &cv->m.s[side];
		uint32_t n = sx_snap_count(in, cur, side), si = 0;
		int64_t limit = n == in->levels ? sx_key(side, sx_snap_px(cur, side, n - 1)) : INT64_MAX;
		size_t mi = 0;
		for (;;) {
			/* room for this step's fix; cv->fix may move */
			sx_reserve((void **)&cv->fix, &cv->fix_cap, nfix + 1, sizeof *cv->fix);
			struct sx_fix *fix = cv->fix;
			int have_m = mi < bs->n && bs->lv[mi].key <= limit;
			int have_s = si < n;
			if (!have_m && !have_s)
				break;
			int64_t mk = have_m ? bs->lv[mi].key : 0;
			int64_t spx = have_s ? sx_snap_px(cur, side, si) : 0;
			int64_t sk = sx_key(side, spx);
			if (have_m && (!have_s || mk < sk)) {
				int64_t px = sx_key(side, mk);
				if (!sx_snap_has(in, old, side, px)) {
					fix[nfix++] = (struct sx_fix){px, bs->lv[mi].total, side, SX_FIX_CUT};
					cv->st.phantom++;
				} else {
					cv->st.unexplained++;
				}
				mi++;
				continue;
			}
			int64_t q = sx_snap_qty(cur, side, si);
			int64_t total = have_m && mk == sk ? bs->lv[mi].total : 0;
			int seen = sx_snap_has(in, old, side, spx);
			if (total == 0) {
				fix[nfix++] = (struct sx_fix){spx, q, side, SX_FIX_ADD};
				if (seen)
					cv->st.missing++;
				else
					cv->st.enter_add++;
			} else if (total != q && seen) {
				cv->st.unexplained++;
			} else if (total < q) {
				fix[nfix++] = (struct sx_fix){spx, q - total, side, SX_FIX_ADD};
				cv->st.enter_add++;
			} else if (total > q) {
				fix[nfix++] = (struct sx_fix){spx, total - q, side, SX_FIX_CUT};
				cv->st.enter_cut++;
			}
			if (have_m && mk == sk)
				mi++;
			si++;
		}
	}
	if (cv->st.unexplained != unexplained)
		cv->st.unexplained_rows++;
	if (!nfix)
		return;
	cv->st.resync_rows++;
	sx_note(cv, row, SX_NOTE_RESYNC);
	cv->in_resync = 1;
	/* Cuts first: an add never meets a stale level that would cross it. */
	struct sx_fix *fix = cv->fix;
	for (size_t i = 0; i < nfix; i++)
		if (fix[i].kind == SX_FIX_CUT)
			cv->st.shortfall += sx_take(cv, fix[i].side, fix[i].price, fix[i].qty);
	for (size_t i = 0; i < nfix; i++)
		if (fix[i].kind == SX_FIX_ADD)
			sx_add(cv, sx_synth_id(cv), fix[i].side, fix[i].price, fix[i].qty, 0, 1);
	cv->in_resync = 0;
}

static void sx_progress(const struct sx_opts *opt, const char *what, size_t k, size_t rows)
{
	if (opt->progress && rows >= 10 && k % (rows / 10) == 0)
		fprintf(stderr, "%s: %s: %zu/%zu rows\n", sx_prog, what, k, rows);
}

/*
 * An aggressor run (--aggressors): rows k.. of type 4/5 with one time and
 * one direction. Replayed as one IOC order that the book matches: opposite
 * side, the visible executed total, the worst executed price as limit.
 * @return the last row of the run.
 */
static size_t sx_run(struct sx_conv *cv, size_t k)
{
	const struct sx_msg *msg = cv->in->msg;
	size_t e = k;
	int64_t qty = 0, worst = 0;

	while (e + 1 < cv->in->rows && (msg[e + 1].type == SX_T_EXEC || msg[e + 1].type == SX_T_HIDDEN) &&
	       msg[e + 1].t_ns == msg[k].t_ns && msg[e + 1].dir == msg[k].dir)
		e++;
	for (size_t j = k; j <= e; j++)
		if (msg[j].type == SX_T_EXEC) {
			qty += msg[j].size;
			if (!worst || (msg[k].dir == 1 ? msg[j].price < worst : msg[j].price > worst))
				worst = msg[j].price;
		}
	for (size_t j = k; j <= e; j++) {
		sx_note(cv, j, SX_NOTE_MESSAGE);
		if (msg[j].type == SX_T_HIDDEN)
			sx_message(cv, j);
		if (j < e) {
			cv->row_end[j] = cv->ncmd;
			cv->row_cmp[j] = qty == 0; /* only hidden trades: nothing changes */
			cv->st.run_rows += qty != 0;
		}
	}
	if (qty > 0) {
		int side = msg[k].dir == 1 ? SHMEX_SELL : SHMEX_BUY;
		cv->st.runs++;
		cv->st.run_qty += qty;
		cv->st.run_short += sx_add(cv, sx_synth_id(cv), side, worst, qty, 1, 1);
	}
	return e;
}

static void sx_convert(struct sx_conv *cv, const struct sx_input *in, const struct sx_opts *opt)
{
	const int64_t *row0 = sx_row(in, 0);
	size_t prev = 0;

	cv->in = in;
	cv->opt = opt;
	cv->m.free = SX_NIL;
	cv->next_synth = SX_SYNTH_BASE;
	cv->row_end = sx_calloc(in->rows, sizeof *cv->row_end);
	cv->row_cmp = sx_calloc(in->rows, 1);
	sx_reserve((void **)&cv->cmd, &cv->cap, in->rows * 2 + 64, sizeof *cv->cmd);

	/* Caveat 1: row 0 is the book after message 0; its orders are unknown. */
	sx_note(cv, 0, SX_NOTE_MESSAGE);
	for (int side = 1; side >= 0; side--)
		for (uint32_t i = 0; i < sx_snap_count(in, row0, side); i++) {
			sx_add(cv, sx_synth_id(cv), side, sx_snap_px(row0, side, i),
			       sx_snap_qty(row0, side, i), 0, 1);
			cv->st.seeded++;
		}
	cv->row_end[0] = cv->ncmd;
	cv->row_cmp[0] = 1;

	for (size_t k = 1; k < in->rows; k++) {
		const struct sx_msg *mg = &in->msg[k];
		sx_progress(opt, "convert", k, in->rows);
		if (opt->aggressors && (mg->type == SX_T_EXEC || mg->type == SX_T_HIDDEN)) {
			k = sx_run(cv, k);
		} else {
			sx_note(cv, k, SX_NOTE_MESSAGE);
			sx_message(cv, k);
		}
		sx_resync(cv, prev, k);
		if (opt->print_every && k / opt->print_every != prev / opt->print_every)
			sx_emit(cv, SX_OP_PRINT, 0, 0, 0, 0, 0);
		cv->row_end[k] = cv->ncmd;
		cv->row_cmp[k] = 1;
		prev = k;
	}
}

/* ------------------------------------------------------------------ */
/* Text output                                                          */

#define SX_OUT_CAP (1u << 20)

struct sx_out {
	char *buf;
	size_t n;
	int fd;
	const char *path;
};

static void sx_flush(struct sx_out *o)
{
	size_t off = 0;

	while (off < o->n) {
		ssize_t w = write(o->fd, o->buf + off, o->n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			sx_fail("%s: %s", o->path, strerror(errno));
		off += (size_t)w;
	}
	o->n = 0;
}


static inline char *sx_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return shmex_u64_put(p, 0 - (uint64_t)v);
	}
	return shmex_u64_put(p, (uint64_t)v);
}

static char *sx_u128(char *p, shmex_u128 v)
{
	char tmp[40];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *sx_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* "34200.015105074" */
static char *sx_secs(char *p, int64_t ns)
{
	int64_t frac = ns % 1000000000;

	p = sx_i64(p, ns / 1000000000);
	*p++ = '.';
	for (int64_t d = 100000000; d; d /= 10)
		*p++ = (char)('0' + frac / d % 10);
	return p;
}

static void sx_write_text(const struct sx_conv *cv, const struct sx_input *in,
			  const struct sx_opts *opt)
{
	struct sx_out o = {sx_calloc(SX_OUT_CAP, 1), 0, STDOUT_FILENO,
			   opt->out_path ? opt->out_path : "standard output"};
	char *p;

	if (opt->out_path && strcmp(opt->out_path, "-") != 0) {
		o.fd = open(opt->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o.fd < 0)
			sx_fail("%s: %s", opt->out_path, strerror(errno));
	}
	o.n = (size_t)snprintf(o.buf, SX_OUT_CAP,
			       "# shmex-lobster convert %s (%u levels, %zu messages, %s)\n"
			       "# row 0 seeds one synthetic order per level; synthetic ids are >= %" PRIu64
			       "\n",
			       in->msg_path, in->levels, in->rows,
			       opt->aggressors ? "aggressors" : "passive", SX_SYNTH_BASE);
	for (size_t i = 0; i < cv->ncmd; i++) {
		const struct sx_cmd *c = &cv->cmd[i];
		if (o.n + 256 > SX_OUT_CAP)
			sx_flush(&o);
		p = o.buf + o.n;
		switch (c->op) {
		case SX_OP_ADD:
			p = sx_str(p, "A,");
			p = shmex_u64_put(p, c->id);
			p = sx_str(p, c->side == SHMEX_BUY ? ",B," : ",S,");
			p = sx_i64(p, c->price);
			*p++ = ',';
			p = sx_i64(p, c->qty);
			if (c->ioc)
				p = sx_str(p, ",IOC");
			break;
		case SX_OP_REDUCE:
			p = sx_str(p, "R,");
			p = shmex_u64_put(p, c->id);
			*p++ = ',';
			p = sx_i64(p, c->qty);
			break;
		case SX_OP_CANCEL:
			p = sx_str(p, "C,");
			p = shmex_u64_put(p, c->id);
			break;
		case SX_OP_PRINT:
			*p++ = 'P';
			break;
		case SX_OP_HIDDEN:
			p = sx_str(p, c->id ? "# cross trade," : "# hidden trade,");
			p = sx_i64(p, c->price);
			*p++ = ',';
			p = sx_i64(p, c->qty);
			break;
		default: { /* SX_OP_NOTE */
			const struct sx_msg *mg = &in->msg[c->id];
			p = sx_str(p, c->qty == SX_NOTE_RESYNC ? "# resync row " : "# row ");
			p = shmex_u64_put(p, c->id);
			if (c->qty == SX_NOTE_RESYNC)
				break;
			if (c->id == 0)
				p = sx_str(p, " (not replayed: the seeds below are the book after it)");
			if (c->qty == SX_NOTE_HALT)
				p = sx_str(p, " (halt: nothing to replay)");
			*p++ = ':';
			*p++ = ' ';
			p = sx_secs(p, mg->t_ns);
			*p++ = ',';
			p = sx_i64(p, mg->type);
			*p++ = ',';
			p = shmex_u64_put(p, mg->id);
			*p++ = ',';
			p = sx_i64(p, mg->size);
			*p++ = ',';
			p = sx_i64(p, mg->price);
			*p++ = ',';
			p = sx_i64(p, mg->dir);
			break;
		}
		}
		*p++ = '\n';
		o.n = (size_t)(p - o.buf);
	}
	sx_flush(&o);
	if (o.fd != STDOUT_FILENO && close(o.fd) != 0)
		sx_fail("%s: %s", o.path, strerror(errno));
	free(o.buf);
}

/* ------------------------------------------------------------------ */
/* Check: the converted stream through a real shmex_book                */

struct sx_evstats {
	uint64_t by_type[16];
	uint64_t rejects[32];
	int64_t traded;
};

static void sx_on_event(void *ctx, const struct shmex_book_event *ev)
{
	struct sx_evstats *s = ctx;

	s->by_type[ev->type & 15]++;
	if (ev->type == SHMEX_EV_TRADE)
		s->traded += ev->qty;
	if (ev->type == SHMEX_EV_REJECTED)
		s->rejects[ev->reason < 32 ? ev->reason : 0]++;
}

struct sx_view {
	uint32_t n[2];
	int64_t px[2][SX_MAX_LEVELS];
	shmex_u128 qty[2][SX_MAX_LEVELS];
};

struct sx_mismatch {
	size_t row;
	int sides; /* bit per side that differs */
	struct sx_view book, file;
};

struct sx_check {
	struct sx_evstats ev;
	size_t compared, matching, skipped;
	uint64_t levels; /* snapshot levels compared, both sides */
	size_t nmm;
	struct sx_mismatch *mm[SX_MAX_MISMATCHES];
	int verify_rc;
	uint64_t book_ns, compare_ns;
	size_t max_orders;
};

static void sx_apply(struct shmex_book *book, const struct sx_cmd *c)
{
	switch (c->op) {
	case SX_OP_ADD: {
		struct shmex_order o;
		memset(&o, 0, sizeof o);
		o.id = c->id;
		o.price = c->price;
		o.qty = c->qty;
		o.side = c->side;
		o.type = SHMEX_LIMIT;
		o.tif = c->ioc ? SHMEX_IOC : SHMEX_GTC;
		(void)shmex_book_submit(book, &o);
		break;
	}
	case SX_OP_REDUCE:
		(void)shmex_book_reduce(book, c->id, c->qty);
		break;
	case SX_OP_CANCEL:
		(void)shmex_book_cancel(book, c->id);
		break;
	default:
		break;
	}
}

static void sx_check(struct sx_check *ck, const struct sx_conv *cv, const struct sx_input *in,
		     const struct sx_opts *opt)
{
	struct shmex_book_params params = {.max_orders = 0};
	struct shmex_book *book = NULL;
	struct shmex_level_info *lv = sx_calloc(in->levels, sizeof *lv);
	struct sx_view *view = sx_calloc(1, sizeof *view);
	size_t c = 0;
	int rc;

	/* The book holds what the model held, plus room should they differ. */
	size_t cap = cv->m.max_live * 2 + 1024;
	params.max_orders = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	ck->max_orders = params.max_orders;
	rc = shmex_book_create(&params, sx_on_event, &ck->ev, &book);
	if (rc != 0)
		sx_fail("shmex_book_create(%u orders): %s", params.max_orders, shmex_strerror(rc));

	for (size_t k = 0; k < in->rows; k++) {
		uint64_t t0 = sx_now_ns(), t1;
		sx_progress(opt, "check", k, in->rows);
		for (; c < cv->row_end[k]; c++)
			sx_apply(book, &cv->cmd[c]);
		t1 = sx_now_ns();
		ck->book_ns += t1 - t0;
		if (!cv->row_cmp[k]) {
			ck->skipped++;
			continue;
		}
		const int64_t *row = sx_row(in, k);
		int sides = 0;
		for (int side = 0; side < 2; side++) {
			uint32_t got = shmex_book_depth(book, side, lv, in->levels);
			uint32_t want = sx_snap_count(in, row, side);
			int same = got == want;
			ck->levels += want;
			for (uint32_t i = 0; same && i < got; i++)
				same = lv[i].price == sx_snap_px(row, side, i) &&
				       lv[i].qty == (shmex_u128)sx_snap_qty(row, side, i);
			if (!same)
				sides |= 1 << side;
			view->n[side] = got;
			for (uint32_t i = 0; i < got; i++) {
				view->px[side][i] = lv[i].price;
				view->qty[side][i] = lv[i].qty;
			}
		}
		ck->compared++;
		if (!sides) {
			ck->matching++;
		} else if (ck->nmm < SX_MAX_MISMATCHES) {
			struct sx_mismatch *mm = sx_calloc(1, sizeof *mm);
			mm->row = k;
			mm->sides = sides;
			mm->book = *view;
			for (int side = 0; side < 2; side++) {
				mm->file.n[side] = sx_snap_count(in, row, side);
				for (uint32_t i = 0; i < mm->file.n[side]; i++) {
					mm->file.px[side][i] = sx_snap_px(row, side, i);
					mm->file.qty[side][i] = (shmex_u128)sx_snap_qty(row, side, i);
				}
			}
			ck->mm[ck->nmm++] = mm;
		}
		ck->compare_ns += sx_now_ns() - t1;
	}
	ck->verify_rc = shmex_book_verify(book);
	shmex_book_destroy(book);
	free(lv);
	free(view);
}

/* ------------------------------------------------------------------ */
/* Reports                                                              */

static const char *sx_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* "12.345" from a count of thousandths, no floating point. */
static void sx_milli(char *buf, size_t len, uint64_t milli)
{
	snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, milli / 1000, milli % 1000);
}

static void sx_pct(char *buf, size_t len, uint64_t part, uint64_t whole)
{
	sx_milli(buf, len, whole ? part * 100000 / whole : 0);
}

static void sx_print_side(FILE *f, const struct sx_view *v, int side)
{
	char num[48];

	for (uint32_t i = 0; i < v->n[side]; i++) {
		*sx_u128(num, v->qty[side][i]) = 0;
		fprintf(f, " %" PRId64 "x%s", v->px[side][i], num);
	}
	if (!v->n[side])
		fprintf(f, " (empty)");
	fputc('\n', f);
}

static void sx_print_msg(FILE *f, const struct sx_msg *mg)
{
	char t[32];

	*sx_secs(t, mg->t_ns) = 0;
	fprintf(f, "%s,%d,%" PRIu64 ",%" PRId64 ",%" PRId64 ",%d", t, mg->type, mg->id, mg->size,
		mg->price, mg->dir);
}

struct sx_times {
	uint64_t load_ns, convert_ns, total_ns;
};

static int sx_failed(const struct sx_check *ck, const struct sx_conv *cv)
{
	uint64_t rejected = ck->ev.by_type[SHMEX_EV_REJECTED];

	return ck->matching != ck->compared || rejected || ck->ev.traded != cv->m.traded ||
	       ck->verify_rc != 0;
}

static void sx_report_text(const struct sx_check *ck, const struct sx_conv *cv,
			   const struct sx_input *in, const struct sx_opts *opt,
			   const struct sx_times *tm)
{
	const struct sx_stats *st = &cv->st;
	char a[32], b[32], c[32], d[32], e[32];
	uint64_t unknown = st->unknown[2] + st->unknown[3] + st->unknown[4];
	uint64_t gone = st->gone[2] + st->gone[3] + st->gone[4];

	printf("shmex-lobster check %s\n", sx_base(in->msg_path));
	printf("  %-22s %u per side, %s mode\n", "levels", in->levels,
	       opt->aggressors ? "aggressors" : "passive");
	printf("  %-22s %zu (type 1: %" PRIu64 ", 2: %" PRIu64 ", 3: %" PRIu64 ", 4: %" PRIu64
	       ", 5: %" PRIu64 ")\n",
	       "messages", in->rows, in->by_type[1], in->by_type[2], in->by_type[3],
	       in->by_type[4], in->by_type[5]);
	sx_pct(a, sizeof a, ck->matching, ck->compared);
	if (in->times_rounded)
		printf("  %-22s %" PRIu64 " with more than 9 decimals, rounded to the nanosecond\n",
		       "times", in->times_rounded);
	printf("  %-22s %zu\n", "rows compared", ck->compared);
	printf("  %-22s %zu (%s%%)\n", "rows matching", ck->matching, a);
	printf("  %-22s %zu\n", "rows mismatching", ck->compared - ck->matching);
	printf("  %-22s %" PRIu64 " (%" PRIu64 " of them set by a resync at that row)\n",
	       "levels compared", ck->levels,
	       st->enter_add + st->enter_cut + st->missing);
	printf("  %-22s %zu (inside aggressor runs)\n", "rows skipped", ck->skipped);
	printf("  %-22s %" PRIu64 " levels of row 0\n", "seeded", st->seeded);
	printf("  %-22s %" PRIu64 " (2: %" PRIu64 ", 3: %" PRIu64 ", 4: %" PRIu64
	       "), applied per level\n",
	       "unknown ids", unknown, st->unknown[2], st->unknown[3], st->unknown[4]);
	printf("  %-22s %" PRIu64 " (2: %" PRIu64 ", 3: %" PRIu64 ", 4: %" PRIu64
	       "), applied per level\n",
	       "ids already gone", gone, st->gone[2], st->gone[3], st->gone[4]);
	printf("  %-22s %" PRIu64 " rows: %" PRIu64 " levels entered (%" PRIu64 " added to, %" PRIu64
	       " cut), %" PRIu64 " phantom levels removed, %" PRIu64 " missing levels added\n",
	       "resyncs", st->resync_rows, st->enter_add + st->enter_cut, st->enter_add,
	       st->enter_cut, st->phantom, st->missing);
	printf("  %-22s %" PRIu64 " levels on %" PRIu64 " rows (visible in both rows, size differs)\n",
	       "unexplained", st->unexplained, st->unexplained_rows);
	printf("  %-22s %" PRIu64 " lots; named orders short %" PRIu64 ", stale deletes %" PRIu64
	       ", level shortfall %" PRId64 " lots\n",
	       "absorbed per level", (uint64_t)st->absorbed, st->short_orders, st->stale_deletes,
	       st->shortfall);
	if (st->moved || st->dup_ids)
		printf("  %-22s %" PRIu64 " messages name a live order at another side or price, %" PRIu64
		       " add a live id (given a synthetic id)\n",
		       "odd ids", st->moved, st->dup_ids);
	if (opt->aggressors)
		printf("  %-22s %" PRIu64 " IOC orders, %" PRId64 " lots (unfilled on the model: %" PRId64
		       ")\n",
		       "aggressor runs", st->runs, st->run_qty, st->run_short);
	printf("  %-22s %" PRIu64 " (%" PRId64 " lots, not applied to the book)\n", "hidden trades",
	       st->hidden, st->hidden_qty);
	printf("  %-22s %zu (%" PRIu64 " synthetic), book capacity %zu orders\n", "commands",
	       cv->ncmd, st->synthetic_lines, ck->max_orders);
	printf("  %-22s accepted %" PRIu64 ", rested %" PRIu64 ", trades %" PRIu64 " (%" PRId64
	       " lots; model %" PRId64 "), reduced %" PRIu64 ", cancelled %" PRIu64
	       ", killed %" PRIu64 ", rejected %" PRIu64 "\n",
	       "book events", ck->ev.by_type[SHMEX_EV_ACCEPTED], ck->ev.by_type[SHMEX_EV_RESTED],
	       ck->ev.by_type[SHMEX_EV_TRADE], ck->ev.traded, cv->m.traded,
	       ck->ev.by_type[SHMEX_EV_REDUCED], ck->ev.by_type[SHMEX_EV_CANCELLED],
	       ck->ev.by_type[SHMEX_EV_KILLED], ck->ev.by_type[SHMEX_EV_REJECTED]);
	for (int r = 0; r < 32; r++)
		if (ck->ev.rejects[r])
			printf("  %-22s reason %d: %" PRIu64 "\n", "", r, ck->ev.rejects[r]);
	printf("  %-22s %s\n", "book verify", ck->verify_rc ? shmex_strerror(ck->verify_rc) : "ok");
	sx_milli(a, sizeof a, tm->load_ns / 1000000);
	sx_milli(b, sizeof b, tm->convert_ns / 1000000);
	sx_milli(c, sizeof c, ck->book_ns / 1000000);
	sx_milli(d, sizeof d, ck->compare_ns / 1000000);
	sx_milli(e, sizeof e, tm->total_ns / 1000000);
	printf("  %-22s load %s s, convert %s s, book %s s, compare %s s, total %s s\n", "time", a,
	       b, c, d, e);
	for (size_t i = 0; i < ck->nmm; i++) {
		const struct sx_mismatch *mm = ck->mm[i];
		printf("mismatch at row %zu (line %zu) after ", mm->row, mm->row + 1);
		sx_print_msg(stdout, &in->msg[mm->row]);
		putchar('\n');
		for (int side = 1; side >= 0; side--) {
			if (!(mm->sides & (1 << side)))
				continue;
			printf("  %s book:", side ? "ask" : "bid");
			sx_print_side(stdout, &mm->book, side);
			printf("  %s file:", side ? "ask" : "bid");
			sx_print_side(stdout, &mm->file, side);
		}
	}
	printf("%s\n", sx_failed(ck, cv) ? "FAIL" : "PASS");
}

static void sx_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void sx_json_side(FILE *f, const struct sx_view *v, int side)
{
	char num[48];

	fputc('[', f);
	for (uint32_t i = 0; i < v->n[side]; i++) {
		*sx_u128(num, v->qty[side][i]) = 0;
		fprintf(f, "%s[%" PRId64 ",%s]", i ? "," : "", v->px[side][i], num);
	}
	fputc(']', f);
}

static void sx_report_json(const struct sx_check *ck, const struct sx_conv *cv,
			   const struct sx_input *in, const struct sx_opts *opt,
			   const struct sx_times *tm)
{
	const struct sx_stats *st = &cv->st;
	FILE *f = stdout;

	fprintf(f, "{\"tool\":\"shmex-lobster\",\"mode\":\"%s\",\"message_file\":",
		opt->aggressors ? "aggressors" : "passive");
	sx_json_str(f, in->msg_path);
	fprintf(f, ",\"orderbook_file\":");
	sx_json_str(f, in->ob_path);
	fprintf(f, ",\"levels\":%u,\"messages\":%zu,\"by_type\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64
		   ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]",
		in->levels, in->rows, in->by_type[1], in->by_type[2], in->by_type[3],
		in->by_type[4], in->by_type[5], in->by_type[6], in->by_type[7]);
	fprintf(f, ",\"times_rounded\":%" PRIu64, in->times_rounded);
	fprintf(f, ",\"rows_compared\":%zu,\"rows_matching\":%zu,\"rows_skipped\":%zu",
		ck->compared, ck->matching, ck->skipped);
	fprintf(f, ",\"levels_compared\":%" PRIu64 ",\"levels_resynced\":%" PRIu64, ck->levels,
		st->enter_add + st->enter_cut + st->missing);
	fprintf(f, ",\"seeded_levels\":%" PRIu64, st->seeded);
	fprintf(f, ",\"unknown_ids\":{\"2\":%" PRIu64 ",\"3\":%" PRIu64 ",\"4\":%" PRIu64 "}",
		st->unknown[2], st->unknown[3], st->unknown[4]);
	fprintf(f, ",\"gone_ids\":{\"2\":%" PRIu64 ",\"3\":%" PRIu64 ",\"4\":%" PRIu64 "}",
		st->gone[2], st->gone[3], st->gone[4]);
	fprintf(f, ",\"resync\":{\"rows\":%" PRIu64 ",\"entered_added\":%" PRIu64
		   ",\"entered_cut\":%" PRIu64 ",\"phantom_levels\":%" PRIu64 ",\"missing_levels\":%" PRIu64
		   "}",
		st->resync_rows, st->enter_add, st->enter_cut, st->phantom, st->missing);
	fprintf(f, ",\"unexplained_levels\":%" PRIu64 ",\"unexplained_rows\":%" PRIu64,
		st->unexplained, st->unexplained_rows);
	fprintf(f, ",\"absorbed_lots\":%" PRId64 ",\"short_orders\":%" PRIu64
		   ",\"stale_deletes\":%" PRIu64 ",\"shortfall_lots\":%" PRId64
		   ",\"moved_ids\":%" PRIu64 ",\"duplicate_ids\":%" PRIu64,
		st->absorbed, st->short_orders, st->stale_deletes, st->shortfall, st->moved,
		st->dup_ids);
	fprintf(f, ",\"aggressor_runs\":%" PRIu64 ",\"aggressor_lots\":%" PRId64
		   ",\"aggressor_unfilled\":%" PRId64,
		st->runs, st->run_qty, st->run_short);
	fprintf(f, ",\"hidden_trades\":%" PRIu64 ",\"hidden_lots\":%" PRId64, st->hidden,
		st->hidden_qty);
	fprintf(f, ",\"commands\":%zu,\"synthetic_lines\":%" PRIu64 ",\"book_capacity\":%zu",
		cv->ncmd, st->synthetic_lines, ck->max_orders);
	fprintf(f, ",\"book\":{\"accepted\":%" PRIu64 ",\"rested\":%" PRIu64 ",\"trades\":%" PRIu64
		   ",\"traded_lots\":%" PRId64 ",\"model_traded_lots\":%" PRId64 ",\"reduced\":%" PRIu64
		   ",\"cancelled\":%" PRIu64 ",\"killed\":%" PRIu64 ",\"rejected\":%" PRIu64
		   ",\"verify\":",
		ck->ev.by_type[SHMEX_EV_ACCEPTED], ck->ev.by_type[SHMEX_EV_RESTED],
		ck->ev.by_type[SHMEX_EV_TRADE], ck->ev.traded, cv->m.traded,
		ck->ev.by_type[SHMEX_EV_REDUCED], ck->ev.by_type[SHMEX_EV_CANCELLED],
		ck->ev.by_type[SHMEX_EV_KILLED], ck->ev.by_type[SHMEX_EV_REJECTED]);
	sx_json_str(f, ck->verify_rc ? shmex_strerror(ck->verify_rc) : "ok");
	fprintf(f, "},\"time_ms\":{\"load\":%" PRIu64 ",\"convert\":%" PRIu64 ",\"book\":%" PRIu64
		   ",\"compare\":%" PRIu64 ",\"total\":%" PRIu64 "}",
		tm->load_ns / 1000000, tm->convert_ns / 1000000, ck->book_ns / 1000000,
		ck->compare_ns / 1000000, tm->total_ns / 1000000);
	fprintf(f, ",\"mismatches\":[");
	for (size_t i = 0; i < ck->nmm; i++) {
		const struct sx_mismatch *mm = ck->mm[i];
		fprintf(f, "%s{\"row\":%zu,\"line\":%zu", i ? "," : "", mm->row, mm->row + 1);
		for (int side = 1; side >= 0; side--) {
			if (!(mm->sides & (1 << side)))
				continue;
			fprintf(f, ",\"%s_book\":", side ? "ask" : "bid");
			sx_json_side(f, &mm->book, side);
			fprintf(f, ",\"%s_file\":", side ? "ask" : "bid");
			sx_json_side(f, &mm->file, side);
		}
		fputc('}', f);
	}
	fprintf(f, "],\"result\":\"%s\"}\n", sx_failed(ck, cv) ? "FAIL" : "PASS");
}

static void sx_report_convert(const struct sx_conv *cv, const struct sx_input *in)
{
	const struct sx_stats *st = &cv->st;

	fprintf(stderr,
		"%s: %zu messages -> %zu commands (%" PRIu64 " synthetic); seeded %" PRIu64
		" levels; resyncs on %" PRIu64 " rows: %" PRIu64 " levels entered (%" PRIu64
		" added to, %" PRIu64 " cut), %" PRIu64 " phantom levels removed, %" PRIu64
		" missing levels added; unknown ids %" PRIu64 "; unexplained levels %" PRIu64 "\n",
		sx_prog, in->rows, cv->ncmd, st->synthetic_lines, st->seeded, st->resync_rows,
		st->enter_add + st->enter_cut, st->enter_add, st->enter_cut, st->phantom, st->missing,
		st->unknown[2] + st->unknown[3] + st->unknown[4], st->unexplained);
}

static void sx_free_all(struct sx_input *in, struct sx_conv *cv, struct sx_check *ck)
{
	free(in->msg);
	free(in->ob);
	free(cv->m.o);
	free(cv->m.ids.key);
	free(cv->m.ids.val);
	free(cv->m.s[0].lv);
	free(cv->m.s[1].lv);
	free(cv->cmd);
	free(cv->row_end);
	free(cv->row_cmp);
	free(cv->fix);
	if (ck)
		for (size_t i = 0; i < ck->nmm; i++)
			free(ck->mm[i]);
	free(ck);
}

/* ------------------------------------------------------------------ */
/* Command line                                                         */

static void sx_usage(FILE *f)
{
	fprintf(f,
		"usage: shmex-lobster convert MESSAGE.csv ORDERBOOK.csv [-o OUT.replay] [options]\n"
		"       shmex-lobster check MESSAGE.csv ORDERBOOK.csv [--json] [options]\n"
		"\n"
		"convert writes a LOBSTER message file as shmex replay commands; check runs them\n"
		"through a shmex_book and compares its top levels with every orderbook row.\n"
		"The book is seeded from orderbook row 0 (one synthetic order per level, ids from\n"
		"2^62 up) and levels the message file cannot explain are resynced from the\n"
		"snapshots. See docs/LOBSTER.md.\n"
		"\n"
		"options:\n"
		"  -o FILE          convert: write to FILE instead of standard output\n"
		"  --aggressors     replay each run of executions as one synthetic IOC order that\n"
		"                   the book matches (default: reduce the named resting order)\n"
		"  --print-every N  convert: a P line after every N messages\n"
		"  --annotate       convert: a comment line with each LOBSTER message\n"
		"  --json           check: print the summary as JSON\n"
		"  --progress       report progress on standard error\n"
		"  -q, --quiet      convert: no summary on standard error\n"
		"  -h, --help       print this help\n"
		"\n"
		"exit status: 0 success (check: every compared row matches), 1 check found\n"
		"mismatches, 2 bad usage or bad input.\n");
}

__attribute__((noreturn)) static void sx_usage_fail(const char *why, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s (try --help)\n", sx_prog, why, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static uint64_t sx_parse_count(const char *s, const char *opt)
{
	uint64_t v = 0;
	const char *p = s;

	if (!*p)
		sx_usage_fail("not a positive integer", opt);
	for (; *p; p++) {
		if ((unsigned)(*p - '0') >= 10 || v > UINT64_MAX / 10 - 1)
			sx_usage_fail("not a positive integer", opt);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (!v)
		sx_usage_fail("not a positive integer", opt);
	return v;
}

int main(int argc, char **argv)
{
	struct sx_opts opt;
	const char *cmd = NULL, *files[2] = {NULL, NULL};
	int nfiles = 0, check, rc;
	struct sx_input in;
	struct sx_text tm_msg, tm_ob;
	struct sx_times tm = {0, 0, 0};
	uint64_t t0 = sx_now_ns(), t1;
	static struct sx_conv cv;

	memset(&opt, 0, sizeof opt);
	memset(&in, 0, sizeof in);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			sx_usage(stdout);
			return 0;
		} else if (!strcmp(a, "-o")) {
			if (++i >= argc)
				sx_usage_fail("-o needs a file name", NULL);
			opt.out_path = argv[i];
		} else if (!strcmp(a, "--print-every")) {
			if (++i >= argc)
				sx_usage_fail("--print-every needs a count", NULL);
			opt.print_every = sx_parse_count(argv[i], "--print-every");
		} else if (!strcmp(a, "--aggressors")) {
			opt.aggressors = 1;
		} else if (!strcmp(a, "--annotate")) {
			opt.annotate = 1;
		} else if (!strcmp(a, "--json")) {
			opt.json = 1;
		} else if (!strcmp(a, "--progress")) {
			opt.progress = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			opt.quiet = 1;
		} else if (a[0] == '-' && a[1]) {
			sx_usage_fail("unknown option", a);
		} else if (!cmd) {
			cmd = a;
		} else if (nfiles < 2) {
			files[nfiles++] = a;
		} else {
			sx_usage_fail("too many arguments", a);
		}
	}
	if (!cmd)
		sx_usage_fail("missing command (convert or check)", NULL);
	if (strcmp(cmd, "convert") != 0 && strcmp(cmd, "check") != 0)
		sx_usage_fail("unknown command", cmd);
	check = !strcmp(cmd, "check");
	if (nfiles != 2)
		sx_usage_fail("need MESSAGE.csv and ORDERBOOK.csv", NULL);
	if (check && (opt.out_path || opt.print_every || opt.annotate))
		sx_usage_fail("-o, --print-every and --annotate go with convert", NULL);
	if (!check && opt.json)
		sx_usage_fail("--json goes with check", NULL);
	if (!strcmp(files[0], "-") && !strcmp(files[1], "-"))
		sx_usage_fail("only one input can be standard input", NULL);

	in.msg_path = files[0];
	in.ob_path = files[1];
	sx_text_load(&tm_msg, files[0]);
	sx_load_messages(&in, &tm_msg);
	sx_text_free(&tm_msg);
	if (in.rows == 0)
		sx_fail("%s: no messages", files[0]);
	sx_text_load(&tm_ob, files[1]);
	sx_load_orderbook(&in, &tm_ob);
	sx_text_free(&tm_ob);
	t1 = sx_now_ns();
	tm.load_ns = t1 - t0;

	sx_convert(&cv, &in, &opt);
	tm.convert_ns = sx_now_ns() - t1;

	if (!check) {
		sx_write_text(&cv, &in, &opt);
		if (!opt.quiet)
			sx_report_convert(&cv, &in);
		sx_free_all(&in, &cv, NULL);
		return 0;
	}

	struct sx_check *ck = sx_calloc(1, sizeof *ck);
	sx_check(ck, &cv, &in, &opt);
	tm.total_ns = sx_now_ns() - t0;
	if (opt.json)
		sx_report_json(ck, &cv, &in, &opt, &tm);
	else
		sx_report_text(ck, &cv, &in, &opt, &tm);
	if (fflush(stdout) != 0)
		sx_fail("standard output: %s", strerror(errno));
	rc = sx_failed(ck, &cv) ? 1 : 0;
	sx_free_all(&in, &cv, ck);
	return rc;
}
