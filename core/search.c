/*
 * search.c - ranked queries over the index (kb/index.h): kb_index_search,
 * the shared runner used by similar.c (filters, boosts, BM25 weights,
 * snippets), and kb_explain(), an FTS5 auxiliary function that reports
 * which phrase matched in which column and the text it matched.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/query.h"
#include "index_internal.h"

/* Hits that get a snippet and an explanation (the rest have NULL). */
#define KB_SNIPPET_HITS 25

/* ---- kb_explain(fts): "col\tphrase\ttext\n" per matched (phrase, column) */

typedef struct {
	int phrase, col, off, size;
	int start, end;     /* byte range in the column text, -1 until found */
} inst;

typedef struct {
	inst *v;
	int n;
	int col;            /* column being tokenized */
	int pos;            /* position of the current token */
} inst_scan;

static int scan_token(void *ctx, int flags, const char *tok, int ntok, int start, int end)
{
	inst_scan *sc = ctx;
	int i;

	(void)tok;
	(void)ntok;
	if (!(flags & FTS5_TOKEN_COLOCATED))
		sc->pos++;
	for (i = 0; i < sc->n; i++) {
		inst *in = &sc->v[i];
		if (in->col != sc->col || sc->pos < in->off || sc->pos >= in->off + in->size)
			continue;
		if (in->start < 0 || start < in->start)
			in->start = start;
		if (end > in->end)
			in->end = end;
	}
	return SQLITE_OK;
}

/* The first instance of each (phrase, column) pair. */
static int collect_insts(const Fts5ExtensionApi *api, Fts5Context *fc, inst **out, int *nout)
{
	int n, i, j, p, c, off, rc, k = 0;
	inst *v;

	if ((rc = api->xInstCount(fc, &n)) != SQLITE_OK)
		return rc;
	v = kb_xcalloc((size_t)n + 1, sizeof(*v));
	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		if ((rc = api->xInst(fc, i, &p, &c, &off)) != SQLITE_OK)
			break;
		for (j = 0; j < k && (v[j].phrase != p || v[j].col != c); j++)
			;
		if (j < k)
			continue;
		v[k] = (inst){ p, c, off, api->xPhraseSize(fc, p), -1, -1 };
		k++;
	}
	*out = v;
	*nout = k;
	return rc;
}

static void explain_fn(const Fts5ExtensionApi *api, Fts5Context *fc, sqlite3_context *ctx,
		       int nval, sqlite3_value **val)
{
	kb_buf b = KB_BUF_INIT;
	inst_scan sc = { NULL, 0, 0, -1 };
	const char *text;
	int i, col, len, rc;

	(void)nval;
	(void)val;
	rc = collect_insts(api, fc, &sc.v, &sc.n);
	for (col = 0; rc == SQLITE_OK && col < api->xColumnCount(fc); col++) {
		for (i = 0; i < sc.n && sc.v[i].col != col; i++)
			;
		if (i == sc.n)
			continue;
		if ((rc = api->xColumnText(fc, col, &text, &len)) != SQLITE_OK)
			break;
		sc.col = col;
		sc.pos = -1;
		rc = api->xTokenize(fc, text, len, &sc, scan_token);
		for (i = 0; rc == SQLITE_OK && i < sc.n; i++) {
			inst *in = &sc.v[i];
			if (in->col != col)
				continue;
			kb_buf_printf(&b, "%d\t%d\t", col, in->phrase);
			if (in->start >= 0 && in->end <= len)
				kb_buf_put(&b, text + in->start, (size_t)(in->end - in->start));
			kb_buf_putc(&b, '\n');
		}
	}
	free(sc.v);
	if (rc == SQLITE_OK)
		sqlite3_result_text(ctx, b.ptr, (int)b.len, SQLITE_TRANSIENT);
	else
		sqlite3_result_error_code(ctx, rc);
	kb_buf_release(&b);
}

