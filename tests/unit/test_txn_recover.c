/* test_txn_recover.c - a kb_txn_commit() killed with SIGKILL (the test hook
 * KB_TEST_TXN_KILL in core/txn.c, in a forked child) is recovered by the
 * next kb_store_open(): after the branch moved, the work tree and git's
 * index get the commit's puts and removals; before it moved, only the
 * temporaries go.  The marker of a process still running is left alone. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kb/error.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

/* A KB with cases/A.md and cases/B.md committed. */
static char *kb_with_two_files(void)
{
	char *dir = tu_mkdtemp("kb");
	kb_store *st = NULL;
	kb_txn *t = NULL;

	tu_git_identity();
	assert_int_equal(kb_store_init(&st, dir, &alice), 0);
	assert_int_equal(kb_txn_begin(&t, st), 0);
	assert_int_equal(kb_txn_put(t, "cases/A.md", "a1\n", 3), 0);
	assert_int_equal(kb_txn_put(t, "cases/B.md", "b1\n", 3), 0);
	assert_int_equal(kb_txn_commit(t, &alice, "Two", NULL), 0);
	kb_txn_free(t);
	kb_store_free(st);
	return dir;
}

/* In a child killed at `point`: change A, remove B, add 30 files (bulk). */
static void commit_killed_at(const char *dir, const char *point)
{
	kb_buf rel = KB_BUF_INIT;
	kb_store *st = NULL;
	kb_txn *t = NULL;
	int i, status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("KB_TEST_TXN_KILL", point, 1);
		if (kb_store_open(&st, dir) < 0 || kb_txn_begin(&t, st) < 0 || kb_txn_set_bulk(t) < 0 ||
		    kb_txn_put(t, "cases/A.md", "a2\n", 3) < 0 || kb_txn_remove(t, "cases/B.md") < 0)
			_exit(3);
		for (i = 0; i < 30; i++) {
			kb_buf_clear(&rel);
			kb_buf_printf(&rel, "cases/new/N-%02d.md", i);
			if (kb_txn_put(t, rel.ptr, rel.ptr, rel.len) < 0)
				_exit(3);
		}
		kb_txn_commit(t, &alice, "Killed", NULL);
		_exit(4);   /* not reached: the hook kills the process */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	kb_buf_release(&rel);
}

static void test_killed_after_ref_update_is_finished(void **state)
{
	char *dir = kb_with_two_files();
	kb_store *st = NULL;

	(void)state;
	commit_killed_at(dir, "after-ref");
	/* the kill's state: HEAD is the new commit, the work tree the old one */
	tu_expect_sh(dir, "git log --format=%s | head -1", "Killed");
	tu_expect_sh(dir, "ls .git | grep -c '^kb-txn-'", "1");
	tu_expect_sh(dir, "cat cases/A.md; ls cases/B.md; ls -A cases/new | grep -c kbtmp", "a1\ncases/B.md\n30");
	assert_int_equal(kb_store_open(&st, dir), 0);
	tu_expect_sh(dir, "git status --porcelain --ignored; ls .git | grep -c '^kb-txn-' || true", "0");
	tu_expect_sh(dir, "cat cases/A.md; ls cases/B.md 2>/dev/null; ls -A cases/new | wc -l; "
		  "cat cases/new/N-29.md", "a2\n30\ncases/new/N-29.md");
	tu_expect_sh(dir, "git diff --quiet HEAD && git rev-list --count HEAD", "3");
	kb_store_free(st);
	tu_rmtree(dir);
	free(dir);
}

static void test_killed_before_ref_update_is_undone(void **state)
{
	char *dir = kb_with_two_files(), *before;
	kb_store *st = NULL;
	kb_txn *t = NULL;

	(void)state;
	before = tu_sh_in(dir, "git rev-parse HEAD; git ls-files -s");
	commit_killed_at(dir, "before-ref");
	tu_expect_sh(dir, "ls -A cases/new | grep -c kbtmp", "30");
	assert_int_equal(kb_store_open(&st, dir), 0);
	tu_expect_sh(dir, "git rev-parse HEAD; git ls-files -s", before);
	tu_expect_sh(dir, "git status --porcelain --ignored; ls .git | grep -c '^kb-txn-' || true; "
		  "cat cases/A.md cases/B.md", "0\na1\nb1");
	/* and the KB takes commits again */
	assert_int_equal(kb_txn_begin(&t, st), 0);
	assert_int_equal(kb_txn_put(t, "cases/C.md", "c\n", 2), 0);
	assert_int_equal(kb_txn_commit(t, &alice, "After", NULL), 0);
	kb_txn_free(t);
	tu_expect_sh(dir, "git status --porcelain; git rev-list --count HEAD", "3");
	free(before);
	kb_store_free(st);
	tu_rmtree(dir);
	free(dir);
}

/* Killed before the ref update, then a commit made with git on the same
 * parent: it is not the killed commit (another tree), so the work tree is
 * not touched (an uncommitted edit survives); the temporaries go. */
static void test_other_commit_on_same_parent_not_rolled_forward(void **state)
{
	char *dir = kb_with_two_files();
	kb_store *st = NULL;

	(void)state;
	commit_killed_at(dir, "before-ref");
	tu_expect_sh(dir, "echo a3 > cases/A.md && git commit -qam manual && echo a4 > cases/A.md && "
		  "git rev-list --count HEAD", "3");
	assert_int_equal(kb_store_open(&st, dir), 0);
	tu_expect_sh(dir, "cat cases/A.md cases/B.md; ls -A cases/new 2>/dev/null | wc -l; "
		  "ls .git | grep -c '^kb-txn-' || true; git status --porcelain",
		  "a4\nb1\n0\n0\n M cases/A.md");
	kb_store_free(st);
	tu_rmtree(dir);
	free(dir);
}

/* A marker whose process runs (this test's own parent) is a commit under
 * way: left alone, and so are temporaries. */
static void test_marker_of_running_process_left_alone(void **state)
{
	char *dir = kb_with_two_files(), marker[64], tmp[64];
	kb_store *st = NULL;
	kb_buf p = KB_BUF_INIT, t = KB_BUF_INIT;

	(void)state;
	snprintf(marker, sizeof(marker), ".git/kb-txn-%ld", (long)getppid());
	snprintf(tmp, sizeof(tmp), "cases/.A.md.kbtmp-%ld-0", (long)getppid());
	kb_buf_printf(&p, "%s/%s", dir, marker);
	kb_buf_printf(&t, "%s/%s", dir, tmp);
	tu_write_str(p.ptr, "0000000000000000000000000000000000000000\n");
	tu_write_str(t.ptr, "half\n");
	assert_int_equal(kb_store_open(&st, dir), 0);
	assert_int_equal(access(p.ptr, F_OK), 0);
	assert_int_equal(access(t.ptr, F_OK), 0);
	kb_store_free(st);
	kb_buf_release(&p);
	kb_buf_release(&t);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_killed_after_ref_update_is_finished),
		cmocka_unit_test(test_killed_before_ref_update_is_undone),
		cmocka_unit_test(test_other_commit_on_same_parent_not_rolled_forward),
		cmocka_unit_test(test_marker_of_running_process_left_alone),
	};

	return tu_run_isolated(tests);
}
