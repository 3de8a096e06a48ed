/*
 * audit_internal.h - private: the kb_audit object shared by audit.c
 * (loading cases, the history walk, people) and audit_report.c (coverage,
 * health, risk, activity), plus a small string map.  Not installed.
 */
#ifndef KB_AUDIT_INTERNAL_H
#define KB_AUDIT_INTERNAL_H

#include <stdint.h>

#include <git2.h>

#include "kb/audit.h"
#include "kb/case.h"
#include "kb/error.h"

/* A string -> index map (open addressing).  Keys are copied, unless
 * `borrow` is set before the first put: then the caller keeps them alive
 * until the map is released. */
typedef struct {
	char **keys;
	size_t *vals;
	size_t *hashes;      /* of keys[i]: compared before the strings */
	size_t cap, n;
	int borrow;
} kb__smap;

int kb__smap_get(const kb__smap *m, const char *key, size_t *val);
void kb__smap_put(kb__smap *m, const char *key, size_t val);
void kb__smap_release(kb__smap *m);

/* A uint64 -> index map (open addressing; UINT64_MAX is not a key). */
typedef struct {
	uint64_t *keys;      /* key + 1; 0: empty slot */
	size_t *vals;
	size_t cap, n;
} kb__imap;

int kb__imap_get(const kb__imap *m, uint64_t key, size_t *val);
void kb__imap_put(kb__imap *m, uint64_t key, size_t val);
void kb__imap_release(kb__imap *m);

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
 * "links"; v and all strings live in the audit's arena.
 */
enum {
	KB__SUM_SYMPTOM = 1, KB__SUM_SYMPTOM_LONG = 2, KB__SUM_RESOLUTION = 4,
	KB__SUM_RESOLUTION_STEPS = 8, KB__SUM_ENVIRONMENT = 16, KB__SUM_CAUSE = 32
};

typedef struct {
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
	const char *path;    /* in the arena */
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
	kb_arena arena;      /* case summaries and paths */
	kb__smap by_path, by_id;   /* borrowed keys: paths and ids in the arena */
	kb__smap by_author;  /* raw front-matter author -> person + 1 (0: none) */
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
/* The month (UTC) of time t as year * 12 + month - 1. */
int64_t kb__audit_month(int64_t t);
/* "YYYY-MM" of such a month ("0000-00" outside years 0-9999). */
void kb__audit_month_str(char out[8], int64_t month);
/* 00:00 UTC on now's day of the month, `months` months before (as
 * timegm() normalises it). */
int64_t kb__audit_months_before(int64_t now, int months);
/* Creator person (front matter, else history; -1 unknown) and creation
 * time (`created` unless unparsable or in the future, else history; 0 with
 * *known = 0 when unknown). */
/* Case files from which the loading is split between two threads. */
extern size_t kb__audit_split_files;
/* Cache files of this many bytes or more are rewritten only for many
 * changed files (audit_cache.c). */
extern size_t kb__audit_rewrite_bytes;
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
