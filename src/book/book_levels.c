/*
 * Price levels: where a book finds the level of a price and the next price.
 *
 * Most activity happens near the touch, so a window of lad_size prices is
 * a ladder: each price has a direct slot per side (level index + 1), and
 * per side a bitmap of occupied prices with a summary bitmap of non-empty
 * words finds the next occupied price in a few word operations. Creating
 * or removing a level there is a store and a bit flip. Prices outside the
 * window (any positive int64 is allowed) keep the general structures: a
 * red-black tree per side (libbsd's intrusive <sys/tree.h>) for order and
 * the keyed hash index for lookup.
 *
 * The window starts at [0, lad_size) and moves, centred on the new price,
 * when a level is created outside it that becomes its side's best price,
 * provided the move is paid for: every level it carries between the
 * structures costs a tree operation, so a move is allowed only when the
 * levels on the book are no more than the levels created since the last
 * move (or the window is empty). Moves are thus amortized O(log n) per
 * level created, whatever prices a client chooses.
 */
#include <string.h>

#include "book_internal.h"

static int sx_level_cmp(const struct sx_level *a, const struct sx_level *b)
{
	return (a->price > b->price) - (a->price < b->price);
}

RB_GENERATE(sx_level_tree, sx_level, rb, sx_level_cmp)

#define SX_LEVEL_KEYS(b) (b)->levels, sizeof(struct sx_level)

int sx_levels_init(struct shmex_book *b, uint32_t ticks)
{
	b->lad_size = ticks;
	b->lad_words = ticks / 64;
	b->lad_sums = (b->lad_words + 63) / 64;
	for (int side = 0; side < 2; side++) {
		b->lad_slot[side] = sx_book_reserve(b, (size_t)b->lad_size * sizeof(uint32_t));
		b->lad_bits[side] = sx_book_reserve(b, (size_t)b->lad_words * sizeof(uint64_t));
		b->lad_sum[side] = sx_book_reserve(b, (size_t)b->lad_sums * sizeof(uint64_t));
		if (!b->lad_slot[side] || !b->lad_bits[side] || !b->lad_sum[side])
			return SHMEX_E_NOMEM;
	}
	b->lad_base = 0;
	return 0;
}

/* ---- bitmaps --------------------------------------------------------- */

static inline void sx_bit_set(uint64_t *w, uint64_t *sum, uint32_t pos)
{
	w[pos >> 6] |= UINT64_C(1) << (pos & 63);
	sum[pos >> 12] |= UINT64_C(1) << ((pos >> 6) & 63);
}

static inline void sx_bit_clear(uint64_t *w, uint64_t *sum, uint32_t pos)
{
	if ((w[pos >> 6] &= ~(UINT64_C(1) << (pos & 63))) == 0)
		sum[pos >> 12] &= ~(UINT64_C(1) << ((pos >> 6) & 63));
}

/* Highest set position below @pos (pos <= lad_size), or SX_NIL. */
static uint32_t sx_bit_below(const struct shmex_book *b, const uint64_t *w, const uint64_t *sum,
			     uint32_t pos)
{
	uint32_t wi = pos >> 6;
	if (wi < b->lad_words) {
		uint64_t m = w[wi] & ((UINT64_C(1) << (pos & 63)) - 1);
		if (m)
			return (wi << 6) | (uint32_t)(63 - __builtin_clzll(m));
	}
	uint32_t si = wi >> 6;
	uint64_t sm = si < b->lad_sums ? sum[si] & ((UINT64_C(1) << (wi & 63)) - 1) : 0;
	while (sm == 0) {
		if (si == 0)
			return SX_NIL;
		sm = sum[--si];
	}
	uint32_t w2 = (si << 6) | (uint32_t)(63 - __builtin_clzll(sm));
	return (w2 << 6) | (uint32_t)(63 - __builtin_clzll(w[w2]));
}

/* Lowest set position above @pos (pos >= -1 as UINT32_MAX), or SX_NIL. */
static uint32_t sx_bit_above(const struct shmex_book *b, const uint64_t *w, const uint64_t *sum,
			     uint32_t pos)
{
	uint32_t start = pos + 1; /* UINT32_MAX + 1 = 0 */
	if (start >= b->lad_size)
		return SX_NIL;
	uint32_t wi = start >> 6;
	uint64_t m = w[wi] & (~UINT64_C(0) << (start & 63));
	if (m)
		return (wi << 6) | (uint32_t)__builtin_ctzll(m);
	uint32_t si = wi >> 6;
	uint64_t sm = (wi & 63) == 63 ? 0 : sum[si] & (~UINT64_C(0) << ((wi & 63) + 1));
	while (sm == 0) {
		if (++si == b->lad_sums)
			return SX_NIL;
		sm = sum[si];
	}
	uint32_t w2 = (si << 6) | (uint32_t)__builtin_ctzll(sm);
	return (w2 << 6) | (uint32_t)__builtin_ctzll(w[w2]);
}

