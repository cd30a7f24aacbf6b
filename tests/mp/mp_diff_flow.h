/*
 * The differential test's flow (test_mp_diff.c): a deterministic random
 * run of requests for a few users on the world's symbols (mp_world.h),
 * drawn from and applied to a struct shmex_exchange in this process, built
 * from the same table as the daemon's configuration and in the daemon's
 * order (assets, symbols, each user then its deposits), so event numbers
 * match a daemon with one matcher. Each call's reports, taken from the
 * exchange's report sink, become the reports the protocol promises
 * (shmex_report.h): every report of request i carries request_no i, the
 * last one SHMEX_RPTF_DONE; a call that made no report is answered by one
 * SHMEX_RPT_REJECT with the call's reason; a mass cancel ends with a
 * SHMEX_RPT_MASS_CANCEL report.
 */
#ifndef MP_DIFF_FLOW_H
#define MP_DIFF_FLOW_H

#include <stdint.h>

#include "shmex/exchange.h"
#include "shmex_report.h"

enum mp_diff_op { D_SUBMIT, D_CANCEL, D_CANCEL_CID, D_AMEND, D_MASS };

struct mp_diff_req {
	uint8_t op;                   /* enum mp_diff_op */
	struct shmex_order_request o; /* D_SUBMIT */
	uint32_t user, symbol;        /* others */
	uint64_t order_id, client_id; /* order_id: the in-process exchange's id */
	int64_t price, qty;
};

struct mp_diff_flow_opts {
	uint32_t users;           /* users 1..users trade */
	uint32_t requests;
	uint64_t seed;            /* 0: the original flow's */
	/* Client ids unique per user or 0 (several matchers: each matcher
	 * checks uniqueness among its own orders only); else a submit now and
	 * then reuses a recent client id. */
	int unique_client_ids;
	const int64_t *deposits;  /* [MP_NASSETS] each user's, by asset id - 1 (NULL: the
				     world's) */
};

struct mp_diff_flow {
	struct shmex_exchange *ex;
	struct mp_diff_req *req;    /* [requests]: request i + 1 is req[i] */
	struct shmex_report *want;  /* what the daemon must answer, request after request */
	uint32_t nwant, cap;
	uint32_t *first;            /* [requests + 1]: want[first[i]..first[i + 1]) answer
				       request i + 1 */
	/* what the flow reached */
	uint32_t trades, no_funds, kinds[8];
};

/**
 * Builds the exchange and runs @p o->requests requests on it.
 * @return 0, or -1 with a reason on stderr.
 */
int mp_diff_flow_run(struct mp_diff_flow *f, const struct mp_diff_flow_opts *o);

/** Frees what mp_diff_flow_run() made (also after a failure; twice is safe). */
void mp_diff_flow_free(struct mp_diff_flow *f);

#endif /* MP_DIFF_FLOW_H */
