/*
 * kb/query.h - kb's small search syntax, compiled to an FTS5 MATCH string.
 *
 * Syntax:   word            a term (all terms must match: AND)
 *           "two words"     a phrase
 *           -word, -"a b"   exclude
 *           field:word      restrict to a column: title, symptom, environment,
 *                           cause, resolution, notes, tags, equipment, model,
 *                           site, failure (field:"a phrase" too)
 *           a OR b          either (upper-case OR only)
 * Everything the user types is re-quoted, so no input can produce an FTS5
 * syntax error: stray quotes are closed, operators and punctuation become
 * plain text, unknown field names are searched as ordinary words.
 * Synonyms from a kb_synonyms table are added as alternatives:
 * "AHU" compiles to ("ahu" OR "air handling unit" OR "空调箱").
 *
 * Chinese is written without spaces, so an unquoted term holding a run of
 * four or more CJK characters ("冷水机组跳闸") is taken as several words:
 * it matches the exact text OR any of its bigrams OR any synonym found
 * inside it, and BM25 ranks documents holding more of them first.  Quote
 * it ("冷水机组跳闸") to require the exact sequence.  See
 * docs/internals/query.md.
 */
#ifndef KB_QUERY_H
#define KB_QUERY_H

#include "kb/buf.h"
#include "kb/synonyms.h"

/*
 * Compile `query` into `out` (appended).  `synonyms` may be NULL.  Returns
 * 0 and leaves `out` empty when the query has nothing searchable (only
 * punctuation or stop words); KB_EINPUT for invalid UTF-8.  Never produces
 * a string FTS5 rejects.
 */
int kb_query_compile(kb_buf *out, const char *query, const kb_synonyms *synonyms);

/* Quote `len` bytes of text as one FTS5 string ("..." with "" doubled). */
void kb_query_quote(kb_buf *out, const char *text, size_t len);

#endif
