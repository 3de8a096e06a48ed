/* test_notes.c - kb_notes_split (kb/extract.h): each split mode, the
 * automatic choice, first-line numbers, and bad or pathological input; the
 * streaming reader of notes files (kb__notes_read_file, importers/notes.c)
 * gives exactly the notes kb_notes_split gives, and refuses bad files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "kb/extract.h"
#include "../../importers/importers_internal.h"

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

/* ---- streaming ------------------------------------------------------------ */

static int collect(const char *text, size_t len, int line, unsigned long long done, void *payload)
{
	kb_notes *n = payload;

	assert_int_equal(text[len], '\0');
	assert_true(done > 0);
	n->items = realloc(n->items, (n->count + 1) * sizeof(kb_note));
	n->items[n->count].text = kb_xstrndup(text, len);
	n->items[n->count].len = len;
	n->items[n->count++].line = line;
	return 0;
}

/* Read `text` written to a file in every mode and compare with kb_notes_split. */
static void same_as_split(const char *dir, const char *text, size_t len)
{
	kb_notes a = KB_NOTES_INIT, b = KB_NOTES_INIT;
	kb_buf path = KB_BUF_INIT;
	size_t i;
	int m;

	kb_buf_printf(&path, "%s/notes.txt", dir);
	tu_write_file(path.ptr, text, len);
	for (m = KB_NOTES_AUTO; m <= KB_NOTES_DATE; m++) {
		assert_int_equal(kb_notes_split(&a, text, len, (kb_notes_mode)m), 0);
		if (kb__notes_read_file(path.ptr, (kb_notes_mode)m, collect, &b) != 0)
			fail_msg("mode %d: %s", m, kb_error_last()->message);
		assert_int_equal(a.count, b.count);
		for (i = 0; i < a.count; i++) {
			assert_int_equal(a.items[i].line, b.items[i].line);
			assert_int_equal(a.items[i].len, b.items[i].len);
			assert_memory_equal(a.items[i].text, b.items[i].text, a.items[i].len);
		}
		kb_notes_release(&a);
		kb_notes_release(&b);
	}
	kb_buf_release(&path);
}

static void test_stream_same_notes_as_split(void **state)
{
	static const char *const pieces[] = {
		"\n", "\r\n", "  \n", "---\n", "# AHU-2 filter\n", "2024-03-04 pump P-3 noisy\r\n",
		"03/04 ch#2 tripped HP\n", "3月4日 3号楼2号冷机高压跳闸\n", "checked fans, reset\n",
		"## 水泵\n", "=====\n", "12/31 ok",
	};
	char *dir = tu_mkdtemp("notes");
	kb_buf b = KB_BUF_INIT;
	size_t i, k;
	unsigned r = 7;

	(void)state;
	same_as_split(dir, "", 0);
	same_as_split(dir, "\n\n\n", 3);
	same_as_split(dir, "no newline at the end", 21);
	for (k = 0; k < 40; k++) {
		kb_buf_clear(&b);
		for (i = 0; i < 60; i++) {
			r = r * 1103515245u + 12345u;
			kb_buf_puts(&b, pieces[(r >> 8) % (sizeof(pieces) / sizeof(pieces[0]))]);
			if ((r >> 20) % 24 == 0) {   /* a long line: crosses 64 KiB chunks */
				size_t n = 20000 + (r >> 4) % 70000;
				while (n--)
					kb_buf_puts(&b, n % 3 ? "x" : "冷");
				kb_buf_putc(&b, '\n');
			}
		}
		same_as_split(dir, b.ptr, b.len);
	}
	kb_buf_release(&b);
	tu_rmtree(dir);
	free(dir);
}

/* kb__notes_read_file on `data`: the error code, message part and line. */
static void expect_stream_error(const char *dir, const char *data, size_t len, kb_notes_mode m,
				int code, const char *msg, int line)
{
	kb_notes n = KB_NOTES_INIT;
	kb_buf path = KB_BUF_INIT;

	kb_buf_printf(&path, "%s/bad.txt", dir);
	tu_write_file(path.ptr, data, len);
	assert_int_equal(kb__notes_read_file(path.ptr, m, collect, &n), code);
	assert_non_null(strstr(kb_error_last()->message, msg));
	assert_string_equal(kb_error_last()->path, path.ptr);
	assert_int_equal(kb_error_last()->line, line);
	kb_notes_release(&n);
	kb_buf_release(&path);
}

static void test_stream_bad_files(void **state)
{
	char *dir = tu_mkdtemp("notes");
	kb_buf b = KB_BUF_INIT, p = KB_BUF_INIT;
	kb_notes n = KB_NOTES_INIT;
	size_t i;

	(void)state;
	expect_stream_error(dir, "ok\nPK\0\3\4\n", 9, KB_NOTES_AUTO, KB_EINPUT, "binary file", 2);
	expect_stream_error(dir, "ok\ncaf\xe9\n", 8, KB_NOTES_WHOLE, KB_EINPUT,
			    "invalid UTF-8 at byte 6", 2);
	expect_stream_error(dir, "ok\n3\xe6\x9c", 6, KB_NOTES_DATE, KB_EINPUT, "invalid UTF-8", 2);
	/* a huge single line: refused before it is all in memory */
	kb_buf_puts(&b, "03/04 first note\n\n");
	for (i = 0; i < KB__NOTE_MAX + 10; i++)
		kb_buf_putc(&b, 'x');
	expect_stream_error(dir, b.ptr, b.len, KB_NOTES_AUTO, KB_EINPUT, "line 3 too long", 3);
	expect_stream_error(dir, b.ptr, b.len, KB_NOTES_DATE, KB_EINPUT, "line 3 too long", 3);
	/* a note over the limit in short lines (nothing to split at) */
	kb_buf_clear(&b);
	kb_buf_puts(&b, "2024-01-02 small note\n2024-01-03 big note\n");
	for (i = 0; b.len < KB__NOTE_MAX + 100; i++)
		kb_buf_printf(&b, "line %zu of a long log without dates\n", i);
	expect_stream_error(dir, b.ptr, b.len, KB_NOTES_AUTO, KB_EINPUT, "note too large", 2);
	/* invalid bytes after a 64 KiB chunk boundary, on a later line */
	kb_buf_clear(&b);
	for (i = 0; i < 3000; i++)
		kb_buf_puts(&b, "12/31 pump noisy, bearing replaced\n");
	kb_buf_puts(&b, "bad \xff byte\n");
	expect_stream_error(dir, b.ptr, b.len, KB_NOTES_DATE, KB_EINPUT, "invalid UTF-8", 3001);
	kb_buf_printf(&p, "%s/missing.txt", dir);
	assert_int_equal(kb__notes_read_file(p.ptr, KB_NOTES_AUTO, collect, &n), KB_ENOTFOUND);
	assert_int_equal(n.count, 0);
	kb_buf_release(&p);
	kb_buf_release(&b);
	tu_rmtree(dir);
	free(dir);
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
		cmocka_unit_test(test_stream_same_notes_as_split),
		cmocka_unit_test(test_stream_bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
