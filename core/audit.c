/*
 * audit.c - loading for kb/audit.h: every case of the work tree parsed
 * once, then one walk of HEAD's history (git_revwalk, each commit diffed
 * against its first parent under cases/) attributing creations,
 * substantive edits and reviews to people normalised through .mailmap.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#include "audit_internal.h"
#include "store_internal.h"

/* ---- string map ------------------------------------------------------- */

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

int kb__smap_get(const kb__smap *m, const char *key, size_t *val)
{
	size_t i, h;

	if (!m->cap)
		return 0;
	h = hash_str(key);
	for (i = h & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->hashes[i] == h && !strcmp(m->keys[i], key)) {
			*val = m->vals[i];
			return 1;
		}
	}
	return 0;
}

static void smap_grow(kb__smap *m)
{
	kb__smap n = { NULL, NULL, NULL, m->cap ? 2 * m->cap : 64, 0 };
	size_t i, j;

	n.keys = kb_xcalloc(n.cap, sizeof(*n.keys));
	n.vals = kb_xcalloc(n.cap, sizeof(*n.vals));
	n.hashes = kb_xcalloc(n.cap, sizeof(*n.hashes));
	for (i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		for (j = m->hashes[i] & (n.cap - 1); n.keys[j]; j = (j + 1) & (n.cap - 1))
			;
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
		n.hashes[j] = m->hashes[i];
		n.n++;
	}
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	*m = n;
}

/* Insert or replace. */
void kb__smap_put(kb__smap *m, const char *key, size_t val)
{
	size_t i, h = hash_str(key);

	if (2 * (m->n + 1) > m->cap)
		smap_grow(m);
	for (i = h & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->hashes[i] == h && !strcmp(m->keys[i], key)) {
			m->vals[i] = val;
			return;
		}
	}
	m->keys[i] = kb_xstrdup(key);
	m->vals[i] = val;
	m->hashes[i] = h;
	m->n++;
}

void kb__smap_release(kb__smap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	memset(m, 0, sizeof(*m));
}

/* ---- small helpers ---------------------------------------------------- */

char *kb__audit_fold(const char *s)
{
	utf8proc_uint8_t *out = NULL;
	const char *end;
	char *t, *p;

	s = s ? s : "";
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	t = kb_xstrndup(s, (size_t)(end - s));
	for (p = t; *p && !(*p & 0x80); p++)
		;
	if (!*p) {   /* ASCII: folding is lower-casing (most values; much cheaper) */
		for (p = t; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		return t;
	}
	if (utf8proc_map((const utf8proc_uint8_t *)t, 0, &out,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) < 0)
		return t;
	free(t);
	t = kb_xstrdup((const char *)out);
	free(out);
	return t;
}

int kb__audit_date(const char *s, int64_t *t)
{
	struct tm tm;
	int i, y, m, d;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*t = (int64_t)timegm(&tm);
	if (m < 1 || m > 12 || tm.tm_mday != d || tm.tm_mon != m - 1)
		return -1;
	return 0;
}

size_t kb__audit_person(kb_audit *a, const char *name, const char *email)
{
	const char *rn = name, *re = email;
	char *key, *mail;
	size_t idx;

	if (a->mailmap)
		git_mailmap_resolve(&rn, &re, a->mailmap, name ? name : "", email ? email : "");
	key = kb__audit_fold(rn && *rn ? rn : re);
	if (kb__smap_get(&a->by_person, key, &idx)) {
		free(key);
		return idx;
	}
	mail = kb__audit_fold(re);
	if (a->npeople == a->apeople) {
		a->apeople = a->apeople ? 2 * a->apeople : 16;
		a->people = kb_xrealloc(a->people, a->apeople * sizeof(*a->people));
	}
	a->people[a->npeople].name = kb_xstrdup(rn && *rn ? rn : (re ? re : ""));
	a->people[a->npeople].email = mail;
	kb__smap_put(&a->by_person, key, a->npeople);
	free(key);
	return a->npeople++;
}

long kb__audit_creator(const kb__acase *k)
{
	return k->fm_author >= 0 ? k->fm_author : k->git_creator;
}

int64_t kb__audit_created(const kb_audit *a, const kb__acase *k, int *known)
{
	int64_t t;

	*known = 1;
	if (kb__audit_date(kb__csum_get(&k->s, "created"), &t) == 0 && t <= a->opts.now)
		return t;
	if (k->git_creator >= 0)
		return k->git_created;
	*known = 0;
	return 0;
}

/* ---- loading cases ---------------------------------------------------- */

/* The front-matter fields the audits read (and a few more of docs/format.md). */
static const char *const known_fields[] = {
	"id", "title", "equipment", "equipment_id", "model", "site", "system", "failure_mode",
	"failure_mechanism", "failure_cause", "tags", "status", "author", "reviewer", "created",
	"updated", "links", "superseded_by",
};

/* Edit distance of two short ASCII-ish keys, capped at 3; case, '-' and
 * '_' differences are free ("Failure-Mode" is failure_mode misspelt). */
static int key_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int d[33][33], cost, best;

	if (la > 32 || lb > 32)
		return 3;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			char x = a[i - 1], y = b[j - 1];

			x = x == '-' ? '_' : (x >= 'A' && x <= 'Z') ? (char)(x + 32) : x;
			cost = x != y;
			best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb] < 3 ? d[la][lb] : 3;
}

