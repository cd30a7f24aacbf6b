/**
 * @file shmex_session.h
 * @brief The layout of one session's shared memory: a versioned header,
 *        the client's bell (struct shmex_bell, shmex_bells.h), then the
 *        request ring (client -> engine), then the response ring (engine ->
 *        client), all offsets from the start of the region.
 *
 * The daemon creates the region (a memfd, one per session, so no client
 * can map another's rings), writes the header with magic last (store-
 * release), and passes the descriptor to the client. Both sides then call
 * shmex_session_layout_check() on the mapped bytes: it checks magic,
 * version and layout hash, and that every offset and size lies inside the
 * mapping, aligned, with no overlap, and returns a private copy of the
 * layout. Nothing in the header is read again after that: a client that
 * rewrites its header changes nothing the engine uses.
 */
#ifndef SHMEX_SESSION_H
#define SHMEX_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/error.h"
#include "shmex_bells.h"
#include "shmex_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHMEX_SESSION_MAGIC UINT64_C(0x31534E5358454D53) /* "SMEXSNS1" little-endian */
#define SHMEX_SESSION_VERSION 2u
/** Where the client's bell lies (one line after the header). */
#define SHMEX_SESSION_BELL_OFFSET 64u
/** Where the first ring may start. */
#define SHMEX_SESSION_RINGS_OFFSET 128u

/** Where a ring lies in the region. */
struct shmex_ring_place {
	uint64_t offset;    /**< from the start of the region, 64-byte aligned */
	uint32_t slots;     /**< power of two */
	uint32_t slot_size; /**< bytes, a multiple of 64 */
};
_Static_assert(sizeof(struct shmex_ring_place) == 16, "ring place: 16 bytes");

/** The first cache line of a session region. */
struct shmex_session_header {
	uint64_t magic;          /**< SHMEX_SESSION_MAGIC, written last (release) */
	uint32_t version;        /**< SHMEX_SESSION_VERSION */
	uint32_t header_size;    /**< sizeof(struct shmex_session_header) */
	uint64_t layout_hash;    /**< shmex_session_layout_hash() of the writer */
	uint64_t region_size;    /**< bytes of the whole region */
	struct shmex_ring_place request;  /**< client -> engine */
	struct shmex_ring_place response; /**< engine -> client */
};
_Static_assert(sizeof(struct shmex_session_header) == SHMEX_CACHE_LINE, "header: one line");
_Static_assert(offsetof(struct shmex_session_header, magic) == 0, "magic first");
_Static_assert(offsetof(struct shmex_session_header, request) == 32, "request place at 32");
_Static_assert(offsetof(struct shmex_session_header, response) == 48, "response place at 48");

/** A hash of what both sides must agree on (cache line, struct sizes and
 *  offsets): two builds that differ in any of them refuse each other. */
static inline uint64_t shmex_session_layout_hash(void)
{
	const uint64_t parts[] = {
		SHMEX_CACHE_LINE,
		sizeof(struct shmex_session_header),
		offsetof(struct shmex_session_header, request),
		offsetof(struct shmex_session_header, response),
		sizeof(struct shmex_ring_place),
		sizeof(struct shmex_ring_ctl),
		offsetof(struct shmex_ring_ctl, tail),
		sizeof(struct shmex_bell),
		SHMEX_SESSION_BELL_OFFSET,
		SHMEX_SESSION_VERSION,
	};
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a over the parts */
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		for (int b = 0; b < 8; b++) {
			h ^= (parts[i] >> (8 * b)) & 0xff;
			h *= UINT64_C(0x100000001b3);
		}
	return h;
}

/** A checked, private copy of a session region's layout. */
struct shmex_session_layout {
	uint64_t region_size;
	struct shmex_ring_place request, response;
};

/**
 * Lays out a region for rings of the given shapes: the header, then the
 * request ring, then the response ring, each 64-byte aligned.
 * @return 0 and *@p out, or SHMEX_E_INVAL (a shape is invalid).
 */
static inline int shmex_session_layout_make(uint32_t req_slots, uint32_t req_slot_size,
					    uint32_t resp_slots, uint32_t resp_slot_size,
					    struct shmex_session_layout *out)
{
	const size_t req = shmex_ring_memsize(req_slots, req_slot_size);
	const size_t resp = shmex_ring_memsize(resp_slots, resp_slot_size);
	if (req == 0 || resp == 0)
		return SHMEX_E_INVAL;
	out->request = (struct shmex_ring_place){ SHMEX_SESSION_RINGS_OFFSET, req_slots,
						  req_slot_size };
	out->response = (struct shmex_ring_place){ out->request.offset + req, resp_slots,
						   resp_slot_size };
	out->region_size = out->response.offset + resp;
	return 0;
}

