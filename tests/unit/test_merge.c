/* test_merge.c - kb/merge.h: the three-way case merge key by key and
 * section by section, conflicts kept in both versions and listed, deletes
 * against edits, unparseable sides, both heading languages, CRLF, huge
 * input, and a seeded property loop over random section edits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/case.h"
#include "kb/merge.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

/* Merge NUL-terminated texts (NULL = absent); *n gets the conflict count. */
static char *merge(const char *base, const char *ours, const char *theirs, size_t *n)
{
	kb_buf out = KB_BUF_INIT;

	assert_int_equal(kb_case_merge3(&out, base, base ? strlen(base) : 0,
					ours, ours ? strlen(ours) : 0,
					theirs, theirs ? strlen(theirs) : 0,
					"local", "origin", "cases/T-1.md", n), 0);
	return kb_buf_detach(&out);
}

static kb_case *parse_ok(const char *text)
{
	kb_case *c = NULL;

	if (kb_case_parse(&c, text, strlen(text), "cases/T-1.md", NULL) != 0)
		fail_msg("result does not parse: %s (line %d)\n%s", kb_error_last()->message,
			 kb_error_last()->line, text);
	return c;
}

/* The conflicts the result lists, joined by ",". */
static char *conflicts_of(const char *text)
{
	kb_case *c = parse_ok(text);
	kb_buf b = KB_BUF_INIT;
	char **names;
	size_t n, i;

	assert_int_equal(kb_case_conflicts(c, &names, &n), 0);
	for (i = 0; i < n; i++)
		kb_buf_printf(&b, "%s%s", i ? "," : "", names[i]);
	kb_case_conflicts_free(names, n);
	kb_case_free(c);
	return kb_buf_detach(&b);
}

static void expect_conflicts(const char *text, const char *want)
{
	char *got = conflicts_of(text);

	assert_string_equal(got, want);
	free(got);
}

static void expect_has(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("result lacks '%s':\n%s", needle, text);
}

/* Position of `needle` in `text` (it must be there). */
static size_t pos_of(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);

	if (!p)
		fail_msg("result lacks '%s':\n%s", needle, text);
	return (size_t)(p - text);
}

#define FM "---\nid: T-1\ntitle: Pump trips\n# the site as the customer names it\nsite: Plant 3\n" \
	   "tags: [pump, motor]\nstatus: draft\nupdated: 2024-05-01\n---\n"

static const char base_text[] =
	FM
	"\n## Symptom\n\nThe pump trips after ten minutes.\n"
	"\n## Cause\n\nWorn bearing.\n"
	"\n## Resolution\n\nReplace the bearing.\n";

/* base_text with `from` replaced by `to` (each must occur once). */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	kb_buf b = KB_BUF_INIT;

	assert_non_null(p);
	kb_buf_put(&b, text, (size_t)(p - text));
	kb_buf_puts(&b, to);
	kb_buf_puts(&b, p + strlen(from));
	return kb_buf_detach(&b);
}

/* ---- trivial merges -------------------------------------------------------- */

static void test_trivial(void **state)
{
	char *ours = edit(base_text, "Worn bearing.", "Worn bearing and seal.");
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(base_text, ours, base_text, &n);
	assert_string_equal(r, ours);
	assert_int_equal(n, 0);
	free(r);
	r = merge(base_text, base_text, ours, &n);
	assert_string_equal(r, ours);
	free(r);
	r = merge(base_text, ours, ours, &n);
	assert_string_equal(r, ours);
	assert_int_equal(n, 0);
	free(r);
	r = merge(NULL, NULL, NULL, &n);
	assert_string_equal(r, "");
	assert_int_equal(n, 0);
	free(r);
	free(ours);
}

/* ---- front matter -------------------------------------------------------- */

static void test_different_keys_merge_cleanly(void **state)
{
	char *ours = edit(base_text, "title: Pump trips", "title: Feed pump trips");
	char *theirs = edit(base_text, "site: Plant 3", "site: Plant 4");
	char *want = edit(ours, "site: Plant 3", "site: Plant 4");
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 0);
	assert_string_equal(r, want);   /* the comment and everything else intact */
	expect_conflicts(r, "");
	free(r);
	free(ours);
	free(theirs);
	free(want);
}

