/* test_store.c - kb/store.h: init, open, authors, bounded reads, the case
 * walk, transactions (and their refusals, proven to change nothing), log
 * with renames, and changes for caches.  Results are checked with git. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kb/error.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };
static const kb_author bob = { "Bob Li", "bob@example.com" };

#define GIT "git -c user.name=Cli -c user.email=cli@example.com"

/* ---- helpers ---------------------------------------------------------- */

/* HEAD, `git status --porcelain`, and a hash of every file outside .git. */
static char *snapshot(const char *dir)
{
	return tu_sh_in(dir, "(git rev-parse -q --verify HEAD || echo unborn; "
		     "git status --porcelain --untracked-files=all; "
		     "find . -path ./.git -prune -o -print | LC_ALL=C sort | "
		     "while read f; do if [ -f \"$f\" ] && [ ! -L \"$f\" ]; then "
		     "sha1sum \"$f\"; else echo \"$f\"; fi; done) 2>&1");
}

static void write_in(const char *dir, const char *rel, const char *text)
{
	kb_buf p = KB_BUF_INIT;

	kb_buf_printf(&p, "%s/%s", dir, rel);
	tu_write_str(p.ptr, text);
	kb_buf_release(&p);
}

static char *new_kb(kb_store **out)
{
	char *dir = tu_mkdtemp("kb");

	assert_int_equal(kb_store_init(out, dir, &alice), 0);
	return dir;
}

