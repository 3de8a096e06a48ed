/* test_import.c - kb/import.h: the notes pipeline on temporary KBs:
 * counts, ids, one commit per run, idempotent re-runs, duplicates linked,
 * dry runs and bad input that write nothing, and redaction proven against
 * the commit with `git log -p`. */
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

	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("HOME", ".", 1);
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
	return tu_sh_in(k->dir, "git rev-parse HEAD; git status --porcelain");
}

static int ncommits(const tkb *k)
{
	char *n = tu_sh_in(k->dir, "git rev-list --count HEAD");
	int v = (int)strtol(n, NULL, 10);

	free(n);
	return v;
}

static int run_import(kb_import_result *r, tkb *k, const char *path, int dry_run)
{
	kb_import_options o = KB_IMPORT_OPTIONS_INIT;
	const char *paths[1];

	paths[0] = path;
	o.author = &alice;
	o.dry_run = dry_run;
	kb_import_result_release(r);
	return kb_import_notes(r, k->s, paths, 1, &o);
}

static void test_import_creates_one_commit(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	tkb k = new_kb();
	char *log;

	(void)state;
	assert_int_equal(run_import(&r, &k, tu_srcpath("tests/fixtures/import/notebook.txt"), 0), 0);
	assert_int_equal(r.created, 3);
	assert_int_equal(r.duplicates, 0);
	assert_int_equal(r.skipped, 0);
	assert_string_equal(r.items[0].id, "CHL-0001");
	assert_string_equal(r.items[1].id, "CHL-0002");
	assert_string_equal(r.items[2].id, "AHU-0001");
	assert_int_equal(r.items[2].line, 5);
	assert_int_equal(ncommits(&k), 2);
	log = tu_sh_in(k.dir, "git log -1 --format='%an|%s'");
	assert_string_equal(log, "Alice Wong|Import 3 notes from notebook.txt");
	free(log);
	log = tu_sh_in(k.dir, "grep -c '^source_hash: ' cases/CHL/000/CHL-0001.md; grep '^status' cases/AHU/000/AHU-0001.md");
	assert_string_equal(log, "1\nstatus: draft");
	free(log);
	kb_import_result_release(&r);
	done_kb(&k);
}

static void test_import_is_idempotent(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	tkb k = new_kb();
	char *before, *after;

	(void)state;
	assert_int_equal(run_import(&r, &k, tu_srcpath("tests/fixtures/import/notebook.txt"), 0), 0);
	before = head(&k);
	assert_int_equal(run_import(&r, &k, tu_srcpath("tests/fixtures/import/notebook.txt"), 0), 0);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.skipped, 3);
	assert_string_equal(r.items[0].reason, "already imported as CHL-0001");
	after = head(&k);
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_import_result_release(&r);
	done_kb(&k);
}

static void test_import_duplicates_in_one_run(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	tkb k = new_kb();
	char *p = NULL;

	(void)state;
	p = kb_xstrdup("twice.txt");
	tu_write_str(p, "Pump 2 seal leaking -li\n---\nPump 2 seal leaking -li\n");
	assert_int_equal(run_import(&r, &k, p, 0), 0);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.skipped, 1);
	assert_string_equal(r.items[1].reason, "already imported as PMP-0001");
	free(p);
	kb_import_result_release(&r);
	done_kb(&k);
}

static void test_import_links_similar_case(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	tkb k = new_kb();
	char *got;

	(void)state;
	assert_int_equal(run_import(&r, &k, tu_srcpath("tests/fixtures/import/notebook.txt"), 0), 0);
	assert_int_equal(run_import(&r, &k, tu_srcpath("tests/fixtures/import/again.txt"), 0), 0);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.duplicates, 1);
	assert_int_equal(r.items[0].action, KB_IMPORT_DUPLICATE);
	assert_string_equal(r.items[0].duplicate_of, "CHL-0001");
	assert_string_equal(r.items[0].id, "CHL-0003");
	assert_true(r.items[0].score >= KB_IMPORT_DEFAULT_THRESHOLD);
	got = tu_sh_in(k.dir, "grep -E '^(links|duplicate_of|status):' cases/CHL/000/CHL-0003.md");
	assert_string_equal(got, "status: draft\nlinks: [CHL-0001]\nduplicate_of: CHL-0001");
	free(got);
	assert_int_equal(ncommits(&k), 3);
	kb_import_result_release(&r);
	done_kb(&k);
}

