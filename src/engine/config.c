/*
 * shmexd's configuration: an INI file (or the built-in demo, config_demo.c)
 * read with libinih into struct sx_config, then checked as a whole.
 * Full reference with an example: docs/CONFIG.md.
 *
 * Format
 *   [engine]                 at most once; every key optional
 *     gateways = 1           1..64
 *     matchers = 1           1..64
 *     layout = shared        shared (one engine thread runs both agents;
 *                            needs gateways = 1 and matchers = 1) | dedicated
 *     wait = block           spin | yield | block
 *     cpus = 0,1             CPUs 0..1023, at most 64; empty: no pinning
 *     max_sessions = 64      1..4096
 *     request_slots = 1024   power of two, 16..65536
 *     response_slots = 4096  power of two, 16..65536
 *     max_orders = 1048576   exchange order records, 2..2^28
 *     max_users = 1024       1..2^24 (with (max_users + 1) * max_assets <= 2^28)
 *     max_symbols = 64       1..2^20
 *     max_assets = 32        1..65535
 *     max_open_orders = 0    per-user default (0: none)
 *     rate_per_sec = 0       per-user default (0: none)
 *     rate_burst = 0         per-user default (0: rate_per_sec)
 *     book_orders = 0        default book capacity (0: max_orders / 2), <= 2^28
 *     ledger_capacity = 0    ledger entries kept in memory, <= 2^30
 *     report_capacity = 0    order reports kept in memory, <= 2^30
 *     socket = /tmp/shmex.sock   at most 107 characters
 *     data = ./shmex-data        at most 255 characters
 *   [asset CODE]             decimals = 0..18 (required)
 *   [symbol CODE]            base, quote (asset codes declared above), tick,
 *                            lot (required); min_qty, max_qty, max_notional,
 *                            ref_price, band_ppm, maker_fee_ppm,
 *                            taker_fee_ppm, max_matches, min_peak,
 *                            max_iceberg_parts, book_orders,
 *                            status = open | halted, matcher = 0..matchers-1
 *   [user NAME]              max_open_orders, rate_per_sec, rate_burst;
 *                            deposit = CODE:AMOUNT, repeatable, one per asset,
 *                            AMOUNT an exact decimal with at most the asset's
 *                            decimals, > 0
 *   [grant]                  repeatable section: uid = N (numeric), users =
 *                            NAME,NAME | *, roles = trader,admin (all three
 *                            required); users must be declared above
 *
 * Ids follow the order of appearance: assets, symbols and users are 1, 2, ...
 * Codes and names are letters, digits and _ - . / (codes <= 15 characters,
 * names <= 31). Keys are case-sensitive. Unknown sections and keys, a key
 * given twice (deposit excepted), a second [engine] and a repeated code or
 * name are errors. Integers are decimal, checked for range and trailing text.
 * Comments: lines starting with ; or #, and " ;" after a value. Lines are at
 * most 198 characters after leading blanks (libinih's buffer).
 *
 * Errors read "name:line: reason". Rules spanning sections run after the
 * file (sx_config_check()) and cite the line of the key or section at fault.
 *
 * How inih is driven: ini_parse_stream() with our own line reader. The
 * reader counts lines (the handler then knows its line), strips leading
 * blanks (so an indented line is never taken as an inih continuation line),
 * refuses over-long lines (inih would split them), and parses section
 * headers itself (so that repeated [grant] sections and empty sections are
 * seen, and text after ']' is refused).
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "shmex/fixed.h"

#define SX_CPU_MAX 1023u           /* CPU_SETSIZE - 1 */
#define SX_SESSIONS_MAX 4096u
#define SX_SLOTS_MIN 16u
#define SX_SLOTS_MAX 65536u
#define SX_FILE_MAX (16u << 20)    /* bytes of a config file */
#define SX_MAX_KEYS 32u            /* keys of one section */

/* Lines where things were said, for the cross-section rules' messages. */
enum sx_engine_key {
	SX_EK_GATEWAYS, SX_EK_MATCHERS, SX_EK_LAYOUT, SX_EK_WAIT, SX_EK_CPUS,
	SX_EK_MAX_SESSIONS, SX_EK_REQUEST_SLOTS, SX_EK_RESPONSE_SLOTS, SX_EK_MAX_ORDERS,
	SX_EK_MAX_USERS, SX_EK_MAX_SYMBOLS, SX_EK_MAX_ASSETS, SX_EK_MAX_OPEN_ORDERS,
	SX_EK_RATE_PER_SEC, SX_EK_RATE_BURST, SX_EK_BOOK_ORDERS, SX_EK_LEDGER_CAPACITY,
	SX_EK_REPORT_CAPACITY, SX_EK_SOCKET, SX_EK_DATA, SX_EK_COUNT
};

struct sx_where {
	uint32_t engine[SX_EK_COUNT];
	uint32_t asset[SX_CFG_MAX_ASSETS];
	uint32_t symbol[SX_CFG_MAX_SYMBOLS];
	uint32_t matcher[SX_CFG_MAX_SYMBOLS];
	uint32_t user[SX_CFG_MAX_USERS];
	uint32_t grant[SX_CFG_MAX_GRANTS];
};

/* A [grant] section, expanded into one sx_cfg_grant per user at its end. */
struct sx_pending_grant {
	uint32_t uid;
	uint32_t roles;
	uint32_t nusers;
	uint32_t users[SX_CFG_MAX_USERS];
};

struct sx_parse;
struct sx_key;

typedef int (*sx_key_fn)(struct sx_parse *st, const struct sx_key *k, const char *val);

enum sx_key_type { SX_KT_U32, SX_KT_I32, SX_KT_I64, SX_KT_FN };
enum sx_key_flag { SX_KF_REQUIRED = 1, SX_KF_REPEAT = 2, SX_KF_POW2 = 4 };

/* One key of a section: an integer stored at obj + off, or a function. */
struct sx_key {
	const char *name;
	uint8_t type;  /* enum sx_key_type */
	uint8_t flags; /* enum sx_key_flag */
	size_t off;
	int64_t lo, hi; /* integers: range; strings: buffer size */
	sx_key_fn fn;
};

struct sx_section {
	const char *word;
	uint32_t name_max; /* 0: no name; else the longest name */
	const struct sx_key *keys;
	uint32_t nkeys;
	int (*begin)(struct sx_parse *st, const char *name);
	int (*end)(struct sx_parse *st);
};

struct sx_parse {
	struct sx_config *cfg;
	const char *name;
	char *err;
	size_t cap;
	const char *pos;   /* reader: next unread byte */
	uint32_t line;     /* reader: lines read so far (the line inih is on) */
	int rc;            /* first error, 0 if none */
	uint32_t err_line;
	const struct sx_section *sect; /* NULL before the first header */
	char sect_name[SHMEX_NAME_LEN];
	uint32_t sect_line;
	void *obj;         /* what the section's keys fill */
	uint32_t seen;     /* keys seen in this section (bit per key) */
	uint32_t key_line[SX_MAX_KEYS];
	uint32_t engine_line;
	struct sx_pending_grant grant;
	struct sx_where where;
};

