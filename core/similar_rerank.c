/*
 * similar_rerank.c - the second stage of a similar lookup, shared by the
 * SQL path (similar.c) and the in-memory path (simidx.c): the terms the
 * first stage's budget left out re-score the candidates it found, with
 * kb_rank()'s BM25F arithmetic, their frequencies read by tokenizing each
 * candidate's indexed text.  See docs/internals/index.md ("Two stages").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/error.h"
#include "index_internal.h"
#include "similar_internal.h"

#define NCOL KB_COL__COUNT
/* Most bytes of candidate text tokenized per lookup (past the hits asked
 * for): what bounds the second stage's cost, as the postings budget bounds
 * the first's.  See docs/internals/index.md for the measurements. */
#define RERANK_MAX_BYTES (256u * 1024)

/* The extra terms of one lookup and the scratch of one candidate. */
typedef struct {
	const kb_sim_terms *t;
	size_t k, m;
	uint64_t *slot;          /* open addressing: hash << 32 | extra + 1, 0 empty */
	size_t nslots;
	double *w;               /* per extra: kb_rank's phrase weight */
	uint32_t *tf;            /* per extra and column */
	uint32_t *seen;          /* extras counted in this candidate */
	size_t nseen;
	uint32_t *mark, gen;     /* mark[e] == gen: e is in seen */
	int col, sz;             /* column being read, its size as FTS5 counts */
} rerank_ctx;

size_t kb_sim__rerank_k(const kb_search_options *o, int is_case)
{
	size_t limit = o->limit ? o->limit : 10, k;

	if (o->rerank < 0 || (o->rerank == 0 && is_case))
		return 0;
	k = o->rerank > 0 ? (size_t)o->rerank : KB_SIMILAR_RERANK;
	return k < limit ? limit : k;
}

size_t kb_sim__extras(kb_sim_terms *t, size_t k)
{
	kb_sim_term *tmp;
	size_t i, m = 0, j;

	if (k >= t->n)
		return 0;
	tmp = kb_xcalloc(t->n - k, sizeof(*tmp));
	for (i = k; i < t->n; i++)
		if (t->v[i].df > 0)
			tmp[m++] = t->v[i];
	for (i = k, j = m; i < t->n; i++)
		if (t->v[i].df <= 0)
			tmp[j++] = t->v[i];
	memcpy(t->v + k, tmp, (t->n - k) * sizeof(*tmp));
	free(tmp);
	return m;
}

