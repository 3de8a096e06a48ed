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
#include "tokenizer_priv.h"

#define ITEMS_MAX 256      /* items kept from one query; the rest is ignored */
#define ITEM_BYTES 1024    /* bytes kept of one term or phrase */
#define ALTS_MAX 64        /* alternatives OR-ed for one term */
#define CJK_SPLIT 4        /* unquoted CJK runs this long also match by bigram */
#define SYN_CHARS 8        /* longest CJK synonym looked up inside a run */

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
	kb_tokenizer *tk;            /* query tokens of alternatives */
	const kb_synonyms *syn;
	size_t max_words;
	kb_buf scratch;
} compiler;

static int key_token(void *p, int flags, const char *tok, int len, int start, int end)
{
	kb_buf *b = p;

	(void)flags; (void)start; (void)end;
	if (b->len)
		kb_buf_putc(b, ' ');
	kb_buf_put(b, tok, (size_t)len);
	return 0;
}

/* What FTS5 will search for `text`: its query tokens (stemmed, stop words
 * dropped) joined by spaces, malloc'd; NULL when there is none. */
static char *token_key(compiler *c, const char *text, size_t len)
{
	kb_buf b = KB_BUF_INIT;

	kb_tokenizer_run(c->tk, KB_TOKENIZE_QUERY, text, (int)len, key_token, &b);
	if (b.len == 0)
		return NULL;
	return kb_buf_detach(&b);
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
	return s;
}

/* The alternatives of one unit, rendered as `"a" OR "b" ...`. */
typedef struct {
	kb_buf out;
	char **seen;       /* token keys of the alternatives, for de-duplication */
	size_t n, alloc;
	size_t emitted;    /* alternatives written to out */
} alt_list;

/* Remember an alternative's token key (owned); 0 when it was already there. */
static int alt_seen(alt_list *a, char *norm)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (strcmp(a->seen[i], norm) == 0) {
			free(norm);
			return 0;
		}
	}
	if (a->n == a->alloc) {
		a->alloc = a->alloc ? a->alloc * 2 : 8;
		a->seen = kb_xrealloc(a->seen, a->alloc * sizeof(*a->seen));
	}
	a->seen[a->n++] = norm;
	return 1;
}

/* Add `len` bytes of text as an alternative unless it has no token, the
 * list is full, or an earlier alternative gives the same tokens ("trip"
 * after "tripped"). */
static void alt_add(compiler *c, alt_list *a, const char *text, size_t len)
{
	char *key;

	if (a->n >= ALTS_MAX)
		return;
	key = token_key(c, text, len);
	if (!key || !alt_seen(a, key))
		return;
	if (a->emitted++)
		kb_buf_puts(&a->out, " OR ");
	kb_query_quote(&a->out, text, len);
}

static void alt_release(alt_list *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->seen[i]);
	free(a->seen);
	kb_buf_release(&a->out);
}

/* Add the group of the longest synonym starting at character i of a CJK
 * run (characters at byte offsets off[i .. end]). */
static void cjk_synonyms(compiler *c, alt_list *a, const char *text, const size_t *off,
			 size_t i, size_t end)
{
	const char *const *syn;
	char key[SYN_CHARS * 4 + 1];
	size_t l, j, n, bytes;

	l = end - i < SYN_CHARS ? end - i : SYN_CHARS;
	for (; l >= 2; l--) {
		bytes = off[i + l] - off[i];
		memcpy(key, text + off[i], bytes);
		key[bytes] = '\0';
		n = kb_synonyms_lookup(c->syn, key, &syn);
		for (j = 0; j < n; j++)
			alt_add(c, a, syn[j], strlen(syn[j]));
		if (n)
			return;
	}
}

/*
 * An unquoted term holding a CJK run of CJK_SPLIT or more characters is
 * most likely several words written without spaces ("冷水机组跳闸"): besides
 * the exact phrase, each bigram, each other segment and each synonym found
 * inside the run become alternatives, so documents that hold the words
 * apart still match and rank by how many they hold.
 */
static void expand_cjk(compiler *c, alt_list *a, const char *text, size_t len)
{
	size_t off[ITEM_BYTES + 1], cjk[ITEM_BYTES + 1];
	size_t n = 0, i, s, longest = 0, run = 0;
	utf8proc_int32_t cp;

	for (i = 0; i < len; n++) {
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
						      (utf8proc_ssize_t)(len - i), &cp);

		off[n] = i;
		cjk[n] = k > 0 && kb_tokenizer_cjk(cp);
		run = cjk[n] ? run + 1 : 0;
		longest = run > longest ? run : longest;
		i += k > 0 ? (size_t)k : 1;
	}
	off[n] = len;
	if (longest < CJK_SPLIT)
		return;
	for (s = 0; s < n; s = i) {
		for (i = s + 1; i < n && cjk[i] == cjk[s]; i++)
			;
		if (!cjk[s]) {
			alt_add(c, a, text + off[s], off[i] - off[s]);
			continue;
		}
		if (i - s == 1)
			alt_add(c, a, text + off[s], off[i] - off[s]);
		for (run = s; run + 1 < i; run++)
			alt_add(c, a, text + off[run], off[run + 2] - off[run]);
		for (run = s; c->syn && run + 1 < i; run++)
			cjk_synonyms(c, a, text, off, run, i);
	}
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
	alt_list a = { KB_BUF_INIT, NULL, 0, 0, 0 };
	kb_buf text = KB_BUF_INIT;
	size_t j;

	for (j = 0; j < k; j++) {
		if (j)
			kb_buf_putc(&text, ' ');
		kb_buf_put(&text, it[j].text, clip(it[j].text, it[j].len));
	}
	alt_add(c, &a, text.ptr, text.len);
	for (j = 0; j < nsyn; j++)
		alt_add(c, &a, syn[j], strlen(syn[j]));
	if (!nsyn && k == 1 && it->kind == TERM)
		expand_cjk(c, &a, text.ptr, text.len);
	if (a.emitted == 0)
		goto done;
	if (it->col >= 0)
		kb_buf_printf(out, "%s : ", columns[it->col].column);
	if (a.emitted > 1)
		kb_buf_printf(out, "(%s)", a.out.ptr);
	else
		kb_buf_put(out, a.out.ptr, a.out.len);
done:
	alt_release(&a);
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
	compiler c = { NULL, synonyms, 0, KB_BUF_INIT };
	lexer *l;
	int rc;

	if (!query)
		return 0;
	rc = validate_utf8(query, strlen(query));
	if (rc < 0)
		return rc;
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