static void done_kb(kb_store *s, char *dir)
{
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

static int commit_one(kb_store *s, const char *rel, const char *text, const kb_author *a,
		      const char *msg)
{
	kb_txn *t = NULL;
	int rc = kb_txn_begin(&t, s);

	if (rc == 0)
		rc = text ? kb_txn_put(t, rel, text, strlen(text)) : kb_txn_remove(t, rel);
	if (rc == 0)
		rc = kb_txn_commit(t, a, msg, NULL);
	kb_txn_free(t);
	return rc;
}

static const char case_a[] = "---\nid: CHL-0001\ntitle: Chiller trips\n---\n## Symptom\ntrips\n";

/* ---- init and open ------------------------------------------------------ */

static void test_init_fresh_dir(void **state)
{
	char *parent = tu_mkdtemp("init"), *top;
	kb_buf dir = KB_BUF_INIT;
	kb_store *s = NULL;

	(void)state;
	kb_buf_printf(&dir, "%s/a/b", parent);
	assert_int_equal(kb_store_init(&s, dir.ptr, &alice), 0);
	tu_expect_sh(dir.ptr, "git log --format='%an <%ae>|%cn <%ce>|%s'",
		     "Alice Wong <alice@example.com>|Alice Wong <alice@example.com>|"
		     "Initialise knowledge base");
	tu_expect_sh(dir.ptr, "git ls-files", "abbreviations.txt\ncases/.gitkeep\nkb.conf\n"
		     "synonyms.txt\ntemplates/case.md");
	tu_expect_sh(dir.ptr, "git status --porcelain --untracked-files=all", "");
	tu_expect_sh(dir.ptr, "git symbolic-ref HEAD", "refs/heads/main");
	tu_expect_sh(dir.ptr, "cmp kb.conf \"$KB_SRCDIR/kb/kb.conf\" && echo same", "same");
	top = realpath(dir.ptr, NULL);
	assert_non_null(top);
	assert_memory_equal(kb_store_workdir(s), top, strlen(top));
	assert_string_equal(kb_store_workdir(s) + strlen(top), "/");
	assert_non_null(kb_store_config(s));
	assert_string_equal(kb_config_get(kb_store_config(s), "equipment.chiller.prefix"), "CHL");
	free(top);
	kb_store_free(s);
	/* init.defaultBranch from the user's config wins over "main" */
	kb_buf_clear(&dir);
	kb_buf_printf(&dir, "%s/c", parent);
	assert_int_equal(tu_sh(NULL, "git config --global init.defaultBranch kb-trunk"), 0);
	assert_int_equal(kb_store_init(&s, dir.ptr, &alice), 0);
	assert_int_equal(tu_sh(NULL, "rm -f \"$HOME/.gitconfig\""), 0);
	tu_expect_sh(dir.ptr, "git symbolic-ref HEAD", "refs/heads/kb-trunk");
	kb_store_free(s);
	kb_buf_release(&dir);
	tu_rmtree(parent);
	free(parent);
}

static void test_init_existing_repo_commits_only_kb_files(void **state)
{
	char *dir = tu_mkdtemp("initrepo");
	kb_store *s = NULL;

	(void)state;
	assert_int_equal(tu_sh(NULL, "cd '%s' && git init -q -b trunk . && echo x > notes.txt && "
			       "mkdir -p templates && echo mine > templates/case.md && "
			       GIT " add notes.txt && echo y > other.txt", dir), 0);
	assert_int_equal(kb_store_init(&s, dir, &bob), 0);
	tu_expect_sh(dir, "git log --format=%an", "Bob Li");
	tu_expect_sh(dir, "git symbolic-ref HEAD", "refs/heads/trunk");
	/* the existing template is committed as it was */
	tu_expect_sh(dir, "git show HEAD:templates/case.md", "mine");
	tu_expect_sh(dir, "git show --name-only --format= HEAD | grep -c txt || true",
		     "2");  /* synonyms.txt, abbreviations.txt: not notes.txt */
	tu_expect_sh(dir, "git status --porcelain", "A  notes.txt\n?? other.txt");
	kb_store_free(s);
	s = (kb_store *)1;
	assert_int_equal(kb_store_init(&s, dir, &bob), KB_EEXISTS);
	assert_null(s);
	tu_rmtree(dir);
	/* a broken kb.conf already there is refused before anything is committed */
	assert_int_equal(tu_sh(NULL, "mkdir -p '%s' && cd '%s' && git init -q . && "
			       "printf '[kb\\n' > kb.conf", dir, dir), 0);
	assert_int_equal(kb_store_init(&s, dir, &bob), KB_EINPUT);
	assert_int_equal(kb_error_last()->line, 1);
	tu_expect_sh(dir, "git rev-parse -q --verify HEAD || echo unborn", "unborn");
	s = (kb_store *)1;
	write_in(dir, "kb.conf", "[kb]\n");
	assert_int_equal(kb_store_init(&s, dir, &bob), 0);
	kb_store_free(s);
	s = (kb_store *)1;
	assert_int_equal(kb_store_init(&s, dir, &bob), KB_EEXISTS);
	assert_null(s);
	assert_non_null(strstr(kb_error_last()->message, "already a knowledge base"));
	tu_rmtree(dir);
	free(dir);
}

static void test_open_from_nested_dir(void **state)
{
	kb_store *s = NULL, *o = NULL;
	char *dir = new_kb(&s);
	kb_buf sub = KB_BUF_INIT, cache = KB_BUF_INIT;
	struct stat st;
	size_t n;

	(void)state;
	kb_buf_printf(&sub, "%s/cases/deep/er", dir);
	assert_int_equal(tu_sh(NULL, "mkdir -p '%s'", sub.ptr), 0);
	assert_int_equal(kb_store_open(&o, sub.ptr), 0);
	assert_string_equal(kb_store_workdir(o), kb_store_workdir(s));
	n = strlen(kb_store_gitdir(o));
	assert_true(n > 6);
	assert_string_equal(kb_store_gitdir(o) + n - 5, ".git/");
	assert_int_equal(kb_store_cachedir(&cache, o), 0);
	assert_string_equal(cache.ptr + cache.len - 8, ".git/kb/");
	assert_int_equal(stat(cache.ptr, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_string_equal(kb_config_get(kb_store_config(o), "kb.idprefix"), "KB");
	kb_store_free(o);
	kb_buf_release(&sub);
	kb_buf_release(&cache);
	done_kb(s, dir);
}

static void test_open_without_kb(void **state)
{
	char *dir = tu_mkdtemp("nokb");
	kb_store *s = (kb_store *)1;
	const kb_error *e;

	(void)state;
	assert_int_equal(kb_store_open(&s, dir), KB_ENOKB);
	assert_null(s);
	e = kb_error_last();
	assert_non_null(strstr(e->message, "not a knowledge base (or any parent): '"));
	assert_non_null(strstr(e->message, dir));
	assert_int_equal(kb_store_open(&s, "/nonexistent/path/x"), KB_ENOKB);
	tu_rmtree(dir);
	free(dir);
}

static void test_open_not_a_repo(void **state)
{
	char *dir = tu_mkdtemp("norepo"), *before;
	kb_buf sub = KB_BUF_INIT, msg = KB_BUF_INIT;
	kb_store *s = NULL;

	(void)state;
	write_in(dir, "kb.conf", "[kb]\n\tname = x\n");
	kb_buf_printf(&sub, "%s/cases", dir);
	assert_int_equal(tu_sh(NULL, "mkdir '%s'", sub.ptr), 0);
	before = tu_sh_in(dir, "ls -A");
	assert_int_equal(kb_store_open(&s, sub.ptr), KB_EINPUT);
	assert_null(s);
	kb_buf_printf(&msg, "'%s' is not a git repository", dir);
	assert_string_equal(kb_error_last()->message, msg.ptr);
	tu_expect_sh(dir, "ls -A", before);
	free(before);
	kb_buf_release(&sub);
	kb_buf_release(&msg);
	tu_rmtree(dir);
	free(dir);
}

static void test_open_refuses_bare_and_subdir_conf(void **state)
{
	char *dir = tu_mkdtemp("bare");
	kb_buf sub = KB_BUF_INIT;
	kb_store *s = NULL;

	(void)state;
	assert_int_equal(tu_sh(NULL, "cd '%s' && git init -q --bare . && echo '[kb]' > kb.conf", dir),
			 0);
	assert_int_equal(kb_store_open(&s, dir), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "bare repository"));
	tu_rmtree(dir);
	/* kb.conf in a subdirectory of a repository is not a KB root */
	assert_int_equal(tu_sh(NULL, "mkdir -p '%s/sub' && cd '%s' && git init -q . && "
			       "echo '[kb]' > sub/kb.conf", dir, dir), 0);
	kb_buf_printf(&sub, "%s/sub", dir);
	assert_int_equal(kb_store_open(&s, sub.ptr), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "not the top of a git work tree"));
	kb_buf_release(&sub);
	tu_rmtree(dir);
	free(dir);
}

/* ---- authors ------------------------------------------------------------ */

static void test_author_parse(void **state)
{
	kb_author a;

	(void)state;
	assert_int_equal(kb_author_parse(&a, "  Li Wei <li.wei@example.com> "), 0);
	assert_string_equal(a.name, "Li Wei");
	assert_string_equal(a.email, "li.wei@example.com");
	kb_author_release(&a);
	assert_int_equal(kb_author_parse(&a, "李伟"), 0);
	assert_string_equal(a.name, "李伟");
	assert_string_equal(a.email, "");
	kb_author_release(&a);
	assert_int_equal(kb_author_parse(&a, ""), KB_EINPUT);
	assert_int_equal(kb_author_parse(&a, "   "), KB_EINPUT);
	assert_int_equal(kb_author_parse(&a, "x <y"), KB_EINPUT);
	assert_int_equal(kb_author_parse(&a, "x y>"), KB_EINPUT);
	assert_int_equal(kb_author_parse(&a, "<y@z>"), KB_EINPUT);
	assert_int_equal(kb_author_parse(&a, "x <y> z"), KB_EINPUT);
	assert_null(a.name);
}

static void test_author_resolution_order(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	kb_author a;

	(void)state;
	/* nothing configured */
	assert_int_equal(kb_store_author(&a, s, NULL), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "user.name"));
	assert_int_equal(kb_author_default(&a, NULL, NULL), KB_EINPUT);
	assert_int_equal(kb_author_default(&a, dir, "Over O <o@example.com>"), 0);
	assert_string_equal(a.name, "Over O");
	kb_author_release(&a);
	/* global config (HOME) */
	assert_int_equal(tu_sh(NULL, "git config --global user.name 'Global G' && "
			       "git config --global user.email g@example.com"), 0);
	assert_int_equal(kb_store_author(&a, s, NULL), 0);
	assert_string_equal(a.name, "Global G");
	assert_string_equal(a.email, "g@example.com");
	kb_author_release(&a);
	/* repository config beats global */
	assert_int_equal(tu_sh(NULL, "cd '%s' && git config user.name 'Repo R'", dir), 0);
	assert_int_equal(kb_store_author(&a, s, NULL), 0);
	assert_string_equal(a.name, "Repo R");
	assert_string_equal(a.email, "g@example.com");
	kb_author_release(&a);
	/* before a store exists: the repository's config at dir, else global */
	assert_int_equal(kb_author_default(&a, dir, NULL), 0);
	assert_string_equal(a.name, "Repo R");
	kb_author_release(&a);
	assert_int_equal(kb_author_default(&a, NULL, NULL), 0);
	assert_string_equal(a.name, "Global G");
	assert_string_equal(a.email, "g@example.com");
	kb_author_release(&a);
	/* GIT_AUTHOR_* beat config */
	setenv("GIT_AUTHOR_NAME", "Env E", 1);
	setenv("GIT_AUTHOR_EMAIL", "e@example.com", 1);
	assert_int_equal(kb_store_author(&a, s, NULL), 0);
	assert_string_equal(a.name, "Env E");
	assert_string_equal(a.email, "e@example.com");
	kb_author_release(&a);
	/* KB_AUTHOR beats git */
	setenv("KB_AUTHOR", "Kb K <k@example.com>", 1);
	assert_int_equal(kb_store_author(&a, s, NULL), 0);
	assert_string_equal(a.name, "Kb K");
	kb_author_release(&a);
	/* the override beats everything, and bad text is an input error */
	assert_int_equal(kb_store_author(&a, s, "Over O <o@example.com>"), 0);
	assert_string_equal(a.name, "Over O");
	assert_string_equal(a.email, "o@example.com");
	kb_author_release(&a);
	assert_int_equal(kb_store_author(&a, s, "Broken <x"), KB_EINPUT);
	unsetenv("KB_AUTHOR");
	unsetenv("GIT_AUTHOR_NAME");
	unsetenv("GIT_AUTHOR_EMAIL");
	assert_int_equal(tu_sh(NULL, "rm -f \"$HOME/.gitconfig\""), 0);
	done_kb(s, dir);
}

