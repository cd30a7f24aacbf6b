/*
 * libFuzzer target for what a client controls in shared memory: the
 * session header the engine checks (shmex_session_layout_check()) and the
 * ring indices and slot bytes the engine reads (shm/shmex_ring.h).
 *
 * Input: the first bytes are the region as the peer left it (its header,
 * then anything), copied into a buffer of exactly that size, so
 * AddressSanitizer catches any read past the mapping. If the header passes
 * the check, the rest of the input is a script of peer moves: write a
 * value into the request ring's head or the response ring's tail, write
 * slot bytes; after each move the engine side reads (available, pop) and
 * writes (claim, stage, publish) as it would. Properties checked (abort on
 * failure): no crash or out-of-bounds access; a count read is never more
 * than the ring holds; the engine's own indices only move forward and stay
 * consistent with what it was told; SHMEX_E_PROTOCOL is the only error.
 *
 * Build: meson builds it with clang (-fsanitize=fuzzer,address); CI runs
 * it briefly over tests/fuzz/corpus_shm; scripts/fuzz.sh runs it longer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shmex_ring.h"
#include "shmex_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REGION_MAX (1u << 16)

static void check(int cond)
{
	if (!cond)
		abort();
}

static uint64_t take64(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	size_t n = (size_t)(end - *p) < 8 ? (size_t)(end - *p) : 8;
	memcpy(&v, *p, n);
	*p += n;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* First two bytes: how much of the input is the region. */
	size_t region = ((size_t)data[0] | (size_t)data[1] << 8) % (REGION_MAX + 1);
	data += 2;
	size -= 2;
	if (region > size)
		region = size;
	region &= ~(size_t)(SHMEX_CACHE_LINE - 1);
	if (region == 0)
		return 0;
	uint8_t *mem = aligned_alloc(SHMEX_CACHE_LINE, region);
	if (!mem)
		return 0;
	memcpy(mem, data, region);

	struct shmex_session_layout lay;
	int rc = shmex_session_layout_check(mem, region, &lay);
	check(rc == 0 || rc == SHMEX_E_PROTOCOL || rc == SHMEX_E_VERSION);
	if (rc != 0) {
		free(mem);
		return 0;
	}
	check(lay.region_size <= region);
	struct shmex_ring req, resp;
	check(shmex_session_ring_attach(&req, mem, &lay.request) == 0);
	check(shmex_session_ring_attach(&resp, mem, &lay.response) == 0);
	struct shmex_ring_ctl *req_ctl = (struct shmex_ring_ctl *)(mem + lay.request.offset);
	struct shmex_ring_ctl *resp_ctl = (struct shmex_ring_ctl *)(mem + lay.response.offset);

	const uint8_t *p = data + region, *end = data + size;
	uint8_t msg[SHMEX_RING_MAX_SLOT_SIZE];
	int broken_req = 0, broken_resp = 0;
	while (p < end) {
		const uint8_t op = *p++;
		const uint64_t v = take64(&p, end);
		switch (op % 4) {
		case 0: /* the client publishes (or lies about) its head */
			__atomic_store_n(&req_ctl->head, v, __ATOMIC_RELEASE);
			break;
		case 1: /* the client consumes (or lies about) its tail */
			__atomic_store_n(&resp_ctl->tail, v, __ATOMIC_RELEASE);
			break;
		case 2: /* the client scribbles over a request slot */
			*(uint64_t *)(mem + lay.request.offset + sizeof(struct shmex_ring_ctl) +
				      (v % lay.request.slots) * lay.request.slot_size) = v;
			break;
		default: /* or over the header: nothing may read it again */
			memcpy(mem + (v % 8) * 8, &v, 8);
			break;
		}
		/* The engine reads requests... */
		if (!broken_req) {
			const uint64_t before = req.index;
			int64_t n = shmex_ring_available(&req);
			if (n < 0) {
				check(n == SHMEX_E_PROTOCOL);
				check(req.index == before);
				broken_req = 1; /* the daemon ends the session here */
			} else {
				check((uint64_t)n <= req.slots);
				int got = shmex_ring_pop(&req, msg, req.slot_size);
				check(got == (n > 0));
				check(req.index == before + (uint64_t)got);
			}
		}
		/* ... and answers. */
		if (!broken_resp) {
			const uint64_t before = resp.index;
			void *slot = NULL;
			int got = shmex_ring_claim(&resp, &slot);
			if (got < 0) {
				check(got == SHMEX_E_PROTOCOL);
				broken_resp = 1;
			} else if (got == 1) {
				const uint8_t *s = slot;
				check(s >= mem + lay.response.offset + sizeof(struct shmex_ring_ctl) &&
				      s + resp.slot_size <= mem + lay.region_size);
				memset(slot, 0xA5, resp.slot_size);
				shmex_ring_stage(&resp);
				check(shmex_ring_publish(&resp) == 1);
				check(resp.index == before + 1);
			}
		}
	}
	free(mem);
	return 0;
}
