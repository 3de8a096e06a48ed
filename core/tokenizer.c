/*
 * tokenizer.c - kb's tokenizer (kb/tokenizer.h): normalisation through
 * utf8proc, CJK unigrams and bigrams, Latin words with stop words and
 * Snowball stemming, codes kept whole plus their parts, and the FTS5
 * tokenizer "kb" built on it.  The position scheme is described in
 * docs/internals/tokenizer.md.
 */
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/tokenizer.h"
#include "tokenizer_priv.h"

#define WORD_MAX 128     /* bytes of one word or code; longer parts are cut */
#define PARTS_MAX 16     /* parts of one code; more start a new code */
#define NORM_MAX 32      /* codepoints one character may normalise to */
#define STEM_CACHE 8192  /* entries of the stem cache (a power of two) */
#define STEM_WORD 22     /* longest word the cache holds */

/* A two-way set-associative cache of recent stems (a set is two adjacent
 * entries, the most recently stemmed first): Snowball is the most
 * expensive step for English text and words repeat a lot. */
typedef struct {
	unsigned char len, slen;
	char word[STEM_WORD];
	char stem[STEM_WORD];
} stem_entry;

struct kb_tokenizer {
	kb_tokenizer_options opt;
	struct sb_stemmer *stemmer;   /* NULL when stemming is off */
	stem_entry *cache;            /* STEM_CACHE entries, made once worth it */
	unsigned stems;               /* words stemmed while there is no cache */
	kb_token_tapes *tapes;        /* replayed by the FTS5 tokenizer, may be NULL */
};

_Static_assert(KB_TOKEN_COLOCATED == FTS5_TOKEN_COLOCATED, "token flags differ from FTS5's");

/* Character classes after normalisation. */
enum { C_SEP = 0, C_WORD, C_JOIN, C_APOS, C_CJK, C_MARK };

/* One part of a word or code: bytes [off, off+len) of scan.word and the
 * original byte range [start, end). */
typedef struct {
	int off, len;
	int start, end;
	int alpha;       /* only ASCII letters: candidate for stop words, stemming */
} part;

/* One CJK character: normalised UTF-8 and its original range. */
typedef struct {
	char s[8];
	int len;
	int start, end;
} cjk_char;

typedef struct {
	kb_tokenizer *tk;
	int query;
	int ref;                     /* reference path: no fast paths, no cache */
	kb_token_cb cb;
	void *payload;
	int rc;

	char word[WORD_MAX + 8];     /* the code being built, joiners included */
	int wlen;
	part parts[PARTS_MAX];
	int nparts;
	int pend_join;               /* joiner seen after a part: 0 or the byte */
	int pend_apos;               /* apostrophe seen inside a part */

	cjk_char prev;               /* last CJK char of the current run */
	int run;                     /* length of the current CJK run */
	cjk_char tail;               /* query: unigram that keeps positions */
	int tail_pending;
} scan;

/* ---- stop words ------------------------------------------------------- */

/* A short English list by length.  "no" and "not" are kept: "no cooling"
 * is a symptom. */
static const char *const stop_words[6] = {
	"",
	"a",
	"anasatbebyifinisitofonorsoto",
	"andarebutforhadhasitsthewas",
	"beenfromhaveintosuchthattheythenthiswerewillwith",
	"theirtherethesewhich",
};

