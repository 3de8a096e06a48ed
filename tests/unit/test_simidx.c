/*
 * test_simidx.c - the in-memory similar-case index (core/simidx.h) gives
 * what kb_index_similar() gives: the same hits in the same order with the
 * same scores, on the sample KB (English and Chinese) plus cases with
 * codes, over fixed and random descriptions and several option sets (one
 * and two stages), with no lookup left to the SQL path; and the lookups it
 * does leave to it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/case.h"
#include "kb/error.h"
#include "kb/files.h"
#include "kb/index.h"
#include "kb/synonyms.h"
#include "index_internal.h"
#include "simidx.h"
#include "testutil.h"

/* Cases whose codes make query phrases (30XA-0502 is the phrase 30xa 0502,
 * which also matches the words written apart). */
static const char *const extra_md[] = {
	"---\nid: CHL-0901\ntitle: 30XA-0502 trips on HP after restart\nequipment: chiller\n"
	"model: 30XA-0502\n---\n## Symptom\nUnit 30XA-0502 trips, code E-04, fan 2 mtr u/s.\n\n"
	"## Resolution\nRe-tensioned the belt, replaced fan motor.\n",

	"---\nid: CHL-0902\ntitle: Chiller 30xa 0502 low oil pressure\nequipment: chiller\n---\n"
	"## Symptom\nThe 30xa 0502 unit stops; E 04 shown. Motor u s.\n",

	"---\nid: PMP-0903\ntitle: 3号楼2号冷机高压跳闸 E04\nequipment: 冷机\n---\n"
	"## 故障现象\n3月4日 3号楼2号冷机高压跳闸，检查冷凝风机，2号风机电机烧毁，更换后正常。\n",

	"---\nid: AHU-0904\ntitle: AHU-3 v1.2 firmware belt re-tension\nequipment: AHU\n---\n"
	"## Symptom\nAfter firmware v1.2 the AHU-3 supply fan belt slips; high-pressure alarm.\n",
};

typedef struct {
	kb_index *idx;
	kb_synonyms *syn;
	char **bodies;
	size_t nbodies;
} fixture;

static fixture fx;

static void put_md(kb_index *idx, const char *md, size_t len, const char *path)
{
	kb_case *c = NULL;

	if (kb_case_parse(&c, md, len, path, NULL))
		fail_msg("%s: %s", path, kb_error_last()->message);
	assert_int_equal(kb_index_put(idx, c, path), 0);
	kb_case_free(c);
}

static void keep_body(const char *md)
{
	const char *b = strstr(md, "\n---\n");

	fx.bodies = realloc(fx.bodies, (fx.nbodies + 1) * sizeof(char *));
	fx.bodies[fx.nbodies++] = strdup(b ? b + 5 : md);
}

static int add_file(const char *path, void *payload)
{
	size_t len;
	char *md = tu_read_file(path, &len);

	put_md(payload, md, len, path);
	keep_body(md);
	free(md);
	return 0;
}

static int setup(void **state)
{
	static const char *const exts[] = { ".md", NULL };
	size_t i;

	(void)state;
	kb_index_options io = KB_INDEX_OPTIONS_INIT;

	memset(&fx, 0, sizeof(fx));
	assert_int_equal(kb_synonyms_load(&fx.syn, tu_srcpath("kb/synonyms.txt")), 0);
	io.synonyms = fx.syn;
	assert_int_equal(kb_index_open(&fx.idx, ":memory:", &io), 0);
	assert_int_equal(kb_index_begin(fx.idx), 0);
	assert_int_equal(kb_files_walk(tu_srcpath("kb/cases"), exts, add_file, fx.idx), 0);
	for (i = 0; i < sizeof(extra_md) / sizeof(extra_md[0]); i++) {
		put_md(fx.idx, extra_md[i], strlen(extra_md[i]), "cases/extra.md");
		keep_body(extra_md[i]);
	}
	assert_int_equal(kb_index_commit(fx.idx), 0);
	/* both paths then read exact document frequencies */
	assert_int_equal(kb_index__refresh_df(fx.idx), 0);
	assert_true(fx.nbodies > 90);
	return 0;
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	kb_index_close(fx.idx);
	kb_synonyms_free(fx.syn);
	for (i = 0; i < fx.nbodies; i++)
		free(fx.bodies[i]);
	free(fx.bodies);
	return 0;
}

