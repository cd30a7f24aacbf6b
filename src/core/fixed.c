/* Decimal parse and format for fixed-point money (see shmex/fixed.h).
 * Integer-only; no locale, no errno, no libc number conversion. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shmex/fixed.h"

static const uint64_t sx_pow10[SHMEX_DECIMALS_MAX + 1] = {
	1ull,
	10ull,
	100ull,
	1000ull,
	10000ull,
	100000ull,
	1000000ull,
	10000000ull,
	100000000ull,
	1000000000ull,
	10000000000ull,
	100000000000ull,
	1000000000000ull,
	10000000000000ull,
	100000000000000ull,
	1000000000000000ull,
	10000000000000000ull,
	100000000000000000ull,
	1000000000000000000ull,
};

/* Magnitude of INT64_MIN; the largest magnitude a negative value may have. */
#define SX_I64_NEG_LIMIT ((uint64_t)INT64_MAX + 1u)

/* Any 19 digits fit in uint64 (UINT64_MAX has 20). */
#define SX_U64_SAFE_DIGITS 19u

static inline unsigned sx_digit(char c)
{
	/* Wraps for bytes below '0', so one compare rejects all non-digits. */
	return (unsigned)(unsigned char)c - (unsigned)'0';
}

/*
 * Accumulates the run of digits at the start of s[0..len); returns how many
 * were consumed. The first 19 need no overflow test; past that, an overflow
 * sets *ovf but scanning goes on, so that a syntax error later in the text
 * is still the one reported.
 */
static inline size_t sx_scan_digits(const char *s, size_t len, uint64_t *v,
				    bool *ovf)
{
	size_t fast = len < SX_U64_SAFE_DIGITS ? len : SX_U64_SAFE_DIGITS;
	uint64_t acc = 0;
	size_t i;
	unsigned d;

	for (i = 0; i < fast; i++) {
		d = sx_digit(s[i]);
		if (d > 9)
			goto done;
		acc = acc * 10 + d;
	}
	for (; i < len; i++) {
		d = sx_digit(s[i]);
		if (d > 9)
			break;
		if (__builtin_mul_overflow(acc, 10u, &acc) ||
		    __builtin_add_overflow(acc, d, &acc))
			*ovf = true;
	}
done:
	*v = acc;
	return i;
}

/* Applies a sign to a magnitude, refusing what int64 cannot hold. */
static inline int sx_signed(bool neg, uint64_t mag, int64_t *out)
{
	if (neg) {
		if (mag > SX_I64_NEG_LIMIT)
			return SHMEX_E_OVERFLOW;
		/* -(mag - 1) - 1 stays in range even for INT64_MIN. */
		*out = mag == 0 ? 0 : -(int64_t)(mag - 1) - 1;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return SHMEX_E_OVERFLOW;
		*out = (int64_t)mag;
	}
	return 0;
}

int shmex_u64_parse(const char *s, size_t len, uint64_t *out)
{
	bool ovf = false;
	uint64_t v;

	if (len == 0 || sx_scan_digits(s, len, &v, &ovf) != len)
		return SHMEX_E_PARSE;
	if (ovf)
		return SHMEX_E_OVERFLOW;
	*out = v;
	return 0;
}

int shmex_i64_parse(const char *s, size_t len, int64_t *out)
{
	bool neg = false, ovf = false;
	uint64_t mag;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		s++;
		len--;
	}
	if (len == 0 || sx_scan_digits(s, len, &mag, &ovf) != len)
		return SHMEX_E_PARSE;
	if (ovf)
		return SHMEX_E_OVERFLOW;
	return sx_signed(neg, mag, out);
}

