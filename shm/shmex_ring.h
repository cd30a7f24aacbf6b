/**
 * @file shmex_ring.h
 * @brief Single-producer single-consumer ring of fixed-size slots in memory
 *        shared by two processes that do not trust each other.
 *
 * A ring is a control block (the producer's index and the consumer's
 * index, each on its own cache line with guard lines between them against
 * the adjacent-line prefetcher) followed by a power-of-two number of slots
 * of a multiple of 64 bytes. Messages are stored inline. The daemon and the
 * client library share this header; nothing else of either.
 *
 * Trust. Each side keeps a private `struct shmex_ring` (a view) with its
 * own copies of the slot count, the slot size, the address of the slots,
 * and its own index: nothing it computes an address from is ever read back
 * from shared memory. The only shared words it reads are the peer's index,
 * and it checks each value read against its own before using it: a
 * producer's head may run ahead of the consumer by at most the slot count,
 * and a consumer's tail may never pass the producer's head. A value that
 * breaks this is SHMEX_E_PROTOCOL, and the caller ends the session; it
 * never becomes an address. A slot's bytes are the producer's until they
 * are copied out: a consumer copies a message to private memory first and
 * validates the copy (shmex_ring_pop() does that), so the producer cannot
 * change a field after it was checked.
 *
 * Memory order (GCC/Clang __atomic builtins: C11 semantics, the same
 * instructions as ck_pr on x86-64, and visible to ThreadSanitizer, which
 * Concurrency Kit's inline assembly is not; ck_ring keeps its mask in the
 * shared struct, which a hostile peer could change):
 *   P1  the producer writes slots, then store-release head;
 *   C1  the consumer load-acquires head: P1 synchronises with C1, so the
 *       slots written before P1 are visible to the consumer after C1;
 *   C2  the consumer copies slots out, then store-release tail;
 *   P0  the producer load-acquires tail before reusing a slot: C2
 *       synchronises with P0, so the consumer's reads of a slot happen
 *       before the producer overwrites it.
 * Indices are free-running 64-bit counts (never wrap in practice); a slot
 * is index & (slots - 1).
 *
 * No function here blocks, allocates or makes a system call. Waiting
 * (spin, yield, futex) is the caller's policy.
 */
#ifndef SHMEX_RING_H
#define SHMEX_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shmex/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ThreadSanitizer does not see a copy that the compiler turns into vector
 * moves (a 64-byte memcpy), so in TSan builds each copy into or out of a
 * slot is announced as a range access: a ring whose ordering is broken is
 * then reported like any other race (test_ring checks both ways). */
#if defined(__SANITIZE_THREAD__)
#define SHMEX_RING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMEX_RING_TSAN 1
#endif
#endif
#ifdef SHMEX_RING_TSAN
void __tsan_read_range(void *addr, unsigned long size);
void __tsan_write_range(void *addr, unsigned long size);
#define SHMEX_RING_READ(p, n) __tsan_read_range((void *)(uintptr_t)(p), (n))
#define SHMEX_RING_WRITE(p, n) __tsan_write_range((void *)(uintptr_t)(p), (n))
#else
#define SHMEX_RING_READ(p, n) ((void)0)
#define SHMEX_RING_WRITE(p, n) ((void)0)
#endif

#define SHMEX_CACHE_LINE 64
#define SHMEX_RING_MAX_SLOTS (1u << 24)
#define SHMEX_RING_MAX_SLOT_SIZE 4096u

/** The shared control block of a ring, 6 cache lines. */
struct shmex_ring_ctl {
	/** Slots published; written only by the producer (store-release). */
	_Alignas(SHMEX_CACHE_LINE) uint64_t head;
	uint8_t head_pad[SHMEX_CACHE_LINE - 8];
	uint8_t guard0[2 * SHMEX_CACHE_LINE];
	/** Slots consumed; written only by the consumer (store-release). */
	_Alignas(SHMEX_CACHE_LINE) uint64_t tail;
	uint8_t tail_pad[SHMEX_CACHE_LINE - 8];
	uint8_t guard1[2 * SHMEX_CACHE_LINE];
};

_Static_assert(sizeof(struct shmex_ring_ctl) == 6 * SHMEX_CACHE_LINE, "ring control: 6 lines");
_Static_assert(offsetof(struct shmex_ring_ctl, head) == 0, "head on line 0");
_Static_assert(offsetof(struct shmex_ring_ctl, tail) == 3 * SHMEX_CACHE_LINE,
	       "tail three lines after head");

