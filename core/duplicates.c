/*
 * duplicates.c - duplicate detection (kb/index.h, kb_index_duplicates): the
 * similar-case lookup run for every indexed case, its text widened with
 * the other terms of the synonym groups it mentions so that an English
 * case and its Chinese twin can meet, pairs scored by the better of their
 * two directions, pairs already linked in the front matter left out.
 * See docs/internals/index.md, "Duplicates".
 */
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/lifecycle.h"
#include "index_internal.h"
#include "simidx.h"

/* Hits looked at per case: a duplicate is among a case's best matches. */
#define PER_CASE_HITS 10
/*
 * Terms kept per case (similar's default is 24, for a short description):
 * a case's whole text, widened with synonyms, is the query, and a twin in
 * another language shares only its synonym terms and codes, which 24
 * terms chosen by tf·idf mostly leave out.  On the sample KB's 8
 * near-duplicate pairs the average precision of the pair ranking was 0.19
 * with 24 terms, 0.32 with 48, 0.39 with 100 and 0.60 with every term
 * (docs/internals/index.md); the postings budget and df cap still apply.
 */
#define DUP_MAX_TERMS 1000
/*
 * Postings per lookup (similar's default is 0.3 per case, at least
 * 20,000): every term of a case within that budget made a lookup cost 36
 * ms of CPU at 10k cases, one with 2,000 postings 8 ms, so a run over the
 * KB scales with its size.  On the sample KB 2,000 gave an average
 * precision of 0.61 against 0.59 unbounded; 1,000 gave 0.54, 500 0.39.
 */
#define DUP_MAX_POSTINGS 2000

typedef struct {
	char *id, *title, *status;
} dcase;

typedef struct {
	dcase *v;
	size_t n;
} case_list;

/* Linked pairs, each as "A\tB" with A < B, sorted. */
typedef struct {
	char **v;
	size_t n, alloc;
} pair_set;

static char *pair_key(const char *a, const char *b)
{
	kb_buf k = KB_BUF_INIT;

	if (strcmp(a, b) > 0) {
		const char *t = a;
		a = b;
		b = t;
	}
	kb_buf_printf(&k, "%s\t%s", a, b);
	return kb_buf_detach(&k);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void pairs_add(pair_set *p, const char *a, const char *b)
{
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 64;
		p->v = kb_xrealloc(p->v, p->alloc * sizeof(*p->v));
	}
	p->v[p->n++] = pair_key(a, b);
}

static int pairs_has(const pair_set *p, const char *a, const char *b)
{
	char *k = pair_key(a, b);
	int found = p->n && bsearch(&k, p->v, p->n, sizeof(*p->v), cmp_str) != NULL;

	free(k);
	return found;
}

static void pairs_release(pair_set *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

/* Collect the links of one case file (every link type).  Files without a
 * link key are not parsed; files that do not parse are skipped. */
static int scan_links(const char *relpath, const char *text, size_t len, void *payload)
{
	pair_set *p = payload;
	const char *const *items;
	kb_case *c = NULL;
	size_t i, n;
	int t, any = 0;

	for (t = 0; t < KB_LINK__COUNT; t++)
		any |= memmem(text, len, kb_link_type_key((kb_link_type)t),
			      strlen(kb_link_type_key((kb_link_type)t))) != NULL;
	if (!any || kb_case_parse(&c, text, len, relpath, NULL) < 0)
		return 0;
	for (t = 0; t < KB_LINK__COUNT; t++) {
		n = kb_case_get_list(c, kb_link_type_key((kb_link_type)t), &items);
		for (i = 0; i < n; i++)
			if (strcmp(items[i], kb_case_id(c)))
				pairs_add(p, kb_case_id(c), items[i]);
	}
	kb_case_free(c);
	return 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return kb_xstrdup(s ? s : "");
}

/* Every indexed case, sorted by id. */
static int list_cases(kb_index *idx, case_list *out)
{
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int rc;

	if (sqlite3_prepare_v2(idx->db, "SELECT id, title, status FROM docs ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK)
		return kb_index__sqlerr(idx, "cannot read the index");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == alloc) {
			alloc = alloc ? 2 * alloc : 256;
			out->v = kb_xrealloc(out->v, alloc * sizeof(*out->v));
		}
		out->v[out->n].id = col_dup(st, 0);
		out->v[out->n].title = col_dup(st, 1);
		out->v[out->n++].status = col_dup(st, 2);
	}
	rc = rc == SQLITE_DONE ? 0 : kb_index__sqlerr(idx, "cannot read the index");
	sqlite3_finalize(st);
	return rc;
}

static void cases_release(case_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].title);
		free(l->v[i].status);
	}
	free(l->v);
}

static const dcase *find_case(const case_list *l, const char *id)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(l->v[mid].id, id);

		if (c == 0)
			return &l->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* `status` is NULL or a comma-separated list of statuses holding `s`. */
