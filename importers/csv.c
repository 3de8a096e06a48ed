/*
 * csv.c - `kb import csv`: work-order and helpdesk exports through libcsv.
 * Reads UTF-8 (BOM dropped) or GBK/GB18030 (iconv), detects ',' ';' or tab,
 * maps columns to case fields ("title=Summary,symptom=Problem") and feeds
 * every row through the import pipeline (import_internal.h).
 */
#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

#define NFIELDS IMPORT_NFIELDS
#define field_names kb__import_field_names

typedef struct {
	import_run *run;
	const char *path;
	char *map_col[NFIELDS];   /* column name per field, or NULL */
	int col[NFIELDS];         /* column index per field, -1 when unmapped */
	kb_buf *row;              /* fields of the current row */
	size_t nrow, alloc;
	char **header;
	size_t nheader;
	int rownum;               /* 1-based row number, header = 1 */
	int rc;
} csv_state;

/* ---- the column map ---------------------------------------------------- */

/* "title=Summary,symptom=Problem" into st->map_col. */
static int parse_map(csv_state *st, const char *map)
{
	return kb__import_parse_map(st->map_col, map, "column map", "Column");
}

/* ---- rows -------------------------------------------------------------- */

static int resolve_header(csv_state *st)
{
	size_t f, i;

	st->header = kb_xcalloc(st->nrow ? st->nrow : 1, sizeof(*st->header));
	st->nheader = st->nrow;
	for (i = 0; i < st->nrow; i++)
		st->header[i] = kb_xstrdup(st->row[i].ptr);
	for (f = 0; f < NFIELDS; f++) {
		st->col[f] = -1;
		for (i = 0; st->map_col[f] && i < st->nheader && st->col[f] < 0; i++)
			if (!strcmp(st->header[i], st->map_col[f]))
				st->col[f] = (int)i;
		if (st->map_col[f] && st->col[f] < 0)
			return kb_error_set(KB_EINPUT, st->path, 1,
					    "no column '%s' (mapped to %s) in the header",
					    st->map_col[f], field_names[f]);
	}
	return 0;
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* One data row: its original text ("Column: value" lines) and fields. */
static int import_row(csv_state *st)
{
	kb_extraction x = { 0 };
	char **slot[NFIELDS];
	kb_buf text = KB_BUF_INIT;
	size_t i, f;
	int rc;

	kb__import_field_slots(&x, slot);
	if (st->nrow != st->nheader) {
		kb_buf_printf(&text, "ragged row: %zu fields, the header has %zu", st->nrow,
			      st->nheader);
		kb__import_skip(st->run->r, st->path, st->rownum, text.ptr);
		kb_buf_release(&text);
		return 0;
	}
	for (i = 0; i < st->nrow; i++)
		if (st->row[i].len)
			kb_buf_printf(&text, "%s: %s\n", st->header[i], st->row[i].ptr);
	if (!text.len) {
		kb__import_skip(st->run->r, st->path, st->rownum, "empty");
		return 0;
	}
	for (f = 0; f < NFIELDS; f++)
		if (st->col[f] >= 0 && st->row[st->col[f]].len)
			*slot[f] = kb_xstrdup(st->row[st->col[f]].ptr);
	if (x.equipment)
		lower_ascii(x.equipment);
	rc = kb__import_record(st->run, st->path, st->rownum, text.ptr, text.len, &x);
	kb_extraction_release(&x);
	kb_buf_release(&text);
	return rc;
}

static void on_field(void *data, size_t len, void *payload)
{
	csv_state *st = payload;

	if (st->nrow == st->alloc) {
		st->alloc = st->alloc ? 2 * st->alloc : 16;
		st->row = kb_xrealloc(st->row, st->alloc * sizeof(*st->row));
	}
	kb_buf_init(&st->row[st->nrow]);
	kb_buf_put(&st->row[st->nrow++], data, len);
}

static void on_row(int c, void *payload)
{
	csv_state *st = payload;
	size_t i;

	(void)c;
	st->rownum++;
	if (st->rc == 0)
		st->rc = st->rownum == 1 ? resolve_header(st) : import_row(st);
	for (i = 0; i < st->nrow; i++)
		kb_buf_release(&st->row[i]);
	st->nrow = 0;
}

/* ---- bytes: encoding and delimiter ------------------------------------ */

/* Convert GBK/GB18030 text in `b` to UTF-8 in place. */
static int from_gb18030(kb_buf *b, const char *path)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	kb_buf out = KB_BUF_INIT;
	char *in = b->ptr, *o;
	size_t inleft = b->len, outleft;
	int rc = 0;

	if (cd == (iconv_t)-1)
		return kb_error_set(KB_ERROR, path, 0, "cannot convert from GB18030: %s",
				    strerror(errno));
	kb_buf_grow(&out, 2 * b->len + 16);
	o = out.ptr;
	outleft = out.alloc - 1;
	if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1)
		rc = kb_error_set(KB_EINPUT, path, 0,
				  "neither UTF-8 nor GB18030 (bad byte at offset %zu)",
				  (size_t)(in - b->ptr));
	iconv_close(cd);
	if (rc == 0) {
		out.len = (size_t)(o - out.ptr);
		out.ptr[out.len] = '\0';
		kb_buf_set(b, out.ptr, out.len);
	}
	kb_buf_release(&out);
	return rc;
}

