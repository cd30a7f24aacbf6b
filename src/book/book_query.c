/*
 * Read-only queries on a book: best price, depth, order lookup, walks, and
 * the internal consistency check used by tests.
 */
#include <string.h>

#include "book_internal.h"

int shmex_book_best(const struct shmex_book *b, int side, int64_t *price)
{
	const struct sx_level *l = b->best[side & 1];
	if (l == NULL)
		return 0;
	*price = l->price;
	return 1;
}

uint32_t shmex_book_depth(const struct shmex_book *b, int side, struct shmex_level_info *out,
			  uint32_t max)
{
	uint32_t n = 0;
	for (const struct sx_level *l = b->best[side & 1]; l && n < max; l = sx_level_worse(b, l)) {
		memset(&out[n], 0, sizeof out[n]);
		out[n].price = l->price;
		out[n].orders = l->count;
		out[n].qty = l->displayed;
		n++;
	}
	return n;
}

uint32_t shmex_book_level_count(const struct shmex_book *b, int side)
{
	return b->level_count[side & 1];
}

uint32_t shmex_book_order_count(const struct shmex_book *b)
{
	return b->live_orders;
}

int shmex_book_last_price(const struct shmex_book *b, int64_t *price)
{
	if (!b->has_last)
		return 0;
	*price = b->last_price;
	return 1;
}

static void sx_info(const struct shmex_book *b, uint32_t idx, struct shmex_order_info *out)
{
	const struct sx_order *o = &b->orders[idx];
	int parked = (o->bits & SX_OB_PARKED) != 0;
	memset(out, 0, sizeof *out);
	out->id = o->id;
	out->owner = o->owner;
	out->price = o->price;
	out->remaining = o->remaining;
	out->displayed = parked ? 0 : o->displayed;
	out->trigger_price = parked ? o->displayed : 0;
	out->expire_at = o->tif == SHMEX_GTD ? b->expire_at[idx] : 0;
	out->side = o->side;
	out->type = o->type;
	out->tif = o->tif;
	out->parked = (uint8_t)parked;
	out->flags = ((o->bits & SX_OB_OWNER) ? SHMEX_OF_OWNER : 0) |
		     ((o->bits & SX_OB_POST) ? SHMEX_OF_POST_ONLY : 0);
}

int shmex_book_order(const struct shmex_book *b, uint64_t id, struct shmex_order_info *out)
{
	uint32_t idx = sx_lookup(b, id);
	if (idx == SX_NIL)
		return SHMEX_E_UNKNOWN_ORDER;
	sx_info(b, idx, out);
	return 0;
}

void shmex_book_walk(const struct shmex_book *b, int side,
		     void (*fn)(void *ctx, const struct shmex_order_info *o), void *ctx)
{
	struct shmex_order_info info;
	for (const struct sx_level *l = b->best[side & 1]; l; l = sx_level_worse(b, l))
		for (uint32_t i = l->head; i != SX_NIL; i = b->orders[i].next) {
			sx_info(b, i, &info);
			fn(ctx, &info);
		}
}

#define SX_CHECK(cond)                         \
	do {                                   \
		if (!(cond))                   \
			return SHMEX_E_INVARIANT; \
	} while (0)

static int sx_verify_level(const struct shmex_book *b, const struct sx_level *l, int side,
			   uint32_t *orders_seen)
{
	uint32_t li = (uint32_t)(l - b->levels);
	SX_CHECK((int)l->side == side);
	SX_CHECK(l->key == sx_level_key(side, l->price));
	SX_CHECK(sx_level_find(b, side, l->price) == l);
	shmex_u128 displayed = 0, total = 0;
	uint32_t count = 0, prev = SX_NIL;
	for (uint32_t i = l->head; i != SX_NIL; i = b->orders[i].next) {
		const struct sx_order *o = &b->orders[i];
		SX_CHECK(count < b->max_orders);
		SX_CHECK(o->bits & SX_OB_LIVE);
		SX_CHECK(!(o->bits & SX_OB_PARKED));
		SX_CHECK(o->prev == prev && o->level == li && o->side == side);
		SX_CHECK(o->price == l->price && o->type == SHMEX_LIMIT);
		SX_CHECK(o->displayed > 0 && o->displayed <= o->remaining);
		SX_CHECK((o->bits & SX_OB_ICEBERG) ? o->displayed <= b->peak[i]
						   : o->displayed == o->remaining);
		SX_CHECK(sx_lookup(b, o->id) == i);
		displayed += (shmex_u128)o->displayed;
		total += (shmex_u128)o->remaining;
		prev = i;
		count++;
	}
	SX_CHECK(l->tail == prev && count == l->count && count > 0);
	SX_CHECK(displayed == l->displayed && total == l->total);
	*orders_seen += count;
	return 0;
}

int shmex_book_verify(const struct shmex_book *b)
{
	uint32_t resting = 0;
	for (int side = 0; side < 2; side++) {
		uint32_t levels = 0;
		const struct sx_level *first = NULL, *prev = NULL;
		for (const struct sx_level *l = b->best[side]; l; l = sx_level_worse(b, l)) {
			if (!first)
				first = l;
			if (prev)
				SX_CHECK(side == SHMEX_BUY ? l->price < prev->price
							   : l->price > prev->price);
			int rc = sx_verify_level(b, l, side, &resting);
			if (rc)
				return rc;
			prev = l;
			levels++;
		}
		/* Every level reached from the best, in strict price order: so
		 * the best is the extreme. */
		SX_CHECK(levels == b->level_count[side]);
	}
	SX_CHECK(sx_levels_verify(b) == 0);
	if (b->best[0] && b->best[1])
		SX_CHECK(b->best[0]->price < b->best[1]->price);
	uint32_t parked = 0, live = 0;
	for (uint32_t i = 0; i < b->order_fresh; i++) {
		const struct sx_order *o = &b->orders[i];
		if (!(o->bits & SX_OB_LIVE))
			continue;
		live++;
		if (o->bits & SX_OB_PARKED) {
			parked++;
			SX_CHECK(o->level == SX_NIL);
			SX_CHECK(sx_heap_has(&b->rising, i) || sx_heap_has(&b->falling, i));
		}
		if (o->tif == SHMEX_GTD)
			SX_CHECK(sx_heap_has(&b->expiry, i));
	}
	SX_CHECK(live == b->live_orders && resting + parked == live);
	SX_CHECK(b->rising.n + b->falling.n == parked);
	return 0;
}
