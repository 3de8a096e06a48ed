/* test_extract.c - kb_extract_note (kb/extract.h): the two reference
 * notes, a dozen more in English and Chinese, options, and malformed,
 * truncated, huge and binary input. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "kb/extract.h"
#include "kb/redact.h"

static kb_abbrev *abbrev;

static int setup(void **state)
{
	(void)state;
	abbrev = kb_abbrev_new();
	return kb_abbrev_load(abbrev, tu_srcpath("tests/fixtures/notes/extract-abbrev.txt"));
}

static int teardown(void **state)
{
	(void)state;
	kb_abbrev_free(abbrev);
	return 0;
}

static void extract(kb_extraction *x, const char *s)
{
	kb_extract_options o = KB_EXTRACT_OPTIONS_INIT;

	o.abbrev = abbrev;
	assert_int_equal(kb_extract_note(x, s, strlen(s), &o), 0);
}

#define ASSERT_FIELD(x, f, want) do { \
	if ((want) == NULL) \
		assert_null((x)->f); \
	else { \
		assert_non_null((x)->f); \
		assert_string_equal((x)->f, (want)); \
	} \
} while (0)

static void test_reference_english(void **state)
{
	kb_extraction x;

	(void)state;
	extract(&x, "03/04 plt3 ch#2 tripped HP again. chkd cond fans, fan 2 mtr u/s - rplcd, "
		    "cleaned coils. ok now -zhang");
	ASSERT_FIELD(&x, date, "03-04");
	ASSERT_FIELD(&x, date_text, "03/04");
	ASSERT_FIELD(&x, site, "Plant 3");
	ASSERT_FIELD(&x, equipment, "chiller");
	ASSERT_FIELD(&x, equipment_id, "CH-2");
	ASSERT_FIELD(&x, symptom, "tripped on high pressure again");
	ASSERT_FIELD(&x, checks, "checked condenser fans");
	ASSERT_FIELD(&x, cause, "condenser fan 2 motor unserviceable");
	ASSERT_FIELD(&x, resolution, "replaced fan 2 motor, cleaned coils");
	ASSERT_FIELD(&x, author, "zhang");
	ASSERT_FIELD(&x, title, "Chiller tripped on high pressure again");
	kb_extraction_release(&x);
	assert_null(x.title);
}

static void test_reference_chinese(void **state)
{
	kb_extraction x;

	(void)state;
	extract(&x, "3月4日 3号楼2号冷机高压跳闸，检查冷凝风机，2号风机电机烧毁，更换后正常。——张工");
	ASSERT_FIELD(&x, date, "03-04");
	ASSERT_FIELD(&x, date_text, "3月4日");
	ASSERT_FIELD(&x, site, "3号楼");
	ASSERT_FIELD(&x, equipment, "chiller");
	ASSERT_FIELD(&x, equipment_text, "冷机");
	ASSERT_FIELD(&x, equipment_id, "2号冷机");
	ASSERT_FIELD(&x, symptom, "高压跳闸");
	ASSERT_FIELD(&x, checks, "检查冷凝风机");
	ASSERT_FIELD(&x, cause, "2号风机电机烧毁");
	ASSERT_FIELD(&x, resolution, "更换后正常");
	ASSERT_FIELD(&x, author, "张工");
	ASSERT_FIELD(&x, title, "冷机高压跳闸");
	kb_extraction_release(&x);
}

static void test_year_option_and_day_first(void **state)
{
	kb_extract_options o = KB_EXTRACT_OPTIONS_INIT;
	kb_extraction x;
	const char *s = "03/04 ahu-2 filter alarm";

	(void)state;
	o.year = 2024;
	assert_int_equal(kb_extract_note(&x, s, strlen(s), &o), 0);
	ASSERT_FIELD(&x, date, "2024-03-04");
	kb_extraction_release(&x);
	o.day_first = 1;
	assert_int_equal(kb_extract_note(&x, s, strlen(s), &o), 0);
	ASSERT_FIELD(&x, date, "2024-04-03");
	ASSERT_FIELD(&x, equipment_id, "AHU-2");
	kb_extraction_release(&x);
	s = "2024年3月4日 冷却塔风机异响";
	assert_int_equal(kb_extract_note(&x, s, strlen(s), NULL), 0);
	ASSERT_FIELD(&x, date, "2024-03-04");
	ASSERT_FIELD(&x, equipment, "cooling tower");
	ASSERT_FIELD(&x, symptom, "风机异响");
	kb_extraction_release(&x);
}

static void test_more_english(void **state)
{
	kb_extraction x;

	(void)state;
	extract(&x, "boiler B-1 no ignition. found flame sensor dirty, cleaned it -li");
	ASSERT_FIELD(&x, equipment, "boiler");
	ASSERT_FIELD(&x, equipment_id, "B-1");
	ASSERT_FIELD(&x, symptom, "no ignition");
	ASSERT_FIELD(&x, cause, "flame sensor dirty");
	ASSERT_FIELD(&x, resolution, "cleaned it");
	ASSERT_FIELD(&x, author, "li");
	kb_extraction_release(&x);

	extract(&x, "UPS alarm on battery, batteries replaced by Wang");
	ASSERT_FIELD(&x, equipment, "ups");
	ASSERT_FIELD(&x, title, "UPS alarm on battery");
	ASSERT_FIELD(&x, resolution, "batteries replaced");
	ASSERT_FIELD(&x, author, "Wang");
	kb_extraction_release(&x);

	extract(&x, "cooling tower CT-3 fan vibration high due to loose belt; tightened belt - Li Wei");
	ASSERT_FIELD(&x, equipment_id, "CT-3");
	ASSERT_FIELD(&x, symptom, "fan vibration high");
	ASSERT_FIELD(&x, cause, "loose belt");
	ASSERT_FIELD(&x, resolution, "tightened belt");
	ASSERT_FIELD(&x, author, "Li Wei");
	kb_extraction_release(&x);

	extract(&x, "12/05/2024 Tower B genset failed to start during weekly test. Batt flat, "
		    "charger u/s. Replaced charger & batt.");
	ASSERT_FIELD(&x, date, "2024-12-05");
	ASSERT_FIELD(&x, site, "Tower B");
	ASSERT_FIELD(&x, equipment, "generator");
	ASSERT_FIELD(&x, symptom, "failed to start during weekly test");
	ASSERT_FIELD(&x, cause, "battery flat, charger unserviceable");
	ASSERT_FIELD(&x, resolution, "Replaced charger & battery");
	ASSERT_FIELD(&x, author, NULL);
	kb_extraction_release(&x);

	extract(&x, "Plant 3 SWGR-1 ACB tripped on O/L. found loose cable lug, tightened & reset");
	ASSERT_FIELD(&x, equipment, "switchgear");
	ASSERT_FIELD(&x, equipment_id, "SWGR-1");
	ASSERT_FIELD(&x, symptom, "air circuit breaker tripped on overload");
	ASSERT_FIELD(&x, cause, "loose cable lug");
	ASSERT_FIELD(&x, resolution, "tightened & reset");
	kb_extraction_release(&x);

	extract(&x, "Bldg 2 lift stuck between floors 3 and 4, door lock switch faulty, "
		    "adjusted and reset. by Chen");
	ASSERT_FIELD(&x, site, "Building 2");
	ASSERT_FIELD(&x, equipment, "elevator");
	ASSERT_FIELD(&x, symptom, "stuck between floors 3 and 4");
	ASSERT_FIELD(&x, cause, "door lock switch faulty");
	ASSERT_FIELD(&x, author, "Chen");
	kb_extraction_release(&x);
}

static void test_more_chinese(void **state)
{
	kb_extraction x;

	(void)state;
	extract(&x, "A栋 1#电梯困人，原因是门锁回路接触不良，已调整门刀，测试正常 -- 王师傅");
	ASSERT_FIELD(&x, site, "A栋");
	ASSERT_FIELD(&x, equipment, "elevator");
	ASSERT_FIELD(&x, equipment_id, "1#电梯");
	ASSERT_FIELD(&x, symptom, "困人");
	ASSERT_FIELD(&x, cause, "门锁回路接触不良");
	ASSERT_FIELD(&x, resolution, "已调整门刀");
	ASSERT_FIELD(&x, author, "王师傅");
	kb_extraction_release(&x);

	extract(&x, "2号楼 消防主机报警 烟感故障 更换烟感后复位正常");
	ASSERT_FIELD(&x, site, "2号楼");
	ASSERT_FIELD(&x, equipment, "fire alarm panel");
	ASSERT_FIELD(&x, symptom, "报警，感烟探测器故障");
	ASSERT_FIELD(&x, resolution, "更换感烟探测器后复位正常");
	kb_extraction_release(&x);

	extract(&x, "1号锅炉点火失败报警，检查发现火焰探测器脏污，清洗后恢复正常 记录人：李四");
	ASSERT_FIELD(&x, equipment_id, "1号锅炉");
	ASSERT_FIELD(&x, symptom, "点火失败报警");
	ASSERT_FIELD(&x, cause, "火焰探测器脏污");
	ASSERT_FIELD(&x, resolution, "清洗后恢复正常");
	ASSERT_FIELD(&x, author, "李四");
	ASSERT_FIELD(&x, title, "锅炉点火失败报警");
	kb_extraction_release(&x);

	extract(&x, "３月４日 ３号楼２号冷机高压跳闸，ＣＨ－２复位后正常");
	ASSERT_FIELD(&x, date, "03-04");
	ASSERT_FIELD(&x, site, "3号楼");
	ASSERT_FIELD(&x, equipment_id, "2号冷机");
	ASSERT_FIELD(&x, symptom, "高压跳闸");
	ASSERT_FIELD(&x, resolution, "CH-2复位后正常");
	kb_extraction_release(&x);

	extract(&x, "数据中心A栋UPS报警，由于电池老化，更换电池组。");
	ASSERT_FIELD(&x, site, "A栋");
	ASSERT_FIELD(&x, equipment, "ups");
	ASSERT_FIELD(&x, cause, "电池老化");
	ASSERT_FIELD(&x, resolution, "更换电池组");
	kb_extraction_release(&x);
}

static void test_no_false_signature_or_ids(void **state)
{
	kb_extraction x;

	(void)state;
	extract(&x, "Carrier 30XA-0502 high pressure trip, fan mtr u/s - rplcd");
	ASSERT_FIELD(&x, author, NULL);
	ASSERT_FIELD(&x, date, NULL);
	ASSERT_FIELD(&x, resolution, "replaced fan motor");
	kb_extraction_release(&x);
	extract(&x, "pump 3 noisy, checked pump, pump seal worn");
	ASSERT_FIELD(&x, cause, "pump seal worn");          /* "checked" is no qualifier */
	kb_extraction_release(&x);
	extract(&x, "nothing to see here");
	ASSERT_FIELD(&x, equipment, NULL);
	ASSERT_FIELD(&x, symptom, "nothing to see here");
	ASSERT_FIELD(&x, title, "nothing to see here");
	kb_extraction_release(&x);
	extract(&x, "");
	ASSERT_FIELD(&x, symptom, NULL);
	ASSERT_FIELD(&x, title, NULL);
	kb_extraction_release(&x);
}

