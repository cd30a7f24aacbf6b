/**
 * @file error.h
 * @brief shmex error codes.
 *
 * Every shmex function that can fail returns an `int`: 0 on success or a
 * negative code. Codes in [SHMEX_ERR_FIRST, SHMEX_ERR_LAST] are shmex's own
 * (a reserved range, like LMDB's MDB_KEYEXIST..MDB_LAST_ERRCODE); any other
 * negative value is a negated errno. shmex_strerror() names both.
 *
 * Codes are stable: they are never renumbered, new ones are appended.
 */
#ifndef SHMEX_ERROR_H
#define SHMEX_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum shmex_error {
	SHMEX_OK = 0,
	SHMEX_ERR_FIRST = -40099,
	SHMEX_E_INVAL = SHMEX_ERR_FIRST, /**< malformed argument */
	SHMEX_E_OVERFLOW,       /**< arithmetic result does not fit its type */
	SHMEX_E_PRECISION,      /**< decimal has more digits than the scale allows */
	SHMEX_E_PARSE,          /**< text is not a number in the expected form */
	SHMEX_E_NOSPACE,        /**< output buffer too small */
	SHMEX_E_FULL,           /**< a fixed-capacity pool is exhausted */
	SHMEX_E_DUPLICATE,      /**< id already in use */
	SHMEX_E_UNKNOWN_ORDER,  /**< no live order with that id */
	SHMEX_E_BAD_PRICE,      /**< price zero, negative or out of range */
	SHMEX_E_BAD_QTY,        /**< quantity zero, negative or out of range */
	SHMEX_E_BAD_OPTION,     /**< order option that does not apply */
	SHMEX_E_WOULD_CROSS,    /**< post-only order would have traded */
	SHMEX_E_EXPIRED,        /**< GTD expiry already passed */
	SHMEX_E_NOFUNDS,        /**< not enough available balance */
	SHMEX_E_RISK,           /**< refused by a pre-trade risk limit */
	SHMEX_E_HALTED,         /**< symbol is not open for trading */
	SHMEX_E_UNKNOWN_USER,   /**< no such user */
	SHMEX_E_UNKNOWN_ASSET,  /**< no such asset */
	SHMEX_E_UNKNOWN_SYMBOL, /**< no such symbol */
	SHMEX_E_EXISTS,         /**< object already registered */
	SHMEX_E_RATE,           /**< order rate limit exceeded */
	SHMEX_E_INVARIANT,      /**< an exchange invariant does not hold */
	SHMEX_E_NOMEM,          /**< start-up allocation failed */
	SHMEX_E_PROTOCOL,       /**< the peer broke the shared-memory protocol (bad index or layout) */
	SHMEX_E_VERSION,        /**< shared-memory magic, layout version or layout hash differs */
	SHMEX_ERR_LAST = SHMEX_E_VERSION,
};

/**
 * Human-readable text for @p err: a shmex code, a negated errno, or 0.
 * Never returns NULL; the string is static. Thread-safe.
 */
const char *shmex_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_ERROR_H */
