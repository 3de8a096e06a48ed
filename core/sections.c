/*
 * sections.c - the body of a case file: level-2 headings found with cmark
 * cut the body into sections; heading aliases (kb_aliases in kb/case.h)
 * map each heading to a canonical section kind after case folding, NFKC
 * width folding (utf8proc) and trimming of spaces and a trailing colon.
 */
#include <cmark.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "case_internal.h"

struct alias {
	char *norm;             /* normalised heading */
	kb_section_kind kind;
};

struct kb_aliases {
	struct alias *v;
	size_t n, alloc;
};

static const struct {
	kb_section_kind kind;
	const char *heading;
} default_aliases[] = {
	{ KB_SECTION_SYMPTOM, "Symptom" },         { KB_SECTION_SYMPTOM, "Symptoms" },
	{ KB_SECTION_SYMPTOM, "Fault" },           { KB_SECTION_SYMPTOM, "故障现象" },
	{ KB_SECTION_SYMPTOM, "现象" },            { KB_SECTION_SYMPTOM, "故障描述" },
	{ KB_SECTION_ENVIRONMENT, "Environment" }, { KB_SECTION_ENVIRONMENT, "环境" },
	{ KB_SECTION_ENVIRONMENT, "设备信息" },
	{ KB_SECTION_CAUSE, "Cause" },             { KB_SECTION_CAUSE, "Root cause" },
	{ KB_SECTION_CAUSE, "原因" },              { KB_SECTION_CAUSE, "故障原因" },
	{ KB_SECTION_RESOLUTION, "Resolution" },   { KB_SECTION_RESOLUTION, "Solution" },
	{ KB_SECTION_RESOLUTION, "Fix" },          { KB_SECTION_RESOLUTION, "处理方法" },
	{ KB_SECTION_RESOLUTION, "解决方案" },     { KB_SECTION_RESOLUTION, "处理措施" },
	{ KB_SECTION_NOTES, "Notes" },             { KB_SECTION_NOTES, "备注" },
	{ KB_SECTION_ORIGINAL, "Original text" },  { KB_SECTION_ORIGINAL, "原始记录" },
};

/* ---- aliases ------------------------------------------------------------ */

/* Fold `s` for comparison: NFKC and case folding (ASCII-only input skips
 * utf8proc), runs of white space as one space, no surrounding space, no
 * trailing ':' (a full-width '：' is ':' after NFKC). */
static void fold_heading(kb_buf *out, const char *s, size_t len)
{
	utf8proc_uint8_t *mapped = NULL;
	utf8proc_ssize_t n;
	size_t i;
	int space = 0;

	kb_buf_clear(out);
	for (i = 0; i < len && (unsigned char)s[i] < 0x80; i++)
		;
	if (i < len) {
		n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &mapped,
				 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
				 UTF8PROC_CASEFOLD);
		if (n >= 0) {
			s = (const char *)mapped;
			len = (size_t)n;
		}
	}
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			space = out->len > 0;
			continue;
		}
		if (space)
			kb_buf_putc(out, ' ');
		space = 0;
		kb_buf_putc(out, ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch);
	}
	if (out->len && out->ptr[out->len - 1] == ':')
		kb_buf_truncate(out, out->len - 1);
	while (out->len && out->ptr[out->len - 1] == ' ')
		kb_buf_truncate(out, out->len - 1);
	free(mapped);
}

kb_aliases *kb_aliases_new_default(void)
{
	kb_aliases *a = kb_xcalloc(1, sizeof(*a));
	size_t i;

	for (i = 0; i < sizeof(default_aliases) / sizeof(default_aliases[0]); i++)
		kb_aliases_add(a, default_aliases[i].kind, default_aliases[i].heading);
	return a;
}

void kb_aliases_free(kb_aliases *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		free(a->v[i].norm);
	free(a->v);
	free(a);
}

void kb_aliases_add(kb_aliases *a, kb_section_kind kind, const char *heading)
{
	kb_buf b = KB_BUF_INIT;

	if (!a || !heading || kind < KB_SECTION_OTHER || kind >= KB_SECTION__COUNT)
		return;
	fold_heading(&b, heading, strlen(heading));
	if (a->n == a->alloc) {
		a->alloc = a->alloc ? a->alloc * 2 : 32;
		a->v = kb_xrealloc(a->v, a->alloc * sizeof(*a->v));
	}
	a->v[a->n].norm = kb_buf_detach(&b);
	a->v[a->n].kind = kind;
	a->n++;
}

