/* test_txn_bulk.c - kb_txn_set_bulk() (kb/store.h): many files staged as
 * blob ids become one commit whose blobs are packed (no loose blob), the
 * work tree and git's index match it, a second put of a path wins, a batch
 * over the flush size still commits, and a transaction freed without a
 * commit leaves HEAD, the work tree and the index as they were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

static long sh_num(const char *dir, const char *cmd)
{
	char *s = tu_sh_in(dir, cmd);
	long v = strtol(s, NULL, 10);

	free(s);
	return v;
}

static void stage_many(kb_txn *t, int n, const char *tag)
{
	kb_buf rel = KB_BUF_INIT, text = KB_BUF_INIT;
	int i;

	for (i = 0; i < n; i++) {
		kb_buf_clear(&rel);
		kb_buf_clear(&text);
		kb_buf_printf(&rel, "cases/T-%04d.md", i);
		kb_buf_printf(&text, "---\nid: T-%04d\ntitle: case %d %s\n---\n## Symptom\nx\n", i, i,
			      tag);
		assert_int_equal(kb_txn_put(t, rel.ptr, text.ptr, text.len), 0);
	}
	kb_buf_release(&rel);
	kb_buf_release(&text);
}

static void test_bulk_commit_is_packed(void **state)
{
	char *dir = tu_mkdtemp("kb"), *s, oid[41];
	kb_store *st = NULL;
	kb_txn *t = NULL;
	long loose;

	(void)state;
	tu_git_identity();
	assert_int_equal(kb_store_init(&st, dir, &alice), 0);
	loose = sh_num(dir, "git count-objects -v | sed -n 's/^count: //p'");
	assert_int_equal(kb_txn_begin(&t, st), 0);
	assert_int_equal(kb_txn_set_bulk(t), 0);
	stage_many(t, 300, "old");
	stage_many(t, 1, "new");  /* a second put of T-0000 replaces the first */
	assert_int_equal(kb_txn_count(t), 300);
	assert_int_equal(kb_txn_commit(t, &alice, "Bulk", oid), 0);
	kb_txn_free(t);
	assert_int_equal(sh_num(dir, "git ls-tree -r HEAD cases | grep -c T-"), 300);
	s = tu_sh_in(dir, "git status --porcelain; git fsck --no-dangling 2>&1; cat cases/T-0000.md "
		  "cases/T-0299.md | grep title");
	assert_string_equal(s, "title: case 0 new\ntitle: case 299 old");
	free(s);
	/* blobs packed: the only new loose objects are two trees and the commit */
	assert_true(sh_num(dir, "git count-objects -v | sed -n 's/^in-pack: //p'") >= 300);
	assert_int_equal(sh_num(dir, "git count-objects -v | sed -n 's/^count: //p'"), loose + 3);
	kb_store_free(st);
	tu_rmtree(dir);
	free(dir);
}

/* Over 32 MiB of deflated blobs (random bytes do not compress): the queue
 * is flushed as a pack before the commit, the rest in a second pack. */
static void test_bulk_flushes_large_batches(void **state)
{
	char *dir = tu_mkdtemp("kb"), *s;
	size_t len = 17u * 1024 * 1024;
	char *big = malloc(len);
	kb_store *st = NULL;
	kb_txn *t = NULL;
	uint64_t x = 88172645463325252ULL;
	size_t i;

	(void)state;
	tu_git_identity();
	for (i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		big[i] = (char)(x >> 24);
	}
	big[0] = big[1] = big[2] = 'a';
	assert_int_equal(kb_store_init(&st, dir, &alice), 0);
	assert_int_equal(kb_txn_begin(&t, st), 0);
	assert_int_equal(kb_txn_set_bulk(t), 0);
	assert_int_equal(kb_txn_put(t, "notes/a.txt", big, len), 0);
	big[0] = 'b';
	assert_int_equal(kb_txn_put(t, "notes/b.txt", big, len), 0);
	assert_int_equal(kb_txn_put(t, "notes/c.txt", "c\n", 2), 0);
	assert_int_equal(kb_txn_commit(t, &alice, "Big", NULL), 0);
	kb_txn_free(t);
	assert_int_equal(sh_num(dir, "git count-objects -v | sed -n 's/^packs: //p'"), 2);
	s = tu_sh_in(dir, "git status --porcelain; git fsck --no-dangling 2>&1; head -c 3 notes/b.txt;"
		  " cat notes/c.txt");
	assert_string_equal(s, "baac");
	free(s);
	free(big);
	kb_store_free(st);
	tu_rmtree(dir);
	free(dir);
}

static void test_bulk_discarded_changes_nothing(void **state)
{
	char *dir = tu_mkdtemp("kb"), *before, *after;
	kb_store *st = NULL;
	kb_txn *t = NULL;

	(void)state;
	tu_git_identity();
	assert_int_equal(kb_store_init(&st, dir, &alice), 0);
	before = tu_sh_in(dir, "git rev-parse HEAD; git status --porcelain; ls -R");
	assert_int_equal(kb_txn_begin(&t, st), 0);
	assert_int_equal(kb_txn_set_bulk(t), 0);
	stage_many(t, 50, "x");
	kb_txn_free(t);
	after = tu_sh_in(dir, "git rev-parse HEAD; git status --porcelain; ls -R");
	assert_string_equal(before, after);
	/* the store is still usable for a normal write after the bulk one */
	assert_int_equal(kb_txn_begin(&t, st), 0);
	assert_int_equal(kb_txn_put(t, "cases/N-0001.md", "n\n", 2), 0);
	assert_int_equal(kb_txn_commit(t, &alice, "One", NULL), 0);
	kb_txn_free(t);
	free(after);
	after = tu_sh_in(dir, "git status --porcelain; git show HEAD:cases/N-0001.md");
	assert_string_equal(after, "n");
	free(before);
	free(after);
	kb_store_free(st);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bulk_commit_is_packed),
		cmocka_unit_test(test_bulk_flushes_large_batches),
		cmocka_unit_test(test_bulk_discarded_changes_nothing),
	};

	return tu_run_isolated(tests);
}
