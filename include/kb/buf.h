/*
 * kb/buf.h - a growable byte buffer, always NUL-terminated (after git's strbuf).
 *
 * kb_buf_init() / KB_BUF_INIT make an empty buffer that owns nothing;
 * kb_buf_release() frees the memory and re-initialises; kb_buf_clear() keeps
 * the memory and empties it; kb_buf_detach() hands the string to the caller,
 * who frees it with free().  Allocation failure aborts the process (as git's
 * xmalloc does): a knowledge-base tool has no sensible way to go on.
 */
#ifndef KB_BUF_H
#define KB_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
	char *ptr;      /* never NULL: points at a static "" until something is added */
	size_t len;
	size_t alloc;
} kb_buf;

extern char kb_buf__empty[];
#define KB_BUF_INIT { kb_buf__empty, 0, 0 }

void kb_buf_init(kb_buf *b);
void kb_buf_release(kb_buf *b);
void kb_buf_clear(kb_buf *b);
char *kb_buf_detach(kb_buf *b);
/* Make room for at least `extra` more bytes. */
void kb_buf_grow(kb_buf *b, size_t extra);
void kb_buf_put(kb_buf *b, const void *data, size_t len);
void kb_buf_puts(kb_buf *b, const char *s);
void kb_buf_putc(kb_buf *b, char c);
void kb_buf_printf(kb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kb_buf_vprintf(kb_buf *b, const char *fmt, va_list ap);
/* Shorten to `len` bytes (len <= b->len). */
void kb_buf_truncate(kb_buf *b, size_t len);
/* Replace the whole content. */
void kb_buf_set(kb_buf *b, const void *data, size_t len);

/*
 * An arena: many small allocations freed together.  Blocks of at least
 * 64 KiB are chained; an allocation never moves, so pointers stay valid
 * until kb_arena_release().  For data built once and read until the end
 * (the audit's 100,000 case summaries: one free instead of 300,000).
 */
typedef struct kb_arena_block kb_arena_block;
typedef struct {
	kb_arena_block *head;
	size_t used;         /* bytes used in head */
} kb_arena;

#define KB_ARENA_INIT { NULL, 0 }

/* `n` bytes aligned for any type (max_align_t); n == 0 gives a valid
 * unique pointer. */
void *kb_arena_alloc(kb_arena *a, size_t n);
/* A copy of s[0, n) with a NUL after it. */
char *kb_arena_strndup(kb_arena *a, const char *s, size_t n);
char *kb_arena_strdup(kb_arena *a, const char *s);
/* Move every block of `from` into `to` (pointers stay valid; `from` is
 * left empty): arenas filled on other threads, kept by one owner. */
void kb_arena_take(kb_arena *to, kb_arena *from);
void kb_arena_release(kb_arena *a);

/* ---- small allocation helpers used across libkb (abort on OOM) -------- */
void *kb_xmalloc(size_t n);
void *kb_xcalloc(size_t n, size_t size);
void *kb_xrealloc(void *p, size_t n);
char *kb_xstrdup(const char *s);
char *kb_xstrndup(const char *s, size_t n);

#endif
