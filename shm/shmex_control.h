/**
 * @file shmex_control.h
 * @brief The control protocol on the daemon's Unix socket (SOCK_SEQPACKET:
 *        one message per packet): the session handshake, and the cold path
 *        (queries and administration).
 *
 * A session is one socket connection. The client sends HELLO; the daemon
 * learns the client's uid with SO_PEERCRED, creates the session's memfd
 * (struct shmex_session_header, rings) and answers WELCOME with two
 * descriptors (SCM_RIGHTS): the session region and the wait words of the
 * gateway that serves it (struct shmex_bells). Orders then travel through
 * the rings only; the socket carries queries and admin commands, each
 * answered by one or more replies with the same `ref`, the last with
 * SHMEX_CTLF_END. Closing the socket ends the session.
 *
 * Every message starts with struct shmex_ctl_header; `len` is the whole
 * message. Replies carry `status` (0 or a negative shmex error). Lists come
 * as several replies of up to SHMEX_CTL_MAX bytes each.
 *
 * The daemon treats every byte as hostile: a packet of the wrong size for
 * its type, an unknown type or unterminated text is answered with
 * SHMEX_E_PROTOCOL; nothing a client sends here reaches the engine without
 * being checked.
 *
 * Framing rules (both sides; libshmex checks each, a breach is
 * SHMEX_E_PROTOCOL):
 *  - Sizes are exact: a message is sizeof its struct, a list is
 *    sizeof(struct shmex_ctl_list) + count * sizeof(item) with
 *    count <= SHMEX_CTL_ITEMS_MAX(item); no trailing bytes.
 *  - `ref`: HELLO carries 0; the client numbers its requests 1, 2, ... on
 *    the connection, and every reply echoes its request's ref. One request
 *    at a time: the client waits for END before it sends the next (the
 *    daemon refuses a second while one is pending: SHMEX_E_PROTOCOL). A
 *    client that gave up on a request (its timeout) skips replies that
 *    carry an older ref.
 *  - Every answer ends with exactly one packet flagged SHMEX_CTLF_END. A
 *    refused request is answered by one REPLY with status < 0, END and a
 *    one-line text (e.g. -EACCES, "admin role needed"). A list answer is
 *    one or more list packets of the reply type, the last with END (an
 *    empty list: one packet with count 0 and END); `total` is the number
 *    of items in the whole answer. A client also accepts a plain REPLY
 *    with status 0 and END as the end of a list.
 *  - Text fields (names, codes, reply text) end with a NUL inside their
 *    arrays; receivers terminate them anyway.
 */
#ifndef SHMEX_CONTROL_H
#define SHMEX_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/exchange.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHMEX_CTL_MAGIC 0x4c54434du /* "MCTL" */
#define SHMEX_CTL_VERSION 1u
#define SHMEX_CTL_MAX 4096u
#define SHMEX_NAME_LEN 32u

/** Control message types. Stable. */
enum shmex_ctl_type {
	/* handshake */
	SHMEX_CTL_HELLO = 1,   /**< client: struct shmex_ctl_hello */
	SHMEX_CTL_WELCOME = 2, /**< daemon: struct shmex_ctl_welcome, + 2 fds when status is 0 */
	/* queries (any session; user data needs a grant for that user, or admin) */
	SHMEX_CTL_STATUS = 10,   /**< -> one STATUS_INFO (no END), then SESSION_INFO lists, the
				      last with END (SYMBOL_INFO lists may come before END: clients
				      skip them and ask SYMBOLS) */
	SHMEX_CTL_BALANCES = 11, /**< user -> BALANCE items */
	SHMEX_CTL_ORDERS = 12,   /**< user, symbol (0: all) -> ORDER items (open orders) */
	SHMEX_CTL_BOOK = 13,     /**< symbol, depth -> LEVEL items (bids, then asks) */
	SHMEX_CTL_SYMBOLS = 14,  /**< -> SYMBOL_INFO items */
	SHMEX_CTL_ASSETS = 15,   /**< -> ASSET items */
	SHMEX_CTL_ORDER = 16,    /**< order_id -> one ORDER item. `user` is 0 (the client does
				      not know the order's user): the daemon answers when the
				      requester is admin or has a grant for the order's user, else
				      SHMEX_E_UNKNOWN_ORDER (not -EACCES: ids are not probed) */
	SHMEX_CTL_CHECK = 17,    /**< admin: check every invariant -> REPLY: status 0 or
				      SHMEX_E_INVARIANT, text = the first violation */
	/* administration (admin role) */
	SHMEX_CTL_ADD_ASSET = 30,
	SHMEX_CTL_ADD_SYMBOL = 31,
	SHMEX_CTL_ADD_USER = 32,
	SHMEX_CTL_GRANT = 33,
	SHMEX_CTL_DEPOSIT = 34,
	SHMEX_CTL_WITHDRAW = 35,
	SHMEX_CTL_SET_STATUS = 36,  /**< halt or resume a symbol */
	SHMEX_CTL_MASS_CANCEL = 37, /**< any user's orders */
	SHMEX_CTL_SET_REFERENCE = 38,
	/* replies */
	SHMEX_CTL_REPLY = 64,        /**< status (+ id / text) */
	SHMEX_CTL_STATUS_INFO = 65,
	SHMEX_CTL_SESSION_INFO = 66,
	SHMEX_CTL_SYMBOL_INFO = 67,
	SHMEX_CTL_BALANCE_ITEMS = 68,
	SHMEX_CTL_ORDER_ITEMS = 69,
	SHMEX_CTL_LEVEL_ITEMS = 70,
	SHMEX_CTL_ASSET_ITEMS = 71,
};

