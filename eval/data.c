/*
 * data.c - loaders for the shared retrieval data format: JSON lines read
 * through zlib's gzread (plain or gzipped alike) and parsed with jansson,
 * and the tab-separated qrels.  Rows naming unknown ids are skipped.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "kb/buf.h"
#include "data.h"

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static void map_put(ev_map *m, char *key, size_t val);

static void map_grow(ev_map *m)
{
	ev_map old = *m;
	size_t i;

	m->cap = old.cap ? 2 * old.cap : 1024;
	m->keys = kb_xcalloc(m->cap, sizeof(*m->keys));
	m->vals = kb_xcalloc(m->cap, sizeof(*m->vals));
	m->count = 0;
	for (i = 0; i < old.cap; i++)
		if (old.keys[i])
			map_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

/* `key` is borrowed (owned by the set's arrays); a duplicate key keeps the first. */
static void map_put(ev_map *m, char *key, size_t val)
{
	size_t i;

	if (2 * (m->count + 1) > m->cap)
		map_grow(m);
	for (i = hash_str(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->keys[i], key))
			return;
	m->keys[i] = key;
	m->vals[i] = val;
	m->count++;
}

size_t ev_map_get(const ev_map *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return (size_t)-1;
	for (i = hash_str(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->keys[i], key))
			return m->vals[i];
	return (size_t)-1;
}

/* Read a whole file, gzipped or not, into `out`. */
static int read_any(kb_buf *out, const char *path)
{
	gzFile f = gzopen(path, "rb");
	char chunk[65536];
	int n;

	if (!f)
		return -1;
	while ((n = gzread(f, chunk, sizeof(chunk))) > 0)
		kb_buf_put(out, chunk, (size_t)n);
	gzclose(f);
	return n < 0 ? -1 : 0;
}

/* Call `cb` on each non-empty line of the file (NUL-terminated in place). */
static int each_line(const char *path, int (*cb)(char *line, void *p), void *p)
{
	kb_buf b = KB_BUF_INIT;
	char *s, *nl;
	int rc = 0;

	if (read_any(&b, path)) {
		fprintf(stderr, "kb-eval: cannot read '%s'\n", path);
		kb_buf_release(&b);
		return -1;
	}
	for (s = b.ptr; *s && !rc; s = nl + 1) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s);
		if (*nl)
			*nl = '\0';
		else
			nl--;
		if (*s && *s != '\r')
			rc = cb(s, p);
	}
	kb_buf_release(&b);
	return rc;
}

static char *json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		return kb_xstrdup(json_string_value(v));
	if (json_is_integer(v)) {
		kb_buf b = KB_BUF_INIT;
		kb_buf_printf(&b, "%lld", (long long)json_integer_value(v));
		return kb_buf_detach(&b);
	}
	return kb_xstrdup("");
}

static int add_doc(char *line, void *p)
{
	ev_set *set = p;
	json_error_t err;
	json_t *o = json_loads(line, 0, &err);
	size_t n = set->ndocs;

	if (!o) {
		fprintf(stderr, "kb-eval: %s corpus: %s\n", set->name, err.text);
		return -1;
	}
	set->doc_id = kb_xrealloc(set->doc_id, (n + 1) * sizeof(char *));
	set->doc_title = kb_xrealloc(set->doc_title, (n + 1) * sizeof(char *));
	set->doc_body = kb_xrealloc(set->doc_body, (n + 1) * sizeof(char *));
	set->doc_id[n] = json_str(o, "id");
	set->doc_title[n] = json_str(o, "title");
	set->doc_body[n] = json_str(o, "body");
	set->ndocs++;
	json_decref(o);
	return 0;
}

