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
#include <sys/stat.h>

#include "import_internal.h"
#include "importers_internal.h"

#define NFIELDS IMPORT_NFIELDS
#define field_names kb__import_field_names

/* Bytes read from the file at a time. */
#define CSV_CHUNK 65536
/* Largest record (row): libcsv's field buffer and the row's cells together. */
#define CSV_RECORD_MAX (1024u * 1024)

typedef struct {
	import_run *run;
	const char *path;
	char *map_col[NFIELDS];   /* column name per field, or NULL */
	int col[NFIELDS];         /* column index per field, -1 when unmapped */
	kb_buf *row;              /* fields of the current row */
	size_t nrow, alloc;
	char **header;
	size_t nheader;
	size_t rowbytes;          /* bytes in the cells of the current row */
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
	st->rowbytes += len;
	if (st->rowbytes > CSV_RECORD_MAX && st->rc == 0)
		st->rc = kb_error_set(KB_EINPUT, st->path, st->rownum + 1,
				      "record %d too large (over %u bytes)", st->rownum + 1,
				      CSV_RECORD_MAX);
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
	st->rowbytes = 0;
}

/* ---- bytes: a streaming decoder ----------------------------------------- */

/*
 * The file is read in chunks of CSV_CHUNK bytes and decoded to UTF-8 as it
 * goes: until the first non-ASCII byte the encoding is open; the first chunk
 * holding one decides (valid UTF-8, else GB18030 through iconv).  A UTF-8
 * sequence or GB18030 character cut by the end of a chunk is carried over
 * to the next one.  Text that then turns out to be neither stops the run.
 */

enum { ENC_OPEN, ENC_UTF8, ENC_GB18030 };

typedef struct {
	const char *path;
	int enc;
	iconv_t cd;
	char carry[8];             /* bytes of a sequence cut by the chunk's end */
	size_t ncarry;
	unsigned long long offset; /* bytes of the file decoded so far */
	int line;                  /* newlines seen so far + 1, for messages */
	int first;                 /* no byte decoded yet (BOM) */
} decoder;

/* Bytes at the end of s[0..len) that start an incomplete UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len)
{
	size_t i, need;
	unsigned char c;

	for (i = 1; i <= 3 && i <= len; i++) {
		c = (unsigned char)s[len - i];
		if ((c & 0xC0) == 0x80)
			continue;  /* continuation: look further back */
		need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
		return need > i ? i : 0;
	}
	return 0;
}

