/*
 * similar.c - more-like-this over the index (kb/index.h): tokenize a
 * description with the index's own FTS5 tokenizer, weigh each distinct
 * term by tf·idf using document frequencies read from the index
 * (fts5vocab), keep the most informative terms within a postings budget,
 * and rank their OR with the shared BM25 runner; for a description the best
 * candidates are then re-scored with every term (similar_rerank.c).  Scores
 * are normalised so that a near-duplicate scores about 1.  See
 * docs/internals/index.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/query.h"
#include "index_internal.h"
#include "similar_internal.h"

#define DEFAULT_MAX_TERMS 24
#define DEFAULT_MAX_DF_RATIO 0.2
/* Below this many cases no term is too common to keep. */
#define MIN_DF_CUTOFF 50
/* Most postings (sum of df of the selected terms) per case in the index. */
#define POSTINGS_PER_DOC 0.3
#define MIN_POSTINGS 20000
/* Okapi BM25's query-tf saturation (phrase_weight). */
#define QTF_K3 7.0
/* Weight of a single CJK character relative to other terms (bigrams). */
#define UNIGRAM_WEIGHT 1.0
/* Longest description looked at, in bytes. */
#define KB_INDEX_SIMILAR_MAX (1u << 20)

/* Shorter names for the shared types (similar_internal.h). */
typedef kb_sim_term term;
typedef kb_sim_terms term_list;

void kb_sim__terms_release(term_list *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].tok);
		free(t->v[i].surface);
	}
	free(t->v);
	t->v = NULL;
	t->n = t->alloc = 0;
}

/* One code point at or above U+2E80 (CJK radicals onward): a CJK unigram. */
static int is_cjk_unigram(const char *tok, int len)
{
	const unsigned char *u = (const unsigned char *)tok;

	if (len == 3 && u[0] >= 0xe2 && u[0] < 0xf0)
		return u[0] > 0xe2 || u[1] >= 0xba;
	return len == 4 && u[0] >= 0xf0;
}

static int add_token(void *ctx, int flags, const char *tok, int len, int start, int end)
{
	term_list *t = ctx;
	term *x;

	(void)flags;
	if (len <= 0 || start < 0 || end > t->len || start >= end)
		return SQLITE_OK;
	if (t->n == t->alloc) {
		t->alloc = t->alloc ? 2 * t->alloc : 64;
		t->v = kb_xrealloc(t->v, t->alloc * sizeof(*t->v));
	}
	x = &t->v[t->n++];
	memset(x, 0, sizeof(*x));
	x->tok = kb_xstrndup(tok, (size_t)len);
	x->surface = kb_xstrndup(t->text + start, (size_t)(end - start));
	x->tf = 1;
	x->unigram = is_cjk_unigram(tok, len);
	return SQLITE_OK;
}

static int cmp_tok(const void *a, const void *b)
{
	return strcmp(((const term *)a)->tok, ((const term *)b)->tok);
}

/* Merge equal tokens, summing tf; keeps the first surface form. */
static void merge_terms(term_list *t)
{
	size_t i, j = 0;

	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), cmp_tok);
	for (i = 0; i < t->n; i++) {
		if (j && !strcmp(t->v[j - 1].tok, t->v[i].tok)) {
			t->v[j - 1].tf++;
			free(t->v[i].tok);
			free(t->v[i].surface);
		} else {
			t->v[j++] = t->v[i];
		}
	}
	t->n = j;
}

