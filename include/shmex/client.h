/**
 * @file client.h
 * @brief libshmex, the client library: a market maker's (or a tool's)
 *        session with a running shmexd, over shared memory.
 *
 * A session is one connection to the daemon's Unix socket. The daemon
 * checks the process's uid (SO_PEERCRED) against its grants and hands the
 * client its own request and response rings in a memfd. Orders, cancels
 * and amends are written to the request ring (no system call); reports come
 * back on the response ring, in order. Queries (balances, open orders, the
 * book, status) and administration (assets, symbols, users, grants,
 * deposits, halts) are cold-path round trips over the socket.
 *
 * Threads: a struct shmex_client is used by one thread at a time (the rings
 * are single-producer single-consumer). A process may open several
 * sessions. No function allocates after shmex_client_connect(); the order
 * functions and shmex_client_poll() make no system call (shmex_client_wait()
 * may sleep, and rings the engine's bell when the engine sleeps).
 *
 * Every request is answered by exactly one report with SHMEX_RPTF_DONE and
 * the request's number (the number the submit function returned), after
 * every other report it caused for this session; in request order with one
 * matcher thread, in request order per matcher with several (a ping waits
 * for everything sent before it): shmex_report.h.
 *
 * Example (error handling shortened):
 * @code
 *   struct shmex_client *c;
 *   struct shmex_client_options o = { .socket_path = "/tmp/shmex.sock", .name = "mm" };
 *   if (shmex_client_connect(&o, &c) != 0) ...
 *   uint32_t sym;
 *   shmex_client_find_symbol(c, "BTC/USD", &sym);
 *   struct shmex_order_request r = { .client_id = 1, .user = 1, .symbol = sym,
 *       .side = SHMEX_BUY, .type = SHMEX_LIMIT, .tif = SHMEX_GTC,
 *       .price = 4200000, .qty = 10 };
 *   uint64_t no;
 *   shmex_client_submit(c, &r, &no);
 *   struct shmex_report rep[16];
 *   int n = shmex_client_wait(c, rep, 16, 1000000000);
 *   shmex_client_close(c);
 * @endcode
 */
#ifndef SHMEX_CLIENT_H
#define SHMEX_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/error.h"
#include "shmex/exchange.h"
#include "shmex_control.h"
#include "shmex_report.h"
#include "shmex_request.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where the daemon listens when nobody says otherwise. */
#define SHMEX_DEFAULT_SOCKET "/tmp/shmex.sock"

struct shmex_client;

/** Connection options; zero fields take defaults. */
struct shmex_client_options {
	const char *socket_path; /**< NULL: $SHMEX_SOCKET, else SHMEX_DEFAULT_SOCKET */
	const char *name;        /**< shown in logs and `shmexctl status` (NULL: program name) */
	uint32_t flags;          /**< enum shmex_session_flag */
	uint32_t request_slots;  /**< power of two (0: the daemon's default) */
	uint32_t response_slots; /**< power of two (0: the daemon's default) */
	uint32_t pad;
	int64_t timeout_ns;      /**< connect and control round trips (0: 5 s) */
};

/**
 * Connects to a running shmexd and maps this session's rings.
 * @param o   options (NULL: all defaults)
 * @param out receives the session
 * @return 0; a negated errno from the socket (-ENOENT, -ECONNREFUSED: no
 *         daemon); SHMEX_E_VERSION (the daemon speaks another version, with
 *         its text in shmex_client_last_error()); SHMEX_E_FULL (no free
 *         session); SHMEX_E_PROTOCOL; SHMEX_E_NOMEM.
 */
int shmex_client_connect(const struct shmex_client_options *o, struct shmex_client **out);

/** Ends the session (closes the socket, unmaps the rings). NULL is allowed. */
void shmex_client_close(struct shmex_client *c);

/** A one-line description of the last cold-path failure of this thread
 *  ("" if none). */
const char *shmex_client_last_error(void);

/** What the daemon said at connect. */
struct shmex_client_info {
	uint32_t session_id;
	uint32_t roles;        /**< enum shmex_role */
	uint32_t wait_policy;  /**< enum shmex_wait_policy */
	uint32_t request_slots, response_slots;
	uint32_t pad;
	uint64_t seq_at_connect;
};