static void test_bad_input(void **state)
{
	kb_extraction x;
	char bin[400];
	size_t i;

	(void)state;
	assert_int_equal(kb_extract_note(&x, "ch tripped \xff", 12, NULL), KB_EINPUT);
	assert_null(x.symptom);
	assert_int_equal(kb_extract_note(&x, "ch\0x", 4, NULL), KB_EINPUT);
	assert_int_equal(kb_extract_note(&x, "冷机\xe8\xb7", 8, NULL), KB_EINPUT);
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 31 + 7);
	assert_int_equal(kb_extract_note(&x, bin, sizeof(bin), NULL), KB_EINPUT);
	assert_null(x.title);
}

static void test_huge_note(void **state)
{
	kb_buf b = KB_BUF_INIT;
	kb_extraction x;
	size_t i;

	(void)state;
	kb_buf_puts(&b, "2024-01-02 ahu-1 ");
	for (i = 0; i < 60000; i++)
		kb_buf_puts(&b, "filter alarm, replaced filter; ");
	for (i = 0; i < 200000; i++)
		kb_buf_putc(&b, '-');
	assert_true(b.len > 2000000);
	extract(&x, b.ptr);
	ASSERT_FIELD(&x, equipment_id, "AHU-1");
	assert_non_null(x.symptom);
	assert_non_null(x.resolution);
	assert_true(strlen(x.title) <= 80);
	kb_extraction_release(&x);
	kb_buf_release(&b);
}

