/* test_case.c - kb/case.h: parsing, byte-exact round trips, accessors, edits,
 * heading aliases, validation rules, hostile input and HTML rendering. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kb/case.h"
#include "kb/files.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static kb_case *parse_ok(const char *text)
{
	kb_case *c = NULL;
	int rc = kb_case_parse(&c, text, strlen(text), "cases/T-1.md", NULL);

	if (rc != 0)
		fail_msg("parse failed: %s (line %d)", kb_error_last()->message,
			 kb_error_last()->line);
	return c;
}

/* Parse must fail with KB_EINPUT at `line` with a message containing `msg`. */
static void parse_fails(const char *text, size_t len, int line, const char *msg)
{
	kb_case *c = (kb_case *)1;
	int rc = kb_case_parse(&c, text, len, "cases/BAD.md", NULL);

	assert_int_equal(rc, KB_EINPUT);
	assert_null(c);
	assert_int_equal(kb_error_last()->code, KB_EINPUT);
	assert_string_equal(kb_error_last()->path, "cases/BAD.md");
	if (!strstr(kb_error_last()->message, msg))
		fail_msg("message '%s' lacks '%s'", kb_error_last()->message, msg);
	assert_int_equal(kb_error_last()->line, line);
}

static void assert_serializes_to(const kb_case *c, const char *want)
{
	kb_buf b = KB_BUF_INIT;

	kb_case_serialize(c, &b);
	assert_string_equal(b.ptr, want);
	kb_buf_release(&b);
}

static void assert_roundtrip(const char *text, size_t len, const char *path)
{
	kb_case *c = NULL;
	kb_buf b = KB_BUF_INIT;

	if (kb_case_parse(&c, text, len, path, NULL) != 0)
		fail_msg("%s: %s", path, kb_error_last()->message);
	kb_case_serialize(c, &b);
	if (b.len != len || memcmp(b.ptr, text, len) != 0)
		fail_msg("%s: serialised bytes differ from the input", path);
	kb_buf_release(&b);
	kb_case_free(c);
}

/* Diagnostics of validate(): returns the rc, diags left in *d. */
static int validate(const char *text, const char *path, kb_diags *d)
{
	kb_case *c = NULL;
	int rc;

	assert_int_equal(kb_case_parse(&c, text, strlen(text), path, NULL), 0);
	rc = kb_case_validate(c, d);
	kb_case_free(c);
	return rc;
}

static const kb_diag *find_diag(const kb_diags *d, const char *msg)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		if (strstr(d->items[i].message, msg))
			return &d->items[i];
	return NULL;
}

/* Validate `text` as cases/T-1.md; expect exactly one error containing
 * `msg` at `line`. */
static void expect_one_error(const char *text, const char *msg, int line)
{
	kb_diags d = KB_DIAGS_INIT;
	const kb_diag *g;

	assert_int_equal(validate(text, "cases/T-1.md", &d), KB_EINVALID);
	g = find_diag(&d, msg);
	if (!g || kb_diags_errors(&d) != 1)
		fail_msg("want one error '%s', got %zu (first: %s)", msg, kb_diags_errors(&d),
			 d.count ? d.items[0].message : "none");
	assert_int_equal(g->severity, KB_DIAG_ERROR);
	assert_int_equal(g->line, line);
	assert_string_equal(g->path, "cases/T-1.md");
	kb_diags_release(&d);
}

#define VALID_HEAD "---\nid: T-1\ntitle: Pump trips\nstatus: draft\n"
#define VALID_BODY "---\n\n## Symptom\n\nTrips.\n"

static const char sample[] =
	"---\n"
	"id: CHL-0042\n"
	"title: Chiller trips on high head pressure\n"
	"equipment: chiller\n"
	"tags: [condenser, fan]\n"
	"links:\n"
	"  - CHL-0031\n"
	"  - CHL-0007\n"
	"status: validated          # draft -> validated\n"
	"reviewer: Li Wei <li.wei@example.com>\n"
	"created: 2024-05-12\n"
	"---\n"
	"\n"
	"## Symptom\n"
	"\n"
	"High head pressure alarm.\n"
	"\n"
	"### Readings\n"
	"\n"
	"22 bar.\n"
	"\n"
	"## 故障原因\n"
	"\n"
	"Fan contactor failed.\n"
	"\n"
	"## Spare parts\n"
	"\n"
	"Contactor LC1D18.\n"
	"\n"
	"## Resolution\n"
	"\n"
	"Replaced the contactor.\n";

/* ---- round trips -------------------------------------------------------- */

typedef struct {
	int want_valid;
	int n;
} roundtrip_walk;

/* kb_files_walk() callback: round-trip (and validate) one file. */
static int roundtrip_one(const char *path, void *payload)
{
	roundtrip_walk *w = payload;
	size_t len;
	char *text = tu_read_file(path, &len);

	assert_roundtrip(text, len, path);
	if (w->want_valid) {
		kb_case *c = NULL;
		kb_diags d = KB_DIAGS_INIT;

		assert_int_equal(kb_case_parse(&c, text, len, path, NULL), 0);
		if (kb_case_validate(c, &d) != 0)
			fail_msg("%s: %s", path, d.items[0].message);
		kb_diags_release(&d);
		kb_case_free(c);
	}
	free(text);
	w->n++;
	return 0;
}

/* Every *.md below a source directory (folders too); returns how many. */
static int roundtrip_dir(const char *rel, int want_valid)
{
	static const char *const exts[] = { ".md", NULL };
	roundtrip_walk w = { want_valid, 0 };

	assert_int_equal(kb_files_walk(tu_srcpath(rel), exts, roundtrip_one, &w), 0);
	return w.n;
}

static void test_roundtrip_sample_kb(void **state)
{
	(void)state;
	assert_true(roundtrip_dir("kb/cases", 1) >= 80);
}

static void test_roundtrip_odd_inputs(void **state)
{
	(void)state;
	assert_true(roundtrip_dir("tests/fixtures/cases/odd", 0) >= 13);
}

