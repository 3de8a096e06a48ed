/*
 * error.c - the thread-local last error and diagnostic lists (kb/error.h).
 *
 * One kb_error record per thread holds the most recent failure; setting a
 * new error frees the strings of the old one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/error.h"

static _Thread_local kb_error last = { KB_OK, NULL, 0, NULL };
static _Thread_local char *last_path;
static _Thread_local char *last_msg;

const kb_error *kb_error_last(void)
{
	if (!last.message)
		last.message = "no error";
	return &last;
}

void kb_error_clear(void)
{
	free(last_path);
	free(last_msg);
	last_path = last_msg = NULL;
	last.code = KB_OK;
	last.path = NULL;
	last.line = 0;
	last.message = "no error";
}

int kb_error_vset(int code, const char *path, int line, const char *fmt, va_list ap)
{
	kb_buf msg = KB_BUF_INIT;
	char *p = path ? kb_xstrdup(path) : NULL;

	kb_buf_vprintf(&msg, fmt, ap);
	kb_error_clear();
	last_path = p;
	last_msg = kb_buf_detach(&msg);
	last.code = code;
	last.path = last_path;
	last.line = line;
	last.message = last_msg;
	return code;
}

int kb_error_set(int code, const char *path, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = kb_error_vset(code, path, line, fmt, ap);
	va_end(ap);
	return code;
}

int kb_error_prefix(const char *fmt, ...)
{
	kb_buf msg = KB_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	kb_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	kb_buf_printf(&msg, ": %s", kb_error_last()->message);
	free(last_msg);
	last_msg = kb_buf_detach(&msg);
	last.message = last_msg;
	return last.code == KB_OK ? KB_ERROR : last.code;
}

const char *kb_error_format(const kb_error *e, char *buf, size_t size)
{
	if (e->path && e->line > 0)
		snprintf(buf, size, "%s:%d: %s", e->path, e->line, e->message);
	else if (e->path)
		snprintf(buf, size, "%s: %s", e->path, e->message);
	else
		snprintf(buf, size, "%s", e->message);
	return buf;
}

void kb_diags_add(kb_diags *d, kb_diag_severity sev, const char *path, int line,
		  const char *fmt, ...)
{
	kb_buf msg = KB_BUF_INIT;
	kb_diag *g;
	va_list ap;

	if (d->count == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 8;
		d->items = kb_xrealloc(d->items, d->alloc * sizeof(*d->items));
	}
	va_start(ap, fmt);
	kb_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	g = &d->items[d->count++];
	g->severity = sev;
	g->path = path ? kb_xstrdup(path) : NULL;
	g->line = line;
	g->message = kb_buf_detach(&msg);
}

size_t kb_diags_errors(const kb_diags *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->count; i++)
		n += d->items[i].severity == KB_DIAG_ERROR;
	return n;
}

void kb_diags_release(kb_diags *d)
{
	size_t i;

	for (i = 0; i < d->count; i++) {
		free(d->items[i].path);
		free(d->items[i].message);
	}
	free(d->items);
	d->items = NULL;
	d->count = d->alloc = 0;
}
