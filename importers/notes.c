/*
 * notes.c - splitting a notebook text into notes (kb/extract.h), in memory
 * or streamed from a file one line at a time (kb__notes_read_file), plus
 * the small UTF-8, date and hash helpers the importers share
 * (importers_internal.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/extract.h"
#include "importers_internal.h"

/* ---- shared helpers ------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s[i], 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t i)
{
	unsigned char c = s[i];
	size_t n, k;
	uint32_t cp;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len - i < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[i + k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i + k] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

size_t kb__utf8_invalid_at(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (u[i] >= 0x01 && u[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq(u, len, i);
		if (!n)
			return i;
		i += n;
	}
	return len;
}

int kb__utf8_require(const char *s, size_t len, const char *what)
{
	size_t bad = kb__utf8_invalid_at(s, len), i;
	int line = 1;

	if (bad == len)
		return 0;
	for (i = 0; i < bad; i++)
		line += s[i] == '\n';
	return kb_error_set(KB_EINPUT, NULL, line, "invalid UTF-8 or NUL byte in %s at byte %zu",
			    what, bad);
}

int32_t kb__utf8_decode(const char *s, size_t len, size_t i, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k, m = utf8_seq(u, len, i);
	int32_t cp;

	if (m <= 1) {
		*n = 1;
		return u[i];
	}
	cp = u[i] & (m == 2 ? 0x1F : m == 3 ? 0x0F : 0x07);
	for (k = 1; k < m; k++)
		cp = (cp << 6) | (u[i + k] & 0x3F);
	*n = m;
	return cp;
}

int kb__is_cjk(int32_t cp)
{
	return (cp >= 0x2E80 && cp <= 0x9FFF) ||   /* radicals, punctuation, kana, ideographs */
	       (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xFE30 && cp <= 0xFE4F) ||
	       (cp >= 0xFF00 && cp <= 0xFFEF) ||   /* full-width forms */
	       (cp >= 0x20000 && cp <= 0x3FFFF);
}

int kb__ascii_ncaseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kb__tolower((unsigned char)a[i]) != kb__tolower((unsigned char)b[i]))
			return 0;
	return 1;
}

uint64_t kb__fnv1a64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* ---- dates --------------------------------------------------------------- */

/* Read 1..max digits at s[*i]; -1 when there are none. */
static int read_num(const char *s, size_t len, size_t *i, int max)
{
	int v = 0, n = 0;

	while (*i < len && kb__isdigit((unsigned char)s[*i]) && n < max) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		n++;
	}
	if (!n || (*i < len && kb__isdigit((unsigned char)s[*i])))
		return -1;
	return v;
}

static int lit(const char *s, size_t len, size_t *i, const char *word)
{
	size_t n = strlen(word);

	if (len - *i < n || memcmp(s + *i, word, n))
		return 0;
	*i += n;
	return 1;
}

static int valid_md(int m, int d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

/* "3月4日" after an optional "2024年"; i at the first digit. */
static size_t date_cjk(const char *s, size_t len, kb__date *d)
{
	size_t i = 0;
	int a = read_num(s, len, &i, 4);

	d->year = 0;
	if (a < 0)
		return 0;
	if (lit(s, len, &i, "年")) {
		d->year = a;
		if ((a = read_num(s, len, &i, 2)) < 0)
			return 0;
	}
	if (!lit(s, len, &i, "月"))
		return 0;
	d->month = a;
	d->day = read_num(s, len, &i, 2);
	if (d->day < 0 || !(lit(s, len, &i, "日") || lit(s, len, &i, "号")))
		return 0;
	return valid_md(d->month, d->day) ? i : 0;
}

/* Numeric forms with '-', '/' or '.'. */
static size_t date_numeric(const char *s, size_t len, int day_first, kb__date *d)
{
	size_t i = 0, first_len;
	int a, b, c = -1;
	char sep;

	a = read_num(s, len, &i, 4);
	first_len = i;
	if (a < 0 || i >= len || (s[i] != '-' && s[i] != '/' && s[i] != '.'))
		return 0;
	sep = s[i++];
	if ((b = read_num(s, len, &i, 2)) < 0)
		return 0;
	if (i + 1 < len && s[i] == sep && kb__isdigit((unsigned char)s[i + 1])) {
		i++;
		if ((c = read_num(s, len, &i, 4)) < 0)
			return 0;
	}
	if (first_len == 4) {           /* year first: needs a day */
		if (c < 0)
			return 0;
		d->year = a, d->month = b, d->day = c;
	} else {
		if (sep != '/' && c < 0)
			return 0;               /* "3-4", "3.4" are too ambiguous */
		d->month = day_first ? b : a;
		d->day = day_first ? a : b;
		d->year = c < 0 ? 0 : c < 100 ? 2000 + c : c;
	}
	return valid_md(d->month, d->day) ? i : 0;
}

size_t kb__date_parse(const char *s, size_t len, int day_first, kb__date *d)
{
	size_t n;

	if (!len || !kb__isdigit((unsigned char)s[0]))
		return 0;
	n = date_cjk(s, len, d);
	if (!n)
		n = date_numeric(s, len, day_first, d);
	if (n && n < len && (kb__isalnum((unsigned char)s[n]) || s[n] == '/'))
		return 0;
	return n;
}

/* ---- line classification ------------------------------------------------- */

static int is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!kb__isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

/* 3+ of one of - * = _ and nothing else but spaces. */
static int is_separator(const char *s, size_t len)
{
	size_t i, n = 0;
	char c = 0;

	for (i = 0; i < len; i++) {
		if (kb__isspace((unsigned char)s[i]))
			continue;
		if (!strchr("-*=_", s[i]) || (c && s[i] != c))
			return 0;
		c = s[i];
		n++;
	}
	return n >= 3;
}

static int is_heading(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && i < 7 && s[i] == '#')
		i++;
	return i >= 1 && i <= 6 && i < len && (s[i] == ' ' || s[i] == '\t');
}