/* ---- reads ---------------------------------------------------------------- */

static void test_read_file_and_case(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	kb_buf b = KB_BUF_INIT, rel = KB_BUF_INIT;
	kb_case *c = NULL;

	(void)state;
	write_in(dir, "cases/CHL-0001.md", case_a);
	assert_int_equal(kb_store_read_file(&b, s, "cases/CHL-0001.md", 1000), 0);
	assert_string_equal(b.ptr, case_a);
	assert_int_equal(kb_store_read_file(&b, s, "cases/CHL-0001.md", 10), KB_EINPUT);
	assert_int_equal(kb_store_read_file(&b, s, "cases/none.md", 10), KB_ENOTFOUND);
	assert_string_equal(kb_error_last()->path, "cases/none.md");
	assert_int_equal(kb_store_read_case(&c, s, "CHL-0001"), 0);
	assert_string_equal(kb_case_id(c), "CHL-0001");
	assert_string_equal(kb_case_path(c), "cases/CHL-0001.md");
	kb_case_free(c);
	assert_int_equal(kb_store_read_case(&c, s, "CHL-0404"), KB_ENOTFOUND);
	write_in(dir, "cases/BAD.md", "no front matter here\n");
	assert_int_equal(kb_store_read_case(&c, s, "BAD"), KB_EINPUT);
	assert_null(c);
	assert_string_equal(kb_error_last()->path, "cases/BAD.md");
	assert_true(kb_error_last()->line >= 1);
	assert_int_equal(kb_store_read_case(&c, s, "../etc"), KB_EINPUT);
	assert_null(c);
	assert_int_equal(kb_store_case_relpath(&rel, "ELV-7"), 0);
	assert_string_equal(rel.ptr, "cases/ELV/000/ELV-7.md");
	assert_int_equal(kb_store_case_relpath(&rel, "a/b"), KB_EINPUT);
	kb_buf_release(&b);
	kb_buf_release(&rel);
	done_kb(s, dir);
}

static void test_read_refuses_too_large(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	kb_case *c = NULL;

	(void)state;
	assert_int_equal(tu_sh(NULL, "truncate -s 52428800 '%s/cases/BIG.md'", dir), 0);
	assert_int_equal(kb_store_read_case(&c, s, "BIG"), KB_EINPUT);
	assert_string_equal(kb_error_last()->message,
			    "'cases/BIG.md' is too large (52428800 bytes; limit 4194304)");
	assert_string_equal(kb_error_last()->path, "cases/BIG.md");
	done_kb(s, dir);
}

static void test_symlinks_refused(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s), *outside = tu_mkdtemp("outside"), *before, *after;
	kb_buf b = KB_BUF_INIT;
	kb_case *c = NULL;
	kb_txn *t = NULL;

	(void)state;
	write_in(outside, "secret.md", "---\nid: SECRET\n---\n");
	assert_int_equal(tu_sh(NULL, "cd '%s' && ln -s '%s/secret.md' cases/EVIL.md && "
			       "ln -s '%s' cases/linkdir", dir, outside, outside), 0);
	before = snapshot(dir);
	assert_int_equal(kb_store_read_case(&c, s, "EVIL"), KB_EINPUT);
	assert_null(c);
	assert_non_null(strstr(kb_error_last()->message, "'cases/EVIL.md' is a symbolic link"));
	assert_int_equal(kb_store_read_file(&b, s, "cases/linkdir/secret.md", 1000), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "symbolic link"));
	/* a write through the symlinked directory is refused and changes nothing */
	assert_int_equal(kb_txn_begin(&t, s), 0);
	assert_int_equal(kb_txn_put(t, "cases/fresh/dir/A.md", "a", 1), 0);  /* made, then undone */
	assert_int_equal(kb_txn_put(t, "cases/linkdir/X.md", "x", 1), 0);
	assert_int_equal(kb_txn_commit(t, &alice, "sneak", NULL), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "'cases/linkdir' is a symbolic link"));
	kb_txn_free(t);
	after = snapshot(dir);
	assert_string_equal(before, after);
	tu_expect_sh(outside, "ls", "secret.md");
	free(before);
	free(after);
	kb_buf_release(&b);
	tu_rmtree(outside);
	free(outside);
	done_kb(s, dir);
}

