/*
 * audit.c - loading for kb/audit.h: every case of the work tree parsed
 * once, then one walk of HEAD's history (git_revwalk, each commit diffed
 * against its first parent under cases/) attributing creations,
 * substantive edits and reviews to people normalised through .mailmap.
 */
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
	size_t i;

	if (!m->cap)
		return 0;
	for (i = hash_str(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (!strcmp(m->keys[i], key)) {
			*val = m->vals[i];
			return 1;
		}
	}
	return 0;
}

static void smap_grow(kb__smap *m)
{
	kb__smap n = { NULL, NULL, m->cap ? 2 * m->cap : 64, 0 };
	size_t i, j;

	n.keys = kb_xcalloc(n.cap, sizeof(*n.keys));
	n.vals = kb_xcalloc(n.cap, sizeof(*n.vals));
	for (i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		for (j = hash_str(m->keys[i]) & (n.cap - 1); n.keys[j]; j = (j + 1) & (n.cap - 1))
			;
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
		n.n++;
	}
	free(m->keys);
	free(m->vals);
	*m = n;
}

/* Insert or replace. */
void kb__smap_put(kb__smap *m, const char *key, size_t val)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap)
		smap_grow(m);
	for (i = hash_str(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (!strcmp(m->keys[i], key)) {
			m->vals[i] = val;
			return;
		}
	}
	m->keys[i] = kb_xstrdup(key);
	m->vals[i] = val;
	m->n++;
}

void kb__smap_release(kb__smap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- small helpers ---------------------------------------------------- */

char *kb__audit_fold(const char *s)
{
	utf8proc_uint8_t *out = NULL;
	const char *end;
	char *t;

	s = s ? s : "";
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	t = kb_xstrndup(s, (size_t)(end - s));
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
	if (kb__audit_date(kb_case_get(k->c, "created"), &t) == 0 && t <= a->opts.now)
		return t;
	if (k->git_creator >= 0)
		return k->git_created;
	*known = 0;
	return 0;
}

/* ---- loading cases ---------------------------------------------------- */

static void add_case(kb_audit *a, kb_case *c, const char *relpath)
{
	kb__acase *k;
	kb_author au;
	size_t dummy;

	if (a->ncases == a->acases) {
		a->acases = a->acases ? 2 * a->acases : 64;
		a->cases = kb_xrealloc(a->cases, a->acases * sizeof(*a->cases));
	}
	k = &a->cases[a->ncases];
	memset(k, 0, sizeof(*k));
	k->c = c;
	k->path = kb_xstrdup(relpath);
	k->fm_author = -1;
	k->git_creator = -1;
	if (kb_case_get(c, "author") && kb_author_parse(&au, kb_case_get(c, "author")) == 0) {
		k->fm_author = (long)kb__audit_person(a, au.name, au.email);
		kb_author_release(&au);
	}
	kb__smap_put(&a->by_path, relpath, a->ncases);
	if (*kb_case_id(c) && kb__smap_get(&a->by_id, kb_case_id(c), &dummy))
		kb_diags_add(&a->warnings, KB_DIAG_WARNING, relpath, 0, "duplicate id '%s'",
			     kb_case_id(c));
	else if (*kb_case_id(c))
		kb__smap_put(&a->by_id, kb_case_id(c), a->ncases);
	a->ncases++;
}

static int load_file(const char *relpath, const char *text, size_t len, void *payload)
{
	kb_audit *a = payload;
	const kb_error *e;
	kb_case *c = NULL;

	if (kb_case_parse(&c, text, len, relpath, kb_config_aliases(kb_store_config(a->store))) < 0) {
		e = kb_error_last();
		kb_diags_add(&a->warnings, KB_DIAG_WARNING, e->path ? e->path : relpath, e->line,
			     "%s", e->message);
		return 0;
	}
	add_case(a, c, relpath);
	return 0;
}

/* ---- the history walk ------------------------------------------------- */

/*
 * The walk turns each commit into event lines, one per case file it touched
 * in a way that matters: "<flags>\t<time>\t<name>\t<email>\t<path>\n" with
 * flags A (added), E (sections changed), V (status set to validated).  The
 * lines are cached in <cachedir>audit-history (first line: the format and
 * the commit they reflect), so a later run walks only the new commits.
 */
#define CACHE_FILE "audit-history"
#define CACHE_MAGIC "kb-audit-history 1 "

typedef struct {
	git_repository *repo;
	kb_buf *out;         /* event lines */
	char *name, *email;  /* current commit's author, tabs and newlines blanked */
	int64_t time;
	char *path;          /* current file, NULL when none */
	int added;
	size_t body_lines;   /* changed lines below the front matter */
	int set_validated;   /* a front-matter line "status: validated" was added */
	int fm_old, fm_new;  /* line of the closing "---" in each side, 0 none */
	size_t walked;       /* commits diffed */
} walk_state;

/* Line number of the front matter's closing "---" in a blob, 0 when the
 * blob has no front matter (then every line is body) or is NULL. */
static int fm_end(const git_blob *b)
{
	const char *p, *end, *nl;
	int line = 1;

	if (!b)
		return 0;
	p = git_blob_rawcontent(b);
	end = p + git_blob_rawsize(b);
	if (end - p < 3 || memcmp(p, "---", 3))
		return 0;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = nl + 1;
		line++;
		if (end - p >= 3 && !memcmp(p, "---", 3) &&
		    (end - p == 3 || p[3] == '\n' || p[3] == '\r'))
			return line;
	}
	return 0;
}