/* ---- kb_rank(fts, 'w0 w1 ...', colweight0, ...): BM25F with given phrase
 * weights, for similar.c.
 *
 * Phrase weights: FTS5's bm25() computes each phrase's idf on its first row
 * by walking the phrase's whole doclist (xQueryPhrase), doubling the work of
 * an OR query; similar.c already knows every term's df, and passes the
 * phrase's whole query-side weight (query tf times idf, see similar.c) in
 * millionths, so no locale touches the numbers.
 *
 * Document side, BM25F (Robertson, Zaragoza and Taylor 2004) instead of
 * bm25()'s formula, for two reasons measured on the evaluation sets
 * (docs/eval.md):
 * - Column weights are relative: each is divided by the symptom weight
 *   (the description column), so one occurrence in the symptom counts as
 *   tf 1 and k1 keeps its usual meaning.  bm25() multiplies the raw weights
 *   (title 4, symptom 3) into tf before saturation, which saturates every
 *   matched term at once and flattens both tf and the title/symptom ratio.
 * - Length is normalised per column, against that column's average length:
 *   a title of ten words is long for a title, short for a symptom.  bm25()
 *   uses the length of all columns together.
 * tf~ = sum over columns c of (w_c / w_symptom) * tf_c / (1 - b + b * len_c
 * / avglen_c); score = sum over phrases of weight * tf~ (k1 + 1) / (tf~ + k1),
 * with FTS5's constants k1 = 1.2, b = 0.75 (RANK_K1, RANK_B in
 * index_internal.h). */

typedef struct {
	int n, ncol;
	double *w;      /* per phrase */
	double *freq;   /* scratch per row */
	double *avg;    /* per column: average length in tokens */
	int *len;       /* scratch per row and column: length, -1 = not read */
	kb_lens_reader *lens;   /* column sizes; NULL: ask FTS5 */
} rank_data;

static void rank_free(void *p)
{
	rank_data *rd = p;

	kb_index__lens_reader_free(rd->lens);
	free(rd->w);
	free(rd->freq);
	free(rd->avg);
	free(rd->len);
	free(rd);
}

/* The phrase weights of `spec`, in millionths; missing ones are 0. */
static void rank_parse_weights(rank_data *rd, const char *spec)
{
	char *end;
	int i;

	for (i = 0; spec && i < rd->n; i++) {
		long long v = strtoll(spec, &end, 10);
		if (end == spec)
			break;
		rd->w[i] = (double)v / 1e6;
		spec = end;
	}
}

static rank_data *rank_setup(const Fts5ExtensionApi *api, Fts5Context *fc, const char *spec)
{
	rank_data *rd = kb_xcalloc(1, sizeof(*rd));
	sqlite3_int64 nrow = 0, ntok;
	int c;

	rd->n = api->xPhraseCount(fc);
	rd->ncol = api->xColumnCount(fc);
	rd->w = kb_xcalloc((size_t)rd->n + 1, sizeof(double));
	rd->freq = kb_xcalloc((size_t)rd->n + 1, sizeof(double));
	rd->avg = kb_xcalloc((size_t)rd->ncol + 1, sizeof(double));
	rd->len = kb_xcalloc((size_t)rd->ncol + 1, sizeof(int));
	if (rd->ncol == KB_COL__COUNT)
		rd->lens = kb_index__lens_reader(api->xUserData(fc));
	rank_parse_weights(rd, spec);
	api->xRowCount(fc, &nrow);
	for (c = 0; c < rd->ncol; c++) {
		ntok = 0;
		api->xColumnTotalSize(fc, c, &ntok);
		rd->avg[c] = nrow > 0 && ntok > 0 ? (double)ntok / (double)nrow : 1.0;
	}
	/* for similar.c's second stage, which scores the same way */
	if (rd->ncol == KB_COL__COUNT)
		memcpy(((kb_index *)api->xUserData(fc))->rank_avg, rd->avg,
		       sizeof(double) * KB_COL__COUNT);
	if (api->xSetAuxdata(fc, rd, rank_free) != SQLITE_OK)
		return NULL;          /* rank_free was called */
	return rd;
}

/* Weight of column c relative to the symptom column (arguments 1.. of
 * kb_rank after the phrase weights); 1 when not given. */
static double rank_colweight(int c, int nval, sqlite3_value **val)
{
	double ws = KB_COL_SYMPTOM + 1 < nval ? sqlite3_value_double(val[KB_COL_SYMPTOM + 1]) : 1;

	if (c + 1 >= nval)
		return 1.0;
	return sqlite3_value_double(val[c + 1]) / (ws > 0 ? ws : 1.0);
}

/* 1 - b + b * len / avglen of column c in the current row. */
static double rank_colnorm(const Fts5ExtensionApi *api, Fts5Context *fc, rank_data *rd, int c)
{
	if (rd->len[c] < 0 && api->xColumnSize(fc, c, &rd->len[c]) != SQLITE_OK)
		rd->len[c] = 0;
	return 1 - RANK_B + RANK_B * rd->len[c] / rd->avg[c];
}

