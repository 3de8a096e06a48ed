/*
 * audit.c - loading for kb/audit.h: every case of the work tree parsed
 * once and, on other threads meanwhile, one walk of HEAD's history (each
 * commit diffed against its first parent under cases/, objects read by
 * audit_odb.c) attributing creations, substantive edits and reviews to
 * people normalised through .mailmap.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
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
	kb__smap n = *m;
	size_t i, j;

	n.cap = m->cap ? 2 * m->cap : 64;
	n.n = 0;
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
	m->keys[i] = m->borrow ? (char *)key : kb_xstrdup(key);
	m->vals[i] = val;
	m->hashes[i] = h;
	m->n++;
}

void kb__smap_release(kb__smap *m)
{
	size_t i;

	for (i = 0; i < m->cap && !m->borrow; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	memset(m, 0, sizeof(*m));
}

/* ---- integer map ------------------------------------------------------ */

static size_t hash_u64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdu;
	k ^= k >> 33;
	return (size_t)k;
}

int kb__imap_get(const kb__imap *m, uint64_t key, size_t *val)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = hash_u64(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key + 1) {
			*val = m->vals[i];
			return 1;
		}
	}
	return 0;
}

void kb__imap_put(kb__imap *m, uint64_t key, size_t val)
{
	size_t i, j;

	if (2 * (m->n + 1) > m->cap) {
		kb__imap n = { NULL, NULL, m->cap ? 2 * m->cap : 64, 0 };

		n.keys = kb_xcalloc(n.cap, sizeof(*n.keys));
		n.vals = kb_xcalloc(n.cap, sizeof(*n.vals));
		for (i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			for (j = hash_u64(m->keys[i] - 1) & (n.cap - 1); n.keys[j];
			     j = (j + 1) & (n.cap - 1))
				;
			n.keys[j] = m->keys[i];
			n.vals[j] = m->vals[i];
			n.n++;
		}
		free(m->keys);
		free(m->vals);
		*m = n;
	}
	for (i = hash_u64(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key + 1) {
			m->vals[i] = val;
			return;
		}
	}
	m->keys[i] = key + 1;
	m->vals[i] = val;
	m->n++;
}

void kb__imap_release(kb__imap *m)
{
	free(m->keys);
	free(m->vals);
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

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil): timegm() without the time-zone work,
 * which cost ~10% of a warm report. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil date of time t (UTC): days_from_civil's inverse. */
static void civil_from_time(int64_t t, int64_t *y, int *m, int *d)
{
	int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int kb__audit_date(const char *s, int64_t *t)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int i, y, m, d, leap;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1)
		return -1;
	leap = m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	if (d > mdays[m - 1] + leap)
		return -1;
	*t = days_from_civil(y, m, d) * 86400;
	return 0;
}

int64_t kb__audit_month(int64_t t)
{
	int64_t y;
	int m, d;

	civil_from_time(t, &y, &m, &d);
	return y * 12 + (m - 1);
}

void kb__audit_month_str(char out[8], int64_t month)
{
	int64_t y = month >= 0 ? month / 12 : (month - 11) / 12;
	int m = (int)(month - y * 12) + 1;

	if (y < 0 || y > 9999) {
		memcpy(out, "0000-00", 8);
		return;
	}
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '\0';
}

