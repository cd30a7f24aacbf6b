/**
 * @file exchange.h
 * @brief The exchange core: registries, accounts, funds reservation,
 *        settlement with fees, the ledger, order history and pre-trade risk,
 *        on top of one struct shmex_book per symbol.
 *
 * Single-threaded: one thread owns a struct shmex_exchange and makes every
 * call on it (calls that take a const handle may come from another thread
 * only if the owner is not running at the same time). Nothing locks; after
 * shmex_exchange_create() the order path (submit, cancel, amend, mass cancel,
 * advance, deposit, withdraw) never allocates. Registries (assets, symbols,
 * users) grow at run time within the capacities given at creation; adding a
 * symbol allocates its book (an administrative act, not the order path).
 *
 * Money model (docs/ARCHITECTURE.md, "Money flow"):
 *  - Amounts are int64 minor units of their asset (asset decimals). Prices
 *    are int64 ticks, quantities int64 lots of the symbol.
 *  - One lot is `lot_size` base minor units. One tick is `tick_size` quote
 *    minor units per whole base unit (10^base_decimals base minor units).
 *    So one tick-lot is worth k = tick_size * lot_size / 10^base_decimals
 *    quote minor units, a fraction kept exactly as kn/kd in lowest terms,
 *    and price * qty tick-lots are worth price * qty * kn / kd quote minor
 *    units. All products are formed in 128 bits; overflow is a reject.
 *  - Fee rates are parts per million of the quote value, signed (negative =
 *    rebate), with -10^6 <= rate <= 10^6 and maker + taker >= 0, so the
 *    exchange never pays out more than it takes on a trade.
 *  - Rounding is done once per order on its cumulative totals, never per
 *    fill: a buy order has paid ceil(its exact value + its exact fee) in
 *    total, a sell order has received floor(its exact value - its exact fee).
 *    Splitting an order into fills never costs or earns a unit; every unit of
 *    rounding goes to the fee account; fees round in the exchange's favour
 *    (a fee up, a rebate down).
 *  - User 0 (SHMEX_FEE_ACCOUNT) is the exchange's fee account. For every
 *    asset, sum over users 0..n of (available + locked) equals deposits minus
 *    withdrawals at every instant.
 *  - No supply exceeds INT64_MAX, so no balance and no amount moved
 *    overflows. An order's lifetime totals (quote settled, fees) can: the
 *    same units may come back to trade with it again. They are kept modulo
 *    2^64 (exact below INT64_MAX); every fill still settles exactly. The
 *    exact sums behind the rounding are never kept whole (they would pass
 *    2^127): each order carries only the remainder of its rounding, so its
 *    state stays bounded however long it lives and however much it trades.
 *
 * Every event (deposit, withdrawal, each book event, each new order the
 * exchange rejects, each administrative change) takes the next number of one
 * sequence. A call refused before it changes anything (a deposit, withdrawal,
 * cancel or amend with a bad argument) is no event and takes no number.
 * Balance movements go to the ledger, order status changes to the order
 * reports, both stamped with the sequence of the event that caused them;
 * both are kept in fixed-capacity rings and passed to optional sinks.
 *
 * Time is injected: shmex_exchange_advance() moves the clock (nanoseconds,
 * monotonic), which expires GTD orders and refills the rate limiters.
 */
#ifndef SHMEX_EXCHANGE_H
#define SHMEX_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/book.h"
#include "shmex/error.h"
#include "shmex/int128.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The fee account's user id: every asset's fees and rounding land here. */
#define SHMEX_FEE_ACCOUNT 0u

/** Symbol id meaning "every symbol" (shmex_exchange_mass_cancel()). */
#define SHMEX_ALL_SYMBOLS 0u

/** Fee rates are in parts per million: 1000 = 0.1 %. */
#define SHMEX_FEE_ONE 1000000

/** Largest kd (denominator of a tick-lot's quote value) a symbol may have. */
#define SHMEX_TICK_LOT_DEN_MAX INT64_C(1000000000000)

/** A symbol's max_matches when none is given: the most trades (and
 *  self-trade cancels) one order makes in one execution. */
#define SHMEX_MAX_MATCHES_DEFAULT 1000u

/** A symbol's max_iceberg_parts when none is given: an iceberg's quantity
 *  is at most 100 peaks. */
#define SHMEX_ICEBERG_PARTS_DEFAULT 100u

/** Asset codes and symbol codes, NUL-terminated. */
#define SHMEX_CODE_LEN 16u

