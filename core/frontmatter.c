/*
 * frontmatter.c - the YAML front matter of a case file.  Finds the block
 * between the "---" lines, parses it with libyaml's event API, rejects what
 * libyaml allows but kb does not (duplicate keys, nested values, tabs), and
 * cuts the block into one raw byte run per key so that edits touch one key
 * only.  Also writes YAML scalars with the quoting they need.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "case_internal.h"
#include "kb/error.h"

/* Where each key and its value sit in the YAML block (0-based lines). */
typedef struct {
	size_t key_line;
	size_t end_line;    /* line and column (in characters) where the value ends */
	size_t end_col;
} fm_pos;

typedef struct {
	kb_case *c;
	const char *t;          /* c->orig */
	const char *path;
	size_t yaml_off;        /* the YAML block is t[yaml_off .. yaml_end) */
	size_t yaml_end;
	size_t body_off;        /* first byte after the closing line */
	size_t *lines;          /* start of each YAML line; lines[nlines] == yaml_end */
	size_t nlines, alines;
	int first_line;         /* file line of YAML line 0 */
	fm_pos *pos;            /* parallel to c->keys */
	size_t apos;
	yaml_parser_t parser;
} fm_ctx;

static const char *const scalar_keys[] = {
	"id", "title", "status", "author", "reviewer", "created", "updated",
	"superseded_by", "site", "system", "equipment", "equipment_id", "model",
	"failure_mode", "failure_mechanism", "failure_cause", NULL
};

int kb__fm_scalar_key(const char *key)
{
	size_t i;

	for (i = 0; scalar_keys[i]; i++)
		if (strcmp(key, scalar_keys[i]) == 0)
			return 1;
	return 0;
}

static int fm_err(fm_ctx *x, size_t yaml_line, const char *what, const char *key)
{
	int line = x->first_line + (int)yaml_line;

	if (key)
		return kb_error_set(KB_EINPUT, x->path, line, "%s '%s'", what, key);
	return kb_error_set(KB_EINPUT, x->path, line, "%s", what);
}

/* ---- finding the block and its lines ----------------------------------- */

/* 1 when t[ls..ce) is `marker` followed only by spaces and tabs. */
static int is_marker(const char *t, size_t ls, size_t ce, const char *marker)
{
	size_t i = ls + 3;

	if (ce - ls < 3 || memcmp(t + ls, marker, 3) != 0)
		return 0;
	while (i < ce && (t[i] == ' ' || t[i] == '\t'))
		i++;
	return i == ce;
}

/* End of the line starting at `ls`: *ce excludes the line break, the
 * return value includes it. */
static size_t line_end(const char *t, size_t len, size_t ls, size_t *ce)
{
	const char *nl = memchr(t + ls, '\n', len - ls);
	size_t e = nl ? (size_t)(nl - t) : len;

	*ce = e;
	if (nl && e > ls && t[e - 1] == '\r')
		(*ce)--;
	return nl ? e + 1 : len;
}

