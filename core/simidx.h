/*
 * simidx.h - an in-memory inverted index of the indexed cases for many
 * similar-case lookups in a row (the de-duplication of a large import):
 * built once from the index's own stored text, it answers what
 * kb_index_similar() answers (same terms, same top hits, same scores) in a
 * fraction of the time.  Internal to libkb; see docs/internals/index.md.
 */
#ifndef KB_SIMIDX_H
#define KB_SIMIDX_H

#include <stddef.h>

#include "kb/index.h"

typedef struct kb_simidx kb_simidx;

/*
 * Read every case of `idx` (the fts table's text, tokenized as documents
 * are) into a new in-memory index.  `idx` must stay open, and unchanged,
 * while *out is used: the index is a snapshot.  Returns 0, or a negative
 * error (KB_ERROR for SQLite or tokenizer failures) with *out NULL.  Free
 * with kb__simidx_free().
 */
int kb__simidx_build(kb_simidx **out, kb_index *idx);
void kb__simidx_free(kb_simidx *s);

/*
 * kb_index_similar(idx, text, opts, out) over the snapshot: the same terms,
 * top hits and scores (hits have no snippet or explanation).  Lookups it
 * cannot answer exactly in memory (filters, explain, a df ratio above the
 * default, a term whose query phrase was not prepared) go to
 * kb_index_similar() itself and are counted by kb__simidx_fallbacks().
 * Errors as kb_index_similar(); hits are appended to `out`.
 */
int kb__simidx_similar(kb_simidx *s, const char *text, const kb_search_options *opts,
		       kb_hits *out);
size_t kb__simidx_fallbacks(const kb_simidx *s);

/* kb_index__similar_case(idx, id, opts, expand, out) over the snapshot
 * (index_internal.h): the case's own text, itself excluded and its own
 * score the normaliser; same answers and fallbacks as above. */
int kb__simidx_similar_case(kb_simidx *s, const char *id, const kb_search_options *opts,
			    int expand, kb_hits *out);

/* Bytes the snapshot holds (postings, per-case data, vocabulary). */
size_t kb__simidx_bytes(const kb_simidx *s);

#endif
