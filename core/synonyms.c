/*
 * synonyms.c - synonym groups (kb/synonyms.h): a flat array of normalised
 * terms grouped by line, and an open-addressing hash table from each term's
 * key (its query tokens, stemmed, joined by spaces) to the first group that
 * holds it, so "Trips" finds "trip" and "air-handling units" finds
 * "air handling unit".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/synonyms.h"
#include "kb/tokenizer.h"

struct kb_synonyms {
	char **terms;          /* all terms, group after group */
	char **keys;           /* lookup key of each term; NULL when it has none */
	size_t nterms, aterms;
	size_t *starts;        /* group g is terms[starts[g] .. starts[g + 1]) */
	size_t ngroups, agroups;
	size_t *slots;         /* hash slots: 0 empty, else term index + 1 */
	size_t nslots;         /* a power of two, at least twice nterms */
	size_t max_words;
};

static size_t hash_str(const char *s)
{
	size_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int key_token(void *p, int flags, const char *tok, int len, int start, int end)
{
	kb_buf *b = p;

	(void)flags; (void)start; (void)end;
	if (b->len)
		kb_buf_putc(b, ' ');
	kb_buf_put(b, tok, (size_t)len);
	return 0;
}

/* The lookup key of a term: its query tokens (stemmed, stop words kept)
 * joined by spaces; NULL when it has no token. */
static char *term_key(const char *term, size_t len)
{
	kb_tokenizer_options opt = KB_TOKENIZER_OPTIONS_INIT;
	kb_buf b = KB_BUF_INIT;

	opt.stopwords = 0;
	if (len > 0x7fffffff || kb_tokenize_query(&opt, term, (int)len, key_token, &b) < 0 ||
	    b.len == 0) {
		kb_buf_release(&b);
		return NULL;
	}
	return kb_buf_detach(&b);
}

/* Slot holding `key`, or the empty slot where it would go. */
static size_t *find_slot(const kb_synonyms *s, const char *key)
{
	size_t i = hash_str(key) & (s->nslots - 1);

	while (s->slots[i] && strcmp(s->keys[s->slots[i] - 1], key) != 0)
		i = (i + 1) & (s->nslots - 1);
	return &s->slots[i];
}

static void rehash(kb_synonyms *s, size_t nslots)
{
	size_t i;

	free(s->slots);
	s->slots = kb_xcalloc(nslots, sizeof(*s->slots));
	s->nslots = nslots;
	for (i = 0; i < s->nterms; i++) {
		size_t *slot;

		if (!s->keys[i])
			continue;
		slot = find_slot(s, s->keys[i]);
		if (!*slot)
			*slot = i + 1;
	}
}

kb_synonyms *kb_synonyms_new(void)
{
	kb_synonyms *s = kb_xcalloc(1, sizeof(*s));

	s->starts = kb_xcalloc(1, sizeof(*s->starts));
	s->agroups = 1;
	rehash(s, 16);
	return s;
}

void kb_synonyms_free(kb_synonyms *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nterms; i++) {
		free(s->terms[i]);
		free(s->keys[i]);
	}
	free(s->terms);
	free(s->keys);
	free(s->starts);
	free(s->slots);
	free(s);
}

static size_t count_words(const char *t)
{
	size_t n = 1;

	for (; *t; t++)
		n += *t == ' ';
	return n;
}

/* Add a normalised term (owned) to the group being built, unless the
 * group has it already. */
static void add_term(kb_synonyms *s, char *term)
{
	size_t i, *slot, w;

	for (i = s->starts[s->ngroups]; i < s->nterms; i++) {
		if (strcmp(s->terms[i], term) == 0) {
			free(term);
			return;
		}
	}
	if (s->nterms == s->aterms) {
		s->aterms = s->aterms ? s->aterms * 2 : 16;
		s->terms = kb_xrealloc(s->terms, s->aterms * sizeof(*s->terms));
		s->keys = kb_xrealloc(s->keys, s->aterms * sizeof(*s->keys));
	}
	s->keys[s->nterms] = term_key(term, strlen(term));
	s->terms[s->nterms++] = term;
	if (s->nterms * 2 > s->nslots)
		rehash(s, s->nslots * 2);
	if (s->keys[s->nterms - 1]) {
		slot = find_slot(s, s->keys[s->nterms - 1]);
		if (!*slot)
			*slot = s->nterms;
	}
	w = count_words(term);
	if (w > s->max_words)
		s->max_words = w;
}

/* Close the group being built. */
static void end_group(kb_synonyms *s)
{
	if (s->ngroups + 2 > s->agroups) {
		s->agroups *= 2;
		s->starts = kb_xrealloc(s->starts, s->agroups * sizeof(*s->starts));
	}
	s->starts[++s->ngroups] = s->nterms;
}

/* Length of a separator (',', '，' or '、') at p, else 0. */
static size_t sep_len(const char *p, const char *end)
{
	if (*p == ',')
		return 1;
	if (end - p >= 3 && (memcmp(p, "\xef\xbc\x8c", 3) == 0 || memcmp(p, "\xe3\x80\x81", 3) == 0))
		return 3;
	return 0;
}

