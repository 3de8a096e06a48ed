/* test_sync.c - kb/sync.h on bare repositories in temporary directories and
 * two clones: remotes, fast-forward, merges of different cases, of different
 * sections of one case, conflicts kept both ways, delete against edit, reuse
 * logs, a case moved to its folder (kb migrate-layout) on one side and edited
 * at its old path on the other, and the refusals and faults (unrelated or rewritten history, push
 * race, uncommitted edits, unreachable remote, interrupted sync, state). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/migrate.h"
#include "kb/sync.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

typedef struct {
	char *dir;        /* holds srv.git, a/ and b/ */
	kb_store *a, *b;
} team;

static void sh(const team *t, const char *cmd)
{
	kb_buf out = KB_BUF_INIT;
	int rc = tu_sh(&out, "cd '%s' && (%s) 2>&1", t->dir, cmd);

	if (rc != 0)
		fprintf(stderr, "%s: %s\n", cmd, out.ptr ? out.ptr : "");
	assert_int_equal(rc, 0);
	kb_buf_release(&out);
}

static char *sh_out(const team *t, const char *cmd)
{
	kb_buf out = KB_BUF_INIT;

	assert_int_equal(tu_sh(&out, "cd '%s' && %s", t->dir, cmd), 0);
	if (out.len && out.ptr[out.len - 1] == '\n')
		kb_buf_truncate(&out, out.len - 1);
	return out.ptr ? kb_buf_detach(&out) : kb_xstrdup("");
}

static int sync_ok(kb_store *s, kb_sync_result *r)
{
	kb_sync_options o = KB_SYNC_OPTIONS_INIT;
	int rc;

	o.author = &alice;
	rc = kb_sync(s, NULL, &o, r);
	if (rc < 0)
		fprintf(stderr, "kb_sync: %s\n", kb_error_last()->message);
	return rc;
}

/* Add or replace case `id` in clone `who` ("a" or "b") and commit it. */
static void put_case(const team *t, const char *who, const char *id, const char *cause)
{
	kb_buf cmd = KB_BUF_INIT;

	kb_buf_printf(&cmd, "mkdir -p %s/cases && printf -- '---\\nid: %s\\ntitle: Pump %s trips\\n"
		      "equipment: pump\\nstatus: draft\\ncreated: 2024-05-12\\n---\\n\\n## Symptom\\n\\n"
		      "Trips.\\n\\n## Cause\\n\\n%s\\n\\n## Resolution\\n\\nReplace.\\n' >%s/cases/%s.md && "
		      "git -C %s add cases && git -C %s commit -qm 'case %s'",
		      who, id, id, cause, who, id, who, who, id);
	sh(t, cmd.ptr);
	kb_buf_release(&cmd);
}

/* Replace line `from` by `to` in a case of clone `who` and commit. */
static void edit_case(const team *t, const char *who, const char *id, const char *from,
		      const char *to)
{
	kb_buf cmd = KB_BUF_INIT;

	kb_buf_printf(&cmd, "sed -i 's/^%s$/%s/' %s/cases/%s.md && grep -q '^%s$' %s/cases/%s.md && "
		      "git -C %s commit -qam 'edit %s'", from, to, who, id, to, who, id, who, id);
	sh(t, cmd.ptr);
	kb_buf_release(&cmd);
}

static int has_line(const team *t, const char *who, const char *id, const char *line)
{
	kb_buf cmd = KB_BUF_INIT;
	int rc;

	kb_buf_printf(&cmd, "grep -q '^%s$' '%s/%s/cases/%s.md'", line, t->dir, who, id);
	rc = tu_sh(NULL, "%s", cmd.ptr) == 0;
	kb_buf_release(&cmd);
	return rc;
}

/* srv.git, a/ (kb init, pushed) and b/ (git clone); both clones open. */
static team new_team(void)
{
	kb_sync_result r;
	team t;
	kb_buf p = KB_BUF_INIT;

	tu_git_identity();
	tu_sh(NULL, "git config --global init.defaultBranch main");
	t.dir = tu_mkdtemp("sync");
	sh(&t, "git init -q --bare srv.git");
	kb_buf_printf(&p, "%s/a", t.dir);
	assert_int_equal(kb_store_init(&t.a, p.ptr, &alice), 0);
	assert_int_equal(kb_remote_add(t.a, "origin", "../srv.git"), 0);
	assert_int_equal(sync_ok(t.a, &r), 0);
	assert_true(r.pushed);
	kb_sync_result_release(&r);
	sh(&t, "git clone -q srv.git b");
	kb_buf_clear(&p);
	kb_buf_printf(&p, "%s/b", t.dir);
	assert_int_equal(kb_store_open(&t.b, p.ptr), 0);
	kb_buf_release(&p);
	return t;
}