/* The best ladder level of @side strictly worse than position @pos
 * (bids: below it; asks: above it; pos may be b->lad_size for bids or
 * UINT32_MAX for asks to search the whole window), or NULL. */
static struct sx_level *sx_ladder_after(const struct shmex_book *b, int side, uint32_t pos)
{
	if (b->lad_count[side] == 0)
		return NULL;
	uint32_t p = side == SHMEX_BUY ? sx_bit_below(b, b->lad_bits[side], b->lad_sum[side], pos)
				       : sx_bit_above(b, b->lad_bits[side], b->lad_sum[side], pos);
	return p == SX_NIL ? NULL : &b->levels[b->lad_slot[side][p] - 1];
}

/* ---- the general structures (outside the window) --------------------- */

struct sx_level *sx_level_find_slow(const struct shmex_book *b, int side, int64_t price)
{
	const uint64_t key = sx_level_key(side, price);
	const uint32_t tag = sx_itable_block_tag(&b->prices, key);
	uint32_t li = sx_itable_find(&b->prices, key, tag, SX_LEVEL_KEYS(b));
	return li == SX_NIL ? NULL : &b->levels[li];
}

static void sx_far_insert(struct shmex_book *b, struct sx_level *l)
{
	sx_level_tree_RB_INSERT(&b->tree[l->side], l);
	sx_itable_insert(&b->prices, sx_itable_block_tag(&b->prices, l->key),
			 (uint32_t)(l - b->levels));
}

static void sx_far_remove(struct shmex_book *b, struct sx_level *l)
{
	sx_level_tree_RB_REMOVE(&b->tree[l->side], l);
	sx_itable_erase(&b->prices, sx_itable_block_tag(&b->prices, l->key),
			(uint32_t)(l - b->levels));
}

static void sx_near_insert(struct shmex_book *b, struct sx_level *l)
{
	const uint32_t pos = (uint32_t)sx_lad_pos(b, l->price);
	b->lad_slot[l->side][pos] = (uint32_t)(l - b->levels) + 1;
	sx_bit_set(b->lad_bits[l->side], b->lad_sum[l->side], pos);
	b->lad_count[l->side]++;
}

static void sx_near_remove(struct shmex_book *b, struct sx_level *l)
{
	const uint32_t pos = (uint32_t)sx_lad_pos(b, l->price);
	b->lad_slot[l->side][pos] = 0;
	sx_bit_clear(b->lad_bits[l->side], b->lad_sum[l->side], pos);
	b->lad_count[l->side]--;
}

/* The tree level of @side nearest the window on its worse side (bids:
 * the highest below the window; asks: the lowest above it), or NULL. */
static struct sx_level *sx_tree_beyond_window(const struct shmex_book *b, int side)
{
	struct sx_level_tree *t = (struct sx_level_tree *)(uintptr_t)&b->tree[side];
	struct sx_level probe;
	if (side == SHMEX_BUY) {
		probe.price = b->lad_base;
		struct sx_level *ge = sx_level_tree_RB_NFIND(t, &probe);
		return ge ? sx_level_tree_RB_PREV(ge) : RB_MAX(sx_level_tree, t);
	}
	if (b->lad_base > INT64_MAX - (int64_t)b->lad_size)
		return NULL; /* the window reaches the largest price */
	probe.price = b->lad_base + (int64_t)b->lad_size;
	return sx_level_tree_RB_NFIND(t, &probe);
}

struct sx_level *sx_level_worse(const struct shmex_book *b, const struct sx_level *l)
{
	const int side = (int)l->side;
	const uint64_t pos = sx_lad_pos(b, l->price);
	if (pos < b->lad_size) {
		struct sx_level *n = sx_ladder_after(b, side, (uint32_t)pos);
		return n ? n : sx_tree_beyond_window(b, side);
	}
	/* RB_PREV/RB_NEXT take a non-const node but only read it. */
	struct sx_level *m = (struct sx_level *)(uintptr_t)l;
	struct sx_level *q = side == SHMEX_BUY ? sx_level_tree_RB_PREV(m) : sx_level_tree_RB_NEXT(m);
	/* A tree level on the better side of the window: the window's levels
	 * come before any tree level beyond it. */
	const int before_window = side == SHMEX_BUY ? l->price > b->lad_base : l->price < b->lad_base;
	if (before_window && b->lad_count[side] &&
	    (q == NULL || sx_lad_pos(b, q->price) < b->lad_size ||
	     (side == SHMEX_BUY ? q->price < b->lad_base : q->price > b->lad_base)))
		return sx_ladder_after(b, side, side == SHMEX_BUY ? b->lad_size : UINT32_MAX);
	return q;
}

/* ---- moving the window ----------------------------------------------- */

/* Carries every level between the structures so that the window starts at
 * @base. */
