/* test_abbrev.c - kb/abbrev.h: dictionary parsing and loading, token-wise
 * expansion (slashes, periods, inflection, CJK), typo step, bad input. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "kb/abbrev.h"

static kb_abbrev *load_fixture(void)
{
	kb_abbrev *a = kb_abbrev_new();

	assert_int_equal(kb_abbrev_load(a, tu_srcpath("tests/fixtures/notes/abbrev.txt")), 0);
	return a;
}

static char *expand(const kb_abbrev *a, const kb_abbrev_options *o, const char *s)
{
	kb_buf b = KB_BUF_INIT;

	assert_int_equal(kb_abbrev_expand(&b, a, o, s, strlen(s), NULL), 0);
	return kb_buf_detach(&b);
}

#define ASSERT_EXPANDS(a, o, in, want) do { \
	char *got_ = expand((a), (o), (in)); \
	assert_string_equal(got_, (want)); \
	free(got_); \
} while (0)

static void test_parse_and_lookup(void **state)
{
	kb_abbrev *a = load_fixture();

	(void)state;
	assert_int_equal(kb_abbrev_count(a), 16);
	assert_string_equal(kb_abbrev_lookup(a, "U/S", 3), "unserviceable");
	assert_string_equal(kb_abbrev_lookup(a, "Mtr", 3), "motor");
	assert_null(kb_abbrev_lookup(a, "mt", 2));
	assert_string_equal(kb_abbrev_lookup(a, "冷机", strlen("冷机")), "冷水机组");
	kb_abbrev_free(a);
}

static void test_parse_string_and_override(void **state)
{
	kb_abbrev *a = kb_abbrev_new();
	const char *d = "# c\n\n  mtr =  motor \r\nmtr = electric motor\nvib=vibration";

	(void)state;
	assert_int_equal(kb_abbrev_parse(a, d, strlen(d), "x.txt"), 0);
	assert_int_equal(kb_abbrev_count(a), 2);
	assert_string_equal(kb_abbrev_lookup(a, "MTR", 3), "electric motor");
	assert_string_equal(kb_abbrev_lookup(a, "vib", 3), "vibration");
	assert_int_equal(kb_abbrev_add(a, "", "x"), KB_EINPUT);
	assert_int_equal(kb_abbrev_add(a, "a b", "x"), KB_EINPUT);
	kb_abbrev_free(a);
}

static void test_parse_malformed(void **state)
{
	kb_abbrev *a = kb_abbrev_new();
	const char *no_eq = "mtr = motor\nbrg bearing\n";
	const char *empty = "mtr =\n";
	const char *bad = "mtr = mo\xff" "tor\n";
	const char *nul = "a = b\n\0c = d\n";

	(void)state;
	assert_int_equal(kb_abbrev_parse(a, no_eq, strlen(no_eq), "d.txt"), KB_EINPUT);
	assert_int_equal(kb_error_last()->line, 2);
	assert_string_equal(kb_error_last()->path, "d.txt");
	assert_int_equal(kb_abbrev_count(a), 1);   /* lines before the bad one stay */
	assert_int_equal(kb_abbrev_parse(a, empty, strlen(empty), NULL), KB_EINPUT);
	assert_int_equal(kb_abbrev_parse(a, bad, strlen(bad), NULL), KB_EINPUT);
	assert_int_equal(kb_abbrev_parse(a, nul, 12, NULL), KB_EINPUT);
	assert_int_equal(kb_error_last()->line, 2);
	assert_int_equal(kb_abbrev_parse(a, "x = 冷\xe6\xb0", 8, NULL), KB_EINPUT);  /* truncated */
	{
		char bin[256];
		size_t i;

		for (i = 0; i < sizeof(bin); i++)
			bin[i] = (char)(i * 11 + 3);
		assert_int_equal(kb_abbrev_parse(a, bin, sizeof(bin), NULL), KB_EINPUT);
	}
	assert_int_equal(kb_abbrev_load(a, "/nonexistent/abbrev.txt"), KB_EIO);
	kb_abbrev_free(a);
}

static void test_expand_tokens(void **state)
{
	kb_abbrev *a = load_fixture();

	(void)state;
	ASSERT_EXPANDS(a, NULL, "fan 2 mtr U/S - rplcd, chk brgs.",
		       "fan 2 motor unserviceable - replaced, check bearings.");
	ASSERT_EXPANDS(a, NULL, "  C/O (mtr)  approx. 3h\n", "  change out (motor)  approximately 3h\n");
	ASSERT_EXPANDS(a, NULL, "pump insp'd OK", "pump inspected OK");
	ASSERT_EXPANDS(a, NULL, "ch#2 HP", "ch#2 high pressure");
	ASSERT_EXPANDS(a, NULL, "", "");
	kb_abbrev_free(a);
}

static void test_expand_slash_and_inflection(void **state)
{
	kb_abbrev *a = load_fixture();
	kb_abbrev_options o = KB_ABBREV_OPTIONS_INIT;

	(void)state;
	ASSERT_EXPANDS(a, NULL, "P/BRAKE mtrs chkd chk'd", "park/BRAKE motors checked checked");
	ASSERT_EXPANDS(a, NULL, "1/4 window", "1/4 window");
	ASSERT_EXPANDS(a, NULL, "conds", "condensers");
	kb_abbrev_add(a, "ra", "return air");
	ASSERT_EXPANDS(a, NULL, "rad ras", "rad return airs");     /* no "-ed" on 2 letters or phrases */
	o.inflect = 0;
	o.split_slash = 0;
	ASSERT_EXPANDS(a, &o, "P/BRAKE mtrs", "P/BRAKE mtrs");
	o.lowercase = 1;
	ASSERT_EXPANDS(a, &o, "REPL MAIN HOSE", "replace main hose");
	kb_abbrev_free(a);
}

