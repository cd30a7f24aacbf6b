/**
 * @file owners.h
 * @brief The matcher's map from a live order to the session that placed it
 *        (so a maker's fill, an expiry or a trigger reaches the right
 *        response ring), with each session's orders on a list (so a session
 *        that ends with cancel-on-disconnect cancels exactly its orders).
 *        A direct array by id (owners.c says why that is enough); no
 *        allocation after creation.
 */
#ifndef SX_ENGINE_OWNERS_H
#define SX_ENGINE_OWNERS_H

#include <stdint.h>

struct sx_owners;

/** A map for ids whose live ones are distinct modulo @p capacity (a power
 *  of two: the exchange's shmex_exchange_order_capacity()), and
 *  @p max_sessions sessions. NULL if @p capacity is not a power of two or
 *  memory is short. */
struct sx_owners *sx_owners_create(uint32_t capacity, uint32_t max_sessions);
void sx_owners_destroy(struct sx_owners *o);

/** Records that @p order_id (not 0) belongs to @p session; an entry of an
 *  earlier id of the same slot is dropped. @return 0, SHMEX_E_DUPLICATE or
 *  SHMEX_E_INVAL. */
int sx_owners_add(struct sx_owners *o, uint64_t order_id, uint16_t session);

/** The session of @p order_id, or SX_NO_SESSION (0xffff). */
uint16_t sx_owners_find(const struct sx_owners *o, uint64_t order_id);

/** Forgets @p order_id (no effect if unknown). */
void sx_owners_remove(struct sx_owners *o, uint64_t order_id);

/**
 * Copies up to @p max of @p session's order ids to @p out and forgets
 * them. @return the number copied (call again while it returns @p max).
 */
uint32_t sx_owners_take_session(struct sx_owners *o, uint16_t session, uint64_t *out, uint32_t max);

/** Live orders recorded. */
uint32_t sx_owners_count(const struct sx_owners *o);

#endif /* SX_ENGINE_OWNERS_H */
