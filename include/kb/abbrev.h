/*
 * kb/abbrev.h - abbreviation dictionaries and token-wise expansion of
 * technicians' shorthand ("chkd cond fans, mtr u/s" -> "checked condenser
 * fans, motor unserviceable").
 *
 * A dictionary file has one "abbr = expansion" per line; blank lines and
 * lines starting with '#' are ignored.  Latin abbreviations match whole
 * tokens case-insensitively (tokens may contain '/', '.', '\'' and '#', so
 * "u/s", "c/o", "insp'd" and "approx." are tokens); CJK abbreviations match
 * inside runs of Chinese text, longest first.  See docs/internals/importers.md.
 *
 * Ownership: kb_abbrev_new() returns a dictionary freed with
 * kb_abbrev_free(); strings passed in are copied.
 */
#ifndef KB_ABBREV_H
#define KB_ABBREV_H

#include <stddef.h>

#include "kb/buf.h"
#include "kb/error.h"

typedef struct kb_abbrev kb_abbrev;

/* An empty dictionary.  Never fails (aborts on out-of-memory). */
kb_abbrev *kb_abbrev_new(void);
/* Free the dictionary; NULL is a no-op. */
void kb_abbrev_free(kb_abbrev *a);

/*
 * Add the entries of `len` bytes of dictionary text.  `path` names the
 * source in messages (may be NULL).  Returns 0, or KB_EINPUT (message with
 * path and line) for invalid UTF-8, a NUL byte, a line without '=', an empty
 * side, or an abbreviation containing white space.  On failure the entries
 * of the lines before the bad one stay added.  A later entry for the same
 * abbreviation replaces the earlier one.
 */
int kb_abbrev_parse(kb_abbrev *a, const char *text, size_t len, const char *path);

/* Read and parse the file at `path`.  KB_EIO when it cannot be read, else
 * as kb_abbrev_parse(). */
int kb_abbrev_load(kb_abbrev *a, const char *path);

/* Add one entry (both strings copied).  KB_EINPUT when either is empty,
 * not valid UTF-8, or the abbreviation contains white space. */
int kb_abbrev_add(kb_abbrev *a, const char *abbr, const char *expansion);

/* Number of entries. */
size_t kb_abbrev_count(const kb_abbrev *a);

/* The expansion of `len` bytes of `token` (case-insensitive for ASCII), or
 * NULL.  The string belongs to the dictionary. */
const char *kb_abbrev_lookup(const kb_abbrev *a, const char *token, size_t len);

/*
 * Add known words for the optional typo step: every run of ASCII letters
 * in `text` (lower-cased, 4 letters or more) becomes a known word.  The
 * words of every expansion are known words already.
 */
void kb_abbrev_add_words(kb_abbrev *a, const char *text, size_t len);

typedef struct {
	unsigned version;
	int lowercase;   /* lower-case the whole output (default 0) */
	int inflect;     /* "mtrs" -> "motors" when only "mtr" is known (default 1) */
	int split_slash; /* "p/brake" -> expand each side of '/' (default 1) */
	int typo;        /* correct unknown words at edit distance 1 (default 0) */
} kb_abbrev_options;

#define KB_ABBREV_OPTIONS_VERSION 1
#define KB_ABBREV_OPTIONS_INIT { KB_ABBREV_OPTIONS_VERSION, 0, 1, 1, 0 }

/*
 * Append to `out` the text with every known abbreviation replaced by its
 * expansion; everything else (spacing, punctuation, case of other words)
 * is kept.  `a` may be NULL (then only `lowercase` and `typo` apply, typo
 * with no known words doing nothing).  `opts` may be NULL for the defaults.
 * Returns 0, or KB_EINPUT for invalid UTF-8 or a NUL byte in the input,
 * in which case nothing is appended.  `*replaced`, when not NULL, receives
 * the number of tokens changed.
 */
int kb_abbrev_expand(kb_buf *out, const kb_abbrev *a, const kb_abbrev_options *opts,
		     const char *text, size_t len, size_t *replaced);

#endif