int64_t kb__audit_months_before(int64_t now, int months)
{
	int64_t y, mo;
	int m, d;

	/* as timegm() of now's date with tm_mon - months: the day of the
	 * month is kept and overflows into the next month (31 March - 1 ->
	 * 3 March, or 2 in a leap year) */
	civil_from_time(now, &y, &m, &d);
	mo = y * 12 + (m - 1) - months;
	y = mo >= 0 ? mo / 12 : (mo - 11) / 12;
	return (days_from_civil(y, (int)(mo - y * 12) + 1, 1) + d - 1) * 86400;
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

/* The person of a front-matter author value, parsed once per distinct
 * value (-1: none or unparsable). */
static long author_person(kb_audit *a, const char *author)
{
	kb_author au;
	size_t v;

	if (!author)
		return -1;
	if (kb__smap_get(&a->by_author, author, &v))
		return (long)v - 1;
	v = 0;
	if (kb_author_parse(&au, author) == 0) {
		v = kb__audit_person(a, au.name, au.email) + 1;
		kb_author_release(&au);
	}
	kb__smap_put(&a->by_author, author, v);
	return (long)v - 1;
}

void kb__audit_add_case(kb_audit *a, kb__csum *s, const char *relpath)
{
	kb__acase *k;
	const char *id = KB__SUM_ID(s);
	size_t dummy;

	if (a->ncases == a->acases) {
		a->acases = a->acases ? 2 * a->acases : 64;
		a->cases = kb_xrealloc(a->cases, a->acases * sizeof(*a->cases));
	}
	k = &a->cases[a->ncases];
	memset(k, 0, sizeof(*k));
	k->s = *s;
	memset(s, 0, sizeof(*s));
	k->path = kb_arena_strdup(&a->arena, relpath);
	k->fm_author = author_person(a, kb__csum_get(&k->s, "author"));
	k->git_creator = -1;
	kb__smap_put(&a->by_path, k->path, a->ncases);
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

/* A tree object's raw bytes (entries "<mode> <name>\0<20-byte id>"). */
typedef struct {
	git_oid id;
	kb_buf data;
} raw_tree;

/* Trees read for the previous commit: usually its successor's old side.
 * Clearing keeps the buffers for the next commit's trees. */
typedef struct {
	raw_tree *v;
	size_t n, a;
} tree_list;

typedef struct {
	git_repository *repo;
	kb__odb *odb;        /* trees and blobs */
	kb_buf blob;         /* the blob read last */
	kb_buf *out;         /* event lines */
	const char *name, *email;  /* current commit's author, tabs and newlines blanked */
	kb_buf raw;          /* the commit read last */
	kb_buf people;       /* name and email of a commit read here */
	int64_t time;
	blob_table blobs;
	path_list born, gone;
	tree_list prev, cur;
	git_oid last, last_tree;  /* the commit walked last and its tree */
	int have_last;
	size_t walked;       /* commits diffed */
} walk_state;

/* A 64-bit hash of n bytes, eight at a time (only compared within one
 * walk: never stored).  Never 0. */
static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603u ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9E3779B97F4A7C15u;
		h ^= h >> 29;
	}
	for (; n; n--)
		h = (h ^ (unsigned char)*p++) * 1099511628211u;
	h ^= h >> 32;
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
	git_object_t type;
	size_t i;

	if (t->cap) {
		for (i = oid_slot(id, t->cap); t->v[i].used; i = (i + 1) & (t->cap - 1))
			if (git_oid_equal(&t->v[i].id, id))
				return &t->v[i];
	}
	if (kb__odb_read(&w->blob, &type, w->odb, id) < 0 || type != GIT_OBJECT_BLOB)
		return NULL;
	if (2 * (t->n + 1) > t->cap)
		blobs_grow(t);
	for (i = oid_slot(id, t->cap); t->v[i].used; i = (i + 1) & (t->cap - 1))
		;
	git_oid_cpy(&t->v[i].id, id);
	t->v[i].used = 1;
	blob_scan(&t->v[i], w->blob.ptr, w->blob.len);
	t->n++;
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

static void tree_list_release(tree_list *l)
{
	size_t i;

	for (i = 0; i < l->a; i++)
		kb_buf_release(&l->v[i].data);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* A view of a raw tree's bytes. */
typedef struct {
	const char *p;
	size_t len;
} tree_view;

/* A tree by id: from the trees kept from the previous commit when there,
 * else read and kept for the next commit.  The bytes stay valid until the
 * commit after the next one starts; -1 when the tree cannot be read. */
static int tree_get(tree_view *out, walk_state *w, const git_oid *id)
{
	raw_tree *t;
	git_object_t type;
	size_t i;

	for (i = 0; i < w->prev.n; i++)
		if (git_oid_equal(&w->prev.v[i].id, id))
			goto found_prev;
	for (i = 0; i < w->cur.n; i++)
		if (git_oid_equal(&w->cur.v[i].id, id))
			goto found_cur;
	if (w->cur.n == w->cur.a) {
		w->cur.a = w->cur.a ? 2 * w->cur.a : 8;
		w->cur.v = kb_xrealloc(w->cur.v, w->cur.a * sizeof(*w->cur.v));
		for (i = w->cur.n; i < w->cur.a; i++)
			kb_buf_init(&w->cur.v[i].data);
	}
	t = &w->cur.v[w->cur.n];
	if (kb__odb_read(&t->data, &type, w->odb, id) < 0 || type != GIT_OBJECT_TREE)
		return -1;
	git_oid_cpy(&t->id, id);
	i = w->cur.n++;
found_cur:
	out->p = w->cur.v[i].data.ptr;
	out->len = w->cur.v[i].data.len;
	return 0;
found_prev:
	out->p = w->prev.v[i].data.ptr;
	out->len = w->prev.v[i].data.len;
	return 0;
}

/* One entry of a raw tree. */
typedef struct {
	const char *name;
	size_t namelen;
	unsigned mode;
	git_oid id;
} tree_entry;

#define ENTRY_IS_TREE(e) (((e)->mode & 0170000) == 0040000)
/* what libgit2 calls a blob: a file or a symlink, not a submodule */
#define ENTRY_IS_BLOB(e) (!ENTRY_IS_TREE(e) && ((e)->mode & 0170000) != 0160000)

/* The entry at *pos of tree t into *e, advancing *pos: 1, 0 at the end,
 * -1 when the bytes are not a tree. */
static int tree_next(tree_entry *e, const tree_view *t, size_t *pos)
{
	const char *p = t->p + *pos, *end = t->p + t->len, *nul;
	unsigned mode = 0;

	if (p >= end)
		return 0;
	for (; p < end && *p >= '0' && *p <= '7'; p++)
		mode = mode * 8 + (unsigned)(*p - '0');
	if (p >= end || *p != ' ')
		return -1;
	p++;
	if (!(nul = memchr(p, '\0', (size_t)(end - p))) || end - nul < 21 || nul == p)
		return -1;
	e->name = p;
	e->namelen = (size_t)(nul - p);
	e->mode = mode;
	git_oid_fromraw(&e->id, (const unsigned char *)nul + 1);
	*pos = (size_t)(nul + 21 - t->p);
	return 1;
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
static int entry_cmp(const tree_entry *a, const tree_entry *b)
{
	size_t n = a->namelen < b->namelen ? a->namelen : b->namelen;
	int c = memcmp(a->name, b->name, n);
	unsigned char cx, cy;

	if (c)
		return c;
	cx = a->namelen > n ? (unsigned char)a->name[n] : ENTRY_IS_TREE(a) ? '/' : 0;
	cy = b->namelen > n ? (unsigned char)b->name[n] : ENTRY_IS_TREE(b) ? '/' : 0;
	return (int)cx - (int)cy;
}

static int diff_trees(walk_state *w, const git_oid *old, const git_oid *new, kb_buf *prefix);

/* A pair of entries at the same name (eo or en may be NULL): changed case
 * files are compared now, added and deleted ones listed for rename
 * detection at the end of the commit. */
static int diff_entry(walk_state *w, const tree_entry *eo, const tree_entry *en, kb_buf *prefix)
{
	size_t len = prefix->len;
	int rc = 0, otree, ntree;
	const tree_entry *e = en ? en : eo;

	if (eo && en && git_oid_equal(&eo->id, &en->id))
		return 0;
	otree = eo && ENTRY_IS_TREE(eo);
	ntree = en && ENTRY_IS_TREE(en);
	if (eo && en && otree != ntree) {   /* a file became a directory or back */
		if ((rc = diff_entry(w, eo, NULL, prefix)) < 0)
			return rc;
		eo = NULL;
		otree = 0;
	}
	kb_buf_put(prefix, e->name, e->namelen);
	if (otree || ntree) {
		kb_buf_putc(prefix, '/');
		rc = diff_trees(w, otree ? &eo->id : NULL, ntree ? &en->id : NULL, prefix);
	} else if (ENTRY_IS_BLOB(e) && is_case_path(prefix->ptr)) {
		if (eo && en)
			rc = changed_file(w, &eo->id, &en->id, prefix->ptr, NULL);
		else
			path_list_add(en ? &w->born : &w->gone, prefix->ptr, &e->id);
	}
	kb_buf_truncate(prefix, len);
	return rc;
}

/*
 * Walk two trees side by side (both sorted in git's order; either may be
 * NULL) and compare the blobs that differ.  Much cheaper than
 * git_diff_tree_to_tree() here: the walk reads the raw tree bytes,
 * compares ids only and builds no iterator or delta list.
 */
static int diff_trees(walk_state *w, const git_oid *old, const git_oid *new, kb_buf *prefix)
{
	tree_view to = { "", 0 }, tn = { "", 0 };
	tree_entry eo, en;
	size_t i = 0, j = 0;
	int rc = 0, c, ho, hn;

	if ((old && tree_get(&to, w, old) < 0) || (new && tree_get(&tn, w, new) < 0))
		return -1;
	ho = tree_next(&eo, &to, &i);
	hn = tree_next(&en, &tn, &j);
	while (rc == 0 && (ho > 0 || hn > 0)) {
		c = ho <= 0 ? 1 : hn <= 0 ? -1 : entry_cmp(&eo, &en);
		if (c < 0) {
			rc = diff_entry(w, &eo, NULL, prefix);
			ho = tree_next(&eo, &to, &i);
		} else if (c > 0) {
			rc = diff_entry(w, NULL, &en, prefix);
			hn = tree_next(&en, &tn, &j);
		} else {
			rc = diff_entry(w, &eo, &en, prefix);
			ho = tree_next(&eo, &to, &i);
			hn = tree_next(&en, &tn, &j);
		}
	}
	return rc < 0 || ho < 0 || hn < 0 ? -1 : 0;
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
	tree_view t;
	tree_entry e;
	size_t pos = 0;
	int r;

	if (!root)
		return 0;
	if (tree_get(&t, w, root) < 0)
		return -1;
	while ((r = tree_next(&e, &t, &pos)) > 0) {
		if (e.namelen == sizeof(KB_CASES_DIR) - 1 &&
		    !memcmp(e.name, KB_CASES_DIR, e.namelen)) {
			if (!ENTRY_IS_TREE(&e))
				return 0;
			git_oid_cpy(out, &e.id);
			return 1;
		}
	}
	return r < 0 ? -1 : 0;
}

/*
 * What the walk needs of a commit, parsed from its raw text as libgit2
 * parses it (the tree, the parents, the author's name and email trimmed
 * and with tabs and line breaks blanked, the author time); name and email
 * are offsets into an arena of NUL-terminated strings.
 */
typedef struct {
	git_oid id, tree, parent;   /* parent: the first one */
	unsigned nparents;
	int64_t time;
	size_t name, email;
} commit_head;

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Append p..e trimmed, tabs and line breaks blanked, NUL-terminated;
 * its offset. */
static size_t put_trimmed(kb_buf *arena, const char *p, const char *e)
{
	size_t at = arena->len, i;

	while (p < e && is_space(*p))
		p++;
	while (e > p && is_space(e[-1]))
		e--;
	kb_buf_put(arena, p, (size_t)(e - p));
	kb_buf_putc(arena, '\0');
	for (i = at; i < arena->len - 1; i++)
		if (arena->ptr[i] == '\t' || arena->ptr[i] == '\n' || arena->ptr[i] == '\r')
			arena->ptr[i] = ' ';
	return at;
}

static const char *mem_rchr(const char *p, const char *e, char c)
{
	while (e > p)
		if (*--e == c)
			return e;
	return NULL;
}

/* The author line's name, email and time ("author NAME <EMAIL> TIME TZ"),
 * as git_signature__parse() reads it. */
static int parse_author(commit_head *c, kb_buf *arena, const char *p, const char *e)
{
	const char *lt = mem_rchr(p, e, '<'), *gt = mem_rchr(p, e, '>'), *t;
	int64_t v = 0;
	int neg = 0, digits = 0;

	if (!lt || !gt || gt <= lt)
		return -1;
	c->name = put_trimmed(arena, p, lt);
	c->email = put_trimmed(arena, lt + 1, gt);
	c->time = 0;
	if (gt + 2 < e) {
		for (t = gt + 2; t < e && is_space(*t); t++)
			;
		if (t < e && (*t == '-' || *t == '+'))
			neg = *t++ == '-';
		for (; t < e && *t >= '0' && *t <= '9' && digits < 18; t++, digits++)
			v = v * 10 + (*t - '0');
		if (!digits)
			return -1;
		c->time = neg ? -v : v;
	}
	return 0;
}

/* Parse a raw commit into *c (strings appended to `arena`); -1 when it is
 * not one this parser reads (the caller then asks libgit2). */
static int parse_commit(commit_head *c, kb_buf *arena, const char *p, size_t len)
{
	const char *end = p + len, *nl;
	git_oid id;
	int author = 0;

	c->nparents = 0;
	while (p < end && !author) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || nl == p)
			return -1;
		if (!c->nparents && (size_t)(nl - p) == 45 && !memcmp(p, "tree ", 5)) {
			if (git_oid_fromstrn(&c->tree, p + 5, 40) < 0)
				return -1;
		} else if ((size_t)(nl - p) == 47 && !memcmp(p, "parent ", 7)) {
			if (git_oid_fromstrn(&id, p + 7, 40) < 0)
				return -1;
			if (!c->nparents++)
				git_oid_cpy(&c->parent, &id);
		} else if (nl - p > 7 && !memcmp(p, "author ", 7)) {
			if (parse_author(c, arena, p + 7, nl) < 0)
				return -1;
			author = 1;
		} else {
			return -1;
		}
		p = nl + 1;
	}
	git_error_clear();
	return author && p < end && !memcmp(p, "committer ", end - p < 10 ? (size_t)(end - p) : 10)
	       ? 0 : -1;
}

/* Commit `id` read and parsed into *c (its strings in `arena`): through
 * the walk's reader, or libgit2 when that cannot parse it; -1 when the
 * commit is missing (a shallow clone) or unreadable. */
static int read_commit(commit_head *c, kb_buf *arena, kb__odb *odb, git_repository *repo,
		       kb_buf *raw, const git_oid *id)
{
	git_object_t type;
	git_commit *gc = NULL;
	const git_signature *sig;
	size_t at = arena->len;

	git_oid_cpy(&c->id, id);
	if (kb__odb_read(raw, &type, odb, id) == 0 && type == GIT_OBJECT_COMMIT &&
	    parse_commit(c, arena, raw->ptr, raw->len) == 0)
		return 0;
	kb_buf_truncate(arena, at);
	if (git_commit_lookup(&gc, repo, id) < 0) {
		git_error_clear();
		return -1;
	}
	git_oid_cpy(&c->tree, git_commit_tree_id(gc));
	c->nparents = git_commit_parentcount(gc);
	if (c->nparents)
		git_oid_cpy(&c->parent, git_commit_parent_id(gc, 0));
	sig = git_commit_author(gc);
	c->name = put_trimmed(arena, sig->name, sig->name + strlen(sig->name));
	c->email = put_trimmed(arena, sig->email, sig->email + strlen(sig->email));
	c->time = sig->when.time;
	git_commit_free(gc);
	return 0;
}

/* The tree of the first parent of `c` into *out: the tree of the commit
 * walked last when that is the parent (a linear history), else read.
 * 0 when c has no parent, 1 found, -1 missing (a shallow clone). */
static int parent_tree(git_oid *out, walk_state *w, const commit_head *c)
{
	commit_head p;
	size_t at = w->people.len;
	int rc;

	if (c->nparents == 0)
		return 0;
	if (w->have_last && git_oid_equal(&c->parent, &w->last)) {
		git_oid_cpy(out, &w->last_tree);
		return 1;
	}
	rc = read_commit(&p, &w->people, w->odb, w->repo, &w->raw, &c->parent);
	kb_buf_truncate(&w->people, at);
	if (rc < 0)
		return -1;
	git_oid_cpy(out, &p.tree);
	return 1;
}

/* Diff one commit against its first parent (merges are skipped: their
 * changes are attributed to the commits that made them).  `c` is the
 * commit when listed already with its strings in `arena`, else NULL. */
static int walk_commit(walk_state *w, const git_oid *id, const commit_head *c,
		       const kb_buf *arena, int *incomplete)
{
	commit_head own;
	kb_buf prefix = KB_BUF_INIT;
	git_oid oid, nid, ptree;
	int rc = 0, has_old = 0, has_new, hp;
	tree_list tl;

	if (!c) {
		kb_buf_clear(&w->people);
		if (read_commit(&own, &w->people, w->odb, w->repo, &w->raw, id) < 0) {
			*incomplete = 1;
			goto done;
		}
		c = &own;
		arena = &w->people;
	}
	if (c->nparents > 1)
		goto done;
	if ((hp = parent_tree(&ptree, w, c)) < 0)
		*incomplete = 1;
	w->name = arena->ptr + c->name;
	w->email = arena->ptr + c->email;
	w->time = c->time;
	w->walked++;
	has_new = cases_tree(&nid, w, &c->tree);
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
	git_oid_cpy(&w->last_tree, &c->tree);
	w->have_last = 1;
done:
	/* the trees read now are the old side of the next commit */
	w->prev.n = 0;
	tl = w->prev;
	w->prev = w->cur;
	w->cur = tl;
	path_list_clear(&w->born);
	path_list_clear(&w->gone);
	kb_buf_release(&prefix);
	w->name = w->email = NULL;
	git_error_clear();
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
	const git_oid *ids;       /* the commits, or NULL when listed with heads */
	const commit_head *heads; /* the commits read already (strings in arena) */
	const kb_buf *arena;
	kb__odb *odb;             /* a reader to use (else one is opened) */
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
	kb_buf_init(&w.blob);
	kb_buf_init(&w.raw);
	kb_buf_init(&w.people);
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
	if (p->odb) {
		w.odb = p->odb;
	} else if (kb__odb_open(&w.odb, w.repo) < 0) {
		p->rc = kb_error_set(KB_ERROR, NULL, 0, "cannot read the object database: %s",
				     kb__git_msg("unknown error"));
		goto done;
	}
	for (i = 0; i < p->n && p->rc == 0; i++)
		p->rc = p->heads ? walk_commit(&w, &p->heads[i].id, &p->heads[i], p->arena,
					       &p->incomplete)
				 : walk_commit(&w, &p->ids[i], NULL, NULL, &p->incomplete);
	p->walked = w.walked;
done:
	if (p->rc < 0)
		p->err = kb_xstrdup(kb_error_last()->message);
	walk_release(&w);
	if (w.odb != p->odb)
		kb__odb_free(w.odb);
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

/*
 * A linear history (no merge between HEAD and `since`, or the root) is
 * listed by following parents from HEAD, each commit read once through the
 * walk's reader and kept parsed: in such a history the oldest-first order
 * is the only order.  *heads oldest first, strings in `arena`; -1 when a
 * merge or a missing commit is met (libgit2's revwalk lists it then).
 */
static int list_linear(commit_head **heads, size_t *count, kb_buf *arena, kb__odb *odb,
		       git_repository *repo, const git_oid *head, const git_oid *since)
{
	kb_buf raw = KB_BUF_INIT;
	commit_head *v = NULL, t;
	size_t n = 0, a = 0, i;
	git_oid id;
	int rc = -1;

	if (!odb)
		goto done;
	git_oid_cpy(&id, head);
	while (!since || !git_oid_equal(&id, since)) {
		if (n == a) {
			a = a ? 2 * a : 1024;
			v = kb_xrealloc(v, a * sizeof(*v));
		}
		if (read_commit(&v[n], arena, odb, repo, &raw, &id) < 0 || v[n].nparents > 1)
			goto done;
		if (!v[n++].nparents) {
			if (since)
				goto done;   /* `since` is not on this line */
			break;
		}
		git_oid_cpy(&id, &v[n - 1].parent);
	}
	for (i = 0; i < n / 2; i++) {
		t = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	rc = 0;
done:
	if (rc < 0) {
		free(v);
		v = NULL;
		n = 0;
		kb_buf_clear(arena);
	}
	*heads = v;
	*count = n;
	kb_buf_release(&raw);
	return rc;
}

/* Walk HEAD's commits not reachable from `since` (NULL: all), oldest first,
 * appending their event lines to `out`; the second half of a long list on a
 * thread of its own (run here when the thread cannot be started). */
static int walk_commits(kb_buf *out, size_t *walked, git_repository *repo, const char *gitpath,
			const git_oid *head, const git_oid *since, int *incomplete)
{
	walk_part part[2];
	git_oid *ids = NULL;
	commit_head *heads = NULL;
	kb__odb *odb = NULL;
	kb_buf arena = KB_BUF_INIT;
	size_t n = 0, half, i;
	pthread_t th;
	int threaded = 0, rc = 0;

	/* one reader lists the commits and walks the first half */
	if (kb__odb_open(&odb, repo) < 0)
		odb = NULL;
	if (list_linear(&heads, &n, &arena, odb, repo, head, since) < 0)
		n = list_commits(&ids, repo, head, since, incomplete);
	memset(part, 0, sizeof(part));
	half = n >= 2 * WALK_PART_MIN && gitpath ? n / 2 : n;
	for (i = 0; i < 2; i++) {
		part[i].ids = ids ? ids + (i ? half : 0) : NULL;
		part[i].heads = heads ? heads + (i ? half : 0) : NULL;
		part[i].arena = &arena;
	}
	part[0].repo = repo;
	part[0].odb = odb;
	part[0].n = half;
	part[1].gitpath = gitpath;
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
	free(heads);
	kb_buf_release(&arena);
	kb__odb_free(odb);
	return rc;
}

/* Load the cache into `events` when it reflects an ancestor of (or is)
 * HEAD; *since is that commit.  0 when there is no usable cache. */
static int load_cache(kb_buf *events, git_oid *since, git_repository *repo, const char *path,
		      const git_oid *head)
{
	FILE *f = fopen(path, "rb");
	char line[sizeof(CACHE_MAGIC) + 48];
	struct stat st;
	size_t n;

	kb_buf_clear(events);
	if (!f)
		return 0;
	/* the header line, then the event lines read straight into place */
	if (!fgets(line, sizeof(line), f) || strncmp(line, CACHE_MAGIC, strlen(CACHE_MAGIC)) ||
	    strlen(line) != strlen(CACHE_MAGIC) + 41 || line[strlen(line) - 1] != '\n' ||
	    git_oid_fromstrn(since, line + strlen(CACHE_MAGIC), 40) < 0 ||
	    (git_oid_cmp(since, head) && git_graph_descendant_of(repo, head, since) != 1)) {
		git_error_clear();
		fclose(f);
		return 0;
	}
	kb_buf_grow(events, fstat(fileno(f), &st) == 0 && st.st_size > 0 ? (size_t)st.st_size
									      : 65536);
	while (events->alloc - events->len > 1 &&
	       (n = fread(events->ptr + events->len, 1, events->alloc - events->len - 1, f)) > 0) {
		events->len += n;
		if (events->alloc - events->len < 2)
			kb_buf_grow(events, 65536);
	}
	events->ptr[events->len] = '\0';
	if (ferror(f)) {
		fclose(f);
		kb_buf_clear(events);
		return 0;
	}
	fclose(f);
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

	kb_buf_set(key, name, strlen(name));
	kb_buf_putc(key, '\t');
	kb_buf_puts(key, email);
	if (kb__smap_get(seen, key->ptr, &idx))
		return idx;
	idx = kb__audit_person(a, name, email);
	kb__smap_put(seen, key->ptr, idx);
	return idx;
}

/* Apply the event lines, oldest first, to the cases present now. */
static void apply_events(kb_audit *a, const ev_line *v, size_t n)
{
	kb__smap seen = { 0 };
	kb_buf key = KB_BUF_INIT;
	size_t i, idx, person;
	kb__acase *k;
	int64_t t;
	int added, edited, reviewed;

	for (i = 0; i < n; i++) {
		if (!kb__smap_get(&a->by_path, v[i].final, &idx))
			continue;
		k = &a->cases[idx];
		added = strchr(v[i].f[0], 'A') && k->git_creator < 0;
		edited = strchr(v[i].f[0], 'E') != NULL;
		reviewed = strchr(v[i].f[0], 'V') != NULL;
		/* the author of a pure move (R) is no contributor: not even
		 * counted as a person (participation) */
		if (!added && !edited && !reviewed)
			continue;
		t = (int64_t)strtoll(v[i].f[1], NULL, 10);
		person = event_person(a, &seen, &key, v[i].f[2], v[i].f[3]);
		if (added) {
			k->git_creator = (long)person;
			k->git_created = t;
			continue;
		}
		if (edited)
			add_event(k, person, t, KB__EV_EDIT);
		if (reviewed)
			add_event(k, person, t, KB__EV_REVIEW);
	}
	kb_buf_release(&key);
	kb__smap_release(&seen);
}

static void walk_release(walk_state *w)
{
	path_list_clear(&w->born);
	path_list_clear(&w->gone);
	free(w->born.v);
	free(w->gone.v);
	tree_list_release(&w->prev);
	tree_list_release(&w->cur);
	kb_buf_release(&w->blob);
	kb_buf_release(&w->raw);
	kb_buf_release(&w->people);
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
	ev_line *lines;      /* the lines split, renames resolved */
	size_t nlines;
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
	/* splitting needs no case: done here, beside the loading of the cases */
	if (rc == 0) {
		j->lines = split_events(&j->events, &j->nlines);
		resolve_renames(j->lines, j->nlines);
	}
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

/*
 * Whether the cache file looks usable (its first line is of this format):
 * then the walk is short (the commits since it, usually none or a few) and
 * runs on the caller's thread after the cases (on a thread of its own it
 * saved nothing measurable in a warm report at 100,000 cases).  A cold
 * walk runs on a thread of its own beside the loading of the cases.
 */
static int history_cached(const history_job *j)
{
	char line[sizeof(CACHE_MAGIC) + 48];
	FILE *f;
	int ok;

	if (!j->cachefile || !(f = fopen(j->cachefile, "rb")))
		return 0;
	ok = fgets(line, sizeof(line), f) && !strncmp(line, CACHE_MAGIC, strlen(CACHE_MAGIC)) &&
	     strlen(line) == strlen(CACHE_MAGIC) + 41;
	fclose(f);
	return ok;
}

static void history_release(history_job *j)
{
	free(j->gitpath);
	free(j->cachefile);
	free(j->err);
	free(j->lines);
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
	apply_events(a, j->lines, j->nlines);
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
	a->by_path.borrow = a->by_id.borrow = a->by_author.borrow = 1;
	a->opts = opts ? *opts : dflt;
	if (!a->opts.now)
		a->opts.now = (int64_t)time(NULL);
	if (git_mailmap_from_repository(&a->mailmap, s->repo) < 0) {
		kb_diags_add(&a->warnings, KB_DIAG_WARNING, ".mailmap", 0, "cannot read: %s",
			     kb__git_msg("unknown error"));
		a->mailmap = NULL;
		git_error_clear();
	}
	/* a full walk runs on a thread of its own while the cases load */
	history_init(&job, s);
	threaded = !history_cached(&job) && pthread_create(&th, NULL, history_thread, &job) == 0;
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
	kb__smap_release(&a->by_author);
	kb__smap_release(&a->by_person);
	kb_arena_release(&a->arena);
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
