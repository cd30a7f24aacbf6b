/**
 * @file shmex_bells.h
 * @brief Wait words (futex "doorbells") shared between the engine and its
 *        clients, for the blocking wait policy.
 *
 * Two directions:
 *  - client -> gateway: one struct shmex_bell per gateway in the bells
 *    region (a memfd every client of the daemon maps read-write). A gateway
 *    with nothing to do sets `sleeping`, re-checks its rings, and sleeps on
 *    `bell` with a short timeout (SHMEX_BELL_TIMEOUT_NS). A client that has
 *    published a request and sees `sleeping` adds 1 to `bell` and wakes it.
 *  - gateway -> client: the session region's struct shmex_bell (after its
 *    header): the client sets `sleeping` before it blocks in
 *    shmex_client_wait(); the gateway, after writing reports to a session
 *    that sleeps, rings it, at most once per duty cycle per session.
 *
 * Pairing (both directions; shmex_bell_prepare() and shmex_bell_should_ring()
 * below): the sleeper sets sleeping = 1 with an acq_rel exchange (S1), then
 * re-checks the ring; the waker publishes the ring head (release), then
 * reads sleeping with an acq_rel read-modify-write (W1: fetch_or 0). Both
 * are RMWs of one word, so one comes first in its modification order:
 * if W1 is later it reads 1 and rings; if W1 is earlier, S1 reads what W1
 * wrote, so W1 synchronises with S1 and the head published before W1 is
 * visible to the re-check after S1. A wake-up is never lost. (RMWs rather
 * than seq_cst fences: ThreadSanitizer does not model fences; on x86 both
 * are one locked instruction.) futex_wait compares `bell` with the value
 * read before the re-check, so a ring between the re-check and the sleep
 * returns at once.
 *
 * Hostile clients: every word here can be written by any client (the bells
 * region is shared; the session's own bell is the client's). The worst a
 * client can do is clear a gateway's `sleeping` (others then do not ring
 * it, and it wakes by its timeout: latency, bounded, never a hang) or keep
 * its own `sleeping` set (its gateway then makes one wake call per duty
 * cycle for it). Nothing read here is used as an index or a size.
 */
#ifndef SHMEX_BELLS_H
#define SHMEX_BELLS_H

#include <stdint.h>

#include "shmex_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How long a sleeping gateway waits for its bell before it looks again. */
#define SHMEX_BELL_TIMEOUT_NS 1000000

/** One bell: one cache line. */
struct shmex_bell {
	_Alignas(SHMEX_CACHE_LINE) uint32_t bell; /**< futex word: +1 per ring */
	uint32_t sleeping;                         /**< 1 while the owner may block on bell */
	uint8_t pad[SHMEX_CACHE_LINE - 8];
};
_Static_assert(sizeof(struct shmex_bell) == SHMEX_CACHE_LINE, "bell: one line");

/** Sleeper: announces that it may sleep (S1); returns the bell's value to
 *  pass to futex_wait after re-checking the ring. */
static inline uint32_t shmex_bell_prepare(struct shmex_bell *b)
{
	__atomic_exchange_n(&b->sleeping, 1, __ATOMIC_ACQ_REL);
	return __atomic_load_n(&b->bell, __ATOMIC_ACQUIRE);
}

/** Sleeper: awake again (or never slept). */
static inline void shmex_bell_awake(struct shmex_bell *b)
{
	__atomic_store_n(&b->sleeping, 0, __ATOMIC_RELEASE);
}

/** Waker, after publishing what the sleeper waits for (W1): whether the
 *  owner may be asleep; if so, add 1 to `bell` and FUTEX_WAKE it. */
static inline int shmex_bell_should_ring(struct shmex_bell *b)
{
	return __atomic_fetch_or(&b->sleeping, 0, __ATOMIC_ACQ_REL) != 0;
}

/** Bytes of a bells region for @p gateways gateways (whole pages). */
static inline uint64_t shmex_bells_size(uint32_t gateways)
{
	const uint64_t bytes = (uint64_t)gateways * sizeof(struct shmex_bell);
	return (bytes + 4095) & ~UINT64_C(4095);
}

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_BELLS_H */
