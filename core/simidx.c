/*
 * simidx.c - the in-memory similar-case index (simidx.h): every indexed
 * case tokenized once into compact postings (case-number deltas as
 * varints, per column a packed term frequency), per case and column the
 * BM25F factor kb_rank() uses, and the query phrases of codes; a lookup
 * selects its terms with similar.c's own code and scores them into an
 * accumulator exactly as kb_rank() would.  See docs/internals/index.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/case.h"
#include "kb/error.h"
#include "index_internal.h"
#include "similar_internal.h"
#include "simidx.h"

#define NCOL KB_COL__COUNT
_Static_assert(NCOL == 11, "struct cslot is laid out for 11 columns (32 bytes)");
/* kb_rank()'s constants and the ranked query's boost are index_internal.h's
 * RANK_K1, RANK_B and KB_BOOST; test_simidx proves the scores equal. */
#define NONE UINT32_MAX
/* Longest query phrase of a code (the tokenizer's PARTS_MAX). */
#define PHRASE_MAX 16
/* resolve(): a term the lookup must leave to the SQL path. */
/* A posting list: per case, varint(case + 1 - previous case + 1), then one
 * byte per column with the term, col | min(tf, 7) << 4 | 0x80 on the last
 * column, tf 7 followed by varint(tf - 7). */
typedef struct {
	uint8_t *p;
	uint32_t len, cap;
	uint32_t last;      /* previous case + 1; 0 none */
} plist;

typedef struct {
	uint32_t off, len;  /* token in s->strings */
	uint32_t hash;
	uint32_t df;
	uint32_t post, npost; /* postings in s->post; none when df is over s->cap */
} vterm;

/* Per case while building: a term or phrase and its tf per column. */
typedef struct {
	uint32_t id;
	uint32_t tf[NCOL];
	uint64_t last_start; /* phrases: column and position last counted, + 1 */
} centry;

struct kb_simidx {
	kb_index *idx;
	kb_sim_tokenizer tk;
	sqlite3_int64 ndocs;       /* kb_index_count() */
	double cap;                /* df above which postings are not kept */
	size_t nd;                 /* rows of fts */
	sqlite3_int64 *rowid;
	/* Per case, 32 bytes on one cache line (a lookup reads them in random
	 * order): its score so far (valid when stamp is gen) and kb_rank's
	 * column lengths (65535: look in big[]); per column the weight over
	 * the symptom weight and the average length. */
	struct cslot {
		double score;
		uint16_t stamp;
		uint16_t len[NCOL];
	} *cs;
	uint16_t gen;
	uint64_t *big;             /* cell << 32 | length, sorted, for lengths >= 65535 */
	size_t nbig;
	double cw[NCOL], avg[NCOL];
	uint32_t *equipment, *model; /* per case: name id (ASCII case folded), NONE */
	kb_buf names;              /* distinct folded names, NUL-separated */
	uint32_t *name_off;        /* name id -> offset in names */
	uint32_t *name_slots;      /* hash: name id + 1 */
	size_t nnames, name_nslots;
	kb_buf strings;
	vterm *terms;
	size_t nterms, aterms;
	uint8_t *post;             /* the terms' postings, one after the other */
	size_t npost;
	uint64_t *slots;           /* vocabulary hash: hash << 32 | term + 1 */
	size_t nslots;
	/* query phrases of codes: a trie over term ids */
	plist *phr;
	uint32_t *phr_mark, *phr_entry;
	size_t nphr;
	uint64_t *ekey;            /* edge hash: node << 32 | term -> child */
	uint32_t *eval;
	size_t nedges, eslots;
	uint32_t *node_phrase;     /* node -> phrase + 1 */
	size_t nnodes;
	uint32_t *touched;
	size_t ntouched;
	size_t fallbacks;
	sqlite3_stmt *hit_st;
	/* building, per term: postings, and the case entry it has */
	plist *bpost;
	uint32_t *bmark, *bentry;
	centry *ent;
	size_t nent, aent;
};

/* ---- small helpers ---------------------------------------------------- */

