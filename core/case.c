/*
 * case.c - the case model (kb/case.h): parsing a case file into front-matter
 * entries and body sections that keep their raw bytes, accessors, edits that
 * rewrite only the part they change, byte-exact serialisation, validation
 * against the format rules (docs/format.md) and HTML rendering through cmark.
 */
#include <cmark.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "case_internal.h"
#include "kb/case.h"
#include "kb/error.h"

static const char *const section_names[KB_SECTION__COUNT] = {
	"other", "symptom", "environment", "cause", "resolution", "notes", "original"
};
static const char *const section_headings[KB_SECTION__COUNT] = {
	"Other", "Symptom", "Environment", "Cause", "Resolution", "Notes", "Original text"
};
static const char *const status_names[] = {
	"unknown", "draft", "validated", "archived", "obsolete"
};

const char *kb_section_name(kb_section_kind kind)
{
	return kind > KB_SECTION_OTHER && kind < KB_SECTION__COUNT ? section_names[kind] : "other";
}

const char *kb_section_heading(kb_section_kind kind)
{
	return kind > KB_SECTION_OTHER && kind < KB_SECTION__COUNT ? section_headings[kind]
								     : "Other";
}

kb_status kb_status_parse(const char *s)
{
	int i;

	for (i = KB_STATUS_DRAFT; s && i <= KB_STATUS_OBSOLETE; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (kb_status)i;
	return KB_STATUS_UNKNOWN;
}

const char *kb_status_name(kb_status st)
{
	return st >= KB_STATUS_DRAFT && st <= KB_STATUS_OBSOLETE ? status_names[st] : "unknown";
}

/* ---- raw slices ------------------------------------------------------- */

void kb__raw_ref(kb_raw *r, const char *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->owned = 0;
}

void kb__raw_own(kb_raw *r, char *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->owned = 1;
}

void kb__raw_free(kb_raw *r)
{
	if (r->owned)
		free((char *)r->p);
	kb__raw_ref(r, "", 0);
}

static void raw_set_buf(kb_raw *r, kb_buf *b)
{
	size_t len = b->len;

	kb__raw_free(r);
	kb__raw_own(r, kb_buf_detach(b), len);
}

/* Copy of `r` for `dst`: slices into the source text move to dst->orig,
 * owned ones are duplicated, others (static strings) are shared. */
static kb_raw raw_dup(const kb_raw *r, const kb_case *src, const kb_case *dst)
{
	kb_raw out;

	if (r->owned)
		kb__raw_own(&out, kb_xstrndup(r->p, r->len), r->len);
	else if (src->orig && r->p >= src->orig && r->p <= src->orig + src->orig_len)
		kb__raw_ref(&out, dst->orig + (r->p - src->orig), r->len);
	else
		kb__raw_ref(&out, r->p, r->len);
	return out;
}

/* ---- life cycle --------------------------------------------------------- */

static void entry_clear_value(kb_fm_entry *e)
{
	size_t i;

	if (e->is_list)
		for (i = 0; i < e->n_items; i++)
			free(e->items[i]);
	free(e->items);
	free(e->value);
	e->items = NULL;
	e->value = NULL;
	e->n_items = 0;
	e->is_list = 0;
}

static void entry_free(kb_fm_entry *e)
{
	entry_clear_value(e);
	free(e->key);
	kb__raw_free(&e->raw);
}

static void sec_free(kb_sec *s)
{
	free(s->heading);
	free(s->body);
	kb__raw_free(&s->pre);
	kb__raw_free(&s->raw);
}

static kb_case *case_alloc(const char *path)
{
	kb_case *c = kb_xcalloc(1, sizeof(*c));

	c->path = path ? kb_xstrdup(path) : NULL;
	c->eol = "\n";
	kb__raw_ref(&c->fm_open, "", 0);
	kb__raw_ref(&c->fm_head, "", 0);
	kb__raw_ref(&c->fm_tail, "", 0);
	kb__raw_ref(&c->fm_close, "", 0);
	kb__raw_ref(&c->tail, "", 0);
	c->other = kb_xstrdup("");
	return c;
}

void kb_case_free(kb_case *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nkeys; i++)
		entry_free(&c->keys[i]);
	for (i = 0; i < c->nsecs; i++)
		sec_free(&c->secs[i]);
	free(c->keys);
	free(c->secs);
	kb__raw_free(&c->fm_open);
	kb__raw_free(&c->fm_head);
	kb__raw_free(&c->fm_tail);
	kb__raw_free(&c->fm_close);
	kb__raw_free(&c->tail);
	free(c->other);
	free(c->orig);
	free(c->path);
	free(c);
}