static void test_roundtrip_inline_odd_inputs(void **state)
{
	static const char *const inputs[] = {
		"---\n---\n",
		"---\n---",
		"---\n...\nbody without headings",
		"---   \nid: x\n---\t\n\n## Symptom\n",
		"---\nid: x\n---\n## A\n## B\n# C\n## D\ntext",
		"---\r\nid: x\r\n---\r\n## A\r\n\r\nbody\r\n",
		"---\nid: x\n---\n\n## A\r\nlone\rcarriage\rreturns\n",
		"---\nkey: >-\n  folded\n\n  text\n\n# c\nz: 1\n---\n",
		"---\n  id: indented\n  title: mapping\n---\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		assert_roundtrip(inputs[i], strlen(inputs[i]), "inline.md");
}

static void test_dup_is_deep_and_identical(void **state)
{
	kb_case *c = parse_ok(sample), *d;
	kb_buf a = KB_BUF_INIT, b = KB_BUF_INIT;

	(void)state;
	kb_case_set(c, "model", "30XA");
	d = kb_case_dup(c);
	kb_case_free(c);
	kb_case_serialize(d, &b);
	assert_non_null(strstr(b.ptr, "model: 30XA\n"));
	assert_string_equal(kb_case_id(d), "CHL-0042");
	assert_string_equal(kb_case_path(d), "cases/T-1.md");
	assert_string_equal(kb_case_section(d, KB_SECTION_CAUSE), "Fan contactor failed.");
	assert_string_equal(kb_case_other_text(d), "Contactor LC1D18.");
	kb_case_set_section(d, KB_SECTION_NOTES, NULL, "dup edits work");
	kb_case_serialize(d, &a);
	assert_non_null(strstr(a.ptr, "## Notes\n\ndup edits work\n"));
	kb_buf_release(&a);
	kb_buf_release(&b);
	kb_case_free(d);
}

static void test_dup_of_new_case(void **state)
{
	kb_case *c = kb_case_new("D-1"), *d;
	kb_buf b = KB_BUF_INIT;

	(void)state;
	kb_case_set_list(c, "tags", (const char *const[]){ "x", "z" }, 2);
	d = kb_case_dup(c);
	kb_case_free(c);
	kb_case_set_section(d, KB_SECTION_SYMPTOM, NULL, "s");
	kb_case_serialize(d, &b);
	assert_string_equal(b.ptr, "---\nid: D-1\ntags: [x, z]\n---\n\n## Symptom\n\ns\n");
	assert_int_equal(kb_case_get_list(d, "tags", NULL), 2);
	kb_buf_release(&b);
	kb_case_free(d);
}

static void test_set_replaces_block_scalar(void **state)
{
	kb_case *c = parse_ok("---\nid: A-1\nnotes: |\n  one\n  two\n\n  three\n\n# next key\n"
			      "title: T\n---\n");

	(void)state;
	assert_string_equal(kb_case_get(c, "notes"), "one\ntwo\n\nthree\n");
	kb_case_set(c, "notes", "short");
	assert_serializes_to(c, "---\nid: A-1\nnotes: short\n\n# next key\ntitle: T\n---\n");
	kb_case_free(c);
}

/* Found by make fuzz: YAML accepts a mapping indented by spaces; a set or
 * an appended key must keep that indentation or the file no longer parses. */
static void test_set_keeps_indented_mapping(void **state)
{
	kb_case *c = parse_ok("---\n  id: A-1\n  title: T\n---\n");
	kb_case *back = NULL;
	kb_buf b = KB_BUF_INIT;

	(void)state;
	kb_case_set(c, "title", "New");
	kb_case_set(c, "site", "Plant 3");
	assert_serializes_to(c, "---\n  id: A-1\n  title: New\n  site: Plant 3\n---\n");
	kb_case_serialize(c, &b);
	assert_int_equal(kb_case_parse(&back, b.ptr, b.len, NULL, NULL), 0);
	assert_string_equal(kb_case_get(back, "site"), "Plant 3");
	kb_case_free(back);
	kb_buf_release(&b);
	kb_case_free(c);
}

static void test_set_middle_section_crlf(void **state)
{
	kb_case *c = parse_ok("---\r\nid: A-1\r\n---\r\n## Symptom\r\n\r\nold\r\nlines\r\n\r\n"
			      "## Cause\r\n\r\nc\r\n");

	(void)state;
	kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "new");
	assert_serializes_to(c, "---\r\nid: A-1\r\n---\r\n## Symptom\r\n\r\nnew\r\n\r\n"
			     "## Cause\r\n\r\nc\r\n");
	kb_case_free(c);
}

static void test_many_appended_sections(void **state)
{
	kb_case *c = kb_case_new("M-1"), *back = NULL;
	kb_buf b = KB_BUF_INIT;
	char h[32];
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		snprintf(h, sizeof(h), "Part %d", i);
		kb_case_add_section(c, KB_SECTION_OTHER, h, "text");
	}
	kb_case_serialize(c, &b);
	assert_int_equal(kb_case_parse(&back, b.ptr, b.len, NULL, NULL), 0);
	assert_int_equal(kb_case_section_count(back), 3000);
	assert_string_equal(kb_case_section_at(back, 2999)->heading, "Part 2999");
	kb_buf_release(&b);
	kb_case_free(back);
	kb_case_free(c);
}

/* ---- accessors ---------------------------------------------------------- */

static void test_front_matter_accessors(void **state)
{
	kb_case *c = parse_ok(sample);
	const char *const *items;

	(void)state;
	assert_string_equal(kb_case_id(c), "CHL-0042");
	assert_string_equal(kb_case_title(c), "Chiller trips on high head pressure");
	assert_string_equal(kb_case_path(c), "cases/T-1.md");
	assert_int_equal(kb_case_status(c), KB_STATUS_VALIDATED);
	assert_string_equal(kb_case_get(c, "status"), "validated");
	assert_string_equal(kb_case_get(c, "created"), "2024-05-12");
	assert_null(kb_case_get(c, "tags"));
	assert_null(kb_case_get(c, "missing"));
	assert_int_equal(kb_case_get_list(c, "tags", &items), 2);
	assert_string_equal(items[0], "condenser");
	assert_string_equal(items[1], "fan");
	assert_int_equal(kb_case_get_list(c, "links", &items), 2);
	assert_string_equal(items[1], "CHL-0007");
	assert_int_equal(kb_case_get_list(c, "equipment", &items), 1);
	assert_string_equal(items[0], "chiller");
	assert_int_equal(kb_case_get_list(c, "missing", &items), 0);
	assert_int_equal(kb_case_key_line(c, "id"), 2);
	assert_int_equal(kb_case_key_line(c, "links"), 6);
	assert_int_equal(kb_case_key_line(c, "created"), 11);
	assert_int_equal(kb_case_key_line(c, "missing"), 0);
	assert_int_equal(kb_case_key_count(c), 8);
	assert_string_equal(kb_case_key_at(c, 0), "id");
	assert_string_equal(kb_case_key_at(c, 7), "created");
	assert_null(kb_case_key_at(c, 8));
	kb_case_free(c);
}

static void test_section_accessors(void **state)
{
	kb_case *c = parse_ok(sample);
	const kb_section *s;

	(void)state;
	assert_int_equal(kb_case_section_count(c), 4);
	s = kb_case_section_at(c, 0);
	assert_int_equal(s->kind, KB_SECTION_SYMPTOM);
	assert_string_equal(s->heading, "Symptom");
	assert_string_equal(s->body, "High head pressure alarm.\n\n### Readings\n\n22 bar.");
	assert_int_equal(s->line, 14);
	s = kb_case_section_at(c, 1);
	assert_int_equal(s->kind, KB_SECTION_CAUSE);
	assert_string_equal(s->heading, "故障原因");
	assert_int_equal(s->line, 22);
	s = kb_case_section_at(c, 2);
	assert_int_equal(s->kind, KB_SECTION_OTHER);
	assert_string_equal(s->heading, "Spare parts");
	assert_null(kb_case_section_at(c, 4));
	assert_string_equal(kb_case_section(c, KB_SECTION_RESOLUTION), "Replaced the contactor.");
	assert_null(kb_case_section(c, KB_SECTION_ENVIRONMENT));
	assert_null(kb_case_section(c, KB_SECTION_OTHER));
	assert_string_equal(kb_case_other_text(c), "Contactor LC1D18.");
	kb_case_free(c);
}

static void test_other_text_joins_unknown_and_loose_text(void **state)
{
	kb_case *c = parse_ok("---\nid: x\n---\nPreamble.\n\n## Symptom\n\ns\n\n## Photos\n\n"
			      "p1\n\n## Parts\n\nq\n\n# Appendix\n\ntail\n");

	(void)state;
	assert_string_equal(kb_case_other_text(c), "Preamble.\n\np1\n\nq\n\n# Appendix\n\ntail");
	kb_case_free(c);
}

static void test_names_and_status(void **state)
{
	(void)state;
	assert_string_equal(kb_section_name(KB_SECTION_SYMPTOM), "symptom");
	assert_string_equal(kb_section_name(KB_SECTION_ORIGINAL), "original");
	assert_string_equal(kb_section_name(KB_SECTION_OTHER), "other");
	assert_string_equal(kb_section_heading(KB_SECTION_RESOLUTION), "Resolution");
	assert_string_equal(kb_section_heading(KB_SECTION_ORIGINAL), "Original text");
	assert_int_equal(kb_status_parse("draft"), KB_STATUS_DRAFT);
	assert_int_equal(kb_status_parse("obsolete"), KB_STATUS_OBSOLETE);
	assert_int_equal(kb_status_parse("Draft"), KB_STATUS_UNKNOWN);
	assert_int_equal(kb_status_parse(NULL), KB_STATUS_UNKNOWN);
	assert_string_equal(kb_status_name(KB_STATUS_ARCHIVED), "archived");
	assert_string_equal(kb_status_name(KB_STATUS_UNKNOWN), "unknown");
}