static int status_in(const char *status, const char *s)
{
	size_t n = strlen(s);
	const char *p = status;

	if (!status || !*status)
		return 1;
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !strncmp(p, s, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

typedef struct {
	kb_duplicate *v;
	size_t n, alloc;
} dup_list;

/* Append the pair (a, b) with ids in order; merge_pairs() later keeps one
 * entry per pair. */
static void dups_add(dup_list *d, const dcase *a, const dcase *b, double score)
{
	if (strcmp(a->id, b->id) > 0) {
		const dcase *t = a;
		a = b;
		b = t;
	}
	if (d->n == d->alloc) {
		d->alloc = d->alloc ? 2 * d->alloc : 16;
		d->v = kb_xrealloc(d->v, d->alloc * sizeof(*d->v));
	}
	d->v[d->n].a = kb_xstrdup(a->id);
	d->v[d->n].b = kb_xstrdup(b->id);
	d->v[d->n].title_a = kb_xstrdup(a->title);
	d->v[d->n].title_b = kb_xstrdup(b->title);
	d->v[d->n++].score = score;
}

static void dup_strings_free(kb_duplicate *x)
{
	free(x->a);
	free(x->b);
	free(x->title_a);
	free(x->title_b);
}

static int cmp_ids(const void *x, const void *y)
{
	const kb_duplicate *a = x, *b = y;
	int c = strcmp(a->a, b->a);

	return c ? c : strcmp(a->b, b->b);
}

/* One entry per pair (found from both sides): the better score. */
static void merge_pairs(dup_list *d)
{
	size_t i, j = 0;

	if (d->n == 0)
		return;
	qsort(d->v, d->n, sizeof(*d->v), cmp_ids);
	for (i = 0; i < d->n; i++) {
		if (j && !cmp_ids(&d->v[j - 1], &d->v[i])) {
			if (d->v[i].score > d->v[j - 1].score)
				d->v[j - 1].score = d->v[i].score;
			dup_strings_free(&d->v[i]);
		} else {
			d->v[j++] = d->v[i];
		}
	}
	d->n = j;
}

static int cmp_dup(const void *x, const void *y)
{
	const kb_duplicate *a = x, *b = y;
	int c;

	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	c = strcmp(a->a, b->a);
	return c ? c : strcmp(a->b, b->b);
}

/* The pairs above the threshold among case `c`'s best matches. */
static int pairs_of(kb_simidx *sim, const case_list *cases, const dcase *c, const pair_set *links,
		    const kb_duplicates_options *o, double threshold, dup_list *d)
{
	kb_search_options so = KB_SEARCH_OPTIONS_INIT;
	kb_hits hits = KB_HITS_INIT;
	size_t i;
	int rc;

	so.limit = PER_CASE_HITS;
	so.max_terms = DUP_MAX_TERMS;
	so.max_postings = DUP_MAX_POSTINGS;
	rc = kb__simidx_similar_case(sim, c->id, &so, 1, &hits);
	for (i = 0; rc == 0 && i < hits.count; i++) {
		const kb_hit *h = &hits.items[i];
		const dcase *other = find_case(cases, h->id);

		if (h->score < threshold || !other)
			continue;
		if (!status_in(o->status, c->status) && !status_in(o->status, other->status))
			continue;
		if (!o->include_linked && pairs_has(links, c->id, other->id))
			continue;
		dups_add(d, c, other, h->score);
	}
	kb_hits_release(&hits);
	return rc;
}

int kb_index_duplicates(kb_duplicate **out, size_t *n, kb_index *idx, kb_store *s,
			const kb_duplicates_options *opts)
{
	kb_duplicates_options dflt = KB_DUPLICATES_OPTIONS_INIT;
	double threshold;
	case_list cases = { NULL, 0 };
	pair_set links = { NULL, 0, 0 };
	dup_list d = { NULL, 0, 0 };
	kb_simidx *sim = NULL;
	size_t i;
	int rc = 0;

	*out = NULL;
	*n = 0;
	opts = opts ? opts : &dflt;
	threshold = opts->threshold > 0 ? opts->threshold : KB_DUPLICATES_THRESHOLD;
	if (s && !opts->include_linked &&
	    (rc = kb_store_foreach_case_file(s, scan_links, &links)) < 0)
		goto done;
	if (links.n)
		qsort(links.v, links.n, sizeof(*links.v), cmp_str);
	/* one lookup per case: the in-memory index answers them as
	 * kb_index__similar_case would (core/simidx.h), 40x faster at 10k */
	if ((rc = list_cases(idx, &cases)) < 0 || (rc = kb__simidx_build(&sim, idx)) < 0)
		goto done;
	idx->no_snippets = 1;
	for (i = 0; rc == 0 && i < cases.n; i++)
		rc = pairs_of(sim, &cases, &cases.v[i], &links, opts, threshold, &d);
	idx->no_snippets = 0;
	if (rc < 0)
		goto done;
	merge_pairs(&d);
	if (d.n)
		qsort(d.v, d.n, sizeof(*d.v), cmp_dup);
	while (opts->limit && d.n > opts->limit)
		dup_strings_free(&d.v[--d.n]);
	*out = d.v;
	*n = d.n;
	d.v = NULL;
	d.n = 0;
done:
	kb__simidx_free(sim);
	kb_duplicates_free(d.v, d.n);
	cases_release(&cases);
	pairs_release(&links);
	return rc;
}

void kb_duplicates_free(kb_duplicate *d, size_t n)
{
	size_t i;

	for (i = 0; d && i < n; i++)
		dup_strings_free(&d[i]);
	free(d);
}
