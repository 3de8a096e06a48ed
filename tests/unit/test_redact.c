/* test_redact.c - kb/redact.h: each kind of mask, counts, the ID check
 * character, customer lists, no false positives on codes, dates and part
 * numbers, and bad or pathological input. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "kb/redact.h"

static char *redact(const kb_redactor *r, const char *s, kb_redact_counts *c)
{
	kb_buf b = KB_BUF_INIT;

	assert_int_equal(kb_redact_text(&b, r, s, strlen(s), c), 0);
	return kb_buf_detach(&b);
}

#define ASSERT_REDACTS(r, in, want) do { \
	char *got_ = redact((r), (in), NULL); \
	assert_string_equal(got_, (want)); \
	free(got_); \
} while (0)

static void test_mobile_numbers(void **state)
{
	kb_redact_counts c;
	char *s;

	(void)state;
	ASSERT_REDACTS(NULL, "call 13812345678 now", "call [phone] now");
	ASSERT_REDACTS(NULL, "+86 138 1234 5678", "[phone]");
	ASSERT_REDACTS(NULL, "+86-139-1234-5678.", "[phone].");
	ASSERT_REDACTS(NULL, "电话：15912345678，张工", "电话：[phone]，张工");
	ASSERT_REDACTS(NULL, "0086 18612345678", "[phone]");
	ASSERT_REDACTS(NULL, "12812345678", "12812345678");       /* 12x is not mobile */
	ASSERT_REDACTS(NULL, "1381234567", "1381234567");         /* 10 digits */
	ASSERT_REDACTS(NULL, "138123456789", "138123456789");     /* 12 digits */
	ASSERT_REDACTS(NULL, "13 812 345 678", "13 812 345 678");  /* odd grouping */
	s = redact(NULL, "a 13812345678 b 13912345678", &c);
	assert_string_equal(s, "a [phone] b [phone]");
	assert_int_equal(c.counts[KB_REDACT_PHONE], 2);
	assert_int_equal(c.counts[KB_REDACT_EMAIL], 0);
	free(s);
}

static void test_landline_and_international(void **state)
{
	(void)state;
	ASSERT_REDACTS(NULL, "tel 021-12345678", "tel [phone]");
	ASSERT_REDACTS(NULL, "0755 1234567", "[phone]");
	ASSERT_REDACTS(NULL, "(010) 87654321", "[phone]");
	ASSERT_REDACTS(NULL, "02112345678", "[phone]");
	ASSERT_REDACTS(NULL, "+61 2 9876 5432", "[phone]");
	ASSERT_REDACTS(NULL, "+1 (555) 123-4567 ext", "[phone] ext");
	ASSERT_REDACTS(NULL, "+44 20 7946 0958;", "[phone];");
	ASSERT_REDACTS(NULL, "+12 34", "+12 34");                 /* too short */
}

static void test_email(void **state)
{
	kb_redact_counts c;
	char *s;

	(void)state;
	ASSERT_REDACTS(NULL, "mail li.wei+kb@example.com.", "mail [email].");
	ASSERT_REDACTS(NULL, "<zhang_3@plant-3.example.cn>", "<[email]>");
	ASSERT_REDACTS(NULL, "联系 wang@corp.com。", "联系 [email]。");
	ASSERT_REDACTS(NULL, "a@b", "a@b");
	ASSERT_REDACTS(NULL, "x@host.c1", "x@host.c1");
	ASSERT_REDACTS(NULL, "@example.com", "@example.com");
	s = redact(NULL, "a@x.org, b@y.org", &c);
	assert_string_equal(s, "[email], [email]");
	assert_int_equal(c.counts[KB_REDACT_EMAIL], 2);
	free(s);
}