/* Same ids in the same order, same scores. */
static void compare(const char *text, kb_hits *a, kb_hits *b)
{
	size_t i;

	if (a->count != b->count)
		fail_msg("'%s': %zu hits by SQL, %zu in memory", text, a->count, b->count);
	for (i = 0; i < a->count; i++) {
		double x = a->items[i].score, y = b->items[i].score;
		if (strcmp(a->items[i].id, b->items[i].id) || fabs(x - y) > 1e-9 * fmax(1, fabs(x)))
			fail_msg("'%s' hit %zu: %s %.17g by SQL, %s %.17g in memory", text, i,
				 a->items[i].id, x, b->items[i].id, y);
		assert_string_equal(a->items[i].title ? a->items[i].title : "",
				    b->items[i].title ? b->items[i].title : "");
	}
	kb_hits_release(a);
	kb_hits_release(b);
}

/* Both lookups of `text` with `o`. */
static void same_hits(kb_simidx *s, const char *text, const kb_search_options *o)
{
	kb_hits a = KB_HITS_INIT, b = KB_HITS_INIT;

	if (kb_index_similar(fx.idx, text, o, &a))
		fail_msg("similar: %s", kb_error_last()->message);
	if (kb__simidx_similar(s, text, o, &b))
		fail_msg("simidx: %s", kb_error_last()->message);
	compare(text, &a, &b);
}

/* Both lookups of case `id` (kb duplicates widens it with synonyms). */
static void same_case_hits(kb_simidx *s, const char *id, const kb_search_options *o, int expand)
{
	kb_hits a = KB_HITS_INIT, b = KB_HITS_INIT;

	if (kb_index__similar_case(fx.idx, id, o, expand, &a))
		fail_msg("similar_case: %s", kb_error_last()->message);
	if (kb__simidx_similar_case(s, id, o, expand, &b))
		fail_msg("simidx case: %s", kb_error_last()->message);
	compare(id, &a, &b);
}

/* Start of the UTF-8 character at or before i. */
static size_t char_start(const char *s, size_t i)
{
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* 1 to 3 random pieces of random case bodies, at character boundaries. */
static void random_text(kb_buf *out, unsigned *seed)
{
	int n = 1 + (int)(rand_r(seed) % 3), i;

	kb_buf_clear(out);
	for (i = 0; i < n; i++) {
		const char *b = fx.bodies[(size_t)rand_r(seed) % fx.nbodies];
		size_t len = strlen(b), from, to;
		if (len == 0)
			continue;
		from = char_start(b, (size_t)rand_r(seed) % len);
		to = from + 8 + (size_t)rand_r(seed) % 120;
		to = to < len ? char_start(b, to) : len;
		kb_buf_put(out, b + from, to - from);
		kb_buf_putc(out, ' ');
	}
}

static void test_same_as_sql(void **state)
{
	static const char *const fixed[] = {
		"30XA-0502 trips on high head pressure", "30xa 0502", "fan 2 mtr u/s",
		"E-04 alarm after restart", "re-tensioned belt v1.2", "AHU-3 high-pressure",
		"3号楼2号冷机高压跳闸", "冷机 跳闸", "闸", "chiller", "", "the of and",
		"Compressor trips on high head pressure a few minutes after restart; alarm E04.",
		"空调启动时主断路器跳闸，复位后又跳。压缩机绕组绝缘下降",
	};
	kb_search_options o[6];
	kb_simidx *s = NULL;
	kb_buf text = KB_BUF_INIT;
	unsigned seed = 42;
	size_t i, j, q = 0;

	(void)state;
	for (j = 0; j < 6; j++)
		o[j] = (kb_search_options)KB_SEARCH_OPTIONS_INIT;
	o[1].limit = 1;
	o[1].boost_equipment = "chiller";
	o[2].cjk_unigrams = -1;
	o[2].boost_model = "30XA-0502";
	o[3].max_terms = 5;
	o[3].limit = 3;
	o[4].exclude_id = "CHL-0901";
	o[3].rerank = 4;           /* the second stage cut at 4 candidates */
	o[4].max_postings = 40;
	o[5].rerank = -1;          /* one stage */
	assert_int_equal(kb__simidx_build(&s, fx.idx), 0);
	for (j = 0; j < 6; j++) {
		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++, q++)
			same_hits(s, fixed[i], &o[j]);
		for (i = 0; i < fx.nbodies; i++, q++)
			same_hits(s, fx.bodies[i], &o[j]);
		for (i = 0; i < 300; i++, q++) {
			random_text(&text, &seed);
			same_hits(s, text.ptr, &o[j]);
		}
	}
	assert_true(q > 2400);
	assert_int_equal(kb__simidx_fallbacks(s), 0);
	assert_true(kb__simidx_bytes(s) > 0);
	kb__simidx_free(s);
	kb_buf_release(&text);
}