/* The last matching alias wins, so aliases added from a KB's config
 * override the built-in ones. */
kb_section_kind kb_aliases_lookup(const kb_aliases *a, const char *heading)
{
	kb_buf b = KB_BUF_INIT;
	kb_section_kind kind = KB_SECTION_OTHER;
	size_t i;

	if (!heading)
		return KB_SECTION_OTHER;
	if (!a)
		a = kb__aliases_default();
	fold_heading(&b, heading, strlen(heading));
	for (i = a->n; i-- > 0;) {
		if (strcmp(a->v[i].norm, b.ptr) == 0) {
			kind = a->v[i].kind;
			break;
		}
	}
	kb_buf_release(&b);
	return kind;
}

static kb_aliases *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void make_builtin(void)
{
	builtin = kb_aliases_new_default();
}

const kb_aliases *kb__aliases_default(void)
{
	pthread_once(&builtin_once, make_builtin);
	return builtin;
}

/* ---- lines -------------------------------------------------------------- */

/* Start of the line after the one holding `off`; cmark's line breaks:
 * "\n", "\r\n" and a lone "\r". */
static size_t next_line(const char *s, size_t len, size_t off)
{
	while (off < len && s[off] != '\n' && s[off] != '\r')
		off++;
	if (off < len && s[off] == '\r') {
		off++;
		if (off < len && s[off] == '\n')
			off++;
	} else if (off < len) {
		off++;
	}
	return off;
}

/* End of the line content at `off` (before its line break). */
static size_t content_end(const char *s, size_t len, size_t off)
{
	while (off < len && s[off] != '\n' && s[off] != '\r')
		off++;
	return off;
}

static int is_blank(const char *s, size_t from, size_t to)
{
	for (; from < to; from++)
		if (!strchr(" \t\r\n", s[from]))
			return 0;
	return 1;
}

/* Level of an ATX heading opening the line at `off`, 0 when none. */
static int atx_level(const char *s, size_t len, size_t off)
{
	size_t i = off, n = 0;

	while (i < len && i - off < 3 && s[i] == ' ')
		i++;
	while (i + n < len && s[i + n] == '#')
		n++;
	if (n < 1 || n > 6)
		return 0;
	i += n;
	return i == len || strchr(" \t\r\n", s[i]) ? (int)n : 0;
}

/* 1 when the line at `off` is a setext underline ("===" or "---"). */
static int is_underline(const char *s, size_t len, size_t off)
{
	size_t i = off, end = content_end(s, len, off);
	char ch;

	while (i < end && i - off < 3 && s[i] == ' ')
		i++;
	if (i >= end || (s[i] != '=' && s[i] != '-'))
		return 0;
	ch = s[i];
	while (i < end && s[i] == ch)
		i++;
	return is_blank(s, i, end);
}

/* Bytes of the heading that starts at `off`: one line for ATX, up to and
 * including the underline for setext. */
static size_t heading_len(const char *s, size_t len, size_t off)
{
	size_t p;

	if (atx_level(s, len, off))
		return next_line(s, len, off) - off;
	for (p = next_line(s, len, off); p < len; p = next_line(s, len, p))
		if (is_underline(s, len, p))
			return next_line(s, len, p) - off;
	return next_line(s, len, off) - off;
}

/* ---- heading text and body ---------------------------------------------- */

static void put_trimmed(kb_buf *out, const char *s, size_t from, size_t to)
{
	while (from < to && (s[from] == ' ' || s[from] == '\t'))
		from++;
	while (to > from && (s[to - 1] == ' ' || s[to - 1] == '\t'))
		to--;
	kb_buf_put(out, s + from, to - from);
}

