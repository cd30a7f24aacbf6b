/**
 * @file fixed.h
 * @brief Exact fixed-point money arithmetic: checked int64 operations,
 *        128-bit notionals, rounding a*b/d, decimal parse and format.
 *
 * Model: prices are int64 ticks, quantities int64 lots, amounts int64 minor
 * units of an asset whose scale is `decimals` (0..18) decimal places, so
 * "123.45" of an 8-decimal asset is 12345000000 minor units. No floating
 * point is used anywhere.
 *
 * Every function returns 0 (or a length, for the formatters) on success or a
 * negative code from shmex/error.h. Results go through out-pointers, which
 * are written only on success: on error the caller's value is left as it
 * was. Overflow is always reported (SHMEX_E_OVERFLOW), never wrapped.
 *
 * All functions are pure: they touch no shared state and may be called from
 * any thread. Pointer arguments must be valid; they are not checked.
 */
#ifndef SHMEX_FIXED_H
#define SHMEX_FIXED_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/error.h"
#include "shmex/int128.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest supported asset scale: 10^18 is the largest power of ten in int64. */
#define SHMEX_DECIMALS_MAX 18u

/**
 * Buffer size that holds any shmex_dec_format() result with its NUL:
 * sign, 19 digits, '.', and the terminator.
 */
#define SHMEX_DEC_BUFSZ 24u

/** Buffer size that holds any shmex_u128_format() / shmex_i128_format()
 *  result with its NUL: sign, 39 digits and the terminator. */
#define SHMEX_I128_BUFSZ 41u

/** How shmex_muldiv() rounds an inexact quotient. */
enum shmex_rounding {
	SHMEX_ROUND_DOWN = 0,  /**< toward negative infinity (floor) */
	SHMEX_ROUND_UP = 1,    /**< toward positive infinity (ceiling) */
	SHMEX_ROUND_TRUNC = 2, /**< toward zero */
};

/**
 * Checked addition: *out = a + b.
 *
 * @param a   first addend
 * @param b   second addend
 * @param out receives the sum; untouched on error
 * @return 0, or SHMEX_E_OVERFLOW if the sum is outside int64.
 */
static inline int shmex_add_checked(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return SHMEX_E_OVERFLOW;
	*out = r;
	return 0;
}

/**
 * Checked subtraction: *out = a - b.
 *
 * @param a   minuend
 * @param b   subtrahend
 * @param out receives the difference; untouched on error
 * @return 0, or SHMEX_E_OVERFLOW if the difference is outside int64.
 */
static inline int shmex_sub_checked(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return SHMEX_E_OVERFLOW;
	*out = r;
	return 0;
}

/**
 * Checked multiplication: *out = a * b.
 *
 * @param a   first factor
 * @param b   second factor
 * @param out receives the product; untouched on error
 * @return 0, or SHMEX_E_OVERFLOW if the product is outside int64.
 */
static inline int shmex_mul_checked(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return SHMEX_E_OVERFLOW;
	*out = r;
	return 0;
}

/**
 * Exact notional: *out = price * qty in 128 bits.
 *
 * The product of two int64 values always fits in 127 bits, so this cannot
 * fail; it returns int only to match the other helpers.
 *
 * @param price price in ticks (any sign)
 * @param qty   quantity in lots (any sign)
 * @param out   receives the exact product
 * @return 0 always.
 */
static inline int shmex_notional(int64_t price, int64_t qty, shmex_i128 *out)
{
	*out = (shmex_i128)price * qty;
	return 0;
}

/**
 * Checked 128-bit addition: *out = a + b.
 *
 * For running sums of notionals.
 *
 * @param a   first addend
 * @param b   second addend
 * @param out receives the sum; untouched on error
 * @return 0, or SHMEX_E_OVERFLOW if the sum is outside the 128-bit range.
 */
static inline int shmex_i128_add_checked(shmex_i128 a, shmex_i128 b,
					 shmex_i128 *out)
{
	shmex_i128 r;

	if (__builtin_add_overflow(a, b, &r))
		return SHMEX_E_OVERFLOW;
	*out = r;
	return 0;
}

