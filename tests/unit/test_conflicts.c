/* test_conflicts.c - kb_conflicts_list() (kb/lifecycle.h) on a temporary
 * KB: only cases whose conflicts key lists something, in path order, with
 * files that do not parse skipped; and kb_case_validate() on such cases. */
#include <stdlib.h>
#include <string.h>

#include "kb/case.h"
#include "kb/lifecycle.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

static void put(const char *dir, const char *id, const char *more)
{
	kb_buf path = KB_BUF_INIT, text = KB_BUF_INIT;

	kb_buf_printf(&path, "%s/cases/%s.md", dir, id);
	kb_buf_printf(&text, "---\nid: %s\ntitle: Case %s\nstatus: draft\n%s---\n\n"
		      "## Symptom\n\nTrips.\n", id, id, more);
	tu_write_str(path.ptr, text.ptr);
	kb_buf_release(&path);
	kb_buf_release(&text);
}

static void test_list(void **state)
{
	char *dir = tu_mkdtemp("kb");
	kb_store *s = NULL;
	kb_conflict_case *v = NULL;
	size_t n = 9;

	(void)state;
	tu_git_identity();
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	assert_int_equal(kb_conflicts_list(&v, &n, s), 0);
	assert_int_equal(n, 0);
	kb_conflicts_list_free(v, n);
	put(dir, "A-2", "conflicts: [cause, site]\n");
	put(dir, "A-1", "conflicts: [deleted on origin]\n");
	put(dir, "A-3", "conflicts: []\n");                    /* resolved */
	put(dir, "A-4", "# conflicts: [x] in a comment\n");
	put(dir, "A-5", "conflicts: [x\n");                     /* does not parse */
	assert_int_equal(kb_conflicts_list(&v, &n, s), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "A-1");
	assert_string_equal(v[0].path, "cases/A-1.md");
	assert_int_equal(v[0].nnames, 1);
	assert_string_equal(v[0].names[0], "deleted on origin");
	assert_string_equal(v[1].title, "Case A-2");
	assert_int_equal(v[1].nnames, 2);
	assert_string_equal(v[1].names[1], "site");
	kb_conflicts_list_free(v, n);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_validate(void **state)
{
	const char *draft = "---\nid: A-1\ntitle: T\nstatus: draft\nconflicts: [cause]\n---\n\n"
			    "## Symptom\n\nx\n";
	const char *valid = "---\nid: A-1\ntitle: T\nstatus: validated\nreviewer: R <r@x.org>\n"
			    "conflicts: [cause]\n---\n\n## Symptom\n\nx\n\n## Resolution\n\ny\n";
	kb_diags d = KB_DIAGS_INIT;
	kb_case *c = NULL;

	(void)state;
	assert_int_equal(kb_case_parse(&c, draft, strlen(draft), NULL, NULL), 0);
	assert_int_equal(kb_case_validate(c, &d), 0);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.items[0].severity, KB_DIAG_WARNING);
	assert_int_equal(d.items[0].line, 5);
	assert_non_null(strstr(d.items[0].message, "unresolved merge conflicts (cause)"));
	kb_diags_release(&d);
	kb_case_free(c);
	assert_int_equal(kb_case_parse(&c, valid, strlen(valid), NULL, NULL), 0);
	assert_int_equal(kb_case_validate(c, &d), KB_EINVALID);
	assert_int_equal(kb_diags_errors(&d), 1);
	kb_diags_release(&d);
	kb_case_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_validate),
	};
	return tu_run_isolated(tests);
}
