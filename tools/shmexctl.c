/*
 * shmexctl: the operator's command line for a running shmexd, over the
 * control socket (libshmex). Queries print a table, or with --json one
 * JSON object on stdout; amounts are exact decimals in asset units (never
 * through a double), prices in ticks and quantities in lots.
 *
 * Exit status: 0 done; 1 usage (bad arguments); 2 the daemon could not be
 * reached or broke the protocol; 3 the daemon refused (an error status).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmex/client.h"
#include "shmex/fixed.h"

enum { SX_EXIT_OK = 0, SX_EXIT_USAGE = 1, SX_EXIT_UNREACHABLE = 2, SX_EXIT_REFUSED = 3 };

#define SX_MAX_ARGS 16

/* One run: the session, the output mode and what was looked up once. */
struct sx_ctx {
	struct shmex_client *c;
	int json;
	struct shmex_ctl_asset_item *assets;
	int nassets;
	struct shmex_ctl_symbol_item *symbols;
	int nsymbols;
	int nopts; /* the command's options: --name value */
	const char *opt_name[SX_MAX_ARGS];
	const char *opt_val[SX_MAX_ARGS];
};

struct sx_command {
	const char *name;
	const char *args;
	const char *help;
	int min, max;     /* positional arguments */
	const char *opts; /* the options it takes, comma-separated names */
	int (*run)(struct sx_ctx *x, int argc, char **argv);
};

/* ---- errors ------------------------------------------------------------- */

static int sx_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sx_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("shmexctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (shmexctl --help)\n", stderr);
	return SX_EXIT_USAGE;
}

/* Whether @p rc means the daemon is gone or broke the protocol. */
static int sx_unreachable(int rc)
{
	return rc == SHMEX_E_PROTOCOL || rc == -ECONNRESET || rc == -EPIPE ||
	       rc == -ETIMEDOUT || rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENOTCONN;
}

/* Prints "shmexctl: WHAT: reason: detail" and returns the exit status. */
static int sx_fail(int rc, const char *what)
{
	const char *detail = shmex_client_last_error();
	const char *reason = shmex_strerror(rc);
	fprintf(stderr, "shmexctl: %s: %s", what, reason);
	if (detail[0] != '\0' && strcmp(detail, reason) != 0)
		fprintf(stderr, " (%s)", detail);
	fputc('\n', stderr);
	return sx_unreachable(rc) ? SX_EXIT_UNREACHABLE : SX_EXIT_REFUSED;
}

/* ---- parsing -------------------------------------------------------------- */

static int sx_parse_u64(const char *s, uint64_t *out)
{
	return shmex_u64_parse(s, strlen(s), out);
}

static int sx_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;
	if (sx_parse_u64(s, &v) != 0 || v > UINT32_MAX)
		return SHMEX_E_PARSE;
	*out = (uint32_t)v;
	return 0;
}

static int sx_parse_i64(const char *s, int64_t *out)
{
	return shmex_i64_parse(s, strlen(s), out);
}

/* ---- JSON and tables ------------------------------------------------------- */

static void sx_json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* An amount of minor units as an exact decimal of @p decimals places. */
static const char *sx_dec(int64_t v, uint32_t decimals, char buf[SHMEX_DEC_BUFSZ])
{
	if (shmex_dec_format(v, decimals, buf, SHMEX_DEC_BUFSZ) < 0)
		snprintf(buf, SHMEX_DEC_BUFSZ, "%" PRId64, v);
	return buf;
}

/* A price in ticks, "-" for none (0). */
static const char *sx_px(int64_t v, char buf[SHMEX_DEC_BUFSZ])
{
	if (v == 0)
		return "-";
	snprintf(buf, SHMEX_DEC_BUFSZ, "%" PRId64, v);
	return buf;
}

static const char *sx_name(const char *const *names, size_t n, unsigned v)
{
	return v < n && names[v] != NULL ? names[v] : "?";
}

#define SX_NAME(table, v) sx_name(table, sizeof table / sizeof table[0], (v))

static const char *const sx_sides[] = { "buy", "sell" };
static const char *const sx_types[] = { "limit", "market", "stop-limit", "stop-market",
					 "take-profit-limit", "take-profit-market" };
static const char *const sx_tifs[] = { "gtc", "ioc", "fok", "gtd" };
static const char *const sx_statuses[] = { "new", "partially-filled", "filled", "cancelled",
					    "rejected", "expired" };
static const char *const sx_symbol_statuses[] = { "open", "halted" };
static const char *const sx_wait_policies[] = { "spin", "yield", "block" };

/* ---- lookups ----------------------------------------------------------------- */

/* Lists of unknown length: asks with a growing array until it was big enough. */
typedef int (*sx_list_fn)(struct sx_ctx *x, void *out, uint32_t cap, const void *arg);

static int sx_list_grow(struct sx_ctx *x, size_t item, sx_list_fn fn, const void *arg,
			void **out)
{
	for (uint32_t cap = 256;; cap *= 4) {
		void *p = calloc(cap, item);
		if (p == NULL)
			return SHMEX_E_NOMEM;
		const int n = fn(x, p, cap, arg);
		if (n >= 0 && (uint32_t)n == cap && cap < (1u << 22)) {
			free(p);
			continue;
		}
		if (n < 0)
			free(p);
		else
			*out = p;
		return n;
	}
}

static int sx_list_assets(struct sx_ctx *x, void *out, uint32_t cap, const void *arg)
{
	(void)arg;
	return shmex_client_assets(x->c, out, cap);
}

static int sx_list_symbols(struct sx_ctx *x, void *out, uint32_t cap, const void *arg)
{
	(void)arg;
	return shmex_client_symbols(x->c, out, cap);
}

static int sx_load_assets(struct sx_ctx *x)
{
	if (x->assets != NULL)
		return 0;
	void *p = NULL;
	const int n = sx_list_grow(x, sizeof *x->assets, sx_list_assets, NULL, &p);
	if (n < 0)
		return n;
	x->assets = p;
	x->nassets = n;
	return 0;
}

static int sx_load_symbols(struct sx_ctx *x)
{
	if (x->symbols != NULL)
		return 0;
	void *p = NULL;
	const int n = sx_list_grow(x, sizeof *x->symbols, sx_list_symbols, NULL, &p);
	if (n < 0)
		return n;
	x->symbols = p;
	x->nsymbols = n;
	return 0;
}

