/*
 * audit_internal.h - private: the kb_audit object shared by audit.c
 * (loading cases, the history walk, people) and audit_report.c (coverage,
 * health, risk, activity), plus a small string map.  Not installed.
 */
#ifndef KB_AUDIT_INTERNAL_H
#define KB_AUDIT_INTERNAL_H

#include <git2.h>

#include "kb/audit.h"
#include "kb/case.h"
#include "kb/error.h"

/* A string -> index map with owned keys (open addressing). */
typedef struct {
	char **keys;
	size_t *vals;
	size_t *hashes;      /* of keys[i]: compared before the strings */
	size_t cap, n;
} kb__smap;

int kb__smap_get(const kb__smap *m, const char *key, size_t *val);
void kb__smap_put(kb__smap *m, const char *key, size_t val);
void kb__smap_release(kb__smap *m);

enum { KB__EV_EDIT = 1, KB__EV_REVIEW = 2 };

typedef struct {
	size_t person;
	int64_t time;
	int kind;
} kb__event;

/*
 * What the audits read of one case file (audit_cache.c): built from the
 * parsed case, or decoded from the per-case cache without reading the file.
 * v[0] id, v[1] title, v[2] and v[3] hashes of the folded symptom and
 * title (16 hex digits, "" when the text is empty), then nkv key/value pairs
 * of the front matter (value NULL for a list), then the nlinks items of
 * "links"; all strings live in `mem`.
 */
enum {
	KB__SUM_SYMPTOM = 1, KB__SUM_SYMPTOM_LONG = 2, KB__SUM_RESOLUTION = 4,
	KB__SUM_RESOLUTION_STEPS = 8, KB__SUM_ENVIRONMENT = 16, KB__SUM_CAUSE = 32
};

typedef struct {
	char *mem;
	const char **v;
	size_t nkv, nlinks;
	int status;          /* kb_status */
	unsigned flags;      /* KB__SUM_* */
} kb__csum;

#define KB__SUM_ID(s) ((s)->v[0])
#define KB__SUM_TITLE(s) ((s)->v[1])
#define KB__SUM_SYMKEY(s) ((s)->v[2])
#define KB__SUM_TITLEKEY(s) ((s)->v[3])
#define KB__SUM_LINKS(s) ((s)->v + 4 + 2 * (s)->nkv)

/* Scalar front-matter value of `key` (NULL when absent or a list). */
const char *kb__csum_get(const kb__csum *s, const char *key);

typedef struct {
	kb__csum s;
	char *path;
	long fm_author;      /* person of the front-matter author, -1 none */
	long git_creator;    /* author of the commit adding the file, -1 unknown */
	int64_t git_created;
	kb__event *ev;       /* substantive edits and reviews from history */
	size_t nev, aev;
	size_t *who;         /* authors: creator + substantive editors, distinct */
	size_t nwho;
} kb__acase;

typedef struct {
	char *name;          /* after the mailmap, first spelling */
	char *email;         /* lower case, may be "" */
} kb__person;

struct kb_audit {
	kb_store *store;
	kb_audit_options opts;
	kb__acase *cases;
	size_t ncases, acases;
	kb__smap by_path, by_id;
	kb__person *people;
	size_t npeople, apeople;
	kb__smap by_person;  /* folded name -> person */
	git_mailmap *mailmap;
	kb_diags warnings;
	size_t walked;       /* commits diffed (not taken from the cache) */
	size_t parsed;       /* case files read and parsed (not from the cache) */
};

/* Trimmed, case-folded copy of s (NULL counts as ""); caller frees. */
char *kb__audit_fold(const char *s);
/* Person index for a name/email after the mailmap (added when new). */
size_t kb__audit_person(kb_audit *a, const char *name, const char *email);
/* "YYYY-MM-DD" at 00:00 UTC into *t; -1 when not a real date. */
int kb__audit_date(const char *s, int64_t *t);
/* Creator person (front matter, else history; -1 unknown) and creation
 * time (`created` unless unparsable or in the future, else history; 0 with
 * *known = 0 when unknown). */
/* Load every case of the work tree through the per-case cache
 * (audit_cache.c), calling kb__audit_add_case() for each. */
int kb__audit_load_cases(kb_audit *a);
/* Take a case summary (moved into the audit) found at relpath. */
void kb__audit_add_case(kb_audit *a, kb__csum *s, const char *relpath);
/* Front-matter keys that look like a misspelt known field, as warnings. */
void kb__audit_check_fields(kb_diags *out, const kb_case *c, const char *relpath);
long kb__audit_creator(const kb__acase *k);

/* Object reader of the history walk (audit_odb.c): packs read directly,
 * anything else through libgit2.  One per thread. */
typedef struct kb__odb kb__odb;
/* A reader for `repo` into *out (free with kb__odb_free); -1 when the
 * repository's object database cannot be opened. */
int kb__odb_open(kb__odb **out, git_repository *repo);
/* The bytes of object `id` into `out` (replaced) and its type into *type;
 * -1 when it is missing or unreadable (libgit2's error cleared). */
int kb__odb_read(kb_buf *out, git_object_t *type, kb__odb *r, const git_oid *id);
void kb__odb_free(kb__odb *r);
int64_t kb__audit_created(const kb_audit *a, const kb__acase *k, int *known);

#endif
