/*
 * test_similar.c - kb/index.h more-like-this: the right case among decoys
 * for English and Chinese descriptions, explanations, similar_case
 * excluding itself, normalised scores (a duplicate scores about 1),
 * ranking (query tf, per-column length), filters, boosts and options, and
 * bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/index.h"
#include "testutil.h"

static const char *const cases_md[] = {
	"---\nid: CHL-0001\ntitle: Chiller trips on high head pressure after restart\n"
	"equipment: chiller\nmodel: Carrier 30XA\nfailure_mode: high discharge pressure\n"
	"tags: [condenser, fan]\n---\n"
	"## Symptom\nCompressor trips on high head pressure a few minutes after restart; alarm E04.\n\n"
	"## Cause\nCondenser fan contactor failed, fans not running.\n\n"
	"## Resolution\nReplaced the condenser fan contactor.\n",

	"---\nid: CHL-0002\ntitle: Chiller low suction pressure alarm\nequipment: chiller\n"
	"model: York YK\n---\n## Symptom\nLow suction pressure alarm, compressor short cycles.\n\n"
	"## Cause\nRefrigerant leak at the evaporator flange.\n\n## Resolution\nLeak repaired, recharged.\n",

	"---\nid: CHL-0003\ntitle: Chiller oil pressure fault\nequipment: chiller\nmodel: Carrier 30XA\n---\n"
	"## Symptom\nCompressor stops on oil pressure differential fault.\n\n"
	"## Cause\nOil filter blocked.\n\n## Resolution\nReplaced oil filter.\n",

	"---\nid: AHU-0004\ntitle: Supply fan belt squeals at start\nequipment: AHU\n---\n"
	"## Symptom\nLoud squeal from the supply fan belt after start.\n\n## Cause\nWorn belt.\n\n"
	"## Resolution\nNew belt fitted and tensioned.\n",

	"---\nid: PMP-0005\ntitle: Pump cavitation noise\nequipment: pump\n---\n"
	"## Symptom\nGravel noise from the pump, discharge pressure fluctuates.\n\n"
	"## Cause\nSuction strainer clogged.\n\n## Resolution\nCleaned the strainer.\n",

	"---\nid: BLR-0006\ntitle: Boiler flame failure on restart\nequipment: boiler\n---\n"
	"## Symptom\nBurner locks out with flame failure after a restart.\n\n"
	"## Cause\nDirty flame rod.\n\n## Resolution\nCleaned the flame rod.\n",

	"---\nid: ELE-0007\ntitle: 配电柜断路器频繁跳闸\nequipment: 配电柜\n---\n"
	"## 故障现象\n空调启动时主断路器跳闸，复位后又跳。\n\n"
	"## 原因\n压缩机绕组绝缘下降，对地短路。\n\n## 处理方法\n更换压缩机，检查绝缘电阻。\n",

	"---\nid: CT-0008\ntitle: 冷却塔风机振动大\nequipment: 冷却塔\n---\n"
	"## 故障现象\n冷却塔风机运行时振动和噪音很大。\n\n## 原因\n风机叶片积垢，动平衡失效。\n\n"
	"## 处理方法\n清洗叶片并做动平衡。\n",

	"---\nid: PMP-0009\ntitle: 水泵机械密封漏水\nequipment: pump\n---\n"
	"## 故障现象\n水泵轴封处持续漏水。\n\n## 原因\n机械密封磨损。\n\n## 处理方法\n更换机械密封。\n",

	"---\nid: ELE-0010\ntitle: 变频器过流报警\nequipment: 变频器\n---\n"
	"## 故障现象\n水泵变频器启动时报过流故障，停机。\n\n## 原因\n加速时间太短。\n\n"
	"## 处理方法\n延长加速时间。\n",

	"---\nid: ELE-0011\ntitle: 照明回路漏电开关跳闸\nequipment: 配电柜\n---\n"
	"## 故障现象\n下雨后室外照明回路漏电开关跳闸。\n\n## 原因\n灯具进水。\n\n## 处理方法\n更换防水灯具。\n",
};
#define NCASES (sizeof(cases_md) / sizeof(cases_md[0]))

static void put_md(kb_index *idx, const char *md)
{
	kb_case *c = NULL;

	assert_int_equal(kb_case_parse(&c, md, strlen(md), NULL, NULL), 0);
	assert_int_equal(kb_index_put(idx, c, "cases/x.md"), 0);
	kb_case_free(c);
}

static kb_index *open_filled(void)
{
	kb_index *idx = NULL;
	size_t i;

	assert_int_equal(kb_index_open(&idx, ":memory:", NULL), 0);
	assert_int_equal(kb_index_begin(idx), 0);
	for (i = 0; i < NCASES; i++)
		put_md(idx, cases_md[i]);
	assert_int_equal(kb_index_commit(idx), 0);
	return idx;
}

static void similar_ok(kb_index *idx, const char *text, const kb_search_options *o, kb_hits *h)
{
	if (kb_index_similar(idx, text, o, h))
		fail_msg("similar: %s", kb_error_last()->message);
}

static void test_english_description(void **state)
{
	kb_index *idx = open_filled();
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT;
	size_t i;

	(void)state;
	o.explain = 1;
	similar_ok(idx, "After a restart the compressor tripped again, head pressure climbing"
		   " fast, and the condenser fans do not seem to run.", &o, &h);
	assert_true(h.count >= 2);
	assert_string_equal(h.items[0].id, "CHL-0001");
	for (i = 1; i < h.count; i++)
		assert_true(h.items[i].score <= h.items[i - 1].score);
	assert_true(h.items[0].score > 0);
	assert_non_null(h.items[0].explain);
	assert_non_null(strstr(h.items[0].explain, "condens"));
	assert_non_null(strstr(h.items[0].explain, "symptom: "));
	assert_non_null(h.items[0].snippet);
	kb_hits_release(&h);
	kb_index_close(idx);
}

/* The snippet without markers and ellipses is one piece of `text` (FTS5's
 * snippet() repeated text when CJK bigram matches overlapped). */
