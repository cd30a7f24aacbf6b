/*
 * Grants and symbol routing: each an immutable table published through one
 * RCU pointer. A writer (the control thread, the only one) copies the
 * current table, changes the copy, publishes it with a release store,
 * waits for a grace period and frees the old one. Readers (gateway
 * threads, QSBR) load the pointer with acquire and use the table until
 * their next quiescent state. Grants are few and change rarely, so a copy
 * per change costs nothing that matters, and the reader's lookup is one
 * probe into a small open-addressing table, with no locks and no atomics
 * beyond the pointer load. (liburcu's rculfhash would do as well, but its
 * resize worker thread synchronises through futexes that ThreadSanitizer
 * cannot see, so its own frees are reported as races.)
 */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "rcu.h"
#include "shmex/error.h"

#ifdef SX_RCU_TSAN
char sx_rcu_grace;
#endif

struct sx_grant_slot {
	uint64_t key;   /* uid << 32 | user; 0 with roles 0: empty */
	uint32_t roles;
	uint32_t used;
};

struct sx_grants {
	uint32_t n;     /* grants held */
	uint32_t mask;  /* slots - 1 */
	struct sx_grant_slot slot[];
};

struct sx_routes {
	uint32_t n;
	uint32_t matcher[]; /* UINT32_MAX: no such symbol */
};

struct sx_registry {
	struct sx_grants *grants; /* published with release, read with acquire */
	struct sx_routes *routes; /* likewise */
	uint32_t max_symbols;
};

static uint64_t sx_hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return x;
}

static struct sx_grants *sx_grants_new(uint32_t slots)
{
	struct sx_grants *g = calloc(1, sizeof *g + (size_t)slots * sizeof g->slot[0]);
	if (g)
		g->mask = slots - 1;
	return g;
}

/* Inserts or ORs into a table with room (writer's private copy). */
static void sx_grants_put(struct sx_grants *g, uint64_t key, uint32_t roles)
{
	uint32_t i = (uint32_t)sx_hash64(key) & g->mask;
	while (g->slot[i].used && g->slot[i].key != key)
		i = (i + 1) & g->mask;
	if (!g->slot[i].used) {
		g->slot[i].used = 1;
		g->slot[i].key = key;
		g->n++;
	}
	g->slot[i].roles |= roles;
}

static uint32_t sx_grants_get(const struct sx_grants *g, uint64_t key)
{
	uint32_t i = (uint32_t)sx_hash64(key) & g->mask;
	while (g->slot[i].used) {
		if (g->slot[i].key == key)
			return g->slot[i].roles;
		i = (i + 1) & g->mask;
	}
	return 0;
}

struct sx_registry *sx_registry_create(uint32_t max_symbols)
{
	struct sx_registry *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->max_symbols = max_symbols;
	struct sx_grants *g = sx_grants_new(16);
	struct sx_routes *t = malloc(sizeof *t + (size_t)(max_symbols + 1) * sizeof(uint32_t));
	if (!g || !t) {
		free(g);
		free(t);
		free(r);
		return NULL;
	}
	t->n = max_symbols + 1;
	memset(t->matcher, 0xff, (size_t)t->n * sizeof(uint32_t));
	/* before any reader runs; release for the same pairing as updates */
	__atomic_store_n(&r->grants, g, __ATOMIC_RELEASE);
	__atomic_store_n(&r->routes, t, __ATOMIC_RELEASE);
	return r;
}

void sx_registry_destroy(struct sx_registry *r)
{
	if (!r)
		return;
	free(r->grants);
	free(r->routes);
	free(r);
}

int sx_registry_grant(struct sx_registry *r, uint32_t uid, uint32_t user, uint32_t roles)
{
	const struct sx_grants *old = __atomic_load_n(&r->grants, __ATOMIC_ACQUIRE);
	uint32_t slots = old->mask + 1;
	while (2 * (old->n + 1) > slots)
		slots *= 2;
	struct sx_grants *g = sx_grants_new(slots);
	if (!g)
		return SHMEX_E_NOMEM;
	for (uint32_t i = 0; i <= old->mask; i++)
		if (old->slot[i].used)
			sx_grants_put(g, old->slot[i].key, old->slot[i].roles);
	sx_grants_put(g, (uint64_t)uid << 32 | user, roles);
	/* Pairs with the readers' acquire in sx_registry_roles(). */
	__atomic_store_n(&r->grants, g, __ATOMIC_RELEASE);
	sx_rcu_synchronize();
	free((void *)(uintptr_t)old);
	return 0;
}

uint32_t sx_registry_roles(struct sx_registry *r, uint32_t uid, uint32_t user)
{
	const struct sx_grants *g = __atomic_load_n(&r->grants, __ATOMIC_ACQUIRE);
	return sx_grants_get(g, (uint64_t)uid << 32 | user) |
	       sx_grants_get(g, (uint64_t)uid << 32 | UINT32_MAX);
}

int sx_registry_route(struct sx_registry *r, uint32_t symbol, uint32_t matcher)
{
	struct sx_routes *old = __atomic_load_n(&r->routes, __ATOMIC_ACQUIRE);
	if (symbol >= old->n)
		return SHMEX_E_INVAL;
	struct sx_routes *t = malloc(sizeof *t + (size_t)old->n * sizeof(uint32_t));
	if (!t)
		return SHMEX_E_NOMEM;
	memcpy(t, old, sizeof *t + (size_t)old->n * sizeof(uint32_t));
	t->matcher[symbol] = matcher;
	/* Pairs with the readers' acquire in sx_registry_matcher(). */
	__atomic_store_n(&r->routes, t, __ATOMIC_RELEASE);
	sx_rcu_synchronize();
	free(old);
	return 0;
}

uint32_t sx_registry_matcher(struct sx_registry *r, uint32_t symbol)
{
	const struct sx_routes *t = __atomic_load_n(&r->routes, __ATOMIC_ACQUIRE);
	return symbol < t->n ? t->matcher[symbol] : UINT32_MAX;
}
