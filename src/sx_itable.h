/*
 * sx_itable: open-addressing hash index from a 64-bit key to a pool index.
 *
 * Slots hold only (pool index + 1), 4 bytes each, 0 meaning empty; the key
 * lives in the pooled object itself and is read back through (base, stride),
 * so the table costs 8 bytes per object at load factor 1/2. Linear probing
 * with backward-shift deletion: no tombstones, so probe lengths never grow
 * with churn. Fixed capacity, no allocation, single-threaded.
 */
#ifndef SX_ITABLE_H
#define SX_ITABLE_H

#include <stddef.h>
#include <stdint.h>

#define SX_NIL UINT32_MAX

struct sx_itable {
	uint32_t *slots; /* mask + 1 entries, zeroed */
	uint32_t mask;
	uint32_t shift;  /* 64 - log2(mask + 1) */
};

static inline uint64_t sx_itable_key_at(const void *base, size_t stride, uint32_t idx)
{
	return *(const uint64_t *)((const char *)base + (size_t)idx * stride);
}

/* Fibonacci hashing: the top bits of key * 2^64/phi spread sequential ids
 * and prices evenly. */
static inline uint32_t sx_itable_home(const struct sx_itable *t, uint64_t key)
{
	return (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> t->shift);
}

/* Index of the object whose key is @key, or SX_NIL. */
static inline uint32_t sx_itable_find(const struct sx_itable *t, uint64_t key, const void *base,
				      size_t stride)
{
	uint32_t i = sx_itable_home(t, key);
	for (;;) {
		uint32_t s = t->slots[i];
		if (s == 0)
			return SX_NIL;
		if (sx_itable_key_at(base, stride, s - 1) == key)
			return s - 1;
		i = (i + 1) & t->mask;
	}
}

/* Adds @idx under @key; the caller knows the key is absent and the table
 * has room (capacity is twice the pool size). */
static inline void sx_itable_insert(struct sx_itable *t, uint64_t key, uint32_t idx)
{
	uint32_t i = sx_itable_home(t, key);
	while (t->slots[i] != 0)
		i = (i + 1) & t->mask;
	t->slots[i] = idx + 1;
}

/* Removes the entry of @idx (whose key is @key); it must be present. Later
 * entries of the probe run shift back into the hole when their home allows,
 * so lookups never need tombstones. */
static inline void sx_itable_erase(struct sx_itable *t, uint64_t key, uint32_t idx,
				   const void *base, size_t stride)
{
	uint32_t i = sx_itable_home(t, key);
	while (t->slots[i] != idx + 1)
		i = (i + 1) & t->mask;
	for (uint32_t j = (i + 1) & t->mask;; j = (j + 1) & t->mask) {
		uint32_t s = t->slots[j];
		if (s == 0)
			break;
		uint32_t home = sx_itable_home(t, sx_itable_key_at(base, stride, s - 1));
		/* The entry at j may fill hole i only if i lies on its probe
		 * path, i.e. between its home and j (cyclically). */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slots[i] = s;
			i = j;
		}
	}
	t->slots[i] = 0;
}

#endif /* SX_ITABLE_H */
