/*
 * kb/index.h - the search index: an SQLite FTS5 cache of a KB's cases.
 *
 * The index is a cache, never the source of truth.  It lives at
 * <gitdir>/kb/index.sqlite, records the schema version, the tokenizer
 * settings and the commit it reflects, and is brought up to date from the
 * git tree diff between that commit and HEAD plus uncommitted edits of case
 * files.  A missing, stale, corrupt or other-version index is rebuilt.  The
 * database runs in WAL mode so readers never wait for a writer.
 *
 * Ownership: kb_index_open*() return an index freed with kb_index_close();
 * kb_hits are released with kb_hits_release().
 */
#ifndef KB_INDEX_H
#define KB_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "kb/case.h"
#include "kb/store.h"
#include "kb/synonyms.h"

/* Indexed columns, in table order; weights are indexed by these values. */
typedef enum {
	KB_COL_TITLE = 0,
	KB_COL_SYMPTOM,
	KB_COL_ENVIRONMENT,
	KB_COL_CAUSE,
	KB_COL_RESOLUTION,
	KB_COL_NOTES,        /* notes, unknown sections, original text */
	KB_COL_TAGS,
	KB_COL_EQUIPMENT,
	KB_COL_MODEL,
	KB_COL_SITE,
	KB_COL_FAILURE,      /* failure_mode, failure_mechanism, failure_cause */
	KB_COL__COUNT
} kb_column;

/* "title", "symptom", ... ; kb_column_parse returns -1 for unknown names. */
const char *kb_column_name(kb_column col);
int kb_column_parse(const char *name);

typedef struct {
	unsigned version;
	const char *tokenizer;          /* "kb" (default), "unicode61", "porter", "trigram" */
	double weights[KB_COL__COUNT];  /* BM25 weights; all 0 = defaults */
	const kb_synonyms *synonyms;    /* query-time synonyms; may be NULL; not owned */
	int stem;                       /* kb tokenizer: stem English (default 1) */
} kb_index_options;

#define KB_INDEX_OPTIONS_VERSION 1
#define KB_INDEX_OPTIONS_INIT { KB_INDEX_OPTIONS_VERSION, NULL, {0}, NULL, 1 }

typedef struct kb_index kb_index;

/*
 * Open (creating if needed) a standalone index database at `path`
 * (":memory:" allowed).  Used by the store-backed open below, by the
 * evaluation harness and the benchmarks.  An index whose schema version or
 * tokenizer settings differ from `opts`, or that fails SQLite's quick
 * integrity check, is deleted and recreated empty.  `opts` may be NULL.
 */
int kb_index_open(kb_index **out, const char *path, const kb_index_options *opts);

/*
 * Open the index of a KB and bring it up to date (kb_index_sync).  Options
 * come from the KB config (search.weight.*, search.synonyms, search.stem).
 * To stay fast at 100k cases this sync asks git for the work tree's status
 * only when git's index file or the cases/ directory changed since the last
 * look; a file edited in place since then is seen by the next
 * kb_index_sync() (docs/internals/index.md, "work tree").
 */
int kb_index_open_store(kb_index **out, kb_store *s);
void kb_index_close(kb_index *idx);

/*
 * Open the index of the KB at or above `dir` without git, only when it is
 * provably current: kb_index_open_store() recorded, after its last sync
 * left no dirty file, the identity (inode, size, mtime, ctime) of HEAD,
 * the branch ref, packed-refs, git's index, cases/, kb.conf and the
 * synonym file, and all still match.  Returns 0 with *out set (close with
 * kb_index_close), or 1 with *out NULL when it cannot tell (anything moved,
 * no index file, a .git file or another owner's repository, a read-only
 * cache directory, a small file failing SQLite's quick_check): the caller then opens the store and uses
 * kb_index_open_store().  Never fails otherwise; leaves no error set.
 * A case file edited in place without touching git's index is missed
 * exactly as kb_index_open_store() misses it.
 */
int kb_index_open_current(kb_index **out, const char *dir);

typedef struct {
	size_t added, updated, removed;   /* cases */
	int rebuilt;                      /* 1 when the index was rebuilt from scratch */
	char commit[41];                  /* commit the index now reflects */
} kb_index_stats;

/* Bring the index up to date with the store's HEAD and work tree.  Work is
 * proportional to the change since the recorded commit.  Case files that do
 * not parse are skipped (and reported as diagnostics when diags != NULL). */
int kb_index_sync(kb_index *idx, kb_store *s, kb_index_stats *stats, kb_diags *diags);
/* Drop everything and index the whole store again. */
int kb_index_rebuild(kb_index *idx, kb_store *s, kb_index_stats *stats, kb_diags *diags);

/* Low level: batch writes between begin and commit (one SQLite transaction). */
int kb_index_begin(kb_index *idx);
int kb_index_commit(kb_index *idx);
/* Insert or replace one case, keyed by its id; `path` is stored for display. */
int kb_index_put(kb_index *idx, const kb_case *c, const char *path);
/* Remove a case by id (no error when absent). */
int kb_index_remove(kb_index *idx, const char *id);
/* Number of indexed cases. */
int64_t kb_index_count(kb_index *idx);

