/* test_layout.c - the foldered layout of cases/: the canonical path of an
 * id (kb_store_case_relpath), finding an existing case wherever it is
 * (kb_store_case_locate, kb_store_case_write_path), and moving a KB's files
 * there (kb_migrate_layout: dry run, the commit, refusals, idempotence). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb/error.h"
#include "kb/lifecycle.h"
#include "kb/migrate.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

static void expect_relpath(const char *id, const char *want)
{
	kb_buf rel = KB_BUF_INIT;

	assert_int_equal(kb_store_case_relpath(&rel, id), 0);
	assert_string_equal(rel.ptr, want);
	kb_buf_release(&rel);
}

static void test_relpath_rule(void **state)
{
	kb_buf rel = KB_BUF_INIT, id = KB_BUF_INIT, want = KB_BUF_INIT;

	(void)state;
	expect_relpath("CHL-0042", "cases/CHL/000/CHL-0042.md");
	expect_relpath("CHL-0999", "cases/CHL/000/CHL-0999.md");
	expect_relpath("CHL-1000", "cases/CHL/001/CHL-1000.md");
	expect_relpath("KB-123456", "cases/KB/123/KB-123456.md");
	expect_relpath("AHU-000006", "cases/AHU/000/AHU-000006.md");
	expect_relpath("X-7", "cases/X/000/X-7.md");
	expect_relpath("X-0", "cases/X/000/X-0.md");
	expect_relpath("KB-1234567", "cases/KB/1234/KB-1234567.md");
	expect_relpath("KB-00001234567", "cases/KB/1234/KB-00001234567.md");
	/* the prefix is everything before the last dash */
	expect_relpath("PLANT3-CHL-0042", "cases/PLANT3-CHL/000/PLANT3-CHL-0042.md");
	expect_relpath("a.b-12", "cases/a.b/000/a.b-12.md");
	/* anything else stays flat */
	expect_relpath("BIG", "cases/BIG.md");
	expect_relpath("CHL-", "cases/CHL-.md");
	expect_relpath("CHL-12a", "cases/CHL-12a.md");
	expect_relpath("CHL-1.5", "cases/CHL-1.5.md");
	expect_relpath("2024", "cases/2024.md");
	/* numbers beyond any integer type: the last three digits dropped */
	expect_relpath("N-123456789012345678901234567890",
		       "cases/N/123456789012345678901234567/N-123456789012345678901234567890.md");
	expect_relpath("N-18446744073709551615999",
		       "cases/N/18446744073709551615/N-18446744073709551615999.md");
	/* 64 characters is the longest id; 65 is refused */
	kb_buf_puts(&id, "P-");
	while (id.len < 64)
		kb_buf_putc(&id, '9');
	kb_buf_printf(&want, "cases/P/%.*s/%s.md", 59, id.ptr + 2, id.ptr);
	expect_relpath(id.ptr, want.ptr);
	kb_buf_putc(&id, '9');
	kb_buf_puts(&rel, "unchanged");
	assert_int_equal(kb_store_case_relpath(&rel, id.ptr), KB_EINPUT);
	assert_string_equal(rel.ptr, "unchanged");
	assert_int_equal(kb_store_case_relpath(&rel, "a/b-1"), KB_EINPUT);
	assert_int_equal(kb_store_case_relpath(&rel, "-12"), KB_EINPUT);
	assert_int_equal(kb_store_case_relpath(&rel, ""), KB_EINPUT);
	assert_int_equal(kb_store_case_relpath(&rel, NULL), KB_EINPUT);
	kb_buf_release(&rel);
	kb_buf_release(&id);
	kb_buf_release(&want);
}

/* ---- a KB on disk ---------------------------------------------------------- */

typedef struct {
	char *dir;
	kb_store *s;
} fixture;

static void kb_up(fixture *k)
{
	k->dir = tu_mkdtemp("kb");
	assert_int_equal(kb_store_init(&k->s, k->dir, &alice), 0);
}

static void kb_down(fixture *k)
{
	kb_store_free(k->s);
	tu_rmtree(k->dir);
	free(k->dir);
}