static void test_template_empty_values(void **state)
{
	size_t len;
	char *text = tu_read_file(tu_srcpath("kb/templates/case.md"), &len);
	kb_case *c = NULL;
	const char *const *items;

	(void)state;
	assert_int_equal(kb_case_parse(&c, text, len, "case.md", NULL), 0);
	assert_string_equal(kb_case_id(c), "");
	assert_string_equal(kb_case_get(c, "id"), "");
	assert_string_equal(kb_case_get(c, "author"), "");
	assert_int_equal(kb_case_get_list(c, "tags", &items), 0);
	assert_int_equal(kb_case_get_list(c, "author", &items), 0);
	assert_int_equal(kb_case_status(c), KB_STATUS_DRAFT);
	assert_int_equal(kb_case_section_count(c), 4);
	free(text);
	kb_case_free(c);
}

static void test_null_spellings_are_empty(void **state)
{
	kb_case *c = parse_ok("---\na: ~\nb: null\nc: \"null\"\nd:\n---\n");

	(void)state;
	assert_string_equal(kb_case_get(c, "a"), "");
	assert_string_equal(kb_case_get(c, "b"), "");
	assert_string_equal(kb_case_get(c, "c"), "null");
	assert_string_equal(kb_case_get(c, "d"), "");
	kb_case_free(c);
}

/* ---- front-matter edits ------------------------------------------------- */

static void test_set_replaces_only_that_key(void **state)
{
	kb_case *c = parse_ok("---\n# about id\nid: A-1\ntags:\n  - x\n  - y\n\n# next\n"
			      "title: Old\n---\n\n## Symptom\n\nbody\n");

	(void)state;
	kb_case_set(c, "title", "New title");
	assert_serializes_to(c, "---\n# about id\nid: A-1\ntags:\n  - x\n  - y\n\n# next\n"
			     "title: New title\n---\n\n## Symptom\n\nbody\n");
	kb_case_set_list(c, "tags", (const char *const[]){ "a" }, 1);
	assert_serializes_to(c, "---\n# about id\nid: A-1\ntags: [a]\n\n# next\n"
			     "title: New title\n---\n\n## Symptom\n\nbody\n");
	assert_string_equal(kb_case_title(c), "New title");
	assert_int_equal(kb_case_key_line(c, "title"), 9);
	kb_case_free(c);
}

static void test_set_keeps_trailing_comment(void **state)
{
	kb_case *c = parse_ok("---\nid: A-1\nstatus: draft          # lifecycle\n"
			      "名称: 中文值 # 注释\n---\n");

	(void)state;
	kb_case_set(c, "status", "validated");
	kb_case_set(c, "名称", "新值");
	assert_serializes_to(c, "---\nid: A-1\nstatus: validated          # lifecycle\n"
			     "名称: 新值 # 注释\n---\n");
	kb_case_free(c);
}

static void test_set_appends_before_trailing_comments(void **state)
{
	kb_case *c = parse_ok("---\nid: A-1\n# trailing\n\n---\nbody\n");

	(void)state;
	kb_case_set(c, "reviewer", "Zhang Min");
	kb_case_set(c, "empty", "");
	assert_serializes_to(c, "---\nid: A-1\nreviewer: Zhang Min\nempty:\n# trailing\n\n---\nbody\n");
	assert_int_equal(kb_case_key_count(c), 3);
	assert_string_equal(kb_case_key_at(c, 1), "reviewer");
	assert_int_equal(kb_case_key_line(c, "reviewer"), 0);
	kb_case_free(c);
}

static void test_set_values_parse_back(void **state)
{
	static const char *const values[] = {
		"中文标题：冷机高压跳闸", "He said \"stop\"", "'single'", "a: b", "key:", "x #y",
		"#hash", "C# code", "yes", "No", "on", "null", "~", "true", "1.5", "42", "-7",
		"0x1F", "1e3", "1:20", ".inf", "2024-01-01", "2024-01-01 10:00", "E04",
		"30XA-0502", " leading", "trailing ", "multi\nline\n", "tab\there",
		"back\\slash", "[bracket]", "{brace}", "*star", "&anchor", "!tag", "%pct",
		"@at", "`tick", "|pipe", ">gt", "- dash", "-", "?", ":", "...", "---", "=",
		"<<", "a, b", "line\u2028sep", "\xef\xbb\xbf\x62om", "ctl\x01\x7f", "全角：冒号",
		"Li Wei <li.wei@example.com>",
	};
	kb_case *c = kb_case_new("V-1"), *back = NULL;
	kb_buf b = KB_BUF_INIT;
	char key[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		kb_case_set(c, key, values[i]);
	}
	kb_case_set(c, "weird: key #", "v");
	kb_case_serialize(c, &b);
	if (kb_case_parse(&back, b.ptr, b.len, NULL, NULL) != 0)
		fail_msg("%s at line %d in:\n%s", kb_error_last()->message,
			 kb_error_last()->line, b.ptr);
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_string_equal(kb_case_get(back, key), values[i]);
	}
	assert_string_equal(kb_case_get(back, "weird: key #"), "v");
	kb_buf_release(&b);
	kb_case_free(back);
	kb_case_free(c);
}

static void test_set_quotes_only_when_needed(void **state)
{
	kb_case *c = kb_case_new("Q-1");

	(void)state;
	kb_case_set(c, "created", "2024-01-01");
	kb_case_set(c, "title", "冷机 高压: 跳闸");
	kb_case_set(c, "flag", "yes");
	kb_case_set(c, "plain", "Carrier 30XA");
	kb_case_set(c, "num", "1.5");
	kb_case_set(c, "nl", "a\nb");
	assert_serializes_to(c, "---\nid: Q-1\ncreated: 2024-01-01\ntitle: \"冷机 高压: 跳闸\"\n"
			     "flag: \"yes\"\nplain: Carrier 30XA\nnum: \"1.5\"\nnl: \"a\\nb\"\n---\n");
	kb_case_free(c);
}

static void test_set_list_parses_back(void **state)
{
	const char *const in[] = { "condenser", "a, b", "[x]", "冷却塔", "", "yes", "k: v" };
	const char *const *out;
	kb_case *c = kb_case_new("L-1"), *back = NULL;
	kb_buf b = KB_BUF_INIT;
	size_t i;

	(void)state;
	kb_case_set_list(c, "tags", in, 7);
	kb_case_set_list(c, "links", NULL, 0);
	kb_case_serialize(c, &b);
	assert_non_null(strstr(b.ptr, "tags: [condenser, \"a, b\", \"[x]\", 冷却塔, \"\", \"yes\", "
				      "\"k: v\"]\nlinks: []\n"));
	assert_int_equal(kb_case_parse(&back, b.ptr, b.len, NULL, NULL), 0);
	assert_int_equal(kb_case_get_list(back, "tags", &out), 7);
	for (i = 0; i < 7; i++)
		assert_string_equal(out[i], in[i]);
	assert_int_equal(kb_case_get_list(back, "links", &out), 0);
	assert_null(kb_case_get(back, "links"));
	assert_int_equal(kb_case_get_list(c, "tags", &out), 7);
	kb_buf_release(&b);
	kb_case_free(back);
	kb_case_free(c);
}

static void test_unset_removes_entry_and_its_comments(void **state)
{
	kb_case *c = parse_ok("---\nid: A-1\n# about tags\ntags:\n  - x\ntitle: T\n---\nbody\n");

	(void)state;
	kb_case_unset(c, "tags");
	kb_case_unset(c, "not-there");
	assert_serializes_to(c, "---\nid: A-1\ntitle: T\n---\nbody\n");
	assert_int_equal(kb_case_get_list(c, "tags", NULL), 0);
	kb_case_set(c, "title", NULL);
	assert_serializes_to(c, "---\nid: A-1\n---\nbody\n");
	kb_case_free(c);
}

static void test_crlf_edits_keep_crlf(void **state)
{
	kb_case *c = parse_ok("---\r\nid: A-1\r\n---\r\n\r\n## Symptom\r\n\r\nold\r\n");

	(void)state;
	kb_case_set(c, "title", "T");
	kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "new\nlines");
	kb_case_set_section(c, KB_SECTION_CAUSE, NULL, "c");
	assert_serializes_to(c, "---\r\nid: A-1\r\ntitle: T\r\n---\r\n\r\n## Symptom\r\n\r\n"
			     "new\r\nlines\r\n\r\n## Cause\r\n\r\nc\r\n");
	assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "new\nlines");
	kb_case_free(c);
}

