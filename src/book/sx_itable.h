/*
 * sx_itable: open-addressing hash index from a 64-bit key to a pool index.
 *
 * A slot is 8 bytes: the pool index + 1 (0 = empty) and a 32-bit tag, the
 * high half of the key's keyed Fibonacci hash. The key itself lives in the pooled
 * object and is read back through (base, stride) only when a tag matches,
 * so a probe for an absent key, and the shifting done by a delete, never
 * touch the pool (each pool read is a likely cache miss on a big book).
 * The slot's home is the top bits of the tag, so it needs no key either.
 * Linear probing with backward-shift deletion: no tombstones, so probe
 * lengths do not grow with churn. Fixed capacity (at most 2^31 slots),
 * no allocation, single-threaded.
 */
#ifndef SX_ITABLE_H
#define SX_ITABLE_H

#include <stddef.h>
#include <stdint.h>

#define SX_NIL UINT32_MAX

struct sx_islot {
	uint32_t idx1; /* pool index + 1; 0 = empty */
	uint32_t tag;  /* high 32 bits of the key's hash */
};

struct sx_itable {
	struct sx_islot *slots; /* mask + 1 entries, zeroed */
	uint32_t mask;
	uint32_t shift; /* 32 - log2(mask + 1): home = tag >> shift */
	uint64_t seed;  /* hash key, secret per table (see sx_itable_tag) */
};

static inline uint64_t sx_itable_key_at(const void *base, size_t stride, uint32_t idx)
{
	return *(const uint64_t *)((const char *)base + (size_t)idx * stride);
}

/* Tags. The caller picks how keys spread; the table only needs a tag
 * whose top bits are the home slot.
 * Ids: Fibonacci hashing, the top bits of (key ^ seed) * 2^64/phi. The
 * multiplication spreads sequential (and, after the xor, near-sequential)
 * keys evenly. The secret seed is what keeps chosen keys apart: with a
 * fixed hash anyone can compute keys that all share one home and one tag
 * (key = t * phi^-1 for t with equal top bits), and each insert or lookup
 * then walks the whole run, O(n) per command (100k such ids: 9 s instead
 * of 10 ms). The xor costs one cycle of latency per hash. It is no
 * cryptographic guarantee, but keys computed without the seed scatter like
 * random ones. */
static inline uint32_t sx_itable_tag(const struct sx_itable *t, uint64_t key)
{
	return (uint32_t)(((key ^ t->seed) * UINT64_C(0x9E3779B97F4A7C15)) >> 32);
}

/* Prices: the 64 prices of a block share one run of homes (home of the
 * block + price % 64), and blocks are spread by keyed Fibonacci hashing. A
 * book's levels cluster around the touch, so they fill a few runs of slots
 * (a few pages, neighbours in one cache line) instead of touching the whole
 * table. price % 64 is added to the block's home (the tag's top bits). */
static inline uint32_t sx_itable_block_tag(const struct sx_itable *t, uint64_t key)
{
	return sx_itable_tag(t, key >> 6) + ((uint32_t)(key & 63) << t->shift);
}

static inline uint32_t sx_itable_home(const struct sx_itable *t, uint32_t tag)
{
	return tag >> t->shift;
}

/* Address of the first slot a lookup with @tag reads, for prefetching. */
static inline const void *sx_itable_probe_addr(const struct sx_itable *t, uint32_t tag)
{
	return &t->slots[sx_itable_home(t, tag)];
}

/* Index of the object whose key is @key (tag @tag), or SX_NIL. */
static inline uint32_t sx_itable_find(const struct sx_itable *t, uint64_t key, uint32_t tag,
				      const void *base, size_t stride)
{
	for (uint32_t i = sx_itable_home(t, tag);; i = (i + 1) & t->mask) {
		const struct sx_islot s = t->slots[i];
		if (s.idx1 == 0)
			return SX_NIL;
		if (s.tag == tag && sx_itable_key_at(base, stride, s.idx1 - 1) == key)
			return s.idx1 - 1;
	}
}

/* Adds @idx with @tag; the caller knows its key is absent and the table
 * has room (capacity is twice the pool size). */
static inline void sx_itable_insert(struct sx_itable *t, uint32_t tag, uint32_t idx)
{
	uint32_t i = sx_itable_home(t, tag);
	while (t->slots[i].idx1 != 0)
		i = (i + 1) & t->mask;
	t->slots[i].idx1 = idx + 1;
	t->slots[i].tag = tag;
}

/* Removes the entry of @idx (whose tag is @tag); it must be present. Later
 * entries of the probe run shift back into the hole when their home allows,
 * so lookups never need tombstones. */
static inline void sx_itable_erase(struct sx_itable *t, uint32_t tag, uint32_t idx)
{
	uint32_t i = sx_itable_home(t, tag);
	while (t->slots[i].idx1 != idx + 1)
		i = (i + 1) & t->mask;
	for (uint32_t j = (i + 1) & t->mask;; j = (j + 1) & t->mask) {
		const struct sx_islot s = t->slots[j];
		if (s.idx1 == 0)
			break;
		uint32_t home = sx_itable_home(t, s.tag);
		/* The entry at j may fill hole i only if i lies on its probe
		 * path, i.e. between its home and j (cyclically). */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slots[i] = s;
			i = j;
		}
	}
	t->slots[i].idx1 = 0;
	t->slots[i].tag = 0;
}

#endif /* SX_ITABLE_H */