/* An asset by code or id (NULL: unknown). */
static const struct shmex_ctl_asset_item *sx_asset(struct sx_ctx *x, const char *arg)
{
	uint32_t id = 0;
	const int by_id = sx_parse_u32(arg, &id) == 0;
	for (int i = 0; i < x->nassets; i++)
		if (by_id ? x->assets[i].asset == id : strcmp(x->assets[i].code, arg) == 0)
			return &x->assets[i];
	return NULL;
}

static const char *sx_asset_code(struct sx_ctx *x, uint32_t id, char buf[16])
{
	for (int i = 0; i < x->nassets; i++)
		if (x->assets[i].asset == id)
			return x->assets[i].code;
	snprintf(buf, 16, "#%u", id);
	return buf;
}

static const char *sx_symbol_code(struct sx_ctx *x, uint32_t id, char buf[16])
{
	for (int i = 0; i < x->nsymbols; i++)
		if (x->symbols[i].symbol == id)
			return x->symbols[i].code;
	snprintf(buf, 16, "#%u", id);
	return buf;
}

/* Resolves ASSET (code or id) to its entry; prints why not. */
static int sx_resolve_asset(struct sx_ctx *x, const char *arg,
			    const struct shmex_ctl_asset_item **out)
{
	const int rc = sx_load_assets(x);
	if (rc != 0)
		return sx_fail(rc, "listing assets");
	*out = sx_asset(x, arg);
	if (*out == NULL) {
		fprintf(stderr, "shmexctl: unknown asset '%s'\n", arg);
		return SX_EXIT_REFUSED;
	}
	return 0;
}

/* Resolves SYMBOL (code or id) to its id; prints why not. */
static int sx_resolve_symbol(struct sx_ctx *x, const char *arg, uint32_t *out)
{
	const int rc = sx_load_symbols(x);
	if (rc != 0)
		return sx_fail(rc, "listing symbols");
	uint32_t id = 0;
	const int by_id = sx_parse_u32(arg, &id) == 0;
	for (int i = 0; i < x->nsymbols; i++)
		if (by_id ? x->symbols[i].symbol == id : strcmp(x->symbols[i].code, arg) == 0) {
			*out = x->symbols[i].symbol;
			return 0;
		}
	fprintf(stderr, "shmexctl: unknown symbol '%s'\n", arg);
	return SX_EXIT_REFUSED;
}

static int sx_arg_u32(const char *arg, const char *what, uint32_t *out)
{
	if (sx_parse_u32(arg, out) != 0)
		return sx_usage_error("%s must be a number: '%s'", what, arg);
	return 0;
}

/* ---- status, symbols, assets ---------------------------------------------------- */


static void sx_engine_json(const struct shmex_ctl_status_info *s)
{
	printf("\"engine\":{\"pid\":%u,\"uptime_ns\":%" PRId64 ",\"now\":%" PRId64
	       ",\"seq\":%" PRIu64 ",\"sessions\":%u,\"max_sessions\":%u,\"gateways\":%u"
	       ",\"matchers\":%u,\"assets\":%u,\"symbols\":%u,\"users\":%u,\"requests\":%" PRIu64
	       ",\"reports\":%" PRIu64 ",\"wait_policy\":",
	       s->pid, s->uptime_ns, s->now, s->seq, s->sessions, s->max_sessions, s->gateways,
	       s->matchers, s->assets, s->symbols, s->users, s->requests, s->reports);
	sx_json_str(SX_NAME(sx_wait_policies, s->wait_policy));
	putchar('}');
}

static void sx_engine_text(const struct shmex_ctl_status_info *s)
{
	const int64_t up = s->uptime_ns / 1000000000;
	printf("shmexd pid %u, up %" PRId64 "h%02" PRId64 "m%02" PRId64 "s, wait policy %s\n",
	       s->pid, up / 3600, up / 60 % 60, up % 60, SX_NAME(sx_wait_policies, s->wait_policy));
	printf("  event seq %" PRIu64 ", engine clock %" PRId64 " ns\n", s->seq, s->now);
	printf("  sessions %u/%u, gateways %u, matchers %u\n", s->sessions, s->max_sessions,
	       s->gateways, s->matchers);
	printf("  assets %u, symbols %u, users %u\n", s->assets, s->symbols, s->users);
	printf("  requests %" PRIu64 ", reports %" PRIu64 "\n", s->requests, s->reports);
}

static void sx_sessions_json(const struct shmex_ctl_session_item *ss, int n)
{
	printf("\"sessions\":[");
	for (int i = 0; i < n; i++) {
		const struct shmex_ctl_session_item *s = &ss[i];
		printf("%s{\"session\":%u,\"uid\":%u,\"pid\":%u,\"gateway\":%u,\"flags\":%u"
		       ",\"requests\":%" PRIu64 ",\"reports\":%" PRIu64 ",\"rejects\":%" PRIu64
		       ",\"started_ns\":%" PRId64 ",\"name\":",
		       i ? "," : "", s->session_id, s->uid, s->pid, s->gateway, s->flags,
		       s->requests, s->reports, s->rejects, s->started_ns);
		sx_json_str(s->name);
		putchar('}');
	}
	putchar(']');
}

static void sx_sessions_text(const struct shmex_ctl_session_item *ss, int n)
{
	printf("\nSESSIONS\n%8s %8s %8s %3s %5s %12s %12s %10s %12s  %s\n", "ID", "UID", "PID",
	       "GW", "FLAGS", "REQUESTS", "REPORTS", "REJECTS", "STARTED_S", "NAME");
	for (int i = 0; i < n; i++) {
		const struct shmex_ctl_session_item *s = &ss[i];
		char started[SHMEX_DEC_BUFSZ];
		printf("%8u %8u %8u %3u %5u %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12s  %s\n",
		       s->session_id, s->uid, s->pid, s->gateway, s->flags, s->requests, s->reports,
		       s->rejects, sx_dec(s->started_ns / 1000000, 3, started), s->name);
	}
}

