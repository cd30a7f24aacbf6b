/* Fixed-point money helpers: checked arithmetic, rounding muldiv, decimal
 * parse/format. Each test pins one rule; the randomized tests compare with
 * slow references written without __int128 arithmetic where it matters.
 *
 * The random tests take their seed from SHMEX_TEST_SEED if set, else a
 * fixed default, and print it on failure. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "shmex/fixed.h"

#define SENTINEL INT64_C(0x5a5a5a5a5a5a5a5a)

/* ---- helpers ---------------------------------------------------------- */

static int dec_parse(const char *s, unsigned decimals, int64_t *out)
{
	return shmex_dec_parse(s, strlen(s), decimals, out);
}

static void expect_parse(const char *s, unsigned decimals, int64_t want)
{
	int64_t v = SENTINEL;
	int rc = dec_parse(s, decimals, &v);

	if (rc != 0 || v != want)
		print_error("parse \"%s\" at %u: rc %d value %" PRId64
			    ", want %" PRId64 "\n", s, decimals, rc, v, want);
	assert_int_equal(rc, 0);
	assert_true(v == want);
}

static void expect_parse_err(const char *s, unsigned decimals, int err)
{
	int64_t v = SENTINEL;
	int rc = dec_parse(s, decimals, &v);

	if (rc != err)
		print_error("parse \"%s\" at %u: rc %d (%s), want %d (%s)\n",
			    s, decimals, rc, shmex_strerror(rc), err,
			    shmex_strerror(err));
	assert_int_equal(rc, err);
	assert_true(v == SENTINEL); /* out untouched on error */
}

static void expect_format(int64_t v, unsigned decimals, const char *want)
{
	char buf[SHMEX_DEC_BUFSZ];
	int n = shmex_dec_format(v, decimals, buf, sizeof buf);

	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
}

static void expect_muldiv(int64_t a, int64_t b, int64_t d,
			  enum shmex_rounding r, int64_t want)
{
	int64_t v = SENTINEL;
	int rc = shmex_muldiv(a, b, d, r, &v);

	if (rc != 0 || v != want)
		print_error("muldiv(%" PRId64 ", %" PRId64 ", %" PRId64
			    ", %d): rc %d value %" PRId64 ", want %" PRId64
			    "\n", a, b, d, (int)r, rc, v, want);
	assert_int_equal(rc, 0);
	assert_true(v == want);
}

static void expect_muldiv_err(int64_t a, int64_t b, int64_t d,
			      enum shmex_rounding r, int err)
{
	int64_t v = SENTINEL;

	assert_int_equal(shmex_muldiv(a, b, d, r, &v), err);
	assert_true(v == SENTINEL);
}

static const enum shmex_rounding all_modes[] = {
	SHMEX_ROUND_DOWN, SHMEX_ROUND_UP, SHMEX_ROUND_TRUNC,
};

/* ---- checked add/sub/mul ---------------------------------------------- */

