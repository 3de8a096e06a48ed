/*
 * index.c - the search index database (kb/index.h): opening and validating
 * the SQLite file, the schema, writing cases into the FTS5 table, and
 * keeping it in step with a store (incremental sync and full rebuild).
 * Queries live in search.c and similar.c; see docs/internals/index.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kb/buf.h"
#include "kb/config.h"
#include "kb/error.h"
#include "kb/index.h"
#include "kb/tokenizer.h"
#include "index_internal.h"

static const char *const column_names[KB_COL__COUNT] = {
	"title", "symptom", "environment", "cause", "resolution", "notes",
	"tags", "equipment", "model", "site", "failure",
};

static const double default_weights[KB_COL__COUNT] = {
	4.0,  /* title */
	3.0,  /* symptom */
	0.7,  /* environment */
	1.5,  /* cause */
	1.0,  /* resolution */
	0.5,  /* notes */
	2.0,  /* tags */
	2.0,  /* equipment */
	2.0,  /* model */
	1.0,  /* site */
	2.0,  /* failure */
};

const char *kb_column_name(kb_column col)
{
	if ((int)col < 0 || col >= KB_COL__COUNT)
		return NULL;
	return column_names[col];
}

int kb_column_parse(const char *name)
{
	int i;

	for (i = 0; name && i < KB_COL__COUNT; i++)
		if (!strcmp(name, column_names[i]))
			return i;
	return -1;
}

double kb_index__default_weight(kb_column col)
{
	return default_weights[col];
}

static int is_corruption(int rc);
static void remove_files(const char *path);

/*
 * A damaged file is found by SQLite only when it reads the bad page (the
 * full check at open is skipped for big files): remove the file so that
 * the next open rebuilds it, and say so.
 */
int kb_index__sqlerr(kb_index *idx, const char *what)
{
	idx->busy = (sqlite3_errcode(idx->db) & 0xff) == SQLITE_BUSY;
	if (is_corruption(sqlite3_extended_errcode(idx->db)) && strcmp(idx->path, ":memory:")) {
		remove_files(idx->path);
		idx->damaged = 1;
		return kb_error_set(KB_ERROR, idx->path, 0, "%s: %s; the index was removed and is"
				    " rebuilt on next use", what, sqlite3_errmsg(idx->db));
	}
	return kb_error_set(KB_ERROR, idx->path, 0, "%s: %s", what, sqlite3_errmsg(idx->db));
}

int kb_index__stmt(kb_index *idx, int which, const char *sql, sqlite3_stmt **out)
{
	if (!idx->st[which] &&
	    sqlite3_prepare_v3(idx->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &idx->st[which], NULL))
		return kb_index__sqlerr(idx, "cannot prepare an index statement");
	sqlite3_reset(idx->st[which]);
	sqlite3_clear_bindings(idx->st[which]);
	*out = idx->st[which];
	return 0;
}