static void test_path_validation(void **state)
{
	static const char *const bad[] = {
		"../x", "/abs", ".git/config", "cases/../../x", "cases//x.md", "./x",
		"cases/.GIT/x", "", "a\\b", "cases/",
	};
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	kb_buf b = KB_BUF_INIT;
	kb_txn *t = NULL;
	size_t i;

	(void)state;
	assert_int_equal(kb_txn_begin(&t, s), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kb_txn_put(t, bad[i], "x", 1), KB_EINPUT);
		assert_int_equal(kb_txn_remove(t, bad[i]), KB_EINPUT);
		assert_int_equal(kb_store_read_file(&b, s, bad[i], 100), KB_EINPUT);
	}
	assert_int_equal(kb_txn_count(t), 0);
	assert_int_equal(kb_txn_put(t, "cases/.x.md", "x", 1), 0);
	assert_int_equal(kb_txn_count(t), 1);
	kb_txn_free(t);
	kb_buf_release(&b);
	done_kb(s, dir);
}

typedef struct {
	kb_buf seen;
	int stop_after;
	int calls;
} walk_log;

static int walk_cb(const char *relpath, const char *text, size_t len, void *payload)
{
	walk_log *w = payload;

	kb_buf_printf(&w->seen, "%s:%zu:%.*s\n", relpath, len, (int)(len < 3 ? len : 3), text);
	return ++w->calls == w->stop_after ? 99 : 0;
}

static void test_foreach_case_file(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	walk_log w = { KB_BUF_INIT, 0, 0 };

	(void)state;
	/* a fresh KB: cases/ holds only .gitkeep; then no cases/ at all */
	assert_int_equal(kb_store_foreach_case_file(s, walk_cb, &w), 0);
	assert_int_equal(w.calls, 0);
	assert_int_equal(tu_sh(NULL, "mv '%s/cases' '%s/cases.away'", dir, dir), 0);
	assert_int_equal(kb_store_foreach_case_file(s, walk_cb, &w), 0);
	assert_int_equal(tu_sh(NULL, "mv '%s/cases.away' '%s/cases'", dir, dir), 0);
	assert_int_equal(w.calls, 0);
	assert_int_equal(tu_sh(NULL, "cd '%s/cases' && mkdir -p a b/c && echo A1 > a.md && "
			       "echo AA > a/z.md && echo B > b/c/y.md && echo N > notes.txt && "
			       "echo Z > z.md && ln -s z.md l.md && echo Q > a.mdx && "
			       "ln -s b link && mkdir .git && echo G > .git/g.md", dir), 0);
	assert_int_equal(kb_store_foreach_case_file(s, walk_cb, &w), 0);
	/* full-path byte order: "a.md" < "a/z.md" since '.' < '/' */
	assert_string_equal(w.seen.ptr, "cases/a.md:3:A1\n\ncases/a/z.md:3:AA\n\n"
			    "cases/b/c/y.md:2:B\n\ncases/z.md:2:Z\n\n");
	kb_buf_clear(&w.seen);
	w.calls = 0;
	w.stop_after = 2;
	assert_int_equal(kb_store_foreach_case_file(s, walk_cb, &w), 99);
	assert_int_equal(w.calls, 2);
	kb_buf_release(&w.seen);
	done_kb(s, dir);
}

/* ---- transactions ----------------------------------------------------------- */

static void test_txn_multiple_files_one_commit(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	char oid[41], head[41];
	kb_txn *t = NULL;

	(void)state;
	/* unrelated dirty state that must survive untouched and uncommitted */
	write_in(dir, "synonyms.txt", "user edit\n");
	write_in(dir, "scratch.txt", "untracked\n");
	assert_int_equal(tu_sh(NULL, "cd '%s' && echo staged > staged.txt && git add staged.txt", dir),
			 0);
	assert_int_equal(kb_txn_begin(&t, s), 0);
	assert_int_equal(kb_txn_put(t, "cases/CHL-0001.md", case_a, strlen(case_a)), 0);
	assert_int_equal(kb_txn_put(t, "cases/2024/05/ELV-0002.md", "elv\n", 4), 0);
	assert_int_equal(kb_txn_put(t, "cases/X.md", "first\n", 6), 0);
	assert_int_equal(kb_txn_put(t, "cases/X.md", "second\n", 7), 0);
	assert_int_equal(kb_txn_remove(t, "cases/.gitkeep"), 0);
	assert_int_equal(kb_txn_count(t), 4);
	assert_int_equal(kb_txn_commit(t, &bob, "Add three cases\n\nBody text.", oid), 0);
	kb_txn_free(t);
	assert_int_equal(kb_store_head(s, head), 0);
	assert_string_equal(oid, head);
	tu_expect_sh(dir, "git rev-list --count HEAD", "2");
	tu_expect_sh(dir, "git log -1 --format='%an|%ae|%cn|%ce|%s|%b'",
		     "Bob Li|bob@example.com|Bob Li|bob@example.com|Add three cases|Body text.\n");
	tu_expect_sh(dir, "git show --name-status --format= HEAD",
		     "D\tcases/.gitkeep\nA\tcases/2024/05/ELV-0002.md\nA\tcases/CHL-0001.md\n"
		     "A\tcases/X.md");
	tu_expect_sh(dir, "cat cases/X.md cases/2024/05/ELV-0002.md", "second\nelv");
	tu_expect_sh(dir, "test -e cases/.gitkeep || echo gone", "gone");
	tu_expect_sh(dir, "git status --porcelain", "A  staged.txt\n M synonyms.txt\n?? scratch.txt");
	tu_expect_sh(dir, "cat synonyms.txt", "user edit");
	tu_expect_sh(dir, "ls -A cases | grep -c kbtmp || true", "0");
	tu_expect_sh(dir, "stat -c %a cases/X.md", "644");
	/* removing the only file of a directory removes the directory, as git does */
	assert_int_equal(commit_one(s, "cases/2024/05/ELV-0002.md", NULL, &bob, "rm"), 0);
	tu_expect_sh(dir, "ls cases", "CHL-0001.md\nX.md");
	tu_expect_sh(dir, "git status --porcelain", "A  staged.txt\n M synonyms.txt\n?? scratch.txt");
	done_kb(s, dir);
}