/* Split the tokenize= spec ("kb stem 1") into words; returns their number. */
static int split_spec(char *spec, const char *argv[8])
{
	int n = 0;
	char *p = spec;

	while (*p && n < 8) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		argv[n++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return n;
}

int kb_sim__tokenizer_open(kb_sim_tokenizer *t, kb_index *idx)
{
	fts5_api *api = kb_index__fts5_api(idx->db);
	char *spec = kb_xstrdup(idx->tokenize);
	const char *argv[8];
	void *ud = NULL;
	int argc = split_spec(spec, argv), rc = 0;

	memset(t, 0, sizeof(*t));
	if (!api || argc < 1 || api->xFindTokenizer(api, argv[0], &ud, &t->tk) != SQLITE_OK ||
	    t->tk.xCreate(ud, argv + 1, argc - 1, &t->tok) != SQLITE_OK) {
		t->tok = NULL;
		rc = kb_error_set(KB_ERROR, idx->path, 0, "cannot create tokenizer '%s'",
				  idx->tokenize);
	}
	free(spec);
	return rc;
}

void kb_sim__tokenizer_close(kb_sim_tokenizer *t)
{
	if (t->tok)
		t->tk.xDelete(t->tok);
	t->tok = NULL;
}

/* Tokenize with the index's own FTS5 tokenizer, as documents are. */
static int tokenize_text(kb_index *idx, kb_sim_tokenizer *tk, const char *text, int len,
			 term_list *t)
{
	kb_sim_tokenizer own;
	int rc;

	if (!tk && (rc = kb_sim__tokenizer_open(tk = &own, idx)))
		return rc;
	t->text = text;
	t->len = len;
	rc = tk->tk.xTokenize(tk->tok, t, FTS5_TOKENIZE_DOCUMENT, text, len, add_token);
	if (rc != SQLITE_OK)
		rc = kb_error_set(KB_ERROR, idx->path, 0, "cannot tokenize the description");
	else
		merge_terms(t);
	if (tk == &own)
		kb_sim__tokenizer_close(&own);
	return rc;
}

/* df of one term from the snapshot: 0 found, 1 absent, <0 error. */
static int cached_df(kb_index *idx, const char *tok, sqlite3_int64 *df)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = kb_index__stmt(idx, ST_DFCACHE, "SELECT df FROM dfcache WHERE term = ?1", &st)))
		return rc;
	sqlite3_bind_text(st, 1, tok, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*df = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : kb_index__sqlerr(idx, "cannot read the index");
}

/* df of one term from fts5vocab (exact, costs a walk of its doclist). */
static int live_df(kb_index *idx, const char *tok, sqlite3_int64 *df)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = kb_index__vocab(idx)) ||
	    (rc = kb_index__stmt(idx, ST_DF, "SELECT doc FROM temp.kbvocab WHERE term = ?1", &st)))
		return rc;
	sqlite3_bind_text(st, 1, tok, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*df = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return kb_index__sqlerr(idx, "cannot read the index vocabulary");
	return 0;
}

/*
 * Document frequency of each term.  A stale or missing snapshot is retaken
 * first when possible (a busy database just means live lookups).  With a
 * snapshot that saw every write a term it lacks has df 0; otherwise such
 * a term may be new and is looked up live.
 */
static int lookup_df(void *ctx, term_list *t, int skip_unigrams)
{
	kb_index *idx = ctx;
	int64_t changes;
	size_t i;
	int rc;

	if (kb_index__df_stale(idx)) {
		/* opportunistic: never wait for another writer here */
		sqlite3_busy_timeout(idx->db, 0);
		kb_index__refresh_df(idx);
		sqlite3_busy_timeout(idx->db, KB_INDEX_BUSY_MS);
	}
	changes = kb_index__df_changes(idx);
	for (i = 0; i < t->n; i++) {
		t->v[i].df = 0;
		if (skip_unigrams && t->v[i].unigram)
			continue;
		rc = changes < 0 ? 1 : cached_df(idx, t->v[i].tok, &t->v[i].df);
		if (rc == 1 && changes != 0)
			rc = live_df(idx, t->v[i].tok, &t->v[i].df);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int cmp_weight(const void *a, const void *b)
{
	const term *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight < y->weight ? 1 : -1;
	return strcmp(x->tok, y->tok);
}

/* The idf FTS5's bm25() uses. */
static double fts5_idf(sqlite3_int64 n, sqlite3_int64 df)
{
	double idf = log((n - df + 0.5) / (df + 0.5));

	return idf <= 0 ? 1e-6 : idf;
}

double kb_sim__max_df(sqlite3_int64 ndocs, const kb_search_options *o)
{
	double ratio = o->max_df_ratio > 0 ? o->max_df_ratio : DEFAULT_MAX_DF_RATIO;
	double max_df = ratio * (double)ndocs;

	return max_df < MIN_DF_CUTOFF ? MIN_DF_CUTOFF : max_df;
}

/*
 * Keep the most informative terms: weight = tf · log(1 + (N - df + .5) /
 * (df + .5)); terms absent from the index or in more than max_df cases are
 * dropped, and the sum of the kept terms' df stays within a postings budget
 * (what an OR query costs).  The kept terms are moved to the front of t->v
 * and their number returned.
 */
static size_t select_terms(term_list *t, sqlite3_int64 ndocs, const kb_search_options *o)
{
	size_t max_terms = o->max_terms ? o->max_terms : DEFAULT_MAX_TERMS;
	double max_df = kb_sim__max_df(ndocs, o), budget = POSTINGS_PER_DOC * (double)ndocs;
	double used = 0;
	size_t i, k = 0;

	if (budget < MIN_POSTINGS)
		budget = MIN_POSTINGS;
	if (o->max_postings)
		budget = (double)o->max_postings;
	for (i = 0; i < t->n; i++) {
		term *x = &t->v[i];
		x->weight = x->df > 0 && (double)x->df <= max_df ?
			    x->tf * log(1 + (ndocs - x->df + 0.5) / (x->df + 0.5)) : 0;
	}
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), cmp_weight);
	for (i = 0; i < t->n && k < max_terms && t->v[i].weight > 0; i++) {
		term tmp;
		if (used + (double)t->v[i].df > budget)
			continue;
		used += (double)t->v[i].df;
		tmp = t->v[k];
		t->v[k++] = t->v[i];
		t->v[i] = tmp;
	}
	return k;
}

