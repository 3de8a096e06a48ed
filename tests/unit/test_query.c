/*
 * test_query.c - kb/query.h: exact compiled expressions, synonyms, and
 * proof that no input makes FTS5 fail: nasty queries and 20,000 random
 * ones are run against a real FTS5 table using the kb tokenizer.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/query.h"
#include "kb/tokenizer.h"
#include "testutil.h"

static kb_synonyms *syn;
static sqlite3 *db;
static sqlite3_stmt *search;

static int setup(void **state)
{
	static const char text[] = "air handling unit, AHU, 空调箱\n"
				   "unserviceable, u/s\n"
				   "trip, 跳闸\n"
				   "the, 的\n";
	static const char *const docs[][3] = {
		{ "Chiller trips on high head pressure", "chiller", "condenser fan u/s" },
		{ "空调箱漏水", "空调箱", "冷凝水盘堵塞" },
		{ "AHU fan belt broken", "air handling unit", "belt replaced" },
		{ "冷水机组高压跳闸", "冷水机组", "30XA-0502 高压开关动作" },
	};
	size_t i;

	(void)state;
	if (kb_synonyms_parse(&syn, text, sizeof(text) - 1, "test") < 0)
		return -1;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK || kb_tokenizer_register(db) < 0)
		return -1;
	if (sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(title, symptom, environment, "
			 "cause, resolution, notes, tags, equipment, model, site, failure, "
			 "tokenize='kb')", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		sqlite3_stmt *st;

		sqlite3_prepare_v2(db, "INSERT INTO t(rowid, title, equipment, notes) "
				   "VALUES (?, ?, ?, ?)", -1, &st, NULL);
		sqlite3_bind_int(st, 1, (int)i + 1);
		sqlite3_bind_text(st, 2, docs[i][0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, docs[i][1], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, docs[i][2], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return -1;
		sqlite3_finalize(st);
	}
	return sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid",
				  -1, &search, NULL) == SQLITE_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	sqlite3_finalize(search);
	sqlite3_close(db);
	kb_synonyms_free(syn);
	return 0;
}

static char *compile(const char *q, const kb_synonyms *s)
{
	kb_buf out = KB_BUF_INIT;

	assert_int_equal(kb_query_compile(&out, q, s), 0);
	return kb_buf_detach(&out);
}

#define assert_compiles(q, s, expect) do { \
		char *got_ = compile(q, s); \
		assert_string_equal(got_, expect); \
		free(got_); \
	} while (0)

/* Run a compiled expression; returns the matching row ids as "1,3". */
static char *run_match(const char *expr)
{
	kb_buf out = KB_BUF_INIT;
	int rc;

	sqlite3_reset(search);
	sqlite3_bind_text(search, 1, expr, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(search)) == SQLITE_ROW)
		kb_buf_printf(&out, "%s%d", out.len ? "," : "", sqlite3_column_int(search, 0));
	if (rc != SQLITE_DONE)
		fail_msg("fts5 rejected '%s': %s", expr, sqlite3_errmsg(db));
	return kb_buf_detach(&out);
}

/* Compile and search in one go (empty expression: no rows). */
static char *hits(const char *q)
{
	char *expr = compile(q, syn), *r;

	if (!*expr)
		return expr;
	r = run_match(expr);
	free(expr);
	return r;
}

#define assert_hits(q, expect) do { \
		char *got_ = hits(q); \
		assert_string_equal(got_, expect); \
		free(got_); \
	} while (0)

static void test_quote(void **state)
{
	kb_buf b = KB_BUF_INIT;

	(void)state;
	kb_query_quote(&b, "a\"b\"\"", 5);
	assert_string_equal(b.ptr, "\"a\"\"b\"\"\"\"\"");
	kb_buf_clear(&b);
	kb_query_quote(&b, "", 0);
	assert_string_equal(b.ptr, "\"\"");
	kb_buf_release(&b);
}

static void test_basic_syntax(void **state)
{
	(void)state;
	assert_compiles("chiller trip", NULL, "\"chiller\" AND \"trip\"");
	assert_compiles("  跳闸  ", NULL, "\"跳闸\"");
	assert_compiles("\"high pressure\" -fan", NULL, "\"high pressure\" NOT \"fan\"");
	assert_compiles("pump -\"seal leak\" -x9", NULL, "\"pump\" NOT \"seal leak\" NOT \"x9\"");
	assert_compiles("pump valve -seal", NULL, "(\"pump\" AND \"valve\") NOT \"seal\"");
	assert_compiles("pump OR valve seal", NULL, "(\"pump\" OR \"valve\") AND \"seal\"");
	assert_compiles("pump or valve", NULL, "\"pump\" AND \"valve\"");
	assert_compiles("title:跳闸 symptom:\"fan noise\"", NULL,
			"title : \"跳闸\" AND symptom : \"fan noise\"");
	assert_compiles("Failure_Mode:leak -site:plant3", NULL,
			"failure : \"leak\" NOT site : \"plant3\"");
	assert_compiles("foo:bar", NULL, "\"foo:bar\"");
	assert_compiles("title:", NULL, "\"title:\"");
	assert_compiles("say \"hi", NULL, "\"say\" AND \"hi\"");
	assert_compiles("“高压 跳闸”", NULL, "\"高压 跳闸\"");
	assert_compiles("a\"b", NULL, "\"a\"\"b\"");
	assert_compiles("(pump)", NULL, "\"(pump)\"");
}