/* ---- messages -------------------------------------------------------- */

static void sx_vmsg(char *err, size_t cap, const char *name, uint32_t line, const char *fmt,
		    va_list ap)
{
	int n = 0;

	if (err == NULL || cap == 0)
		return;
	err[0] = '\0';
	if (name != NULL && line != 0)
		n = snprintf(err, cap, "%s:%u: ", name, line);
	else if (name != NULL)
		n = snprintf(err, cap, "%s: ", name);
	if (n >= 0 && (size_t)n < cap)
		vsnprintf(err + n, cap - (size_t)n, fmt, ap);
}

__attribute__((format(printf, 4, 5)))
static int sx_fail_at(struct sx_parse *st, uint32_t line, int rc, const char *fmt, ...)
{
	va_list ap;

	if (st->rc != 0)
		return st->rc;
	st->rc = rc;
	st->err_line = line;
	va_start(ap, fmt);
	sx_vmsg(st->err, st->cap, st->name, line, fmt, ap);
	va_end(ap);
	return rc;
}

/* A syntax or value error on the line being read. */
#define sx_fail(st, ...) sx_fail_at((st), (st)->line, SHMEX_E_PARSE, __VA_ARGS__)

/* ---- small parsers --------------------------------------------------- */

static char *sx_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* ASCII letters, digits and _-./ (no locale). */
static bool sx_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i], l = (char)(c | 0x20);
		if (!(c >= '0' && c <= '9') && !(l >= 'a' && l <= 'z') && c != '_' && c != '-' &&
		    c != '.' && c != '/')
			return false;
	}
	return true;
}

static int sx_int(struct sx_parse *st, const char *key, const char *val, int64_t lo, int64_t hi,
		  int64_t *out)
{
	int64_t v = 0;
	int rc = shmex_i64_parse(val, strlen(val), &v);

	if (rc == SHMEX_E_PARSE)
		return sx_fail(st, "%s = '%s': not an integer", key, val);
	if (rc != 0 || v < lo || v > hi)
		return sx_fail(st, "%s = %s: out of range %lld..%lld", key, val, (long long)lo,
			       (long long)hi);
	*out = v;
	return 0;
}

static int sx_word(struct sx_parse *st, const char *key, const char *val,
		   const char *const *words, uint32_t n, uint32_t *out)
{
	char list[64] = "";

	for (uint32_t i = 0; i < n; i++) {
		if (strcmp(val, words[i]) == 0) {
			*out = i;
			return 0;
		}
		size_t used = strlen(list);
		snprintf(list + used, sizeof list - used, "%s%s", i ? " | " : "", words[i]);
	}
	return sx_fail(st, "%s = '%s': use %s", key, val, list);
}

typedef int (*sx_item_fn)(struct sx_parse *st, const char *key, const char *item);

/* Calls @p fn on each comma-separated, trimmed item of @p val. */
static int sx_list(struct sx_parse *st, const char *key, const char *val, sx_item_fn fn)
{
	char buf[256];
	size_t n = strlen(val);
	char *p = buf;

	if (n >= sizeof buf)
		return sx_fail(st, "%s: value too long", key);
	memcpy(buf, val, n + 1);
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		char *item = sx_trim(p);
		if (*item == '\0')
			return sx_fail(st, "%s = '%s': empty item in the list", key, val);
		int rc = fn(st, key, item);
		if (rc != 0 || comma == NULL)
			return rc;
		p = comma + 1;
	}
}

static uint32_t sx_find_asset(const struct sx_config *cfg, const char *code)
{
	for (uint32_t i = 0; i < cfg->nassets; i++)
		if (strncmp(cfg->assets[i].p.code, code, SHMEX_CODE_LEN) == 0)
			return i + 1;
	return 0;
}

static uint32_t sx_find_symbol(const struct sx_config *cfg, const char *code)
{
	for (uint32_t i = 0; i < cfg->nsymbols; i++)
		if (strncmp(cfg->symbols[i].p.code, code, SHMEX_CODE_LEN) == 0)
			return i + 1;
	return 0;
}

static uint32_t sx_find_user(const struct sx_config *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->nusers; i++)
		if (strncmp(cfg->users[i].name, name, SHMEX_NAME_LEN) == 0)
			return i + 1;
	return 0;
}

/* ---- key functions --------------------------------------------------- */

static int sx_key_layout(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	static const char *const words[] = {"shared", "dedicated"};
	return sx_word(st, k->name, val, words, 2, &st->cfg->layout);
}

static int sx_key_wait(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	static const char *const words[] = {"spin", "yield", "block"};
	return sx_word(st, k->name, val, words, 3, &st->cfg->wait_policy);
}

static int sx_cpu_item(struct sx_parse *st, const char *key, const char *item)
{
	struct sx_config *cfg = st->cfg;
	int64_t v = 0;

	if (cfg->ncpus == SX_CFG_MAX_THREADS)
		return sx_fail(st, "%s: more than %u CPUs", key, SX_CFG_MAX_THREADS);
	if (sx_int(st, key, item, 0, SX_CPU_MAX, &v) != 0)
		return st->rc;
	cfg->cpus[cfg->ncpus++] = (int32_t)v;
	return 0;
}

static int sx_key_cpus(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	st->cfg->ncpus = 0;
	if (*val == '\0') /* no pinning */
		return 0;
	return sx_list(st, k->name, val, sx_cpu_item);
}

/* A path: copied whole into a buffer of k->hi bytes, or refused. */
static int sx_key_str(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	size_t n = strlen(val);

	if (n == 0 || n >= (size_t)k->hi)
		return sx_fail(st, "%s: needs 1..%lld characters", k->name, (long long)k->hi - 1);
	memcpy((char *)st->obj + k->off, val, n + 1);
	return 0;
}

/* base, quote: an asset code declared above. */
static int sx_key_asset(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	uint32_t id = sx_find_asset(st->cfg, val);

	if (id == 0)
		return sx_fail(st, "%s = '%s': unknown asset (declare [asset %s] above)", k->name,
			       val, val);
	memcpy((char *)st->obj + k->off, &id, sizeof id);
	return 0;
}

static int sx_key_status(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	static const char *const words[] = {"open", "halted"};
	uint32_t v = 0;

	if (sx_word(st, k->name, val, words, 2, &v) != 0)
		return st->rc;
	((struct sx_cfg_symbol *)st->obj)->p.status = (uint8_t)v;
	return 0;
}

static int sx_key_matcher(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	int64_t v = 0;

	if (sx_int(st, k->name, val, 0, SX_CFG_MAX_THREADS - 1, &v) != 0)
		return st->rc;
	((struct sx_cfg_symbol *)st->obj)->matcher = (uint32_t)v;
	st->where.matcher[st->cfg->nsymbols - 1] = st->line;
	return 0;
}