static uint32_t hash_tok(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/* The extra whose token is tok[0 .. len), or -1. */
static long find_extra(const rerank_ctx *x, const char *tok, size_t len)
{
	uint32_t h = hash_tok(tok, len);
	size_t i = h & (x->nslots - 1);

	for (; x->slot[i]; i = (i + 1) & (x->nslots - 1)) {
		uint32_t e = (uint32_t)x->slot[i] - 1;
		const char *s;
		if (x->slot[i] >> 32 != h)
			continue;
		s = x->t->v[x->k + e].tok;
		if (!strncmp(s, tok, len) && s[len] == '\0')
			return (long)e;
	}
	return -1;
}

static void ctx_init(rerank_ctx *x, const kb_sim_terms *t, size_t k, size_t m,
		     sqlite3_int64 ndocs)
{
	size_t i, j;

	memset(x, 0, sizeof(*x));
	x->t = t;
	x->k = k;
	x->m = m;
	for (x->nslots = 16; x->nslots < 2 * m; x->nslots *= 2)
		;
	x->slot = kb_xcalloc(x->nslots, sizeof(*x->slot));
	x->w = kb_xcalloc(m + 1, sizeof(*x->w));
	x->tf = kb_xcalloc((m + 1) * NCOL, sizeof(*x->tf));
	x->seen = kb_xcalloc(m + 1, sizeof(*x->seen));
	x->mark = kb_xcalloc(m + 1, sizeof(*x->mark));
	for (i = 0; i < m; i++) {
		const char *tok = t->v[k + i].tok;
		uint32_t h = hash_tok(tok, strlen(tok));
		for (j = h & (x->nslots - 1); x->slot[j]; j = (j + 1) & (x->nslots - 1))
			;
		x->slot[j] = (uint64_t)h << 32 | ((uint32_t)i + 1);
		/* what kb_rank() is given for a phrase: millionths */
		x->w[i] = (double)kb_sim__weight_micro(&t->v[k + i], ndocs) / 1e6;
	}
}

static void ctx_release(rerank_ctx *x)
{
	free(x->slot);
	free(x->w);
	free(x->tf);
	free(x->seen);
	free(x->mark);
}

/* Per token of a column: its size as FTS5 counts it (a colocated token
 * takes no position unless first, simidx.c's tok_cb), and the tf of an
 * extra term per column. */
static int count_cb(void *ctx, int flags, const char *tok, int len, int start, int end)
{
	rerank_ctx *x = ctx;
	long e;

	(void)start, (void)end;
	if (!(flags & FTS5_TOKEN_COLOCATED) || x->sz == 0)
		x->sz++;
	if (len <= 0 || (e = find_extra(x, tok, (size_t)len)) < 0)
		return SQLITE_OK;
	if (x->mark[e] != x->gen) {
		x->mark[e] = x->gen;
		x->seen[x->nseen++] = (uint32_t)e;
	}
	x->tf[(size_t)e * NCOL + x->col]++;
	return SQLITE_OK;
}

/*
 * The extra terms' score for the row `st` was stepped to: per extra term,
 * tf~ = sum over columns c of w_c / w_symptom / (1 - b + b len_c / avg_c)
 * once per occurrence, then w tf~ (k1 + 1) / (tf~ + k1): rank_fn's
 * expression (core/search.c).
 */
static int row_score(rerank_ctx *x, kb_index *idx, kb_sim_tokenizer *tk, sqlite3_stmt *st,
		     const double avg[NCOL], double *out)
{
	double ws = idx->weights[KB_COL_SYMPTOM] > 0 ? idx->weights[KB_COL_SYMPTOM] : 1.0;
	int sz[NCOL], c;
	size_t i;

	*out = 0;
	x->nseen = 0;
	if (++x->gen == 0) {
		memset(x->mark, 0, x->m * sizeof(*x->mark));
		x->gen = 1;
	}
	for (c = 0; c < NCOL; c++) {
		const char *text = (const char *)sqlite3_column_text(st, c);
		int n = sqlite3_column_bytes(st, c);
		x->col = c;
		x->sz = 0;
		if (text && n > 0 &&
		    tk->tk.xTokenize(tk->tok, x, FTS5_TOKENIZE_DOCUMENT, text, n, count_cb) !=
		    SQLITE_OK)
			return kb_error_set(KB_ERROR, idx->path, 0, "cannot tokenize case %lld",
					    (long long)sqlite3_column_int64(st, NCOL));
		sz[c] = x->sz;
	}
	for (i = 0; i < x->nseen; i++) {
		uint32_t *tf = &x->tf[(size_t)x->seen[i] * NCOL], r;
		double freq = 0;
		for (c = 0; c < NCOL; c++) {
			double f = idx->weights[c] / ws / (1 - RANK_B + RANK_B * sz[c] / avg[c]);
			for (r = 0; r < tf[c]; r++)
				freq += f;
			tf[c] = 0;
		}
		if (freq > 0)
			*out += x->w[x->seen[i]] * freq * (RANK_K1 + 1) / (freq + RANK_K1);
	}
	return 0;
}

/* The extra score of case `rowid` (0 when it is not in the index). */
static int extra_of(rerank_ctx *x, kb_index *idx, kb_sim_tokenizer *tk, sqlite3_stmt *st,
		    const double avg[NCOL], sqlite3_int64 rowid, double *out, size_t *bytes)
{
	int rc, c;

	*out = 0;
	sqlite3_bind_int64(st, 1, rowid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = row_score(x, idx, tk, st, avg, out);
		for (c = 0; c < NCOL; c++)
			*bytes += (size_t)sqlite3_column_bytes(st, c);
	}
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = kb_index__sqlerr(idx, "cannot read the index");
	sqlite3_reset(st);
	return rc;
}

static int cmp_cand(const void *a, const void *b)
{
	const kb_rank_cand *x = a, *y = b;

	if (x->r != y->r)
		return x->r < y->r ? -1 : 1;
	return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

int kb_sim__rerank(kb_index *idx, kb_sim_tokenizer *tk, const kb_sim_terms *t, size_t k,
		   size_t m, sqlite3_int64 ndocs, const double avg[KB_COL__COUNT],
		   sqlite3_int64 self_rowid, double *self, kb_rank_cand *c, size_t *n,
		   size_t min_n)
{
	sqlite3_stmt *st = NULL;
	size_t i, bytes = 0;
	rerank_ctx x;
	double e;
	int rc = 0;

	ctx_init(&x, t, k, m, ndocs);
	if (sqlite3_prepare_v2(idx->db, "SELECT title, symptom, environment, cause, resolution,"
			       " notes, tags, equipment, model, site, failure, rowid"
			       " FROM fts WHERE rowid = ?1", -1, &st, NULL)) {
		rc = kb_index__sqlerr(idx, "cannot read the index");
		goto done;
	}
	for (i = 0; i < *n; i++) {
		if (i >= min_n && bytes >= RERANK_MAX_BYTES) {
			*n = i;      /* the rest were not re-scored: drop them */
			break;
		}
		if ((rc = extra_of(&x, idx, tk, st, avg, c[i].rowid, &e, &bytes)))
			goto done;
		/* r is -kb_rank × boosts (search.c's RANKED_DOCS) */
		c[i].r -= e * (c[i].beq ? KB_BOOST : 1.0) * (c[i].bmo ? KB_BOOST : 1.0);
	}
	if (*n > 1)
		qsort(c, *n, sizeof(*c), cmp_cand);
	if (self_rowid > 0 && *self > 0) {
		if ((rc = extra_of(&x, idx, tk, st, avg, self_rowid, &e, &bytes)))
			goto done;
		*self += e;
	} else {
		*self = kb_sim__self_estimate(idx, t, k + m, ndocs);
	}
done:
	sqlite3_finalize(st);
	ctx_release(&x);
	return rc;
}