/** Control message flags. */
enum shmex_ctl_flag {
	SHMEX_CTLF_END = 1u << 0, /**< the last reply to this ref */
};

/** Roles a grant gives (bits). */
enum shmex_role {
	SHMEX_ROLE_TRADER = 1u << 0, /**< submit, cancel, amend, read balances and orders */
	SHMEX_ROLE_ADMIN = 1u << 1,  /**< every control command, for every user */
};

/** Session options (struct shmex_ctl_hello.flags). */
enum shmex_session_flag {
	SHMEX_SESSION_CANCEL_ON_DISCONNECT = 1u << 0, /**< cancel the orders this session
							   placed when it ends */
};

/** Wait policies (struct shmex_ctl_welcome.wait_policy). */
enum shmex_wait_policy {
	SHMEX_WAIT_SPIN = 0,  /**< the engine busy-polls: never ring its bell */
	SHMEX_WAIT_YIELD = 1, /**< spins, then yields: never ring its bell */
	SHMEX_WAIT_BLOCK = 2, /**< spins, yields, then sleeps on its bell: ring it */
};

struct shmex_ctl_header {
	uint32_t magic;  /**< SHMEX_CTL_MAGIC */
	uint16_t type;   /**< enum shmex_ctl_type */
	uint16_t flags;  /**< enum shmex_ctl_flag */
	uint32_t len;    /**< bytes of the whole message */
	int32_t status;  /**< replies: 0 or a negative shmex error */
	uint64_t ref;    /**< the requester's tag, echoed in every reply */
};
_Static_assert(sizeof(struct shmex_ctl_header) == 24, "ctl header: 24 bytes");

/** Fills a header (magic, type, flags, whole length, status, ref). */
static inline void shmex_ctl_header_set(struct shmex_ctl_header *h, uint16_t type, uint16_t flags,
					uint32_t len, int32_t status, uint64_t ref)
{
	h->magic = SHMEX_CTL_MAGIC;
	h->type = type;
	h->flags = flags;
	h->len = len;
	h->status = status;
	h->ref = ref;
}

struct shmex_ctl_hello {
	struct shmex_ctl_header h;
	uint32_t version;         /**< SHMEX_SESSION_VERSION */
	uint32_t flags;           /**< enum shmex_session_flag */
	uint64_t layout_hash;     /**< shmex_session_layout_hash() */
	uint32_t request_slots;   /**< 0: daemon default; else a power of two */
	uint32_t response_slots;  /**< 0: daemon default; else a power of two */
	char name[SHMEX_NAME_LEN]; /**< for logs and status */
};

/** The answer to HELLO: len = sizeof, END. Status 0: one SCM_RIGHTS
 *  message with exactly two descriptors, fd 0 the session region (at least
 *  region_size bytes), fd 1 the bells region (at least bells_size bytes, a
 *  multiple of 64, with gateway < bells_size / 64). Refused: no
 *  descriptors, and `text` says why. */
