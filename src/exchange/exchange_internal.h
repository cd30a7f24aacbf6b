/*
 * Internal state of struct shmex_exchange (include/shmex/exchange.h).
 * Not for use outside src/exchange*.c, accounts*.c, ledger*.c, risk*.c,
 * registry*.c.
 *
 * Shape (see docs/ARCHITECTURE.md, "Money flow"): state per account, every
 * change an event with a number from one sequence. Accounts are a dense
 * (user x asset) matrix so that a later cut can shard them by user; orders
 * are records in a pool addressed by engine id; the books are reached only
 * through their public API and report back through their event sinks.
 */
#ifndef SX_EXCHANGE_INTERNAL_H
#define SX_EXCHANGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/book.h"
#include "shmex/exchange.h"
#include "shmex/int128.h"
#include "sx_cache.h"

#define SX_NONE UINT32_MAX

struct shmex_exchange;

struct sx_asset {
	char code[SHMEX_CODE_LEN];
	uint32_t decimals;
	uint32_t used;
	int64_t supply; /* deposits - withdrawals */
};

/* A divisor with its reciprocal: n / d by one multiply (and at most two
 * corrections) instead of a 64-bit divide. */
struct sx_divisor {
	uint64_t d;
	uint64_t magic; /* floor((2^64 - 1) / d) */
};

struct sx_symbol {
	struct shmex_exchange *ex; /* for the book's sink */
	struct shmex_book *book;
	struct shmex_symbol_params p;
	uint32_t id;
	uint32_t open_orders;  /* live records on this symbol */
	/* One tick-lot is worth kn / kd quote minor units (lowest terms). */
	int64_t kn, kd;
	int64_t den;           /* kd * SHMEX_FEE_ONE */
	struct sx_divisor kd_div, den_div;
	int32_t rmax;          /* max(maker, taker, 0): a buy's worst fee rate */
	int32_t pad;
	/* Most tick-lots within max_notional, floor(max_notional * kd / kn):
	 * the book budget of a market IOC sell (0: no limit, or none fits). */
	int64_t max_ticklots;
};

struct sx_user {
	uint32_t used;
	uint32_t open_orders;
	uint32_t max_open;     /* 0: no limit */
	uint32_t rate;         /* tokens per second, 0: no limit */
	int64_t tokens;        /* nano-tokens */
	int64_t cap;           /* burst * 1e9 */
	int64_t refilled_at;   /* clock of the last refill */
	uint32_t head, tail;   /* live records in id order (slots; SX_NONE: none) */
};

struct sx_account {
	int64_t available;
	int64_t locked;
};

/* sx_order.state */
enum {
	SX_OS_FREE = 0,   /* slot never used */
	SX_OS_PENDING,    /* built, being submitted to the book */
	SX_OS_LIVE,       /* resting or parked (or being matched) */
	SX_OS_ENDED,      /* filled, cancelled, expired, killed, rejected */
};

/* An order record: three cache lines; what a cancel touches lies in the
 * first two. Settlement state (cumulative, for rounding once per order):
 * notional = N = sum p*q (tick-lots, < 2^126: the order fills at most
 * INT64_MAX lots); W = sum p*q*(1e6 +/- fee rate), + for a buyer, - for a
 * seller, which is not kept: it grows without bound (the same units may
 * trade with the order again and again), so W*kn is kept as its quotient
 * and remainder by den, the quotient folded into settled and only the
 * remainder wrem (< den) carried. settled = ceil(W*kn/den) paid (buyer) or
 * floor(W*kn/den) received (seller); gross = ceil/floor(N*kn/kd). settled
 * and gross are kept modulo 2^64; a fill moves the difference of two
 * totals, which is exact (docs/ARCHITECTURE.md, "Money flow"). A buy's
 * settled never wraps (it is at most its total, checked to fit at entry and
 * amend). */