/* Append `r` with surrounding white space trimmed, after a blank line when
 * `out` already holds text. */
static void put_para(kb_buf *out, const char *s, size_t len)
{
	while (len && strchr(" \t\r\n", s[0])) {
		s++;
		len--;
	}
	while (len && strchr(" \t\r\n", s[len - 1]))
		len--;
	if (!len)
		return;
	if (out->len)
		kb_buf_puts(out, "\n\n");
	kb__put_lf(out, s, len);
}

/* kb_case_other_text(): OTHER section bodies and text outside any section
 * (before the first heading, under level-1 headings), in file order. */
static void build_other(kb_case *c)
{
	kb_buf b = KB_BUF_INIT;
	size_t i;

	for (i = 0; i < c->nsecs; i++) {
		put_para(&b, c->secs[i].pre.p, c->secs[i].pre.len);
		if (c->secs[i].pub.kind == KB_SECTION_OTHER)
			put_para(&b, c->secs[i].body, strlen(c->secs[i].body));
	}
	put_para(&b, c->tail.p, c->tail.len);
	free(c->other);
	c->other = kb_buf_detach(&b);
}

int kb_case_parse(kb_case **out, const char *text, size_t len, const char *path,
		  const kb_aliases *aliases)
{
	kb_case *c = NULL;
	size_t body_off = 0;
	int rc, body_line = 0;

	*out = NULL;
	if (!text)
		len = 0;
	if ((rc = kb_utf8_check(text, len, path)) < 0)
		return rc;
	c = case_alloc(path);
	c->orig = kb_xstrndup(len ? text : "", len);
	c->orig_len = len;
	if ((rc = kb__fm_parse(c, &body_off, &body_line)) < 0)
		goto done;
	kb__sections_parse(c, body_off, body_line, aliases ? aliases : kb__aliases_default());
	build_other(c);
	*out = c;
	c = NULL;
done:
	kb_case_free(c);
	return rc;
}

kb_case *kb_case_new(const char *id)
{
	kb_case *c = case_alloc(NULL);

	kb__raw_ref(&c->fm_open, "---\n", 4);
	kb__raw_ref(&c->fm_close, "---\n", 4);
	kb_case_set(c, "id", id ? id : "");
	return c;
}

static void entry_dup(kb_fm_entry *e, const kb_fm_entry *s, const kb_case *src,
		      const kb_case *dst)
{
	size_t j;

	*e = *s;
	e->key = kb_xstrdup(s->key);
	e->raw = raw_dup(&s->raw, src, dst);
	e->value = s->value ? kb_xstrdup(s->value) : NULL;
	e->items = s->n_items ? kb_xmalloc(s->n_items * sizeof(*e->items)) : NULL;
	for (j = 0; j < s->n_items; j++)
		e->items[j] = e->is_list ? kb_xstrdup(s->items[j]) : e->value;
}

static void sec_dup(kb_sec *s, const kb_sec *from, const kb_case *src, const kb_case *dst)
{
	*s = *from;
	s->pre = raw_dup(&from->pre, src, dst);
	s->raw = raw_dup(&from->raw, src, dst);
	s->heading = kb_xstrdup(from->heading);
	s->body = kb_xstrdup(from->body);
	s->pub.heading = s->heading;
	s->pub.body = s->body;
}

kb_case *kb_case_dup(const kb_case *src)
{
	kb_case *c = kb_xcalloc(1, sizeof(*c));
	size_t i;

	*c = *src;
	c->path = src->path ? kb_xstrdup(src->path) : NULL;
	c->orig = src->orig ? kb_xstrndup(src->orig, src->orig_len) : NULL;
	c->fm_open = raw_dup(&src->fm_open, src, c);
	c->fm_head = raw_dup(&src->fm_head, src, c);
	c->fm_tail = raw_dup(&src->fm_tail, src, c);
	c->fm_close = raw_dup(&src->fm_close, src, c);
	c->tail = raw_dup(&src->tail, src, c);
	c->other = kb_xstrdup(src->other);
	c->keys = kb_xmalloc((src->nkeys ? src->nkeys : 1) * sizeof(*c->keys));
	c->akeys = src->nkeys;
	for (i = 0; i < src->nkeys; i++)
		entry_dup(&c->keys[i], &src->keys[i], src, c);
	c->secs = kb_xmalloc((src->nsecs ? src->nsecs : 1) * sizeof(*c->secs));
	c->asecs = src->nsecs;
	for (i = 0; i < src->nsecs; i++)
		sec_dup(&c->secs[i], &src->secs[i], src, c);
	return c;
}

/* ---- front matter accessors --------------------------------------------- */

