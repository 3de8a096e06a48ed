/*
 * kb-eval.c - retrieval-quality evaluation of libkb on data sets in the
 * shared format: index each corpus through kb_index_put, run every query
 * through kb_index_similar (what `kb similar` does) or kb_index_search, and
 * print MAP, MRR@10, P@1, P@5, nDCG@10, R@100 (x100) and queries/s per
 * variant (tokenizer, term budget, stemming, weights).  See docs/eval.md.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kb/buf.h"
#include "kb/case.h"
#include "kb/error.h"
#include "kb/index.h"
#include "data.h"
#include "metrics.h"
#include "pyrandom.h"
#include "rawfts.h"

enum { MODE_SIMILAR, MODE_SEARCH, MODE_RAW };

typedef struct {
	const char *label;
	const char *tokenizer;
	int stem;
	int mode;
	size_t max_terms;     /* 0 = library default */
	double title_weight;  /* 0 = library default weights */
	int large;            /* also run on large corpora when no --variants is given */
	double max_df_ratio;  /* 0 = library default */
	double postings_per_doc; /* postings budget per indexed case; 0 = library default */
	long rerank;          /* kb_search_options.rerank: 0 = library default, -1 = off */
} variant;

/* Corpora above this many documents run only the variants marked `large`. */
#define LARGE_CORPUS 20000

static const variant all_variants[] = {
	{ "kb similar", "kb", 1, MODE_SIMILAR, 0, 0, 1 },
	{ "kb similar max_terms=12", "kb", 1, MODE_SIMILAR, 12, 0, 1 },
	{ "kb similar max_terms=48", "kb", 1, MODE_SIMILAR, 48, 0, 0 },
	{ "kb similar max_terms=200", "kb", 1, MODE_SIMILAR, 200, 0, 0 },
	{ "kb similar title=symptom", "kb", 1, MODE_SIMILAR, 0, 1, 0 },
	{ "kb search (AND)", "kb", 1, MODE_SEARCH, 0, 0, 1 },
	{ "kb similar stem=0", "kb", 0, MODE_SIMILAR, 0, 0, 0 },
	{ "kb similar postings=1.0N", "kb", 1, MODE_SIMILAR, 0, 0, 0, 0, 1.0 },
	{ "kb similar df<=50%", "kb", 1, MODE_SIMILAR, 0, 0, 0, 0.5, 0 },
	{ "kb similar df<=50% postings=1.0N", "kb", 1, MODE_SIMILAR, 0, 0, 0, 0.5, 1.0 },
	{ "kb similar every term", "kb", 1, MODE_SIMILAR, 200, 0, 0, 1.0, 100.0 },
	{ "kb similar one stage", "kb", 1, MODE_SIMILAR, 0, 0, 1, 0, 0, -1 },
	{ "kb similar rerank=100", "kb", 1, MODE_SIMILAR, 0, 0, 0, 0, 0, 100 },
	{ "kb similar rerank=250", "kb", 1, MODE_SIMILAR, 0, 0, 0, 0, 0, 250 },
	{ "kb similar rerank=500", "kb", 1, MODE_SIMILAR, 0, 0, 0, 0, 0, 500 },
	{ "kb similar rerank=1000", "kb", 1, MODE_SIMILAR, 0, 0, 0, 0, 0, 1000 },
	{ "kb similar rerank=2000", "kb", 1, MODE_SIMILAR, 0, 0, 0, 0, 0, 2000 },
	{ "unicode61 similar", "unicode61", 1, MODE_SIMILAR, 0, 0, 1 },
	{ "porter similar", "porter", 1, MODE_SIMILAR, 0, 0, 0 },
	{ "trigram similar", "trigram", 1, MODE_SIMILAR, 0, 0, 1 },
	{ "raw FTS5 unicode61 OR", "unicode61", 1, MODE_RAW, 0, 0, 1 },
	{ "raw FTS5 porter OR", "porter unicode61", 1, MODE_RAW, 0, 0, 0 },
};
#define NVARIANTS (sizeof(all_variants) / sizeof(all_variants[0]))

typedef struct {
	const char *data;       /* directory of sets, or one set */
	const char *sets;       /* comma list of set-name prefixes, NULL = all */
	const char *variants;   /* comma list of variant-label prefixes, NULL = all */
	const char *tmp;        /* directory for the index files */
	long sample;            /* -1: atec convention (2,000 for atec), 0: all queries */
} eval_opts;

typedef struct {
	ev_metrics m, rerank;
	double qps, build_s;
	size_t nq;
} run_result;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * 1 when `name` starts with one of the comma-separated prefixes in `list`;
 * an entry ending in '$' must match the whole name ("kb similar$").
 */
