/* test_audit_dates.c - the audit's calendar arithmetic (core/audit.c:
 * kb__audit_date, kb__audit_month, kb__audit_month_str,
 * kb__audit_months_before) against glibc's timegm()/gmtime_r() over every
 * day from year 1 to 2400 and a spread of times of day, and invalid
 * dates refused. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit_internal.h"
#include "testutil.h"

static int64_t libc_months_before(int64_t now, int months)
{
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mon -= months;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm);
}

static void test_every_day(void **state)
{
	struct tm tm;
	char date[48], month[8], want[48];
	int64_t t, day, secs[] = { 0, 1, 43200, 86399 };
	time_t tt;
	size_t i;

	(void)state;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 1 - 1900;
	tm.tm_mon = 0;
	tm.tm_mday = 1;
	for (day = (int64_t)timegm(&tm); ; day += 86400) {
		tt = (time_t)day;
		gmtime_r(&tt, &tm);
		if (tm.tm_year + 1900 > 2400)
			break;
		snprintf(date, sizeof(date), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday);
		assert_int_equal(kb__audit_date(date, &t), 0);
		assert_true(t == day);
		for (i = 0; i < sizeof(secs) / sizeof(*secs); i++) {
			kb__audit_month_str(month, kb__audit_month(day + secs[i]));
			/* strftime's %Y does not pad years before 1000 */
			snprintf(want, sizeof(want), "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
			assert_string_equal(month, want);
		}
		if (tm.tm_mday == 1 || tm.tm_mday >= 28 || tm.tm_year % 7 == 0) {
			assert_true(kb__audit_months_before(day + 3600, 12) ==
				    libc_months_before(day + 3600, 12));
			assert_true(kb__audit_months_before(day, 1) == libc_months_before(day, 1));
			assert_true(kb__audit_months_before(day, 0) == libc_months_before(day, 0));
			assert_true(kb__audit_months_before(day, 25) == libc_months_before(day, 25));
		}
	}
}

static void test_bad_dates(void **state)
{
	static const char *const bad[] = {
		"2023-02-29", "2100-02-29", "2024-02-30", "2024-04-31", "2024-13-01",
		"2024-00-10", "2024-01-00", "2024-1-01", "2024-01-1", "2024/01/01",
		"2024-01-01 ", " 2024-01-01", "20240101", "", "abcd-ef-gh", "2024-01-3x",
	};
	char month[8];
	int64_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(kb__audit_date(bad[i], &t), -1);
	assert_int_equal(kb__audit_date(NULL, &t), -1);
	assert_int_equal(kb__audit_date("2000-02-29", &t), 0);
	assert_true(t == 951782400);
	assert_int_equal(kb__audit_date("2024-02-29", &t), 0);
	assert_int_equal(kb__audit_date("1969-12-31", &t), 0);
	assert_true(t == -86400);
	/* a time before 1970, and years outside 0-9999 */
	kb__audit_month_str(month, kb__audit_month(-1));
	assert_string_equal(month, "1969-12");
	kb__audit_month_str(month, 10000 * 12);
	assert_string_equal(month, "0000-00");
	kb__audit_month_str(month, -1);
	assert_string_equal(month, "0000-00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_day),
		cmocka_unit_test(test_bad_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
