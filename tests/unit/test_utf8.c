/* test_utf8.c - kb_utf8_check (kb/case.h): well-formed text passes; each
 * kind of malformed sequence and NUL fails with the line of the bad byte. */
#include <string.h>

#include "kb/case.h"
#include "testutil.h"

static void expect_bad(const char *s, size_t len, int line, const char *msg)
{
	assert_int_equal(kb_utf8_check(s, len, "f.md"), KB_EINPUT);
	assert_int_equal(kb_error_last()->line, line);
	assert_string_equal(kb_error_last()->path, "f.md");
	if (!strstr(kb_error_last()->message, msg))
		fail_msg("message '%s' lacks '%s'", kb_error_last()->message, msg);
}

static void test_valid_text(void **state)
{
	const char *s = "ascii\n中文 2 字节 é ü\n4-byte 😀 \xf4\x8f\xbf\xbf\n";

	(void)state;
	assert_int_equal(kb_utf8_check(s, strlen(s), NULL), 0);
	assert_int_equal(kb_utf8_check("", 0, NULL), 0);
	assert_int_equal(kb_utf8_check(NULL, 0, NULL), 0);
}

static void test_long_ascii_runs_and_tail(void **state)
{
	char buf[1000];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	buf[20] = '\n';
	assert_int_equal(kb_utf8_check(buf, sizeof(buf), NULL), 0);
	buf[997] = '\0';
	expect_bad(buf, sizeof(buf), 2, "nul byte at offset 997");
	buf[997] = 'a';
	buf[13] = (char)0x80;
	expect_bad(buf, sizeof(buf), 1, "invalid utf-8 byte 0x80 at offset 13");
}

static void test_stray_and_truncated(void **state)
{
	(void)state;
	expect_bad("a\nb\n\x80", 5, 3, "invalid utf-8 byte 0x80");
	expect_bad("\xe4\xb8", 2, 1, "invalid utf-8 byte 0xe4");
	expect_bad("\xe4\xb8x", 3, 1, "invalid utf-8");
	expect_bad("\xf0\x9f\x98", 3, 1, "invalid utf-8");
	expect_bad("\xff", 1, 1, "invalid utf-8 byte 0xff");
}

static void test_overlong_surrogate_and_range(void **state)
{
	(void)state;
	expect_bad("\xc0\xaf", 2, 1, "invalid utf-8 byte 0xc0");
	expect_bad("\xc1\xbf", 2, 1, "invalid utf-8");
	expect_bad("\xe0\x80\xaf", 3, 1, "invalid utf-8");
	expect_bad("\xf0\x80\x80\xaf", 4, 1, "invalid utf-8");
	expect_bad("\xed\xa0\x80", 3, 1, "invalid utf-8 byte 0xed");
	expect_bad("\xf4\x90\x80\x80", 4, 1, "invalid utf-8 byte 0xf4");
	expect_bad("\xf5\x80\x80\x80", 4, 1, "invalid utf-8 byte 0xf5");
}

static void test_nul(void **state)
{
	(void)state;
	expect_bad("x\n\ny\0", 5, 3, "nul byte at offset 4");
	expect_bad("\0", 1, 1, "nul byte");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_text),
		cmocka_unit_test(test_long_ascii_runs_and_tail),
		cmocka_unit_test(test_stray_and_truncated),
		cmocka_unit_test(test_overlong_surrogate_and_range),
		cmocka_unit_test(test_nul),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