/* Warn about front-matter keys that look like a misspelt known field: the
 * audits would silently count such a case as lacking the field. */
void kb__audit_check_fields(kb_diags *out, const kb_case *c, const char *relpath)
{
	size_t i, j, n = kb_case_key_count(c);
	const char *key;
	int dist;

	for (i = 0; i < n; i++) {
		key = kb_case_key_at(c, i);
		for (j = 0; j < sizeof(known_fields) / sizeof(*known_fields); j++)
			if (!strcmp(key, known_fields[j]))
				break;
		if (j < sizeof(known_fields) / sizeof(*known_fields))
			continue;
		for (j = 0; j < sizeof(known_fields) / sizeof(*known_fields); j++) {
			dist = key_distance(key, known_fields[j]);
			if (dist == 0 || (dist <= 2 && strlen(known_fields[j]) > 4 && strlen(key) > 4) ||
			    (dist == 1 && strlen(key) > 2)) {
				if (kb_case_key_line(c, known_fields[j]) > 0)
					break;   /* both spellings: a field of its own */
				kb_diags_add(out, KB_DIAG_WARNING, relpath,
					     kb_case_key_line(c, key),
					     "unknown field '%s': did you mean '%s'? (counted as "
					     "missing '%s')", key, known_fields[j], known_fields[j]);
				break;
			}
		}
	}
}

void kb__audit_add_case(kb_audit *a, kb__csum *s, const char *relpath)
{
	kb__acase *k;
	kb_author au;
	const char *author = kb__csum_get(s, "author"), *id = KB__SUM_ID(s);
	size_t dummy;

	if (a->ncases == a->acases) {
		a->acases = a->acases ? 2 * a->acases : 64;
		a->cases = kb_xrealloc(a->cases, a->acases * sizeof(*a->cases));
	}
	k = &a->cases[a->ncases];
	memset(k, 0, sizeof(*k));
	k->s = *s;
	memset(s, 0, sizeof(*s));
	k->path = kb_xstrdup(relpath);
	k->fm_author = -1;
	k->git_creator = -1;
	if (author && kb_author_parse(&au, author) == 0) {
		k->fm_author = (long)kb__audit_person(a, au.name, au.email);
		kb_author_release(&au);
	}
	kb__smap_put(&a->by_path, relpath, a->ncases);
	if (*id && kb__smap_get(&a->by_id, id, &dummy))
		kb_diags_add(&a->warnings, KB_DIAG_WARNING, relpath, 0, "duplicate id '%s'", id);
	else if (*id)
		kb__smap_put(&a->by_id, id, a->ncases);
	a->ncases++;
}

/* ---- the history walk ------------------------------------------------- */

/*
 * The walk turns each commit into event lines, one per case file it touched
 * in a way that matters: "<flags>\t<time>\t<name>\t<email>\t<path>\n" with
 * flags A (added), E (sections changed), V (status set to validated), and
 * R (renamed: then a sixth field holds the old path).  The lines are cached
 * in <cachedir>audit-history (first line: the format and the commit they
 * reflect), so a later run walks only the new commits.
 */
#define CACHE_FILE "audit-history"
#define CACHE_MAGIC "kb-audit-history 2 "

/* What the walk needs of one blob, computed once per blob id. */
typedef struct {
	git_oid id;
	uint64_t body;       /* hash of the text below the front matter */
	uint64_t status;     /* hash of the front-matter "status:" line, 0 none */
	uint64_t case_id;    /* hash of the "id:" value, 0 none */
	size_t body_len;
	int validated;       /* the status line says "validated" */
	int used;
} blob_info;

/* An open-addressing table of blob_info keyed by blob id. */
typedef struct {
	blob_info *v;
	size_t cap, n;
} blob_table;

/* A case file that appeared in or vanished from a commit's tree. */
typedef struct {
	char *path;
	git_oid id;
} path_oid;

typedef struct {
	path_oid *v;
	size_t n, a;
} path_list;

/* Trees read for the previous commit: usually its successor's old side. */
typedef struct {
	git_tree **v;
	size_t n, a;
} tree_list;

typedef struct {
	git_repository *repo;
	kb_buf *out;         /* event lines */
	char *name, *email;  /* current commit's author, tabs and newlines blanked */
	int64_t time;
	blob_table blobs;
	path_list born, gone;
	tree_list prev, cur;
	git_oid last, last_tree;  /* the commit walked last and its tree */
	int have_last;
	size_t walked;       /* commits diffed */
} walk_state;

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603u;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 1099511628211u;
	return h ? h : 1;
}

/* Fill `bi` from a blob's text: the closing "---" of the front matter
 * splits it (no front matter: all of it is body). */