static int exec(kb_index *idx, const char *sql)
{
	if (sqlite3_exec(idx->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return kb_index__sqlerr(idx, "index statement failed");
	return 0;
}

/* ---- options --------------------------------------------------------- */

/* The FTS5 tokenize= argument for the options, or NULL (error set). */
static char *tokenize_spec(const kb_index_options *opts)
{
	const char *name = opts && opts->tokenizer ? opts->tokenizer : "kb";
	int stem = opts ? opts->stem : 1;
	kb_buf b = KB_BUF_INIT;

	if (!strcmp(name, "kb"))
		kb_buf_printf(&b, "kb stem %d", stem ? 1 : 0);
	else if (!strcmp(name, "unicode61"))
		kb_buf_puts(&b, "unicode61 remove_diacritics 2");
	else if (!strcmp(name, "porter"))
		kb_buf_puts(&b, "porter unicode61 remove_diacritics 2");
	else if (!strcmp(name, "trigram"))
		kb_buf_puts(&b, "trigram");
	else {
		kb_error_set(KB_EINPUT, NULL, 0, "unknown tokenizer '%s'", name);
		return NULL;
	}
	return kb_buf_detach(&b);
}

/* Weight 0 means the column's default; a negative weight makes the column
 * count for nothing in ranking (it is still searched). */
static void set_weights(kb_index *idx, const kb_index_options *opts)
{
	int i;

	for (i = 0; i < KB_COL__COUNT; i++) {
		double w = opts ? opts->weights[i] : 0;
		idx->weights[i] = w > 0 ? w : w < 0 ? 0.0 : default_weights[i];
	}
}

/* ---- opening, validating, creating --------------------------------- */

static const char schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
	" path TEXT NOT NULL, title TEXT, equipment TEXT, model TEXT, site TEXT,"
	" status TEXT, created TEXT, updated TEXT, author TEXT, hash TEXT NOT NULL);"
	"CREATE INDEX docs_path ON docs(path);"
	"CREATE TABLE dirty(path TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE dfcache(term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE lens(chunk INTEGER PRIMARY KEY, data BLOB NOT NULL);";

static int create_fts(kb_index *idx)
{
	kb_buf sql = KB_BUF_INIT;
	int rc;

	kb_buf_printf(&sql, "CREATE VIRTUAL TABLE fts USING fts5(title, symptom, environment,"
		      " cause, resolution, notes, tags, equipment, model, site, failure,"
		      " tokenize='%s');", idx->tokenize);
	rc = exec(idx, sql.ptr);
	kb_buf_release(&sql);
	return rc;
}

static int create_schema(kb_index *idx)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = exec(idx, "BEGIN IMMEDIATE")))
		return rc;
	if ((rc = exec(idx, schema_sql)) || (rc = create_fts(idx)))
		goto done;
	if (sqlite3_prepare_v2(idx->db, "INSERT INTO meta VALUES ('schema_version', ?1),"
			       " ('tokenizer', ?2), ('commit', ''), ('df_changes', '-1')", -1, &st, NULL)) {
		rc = kb_index__sqlerr(idx, "cannot create the index");
		goto done;
	}
	sqlite3_bind_text(st, 1, KB_INDEX_SCHEMA_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, idx->tokenize, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = kb_index__sqlerr(idx, "cannot create the index");
done:
	sqlite3_finalize(st);
	if (rc) {
		sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return exec(idx, "COMMIT");
}

/* Value of a meta key into `out`; 1 when absent. */
static int meta_get(kb_index *idx, const char *key, kb_buf *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	kb_buf_clear(out);
	rc = sqlite3_prepare_v2(idx->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			kb_buf_puts(out, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return kb_index__sqlerr(idx, "cannot read the index");
}

static int meta_set(kb_index *idx, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(idx->db, "INSERT OR REPLACE INTO meta VALUES (?1, ?2)",
			       -1, &st, NULL))
		return kb_index__sqlerr(idx, "cannot write the index");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = kb_index__sqlerr(idx, "cannot write the index");
	sqlite3_finalize(st);
	return rc;
}

static int is_corruption(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* Number of objects in sqlite_schema; -1 when the file is unreadable. */
static int schema_objects(kb_index *idx)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(idx->db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * PRAGMA quick_check reads every page: 56 ms for a 24 MB index, 300 ms for
 * 100k cases (357 MB), too slow for every `kb search`.  Files up to this
 * size are checked at each open; bigger ones rely on SQLite noticing a bad
 * page when it reads it (see kb_index__sqlerr).
 */
#define QUICK_CHECK_MAX_BYTES (32 * 1024 * 1024)

int kb_index__quick_check_ok(kb_index *idx)
{
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int ok = 0;

	if (stat(idx->path, &sb) == 0 && sb.st_size > QUICK_CHECK_MAX_BYTES)
		return 1;

	if (sqlite3_prepare_v2(idx->db, "PRAGMA quick_check(1)", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		ok = r && !strcmp(r, "ok");
	}
	sqlite3_finalize(st);
	return ok;
}

/*
 * Check an opened database: 0 when it is a usable index with our settings
 * (or empty, in which case the schema is created), 1 when it must be
 * deleted and recreated, negative on errors that are not the file's fault
 * (a lock held too long, an I/O error).
 */
static int validate(kb_index *idx)
{
	kb_buf v = KB_BUF_INIT;
	int n, rc;

	n = schema_objects(idx);
	if (n < 0) {
		rc = sqlite3_errcode(idx->db);
		if (is_corruption(rc))
			return 1;
		return kb_index__sqlerr(idx, "cannot open the index");
	}
	if (n == 0)
		return create_schema(idx);
	if (!kb_index__quick_check_ok(idx))
		return 1;
	rc = meta_get(idx, "schema_version", &v);
	if (rc == 0 && strcmp(v.ptr, KB_INDEX_SCHEMA_VERSION))
		rc = 1;
	if (rc == 0 && (rc = meta_get(idx, "tokenizer", &v)) == 0 && strcmp(v.ptr, idx->tokenize))
		rc = 1;
	if (rc < 0)
		rc = is_corruption(sqlite3_errcode(idx->db)) ||
		     strstr(sqlite3_errmsg(idx->db), "no such") ? 1 : rc;
	kb_buf_release(&v);
	return rc;
}

static int open_db(kb_index *idx)
{
	int rc;

	rc = sqlite3_open_v2(idx->path, &idx->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = kb_error_set(KB_EIO, idx->path, 0, "cannot open the index: %s",
				  idx->db ? sqlite3_errmsg(idx->db) : sqlite3_errstr(rc));
		sqlite3_close(idx->db);
		idx->db = NULL;
		return rc;
	}
	sqlite3_busy_timeout(idx->db, KB_INDEX_BUSY_MS);
	sqlite3_extended_result_codes(idx->db, 1);
	if ((rc = kb_tokenizer_register_tapes(idx->db, &idx->tapes)) ||
	    (rc = kb_index__register_explain(idx)))
		return rc;
	return 0;
}

static void close_db(kb_index *idx)
{
	int i;

	for (i = 0; i < ST__COUNT; i++) {
		sqlite3_finalize(idx->st[i]);
		idx->st[i] = NULL;
	}
	kb_index__lens_discard(idx);
	sqlite3_close(idx->db);
	idx->db = NULL;
	idx->vocab_ready = 0;
	idx->ndocs = -1;
}

static void remove_files(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	kb_buf p = KB_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%s", path, suffix[i]);
		unlink(p.ptr);
	}
	kb_buf_release(&p);
}

/*
 * secure_delete is off because Debian builds SQLite with it on: every page
 * FTS5's merges free (and all of the old table in a rebuild) was written
 * again as zeros, through the WAL.  The index is a cache of text that is in
 * git anyway.  Dropping the 100,000-case table took 0.78 s of CPU and wrote
 * 361 MB of WAL with it, 0.14 s and nothing without.
 */
static int set_pragmas(kb_index *idx)
{
	/* journal_mode answers "memory" for ":memory:"; that is fine. */
	return exec(idx, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 " PRAGMA temp_store=MEMORY; PRAGMA cache_size=-8192;"
			 " PRAGMA secure_delete=OFF; PRAGMA mmap_size=1073741824");
}

/* Open, validate, and when needed delete and recreate once. */
static int open_valid(kb_index *idx)
{
	int rc;

	if ((rc = open_db(idx)))
		return rc;
	rc = validate(idx);
	if (rc == 1 && strcmp(idx->path, ":memory:")) {
		close_db(idx);
		remove_files(idx->path);
		if ((rc = open_db(idx)))
			return rc;
		rc = validate(idx);
	}
	if (rc == 1)
		rc = kb_error_set(KB_ERROR, idx->path, 0, "cannot recreate the index");
	if (rc == 0)
		rc = set_pragmas(idx);
	return rc;
}

int kb_index_open(kb_index **out, const char *path, const kb_index_options *opts)
{
	kb_index *idx;
	int rc;

	*out = NULL;
	idx = kb_xcalloc(1, sizeof(*idx));
	idx->ndocs = -1;
	idx->path = kb_xstrdup(path);
	idx->synonyms = opts ? opts->synonyms : NULL;
	set_weights(idx, opts);
	if (!(idx->tokenize = tokenize_spec(opts))) {
		rc = KB_EINPUT;
		goto done;
	}
	rc = open_valid(idx);
done:
	if (rc) {
		kb_index_close(idx);
		return rc;
	}
	*out = idx;
	return 0;
}

void kb_index_close(kb_index *idx)
{
	if (!idx)
		return;
	close_db(idx);
	kb_synonyms_free(idx->own_synonyms);
	free(idx->tokenize);
	free(idx->path);
	free(idx);
}

/* ---- writes -------------------------------------------------------- */

int kb_index_begin(kb_index *idx)
{
	return exec(idx, "BEGIN IMMEDIATE");
}

static int flush_changes(kb_index *idx);

int kb_index_commit(kb_index *idx)
{
	int rc = flush_changes(idx);

	return rc ? rc : exec(idx, "COMMIT");
}

static void rollback(kb_index *idx)
{
	if (!sqlite3_get_autocommit(idx->db))
		sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
	kb_index__lens_discard(idx);
	idx->ndocs = -1;
	idx->changes = 0;
}

/* ---- the document-frequency snapshot ----------------------------------- */

/*
 * dfcache holds every term's document frequency as of the last snapshot;
 * meta 'df_changes' counts cases written since (-1: never taken).  Reading
 * df from fts5vocab walks the term's whole doclist (about 1 ms for a term
 * in half the cases at 100k), the snapshot answers in microseconds.
 */
static int flush_changes(kb_index *idx)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = kb_index__lens_flush(idx)) || !idx->changes)
		return rc;
	if (sqlite3_prepare_v2(idx->db, "UPDATE meta SET value = CASE WHEN CAST(value AS INTEGER)"
			       " < 0 THEN -1 ELSE CAST(value AS INTEGER) + ?1 END"
			       " WHERE key = 'df_changes'", -1, &st, NULL))
		return kb_index__sqlerr(idx, "cannot write the index");
	sqlite3_bind_int64(st, 1, idx->changes);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = kb_index__sqlerr(idx, "cannot write the index");
	sqlite3_finalize(st);
	idx->changes = 0;
	return rc;
}

int64_t kb_index__df_changes(kb_index *idx)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(idx->db, "SELECT CAST(value AS INTEGER) FROM meta"
			       " WHERE key = 'df_changes'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n < 0 ? -1 : n + idx->changes;
}

int kb_index__df_stale(kb_index *idx)
{
	int64_t n = kb_index__df_changes(idx);

	return n < 0 || n > kb_index_count(idx) / 10 + 16;
}

int kb_index__vocab(kb_index *idx)
{
	if (idx->vocab_ready)
		return 0;
	if (sqlite3_exec(idx->db, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.kbvocab"
			 " USING fts5vocab(main, 'fts', 'row')", NULL, NULL, NULL))
		return kb_index__sqlerr(idx, "cannot read the index vocabulary");
	idx->vocab_ready = 1;
	return 0;
}

/* Take the snapshot inside the current transaction. */
static int refresh_df_locked(kb_index *idx)
{
	int rc;

	if ((rc = flush_changes(idx)) || (rc = kb_index__vocab(idx)))
		return rc;
	return exec(idx, "DELETE FROM dfcache;"
			 " INSERT INTO dfcache SELECT term, doc FROM temp.kbvocab;"
			 " UPDATE meta SET value = '0' WHERE key = 'df_changes'");
}

int kb_index__refresh_df(kb_index *idx)
{
	int rc;

	if (!sqlite3_get_autocommit(idx->db))
		return refresh_df_locked(idx);
	if ((rc = exec(idx, "BEGIN IMMEDIATE")))
		return rc;
	if ((rc = refresh_df_locked(idx))) {
		rollback(idx);
		return rc;
	}
	return exec(idx, "COMMIT");
}

static void join_list(kb_buf *b, const kb_case *c, const char *key, const char *sep)
{
	const char *const *items;
	size_t i, n = kb_case_get_list(c, key, &items);

	for (i = 0; i < n; i++) {
		if (b->len)
			kb_buf_puts(b, sep);
		kb_buf_puts(b, items[i]);
	}
}

static void add_part(kb_buf *b, const char *s, const char *sep)
{
	if (!s || !*s)
		return;
	if (b->len)
		kb_buf_puts(b, sep);
	kb_buf_puts(b, s);
}

/* The text of each FTS column for a case. */
void kb_index__case_columns(const kb_case *c, kb_buf col[KB_COL__COUNT])
{
	add_part(&col[KB_COL_TITLE], kb_case_title(c), "");
	add_part(&col[KB_COL_SYMPTOM], kb_case_section(c, KB_SECTION_SYMPTOM), "");
	add_part(&col[KB_COL_ENVIRONMENT], kb_case_section(c, KB_SECTION_ENVIRONMENT), "");
	add_part(&col[KB_COL_CAUSE], kb_case_section(c, KB_SECTION_CAUSE), "");
	add_part(&col[KB_COL_RESOLUTION], kb_case_section(c, KB_SECTION_RESOLUTION), "");
	add_part(&col[KB_COL_NOTES], kb_case_section(c, KB_SECTION_NOTES), "\n\n");
	add_part(&col[KB_COL_NOTES], kb_case_other_text(c), "\n\n");
	add_part(&col[KB_COL_NOTES], kb_case_section(c, KB_SECTION_ORIGINAL), "\n\n");
	join_list(&col[KB_COL_TAGS], c, "tags", ", ");
	add_part(&col[KB_COL_EQUIPMENT], kb_case_get(c, "equipment"), "");
	add_part(&col[KB_COL_MODEL], kb_case_get(c, "model"), "");
	add_part(&col[KB_COL_SITE], kb_case_get(c, "site"), "");
	add_part(&col[KB_COL_FAILURE], kb_case_get(c, "failure_mode"), "\n");
	add_part(&col[KB_COL_FAILURE], kb_case_get(c, "failure_mechanism"), "\n");
	add_part(&col[KB_COL_FAILURE], kb_case_get(c, "failure_cause"), "\n");
}

/* Front-matter values kept in docs, in the order of the docs columns. */
static const char *const doc_keys[] = {
	"equipment", "model", "site", "status", "created", "updated", "author",
};
#define NDOC_KEYS (sizeof(doc_keys) / sizeof(doc_keys[0]))

static void hash_str(uint64_t *h, const char *s)
{
	for (; s && *s; s++)
		*h = (*h ^ (unsigned char)*s) * 0x100000001b3ULL;
	*h = (*h ^ 0x1f) * 0x100000001b3ULL;
}

/* FNV-1a over everything stored for a case, as 16 hex digits. */
void kb_index__content_hash(char out[17], const kb_case *c, const char *path,
			    kb_buf col[KB_COL__COUNT])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	hash_str(&h, path);
	for (i = 0; i < KB_COL__COUNT; i++)
		hash_str(&h, col[i].ptr);
	for (i = 0; i < NDOC_KEYS; i++)
		hash_str(&h, kb_case_get(c, doc_keys[i]));
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Bind the docs columns (path, title, equipment ... author, hash) from ?2. */
static void bind_doc(sqlite3_stmt *st, const kb_case *c, const char *path, const char *hash)
{
	size_t i;

	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, kb_case_title(c), -1, SQLITE_TRANSIENT);
	for (i = 0; i < NDOC_KEYS; i++)
		sqlite3_bind_text(st, 4 + (int)i, kb_case_get(c, doc_keys[i]), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4 + (int)NDOC_KEYS, hash, -1, SQLITE_TRANSIENT);
}