/* memcmp() == 0 for the short strings here, without a library call. */
static int same_bytes(const char *a, const char *b, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static int is_stop_word(const char *w, int len)
{
	const char *p;

	if (len < 1 || len > 5)
		return 0;
	for (p = stop_words[len]; *p; p += len)
		if (p[0] == w[0] && same_bytes(p, w, len))
			return 1;
	return 0;
}

/* ---- character classes and normalisation ------------------------------ */

static int is_cjk(utf8proc_int32_t c)
{
	if (c >= 0x4E00 && c <= 0x9FFF)
		return 1;
	if (c >= 0x3400 && c <= 0x4DBF)
		return 1;
	if (c >= 0xAC00 && c <= 0xD7AF)            /* hangul syllables */
		return 1;
	if (c >= 0x3041 && c <= 0x30FF)            /* kana, minus marks and dot */
		return (c < 0x3099 || c > 0x309C) && c != 0x30A0 && c != 0x30FB;
	if (c == 0x3005 || c == 0x3006 || c == 0x3007)
		return 1;
	if (c >= 0x31F0 && c <= 0x31FF)
		return 1;
	if (c >= 0x1100 && c <= 0x11FF)            /* hangul jamo */
		return 1;
	if (c >= 0xF900 && c <= 0xFAFF)
		return 1;
	return c >= 0x20000 && c <= 0x3134F;
}

int kb_tokenizer_cjk(int32_t c)
{
	return is_cjk(c);
}

static const unsigned char ascii_class[128] = {
	['0'] = C_WORD, ['1'] = C_WORD, ['2'] = C_WORD, ['3'] = C_WORD,
	['4'] = C_WORD, ['5'] = C_WORD, ['6'] = C_WORD, ['7'] = C_WORD,
	['8'] = C_WORD, ['9'] = C_WORD,
	['a'] = C_WORD, ['b'] = C_WORD, ['c'] = C_WORD, ['d'] = C_WORD,
	['e'] = C_WORD, ['f'] = C_WORD, ['g'] = C_WORD, ['h'] = C_WORD,
	['i'] = C_WORD, ['j'] = C_WORD, ['k'] = C_WORD, ['l'] = C_WORD,
	['m'] = C_WORD, ['n'] = C_WORD, ['o'] = C_WORD, ['p'] = C_WORD,
	['q'] = C_WORD, ['r'] = C_WORD, ['s'] = C_WORD, ['t'] = C_WORD,
	['u'] = C_WORD, ['v'] = C_WORD, ['w'] = C_WORD, ['x'] = C_WORD,
	['y'] = C_WORD, ['z'] = C_WORD,
	['A'] = C_WORD, ['B'] = C_WORD, ['C'] = C_WORD, ['D'] = C_WORD,
	['E'] = C_WORD, ['F'] = C_WORD, ['G'] = C_WORD, ['H'] = C_WORD,
	['I'] = C_WORD, ['J'] = C_WORD, ['K'] = C_WORD, ['L'] = C_WORD,
	['M'] = C_WORD, ['N'] = C_WORD, ['O'] = C_WORD, ['P'] = C_WORD,
	['Q'] = C_WORD, ['R'] = C_WORD, ['S'] = C_WORD, ['T'] = C_WORD,
	['U'] = C_WORD, ['V'] = C_WORD, ['W'] = C_WORD, ['X'] = C_WORD,
	['Y'] = C_WORD, ['Z'] = C_WORD,
	['-'] = C_JOIN, ['/'] = C_JOIN, ['.'] = C_JOIN, ['_'] = C_JOIN,
	['\''] = C_APOS,
};

/* Class of a normalised codepoint. */
static int char_class(utf8proc_int32_t c)
{
	if (c < 0x80)
		return ascii_class[c];
	if (is_cjk(c))
		return C_CJK;
	if (c == 0x2019)
		return C_APOS;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return C_WORD;
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return C_MARK;
	default:
		return C_SEP;
	}
}

/* Characters that normalise to themselves without a table lookup. */
static int is_stable(utf8proc_int32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3) ||
	       (c >= 0x3041 && c <= 0x3096) || (c >= 0x30A1 && c <= 0x30FA);
}

/*
 * Normalise one non-ASCII codepoint into `dst` (NORM_MAX entries): NFKC,
 * case fold, marks stripped.  Kana keep their voicing marks (が stays が).
 * Returns the number of codepoints, 0 when the character vanishes.
 */