/** One side's private, trusted view of a ring. */
struct shmex_ring {
	struct shmex_ring_ctl *ctl; /**< shared */
	uint8_t *slot0;             /**< first slot (shared) */
	uint64_t mask;              /**< slots - 1 */
	uint32_t slots, slot_size;
	uint64_t index;  /**< producer: head incl. staged slots; consumer: tail */
	uint64_t shown;  /**< producer: head last published */
	uint64_t peer;   /**< the peer's index as last read and checked */
};

/** Whether (@p slots, @p slot_size) is a valid ring shape: slots a power
 *  of two in [2, 2^24], slot_size a multiple of 64 in [64, 4096]. */
static inline int shmex_ring_shape_ok(uint32_t slots, uint32_t slot_size)
{
	return slots >= 2 && slots <= SHMEX_RING_MAX_SLOTS && (slots & (slots - 1)) == 0 &&
	       slot_size >= SHMEX_CACHE_LINE && slot_size <= SHMEX_RING_MAX_SLOT_SIZE &&
	       slot_size % SHMEX_CACHE_LINE == 0;
}

/** Bytes a ring of @p slots slots of @p slot_size bytes takes (control block
 *  included), or 0 if the shape is invalid. */
static inline size_t shmex_ring_memsize(uint32_t slots, uint32_t slot_size)
{
	if (!shmex_ring_shape_ok(slots, slot_size))
		return 0;
	return sizeof(struct shmex_ring_ctl) + (size_t)slots * slot_size;
}

/**
 * Initialises a ring in @p mem (64-byte aligned, shmex_ring_memsize()
 * bytes): both indices 0. Only the creator calls this, before the memory
 * is shared. @return 0 or SHMEX_E_INVAL.
 */
static inline int shmex_ring_init(void *mem, uint32_t slots, uint32_t slot_size)
{
	if (mem == NULL || ((uintptr_t)mem % SHMEX_CACHE_LINE) != 0 ||
	    !shmex_ring_shape_ok(slots, slot_size))
		return SHMEX_E_INVAL;
	memset(mem, 0, sizeof(struct shmex_ring_ctl));
	return 0;
}

/**
 * Attaches a view to the ring at @p mem, whose shape the caller knows from
 * its own trusted source (never from the shared memory itself). A view
 * starts at index 0: rings are made fresh for each session.
 * @return 0 or SHMEX_E_INVAL (shape, alignment).
 */
static inline int shmex_ring_attach(struct shmex_ring *r, void *mem, uint32_t slots,
				    uint32_t slot_size)
{
	if (r == NULL)
		return SHMEX_E_INVAL;
	memset(r, 0, sizeof *r);
	if (mem == NULL || ((uintptr_t)mem % SHMEX_CACHE_LINE) != 0 ||
	    !shmex_ring_shape_ok(slots, slot_size))
		return SHMEX_E_INVAL;
	r->ctl = (struct shmex_ring_ctl *)mem;
	r->slot0 = (uint8_t *)mem + sizeof(struct shmex_ring_ctl);
	r->mask = (uint64_t)slots - 1;
	r->slots = slots;
	r->slot_size = slot_size;
	r->index = r->shown = r->peer = 0;
	return 0;
}

static inline uint8_t *shmex_ring_slot_at(const struct shmex_ring *r, uint64_t index)
{
	return r->slot0 + (size_t)(index & r->mask) * r->slot_size;
}

/* ---- producer ---------------------------------------------------------- */

/**
 * Producer: the next free slot, to be filled and then staged. Re-reads the
 * consumer's tail only when the ring looks full.
 * @return 1 and *@p slot, 0 if the ring is full, or SHMEX_E_PROTOCOL if the
 *         consumer's tail is impossible (ahead of what was published, or
 *         more than a ring behind).
 */
static inline int shmex_ring_claim(struct shmex_ring *r, void **slot)
{
	if (r->index - r->peer >= r->slots) {
		/* P0: pairs with the consumer's C2 release of tail. */
		const uint64_t tail = __atomic_load_n(&r->ctl->tail, __ATOMIC_ACQUIRE);
		if (tail > r->shown || r->index - tail > r->slots)
			return SHMEX_E_PROTOCOL;
		r->peer = tail;
		if (r->index - tail >= r->slots)
			return 0;
	}
	*slot = shmex_ring_slot_at(r, r->index);
	return 1;
}

/**
 * Producer: how many slots are free, re-reading the consumer's tail only
 * when fewer than @p want look free (so a caller can keep the last slot
 * for a final message).
 * @return the count, or SHMEX_E_PROTOCOL as shmex_ring_claim().
 */
