/* Grants (rculfhash) and symbol routing (an RCU-published table). */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "rcu.h"
#include <urcu/rculfhash.h>

#include "shmex/error.h"

#ifdef SX_RCU_TSAN
char sx_rcu_grace;
#endif

/* A grant node: fields are stored with release before the node is added
 * and loaded with acquire by readers (pairs with those stores), so the
 * publication is visible to TSan as well as correct on any CPU. Nodes are
 * never removed while the daemon runs (grants are only added). */
struct sx_grant_node {
	struct cds_lfht_node node;
	uint64_t key;   /* uid << 32 | user */
	uint32_t roles;
};

struct sx_routes {
	uint32_t n;
	uint32_t matcher[]; /* UINT32_MAX: no such symbol */
};

struct sx_registry {
	struct cds_lfht *grants;
	struct sx_routes *routes; /* published with release, read with acquire */
	uint32_t max_symbols;
};

static uint64_t sx_hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return x;
}

static int sx_grant_match(struct cds_lfht_node *node, const void *key)
{
	const struct sx_grant_node *g = caa_container_of(node, struct sx_grant_node, node);
	return __atomic_load_n(&g->key, __ATOMIC_ACQUIRE) == *(const uint64_t *)key;
}

struct sx_registry *sx_registry_create(uint32_t max_symbols)
{
	struct sx_registry *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->max_symbols = max_symbols;
	r->grants = cds_lfht_new(64, 64, 0, CDS_LFHT_AUTO_RESIZE, NULL);
	struct sx_routes *t = malloc(sizeof *t + (size_t)(max_symbols + 1) * sizeof(uint32_t));
	if (!r->grants || !t) {
		free(t);
		sx_registry_destroy(r);
		return NULL;
	}
	t->n = max_symbols + 1;
	memset(t->matcher, 0xff, (size_t)t->n * sizeof(uint32_t));
	__atomic_store_n(&r->routes, t, __ATOMIC_RELEASE);
	return r;
}

void sx_registry_destroy(struct sx_registry *r)
{
	if (!r)
		return;
	if (r->grants) {
		struct cds_lfht_iter it;
		struct cds_lfht_node *n;
		rcu_read_lock();
		cds_lfht_for_each(r->grants, &it, n) {
			cds_lfht_del(r->grants, n);
			free(caa_container_of(n, struct sx_grant_node, node));
		}
		rcu_read_unlock();
		cds_lfht_destroy(r->grants, NULL);
	}
	free(r->routes);
	free(r);
}

/* Reader side of a lookup: the node's roles, or 0. */
static uint32_t sx_grant_lookup(struct sx_registry *r, uint64_t key)
{
	struct cds_lfht_iter it;
	cds_lfht_lookup(r->grants, sx_hash64(key), sx_grant_match, &key, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	if (!n)
		return 0;
	const struct sx_grant_node *g = caa_container_of(n, struct sx_grant_node, node);
	return __atomic_load_n(&g->roles, __ATOMIC_ACQUIRE);
}

int sx_registry_grant(struct sx_registry *r, uint32_t uid, uint32_t user, uint32_t roles)
{
	const uint64_t key = (uint64_t)uid << 32 | user;
	/* The writer is the only thread that adds: a lookup then an add cannot
	 * race another add. An existing grant gains the roles (an atomic OR:
	 * readers may be loading it). */
	struct cds_lfht_iter it;
	rcu_read_lock();
	cds_lfht_lookup(r->grants, sx_hash64(key), sx_grant_match, &key, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	if (n) {
		struct sx_grant_node *g = caa_container_of(n, struct sx_grant_node, node);
		__atomic_fetch_or(&g->roles, roles, __ATOMIC_RELEASE);
		rcu_read_unlock();
		return 0;
	}
	struct sx_grant_node *g = calloc(1, sizeof *g);
	if (!g) {
		rcu_read_unlock();
		return SHMEX_E_NOMEM;
	}
	cds_lfht_node_init(&g->node);
	__atomic_store_n(&g->roles, roles, __ATOMIC_RELEASE);
	__atomic_store_n(&g->key, key, __ATOMIC_RELEASE);
	cds_lfht_add(r->grants, sx_hash64(key), &g->node);
	rcu_read_unlock();
	return 0;
}

uint32_t sx_registry_roles(struct sx_registry *r, uint32_t uid, uint32_t user)
{
	return sx_grant_lookup(r, (uint64_t)uid << 32 | user) |
	       sx_grant_lookup(r, (uint64_t)uid << 32 | UINT32_MAX);
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