static void test_id_numbers(void **state)
{
	kb_redact_counts c;
	char *s;

	(void)state;
	assert_true(kb_redact_id_valid("11010519491231002X", 18));
	assert_true(kb_redact_id_valid("11010519491231002x", 18));
	assert_true(kb_redact_id_valid("320102198001010016", 18));
	assert_false(kb_redact_id_valid("320102198001010017", 18));  /* bad check digit */
	assert_false(kb_redact_id_valid("110105194913310029", 18));  /* month 13 */
	assert_true(kb_redact_id_valid("110105491231002", 15));
	assert_false(kb_redact_id_valid("110105491331002", 15));
	assert_false(kb_redact_id_valid("1101054912310", 13));
	s = redact(NULL, "身份证 11010519491231002X, old 110105491231002", &c);
	assert_string_equal(s, "身份证 [id-number], old [id-number]");
	assert_int_equal(c.counts[KB_REDACT_ID_NUMBER], 2);
	free(s);
	ASSERT_REDACTS(NULL, "320102198001010017", "320102198001010017");
}

static void test_customers(void **state)
{
	kb_redactor *r = kb_redact_new();
	const char *list = "# customers\nAcme Mining\n\n  华润置地  \nBHP\n";
	kb_redact_counts c;
	char *s;

	(void)state;
	assert_int_equal(kb_redact_parse_customers(r, list, strlen(list), "c.txt"), 0);
	assert_int_equal(kb_redact_add_customer(r, "  "), KB_EINPUT);
	assert_int_equal(kb_redact_add_customer(r, "Acme"), 0);
	s = redact(r, "ACME MINING site; acme; bhpx; 华润置地项目 BHP.", &c);
	assert_string_equal(s, "[customer] site; [customer]; bhpx; [customer]项目 [customer].");
	assert_int_equal(c.counts[KB_REDACT_CUSTOMER], 4);
	free(s);
	assert_int_equal(kb_redact_parse_customers(r, "ok\n\xff\n", 4, "c.txt"), KB_EINPUT);
	assert_int_equal(kb_error_last()->line, 2);
	assert_int_equal(kb_redact_parse_customers(r, "ok\n华\xe6\xb6", 8, NULL), KB_EINPUT);
	assert_int_equal(kb_redact_parse_customers(r, "a\0b\n", 4, NULL), KB_EINPUT);
	kb_redact_free(r);
}

static void test_no_false_positives(void **state)
{
	static const char *keep[] = {
		"Carrier 30XA-0502 chiller",
		"error E04 then F-12, code 0x1F",
		"2024-03-04 08:30, 03/04, 2024年3月4日, 20240304",
		"part 6205-2RS, P/N 1234567890, SN A13812345678",
		"PN 13812345678-01 and 0755-1234",
		"order WO-13812345678 ref 2024-021-12345678",
		"v1.38.1234.5678 and 110105194912310029X9",
		"reading 1.5 MPa, 380 V, 3 ph, 50 Hz, 1450 rpm",
		"model 19XR-6565-TEC, IP 10.0.12.250",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		kb_redact_counts c;
		char *s = redact(NULL, keep[i], &c);

		assert_string_equal(s, keep[i]);
		assert_int_equal(c.counts[KB_REDACT_PHONE] + c.counts[KB_REDACT_ID_NUMBER] +
				 c.counts[KB_REDACT_EMAIL], 0);
		free(s);
	}
}

static void test_invalid_truncated_binary(void **state)
{
	kb_buf b = KB_BUF_INIT;
	kb_redact_counts c;
	char bin[300];
	size_t i;

	(void)state;
	kb_buf_puts(&b, "x");
	assert_int_equal(kb_redact_text(&b, NULL, "13812345678 \xe5\x86", 14, &c), KB_EINPUT);
	assert_string_equal(b.ptr, "x");
	assert_int_equal(c.counts[KB_REDACT_PHONE], 0);
	assert_int_equal(kb_redact_text(&b, NULL, "a\0b", 3, NULL), KB_EINPUT);
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 13 + 1);
	assert_int_equal(kb_redact_text(&b, NULL, bin, sizeof(bin), NULL), KB_EINPUT);
	assert_int_equal(kb_redact_text(&b, NULL, "", 0, &c), 0);
	assert_string_equal(b.ptr, "x");
	/* truncated candidates are left alone */
	assert_int_equal(kb_redact_text(&b, NULL, "+86 138", 7, NULL), 0);
	assert_string_equal(b.ptr, "x+86 138");
	kb_buf_release(&b);
}

