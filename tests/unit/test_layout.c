/* test_layout.c - the foldered layout of cases/: the canonical path of an
 * id (kb_store_case_relpath), finding an existing case wherever it is
 * (kb_store_case_locate, kb_store_case_write_path). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relpath_rule),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_locate_many),
	};

	tu_git_identity();
	return tu_run_isolated(tests);
}