static void test_empty_results(void **state)
{
	static const char *const empty[] = {
		"", "   ", "the of and", "-x", "-x -\"y z\"", "!!! ,,, 。。。", "-", "--x",
		"\"\"", "OR", "OR OR", "\"the\"", "title:the", "\t\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		char *s = compile(empty[i], NULL);

		if (*s)
			fail_msg("'%s' compiled to '%s'", empty[i], s);
		free(s);
	}
	assert_compiles("pump the", NULL, "\"pump\"");
	assert_compiles("pump -the", NULL, "\"pump\"");
}

static void test_invalid_utf8(void **state)
{
	kb_buf out = KB_BUF_INIT;

	(void)state;
	assert_int_equal(kb_query_compile(&out, "pump \xff", NULL), KB_EINPUT);
	assert_string_equal(kb_error_last()->message, "invalid utf-8 in query");
	assert_int_equal(kb_query_compile(&out, "\xe8\xb7", NULL), KB_EINPUT);
	assert_int_equal(out.len, 0);
	assert_int_equal(kb_query_compile(&out, NULL, NULL), 0);
	kb_buf_release(&out);
}

static void test_synonyms(void **state)
{
	(void)state;
	assert_compiles("AHU leak", syn, "(\"AHU\" OR \"air handling unit\" OR \"空调箱\") AND \"leak\"");
	assert_compiles("Air Handling Unit", syn, "(\"Air Handling Unit\" OR \"ahu\" OR \"空调箱\")");
	assert_compiles("air handling", syn, "\"air\" AND \"handling\"");
	assert_compiles("u/s fan", syn, "(\"u/s\" OR \"unserviceable\") AND \"fan\"");
	assert_compiles("ahu, fan", syn, "(\"ahu,\" OR \"air handling unit\" OR \"空调箱\") AND \"fan\"");
	assert_compiles("equipment:ahu", syn,
			"equipment : (\"ahu\" OR \"air handling unit\" OR \"空调箱\")");
	assert_compiles("-跳闸 fan", syn, "\"fan\" NOT (\"跳闸\" OR \"trip\")");
	assert_compiles("\"air handling unit\"", syn,
			"(\"air handling unit\" OR \"ahu\" OR \"空调箱\")");
	/* alternatives that search the same tokens are written once */
	assert_compiles("Tripped", syn, "(\"Tripped\" OR \"跳闸\")");
	assert_compiles("AHU AHU", syn, "(\"AHU\" OR \"air handling unit\" OR \"空调箱\") AND "
			"(\"AHU\" OR \"air handling unit\" OR \"空调箱\")");
	/* a stop word's group keeps only the alternatives with tokens */
	assert_compiles("的", syn, "\"的\"");
	assert_compiles("the", syn, "\"的\"");
}

static void test_search_results(void **state)
{
	(void)state;
	assert_hits("跳闸", "1,4");          /* trips via synonym */
	assert_hits("高压跳闸", "1,4");       /* 跳闸 inside the run = trip */
	assert_hits("\"高压跳闸\"", "4");
	assert_hits("冷水机组跳闸", "1,4");   /* not adjacent in 4, still found */
	assert_hits("\"冷水机组跳闸\"", "");
	assert_hits("\"高压 跳闸\"", "4");     /* spaces between CJK words do not matter */
	assert_hits("\"机组 跳闸\"", "");
	assert_hits("ahu", "2,3");
	assert_hits("空调箱 -漏水", "3");
	assert_hits("equipment:空调箱", "2,3");
	assert_hits("title:空调箱", "2,3");
	assert_hits("notes:belt", "3");
	assert_hits("title:belt", "3");
	assert_hits("symptom:belt", "");
	assert_hits("30XA-0502", "4");
	assert_hits("0502", "4");
	assert_hits("u/s", "1");
	assert_hits("unserviceable", "1");
	assert_hits("tripped OR broken", "1,3,4");   /* tripped -> trip = 跳闸 */
	assert_hits("broken OR 漏水", "2,3");
	assert_hits("水", "2,4");
}