/* rowid and hash of case `id`; 0 found, 1 absent, <0 error. */
static int find_id(kb_index *idx, const char *id, sqlite3_int64 *rowid, char hash[17])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = kb_index__stmt(idx, ST_FIND_ID, "SELECT rowid, hash FROM docs WHERE id = ?1", &st)))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*rowid = sqlite3_column_int64(st, 0);
		snprintf(hash, 17, "%s", (const char *)sqlite3_column_text(st, 1));
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 1 : kb_index__sqlerr(idx, "cannot read the index");
}

static int step_done(kb_index *idx, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : kb_index__sqlerr(idx, "cannot write the index");
}

static int delete_fts(kb_index *idx, sqlite3_int64 rowid)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = kb_index__stmt(idx, ST_DELETE_FTS, "DELETE FROM fts WHERE rowid = ?1", &st)))
		return rc;
	sqlite3_bind_int64(st, 1, rowid);
	if ((rc = step_done(idx, st)))
		return rc;
	return kb_index__lens_update(idx, rowid, 0);
}

static int insert_fts(kb_index *idx, sqlite3_int64 rowid, kb_buf col[KB_COL__COUNT])
{
	sqlite3_stmt *st;
	int i, rc;

	if ((rc = kb_index__stmt(idx, ST_INSERT_FTS, "INSERT INTO fts(rowid, title, symptom,"
				 " environment, cause, resolution, notes, tags, equipment, model,"
				 " site, failure) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
				 " ?11, ?12)", &st)))
		return rc;
	sqlite3_bind_int64(st, 1, rowid);
	for (i = 0; i < KB_COL__COUNT; i++)
		sqlite3_bind_text(st, 2 + i, col[i].ptr, (int)col[i].len, SQLITE_STATIC);
	if ((rc = step_done(idx, st)))
		return rc;
	return kb_index__lens_update(idx, rowid, 1);
}