static void rank_fn(const Fts5ExtensionApi *api, Fts5Context *fc, sqlite3_context *ctx,
		    int nval, sqlite3_value **val)
{
	rank_data *rd = api->xGetAuxdata(fc, 0);
	int i, n, p, c, off;
	double score = 0;

	if (!rd && !(rd = rank_setup(api, fc, nval > 0 ? (const char *)sqlite3_value_text(val[0]) :
						    NULL))) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	memset(rd->freq, 0, (size_t)rd->n * sizeof(double));
	if (kb_index__lens_get(rd->lens, api->xRowid(fc), rd->len) != 0)
		memset(rd->len, 0xff, (size_t)rd->ncol * sizeof(int));
	if (api->xInstCount(fc, &n) != SQLITE_OK) {
		sqlite3_result_error(ctx, "kb_rank: cannot read instances", -1);
		return;
	}
	for (i = 0; i < n; i++) {
		if (api->xInst(fc, i, &p, &c, &off) != SQLITE_OK || p < 0 || p >= rd->n || c < 0 ||
		    c >= rd->ncol)
			continue;
		rd->freq[p] += rank_colweight(c, nval, val) / rank_colnorm(api, fc, rd, c);
	}
	for (i = 0; i < rd->n; i++)
		if (rd->freq[i] > 0)
			score += rd->w[i] * rd->freq[i] * (RANK_K1 + 1) / (rd->freq[i] + RANK_K1);
	sqlite3_result_double(ctx, -score);
}

/* ---- kb_bm25(fts, colweight0, ...): FTS5's bm25(), same arithmetic, with
 * the row's size from the lens table (index_lens.c) instead of one
 * `_docsize` lookup per row.  The scores are bit for bit those of bm25()
 * (test_index.c compares them): the same k1 and b, idf from the number of
 * rows each phrase matches (xQueryPhrase), average row size from FTS5's
 * totals, column weights added per instance. */

typedef struct {
	int n;
	double avgdl;
	double *idf, *freq;    /* per phrase */
	kb_lens_reader *lens;  /* NULL: ask FTS5 */
} bm25_data;

static void bm25_free(void *p)
{
	bm25_data *d = p;

	kb_index__lens_reader_free(d->lens);
	free(d->idf);
	free(d->freq);
	free(d);
}

static int count_row(const Fts5ExtensionApi *api, Fts5Context *fc, void *ctx)
{
	(void)api;
	(void)fc;
	(*(sqlite3_int64 *)ctx)++;
	return SQLITE_OK;
}

static int bm25_setup(const Fts5ExtensionApi *api, Fts5Context *fc, bm25_data **out)
{
	bm25_data *d = kb_xcalloc(1, sizeof(*d));
	sqlite3_int64 nrow = 0, ntok = 0, nhit;
	int i, rc;

	d->n = api->xPhraseCount(fc);
	d->idf = kb_xcalloc((size_t)d->n + 1, sizeof(double));
	d->freq = kb_xcalloc((size_t)d->n + 1, sizeof(double));
	rc = api->xRowCount(fc, &nrow);
	if (rc == SQLITE_OK)
		rc = api->xColumnTotalSize(fc, -1, &ntok);
	d->avgdl = (double)ntok / (double)nrow;
	for (i = 0; rc == SQLITE_OK && i < d->n; i++) {
		nhit = 0;
		rc = api->xQueryPhrase(fc, i, &nhit, count_row);
		d->idf[i] = log(((double)nrow - (double)nhit + 0.5) / ((double)nhit + 0.5));
		if (d->idf[i] <= 0.0)
			d->idf[i] = 1e-6;
	}
	if (api->xColumnCount(fc) == KB_COL__COUNT)
		d->lens = kb_index__lens_reader(api->xUserData(fc));
	if (rc != SQLITE_OK) {
		bm25_free(d);
		return rc;
	}
	*out = d;
	return api->xSetAuxdata(fc, d, bm25_free);   /* frees d on failure */
}

/* Size of the current row in tokens, all columns. */
static int bm25_rowsize(const Fts5ExtensionApi *api, Fts5Context *fc, bm25_data *d, int *n)
{
	int sz[KB_COL__COUNT], c;

	if (kb_index__lens_get(d->lens, api->xRowid(fc), sz) != 0)
		return api->xColumnSize(fc, -1, n);
	for (*n = 0, c = 0; c < KB_COL__COUNT; c++)
		*n += sz[c];
	return SQLITE_OK;
}

