/* test_error.c - kb/error.h: last error, prefixing, formatting, diagnostics. */
#include <string.h>

#include "kb/error.h"
#include "testutil.h"

static void test_no_error_by_default(void **state)
{
	(void)state;
	kb_error_clear();
	assert_int_equal(kb_error_last()->code, KB_OK);
	assert_string_equal(kb_error_last()->message, "no error");
	assert_null(kb_error_last()->path);
}

static void test_set_returns_code_and_keeps_location(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(kb_error_set(KB_EINPUT, "cases/A.md", 7, "bad date '%s'", "2024-13-01"),
			 KB_EINPUT);
	assert_int_equal(kb_error_last()->code, KB_EINPUT);
	assert_string_equal(kb_error_last()->path, "cases/A.md");
	assert_int_equal(kb_error_last()->line, 7);
	assert_string_equal(kb_error_format(kb_error_last(), buf, sizeof(buf)),
			    "cases/A.md:7: bad date '2024-13-01'");
	kb_error_clear();
}

static void test_prefix(void **state)
{
	char buf[256];

	(void)state;
	kb_error_set(KB_EIO, NULL, 0, "permission denied");
	assert_int_equal(kb_error_prefix("cannot write '%s'", "x.md"), KB_EIO);
	assert_string_equal(kb_error_format(kb_error_last(), buf, sizeof(buf)),
			    "cannot write 'x.md': permission denied");
	kb_error_set(KB_EIO, "p", 0, "m");
	assert_string_equal(kb_error_format(kb_error_last(), buf, sizeof(buf)), "p: m");
	kb_error_clear();
}

static void test_diags(void **state)
{
	kb_diags d = KB_DIAGS_INIT;
	int i;

	(void)state;
	for (i = 0; i < 20; i++)
		kb_diags_add(&d, i % 2 ? KB_DIAG_WARNING : KB_DIAG_ERROR, "f.md", i + 1,
			     "problem %d", i);
	assert_int_equal(d.count, 20);
	assert_int_equal(kb_diags_errors(&d), 10);
	assert_string_equal(d.items[3].message, "problem 3");
	assert_int_equal(d.items[3].line, 4);
	kb_diags_release(&d);
	assert_int_equal(d.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_error_by_default),
		cmocka_unit_test(test_set_returns_code_and_keeps_location),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_diags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