static void test_txn_remove_through_symlink_refused(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s), *outside = tu_mkdtemp("victim"), *before, *after;

	(void)state;
	assert_int_equal(commit_one(s, "cases/d/V.md", "v\n", &alice, "v"), 0);
	write_in(outside, "V.md", "precious\n");
	assert_int_equal(tu_sh(NULL, "cd '%s' && rm -r cases/d && ln -s '%s' cases/d", dir, outside),
			 0);
	before = snapshot(dir);
	assert_int_equal(commit_one(s, "cases/d/V.md", NULL, &alice, "rm v"), KB_EINPUT);
	after = snapshot(dir);
	assert_string_equal(before, after);
	tu_expect_sh(outside, "cat V.md", "precious");
	free(before);
	free(after);
	tu_rmtree(outside);
	free(outside);
	done_kb(s, dir);
}

static void test_txn_noop_commit(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	char oid[41], head[41];
	kb_buf conf = KB_BUF_INIT;
	kb_txn *t = NULL;

	(void)state;
	assert_int_equal(kb_store_head(s, head), 0);
	assert_int_equal(kb_store_read_file(&conf, s, "kb.conf", 100000), 0);
	assert_int_equal(kb_txn_begin(&t, s), 0);
	assert_int_equal(kb_txn_put(t, "kb.conf", conf.ptr, conf.len), 0);
	kb_buf_release(&conf);
	assert_int_equal(kb_txn_commit(t, &bob, "nothing", oid), 0);
	kb_txn_free(t);
	assert_string_equal(oid, head);
	tu_expect_sh(dir, "git rev-list --count HEAD", "1");
	/* a bare-name author (no email) can commit, as with git */
	{
		const kb_author solo = { "Solo", "" };

		assert_int_equal(commit_one(s, "cases/S.md", "s\n", &solo, "solo"), 0);
		tu_expect_sh(dir, "git log -1 --format='%an|%ae|%cn'", "Solo||Solo");
	}
	/* GIT_AUTHOR_DATE and GIT_COMMITTER_DATE are honoured, as by git */
	setenv("GIT_AUTHOR_DATE", "2024-05-12T10:00:00+08:00", 1);
	setenv("GIT_COMMITTER_DATE", "@1700000000 -0130", 1);
	assert_int_equal(commit_one(s, "cases/D.md", "d\n", &alice, "dated"), 0);
	tu_expect_sh(dir, "git log -1 --format='%at %ai|%ct %ci'",
		     "1715479200 2024-05-12 10:00:00 +0800|1700000000 2023-11-14 20:43:20 -0130");
	setenv("GIT_AUTHOR_DATE", "1715479200 +0000", 1);
	unsetenv("GIT_COMMITTER_DATE");
	assert_int_equal(commit_one(s, "cases/D.md", "d2\n", &alice, "dated"), 0);
	tu_expect_sh(dir, "git log -1 --format='%ai'", "2024-05-12 02:00:00 +0000");
	setenv("GIT_AUTHOR_DATE", "last tuesday", 1);
	assert_int_equal(commit_one(s, "cases/D.md", "d3\n", &alice, "dated"), KB_EINPUT);
	assert_string_equal(kb_error_last()->message, "cannot parse GIT_AUTHOR_DATE 'last tuesday'");
	unsetenv("GIT_AUTHOR_DATE");
	/* an executable file stays executable */
	assert_int_equal(tu_sh(NULL, "cd '%s' && echo e > cases/E.md && chmod +x cases/E.md && "
			       "git add cases/E.md && " GIT " commit -qm exe", dir), 0);
	assert_int_equal(commit_one(s, "cases/E.md", "e2\n", &alice, "edit exe"), 0);
	tu_expect_sh(dir, "git ls-tree HEAD cases/E.md | cut -c1-6; test -x cases/E.md && echo x; "
		     "git status --porcelain", "100755\nx");
	assert_int_equal(commit_one(s, "cases/E.md", "e3\n", &alice, ""), KB_EINPUT);
	assert_int_equal(commit_one(s, "cases/E.md", "e3\n", &(kb_author){ "", "x@y" }, "m"),
			 KB_EINPUT);
	/* removing a directory is not removing a file */
	assert_int_equal(commit_one(s, "cases", NULL, &bob, "rm dir"), KB_ENOTFOUND);
	/* removing what is not committed is refused */
	assert_int_equal(commit_one(s, "cases/nope.md", NULL, &bob, "rm"), KB_ENOTFOUND);
	done_kb(s, dir);
}

