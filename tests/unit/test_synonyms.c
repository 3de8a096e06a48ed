/*
 * test_synonyms.c - kb/synonyms.h: parsing groups, normalised lookups,
 * multi-word terms, full-width commas, errors with path and line, loading.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/synonyms.h"
#include "testutil.h"

static kb_synonyms *parse(const char *text)
{
	kb_synonyms *s = NULL;

	assert_int_equal(kb_synonyms_parse(&s, text, strlen(text), "synonyms.txt"), 0);
	assert_non_null(s);
	return s;
}

static void test_parse_and_lookup(void **state)
{
	kb_synonyms *s = parse("# comment\n\n"
			       "air handling unit, AHU, 空调箱\r\n"
			       "  unserviceable , u/s  \n"
			       "trip，跳闸、跳脱\n"
			       "# another comment\n");
	const char *const *t;

	(void)state;
	assert_int_equal(kb_synonyms_count(s), 3);
	assert_int_equal(kb_synonyms_max_words(s), 3);
	assert_int_equal(kb_synonyms_lookup(s, "ahu", &t), 3);
	assert_string_equal(t[0], "air handling unit");
	assert_string_equal(t[1], "ahu");
	assert_string_equal(t[2], "空调箱");
	assert_int_equal(kb_synonyms_lookup(s, "Air   Handling ＵＮＩＴ", &t), 3);
	assert_string_equal(t[2], "空调箱");
	assert_int_equal(kb_synonyms_lookup(s, "空调箱", &t), 3);
	assert_int_equal(kb_synonyms_lookup(s, "U/S", &t), 2);
	assert_string_equal(t[0], "unserviceable");
	assert_int_equal(kb_synonyms_lookup(s, "跳脱", &t), 3);
	assert_string_equal(t[0], "trip");
	assert_int_equal(kb_synonyms_lookup(s, "chiller", &t), 0);
	assert_null(t);
	assert_int_equal(kb_synonyms_lookup(s, "air handling", &t), 0);
	/* lookups go by stemmed tokens: inflections and hyphens do not matter */
	assert_int_equal(kb_synonyms_lookup(s, "Air-Handling Units", &t), 3);
	assert_int_equal(kb_synonyms_lookup(s, "TRIPPED", &t), 3);
	assert_string_equal(t[1], "跳闸");
	assert_int_equal(kb_synonyms_lookup(s, "unserviceables", &t), 2);
	assert_int_equal(kb_synonyms_lookup(s, "", &t), 0);
	assert_int_equal(kb_synonyms_lookup(s, "!!", &t), 0);
	kb_synonyms_free(s);
}

static void test_duplicates_and_overlap(void **state)
{
	kb_synonyms *s = parse("AHU, ahu, Ａｈｕ, air handler\nahu, 空调箱\n");
	const char *const *t;

	(void)state;
	assert_int_equal(kb_synonyms_count(s), 2);
	/* the first group holding a term wins */
	assert_int_equal(kb_synonyms_lookup(s, "AHU", &t), 2);
	assert_string_equal(t[1], "air handler");
	assert_int_equal(kb_synonyms_lookup(s, "空调箱", &t), 2);
	assert_string_equal(t[0], "ahu");
	kb_synonyms_free(s);
}

static void test_many_groups(void **state)
{
	kb_buf b = KB_BUF_INIT;
	kb_synonyms *s;
	const char *const *t;
	int i;

	(void)state;
	for (i = 0; i < 2000; i++)
		kb_buf_printf(&b, "term%d, alias%d, 别名%d\n", i, i, i);
	s = parse(b.ptr);
	assert_int_equal(kb_synonyms_count(s), 2000);
	assert_int_equal(kb_synonyms_lookup(s, "ALIAS1234", &t), 3);
	assert_string_equal(t[0], "term1234");
	assert_string_equal(t[2], "别名1234");
	assert_int_equal(kb_synonyms_lookup(s, "别名0", &t), 3);
	assert_string_equal(t[1], "alias0");
	kb_synonyms_free(s);
	kb_buf_release(&b);
}

static void assert_parse_error(const char *text, int line)
{
	kb_synonyms *s = (kb_synonyms *)1;

	assert_int_equal(kb_synonyms_parse(&s, text, strlen(text), "kb/synonyms.txt"), KB_EINPUT);
	assert_null(s);
	assert_int_equal(kb_error_last()->code, KB_EINPUT);
	assert_string_equal(kb_error_last()->path, "kb/synonyms.txt");
	assert_int_equal(kb_error_last()->line, line);
}

