/*
 * query.c - compile kb's search syntax (kb/query.h) into an FTS5 MATCH
 * expression: a hand-written lexer splits the query into items (terms,
 * phrases, exclusions, column filters, OR links), synonyms are added as
 * alternatives, and every piece of user text is emitted double-quoted.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/query.h"
#include "kb/tokenizer.h"

#define ITEMS_MAX 256      /* items kept from one query; the rest is ignored */
#define ITEM_BYTES 1024    /* bytes kept of one term or phrase */

enum { TERM, PHRASE };

typedef struct {
	int kind;
	int neg;             /* -term */
	int col;             /* index into columns[], -1 for none */
	const char *text;    /* user text, without quotes, '-' or field prefix */
	size_t len;
	int or_next;         /* joined to the next item by OR */
} item;

typedef struct {
	const char *q;
	size_t len, pos;
	item items[ITEMS_MAX];
	size_t n;
	int pending_or;
} lexer;

/* FTS5 column names of the index (kb/index.h order) and accepted aliases. */
static const struct {
	const char *name;
	const char *column;
} columns[] = {
	{ "title", "title" }, { "symptom", "symptom" }, { "environment", "environment" },
	{ "cause", "cause" }, { "resolution", "resolution" }, { "notes", "notes" },
	{ "tags", "tags" }, { "equipment", "equipment" }, { "model", "model" },
	{ "site", "site" }, { "failure", "failure" }, { "failure_mode", "failure" },
};

static int column_lookup(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
		if (strlen(columns[i].name) == len && strncasecmp(columns[i].name, s, len) == 0)
			return (int)i;
	return -1;
}

void kb_query_quote(kb_buf *out, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *q;

	kb_buf_putc(out, '"');
	while ((q = memchr(p, '"', (size_t)(end - p))) != NULL) {
		kb_buf_put(out, p, (size_t)(q - p) + 1);
		kb_buf_putc(out, '"');
		p = q + 1;
	}
	kb_buf_put(out, p, (size_t)(end - p));
	kb_buf_putc(out, '"');
}

/* ---- lexer ------------------------------------------------------------ */

/* Decode the character at l->pos into *c; returns its length (0 at end). */
static size_t peek(const lexer *l, size_t pos, utf8proc_int32_t *c)
{
	utf8proc_ssize_t n;

	if (pos >= l->len)
		return 0;
	n = utf8proc_iterate((const utf8proc_uint8_t *)l->q + pos,
			     (utf8proc_ssize_t)(l->len - pos), c);
	return n > 0 ? (size_t)n : 1;
}

static int is_space(utf8proc_int32_t c)
{
	utf8proc_category_t cat;

	if (c <= 0x20 || c == 0x7f)
		return 1;
	if (c < 0x80)
		return 0;
	cat = utf8proc_category(c);
	return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
	       cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CC;
}

static int is_quote(utf8proc_int32_t c)
{
	return c == '"' || c == 0x201C || c == 0x201D || c == 0xFF02;
}

static void skip_space(lexer *l)
{
	utf8proc_int32_t c;
	size_t n;

	while ((n = peek(l, l->pos, &c)) > 0 && is_space(c))
		l->pos += n;
}

/* A phrase: from after the opening quote to the closing one (or the end). */
static void lex_phrase(lexer *l, item *it)
{
	utf8proc_int32_t c;
	size_t n;

	it->kind = PHRASE;
	it->text = l->q + l->pos;
	while ((n = peek(l, l->pos, &c)) > 0 && !is_quote(c))
		l->pos += n;
	it->len = (size_t)(l->q + l->pos - it->text);
	l->pos += n;
}

static void lex_term(lexer *l, item *it)
{
	utf8proc_int32_t c;
	size_t n;

	it->kind = TERM;
	it->text = l->q + l->pos;
	while ((n = peek(l, l->pos, &c)) > 0 && !is_space(c))
		l->pos += n;
	it->len = (size_t)(l->q + l->pos - it->text);
}

/* "field:" at the current position naming a known column: its index, with
 * l->pos moved past the colon; else -1 and nothing consumed. */
static int lex_field(lexer *l)
{
	size_t p = l->pos;
	utf8proc_int32_t c;
	int col;

	while (p < l->len && (((l->q[p] | 0x20) >= 'a' && (l->q[p] | 0x20) <= 'z') ||
			      l->q[p] == '_'))
		p++;
	if (p == l->pos || p >= l->len || l->q[p] != ':')
		return -1;
	if (!peek(l, p + 1, &c) || is_space(c))
		return -1;
	col = column_lookup(l->q + l->pos, p - l->pos);
	if (col >= 0)
		l->pos = p + 1;
	return col;
}