/** Copies what the daemon said at connect. */
void shmex_client_info(const struct shmex_client *c, struct shmex_client_info *out);

/* ---- orders (hot path: no system call unless the engine sleeps) ---------- */

/**
 * Sends a new order. Non-blocking.
 * @param req the order (user: a user the session has a trader grant for;
 *            quote_budget and trigger_price share one field on the wire: a
 *            request with both is refused SHMEX_E_INVAL here)
 * @param request_no receives the request's number (may be NULL)
 * @return 0; SHMEX_E_FULL if the request ring is full (poll reports and
 *         retry); SHMEX_E_INVAL; SHMEX_E_PROTOCOL (the session is broken).
 */
int shmex_client_submit(struct shmex_client *c, const struct shmex_order_request *req,
			uint64_t *request_no);

/** Cancels a live order by engine id. Returns as shmex_client_submit(). */
int shmex_client_cancel(struct shmex_client *c, uint32_t user, uint64_t order_id,
			uint64_t *request_no);

/** Cancels a live order by the user's client id. Returns as shmex_client_submit(). */
int shmex_client_cancel_client_id(struct shmex_client *c, uint32_t user, uint64_t client_id,
				  uint64_t *request_no);

/** Amends a resting order to a new price and remaining quantity
 *  (shmex_exchange_amend() rules). Returns as shmex_client_submit(). */
int shmex_client_amend(struct shmex_client *c, uint32_t user, uint64_t order_id,
		       int64_t new_price, int64_t new_qty, uint64_t *request_no);

/** Cancels every live order of @p user on @p symbol (SHMEX_ALL_SYMBOLS: all).
 *  Returns as shmex_client_submit(). */
int shmex_client_mass_cancel(struct shmex_client *c, uint32_t user, uint32_t symbol,
			     uint64_t *request_no);

/** Sends a ping, answered by a PONG report echoing @p tag. */
int shmex_client_ping(struct shmex_client *c, uint64_t tag, uint64_t *request_no);

/**
 * Sends one raw request line as it is (tools and tests: the daemon checks
 * every field). Returns as shmex_client_submit().
 */
int shmex_client_send_raw(struct shmex_client *c, const struct shmex_request *r,
			  uint64_t *request_no);

/**
 * Takes up to @p max reports that have arrived, in order. Non-blocking.
 * @return the number copied (0: none yet) or SHMEX_E_PROTOCOL (the engine's
 *         index is impossible). A session the engine ended shows as a last
 *         SHMEX_RPT_ENDED or SHMEX_RPT_SHUTDOWN report.
 */
int shmex_client_poll(struct shmex_client *c, struct shmex_report *out, uint32_t max);

/**
 * As shmex_client_poll(), but waits up to @p timeout_ns (< 0: forever) for
 * at least one report: spins, yields, then sleeps on the session's bell
 * (under the engine's SPIN policy it only spins). With @p max 0 it returns
 * 0 at once.
 * @return the number copied (0: timed out), or as shmex_client_poll();
 *         -ECONNRESET if the daemon closed the session's socket.
 */
int shmex_client_wait(struct shmex_client *c, struct shmex_report *out, uint32_t max,
		      int64_t timeout_ns);

/** The socket (readable/hung up when the daemon goes away), for poll(2). */
int shmex_client_fd(const struct shmex_client *c);

/* ---- queries (cold path: a round trip over the socket) ------------------- */

/** One balance (shmex_client_balances()). */
struct shmex_client_balance {
	uint32_t asset, decimals;
	char code[SHMEX_CODE_LEN];
	int64_t available, locked;
};

/**
 * Balances of @p user in every asset.
 * @return the number written (up to @p max), or a negative code
 *         (SHMEX_E_UNKNOWN_USER; -EACCES without a grant for the user).
 */
int shmex_client_balances(struct shmex_client *c, uint32_t user,
			  struct shmex_client_balance *out, uint32_t max);

/**
 * Open orders of @p user on @p symbol (SHMEX_ALL_SYMBOLS: all), by id.
 * @param total receives how many there are (may be NULL)
 * @return the number written (up to @p max), or a negative code.
 */