static int sx_fund_amount(struct sx_parse *st, const char *val, uint32_t asset,
			  const char *amount, int64_t *out)
{
	const struct shmex_asset_params *a = &st->cfg->assets[asset - 1].p;
	const char *dot = strchr(amount, '.');
	int rc;

	if (dot != NULL && strspn(dot + 1, "0123456789") > a->decimals)
		return sx_fail(st, "deposit = %s: more decimals than %s has (%u)", val, a->code,
			       a->decimals);
	rc = shmex_dec_parse(amount, strlen(amount), a->decimals, out);
	if (rc == SHMEX_E_OVERFLOW)
		return sx_fail(st, "deposit = %s: too large", val);
	if (rc != 0)
		return sx_fail(st, "deposit = %s: '%s' is not a decimal amount", val, amount);
	if (*out <= 0)
		return sx_fail(st, "deposit = %s: must be positive", val);
	return 0;
}

/* deposit = CODE:AMOUNT */
static int sx_key_deposit(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	struct sx_cfg_user *u = st->obj;
	char buf[256];
	size_t n = strlen(val);
	int64_t amount = 0;

	(void)k;
	if (n >= sizeof buf)
		return sx_fail(st, "deposit: value too long");
	memcpy(buf, val, n + 1);
	char *colon = strchr(buf, ':');
	if (colon == NULL)
		return sx_fail(st, "deposit = %s: expected ASSET:AMOUNT", val);
	*colon = '\0';
	char *code = sx_trim(buf);
	uint32_t asset = sx_find_asset(st->cfg, code);
	if (asset == 0)
		return sx_fail(st, "deposit = %s: unknown asset '%s' (declare it above)", val, code);
	for (uint32_t i = 0; i < u->nfunds; i++)
		if (u->funds[i].asset == asset)
			return sx_fail(st, "deposit = %s: a second deposit of %s", val, code);
	if (u->nfunds == SX_CFG_MAX_FUNDS)
		return sx_fail(st, "deposit: more than %u per user", SX_CFG_MAX_FUNDS);
	if (sx_fund_amount(st, val, asset, sx_trim(colon + 1), &amount) != 0)
		return st->rc;
	u->funds[u->nfunds].asset = asset;
	u->funds[u->nfunds].amount = amount;
	u->nfunds++;
	return 0;
}

static int sx_user_item(struct sx_parse *st, const char *key, const char *item)
{
	struct sx_pending_grant *g = &st->grant;
	uint32_t id = strcmp(item, "*") == 0 ? SX_CFG_ALL_USERS : sx_find_user(st->cfg, item);

	if (id == 0)
		return sx_fail(st, "%s: unknown user '%s' (declare [user %s] above)", key, item,
			       item);
	if (g->nusers == SX_CFG_MAX_USERS)
		return sx_fail(st, "%s: too many users", key);
	g->users[g->nusers++] = id;
	return 0;
}

static int sx_key_users(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	struct sx_pending_grant *g = &st->grant;

	if (sx_list(st, k->name, val, sx_user_item) != 0)
		return st->rc;
	for (uint32_t i = 0; i < g->nusers; i++)
		if (g->users[i] == SX_CFG_ALL_USERS && g->nusers > 1)
			return sx_fail(st, "%s = %s: '*' stands alone", k->name, val);
	return 0;
}

static int sx_role_item(struct sx_parse *st, const char *key, const char *item)
{
	if (strcmp(item, "trader") == 0)
		st->grant.roles |= SHMEX_ROLE_TRADER;
	else if (strcmp(item, "admin") == 0)
		st->grant.roles |= SHMEX_ROLE_ADMIN;
	else
		return sx_fail(st, "%s: unknown role '%s' (trader, admin)", key, item);
	return 0;
}

static int sx_key_roles(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	return sx_list(st, k->name, val, sx_role_item);
}

/* ---- sections -------------------------------------------------------- */

#define SX_INT(t, n, type, f, lo, hi, fl) {n, t, fl, offsetof(type, f), lo, hi, NULL}
#define SX_FN(n, fn, fl) {n, SX_KT_FN, fl, 0, 0, 0, fn}
#define SX_STR(n, type, f) \
	{n, SX_KT_FN, 0, offsetof(type, f), 0, sizeof(((type *)0)->f), sx_key_str}
#define SX_EU32(n, f, lo, hi, fl) SX_INT(SX_KT_U32, n, struct sx_config, f, lo, hi, fl)

static const struct sx_key sx_engine_keys[SX_EK_COUNT] = {
	[SX_EK_GATEWAYS] = SX_EU32("gateways", gateways, 1, SX_CFG_MAX_THREADS, 0),
	[SX_EK_MATCHERS] = SX_EU32("matchers", matchers, 1, SX_CFG_MAX_THREADS, 0),
	[SX_EK_LAYOUT] = SX_FN("layout", sx_key_layout, 0),
	[SX_EK_WAIT] = SX_FN("wait", sx_key_wait, 0),
	[SX_EK_CPUS] = SX_FN("cpus", sx_key_cpus, 0),
	[SX_EK_MAX_SESSIONS] = SX_EU32("max_sessions", max_sessions, 1, SX_SESSIONS_MAX, 0),
	[SX_EK_REQUEST_SLOTS] = SX_EU32("request_slots", request_slots, SX_SLOTS_MIN,
					SX_SLOTS_MAX, SX_KF_POW2),
	[SX_EK_RESPONSE_SLOTS] = SX_EU32("response_slots", response_slots, SX_SLOTS_MIN,
					 SX_SLOTS_MAX, SX_KF_POW2),
	[SX_EK_MAX_ORDERS] = SX_EU32("max_orders", exchange.max_orders, 2, 1 << 28, 0),
	[SX_EK_MAX_USERS] = SX_EU32("max_users", exchange.max_users, 1, 1 << 24, 0),
	[SX_EK_MAX_SYMBOLS] = SX_EU32("max_symbols", exchange.max_symbols, 1, 1 << 20, 0),
	[SX_EK_MAX_ASSETS] = SX_EU32("max_assets", exchange.max_assets, 1, 65535, 0),
	[SX_EK_MAX_OPEN_ORDERS] = SX_EU32("max_open_orders", exchange.max_open_orders, 0,
					  UINT32_MAX, 0),
	[SX_EK_RATE_PER_SEC] = SX_EU32("rate_per_sec", exchange.rate_per_sec, 0, UINT32_MAX, 0),
	[SX_EK_RATE_BURST] = SX_EU32("rate_burst", exchange.rate_burst, 0, UINT32_MAX, 0),
	[SX_EK_BOOK_ORDERS] = SX_EU32("book_orders", exchange.book_orders, 0, 1 << 28, 0),
	[SX_EK_LEDGER_CAPACITY] = SX_EU32("ledger_capacity", exchange.ledger_capacity, 0,
					  1 << 30, 0),
	[SX_EK_REPORT_CAPACITY] = SX_EU32("report_capacity", exchange.report_capacity, 0,
					  1 << 30, 0),
	[SX_EK_SOCKET] = SX_STR("socket", struct sx_config, socket_path),
	[SX_EK_DATA] = SX_STR("data", struct sx_config, data_dir),
};

