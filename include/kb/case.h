/*
 * kb/case.h - the case model: one fault report and its resolution.
 *
 * A case file is UTF-8 Markdown with YAML front matter (parsed with libyaml)
 * and a body whose level-2 headings (found with cmark) name sections.  Each
 * heading maps to a canonical section kind through a kb_aliases table
 * ("Symptom", "故障现象" -> KB_SECTION_SYMPTOM ...); unknown headings are kept
 * as KB_SECTION_OTHER.  The parsed case remembers the raw bytes of every
 * front-matter entry and every section, so kb_case_serialize() reproduces
 * the input byte-for-byte for everything that was not changed; unknown keys
 * and sections always survive a round trip.
 *
 * Ownership: kb_case_parse()/kb_case_new() return a case the caller frees
 * with kb_case_free(); every const char * returned by an accessor belongs to
 * the case and stays valid until the case is changed or freed.
 */
#ifndef KB_CASE_H
#define KB_CASE_H

#include <stddef.h>

#include "kb/buf.h"
#include "kb/error.h"

typedef enum {
	KB_SECTION_OTHER = 0,     /* a heading no alias knows; kept verbatim */
	KB_SECTION_SYMPTOM,
	KB_SECTION_ENVIRONMENT,
	KB_SECTION_CAUSE,
	KB_SECTION_RESOLUTION,
	KB_SECTION_NOTES,
	KB_SECTION_ORIGINAL,      /* imported source text kept verbatim (importers) */
	KB_SECTION__COUNT
} kb_section_kind;

typedef enum {
	KB_STATUS_UNKNOWN = 0,
	KB_STATUS_DRAFT,
	KB_STATUS_VALIDATED,
	KB_STATUS_ARCHIVED,
	KB_STATUS_OBSOLETE,
} kb_status;

/* Canonical lower-case English name of a section kind ("symptom", ...,
 * "other"); the default heading written for a new section ("Symptom"). */
const char *kb_section_name(kb_section_kind kind);
const char *kb_section_heading(kb_section_kind kind);
/* "draft" -> KB_STATUS_DRAFT ...; KB_STATUS_UNKNOWN for anything else. */
kb_status kb_status_parse(const char *s);
const char *kb_status_name(kb_status st);

/* ---- heading aliases ------------------------------------------------- */

typedef struct kb_aliases kb_aliases;

/* A table holding the built-in English and Chinese aliases (Symptom,
 * Symptoms, Fault, 故障现象, 现象, 故障描述; Environment, 环境, 设备信息;
 * Cause, Root cause, 原因, 故障原因; Resolution, Solution, Fix, 处理方法,
 * 解决方案, 处理措施; Notes, 备注; Original text, 原始记录).  Free with
 * kb_aliases_free(). */
kb_aliases *kb_aliases_new_default(void);
void kb_aliases_free(kb_aliases *a);
/* Add an alias; matching is case-insensitive and NFKC width-folded and
 * ignores surrounding spaces and a trailing ':' or '：'. */
void kb_aliases_add(kb_aliases *a, kb_section_kind kind, const char *heading);
kb_section_kind kb_aliases_lookup(const kb_aliases *a, const char *heading);

/* ---- cases ------------------------------------------------------------- */

typedef struct kb_case kb_case;

typedef struct {
	kb_section_kind kind;
	const char *heading;   /* heading text as written, without "## " */
	const char *body;      /* Markdown between this heading and the next, trimmed */
	int line;              /* 1-based line of the heading in the file */
} kb_section;

/*
 * Parse `len` bytes of `text`.  `path` is used only in messages (may be
 * NULL); `aliases` may be NULL for the defaults.  Fails with KB_EINPUT and a
 * message naming path and line for: invalid UTF-8, NUL bytes, a missing or
 * unterminated front matter block, YAML syntax errors, tabs used as YAML
 * indentation, duplicate keys, non-scalar values where a scalar is expected,
 * nested mappings.  On failure *out is NULL.
 */
int kb_case_parse(kb_case **out, const char *text, size_t len, const char *path,
		  const kb_aliases *aliases);