int shmex_dec_parse(const char *s, size_t len, unsigned decimals,
		    int64_t *out)
{
	bool neg = false, ovf = false, lost = false;
	uint64_t ipart, fpart = 0, mag;
	size_t i = 0, nint, nfrac = 0, k;
	unsigned d;

	if (decimals > SHMEX_DECIMALS_MAX)
		return SHMEX_E_INVAL;
	if (len == 0)
		return SHMEX_E_PARSE;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
	}
	nint = sx_scan_digits(s + i, len - i, &ipart, &ovf);
	i += nint;
	if (i < len && s[i] == '.') {
		for (i++; i < len; i++, nfrac++) {
			d = sx_digit(s[i]);
			if (d > 9)
				break;
			/* Keep the first `decimals` digits; the rest must be
			 * zeros, but keep scanning for a syntax error. */
			if (nfrac < decimals)
				fpart = fpart * 10 + d;
			else if (d != 0)
				lost = true;
		}
	}
	if (i != len || nint + nfrac == 0)
		return SHMEX_E_PARSE;
	if (lost)
		return SHMEX_E_PRECISION;
	if (ovf)
		return SHMEX_E_OVERFLOW;

	k = nfrac < decimals ? nfrac : decimals;
	fpart *= sx_pow10[decimals - k]; /* < 10^decimals <= 10^18 */
	if (__builtin_mul_overflow(ipart, sx_pow10[decimals], &mag) ||
	    __builtin_add_overflow(mag, fpart, &mag))
		return SHMEX_E_OVERFLOW;
	return sx_signed(neg, mag, out);
}

/* Writes exactly n decimal digits of v, zero-padded, ending just before
 * `end`; returns the start. v must be < 10^n. */
static char *sx_put_padded(char *end, uint64_t v, unsigned n)
{
	while (n-- > 0) {
		*--end = (char)('0' + v % 10);
		v /= 10;
	}
	return end;
}

/* Writes v in decimal (at least one digit) ending just before `end`. */
static char *sx_put_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/* Copies the text [p, end) to buf with a NUL, or reports no space. */
static int sx_emit(const char *p, const char *end, char *buf, size_t cap)
{
	size_t n = (size_t)(end - p);

	if (n >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return SHMEX_E_NOSPACE;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	return (int)n;
}

int shmex_dec_format(int64_t v, unsigned decimals, char *buf, size_t cap)
{
	char tmp[SHMEX_DEC_BUFSZ];
	char *end = tmp + sizeof tmp, *p = end;
	/* Unsigned negation gives |INT64_MIN| without overflow. */
	uint64_t mag = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;

	if (decimals > SHMEX_DECIMALS_MAX) {
		if (cap > 0)
			buf[0] = '\0';
		return SHMEX_E_INVAL;
	}
	if (decimals > 0) {
		p = sx_put_padded(p, mag % sx_pow10[decimals], decimals);
		*--p = '.';
	}
	p = sx_put_u64(p, mag / sx_pow10[decimals]);
	if (v < 0)
		*--p = '-';
	return sx_emit(p, end, buf, cap);
}

/* Writes v in decimal ending just before `end`: base-10^19 chunks, so at
 * most two 128-bit divisions, the rest in 64 bits. */
static char *sx_put_u128(char *end, shmex_u128 v)
{
	const uint64_t chunk = 10000000000000000000ull; /* 10^19 */

	while (v > UINT64_MAX) {
		end = sx_put_padded(end, (uint64_t)(v % chunk), 19);
		v /= chunk;
	}
	return sx_put_u64(end, (uint64_t)v);
}

int shmex_u128_format(shmex_u128 v, char *buf, size_t cap)
{
	char tmp[SHMEX_I128_BUFSZ];
	char *end = tmp + sizeof tmp;

	return sx_emit(sx_put_u128(end, v), end, buf, cap);
}

int shmex_i128_format(shmex_i128 v, char *buf, size_t cap)
{
	char tmp[SHMEX_I128_BUFSZ];
	char *end = tmp + sizeof tmp, *p;
	shmex_u128 mag = v < 0 ? (shmex_u128)0 - (shmex_u128)v : (shmex_u128)v;

	p = sx_put_u128(end, mag);
	if (v < 0)
		*--p = '-';
	return sx_emit(p, end, buf, cap);
}