/* ---- section edits ------------------------------------------------------ */

static void test_set_section_replaces_body_only(void **state)
{
	kb_case *c = parse_ok(sample);
	kb_buf want = KB_BUF_INIT;
	const char *at;

	(void)state;
	kb_case_set_section(c, KB_SECTION_CAUSE, "ignored heading", "\n\nCondenser fan motor.\n\n");
	at = strstr(sample, "Fan contactor failed.");
	kb_buf_put(&want, sample, (size_t)(at - sample));
	kb_buf_puts(&want, "Condenser fan motor.");
	kb_buf_puts(&want, at + strlen("Fan contactor failed."));
	assert_serializes_to(c, want.ptr);
	assert_string_equal(kb_case_section(c, KB_SECTION_CAUSE), "Condenser fan motor.");
	assert_string_equal(kb_case_section_at(c, 1)->heading, "故障原因");
	kb_case_set_section(c, KB_SECTION_OTHER, "Spare parts", "none");
	assert_string_equal(kb_case_other_text(c), "none");
	assert_int_equal(kb_case_section_count(c), 4);
	kb_buf_release(&want);
	kb_case_free(c);
}

static void test_set_section_fills_empty_and_appends(void **state)
{
	kb_case *c = parse_ok("---\nid: A-1\n---\n\n## Symptom\n\n## Cause\n");

	(void)state;
	kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "Noise.");
	kb_case_set_section(c, KB_SECTION_CAUSE, NULL, "Bearing.");
	kb_case_set_section(c, KB_SECTION_RESOLUTION, "处理方法", "换轴承。");
	assert_serializes_to(c, "---\nid: A-1\n---\n\n## Symptom\n\nNoise.\n\n## Cause\n\nBearing.\n"
			     "\n## 处理方法\n\n换轴承。\n");
	assert_int_equal(kb_case_section_count(c), 3);
	assert_int_equal(kb_case_section_at(c, 2)->kind, KB_SECTION_RESOLUTION);
	assert_int_equal(kb_case_section_at(c, 2)->line, 0);
	kb_case_set_section(c, KB_SECTION_CAUSE, NULL, "");
	assert_serializes_to(c, "---\nid: A-1\n---\n\n## Symptom\n\nNoise.\n\n## Cause\n\n"
			     "## 处理方法\n\n换轴承。\n");
	assert_string_equal(kb_case_section(c, KB_SECTION_CAUSE), "");
	kb_case_free(c);
}

static void test_append_after_missing_newline(void **state)
{
	kb_case *c = parse_ok("---\nid: A-1\n---\n\n## Symptom\n\nno newline");

	(void)state;
	kb_case_add_section(c, KB_SECTION_OTHER, "Photos", "see attachment");
	assert_serializes_to(c, "---\nid: A-1\n---\n\n## Symptom\n\nno newline\n\n## Photos\n\n"
			     "see attachment\n");
	kb_case_free(c);
}

static void test_append_closes_open_fence(void **state)
{
	kb_case *c = parse_ok("---\nid: F-1\n---\n\n## Symptom\n\n~~~~ log\nE04 at 02:15\n");

	(void)state;
	kb_case_set_section(c, KB_SECTION_CAUSE, NULL, "Sensor.");
	assert_serializes_to(c, "---\nid: F-1\n---\n\n## Symptom\n\n~~~~ log\nE04 at 02:15\n~~~~\n\n"
			     "## Cause\n\nSensor.\n");
	assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "~~~~ log\nE04 at 02:15\n~~~~");
	kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "```\nopen");
	kb_case_set_section(c, KB_SECTION_NOTES, NULL, "n");
	assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "```\nopen\n```");
	assert_int_equal(kb_case_section_count(c), 3);
	kb_case_free(c);
	c = parse_ok("---\nid: F-1\n---\nintro <!-- not closed\n\n<!-- open comment\n");
	kb_case_add_section(c, KB_SECTION_OTHER, "Photos", "p");
	assert_serializes_to(c, "---\nid: F-1\n---\nintro <!-- not closed\n\n<!-- open comment\n-->\n"
			     "\n## Photos\n\np\n");
	kb_case_free(c);
}

static void test_edit_keeps_heading_apart_from_text(void **state)
{
	kb_case *c = parse_ok("---\nid: F-1\n---\nSymptom\n---\n    code\nCause\n---\nc\n");

	(void)state;
	kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "text");
	assert_serializes_to(c, "---\nid: F-1\n---\nSymptom\n---\ntext\n\nCause\n---\nc\n");
	kb_case_free(c);
	c = parse_ok("---\nid: 'x'# libyaml takes this as a comment\n---\n");
	kb_case_set(c, "id", "z");
	assert_serializes_to(c, "---\nid: z # libyaml takes this as a comment\n---\n");
	kb_case_free(c);
}

static void test_edits_with_the_cases_own_strings(void **state)
{
	kb_case *c = parse_ok(sample);
	const char *const *items;
	const kb_section *last;

	(void)state;
	kb_case_set(c, "title", kb_case_get(c, "title"));
	assert_string_equal(kb_case_title(c), "Chiller trips on high head pressure");
	kb_case_get_list(c, "tags", &items);
	kb_case_set_list(c, "tags", items, 2);
	assert_int_equal(kb_case_get_list(c, "tags", &items), 2);
	assert_string_equal(items[1], "fan");
	last = kb_case_section_at(c, 3);
	kb_case_set_section(c, last->kind, last->heading, last->body);
	kb_case_add_section(c, KB_SECTION_OTHER, kb_case_section_at(c, 3)->heading,
			    kb_case_section_at(c, 3)->body);
	assert_string_equal(kb_case_section_at(c, 4)->body, "Replaced the contactor.");
	assert_int_equal(kb_case_section_at(c, 4)->kind, KB_SECTION_RESOLUTION);
	kb_case_free(c);
}

static void test_add_section_maps_alias(void **state)
{
	kb_case *c = kb_case_new("N-1"), *back = NULL;
	kb_buf b = KB_BUF_INIT;

	(void)state;
	kb_case_add_section(c, KB_SECTION_OTHER, "故障现象", "振动大");
	kb_case_add_section(c, KB_SECTION_OTHER, "Photos", "p");
	kb_case_add_section(c, KB_SECTION_NOTES, NULL, "");
	assert_int_equal(kb_case_section_at(c, 0)->kind, KB_SECTION_SYMPTOM);
	assert_int_equal(kb_case_section_at(c, 1)->kind, KB_SECTION_OTHER);
	assert_string_equal(kb_case_section_at(c, 2)->heading, "Notes");
	kb_case_serialize(c, &b);
	assert_string_equal(b.ptr, "---\nid: N-1\n---\n\n## 故障现象\n\n振动大\n\n## Photos\n\np\n\n"
			    "## Notes\n");
	assert_int_equal(kb_case_parse(&back, b.ptr, b.len, NULL, NULL), 0);
	assert_string_equal(kb_case_section(back, KB_SECTION_SYMPTOM), "振动大");
	assert_string_equal(kb_case_other_text(back), "p");
	kb_buf_release(&b);
	kb_case_free(back);
	kb_case_free(c);
}

/* ---- aliases ------------------------------------------------------------ */

static void test_aliases_english(void **state)
{
	kb_aliases *a = kb_aliases_new_default();

	(void)state;
	assert_int_equal(kb_aliases_lookup(a, "Symptom"), KB_SECTION_SYMPTOM);
	assert_int_equal(kb_aliases_lookup(a, "SYMPTOMS"), KB_SECTION_SYMPTOM);
	assert_int_equal(kb_aliases_lookup(a, "  root   Cause : "), KB_SECTION_CAUSE);
	assert_int_equal(kb_aliases_lookup(a, "Fix:"), KB_SECTION_RESOLUTION);
	assert_int_equal(kb_aliases_lookup(a, "Environment"), KB_SECTION_ENVIRONMENT);
	assert_int_equal(kb_aliases_lookup(a, "notes"), KB_SECTION_NOTES);
	assert_int_equal(kb_aliases_lookup(a, "Original text"), KB_SECTION_ORIGINAL);
	assert_int_equal(kb_aliases_lookup(a, "Spare parts"), KB_SECTION_OTHER);
	assert_int_equal(kb_aliases_lookup(a, ""), KB_SECTION_OTHER);
	assert_int_equal(kb_aliases_lookup(a, NULL), KB_SECTION_OTHER);
	kb_aliases_free(a);
}