static void done_team(team *t)
{
	kb_store_free(t->a);
	kb_store_free(t->b);
	tu_rmtree(t->dir);
	free(t->dir);
}

/* Both clones at the same commit with P-0001 in it. */
static void shared_case(team *t)
{
	kb_sync_result r;

	put_case(t, "a", "P-0001", "Bearing.");
	assert_int_equal(sync_ok(t->a, &r), 0);
	kb_sync_result_release(&r);
	assert_int_equal(sync_ok(t->b, &r), 0);
	kb_sync_result_release(&r);
}

static void test_remotes(void **state)
{
	team t = new_team();
	kb_remote_info *list;
	kb_buf name = KB_BUF_INIT;
	size_t n;

	(void)state;
	assert_int_equal(kb_remote_add(t.a, "origin", "/x"), KB_EEXISTS);
	assert_int_equal(kb_remote_add(t.a, "bad name", "/x"), KB_EINPUT);
	assert_int_equal(kb_remote_add(t.a, "backup", ""), KB_EINPUT);
	assert_int_equal(kb_remote_add(t.a, "backup", "/srv/backup.git"), 0);
	assert_int_equal(kb_remote_list(&list, &n, t.a), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "backup");
	assert_string_equal(list[0].url, "/srv/backup.git");
	assert_string_equal(list[1].name, "origin");
	kb_remote_list_free(list, n);
	assert_int_equal(kb_remote_default(&name, t.a), 0);
	assert_string_equal(name.ptr, "origin");
	assert_int_equal(kb_remote_remove(t.a, "origin"), 0);
	assert_int_equal(kb_remote_remove(t.a, "origin"), KB_ENOTFOUND);
	kb_buf_clear(&name);
	assert_int_equal(kb_remote_default(&name, t.a), 0);
	assert_string_equal(name.ptr, "backup");
	assert_int_equal(kb_remote_add(t.a, "other", "/y"), 0);
	kb_buf_clear(&name);
	assert_int_equal(kb_remote_default(&name, t.a), KB_EINPUT);
	kb_buf_release(&name);
	done_team(&t);
}

static void test_fast_forward(void **state)
{
	team t = new_team();
	kb_sync_result r;
	char *srv, *head;

	(void)state;
	put_case(&t, "a", "P-0001", "Bearing.");
	assert_int_equal(sync_ok(t.a, &r), 0);
	assert_true(r.pushed);
	kb_sync_result_release(&r);
	assert_int_equal(sync_ok(t.b, &r), 0);
	assert_int_equal(r.commits_fetched, 1);
	assert_int_equal(r.cases_changed, 1);
	assert_true(r.fast_forward);
	assert_false(r.merged);
	assert_string_equal(r.branch, "main");
	head = sh_out(&t, "git -C b rev-parse HEAD");
	srv = sh_out(&t, "git -C srv.git rev-parse main");
	assert_string_equal(head, srv);
	assert_string_equal(r.head, head);
	free(head);
	free(srv);
	kb_sync_result_release(&r);
	free(sh_out(&t, "test -z \"$(git -C b status --porcelain)\""));
	done_team(&t);
}

static void test_different_cases(void **state)
{
	team t = new_team();
	kb_sync_result r;
	char *parents;

	(void)state;
	put_case(&t, "a", "P-0001", "Bearing.");
	put_case(&t, "b", "P-0002", "Seal.");
	assert_int_equal(sync_ok(t.a, &r), 0);
	kb_sync_result_release(&r);
	assert_int_equal(sync_ok(t.b, &r), 0);
	assert_true(r.merged);
	assert_true(r.pushed);
	assert_int_equal(r.cases_merged, 0);
	assert_int_equal(r.nconflicts, 0);
	assert_int_equal(r.cases_changed, 1);
	kb_sync_result_release(&r);
	parents = sh_out(&t, "git -C b log -1 --format=%p | wc -w");
	assert_string_equal(parents, "2");
	free(parents);
	assert_int_equal(sync_ok(t.a, &r), 0);
	assert_true(r.fast_forward);
	kb_sync_result_release(&r);
	assert_true(has_line(&t, "a", "P-0002", "Seal."));
	done_team(&t);
}

