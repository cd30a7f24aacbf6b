/*
 * How the whole-book benchmarks drive a shmex book (shmex-bench-quantcup,
 * shmex-bench-flow1m): the book options of a run and the ids each command
 * names.
 *
 * By default the book runs as an engine runs it: it issues the order ids
 * (SHMEX_BOOK_ISSUE_IDS), and its memory is touched at creation
 * (SHMEX_BOOK_PREFAULT) in transparent huge pages (SHMEX_BOOK_HUGE_PAGES).
 * A flow names orders by its own numbers (1, 2, 3 … as voyager issues
 * them), so before timing, a dry run on an identical book records the id
 * shmex issues for each add, and each command then names its order by the
 * id of that engine, as a client would hold the id its exchange gave it.
 * The dry run's book and the timed book see the same commands from the
 * same state, so they issue the same ids; the trade totals of both are
 * checked to agree.
 */
#ifndef SHMEX_BENCH_FLOW_SHMEX_H
#define SHMEX_BENCH_FLOW_SHMEX_H

#include <stdint.h>

#include "shmex/book.h"

#include "flow.h"

struct bfs_options {
	int external_ids; /* --external-ids: the flow's numbers through the id index */
	int no_prefault;  /* --no-prefault */
	int no_huge;      /* --no-huge-pages */
};

/* Takes one of the options above at argv[*i]; 1 if it was one. */
int bfs_parse_option(struct bfs_options *o, const char *arg);

/* The usage lines of those options. */
extern const char bfs_usage[];

/* Book flags for @o. */
uint32_t bfs_book_flags(const struct bfs_options *o);

/* A short description for reports ("issued ids, prefault, huge pages"). */
const char *bfs_describe(const struct bfs_options *o);

/* The id each of f->cmd[0..n) names on a book made with @params and run
 * from empty: for issued ids, from a dry run; else the flow's numbers.
 * A cancel of an order never accepted gets an id no book has issued.
 * @return a malloc'd array of n ids, or NULL (message printed). */
uint64_t *bfs_ids(const struct bf_flow *f, uint64_t n, const struct shmex_book_params *params);

/* Runs one command: a GTC limit order or a cancel, naming @id. */
static inline void bfs_exec(struct shmex_book *b, const struct bf_cmd *c, uint64_t id)
{
	if (c->op == BF_CANCEL) {
		shmex_book_cancel(b, id);
		return;
	}
	struct shmex_order o = {
		.id = id, .price = c->price, .qty = c->qty, .side = c->side,
		.type = SHMEX_LIMIT, .tif = SHMEX_GTC,
	};
	shmex_book_submit(b, &o);
}

/* The same command as one of a batch for shmex_book_run(). */
static inline void bfs_cmd(struct shmex_book_cmd *out, const struct bf_cmd *c, uint64_t id)
{
	if (c->op == BF_CANCEL) {
		out->op = SHMEX_OP_CANCEL;
		out->id = id;
		return;
	}
	out->op = SHMEX_OP_SUBMIT;
	out->order = (struct shmex_order){
		.id = id, .price = c->price, .qty = c->qty, .side = c->side,
		.type = SHMEX_LIMIT, .tif = SHMEX_GTC,
	};
}

#endif /* SHMEX_BENCH_FLOW_SHMEX_H */
