/* Stable names of reject and end reasons (enum shmex_reason). */
#include "shmex/book.h"

const char *shmex_reason_name(int reason)
{
	static const char *const names[] = {
		[SHMEX_R_NONE] = "NONE",
		[SHMEX_R_CANCEL_REQUEST] = "CANCEL_REQUEST",
		[SHMEX_R_REDUCED_TO_ZERO] = "REDUCED_TO_ZERO",
		[SHMEX_R_SELF_TRADE] = "SELF_TRADE",
		[SHMEX_R_IOC] = "IOC",
		[SHMEX_R_FOK] = "FOK",
		[SHMEX_R_POST_ONLY] = "POST_ONLY",
		[SHMEX_R_EXPIRED] = "EXPIRED",
		[SHMEX_R_UNKNOWN_ORDER] = "UNKNOWN_ORDER",
		[SHMEX_R_DUPLICATE_ID] = "DUPLICATE_ID",
		[SHMEX_R_BAD_PRICE] = "BAD_PRICE",
		[SHMEX_R_BAD_QTY] = "BAD_QTY",
		[SHMEX_R_BAD_OPTION] = "BAD_OPTION",
		[SHMEX_R_BOOK_FULL] = "BOOK_FULL",
		[SHMEX_R_BUDGET] = "BUDGET",
		[SHMEX_R_MASS_CANCEL] = "MASS_CANCEL",
		[SHMEX_R_HALTED] = "HALTED",
		[SHMEX_R_NO_FUNDS] = "NO_FUNDS",
		[SHMEX_R_RISK] = "RISK",
		[SHMEX_R_RATE_LIMIT] = "RATE_LIMIT",
		[SHMEX_R_UNKNOWN_USER] = "UNKNOWN_USER",
		[SHMEX_R_UNKNOWN_SYMBOL] = "UNKNOWN_SYMBOL",
		[SHMEX_R_PRICE_BAND] = "PRICE_BAND",
		[SHMEX_R_MAX_OPEN_ORDERS] = "MAX_OPEN_ORDERS",
		[SHMEX_R_DUPLICATE_CLIENT_ID] = "DUPLICATE_CLIENT_ID",
		[SHMEX_R_OVERFLOW] = "OVERFLOW",
		[SHMEX_R_MATCH_LIMIT] = "MATCH_LIMIT",
		[SHMEX_R_BAD_REQUEST] = "BAD_REQUEST",
		[SHMEX_R_NO_GRANT] = "NO_GRANT",
		[SHMEX_R_SHUTDOWN] = "SHUTDOWN",
	};
	if (reason < 0 || (unsigned)reason >= sizeof names / sizeof names[0] || !names[reason])
		return "UNKNOWN_REASON";
	return names[reason];
}