struct shmex_ctl_welcome {
	struct shmex_ctl_header h; /**< status: 0 or why refused (SHMEX_E_VERSION, FULL, ...) */
	uint32_t session_id;
	uint32_t gateway;         /**< index of this session's bell in the bells region */
	uint32_t wait_policy;     /**< enum shmex_wait_policy */
	uint32_t roles;           /**< enum shmex_role: what the uid may do at all */
	uint64_t region_size;     /**< bytes of the session region (fd 0) */
	uint64_t bells_size;      /**< bytes of the bells region (fd 1) */
	uint64_t seq;             /**< the engine's event sequence at connect */
	char text[64];            /**< a one-line reason when refused */
};

/** Query and admin requests. */
struct shmex_ctl_request {
	struct shmex_ctl_header h;
	uint32_t user;
	uint32_t symbol;
	uint32_t asset;
	uint32_t uid;       /**< GRANT */
	uint32_t roles;     /**< GRANT */
	uint32_t depth;     /**< BOOK: levels per side (0: up to 256); ORDERS: most orders listed
			         (0: 4096; the answer's total says how many there are) */
	uint64_t order_id;  /**< ORDER */
	int64_t amount;     /**< DEPOSIT, WITHDRAW: minor units; SET_REFERENCE: price */
	uint64_t tag;       /**< DEPOSIT, WITHDRAW: caller's reference */
	uint32_t status;    /**< SET_STATUS: enum shmex_symbol_status */
	uint32_t pad;
	union {
		struct shmex_asset_params asset;   /**< ADD_ASSET */
		struct shmex_symbol_params symbol; /**< ADD_SYMBOL */
		struct shmex_user_params user;     /**< ADD_USER */
	} params;
};

/** A plain reply: status, an id (ADD_*: the new id; DEPOSIT/WITHDRAW: the
 *  event sequence; MASS_CANCEL: the number of orders cancelled), `value`
 *  (reserved, 0) and text (why, when status < 0; CHECK: the violation). */
struct shmex_ctl_reply {
	struct shmex_ctl_header h;
	uint64_t id;
	uint64_t value;
	char text[256];
};

struct shmex_ctl_status_info {
	struct shmex_ctl_header h;
	uint64_t seq;          /**< event sequence now */
	int64_t uptime_ns;
	int64_t now;           /**< engine clock */
	uint64_t requests;     /**< requests taken from all rings */
	uint64_t reports;      /**< reports written to all rings */
	uint32_t sessions, max_sessions;
	uint32_t gateways, matchers;
	uint32_t assets, symbols, users;
	uint32_t wait_policy;
	uint32_t pid;
	uint32_t pad;
};

struct shmex_ctl_session_item {
	uint32_t session_id, uid, pid, gateway;
	uint32_t flags, pad;
	uint64_t requests, reports, rejects;
	int64_t started_ns;    /**< engine uptime at start */
	char name[SHMEX_NAME_LEN];
};

struct shmex_ctl_symbol_item {
	uint32_t symbol, status;
	uint32_t base, quote;
	char code[SHMEX_CODE_LEN];
	int64_t best_bid, best_ask, last_price; /**< 0: none */
	uint32_t bid_levels, ask_levels;
	uint32_t orders, matcher;
	int64_t tick_size;      /**< quote minor units per whole base unit per tick */
	int64_t lot_size;       /**< base minor units per lot */
	int64_t min_qty, max_qty; /**< lots per order (max 0: no limit) */
	int32_t maker_fee_ppm, taker_fee_ppm;
};

struct shmex_ctl_balance_item {
	uint32_t asset, decimals;
	char code[SHMEX_CODE_LEN];
	int64_t available, locked;
};

struct shmex_ctl_level_item {
	uint8_t side;       /**< enum shmex_side */
	uint8_t pad[3];
	uint32_t orders;
	int64_t price;
	int64_t qty;        /**< displayed lots (saturated at INT64_MAX) */
};

struct shmex_ctl_asset_item {
	uint32_t asset, decimals;
	char code[SHMEX_CODE_LEN];
	int64_t supply;     /**< deposits - withdrawals */
};

/** A list reply: `count` items of the type's item struct follow. */
struct shmex_ctl_list {
	struct shmex_ctl_header h;
	uint32_t count;
	uint32_t total;     /**< items in the whole answer, when known (else 0) */
	uint8_t items[];    /**< count * item size */
};

#define SHMEX_CTL_ITEMS_MAX(item) ((SHMEX_CTL_MAX - sizeof(struct shmex_ctl_list)) / sizeof(item))

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_CONTROL_H */