/* Random notes built from the pieces the rules look at: every call must
 * succeed, and ASan/valgrind runs check that nothing reads out of bounds. */
static void test_random_pieces(void **state)
{
	static const char *const pieces[] = {
		"03/04", "2024-03-04", "3月4日", "年", "号", "#", "-", "--", "——", "—", " ",
		"\n", ",", "，", "。", ".", " - ", "plt", "3", "Bldg", "A栋", "号楼", "ch", "ahu",
		"冷机", "pump", "tripped", "u/s", "rplcd", "due to", "原因是", "by ", "Wang",
		"记录人：", "张工", "HP", "x", "2号", "1#", "```", "é", "🙂"
	};
	unsigned seed = 12345;
	kb_buf b = KB_BUF_INIT;
	int i, k;

	(void)state;
	for (i = 0; i < 3000; i++) {
		kb_extraction x;
		int n = (int)(seed % 24);

		kb_buf_clear(&b);
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			kb_buf_puts(&b, pieces[(seed >> 8) % (sizeof(pieces) / sizeof(pieces[0]))]);
		}
		seed = seed * 1103515245u + 12345u;
		extract(&x, b.ptr);
		if (x.title)
			assert_true(strlen(x.title) <= 80);
		kb_extraction_release(&x);
	}
	kb_buf_release(&b);
}