static int write_doc(kb_index *idx, const kb_case *c, const char *path, const char *hash,
		     sqlite3_int64 *rowid, int update)
{
	sqlite3_stmt *st;
	int rc;

	if (update)
		rc = kb_index__stmt(idx, ST_UPDATE_DOC, "UPDATE docs SET path = ?2, title = ?3,"
				    " equipment = ?4, model = ?5, site = ?6, status = ?7,"
				    " created = ?8, updated = ?9, author = ?10, hash = ?11"
				    " WHERE rowid = ?1", &st);
	else
		rc = kb_index__stmt(idx, ST_INSERT_DOC, "INSERT INTO docs(id, path, title,"
				    " equipment, model, site, status, created, updated, author,"
				    " hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
				    &st);
	if (rc)
		return rc;
	if (update)
		sqlite3_bind_int64(st, 1, *rowid);
	else
		sqlite3_bind_text(st, 1, kb_case_id(c), -1, SQLITE_TRANSIENT);
	bind_doc(st, c, path, hash);
	if ((rc = step_done(idx, st)))
		return rc;
	if (!update)
		*rowid = sqlite3_last_insert_rowid(idx->db);
	return 0;
}

int kb_index__put_columns(kb_index *idx, const kb_case *c, const char *path,
			  kb_buf col[KB_COL__COUNT], const char *hash, int *what)
{
	sqlite3_int64 rowid = 0;
	char old[17] = "";
	int rc;

	*what = 0;
	rc = find_id(idx, kb_case_id(c), &rowid, old);
	if (rc < 0 || (rc == 0 && !strcmp(old, hash)))
		return rc < 0 ? rc : 0;
	*what = rc == 0 ? 2 : 1;
	if (rc == 0 && (rc = delete_fts(idx, rowid)))
		return rc;
	if ((rc = write_doc(idx, c, path, hash, &rowid, *what == 2)) ||
	    (rc = insert_fts(idx, rowid, col)))
		return rc;
	idx->ndocs = -1;
	idx->changes++;
	return 0;
}