static const struct sx_key sx_asset_keys[] = {
	SX_INT(SX_KT_U32, "decimals", struct sx_cfg_asset, p.decimals, 0, SHMEX_DECIMALS_MAX,
	       SX_KF_REQUIRED),
};

#define SX_SU32(n, f, hi) SX_INT(SX_KT_U32, n, struct sx_cfg_symbol, p.f, 0, hi, 0)
#define SX_SI64(n, f, lo, fl) SX_INT(SX_KT_I64, n, struct sx_cfg_symbol, p.f, lo, INT64_MAX, fl)
#define SX_SFEE(n, f) \
	SX_INT(SX_KT_I32, n, struct sx_cfg_symbol, p.f, -SHMEX_FEE_ONE, SHMEX_FEE_ONE, 0)

static const struct sx_key sx_symbol_keys[] = {
	{"base", SX_KT_FN, SX_KF_REQUIRED, offsetof(struct sx_cfg_symbol, p.base), 0, 0,
	 sx_key_asset},
	{"quote", SX_KT_FN, SX_KF_REQUIRED, offsetof(struct sx_cfg_symbol, p.quote), 0, 0,
	 sx_key_asset},
	SX_SI64("tick", tick_size, 1, SX_KF_REQUIRED),
	SX_SI64("lot", lot_size, 1, SX_KF_REQUIRED),
	SX_SI64("min_qty", min_qty, 0, 0),
	SX_SI64("max_qty", max_qty, 0, 0),
	SX_SI64("max_notional", max_notional, 0, 0),
	SX_SI64("ref_price", ref_price, 0, 0),
	SX_SU32("band_ppm", band_ppm, UINT32_MAX),
	SX_SFEE("maker_fee_ppm", maker_fee_ppm),
	SX_SFEE("taker_fee_ppm", taker_fee_ppm),
	SX_SU32("max_matches", max_matches, UINT32_MAX),
	SX_SI64("min_peak", min_peak, 0, 0),
	SX_SU32("max_iceberg_parts", max_iceberg_parts, UINT32_MAX),
	SX_SU32("book_orders", book_orders, 1 << 28),
	SX_FN("status", sx_key_status, 0),
	SX_FN("matcher", sx_key_matcher, 0),
};

#define SX_UU32(n, f) SX_INT(SX_KT_U32, n, struct sx_cfg_user, limits.f, 0, UINT32_MAX, 0)

static const struct sx_key sx_user_keys[] = {
	SX_UU32("max_open_orders", max_open_orders),
	SX_UU32("rate_per_sec", rate_per_sec),
	SX_UU32("rate_burst", rate_burst),
	SX_FN("deposit", sx_key_deposit, SX_KF_REPEAT),
};

static const struct sx_key sx_grant_keys[] = {
	SX_INT(SX_KT_U32, "uid", struct sx_pending_grant, uid, 0, UINT32_MAX - 1,
	       SX_KF_REQUIRED),
	SX_FN("users", sx_key_users, SX_KF_REQUIRED),
	SX_FN("roles", sx_key_roles, SX_KF_REQUIRED),
};

static int sx_begin_engine(struct sx_parse *st, const char *name)
{
	(void)name;
	if (st->engine_line != 0)
		return sx_fail(st, "a second [engine] section (the first is at line %u)",
			       st->engine_line);
	st->engine_line = st->line;
	st->obj = st->cfg;
	return 0;
}

static int sx_begin_asset(struct sx_parse *st, const char *name)
{
	struct sx_config *cfg = st->cfg;
	uint32_t id = sx_find_asset(cfg, name);

	if (id != 0)
		return sx_fail(st, "asset %s repeats (first at line %u)", name,
			       st->where.asset[id - 1]);
	if (cfg->nassets == SX_CFG_MAX_ASSETS)
		return sx_fail(st, "more than %u assets", SX_CFG_MAX_ASSETS);
	struct sx_cfg_asset *a = &cfg->assets[cfg->nassets];
	memset(a, 0, sizeof *a);
	memcpy(a->p.code, name, strlen(name) + 1);
	st->where.asset[cfg->nassets++] = st->line;
	st->obj = a;
	return 0;
}

static int sx_begin_symbol(struct sx_parse *st, const char *name)
{
	struct sx_config *cfg = st->cfg;
	uint32_t id = sx_find_symbol(cfg, name);

	if (id != 0)
		return sx_fail(st, "symbol %s repeats (first at line %u)", name,
			       st->where.symbol[id - 1]);
	if (cfg->nsymbols == SX_CFG_MAX_SYMBOLS)
		return sx_fail(st, "more than %u symbols", SX_CFG_MAX_SYMBOLS);
	struct sx_cfg_symbol *s = &cfg->symbols[cfg->nsymbols];
	memset(s, 0, sizeof *s);
	memcpy(s->p.code, name, strlen(name) + 1);
	st->where.symbol[cfg->nsymbols] = st->line;
	st->where.matcher[cfg->nsymbols++] = 0;
	st->obj = s;
	return 0;
}

static int sx_begin_user(struct sx_parse *st, const char *name)
{
	struct sx_config *cfg = st->cfg;
	uint32_t id = sx_find_user(cfg, name);

	if (id != 0)
		return sx_fail(st, "user %s repeats (first at line %u)", name,
			       st->where.user[id - 1]);
	if (cfg->nusers == SX_CFG_MAX_USERS)
		return sx_fail(st, "more than %u users", SX_CFG_MAX_USERS);
	struct sx_cfg_user *u = &cfg->users[cfg->nusers];
	memset(u, 0, sizeof *u);
	memcpy(u->name, name, strlen(name) + 1);
	st->where.user[cfg->nusers++] = st->line;
	st->obj = u;
	return 0;
}

static int sx_begin_grant(struct sx_parse *st, const char *name)
{
	(void)name;
	memset(&st->grant, 0, sizeof st->grant);
	st->obj = &st->grant;
	return 0;
}

/* One sx_cfg_grant per user named (duplicates are sx_config_check()'s). */
static int sx_end_grant(struct sx_parse *st)
{
	struct sx_config *cfg = st->cfg;
	const struct sx_pending_grant *g = &st->grant;

	for (uint32_t i = 0; i < g->nusers; i++) {
		if (cfg->ngrants == SX_CFG_MAX_GRANTS)
			return sx_fail_at(st, st->sect_line, SHMEX_E_PARSE,
					  "more than %u grants (one per user named)",
					  SX_CFG_MAX_GRANTS);
		struct sx_cfg_grant *out = &cfg->grants[cfg->ngrants];
		out->uid = g->uid;
		out->user = g->users[i];
		out->roles = g->roles;
		st->where.grant[cfg->ngrants++] = st->sect_line;
	}
	return 0;
}