static void test_same_case_sections(void **state)
{
	team t = new_team();
	kb_sync_result r;

	(void)state;
	shared_case(&t);
	edit_case(&t, "a", "P-0001", "Trips.", "Trips hot.");
	edit_case(&t, "b", "P-0001", "Replace.", "Replace bearing.");
	assert_int_equal(sync_ok(t.a, &r), 0);
	kb_sync_result_release(&r);
	assert_int_equal(sync_ok(t.b, &r), 0);
	assert_int_equal(r.cases_merged, 1);
	assert_int_equal(r.nconflicts, 0);
	kb_sync_result_release(&r);
	assert_true(has_line(&t, "b", "P-0001", "Trips hot."));
	assert_true(has_line(&t, "b", "P-0001", "Replace bearing."));
	done_team(&t);
}

static void test_same_section_conflict(void **state)
{
	team t = new_team();
	kb_sync_result r;

	(void)state;
	shared_case(&t);
	edit_case(&t, "a", "P-0001", "Bearing.", "Bearing worn.");
	edit_case(&t, "b", "P-0001", "Bearing.", "Bearing dry.");
	assert_int_equal(sync_ok(t.a, &r), 0);
	kb_sync_result_release(&r);
	assert_int_equal(sync_ok(t.b, &r), 0);
	assert_int_equal(r.nconflicts, 1);
	assert_string_equal(r.conflicts[0], "P-0001");
	assert_true(r.pushed);
	kb_sync_result_release(&r);
	assert_true(has_line(&t, "b", "P-0001", "Bearing worn."));
	assert_true(has_line(&t, "b", "P-0001", "Bearing dry."));
	done_team(&t);
}

static void test_delete_vs_edit(void **state)
{
	team t = new_team();
	kb_sync_result r;

	(void)state;
	shared_case(&t);
	sh(&t, "git -C a rm -q cases/P-0001.md && git -C a commit -qm gone");
	edit_case(&t, "b", "P-0001", "Bearing.", "Bearing seized.");
	assert_int_equal(sync_ok(t.b, &r), 0);
	kb_sync_result_release(&r);
	assert_int_equal(sync_ok(t.a, &r), 0);
	assert_int_equal(r.nconflicts, 1);
	kb_sync_result_release(&r);
	assert_true(has_line(&t, "a", "P-0001", "Bearing seized."));
	done_team(&t);
}

/* One clone moves the case to cases/P/000/ (kb_migrate_layout), the other
 * edits it at the flat path: the edit lands in the moved file, no conflict,
 * no second file, whichever side syncs first. */
static void test_moved_vs_edit(void **state)
{
	kb_migrate_result m = KB_MIGRATE_RESULT_INIT;
	team t = new_team();
	kb_sync_result r;
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		kb_store *mover = round ? t.b : t.a, *editor = round ? t.a : t.b;
		const char *ed = round ? "a" : "b";
		kb_buf cmd = KB_BUF_INIT;
		char *got;

		put_case(&t, round ? "b" : "a", round ? "Q-0001" : "P-0001", "Bearing.");
		assert_int_equal(sync_ok(round ? t.b : t.a, &r), 0);
		kb_sync_result_release(&r);
		assert_int_equal(sync_ok(round ? t.a : t.b, &r), 0);
		kb_sync_result_release(&r);
		assert_int_equal(kb_migrate_layout(&m, mover, &alice, 0), 0);
		assert_int_equal(m.nmoves, 1);
		kb_migrate_result_release(&m);
		edit_case(&t, ed, round ? "Q-0001" : "P-0001", "Trips.", "Trips hot.");
		/* round 0: the mover syncs first; round 1: the editor does */
		assert_int_equal(sync_ok(round ? editor : mover, &r), 0);
		kb_sync_result_release(&r);
		assert_int_equal(sync_ok(round ? mover : editor, &r), 0);
		assert_int_equal(r.cases_merged, 1);
		assert_int_equal(r.nconflicts, 0);
		kb_sync_result_release(&r);
		assert_int_equal(sync_ok(round ? editor : mover, &r), 0);
		kb_sync_result_release(&r);
		kb_buf_printf(&cmd, "for c in a b; do ls $c/cases/%s.md 2>/dev/null; "
			      "grep -c '^Trips hot.$' $c/cases/%s/000/%s.md; done",
			      round ? "Q-0001" : "P-0001", round ? "Q" : "P", round ? "Q-0001" : "P-0001");
		got = sh_out(&t, cmd.ptr);
		assert_string_equal(got, "1\n1");
		free(got);
		kb_buf_release(&cmd);
	}
	done_team(&t);
}