static int find_open(fm_ctx *x)
{
	const char *t = x->t;
	size_t len = x->c->orig_len, ls = 0, ce, next;

	if (len == 0)
		return kb_error_set(KB_EINPUT, x->path, 0, "empty file");
	if (len >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
		ls = 3;
	next = line_end(t, len, ls, &ce);
	if (!is_marker(t, ls, ce, "---"))
		return kb_error_set(KB_EINPUT, x->path, 1,
				    "missing front matter: file must start with '---'");
	x->c->eol = (next > ce + 1) ? "\r\n" : "\n";
	kb__raw_ref(&x->c->fm_open, t, next);
	x->yaml_off = next;
	x->first_line = 2;
	return 0;
}

/* Reject what would make libyaml's line numbers differ from ours, and tabs
 * in indentation (YAML forbids them; libyaml's message is obscure). */
static int check_line(fm_ctx *x, size_t ls, size_t ce)
{
	const unsigned char *t = (const unsigned char *)x->t;
	size_t i = ls, idx = x->nlines;
	int tab = 0;

	while (i < ce && (t[i] == ' ' || t[i] == '\t'))
		tab |= t[i++] == '\t';
	if (tab && i < ce)
		return fm_err(x, idx, "tab used for indentation in front matter", NULL);
	for (; i < ce; i++) {
		if (t[i] == '\r')
			return fm_err(x, idx, "carriage return without line feed in front matter",
				      NULL);
		if ((t[i] == 0xC2 && t[i + 1] == 0x85) ||
		    (t[i] == 0xE2 && t[i + 1] == 0x80 && (t[i + 2] == 0xA8 || t[i + 2] == 0xA9)))
			return fm_err(x, idx, "unicode line separator in front matter", NULL);
	}
	return 0;
}

static void push_line(fm_ctx *x, size_t start)
{
	if (x->nlines + 1 >= x->alines) {
		x->alines = x->alines ? x->alines * 2 : 64;
		x->lines = kb_xrealloc(x->lines, x->alines * sizeof(*x->lines));
	}
	x->lines[x->nlines++] = start;
}

static int split_lines(fm_ctx *x)
{
	size_t len = x->c->orig_len, ls = x->yaml_off, ce, next;
	int rc;

	while (ls < len) {
		next = line_end(x->t, len, ls, &ce);
		if (is_marker(x->t, ls, ce, "---") || is_marker(x->t, ls, ce, "...")) {
			x->yaml_end = ls;
			x->lines[x->nlines] = ls;
			kb__raw_ref(&x->c->fm_close, x->t + ls, next - ls);
			x->body_off = next;
			return 0;
		}
		if ((rc = check_line(x, ls, ce)) < 0)
			return rc;
		push_line(x, ls);
		ls = next;
	}
	return kb_error_set(KB_EINPUT, x->path, 1,
			    "unterminated front matter: no closing '---'");
}

/* ---- libyaml events ---------------------------------------------------- */

static int yaml_fail(fm_ctx *x)
{
	yaml_parser_t *p = &x->parser;
	const char *problem = p->problem ? p->problem : "parser failure";
	int line;

	if (p->error == YAML_READER_ERROR)
		line = x->first_line - 1 + kb__line_of(x->t + x->yaml_off, p->problem_offset);
	else if (p->context && p->problem_mark.line >= x->nlines)
		line = x->first_line + (int)p->context_mark.line;   /* hit the end: blame the start */
	else
		line = x->first_line + (int)p->problem_mark.line;
	if (p->context)
		return kb_error_set(KB_EINPUT, x->path, line, "invalid yaml: %s (%s)",
				    problem, p->context);
	return kb_error_set(KB_EINPUT, x->path, line, "invalid yaml: %s", problem);
}

static int next_event(fm_ctx *x, yaml_event_t *ev)
{
	return yaml_parser_parse(&x->parser, ev) ? 0 : yaml_fail(x);
}

/* Copy a scalar; plain null spellings become "".  NUL inside a value
 * (a "\0" escape) is refused so that C strings hold the whole value. */
static int scalar_copy(fm_ctx *x, const yaml_event_t *ev, const char *key, char **out)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;

	if (memchr(v, '\0', n))
		return fm_err(x, ev->start_mark.line, "nul character in value of", key);
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	     strcmp(v, "NULL") == 0))
		n = 0;
	*out = kb_xstrndup(v, n);
	return 0;
}

static int bad_value(fm_ctx *x, const yaml_event_t *ev, const char *key)
{
	if (ev->type == YAML_MAPPING_START_EVENT)
		return fm_err(x, ev->start_mark.line, "nested mapping in", key);
	if (ev->type == YAML_SEQUENCE_START_EVENT)
		return fm_err(x, ev->start_mark.line, "nested list in", key);
	if (ev->type == YAML_ALIAS_EVENT)
		return fm_err(x, ev->start_mark.line, "unsupported yaml alias in", key);
	return fm_err(x, ev->start_mark.line, "unexpected yaml in", key);
}

static int parse_list(fm_ctx *x, kb_fm_entry *e, fm_pos *pos)
{
	yaml_event_t ev;
	size_t alloc = 0;
	int rc;

	for (;;) {
		if ((rc = next_event(x, &ev)) < 0)
			return rc;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			pos->end_line = ev.end_mark.line;
			pos->end_col = ev.end_mark.column;
			yaml_event_delete(&ev);
			return 0;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			rc = bad_value(x, &ev, e->key);
			yaml_event_delete(&ev);
			return rc;
		}
		if (e->n_items == alloc) {
			alloc = alloc ? alloc * 2 : 4;
			e->items = kb_xrealloc(e->items, alloc * sizeof(*e->items));
		}
		rc = scalar_copy(x, &ev, e->key, &e->items[e->n_items]);
		yaml_event_delete(&ev);
		if (rc < 0)
			return rc;
		e->n_items++;
	}
}

