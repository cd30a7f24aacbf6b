/*
 * Admin-path queries for the tests (mp_admin.h).
 */
#include "mp_admin.h"

#include <stdio.h>
#include <string.h>

#include "mp_harness.h"

int mp_admin_money(struct shmex_client *c, uint32_t nusers, struct mp_money *out, char *why,
		   size_t cap)
{
	memset(out, 0, sizeof *out);
	char msg[256] = "";
	int rc = shmex_client_check(c, msg, sizeof msg);
	if (rc != 0) {
		snprintf(why, cap, "check: %s: %s", shmex_strerror(rc), msg);
		return -1;
	}
	struct shmex_ctl_asset_item assets[MP_MAX_SUPPLY];
	const int na = shmex_client_assets(c, assets, MP_MAX_SUPPLY);
	if (na <= 0) {
		snprintf(why, cap, "assets: %s", na < 0 ? shmex_strerror(na) : "none");
		return -1;
	}
	for (int i = 0; i < na; i++) {
		const uint32_t a = assets[i].asset;
		if (a == 0 || a > MP_MAX_SUPPLY) {
			snprintf(why, cap, "asset id %u out of the test's range", a);
			return -1;
		}
		out->supply[a] = assets[i].supply;
		memcpy(out->code[a], assets[i].code, SHMEX_CODE_LEN);
		out->code[a][SHMEX_CODE_LEN - 1] = 0;
		if (a > out->nassets)
			out->nassets = a;
	}
	for (uint32_t u = 0; u <= nusers; u++) {
		struct shmex_client_balance b[MP_MAX_SUPPLY];
		const int nb = shmex_client_balances(c, u, b, MP_MAX_SUPPLY);
		if (nb < 0) {
			snprintf(why, cap, "balances of user %u%s: %s (%s)", u,
				 u == SHMEX_FEE_ACCOUNT ? " (the fee account)" : "",
				 shmex_strerror(nb), shmex_client_last_error());
			return -1;
		}
		for (int k = 0; k < nb; k++) {
			const uint32_t a = b[k].asset;
			if (a == 0 || a > MP_MAX_SUPPLY || b[k].available < 0 || b[k].locked < 0) {
				snprintf(why, cap, "user %u asset %u: available %lld locked %lld", u,
					 a, (long long)b[k].available, (long long)b[k].locked);
				return -1;
			}
			out->sum[a] += b[k].available + b[k].locked;
			if (u == SHMEX_FEE_ACCOUNT)
				out->fee[a] = b[k].available + b[k].locked;
			else
				out->locked[a] += b[k].locked;
		}
	}
	for (uint32_t a = 1; a <= out->nassets; a++)
		if (out->sum[a] != out->supply[a]) {
			snprintf(why, cap, "%s: Σ balances %lld, supply %lld", out->code[a],
				 (long long)out->sum[a], (long long)out->supply[a]);
			return -1;
		}
	return 0;
}

int mp_admin_open_orders(struct shmex_client *c, uint32_t user)
{
	struct shmex_order_state st[4];
	uint32_t total = 0;
	const int n = shmex_client_open_orders(c, user, SHMEX_ALL_SYMBOLS, st, 4, &total);
	return n < 0 ? n : (int)total;
}

int64_t mp_admin_wait_no_orders(struct shmex_client *c, uint32_t user, int64_t timeout_ns)
{
	const int64_t start = mp_now_ns();
	for (;;) {
		const int n = mp_admin_open_orders(c, user);
		if (n < 0)
			return -1;
		const int64_t took = mp_now_ns() - start;
		if (n == 0)
			return took;
		if (took > timeout_ns)
			return -1;
		mp_sleep_ms(2);
	}
}

int mp_admin_session_live(struct shmex_client *c, const char *name)
{
	struct shmex_ctl_status_info st;
	struct shmex_ctl_session_item items[64];
	const int n = shmex_client_status(c, &st, items, 64);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if (strncmp(items[i].name, name, SHMEX_NAME_LEN) == 0)
			return 1;
	return 0;
}

int mp_admin_wait_session_gone(struct shmex_client *c, const char *name, int64_t timeout_ns)
{
	const int64_t deadline = mp_now_ns() + timeout_ns;
	for (;;) {
		const int live = mp_admin_session_live(c, name);
		if (live == 0)
			return 0;
		if (live < 0 || mp_now_ns() > deadline)
			return -1;
		mp_sleep_ms(2);
	}
}