/** Why a balance moved (struct shmex_ledger_entry.cause). Stable. */
enum shmex_ledger_cause {
	SHMEX_LC_DEPOSIT = 1,    /**< available += amount */
	SHMEX_LC_WITHDRAWAL = 2, /**< available -= amount */
	SHMEX_LC_ORDER_LOCK = 3, /**< available -> locked for an order (entry, amend up) */
	SHMEX_LC_TRADE = 4,      /**< a fill: locked paid out, available received */
	SHMEX_LC_FEE = 5,        /**< fee account: fees (net of rebates) and rounding of a trade */
	SHMEX_LC_RELEASE = 6,    /**< locked -> available: surplus, cancel, expiry, kill, amend down */
	SHMEX_LC_TRANSFER_IN = 7,  /**< available += amount, from another exchange of one engine
				        (ref: the sender's index) */
	SHMEX_LC_TRANSFER_OUT = 8, /**< available -= amount, to another exchange of one engine
				        (ref: the receiver's index) */
};

/** One balance movement: one cache line. Carries the balance after it, so
 *  a reader can check it by folding from zero. */
struct shmex_ledger_entry {
	uint64_t seq;         /**< sequence of the event that caused it */
	uint64_t ref;         /**< order id (lock, release, trade) or caller's ref (deposit, withdrawal) */
	uint64_t trade_id;    /**< trade id for TRADE and FEE, else 0 */
	uint32_t user;        /**< user, or SHMEX_FEE_ACCOUNT */
	uint16_t asset;
	uint16_t cause;       /**< enum shmex_ledger_cause */
	int64_t d_available;  /**< change of available */
	int64_t d_locked;     /**< change of locked */
	int64_t available;    /**< available after */
	int64_t locked;       /**< locked after */
};

/** Order status (struct shmex_order_state.status, reports). Stable. */
enum shmex_order_status {
	SHMEX_OS_NEW = 0,              /**< accepted, nothing filled (resting or parked) */
	SHMEX_OS_PARTIALLY_FILLED = 1, /**< some filled, still live */
	SHMEX_OS_FILLED = 2,           /**< completely filled (ended) */
	SHMEX_OS_CANCELLED = 3,        /**< ended by cancel, kill (IOC, FOK, budget, match limit,
					    book full), STP, mass cancel */
	SHMEX_OS_REJECTED = 4,         /**< refused at entry; nothing changed */
	SHMEX_OS_EXPIRED = 5,          /**< GTD expiry (ended) */
};

/** Which side of a trade an order was on (struct shmex_order_report.liquidity). */
enum shmex_liquidity { SHMEX_LIQ_NONE = 0, SHMEX_LIQ_MAKER = 1, SHMEX_LIQ_TAKER = 2 };

/**
 * One entry of an order's history: every book event that concerns an order
 * (accepted, parked, triggered, trade, amended, reduced, cancelled, killed,
 * expired) and every rejection, with the order's status after it. RESTED is
 * not reported: it changes no status (an accepted order that is not ended
 * by the end of its command rests).
 */
struct shmex_order_report {
	uint64_t seq;          /**< event sequence */
	int64_t time;          /**< exchange clock at the event */
	uint64_t order_id;     /**< engine order id */
	uint64_t client_id;    /**< the user's id for it */
	uint64_t trade_id;     /**< TRADE: trade id, else 0 */
	uint64_t counter_id;   /**< TRADE: the other order's engine id */
	uint32_t user, symbol;
	uint16_t what;         /**< enum shmex_event_type (book.h) */
	uint16_t reason;       /**< enum shmex_reason (book.h) */
	uint8_t status;        /**< enum shmex_order_status after the event */
	uint8_t liquidity;     /**< TRADE: enum shmex_liquidity */
	uint8_t side;          /**< enum shmex_side */
	uint8_t pad;
	int64_t price;         /**< TRADE: trade price; TRIGGERED: the trigger price; else
				    the order's price (ticks) */
	int64_t last_qty;      /**< TRADE: fill; CANCELLED/KILLED/EXPIRED/REDUCED: qty taken */
	int64_t filled;        /**< after the event */
	int64_t remaining;     /**< after the event */
	int64_t qty;           /**< the order's quantity after the event (amends change it) */
	int64_t quote_amount;  /**< TRADE: quote paid (buy, fee included) or received
				    (sell, fee deducted) */
	int64_t fee;           /**< TRADE: fee part of it, in quote minor units (< 0: rebate) */
	uint64_t prev;         /**< report index + 1 of this order's previous report, 0 if none */
};