/* Add an item, linking it to the previous one when an OR came between. */
static void push(lexer *l, const item *it)
{
	if (l->pending_or && l->n > 0 && !it->neg && !l->items[l->n - 1].neg)
		l->items[l->n - 1].or_next = 1;
	l->pending_or = 0;
	if (it->len == 0 || l->n == ITEMS_MAX)
		return;
	l->items[l->n++] = *it;
}

static void lex_item(lexer *l)
{
	item it = { TERM, 0, -1, NULL, 0, 0 };
	utf8proc_int32_t c;
	size_t n;

	if (l->q[l->pos] == '-') {
		it.neg = 1;
		l->pos++;
		n = peek(l, l->pos, &c);
		if (!n || is_space(c))
			return;
	}
	it.col = lex_field(l);
	n = peek(l, l->pos, &c);
	if (n && is_quote(c)) {
		l->pos += n;
		lex_phrase(l, &it);
	} else {
		lex_term(l, &it);
		if (it.len == 2 && memcmp(it.text, "OR", 2) == 0 && !it.neg && it.col < 0) {
			l->pending_or = l->n > 0;
			return;
		}
	}
	push(l, &it);
}

static int validate_utf8(const char *q, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)q;
	utf8proc_int32_t c;
	size_t i = 0;

	while (i < len) {
		utf8proc_ssize_t n;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
		if (n <= 0)
			return kb_error_set(KB_EINPUT, NULL, 0, "invalid utf-8 in query");
		i += (size_t)n;
	}
	return 0;
}

/* ---- compiling -------------------------------------------------------- */

typedef struct {
	kb_tokenizer *tk;            /* to test whether text has any token */
	const kb_synonyms *syn;
	size_t max_words;
	const char *key;             /* last lookup key (points into scratch) */
	kb_buf scratch;
} compiler;

static int any_token(void *p, int flags, const char *tok, int len, int start, int end)
{
	(void)p; (void)flags; (void)tok; (void)len; (void)start; (void)end;
	return 1;
}

static int has_tokens(compiler *c, const char *text, size_t len)
{
	return kb_tokenizer_run(c->tk, KB_TOKENIZE_QUERY, text, (int)len, any_token, NULL) == 1;
}

/* Cut `len` to ITEM_BYTES at a character boundary. */
static size_t clip(const char *text, size_t len)
{
	if (len <= ITEM_BYTES)
		return len;
	len = ITEM_BYTES;
	while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;
	return len;
}

/* Text of items[i .. i+k) joined by single spaces, for synonym lookup,
 * without punctuation at either end (so "AHU," finds "ahu"). */
static const char *lookup_key(compiler *c, const item *it, size_t k)
{
	static const char edge[] = ",.;:!?()[]{}<>'\"";
	size_t j;
	const char *s;
	size_t len;

	kb_buf_clear(&c->scratch);
	for (j = 0; j < k; j++) {
		if (j)
			kb_buf_putc(&c->scratch, ' ');
		kb_buf_put(&c->scratch, it[j].text, clip(it[j].text, it[j].len));
	}
	s = c->scratch.ptr;
	len = c->scratch.len;
	while (len > 0 && strchr(edge, s[len - 1]))
		len--;
	kb_buf_truncate(&c->scratch, len);
	while (*s && strchr(edge, *s))
		s++;
	c->key = s;
	return s;
}

/*
 * Render one unit: the user's text (items it[0..k) as one string) and, when
 * the synonym table knows it, the other terms of its group, as
 * `"text"` or `("text" OR "syn" ...)`, with a column filter when given.
 * Renders nothing when no alternative has a token.
 */
static void render_unit(compiler *c, kb_buf *out, const item *it, size_t k,
			const char *const *syn, size_t nsyn)
{
	kb_buf alts = KB_BUF_INIT, text = KB_BUF_INIT;
	size_t j, nalts = 0;
	char *norm;

	for (j = 0; j < k; j++) {
		if (j)
			kb_buf_putc(&text, ' ');
		kb_buf_put(&text, it[j].text, clip(it[j].text, it[j].len));
	}
	if (has_tokens(c, text.ptr, text.len)) {
		kb_query_quote(&alts, text.ptr, text.len);
		nalts++;
	}
	norm = nsyn ? kb_text_normalize(c->key, strlen(c->key)) : NULL;
	for (j = 0; j < nsyn; j++) {
		if ((norm && strcmp(norm, syn[j]) == 0) || !has_tokens(c, syn[j], strlen(syn[j])))
			continue;
		if (nalts++)
			kb_buf_puts(&alts, " OR ");
		kb_query_quote(&alts, syn[j], strlen(syn[j]));
	}
	free(norm);
	if (nalts == 0)
		goto done;
	if (it->col >= 0)
		kb_buf_printf(out, "%s : ", columns[it->col].column);
	kb_buf_puts(out, nalts > 1 ? "(" : "");
	kb_buf_put(out, alts.ptr, alts.len);
	kb_buf_puts(out, nalts > 1 ? ")" : "");
done:
	kb_buf_release(&alts);
	kb_buf_release(&text);
}