/* ---- queries ----------------------------------------------------------- */

typedef struct {
	char *id;
	char *title;
	char *path;
	char *equipment;
	char *model;
	char *status;
	double score;       /* higher is better */
	char *snippet;      /* matched text with hl_open/hl_close around terms; may be NULL */
	char *explain;      /* with explain: "symptom: 跳闸, fan; title: chiller"; else NULL */
} kb_hit;

typedef struct {
	kb_hit *items;
	size_t count;
} kb_hits;

#define KB_HITS_INIT { NULL, 0 }
void kb_hits_release(kb_hits *hits);

typedef struct {
	unsigned version;
	size_t limit;              /* default 10 */
	const char *equipment;     /* exact filters, NULL = any */
	const char *model;
	const char *site;
	const char *status;
	const char *since;         /* YYYY-MM-DD: created or updated on/after */
	const char *hl_open;       /* snippet markers; NULL = "[" and "]" */
	const char *hl_close;
	int explain;               /* fill kb_hit.explain */
	/* kb_index_similar only: */
	size_t max_terms;          /* most informative terms kept (default 24) */
	const char *boost_equipment; /* hits with this equipment/model score higher */
	const char *boost_model;
	const char *exclude_id;    /* never return this case (similar --case) */
	/* kb_index_similar tuning (added; 0 = default): */
	int cjk_unigrams;          /* single CJK characters as terms: 0/1 keep, -1 drop */
	double max_df_ratio;       /* drop terms in more than this share of cases (0.2) */
	size_t max_postings;       /* most postings (sum of the terms' df) a query may walk;
				      0 = 0.3 per case, at least 20,000 */
	long rerank;               /* two stages: the budgeted query picks this many
				      candidates, then every term of the description
				      re-scores them (docs/internals/index.md); 0 = default
				      (KB_SIMILAR_RERANK for a description, off for a case),
				      -1 = off */
} kb_search_options;

/* Candidates re-scored by kb_index_similar() unless opts->rerank says. */
#define KB_SIMILAR_RERANK 500

#define KB_SEARCH_OPTIONS_VERSION 1
#define KB_SEARCH_OPTIONS_INIT { KB_SEARCH_OPTIONS_VERSION, 10 }

/* Run a query in kb's syntax (kb/query.h).  No hits is not an error (count
 * 0).  KB_EINPUT for invalid UTF-8. */
int kb_index_search(kb_index *idx, const char *query, const kb_search_options *opts,
		    kb_hits *out);

/* More-like-this: select the description's most informative terms by the
 * index's own statistics (bounded by max_terms), OR them with their weights,
 * apply filters and boosts; then re-score the best opts->rerank candidates
 * with every term of the description.  `text` is free text in any language. */
int kb_index_similar(kb_index *idx, const char *text, const kb_search_options *opts,
		     kb_hits *out);
/* Same, from an indexed case (its own text; the case itself is excluded);
 * one stage unless opts->rerank > 0. */
int kb_index_similar_case(kb_index *idx, const char *id, const kb_search_options *opts,
			  kb_hits *out);

/* ---- duplicates (core/duplicates.c) ------------------------------------ */

/* Default threshold of kb_index_duplicates, chosen on the sample KB's
 * near-duplicate pairs (docs/internals/index.md, "Duplicates"). */
#define KB_DUPLICATES_THRESHOLD 0.25

typedef struct {
	char *a, *b;             /* the two case ids, a < b (strcmp) */
	char *title_a, *title_b;
	double score;            /* the better of similar(a)->b and similar(b)->a */
} kb_duplicate;

typedef struct {
	unsigned version;
	double threshold;        /* pairs scoring at least this; 0 = KB_DUPLICATES_THRESHOLD */
	const char *status;      /* comma-separated: a pair where either case has one; NULL = any */
	size_t limit;            /* at most this many pairs, best first; 0 = all */
	int include_linked;      /* 1: also pairs already linked in the front matter */
} kb_duplicates_options;

#define KB_DUPLICATES_OPTIONS_VERSION 1
#define KB_DUPLICATES_OPTIONS_INIT { KB_DUPLICATES_OPTIONS_VERSION, 0, NULL, 0, 0 }

/*
 * Pairs of cases that may describe the same fault, for review: the
 * similar-case lookup (kb_index_similar_case, limit 10) is run for every
 * indexed case, with the case's text widened by the other terms of each
 * synonym group it mentions (kb_synonyms_expand: 跳闸 for "trip"), so a
 * case and its translation can meet.  A pair is reported once, with the
 * better of its two scores, best first (ties by ids).  Pairs linked by any
 * link type in either case's front matter (links, duplicate_of, supersedes,
 * caused_by) are left out unless opts->include_linked; `s` is the store the
 * links are read from (NULL: no links are known).  `opts` may be NULL.
 * *out is an array of *n pairs freed with kb_duplicates_free(); on failure
 * it is NULL and *n 0.  The cost is one similar lookup per case.
 */
int kb_index_duplicates(kb_duplicate **out, size_t *n, kb_index *idx, kb_store *s,
			const kb_duplicates_options *opts);
void kb_duplicates_free(kb_duplicate *d, size_t n);

#endif