static void bm25_fn(const Fts5ExtensionApi *api, Fts5Context *fc, sqlite3_context *ctx,
		    int nval, sqlite3_value **val)
{
	const double k1 = RANK_K1, b = RANK_B;
	bm25_data *d = api->xGetAuxdata(fc, 0);
	int i, n = 0, p, c, off, ntok = 0, rc = SQLITE_OK;
	double score = 0.0, dl;

	if (!d)
		rc = bm25_setup(api, fc, &d);
	if (rc == SQLITE_OK) {
		memset(d->freq, 0, (size_t)d->n * sizeof(double));
		rc = api->xInstCount(fc, &n);
	}
	for (i = 0; rc == SQLITE_OK && i < n; i++)
		if ((rc = api->xInst(fc, i, &p, &c, &off)) == SQLITE_OK)
			d->freq[p] += nval > c ? sqlite3_value_double(val[c]) : 1.0;
	if (rc == SQLITE_OK)
		rc = bm25_rowsize(api, fc, d, &ntok);
	if (rc != SQLITE_OK) {
		sqlite3_result_error_code(ctx, rc);
		return;
	}
	dl = (double)ntok;
	for (i = 0; i < d->n; i++)
		score += d->idf[i] * ((d->freq[i] * (k1 + 1.0)) /
				      (d->freq[i] + k1 * (1 - b + b * dl / d->avgdl)));
	sqlite3_result_double(ctx, -1.0 * score);
}

/* ---- kb_snippet(fts, open, close, ellipsis, ntokens) ---------------------
 * FTS5's snippet() re-emits the rest of the column when two matches overlap
 * in bytes (fts5HighlightAppend with a negative length), and CJK bigrams at
 * neighbouring positions always overlap.  This one works on positions:
 * pick the column with the most matched positions, the window of `ntokens`
 * positions holding most of them, and merge overlapping highlights. */

typedef struct {
	int start, end;   /* bytes covered by the tokens at this position */
	int hit;
} tpos;

typedef struct {
	tpos *v;
	int n, alloc;
} tpos_list;

static int pos_token(void *ctx, int flags, const char *tok, int ntok, int start, int end)
{
	tpos_list *l = ctx;

	(void)tok;
	(void)ntok;
	if (!(flags & FTS5_TOKEN_COLOCATED) || l->n == 0) {
		if (l->n == l->alloc) {
			l->alloc = l->alloc ? 2 * l->alloc : 64;
			l->v = kb_xrealloc(l->v, (size_t)l->alloc * sizeof(*l->v));
		}
		l->v[l->n++] = (tpos){ start, end, 0 };
		return SQLITE_OK;
	}
	if (start < l->v[l->n - 1].start)
		l->v[l->n - 1].start = start;
	if (end > l->v[l->n - 1].end)
		l->v[l->n - 1].end = end;
	return SQLITE_OK;
}

/* Column with the most matched positions (first on ties), or -1. */
static int best_column(const inst *v, int n, int ncol)
{
	int c, i, best = -1, most = 0;

	for (c = 0; c < ncol; c++) {
		int k = 0;
		for (i = 0; i < n; i++)
			k += v[i].col == c ? v[i].size : 0;
		if (k > most) {
			most = k;
			best = c;
		}
	}
	return best;
}

/* Every instance in column `col`, not only the first per phrase. */
static int mark_hits(const Fts5ExtensionApi *api, Fts5Context *fc, int col, tpos_list *l)
{
	int n, i, j, p, c, off, rc;

	if ((rc = api->xInstCount(fc, &n)) != SQLITE_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if ((rc = api->xInst(fc, i, &p, &c, &off)) != SQLITE_OK)
			return rc;
		for (j = off; c == col && j < off + api->xPhraseSize(fc, p) && j < l->n; j++)
			if (j >= 0)
				l->v[j].hit = 1;
	}
	return SQLITE_OK;
}

/* First position of the window of `w` positions with the most hits. */
static int best_window(const tpos_list *l, int w)
{
	int i, k = 0, best = 0, most = -1;

	for (i = 0; i < l->n; i++) {
		k += l->v[i].hit;
		if (i >= w)
			k -= l->v[i - w].hit;
		if (i >= w - 1 || i == l->n - 1) {
			int s = i - w + 1 < 0 ? 0 : i - w + 1;
			if (k > most) {
				most = k;
				best = s;
			}
		}
	}
	return best;
}