static int normalize_char(utf8proc_int32_t c, utf8proc_int32_t *dst)
{
	utf8proc_option_t opt = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD;
	utf8proc_ssize_t n;

	if (is_stable(c)) {
		dst[0] = c;
		return 1;
	}
	if (!(c >= 0x3040 && c <= 0x30FF) && !(c >= 0xFF61 && c <= 0xFF9F))
		opt |= UTF8PROC_STRIPMARK;
	n = utf8proc_decompose_char(c, dst, NORM_MAX, opt, NULL);
	if (n < 0 || n > NORM_MAX)
		return 0;
	if (n > 1)
		n = utf8proc_normalize_utf32(dst, n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
	return n < 0 ? 0 : (int)n;
}

/* Decode one character at text[i]; *c is -1 for an invalid byte.  Returns
 * the number of bytes consumed (at least 1). */
static int decode(const unsigned char *text, int i, int len, utf8proc_int32_t *c)
{
	utf8proc_ssize_t n;

	if (text[i] < 0x80) {
		*c = text[i];
		return 1;
	}
	n = utf8proc_iterate(text + i, len - i, c);
	if (n <= 0) {
		*c = -1;
		return 1;
	}
	return (int)n;
}

/* decode() for the common valid 2- and 3-byte sequences without a call
 * into utf8proc; anything else (4 bytes, invalid, truncated) goes to
 * decode(), so the result is always the same as decode()'s. */
static int decode_fast(const unsigned char *text, int i, int len, utf8proc_int32_t *c)
{
	unsigned b0 = text[i], b1, b2, cp;

	if (b0 >= 0xC2 && b0 < 0xE0 && i + 1 < len && (text[i + 1] & 0xC0) == 0x80) {
		*c = (utf8proc_int32_t)(((b0 & 0x1F) << 6) | (text[i + 1] & 0x3F));
		return 2;
	}
	if (b0 >= 0xE0 && b0 < 0xF0 && i + 2 < len) {
		b1 = text[i + 1];
		b2 = text[i + 2];
		cp = ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F);
		if ((b1 & 0xC0) == 0x80 && (b2 & 0xC0) == 0x80 && cp >= 0x800 &&
		    (cp < 0xD800 || cp > 0xDFFF)) {
			*c = (utf8proc_int32_t)cp;
			return 3;
		}
	}
	return decode(text, i, len, c);
}

/* ---- emitting tokens -------------------------------------------------- */

static void emit_raw(scan *s, int flags, const char *tok, int len, int start, int end)
{
	if (s->rc == 0 && len > 0)
		s->rc = s->cb(s->payload, flags, tok, len, start, end);
}

/* Emit a token that takes a new position (or a colocated one).  In query
 * mode a pending CJK tail unigram goes first so positions stay aligned. */
static inline void emit(scan *s, int flags, const char *tok, int len, int start, int end)
{
	if (s->tail_pending) {
		s->tail_pending = 0;
		emit_raw(s, 0, s->tail.s, s->tail.len, s->tail.start, s->tail.end);
	}
	emit_raw(s, flags, tok, len, start, end);
}

/* Stem `len` bytes of w; returns the stem and its length in *slen (the
 * word itself when Snowball fails). */
static const char *stem(kb_tokenizer *tk, int ref, const char *w, int len, int *slen)
{
	stem_entry *e = NULL;
	const sb_symbol *st;
	unsigned h = 2166136261u;
	int i;

	if (!ref && !tk->cache && ++tk->stems > STEM_CACHE / 8)
		tk->cache = kb_xcalloc(STEM_CACHE, sizeof(*tk->cache));
	if (!ref && tk->cache && len <= STEM_WORD) {
		for (i = 0; i < len; i++)
			h = (h ^ (unsigned char)w[i]) * 16777619u;
		e = &tk->cache[h & (STEM_CACHE - 2)];
		for (i = 0; i < 2; i++) {
			if (e[i].len == len && same_bytes(e[i].word, w, len)) {
				*slen = e[i].slen;
				return e[i].stem;
			}
		}
	}
	st = sb_stemmer_stem(tk->stemmer, (const sb_symbol *)w, len);
	if (!st) {
		*slen = len;
		return w;
	}
	*slen = sb_stemmer_length(tk->stemmer);
	if (e && *slen <= STEM_WORD) {
		e[1] = e[0];
		e->len = (unsigned char)len;
		e->slen = (unsigned char)*slen;
		memcpy(e->word, w, (size_t)len);
		memcpy(e->stem, st, (size_t)*slen);
	}
	return (const char *)st;
}

