/*
 * test_duplicates.c - kb/index.h kb_index_duplicates: a near-identical
 * pair found once, best first, ids ordered; unrelated cases left out;
 * threshold, limit and status options; the synonym widening that lets an
 * English case meet its Chinese twin; an empty index.  Links are read from
 * a store, which tests/cli/t_duplicates.sh covers end to end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/index.h"
#include "testutil.h"

static const char *const cases_md[] = {
	"---\nid: CHL-0001\ntitle: Chiller trips on high head pressure after restart\n"
	"equipment: chiller\nmodel: Carrier 30XA-0502\nstatus: validated\n---\n"
	"## Symptom\nCompressor trips on high head pressure twenty minutes after restart.\n\n"
	"## Cause\nCondenser fan motor seized, fan not running.\n\n"
	"## Resolution\nReplaced the condenser fan motor.\n",

	/* a copy written again by someone else: a near duplicate of CHL-0001 */
	"---\nid: CHL-0011\ntitle: Chiller tripping on high head pressure after a restart\n"
	"equipment: chiller\nmodel: Carrier 30XA-0502\nstatus: draft\n---\n"
	"## Symptom\nThe compressor trips on high head pressure about twenty minutes after restart.\n\n"
	"## Cause\nCondenser fan motor seized.\n\n## Resolution\nNew condenser fan motor fitted.\n",

	/* the Chinese twin: shares only the model code and synonym terms */
	"---\nid: CHL-0006\ntitle: 冷机开机后高压跳闸\nequipment: chiller\n"
	"model: 开利 30XA-0502\nstatus: validated\n---\n"
	"## 故障现象\n冷机开机二十分钟后高压跳闸。\n\n## 故障原因\n冷凝风机电机卡死。\n\n"
	"## 处理方法\n更换冷凝风机电机。\n",

	"---\nid: AHU-0004\ntitle: Supply fan belt squeals at start\nequipment: AHU\n"
	"status: validated\n---\n"
	"## Symptom\nLoud squeal from the supply fan belt after start.\n\n## Cause\nWorn belt.\n\n"
	"## Resolution\nNew belt fitted and tensioned.\n",

	"---\nid: PMP-0005\ntitle: Pump cavitation noise\nequipment: pump\nstatus: validated\n---\n"
	"## Symptom\nGravel noise from the pump, discharge pressure fluctuates.\n\n"
	"## Cause\nSuction strainer clogged.\n\n## Resolution\nCleaned the strainer.\n",

	"---\nid: BLR-0006\ntitle: Boiler flame failure on restart\nequipment: boiler\n"
	"status: validated\n---\n"
	"## Symptom\nBurner locks out with flame failure after a restart.\n\n"
	"## Cause\nDirty flame rod.\n\n## Resolution\nCleaned the flame rod.\n",

	"---\nid: CT-0008\ntitle: 冷却塔风机振动大\nequipment: 冷却塔\nstatus: validated\n---\n"
	"## 故障现象\n冷却塔风机运行时振动和噪音很大。\n\n## 原因\n风机叶片积垢，动平衡失效。\n\n"
	"## 处理方法\n清洗叶片并做动平衡。\n",
};
#define NCASES (sizeof(cases_md) / sizeof(cases_md[0]))

static const char synonyms_txt[] =
	"chiller, 冷机, 冷水机组\ntrip, 跳闸\nhigh head pressure, 高压\n"
	"condenser fan, 冷凝风机\nmotor, 电机\nseized, 卡死\nrestart, 开机\n";

static kb_index *open_filled(kb_synonyms *syn)
{
	kb_index_options io = KB_INDEX_OPTIONS_INIT;
	kb_index *idx = NULL;
	kb_case *c = NULL;
	size_t i;

	io.synonyms = syn;
	assert_int_equal(kb_index_open(&idx, ":memory:", &io), 0);
	assert_int_equal(kb_index_begin(idx), 0);
	for (i = 0; i < NCASES; i++) {
		assert_int_equal(kb_case_parse(&c, cases_md[i], strlen(cases_md[i]), NULL, NULL), 0);
		assert_int_equal(kb_index_put(idx, c, "cases/x.md"), 0);
		kb_case_free(c);
	}
	assert_int_equal(kb_index_commit(idx), 0);
	return idx;
}

static void dups_ok(kb_index *idx, const kb_duplicates_options *o, kb_duplicate **d, size_t *n)
{
	if (kb_index_duplicates(d, n, idx, NULL, o))
		fail_msg("duplicates: %s", kb_error_last()->message);
}

/* Score of the pair (a, b) in the list, or -1 when absent. */
static double score_of(const kb_duplicate *d, size_t n, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(d[i].a, a) && !strcmp(d[i].b, b))
			return d[i].score;
	return -1;
}

