/*
 * The market the multi-process tests run: one table that gives both the
 * daemon's INI configuration and the same registrations for an exchange
 * made in-process (the differential test), so the two cannot drift apart.
 *
 *   assets   USD (2 decimals), BTC (8), ETH (8)
 *   symbols  1 BTC/USD (lot 0.001 BTC, ref $60,000.00), 2 ETH/USD (lot
 *            0.01 ETH, ref $3,000.00); tick 1 cent, band 10 %, maker
 *            rebate 0.005 %, taker fee 0.02 %
 *   users    u1 .. uN, each given USD 10,000,000.00, BTC 100, ETH 1000
 *   matchers with several: BTC/USD on matcher 0, ETH/USD on matcher 1
 */
#ifndef MP_WORLD_H
#define MP_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "mp_trader.h"
#include "shmex/exchange.h"

#define MP_NASSETS 3
#define MP_NSYMBOLS 2
#define MP_USD 1u
#define MP_BTC 2u
#define MP_ETH 3u
#define MP_BTC_USD 1u
#define MP_ETH_USD 2u

/** Each user's deposit of asset id a (1..MP_NASSETS), minor units. */
int64_t mp_world_deposit(uint32_t asset);

/** The symbols and deposits as the trader wants them. */
extern const struct mp_symbol_spec mp_world_symbols[MP_NSYMBOLS];
extern const struct mp_deposit mp_world_deposits[MP_NASSETS];

/** Asset and symbol parameters in id order (ids 1, 2, ...). */
const struct shmex_asset_params *mp_world_asset(uint32_t id);
const struct shmex_symbol_params *mp_world_symbol(uint32_t id);

/** The matcher that owns symbol id @p symbol in a daemon with @p matchers
 *  matcher threads (0 with one). */
uint32_t mp_world_matcher(uint32_t symbol, uint32_t matchers);

/** Capacities written into [engine] (the in-process twin uses them too). */
#define MP_WORLD_MAX_ORDERS 65536u
#define MP_WORLD_MAX_USERS 32u
#define MP_WORLD_MAX_SYMBOLS 8u
#define MP_WORLD_MAX_ASSETS 8u

/**
 * Writes the INI text: [engine] with the capacities above and
 * @p engine_extra (lines such as "gateways = 2\n", may be NULL), the
 * assets, symbols, @p nusers users, then @p grants (NULL: this uid,
 * both roles, every user).
 * @return @p buf (static storage is the caller's).
 */
char *mp_world_ini(char *buf, size_t cap, const char *engine_extra, uint32_t nusers,
		   const char *grants);

/** What mp_world_ini_opts() may change. */
struct mp_world_opts {
	const char *engine_extra; /* as mp_world_ini() (NULL: none); no "matchers" line */
	uint32_t nusers;
	const char *grants;       /* NULL: this uid, both roles, every user */
	uint32_t matchers;        /* > 1: "matchers = M" and each symbol's "matcher = K"
				     (mp_world_matcher()) */
	const int64_t *deposits;  /* [MP_NASSETS]: each user's deposit of asset id a at
				     [a - 1], minor units, 0: none (NULL: the table's) */
};

/** mp_world_ini() with options. @return @p buf. */
char *mp_world_ini_opts(char *buf, size_t cap, const struct mp_world_opts *o);

#endif /* MP_WORLD_H */
