/**
 * @file registry.h
 * @brief Read-mostly registries the gateways consult on every request and
 *        the control thread changes while trading: grants (which uid may
 *        act for which user, in which roles) and the symbol -> matcher
 *        routing. liburcu, QSBR flavour: readers (gateway threads) take no
 *        lock and pay nothing but a quiescent-state announcement per duty
 *        cycle; the control thread is the only writer. Each registry is an
 *        immutable table behind one RCU pointer (copy, publish, grace
 *        period, free).
 *
 * ThreadSanitizer does not see liburcu's synchronisation (../shared/
 * STYLE.md): pointers and node fields are therefore published and read with
 * C11 atomics (release/acquire, the same instructions on x86 as liburcu's),
 * and rcu.h carries the grace-period annotations for TSan builds.
 */
#ifndef SX_ENGINE_REGISTRY_H
#define SX_ENGINE_REGISTRY_H

#include <stdint.h>

struct sx_registry;

/** Creates empty registries for up to @p max_symbols symbols. NULL on failure. */
struct sx_registry *sx_registry_create(uint32_t max_symbols);

/** Frees everything (no reader may be running). */
void sx_registry_destroy(struct sx_registry *r);

/** Writer (control thread): adds @p roles for (@p uid, @p user); @p user
 *  UINT32_MAX means every user. @return 0 or SHMEX_E_NOMEM. */
int sx_registry_grant(struct sx_registry *r, uint32_t uid, uint32_t user, uint32_t roles);

/** Reader (a QSBR-registered thread, between quiescent states): the roles
 *  @p uid has for @p user (its grants for that user and for every user). */
uint32_t sx_registry_roles(struct sx_registry *r, uint32_t uid, uint32_t user);

/** Writer: routes @p symbol to @p matcher (copy, publish, wait for readers,
 *  free the old table). @return 0, SHMEX_E_INVAL or SHMEX_E_NOMEM. */
int sx_registry_route(struct sx_registry *r, uint32_t symbol, uint32_t matcher);

/** Reader: the matcher of @p symbol, or UINT32_MAX if it has none. */
uint32_t sx_registry_matcher(struct sx_registry *r, uint32_t symbol);

#endif /* SX_ENGINE_REGISTRY_H */
