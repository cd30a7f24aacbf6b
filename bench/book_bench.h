/*
 * Order-book benchmark bodies, in C (driven by bench_main.cc through
 * Google Benchmark). See docs/BENCHMARKS.md for what each case measures.
 *
 * Every case works on one book holding N resting orders spread over
 * 2 x L price levels around a mid price (bids mid-1-k, asks mid+1+k, k
 * uniform in [0, L), L = clamp(N / 200, 50, 5000), qty uniform 1..100 lots).
 * A "batch" is: generate the batch's commands (untimed), run them under the
 * timer, then run the commands that put the book back to N orders
 * (untimed). Nothing is allocated or printed inside the timed part, and the
 * event sink only counts events.
 */
#ifndef SHMEX_BENCH_BOOK_BENCH_H
#define SHMEX_BENCH_BOOK_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "bench_util.h"
#include "shmex/book.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bb_case {
	BB_ADD,       /* passive limit order joining an existing level */
	BB_ADD_LEVEL, /* passive limit order that creates a new level */
	BB_CANCEL,    /* cancel by id of a random resting order */
	BB_FILL,      /* IOC order filling exactly one resting order */
	BB_SWEEP,     /* IOC order emptying the 10 best levels of one side */
	BB_MIXED,     /* 50% adds, 35% cancels, 15% IOC (replayed stream) */
	BB_MIXED_PF,  /* the same stream with prefetch hints 8/4/2 messages ahead */
	BB_NCASES
};

/** Short name ("add", "add_level", ...). */
const char *bb_case_name(enum bb_case c);
/** One line saying what is timed and how the book is kept at N orders. */
const char *bb_case_doc(enum bb_case c);

/** Levels per side used for a book of @p n orders. */
uint32_t bb_levels_for(uint32_t n);

/** Submits the initial book of @p n orders (the same for every case) to
 *  @p book. No allocation. Returns the number of orders resting after. */
uint32_t bb_populate(struct shmex_book *book, uint32_t n);

struct bb_fixture;

/** Builds the book and whatever the case needs (for BB_MIXED: the whole
 *  pregenerated message stream). NULL on failure. */
struct bb_fixture *bb_fixture_create(enum bb_case c, uint32_t n);
void bb_fixture_destroy(struct bb_fixture *f);

struct bb_batch_result {
	double ns;       /* timed nanoseconds, timer overhead removed */
	uint32_t ops;    /* messages in the timed part */
	uint32_t trades; /* trades in the timed part */
};

/** Runs one batch (see above). 0, or -1 with bb_fixture_error() set. */
int bb_run_batch(struct bb_fixture *f, struct bb_batch_result *out);

/** Runs batches until @p samples messages were timed one by one (TSC
 *  around each book call, timer overhead removed) into @p h. Also returns
 *  the sum of the per-message times in *total_ns. 0 or -1. */
int bb_run_latency(struct bb_fixture *f, uint64_t samples, struct bb_hist *h, double *total_ns);

/** Checks the book (shmex_book_verify, order count) and the events seen so
 *  far. 0 or -1 with bb_fixture_error() set. O(orders). */
int bb_fixture_check(struct bb_fixture *f);

/** What went wrong, or NULL. */
const char *bb_fixture_error(const struct bb_fixture *f);

struct bb_fixture_info {
	uint32_t n, levels_per_side, batch;
	uint32_t orders, levels[2];  /* now */
	uint64_t stream_len, rebuilds; /* BB_MIXED */
	uint64_t mix[3];             /* BB_MIXED stream: adds, cancels, IOCs */
	uint64_t stream_trades;      /* BB_MIXED: trades in one pass of the stream */
};
void bb_fixture_info(const struct bb_fixture *f, struct bb_fixture_info *out);

/* ---- memory (book_mem.c) -------------------------------------------------- */

struct bb_mem_region {
	const char *name;
	size_t reserved, resident;
};

struct bb_mem_report {
	uint32_t n, max_levels; /* capacity given (max_orders = n) */
	uint32_t orders, levels; /* resting orders and levels (both sides) after populate */
	size_t memsize;         /* shmex_book_memsize() */
	size_t rss_empty;       /* RSS growth from shmex_book_create() alone */
	size_t rss_growth;      /* RSS growth from create + populate */
	size_t resident_total;  /* sum of region residents (mincore) + the struct */
	unsigned nregions;
	struct bb_mem_region region[20];
};

/** Builds a book of capacity (n, max_levels), populates it with the initial
 *  book of n orders and measures its memory. 0 or -1. */
int bb_memory(uint32_t n, uint32_t max_levels, struct bb_mem_report *out);

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_BENCH_BOOK_BENCH_H */