static kb_fm_entry *find_key(const kb_case *c, const char *key)
{
	size_t i;

	for (i = 0; key && i < c->nkeys; i++)
		if (strcmp(c->keys[i].key, key) == 0)
			return &c->keys[i];
	return NULL;
}

const char *kb_case_get(const kb_case *c, const char *key)
{
	const kb_fm_entry *e = find_key(c, key);

	return e && !e->is_list ? e->value : NULL;
}

size_t kb_case_get_list(const kb_case *c, const char *key, const char *const **items)
{
	static const char *const none[1] = { NULL };
	const kb_fm_entry *e = find_key(c, key);

	if (items)
		*items = e && e->n_items ? (const char *const *)e->items : none;
	return e ? e->n_items : 0;
}

int kb_case_key_line(const kb_case *c, const char *key)
{
	const kb_fm_entry *e = find_key(c, key);

	return e ? e->line : 0;
}

size_t kb_case_key_count(const kb_case *c)
{
	return c->nkeys;
}

const char *kb_case_key_at(const kb_case *c, size_t i)
{
	return i < c->nkeys ? c->keys[i].key : NULL;
}

const char *kb_case_id(const kb_case *c)
{
	const char *v = kb_case_get(c, "id");

	return v ? v : "";
}

const char *kb_case_title(const kb_case *c)
{
	const char *v = kb_case_get(c, "title");

	return v ? v : "";
}

const char *kb_case_path(const kb_case *c)
{
	return c->path;
}

kb_status kb_case_status(const kb_case *c)
{
	return kb_status_parse(kb_case_get(c, "status"));
}

/* ---- front matter edits ------------------------------------------------- */

/* End of the bytes of `e` that hold its value: trailing blank lines and
 * comment lines (they introduce what follows) are kept by edits. */
static size_t entry_value_end(const kb_fm_entry *e)
{
	const char *s = e->raw.p;
	size_t p = e->key_off, end = e->key_off, ls;
	int blank;

	while (p < e->raw.len) {
		ls = p;
		blank = 1;
		for (; p < e->raw.len && s[p] != '\n'; p++)
			if (s[p] != ' ' && s[p] != '\t' && s[p] != '\r')
				blank = 0;
		p += p < e->raw.len;
		if (ls == e->key_off || (!blank && s[ls] != '#'))
			end = p;
	}
	return end;
}

/* The comment after a one-line value (" # note"), kept when the value is
 * replaced; *len 0 when there is none. */
static const char *entry_comment(const kb_fm_entry *e, size_t *len)
{
	const char *s = e->raw.p;
	size_t end = e->val_end;

	*len = 0;
	if (!e->val_end)
		return NULL;
	while (end < e->raw.len && s[end] != '\n' && s[end] != '\r')
		end++;
	if (!memchr(s + e->val_end, '#', end - e->val_end))
		return NULL;
	*len = end - e->val_end;
	return s + e->val_end;
}

/* Spaces before the key on its line (YAML allows an indented mapping). */
static size_t entry_indent(const kb_fm_entry *e)
{
	size_t n = 0;

	while (e->key_off + n < e->raw.len && e->raw.p[e->key_off + n] == ' ')
		n++;
	return n;
}

/* Give a new entry `e` the indentation of the first parsed key, so YAML
 * still reads one mapping when the file indents its keys (" id: X"). */
static void entry_indent_like_first(const kb_case *c, kb_fm_entry *e)
{
	for (size_t i = 0; i < c->nkeys; i++) {
		const kb_fm_entry *f = &c->keys[i];
		size_t n;

		if (f == e || f->raw.len == 0)
			continue;
		n = entry_indent(f);
		if (n) {
			kb_buf b = KB_BUF_INIT;
			kb_buf_put(&b, f->raw.p + f->key_off, n);
			raw_set_buf(&e->raw, &b);
		}
		return;
	}
}

/* The entry for `key`, appended (empty) after the last one when absent. */
static kb_fm_entry *entry_get(kb_case *c, const char *key)
{
	kb_fm_entry *e = find_key(c, key);

	if (e)
		return e;
	if (c->nkeys == c->akeys) {
		c->akeys = c->akeys ? c->akeys * 2 : 16;
		c->keys = kb_xrealloc(c->keys, c->akeys * sizeof(*c->keys));
	}
	e = &c->keys[c->nkeys++];
	memset(e, 0, sizeof(*e));
	e->key = kb_xstrdup(key);
	kb__raw_ref(&e->raw, "", 0);
	entry_indent_like_first(c, e);
	return e;
}

/* Rewrite the key line of `e` as "key:" + `value` (YAML text, may be
 * empty), keeping the comments around it. */
