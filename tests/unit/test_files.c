/* test_files.c - kb/files.h: walking named files and directories. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kb/error.h"
#include "kb/files.h"
#include "testutil.h"

static const char *const md[] = { ".md", NULL };

static int collect(const char *path, void *payload)
{
	kb_buf *b = payload;
	const char *slash = strstr(path, "/w/");

	kb_buf_printf(b, "%s;", slash ? slash + 3 : path);
	return 0;
}

static int stop_at_second(const char *path, void *payload)
{
	int *n = payload;

	(void)path;
	return ++*n == 2 ? 42 : 0;
}

static char *make_tree(void)
{
	char *dir = tu_mkdtemp("files");
	kb_buf p = KB_BUF_INIT;

	kb_buf_printf(&p, "%s/w", dir);
	assert_int_equal(mkdir(p.ptr, 0755), 0);
	kb_buf_printf(&p, "/sub");
	assert_int_equal(mkdir(p.ptr, 0755), 0);
	kb_buf_clear(&p);
	kb_buf_printf(&p, "%s/w/.hidden", dir);
	assert_int_equal(mkdir(p.ptr, 0755), 0);
	kb_buf_printf(&p, "/x.md");
	tu_write_str(p.ptr, "x");
#define FILE_IN(name) do { kb_buf_clear(&p); kb_buf_printf(&p, "%s/w/%s", dir, name); \
	tu_write_str(p.ptr, "x"); } while (0)
	FILE_IN("b.md");
	FILE_IN("a.md");
	FILE_IN("c.txt");
	FILE_IN(".d.md");
	FILE_IN("md");
	FILE_IN("sub/z.md");
#undef FILE_IN
	kb_buf_release(&p);
	return dir;
}

static void test_directory_walk_order_and_filters(void **state)
{
	char *dir = make_tree();
	kb_buf got = KB_BUF_INIT, root = KB_BUF_INIT;
	static const char *const both[] = { ".md", ".txt", NULL };

	(void)state;
	kb_buf_printf(&root, "%s/w", dir);
	assert_int_equal(kb_files_walk(root.ptr, md, collect, &got), 0);
	assert_string_equal(got.ptr, "a.md;b.md;sub/z.md;");
	kb_buf_clear(&got);
	kb_buf_puts(&root, "/");
	assert_int_equal(kb_files_walk(root.ptr, both, collect, &got), 0);
	assert_string_equal(got.ptr, "a.md;b.md;c.txt;sub/z.md;");
	tu_rmtree(dir);
	free(dir);
	kb_buf_release(&got);
	kb_buf_release(&root);
}

static void test_a_file_is_taken_as_it_is(void **state)
{
	char *dir = make_tree();
	kb_buf got = KB_BUF_INIT, f = KB_BUF_INIT;

	(void)state;
	kb_buf_printf(&f, "%s/w/c.txt", dir);
	assert_int_equal(kb_files_walk(f.ptr, md, collect, &got), 0);
	assert_string_equal(got.ptr, "c.txt;");
	tu_rmtree(dir);
	free(dir);
	kb_buf_release(&got);
	kb_buf_release(&f);
}

static void test_callback_stops_the_walk(void **state)
{
	char *dir = make_tree();
	int n = 0;

	(void)state;
	assert_int_equal(kb_files_walk(dir, md, stop_at_second, &n), 42);
	assert_int_equal(n, 2);
	tu_rmtree(dir);
	free(dir);
}

static void test_missing_path(void **state)
{
	kb_buf got = KB_BUF_INIT;

	(void)state;
	assert_int_equal(kb_files_walk("no/such/dir", md, collect, &got), KB_ENOTFOUND);
	assert_string_equal(kb_error_last()->path, "no/such/dir");
	assert_int_equal(got.len, 0);
}

static void test_has_ext(void **state)
{
	(void)state;
	assert_true(kb_files_has_ext("a.md", md));
	assert_false(kb_files_has_ext(".md", md));
	assert_false(kb_files_has_ext("a.mdx", md));
	assert_false(kb_files_has_ext("", md));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directory_walk_order_and_filters),
		cmocka_unit_test(test_a_file_is_taken_as_it_is),
		cmocka_unit_test(test_callback_stops_the_walk),
		cmocka_unit_test(test_missing_path),
		cmocka_unit_test(test_has_ext),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