/*
 * A term's weight in kb_rank(): its saturated frequency in the description
 * times the idf bm25() would use, times UNIGRAM_WEIGHT for a single CJK
 * character.  The query tf is what an OR of all the description's words
 * does in plain FTS5 (a word written twice is two phrases): a description
 * repeats the words it is about.  With idf alone kb ranked English forum
 * questions 13 MRR points below plain FTS5 bm25 (docs/eval.md).  tf is
 * saturated as in Okapi BM25, qtf (k3 + 1) / (k3 + qtf) with Okapi's k3 = 7:
 * a whole case (similar_case) repeats words across sections (the part named
 * in the cause is named again in the resolution), and linear tf let one
 * such word outweigh the rest.
 */
static double phrase_weight(const term *x, sqlite3_int64 n)
{
	double qtf = x->tf * (QTF_K3 + 1) / (QTF_K3 + x->tf);

	return qtf * fts5_idf(n, x->df) * (x->unigram ? UNIGRAM_WEIGHT : 1.0);
}

long long kb_sim__weight_micro(const term *x, sqlite3_int64 n)
{
	return (long long)llround(phrase_weight(x, n) * 1e6);
}

/* "w0 w1 ..." in millionths, for kb_rank(). */
static void build_weights(kb_buf *b, const term_list *t, size_t k, sqlite3_int64 n)
{
	size_t i;

	for (i = 0; i < k; i++)
		kb_buf_printf(b, "%s%lld", i ? " " : "", kb_sim__weight_micro(&t->v[i], n));
}

/* What -kb_rank would give the description itself if it were indexed with
 * its text in title and symptom, both of average length: the normaliser for
 * free-text scores.  kb_rank counts column weights relative to the symptom
 * weight, so each occurrence counts (w_title + w_symptom) / w_symptom. */
double kb_sim__self_estimate(kb_index *idx, const term_list *t, size_t k, sqlite3_int64 n)
{
	double ws = idx->weights[KB_COL_SYMPTOM] > 0 ? idx->weights[KB_COL_SYMPTOM] : 1;
	double w = (idx->weights[KB_COL_TITLE] + ws) / ws, s = 0;
	size_t i;

	for (i = 0; i < k; i++) {
		double tf = t->v[i].tf * w;
		s += phrase_weight(&t->v[i], n) * tf * (RANK_K1 + 1) / (tf + RANK_K1);
	}
	return s;
}

static void build_match(kb_buf *m, const term_list *t, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++) {
		if (i)
			kb_buf_puts(m, " OR ");
		kb_query_quote(m, t->v[i].surface, strlen(t->v[i].surface));
	}
}

double kb_sim__boost_factor(const kb_search_options *o)
{
	double f = 1.0;

	if (o->boost_equipment && *o->boost_equipment)
		f *= KB_BOOST;
	if (o->boost_model && *o->boost_model)
		f *= KB_BOOST;
	return f;
}