/* Put a case inside the current transaction; *what = 0 unchanged, 1 added,
 * 2 replaced. */
static int put_case(kb_index *idx, const kb_case *c, const char *path, int *what)
{
	kb_buf col[KB_COL__COUNT];
	char hash[17];
	int i, rc;

	*what = 0;
	if (!*kb_case_id(c))
		return kb_error_set(KB_EINPUT, path, 0, "case has no id");
	for (i = 0; i < KB_COL__COUNT; i++)
		kb_buf_init(&col[i]);
	kb_index__case_columns(c, col);
	kb_index__content_hash(hash, c, path ? path : "", col);
	rc = kb_index__put_columns(idx, c, path ? path : "", col, hash, what);
	for (i = 0; i < KB_COL__COUNT; i++)
		kb_buf_release(&col[i]);
	return rc;
}

/* Run fn inside its own transaction unless one is open already. */
static int in_txn(kb_index *idx, int (*fn)(kb_index *, void *), void *arg)
{
	int own = sqlite3_get_autocommit(idx->db), rc;

	if (own && (rc = exec(idx, "BEGIN IMMEDIATE")))
		return rc;
	rc = fn(idx, arg);
	if (own && rc)
		rollback(idx);
	else if (own && !(rc = flush_changes(idx)))
		rc = exec(idx, "COMMIT");
	return rc;
}

struct put_arg {
	const kb_case *c;
	const char *path;
	int what;
};

static int put_fn(kb_index *idx, void *arg)
{
	struct put_arg *a = arg;

	return put_case(idx, a->c, a->path, &a->what);
}

int kb_index_put(kb_index *idx, const kb_case *c, const char *path)
{
	struct put_arg a = { c, path, 0 };

	return in_txn(idx, put_fn, &a);
}

/* Remove by id inside the current transaction; 1 when it was absent. */
static int remove_id(kb_index *idx, const char *id)
{
	sqlite3_stmt *st;
	sqlite3_int64 rowid;
	char hash[17];
	int rc;

	if ((rc = find_id(idx, id, &rowid, hash)))
		return rc;
	if ((rc = delete_fts(idx, rowid)))
		return rc;
	if ((rc = kb_index__stmt(idx, ST_DELETE_DOC, "DELETE FROM docs WHERE rowid = ?1", &st)))
		return rc;
	sqlite3_bind_int64(st, 1, rowid);
	idx->ndocs = -1;
	idx->changes++;
	return step_done(idx, st);
}

static int remove_fn(kb_index *idx, void *arg)
{
	int rc = remove_id(idx, arg);

	return rc < 0 ? rc : 0;
}

int kb_index_remove(kb_index *idx, const char *id)
{
	return in_txn(idx, remove_fn, (void *)id);
}

int64_t kb_index_count(kb_index *idx)
{
	sqlite3_stmt *st = NULL;

	if (idx->ndocs >= 0)
		return idx->ndocs;
	if (sqlite3_prepare_v2(idx->db, "SELECT count(*) FROM docs", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		idx->ndocs = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return idx->ndocs < 0 ? 0 : idx->ndocs;
}

void kb_hits_release(kb_hits *hits)
{
	size_t i;

	for (i = 0; i < hits->count; i++) {
		kb_hit *h = &hits->items[i];
		free(h->id);
		free(h->title);
		free(h->path);
		free(h->equipment);
		free(h->model);
		free(h->status);
		free(h->snippet);
		free(h->explain);
	}
	free(hits->items);
	hits->items = NULL;
	hits->count = 0;
}

/* ---- sync with a store ------------------------------------------------ */

typedef struct {
	char **v;
	size_t n, alloc;
} strvec;

static void strvec_push(strvec *s, const char *p)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 32;
		s->v = kb_xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->n++] = kb_xstrdup(p);
}

static void strvec_release(strvec *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->alloc = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop duplicates. */
static void strvec_uniq(strvec *s)
{
	size_t i, j = 0;

	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (i = 0; i < s->n; i++) {
		if (j && !strcmp(s->v[j - 1], s->v[i]))
			free(s->v[i]);
		else
			s->v[j++] = s->v[i];
	}
	s->n = j;
}

static int collect_change(kb_change_kind kind, const char *relpath, void *payload)
{
	(void)kind;
	strvec_push(payload, relpath);
	return 0;
}

/* Paths in the dirty table, appended to `paths`. */
static int read_dirty(kb_index *idx, strvec *paths)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(idx->db, "SELECT path FROM dirty", -1, &st, NULL))
		return kb_index__sqlerr(idx, "cannot read the index");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		strvec_push(paths, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : kb_index__sqlerr(idx, "cannot read the index");
}

