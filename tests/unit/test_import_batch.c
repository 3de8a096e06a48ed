/* test_import_batch.c - de-duplication through the in-memory similar index
 * (importers/pipeline.c with core/simidx.h) decides exactly as the SQL
 * lookup does: the same records, duplicates and scores for an import of
 * generated English and Chinese notes into a KB of earlier imports, in a
 * dry run and a real one (one commit). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "kb/import.h"
#include "kb/store.h"
#include "../../importers/import_internal.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

static const char *const equip[] = { "pump", "fan", "chiller", "boiler", "compressor",
				     "valve", "conveyor", "gearbox", "elevator", "cooling-tower" };
static const char *const fault[] = { "tripped on overload", "bearing noise and vibration",
				     "high head pressure alarm", "low flow after restart",
				     "seal leaking at the shaft", "belt slipping under load",
				     "overheating at full speed", "fault code E-%d" };
static const char *const act[] = { "reset the breaker and checked insulation",
				   "replaced the bearing", "cleaned the condenser coil",
				   "tightened the terminals", "re-tensioned the belt",
				   "replaced the contactor", "flushed the strainer" };
static const char *const zeq[] = { "水泵", "风机", "冷水机组", "锅炉", "空压机", "电梯" };
static const char *const zf[] = { "过载跳闸", "轴承异响振动大", "高压报警", "重启后流量低",
				  "轴封漏水", "皮带打滑" };
static const char *const za[] = { "复位断路器并测绝缘", "更换轴承", "清洗冷凝器",
				  "紧固接线端子", "更换机械密封" };
#define PICK(a, r) (a)[(r) % (sizeof(a) / sizeof((a)[0]))]

/* n notes, one a line with a date in front; `seed` picks the words. */
static void write_notes(const char *path, int n, unsigned seed)
{
	kb_buf b = KB_BUF_INIT;
	char f[64];
	int i;

	for (i = 0; i < n; i++) {
		unsigned r1 = (unsigned)rand_r(&seed), r2 = (unsigned)rand_r(&seed);
		unsigned r3 = (unsigned)rand_r(&seed);
		kb_buf_printf(&b, "2025-%02d-%02d ", i % 12 + 1, i % 28 + 1);
		if (i % 2) {
			snprintf(f, sizeof(f), PICK(fault, r2), (int)(r3 % 9));
			kb_buf_printf(&b, "%s P-%u %s, %s\n\n", PICK(equip, r1), r3 % 7, f,
				      PICK(act, r3));
		} else {
			kb_buf_printf(&b, "%s%u号%s，%s。\n\n", PICK(zeq, r1), r3 % 5, PICK(zf, r2),
				      PICK(za, r3));
		}
	}
	tu_write_file(path, b.ptr, b.len);
	kb_buf_release(&b);
}

static int run(kb_import_result *r, kb_store *s, const char *path, int dry_run, size_t after)
{
	kb_import_options o = KB_IMPORT_OPTIONS_INIT;
	const char *paths[1] = { path };
	int rc;

	o.author = &alice;
	o.dry_run = dry_run;
	kb__import_batch_after = after;
	kb_import_result_release(r);
	rc = kb_import_notes(r, s, paths, 1, &o);
	kb__import_batch_after = 500;
	return rc;
}

static void same_records(const kb_import_result *a, const kb_import_result *b)
{
	size_t i;

	assert_int_equal(a->count, b->count);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->duplicates, b->duplicates);
	assert_int_equal(a->skipped, b->skipped);
	for (i = 0; i < a->count; i++) {
		const kb_import_record *x = &a->items[i], *y = &b->items[i];
		assert_int_equal(x->action, y->action);
		assert_string_equal(x->id ? x->id : "", y->id ? y->id : "");
		assert_string_equal(x->duplicate_of ? x->duplicate_of : "",
				    y->duplicate_of ? y->duplicate_of : "");
		if (fabs(x->score - y->score) > 1e-9)
			fail_msg("record %zu: score %.17g by SQL, %.17g in memory", i, x->score,
				 y->score);
	}
}

static void test_batch_decides_as_sql(void **state)
{
	kb_import_result sql = KB_IMPORT_RESULT_INIT, mem = KB_IMPORT_RESULT_INIT;
	kb_store *s = NULL;
	kb_buf out = KB_BUF_INIT;
	char *dir;

	(void)state;
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("HOME", ".", 1);
	tu_git_identity();
	dir = tu_mkdtemp("kb");
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	write_notes("base.txt", 150, 1);
	assert_int_equal(run(&sql, s, "base.txt", 0, SIZE_MAX), 0);
	assert_true(sql.created > 50);
	write_notes("more.txt", 200, 2);
	/* the SQL lookup first: it takes a fresh df snapshot, which the
	 * in-memory index matches exactly */
	assert_int_equal(run(&sql, s, "more.txt", 1, SIZE_MAX), 0);
	assert_int_equal(run(&mem, s, "more.txt", 1, 0), 0);
	same_records(&sql, &mem);
	assert_true(sql.duplicates > 20);
	assert_true(sql.created > 20);
	/* real run through the in-memory index: the same, in one commit */
	assert_int_equal(run(&mem, s, "more.txt", 0, 0), 0);
	same_records(&sql, &mem);
	assert_int_equal(tu_sh(&out, "cd '%s' && git rev-list --count HEAD", dir), 0);
	assert_string_equal(out.ptr, "3\n");
	kb_buf_release(&out);
	kb_import_result_release(&sql);
	kb_import_result_release(&mem);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_decides_as_sql),
	};

	return tu_run_isolated(tests);
}
