/*
 * buf.c - growable NUL-terminated byte buffers and abort-on-OOM allocators
 * (kb/buf.h).
 */
#include <stddef.h>
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

/* ---- arena --------------------------------------------------------------- */

#define ARENA_BLOCK 65536
#define ARENA_ALIGN (_Alignof(max_align_t))

struct kb_arena_block {
	kb_arena_block *next;
	size_t cap;
	max_align_t data[];
};

void *kb_arena_alloc(kb_arena *a, size_t n)
{
	kb_arena_block *b;
	size_t need = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN, cap;
	void *p;

	if (need < n)
		abort();   /* overflow */
	if (!need)
		need = ARENA_ALIGN;
	if (!a->head || a->head->cap - a->used < need) {
		cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;
		b = kb_xmalloc(offsetof(kb_arena_block, data) + cap);
		b->cap = cap;
		if (a->head && need > ARENA_BLOCK && a->head->cap - a->used >= ARENA_BLOCK / 4) {
			/* a big one behind the head: keep filling the head */
			b->next = a->head->next;
			a->head->next = b;
			return b->data;
		}
		b->next = a->head;
		a->head = b;
		a->used = 0;
	}
	p = (char *)a->head->data + a->used;
	a->used += need;
	return p;
}

char *kb_arena_strndup(kb_arena *a, const char *s, size_t n)
{
	char *p = kb_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *kb_arena_strdup(kb_arena *a, const char *s)
{
	return kb_arena_strndup(a, s, strlen(s));
}

void kb_arena_take(kb_arena *to, kb_arena *from)
{
	kb_arena_block *tail;

	if (!from->head)
		return;
	if (!to->head) {
		*to = *from;
	} else {
		/* behind the head, which keeps filling */
		for (tail = from->head; tail->next; tail = tail->next)
			;
		tail->next = to->head->next;
		to->head->next = from->head;
	}
	from->head = NULL;
	from->used = 0;
}

void kb_arena_release(kb_arena *a)
{
	kb_arena_block *b, *next;

	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->used = 0;
}
