/*
 * index_internal.h - what index.c (schema, writes, sync), search.c (ranked
 * queries, snippets, explanations) and similar.c (more-like-this) share:
 * the kb_index object, its cached statements and the common query runner.
 * See docs/internals/index.md.
 */
#ifndef KB_INDEX_INTERNAL_H
#define KB_INDEX_INTERNAL_H

#include <sqlite3.h>

#include "kb/buf.h"
#include "kb/case.h"
#include "kb/index.h"
#include "kb/store.h"
#include "kb/tokenizer.h"

/* Score multiplier for a hit with the boosted equipment or model, and the
 * BM25 constants of kb_rank() and kb_bm25() (FTS5's own k1 and b), shared by
 * search.c, similar.c and simidx.c. */
#define KB_BOOST 1.3
#define RANK_K1 1.2
#define RANK_B 0.75

#define KB_INDEX_SCHEMA_VERSION "3"
/* How long a statement waits for another process's write lock. */
#define KB_INDEX_BUSY_MS 10000
/* How long kb_index_open_store waits to sync before using the index as is. */
#define KB_INDEX_SYNC_WAIT_MS 1000

/* Cached prepared statements, finalized by kb_index_close(). */
enum {
	ST_FIND_ID,      /* rowid, hash of a case id */
	ST_INSERT_DOC,
	ST_UPDATE_DOC,
	ST_INSERT_FTS,
	ST_DELETE_FTS,
	ST_DELETE_DOC,
	ST_FIND_PATH,    /* ids stored for a path */
	ST_DF,           /* document frequency of one term (fts5vocab) */
	ST_DFCACHE,      /* the same from the dfcache snapshot */
	ST_SEARCH,       /* the ranked query of search.c, with filters */
	ST_SEARCH_PLAIN, /* the same without filters or boosts */
	ST_SIMILAR,      /* the ranked query with kb_rank() instead of bm25() */
	ST_SIMILAR_PLAIN,
	ST_CAND,         /* the candidates of similar's two stages (search.c) */
	ST_CAND_DOCS,    /* the same with filters or boosts */
	ST_SNIPPET,      /* snippet and explanation of one hit */
	ST_DOCSIZE,      /* FTS5's column sizes of one row (index_lens.c) */
	ST_LENS_READ,    /* one chunk of the lens table */
	ST_LENS_PUT,
	ST_LENS_DEL,
	ST__COUNT
};

struct kb_index {
	sqlite3 *db;
	char *path;                      /* as given to kb_index_open */
	char *tokenize;                  /* FTS5 tokenize= argument, e.g. "kb stem 1" */
	double weights[KB_COL__COUNT];
	const kb_synonyms *synonyms;     /* query-time synonyms, may be NULL */
	kb_synonyms *own_synonyms;       /* loaded by kb_index_open_store */
	sqlite3_stmt *st[ST__COUNT];
	int vocab_ready;                 /* temp fts5vocab table created */
	int64_t ndocs;                   /* cached kb_index_count, -1 = unknown */
	int damaged;                     /* SQLite reported corruption; file removed */
	int busy;                        /* the last SQLite error was SQLITE_BUSY */
	int64_t changes;                 /* cases written, not yet added to meta df_changes */
	int no_snippets;                 /* ranked queries skip snippets (duplicates.c) */
	kb_token_tapes tapes;            /* tokens recorded for the row being inserted */
	struct kb_lens_chunk **lens_dirty; /* lens chunks written, not yet stored; by number */
	size_t lens_ndirty, lens_alloc;
	double rank_avg[KB_COL__COUNT];  /* column averages kb_rank() last used */
};

/* Prepare (once) and reset the cached statement `which` with SQL `sql`. */
int kb_index__stmt(kb_index *idx, int which, const char *sql, sqlite3_stmt **out);

/* Record the SQLite error of idx->db as a KB_ERROR "<what>: <sqlite message>". */
int kb_index__sqlerr(kb_index *idx, const char *what);

/* Default BM25 weight of a column. */
double kb_index__default_weight(kb_column col);

/*
 * The ranked query shared by search and similar: run `match` (an FTS5
 * MATCH expression that is already syntax-safe) with the filters, boosts
 * and limit of `opts`, appending hits to `out`.  Ranked by bm25(), or, when
 * `phrase_weights` is given, by kb_rank() (BM25F, search.c) with those
 * per-phrase weights (query tf times idf times a term weight, in
 * millionths, space-separated).
 * `score_scale` multiplies -rank (similar uses it to normalise).  With
 * opts->explain, `terms` (may be NULL) names the phrases of `match` in
 * order; otherwise the matched text is shown.
 */
int kb_index__ranked(kb_index *idx, const char *match, const char *phrase_weights,
		     const kb_search_options *opts, double score_scale,
		     const char *const *terms, size_t nterms, kb_hits *out);