/* "## Cause ##" -> "Cause"; a setext heading's text lines joined by spaces. */
static char *heading_text(const char *s, size_t len)
{
	kb_buf out = KB_BUF_INIT;
	size_t i, end, p, next;

	if (atx_level(s, len, 0)) {
		i = 0;
		while (i < len && s[i] == ' ')
			i++;
		while (i < len && s[i] == '#')
			i++;
		end = content_end(s, len, 0);
		while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		p = end;
		while (p > i && s[p - 1] == '#')
			p--;
		if (p == i || s[p - 1] == ' ' || s[p - 1] == '\t')
			end = p;
		put_trimmed(&out, s, i, end);
		return kb_buf_detach(&out);
	}
	for (p = 0; p < len; p = next) {
		next = next_line(s, len, p);
		if (next >= len || is_underline(s, len, p))
			break;
		if (out.len)
			kb_buf_putc(&out, ' ');
		put_trimmed(&out, s, p, content_end(s, len, p));
	}
	return kb_buf_detach(&out);
}

/* Markdown between heading and the next: leading blank lines and trailing
 * white space dropped, line breaks as "\n". */
static char *body_text(const char *s, size_t len)
{
	kb_buf out = KB_BUF_INIT;
	size_t p = 0, next, end = len;

	while (p < len) {
		next = next_line(s, len, p);
		if (!is_blank(s, p, next))
			break;
		p = next;
	}
	while (end > p && strchr(" \t\r\n", s[end - 1]))
		end--;
	kb__put_lf(&out, s + p, end - p);
	return kb_buf_detach(&out);
}

void kb__put_lf(kb_buf *out, const char *s, size_t len)
{
	const char *end = s + len, *cr;

	kb_buf_grow(out, len);
	while (s < end && (cr = memchr(s, '\r', (size_t)(end - s))) != NULL) {
		kb_buf_put(out, s, (size_t)(cr - s));
		kb_buf_putc(out, '\n');
		s = cr + 1 + (cr + 1 < end && cr[1] == '\n');
	}
	kb_buf_put(out, s, (size_t)(end - s));
}

void kb__section_fill(kb_sec *s)
{
	free(s->heading);
	free(s->body);
	s->heading = heading_text(s->raw.p, s->head_len);
	s->body = body_text(s->raw.p + s->head_len, s->raw.len - s->head_len);
	s->pub.heading = s->heading;
	s->pub.body = s->body;
}

/* ---- cutting the body --------------------------------------------------- */

typedef struct {
	const char *s;
	size_t len;
	size_t off;     /* start of line `line` */
	int line;       /* 1-based */
	int has_cr;     /* the text holds a '\r': take the slow path */
} cursor;

static size_t seek_line(cursor *cur, int line)
{
	const char *nl;

	while (cur->line < line && cur->off < cur->len) {
		if (cur->has_cr) {
			cur->off = next_line(cur->s, cur->len, cur->off);
		} else {
			nl = memchr(cur->s + cur->off, '\n', cur->len - cur->off);
			cur->off = nl ? (size_t)(nl - cur->s) + 1 : cur->len;
		}
		cur->line++;
	}
	return cur->off;
}

/* Fence character and length opening the line at `off`, 0 when none. */
static size_t fence_at(const char *s, size_t len, size_t off, char *ch)
{
	size_t i = off, n = 0;

	while (i < len && i - off < 3 && s[i] == ' ')
		i++;
	if (i >= len || (s[i] != '`' && s[i] != '~'))
		return 0;
	*ch = s[i];
	while (i + n < len && s[i + n] == *ch)
		n++;
	return n >= 3 ? n : 0;
}

/* A fenced code block starting at `start` and ending on the line at `end`:
 * the closing fence it still needs, if any. */
static void fence_closer(const char *s, size_t len, size_t start, size_t end, kb_buf *out)
{
	size_t n, i;
	char ch = 0, close = 0;

	n = fence_at(s, len, start, &ch);
	if (!n)
		return;     /* an indented code block ends by itself */
	if (end > start && fence_at(s, len, end, &close) >= n && close == ch) {
		for (i = end; i < len && s[i] == ' '; i++)
			;
		while (i < len && s[i] == close)
			i++;
		if (is_blank(s, i, content_end(s, len, i)))
			return;
	}
	while (n--)
		kb_buf_putc(out, ch);
}

/* 1 when the line at `off` contains `what`, ignoring ASCII case. */
static int line_has(const char *s, size_t len, size_t off, const char *what)
{
	size_t end = content_end(s, len, off), n = strlen(what);

	for (; off + n <= end; off++)
		if (strncasecmp(s + off, what, n) == 0)
			return 1;
	return 0;
}