static void blob_scan(blob_info *bi, const char *p, size_t len)
{
	const char *end = p + len, *line = p, *nl, *body = p;
	size_t n;

	bi->body = bi->status = bi->case_id = 0;
	bi->validated = 0;
	if (len >= 3 && !memcmp(p, "---", 3)) {
		line = memchr(p, '\n', len);
		line = line ? line + 1 : end;
		while (line < end) {
			nl = memchr(line, '\n', (size_t)(end - line));
			n = (size_t)((nl ? nl : end) - line);
			if (n && line[n - 1] == '\r')
				n--;
			if (n == 3 && !memcmp(line, "---", 3)) {
				body = nl ? nl + 1 : end;
				break;
			}
			if (n > 7 && !memcmp(line, "status:", 7)) {
				bi->status = hash_bytes(line, n);
				bi->validated = memmem(line, n, "validated", 9) != NULL;
			} else if (n > 3 && !memcmp(line, "id:", 3)) {
				const char *v = line + 3, *ve = line + n;

				while (v < ve && (*v == ' ' || *v == '\t'))
					v++;
				while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
					ve--;
				bi->case_id = ve > v ? hash_bytes(v, (size_t)(ve - v)) : 0;
			}
			if (!nl)
				break;
			line = nl + 1;
		}
		if (body == p) {   /* no closing line: no front matter */
			bi->status = bi->case_id = 0;
			bi->validated = 0;
		}
	}
	bi->body_len = (size_t)(end - body);
	bi->body = hash_bytes(body, bi->body_len);
}

static size_t oid_slot(const git_oid *id, size_t cap)
{
	uint64_t h;

	memcpy(&h, id->id, sizeof(h));
	return (size_t)h & (cap - 1);
}

static void blobs_grow(blob_table *t)
{
	blob_table n = { NULL, t->cap ? 2 * t->cap : 4096, 0 };
	size_t i, j;

	n.v = kb_xcalloc(n.cap, sizeof(*n.v));
	for (i = 0; i < t->cap; i++) {
		if (!t->v[i].used)
			continue;
		for (j = oid_slot(&t->v[i].id, n.cap); n.v[j].used; j = (j + 1) & (n.cap - 1))
			;
		n.v[j] = t->v[i];
		n.n++;
	}
	free(t->v);
	*t = n;
}

/* The blob_info of blob `id`, reading the blob the first time; NULL when
 * it cannot be read.  The pointer is valid until the next call. */
static const blob_info *blob_get(walk_state *w, const git_oid *id)
{
	blob_table *t = &w->blobs;
	git_blob *b = NULL;
	size_t i;

	if (t->cap) {
		for (i = oid_slot(id, t->cap); t->v[i].used; i = (i + 1) & (t->cap - 1))
			if (git_oid_equal(&t->v[i].id, id))
				return &t->v[i];
	}
	if (git_blob_lookup(&b, w->repo, id) < 0)
		return NULL;
	if (2 * (t->n + 1) > t->cap)
		blobs_grow(t);
	for (i = oid_slot(id, t->cap); t->v[i].used; i = (i + 1) & (t->cap - 1))
		;
	git_oid_cpy(&t->v[i].id, id);
	t->v[i].used = 1;
	blob_scan(&t->v[i], git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	t->n++;
	git_blob_free(b);
	return &t->v[i];
}

static void path_list_add(path_list *l, const char *path, const git_oid *id)
{
	if (l->n == l->a) {
		l->a = l->a ? 2 * l->a : 8;
		l->v = kb_xrealloc(l->v, l->a * sizeof(*l->v));
	}
	l->v[l->n].path = kb_xstrdup(path);
	git_oid_cpy(&l->v[l->n].id, id);
	l->n++;
}

static void path_list_clear(path_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].path);
	l->n = 0;
}

static void tree_list_clear(tree_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		git_tree_free(l->v[i]);
	l->n = 0;
}

/* A tree by id: from the trees kept from the previous commit when there,
 * else read and kept for the next commit.  Not to be freed. */
static git_tree *tree_get(walk_state *w, const git_oid *id)
{
	git_tree *t;
	size_t i;

	for (i = 0; i < w->prev.n; i++)
		if (git_oid_equal(git_tree_id(w->prev.v[i]), id))
			return w->prev.v[i];
	for (i = 0; i < w->cur.n; i++)
		if (git_oid_equal(git_tree_id(w->cur.v[i]), id))
			return w->cur.v[i];
	if (git_tree_lookup(&t, w->repo, id) < 0)
		return NULL;
	if (w->cur.n == w->cur.a) {
		w->cur.a = w->cur.a ? 2 * w->cur.a : 8;
		w->cur.v = kb_xrealloc(w->cur.v, w->cur.a * sizeof(*w->cur.v));
	}
	w->cur.v[w->cur.n++] = t;
	return t;
}

static void put_event(walk_state *w, int added, int edited, int validated, const char *path,
		      const char *old)
{
	if (!added && !edited && !validated && !old)
		return;
	kb_buf_printf(w->out, "%s%s%s%s\t%lld\t%s\t%s\t%s", added ? "A" : "", old ? "R" : "",
		      edited ? "E" : "", validated ? "V" : "", (long long)w->time, w->name,
		      w->email, path);
	if (old)
		kb_buf_printf(w->out, "\t%s", old);
	kb_buf_putc(w->out, '\n');
}

static int is_case_path(const char *p)
{
	size_t n = strlen(p);

	return n > 3 && !strcmp(p + n - 3, ".md") && !strchr(p, '\t') && !strchr(p, '\n');
}

/* A case file changed in place: sections changed when the text below the
 * front matter differs; a review when the status line changed to one
 * saying "validated". */