static uint32_t hash_bytes(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

static void put_varint(plist *l, uint32_t v)
{
	if (l->cap - l->len < 5) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->p = kb_xrealloc(l->p, l->cap);
	}
	while (v >= 0x80) {
		l->p[l->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	l->p[l->len++] = (uint8_t)v;
}

static uint32_t get_varint(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint32_t v = 0;
	int shift = 0;

	while (*p & 0x80) {
		v |= (uint32_t)(*p++ & 0x7f) << shift;
		shift += 7;
	}
	v |= (uint32_t)*p++ << shift;
	*pp = p;
	return v;
}

/* Append case d with its per-column tf to l. */
static void plist_add(plist *l, uint32_t d, const uint32_t tf[NCOL])
{
	int c, last = -1;

	put_varint(l, d + 1 - l->last);
	l->last = d + 1;
	for (c = 0; c < NCOL; c++)
		if (tf[c])
			last = c;
	for (c = 0; c <= last; c++) {
		uint32_t t = tf[c] < 7 ? tf[c] : 7;
		if (!tf[c])
			continue;
		put_varint(l, 0);   /* room for the byte */
		l->p[l->len - 1] = (uint8_t)((uint32_t)c | t << 4 | (c == last ? 0x80u : 0));
		if (t == 7)
			put_varint(l, tf[c] - 7);
	}
}

static void plist_shrink(plist *l)
{
	if (l->len && l->len < l->cap) {
		l->p = kb_xrealloc(l->p, l->len);
		l->cap = l->len;
	}
}

/* ---- equipment and model names ---------------------------------------
 * The ranked query boosts with `d.equipment = ? COLLATE NOCASE`: names
 * equal once ASCII letters are folded.  Each case keeps the id of its
 * folded name, and a lookup compares ids. */

static void fold_ascii(kb_buf *out, const char *v)
{
	kb_buf_clear(out);
	for (; *v; v++)
		kb_buf_putc(out, *v >= 'A' && *v <= 'Z' ? (char)(*v + 32) : *v);
}

static uint32_t name_find(const kb_simidx *s, const kb_buf *key)
{
	uint32_t h = hash_bytes(key->ptr, key->len);
	size_t i;

	if (!s->name_nslots)
		return NONE;
	for (i = h & (s->name_nslots - 1); s->name_slots[i]; i = (i + 1) & (s->name_nslots - 1))
		if (!strcmp(s->names.ptr + s->name_off[s->name_slots[i] - 1], key->ptr))
			return s->name_slots[i] - 1;
	return NONE;
}

static void name_slot(kb_simidx *s, uint32_t id)
{
	const char *v = s->names.ptr + s->name_off[id];
	size_t i = hash_bytes(v, strlen(v)) & (s->name_nslots - 1);

	while (s->name_slots[i])
		i = (i + 1) & (s->name_nslots - 1);
	s->name_slots[i] = id + 1;
}

/* Id of the folded name of `v`; NONE for NULL or "" (never boosted). */
static uint32_t name_intern(kb_simidx *s, kb_buf *key, const char *v)
{
	uint32_t id, i;

	if (!v || !*v)
		return NONE;
	fold_ascii(key, v);
	if ((id = name_find(s, key)) != NONE)
		return id;
	if (2 * (s->nnames + 1) > s->name_nslots) {
		free(s->name_slots);
		s->name_nslots = s->name_nslots ? 2 * s->name_nslots : 64;
		s->name_slots = kb_xcalloc(s->name_nslots, sizeof(uint32_t));
		for (i = 0; i < s->nnames; i++)
			name_slot(s, i);
	}
	if ((s->nnames & (s->nnames - 1)) == 0)
		s->name_off = kb_xrealloc(s->name_off, (s->nnames ? 2 * s->nnames : 1) *
					  sizeof(uint32_t));
	s->name_off[s->nnames] = (uint32_t)s->names.len;
	kb_buf_put(&s->names, key->ptr, key->len + 1);
	name_slot(s, (uint32_t)s->nnames);
	return (uint32_t)s->nnames++;
}

/* The id a boost value matches, NONE when no case has it. */
static uint32_t name_lookup(const kb_simidx *s, const char *v)
{
	kb_buf key = KB_BUF_INIT;
	uint32_t id;

	if (!v || !*v)
		return NONE;
	fold_ascii(&key, v);
	id = name_find(s, &key);
	kb_buf_release(&key);
	return id;
}

/* ---- vocabulary ------------------------------------------------------- */

static uint32_t vocab_find(const kb_simidx *s, const char *tok, size_t len)
{
	uint32_t h = hash_bytes(tok, len);
	size_t i = h & (s->nslots - 1);

	if (!s->nslots)
		return NONE;
	for (; s->slots[i]; i = (i + 1) & (s->nslots - 1)) {
		const vterm *t;
		if (s->slots[i] >> 32 != h)
			continue;
		t = &s->terms[(uint32_t)s->slots[i] - 1];
		if (t->len == len && !memcmp(s->strings.ptr + t->off, tok, len))
			return (uint32_t)s->slots[i] - 1;
	}
	return NONE;
}

static void vocab_grow(kb_simidx *s)
{
	size_t i, j, n = s->nslots ? 2 * s->nslots : 1024;
	uint64_t *slots = kb_xcalloc(n, sizeof(*slots));

	for (i = 0; i < s->nterms; i++) {
		for (j = s->terms[i].hash & (n - 1); slots[j]; j = (j + 1) & (n - 1))
			;
		slots[j] = (uint64_t)s->terms[i].hash << 32 | ((uint32_t)i + 1);
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
}

static uint32_t vocab_intern(kb_simidx *s, const char *tok, size_t len)
{
	uint32_t id = vocab_find(s, tok, len);
	vterm *t;
	size_t j;

	if (id != NONE)
		return id;
	if (2 * (s->nterms + 1) > s->nslots)
		vocab_grow(s);
	if (s->nterms == s->aterms) {
		s->aterms = s->aterms ? 2 * s->aterms : 4096;
		s->terms = kb_xrealloc(s->terms, s->aterms * sizeof(*s->terms));
		s->bpost = kb_xrealloc(s->bpost, s->aterms * sizeof(*s->bpost));
		s->bmark = kb_xrealloc(s->bmark, s->aterms * sizeof(uint32_t));
		s->bentry = kb_xrealloc(s->bentry, s->aterms * sizeof(uint32_t));
	}
	memset(&s->bpost[s->nterms], 0, sizeof(*s->bpost));
	s->bmark[s->nterms] = 0;
	t = &s->terms[s->nterms];
	memset(t, 0, sizeof(*t));
	t->off = (uint32_t)s->strings.len;
	t->len = (uint32_t)len;
	t->hash = hash_bytes(tok, len);
	kb_buf_put(&s->strings, tok, len);
	kb_buf_putc(&s->strings, '\0');
	for (j = t->hash & (s->nslots - 1); s->slots[j]; j = (j + 1) & (s->nslots - 1))
		;
	s->slots[j] = (uint64_t)t->hash << 32 | (uint32_t)++s->nterms;
	return (uint32_t)s->nterms - 1;
}

/* ---- the trie of code phrases ----------------------------------------- */

static uint32_t edge_find(const kb_simidx *s, uint32_t node, uint32_t tid)
{
	uint64_t key = (uint64_t)node << 32 | tid;
	size_t i;

	if (!s->eslots)
		return NONE;
	for (i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & (s->eslots - 1); s->eval[i];
	     i = (i + 1) & (s->eslots - 1))
		if (s->ekey[i] == key)
			return s->eval[i] - 1;
	return NONE;
}

static void edge_put(kb_simidx *s, uint64_t key, uint32_t child)
{
	size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & (s->eslots - 1);

	while (s->eval[i])
		i = (i + 1) & (s->eslots - 1);
	s->ekey[i] = key;
	s->eval[i] = child + 1;
}

static void edge_grow(kb_simidx *s)
{
	uint64_t *keys = s->ekey;
	uint32_t *vals = s->eval;
	size_t i, old = s->eslots;

	s->eslots = old ? 2 * old : 1024;
	s->ekey = kb_xcalloc(s->eslots, sizeof(*s->ekey));
	s->eval = kb_xcalloc(s->eslots, sizeof(*s->eval));
	for (i = 0; i < old; i++)
		if (vals[i])
			edge_put(s, keys[i], vals[i] - 1);
	free(keys);
	free(vals);
}

static uint32_t new_node(kb_simidx *s)
{
	if ((s->nnodes & (s->nnodes - 1)) == 0 || s->nnodes == 0)
		s->node_phrase = kb_xrealloc(s->node_phrase,
					     (s->nnodes ? 2 * s->nnodes : 1) * sizeof(uint32_t));
	s->node_phrase[s->nnodes] = 0;
	return (uint32_t)s->nnodes++;
}

/* Add the phrase of term ids tids[0..n) (n >= 2) once. */
static void trie_add(kb_simidx *s, const uint32_t *tids, size_t n)
{
	uint32_t node = 0, child;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((child = edge_find(s, node, tids[i])) == NONE) {
			if (2 * (s->nedges + 1) > s->eslots)
				edge_grow(s);
			child = new_node(s);
			edge_put(s, (uint64_t)node << 32 | tids[i], child);
			s->nedges++;
		}
		node = child;
	}
	if (!s->node_phrase[node]) {
		s->node_phrase[node] = (uint32_t)++s->nphr;
		s->phr = kb_xrealloc(s->phr, s->nphr * sizeof(*s->phr));
		memset(&s->phr[s->nphr - 1], 0, sizeof(*s->phr));
	}
}

/* ---- query-mode tokens ------------------------------------------------ */

typedef struct {
	const kb_simidx *s;
	uint32_t tid[PHRASE_MAX];
	int n;
	int bad;            /* colocated, too many, or unknown to the vocabulary */
	int unknown;        /* a token no case has */
} qtoks;

static int qtok_cb(void *ctx, int flags, const char *tok, int len, int start, int end)
{
	qtoks *q = ctx;

	(void)start, (void)end;
	if ((flags & FTS5_TOKEN_COLOCATED) || q->n == PHRASE_MAX || len <= 0) {
		q->bad = 1;
		return SQLITE_OK;
	}
	q->tid[q->n] = vocab_find(q->s, tok, (size_t)len);
	q->unknown |= q->tid[q->n] == NONE;
	q->n++;
	return SQLITE_OK;
}

/* Term ids of `text` tokenized as FTS5 tokenizes a quoted MATCH phrase. */
static int query_tokens(kb_simidx *s, const char *text, size_t len, qtoks *q)
{
	memset(q, 0, sizeof(*q));
	q->s = s;
	if (s->tk.tk.xTokenize(s->tk.tok, q, FTS5_TOKENIZE_QUERY, text, (int)len, qtok_cb) !=
	    SQLITE_OK)
		q->bad = 1;
	return q->bad || q->n == 0 ? -1 : 0;
}

/* ---- building --------------------------------------------------------- */

static const char fts_sql[] =
	"SELECT f.rowid, d.equipment, d.model, f.title, f.symptom, f.environment, f.cause,"
	" f.resolution, f.notes, f.tags, f.equipment, f.model, f.site, f.failure"
	" FROM fts AS f LEFT JOIN docs AS d ON d.rowid = f.rowid ORDER BY f.rowid";

typedef struct {
	kb_simidx *s;
	uint32_t d;
	int col;
	int sz;             /* column size as FTS5 counts it */
	/* pass 2: the column's tokens and where each position starts */
	uint32_t *tid, *pos_first;
	size_t ntok, atok, npos, apos;
} doc_ctx;

static centry *case_entry(kb_simidx *s, uint32_t *mark, uint32_t *entry, uint32_t d,
			  uint32_t id)
{
	centry *e;

	if (*mark == d + 1)
		return &s->ent[*entry];
	if (s->nent == s->aent) {
		s->aent = s->aent ? 2 * s->aent : 256;
		s->ent = kb_xrealloc(s->ent, s->aent * sizeof(*s->ent));
	}
	e = &s->ent[s->nent];
	memset(e, 0, sizeof(*e));
	e->id = id;
	*mark = d + 1;
	*entry = (uint32_t)s->nent++;
	return e;
}

/* Pass 1: every token of the case into its term's entry; FTS5's column
 * size (a colocated token takes no position, except as the first). */
static int tok_cb(void *ctx, int flags, const char *tok, int len, int start, int end)
{
	doc_ctx *c = ctx;
	kb_simidx *s = c->s;
	uint32_t id;

	(void)start, (void)end;
	if (!(flags & FTS5_TOKEN_COLOCATED) || c->sz == 0)
		c->sz++;
	if (len <= 0)
		return SQLITE_OK;
	id = vocab_intern(s, tok, (size_t)len);
	case_entry(s, &s->bmark[id], &s->bentry[id], c->d, id)->tf[c->col]++;
	return SQLITE_OK;
}

static void flush_terms(kb_simidx *s, uint32_t d)
{
	size_t i;

	for (i = 0; i < s->nent; i++) {
		s->terms[s->ent[i].id].df++;
		plist_add(&s->bpost[s->ent[i].id], d, s->ent[i].tf);
	}
	s->nent = 0;
}

static int tokenize_row(kb_simidx *s, sqlite3_stmt *st, doc_ctx *c,
			int (*cb)(void *, int, const char *, int, int, int),
			void (*after)(doc_ctx *), int sizes[NCOL])
{
	int col;

	for (col = 0; col < NCOL; col++) {
		const char *text = (const char *)sqlite3_column_text(st, 3 + col);
		int n = sqlite3_column_bytes(st, 3 + col);
		c->col = col;
		c->sz = 0;
		c->ntok = c->npos = 0;
		if (text && n > 0 && s->tk.tk.xTokenize(s->tk.tok, c, FTS5_TOKENIZE_DOCUMENT, text, n,
							cb) != SQLITE_OK)
			return kb_error_set(KB_ERROR, s->idx->path, 0, "cannot tokenize case %lld",
					    (long long)sqlite3_column_int64(st, 0));
		if (after)
			after(c);
		if (sizes)
			sizes[col] = c->sz;
	}
	return 0;
}

/* Pass 1 over the fts table: postings, column sizes, and x. */
static int read_cases(kb_simidx *s)
{
	sqlite3_stmt *st = NULL;
	doc_ctx c = { s, 0, 0, 0, NULL, NULL, 0, 0, 0, 0 };
	int64_t total[NCOL] = { 0 };
	int *sizes = NULL, rc = 0, col;
	kb_buf key = KB_BUF_INIT;
	size_t a = 0, d;

	if (sqlite3_prepare_v2(s->idx->db, fts_sql, -1, &st, NULL))
		return kb_index__sqlerr(s->idx, "cannot read the index");
	while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (s->nd == a) {
			a = a ? 2 * a : 1024;
			s->rowid = kb_xrealloc(s->rowid, a * sizeof(*s->rowid));
			s->equipment = kb_xrealloc(s->equipment, a * sizeof(uint32_t));
			s->model = kb_xrealloc(s->model, a * sizeof(uint32_t));
			sizes = kb_xrealloc(sizes, a * NCOL * sizeof(int));
		}
		c.d = (uint32_t)s->nd;
		s->rowid[s->nd] = sqlite3_column_int64(st, 0);
		s->equipment[s->nd] = name_intern(s, &key, (const char *)sqlite3_column_text(st, 1));
		s->model[s->nd] = name_intern(s, &key, (const char *)sqlite3_column_text(st, 2));
		rc = tokenize_row(s, st, &c, tok_cb, NULL, sizes + s->nd * NCOL);
		flush_terms(s, c.d);
		s->nd++;
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = kb_index__sqlerr(s->idx, "cannot read the index");
	sqlite3_finalize(st);
	kb_buf_release(&key);
	for (d = 0; d < s->nd; d++)
		for (col = 0; col < NCOL; col++)
			total[col] += sizes[d * NCOL + col];
	for (col = 0; col < NCOL; col++) {
		double *w = s->idx->weights, ws = w[KB_COL_SYMPTOM];
		/* kb_rank: rank_setup's avg and rank_colweight(), search.c */
		s->avg[col] = s->nd > 0 && total[col] > 0 ? (double)total[col] / (double)s->nd : 1.0;
		s->cw[col] = w[col] / (ws > 0 ? ws : 1.0);
	}
	if (posix_memalign((void **)&s->cs, 64, (s->nd + 1) * sizeof(*s->cs)))
		abort();     /* out of memory, as kb_xmalloc */
	memset(s->cs, 0, (s->nd + 1) * sizeof(*s->cs));
	for (d = 0; d < s->nd * NCOL; d++) {
		s->cs[d / NCOL].len[d % NCOL] = (uint16_t)(sizes[d] < 0xffff ? sizes[d] : 0xffff);
		if (sizes[d] < 0xffff)
			continue;
		s->big = kb_xrealloc(s->big, (s->nbig + 1) * sizeof(*s->big));
		s->big[s->nbig++] = (uint64_t)d << 32 | (uint32_t)sizes[d];
	}
	free(sizes);
	return rc;
}

/* The terms' postings into one block, but for terms too common to be
 * selected; the build-time lists and marks freed. */
static void pack_postings(kb_simidx *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nterms; i++)
		if ((double)s->terms[i].df <= s->cap)
			n += s->bpost[i].len;
	s->post = kb_xmalloc(n + 1);
	for (i = 0; i < s->nterms; i++) {
		vterm *t = &s->terms[i];
		t->post = (uint32_t)s->npost;
		t->npost = (double)t->df <= s->cap ? s->bpost[i].len : 0;
		if (t->npost)
			memcpy(s->post + s->npost, s->bpost[i].p, t->npost);
		s->npost += t->npost;
		free(s->bpost[i].p);
	}
	free(s->bpost);
	free(s->bmark);
	free(s->bentry);
	s->bpost = NULL;
	s->bmark = s->bentry = NULL;
	if (s->nterms < s->aterms) {
		s->aterms = s->nterms ? s->nterms : 1;
		s->terms = kb_xrealloc(s->terms, s->aterms * sizeof(*s->terms));
	}
}

/* The query phrase of every code (a token with a joiner) that a lookup
 * may select. */
static void find_phrases(kb_simidx *s)
{
	size_t i;
	qtoks q;

	new_node(s);
	for (i = 0; i < s->nterms; i++) {
		vterm *t = &s->terms[i];
		const char *tok = s->strings.ptr + t->off;
		if ((double)t->df > s->cap || strcspn(tok, "-/._") == t->len)
			continue;
		if (query_tokens(s, tok, t->len, &q) == 0 && q.n >= 2 && !q.unknown)
			trie_add(s, q.tid, (size_t)q.n);
	}
}

/* Pass 2, per token: remember it and where its position starts. */
static int pos_cb(void *ctx, int flags, const char *tok, int len, int start, int end)
{
	doc_ctx *c = ctx;

	(void)start, (void)end;
	if (!(flags & FTS5_TOKEN_COLOCATED) || c->npos == 0) {
		if (c->npos == c->apos) {
			c->apos = c->apos ? 2 * c->apos : 256;
			c->pos_first = kb_xrealloc(c->pos_first, (c->apos + 1) * sizeof(uint32_t));
		}
		c->pos_first[c->npos++] = (uint32_t)c->ntok;
	}
	if (c->ntok == c->atok) {
		c->atok = c->atok ? 2 * c->atok : 256;
		c->tid = kb_xrealloc(c->tid, c->atok * sizeof(uint32_t));
	}
	c->tid[c->ntok++] = len > 0 ? vocab_find(c->s, tok, (size_t)len) : NONE;
	return SQLITE_OK;
}

/* Count the phrases that start at position `start` and go through `node`
 * at position `pos`. */
static void walk(doc_ctx *c, uint32_t node, size_t pos, size_t start)
{
	kb_simidx *s = c->s;
	size_t j;

	for (j = c->pos_first[pos]; j < c->pos_first[pos + 1]; j++) {
		uint32_t child = c->tid[j] == NONE ? NONE : edge_find(s, node, c->tid[j]);
		uint32_t ph;
		if (child == NONE)
			continue;
		if ((ph = s->node_phrase[child]) != 0) {
			uint64_t key = ((uint64_t)c->col << 40 | start) + 1;
			centry *e = case_entry(s, &s->phr_mark[ph - 1], &s->phr_entry[ph - 1], c->d,
					       ph - 1);
			if (e->last_start != key)
				e->tf[c->col]++;
			e->last_start = key;
		}
		if (pos + 1 < c->npos && pos - start + 1 < PHRASE_MAX)
			walk(c, child, pos + 1, start);
	}
}

static void match_column(doc_ctx *c)
{
	size_t p;

	if (!c->npos)
		return;
	c->pos_first[c->npos] = (uint32_t)c->ntok;
	for (p = 0; p < c->npos; p++)
		walk(c, 0, p, p);
}

static void flush_phrases(kb_simidx *s, uint32_t d)
{
	size_t i;

	for (i = 0; i < s->nent; i++)
		plist_add(&s->phr[s->ent[i].id], d, s->ent[i].tf);
	s->nent = 0;
}

/* Pass 2 over the fts table: the posting lists of the code phrases. */
static int read_phrases(kb_simidx *s)
{
	sqlite3_stmt *st = NULL;
	doc_ctx c = { s, 0, 0, 0, NULL, NULL, 0, 0, 0, 0 };
	size_t i;
	int rc = 0;

	if (!s->nphr)
		return 0;
	s->phr_mark = kb_xcalloc(s->nphr, sizeof(uint32_t));
	s->phr_entry = kb_xcalloc(s->nphr, sizeof(uint32_t));
	if (sqlite3_prepare_v2(s->idx->db, fts_sql, -1, &st, NULL))
		return kb_index__sqlerr(s->idx, "cannot read the index");
	while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW && c.d < s->nd) {
		rc = tokenize_row(s, st, &c, pos_cb, match_column, NULL);
		flush_phrases(s, c.d);
		c.d++;
	}
	if (rc == SQLITE_DONE || (rc == SQLITE_ROW && c.d == s->nd))
		rc = 0;
	else if (rc > 0)
		rc = kb_index__sqlerr(s->idx, "cannot read the index");
	sqlite3_finalize(st);
	for (i = 0; i < s->nphr; i++)
		plist_shrink(&s->phr[i]);
	free(c.tid);
	free(c.pos_first);
	free(s->phr_mark);
	free(s->phr_entry);
	s->phr_mark = s->phr_entry = NULL;
	return rc;
}