static void test_errors(void **state)
{
	(void)state;
	assert_parse_error("a, b\nlonely\n", 2);
	assert_string_equal(kb_error_last()->message, "synonym group has a single term 'lonely'");
	assert_parse_error("a, b\n\n# c\nx, X\n", 4);
	assert_parse_error("a, b\nc, \xff\n", 2);
	assert_string_equal(kb_error_last()->message, "invalid utf-8");
	assert_parse_error(",,,\n", 1);
}

static void test_empty_and_load(void **state)
{
	char *dir = tu_mkdtemp("syn");
	kb_buf path = KB_BUF_INIT;
	kb_synonyms *s;
	const char *const *t;

	(void)state;
	s = kb_synonyms_new();
	assert_int_equal(kb_synonyms_count(s), 0);
	assert_int_equal(kb_synonyms_lookup(s, "x", &t), 0);
	kb_synonyms_free(s);
	assert_int_equal(kb_synonyms_lookup(NULL, "x", &t), 0);
	kb_synonyms_free(NULL);

	kb_buf_printf(&path, "%s/none.txt", dir);
	assert_int_equal(kb_synonyms_load(&s, path.ptr), 0);
	assert_int_equal(kb_synonyms_count(s), 0);
	kb_synonyms_free(s);
	kb_buf_clear(&path);
	kb_buf_printf(&path, "%s/syn.txt", dir);
	tu_write_str(path.ptr, "pump, 泵\nvalve\n");
	assert_int_equal(kb_synonyms_load(&s, path.ptr), KB_EINPUT);
	assert_string_equal(kb_error_last()->path, path.ptr);
	assert_int_equal(kb_error_last()->line, 2);
	tu_write_str(path.ptr, "pump, 泵\n");
	assert_int_equal(kb_synonyms_load(&s, path.ptr), 0);
	assert_int_equal(kb_synonyms_lookup(s, "泵", &t), 2);
	kb_synonyms_free(s);
	tu_rmtree(dir);
	free(dir);
	kb_buf_release(&path);
}

static void test_starter_file_parses(void **state)
{
	kb_synonyms *s;

	(void)state;
	assert_int_equal(kb_synonyms_load(&s, tu_srcpath("kb/synonyms.txt")), 0);
	kb_synonyms_free(s);
}

/* kb_synonyms_expand: the other terms of each group found in the text,
 * matched on stemmed tokens, English to Chinese and back, found terms not
 * repeated, nothing for text without a group or an empty table. */
static void test_expand(void **state)
{
	kb_synonyms *s = parse("chiller, 冷水机组, 冷机\ntrip, 跳闸, 跳机\n"
			       "air handling unit, AHU, 空调箱\n");
	kb_buf out = KB_BUF_INIT;

	(void)state;
	assert_int_equal(kb_synonyms_expand(&out, s, "Chiller trips on high pressure", 30), 4);
	assert_string_equal(out.ptr, "冷水机组\n冷机\n跳闸\n跳机");
	kb_buf_clear(&out);
	assert_int_equal(kb_synonyms_expand(&out, s, "2号冷机高压跳闸", strlen("2号冷机高压跳闸")),
			 4);
	assert_string_equal(out.ptr, "chiller\n冷水机组\ntrip\n跳机");
	kb_buf_clear(&out);
	/* a multi-word term is found as a run of tokens */
	assert_int_equal(kb_synonyms_expand(&out, s, "the Air-Handling Units", 22), 2);
	assert_string_equal(out.ptr, "ahu\n空调箱");
	kb_buf_clear(&out);
	assert_int_equal(kb_synonyms_expand(&out, s, "pump noise", 10), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(kb_synonyms_expand(&out, NULL, "chiller", 7), 0);
	assert_int_equal(kb_synonyms_expand(&out, s, "", 0), 0);
	assert_int_equal(out.len, 0);
	kb_buf_release(&out);
	kb_synonyms_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_lookup),
		cmocka_unit_test(test_duplicates_and_overlap),
		cmocka_unit_test(test_many_groups),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_empty_and_load),
		cmocka_unit_test(test_starter_file_parses),
		cmocka_unit_test(test_expand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
