/*
 * test_index.c - kb/index.h: schema and reopen rules, corrupt files, put and
 * remove, search (terms, phrases, Chinese words, fields, exclusions,
 * filters, limits, snippets, weights, hostile queries) and incremental sync
 * against a real store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb/index.h"
#include "kb/store.h"
#include "testutil.h"

static const char *const cases_md[] = {
	"---\nid: CHL-0001\ntitle: Chiller trips on high head pressure after restart\n"
	"equipment: chiller\nmodel: Carrier 30XA\nsite: Plant 3\nstatus: validated\n"
	"created: 2024-05-12\nfailure_mode: high discharge pressure\ntags: [condenser, fan]\n---\n"
	"## Symptom\nCompressor trips with alarm E04 a few minutes after restart. Head pressure"
	" rises quickly.\n\n## Cause\nCondenser fan motor contactor failed.\n\n"
	"## Resolution\nReplaced contactor K3 and tested the fans.\n",

	"---\nid: AHU-0002\ntitle: Supply fan belt squeals at start\nequipment: AHU\n"
	"model: Trane M-Series\nsite: Plant 1\nstatus: draft\ncreated: 2023-01-10\n---\n"
	"## Symptom\nLoud squeal from the supply fan belt for a minute after start.\n\n"
	"## Cause\nBelt worn and loose.\n\n## Resolution\nNew belt, tension adjusted.\n",

	"---\nid: PMP-0003\ntitle: Pump cavitation noise\nequipment: pump\nmodel: Grundfos CR\n"
	"site: Plant 3\nstatus: validated\ncreated: 2022-07-01\nupdated: 2024-02-02\n---\n"
	"## Symptom\nGravel noise from the pump casing, discharge pressure fluctuates.\n\n"
	"## Cause\nSuction strainer clogged.\n\n## Resolution\nCleaned the strainer.\n\n"
	"## Notes\nCheck the strainer every quarter.\n",

	"---\nid: ELE-0007\ntitle: 配电柜断路器频繁跳闸\nequipment: 配电柜\nmodel: ABB S203\n"
	"site: 二号厂房\nstatus: validated\ncreated: 2024-03-01\n---\n"
	"## 故障现象\n空调启动时主断路器跳闸，复位后又跳。\n\n"
	"## 原因\n压缩机绕组绝缘下降，对地短路。\n\n## 处理方法\n更换压缩机，检查绝缘电阻。\n",

	"---\nid: CT-0008\ntitle: 冷却塔风机振动大\nequipment: 冷却塔\nmodel: BAC 3000\n"
	"site: 一号厂房\nstatus: validated\ncreated: 2024-06-01\n---\n"
	"## 故障现象\n冷却塔风机运行时振动和噪音很大。\n\n## 原因\n风机叶片积垢，动平衡失效。\n\n"
	"## 处理方法\n清洗叶片并做动平衡。\n",

	"---\nid: PMP-0009\ntitle: 水泵机械密封漏水\nequipment: pump\nmodel: Grundfos CR\n"
	"site: 一号厂房\nstatus: draft\ncreated: 2024-08-08\n---\n"
	"## 故障现象\n水泵轴封处持续漏水。\n\n## 原因\n机械密封磨损。\n\n## 处理方法\n更换机械密封。\n",
};
#define NCASES (sizeof(cases_md) / sizeof(cases_md[0]))

static kb_case *parse(const char *md)
{
	kb_case *c = NULL;

	assert_int_equal(kb_case_parse(&c, md, strlen(md), NULL, NULL), 0);
	return c;
}

static void put_md(kb_index *idx, const char *md, const char *path)
{
	kb_case *c = parse(md);

	assert_int_equal(kb_index_put(idx, c, path), 0);
	kb_case_free(c);
}

static kb_index *open_filled(const kb_index_options *opts)
{
	kb_index *idx = NULL;
	size_t i;

	assert_int_equal(kb_index_open(&idx, ":memory:", opts), 0);
	assert_int_equal(kb_index_begin(idx), 0);
	for (i = 0; i < NCASES; i++)
		put_md(idx, cases_md[i], "cases/x.md");
	assert_int_equal(kb_index_commit(idx), 0);
	return idx;
}

/* Run a query and return the hits' ids joined by spaces (static buffer). */
static const char *ids(kb_index *idx, const char *q, const kb_search_options *o)
{
	static char buf[512];
	kb_hits h = KB_HITS_INIT;
	size_t i, n = 0;

	buf[0] = '\0';
	assert_int_equal(kb_index_search(idx, q, o, &h), 0);
	for (i = 0; i < h.count; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", h.items[i].id);
	kb_hits_release(&h);
	return buf;
}

static void test_columns(void **state)
{
	(void)state;
	assert_string_equal(kb_column_name(KB_COL_TITLE), "title");
	assert_string_equal(kb_column_name(KB_COL_FAILURE), "failure");
	assert_null(kb_column_name(KB_COL__COUNT));
	assert_int_equal(kb_column_parse("symptom"), KB_COL_SYMPTOM);
	assert_int_equal(kb_column_parse("site"), KB_COL_SITE);
	assert_int_equal(kb_column_parse("bogus"), -1);
	assert_int_equal(kb_column_parse(NULL), -1);
}

static void test_put_replace_remove_count(void **state)
{
	kb_index *idx = open_filled(NULL);
	kb_case *c;

	(void)state;
	assert_int_equal(kb_index_count(idx), NCASES);
	put_md(idx, cases_md[0], "cases/CHL-0001.md");        /* replace by id */
	assert_int_equal(kb_index_count(idx), NCASES);
	assert_string_equal(ids(idx, "contactor", NULL), "CHL-0001");
	assert_int_equal(kb_index_remove(idx, "CHL-0001"), 0);
	assert_int_equal(kb_index_count(idx), NCASES - 1);
	assert_string_equal(ids(idx, "contactor", NULL), "");
	assert_int_equal(kb_index_remove(idx, "CHL-0001"), 0); /* absent: fine */
	c = kb_case_new("");
	assert_int_equal(kb_index_put(idx, c, "x.md"), KB_EINPUT);
	kb_case_free(c);
	kb_index_close(idx);
}

static void test_search_terms_and_snippets(void **state)
{
	kb_index *idx = open_filled(NULL);
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT;

	(void)state;
	o.hl_open = "<b>";
	o.hl_close = "</b>";
	assert_int_equal(kb_index_search(idx, "contactor", &o, &h), 0);
	assert_int_equal(h.count, 1);
	assert_string_equal(h.items[0].id, "CHL-0001");
	assert_string_equal(h.items[0].title, "Chiller trips on high head pressure after restart");
	assert_string_equal(h.items[0].equipment, "chiller");
	assert_string_equal(h.items[0].model, "Carrier 30XA");
	assert_string_equal(h.items[0].status, "validated");
	assert_string_equal(h.items[0].path, "cases/x.md");
	assert_true(h.items[0].score > 0);
	assert_non_null(h.items[0].snippet);
	assert_non_null(strstr(h.items[0].snippet, "<b>contactor</b>"));
	assert_null(h.items[0].explain);
	kb_hits_release(&h);
	assert_int_equal(h.count, 0);
	/* a title match outranks a body match */
	assert_string_equal(ids(idx, "strainer OR cavitation", NULL), "PMP-0003");
	assert_string_equal(ids(idx, "zebra", NULL), "");
	kb_index_close(idx);
}

static void test_search_chinese(void **state)
{
	kb_index *idx = open_filled(NULL);
	kb_hits h = KB_HITS_INIT;

	(void)state;
	assert_string_equal(ids(idx, "跳闸", NULL), "ELE-0007");
	assert_string_equal(ids(idx, "风机", NULL), "CT-0008");
	assert_string_equal(ids(idx, "机械密封", NULL), "PMP-0009");
	assert_int_equal(kb_index_search(idx, "断路器", NULL, &h), 0);
	assert_int_equal(h.count, 1);
	/* "[断路器]", or "[断路]器" when the tokenizer puts unigrams first */
	assert_non_null(strstr(h.items[0].snippet, "[断路"));
	kb_hits_release(&h);
	kb_index_close(idx);
}

static void test_search_syntax(void **state)
{
	kb_index *idx = open_filled(NULL);

	(void)state;
	assert_string_equal(ids(idx, "\"head pressure\"", NULL), "CHL-0001");
	assert_string_equal(ids(idx, "\"pressure head\"", NULL), "");
	assert_string_equal(ids(idx, "resolution:contactor", NULL), "CHL-0001");
	assert_string_equal(ids(idx, "title:contactor", NULL), "");
	assert_string_equal(ids(idx, "fan -belt", NULL), "CHL-0001");
	assert_string_equal(ids(idx, "equipment:pump", NULL), "PMP-0003 PMP-0009");
	kb_index_close(idx);
}

static void test_search_filters_and_limit(void **state)
{
	kb_index *idx = open_filled(NULL);
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;

	(void)state;
	assert_string_equal(ids(idx, "fan", NULL), "AHU-0002 CHL-0001");
	o.equipment = "CHILLER";
	assert_string_equal(ids(idx, "fan", &o), "CHL-0001");
	o.equipment = NULL;
	o.status = "Draft";
	assert_string_equal(ids(idx, "fan", &o), "AHU-0002");
	o.status = NULL;
	o.site = "plant 3";
	assert_string_equal(ids(idx, "pressure", &o), "CHL-0001 PMP-0003");
	o.site = NULL;
	o.since = "2024-01-01";         /* PMP-0003 counts through `updated` */
	assert_string_equal(ids(idx, "pressure OR belt", &o), "CHL-0001 PMP-0003");
	o.since = NULL;
	o.model = "grundfos cr";
	assert_int_equal(strlen(ids(idx, "strainer OR 漏水 OR fan", &o)), strlen("PMP-0003 PMP-0009"));
	o.limit = 1;
	assert_string_equal(ids(idx, "strainer OR 漏水 OR fan", &o), "PMP-0009");
	o.model = NULL;
	o.exclude_id = "CHL-0001";
	o.limit = 10;
	assert_string_equal(ids(idx, "fan", &o), "AHU-0002");
	kb_index_close(idx);
}

static void test_search_explain(void **state)
{
	kb_index *idx = open_filled(NULL);
	kb_search_options o = KB_SEARCH_OPTIONS_INIT;
	kb_hits h = KB_HITS_INIT;

	(void)state;
	o.explain = 1;
	assert_int_equal(kb_index_search(idx, "contactor", &o, &h), 0);
	assert_int_equal(h.count, 1);
	assert_non_null(h.items[0].explain);
	assert_non_null(strstr(h.items[0].explain, "cause: contactor"));
	assert_non_null(strstr(h.items[0].explain, "resolution: contactor"));
	kb_hits_release(&h);
	kb_index_close(idx);
}

static void test_weights_change_ranking(void **state)
{
	kb_index_options opts = KB_INDEX_OPTIONS_INIT;
	kb_index *idx;

	(void)state;
	idx = open_filled(NULL);
	put_md(idx, "---\nid: X-1\ntitle: Strainer blocked\n---\n## Symptom\nlow flow\n", "a");
	put_md(idx, "---\nid: X-2\ntitle: Low flow\n---\n## Notes\nstrainer strainer\n", "b");
	assert_string_equal(ids(idx, "strainer -cavitation", NULL), "X-1 X-2");
	kb_index_close(idx);

	opts.weights[KB_COL_TITLE] = 0.1;
	opts.weights[KB_COL_NOTES] = 10;
	idx = open_filled(&opts);
	put_md(idx, "---\nid: X-1\ntitle: Strainer blocked\n---\n## Symptom\nlow flow\n", "a");
	put_md(idx, "---\nid: X-2\ntitle: Low flow\n---\n## Notes\nstrainer strainer\n", "b");
	assert_string_equal(ids(idx, "strainer -cavitation", NULL), "X-2 X-1");
	kb_index_close(idx);
}

static void test_hostile_queries(void **state)
{
	static const char *const queries[] = {
		"\"", "\"\"", "*", "**", "NEAR(", "NEAR(a b", "AND OR NOT", "OR", "NOT fan",
		"a AND", "(", ")", "fan)", "^fan", "fan*", "title:", ":", "-", "--fan",
		"bogus:fan", "title:\"", "{title}: fan", "fan\x01\x02\x1f", "\t\n\r",
		"col:'x'", "'; DROP TABLE docs; --", "\\", "+fan", "fan NEAR/2 belt", "",
		"跳闸\"", "\"跳闸", "ａｈｕ", "rowid:1", "fts:fan", "docs", "E04-", "30XA-",
	};
	kb_index *idx = open_filled(NULL);
	kb_hits h = KB_HITS_INIT;
	kb_buf big = KB_BUF_INIT;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		rc = kb_index_search(idx, queries[i], NULL, &h);
		if (rc != 0)
			fail_msg("query '%s' failed: %s", queries[i], kb_error_last()->message);
		kb_hits_release(&h);
	}
	assert_int_equal(kb_index_search(idx, "fan \xff\xfe", NULL, &h), KB_EINPUT);
	assert_int_equal(h.count, 0);
	assert_int_equal(kb_index_search(idx, "\xe8\xb7", NULL, &h), KB_EINPUT);
	for (i = 0; big.len < 1024 * 1024; i++)
		kb_buf_printf(&big, "w%zu \"q ", i % 5000);
	rc = kb_index_search(idx, big.ptr, NULL, &h);
	assert_true(rc == 0 || rc == KB_EINPUT);
	kb_hits_release(&h);
	kb_buf_release(&big);
	/* the index still works */
	assert_string_equal(ids(idx, "contactor", NULL), "CHL-0001");
	kb_index_close(idx);
}

