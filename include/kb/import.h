/*
 * kb/import.h - the import pipeline: notebooks of free-text notes become
 * draft cases in one commit per run.  Source reader -> notes -> extraction
 * (with abbreviation expansion) -> redaction -> de-duplication (source hash,
 * then similar-case lookup) -> draft cases -> one kb_txn (docs/import.md).
 *
 * Ownership: kb_import_result is filled by kb_import_notes() and released
 * with kb_import_result_release().
 */
#ifndef KB_IMPORT_H
#define KB_IMPORT_H

#include <stddef.h>

#include "kb/extract.h"
#include "kb/store.h"

/* Default similarity above which a draft is a duplicate (scores are
 * normalised so that an identical copy scores 1.0: docs/internals/index.md). */
#define KB_IMPORT_DEFAULT_THRESHOLD 0.5

/* Where a run is, for a progress bar (the library never draws one). */
typedef struct {
	size_t records;            /* records read so far (created, linked or skipped) */
	size_t records_total;      /* records expected, 0 when unknown */
	unsigned long long bytes;  /* bytes of the sources read so far */
	unsigned long long bytes_total; /* size of the sources, 0 when unknown */
	int finished;              /* 1 on the last call of a run */
} kb_import_progress;

/* Called after every record and once with finished = 1 (before the commit
 * is written): cheap, so the callback decides how often to draw. */
typedef void (*kb_import_progress_fn)(const kb_import_progress *p, void *payload);

typedef struct {
	unsigned version;
	kb_notes_mode split;       /* how files are cut into notes (default auto) */
	int year;                  /* year for dates written without one; 0 = unknown */
	int dry_run;               /* compute everything, write nothing */
	int no_redact;             /* keep phone numbers, e-mails, ids, customers (explicit) */
	double threshold;          /* duplicate score; <= 0: kb.conf import.duplicateThreshold,
	                            * else KB_IMPORT_DEFAULT_THRESHOLD */
	const kb_author *author;   /* commit author; required unless dry_run */
	kb_import_progress_fn progress; /* or NULL */
	void *progress_payload;
	int merge;                 /* fold a duplicate into the existing case instead
	                            * of creating a linked draft */
	const char *map_name;      /* csv, http without a map: kb.conf import.<NAME>.map */
	const char *save_map;      /* csv, http: save the map used as import.<NAME>.map in
	                            * kb.conf, committed with the import */
} kb_import_options;

#define KB_IMPORT_OPTIONS_VERSION 2
#define KB_IMPORT_OPTIONS_INIT { KB_IMPORT_OPTIONS_VERSION, KB_NOTES_AUTO, 0, 0, 0, 0, NULL, \
				 NULL, NULL, 0, NULL, NULL }

typedef enum {
	KB_IMPORT_CREATED = 0,     /* a new draft case */
	KB_IMPORT_DUPLICATE,       /* a draft linked to an existing case (duplicate_of) */
	KB_IMPORT_SKIPPED,         /* nothing written; see reason */
	KB_IMPORT_MERGED,          /* folded into the existing case duplicate_of (opts->merge) */
} kb_import_action;

typedef struct {
	kb_import_action action;
	char *id;            /* draft id (created, duplicate), the case merged into; NULL when skipped */
	char *duplicate_of;  /* existing case (duplicate, merged), or NULL */
	double score;        /* similarity to duplicate_of */
	char *source;        /* file the note came from */
	int line;            /* first line of the note, 0 for a whole file */
	char *reason;        /* why it was skipped, or NULL */
} kb_import_record;

typedef struct {
	kb_import_record *items;   /* in source order */
	size_t count, alloc;
	size_t created, duplicates, skipped;
	char commit[41];           /* the import commit; "" when nothing was written */
	size_t merged;
} kb_import_result;

#define KB_IMPORT_RESULT_INIT { NULL, 0, 0, 0, 0, 0, { 0 }, 0 }

/*
 * Import the notes of `npaths` files or directories (every *.txt and *.md
 * below a directory, hidden entries skipped, in name order) into the KB as
 * draft cases, in ONE commit "Import N notes from FILE" by opts->author.
 * A note whose source_hash (of its original text) is already in the KB or
 * earlier in the run is skipped; one whose similarity to an existing case
 * reaches the threshold becomes a draft with `links: [ID]` and
 * `duplicate_of: ID`.  Unless opts->no_redact, phone numbers, e-mails,
 * resident id numbers and the kb.conf `redact.customer` names are masked
 * before extraction, so they reach no file.
 *
 * With opts->merge such a note is not added: its sections are appended to
 * the existing case under "<heading> (imported from FILE:LINE)" (nothing
 * dropped), and the case records the provenance in its lists
 * `merged_sources` (FILE:LINE) and `merged_hashes` (so a re-run skips the
 * note); the case is staged in the same one commit.  Cases merged into are
 * kept in memory until the commit.
 *
 * `out` must be KB_IMPORT_RESULT_INIT or released.  Returns 0 (even when
 * nothing was created: see the counts), or KB_EINPUT for a file that
 * cannot be read as text (binary, invalid UTF-8, a line or a note over
 * 1 MiB: the message names the file and line; files are streamed, so
 * memory does not grow with their size), KB_ENOTFOUND for a missing path,
 * KB_EIO, or a kb_txn
 * error.  On failure nothing is written and `out` holds what was decided
 * before the failure.
 */
int kb_import_notes(kb_import_result *out, kb_store *s, const char *const *paths,
		    size_t npaths, const kb_import_options *opts);