static void test_txn_on_unborn_branch(void **state)
{
	char *dir = tu_mkdtemp("unborn");
	kb_store *s = NULL;
	char oid[41];

	(void)state;
	assert_int_equal(tu_sh(NULL, "cd '%s' && git init -q -b work . && echo '[kb]' > kb.conf", dir),
			 0);
	assert_int_equal(kb_store_open(&s, dir), 0);
	assert_int_equal(kb_store_head(s, oid), KB_ENOTFOUND);
	assert_int_equal(commit_one(s, "cases/A-1.md", "a\n", &alice, "first"), 0);
	tu_expect_sh(dir, "git log --format='%an %s' work", "Alice Wong first");
	tu_expect_sh(dir, "git status --porcelain", "?? kb.conf");
	assert_int_equal(kb_store_head(s, oid), 0);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_txn_refused_during_merge(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s), *before, *after;
	kb_txn *t = NULL;
	kb_buf want = KB_BUF_INIT;

	(void)state;
	assert_int_equal(commit_one(s, "cases/M.md", "base\n", &alice, "base"), 0);
	assert_int_equal(tu_sh(NULL, "cd '%s' && git checkout -q -b side && echo side > cases/M.md && "
			       GIT " commit -qam side && git checkout -q main && "
			       "echo main > cases/M.md && " GIT " commit -qam main && "
			       "! " GIT " merge -q side >/dev/null 2>&1 && test -f .git/MERGE_HEAD",
			       dir), 0);
	before = snapshot(dir);
	assert_int_equal(kb_txn_begin(&t, s), KB_ESTATE);
	assert_null(t);
	kb_buf_printf(&want, "a merge is in progress in '%s'; finish or abort it first",
		      kb_store_workdir(s));
	assert_string_equal(kb_error_last()->message, want.ptr);
	after = snapshot(dir);
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_buf_release(&want);
	done_kb(s, dir);
}

static void test_txn_refused_on_detached_head(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	kb_txn *t = NULL;

	(void)state;
	assert_int_equal(tu_sh(NULL, "cd '%s' && git checkout -q --detach", dir), 0);
	assert_int_equal(kb_txn_begin(&t, s), KB_ESTATE);
	assert_non_null(strstr(kb_error_last()->message, "HEAD is detached"));
	done_kb(s, dir);
}

/*
 * Make `dir` read-only in a way that stops root too: a read-only bind mount
 * when we may mount, else `chattr +i` on the directories; as a normal user
 * chmod is enough.  Returns the kind used (0 when none works: skip).
 */
static int make_readonly(const char *dir)
{
	if (geteuid() != 0)
		return tu_sh(NULL, "chmod -R a-w '%s'", dir) == 0 ? 1 : 0;
	if (tu_sh(NULL, "mount --bind '%s' '%s' 2>/dev/null && "
		  "mount -o remount,bind,ro '%s' 2>/dev/null || "
		  "{ umount '%s' 2>/dev/null; false; }", dir, dir, dir, dir) == 0)
		return 2;
	if (tu_sh(NULL, "chattr +i '%s' '%s/.git' '%s/.git/objects' 2>/dev/null", dir, dir, dir) == 0)
		return 3;
	tu_sh(NULL, "chattr -i '%s' '%s/.git' '%s/.git/objects' 2>/dev/null", dir, dir, dir);
	return 0;
}

static void undo_readonly(const char *dir, int kind)
{
	if (kind == 1)
		tu_sh(NULL, "chmod -R u+w '%s'", dir);
	else if (kind == 2)
		tu_sh(NULL, "umount '%s'", dir);
	else if (kind == 3)
		tu_sh(NULL, "chattr -i '%s' '%s/.git' '%s/.git/objects'", dir, dir, dir);
}

static void test_txn_refused_when_read_only(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s), *before, *after;
	kb_buf want = KB_BUF_INIT;
	kb_txn *t = NULL;
	int kind, rc;

	(void)state;
	before = snapshot(dir);
	kind = make_readonly(dir);
	if (!kind) {
		free(before);
		done_kb(s, dir);
		skip();
	}
	rc = kb_txn_begin(&t, s);
	kb_txn_free(t);
	undo_readonly(dir, kind);
	assert_int_equal(rc, KB_ESTATE);
	kb_buf_printf(&want, "knowledge base '%s' is read-only", kb_store_workdir(s));
	assert_string_equal(kb_error_last()->message, want.ptr);
	after = snapshot(dir);
	assert_string_equal(before, after);
	free(before);
	free(after);
	kb_buf_release(&want);
	done_kb(s, dir);
}

static void test_txn_builds_on_current_head(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s), *before, *after;
	kb_txn *t = NULL;

	(void)state;
	assert_int_equal(kb_txn_begin(&t, s), 0);
	assert_int_equal(kb_txn_put(t, "cases/new/N.md", "n\n", 2), 0);
	/* a rival commit after begin, before commit: the commit is built on
	 * HEAD as it is at commit time, so the rival is kept */
	assert_int_equal(tu_sh(NULL, "cd '%s' && echo r > rival.txt && git add rival.txt && "
			       GIT " commit -qm rival", dir), 0);
	before = snapshot(dir);
	assert_int_equal(kb_txn_commit(t, &alice, "after rival", NULL), 0);
	kb_txn_free(t);
	tu_expect_sh(dir, "git log --format=%s", "after rival\nrival\nInitialise knowledge base");
	/* a file where a directory must go: fails before anything changes */
	before = (free(before), snapshot(dir));
	assert_int_equal(commit_one(s, "rival.txt/sub.md", "x", &alice, "bad"), KB_EINPUT);
	after = snapshot(dir);
	assert_string_equal(before, after);
	free(before);
	free(after);
	done_kb(s, dir);
}

static void test_txn_in_linked_worktree(void **state)
{
	kb_store *s = NULL, *w = NULL;
	char *dir = new_kb(&s);
	kb_buf wt = KB_BUF_INIT, cache = KB_BUF_INIT;

	(void)state;
	kb_buf_printf(&wt, "%s-wt", dir);
	assert_int_equal(tu_sh(NULL, "cd '%s' && git worktree add -q -b side '%s'", dir, wt.ptr), 0);
	assert_int_equal(kb_store_open(&w, wt.ptr), 0);
	assert_non_null(strstr(kb_store_gitdir(w), "/.git/worktrees/"));
	assert_int_equal(kb_store_cachedir(&cache, w), 0);
	assert_int_equal(commit_one(w, "cases/W.md", "w\n", &bob, "in worktree"), 0);
	tu_expect_sh(wt.ptr, "git log -1 --format=%s side && git status --porcelain",
		     "in worktree");
	tu_expect_sh(dir, "git log -1 --format=%s main", "Initialise knowledge base");
	kb_store_free(w);
	tu_rmtree(wt.ptr);
	kb_buf_release(&wt);
	kb_buf_release(&cache);
	done_kb(s, dir);
}