static int write_dirty(kb_index *idx, const strvec *paths)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = exec(idx, "DELETE FROM dirty");

	if (rc)
		return rc;
	if (sqlite3_prepare_v2(idx->db, "INSERT OR IGNORE INTO dirty VALUES (?1)", -1, &st, NULL))
		return kb_index__sqlerr(idx, "cannot write the index");
	for (i = 0; i < paths->n && !rc; i++) {
		sqlite3_bind_text(st, 1, paths->v[i], -1, SQLITE_STATIC);
		rc = step_done(idx, st);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Ids stored for `path` other than `keep` (may be NULL), appended to ids. */
static int ids_at_path(kb_index *idx, const char *path, const char *keep, strvec *ids)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = kb_index__stmt(idx, ST_FIND_PATH, "SELECT id FROM docs WHERE path = ?1", &st)))
		return rc;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (!keep || strcmp(id, keep))
			strvec_push(ids, id);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : kb_index__sqlerr(idx, "cannot read the index");
}

/* Remove the cases stored for `path` except `keep`; counts removals. */
static int remove_path(kb_index *idx, const char *path, const char *keep, size_t *removed)
{
	strvec ids = { 0 };
	size_t i;
	int rc = ids_at_path(idx, path, keep, &ids);

	for (i = 0; i < ids.n && rc == 0; i++) {
		rc = remove_id(idx, ids.v[i]);
		if (rc == 0)
			(*removed)++;
		rc = rc < 0 ? rc : 0;
	}
	strvec_release(&ids);
	return rc;
}

static void count_put(kb_index_stats *stats, int what)
{
	if (what == 1)
		stats->added++;
	else if (what == 2)
		stats->updated++;
}

/* Parse `text` of `relpath` and put it; unparsable files are reported. */
static int index_text(kb_index *idx, kb_store *s, const char *relpath, const char *text,
		      size_t len, kb_index_stats *stats, kb_diags *diags, int *what)
{
	kb_case *c = NULL;
	int rc;

	*what = 0;
	rc = kb_case_parse(&c, text, len, relpath, kb_config_aliases(kb_store_config(s)));
	if (rc == 0 && !*kb_case_id(c)) {
		rc = KB_EINPUT;
		kb_error_set(rc, relpath, 0, "case has no id");
	}
	if (rc) {
		if (diags)
			kb_diags_add(diags, KB_DIAG_WARNING, relpath, kb_error_last()->line,
				     "not indexed: %s", kb_error_last()->message);
		kb_case_free(c);
		return rc == KB_EINPUT || rc == KB_EINVALID ? 1 : rc;
	}
	rc = put_case(idx, c, relpath, what);
	count_put(stats, *what);
	kb_case_free(c);
	return rc;
}

/* Bring one path up to date with its work-tree contents. */
static int sync_path(kb_index *idx, kb_store *s, const char *relpath, kb_index_stats *stats,
		     kb_diags *diags)
{
	kb_buf text = KB_BUF_INIT;
	kb_case *c = NULL;
	int rc, what;

	rc = kb_store_read_file(&text, s, relpath, KB_CASE_MAX_BYTES);
	if (rc == KB_ENOTFOUND) {
		rc = remove_path(idx, relpath, NULL, &stats->removed);
		goto done;
	}
	if (rc == KB_EINPUT) {
		if (diags)
			kb_diags_add(diags, KB_DIAG_WARNING, relpath, 0, "not indexed: %s",
				     kb_error_last()->message);
		rc = remove_path(idx, relpath, NULL, &stats->removed);
		goto done;
	}
	if (rc)
		goto done;
	rc = index_text(idx, s, relpath, text.ptr, text.len, stats, diags, &what);
	if (rc == 1) {
		rc = remove_path(idx, relpath, NULL, &stats->removed);
	} else if (rc == 0) {
		/* the id in the file may have changed: drop what it used to be */
		rc = kb_case_parse(&c, text.ptr, text.len, relpath,
				   kb_config_aliases(kb_store_config(s)));
		if (rc == 0)
			rc = remove_path(idx, relpath, kb_case_id(c), &stats->removed);
	}
done:
	kb_case_free(c);
	kb_buf_release(&text);
	return rc;
}

static void stats_init(kb_index_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
}

/* HEAD's id into oid, "" for an unborn branch. */
static int store_head(kb_store *s, char oid[41])
{
	int rc = kb_store_head(s, oid);

	if (rc == KB_ENOTFOUND) {
		oid[0] = '\0';
		return 0;
	}
	return rc;
}

/* Record HEAD and the paths that differ between HEAD and the work tree. */
static void worktree_sig(kb_buf *out, kb_store *s);

static int record_state(kb_index *idx, kb_store *s, const char *head)
{
	strvec dirty = { 0 };
	kb_buf sig = KB_BUF_INIT;
	int rc;

	worktree_sig(&sig, s);
	rc = meta_set(idx, "worktree", sig.ptr);
	kb_buf_release(&sig);
	if (rc == 0)
		rc = kb_store_changes(s, head, 1, collect_change, &dirty);
	if (rc == 0 && (rc = write_dirty(idx, &dirty)) == 0)
		rc = meta_set(idx, "commit", head);
	strvec_release(&dirty);
	return rc;
}

static int drop_all(kb_index *idx)
{
	int rc;

	kb_index__lens_discard(idx);
	if ((rc = exec(idx, "DROP TABLE IF EXISTS fts; DELETE FROM docs; DELETE FROM dirty;"
			    " DELETE FROM dfcache; DELETE FROM lens")))
		return rc;
	idx->vocab_ready = 0;
	idx->ndocs = -1;
	return create_fts(idx);
}