/*
 * Import the rows of the CSV file `path` (importers/csv.c) through the same
 * pipeline, one record per row (line = row number, the header is row 1).
 * UTF-8 (a BOM is dropped) or GBK/GB18030; ',' ';' or tab detected from the
 * header line; quoted fields may hold delimiters and newlines.  `map` is
 * "field=Column,..." with fields date, site, equipment, equipment_id, title,
 * symptom, checks, cause, resolution, author; NULL: the saved map
 * import.<opts->map_name>.map of kb.conf (KB_ENOTFOUND when there is none),
 * else kb.conf import.csvMap.  opts->save_map NAME stores the map used as
 * import.<NAME>.map in kb.conf, staged in the import's commit (a commit
 * "Save import map NAME" when no record was imported; uncommitted edits of
 * kb.conf are committed with it).
 * A row with another number of fields than the header is skipped ("ragged
 * row").  KB_EINPUT, nothing written, for a mapped column missing from the
 * header (message names column and file), an unterminated quote, a binary
 * file or text that is neither UTF-8 nor GB18030.  Commit "Import N records
 * from FILE".  Otherwise as kb_import_notes().
 */
int kb_import_csv(kb_import_result *out, kb_store *s, const char *path, const char *map,
		  const kb_import_options *opts);

/*
 * Import mail (importers/mail.c): `npaths` .eml or mbox files, or
 * directories (every *.eml, *.mbox and *.mbx below).  A file starting with
 * "From " is an mbox.  Messages are grouped into threads by Message-ID,
 * References and In-Reply-To, else by Subject without Re:/Fwd:/回复:/转发:;
 * each thread becomes ONE record (subject, then each message "From, date:"
 * and its text oldest first, quoted "> " lines dropped): the text/plain part
 * of each message, else its text/html without tags, decoded and converted
 * to UTF-8.  Record source is the file of the thread's first message, line
 * its message number (.eml) or the line of its mbox "From " separator.
 * KB_EINPUT, nothing written, for an empty or binary file, a file that is
 * not mail, or a broken MIME structure (missing boundary, truncated):
 * the message names the file.  Commit "Import N threads from FILE".
 * Otherwise as kb_import_notes().
 */
int kb_import_mail(kb_import_result *out, kb_store *s, const char *const *paths,
		   size_t npaths, const kb_import_options *opts);

/* Where and how kb_import_http() reads; strings are borrowed. */
typedef struct {
	unsigned version;
	const char *url;           /* http:// or https:// */
	const char *map;           /* "title=summary,symptom=description,..."; NULL: the
	                            * saved map opts->map_name (required then) */
	const char *token;         /* bearer token, or NULL (the CLI reads it from --token-env) */
	const char *page_param;    /* "page": ?page=1, 2, ... until an empty page; NULL: one GET */
	int max_pages;             /* 0: 1000 */
	long connect_timeout_ms;   /* 0: 10 s */
	long timeout_ms;           /* whole request; 0: 30 s */
	int retries;               /* on timeouts and 5xx, backoff 250 ms doubling; 0: 3, < 0: none */
} kb_import_http_options;

#define KB_IMPORT_HTTP_OPTIONS_VERSION 1
#define KB_IMPORT_HTTP_OPTIONS_INIT { KB_IMPORT_HTTP_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0, 0 }

/*
 * Import the records of a JSON REST source (importers/http.c): each page is
 * an array of objects, or an object with that array under "items", "data"
 * or "results".  Fields are taken from the mapped members (as in
 * kb_import_csv(), no free-text extraction); the original text is every
 * scalar member as "key: value".  Record source is h->url, line the record
 * number in the run.  TLS is verified, redirects are followed up to 5.
 * KB_EINPUT, nothing written, for a request that fails after the retries
 * (HTTP status other than 200, timeout, redirect loop, truncated body) or a
 * page that is not JSON or holds no array: the message names the URL.
 * Commit "Import N records from URL" (the whole URL).  Otherwise as kb_import_notes().
 */
int kb_import_http(kb_import_result *out, kb_store *s, const kb_import_http_options *h,
		   const kb_import_options *opts);

/* Free every record and leave `r` as KB_IMPORT_RESULT_INIT. */
void kb_import_result_release(kb_import_result *r);

/* "created", "duplicate", "skipped". */
const char *kb_import_action_name(kb_import_action a);

/* ---- review: decisions on draft cases (importers/review.c) ----------- */

/*
 * Each decision reads the draft `id` (KB_ENOTFOUND when missing, KB_EINPUT
 * when its status is not draft) and makes exactly one commit authored by
 * `reviewer`; on failure nothing is written.  `oid` (may be NULL) receives
 * the new commit.
 *
 * Accept: status validated, reviewer "Name <email>", updated today; the
 * result must pass kb_case_validate() (else KB_EINVALID with every problem
 * in `diags`, which may then not be NULL).  Commit "Accept ID".
 */
int kb_review_accept(kb_store *s, const char *id, const kb_author *reviewer,
		     kb_diags *diags, char oid[41]);
/* Reject: status archived, rejected_reason `reason` (KB_EINPUT when empty),
 * reviewer and updated set.  Commit "Reject ID". */
int kb_review_reject(kb_store *s, const char *id, const char *reason,
		     const kb_author *reviewer, char oid[41]);
/* Merge: every section of the draft is appended to case `into` under a
 * heading "<heading> (from ID)" (nothing dropped), `into` gains a link to
 * the draft, and the draft is archived with duplicate_of: INTO.  Both files
 * in one commit "Merge ID into INTO".  KB_EINPUT when id equals into. */
int kb_review_merge(kb_store *s, const char *id, const char *into,
		    const kb_author *reviewer, char oid[41]);

#endif