/* Append the event line of the current file, if it had an event. */
static void finish_file(walk_state *w)
{
	if (!w->path)
		return;
	if (w->added || w->body_lines || w->set_validated)
		kb_buf_printf(w->out, "%s%s%s\t%lld\t%s\t%s\t%s\n", w->added ? "A" : "",
			      w->body_lines ? "E" : "", w->set_validated ? "V" : "",
			      (long long)w->time, w->name, w->email, w->path);
	free(w->path);
	w->path = NULL;
}

static int is_case_path(const char *p)
{
	size_t n = strlen(p);

	return n > 3 && !strcmp(p + n - 3, ".md") && !strchr(p, '\t') && !strchr(p, '\n');
}

static int line_cb(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l,
		   void *payload)
{
	walk_state *w = payload;
	static const char key[] = "status:";

	(void)d;
	(void)h;
	if (!w->path)
		return 0;
	if (l->origin == GIT_DIFF_LINE_ADDITION) {
		if (l->new_lineno > w->fm_new)
			w->body_lines++;
		else if (l->content_len > sizeof(key) &&
			 !memcmp(l->content, key, sizeof(key) - 1) &&
			 memmem(l->content, l->content_len, "validated", 9))
			w->set_validated = 1;
	} else if (l->origin == GIT_DIFF_LINE_DELETION && l->old_lineno > w->fm_old) {
		w->body_lines++;
	}
	return 0;
}