/* ---- history -------------------------------------------------------------- */

static int log_cb(const kb_commit_info *ci, void *payload)
{
	kb_buf *b = payload;

	assert_int_equal(strlen(ci->oid), 40);
	kb_buf_printf(b, "%s|%s|%s|%s|%lld|%d\n", ci->path, ci->author_name, ci->author_email,
		      ci->summary, (long long)ci->time, ci->tz_offset);
	return 0;
}

static void test_log_follows_renames(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	kb_buf b = KB_BUF_INIT;
	char *want;

	(void)state;
	assert_int_equal(commit_one(s, "cases/OLD.md", case_a, &alice, "add old"), 0);
	assert_int_equal(commit_one(s, "cases/OTHER.md", "other\n", &bob, "unrelated"), 0);
	assert_int_equal(tu_sh(NULL, "cd '%s' && git mv cases/OLD.md cases/NEW.md && "
			       "GIT_AUTHOR_DATE='2024-05-12T10:00:00+0800' " GIT
			       " commit -qm 'rename case'", dir), 0);
	assert_int_equal(commit_one(s, "cases/NEW.md", "---\nid: NEW\n---\nchanged\n", &bob,
				    "edit new"), 0);
	assert_int_equal(kb_store_log(s, "cases/NEW.md", log_cb, &b), 0);
	want = tu_sh_in(dir, "git log --follow --format='%an|%ae|%s|%at|%ad' --date=format:%z "
		     "--name-only cases/NEW.md | awk 'NF==0{next} /\\|/{h=$0; next} {print $0 \"|\" h}' | "
		     "awk -F'|' '{z=$6; m=(substr(z,2,2)*60+substr(z,4,2))*(substr(z,1,1)==\"-\"?-1:1); "
		     "print $1 \"|\" $2 \"|\" $3 \"|\" $4 \"|\" $5 \"|\" m}'");
	kb_buf_truncate(&b, b.len - 1);
	assert_string_equal(b.ptr, want);
	assert_non_null(strstr(b.ptr, "cases/NEW.md|Cli|cli@example.com|rename case|1715479200|480"));
	assert_non_null(strstr(b.ptr, "cases/OLD.md|Alice Wong|alice@example.com|add old|"));
	assert_null(strstr(b.ptr, "unrelated"));
	free(want);
	kb_buf_clear(&b);
	assert_int_equal(kb_store_log(s, "cases/none.md", log_cb, &b), 0);
	assert_string_equal(b.ptr, "");
	kb_buf_release(&b);
	done_kb(s, dir);
}

static int change_cb(kb_change_kind kind, const char *relpath, void *payload)
{
	static const char k[] = "?AMD";

	kb_buf_printf(payload, "%c %s\n", k[kind], relpath);
	return 0;
}

static void test_changes_tree_and_workdir(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	char base[41];
	kb_buf b = KB_BUF_INIT;
	kb_txn *t = NULL;

	(void)state;
	assert_int_equal(commit_one(s, "cases/A.md", "a\n", &alice, "a"), 0);
	assert_int_equal(commit_one(s, "cases/B.md", "b\n", &alice, "b"), 0);
	assert_int_equal(kb_store_head(s, base), 0);
	assert_int_equal(kb_txn_begin(&t, s), 0);
	assert_int_equal(kb_txn_put(t, "cases/A.md", "a2\n", 3), 0);
	assert_int_equal(kb_txn_remove(t, "cases/B.md"), 0);
	assert_int_equal(kb_txn_put(t, "cases/sub/C.md", "c\n", 2), 0);
	assert_int_equal(kb_txn_put(t, "cases/notes.txt", "n\n", 2), 0);
	assert_int_equal(kb_txn_put(t, "synonyms.txt", "s\n", 2), 0);
	assert_int_equal(kb_txn_commit(t, &alice, "mixed", NULL), 0);
	kb_txn_free(t);
	assert_int_equal(kb_store_changes(s, base, 0, change_cb, &b), 0);
	assert_string_equal(b.ptr, "M cases/A.md\nD cases/B.md\nA cases/sub/C.md\n");
	kb_buf_clear(&b);
	assert_int_equal(kb_store_changes(s, NULL, 0, change_cb, &b), 0);
	assert_string_equal(b.ptr, "A cases/A.md\nA cases/sub/C.md\n");
	kb_buf_clear(&b);
	/* the work tree: an edit, a deletion, a new untracked file in a new dir */
	write_in(dir, "cases/A.md", "edited\n");
	assert_int_equal(tu_sh(NULL, "cd '%s' && rm cases/sub/C.md && mkdir -p cases/new/deep && "
			       "echo n > cases/new/deep/N.md && echo x > cases/new/x.txt", dir), 0);
	assert_int_equal(kb_store_changes(s, base, 1, change_cb, &b), 0);
	assert_string_equal(b.ptr, "M cases/A.md\nD cases/B.md\nA cases/sub/C.md\n"
			    "M cases/A.md\nA cases/new/deep/N.md\nD cases/sub/C.md\n");
	kb_buf_clear(&b);
	assert_int_equal(kb_store_changes(s, "0123456789012345678901234567890123456789", 0,
					  change_cb, &b), KB_ENOTFOUND);
	assert_int_equal(kb_store_changes(s, "not-hex", 0, change_cb, &b), KB_ENOTFOUND);
	kb_buf_release(&b);
	done_kb(s, dir);
}

/* Work-tree changes that stat data alone cannot show, and staged ones:
 * a same-size edit that keeps the file's time, in the second git's index
 * was written (racily clean: only the content tells); a staged edit; a
 * staged deletion whose file is still there; a staged new file then
 * deleted from the work tree (no change against HEAD); and a file only
 * touched (time moved, same content: no change). */
