/*
 * shmex-replay: runs a replay file (../shared/formats/replay.md) through one
 * shmex order book and prints what happened.
 *
 *   shmex-replay [--capacity N] [--progress] FILE|-
 *   shmex-replay --connect SOCKET [--progress] FILE|-   (replay_connect.c)
 *
 * The book is the engine's own (include/shmex/book.h); this file only reads
 * lines, remembers every id ever used (DUPLICATE means "already used", not
 * merely "live") and turns book events into output lines. Choices where the
 * format is silent, and the exit status: docs/MATCHING.md, "Replay notes".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "replay.h"
#include "shmex/fixed.h"

#define OUT_BUF (1u << 20)
#define IN_BUF (4u << 20)

/* ---- buffered output ----------------------------------------------------- */

static char out_buf[OUT_BUF];
static size_t out_len;
static int out_failed;

static void out_flush(void)
{
	if (out_len && fwrite(out_buf, 1, out_len, stdout) != out_len)
		out_failed = 1;
	out_len = 0;
}

static inline void out_reserve(size_t n)
{
	if (out_len + n > OUT_BUF)
		out_flush();
}

static inline void out_str(const char *s, size_t n)
{
	memcpy(out_buf + out_len, s, n);
	out_len += n;
}

static inline void out_u64(uint64_t v)
{
	out_len = (size_t)(shmex_u64_put(out_buf + out_len, v) - out_buf);
}

static inline void out_u128(shmex_u128 v)
{
	if (v <= UINT64_MAX) {
		out_u64((uint64_t)v);
		return;
	}
	char tmp[SHMEX_I128_BUFSZ];
	int n = shmex_u128_format(v, tmp, sizeof tmp);
	out_str(tmp, (size_t)n);
}

/* ---- ids ever used --------------------------------------------------------- */

/* Linear probing on the top bits of a keyed Fibonacci hash, as the book's
 * own id index (src/book/sx_itable.h): with a fixed hash, ids chosen to share a
 * slot would make every add walk one long run (quadratic). */
struct id_set {
	uint64_t *keys; /* 0 = empty; id 0 is tracked by has_zero */
	size_t mask, count;
	unsigned shift; /* 64 - log2(mask + 1) */
	uint64_t seed;
	int has_zero;
};

static inline size_t id_set_home(const struct id_set *s, uint64_t id, unsigned shift)
{
	return (size_t)(((id ^ s->seed) * UINT64_C(0x9E3779B97F4A7C15)) >> shift);
}

static int id_set_grow(struct id_set *s)
{
	size_t cap = s->keys ? (s->mask + 1) * 2 : 1u << 16;
	unsigned shift = 64 - (unsigned)__builtin_ctzll((unsigned long long)cap);
	if (!s->keys && getrandom(&s->seed, sizeof s->seed, GRND_NONBLOCK) != (ssize_t)sizeof s->seed)
		s->seed = (uint64_t)time(NULL) * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)(uintptr_t)s;
	uint64_t *keys = calloc(cap, sizeof *keys);
	if (!keys)
		return -1;
	for (size_t i = 0; s->keys && i <= s->mask; i++) {
		uint64_t k = s->keys[i];
		if (!k)
			continue;
		size_t j = id_set_home(s, k, shift);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = k;
	}
	free(s->keys);
	s->keys = keys;
	s->mask = cap - 1;
	s->shift = shift;
	return 0;
}

/* Adds id; returns 1 if it was there already, 0 if added, -1 on no memory. */
static int id_set_add(struct id_set *s, uint64_t id)
{
	if (id == 0) {
		int had = s->has_zero;
		s->has_zero = 1;
		return had;
	}
	if ((s->count + 1) * 2 > s->mask + 1 && id_set_grow(s) != 0)
		return -1;
	size_t j = id_set_home(s, id, s->shift);
	while (s->keys[j]) {
		if (s->keys[j] == id)
			return 1;
		j = (j + 1) & s->mask;
	}
	s->keys[j] = id;
	s->count++;
	return 0;
}

/* ---- events to output lines --------------------------------------------- */

struct replay_state {
	struct shmex_book *book;
	int full; /* the book ran out of capacity at least once */
};

static void out_x(uint64_t id, const char *reason, size_t n)
{
	out_reserve(64);
	out_str("X,", 2);
	out_u64(id);
	out_str(",", 1);
	out_str(reason, n);
	out_str("\n", 1);
}

