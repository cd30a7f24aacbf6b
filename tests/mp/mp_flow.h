/*
 * A fixed, deterministic order flow for users 1 and 2 on BTC/USD (they
 * trade only with each other), and its reports put in a form that two runs
 * can be compared in: what depends on other sessions' traffic (event
 * sequence numbers, engine order and trade ids, the clock) is replaced by
 * the order of first appearance within the flow, everything else is kept.
 * Batches of submits (limit GTC, post-only, iceberg, IOC, FOK, market with
 * a budget) alternate with cancels (by id, by client id) and amends of the
 * flow's live orders; the flow ends with mass cancels. Which order a cancel
 * or amend targets is chosen from the flow's own reports, so the flow is
 * the same on every run while those reports are.
 */
#ifndef MP_FLOW_H
#define MP_FLOW_H

#include <stdint.h>

#include "shmex_report.h"

#define MP_FLOW_MAX_REPORTS 8192

struct mp_flow_record {
	uint32_t n;
	uint64_t requests;
	struct shmex_report rep[MP_FLOW_MAX_REPORTS];
};

/**
 * Runs the flow on a new session of the daemon at @p sock and records
 * every report. @return 0, or -1 with a reason on stderr.
 */
int mp_flow_run(const char *sock, struct mp_flow_record *rec);

/** Rewrites @p rec in place into its comparable form (see above). */
void mp_flow_normalize(struct mp_flow_record *rec);

/** Compares two normalized records: 0 if equal, else -1 and the first
 *  difference on stderr. */
int mp_flow_compare(const struct mp_flow_record *a, const struct mp_flow_record *b);

#endif /* MP_FLOW_H */
