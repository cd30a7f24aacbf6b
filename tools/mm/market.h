/*
 * The symbols a tool trades, resolved once through the client library
 * (codes, asset decimals), their touch and last price (refreshed on
 * demand), and a user's balances before and after a run.
 */
#ifndef SX_MM_MARKET_H
#define SX_MM_MARKET_H

#include <stdint.h>

#include "shmex/client.h"

#define SX_MAX_MARKETS 16
#define SX_MAX_ASSETS 64

struct sx_market {
	uint32_t id;               /* symbol id */
	uint32_t base, quote;      /* asset ids */
	unsigned base_dec, quote_dec;
	char code[SHMEX_CODE_LEN];
	char base_code[SHMEX_CODE_LEN], quote_code[SHMEX_CODE_LEN];
	int64_t given_ref;         /* CODE@PRICE on the command line (ticks), else 0 */
	int64_t best_bid, best_ask, last_price; /* ticks, 0: none (sx_markets_refresh) */
	int64_t tick_size;         /* quote minor units per whole base unit per tick */
	int64_t lot_size;          /* base minor units per lot */
};

/**
 * Resolves @p list ("BTC/USD,ETH/USD", each entry optionally CODE@PRICE in
 * ticks) against the daemon's symbols and assets, and reads their touch.
 * @return the number of markets (1..@p max), or -1 after printing
 *         "PROG: why" on stderr.
 */
int sx_markets_load(struct shmex_client *c, const char *prog, const char *list,
		    struct sx_market *out, int max);

/** Reads the touch and last price of every market again: 0 or a negative code. */
int sx_markets_refresh(struct shmex_client *c, struct sx_market *m, int n);

/**
 * Where to start quoting: the price given on the command line, else the
 * last trade, else the mid of the book, else the one side there is, else
 * the demo configuration's reference (BTC/USD 60000.00, ETH/USD 3000.00 at
 * one tick a cent); 0 if none of these is known.
 */
int64_t sx_market_start_price(const struct sx_market *m);

/** A user's balances in every asset. */
struct sx_balances {
	int n;
	struct shmex_client_balance b[SX_MAX_ASSETS];
};

/** Reads @p user's balances: 0 or a negative code. */
int sx_balances_get(struct shmex_client *c, uint32_t user, struct sx_balances *out);

/** @p user's total (available + locked) in asset @p asset of @p s, 0 if absent. */
int64_t sx_balances_total(const struct sx_balances *s, uint32_t asset);

#endif /* SX_MM_MARKET_H */