#define SX_NKEYS(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))

static const struct sx_section sx_sections[] = {
	{"engine", 0, sx_engine_keys, SX_NKEYS(sx_engine_keys), sx_begin_engine, NULL},
	{"asset", SHMEX_CODE_LEN - 1, sx_asset_keys, SX_NKEYS(sx_asset_keys), sx_begin_asset,
	 NULL},
	{"symbol", SHMEX_CODE_LEN - 1, sx_symbol_keys, SX_NKEYS(sx_symbol_keys),
	 sx_begin_symbol, NULL},
	{"user", SHMEX_NAME_LEN - 1, sx_user_keys, SX_NKEYS(sx_user_keys), sx_begin_user, NULL},
	{"grant", 0, sx_grant_keys, SX_NKEYS(sx_grant_keys), sx_begin_grant, sx_end_grant},
};

_Static_assert(SX_EK_COUNT <= SX_MAX_KEYS && SX_NKEYS(sx_symbol_keys) <= SX_MAX_KEYS,
	       "a section's keys fit in st->seen");

/* Ends the current section: its required keys, then its own end. */
static int sx_section_end(struct sx_parse *st)
{
	const struct sx_section *sec = st->sect;

	if (sec == NULL)
		return 0;
	st->sect = NULL;
	for (uint32_t i = 0; i < sec->nkeys; i++) {
		if ((sec->keys[i].flags & SX_KF_REQUIRED) && !(st->seen & (1u << i)))
			return sx_fail_at(st, st->sect_line, SHMEX_E_PARSE,
					  "[%s%s%s] lacks the key '%s'", sec->word,
					  st->sect_name[0] ? " " : "", st->sect_name,
					  sec->keys[i].name);
	}
	return sec->end != NULL ? sec->end(st) : 0;
}

/* "[word]" or "[word name]", then nothing but a comment. */
static int sx_section_begin(struct sx_parse *st, const char *s, size_t len)
{
	char buf[256];
	const char *close = memchr(s, ']', len);

	if (sx_section_end(st) != 0)
		return st->rc;
	if (close == NULL)
		return sx_fail(st, "section header without ']'");
	for (const char *p = close + 1; p < s + len && *p != ';' && *p != '#'; p++)
		if (*p != ' ' && *p != '\t')
			return sx_fail(st, "text after the section header");
	size_t n = (size_t)(close - s) - 1;
	if (n >= sizeof buf)
		return sx_fail(st, "section header too long");
	memcpy(buf, s + 1, n);
	buf[n] = '\0';
	char *word = sx_trim(buf);
	char *name = word + strcspn(word, " \t");
	if (*name != '\0')
		*name++ = '\0';
	name = sx_trim(name);

	const struct sx_section *sec = NULL;
	for (uint32_t i = 0; i < SX_NKEYS(sx_sections); i++)
		if (strcmp(word, sx_sections[i].word) == 0)
			sec = &sx_sections[i];
	if (sec == NULL)
		return sx_fail(st, "unknown section [%s]", word);
	if (sec->name_max == 0 && *name != '\0')
		return sx_fail(st, "[%s] takes no name", word);
	if (sec->name_max != 0 && !sx_name_ok(name, sec->name_max))
		return sx_fail(st, "[%s %s]: a name is 1..%u letters, digits or _-./", word, name,
			       sec->name_max);
	st->sect = sec;
	memcpy(st->sect_name, name, strlen(name) + 1);
	st->sect_line = st->line;
	st->seen = 0;
	return sec->begin(st, name);
}

/* ---- inih glue ------------------------------------------------------- */

/* fgets-style: the next line, leading blanks stripped; headers parsed. */
static char *sx_reader(char *buf, int num, void *stream)
{
	struct sx_parse *st = stream;
	const char *s = st->pos;

	if (st->rc != 0 || *s == '\0')
		return NULL;
	const char *nl = strchr(s, '\n');
	size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);
	st->pos = s + len + (nl != NULL);
	st->line++;
	if (st->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3; /* UTF-8 byte order mark */
		len -= 3;
	}
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (num < 3 || len > (size_t)num - 2) {
		sx_fail(st, "line longer than %d characters", num - 2);
		return NULL;
	}
	if (len > 0 && s[0] == '[' && sx_section_begin(st, s, len) != 0)
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return buf;
}

static int sx_set_int(struct sx_parse *st, const struct sx_key *k, const char *val)
{
	char *dst = (char *)st->obj + k->off;
	int64_t v = 0;

	if (sx_int(st, k->name, val, k->lo, k->hi, &v) != 0)
		return st->rc;
	if ((k->flags & SX_KF_POW2) && (v & (v - 1)) != 0)
		return sx_fail(st, "%s = %s: not a power of two", k->name, val);
	if (k->type == SX_KT_U32) {
		uint32_t u = (uint32_t)v;
		memcpy(dst, &u, sizeof u);
	} else if (k->type == SX_KT_I32) {
		int32_t i = (int32_t)v;
		memcpy(dst, &i, sizeof i);
	} else {
		memcpy(dst, &v, sizeof v);
	}
	return 0;
}

static int sx_handler(void *user, const char *section, const char *key, const char *val)
{
	struct sx_parse *st = user;
	const struct sx_section *sec = st->sect;
	uint32_t i;

	(void)section; /* ours, from the reader */
	if (st->rc != 0)
		return 0;
	if (sec == NULL)
		return sx_fail(st, "'%s' outside a section", key) == 0;
	for (i = 0; i < sec->nkeys && strcmp(key, sec->keys[i].name) != 0; i++)
		;
	if (i == sec->nkeys)
		return sx_fail(st, "unknown key '%s' in [%s]", key, sec->word) == 0;
	const struct sx_key *k = &sec->keys[i];
	if ((st->seen & (1u << i)) && !(k->flags & SX_KF_REPEAT))
		return sx_fail(st, "'%s' repeats (first at line %u)", key, st->key_line[i]) == 0;
	if (!(st->seen & (1u << i)))
		st->key_line[i] = st->line;
	st->seen |= 1u << i;
	if (sec->keys == sx_engine_keys)
		st->where.engine[i] = st->line;
	int rc = k->type == SX_KT_FN ? k->fn(st, k, val) : sx_set_int(st, k, val);
	return rc == 0;
}

/* ---- whole-file rules ------------------------------------------------ */

struct sx_ck {
	const struct sx_config *cfg;
	const struct sx_where *w; /* NULL: no lines to cite */
	const char *name;         /* NULL: no prefix */
	char *err;
	size_t cap;
};

#define SX_LINE(ck, f) ((ck)->w != NULL ? (ck)->w->f : 0u)