/* The most frequent of ',' ';' and tab on the first line, outside quotes. */
static unsigned char detect_delim(const char *s, size_t len)
{
	size_t n[3] = { 0, 0, 0 }, i;
	int quoted = 0;

	for (i = 0; i < len && (quoted || s[i] != '\n'); i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted)
			n[0] += s[i] == ',', n[1] += s[i] == ';', n[2] += s[i] == '\t';
	}
	if (n[1] > n[0] && n[1] >= n[2])
		return ';';
	return n[2] > n[0] ? '\t' : ',';
}

static int prepare_text(kb_buf *b, const char *path)
{
	const char *nul = memchr(b->ptr, '\0', b->len);

	if (nul)
		return kb_error_set(KB_EINPUT, path, 0, "binary file (NUL byte), not CSV");
	if (b->len >= 3 && !memcmp(b->ptr, "\xEF\xBB\xBF", 3)) {
		memmove(b->ptr, b->ptr + 3, b->len - 3);
		kb_buf_truncate(b, b->len - 3);
	}
	if (kb_utf8_check(b->ptr, b->len, path) == 0)
		return 0;
	return from_gb18030(b, path);
}

static int parse_csv(csv_state *st, const kb_buf *text)
{
	struct csv_parser p;
	int rc = 0;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return kb_error_set(KB_ERROR, st->path, 0, "cannot start the CSV parser");
	csv_set_delim(&p, detect_delim(text->ptr, text->len));
	if (csv_parse(&p, text->ptr, text->len, on_field, on_row, st) != text->len ||
	    csv_fini(&p, on_field, on_row, st) != 0)
		rc = kb_error_set(KB_EINPUT, st->path, st->rownum + 1, "bad CSV: %s%s",
				  csv_strerror(csv_error(&p)),
				  csv_error(&p) == CSV_EPARSE ? " (unterminated or stray quote)" : "");
	csv_free(&p);
	return rc ? rc : st->rc;
}

int kb_import_csv(kb_import_result *out, kb_store *s, const char *path, const char *map,
		  const kb_import_options *opts)
{
	kb_import_options dflt = KB_IMPORT_OPTIONS_INIT;
	kb_buf text = KB_BUF_INIT;
	import_run run;
	csv_state st;
	size_t i;
	int rc = kb__import_begin(&run, out, s, opts ? opts : &dflt);

	memset(&st, 0, sizeof(st));
	st.run = &run;
	st.path = path;
	run.noun = "record";
	if (!map || !*map)
		map = kb_config_get(kb_store_config(s), "import.csvMap");
	if (rc == 0 && (!map || !*map))
		rc = kb_error_set(KB_EINPUT, NULL, 0, "no column map: give --map or set import.csvMap");
	if (rc == 0)
		rc = parse_map(&st, map);
	if (rc == 0)
		kb__import_source(&run, path);
	if (rc == 0 && (rc = kb__import_read(&text, path)) == 0 &&
	    (rc = prepare_text(&text, path)) == 0) {
		if (text.len == 0)
			kb__import_skip(out, path, 0, "empty");
		else
			rc = parse_csv(&st, &text);
	}
	rc = kb__import_end(&run, rc);
	for (i = 0; i < NFIELDS; i++)
		free(st.map_col[i]);
	for (i = 0; i < st.nheader; i++)
		free(st.header[i]);
	for (i = 0; i < st.nrow; i++)
		kb_buf_release(&st.row[i]);
	free(st.header);
	free(st.row);
	kb_buf_release(&text);
	return rc;
}
