/*
 * Prefetch hints, inline: the public hints (book_prefetch.c) and the batch
 * runner (shmex_book_run() in book.c) share them. Each stage reads only
 * memory the previous stage prefetched, and never the order pool's keys,
 * so a hint costs a few instructions and never a miss of its own when
 * stages are issued far enough apart.
 *
 * Always inlined: GCC takes a function whose only effects are
 * __builtin_prefetch for one without side effects and drops the calls to
 * it (a hint that was a static inline function compiled to nothing, and
 * the 1M flow ran at half speed).
 */
#ifndef SX_BOOK_HINT_H
#define SX_BOOK_HINT_H

#include "book_internal.h"

#define SX_PREFETCH_W(p) __builtin_prefetch((p), 1, 3)

/* First pool index in @t's probe run whose tag matches, or SX_NIL. */
static inline uint32_t sx_prefetch_slot(const struct sx_itable *t, uint32_t tag)
{
	for (uint32_t i = sx_itable_home(t, tag), n = 0; n < 8; i = (i + 1) & t->mask, n++) {
		const struct sx_islot s = t->slots[i];
		if (s.idx1 == 0)
			return SX_NIL;
		if (s.tag == tag)
			return s.idx1 - 1;
	}
	return SX_NIL;
}

static SX_ALWAYS_INLINE void sx_hint_order(const struct shmex_book *b, uint64_t id, int stage)
{
	uint32_t idx;
	if (b->issue_ids) {
		/* The id names the slot: no index to read, one stage less. */
		idx = (uint32_t)id - 1;
		if (idx >= b->order_fresh)
			return;
		if (stage == 0) {
			SX_PREFETCH_W(&b->orders[idx]);
			return;
		}
		if (stage > 1)
			return; /* stage 1 did the neighbours and the level */
	} else {
		const uint32_t tag = sx_itable_tag(&b->ids, id);
		if (stage == 0) {
			SX_PREFETCH_W(sx_itable_probe_addr(&b->ids, tag));
			return;
		}
		idx = sx_prefetch_slot(&b->ids, tag);
		if (idx == SX_NIL || idx >= b->order_fresh)
			return;
		if (stage == 1) {
			SX_PREFETCH_W(&b->orders[idx]);
			return;
		}
	}
	const struct sx_order *o = &b->orders[idx];
	/* Stage 2: the order is in cache; its neighbours and level are next. */
	if (o->id != id || o->level == SX_NIL)
		return;
	if (o->prev != SX_NIL)
		SX_PREFETCH_W(&b->orders[o->prev]);
	if (o->next != SX_NIL)
		SX_PREFETCH_W(&b->orders[o->next]);
	SX_PREFETCH_W(&b->levels[o->level]);
}

static SX_ALWAYS_INLINE void sx_hint_level(const struct shmex_book *b, int side, int64_t price, int stage)
{
	const uint64_t pos = sx_lad_pos(b, price);
	if (pos < b->lad_size) {
		const uint32_t *slot = &b->lad_slot[side & 1][pos];
		if (stage == 0) {
			SX_PREFETCH_W(slot);
			return;
		}
		if (*slot == 0 || *slot - 1 >= b->level_fresh)
			return;
		const struct sx_level *l = &b->levels[*slot - 1];
		if (stage == 1)
			SX_PREFETCH_W(l);
		else if (l->tail != SX_NIL)
			SX_PREFETCH_W(&b->orders[l->tail]);
		return;
	}
	const uint64_t key = sx_level_key(side & 1, price);
	const uint32_t tag = sx_itable_block_tag(&b->prices, key);
	if (stage == 0) {
		SX_PREFETCH_W(sx_itable_probe_addr(&b->prices, tag));
		return;
	}
	uint32_t li = sx_prefetch_slot(&b->prices, tag);
	if (li == SX_NIL || li >= b->level_fresh)
		return;
	const struct sx_level *l = &b->levels[li];
	if (stage == 1) {
		SX_PREFETCH_W(l);
		return;
	}
	if (l->key == key && l->tail != SX_NIL)
		SX_PREFETCH_W(&b->orders[l->tail]);
}

#endif /* SX_BOOK_HINT_H */
