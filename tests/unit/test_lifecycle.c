/* test_lifecycle.c - kb/lifecycle.h on temporary KBs: every allowed and
 * refused status transition, link storage and listing both ways, the
 * summary, and reuse counted across several people's files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/lifecycle.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };
static const kb_author bob = { "Bob Li", "Bob.Li@Example.com" };

typedef struct {
	char *dir;
	kb_store *s;
} tkb;

/* A valid case file with the given status (extra front-matter lines in `more`). */
static void put_case(const tkb *k, const char *id, const char *status, const char *more)
{
	kb_buf path = KB_BUF_INIT, text = KB_BUF_INIT;

	kb_buf_printf(&path, "%s/cases/%s.md", k->dir, id);
	kb_buf_printf(&text,
		      "---\nid: %s\ntitle: Pump %s trips\nstatus: %s\ncreated: 2024-05-12\n%s---\n\n"
		      "## Symptom\n\nOverload trips.\n\n## Resolution\n\nNew bearing.\n",
		      id, id, status, more ? more : "");
	tu_write_str(path.ptr, text.ptr);
	kb_buf_release(&path);
	kb_buf_release(&text);
}

/* A KB with P-1 draft, P-2 validated, P-3 archived, P-4 validated. */
static tkb new_kb(void)
{
	tkb k;

	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("HOME", ".", 1);
	tu_git_identity();
	k.dir = tu_mkdtemp("kb");
	assert_int_equal(kb_store_init(&k.s, k.dir, &alice), 0);
	put_case(&k, "P-1", "draft", NULL);
	put_case(&k, "P-2", "validated", "reviewer: R <r@example.com>\n");
	put_case(&k, "P-3", "archived", NULL);
	put_case(&k, "P-4", "validated", "reviewer: R <r@example.com>\n");
	free(tu_sh_in(k.dir, "git add cases && git commit -qm cases"));
	return k;
}

static void done_kb(tkb *k)
{
	kb_store_free(k->s);
	tu_rmtree(k->dir);
	free(k->dir);
}

static void test_transition_table(void **state)
{
	kb_status from, to;
	int ok;

	(void)state;
	for (from = KB_STATUS_UNKNOWN; from <= KB_STATUS_OBSOLETE; from++)
		for (to = KB_STATUS_UNKNOWN; to <= KB_STATUS_OBSOLETE; to++) {
			ok = (from == KB_STATUS_DRAFT && to == KB_STATUS_VALIDATED) ||
			     (from == KB_STATUS_VALIDATED && to == KB_STATUS_ARCHIVED) ||
			     (from == KB_STATUS_VALIDATED && to == KB_STATUS_OBSOLETE) ||
			     (from == KB_STATUS_ARCHIVED && to == KB_STATUS_VALIDATED);
			assert_int_equal(kb_lifecycle_check(from, to), ok ? 0 : KB_EINPUT);
		}
}

static void test_transitions_commit(void **state)
{
	tkb k = new_kb();
	kb_diags d = KB_DIAGS_INIT;
	char *before;

	(void)state;
	assert_int_equal(kb_lifecycle_set(k.s, "P-1", KB_STATUS_VALIDATED, NULL, &bob, &d, NULL), 0);
	tu_expect_sh(k.dir, "git log -1 --format='%an|%s|%(trailers:key=Validated-by,valueonly)' | grep .",
		  "Bob Li|Validate P-1|Bob Li <Bob.Li@Example.com>");
	tu_expect_sh(k.dir, "grep -c -e '^reviewer: Bob Li <Bob.Li@Example.com>' -e '^validated: ' cases/P-1.md", "2");
	assert_int_equal(kb_lifecycle_set(k.s, "P-2", KB_STATUS_ARCHIVED, NULL, &bob, NULL, NULL), 0);
	tu_expect_sh(k.dir, "git log -1 --format=%s", "Archive P-2");
	assert_int_equal(kb_lifecycle_set(k.s, "P-3", KB_STATUS_VALIDATED, NULL, &bob, NULL, NULL), 0);
	tu_expect_sh(k.dir, "git log -1 --format=%s", "Restore P-3");
	assert_int_equal(kb_lifecycle_set(k.s, "P-4", KB_STATUS_OBSOLETE, "P-1", &bob, NULL, NULL), 0);
	tu_expect_sh(k.dir, "grep '^superseded_by' cases/P-4.md", "superseded_by: P-1");

	before = tu_sh_in(k.dir, "git rev-parse HEAD; git status --porcelain");
	assert_int_equal(kb_lifecycle_set(k.s, "P-4", KB_STATUS_VALIDATED, NULL, &bob, NULL, NULL), KB_EINPUT);
	assert_int_equal(kb_lifecycle_set(k.s, "P-2", KB_STATUS_OBSOLETE, "P-1", &bob, NULL, NULL), KB_EINPUT);
	assert_int_equal(kb_lifecycle_set(k.s, "P-1", KB_STATUS_OBSOLETE, NULL, &bob, NULL, NULL), KB_EINPUT);
	assert_int_equal(kb_lifecycle_set(k.s, "P-1", KB_STATUS_OBSOLETE, "P-1", &bob, NULL, NULL), KB_EINPUT);
	assert_int_equal(kb_lifecycle_set(k.s, "P-1", KB_STATUS_OBSOLETE, "NO-1", &bob, NULL, NULL), KB_EINPUT);
	assert_int_equal(kb_lifecycle_set(k.s, "NO-1", KB_STATUS_ARCHIVED, NULL, &bob, NULL, NULL), KB_ENOTFOUND);
	tu_expect_sh(k.dir, "git rev-parse HEAD; git status --porcelain", before);
	free(before);
	kb_diags_release(&d);
	done_kb(&k);
}

