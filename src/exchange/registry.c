/*
 * Registries: assets, symbols (with their books) and users, added at run
 * time into arrays sized at creation. Ids are dense from 1; lookups by id
 * are O(1), by code a scan (administrative, not the order path).
 *
 * Later (DESIGN.md section 2) these become read-mostly RCU tables; a symbol
 * or user is never removed, only halted, so ids stay valid.
 */
#include <string.h>

#include "exchange_internal.h"
#include "shmex/fixed.h"

static int sx_code_ok(const char *code)
{
	size_t n = strnlen(code, SHMEX_CODE_LEN);
	return n > 0 && n < SHMEX_CODE_LEN;
}

int shmex_exchange_add_asset(struct shmex_exchange *ex, const struct shmex_asset_params *p,
			     uint32_t *id)
{
	if (p == NULL || !sx_code_ok(p->code) || p->decimals > SHMEX_DECIMALS_MAX)
		return SHMEX_E_INVAL;
	uint32_t dummy;
	if (shmex_exchange_find_asset(ex, p->code, &dummy) == 0)
		return SHMEX_E_EXISTS;
	if (ex->n_assets == ex->max_assets)
		return SHMEX_E_FULL;
	uint32_t a = ++ex->n_assets;
	struct sx_asset *as = &ex->assets[a];
	memset(as, 0, sizeof *as);
	memcpy(as->code, p->code, SHMEX_CODE_LEN);
	as->decimals = p->decimals;
	as->used = 1;
	sx_next_seq(ex);
	if (id)
		*id = a;
	return 0;
}

int shmex_exchange_find_asset(const struct shmex_exchange *ex, const char *code, uint32_t *id)
{
	for (uint32_t a = 1; a <= ex->n_assets; a++) {
		if (strncmp(ex->assets[a].code, code, SHMEX_CODE_LEN) == 0) {
			*id = a;
			return 0;
		}
	}
	return SHMEX_E_UNKNOWN_ASSET;
}

