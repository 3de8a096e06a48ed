/*
 * test_tokenizer.c - kb/tokenizer.h: exact token lists (English, Chinese,
 * codes, folding), offsets into the original text, hostile input, and the
 * FTS5 tokenizer "kb" in a real table (MATCH, phrases, highlight()).
 */
#include <stdlib.h>
#include <string.h>

#include "kb/tokenizer.h"
#include "testutil.h"

/* Tokens rendered as "tok tok +colocated ..." with offsets checked. */
typedef struct {
	kb_buf out;
	const char *text;
	int len;
	int count;
} collect;

static int collect_cb(void *p, int flags, const char *tok, int len, int start, int end)
{
	collect *c = p;

	assert_true(start >= 0 && start <= end && end <= c->len);
	assert_true(len > 0);
	if (c->out.len)
		kb_buf_putc(&c->out, ' ');
	if (flags & KB_TOKEN_COLOCATED)
		kb_buf_putc(&c->out, '+');
	kb_buf_put(&c->out, tok, (size_t)len);
	c->count++;
	return 0;
}

/* Tokenize `text` in document (query = 0) or query mode into a string. */
static char *toks_opts(const char *text, int query, int stem, int stop)
{
	kb_tokenizer_options o = KB_TOKENIZER_OPTIONS_INIT;
	collect c = { KB_BUF_INIT, text, (int)strlen(text), 0 };
	int rc;

	o.stem = stem;
	o.stopwords = stop;
	rc = query ? kb_tokenize_query(&o, text, c.len, collect_cb, &c)
		   : kb_tokenize(&o, text, c.len, collect_cb, &c);
	assert_int_equal(rc, 0);
	return kb_buf_detach(&c.out);
}

#define assert_toks(text, query, expect) do { \
		char *got_ = toks_opts(text, query, 1, 1); \
		assert_string_equal(got_, expect); \
		free(got_); \
	} while (0)

static void test_english(void **state)
{
	(void)state;
	assert_toks("The chiller tripped on high head pressure", 0,
		    "chiller trip high head pressur");
	assert_toks("Fans TRIPS and stops!", 1, "fan trip stop");
	assert_toks("no cooling", 0, "no cool");
	assert_toks("don't pump's", 0, "dont pump");
}

static void test_stem_and_stop_options(void **state)
{
	char *s;

	(void)state;
	s = toks_opts("the pump tripped trips", 0, 0, 0);
	assert_string_equal(s, "the pump tripped trips");
	free(s);
	s = toks_opts("the pump tripped trips", 0, 1, 0);
	assert_string_equal(s, "the pump trip trip");
	free(s);
	s = toks_opts("the pump tripped trips", 0, 0, 1);
	assert_string_equal(s, "pump tripped trips");
	free(s);
	s = toks_opts("a an the of", 0, 1, 1);
	assert_string_equal(s, "");
	free(s);
}

static void test_chinese(void **state)
{
	(void)state;
	assert_toks("跳闸", 0, "跳闸 +跳 闸");
	assert_toks("跳闸", 1, "跳闸");
	assert_toks("漏水", 0, "漏水 +漏 水");
	assert_toks("水", 1, "水");
	assert_toks("冷水机组高压跳闸", 0,
		    "冷水 +冷 水机 +水 机组 +机 组高 +组 高压 +高 压跳 +压 跳闸 +跳 闸");
	assert_toks("冷水机组高压跳闸", 1, "冷水 水机 机组 组高 高压 压跳 跳闸");
	assert_toks("高压，跳闸。", 1, "高压 压 跳闸");
	assert_toks("ひらがな カタカナ 한국어", 1, "ひら らが がな な カタ タカ カナ ナ 한국 국어");
}

static void test_mixed(void **state)
{
	(void)state;
	assert_toks("空调E04故障 fan", 0, "空调 +空 调 e04 故障 +故 障 fan");
	/* the tail unigram keeps a phrase aligned when more follows */
	assert_toks("空调E04故障", 1, "空调 调 e04 故障");
	assert_toks("压缩机trip", 1, "压缩 缩机 机 trip");
}

