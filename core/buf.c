/*
 * buf.c - growable NUL-terminated byte buffers and abort-on-OOM allocators
 * (kb/buf.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"

char kb_buf__empty[1];

static void oom(size_t n)
{
	fprintf(stderr, "kb: out of memory allocating %zu bytes\n", n);
	abort();
}

void *kb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *kb_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *kb_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *kb_xstrdup(const char *s)
{
	return kb_xstrndup(s, strlen(s));
}

char *kb_xstrndup(const char *s, size_t n)
{
	char *p = kb_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void kb_buf_init(kb_buf *b)
{
	b->ptr = kb_buf__empty;
	b->len = b->alloc = 0;
}

void kb_buf_release(kb_buf *b)
{
	if (b->alloc)
		free(b->ptr);
	kb_buf_init(b);
}

void kb_buf_clear(kb_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->ptr[0] = '\0';
}

char *kb_buf_detach(kb_buf *b)
{
	char *s = b->alloc ? b->ptr : kb_xstrdup("");

	kb_buf_init(b);
	return s;
}

void kb_buf_grow(kb_buf *b, size_t extra)
{
	size_t need;

	if (extra > (size_t)-1 / 2 - b->len)
		oom(extra);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return;
	if (need < b->alloc * 3 / 2)
		need = b->alloc * 3 / 2;
	if (need < 64)
		need = 64;
	if (b->alloc) {
		b->ptr = kb_xrealloc(b->ptr, need);
	} else {
		b->ptr = kb_xmalloc(need);
		b->ptr[0] = '\0';
	}
	b->alloc = need;
}

void kb_buf_put(kb_buf *b, const void *data, size_t len)
{
	kb_buf_grow(b, len);
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void kb_buf_puts(kb_buf *b, const char *s)
{
	kb_buf_put(b, s, strlen(s));
}

void kb_buf_putc(kb_buf *b, char c)
{
	kb_buf_put(b, &c, 1);
}

void kb_buf_vprintf(kb_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->ptr + b->len, b->alloc ? b->alloc - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->alloc) {
		kb_buf_grow(b, (size_t)n);
		vsnprintf(b->ptr + b->len, b->alloc - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void kb_buf_printf(kb_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kb_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void kb_buf_truncate(kb_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->ptr[len] = '\0';
}

void kb_buf_set(kb_buf *b, const void *data, size_t len)
{
	kb_buf_clear(b);
	kb_buf_put(b, data, len);
}