static void entry_rewrite(kb_case *c, kb_fm_entry *e, const kb_buf *value)
{
	kb_buf b = KB_BUF_INIT;
	size_t clen, vend = entry_value_end(e), val_end;
	const char *comment = entry_comment(e, &clen);

	kb_buf_put(&b, e->raw.p, e->key_off + entry_indent(e));
	kb__yaml_put_scalar(&b, e->key, 0);
	kb_buf_putc(&b, ':');
	kb_buf_put(&b, value->ptr, value->len);
	val_end = b.len;
	if (clen && comment[0] != ' ' && comment[0] != '\t')
		kb_buf_putc(&b, ' ');   /* libyaml accepts 'x'# c; a plain value would not */
	kb_buf_put(&b, comment, clen);
	kb_buf_puts(&b, c->eol);
	kb_buf_put(&b, e->raw.p + vend, e->raw.len - vend);
	raw_set_buf(&e->raw, &b);
	e->val_end = val_end;
}

void kb_case_set(kb_case *c, const char *key, const char *value)
{
	kb_buf text = KB_BUF_INIT;
	kb_fm_entry *e;
	char *v;

	if (!key || !*key)
		return;
	if (!value) {
		kb_case_unset(c, key);
		return;
	}
	v = kb_xstrdup(value);      /* `value` may be this entry's own string */
	e = entry_get(c, key);
	entry_clear_value(e);
	e->value = v;
	if (*v) {
		e->items = kb_xmalloc(sizeof(*e->items));
		e->items[0] = e->value;
		e->n_items = 1;
		kb_buf_putc(&text, ' ');
		kb__yaml_put_scalar(&text, v, 0);
	}
	entry_rewrite(c, e, &text);
	kb_buf_release(&text);
}

void kb_case_set_list(kb_case *c, const char *key, const char *const *items, size_t n)
{
	kb_buf text = KB_BUF_INIT;
	char **copy;
	kb_fm_entry *e;
	size_t i;

	if (!key || !*key)
		return;
	copy = kb_xmalloc((n ? n : 1) * sizeof(*copy));   /* `items` may be this entry's */
	kb_buf_puts(&text, " [");
	for (i = 0; i < n; i++) {
		copy[i] = kb_xstrdup(items[i] ? items[i] : "");
		if (i)
			kb_buf_puts(&text, ", ");
		kb__yaml_put_scalar(&text, copy[i], 1);
	}
	e = entry_get(c, key);
	entry_clear_value(e);
	e->is_list = 1;
	e->items = copy;
	e->n_items = n;
	kb_buf_putc(&text, ']');
	entry_rewrite(c, e, &text);
	kb_buf_release(&text);
}

void kb_case_unset(kb_case *c, const char *key)
{
	kb_fm_entry *e = find_key(c, key);
	size_t i;

	if (!e)
		return;
	i = (size_t)(e - c->keys);
	entry_free(e);
	memmove(e, e + 1, (c->nkeys - i - 1) * sizeof(*e));
	c->nkeys--;
}

/* ---- sections ----------------------------------------------------------- */

size_t kb_case_section_count(const kb_case *c)
{
	return c->nsecs;
}

const kb_section *kb_case_section_at(const kb_case *c, size_t i)
{
	return i < c->nsecs ? &c->secs[i].pub : NULL;
}

static kb_sec *find_section(const kb_case *c, kb_section_kind kind, const char *heading)
{
	size_t i;

	for (i = 0; i < c->nsecs; i++) {
		if (c->secs[i].pub.kind != kind)
			continue;
		if (kind != KB_SECTION_OTHER)
			return &c->secs[i];
		if (heading && strcmp(c->secs[i].heading, heading) == 0)
			return &c->secs[i];
	}
	return NULL;
}

const char *kb_case_section(const kb_case *c, kb_section_kind kind)
{
	const kb_sec *s = kind == KB_SECTION_OTHER ? NULL : find_section(c, kind, NULL);

	return s ? s->body : NULL;
}

/* `body` as it will be stored: leading blank lines and trailing white space
 * dropped, line breaks in the case's style, an open code fence or HTML
 * comment closed. */
static void put_body(kb_buf *out, const kb_case *c, const char *body)
{
	const char *s = body, *end = body + strlen(body), *p;
	size_t start = out->len;
	kb_buf closer = KB_BUF_INIT;

	for (p = s; p < end && strchr(" \t\r\n", *p); p++)
		if (*p == '\n')
			s = p + 1;
	if (p == end)
		return;
	while (end > s && strchr(" \t\r\n", end[-1]))
		end--;
	for (p = s; p < end; p++) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			continue;
		if (*p == '\r' || *p == '\n')
			kb_buf_puts(out, c->eol);
		else
			kb_buf_putc(out, *p);
	}
	/* a block left open would swallow the sections after this one */
	kb__block_closer(out->ptr + start, out->len - start, &closer);
	if (closer.len) {
		kb_buf_puts(out, c->eol);
		kb_buf_put(out, closer.ptr, closer.len);
	}
	kb_buf_release(&closer);
}

