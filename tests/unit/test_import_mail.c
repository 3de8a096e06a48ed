/* test_import_mail.c - kb_import_mail() on temporary KBs: .eml threads and
 * an mbox of three threads become one draft each in one commit, charsets
 * and transfer encodings decoded, quotes dropped, re-runs idempotent, and
 * broken, empty or binary mail rejected with nothing written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/import.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

static char *sh_in(const char *dir, const char *cmd)
{
	kb_buf out = KB_BUF_INIT;

	assert_int_equal(tu_sh(&out, "cd '%s' && %s", dir, cmd), 0);
	if (out.len && out.ptr[out.len - 1] == '\n')
		kb_buf_truncate(&out, out.len - 1);
	return kb_buf_detach(&out);
}

static kb_store *new_kb(char **dir)
{
	kb_store *s;

	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("HOME", ".", 1);
	tu_git_identity();
	*dir = tu_mkdtemp("kb");
	assert_int_equal(kb_store_init(&s, *dir, &alice), 0);
	return s;
}

static int import_one(kb_import_result *r, kb_store *s, const char *path)
{
	kb_import_options o = KB_IMPORT_OPTIONS_INIT;
	const char *paths[1];

	paths[0] = path;
	o.author = &alice;
	kb_import_result_release(r);
	return kb_import_mail(r, s, paths, 1, &o);
}

/* Assert that the last commit's patch has (want 1) or lacks (0) `grep`. */
static void expect_in_commit(const char *dir, const char *grep, int want)
{
	char cmd[256], *n;

	snprintf(cmd, sizeof(cmd), "git log -p -1 | grep -q -- '%s' && echo 1 || echo 0", grep);
	n = sh_in(dir, cmd);
	assert_int_equal(n[0] - '0', want);
	free(n);
}

static void test_mail_threads(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	char *dir, *path = strdup(tu_srcpath("tests/fixtures/import/mail")), *log;
	kb_store *s = new_kb(&dir);

	(void)state;
	assert_int_equal(import_one(&r, s, path), 0);
	assert_int_equal(r.created, 5);
	assert_int_equal(r.count, 5);
	assert_non_null(strstr(r.items[0].source, "thread/b-start.eml"));
	assert_int_equal(r.items[0].line, 1);
	assert_int_equal(r.items[1].line, 1);     /* mbox: line of "From " */
	assert_int_equal(r.items[2].line, 11);
	assert_int_equal(r.items[3].line, 49);
	log = sh_in(dir, "git log -1 --format=%s");
	assert_string_equal(log, "Import 5 threads from 5 files");
	free(log);
	expect_in_commit(dir, "^+> ", 0);
	expect_in_commit(dir, "zhang@plant3", 0);
	expect_in_commit(dir, "HTML copy", 0);
	expect_in_commit(dir, "2号风机电机烧毁", 1);
	expect_in_commit(dir, "轴承异响", 1);
	expect_in_commit(dir, "no trip overnight", 1);
	expect_in_commit(dir, "color:red", 0);
	assert_int_equal(import_one(&r, s, path), 0);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.skipped, 5);
	assert_string_equal(r.commit, "");
	kb_import_result_release(&r);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
	free(path);
}

static void test_mail_bad_input(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	char *dir, *before, *after;
	kb_store *s = new_kb(&dir);

	(void)state;
	before = sh_in(dir, "git rev-parse HEAD; git status --porcelain");
	assert_int_equal(import_one(&r, s, tu_srcpath("tests/fixtures/import/mail-bad/broken-boundary.mbox")),
			 KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "message 2"));
	tu_write_str("empty.eml", "");
	assert_int_equal(import_one(&r, s, "empty.eml"), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "empty"));
	tu_write_file("bin.eml", "From: a\n\0\1\2", 11);
	assert_int_equal(import_one(&r, s, "bin.eml"), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "binary"));
	assert_int_equal(import_one(&r, s, "missing.eml"), KB_ENOTFOUND);
	after = sh_in(dir, "git rev-parse HEAD; git status --porcelain");
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_import_result_release(&r);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_threads),
		cmocka_unit_test(test_mail_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
