/*
 * An exchange order report (include/shmex/exchange.h) as the report
 * message a session reads (shm/shmex_report.h), and the reason of a call
 * that made none: the matcher's conversions, also what the differential
 * tests use on their reference's reports.
 */
#ifndef SX_REPORT_CONVERT_H
#define SX_REPORT_CONVERT_H

#include <string.h>

#include "shmex/exchange.h"
#include "shmex_report.h"

/* Fields the two share; request_no and flags are the matcher's to set. */
static inline void sx_report_from_order(const struct shmex_order_report *r,
					struct shmex_report *o)
{
	memset(o, 0, sizeof *o);
	o->kind = SHMEX_RPT_ORDER;
	o->what = (uint8_t)r->what;
	o->status = r->status;
	o->reason = r->reason;
	o->side = r->side;
	o->liquidity = r->liquidity;
	o->user = r->user;
	o->symbol = r->symbol;
	o->order_id = r->order_id;
	o->client_id = r->client_id;
	o->seq = r->seq;
	o->price = r->price;
	o->last_qty = r->last_qty;
	o->remaining = r->remaining;
	o->trade_id = r->trade_id;
	o->counter_id = r->counter_id;
	o->filled = r->filled;
	o->qty = r->qty;
	o->quote_amount = r->quote_amount;
	o->fee = r->fee;
	o->time = r->time;
}

/* The reason a session is told when an exchange call made no report: the
 * ack's, else one named after the call's error code. */
static inline uint16_t sx_reason_of(int rc, const struct shmex_order_ack *ack)
{
	if (ack->reason)
		return ack->reason;
	switch (rc) {
	case SHMEX_E_UNKNOWN_USER: return SHMEX_R_UNKNOWN_USER;
	case SHMEX_E_UNKNOWN_SYMBOL: return SHMEX_R_UNKNOWN_SYMBOL;
	case SHMEX_E_UNKNOWN_ORDER: return SHMEX_R_UNKNOWN_ORDER;
	default: return SHMEX_R_BAD_REQUEST;
	}
}

#endif /* SX_REPORT_CONVERT_H */
