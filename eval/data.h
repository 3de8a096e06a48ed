/*
 * data.h - one retrieval data set in the shared format (corpus.jsonl[.gz],
 * queries.jsonl, qrels.tsv), loaded into memory, with a string -> index map
 * for document and query ids.
 */
#ifndef EVAL_DATA_H
#define EVAL_DATA_H

#include <stddef.h>

typedef struct {
	char **keys;
	size_t *vals;
	size_t cap, count;
} ev_map;

typedef struct {
	size_t doc;     /* index into the corpus */
	int rel;        /* relevance as judged, may be 0 */
} ev_judgement;

typedef struct {
	char *id;
	char *text;
	ev_judgement *judged;   /* qrels rows of this query, in file order */
	size_t njudged;
	size_t nrelevant;       /* rows with rel > 0 */
} ev_query;

typedef struct {
	char *name;
	char **doc_id, **doc_title, **doc_body;
	size_t ndocs;
	ev_query *queries;
	size_t nqueries;
	size_t graded;        /* qrels rows with rel > 1 */
	size_t zero_rows;     /* qrels rows with rel == 0 (judged candidates) */
	ev_map doc_map;
} ev_set;

/* 1 when `dir` holds the three files of a data set. */
int ev_set_present(const char *dir);
/* Load the set in `dir` (named `name`); prints to stderr and returns -1 on failure. */
int ev_set_load(ev_set *set, const char *dir, const char *name);
void ev_set_release(ev_set *set);

/* Index of `key`, or (size_t)-1. */
size_t ev_map_get(const ev_map *m, const char *key);

#endif