static void test_import_dry_run_writes_nothing(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	tkb k = new_kb();
	char *before = head(&k), *after;

	(void)state;
	assert_int_equal(run_import(&r, &k, tu_srcpath("tests/fixtures/import/notebook.txt"), 1), 0);
	assert_int_equal(r.created, 3);
	assert_string_equal(r.commit, "");
	after = head(&k);
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_import_result_release(&r);
	done_kb(&k);
}

static void test_import_redacts_before_commit(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	tkb k = new_kb();
	kb_buf cmd = KB_BUF_INIT;
	char *log;

	(void)state;
	kb_buf_printf(&cmd, "git config -f kb.conf --add redact.customer 'Acme Foods' && "
		      "git add kb.conf && git -c user.name=A -c user.email=a@b.c commit -qm conf");
	free(tu_sh_in(k.dir, cmd.ptr));
	kb_store_free(k.s);
	assert_int_equal(kb_store_open(&k.s, k.dir), 0);
	assert_int_equal(run_import(&r, &k, tu_srcpath("tests/fixtures/import/personal.txt"), 0), 0);
	assert_int_equal(r.created, 1);
	log = tu_sh_in(k.dir, "git log -p -1 | grep -c -E '13812345678|li.ming@example.com|"
		    "11010519491231002X|Acme Foods' || true");
	assert_string_equal(log, "0");
	free(log);
	log = tu_sh_in(k.dir, "grep -c -F '[phone]' cases/PMP/000/PMP-0001.md");
	assert_string_equal(log, "1");
	free(log);
	kb_buf_release(&cmd);
	kb_import_result_release(&r);
	done_kb(&k);
}

static void expect_refused(const char *name, const char *data, size_t len, int line)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	tkb k = new_kb();
	char *before = head(&k), *after;

	tu_write_file(name, data, len);
	assert_int_equal(run_import(&r, &k, name, 0), KB_EINPUT);
	assert_string_equal(kb_error_last()->path, name);
	assert_int_equal(kb_error_last()->line, line);
	after = head(&k);
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_import_result_release(&r);
	done_kb(&k);
}

static void test_import_bad_input(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	tkb k = new_kb();
	char *before = head(&k), *after;

	(void)state;
	expect_refused("binary.txt", "ok line\nPK\0\3\4\n", 13, 2);
	expect_refused("latin1.txt", "line one\nline two caf\xe9\n", 23, 2);
	tu_write_str("empty.txt", "");
	assert_int_equal(run_import(&r, &k, "empty.txt", 0), 0);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.skipped, 1);
	assert_string_equal(r.items[0].reason, "empty");
	assert_int_equal(run_import(&r, &k, "no-such-file.txt", 0), KB_ENOTFOUND);
	after = head(&k);
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_import_result_release(&r);
	done_kb(&k);
}

static void test_next_id(void **state)
{
	tkb k = new_kb();
	kb_buf id = KB_BUF_INIT;

	(void)state;
	assert_int_equal(kb_store_next_id(&id, k.s, "chiller"), 0);
	assert_string_equal(id.ptr, "CHL-0001");
	kb_buf_clear(&id);
	assert_int_equal(kb_store_next_id(&id, k.s, "no such thing"), 0);
	assert_string_equal(id.ptr, "KB-0001");
	kb_buf_release(&id);
	done_kb(&k);
}