static int parse_value(fm_ctx *x, kb_fm_entry *e, fm_pos *pos)
{
	yaml_event_t ev;
	int rc;

	if ((rc = next_event(x, &ev)) < 0)
		return rc;
	if (ev.type == YAML_SCALAR_EVENT) {
		rc = scalar_copy(x, &ev, e->key, &e->value);
		pos->end_line = ev.end_mark.line;
		pos->end_col = ev.end_mark.column;
		if (rc == 0 && e->value[0]) {
			e->items = kb_xmalloc(sizeof(*e->items));
			e->items[0] = e->value;
			e->n_items = 1;
		}
	} else if (ev.type == YAML_SEQUENCE_START_EVENT && kb__fm_scalar_key(e->key)) {
		rc = fm_err(x, ev.start_mark.line, "expected a single value, not a list, for", e->key);
	} else if (ev.type == YAML_SEQUENCE_START_EVENT) {
		e->is_list = 1;
		rc = parse_list(x, e, pos);
	} else {
		rc = bad_value(x, &ev, e->key);
	}
	yaml_event_delete(&ev);
	return rc;
}

/* A new entry for the key scalar `ev`, appended to the case. */
static int add_key(fm_ctx *x, const yaml_event_t *ev, kb_fm_entry **out, fm_pos **pos)
{
	kb_case *c = x->c;
	size_t line = ev->start_mark.line;
	kb_fm_entry *e;
	int rc;

	if (c->nkeys && line <= x->pos[c->nkeys - 1].key_line)
		return fm_err(x, line, "front matter is not one key per line", NULL);
	if (c->nkeys == c->akeys) {
		c->akeys = c->akeys ? c->akeys * 2 : 16;
		c->keys = kb_xrealloc(c->keys, c->akeys * sizeof(*c->keys));
	}
	if (x->apos < c->akeys) {
		x->apos = c->akeys;
		x->pos = kb_xrealloc(x->pos, x->apos * sizeof(*x->pos));
	}
	e = &c->keys[c->nkeys];
	memset(e, 0, sizeof(*e));
	if ((rc = scalar_copy(x, ev, "key", &e->key)) < 0)
		return rc;
	c->nkeys++;
	if (!e->key[0])
		return fm_err(x, line, "empty key in front matter", NULL);
	*out = e;
	*pos = &x->pos[c->nkeys - 1];
	memset(*pos, 0, sizeof(**pos));
	(*pos)->key_line = line;
	return 0;
}

static int parse_mapping(fm_ctx *x)
{
	yaml_event_t ev;
	kb_fm_entry *e = NULL;
	fm_pos *pos = NULL;
	int rc;

	for (;;) {
		if ((rc = next_event(x, &ev)) < 0)
			return rc;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (ev.type == YAML_SCALAR_EVENT)
			rc = add_key(x, &ev, &e, &pos);
		else
			rc = fm_err(x, ev.start_mark.line, "front matter key is not a plain string",
				    NULL);
		yaml_event_delete(&ev);
		if (rc < 0 || (rc = parse_value(x, e, pos)) < 0)
			return rc;
	}
}

static int parse_events(fm_ctx *x)
{
	yaml_event_t ev;
	int rc, type, block;

	if ((rc = next_event(x, &ev)) < 0)      /* stream start */
		return rc;
	yaml_event_delete(&ev);
	if ((rc = next_event(x, &ev)) < 0)
		return rc;
	type = ev.type;
	yaml_event_delete(&ev);
	if (type == YAML_STREAM_END_EVENT)      /* only comments and blank lines */
		return 0;
	if ((rc = next_event(x, &ev)) < 0)
		return rc;
	block = ev.type == YAML_MAPPING_START_EVENT &&
		ev.data.mapping_start.style == YAML_BLOCK_MAPPING_STYLE;
	if (!block)
		rc = fm_err(x, ev.start_mark.line, "front matter is not a block of 'key: value' lines",
			    NULL);
	yaml_event_delete(&ev);
	if (rc < 0 || (rc = parse_mapping(x)) < 0)
		return rc;
	do {                                    /* document end, stream end */
		if ((rc = next_event(x, &ev)) < 0)
			return rc;
		type = ev.type;
		if (type == YAML_DOCUMENT_START_EVENT)
			rc = fm_err(x, ev.start_mark.line, "more than one yaml document", NULL);
		yaml_event_delete(&ev);
	} while (rc == 0 && type != YAML_STREAM_END_EVENT);
	return rc;
}