static int selected(const char *list, const char *name)
{
	const char *p = list, *e;
	size_t n;

	if (!list || !*list)
		return 1;
	while (*p) {
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n > 1 && p[n - 1] == '$' && strlen(name) == n - 1 && !strncmp(name, p, n - 1))
			return 1;
		if (n && p[n - 1] != '$' && !strncmp(name, p, n))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static void die_kb(const char *what)
{
	char msg[512];

	fprintf(stderr, "kb-eval: %s: %s\n", what, kb_error_format(kb_error_last(), msg, sizeof(msg)));
	exit(1);
}

/* Case ids are "D<index>" so any corpus id works. */
static size_t doc_of_case_id(const char *id)
{
	return id[0] == 'D' ? (size_t)strtoull(id + 1, NULL, 10) : (size_t)-1;
}

static void index_corpus(kb_index *idx, const ev_set *set)
{
	char id[32];
	size_t i;

	if (kb_index_begin(idx))
		die_kb("begin");
	for (i = 0; i < set->ndocs; i++) {
		kb_case *c;

		snprintf(id, sizeof(id), "D%zu", i);
		c = kb_case_new(id);
		if (*set->doc_title[i])
			kb_case_set(c, "title", set->doc_title[i]);
		kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, set->doc_body[i]);
		if (kb_index_put(idx, c, NULL))
			die_kb("put");
		kb_case_free(c);
	}
	if (kb_index_commit(idx))
		die_kb("commit");
}

/* Open the index of variant v, filling it when empty; returns build seconds. */
static kb_index *open_index(const variant *v, const ev_set *set, const char *path, double *build_s)
{
	kb_index_options o = KB_INDEX_OPTIONS_INIT;
	kb_index *idx;
	double t0 = now();

	o.tokenizer = v->tokenizer;
	o.stem = v->stem;
	if (v->title_weight > 0) {
		o.weights[KB_COL_TITLE] = v->title_weight;
		o.weights[KB_COL_SYMPTOM] = 1;
	}
	if (kb_index_open(&idx, path, &o))
		die_kb("open index");
	*build_s = 0;
	if (kb_index_count(idx) != (int64_t)set->ndocs) {
		index_corpus(idx, set);
		*build_s = now() - t0;
	}
	return idx;
}

typedef struct {
	kb_index *idx;   /* libkb variants */
	rawfts *raw;     /* the plain FTS5 baseline */
} engine;

/* The baseline's ranking, self document dropped. */
static size_t run_raw(rawfts *raw, const ev_set *set, const ev_query *q, size_t limit, size_t *ranked)
{
	size_t n = rawfts_query(raw, q->text, limit + 1, ranked), i, k = 0;

	for (i = 0; i < n && k < limit; i++)
		if (strcmp(set->doc_id[ranked[i]], q->id))
			ranked[k++] = ranked[i];
	return k;
}

/* Ranked document indices of one query, self document dropped. */
static size_t run_query(engine *e, const variant *v, const ev_set *set, const ev_query *q,
			size_t limit, size_t *ranked)
{
	kb_search_options so = KB_SEARCH_OPTIONS_INIT;
	kb_hits hits = KB_HITS_INIT;
	kb_index *idx = e->idx;
	size_t i, n = 0, d;
	int rc;

	if (e->raw)
		return run_raw(e->raw, set, q, limit, ranked);
	so.limit = limit + 1;
	so.max_terms = v->max_terms;
	so.max_df_ratio = v->max_df_ratio;
	so.rerank = v->rerank;
	if (v->postings_per_doc > 0)
		so.max_postings = (size_t)(v->postings_per_doc * (double)set->ndocs) + 1;
	rc = v->mode == MODE_SIMILAR ? kb_index_similar(idx, q->text, &so, &hits)
				     : kb_index_search(idx, q->text, &so, &hits);
	if (rc && rc != KB_EINPUT)
		die_kb("query");
	for (i = 0; i < hits.count && n < limit; i++) {
		d = doc_of_case_id(hits.items[i].id);
		if (d >= set->ndocs || !strcmp(set->doc_id[d], q->id))
			continue;
		ranked[n++] = d;
	}
	kb_hits_release(&hits);
	return n;
}

/*
 * Re-rank task: order q's judged candidates by their score in `ranked`
 * (retrieved first, by rank), then the rest in qrels order; score the
 * result as a ranked list.
 */