/* A candidate of the ranked query: its rowid, r (-kb_rank times the boosts,
 * the sort key, ascending) and whether each boost applied. */
typedef struct {
	sqlite3_int64 rowid;
	double r;
	unsigned char beq, bmo;
} kb_rank_cand;

/*
 * The first `k` rows kb_index__ranked() would return for `match` ranked by
 * kb_rank() with `phrase_weights` (opts->limit ignored), as candidates in
 * that order.  *out is a kb_xmalloc'ed array of *n (free() it); NULL and 0
 * on failure (message set) or when nothing matches.
 */
int kb_index__candidates(kb_index *idx, const char *match, const char *phrase_weights,
			 const kb_search_options *opts, size_t k, kb_rank_cand **out,
			 size_t *n);

/* Hits for candidates c[0 .. n) in that order, score -r × score_scale, with
 * the snippets (and explanations) of kb_index__ranked() for `match`. */
int kb_index__hits_of(kb_index *idx, const kb_rank_cand *c, size_t n, double score_scale,
		      const char *match, const kb_search_options *opts,
		      const char *const *terms, size_t nterms, kb_hits *out);

/* kb_index_similar_case; with `expand` the case's text is widened with
 * kb_synonyms_expand() over the index's synonyms first. */
int kb_index__similar_case(kb_index *idx, const char *id, const kb_search_options *opts,
			   int expand, kb_hits *out);

/* Cases written since the df snapshot, -1 when there is none; 1 when the
 * snapshot is missing or too old to trust; create temp.kbvocab; take the
 * snapshot (in its own transaction unless one is open). */
int64_t kb_index__df_changes(kb_index *idx);
int kb_index__df_stale(kb_index *idx);
int kb_index__vocab(kb_index *idx);
int kb_index__refresh_df(kb_index *idx);

/* 1 when the file passes PRAGMA quick_check, or is too big to check at
 * every open (over 32 MB: SQLite then finds bad pages when it reads them). */
int kb_index__quick_check_ok(kb_index *idx);

/* Fast open (index_fast.c): the signature of the files a sync consults
 * (1 when HEAD names an unsafe ref: no signature), and recording it with
 * the index's options after a sync that left nothing dirty (best effort). */
int kb_index__fast_sig(kb_buf *out, const char *workdir, const char *gitdir,
		       const char *synfile);
void kb_index__fast_record(kb_index *idx, const char *sig, const char *synfile);

/* The text of each FTS column for a case, and the FNV-1a hash of
 * everything stored for it (16 hex digits). */
void kb_index__case_columns(const kb_case *c, kb_buf col[KB_COL__COUNT]);
void kb_index__content_hash(char out[17], const kb_case *c, const char *path,
			    kb_buf col[KB_COL__COUNT]);

/* Put a case whose columns and hash are computed, inside the current
 * transaction; *what = 0 unchanged, 1 added, 2 replaced. */
int kb_index__put_columns(kb_index *idx, const kb_case *c, const char *path,
			  kb_buf col[KB_COL__COUNT], const char *hash, int *what);

/*
 * Index every case file of the work tree (index_bulk.c), inside the
 * current transaction: a second thread reads, parses and tokenizes the
 * files while this one inserts them, in the walk's order.  Unparsable
 * files and duplicate ids are reported in diags as by kb_index_rebuild.
 */
int kb_index__load_all(kb_index *idx, kb_store *s, kb_index_stats *stats, kb_diags *diags);

/*
 * Column sizes for ranking (index_lens.c): the table lens(chunk, data)
 * holds, per KB_LENS_ROWS consecutive rowids, each row's column sizes in
 * tokens as FTS5 counted them.  index.c calls kb_index__lens_update after
 * writing or deleting FTS row `rowid` (present = 0 for a deletion), and
 * kb_index__lens_flush before committing (kb_index__lens_discard on
 * rollback); chunks are kept in memory until then.  A reader gives the
 * sizes of a row: 0 and sz[KB_COL__COUNT] filled, or 1 when the row has no
 * usable entry (ask FTS5's xColumnSize instead).  kb_index__lens_reader
 * returns NULL when the database has no lens table.
 */
#define KB_LENS_ROWS 256
typedef struct kb_lens_reader kb_lens_reader;
int kb_index__lens_update(kb_index *idx, sqlite3_int64 rowid, int present);
int kb_index__lens_flush(kb_index *idx);
void kb_index__lens_discard(kb_index *idx);
kb_lens_reader *kb_index__lens_reader(kb_index *idx);
void kb_index__lens_reader_free(kb_lens_reader *r);
int kb_index__lens_get(kb_lens_reader *r, sqlite3_int64 rowid, int *sz);

/* The FTS5 API of a database, or NULL. */
fts5_api *kb_index__fts5_api(sqlite3 *db);

/* Register the kb_explain() and kb_rank() auxiliary functions. */
int kb_index__register_explain(kb_index *idx);

#endif
