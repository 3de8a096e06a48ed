/*
 * test_index_bulk.c - the two-thread full reindex (core/index_bulk.c) and
 * the token tapes it relies on (kb/tokenizer.h): a tape replays exactly
 * the tokens kb_tokenizer_run() gives, a damaged tape is an error, and a
 * rebuilt index holds the same postings, positions, rows and documents as
 * one written case by case through kb_index_put().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "kb/buf.h"
#include "kb/index.h"
#include "kb/store.h"
#include "kb/tokenizer.h"
#include "testutil.h"

/* Tokens as "flags/start-end/token;" lines. */
static int dump_token(void *payload, int flags, const char *tok, int len, int start, int end)
{
	kb_buf_printf(payload, "%d/%d-%d/%.*s;", flags, start, end, len, tok);
	return 0;
}

static const char *const texts[] = {
	"Chiller trips on high head pressure after restart, alarm E04 (Ｅ０４).",
	"3号楼2号冷机高压跳闸，检查冷凝风机，更换后正常。",
	"Model 30XA-0502 fault F-12; replaced the contactors' coils. Café",
	"mixed 中文 and English, 跳闸 again\n\n- list item\n",
	"bad \xff\xfe bytes \xe4\xb8 end",
	"",
};

static void test_tape_replays_the_same_tokens(void **state)
{
	kb_tokenizer_options opt[2] = { KB_TOKENIZER_OPTIONS_INIT, KB_TOKENIZER_OPTIONS_INIT };
	size_t i, k;

	(void)state;
	opt[1].stem = 0;
	opt[1].stopwords = 0;
	for (k = 0; k < 2; k++) {
		kb_tokenizer *tk = NULL;
		assert_int_equal(kb_tokenizer_new(&tk, &opt[k]), 0);
		for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
			kb_buf want = KB_BUF_INIT, got = KB_BUF_INIT, tape = KB_BUF_INIT;
			int len = (int)strlen(texts[i]);
			assert_int_equal(kb_tokenizer_run(tk, KB_TOKENIZE_DOCUMENT, texts[i], len,
							  dump_token, &want), 0);
			assert_int_equal(kb_tokenizer_record(tk, texts[i], len, &tape), 0);
			assert_int_equal(kb_tokenizer_replay(&tape, dump_token, &got), 0);
			assert_string_equal(got.ptr, want.ptr);
			if (len > 10)
				assert_true(want.len > 0);
			kb_buf_release(&want);
			kb_buf_release(&got);
			kb_buf_release(&tape);
		}
		kb_tokenizer_free(tk);
	}
}

static int stop_at_second(void *payload, int flags, const char *tok, int len, int start, int end)
{
	int *n = payload;

	(void)flags, (void)tok, (void)len, (void)start, (void)end;
	return ++*n == 2 ? 7 : 0;
}

static void test_damaged_tape_is_an_error(void **state)
{
	kb_tokenizer *tk = NULL;
	kb_buf tape = KB_BUF_INIT, out = KB_BUF_INIT, cut = KB_BUF_INIT;
	size_t n;
	int calls = 0;

	(void)state;
	assert_int_equal(kb_tokenizer_new(&tk, NULL), 0);
	assert_int_equal(kb_tokenizer_record(tk, texts[0], (int)strlen(texts[0]), &tape), 0);
	/* every truncation either replays a prefix or fails cleanly */
	for (n = 1; n < tape.len; n++) {
		int rc;
		kb_buf_set(&cut, tape.ptr, n);
		kb_buf_clear(&out);
		rc = kb_tokenizer_replay(&cut, dump_token, &out);
		assert_true(rc == 0 || rc == KB_ERROR);
	}
	kb_buf_set(&cut, tape.ptr, 3);
	assert_int_equal(kb_tokenizer_replay(&cut, dump_token, &out), KB_ERROR);
	/* a varint that never ends */
	kb_buf_set(&cut, "\0\xff\xff\xff\xff\xff\xff", 7);
	assert_int_equal(kb_tokenizer_replay(&cut, dump_token, &out), KB_ERROR);
	/* the callback's non-zero value stops the replay and is returned */
	assert_int_equal(kb_tokenizer_replay(&tape, stop_at_second, &calls), 7);
	assert_int_equal(calls, 2);
	kb_buf_release(&tape);
	kb_buf_release(&out);
	kb_buf_release(&cut);
	kb_tokenizer_free(tk);
}

static void test_options_parse(void **state)
{
	kb_tokenizer_options o;
	const char *ok[] = { "stem", "0", "stop", "1" };
	const char *bad1[] = { "stem", "yes" };
	const char *bad2[] = { "colour", "1" };
	const char *bad3[] = { "stem" };

	(void)state;
	assert_int_equal(kb_tokenizer_options_parse(&o, NULL, 0), 0);
	assert_int_equal(o.stem, 1);
	assert_int_equal(o.stopwords, 1);
	assert_int_equal(kb_tokenizer_options_parse(&o, ok, 4), 0);
	assert_int_equal(o.stem, 0);
	assert_int_equal(o.stopwords, 1);
	assert_int_equal(kb_tokenizer_options_parse(&o, bad1, 2), KB_EINPUT);
	assert_int_equal(kb_tokenizer_options_parse(&o, bad2, 2), KB_EINPUT);
	assert_int_equal(kb_tokenizer_options_parse(&o, bad3, 1), KB_EINPUT);
}

/* ---- rebuild vs case-by-case ------------------------------------------ */

#define NGEN 300