static void test_aliases_chinese(void **state)
{
	kb_aliases *a = kb_aliases_new_default();

	(void)state;
	assert_int_equal(kb_aliases_lookup(a, "故障现象"), KB_SECTION_SYMPTOM);
	assert_int_equal(kb_aliases_lookup(a, "故障描述"), KB_SECTION_SYMPTOM);
	assert_int_equal(kb_aliases_lookup(a, "设备信息"), KB_SECTION_ENVIRONMENT);
	assert_int_equal(kb_aliases_lookup(a, "故障原因"), KB_SECTION_CAUSE);
	assert_int_equal(kb_aliases_lookup(a, "处理措施"), KB_SECTION_RESOLUTION);
	assert_int_equal(kb_aliases_lookup(a, "备注"), KB_SECTION_NOTES);
	assert_int_equal(kb_aliases_lookup(a, "原始记录"), KB_SECTION_ORIGINAL);
	assert_int_equal(kb_aliases_lookup(a, "现场照片"), KB_SECTION_OTHER);
	kb_aliases_free(a);
}

static void test_aliases_width_folded(void **state)
{
	kb_aliases *a = kb_aliases_new_default();

	(void)state;
	assert_int_equal(kb_aliases_lookup(a, "故障现象："), KB_SECTION_SYMPTOM);
	assert_int_equal(kb_aliases_lookup(a, "\u3000故障原因 ："), KB_SECTION_CAUSE);
	assert_int_equal(kb_aliases_lookup(a, "ＳＹＭＰＴＯＭ"), KB_SECTION_SYMPTOM);
	assert_int_equal(kb_aliases_lookup(a, "Ｒｏｏｔ　ｃａｕｓｅ"), KB_SECTION_CAUSE);
	kb_aliases_free(a);
}

static void test_aliases_config_added(void **state)
{
	const char *text = "---\nid: A-1\n---\n## Beobachtung\n\nLaut.\n## Fault\n\nx\n";
	kb_aliases *a = kb_aliases_new_default();
	kb_case *c = NULL;

	(void)state;
	kb_aliases_add(a, KB_SECTION_SYMPTOM, "Beobachtung");
	kb_aliases_add(a, KB_SECTION_CAUSE, "fault");   /* overrides the built-in */
	kb_aliases_add(a, KB_SECTION__COUNT, "ignored");
	assert_int_equal(kb_aliases_lookup(a, "BEOBACHTUNG:"), KB_SECTION_SYMPTOM);
	assert_int_equal(kb_aliases_lookup(a, "ignored"), KB_SECTION_OTHER);
	assert_int_equal(kb_case_parse(&c, text, strlen(text), NULL, a), 0);
	assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "Laut.");
	assert_string_equal(kb_case_section(c, KB_SECTION_CAUSE), "x");
	kb_case_free(c);
	kb_aliases_free(a);
}

/* ---- headings ----------------------------------------------------------- */

static void test_headings_as_written(void **state)
{
	kb_case *c = parse_ok("---\nid: x\n---\n\n##   Cause ##  \n\na\n\nRoot\ncause\n---\n\nb\n\n"
			      "## C# notes #\n\nc\n\n   ## Indented\nd\n##\n");

	(void)state;
	assert_int_equal(kb_case_section_count(c), 5);
	assert_string_equal(kb_case_section_at(c, 0)->heading, "Cause");
	assert_int_equal(kb_case_section_at(c, 0)->line, 5);
	assert_string_equal(kb_case_section_at(c, 1)->heading, "Root cause");
	assert_int_equal(kb_case_section_at(c, 1)->kind, KB_SECTION_CAUSE);
	assert_int_equal(kb_case_section_at(c, 1)->line, 9);
	assert_string_equal(kb_case_section_at(c, 1)->body, "b");
	assert_string_equal(kb_case_section_at(c, 2)->heading, "C# notes");
	assert_string_equal(kb_case_section_at(c, 3)->heading, "Indented");
	assert_string_equal(kb_case_section_at(c, 3)->body, "d");
	assert_string_equal(kb_case_section_at(c, 4)->heading, "");
	kb_case_free(c);
}

static void test_level1_ends_section(void **state)
{
	kb_case *c = parse_ok("---\nid: x\n---\n## Symptom\ns\n# Part two\nloose\n## Cause\nc\n");

	(void)state;
	assert_int_equal(kb_case_section_count(c), 2);
	assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "s");
	assert_string_equal(kb_case_section(c, KB_SECTION_CAUSE), "c");
	assert_string_equal(kb_case_other_text(c), "# Part two\nloose");
	kb_case_free(c);
}

/* ---- validation --------------------------------------------------------- */

static void test_validate_valid_case(void **state)
{
	kb_diags d = KB_DIAGS_INIT;

	(void)state;
	assert_int_equal(validate(VALID_HEAD VALID_BODY, "cases/T-1.md", &d), 0);
	assert_int_equal(d.count, 0);
	assert_int_equal(validate(VALID_HEAD VALID_BODY, NULL, &d), 0);
	kb_diags_release(&d);
}

static void test_validate_id_missing(void **state)
{
	(void)state;
	expect_one_error("---\ntitle: T\nstatus: draft\n" VALID_BODY, "missing 'id'", 1);
	expect_one_error("---\nid:\ntitle: T\nstatus: draft\n" VALID_BODY, "missing 'id'", 2);
}

static void test_validate_id_invalid(void **state)
{
	kb_diags d = KB_DIAGS_INIT;

	(void)state;
	assert_int_equal(validate("---\nid: ../../etc/passwd\ntitle: T\nstatus: draft\n" VALID_BODY,
				  NULL, &d), KB_EINVALID);
	assert_int_equal(kb_diags_errors(&d), 1);
	assert_string_equal(d.items[0].message, "invalid id '../../etc/passwd'");
	assert_int_equal(d.items[0].line, 2);
	assert_int_equal(kb_error_last()->code, KB_EINVALID);
	kb_diags_release(&d);
}

static void test_id_valid_rules(void **state)
{
	char long_id[80];

	(void)state;
	assert_true(kb_case_id_valid("CHL-0042"));
	assert_true(kb_case_id_valid("a"));
	assert_true(kb_case_id_valid("0.x_y-z"));
	assert_false(kb_case_id_valid(""));
	assert_false(kb_case_id_valid(NULL));
	assert_false(kb_case_id_valid("-x"));
	assert_false(kb_case_id_valid(".x"));
	assert_false(kb_case_id_valid("a..b"));
	assert_false(kb_case_id_valid("a/b"));
	assert_false(kb_case_id_valid("a b"));
	assert_false(kb_case_id_valid("故障"));
	memset(long_id, 'a', 64);
	long_id[64] = '\0';
	assert_true(kb_case_id_valid(long_id));
	long_id[64] = 'a';
	long_id[65] = '\0';
	assert_false(kb_case_id_valid(long_id));
}

static void test_validate_file_name(void **state)
{
	kb_diags d = KB_DIAGS_INIT;

	(void)state;
	assert_int_equal(validate(VALID_HEAD VALID_BODY, "kb/cases/T-2.md", &d), KB_EINVALID);
	assert_int_equal(kb_diags_errors(&d), 1);
	assert_string_equal(d.items[0].message, "file name 'T-2.md' does not match id 'T-1'");
	assert_int_equal(d.items[0].line, 2);
	kb_diags_release(&d);
}

static void test_validate_title_missing(void **state)
{
	(void)state;
	expect_one_error("---\nid: T-1\nstatus: draft\n" VALID_BODY, "missing 'title'", 1);
}

static void test_validate_symptom_missing(void **state)
{
	(void)state;
	expect_one_error(VALID_HEAD "---\n\n## Cause\n\nx\n", "missing section 'symptom'", 1);
}

static void test_validate_status_missing(void **state)
{
	(void)state;
	expect_one_error("---\nid: T-1\ntitle: T\n" VALID_BODY, "missing 'status'", 1);
}