static void test_same_key_changed_identically(void **state)
{
	char *ours = edit(base_text, "site: Plant 3", "site: Plant 9");
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(base_text, ours, ours, &n);
	assert_int_equal(n, 0);
	free(r);
	/* and with different bodies, so the merge is not trivial */
	{
		char *theirs = edit(ours, "Worn bearing.", "Dry bearing.");

		r = merge(base_text, ours, theirs, &n);
		assert_int_equal(n, 0);
		assert_string_equal(r, theirs);
		free(r);
		free(theirs);
	}
	free(ours);
}

static void test_same_key_changed_differently(void **state)
{
	char *ours = edit(base_text, "site: Plant 3", "site: Plant 9");
	char *theirs = edit(base_text, "site: Plant 3", "site: Harbour works");
	char *r;
	size_t n = 0;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 1);
	expect_has(r, "site: Plant 9\n");
	expect_has(r, "## Merge conflict\n\n- site: Harbour works (origin)\n");
	expect_conflicts(r, "site");
	{
		kb_case *c = parse_ok(r);

		assert_string_equal(kb_case_get(c, "site"), "Plant 9");
		kb_case_free(c);
	}
	free(r);
	free(ours);
	free(theirs);
}

static void test_key_added_and_deleted(void **state)
{
	char *ours = edit(base_text, "status: draft\n", "");
	char *theirs = edit(base_text, "site: Plant 3\n", "site: Plant 3\nmodel: KSB 40\n");
	char *r;
	size_t n = 9;
	kb_case *c;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 0);
	c = parse_ok(r);
	assert_null(kb_case_get(c, "status"));
	assert_string_equal(kb_case_get(c, "model"), "KSB 40");
	assert_string_equal(kb_case_key_at(c, 3), "model");     /* after site, as in theirs */
	kb_case_free(c);
	free(r);
	free(ours);
	free(theirs);
}

static void test_key_deleted_against_changed(void **state)
{
	char *ours = edit(base_text, "site: Plant 3\n", "");
	char *theirs = edit(base_text, "site: Plant 3", "site: Plant 4");
	char *r;
	size_t n = 0;
	kb_case *c;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 1);
	c = parse_ok(r);
	assert_string_equal(kb_case_get(c, "site"), "Plant 4");
	kb_case_free(c);
	expect_has(r, "- site: deleted on local, changed on origin (kept)");
	expect_conflicts(r, "site");
	free(r);
	free(ours);
	free(theirs);
}

static void test_comments_edited_by_theirs_kept(void **state)
{
	char *ours = edit(base_text, "Worn bearing.", "Dry bearing.");
	char *t1 = edit(base_text, "# the site as the customer names it", "# the site (customer's name)");
	char *theirs = edit(t1, "updated: 2024-05-01\n", "updated: 2024-05-01\n# reviewed in June\n");
	char *want1 = edit(ours, "# the site as the customer names it", "# the site (customer's name)");
	char *want = edit(want1, "updated: 2024-05-01\n", "updated: 2024-05-01\n# reviewed in June\n");
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 0);
	assert_string_equal(r, want);
	free(r);
	free(ours);
	free(t1);
	free(theirs);
	free(want1);
	free(want);
}

static void test_tags_merge_as_sets(void **state)
{
	char *ours = edit(base_text, "tags: [pump, motor]", "tags: [pump, motor, bearing]");
	char *theirs = edit(base_text, "tags: [pump, motor]", "tags: [motor, seal]");
	char *r;
	size_t n = 9, k;
	const char *const *items;
	kb_case *c;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 0);
	c = parse_ok(r);
	k = kb_case_get_list(c, "tags", &items);
	assert_int_equal(k, 3);
	assert_string_equal(items[0], "motor");
	assert_string_equal(items[1], "bearing");
	assert_string_equal(items[2], "seal");
	kb_case_free(c);
	free(r);
	free(ours);
	free(theirs);
}

