/*
 * abbrev.c - abbreviation dictionaries and token-wise expansion (kb/abbrev.h).
 *
 * Entries live in one open-addressing hash table keyed by the lower-cased
 * abbreviation; known words for the typo step live in a second table.
 * Latin text is expanded per token; CJK runs are scanned longest-key first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/abbrev.h"
#include "importers_internal.h"

typedef struct {
	char *key;    /* lower-cased; NULL for an empty slot */
	char *value;  /* expansion, or NULL in a word set */
} slot;

typedef struct {
	slot *slots;
	size_t count;
	size_t cap;   /* power of two */
} table;

struct kb_abbrev {
	table entries;
	table words;
	size_t max_cjk_key;  /* longest CJK key in bytes */
};

static uint64_t hash_lower(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)kb__tolower((unsigned char)s[i]);
		h *= 1099511628211ULL;
	}
	return h;
}

static slot *table_find(const table *t, const char *key, size_t len)
{
	size_t i;

	if (!t->cap)
		return NULL;
	i = (size_t)hash_lower(key, len) & (t->cap - 1);
	while (t->slots[i].key) {
		if (strlen(t->slots[i].key) == len && kb__ascii_ncaseeq(t->slots[i].key, key, len))
			return &t->slots[i];
		i = (i + 1) & (t->cap - 1);
	}
	return NULL;
}

static void table_grow(table *t);

/* Insert or replace; the table takes ownership of value. */
static void table_put(table *t, const char *key, size_t len, char *value)
{
	slot *s = table_find(t, key, len);
	size_t i, k;

	if (s) {
		free(s->value);
		s->value = value;
		return;
	}
	if ((t->count + 1) * 2 > t->cap)
		table_grow(t);
	i = (size_t)hash_lower(key, len) & (t->cap - 1);
	while (t->slots[i].key)
		i = (i + 1) & (t->cap - 1);
	t->slots[i].key = kb_xstrndup(key, len);
	for (k = 0; k < len; k++)
		t->slots[i].key[k] = (char)kb__tolower((unsigned char)key[k]);
	t->slots[i].value = value;
	t->count++;
}

static void table_grow(table *t)
{
	table n = { NULL, 0, t->cap ? t->cap * 2 : 64 };
	size_t i;

	n.slots = kb_xcalloc(n.cap, sizeof(slot));
	for (i = 0; i < t->cap; i++) {
		if (t->slots[i].key) {
			table_put(&n, t->slots[i].key, strlen(t->slots[i].key), t->slots[i].value);
			free(t->slots[i].key);
		}
	}
	free(t->slots);
	*t = n;
}

static void table_release(table *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++) {
		free(t->slots[i].key);
		free(t->slots[i].value);
	}
	free(t->slots);
	t->slots = NULL;
	t->count = t->cap = 0;
}

kb_abbrev *kb_abbrev_new(void)
{
	return kb_xcalloc(1, sizeof(kb_abbrev));
}

void kb_abbrev_free(kb_abbrev *a)
{
	if (!a)
		return;
	table_release(&a->entries);
	table_release(&a->words);
	free(a);
}

size_t kb_abbrev_count(const kb_abbrev *a)
{
	return a ? a->entries.count : 0;
}

const char *kb_abbrev_lookup(const kb_abbrev *a, const char *token, size_t len)
{
	slot *s = a ? table_find(&a->entries, token, len) : NULL;

	return s ? s->value : NULL;
}

/* Add every ASCII letter run of 4+ letters in s[0..len) to the word set. */
static void add_words(kb_abbrev *a, const char *s, size_t len)
{
	size_t i = 0, j;

	while (i < len) {
		if (!kb__isalpha((unsigned char)s[i])) {
			i++;
			continue;
		}
		for (j = i; j < len && kb__isalpha((unsigned char)s[j]); j++)
			;
		if (j - i >= 4 && !table_find(&a->words, s + i, j - i))
			table_put(&a->words, s + i, j - i, NULL);
		i = j;
	}
}

void kb_abbrev_add_words(kb_abbrev *a, const char *text, size_t len)
{
	add_words(a, text, len);
}

static int has_space(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (kb__isspace((unsigned char)s[i]))
			return 1;
	return 0;
}