static void test_validate_status_unknown(void **state)
{
	(void)state;
	expect_one_error("---\nid: T-1\ntitle: T\nstatus: done\n" VALID_BODY,
			 "unknown status 'done'", 4);
}

static void test_validate_validated_needs_resolution(void **state)
{
	(void)state;
	expect_one_error("---\nid: T-1\ntitle: T\nstatus: validated\nreviewer: R\n" VALID_BODY,
			 "missing section 'resolution' for status 'validated'", 4);
	expect_one_error("---\nid: T-1\ntitle: T\nstatus: validated\nreviewer: R\n" VALID_BODY
			 "\n## Resolution\n\n", "missing section 'resolution'", 4);
}

static void test_validate_validated_needs_reviewer(void **state)
{
	(void)state;
	expect_one_error("---\nid: T-1\ntitle: T\nstatus: validated\n" VALID_BODY
			 "\n## Resolution\n\nDone.\n", "missing 'reviewer' for status 'validated'", 4);
}

static void test_validate_obsolete_needs_superseded_by(void **state)
{
	kb_diags d = KB_DIAGS_INIT;

	(void)state;
	expect_one_error("---\nid: T-1\ntitle: T\nstatus: obsolete\n" VALID_BODY,
			 "missing 'superseded_by' for status 'obsolete'", 4);
	assert_int_equal(validate("---\nid: T-1\ntitle: T\nstatus: obsolete\nsuperseded_by: T-9\n"
				  VALID_BODY, "cases/T-1.md", &d), 0);
	kb_diags_release(&d);
	expect_one_error("---\nid: T-1\ntitle: T\nstatus: obsolete\nsuperseded_by: ../x\n"
			 VALID_BODY, "invalid id '../x' in 'superseded_by'", 5);
}

static void test_validate_dates(void **state)
{
	kb_diags d = KB_DIAGS_INIT;

	(void)state;
	expect_one_error(VALID_HEAD "created: 2024-02-30\n" VALID_BODY,
			 "invalid date '2024-02-30' in 'created'", 5);
	expect_one_error(VALID_HEAD "updated: 2024-13-01\n" VALID_BODY,
			 "invalid date '2024-13-01' in 'updated'", 5);
	expect_one_error(VALID_HEAD "created: 2023-02-29\n" VALID_BODY, "invalid date", 5);
	expect_one_error(VALID_HEAD "created: 2024-5-1\n" VALID_BODY, "invalid date", 5);
	expect_one_error(VALID_HEAD "created: yesterday\n" VALID_BODY, "invalid date", 5);
	assert_int_equal(validate(VALID_HEAD "created: 2024-02-29\nupdated: 2000-02-29\n" VALID_BODY,
				  "cases/T-1.md", &d), 0);
	assert_int_equal(d.count, 0);
	kb_diags_release(&d);
}

static void test_validate_future_date_warns(void **state)
{
	kb_diags d = KB_DIAGS_INIT;
	const kb_diag *g;

	(void)state;
	assert_int_equal(validate(VALID_HEAD "created: 2999-01-01\n" VALID_BODY, "cases/T-1.md", &d),
			 0);
	g = find_diag(&d, "date '2999-01-01' in 'created' is in the future");
	assert_non_null(g);
	assert_int_equal(g->severity, KB_DIAG_WARNING);
	assert_int_equal(g->line, 5);
	kb_diags_release(&d);
}

static void test_validate_empty_section_warns(void **state)
{
	kb_diags d = KB_DIAGS_INIT;
	const kb_diag *g;

	(void)state;
	assert_int_equal(validate(VALID_HEAD VALID_BODY "\n## Cause\n\n## Notes\n\nn\n",
				  "cases/T-1.md", &d), 0);
	assert_int_equal(d.count, 1);
	g = find_diag(&d, "empty section 'Cause'");
	assert_non_null(g);
	assert_int_equal(g->severity, KB_DIAG_WARNING);
	assert_int_equal(g->line, 11);
	kb_diags_release(&d);
}

static void test_validate_tags_items(void **state)
{
	kb_diags d = KB_DIAGS_INIT;

	(void)state;
	expect_one_error(VALID_HEAD "tags: [a, \"\"]\n" VALID_BODY, "empty item in 'tags'", 5);
	assert_int_equal(validate(VALID_HEAD "tags: single\n" VALID_BODY, "cases/T-1.md", &d), 0);
	kb_diags_release(&d);
}

static void test_validate_links_are_ids(void **state)
{
	(void)state;
	expect_one_error(VALID_HEAD "links:\n  - CHL-0001\n  - not an id\n" VALID_BODY,
			 "invalid id 'not an id' in 'links'", 5);
}

static void test_validate_scalar_key_holding_list(void **state)
{
	kb_case *c = parse_ok(VALID_HEAD VALID_BODY);
	kb_diags d = KB_DIAGS_INIT;

	(void)state;
	kb_case_set_list(c, "title", (const char *const[]){ "a", "b" }, 2);
	assert_int_equal(kb_case_validate(c, &d), KB_EINVALID);
	assert_non_null(find_diag(&d, "expected a single value for 'title'"));
	assert_non_null(find_diag(&d, "missing 'title'"));
	kb_diags_release(&d);
	kb_case_free(c);
}

/* ---- bad input ---------------------------------------------------------- */

static void test_bad_yaml_syntax(void **state)
{
	const char *t = "---\nid: A-1\ntitle: a: b\n---\n";

	(void)state;
	parse_fails(t, strlen(t), 3, "invalid yaml: mapping values are not allowed");
	t = "---\nid: A-1\ntitle: \"unterminated\n---\n";
	parse_fails(t, strlen(t), 3, "invalid yaml");
	t = "---\nid: A-1\nb: \x01\n---\n";
	parse_fails(t, strlen(t), 3, "invalid yaml: control characters are not allowed");
}

static void test_truncated_front_matter(void **state)
{
	const char *t = "---\nid: A-1\ntitle: Pump tr";

	(void)state;
	parse_fails(t, strlen(t), 1, "unterminated front matter: no closing '---'");
	parse_fails("---", 3, 1, "unterminated front matter");
}

static void test_missing_closing_marker(void **state)
{
	const char *t = "---\nid: A-1\ntitle: T\n\n## Symptom\n\nbody\n";

	(void)state;
	parse_fails(t, strlen(t), 1, "unterminated front matter: no closing '---'");
}

static void test_missing_opening_marker(void **state)
{
	const char *t = "## Symptom\n\nno front matter\n";

	(void)state;
	parse_fails(t, strlen(t), 1, "missing front matter: file must start with '---'");
	parse_fails("---x\n---\n", 9, 1, "missing front matter");
}

static void test_tabs_in_yaml(void **state)
{
	const char *t = "---\nid: A-1\ntags:\n\t- a\n---\n";

	(void)state;
	parse_fails(t, strlen(t), 4, "tab used for indentation in front matter");
	t = "---\nid: A-1\ntags:\n  \t- a\n---\n";
	parse_fails(t, strlen(t), 4, "tab used for indentation");
}

static void test_duplicate_keys(void **state)
{
	const char *t = "---\nid: A-1\ntitle: one\nstatus: draft\ntitle: two\nid: A-2\n---\n";

	(void)state;
	parse_fails(t, strlen(t), 5, "duplicate key 'title'");
}

static void test_invalid_utf8_reports_line(void **state)
{
	const char *t = "---\nid: A-1\n---\n\n## Symptom\n\nbad \xff byte\n";

	(void)state;
	parse_fails(t, strlen(t), 7, "invalid utf-8 byte 0xff");
	t = "---\nid: \xe4\xb8\n---\n";
	parse_fails(t, strlen(t), 2, "invalid utf-8");
}

static void test_nul_bytes(void **state)
{
	static const char t[] = "---\nid: A-1\n---\nbody\0more\n";

	(void)state;
	parse_fails(t, sizeof(t) - 1, 4, "nul byte");
	parse_fails("---\nid: \"a\\0b\"\n---\n", 19, 2, "nul character in value of 'id'");
}