static void render_snippet(kb_buf *b, const char *text, const tpos_list *l, int s, int w,
			   const char *open, const char *close, const char *ellipsis)
{
	int e = s + w < l->n ? s + w : l->n, i, cur;

	if (s > 0)
		kb_buf_puts(b, ellipsis);
	cur = l->v[s].start;
	for (i = s; i < e; i++) {
		int a = l->v[i].start, z = l->v[i].end;
		if (!l->v[i].hit)
			continue;
		while (i + 1 < e && l->v[i + 1].hit && l->v[i + 1].start <= z) {
			i++;
			if (l->v[i].end > z)
				z = l->v[i].end;
		}
		if (a < cur)
			a = cur;
		kb_buf_put(b, text + cur, (size_t)(a - cur));
		kb_buf_printf(b, "%s%.*s%s", open, z - a, text + a, close);
		cur = z > cur ? z : cur;
	}
	if (l->v[e - 1].end > cur)
		kb_buf_put(b, text + cur, (size_t)(l->v[e - 1].end - cur));
	if (e < l->n)
		kb_buf_puts(b, ellipsis);
}

static void snippet_fn(const Fts5ExtensionApi *api, Fts5Context *fc, sqlite3_context *ctx,
		       int nval, sqlite3_value **val)
{
	tpos_list l = { NULL, 0, 0 };
	kb_buf b = KB_BUF_INIT;
	inst *v = NULL;
	const char *text;
	int n = 0, col, len, w, rc;

	if (nval < 4) {
		sqlite3_result_error(ctx, "kb_snippet: four arguments expected", -1);
		return;
	}
	w = sqlite3_value_int(val[3]) > 0 ? sqlite3_value_int(val[3]) : 16;
	rc = collect_insts(api, fc, &v, &n);
	col = rc == SQLITE_OK ? best_column(v, n, api->xColumnCount(fc)) : -1;
	if (col >= 0 && (rc = api->xColumnText(fc, col, &text, &len)) == SQLITE_OK &&
	    (rc = api->xTokenize(fc, text, len, &l, pos_token)) == SQLITE_OK &&
	    (rc = mark_hits(api, fc, col, &l)) == SQLITE_OK && l.n > 0)
		render_snippet(&b, text, &l, best_window(&l, w), w,
			       (const char *)sqlite3_value_text(val[0]),
			       (const char *)sqlite3_value_text(val[1]),
			       (const char *)sqlite3_value_text(val[2]));
	if (rc != SQLITE_OK)
		sqlite3_result_error_code(ctx, rc);
	else if (b.len)
		sqlite3_result_text(ctx, b.ptr, (int)b.len, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
	free(v);
	free(l.v);
	kb_buf_release(&b);
}

fts5_api *kb_index__fts5_api(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return api;
}

int kb_index__register_explain(kb_index *idx)
{
	fts5_api *api = kb_index__fts5_api(idx->db);

	if (!api || api->xCreateFunction(api, "kb_explain", NULL, explain_fn, NULL) != SQLITE_OK ||
	    api->xCreateFunction(api, "kb_rank", idx, rank_fn, NULL) != SQLITE_OK ||
	    api->xCreateFunction(api, "kb_bm25", idx, bm25_fn, NULL) != SQLITE_OK ||
	    api->xCreateFunction(api, "kb_snippet", NULL, snippet_fn, NULL) != SQLITE_OK)
		return kb_error_set(KB_ERROR, idx->path, 0, "sqlite has no usable fts5 module");
	return 0;
}

/* ---- rendering an explanation ---------------------------------------- */

typedef struct {
	int col, phrase;
	char *text;
} xmatch;

/* ASCII lower-case in place; other bytes unchanged. */
static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int parse_matches(const char *s, xmatch **out)
{
	size_t n = 0, alloc = 0;
	xmatch *v = NULL;

	while (*s) {
		const char *nl = strchr(s, '\n'), *t1, *t2;
		if (!nl)
			break;
		t1 = memchr(s, '\t', (size_t)(nl - s));
		t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)) : NULL;
		if (t2) {
			if (n == alloc) {
				alloc = alloc ? 2 * alloc : 16;
				v = kb_xrealloc(v, alloc * sizeof(*v));
			}
			v[n].col = (int)strtol(s, NULL, 10);
			v[n].phrase = (int)strtol(t1 + 1, NULL, 10);
			v[n].text = kb_xstrndup(t2 + 1, (size_t)(nl - t2 - 1));
			lower_ascii(v[n].text);
			n++;
		}
		s = nl + 1;
	}
	*out = v;
	return (int)n;
}

static const char *match_name(const xmatch *m, const char *const *terms, size_t nterms)
{
	if (terms && m->phrase >= 0 && (size_t)m->phrase < nterms)
		return terms[m->phrase];
	return m->text;
}