static void test_width_and_diacritics(void **state)
{
	(void)state;
	assert_toks("Ｅ０４", 0, "e04");
	assert_toks("Café NAÏVE Straße", 0, "cafe naiv strass");
	assert_toks("ｶﾀｶﾅ", 1, "カタ タカ カナ");
	assert_toks("　跳闸　", 1, "跳闸");   /* ideographic spaces */
	assert_toks("①", 0, "1");
}

static void test_codes(void **state)
{
	(void)state;
	assert_toks("30XA-0502", 0, "30xa-0502 +30xa 0502");
	assert_toks("30XA-0502", 1, "30xa 0502");
	assert_toks("F-12 E04", 0, "f-12 +f 12 e04");
	assert_toks("u/s", 0, "u/s +u s");
	assert_toks("high-pressure", 0, "high-pressure +high pressur");
	assert_toks("end. next", 0, "end next");
	assert_toks("a--b", 0, "b");
	assert_toks("-x- /y/", 0, "x y");
	assert_toks("Ｆ－１２", 0, "f-12 +f 12");
}

/* Offsets of the n-th token. */
typedef struct {
	int want, seen, start, end;
} nth;

static int nth_cb(void *p, int flags, const char *tok, int len, int start, int end)
{
	nth *n = p;

	(void)flags; (void)tok; (void)len;
	if (n->seen++ == n->want) {
		n->start = start;
		n->end = end;
	}
	return 0;
}

static void assert_offsets(const char *text, int which, const char *orig)
{
	nth n = { which, 0, -1, -1 };

	assert_int_equal(kb_tokenize(NULL, text, (int)strlen(text), nth_cb, &n), 0);
	assert_true(n.start >= 0);
	assert_int_equal(n.end - n.start, (int)strlen(orig));
	assert_memory_equal(text + n.start, orig, strlen(orig));
}

static void test_offsets(void **state)
{
	(void)state;
	assert_offsets("Ｅ０４ tripped", 0, "Ｅ０４");
	assert_offsets("Ｅ０４ tripped", 1, "tripped");
	assert_offsets("ＡＢ跳闸 x", 1, "跳闸");
	assert_offsets("Café fan", 1, "fan");
	assert_offsets("冷水 30XA-0502", 3, "30XA-0502");
	assert_offsets("冷水 30XA-0502", 5, "0502");
}

static int stop_cb(void *p, int flags, const char *tok, int len, int start, int end)
{
	(void)flags; (void)tok; (void)len; (void)start; (void)end;
	return ++*(int *)p == 2 ? 42 : 0;
}

static void test_callback_stops(void **state)
{
	int n = 0;

	(void)state;
	assert_int_equal(kb_tokenize(NULL, "a1 b2 c3 d4", 11, stop_cb, &n), 42);
	assert_int_equal(n, 2);
}

static void test_invalid_and_empty(void **state)
{
	const char bad[] = "ab\xff\xfe" "cd \xe8\xb7" "x \xc0\xaf y\xed\xa0\x80z \xe8";
	collect c = { KB_BUF_INIT, bad, (int)sizeof(bad) - 1, 0 };
	char *s;

	(void)state;
	assert_int_equal(kb_tokenize(NULL, bad, c.len, collect_cb, &c), 0);
	assert_string_equal(c.out.ptr, "ab cd x y z");
	kb_buf_release(&c.out);
	s = toks_opts("", 0, 1, 1);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(kb_tokenize(NULL, NULL, 0, collect_cb, NULL), 0);
	/* a truncated multibyte char must not be read past len */
	c.text = "跳闸";
	c.len = 4;
	kb_buf_init(&c.out);
	assert_int_equal(kb_tokenize(NULL, "跳闸", 4, collect_cb, &c), 0);
	assert_string_equal(c.out.ptr, "跳");
	kb_buf_release(&c.out);
}