int kb__simidx_build(kb_simidx **out, kb_index *idx)
{
	kb_search_options dflt = KB_SEARCH_OPTIONS_INIT;
	kb_simidx *s = kb_xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	s->idx = idx;
	s->ndocs = kb_index_count(idx);
	s->cap = kb_sim__max_df(s->ndocs, &dflt);
	kb_buf_init(&s->strings);
	kb_buf_init(&s->names);
	if ((rc = kb_sim__tokenizer_open(&s->tk, idx)) || (rc = read_cases(s)))
		goto done;
	pack_postings(s);
	find_phrases(s);
	if ((rc = read_phrases(s)))
		goto done;
	free(s->ent);
	s->ent = NULL;
	s->nent = s->aent = 0;
	s->touched = kb_xcalloc(s->nd + 1, sizeof(uint32_t));
	*out = s;
	s = NULL;
done:
	kb__simidx_free(s);
	return rc;
}

void kb__simidx_free(kb_simidx *s)
{
	size_t i;

	if (!s)
		return;
	kb_sim__tokenizer_close(&s->tk);
	sqlite3_finalize(s->hit_st);
	for (i = 0; s->bpost && i < s->nterms; i++)
		free(s->bpost[i].p);
	free(s->bpost);
	free(s->bmark);
	free(s->bentry);
	free(s->post);
	for (i = 0; i < s->nphr; i++)
		free(s->phr[i].p);
	free(s->equipment);
	free(s->model);
	kb_buf_release(&s->names);
	free(s->name_off);
	free(s->name_slots);
	free(s->rowid);
	free(s->cs);
	free(s->big);
	free(s->terms);
	free(s->slots);
	kb_buf_release(&s->strings);
	free(s->phr);
	free(s->phr_mark);
	free(s->phr_entry);
	free(s->ekey);
	free(s->eval);
	free(s->node_phrase);
	free(s->touched);
	free(s->ent);
	free(s);
}