static void test_review_decisions(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	kb_diags d = KB_DIAGS_INIT;
	tkb k = new_kb();
	char *got, *before;

	(void)state;
	assert_int_equal(run_import(&r, &k, tu_srcpath("tests/fixtures/import/notebook.txt"), 0), 0);
	before = head(&k);
	assert_int_equal(kb_review_accept(k.s, "AHU-0001", &alice, &d, NULL), KB_EINVALID);
	assert_true(kb_diags_errors(&d) > 0);
	assert_int_equal(kb_review_reject(k.s, "AHU-0001", "", &alice, NULL), KB_EINPUT);
	assert_int_equal(kb_review_merge(k.s, "AHU-0001", "NOPE-1", &alice, NULL), KB_ENOTFOUND);
	got = head(&k);
	assert_string_equal(before, got);
	free(got);
	assert_int_equal(kb_review_accept(k.s, "CHL-0001", &alice, &d, NULL), 0);
	assert_int_equal(kb_review_accept(k.s, "CHL-0001", &alice, &d, NULL), KB_EINPUT);
	assert_int_equal(kb_review_reject(k.s, "CHL-0002", "not ours", &alice, NULL), 0);
	assert_int_equal(kb_review_merge(k.s, "AHU-0001", "CHL-0001", &alice, NULL), 0);
	assert_int_equal(ncommits(&k), 5);
	got = tu_sh_in(k.dir, "grep -E '^(status|rejected_reason|duplicate_of|links):' "
		    "cases/CHL/000/CHL-0001.md cases/CHL/000/CHL-0002.md cases/AHU/000/AHU-0001.md");
	assert_string_equal(got, "cases/CHL/000/CHL-0001.md:status: validated\n"
			    "cases/CHL/000/CHL-0001.md:links: [AHU-0001]\n"
			    "cases/CHL/000/CHL-0002.md:status: archived\n"
			    "cases/CHL/000/CHL-0002.md:rejected_reason: not ours\n"
			    "cases/AHU/000/AHU-0001.md:status: archived\n"
			    "cases/AHU/000/AHU-0001.md:duplicate_of: CHL-0001");
	free(got);
	got = tu_sh_in(k.dir, "grep -c 'AHU-3 belt slipping' cases/CHL/000/CHL-0001.md");
	assert_string_equal(got, "1");
	free(got);
	free(before);
	kb_diags_release(&d);
	kb_import_result_release(&r);
	done_kb(&k);
}

static void test_import_csv(void **state)
{
	kb_import_options o = KB_IMPORT_OPTIONS_INIT;
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	tkb k = new_kb();
	char *before, *after, *log;

	(void)state;
	o.author = &alice;
	before = head(&k);
	assert_int_equal(kb_import_csv(&r, k.s, tu_srcpath("tests/fixtures/import/workorders.csv"),
				       "title=Summary,symptom=Missing", &o), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "'Missing'"));
	tu_write_str("open.csv", "Summary,Problem\nPump,\"never closed\n");
	kb_import_result_release(&r);
	assert_int_equal(kb_import_csv(&r, k.s, "open.csv", "title=Summary", &o), KB_EINPUT);
	after = head(&k);
	assert_string_equal(before, after);
	free(after);
	kb_import_result_release(&r);
	assert_int_equal(kb_import_csv(&r, k.s, tu_srcpath("tests/fixtures/import/workorders.csv"),
				       "title=Summary,symptom=Problem,resolution=Fix,equipment=Asset",
				       &o), 0);
	assert_int_equal(r.created, 2);
	assert_int_equal(r.skipped, 1);
	assert_int_equal(r.items[1].line, 3);
	log = tu_sh_in(k.dir, "git log -p -1 | grep -c 13812345678 || true");
	assert_string_equal(log, "0");
	free(log);
	log = tu_sh_in(k.dir, "git log -1 --format=%s");
	assert_string_equal(log, "Import 2 records from workorders.csv");
	free(log);
	free(before);
	kb_import_result_release(&r);
	done_kb(&k);
}