struct sx_order {
	/* line 1: every event on the order */
	uint64_t id;
	uint32_t user, symbol;
	uint8_t state, status, side, type; /* type as requested */
	uint8_t tif, stp, book_type, parked;
	int64_t reserved;      /* locked for this order now */
	int64_t price;         /* book price (limit or protection), 0 for a budget buy */
	int64_t remaining, filled;
	uint64_t last_report;  /* report index + 1, 0: none */
	/* line 2: ends, reports, fills */
	int64_t qty, cancelled;
	uint64_t client_id;
	int64_t updated;
	int64_t settled, gross;
	/* The user's live records, in id order (slots; SX_NONE at the ends):
	 * shmex_exchange_open_orders(). A cancel unlinks: on this line. */
	uint32_t user_prev, user_next;
	uint16_t reason;
	uint8_t budget_mode;   /* market buy with a quote budget */
	uint8_t clid_indexed;  /* client id is in the index */
	uint32_t trades;
	/* line 3: fills and queries */
	shmex_i128 notional;
	int64_t wrem;          /* W*kn mod den (see above) */
	int64_t trigger, expire_at, created;
	union {
		int64_t display; /* iceberg peak (limit types) */
		int64_t budget;  /* quote budget (budget market buys) */
	};
	int64_t orig_qty;
};
_Static_assert(sizeof(struct sx_order) == 3 * SX_CACHE_LINE, "order record: three lines");
_Static_assert(offsetof(struct sx_order, user_prev) / SX_CACHE_LINE == 1 &&
		       offsetof(struct sx_order, last_report) / SX_CACHE_LINE == 0,
	       "what a cancel touches lies in the first two lines");

/* (user, client id) -> order slot, open addressing with linear probing:
 * one 8-byte word per entry, the top 32 bits of the key's hash (the tag)
 * and the order record's slot + 1 (0: empty). The key itself is in the
 * record: a probe reads the record only when the tag matches. */
#define SX_CLID_TAG(e) ((uint32_t)((e) >> 32))
#define SX_CLID_SLOT(e) ((uint32_t)(e)-1u)

struct shmex_exchange {
	struct shmex_exchange_config cfg;

	/* Registries: index 0 unused for assets and symbols; user 0 is the
	 * fee account. */
	struct sx_asset *assets;
	struct sx_symbol *symbols;
	struct sx_user *users;
	uint32_t n_assets, n_symbols, n_users;
	uint32_t max_assets, max_symbols, max_users;

	/* accounts[user * max_assets + asset - 1] */
	struct sx_account *accounts;

	/* Order records: slot = id & order_mask. */
	struct sx_order *orders;
	uint32_t order_mask;
	uint32_t live_count;   /* records in state LIVE */
	uint64_t next_order_id;

	uint64_t *clids;       /* client-id index (above), clid_mask + 1 words */
	uint32_t clid_mask;
	uint32_t clid_shift;   /* 64 - log2(clid_mask + 1), at least 32 */
	uint64_t clid_seed;    /* secret key of the client-id hash (sx_hash_seed.h) */
	uint32_t clid_count;   /* entries in the index */

	/* Sequences and clock. */
	uint64_t seq;          /* last event number given */
	uint64_t cur_seq;      /* the event being applied */
	uint64_t *shared_seq;  /* cfg.shared_seq: numbers come from there */
	uint64_t cmd_first;    /* first number the running call took (0: none yet) */
	uint64_t next_trade_id;
	int64_t now;
	/* No GTD order of any book expires before this (INT64_MAX: none), so
	 * shmex_exchange_advance() visits the books only when one may: lowered
	 * when a GTD order is submitted, recomputed after each visit. A book's
	 * own clock may then lag the exchange's; it only expires orders (the
	 * exchange checks a new GTD order against its own clock first). */
	int64_t next_expiry;

	/* Rings: capacities are powers of two (0: none). */
	struct shmex_ledger_entry *ledger;
	uint64_t ledger_count;
	uint32_t ledger_cap;
	struct shmex_order_report *reports;
	uint64_t report_count;
	uint32_t report_cap;

	/* Command context: the book's reject reason for the running command. */
	uint16_t cmd_reason;

	/* First internal fault met while applying book events (a bug or an
	 * impossible state); shmex_exchange_check() reports it. */
	int fault;
	char fault_msg[200];
};

/* Gives the next event its number (ex->cur_seq, also returned). With a
 * shared counter the add is relaxed: every add on one atomic object is
 * ordered by its modification order, which agrees with happens-before
 * (read-modify-write coherence), so an event applied after a message from
 * another exchange's thread (a ring's release/acquire) always takes a
 * larger number than every event that thread numbered before sending it.
 * No other memory is published through the counter. */