static int count_lines(const char *s, size_t len)
{
	int n = 0;
	const char *p = s, *end = s + len;

	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

static int decode_gb18030(decoder *d, kb_buf *out, const char *in, size_t len, int last)
{
	char *ip = (char *)in, *op;
	size_t inleft = len, outleft;

	if (d->cd == (iconv_t)-1 && (d->cd = iconv_open("UTF-8", "GB18030")) == (iconv_t)-1)
		return kb_error_set(KB_ERROR, d->path, 0, "cannot convert from GB18030: %s",
				    strerror(errno));
	while (inleft > 0) {
		kb_buf_grow(out, 2 * inleft + 16);
		op = out->ptr + out->len;
		outleft = out->alloc - out->len - 1;
		if (iconv(d->cd, &ip, &inleft, &op, &outleft) == (size_t)-1 && errno != E2BIG) {
			out->len = (size_t)(op - out->ptr);
			if (errno == EINVAL && !last && inleft < sizeof(d->carry)) {
				memcpy(d->carry, ip, inleft);
				d->ncarry = inleft;
				break;
			}
			return kb_error_set(KB_EINPUT, d->path, d->line + count_lines(in, (size_t)(ip - in)),
					    "neither UTF-8 nor GB18030 (bad byte at offset %llu)",
					    d->offset + (unsigned long long)(ip - in));
		}
		out->len = (size_t)(op - out->ptr);
	}
	out->ptr[out->len] = '\0';
	return 0;
}

/* Decode buf[0..len) (the carry already in front) into out. */
static int decode_text(decoder *d, kb_buf *out, const char *buf, size_t len, int last)
{
	size_t cut = last ? 0 : utf8_cut(buf, len), bad, i;

	if (d->enc == ENC_OPEN) {
		for (i = 0; i < len && !((unsigned char)buf[i] & 0x80); i++)
			;
		if (i < len)
			d->enc = kb__utf8_invalid_at(buf, len - cut) == len - cut ? ENC_UTF8 : ENC_GB18030;
	}
	if (d->enc == ENC_GB18030)
		return decode_gb18030(d, out, buf, len, last);
	bad = kb__utf8_invalid_at(buf, len - cut);
	if (bad < len - cut)
		return kb_error_set(KB_EINPUT, d->path, d->line + count_lines(buf, bad),
				    "invalid UTF-8 at offset %llu (the file started as UTF-8)",
				    d->offset + bad);
	kb_buf_put(out, buf, len - cut);
	memcpy(d->carry, buf + len - cut, cut);
	d->ncarry = cut;
	return 0;
}

/* Decode one chunk read from the file (`last`: the end of the file). */
static int decode_chunk(decoder *d, kb_buf *out, const char *in, size_t len, int last)
{
	char buf[CSV_CHUNK + sizeof(d->carry)];
	const char *nul = memchr(in, '\0', len);
	size_t n = d->ncarry;
	int rc;

	if (nul)
		return kb_error_set(KB_EINPUT, d->path, d->line + count_lines(in, (size_t)(nul - in)),
				    "binary file (NUL byte), not CSV");
	memcpy(buf, d->carry, n);
	memcpy(buf + n, in, len);
	n += len;
	d->ncarry = 0;
	if (d->first && n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
		memmove(buf, buf + 3, n - 3);
		n -= 3;
	}
	d->first = d->first && n < 3 && !last;
	if ((rc = decode_text(d, out, buf, n, last)) < 0)
		return rc;
	d->line += count_lines(in, len);
	d->offset += len;
	return 0;
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

/* ---- parsing ---------------------------------------------------------- */

static int csv_failed(csv_state *st, struct csv_parser *p)
{
	return kb_error_set(KB_EINPUT, st->path, st->rownum + 1, "bad CSV: %s%s",
			    csv_strerror(csv_error(p)),
			    csv_error(p) == CSV_EPARSE ? " (unterminated or stray quote)" : "");
}

/* Feed decoded text to libcsv; a record growing past CSV_RECORD_MAX stops
 * the run (an unterminated quote would otherwise swallow the whole file). */
static int feed(csv_state *st, struct csv_parser *p, const kb_buf *text)
{
	if (csv_parse(p, text->ptr, text->len, on_field, on_row, st) != text->len)
		return st->rc ? st->rc : csv_failed(st, p);
	if (st->rc)
		return st->rc;
	if (csv_get_buffer_size(p) + st->rowbytes > CSV_RECORD_MAX)
		return kb_error_set(KB_EINPUT, st->path, st->rownum + 1,
				    "record %d too large (over %u bytes; an unterminated quote?)",
				    st->rownum + 1, CSV_RECORD_MAX);
	return 0;
}

/* Read, decode and parse the file chunk by chunk: one record in memory. */
static int parse_stream(csv_state *st, FILE *f, int *empty)
{
	struct csv_parser p;
	decoder d = { st->path, ENC_OPEN, (iconv_t)-1, { 0 }, 0, 0, 1, 1 };
	kb_buf text = KB_BUF_INIT;
	char chunk[CSV_CHUNK];
	size_t n;
	int started = 0, eof = 0, rc = 0;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return kb_error_set(KB_ERROR, st->path, 0, "cannot start the CSV parser");
	*empty = 1;
	while (rc == 0 && !eof) {
		n = fread(chunk, 1, sizeof(chunk), f);
		eof = n < sizeof(chunk);
		if (eof && ferror(f)) {
			rc = kb_error_set(KB_EIO, st->path, 0, "cannot read: %s", strerror(errno));
			break;
		}
		if ((rc = decode_chunk(&d, &text, chunk, n, eof)) < 0)
			break;
		st->run->progress.bytes = d.offset;
		/* the header line decides the delimiter: wait for all of it */
		if (!started && !memchr(text.ptr ? text.ptr : "", '\n', text.len) && !eof &&
		    text.len < CSV_RECORD_MAX)
			continue;
		if (!started) {
			started = 1;
			*empty = text.len == 0;
			csv_set_delim(&p, detect_delim(text.ptr ? text.ptr : "", text.len));
		}
		rc = feed(st, &p, &text);
		kb_buf_clear(&text);
	}
	if (rc == 0 && started && csv_fini(&p, on_field, on_row, st) != 0)
		rc = csv_failed(st, &p);
	if (rc == 0)
		rc = st->rc;
	if (d.cd != (iconv_t)-1)
		iconv_close(d.cd);
	csv_free(&p);
	kb_buf_release(&text);
	return rc;
}

int kb_import_csv(kb_import_result *out, kb_store *s, const char *path, const char *map,
		  const kb_import_options *opts)
{
	kb_import_options dflt = KB_IMPORT_OPTIONS_INIT;
	import_run run;
	csv_state st;
	struct stat sb;
	FILE *f = NULL;
	size_t i;
	int empty, rc = kb__import_begin(&run, out, s, opts ? opts : &dflt);

	memset(&st, 0, sizeof(st));
	st.run = &run;
	st.path = path;
	run.noun = "record";
	if (rc == 0)
		rc = kb__import_pick_map(&map, &run, map, "import.csvMap");
	if (rc == 0 && (!map || !*map))
		rc = kb_error_set(KB_EINPUT, NULL, 0,
				  "no column map: give --map or --map-name, or set import.csvMap");
	if (rc == 0 && (rc = parse_map(&st, map)) == 0)
		rc = kb__import_save_map(&run, map);
	if (rc == 0)
		kb__import_source(&run, path);
	if (rc == 0 && !(f = fopen(path, "rb")))
		rc = kb_error_set(errno == ENOENT ? KB_ENOTFOUND : KB_EIO, path, 0,
				  "cannot read: %s", strerror(errno));
	if (rc == 0 && fstat(fileno(f), &sb) == 0)
		run.progress.bytes_total = (unsigned long long)sb.st_size;
	if (rc == 0 && (rc = parse_stream(&st, f, &empty)) == 0 && empty)
		kb__import_skip(out, path, 0, "empty");
	if (f)
		fclose(f);
	rc = kb__import_end(&run, rc);
	for (i = 0; i < NFIELDS; i++)
		free(st.map_col[i]);
	for (i = 0; i < st.nheader; i++)
		free(st.header[i]);
	for (i = 0; i < st.nrow; i++)
		kb_buf_release(&st.row[i]);
	free(st.header);
	free(st.row);
	return rc;
}