static int is_date_line(const char *s, size_t len)
{
	kb__date d;
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return kb__date_parse(s + i, len - i, 0, &d) > 0 ||
	       kb__date_parse(s + i, len - i, 1, &d) > 0;
}

typedef int (*line_pred)(const char *s, size_t len);

static line_pred mode_pred(kb_notes_mode mode)
{
	switch (mode) {
	case KB_NOTES_SEPARATOR: return is_separator;
	case KB_NOTES_HEADING: return is_heading;
	case KB_NOTES_DATE: return is_date_line;
	default: return NULL;
	}
}

/* Length of a line without the '\r' of a CRLF ending (the '\n' is not in it). */
static size_t line_len(const char *s, size_t len)
{
	return len && s[len - 1] == '\r' ? len - 1 : len;
}

/*
 * The automatic rule, fed one line at a time: separators if any, else 2+
 * headings, else 2+ date lines, else the whole text.
 */
typedef struct {
	size_t separators, headings, dates;
} mode_votes;

static void vote_line(mode_votes *v, const char *s, size_t len)
{
	len = line_len(s, len);
	if (v->separators)
		return;   /* decided */
	if (is_separator(s, len))
		v->separators++;
	else if (is_heading(s, len))
		v->headings++;
	else if (v->headings < 2 && v->dates < 2 && is_date_line(s, len))
		v->dates++;
}

static kb_notes_mode vote_result(const mode_votes *v)
{
	if (v->separators)
		return KB_NOTES_SEPARATOR;
	if (v->headings >= 2)
		return KB_NOTES_HEADING;
	if (v->dates >= 2)
		return KB_NOTES_DATE;
	return KB_NOTES_WHOLE;
}

/* ---- splitting, one line at a time ---------------------------------------- */

/*
 * The splitter: lines go in, notes come out through `fn` as soon as the
 * line that ends them is seen.  `cur` holds the current note from its first
 * non-blank line; `keep` is its length up to the end of its last non-blank
 * line (trailing blank lines and a final '\r' are not part of a note).
 */
typedef struct {
	line_pred p;
	int drop_boundary;      /* separator lines belong to no note */
	size_t max;             /* largest note, 0 = no limit */
	kb_buf cur;
	size_t keep;
	int line;               /* line of cur's first line */
	kb__note_fn fn;
	void *payload;
} splitter;

static void splitter_init(splitter *sp, kb_notes_mode mode, size_t max, kb__note_fn fn,
			  void *payload)
{
	memset(sp, 0, sizeof(*sp));
	sp->p = mode_pred(mode);
	sp->drop_boundary = mode == KB_NOTES_SEPARATOR;
	sp->max = max;
	kb_buf_init(&sp->cur);
	sp->fn = fn;
	sp->payload = payload;
}

/* Hand the current note (if it has a non-blank line) to fn and start anew. */
static int splitter_emit(splitter *sp, unsigned long long done)
{
	int rc = 0;

	if (sp->keep) {
		sp->cur.ptr[sp->keep] = '\0';
		rc = sp->fn(sp->cur.ptr, sp->keep, sp->line, done, sp->payload);
	}
	kb_buf_clear(&sp->cur);
	sp->keep = 0;
	return rc;
}

