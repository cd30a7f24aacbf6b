/*
 * The money model of the exchange, exact: tick-lots to quote minor units,
 * buy reservations, market-buy budgets. Rules and a worked example:
 * docs/ARCHITECTURE.md, "Money flow".
 *
 * Every count here is non-negative (tick-lots, wnum sums), every divisor
 * positive. Products are formed in 128 bits with overflow checks; the
 * common case, where everything fits in 64 bits, avoids the 128-bit divide.
 */
#include "exchange_internal.h"

void sx_divisor_init(struct sx_divisor *dv, int64_t d)
{
	dv->d = (uint64_t)d;
	dv->magic = UINT64_MAX / (uint64_t)d;
}

/* ceil or floor of num * kn / d, in 128 bits; SHMEX_E_OVERFLOW if num * kn
 * does not fit. */
static inline int sx_quotient(shmex_i128 num, int64_t kn, const struct sx_divisor *dv,
			      int round_up, shmex_i128 *out)
{
	uint64_t p64;

	if (num < 0 || kn <= 0)
		return SHMEX_E_INVAL;
	if (num <= (shmex_i128)UINT64_MAX &&
	    !__builtin_mul_overflow((uint64_t)num, (uint64_t)kn, &p64)) {
		/* magic >= 2^64/d - 2, so q undershoots p64/d by at most 2 and
		 * never overshoots. */
		uint64_t q = (uint64_t)(((shmex_u128)p64 * dv->magic) >> 64);
		uint64_t r = p64 - q * dv->d;
		while (r >= dv->d) {
			q++;
			r -= dv->d;
		}
		if (round_up && r != 0)
			q++;
		*out = q;
		return 0;
	}
	shmex_i128 p;
	if (__builtin_mul_overflow(num, (shmex_i128)kn, &p))
		return SHMEX_E_OVERFLOW;
	shmex_i128 q = p / (shmex_i128)dv->d;
	if (round_up && q * (shmex_i128)dv->d != p)
		q++;
	*out = q;
	return 0;
}

int sx_scale(shmex_i128 num, int64_t kn, const struct sx_divisor *dv, int round_up, int64_t *out)
{
	shmex_i128 q;
	int rc = sx_quotient(num, kn, dv, round_up, &q);

	if (rc != 0)
		return rc;
	if (q > INT64_MAX)
		return SHMEX_E_OVERFLOW;
	*out = (int64_t)q;
	return 0;
}

int sx_scale_total(shmex_i128 num, int64_t kn, const struct sx_divisor *dv, int round_up,
		   uint64_t *out)
{
	shmex_i128 q;
	int rc = sx_quotient(num, kn, dv, round_up, &q);

	if (rc == 0)
		*out = (uint64_t)q; /* modulo 2^64 */
	return rc;
}

int sx_value(const struct sx_symbol *s, shmex_i128 n, int round_up, int64_t *out)
{
	return sx_scale(n, s->kn, &s->kd_div, round_up, out);
}

int sx_buy_reserve(const struct sx_symbol *s, shmex_i128 wnum, int64_t settled, int64_t price,
		   int64_t remaining, int64_t *out)
{
	shmex_i128 more, num;
	int64_t total;

	if (price < 0 || remaining < 0)
		return SHMEX_E_INVAL;
	/* price * remaining < 2^126: cannot overflow; the factor can. */
	if (__builtin_mul_overflow((shmex_i128)price * remaining,
				   (shmex_i128)(SHMEX_FEE_ONE + s->rmax), &more) ||
	    __builtin_add_overflow(wnum, more, &num))
		return SHMEX_E_OVERFLOW;
	int rc = sx_scale(num, s->kn, &s->den_div, 1, &total);
	if (rc != 0)
		return rc;
	if (total < settled)
		return SHMEX_E_INVARIANT; /* cannot happen: settled = ceil(wnum part) */
	*out = total - settled;
	return 0;
}

int sx_budget_ticklots(const struct sx_symbol *s, int64_t budget, int64_t *out)
{
	/* Largest N with ceil(N * (1e6 + taker) * kn / den) <= budget, i.e.
	 * N * (1e6 + taker) * kn <= budget * den. budget * den < 2^123. */
	shmex_i128 per = (shmex_i128)(SHMEX_FEE_ONE + s->p.taker_fee_ppm) * s->kn;
	shmex_i128 n;

	if (budget <= 0)
		return SHMEX_E_INVAL;
	/* A taker rebate buys more value than the budget (a 100 % rebate:
	 * any value); the order's value must still fit int64, so that every
	 * fill's value and fee do. INT64_MAX * kd < 2^103. */
	n = (shmex_i128)INT64_MAX * s->kd / s->kn;
	if (per > 0) {
		shmex_i128 afford = (shmex_i128)budget * s->den / per;
		if (afford < n)
			n = afford;
	}
	*out = n > INT64_MAX ? INT64_MAX : (int64_t)n;
	return 0;
}