static void test_links_block_list_merge_as_sets(void **state)
{
	const char *b = "---\nid: T-1\ntitle: T\nlinks:\n  - A-1\n---\n\n## Symptom\n\nx\n";
	const char *o = "---\nid: T-1\ntitle: T\nlinks:\n  - A-1\n  - B-2\n---\n\n## Symptom\n\nx\n";
	const char *t = "---\nid: T-1\ntitle: T\nlinks:\n  - A-1\n  - C-3\n---\n\n## Symptom\n\ny\n";
	char *r;
	size_t n = 9, k;
	const char *const *items;
	kb_case *c;

	(void)state;
	r = merge(b, o, t, &n);
	assert_int_equal(n, 0);
	c = parse_ok(r);
	k = kb_case_get_list(c, "links", &items);
	assert_int_equal(k, 3);
	assert_string_equal(items[2], "C-3");
	assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "y");
	kb_case_free(c);
	free(r);
}

static void test_updated_takes_later_date(void **state)
{
	char *ours = edit(base_text, "updated: 2024-05-01", "updated: 2024-06-03");
	char *theirs = edit(base_text, "updated: 2024-05-01", "updated: 2024-07-10");
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 0);
	expect_has(r, "updated: 2024-07-10\n");
	free(r);
	r = merge(base_text, theirs, ours, &n);
	assert_int_equal(n, 0);
	expect_has(r, "updated: 2024-07-10\n");
	free(r);
	free(ours);
	free(theirs);
}

/* ---- body ---------------------------------------------------------------- */

static void test_different_sections_merge_cleanly(void **state)
{
	char *ours = edit(base_text, "Worn bearing.", "Worn bearing; the grease had dried.");
	char *theirs = edit(base_text, "Replace the bearing.", "Replace the bearing and seal.");
	char *want = edit(ours, "Replace the bearing.", "Replace the bearing and seal.");
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 0);
	assert_string_equal(r, want);
	free(r);
	free(ours);
	free(theirs);
	free(want);
}

static void test_same_section_changed_differently(void **state)
{
	char *ours = edit(base_text, "Worn bearing.", "Worn bearing (local view).");
	char *theirs = edit(base_text, "Worn bearing.", "Cavitation (origin view).");
	char *r;
	size_t n = 0;
	kb_case *c;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 1);
	c = parse_ok(r);
	assert_string_equal(kb_case_section(c, KB_SECTION_CAUSE), "Worn bearing (local view).");
	kb_case_free(c);
	/* ours in place, theirs right after, then the rest */
	assert_true(pos_of(r, "## Cause\n\nWorn bearing (local view).") <
		    pos_of(r, "## Cause (origin version)\n\nCavitation (origin view)."));
	assert_true(pos_of(r, "Cavitation (origin view).") < pos_of(r, "## Resolution"));
	expect_conflicts(r, "cause");
	free(r);
	free(ours);
	free(theirs);
}

static void test_section_changed_identically(void **state)
{
	char *ours = edit(base_text, "Worn bearing.", "Both saw the same.");
	char *theirs = edit(ours, "site: Plant 3", "site: Plant 7");
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 0);
	assert_string_equal(r, theirs);
	free(r);
	free(ours);
	free(theirs);
}

static void test_sections_added_and_deleted(void **state)
{
	char *ours = edit(base_text, "\n## Cause\n\nWorn bearing.\n", "");
	char *theirs = edit(base_text, "\n## Resolution", "\n## Notes\n\nCheck again in May.\n\n## Resolution");
	char *r;
	size_t n = 9;
	kb_case *c;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 0);
	c = parse_ok(r);
	assert_null(kb_case_section(c, KB_SECTION_CAUSE));
	assert_string_equal(kb_case_section(c, KB_SECTION_NOTES), "Check again in May.");
	assert_int_equal(kb_case_section_count(c), 3);
	assert_int_equal(kb_case_section_at(c, 1)->kind, KB_SECTION_NOTES);
	kb_case_free(c);
	free(r);
	free(ours);
	free(theirs);
}

