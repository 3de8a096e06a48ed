/*
 * test_similar_rerank.c - the second stage of a similar lookup
 * (core/similar_rerank.c): terms the first stage left out re-order its
 * candidates, only the first `rerank` candidates are re-scored, ties go by
 * rowid, a duplicate still scores 1, and the SQL and in-memory paths give
 * the same hits with the same scores for every case of it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/case.h"
#include "kb/error.h"
#include "kb/index.h"
#include "index_internal.h"
#include "simidx.h"
#include "testutil.h"

/* "vibration" is the rarest word of the query "pump noise vibration" (in 4
 * of 17 cases; "pump" in 7, "noise" in 5, both under half of them):
 * with max_terms 1 the first stage selects it alone, and V-1 and V-2 tie
 * (same lengths) ahead of the long V-3.  "pump" and "noise" are the
 * common terms the second stage adds; V-4 is a copy of V-2. */
static const char *const cases_md[] = {
	"---\nid: V-1\ntitle: Fan vibration\nequipment: fan\n---\n## Symptom\nvibration alarm on the fan.\n",
	"---\nid: V-2\ntitle: Pump vibration\n---\n## Symptom\nvibration alarm on the pump.\n",
	("---\nid: V-3\ntitle: Tower vibration\n---\n## Symptom\nvibration alarm with pump noise"
	 " reported by operators on the night shift near the old cooling tower basin.\n"),
	"---\nid: V-4\ntitle: Pump vibration\n---\n## Symptom\nvibration alarm on the pump.\n",
	"---\nid: F-1\ntitle: Pump noise\n---\n## Symptom\nnoise from the pump.\n",
	"---\nid: F-2\ntitle: Noisy pump\n---\n## Symptom\npump makes a noise at start.\n",
	"---\nid: F-3\ntitle: Pump seal\n---\n## Symptom\npump seal leaks, some noise.\n",
	"---\nid: F-4\ntitle: Pump bearing\n---\n## Symptom\npump bearing noise.\n",
	"---\nid: F-5\ntitle: Boiler lockout\n---\n## Symptom\nburner locks out.\n",
	"---\nid: F-6\ntitle: Boiler flame\n---\n## Symptom\nflame failure at start.\n",
	"---\nid: F-7\ntitle: Chiller trip\n---\n## Symptom\nhigh head pressure trip.\n",
	"---\nid: F-8\ntitle: Chiller oil\n---\n## Symptom\noil pressure fault.\n",
	"---\nid: F-9\ntitle: Belt squeal\n---\n## Symptom\nbelt squeals at start.\n",
	"---\nid: F-10\ntitle: Breaker trip\n---\n## Symptom\nmain breaker trips.\n",
	"---\nid: F-11\ntitle: Lamp fault\n---\n## Symptom\nlamps flicker after rain.\n",
	"---\nid: F-12\ntitle: Drive fault\n---\n## Symptom\ndrive overcurrent at start.\n",
	"---\nid: F-13\ntitle: Valve stuck\n---\n## Symptom\nvalve stuck closed.\n",
};
#define NCASES (sizeof(cases_md) / sizeof(cases_md[0]))
#define QUERY "pump noise vibration"

static kb_index *idx;
static kb_simidx *mem;

static int setup(void **state)
{
	size_t i;

	(void)state;
	if (kb_index_open(&idx, ":memory:", NULL) || kb_index_begin(idx))
		return -1;
	for (i = 0; i < NCASES; i++) {
		kb_case *c = NULL;
		if (kb_case_parse(&c, cases_md[i], strlen(cases_md[i]), NULL, NULL) ||
		    kb_index_put(idx, c, "cases/x.md"))
			return -1;
		kb_case_free(c);
	}
	if (kb_index_commit(idx) || kb__simidx_build(&mem, idx))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kb__simidx_free(mem);
	kb_index_close(idx);
	return 0;
}

/* The ids of the hits, space-separated, into out. */
static void ids_of(char *out, size_t size, const kb_hits *h)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < h->count && n + 1 < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i ? " " : "", h->items[i].id);
}

/* Both paths of `text` (or case `id`) with o: the same ids and scores; the
 * ids into out, the hits into *h (released by the caller). */
static void lookup(char *out, size_t size, const char *text, const char *id,
		   const kb_search_options *o, kb_hits *h)
{
	kb_hits b = KB_HITS_INIT;
	size_t i;

	if ((text ? kb_index_similar(idx, text, o, h) : kb_index_similar_case(idx, id, o, h)) ||
	    (text ? kb__simidx_similar(mem, text, o, &b) :
		    kb__simidx_similar_case(mem, id, o, 0, &b)))
		fail_msg("similar: %s", kb_error_last()->message);
	assert_int_equal(h->count, b.count);
	for (i = 0; i < h->count; i++) {
		assert_string_equal(h->items[i].id, b.items[i].id);
		assert_true(fabs(h->items[i].score - b.items[i].score) <=
			    1e-9 * fmax(1, fabs(h->items[i].score)));
	}
	kb_hits_release(&b);
	ids_of(out, size, h);
}

/* One stage: "vibration" alone, the tie of V-1 and V-2 (and V-4) by rowid.
 * Two stages: "pump" and "noise" put V-1, which has neither, last. */