/** Creation parameters. Zero means "default" where a default is named. */
struct shmex_exchange_config {
	uint32_t max_assets;       /**< 1 .. 65535 */
	uint32_t max_symbols;      /**< >= 1 */
	uint32_t max_users;        /**< >= 1 (not counting the fee account) */
	uint32_t max_orders;       /**< order records: live orders plus recently ended ones
					(rounded up to a power of two); 2 .. 2^28 */
	uint32_t book_orders;      /**< default book capacity of a symbol (0: half the record
					count, max_orders rounded up to a power of two) */
	uint32_t max_open_orders;  /**< default per user, all symbols (0: no limit) */
	uint32_t rate_per_sec;     /**< default order rate per user, per second (0: no limit) */
	uint32_t rate_burst;       /**< token bucket size (0: rate_per_sec, at least 1) */
	uint32_t ledger_capacity;  /**< ledger entries kept in memory, rounded up to a power
					of two (0: none) */
	uint32_t report_capacity;  /**< order reports kept in memory, likewise (0: none) */
	int64_t start_time;        /**< initial clock, nanoseconds, >= 0 (a book's clock
					starts at 0 and never goes back) */
	/** Optional: receives every ledger entry as it is made (owner thread). */
	void (*ledger_sink)(void *ctx, const struct shmex_ledger_entry *e);
	void *ledger_ctx;
	/** Optional: receives every order report as it is made (owner thread). */
	void (*report_sink)(void *ctx, const struct shmex_order_report *r);
	void *report_ctx;
	/** Optional: a sequence counter shared by several exchanges of one
	 *  engine (shmexd with several matchers). Each event takes the next
	 *  number from it with an atomic add, so numbers are unique across
	 *  the exchanges and increase along every chain of cause and effect
	 *  between their threads. NULL: the exchange counts on its own. */
	uint64_t *shared_seq;
	/** Order ids and trade ids start after this (0: at 1). Exchanges of
	 *  one engine take disjoint ranges (shmexd: matcher k uses k << 48). */
	uint64_t id_base;
};

struct shmex_asset_params {
	char code[SHMEX_CODE_LEN]; /**< unique, non-empty */
	uint32_t decimals;         /**< 0..SHMEX_DECIMALS_MAX (18) */
};

/** Trading status of a symbol. */
enum shmex_symbol_status { SHMEX_SYMBOL_OPEN = 0, SHMEX_SYMBOL_HALTED = 1 };

struct shmex_symbol_params {
	char code[SHMEX_CODE_LEN]; /**< unique, non-empty, e.g. "BTC/USD" */
	uint32_t base, quote;      /**< asset ids, different */
	int64_t tick_size;         /**< quote minor units per whole base unit per tick, > 0 */
	int64_t lot_size;          /**< base minor units per lot, > 0 */
	int64_t min_qty;           /**< lots per order, >= 1 (0 means 1) */
	int64_t max_qty;           /**< lots per order (0: no limit) */
	/** Most quote minor units one order may trade (0: no limit), checked
	 *  at entry and amend (RISK): a buy at its price (a budget buy: its
	 *  budget, and its book budget is capped at the limit, as a taker
	 *  rebate buys more value than the budget), a sell at the higher of its
	 *  price and the best bid, which is where it trades while it matches
	 *  on entry. A market IOC sell without a
	 *  protection price gets it as a book budget: it stops filling there
	 *  and the rest is killed (SHMEX_R_BUDGET); a market FOK sell is
	 *  measured at the best bid; a stop- or take-profit-market sell needs a
	 *  protection price (its bids are not known before it triggers). A
	 *  stop or take-profit sell that triggers at once is measured as any
	 *  sell; one that parks is measured at its price, and may trade at
	 *  higher bids when it triggers later (the book has no cap for it). */
	int64_t max_notional;
	int64_t ref_price;         /**< band reference (ticks) until the first trade (0: none) */
	uint32_t band_ppm;         /**< price band: |price - ref| <= ref * band_ppm / 10^6 (0: off) */
	int32_t maker_fee_ppm;     /**< may be negative (rebate): >= -taker_fee_ppm */
	int32_t taker_fee_ppm;     /**< -10^6 .. 10^6 */
	uint32_t book_orders;      /**< book capacity (0: config default) */
	/** Bound on one order's work: the most matches (trades, and
	 *  self-trade-prevention cancels of resting orders) it may make each
	 *  time it executes (on entry, after an amend that re-enters it, when
	 *  it triggers); its remainder is then killed, whatever its tif
	 *  (SHMEX_R_MATCH_LIMIT; a FOK that could not fill whole within it is
	 *  killed before any trade). 0: SHMEX_MAX_MATCHES_DEFAULT. */
	uint32_t max_matches;
	/** Least iceberg peak (display_qty), lots (0: min_qty). */
	int64_t min_peak;
	/** Most peaks an iceberg's quantity may hold: qty <= display_qty *
	 *  max_iceberg_parts, at entry and for an amend's new quantity
	 *  (0: SHMEX_ICEBERG_PARTS_DEFAULT). */
	uint32_t max_iceberg_parts;
	uint8_t status;            /**< enum shmex_symbol_status at creation */
	uint8_t pad[3];
};

/** Per-user limits; a zero field takes the config default. */
struct shmex_user_params {
	uint32_t max_open_orders;
	uint32_t rate_per_sec;
	uint32_t rate_burst;
	uint32_t pad;
};

