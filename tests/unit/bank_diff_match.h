/*
 * The bank differential test's comparison (test_bank_diff.c): the engine's
 * reports against the reference's (bank_diff_ref.h), with only what
 * several matchers legitimately change normalised, as tests/mp's
 * mp_diff_match.h does:
 *
 *   - order and trade ids: a bijection reference id <-> engine id, built
 *     at first sight and then held to; a REJECT's order id must be the
 *     one its request named on each side;
 *   - seq: within each matcher's reports to one session, in arrival order,
 *     it never goes down (across sessions it may: a matcher holds the
 *     requester's last report back, not others'; and the bank holds the
 *     DONE of a request sent to every matcher until all have answered,
 *     while later requests to one of them are answered), and two reports of one
 *     request (closed loop) or one order (pipelined) on one matcher are
 *     equal, in order or out of order exactly as their reference twins;
 *   - the interleaving of different matchers' reports: closed loop, each
 *     request's reports are compared lane by lane (an ORDER report's lane
 *     is its symbol's matcher; other kinds have a lane of their own), in
 *     order, and the DONE report must come last; pipelined, each order's
 *     reports are compared in order, and each request's other reports;
 *   - the engine clock.
 * Every other field, the session a report goes to included, must be equal.
 */
#ifndef BANK_DIFF_MATCH_H
#define BANK_DIFF_MATCH_H

#include <stdint.h>

#include "bank_diff_ref.h"
#include "id_bijection.h"

/* One direction of a bijection: open addressing, never shrunk. */
struct bd_match {
	const struct bd_world *w;
	struct tx_bijection orders, trades;    /* reference id <-> engine id */
	uint64_t last_seq[BD_SESSIONS][BD_MAX_MATCHERS]; /* arrival order, per session and
							    matcher */
	uint64_t compared;                     /* reports compared */
	char why[1024];                        /* the first difference */
};

/** @return 0, or -1 (out of memory). */
int bd_match_init(struct bd_match *m, const struct bd_world *w);
void bd_match_free(struct bd_match *m);

/** Records a difference (the first one is kept). @return -1. */
int bd_match_fail(struct bd_match *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** The engine's id of reference order @p id (0: not seen yet). */
uint64_t bd_match_order(const struct bd_match *m, uint64_t id);

/** Pairs reference order @p ref with engine order @p eng. @return 0 or -1. */
int bd_match_bind(struct bd_match *m, uint64_t ref, uint64_t eng);

/** Prints a request's reports, the reference's then the engine's. */
void bd_match_dump(const struct bd_item *want, uint32_t nw, const struct bd_item *got,
		   uint32_t ng);

/** Checks an engine report's seq as it arrives. @return 0 or -1. */
int bd_match_seq(struct bd_match *m, const struct bd_item *got);

/**
 * Closed loop: compares one request's reports, @p want (the reference's)
 * and @p got (the engine's, in arrival order), lane by lane.
 * @p want_target / @p got_target: the order id it named on each side.
 * @return 0 or -1 (m->why).
 */
int bd_match_request(struct bd_match *m, const struct bd_item *want, uint32_t nw,
		     const struct bd_item *got, uint32_t ng, uint64_t want_target,
		     uint64_t got_target);

/**
 * Pipelined: compares every report of a run, each order's in order and
 * each request's other reports in order. @p want: the reference's,
 * requests one after another; @p got: the engine's in arrival order;
 * @p want_target / @p got_target: per request number (1..@p requests).
 * @return 0 or -1 (m->why).
 */
int bd_match_run(struct bd_match *m, const struct bd_item *want, uint32_t nw,
		 const struct bd_item *got, uint32_t ng, const uint64_t *want_target,
		 const uint64_t *got_target, uint32_t requests);

#endif /* BANK_DIFF_MATCH_H */
