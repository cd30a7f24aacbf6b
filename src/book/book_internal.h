/*
 * Internal layout of struct shmex_book (see docs/ARCHITECTURE.md).
 *
 * Orders live in a fixed pool addressed by 32-bit index. The hot part of an
 * order (everything matching touches) is one 64-byte cache line; what only
 * stops and GTD orders need lives in side arrays. Price levels live in a
 * second pool; each side keeps its levels in a red-black tree ordered by
 * price (libbsd's intrusive <sys/tree.h>, no allocation) for best-price
 * succession, plus a hash index price -> level for O(1) access to an
 * existing level. The best level of each side is cached.
 */
#ifndef SX_BOOK_INTERNAL_H
#define SX_BOOK_INTERNAL_H

#include <stdalign.h>
#include <stdint.h>

#include <bsd/sys/tree.h>

#include "shmex/book.h"
#include "sx_cache.h"
#include "sx_heap.h"
#include "sx_itable.h"

/* sx_order.bits */
enum {
	SX_OB_STP_MASK = 0x3,  /* enum shmex_stp */
	SX_OB_OWNER = 1u << 2, /* SHMEX_OF_OWNER */
	SX_OB_POST = 1u << 3,  /* SHMEX_OF_POST_ONLY */
	SX_OB_PARKED = 1u << 4, /* stop / take-profit waiting for its trigger */
	SX_OB_LIVE = 1u << 5,  /* slot holds a live order */
	SX_OB_ICEBERG = 1u << 6, /* peak[idx] holds its display size */
};

/* One order, one cache line. id must stay first: the id index reads it
 * through sx_itable_key_at(). */
struct sx_order {
	uint64_t id;
	uint64_t owner;
	int64_t price;     /* limit price (0 for market types) */
	int64_t remaining; /* displayed + hidden */
	int64_t displayed; /* resting: the visible part; parked: the trigger price */
	uint64_t seq;      /* acceptance sequence (see MATCHING.md) */
	uint32_t prev, next; /* queue links within the level (SX_NIL ends) */
	uint32_t level;    /* level index; SX_NIL when not resting */
	uint8_t side, type, tif, bits;
};
_Static_assert(sizeof(struct sx_order) == 64, "hot order must be one cache line");

/* Key of a level in the price index: prices are positive, so bit 63 is
 * free to tell the sides apart. */
static inline uint64_t sx_level_key(int side, int64_t price)
{
	return (uint64_t)price | ((uint64_t)side << 63);
}

struct sx_level {
	uint64_t key;       /* sx_level_key(); first: read by the price index */
	RB_ENTRY(sx_level) rb;
	int64_t price;
	uint32_t head, tail; /* FIFO of orders, oldest at head */
	uint32_t count;
	uint32_t side;
	shmex_u128 displayed; /* sum of displayed quantities */
	shmex_u128 total;     /* sum of remaining quantities (hidden included) */
};

/* An iceberg in a FOK check's simulation: its hidden quantity left. */
struct sx_fok_entry {
	uint32_t idx;
	int64_t hidden;
};

RB_HEAD(sx_level_tree, sx_level);
RB_PROTOTYPE(sx_level_tree, sx_level, rb, sx_level_cmp)

/* The price ladder: lad_size consecutive prices from lad_base, each with a
 * direct slot per side, and per side a bitmap of occupied prices with a
 * summary bitmap of non-empty words, for finding the next price. */
#define SX_LADDER_DEFAULT (1u << 16)

struct shmex_book {
	/* Order pool. */
	struct sx_order *orders;
	int64_t *peak;        /* iceberg display size, written for icebergs only */
	int64_t *expire_at;   /* GTD expiry, written for GTD orders only */
	uint32_t max_orders;
	uint32_t order_fresh; /* slots >= this were never used (untouched pages) */
	uint32_t order_free;  /* freed slots, reused first: a LIFO through .next */
	uint8_t issue_ids;    /* SHMEX_BOOK_ISSUE_IDS: id = generation << 32 | slot + 1 */
	uint32_t live_orders;
	struct sx_itable ids;

	/* Price ladder (see SX_LADDER): levels in the window live here; levels
	 * outside it live in the per-side trees and the price index. */
	int64_t lad_base;
	uint32_t lad_size;      /* prices in the window, a power of two >= 64 */
	uint32_t lad_words;     /* lad_size / 64 */
	uint32_t lad_sums;      /* words of lad_sum: ceil(lad_words / 64) */
	uint32_t *lad_slot[2];  /* level index + 1; 0 = no level */
	uint64_t *lad_bits[2];  /* bit p: a level at lad_base + p */
	uint64_t *lad_sum[2];   /* bit w: lad_bits word w is not 0 */
	uint32_t lad_count[2];  /* levels in the ladder */
	uint32_t lad_credit;    /* level creations since the window last moved */