/**
 * shmex_order_request.flags an engine with several exchanges sets (never a
 * client: shmexd refuses them from clients): the user's open-order limit,
 * or its order rate, which the engine keeps across its exchanges, refuses
 * this order. The exchange refuses it at the point where it checks its
 * own limit (MAX_OPEN_ORDERS, RATE_LIMIT), so its other reasons come first
 * as with one exchange. The same exchange's own limits still apply.
 */
#define SHMEX_OF_ENGINE_AT_LIMIT (1u << 8)
#define SHMEX_OF_ENGINE_RATE (1u << 9)

/** A new order. */
struct shmex_order_request {
	uint64_t client_id;     /**< the user's id: unique per user (0: none, not checked) */
	uint32_t user, symbol;
	int64_t price;          /**< limit price in ticks; for market types an optional
				     protection price (0: none) */
	int64_t qty;            /**< lots */
	int64_t display_qty;    /**< iceberg peak (0: fully displayed) */
	int64_t trigger_price;  /**< stop / take-profit trigger, ticks */
	int64_t expire_at;      /**< GTD expiry, exchange clock */
	int64_t quote_budget;   /**< MARKET BUY IOC only: most quote minor units it may spend,
				     fees included (0: none) */
	uint8_t side;           /**< enum shmex_side */
	uint8_t type;           /**< enum shmex_order_type */
	uint8_t tif;            /**< enum shmex_tif */
	uint8_t stp;            /**< enum shmex_stp (against the same user) */
	uint32_t flags;         /**< SHMEX_OF_POST_ONLY only */
};

/** What a command did, for the caller. */
struct shmex_order_ack {
	uint64_t order_id; /**< engine order id (also for a rejected new order past checks 1-3, if a record was free) */
	uint64_t seq;      /**< sequence of the acceptance or rejection event (0: a cancel
				or amend refused before the book, which makes no event) */
	uint16_t reason;   /**< enum shmex_reason: SHMEX_R_NONE when accepted */
	uint8_t status;    /**< enum shmex_order_status after the command (a refused cancel
				or amend: the order's, or 0 if the user has no such live order) */
	uint8_t pad[5];
};

/** A balance. */
struct shmex_balance {
	int64_t available;
	int64_t locked;
};

/** What the exchange knows of one order (live or recently ended). */
struct shmex_order_state {
	uint64_t order_id, client_id;
	uint32_t user, symbol;
	uint8_t side, type, tif, stp; /**< as requested */
	uint8_t status;               /**< enum shmex_order_status */
	uint8_t live;                 /**< 1 while resting or parked */
	uint8_t parked;               /**< stop waiting for its trigger (0 once ended) */
	uint8_t pad;
	uint16_t reason;              /**< last reject / end reason */
	uint16_t pad2;
	uint32_t trades;              /**< number of fills */
	int64_t price, trigger_price, display_qty, expire_at, quote_budget;
	int64_t orig_qty;             /**< quantity at entry */
	int64_t qty;                  /**< quantity now: orig_qty as changed by amends */
	int64_t filled, remaining, cancelled; /**< filled + remaining + cancelled == qty */
	int64_t reserved;             /**< locked for it now (quote if buy, base if sell) */
	int64_t quote_settled;        /**< buy: quote paid (fees included); sell: quote received
					   (modulo 2^64, see "Money model") */
	int64_t fees;                 /**< fees charged in total (< 0: rebates; modulo 2^64) */
	shmex_i128 filled_notional;   /**< sum of price * qty of its fills, tick-lots */
	int64_t created, updated;     /**< exchange clock */
};

struct shmex_exchange;

/**
 * Creates an exchange with fixed capacities.
 * @param cfg capacities, defaults, rings and sinks (copied)
 * @param out receives the handle
 * @return 0, SHMEX_E_INVAL (a zero capacity, a capacity too large, a
 *         negative start time) or SHMEX_E_NOMEM.
 */
int shmex_exchange_create(const struct shmex_exchange_config *cfg, struct shmex_exchange **out);

/** Frees an exchange and its books. NULL is allowed. */
void shmex_exchange_destroy(struct shmex_exchange *ex);

/* ---- registries ----------------------------------------------------- */

/**
 * Registers an asset.
 * @param ex exchange
 * @param p  code and decimals
 * @param id receives the asset id (1, 2, ...)
 * @return 0, SHMEX_E_INVAL (empty or unterminated code, decimals > 18),
 *         SHMEX_E_EXISTS (code taken) or SHMEX_E_FULL.
 */
int shmex_exchange_add_asset(struct shmex_exchange *ex, const struct shmex_asset_params *p,
			     uint32_t *id);

/**
 * Finds an asset by code.
 * @return 0 and *id, or SHMEX_E_UNKNOWN_ASSET.
 */
int shmex_exchange_find_asset(const struct shmex_exchange *ex, const char *code, uint32_t *id);