static void test_expand_cjk(void **state)
{
	kb_abbrev *a = load_fixture();

	(void)state;
	ASSERT_EXPANDS(a, NULL, "2号冷机高压跳闸", "2号冷水机组高压跳闸");
	ASSERT_EXPANDS(a, NULL, "变频器报警，变频故障", "变频器报警，变频器故障");
	ASSERT_EXPANDS(a, NULL, "冷水机组正常 mtr", "冷水机组正常 motor");
	kb_abbrev_free(a);
}

static void test_typo_step(void **state)
{
	kb_abbrev *a = kb_abbrev_new();
	kb_abbrev_options o = KB_ABBREV_OPTIONS_INIT;
	const char *words = "implement hose noisy replace";

	(void)state;
	kb_abbrev_add_words(a, words, strlen(words));
	o.typo = 1;
	o.lowercase = 1;
	ASSERT_EXPANDS(a, &o, "REPLAC MAIN IMPLIMENT HOSE NOISEY", "replace main implement hose noisy");
	ASSERT_EXPANDS(a, NULL, "IMPLIMENT", "IMPLIMENT");   /* off by default */
	ASSERT_EXPANDS(a, &o, "hoes IMP", "hoes imp");       /* too short to correct */
	ASSERT_EXPANDS(a, &o, "hoses noisyer replaced", "hoses noisyer replaced"); /* inflected */
	kb_abbrev_free(a);
}

static void test_expand_invalid_input(void **state)
{
	kb_abbrev *a = load_fixture();
	kb_buf b = KB_BUF_INIT;
	size_t n = 99;

	(void)state;
	kb_buf_puts(&b, "keep");
	assert_int_equal(kb_abbrev_expand(&b, a, NULL, "mtr \xc3\x28", 6, &n), KB_EINPUT);
	assert_string_equal(b.ptr, "keep");
	assert_int_equal(n, 0);
	assert_int_equal(kb_abbrev_expand(&b, a, NULL, "mtr\0x", 5, NULL), KB_EINPUT);
	assert_int_equal(kb_abbrev_expand(&b, a, NULL, "\xed\xa0\x80", 3, NULL), KB_EINPUT);
	assert_int_equal(kb_abbrev_expand(&b, a, NULL, "\xe5\x86", 2, NULL), KB_EINPUT); /* truncated */
	assert_string_equal(b.ptr, "keep");
	kb_buf_release(&b);
	kb_abbrev_free(a);
}

static void test_expand_huge_and_binary(void **state)
{
	kb_abbrev *a = load_fixture();
	kb_buf in = KB_BUF_INIT, out = KB_BUF_INIT;
	char bin[256];
	size_t i, n;

	(void)state;
	for (i = 0; i < 200000; i++)
		kb_buf_puts(&in, i % 2 ? "mtr " : "冷机,");
	assert_int_equal(kb_abbrev_expand(&out, a, NULL, in.ptr, in.len, &n), 0);
	assert_int_equal(n, 200000);
	assert_int_equal(out.len, 100000 * (strlen("motor ") + strlen("冷水机组,")));
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(255 - i);
	assert_int_equal(kb_abbrev_expand(&out, a, NULL, bin, sizeof(bin), NULL), KB_EINPUT);
	kb_buf_release(&in);
	kb_buf_release(&out);
	kb_abbrev_free(a);
}

static void test_huge_dictionary(void **state)
{
	kb_abbrev *a = kb_abbrev_new();
	kb_buf d = KB_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 50000; i++)
		kb_buf_printf(&d, "k%zu = value %zu\n", i, i);
	assert_int_equal(kb_abbrev_parse(a, d.ptr, d.len, NULL), 0);
	assert_int_equal(kb_abbrev_count(a), 50000);
	assert_string_equal(kb_abbrev_lookup(a, "K49999", 6), "value 49999");
	kb_buf_release(&d);
	kb_abbrev_free(a);
}

/* The dictionary shipped with the sample KB parses and expands its own
 * example shorthand. */
static void test_shipped_dictionary(void **state)
{
	kb_abbrev *a = kb_abbrev_new();

	(void)state;
	assert_int_equal(kb_abbrev_load(a, tu_srcpath("kb/abbreviations.txt")), 0);
	assert_true(kb_abbrev_count(a) > 50);
	ASSERT_EXPANDS(a, NULL, "fan 2 mtr u/s - rplcd", "fan 2 motor unserviceable - replaced");
	kb_abbrev_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_lookup),
		cmocka_unit_test(test_parse_string_and_override),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_expand_tokens),
		cmocka_unit_test(test_expand_slash_and_inflection),
		cmocka_unit_test(test_expand_cjk),
		cmocka_unit_test(test_typo_step),
		cmocka_unit_test(test_expand_invalid_input),
		cmocka_unit_test(test_expand_huge_and_binary),
		cmocka_unit_test(test_huge_dictionary),
		cmocka_unit_test(test_shipped_dictionary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