static void test_section_deleted_against_edited(void **state)
{
	char *ours = edit(base_text, "Worn bearing.", "Worn bearing, checked twice.");
	char *theirs = edit(base_text, "\n## Cause\n\nWorn bearing.\n", "");
	char *r;
	size_t n = 0;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 1);
	expect_has(r, "Worn bearing, checked twice.");
	expect_has(r, "- cause: deleted on origin, changed on local (kept)");
	expect_conflicts(r, "cause");
	free(r);
	r = merge(base_text, theirs, ours, &n);
	assert_int_equal(n, 1);
	expect_has(r, "Worn bearing, checked twice.");
	expect_conflicts(r, "cause");
	free(r);
	free(ours);
	free(theirs);
}

static void test_preamble_is_a_section(void **state)
{
	char *b = edit(base_text, "---\n\n## Symptom", "---\nFrom the night shift.\n\n## Symptom");
	char *ours = edit(b, "From the night shift.", "From the night shift log.");
	char *theirs = edit(b, "From the night shift.", "Reported by phone.");
	char *r;
	size_t n = 0;

	(void)state;
	r = merge(b, ours, theirs, &n);
	assert_int_equal(n, 1);
	expect_conflicts(r, "preamble");
	expect_has(r, "From the night shift log.");
	expect_has(r, "## Text before the first heading (origin version)\n\nReported by phone.");
	free(r);
	free(theirs);
	theirs = edit(b, "Replace the bearing.", "Replace it.");
	r = merge(b, ours, theirs, &n);
	assert_int_equal(n, 0);
	expect_has(r, "From the night shift log.");
	expect_has(r, "Replace it.");
	free(r);
	free(b);
	free(ours);
	free(theirs);
}

/* ---- whole files ------------------------------------------------------------ */

static void test_add_add(void **state)
{
	char *theirs = edit(base_text, "Worn bearing.", "Loose coupling.");
	char *r;
	size_t n = 0;

	(void)state;
	r = merge(NULL, base_text, theirs, &n);
	assert_int_equal(n, 1);
	expect_conflicts(r, "cause");
	expect_has(r, "## Cause (origin version)\n\nLoose coupling.");
	free(r);
	free(theirs);
	theirs = edit(base_text, "site: Plant 3", "site: Yard");
	r = merge(NULL, base_text, theirs, &n);
	assert_int_equal(n, 1);
	expect_conflicts(r, "site");
	free(r);
	free(theirs);
}

static void test_delete_against_edit(void **state)
{
	char *theirs = edit(base_text, "Worn bearing.", "Loose coupling.");
	char *r;
	size_t n = 0;

	(void)state;
	r = merge(base_text, NULL, theirs, &n);
	assert_int_equal(n, 1);
	expect_has(r, "Loose coupling.");
	expect_conflicts(r, "deleted on local");
	free(r);
	r = merge(base_text, theirs, NULL, &n);
	assert_int_equal(n, 1);
	expect_conflicts(r, "deleted on origin");
	free(r);
	/* a delete against no change is a clean delete: empty result */
	r = merge(base_text, NULL, base_text, &n);
	assert_int_equal(n, 0);
	assert_string_equal(r, "");
	free(r);
	free(theirs);
}

static void test_unparseable_side(void **state)
{
	const char *bad = "---\nid: T-1\ntitle: [unclosed\n---\n\n## Symptom\n\n```\ncode\n";
	char *ours = edit(base_text, "Worn bearing.", "Worn bearing (ours).");
	char *r;
	size_t n = 0;
	kb_case *c;

	(void)state;
	r = merge(base_text, ours, bad, &n);
	assert_int_equal(n, 1);
	c = parse_ok(r);
	assert_string_equal(kb_case_section(c, KB_SECTION_CAUSE), "Worn bearing (ours).");
	kb_case_free(c);
	expect_has(r, "## origin version (unparseable)\n\n````\n---\nid: T-1\ntitle: [unclosed\n");
	expect_conflicts(r, "unparseable origin version");
	free(r);
	r = merge(base_text, bad, ours, &n);
	assert_int_equal(n, 1);
	expect_conflicts(r, "unparseable local version");
	free(r);
	r = merge(base_text, bad, "no front matter\n", &n);
	assert_int_equal(n, 1);
	c = parse_ok(r);
	assert_string_equal(kb_case_id(c), "T-1");
	kb_case_free(c);
	expect_has(r, "no front matter");
	expect_has(r, "title: [unclosed");
	free(r);
	free(ours);
}