static int64_t sx_gcd(int64_t a, int64_t b)
{
	while (b != 0) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* One tick-lot = tick * lot / 10^decimals quote minor units, as kn / kd in
 * lowest terms. Reducing each factor against the power of ten first keeps
 * every step inside int64. */
static int sx_tick_lot(int64_t tick, int64_t lot, uint32_t decimals, int64_t *kn, int64_t *kd)
{
	int64_t d = 1;
	for (uint32_t i = 0; i < decimals; i++)
		d *= 10;
	int64_t g = sx_gcd(tick, d);
	tick /= g;
	d /= g;
	g = sx_gcd(lot, d);
	lot /= g;
	d /= g;
	if (__builtin_mul_overflow(tick, lot, kn) || d > SHMEX_TICK_LOT_DEN_MAX)
		return SHMEX_E_INVAL;
	*kd = d;
	return 0;
}

int shmex_exchange_add_symbol(struct shmex_exchange *ex, const struct shmex_symbol_params *p,
			      uint32_t *id)
{
	if (p == NULL)
		return SHMEX_E_INVAL;
	if (!sx_asset_ok(ex, p->base) || !sx_asset_ok(ex, p->quote))
		return SHMEX_E_UNKNOWN_ASSET;
	int64_t min_qty = p->min_qty ? p->min_qty : 1;
	if (!sx_code_ok(p->code) || p->base == p->quote || p->tick_size <= 0 || p->lot_size <= 0 ||
	    min_qty < 1 || p->max_qty < 0 || (p->max_qty && p->max_qty < min_qty) ||
	    p->max_notional < 0 || p->ref_price < 0 || p->min_peak < 0 ||
	    p->status > SHMEX_SYMBOL_HALTED ||
	    p->maker_fee_ppm < -SHMEX_FEE_ONE || p->maker_fee_ppm > SHMEX_FEE_ONE ||
	    p->taker_fee_ppm < -SHMEX_FEE_ONE || p->taker_fee_ppm > SHMEX_FEE_ONE ||
	    (int64_t)p->maker_fee_ppm + p->taker_fee_ppm < 0)
		return SHMEX_E_INVAL;
	int64_t kn, kd;
	if (sx_tick_lot(p->tick_size, p->lot_size, ex->assets[p->base].decimals, &kn, &kd) != 0)
		return SHMEX_E_INVAL;
	uint32_t dummy;
	if (shmex_exchange_find_symbol(ex, p->code, &dummy) == 0)
		return SHMEX_E_EXISTS;
	if (ex->n_symbols == ex->max_symbols)
		return SHMEX_E_FULL;

	uint32_t sid = ex->n_symbols + 1;
	struct sx_symbol *s = &ex->symbols[sid];
	memset(s, 0, sizeof *s);
	s->ex = ex;
	s->id = sid;
	s->p = *p;
	s->p.min_qty = min_qty;
	if (s->p.book_orders == 0)
		s->p.book_orders = ex->cfg.book_orders;
	if (s->p.max_matches == 0)
		s->p.max_matches = SHMEX_MAX_MATCHES_DEFAULT;
	if (s->p.min_peak == 0)
		s->p.min_peak = min_qty;
	if (s->p.max_iceberg_parts == 0)
		s->p.max_iceberg_parts = SHMEX_ICEBERG_PARTS_DEFAULT;
	s->kn = kn;
	s->kd = kd;
	s->den = kd * SHMEX_FEE_ONE; /* <= 10^18 */
	sx_divisor_init(&s->kd_div, s->kd);
	sx_divisor_init(&s->den_div, s->den);
	shmex_i128 most = (shmex_i128)p->max_notional * kd / kn; /* < 2^103 */
	s->max_ticklots = most > INT64_MAX ? INT64_MAX : (int64_t)most;
	s->rmax = p->maker_fee_ppm > p->taker_fee_ppm ? p->maker_fee_ppm : p->taker_fee_ppm;
	if (s->rmax < 0)
		s->rmax = 0;
	struct shmex_book_params bp = {
		.max_orders = s->p.book_orders, .max_levels = 0, .max_matches = s->p.max_matches};
	int rc = shmex_book_create(&bp, sx_book_sink, s, &s->book);
	if (rc != 0)
		return rc;
	shmex_book_advance(s->book, ex->now);
	ex->n_symbols = sid;
	sx_next_seq(ex);
	if (id)
		*id = sid;
	return 0;
}

int shmex_exchange_find_symbol(const struct shmex_exchange *ex, const char *code, uint32_t *id)
{
	for (uint32_t s = 1; s <= ex->n_symbols; s++) {
		if (strncmp(ex->symbols[s].p.code, code, SHMEX_CODE_LEN) == 0) {
			*id = s;
			return 0;
		}
	}
	return SHMEX_E_UNKNOWN_SYMBOL;
}

int shmex_exchange_set_status(struct shmex_exchange *ex, uint32_t symbol, int status)
{
	struct sx_symbol *s = sx_symbol_get(ex, symbol);
	if (s == NULL)
		return SHMEX_E_UNKNOWN_SYMBOL;
	if (status != SHMEX_SYMBOL_OPEN && status != SHMEX_SYMBOL_HALTED)
		return SHMEX_E_INVAL;
	s->p.status = (uint8_t)status;
	sx_next_seq(ex);
	return 0;
}

int shmex_exchange_set_reference(struct shmex_exchange *ex, uint32_t symbol, int64_t price)
{
	struct sx_symbol *s = sx_symbol_get(ex, symbol);
	if (s == NULL)
		return SHMEX_E_UNKNOWN_SYMBOL;
	if (price < 0)
		return SHMEX_E_BAD_PRICE;
	s->p.ref_price = price;
	sx_next_seq(ex);
	return 0;
}

int shmex_exchange_symbol(const struct shmex_exchange *ex, uint32_t symbol,
			  struct shmex_symbol_params *out)
{
	if (symbol < 1 || symbol > ex->n_symbols)
		return SHMEX_E_UNKNOWN_SYMBOL;
	*out = ex->symbols[symbol].p;
	return 0;
}

const struct shmex_book *shmex_exchange_book(const struct shmex_exchange *ex, uint32_t symbol)
{
	if (symbol < 1 || symbol > ex->n_symbols)
		return NULL;
	return ex->symbols[symbol].book;
}

int shmex_exchange_add_user(struct shmex_exchange *ex, const struct shmex_user_params *p,
			    uint32_t *id)
{
	if (ex->n_users == ex->max_users)
		return SHMEX_E_FULL;
	uint32_t uid = ++ex->n_users;
	struct sx_user *u = &ex->users[uid];
	memset(u, 0, sizeof *u);
	u->used = 1;
	u->max_open = p && p->max_open_orders ? p->max_open_orders : ex->cfg.max_open_orders;
	u->rate = p && p->rate_per_sec ? p->rate_per_sec : ex->cfg.rate_per_sec;
	uint32_t burst = p && p->rate_burst ? p->rate_burst : ex->cfg.rate_burst;
	if (burst == 0)
		burst = u->rate ? u->rate : 1;
	u->cap = (int64_t)burst * 1000000000;
	u->tokens = u->cap;
	u->refilled_at = ex->now;
	u->head = u->tail = SX_NONE;
	sx_next_seq(ex);
	if (id)
		*id = uid;
	return 0;
}

int shmex_exchange_asset(const struct shmex_exchange *ex, uint32_t asset,
			 struct shmex_asset_params *out)
{
	if (asset < 1 || asset > ex->n_assets)
		return SHMEX_E_UNKNOWN_ASSET;
	memset(out, 0, sizeof *out);
	memcpy(out->code, ex->assets[asset].code, SHMEX_CODE_LEN);
	out->decimals = ex->assets[asset].decimals;
	return 0;
}

void shmex_exchange_counts(const struct shmex_exchange *ex, uint32_t *assets, uint32_t *symbols,
			   uint32_t *users)
{
	if (assets)
		*assets = ex->n_assets;
	if (symbols)
		*symbols = ex->n_symbols;
	if (users)
		*users = ex->n_users;
}

uint32_t shmex_exchange_order_capacity(const struct shmex_exchange *ex)
{
	return ex->order_mask + 1;
}