static void test_big_and_binary(void **state)
{
	size_t n = 1 << 20, i;
	char *big = kb_xmalloc(n + 1);
	collect c = { KB_BUF_INIT, big, 0, 0 };
	unsigned seed = 12345;

	(void)state;
	for (i = 0; i + 3 <= n; i += 3)
		memcpy(big + i, "水", 3);
	c.len = (int)i;
	assert_int_equal(kb_tokenize(NULL, big, c.len, collect_cb, &c), 0);
	assert_int_equal(c.count, 2 * (c.len / 3) - 1);
	kb_buf_release(&c.out);

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		big[i] = (char)((seed >> 16) % 255 + 1);
	}
	c.count = 0;
	c.len = (int)n;
	assert_int_equal(kb_tokenize(NULL, big, c.len, collect_cb, &c), 0);
	assert_true(c.count > 0);
	kb_buf_release(&c.out);
	c.count = 0;
	assert_int_equal(kb_tokenize_query(NULL, big, c.len, collect_cb, &c), 0);
	kb_buf_release(&c.out);
	memset(big, 'a', n);
	c.count = 0;
	assert_int_equal(kb_tokenize(NULL, big, c.len, collect_cb, &c), 0);
	assert_int_equal(c.count, 1);
	kb_buf_release(&c.out);
	free(big);
}

static void test_reuse_and_stem_cache(void **state)
{
	kb_buf text = KB_BUF_INIT, want = KB_BUF_INIT;
	kb_tokenizer *tk;
	collect c;
	int i, round;

	(void)state;
	for (i = 0; i < 3000; i++) {
		kb_buf_printf(&text, "Tripped trips running pumps%d 跳闸 ", i % 7);
		/* query mode: the tail unigram 闸 keeps later tokens aligned */
		kb_buf_printf(&want, "%strip trip run pumps%d 跳闸", i ? " 闸 " : "", i % 7);
	}
	assert_int_equal(kb_tokenizer_new(&tk, NULL), 0);
	for (round = 0; round < 2; round++) {
		memset(&c, 0, sizeof(c));
		kb_buf_init(&c.out);
		c.text = text.ptr;
		c.len = (int)text.len;
		assert_int_equal(kb_tokenizer_run(tk, KB_TOKENIZE_QUERY, text.ptr, (int)text.len,
						  collect_cb, &c), 0);
		assert_string_equal(c.out.ptr, want.ptr);
		kb_buf_release(&c.out);
	}
	kb_tokenizer_free(tk);
	kb_tokenizer_free(NULL);
	kb_buf_release(&text);
	kb_buf_release(&want);
}

static void test_normalize(void **state)
{
	char *s;

	(void)state;
	s = kb_text_normalize("  Air  Handling\tＵｎｉｔ ", strlen("  Air  Handling\tＵｎｉｔ "));
	assert_string_equal(s, "air handling unit");
	free(s);
	s = kb_text_normalize("Café 空调箱", strlen("Café 空调箱"));
	assert_string_equal(s, "cafe 空调箱");
	free(s);
	assert_null(kb_text_normalize("a\xff", 2));
	s = kb_text_normalize("", 0);
	assert_string_equal(s, "");
	free(s);
}

/* ---- FTS5 ------------------------------------------------------------- */

static sqlite3 *open_db(const char *tokenize)
{
	sqlite3 *db;
	kb_buf sql = KB_BUF_INIT;
	static const char *const docs[][2] = {
		{ "冷水机组高压跳闸", "压缩机排气温度过高，冷水机组高压跳闸后无法复位" },
		{ "空调箱漏水", "空调箱冷凝水盘堵塞，导致漏水。E04 报警" },
		{ "Chiller tripped on high head pressure",
		  "The 30XA-0502 unit trips after restart. Fan F-12 u/s." },
		{ "Pump seal leaking", "Water leaks from the pump seal; replaced seal" },
	};
	size_t i;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(kb_tokenizer_register(db), 0);
	kb_buf_printf(&sql, "CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize=%s)",
		      tokenize);
	assert_int_equal(sqlite3_exec(db, sql.ptr, NULL, NULL, NULL), SQLITE_OK);
	kb_buf_release(&sql);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, title, body) "
						    "VALUES (?, ?, ?)", -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_int(st, 1, (int)i + 1);
		sqlite3_bind_text(st, 2, docs[i][0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, docs[i][1], -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
	}
	return db;
}