/* ---- files on disk ------------------------------------------------------ */

static char *db_path(const char *dir)
{
	kb_buf p = KB_BUF_INIT;

	kb_buf_printf(&p, "%s/index.sqlite", dir);
	return kb_buf_detach(&p);
}

static void fill_file(const char *path, const kb_index_options *opts)
{
	kb_index *idx = NULL;
	size_t i;

	assert_int_equal(kb_index_open(&idx, path, opts), 0);
	for (i = 0; i < NCASES; i++)
		put_md(idx, cases_md[i], "cases/x.md");
	kb_index_close(idx);
}

static void test_reopen_keeps_or_rebuilds(void **state)
{
	kb_index_options opts = KB_INDEX_OPTIONS_INIT;
	char *dir = tu_mkdtemp("idx"), *path = db_path(dir);
	kb_index *idx = NULL;

	(void)state;
	fill_file(path, NULL);
	assert_int_equal(kb_index_open(&idx, path, NULL), 0);
	assert_int_equal(kb_index_count(idx), NCASES);
	kb_index_close(idx);
	/* weights and synonyms are query-time: no rebuild */
	opts.weights[KB_COL_TITLE] = 9;
	assert_int_equal(kb_index_open(&idx, path, &opts), 0);
	assert_int_equal(kb_index_count(idx), NCASES);
	kb_index_close(idx);
	/* other tokenizer settings: recreated empty */
	opts.stem = 0;
	assert_int_equal(kb_index_open(&idx, path, &opts), 0);
	assert_int_equal(kb_index_count(idx), 0);
	kb_index_close(idx);
	fill_file(path, &opts);
	opts.tokenizer = "trigram";
	assert_int_equal(kb_index_open(&idx, path, &opts), 0);
	assert_int_equal(kb_index_count(idx), 0);
	put_md(idx, cases_md[0], "a");
	assert_string_equal(ids(idx, "contactor", NULL), "CHL-0001");
	kb_index_close(idx);
	opts.tokenizer = "porter";
	assert_int_equal(kb_index_open(&idx, path, &opts), 0);
	assert_int_equal(kb_index_count(idx), 0);
	put_md(idx, cases_md[0], "a");
	assert_string_equal(ids(idx, "replacing", NULL), "CHL-0001");
	kb_index_close(idx);
	opts.tokenizer = "lucene";
	assert_int_equal(kb_index_open(&idx, path, &opts), KB_EINPUT);
	assert_null(idx);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void check_recovers(const char *path)
{
	kb_index *idx = NULL;

	assert_int_equal(kb_index_open(&idx, path, NULL), 0);
	assert_int_equal(kb_index_count(idx), 0);
	put_md(idx, cases_md[3], "a");
	assert_string_equal(ids(idx, "跳闸", NULL), "ELE-0007");
	kb_index_close(idx);
}

static void test_corrupt_files_are_recreated(void **state)
{
	char *dir = tu_mkdtemp("idx"), *path = db_path(dir);
	char junk[8192];
	size_t i;

	(void)state;
	fill_file(path, NULL);
	assert_int_equal(truncate(path, 100), 0);
	check_recovers(path);

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 % 251);
	tu_write_file(path, junk, sizeof(junk));
	check_recovers(path);

	/* a real SQLite database that is not an index */
	fill_file(path, NULL);
	tu_sh(NULL, "rm -f '%s'*", path);
	assert_int_equal(tu_sh(NULL, "sqlite3 '%s' 'CREATE TABLE t(x)' 2>/dev/null ||"
			       " printf 'SQLite format 3' > '%s'", path, path), 0);
	check_recovers(path);

	/* damage in the middle of a populated file */
	fill_file(path, NULL);
	tu_sh(NULL, "dd if=/dev/zero of='%s' bs=1024 seek=8 count=8 conv=notrunc 2>/dev/null", path);
	check_recovers(path);

	assert_int_equal(kb_index_open(&(kb_index *){ NULL }, "/nonexistent/dir/x.sqlite", NULL),
			 KB_EIO);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void test_reader_during_write(void **state)
{
	char *dir = tu_mkdtemp("idx"), *path = db_path(dir);
	kb_index *w = NULL, *r = NULL;

	(void)state;
	fill_file(path, NULL);
	assert_int_equal(kb_index_open(&w, path, NULL), 0);
	assert_int_equal(kb_index_open(&r, path, NULL), 0);
	assert_int_equal(kb_index_begin(w), 0);
	assert_int_equal(kb_index_remove(w, "CHL-0001"), 0);
	/* WAL: the reader sees the last committed state and does not wait */
	assert_string_equal(ids(r, "contactor", NULL), "CHL-0001");
	assert_int_equal(kb_index_commit(w), 0);
	assert_string_equal(ids(r, "contactor", NULL), "");
	kb_index_close(r);
	kb_index_close(w);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

/* ---- sync against a store ----------------------------------------------- */

typedef struct {
	char *dir;
	kb_store *s;
	kb_author who;
} kbdir;

static void commit_files(kbdir *k, const char *const *paths, const char *const *texts, size_t n)
{
	kb_txn *t = NULL;
	size_t i;

	assert_int_equal(kb_txn_begin(&t, k->s), 0);
	for (i = 0; i < n; i++) {
		if (texts[i])
			assert_int_equal(kb_txn_put(t, paths[i], texts[i], strlen(texts[i])), 0);
		else
			assert_int_equal(kb_txn_remove(t, paths[i]), 0);
	}
	assert_int_equal(kb_txn_commit(t, &k->who, "test", NULL), 0);
	kb_txn_free(t);
}

static void kbdir_init(kbdir *k)
{
	static const char *const paths[] = {
		"cases/CHL-0001.md", "cases/AHU-0002.md", "cases/ELE-0007.md",
	};
	const char *texts[] = { cases_md[0], cases_md[1], cases_md[3] };

	tu_git_identity();
	k->dir = tu_mkdtemp("kb");
	assert_int_equal(kb_author_parse(&k->who, "Test User <test@example.com>"), 0);
	assert_int_equal(kb_store_init(&k->s, k->dir, &k->who), 0);
	commit_files(k, paths, texts, 3);
}

static void kbdir_free(kbdir *k)
{
	kb_store_free(k->s);
	kb_author_release(&k->who);
	tu_rmtree(k->dir);
	free(k->dir);
}

static void write_case(kbdir *k, const char *rel, const char *text)
{
	kb_buf p = KB_BUF_INIT;

	kb_buf_printf(&p, "%s/%s", k->dir, rel);
	if (text)
		tu_write_str(p.ptr, text);
	else
		assert_int_equal(unlink(p.ptr), 0);
	kb_buf_release(&p);
}

static void sync_ok(kb_index *idx, kbdir *k, kb_index_stats *st, kb_diags *d)
{
	if (kb_index_sync(idx, k->s, st, d))
		fail_msg("sync: %s", kb_error_last()->message);
}

static void test_sync_work_tree(void **state)
{
	kbdir k;
	kb_index *idx = NULL;
	kb_index_stats st;
	kb_diags d = KB_DIAGS_INIT;
	kb_buf edited = KB_BUF_INIT;

	(void)state;
	kbdir_init(&k);
	if (kb_index_open_store(&idx, k.s))
		fail_msg("open_store: %s", kb_error_last()->message);
	assert_int_equal(kb_index_count(idx), 3);
	sync_ok(idx, &k, &st, NULL);
	assert_int_equal(st.added + st.updated + st.removed, 0);
	assert_int_equal(st.rebuilt, 0);
	assert_int_equal(strlen(st.commit), 40);

	/* an uncommitted edit is found, and re-checked on every sync */
	kb_buf_puts(&edited, cases_md[0]);
	kb_buf_puts(&edited, "\n## Notes\nSeen again in zanzibar.\n");
	write_case(&k, "cases/CHL-0001.md", edited.ptr);
	sync_ok(idx, &k, &st, NULL);
	assert_int_equal(st.updated, 1);
	assert_string_equal(ids(idx, "zanzibar", NULL), "CHL-0001");
	sync_ok(idx, &k, &st, NULL);
	assert_int_equal(st.added + st.updated + st.removed, 0);
	write_case(&k, "cases/CHL-0001.md", cases_md[0]);   /* reverted */
	sync_ok(idx, &k, &st, NULL);
	assert_int_equal(st.updated, 1);
	assert_string_equal(ids(idx, "zanzibar", NULL), "");

	/* deleted, untracked, unparsable */
	write_case(&k, "cases/AHU-0002.md", NULL);
	write_case(&k, "cases/PMP-0003.md", cases_md[2]);
	write_case(&k, "cases/BAD-1.md", "no front matter here\n");
	sync_ok(idx, &k, &st, &d);
	assert_int_equal(st.removed, 1);
	assert_int_equal(st.added, 1);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(d.items[0].path, "BAD-1.md"));
	assert_string_equal(ids(idx, "belt", NULL), "");
	assert_string_equal(ids(idx, "strainer", NULL), "PMP-0003");
	assert_int_equal(kb_index_count(idx), 3);

	/* a commit is picked up from the tree diff */
	{
		const char *p[] = { "cases/CT-0008.md" }, *t[] = { cases_md[4] };
		commit_files(&k, p, t, 1);
	}
	sync_ok(idx, &k, &st, NULL);
	assert_int_equal(st.added, 1);
	assert_string_equal(ids(idx, "风机", NULL), "CT-0008");
	kb_index_close(idx);

	/* reopening finds everything in place */
	assert_int_equal(kb_index_open_store(&idx, k.s), 0);
	assert_int_equal(kb_index_count(idx), 4);
	kb_index_close(idx);

	/* opening a store's index sees a file created in cases/ (the quick
	 * check notices the directory changed) and still re-checks dirty files */
	write_case(&k, "cases/PMP-0009.md", cases_md[5]);
	write_case(&k, "cases/PMP-0003.md", NULL);
	assert_int_equal(kb_index_open_store(&idx, k.s), 0);
	assert_int_equal(kb_index_count(idx), 4);
	assert_string_equal(ids(idx, "漏水", NULL), "PMP-0009");
	assert_string_equal(ids(idx, "strainer", NULL), "");
	kb_index_close(idx);
	kb_diags_release(&d);
	kb_buf_release(&edited);
	kbdir_free(&k);
}

static void test_sync_rewritten_history_rebuilds(void **state)
{
	kbdir k;
	kb_index *idx = NULL;
	kb_index_stats st;

	(void)state;
	kbdir_init(&k);
	assert_int_equal(kb_index_open_store(&idx, k.s), 0);
	assert_int_equal(kb_index_count(idx), 3);
	/* replace history with an unrelated commit and forget the old one */
	assert_int_equal(tu_sh(NULL, "cd '%s' && git checkout -q --orphan other"
			       " && git rm -rqf cases && mkdir -p cases"
			       " && printf '%%s' '%s' > cases/PMP-0009.md"
			       " && git add -A && git commit -qm unrelated"
			       " && git for-each-ref --format='%%(refname:short)' refs/heads"
			       " | grep -v '^other$' | xargs -r git branch -D -q"
			       " && git reflog expire --expire=now --all && git gc -q --prune=now",
			       k.dir, cases_md[5]), 0);
	/* a later command opens the store afresh (libgit2 caches objects) */
	kb_store_free(k.s);
	assert_int_equal(kb_store_open(&k.s, k.dir), 0);
	sync_ok(idx, &k, &st, NULL);
	assert_int_equal(st.rebuilt, 1);
	assert_int_equal(kb_index_count(idx), 1);
	assert_string_equal(ids(idx, "漏水", NULL), "PMP-0009");
	assert_string_equal(ids(idx, "contactor", NULL), "");
	kb_index_close(idx);
	kbdir_free(&k);
}

static void test_open_store_while_another_writes(void **state)
{
	kbdir k;
	kb_index *w = NULL, *r = NULL;

	(void)state;
	kbdir_init(&k);
	assert_int_equal(kb_index_open_store(&w, k.s), 0);
	assert_int_equal(kb_index_begin(w), 0);          /* holds the write lock */
	write_case(&k, "cases/PMP-0003.md", cases_md[2]);
	/* waits a second, then searches what is committed */
	assert_int_equal(kb_index_open_store(&r, k.s), 0);
	assert_int_equal(kb_index_count(r), 3);
	kb_index_close(r);
	assert_int_equal(kb_index_commit(w), 0);
	kb_index_close(w);
	assert_int_equal(kb_index_open_store(&r, k.s), 0);
	assert_int_equal(kb_index_count(r), 4);
	kb_index_close(r);
	kbdir_free(&k);
}

static void test_rebuild(void **state)
{
	kbdir k;
	kb_index *idx = NULL;
	kb_index_stats st;
	kb_diags d = KB_DIAGS_INIT;

	(void)state;
	kbdir_init(&k);
	assert_int_equal(kb_index_open_store(&idx, k.s), 0);
	write_case(&k, "cases/DUP.md", cases_md[0]);    /* same id as CHL-0001.md */
	assert_int_equal(kb_index_rebuild(idx, k.s, &st, &d), 0);
	assert_int_equal(st.rebuilt, 1);
	assert_int_equal(kb_index_count(idx), 3);
	assert_int_equal(d.count, 1);
	assert_string_equal(ids(idx, "quick", NULL), "CHL-0001");   /* "quickly", stemmed */
	kb_index_close(idx);

	/* another tokenizer setting in kb.conf: the next open rebuilds */
	{
		kb_buf conf = KB_BUF_INIT;
		kb_buf_printf(&conf, "%s/kb.conf", k.dir);
		assert_int_equal(kb_config_write(conf.ptr, "search.stem", "false"), 0);
		kb_buf_release(&conf);
	}
	kb_store_free(k.s);
	assert_int_equal(kb_store_open(&k.s, k.dir), 0);
	assert_int_equal(kb_index_open_store(&idx, k.s), 0);
	assert_int_equal(kb_index_count(idx), 3);
	assert_string_equal(ids(idx, "quick", NULL), "");
	assert_string_equal(ids(idx, "quickly", NULL), "CHL-0001");
	kb_index_close(idx);
	kb_diags_release(&d);
	kbdir_free(&k);
}

/* 1 when kb_index_open_current() can open the KB at `dir`; checks that
 * the index it gives is usable and leaves no error behind. */
static int fast_open(const char *dir, int64_t want_count)
{
	kb_index *idx = (kb_index *)1;
	int rc = kb_index_open_current(&idx, dir);

	assert_true(rc == 0 || rc == 1);
	if (rc) {
		assert_null(idx);
		assert_int_equal(kb_error_last()->code, 0);
		return 0;
	}
	assert_int_equal(kb_index_count(idx), want_count);
	kb_index_close(idx);
	return 1;
}

static void reopen_store(kbdir *k)
{
	kb_index *idx = NULL;

	if (kb_index_open_store(&idx, k->s))
		fail_msg("open_store: %s", kb_error_last()->message);
	kb_index_close(idx);
}

/* The git-free open: only after kb_index_open_store() recorded the state,
 * refused as soon as a commit, kb.conf or the synonym file moves, found
 * from a sub-directory, with the recorded weights and synonyms. */
static void test_open_current(void **state)
{
	static const char *const pmp[] = { "cases/PMP-0003.md" };
	const char *text[] = { cases_md[2] };
	kb_buf p = KB_BUF_INIT, sub = KB_BUF_INIT;
	kb_hits h = KB_HITS_INIT;
	kb_index *idx = NULL;
	kbdir k;

	(void)state;
	kbdir_init(&k);
	assert_false(fast_open(k.dir, 3));          /* no index yet */
	reopen_store(&k);
	assert_true(fast_open(k.dir, 3));
	kb_buf_printf(&sub, "%s/cases", k.dir);
	assert_true(fast_open(sub.ptr, 3));

	/* synonyms come along: 跳闸 finds the English case through "trip" */
	kb_buf_printf(&p, "%s/synonyms.txt", k.dir);
	tu_write_str(p.ptr, "trip, 跳闸\n");
	assert_false(fast_open(k.dir, 3));
	reopen_store(&k);
	assert_int_equal(kb_index_open_current(&idx, k.dir), 0);
	assert_int_equal(kb_index_search(idx, "跳闸", NULL, &h), 0);
	assert_true(h.count >= 1);
	kb_hits_release(&h);
	kb_index_close(idx);

	/* a commit moves the branch ref */
	commit_files(&k, pmp, text, 1);
	assert_false(fast_open(k.dir, 4));
	reopen_store(&k);
	assert_true(fast_open(k.dir, 4));

	/* a config change (weights, tokenizer) */
	kb_buf_clear(&p);
	kb_buf_printf(&p, "%s/kb.conf", k.dir);
	tu_write_str(p.ptr, "[search]\n\tweight.title = 9\n");
	assert_false(fast_open(k.dir, 4));
	reopen_store(&k);
	assert_true(fast_open(k.dir, 4));

	/* not a KB */
	assert_false(fast_open("/", 0));
	kb_buf_release(&p);
	kb_buf_release(&sub);
	kbdir_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_put_replace_remove_count),
		cmocka_unit_test(test_search_terms_and_snippets),
		cmocka_unit_test(test_search_chinese),
		cmocka_unit_test(test_search_syntax),
		cmocka_unit_test(test_search_filters_and_limit),
		cmocka_unit_test(test_search_explain),
		cmocka_unit_test(test_weights_change_ranking),
		cmocka_unit_test(test_hostile_queries),
		cmocka_unit_test(test_reopen_keeps_or_rebuilds),
		cmocka_unit_test(test_corrupt_files_are_recreated),
		cmocka_unit_test(test_reader_during_write),
		cmocka_unit_test(test_sync_work_tree),
		cmocka_unit_test(test_sync_rewritten_history_rebuilds),
		cmocka_unit_test(test_open_store_while_another_writes),
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_open_current),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