/* Emit one word part: stemmed if wanted and purely alphabetic. */
static void emit_part(scan *s, int flags, const part *p)
{
	const char *w = s->word + p->off;
	int len = p->len;

	if (s->tk->stemmer && p->alpha && len > 2)
		w = stem(s->tk, s->ref, w, len, &len);
	emit(s, flags, w, len, p->start, p->end);
}

/*
 * Finish the word or code being built.  A single word is dropped when it
 * is a stop word.  A code emits, in documents, the whole code and then its
 * parts (the first colocated with the whole, the next ones at the following
 * positions); in queries only its parts, as a phrase.
 */
static void flush_word(scan *s)
{
	const part *p = s->parts;
	int i;

	s->pend_join = s->pend_apos = 0;
	if (s->nparts == 0)
		return;
	if (s->nparts == 1) {
		if (!(s->tk->opt.stopwords && p->alpha && is_stop_word(s->word, p->len)))
			emit_part(s, 0, p);
	} else {
		if (!s->query)
			emit(s, 0, s->word, s->wlen, p[0].start, p[s->nparts - 1].end);
		for (i = 0; i < s->nparts; i++)
			emit_part(s, i == 0 && !s->query ? KB_TOKEN_COLOCATED : 0, &p[i]);
	}
	s->nparts = 0;
	s->wlen = 0;
}

static void put_cp(char *dst, int *len, utf8proc_int32_t c)
{
	*len += (int)utf8proc_encode_char(c, (utf8proc_uint8_t *)dst + *len);
}

/* put_cp() with the 1- to 3-byte encodings inline (the reference path
 * keeps utf8proc's). */
