/*
 * Memory per resting order. The only bench file that looks inside the book
 * (src/book/book_internal.h): it names the book's memory regions and asks the
 * kernel (mincore) how much of each is resident, to split the bytes per
 * order into order pool, id index, levels, price index and the rest.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "book_bench.h"
#include "book_internal.h"

static void noop_sink(void *ctx, const struct shmex_book_event *ev)
{
	(void)ctx;
	(void)ev;
}

static const char *region_name(const struct shmex_book *b, const void *p)
{
	if (p == b->orders)
		return "order pool (64 B lines)";
	if (p == (const void *)b->peak)
		return "iceberg peaks (8 B per slot, icebergs only)";
	if (p == (const void *)b->expire_at)
		return "expire_at (8 B per order slot)";
	if (p == (const void *)b->ids.slots)
		return "id index (8 B tagged slots, load <= 1/2)";
	if (p == (const void *)b->levels)
		return "level pool";
	if (p == (const void *)b->prices.slots)
		return "price index (both sides)";
	if (p == (const void *)b->queue)
		return "trigger queue";
	if (p == (const void *)b->rising.e || p == (const void *)b->rising.pos ||
	    p == (const void *)b->falling.e || p == (const void *)b->falling.pos ||
	    p == (const void *)b->expiry.e || p == (const void *)b->expiry.pos)
		return "stop / GTD heaps";
	return "other";
}

static size_t resident_bytes(void *p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t pages = (len + (size_t)page - 1) / (size_t)page;
	unsigned char *vec = malloc(pages ? pages : 1);
	if (!vec)
		return 0;
	size_t res = 0;
	if (mincore(p, len, vec) == 0)
		for (size_t i = 0; i < pages; i++)
			res += vec[i] & 1;
	free(vec);
	return res * (size_t)page;
}

int bb_memory(uint32_t n, uint32_t max_levels, struct bb_mem_report *out)
{
	memset(out, 0, sizeof *out);
	struct shmex_book_params params = { .max_orders = n, .max_levels = max_levels };
	out->n = n;
	out->max_levels = max_levels;
	out->memsize = shmex_book_memsize(&params);
	size_t rss0 = bb_rss_bytes();
	struct shmex_book *b = NULL;
	if (shmex_book_create(&params, noop_sink, NULL, &b) != 0)
		return -1;
	size_t rss1 = bb_rss_bytes();
	out->orders = bb_populate(b, n);
	size_t rss2 = bb_rss_bytes();
	out->rss_empty = rss1 > rss0 ? rss1 - rss0 : 0;
	out->rss_growth = rss2 > rss0 ? rss2 - rss0 : 0;
	out->levels = shmex_book_level_count(b, SHMEX_BUY) + shmex_book_level_count(b, SHMEX_SELL);
	out->resident_total = sizeof *b;
	for (unsigned i = 0; i < b->nregions && out->nregions < 19; i++) {
		const char *name = region_name(b, b->region[i]);
		size_t res = resident_bytes(b->region[i], b->region_size[i]);
		struct bb_mem_region *r = NULL;
		for (unsigned j = 0; j < out->nregions; j++)
			if (strcmp(out->region[j].name, name) == 0)
				r = &out->region[j];
		if (!r) {
			r = &out->region[out->nregions++];
			r->name = name;
		}
		r->reserved += b->region_size[i];
		r->resident += res;
		out->resident_total += res;
	}
	shmex_book_destroy(b);
	return 0;
}