static const char *case_text(kb_buf *b, const char *id)
{
	kb_buf_clear(b);
	kb_buf_printf(b, "---\nid: %s\ntitle: Pump trips %s\nequipment: pump\nstatus: draft\n"
		      "author: Case Writer <writer@example.com>\ncreated: 2024-05-12\n---\n\n"
		      "## Symptom\n\nTrips.\n\n## Resolution\n\nReset.\n", id, id);
	return b->ptr;
}

/* Commit the case `id` at `relpath`. */
static void commit_at(fixture *k, const char *relpath, const char *id)
{
	kb_buf text = KB_BUF_INIT;
	kb_txn *t = NULL;

	case_text(&text, id);
	assert_int_equal(kb_txn_begin(&t, k->s), 0);
	assert_int_equal(kb_txn_put(t, relpath, text.ptr, text.len), 0);
	assert_int_equal(kb_txn_commit(t, &alice, "add", NULL), 0);
	kb_txn_free(t);
	kb_buf_release(&text);
}

static void expect_located(fixture *k, const char *id, const char *want)
{
	kb_buf rel = KB_BUF_INIT;
	kb_case *c = NULL;

	assert_int_equal(kb_store_case_locate(&rel, k->s, id), 0);
	assert_string_equal(rel.ptr, want);
	assert_int_equal(kb_store_case_write_path(&rel, k->s, id), 0);
	assert_string_equal(rel.ptr, want);
	assert_int_equal(kb_store_read_case(&c, k->s, id), 0);
	assert_string_equal(kb_case_id(c), id);
	assert_string_equal(kb_case_path(c), want);
	kb_case_free(c);
	kb_buf_release(&rel);
}

static void test_locate(void **state)
{
	kb_buf rel = KB_BUF_INIT, p = KB_BUF_INIT, text = KB_BUF_INIT;
	fixture k;

	(void)state;
	kb_up(&k);
	commit_at(&k, "cases/CHL/000/CHL-0001.md", "CHL-0001");
	commit_at(&k, "cases/CHL-0002.md", "CHL-0002");
	commit_at(&k, "cases/old/site3/CHL-0003.md", "CHL-0003");
	commit_at(&k, "cases/BIG.md", "BIG");
	expect_located(&k, "CHL-0001", "cases/CHL/000/CHL-0001.md");
	expect_located(&k, "CHL-0002", "cases/CHL-0002.md");
	expect_located(&k, "CHL-0003", "cases/old/site3/CHL-0003.md");
	expect_located(&k, "BIG", "cases/BIG.md");

	/* missing: not found, `out` left alone; the write path is canonical */
	kb_buf_puts(&rel, "unchanged");
	assert_int_equal(kb_store_case_locate(&rel, k.s, "CHL-0404"), KB_ENOTFOUND);
	assert_string_equal(kb_error_last()->message, "case 'CHL-0404' does not exist");
	assert_string_equal(rel.ptr, "unchanged");
	assert_int_equal(kb_store_case_write_path(&rel, k.s, "CHL-0404"), 0);
	assert_string_equal(rel.ptr, "cases/CHL/000/CHL-0404.md");
	assert_int_equal(kb_store_case_locate(&rel, k.s, "../x"), KB_EINPUT);
	assert_int_equal(kb_store_case_write_path(&rel, k.s, "../x"), KB_EINPUT);

	/* an untracked file outside both places is not found (git's index only) */
	kb_buf_printf(&p, "%s/cases/loose", k.dir);
	assert_int_equal(tu_sh(NULL, "mkdir -p '%s'", p.ptr), 0);
	kb_buf_puts(&p, "/CHL-0005.md");
	tu_write_str(p.ptr, case_text(&text, "CHL-0005"));
	assert_int_equal(kb_store_case_locate(&rel, k.s, "CHL-0005"), KB_ENOTFOUND);

	/* the canonical file wins over the flat one, the flat over the index;
	 * the map of git's index follows later commits in the same process */
	commit_at(&k, "cases/CHL-0001.md", "CHL-0001");
	expect_located(&k, "CHL-0001", "cases/CHL/000/CHL-0001.md");
	commit_at(&k, "cases/CHL-0003.md", "CHL-0003");
	expect_located(&k, "CHL-0003", "cases/CHL-0003.md");
	commit_at(&k, "cases/more/CHL-0006.md", "CHL-0006");
	expect_located(&k, "CHL-0006", "cases/more/CHL-0006.md");
	kb_buf_release(&rel);
	kb_buf_release(&p);
	kb_buf_release(&text);
	kb_down(&k);
}

