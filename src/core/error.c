/* Error code names for shmex_strerror(). */
#include <string.h>

#include "shmex/error.h"

static const char *const sx_error_names[] = {
	[SHMEX_E_INVAL - SHMEX_ERR_FIRST] = "invalid argument",
	[SHMEX_E_OVERFLOW - SHMEX_ERR_FIRST] = "arithmetic overflow",
	[SHMEX_E_PRECISION - SHMEX_ERR_FIRST] = "too many decimal places for the scale",
	[SHMEX_E_PARSE - SHMEX_ERR_FIRST] = "not a number",
	[SHMEX_E_NOSPACE - SHMEX_ERR_FIRST] = "output buffer too small",
	[SHMEX_E_FULL - SHMEX_ERR_FIRST] = "capacity exhausted",
	[SHMEX_E_DUPLICATE - SHMEX_ERR_FIRST] = "duplicate id",
	[SHMEX_E_UNKNOWN_ORDER - SHMEX_ERR_FIRST] = "unknown order",
	[SHMEX_E_BAD_PRICE - SHMEX_ERR_FIRST] = "price zero or out of range",
	[SHMEX_E_BAD_QTY - SHMEX_ERR_FIRST] = "quantity zero or out of range",
	[SHMEX_E_BAD_OPTION - SHMEX_ERR_FIRST] = "order option does not apply",
	[SHMEX_E_WOULD_CROSS - SHMEX_ERR_FIRST] = "post-only order would trade",
	[SHMEX_E_EXPIRED - SHMEX_ERR_FIRST] = "expiry time already passed",
	[SHMEX_E_NOFUNDS - SHMEX_ERR_FIRST] = "insufficient available balance",
	[SHMEX_E_RISK - SHMEX_ERR_FIRST] = "refused by risk limit",
	[SHMEX_E_HALTED - SHMEX_ERR_FIRST] = "symbol halted",
	[SHMEX_E_UNKNOWN_USER - SHMEX_ERR_FIRST] = "unknown user",
	[SHMEX_E_UNKNOWN_ASSET - SHMEX_ERR_FIRST] = "unknown asset",
	[SHMEX_E_UNKNOWN_SYMBOL - SHMEX_ERR_FIRST] = "unknown symbol",
	[SHMEX_E_EXISTS - SHMEX_ERR_FIRST] = "already exists",
	[SHMEX_E_RATE - SHMEX_ERR_FIRST] = "rate limit exceeded",
	[SHMEX_E_INVARIANT - SHMEX_ERR_FIRST] = "invariant violated",
	[SHMEX_E_NOMEM - SHMEX_ERR_FIRST] = "out of memory",
	[SHMEX_E_PROTOCOL - SHMEX_ERR_FIRST] = "peer broke the shared-memory protocol",
	[SHMEX_E_VERSION - SHMEX_ERR_FIRST] = "shared-memory layout version mismatch",
};

_Static_assert(sizeof sx_error_names / sizeof sx_error_names[0] ==
		       SHMEX_ERR_LAST - SHMEX_ERR_FIRST + 1,
	       "every shmex error code needs a name");

const char *shmex_strerror(int err)
{
	if (err == 0)
		return "success";
	if (err >= SHMEX_ERR_FIRST && err <= SHMEX_ERR_LAST)
		return sx_error_names[err - SHMEX_ERR_FIRST];
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}