/* ---- duplicate keys ---------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
	const kb_fm_entry *x = *(const kb_fm_entry *const *)a;
	const kb_fm_entry *y = *(const kb_fm_entry *const *)b;
	int d = strcmp(x->key, y->key);

	return d ? d : (x < y ? -1 : x > y);
}

static int check_duplicates(fm_ctx *x)
{
	kb_case *c = x->c;
	kb_fm_entry **v, *dup = NULL;
	size_t i;
	int rc = 0;

	if (c->nkeys < 2)
		return 0;
	v = kb_xmalloc(c->nkeys * sizeof(*v));
	for (i = 0; i < c->nkeys; i++)
		v[i] = &c->keys[i];
	qsort(v, c->nkeys, sizeof(*v), cmp_entry);
	for (i = 1; i < c->nkeys; i++)
		if (strcmp(v[i - 1]->key, v[i]->key) == 0 && (!dup || v[i] < dup))
			dup = v[i];
	if (dup)
		rc = fm_err(x, x->pos[dup - c->keys].key_line, "duplicate key", dup->key);
	free(v);
	return rc;
}

/* ---- cutting the block into entries ------------------------------------ */

static int line_is_comment(const fm_ctx *x, size_t i)
{
	return x->t[x->lines[i]] == '#';
}

static int line_is_blank(const fm_ctx *x, size_t i)
{
	size_t p;

	for (p = x->lines[i]; p < x->lines[i + 1]; p++)
		if (!strchr(" \t\r\n", x->t[p]))
			return 0;
	return 1;
}

/* Bytes taken by the first `cols` characters of the line at `p`. */
static size_t col_bytes(const char *t, size_t p, size_t end, size_t cols)
{
	size_t start = p;
	unsigned char b;

	while (cols-- > 0 && p < end && t[p] != '\n') {
		b = (unsigned char)t[p];
		p += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
	}
	return (p > end ? end : p) - start;
}

/* Start line of entry i: its key line and the comment lines right above. */
static size_t entry_start(const fm_ctx *x, size_t i)
{
	size_t s = x->pos[i].key_line, low = i ? x->pos[i - 1].key_line + 1 : 0;

	while (s > low && line_is_comment(x, s - 1))
		s--;
	return s;
}

static void cut_entries(fm_ctx *x)
{
	kb_case *c = x->c;
	size_t i, n = c->nkeys, s, next, end, key_at;
	kb_fm_entry *e;

	if (n == 0) {
		kb__raw_ref(&c->fm_head, x->t + x->yaml_off, x->yaml_end - x->yaml_off);
		return;
	}
	end = x->nlines;
	while (end > x->pos[n - 1].key_line + 1 &&
	       (line_is_blank(x, end - 1) || line_is_comment(x, end - 1)))
		end--;
	s = entry_start(x, 0);
	kb__raw_ref(&c->fm_head, x->t + x->yaml_off, x->lines[s] - x->yaml_off);
	for (i = 0; i < n; i++) {
		e = &c->keys[i];
		next = i + 1 < n ? entry_start(x, i + 1) : end;
		kb__raw_ref(&e->raw, x->t + x->lines[s], x->lines[next] - x->lines[s]);
		key_at = x->lines[x->pos[i].key_line];
		e->key_off = key_at - x->lines[s];
		e->line = x->first_line + (int)x->pos[i].key_line;
		if (x->pos[i].end_line == x->pos[i].key_line)
			e->val_end = e->key_off + col_bytes(x->t, key_at, x->yaml_end,
							    x->pos[i].end_col);
		s = next;
	}
	kb__raw_ref(&c->fm_tail, x->t + x->lines[end], x->yaml_end - x->lines[end]);
}

