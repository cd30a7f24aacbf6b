/*
 * An exchange order report (include/shmex/exchange.h) as the report
 * message a session reads (shm/shmex_report.h): the matcher's conversion,
 * also what the differential tests convert their reference's reports with.
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

#endif /* SX_REPORT_CONVERT_H */
