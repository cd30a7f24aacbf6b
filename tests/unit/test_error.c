/* Every error code has its own, non-empty name; errno values pass through. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "shmex/error.h"

static void test_every_code_named(void **state)
{
	(void)state;
	for (int e = SHMEX_ERR_FIRST; e <= SHMEX_ERR_LAST; e++) {
		const char *s = shmex_strerror(e);
		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, "unknown error");
		for (int f = SHMEX_ERR_FIRST; f < e; f++)
			assert_string_not_equal(s, shmex_strerror(f));
	}
}

static void test_errno_and_unknown(void **state)
{
	(void)state;
	assert_string_equal(shmex_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(shmex_strerror(0), "success");
	assert_string_equal(shmex_strerror(-100000),
			    "unknown error");
	assert_string_equal(shmex_strerror(5), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_named),
		cmocka_unit_test(test_errno_and_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
