/**
 * @file owners.h
 * @brief The matcher's map from a live order to the session that placed it
 *        (so a maker's fill, an expiry or a trigger reaches the right
 *        response ring), with each session's orders on a list (so a session
 *        that ends with cancel-on-disconnect cancels exactly its orders).
 *        Fixed capacity, allocated once; no allocation after creation.
 */
#ifndef SX_ENGINE_OWNERS_H
#define SX_ENGINE_OWNERS_H

#include <stdint.h>

struct sx_owners;

/** Room for @p max_orders live orders and @p max_sessions sessions. */
struct sx_owners *sx_owners_create(uint32_t max_orders, uint32_t max_sessions);
void sx_owners_destroy(struct sx_owners *o);

/** Records that @p order_id belongs to @p session. @return 0 or SHMEX_E_FULL. */
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