/**
 * Registers a symbol and creates its book.
 * @param ex exchange
 * @param p  parameters (see struct shmex_symbol_params)
 * @param id receives the symbol id (1, 2, ...)
 * @return 0; SHMEX_E_UNKNOWN_ASSET (base or quote); SHMEX_E_INVAL (base ==
 *         quote, tick or lot <= 0, min/max quantity out of order, negative
 *         limits, a fee rate out of -10^6..10^6 or maker + taker < 0, a
 *         tick-lot value whose denominator exceeds SHMEX_TICK_LOT_DEN_MAX or
 *         whose numerator overflows int64, bad status, empty code);
 *         SHMEX_E_EXISTS; SHMEX_E_FULL; SHMEX_E_NOMEM.
 */
int shmex_exchange_add_symbol(struct shmex_exchange *ex, const struct shmex_symbol_params *p,
			      uint32_t *id);

/**
 * Finds a symbol by code.
 * @return 0 and *id, or SHMEX_E_UNKNOWN_SYMBOL.
 */
int shmex_exchange_find_symbol(const struct shmex_exchange *ex, const char *code, uint32_t *id);

/**
 * Opens or halts a symbol. A halted symbol refuses new orders and amends
 * (SHMEX_R_HALTED); cancels, mass cancels and expiry go on.
 * @return 0, SHMEX_E_UNKNOWN_SYMBOL or SHMEX_E_INVAL (status).
 */
int shmex_exchange_set_status(struct shmex_exchange *ex, uint32_t symbol, int status);

/**
 * Sets the band reference price used while the symbol has not traded.
 * @param price ticks, >= 0 (0: no reference, the band is not applied)
 * @return 0, SHMEX_E_UNKNOWN_SYMBOL or SHMEX_E_BAD_PRICE.
 */
int shmex_exchange_set_reference(struct shmex_exchange *ex, uint32_t symbol, int64_t price);

/**
 * Copies a symbol's parameters (with its current status and reference, and
 * the defaults taken for fields given as 0).
 * @return 0 or SHMEX_E_UNKNOWN_SYMBOL.
 */
int shmex_exchange_symbol(const struct shmex_exchange *ex, uint32_t symbol,
			  struct shmex_symbol_params *out);

/**
 * Copies an asset's parameters.
 * @return 0 or SHMEX_E_UNKNOWN_ASSET.
 */
int shmex_exchange_asset(const struct shmex_exchange *ex, uint32_t asset,
			 struct shmex_asset_params *out);

/**
 * The number of order records (max_orders rounded up to a power of two).
 * Engine order ids are handed out so that two orders live at the same time
 * never have the same id modulo this number: a caller may keep per-order
 * data in an array indexed by id & (capacity - 1).
 */
uint32_t shmex_exchange_order_capacity(const struct shmex_exchange *ex);

/** How many assets, symbols and users are registered (ids 1..n; any
 *  pointer may be NULL). */
void shmex_exchange_counts(const struct shmex_exchange *ex, uint32_t *assets, uint32_t *symbols,
			   uint32_t *users);

/** A symbol's book, read-only (depth, last price, verify), or NULL. */
const struct shmex_book *shmex_exchange_book(const struct shmex_exchange *ex, uint32_t symbol);

/**
 * Registers a user.
 * @param p  limits, NULL for the config defaults
 * @param id receives the user id (1, 2, ...; 0 is the fee account)
 * @return 0 or SHMEX_E_FULL.
 */
int shmex_exchange_add_user(struct shmex_exchange *ex, const struct shmex_user_params *p,
			    uint32_t *id);

/* ---- funds ------------------------------------------------------------ */

/**
 * Credits @p amount to the user's available balance (cause DEPOSIT).
 * @param ref caller's reference, copied into the ledger entry
 * @param seq receives the event sequence (may be NULL)
 * @return 0; SHMEX_E_UNKNOWN_USER (the fee account included);
 *         SHMEX_E_UNKNOWN_ASSET; SHMEX_E_INVAL (amount <= 0);
 *         SHMEX_E_OVERFLOW (the asset's total would exceed INT64_MAX).
 */
int shmex_exchange_deposit(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			   int64_t amount, uint64_t ref, uint64_t *seq);

/**
 * Debits @p amount from the user's available balance (cause WITHDRAWAL).
 * Locked funds are never touched.
 * @return 0; SHMEX_E_UNKNOWN_USER; SHMEX_E_UNKNOWN_ASSET; SHMEX_E_INVAL
 *         (amount <= 0); SHMEX_E_NOFUNDS (available < amount; nothing changed).
 */
int shmex_exchange_withdraw(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			    int64_t amount, uint64_t ref, uint64_t *seq);

/**
 * Moves @p amount into (transfer_in) or out of (transfer_out) the
 * available balance of @p user, who may be SHMEX_FEE_ACCOUNT, from or to
 * another exchange of the same engine (@p peer, its index, goes into the
 * ledger entry's ref). The asset's supply here changes by the amount, so
 * shmex_exchange_check() holds in each exchange; the engine's journal
 * accounts for the funds in flight between the two.
 * @return 0; SHMEX_E_UNKNOWN_USER; SHMEX_E_UNKNOWN_ASSET; SHMEX_E_INVAL
 *         (amount <= 0); SHMEX_E_OVERFLOW (transfer_in beyond INT64_MAX);
 *         SHMEX_E_NOFUNDS (transfer_out: available < amount).
 */