size_t kb__simidx_fallbacks(const kb_simidx *s)
{
	return s->fallbacks;
}

size_t kb__simidx_bytes(const kb_simidx *s)
{
	size_t i, b = sizeof(*s) + s->strings.alloc;

	b += s->npost;
	for (i = 0; i < s->nphr; i++)
		b += s->phr[i].cap;
	b += s->aterms * sizeof(vterm) + s->nslots * sizeof(uint64_t);
	b += s->nphr * sizeof(plist) + s->eslots * 12 + s->nnodes * sizeof(uint32_t);
	b += s->nd * (sizeof(struct cslot) + sizeof(sqlite3_int64) +
		      3 * sizeof(uint32_t)) + s->nbig * sizeof(uint64_t);
	return b + s->names.alloc + s->name_nslots * sizeof(uint32_t) +
	       s->nnames * sizeof(uint32_t);
}

/* ---- lookups ---------------------------------------------------------- */

static int mem_df(void *ctx, kb_sim_terms *t, int skip_unigrams)
{
	const kb_simidx *s = ctx;
	size_t i;

	for (i = 0; i < t->n; i++) {
		uint32_t id = vocab_find(s, t->v[i].tok, strlen(t->v[i].tok));
		t->v[i].df = id == NONE || (skip_unigrams && t->v[i].unigram) ? 0 : s->terms[id].df;
	}
	return 0;
}

