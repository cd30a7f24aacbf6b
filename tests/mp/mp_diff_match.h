/*
 * The differential test's comparison for a daemon with several matchers
 * (test_mp_diff.c): the daemon's reports against the in-process exchange's
 * (mp_diff_flow.h), with only what several matchers legitimately change
 * normalised:
 *
 *   - order ids and trade ids (matcher k numbers from k << 48): a bijection
 *     in-process id <-> daemon id is built from the first report naming
 *     each order (order_id or counter_id) or trade, and every later report
 *     must agree with it; a REJECT's order id must be the one its request
 *     named on each side;
 *   - seq (one counter shared by the matchers, so not consecutive): within
 *     each matcher's reports, in arrival order, it never goes down, and two
 *     reports of one request and symbol share a number exactly where their
 *     in-process twins do;
 *   - the interleaving of reports of different matchers: a request's reports
 *     are paired symbol by symbol (an ORDER report with the in-process report
 *     at the same place among the request's reports on that symbol; other
 *     kinds among the other kinds), so each order's reports must be the
 *     in-process ones, field by field, in the same order, and the DONE report
 *     must be the same report;
 *   - the engine clock.
 * Everything else must be equal.
 */
#ifndef MP_DIFF_MATCH_H
#define MP_DIFF_MATCH_H

#include <stdint.h>

#include "id_bijection.h"
#include "shmex_report.h"

#define MP_DIFF_MATCHERS 8u

struct mp_diff_match {
	uint32_t matchers;
	struct tx_bijection orders, trades;    /* in-process id <-> daemon id */
	uint64_t last_seq[MP_DIFF_MATCHERS];   /* arrival order, per matcher */
	uint64_t requests, reports;            /* compared so far */
	char why[1024];                        /* the first difference */
};

/** @return 0, or -1 (out of memory). */
int mp_diff_match_init(struct mp_diff_match *m, uint32_t matchers);
void mp_diff_match_free(struct mp_diff_match *m);

/** Checks a daemon report's seq as it arrives. @return 0 or -1 (m->why). */
int mp_diff_match_seq(struct mp_diff_match *m, const struct shmex_report *got);

/**
 * Compares one request's reports: @p want (the in-process ones, in order)
 * and @p got (the daemon's, in arrival order). @p want_target and
 * @p got_target: the order id the request named on each side (0: none).
 * Learns the ids the request's reports introduce.
 * @return 0 or -1 (m->why).
 */
int mp_diff_match_request(struct mp_diff_match *m, const struct shmex_report *want, uint32_t nw,
			  const struct shmex_report *const *got, uint32_t ng, uint64_t want_target,
			  uint64_t got_target);

/** The daemon's id of in-process order @p id (0: not seen yet). */
uint64_t mp_diff_match_order(const struct mp_diff_match *m, uint64_t id);

#endif /* MP_DIFF_MATCH_H */