static void sx_symbols_json(struct sx_ctx *x)
{
	printf("\"symbols\":[");
	for (int i = 0; i < x->nsymbols; i++) {
		const struct shmex_ctl_symbol_item *s = &x->symbols[i];
		char b[16], q[16];
		printf("%s{\"symbol\":%u,\"code\":", i ? "," : "", s->symbol);
		sx_json_str(s->code);
		printf(",\"base\":");
		sx_json_str(sx_asset_code(x, s->base, b));
		printf(",\"quote\":");
		sx_json_str(sx_asset_code(x, s->quote, q));
		printf(",\"status\":");
		sx_json_str(SX_NAME(sx_symbol_statuses, s->status));
		printf(",\"best_bid\":%" PRId64 ",\"best_ask\":%" PRId64 ",\"last_price\":%" PRId64
		       ",\"bid_levels\":%u,\"ask_levels\":%u,\"orders\":%u,\"matcher\":%u}",
		       s->best_bid, s->best_ask, s->last_price, s->bid_levels, s->ask_levels,
		       s->orders, s->matcher);
	}
	putchar(']');
}

static void sx_symbols_text(struct sx_ctx *x)
{
	printf("%6s %-16s %-8s %-8s %-6s %12s %12s %12s %6s %6s %8s\n", "ID", "CODE", "BASE",
	       "QUOTE", "STATUS", "BID", "ASK", "LAST", "BIDLV", "ASKLV", "ORDERS");
	for (int i = 0; i < x->nsymbols; i++) {
		const struct shmex_ctl_symbol_item *s = &x->symbols[i];
		char b[16], q[16], pb[SHMEX_DEC_BUFSZ], pa[SHMEX_DEC_BUFSZ], pl[SHMEX_DEC_BUFSZ];
		printf("%6u %-16s %-8s %-8s %-6s %12s %12s %12s %6u %6u %8u\n", s->symbol, s->code,
		       sx_asset_code(x, s->base, b), sx_asset_code(x, s->quote, q),
		       SX_NAME(sx_symbol_statuses, s->status), sx_px(s->best_bid, pb),
		       sx_px(s->best_ask, pa), sx_px(s->last_price, pl), s->bid_levels,
		       s->ask_levels, s->orders);
	}
}

static int sx_list_sessions(struct sx_ctx *x, void *out, uint32_t cap, const void *arg)
{
	/* arg: where the status goes (written by every call; the last wins) */
	struct shmex_ctl_status_info *st = (struct shmex_ctl_status_info *)(uintptr_t)arg;
	return shmex_client_status(x->c, st, out, cap);
}

static int sx_cmd_status(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct shmex_ctl_status_info st;
	void *p = NULL;
	memset(&st, 0, sizeof st);
	const int n = sx_list_grow(x, sizeof(struct shmex_ctl_session_item), sx_list_sessions,
				   &st, &p);
	if (n < 0)
		return sx_fail(n, "status");
	int rc = sx_load_assets(x);
	if (rc == 0)
		rc = sx_load_symbols(x);
	if (rc != 0) {
		free(p);
		return sx_fail(rc, "status");
	}
	if (x->json) {
		putchar('{');
		sx_engine_json(&st);
		putchar(',');
		sx_sessions_json(p, n);
		putchar(',');
		sx_symbols_json(x);
		printf("}\n");
	} else {
		sx_engine_text(&st);
		sx_sessions_text(p, n);
		printf("\nSYMBOLS (prices in ticks)\n");
		sx_symbols_text(x);
	}
	free(p);
	return 0;
}

static int sx_cmd_symbols(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int rc = sx_load_assets(x);
	if (rc == 0)
		rc = sx_load_symbols(x);
	if (rc != 0)
		return sx_fail(rc, "symbols");
	if (x->json) {
		putchar('{');
		sx_symbols_json(x);
		printf("}\n");
	} else {
		sx_symbols_text(x);
	}
	return 0;
}

static int sx_cmd_assets(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const int rc = sx_load_assets(x);
	if (rc != 0)
		return sx_fail(rc, "assets");
	if (x->json)
		printf("{\"assets\":[");
	else
		printf("%6s %-16s %8s %28s\n", "ID", "CODE", "DECIMALS", "SUPPLY");
	for (int i = 0; i < x->nassets; i++) {
		const struct shmex_ctl_asset_item *a = &x->assets[i];
		char sup[SHMEX_DEC_BUFSZ];
		sx_dec(a->supply, a->decimals, sup);
		if (x->json) {
			printf("%s{\"asset\":%u,\"code\":", i ? "," : "", a->asset);
			sx_json_str(a->code);
			printf(",\"decimals\":%u,\"supply\":\"%s\",\"supply_minor\":%" PRId64 "}",
			       a->decimals, sup, a->supply);
		} else {
			printf("%6u %-16s %8u %28s\n", a->asset, a->code, a->decimals, sup);
		}
	}
	if (x->json)
		printf("]}\n");
	return 0;
}

/* ---- balances, orders, book ----------------------------------------------------- */

static int sx_list_balances(struct sx_ctx *x, void *out, uint32_t cap, const void *arg)
{
	return shmex_client_balances(x->c, *(const uint32_t *)arg, out, cap);
}

static void sx_balance_row(struct sx_ctx *x, const struct shmex_client_balance *b, int first)
{
	char av[SHMEX_DEC_BUFSZ], lk[SHMEX_DEC_BUFSZ];
	sx_dec(b->available, b->decimals, av);
	sx_dec(b->locked, b->decimals, lk);
	if (!x->json) {
		printf("%6u %-16s %28s %28s\n", b->asset, b->code, av, lk);
		return;
	}
	printf("%s{\"asset\":%u,\"code\":", first ? "" : ",", b->asset);
	sx_json_str(b->code);
	printf(",\"decimals\":%u,\"available\":\"%s\",\"locked\":\"%s\",\"available_minor\":%" PRId64
	       ",\"locked_minor\":%" PRId64 "}",
	       b->decimals, av, lk, b->available, b->locked);
}

static int sx_cmd_balances(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	uint32_t user = 0;
	if (sx_arg_u32(argv[0], "USER", &user) != 0)
		return SX_EXIT_USAGE;
	void *p = NULL;
	const int n = sx_list_grow(x, sizeof(struct shmex_client_balance), sx_list_balances, &user,
				   &p);
	if (n < 0)
		return sx_fail(n, "balances");
	const struct shmex_client_balance *b = p;
	if (x->json)
		printf("{\"user\":%u,\"balances\":[", user);
	else
		printf("%6s %-16s %28s %28s\n", "ASSET", "CODE", "AVAILABLE", "LOCKED");
	for (int i = 0; i < n; i++)
		sx_balance_row(x, &b[i], i == 0);
	if (x->json)
		printf("]}\n");
	free(p);
	return 0;
}

