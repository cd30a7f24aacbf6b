/**
 * @file shmex_report.h
 * @brief The report message: what the engine writes into a session's
 *        response ring (engine -> client), 128 bytes (two cache lines; what
 *        an acknowledgement needs is in the first).
 *
 * Kinds:
 *  - SHMEX_RPT_ORDER: one event of an order's history (accepted, parked,
 *    triggered, trade, amended, reduced, cancelled, killed, expired,
 *    rejected), as struct shmex_order_report of the exchange core: the same
 *    sequence number, status, quantities, fee and quote amount.
 *  - SHMEX_RPT_REJECT: a request refused before it reached the exchange (a
 *    malformed field, no grant for the user, a cancel of an unknown order):
 *    reason says why; nothing changed and no sequence number was taken.
 *  - SHMEX_RPT_MASS_CANCEL: the end of a mass cancel; last_qty = how many
 *    orders it cancelled (each also has its own ORDER report).
 *  - SHMEX_RPT_PONG: the answer to a ping (client_id echoed).
 *  - SHMEX_RPT_SHUTDOWN: the engine is stopping; no more reports follow.
 *  - SHMEX_RPT_ENDED: the engine ended this session (reason
 *    SHMEX_R_NOT_READING or SHMEX_R_RING_PROTOCOL); the engine keeps the
 *    ring's last slot for it, so it is there unless the client broke the
 *    ring's indices. The socket closes in any case. No more reports
 *    follow.
 *
 * Every request is answered by exactly one report with SHMEX_RPTF_DONE set
 * and request_no = the request's number (1, 2, ... in ring order): the last
 * report its execution produced for this session. Reports about this
 * session's orders caused by someone else (a fill as maker, an expiry, a
 * trigger) carry request_no 0.
 *
 * Order: with one matcher thread, requests are answered in request order.
 * With several (each owns some symbols), the requests that go to one
 * matcher are answered in request order, and requests that went to two
 * matchers may be answered in either order: a slow book never holds up
 * another symbol's answers. A new order goes to its symbol's matcher, a
 * cancel or amend by order id to the matcher of that order (of its
 * symbol); a ping, a mass cancel of every symbol and a cancel by client id
 * go to every matcher and are answered once all have run what the session
 * sent before them (a ping is a barrier; requests sent after it to one
 * matcher may be answered before it), except a cancel by client id when
 * the engine knows which matcher the user's latest order with that client
 * id went to (then it goes there: nearly always); a request refused before
 * any matcher (malformed, no grant, 256 such broadcast requests of the
 * session unanswered: RATE_LIMIT) is answered in the order of matcher 0.
 */
#ifndef SHMEX_REPORT_H
#define SHMEX_REPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Report kinds (struct shmex_report.kind). Stable. */
enum shmex_report_kind {
	SHMEX_RPT_ORDER = 1,
	SHMEX_RPT_REJECT = 2,
	SHMEX_RPT_MASS_CANCEL = 3,
	SHMEX_RPT_PONG = 4,
	SHMEX_RPT_SHUTDOWN = 5,
	SHMEX_RPT_ENDED = 6,
};

/** Report flags (struct shmex_report.flags). */
enum shmex_report_flag {
	SHMEX_RPTF_DONE = 1u << 0, /**< the last report of request request_no */
};

/** One report: two cache lines. */
struct shmex_report {
	/* line 1: what an acknowledgement needs */
	uint8_t kind;        /**< enum shmex_report_kind */
	uint8_t what;        /**< ORDER: enum shmex_event_type */
	uint8_t status;      /**< ORDER: enum shmex_order_status after the event */
	uint8_t flags;       /**< enum shmex_report_flag */
	uint16_t reason;     /**< enum shmex_reason (SHMEX_R_NONE if none) */
	uint8_t side;        /**< enum shmex_side */
	uint8_t liquidity;   /**< TRADE: enum shmex_liquidity */
	uint32_t user;
	uint32_t symbol;
	uint64_t order_id;   /**< engine order id (0 if none) */
	uint64_t client_id;  /**< the user's id for the order; PONG: the ping's */
	uint64_t seq;        /**< global event sequence (0: no event, e.g. a REJECT) */
	int64_t price;       /**< TRADE: trade price; else the order's price */
	int64_t last_qty;    /**< TRADE: fill; CANCELLED/KILLED/EXPIRED/REDUCED: quantity taken;
				  MASS_CANCEL: orders cancelled */
	int64_t remaining;   /**< after the event */
	/* line 2 */
	uint64_t request_no; /**< the request this answers (0: not caused by this session) */
	uint64_t trade_id;   /**< TRADE */
	uint64_t counter_id; /**< TRADE: the other order's engine id */
	int64_t filled;      /**< after the event */
	int64_t qty;         /**< the order's quantity after the event */
	int64_t quote_amount; /**< TRADE: quote paid (buy, fee included) or received (sell) */
	int64_t fee;         /**< TRADE: fee part of it (< 0: rebate) */
	int64_t time;        /**< engine clock at the event, ns */
};
_Static_assert(sizeof(struct shmex_report) == 128, "report: two cache lines");
_Static_assert(offsetof(struct shmex_report, order_id) == 16, "report.order_id at 16");
_Static_assert(offsetof(struct shmex_report, seq) == 32, "report.seq at 32");
_Static_assert(offsetof(struct shmex_report, remaining) == 56, "report.remaining at 56");
_Static_assert(offsetof(struct shmex_report, request_no) == 64, "report line 2 at 64");
_Static_assert(offsetof(struct shmex_report, time) == 120, "report.time at 120");

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_REPORT_H */