/* 1 when an earlier match in the same column has the same name. */
static int seen_before(const xmatch *m, int i, const char *const *terms, size_t nterms)
{
	int j;

	for (j = 0; j < i; j++)
		if (m[j].col == m[i].col &&
		    !strcmp(match_name(&m[j], terms, nterms), match_name(&m[i], terms, nterms)))
			return 1;
	return 0;
}

/* "symptom: 跳闸, fan; title: chiller" from kb_explain() output.  Phrases
 * are named by terms[phrase] when given, else by the matched text. */
static char *render_explain(const char *raw, const char *const *terms, size_t nterms)
{
	kb_buf b = KB_BUF_INIT;
	xmatch *m = NULL;
	int i, n = parse_matches(raw, &m), col, first;

	for (col = 0; col < KB_COL__COUNT; col++) {
		first = 1;
		for (i = 0; i < n; i++) {
			const char *name = match_name(&m[i], terms, nterms);
			if (m[i].col != col || !*name || seen_before(m, i, terms, nterms))
				continue;
			if (first)
				kb_buf_printf(&b, "%s%s: ", b.len ? "; " : "",
					      kb_column_name((kb_column)col));
			else
				kb_buf_puts(&b, ", ");
			kb_buf_puts(&b, name);
			first = 0;
		}
	}
	for (i = 0; i < n; i++)
		free(m[i].text);
	free(m);
	return kb_buf_detach(&b);
}

/* ---- the ranked query ------------------------------------------------ */

/*
 * The ranked query.  The inner SELECT scores every match (bm25 with the
 * column weights, times the boosts) and keeps the best ?10; only those get
 * a snippet and an explanation.  Without filters or boosts the docs table is
 * not joined in the inner SELECT: with a broad OR query that join is most of
 * the cost.  Exclusion is by rowid (?7).
 */
#define RANKED_HEAD(rank) \
	"WITH top AS MATERIALIZED (" \
	" SELECT fts.rowid AS rid, " rank
#define BM25 "kb_bm25(fts, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)"
#define KB_RANK "kb_rank(fts, ?15, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)"
#define RANKED_BOOSTS \
	"  * (CASE WHEN ?8 IS NOT NULL AND d.equipment = ?8 COLLATE NOCASE THEN ?14 ELSE 1.0 END)" \
	"  * (CASE WHEN ?9 IS NOT NULL AND d.model = ?9 COLLATE NOCASE THEN ?14 ELSE 1.0 END) AS r"
#define RANKED_DOCS RANKED_BOOSTS RANKED_DOCS_FROM
#define RANKED_DOCS_FROM \
	" FROM fts CROSS JOIN docs AS d ON d.rowid = fts.rowid" \
	" WHERE fts MATCH ?1" \
	"  AND (?2 IS NULL OR d.equipment = ?2 COLLATE NOCASE)" \
	"  AND (?3 IS NULL OR d.model = ?3 COLLATE NOCASE)" \
	"  AND (?4 IS NULL OR d.site = ?4 COLLATE NOCASE)" \
	"  AND (?5 IS NULL OR d.status = ?5 COLLATE NOCASE)" \
	"  AND (?6 IS NULL OR d.created >= ?6 OR d.updated >= ?6)" \
	"  AND (?7 IS NULL OR fts.rowid <> ?7)"
#define RANKED_PLAIN \
	" AS r FROM fts WHERE fts MATCH ?1 AND (?7 IS NULL OR fts.rowid <> ?7)"
#define RANKED_TAIL \
	" ORDER BY r, rid LIMIT ?10)" \
	" SELECT top.rid, d.id, d.title, d.path, d.equipment, d.model, d.status, top.r" \
	" FROM top CROSS JOIN docs AS d ON d.rowid = top.rid ORDER BY top.r, top.rid"

/* Snippet and explanation of one hit: FTS5 evaluates the MATCH for just
 * that rowid, so this costs a seek per phrase, not a scan. */
static const char snippet_sql[] =
	"SELECT kb_snippet(fts, ?3, ?4, '…', 16), CASE WHEN ?5 THEN kb_explain(fts) END"
	" FROM fts WHERE fts MATCH ?1 AND rowid = ?2";