static size_t blank_lines_end(const char *s, size_t from, size_t len)
{
	size_t p = from, q;

	while (p < len) {
		for (q = p; q < len && (s[q] == ' ' || s[q] == '\t' || s[q] == '\r'); q++)
			;
		if (q < len && s[q] != '\n')
			break;
		p = q < len ? q + 1 : len;
	}
	return p;
}

/* The white space after new content: kept, unless a following heading
 * would then touch the content (a paragraph would swallow a setext one). */
static void put_trail(kb_buf *b, const kb_case *c, const char *t, size_t len, int last)
{
	size_t i, breaks = 0;

	for (i = 0; i < len; i++)
		breaks += t[i] == '\n';
	if (last || breaks >= 2) {
		kb_buf_put(b, t, len);
		return;
	}
	kb_buf_puts(b, c->eol);
	kb_buf_puts(b, c->eol);
}

/* Replace the content of `s`, keeping its heading and the blank lines
 * around the old content. */
static void section_replace(kb_case *c, kb_sec *s, const char *body, int last)
{
	kb_buf b = KB_BUF_INIT, nb = KB_BUF_INIT;
	const char *r = s->raw.p;
	size_t h = s->head_len, len = s->raw.len, lead, end = len;

	put_body(&nb, c, body);
	lead = blank_lines_end(r, h, len);
	while (end > lead && strchr(" \t\r\n", r[end - 1]))
		end--;
	kb_buf_put(&b, r, h);
	if (h && r[h - 1] != '\n' && r[h - 1] != '\r')
		kb_buf_puts(&b, c->eol);
	if (end > lead && nb.len) {
		kb_buf_put(&b, r + h, lead - h);
		kb_buf_put(&b, nb.ptr, nb.len);
		put_trail(&b, c, r + end, len - end, last);
	} else if (end > lead) {
		/* emptied: keep what followed the old content, less its line break */
		end += end < len && r[end] == '\r';
		end += end < len && r[end] == '\n';
		kb_buf_put(&b, r + end, len - end);
	} else if (nb.len) {
		kb_buf_puts(&b, c->eol);
		kb_buf_put(&b, nb.ptr, nb.len);
		kb_buf_puts(&b, c->eol);
		if (!last)
			kb_buf_puts(&b, c->eol);
	} else {
		kb_buf_put(&b, r + h, len - h);
	}
	raw_set_buf(&s->raw, &b);
	kb__section_fill(s);
	kb_buf_release(&nb);
}

/* The i-th raw run of the case in file order; *n gets the number of runs. */
static const kb_raw *run_at(const kb_case *c, size_t i, size_t *n)
{
	size_t nk = c->nkeys;

	*n = 5 + nk + 2 * c->nsecs;
	if (i == 0)
		return &c->fm_open;
	if (i == 1)
		return &c->fm_head;
	if (i < 2 + nk)
		return &c->keys[i - 2].raw;
	if (i == 2 + nk)
		return &c->fm_tail;
	if (i == 3 + nk)
		return &c->fm_close;
	if (i + 1 == *n)
		return &c->tail;
	i -= 4 + nk;
	return i % 2 ? &c->secs[i / 2].raw : &c->secs[i / 2].pre;
}

/* Line breaks at the end of the case as serialised: 0, 1 or 2 (a blank
 * line).  Looks at the last three bytes only. */
static int trailing_breaks(const kb_case *c)
{
	char last[3] = { 0, 0, 0 };
	size_t i, n, got = 0, k;
	const kb_raw *r;

	run_at(c, 0, &n);
	for (i = n; i-- > 0 && got < 3;) {
		r = run_at(c, i, &n);
		for (k = r->len; k-- > 0 && got < 3;)
			last[2 - got++] = r->p[k];
	}
	if (last[2] != '\n')
		return 0;
	if (last[1] == '\n' || (last[1] == '\r' && last[0] == '\n'))
		return 2;
	return 1;
}

/* A block left open at the end of the body (a code fence, an HTML comment)
 * would swallow an appended heading: close it where it is, at the end of the
 * last section or of the loose text.  The only change kb makes to text it
 * did not write. */