/* The postings the MATCH phrase of term x walks into *l: 0 found, 1 it
 * matches no case, -1 the snapshot cannot tell (the SQL path must). */
static int resolve(kb_simidx *s, const kb_sim_term *x, plist *l)
{
	uint32_t node = 0;
	qtoks q;
	int i;

	/* no token (a stop word cut out of a code): FTS5's empty phrase,
	 * which matches nothing and keeps its number */
	memset(l, 0, sizeof(*l));
	if (query_tokens(s, x->surface, strlen(x->surface), &q))
		return q.bad ? -1 : 1;
	if (q.unknown)
		return 1;            /* a phrase with a token no case has */
	if (q.n == 1) {
		const vterm *t = &s->terms[q.tid[0]];
		if ((double)t->df > s->cap)
			return -1;
		l->p = s->post + t->post;
		l->len = t->npost;
		return 0;
	}
	for (i = 0; i < q.n && node != NONE; i++)
		node = edge_find(s, node, q.tid[i]);
	if (node == NONE || !s->node_phrase[node])
		return -1;
	*l = s->phr[s->node_phrase[node] - 1];
	return 0;
}

/* Length of cell (case * NCOL + column) as kb_rank reads it. */
static int cell_len(const kb_simidx *s, size_t cell)
{
	size_t lo = 0, hi = s->nbig;

	if (s->cs[cell / NCOL].len[cell % NCOL] < 0xffff)
		return s->cs[cell / NCOL].len[cell % NCOL];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->big[mid] >> 32 < cell)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)(uint32_t)s->big[lo];
}