static int add_entry(kb_abbrev *a, const char *k, size_t klen, const char *v, size_t vlen)
{
	size_t n;

	if (!klen || !vlen || has_space(k, klen))
		return KB_EINPUT;
	if (kb__utf8_invalid_at(k, klen) != klen || kb__utf8_invalid_at(v, vlen) != vlen)
		return KB_EINPUT;
	table_put(&a->entries, k, klen, kb_xstrndup(v, vlen));
	add_words(a, v, vlen);
	if ((unsigned char)k[0] >= 0x80 && kb__is_cjk(kb__utf8_decode(k, klen, 0, &n)) &&
	    klen > a->max_cjk_key)
		a->max_cjk_key = klen;
	return 0;
}

int kb_abbrev_add(kb_abbrev *a, const char *abbr, const char *expansion)
{
	if (add_entry(a, abbr, strlen(abbr), expansion, strlen(expansion)))
		return kb_error_set(KB_EINPUT, NULL, 0, "bad abbreviation entry '%s'", abbr);
	return 0;
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && kb__isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && kb__isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* Parse one line [s, e); 0 for an entry, comment or blank line. */
static int parse_line(kb_abbrev *a, const char *s, const char *e)
{
	const char *eq, *ks = s, *ke, *vs, *ve = e;

	trim(&ks, &ve);
	if (ks == ve || *ks == '#')
		return 0;
	eq = memchr(ks, '=', (size_t)(ve - ks));
	if (!eq)
		return KB_EINPUT;
	ke = eq;
	vs = eq + 1;
	trim(&ks, &ke);
	trim(&vs, &ve);
	return add_entry(a, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs));
}

int kb_abbrev_parse(kb_abbrev *a, const char *text, size_t len, const char *path)
{
	size_t bad = kb__utf8_invalid_at(text, len), i = 0;
	int line = 1;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (bad >= i && bad < end)
			return kb_error_set(KB_EINPUT, path, line,
					    "invalid UTF-8 or NUL byte in abbreviation file");
		if (parse_line(a, text + i, text + end))
			return kb_error_set(KB_EINPUT, path, line,
					    "expected 'abbr = expansion' in abbreviation file");
		i = end + 1;
		line++;
	}
	return 0;
}

