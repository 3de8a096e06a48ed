/* test_lifecycle_edit.c - the lifecycle outside kb_lifecycle_set():
 * kb_lifecycle_edit() on edited cases, kb_lifecycle_check_worktree(),
 * kb_lifecycle_check_replace() and kb_store_read_head() on a temporary KB
 * with uncommitted status changes. */
#include <stdlib.h>
#include <string.h>

#include "kb/case.h"
#include "kb/lifecycle.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author ana = { "Ana Silva", "ana@example.com" };

static kb_case *with_status(const char *status)
{
	kb_buf t = KB_BUF_INIT;
	kb_case *c = NULL;

	kb_buf_printf(&t, "---\nid: P-1\ntitle: T\nstatus: %s\n---\n\n## Symptom\n\nx\n", status);
	assert_int_equal(kb_case_parse(&c, t.ptr, t.len, "cases/P-1.md", NULL), 0);
	kb_buf_release(&t);
	return c;
}

static void test_edit_transitions(void **state)
{
	kb_buf trailer = KB_BUF_INIT;
	kb_case *c;

	(void)state;
	c = with_status("archived");
	assert_int_equal(kb_lifecycle_edit(c, KB_STATUS_DRAFT, &ana, &trailer), KB_EINPUT);
	assert_string_equal(kb_error_last()->path, "cases/P-1.md");
	assert_int_equal(kb_error_last()->line, 4);
	assert_non_null(strstr(kb_error_last()->message, "from 'draft' to 'archived'"));
	assert_null(kb_case_get(c, "reviewer"));
	kb_case_free(c);
	/* unchanged, or from an unknown status: nothing to check */
	c = with_status("archived");
	assert_int_equal(kb_lifecycle_edit(c, KB_STATUS_ARCHIVED, &ana, &trailer), 0);
	assert_int_equal(kb_lifecycle_edit(c, KB_STATUS_UNKNOWN, &ana, &trailer), 0);
	assert_int_equal(trailer.len, 0);
	kb_case_free(c);
	c = with_status("validated");
	assert_int_equal(kb_lifecycle_edit(c, KB_STATUS_DRAFT, &ana, &trailer), 0);
	assert_string_equal(kb_case_get(c, "reviewer"), "Ana Silva <ana@example.com>");
	assert_int_equal(strlen(kb_case_get(c, "validated")), 10);
	assert_string_equal(trailer.ptr, "Validated-by: Ana Silva <ana@example.com>\n");
	kb_case_free(c);
	kb_buf_release(&trailer);
}

static void test_worktree_and_read_head(void **state)
{
	char *dir = tu_mkdtemp("kb");
	kb_store *s = NULL;
	kb_diags d = KB_DIAGS_INIT;
	kb_buf path = KB_BUF_INIT, out = KB_BUF_INIT;
	const char *v = "---\nid: P-1\ntitle: T\nstatus: validated\nreviewer: R <r@x.org>\n---\n\n"
			"## Symptom\n\nx\n\n## Resolution\n\ny\n";

	(void)state;
	tu_git_identity();
	assert_int_equal(kb_store_init(&s, dir, &ana), 0);
	assert_int_equal(kb_lifecycle_check_worktree(s, &d), 0);
	kb_buf_printf(&path, "%s/cases/P-1.md", dir);
	tu_write_str(path.ptr, v);
	assert_int_equal(kb_store_read_head(&out, s, "cases/P-1.md"), KB_ENOTFOUND);
	assert_int_equal(tu_sh(NULL, "cd '%s' && git add cases && git commit -qm c", dir), 0);
	assert_int_equal(kb_store_read_head(&out, s, "cases/P-1.md"), 0);
	assert_string_equal(out.ptr, v);
	assert_int_equal(kb_store_read_head(&out, s, "../etc/passwd"), KB_EINPUT);
	assert_int_equal(kb_lifecycle_check_worktree(s, &d), 0);
	assert_int_equal(d.count, 0);
	/* validated -> draft in the work tree: refused */
	assert_int_equal(tu_sh(NULL, "sed -i 's/status: validated/status: draft/' '%s'", path.ptr), 0);
	assert_int_equal(kb_lifecycle_check_worktree(s, &d), 0);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].path, "cases/P-1.md");
	assert_int_equal(d.items[0].line, 4);
	assert_non_null(strstr(d.items[0].message, "from 'validated' (committed) to 'draft'"));
	kb_diags_release(&d);
	/* the same check for a case about to replace the committed file */
	{
		kb_case *c = NULL;
		const char *drafted = "---\nid: P-1\ntitle: T\nstatus: draft\n---\n\n## Symptom\n\nx\n";

		assert_int_equal(kb_case_parse(&c, drafted, strlen(drafted), NULL, NULL), 0);
		assert_int_equal(kb_lifecycle_check_replace(s, "cases/P-1.md", c, "new.md", &d),
				 KB_EINVALID);
		assert_string_equal(d.items[0].path, "new.md");
		kb_diags_release(&d);
		assert_int_equal(kb_lifecycle_check_replace(s, "cases/P-9.md", c, NULL, &d), 0);
		assert_int_equal(d.count, 0);
		kb_case_free(c);
	}
	/* validated -> archived: allowed */
	assert_int_equal(tu_sh(NULL, "sed -i 's/status: draft/status: archived/' '%s'", path.ptr), 0);
	assert_int_equal(kb_lifecycle_check_worktree(s, &d), 0);
	assert_int_equal(d.count, 0);
	kb_buf_release(&path);
	kb_buf_release(&out);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edit_transitions),
		cmocka_unit_test(test_worktree_and_read_head),
	};
	return tu_run_isolated(tests);
}