#define OUT_X(id, lit) out_x((id), lit, sizeof lit - 1)

static void on_event(void *ctx, const struct shmex_book_event *ev)
{
	struct replay_state *st = ctx;
	switch (ev->type) {
	case SHMEX_EV_TRADE:
		out_reserve(96);
		out_str("T,", 2);
		out_u64(ev->order_id);
		out_str(",", 1);
		out_u64(ev->maker_id);
		out_str(",", 1);
		out_u64((uint64_t)ev->price);
		out_str(",", 1);
		out_u64((uint64_t)ev->qty);
		out_str("\n", 1);
		break;
	case SHMEX_EV_CANCELLED:
		OUT_X(ev->order_id, "CANCELLED");
		break;
	case SHMEX_EV_KILLED:
	case SHMEX_EV_REJECTED:
		switch (ev->reason) {
		case SHMEX_R_FOK: OUT_X(ev->order_id, "FOK"); break;
		case SHMEX_R_IOC:
		case SHMEX_R_BUDGET: OUT_X(ev->order_id, "IOC"); break;
		case SHMEX_R_POST_ONLY: OUT_X(ev->order_id, "POST"); break;
		case SHMEX_R_UNKNOWN_ORDER: OUT_X(ev->order_id, "UNKNOWN"); break;
		case SHMEX_R_DUPLICATE_ID: OUT_X(ev->order_id, "DUPLICATE"); break;
		case SHMEX_R_BOOK_FULL: st->full = 1; break;
		default: OUT_X(ev->order_id, "INVALID"); break;
		}
		break;
	default:
		break;
	}
}

static void print_book(const struct shmex_book *book)
{
	static struct shmex_level_info *levels;
	static uint32_t levels_cap;
	out_reserve(2);
	out_str("P\n", 2);
	for (int side = SHMEX_BUY; side <= SHMEX_SELL; side++) {
		uint32_t total = shmex_book_level_count(book, side);
		if (total > levels_cap) {
			free(levels);
			levels_cap = total * 2;
			levels = malloc((size_t)levels_cap * sizeof *levels);
			if (!levels) {
				fprintf(stderr, "shmex-replay: out of memory printing the book\n");
				exit(2);
			}
		}
		uint32_t n = shmex_book_depth(book, side, levels, total);
		for (uint32_t i = 0; i < n; i++) {
			out_reserve(96);
			out_str(side == SHMEX_BUY ? "B," : "S,", 2);
			out_u64((uint64_t)levels[i].price);
			out_str(",", 1);
			out_u128(levels[i].qty);
			out_str(",", 1);
			out_u64(levels[i].orders);
			out_str("\n", 1);
		}
	}
}

/* ---- main loop ------------------------------------------------------------ */

static int run_line(struct replay_state *st, struct id_set *used, const char *line, size_t len,
		    unsigned long lineno)
{
	struct replay_cmd cmd;
	const char *why = NULL;
	if (replay_parse_line(line, len, &cmd, &why) != 0) {
		fprintf(stderr, "shmex-replay: line %lu: %s\n", lineno, why);
		return 1;
	}
	switch (cmd.op) {
	case REPLAY_SKIP:
		break;
	case REPLAY_PRINT:
		print_book(st->book);
		break;
	case REPLAY_CANCEL:
		shmex_book_cancel(st->book, cmd.id);
		break;
	case REPLAY_REDUCE:
		if (cmd.invalid)
			OUT_X(cmd.id, "INVALID");
		else
			shmex_book_reduce(st->book, cmd.id, cmd.qty);
		break;
	case REPLAY_ADD: {
		int seen = id_set_add(used, cmd.id);
		if (seen < 0) {
			fprintf(stderr, "shmex-replay: out of memory for ids\n");
			exit(2);
		}
		if (seen)
			OUT_X(cmd.id, "DUPLICATE");
		else if (cmd.invalid)
			OUT_X(cmd.id, "INVALID");
		else {
			st->full = 0;
			shmex_book_submit(st->book, &cmd.order);
			if (st->full) {
				fprintf(stderr,
					"shmex-replay: line %lu: book full (raise --capacity)\n",
					lineno);
				return 1;
			}
		}
		break;
	}
	}
	return 0;
}

/* At most once a second (checked once per input chunk, so never on the
 * per-line path), and once at the end. */