static int rebuild_locked(kb_index *idx, kb_store *s, kb_index_stats *stats, kb_diags *diags)
{
	char head[41];
	int rc;

	/* The old table's pages and the merges' reads would otherwise be
	 * mapped: mapped pages count in the process's resident size (the
	 * 100,000-case rebuild peaked at 489 MB with the map, see
	 * docs/internals/index.md). */
	exec(idx, "PRAGMA mmap_size=0");
	/* fts5vocab keeps a reference to the table being dropped */
	if ((rc = exec(idx, "DROP TABLE IF EXISTS temp.kbvocab")) || (rc = drop_all(idx)) ||
	    (rc = store_head(s, head))) {
		exec(idx, "PRAGMA mmap_size=1073741824");
		return rc;
	}
	exec(idx, "PRAGMA cache_size=-65536");
	rc = kb_index__load_all(idx, s, stats, diags);
	exec(idx, "PRAGMA cache_size=-8192");
	if (rc == 0)
		rc = record_state(idx, s, head);
	if (rc == 0)
		rc = refresh_df_locked(idx);
	exec(idx, "PRAGMA mmap_size=1073741824");
	stats->rebuilt = 1;
	snprintf(stats->commit, sizeof(stats->commit), "%s", head);
	return rc;
}

int kb_index_rebuild(kb_index *idx, kb_store *s, kb_index_stats *stats, kb_diags *diags)
{
	kb_index_stats local;
	int rc;

	stats = stats ? stats : &local;
	stats_init(stats);
	if ((rc = exec(idx, "BEGIN IMMEDIATE")))
		return rc;
	rc = rebuild_locked(idx, s, stats, diags);
	if (rc == 0)
		rc = flush_changes(idx);
	if (rc) {
		rollback(idx);
		return rc;
	}
	return exec(idx, "COMMIT");
}

/*
 * A cheap signature of the work tree: size and mtime of git's index file
 * and mtime of cases/.  A commit, `git add`, a checkout, and creating,
 * deleting or renaming a file directly in cases/ (which is how most editors
 * save) change it.  See "work tree" in docs/internals/index.md.
 */
static void worktree_sig(kb_buf *out, kb_store *s)
{
	kb_buf p = KB_BUF_INIT;
	struct stat a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	kb_buf_printf(&p, "%sindex", kb_store_gitdir(s));
	stat(p.ptr, &a);
	kb_buf_clear(&p);
	kb_buf_printf(&p, "%s" KB_CASES_DIR, kb_store_workdir(s));
	stat(p.ptr, &b);
	kb_buf_clear(out);
	kb_buf_printf(out, "%lld.%09ld:%lld:%lld.%09ld", (long long)a.st_mtim.tv_sec,
		      a.st_mtim.tv_nsec, (long long)a.st_size, (long long)b.st_mtim.tv_sec,
		      b.st_mtim.tv_nsec);
	kb_buf_release(&p);
}

/*
 * Paths to look at: the tree diff since `from`, the paths that were dirty
 * last time, and (when `full`, or when the work-tree signature moved) what
 * git status reports now; `dirty` receives the paths to remember as dirty.
 * *status_run tells whether git status was consulted.  KB_ENOTFOUND when
 * `from` is unknown.
 */
static int changed_paths(kb_index *idx, kb_store *s, const char *from, const char *head,
			 int full, strvec *paths, strvec *dirty, int *status_run)
{
	kb_buf sig = KB_BUF_INIT, old = KB_BUF_INIT;
	size_t i;
	int rc;

	*status_run = 0;
	if (strcmp(from, head) && (rc = kb_store_changes(s, from, 0, collect_change, paths)))
		goto done;
	worktree_sig(&sig, s);
	if ((rc = meta_get(idx, "worktree", &old)) < 0)
		goto done;
	if (full || rc == 1 || strcmp(sig.ptr, old.ptr)) {
		*status_run = 1;
		if ((rc = kb_store_changes(s, head, 1, collect_change, dirty)) ||
		    (rc = meta_set(idx, "worktree", sig.ptr)))
			goto done;
	} else if ((rc = read_dirty(idx, dirty))) {
		goto done;
	}
	if ((rc = read_dirty(idx, paths)))
		goto done;
	for (i = 0; i < dirty->n; i++)
		strvec_push(paths, dirty->v[i]);
	strvec_uniq(paths);
	strvec_uniq(dirty);
done:
	kb_buf_release(&sig);
	kb_buf_release(&old);
	return rc;
}

static int sync_locked(kb_index *idx, kb_store *s, int full, kb_index_stats *stats,
		       kb_diags *diags)
{
	strvec paths = { 0 }, dirty = { 0 };
	kb_buf from = KB_BUF_INIT;
	char head[41];
	size_t i;
	int rc, status_run = 0;

	if ((rc = store_head(s, head)) || (rc = meta_get(idx, "commit", &from)) < 0)
		goto done;
	if (!*head || (rc == 1 || !*from.ptr)) {
		rc = rebuild_locked(idx, s, stats, diags);
		goto done;
	}
	rc = changed_paths(idx, s, from.ptr, head, full, &paths, &dirty, &status_run);
	if (rc == KB_ENOTFOUND) {
		rc = rebuild_locked(idx, s, stats, diags);
		goto done;
	}
	for (i = 0; i < paths.n && rc == 0; i++)
		rc = sync_path(idx, s, paths.v[i], stats, diags);
	if (rc == 0 && status_run)
		rc = write_dirty(idx, &dirty);
	if (rc == 0 && strcmp(from.ptr, head))
		rc = meta_set(idx, "commit", head);
	if (rc == 0 && kb_index__df_stale(idx))
		rc = refresh_df_locked(idx);
	snprintf(stats->commit, sizeof(stats->commit), "%s", head);
done:
	strvec_release(&paths);
	strvec_release(&dirty);
	kb_buf_release(&from);
	return rc;
}