/* Many lookups of missing ids read git's index once (the map), and ids
 * that only differ in their bucket are told apart. */
static void test_locate_many(void **state)
{
	kb_buf rel = KB_BUF_INIT, text = KB_BUF_INIT, p = KB_BUF_INIT;
	kb_txn *t = NULL;
	fixture k;
	int i;

	(void)state;
	kb_up(&k);
	assert_int_equal(kb_txn_begin(&t, k.s), 0);
	for (i = 0; i < 300; i++) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "cases/elsewhere/%d/PMP-%04d.md", i % 7, i);
		kb_buf_clear(&rel);
		kb_buf_printf(&rel, "PMP-%04d", i);
		case_text(&text, rel.ptr);
		assert_int_equal(kb_txn_put(t, p.ptr, text.ptr, text.len), 0);
	}
	assert_int_equal(kb_txn_commit(t, &alice, "add", NULL), 0);
	kb_txn_free(t);
	for (i = 0; i < 600; i++) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "PMP-%04d", i);
		if (i >= 300) {
			assert_int_equal(kb_store_case_locate(&rel, k.s, p.ptr), KB_ENOTFOUND);
			continue;
		}
		assert_int_equal(kb_store_case_locate(&rel, k.s, p.ptr), 0);
		kb_buf_clear(&p);
		kb_buf_printf(&p, "cases/elsewhere/%d/PMP-%04d.md", i % 7, i);
		assert_string_equal(rel.ptr, p.ptr);
	}
	kb_buf_release(&rel);
	kb_buf_release(&text);
	kb_buf_release(&p);
	kb_down(&k);
}

/* ---- kb_migrate_layout ------------------------------------------------------ */

/* HEAD, git status, and a hash of every file outside .git. */
static char *snapshot(const char *dir)
{
	return tu_sh_in(dir, "(git rev-parse HEAD; git status --porcelain --untracked-files=all; "
		     "find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z | "
		     "xargs -0 sha1sum) 2>&1");
}

/* Commit raw `text` at relpath. */
static void commit_raw(fixture *k, const char *relpath, const char *text)
{
	kb_txn *t = NULL;

	assert_int_equal(kb_txn_begin(&t, k->s), 0);
	assert_int_equal(kb_txn_put(t, relpath, text, strlen(text)), 0);
	assert_int_equal(kb_txn_commit(t, &alice, "add raw", NULL), 0);
	kb_txn_free(t);
}

/* An old KB: flat cases, one already in place, one in a folder of its own,
 * one that does not parse, one whose id differs from its name, one whose
 * name is no id. */
static void old_kb(fixture *k)
{
	kb_buf text = KB_BUF_INIT;

	kb_up(k);
	commit_at(k, "cases/CHL-0001.md", "CHL-0001");
	commit_at(k, "cases/PMP-1234.md", "PMP-1234");
	commit_at(k, "cases/CHL/000/CHL-0002.md", "CHL-0002");
	commit_at(k, "cases/site3/old/AHU-0007.md", "AHU-0007");
	commit_at(k, "cases/BIG.md", "BIG");
	commit_raw(k, "cases/ELV-0003.md", "no front matter at all\n");
	commit_raw(k, "cases/PMP-0009.md", case_text(&text, "PMP-0010"));
	commit_raw(k, "cases/not an id.md", case_text(&text, "X-1"));
	kb_buf_release(&text);
}