int kb_sim__prepare(kb_index *idx, kb_sim_tokenizer *tk, const char *text, size_t len,
		    sqlite3_int64 ndocs, const kb_search_options *o, kb_sim_df_fn df,
		    void *df_ctx, term_list *t, size_t *k)
{
	int rc;

	*k = 0;
	if (len > KB_INDEX_SIMILAR_MAX)
		len = KB_INDEX_SIMILAR_MAX;
	while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
		len--;
	if ((rc = tokenize_text(idx, tk, text, (int)len, t)) ||
	    (rc = df(df_ctx, t, o->cjk_unigrams < 0)))
		return rc;
	*k = select_terms(t, ndocs, o);
	return 0;
}

/* -kb_rank of case `rowid` for `match`, or 0 when it does not match. */
static double self_score(kb_index *idx, const char *match, const char *weights,
			 sqlite3_int64 rowid)
{
	sqlite3_stmt *st = NULL;
	double s = 0;
	int i;

	if (sqlite3_prepare_v2(idx->db, "SELECT kb_rank(fts, ?14, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
			       " ?11, ?12, ?13) FROM fts WHERE fts MATCH ?1 AND rowid = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, weights, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rowid);
	for (i = 0; i < KB_COL__COUNT; i++)
		sqlite3_bind_double(st, 3 + i, idx->weights[i]);
	if (sqlite3_step(st) == SQLITE_ROW)
		s = -sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return s;
}

/* The first `rerank` rows of the ranked query re-scored with the m extra
 * terms t->v[k .. k + m) (kb_sim__rerank), the best o->limit as hits. */
static int two_stages(kb_index *idx, kb_sim_terms *t, size_t k, size_t m, sqlite3_int64 n,
		      size_t rerank, const char *match, const char *weights,
		      sqlite3_int64 self_rowid, double self, const kb_search_options *o,
		      const char **names, kb_hits *out)
{
	size_t limit = o->limit ? o->limit : 10, nc = 0;
	kb_rank_cand *c = NULL;
	kb_sim_tokenizer tk;
	int rc;

	if ((rc = kb_sim__tokenizer_open(&tk, idx)))
		return rc;
	if ((rc = kb_index__candidates(idx, match, weights, o, rerank, &c, &nc)) == 0 && nc &&
	    (rc = kb_sim__rerank(idx, &tk, t, k, m, n, idx->rank_avg, self_rowid, &self, c, &nc,
				 limit)) == 0)
		rc = kb_index__hits_of(idx, c, nc < limit ? nc : limit,
				       1.0 / (self * kb_sim__boost_factor(o)), match, o, names, k,
				       out);
	free(c);
	kb_sim__tokenizer_close(&tk);
	return rc;
}

/* The more-like-this query for `text`; self_rowid > 0 names the indexed
 * case the text came from (its own score is the normaliser). */
static int similar(kb_index *idx, const char *text, size_t len, sqlite3_int64 self_rowid,
		   const kb_search_options *o, kb_hits *out)
{
	term_list t = { 0 };
	kb_buf match = KB_BUF_INIT, weights = KB_BUF_INIT;
	const char **names = NULL;
	sqlite3_int64 n = kb_index_count(idx);
	double self;
	size_t k, i, rerank, m;
	int rc = 0;

	if (n == 0 || (rc = kb_sim__prepare(idx, NULL, text, len, n, o, lookup_df, idx, &t, &k)) ||
	    k == 0)
		goto done;
	build_match(&match, &t, k);
	build_weights(&weights, &t, k, n);
	self = self_rowid > 0 ? self_score(idx, match.ptr, weights.ptr, self_rowid) : 0;
	names = kb_xcalloc(k, sizeof(*names));
	for (i = 0; i < k; i++)
		names[i] = t.v[i].tok;
	if ((rerank = kb_sim__rerank_k(o, self_rowid > 0)) && (m = kb_sim__extras(&t, k))) {
		rc = two_stages(idx, &t, k, m, n, rerank, match.ptr, weights.ptr, self_rowid, self,
				o, names, out);
		goto done;
	}
	if (self <= 0)
		self = kb_sim__self_estimate(idx, &t, k, n);
	rc = kb_index__ranked(idx, match.ptr, weights.ptr, o, 1.0 / (self * kb_sim__boost_factor(o)),
			      names, k, out);
done:
	free(names);
	kb_buf_release(&weights);
	kb_buf_release(&match);
	kb_sim__terms_release(&t);
	return rc;
}

int kb_index_similar(kb_index *idx, const char *text, const kb_search_options *opts,
		     kb_hits *out)
{
	kb_search_options dflt = KB_SEARCH_OPTIONS_INIT;
	size_t len = text ? strlen(text) : 0;
	int rc;

	opts = opts ? opts : &dflt;
	if ((rc = kb_utf8_check(text ? text : "", len, NULL)))
		return kb_error_set(KB_EINPUT, NULL, 0, "description is not valid utf-8");
	return similar(idx, text ? text : "", len, 0, opts, out);
}

/* The indexed text of case `id` (columns that describe the fault) and its
 * rowid, equipment and model. */
static int case_text(kb_index *idx, const char *id, kb_buf *text, sqlite3_int64 *rowid,
		     char **equipment, char **model)
{
	sqlite3_stmt *st = NULL;
	int i, rc;

	if (sqlite3_prepare_v2(idx->db, "SELECT f.rowid, d.equipment, d.model, f.title, f.symptom,"
			       " f.environment, f.cause, f.resolution, f.tags, f.failure"
			       " FROM docs AS d CROSS JOIN fts AS f ON f.rowid = d.rowid"
			       " WHERE d.id = ?1", -1, &st, NULL))
		return kb_index__sqlerr(idx, "cannot read the index");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *eq = (const char *)sqlite3_column_text(st, 1);
		const char *mo = (const char *)sqlite3_column_text(st, 2);
		*rowid = sqlite3_column_int64(st, 0);
		*equipment = eq && *eq ? kb_xstrdup(eq) : NULL;
		*model = mo && *mo ? kb_xstrdup(mo) : NULL;
		for (i = 3; i < 10; i++) {
			const char *s = (const char *)sqlite3_column_text(st, i);
			if (s && *s)
				kb_buf_printf(text, "%s\n", s);
		}
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = kb_error_set(KB_ENOTFOUND, NULL, 0, "no case '%s' in the index", id);
	} else {
		rc = kb_index__sqlerr(idx, "cannot read the index");
	}
	sqlite3_finalize(st);
	return rc;
}

int kb_sim__case_query(kb_sim_case *q, kb_index *idx, const char *id,
		       const kb_search_options *opts, int expand)
{
	kb_search_options dflt = KB_SEARCH_OPTIONS_INIT;
	kb_buf extra = KB_BUF_INIT;
	int rc;

	memset(q, 0, sizeof(*q));
	kb_buf_init(&q->text);
	q->o = opts ? *opts : dflt;
	if ((rc = case_text(idx, id, &q->text, &q->rowid, &q->equipment, &q->model)))
		return rc;
	if (expand && kb_synonyms_expand(&extra, idx->synonyms, q->text.ptr, q->text.len) > 0)
		kb_buf_printf(&q->text, "%s\n", extra.ptr);
	kb_buf_release(&extra);
	q->o.exclude_id = id;
	if (!q->o.boost_equipment)
		q->o.boost_equipment = q->equipment;
	if (!q->o.boost_model)
		q->o.boost_model = q->model;
	return 0;
}

void kb_sim__case_release(kb_sim_case *q)
{
	free(q->equipment);
	free(q->model);
	kb_buf_release(&q->text);
}

int kb_index__similar_case(kb_index *idx, const char *id, const kb_search_options *opts,
			   int expand, kb_hits *out)
{
	kb_sim_case q;
	int rc = kb_sim__case_query(&q, idx, id, opts, expand);

	if (rc == 0)
		rc = similar(idx, q.text.ptr, q.text.len, q.rowid, &q.o, out);
	kb_sim__case_release(&q);
	return rc;
}

int kb_index_similar_case(kb_index *idx, const char *id, const kb_search_options *opts,
			  kb_hits *out)
{
	return kb_index__similar_case(idx, id, opts, 0, out);
}