int shmex_client_open_orders(struct shmex_client *c, uint32_t user, uint32_t symbol,
			     struct shmex_order_state *out, uint32_t max, uint32_t *total);

/** One order's state (live or recently ended): 0 or SHMEX_E_UNKNOWN_ORDER, -EACCES. */
int shmex_client_order(struct shmex_client *c, uint64_t order_id, struct shmex_order_state *out);

/**
 * The book of @p symbol: up to @p depth levels per side (0: all that fit),
 * bids best first then asks best first, as struct shmex_ctl_level_item.
 * @return the number written, or a negative code.
 */
int shmex_client_book(struct shmex_client *c, uint32_t symbol, uint32_t depth,
		      struct shmex_ctl_level_item *out, uint32_t max);

/** Finds a symbol id by code: 0 or SHMEX_E_UNKNOWN_SYMBOL. */
int shmex_client_find_symbol(struct shmex_client *c, const char *code, uint32_t *symbol);

/** Finds an asset id by code: 0 or SHMEX_E_UNKNOWN_ASSET. */
int shmex_client_find_asset(struct shmex_client *c, const char *code, uint32_t *asset);

/** Every symbol. @return the number written, or a negative code. */
int shmex_client_symbols(struct shmex_client *c, struct shmex_ctl_symbol_item *out, uint32_t max);

/** Every asset. @return the number written, or a negative code. */
int shmex_client_assets(struct shmex_client *c, struct shmex_ctl_asset_item *out, uint32_t max);

/**
 * The daemon's status and its sessions.
 * @return the number of sessions written (up to @p max), or a negative code.
 */
int shmex_client_status(struct shmex_client *c, struct shmex_ctl_status_info *status,
			struct shmex_ctl_session_item *sessions, uint32_t max);

/* ---- administration (admin role; cold path) -------------------------------- */

/** Registers an asset: 0 and *id, or as shmex_exchange_add_asset(); -EACCES. */
int shmex_client_add_asset(struct shmex_client *c, const struct shmex_asset_params *p,
			   uint32_t *id);

/** Registers a symbol (the daemon chooses its matcher): 0 and *id, or as
 *  shmex_exchange_add_symbol(); -EACCES. */
int shmex_client_add_symbol(struct shmex_client *c, const struct shmex_symbol_params *p,
			    uint32_t *id);

/** Registers a user (@p p NULL: defaults): 0 and *id; SHMEX_E_FULL; -EACCES. */
int shmex_client_add_user(struct shmex_client *c, const struct shmex_user_params *p,
			  uint32_t *id);

/** Lets @p uid act for @p user in @p roles (enum shmex_role); -EACCES. */
int shmex_client_grant(struct shmex_client *c, uint32_t uid, uint32_t user, uint32_t roles);

/** Deposits (minor units): 0 and *seq (may be NULL), or as shmex_exchange_deposit(). */
int shmex_client_deposit(struct shmex_client *c, uint32_t user, uint32_t asset, int64_t amount,
			 uint64_t tag, uint64_t *seq);

/** Withdraws (minor units): as shmex_exchange_withdraw(). */
int shmex_client_withdraw(struct shmex_client *c, uint32_t user, uint32_t asset, int64_t amount,
			  uint64_t tag, uint64_t *seq);

/** Halts or resumes a symbol (enum shmex_symbol_status). */
int shmex_client_set_status(struct shmex_client *c, uint32_t symbol, uint32_t status);

/** Sets a symbol's band reference price (ticks). */
int shmex_client_set_reference(struct shmex_client *c, uint32_t symbol, int64_t price);

/** Cancels every live order of any @p user (admin): 0 and *count (may be NULL). */
int shmex_client_admin_mass_cancel(struct shmex_client *c, uint32_t user, uint32_t symbol,
				   uint32_t *count);

/**
 * Checks every exchange invariant (conservation, locked = reserved, no
 * negative balance, books uncrossed) in the engine.
 * @param msg receives the first violation, "" if none (may be NULL)
 * @return 0, SHMEX_E_INVARIANT, or another negative code.
 */
int shmex_client_check(struct shmex_client *c, char *msg, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_CLIENT_H */