__attribute__((format(printf, 3, 4)))
static int sx_ck_fail(const struct sx_ck *ck, uint32_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sx_vmsg(ck->err, ck->cap, ck->name, line, fmt, ap);
	va_end(ap);
	return SHMEX_E_INVAL;
}

static uint32_t sx_max3(uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t m = a > b ? a : b;
	return m > c ? m : c;
}

static bool sx_pow2_in(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/* Non-empty and NUL-terminated within @p size bytes. */
static bool sx_code_ok(const char *code, size_t size)
{
	size_t n = strnlen(code, size);
	return n > 0 && n < size;
}

static int sx_check_threads(const struct sx_ck *ck)
{
	const struct sx_config *c = ck->cfg;

	if (c->gateways < 1 || c->gateways > SX_CFG_MAX_THREADS)
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_GATEWAYS]),
				  "gateways = %u: must be 1..%u", c->gateways, SX_CFG_MAX_THREADS);
	if (c->matchers < 1 || c->matchers > SX_CFG_MAX_THREADS)
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_MATCHERS]),
				  "matchers = %u: must be 1..%u", c->matchers, SX_CFG_MAX_THREADS);
	if (c->gateways + c->matchers > SX_CFG_MAX_THREADS)
		return sx_ck_fail(ck,
				  SX_LINE(ck, engine[SX_EK_GATEWAYS]) > SX_LINE(ck, engine[SX_EK_MATCHERS])
					  ? SX_LINE(ck, engine[SX_EK_GATEWAYS])
					  : SX_LINE(ck, engine[SX_EK_MATCHERS]),
				  "gateways + matchers = %u: at most %u threads", c->gateways + c->matchers,
				  SX_CFG_MAX_THREADS);
	if (c->layout > SX_LAYOUT_DEDICATED)
		return sx_ck_fail(ck, 0, "layout %u: unknown", c->layout);
	if (c->wait_policy > SHMEX_WAIT_BLOCK)
		return sx_ck_fail(ck, 0, "wait policy %u: unknown", c->wait_policy);
	if (c->layout == SX_LAYOUT_SHARED && (c->gateways != 1 || c->matchers != 1))
		return sx_ck_fail(ck,
				  sx_max3(SX_LINE(ck, engine[SX_EK_LAYOUT]),
					  SX_LINE(ck, engine[SX_EK_GATEWAYS]),
					  SX_LINE(ck, engine[SX_EK_MATCHERS])),
				  "layout = shared needs gateways = 1 and matchers = 1 "
				  "(not %u and %u): use layout = dedicated", c->gateways,
				  c->matchers);
	if (c->ncpus > SX_CFG_MAX_THREADS)
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_CPUS]), "cpus: more than %u",
				  SX_CFG_MAX_THREADS);
	for (uint32_t i = 0; i < c->ncpus; i++)
		if (c->cpus[i] < 0 || c->cpus[i] > (int32_t)SX_CPU_MAX)
			return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_CPUS]),
					  "cpus: %d is not 0..%u", c->cpus[i], SX_CPU_MAX);
	return 0;
}

static int sx_check_sessions(const struct sx_ck *ck)
{
	const struct sx_config *c = ck->cfg;

	if (c->max_sessions < 1 || c->max_sessions > SX_SESSIONS_MAX)
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_MAX_SESSIONS]),
				  "max_sessions = %u: must be 1..%u", c->max_sessions,
				  SX_SESSIONS_MAX);
	if (!sx_pow2_in(c->request_slots, SX_SLOTS_MIN, SX_SLOTS_MAX))
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_REQUEST_SLOTS]),
				  "request_slots = %u: must be a power of two, %u..%u",
				  c->request_slots, SX_SLOTS_MIN, SX_SLOTS_MAX);
	if (!sx_pow2_in(c->response_slots, SX_SLOTS_MIN, SX_SLOTS_MAX))
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_RESPONSE_SLOTS]),
				  "response_slots = %u: must be a power of two, %u..%u",
				  c->response_slots, SX_SLOTS_MIN, SX_SLOTS_MAX);
	if (!sx_code_ok(c->socket_path, sizeof c->socket_path))
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_SOCKET]),
				  "socket: needs 1..%zu characters", sizeof c->socket_path - 1);
	if (!sx_code_ok(c->data_dir, sizeof c->data_dir))
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_DATA]),
				  "data: needs 1..%zu characters", sizeof c->data_dir - 1);
	return 0;
}

/* The capacities shmex_exchange_create() accepts. */
static int sx_check_capacities(const struct sx_ck *ck)
{
	const struct shmex_exchange_config *x = &ck->cfg->exchange;

	if (x->max_assets < 1 || x->max_assets > 65535)
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_MAX_ASSETS]),
				  "max_assets = %u: must be 1..65535", x->max_assets);
	if (x->max_symbols < 1 || x->max_symbols > (1u << 20))
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_MAX_SYMBOLS]),
				  "max_symbols = %u: must be 1..2^20", x->max_symbols);
	if (x->max_users < 1 || x->max_users > (1u << 24))
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_MAX_USERS]),
				  "max_users = %u: must be 1..2^24", x->max_users);
	if (((uint64_t)x->max_users + 1) * x->max_assets > (1u << 28))
		return sx_ck_fail(ck,
				  sx_max3(SX_LINE(ck, engine[SX_EK_MAX_USERS]),
					  SX_LINE(ck, engine[SX_EK_MAX_ASSETS]), 0),
				  "(max_users + 1) * max_assets = %llu accounts: more than 2^28",
				  ((unsigned long long)x->max_users + 1) * x->max_assets);
	if (x->max_orders < 2 || x->max_orders > (1u << 28))
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_MAX_ORDERS]),
				  "max_orders = %u: must be 2..2^28", x->max_orders);
	if (x->book_orders > (1u << 28))
		return sx_ck_fail(ck, SX_LINE(ck, engine[SX_EK_BOOK_ORDERS]),
				  "book_orders = %u: more than 2^28", x->book_orders);
	if (x->ledger_capacity > (1u << 30) || x->report_capacity > (1u << 30))
		return sx_ck_fail(ck,
				  sx_max3(SX_LINE(ck, engine[SX_EK_LEDGER_CAPACITY]),
					  SX_LINE(ck, engine[SX_EK_REPORT_CAPACITY]), 0),
				  "ledger_capacity and report_capacity: at most 2^30");
	if (x->start_time < 0)
		return sx_ck_fail(ck, 0, "start_time < 0");
	return 0;
}