static void test_unparseable_base_and_default_labels(void **state)
{
	char *ours = edit(base_text, "Worn bearing.", "Worn bearing (ours).");
	char *theirs = edit(base_text, "Worn bearing.", "Worn bearing (theirs).");
	kb_buf out = KB_BUF_INIT;
	size_t n = 0;

	(void)state;
	/* a base that does not parse counts as none: differing parts conflict */
	assert_int_equal(kb_case_merge3(&out, "\xff", 1, ours, strlen(ours), theirs, strlen(theirs),
					NULL, NULL, NULL, &n), 0);
	assert_int_equal(n, 1);
	expect_has(out.ptr, "## Cause (theirs version)\n\nWorn bearing (theirs).");
	expect_conflicts(out.ptr, "cause");
	kb_buf_release(&out);
	free(ours);
	free(theirs);
}

static void test_invalid_utf8(void **state)
{
	char *theirs = edit(base_text, "Worn bearing.", "Worn \xff\xfe bearing\x01.");
	char *ours = edit(base_text, "Replace", "Swap");
	char *r;
	size_t n = 0;
	kb_case *c;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 1);
	c = parse_ok(r);
	kb_case_free(c);
	expect_has(r, "Worn \\xFF\\xFE bearing\x01.");
	expect_has(r, "Swap the bearing.");
	free(r);
	free(ours);
	free(theirs);
}

/* ---- languages, line breaks, odd shapes ------------------------------------ */

static const char zh_base[] =
	"---\nid: T-1\ntitle: 冷机高压跳闸\nstatus: draft\n---\n\n"
	"## 故障现象\n\n重启后高压跳闸。\n\n## 原因\n\n冷凝器脏堵。\n\n## 处理方法\n\n清洗冷凝器。\n";

static void test_chinese_headings(void **state)
{
	char *ours = edit(zh_base, "冷凝器脏堵。", "冷凝器脏堵，风扇损坏。");
	char *theirs = edit(zh_base, "清洗冷凝器。", "清洗冷凝器并更换风扇。");
	char *want = edit(ours, "清洗冷凝器。", "清洗冷凝器并更换风扇。");
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(zh_base, ours, theirs, &n);
	assert_int_equal(n, 0);
	assert_string_equal(r, want);
	free(r);
	free(theirs);
	theirs = edit(zh_base, "冷凝器脏堵。", "膨胀阀故障。");
	r = merge(zh_base, ours, theirs, &n);
	assert_int_equal(n, 1);
	expect_conflicts(r, "cause");
	expect_has(r, "## 原因 (origin version)\n\n膨胀阀故障。");
	free(r);
	free(ours);
	free(theirs);
	free(want);
}

static void test_heading_language_mixed(void **state)
{
	/* theirs renamed the heading to English: same section, one side changed */
	char *theirs = edit(zh_base, "## 原因", "## Cause");
	char *ours = edit(zh_base, "清洗冷凝器。", "清洗。");
	char *r;
	size_t n = 9;
	kb_case *c;

	(void)state;
	r = merge(zh_base, ours, theirs, &n);
	assert_int_equal(n, 0);
	c = parse_ok(r);
	assert_string_equal(kb_case_section_at(c, 1)->heading, "Cause");
	assert_string_equal(kb_case_section(c, KB_SECTION_RESOLUTION), "清洗。");
	kb_case_free(c);
	free(r);
	free(ours);
	free(theirs);
}

static char *to_crlf(const char *s)
{
	kb_buf b = KB_BUF_INIT;

	for (; *s; s++) {
		if (*s == '\n')
			kb_buf_putc(&b, '\r');
		kb_buf_putc(&b, *s);
	}
	return kb_buf_detach(&b);
}

static int all_crlf(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p == '\n' && (p == s || p[-1] != '\r'))
			return 0;
	return 1;
}