/**
 * Narrows a 128-bit value to int64.
 *
 * @param v   value to narrow
 * @param out receives v; untouched on error
 * @return 0, or SHMEX_E_OVERFLOW if v is outside int64.
 */
static inline int shmex_i128_to_i64(shmex_i128 v, int64_t *out)
{
	if (v < INT64_MIN || v > INT64_MAX)
		return SHMEX_E_OVERFLOW;
	*out = (int64_t)v;
	return 0;
}

/**
 * Rounded exact a * b / d.
 *
 * The product is formed exactly in 128 bits and divided once, so there is
 * no intermediate overflow and exactly one rounding, in the direction @p r
 * asks for. Any operand may be negative (a negative fee rate is a rebate).
 * Typical use: fee = muldiv(notional, rate_ppm, 1000000, SHMEX_ROUND_UP).
 *
 * @param a   first factor
 * @param b   second factor
 * @param d   divisor, non-zero
 * @param r   rounding of an inexact quotient
 * @param out receives the rounded quotient; untouched on error
 * @return 0 on success;
 *         SHMEX_E_INVAL if d is 0 or r is not a shmex_rounding value;
 *         SHMEX_E_OVERFLOW if the rounded quotient is outside int64.
 */
static inline int shmex_muldiv(int64_t a, int64_t b, int64_t d,
			       enum shmex_rounding r, int64_t *out)
{
	int64_t p64, q64, m64;
	shmex_i128 p, q, m;

	if (d == 0 || (r != SHMEX_ROUND_DOWN && r != SHMEX_ROUND_UP &&
		       r != SHMEX_ROUND_TRUNC))
		return SHMEX_E_INVAL;

	/* Common case: product fits in 64 bits, avoid the 128-bit divide.
	 * INT64_MIN / -1 is the one 64-bit quotient that traps. */
	if (!__builtin_mul_overflow(a, b, &p64) &&
	    !(p64 == INT64_MIN && d == -1)) {
		q64 = p64 / d;
		m64 = p64 % d;
		/* C truncates and the remainder takes the dividend's sign,
		 * so an inexact quotient is negative iff the remainder's and
		 * the divisor's signs differ. Inexact means |d| >= 2, hence
		 * |q64| <= 2^62 and the one-step nudge cannot overflow. */
		if (m64 != 0) {
			if ((m64 < 0) != (d < 0)) {
				if (r == SHMEX_ROUND_DOWN)
					q64--;
			} else if (r == SHMEX_ROUND_UP) {
				q64++;
			}
		}
		*out = q64;
		return 0;
	}

	/* |a * b| <= 2^126, so neither the product nor p / d can overflow. */
	p = (shmex_i128)a * b;
	q = p / d;
	m = p % d;
	if (m != 0) {
		if ((m < 0) != (d < 0)) {
			if (r == SHMEX_ROUND_DOWN)
				q--;
		} else if (r == SHMEX_ROUND_UP) {
			q++;
		}
	}
	return shmex_i128_to_i64(q, out);
}

/**
 * Parses an exact decimal into minor units of scale @p decimals.
 *
 * Grammar: [+-] digits [ '.' digits ], with at least one digit in total, so
 * "1.", ".5", "-0" and "00012" are accepted. No whitespace, exponent, digit
 * separators or other characters. Fractional digits beyond @p decimals are
 * accepted only if they are all '0' ("1.2300" at scale 2 is 123). Only the
 * first @p len bytes are read; no NUL terminator is needed.
 *
 * Errors are checked in this order, so the first that applies is returned.
 *
 * @param s        text, need not be NUL-terminated
 * @param len      number of bytes of @p s to parse
 * @param decimals scale of the result, 0..SHMEX_DECIMALS_MAX
 * @param out      receives value * 10^decimals; untouched on error
 * @return 0 on success;
 *         SHMEX_E_INVAL if decimals > SHMEX_DECIMALS_MAX;
 *         SHMEX_E_PARSE if the text does not match the grammar;
 *         SHMEX_E_PRECISION if a non-zero digit lies beyond the scale;
 *         SHMEX_E_OVERFLOW if the scaled value is outside int64.
 */