static void report_progress(const struct replay_state *st, unsigned long lineno, int done)
{
	static time_t last;
	time_t now = time(NULL);
	if (!done && now == last)
		return;
	last = now;
	fprintf(stderr, "shmex-replay: %lu lines, %u live orders%s\n", lineno,
		shmex_book_order_count(st->book), done ? ", done" : "");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: shmex-replay [--capacity N] [--progress] FILE|-\n"
		   "       shmex-replay --connect SOCKET [--progress] FILE|-\n"
		   "Runs a replay file through one order book; see docs/MATCHING.md.\n"
		   "Exit status: 0; 1 if a line could not be read or the book was full;\n"
		   "2 on a usage, read or write error.\n"
		   "  --capacity N   live orders the book can hold (default 16777216)\n"
		   "  --progress     report lines read and live orders on stderr every second\n"
		   "  --connect SOCKET  run it through a running shmexd instead, as one session\n"
		   "                 on a fresh symbol (tools/replay_connect.c); progress is shown\n"
		   "                 when stderr is a terminal\n");
}

int main(int argc, char **argv)
{
	const char *path = NULL, *sock = NULL;
	uint64_t capacity = 1u << 24;
	int progress = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--progress") == 0) {
			progress = 1;
		} else if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc) {
			sock = argv[++i];
		} else if (strcmp(argv[i], "--capacity") == 0 && i + 1 < argc) {
			const char *v = argv[++i];
			if (shmex_u64_parse(v, strlen(v), &capacity) != 0 || capacity == 0 ||
			    capacity > (1u << 30)) {
				fprintf(stderr, "shmex-replay: --capacity takes 1 to 1073741824\n");
				return 2;
			}
		} else if (path == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
			path = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (in == NULL) {
		fprintf(stderr, "shmex-replay: %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (sock) {
		int crc = replay_connect_run(sock, in, path, progress ? 1 : -1);
		if (in != stdin)
			fclose(in);
		return crc;
	}

	struct replay_state st = { 0 };
	struct shmex_book_params params = { .max_orders = (uint32_t)capacity, .max_levels = 0 };
	int rc = shmex_book_create(&params, on_event, &st, &st.book);
	if (rc != 0) {
		fprintf(stderr, "shmex-replay: cannot create book: %s\n", shmex_strerror(rc));
		return 2;
	}
	struct id_set used = { 0 };
	char *buf = malloc(IN_BUF);
	if (!buf || id_set_grow(&used) != 0) {
		fprintf(stderr, "shmex-replay: out of memory\n");
		return 2;
	}

	int bad = 0, skipping = 0;
	unsigned long lineno = 0;
	size_t have = 0;
	for (;;) {
		size_t got = fread(buf + have, 1, IN_BUF - have, in);
		have += got;
		int eof = got == 0;
		size_t start = 0;
		if (skipping) { /* the rest of an over-long line, already reported */
			char *nl = memchr(buf, '\n', have);
			start = nl ? (size_t)(nl - buf) + 1 : have;
			skipping = nl == NULL;
		}
		while (!skipping) {
			char *nl = memchr(buf + start, '\n', have - start);
			if (!nl) {
				if (!eof || start == have)
					break;
				/* Last line without a newline. */
				bad |= run_line(&st, &used, buf + start, have - start, ++lineno);
				start = have;
				break;
			}
			size_t len = (size_t)(nl - (buf + start));
			bad |= run_line(&st, &used, buf + start, len, ++lineno);
			start += len + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (progress)
			report_progress(&st, lineno, eof);
		if (eof)
			break;
		if (have == IN_BUF) {
			/* No valid line is anywhere near this long: it cannot be
			 * read, and like any such line it is reported and skipped. */
			fprintf(stderr, "shmex-replay: line %lu: longer than %u bytes, skipped\n",
				++lineno, IN_BUF);
			bad = 1;
			skipping = 1;
			have = 0;
		}
	}
	if (ferror(in)) {
		fprintf(stderr, "shmex-replay: %s: read error\n", path);
		bad = 2;
	}
	print_book(st.book);
	out_flush();
	if (fflush(stdout) != 0 || out_failed) {
		fprintf(stderr, "shmex-replay: write error\n");
		return 2;
	}
	if (in != stdin)
		fclose(in);
	free(buf);
	free(used.keys);
	shmex_book_destroy(st.book);
	return bad;
}