/**
 * Creator: writes the header of a zeroed region of layout->region_size
 * bytes at @p mem (64-byte aligned) and initialises both rings; magic is
 * stored last with release, so an attacher that sees it sees the rest.
 * @return 0 or SHMEX_E_INVAL.
 */
static inline int shmex_session_region_init(void *mem, const struct shmex_session_layout *layout)
{
	if (mem == NULL || ((uintptr_t)mem % SHMEX_CACHE_LINE) != 0)
		return SHMEX_E_INVAL;
	uint8_t *base = (uint8_t *)mem;
	struct shmex_session_header *h = (struct shmex_session_header *)mem;
	if (shmex_ring_init(base + layout->request.offset, layout->request.slots,
			    layout->request.slot_size) != 0 ||
	    shmex_ring_init(base + layout->response.offset, layout->response.slots,
			    layout->response.slot_size) != 0)
		return SHMEX_E_INVAL;
	h->version = SHMEX_SESSION_VERSION;
	h->header_size = sizeof *h;
	h->layout_hash = shmex_session_layout_hash();
	h->region_size = layout->region_size;
	h->request = layout->request;
	h->response = layout->response;
	/* Pairs with the acquire in shmex_session_layout_check(). */
	__atomic_store_n(&h->magic, SHMEX_SESSION_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

/* Whether @p p is a ring place inside [SHMEX_SESSION_RINGS_OFFSET, size). */
static inline int shmex_ring_place_ok(const struct shmex_ring_place *p, uint64_t size)
{
	const size_t bytes = shmex_ring_memsize(p->slots, p->slot_size);
	return bytes != 0 && p->offset >= SHMEX_SESSION_RINGS_OFFSET &&
	       p->offset % SHMEX_CACHE_LINE == 0 && p->offset <= size && bytes <= size - p->offset;
}

/**
 * Checks the header of a region mapped at @p mem (@p mapped bytes, the
 * size the checker knows from its own side, e.g. fstat of the memfd) and
 * copies its layout to *@p out. Every field is read once, into private
 * memory, before it is checked.
 * @return 0, SHMEX_E_VERSION (magic, version, header size or layout hash
 *         differ: a clear refusal of another build), or SHMEX_E_PROTOCOL
 *         (a size or offset out of the mapping, misaligned, or overlapping).
 */
static inline int shmex_session_layout_check(const void *mem, size_t mapped,
					     struct shmex_session_layout *out)
{
	if (mem == NULL || mapped < sizeof(struct shmex_session_header) ||
	    ((uintptr_t)mem % SHMEX_CACHE_LINE) != 0)
		return SHMEX_E_PROTOCOL;
	const struct shmex_session_header *shared = (const struct shmex_session_header *)mem;
	/* Pairs with the creator's release of magic. */
	const uint64_t magic = __atomic_load_n(&shared->magic, __ATOMIC_ACQUIRE);
	struct shmex_session_header h;
	memcpy(&h, shared, sizeof h);
	if (magic != SHMEX_SESSION_MAGIC || h.version != SHMEX_SESSION_VERSION ||
	    h.header_size != sizeof h || h.layout_hash != shmex_session_layout_hash())
		return SHMEX_E_VERSION;
	if (h.region_size > mapped || !shmex_ring_place_ok(&h.request, h.region_size) ||
	    !shmex_ring_place_ok(&h.response, h.region_size))
		return SHMEX_E_PROTOCOL;
	/* The rings must not overlap: request first, as laid out. */
	const uint64_t req_end = h.request.offset + shmex_ring_memsize(h.request.slots,
									h.request.slot_size);
	if (h.response.offset < req_end)
		return SHMEX_E_PROTOCOL;
	out->region_size = h.region_size;
	out->request = h.request;
	out->response = h.response;
	return 0;
}

/** The client's bell of a checked region. */
static inline struct shmex_bell *shmex_session_bell(void *mem)
{
	return (struct shmex_bell *)((uint8_t *)mem + SHMEX_SESSION_BELL_OFFSET);
}

/** Attaches a view to one ring of a checked region. */
static inline int shmex_session_ring_attach(struct shmex_ring *r, void *mem,
					    const struct shmex_ring_place *p)
{
	return shmex_ring_attach(r, (uint8_t *)mem + p->offset, p->slots, p->slot_size);
}

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_SESSION_H */