static int changed_file(walk_state *w, const git_oid *old, const git_oid *new, const char *path,
			const char *renamed_from)
{
	blob_info o, n;
	const blob_info *p;

	if (!(p = blob_get(w, old)))
		return -1;
	o = *p;
	if (!(p = blob_get(w, new)))
		return -1;
	n = *p;
	put_event(w, 0, o.body != n.body || o.body_len != n.body_len,
		  n.validated && n.status != o.status, path, renamed_from);
	return 0;
}

/* Git's tree order: names compared as if directories ended in '/'. */
static int entry_cmp(const git_tree_entry *a, const git_tree_entry *b)
{
	const char *x = git_tree_entry_name(a), *y = git_tree_entry_name(b);
	size_t lx = strlen(x), ly = strlen(y), n = lx < ly ? lx : ly;
	int c = memcmp(x, y, n);
	unsigned char cx, cy;

	if (c)
		return c;
	cx = lx > n ? (unsigned char)x[n] : git_tree_entry_type(a) == GIT_OBJECT_TREE ? '/' : 0;
	cy = ly > n ? (unsigned char)y[n] : git_tree_entry_type(b) == GIT_OBJECT_TREE ? '/' : 0;
	return (int)cx - (int)cy;
}

static int diff_trees(walk_state *w, const git_oid *old, const git_oid *new, kb_buf *prefix);

/* A pair of entries at the same name (eo or en may be NULL): changed case
 * files are compared now, added and deleted ones listed for rename
 * detection at the end of the commit. */
static int diff_entry(walk_state *w, const git_tree_entry *eo, const git_tree_entry *en,
		      kb_buf *prefix)
{
	size_t len = prefix->len;
	int rc = 0, otree, ntree;
	const git_tree_entry *e = en ? en : eo;

	if (eo && en && git_oid_equal(git_tree_entry_id(eo), git_tree_entry_id(en)))
		return 0;
	otree = eo && git_tree_entry_type(eo) == GIT_OBJECT_TREE;
	ntree = en && git_tree_entry_type(en) == GIT_OBJECT_TREE;
	if (eo && en && otree != ntree) {   /* a file became a directory or back */
		if ((rc = diff_entry(w, eo, NULL, prefix)) < 0)
			return rc;
		eo = NULL;
		otree = 0;
	}
	kb_buf_puts(prefix, git_tree_entry_name(e));
	if (otree || ntree) {
		kb_buf_putc(prefix, '/');
		rc = diff_trees(w, otree ? git_tree_entry_id(eo) : NULL,
				ntree ? git_tree_entry_id(en) : NULL, prefix);
	} else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB && is_case_path(prefix->ptr)) {
		if (eo && en)
			rc = changed_file(w, git_tree_entry_id(eo), git_tree_entry_id(en), prefix->ptr,
					  NULL);
		else
			path_list_add(en ? &w->born : &w->gone, prefix->ptr, git_tree_entry_id(e));
	}
	kb_buf_truncate(prefix, len);
	return rc;
}

/*
 * Walk two trees side by side (both sorted in git's order; either may be
 * NULL) and compare the blobs that differ.  Much cheaper than
 * git_diff_tree_to_tree() here: the walk compares ids only and builds no
 * iterator or delta list.
 */
static int diff_trees(walk_state *w, const git_oid *old, const git_oid *new, kb_buf *prefix)
{
	git_tree *to = NULL, *tn = NULL;
	size_t i = 0, j = 0, no, nn;
	const git_tree_entry *eo, *en;
	int rc = 0, c;

	if ((old && !(to = tree_get(w, old))) || (new && !(tn = tree_get(w, new))))
		return -1;
	no = to ? git_tree_entrycount(to) : 0;
	nn = tn ? git_tree_entrycount(tn) : 0;
	while (rc == 0 && (i < no || j < nn)) {
		eo = i < no ? git_tree_entry_byindex(to, i) : NULL;
		en = j < nn ? git_tree_entry_byindex(tn, j) : NULL;
		c = !eo ? 1 : !en ? -1 : entry_cmp(eo, en);
		if (c < 0)
			rc = diff_entry(w, eo, NULL, prefix), i++;
		else if (c > 0)
			rc = diff_entry(w, NULL, en, prefix), j++;
		else
			rc = diff_entry(w, eo, en, prefix), i++, j++;
	}
	return rc;
}

/* Whether the blobs look like one case renamed: the same blob, the same
 * sections, or the same non-empty id. */
static int same_case(const blob_info *a, const blob_info *b)
{
	return git_oid_equal(&a->id, &b->id) ||
	       (a->body_len && a->body == b->body && a->body_len == b->body_len) ||
	       (a->case_id && a->case_id == b->case_id);
}

/*
 * The files added by a commit: each that matches a file the commit deleted
 * (same_case) is a rename of it, the others are new.  O(added x deleted),
 * which is small for any one commit.
 */
static int finish_commit(walk_state *w)
{
	size_t i, j;
	blob_info nb;
	const blob_info *p;

	for (i = 0; i < w->born.n; i++) {
		if (!(p = blob_get(w, &w->born.v[i].id)))
			return -1;
		nb = *p;
		for (j = 0; j < w->gone.n; j++) {
			if (!w->gone.v[j].path)
				continue;
			if (!(p = blob_get(w, &w->gone.v[j].id)))
				return -1;
			if (same_case(p, &nb))
				break;
		}
		if (j < w->gone.n) {
			if (changed_file(w, &w->gone.v[j].id, &nb.id, w->born.v[i].path,
					 w->gone.v[j].path) < 0)
				return -1;
			free(w->gone.v[j].path);
			w->gone.v[j].path = NULL;
		} else {
			put_event(w, 1, nb.body_len > 0, nb.validated, w->born.v[i].path, NULL);
		}
	}
	return 0;
}