static void rerank(ev_metrics *m, const ev_query *q, const size_t *ranked, size_t n)
{
	size_t *order = kb_xmalloc((q->njudged + 1) * sizeof(*order)), k = 0, i, j;
	unsigned char *used = kb_xcalloc(q->njudged + 1, 1);

	for (i = 0; i < n; i++)
		for (j = 0; j < q->njudged; j++)
			if (!used[j] && q->judged[j].doc == ranked[i]) {
				used[j] = 1;
				order[k++] = ranked[i];
			}
	for (j = 0; j < q->njudged; j++)
		if (!used[j])
			order[k++] = q->judged[j].doc;
	ev_metrics_add(m, q, order, k);
	free(order);
	free(used);
}

/* Open the variant's engine: a kb index, or the raw FTS5 baseline. */
static void open_engine(engine *e, const variant *v, const ev_set *set, const char *path, double *build_s)
{
	double t0 = now();

	memset(e, 0, sizeof(*e));
	if (v->mode != MODE_RAW) {
		e->idx = open_index(v, set, path, build_s);
		return;
	}
	if (!(e->raw = rawfts_build(set, path, v->tokenizer)))
		exit(1);
	*build_s = now() - t0;
}

static void run_variant(const variant *v, const ev_set *set, const size_t *qsel, size_t nq,
			const char *path, run_result *r)
{
	size_t deep = set->ndocs < 20000 ? set->ndocs : 1000;
	size_t *ranked = kb_xmalloc((deep + 2) * sizeof(*ranked)), i, n;
	engine e;
	double t0, t;

	open_engine(&e, v, set, path, &r->build_s);
	t0 = now();
	for (i = 0; i < nq; i++) {
		const ev_query *q = &set->queries[qsel[i]];

		n = run_query(&e, v, set, q, 100, ranked);
		ev_metrics_add(&r->m, q, ranked, n);
	}
	t = now() - t0;
	r->qps = t > 0 ? (double)nq / t : 0;
	r->nq = nq;
	/* Re-rank sets: a deeper, untimed pass so every retrieved candidate counts. */
	for (i = 0; set->zero_rows && i < nq; i++) {
		const ev_query *q = &set->queries[qsel[i]];

		n = run_query(&e, v, set, q, deep, ranked);
		rerank(&r->rerank, q, ranked, n);
	}
	if (e.idx)
		kb_index_close(e.idx);
	rawfts_free(e.raw);
	free(ranked);
}

/* The queries to run: all, or Python's random.Random(42).sample(queries, k). */
static size_t select_queries(const ev_set *set, long sample, size_t **out)
{
	size_t i, k = set->nqueries;
	py_random r;

	if (sample < 0)
		sample = strstr(set->name, "atec") ? 2000 : 0;
	*out = kb_xmalloc((k + 1) * sizeof(**out));
	if (sample > 0 && (size_t)sample < set->nqueries) {
		k = (size_t)sample;
		py_random_seed(&r, 42);
		py_random_sample(&r, set->nqueries, k, *out);
		return k;
	}
	for (i = 0; i < k; i++)
		(*out)[i] = i;
	return k;
}

static void print_header(const ev_set *set, size_t nq, size_t nscored)
{
	int m;

	printf("\n### %s: %zu docs, %zu queries run (%zu with a relevant doc)%s\n\n", set->name,
	       set->ndocs, nq, nscored, nq < set->nqueries ? ", random.Random(42) sample" : "");
	printf("| %-26s |", "variant");
	for (m = 0; m < M__COUNT; m++)
		printf(" %7s |", ev_metric_name(m));
	if (set->zero_rows)
		printf(" %10s | %10s |", "rerank MAP", "rerank MRR");
	printf(" %7s | %7s |\n|%s|", "q/s", "index s", "----------------------------");
	for (m = 0; m < M__COUNT; m++)
		printf("--------:|");
	if (set->zero_rows)
		printf("-----------:|-----------:|");
	printf("--------:|--------:|\n");
}

static void print_row(const char *label, const ev_set *set, const run_result *r)
{
	int m;

	printf("| %-26s |", label);
	for (m = 0; m < M__COUNT; m++)
		printf(" %7.2f |", ev_metrics_mean(&r->m, m));
	if (set->zero_rows)
		printf(" %10.2f | %10.2f |", ev_metrics_mean(&r->rerank, M_MAP),
		       ev_metrics_mean(&r->rerank, M_MRR10));
	if (r->qps > 0)
		printf(" %7.0f | %7.1f |\n", r->qps, r->build_s);
	else
		printf(" %7s | %7s |\n", "-", "-");
	fflush(stdout);
}

