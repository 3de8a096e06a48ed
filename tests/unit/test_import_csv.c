/* test_import_csv.c - kb_import_csv() reading its file as a stream:
 * GB18030 and UTF-8 text cut at chunk boundaries, the encoding decided by
 * the first non-ASCII bytes (even past the first chunk), a bad byte far
 * into the file named by line, and the per-record cap (a huge cell, an
 * unterminated quote) - each failure writing nothing. */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/import.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

typedef struct {
	char *dir;
	kb_store *s;
} tkb;

static tkb new_kb(void)
{
	tkb k;

	tu_git_identity();
	k.dir = tu_mkdtemp("kb");
	assert_int_equal(kb_store_init(&k.s, k.dir, &alice), 0);
	return k;
}

static void done_kb(tkb *k)
{
	kb_store_free(k->s);
	tu_rmtree(k->dir);
	free(k->dir);
}

static char *head(const tkb *k)
{
	kb_buf out = KB_BUF_INIT;

	assert_int_equal(tu_sh(&out, "cd '%s' && git rev-parse HEAD && git status --porcelain",
			       k->dir), 0);
	return kb_buf_detach(&out);
}

/* UTF-8 to GB18030 with iconv. */
static void to_gb18030(kb_buf *out, const char *utf8)
{
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	char *in = (char *)utf8, *o;
	size_t inleft = strlen(utf8), outleft;

	assert_true(cd != (iconv_t)-1);
	kb_buf_grow(out, 2 * inleft + 16);
	o = out->ptr + out->len;
	outleft = out->alloc - out->len - 1;
	assert_true(iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1);
	out->len = (size_t)(o - out->ptr);
	out->ptr[out->len] = '\0';
	iconv_close(cd);
}

static int import(kb_import_result *r, tkb *k, const char *path, int dry_run)
{
	kb_import_options o = KB_IMPORT_OPTIONS_INIT;

	o.author = &alice;
	o.dry_run = dry_run;
	o.threshold = 100;  /* no duplicate lookups matter here */
	kb_import_result_release(r);
	return kb_import_csv(r, k->s, path, "title=Summary,symptom=Problem", &o);
}

/* 4,000 GB18030 rows (> 64 KiB, so characters are cut between chunks). */
static void test_csv_gb18030_stream(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	kb_buf utf8 = KB_BUF_INIT, gb = KB_BUF_INIT;
	tkb k = new_kb();
	char path[64];
	int i;

	(void)state;
	kb_buf_puts(&utf8, "Summary,Problem\n");
	for (i = 0; i < 4000; i++)
		kb_buf_printf(&utf8, "水泵%d号跳闸,过载保护动作第%d次\n", i, i);
	to_gb18030(&gb, utf8.ptr);
	assert_true(gb.len > 2 * 65536);
	snprintf(path, sizeof(path), "%s.csv", k.dir);
	tu_write_file(path, gb.ptr, gb.len);
	assert_int_equal(import(&r, &k, path, 1), 0);
	assert_int_equal(r.created, 4000);
	assert_int_equal(r.skipped, 0);
	remove(path);
	kb_import_result_release(&r);
	kb_buf_release(&utf8);
	kb_buf_release(&gb);
	done_kb(&k);
}

/* ASCII for more than a chunk, then UTF-8 characters cut at every offset. */
static void test_csv_utf8_late_and_cut(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	kb_buf text = KB_BUF_INIT;
	tkb k = new_kb();
	char path[64];
	int i;

	(void)state;
	kb_buf_puts(&text, "Summary,Problem\n");
	for (i = 0; i < 3000; i++)
		kb_buf_printf(&text, "Pump %d trips,overload relay opened %d\n", i, i);
	assert_true(text.len > 65536);
	for (i = 0; i < 3000; i++)
		kb_buf_printf(&text, "泵 %d 跳闸,过载 é %d\n", i, i);
	snprintf(path, sizeof(path), "%s.csv", k.dir);
	tu_write_file(path, text.ptr, text.len);
	assert_int_equal(import(&r, &k, path, 1), 0);
	assert_int_equal(r.created, 6000);
	remove(path);
	kb_import_result_release(&r);
	kb_buf_release(&text);
	done_kb(&k);
}

/* Bad input far into a file: the message names the line; nothing written. */
static void test_csv_stream_bad_input(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	kb_buf text = KB_BUF_INIT;
	tkb k = new_kb();
	char path[64], *before, *after;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s.csv", k.dir);
	before = head(&k);
	/* valid UTF-8 first, then a byte that is neither UTF-8 nor its start */
	kb_buf_puts(&text, "Summary,Problem\n");
	for (i = 2; i < 5000; i++)
		kb_buf_printf(&text, "泵 %d,过载\n", i);
	kb_buf_puts(&text, "bad \xff byte,x\n");
	tu_write_file(path, text.ptr, text.len);
	assert_int_equal(import(&r, &k, path, 0), KB_EINPUT);
	assert_int_equal(kb_error_last()->line, 5000);
	assert_non_null(strstr(kb_error_last()->message, "invalid UTF-8"));
	/* a cell over the record cap */
	kb_buf_clear(&text);
	kb_buf_puts(&text, "Summary,Problem\nok,fine\nbig,");
	for (i = 0; i < 120000; i++)
		kb_buf_puts(&text, "0123456789");
	kb_buf_puts(&text, "\nafter,row\n");
	tu_write_file(path, text.ptr, text.len);
	assert_int_equal(import(&r, &k, path, 0), KB_EINPUT);
	assert_int_equal(kb_error_last()->line, 3);
	assert_non_null(strstr(kb_error_last()->message, "record 3 too large"));
	/* an unterminated quote does not swallow the file into memory */
	kb_buf_clear(&text);
	kb_buf_puts(&text, "Summary,Problem\n\"open quote,");
	for (i = 0; i < 120000; i++)
		kb_buf_puts(&text, "line of text\n");
	tu_write_file(path, text.ptr, text.len);
	assert_int_equal(import(&r, &k, path, 0), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "record 2 too large"));
	/* a NUL byte past the first chunk */
	kb_buf_clear(&text);
	kb_buf_puts(&text, "Summary,Problem\n");
	for (i = 2; i < 9000; i++)
		kb_buf_printf(&text, "pump %d,trip\n", i);
	kb_buf_put(&text, "x\0y,z\n", 6);
	tu_write_file(path, text.ptr, text.len);
	assert_int_equal(import(&r, &k, path, 0), KB_EINPUT);
	assert_int_equal(kb_error_last()->line, 9000);
	after = head(&k);
	assert_string_equal(before, after);
	remove(path);
	free(before);
	free(after);
	kb_import_result_release(&r);
	kb_buf_release(&text);
	done_kb(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_gb18030_stream),
		cmocka_unit_test(test_csv_utf8_late_and_cut),
		cmocka_unit_test(test_csv_stream_bad_input),
	};

	return tu_run_isolated(tests);
}