static void test_draft_case(void **state)
{
	const char *note = "03/04 plt3 ch#2 tripped HP again. chkd cond fans, fan 2 mtr u/s - "
			   "rplcd, cleaned coils. ok now -zhang";
	/* the original text as stored: with a heading and a fence of its own */
	const char *orig_text = "03/04 plt3 ch#2 tripped HP again. chkd cond fans, fan 2 mtr u/s - "
				"rplcd, cleaned coils. ok now -zhang\n## not a heading\n```\n";
	kb_extract_source src = { NULL, "notebook.txt", 12 };
	kb_extract_options o = KB_EXTRACT_OPTIONS_INIT;
	kb_extraction x;
	kb_case *c, *back = NULL;
	kb_buf b = KB_BUF_INIT;
	char hex[17];
	const char *orig;

	(void)state;
	o.abbrev = abbrev;
	o.year = 2024;
	assert_int_equal(kb_extract_note(&x, note, strlen(note), &o), 0);
	assert_int_equal(kb_extract_to_case(&c, &x, orig_text, strlen(orig_text), &src), 0);
	kb_extract_hash(hex, orig_text, strlen(orig_text));
	assert_memory_equal(kb_case_id(c), "draft-", 6);
	assert_memory_equal(kb_case_id(c) + 6, hex, 12);
	assert_int_equal(kb_case_status(c), KB_STATUS_DRAFT);
	assert_string_equal(kb_case_title(c), "Chiller tripped on high pressure again");
	assert_string_equal(kb_case_get(c, "equipment"), "chiller");
	assert_string_equal(kb_case_get(c, "equipment_id"), "CH-2");
	assert_string_equal(kb_case_get(c, "site"), "Plant 3");
	assert_string_equal(kb_case_get(c, "author"), "zhang");
	assert_string_equal(kb_case_get(c, "created"), "2024-03-04");
	assert_string_equal(kb_case_get(c, "source"), "notebook.txt");
	assert_string_equal(kb_case_get(c, "source_line"), "12");
	assert_string_equal(kb_case_get(c, "source_hash"), hex);
	assert_string_equal(kb_case_section(c, KB_SECTION_CAUSE), "condenser fan 2 motor unserviceable");
	assert_non_null(strstr(kb_case_section(c, KB_SECTION_RESOLUTION), "replaced fan 2 motor"));

	/* the serialized file parses back with the original text intact */
	kb_case_serialize(c, &b);
	assert_int_equal(kb_case_parse(&back, b.ptr, b.len, NULL, NULL), 0);
	orig = kb_case_section(back, KB_SECTION_ORIGINAL);
	assert_non_null(orig);
	assert_non_null(strstr(orig, orig_text));
	assert_int_equal(kb_case_section_count(back), 4);   /* the note's "##" is no heading */
	assert_string_equal(kb_case_section(back, KB_SECTION_SYMPTOM),
			    "tripped on high pressure again");
	kb_case_free(back);
	kb_case_free(c);
	kb_buf_release(&b);

	src.id = "CHL-0100";
	{
		kb_diags d = KB_DIAGS_INIT;
		const char *zh = "3月4日 3号楼2号冷机高压跳闸，检查冷凝风机，2号风机电机烧毁，更换后正常。——张工";
		kb_extraction y;

		assert_int_equal(kb_extract_note(&y, zh, strlen(zh), &o), 0);
		assert_int_equal(kb_extract_to_case(&c, &y, zh, strlen(zh), NULL), 0);
		assert_int_equal(kb_case_validate(c, &d), 0);
		assert_string_equal(kb_case_section(c, KB_SECTION_SYMPTOM), "高压跳闸");
		assert_string_equal(kb_case_section_at(c, 0)->heading, "故障现象");
		assert_string_equal(kb_case_section(c, KB_SECTION_RESOLUTION), "检查冷凝风机\n\n更换后正常");
		assert_null(kb_case_get(c, "source"));
		kb_diags_release(&d);
		kb_case_free(c);
		kb_extraction_release(&y);
	}
	assert_int_equal(kb_extract_to_case(&c, &x, note, strlen(note), &src), 0);
	assert_string_equal(kb_case_id(c), "CHL-0100");
	kb_case_free(c);
	assert_int_equal(kb_extract_to_case(&c, &x, "bad \xff", 5, &src), KB_EINPUT);
	assert_null(c);
	kb_extraction_release(&x);
}

