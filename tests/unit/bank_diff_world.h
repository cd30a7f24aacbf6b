/*
 * The bank differential test's market (test_bank_diff.c): one table of
 * assets, symbols and users, rendered as the engine's INI text and built
 * as the reference exchange, with the same ids on both sides.
 */
#ifndef BANK_DIFF_WORLD_H
#define BANK_DIFF_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/exchange.h"

#define BD_NASSETS 4u   /* USD, BTC, ETH, SOL */
#define BD_NSYMBOLS 5u  /* BTC/USD, ETH/USD, SOL/USD, ETH/BTC, SOL/ETH */
#define BD_MAX_USERS 8u
#define BD_MAX_MATCHERS 4u
#define BD_MAX_ORDERS 65536u /* the most order records an exchange may have */
#define BD_SESSIONS 4u       /* session slots the requests come from */

struct bd_world {
	uint32_t matchers;                    /* 2 .. BD_MAX_MATCHERS */
	uint32_t users;                       /* 1 .. BD_MAX_USERS */
	int tight;                            /* a few orders' worth each, else ample */
	uint32_t max_orders;                  /* order records per exchange (power of two,
						 <= BD_MAX_ORDERS): few, and the reference
						 reuses records, the matchers later; the
						 bank's client-id routes (2 per record)
						 collide, and cancels by client id go to
						 every matcher */
	uint32_t matcher_of[BD_NSYMBOLS + 1]; /* symbol id -> matcher */
};

/** Fills @p w for @p matchers and @p users. */
void bd_world_init(struct bd_world *w, uint32_t matchers, uint32_t users, int tight,
		   uint32_t max_orders);

/** A symbol's parameters (1..BD_NSYMBOLS), else NULL. */
const struct shmex_symbol_params *bd_world_symbol(uint32_t id);

/** A market buy's budget ceiling on @p symbol (quote minor units, about
 *  twice the value of 20 lots at the reference price). */
int64_t bd_world_budget(uint32_t symbol);

/** Each user's deposit of @p asset (1..BD_NASSETS). */
int64_t bd_world_deposit(const struct bd_world *w, uint32_t asset);

/** The matcher of @p symbol as the engine routes it (unknown ones too). */
uint32_t bd_world_matcher(const struct bd_world *w, uint32_t symbol);

/** The engine's configuration: layout dedicated, one gateway, w->matchers
 *  matchers, the symbols spread over them, the users funded, a grant.
 *  @return 0, or -1 if @p cap is too small. */
int bd_world_ini(const struct bd_world *w, char *buf, size_t cap);

/** The reference exchange: the same registries and deposits, in the
 *  engine's order (same ids). @return 0 or a shmex error. */
int bd_world_reference(const struct bd_world *w,
		       void (*sink)(void *ctx, const struct shmex_order_report *r), void *ctx,
		       struct shmex_exchange **out);

#endif /* BANK_DIFF_WORLD_H */
