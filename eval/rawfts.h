/*
 * rawfts.h - a calibration baseline for kb-eval: plain SQLite FTS5 (no
 * libkb) over the same corpus, each query an OR of its words ranked by
 * bm25(), as the data sets' peer-engine table was measured.
 */
#ifndef EVAL_RAWFTS_H
#define EVAL_RAWFTS_H

#include <stddef.h>

#include "data.h"

typedef struct rawfts rawfts;

/* Build an FTS5 table over the corpus with `tokenize` ("porter unicode61")
 * in a database at `path`; NULL (and a message on stderr) on failure. */
rawfts *rawfts_build(const ev_set *set, const char *path, const char *tokenize);
/* Up to `limit` document indices for `text`, best first; returns the count. */
size_t rawfts_query(rawfts *r, const char *text, size_t limit, size_t *ranked);
void rawfts_free(rawfts *r);

#endif