/* Indexed by [kb_rank?][filters or boosts?]. */
static const char *const ranked_sql[2][2] = {
	{ RANKED_HEAD(BM25) RANKED_PLAIN RANKED_TAIL, RANKED_HEAD(BM25) RANKED_DOCS RANKED_TAIL },
	{ RANKED_HEAD(KB_RANK) RANKED_PLAIN RANKED_TAIL,
	  RANKED_HEAD(KB_RANK) RANKED_DOCS RANKED_TAIL },
};
static const int ranked_stmt[2][2] = {
	{ ST_SEARCH_PLAIN, ST_SEARCH }, { ST_SIMILAR_PLAIN, ST_SIMILAR },
};

static int has(const char *s)
{
	return s && *s;
}

/* 1 when the docs table is needed to filter or boost. */
static int needs_docs(const kb_search_options *o)
{
	return has(o->equipment) || has(o->model) || has(o->site) || has(o->status) ||
	       has(o->since) || has(o->boost_equipment) || has(o->boost_model);
}

/* rowid of the case to exclude, 0 for none (or an id not indexed). */
static sqlite3_int64 exclude_rowid(kb_index *idx, const char *id)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 r = 0;

	if (!has(id))
		return 0;
	if (sqlite3_prepare_v2(idx->db, "SELECT rowid FROM docs WHERE id = ?1", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			r = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return r;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static void bind_ranked(kb_index *idx, sqlite3_stmt *st, const char *match,
			const kb_search_options *o, sqlite3_int64 exclude)
{
	int i;

	sqlite3_bind_text(st, 1, match, -1, SQLITE_TRANSIENT);
	bind_opt(st, 2, o->equipment);
	bind_opt(st, 3, o->model);
	bind_opt(st, 4, o->site);
	bind_opt(st, 5, o->status);
	bind_opt(st, 6, o->since);
	if (exclude)
		sqlite3_bind_int64(st, 7, exclude);
	bind_opt(st, 8, o->boost_equipment);
	bind_opt(st, 9, o->boost_model);
	sqlite3_bind_int64(st, 10, o->limit ? (sqlite3_int64)o->limit : 10);
	sqlite3_bind_double(st, 14, KB_BOOST);
	for (i = 0; i < KB_COL__COUNT; i++)
		sqlite3_bind_double(st, 20 + i, idx->weights[i]);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? kb_xstrdup(s) : NULL;
}

static void add_hit(kb_hits *out, sqlite3_stmt *st, double scale)
{
	kb_hit *h;

	out->items = kb_xrealloc(out->items, (out->count + 1) * sizeof(*out->items));
	h = &out->items[out->count++];
	memset(h, 0, sizeof(*h));
	h->id = col_dup(st, 1);
	h->title = col_dup(st, 2);
	h->path = col_dup(st, 3);
	h->equipment = col_dup(st, 4);
	h->model = col_dup(st, 5);
	h->status = col_dup(st, 6);
	h->score = -sqlite3_column_double(st, 7) * scale;
}

/* Fill snippet (and explanation) of hit `h` with rowid `rid`. */
static int add_snippet(kb_index *idx, kb_hit *h, sqlite3_int64 rid, const char *match,
		       const kb_search_options *o, const char *const *terms, size_t nterms)
{
	sqlite3_stmt *st;
	const char *raw;
	int rc;

	if ((rc = kb_index__stmt(idx, ST_SNIPPET, snippet_sql, &st)))
		return rc;
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rid);
	sqlite3_bind_text(st, 3, o->hl_open ? o->hl_open : "[", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->hl_close ? o->hl_close : "]", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, o->explain != 0);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		raw = (const char *)sqlite3_column_text(st, 1);
		h->snippet = col_dup(st, 0);
		h->explain = raw ? render_explain(raw, terms, nterms) : NULL;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return kb_index__sqlerr(idx, "cannot search the index");
	return 0;
}

int kb_index__ranked(kb_index *idx, const char *match, const char *phrase_weights,
		     const kb_search_options *opts, double score_scale,
		     const char *const *terms, size_t nterms, kb_hits *out)
{
	kb_search_options dflt = KB_SEARCH_OPTIONS_INIT;
	sqlite3_int64 *rids = NULL;
	size_t first = out->count, i;
	sqlite3_stmt *st;
	int rc;

	int kr = phrase_weights != NULL, nd;

	opts = opts ? opts : &dflt;
	nd = needs_docs(opts);
	if ((rc = kb_index__stmt(idx, ranked_stmt[kr][nd], ranked_sql[kr][nd], &st)))
		return rc;
	bind_ranked(idx, st, match, opts, exclude_rowid(idx, opts->exclude_id));
	if (kr)
		sqlite3_bind_text(st, 15, phrase_weights, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rids = kb_xrealloc(rids, (out->count - first + 1) * sizeof(*rids));
		rids[out->count - first] = sqlite3_column_int64(st, 0);
		add_hit(out, st, score_scale);
	}
	rc = rc == SQLITE_DONE ? 0 : kb_index__sqlerr(idx, "cannot search the index");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (i = first; rc == 0 && !idx->no_snippets && i < out->count &&
	     i - first < KB_SNIPPET_HITS; i++)
		rc = add_snippet(idx, &out->items[i], rids[i - first], match, opts, terms, nterms);
	free(rids);
	return rc;
}

/* The inner SELECT of the ranked query alone (rid, r, equipment, model): the
 * candidates need no other column of docs. */
static const char *const cand_sql[2] = {
	"SELECT fts.rowid AS rid, " KB_RANK " AS r, NULL, NULL FROM fts WHERE fts MATCH ?1"
	" AND (?7 IS NULL OR fts.rowid <> ?7) ORDER BY r, rid LIMIT ?10",
	"SELECT fts.rowid AS rid, " KB_RANK RANKED_BOOSTS ", d.equipment, d.model"
	RANKED_DOCS_FROM " ORDER BY r, rid LIMIT ?10",
};

int kb_index__candidates(kb_index *idx, const char *match, const char *phrase_weights,
			 const kb_search_options *opts, size_t k, kb_rank_cand **out,
			 size_t *n)
{
	kb_search_options o = *opts;
	size_t alloc = 0;
	kb_rank_cand *c;
	sqlite3_stmt *st;
	int rc, nd;

	*out = NULL;
	*n = 0;
	o.limit = k ? k : 1;
	nd = needs_docs(&o);
	if ((rc = kb_index__stmt(idx, nd ? ST_CAND_DOCS : ST_CAND, cand_sql[nd], &st)))
		return rc;
	bind_ranked(idx, st, match, &o, exclude_rowid(idx, o.exclude_id));
	sqlite3_bind_text(st, 15, phrase_weights, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *eq = (const char *)sqlite3_column_text(st, 2);
		const char *mo = (const char *)sqlite3_column_text(st, 3);
		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			*out = kb_xrealloc(*out, alloc * sizeof(**out));
		}
		c = &(*out)[(*n)++];
		c->rowid = sqlite3_column_int64(st, 0);
		c->r = sqlite3_column_double(st, 1);
		/* RANKED_DOCS's `d.equipment = ?8 COLLATE NOCASE` */
		c->beq = has(o.boost_equipment) && eq && !sqlite3_stricmp(eq, o.boost_equipment);
		c->bmo = has(o.boost_model) && mo && !sqlite3_stricmp(mo, o.boost_model);
	}
	rc = rc == SQLITE_DONE ? 0 : kb_index__sqlerr(idx, "cannot search the index");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int kb_index__hits_of(kb_index *idx, const kb_rank_cand *c, size_t n, double score_scale,
		      const char *match, const kb_search_options *opts,
		      const char *const *terms, size_t nterms, kb_hits *out)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 *rids = kb_xcalloc(n + 1, sizeof(*rids));
	size_t first = out->count, i;
	int rc = 0;

	/* column 7 is r, as in the ranked query (add_hit negates it) */
	if (n && sqlite3_prepare_v2(idx->db, "SELECT rowid, id, title, path, equipment, model,"
				    " status, ?2 FROM docs WHERE rowid = ?1", -1, &st, NULL))
		rc = kb_index__sqlerr(idx, "cannot read the index");
	for (i = 0; rc == 0 && i < n; i++) {
		sqlite3_bind_int64(st, 1, c[i].rowid);
		sqlite3_bind_double(st, 2, c[i].r);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			rids[out->count - first] = c[i].rowid;
			add_hit(out, st, score_scale);
		}
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
		     kb_index__sqlerr(idx, "cannot read the index");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	for (i = first; rc == 0 && !idx->no_snippets && i < out->count &&
	     i - first < KB_SNIPPET_HITS; i++)
		rc = add_snippet(idx, &out->items[i], rids[i - first], match, opts, terms, nterms);
	free(rids);
	return rc;
}

int kb_index_search(kb_index *idx, const char *query, const kb_search_options *opts,
		    kb_hits *out)
{
	kb_buf match = KB_BUF_INIT;
	int rc;

	rc = kb_query_compile(&match, query ? query : "", idx->synonyms);
	if (rc == 0 && match.len)
		rc = kb_index__ranked(idx, match.ptr, NULL, opts, 1.0, NULL, 0, out);
	kb_buf_release(&match);
	return rc;
}
