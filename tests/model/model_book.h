/**
 * @file model_book.h
 * @brief Slow, obviously-correct model of the order book (include/shmex/book.h).
 *
 * Same semantics as shmex_book_* (docs/MATCHING.md) and the same event stream,
 * written for clarity, not speed: a plain array of live orders, linear scans,
 * sorting when an order is needed. Only for tests (the randomized
 * differential test holds the fast book to it). Single-threaded.
 */
#ifndef SHMEX_MODEL_BOOK_H
#define SHMEX_MODEL_BOOK_H

#include <stdint.h>

#include "shmex/book.h"

struct model_book;

/** Creates an empty model book for @p max_orders live orders (max_levels =
 *  max_orders). @return NULL if @p max_orders is 0 or memory is short. */
struct model_book *model_book_create(uint32_t max_orders, shmex_book_sink_fn sink, void *ctx);

/** Same, with an explicit level capacity (0 = max_orders), as
 *  struct shmex_book_params.max_levels. */
struct model_book *model_book_create_levels(uint32_t max_orders, uint32_t max_levels,
					    shmex_book_sink_fn sink, void *ctx);

/** Same, with struct shmex_book_params.max_matches (0 = unlimited). */
struct model_book *model_book_create_ex(uint32_t max_orders, uint32_t max_levels,
					uint32_t max_matches, shmex_book_sink_fn sink, void *ctx);

void model_book_destroy(struct model_book *b);

int model_book_submit(struct model_book *b, const struct shmex_order *o);
int model_book_cancel(struct model_book *b, uint64_t id);
int model_book_reduce(struct model_book *b, uint64_t id, int64_t by);
int model_book_amend(struct model_book *b, uint64_t id, int64_t new_price, int64_t new_qty);
uint32_t model_book_cancel_owner(struct model_book *b, uint64_t owner);
uint32_t model_book_advance(struct model_book *b, int64_t now);

int model_book_best(const struct model_book *b, int side, int64_t *price);
uint32_t model_book_depth(const struct model_book *b, int side, struct shmex_level_info *out,
			  uint32_t max);
uint32_t model_book_level_count(const struct model_book *b, int side);
uint32_t model_book_order_count(const struct model_book *b);
int model_book_order(const struct model_book *b, uint64_t id, struct shmex_order_info *out);
int model_book_last_price(const struct model_book *b, int64_t *price);
void model_book_walk(const struct model_book *b, int side,
		     void (*fn)(void *ctx, const struct shmex_order_info *o), void *ctx);

/** Id of the @p i-th live order (0 <= i < order_count), in no particular
 *  order: lets a test pick live ids at random. */
uint64_t model_book_live_id(const struct model_book *b, uint32_t i);

#endif /* SHMEX_MODEL_BOOK_H */