static void test_crlf(void **state)
{
	char *b = to_crlf(base_text);
	char *o1 = edit(base_text, "Worn bearing.", "Worn bearing.\nSecond line.");
	char *t1 = edit(base_text, "site: Plant 3", "site: Plant 4");
	char *t2 = edit(base_text, "Replace the bearing.", "New\nbearing.");
	char *o = to_crlf(o1), *t = to_crlf(t1);
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(b, o, t, &n);
	assert_int_equal(n, 0);
	assert_true(all_crlf(r));
	expect_has(r, "site: Plant 4\r\n");
	expect_has(r, "Second line.\r\n");
	kb_case_free(parse_ok(r));
	free(r);
	/* theirs written with "\n" by another tool: brought to ours' "\r\n" */
	r = merge(b, o, t2, &n);
	assert_int_equal(n, 0);
	assert_true(all_crlf(r));
	expect_has(r, "New\r\nbearing.");
	free(r);
	free(b);
	free(o1);
	free(t1);
	free(t2);
	free(o);
	free(t);
}

static void test_empty_sections(void **state)
{
	const char *b = "---\nid: T-1\ntitle: T\n---\n\n## Symptom\n\n## Cause\n\n## Resolution\n";
	char *ours = edit(b, "## Cause\n", "## Cause\n\nA stuck valve.\n");
	char *theirs = edit(b, "## Resolution\n", "## Resolution\n\nFree the valve.\n");
	char *r;
	size_t n = 9;
	kb_case *c;

	(void)state;
	r = merge(b, ours, theirs, &n);
	assert_int_equal(n, 0);
	c = parse_ok(r);
	assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "");
	assert_string_equal(kb_case_section(c, KB_SECTION_CAUSE), "A stuck valve.");
	assert_string_equal(kb_case_section(c, KB_SECTION_RESOLUTION), "Free the valve.");
	kb_case_free(c);
	free(r);
	/* emptied on one side, edited on the other */
	free(theirs);
	theirs = edit(ours, "A stuck valve.", "A stuck valve, twice.");
	r = merge(ours, b, theirs, &n);
	assert_int_equal(n, 1);
	expect_conflicts(r, "cause");
	expect_has(r, "A stuck valve, twice.");
	free(r);
	free(ours);
	free(theirs);
}

static void test_open_fence_moved_inside(void **state)
{
	char *ours = edit(base_text, "Replace the bearing.\n", "Replace the bearing.\n\n## Notes\n\nOurs.\n");
	char *theirs = edit(base_text, "Replace the bearing.\n",
			    "Replace the bearing.\n\n## Log\n\n```\nopen fence\n");
	char *r;
	size_t n = 9;
	kb_case *c;

	(void)state;
	r = merge(base_text, ours, theirs, &n);
	assert_int_equal(n, 0);
	c = parse_ok(r);
	assert_string_equal(kb_case_section(c, KB_SECTION_NOTES), "Ours.");
	assert_int_equal(kb_case_section_count(c), 5);
	kb_case_free(c);
	free(r);
	free(ours);
	free(theirs);
}

static void test_setext_heading_kept(void **state)
{
	const char *b = "---\nid: T-1\ntitle: T\n---\nText.\n\nSymptom\n-------\nA.\n\nCause\n=====\n";
	char *theirs = edit(b, "A.", "B.");
	char *ours = edit(b, "Text.", "Intro.");
	char *r;
	size_t n = 9;
	kb_case *c;

	(void)state;
	r = merge(b, ours, theirs, &n);
	assert_int_equal(n, 0);
	c = parse_ok(r);
	assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "B.");
	kb_case_free(c);
	free(r);
	free(ours);
	free(theirs);
}

static void test_conflicts_key_merged_and_resolved(void **state)
{
	char *b = edit(base_text, "status: draft\n", "status: draft\nconflicts: [cause]\n");
	char *ours = edit(b, "conflicts: [cause]\n", "");     /* resolved locally */
	char *theirs = edit(b, "Replace the bearing.", "Replace it.");
	char *r;
	size_t n = 9;

	(void)state;
	r = merge(b, ours, theirs, &n);
	assert_int_equal(n, 0);
	assert_null(strstr(r, "conflicts:"));
	free(r);
	free(ours);
	ours = edit(b, "site: Plant 3", "site: P9");
	free(theirs);
	theirs = edit(b, "site: Plant 3", "site: P7");
	r = merge(b, ours, theirs, &n);
	assert_int_equal(n, 1);
	expect_conflicts(r, "cause,site");
	free(r);
	free(b);
	free(ours);
	free(theirs);
}

