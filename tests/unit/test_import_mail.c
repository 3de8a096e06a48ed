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
	n = tu_sh_in(dir, cmd);
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
	log = tu_sh_in(dir, "git log -1 --format=%s");
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
	before = tu_sh_in(dir, "git rev-parse HEAD; git status --porcelain");
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
	after = tu_sh_in(dir, "git rev-parse HEAD; git status --porcelain");
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_import_result_release(&r);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

/*
 * A generated mbox larger than the old whole-file cap would make slow to
 * build: 1,200 messages in 400 threads (a question, a reply by
 * In-Reply-To, a reply by subject only), read as a stream; each thread is
 * one draft with its messages in order, and the separator lines are right.
 */
static void test_mail_stream_many(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	kb_buf mbox = KB_BUF_INIT;
	char *dir, path[300], *got;
	kb_store *s = new_kb(&dir);
	int i;

	(void)state;
	for (i = 0; i < 400; i++) {
		kb_buf_printf(&mbox, "From a@x Mon Mar  4 08:00:00 2024\nFrom: Ann <ann@example.com>\n"
			      "Subject: Pump %d trips\nMessage-ID: <q%d@x>\n"
			      "Date: Mon, 4 Mar 2024 08:00:00 +0000\n\nPump %d trips on overload.\n\n",
			      i, i, i);
		kb_buf_printf(&mbox, "From b@x Mon Mar  4 09:00:00 2024\nFrom: Bo <bo@example.com>\n"
			      "Subject: Re: Pump %d trips\nMessage-ID: <r%d@x>\nIn-Reply-To: <q%d@x>\n"
			      "Date: Mon, 4 Mar 2024 09:00:00 +0000\n\nReplaced relay %d.\n"
			      "> Pump %d trips on overload.\n\n", i, i, i, i, i);
		kb_buf_printf(&mbox, "From c@x Mon Mar  4 10:00:00 2024\nFrom: Cy <cy@example.com>\n"
			      "Subject: RE: pump %d trips\nMessage-ID: <s%d@x>\n"
			      "Date: Mon, 4 Mar 2024 10:00:00 +0000\n\nRuns fine now %d.\n\n",
			      i, i, i);
	}
	snprintf(path, sizeof(path), "%s.mbox", dir);
	tu_write_file(path, mbox.ptr, mbox.len);
	assert_int_equal(import_one(&r, s, path), 0);
	assert_int_equal(r.created + r.duplicates, 400);
	assert_int_equal(r.skipped, 0);
	/* thread 399 starts at line 1 + 399 threads of 8 + 10 + 8 lines */
	assert_int_equal(r.items[399].line, 1 + 399 * (8 + 10 + 8));
	got = tu_sh_in(dir, "grep -rl 'Pump 399 trips on overload' cases | head -1 | xargs cat | "
		    "grep -c -x -e 'Replaced relay 399.' -e 'Runs fine now 399.' -e '> Pump 399 trips on overload.'");
	assert_string_equal(got, "2");  /* both replies, no quoted line */
	free(got);
	remove(path);
	kb_import_result_release(&r);
	kb_buf_release(&mbox);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_threads),
		cmocka_unit_test(test_mail_bad_input),
		cmocka_unit_test(test_mail_stream_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
