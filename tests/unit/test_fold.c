/* test_fold.c - kb_fold_cases() and kb_fold() (kb/lifecycle.h): every
 * section of the duplicate kept in the survivor in both heading languages,
 * tags and links, one commit, and refusals that write nothing. */
#include <stdlib.h>
#include <string.h>

#include "kb/case.h"
#include "kb/lifecycle.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

static kb_case *parse(const char *text)
{
	kb_case *c = NULL;

	assert_int_equal(kb_case_parse(&c, text, strlen(text), NULL, NULL), 0);
	return c;
}

static const char dup_zh[] =
	"---\nid: D-1\ntitle: 冷机跳闸\nstatus: draft\ntags: [冷机, fan]\n---\n"
	"夜班记录。\n\n## 故障现象\n\n高压跳闸。\n\n## 原因\n\n风扇坏。\n\n## 现场记录\n\n读数 18 bar。\n";
static const char into_en[] =
	"---\nid: S-1\ntitle: Chiller trips\nstatus: validated\nreviewer: R <r@x.org>\n"
	"tags: [fan]\n---\n\n## Symptom\n\nHigh head pressure trip.\n\n## Resolution\n\nNew fan.\n";

static void test_fold_cases_keeps_everything(void **state)
{
	kb_case *d = parse(dup_zh), *s = parse(into_en), *r;
	kb_buf out = KB_BUF_INIT;
	const char *const *items;
	size_t n;

	(void)state;
	kb_fold_cases(s, d, "2024-06-01");
	kb_case_serialize(s, &out);
	r = parse(out.ptr);
	/* the survivor's own sections are unchanged and still first */
	assert_string_equal(kb_case_section(r, KB_SECTION_SYMPTOM), "High head pressure trip.");
	assert_null(kb_case_section(r, KB_SECTION_CAUSE));    /* appended ones are "other" */
	assert_int_equal(kb_case_section_count(r), 6);
	assert_string_equal(kb_case_section_at(r, 2)->heading, "Text outside sections (from D-1)");
	assert_string_equal(kb_case_section_at(r, 2)->body, "夜班记录。");
	assert_string_equal(kb_case_section_at(r, 3)->heading, "故障现象 (from D-1)");
	assert_string_equal(kb_case_section_at(r, 4)->body, "风扇坏。");
	assert_string_equal(kb_case_section_at(r, 5)->heading, "现场记录 (from D-1)");
	n = kb_case_get_list(r, "tags", &items);
	assert_int_equal(n, 2);
	assert_string_equal(items[1], "冷机");
	n = kb_case_get_list(r, "links", &items);
	assert_int_equal(n, 1);
	assert_string_equal(items[0], "D-1");
	assert_string_equal(kb_case_get(r, "updated"), "2024-06-01");
	assert_string_equal(kb_case_get(d, "status"), "archived");
	assert_string_equal(kb_case_get(d, "duplicate_of"), "S-1");
	kb_case_free(r);
	kb_case_free(d);
	kb_case_free(s);
	kb_buf_release(&out);
}

typedef struct {
	char *dir;
	kb_store *s;
} tkb;

static void put(const tkb *k, const char *id, const char *text)
{
	kb_buf path = KB_BUF_INIT;

	kb_buf_printf(&path, "%s/cases/%s.md", k->dir, id);
	tu_write_str(path.ptr, text);
	kb_buf_release(&path);
}

static tkb new_kb(void)
{
	tkb k;

	tu_git_identity();
	k.dir = tu_mkdtemp("kb");
	assert_int_equal(kb_store_init(&k.s, k.dir, &alice), 0);
	put(&k, "D-1", dup_zh);
	put(&k, "S-1", into_en);
	put(&k, "A-1", "---\nid: A-1\ntitle: Old\nstatus: archived\n---\n\n## Symptom\n\nx\n");
	assert_int_equal(tu_sh(NULL, "cd '%s' && git add cases && git commit -qm cases", k.dir), 0);
	return k;
}

static void done_kb(tkb *k)
{
	kb_store_free(k->s);
	tu_rmtree(k->dir);
	free(k->dir);
}

static void test_fold_one_commit(void **state)
{
	tkb k = new_kb();
	kb_buf out = KB_BUF_INIT;
	kb_case *c = NULL;
	char oid[41];

	(void)state;
	assert_int_equal(kb_fold(k.s, "D-1", "S-1", &alice, oid), 0);
	assert_int_equal(tu_sh(&out, "cd '%s' && git log -1 --format='%%an|%%s' && "
			       "git show --name-only --format= HEAD && git status --porcelain",
			       k.dir), 0);
	assert_string_equal(out.ptr, "Alice Wong|Merge D-1 into S-1\ncases/D-1.md\ncases/S-1.md\n");
	assert_int_equal(kb_store_read_case(&c, k.s, "D-1"), 0);
	assert_int_equal(kb_case_status(c), KB_STATUS_ARCHIVED);
	assert_string_equal(kb_case_get(c, "duplicate_of"), "S-1");
	assert_string_equal(kb_case_section(c, KB_SECTION_CAUSE), "风扇坏。");   /* A keeps its text */
	kb_case_free(c);
	assert_int_equal(kb_store_read_case(&c, k.s, "S-1"), 0);
	assert_non_null(strstr(kb_case_other_text(c), "读数 18 bar。"));
	kb_case_free(c);
	/* folded once: A is archived now */
	assert_int_equal(kb_fold(k.s, "D-1", "S-1", &alice, oid), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "already archived"));
	kb_buf_release(&out);
	done_kb(&k);
}

static void test_fold_refusals_write_nothing(void **state)
{
	tkb k = new_kb();
	kb_buf before = KB_BUF_INIT, after = KB_BUF_INIT;
	const char *state_cmd = "cd '%s' && git rev-parse HEAD && git status --porcelain";

	(void)state;
	assert_int_equal(tu_sh(&before, state_cmd, k.dir), 0);
	assert_int_equal(kb_fold(k.s, "NOPE-1", "S-1", &alice, NULL), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "unknown case 'NOPE-1'"));
	assert_int_equal(kb_fold(k.s, "D-1", "NOPE-1", &alice, NULL), KB_EINPUT);
	assert_int_equal(kb_fold(k.s, "D-1", "D-1", &alice, NULL), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "into itself"));
	assert_int_equal(kb_fold(k.s, "A-1", "S-1", &alice, NULL), KB_EINPUT);
	assert_int_equal(kb_fold(k.s, "D-1", "A-1", &alice, NULL), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "'A-1' is already archived"));
	assert_int_equal(kb_fold(k.s, "../x", "S-1", &alice, NULL), KB_EINPUT);
	assert_int_equal(tu_sh(&after, state_cmd, k.dir), 0);
	assert_string_equal(before.ptr, after.ptr);
	kb_buf_release(&before);
	kb_buf_release(&after);
	done_kb(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_cases_keeps_everything),
		cmocka_unit_test(test_fold_one_commit),
		cmocka_unit_test(test_fold_refusals_write_nothing),
	};
	return tu_run_isolated(tests);
}
