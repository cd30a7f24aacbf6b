/*
 * The bank differential test's market (bank_diff_world.h).
 */
#include "bank_diff_world.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct shmex_asset_params bd_assets[BD_NASSETS] = {
	{ "USD", 2 }, { "BTC", 8 }, { "ETH", 8 }, { "SOL", 8 },
};

/* Tight: a few orders' worth each (a BTC/USD bid of 20 lots locks ~$1,200,
 * a sell of 20 lots 0.02 BTC), so that NO_FUNDS is common. Ample: funds
 * never bind. */
static const int64_t bd_tight[BD_NASSETS] = { 500000, 5000000, 100000000, 300000000 };
static const int64_t bd_ample[BD_NASSETS] = { INT64_C(1000000000000), INT64_C(1000000000000),
					      INT64_C(10000000000000),
					      INT64_C(10000000000000) };

/* Prices are ticks; the reference price in the middle of a +-10 % band.
 * SOL/USD has a notional limit (RISK above ~13 lots), SOL/ETH a small
 * max_matches (MATCH_LIMIT), fees differ per symbol (rebates, zero). */
static const struct shmex_symbol_params bd_symbols[BD_NSYMBOLS] = {
	{ .code = "BTC/USD", .base = 2, .quote = 1, .tick_size = 1, .lot_size = 100000,
	  .min_qty = 1, .max_qty = 100000, .ref_price = 6000000, .band_ppm = 100000,
	  .maker_fee_ppm = -50, .taker_fee_ppm = 200 },
	{ .code = "ETH/USD", .base = 3, .quote = 1, .tick_size = 1, .lot_size = 1000000,
	  .min_qty = 1, .max_qty = 100000, .ref_price = 300000, .band_ppm = 100000,
	  .maker_fee_ppm = -50, .taker_fee_ppm = 200 },
	{ .code = "SOL/USD", .base = 4, .quote = 1, .tick_size = 1, .lot_size = 10000000,
	  .min_qty = 1, .max_qty = 100000, .max_notional = 20000, .ref_price = 15000,
	  .band_ppm = 100000, .maker_fee_ppm = 0, .taker_fee_ppm = 100 },
	{ .code = "ETH/BTC", .base = 3, .quote = 2, .tick_size = 100, .lot_size = 1000000,
	  .min_qty = 1, .max_qty = 100000, .ref_price = 50000, .band_ppm = 100000,
	  .maker_fee_ppm = 100, .taker_fee_ppm = 300 },
	{ .code = "SOL/ETH", .base = 4, .quote = 3, .tick_size = 100, .lot_size = 10000000,
	  .min_qty = 1, .max_qty = 100000, .ref_price = 50000, .band_ppm = 100000,
	  .maker_fee_ppm = -20, .taker_fee_ppm = 20, .max_matches = 4 },
};

static const int64_t bd_budgets[BD_NSYMBOLS] = { 250000, 120000, 60000, 2000000, 20000000 };

/* Which matcher owns each symbol, for 2 and 3 matchers (else round robin). */
static const uint32_t bd_spread2[BD_NSYMBOLS] = { 0, 1, 1, 0, 1 };
static const uint32_t bd_spread3[BD_NSYMBOLS] = { 0, 1, 2, 2, 0 };

void bd_world_init(struct bd_world *w, uint32_t matchers, uint32_t users, int tight,
		   uint32_t max_orders)
{
	memset(w, 0, sizeof *w);
	w->max_orders = max_orders;
	w->matchers = matchers;
	w->users = users;
	w->tight = tight;
	for (uint32_t s = 1; s <= BD_NSYMBOLS; s++)
		w->matcher_of[s] = matchers == 2   ? bd_spread2[s - 1]
				   : matchers == 3 ? bd_spread3[s - 1]
						   : (s - 1) % matchers;
}

const struct shmex_symbol_params *bd_world_symbol(uint32_t id)
{
	return id >= 1 && id <= BD_NSYMBOLS ? &bd_symbols[id - 1] : NULL;
}

int64_t bd_world_budget(uint32_t symbol)
{
	return symbol >= 1 && symbol <= BD_NSYMBOLS ? bd_budgets[symbol - 1] : 100000;
}

int64_t bd_world_deposit(const struct bd_world *w, uint32_t asset)
{
	if (asset < 1 || asset > BD_NASSETS)
		return 0;
	return w->tight ? bd_tight[asset - 1] : bd_ample[asset - 1];
}

