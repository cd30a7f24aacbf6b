/*
 * Order -> session map: a pool of entries (one per live order, linked into
 * its session's list) and an open-addressing index of order ids (linear
 * probing, deletion by backward shift, so no tombstones build up).
 */
#include "owners.h"

#include <stdlib.h>
#include <string.h>

#include "shmex/error.h"

#define SX_NIL UINT32_MAX

struct sx_owner {
	uint64_t order_id;
	uint32_t prev, next; /* the session's list; next also links free entries */
	uint16_t session;
	uint16_t pad;
	uint32_t pad2;
};

struct sx_owners {
	struct sx_owner *pool;
	uint32_t *index;      /* pool entry + 1, 0 = empty */
	uint32_t *heads;      /* per session: first entry */
	uint64_t mask;        /* index size - 1 */
	uint32_t free_head;
	uint32_t count, capacity, max_sessions;
};

static uint64_t sx_mix(uint64_t x)
{
	x ^= x >> 31;
	x *= UINT64_C(0x9e3779b97f4a7c15);
	return x ^ (x >> 29);
}

struct sx_owners *sx_owners_create(uint32_t max_orders, uint32_t max_sessions)
{
	struct sx_owners *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	uint64_t size = 16;
	while (size < 2 * (uint64_t)max_orders)
		size <<= 1;
	/* Written now (not calloc'ed zero pages): no page fault on the order
	 * path. */
	o->pool = malloc((size_t)max_orders * sizeof *o->pool);
	o->index = malloc(size * sizeof *o->index);
	if (o->pool)
		memset(o->pool, 0, (size_t)max_orders * sizeof *o->pool);
	if (o->index)
		memset(o->index, 0, size * sizeof *o->index);
	o->heads = malloc((size_t)max_sessions * sizeof *o->heads);
	if (!o->pool || !o->index || !o->heads) {
		sx_owners_destroy(o);
		return NULL;
	}
	o->mask = size - 1;
	o->capacity = max_orders;
	o->max_sessions = max_sessions;
	for (uint32_t i = 0; i < max_sessions; i++)
		o->heads[i] = SX_NIL;
	for (uint32_t i = 0; i < max_orders; i++)
		o->pool[i].next = i + 1 < max_orders ? i + 1 : SX_NIL;
	o->free_head = max_orders ? 0 : SX_NIL;
	return o;
}

void sx_owners_destroy(struct sx_owners *o)
{
	if (!o)
		return;
	free(o->pool);
	free(o->index);
	free(o->heads);
	free(o);
}

/* Index slot holding @p order_id, or the empty slot where it would go. */
static uint64_t sx_slot(const struct sx_owners *o, uint64_t order_id)
{
	uint64_t i = sx_mix(order_id) & o->mask;
	while (o->index[i] && o->pool[o->index[i] - 1].order_id != order_id)
		i = (i + 1) & o->mask;
	return i;
}

int sx_owners_add(struct sx_owners *o, uint64_t order_id, uint16_t session)
{
	if (o->free_head == SX_NIL || session >= o->max_sessions)
		return SHMEX_E_FULL;
	const uint64_t i = sx_slot(o, order_id);
	if (o->index[i])
		return SHMEX_E_DUPLICATE;
	const uint32_t e = o->free_head;
	struct sx_owner *w = &o->pool[e];
	o->free_head = w->next;
	w->order_id = order_id;
	w->session = session;
	w->prev = SX_NIL;
	w->next = o->heads[session];
	if (w->next != SX_NIL)
		o->pool[w->next].prev = e;
	o->heads[session] = e;
	o->index[i] = e + 1;
	o->count++;
	return 0;
}

uint16_t sx_owners_find(const struct sx_owners *o, uint64_t order_id)
{
	const uint32_t v = o->index[sx_slot(o, order_id)];
	return v ? o->pool[v - 1].session : 0xffffu;
}

/* Removes index slot @p i (backward shift keeps every probe chain whole). */
static void sx_index_delete(struct sx_owners *o, uint64_t i)
{
	uint64_t j = i;
	for (;;) {
		j = (j + 1) & o->mask;
		if (!o->index[j])
			break;
		const uint64_t home = sx_mix(o->pool[o->index[j] - 1].order_id) & o->mask;
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		const int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			o->index[i] = o->index[j];
			i = j;
		}
	}
	o->index[i] = 0;
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
	w->next = o->free_head;
	o->free_head = e;
	o->count--;
}

void sx_owners_remove(struct sx_owners *o, uint64_t order_id)
{
	const uint64_t i = sx_slot(o, order_id);
	const uint32_t v = o->index[i];
	if (!v)
		return;
	sx_index_delete(o, i);
	sx_unlink(o, v - 1);
}

uint32_t sx_owners_take_session(struct sx_owners *o, uint16_t session, uint64_t *out, uint32_t max)
{
	uint32_t n = 0;
	if (session >= o->max_sessions)
		return 0;
	while (n < max && o->heads[session] != SX_NIL) {
		const uint64_t id = o->pool[o->heads[session]].order_id;
		out[n++] = id;
		sx_owners_remove(o, id);
	}
	return n;
}

uint32_t sx_owners_count(const struct sx_owners *o)
{
	return o->count;
}