static void sx_ladder_move(struct shmex_book *b, int64_t base)
{
	for (int side = 0; side < 2; side++) {
		/* Out of the ladder: every level it holds (at most lad_count). */
		uint32_t p = side == SHMEX_BUY ? b->lad_size : UINT32_MAX;
		while (b->lad_count[side]) {
			p = side == SHMEX_BUY ? sx_bit_below(b, b->lad_bits[side], b->lad_sum[side], p)
					      : sx_bit_above(b, b->lad_bits[side], b->lad_sum[side], p);
			struct sx_level *l = &b->levels[b->lad_slot[side][p] - 1];
			sx_near_remove(b, l);
			sx_far_insert(b, l);
		}
	}
	b->lad_base = base;
	for (int side = 0; side < 2; side++) {
		/* Into the ladder: the tree levels inside the new window. */
		struct sx_level probe;
		probe.price = base;
		struct sx_level *l = sx_level_tree_RB_NFIND(&b->tree[side], &probe);
		while (l && sx_lad_pos(b, l->price) < b->lad_size) {
			struct sx_level *next = sx_level_tree_RB_NEXT(l);
			sx_far_remove(b, l);
			sx_near_insert(b, l);
			l = next;
		}
	}
	b->lad_credit = 0;
}

/* A window that starts lad_size / 2 below @price, within [0, INT64_MAX]. */
static int64_t sx_ladder_base_for(const struct shmex_book *b, int64_t price)
{
	if (price < (int64_t)(b->lad_size / 2))
		return 0;
	if (price > INT64_MAX - (int64_t)(b->lad_size / 2))
		return INT64_MAX - (int64_t)b->lad_size + 1;
	return price - (int64_t)(b->lad_size / 2);
}

struct sx_level *sx_level_create(struct shmex_book *b, int side, int64_t price)
{
	uint32_t li = b->level_free;
	if (li != SX_NIL)
		b->level_free = b->levels[li].head;
	else if (b->level_fresh < b->max_levels)
		li = b->level_fresh++;
	else
		return NULL;
	struct sx_level *l = &b->levels[li];
	memset(l, 0, sizeof *l);
	l->key = sx_level_key(side, price);
	l->price = price;
	l->head = l->tail = SX_NIL;
	l->side = (uint32_t)side;
	b->level_count[side]++;
	const int best = b->best[side] == NULL || (side == SHMEX_BUY ? price > b->best[side]->price
								     : price < b->best[side]->price);
	if (b->lad_credit < UINT32_MAX)
		b->lad_credit++;
	if (sx_lad_pos(b, price) >= b->lad_size && best &&
	    b->level_count[0] + b->level_count[1] - 1 <= b->lad_credit)
		sx_ladder_move(b, sx_ladder_base_for(b, price));
	if (sx_lad_pos(b, price) < b->lad_size)
		sx_near_insert(b, l);
	else
		sx_far_insert(b, l);
	if (best)
		b->best[side] = l;
	return l;
}

void sx_level_remove(struct shmex_book *b, struct sx_level *l)
{
	const int side = (int)l->side;
	if (b->best[side] == l)
		b->best[side] = sx_level_worse(b, l);
	if (sx_lad_pos(b, l->price) < b->lad_size)
		sx_near_remove(b, l);
	else
		sx_far_remove(b, l);
	b->level_count[side]--;
	l->head = b->level_free;
	b->level_free = (uint32_t)(l - b->levels);
}

/* ---- verification ---------------------------------------------------- */

#define SX_CHECK(cond)                         \
	do {                                   \
		if (!(cond))                   \
			return SHMEX_E_INVARIANT; \
	} while (0)

int sx_levels_verify(const struct shmex_book *b)
{
	/* Every slot is read on small ladders; on big ones (verify runs after
	 * every command in the differential test) only the occupied words. */
	const int every_slot = b->lad_size <= 4096;
	for (int side = 0; side < 2; side++) {
		uint32_t near = 0, far = 0;
		for (uint32_t w = 0; w < b->lad_words; w++) {
			uint64_t bits = b->lad_bits[side][w];
			SX_CHECK(!!bits == !!(b->lad_sum[side][w >> 6] & (UINT64_C(1) << (w & 63))));
			if (!bits && !every_slot)
				continue;
			for (uint32_t k = 0; k < 64; k++) {
				const uint32_t slot = b->lad_slot[side][w * 64 + k];
				SX_CHECK(!!(bits & (UINT64_C(1) << k)) == !!slot);
				if (!slot)
					continue;
				const struct sx_level *l = &b->levels[slot - 1];
				SX_CHECK(slot - 1 < b->level_fresh && (int)l->side == side);
				SX_CHECK(sx_lad_pos(b, l->price) == w * 64 + k);
				near++;
			}
		}
		SX_CHECK(near == b->lad_count[side]);
		struct sx_level_tree *t = (struct sx_level_tree *)(uintptr_t)&b->tree[side];
		struct sx_level *l;
		RB_FOREACH(l, sx_level_tree, t) {
			SX_CHECK(sx_lad_pos(b, l->price) >= b->lad_size && (int)l->side == side);
			SX_CHECK(sx_level_find_slow(b, side, l->price) == l);
			far++;
		}
		SX_CHECK(near + far == b->level_count[side]);
	}
	return 0;
}
