/* test_notes.c - kb_notes_split (kb/extract.h): each split mode, the
 * automatic choice, first-line numbers, and bad or pathological input. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "kb/extract.h"

static void split(kb_notes *n, const char *s, kb_notes_mode mode)
{
	assert_int_equal(kb_notes_split(n, s, strlen(s), mode), 0);
}

static void test_auto_dates_from_fixture(void **state)
{
	kb_notes n = KB_NOTES_INIT;
	size_t len;
	char *s = tu_read_file(tu_srcpath("tests/fixtures/notes/notebook-dates.txt"), &len);

	(void)state;
	assert_int_equal(kb_notes_split(&n, s, len, KB_NOTES_AUTO), 0);
	assert_int_equal(n.mode, KB_NOTES_DATE);
	assert_int_equal(n.count, 4);
	assert_string_equal(n.items[0].text, "Plant 3 notebook");
	assert_int_equal(n.items[0].line, 1);
	assert_int_equal(n.items[1].line, 3);
	assert_non_null(strstr(n.items[1].text, "still watching head pressure"));
	assert_int_equal(n.items[2].line, 6);
	assert_string_equal(n.items[2].text, "2024-03-06 AHU-1 filter alarm, replaced filters");
	assert_int_equal(n.items[3].line, 7);
	assert_memory_equal(n.items[3].text, "3月7日", strlen("3月7日"));
	kb_notes_release(&n);
	assert_int_equal(n.count, 0);
	free(s);
}

static void test_auto_separators_from_fixture(void **state)
{
	kb_notes n = KB_NOTES_INIT;
	size_t len;
	char *s = tu_read_file(tu_srcpath("tests/fixtures/notes/notebook-separators.md"), &len);

	(void)state;
	assert_int_equal(kb_notes_split(&n, s, len, KB_NOTES_AUTO), 0);
	assert_int_equal(n.mode, KB_NOTES_SEPARATOR);
	assert_int_equal(n.count, 3);
	assert_int_equal(n.items[0].line, 1);
	assert_int_equal(n.items[1].line, 4);
	assert_string_equal(n.items[1].text,
			    "boiler B-1 no ignition. found flame sensor dirty, cleaned it -li");
	assert_int_equal(n.items[2].line, 7);
	kb_notes_release(&n);
	free(s);
}

static void test_headings(void **state)
{
	kb_notes n = KB_NOTES_INIT;
	const char *s = "intro line\n# AHU-2\nfilter alarm\n\n## Pump 3\r\nnoisy\n#nothash\n";

	(void)state;
	split(&n, s, KB_NOTES_AUTO);
	assert_int_equal(n.mode, KB_NOTES_HEADING);
	assert_int_equal(n.count, 3);
	assert_string_equal(n.items[0].text, "intro line");
	assert_string_equal(n.items[1].text, "# AHU-2\nfilter alarm");
	assert_int_equal(n.items[1].line, 2);
	assert_string_equal(n.items[2].text, "## Pump 3\r\nnoisy\n#nothash");
	assert_int_equal(n.items[2].line, 5);
	kb_notes_release(&n);
}

static void test_chinese_dates_and_explicit_modes(void **state)
{
	kb_notes n = KB_NOTES_INIT;
	const char *s = "2024年3月4日 冷机跳闸\n复位\n3月5日 水泵异响\n12/31 ahu ok\n13/45 not a date\n";

	(void)state;
	split(&n, s, KB_NOTES_AUTO);
	assert_int_equal(n.mode, KB_NOTES_DATE);
	assert_int_equal(n.count, 3);
	assert_string_equal(n.items[0].text, "2024年3月4日 冷机跳闸\n复位");
	assert_int_equal(n.items[1].line, 3);
	assert_string_equal(n.items[2].text, "12/31 ahu ok\n13/45 not a date");
	kb_notes_release(&n);

	split(&n, s, KB_NOTES_WHOLE);
	assert_int_equal(n.count, 1);
	assert_int_equal(n.items[0].line, 1);
	kb_notes_release(&n);

	split(&n, "a\n---\nb\n", KB_NOTES_HEADING);   /* no headings: one note */
	assert_int_equal(n.count, 1);
	kb_notes_release(&n);
}

static void test_one_date_is_one_note(void **state)
{
	kb_notes n = KB_NOTES_INIT;

	(void)state;
	split(&n, "03/04 ch tripped\nreset ok\n", KB_NOTES_AUTO);
	assert_int_equal(n.mode, KB_NOTES_WHOLE);
	assert_int_equal(n.count, 1);
	kb_notes_release(&n);
	split(&n, "", KB_NOTES_AUTO);
	assert_int_equal(n.count, 0);
	kb_notes_release(&n);
	split(&n, "\n\n  \n---\n\n", KB_NOTES_AUTO);
	assert_int_equal(n.count, 0);
	kb_notes_release(&n);
}

static void test_mode_names(void **state)
{
	kb_notes_mode m;

	(void)state;
	assert_int_equal(kb_notes_mode_parse(&m, "date"), 0);
	assert_int_equal(m, KB_NOTES_DATE);
	assert_int_equal(kb_notes_mode_parse(&m, "separator"), 0);
	assert_int_equal(m, KB_NOTES_SEPARATOR);
	assert_int_equal(kb_notes_mode_parse(&m, "Date"), KB_EINPUT);
}

static void test_invalid_and_binary(void **state)
{
	kb_notes n = KB_NOTES_INIT;
	char bin[512];
	size_t i;

	(void)state;
	assert_int_equal(kb_notes_split(&n, "ok\nbad \xc0\xaf\n", 10, KB_NOTES_AUTO), KB_EINPUT);
	assert_int_equal(kb_error_last()->line, 2);
	assert_int_equal(n.count, 0);
	assert_int_equal(kb_notes_split(&n, "a\0b", 3, KB_NOTES_AUTO), KB_EINPUT);
	assert_int_equal(kb_notes_split(&n, "3月", 3, KB_NOTES_AUTO), KB_EINPUT); /* truncated */
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7);
	assert_int_equal(kb_notes_split(&n, bin, sizeof(bin), KB_NOTES_AUTO), KB_EINPUT);
	assert_null(n.items);
}

static void test_huge_notebook(void **state)
{
	kb_notes n = KB_NOTES_INIT;
	kb_buf b = KB_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 60000; i++)
		kb_buf_printf(&b, "%02zu/%02zu pump %zu noisy, replaced bearing\nline two\n",
			      i % 12 + 1, i % 28 + 1, i);
	assert_true(b.len > 2000000);
	assert_int_equal(kb_notes_split(&n, b.ptr, b.len, KB_NOTES_AUTO), 0);
	assert_int_equal(n.count, 60000);
	assert_int_equal(n.items[59999].line, 119999);
	kb_notes_release(&n);
	kb_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_dates_from_fixture),
		cmocka_unit_test(test_auto_separators_from_fixture),
		cmocka_unit_test(test_headings),
		cmocka_unit_test(test_chinese_dates_and_explicit_modes),
		cmocka_unit_test(test_one_date_is_one_note),
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_invalid_and_binary),
		cmocka_unit_test(test_huge_notebook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