/* Parse one non-comment line into a group. */
static int parse_line(kb_synonyms *s, const char *p, const char *end, const char *path,
		      int lineno)
{
	const char *q = p;
	size_t n;
	char *t;

	t = kb_text_normalize(p, (size_t)(end - p));
	if (!t)
		return kb_error_set(KB_EINPUT, path, lineno, "invalid utf-8");
	free(t);
	while (p <= end) {
		n = p < end ? sep_len(p, end) : 1;
		if (!n) {
			p++;
			continue;
		}
		t = kb_text_normalize(q, (size_t)(p - q));
		if (t && *t)
			add_term(s, t);
		else
			free(t);
		p += n;
		q = p;
	}
	if (s->nterms - s->starts[s->ngroups] < 2) {
		int rc = kb_error_set(KB_EINPUT, path, lineno, "synonym group has a single term '%s'",
				      s->nterms > s->starts[s->ngroups] ? s->terms[s->nterms - 1] : "");

		while (s->nterms > s->starts[s->ngroups]) {
			s->nterms--;
			free(s->terms[s->nterms]);
			free(s->keys[s->nterms]);
		}
		return rc;
	}
	end_group(s);
	return 0;
}

int kb_synonyms_parse(kb_synonyms **out, const char *text, size_t len, const char *path)
{
	kb_synonyms *s = kb_synonyms_new();
	const char *p = text, *end = text + len, *eol;
	int lineno = 0, rc = 0;

	*out = NULL;
	for (; p < end && rc == 0; p = eol + 1) {
		const char *e;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		lineno++;
		e = eol;
		while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p == e || *p == '#')
			continue;
		rc = parse_line(s, p, e, path, lineno);
	}
	if (rc < 0) {
		kb_synonyms_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int kb_synonyms_load(kb_synonyms **out, const char *path)
{
	kb_buf b = KB_BUF_INIT;
	char chunk[65536];
	size_t n;
	FILE *f;
	int rc;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f && errno == ENOENT) {
		*out = kb_synonyms_new();
		return 0;
	}
	if (!f)
		return kb_error_set(KB_EIO, path, 0, "cannot open: %s", strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kb_buf_put(&b, chunk, n);
	if (ferror(f)) {
		rc = kb_error_set(KB_EIO, path, 0, "cannot read: %s", strerror(errno));
		goto done;
	}
	rc = kb_synonyms_parse(out, b.ptr, b.len, path);
done:
	fclose(f);
	kb_buf_release(&b);
	return rc;
}

size_t kb_synonyms_count(const kb_synonyms *s)
{
	return s ? s->ngroups : 0;
}

/* Group of term index i: the last group whose start is <= i. */
static size_t group_of(const kb_synonyms *s, size_t i)
{
	size_t lo = 0, hi = s->ngroups;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (s->starts[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

size_t kb_synonyms_lookup(const kb_synonyms *s, const char *term, const char *const **terms)
{
	size_t *slot, g;
	char *key;

	*terms = NULL;
	if (!s || s->ngroups == 0 || !term)
		return 0;
	key = term_key(term, strlen(term));
	if (!key)
		return 0;
	slot = find_slot(s, key);
	free(key);
	if (!*slot)
		return 0;
	g = group_of(s, *slot - 1);
	*terms = (const char *const *)&s->terms[s->starts[g]];
	return s->starts[g + 1] - s->starts[g];
}

size_t kb_synonyms_max_words(const kb_synonyms *s)
{
	return s ? s->max_words : 0;
}

typedef struct {
	kb_buf text;           /* the tokens, each followed by a NUL */
	size_t *offs;          /* start of token i in text */
	size_t n, alloc;
} token_seq;

static int seq_token(void *p, int flags, const char *tok, int len, int start, int end)
{
	token_seq *q = p;

	(void)flags; (void)start; (void)end;
	if (q->n == q->alloc) {
		q->alloc = q->alloc ? 2 * q->alloc : 64;
		q->offs = kb_xrealloc(q->offs, q->alloc * sizeof(*q->offs));
	}
	q->offs[q->n++] = q->text.len;
	kb_buf_put(&q->text, tok, (size_t)len);
	kb_buf_putc(&q->text, '\0');
	return 0;
}

/* Mark in `hit` (one byte per term) every term whose key is the run of
 * 1..max_words tokens starting at some position of `q`. */
static void mark_terms(const kb_synonyms *s, const token_seq *q, unsigned char *hit)
{
	kb_buf key = KB_BUF_INIT;
	size_t i, w, *slot;

	for (i = 0; i < q->n; i++) {
		kb_buf_clear(&key);
		for (w = 0; w < s->max_words && i + w < q->n; w++) {
			if (w)
				kb_buf_putc(&key, ' ');
			kb_buf_puts(&key, q->text.ptr + q->offs[i + w]);
			slot = find_slot(s, key.ptr);
			if (*slot)
				hit[*slot - 1] = 1;
		}
	}
	kb_buf_release(&key);
}

int kb_synonyms_expand(kb_buf *out, const kb_synonyms *s, const char *text, size_t len)
{
	kb_tokenizer_options opt = KB_TOKENIZER_OPTIONS_INIT;
	token_seq q = { KB_BUF_INIT, NULL, 0, 0 };
	unsigned char *hit = NULL;
	size_t g, i, n = 0;

	if (!s || s->ngroups == 0 || len == 0)
		return 0;
	if (len > 0x7fffffff)
		len = 0x7fffffff;
	opt.stopwords = 0;
	if (kb_tokenize_query(&opt, text, (int)len, seq_token, &q) < 0)
		goto done;
	hit = kb_xcalloc(s->nterms, 1);
	mark_terms(s, &q, hit);
	for (g = 0; g < s->ngroups; g++) {
		int found = 0;
		for (i = s->starts[g]; i < s->starts[g + 1]; i++)
			found |= hit[i];
		for (i = s->starts[g]; found && i < s->starts[g + 1]; i++) {
			if (hit[i])
				continue;
			kb_buf_printf(out, "%s%s", n ? "\n" : "", s->terms[i]);
			n++;
		}
	}
done:
	free(hit);
	free(q.offs);
	kb_buf_release(&q.text);
	return (int)(n > 0x7fffffff ? 0x7fffffff : n);
}