static void put_cp_fast(const scan *s, char *dst, int *len, utf8proc_int32_t c)
{
	unsigned char *d = (unsigned char *)dst + *len;

	if (s->ref || c < 0x80 || c >= 0x10000) {
		put_cp(dst, len, c);
	} else if (c < 0x800) {
		d[0] = (unsigned char)(0xC0 | (c >> 6));
		d[1] = (unsigned char)(0x80 | (c & 0x3F));
		*len += 2;
	} else {
		d[0] = (unsigned char)(0xE0 | (c >> 12));
		d[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
		d[2] = (unsigned char)(0x80 | (c & 0x3F));
		*len += 3;
	}
}

/* Append a word character (normalised codepoint c from [start, end)). */
static void word_char(scan *s, utf8proc_int32_t c, int start, int end)
{
	part *p;
	int need = c < 0x80 ? 1 : 4;

	if (s->nparts > 0 && s->pend_join) {
		if (s->nparts == PARTS_MAX || s->wlen + 1 + need > WORD_MAX) {
			flush_word(s);
		} else {
			s->word[s->wlen++] = (char)s->pend_join;
			p = &s->parts[s->nparts++];
			p->off = s->wlen;
			p->len = 0;
			p->start = start;
			p->alpha = 1;
		}
		s->pend_join = 0;
	}
	if (s->nparts == 0) {
		p = &s->parts[s->nparts++];
		p->off = s->wlen = 0;
		p->len = 0;
		p->start = start;
		p->alpha = 1;
	}
	s->pend_apos = 0;
	p = &s->parts[s->nparts - 1];
	p->end = end;
	if (s->wlen + need > WORD_MAX)
		return;
	if (c < 0x80) {
		s->word[s->wlen++] = (char)c;
		p->alpha &= c >= 'a';
	} else {
		put_cp_fast(s, s->word, &s->wlen, c);
		p->alpha = 0;
	}
	p->len = s->wlen - p->off;
}

/* ---- CJK runs --------------------------------------------------------- */

/*
 * Documents: character i gives bigram c[i]c[i+1] at a new position and
 * unigram c[i] colocated with it (the last character: its unigram alone).
 * The bigram goes first because highlight() takes the offsets of the first
 * token at a position, so a matched word is marked whole.
 *
 * Queries: a run of one character gives its unigram, a longer run its
 * bigrams; the last character's unigram is kept as a pending "tail" and
 * emitted only when another token follows, so a phrase that continues
 * after the run lines up with the document.
 */
static void cjk_bytes_in(scan *s, const char *u, int ulen, int start, int end)
{
	cjk_char cur;
	char bi[16];

	/* byte by byte (ulen is 1 to 4) and then fixed-size copies: the
	 * compiler does these inline, where a call to memcpy() would cost
	 * more than the copy */
	memset(cur.s, 0, sizeof(cur.s));
	cur.s[0] = u[0];
	if (ulen > 1)
		cur.s[1] = u[1];
	if (ulen > 2)
		cur.s[2] = u[2];
	if (ulen > 3)
		cur.s[3] = u[3];
	cur.len = ulen;
	cur.start = start;
	cur.end = end;
	if (s->run > 0) {
		memcpy(bi, s->prev.s, sizeof(s->prev.s));
		memcpy(bi + s->prev.len, cur.s, sizeof(cur.s));
		emit(s, 0, bi, s->prev.len + cur.len, s->prev.start, cur.end);
		if (!s->query)
			emit(s, KB_TOKEN_COLOCATED, s->prev.s, s->prev.len,
			     s->prev.start, s->prev.end);
	}
	s->prev = cur;
	s->run++;
}

/* A CJK character by codepoint (see cjk_bytes_in()). */
static void cjk_char_in(scan *s, utf8proc_int32_t c, int start, int end)
{
	char u[8];
	int ulen = 0;

	put_cp_fast(s, u, &ulen, c);
	cjk_bytes_in(s, u, ulen, start, end);
}

static void flush_cjk(scan *s)
{
	if (s->run == 0)
		return;
	if (!s->query || s->run == 1) {
		emit(s, 0, s->prev.s, s->prev.len, s->prev.start, s->prev.end);
	} else {
		s->tail = s->prev;
		s->tail_pending = 1;
	}
	s->run = 0;
}

/* ---- the scanner ------------------------------------------------------ */

/* Feed one normalised codepoint that came from original bytes [start, end). */
static void feed(scan *s, utf8proc_int32_t c, int start, int end)
{
	int cls = char_class(c);

	if (cls == C_MARK && s->run > 0)
		return;
	if (cls != C_CJK)
		flush_cjk(s);
	switch (cls) {
	case C_WORD:
		word_char(s, c, start, end);
		break;
	case C_MARK:
		if (s->nparts == 0 || s->pend_join)
			flush_word(s);
		break;
	case C_JOIN:
		if (s->nparts > 0 && !s->pend_join && !s->pend_apos) {
			s->pend_join = (int)c;
		} else {
			flush_word(s);
		}
		break;
	case C_APOS:
		if (s->nparts > 0 && !s->pend_join && !s->pend_apos)
			s->pend_apos = 1;
		else
			flush_word(s);
		break;
	case C_CJK:
		flush_word(s);
		cjk_char_in(s, c, start, end);
		break;
	default:
		flush_word(s);
		break;
	}
}

static int is_alnum(unsigned char c)
{
	return c < 0x80 && ascii_class[c] == C_WORD;
}

/*
 * Fast path: the rest of an ASCII letter/digit run from t[i] (its first
 * character was just fed), lower-cased into the current part in one pass,
 * as word_char() would one by one (bytes past WORD_MAX are not kept and do
 * not count for `alpha`).  Returns the end of the run.
 */
static int word_ascii(scan *s, const unsigned char *t, int i, int len)
{
	part *p = &s->parts[s->nparts - 1];
	int alpha = p->alpha, wlen = s->wlen;
	unsigned char c;

	for (; i < len && is_alnum(t[i]); i++) {
		if (wlen < WORD_MAX) {
			c = t[i] | 0x20;     /* lower case; digits have the bit */
			alpha &= c >= 'a';
			s->word[wlen++] = (char)c;
		}
	}
	s->wlen = wlen;
	p->end = i;
	p->alpha = alpha;
	p->len = wlen - p->off;
	return i;
}

/*
 * The scanner.  `ref` selects the reference path (every character through
 * feed(), utf8proc for decoding and encoding, no stem cache), kept callable
 * through kb_tokenizer_run_reference() so tests can prove that the fast
 * paths give exactly the same tokens.
 */
static int run(kb_tokenizer *tk, int query, int ref, const char *text, int len,
	       kb_token_cb cb, void *payload)
{
	const unsigned char *t = (const unsigned char *)text;
	utf8proc_int32_t c, norm[NORM_MAX];
	scan s;
	int i = 0, n, k, m;

	memset(&s, 0, sizeof(s));
	s.tk = tk;
	s.query = query;
	s.cb = cb;
	s.payload = payload;
	s.ref = ref;
	while (i < len && s.rc == 0) {
		if (t[i] < 0x80) {
			if (!ref && ascii_class[t[i]] == C_SEP) {
				/* what feed() does for a separator: with no word
				 * pending, flush_word() only clears the pending
				 * joiner and apostrophe, which are already 0 */
				if (s.nparts > 0)
					flush_word(&s);
				else if (s.run > 0)
					flush_cjk(&s);
				i++;
				continue;
			}
			c = t[i];
			feed(&s, c >= 'A' && c <= 'Z' ? c + 32 : c, i, i + 1);
			if (!ref && is_alnum(t[i]) && i + 1 < len && is_alnum(t[i + 1])) {
				i = word_ascii(&s, t, i + 1, len);
				continue;
			}
			i++;
			continue;
		}
		n = ref ? decode(t, i, len, &c) : decode_fast(t, i, len, &c);
		if (!ref && n == 3 && is_stable(c)) {
			/* what feed() does for a CJK character that normalises
			 * to itself, whose UTF-8 is then the original bytes */
			flush_word(&s);
			cjk_bytes_in(&s, text + i, 3, i, i + 3);
			i += 3;
			continue;
		}
		if (c < 0) {
			feed(&s, ' ', i, i + n);
		} else {
			m = normalize_char(c, norm);
			for (k = 0; k < m; k++)
				feed(&s, norm[k], i, i + n);
		}
		i += n;
	}
	flush_word(&s);
	flush_cjk(&s);
	return s.rc;
}

/* ---- public API ------------------------------------------------------- */

int kb_tokenizer_new(kb_tokenizer **out, const kb_tokenizer_options *opts)
{
	kb_tokenizer_options def = KB_TOKENIZER_OPTIONS_INIT;
	kb_tokenizer *tk;

	*out = NULL;
	tk = kb_xcalloc(1, sizeof(*tk));
	tk->opt = opts ? *opts : def;
	if (tk->opt.stem) {
		tk->stemmer = sb_stemmer_new("english", "UTF_8");
		if (!tk->stemmer) {
			free(tk);
			return kb_error_set(KB_ERROR, NULL, 0,
					    "cannot create the 'english' stemmer");
		}
	}
	*out = tk;
	return 0;
}

void kb_tokenizer_free(kb_tokenizer *tk)
{
	if (!tk)
		return;
	if (tk->stemmer)
		sb_stemmer_delete(tk->stemmer);
	free(tk->cache);
	free(tk);
}

int kb_tokenizer_run(kb_tokenizer *tk, int mode, const char *text, int len,
		     kb_token_cb cb, void *payload)
{
	if (!text || len <= 0)
		return 0;
	return run(tk, mode == KB_TOKENIZE_QUERY, 0, text, len, cb, payload);
}

int kb_tokenizer_run_reference(kb_tokenizer *tk, int mode, const char *text, int len,
			       kb_token_cb cb, void *payload)
{
	if (!text || len <= 0)
		return 0;
	return run(tk, mode == KB_TOKENIZE_QUERY, 1, text, len, cb, payload);
}

static int tokenize_once(const kb_tokenizer_options *opts, int mode, const char *text,
			 int len, kb_token_cb cb, void *payload)
{
	kb_tokenizer *tk;
	int rc;

	rc = kb_tokenizer_new(&tk, opts);
	if (rc < 0)
		return rc;
	rc = kb_tokenizer_run(tk, mode, text, len, cb, payload);
	kb_tokenizer_free(tk);
	return rc;
}

int kb_tokenize(const kb_tokenizer_options *opts, const char *text, int len,
		kb_token_cb cb, void *payload)
{
	return tokenize_once(opts, KB_TOKENIZE_DOCUMENT, text, len, cb, payload);
}

int kb_tokenize_query(const kb_tokenizer_options *opts, const char *text, int len,
		      kb_token_cb cb, void *payload)
{
	return tokenize_once(opts, KB_TOKENIZE_QUERY, text, len, cb, payload);
}

/* Append normalised codepoints to `out`, turning separators that are
 * spaces or controls into one space between words. */
static void normalize_put(kb_buf *out, const utf8proc_int32_t *cp, int n, int *space)
{
	char tmp[8];
	int k, len;

	for (k = 0; k < n; k++) {
		utf8proc_category_t cat = utf8proc_category(cp[k]);

		if (cp[k] == ' ' || (cp[k] >= 0x09 && cp[k] <= 0x0D) ||
		    cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_CC ||
		    cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP) {
			*space = out->len > 0;
			continue;
		}
		if (*space)
			kb_buf_putc(out, ' ');
		*space = 0;
		len = 0;
		put_cp(tmp, &len, cp[k]);
		kb_buf_put(out, tmp, (size_t)len);
	}
}

char *kb_text_normalize(const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	utf8proc_int32_t c, norm[NORM_MAX];
	kb_buf out = KB_BUF_INIT;
	int space = 0, n, m;
	size_t i = 0;

	if (len > 0x7fffffff)
		return NULL;
	while (i < len) {
		n = decode(t, (int)i, (int)len, &c);
		if (c < 0) {
			kb_buf_release(&out);
			return NULL;
		}
		if (c < 0x80) {
			norm[0] = c >= 'A' && c <= 'Z' ? c + 32 : c;
			m = 1;
		} else {
			m = normalize_char(c, norm);
		}
		normalize_put(&out, norm, m, &space);
		i += (size_t)n;
	}
	return kb_buf_detach(&out);
}

/* ---- FTS5 ------------------------------------------------------------- */

int kb_tokenizer_options_parse(kb_tokenizer_options *opts, const char *const *argv, int argc)
{
	kb_tokenizer_options def = KB_TOKENIZER_OPTIONS_INIT;
	int i;

	*opts = def;
	for (i = 0; i + 1 < argc; i += 2) {
		int on = argv[i + 1][0] == '1' && argv[i + 1][1] == '\0';

		if (!on && strcmp(argv[i + 1], "0") != 0)
			return KB_EINPUT;
		if (strcmp(argv[i], "stem") == 0)
			opts->stem = on;
		else if (strcmp(argv[i], "stop") == 0)
			opts->stopwords = on;
		else
			return KB_EINPUT;
	}
	return i == argc ? 0 : KB_EINPUT;
}

static int fts_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
	kb_tokenizer_options opt;
	kb_tokenizer *tk;

	*out = NULL;
	if (kb_tokenizer_options_parse(&opt, argv, argc))
		return SQLITE_ERROR;
	if (kb_tokenizer_new(&tk, &opt) < 0)
		return SQLITE_NOMEM;
	tk->tapes = ctx;
	*out = (Fts5Tokenizer *)tk;
	return SQLITE_OK;
}