/* One changed case file: diff the blobs line by line (old may be NULL). */
static int diff_file(walk_state *w, const git_tree_entry *eo, const git_tree_entry *en,
		     const char *path)
{
	git_blob *ob = NULL, *nb = NULL;
	int rc = 0;

	if (!is_case_path(path))
		return 0;
	if ((eo && git_blob_lookup(&ob, w->repo, git_tree_entry_id(eo)) < 0) ||
	    git_blob_lookup(&nb, w->repo, git_tree_entry_id(en)) < 0) {
		rc = -1;
		goto done;
	}
	w->path = kb_xstrdup(path);
	w->added = eo == NULL;
	w->body_lines = 0;
	w->set_validated = 0;
	w->fm_old = fm_end(ob);
	w->fm_new = fm_end(nb);
	if (git_diff_blobs(ob, path, nb, path, NULL, NULL, NULL, NULL, line_cb, w) < 0)
		rc = -1;
	finish_file(w);
done:
	git_blob_free(ob);
	git_blob_free(nb);
	return rc;
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

/* A pair of entries at the same name (eo or en may be NULL). */
static int diff_entry(walk_state *w, const git_tree_entry *eo, const git_tree_entry *en,
		      kb_buf *prefix)
{
	size_t len = prefix->len;
	int rc = 0, otree, ntree;

	if (!en || (eo && git_oid_equal(git_tree_entry_id(eo), git_tree_entry_id(en))))
		return 0;   /* deleted or unchanged: no event */
	otree = eo && git_tree_entry_type(eo) == GIT_OBJECT_TREE;
	ntree = git_tree_entry_type(en) == GIT_OBJECT_TREE;
	if (eo && otree != ntree)
		eo = NULL;
	kb_buf_puts(prefix, git_tree_entry_name(en));
	if (ntree) {
		kb_buf_putc(prefix, '/');
		rc = diff_trees(w, eo ? git_tree_entry_id(eo) : NULL, git_tree_entry_id(en), prefix);
	} else if (git_tree_entry_type(en) == GIT_OBJECT_BLOB) {
		rc = diff_file(w, eo, en, prefix->ptr);
	}
	kb_buf_truncate(prefix, len);
	return rc;
}

/*
 * Walk two trees side by side (both sorted in git's order) and diff the
 * blobs that differ.  Much cheaper than git_diff_tree_to_tree() here: the
 * walk compares ids only and builds no iterator or delta list.
 */
static int diff_trees(walk_state *w, const git_oid *old, const git_oid *new, kb_buf *prefix)
{
	git_tree *to = NULL, *tn = NULL;
	size_t i = 0, j = 0, no, nn;
	const git_tree_entry *eo, *en;
	int rc = 0, c;

	if ((old && git_tree_lookup(&to, w->repo, old) < 0) || git_tree_lookup(&tn, w->repo, new) < 0) {
		rc = -1;
		goto done;
	}
	no = to ? git_tree_entrycount(to) : 0;
	nn = git_tree_entrycount(tn);
	while (rc == 0 && (i < no || j < nn)) {
		eo = i < no ? git_tree_entry_byindex(to, i) : NULL;
		en = j < nn ? git_tree_entry_byindex(tn, j) : NULL;
		c = !eo ? 1 : !en ? -1 : entry_cmp(eo, en);
		if (c < 0)
			i++;
		else if (c > 0)
			rc = diff_entry(w, NULL, en, prefix), j++;
		else
			rc = diff_entry(w, eo, en, prefix), i++, j++;
	}
done:
	git_tree_free(to);
	git_tree_free(tn);
	return rc;
}

/* Id of the cases/ tree of a commit's tree; 0 when there is none. */
static int cases_tree(git_oid *out, git_tree *t)
{
	const git_tree_entry *e = t ? git_tree_entry_byname(t, KB_CASES_DIR) : NULL;

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

/* Diff one commit against its first parent (merges are skipped: their
 * changes are attributed to the commits that made them). */
static int walk_commit(walk_state *w, const git_oid *id, int *incomplete)
{
	git_commit *c = NULL, *p = NULL;
	git_tree *t = NULL, *pt = NULL;
	kb_buf prefix = KB_BUF_INIT;
	git_oid oid, nid;
	const git_signature *sig;
	int rc = 0, has_old;

	if (git_commit_lookup(&c, w->repo, id) < 0) {
		*incomplete = 1;
		goto done;
	}
	if (git_commit_parentcount(c) > 1)
		goto done;
	if (git_commit_parentcount(c) == 1 &&
	    (git_commit_parent(&p, c, 0) < 0 || git_commit_tree(&pt, p) < 0))
		*incomplete = 1;
	if (git_commit_tree(&t, c) < 0) {
		*incomplete = 1;
		goto done;
	}
	sig = git_commit_author(c);
	w->name = field_copy(sig->name);
	w->email = field_copy(sig->email);
	w->time = sig->when.time;
	w->walked++;
	if (cases_tree(&nid, t)) {
		has_old = cases_tree(&oid, pt);
		kb_buf_puts(&prefix, KB_CASES_DIR "/");
		if ((!has_old || !git_oid_equal(&oid, &nid)) &&
		    diff_trees(w, has_old ? &oid : NULL, &nid, &prefix) < 0) {
			rc = kb_error_set(KB_ERROR, NULL, 0, "cannot diff commit: %s",
					  kb__git_msg("unknown error"));
			goto done;
		}
	}
done:
	kb_buf_release(&prefix);
	free(w->path);
	free(w->name);
	free(w->email);
	w->path = w->name = w->email = NULL;
	git_error_clear();
	git_tree_free(t);
	git_tree_free(pt);
	git_commit_free(p);
	git_commit_free(c);
	return rc;
}

/* Walk HEAD's commits not reachable from `since` (NULL: all), oldest first. */
static int walk_commits(walk_state *w, const git_oid *head, const git_oid *since,
			int *incomplete)
{
	git_revwalk *rw = NULL;
	git_oid id;
	int rc = 0, err = GIT_ITEROVER;

	if (git_revwalk_new(&rw, w->repo) < 0 ||
	    git_revwalk_sorting(rw, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(rw, head) < 0 || (since && git_revwalk_hide(rw, since) < 0)) {
		*incomplete = 1;
		goto done;
	}
	while (rc == 0 && (err = git_revwalk_next(&id, rw)) == 0)
		rc = walk_commit(w, &id, incomplete);
	if (rc == 0 && err != GIT_ITEROVER)
		*incomplete = 1;
done:
	git_error_clear();
	git_revwalk_free(rw);
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

/* Apply one event line to the case at its path (if it exists now). */
static void apply_event(kb_audit *a, char *line)
{
	char *f[5], *p = line;
	size_t i, idx, person;
	kb__acase *k;
	int64_t t;

	for (i = 0; i < 5; i++) {
		f[i] = p;
		p = i < 4 ? strchr(p, '\t') : NULL;
		if (i < 4 && !p)
			return;
		if (p)
			*p++ = '\0';
	}
	if (!kb__smap_get(&a->by_path, f[4], &idx))
		return;
	k = &a->cases[idx];
	t = (int64_t)strtoll(f[1], NULL, 10);
	person = kb__audit_person(a, f[2], f[3]);
	if (strchr(f[0], 'A') && k->git_creator < 0) {
		k->git_creator = (long)person;
		k->git_created = t;
		return;
	}
	if (strchr(f[0], 'E'))
		add_event(k, person, t, KB__EV_EDIT);
	if (strchr(f[0], 'V'))
		add_event(k, person, t, KB__EV_REVIEW);
}

static void apply_events(kb_audit *a, kb_buf *events)
{
	char *line = events->ptr, *nl;

	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		apply_event(a, line);
		*nl = '\n';
		line = nl + 1;
	}
}

static int walk_history(kb_audit *a)
{
	walk_state w;
	kb_buf events = KB_BUF_INIT, cache = KB_BUF_INIT;
	git_oid head, since;
	int rc = 0, incomplete = 0, cached = 0;

	memset(&w, 0, sizeof(w));
	w.repo = a->store->repo;
	w.out = &events;
	if (git_reference_name_to_id(&head, w.repo, "HEAD") < 0)
		goto done;   /* unborn HEAD: no history */
	if (kb_store_cachedir(&cache, a->store) == 0) {
		kb_buf_puts(&cache, CACHE_FILE);
		cached = load_cache(&events, &since, w.repo, cache.ptr, &head);
	} else {
		kb_buf_clear(&cache);
	}
	if (!cached || git_oid_cmp(&since, &head))
		rc = walk_commits(&w, &head, cached ? &since : NULL, &incomplete);
	if (rc < 0)
		goto done;
	a->walked = w.walked;
	if (incomplete)
		kb_diags_add(&a->warnings, KB_DIAG_WARNING, NULL, 0,
			     "history is incomplete (shallow clone or missing objects): "
			     "authorship may be partial");
	else if (cache.len && w.walked)
		save_cache(cache.ptr, &head, &events);
	apply_events(a, &events);
done:
	git_error_clear();
	kb_buf_release(&events);
	kb_buf_release(&cache);
	return rc;
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
	int rc;

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
	if ((rc = kb_store_foreach_case_file(s, load_file, a)) < 0 ||
	    (rc = walk_history(a)) < 0)
		goto done;
	collect_authors(a);
	*out = a;
	a = NULL;
done:
	kb_audit_free(a);
	return rc;
}

void kb_audit_free(kb_audit *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->ncases; i++) {
		kb_case_free(a->cases[i].c);
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