static void sx_order_json(struct sx_ctx *x, const struct shmex_order_state *o)
{
	char sym[16], notional[SHMEX_I128_BUFSZ];
	if (shmex_i128_format(o->filled_notional, notional, sizeof notional) < 0)
		snprintf(notional, sizeof notional, "?");
	printf("{\"order_id\":%" PRIu64 ",\"client_id\":%" PRIu64 ",\"user\":%u,\"symbol\":",
	       o->order_id, o->client_id, o->user);
	sx_json_str(sx_symbol_code(x, o->symbol, sym));
	printf(",\"symbol_id\":%u,\"side\":\"%s\",\"type\":\"%s\",\"tif\":\"%s\",\"stp\":%u"
	       ",\"status\":\"%s\",\"live\":%s,\"parked\":%s,\"reason\":%u,\"trades\":%u",
	       o->symbol, SX_NAME(sx_sides, o->side), SX_NAME(sx_types, o->type),
	       SX_NAME(sx_tifs, o->tif), o->stp, SX_NAME(sx_statuses, o->status),
	       o->live ? "true" : "false", o->parked ? "true" : "false", o->reason, o->trades);
	printf(",\"price\":%" PRId64 ",\"trigger_price\":%" PRId64 ",\"display_qty\":%" PRId64
	       ",\"expire_at\":%" PRId64 ",\"quote_budget\":%" PRId64 ",\"orig_qty\":%" PRId64
	       ",\"qty\":%" PRId64 ",\"filled\":%" PRId64 ",\"remaining\":%" PRId64
	       ",\"cancelled\":%" PRId64 ",\"reserved\":%" PRId64 ",\"quote_settled\":%" PRId64
	       ",\"fees\":%" PRId64 ",\"filled_notional\":\"%s\",\"created\":%" PRId64
	       ",\"updated\":%" PRId64 "}",
	       o->price, o->trigger_price, o->display_qty, o->expire_at, o->quote_budget,
	       o->orig_qty, o->qty, o->filled, o->remaining, o->cancelled, o->reserved,
	       o->quote_settled, o->fees, notional, o->created, o->updated);
}

static void sx_order_row(struct sx_ctx *x, const struct shmex_order_state *o)
{
	char sym[16], trig[SHMEX_DEC_BUFSZ];
	printf("%10" PRIu64 " %10" PRIu64 " %-12s %-4s %-12s %-3s %-16s %12" PRId64 " %10" PRId64
	       " %10" PRId64 " %10" PRId64 " %12s %14" PRId64 "\n",
	       o->order_id, o->client_id, sx_symbol_code(x, o->symbol, sym),
	       SX_NAME(sx_sides, o->side), SX_NAME(sx_types, o->type), SX_NAME(sx_tifs, o->tif),
	       SX_NAME(sx_statuses, o->status), o->price, o->qty, o->filled, o->remaining,
	       sx_px(o->trigger_price, trig), o->reserved);
}

struct sx_orders_arg {
	uint32_t user, symbol, total;
};

static int sx_list_orders(struct sx_ctx *x, void *out, uint32_t cap, const void *arg)
{
	struct sx_orders_arg *a = (struct sx_orders_arg *)(uintptr_t)arg;
	return shmex_client_open_orders(x->c, a->user, a->symbol, out, cap, &a->total);
}

static int sx_cmd_orders(struct sx_ctx *x, int argc, char **argv)
{
	struct sx_orders_arg a = { 0, SHMEX_ALL_SYMBOLS, 0 };
	if (sx_arg_u32(argv[0], "USER", &a.user) != 0)
		return SX_EXIT_USAGE;
	int rc = argc > 1 ? sx_resolve_symbol(x, argv[1], &a.symbol) : sx_load_symbols(x);
	if (rc != 0)
		return argc > 1 ? rc : sx_fail(rc, "listing symbols");
	void *p = NULL;
	const int n = sx_list_grow(x, sizeof(struct shmex_order_state), sx_list_orders, &a, &p);
	if (n < 0)
		return sx_fail(n, "orders");
	const struct shmex_order_state *o = p;
	if (x->json) {
		printf("{\"user\":%u,\"total\":%u,\"orders\":[", a.user, a.total);
		for (int i = 0; i < n; i++) {
			if (i)
				putchar(',');
			sx_order_json(x, &o[i]);
		}
		printf("]}\n");
	} else {
		printf("%10s %10s %-12s %-4s %-12s %-3s %-16s %12s %10s %10s %10s %12s %14s\n", "ID",
		       "CLIENT_ID", "SYMBOL", "SIDE", "TYPE", "TIF", "STATUS", "PRICE", "QTY",
		       "FILLED", "REMAINING", "TRIGGER", "RESERVED");
		for (int i = 0; i < n; i++)
			sx_order_row(x, &o[i]);
		if (a.total > (uint32_t)n)
			printf("(%d of %u shown)\n", n, a.total);
	}
	free(p);
	return 0;
}

static int sx_cmd_order(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	uint64_t id = 0;
	if (sx_parse_u64(argv[0], &id) != 0)
		return sx_usage_error("ID must be a number: '%s'", argv[0]);
	struct shmex_order_state o;
	int rc = shmex_client_order(x->c, id, &o);
	if (rc != 0)
		return sx_fail(rc, "order");
	rc = sx_load_symbols(x);
	if (rc != 0)
		return sx_fail(rc, "listing symbols");
	if (x->json) {
		sx_order_json(x, &o);
		putchar('\n');
		return 0;
	}
	char sym[16], notional[SHMEX_I128_BUFSZ];
	if (shmex_i128_format(o.filled_notional, notional, sizeof notional) < 0)
		snprintf(notional, sizeof notional, "?");
	printf("order %" PRIu64 " (client id %" PRIu64 ") of user %u on %s\n", o.order_id,
	       o.client_id, o.user, sx_symbol_code(x, o.symbol, sym));
	printf("  %s %s %s, stp %u, status %s%s%s, reason %u\n", SX_NAME(sx_sides, o.side),
	       SX_NAME(sx_types, o.type), SX_NAME(sx_tifs, o.tif), o.stp,
	       SX_NAME(sx_statuses, o.status), o.live ? ", live" : "", o.parked ? ", parked" : "",
	       o.reason);
	printf("  price %" PRId64 ", trigger %" PRId64 ", display %" PRId64 ", expire at %" PRId64
	       ", quote budget %" PRId64 "\n",
	       o.price, o.trigger_price, o.display_qty, o.expire_at, o.quote_budget);
	printf("  qty %" PRId64 " (at entry %" PRId64 "): filled %" PRId64 ", remaining %" PRId64
	       ", cancelled %" PRId64 "\n",
	       o.qty, o.orig_qty, o.filled, o.remaining, o.cancelled);
	printf("  trades %u, filled notional %s tick-lots, quote settled %" PRId64 ", fees %" PRId64
	       ", reserved %" PRId64 "\n",
	       o.trades, notional, o.quote_settled, o.fees, o.reserved);
	printf("  created %" PRId64 ", updated %" PRId64 "\n", o.created, o.updated);
	return 0;
}