static void test_reuse_union(void **state)
{
	team t = new_team();
	kb_sync_result r;

	(void)state;
	shared_case(&t);
	sh(&t, "mkdir -p a/reuse b/reuse && printf 'x\\tP-0001\\tWO-1\\t\\n' >a/reuse/t.log && "
	       "git -C a add reuse && git -C a commit -qm ra && "
	       "printf 'y\\tP-0001\\tWO-2\\t\\n' >b/reuse/t.log && "
	       "git -C b add reuse && git -C b commit -qm rb");
	assert_int_equal(sync_ok(t.a, &r), 0);
	kb_sync_result_release(&r);
	assert_int_equal(sync_ok(t.b, &r), 0);
	kb_sync_result_release(&r);
	sh(&t, "grep -q WO-1 b/reuse/t.log && grep -q WO-2 b/reuse/t.log");
	done_team(&t);
}

static void test_unrelated_history(void **state)
{
	team t = new_team();
	kb_sync_result r;
	kb_store *c;
	const kb_author bob = { "Bob Li", "bob@example.com" };
	kb_buf p = KB_BUF_INIT;
	char *before, *after;

	(void)state;
	kb_buf_printf(&p, "%s/c", t.dir);
	assert_int_equal(kb_store_init(&c, p.ptr, &bob), 0);
	assert_int_equal(kb_remote_add(c, "origin", "../srv.git"), 0);
	before = sh_out(&t, "git -C c rev-parse HEAD");
	assert_int_equal(sync_ok(c, &r), KB_ECONFLICT);
	assert_non_null(strstr(kb_error_last()->message, "no history"));
	kb_sync_result_release(&r);
	after = sh_out(&t, "git -C c rev-parse HEAD");
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_store_free(c);
	kb_buf_release(&p);
	done_team(&t);
}

static void test_force_push(void **state)
{
	team t = new_team();
	kb_sync_result r;
	char *srv;

	(void)state;
	shared_case(&t);
	sh(&t, "git -C a reset -q --hard HEAD~1 && git -C a push -qf origin main");
	put_case(&t, "b", "P-0002", "Seal.");
	assert_int_equal(sync_ok(t.b, &r), KB_ECONFLICT);
	assert_non_null(strstr(kb_error_last()->message, "rewritten"));
	kb_sync_result_release(&r);
	srv = sh_out(&t, "git -C srv.git rev-list --count main");
	assert_string_equal(srv, "1");
	free(srv);
	done_team(&t);
}

static void test_push_race(void **state)
{
	team t = new_team();
	kb_sync_result r;
	kb_buf hook = KB_BUF_INIT;

	(void)state;
	put_case(&t, "a", "P-0001", "Bearing.");
	put_case(&t, "b", "P-0002", "Seal.");
	/* b's commit reaches the server between a's fetch and a's push */
	kb_buf_printf(&hook, "cd '%s/b' && git push -q origin main", t.dir);
	setenv("KB_TEST_SYNC_BEFORE_PUSH", hook.ptr, 1);
	assert_int_equal(sync_ok(t.a, &r), 0);
	unsetenv("KB_TEST_SYNC_BEFORE_PUSH");
	assert_int_equal(r.attempts, 2);
	assert_true(r.pushed);
	assert_true(r.merged);
	kb_sync_result_release(&r);
	sh(&t, "git -C srv.git show main:cases/P-0001.md >/dev/null && "
	       "git -C srv.git show main:cases/P-0002.md >/dev/null");
	kb_buf_release(&hook);
	done_team(&t);
}

