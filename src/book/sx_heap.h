/*
 * sx_heap: indexed binary min-heap of pool indices ordered by (key, seq).
 *
 * Each element's position is written back to pos[idx] so that any element
 * can be removed in O(log n) (a cancelled stop or GTD order). Fixed
 * capacity, no allocation, single-threaded.
 */
#ifndef SX_HEAP_H
#define SX_HEAP_H

#include <stdint.h>

struct sx_heap_entry {
	int64_t key;
	uint64_t seq;
	uint32_t idx;
	uint32_t pad;
};

struct sx_heap {
	struct sx_heap_entry *e;
	uint32_t *pos; /* pos[idx]: 1 + where idx sits in e[]; 0 if absent (zeroed memory is empty) */
	uint32_t n;
	uint32_t cap;
};

/* Inserts idx with (key, seq). The caller guarantees room. */
void sx_heap_push(struct sx_heap *h, int64_t key, uint64_t seq, uint32_t idx);

/* Removes the element at heap position @at. */
void sx_heap_remove_at(struct sx_heap *h, uint32_t at);

/* Whether idx is in the heap. */
static inline int sx_heap_has(const struct sx_heap *h, uint32_t idx)
{
	return h->pos[idx] != 0;
}

/* Removes idx if present. */
static inline void sx_heap_remove(struct sx_heap *h, uint32_t idx)
{
	if (h->pos[idx] != 0)
		sx_heap_remove_at(h, h->pos[idx] - 1);
}

#endif /* SX_HEAP_H */