static void test_common_terms_decide(void **state)
{
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT;
	char ids[256];

	(void)state;
	o.max_terms = 1;
	o.rerank = -1;
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &h);
	assert_string_equal(ids, "V-1 V-2 V-4 V-3");
	assert_true(h.items[0].score == h.items[1].score);
	kb_hits_release(&h);

	o.rerank = 0;              /* the default for a description */
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &h);
	assert_int_equal(h.count, 4);
	assert_int_equal(tu_hit_position(&h, "V-1"), 3);
	assert_true(tu_hit_position(&h, "V-2") < tu_hit_position(&h, "V-4"));
	/* V-2 and V-4 are copies: equal after the second stage too */
	assert_true(h.items[tu_hit_position(&h, "V-2")].score ==
		    h.items[tu_hit_position(&h, "V-4")].score);
	assert_true(h.items[0].score > h.items[3].score);
	kb_hits_release(&h);
}

/* Only the first `rerank` candidates (at least the limit) are re-scored,
 * in the first stage's order (V-1, V-2, V-4, V-3). */
static void test_candidates_cut_at_k(void **state)
{
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT;
	char ids[256];

	(void)state;
	o.max_terms = 1;
	o.limit = 2;
	o.rerank = 2;
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &h);
	assert_string_equal(ids, "V-2 V-1");
	kb_hits_release(&h);

	o.rerank = 1;              /* below the limit: the limit */
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &h);
	assert_string_equal(ids, "V-2 V-1");
	kb_hits_release(&h);

	/* V-3 beats V-1 on all terms but is the first stage's fourth */
	o.limit = 3;
	o.rerank = 3;
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &h);
	assert_string_equal(ids, "V-2 V-4 V-1");
	kb_hits_release(&h);

	o.rerank = 4;
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &h);
	assert_string_equal(ids, "V-2 V-4 V-3");
	kb_hits_release(&h);
}

/* A case asks for the second stage explicitly; its copy still scores 1,
 * and without extra terms (every term selected) nothing changes. */
static void test_case_and_normaliser(void **state)
{
	kb_search_options o = KB_SEARCH_OPTIONS_INIT, one = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT, g = KB_HITS_INIT;
	char ids[256], ids1[256];
	size_t i;

	(void)state;
	o.max_terms = 1;
	o.rerank = 100;
	lookup(ids, sizeof(ids), NULL, "V-2", &o, &h);
	assert_int_equal(tu_hit_position(&h, "V-4"), 0);
	assert_true(fabs(h.items[0].score - 1.0) < 1e-9);
	kb_hits_release(&h);

	/* a case's default is one stage */
	o.rerank = 0;
	one.max_terms = 1;
	one.rerank = -1;
	lookup(ids, sizeof(ids), NULL, "V-3", &o, &h);
	lookup(ids1, sizeof(ids1), NULL, "V-3", &one, &g);
	assert_string_equal(ids, ids1);
	for (i = 0; i < h.count; i++)
		assert_true(h.items[i].score == g.items[i].score);
	kb_hits_release(&h);
	kb_hits_release(&g);

	/* every term selected: two stages are one */
	o.max_terms = 0;
	one.max_terms = 0;
	lookup(ids, sizeof(ids), "pump vibration", NULL, &o, &h);
	lookup(ids1, sizeof(ids1), "pump vibration", NULL, &one, &g);
	assert_string_equal(ids, ids1);
	for (i = 0; i < h.count; i++)
		assert_true(h.items[i].score == g.items[i].score);
	kb_hits_release(&h);
	kb_hits_release(&g);
}

/* Boosts multiply the whole score, filters keep their meaning, and
 * explanations name the first stage's terms. */
static void test_boosts_and_filters(void **state)
{
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT, g = KB_HITS_INIT;
	char ids[256];
	size_t i;

	(void)state;
	o.max_terms = 1;
	o.exclude_id = "V-3";
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &h);
	assert_int_equal(tu_hit_position(&h, "V-3"), -1);
	assert_int_equal(h.count, 3);
	kb_hits_release(&h);

	/* boosted: V-1 keeps its score (the normaliser has the boost), the
	 * others lose it */
	o.exclude_id = NULL;
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &h);
	o.boost_equipment = "FAN";
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &g);
	assert_int_equal(h.count, g.count);
	for (i = 0; i < g.count; i++) {
		double was = h.items[tu_hit_position(&h, g.items[i].id)].score;
		double f = strcmp(g.items[i].id, "V-1") ? 1.3 : 1.0;
		assert_true(fabs(g.items[i].score * f - was) < 1e-9);
	}
	kb_hits_release(&h);
	kb_hits_release(&g);

	o.boost_equipment = NULL;
	o.explain = 1;             /* the SQL path; simidx hands it over */
	lookup(ids, sizeof(ids), QUERY, NULL, &o, &h);
	assert_int_equal(tu_hit_position(&h, "V-1"), 3);
	assert_non_null(h.items[0].explain);
	assert_non_null(strstr(h.items[0].explain, "vibrat"));
	kb_hits_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_terms_decide),
		cmocka_unit_test(test_candidates_cut_at_k),
		cmocka_unit_test(test_case_and_normaliser),
		cmocka_unit_test(test_boosts_and_filters),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
