/*
 * case_internal.h - private: the layout of a parsed case, shared by case.c
 * (model, edits, validation), frontmatter.c (YAML block) and sections.c
 * (headings, aliases).  Raw byte slices point either into the case's copy
 * of the parsed text (`orig`) or into memory that the slice owns.
 */
#ifndef KB_CASE_INTERNAL_H
#define KB_CASE_INTERNAL_H

#include <stddef.h>

#include "kb/buf.h"
#include "kb/case.h"

/* A run of bytes of the file; `owned` slices were malloc'd for themselves. */
typedef struct {
	const char *p;
	size_t len;
	int owned;
} kb_raw;

/* One top-level front-matter key with the bytes it came from. */
typedef struct {
	char *key;
	char *value;        /* scalar value, "" when empty; NULL for a list */
	char **items;       /* list items; a non-empty scalar is its own single item */
	size_t n_items;
	int is_list;
	int line;           /* 1-based file line of the key; 0 when added by an edit */
	kb_raw raw;         /* preceding comment lines, key line, continuation lines */
	size_t key_off;     /* offset of the key line in raw */
	size_t val_end;     /* one-line entries: offset in raw just past the value, else 0 */
} kb_fm_entry;

/* One body section: a level-2 heading and everything up to the next
 * level-1 or level-2 heading. */
typedef struct {
	kb_section pub;     /* what kb_case_section_at() returns: must stay first */
	char *heading;      /* owned storage behind pub.heading */
	char *body;         /* owned storage behind pub.body */
	kb_raw pre;         /* loose text before the heading (preamble, level-1 parts) */
	kb_raw raw;         /* heading line(s) and content */
	size_t head_len;    /* bytes of the heading line(s) at the start of raw */
} kb_sec;

struct kb_case {
	char *path;
	char *orig;             /* copy of the parsed text; NULL for kb_case_new() */
	size_t orig_len;
	const char *eol;        /* "\n" or "\r\n": line break written by edits */
	kb_raw fm_open;         /* the opening "---" line (and a BOM) with its line break */
	kb_raw fm_head;         /* YAML lines before the first entry */
	kb_fm_entry *keys;
	size_t nkeys, akeys;
	kb_raw fm_tail;         /* blank and comment lines after the last entry */
	kb_raw fm_close;        /* the closing "---" or "..." line */
	kb_sec *secs;
	size_t nsecs, asecs;
	kb_raw tail;            /* body text after the last section */
	char *other;            /* kb_case_other_text(), rebuilt after section edits */
};

/* utf8.c: 1-based line of byte `off` of `text`. */
int kb__line_of(const char *text, size_t off);

/* frontmatter.c: split and parse the front matter of c->orig; on success
 * *body_off is where the body starts and *body_line its file line. */
int kb__fm_parse(kb_case *c, size_t *body_off, int *body_line);
/* Append `s` as a YAML scalar, double-quoted when a plain scalar would not
 * read back as the same string; `flow` for an item inside [ ]. */
void kb__yaml_put_scalar(kb_buf *out, const char *s, int flow);
/* 1 when `key` must hold a single value (id, title, status ...). */
int kb__fm_scalar_key(const char *key);

/* sections.c: find the sections of the body c->orig[body_off..] with cmark. */
void kb__sections_parse(kb_case *c, size_t body_off, int body_line, const kb_aliases *al);
/* Append `len` bytes of `s` with "\r\n" and lone "\r" turned into "\n". */
void kb__put_lf(kb_buf *out, const char *s, size_t len);
/* Recompute pub.heading and pub.body of `s` from its raw bytes. */
void kb__section_fill(kb_sec *s);
/* When the Markdown `s` ends inside a block that only a marker ends (a
 * fenced code block, an HTML comment, <pre> ...), append that marker to
 * `out`; anything appended after `s` would be swallowed otherwise. */
void kb__block_closer(const char *s, size_t len, kb_buf *out);
/* The built-in aliases, built once per process. */
const kb_aliases *kb__aliases_default(void);

/* case.c: slices. */
void kb__raw_ref(kb_raw *r, const char *p, size_t len);
void kb__raw_own(kb_raw *r, char *p, size_t len);
void kb__raw_free(kb_raw *r);

#endif
