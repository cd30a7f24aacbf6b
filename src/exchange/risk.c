/*
 * Pre-trade risk primitives: the per-user order rate limiter (a token bucket
 * on the injected clock), the per-symbol price band, order value limit and
 * iceberg peak rules. The order checks
 * that use them, in their documented order, are in exchange.c.
 */
#include "exchange_internal.h"

#define SX_NANO INT64_C(1000000000)

int sx_rate_take(struct sx_user *u, int64_t now)
{
	if (u->rate == 0)
		return 1;
	if (now > u->refilled_at) {
		/* rate tokens per second = rate nano-tokens per nanosecond. */
		shmex_i128 t = (shmex_i128)(now - u->refilled_at) * u->rate + u->tokens;
		u->tokens = t > u->cap ? u->cap : (int64_t)t;
		u->refilled_at = now;
	}
	if (u->tokens < SX_NANO)
		return 0;
	u->tokens -= SX_NANO;
	return 1;
}

int sx_band_ok(const struct sx_symbol *s, int64_t price)
{
	int64_t ref;

	if (s->p.band_ppm == 0)
		return 1;
	if (!shmex_book_last_price(s->book, &ref))
		ref = s->p.ref_price;
	if (ref <= 0)
		return 1;
	shmex_i128 dist = (shmex_i128)price - ref;
	if (dist < 0)
		dist = -dist;
	return dist * SHMEX_FEE_ONE <= (shmex_i128)ref * s->p.band_ppm;
}

uint16_t sx_notional_check(const struct sx_symbol *s, int side, int trades_now, int64_t price,
			   int64_t qty)
{
	int64_t bid, value;

	if (s->p.max_notional == 0)
		return SHMEX_R_NONE;
	/* A buy trades at or below its price. A sell trades at the bids, at
	 * or above its price: at most the best bid while it matches on entry,
	 * and then its own price once it rests (the book is not crossed). */
	if (side == SHMEX_SELL && trades_now && shmex_book_best(s->book, SHMEX_BUY, &bid) &&
	    bid > price)
		price = bid;
	if (sx_value(s, (shmex_i128)price * qty, 1, &value) != 0)
		return SHMEX_R_OVERFLOW;
	return value > s->p.max_notional ? SHMEX_R_RISK : SHMEX_R_NONE;
}

int sx_peak_ok(const struct sx_symbol *s, int64_t display, int64_t qty)
{
	/* Each peak of a resting iceberg is one more trade for the orders
	 * that meet it: at most max_iceberg_parts of them, min_peak lots or
	 * more each. */
	return display == 0 || (display >= s->p.min_peak &&
				(shmex_i128)display * s->p.max_iceberg_parts >= qty);
}

int sx_stop_triggers_now(const struct sx_symbol *s, int side, int type, int64_t trigger)
{
	int64_t last;

	if (!shmex_book_last_price(s->book, &last))
		return 0;
	/* The book's rule (docs/MATCHING.md): a buy stop at or above its
	 * trigger, a sell stop at or below; take-profit the other way. */
	const int up = (side == SHMEX_BUY) == (type == SHMEX_STOP_LIMIT || type == SHMEX_STOP_MARKET);
	return up ? last >= trigger : last <= trigger;
}

int shmex_exchange_take_token(struct shmex_exchange *ex, uint32_t user)
{
	struct sx_user *u = sx_user_get(ex, user);
	if (u == NULL)
		return SHMEX_E_UNKNOWN_USER;
	return sx_rate_take(u, ex->now);
}

int shmex_exchange_user_limits(const struct shmex_exchange *ex, uint32_t user,
			       struct shmex_user_params *out)
{
	if (user == 0 || user > ex->n_users)
		return SHMEX_E_UNKNOWN_USER;
	const struct sx_user *u = &ex->users[user];
	out->max_open_orders = u->max_open;
	out->rate_per_sec = u->rate;
	out->rate_burst = (uint32_t)(u->cap / 1000000000);
	out->pad = 0;
	return 0;
}