/*
 * One line of `len` bytes (without its '\n'; `nl` says whether one
 * followed) numbered `lineno`; `done` is how much of the source has been
 * read, for progress.  KB_EINPUT (line set, no path) when the note would
 * grow over sp->max.
 */
static int splitter_line(splitter *sp, const char *s, size_t len, int nl, int lineno,
			 unsigned long long done)
{
	size_t clen = line_len(s, len), before;
	int blank = is_blank(s, clen), rc;

	if (!blank && sp->p && sp->p(s, clen)) {
		if ((rc = splitter_emit(sp, done)) < 0 || sp->drop_boundary)
			return rc;
	}
	if (!sp->cur.len && blank)
		return 0;   /* blank lines before a note */
	if (!sp->cur.len)
		sp->line = lineno;
	if (sp->max && (blank ? sp->cur.len : sp->cur.len + clen) > sp->max)
		return kb_error_set(KB_EINPUT, NULL, sp->line,
				    "note too large (over %zu bytes by line %d; split it with "
				    "--split or separator lines)", sp->max, lineno);
	before = sp->cur.len;
	kb_buf_put(&sp->cur, s, len);
	if (nl)
		kb_buf_putc(&sp->cur, '\n');
	if (!blank)
		sp->keep = before + clen;
	return 0;
}

static void splitter_release(splitter *sp)
{
	kb_buf_release(&sp->cur);
}

/* ---- splitting a text in memory -------------------------------------------- */

static int collect_note(const char *text, size_t len, int line, unsigned long long done,
			void *payload)
{
	kb_notes *out = payload;
	kb_note *nt;

	(void)done;
	out->items = kb_xrealloc(out->items, (out->count + 1) * sizeof(kb_note));
	nt = &out->items[out->count++];
	nt->len = len;
	nt->text = kb_xstrndup(text, len);
	nt->line = line;
	return 0;
}

/* Call fn(line, len, nl, lineno) on every line of text. */
#define FOREACH_LINE(text, len, body)                                                  \
	do {                                                                           \
		size_t i_ = 0;                                                         \
		int lineno_ = 0;                                                       \
		while (i_ < (len)) {                                                   \
			const char *nl_ = memchr((text) + i_, '\n', (len) - i_);       \
			size_t e_ = nl_ ? (size_t)(nl_ - (text)) : (len);              \
			const char *ls = (text) + i_;                                  \
			size_t ll = e_ - i_;                                           \
			int has_nl = nl_ != NULL, lineno = ++lineno_;                  \
			(void)ls, (void)ll, (void)has_nl, (void)lineno;                \
			body;                                                          \
			i_ = e_ + 1;                                                   \
		}                                                                      \
	} while (0)

int kb_notes_split(kb_notes *out, const char *text, size_t len, kb_notes_mode mode)
{
	mode_votes v = { 0, 0, 0 };
	splitter sp;

	out->items = NULL;
	out->count = 0;
	if (kb__utf8_require(text, len, "notes"))
		return KB_EINPUT;
	if (mode == KB_NOTES_AUTO) {
		FOREACH_LINE(text, len, vote_line(&v, ls, ll));
		mode = vote_result(&v);
	}
	out->mode = mode;
	splitter_init(&sp, mode, 0, collect_note, out);
	FOREACH_LINE(text, len, splitter_line(&sp, ls, ll, has_nl, lineno, 0));
	splitter_emit(&sp, len);
	splitter_release(&sp);
	return 0;
}

/* ---- streaming a notes file ------------------------------------------------ */

/*
 * Lines of a file read in 64 KiB chunks: a line is returned whole (at most
 * `max` bytes), checked for NUL bytes and invalid UTF-8, and valid until the
 * next call.  Memory: one line plus one chunk.
 */
typedef struct {
	FILE *f;
	const char *path;
	char *buf;
	size_t cap, start, end;
	size_t max;
	int eof;
	int lineno;
	unsigned long long offset;   /* file offset of buf[start] */
} line_reader;

#define NOTES_CHUNK 65536

static int reader_open(line_reader *r, const char *path, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->max = max;
	if (!(r->f = fopen(path, "rb")))
		return kb_error_set(errno == ENOENT ? KB_ENOTFOUND : KB_EIO, path, 0,
				    "cannot read: %s", strerror(errno));
	r->cap = NOTES_CHUNK;
	r->buf = kb_xmalloc(r->cap);
	return 0;
}

