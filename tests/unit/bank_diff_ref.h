/*
 * The bank differential test's reference (test_bank_diff.c): one
 * shmex_exchange holding every book and balance, each request run on it as
 * the matcher runs it (matcher.c, sx_run), and its reports turned into
 * what the engine must deliver: each report to the session that placed its
 * order (request_no set for the requester's own, 0 for others'), the
 * requester's held back by one per matcher so that its last carries
 * SHMEX_RPTF_DONE, a REJECT for a request that made no report (or a copy
 * of the target order's report when another session of the user owns it),
 * a MASS_CANCEL or PONG closing those requests.
 */
#ifndef BANK_DIFF_REF_H
#define BANK_DIFF_REF_H

#include <stdint.h>

#include "bank_diff_flow.h"
#include "shmex_report.h"

#define BD_NO_SESSION 0xffffu

/* One report as a session receives it. */
struct bd_item {
	uint16_t session;
	uint16_t lane; /* ORDER: its symbol's matcher; other kinds: the matcher count */
	uint32_t pad;
	struct shmex_report rep;
};

struct bd_owner {
	uint64_t id;
	uint16_t session;
};

struct bd_ref {
	struct shmex_exchange *ex;
	const struct bd_world *w;
	struct bd_owner *owner;    /* [BD_MAX_ORDERS], by id modulo: live ids differ there */
	uint64_t max_id;           /* the largest order id a report named */
	/* the last request's reports, each lane in the engine's order */
	struct bd_item *out;
	uint32_t nout, cap;
	uint64_t new_order;        /* BD_SUBMIT: the new order's id (0: none) */
	/* what the flow reached */
	uint64_t reports, trades, rejects, mass, pongs, copies;
	uint64_t reasons[64];
	uint64_t whats[16];
};

/** @return 0 or a shmex error. */
int bd_ref_create(struct bd_ref *r, const struct bd_world *w);
void bd_ref_destroy(struct bd_ref *r);

/** Runs @p q as request @p request_no; its reports land in r->out.
 *  @return 0, or -1 (more reports than the test holds). */
int bd_ref_run(struct bd_ref *r, const struct bd_req *q, uint64_t request_no);

/** The lane of a report (bd_item.lane). */
uint16_t bd_lane(const struct bd_world *w, const struct shmex_report *rep);

#endif /* BANK_DIFF_REF_H */
