/*
 * fuzz_lists.c - fuzz target for the small line-oriented files a KB holds:
 * the synonym file (synonyms.txt) and the local gaps log (gaps.log).
 *
 * Properties: a synonym file either fails with KB_EINPUT or gives groups
 * that, used at query time, never make FTS5 reject a query (each of the
 * file's own lines is also run as a query); a gaps log never fails on bad
 * lines, it warns with their line numbers, and every group has at least
 * one event and a wording.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/case.h"
#include "kb/error.h"
#include "kb/gaps.h"
#include "kb/index.h"
#include "kb/synonyms.h"
#include "fuzz.h"

static const char seed_case[] =
	"---\nid: AHU-0001\ntitle: AHU fan u/s, 空调箱 风机 跳闸\nstatus: validated\n---\n\n"
	"## Symptom\n\nSupply fan tripped; VFD fault F-12.\n";

static void query_with(const kb_synonyms *syn, const char *text, size_t len)
{
	kb_index_options o = KB_INDEX_OPTIONS_INIT;
	o.synonyms = syn;
	kb_index *idx = NULL;
	FUZZ_CHECK(kb_index_open(&idx, ":memory:", &o) == 0);
	kb_case *c = NULL;
	FUZZ_CHECK(kb_case_parse(&c, seed_case, sizeof seed_case - 1, "seed.md", NULL) == 0);
	FUZZ_CHECK(kb_index_put(idx, c, "cases/AHU-0001.md") == 0);
	kb_case_free(c);

	static const char *const fixed[] = { "fan u/s", "\"air handling unit\" 跳闸", "vfd -fan" };
	kb_search_options so = KB_SEARCH_OPTIONS_INIT;
	kb_hits hits = KB_HITS_INIT;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		FUZZ_CHECK(kb_index_search(idx, fixed[i], &so, &hits) == 0);
		kb_hits_release(&hits);
	}
	/* every line of the file as a query: terms of the groups themselves */
	const char *p = text, *end = text + len;
	int lines = 0;
	while (p < end && lines++ < 16) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *q = strndup(p, n);
		FUZZ_CHECK(q != NULL);
		int rc = kb_index_search(idx, q, &so, &hits);
		FUZZ_CHECK(rc == 0 || rc == KB_EINPUT);
		kb_hits_release(&hits);
		free(q);
		p += n + 1;
	}
	kb_index_close(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	kb_synonyms *syn = NULL;
	int rc = kb_synonyms_parse(&syn, text, size, "synonyms.txt");
	if (rc == 0) {
		FUZZ_CHECK(syn != NULL);
		query_with(syn, text, size);
		kb_synonyms_free(syn);
	} else {
		FUZZ_CHECK(rc == KB_EINPUT && syn == NULL);
	}

	kb_gaps_report *r = NULL;
	rc = kb_gaps_parse(&r, text, size, "gaps.log", NULL);
	FUZZ_CHECK(rc == 0 && r != NULL);
	for (size_t i = 0; i < r->warnings.count; i++)
		FUZZ_CHECK(r->warnings.items[i].line > 0);
	size_t events = 0;
	for (size_t i = 0; i < r->ngroups; i++) {
		FUZZ_CHECK(r->groups[i].count > 0 && r->groups[i].wording != NULL);
		events += r->groups[i].count;
	}
	FUZZ_CHECK(events == r->nevents);
	kb_gaps_report_free(r);
	return 0;
}
