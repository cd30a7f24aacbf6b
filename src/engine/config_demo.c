/*
 * The built-in demo configuration: what `shmexd --demo` runs and
 * `shmexd --print-demo-config` prints. Small and realistic: two USD markets,
 * three funded users, one engine thread that blocks when idle.
 */
#include <stdio.h>

#include "engine/config.h"

static const char sx_demo_text[] =
	"; shmexd demo configuration (docs/CONFIG.md)\n"
	"[engine]\n"
	"gateways = 1\n"
	"matchers = 1\n"
	"layout = shared          ; one engine thread: gateway and matcher\n"
	"wait = block             ; sleep when idle (shared machines, CI)\n"
	"max_sessions = 64\n"
	"request_slots = 1024\n"
	"response_slots = 4096\n"
	"max_orders = 262144\n"
	"max_users = 64\n"
	"max_symbols = 16\n"
	"max_assets = 16\n"
	"socket = /tmp/shmex.sock\n"
	"data = ./shmex-data\n"
	"\n"
	"[asset USD]\n"
	"decimals = 2\n"
	"\n"
	"[asset BTC]\n"
	"decimals = 8\n"
	"\n"
	"[asset ETH]\n"
	"decimals = 8\n"
	"\n"
	"; Prices in cents per whole coin (tick = 1 cent of USD per whole base unit).\n"
	"[symbol BTC/USD]\n"
	"base = BTC\n"
	"quote = USD\n"
	"tick = 1                 ; $0.01\n"
	"lot = 100000             ; 0.001 BTC\n"
	"min_qty = 1\n"
	"max_qty = 100000         ; 100 BTC per order\n"
	"ref_price = 6000000      ; $60,000.00\n"
	"band_ppm = 100000        ; limits within 10 % of the reference\n"
	"maker_fee_ppm = -50      ; 0.005 % rebate\n"
	"taker_fee_ppm = 200      ; 0.02 %\n"
	"status = open\n"
	"matcher = 0\n"
	"\n"
	"[symbol ETH/USD]\n"
	"base = ETH\n"
	"quote = USD\n"
	"tick = 1                 ; $0.01\n"
	"lot = 1000000            ; 0.01 ETH\n"
	"min_qty = 1\n"
	"max_qty = 100000         ; 1000 ETH per order\n"
	"ref_price = 300000       ; $3,000.00\n"
	"band_ppm = 100000\n"
	"maker_fee_ppm = -50\n"
	"taker_fee_ppm = 200\n"
	"status = open\n"
	"matcher = 0\n"
	"\n"
	"[user mm1]\n"
	"deposit = USD:10000000.00\n"
	"deposit = BTC:100\n"
	"deposit = ETH:1000\n"
	"\n"
	"[user mm2]\n"
	"deposit = USD:10000000.00\n"
	"deposit = BTC:100\n"
	"deposit = ETH:1000\n"
	"\n"
	"[user taker]\n"
	"deposit = USD:10000000.00\n"
	"deposit = BTC:100\n"
	"deposit = ETH:1000\n"
	"\n"
	"; sx_config_demo() adds: [grant] uid = <the daemon's uid>, users = *,\n"
	"; roles = trader,admin\n";

const char *sx_config_demo_text(void)
{
	return sx_demo_text;
}

int sx_config_demo(uint32_t uid, struct sx_config *cfg, char *err, size_t cap)
{
	int rc = sx_config_parse(sx_demo_text, "demo", cfg, err, cap);

	if (rc != 0)
		return rc;
	if (cfg->ngrants == SX_CFG_MAX_GRANTS) {
		if (err != NULL && cap > 0)
			snprintf(err, cap, "demo: no room for the grant of uid %u", uid);
		return SHMEX_E_INVAL;
	}
	cfg->grants[cfg->ngrants++] = (struct sx_cfg_grant){
		.uid = uid,
		.user = SX_CFG_ALL_USERS,
		.roles = SHMEX_ROLE_TRADER | SHMEX_ROLE_ADMIN,
	};
	return sx_config_check(cfg, err, cap);
}