static void test_nested_mapping_rejected(void **state)
{
	const char *t = "---\nid: A-1\nequipment:\n  name: chiller\n  model: 30XA\n---\n";

	(void)state;
	parse_fails(t, strlen(t), 4, "nested mapping in 'equipment'");
	t = "---\ntags: [a, {b: c}]\n---\n";
	parse_fails(t, strlen(t), 2, "nested mapping in 'tags'");
}

static void test_top_level_not_mapping(void **state)
{
	(void)state;
	parse_fails("---\njust text\n---\n", 18, 2, "front matter is not a block of 'key: value'");
	parse_fails("---\n- a\n- b\n---\n", 16, 2, "front matter is not a block");
	parse_fails("---\n{id: x}\n---\n", 16, 2, "front matter is not a block");
}

static void test_list_where_scalar_expected(void **state)
{
	const char *t = "---\nid: [A-1, A-2]\n---\n";

	(void)state;
	parse_fails(t, strlen(t), 2, "expected a single value, not a list, for 'id'");
	t = "---\nid: A-1\nstatus:\n  - draft\n---\n";
	parse_fails(t, strlen(t), 4, "expected a single value, not a list, for 'status'");
}

static void test_aliases_and_complex_keys_rejected(void **state)
{
	const char *t = "---\na: &x v\nb: *x\n---\n";

	(void)state;
	parse_fails(t, strlen(t), 3, "unsupported yaml alias in 'b'");
	t = "---\n? [a, b]\n: v\n---\n";
	parse_fails(t, strlen(t), 2, "front matter key is not a plain string");
	parse_fails("---\n\"\": v\n---\n", 13, 2, "empty key in front matter");
}

static void test_line_separators_rejected(void **state)
{
	const char *t = "---\nid: A-1\ntitle: a\xe2\x80\xa8 b\n---\n";

	(void)state;
	parse_fails(t, strlen(t), 3, "unicode line separator in front matter");
	t = "---\nid: A-1\rtitle: x\n---\n";
	parse_fails(t, strlen(t), 2, "carriage return without line feed");
}

static void test_deeply_nested_lists_rejected(void **state)
{
	kb_buf b = KB_BUF_INIT;
	int i;

	(void)state;
	kb_buf_puts(&b, "---\nid: A-1\ntags: ");
	for (i = 0; i < 100000; i++)
		kb_buf_putc(&b, '[');
	for (i = 0; i < 100000; i++)
		kb_buf_putc(&b, ']');
	kb_buf_puts(&b, "\n---\n");
	parse_fails(b.ptr, b.len, 3, "nested list in 'tags'");
	kb_buf_clear(&b);
	kb_buf_puts(&b, "---\ntags:\n");
	for (i = 0; i < 200; i++)
		kb_buf_printf(&b, "%*s- \n", 2 * i + 2, "");
	kb_buf_puts(&b, "---\n");
	parse_fails(b.ptr, b.len, 4, "nested list in 'tags'");
	kb_buf_release(&b);
}

static void test_empty_input(void **state)
{
	(void)state;
	parse_fails("", 0, 0, "empty file");
	parse_fails(NULL, 0, 0, "empty file");
}

static void test_binary_garbage(void **state)
{
	unsigned char junk[4096];
	unsigned int x = 12345;
	kb_case *c = NULL;
	size_t i;
	int round;

	(void)state;
	for (round = 0; round < 50; round++) {
		for (i = 0; i < sizeof(junk); i++) {
			x = x * 1103515245u + 12345u;
			junk[i] = (unsigned char)(x >> 16);
		}
		if (round % 2)
			memcpy(junk, "---\n", 4);
		assert_int_equal(kb_case_parse(&c, (const char *)junk, sizeof(junk), "junk", NULL),
				 KB_EINPUT);
		assert_null(c);
	}
}

/* Mutate a real case at random: parsing either fails with KB_EINPUT or
 * succeeds and serialises back to the same bytes; edits never crash. */
static void test_mutated_inputs(void **state)
{
	static const char alphabet[] = "-:#\n\r\t []{}'\"|>&*!?,.x1 \xe4\xb8\xad";
	size_t len, i, n;
	char *orig = tu_read_file(tu_srcpath("tests/fixtures/cases/odd/comments.md"), &len);
	kb_buf b = KB_BUF_INIT, out = KB_BUF_INIT;
	unsigned int x = 777;
	kb_case *c;
	int round, rc;

	(void)state;
	for (round = 0; round < 3000; round++) {
		kb_buf_set(&b, orig, len);
		for (n = 0; n < 1 + (unsigned)round % 4; n++) {
			x = x * 1103515245u + 12345u;
			i = (x >> 8) % b.len;
			b.ptr[i] = alphabet[(x >> 20) % (sizeof(alphabet) - 1)];
		}
		c = NULL;
		rc = kb_case_parse(&c, b.ptr, b.len, "m.md", NULL);
		if (rc != 0) {
			assert_int_equal(rc, KB_EINPUT);
			assert_null(c);
			continue;
		}
		kb_buf_clear(&out);
		kb_case_serialize(c, &out);
		assert_int_equal(out.len, b.len);
		assert_memory_equal(out.ptr, b.ptr, b.len);
		kb_case_set(c, "title", "t: x");
		kb_case_unset(c, "tags");
		kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "s");
		kb_buf_clear(&out);
		kb_case_serialize(c, &out);
		kb_case_free(c);
		c = NULL;
		if (kb_case_parse(&c, out.ptr, out.len, "m.md", NULL) != 0)
			fail_msg("edited case does not parse: %s line %d\n%s",
				 kb_error_last()->message, kb_error_last()->line, out.ptr);
		assert_string_equal(kb_case_title(c), "t: x");
		assert_int_equal(kb_case_get_list(c, "tags", NULL), 0);
		assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "s");
		kb_case_free(c);
	}
	kb_buf_release(&b);
	kb_buf_release(&out);
	free(orig);
}

static void test_front_matter_only(void **state)
{
	kb_case *c = parse_ok("---\nid: A-1\ntitle: Only\n---\n");

	(void)state;
	assert_int_equal(kb_case_section_count(c), 0);
	assert_string_equal(kb_case_other_text(c), "");
	kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "x");
	assert_serializes_to(c, "---\nid: A-1\ntitle: Only\n---\n\n## Symptom\n\nx\n");
	kb_case_free(c);
	c = parse_ok("---\nid: A-1\n---");
	kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "x");
	assert_serializes_to(c, "---\nid: A-1\n---\n\n## Symptom\n\nx\n");
	kb_case_free(c);
}

static void test_ten_thousand_sections(void **state)
{
	kb_buf b = KB_BUF_INIT, out = KB_BUF_INIT;
	kb_case *c = NULL;
	int i;

	(void)state;
	kb_buf_puts(&b, "---\nid: BIG\n---\n");
	for (i = 0; i < 10000; i++)
		kb_buf_printf(&b, "\n## Section %d\n\nText %d.\n", i, i);
	assert_int_equal(kb_case_parse(&c, b.ptr, b.len, NULL, NULL), 0);
	assert_int_equal(kb_case_section_count(c), 10000);
	assert_string_equal(kb_case_section_at(c, 9999)->body, "Text 9999.");
	assert_int_equal(kb_case_section_at(c, 9999)->line, 4 + 9999 * 4 + 1);
	kb_case_serialize(c, &out);
	assert_int_equal(out.len, b.len);
	assert_memory_equal(out.ptr, b.ptr, b.len);
	kb_buf_release(&b);
	kb_buf_release(&out);
	kb_case_free(c);
}

static void test_extremely_long_lines(void **state)
{
	size_t n = 8 * 1024 * 1024, i;
	kb_buf b = KB_BUF_INIT;
	kb_case *c = NULL;

	(void)state;
	kb_buf_puts(&b, "---\nid: LONG\ntitle: ");
	for (i = 0; i < n / 8; i++)
		kb_buf_puts(&b, "长标题 ");
	kb_buf_puts(&b, "end\n---\n\n## Symptom\n\n");
	kb_buf_grow(&b, n);
	for (i = 0; i < n; i++)
		kb_buf_putc(&b, (char)('a' + i % 26));
	kb_buf_putc(&b, '\n');
	assert_int_equal(kb_case_parse(&c, b.ptr, b.len, NULL, NULL), 0);
	assert_int_equal(strlen(kb_case_title(c)), n / 8 * 10 + 3);
	assert_int_equal(strlen(kb_case_section(c, KB_SECTION_SYMPTOM)), n);
	kb_buf_release(&b);
	kb_case_free(c);
}

