/*
 * What the tests ask the daemon through the admin path (control socket):
 * the invariants, the money, open orders and sessions, with bounded waits.
 */
#ifndef MP_ADMIN_H
#define MP_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/client.h"

#define MP_MAX_SUPPLY 16

/** The money of every user 0 (fee account) .. nusers, per asset id. */
struct mp_money {
	uint32_t nassets;
	char code[MP_MAX_SUPPLY + 1][SHMEX_CODE_LEN];
	int64_t supply[MP_MAX_SUPPLY + 1];     /* the daemon's deposits - withdrawals */
	int64_t sum[MP_MAX_SUPPLY + 1];        /* Σ available + locked over users 0..n */
	int64_t fee[MP_MAX_SUPPLY + 1];        /* the fee account's available + locked */
	int64_t locked[MP_MAX_SUPPLY + 1];     /* Σ locked over users 1..n */
};

/**
 * Reads every balance of users 0..@p nusers and each asset's supply, and
 * checks: shmex_client_check() is 0, no balance is negative, and per asset
 * Σ balances (fee account included) = supply.
 * @return 0, or -1 with the first breach in @p why.
 */
int mp_admin_money(struct shmex_client *c, uint32_t nusers, struct mp_money *out, char *why,
		   size_t cap);

/** Open orders of @p user on every symbol (the total), or a negative code. */
int mp_admin_open_orders(struct shmex_client *c, uint32_t user);

/**
 * Polls until @p user has no open order.
 * @return the nanoseconds it took, or -1 if it still has some after
 *         @p timeout_ns (or a query failed).
 */
int64_t mp_admin_wait_no_orders(struct shmex_client *c, uint32_t user, int64_t timeout_ns);

/** Whether a session named @p name is live (STATUS), or a negative code. */
int mp_admin_session_live(struct shmex_client *c, const char *name);

/** Polls until no session named @p name is live: 0, or -1 after @p timeout_ns. */
int mp_admin_wait_session_gone(struct shmex_client *c, const char *name, int64_t timeout_ns);

#endif /* MP_ADMIN_H */
