/* Indexed binary heap: see sx_heap.h. */
#include "sx_heap.h"

static inline int sx_heap_less(const struct sx_heap_entry *a, const struct sx_heap_entry *b)
{
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static inline void sx_heap_place(struct sx_heap *h, uint32_t at, struct sx_heap_entry v)
{
	h->e[at] = v;
	h->pos[v.idx] = at + 1;
}

static void sx_heap_sift_up(struct sx_heap *h, uint32_t at, struct sx_heap_entry v)
{
	while (at > 0) {
		uint32_t parent = (at - 1) / 2;
		if (!sx_heap_less(&v, &h->e[parent]))
			break;
		sx_heap_place(h, at, h->e[parent]);
		at = parent;
	}
	sx_heap_place(h, at, v);
}

static void sx_heap_sift_down(struct sx_heap *h, uint32_t at, struct sx_heap_entry v)
{
	for (;;) {
		uint32_t child = 2 * at + 1;
		if (child >= h->n)
			break;
		if (child + 1 < h->n && sx_heap_less(&h->e[child + 1], &h->e[child]))
			child++;
		if (!sx_heap_less(&h->e[child], &v))
			break;
		sx_heap_place(h, at, h->e[child]);
		at = child;
	}
	sx_heap_place(h, at, v);
}

void sx_heap_push(struct sx_heap *h, int64_t key, uint64_t seq, uint32_t idx)
{
	struct sx_heap_entry v = { .key = key, .seq = seq, .idx = idx, .pad = 0 };
	sx_heap_sift_up(h, h->n++, v);
}

void sx_heap_remove_at(struct sx_heap *h, uint32_t at)
{
	h->pos[h->e[at].idx] = 0;
	struct sx_heap_entry last = h->e[--h->n];
	if (at == h->n)
		return;
	if (at > 0 && sx_heap_less(&last, &h->e[(at - 1) / 2]))
		sx_heap_sift_up(h, at, last);
	else
		sx_heap_sift_down(h, at, last);
}
