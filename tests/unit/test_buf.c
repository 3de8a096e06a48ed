/* test_buf.c - kb/buf.h: growth, printf, detach, truncate; the arena. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void test_empty_buffer_is_empty_string(void **state)
{
	kb_buf b = KB_BUF_INIT;

	(void)state;
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	kb_buf_release(&b);
	assert_string_equal(b.ptr, "");
}

static void test_put_and_printf_grow(void **state)
{
	kb_buf b = KB_BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		kb_buf_printf(&b, "%d,", i % 10);
	assert_int_equal(b.len, 2000);
	assert_int_equal(strlen(b.ptr), 2000);
	assert_memory_equal(b.ptr, "0,1,2,", 6);
	kb_buf_puts(&b, "末尾");
	assert_string_equal(b.ptr + 2000, "末尾");
	kb_buf_release(&b);
}

static void test_put_binary_keeps_nul(void **state)
{
	kb_buf b = KB_BUF_INIT;

	(void)state;
	kb_buf_put(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_int_equal(b.ptr[1], '\0');
	assert_int_equal(b.ptr[3], '\0');
	kb_buf_release(&b);
}

static void test_truncate_clear_set_detach(void **state)
{
	kb_buf b = KB_BUF_INIT;
	char *s;

	(void)state;
	kb_buf_puts(&b, "hello world");
	kb_buf_truncate(&b, 5);
	assert_string_equal(b.ptr, "hello");
	kb_buf_truncate(&b, 50);
	assert_string_equal(b.ptr, "hello");
	kb_buf_clear(&b);
	assert_string_equal(b.ptr, "");
	kb_buf_set(&b, "xyz", 3);
	s = kb_buf_detach(&b);
	assert_string_equal(s, "xyz");
	assert_string_equal(b.ptr, "");
	free(s);
	s = kb_buf_detach(&b);
	assert_string_equal(s, "");
	free(s);
}

static void test_large_printf(void **state)
{
	kb_buf b = KB_BUF_INIT;
	char *big = kb_xmalloc(100001);

	(void)state;
	memset(big, 'x', 100000);
	big[100000] = '\0';
	kb_buf_printf(&b, "<%s>", big);
	assert_int_equal(b.len, 100002);
	assert_int_equal(b.ptr[100001], '>');
	free(big);
	kb_buf_release(&b);
}

static void test_xstrndup(void **state)
{
	char *s = kb_xstrndup("abcdef", 3);

	(void)state;
	assert_string_equal(s, "abc");
	free(s);
}

/* Many small and a few huge allocations: aligned, distinct, never moved
 * (contents intact at the end), zero-size allowed; release twice is safe. */
static void test_arena(void **state)
{
	kb_arena a = KB_ARENA_INIT;
	enum { N = 20000 };
	char **p = calloc(N, sizeof(*p));
	size_t i, n;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < N; i++) {
		n = i % 97 == 0 ? 200000 + i : i % 13;
		p[i] = kb_arena_alloc(&a, n);
		assert_int_equal((uintptr_t)p[i] % _Alignof(max_align_t), 0);
		memset(p[i], (int)(i & 0x7f), n);
		if (i)
			assert_ptr_not_equal(p[i], p[i - 1]);
	}
	for (i = 0; i < N; i++) {
		n = i % 97 == 0 ? 200000 + i : i % 13;
		if (n)
			assert_int_equal((unsigned char)p[i][n - 1], i & 0x7f);
		if (n > 1)
			assert_int_equal((unsigned char)p[i][0], i & 0x7f);
	}
	assert_string_equal(kb_arena_strdup(&a, "pump"), "pump");
	assert_string_equal(kb_arena_strndup(&a, "pump seal", 4), "pump");
	assert_string_equal(kb_arena_strdup(&a, ""), "");
	{
		kb_arena b = KB_ARENA_INIT, c = KB_ARENA_INIT;
		char *x = kb_arena_strdup(&b, "taken"), *y;

		kb_arena_take(&a, &b);       /* into a non-empty arena */
		assert_null(b.head);
		assert_string_equal(x, "taken");
		y = kb_arena_strdup(&a, "after");
		assert_string_equal(x, "taken");
		assert_string_equal(y, "after");
		kb_arena_take(&c, &a);       /* into an empty one */
		assert_null(a.head);
		assert_memory_equal(p[5], "\005\005\005\005\005", 5);
		kb_arena_take(&c, &b);       /* an empty one: nothing */
		kb_arena_release(&c);
	}
	kb_arena_release(&a);
	assert_null(a.head);
	kb_arena_release(&a);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_buffer_is_empty_string),
		cmocka_unit_test(test_put_and_printf_grow),
		cmocka_unit_test(test_put_binary_keeps_nul),
		cmocka_unit_test(test_truncate_clear_set_detach),
		cmocka_unit_test(test_large_printf),
		cmocka_unit_test(test_xstrndup),
		cmocka_unit_test(test_arena),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