static inline uint64_t sx_next_seq(struct shmex_exchange *ex)
{
	const uint64_t n = ex->shared_seq
				   ? __atomic_add_fetch(ex->shared_seq, 1, __ATOMIC_RELAXED)
				   : ex->seq + 1;
	ex->seq = n;
	ex->cur_seq = n;
	if (ex->cmd_first == 0)
		ex->cmd_first = n;
	return n;
}

/* The number of a call's first event (set by the call to 0 before it). */
static inline uint64_t sx_cmd_first(const struct shmex_exchange *ex)
{
	return ex->cmd_first ? ex->cmd_first : ex->seq + 1;
}

/* ---- accounts.c ------------------------------------------------------ */

static inline struct sx_account *sx_account(struct shmex_exchange *ex, uint32_t user,
					    uint32_t asset)
{
	return &ex->accounts[(size_t)user * ex->max_assets + (asset - 1)];
}

/* Moves a balance by (d_available, d_locked), writes the ledger entry.
 * Refuses (returns SHMEX_E_NOFUNDS / SHMEX_E_OVERFLOW, changes nothing) if a
 * side would go negative or overflow. A zero movement writes nothing. */
int sx_move(struct shmex_exchange *ex, uint32_t user, uint32_t asset, int64_t d_available,
	    int64_t d_locked, uint16_t cause, uint64_t ref, uint64_t trade_id);

/* ---- ledger.c -------------------------------------------------------- */

/* Ledger and reports are written in place: take the next slot (the ring's,
 * or @spare when there is no ring), fill it, commit it. */
static inline struct shmex_ledger_entry *sx_ledger_slot(struct shmex_exchange *ex,
							 struct shmex_ledger_entry *spare)
{
	return ex->ledger_cap ? &ex->ledger[ex->ledger_count & (ex->ledger_cap - 1)] : spare;
}
void sx_ledger_commit(struct shmex_exchange *ex, const struct shmex_ledger_entry *e);
/* Appends a report for order @o (links it into the order's history). */
void sx_report(struct shmex_exchange *ex, struct sx_order *o, uint16_t what, uint16_t reason,
	       int64_t price, int64_t last_qty);
void sx_report_trade(struct shmex_exchange *ex, struct sx_order *o, uint64_t trade_id,
		     uint64_t counter_id, int liquidity, int64_t price, int64_t qty,
		     int64_t quote_amount, int64_t fee);