/* kb_rank's rank_colweight(c) / rank_colnorm(c) for case d (search.c):
 * the same expression, so the same double. */
static double col_factor(const kb_simidx *s, uint32_t d, int c)
{
	int len = cell_len(s, (size_t)d * NCOL + c);

	return s->cw[c] / (1 - RANK_B + RANK_B * len / s->avg[c]);
}

/* Add phrase weight w times kb_rank's saturated tf of every case in l. */
static void score_list(kb_simidx *s, const plist *l, double w)
{
	const uint8_t *p = l->p, *end;
	uint32_t cur = 0;

	if (!l->len)
		return;
	end = p + l->len;
	while (p < end) {
		struct cslot *a;
		double freq = 0, x;
		uint32_t d, b, tf, r;
		cur += get_varint(&p);
		d = cur - 1;
		do {
			b = *p++;
			tf = b >> 4 & 7;
			if (tf == 7)
				tf += get_varint(&p);
			x = col_factor(s, d, (int)(b & 15));
			for (r = 0; r < tf; r++)
				freq += x;
		} while (!(b & 0x80));
		a = &s->cs[d];
		if (a->stamp != s->gen) {
			a->stamp = s->gen;
			a->score = 0;
			s->touched[s->ntouched++] = d;
		}
		if (freq > 0)
			a->score += w * freq * (RANK_K1 + 1) / (freq + RANK_K1);
	}
}

