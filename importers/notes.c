/*
 * notes.c - splitting a notebook text into notes (kb/extract.h), plus the
 * small UTF-8, date and hash helpers the importers share
 * (importers_internal.h).
 */
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

typedef struct {
	size_t start, end;   /* [start, end) without the newline */
} line_span;

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

static line_span *split_lines(const char *text, size_t len, size_t *count)
{
	line_span *v = NULL;
	size_t n = 0, alloc = 0, i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			v = kb_xrealloc(v, alloc * sizeof(*v));
		}
		v[n].start = i;
		v[n].end = (end > i && text[end - 1] == '\r') ? end - 1 : end;
		n++;
		i = end + 1;
	}
	*count = n;
	return v;
}

/* ---- splitting ------------------------------------------------------------ */

static void add_note(kb_notes *out, const char *text, const line_span *l, size_t from, size_t to)
{
	kb_note *nt;
	size_t a = from, b = to;

	while (a < b && is_blank(text + l[a].start, l[a].end - l[a].start))
		a++;
	while (b > a && is_blank(text + l[b - 1].start, l[b - 1].end - l[b - 1].start))
		b--;
	if (a == b)
		return;
	out->items = kb_xrealloc(out->items, (out->count + 1) * sizeof(kb_note));
	nt = &out->items[out->count++];
	nt->len = l[b - 1].end - l[a].start;
	nt->text = kb_xstrndup(text + l[a].start, nt->len);
	nt->line = (int)a + 1;
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

static size_t count_lines(const char *text, const line_span *l, size_t n, line_pred p)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += p(text + l[i].start, l[i].end - l[i].start) ? 1 : 0;
	return c;
}

/* The automatic rule: separators if any, else 2+ headings, else 2+ date
 * lines, else the whole text. */
static kb_notes_mode pick_mode(const char *text, const line_span *l, size_t n)
{
	if (count_lines(text, l, n, is_separator) >= 1)
		return KB_NOTES_SEPARATOR;
	if (count_lines(text, l, n, is_heading) >= 2)
		return KB_NOTES_HEADING;
	if (count_lines(text, l, n, is_date_line) >= 2)
		return KB_NOTES_DATE;
	return KB_NOTES_WHOLE;
}

int kb_notes_split(kb_notes *out, const char *text, size_t len, kb_notes_mode mode)
{
	line_span *l;
	line_pred p;
	size_t n, i, from = 0;

	out->items = NULL;
	out->count = 0;
	if (kb__utf8_require(text, len, "notes"))
		return KB_EINPUT;
	l = split_lines(text, len, &n);
	if (mode == KB_NOTES_AUTO)
		mode = pick_mode(text, l, n);
	out->mode = mode;
	p = mode_pred(mode);
	for (i = 0; p && i < n; i++) {
		if (!p(text + l[i].start, l[i].end - l[i].start))
			continue;
		add_note(out, text, l, from, i);
		from = mode == KB_NOTES_SEPARATOR ? i + 1 : i;
	}
	add_note(out, text, l, from, n);
	free(l);
	return 0;
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