int shmex_exchange_transfer_in(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			       int64_t amount, uint64_t peer, uint64_t *seq);
/** See shmex_exchange_transfer_in(). */
int shmex_exchange_transfer_out(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
				int64_t amount, uint64_t peer, uint64_t *seq);

/**
 * What a new order would lock if it were accepted: the asset (quote for a
 * buy, base for a sell) and the amount, computed exactly as
 * shmex_exchange_submit() computes its reservation once every earlier
 * check has passed. An order on no known symbol, with a quantity not
 * positive, a negative price, a buy with neither price nor budget, or an
 * amount that overflows needs nothing: *asset = 0, *amount = 0. For other
 * orders the exchange would refuse before the funds check (a bad option,
 * size or band, say) the amount is still what the lock would be: moving it
 * does no harm, since an engine gives back what an order did not lock.
 * Lets an engine move just enough funds to the exchange that runs the
 * order, so that this exchange's funds check gives the same answer as one
 * exchange holding every balance.
 */
void shmex_exchange_entry_need(const struct shmex_exchange *ex,
			       const struct shmex_order_request *req, uint32_t *asset,
			       int64_t *amount);

/**
 * An upper bound of what an amend of an order on @p symbol to @p new_price
 * and @p new_qty may lock more, for either side (the caller need not know
 * the order's side): *quote of the symbol's quote asset if it is a buy,
 * *base of its base asset if it is a sell: 0 for an unknown symbol, a
 * price or quantity not positive, or an amount that overflows (an amend
 * refused later, for its size, band or order, may still get a bound). See
 * shmex_exchange_entry_need().
 */
void shmex_exchange_amend_need(const struct shmex_exchange *ex, uint32_t symbol,
			       int64_t new_price, int64_t new_qty, int64_t *quote, int64_t *base);

/**
 * Takes one token of @p user's order-rate bucket at the exchange's clock
 * (what each new order and amend takes); for an engine that keeps the rate
 * of users trading on several exchanges in one place.
 * @return 1 if taken or the user has no rate limit, 0 if the bucket is
 *         empty, SHMEX_E_UNKNOWN_USER.
 */
int shmex_exchange_take_token(struct shmex_exchange *ex, uint32_t user);

/** A user's limits as given to shmex_exchange_add_user() (defaults filled).
 *  @return 0 or SHMEX_E_UNKNOWN_USER. */
int shmex_exchange_user_limits(const struct shmex_exchange *ex, uint32_t user,
			       struct shmex_user_params *out);

/**
 * Reads a balance; @p user may be SHMEX_FEE_ACCOUNT.
 * @return 0, SHMEX_E_UNKNOWN_USER or SHMEX_E_UNKNOWN_ASSET.
 */
int shmex_exchange_balance(const struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			   struct shmex_balance *out);

/**
 * An asset's supply: deposits minus withdrawals, which the sum of all its
 * balances (fee account included) always equals.
 * @return 0 or SHMEX_E_UNKNOWN_ASSET.
 */
int shmex_exchange_supply(const struct shmex_exchange *ex, uint32_t asset, int64_t *out);

/* ---- orders ----------------------------------------------------------- */

