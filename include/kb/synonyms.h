/*
 * kb/synonyms.h - synonym and abbreviation groups for search.
 *
 * File format (synonyms.txt): one group per line, terms separated by commas,
 * the first term canonical; blank lines and lines starting with '#' are
 * ignored.  Terms may be several words ("air handling unit") or Chinese
 * ("空调箱").  Terms are stored normalised (NFKC, case-folded, spaces
 * collapsed) so lookups are insensitive to case and width.
 *
 *   air handling unit, AHU, 空调箱
 *   unserviceable, u/s
 *
 * Ownership: kb_synonyms objects are freed with kb_synonyms_free(); arrays
 * and strings returned by lookups belong to the object.
 */
#ifndef KB_SYNONYMS_H
#define KB_SYNONYMS_H

#include <stddef.h>

#include "kb/buf.h"

typedef struct kb_synonyms kb_synonyms;

/* An empty table. */
kb_synonyms *kb_synonyms_new(void);
/* Parse `len` bytes; KB_EINPUT with path and line for invalid UTF-8 or a
 * line with a single term.  On failure *out is NULL. */
int kb_synonyms_parse(kb_synonyms **out, const char *text, size_t len, const char *path);
/* Read and parse a file; a missing file gives an empty table. */
int kb_synonyms_load(kb_synonyms **out, const char *path);
void kb_synonyms_free(kb_synonyms *s);

/* Number of groups. */
size_t kb_synonyms_count(const kb_synonyms *s);
/* The group holding `term` (normalised before lookup): stores its terms
 * (normalised, canonical first) in *terms and returns their number, or 0
 * when the term is in no group. */
size_t kb_synonyms_lookup(const kb_synonyms *s, const char *term, const char *const **terms);
/* Longest number of words of any term (for phrase matching). */
size_t kb_synonyms_max_words(const kb_synonyms *s);

/*
 * The other terms of every group that has a term in `text` (found as a run
 * of its query tokens, stemmed, so "trips" finds "trip" and 冷水机组 finds
 * the group of "chiller"): appended to `out`, one per line, in group order;
 * the terms that occur are not repeated.  Returns how many were appended
 * (0 for a NULL or empty table).  Used to bridge languages when comparing
 * cases (kb_index_duplicates).
 */
int kb_synonyms_expand(kb_buf *out, const kb_synonyms *s, const char *text, size_t len);

#endif