static void sx_book_side_json(const struct shmex_ctl_level_item *lv, int n, int side)
{
	int first = 1;
	for (int i = 0; i < n; i++) {
		if (lv[i].side != side)
			continue;
		printf("%s{\"price\":%" PRId64 ",\"qty\":%" PRId64 ",\"orders\":%u}",
		       first ? "" : ",", lv[i].price, lv[i].qty, lv[i].orders);
		first = 0;
	}
}

static void sx_book_text(const char *code, const struct shmex_ctl_level_item *lv, int n)
{
	int nb = 0;
	while (nb < n && lv[nb].side == SHMEX_BUY)
		nb++;
	const int na = n - nb;
	printf("%s (prices in ticks, quantities in lots)\n", code);
	printf("%8s %14s %12s | %-12s %14s %8s\n", "ORDERS", "QTY", "BID", "ASK", "QTY", "ORDERS");
	for (int i = 0; i < nb || i < na; i++) {
		if (i < nb)
			printf("%8u %14" PRId64 " %12" PRId64 " | ", lv[i].orders, lv[i].qty,
			       lv[i].price);
		else
			printf("%8s %14s %12s | ", "", "", "");
		if (i < na)
			printf("%-12" PRId64 " %14" PRId64 " %8u", lv[nb + i].price, lv[nb + i].qty,
			       lv[nb + i].orders);
		putchar('\n');
	}
}

struct sx_book_arg {
	uint32_t symbol, depth;
};

static int sx_list_book(struct sx_ctx *x, void *out, uint32_t cap, const void *arg)
{
	const struct sx_book_arg *a = arg;
	return shmex_client_book(x->c, a->symbol, a->depth, out, cap);
}

static int sx_cmd_book(struct sx_ctx *x, int argc, char **argv)
{
	struct sx_book_arg a = { 0, 0 };
	if (argc > 1 && sx_arg_u32(argv[1], "DEPTH", &a.depth) != 0)
		return SX_EXIT_USAGE;
	int rc = sx_resolve_symbol(x, argv[0], &a.symbol);
	if (rc != 0)
		return rc;
	void *p = NULL;
	const int n = sx_list_grow(x, sizeof(struct shmex_ctl_level_item), sx_list_book, &a, &p);
	if (n < 0)
		return sx_fail(n, "book");
	char code[16];
	const char *name = sx_symbol_code(x, a.symbol, code);
	if (x->json) {
		printf("{\"symbol\":");
		sx_json_str(name);
		printf(",\"bids\":[");
		sx_book_side_json(p, n, SHMEX_BUY);
		printf("],\"asks\":[");
		sx_book_side_json(p, n, SHMEX_SELL);
		printf("]}\n");
	} else {
		sx_book_text(name, p, n);
	}
	free(p);
	return 0;
}

/* ---- administration ------------------------------------------------------------ */

/* The value of command option --@p name, or NULL. */
static const char *sx_opt(const struct sx_ctx *x, const char *name)
{
	for (int i = 0; i < x->nopts; i++)
		if (strcmp(x->opt_name[i], name) == 0)
			return x->opt_val[i];
	return NULL;
}

/* Parses --@p name as an int64 into *@p out when given: 0, or the exit status. */
static int sx_opt_i64(const struct sx_ctx *x, const char *name, int64_t *out)
{
	const char *v = sx_opt(x, name);
	if (v != NULL && sx_parse_i64(v, out) != 0)
		return sx_usage_error("--%s must be an integer: '%s'", name, v);
	return 0;
}

static int sx_opt_u32(const struct sx_ctx *x, const char *name, uint32_t *out)
{
	const char *v = sx_opt(x, name);
	if (v != NULL && sx_parse_u32(v, out) != 0)
		return sx_usage_error("--%s must be a number: '%s'", name, v);
	return 0;
}

static int sx_opt_i32(const struct sx_ctx *x, const char *name, int32_t *out)
{
	int64_t v = *out;
	int rc = sx_opt_i64(x, name, &v);
	if (rc == 0 && (v < INT32_MIN || v > INT32_MAX))
		rc = sx_usage_error("--%s out of range", name);
	if (rc == 0)
		*out = (int32_t)v;
	return rc;
}

static int sx_done_id(const struct sx_ctx *x, const char *what, const char *key, uint64_t id)
{
	if (x->json)
		printf("{\"%s\":%" PRIu64 "}\n", key, id);
	else
		printf("%s %" PRIu64 "\n", what, id);
	return 0;
}