/* An empty case with the given id (no sections).  Never fails. */
kb_case *kb_case_new(const char *id);
void kb_case_free(kb_case *c);
/* A deep copy. */
kb_case *kb_case_dup(const kb_case *c);

const char *kb_case_id(const kb_case *c);       /* "" when missing */
const char *kb_case_title(const kb_case *c);    /* "" when missing */
const char *kb_case_path(const kb_case *c);     /* path given to parse, or NULL */
kb_status kb_case_status(const kb_case *c);

/* Front matter.  Keys are compared exactly.  kb_case_get() returns the
 * scalar value, or NULL when the key is absent or holds a list; for a list
 * key kb_case_get_list() stores the items in *items (owned by the case) and
 * returns their number (0 when absent; a scalar counts as a 1-item list). */
const char *kb_case_get(const kb_case *c, const char *key);
size_t kb_case_get_list(const kb_case *c, const char *key, const char *const **items);
/* Line of `key` in the file, 0 when unknown. */
int kb_case_key_line(const kb_case *c, const char *key);
/* Number of front-matter keys and the i-th key, in file order. */
size_t kb_case_key_count(const kb_case *c);
const char *kb_case_key_at(const kb_case *c, size_t i);

/* Set a scalar (quoted as YAML needs) or a flow list; replaces the key's
 * entry in place or appends it at the end of the front matter.  Other
 * entries keep their exact bytes.  Unset removes the key (no-op if absent). */
void kb_case_set(kb_case *c, const char *key, const char *value);
void kb_case_set_list(kb_case *c, const char *key, const char *const *items, size_t n);
void kb_case_unset(kb_case *c, const char *key);

/* Sections in file order. */
size_t kb_case_section_count(const kb_case *c);
const kb_section *kb_case_section_at(const kb_case *c, size_t i);
/* Body of the first section of `kind`, or NULL when there is none.  For
 * KB_SECTION_OTHER returns NULL. */
const char *kb_case_section(const kb_case *c, kb_section_kind kind);
/* Replace the body of the first section of `kind`, or append a new section
 * with `heading` (kb_section_heading(kind) when NULL). */
void kb_case_set_section(kb_case *c, kb_section_kind kind, const char *heading,
			 const char *body);
/* Append a section with an arbitrary heading (kept as KB_SECTION_OTHER
 * unless an alias maps it). */
void kb_case_add_section(kb_case *c, kb_section_kind kind, const char *heading,
			 const char *body);

/* All text of the case that is not title, a canonical section or metadata:
 * bodies of KB_SECTION_OTHER sections joined by blank lines.  Owned by
 * the case. */
const char *kb_case_other_text(const kb_case *c);

/* Write the case as a file: front matter then body.  Unchanged parts are
 * byte-identical to the parsed input.  Appends to `out`. */
void kb_case_serialize(const kb_case *c, kb_buf *out);

/*
 * Check the case against the format rules: id present and valid, file name
 * matches (when the case has a path), title present, a symptom section,
 * a resolution section and reviewer when status is validated, known status,
 * dates as YYYY-MM-DD that exist in the calendar, superseded_by for
 * obsolete, list-valued tags/links, no unresolved merge conflicts (the
 * "conflicts" key of kb/merge.h: an error for a validated case, else a
 * warning).  Appends one diagnostic per problem
 * (with path and line) and returns 0 when there are no errors, KB_EINVALID
 * otherwise.
 */
int kb_case_validate(const kb_case *c, kb_diags *diags);

/* 1 when `id` is a valid case id: 1-64 bytes of ASCII letters, digits, '-',
 * '_' and '.', starting with a letter or digit, without "..". */
int kb_case_id_valid(const char *id);

/* Render the case body (sections, not front matter) as HTML through cmark,
 * with a header block listing the front matter.  Appends to `out`. */
void kb_case_render_html(const kb_case *c, kb_buf *out);

/* Validate UTF-8 and reject NUL; on failure returns KB_EINPUT with the
 * line of the first bad byte recorded against `path`. */
int kb_utf8_check(const char *text, size_t len, const char *path);

#endif