static void test_changes_racy_and_staged(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	char head[41];
	kb_buf b = KB_BUF_INIT;

	(void)state;
	assert_int_equal(commit_one(s, "cases/A.md", "aaaa\n", &alice, "a"), 0);
	assert_int_equal(commit_one(s, "cases/B.md", "bbbb\n", &alice, "b"), 0);
	assert_int_equal(commit_one(s, "cases/C.md", "cccc\n", &alice, "c"), 0);
	assert_int_equal(commit_one(s, "cases/D.md", "dddd\n", &alice, "d"), 0);
	assert_int_equal(kb_store_head(s, head), 0);
	assert_int_equal(tu_sh(NULL, "cd '%s' && touch -r cases/A.md ref && printf 'AAAA\\n' > cases/A.md"
			       " && touch -r ref cases/A.md && touch -r ref .git/index && rm ref", dir), 0);
	assert_int_equal(kb_store_changes(s, head, 1, change_cb, &b), 0);
	assert_string_equal(b.ptr, "M cases/A.md\n");
	kb_buf_clear(&b);
	/* no longer racy (the index is newer): the changed ctime still tells,
	 * as in git (core.trustctime) */
	assert_int_equal(tu_sh(NULL, "cd '%s' && touch -d 2099-01-01 .git/index", dir), 0);
	assert_int_equal(kb_store_changes(s, head, 1, change_cb, &b), 0);
	assert_string_equal(b.ptr, "M cases/A.md\n");
	kb_buf_clear(&b);
	assert_int_equal(tu_sh(NULL, "cd '%s' && printf 'b2\\n' > cases/B.md && git add cases/B.md && "
			       "git rm -q --cached cases/C.md && printf 'E\\n' > cases/E.md && "
			       "git add cases/E.md && rm cases/E.md && touch -d '2001-01-01' cases/D.md",
			       dir), 0);
	assert_int_equal(kb_store_changes(s, head, 1, change_cb, &b), 0);
	assert_string_equal(b.ptr, "M cases/A.md\nM cases/B.md\nM cases/C.md\n");
	kb_buf_release(&b);
	done_kb(s, dir);
}

static void test_changes_ignore_symlinks_and_other_files(void **state)
{
	kb_store *s = NULL;
	char *dir = new_kb(&s);
	char base[41];
	kb_buf b = KB_BUF_INIT;

	(void)state;
	assert_int_equal(kb_store_head(s, base), 0);
	assert_int_equal(tu_sh(NULL, "cd '%s' && ln -s /etc/passwd cases/L.md && echo t > cases/T.txt && "
			       "echo r > cases/R.md && git add cases && " GIT " commit -qm links", dir), 0);
	assert_int_equal(kb_store_changes(s, base, 1, change_cb, &b), 0);
	assert_string_equal(b.ptr, "A cases/R.md\n");
	kb_buf_release(&b);
	done_kb(s, dir);
}

typedef struct {
	kb_store *s;
	int files;
} sample_walk;

static int sample_cb(const char *relpath, const char *text, size_t len, void *payload)
{
	sample_walk *w = payload;
	char id[128];
	const char *base = strrchr(relpath, '/') + 1;
	kb_case *c = NULL;

	(void)text;
	(void)len;
	assert_true(strlen(base) - 3 < sizeof(id));
	memcpy(id, base, strlen(base) - 3);
	id[strlen(base) - 3] = '\0';
	if (kb_store_read_case(&c, w->s, id) != 0)
		fail_msg("%s: %s", relpath, kb_error_last()->message);
	assert_string_equal(kb_case_path(c), relpath);
	assert_non_null(kb_case_section(c, KB_SECTION_SYMPTOM));
	kb_case_free(c);
	w->files++;
	return 0;
}

/* The bundled sample KB (kb/) opens, and every case reads and parses with
 * its aliases. */
static void test_sample_kb_reads(void **state)
{
	char *dir = tu_mkdtemp("sample");
	sample_walk w = { NULL, 0 };
	kb_buf n = KB_BUF_INIT;

	(void)state;
	assert_int_equal(tu_sh(NULL, "cp -R \"$KB_SRCDIR/kb/.\" '%s' && cd '%s' && git init -q . && "
			       "git add -A && " GIT " commit -qm sample", dir, dir), 0);
	assert_int_equal(kb_store_open(&w.s, dir), 0);
	assert_int_equal(kb_store_foreach_case_file(w.s, sample_cb, &w), 0);
	assert_int_equal(tu_sh(&n, "cd '%s' && git ls-files 'cases/*.md' | wc -l", dir), 0);
	assert_int_equal(w.files, strtol(n.ptr, NULL, 10));
	assert_true(w.files > 0);
	kb_buf_release(&n);
	kb_store_free(w.s);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_fresh_dir),
		cmocka_unit_test(test_init_existing_repo_commits_only_kb_files),
		cmocka_unit_test(test_open_from_nested_dir),
		cmocka_unit_test(test_open_without_kb),
		cmocka_unit_test(test_open_not_a_repo),
		cmocka_unit_test(test_open_refuses_bare_and_subdir_conf),
		cmocka_unit_test(test_author_parse),
		cmocka_unit_test(test_author_resolution_order),
		cmocka_unit_test(test_read_file_and_case),
		cmocka_unit_test(test_read_refuses_too_large),
		cmocka_unit_test(test_symlinks_refused),
		cmocka_unit_test(test_path_validation),
		cmocka_unit_test(test_foreach_case_file),
		cmocka_unit_test(test_sample_kb_reads),
		cmocka_unit_test(test_txn_multiple_files_one_commit),
		cmocka_unit_test(test_txn_remove_through_symlink_refused),
		cmocka_unit_test(test_txn_noop_commit),
		cmocka_unit_test(test_txn_on_unborn_branch),
		cmocka_unit_test(test_txn_refused_during_merge),
		cmocka_unit_test(test_txn_refused_on_detached_head),
		cmocka_unit_test(test_txn_refused_when_read_only),
		cmocka_unit_test(test_txn_builds_on_current_head),
		cmocka_unit_test(test_txn_in_linked_worktree),
		cmocka_unit_test(test_log_follows_renames),
		cmocka_unit_test(test_changes_tree_and_workdir),
		cmocka_unit_test(test_changes_racy_and_staged),
		cmocka_unit_test(test_changes_ignore_symlinks_and_other_files),
	};
	return tu_run_isolated(tests);
}