static int sx_cmd_funds(struct sx_ctx *x, char **argv, int withdraw)
{
	uint32_t user = 0;
	uint64_t tag = 0;
	const struct shmex_ctl_asset_item *a;
	if (sx_arg_u32(argv[0], "USER", &user) != 0)
		return SX_EXIT_USAGE;
	const char *t = sx_opt(x, "tag");
	if (t != NULL && sx_parse_u64(t, &tag) != 0)
		return sx_usage_error("--tag must be a number: '%s'", t);
	int rc = sx_resolve_asset(x, argv[1], &a);
	if (rc != 0)
		return rc;
	int64_t amount;
	rc = shmex_dec_parse(argv[2], strlen(argv[2]), a->decimals, &amount);
	if (rc != 0)
		return sx_usage_error("AMOUNT '%s' is not a decimal of %s (%u places): %s", argv[2],
				      a->code, a->decimals, shmex_strerror(rc));
	uint64_t seq = 0;
	rc = withdraw ? shmex_client_withdraw(x->c, user, a->asset, amount, tag, &seq)
		      : shmex_client_deposit(x->c, user, a->asset, amount, tag, &seq);
	if (rc != 0)
		return sx_fail(rc, withdraw ? "withdraw" : "deposit");
	char dec[SHMEX_DEC_BUFSZ];
	sx_dec(amount, a->decimals, dec);
	if (x->json)
		printf("{\"user\":%u,\"asset\":%u,\"amount\":\"%s\",\"amount_minor\":%" PRId64
		       ",\"seq\":%" PRIu64 "}\n",
		       user, a->asset, dec, amount, seq);
	else
		printf("%s %s %s %s user %u: event seq %" PRIu64 "\n",
		       withdraw ? "withdrew" : "deposited", dec, a->code, withdraw ? "from" : "to",
		       user, seq);
	return 0;
}

static int sx_cmd_deposit(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	return sx_cmd_funds(x, argv, 0);
}

static int sx_cmd_withdraw(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	return sx_cmd_funds(x, argv, 1);
}

static int sx_set_status(struct sx_ctx *x, const char *arg, uint32_t status)
{
	uint32_t sym = 0;
	int rc = sx_resolve_symbol(x, arg, &sym);
	if (rc != 0)
		return rc;
	rc = shmex_client_set_status(x->c, sym, status);
	if (rc != 0)
		return sx_fail(rc, status == SHMEX_SYMBOL_HALTED ? "halt" : "resume");
	char code[16];
	if (x->json)
		printf("{\"symbol\":%u,\"status\":\"%s\"}\n", sym,
		       SX_NAME(sx_symbol_statuses, status));
	else
		printf("%s %s\n", sx_symbol_code(x, sym, code), SX_NAME(sx_symbol_statuses, status));
	return 0;
}

static int sx_cmd_halt(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	return sx_set_status(x, argv[0], SHMEX_SYMBOL_HALTED);
}

static int sx_cmd_resume(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	return sx_set_status(x, argv[0], SHMEX_SYMBOL_OPEN);
}

static int sx_cmd_set_reference(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	uint32_t sym = 0;
	int64_t price = 0;
	if (sx_parse_i64(argv[1], &price) != 0)
		return sx_usage_error("PRICE must be an integer (ticks): '%s'", argv[1]);
	int rc = sx_resolve_symbol(x, argv[0], &sym);
	if (rc != 0)
		return rc;
	rc = shmex_client_set_reference(x->c, sym, price);
	if (rc != 0)
		return sx_fail(rc, "set-reference");
	return sx_done_id(x, "reference price set to", "reference_price", (uint64_t)price);
}

static int sx_cmd_mass_cancel(struct sx_ctx *x, int argc, char **argv)
{
	uint32_t user = 0, sym = SHMEX_ALL_SYMBOLS, count = 0;
	if (sx_arg_u32(argv[0], "USER", &user) != 0)
		return SX_EXIT_USAGE;
	int rc = argc > 1 ? sx_resolve_symbol(x, argv[1], &sym) : 0;
	if (rc != 0)
		return rc;
	rc = shmex_client_admin_mass_cancel(x->c, user, sym, &count);
	if (rc != 0)
		return sx_fail(rc, "mass-cancel");
	return sx_done_id(x, "orders cancelled:", "cancelled", count);
}

static int sx_cmd_add_asset(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct shmex_asset_params p;
	memset(&p, 0, sizeof p);
	if (strlen(argv[0]) >= sizeof p.code)
		return sx_usage_error("CODE is longer than %zu characters", sizeof p.code - 1);
	memcpy(p.code, argv[0], strlen(argv[0]));
	if (sx_arg_u32(argv[1], "DECIMALS", &p.decimals) != 0)
		return SX_EXIT_USAGE;
	uint32_t id = 0;
	const int rc = shmex_client_add_asset(x->c, &p, &id);
	if (rc != 0)
		return sx_fail(rc, "add-asset");
	return sx_done_id(x, "asset", "asset", id);
}

/* The optional numeric options of add-symbol. */
static int sx_symbol_options(const struct sx_ctx *x, struct shmex_symbol_params *p)
{
	uint32_t status = p->status;
	int rc = 0;
	rc = rc ? rc : sx_opt_i64(x, "tick", &p->tick_size);
	rc = rc ? rc : sx_opt_i64(x, "lot", &p->lot_size);
	rc = rc ? rc : sx_opt_i64(x, "min-qty", &p->min_qty);
	rc = rc ? rc : sx_opt_i64(x, "max-qty", &p->max_qty);
	rc = rc ? rc : sx_opt_i64(x, "max-notional", &p->max_notional);
	rc = rc ? rc : sx_opt_i64(x, "ref-price", &p->ref_price);
	rc = rc ? rc : sx_opt_u32(x, "band-ppm", &p->band_ppm);
	rc = rc ? rc : sx_opt_i32(x, "maker-fee", &p->maker_fee_ppm);
	rc = rc ? rc : sx_opt_i32(x, "taker-fee", &p->taker_fee_ppm);
	rc = rc ? rc : sx_opt_u32(x, "book-orders", &p->book_orders);
	rc = rc ? rc : sx_opt_u32(x, "max-matches", &p->max_matches);
	rc = rc ? rc : sx_opt_i64(x, "min-peak", &p->min_peak);
	rc = rc ? rc : sx_opt_u32(x, "max-iceberg-parts", &p->max_iceberg_parts);
	rc = rc ? rc : sx_opt_u32(x, "status", &status);
	if (rc == 0 && status > UINT8_MAX)
		rc = sx_usage_error("--status out of range");
	p->status = (uint8_t)status;
	if (rc == 0 && (sx_opt(x, "tick") == NULL || sx_opt(x, "lot") == NULL))
		rc = sx_usage_error("add-symbol needs --tick and --lot");
	return rc;
}