static void fts_delete(Fts5Tokenizer *t)
{
	kb_tokenizer_free((kb_tokenizer *)t);
}

/* ---- tapes: a token is flags, then length, start and end as varints,
 * then the token's bytes. */

static void put_varint(kb_buf *b, unsigned v)
{
	unsigned char x[5];
	int n = 0;

	do {
		x[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	kb_buf_put(b, x, (size_t)n);
}

static const unsigned char *get_varint(const unsigned char *p, const unsigned char *end,
				       int *out)
{
	unsigned v = 0;
	int shift = 0;

	while (p < end && shift < 35) {
		v |= (unsigned)(*p & 0x7f) << shift;
		shift += 7;
		if (!(*p++ & 0x80)) {
			*out = (int)v;
			return v <= 0x7fffffff ? p : NULL;
		}
	}
	return NULL;
}

static int record_token(void *payload, int flags, const char *tok, int len, int start, int end)
{
	kb_buf *b = payload;

	kb_buf_putc(b, (char)(flags & KB_TOKEN_COLOCATED));
	put_varint(b, (unsigned)len);
	put_varint(b, (unsigned)start);
	put_varint(b, (unsigned)end);
	kb_buf_put(b, tok, (size_t)len);
	return 0;
}

int kb_tokenizer_record(kb_tokenizer *tk, const char *text, int len, kb_buf *tape)
{
	return kb_tokenizer_run(tk, KB_TOKENIZE_DOCUMENT, text, len, record_token, tape);
}

int kb_tokenizer_replay(const kb_buf *tape, kb_token_cb cb, void *payload)
{
	const unsigned char *p = (const unsigned char *)tape->ptr, *end = p + tape->len;
	int flags, len, start, stop, rc;

	while (p < end) {
		flags = *p++;
		if (!(p = get_varint(p, end, &len)) || !(p = get_varint(p, end, &start)) ||
		    !(p = get_varint(p, end, &stop)) || (size_t)(end - p) < (size_t)len)
			return kb_error_set(KB_ERROR, NULL, 0, "corrupt token tape");
		if ((rc = cb(payload, flags, (const char *)p, len, start, stop)) != 0)
			return rc;
		p += len;
	}
	return 0;
}

/* The tape recorded for exactly this text, or NULL. */
static const kb_buf *find_tape(kb_token_tapes *t, const char *text, int len)
{
	size_t i, k;

	for (k = 0; k < t->n; k++) {
		i = (t->next + k) % t->n;
		if (t->v[i].len == len && (len == 0 || !memcmp(t->v[i].text, text, (size_t)len))) {
			t->next = i + 1;
			return &t->v[i].tape;
		}
	}
	return NULL;
}

static int fts_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int len,
			int (*token)(void *, int, const char *, int, int, int))
{
	kb_tokenizer *tk = (kb_tokenizer *)t;
	int mode = (flags & FTS5_TOKENIZE_QUERY) ? KB_TOKENIZE_QUERY : KB_TOKENIZE_DOCUMENT;
	const kb_buf *tape;

	if (mode == KB_TOKENIZE_DOCUMENT && tk->tapes && tk->tapes->n &&
	    (tape = find_tape(tk->tapes, text, len)) != NULL)
		return kb_tokenizer_replay(tape, token, ctx) < 0 ? SQLITE_ERROR : SQLITE_OK;
	return kb_tokenizer_run(tk, mode, text, len, token, ctx);
}

static fts5_api *fts5_api_get(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	fts5_api *api = NULL;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return api;
}

int kb_tokenizer_register_tapes(sqlite3 *db, kb_token_tapes *tapes)
{
	fts5_tokenizer t = { fts_create, fts_delete, fts_tokenize };
	fts5_api *api = fts5_api_get(db);

	if (!api || api->iVersion < 2)
		return kb_error_set(KB_ERROR, NULL, 0, "sqlite has no 'fts5' module");
	if (api->xCreateTokenizer(api, "kb", tapes, &t, NULL) != SQLITE_OK)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot register tokenizer 'kb': %s",
				    sqlite3_errmsg(db));
	return 0;
}

int kb_tokenizer_register(sqlite3 *db)
{
	return kb_tokenizer_register_tapes(db, NULL);
}