static int cmp_ranked(const void *a, const void *b)
{
	const kb_rank_cand *x = a, *y = b;

	if (x->r != y->r)
		return x->r < y->r ? -1 : 1;
	return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

/* A column of a hit as search.c's add_hit() copies it. */
static char *col_dup(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	return v ? kb_xstrdup(v) : NULL;
}

/* The id, title, ... of the case at `rowid` into a new hit. */
static int add_hit(kb_simidx *s, kb_hits *out, sqlite3_int64 rowid, double score)
{
	kb_hit *h;
	int rc;

	if (!s->hit_st && sqlite3_prepare_v2(s->idx->db, "SELECT id, title, path, equipment, model,"
					     " status FROM docs WHERE rowid = ?1", -1, &s->hit_st,
					     NULL))
		return kb_index__sqlerr(s->idx, "cannot read the index");
	sqlite3_bind_int64(s->hit_st, 1, rowid);
	if ((rc = sqlite3_step(s->hit_st)) == SQLITE_ROW) {
		out->items = kb_xrealloc(out->items, (out->count + 1) * sizeof(*out->items));
		h = &out->items[out->count++];
		memset(h, 0, sizeof(*h));
		h->id = kb_xstrdup((const char *)sqlite3_column_text(s->hit_st, 0));
		h->title = col_dup(s->hit_st, 1);
		h->path = col_dup(s->hit_st, 2);
		h->equipment = col_dup(s->hit_st, 3);
		h->model = col_dup(s->hit_st, 4);
		h->status = col_dup(s->hit_st, 5);
		h->score = score;
	}
	sqlite3_reset(s->hit_st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	       kb_index__sqlerr(s->idx, "cannot read the index");
}

static sqlite3_int64 exclude_rowid(kb_simidx *s, const char *id)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 r = 0;

	if (!id || !*id)
		return 0;
	if (sqlite3_prepare_v2(s->idx->db, "SELECT rowid FROM docs WHERE id = ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			r = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return r;
}

/* The second stage of similar.c's two_stages(): the best `rerank` of the
 * n ranked cases v[] re-scored with the m extra terms of t; *n cut to them. */
static int rerank_cases(kb_simidx *s, kb_rank_cand *v, size_t *n, size_t rerank,
			size_t limit, const kb_sim_terms *t, size_t k, size_t m,
			sqlite3_int64 self_rowid, double *self)
{
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_ranked);
	if (*n > rerank)
		*n = rerank;
	return kb_sim__rerank(s->idx, &s->tk, t, k, m, s->ndocs, s->avg, self_rowid, self, v, n,
			      limit);
}

/* The touched cases ranked as the SQL query ranks them, best `limit` as hits,
 * after the second stage when rerank > 0 (then *self is updated first). */
static int emit_hits(kb_simidx *s, const kb_search_options *o, const kb_sim_terms *t, size_t k,
		     size_t m, size_t rerank, sqlite3_int64 self_rowid, double *self,
		     kb_hits *out)
{
	size_t limit = o->limit ? o->limit : 10, i, n = 0;
	sqlite3_int64 ex = exclude_rowid(s, o->exclude_id);
	uint32_t beq = name_lookup(s, o->boost_equipment), bmo = name_lookup(s, o->boost_model);
	kb_rank_cand *v = kb_xcalloc(s->ntouched + 1, sizeof(*v));
	double scale;
	int rc = 0;

	for (i = 0; i < s->ntouched; i++) {
		uint32_t d = s->touched[i];
		double r = -s->cs[d].score;
		if (ex && s->rowid[d] == ex)
			continue;
		v[n].beq = beq != NONE && s->equipment[d] == beq;
		v[n].bmo = bmo != NONE && s->model[d] == bmo;
		/* kb_rank(...) * (CASE equipment) * (CASE model), search.c */
		r = r * (v[n].beq ? KB_BOOST : 1.0);
		r = r * (v[n].bmo ? KB_BOOST : 1.0);
		v[n].r = r;
		v[n++].rowid = s->rowid[d];
	}
	if (rerank) {
		rc = rerank_cases(s, v, &n, rerank, limit, t, k, m, self_rowid, self);
	} else if (limit == 1) {
		for (i = 1; i < n; i++)
			if (cmp_ranked(&v[i], &v[0]) < 0)
				v[0] = v[i];
	} else if (n) {
		qsort(v, n, sizeof(*v), cmp_ranked);
	}
	scale = 1.0 / (*self * kb_sim__boost_factor(o));
	for (i = 0; rc == 0 && i < n && i < limit; i++)
		rc = add_hit(s, out, v[i].rowid, -v[i].r * scale);
	free(v);
	return rc;
}

static int needs_sql(const kb_simidx *s, const kb_search_options *o)
{
	return (o->equipment && *o->equipment) || (o->model && *o->model) ||
	       (o->site && *o->site) || (o->status && *o->status) || (o->since && *o->since) ||
	       o->explain || kb_sim__max_df(s->ndocs, o) > s->cap;
}

/* Dense number of the case at `rowid`, or NONE. */
static uint32_t case_of(const kb_simidx *s, sqlite3_int64 rowid)
{
	size_t lo = 0, hi = s->nd;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->rowid[mid] < rowid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nd && s->rowid[lo] == rowid ? (uint32_t)lo : NONE;
}

/* similar.c's similar() in memory: 1 when the lookup must go to SQL. */
static int lookup(kb_simidx *s, const char *text, size_t len, sqlite3_int64 self_rowid,
		  const kb_search_options *o, kb_hits *out)
{
	kb_sim_terms t = { 0 };
	plist *lists = NULL;
	sqlite3_int64 n = s->ndocs;
	size_t k = 0, i, rerank, m = 0;
	uint32_t self_case;
	double self = 0;
	int rc = 0;

	if (needs_sql(s, o))
		return 1;
	if (n == 0 || (rc = kb_sim__prepare(s->idx, &s->tk, text, len, n, o, mem_df, s, &t, &k)) ||
	    k == 0)
		goto done;
	lists = kb_xcalloc(k, sizeof(*lists));
	for (i = 0; i < k; i++)
		if (resolve(s, &t.v[i], &lists[i]) < 0) {
			rc = 1;
			goto done;
		}
	if (++s->gen == 0) {
		for (i = 0; i < s->nd; i++)
			s->cs[i].stamp = 0;
		s->gen = 1;
	}
	s->ntouched = 0;
	for (i = 0; i < k; i++)
		score_list(s, &lists[i], (double)kb_sim__weight_micro(&t.v[i], n) / 1e6);
	/* similar.c's self_score(): the case's own unboosted kb_rank */
	self_case = self_rowid > 0 ? case_of(s, self_rowid) : NONE;
	if (self_case != NONE && s->cs[self_case].stamp == s->gen)
		self = s->cs[self_case].score;
	/* similar.c's similar(): the second stage when it has terms to add */
	if ((rerank = kb_sim__rerank_k(o, self_rowid > 0)) && !(m = kb_sim__extras(&t, k)))
		rerank = 0;
	if (!rerank && self <= 0)
		self = kb_sim__self_estimate(s->idx, &t, k, n);
	rc = emit_hits(s, o, &t, k, m, rerank, self_rowid, &self, out);
done:
	free(lists);
	kb_sim__terms_release(&t);
	return rc;
}

int kb__simidx_similar(kb_simidx *s, const char *text, const kb_search_options *opts,
		       kb_hits *out)
{
	kb_search_options dflt = KB_SEARCH_OPTIONS_INIT;
	const kb_search_options *o = opts ? opts : &dflt;
	size_t len = text ? strlen(text) : 0;
	int rc;

	if (kb_utf8_check(text ? text : "", len, NULL))
		return kb_error_set(KB_EINPUT, NULL, 0, "description is not valid utf-8");
	if ((rc = lookup(s, text ? text : "", len, 0, o, out)) == 1) {
		s->fallbacks++;
		rc = kb_index_similar(s->idx, text, o, out);
	}
	return rc;
}

int kb__simidx_similar_case(kb_simidx *s, const char *id, const kb_search_options *opts,
			    int expand, kb_hits *out)
{
	kb_sim_case q;
	int rc = kb_sim__case_query(&q, s->idx, id, opts, expand);

	if (rc == 0 && (rc = lookup(s, q.text.ptr, q.text.len, q.rowid, &q.o, out)) == 1) {
		s->fallbacks++;
		rc = kb_index__similar_case(s->idx, id, opts, expand, out);
	}
	kb_sim__case_release(&q);
	return rc;
}