static void test_links_both_ways(void **state)
{
	tkb k = new_kb();
	kb_link *l = NULL;
	size_t n = 0;
	char *before;

	(void)state;
	assert_int_equal(kb_link_add(k.s, "P-1", "P-2", KB_LINK_RELATED, &alice, NULL), 0);
	assert_int_equal(kb_link_add(k.s, "P-1", "P-3", KB_LINK_DUPLICATE_OF, &alice, NULL), 0);
	assert_int_equal(kb_link_add(k.s, "P-4", "P-1", KB_LINK_CAUSED_BY, &alice, NULL), 0);
	tu_expect_sh(k.dir, "git log -1 --format=%s", "Link P-4 to P-1 (caused-by)");
	tu_expect_sh(k.dir, "grep -e '^links' -e '^duplicate_of' cases/P-1.md", "links: [P-2]\nduplicate_of: P-3");

	before = tu_sh_in(k.dir, "git rev-parse HEAD; git status --porcelain");
	assert_int_equal(kb_link_add(k.s, "P-1", "P-2", KB_LINK_SUPERSEDES, &alice, NULL), KB_EINPUT);
	assert_int_equal(kb_link_add(k.s, "P-1", "P-1", KB_LINK_RELATED, &alice, NULL), KB_EINPUT);
	assert_int_equal(kb_link_add(k.s, "P-1", "NO-1", KB_LINK_RELATED, &alice, NULL), KB_EINPUT);
	assert_int_equal(kb_link_add(k.s, "NO-1", "P-1", KB_LINK_RELATED, &alice, NULL), KB_EINPUT);
	tu_expect_sh(k.dir, "git rev-parse HEAD; git status --porcelain", before);
	free(before);

	assert_int_equal(kb_links_get(&l, &n, k.s, "P-1"), 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[0].id, "P-2");
	assert_int_equal(l[0].type, KB_LINK_RELATED);
	assert_false(l[0].incoming);
	assert_string_equal(l[1].id, "P-3");
	assert_int_equal(l[1].type, KB_LINK_DUPLICATE_OF);
	assert_string_equal(l[2].id, "P-4");
	assert_int_equal(l[2].type, KB_LINK_CAUSED_BY);
	assert_true(l[2].incoming);
	kb_links_free(l, n);
	assert_int_equal(kb_links_get(&l, &n, k.s, "P-3"), 0);
	assert_int_equal(n, 1);
	assert_true(l[0].incoming);
	kb_links_free(l, n);
	assert_int_equal(kb_link_type_parse("duplicate-of"), KB_LINK_DUPLICATE_OF);
	assert_int_equal(kb_link_type_parse("dup"), -1);
	done_kb(&k);
}

static void test_reuse_counts(void **state)
{
	tkb k = new_kb();
	kb_reuse_count *c = NULL;
	const kb_reuse_count *one;
	size_t n = 0;

	(void)state;
	assert_int_equal(kb_reuse_counts(&c, &n, k.s), 0);
	assert_int_equal(n, 0);
	assert_int_equal(kb_reuse_record(k.s, "P-2", "WO-7", "a\tb\nc\\", &alice, NULL), 0);
	assert_int_equal(kb_reuse_record(k.s, "P-2", NULL, NULL, &bob, NULL), 0);
	assert_int_equal(kb_reuse_record(k.s, "P-1", NULL, NULL, &bob, NULL), 0);
	assert_int_equal(kb_reuse_record(k.s, "NO-1", NULL, NULL, &bob, NULL), KB_ENOTFOUND);
	tu_expect_sh(k.dir, "git log -1 --format=%s", "Record reuse of P-1");
	tu_expect_sh(k.dir, "ls reuse", "alice-example.com.log\nbob.li-example.com.log");
	tu_expect_sh(k.dir, "cut -f2- reuse/alice-example.com.log", "P-2\tWO-7\ta\\tb\\nc\\\\");
	/* a hand-added older line in a third person's file counts too */
	free(tu_sh_in(k.dir, "printf '2020-01-02\\tP-2\\t\\t\\nnot a line\\n' >reuse/carol.log"));
	assert_int_equal(kb_reuse_counts(&c, &n, k.s), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].id, "P-1");
	one = kb_reuse_find(c, n, "P-2");
	assert_non_null(one);
	assert_int_equal(one->count, 3);
	assert_string_not_equal(one->last, "2020-01-02");
	assert_null(kb_reuse_find(c, n, "P-3"));
	kb_reuse_counts_free(c, n);
	done_kb(&k);
}

static void test_summary(void **state)
{
	tkb k = new_kb();
	kb_summary sum;

	(void)state;
	put_case(&k, "P-0", "draft", NULL);
	free(tu_sh_in(k.dir, "sed -i 's/2024-05-12/2023-01-01/' cases/P-0.md && echo x >>cases/P-2.md"));
	assert_int_equal(kb_summary_get(&sum, k.s), 0);
	assert_int_equal(sum.total, 5);
	assert_int_equal(sum.counts[KB_STATUS_DRAFT], 2);
	assert_int_equal(sum.counts[KB_STATUS_VALIDATED], 2);
	assert_int_equal(sum.counts[KB_STATUS_ARCHIVED], 1);
	assert_int_equal(sum.ndrafts, 2);
	assert_string_equal(sum.drafts[0].id, "P-0");
	assert_int_equal(sum.nedited, 2);
	assert_string_equal(sum.edited[0], "cases/P-0.md");
	assert_string_equal(sum.edited[1], "cases/P-2.md");
	assert_int_equal(strlen(sum.head), 40);
	kb_summary_release(&sum);
	done_kb(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_transitions_commit),
		cmocka_unit_test(test_links_both_ways),
		cmocka_unit_test(test_reuse_counts),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
