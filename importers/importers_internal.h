/*
 * importers_internal.h - helpers shared by the text-processing importers
 * (abbrev.c, notes.c, extract.c, redact.c): UTF-8 validation and decoding,
 * ASCII classification and a 64-bit FNV-1a hash.  Not part of the public API.
 */
#ifndef KB_IMPORTERS_INTERNAL_H
#define KB_IMPORTERS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kb/extract.h"

/* Offset of the first invalid UTF-8 sequence or NUL byte in `s`, or `len`
 * when the whole text is valid. */
size_t kb__utf8_invalid_at(const char *s, size_t len);

/* Check `len` bytes: 0 when valid UTF-8 without NUL, otherwise KB_EINPUT
 * with a message naming `what` and the 1-based line of the bad byte. */
int kb__utf8_require(const char *s, size_t len, const char *what);

/* Decode one code point at s[i] (valid UTF-8 assumed, i < len); stores
 * its byte length in *n. */
int32_t kb__utf8_decode(const char *s, size_t len, size_t i, size_t *n);

/* 1 for CJK ideographs and CJK punctuation/full-width forms. */
int kb__is_cjk(int32_t cp);

/* ASCII classification that never depends on the locale. */
static inline int kb__isalpha(int c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static inline int kb__isdigit(int c) { return c >= '0' && c <= '9'; }
static inline int kb__isalnum(int c) { return kb__isalpha(c) || kb__isdigit(c); }
static inline int kb__isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static inline int kb__tolower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static inline int kb__toupper(int c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }

/* Case-insensitive (ASCII) comparison of a with the first n bytes of b. */
int kb__ascii_ncaseeq(const char *a, const char *b, size_t n);

/* 64-bit FNV-1a of `len` bytes. */
uint64_t kb__fnv1a64(const void *data, size_t len);

/* A calendar date read from text; year 0 when the text gave none. */
typedef struct {
	int year, month, day;
} kb__date;

/*
 * Read a date at the start of s[0..len): "2024-03-04", "2024/3/4",
 * "2024.03.04", "03/04", "3/4/24", "03/04/2024", "3月4日", "2024年3月4日"
 * ("号" for "日" too).  Numeric d/m forms are month first unless day_first.
 * The date must not run on into a digit, letter or '/'.  Returns the bytes
 * consumed, 0 when there is no valid date there.
 */
size_t kb__date_parse(const char *s, size_t len, int day_first, kb__date *d);

/* Largest note read from a file, and so also its longest line. */
#define KB__NOTE_MAX (1024u * 1024)

/* Called with each note read: its text (NUL-terminated, valid only during
 * the call), length, 1-based first line, and the bytes of the file read so
 * far.  A negative return stops the reading with that code. */
typedef int (*kb__note_fn)(const char *text, size_t len, int line, unsigned long long done,
			   void *payload);

/*
 * Read the notes file `path` and split it as kb_notes_split() splits a
 * text (same rules; KB_NOTES_AUTO reads the file twice, first to pick the
 * mode), calling fn for each note as soon as it ends.  Memory stays within
 * one note and one line of at most KB__NOTE_MAX bytes plus a 64 KiB chunk,
 * whatever the size of the file.  Returns 0, fn's negative code, or an
 * error naming the file and line: KB_ENOTFOUND / KB_EIO when it cannot be
 * read, KB_EINPUT for a NUL byte ("binary file"), invalid UTF-8, a line or
 * a note over KB__NOTE_MAX.  Notes handed to fn before an error stay handed.
 */
int kb__notes_read_file(const char *path, kb_notes_mode mode, kb__note_fn fn, void *payload);

#endif