uint32_t bd_world_matcher(const struct bd_world *w, uint32_t symbol)
{
	if (symbol >= 1 && symbol <= BD_NSYMBOLS)
		return w->matcher_of[symbol];
	return symbol == 0 ? 0 : (symbol - 1) % w->matchers; /* sx_engine_route() */
}

struct bd_text {
	char *buf;
	size_t cap, len;
	int overflow;
};

static void bd_cat(struct bd_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bd_cat(struct bd_text *t, const char *fmt, ...)
{
	if (t->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	const int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len)
		t->overflow = 1;
	else
		t->len += (size_t)n;
}

int bd_world_ini(const struct bd_world *w, char *buf, size_t cap)
{
	struct bd_text t = { buf, cap, 0, 0 };
	bd_cat(&t,
	       "[engine]\ngateways = 1\nmatchers = %u\nlayout = dedicated\nwait = spin\n"
	       "max_sessions = 8\nmax_orders = %u\nmax_users = 16\nmax_symbols = 8\n"
	       "max_assets = 8\n\n",
	       w->matchers, w->max_orders);
	for (uint32_t a = 0; a < BD_NASSETS; a++)
		bd_cat(&t, "[asset %s]\ndecimals = %u\n\n", bd_assets[a].code, bd_assets[a].decimals);
	for (uint32_t s = 0; s < BD_NSYMBOLS; s++) {
		const struct shmex_symbol_params *p = &bd_symbols[s];
		bd_cat(&t,
		       "[symbol %s]\nbase = %s\nquote = %s\ntick = %lld\nlot = %lld\nmin_qty = %lld\n"
		       "max_qty = %lld\nmax_notional = %lld\nref_price = %lld\nband_ppm = %u\n"
		       "maker_fee_ppm = %d\ntaker_fee_ppm = %d\nmax_matches = %u\nmatcher = %u\n\n",
		       p->code, bd_assets[p->base - 1].code, bd_assets[p->quote - 1].code,
		       (long long)p->tick_size, (long long)p->lot_size, (long long)p->min_qty,
		       (long long)p->max_qty, (long long)p->max_notional, (long long)p->ref_price,
		       p->band_ppm, p->maker_fee_ppm, p->taker_fee_ppm, p->max_matches,
		       w->matcher_of[s + 1]);
	}
	for (uint32_t u = 1; u <= w->users; u++) {
		bd_cat(&t, "[user u%u]\n", u);
		for (uint32_t a = 1; a <= BD_NASSETS; a++) {
			const int64_t v = bd_world_deposit(w, a);
			int64_t scale = 1;
			for (uint32_t i = 0; i < bd_assets[a - 1].decimals; i++)
				scale *= 10;
			bd_cat(&t, "deposit = %s:%lld.%0*lld\n", bd_assets[a - 1].code,
			       (long long)(v / scale), (int)bd_assets[a - 1].decimals,
			       (long long)(v % scale));
		}
		bd_cat(&t, "\n");
	}
	bd_cat(&t, "[grant]\nuid = 0\nusers = *\nroles = trader,admin\n");
	return t.overflow ? -1 : 0;
}

int bd_world_reference(const struct bd_world *w,
		       void (*sink)(void *ctx, const struct shmex_order_report *r), void *ctx,
		       struct shmex_exchange **out)
{
	const struct shmex_exchange_config xc = {
		.max_assets = 8, .max_symbols = 8, .max_users = 16, .max_orders = w->max_orders,
		.report_sink = sink, .report_ctx = ctx,
	};
	struct shmex_exchange *ex = NULL;
	int rc = shmex_exchange_create(&xc, &ex);
	uint32_t id;
	/* The engine's order (engine.c): assets, symbols, users, deposits. */
	for (uint32_t a = 0; rc == 0 && a < BD_NASSETS; a++)
		rc = shmex_exchange_add_asset(ex, &bd_assets[a], &id);
	for (uint32_t s = 0; rc == 0 && s < BD_NSYMBOLS; s++)
		rc = shmex_exchange_add_symbol(ex, &bd_symbols[s], &id);
	for (uint32_t u = 1; rc == 0 && u <= w->users; u++)
		rc = shmex_exchange_add_user(ex, NULL, &id);
	for (uint32_t u = 1; rc == 0 && u <= w->users; u++)
		for (uint32_t a = 1; rc == 0 && a <= BD_NASSETS; a++)
			rc = shmex_exchange_deposit(ex, u, a, bd_world_deposit(w, a), 0, NULL);
	if (rc != 0) {
		shmex_exchange_destroy(ex);
		return rc;
	}
	*out = ex;
	return 0;
}