int kb_abbrev_load(kb_abbrev *a, const char *path)
{
	kb_buf b = KB_BUF_INIT;
	char chunk[8192];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc;

	if (!f)
		return kb_error_set(KB_EIO, path, 0, "cannot open abbreviation file '%s'", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kb_buf_put(&b, chunk, n);
	if (ferror(f)) {
		rc = kb_error_set(KB_EIO, path, 0, "cannot read abbreviation file '%s'", path);
		goto done;
	}
	rc = kb_abbrev_parse(a, b.ptr, b.len, path);
done:
	fclose(f);
	kb_buf_release(&b);
	return rc;
}

/* ---- expansion ---------------------------------------------------------- */

static const kb_abbrev_options default_opts = KB_ABBREV_OPTIONS_INIT;

static int is_word(const kb_abbrev *a, const char *s, size_t len)
{
	return a && table_find(&a->words, s, len) != NULL;
}

/* Inflected form: "mtrs" -> "motors", "chkd"/"chk'd" -> "checked".  Appends
 * to out and returns 1 when the token was handled. */
static int expand_inflected(kb_buf *out, const kb_abbrev *a, const char *t, size_t len)
{
	const char *v;
	size_t vl;

	if (len < 3 || is_word(a, t, len))
		return 0;
	if (kb__tolower((unsigned char)t[len - 1]) == 's') {
		v = kb_abbrev_lookup(a, t, len - 1);
		if (!v || !(vl = strlen(v)) || v[vl - 1] == 's' || !kb__isalpha((unsigned char)v[vl - 1]))
			return 0;
		kb_buf_puts(out, v);
		kb_buf_putc(out, 's');
		return 1;
	}
	if (kb__tolower((unsigned char)t[len - 1]) != 'd')
		return 0;
	len -= (t[len - 2] == '\'') ? 2 : 1;
	if (len < 3)
		return 0;               /* "rad" is not "ra" + "d" */
	v = kb_abbrev_lookup(a, t, len);
	if (!v || !(vl = strlen(v)) || !kb__isalpha((unsigned char)v[vl - 1]) || v[vl - 1] == 'd' ||
	    strchr(v, ' '))
		return 0;               /* only one-word verbs take "-ed" */
	kb_buf_puts(out, v);
	kb_buf_puts(out, v[vl - 1] == 'e' ? "d" : "ed");
	return 1;
}

/* Look the candidate w[0..wl) up; keeps the first hit in *found and sets
 * *ambiguous when a second, different word also matches. */
static void typo_try(const kb_abbrev *a, const char *w, size_t wl, const char **found,
		     int *ambiguous)
{
	slot *s = table_find(&a->words, w, wl);

	if (!s)
		return;
	if (*found && strcmp(*found, s->key))
		*ambiguous = 1;
	*found = s->key;
}

/* 1 when t is a known word plus a common English ending ("leaks",
 * "faulty", "replaced"): such words are not typos. */
static int inflected_word(const kb_abbrev *a, const char *t, size_t len)
{
	static const char *const endings[] = { "s", "es", "ed", "d", "ing", "y", "er", "ly" };
	char w[72];
	size_t k, n;

	for (k = 0; k < sizeof(endings) / sizeof(endings[0]); k++) {
		n = strlen(endings[k]);
		if (len < n + 3 || !kb__ascii_ncaseeq(endings[k], t + len - n, n))
			continue;
		if (is_word(a, t, len - n))
			return 1;
		memcpy(w, t, len - n);
		w[len - n] = 'e';               /* "leaking" <- "leak", "changing" <- "change" */
		if (is_word(a, w, len - n + 1))
			return 1;
	}
	return 0;
}

/*
 * The unique known word at edit distance 1 (one deletion, substitution,
 * insertion or transposition of adjacent letters) from an unknown
 * alphabetic token of 5-64 letters, or NULL when there is none or more
 * than one.
 */
static const char *typo_fix(const kb_abbrev *a, const char *t, size_t len)
{
	char w[72];
	const char *found = NULL;
	int ambiguous = 0, c;
	size_t i;

	if (!a || !a->words.count || len < 5 || len > 64 || is_word(a, t, len) ||
	    inflected_word(a, t, len))
		return NULL;
	for (i = 0; i < len; i++)
		if (!kb__isalpha((unsigned char)t[i]))
			return NULL;
	for (i = 0; i < len; i++) {             /* deletions */
		memcpy(w, t, i);
		memcpy(w + i, t + i + 1, len - i - 1);
		typo_try(a, w, len - 1, &found, &ambiguous);
	}
	for (i = 0; i + 1 < len; i++) {         /* transpositions */
		memcpy(w, t, len);
		w[i] = t[i + 1];
		w[i + 1] = t[i];
		typo_try(a, w, len, &found, &ambiguous);
	}
	for (i = 0; i <= len; i++) {
		for (c = 'a'; c <= 'z'; c++) {
			memcpy(w, t, len);      /* substitution */
			if (i < len) {
				w[i] = (char)c;
				typo_try(a, w, len, &found, &ambiguous);
			}
			memcpy(w, t, i);        /* insertion */
			w[i] = (char)c;
			memcpy(w + i + 1, t + i, len - i);
			typo_try(a, w, len + 1, &found, &ambiguous);
		}
	}
	return ambiguous ? NULL : found;
}

/* Expand one whitespace-free Latin token core t[0..len); 1 when changed. */
static int expand_core(kb_buf *out, const kb_abbrev *a, const kb_abbrev_options *o,
		       const char *t, size_t len);

static int expand_slashed(kb_buf *out, const kb_abbrev *a, const kb_abbrev_options *o,
			  const char *t, size_t len)
{
	const char *sl = memchr(t, '/', len);
	size_t mark = out->len;
	int changed;

	if (!sl || sl == t || sl == t + len - 1)
		return 0;
	changed = expand_core(out, a, o, t, (size_t)(sl - t));
	kb_buf_putc(out, '/');
	changed |= expand_core(out, a, o, sl + 1, len - (size_t)(sl - t) - 1);
	if (!changed)
		kb_buf_truncate(out, mark);
	return changed;
}

static int expand_core(kb_buf *out, const kb_abbrev *a, const kb_abbrev_options *o,
		       const char *t, size_t len)
{
	const char *v = kb_abbrev_lookup(a, t, len), *fix;

	if (!len)
		return 0;
	if (v) {
		kb_buf_puts(out, v);
		return 1;
	}
	if (o->inflect && a && expand_inflected(out, a, t, len))
		return 1;
	if (o->split_slash && expand_slashed(out, a, o, t, len))
		return 1;
	if (o->typo && (fix = typo_fix(a, t, len)) != NULL) {
		kb_buf_puts(out, fix);
		return 1;
	}
	kb_buf_put(out, t, len);
	return 0;
}

static int is_edge_punct(int c)
{
	return c < 0x80 && !kb__isalnum(c) && c != '#' && c != '\'' && c != '/';
}

/* Expand the token s[0..len) (no white space, no CJK) into out. */
static int expand_token(kb_buf *out, const kb_abbrev *a, const kb_abbrev_options *o,
			const char *s, size_t len)
{
	size_t b = 0, e = len;
	int changed;

	while (b < e && is_edge_punct((unsigned char)s[b]))
		b++;
	while (e > b && is_edge_punct((unsigned char)s[e - 1]))
		e--;
	kb_buf_put(out, s, b);
	if (e < len && s[e] == '.' && kb_abbrev_lookup(a, s + b, e - b + 1)) {
		kb_buf_puts(out, kb_abbrev_lookup(a, s + b, e - b + 1));
		changed = 1;
		e++;
	} else {
		changed = expand_core(out, a, o, s + b, e - b);
	}
	kb_buf_put(out, s + e, len - e);
	return changed;
}

/* Longest CJK key at s[i..len); its byte length or 0. */
static size_t cjk_match(const kb_abbrev *a, const char *s, size_t len, size_t i, const char **v)
{
	size_t n = a->max_cjk_key < len - i ? a->max_cjk_key : len - i;

	for (; n >= 3; n--) {
		if (i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
			continue;   /* not on a character boundary */
		*v = kb_abbrev_lookup(a, s + i, n);
		if (*v)
			return n;
	}
	return 0;
}

/* Expand a run of CJK text; returns the number of replacements. */
static size_t expand_cjk(kb_buf *out, const kb_abbrev *a, const char *s, size_t len)
{
	size_t i = 0, n, vl, count = 0;
	const char *v = NULL;

	while (i < len) {
		n = (a && a->max_cjk_key) ? cjk_match(a, s, len, i, &v) : 0;
		if (!n) {
			kb__utf8_decode(s, len, i, &n);
			kb_buf_put(out, s + i, n);
			i += n;
			continue;
		}
		vl = strlen(v);
		if (len - i >= vl && !memcmp(s + i, v, vl)) {
			kb_buf_put(out, v, vl);     /* already written out in full */
			i += vl;
			continue;
		}
		kb_buf_put(out, v, vl);
		i += n;
		count++;
	}
	return count;
}

static void lowercase_from(kb_buf *b, size_t from)
{
	size_t i;

	for (i = from; i < b->len; i++)
		b->ptr[i] = (char)kb__tolower((unsigned char)b->ptr[i]);
}

static int char_is_cjk(const char *s, size_t len, size_t i, size_t *n)
{
	if ((unsigned char)s[i] < 0x80) {
		*n = 1;
		return 0;
	}
	return kb__is_cjk(kb__utf8_decode(s, len, i, n));
}

int kb_abbrev_expand(kb_buf *out, const kb_abbrev *a, const kb_abbrev_options *opts,
		     const char *text, size_t len, size_t *replaced)
{
	const kb_abbrev_options *o = opts ? opts : &default_opts;
	size_t i = 0, j, n, start = out->len, count = 0;

	if (replaced)
		*replaced = 0;
	if (kb__utf8_require(text, len, "text to expand"))
		return KB_EINPUT;
	while (i < len) {
		if (kb__isspace((unsigned char)text[i])) {
			kb_buf_putc(out, text[i++]);
			continue;
		}
		if (char_is_cjk(text, len, i, &n)) {
			for (j = i; j < len && char_is_cjk(text, len, j, &n); j += n)
				;
			count += expand_cjk(out, a, text + i, j - i);
			i = j;
			continue;
		}
		for (j = i; j < len && !kb__isspace((unsigned char)text[j]) &&
		     !char_is_cjk(text, len, j, &n); j += n)
			;
		count += (size_t)expand_token(out, a, o, text + i, j - i);
		i = j;
	}
	if (o->lowercase)
		lowercase_from(out, start);
	if (replaced)
		*replaced = count;
	return 0;
}