static void assert_snippet_within(const char *snippet, const char *const *texts, size_t n)
{
	kb_buf plain = KB_BUF_INIT;
	const char *p;
	size_t i;

	assert_non_null(snippet);
	for (p = snippet; *p; p++) {
		if (*p == '[' || *p == ']')
			continue;
		if (!strncmp(p, "…", strlen("…"))) {
			p += strlen("…") - 1;
			continue;
		}
		kb_buf_putc(&plain, *p);
	}
	for (i = 0; i < n && !strstr(texts[i], plain.ptr); i++)
		;
	if (i == n)
		fail_msg("snippet '%s' is not a piece of the case", snippet);
	kb_buf_release(&plain);
}

static void test_chinese_description(void **state)
{
	kb_index *idx = open_filled();
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT;

	(void)state;
	o.explain = 1;
	similar_ok(idx, "空调一启动配电柜的主断路器就跳闸，复位了还是跳", &o, &h);
	assert_true(h.count >= 1);
	assert_string_equal(h.items[0].id, "ELE-0007");
	assert_non_null(strstr(h.items[0].explain, "跳闸"));
	{
		static const char *const parts[] = {
			"配电柜断路器频繁跳闸", "空调启动时主断路器跳闸，复位后又跳。",
		};
		assert_snippet_within(h.items[0].snippet, parts, 2);
		assert_non_null(strstr(h.items[0].snippet, "跳闸]"));
	}
	kb_hits_release(&h);

	similar_ok(idx, "冷却塔的风机振动很厉害", NULL, &h);
	assert_true(h.count >= 1);
	assert_string_equal(h.items[0].id, "CT-0008");
	kb_hits_release(&h);

	/* without single characters as terms the answer stays */
	o.cjk_unigrams = -1;
	similar_ok(idx, "水泵轴封漏水", &o, &h);
	assert_true(h.count >= 1);
	assert_string_equal(h.items[0].id, "PMP-0009");
	kb_hits_release(&h);
	kb_index_close(idx);
}

