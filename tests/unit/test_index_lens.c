/*
 * test_index_lens.c - the column sizes kept for ranking (core/index_lens.c,
 * index_internal.h): after puts, replacements and removals, inside a
 * transaction and after it, every row's sizes equal FTS5's own; kb_bm25()
 * scores every row exactly as FTS5's bm25() does, also for a column too
 * long to store and without the lens table; kb_rank() is the same with and
 * without it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/index.h"
#include "index_internal.h"
#include "testutil.h"

static const char *const words[] = {
	"compressor", "trips", "pressure", "fan", "belt", "pump", "noise", "alarm", "valve",
	"leak", "motor", "bearing", "跳闸", "压力", "风机", "漏水", "E04", "30XA-0502",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* n pseudo-random words from seed. */
static void some_words(kb_buf *b, unsigned *seed, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		kb_buf_printf(b, "%s%s", i ? " " : "", words[(*seed >> 16) % NWORDS]);
	}
}

/* Case `id` whose sections have lengths that depend on `seed`; with
 * `notes_words` a notes section of that many words. */
static void put_case(kb_index *idx, const char *id, unsigned seed, int notes_words)
{
	kb_buf md = KB_BUF_INIT;
	kb_case *c = NULL;

	kb_buf_printf(&md, "---\nid: %s\ntitle: ", id);
	some_words(&md, &seed, 1 + (int)(seed % 7));
	kb_buf_printf(&md, "\nequipment: %s\n---\n## Symptom\n", seed % 3 ? "chiller" : "pump");
	some_words(&md, &seed, (int)(seed % 40));
	if (seed % 5) {
		kb_buf_puts(&md, "\n\n## Cause\n");
		some_words(&md, &seed, 1 + (int)(seed % 25));
	}
	if (notes_words) {
		kb_buf_puts(&md, "\n\n## Notes\n");
		some_words(&md, &seed, notes_words);
	}
	kb_buf_putc(&md, '\n');
	assert_int_equal(kb_case_parse(&c, md.ptr, md.len, NULL, NULL), 0);
	assert_int_equal(kb_index_put(idx, c, "cases/x.md"), 0);
	kb_case_free(c);
	kb_buf_release(&md);
}

/* lens_bad(fts): 1 when the row's stored sizes differ from FTS5's, or when
 * a row that should have an entry has none. */
static void lens_bad(const Fts5ExtensionApi *api, Fts5Context *fc, sqlite3_context *ctx,
		     int nval, sqlite3_value **val)
{
	kb_lens_reader *r = kb_index__lens_reader(api->xUserData(fc));
	int sz[KB_COL__COUNT], n, c, bad = 0, known, storable = 1, any = 0;

	(void)nval;
	(void)val;
	known = kb_index__lens_get(r, api->xRowid(fc), sz) == 0;
	for (c = 0; c < KB_COL__COUNT; c++) {
		assert_int_equal(api->xColumnSize(fc, c, &n), SQLITE_OK);
		storable &= n < 0xffff;
		any |= n;
		if (known && sz[c] != n)
			bad = 1;
	}
	if (!known && storable && any)
		bad = 1;
	if (known && !storable)
		bad = 1;
	kb_index__lens_reader_free(r);
	sqlite3_result_int(ctx, bad);
}

static int64_t one_int(kb_index *idx, const char *sql, const char *match)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL), SQLITE_OK);
	if (match)
		sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Every title has one of the words: this MATCH finds every row. */
static const char all_rows[] =
	"title:(compressor OR trips OR pressure OR fan OR belt OR pump OR noise OR alarm OR"
	" valve OR leak OR motor OR bearing OR \"跳闸\" OR \"压力\" OR \"风机\" OR \"漏水\" OR E04 OR"
	" \"30XA-0502\")";

static int64_t lens_mismatches(kb_index *idx)
{
	fts5_api *api = kb_index__fts5_api(idx->db);

	assert_non_null(api);
	assert_int_equal(api->xCreateFunction(api, "lens_bad", idx, lens_bad, NULL), SQLITE_OK);
	assert_int_equal(one_int(idx, "SELECT count(*) FROM fts WHERE fts MATCH ?1", all_rows),
			 kb_index_count(idx));
	return one_int(idx, "SELECT count(*) FROM fts WHERE fts MATCH ?1 AND lens_bad(fts)",
		       all_rows);
}

static const char *const matches[] = {
	"pressure", "fan OR pump", "\"跳闸\"", "compressor trips", "title:alarm OR leak",
	"E04 OR 30XA", "valve NOT motor",
};

/* Rows whose kb_bm25 differs from bm25 over all queries (each must match). */
static int64_t score_mismatches(kb_index *idx)
{
	int64_t bad = 0;
	size_t i;

	for (i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
		assert_true(one_int(idx, "SELECT count(*) FROM fts WHERE fts MATCH ?1",
				    matches[i]) > 0);
		bad += one_int(idx, "SELECT count(*) FROM fts WHERE fts MATCH ?1 AND"
			       " bm25(fts, 4, 3, 0.7, 1.5, 1, 0.5, 2, 2, 2, 1, 2) IS NOT"
			       " kb_bm25(fts, 4, 3, 0.7, 1.5, 1, 0.5, 2, 2, 2, 1, 2)", matches[i]);
		bad += one_int(idx, "SELECT count(*) FROM fts WHERE fts MATCH ?1 AND"
			       " bm25(fts) IS NOT kb_bm25(fts)", matches[i]);
	}
	return bad;
}