static int add_query(char *line, void *p)
{
	ev_set *set = p;
	json_error_t err;
	json_t *o = json_loads(line, 0, &err);
	ev_query *q;

	if (!o) {
		fprintf(stderr, "kb-eval: %s queries: %s\n", set->name, err.text);
		return -1;
	}
	set->queries = kb_xrealloc(set->queries, (set->nqueries + 1) * sizeof(*set->queries));
	q = &set->queries[set->nqueries++];
	memset(q, 0, sizeof(*q));
	q->id = json_str(o, "id");
	q->text = json_str(o, "text");
	json_decref(o);
	return 0;
}

typedef struct {
	ev_set *set;
	ev_map qmap;
} qrels_ctx;

/* "query<TAB>doc<TAB>rel"; rows naming unknown ids are skipped. */
static int add_qrel(char *line, void *p)
{
	qrels_ctx *ctx = p;
	char *t1 = strchr(line, '\t'), *t2, *end;
	size_t qi, di;
	ev_query *q;
	long rel;

	if (!t1 || !(t2 = strchr(t1 + 1, '\t')))
		return 0;
	*t1 = *t2 = '\0';
	rel = strtol(t2 + 1, &end, 10);
	qi = ev_map_get(&ctx->qmap, line);
	di = ev_map_get(&ctx->set->doc_map, t1 + 1);
	if (qi == (size_t)-1 || di == (size_t)-1)
		return 0;
	q = &ctx->set->queries[qi];
	q->judged = kb_xrealloc(q->judged, (q->njudged + 1) * sizeof(*q->judged));
	q->judged[q->njudged].doc = di;
	q->judged[q->njudged++].rel = (int)rel;
	q->nrelevant += rel > 0;
	ctx->set->graded += rel > 1;
	ctx->set->zero_rows += rel == 0;
	return 0;
}

static char *join(const char *dir, const char *file)
{
	kb_buf b = KB_BUF_INIT;

	kb_buf_printf(&b, "%s/%s", dir, file);
	return kb_buf_detach(&b);
}

static int exists(const char *dir, const char *file)
{
	char *p = join(dir, file);
	int ok = access(p, R_OK) == 0;

	free(p);
	return ok;
}

int ev_set_present(const char *dir)
{
	return (exists(dir, "corpus.jsonl") || exists(dir, "corpus.jsonl.gz")) &&
	       exists(dir, "queries.jsonl") && exists(dir, "qrels.tsv");
}

int ev_set_load(ev_set *set, const char *dir, const char *name)
{
	qrels_ctx ctx = { set, { NULL, NULL, 0, 0 } };
	char *corpus = join(dir, exists(dir, "corpus.jsonl") ? "corpus.jsonl" : "corpus.jsonl.gz");
	char *queries = join(dir, "queries.jsonl"), *qrels = join(dir, "qrels.tsv");
	size_t i;
	int rc = -1;

	memset(set, 0, sizeof(*set));
	set->name = kb_xstrdup(name);
	if (each_line(corpus, add_doc, set) || each_line(queries, add_query, set))
		goto done;
	for (i = 0; i < set->ndocs; i++)
		map_put(&set->doc_map, set->doc_id[i], i);
	for (i = 0; i < set->nqueries; i++)
		map_put(&ctx.qmap, set->queries[i].id, i);
	rc = each_line(qrels, add_qrel, &ctx);
done:
	free(ctx.qmap.keys);
	free(ctx.qmap.vals);
	free(corpus);
	free(queries);
	free(qrels);
	return rc;
}

void ev_set_release(ev_set *set)
{
	size_t i;

	for (i = 0; i < set->ndocs; i++) {
		free(set->doc_id[i]);
		free(set->doc_title[i]);
		free(set->doc_body[i]);
	}
	for (i = 0; i < set->nqueries; i++) {
		free(set->queries[i].id);
		free(set->queries[i].text);
		free(set->queries[i].judged);
	}
	free(set->doc_id);
	free(set->doc_title);
	free(set->doc_body);
	free(set->queries);
	free(set->doc_map.keys);
	free(set->doc_map.vals);
	free(set->name);
	memset(set, 0, sizeof(*set));
}