static void expect_moves(const kb_migrate_result *r)
{
	assert_int_equal(r->nmoves, 4);
	assert_string_equal(r->moves[0].from, "cases/CHL-0001.md");
	assert_string_equal(r->moves[0].to, "cases/CHL/000/CHL-0001.md");
	assert_string_equal(r->moves[1].from, "cases/ELV-0003.md");
	assert_string_equal(r->moves[1].to, "cases/ELV/000/ELV-0003.md");
	assert_string_equal(r->moves[2].from, "cases/PMP-1234.md");
	assert_string_equal(r->moves[2].to, "cases/PMP/001/PMP-1234.md");
	assert_string_equal(r->moves[3].from, "cases/site3/old/AHU-0007.md");
	assert_string_equal(r->moves[3].to, "cases/AHU/000/AHU-0007.md");
	assert_int_equal(r->skipped.count, 2);
	assert_string_equal(r->skipped.items[0].path, "cases/PMP-0009.md");
	assert_non_null(strstr(r->skipped.items[0].message, "id 'PMP-0010' differs from the file name"));
	assert_int_equal(r->skipped.items[0].line, 2);
	assert_string_equal(r->skipped.items[1].path, "cases/not an id.md");
	assert_non_null(strstr(r->skipped.items[1].message, "'not an id' is not a valid case id"));
}

static void test_migrate(void **state)
{
	kb_migrate_result r = KB_MIGRATE_RESULT_INIT;
	kb_summary sum;
	char *before, *after, *log;
	fixture k;

	(void)state;
	old_kb(&k);
	assert_int_equal(kb_summary_get(&sum, k.s), 0);
	assert_int_equal(sum.misplaced, 4);
	kb_summary_release(&sum);

	/* dry run: the same answer, nothing written */
	before = snapshot(k.dir);
	assert_int_equal(kb_migrate_layout(&r, k.s, &alice, KB_MIGRATE_DRY_RUN), 0);
	expect_moves(&r);
	assert_string_equal(r.oid, "");
	kb_migrate_result_release(&r);
	after = snapshot(k.dir);
	assert_string_equal(before, after);
	free(after);

	/* the move: one commit by the author, a clean work tree */
	assert_int_equal(kb_migrate_layout(&r, k.s, &alice, 0), 0);
	expect_moves(&r);
	assert_int_equal(strlen(r.oid), 40);
	assert_int_equal(r.index_stale, 0);
	kb_migrate_result_release(&r);
	log = tu_sh_in(k.dir, "git log -1 --format='%an <%ae>|%s'; git status --porcelain; "
		       "git ls-files cases | LC_ALL=C sort; git rev-list --count HEAD");
	assert_string_equal(log, "Alice Wong <alice@example.com>|Move 4 cases to the foldered layout\n"
			    "cases/.gitkeep\ncases/AHU/000/AHU-0007.md\ncases/BIG.md\ncases/CHL/000/CHL-0001.md\n"
			    "cases/CHL/000/CHL-0002.md\ncases/ELV/000/ELV-0003.md\ncases/PMP-0009.md\n"
			    "cases/PMP/001/PMP-1234.md\ncases/not an id.md\n10");
	free(log);
	/* contents moved byte for byte; emptied folders gone; git sees renames */
	tu_expect_sh(k.dir, "cat cases/ELV/000/ELV-0003.md; ls cases/site3 2>&1 | wc -l; "
		     "git show --format= -M --name-status HEAD | grep -c '^R100'",
		     "no front matter at all\n1\n4");
	expect_located(&k, "CHL-0001", "cases/CHL/000/CHL-0001.md");
	expect_located(&k, "AHU-0007", "cases/AHU/000/AHU-0007.md");
	assert_int_equal(kb_summary_get(&sum, k.s), 0);
	assert_int_equal(sum.misplaced, 0);
	kb_summary_release(&sum);

	/* again: nothing to move, no commit */
	free(before);
	before = snapshot(k.dir);
	assert_int_equal(kb_migrate_layout(&r, k.s, &alice, 0), 0);
	assert_int_equal(r.nmoves, 0);
	assert_string_equal(r.oid, "");
	assert_int_equal(r.skipped.count, 2);
	kb_migrate_result_release(&r);
	after = snapshot(k.dir);
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_down(&k);
}

typedef struct {
	int n;
	char last_path[64];
	char last_summary[64];
} log_seen;

static int log_cb(const kb_commit_info *ci, void *payload)
{
	log_seen *l = payload;

	l->n++;
	snprintf(l->last_path, sizeof(l->last_path), "%s", ci->path);
	snprintf(l->last_summary, sizeof(l->last_summary), "%s", ci->summary);
	return 0;
}