static void test_huge_text(void **state)
{
	kb_redactor *r = kb_redact_new();
	kb_buf in = KB_BUF_INIT, out = KB_BUF_INIT;
	kb_redact_counts c;
	size_t i;

	(void)state;
	assert_int_equal(kb_redact_add_customer(r, "Acme"), 0);
	for (i = 0; i < 100000; i++)
		kb_buf_puts(&in, "ch 30XA-0502 13812345678 a@b.cn acme 故障 ");
	for (i = 0; i < 300000; i++)
		kb_buf_putc(&in, '7');      /* one very long digit run */
	assert_int_equal(kb_redact_text(&out, r, in.ptr, in.len, &c), 0);
	assert_int_equal(c.counts[KB_REDACT_PHONE], 100000);
	assert_int_equal(c.counts[KB_REDACT_EMAIL], 100000);
	assert_int_equal(c.counts[KB_REDACT_CUSTOMER], 100000);
	assert_int_equal(c.counts[KB_REDACT_ID_NUMBER], 0);
	kb_buf_release(&in);
	kb_buf_release(&out);
	kb_redact_free(r);
}

/* Random texts from the pieces the matchers look at; ASan/valgrind runs
 * check the scan never reads out of bounds.  Masks never grow counts
 * beyond the number of pieces. */
static void test_random_pieces(void **state)
{
	static const char *const pieces[] = {
		"1", "3", "8", "0", "+", "86", "+86", "0086", " ", "-", ".", "(", ")", "@", "a",
		"x.org", "X", "11010519491231002", "138", "1234", "5678", "021", "号", "é", "/", "_"
	};
	kb_redactor *r = kb_redact_new();
	unsigned seed = 777;
	kb_buf in = KB_BUF_INIT, out = KB_BUF_INIT;
	int i, k;

	(void)state;
	assert_int_equal(kb_redact_add_customer(r, "a"), 0);
	for (i = 0; i < 5000; i++) {
		kb_redact_counts c;
		size_t total = 0, j;
		int n = (int)(seed % 20);

		kb_buf_clear(&in);
		kb_buf_clear(&out);
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			kb_buf_puts(&in, pieces[(seed >> 8) % (sizeof(pieces) / sizeof(pieces[0]))]);
		}
		seed = seed * 1103515245u + 12345u;
		assert_int_equal(kb_redact_text(&out, r, in.ptr, in.len, &c), 0);
		for (j = 0; j < KB_REDACT__COUNT; j++)
			total += c.counts[j];
		assert_true(total <= (size_t)n);
	}
	kb_buf_release(&in);
	kb_buf_release(&out);
	kb_redact_free(r);
}

static void test_huge_customer_list(void **state)
{
	kb_redactor *r = kb_redact_new();
	kb_buf list = KB_BUF_INIT, in = KB_BUF_INIT, out = KB_BUF_INIT;
	kb_redact_counts c;
	size_t i;

	(void)state;
	for (i = 0; i < 20000; i++)
		kb_buf_printf(&list, "Customer %zu Ltd\n客户%zu号\n", i, i);
	assert_int_equal(kb_redact_parse_customers(r, list.ptr, list.len, NULL), 0);
	for (i = 0; i < 20000; i++)
		kb_buf_puts(&in, "pump noisy at site, bearing replaced. ");
	kb_buf_puts(&in, "for CUSTOMER 19999 LTD and 客户7号");
	assert_int_equal(kb_redact_text(&out, r, in.ptr, in.len, &c), 0);
	assert_int_equal(c.counts[KB_REDACT_CUSTOMER], 2);
	assert_non_null(strstr(out.ptr, "for [customer] and [customer]"));
	kb_buf_release(&list);
	kb_buf_release(&in);
	kb_buf_release(&out);
	kb_redact_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mobile_numbers),
		cmocka_unit_test(test_landline_and_international),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_id_numbers),
		cmocka_unit_test(test_customers),
		cmocka_unit_test(test_no_false_positives),
		cmocka_unit_test(test_invalid_truncated_binary),
		cmocka_unit_test(test_huge_text),
		cmocka_unit_test(test_random_pieces),
		cmocka_unit_test(test_huge_customer_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
