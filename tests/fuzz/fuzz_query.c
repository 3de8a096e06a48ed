/*
 * fuzz_query.c - fuzz target for kb's query language and the search path.
 *
 * The input is used as a `kb search` query and as a `kb similar`
 * description against a small in-memory index (English and Chinese cases,
 * the starter synonyms).  Property: user text never causes an SQL or FTS5
 * error, only results or KB_EINPUT (invalid UTF-8); the compiled MATCH
 * expression is accepted by FTS5; every hit has an id, a title and a path.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/case.h"
#include "kb/error.h"
#include "kb/index.h"
#include "kb/query.h"
#include "kb/synonyms.h"
#include "starter.h"
#include "fuzz.h"

static const char *const cases[] = {
	"---\nid: CHL-0001\ntitle: Chiller trips on high head pressure after restart\n"
	"equipment: chiller\nmodel: 30XA-0502\nstatus: validated\n---\n\n## Symptom\n\n"
	"Tripped on HP alarm F-12 after restart; condenser fan 2 not running.\n\n"
	"## Resolution\n\nReplaced fan motor, cleaned coils.\n",
	"---\nid: CHL-0006\ntitle: 冷水机组重启后高压跳机\nequipment: chiller\nstatus: draft\n---\n\n"
	"## 故障现象\n\n开机后高压报警跳闸，冷凝风机一台不转。\n\n## 处理方法\n\n更换风机电机。\n",
	"---\nid: AHU-0001\ntitle: AHU freeze stat trip\nequipment: air handling unit\n"
	"status: validated\n---\n\n## Symptom\n\nE04 on the panel, frozen preheat coil, u/s valve.\n",
};

static kb_index *idx;
static kb_synonyms *syn;

static void setup(void)
{
	if (idx)
		return;
	FUZZ_CHECK(kb_synonyms_parse(&syn, kb_starter_synonyms, strlen(kb_starter_synonyms),
				     "synonyms.txt") == 0);
	kb_index_options o = KB_INDEX_OPTIONS_INIT;
	o.synonyms = syn;
	FUZZ_CHECK(kb_index_open(&idx, ":memory:", &o) == 0);
	FUZZ_CHECK(kb_index_begin(idx) == 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		kb_case *c = NULL;
		FUZZ_CHECK(kb_case_parse(&c, cases[i], strlen(cases[i]), "seed.md", NULL) == 0);
		FUZZ_CHECK(kb_index_put(idx, c, "cases/seed.md") == 0);
		kb_case_free(c);
	}
	FUZZ_CHECK(kb_index_commit(idx) == 0);
}

static void check_hits(int rc, kb_hits *hits)
{
	FUZZ_CHECK(rc == 0 || rc == KB_EINPUT);
	if (rc != 0)
		FUZZ_CHECK(hits->count == 0);
	for (size_t i = 0; i < hits->count; i++)
		FUZZ_CHECK(hits->items[i].id && hits->items[i].title && hits->items[i].path);
	kb_hits_release(hits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	char *q = malloc(size + 1);
	FUZZ_CHECK(q != NULL);
	memcpy(q, data, size);
	q[size] = '\0';

	kb_buf compiled = KB_BUF_INIT;
	int rc = kb_query_compile(&compiled, q, syn);
	FUZZ_CHECK(rc == 0 || rc == KB_EINPUT);
	kb_buf_release(&compiled);

	kb_search_options so = KB_SEARCH_OPTIONS_INIT;
	so.explain = 1;
	kb_hits hits = KB_HITS_INIT;
	check_hits(kb_index_search(idx, q, &so, &hits), &hits);

	kb_search_options mo = KB_SEARCH_OPTIONS_INIT;
	mo.explain = 1;
	mo.boost_equipment = "chiller";
	check_hits(kb_index_similar(idx, q, &mo, &hits), &hits);

	free(q);
	return 0;
}
