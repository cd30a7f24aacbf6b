/*
 * The request side of a session, shared by every quoter of a process: it
 * sends orders, amends and cancels through the client library, stamps each
 * with the time it was sent, and remembers it until its DONE report (for
 * the round-trip latency and for routing the answer).
 */
#ifndef SX_MM_SENDER_H
#define SX_MM_SENDER_H

#include <stdint.h>

#include "pending.h"
#include "shmex/client.h"

struct sx_sender {
	struct shmex_client *c;
	struct sx_pending pending;
	uint64_t sent[SX_REQ_MASS_CANCEL + 1]; /* by enum sx_req_kind */
	uint64_t deferred;  /* requests put off: ring or table full */
	uint64_t untracked; /* sent, but its table slot was taken: no latency */
	int error;          /* a fatal library error (the session is broken), else 0 */
};

/** Sets up @p s on session @p c. */
void sx_sender_init(struct sx_sender *s, struct shmex_client *c);

/*
 * Each send function fills e->request_no and e->sent_ns (the caller sets
 * kind, market and slot) and returns 0; 1 if the request was put off (the
 * ring or the table is full: poll reports and try again later); or a
 * negative fatal code (also kept in s->error).
 */
int sx_sender_new(struct sx_sender *s, struct sx_pending_entry *e,
		  const struct shmex_order_request *order);
int sx_sender_amend(struct sx_sender *s, struct sx_pending_entry *e, uint32_t user,
		    uint64_t order_id, int64_t price, int64_t qty);
int sx_sender_cancel(struct sx_sender *s, struct sx_pending_entry *e, uint32_t user,
		     uint64_t order_id);
int sx_sender_mass_cancel(struct sx_sender *s, struct sx_pending_entry *e, uint32_t user,
			  uint32_t symbol);

#endif /* SX_MM_SENDER_H */
