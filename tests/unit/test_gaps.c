/* test_gaps.c - kb/gaps.h: recording (gaps only, threshold and its kb.conf
 * setting, KB_NO_GAPS_LOG, huge and invalid UTF-8 queries, escaping), and
 * reading back (grouping of English and Chinese wordings, order, --since,
 * malformed and truncated lines skipped with warnings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/gaps.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

static char *log_text(kb_store *s)
{
	kb_buf path = KB_BUF_INIT;
	char *text;
	size_t len;
	FILE *f;

	assert_int_equal(kb_gaps_path(&path, s), 0);
	f = fopen(path.ptr, "rb");
	if (!f) {
		kb_buf_release(&path);
		return kb_xstrdup("");
	}
	fclose(f);
	text = tu_read_file(path.ptr, &len);
	kb_buf_release(&path);
	return text;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_record_gaps_only(void **state)
{
	char *dir = tu_mkdtemp("gaps"), *text;
	kb_store *s = NULL;
	kb_hit hit;
	kb_hits none = KB_HITS_INIT, one = { &hit, 1 };
	kb_gaps_report *r = NULL;

	(void)state;
	memset(&hit, 0, sizeof(hit));
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	assert_int_equal(kb_gaps_record(s, "search", "flux capacitor", &none), 1);
	hit.score = 7.5;
	assert_int_equal(kb_gaps_record(s, "search", "pump overload", &one), 0);
	hit.score = 0.2;
	assert_int_equal(kb_gaps_record(s, "similar", "fan noise at night", &one), 1);
	hit.score = KB_GAPS_THRESHOLD;
	assert_int_equal(kb_gaps_record(s, "similar", "fan belt slips", &one), 0);
	assert_int_equal(kb_gaps_record(s, "similar", "   ", &none), 0);
	assert_int_equal(kb_gaps_record(s, "reindex", "x", &none), KB_EINPUT);
	text = log_text(s);
	assert_int_equal(count_lines(text), 2);
	assert_non_null(strstr(text, "\tsearch\t0.000\tflux capacitor\n"));
	assert_non_null(strstr(text, "\tsimilar\t0.200\tfan noise at night\n"));
	free(text);

	/* disabled */
	setenv("KB_NO_GAPS_LOG", "1", 1);
	assert_int_equal(kb_gaps_record(s, "search", "still absent", &none), 0);
	unsetenv("KB_NO_GAPS_LOG");
	assert_int_equal(kb_gaps_read(&r, s, NULL), 0);
	assert_int_equal(r->nevents, 2);
	assert_int_equal(r->warnings.count, 0);
	kb_gaps_report_free(r);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_threshold_from_config(void **state)
{
	char *dir = tu_mkdtemp("gaps"), *conf, *text;
	kb_buf path = KB_BUF_INIT;
	kb_store *s = NULL;
	kb_hit hit;
	kb_hits one = { &hit, 1 };

	(void)state;
	memset(&hit, 0, sizeof(hit));
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	kb_store_free(s);
	kb_buf_printf(&path, "%s/kb.conf", dir);
	conf = tu_read_file(path.ptr, NULL);
	text = kb_xmalloc(strlen(conf) + 64);
	snprintf(text, strlen(conf) + 64, "%s\n[audit]\n\tgapThreshold = 0.6\n", conf);
	tu_write_str(path.ptr, text);
	free(text);
	free(conf);
	assert_int_equal(kb_store_open(&s, dir), 0);
	hit.score = 0.5;
	assert_int_equal(kb_gaps_record(s, "similar", "fan noise", &one), 1);
	hit.score = 0.7;
	assert_int_equal(kb_gaps_record(s, "similar", "fan noise", &one), 0);
	kb_buf_release(&path);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_huge_invalid_and_escaped_queries(void **state)
{
	char *dir = tu_mkdtemp("gaps"), *huge, *text;
	kb_store *s = NULL;
	kb_hits none = KB_HITS_INIT;
	kb_gaps_report *r = NULL;
	size_t i, n = 100000;

	(void)state;
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	huge = kb_xmalloc(n + 1);
	for (i = 0; i + 3 <= n; i += 3)
		memcpy(huge + i, "跳", 3);   /* a cut must not split a character */
	huge[i] = '\0';
	assert_int_equal(kb_gaps_record(s, "search", huge, &none), 1);
	assert_int_equal(kb_gaps_record(s, "similar", "bad \xff\xfe utf-8", &none), 0);
	assert_int_equal(kb_gaps_record(s, "search", "tab\there\nnew \\ line\x01", &none), 1);
	text = log_text(s);
	assert_int_equal(count_lines(text), 2);
	assert_true(strlen(text) < 2 * KB_GAPS_QUERY_MAX);
	assert_non_null(strstr(text, "tab\\there\\nnew \\\\ line\\x01\n"));
	free(text);
	assert_int_equal(kb_gaps_read(&r, s, NULL), 0);
	assert_int_equal(r->nevents, 2);
	assert_int_equal(r->warnings.count, 0);
	assert_true(strlen(r->events[0].query) <= KB_GAPS_QUERY_MAX);
	assert_int_equal(strlen(r->events[0].query) % 3, 0);
	assert_string_equal(r->events[1].query, "tab\there\nnew \\ line\x01");
	kb_gaps_report_free(r);
	free(huge);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

static const char grouped_log[] =
	"2026-01-05T08:00:00Z\tsearch\t0.000\tchiller compressor short cycling\n"
	"2026-01-06T08:00:00Z\tsimilar\t0.120\t冷机高压跳闸\n"
	"2026-01-07T08:00:00Z\tsearch\t0.000\tShort cycling chiller compressor\n"
	"2026-01-08T08:00:00Z\tsearch\t0.000\t冷机 高压 跳闸\n"
	"2026-01-09T08:00:00Z\tsearch\t0.000\tcompressor short-cycling on chiller\n"
	"2026-01-10T08:00:00Z\tsimilar\t0.050\tboiler flame failure lockout\n"
	"2026-01-11T08:00:00Z\tsearch\t0.000\tchiller compressor short cycling\n";

static void test_grouping(void **state)
{
	kb_gaps_report *r = NULL;
	const kb_gaps_group *g;

	(void)state;
	assert_int_equal(kb_gaps_parse(&r, grouped_log, strlen(grouped_log), "gaps.log", NULL), 0);
	assert_int_equal(r->nevents, 7);
	assert_int_equal(r->ngroups, 3);
	g = &r->groups[0];
	assert_int_equal(g->count, 4);
	assert_string_equal(g->wording, "chiller compressor short cycling");
	assert_int_equal(g->nothers, 2);
	assert_string_equal(g->others[0], "Short cycling chiller compressor");
	assert_string_equal(g->first, "2026-01-05T08:00:00Z");
	assert_string_equal(g->last, "2026-01-11T08:00:00Z");
	g = &r->groups[1];
	assert_int_equal(g->count, 2);
	assert_string_equal(g->wording, "冷机高压跳闸");
	assert_int_equal(g->nothers, 1);
	assert_string_equal(g->others[0], "冷机 高压 跳闸");
	assert_string_equal(r->groups[2].wording, "boiler flame failure lockout");
	assert_int_equal(r->groups[2].count, 1);
	kb_gaps_report_free(r);

	/* --since keeps events on or after the date */
	assert_int_equal(kb_gaps_parse(&r, grouped_log, strlen(grouped_log), "gaps.log",
				       "2026-01-09"), 0);
	assert_int_equal(r->nevents, 3);
	assert_int_equal(r->groups[0].count, 2);
	kb_gaps_report_free(r);

	/* empty log */
	assert_int_equal(kb_gaps_parse(&r, "", 0, "gaps.log", NULL), 0);
	assert_int_equal(r->nevents, 0);
	assert_int_equal(r->ngroups, 0);
	kb_gaps_report_free(r);
}

static const char bad_log[] =
	"2026-01-05T08:00:00Z\tsearch\t0.000\tgood one\n"
	"yesterday\tsearch\t0.000\tbad time\n"
	"2026-01-05T08:00:00Z\treindex\t0.000\tbad command\n"
	"2026-01-05T08:00:00Z\tsearch\tabc\tbad score\n"
	"2026-01-05T08:00:00Z\tsearch\tnan\tnot a number\n"
	"2026-01-05T08:00:00Z\tsearch\t0.000\n"
	"2026-01-05T08:00:00Z\tsearch\t0.000\tbad \\q escape\n"
	"2026-01-05T08:00:00Z\tsearch\t0.000\tbad \xff utf-8\n"
	"2026-01-05T08:00:00Z\tsearch\t0.000\textra\ttab\n"
	"\n"
	"2026-01-06T08:00:00Z\tsearch\t0.000\tgood two\n"
	"2026-01-06T08:00:00Z\tsearch\t0.000\ttruncat";

static void test_malformed_lines(void **state)
{
	kb_gaps_report *r = NULL;
	size_t i;

	(void)state;
	assert_int_equal(kb_gaps_parse(&r, bad_log, sizeof(bad_log) - 1, "gaps.log", NULL), 0);
	assert_int_equal(r->nevents, 2);
	assert_string_equal(r->events[1].query, "good two");
	assert_int_equal(r->warnings.count, 10);
	for (i = 0; i < r->warnings.count; i++)
		assert_int_equal(r->warnings.items[i].severity, KB_DIAG_WARNING);
	assert_int_equal(r->warnings.items[0].line, 2);
	assert_non_null(strstr(r->warnings.items[9].message, "truncated"));
	kb_gaps_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_gaps_only),
		cmocka_unit_test(test_threshold_from_config),
		cmocka_unit_test(test_huge_invalid_and_escaped_queries),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_malformed_lines),
	};
	return tu_run_isolated(tests);
}