/* HTML blocks of CommonMark types 1-5 end only at a marker, not at a blank
 * line: the marker an open one still needs, if any. */
static void html_closer(const char *s, size_t len, size_t start, size_t end, kb_buf *out)
{
	static const struct {
		const char *open, *close;
	} kinds[] = {
		{ "<script", "</script>" }, { "<pre", "</pre>" }, { "<style", "</style>" },
		{ "<textarea", "</textarea>" }, { "<!--", "-->" }, { "<?", "?>" },
		{ "<![CDATA[", "]]>" }, { "<!", ">" },
	};
	size_t i, k, n;

	for (i = start; i < len && i - start < 3 && s[i] == ' '; i++)
		;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		n = strlen(kinds[k].open);
		if (i + n > len || strncasecmp(s + i, kinds[k].open, n) != 0)
			continue;
		if (k < 4 && i + n < len && !strchr(" \t>\r\n", s[i + n]))
			return;     /* <prefix ...>: type 7, ends at a blank line */
		if (!line_has(s, len, end, kinds[k].close))
			kb_buf_puts(out, kinds[k].close);
		return;
	}
}

void kb__block_closer(const char *s, size_t len, kb_buf *out)
{
	cmark_node *doc = cmark_parse_document(s, len, CMARK_OPT_DEFAULT);
	cmark_node *last = doc ? cmark_node_last_child(doc) : NULL;
	cursor cur = { s, len, 0, 1, 1 };
	size_t start, end;

	if (last && (cmark_node_get_type(last) == CMARK_NODE_CODE_BLOCK ||
		     cmark_node_get_type(last) == CMARK_NODE_HTML_BLOCK)) {
		start = seek_line(&cur, cmark_node_get_start_line(last));
		end = seek_line(&cur, cmark_node_get_end_line(last));
		if (cmark_node_get_type(last) == CMARK_NODE_CODE_BLOCK)
			fence_closer(s, len, start, end, out);
		else
			html_closer(s, len, start, end, out);
	}
	if (doc)
		cmark_node_free(doc);
}

static kb_sec *new_section(kb_case *c)
{
	kb_sec *s;

	if (c->nsecs == c->asecs) {
		c->asecs = c->asecs ? c->asecs * 2 : 8;
		c->secs = kb_xrealloc(c->secs, c->asecs * sizeof(*c->secs));
	}
	s = &c->secs[c->nsecs++];
	memset(s, 0, sizeof(*s));
	return s;
}

static void close_section(kb_case *c, const char *b, size_t start, size_t end,
			  const kb_aliases *al)
{
	kb_sec *s = &c->secs[c->nsecs - 1];

	kb__raw_ref(&s->raw, b + start, end - start);
	kb__section_fill(s);
	s->pub.kind = kb_aliases_lookup(al, s->heading);
}

void kb__sections_parse(kb_case *c, size_t body_off, int body_line, const kb_aliases *al)
{
	const char *b = c->orig + body_off;
	size_t len = c->orig_len - body_off, loose = 0, start, open_at = 0;
	cursor cur = { b, len, 0, 1, memchr(b, '\r', len) != NULL };
	cmark_node *doc = cmark_parse_document(b, len, CMARK_OPT_DEFAULT);
	cmark_node *n;
	kb_sec *s;
	int open = 0, level;

	for (n = doc ? cmark_node_first_child(doc) : NULL; n; n = cmark_node_next(n)) {
		if (cmark_node_get_type(n) != CMARK_NODE_HEADING)
			continue;
		level = cmark_node_get_heading_level(n);
		if (level > 2)
			continue;
		start = seek_line(&cur, cmark_node_get_start_line(n));
		if (open) {
			close_section(c, b, open_at, start, al);
			loose = start;
		}
		open = level == 2;
		if (!open)
			continue;
		s = new_section(c);
		kb__raw_ref(&s->pre, b + loose, start - loose);
		s->head_len = heading_len(b, len, start);
		s->pub.line = body_line - 1 + cmark_node_get_start_line(n);
		open_at = start;
	}
	if (open)
		close_section(c, b, open_at, len, al);
	else
		kb__raw_ref(&c->tail, b + loose, len - loose);
	if (doc)
		cmark_node_free(doc);
}