static void reader_close(line_reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Read another chunk after the unread bytes (moved to the front). */
static int reader_fill(line_reader *r)
{
	size_t n;

	if (r->start) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < NOTES_CHUNK) {
		r->cap = r->end + NOTES_CHUNK;
		r->buf = kb_xrealloc(r->buf, r->cap);
	}
	n = fread(r->buf + r->end, 1, NOTES_CHUNK, r->f);
	r->end += n;
	if (n < NOTES_CHUNK) {
		if (ferror(r->f))
			return kb_error_set(KB_EIO, r->path, r->lineno + 1, "cannot read: %s",
					    strerror(errno));
		r->eof = 1;
	}
	return 0;
}

/* The bad byte at `bad` of the line s[0..len): a NUL says "binary file". */
static int reader_refuse(const line_reader *r, const char *s, size_t len, size_t bad)
{
	if (memchr(s, '\0', len))
		return kb_error_set(KB_EINPUT, r->path, r->lineno, "binary file (NUL byte), not notes");
	return kb_error_set(KB_EINPUT, r->path, r->lineno,
			    "invalid UTF-8 at byte %llu (notes must be UTF-8)",
			    r->offset + (unsigned long long)bad);
}

/* The next line: 1 and *s, *len, *nl set; 0 at the end; or an error. */
static int reader_next(line_reader *r, const char **s, size_t *len, int *nl)
{
	const char *p = NULL;
	size_t scanned = 0, bad;
	int rc;

	for (;;) {
		p = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
		if (p || r->eof)
			break;
		scanned = r->end - r->start;
		if (scanned > r->max)
			return kb_error_set(KB_EINPUT, r->path, r->lineno + 1,
					    "line %d too long (over %zu bytes): not notes?",
					    r->lineno + 1, r->max);
		if ((rc = reader_fill(r)) < 0)
			return rc;
	}
	if (!p && r->start == r->end)
		return 0;
	*s = r->buf + r->start;
	*len = p ? (size_t)(p - *s) : r->end - r->start;
	*nl = p != NULL;
	r->lineno++;
	if (*len > r->max)
		return kb_error_set(KB_EINPUT, r->path, r->lineno,
				    "line %d too long (over %zu bytes): not notes?", r->lineno, r->max);
	if ((bad = kb__utf8_invalid_at(*s, *len)) != *len)
		return reader_refuse(r, *s, *len, bad);
	r->start += *len + (size_t)*nl;
	r->offset += *len + (unsigned long long)*nl;
	return 1;
}

/* The mode the automatic rule picks for the file: a first reading pass. */
static int pick_file_mode(kb_notes_mode *out, const char *path, size_t max)
{
	mode_votes v = { 0, 0, 0 };
	line_reader r;
	const char *s;
	size_t len;
	int nl, rc;

	if ((rc = reader_open(&r, path, max)) < 0)
		return rc;
	while ((rc = reader_next(&r, &s, &len, &nl)) > 0)
		vote_line(&v, s, len);
	reader_close(&r);
	*out = vote_result(&v);
	return rc;
}

int kb__notes_read_file(const char *path, kb_notes_mode mode, kb__note_fn fn, void *payload)
{
	line_reader r = { 0 };
	splitter sp;
	const char *s;
	size_t len;
	int nl, rc;

	if (mode == KB_NOTES_AUTO && (rc = pick_file_mode(&mode, path, KB__NOTE_MAX)) < 0)
		return rc;
	splitter_init(&sp, mode, KB__NOTE_MAX, fn, payload);
	if ((rc = reader_open(&r, path, KB__NOTE_MAX)) < 0)
		goto done;
	while ((rc = reader_next(&r, &s, &len, &nl)) > 0) {
		rc = splitter_line(&sp, s, len, nl, r.lineno, r.offset);
		if (rc == KB_EINPUT && !kb_error_last()->path)
			rc = kb_error_set(rc, path, kb_error_last()->line, "%s",
					  kb_error_last()->message);
		if (rc < 0)
			goto done;
	}
	if (rc == 0)
		rc = splitter_emit(&sp, r.offset);
done:
	splitter_release(&sp);
	reader_close(&r);
	return rc;
}

void kb_notes_release(kb_notes *n)
{
	size_t i;

	for (i = 0; i < n->count; i++)
		free(n->items[i].text);
	free(n->items);
	n->items = NULL;
	n->count = 0;
	n->mode = KB_NOTES_AUTO;
}

int kb_notes_mode_parse(kb_notes_mode *out, const char *name)
{
	static const char *names[] = { "auto", "whole", "separator", "heading", "date" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*out = (kb_notes_mode)i;
			return 0;
		}
	}
	return kb_error_set(KB_EINPUT, NULL, 0, "unknown note split mode '%s'", name);
}
