/*
 * kb/error.h - error codes, the per-thread last error, and diagnostic lists.
 *
 * Every fallible libkb function returns an int: 0 on success or one of the
 * negative kb_error_code values.  The message that explains a failure is kept
 * in a thread-local "last error" (like git_error_last()); it names the file
 * and, where there is one, the line.  Validation that can report many
 * problems at once appends to a kb_diags list instead.
 */
#ifndef KB_ERROR_H
#define KB_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum {
	KB_OK = 0,
	KB_ERROR = -1,      /* internal or unexpected failure (CLI exit 3) */
	KB_EINPUT = -2,     /* malformed input: a bad file, argument or query (exit 2) */
	KB_ENOTFOUND = -3,  /* no such case, revision or file (exit 1) */
	KB_EEXISTS = -4,    /* the thing to create already exists (exit 2) */
	KB_EINVALID = -5,   /* content failed validation (exit 1) */
	KB_ENOKB = -6,      /* not inside a knowledge base (exit 2) */
	KB_ESTATE = -7,     /* repository state forbids the write: merge in progress, read-only (exit 2) */
	KB_ECONFLICT = -8,  /* concurrent changes could not be merged (exit 1) */
	KB_EIO = -9,        /* the operating system refused a read or write (exit 3) */
	KB_ENET = -10,      /* a network source failed (exit 3) */
} kb_error_code;

typedef struct {
	int code;          /* a kb_error_code */
	const char *path;  /* file the error is about, or NULL */
	int line;          /* 1-based line in path, or 0 when unknown */
	const char *message; /* lower-case, no final period, never NULL */
} kb_error;

/*
 * The last error raised on this thread.  Never NULL: when nothing failed it
 * is a record with code KB_OK and message "no error".  The record and its
 * strings stay valid until the next kb_error_set() or kb_error_clear() on
 * the same thread.
 */
const kb_error *kb_error_last(void);

/* Forget the last error of this thread. */
void kb_error_clear(void);

/*
 * Record an error and return `code`, so callers can write
 * `return kb_error_set(KB_EINPUT, path, line, "bad date '%s'", s);`.
 * `path` may be NULL and `line` 0.  The strings are copied.
 */
int kb_error_set(int code, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int kb_error_vset(int code, const char *path, int line, const char *fmt, va_list ap);

/*
 * Prefix the current message with "`prefix`: " (for example the name of a
 * file being read while a lower layer failed) and return the current code.
 */
int kb_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Format "path:line: message" (or "path: message", or "message") into buf.
 * Returns buf. */
const char *kb_error_format(const kb_error *e, char *buf, size_t size);

/* ---- diagnostics: many messages from one validation pass -------------- */

typedef enum { KB_DIAG_ERROR = 0, KB_DIAG_WARNING = 1 } kb_diag_severity;

typedef struct {
	kb_diag_severity severity;
	char *path;     /* owned; may be NULL */
	int line;       /* 1-based, 0 when unknown */
	char *message;  /* owned */
} kb_diag;

typedef struct {
	kb_diag *items;
	size_t count;
	size_t alloc;
} kb_diags;

#define KB_DIAGS_INIT { NULL, 0, 0 }

/* Append one diagnostic; strings are copied.  Aborts on out-of-memory. */
void kb_diags_add(kb_diags *d, kb_diag_severity sev, const char *path, int line,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Number of KB_DIAG_ERROR entries. */
size_t kb_diags_errors(const kb_diags *d);
/* Free every entry and leave `d` empty and reusable. */
void kb_diags_release(kb_diags *d);

#endif