static int sx_check_assets(const struct sx_ck *ck)
{
	const struct sx_config *c = ck->cfg;

	if (c->nassets > SX_CFG_MAX_ASSETS)
		return sx_ck_fail(ck, 0, "%u assets: more than %u", c->nassets, SX_CFG_MAX_ASSETS);
	if (c->nassets > c->exchange.max_assets)
		return sx_ck_fail(ck, SX_LINE(ck, asset[c->exchange.max_assets]),
				  "%u assets: more than max_assets = %u", c->nassets,
				  c->exchange.max_assets);
	for (uint32_t i = 0; i < c->nassets; i++) {
		const struct shmex_asset_params *a = &c->assets[i].p;
		uint32_t line = SX_LINE(ck, asset[i]);
		if (!sx_code_ok(a->code, SHMEX_CODE_LEN))
			return sx_ck_fail(ck, line, "asset %u: bad code", i + 1);
		if (sx_find_asset(c, a->code) != i + 1)
			return sx_ck_fail(ck, line, "asset %s repeats", a->code);
		if (a->decimals > SHMEX_DECIMALS_MAX)
			return sx_ck_fail(ck, line, "asset %s: decimals = %u: more than %u", a->code,
					  a->decimals, SHMEX_DECIMALS_MAX);
	}
	return 0;
}

/* The exchange's rule: one tick-lot is tick * lot / 10^decimals quote minor
 * units; in lowest terms kn / kd, kn must fit int64 and kd stay within
 * SHMEX_TICK_LOT_DEN_MAX. */
static bool sx_tick_lot_ok(int64_t tick, int64_t lot, uint32_t decimals)
{
	shmex_i128 num = (shmex_i128)tick * lot, den = 1, a, b, t;

	for (uint32_t i = 0; i < decimals; i++)
		den *= 10;
	for (a = num, b = den; b != 0; a = b, b = t)
		t = a % b;
	return num / a <= INT64_MAX && den / a <= SHMEX_TICK_LOT_DEN_MAX;
}

static int sx_check_symbol_terms(const struct sx_ck *ck, const struct shmex_symbol_params *p,
				 uint32_t line)
{
	int64_t min_qty = p->min_qty != 0 ? p->min_qty : 1;

	if (p->tick_size <= 0 || p->lot_size <= 0)
		return sx_ck_fail(ck, line, "symbol %s: tick and lot must be > 0", p->code);
	if (min_qty < 1 || p->max_qty < 0 || (p->max_qty != 0 && p->max_qty < min_qty))
		return sx_ck_fail(ck, line, "symbol %s: max_qty %lld below min_qty %lld", p->code,
				  (long long)p->max_qty, (long long)min_qty);
	if (p->max_notional < 0 || p->ref_price < 0 || p->min_peak < 0)
		return sx_ck_fail(ck, line, "symbol %s: a negative limit", p->code);
	if (p->maker_fee_ppm < -SHMEX_FEE_ONE || p->maker_fee_ppm > SHMEX_FEE_ONE ||
	    p->taker_fee_ppm < -SHMEX_FEE_ONE || p->taker_fee_ppm > SHMEX_FEE_ONE ||
	    (int64_t)p->maker_fee_ppm + p->taker_fee_ppm < 0)
		return sx_ck_fail(ck, line,
				  "symbol %s: fees must be -10^6..10^6 ppm with maker + taker >= 0",
				  p->code);
	if (p->status > SHMEX_SYMBOL_HALTED)
		return sx_ck_fail(ck, line, "symbol %s: status %u unknown", p->code, p->status);
	if (p->book_orders > (1u << 28))
		return sx_ck_fail(ck, line, "symbol %s: book_orders more than 2^28", p->code);
	if (!sx_tick_lot_ok(p->tick_size, p->lot_size, ck->cfg->assets[p->base - 1].p.decimals))
		return sx_ck_fail(ck, line,
				  "symbol %s: tick * lot / 10^(base decimals) is too fine "
				  "(denominator above 10^12) or too coarse",
				  p->code);
	return 0;
}

static int sx_check_symbol(const struct sx_ck *ck, uint32_t i)
{
	const struct sx_config *c = ck->cfg;
	const struct sx_cfg_symbol *s = &c->symbols[i];
	const struct shmex_symbol_params *p = &s->p;
	uint32_t line = SX_LINE(ck, symbol[i]);

	if (!sx_code_ok(p->code, SHMEX_CODE_LEN))
		return sx_ck_fail(ck, line, "symbol %u: bad code", i + 1);
	if (sx_find_symbol(c, p->code) != i + 1)
		return sx_ck_fail(ck, line, "symbol %s repeats", p->code);
	if (p->base < 1 || p->base > c->nassets || p->quote < 1 || p->quote > c->nassets)
		return sx_ck_fail(ck, line, "symbol %s: base or quote is not an asset", p->code);
	if (p->base == p->quote)
		return sx_ck_fail(ck, line, "symbol %s: base and quote are the same asset",
				  p->code);
	if (s->matcher >= c->matchers)
		return sx_ck_fail(ck, SX_LINE(ck, matcher[i]) ? SX_LINE(ck, matcher[i]) : line,
				  "symbol %s: matcher = %u, but matchers = %u (0..%u)", p->code,
				  s->matcher, c->matchers, c->matchers - 1);
	return sx_check_symbol_terms(ck, p, line);
}