/* The candidates' own order (the search engine's, for semeval). */
static void print_candidate_order(const ev_set *set, const size_t *qsel, size_t nq)
{
	run_result r;
	size_t i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < nq; i++)
		rerank(&r.rerank, &set->queries[qsel[i]], NULL, 0);
	printf("| %-26s |", "candidate order (qrels)");
	for (i = 0; i < M__COUNT; i++)
		printf(" %7s |", "-");
	printf(" %10.2f | %10.2f | %7s | %7s |\n", ev_metrics_mean(&r.rerank, M_MAP),
	       ev_metrics_mean(&r.rerank, M_MRR10), "-", "-");
}

static void eval_set(const ev_set *set, const eval_opts *o)
{
	size_t *qsel, nq = select_queries(set, o->sample, &qsel), i, scored = 0;
	kb_buf path = KB_BUF_INIT;
	run_result r;

	for (i = 0; i < nq; i++)
		scored += set->queries[qsel[i]].nrelevant > 0;
	print_header(set, nq, scored);
	if (set->zero_rows)
		print_candidate_order(set, qsel, nq);
	for (i = 0; i < NVARIANTS; i++) {
		const variant *v = &all_variants[i];

		if (!selected(o->variants, v->label) ||
		    (!o->variants && set->ndocs > LARGE_CORPUS && !v->large))
			continue;
		kb_buf_clear(&path);
		kb_buf_printf(&path, "%s/%s-%s-%d%s.sqlite", o->tmp, set->name, v->tokenizer, v->stem,
			      v->mode == MODE_RAW ? "-raw" : "");
		memset(&r, 0, sizeof(r));
		run_variant(v, set, qsel, nq, path.ptr, &r);
		print_row(v->label, set, &r);
	}
	kb_buf_release(&path);
	free(qsel);
}

static int eval_dir(const char *dir, const char *name, const eval_opts *o)
{
	ev_set set;

	if (ev_set_load(&set, dir, name)) {
		ev_set_release(&set);
		return 1;
	}
	eval_set(&set, o);
	ev_set_release(&set);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every set below o->data (or o->data itself), in name order. */
static int eval_all(const eval_opts *o)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;
	kb_buf sub = KB_BUF_INIT;
	int rc = 0, found = 0;

	if (ev_set_present(o->data)) {
		const char *slash = strrchr(o->data, '/');
		return eval_dir(o->data, slash && slash[1] ? slash + 1 : o->data, o);
	}
	if (!(d = opendir(o->data)))
		return fprintf(stderr, "kb-eval: cannot open '%s'\n", o->data), 1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = kb_xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = kb_xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		kb_buf_clear(&sub);
		kb_buf_printf(&sub, "%s/%s", o->data, names[i]);
		if (ev_set_present(sub.ptr) && selected(o->sets, names[i])) {
			found = 1;
			rc |= eval_dir(sub.ptr, names[i], o);
		}
		free(names[i]);
	}
	free(names);
	kb_buf_release(&sub);
	if (!found)
		printf("kb-eval: no data set selected under '%s'\n", o->data);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: kb-eval [--sets a,b] [--variants p,q] [--sample N|all] "
			"[--tmp DIR] DATA-DIR\n");
	exit(2);
}

static void parse_args(eval_opts *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--sets") && i + 1 < argc)
			o->sets = argv[++i];
		else if (!strcmp(argv[i], "--variants") && i + 1 < argc)
			o->variants = argv[++i];
		else if (!strcmp(argv[i], "--tmp") && i + 1 < argc)
			o->tmp = argv[++i];
		else if (!strcmp(argv[i], "--sample") && i + 1 < argc) {
			i++;
			o->sample = !strcmp(argv[i], "all") ? 0 : strtol(argv[i], NULL, 10);
		} else if (argv[i][0] == '-' || o->data)
			usage();
		else
			o->data = argv[i];
	}
	if (!o->data)
		usage();
}

int main(int argc, char **argv)
{
	eval_opts o = { NULL, NULL, NULL, NULL, -1 };
	char tmpl[] = "/tmp/kb-eval.XXXXXX";
	kb_buf cmd = KB_BUF_INIT;
	int rc;

	parse_args(&o, argc, argv);
	if (!o.tmp) {
		if (!mkdtemp(tmpl))
			return perror("kb-eval: mkdtemp"), 1;
		o.tmp = tmpl;
	}
	rc = eval_all(&o);
	if (o.tmp == tmpl) {
		kb_buf_printf(&cmd, "rm -rf '%s'", tmpl);
		if (system(cmd.ptr) != 0)
			fprintf(stderr, "kb-eval: could not remove %s\n", tmpl);
	}
	kb_buf_release(&cmd);
	return rc;
}