static void test_cjk_expansion(void **state)
{
	sqlite3_stmt *st;
	char *expr;

	(void)state;
	assert_compiles("空调箱", syn, "(\"空调箱\" OR \"air handling unit\" OR \"ahu\")");
	assert_compiles("空调箱漏", NULL, "(\"空调箱漏\" OR \"空调\" OR \"调箱\" OR \"箱漏\")");
	assert_compiles("E04空调箱漏水", syn,
			"(\"E04空调箱漏水\" OR \"E04\" OR \"空调\" OR \"调箱\" OR \"箱漏\" "
			"OR \"漏水\" OR \"air handling unit\" OR \"ahu\" OR \"空调箱\")");
	assert_compiles("\"空调箱漏水\"", syn, "\"空调箱漏水\"");
	assert_compiles("冷水机", NULL, "\"冷水机\"");
	/* the best match ranks first */
	expr = compile("冷水机组高压跳闸", syn);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ? "
					    "ORDER BY rank", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 4);
	sqlite3_finalize(st);
	free(expr);
}

/* Every expression the compiler produces must run in FTS5. */
static void assert_runs(const char *q)
{
	kb_buf out = KB_BUF_INIT;
	int rc = kb_query_compile(&out, q, syn);

	if (rc == 0 && out.len)
		free(run_match(out.ptr));
	else if (rc != 0)
		assert_int_equal(rc, KB_EINPUT);
	kb_buf_release(&out);
}

static void test_nasty(void **state)
{
	static const char *const nasty[] = {
		"\"", "\"\"\"", "*", "a*", "NEAR(", "NEAR(a b, 2)", "AND OR NOT", "a AND b",
		"NOT a", ")(", "(", ")", "^", "^a", "{x}", "{title}: x", ":", "::", "title:",
		"title::x", "nosuchfield:x", "-", "--x", "- -", "-\"", "-title:", "x OR",
		"OR x", "x OR OR y", "x OR -y", "\x01\x02\x1f\x7f", "pump\x01seal",
		"😀 🔥 fan😀", "💩:💩", "a+b", "'", "''", "\\", "\\\"", "%", "x\"y\"z",
		"title:\"", "title:\"\"", "-\"\"", "„x“", "“", "「跳闸」", "Ｅ０４ ＯＲ",
		"\357\273\277bom", "\xe2\x80\x8b", "ab\xcc\x81", "title : x", "{title} : \"x\"",
		"col:x*", "\"a\" + \"b\"", "NEAR", "AND", "NOT", "a NOT", "a AND",
		"x:y:z", "-x:y", "title:-x", "title:OR", "OR:x", "\"x\"y\"", "😀:x",
	};
	char *big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++)
		assert_runs(nasty[i]);
	big = kb_xmalloc((1 << 20) + 1);
	for (i = 0; i < 1 << 20; i++)
		big[i] = "ab \"-:OR跳闸"[i % 13];
	big[i] = '\0';
	for (i = (1 << 20) - 1; i > 0 && ((unsigned char)big[i] & 0xC0) == 0x80; i--)
		big[i] = '\0';
	big[i] = '\0';
	assert_runs(big);
	memset(big, 'x', 1 << 20);
	big[1 << 20] = '\0';
	assert_runs(big);
	for (i = 0; i < 1 << 20; i++)
		big[i] = i % 2 ? ' ' : (char)('a' + (char)(i / 2 % 26));
	assert_runs(big);
	free(big);
}

static void test_fuzz(void **state)
{
	static const char *const alphabet[] = {
		"\"", "-", ":", "*", "(", ")", "{", "}", "^", " ", " ", "  ", "OR", "AND",
		"NOT", "NEAR", "title", "notes", "foo", "a", "x", "the", "u/s", "ahu",
		"30XA-0502", "跳闸", "高压", "空调箱", "水", "😀", "\t", "\x01", ",", "，",
		"“", "”", "\\", "'", "+", ".", "/", "_", "Ｅ", "é", "0",
	};
	const size_t n = sizeof(alphabet) / sizeof(alphabet[0]);
	unsigned seed = 20261123;
	kb_buf q = KB_BUF_INIT;
	int i, j, len;

	(void)state;
	for (i = 0; i < 20000; i++) {
		kb_buf_clear(&q);
		seed = seed * 1103515245u + 12345u;
		len = (int)((seed >> 16) % 12);
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			kb_buf_puts(&q, alphabet[(seed >> 16) % n]);
		}
		assert_runs(q.ptr);
	}
	kb_buf_release(&q);
}

static void test_binary_junk(void **state)
{
	unsigned seed = 7;
	char buf[65];
	int i, j;

	(void)state;
	for (i = 0; i < 2000; i++) {
		for (j = 0; j < 64; j++) {
			seed = seed * 1103515245u + 12345u;
			buf[j] = (char)((seed >> 16) % 255 + 1);
		}
		buf[64] = '\0';
		assert_runs(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_basic_syntax),
		cmocka_unit_test(test_empty_results),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_synonyms),
		cmocka_unit_test(test_search_results),
		cmocka_unit_test(test_cjk_expansion),
		cmocka_unit_test(test_nasty),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_binary_junk),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