int kb__fm_parse(kb_case *c, size_t *body_off, int *body_line)
{
	fm_ctx x;
	int rc, parser = 0;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.t = c->orig;
	x.path = c->path;
	x.alines = 64;
	x.lines = kb_xmalloc(x.alines * sizeof(*x.lines));
	if ((rc = find_open(&x)) < 0 || (rc = split_lines(&x)) < 0)
		goto done;
	if (!yaml_parser_initialize(&x.parser)) {
		rc = kb_error_set(KB_ERROR, x.path, 0, "cannot initialise the yaml parser");
		goto done;
	}
	parser = 1;
	yaml_parser_set_input_string(&x.parser, (const unsigned char *)x.t + x.yaml_off,
				     x.yaml_end - x.yaml_off);
	yaml_parser_set_encoding(&x.parser, YAML_UTF8_ENCODING);
	if ((rc = parse_events(&x)) < 0 || (rc = check_duplicates(&x)) < 0)
		goto done;
	cut_entries(&x);
	*body_off = x.body_off;
	*body_line = x.first_line + (int)x.nlines + 1;
done:
	if (parser)
		yaml_parser_delete(&x.parser);
	free(x.lines);
	free(x.pos);
	return rc;
}

/* ---- writing scalars --------------------------------------------------- */

static int only_chars(const char *s, const char *set)
{
	return *s && s[strspn(s, set)] == '\0';
}

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* YYYY-MM-DD, written plain on purpose (kb reads it back as a string). */
static int is_plain_date(const char *s)
{
	static const char shape[] = "dddd-dd-dd";
	size_t i;

	for (i = 0; shape[i]; i++)
		if (!s[i] || (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != '-'))
			return 0;
	return s[i] == '\0';
}

/* Would a YAML 1.1 or 1.2 resolver read `s` as a number or timestamp? */
static int looks_numeric(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');

	if (p[0] == '0' && p[1] && strchr("xXoObB", p[1]))
		return only_chars(p + 2, "0123456789abcdefABCDEF_");
	if (p[0] == '.' && (strcasecmp(p + 1, "inf") == 0 || strcasecmp(p + 1, "nan") == 0))
		return 1;
	if (strlen(s) >= 6 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) &&
	    is_digit(s[3]) && s[4] == '-')
		return 1;   /* timestamp-like */
	if (!is_digit(*p) && *p != '.')
		return 0;
	return strpbrk(p, "0123456789") && only_chars(p, "0123456789_.:eE+-");
}

static int is_reserved(const char *s)
{
	static const char *const words[] = {
		"~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "=", "<<", NULL
	};
	size_t i;

	for (i = 0; words[i]; i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	return 0;
}

static int needs_quotes(const char *s, int flow)
{
	size_t n = strlen(s);
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	if (n == 0)
		return flow;
	if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]) || strncmp(s, "...", 3) == 0)
		return 1;
	if (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == ':')
		return 1;
	if (strstr(s, ": ") || strstr(s, ":\t") || strstr(s, " #") || strstr(s, "\t#"))
		return 1;
	if (flow && strpbrk(s, ",[]{}:#"))
		return 1;
	for (i = 0; i < n; i++)
		if (u[i] < 0x20 || u[i] == 0x7F || (u[i] == 0xC2 && u[i + 1] == 0x85) ||
		    (u[i] == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) ||
		    (u[i] == 0xEF && u[i + 1] == 0xBB && u[i + 2] == 0xBF))
			return 1;
	if (is_plain_date(s))
		return 0;
	return is_reserved(s) || looks_numeric(s);
}

static void put_quoted(kb_buf *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	kb_buf_putc(out, '"');
	for (; *u; u++) {
		if (*u == '"' || *u == '\\') {
			kb_buf_putc(out, '\\');
			kb_buf_putc(out, (char)*u);
		} else if (*u == '\n') {
			kb_buf_puts(out, "\\n");
		} else if (*u == '\t') {
			kb_buf_puts(out, "\\t");
		} else if (*u == '\r') {
			kb_buf_puts(out, "\\r");
		} else if (*u < 0x20 || *u == 0x7F) {
			kb_buf_printf(out, "\\x%02X", *u);
		} else if (u[0] == 0xC2 && u[1] == 0x85) {
			kb_buf_puts(out, "\\N");
			u++;
		} else if (u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9)) {
			kb_buf_puts(out, u[2] == 0xA8 ? "\\L" : "\\P");
			u += 2;
		} else if (u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
			kb_buf_puts(out, "\\uFEFF");
			u += 2;
		} else {
			kb_buf_putc(out, (char)*u);
		}
	}
	kb_buf_putc(out, '"');
}

void kb__yaml_put_scalar(kb_buf *out, const char *s, int flow)
{
	if (needs_quotes(s, flow))
		put_quoted(out, s);
	else
		kb_buf_puts(out, s);
}
