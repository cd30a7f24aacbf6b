/*
 * Requests in flight, by request number. A session numbers its requests
 * 1, 2, 3, ... and the engine answers each with exactly one report marked
 * SHMEX_RPTF_DONE, so a table indexed by the number modulo its size holds
 * every request in flight as long as none falls SX_PENDING_MAX behind.
 */
#ifndef SX_MM_PENDING_H
#define SX_MM_PENDING_H

#include <stdint.h>

#define SX_PENDING_MAX 1024u /* a power of two */

/** What a request was for. */
enum sx_req_kind { SX_REQ_NEW = 1, SX_REQ_AMEND, SX_REQ_CANCEL, SX_REQ_MASS_CANCEL };

struct sx_pending_entry {
	uint64_t request_no; /* 0: free */
	int64_t sent_ns;     /* sx_now_ns() just before the request was written */
	uint8_t kind;        /* enum sx_req_kind */
	uint8_t pad;
	uint16_t market;     /* the caller's index of the symbol */
	uint32_t slot;       /* the caller's slot (quoter: side and level) */
};

struct sx_pending {
	uint32_t in_flight;
	uint32_t pad;
	struct sx_pending_entry e[SX_PENDING_MAX];
};

/** Empties @p p. */
void sx_pending_init(struct sx_pending *p);

/** Whether another request may be sent: fewer than a quarter of the table
 *  in flight (so a number's slot is free unless one request is 768 behind). */
int sx_pending_room(const struct sx_pending *p);

/** Remembers request @p e (e->request_no != 0).
 *  @return 0, or -1 if its slot still holds a request (then not stored). */
int sx_pending_add(struct sx_pending *p, const struct sx_pending_entry *e);

/** The entry of request @p request_no, or NULL if it is not in flight. */
struct sx_pending_entry *sx_pending_find(struct sx_pending *p, uint64_t request_no);

/** Forgets request @p e (after its DONE report). */
void sx_pending_remove(struct sx_pending *p, struct sx_pending_entry *e);

#endif /* SX_MM_PENDING_H */