/* Id of the cases/ tree in the tree `root` (NULL: none); 0 when there is
 * none, -1 when the tree cannot be read. */
static int cases_tree(git_oid *out, walk_state *w, const git_oid *root)
{
	git_tree *t;
	const git_tree_entry *e;

	if (!root)
		return 0;
	if (!(t = tree_get(w, root)))
		return -1;
	e = git_tree_entry_byname(t, KB_CASES_DIR);
	if (!e || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return 0;
	git_oid_cpy(out, git_tree_entry_id(e));
	return 1;
}

/* A copy of s with tabs and line breaks blanked (they separate fields). */
static char *field_copy(const char *s)
{
	char *t = kb_xstrdup(s ? s : ""), *p;

	for (p = t; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
	return t;
}

/* The tree of the first parent of `c` into *out: the tree of the commit
 * walked last when that is the parent (a linear history), else read.
 * 0 when c has no parent, 1 found, -1 missing (a shallow clone). */
static int parent_tree(git_oid *out, walk_state *w, const git_commit *c)
{
	git_commit *p = NULL;
	const git_oid *pid;

	if (git_commit_parentcount(c) == 0)
		return 0;
	pid = git_commit_parent_id(c, 0);
	if (w->have_last && git_oid_equal(pid, &w->last)) {
		git_oid_cpy(out, &w->last_tree);
		return 1;
	}
	if (git_commit_lookup(&p, w->repo, pid) < 0)
		return -1;
	git_oid_cpy(out, git_commit_tree_id(p));
	git_commit_free(p);
	return 1;
}

/* Diff one commit against its first parent (merges are skipped: their
 * changes are attributed to the commits that made them). */
static int walk_commit(walk_state *w, const git_oid *id, int *incomplete)
{
	git_commit *c = NULL;
	kb_buf prefix = KB_BUF_INIT;
	git_oid oid, nid, ptree;
	const git_signature *sig;
	int rc = 0, has_old = 0, has_new, hp;
	tree_list tl;

	if (git_commit_lookup(&c, w->repo, id) < 0) {
		*incomplete = 1;
		goto done;
	}
	if (git_commit_parentcount(c) > 1)
		goto done;
	if ((hp = parent_tree(&ptree, w, c)) < 0)
		*incomplete = 1;
	sig = git_commit_author(c);
	w->name = field_copy(sig->name);
	w->email = field_copy(sig->email);
	w->time = sig->when.time;
	w->walked++;
	has_new = cases_tree(&nid, w, git_commit_tree_id(c));
	if (hp > 0)
		has_old = cases_tree(&oid, w, &ptree);
	if (has_new < 0 || has_old < 0) {
		*incomplete = 1;
		has_new = has_new > 0 ? has_new : 0;
		has_old = has_old > 0 ? has_old : 0;
	}
	if (has_new || has_old) {
		kb_buf_puts(&prefix, KB_CASES_DIR "/");
		if ((!has_old || !has_new || !git_oid_equal(&oid, &nid)) &&
		    (diff_trees(w, has_old ? &oid : NULL, has_new ? &nid : NULL, &prefix) < 0 ||
		     finish_commit(w) < 0)) {
			rc = kb_error_set(KB_ERROR, NULL, 0, "cannot diff commit: %s",
					  kb__git_msg("unknown error"));
			goto done;
		}
	}
	git_oid_cpy(&w->last, id);
	git_oid_cpy(&w->last_tree, git_commit_tree_id(c));
	w->have_last = 1;
done:
	/* the trees read now are the old side of the next commit */
	tree_list_clear(&w->prev);
	tl = w->prev;
	w->prev = w->cur;
	w->cur = tl;
	path_list_clear(&w->born);
	path_list_clear(&w->gone);
	kb_buf_release(&prefix);
	free(w->name);
	free(w->email);
	w->name = w->email = NULL;
	git_error_clear();
	git_commit_free(c);
	return rc;
}

/*
 * The commits to walk are listed first (one revwalk, oldest first) and then
 * diffed in up to two contiguous parts on two threads: what a commit adds
 * to the event lines depends only on the commit and its first parent, so
 * the parts' lines concatenated are the lines of one walk.  Each part opens
 * the repository again (libgit2 objects are not shared between threads)
 * and keeps its own blob and tree tables.
 */
#define WALK_PART_MIN 32     /* fewer commits than twice this: one thread */

typedef struct {
	const char *gitpath;      /* repository to open; NULL: use repo */
	git_repository *repo;
	const git_oid *ids;
	size_t n;
	kb_buf out;               /* the part's event lines */
	size_t walked;
	int incomplete;
	int rc;
	char *err;                /* message of a failure (rc < 0), owned */
} walk_part;

static void walk_release(walk_state *w);

static void *walk_part_run(void *arg)
{
	walk_part *p = arg;
	git_repository *own = NULL;
	walk_state w;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.out = &p->out;
	w.repo = p->repo;
	if (p->gitpath) {
		if (git_repository_open(&own, p->gitpath) < 0) {
			p->rc = kb_error_set(KB_ERROR, NULL, 0, "cannot open the repository: %s",
					     kb__git_msg("unknown error"));
			goto done;
		}
		w.repo = own;
	}
	for (i = 0; i < p->n && p->rc == 0; i++)
		p->rc = walk_commit(&w, &p->ids[i], &p->incomplete);
	p->walked = w.walked;
done:
	if (p->rc < 0)
		p->err = kb_xstrdup(kb_error_last()->message);
	walk_release(&w);
	git_repository_free(own);
	git_error_clear();
	return NULL;
}

/* HEAD's commits not reachable from `since` (NULL: all), oldest first,
 * into *ids (caller frees); *incomplete set when the walk stopped early. */
static size_t list_commits(git_oid **ids, git_repository *repo, const git_oid *head,
			   const git_oid *since, int *incomplete)
{
	git_revwalk *rw = NULL;
	git_oid id;
	size_t n = 0, a = 0;
	int err = GIT_ITEROVER;

	*ids = NULL;
	if (git_revwalk_new(&rw, repo) < 0 ||
	    git_revwalk_sorting(rw, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(rw, head) < 0 || (since && git_revwalk_hide(rw, since) < 0)) {
		*incomplete = 1;
		goto done;
	}
	while ((err = git_revwalk_next(&id, rw)) == 0) {
		if (n == a) {
			a = a ? 2 * a : 1024;
			*ids = kb_xrealloc(*ids, a * sizeof(**ids));
		}
		git_oid_cpy(&(*ids)[n++], &id);
	}
	if (err != GIT_ITEROVER)
		*incomplete = 1;
done:
	git_error_clear();
	git_revwalk_free(rw);
	return n;
}

/* Walk HEAD's commits not reachable from `since` (NULL: all), oldest first,
 * appending their event lines to `out`; the second half of a long list on a
 * thread of its own (run here when the thread cannot be started). */
static int walk_commits(kb_buf *out, size_t *walked, git_repository *repo, const char *gitpath,
			const git_oid *head, const git_oid *since, int *incomplete)
{
	walk_part part[2];
	git_oid *ids = NULL;
	size_t n = list_commits(&ids, repo, head, since, incomplete), half, i;
	pthread_t th;
	int threaded = 0, rc = 0;

	memset(part, 0, sizeof(part));
	half = n >= 2 * WALK_PART_MIN && gitpath ? n / 2 : n;
	part[0].repo = repo;
	part[0].ids = ids;
	part[0].n = half;
	part[1].gitpath = gitpath;
	part[1].ids = ids + half;
	part[1].n = n - half;
	if (part[1].n)
		threaded = pthread_create(&th, NULL, walk_part_run, &part[1]) == 0;
	walk_part_run(&part[0]);
	if (threaded)
		pthread_join(th, NULL);
	else if (part[1].n && part[0].rc == 0)
		walk_part_run(&part[1]);
	for (i = 0; i < 2; i++) {
		if (rc == 0 && part[i].rc < 0)
			rc = kb_error_set(KB_ERROR, NULL, 0, "%s", part[i].err);
		kb_buf_put(out, part[i].out.ptr ? part[i].out.ptr : "", part[i].out.len);
		*walked += part[i].walked;
		*incomplete |= part[i].incomplete;
		kb_buf_release(&part[i].out);
		free(part[i].err);
	}
	free(ids);
	return rc;
}

/* Load the cache into `events` when it reflects an ancestor of (or is)
 * HEAD; *since is that commit.  0 when there is no usable cache. */
static int load_cache(kb_buf *events, git_oid *since, git_repository *repo, const char *path,
		      const git_oid *head)
{
	FILE *f = fopen(path, "rb");
	char buf[65536], *nl;
	size_t n;

	kb_buf_clear(events);
	if (!f)
		return 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		kb_buf_put(events, buf, n);
	fclose(f);
	nl = strchr(events->ptr, '\n');
	if (!nl || strncmp(events->ptr, CACHE_MAGIC, strlen(CACHE_MAGIC)) ||
	    nl - events->ptr != (long)strlen(CACHE_MAGIC) + 40 ||
	    git_oid_fromstrn(since, events->ptr + strlen(CACHE_MAGIC), 40) < 0 ||
	    (git_oid_cmp(since, head) && git_graph_descendant_of(repo, head, since) != 1)) {
		git_error_clear();
		kb_buf_clear(events);
		return 0;
	}
	memmove(events->ptr, nl + 1, events->len - (size_t)(nl + 1 - events->ptr) + 1);
	events->len -= (size_t)(nl + 1 - events->ptr);
	return 1;
}

/* Write the cache through a temporary file; a failure only costs speed. */
static void save_cache(const char *path, const git_oid *head, const kb_buf *events)
{
	kb_buf tmp = KB_BUF_INIT;
	char oid[41];
	FILE *f;
	int ok;

	git_oid_tostr(oid, sizeof(oid), head);
	kb_buf_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
	if (!(f = fopen(tmp.ptr, "wb")))
		goto done;
	ok = fprintf(f, "%s%s\n", CACHE_MAGIC, oid) > 0 &&
	     fwrite(events->ptr, 1, events->len, f) == events->len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp.ptr, path) < 0)
		remove(tmp.ptr);
done:
	kb_buf_release(&tmp);
}

static void add_event(kb__acase *k, size_t person, int64_t time, int kind)
{
	if (k->nev == k->aev) {
		k->aev = k->aev ? 2 * k->aev : 4;
		k->ev = kb_xrealloc(k->ev, k->aev * sizeof(*k->ev));
	}
	k->ev[k->nev].person = person;
	k->ev[k->nev].time = time;
	k->ev[k->nev].kind = kind;
	k->nev++;
}

/* One event line split in place: flags, time, name, email, path, and the
 * old path of a rename (NULL otherwise); `final` is where the file is at
 * HEAD, following the renames made after this event. */
typedef struct {
	char *f[6];
	const char *final;
} ev_line;

/* Split the lines of `events` (modified in place); malformed lines are
 * dropped. */
static ev_line *split_events(kb_buf *events, size_t *count)
{
	ev_line *v = NULL;
	size_t n = 0, a = 0, i;
	char *line = events->ptr, *nl, *p;

	while (line && (nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		if (n == a) {
			a = a ? 2 * a : 1024;
			v = kb_xrealloc(v, a * sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		for (i = 0, p = line; i < 6 && p; i++) {
			v[n].f[i] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (i >= 5 && (strchr(v[n].f[0], 'R') != NULL) == (i == 6)) {
			v[n].final = v[n].f[4];
			n++;
		}
		line = nl + 1;
	}
	*count = n;
	return v;
}

/* Follow renames: walking back from the newest event, a rename maps its
 * old path to wherever the new path ends up, for the events before it. */
static void resolve_renames(ev_line *v, size_t n)
{
	kb__smap fwd = { 0 };
	size_t i, j;

	for (i = n; i-- > 0;) {
		if (kb__smap_get(&fwd, v[i].f[4], &j))
			v[i].final = v[j].final;
		if (v[i].f[5])
			kb__smap_put(&fwd, v[i].f[5], i);
	}
	kb__smap_release(&fwd);
}

/* Person of a raw name and email, memoised in `seen` ("name\temail"). */
static size_t event_person(kb_audit *a, kb__smap *seen, kb_buf *key, const char *name,
			   const char *email)
{
	size_t idx;

	kb_buf_clear(key);
	kb_buf_printf(key, "%s\t%s", name, email);
	if (kb__smap_get(seen, key->ptr, &idx))
		return idx;
	idx = kb__audit_person(a, name, email);
	kb__smap_put(seen, key->ptr, idx);
	return idx;
}

/* Apply the event lines, oldest first, to the cases present now. */
static void apply_events(kb_audit *a, kb_buf *events)
{
	kb__smap seen = { 0 };
	kb_buf key = KB_BUF_INIT;
	size_t n, i, idx, person;
	ev_line *v = split_events(events, &n);
	kb__acase *k;
	int64_t t;

	resolve_renames(v, n);
	for (i = 0; i < n; i++) {
		if (!kb__smap_get(&a->by_path, v[i].final, &idx))
			continue;
		k = &a->cases[idx];
		t = (int64_t)strtoll(v[i].f[1], NULL, 10);
		person = event_person(a, &seen, &key, v[i].f[2], v[i].f[3]);
		if (strchr(v[i].f[0], 'A') && k->git_creator < 0) {
			k->git_creator = (long)person;
			k->git_created = t;
			continue;
		}
		if (strchr(v[i].f[0], 'E'))
			add_event(k, person, t, KB__EV_EDIT);
		if (strchr(v[i].f[0], 'V'))
			add_event(k, person, t, KB__EV_REVIEW);
	}
	free(v);
	kb_buf_release(&key);
	kb__smap_release(&seen);
}

static void walk_release(walk_state *w)
{
	path_list_clear(&w->born);
	path_list_clear(&w->gone);
	free(w->born.v);
	free(w->gone.v);
	tree_list_clear(&w->prev);
	tree_list_clear(&w->cur);
	free(w->prev.v);
	free(w->cur.v);
	free(w->blobs.v);
}

/*
 * The history part of kb_audit_open(): the cache read, the commits since it
 * walked, the cache written.  It runs on a thread of its own while the
 * cases are loaded, and shares nothing with that: it opens the repository
 * again and only fills the fields below, read after the join.
 */
typedef struct {
	char *gitpath;       /* git_repository_path() of the store */
	char *cachefile;     /* <cachedir>audit-history, NULL: no cache */
	kb_buf events;       /* every event line of HEAD's history */
	size_t walked;
	int incomplete;
	int rc;              /* < 0: failed, with err */
	char *err;
} history_job;

static int history_run(history_job *j)
{
	git_repository *repo = NULL;
	git_oid head, since;
	int rc = 0, cached = 0;

	if (git_repository_open(&repo, j->gitpath) < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot open the repository: %s",
				    kb__git_msg("unknown error"));
	if (git_reference_name_to_id(&head, repo, "HEAD") < 0)
		goto done;   /* unborn HEAD: no history */
	if (j->cachefile)
		cached = load_cache(&j->events, &since, repo, j->cachefile, &head);
	/*
	 * libgit2's object cache would keep every commit and small tree of the
	 * walk (hundreds of MB at 300,000 commits, and seconds to free), and
	 * its hash check of every object read costs ~10% of the walk (git
	 * itself does not check on read): both off for the walk, which keeps
	 * the few trees it needs itself, and back to libgit2's defaults after.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	if (!cached || git_oid_cmp(&since, &head))
		rc = walk_commits(&j->events, &j->walked, repo, j->gitpath, &head,
				  cached ? &since : NULL, &j->incomplete);
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 1);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	if (rc == 0 && !j->incomplete && j->cachefile && j->walked)
		save_cache(j->cachefile, &head, &j->events);
done:
	git_error_clear();
	git_repository_free(repo);
	return rc;
}

static void *history_thread(void *arg)
{
	history_job *j = arg;

	if ((j->rc = history_run(j)) < 0)
		j->err = kb_xstrdup(kb_error_last()->message);
	return NULL;
}

/* Fill `j` for the store (the cache file only when the cache directory can
 * be made). */
static void history_init(history_job *j, kb_store *s)
{
	kb_buf cache = KB_BUF_INIT;

	memset(j, 0, sizeof(*j));
	j->gitpath = kb_xstrdup(git_repository_path(s->repo));
	if (kb_store_cachedir(&cache, s) == 0) {
		kb_buf_puts(&cache, CACHE_FILE);
		j->cachefile = kb_xstrdup(cache.ptr);
	}
	kb_error_clear();
	kb_buf_release(&cache);
}

static void history_release(history_job *j)
{
	free(j->gitpath);
	free(j->cachefile);
	free(j->err);
	kb_buf_release(&j->events);
}

/* Take the walk's results into the audit (cases loaded). */
static int history_apply(kb_audit *a, history_job *j)
{
	if (j->rc < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "%s", j->err);
	a->walked = j->walked;
	if (j->incomplete)
		kb_diags_add(&a->warnings, KB_DIAG_WARNING, NULL, 0,
			     "history is incomplete (shallow clone or missing objects): "
			     "authorship may be partial");
	apply_events(a, &j->events);
	return 0;
}

/* Authors of each case: creator plus substantive editors, distinct. */
static void collect_authors(kb_audit *a)
{
	size_t i, j, m;
	long cr;
	kb__acase *k;

	for (i = 0; i < a->ncases; i++) {
		k = &a->cases[i];
		k->who = kb_xmalloc((k->nev + 1) * sizeof(*k->who));
		if ((cr = kb__audit_creator(k)) >= 0)
			k->who[k->nwho++] = (size_t)cr;
		for (j = 0; j < k->nev; j++) {
			if (k->ev[j].kind != KB__EV_EDIT)
				continue;
			for (m = 0; m < k->nwho && k->who[m] != k->ev[j].person; m++)
				;
			if (m == k->nwho)
				k->who[k->nwho++] = k->ev[j].person;
		}
	}
}

int kb_audit_open(kb_audit **out, kb_store *s, const kb_audit_options *opts)
{
	kb_audit_options dflt = KB_AUDIT_OPTIONS_INIT;
	kb_audit *a;
	history_job job;
	pthread_t th;
	int rc, threaded;

	*out = NULL;
	if (opts && opts->version != KB_AUDIT_OPTIONS_VERSION)
		return kb_error_set(KB_EINPUT, NULL, 0, "unsupported audit options version %u",
				    opts->version);
	a = kb_xcalloc(1, sizeof(*a));
	a->store = s;
	a->opts = opts ? *opts : dflt;
	if (!a->opts.now)
		a->opts.now = (int64_t)time(NULL);
	if (git_mailmap_from_repository(&a->mailmap, s->repo) < 0) {
		kb_diags_add(&a->warnings, KB_DIAG_WARNING, ".mailmap", 0, "cannot read: %s",
			     kb__git_msg("unknown error"));
		a->mailmap = NULL;
		git_error_clear();
	}
	/* the history is walked on a thread of its own while the cases load */
	history_init(&job, s);
	threaded = pthread_create(&th, NULL, history_thread, &job) == 0;
	rc = kb__audit_load_cases(a);
	if (threaded)
		pthread_join(th, NULL);
	else if (rc == 0)
		history_thread(&job);
	if (rc < 0 || (rc = history_apply(a, &job)) < 0)
		goto done;
	collect_authors(a);
	*out = a;
	a = NULL;
done:
	history_release(&job);
	kb_audit_free(a);
	return rc;
}

void kb_audit_free(kb_audit *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->ncases; i++) {
		free(a->cases[i].s.mem);
		free((void *)a->cases[i].s.v);
		free(a->cases[i].path);
		free(a->cases[i].ev);
		free(a->cases[i].who);
	}
	for (i = 0; i < a->npeople; i++) {
		free(a->people[i].name);
		free(a->people[i].email);
	}
	free(a->cases);
	free(a->people);
	kb__smap_release(&a->by_path);
	kb__smap_release(&a->by_id);
	kb__smap_release(&a->by_person);
	git_mailmap_free(a->mailmap);
	kb_diags_release(&a->warnings);
	free(a);
}

const kb_diags *kb_audit_warnings(const kb_audit *a)
{
	return &a->warnings;
}

size_t kb_audit_case_count(const kb_audit *a)
{
	return a->ncases;
}

size_t kb_audit_commits_walked(const kb_audit *a)
{
	return a->walked;
}

size_t kb_audit_cases_parsed(const kb_audit *a)
{
	return a->parsed;
}
