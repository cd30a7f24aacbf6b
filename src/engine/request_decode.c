/*
 * The request decoder: a 64-byte line a client wrote, already copied out of
 * its ring into the gateway's memory, checked field by field and turned
 * into a command for the matcher. Nothing is trusted: every enum is
 * range-checked, every field that does not apply to the request's type must
 * be zero, and padding must be zero (so a garbage line is refused rather
 * than half-understood). The exchange then applies its own rules (prices,
 * lots, funds, risk) and rejects with its reasons.
 */
#include <string.h>

#include "engine.h"

static int sx_decode_submit(const struct shmex_request *r, struct sx_cmd *out)
{
	if (r->side > SHMEX_SELL || r->order_type > SHMEX_TAKE_PROFIT_MARKET ||
	    r->tif > SHMEX_GTD || r->stp > SHMEX_STP_CANCEL_BOTH ||
	    (r->flags & ~(uint8_t)SHMEX_OF_POST_ONLY) != 0)
		return SHMEX_R_BAD_REQUEST;
	if (r->qty <= 0)
		return SHMEX_R_BAD_QTY;
	if (r->price < 0)
		return SHMEX_R_BAD_PRICE;
	if (r->display_qty < 0 || r->aux < 0 || r->expire_at < 0)
		return SHMEX_R_BAD_OPTION;
	struct shmex_order_request *o = &out->u.submit;
	memset(o, 0, sizeof *o);
	o->client_id = r->client_id;
	o->user = r->user;
	o->symbol = r->symbol;
	o->price = r->price;
	o->qty = r->qty;
	o->display_qty = r->display_qty;
	o->expire_at = r->expire_at;
	o->side = r->side;
	o->type = r->order_type;
	o->tif = r->tif;
	o->stp = r->stp;
	o->flags = r->flags;
	if (r->order_type >= SHMEX_STOP_LIMIT)
		o->trigger_price = r->aux;
	else if (r->order_type == SHMEX_MARKET)
		o->quote_budget = r->aux;
	else if (r->aux != 0)
		return SHMEX_R_BAD_OPTION;
	out->op = SX_CMD_SUBMIT;
	return SHMEX_R_NONE;
}

/* Fields a non-submit request must leave zero (display_qty shares its
 * word with order_id). */
static int sx_order_fields_zero(const struct shmex_request *r)
{
	return r->side == 0 && r->order_type == 0 && r->tif == 0 && r->stp == 0 && r->flags == 0 &&
	       r->aux == 0 && r->expire_at == 0;
}

int sx_request_decode(const struct shmex_request *r, struct sx_cmd *out)
{
	memset(out, 0, sizeof *out);
	if (r->pad != 0)
		return SHMEX_R_BAD_REQUEST;
	if (r->type != SHMEX_REQ_PING && r->user == SHMEX_FEE_ACCOUNT)
		return SHMEX_R_UNKNOWN_USER;
	if (r->type == SHMEX_REQ_SUBMIT)
		return sx_decode_submit(r, out);
	if (!sx_order_fields_zero(r))
		return SHMEX_R_BAD_REQUEST;
	out->u.target.user = r->user;
	out->u.target.symbol = r->symbol;
	out->u.target.order_id = r->order_id;
	out->u.target.client_id = r->client_id;
	out->u.target.price = r->price;
	out->u.target.qty = r->qty;
	switch (r->type) {
	case SHMEX_REQ_CANCEL:
		if (r->symbol != 0 || r->price != 0 || r->qty != 0 ||
		    (r->order_id == 0 && r->client_id == 0))
			return SHMEX_R_BAD_REQUEST;
		out->op = SX_CMD_CANCEL;
		return SHMEX_R_NONE;
	case SHMEX_REQ_AMEND:
		if (r->symbol != 0 || r->client_id != 0 || r->order_id == 0)
			return SHMEX_R_BAD_REQUEST;
		if (r->price <= 0)
			return SHMEX_R_BAD_PRICE;
		if (r->qty <= 0)
			return SHMEX_R_BAD_QTY;
		out->op = SX_CMD_AMEND;
		return SHMEX_R_NONE;
	case SHMEX_REQ_MASS_CANCEL:
		if (r->order_id != 0 || r->client_id != 0 || r->price != 0 || r->qty != 0)
			return SHMEX_R_BAD_REQUEST;
		out->op = SX_CMD_MASS_CANCEL;
		return SHMEX_R_NONE;
	case SHMEX_REQ_PING:
		if (r->order_id != 0 || r->price != 0 || r->qty != 0 || r->symbol != 0 ||
		    r->user != 0)
			return SHMEX_R_BAD_REQUEST;
		out->op = SX_CMD_PING;
		return SHMEX_R_NONE;
	default:
		return SHMEX_R_BAD_REQUEST;
	}
}