static kb_index *open_many(int n)
{
	kb_index *idx = NULL;
	char id[32];
	int i;

	assert_int_equal(kb_index_open(&idx, ":memory:", NULL), 0);
	assert_int_equal(kb_index_begin(idx), 0);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "C-%04d", i);
		put_case(idx, id, (unsigned)i * 7919u + 1u, 0);
	}
	assert_int_equal(kb_index_commit(idx), 0);
	return idx;
}

static void test_sizes_follow_writes(void **state)
{
	kb_index *idx = open_many(700);
	char id[32];
	int i;

	(void)state;
	/* 700 rows span three chunks of 256 */
	assert_int_equal(one_int(idx, "SELECT count(*) FROM lens", NULL), 3);
	assert_int_equal(lens_mismatches(idx), 0);
	assert_int_equal(score_mismatches(idx), 0);

	/* remove, replace and add in one transaction; read before committing */
	assert_int_equal(kb_index_begin(idx), 0);
	for (i = 0; i < 700; i += 7) {
		snprintf(id, sizeof(id), "C-%04d", i);
		assert_int_equal(kb_index_remove(idx, id), 0);
		snprintf(id, sizeof(id), "C-%04d", i + 1);
		put_case(idx, id, (unsigned)i * 31u + 5u, 0);
	}
	assert_int_equal(kb_index_remove(idx, "C-0699"), 0);   /* the last rowid comes back */
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "N-%04d", i);
		put_case(idx, id, (unsigned)i * 13u + 3u, 0);
	}
	assert_int_equal(lens_mismatches(idx), 0);
	assert_int_equal(score_mismatches(idx), 0);
	assert_int_equal(kb_index_commit(idx), 0);
	assert_int_equal(lens_mismatches(idx), 0);
	assert_int_equal(score_mismatches(idx), 0);
	assert_int_equal(one_int(idx, "SELECT count(*) FROM lens", NULL), 4);

	/* every case removed: no chunk left */
	assert_int_equal(kb_index_begin(idx), 0);
	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "C-%04d", i);
		assert_int_equal(kb_index_remove(idx, id), 0);
		snprintf(id, sizeof(id), "N-%04d", i);
		assert_int_equal(kb_index_remove(idx, id), 0);
	}
	assert_int_equal(kb_index_commit(idx), 0);
	assert_int_equal(kb_index_count(idx), 0);
	assert_int_equal(one_int(idx, "SELECT count(*) FROM lens", NULL), 0);
	kb_index_close(idx);
}

static void test_column_too_long_to_store(void **state)
{
	kb_index *idx = open_many(100);

	(void)state;
	put_case(idx, "BIG-1", 99, 70000);     /* notes: 70,000 tokens and more */
	assert_int_equal(lens_mismatches(idx), 0);
	assert_int_equal(score_mismatches(idx), 0);
	kb_index_close(idx);
}

static void test_without_lens_table(void **state)
{
	kb_index *idx = open_many(300);
	kb_hits with = KB_HITS_INIT, without = KB_HITS_INIT;
	size_t i;

	(void)state;
	assert_int_equal(kb_index_search(idx, "pressure fan", NULL, &with), 0);
	assert_int_equal(sqlite3_exec(idx->db, "DELETE FROM lens", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(score_mismatches(idx), 0);
	assert_int_equal(sqlite3_exec(idx->db, "DROP TABLE lens", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(score_mismatches(idx), 0);
	assert_int_equal(kb_index_search(idx, "pressure fan", NULL, &without), 0);
	assert_true(with.count > 0);
	assert_int_equal(with.count, without.count);
	for (i = 0; i < with.count; i++) {
		assert_string_equal(with.items[i].id, without.items[i].id);
		assert_true(with.items[i].score == without.items[i].score);
	}
	kb_hits_release(&with);
	kb_hits_release(&without);
	kb_index_close(idx);
}

/* kb_rank (similar.c's ranking) reads the same sizes. */
static void test_kb_rank_same_without_lens(void **state)
{
	static const char sql[] =
		"WITH r AS MATERIALIZED (SELECT kb_rank(fts, '1500000 700000 2100000', 4, 3, 0.7,"
		" 1.5, 1, 0.5, 2, 2, 2, 1, 2) * rowid AS s FROM fts"
		" WHERE fts MATCH 'pressure OR fan OR \"跳闸\"') SELECT total(s) FROM r";
	kb_index *idx = open_many(600);
	sqlite3_stmt *st = NULL;
	double a, b;

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	a = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(idx->db, "DELETE FROM lens", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	b = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	assert_true(a < 0);
	assert_true(a == b);
	kb_index_close(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_follow_writes),
		cmocka_unit_test(test_column_too_long_to_store),
		cmocka_unit_test(test_without_lens_table),
		cmocka_unit_test(test_kb_rank_same_without_lens),
	};

	return tu_run_isolated(tests);
}
