/*
 * kb/redact.h - masking personal data before anything is written: phone
 * numbers (Chinese mobile and landline, international "+CC ..."), e-mail
 * addresses, Chinese resident identity numbers (18 characters with a valid
 * ISO 7064 MOD 11-2 check character and a real birth date, or the old
 * 15-digit form) and names from a configured customer list.
 *
 * Matches are replaced by "[phone]", "[email]", "[id-number]" and
 * "[customer]".  Numbers are matched only as whole tokens (not touching a
 * letter, a digit, or a '-', '/' or '.' that joins another token), so model
 * codes ("30XA-0502"), error codes ("E04"), dates and part numbers survive.
 *
 * Ownership: kb_redact_new() returns a redactor freed with kb_redact_free().
 */
#ifndef KB_REDACT_H
#define KB_REDACT_H

#include <stddef.h>

#include "kb/buf.h"
#include "kb/error.h"

typedef enum {
	KB_REDACT_PHONE = 0,
	KB_REDACT_EMAIL,
	KB_REDACT_ID_NUMBER,
	KB_REDACT_CUSTOMER,
	KB_REDACT__COUNT
} kb_redact_kind;

typedef struct {
	size_t counts[KB_REDACT__COUNT];   /* masks written, per kind */
} kb_redact_counts;

typedef struct kb_redactor kb_redactor;

/* A redactor with an empty customer list.  Never fails. */
kb_redactor *kb_redact_new(void);
/* Free; NULL is a no-op. */
void kb_redact_free(kb_redactor *r);

/* Add one customer name (copied; surrounding spaces trimmed).  Latin names
 * match case-insensitively as whole words, others as exact substrings.
 * KB_EINPUT for an empty name or invalid UTF-8. */
int kb_redact_add_customer(kb_redactor *r, const char *name);

/* Add customer names from `len` bytes: one per line, blank lines and lines
 * starting with '#' ignored.  KB_EINPUT (with `path` and line) for invalid
 * UTF-8 or NUL; names of earlier lines stay added. */
int kb_redact_parse_customers(kb_redactor *r, const char *text, size_t len, const char *path);

/*
 * Append `len` bytes of `text` to `out` with every match masked.  `r` may
 * be NULL (no customer names).  `counts`, when not NULL, is zeroed and then
 * filled.  Returns 0, or KB_EINPUT for invalid UTF-8 or a NUL byte: then
 * nothing is appended and the counts stay zero (text that cannot be read
 * cannot be shown to be clean).
 */
int kb_redact_text(kb_buf *out, const kb_redactor *r, const char *text, size_t len,
		   kb_redact_counts *counts);

/* "phone", "email", "id-number", "customer". */
const char *kb_redact_kind_name(kb_redact_kind kind);

/* 1 when s[0..len) is an 18-character resident ID with a valid birth date
 * and check character, or a 15-digit old-form ID with a valid birth date. */
int kb_redact_id_valid(const char *s, size_t len);

#endif