static int sx_cmd_add_symbol(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	struct shmex_symbol_params p;
	const struct shmex_ctl_asset_item *base, *quote;
	memset(&p, 0, sizeof p);
	if (strlen(argv[0]) >= sizeof p.code)
		return sx_usage_error("CODE is longer than %zu characters", sizeof p.code - 1);
	memcpy(p.code, argv[0], strlen(argv[0]));
	int rc = sx_symbol_options(x, &p);
	if (rc == 0)
		rc = sx_resolve_asset(x, argv[1], &base);
	if (rc == 0)
		rc = sx_resolve_asset(x, argv[2], &quote);
	if (rc != 0)
		return rc;
	p.base = base->asset;
	p.quote = quote->asset;
	uint32_t id = 0;
	rc = shmex_client_add_symbol(x->c, &p, &id);
	if (rc != 0)
		return sx_fail(rc, "add-symbol");
	return sx_done_id(x, "symbol", "symbol", id);
}

static int sx_cmd_add_user(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct shmex_user_params p;
	memset(&p, 0, sizeof p);
	int rc = sx_opt_u32(x, "max-open-orders", &p.max_open_orders);
	rc = rc ? rc : sx_opt_u32(x, "rate", &p.rate_per_sec);
	rc = rc ? rc : sx_opt_u32(x, "burst", &p.rate_burst);
	if (rc != 0)
		return rc;
	uint32_t id = 0;
	rc = shmex_client_add_user(x->c, &p, &id);
	if (rc != 0)
		return sx_fail(rc, "add-user");
	return sx_done_id(x, "user", "user", id);
}

/* "trader", "admin", "trader,admin" (either order). */
static int sx_parse_roles(const char *s, uint32_t *out)
{
	char buf[32];
	if (strlen(s) >= sizeof buf)
		return SHMEX_E_PARSE;
	snprintf(buf, sizeof buf, "%s", s);
	*out = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "trader") == 0)
			*out |= SHMEX_ROLE_TRADER;
		else if (strcmp(tok, "admin") == 0)
			*out |= SHMEX_ROLE_ADMIN;
		else
			return SHMEX_E_PARSE;
	}
	return *out != 0 ? 0 : SHMEX_E_PARSE;
}

static int sx_cmd_grant(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	uint32_t uid = 0, user = UINT32_MAX, roles = 0;
	if (sx_arg_u32(argv[0], "UID", &uid) != 0)
		return SX_EXIT_USAGE;
	if (strcmp(argv[1], "*") != 0 && sx_arg_u32(argv[1], "USER", &user) != 0)
		return SX_EXIT_USAGE;
	if (sx_parse_roles(argv[2], &roles) != 0)
		return sx_usage_error("ROLES must be trader, admin or trader,admin: '%s'", argv[2]);
	const int rc = shmex_client_grant(x->c, uid, user, roles);
	if (rc != 0)
		return sx_fail(rc, "grant");
	if (x->json && user == UINT32_MAX)
		printf("{\"uid\":%u,\"user\":\"*\",\"roles\":\"%s\"}\n", uid, argv[2]);
	else if (x->json)
		printf("{\"uid\":%u,\"user\":%u,\"roles\":\"%s\"}\n", uid, user, argv[2]);
	else if (user == UINT32_MAX)
		printf("uid %u may act for every user as %s\n", uid, argv[2]);
	else
		printf("uid %u may act for user %u as %s\n", uid, user, argv[2]);
	return 0;
}

static int sx_cmd_check(struct sx_ctx *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char msg[256];
	const int rc = shmex_client_check(x->c, msg, sizeof msg);
	if (rc != 0 && rc != SHMEX_E_INVARIANT)
		return sx_fail(rc, "check");
	if (x->json) {
		printf("{\"ok\":%s,\"violation\":", rc == 0 ? "true" : "false");
		sx_json_str(msg);
		printf("}\n");
	} else if (rc == 0) {
		printf("ok: every invariant holds\n");
	} else {
		printf("invariant violated: %s\n", msg);
	}
	return rc == 0 ? SX_EXIT_OK : SX_EXIT_REFUSED;
}

/* ---- the command line ------------------------------------------------------------ */

static const struct sx_command sx_commands[] = {
	{ "status", "", "engine summary, sessions, symbols with best bid/ask/last", 0, 0, "",
	  sx_cmd_status },
	{ "symbols", "", "every symbol", 0, 0, "", sx_cmd_symbols },
	{ "assets", "", "every asset, with its supply", 0, 0, "", sx_cmd_assets },
	{ "balances", "USER", "a user's balances", 1, 1, "", sx_cmd_balances },
	{ "orders", "USER [SYMBOL]", "a user's open orders", 1, 2, "", sx_cmd_orders },
	{ "order", "ID", "one order (live or recently ended)", 1, 1, "", sx_cmd_order },
	{ "book", "SYMBOL [DEPTH]", "a symbol's book, DEPTH levels a side (0: all)", 1, 2, "",
	  sx_cmd_book },
	{ "deposit", "USER ASSET AMOUNT [--tag N]", "credit AMOUNT (a decimal in asset units)", 3,
	  3, "tag", sx_cmd_deposit },
	{ "withdraw", "USER ASSET AMOUNT [--tag N]", "debit AMOUNT (a decimal in asset units)", 3,
	  3, "tag", sx_cmd_withdraw },
	{ "halt", "SYMBOL", "refuse new orders and amends on SYMBOL", 1, 1, "", sx_cmd_halt },
	{ "resume", "SYMBOL", "open SYMBOL again", 1, 1, "", sx_cmd_resume },
	{ "set-reference", "SYMBOL PRICE", "the price band's reference (ticks; 0: none)", 2, 2, "",
	  sx_cmd_set_reference },
	{ "mass-cancel", "USER [SYMBOL]", "cancel every live order of USER", 1, 2, "",
	  sx_cmd_mass_cancel },
	{ "add-asset", "CODE DECIMALS", "register an asset", 2, 2, "", sx_cmd_add_asset },
	{ "add-symbol",
	  "CODE BASE QUOTE --tick N --lot N [--min-qty N --max-qty N --maker-fee PPM\n"
	  "                 --taker-fee PPM --ref-price N --band-ppm N --max-notional N\n"
	  "                 --book-orders N --max-matches N --min-peak N --max-iceberg-parts N\n"
	  "                 --status 0|1]",
	  "register a symbol", 3, 3,
	  "tick,lot,min-qty,max-qty,maker-fee,taker-fee,ref-price,band-ppm,max-notional,"
	  "book-orders,max-matches,min-peak,max-iceberg-parts,status",
	  sx_cmd_add_symbol },
	{ "add-user", "[--max-open-orders N --rate N --burst N]", "register a user", 0, 0,
	  "max-open-orders,rate,burst", sx_cmd_add_user },
	{ "grant", "UID USER|* trader|admin|trader,admin", "let UID act for USER (*: every user)",
	  3, 3, "", sx_cmd_grant },
	{ "check", "", "check every exchange invariant in the engine", 0, 0, "", sx_cmd_check },
};