static void close_open_block(kb_case *c)
{
	kb_sec *sec = c->tail.len || !c->nsecs ? NULL : &c->secs[c->nsecs - 1];
	kb_raw *last = sec ? &sec->raw : &c->tail;
	kb_buf closer = KB_BUF_INIT, b = KB_BUF_INIT;

	if (last->len)
		kb__block_closer(last->p, last->len, &closer);
	if (closer.len) {
		kb_buf_put(&b, last->p, last->len);
		if (b.ptr[b.len - 1] != '\n' && b.ptr[b.len - 1] != '\r')
			kb_buf_puts(&b, c->eol);
		kb_buf_put(&b, closer.ptr, closer.len);
		kb_buf_puts(&b, c->eol);
		raw_set_buf(last, &b);
		if (sec)
			kb__section_fill(sec);
	}
	kb_buf_release(&closer);
}

static void section_append(kb_case *c, kb_section_kind kind, const char *heading,
			   const char *body)
{
	kb_buf pre = KB_BUF_INIT, raw = KB_BUF_INIT;
	const char *h;
	kb_sec *s;
	int breaks;

	close_open_block(c);
	breaks = trailing_breaks(c);
	kb_buf_put(&pre, c->tail.p, c->tail.len);
	for (; breaks < 2; breaks++)
		kb_buf_puts(&pre, c->eol);
	kb__raw_free(&c->tail);
	kb_buf_puts(&raw, "##");
	for (h = heading; *h == ' ' || *h == '\t'; h++)
		;
	if (*h)
		kb_buf_putc(&raw, ' ');
	for (; *h; h++)
		kb_buf_putc(&raw, *h == '\n' || *h == '\r' ? ' ' : *h);
	while (raw.ptr[raw.len - 1] == ' ' || raw.ptr[raw.len - 1] == '\t')
		kb_buf_truncate(&raw, raw.len - 1);
	kb_buf_puts(&raw, c->eol);
	if (c->nsecs == c->asecs) {
		c->asecs = c->asecs ? c->asecs * 2 : 8;
		c->secs = kb_xrealloc(c->secs, c->asecs * sizeof(*c->secs));
	}
	s = &c->secs[c->nsecs++];
	memset(s, 0, sizeof(*s));
	s->head_len = raw.len;
	s->pub.kind = kind;
	raw_set_buf(&s->pre, &pre);
	raw_set_buf(&s->raw, &raw);
	section_replace(c, s, body, 1);
}

/* Copies of the arguments of a section edit: they may point into the case. */
static void edit_args(kb_section_kind *kind, const char *heading, const char *body,
		      char **h, char **b)
{
	if (*kind < KB_SECTION_OTHER || *kind >= KB_SECTION__COUNT)
		*kind = KB_SECTION_OTHER;
	*h = kb_xstrdup(heading ? heading : kb_section_heading(*kind));
	*b = kb_xstrdup(body ? body : "");
}

void kb_case_set_section(kb_case *c, kb_section_kind kind, const char *heading,
			 const char *body)
{
	char *h, *b;
	kb_sec *s;

	edit_args(&kind, heading, body, &h, &b);
	s = find_section(c, kind, h);
	if (s)
		section_replace(c, s, b, s == &c->secs[c->nsecs - 1] && c->tail.len == 0);
	else
		section_append(c, kind, h, b);
	build_other(c);
	free(h);
	free(b);
}

void kb_case_add_section(kb_case *c, kb_section_kind kind, const char *heading,
			 const char *body)
{
	char *h, *b;

	edit_args(&kind, heading, body, &h, &b);
	if (kind == KB_SECTION_OTHER)
		kind = kb_aliases_lookup(NULL, h);
	section_append(c, kind, h, b);
	build_other(c);
	free(h);
	free(b);
}

const char *kb_case_other_text(const kb_case *c)
{
	return c->other;
}

/* ---- output ------------------------------------------------------------- */

static void put_raw(kb_buf *out, const kb_raw *r)
{
	kb_buf_put(out, r->p, r->len);
}

static void put_body_raw(const kb_case *c, kb_buf *out)
{
	size_t i;

	for (i = 0; i < c->nsecs; i++) {
		put_raw(out, &c->secs[i].pre);
		put_raw(out, &c->secs[i].raw);
	}
	put_raw(out, &c->tail);
}

void kb_case_serialize(const kb_case *c, kb_buf *out)
{
	size_t i, n;

	run_at(c, 0, &n);
	for (i = 0; i < n; i++)
		put_raw(out, run_at(c, i, &n));
}