typedef struct {
	int calls, finished_calls;
	size_t last_records;
	unsigned long long last_bytes, total;
} progress_log;

static void log_progress(const kb_import_progress *p, void *payload)
{
	progress_log *l = payload;

	assert_true(p->records >= l->last_records);
	assert_true(p->bytes >= l->last_bytes);
	assert_int_equal(l->finished_calls, 0);  /* nothing after the last call */
	l->calls++;
	l->finished_calls += p->finished;
	l->last_records = p->records;
	l->last_bytes = p->bytes;
	l->total = p->bytes_total;
}

/* One call per note, then one with finished set; bytes reach the file size. */
static void test_import_progress(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	kb_import_options o = KB_IMPORT_OPTIONS_INIT;
	const char *paths[1] = { tu_srcpath("tests/fixtures/import/notebook.txt") };
	progress_log l = { 0, 0, 0, 0, 0 };
	size_t size;
	char *text = tu_read_file(paths[0], &size);
	tkb k = new_kb();

	(void)state;
	o.author = &alice;
	o.progress = log_progress;
	o.progress_payload = &l;
	assert_int_equal(kb_import_notes(&r, k.s, paths, 1, &o), 0);
	assert_int_equal(r.created, 3);
	assert_int_equal(l.calls, 4);
	assert_int_equal(l.finished_calls, 1);
	assert_int_equal(l.last_records, 3);
	assert_int_equal(l.total, size);
	assert_int_equal(l.last_bytes, size);
	kb_import_result_release(&r);
	free(text);
	done_kb(&k);
}

/* opts.merge: the duplicate note is folded into CHL-0001, no draft added. */
static void test_import_merge(void **state)
{
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	kb_import_options o = KB_IMPORT_OPTIONS_INIT;
	const char *paths[1];
	tkb k = new_kb();
	char *s;

	(void)state;
	assert_int_equal(run_import(&r, &k, tu_srcpath("tests/fixtures/import/notebook.txt"), 0), 0);
	paths[0] = tu_srcpath("tests/fixtures/import/again.txt");  /* a static buffer */
	o.author = &alice;
	o.merge = 1;
	kb_import_result_release(&r);
	assert_int_equal(kb_import_notes(&r, k.s, paths, 1, &o), 0);
	assert_int_equal(r.merged, 1);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.items[0].action, KB_IMPORT_MERGED);
	assert_string_equal(r.items[0].duplicate_of, "CHL-0001");
	assert_string_equal(kb_import_action_name(KB_IMPORT_MERGED), "merged");
	assert_int_equal(ncommits(&k), 3);
	s = tu_sh_in(k.dir, "grep -c 'imported from .*again.txt:1' cases/CHL/000/CHL-0001.md; "
		  "find cases -name 'CHL-*' | grep -c CHL-");
	assert_string_equal(s, "4\n2");
	free(s);
	/* again: skipped through merged_hashes, nothing written */
	kb_import_result_release(&r);
	assert_int_equal(kb_import_notes(&r, k.s, paths, 1, &o), 0);
	assert_int_equal(r.skipped, 2);
	assert_int_equal(ncommits(&k), 3);
	kb_import_result_release(&r);
	done_kb(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_creates_one_commit),
		cmocka_unit_test(test_import_is_idempotent),
		cmocka_unit_test(test_import_duplicates_in_one_run),
		cmocka_unit_test(test_import_links_similar_case),
		cmocka_unit_test(test_import_dry_run_writes_nothing),
		cmocka_unit_test(test_import_redacts_before_commit),
		cmocka_unit_test(test_import_bad_input),
		cmocka_unit_test(test_next_id),
		cmocka_unit_test(test_review_decisions),
		cmocka_unit_test(test_import_csv),
		cmocka_unit_test(test_import_progress),
		cmocka_unit_test(test_import_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