/* Row ids matching `q`, as "1,3" ("" for none). */
static char *match(sqlite3 *db, const char *q)
{
	kb_buf out = KB_BUF_INIT;
	sqlite3_stmt *st;
	int rc;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ? "
					    "ORDER BY rowid", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		kb_buf_printf(&out, "%s%d", out.len ? "," : "", sqlite3_column_int(st, 0));
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	return kb_buf_detach(&out);
}

#define assert_match(db, q, expect) do { \
		char *got_ = match(db, q); \
		assert_string_equal(got_, expect); \
		free(got_); \
	} while (0)

static void test_fts5_match(void **state)
{
	sqlite3 *db = open_db("kb");

	(void)state;
	assert_match(db, "\"跳闸\"", "1");
	assert_match(db, "\"漏水\"", "2");
	assert_match(db, "\"高压跳闸\"", "1");
	assert_match(db, "\"冷水机组高压跳闸\"", "1");
	assert_match(db, "\"机组跳闸\"", "");           /* not adjacent */
	assert_match(db, "\"水\"", "1,2");
	assert_match(db, "\"闸\"", "1");
	assert_match(db, "\"冷凝水盘堵塞\"", "2");
	assert_match(db, "\"漏水 E04\"", "2");
	assert_match(db, "\"漏水。E04报警\"", "2");
	assert_match(db, "\"堵塞 E04\"", "");
	assert_match(db, "\"30XA-0502\"", "3");
	assert_match(db, "\"0502\"", "3");
	assert_match(db, "\"30xa 0502 unit\"", "3");
	assert_match(db, "\"F-12\"", "3");
	assert_match(db, "\"u/s\"", "3");
	assert_match(db, "\"trip\"", "3");
	assert_match(db, "\"tripping\"", "3");
	assert_match(db, "\"leak\"", "4");
	assert_match(db, "\"high head pressures\"", "3");
	assert_match(db, "\"Ｅ０４\"", "2");
	assert_match(db, "\"the\"", "");
	assert_match(db, "title : \"跳闸\"", "1");
	assert_match(db, "body : \"CHILLER\"", "");
	sqlite3_close(db);
}

static void test_fts5_highlight(void **state)
{
	sqlite3 *db = open_db("'kb stem 1 stop 1'");
	sqlite3_stmt *st;

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT highlight(t, 1, '[', ']') FROM t "
					    "WHERE t MATCH ? ORDER BY rowid", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, "\"高压跳闸\" OR \"E04\" OR \"30XA-0502\" OR seal", -1,
			  SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "压缩机排气温度过高，冷水机组[高压跳闸]后无法复位");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "空调箱冷凝水盘堵塞，导致漏水。[E04] 报警");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "The [30XA-0502] unit trips after restart. Fan F-12 u/s.");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "Water leaks from the pump [seal]; replaced [seal]");
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_fts5_options(void **state)
{
	sqlite3 *db = open_db("'kb stem 0 stop 0'");

	(void)state;
	assert_match(db, "\"trip\"", "");
	assert_match(db, "\"trips\"", "3");
	assert_match(db, "\"the\"", "3,4");
	sqlite3_close(db);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(kb_tokenizer_register(db), 0);
	assert_int_not_equal(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(a, "
					  "tokenize='kb stem 2')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "CREATE VIRTUAL TABLE u USING fts5(a, "
					  "tokenize='kb colour 1')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "CREATE VIRTUAL TABLE v USING fts5(a, "
					  "tokenize='kb stem')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_english),
		cmocka_unit_test(test_stem_and_stop_options),
		cmocka_unit_test(test_chinese),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_width_and_diacritics),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_invalid_and_empty),
		cmocka_unit_test(test_big_and_binary),
		cmocka_unit_test(test_reuse_and_stem_cache),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_fts5_match),
		cmocka_unit_test(test_fts5_highlight),
		cmocka_unit_test(test_fts5_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