/* similar_case for every case, plain and as kb duplicates runs it
 * (synonym expansion, many terms, a small postings budget). */
static void test_case_same_as_sql(void **state)
{
	kb_search_options o[3] = { KB_SEARCH_OPTIONS_INIT, KB_SEARCH_OPTIONS_INIT,
				   KB_SEARCH_OPTIONS_INIT };
	kb_hits none = KB_HITS_INIT;
	sqlite3_stmt *st = NULL;
	kb_simidx *s = NULL;
	size_t n = 0;

	(void)state;
	o[1].limit = 10;
	o[1].max_terms = 1000;
	o[1].max_postings = 2000;
	o[2].max_terms = 8;        /* a case with the second stage */
	o[2].rerank = 30;
	o[2].limit = 5;
	assert_int_equal(kb__simidx_build(&s, fx.idx), 0);
	assert_int_equal(sqlite3_prepare_v2(fx.idx->db, "SELECT id FROM docs", -1, &st, NULL), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		same_case_hits(s, id, &o[0], 0);
		same_case_hits(s, id, &o[1], 1);
		same_case_hits(s, id, &o[2], 0);
		n++;
	}
	sqlite3_finalize(st);
	assert_true(n > 90);
	assert_int_equal(kb__simidx_fallbacks(s), 0);
	assert_int_equal(kb__simidx_similar_case(s, "NO-SUCH", NULL, 0, &none), KB_ENOTFOUND);
	kb__simidx_free(s);
}

/* Filters and explanations are the SQL path's; the answer is still its. */
static void test_fallbacks(void **state)
{
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_simidx *s = NULL;

	(void)state;
	assert_int_equal(kb__simidx_build(&s, fx.idx), 0);
	o.equipment = "chiller";
	same_hits(s, "trips on high head pressure", &o);
	assert_int_equal(kb__simidx_fallbacks(s), 1);
	o.equipment = NULL;
	o.max_df_ratio = 0.9;
	same_hits(s, "trips on high head pressure", &o);
	assert_int_equal(kb__simidx_fallbacks(s), 2);
	kb__simidx_free(s);
}

static void test_bad_input(void **state)
{
	kb_hits h = KB_HITS_INIT;
	kb_simidx *s = NULL;

	(void)state;
	assert_int_equal(kb__simidx_build(&s, fx.idx), 0);
	assert_int_equal(kb__simidx_similar(s, "bad \xff utf-8", NULL, &h), KB_EINPUT);
	assert_int_equal(h.count, 0);
	assert_int_equal(kb__simidx_similar(s, NULL, NULL, &h), 0);
	assert_int_equal(h.count, 0);
	kb__simidx_free(s);
}

static void test_empty_index(void **state)
{
	kb_index *idx = NULL;
	kb_simidx *s = NULL;
	kb_hits h = KB_HITS_INIT;

	(void)state;
	assert_int_equal(kb_index_open(&idx, ":memory:", NULL), 0);
	assert_int_equal(kb__simidx_build(&s, idx), 0);
	assert_int_equal(kb__simidx_similar(s, "chiller trips", NULL, &h), 0);
	assert_int_equal(h.count, 0);
	kb__simidx_free(s);
	kb_index_close(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_sql),
		cmocka_unit_test(test_case_same_as_sql),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_empty_index),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