static const char *const bodies[] = {
	"## Symptom\nCompressor trips with alarm E%d a few minutes after restart.\n\n"
	"## Cause\nCondenser fan motor contactor K%d failed.\n\n## Resolution\nReplaced it.\n",
	"## 故障现象\n%d号冷却塔风机振动大，噪音很大。\n\n## 原因\n叶片积垢 %d。\n\n"
	"## 处理方法\n清洗叶片并做动平衡。\n",
	"## Symptom\nPump P-%d cavitation noise, discharge pressure swings %d bar.\n\n"
	"## Notes\nCheck the strainer.\n\n## Extra heading\nfree text here\n",
};

static void gen_case(kb_buf *out, int i)
{
	kb_buf_printf(out, "---\nid: GEN-%04d\ntitle: Case %d about %s\nequipment: %s\n"
		      "model: M-%d\nsite: Plant %d\nstatus: %s\ntags: [t%d, shared]\n---\n",
		      i, i, i % 2 ? "chiller" : "冷机", i % 3 ? "pump" : "chiller", i % 7,
		      i % 4, i % 5 ? "validated" : "draft", i % 11);
	kb_buf_printf(out, bodies[i % 3], i, i * 7);
}

/* All rows of `sql` on `db` as one string. */
static void dump_sql(kb_buf *out, sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int i, n;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	n = sqlite3_column_count(st);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			const unsigned char *v = sqlite3_column_text(st, i);
			kb_buf_printf(out, "%s%s", i ? "|" : "", v ? (const char *)v : "NULL");
		}
		kb_buf_putc(out, '\n');
	}
	sqlite3_finalize(st);
}

/* Postings with positions, stored text, column sizes and docs of the
 * index at `path`. */
static void dump_index(kb_buf *out, const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(kb_tokenizer_register(db), 0);
	assert_int_equal(sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, fts,"
				      " instance)", NULL, NULL, NULL), SQLITE_OK);
	dump_sql(out, db, "SELECT term, doc, col, offset FROM temp.v");
	dump_sql(out, db, "SELECT rowid, * FROM fts ORDER BY rowid");
	dump_sql(out, db, "SELECT * FROM fts_docsize ORDER BY id");
	dump_sql(out, db, "SELECT rowid, id, path, title, equipment, model, site, status, hash"
		 " FROM docs ORDER BY rowid");
	sqlite3_close(db);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_rebuild_matches_case_by_case(void **state)
{
	kb_author who;
	kb_store *s = NULL;
	kb_txn *t = NULL;
	kb_index *idx = NULL;
	kb_index_stats st;
	kb_diags d = KB_DIAGS_INIT;
	kb_buf text = KB_BUF_INIT, path = KB_BUF_INIT, a = KB_BUF_INIT, b = KB_BUF_INIT;
	char *dir, *paths[NGEN];
	int i;

	(void)state;
	tu_git_identity();
	dir = tu_mkdtemp("kbbulk");
	assert_int_equal(kb_author_parse(&who, "Test User <test@example.com>"), 0);
	assert_int_equal(kb_store_init(&s, dir, &who), 0);
	assert_int_equal(kb_txn_begin(&t, s), 0);
	for (i = 0; i < NGEN; i++) {
		kb_buf_clear(&text);
		kb_buf_clear(&path);
		gen_case(&text, i);
		kb_buf_printf(&path, "cases/GEN-%04d.md", i);
		paths[i] = kb_xstrdup(path.ptr);
		assert_int_equal(kb_txn_put(t, path.ptr, text.ptr, text.len), 0);
	}
	assert_int_equal(kb_txn_put(t, "cases/BROKEN.md", "---\nid: [unclosed\n", 18), 0);
	assert_int_equal(kb_txn_commit(t, &who, "cases", NULL), 0);
	kb_txn_free(t);

	/* the two-thread rebuild */
	assert_int_equal(kb_index_open_store(&idx, s), 0);
	assert_int_equal(kb_index_rebuild(idx, s, &st, &d), 0);
	assert_int_equal(st.added, NGEN);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(d.items[0].path, "BROKEN.md"));
	kb_index_close(idx);
	kb_buf_clear(&path);
	kb_buf_printf(&path, "%s/.git/kb/index.sqlite", dir);
	dump_index(&a, path.ptr);

	/* the same cases put one by one, in the walk's (sorted) order */
	kb_buf_clear(&path);
	kb_buf_printf(&path, "%s/ref.sqlite", dir);
	assert_int_equal(kb_index_open(&idx, path.ptr, NULL), 0);
	assert_int_equal(kb_index_begin(idx), 0);
	qsort(paths, NGEN, sizeof(*paths), cmp_str);
	for (i = 0; i < NGEN; i++) {
		kb_case *c = NULL;
		kb_buf_clear(&text);
		gen_case(&text, (int)strtol(paths[i] + strlen("cases/GEN-"), NULL, 10));
		assert_int_equal(kb_case_parse(&c, text.ptr, text.len, paths[i], NULL), 0);
		assert_int_equal(kb_index_put(idx, c, paths[i]), 0);
		kb_case_free(c);
	}
	assert_int_equal(kb_index_commit(idx), 0);
	kb_index_close(idx);
	dump_index(&b, path.ptr);

	assert_true(a.len > 10000);
	assert_string_equal(a.ptr, b.ptr);

	for (i = 0; i < NGEN; i++)
		free(paths[i]);
	kb_diags_release(&d);
	kb_buf_release(&text);
	kb_buf_release(&path);
	kb_buf_release(&a);
	kb_buf_release(&b);
	kb_store_free(s);
	kb_author_release(&who);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tape_replays_the_same_tokens),
		cmocka_unit_test(test_damaged_tape_is_an_error),
		cmocka_unit_test(test_options_parse),
		cmocka_unit_test(test_rebuild_matches_case_by_case),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
