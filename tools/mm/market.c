/* Symbols, touch and balances through the client library (market.h). */
#include "market.h"

#include <stdio.h>
#include <string.h>

#include "shmex/fixed.h"

#define SX_MAX_SYMBOL_ITEMS 256

/* The demo configuration's references (shmexd --print-demo-config), for an
 * empty book with no trade yet. */
static const struct {
	const char *code;
	int64_t price;
} sx_demo_refs[] = {
	{ "BTC/USD", 6000000 },
	{ "ETH/USD", 300000 },
};

static const struct shmex_ctl_asset_item *sx_find_asset(const struct shmex_ctl_asset_item *a,
							 int n, uint32_t id)
{
	for (int i = 0; i < n; i++)
		if (a[i].asset == id)
			return &a[i];
	return NULL;
}

/* Parses one "CODE[@PRICE]" entry of @p len bytes into @p m (code, given_ref). */
static int sx_parse_entry(const char *prog, const char *s, size_t len, struct sx_market *m)
{
	const char *at = memchr(s, '@', len);
	const size_t code_len = at ? (size_t)(at - s) : len;
	if (code_len == 0 || code_len >= sizeof m->code) {
		fprintf(stderr, "%s: --symbols: bad entry '%.*s'\n", prog, (int)len, s);
		return -1;
	}
	memcpy(m->code, s, code_len);
	m->code[code_len] = '\0';
	m->given_ref = 0;
	if (at != NULL) {
		const size_t plen = len - code_len - 1;
		if (shmex_i64_parse(at + 1, plen, &m->given_ref) != 0 || m->given_ref <= 0) {
			fprintf(stderr, "%s: --symbols: bad price in '%.*s' (ticks, > 0)\n", prog,
				(int)len, s);
			return -1;
		}
	}
	return 0;
}

int sx_markets_load(struct shmex_client *c, const char *prog, const char *list,
		    struct sx_market *out, int max)
{
	static struct shmex_ctl_symbol_item syms[SX_MAX_SYMBOL_ITEMS];
	static struct shmex_ctl_asset_item assets[SX_MAX_ASSETS];
	const int ns = shmex_client_symbols(c, syms, SX_MAX_SYMBOL_ITEMS);
	const int na = ns < 0 ? ns : shmex_client_assets(c, assets, SX_MAX_ASSETS);
	if (ns < 0 || na < 0) {
		fprintf(stderr, "%s: cannot list symbols and assets: %s\n", prog,
			shmex_strerror(ns < 0 ? ns : na));
		return -1;
	}
	int n = 0;
	for (const char *p = list; *p != '\0';) {
		const char *comma = strchr(p, ',');
		const size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (n == max) {
			fprintf(stderr, "%s: --symbols: at most %d symbols\n", prog, max);
			return -1;
		}
		struct sx_market *m = &out[n];
		memset(m, 0, sizeof *m);
		if (sx_parse_entry(prog, p, len, m) != 0)
			return -1;
		const struct shmex_ctl_symbol_item *it = NULL;
		for (int i = 0; i < ns && it == NULL; i++)
			if (strncmp(syms[i].code, m->code, sizeof syms[i].code) == 0)
				it = &syms[i];
		if (it == NULL) {
			fprintf(stderr, "%s: unknown symbol '%s'\n", prog, m->code);
			return -1;
		}
		const struct shmex_ctl_asset_item *b = sx_find_asset(assets, na, it->base);
		const struct shmex_ctl_asset_item *q = sx_find_asset(assets, na, it->quote);
		if (b == NULL || q == NULL) {
			fprintf(stderr, "%s: %s: its assets are not listed\n", prog, m->code);
			return -1;
		}
		for (int i = 0; i < n; i++)
			if (out[i].id == it->symbol) {
				fprintf(stderr, "%s: --symbols: '%s' twice\n", prog, m->code);
				return -1;
			}
		m->id = it->symbol;
		m->base = it->base;
		m->quote = it->quote;
		m->base_dec = b->decimals;
		m->quote_dec = q->decimals;
		snprintf(m->base_code, sizeof m->base_code, "%.*s", (int)sizeof b->code, b->code);
		snprintf(m->quote_code, sizeof m->quote_code, "%.*s", (int)sizeof q->code, q->code);
		m->best_bid = it->best_bid;
		m->best_ask = it->best_ask;
		m->last_price = it->last_price;
		m->tick_size = it->tick_size;
		m->lot_size = it->lot_size;
		n++;
		p += len;
		if (*p == ',')
			p++;
	}
	if (n == 0) {
		fprintf(stderr, "%s: --symbols: none given\n", prog);
		return -1;
	}
	return n;
}

int sx_markets_refresh(struct shmex_client *c, struct sx_market *m, int n)
{
	static struct shmex_ctl_symbol_item syms[SX_MAX_SYMBOL_ITEMS];
	const int ns = shmex_client_symbols(c, syms, SX_MAX_SYMBOL_ITEMS);
	if (ns < 0)
		return ns;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < ns; j++)
			if (syms[j].symbol == m[i].id) {
				m[i].best_bid = syms[j].best_bid;
				m[i].best_ask = syms[j].best_ask;
				m[i].last_price = syms[j].last_price;
				break;
			}
	return 0;
}

int64_t sx_market_start_price(const struct sx_market *m)
{
	if (m->given_ref > 0)
		return m->given_ref;
	if (m->last_price > 0)
		return m->last_price;
	if (m->best_bid > 0 && m->best_ask > 0)
		return m->best_bid + (m->best_ask - m->best_bid) / 2;
	if (m->best_bid > 0)
		return m->best_bid;
	if (m->best_ask > 0)
		return m->best_ask;
	for (size_t i = 0; i < sizeof sx_demo_refs / sizeof sx_demo_refs[0]; i++)
		if (strcmp(sx_demo_refs[i].code, m->code) == 0)
			return sx_demo_refs[i].price;
	return 0;
}

int sx_balances_get(struct shmex_client *c, uint32_t user, struct sx_balances *out)
{
	const int n = shmex_client_balances(c, user, out->b, SX_MAX_ASSETS);
	out->n = n < 0 ? 0 : n;
	return n < 0 ? n : 0;
}

int64_t sx_balances_total(const struct sx_balances *s, uint32_t asset)
{
	for (int i = 0; i < s->n; i++)
		if (s->b[i].asset == asset)
			return s->b[i].available + s->b[i].locked;
	return 0;
}