static void test_near_copy_found_once(void **state)
{
	kb_index *idx = open_filled(NULL);
	kb_duplicate *d = NULL;
	size_t n = 0, i, j;

	(void)state;
	dups_ok(idx, NULL, &d, &n);
	assert_true(n >= 1);
	/* best first: the rewritten copy, ids in order, titles filled */
	assert_string_equal(d[0].a, "CHL-0001");
	assert_string_equal(d[0].b, "CHL-0011");
	assert_string_equal(d[0].title_b, "Chiller tripping on high head pressure after a restart");
	assert_true(d[0].score > 0.6);
	for (i = 0; i < n; i++) {
		assert_true(strcmp(d[i].a, d[i].b) < 0);
		assert_true(d[i].score >= KB_DUPLICATES_THRESHOLD);
		assert_true(i == 0 || d[i - 1].score >= d[i].score);
		for (j = 0; j < i; j++)
			assert_false(!strcmp(d[i].a, d[j].a) && !strcmp(d[i].b, d[j].b));
		/* unrelated equipment never pairs up */
		assert_null(strstr(d[i].a, "AHU"));
		assert_null(strstr(d[i].b, "PMP"));
	}
	kb_duplicates_free(d, n);
	kb_index_close(idx);
}

static void test_options(void **state)
{
	kb_duplicates_options o = KB_DUPLICATES_OPTIONS_INIT;
	kb_index *idx = open_filled(NULL);
	kb_duplicate *d = NULL;
	size_t n = 0, all;

	(void)state;
	o.threshold = 0.01;
	dups_ok(idx, &o, &d, &n);
	all = n;
	assert_true(all >= 3);
	kb_duplicates_free(d, n);

	o.limit = 2;
	dups_ok(idx, &o, &d, &n);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].b, "CHL-0011");
	kb_duplicates_free(d, n);

	/* either case of the pair has the status: CHL-0011 is the only draft */
	o.limit = 0;
	o.status = "draft";
	dups_ok(idx, &o, &d, &n);
	assert_true(n >= 1 && n < all);
	for (size_t i = 0; i < n; i++)
		assert_true(!strcmp(d[i].a, "CHL-0011") || !strcmp(d[i].b, "CHL-0011"));
	kb_duplicates_free(d, n);
	o.status = "archived,obsolete";
	dups_ok(idx, &o, &d, &n);
	assert_int_equal(n, 0);
	assert_null(d);

	/* nothing reaches a threshold above 1 by much */
	o.status = NULL;
	o.threshold = 5;
	dups_ok(idx, &o, &d, &n);
	assert_int_equal(n, 0);
	kb_index_close(idx);
}

/* The Chinese twin shares only "30XA-0502" with CHL-0001's words; the
 * synonym groups bring them together. */
static void test_synonyms_bridge_languages(void **state)
{
	kb_duplicates_options o = KB_DUPLICATES_OPTIONS_INIT;
	kb_synonyms *syn = NULL;
	kb_index *plain = open_filled(NULL), *idx;
	kb_duplicate *d = NULL;
	size_t n = 0;
	double before, after;

	(void)state;
	assert_int_equal(kb_synonyms_parse(&syn, synonyms_txt, strlen(synonyms_txt), "s"), 0);
	idx = open_filled(syn);
	o.threshold = 0.001;
	dups_ok(plain, &o, &d, &n);
	before = score_of(d, n, "CHL-0001", "CHL-0006");
	kb_duplicates_free(d, n);
	dups_ok(idx, &o, &d, &n);
	after = score_of(d, n, "CHL-0001", "CHL-0006");
	kb_duplicates_free(d, n);
	assert_true(after > 0);
	assert_true(after > 2 * before);
	assert_true(after >= KB_DUPLICATES_THRESHOLD);
	/* and the twin does not outrank the English copy */
	dups_ok(idx, NULL, &d, &n);
	assert_string_equal(d[0].b, "CHL-0011");
	kb_duplicates_free(d, n);
	kb_index_close(idx);
	kb_index_close(plain);
	kb_synonyms_free(syn);
}

static void test_empty_index(void **state)
{
	kb_index *idx = NULL;
	kb_duplicate *d = (kb_duplicate *)1;
	size_t n = 7;

	(void)state;
	assert_int_equal(kb_index_open(&idx, ":memory:", NULL), 0);
	assert_int_equal(kb_index_duplicates(&d, &n, idx, NULL, NULL), 0);
	assert_null(d);
	assert_int_equal(n, 0);
	kb_duplicates_free(NULL, 0);
	kb_index_close(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_near_copy_found_once),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_synonyms_bridge_languages),
		cmocka_unit_test(test_empty_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
