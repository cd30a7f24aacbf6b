/* The latency histogram of shmex-mm and shmex-taker (latency.h): every
 * percentile within one bucket's width of the exact one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common.h"
#include "latency.h"

static int sx_cmp_u64(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_empty_and_small(void **state)
{
	(void)state;
	static struct sx_latency h;
	sx_latency_init(&h);
	assert_int_equal(sx_latency_percentile(&h, 50), 0);
	assert_int_equal(sx_latency_mean(&h), 0);
	/* Below SX_LAT_SUB every value has its own bucket. */
	for (int64_t v = 0; v < SX_LAT_SUB; v++)
		sx_latency_record(&h, v);
	for (uint64_t v = 1; v < SX_LAT_SUB; v++)
		assert_int_equal(sx_latency_percentile(&h, 100.0 * (double)(v + 1) / SX_LAT_SUB), v);
	sx_latency_record(&h, -5); /* counts as 0 */
	assert_int_equal(h.min, 0);
	assert_int_equal(h.count, SX_LAT_SUB + 1);
}

static void test_extremes(void **state)
{
	(void)state;
	static struct sx_latency h;
	sx_latency_init(&h);
	sx_latency_record(&h, INT64_MAX);
	sx_latency_record(&h, 1);
	assert_int_equal(sx_latency_percentile(&h, 100), INT64_MAX);
	assert_int_equal(sx_latency_percentile(&h, 50), 1);
	assert_true(sx_latency_percentile(&h, 99) >= (uint64_t)INT64_MAX / 64 * 63);
}

/* Log-uniform values from 1 ns to 1 s: each percentile within 1/SX_LAT_SUB. */
static void test_against_sorted(void **state)
{
	(void)state;
	enum { N = 100000 };
	static uint64_t v[N];
	static struct sx_latency h;
	struct sx_rng rng;
	sx_rng_seed(&rng, 42);
	sx_latency_init(&h);
	for (int i = 0; i < N; i++) {
		const unsigned bits = 1 + (unsigned)sx_rng_below(&rng, 30);
		v[i] = 1 + sx_rng_below(&rng, UINT64_C(1) << bits);
		sx_latency_record(&h, (int64_t)v[i]);
	}
	qsort(v, N, sizeof v[0], sx_cmp_u64);
	const double points[] = { 1, 10, 50, 90, 99, 99.9, 99.99 };
	for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
		const uint64_t exact = v[(size_t)((points[i] / 100.0) * N + 0.999999) - 1];
		const uint64_t got = sx_latency_percentile(&h, points[i]);
		const uint64_t err = got > exact ? got - exact : exact - got;
		assert_true(err <= exact / SX_LAT_SUB + 1);
	}
	assert_int_equal(sx_latency_percentile(&h, 100), v[N - 1]);
	assert_int_equal(h.min, v[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_small),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_against_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