static void put_html(kb_buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': kb_buf_puts(out, "&amp;"); break;
		case '<': kb_buf_puts(out, "&lt;"); break;
		case '>': kb_buf_puts(out, "&gt;"); break;
		case '"': kb_buf_puts(out, "&quot;"); break;
		case '\'': kb_buf_puts(out, "&#39;"); break;
		default: kb_buf_putc(out, *s);
		}
	}
}

/* The header: title as <h1> and the other keys as a definition list. */
static void put_html_header(const kb_case *c, kb_buf *out)
{
	const kb_fm_entry *e;
	size_t i, j;

	kb_buf_puts(out, "<h1 class=\"kb-title\">");
	put_html(out, kb_case_title(c));
	kb_buf_puts(out, "</h1>\n<dl class=\"kb-meta\">\n");
	for (i = 0; i < c->nkeys; i++) {
		e = &c->keys[i];
		if (strcmp(e->key, "title") == 0 || e->n_items == 0)
			continue;
		kb_buf_puts(out, "<dt>");
		put_html(out, e->key);
		kb_buf_puts(out, "</dt><dd>");
		for (j = 0; j < e->n_items; j++) {
			if (j)
				kb_buf_puts(out, ", ");
			put_html(out, e->items[j]);
		}
		kb_buf_puts(out, "</dd>\n");
	}
	kb_buf_puts(out, "</dl>\n");
}

void kb_case_render_html(const kb_case *c, kb_buf *out)
{
	kb_buf body = KB_BUF_INIT;
	char *html;

	put_body_raw(c, &body);
	kb_buf_puts(out, "<article class=\"kb-case\">\n");
	put_html_header(c, out);
	/* cmark 0.30 is safe by default: raw HTML becomes a comment and
	 * javascript: links are dropped unless CMARK_OPT_UNSAFE is given. */
	html = cmark_markdown_to_html(body.ptr, body.len, CMARK_OPT_DEFAULT);
	if (html)
		kb_buf_puts(out, html);
	kb_buf_puts(out, "</article>\n");
	free(html);
	kb_buf_release(&body);
}

/* ---- validation --------------------------------------------------------- */

int kb_case_id_valid(const char *id)
{
	size_t n;

	if (!id || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z') ||
		     (id[0] >= '0' && id[0] <= '9')))
		return 0;
	n = strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	return n == strlen(id) && n <= 64 && !strstr(id, "..");
}

/* YYYY-MM-DD naming a day of the calendar; *ymd = YYYYMMDD. */
static int date_valid(const char *s, long *ymd)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long y, m, d;
	size_t i;

	for (i = 0; i < 10; i++)
		if (!s[i] || (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9'))
			return 0;
	if (s[10])
		return 0;
	y = strtol(s, NULL, 10);
	m = strtol(s + 5, NULL, 10);
	d = strtol(s + 8, NULL, 10);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	*ymd = y * 10000 + m * 100 + d;
	return 1;
}

static long today_ymd(void)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1L) * 100 + tm.tm_mday;
}

typedef struct {
	const kb_case *c;
	kb_diags *d;
} vctx;

/* Line of `key`, or 1 when the key is missing or was added by an edit. */
static int line_of(const vctx *v, const char *key)
{
	int line = kb_case_key_line(v->c, key);

	return line > 0 ? line : 1;
}

static void vdiag(const vctx *v, kb_diag_severity sev, int line, const char *fmt,
		  va_list ap)
{
	kb_buf msg = KB_BUF_INIT;

	kb_buf_vprintf(&msg, fmt, ap);
	kb_diags_add(v->d, sev, v->c->path, line, "%s", msg.ptr);
	kb_buf_release(&msg);
}