/* The log of a moved case goes on at its old path (kb_store_log finds the
 * same file name at the flat path of the parent commit). */
static void test_log_across_the_move(void **state)
{
	kb_migrate_result r = KB_MIGRATE_RESULT_INIT;
	log_seen l = { 0, "", "" };
	fixture k;

	(void)state;
	old_kb(&k);
	commit_at(&k, "cases/CHL-0001.md", "CHL-0001");   /* a second commit */
	assert_int_equal(kb_migrate_layout(&r, k.s, &alice, 0), 0);
	kb_migrate_result_release(&r);
	assert_int_equal(kb_store_log(k.s, "cases/CHL/000/CHL-0001.md", log_cb, &l), 0);
	assert_int_equal(l.n, 2);   /* the move; the add (the second commit changed nothing) */
	assert_string_equal(l.last_path, "cases/CHL-0001.md");
	assert_string_equal(l.last_summary, "add");
	l.n = 0;
	assert_int_equal(kb_store_log(k.s, "cases/AHU/000/AHU-0007.md", log_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.last_path, "cases/site3/old/AHU-0007.md");
	kb_down(&k);
}

/* Refused with nothing written: `code`, and a message containing `want`. */
static void expect_refused(fixture *k, int code, const char *want)
{
	kb_migrate_result r = KB_MIGRATE_RESULT_INIT;
	char *before = snapshot(k->dir), *after;
	unsigned flags;

	for (flags = 0; flags <= KB_MIGRATE_DRY_RUN; flags++) {
		assert_int_equal(kb_migrate_layout(&r, k->s, &alice, flags), code);
		if (!strstr(kb_error_last()->message, want))
			fail_msg("'%s' lacks '%s'", kb_error_last()->message, want);
		assert_int_equal(r.nmoves, 0);
		kb_migrate_result_release(&r);
		after = snapshot(k->dir);
		assert_string_equal(before, after);
		free(after);
	}
	free(before);
}

static void test_migrate_refusals(void **state)
{
	kb_buf p = KB_BUF_INIT, text = KB_BUF_INIT;
	fixture k;

	(void)state;
	old_kb(&k);
	/* an uncommitted edit, then an untracked file */
	kb_buf_printf(&p, "%s/cases/CHL-0001.md", k.dir);
	tu_write_str(p.ptr, case_text(&text, "CHL-0001"));
	assert_int_equal(tu_sh(NULL, "echo edit >> '%s'", p.ptr), 0);
	expect_refused(&k, KB_ESTATE, "uncommitted changes to 'cases/CHL-0001.md'");
	assert_int_equal(tu_sh(NULL, "cd '%s' && git checkout -q cases/CHL-0001.md", k.dir), 0);
	kb_buf_clear(&p);
	kb_buf_printf(&p, "%s/cases/site3/PMP-0100.md", k.dir);
	tu_write_str(p.ptr, case_text(&text, "PMP-0100"));
	expect_refused(&k, KB_ESTATE, "uncommitted changes to 'cases/site3/PMP-0100.md'");
	assert_int_equal(unlink(p.ptr), 0);

	/* two files for one place */
	commit_at(&k, "cases/site3/CHL-0001.md", "CHL-0001");
	expect_refused(&k, KB_EEXISTS, "'cases/CHL-0001.md' and 'cases/site3/CHL-0001.md' both "
		       "belong at 'cases/CHL/000/CHL-0001.md'");
	assert_int_equal(tu_sh(NULL, "cd '%s' && git rm -q cases/site3/CHL-0001.md && "
			       "git -c user.name=T -c user.email=t@x commit -qm rm", k.dir), 0);
	/* a destination that exists */
	commit_at(&k, "cases/CHL/000/CHL-0001.md", "CHL-0001");
	expect_refused(&k, KB_EEXISTS, "cannot move 'cases/CHL-0001.md': "
		       "'cases/CHL/000/CHL-0001.md' already exists");
	kb_buf_release(&p);
	kb_buf_release(&text);
	kb_down(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relpath_rule),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_locate_many),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_migrate_refusals),
		cmocka_unit_test(test_log_across_the_move),
	};

	tu_git_identity();
	return tu_run_isolated(tests);
}
