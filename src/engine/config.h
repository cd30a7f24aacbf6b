/**
 * @file config.h
 * @brief shmexd's configuration: what the INI file (or the built-in demo)
 *        says, parsed and checked, before anything starts.
 */
#ifndef SX_ENGINE_CONFIG_H
#define SX_ENGINE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/exchange.h"
#include "shmex_control.h"

#define SX_CFG_MAX_ASSETS 64
#define SX_CFG_MAX_SYMBOLS 256
#define SX_CFG_MAX_USERS 1024
#define SX_CFG_MAX_GRANTS 1024
#define SX_CFG_MAX_FUNDS 8      /* deposits per user */
#define SX_CFG_MAX_THREADS 64
#define SX_CFG_ALL_USERS UINT32_MAX

/** Thread layouts. */
enum sx_layout {
	SX_LAYOUT_SHARED = 0,    /* one engine thread runs the gateway and matcher agents */
	SX_LAYOUT_DEDICATED = 1, /* one thread per gateway and per matcher */
};

struct sx_cfg_asset {
	struct shmex_asset_params p;
};

struct sx_cfg_symbol {
	struct shmex_symbol_params p; /* base/quote: indexes into assets + 1 (asset ids) */
	uint32_t matcher;             /* 0 .. matchers-1 */
};

struct sx_cfg_fund {
	uint32_t asset;  /* asset id (index + 1) */
	int64_t amount;  /* minor units */
};

struct sx_cfg_user {
	char name[SHMEX_NAME_LEN];
	struct shmex_user_params limits;
	uint32_t nfunds;
	struct sx_cfg_fund funds[SX_CFG_MAX_FUNDS];
};

struct sx_cfg_grant {
	uint32_t uid;
	uint32_t user;  /* user id (index + 1), or SX_CFG_ALL_USERS */
	uint32_t roles; /* enum shmex_role */
};

struct sx_config {
	/* [engine] */
	uint32_t gateways;         /* >= 1 */
	uint32_t matchers;         /* >= 1 */
	uint32_t layout;           /* enum sx_layout */
	uint32_t wait_policy;      /* enum shmex_wait_policy */
	uint32_t max_sessions;     /* >= 1 */
	uint32_t request_slots;    /* default per session, power of two */
	uint32_t response_slots;   /* default per session, power of two */
	uint32_t ncpus;            /* entries in cpus (0: no pinning) */
	int32_t cpus[SX_CFG_MAX_THREADS]; /* thread i pinned to cpus[i % ncpus] */
	struct shmex_exchange_config exchange; /* capacities (sinks unset) */
	char socket_path[108];
	char data_dir[256];
	/* registries */
	uint32_t nassets, nsymbols, nusers, ngrants;
	struct sx_cfg_asset assets[SX_CFG_MAX_ASSETS];
	struct sx_cfg_symbol symbols[SX_CFG_MAX_SYMBOLS];
	struct sx_cfg_user users[SX_CFG_MAX_USERS];
	struct sx_cfg_grant grants[SX_CFG_MAX_GRANTS];
};

/**
 * Fills @p cfg with the defaults (no assets, symbols, users or grants).
 */
void sx_config_defaults(struct sx_config *cfg);

/**
 * Parses the INI file @p path into @p cfg (defaults first).
 * @param err receives a one-line reason on failure ("file:line: ...")
 * @return 0, SHMEX_E_PARSE (syntax, unknown key or section, bad value),
 *         SHMEX_E_INVAL (a rule of the whole file broken), or -errno.
 */
int sx_config_load(const char *path, struct sx_config *cfg, char *err, size_t cap);

/**
 * Parses INI text (the same rules as sx_config_load(); @p name is used in
 * messages).
 */
int sx_config_parse(const char *text, const char *name, struct sx_config *cfg, char *err,
		    size_t cap);

/**
 * The built-in demo: assets USD (2 decimals), BTC and ETH (8), symbols
 * BTC/USD and ETH/USD, three funded users (mm1, mm2, taker), and @p uid
 * granted both roles for every user.
 */
int sx_config_demo(uint32_t uid, struct sx_config *cfg, char *err, size_t cap);

/** The demo config's INI text (for `shmexd --print-demo-config`). */
const char *sx_config_demo_text(void);

/**
 * Checks the rules that span sections (thread layout against symbols,
 * every symbol's matcher in range, exchange capacities, ...).
 * @return 0 or SHMEX_E_INVAL with a reason in @p err.
 */
int sx_config_check(const struct sx_config *cfg, char *err, size_t cap);

#endif /* SX_ENGINE_CONFIG_H */