/**
 * Enters a new order: checks it, reserves its funds, submits it to the
 * symbol's book and settles every fill. Checks, in this order (the first
 * that fails is the reject reason; a rejected order changes no balance):
 *  1. user (UNKNOWN_USER), symbol (UNKNOWN_SYMBOL);
 *  2. client id already used by this user (DUPLICATE_CLIENT_ID);
 *  3. rate limit, which takes a token (RATE_LIMIT);
 *  4. symbol halted (HALTED);
 *  5. fields and combinations (BAD_OPTION, BAD_QTY incl. min/max quantity
 *     and an iceberg's peak: display_qty >= min_peak and qty <= display_qty
 *     * max_iceberg_parts, BAD_PRICE, EXPIRED): as the book's rules, plus: quote_budget only on a
 *     MARKET BUY IOC and not with a protection price; a market-type buy needs
 *     a budget or a protection price; a protection price turns a market type
 *     into its limit type at that price for the book;
 *  6. price band (PRICE_BAND): every price the order carries (limit,
 *     protection, trigger) within band_ppm of the last trade price, or of the
 *     reference price before the first trade;
 *  7. order value over max_notional (RISK; see struct shmex_symbol_params:
 *     a sell is measured at the best bid if that is higher than its price,
 *     a stop-market sell without a protection price is refused there),
 *     arithmetic overflow (OVERFLOW), a budget too small for one tick-lot
 *     (BUDGET);
 *  8. open orders of the user at its limit (MAX_OPEN_ORDERS);
 *  9. funds (NO_FUNDS): a buy locks ceil(price * qty * k * (1 + max(maker,
 *     taker, 0) fee)) quote, a budget market buy its budget; a sell locks
 *     qty * lot_size base;
 *  10. a free order record (BOOK_FULL, and the ack's order id is 0: every
 *     record holds a live order);
 *  11. the book's own checks (post-only would cross: POST_ONLY; BOOK_FULL).
 * An accepted order makes at most the symbol's max_matches matches each time
 * it executes; then its remainder is killed (status CANCELLED, reason
 * MATCH_LIMIT), so no command's work grows with the book or the order.
 * A reject at checks 1-3 sheds load and keeps no order record (ack order id
 * 0), so junk traffic cannot push other orders' client ids out of the retry
 * window; a later reject keeps a record with its history, as a real order.
 * @param ack receives the order id, sequence, reason and status (may be NULL)
 * @return 0 if accepted (whatever then happened to it), else the negative
 *         code of the reason (SHMEX_E_UNKNOWN_USER, _UNKNOWN_SYMBOL,
 *         _DUPLICATE, _RATE, _HALTED, _BAD_OPTION, _BAD_QTY, _BAD_PRICE,
 *         _EXPIRED, _RISK, _OVERFLOW, _NOFUNDS, _FULL, _WOULD_CROSS).
 */
int shmex_exchange_submit(struct shmex_exchange *ex, const struct shmex_order_request *req,
			  struct shmex_order_ack *ack);

/**
 * Prefetch hint for a new order that will soon be submitted (the matcher
 * issues it for the commands it already sees queued): stage 0 starts
 * loading the user's record, its client-id slot and the book's price index
 * slot; stage 1 the account the reservation moves and the level; stage 2
 * the level's last order. It never changes anything (same contract as
 * shmex_book_prefetch_level()); cheap when useless.
 */
void shmex_exchange_prefetch_submit(const struct shmex_exchange *ex,
				    const struct shmex_order_request *r, int stage);

/**
 * Prefetch hint for a cancel or amend that will soon name @p order_id:
 * stage 0 the order's record, stages 1 and 2 (which read the record stage
 * 0 brought in) the book's index slot and order.
 */
void shmex_exchange_prefetch_order(const struct shmex_exchange *ex, uint64_t order_id, int stage);

/**
 * Prefetch hint for a command that will soon look up (@p user, @p
 * client_id) (a cancel by client id): its slot of the client-id index.
 */
void shmex_exchange_prefetch_client_id(const struct shmex_exchange *ex, uint32_t user,
				       uint64_t client_id);

/**
 * Cancels a live order of @p user (allowed when halted); releases its funds.
 * @return 0, SHMEX_E_UNKNOWN_USER or SHMEX_E_UNKNOWN_ORDER (not live, or not
 *         the user's).
 */
int shmex_exchange_cancel(struct shmex_exchange *ex, uint32_t user, uint64_t order_id,
			  struct shmex_order_ack *ack);

/**
 * Amends a resting order of @p user to @p new_price (ticks) and @p new_qty
 * (the new remaining quantity, lots), with the book's rules: same price and
 * less quantity keeps priority; otherwise the order loses priority and may
 * trade. The reservation follows: more is locked first (NO_FUNDS if the
 * user's available balance cannot cover it: nothing changes), less is
 * released. Takes a rate-limit token. Checks: user, order live and the
 * user's (UNKNOWN_ORDER), halted, rate, quantity (BAD_QTY: <= 0, above
 * max_qty, or, for an iceberg, more than max_iceberg_parts peaks), price
 * (BAD_PRICE), a parked stop (BAD_OPTION), band, overflow (OVERFLOW:
 * new_qty lots of base, filled + new_qty, or the value beyond int64),
 * notional (RISK: new_price * new_qty, a sell at the best bid if higher),
 * funds (NO_FUNDS; OVERFLOW if the new reservation does not fit), then the
 * book (POST_ONLY).
 * @return 0 or the negative code of the reason, as shmex_exchange_submit().
 */
int shmex_exchange_amend(struct shmex_exchange *ex, uint32_t user, uint64_t order_id,
			 int64_t new_price, int64_t new_qty, struct shmex_order_ack *ack);

/**
 * Cancels every live order of @p user on @p symbol, or on every symbol with
 * SHMEX_ALL_SYMBOLS (reason MASS_CANCEL); releases their funds.
 * @param count receives the number cancelled (may be NULL)
 * @return 0, SHMEX_E_UNKNOWN_USER or SHMEX_E_UNKNOWN_SYMBOL.
 */
int shmex_exchange_mass_cancel(struct shmex_exchange *ex, uint32_t user, uint32_t symbol,
			       uint32_t *count);

