/*
 * The quoting logic of shmex-mm for one symbol: a reference price that
 * walks at random (seeded) and is pulled back toward an anchor (the start
 * price, then the symbol's last trade), and K levels of post-only limit
 * orders on each side around it. Each step moves the reference and amends
 * every live quote whose price no longer matches; an empty level gets a new
 * order. A level waits for the answer to its request before the next one,
 * so it never has two requests in flight.
 *
 * Level k (0 = best) bids at ref - ceil(spread/2) - k*spread and asks at
 * ref + ceil(spread/2) + k*spread, ticks.
 */
#ifndef SX_MM_QUOTER_H
#define SX_MM_QUOTER_H

#include <stdint.h>

#include "common.h"
#include "market.h"
#include "pending.h"
#include "sender.h"
#include "shmex/client.h"

#define SX_MAX_LEVELS 16
#define SX_REASONS 64 /* more than enum shmex_reason has */

struct sx_quoter_params {
	uint32_t user;
	int levels;      /* 1..SX_MAX_LEVELS */
	int64_t spread;  /* ticks, >= 1 */
	int64_t size;    /* lots per quote */
	int64_t walk;    /* the reference moves up to this many ticks a step */
	int64_t revert;  /* pull: one tick toward the anchor with probability |ref-anchor|/revert */
};

enum sx_slot_state { SX_SLOT_EMPTY = 0, SX_SLOT_OPENING, SX_SLOT_LIVE };

/** One quote: a side and a level. */
struct sx_slot {
	uint8_t state;     /* enum sx_slot_state */
	uint8_t side;      /* enum shmex_side */
	uint16_t level;
	uint32_t pad;
	uint64_t order_id; /* once accepted */
	int64_t price;     /* as the engine last reported it */
	int64_t remaining;
	uint64_t busy_req; /* its request in flight, 0 if none */
};

/** What a symbol's quoting did. */
struct sx_quote_stats {
	uint64_t fills, maker_fills;
	int64_t bought, sold;        /* lots */
	int64_t paid, received;      /* quote minor units, fees included */
	int64_t fees;                /* quote minor units (< 0: rebates) */
	uint64_t rejects;
	uint64_t refused_by[SX_REASONS]; /* by enum shmex_reason */
	uint64_t ended_by_engine;    /* quotes cancelled other than by us (e.g. STP) */
};

struct sx_quoter {
	const struct sx_market *m;
	uint16_t index;              /* the market's index (pending entries) */
	struct sx_quoter_params p;
	int64_t anchor, ref;         /* ticks */
	int64_t ref_lo, ref_hi;      /* the range the reference visited */
	uint64_t steps;
	struct sx_slot slot[2 * SX_MAX_LEVELS];
	struct sx_quote_stats st;
};

/** Sets up @p q to quote @p m from @p start_price (ticks, > 0). */
void sx_quoter_init(struct sx_quoter *q, const struct sx_market *m, uint16_t index,
		    const struct sx_quoter_params *p, int64_t start_price);

/** Moves the anchor (the symbol's last trade price). */
void sx_quoter_set_anchor(struct sx_quoter *q, int64_t price);

/**
 * One step: moves the reference and sends what the quotes need.
 * @return requests sent (>= 0), or a negative fatal code.
 */
int sx_quoter_step(struct sx_quoter *q, struct sx_rng *rng, struct sx_sender *s);

/**
 * Takes one ORDER or REJECT report about this symbol. @p e is the pending
 * request it answers (NULL: a report not caused by this session).
 */
void sx_quoter_on_report(struct sx_quoter *q, const struct shmex_report *r,
			 const struct sx_pending_entry *e);

/** The answer to @p e (a NEW, AMEND or CANCEL of one of q's slots) is complete. */
void sx_quoter_on_done(struct sx_quoter *q, const struct sx_pending_entry *e);

/** Live or opening quotes. */
int sx_quoter_live(const struct sx_quoter *q);

#endif /* SX_MM_QUOTER_H */