void sx_fault(struct shmex_exchange *ex, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- registry.c ------------------------------------------------------ */

static inline struct sx_symbol *sx_symbol_get(struct shmex_exchange *ex, uint32_t id)
{
	return id >= 1 && id <= ex->n_symbols ? &ex->symbols[id] : NULL;
}

static inline struct sx_user *sx_user_get(struct shmex_exchange *ex, uint32_t id)
{
	return id >= 1 && id <= ex->n_users ? &ex->users[id] : NULL;
}

static inline int sx_asset_ok(const struct shmex_exchange *ex, uint32_t id)
{
	return id >= 1 && id <= ex->n_assets;
}

void sx_book_sink(void *ctx, const struct shmex_book_event *ev);

/* ---- orders (exchange.c) --------------------------------------------- */

static inline struct sx_order *sx_order_find(struct shmex_exchange *ex, uint64_t id)
{
	struct sx_order *o = &ex->orders[id & ex->order_mask];
	return o->id == id && o->state != SX_OS_FREE && id != 0 ? o : NULL;
}

int sx_clid_find(const struct shmex_exchange *ex, uint32_t user, uint64_t client_id,
		 uint32_t *slot);
void sx_clid_insert(struct shmex_exchange *ex, uint32_t user, uint64_t client_id, uint32_t slot);
void sx_clid_erase(struct shmex_exchange *ex, uint32_t user, uint64_t client_id);

/* Links a record that became live at the tail of its user's list (ids
 * only grow, so the list stays in id order), or unlinks one that ended. */
void sx_user_link(struct shmex_exchange *ex, struct sx_order *o);
void sx_user_unlink(struct shmex_exchange *ex, struct sx_order *o);

/* ---- risk.c ---------------------------------------------------------- */

/* Takes one token of @u's bucket at time @now; 0 if none was left. */
int sx_rate_take(struct sx_user *u, int64_t now);
/* Whether @price lies in @s's band (always, if no band or no reference). */
int sx_band_ok(const struct sx_symbol *s, int64_t price);
/* Whether an iceberg peak of @display lots (0: not an iceberg) suits
 * @qty lots on @s: display >= min_peak, qty <= display * max_iceberg_parts. */
int sx_peak_ok(const struct sx_symbol *s, int64_t display, int64_t qty);
/* Whether a stop / take-profit order would trigger as it enters @s's book
 * (the last trade price already meets its condition). */
int sx_stop_triggers_now(const struct sx_symbol *s, int side, int type, int64_t trigger);
/* @qty lots at @price (ticks) against @s's max_notional: SHMEX_R_NONE if
 * within (or no limit), SHMEX_R_RISK if over, SHMEX_R_OVERFLOW if the value
 * does not fit int64. A sell that matches now (@trades_now) is measured at
 * the best bid when that is higher than its price (0 for a market sell). */
uint16_t sx_notional_check(const struct sx_symbol *s, int side, int trades_now, int64_t price,
			   int64_t qty);

/* ---- exchange_money.c: the money model, exact ---------------------- */

/* Quote value of @n tick-lots (or any 128-bit count of them), rounded
 * down or up; SHMEX_E_OVERFLOW if it does not fit int64. */
int sx_value(const struct sx_symbol *s, shmex_i128 n, int round_up, int64_t *out);
/* Buy reservation of an order whose settlement carries @wrem (struct
 * sx_order), at price @price for @remaining more lots: what its total could
 * still grow by, ceil((wrem + price*remaining*(1e6+rmax)*kn) / den) minus
 * the unit that rounding up has already taken when wrem > 0. */
int sx_buy_reserve(const struct sx_symbol *s, int64_t wrem, int64_t price, int64_t remaining,
		   int64_t *out);
/* Largest max_notional (tick-lots) a budget of @budget quote minor units
 * pays for, taker fee included. */
int sx_budget_ticklots(const struct sx_symbol *s, int64_t budget, int64_t *out);
/* ceil or floor of num * kn / d, num >= 0; SHMEX_E_OVERFLOW if it does not fit. */
int sx_scale(shmex_i128 num, int64_t kn, const struct sx_divisor *d, int round_up, int64_t *out);
/* x = *q * d + *r, 0 <= *r < d, for x >= 0. Inline: every fill runs a
 * few, nearly always on the 64-bit path. */
static inline void sx_divmod(shmex_i128 x, const struct sx_divisor *dv, shmex_i128 *q,
			     uint64_t *r)
{
	if (x <= (shmex_i128)UINT64_MAX) {
		/* magic >= 2^64/d - 2, so q undershoots x/d by at most 2 and
		 * never overshoots. */
		uint64_t x64 = (uint64_t)x;
		uint64_t q64 = (uint64_t)(((shmex_u128)x64 * dv->magic) >> 64);
		uint64_t r64 = x64 - q64 * dv->d;
		while (r64 >= dv->d) {
			q64++;
			r64 -= dv->d;
		}
		*q = q64;
		*r = r64;
		return;
	}
	shmex_u128 qq = (shmex_u128)x / dv->d;
	*q = (shmex_i128)qq;
	*r = (uint64_t)((shmex_u128)x - qq * dv->d);
}

/* Settles @n more tick-lots of order @o at fee rate @rate (ppm, signed, +
 * for a buyer's fee): advances its totals and returns what it pays (buyer)
 * or receives (seller) for them, and the change of its rounded gross value.
 * SHMEX_E_OVERFLOW (nothing changed) only if one fill's amount does not
 * fit int64, which the reservations rule out. */
int sx_accrue(const struct sx_symbol *s, struct sx_order *o, shmex_i128 n, int32_t rate,
	      int64_t *d_settled, int64_t *d_gross);
void sx_divisor_init(struct sx_divisor *dv, int64_t d);

#endif /* SX_EXCHANGE_INTERNAL_H */
