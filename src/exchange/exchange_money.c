/*
 * The money model of the exchange, exact: tick-lots to quote minor units,
 * buy reservations, market-buy budgets. Rules and a worked example:
 * docs/ARCHITECTURE.md, "Money flow".
 *
 * Every count here is non-negative (tick-lots, W sums), every divisor
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
	shmex_i128 p, q;
	uint64_t r;

	if (num < 0 || kn <= 0)
		return SHMEX_E_INVAL;
	if (__builtin_mul_overflow(num, (shmex_i128)kn, &p))
		return SHMEX_E_OVERFLOW;
	sx_divmod(p, dv, &q, &r);
	*out = q + (round_up && r != 0);
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

int sx_value(const struct sx_symbol *s, shmex_i128 n, int round_up, int64_t *out)
{
	return sx_scale(n, s->kn, &s->kd_div, round_up, out);
}

int sx_buy_reserve(const struct sx_symbol *s, int64_t wrem, int64_t price, int64_t remaining,
		   int64_t *out)
{
	shmex_i128 more, x, q;
	uint64_t r;

	if (price < 0 || remaining < 0 || wrem < 0)
		return SHMEX_E_INVAL;
	/* price * remaining < 2^126: cannot overflow; the factors can. */
	if (__builtin_mul_overflow((shmex_i128)price * remaining,
				   (shmex_i128)(SHMEX_FEE_ONE + s->rmax), &more) ||
	    __builtin_mul_overflow(more, (shmex_i128)s->kn, &x) ||
	    __builtin_add_overflow(x, (shmex_i128)wrem, &x))
		return SHMEX_E_OVERFLOW;
	sx_divmod(x, &s->den_div, &q, &r);
	/* Paid so far is (W*kn - wrem) / den + (wrem > 0); the total at the
	 * end would be that plus q + (r > 0) - (wrem > 0), rounded up. */
	q += (r != 0) - (wrem != 0);
	if (q > INT64_MAX)
		return SHMEX_E_OVERFLOW;
	*out = (int64_t)q;
	return 0;
}

/* An order's gross value N * kn / kd rounded, modulo 2^64, N < 2^126:
 * N = a * kd + b gives a * kn + (b * kn) / kd, where b * kn < 2^103. */
static void sx_gross_total(const struct sx_symbol *s, shmex_i128 n, int round_up, uint64_t *out)
{
	shmex_i128 a, q;
	uint64_t b, r;
	uint64_t p64;

	if (n <= (shmex_i128)UINT64_MAX && !__builtin_mul_overflow((uint64_t)n, (uint64_t)s->kn, &p64)) {
		sx_divmod(p64, &s->kd_div, &q, &r); /* the common case: one divide */
		*out = (uint64_t)q + (round_up && r != 0);
		return;
	}
	sx_divmod(n, &s->kd_div, &a, &b);
	sx_divmod((shmex_i128)b * s->kn, &s->kd_div, &q, &r);
	*out = (uint64_t)a * (uint64_t)s->kn + (uint64_t)q + (round_up && r != 0);
}

int sx_accrue(const struct sx_symbol *s, struct sx_order *o, shmex_i128 n, int32_t rate,
	      int64_t *d_settled, int64_t *d_gross)
{
	const int buy = o->side == SHMEX_BUY;
	shmex_i128 w, x, notional, q;
	uint64_t r, gross;

	/* n and one fill's W*kn are bounded by the trade's value, which fits
	 * int64 (the buyer's reservation or budget bounds it); W itself is not
	 * kept, only wrem < den. */
	if (n < 0 ||
	    __builtin_mul_overflow(n, (shmex_i128)(SHMEX_FEE_ONE + (buy ? rate : -rate)), &w) ||
	    __builtin_mul_overflow(w, (shmex_i128)s->kn, &x) ||
	    __builtin_add_overflow(x, (shmex_i128)o->wrem, &x) ||
	    __builtin_add_overflow(o->notional, n, &notional))
		return SHMEX_E_OVERFLOW;
	sx_divmod(x, &s->den_div, &q, &r);
	/* A seller's total is the sum of the quotients; a buyer's adds one
	 * while a remainder is carried. */
	if (buy)
		q += (r != 0) - (o->wrem != 0);
	if (q > INT64_MAX)
		return SHMEX_E_OVERFLOW;
	sx_gross_total(s, notional, buy, &gross);
	*d_settled = (int64_t)q;
	/* Totals modulo 2^64: the difference is exact, one fill's value fits. */
	*d_gross = (int64_t)(gross - (uint64_t)o->gross);
	o->wrem = (int64_t)r;
	o->notional = notional;
	o->settled = (int64_t)((uint64_t)o->settled + (uint64_t)q);
	o->gross = (int64_t)gross;
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