static void test_add_overflow_edges(void **state)
{
	int64_t v = SENTINEL;

	(void)state;
	assert_int_equal(shmex_add_checked(INT64_MAX, 1, &v), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_add_checked(INT64_MIN, -1, &v), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_add_checked(INT64_MAX, INT64_MAX, &v),
			 SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_add_checked(INT64_MIN, INT64_MIN, &v),
			 SHMEX_E_OVERFLOW);
	assert_true(v == SENTINEL);
	assert_int_equal(shmex_add_checked(INT64_MAX - 1, 1, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(shmex_add_checked(INT64_MIN + 1, -1, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(shmex_add_checked(INT64_MAX, INT64_MIN, &v), 0);
	assert_true(v == -1);
}

static void test_sub_overflow_edges(void **state)
{
	int64_t v = SENTINEL;

	(void)state;
	assert_int_equal(shmex_sub_checked(INT64_MIN, 1, &v), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_sub_checked(INT64_MAX, -1, &v), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_sub_checked(0, INT64_MIN, &v), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_sub_checked(-1, INT64_MIN, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(shmex_sub_checked(-1, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	v = SENTINEL;
	assert_int_equal(shmex_sub_checked(-2, INT64_MAX, &v), SHMEX_E_OVERFLOW);
	assert_true(v == SENTINEL);
}

static void test_mul_overflow_edges(void **state)
{
	int64_t v = SENTINEL;
	const int64_t p31 = INT64_C(1) << 31, p32 = INT64_C(1) << 32;

	(void)state;
	assert_int_equal(shmex_mul_checked(INT64_MIN, -1, &v), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_mul_checked(-1, INT64_MIN, &v), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_mul_checked(INT64_MAX, 2, &v), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_mul_checked(p32, p31, &v), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_mul_checked(INT64_MIN, INT64_MIN, &v),
			 SHMEX_E_OVERFLOW);
	assert_true(v == SENTINEL);
	assert_int_equal(shmex_mul_checked(-p32, p31, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(shmex_mul_checked(INT64_MAX, -1, &v), 0);
	assert_true(v == -INT64_MAX);
	assert_int_equal(shmex_mul_checked(INT64_MIN, 1, &v), 0);
	assert_true(v == INT64_MIN);
}

/* ---- muldiv ------------------------------------------------------------ */

static void test_muldiv_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		expect_muldiv_err(1, 1, 0, all_modes[i], SHMEX_E_INVAL);
		expect_muldiv_err(0, 0, 0, all_modes[i], SHMEX_E_INVAL);
	}
	expect_muldiv_err(1, 1, 1, (enum shmex_rounding)3, SHMEX_E_INVAL);
	expect_muldiv_err(1, 1, 1, (enum shmex_rounding)-1, SHMEX_E_INVAL);
}

/* An exact quotient is the same in every mode, whatever the signs. */
static void test_muldiv_exact_all_modes(void **state)
{
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		enum shmex_rounding r = all_modes[i];

		expect_muldiv(6, 7, 3, r, 14);
		expect_muldiv(-6, 7, 3, r, -14);
		expect_muldiv(6, -7, 3, r, -14);
		expect_muldiv(6, 7, -3, r, -14);
		expect_muldiv(-6, -7, -3, r, -14);
		expect_muldiv(-6, 7, -3, r, 14);
		expect_muldiv(0, 7, -3, r, 0);
		expect_muldiv(INT64_MAX, INT64_MAX, INT64_MAX, r, INT64_MAX);
		expect_muldiv(INT64_MIN, INT64_MIN, INT64_MIN, r, INT64_MIN);
		expect_muldiv(INT64_MIN, 1, 1, r, INT64_MIN);
		expect_muldiv(INT64_MIN, -1, -1, r, INT64_MIN);
		expect_muldiv(INT64_MAX, -1, -1, r, INT64_MAX);
		/* The product leaves int64; the quotient does not. */
		expect_muldiv(INT64_MAX, 2, 2, r, INT64_MAX);
		expect_muldiv(INT64_MAX / 2, 4, 2, r, INT64_MAX - 1);
		expect_muldiv(INT64_MIN, 3, 3, r, INT64_MIN);
		expect_muldiv(INT64_MIN, INT64_MAX, INT64_MIN, r, INT64_MAX);
	}
}

static void test_muldiv_round_down(void **state)
{
	(void)state;
	expect_muldiv(7, 1, 2, SHMEX_ROUND_DOWN, 3);
	expect_muldiv(-7, 1, 2, SHMEX_ROUND_DOWN, -4);
	expect_muldiv(7, 1, -2, SHMEX_ROUND_DOWN, -4);
	expect_muldiv(-7, 1, -2, SHMEX_ROUND_DOWN, 3);
	expect_muldiv(1, 1, 3, SHMEX_ROUND_DOWN, 0);
	expect_muldiv(-1, 1, 3, SHMEX_ROUND_DOWN, -1);
	expect_muldiv(2, 1, 3, SHMEX_ROUND_DOWN, 0);
	/* 128-bit path: (2^64 - 1) / 2 and -(2^64 + 1) / 2. */
	expect_muldiv(INT64_C(4294967295), INT64_C(4294967297), 2,
		      SHMEX_ROUND_DOWN, INT64_MAX);
	expect_muldiv(-INT64_C(4294967295), INT64_C(4294967297), 2,
		      SHMEX_ROUND_DOWN, INT64_MIN);
	expect_muldiv_err(-INT64_C(274177), INT64_C(67280421310721), 2,
			  SHMEX_ROUND_DOWN, SHMEX_E_OVERFLOW);
}

static void test_muldiv_round_up(void **state)
{
	(void)state;
	expect_muldiv(7, 1, 2, SHMEX_ROUND_UP, 4);
	expect_muldiv(-7, 1, 2, SHMEX_ROUND_UP, -3);
	expect_muldiv(7, 1, -2, SHMEX_ROUND_UP, -3);
	expect_muldiv(-7, 1, -2, SHMEX_ROUND_UP, 4);
	expect_muldiv(1, 1, 3, SHMEX_ROUND_UP, 1);
	expect_muldiv(-1, 1, 3, SHMEX_ROUND_UP, 0);
	expect_muldiv(-2, 1, 3, SHMEX_ROUND_UP, 0);
	/* Rounding up past INT64_MAX is an overflow, not a wrap. */
	expect_muldiv_err(INT64_C(4294967295), INT64_C(4294967297), 2,
			  SHMEX_ROUND_UP, SHMEX_E_OVERFLOW);
	expect_muldiv(-INT64_C(4294967295), INT64_C(4294967297), 2,
		      SHMEX_ROUND_UP, INT64_MIN + 1);
	expect_muldiv(-INT64_C(274177), INT64_C(67280421310721), 2,
		      SHMEX_ROUND_UP, INT64_MIN);
}

static void test_muldiv_round_trunc(void **state)
{
	(void)state;
	expect_muldiv(7, 1, 2, SHMEX_ROUND_TRUNC, 3);
	expect_muldiv(-7, 1, 2, SHMEX_ROUND_TRUNC, -3);
	expect_muldiv(7, 1, -2, SHMEX_ROUND_TRUNC, -3);
	expect_muldiv(-7, 1, -2, SHMEX_ROUND_TRUNC, 3);
	expect_muldiv(-2, 1, 3, SHMEX_ROUND_TRUNC, 0);
	expect_muldiv(INT64_C(4294967295), INT64_C(4294967297), 2,
		      SHMEX_ROUND_TRUNC, INT64_MAX);
	expect_muldiv(-INT64_C(4294967295), INT64_C(4294967297), 2,
		      SHMEX_ROUND_TRUNC, INT64_MIN + 1);
	expect_muldiv(-INT64_C(274177), INT64_C(67280421310721), 2,
		      SHMEX_ROUND_TRUNC, INT64_MIN);
}

/* Negative rates are rebates: a fee of -2.5 bp on 1001 units. */
static void test_muldiv_negative_rate(void **state)
{
	(void)state;
	expect_muldiv(1001, -25, 100000, SHMEX_ROUND_DOWN, -1);
	expect_muldiv(1001, -25, 100000, SHMEX_ROUND_UP, 0);
	expect_muldiv(1001, -25, 100000, SHMEX_ROUND_TRUNC, 0);
	expect_muldiv(INT64_MAX, -25, 100000, SHMEX_ROUND_DOWN,
		      -INT64_C(2305843009213694));
	expect_muldiv(INT64_MAX, -25, 100000, SHMEX_ROUND_UP,
		      -INT64_C(2305843009213693));
}

static void test_muldiv_overflow_edges(void **state)
{
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		enum shmex_rounding r = all_modes[i];

		/* 64-bit product INT64_MIN with d == -1: the trapping case. */
		expect_muldiv_err(INT64_MIN, 1, -1, r, SHMEX_E_OVERFLOW);
		expect_muldiv_err(INT64_MIN, -1, 1, r, SHMEX_E_OVERFLOW);
		expect_muldiv_err(INT64_MAX, 2, 1, r, SHMEX_E_OVERFLOW);
		expect_muldiv_err(INT64_MAX, INT64_MAX, 1, r, SHMEX_E_OVERFLOW);
		expect_muldiv_err(INT64_MIN, INT64_MIN, -1, r,
				  SHMEX_E_OVERFLOW);
		expect_muldiv_err(INT64_MIN, INT64_MIN, INT64_MAX, r,
				  SHMEX_E_OVERFLOW);
		expect_muldiv_err(INT64_MAX, INT64_MIN, -INT64_MAX + 1, r,
				  SHMEX_E_OVERFLOW);
	}
	/* 2^126 / -2^63 = -2^63 exactly: the most negative result. */
	expect_muldiv(INT64_MIN, INT64_MIN, INT64_MIN, SHMEX_ROUND_UP,
		      INT64_MIN);
	expect_muldiv(INT64_MIN, INT64_MAX, INT64_MAX, SHMEX_ROUND_DOWN,
		      INT64_MIN);
}

/* ---- 128-bit ----------------------------------------------------------- */

static void test_notional_exact(void **state)
{
	shmex_i128 n = 0;

	(void)state;
	assert_int_equal(shmex_notional(INT64_MAX, INT64_MAX, &n), 0);
	assert_true(n == (((shmex_i128)1 << 126) - ((shmex_i128)1 << 64) + 1));
	assert_int_equal(shmex_notional(INT64_MIN, INT64_MIN, &n), 0);
	assert_true(n == (shmex_i128)1 << 126);
	assert_int_equal(shmex_notional(INT64_MIN, INT64_MAX, &n), 0);
	assert_true(n == -((shmex_i128)1 << 126) + ((shmex_i128)1 << 63));
	assert_int_equal(shmex_notional(-3, 5, &n), 0);
	assert_true(n == -15);
}

static void test_i128_to_i64_edges(void **state)
{
	int64_t v = SENTINEL;

	(void)state;
	assert_int_equal(shmex_i128_to_i64((shmex_i128)INT64_MAX + 1, &v),
			 SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_i128_to_i64((shmex_i128)INT64_MIN - 1, &v),
			 SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_i128_to_i64((shmex_i128)1 << 100, &v),
			 SHMEX_E_OVERFLOW);
	assert_true(v == SENTINEL);
	assert_int_equal(shmex_i128_to_i64(INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(shmex_i128_to_i64(INT64_MIN, &v), 0);
	assert_true(v == INT64_MIN);
}

static void test_i128_add_overflow(void **state)
{
	const shmex_i128 max = (shmex_i128)(~(shmex_u128)0 >> 1);
	shmex_i128 s = 7;

	(void)state;
	assert_int_equal(shmex_i128_add_checked(max, 1, &s), SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_i128_add_checked(-max - 1, -1, &s),
			 SHMEX_E_OVERFLOW);
	assert_true(s == 7);
	assert_int_equal(shmex_i128_add_checked(max, -max - 1, &s), 0);
	assert_true(s == -1);
}

/* ---- decimal parse ----------------------------------------------------- */

static void test_dec_parse_syntax_errors(void **state)
{
	static const char *const bad[] = {
		"", "-", "+", ".", "-.", "+.", "1e5", "1E5", " 1", "1 ", "\t1",
		"1..2", "1.2.3", "--1", "+-1", "-+1", "1-", "0x10", "1,5",
		"1_000", "١", "abc", "1.2x", "..5", "5..", "∞", "-.e",
	};
	int64_t v = SENTINEL;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		expect_parse_err(bad[i], 0, SHMEX_E_PARSE);
		expect_parse_err(bad[i], 8, SHMEX_E_PARSE);
	}
	/* An embedded NUL inside len is a bad character. */
	assert_int_equal(shmex_dec_parse("1\0" "2", 3, 2, &v), SHMEX_E_PARSE);
	assert_true(v == SENTINEL);
}

static void test_dec_parse_forms(void **state)
{
	(void)state;
	expect_parse("123.45", 8, INT64_C(12345000000));
	expect_parse("1.", 2, 100);
	expect_parse(".5", 2, 50);
	expect_parse("-.5", 2, -50);
	expect_parse("+.5", 2, 50);
	expect_parse("+1", 0, 1);
	expect_parse("00012", 0, 12);
	expect_parse("00012.0100", 3, 12010);
	expect_parse("-0", 3, 0);
	expect_parse("-0.000", 3, 0);
	expect_parse("0", 0, 0);
	expect_parse("7", 18, INT64_C(7000000000000000000));
	expect_parse("0.000000000000000001", 18, 1);
	expect_parse("-0.00000001", 8, -1);
	/* Leading zeros never count toward overflow. */
	expect_parse("000000000000000000000000000000000000000000001", 0, 1);
	expect_parse("-00000000000000000000000000009.5", 1, -95);
}

static void test_dec_parse_precision(void **state)
{
	(void)state;
	expect_parse_err("1.234", 2, SHMEX_E_PRECISION);
	expect_parse_err("1.5", 0, SHMEX_E_PRECISION);
	expect_parse_err("-0.000000001", 8, SHMEX_E_PRECISION);
	expect_parse_err("0.0000000000000000001", 18, SHMEX_E_PRECISION);
	expect_parse_err("1.2300000001", 2, SHMEX_E_PRECISION);
	/* Zeros beyond the scale lose nothing. */
	expect_parse("1.230000000000000000000000", 2, 123);
	expect_parse("1.0", 0, 1);
	expect_parse("-5.000", 0, -5);
	/* A syntax error outranks lost precision; lost precision outranks
	 * overflow. */
	expect_parse_err("1.234x", 2, SHMEX_E_PARSE);
	expect_parse_err("99999999999999999999.123", 2, SHMEX_E_PRECISION);
	expect_parse_err("99999999999999999999x", 2, SHMEX_E_PARSE);
}

static void test_dec_parse_limits(void **state)
{
	(void)state;
	expect_parse("9223372036854775807", 0, INT64_MAX);
	expect_parse("-9223372036854775808", 0, INT64_MIN);
	expect_parse_err("9223372036854775808", 0, SHMEX_E_OVERFLOW);
	expect_parse_err("-9223372036854775809", 0, SHMEX_E_OVERFLOW);
	expect_parse_err("18446744073709551616", 0, SHMEX_E_OVERFLOW);
	expect_parse_err("-18446744073709551616", 0, SHMEX_E_OVERFLOW);
	expect_parse_err("99999999999999999999999999", 0, SHMEX_E_OVERFLOW);

	expect_parse("92233720368.54775807", 8, INT64_MAX);
	expect_parse("-92233720368.54775808", 8, INT64_MIN);
	expect_parse("-92233720368.547758080000", 8, INT64_MIN);
	expect_parse_err("92233720368.54775808", 8, SHMEX_E_OVERFLOW);
	expect_parse_err("-92233720368.54775809", 8, SHMEX_E_OVERFLOW);
	expect_parse_err("92233720369", 8, SHMEX_E_OVERFLOW);

	expect_parse("9.223372036854775807", 18, INT64_MAX);
	expect_parse("-9.223372036854775808", 18, INT64_MIN);
	expect_parse_err("9.223372036854775808", 18, SHMEX_E_OVERFLOW);
	expect_parse_err("-9.223372036854775809", 18, SHMEX_E_OVERFLOW);
	expect_parse_err("10", 18, SHMEX_E_OVERFLOW);
	expect_parse_err("-10", 18, SHMEX_E_OVERFLOW);
	/* ipart * 10^18 fits in uint64 but the fraction tips it over. */
	expect_parse_err("18.446744073709551616", 18, SHMEX_E_OVERFLOW);

	expect_parse_err("1", SHMEX_DECIMALS_MAX + 1, SHMEX_E_INVAL);
	expect_parse_err("x", SHMEX_DECIMALS_MAX + 1, SHMEX_E_INVAL);
}

static void test_dec_parse_reads_only_len(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(shmex_dec_parse("12345", 3, 0, &v), 0);
	assert_true(v == 123);
	assert_int_equal(shmex_dec_parse("1.25x", 4, 2, &v), 0);
	assert_true(v == 125);
	v = SENTINEL;
	assert_int_equal(shmex_dec_parse("-5", 1, 0, &v), SHMEX_E_PARSE);
	assert_int_equal(shmex_dec_parse("5", 0, 0, &v), SHMEX_E_PARSE);
	assert_true(v == SENTINEL);
}

/* ---- decimal format ---------------------------------------------------- */

static void test_dec_format_values(void **state)
{
	(void)state;
	expect_format(0, 0, "0");
	expect_format(0, 8, "0.00000000");
	expect_format(-1, 8, "-0.00000001");
	expect_format(1, 8, "0.00000001");
	expect_format(1250, 2, "12.50");
	expect_format(-1250, 2, "-12.50");
	expect_format(-7, 0, "-7");
	expect_format(INT64_C(12345000000), 8, "123.45000000");
	expect_format(INT64_MAX, 0, "9223372036854775807");
	expect_format(INT64_MIN, 0, "-9223372036854775808");
	expect_format(INT64_MAX, 8, "92233720368.54775807");
	expect_format(INT64_MIN, 8, "-92233720368.54775808");
	expect_format(INT64_MAX, 18, "9.223372036854775807");
	expect_format(INT64_MIN, 18, "-9.223372036854775808");
	expect_format(-1, 18, "-0.000000000000000001");
	expect_format(INT64_C(1000000000000000000), 18, "1.000000000000000000");
}

static void test_dec_format_small_buffer(void **state)
{
	char buf[SHMEX_DEC_BUFSZ];

	(void)state;
	/* "-0.00000001" is 11 bytes: 12 with the NUL. */
	memset(buf, 'x', sizeof buf);
	assert_int_equal(shmex_dec_format(-1, 8, buf, 11), SHMEX_E_NOSPACE);
	assert_string_equal(buf, "");
	assert_int_equal(shmex_dec_format(-1, 8, buf, 12), 11);
	assert_string_equal(buf, "-0.00000001");
	memset(buf, 'x', sizeof buf);
	assert_int_equal(shmex_dec_format(5, 0, buf, 0), SHMEX_E_NOSPACE);
	assert_true(buf[0] == 'x');
	assert_int_equal(shmex_dec_format(5, 0, buf, 1), SHMEX_E_NOSPACE);
	assert_string_equal(buf, "");
	assert_int_equal(shmex_dec_format(5, 0, buf, 2), 1);
	assert_string_equal(buf, "5");
	/* The longest result fits SHMEX_DEC_BUFSZ exactly or with room. */
	assert_int_equal(shmex_dec_format(INT64_MIN, 1, buf, sizeof buf), 21);
	assert_string_equal(buf, "-922337203685477580.8");
	assert_int_equal(shmex_dec_format(1, SHMEX_DECIMALS_MAX + 1, buf,
					  sizeof buf), SHMEX_E_INVAL);
	assert_string_equal(buf, "");
}

/* ---- integer parsers --------------------------------------------------- */

static void test_u64_parse(void **state)
{
	static const char *const bad[] = {
		"", "+1", "-1", " 1", "1 ", "1.0", "1e3", "0x1", "-", "+",
		"18446744073709551616x",
	};
	uint64_t v = 7;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(shmex_u64_parse(bad[i], strlen(bad[i]), &v),
				 SHMEX_E_PARSE);
	}
	assert_true(v == 7);
	assert_int_equal(shmex_u64_parse("18446744073709551616", 20, &v),
			 SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_u64_parse("99999999999999999999", 20, &v),
			 SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_u64_parse("184467440737095516150", 21, &v),
			 SHMEX_E_OVERFLOW);
	assert_true(v == 7);
	assert_int_equal(shmex_u64_parse("18446744073709551615", 20, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(shmex_u64_parse("9999999999999999999", 19, &v), 0);
	assert_true(v == UINT64_C(9999999999999999999));
	assert_int_equal(shmex_u64_parse("0", 1, &v), 0);
	assert_true(v == 0);
	assert_int_equal(
		shmex_u64_parse("00000000000000000000000018446744073709551615",
				44, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(shmex_u64_parse("12345", 2, &v), 0);
	assert_true(v == 12);
}

static void test_i64_parse(void **state)
{
	static const char *const bad[] = {
		"", "-", "+", "--1", "+-1", " 1", "1 ", "1.0", "1e3", "0x1",
		"-9223372036854775809x",
	};
	int64_t v = SENTINEL;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(shmex_i64_parse(bad[i], strlen(bad[i]), &v),
				 SHMEX_E_PARSE);
	}
	assert_int_equal(shmex_i64_parse("9223372036854775808", 19, &v),
			 SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_i64_parse("-9223372036854775809", 20, &v),
			 SHMEX_E_OVERFLOW);
	assert_int_equal(shmex_i64_parse("-18446744073709551616", 21, &v),
			 SHMEX_E_OVERFLOW);
	assert_true(v == SENTINEL);
	assert_int_equal(shmex_i64_parse("9223372036854775807", 19, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(shmex_i64_parse("-9223372036854775808", 20, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(shmex_i64_parse("+0009", 5, &v), 0);
	assert_true(v == 9);
	assert_int_equal(shmex_i64_parse("-0", 2, &v), 0);
	assert_true(v == 0);
}

/* ---- 128-bit format ---------------------------------------------------- */

static void test_u128_format(void **state)
{
	char buf[SHMEX_I128_BUFSZ];
	const shmex_u128 p127 = (shmex_u128)1 << 127;

	(void)state;
	assert_int_equal(shmex_u128_format(0, buf, sizeof buf), 1);
	assert_string_equal(buf, "0");
	assert_int_equal(shmex_u128_format(UINT64_MAX, buf, sizeof buf), 20);
	assert_string_equal(buf, "18446744073709551615");
	assert_int_equal(shmex_u128_format((shmex_u128)UINT64_MAX + 1, buf,
					   sizeof buf), 20);
	assert_string_equal(buf, "18446744073709551616");
	/* 10^19 and 10^38: chunk boundaries with zero chunks. */
	assert_int_equal(shmex_u128_format(
				 (shmex_u128)UINT64_C(10000000000000000000),
				 buf, sizeof buf), 20);
	assert_string_equal(buf, "10000000000000000000");
	assert_int_equal(shmex_u128_format(
				 (shmex_u128)UINT64_C(10000000000000000000) *
					 UINT64_C(10000000000000000000),
				 buf, sizeof buf), 39);
	assert_string_equal(buf, "100000000000000000000000000000000000000");
	assert_int_equal(shmex_u128_format(p127, buf, sizeof buf), 39);
	assert_string_equal(buf, "170141183460469231731687303715884105728");
	assert_int_equal(shmex_u128_format(p127 + 1, buf, sizeof buf), 39);
	assert_string_equal(buf, "170141183460469231731687303715884105729");
	assert_int_equal(shmex_u128_format(~(shmex_u128)0, buf, sizeof buf),
			 39);
	assert_string_equal(buf, "340282366920938463463374607431768211455");
	assert_int_equal(shmex_u128_format(~(shmex_u128)0, buf, 39),
			 SHMEX_E_NOSPACE);
	assert_string_equal(buf, "");
	assert_int_equal(shmex_u128_format(~(shmex_u128)0, buf, 40), 39);
}

static void test_i128_format(void **state)
{
	char buf[SHMEX_I128_BUFSZ];
	const shmex_i128 min = -(shmex_i128)(~(shmex_u128)0 >> 1) - 1;
	shmex_i128 n = 0;

	(void)state;
	assert_int_equal(shmex_i128_format(min, buf, sizeof buf), 40);
	assert_string_equal(buf, "-170141183460469231731687303715884105728");
	assert_int_equal(shmex_i128_format(-1, buf, sizeof buf), 2);
	assert_string_equal(buf, "-1");
	assert_int_equal(shmex_i128_format(0, buf, sizeof buf), 1);
	assert_string_equal(buf, "0");
	assert_int_equal(shmex_notional(INT64_MIN, INT64_MAX, &n), 0);
	assert_int_equal(shmex_i128_format(n, buf, sizeof buf), 39);
	assert_string_equal(buf, "-85070591730234615856620279821087277056");
	assert_int_equal(shmex_i128_format(min, buf, 40), SHMEX_E_NOSPACE);
}

/* ---- randomized -------------------------------------------------------- */

static uint64_t g_seed;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			print_error("seed %" PRIu64                           \
				    " (rerun with SHMEX_TEST_SEED=%" PRIu64   \
				    "): ", g_seed, g_seed);                   \
			print_error(__VA_ARGS__);                             \
			fail();                                               \
		}                                                             \
	} while (0)

static uint64_t rnd_next(uint64_t *st) /* splitmix64 */
{
	uint64_t z = (*st += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t *st, uint64_t n)
{
	return rnd_next(st) % n;
}

static int64_t rnd_sign(uint64_t *st, int64_t v)
{
	return (rnd_next(st) & 1) && v != INT64_MIN ? -v : v;
}

/* Operands with a heavy share of extremes and boundaries. */
static int64_t rnd_operand(uint64_t *st)
{
	uint64_t x = rnd_next(st);
	int64_t p;

	switch (rnd_below(st, 9)) {
	case 0:
		return (int64_t)x;
	case 1:
		return (int64_t)(x % 2001) - 1000;
	case 2:
		return INT64_MAX - (int64_t)(x % 16);
	case 3:
		return INT64_MIN + (int64_t)(x % 16);
	case 4: /* 2^k - 1, 2^k, 2^k + 1 */
		p = INT64_C(1) << (x % 63);
		return rnd_sign(st, p + (int64_t)rnd_below(st, 3) - 1);
	case 5: /* 10^k - 1, 10^k, 10^k + 1 */
		p = 1;
		for (uint64_t k = x % 19; k > 0; k--)
			p *= 10;
		return rnd_sign(st, p + (int64_t)rnd_below(st, 3) - 1);
	case 6: /* random magnitude */
		return (int64_t)x >> (rnd_next(st) % 64);
	case 7:
		return (int64_t)(x & UINT64_C(0xffffffff)) - INT64_C(0x80000000);
	default:
		return rnd_sign(st, (int64_t)(x >> 1) >> (rnd_next(st) % 40));
	}
}

/* 64x64 -> 128 long multiplication on 32-bit limbs. */
static void ref_mul(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
	const uint64_t m = UINT64_C(0xffffffff);
	uint64_t p00 = (a & m) * (b & m), p01 = (a & m) * (b >> 32);
	uint64_t p10 = (a >> 32) * (b & m), p11 = (a >> 32) * (b >> 32);
	uint64_t mid = (p00 >> 32) + (p01 & m) + (p10 & m);

	*lo = (mid << 32) | (p00 & m);
	*hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* Restoring shift-subtract division of hi:lo by d (1 <= d <= 2^63);
 * returns whether the remainder is non-zero. */
static bool ref_div(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *qhi,
		    uint64_t *qlo)
{
	uint64_t r = 0, qh = 0, ql = 0;

	for (int bit = 127; bit >= 0; bit--) {
		uint64_t in = bit >= 64 ? (hi >> (bit - 64)) & 1
					: (lo >> bit) & 1;

		r = (r << 1) | in; /* r < d <= 2^63: no carry out */
		if (r >= d) {
			r -= d;
			if (bit >= 64)
				qh |= UINT64_C(1) << (bit - 64);
			else
				ql |= UINT64_C(1) << bit;
		}
	}
	*qhi = qh;
	*qlo = ql;
	return r != 0;
}

static uint64_t ref_abs(int64_t v)
{
	return v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
}

static int ref_muldiv(int64_t a, int64_t b, int64_t d, enum shmex_rounding r,
		      int64_t *out)
{
	uint64_t ph, pl, qh, ql;
	bool neg, inexact;

	if (d == 0)
		return SHMEX_E_INVAL;
	neg = (a < 0) ^ (b < 0) ^ (d < 0);
	ref_mul(ref_abs(a), ref_abs(b), &ph, &pl);
	inexact = ref_div(ph, pl, ref_abs(d), &qh, &ql);
	/* Away from zero when the mode points away from zero. */
	if (inexact && ((r == SHMEX_ROUND_DOWN && neg) ||
			(r == SHMEX_ROUND_UP && !neg))) {
		if (++ql == 0)
			qh++;
	}
	if (qh != 0)
		return SHMEX_E_OVERFLOW;
	if (neg) {
		if (ql > (uint64_t)INT64_MAX + 1)
			return SHMEX_E_OVERFLOW;
		*out = ql == 0 ? 0 : -(int64_t)(ql - 1) - 1;
	} else {
		if (ql > (uint64_t)INT64_MAX)
			return SHMEX_E_OVERFLOW;
		*out = (int64_t)ql;
	}
	return 0;
}

static void test_random_muldiv_vs_reference(void **state)
{
	uint64_t st = g_seed ^ UINT64_C(0x6d756c646976);
	long inexact = 0, overflow = 0;

	(void)state;
	for (long n = 0; n < 300000; n++) {
		int64_t a = rnd_operand(&st), b = rnd_operand(&st);
		int64_t d = rnd_operand(&st);

		for (size_t i = 0; i < 3; i++) {
			enum shmex_rounding r = all_modes[i];
			int64_t got = SENTINEL, want = SENTINEL;
			int rc = shmex_muldiv(a, b, d, r, &got);
			int wrc = ref_muldiv(a, b, d, r, &want);

			CHECK(rc == wrc && got == want,
			      "muldiv(%" PRId64 ", %" PRId64 ", %" PRId64
			      ", mode %d) = rc %d %" PRId64 ", reference rc %d %"
			      PRId64 "\n", a, b, d, (int)r, rc, got, wrc, want);
			overflow += rc == SHMEX_E_OVERFLOW;
		}
		int64_t t, u;
		if (shmex_muldiv(a, b, d, SHMEX_ROUND_DOWN, &t) == 0 &&
		    shmex_muldiv(a, b, d, SHMEX_ROUND_UP, &u) == 0)
			inexact += t != u;
	}
	/* The generator must reach both rounding and overflow often. */
	CHECK(inexact > 10000 && overflow > 10000,
	      "weak coverage: %ld inexact, %ld overflow\n", inexact, overflow);
}

static uint64_t pow10u(unsigned n)
{
	uint64_t p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

/* Canonical text via printf, independent of the formatter under test. */
static void ref_format(int64_t v, unsigned dec, char *buf, size_t cap)
{
	uint64_t mag = ref_abs(v), p = pow10u(dec);

	if (dec == 0)
		snprintf(buf, cap, "%s%" PRIu64, v < 0 ? "-" : "", mag);
	else
		snprintf(buf, cap, "%s%" PRIu64 ".%0*" PRIu64,
			 v < 0 ? "-" : "", mag / p, (int)dec, mag % p);
}

/* Reference parser: a separate grammar walk with saturating 128-bit
 * accumulation, returning errors in the documented order. */
static int ref_parse(const char *s, size_t len, unsigned dec, int64_t *out)
{
	const shmex_i128 cap = (shmex_i128)1 << 100;
	shmex_i128 v = 0;
	size_t i = 0, digits = 0, nfrac = 0;
	bool neg = false, dot = false, lost = false;

	if (dec > SHMEX_DECIMALS_MAX)
		return SHMEX_E_INVAL;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < len; i++) {
		if (s[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return SHMEX_E_PARSE;
		digits++;
		if (dot && ++nfrac > dec) {
			lost |= s[i] != '0';
			continue;
		}
		v = v * 10 + (s[i] - '0');
		if (v > cap)
			v = cap;
	}
	if (digits == 0)
		return SHMEX_E_PARSE;
	if (lost)
		return SHMEX_E_PRECISION;
	for (size_t k = nfrac < dec ? nfrac : dec; k < dec; k++)
		if ((v *= 10) > cap)
			v = cap;
	if (neg)
		v = -v;
	if (v < INT64_MIN || v > INT64_MAX)
		return SHMEX_E_OVERFLOW;
	*out = (int64_t)v;
	return 0;
}

static void test_random_dec_roundtrip(void **state)
{
	uint64_t st = g_seed ^ UINT64_C(0x726f756e64);
	char canon[SHMEX_DEC_BUFSZ], want[64], var[160];

	(void)state;
	for (long n = 0; n < 200000; n++) {
		int64_t v = rnd_operand(&st), back = SENTINEL;
		unsigned dec = (unsigned)rnd_below(&st, SHMEX_DECIMALS_MAX + 1);
		int len = shmex_dec_format(v, dec, canon, sizeof canon);
		int rc;

		ref_format(v, dec, want, sizeof want);
		CHECK(len == (int)strlen(want) && strcmp(canon, want) == 0,
		      "format(%" PRId64 ", %u) = %d \"%s\", want \"%s\"\n", v,
		      dec, len, canon, want);
		rc = shmex_dec_parse(canon, (size_t)len, dec, &back);
		CHECK(rc == 0 && back == v,
		      "parse(format(%" PRId64 ", %u) = \"%s\") = rc %d %" PRId64
		      "\n", v, dec, canon, rc, back);

		/* A non-canonical spelling of the same value: '+', leading
		 * zeros, zeros beyond the scale, a missing fraction or a
		 * missing zero integer part. */
		const char *digits = canon + (v < 0);
		const char *dot = strchr(digits, '.');
		size_t o = 0, zeros = (size_t)rnd_below(&st, 30);
		bool frac_zero = dot == NULL || strspn(dot + 1, "0") ==
							strlen(dot + 1);

		if (v < 0)
			var[o++] = '-';
		else if (rnd_next(&st) & 1)
			var[o++] = '+';
		while (zeros-- > 0)
			var[o++] = '0';
		bool drop_int = strncmp(digits, "0.", 2) == 0 &&
				(rnd_next(&st) & 1);

		if (drop_int)
			digits++; /* ".xxx" */
		if (dot && frac_zero && !drop_int && (rnd_next(&st) & 1)) {
			size_t ilen = (size_t)(dot - digits);

			memcpy(var + o, digits, ilen); /* "12" for "12.00" */
			o += ilen;
		} else {
			strcpy(var + o, digits);
			o += strlen(digits);
			if (rnd_next(&st) & 1) {
				if (dot == NULL)
					var[o++] = '.';
				for (uint64_t k = rnd_below(&st, 12); k > 0; k--)
					var[o++] = '0';
			}
		}
		back = SENTINEL;
		rc = shmex_dec_parse(var, o, dec, &back);
		var[o] = '\0';
		CHECK(rc == 0 && back == v,
		      "parse(\"%s\", %u) = rc %d %" PRId64 ", want %" PRId64
		      "\n", var, dec, rc, back, v);
		len = shmex_dec_format(back, dec, canon, sizeof canon);
		CHECK(strcmp(canon, want) == 0,
		      "format(parse(\"%s\")) = \"%s\", want \"%s\"\n", var,
		      canon, want);
	}
}

/* Mutated near-boundary texts: the parser agrees with the reference on
 * every value and every error code. */
static void test_random_dec_parse_vs_reference(void **state)
{
	static const char alphabet[] = "0123456789.-+e 09";
	uint64_t st = g_seed ^ UINT64_C(0x7061727365);
	char buf[96];

	(void)state;
	for (long n = 0; n < 300000; n++) {
		unsigned dec = (unsigned)rnd_below(&st, SHMEX_DECIMALS_MAX + 2);
		int len = shmex_dec_format(rnd_operand(&st),
					   (unsigned)rnd_below(&st, 19), buf,
					   sizeof buf);
		size_t l = (size_t)len;

		for (uint64_t m = rnd_below(&st, 4); m > 0; m--) {
			size_t at = (size_t)rnd_below(&st, l + 1);
			char c = alphabet[rnd_below(&st, sizeof alphabet - 1)];

			switch (rnd_below(&st, 3)) {
			case 0: /* replace */
				if (at < l)
					buf[at] = c;
				break;
			case 1: /* insert */
				if (l + 1 < sizeof buf) {
					memmove(buf + at + 1, buf + at, l - at);
					buf[at] = c;
					l++;
				}
				break;
			default: /* delete */
				if (at < l) {
					memmove(buf + at, buf + at + 1,
						l - at - 1);
					l--;
				}
				break;
			}
		}
		buf[l] = '\0';

		int64_t got = SENTINEL, want = SENTINEL;
		int rc = shmex_dec_parse(buf, l, dec, &got);
		int wrc = ref_parse(buf, l, dec, &want);

		CHECK(rc == wrc && got == want,
		      "parse(\"%s\", %u) = rc %d %" PRId64 ", reference rc %d %"
		      PRId64 "\n", buf, dec, rc, got, wrc, want);

		if (dec == 0) { /* integers: i64 parse agrees unless a '.' */
			int irc = shmex_i64_parse(buf, l, &got);

			if (memchr(buf, '.', l) == NULL)
				CHECK(irc == wrc && (irc != 0 || got == want),
				      "i64_parse(\"%s\") = rc %d, want %d\n",
				      buf, irc, wrc);
		}
	}
}

static void test_random_u64_parse(void **state)
{
	uint64_t st = g_seed ^ UINT64_C(0x753634);
	char buf[64];

	(void)state;
	for (long n = 0; n < 200000; n++) {
		uint64_t v = rnd_next(&st) >> rnd_below(&st, 64), got = 0;
		int len = snprintf(buf, sizeof buf, "%0*" PRIu64,
				   (int)rnd_below(&st, 24), v);

		CHECK(shmex_u64_parse(buf, (size_t)len, &got) == 0 && got == v,
		      "u64_parse(\"%s\") = %" PRIu64 "\n", buf, got);
	}
}

static uint64_t pick_seed(void)
{
	const char *e = getenv("SHMEX_TEST_SEED");

	if (e != NULL && *e != '\0')
		return strtoull(e, NULL, 0);
	return UINT64_C(20261122); /* fixed, so CI runs are reproducible */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_overflow_edges),
		cmocka_unit_test(test_sub_overflow_edges),
		cmocka_unit_test(test_mul_overflow_edges),
		cmocka_unit_test(test_muldiv_invalid),
		cmocka_unit_test(test_muldiv_exact_all_modes),
		cmocka_unit_test(test_muldiv_round_down),
		cmocka_unit_test(test_muldiv_round_up),
		cmocka_unit_test(test_muldiv_round_trunc),
		cmocka_unit_test(test_muldiv_negative_rate),
		cmocka_unit_test(test_muldiv_overflow_edges),
		cmocka_unit_test(test_notional_exact),
		cmocka_unit_test(test_i128_to_i64_edges),
		cmocka_unit_test(test_i128_add_overflow),
		cmocka_unit_test(test_dec_parse_syntax_errors),
		cmocka_unit_test(test_dec_parse_forms),
		cmocka_unit_test(test_dec_parse_precision),
		cmocka_unit_test(test_dec_parse_limits),
		cmocka_unit_test(test_dec_parse_reads_only_len),
		cmocka_unit_test(test_dec_format_values),
		cmocka_unit_test(test_dec_format_small_buffer),
		cmocka_unit_test(test_u64_parse),
		cmocka_unit_test(test_i64_parse),
		cmocka_unit_test(test_u128_format),
		cmocka_unit_test(test_i128_format),
		cmocka_unit_test(test_random_muldiv_vs_reference),
		cmocka_unit_test(test_random_dec_roundtrip),
		cmocka_unit_test(test_random_dec_parse_vs_reference),
		cmocka_unit_test(test_random_u64_parse),
	};

	g_seed = pick_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
