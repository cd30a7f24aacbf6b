/*
 * The bank differential test's requests (test_bank_diff.c), drawn at
 * random from the reference exchange's state, in the reference's id space
 * (the test translates order ids to the engine's before sending).
 */
#ifndef BANK_DIFF_FLOW_H
#define BANK_DIFF_FLOW_H

#include <stdint.h>

#include "bank_diff_world.h"

enum bd_op {
	BD_SUBMIT = 1,
	BD_CANCEL,     /* by order id */
	BD_CANCEL_CID, /* by client id */
	BD_AMEND,
	BD_MASS,       /* symbol 0: every symbol */
	BD_PING,
	BD_REFUSE,     /* a request the gateway refused (SX_CMD_REJECT) */
};

/* Order ids no order has on either side: the reference's are small, the
 * engine's are (k << 48) + small. */
#define BD_JUNK_ID (UINT64_C(1) << 40)

struct bd_req {
	uint8_t op;                   /* enum bd_op */
	uint8_t refuse_submit;        /* BD_REFUSE: of a new order (o), else of the target */
	uint16_t session;
	uint16_t reason;              /* BD_REFUSE */
	struct shmex_order_request o; /* BD_SUBMIT, BD_REFUSE of a new order */
	uint32_t user, symbol;
	uint64_t order_id;            /* reference id, or BD_JUNK_ID | n */
	uint64_t client_id;           /* BD_CANCEL_CID; BD_PING: the tag */
	int64_t price, qty;           /* BD_AMEND */
};

struct bd_flow {
	uint64_t rng;
	uint64_t cid;      /* client ids: unique per user (one counter, mixed), or 0 */
	uint64_t tag;
	const struct bd_world *w;
};

/** Seeds the generator (@p seed != 0). */
void bd_flow_init(struct bd_flow *f, const struct bd_world *w, uint64_t seed);

/** The next random number. */
uint64_t bd_rand(uint64_t *state);

/**
 * Draws the next request from @p ex (the reference) now. @p max_id: the
 * largest reference order id seen so far (cancels and amends of ended or
 * foreign orders pick below it).
 */
void bd_flow_next(struct bd_flow *f, const struct shmex_exchange *ex, uint64_t max_id,
		  struct bd_req *q);

#endif /* BANK_DIFF_FLOW_H */