static void test_conflicts_of_clean_case(void **state)
{
	kb_case *c = parse_ok(base_text);
	char **names = (char **)1;
	size_t n = 9;

	(void)state;
	assert_int_equal(kb_case_conflicts(c, &names, &n), 0);
	assert_null(names);
	assert_int_equal(n, 0);
	kb_case_conflicts_free(names, n);
	kb_case_free(c);
}

/* ---- size ------------------------------------------------------------------- */

static char *many_sections(size_t n, size_t changed, const char *text)
{
	kb_buf b = KB_BUF_INIT;
	size_t i;

	kb_buf_puts(&b, "---\nid: T-1\ntitle: Big\n---\n");
	for (i = 0; i < n; i++)
		kb_buf_printf(&b, "\n## Part %zu\n\n%s %zu\n", i, i == changed ? text : "body", i);
	return kb_buf_detach(&b);
}

static void test_huge(void **state)
{
	char *b = many_sections(3000, (size_t)-1, ""), *o = many_sections(3000, 7, "ours");
	char *t = many_sections(3000, 2990, "theirs"), *r;
	kb_buf big = KB_BUF_INIT, bo = KB_BUF_INIT, bt = KB_BUF_INIT;
	size_t n = 9, i;
	kb_case *c;

	(void)state;
	r = merge(b, o, t, &n);
	assert_int_equal(n, 0);
	expect_has(r, "ours 7\n");
	expect_has(r, "theirs 2990\n");
	assert_int_equal(strlen(r), strlen(b) + 2);
	free(r);
	/* one 4 MB section changed on both sides */
	kb_buf_puts(&big, "---\nid: T-1\ntitle: Big\n---\n\n## Symptom\n\n");
	for (i = 0; i < 100000; i++)
		kb_buf_puts(&big, "a line of forty bytes of symptom text.\n");
	kb_buf_printf(&bo, "%s\nours\n", big.ptr);
	kb_buf_printf(&bt, "%s\ntheirs\n", big.ptr);
	r = merge(big.ptr, bo.ptr, bt.ptr, &n);
	assert_int_equal(n, 1);
	c = parse_ok(r);
	kb_case_free(c);
	assert_true(strlen(r) > 2 * big.len);
	free(r);
	kb_buf_release(&big);
	kb_buf_release(&bo);
	kb_buf_release(&bt);
	free(b);
	free(o);
	free(t);
}

/* ---- property: random section edits never lose a side's change ------------ */

/* Section kinds in both languages, and headings no alias knows; a case
 * holds each group at most once (a repeated kind is matched by order). */
static const char *const groups[][2] = {
	{ "Symptom", "故障现象" }, { "Environment", "设备信息" }, { "Cause", "原因" },
	{ "Resolution", "处理方法" }, { "Notes", "备注" }, { "Readings", "读数" },
	{ "Spare parts", "备件" }, { "Site log", "现场记录" },
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static unsigned long rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rnd_state >> 33) % n);
}

/* One random round: sections edited on either side, some deleted by
 * theirs, one added by each; returns the number of overlapping edits. */
