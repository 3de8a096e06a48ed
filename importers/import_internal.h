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
} import_run;

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
/* Append a skipped record. */
void kb__import_skip(kb_import_result *r, const char *source, int line, const char *reason);

#endif
