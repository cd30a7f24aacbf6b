/*
 * Order -> session map. The exchange guarantees that two orders live at
 * the same time never share id modulo its record count (a power of two:
 * shmex_exchange_order_capacity()), so the map is a direct array indexed
 * by id & mask: no hashing, and since ids are handed out in rotation the
 * entries a new order touches are consecutive (the hardware prefetcher
 * follows them). Each entry is also on its session's list, so a session
 * that ends can cancel exactly its orders.
 */
#include "owners.h"

#include <stdlib.h>
#include <string.h>

#include "shmex/error.h"

#define SX_NIL UINT32_MAX

struct sx_owner {
	uint64_t order_id;   /* 0: free */
	uint32_t prev, next; /* the session's list (entry indexes) */
	uint16_t session;
	uint16_t pad;
	uint32_t pad2;
};

struct sx_owners {
	struct sx_owner *pool; /* [capacity], by id & mask */
	uint32_t *heads;       /* per session: first entry */
	uint64_t mask;
	uint32_t count, max_sessions;
};

struct sx_owners *sx_owners_create(uint32_t capacity, uint32_t max_sessions)
{
	if (capacity == 0 || (capacity & (capacity - 1)) != 0)
		return NULL;
	struct sx_owners *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	/* Written now (not calloc'ed zero pages): no page fault on the order
	 * path. */
	o->pool = malloc((size_t)capacity * sizeof *o->pool);
	o->heads = malloc((size_t)max_sessions * sizeof *o->heads);
	if (!o->pool || !o->heads) {
		sx_owners_destroy(o);
		return NULL;
	}
	memset(o->pool, 0, (size_t)capacity * sizeof *o->pool);
	o->mask = capacity - 1;
	o->max_sessions = max_sessions;
	for (uint32_t i = 0; i < max_sessions; i++)
		o->heads[i] = SX_NIL;
	return o;
}

void sx_owners_destroy(struct sx_owners *o)
{
	if (!o)
		return;
	free(o->pool);
	free(o->heads);
	free(o);
}

static void sx_unlink(struct sx_owners *o, uint32_t e)
{
	struct sx_owner *w = &o->pool[e];
	if (w->prev != SX_NIL)
		o->pool[w->prev].next = w->next;
	else
		o->heads[w->session] = w->next;
	if (w->next != SX_NIL)
		o->pool[w->next].prev = w->prev;
	w->order_id = 0;
	o->count--;
}

int sx_owners_add(struct sx_owners *o, uint64_t order_id, uint16_t session)
{
	if (order_id == 0 || session >= o->max_sessions)
		return SHMEX_E_INVAL;
	const uint32_t e = (uint32_t)(order_id & o->mask);
	struct sx_owner *w = &o->pool[e];
	if (w->order_id == order_id)
		return SHMEX_E_DUPLICATE;
	if (w->order_id != 0)
		sx_unlink(o, e); /* an earlier order of this slot that ended unseen */
	w->order_id = order_id;
	w->session = session;
	w->prev = SX_NIL;
	w->next = o->heads[session];
	if (w->next != SX_NIL)
		o->pool[w->next].prev = e;
	o->heads[session] = e;
	o->count++;
	return 0;
}

uint16_t sx_owners_find(const struct sx_owners *o, uint64_t order_id)
{
	const struct sx_owner *w = &o->pool[order_id & o->mask];
	return order_id != 0 && w->order_id == order_id ? w->session : 0xffffu;
}

void sx_owners_remove(struct sx_owners *o, uint64_t order_id)
{
	const uint32_t e = (uint32_t)(order_id & o->mask);
	if (order_id != 0 && o->pool[e].order_id == order_id)
		sx_unlink(o, e);
}

uint32_t sx_owners_take_session(struct sx_owners *o, uint16_t session, uint64_t *out, uint32_t max)
{
	uint32_t n = 0;
	if (session >= o->max_sessions)
		return 0;
	while (n < max && o->heads[session] != SX_NIL) {
		const uint32_t e = o->heads[session];
		out[n++] = o->pool[e].order_id;
		sx_unlink(o, e);
	}
	return n;
}

uint32_t sx_owners_count(const struct sx_owners *o)
{
	return o->count;
}
