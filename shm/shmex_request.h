/**
 * @file shmex_request.h
 * @brief The request message: what a client writes into its request ring
 *        (client -> engine), one 64-byte line per request.
 *
 * Every field is hostile input: the engine copies the line out of the ring
 * first and then checks the copy (src/engine/request_decode.c); a field out
 * of range is a reject with a reason code (SHMEX_RPT_REJECT report), never
 * a crash. Requests are numbered by the engine, 1, 2, ... in ring order per
 * session; every request is answered by exactly one report carrying
 * SHMEX_RPTF_DONE and that number (struct shmex_report.request_no).
 *
 * Stable wire format: fields are only ever appended in padding, and a
 * change of meaning bumps SHMEX_SESSION_VERSION.
 */
#ifndef SHMEX_REQUEST_H
#define SHMEX_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Request types (struct shmex_request.type). Stable. */
enum shmex_request_type {
	SHMEX_REQ_SUBMIT = 1,      /**< new order */
	SHMEX_REQ_CANCEL = 2,      /**< cancel by order_id, or by client_id when order_id is 0 */
	SHMEX_REQ_AMEND = 3,       /**< new price and new remaining quantity (shmex_exchange_amend) */
	SHMEX_REQ_MASS_CANCEL = 4, /**< every live order of user in symbol (0: all symbols) */
	SHMEX_REQ_PING = 5,        /**< answered by a PONG report (latency probe) */
};

/** One request: one cache line. */
struct shmex_request {
	uint8_t type;        /**< enum shmex_request_type */
	uint8_t side;        /**< SUBMIT: enum shmex_side */
	uint8_t order_type;  /**< SUBMIT: enum shmex_order_type */
	uint8_t tif;         /**< SUBMIT: enum shmex_tif */
	uint8_t stp;         /**< SUBMIT: enum shmex_stp */
	uint8_t flags;       /**< SUBMIT: SHMEX_OF_POST_ONLY only; others: 0 */
	uint16_t pad;        /**< 0 */
	uint32_t user;       /**< the user acted for (the session needs a trader grant) */
	uint32_t symbol;     /**< SUBMIT, MASS_CANCEL (0: all) */
	uint64_t client_id;  /**< SUBMIT: the user's id for it; CANCEL: used when order_id is 0;
				  PING: echoed */
	/* One word, two names: a SUBMIT has no engine order id yet, and only a
	 * SUBMIT has a peak. (Eight separate 8-byte fields do not fit the line
	 * next to the 16 bytes of type, options, user and symbol.) */
	union {
		uint64_t order_id;   /**< CANCEL, AMEND: engine order id */
		int64_t display_qty; /**< SUBMIT: iceberg peak (0: all shown) */
	};
	int64_t price;       /**< SUBMIT: limit or protection price; AMEND: new price */
	int64_t qty;         /**< SUBMIT: lots; AMEND: new remaining quantity */
	int64_t aux;         /**< SUBMIT: trigger price (stop and take-profit types) or quote
				  budget (market buy IOC); else 0 */
	int64_t expire_at;   /**< SUBMIT, GTD: expiry on the engine clock (ns) */
};
_Static_assert(sizeof(struct shmex_request) == 64, "request: one cache line");
_Static_assert(offsetof(struct shmex_request, user) == 8, "request.user at 8");
_Static_assert(offsetof(struct shmex_request, client_id) == 16, "request.client_id at 16");
_Static_assert(offsetof(struct shmex_request, order_id) == 24, "request.order_id at 24");
_Static_assert(offsetof(struct shmex_request, display_qty) == 24, "request.display_qty at 24");
_Static_assert(offsetof(struct shmex_request, price) == 32, "request.price at 32");
_Static_assert(offsetof(struct shmex_request, expire_at) == 56, "request.expire_at at 56");

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_REQUEST_H */
