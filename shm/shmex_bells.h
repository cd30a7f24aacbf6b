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
 * Dekker pairing (both directions): the sleeper stores sleeping = 1, then a
 * seq_cst fence (S1), then re-checks the ring; the waker publishes the ring
 * head (release), then a seq_cst fence (W1), then loads sleeping. S1 and W1
 * are totally ordered, so either the sleeper sees the new head or the
 * waker sees sleeping = 1; a wake-up is never lost. futex_wait compares
 * `bell` with the value read before the re-check, so a ring between the
 * re-check and the sleep returns at once.
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