static void test_similar_case_excludes_itself(void **state)
{
	kb_index *idx = open_filled();
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT;

	(void)state;
	o.limit = 20;
	assert_int_equal(kb_index_similar_case(idx, "CHL-0001", &o, &h), 0);
	assert_true(h.count >= 1);
	assert_int_equal(tu_hit_position(&h, "CHL-0001"), -1);
	assert_string_equal(h.items[0].equipment, "chiller");
	kb_hits_release(&h);

	assert_int_equal(kb_index_similar_case(idx, "ELE-0007", &o, &h), 0);
	assert_int_equal(tu_hit_position(&h, "ELE-0007"), -1);
	assert_string_equal(h.items[0].id, "ELE-0011");
	kb_hits_release(&h);

	assert_int_equal(kb_index_similar_case(idx, "NOPE-1", &o, &h), KB_ENOTFOUND);
	assert_int_equal(h.count, 0);
	kb_index_close(idx);
}

static void test_scores_are_normalised(void **state)
{
	kb_index *idx = open_filled();
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT;
	kb_buf dup = KB_BUF_INIT;
	const char *body = strstr(cases_md[0], "\ntitle:");

	(void)state;
	/* an exact copy under another id */
	kb_buf_printf(&dup, "---\nid: CHL-0100%s", body);
	put_md(idx, dup.ptr);
	assert_int_equal(kb_index_similar_case(idx, "CHL-0001", &o, &h), 0);
	assert_string_equal(h.items[0].id, "CHL-0100");
	assert_true(h.items[0].score > 0.95 && h.items[0].score < 1.05);
	assert_true(h.count >= 2 && h.items[1].score < 0.6);
	kb_hits_release(&h);

	/* free text: a case's own words score near 1, unrelated text low */
	similar_ok(idx, "Chiller trips on high head pressure after restart. Compressor trips on"
		   " high head pressure a few minutes after restart; alarm E04.", NULL, &h);
	assert_true(h.count >= 2);
	assert_true(h.items[0].score > 0.6 && h.items[0].score < 1.3);
	kb_hits_release(&h);
	similar_ok(idx, "flame rod", NULL, &h);
	assert_string_equal(h.items[0].id, "BLR-0006");
	kb_hits_release(&h);
	kb_buf_release(&dup);
	kb_index_close(idx);
}

static void test_filters_boosts_options(void **state)
{
	kb_index *idx = open_filled();
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT;
	double plain;
	int pos;

	(void)state;
	o.limit = 20;
	similar_ok(idx, "compressor pressure restart", &o, &h);
	pos = tu_hit_position(&h, "CHL-0003");
	assert_true(pos > 0);
	plain = h.items[pos].score;
	kb_hits_release(&h);

	o.boost_model = "carrier 30xa";
	similar_ok(idx, "compressor pressure restart", &o, &h);
	pos = tu_hit_position(&h, "CHL-0003");
	assert_true(pos >= 0);
	/* normalised by the same factor, so the boosted hit keeps its score and
	 * the others lose theirs */
	assert_true(h.items[pos].score > plain * 0.99 && h.items[pos].score < plain * 1.01);
	assert_true(tu_hit_position(&h, "CHL-0002") < 0 ||
		    h.items[tu_hit_position(&h, "CHL-0002")].score < h.items[pos].score);
	kb_hits_release(&h);

	o.boost_model = NULL;
	o.equipment = "Boiler";
	similar_ok(idx, "compressor pressure restart", &o, &h);
	assert_int_equal(h.count, 1);
	assert_string_equal(h.items[0].id, "BLR-0006");
	kb_hits_release(&h);

	o.equipment = NULL;
	o.exclude_id = "CHL-0001";
	o.max_terms = 1;
	o.limit = 1;
	similar_ok(idx, "condenser contactor", &o, &h);
	assert_true(h.count <= 1);
	assert_int_equal(tu_hit_position(&h, "CHL-0001"), -1);
	kb_hits_release(&h);
	kb_index_close(idx);
}