static int sync_mode(kb_index *idx, kb_store *s, int full, kb_index_stats *stats,
		     kb_diags *diags)
{
	kb_index_stats local;
	int rc;

	stats = stats ? stats : &local;
	stats_init(stats);
	if ((rc = exec(idx, "BEGIN IMMEDIATE")))
		return rc;
	rc = sync_locked(idx, s, full, stats, diags);
	if (rc == 0)
		rc = flush_changes(idx);
	if (rc) {
		rollback(idx);
		return rc;
	}
	return exec(idx, "COMMIT");
}

int kb_index_sync(kb_index *idx, kb_store *s, kb_index_stats *stats, kb_diags *diags)
{
	return sync_mode(idx, s, 1, stats, diags);
}

/* ---- the index of a store ------------------------------------------- */

static void options_from_config(kb_index_options *opts, const kb_config *cfg)
{
	kb_buf key = KB_BUF_INIT;
	int i;

	opts->tokenizer = kb_config_get(cfg, "search.tokenizer");
	opts->stem = kb_config_get_bool(cfg, "search.stem", 1);
	for (i = 0; i < KB_COL__COUNT; i++) {
		kb_buf_clear(&key);
		kb_buf_printf(&key, "search.weight.%s", column_names[i]);
		opts->weights[i] = kb_config_get_double(cfg, key.ptr, default_weights[i]);
	}
	kb_buf_release(&key);
}

/* The synonym table named by search.synonyms, read through the store (so
 * symlinks and paths outside the KB are refused); missing = empty. */
static const char *synonyms_file(kb_store *s)
{
	const char *file = kb_config_get(kb_store_config(s), "search.synonyms");

	return file && *file ? file : KB_SYNONYMS_FILE;
}

static int load_synonyms(kb_synonyms **out, kb_store *s)
{
	const char *file = synonyms_file(s);
	kb_buf text = KB_BUF_INIT;
	int rc;

	*out = NULL;
	rc = kb_store_read_file(&text, s, file, 16u * 1024 * 1024);
	if (rc == KB_ENOTFOUND) {
		*out = kb_synonyms_new();
		rc = 0;
	} else if (rc == 0) {
		rc = kb_synonyms_parse(out, text.ptr, text.len, file);
	}
	kb_buf_release(&text);
	return rc;
}

/* After a failure that may come from a damaged file: start afresh. */
static int reopen_rebuild(kb_index *idx, kb_store *s)
{
	int rc;

	close_db(idx);
	remove_files(idx->path);
	idx->damaged = 0;
	if ((rc = open_valid(idx)))
		return rc;
	return kb_index_rebuild(idx, s, NULL, NULL);
}

/*
 * Open the index file under the store's cache directory.  A KB whose git
 * directory cannot be written (a read-only mount, a colleague's clone
 * opened read-only) still answers searches: the index is then built in
 * memory for this process, from the work tree, and thrown away at close.
 */
static int open_cache_file(kb_index **idx, kb_store *s, kb_buf *path,
			   const kb_index_options *opts)
{
	int rc = kb_store_cachedir(path, s);

	if (rc == 0 && access(path->ptr, W_OK) == 0) {
		kb_buf_puts(path, "index.sqlite");
		return kb_index_open(idx, path->ptr, opts);
	}
	if (rc == 0 || rc == KB_EIO) {
		kb_error_clear();
		return kb_index_open(idx, ":memory:", opts);
	}
	return rc;
}

int kb_index_open_store(kb_index **out, kb_store *s)
{
	kb_index_options opts = KB_INDEX_OPTIONS_INIT;
	kb_synonyms *syn = NULL;
	kb_buf path = KB_BUF_INIT, sig = KB_BUF_INIT;
	kb_index *idx = NULL;
	int rc, fast;

	*out = NULL;
	/* taken before the sync: a change during it leaves a stale signature */
	fast = kb_index__fast_sig(&sig, kb_store_workdir(s), kb_store_gitdir(s),
				  synonyms_file(s)) == 0;
	options_from_config(&opts, kb_store_config(s));
	if ((rc = load_synonyms(&syn, s)))
		goto done;
	opts.synonyms = syn;
	if ((rc = open_cache_file(&idx, s, &path, &opts)))
		goto done;
	idx->own_synonyms = syn;
	syn = NULL;
	/* Another process holding the write lock for long is rebuilding or
	 * syncing: after a second, search what is committed rather than fail. */
	sqlite3_busy_timeout(idx->db, KB_INDEX_SYNC_WAIT_MS);
	idx->busy = 0;
	rc = sync_mode(idx, s, 0, NULL, NULL);
	sqlite3_busy_timeout(idx->db, KB_INDEX_BUSY_MS);
	if (rc == 0 && fast && strcmp(idx->path, ":memory:"))
		kb_index__fast_record(idx, sig.ptr, synonyms_file(s));
	if (rc == KB_ERROR && idx->damaged)
		rc = reopen_rebuild(idx, s);
	else if (rc == KB_ERROR && idx->busy) {
		kb_error_clear();
		rc = 0;
	}
done:
	kb_synonyms_free(syn);
	kb_buf_release(&path);
	kb_buf_release(&sig);
	if (rc) {
		kb_index_close(idx);
		return rc;
	}
	*out = idx;
	return 0;
}