static inline int64_t shmex_ring_room(struct shmex_ring *r, uint32_t want)
{
	if (r->slots - (r->index - r->peer) < want) {
		/* P0: pairs with the consumer's C2 release of tail. */
		const uint64_t tail = __atomic_load_n(&r->ctl->tail, __ATOMIC_ACQUIRE);
		if (tail > r->shown || r->index - tail > r->slots)
			return SHMEX_E_PROTOCOL;
		r->peer = tail;
	}
	return (int64_t)(r->slots - (r->index - r->peer));
}

/** Producer: counts the claimed slot as written (not yet visible). */
static inline void shmex_ring_stage(struct shmex_ring *r)
{
	r->index++;
}

/** Producer: makes every staged slot visible to the consumer, with one
 *  store. @return how many were published. */
static inline uint32_t shmex_ring_publish(struct shmex_ring *r)
{
	const uint32_t n = (uint32_t)(r->index - r->shown);
	if (n) {
		/* P1: pairs with the consumer's C1 acquire of head. */
		__atomic_store_n(&r->ctl->head, r->index, __ATOMIC_RELEASE);
		r->shown = r->index;
	}
	return n;
}

/**
 * Producer: copies @p len bytes (at most the slot size; the rest of the
 * slot is zeroed) into the next slot and publishes it.
 * @return 1, 0 if full, SHMEX_E_INVAL if @p len is too big, SHMEX_E_PROTOCOL.
 */
static inline int shmex_ring_push(struct shmex_ring *r, const void *msg, size_t len)
{
	void *slot;
	if (len > r->slot_size)
		return SHMEX_E_INVAL;
	int rc = shmex_ring_claim(r, &slot);
	if (rc != 1)
		return rc;
	SHMEX_RING_WRITE(slot, r->slot_size);
	memcpy(slot, msg, len);
	memset((uint8_t *)slot + len, 0, r->slot_size - len);
	shmex_ring_stage(r);
	shmex_ring_publish(r);
	return 1;
}

/* ---- consumer ---------------------------------------------------------- */

/**
 * Consumer: how many slots can be read now (re-reads the producer's head
 * only when none are known).
 * @return the count (0 if empty), or SHMEX_E_PROTOCOL if the producer's head
 *         is impossible (behind the consumer, or more than a ring ahead).
 */
static inline int64_t shmex_ring_available(struct shmex_ring *r)
{
	if (r->peer == r->index) {
		/* C1: pairs with the producer's P1 release of head. */
		const uint64_t head = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);
		if (head - r->index > r->slots) /* also catches head < index */
			return SHMEX_E_PROTOCOL;
		r->peer = head;
	}
	return (int64_t)(r->peer - r->index);
}

/**
 * Consumer: like shmex_ring_available(), but re-reads the producer's head
 * even when slots are known already (a consumer that must see beyond what
 * it has: the journal, to know an event is whole).
 */
static inline int64_t shmex_ring_refresh(struct shmex_ring *r)
{
	/* C1 again: pairs with the producer's P1 release of head. */
	const uint64_t head = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);
	if (head - r->index > r->slots)
		return SHMEX_E_PROTOCOL;
	r->peer = head;
	return (int64_t)(r->peer - r->index);
}

/** Consumer: the @p i-th readable slot (i < shmex_ring_available()). Its
 *  bytes may still be changed by a hostile producer: copy, then check. */
static inline const void *shmex_ring_peek(const struct shmex_ring *r, uint32_t i)
{
	return shmex_ring_slot_at(r, r->index + i);
}

/** Consumer: copies @p len bytes (at most the slot size) of the @p i-th
 *  readable slot to private memory @p out, where they can be checked
 *  without the producer changing them. */
static inline void shmex_ring_read(const struct shmex_ring *r, uint32_t i, void *out, size_t len)
{
	const void *slot = shmex_ring_peek(r, i);
	SHMEX_RING_READ(slot, len);
	memcpy(out, slot, len);
}

/** Consumer: gives @p n read slots back to the producer (n <= available). */
static inline void shmex_ring_consume(struct shmex_ring *r, uint32_t n)
{
	r->index += n;
	/* C2: pairs with the producer's P0 acquire of tail. */
	__atomic_store_n(&r->ctl->tail, r->index, __ATOMIC_RELEASE);
}

/**
 * Consumer: copies the next message (@p len bytes, at most the slot size)
 * to @p out and gives its slot back.
 * @return 1, 0 if empty, SHMEX_E_INVAL (@p len), or SHMEX_E_PROTOCOL.
 */
static inline int shmex_ring_pop(struct shmex_ring *r, void *out, size_t len)
{
	if (len > r->slot_size)
		return SHMEX_E_INVAL;
	int64_t n = shmex_ring_available(r);
	if (n <= 0)
		return (int)n;
	shmex_ring_read(r, 0, out, len);
	shmex_ring_consume(r, 1);
	return 1;
}

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_RING_H */