static void err(const vctx *v, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err(const vctx *v, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(v, KB_DIAG_ERROR, line, fmt, ap);
	va_end(ap);
}

static void warn(const vctx *v, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn(const vctx *v, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(v, KB_DIAG_WARNING, line, fmt, ap);
	va_end(ap);
}

/* A scalar key that holds a list is an error of its own; it then counts
 * as missing for the other checks. */
static const char *scalar(const vctx *v, const char *key)
{
	const char *val = kb_case_get(v->c, key);

	return val && *val ? val : NULL;
}

static void check_shapes(const vctx *v)
{
	const kb_fm_entry *e;
	size_t i;

	for (i = 0; i < v->c->nkeys; i++) {
		e = &v->c->keys[i];
		if (e->is_list && kb__fm_scalar_key(e->key))
			err(v, line_of(v, e->key), "expected a single value for '%s'", e->key);
	}
}

static void check_id(const vctx *v)
{
	const char *id = scalar(v, "id"), *base, *path = v->c->path;
	size_t n;

	if (!id) {
		err(v, line_of(v, "id"), "missing '%s'", "id");
		return;
	}
	if (!kb_case_id_valid(id)) {
		err(v, line_of(v, "id"), "invalid id '%s'", id);
		return;
	}
	if (!path)
		return;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n >= 3 && strcmp(base + n - 3, ".md") == 0)
		n -= 3;
	if (n != strlen(id) || strncmp(base, id, n) != 0)
		err(v, line_of(v, "id"), "file name '%s' does not match id '%s'", base, id);
}

static void check_status(const vctx *v)
{
	const char *st = scalar(v, "status"), *sup;
	const char *res = kb_case_section(v->c, KB_SECTION_RESOLUTION);
	int line = line_of(v, "status");

	if (!st) {
		err(v, line, "missing '%s'", "status");
		return;
	}
	switch (kb_status_parse(st)) {
	case KB_STATUS_UNKNOWN:
		err(v, line, "unknown status '%s'", st);
		break;
	case KB_STATUS_VALIDATED:
		if (!res || !*res)
			err(v, line, "missing section '%s' for status '%s'", "resolution", st);
		if (!scalar(v, "reviewer"))
			err(v, line, "missing '%s' for status '%s'", "reviewer", st);
		break;
	case KB_STATUS_OBSOLETE:
		sup = scalar(v, "superseded_by");
		if (!sup)
			err(v, line, "missing '%s' for status '%s'", "superseded_by", st);
		else if (!kb_case_id_valid(sup))
			err(v, line_of(v, "superseded_by"), "invalid id '%s' in '%s'", sup,
			    "superseded_by");
		break;
	default:
		break;
	}
}

static void check_date(const vctx *v, const char *key, long today)
{
	const char *s = scalar(v, key);
	long ymd;

	if (!s)
		return;
	if (!date_valid(s, &ymd))
		err(v, line_of(v, key), "invalid date '%s' in '%s'", s, key);
	else if (ymd > today)
		warn(v, line_of(v, key), "date '%s' in '%s' is in the future", s, key);
}

static void check_list(const vctx *v, const char *key, int ids)
{
	const char *const *items;
	size_t i, n = kb_case_get_list(v->c, key, &items);

	for (i = 0; i < n; i++) {
		if (!items[i][0])
			err(v, line_of(v, key), "empty item in '%s'", key);
		else if (ids && !kb_case_id_valid(items[i]))
			err(v, line_of(v, key), "invalid id '%s' in '%s'", items[i], key);
	}
}

static void check_sections(const vctx *v)
{
	const kb_sec *s;
	size_t i;

	if (!kb_case_section(v->c, KB_SECTION_SYMPTOM))
		err(v, 1, "missing section '%s'", "symptom");
	for (i = 0; i < v->c->nsecs; i++) {
		s = &v->c->secs[i];
		if (!s->body[0])
			warn(v, s->pub.line > 0 ? s->pub.line : 1, "empty section '%s'",
			     s->heading);
	}
}

/* Conflicts a merge left (kb/merge.h): a warning, an error for a case that
 * claims to be validated. */
static void check_conflicts(const vctx *v)
{
	const char *const *items;
	size_t i, n = kb_case_get_list(v->c, "conflicts", &items);
	kb_buf what = KB_BUF_INIT;

	for (i = 0; i < n; i++)
		kb_buf_printf(&what, "%s%s", what.len ? ", " : "", items[i]);
	if (what.len && kb_case_status(v->c) == KB_STATUS_VALIDATED)
		err(v, line_of(v, "conflicts"), "unresolved merge conflicts (%s) for status "
		    "'validated': edit the case and remove 'conflicts'", what.ptr);
	else if (what.len)
		warn(v, line_of(v, "conflicts"), "unresolved merge conflicts (%s): edit the "
		     "case and remove 'conflicts'", what.ptr);
	kb_buf_release(&what);
}

int kb_case_validate(const kb_case *c, kb_diags *diags)
{
	vctx v = { c, diags };
	size_t first = diags->count, i;
	long today = today_ymd();

	check_shapes(&v);
	check_id(&v);
	if (!scalar(&v, "title"))
		err(&v, line_of(&v, "title"), "missing '%s'", "title");
	check_status(&v);
	check_date(&v, "created", today);
	check_date(&v, "updated", today);
	check_list(&v, "tags", 0);
	check_list(&v, "links", 1);
	check_sections(&v);
	check_conflicts(&v);
	for (i = first; i < diags->count; i++)
		if (diags->items[i].severity == KB_DIAG_ERROR)
			return kb_error_set(KB_EINVALID, c->path, diags->items[i].line, "%s",
					    diags->items[i].message);
	return 0;
}