int shmex_dec_parse(const char *s, size_t len, unsigned decimals,
		    int64_t *out);

/**
 * Formats minor units @p v of scale @p decimals as an exact decimal.
 *
 * Output is canonical: '-' only for negative values, no '+', the integer
 * part without leading zeros (a single "0" if it is zero), then, if
 * decimals > 0, '.' and exactly @p decimals fractional digits:
 * (-1, 8) gives "-0.00000001", (1250, 2) gives "12.50", (7, 0) gives "7".
 * shmex_dec_parse() of the result at the same scale gives back @p v.
 *
 * @param v        value in minor units
 * @param decimals scale, 0..SHMEX_DECIMALS_MAX
 * @param buf      receives the NUL-terminated text; on error, if cap > 0,
 *                 it receives "" so that it is never left unterminated
 * @param cap      size of @p buf in bytes; SHMEX_DEC_BUFSZ always suffices
 * @return the length written (not counting the NUL) on success;
 *         SHMEX_E_INVAL if decimals > SHMEX_DECIMALS_MAX;
 *         SHMEX_E_NOSPACE if the text and its NUL do not fit in @p cap.
 */
int shmex_dec_format(int64_t v, unsigned decimals, char *buf, size_t cap);

/**
 * Parses an unsigned decimal integer: one or more ASCII digits, nothing
 * else (no sign, no whitespace). Leading zeros are accepted.
 *
 * Made for replay input: a tight loop with no locale, no errno and no
 * overflow test for the first 19 digits.
 *
 * @param s   text, need not be NUL-terminated
 * @param len number of bytes of @p s to parse
 * @param out receives the value; untouched on error
 * @return 0 on success;
 *         SHMEX_E_PARSE if the text is empty or holds a non-digit;
 *         SHMEX_E_OVERFLOW if the value exceeds UINT64_MAX.
 */
int shmex_u64_parse(const char *s, size_t len, uint64_t *out);

/**
 * Parses a signed decimal integer: an optional '-' or '+' then one or more
 * ASCII digits, nothing else. Same speed notes as shmex_u64_parse().
 *
 * @param s   text, need not be NUL-terminated
 * @param len number of bytes of @p s to parse
 * @param out receives the value; untouched on error
 * @return 0 on success;
 *         SHMEX_E_PARSE if the text is not in that form;
 *         SHMEX_E_OVERFLOW if the value is outside int64.
 */
int shmex_i64_parse(const char *s, size_t len, int64_t *out);

/**
 * Writes @p v in decimal at @p p, no NUL, and returns the end. For output
 * loops that have already made room (at most 20 bytes). Fast: no division
 * by a variable, no locale.
 */
static inline char *shmex_u64_put(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/**
 * Formats an unsigned 128-bit value in decimal, NUL-terminated.
 *
 * @param v   value
 * @param buf receives the text; on error, if cap > 0, it receives ""
 * @param cap size of @p buf in bytes; SHMEX_I128_BUFSZ always suffices
 * @return the length written (not counting the NUL) on success;
 *         SHMEX_E_NOSPACE if the text and its NUL do not fit in @p cap.
 */
int shmex_u128_format(shmex_u128 v, char *buf, size_t cap);

/**
 * Formats a signed 128-bit value (a notional, a sum) in decimal,
 * NUL-terminated, with '-' for negative values.
 *
 * @param v   value
 * @param buf receives the text; on error, if cap > 0, it receives ""
 * @param cap size of @p buf in bytes; SHMEX_I128_BUFSZ always suffices
 * @return the length written (not counting the NUL) on success;
 *         SHMEX_E_NOSPACE if the text and its NUL do not fit in @p cap.
 */
int shmex_i128_format(shmex_i128 v, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_FIXED_H */
