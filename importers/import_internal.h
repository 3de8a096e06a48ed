/*
 * import_internal.h - shared by the importers' sources (pipeline.c for
 * notes, csv.c): one import run and the steps every source goes through
 * (known hashes, redaction, extraction or mapped fields, duplicates, ids,
 * the transaction).
 */
#ifndef KB_IMPORT_INTERNAL_H
#define KB_IMPORT_INTERNAL_H

#include "kb/abbrev.h"
#include "kb/import.h"
#include "kb/index.h"
#include "kb/redact.h"

/* Largest source file read. */
#define IMPORT_FILE_MAX (64u * 1024 * 1024)

typedef struct {
	char hash[17];
	char *where;      /* "CHL-0001" or "notes.txt:3" */
} seen_entry;

/* An open-addressing set of source hashes (16 hex digits). */
typedef struct {
	seen_entry *slots;
	size_t count, cap;
} seen_set;

typedef struct {
	char *prefix;
	long next;
} id_counter;

/* An existing case that notes were merged into (opts->merge), staged at the end. */
typedef struct {
	char *id;
	kb_case *c;
} merged_case;

typedef struct {
	kb_store *s;
	const kb_import_options *o;
	kb_import_result *r;
	kb_abbrev *abbrev;
	kb_redactor *red;
	kb_index *idx;
	double threshold;
	seen_set seen;
	id_counter *ids;
	size_t nids;
	kb_txn *txn;
	size_t nfiles;
	char *first_file;      /* owned copy */
	const char *noun;      /* "note", "record": the commit message */
	kb_import_progress progress; /* bytes and totals kept up to date by the sources */
	merged_case *merged;
	size_t nmerged;
	char *saved_map;       /* name saved by kb__import_save_map(), for the commit */
	struct kb_simidx *sim; /* in-memory similar index, once the run is big enough */
	size_t lookups;        /* duplicate lookups made so far */
} import_run;

/* Duplicate lookups go to an in-memory index (core/simidx.h) once the run
 * has made this many through SQL, or earlier when its records so far and
 * the bytes read say it will (pipeline.c).  Tests set it. */
extern size_t kb__import_batch_after;

/* Start a run: load dictionary, redactor, known hashes, index, and begin
 * the transaction (unless dry run).  Always pair with kb__import_end(). */
int kb__import_begin(import_run *run, kb_import_result *r, kb_store *s,
		     const kb_import_options *o);
/* Import one record.  `text` is its original text (hashed, redacted, kept
 * in "Original text").  `fields` NULL: extract from the text; else the
 * record's mapped fields (redacted here unless no_redact). */
int kb__import_record(import_run *run, const char *source, int line, const char *text,
		      size_t len, const kb_extraction *fields);
/* Note `path` as a source of this run (for the commit message). */
void kb__import_source(import_run *run, const char *path);
/* Read a whole file of at most IMPORT_FILE_MAX bytes. */
int kb__import_read(kb_buf *out, const char *path);
/* Commit when rc is 0 and something was staged, then free the run. */
int kb__import_end(import_run *run, int rc);
/* Sum the sizes of the files below `paths` with these extensions (NULL:
 * every file) into run->progress.bytes_total. */
void kb__import_size_paths(import_run *run, const char *const *paths, size_t n,
			   const char *const *exts);
/* Tell the progress callback where the run is. */
void kb__import_report(import_run *run, int finished);
/* Append a skipped record. */
void kb__import_skip(kb_import_result *r, const char *source, int line, const char *reason);

/* ---- field maps of structured sources (fieldmap.c) --------------------- */

/* The map to use: `map`, else the saved import.<opts->map_name>.map
 * (KB_ENOTFOUND naming it when absent), else `fallback_key`'s value (may
 * be NULL), else NULL.  Borrowed from the store's config or `map`. */
int kb__import_pick_map(const char **out, import_run *run, const char *map,
			const char *fallback_key);
/* With opts->save_map, stage kb.conf with import.<NAME>.map = map. */
int kb__import_save_map(import_run *run, const char *map);

#define IMPORT_NFIELDS 10
/* Case fields a column or member can be mapped to, in kb_extraction order. */
extern const char *const kb__import_field_names[IMPORT_NFIELDS];
/* Index of a field name of `len` bytes, or -1. */
int kb__import_field_index(const char *name, size_t len);
/* Parse "title=Summary,symptom=Problem" into names[] (owned strings, an
 * earlier value replaced).  `what` ("column map") and `rhs` ("Column") word
 * the KB_EINPUT messages.  On failure names[] keeps what was parsed. */
int kb__import_parse_map(char *names[IMPORT_NFIELDS], const char *map, const char *what,
			 const char *rhs);
/* The address of each field's string in `x`, in field order. */
void kb__import_field_slots(kb_extraction *x, char **slot[IMPORT_NFIELDS]);

#endif
