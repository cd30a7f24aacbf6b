/*
 * A random trader for the multi-process tests: one checked session
 * (mp_session.h) sending limit (GTC, IOC, FOK, post-only, iceberg) and
 * market orders, cancels (by id and by client id), amends, mass cancels
 * and pings for its own users, with a window of requests in flight. It
 * follows its live orders and its money from the reports, and can settle
 * at the end: cancel everything, then check that every balance equals the
 * deposit plus what its trade reports say moved, with nothing locked.
 */
#ifndef MP_TRADER_H
#define MP_TRADER_H

#include <stdint.h>

#include "mp_session.h"

#define MP_MAX_ASSETS 8
#define MP_MAX_SYMBOLS 8

struct mp_symbol_spec {
	const char *code;
	int64_t ref;   /* prices are drawn within ±1 % of it */
	int64_t lot;   /* base minor units per lot */
	int late;      /* added while trading: looked up until it exists */
	uint32_t matcher; /* with several matchers: the one the test configured (late
			     symbols: the daemon chooses, the trader reads it) */
};

struct mp_deposit {
	const char *code; /* asset */
	int64_t amount;   /* what each of the trader's users was given */
	int late;         /* given while trading: checked only if the trader traded it */
};

/** What a trader tells its parent (in mp_shared_alloc() memory). */
struct mp_trader_result {
	int64_t fee_flow[MP_MAX_ASSETS + 1]; /* by asset id: Σ buys' quote - Σ sells' quote of
						its trades, i.e. what its trades gave the fee account */
	uint64_t sent, done, trades, rejects, late_orders;
	int ended;  /* as mp_sess.ended */
	int ok;     /* 1: ran and settled without a breach */
	char why[256];
};

struct mp_trader_opts {
	const char *sock;
	const char *name;
	uint32_t flags;                  /* enum shmex_session_flag */
	const uint32_t *users;
	uint32_t nusers;
	const struct mp_symbol_spec *symbols;
	uint32_t nsymbols;
	const struct mp_deposit *deposits; /* for settle */
	uint32_t ndeposits;
	uint32_t matchers;               /* > 1: the daemon has several; answers are checked
					    per matcher (mp_sess_matchers()) */
	uint32_t count;                  /* requests to send (0: until stop_fd closes or the end) */
	uint32_t window;                 /* requests in flight (0: 16) */
	uint64_t seed;
	int ready_fd;                    /* -1, or one byte written after ready_after answers */
	uint32_t ready_after;
	int stop_fd;                     /* -1, or: stop sending when its writer closes */
	int settle;                      /* cancel all, check balances at the end */
	int quiet_end;                   /* the daemon ending the session is a normal end */
	struct mp_trader_result *result; /* may be NULL */
};

/** Runs the trader. @return 0 (ok), 1 (a breach: result->why), 2 (the
 *  daemon ended the session and quiet_end was set). */
int mp_trader_run(const struct mp_trader_opts *o);

/** mp_spawn() entry: arg is a struct mp_trader_opts. */
int mp_trader_main(void *arg);

#endif /* MP_TRADER_H */
