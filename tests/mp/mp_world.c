/*
 * The test market (mp_world.h): one table, two renderings.
 */
#include "mp_world.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mp_harness.h"

struct mp_asset_row {
	struct shmex_asset_params p;
	int64_t deposit;          /* minor units */
};

static const struct mp_asset_row mp_assets[MP_NASSETS] = {
	{ { "USD", 2 }, INT64_C(1000000000) },
	{ { "BTC", 8 }, INT64_C(10000000000) },
	{ { "ETH", 8 }, INT64_C(100000000000) },
};

static const struct shmex_symbol_params mp_symbols[MP_NSYMBOLS] = {
	{ .code = "BTC/USD", .base = MP_BTC, .quote = MP_USD, .tick_size = 1, .lot_size = 100000,
	  .min_qty = 1, .max_qty = 100000, .ref_price = 6000000, .band_ppm = 100000,
	  .maker_fee_ppm = -50, .taker_fee_ppm = 200 },
	{ .code = "ETH/USD", .base = MP_ETH, .quote = MP_USD, .tick_size = 1, .lot_size = 1000000,
	  .min_qty = 1, .max_qty = 100000, .ref_price = 300000, .band_ppm = 100000,
	  .maker_fee_ppm = -50, .taker_fee_ppm = 200 },
};

const struct mp_symbol_spec mp_world_symbols[MP_NSYMBOLS] = {
	{ "BTC/USD", 6000000, 100000, 0, 0 },
	{ "ETH/USD", 300000, 1000000, 0, 1 },
};

const struct mp_deposit mp_world_deposits[MP_NASSETS] = {
	{ "USD", INT64_C(1000000000), 0 },
	{ "BTC", INT64_C(10000000000), 0 },
	{ "ETH", INT64_C(100000000000), 0 },
};

int64_t mp_world_deposit(uint32_t asset)
{
	return asset >= 1 && asset <= MP_NASSETS ? mp_assets[asset - 1].deposit : 0;
}

const struct shmex_asset_params *mp_world_asset(uint32_t id)
{
	return id >= 1 && id <= MP_NASSETS ? &mp_assets[id - 1].p : NULL;
}

const struct shmex_symbol_params *mp_world_symbol(uint32_t id)
{
	return id >= 1 && id <= MP_NSYMBOLS ? &mp_symbols[id - 1] : NULL;
}

uint32_t mp_world_matcher(uint32_t symbol, uint32_t matchers)
{
	if (matchers <= 1 || symbol < 1 || symbol > MP_NSYMBOLS)
		return 0;
	return mp_world_symbols[symbol - 1].matcher % matchers;
}

/* Appends to buf (cut short silently: callers size it generously). */
static void mp_cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void mp_cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	if (*len >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	const int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

/* Minor units as the INI's exact decimal ("5000.00" for 500000 at 2 decimals). */
static void mp_amount_text(char *out, size_t cap, int64_t v, uint32_t decimals)
{
	int64_t scale = 1;
	for (uint32_t i = 0; i < decimals; i++)
		scale *= 10;
	if (decimals == 0)
		snprintf(out, cap, "%lld", (long long)v);
	else
		snprintf(out, cap, "%lld.%0*lld", (long long)(v / scale), (int)decimals,
			 (long long)(v % scale));
}

char *mp_world_ini_opts(char *buf, size_t cap, const struct mp_world_opts *o)
{
	size_t n = 0;
	mp_cat(buf, cap, &n,
	       "; written by tests/mp/mp_world.c\n[engine]\nmax_orders = %u\nmax_users = %u\n"
	       "max_symbols = %u\nmax_assets = %u\n%s",
	       MP_WORLD_MAX_ORDERS, MP_WORLD_MAX_USERS, MP_WORLD_MAX_SYMBOLS, MP_WORLD_MAX_ASSETS,
	       o->engine_extra ? o->engine_extra : "");
	if (o->matchers > 1)
		mp_cat(buf, cap, &n, "matchers = %u\n", o->matchers);
	mp_cat(buf, cap, &n, "\n");
	for (uint32_t a = 0; a < MP_NASSETS; a++)
		mp_cat(buf, cap, &n, "[asset %s]\ndecimals = %u\n\n", mp_assets[a].p.code,
		       mp_assets[a].p.decimals);
	for (uint32_t s = 0; s < MP_NSYMBOLS; s++) {
		const struct shmex_symbol_params *p = &mp_symbols[s];
		mp_cat(buf, cap, &n,
		       "[symbol %s]\nbase = %s\nquote = %s\ntick = %lld\nlot = %lld\nmin_qty = %lld\n"
		       "max_qty = %lld\nref_price = %lld\nband_ppm = %u\nmaker_fee_ppm = %d\n"
		       "taker_fee_ppm = %d\n",
		       p->code, mp_assets[p->base - 1].p.code, mp_assets[p->quote - 1].p.code,
		       (long long)p->tick_size, (long long)p->lot_size, (long long)p->min_qty,
		       (long long)p->max_qty, (long long)p->ref_price, p->band_ppm,
		       p->maker_fee_ppm, p->taker_fee_ppm);
		if (o->matchers > 1)
			mp_cat(buf, cap, &n, "matcher = %u\n", mp_world_matcher(s + 1, o->matchers));
		mp_cat(buf, cap, &n, "\n");
	}
	for (uint32_t u = 1; u <= o->nusers; u++) {
		mp_cat(buf, cap, &n, "[user u%u]\n", u);
		for (uint32_t a = 0; a < MP_NASSETS; a++) {
			char text[48];
			const int64_t v = o->deposits ? o->deposits[a] : mp_assets[a].deposit;
			if (v <= 0)
				continue;
			mp_amount_text(text, sizeof text, v, mp_assets[a].p.decimals);
			mp_cat(buf, cap, &n, "deposit = %s:%s\n", mp_assets[a].p.code, text);
		}
		mp_cat(buf, cap, &n, "\n");
	}
	mp_cat(buf, cap, &n, "%s", o->grants ? o->grants : mp_grant_all());
	return buf;
}

char *mp_world_ini(char *buf, size_t cap, const char *engine_extra, uint32_t nusers,
		   const char *grants)
{
	const struct mp_world_opts o = { .engine_extra = engine_extra, .nusers = nusers,
					 .grants = grants };
	return mp_world_ini_opts(buf, cap, &o);
}