static unsigned random_versions(kb_buf *b, kb_buf *o, kb_buf *t, int round)
{
	unsigned nsec = 1 + rnd(NGROUPS), i, k, used[NGROUPS], overlap = 0;
	int eo, et, dt;

	for (i = 0; i < NGROUPS; i++)
		used[i] = i;
	for (i = 0; i + 1 < NGROUPS; i++) {             /* shuffle the groups */
		k = i + rnd(NGROUPS - i);
		unsigned tmp = used[i];
		used[i] = used[k];
		used[k] = tmp;
	}
	kb_buf_puts(b, "---\nid: T-1\ntitle: Random\n---\n");
	kb_buf_puts(o, b->ptr);
	kb_buf_puts(t, b->ptr);
	for (i = 0; i < nsec; i++) {
		const char *h = groups[used[i]][rnd(2)];

		eo = rnd(3) == 0;
		et = rnd(3) == 0;
		dt = !et && rnd(6) == 0;
		overlap += eo && (et || dt);
		kb_buf_printf(b, "\n## %s\n\nbase text %u-0\n", h, i);
		kb_buf_printf(o, "\n## %s\n\n%s %u-%d\n", h, eo ? "ours edit" : "base text", i,
			      eo ? round : 0);
		if (!dt)
			kb_buf_printf(t, "\n## %s\n\n%s %u-%d\n", h,
				      et ? "theirs edit" : "base text", i, et ? round : 0);
	}
	if (rnd(3) == 0)
		kb_buf_printf(o, "\n## Ours extra\n\nours added %d\n", round);
	if (rnd(3) == 0)
		kb_buf_printf(t, "\n## Theirs extra\n\ntheirs added %d\n", round);
	return overlap;
}

/* Every "ours edit", "theirs edit" and "added" line of a version is in r. */
static void expect_lines_of(const char *version, const char *r)
{
	const char *p = version, *nl;
	char line[128];

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		size_t len = (size_t)(nl - p);

		if (len && p[len - 1] == '\r')
			len--;
		if (len >= sizeof(line) || (!memmem(p, len, " edit ", 6) && !memmem(p, len, " added ", 7)))
			continue;
		memcpy(line, p, len);
		line[len] = 0;
		expect_has(r, line);
	}
}

static void test_property_random_edits(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 500; round++) {
		kb_buf b = KB_BUF_INIT, o = KB_BUF_INIT, t = KB_BUF_INIT;
		unsigned overlap = random_versions(&b, &o, &t, round);
		int crlf = rnd(4) == 0;
		char *r, *bt, *ot, *tt;
		size_t n;

		bt = crlf ? to_crlf(b.ptr) : kb_buf_detach(&b);
		ot = crlf ? to_crlf(o.ptr) : kb_buf_detach(&o);
		tt = crlf ? to_crlf(t.ptr) : kb_buf_detach(&t);
		r = merge(bt, ot, tt, &n);
		kb_case_free(parse_ok(r));
		if (n != overlap)
			fail_msg("round %d: %zu conflicts, %u overlaps:\n%s\n--- ours\n%s\n--- theirs\n%s",
				 round, n, overlap, r, ot, tt);
		expect_lines_of(ot, r);
		expect_lines_of(tt, r);
		free(r);
		free(bt);
		free(ot);
		free(tt);
		kb_buf_release(&b);
		kb_buf_release(&o);
		kb_buf_release(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trivial),
		cmocka_unit_test(test_different_keys_merge_cleanly),
		cmocka_unit_test(test_same_key_changed_identically),
		cmocka_unit_test(test_same_key_changed_differently),
		cmocka_unit_test(test_key_added_and_deleted),
		cmocka_unit_test(test_key_deleted_against_changed),
		cmocka_unit_test(test_comments_edited_by_theirs_kept),
		cmocka_unit_test(test_tags_merge_as_sets),
		cmocka_unit_test(test_links_block_list_merge_as_sets),
		cmocka_unit_test(test_updated_takes_later_date),
		cmocka_unit_test(test_different_sections_merge_cleanly),
		cmocka_unit_test(test_same_section_changed_differently),
		cmocka_unit_test(test_section_changed_identically),
		cmocka_unit_test(test_sections_added_and_deleted),
		cmocka_unit_test(test_section_deleted_against_edited),
		cmocka_unit_test(test_preamble_is_a_section),
		cmocka_unit_test(test_add_add),
		cmocka_unit_test(test_delete_against_edit),
		cmocka_unit_test(test_unparseable_side),
		cmocka_unit_test(test_unparseable_base_and_default_labels),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_chinese_headings),
		cmocka_unit_test(test_heading_language_mixed),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_empty_sections),
		cmocka_unit_test(test_open_fence_moved_inside),
		cmocka_unit_test(test_setext_heading_kept),
		cmocka_unit_test(test_conflicts_key_merged_and_resolved),
		cmocka_unit_test(test_conflicts_of_clean_case),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_property_random_edits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