static int sx_check_symbols(const struct sx_ck *ck)
{
	const struct sx_config *c = ck->cfg;

	if (c->nsymbols > SX_CFG_MAX_SYMBOLS)
		return sx_ck_fail(ck, 0, "%u symbols: more than %u", c->nsymbols,
				  SX_CFG_MAX_SYMBOLS);
	if (c->nsymbols > c->exchange.max_symbols)
		return sx_ck_fail(ck, SX_LINE(ck, symbol[c->exchange.max_symbols]),
				  "%u symbols: more than max_symbols = %u", c->nsymbols,
				  c->exchange.max_symbols);
	for (uint32_t i = 0; i < c->nsymbols; i++) {
		int rc = sx_check_symbol(ck, i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int sx_check_funds(const struct sx_ck *ck, const struct sx_cfg_user *u, uint32_t line,
			  int64_t *supply)
{
	const struct sx_config *c = ck->cfg;

	if (u->nfunds > SX_CFG_MAX_FUNDS)
		return sx_ck_fail(ck, line, "user %s: more than %u deposits", u->name,
				  SX_CFG_MAX_FUNDS);
	for (uint32_t f = 0; f < u->nfunds; f++) {
		uint32_t a = u->funds[f].asset;
		if (a < 1 || a > c->nassets || u->funds[f].amount <= 0)
			return sx_ck_fail(ck, line, "user %s: deposit %u: bad asset or amount",
					  u->name, f + 1);
		for (uint32_t g = 0; g < f; g++)
			if (u->funds[g].asset == a)
				return sx_ck_fail(ck, line, "user %s: two deposits of %s", u->name,
						  c->assets[a - 1].p.code);
		if (shmex_add_checked(supply[a], u->funds[f].amount, &supply[a]) != 0)
			return sx_ck_fail(ck, line,
					  "user %s: deposits of %s add up to more than 2^63-1 "
					  "minor units", u->name, c->assets[a - 1].p.code);
	}
	return 0;
}

static int sx_check_users(const struct sx_ck *ck)
{
	const struct sx_config *c = ck->cfg;
	int64_t supply[SX_CFG_MAX_ASSETS + 1] = {0};

	if (c->nusers > SX_CFG_MAX_USERS)
		return sx_ck_fail(ck, 0, "%u users: more than %u", c->nusers, SX_CFG_MAX_USERS);
	if (c->nusers > c->exchange.max_users)
		return sx_ck_fail(ck, SX_LINE(ck, user[c->exchange.max_users]),
				  "%u users: more than max_users = %u", c->nusers,
				  c->exchange.max_users);
	for (uint32_t i = 0; i < c->nusers; i++) {
		const struct sx_cfg_user *u = &c->users[i];
		uint32_t line = SX_LINE(ck, user[i]);
		if (!sx_code_ok(u->name, SHMEX_NAME_LEN))
			return sx_ck_fail(ck, line, "user %u: bad name", i + 1);
		if (sx_find_user(c, u->name) != i + 1)
			return sx_ck_fail(ck, line, "user %s repeats", u->name);
		int rc = sx_check_funds(ck, u, line, supply);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int sx_check_grants(const struct sx_ck *ck)
{
	const struct sx_config *c = ck->cfg;
	const uint32_t roles = SHMEX_ROLE_TRADER | SHMEX_ROLE_ADMIN;

	if (c->ngrants > SX_CFG_MAX_GRANTS)
		return sx_ck_fail(ck, 0, "%u grants: more than %u", c->ngrants, SX_CFG_MAX_GRANTS);
	for (uint32_t i = 0; i < c->ngrants; i++) {
		const struct sx_cfg_grant *g = &c->grants[i];
		uint32_t line = SX_LINE(ck, grant[i]);
		if (g->uid == UINT32_MAX)
			return sx_ck_fail(ck, line, "grant %u: uid %u is not a uid", i + 1, g->uid);
		if (g->user != SX_CFG_ALL_USERS && (g->user < 1 || g->user > c->nusers))
			return sx_ck_fail(ck, line, "grant %u: user %u unknown", i + 1, g->user);
		if (g->roles == 0 || (g->roles & ~roles) != 0)
			return sx_ck_fail(ck, line, "grant %u: roles 0x%x: need trader and/or admin",
					  i + 1, g->roles);
		for (uint32_t j = 0; j < i; j++)
			if (c->grants[j].uid == g->uid && c->grants[j].user == g->user)
				return sx_ck_fail(ck, line, "grant of uid %u for %s repeats", g->uid,
						  g->user == SX_CFG_ALL_USERS
							  ? "*"
							  : c->users[g->user - 1].name);
	}
	return 0;
}

static int sx_check(const struct sx_ck *ck)
{
	int (*const rules[])(const struct sx_ck *) = {
		sx_check_threads, sx_check_sessions, sx_check_capacities, sx_check_assets,
		sx_check_symbols, sx_check_users,   sx_check_grants,
	};

	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		int rc = rules[i](ck);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- public ---------------------------------------------------------- */

void sx_config_defaults(struct sx_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->gateways = 1;
	cfg->matchers = 1;
	cfg->layout = SX_LAYOUT_SHARED;
	cfg->wait_policy = SHMEX_WAIT_BLOCK;
	cfg->max_sessions = 64;
	cfg->request_slots = 1024;
	cfg->response_slots = 4096;
	cfg->exchange.max_orders = 1u << 20;
	cfg->exchange.max_users = 1024;
	cfg->exchange.max_symbols = 64;
	cfg->exchange.max_assets = 32;
	snprintf(cfg->socket_path, sizeof cfg->socket_path, "%s", "/tmp/shmex.sock");
	snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", "./shmex-data");
}

int sx_config_check(const struct sx_config *cfg, char *err, size_t cap)
{
	const struct sx_ck ck = {cfg, NULL, NULL, err, cap};
	return sx_check(&ck);
}

int sx_config_parse(const char *text, const char *name, struct sx_config *cfg, char *err,
		    size_t cap)
{
	struct sx_parse *st = calloc(1, sizeof *st);
	int rc;

	sx_config_defaults(cfg);
	if (err != NULL && cap > 0)
		err[0] = '\0';
	if (st == NULL) {
		if (err != NULL && cap > 0)
			snprintf(err, cap, "%s: out of memory", name);
		return SHMEX_E_NOMEM;
	}
	*st = (struct sx_parse){.cfg = cfg, .name = name, .err = err, .cap = cap, .pos = text};
	int line = ini_parse_stream(sx_reader, st, sx_handler, st);
	/* inih's own errors (a line that is neither a header nor key = value)
	 * come back as the first bad line; ours stop the reader. */
	if (line == -2)
		sx_fail_at(st, 0, SHMEX_E_NOMEM, "out of memory");
	else if (line > 0 && (st->rc == 0 || (uint32_t)line < st->err_line)) {
		st->rc = 0;
		sx_fail_at(st, (uint32_t)line, SHMEX_E_PARSE,
			   "expected [section] or key = value");
	}
	if (st->rc == 0)
		sx_section_end(st);
	rc = st->rc;
	if (rc == 0) {
		const struct sx_ck ck = {cfg, &st->where, name, err, cap};
		rc = sx_check(&ck);
	}
	free(st);
	return rc;
}

/* Reads a whole file, NUL-terminated; refuses NUL bytes inside it. */
static int sx_read_file(const char *path, char **out, char *err, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n = 0, size = 4096;
	char *buf = NULL;
	int rc = 0;

	if (f == NULL) {
		rc = -errno;
		goto fail;
	}
	for (;;) {
		char *nb = size > SX_FILE_MAX + 1 ? NULL : realloc(buf, size);
		if (nb == NULL) {
			rc = size > SX_FILE_MAX + 1 ? -EFBIG : -ENOMEM;
			goto fail;
		}
		buf = nb;
		n += fread(buf + n, 1, size - 1 - n, f);
		if (n < size - 1)
			break;
		size *= 2;
	}
	if (ferror(f)) {
		rc = -EIO;
		goto fail;
	}
	buf[n] = '\0';
	if (strlen(buf) != n) {
		rc = SHMEX_E_PARSE;
		goto fail;
	}
	fclose(f);
	*out = buf;
	return 0;
fail:
	if (err != NULL && cap > 0)
		snprintf(err, cap, "%s: %s", path,
			 rc == SHMEX_E_PARSE ? "a NUL byte in the file" : shmex_strerror(rc));
	if (f != NULL)
		fclose(f);
	free(buf);
	return rc;
}

int sx_config_load(const char *path, struct sx_config *cfg, char *err, size_t cap)
{
	char *text = NULL;
	int rc;

	sx_config_defaults(cfg);
	rc = sx_read_file(path, &text, err, cap);
	if (rc != 0)
		return rc;
	rc = sx_config_parse(text, path, cfg, err, cap);
	free(text);
	return rc;
}
