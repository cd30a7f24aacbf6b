/* How the whole-book benchmarks drive a shmex book: see flow_shmex.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_shmex.h"

const char bfs_usage[] =
	"  --external-ids   the flow's own order numbers through the book's id index\n"
	"                   (as shmex-replay runs) instead of ids the book issues\n"
	"  --no-prefault    pages touched on first use instead of at creation\n"
	"  --no-huge-pages  no transparent huge pages\n";

int bfs_parse_option(struct bfs_options *o, const char *arg)
{
	if (!strcmp(arg, "--external-ids"))
		o->external_ids = 1;
	else if (!strcmp(arg, "--no-prefault"))
		o->no_prefault = 1;
	else if (!strcmp(arg, "--no-huge-pages"))
		o->no_huge = 1;
	else
		return 0;
	return 1;
}

uint32_t bfs_book_flags(const struct bfs_options *o)
{
	return (o->external_ids ? 0 : SHMEX_BOOK_ISSUE_IDS) |
	       (o->no_prefault ? 0 : SHMEX_BOOK_PREFAULT) |
	       (o->no_huge ? 0 : SHMEX_BOOK_HUGE_PAGES);
}

const char *bfs_describe(const struct bfs_options *o)
{
	static char buf[96];
	snprintf(buf, sizeof buf, "%s, %s, %s",
		 o->external_ids ? "external ids (hashed)" : "issued ids",
		 o->no_prefault ? "pages on first use" : "prefaulted",
		 o->no_huge ? "4 KiB pages" : "huge pages asked");
	return buf;
}

static void bfs_null_sink(void *ctx, const struct shmex_book_event *ev)
{
	(void)ctx;
	(void)ev;
}

uint64_t *bfs_ids(const struct bf_flow *f, uint64_t n, const struct shmex_book_params *params)
{
	uint64_t *ids = malloc((n ? n : 1) * sizeof *ids);
	if (!ids) {
		fprintf(stderr, "out of memory\n");
		return NULL;
	}
	if (!(params->flags & SHMEX_BOOK_ISSUE_IDS)) {
		for (uint64_t i = 0; i < n; i++)
			ids[i] = f->cmd[i].id;
		return ids;
	}
	/* The dry run needs no prefault: the same slots are issued either way. */
	struct shmex_book_params dry = *params;
	dry.flags &= ~(uint32_t)(SHMEX_BOOK_PREFAULT | SHMEX_BOOK_HUGE_PAGES);
	uint64_t *issued = calloc((size_t)f->max_id + 1, sizeof *issued);
	struct shmex_book *b = NULL;
	if (!issued || shmex_book_create(&dry, bfs_null_sink, NULL, &b) != 0) {
		fprintf(stderr, "out of memory\n");
		free(issued);
		free(ids);
		return NULL;
	}
	const uint64_t never = UINT64_C(0xFFFFFFFF00000000); /* low half 0: names no slot */
	for (uint64_t i = 0; i < n; i++) {
		const struct bf_cmd *c = &f->cmd[i];
		if (c->op == BF_ADD) {
			ids[i] = issued[c->id] = shmex_book_next_id(b);
		} else {
			ids[i] = issued[c->id] ? issued[c->id] : never;
		}
		bfs_exec(b, c, ids[i]);
	}
	shmex_book_destroy(b);
	free(issued);
	return ids;
}
