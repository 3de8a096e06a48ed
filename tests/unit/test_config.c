/* test_config.c - kb/config.h: parsing kb.conf (multivars, typed values,
 * aliases, syntax errors with lines) and writing it back. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb/config.h"
#include "kb/error.h"
#include "testutil.h"

static const char sample[] =
	"# a comment\n"
	"[kb]\n"
	"\tname = Plant 3 cases\n"
	"\tidPrefix = P3\n"
	"[equipment \"chiller\"]\n"
	"\tprefix = CHL\n"
	"[section \"symptom\"]\n"
	"\talias = Problem\n"
	"\talias = 问题描述\n"
	"[section \"cause\"]\n"
	"\talias = Why\n"
	"[search]\n"
	"\tstem = no\n"
	"\tfuzzy\n"
	"\tlimit = 2k\n"
	"\tneg = -5\n"
	"\tbad = twelve\n"
	"[search \"weight\"]\n"
	"\ttitle = 2.5\n"
	"[flags]\n"
	"\ta = yes\n\tb = On\n\tc = 1\n\td = off\n\te = maybe\n\tf = 0\n\tg =\n\th = 5\n"
	"[kb]\n"
	"\tname = Plant 3 knowledge\n";

static char *write_sample(const char *text)
{
	char *dir = tu_mkdtemp("cfg");
	kb_buf p = KB_BUF_INIT;

	kb_buf_printf(&p, "%s/kb.conf", dir);
	tu_write_str(p.ptr, text);
	free(dir);
	return kb_buf_detach(&p);
}

static void remove_sample(char *path)
{
	char *slash = strrchr(path, '/');

	*slash = '\0';
	tu_rmtree(path);
	free(path);
}

static int count_cb(const char *key, const char *value, void *payload)
{
	(void)key;
	(void)value;
	(*(int *)payload)++;
	return 0;
}

static int stop_cb(const char *key, const char *value, void *payload)
{
	(void)value;
	(void)payload;
	return !strcmp(key, "search.stem") ? 42 : 0;
}

static void test_get_last_value_and_case_rules(void **state)
{
	char *path = write_sample(sample);
	kb_config *cfg = NULL;

	(void)state;
	assert_int_equal(kb_config_open(&cfg, path), 0);
	assert_string_equal(kb_config_get(cfg, "kb.name"), "Plant 3 knowledge");
	assert_string_equal(kb_config_get(cfg, "KB.IDPREFIX"), "P3");
	assert_string_equal(kb_config_get(cfg, "kb.idPrefix"), "P3");
	assert_string_equal(kb_config_get(cfg, "equipment.chiller.prefix"), "CHL");
	assert_null(kb_config_get(cfg, "equipment.Chiller.prefix"));
	assert_null(kb_config_get(cfg, "kb.missing"));
	kb_config_free(cfg);
	remove_sample(path);
}

static void test_multivars_in_file_order(void **state)
{
	char *path = write_sample(sample);
	kb_config *cfg = NULL;
	const char *const *v;
	int n = 0;

	(void)state;
	assert_int_equal(kb_config_open(&cfg, path), 0);
	assert_int_equal(kb_config_get_all(cfg, "section.symptom.alias", &v), 2);
	assert_string_equal(v[0], "Problem");
	assert_string_equal(v[1], "问题描述");
	assert_int_equal(kb_config_get_all(cfg, "kb.name", &v), 2);
	assert_string_equal(v[0], "Plant 3 cases");
	assert_int_equal(kb_config_get_all(cfg, "nope.nope", &v), 0);
	assert_int_equal(kb_config_foreach(cfg, "section.", count_cb, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(kb_config_foreach(cfg, NULL, stop_cb, NULL), 42);
	kb_config_free(cfg);
	remove_sample(path);
}

static void test_typed_values(void **state)
{
	char *path = write_sample(sample);
	kb_config *cfg = NULL;

	(void)state;
	assert_int_equal(kb_config_open(&cfg, path), 0);
	assert_int_equal(kb_config_get_bool(cfg, "search.stem", 1), 0);
	assert_int_equal(kb_config_get_bool(cfg, "search.fuzzy", 0), 1);
	assert_int_equal(kb_config_get_bool(cfg, "flags.a", 0), 1);
	assert_int_equal(kb_config_get_bool(cfg, "flags.b", 0), 1);
	assert_int_equal(kb_config_get_bool(cfg, "flags.c", 0), 1);
	assert_int_equal(kb_config_get_bool(cfg, "flags.d", 1), 0);
	assert_int_equal(kb_config_get_bool(cfg, "flags.e", 7), 7);
	assert_int_equal(kb_config_get_bool(cfg, "flags.f", 1), 0);
	assert_int_equal(kb_config_get_bool(cfg, "flags.g", 1), 0);
	assert_int_equal(kb_config_get_bool(cfg, "flags.h", 0), 1);
	assert_int_equal(kb_config_get_bool(cfg, "flags.none", 1), 1);
	assert_int_equal(kb_config_get_int(cfg, "search.limit", 0), 2048);
	assert_int_equal(kb_config_get_int(cfg, "search.neg", 0), -5);
	assert_int_equal(kb_config_get_int(cfg, "flags.a", 4), 4);
	assert_int_equal(kb_config_get_int(cfg, "search.bad", 9), 9);
	assert_int_equal(kb_config_get_int(cfg, "search.none", 3), 3);
	assert_true(kb_config_get_double(cfg, "search.weight.title", 1.0) == 2.5);
	assert_true(kb_config_get_double(cfg, "search.bad", 1.5) == 1.5);
	kb_config_free(cfg);
	remove_sample(path);
}

static void test_aliases_add_config_entries(void **state)
{
	char *path = write_sample(sample);
	kb_config *cfg = NULL;
	const kb_aliases *a;

	(void)state;
	assert_int_equal(kb_config_open(&cfg, path), 0);
	a = kb_config_aliases(cfg);
	assert_non_null(a);
	assert_ptr_equal(a, kb_config_aliases(cfg));
	assert_int_equal(kb_aliases_lookup(a, "Problem"), KB_SECTION_SYMPTOM);
	assert_int_equal(kb_aliases_lookup(a, "问题描述"), KB_SECTION_SYMPTOM);
	assert_int_equal(kb_aliases_lookup(a, "Why"), KB_SECTION_CAUSE);
	assert_int_equal(kb_aliases_lookup(a, "Symptom"), KB_SECTION_SYMPTOM);
	kb_config_free(cfg);
	remove_sample(path);
}

static void test_missing_file_is_empty(void **state)
{
	kb_config *cfg = NULL;

	(void)state;
	assert_int_equal(kb_config_open(&cfg, "does-not-exist/kb.conf"), 0);
	assert_null(kb_config_get(cfg, "kb.name"));
	assert_int_equal(kb_config_get_bool(cfg, "search.stem", 1), 1);
	assert_non_null(kb_config_aliases(cfg));
	kb_config_free(cfg);
	cfg = kb_config_new_empty();
	assert_null(kb_config_get(cfg, "kb.name"));
	kb_config_free(cfg);
}

static void test_syntax_error_names_file_and_line(void **state)
{
	char *path = write_sample("[kb]\n\tname = x\n\n[broken\n\tkey = 1\n");
	kb_config *cfg = (kb_config *)1;
	const kb_error *e;

	(void)state;
	assert_int_equal(kb_config_open(&cfg, path), KB_EINPUT);
	assert_null(cfg);
	e = kb_error_last();
	assert_string_equal(e->path, path);
	assert_int_equal(e->line, 4);
	assert_non_null(strstr(e->message, "missing ']'"));
	remove_sample(path);
}

static void test_write_round_trip(void **state)
{
	char *path = write_sample(sample);
	kb_config *cfg = NULL;
	kb_buf out = KB_BUF_INIT;

	(void)state;
	assert_int_equal(kb_config_write(path, "equipment.chiller.prefix", "CH"), 0);
	assert_int_equal(kb_config_write(path, "equipment.heat pump.prefix", "HP"), 0);
	assert_int_equal(kb_config_write(path, "section.symptom.alias", "X"), KB_EINPUT);
	assert_string_equal(kb_error_last()->path, path);
	assert_int_equal(kb_config_open(&cfg, path), 0);
	assert_string_equal(kb_config_get(cfg, "equipment.chiller.prefix"), "CH");
	assert_string_equal(kb_config_get(cfg, "equipment.heat pump.prefix"), "HP");
	assert_string_equal(kb_config_get(cfg, "kb.idprefix"), "P3");
	kb_config_free(cfg);
	/* git reads what libgit2 wrote, and comments survive */
	assert_int_equal(tu_sh(&out, "GIT_CONFIG_NOSYSTEM=1 git config -f '%s' "
			       "'equipment.heat pump.prefix'", path), 0);
	assert_string_equal(out.ptr, "HP\n");
	kb_buf_release(&out);
	free(tu_read_file(path, NULL));
	assert_int_equal(tu_sh(NULL, "grep -q '^# a comment' '%s'", path), 0);
	remove_sample(path);
}

static void test_write_creates_file(void **state)
{
	char *dir = tu_mkdtemp("cfgnew");
	kb_buf path = KB_BUF_INIT;
	kb_config *cfg = NULL;

	(void)state;
	kb_buf_printf(&path, "%s/kb.conf", dir);
	assert_int_equal(kb_config_write(path.ptr, "kb.name", "Fresh"), 0);
	assert_int_equal(kb_config_open(&cfg, path.ptr), 0);
	assert_string_equal(kb_config_get(cfg, "kb.name"), "Fresh");
	kb_config_free(cfg);
	assert_int_equal(kb_config_write(path.ptr, "nodot", "x"), KB_EINPUT);
	kb_buf_release(&path);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_last_value_and_case_rules),
		cmocka_unit_test(test_multivars_in_file_order),
		cmocka_unit_test(test_typed_values),
		cmocka_unit_test(test_aliases_add_config_entries),
		cmocka_unit_test(test_missing_file_is_empty),
		cmocka_unit_test(test_syntax_error_names_file_and_line),
		cmocka_unit_test(test_write_round_trip),
		cmocka_unit_test(test_write_creates_file),
	};

	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
