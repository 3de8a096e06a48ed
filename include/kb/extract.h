/*
 * kb/extract.h - from free-text maintenance notes to draft cases: splitting
 * a notebook into notes (notes.c) and deriving date, site, equipment,
 * symptom, cause, resolution and author from one note (extract.c).
 *
 * Both work on UTF-8 text in English and Chinese with rules that can be
 * read and tested: cue words per slot, clause splitting, signature and site
 * patterns and an equipment lexicon (docs/extraction.md).  Invalid UTF-8
 * and NUL bytes are refused with KB_EINPUT, never guessed at.
 */
#ifndef KB_EXTRACT_H
#define KB_EXTRACT_H

#include <stddef.h>

#include "kb/abbrev.h"
#include "kb/buf.h"
#include "kb/case.h"
#include "kb/error.h"

/* ---- notes: one notebook text -> many notes ---------------------------- */

typedef enum {
	KB_NOTES_AUTO = 0,   /* pick one of the modes below (rule in docs/extraction.md) */
	KB_NOTES_WHOLE,      /* the whole text is one note */
	KB_NOTES_SEPARATOR,  /* split at lines of 3+ '-', '*', '=' or '_' (dropped) */
	KB_NOTES_HEADING,    /* each Markdown heading line starts a note */
	KB_NOTES_DATE,       /* each line starting with a date starts a note */
} kb_notes_mode;

typedef struct {
	char *text;   /* owned; the note's lines verbatim, without leading and
	               * trailing blank lines; NUL-terminated */
	size_t len;
	int line;     /* 1-based line of the note's first line in the source */
} kb_note;

typedef struct {
	kb_note *items;
	size_t count;
	kb_notes_mode mode;   /* the mode actually used (never AUTO) */
} kb_notes;

#define KB_NOTES_INIT { NULL, 0, KB_NOTES_AUTO }

/*
 * Split `len` bytes of `text` into notes stored in `out` (its previous
 * content is not freed: pass KB_NOTES_INIT or a released list; free the
 * result with kb_notes_release()).  Blank notes are dropped, so an empty or
 * blank text gives zero notes.  Returns 0, or KB_EINPUT (message with
 * the line) for invalid UTF-8 or a NUL byte; then `out` is left empty.
 */
int kb_notes_split(kb_notes *out, const char *text, size_t len, kb_notes_mode mode);
/* Free every note and leave `n` as KB_NOTES_INIT. */
void kb_notes_release(kb_notes *n);
/* "auto", "whole", "separator", "heading", "date"; KB_EINPUT for others. */
int kb_notes_mode_parse(kb_notes_mode *out, const char *name);

/* ---- extraction: one note -> fields ------------------------------------ */

typedef struct {
	unsigned version;
	int year;                  /* year for dates written without one; 0 = unknown */
	int day_first;             /* read "03/04" as 3 April (default 0: 4 March) */
	const kb_abbrev *abbrev;   /* expand Latin shorthand first; may be NULL */
} kb_extract_options;

#define KB_EXTRACT_OPTIONS_VERSION 1
#define KB_EXTRACT_OPTIONS_INIT { KB_EXTRACT_OPTIONS_VERSION, 0, 0, NULL }

/* Every string is owned by the extraction and NULL when not found. */
typedef struct {
	char *date;          /* "2024-03-04", or "03-04" when the year is unknown */
	char *date_text;     /* the date as written: "03/04", "3月4日" */
	char *site;          /* "Plant 3", "Building 2", "3号楼", "A栋" */
	char *equipment;     /* canonical English name: "chiller", "air handling unit" */
	char *equipment_text;/* the word as written: "ch", "冷机" */
	char *equipment_id;  /* "CH-2" */
	char *title;         /* equipment + symptom, at most ~80 bytes */
	char *symptom;
	char *checks;        /* inspection steps: "checked condenser fans" */
	char *cause;
	char *resolution;
	char *author;        /* "zhang", "张工" */
} kb_extraction;

/*
 * Extract the fields of one note.  `x` is filled from scratch (previous
 * content is not freed: pass a zeroed struct or one released with
 * kb_extraction_release()).  `opts` may be NULL.  Returns 0 (even when
 * nothing was found), or KB_EINPUT for invalid UTF-8 or a NUL byte, leaving
 * `x` all NULL.
 */
int kb_extract_note(kb_extraction *x, const char *text, size_t len,
		    const kb_extract_options *opts);
/* Free every field and zero `x`. */
void kb_extraction_release(kb_extraction *x);

/* Where a note came from, for the provenance keys of a draft case. */
typedef struct {
	const char *id;      /* case id; NULL for "draft-" + 12 hex digits of the hash */
	const char *source;  /* file or URL; may be NULL */
	int line;            /* first line of the note in the source; 0 when unknown */
} kb_extract_source;

/*
 * Build a draft case from an extraction and the note's original text:
 * front matter id, title, status draft, equipment, equipment_id, site,
 * author, created (the date, when its year is known), source, source_line
 * and source_hash (16 hex digits of FNV-1a 64 over the original bytes);
 * sections Symptom, Cause, Resolution (checks first) when found, and
 * "Original text" (KB_SECTION_ORIGINAL) holding `text` verbatim inside a
 * fenced block; Chinese headings (故障现象 ...) for a Chinese note.  Pass
 * text already masked with kb_redact_text(): nothing is masked here.  The caller frees *out with kb_case_free().  Returns 0, or
 * KB_EINPUT for invalid UTF-8 (then *out is NULL).
 */
int kb_extract_to_case(kb_case **out, const kb_extraction *x, const char *text, size_t len,
		       const kb_extract_source *src);

/* FNV-1a 64 of `len` bytes as 16 lower-case hex digits into hex[17]. */
void kb_extract_hash(char hex[17], const char *text, size_t len);

#endif
