/**
 * @file book.h
 * @brief One symbol's limit order book: price-time priority matching.
 *
 * A book is single-threaded: one thread (the symbol's matcher) calls every
 * function on it. It never locks, never allocates after shmex_book_create(),
 * and makes no system calls after it. Capacity is fixed at creation; a
 * command that needs more space than is left is rejected (SHMEX_E_FULL).
 *
 * Prices are positive int64 ticks, quantities positive int64 lots: the whole
 * positive range is allowed. Every outcome is reported, in order, as a
 * struct shmex_book_event through the sink given at creation; the return code
 * of a command repeats what its first event says, for callers that only
 * need to know whether it was accepted.
 */
#ifndef SHMEX_BOOK_H
#define SHMEX_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/error.h"
#include "shmex/int128.h"

#ifdef __cplusplus
extern "C" {
#endif

enum shmex_side { SHMEX_BUY = 0, SHMEX_SELL = 1 };

enum shmex_order_type {
	SHMEX_LIMIT = 0,
	SHMEX_MARKET = 1,
	SHMEX_STOP_LIMIT = 2,        /**< buy: triggers when last >= trigger; sell: last <= trigger */
	SHMEX_STOP_MARKET = 3,
	SHMEX_TAKE_PROFIT_LIMIT = 4, /**< buy: triggers when last <= trigger; sell: last >= trigger */
	SHMEX_TAKE_PROFIT_MARKET = 5,
};

enum shmex_tif {
	SHMEX_GTC = 0, /**< rests until filled or cancelled */
	SHMEX_IOC = 1, /**< fills what crosses now, the rest is killed */
	SHMEX_FOK = 2, /**< fills completely now or not at all */
	SHMEX_GTD = 3, /**< rests until expire_at (book clock, see shmex_book_advance) */
};

/** Self-trade prevention: what happens when an incoming order meets a
 *  resting order of the same owner. Applies only if the incoming order has
 *  SHMEX_OF_OWNER set. */
enum shmex_stp {
	SHMEX_STP_NONE = 0,
	SHMEX_STP_CANCEL_NEWEST = 1, /**< cancel the incoming order's remainder */
	SHMEX_STP_CANCEL_OLDEST = 2, /**< cancel the resting order, keep matching */
	SHMEX_STP_CANCEL_BOTH = 3,   /**< cancel both (resting first) */
};

/** Order flags (struct shmex_order.flags). */
enum shmex_order_flag {
	SHMEX_OF_OWNER = 1u << 0,     /**< owner field is meaningful */
	SHMEX_OF_POST_ONLY = 1u << 1, /**< reject if any part would trade on arrival */
};

/** A new order, as given to shmex_book_submit(). */
struct shmex_order {
	uint64_t id;           /**< unique among live orders of the book */
	uint64_t owner;        /**< user, for self-trade prevention (SHMEX_OF_OWNER) */
	int64_t price;         /**< limit price in ticks; ignored for market types */
	int64_t qty;           /**< quantity in lots, > 0 */
	int64_t display_qty;   /**< iceberg peak; 0 = fully displayed */
	int64_t trigger_price; /**< stop / take-profit trigger in ticks */
	int64_t expire_at;     /**< GTD expiry on the book clock */
	int64_t max_notional;  /**< market orders: cap on sum(price*qty) in tick-lots; 0 = none */
	uint8_t side;          /**< enum shmex_side */
	uint8_t type;          /**< enum shmex_order_type */
	uint8_t tif;           /**< enum shmex_tif */
	uint8_t stp;           /**< enum shmex_stp */
	uint32_t flags;        /**< enum shmex_order_flag */
};

enum shmex_event_type {
	SHMEX_EV_ACCEPTED = 1,  /**< order passed validation (before matching) */
	SHMEX_EV_TRADE = 2,     /**< a fill: order_id is the taker, maker_id the maker */
	SHMEX_EV_RESTED = 3,    /**< remainder now rests on the book (qty = remaining) */
	SHMEX_EV_CANCELLED = 4, /**< ended by cancel, reduce to zero or STP (reason says) */
	SHMEX_EV_EXPIRED = 5,   /**< GTD order reached its expiry */
	SHMEX_EV_KILLED = 6,    /**< unfilled rest of an IOC/FOK/market order */
	SHMEX_EV_REJECTED = 7,  /**< command refused; nothing changed */
	SHMEX_EV_TRIGGERED = 8, /**< stop / take-profit order became active */
	SHMEX_EV_REDUCED = 9,   /**< quantity reduced, priority kept */
	SHMEX_EV_AMENDED = 10,  /**< price or quantity changed, priority lost */
	SHMEX_EV_PARKED = 11,   /**< stop / take-profit waits for its trigger */
};

/** Reasons carried by events. Stable: never renumbered. */
enum shmex_reason {
	SHMEX_R_NONE = 0,
	SHMEX_R_CANCEL_REQUEST = 1,  /**< explicit cancel */
	SHMEX_R_REDUCED_TO_ZERO = 2, /**< reduce took the whole remainder */
	SHMEX_R_SELF_TRADE = 3,      /**< self-trade prevention */
	SHMEX_R_IOC = 4,             /**< IOC or market remainder killed */
	SHMEX_R_FOK = 5,             /**< fill-or-kill could not fill whole */
	SHMEX_R_POST_ONLY = 6,       /**< post-only would have traded */
	SHMEX_R_EXPIRED = 7,         /**< GTD expiry */
	SHMEX_R_UNKNOWN_ORDER = 8,   /**< cancel/reduce/amend of an id not live */
	SHMEX_R_DUPLICATE_ID = 9,    /**< id already live on this book */
	SHMEX_R_BAD_PRICE = 10,
	SHMEX_R_BAD_QTY = 11,
	SHMEX_R_BAD_OPTION = 12,     /**< option that does not apply to the order */
	SHMEX_R_BOOK_FULL = 13,      /**< order or level pool exhausted */
	SHMEX_R_BUDGET = 14,         /**< market order's max_notional used up */
	SHMEX_R_MASS_CANCEL = 15,    /**< cancelled by a mass cancel */
	SHMEX_R_HALTED = 16,
	SHMEX_R_NO_FUNDS = 17,
	SHMEX_R_RISK = 18,
	SHMEX_R_RATE_LIMIT = 19,
	SHMEX_R_UNKNOWN_USER = 20,
	SHMEX_R_UNKNOWN_SYMBOL = 21,
	SHMEX_R_PRICE_BAND = 22,
	SHMEX_R_MAX_OPEN_ORDERS = 23,
	SHMEX_R_DUPLICATE_CLIENT_ID = 24,
	SHMEX_R_OVERFLOW = 25,
	SHMEX_R_MATCH_LIMIT = 26,    /**< the order reached max_matches (shmex_book_params) */
	SHMEX_R_BAD_REQUEST = 27,    /**< daemon: a malformed request (unknown type, field out
					  of range, padding not zero) */
	SHMEX_R_NO_GRANT = 28,       /**< daemon: the session may not act for that user */
	SHMEX_R_SHUTDOWN = 29,       /**< daemon: stopping, request not executed */
	SHMEX_R_NOT_READING = 30,    /**< daemon: session ended, its response ring stayed full */
	SHMEX_R_RING_PROTOCOL = 31,  /**< daemon: session ended, it broke a ring's indices */
};

/** A reason's stable name ("IOC", "NO_FUNDS", ...; "UNKNOWN_REASON" if none). */
const char *shmex_reason_name(int reason);

/** One outcome. Fixed size (one cache line) so it can travel in rings. */
struct shmex_book_event {
	uint16_t type;      /**< enum shmex_event_type */
	uint16_t reason;    /**< enum shmex_reason */
	uint8_t side;       /**< side of order_id */
	uint8_t flags;      /**< enum shmex_event_flag */
	uint16_t pad;
	uint64_t order_id;  /**< the order concerned; the taker of a trade */
	uint64_t maker_id;  /**< trades: the resting order */
	uint64_t owner;     /**< owner of order_id as submitted (meaningful with SHMEX_OF_OWNER) */
	uint64_t maker_owner; /**< trades: owner of maker_id */
	int64_t price;      /**< trade price (the maker's); order price otherwise */
	int64_t qty;        /**< trade qty; qty cancelled/killed/reduced; resting qty */
	int64_t remaining;  /**< order_id's remaining quantity after this event */
};

/** Event flags (struct shmex_book_event.flags). */
enum shmex_event_flag {
	SHMEX_EVF_MAKER_DONE = 1u << 0, /**< trade: the maker is now filled and gone */
	SHMEX_EVF_REPLENISHED = 1u << 1, /**< trade: the maker iceberg took a new peak */
};

/** Receives every event, synchronously, on the book's thread. */
typedef void (*shmex_book_sink_fn)(void *ctx, const struct shmex_book_event *ev);

/** Capacity of a book, fixed at creation. */
struct shmex_book_params {
	uint32_t max_orders; /**< live orders (resting + parked stops), >= 1 */
	uint32_t max_levels; /**< price levels on both sides; 0 = max_orders */
	/** Bound on the work of one order: the most matches it may make while
	 *  it executes (each trade and each self-trade-prevention cancel of a
	 *  resting order counts one); 0 = unlimited. An order that reaches it
	 *  with quantity left and another resting order to meet is KILLED
	 *  (SHMEX_R_MATCH_LIMIT), even a GTC one (its rest would cross). A FOK
	 *  that could not fill whole within it is KILLED (SHMEX_R_MATCH_LIMIT)
	 *  before any trade; its check then reads at most max_matches orders. */
	uint32_t max_matches;
	uint32_t flags;      /**< enum shmex_book_flag */
	/** Width of the price ladder: the window of consecutive prices (ticks)
	 *  around the touch whose levels are found by direct index and
	 *  ordered by bitmaps; levels outside it use a tree and a hash index.
	 *  A power of two from 64 to 2^24; 0 = 65536. It moves with the
	 *  market (amortized). Costs 8 bytes per tick of reserved memory,
	 *  touched only near prices in use. */
	uint32_t ladder_ticks;
};

/** Book options (struct shmex_book_params.flags). */
enum shmex_book_flag {
	/** The book issues order ids: shmex_order.id is ignored by
	 *  shmex_book_submit(), and the order gets shmex_book_next_id() (the
	 *  ACCEPTED event carries it). An issued id names the order's slot, so
	 *  every command finds its order with one load and no hash probe, and
	 *  needs no duplicate check. The most recently freed slot is reused
	 *  first (it is likely still in cache), under a new generation (the
	 *  id's high 32 bits), so an id is not issued again before 2^32 reuses
	 *  of its slot; a book that never freed a slot issues 1, 2, 3, … */
	SHMEX_BOOK_ISSUE_IDS = 1u << 0,
	/** Touch all of the book's memory at creation, so that no command
	 *  waits for the kernel to provide a page (creation takes longer and
	 *  the whole capacity is resident at once). */
	SHMEX_BOOK_PREFAULT = 1u << 1,
	/** Ask for transparent huge pages (madvise) for the book's large
	 *  regions: fewer TLB misses on a big book. */
	SHMEX_BOOK_HUGE_PAGES = 1u << 2,
};

struct shmex_book;

/**
 * Creates an empty book. Memory for @p params capacity is reserved at once
 * (pages are touched only as they are used). The book's hash indices (ids,
 * prices) are keyed with a random seed (getrandom()), so that ids or prices
 * chosen to collide cannot make its commands O(n); the environment variable
 * SHMEX_HASH_SEED (a number) fixes the seed instead, for reproducing a
 * memory layout. No result ever depends on the seed.
 * @return 0, SHMEX_E_INVAL (capacity 0 or too large, unknown flags, no
 *         @p sink, no @p out) or SHMEX_E_NOMEM.
 */
int shmex_book_create(const struct shmex_book_params *params, shmex_book_sink_fn sink,
		      void *sink_ctx, struct shmex_book **out);

/** The id the next accepted order will get in a book made with
 *  SHMEX_BOOK_ISSUE_IDS (0 if the book is full or does not issue ids).
 *  A refused order takes no id. O(1). */
uint64_t shmex_book_next_id(const struct shmex_book *book);

/** Frees a book made by shmex_book_create(). NULL is allowed. */
void shmex_book_destroy(struct shmex_book *book);

/** Bytes a book of @p params capacity reserves (for reports). */
size_t shmex_book_memsize(const struct shmex_book_params *params);

/**
 * Submits a new order: validates it, matches it, rests or kills the
 * remainder, and then runs any stop orders its trades triggered.
 * @return 0 if accepted (whatever then happened to it), else the negative
 *         code matching the REJECTED event (SHMEX_E_DUPLICATE, SHMEX_E_BAD_PRICE,
 *         SHMEX_E_BAD_QTY, SHMEX_E_BAD_OPTION, SHMEX_E_FULL, SHMEX_E_EXPIRED,
 *         SHMEX_E_WOULD_CROSS for a post-only order that would trade).
 */
int shmex_book_submit(struct shmex_book *book, const struct shmex_order *order);

/** Cancels a live order (resting or parked stop).
 *  @return 0 or SHMEX_E_UNKNOWN_ORDER. */
int shmex_book_cancel(struct shmex_book *book, uint64_t id);

/**
 * Reduces a live order's remaining quantity by @p by lots, keeping its time
 * priority; reaching zero (or below) cancels it (reason REDUCED_TO_ZERO). An
 * iceberg loses hidden quantity first.
 * @return 0, SHMEX_E_UNKNOWN_ORDER or SHMEX_E_BAD_QTY (@p by <= 0).
 */
int shmex_book_reduce(struct shmex_book *book, uint64_t id, int64_t by);

/**
 * Amends a live order to @p new_price and @p new_qty (the new remaining
 * quantity). Same price and a smaller quantity is a reduce (priority kept);
 * a price change or a larger quantity loses priority: the order leaves the
 * book and re-enters as if new (and may trade). A post-only order whose new
 * price would cross is refused and left as it was.
 * @return 0, SHMEX_E_UNKNOWN_ORDER, SHMEX_E_BAD_PRICE, SHMEX_E_BAD_QTY or
 *         SHMEX_E_WOULD_CROSS.
 */
int shmex_book_amend(struct shmex_book *book, uint64_t id, int64_t new_price, int64_t new_qty);

/** Commands of shmex_book_run(). */
enum shmex_book_op {
	SHMEX_OP_SUBMIT = 1, /**< shmex_book_submit(order) */
	SHMEX_OP_CANCEL = 2, /**< shmex_book_cancel(id) */
	SHMEX_OP_REDUCE = 3, /**< shmex_book_reduce(id, a) */
	SHMEX_OP_AMEND = 4,  /**< shmex_book_amend(id, a, b) */
};

/** One command of a batch. */
struct shmex_book_cmd {
	uint32_t op;  /**< enum shmex_book_op */
	uint32_t pad;
	uint64_t id;  /**< cancel, reduce, amend: the order */
	int64_t a, b; /**< reduce: a = by; amend: a = new price, b = new quantity */
	struct shmex_order order; /**< submit */
};

/**
 * Runs cmds[0 .. @p n) in order, exactly as the single calls would: the
 * same events, in the same order, and each command's return code in
 * @p rc[i] (@p rc may be NULL; an unknown op is SHMEX_E_INVAL and changes
 * nothing). While it runs one command it starts the memory loads of the
 * commands up to 8 places ahead (the stages of the prefetch hints below),
 * so that on a book far larger than the cache their misses overlap
 * instead of waiting in line. cmds[n .. n + @p ahead) are commands the
 * caller will run next (what else it already sees in its ring): they are
 * only looked at, for their hints, so that a batch boundary costs nothing.
 * A matcher hands it what it found in its ring.
 * @return the number of commands run (@p n).
 */
uint32_t shmex_book_run(struct shmex_book *book, const struct shmex_book_cmd *cmds, uint32_t n,
			uint32_t ahead, int *rc);

/** Cancels every live order of @p owner (reason MASS_CANCEL); returns how many.
 *  Cost: a scan of every order slot used so far, O(capacity in use), whatever
 *  the owner has (about 2 ms at 1M live orders); the book keeps no per-owner
 *  index, which would cost every cancel and fill of an owned order a cache
 *  miss or two. */
uint32_t shmex_book_cancel_owner(struct shmex_book *book, uint64_t owner);

/**
 * Moves the book clock to @p now and expires every GTD order whose
 * expire_at <= now (earliest first). The clock never goes back: a smaller
 * @p now is ignored. @return the number of orders expired.
 */
uint32_t shmex_book_advance(struct shmex_book *book, int64_t now);

/** The earliest expire_at of the book's live GTD orders, INT64_MAX if it
 *  has none (O(1)). */
int64_t shmex_book_next_expiry(const struct shmex_book *book);

/**
 * Prefetch hint for a command that will soon name order @p id (a cancel,
 * reduce or amend, or a new order's duplicate check). It never changes the
 * book or any result; it only starts memory loads early so that they
 * overlap. On a big book every command waits on a few cache misses in
 * sequence (id index slot, then the order, then its queue neighbours); a
 * matcher that sees its next commands issues stage 0 about 8 commands
 * ahead, stage 1 about 4 ahead and stage 2 about 2 ahead. Each stage reads
 * only what the previous one brought in. Cheap (a few ns) when unused.
 */
void shmex_book_prefetch_order(const struct shmex_book *book, uint64_t id, int stage);

/**
 * Prefetch hint for a new order at @p price on @p side: stage 0 brings the
 * price index slot, stage 1 the level, stage 2 its last order (where a
 * resting order is appended). Same contract as shmex_book_prefetch_order().
 */
void shmex_book_prefetch_level(const struct shmex_book *book, int side, int64_t price, int stage);

/** One price level of a depth snapshot. */
struct shmex_level_info {
	int64_t price;
	uint32_t orders; /**< number of orders at the level */
	uint32_t pad;
	shmex_u128 qty;  /**< displayed quantity (a sum of int64s: 128 bits) */
};

/** Best price on @p side, O(1). @return 1 and *price, or 0 if that side is empty. */
int shmex_book_best(const struct shmex_book *book, int side, int64_t *price);

/**
 * Copies up to @p max levels of @p side, best first, into @p out.
 * @return the number written. Cost is O(levels copied).
 */
uint32_t shmex_book_depth(const struct shmex_book *book, int side, struct shmex_level_info *out,
			  uint32_t max);

/** Number of price levels on @p side. */
uint32_t shmex_book_level_count(const struct shmex_book *book, int side);

/** Live orders in the book (resting plus parked stops). */
uint32_t shmex_book_order_count(const struct shmex_book *book);

/** What the book knows of one live order. */
struct shmex_order_info {
	uint64_t id, owner;
	int64_t price, remaining, displayed, trigger_price, expire_at;
	uint8_t side, type, tif, parked; /**< parked: a stop waiting for its trigger */
	uint32_t flags;
};

/** Looks up a live order by id, O(1). @return 0 or SHMEX_E_UNKNOWN_ORDER. */
int shmex_book_order(const struct shmex_book *book, uint64_t id, struct shmex_order_info *out);

/** Last trade price: @return 1 and *price, or 0 if nothing has traded. */
int shmex_book_last_price(const struct shmex_book *book, int64_t *price);

/**
 * Calls @p fn for each resting order on @p side, best price first and in
 * time priority within a price (the exact matching order). For tests and
 * snapshots; O(orders).
 */
void shmex_book_walk(const struct shmex_book *book, int side,
		     void (*fn)(void *ctx, const struct shmex_order_info *o), void *ctx);

/**
 * Checks the book's internal consistency (links, level totals, best price,
 * no crossing, index agreement). For tests; O(orders).
 * @return 0 or SHMEX_E_INVARIANT.
 */
int shmex_book_verify(const struct shmex_book *book);

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_BOOK_H */
