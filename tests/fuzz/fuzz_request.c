/*
 * libFuzzer target for the request decoder (src/engine/request_decode.c)
 * and what a decoded request may do to the exchange: the input is a run of
 * 64-byte request lines exactly as a hostile client could write them into
 * its request ring. Each line is decoded; a refused line must leave the
 * command cleared; an accepted one must have every enum in range and is
 * then executed on a small exchange (two users, one symbol) the way the
 * matcher executes it, after which every exchange invariant must hold
 * (shmex_exchange_check). One bit of each line's padding-free area picks
 * whether user and symbol are folded into the valid range, so the fuzzer
 * reaches the book as well as the refusals.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static struct shmex_exchange *sx_make(void)
{
	struct shmex_exchange_config xc = { .max_assets = 2, .max_symbols = 1, .max_users = 2,
					    .max_orders = 64 };
	struct shmex_exchange *ex;
	check(shmex_exchange_create(&xc, &ex) == 0);
	struct shmex_asset_params base = { "B", 0 }, quote = { "Q", 0 };
	uint32_t a, b, s, u;
	check(shmex_exchange_add_asset(ex, &base, &a) == 0);
	check(shmex_exchange_add_asset(ex, &quote, &b) == 0);
	struct shmex_symbol_params sp = { .code = "B/Q", .base = a, .quote = b, .tick_size = 1,
					  .lot_size = 1, .maker_fee_ppm = -100,
					  .taker_fee_ppm = 300, .max_matches = 8 };
	check(shmex_exchange_add_symbol(ex, &sp, &s) == 0);
	for (int i = 0; i < 2; i++) {
		check(shmex_exchange_add_user(ex, NULL, &u) == 0);
		check(shmex_exchange_deposit(ex, u, a, 1000000, 0, NULL) == 0);
		check(shmex_exchange_deposit(ex, u, b, 1000000000, 0, NULL) == 0);
	}
	return ex;
}

static void sx_execute(struct shmex_exchange *ex, struct sx_cmd *c, int fold)
{
	struct shmex_order_ack ack;
	uint32_t count;
	if (c->op == SX_CMD_SUBMIT) {
		if (fold) {
			c->u.submit.user = 1 + c->u.submit.user % 2;
			c->u.submit.symbol = 1;
			c->u.submit.price = 1 + c->u.submit.price % 64;
			c->u.submit.qty = 1 + c->u.submit.qty % 32;
		}
		shmex_exchange_submit(ex, &c->u.submit, &ack);
		return;
	}
	if (fold) {
		c->u.target.user = 1 + c->u.target.user % 2;
		c->u.target.order_id %= 128;
		c->u.target.symbol %= 2;
	}
	switch (c->op) {
	case SX_CMD_CANCEL:
		shmex_exchange_cancel(ex, c->u.target.user, c->u.target.order_id, &ack);
		break;
	case SX_CMD_AMEND:
		shmex_exchange_amend(ex, c->u.target.user, c->u.target.order_id,
				     fold ? 1 + c->u.target.price % 64 : c->u.target.price,
				     fold ? 1 + c->u.target.qty % 32 : c->u.target.qty, &ack);
		break;
	case SX_CMD_MASS_CANCEL:
		shmex_exchange_mass_cancel(ex, c->u.target.user, c->u.target.symbol, &count);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shmex_exchange *ex = sx_make();
	for (size_t off = 0; off + sizeof(struct shmex_request) <= size;
	     off += sizeof(struct shmex_request)) {
		struct shmex_request r;
		struct sx_cmd c;
		memcpy(&r, data + off, sizeof r);
		/* The top bit of the client id folds the line into range. */
		const int fold = (int)(r.client_id >> 63);
		const int reason = sx_request_decode(&r, &c);
		if (reason != SHMEX_R_NONE) {
			check(c.op == 0);
			continue;
		}
		check(c.op >= SX_CMD_SUBMIT && c.op <= SX_CMD_PING);
		if (c.op == SX_CMD_SUBMIT) {
			check(c.u.submit.side <= SHMEX_SELL && c.u.submit.type <= SHMEX_TAKE_PROFIT_MARKET);
			check(c.u.submit.tif <= SHMEX_GTD && c.u.submit.stp <= SHMEX_STP_CANCEL_BOTH);
			check(c.u.submit.qty > 0 && c.u.submit.price >= 0);
			check(c.u.submit.user != SHMEX_FEE_ACCOUNT);
		}
		sx_execute(ex, &c, fold);
		check(shmex_exchange_check(ex, NULL, 0) == 0);
	}
	shmex_exchange_destroy(ex);
	return 0;
}