/* Can items[i .. i+k) be looked up as one multi-word synonym? */
static int joinable(const item *it, size_t k)
{
	size_t j;

	for (j = 0; j < k; j++) {
		if (it[j].kind != TERM || it[j].neg != it[0].neg || it[j].col != it[0].col)
			return 0;
		if (j + 1 < k && it[j].or_next)
			return 0;
	}
	return 1;
}

/* Render the unit starting at items[i] into `out`; returns how many items
 * it used (a multi-word synonym uses several). */
static size_t unit_at(compiler *c, kb_buf *out, const item *items, size_t n, size_t i)
{
	const char *const *syn = NULL;
	size_t k, nsyn = 0;

	k = c->max_words < n - i ? c->max_words : n - i;
	for (; k >= 2; k--) {
		if (!joinable(items + i, k))
			continue;
		nsyn = kb_synonyms_lookup(c->syn, lookup_key(c, items + i, k), &syn);
		if (nsyn)
			break;
	}
	if (k < 2) {
		k = 1;
		nsyn = c->syn ? kb_synonyms_lookup(c->syn, lookup_key(c, items + i, 1), &syn) : 0;
	}
	render_unit(c, out, items + i, k, syn, nsyn);
	return k;
}

/*
 * Join units: positive ones as an AND of OR-chains, then every excluded one
 * behind NOT.  Units that rendered nothing vanish; with no positive unit
 * the whole query is empty (FTS5 has no unary NOT).
 */
static void assemble(compiler *c, kb_buf *out, const item *items, size_t n)
{
	kb_buf pos = KB_BUF_INIT, neg = KB_BUF_INIT, chain = KB_BUF_INIT, u = KB_BUF_INIT;
	size_t i = 0, k, nchain = 0, npos = 0, nneg = 0;

	while (i < n) {
		kb_buf_clear(&u);
		k = unit_at(c, &u, items, n, i);
		i += k;
		if (items[i - k].neg) {
			if (u.len)
				kb_buf_printf(&neg, " NOT %s", u.ptr);
			nneg += u.len > 0;
			continue;
		}
		if (u.len)
			kb_buf_printf(&chain, "%s%s", nchain++ ? " OR " : "", u.ptr);
		if (items[i - 1].or_next && i < n)
			continue;
		if (nchain)
			kb_buf_printf(&pos, "%s%s%s%s", npos++ ? " AND " : "",
				      nchain > 1 ? "(" : "", chain.ptr, nchain > 1 ? ")" : "");
		kb_buf_clear(&chain);
		nchain = 0;
	}
	if (npos) {
		kb_buf_printf(out, "%s%s%s", npos > 1 && nneg ? "(" : "", pos.ptr,
			      npos > 1 && nneg ? ")" : "");
		kb_buf_put(out, neg.ptr, neg.len);
	}
	kb_buf_release(&pos);
	kb_buf_release(&neg);
	kb_buf_release(&chain);
	kb_buf_release(&u);
}

int kb_query_compile(kb_buf *out, const char *query, const kb_synonyms *synonyms)
{
	kb_tokenizer_options opt = KB_TOKENIZER_OPTIONS_INIT;
	compiler c = { NULL, synonyms, 0, NULL, KB_BUF_INIT };
	lexer *l;
	int rc;

	if (!query)
		return 0;
	rc = validate_utf8(query, strlen(query));
	if (rc < 0)
		return rc;
	opt.stem = 0;
	rc = kb_tokenizer_new(&c.tk, &opt);
	if (rc < 0)
		return rc;
	l = kb_xcalloc(1, sizeof(*l));
	l->q = query;
	l->len = strlen(query);
	for (skip_space(l); l->pos < l->len && l->n < ITEMS_MAX; skip_space(l))
		lex_item(l);
	c.max_words = kb_synonyms_max_words(synonyms);
	assemble(&c, out, l->items, l->n);
	free(l);
	kb_buf_release(&c.scratch);
	kb_tokenizer_free(c.tk);
	return 0;
}