	/* Level pool and per-side indices. */
	struct sx_level *levels;
	uint32_t max_levels;
	uint32_t level_fresh;
	uint32_t level_free;  /* free list through sx_level.head */
	uint32_t level_count[2];
	struct sx_level *best[2];
	struct sx_level_tree tree[2];
	struct sx_itable prices; /* both sides, by sx_level_key() */

	/* Parked stops: rising fires while key <= hi (buy stop, sell take-profit,
	 * key = trigger); falling fires while key <= -lo (sell stop, buy
	 * take-profit, key = -trigger). */
	struct sx_heap rising, falling;
	struct sx_heap expiry; /* GTD orders by (expire_at, seq) */
	uint32_t *queue;       /* triggered orders waiting to run; also scratch */
	uint32_t queue_head, queue_tail;

	/* Trade tape state for triggers. */
	int64_t last_price;
	int64_t lo, hi;       /* lowest / highest trade price since the last check */
	uint8_t has_last;
	uint8_t traded;       /* a trade happened since the last trigger check */

	int64_t now;
	uint64_t next_seq;

	/* Work bound per executing order (shmex_book_params.max_matches;
	 * UINT64_MAX when unlimited: a 64-bit count that no order can reach,
	 * where a 32-bit one stopped an "unlimited" order, even a FOK, after
	 * 2^32 - 1 matches) and the FOK check's scratch ring of icebergs
	 * waiting to replenish (fok_mask + 1 entries). */
	uint64_t max_matches;
	uint32_t fok_mask;
	struct sx_fok_entry *fok_ring;

	shmex_book_sink_fn sink;
	void *sink_ctx;

	/* Memory regions, for destroy. */
	void *region[32];
	size_t region_size[32];
	unsigned nregions;
	uint32_t flags;       /* enum shmex_book_flag */
};

/* ---- book.c ---------------------------------------------------------- */

/* Zeroed memory for a book at creation, freed by shmex_book_destroy(). */
void *sx_book_reserve(struct shmex_book *b, size_t bytes);

/* Slot of live order @id, or SX_NIL. */
static inline uint32_t sx_lookup(const struct shmex_book *b, uint64_t id)
{
	if (b->issue_ids) {
		const uint32_t idx = (uint32_t)id - 1;
		return idx < b->order_fresh && b->orders[idx].id == id &&
			       (b->orders[idx].bits & SX_OB_LIVE)
			       ? idx
			       : SX_NIL;
	}
	return sx_itable_find(&b->ids, id, sx_itable_tag(&b->ids, id), b->orders,
			      sizeof(struct sx_order));
}

/* ---- book_levels.c: finding and ordering price levels ---------------- */

/* Position of @price in the ladder window, or >= lad_size if outside. */
static inline uint64_t sx_lad_pos(const struct shmex_book *b, int64_t price)
{
	return (uint64_t)price - (uint64_t)b->lad_base;
}

/* Sets up a ladder of @ticks prices; 0 or SHMEX_E_NOMEM. */
int sx_levels_init(struct shmex_book *b, uint32_t ticks);
/* Level at @price on @side, or NULL. */
struct sx_level *sx_level_find_slow(const struct shmex_book *b, int side, int64_t price);
/* Level at @price on @side, created if absent; NULL if the pool is full. */
struct sx_level *sx_level_create(struct shmex_book *b, int side, int64_t price);
/* Removes an empty level (updating the best price). */
void sx_level_remove(struct shmex_book *b, struct sx_level *l);
/* The next level after @l going away from the best price, or NULL. */
struct sx_level *sx_level_worse(const struct shmex_book *b, const struct sx_level *l);
/* The ladder's and trees' agreement, for shmex_book_verify(). */
int sx_levels_verify(const struct shmex_book *b);

static inline struct sx_level *sx_level_find(const struct shmex_book *b, int side, int64_t price)
{
	const uint64_t pos = sx_lad_pos(b, price);
	if (SX_LIKELY(pos < b->lad_size)) {
		const uint32_t li1 = b->lad_slot[side][pos];
		return li1 ? &b->levels[li1 - 1] : NULL;
	}
	return sx_level_find_slow(b, side, price);
}

static inline struct sx_level *sx_level_get(struct shmex_book *b, int side, int64_t price)
{
	struct sx_level *l = sx_level_find(b, side, price);
	return SX_LIKELY(l != NULL) ? l : sx_level_create(b, side, price);
}

#endif /* SX_BOOK_INTERNAL_H */