/**
 * Moves the clock to @p now (nanoseconds): expires GTD orders whose expiry
 * is <= now on every book (releasing their funds). A @p now earlier than the
 * clock is ignored.
 * @return the number of orders expired.
 */
uint32_t shmex_exchange_advance(struct shmex_exchange *ex, int64_t now);

/** The exchange clock. */
int64_t shmex_exchange_now(const struct shmex_exchange *ex);

/** The last sequence number given to an event (0 before the first). */
uint64_t shmex_exchange_seq(const struct shmex_exchange *ex);

/**
 * Reads an order, live or ended, while its record is kept (the last
 * max_orders order ids, minus those whose slot a long-lived order holds).
 * @return 0 or SHMEX_E_UNKNOWN_ORDER.
 */
int shmex_exchange_order(const struct shmex_exchange *ex, uint64_t order_id,
			 struct shmex_order_state *out);

/**
 * Finds the order a user entered with @p client_id and that was accepted
 * (while its record is kept; a rejected order does not take its client id).
 * @return 0 and *order_id, or SHMEX_E_UNKNOWN_ORDER.
 */
int shmex_exchange_find_client_id(const struct shmex_exchange *ex, uint32_t user,
				  uint64_t client_id, uint64_t *order_id);

/**
 * Lists a user's open orders (live: resting, or parked waiting for a
 * trigger), in increasing order id (the order of entry), each as
 * shmex_exchange_order() gives it. Cost: O(the user's open orders) on every
 * symbol (a list per user, kept as orders are accepted and end) when
 * @p total is asked for; without it, O(@p max) more than where the page
 * starts, which is found at once when @p after_id is still live.
 * @param user   the user (not the fee account)
 * @param symbol a symbol id, or SHMEX_ALL_SYMBOLS
 * @param after_id lists only orders with a larger id (0: from the first), so
 *        a caller can page: pass the last id it received
 * @param out    receives up to @p max orders (may be NULL if @p max is 0)
 * @param total  receives how many open orders match (symbol, after_id),
 *        written or not (may be NULL)
 * @return the number written (0 .. @p max), or SHMEX_E_UNKNOWN_USER or
 *         SHMEX_E_UNKNOWN_SYMBOL.
 */
int shmex_exchange_open_orders(const struct shmex_exchange *ex, uint32_t user, uint32_t symbol,
			       uint64_t after_id, struct shmex_order_state *out, uint32_t max,
			       uint32_t *total);

/**
 * Copies an order's history, oldest first, as far as the report ring still
 * holds it.
 * @param out receives up to @p max reports (the newest @p max if more)
 * @return the number written.
 */
uint32_t shmex_exchange_order_history(const struct shmex_exchange *ex, uint64_t order_id,
				      struct shmex_order_report *out, uint32_t max);

/* ---- ledger and reports ---------------------------------------------- */

/** Number of ledger entries made since creation. */
uint64_t shmex_exchange_ledger_count(const struct shmex_exchange *ex);

/**
 * Reads ledger entry @p index (0-based, in order of making).
 * @return 0, or SHMEX_E_INVAL if not made yet or no longer in the ring.
 */
int shmex_exchange_ledger_read(const struct shmex_exchange *ex, uint64_t index,
			       struct shmex_ledger_entry *out);

/** Number of order reports made since creation. */
uint64_t shmex_exchange_report_count(const struct shmex_exchange *ex);

/**
 * Reads order report @p index (0-based).
 * @return 0, or SHMEX_E_INVAL if not made yet or no longer in the ring.
 */
int shmex_exchange_report_read(const struct shmex_exchange *ex, uint64_t index,
			       struct shmex_order_report *out);

/** Name of a ledger cause ("deposit", ...), "?" if unknown. */
const char *shmex_ledger_cause_name(int cause);

/** Name of an order status ("new", ...), "?" if unknown. */
const char *shmex_order_status_name(int status);

/* ---- invariants --------------------------------------------------------- */

/**
 * Verifies DESIGN.md section 5 invariants 1-4 on the live state: no negative
 * balance; per asset, the sum of all balances equals the supply; each
 * account's locked equals what its live orders reserve, and each live
 * order's reservation equals what the money model says it must be; per
 * order, filled + remaining + cancelled == qty, the book agrees on live
 * orders, and filled equals the sum of its fills in its history (when the
 * report ring holds all of it); every book verifies and is not crossed;
 * each user's open-order list holds exactly its live orders, by id. Also
 * reports any internal fault met during settlement. O(accounts + records +
 * live orders' history); allocates scratch memory: not for the hot path.
 * @param msg receives a description of the first violation ("" if none; may be NULL)
 * @param cap size of @p msg
 * @return 0, SHMEX_E_INVARIANT, or SHMEX_E_NOMEM.
 */
int shmex_exchange_check(const struct shmex_exchange *ex, char *msg, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_EXCHANGE_H */