static void test_huge_file(void **state)
{
	size_t target = 50u * 1024 * 1024;
	kb_buf b = KB_BUF_INIT;
	kb_case *c = NULL;
	clock_t t0 = clock();
	int i = 0, rc;

	(void)state;
	kb_buf_grow(&b, target + 256);
	kb_buf_puts(&b, "---\nid: HUGE\ntitle: Huge\n---\n");
	while (b.len < target) {
		kb_buf_printf(&b, "\n## Part %d\n\nPump P-%d tripped on overload; reset and ran. "
			      "振动 %d mm/s，已处理。\n", i, i, i % 10);
		i++;
	}
	rc = kb_case_parse(&c, b.ptr, b.len, NULL, NULL);
	if (rc == 0) {
		assert_true(kb_case_section_count(c) == (size_t)i);
		kb_case_free(c);
	} else {
		assert_int_equal(rc, KB_EINPUT);
		assert_null(c);
	}
	/* generous: minutes under valgrind would still fail here */
	assert_true((clock() - t0) / CLOCKS_PER_SEC < 120);
	kb_buf_release(&b);
}

/* ---- html --------------------------------------------------------------- */

static void test_render_html(void **state)
{
	kb_case *c = parse_ok("---\nid: H-1\ntitle: Fan <b>& \"quotes\"\ntags: [a<b, c]\n---\n\n"
			      "## Symptom\n\nRaw <script>alert(1)</script> and [x](javascript:alert(1))\n");
	kb_buf b = KB_BUF_INIT;

	(void)state;
	kb_case_render_html(c, &b);
	assert_non_null(strstr(b.ptr, "<h1 class=\"kb-title\">Fan &lt;b&gt;&amp; &quot;quotes&quot;"
				      "</h1>"));
	assert_non_null(strstr(b.ptr, "<dt>id</dt><dd>H-1</dd>"));
	assert_non_null(strstr(b.ptr, "<dt>tags</dt><dd>a&lt;b, c</dd>"));
	assert_non_null(strstr(b.ptr, "<h2>Symptom</h2>"));
	assert_null(strstr(b.ptr, "<script>"));
	assert_null(strstr(b.ptr, "javascript:"));
	assert_non_null(strstr(b.ptr, "</article>\n"));
	kb_buf_release(&b);
	kb_case_free(c);
}

static void test_new_case(void **state)
{
	kb_case *c = kb_case_new("NEW-1"), *back = NULL;
	kb_buf b = KB_BUF_INIT;
	kb_diags d = KB_DIAGS_INIT;

	(void)state;
	assert_string_equal(kb_case_id(c), "NEW-1");
	assert_null(kb_case_path(c));
	assert_int_equal(kb_case_section_count(c), 0);
	kb_case_set(c, "title", "新案例");
	kb_case_set(c, "status", "draft");
	kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "现象");
	assert_int_equal(kb_case_validate(c, &d), 0);
	kb_case_serialize(c, &b);
	assert_string_equal(b.ptr, "---\nid: NEW-1\ntitle: 新案例\nstatus: draft\n---\n\n## Symptom\n\n"
			    "现象\n");
	assert_int_equal(kb_case_parse(&back, b.ptr, b.len, NULL, NULL), 0);
	assert_string_equal(kb_case_section(back, KB_SECTION_SYMPTOM), "现象");
	kb_diags_release(&d);
	kb_buf_release(&b);
	kb_case_free(back);
	kb_case_free(c);
	kb_case_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_sample_kb),
		cmocka_unit_test(test_roundtrip_odd_inputs),
		cmocka_unit_test(test_roundtrip_inline_odd_inputs),
		cmocka_unit_test(test_dup_is_deep_and_identical),
		cmocka_unit_test(test_dup_of_new_case),
		cmocka_unit_test(test_set_replaces_block_scalar),
		cmocka_unit_test(test_set_keeps_indented_mapping),
		cmocka_unit_test(test_set_middle_section_crlf),
		cmocka_unit_test(test_many_appended_sections),
		cmocka_unit_test(test_front_matter_accessors),
		cmocka_unit_test(test_section_accessors),
		cmocka_unit_test(test_other_text_joins_unknown_and_loose_text),
		cmocka_unit_test(test_names_and_status),
		cmocka_unit_test(test_template_empty_values),
		cmocka_unit_test(test_null_spellings_are_empty),
		cmocka_unit_test(test_set_replaces_only_that_key),
		cmocka_unit_test(test_set_keeps_trailing_comment),
		cmocka_unit_test(test_set_appends_before_trailing_comments),
		cmocka_unit_test(test_set_values_parse_back),
		cmocka_unit_test(test_set_quotes_only_when_needed),
		cmocka_unit_test(test_set_list_parses_back),
		cmocka_unit_test(test_unset_removes_entry_and_its_comments),
		cmocka_unit_test(test_crlf_edits_keep_crlf),
		cmocka_unit_test(test_set_section_replaces_body_only),
		cmocka_unit_test(test_set_section_fills_empty_and_appends),
		cmocka_unit_test(test_append_after_missing_newline),
		cmocka_unit_test(test_append_closes_open_fence),
		cmocka_unit_test(test_edit_keeps_heading_apart_from_text),
		cmocka_unit_test(test_edits_with_the_cases_own_strings),
		cmocka_unit_test(test_add_section_maps_alias),
		cmocka_unit_test(test_aliases_english),
		cmocka_unit_test(test_aliases_chinese),
		cmocka_unit_test(test_aliases_width_folded),
		cmocka_unit_test(test_aliases_config_added),
		cmocka_unit_test(test_headings_as_written),
		cmocka_unit_test(test_level1_ends_section),
		cmocka_unit_test(test_validate_valid_case),
		cmocka_unit_test(test_validate_id_missing),
		cmocka_unit_test(test_validate_id_invalid),
		cmocka_unit_test(test_id_valid_rules),
		cmocka_unit_test(test_validate_file_name),
		cmocka_unit_test(test_validate_title_missing),
		cmocka_unit_test(test_validate_symptom_missing),
		cmocka_unit_test(test_validate_status_missing),
		cmocka_unit_test(test_validate_status_unknown),
		cmocka_unit_test(test_validate_validated_needs_resolution),
		cmocka_unit_test(test_validate_validated_needs_reviewer),
		cmocka_unit_test(test_validate_obsolete_needs_superseded_by),
		cmocka_unit_test(test_validate_dates),
		cmocka_unit_test(test_validate_future_date_warns),
		cmocka_unit_test(test_validate_empty_section_warns),
		cmocka_unit_test(test_validate_tags_items),
		cmocka_unit_test(test_validate_links_are_ids),
		cmocka_unit_test(test_validate_scalar_key_holding_list),
		cmocka_unit_test(test_bad_yaml_syntax),
		cmocka_unit_test(test_truncated_front_matter),
		cmocka_unit_test(test_missing_closing_marker),
		cmocka_unit_test(test_missing_opening_marker),
		cmocka_unit_test(test_tabs_in_yaml),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_invalid_utf8_reports_line),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_nested_mapping_rejected),
		cmocka_unit_test(test_top_level_not_mapping),
		cmocka_unit_test(test_list_where_scalar_expected),
		cmocka_unit_test(test_aliases_and_complex_keys_rejected),
		cmocka_unit_test(test_line_separators_rejected),
		cmocka_unit_test(test_deeply_nested_lists_rejected),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_binary_garbage),
		cmocka_unit_test(test_mutated_inputs),
		cmocka_unit_test(test_front_matter_only),
		cmocka_unit_test(test_ten_thousand_sections),
		cmocka_unit_test(test_extremely_long_lines),
		cmocka_unit_test(test_huge_file),
		cmocka_unit_test(test_render_html),
		cmocka_unit_test(test_new_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