/* The import pipeline: split, mask, extract, draft; nothing unmasked is
 * written and the fields survive masking. */
static void test_pipeline_masks_before_writing(void **state)
{
	const char *book = "03/04 plt3 ch#2 tripped HP again, call 13812345678 -zhang\n"
			   "3月5日 A栋UPS报警，电池老化，更换电池组。联系人邮箱 li@example.com ——张工\n";
	kb_notes notes = KB_NOTES_INIT;
	kb_extract_options o = KB_EXTRACT_OPTIONS_INIT;
	size_t i;

	(void)state;
	o.abbrev = abbrev;
	o.year = 2024;
	assert_int_equal(kb_notes_split(&notes, book, strlen(book), KB_NOTES_AUTO), 0);
	assert_int_equal(notes.count, 2);
	for (i = 0; i < notes.count; i++) {
		kb_buf masked = KB_BUF_INIT, file = KB_BUF_INIT;
		kb_extract_source src = { NULL, "book.txt", notes.items[i].line };
		kb_redact_counts counts;
		kb_extraction x;
		kb_case *c;

		assert_int_equal(kb_redact_text(&masked, NULL, notes.items[i].text, notes.items[i].len,
						&counts), 0);
		assert_int_equal(counts.counts[i ? KB_REDACT_EMAIL : KB_REDACT_PHONE], 1);
		assert_int_equal(kb_extract_note(&x, masked.ptr, masked.len, &o), 0);
		assert_int_equal(kb_extract_to_case(&c, &x, masked.ptr, masked.len, &src), 0);
		kb_case_serialize(c, &file);
		assert_null(strstr(file.ptr, "13812345678"));
		assert_null(strstr(file.ptr, "li@example.com"));
		assert_string_equal(kb_case_get(c, "author"), i ? "张工" : "zhang");
		assert_string_equal(kb_case_get(c, "source_line"), i ? "2" : "1");
		assert_string_equal(kb_case_get(c, "equipment"), i ? "ups" : "chiller");
		kb_case_free(c);
		kb_extraction_release(&x);
		kb_buf_release(&masked);
		kb_buf_release(&file);
	}
	kb_notes_release(&notes);
}

static void test_hash(void **state)
{
	char h[17];

	(void)state;
	kb_extract_hash(h, "", 0);
	assert_string_equal(h, "cbf29ce484222325");
	kb_extract_hash(h, "a", 1);
	assert_string_equal(h, "af63dc4c8601ec8c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_english),
		cmocka_unit_test(test_reference_chinese),
		cmocka_unit_test(test_year_option_and_day_first),
		cmocka_unit_test(test_more_english),
		cmocka_unit_test(test_more_chinese),
		cmocka_unit_test(test_no_false_signature_or_ids),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_huge_note),
		cmocka_unit_test(test_random_pieces),
		cmocka_unit_test(test_draft_case),
		cmocka_unit_test(test_pipeline_masks_before_writing),
		cmocka_unit_test(test_hash),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