static void test_uncommitted_edits(void **state)
{
	team t = new_team();
	kb_sync_result r;

	(void)state;
	shared_case(&t);
	edit_case(&t, "a", "P-0001", "Trips.", "Trips twice.");
	assert_int_equal(sync_ok(t.a, &r), 0);
	kb_sync_result_release(&r);
	sh(&t, "echo more >>b/cases/P-0001.md");
	assert_int_equal(sync_ok(t.b, &r), KB_ESTATE);
	assert_non_null(strstr(kb_error_last()->message, "cases/P-0001.md"));
	kb_sync_result_release(&r);
	assert_false(has_line(&t, "b", "P-0001", "Trips twice."));
	sh(&t, "git -C b checkout -q -- cases");
	assert_int_equal(sync_ok(t.b, &r), 0);
	kb_sync_result_release(&r);
	assert_true(has_line(&t, "b", "P-0001", "Trips twice."));
	done_team(&t);
}

static void test_unreachable(void **state)
{
	team t = new_team();
	kb_sync_result r;

	(void)state;
	sh(&t, "mv srv.git moved.git");
	assert_int_equal(sync_ok(t.a, &r), KB_ENET);
	assert_non_null(strstr(kb_error_last()->message, "'origin'"));
	kb_sync_result_release(&r);
	sh(&t, "mv moved.git srv.git");
	assert_int_equal(sync_ok(t.a, &r), 0);
	kb_sync_result_release(&r);
	done_team(&t);
}

static void test_interrupted(void **state)
{
	team t = new_team();
	kb_sync_result r;

	(void)state;
	shared_case(&t);
	edit_case(&t, "a", "P-0001", "Trips.", "Trips again.");
	assert_int_equal(sync_ok(t.a, &r), 0);
	kb_sync_result_release(&r);
	/* killed after the files moved, before the branch did */
	sh(&t, "cd b && git fetch -q origin && mkdir -p .git/kb/sync && "
	       "echo \"$(git rev-parse HEAD) $(git rev-parse origin/main) refs/heads/main\" "
	       ">.git/kb/sync/journal && git checkout -q origin/main -- cases");
	assert_int_equal(sync_ok(t.b, &r), 0);
	kb_sync_result_release(&r);
	assert_true(has_line(&t, "b", "P-0001", "Trips again."));
	sh(&t, "test -z \"$(git -C b status --porcelain)\" && test ! -e b/.git/kb/sync/journal && "
	       "test \"$(git -C b rev-parse HEAD)\" = \"$(git -C srv.git rev-parse main)\"");
	done_team(&t);
}

static void test_state(void **state)
{
	team t = new_team();
	kb_sync_state st;
	kb_sync_result r;

	(void)state;
	assert_int_equal(kb_sync_state_get(&st, t.a), 0);
	assert_string_equal(st.remote, "origin");
	assert_true(st.tracked);
	assert_true(st.last_sync > 0);
	assert_int_equal(st.ahead, 0);
	put_case(&t, "a", "P-0001", "Bearing.");
	put_case(&t, "b", "P-0002", "Seal.");
	assert_int_equal(sync_ok(t.b, &r), 0);
	kb_sync_result_release(&r);
	assert_int_equal(kb_sync_state_get(&st, t.a), 0);
	assert_int_equal(st.ahead, 1);
	assert_int_equal(st.behind, 0);   /* as of the last fetch */
	assert_int_equal(kb_remote_remove(t.a, "origin"), 0);
	assert_int_equal(kb_sync_state_get(&st, t.a), 0);
	assert_string_equal(st.remote, "");
	/* the state went with the remote: a new origin was never synced */
	assert_int_equal(kb_remote_add(t.a, "origin", "../srv.git"), 0);
	assert_int_equal(kb_sync_state_get(&st, t.a), 0);
	assert_string_equal(st.remote, "origin");
	assert_int_equal(st.last_sync, 0);
	done_team(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remotes),
		cmocka_unit_test(test_fast_forward),
		cmocka_unit_test(test_different_cases),
		cmocka_unit_test(test_same_case_sections),
		cmocka_unit_test(test_same_section_conflict),
		cmocka_unit_test(test_delete_vs_edit),
		cmocka_unit_test(test_moved_vs_edit),
		cmocka_unit_test(test_reuse_union),
		cmocka_unit_test(test_unrelated_history),
		cmocka_unit_test(test_force_push),
		cmocka_unit_test(test_push_race),
		cmocka_unit_test(test_uncommitted_edits),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_state),
	};

	return tu_run_isolated(tests);
}