static void sx_help(FILE *f)
{
	fprintf(f, "usage: shmexctl [--socket PATH] [--json] [--timeout MS] COMMAND ARGS\n\n"
		   "The socket is PATH, else $SHMEX_SOCKET, else " SHMEX_DEFAULT_SOCKET ".\n"
		   "SYMBOL and ASSET: a code or a numeric id. Prices are ticks, quantities lots,\n"
		   "amounts exact decimals in asset units. --json: one JSON object on stdout.\n"
		   "Exit status: 0 done, 1 usage, 2 daemon unreachable, 3 refused.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof sx_commands / sizeof sx_commands[0]; i++)
		fprintf(f, "  %s%s%s\n      %s\n", sx_commands[i].name,
			sx_commands[i].args[0] ? " " : "", sx_commands[i].args, sx_commands[i].help);
}

/* Whether @p name is in the comma-separated list @p list. */
static int sx_in_list(const char *list, const char *name)
{
	const size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		const size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len + (end != NULL);
	}
	return 0;
}

/* What the command line says, split into global options, the command, its
 * positional arguments and its options (--name value). */
struct sx_cmdline {
	const char *socket;
	int json, help;
	int64_t timeout_ms;
	int npos;
	char *pos[SX_MAX_ARGS];
};

static int sx_take_option(struct sx_cmdline *cl, struct sx_ctx *x, int argc, char **argv,
			  int *i)
{
	const char *arg = argv[*i];
	if (strcmp(arg, "--json") == 0) {
		cl->json = 1;
		return 0;
	}
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		cl->help = 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return sx_usage_error("%s needs a value", arg);
	const char *val = argv[++*i];
	if (strcmp(arg, "--socket") == 0) {
		cl->socket = val;
	} else if (strcmp(arg, "--timeout") == 0) {
		if (sx_parse_i64(val, &cl->timeout_ms) != 0 || cl->timeout_ms <= 0 ||
		    cl->timeout_ms > INT64_MAX / 1000000)
			return sx_usage_error("--timeout must be milliseconds: '%s'", val);
	} else {
		if (x->nopts == SX_MAX_ARGS)
			return sx_usage_error("too many options");
		x->opt_name[x->nopts] = arg + 2;
		x->opt_val[x->nopts++] = val;
	}
	return 0;
}

static int sx_parse_cmdline(int argc, char **argv, struct sx_cmdline *cl, struct sx_ctx *x)
{
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
			const int rc = sx_take_option(cl, x, argc, argv, &i);
			if (rc != 0)
				return rc;
		} else if (cl->npos == SX_MAX_ARGS) {
			return sx_usage_error("too many arguments");
		} else {
			cl->pos[cl->npos++] = argv[i];
		}
	}
	return 0;
}

static const struct sx_command *sx_find_command(const char *name)
{
	for (size_t i = 0; i < sizeof sx_commands / sizeof sx_commands[0]; i++)
		if (strcmp(sx_commands[i].name, name) == 0)
			return &sx_commands[i];
	return NULL;
}

/* Checks the command's arguments and options against what it takes. */
static int sx_check_args(const struct sx_command *cmd, const struct sx_cmdline *cl,
			 const struct sx_ctx *x)
{
	const int n = cl->npos - 1;
	if (n < cmd->min || n > cmd->max)
		return sx_usage_error("usage: shmexctl %s %s", cmd->name, cmd->args);
	for (int i = 0; i < x->nopts; i++)
		if (!sx_in_list(cmd->opts, x->opt_name[i]))
			return sx_usage_error("%s takes no option --%s", cmd->name, x->opt_name[i]);
	return 0;
}

static int sx_connect(const struct sx_cmdline *cl, struct sx_ctx *x)
{
	struct shmex_client_options o = { .socket_path = cl->socket, .name = "shmexctl",
					  .timeout_ns = cl->timeout_ms * 1000000 };
	const int rc = shmex_client_connect(&o, &x->c);
	if (rc == 0)
		return 0;
	fprintf(stderr, "shmexctl: %s\n", shmex_client_last_error()[0] ? shmex_client_last_error()
								      : shmex_strerror(rc));
	/* The daemon's word (WELCOME: another version, no free session, no
	 * grant) is a refusal; the socket's errors and a broken handshake are
	 * an unreachable daemon. */
	const int refused = rc == -EACCES || rc == -EPERM ||
			    (rc >= SHMEX_ERR_FIRST && rc <= SHMEX_ERR_LAST && rc != SHMEX_E_PROTOCOL &&
			     rc != SHMEX_E_NOMEM);
	return refused ? SX_EXIT_REFUSED : SX_EXIT_UNREACHABLE;
}

int main(int argc, char **argv)
{
	struct sx_cmdline cl = { .timeout_ms = 5000 };
	struct sx_ctx x = { 0 };
	int rc = sx_parse_cmdline(argc, argv, &cl, &x);
	if (rc != 0)
		return rc;
	if (cl.help) {
		sx_help(stdout);
		return SX_EXIT_OK;
	}
	if (cl.npos == 0) {
		sx_help(stderr);
		return SX_EXIT_USAGE;
	}
	const struct sx_command *cmd = sx_find_command(cl.pos[0]);
	if (cmd == NULL)
		return sx_usage_error("unknown command '%s'", cl.pos[0]);
	rc = sx_check_args(cmd, &cl, &x);
	if (rc != 0)
		return rc;
	x.json = cl.json;
	rc = sx_connect(&cl, &x);
	if (rc != 0)
		return rc;
	rc = cmd->run(&x, cl.npos - 1, cl.pos + 1);
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "shmexctl: writing the output: %s\n", strerror(errno));
		rc = SX_EXIT_USAGE;
	}
	shmex_client_close(x.c);
	free(x.assets);
	free(x.symbols);
	return rc;
}
