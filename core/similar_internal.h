/*
 * similar_internal.h - the more-like-this steps that similar.c (the SQL
 * path: an FTS5 OR query ranked by kb_rank) and simidx.c (the in-memory
 * batch path) share, so both pick the same terms with the same weights:
 * tokenizing a description as documents are, document frequencies, term
 * selection, kb_rank's phrase weights and the free-text normaliser.
 * See docs/internals/index.md ("Similar cases").
 */
#ifndef KB_SIMILAR_INTERNAL_H
#define KB_SIMILAR_INTERNAL_H

#include <sqlite3.h>

#include "kb/index.h"
#include "index_internal.h"

typedef struct {
	char *tok;        /* normalised token, as indexed */
	char *surface;    /* the description's text for it (quoted into MATCH) */
	int tf;
	int unigram;      /* a single CJK character */
	sqlite3_int64 df;
	double weight;
} kb_sim_term;

typedef struct {
	kb_sim_term *v;
	size_t n, alloc;
	const char *text;
	int len;
} kb_sim_terms;

/* The index's own FTS5 tokenizer (idx->tokenize), created once. */
typedef struct {
	fts5_tokenizer tk;
	Fts5Tokenizer *tok;
} kb_sim_tokenizer;

/* Create / delete the tokenizer; open returns KB_ERROR (message set) when
 * the index's tokenizer cannot be created, and leaves *t empty. */
int kb_sim__tokenizer_open(kb_sim_tokenizer *t, kb_index *idx);
void kb_sim__tokenizer_close(kb_sim_tokenizer *t);

/* Fill t->v[i].df of every term (0 = in no case); single CJK characters
 * stay at 0 when skip_unigrams.  0 or a negative error. */
typedef int (*kb_sim_df_fn)(void *ctx, kb_sim_terms *t, int skip_unigrams);

/*
 * The terms of description `text` (at most 1 MiB of it looked at) that
 * the lookup ranks by: tokenized with `tk` (NULL: a tokenizer of the
 * index made for this call) in document mode, equal tokens merged, df from
 * `df`, and the selection of select_terms() for `ndocs` cases and `o`.
 * On return t->v[0 .. *k) are the selected terms, best first; the caller
 * releases t with kb_sim__terms_release() whatever the result.
 */
int kb_sim__prepare(kb_index *idx, kb_sim_tokenizer *tk, const char *text, size_t len,
		    sqlite3_int64 ndocs, const kb_search_options *o, kb_sim_df_fn df,
		    void *df_ctx, kb_sim_terms *t, size_t *k);
void kb_sim__terms_release(kb_sim_terms *t);

/* Terms in more than this many of `ndocs` cases are never selected. */
double kb_sim__max_df(sqlite3_int64 ndocs, const kb_search_options *o);

/* The weight kb_rank() is given for term x, in millionths (what similar.c
 * writes into the weight list; kb_rank divides by 1e6). */
long long kb_sim__weight_micro(const kb_sim_term *x, sqlite3_int64 ndocs);

/* The normaliser of free-text scores for the first k terms (see similar.c). */
double kb_sim__self_estimate(kb_index *idx, const kb_sim_terms *t, size_t k,
			     sqlite3_int64 ndocs);

/* What the ranked query multiplies a boosted score by at most (1.3 per
 * boost given), divided out so a duplicate still scores about 1. */
double kb_sim__boost_factor(const kb_search_options *o);

/*
 * The second stage (docs/internals/index.md, "Two stages").  The budgeted
 * OR query of the selected terms picks candidates; then every other term of
 * the description that some case has (the common grams the budget or the df
 * cap left out) adds its BM25F score to each candidate, read by tokenizing
 * the candidate's indexed text, and the candidates are re-ordered by the sum.
 *
 * kb_sim__rerank_k: how many candidates options `o` ask for (0: no second
 * stage) for a description (is_case 0) or a case, at least o's limit.
 * kb_sim__extras: moves the terms with df > 0 beyond the first k to
 * t->v[k ..) and returns their number m.
 */
size_t kb_sim__rerank_k(const kb_search_options *o, int is_case);
size_t kb_sim__extras(kb_sim_terms *t, size_t k);

/*
 * Add the score of the extra terms t->v[k .. k + m) to each candidate of
 * c[0 .. *n) in order (r, the ranked query's key, goes down by it times the
 * candidate's boosts) until at least min_n are done and the text read passes
 * a byte budget; *n is cut to those, sorted by r, then rowid.  Column
 * averages `avg` are kb_rank's.  *self is the first stage's own score of case self_rowid
 * (0: none or free text) on entry, the normaliser for all k + m terms on
 * return.  `tk` is the index's tokenizer.  0 or a negative error (message
 * set); c is left in some order on failure.
 */
int kb_sim__rerank(kb_index *idx, kb_sim_tokenizer *tk, const kb_sim_terms *t, size_t k,
		   size_t m, sqlite3_int64 ndocs, const double avg[KB_COL__COUNT],
		   sqlite3_int64 self_rowid, double *self, kb_rank_cand *c, size_t *n,
		   size_t min_n);

/* The query of kb_index__similar_case() for case `id`: its indexed text
 * (widened with synonyms when `expand`), its rowid (self), and `opts`
 * with the case excluded and its equipment and model as default boosts
 * (o's strings point into q or opts).  KB_ENOTFOUND for an id not in the
 * index.  Release q with kb_sim__case_release() whatever the result. */
typedef struct {
	kb_buf text;
	sqlite3_int64 rowid;
	char *equipment, *model;
	kb_search_options o;
} kb_sim_case;

int kb_sim__case_query(kb_sim_case *q, kb_index *idx, const char *id,
		       const kb_search_options *opts, int expand);
void kb_sim__case_release(kb_sim_case *q);

#endif