static void test_bad_and_empty_input(void **state)
{
	kb_index *idx = open_filled();
	kb_index *empty = NULL;
	kb_hits h = KB_HITS_INIT;
	kb_buf big = KB_BUF_INIT;
	size_t i;

	(void)state;
	similar_ok(idx, "", NULL, &h);
	assert_int_equal(h.count, 0);
	similar_ok(idx, "zzqx wibble ... !!!", NULL, &h);
	assert_int_equal(h.count, 0);
	similar_ok(idx, "\" NEAR( * AND OR NOT -x title:", NULL, &h);
	kb_hits_release(&h);
	assert_int_equal(kb_index_similar(idx, "pump \xff", NULL, &h), KB_EINPUT);
	assert_int_equal(h.count, 0);
	/* a long description is cut, not refused */
	for (i = 0; big.len < 3 * 1024 * 1024; i++)
		kb_buf_puts(&big, i % 1000 ? "filler words here 水泵 " : "strainer clogged ");
	similar_ok(idx, big.ptr, NULL, &h);
	assert_true(h.count >= 1);
	kb_hits_release(&h);

	assert_int_equal(kb_index_open(&empty, ":memory:", NULL), 0);
	similar_ok(empty, "pump noise", NULL, &h);
	assert_int_equal(h.count, 0);
	kb_index_close(empty);
	kb_buf_release(&big);
	kb_index_close(idx);
}

static void test_terms_written_after_the_df_snapshot(void **state)
{
	kb_index *idx = open_filled();
	kb_hits h = KB_HITS_INIT;

	(void)state;
	similar_ok(idx, "flame rod", NULL, &h);          /* takes the df snapshot */
	assert_string_equal(h.items[0].id, "BLR-0006");
	kb_hits_release(&h);
	put_md(idx, "---\nid: NEW-1\ntitle: Flux capacitor zanzibar fault\n---\n"
	       "## Symptom\nThe flux capacitor hums.\n");
	similar_ok(idx, "zanzibar capacitor humming", NULL, &h);
	assert_true(h.count >= 1);
	assert_string_equal(h.items[0].id, "NEW-1");
	kb_hits_release(&h);
	assert_int_equal(kb_index_remove(idx, "NEW-1"), 0);
	similar_ok(idx, "zanzibar capacitor humming", NULL, &h);
	assert_int_equal(h.count, 0);
	kb_index_close(idx);
}

/* Ranking (kb_rank, docs/internals/index.md): the description's term
 * frequencies count, and a column's length is judged against that column's
 * average, not against the whole case. */
static void test_ranking_weights(void **state)
{
	kb_index *idx = open_filled();
	kb_hits h = KB_HITS_INIT;

	(void)state;
	put_md(idx, "---\nid: Q-1\ntitle: Valve report\n---\n## Symptom\nThe valve leaks.\n");
	put_md(idx, "---\nid: Q-2\ntitle: Gasket report\n---\n## Symptom\nThe gasket leaks.\n");
	/* equal idf: the word written three times decides (a tie went to Q-1) */
	similar_ok(idx, "gasket gasket gasket valve", NULL, &h);
	assert_true(h.count >= 2);
	assert_string_equal(h.items[0].id, "Q-2");
	assert_string_equal(h.items[1].id, "Q-1");
	kb_hits_release(&h);

	/* same total length; the word in a short symptom (under a long title)
	 * beats the word in a long symptom (under a short title) */
	put_md(idx, "---\nid: Q-3\ntitle: Log\n---\n## Symptom\nQuuxo rattles near lift motor"
	       " panel during weekly generator load test.\n");
	put_md(idx, "---\nid: Q-4\ntitle: Quarterly round north plant room roof lift motor panel"
	       " generator load\n---\n## Symptom\nQuuxo rattles.\n");
	similar_ok(idx, "quuxo", NULL, &h);
	assert_true(h.count >= 2);
	assert_string_equal(h.items[0].id, "Q-4");
	kb_hits_release(&h);
	kb_index_close(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_english_description),
		cmocka_unit_test(test_chinese_description),
		cmocka_unit_test(test_similar_case_excludes_itself),
		cmocka_unit_test(test_scores_are_normalised),
		cmocka_unit_test(test_ranking_weights),
		cmocka_unit_test(test_filters_boosts_options),
		cmocka_unit_test(test_bad_and_empty_input),
		cmocka_unit_test(test_terms_written_after_the_df_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
