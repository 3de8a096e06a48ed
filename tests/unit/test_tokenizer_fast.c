/*
 * test_tokenizer_fast.c - the tokenizer's fast paths (ASCII runs, inline
 * UTF-8 decoding and encoding, stem cache) against the reference path
 * kb_tokenizer_run_reference(): the same tokens, flags, offsets and return
 * code for the sample cases, the fuzz corpus and fixed-seed random text.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/files.h"
#include "kb/tokenizer.h"
#include "tokenizer_priv.h"
#include "testutil.h"

/* Every token as "flags start end len:bytes\n"; stop after `limit` tokens
 * (returning 7) when limit > 0. */
typedef struct {
	kb_buf out;
	int count, limit;
} trace;

static int trace_cb(void *p, int flags, const char *tok, int len, int start, int end)
{
	trace *t = p;
	char head[64];
	int n;

	n = snprintf(head, sizeof(head), "%d %d %d %d:", flags, start, end, len);
	kb_buf_put(&t->out, head, (size_t)n);
	kb_buf_put(&t->out, tok, (size_t)len);
	kb_buf_putc(&t->out, '\n');
	return ++t->count == t->limit ? 7 : 0;
}

typedef struct {
	kb_tokenizer *tk[4];     /* default, no stemming, no stop words, neither */
	long texts, tokens;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	int i;

	for (i = 0; i < 4; i++) {
		kb_tokenizer_options o = KB_TOKENIZER_OPTIONS_INIT;

		o.stem = !(i & 1);
		o.stopwords = !(i & 2);
		if (kb_tokenizer_new(&f->tk[i], &o) != 0)
			return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	int i;

	for (i = 0; i < 4; i++)
		kb_tokenizer_free(f->tk[i]);
	free(f);
	return 0;
}

/* Compare both paths on one text, every option set and mode, in full and
 * stopped by the callback after a few tokens. */
static void same_tokens(fixture *f, const char *what, const char *text, int len)
{
	int i, mode, limit, rc_fast, rc_ref;

	for (i = 0; i < 4; i++) {
		for (mode = 0; mode < 2; mode++) {
			for (limit = 0; limit <= 3; limit += 3) {
				trace a = { KB_BUF_INIT, 0, limit };
				trace b = { KB_BUF_INIT, 0, limit };

				rc_fast = kb_tokenizer_run(f->tk[i], mode, text, len, trace_cb, &a);
				rc_ref = kb_tokenizer_run_reference(f->tk[i], mode, text, len,
								    trace_cb, &b);
				if (rc_fast != rc_ref || a.out.len != b.out.len ||
				    memcmp(a.out.ptr, b.out.ptr, a.out.len) != 0)
					fail_msg("'%s' (options %d, mode %d, limit %d): fast path "
						 "differs from the reference", what, i, mode, limit);
				f->tokens += a.count;
				kb_buf_release(&a.out);
				kb_buf_release(&b.out);
			}
		}
	}
	f->texts++;
}

typedef struct {
	fixture *f;
	int n;
} tokens_walk;

/* kb_files_walk() callback: compare the tokens of one file. */
static int same_tokens_file(const char *path, void *payload)
{
	tokens_walk *w = payload;
	size_t len;
	char *text = tu_read_file(path, &len);

	same_tokens(w->f, path, text, (int)len);
	free(text);
	w->n++;
	return 0;
}

/* Every regular file below a source directory (folders too); returns how many. */
static int same_tokens_dir(fixture *f, const char *rel)
{
	static const char *const any[] = { "", NULL };
	tokens_walk w = { f, 0 };

	assert_int_equal(kb_files_walk(tu_srcpath(rel), any, same_tokens_file, &w), 0);
	return w.n;
}

static void test_sample_cases(void **state)
{
	fixture *f = *state;

	assert_true(same_tokens_dir(f, "kb/cases") >= 10);
	assert_true(f->tokens > 10000);
}

static void test_fuzz_corpus(void **state)
{
	assert_true(same_tokens_dir(*state, "tests/fuzz/corpus/tokenizer") >= 1);
}

/* Edge cases of the fast paths: sequences cut at the end of the text,
 * overlong and surrogate encodings, noncharacters, 4-byte characters,
 * words at the length limit, separators around CJK runs. */
static void test_edges(void **state)
{
	static const char *const texts[] = {
		"\xe4\xb8", "\xe4", "\xc3", "a\xc3", "\xe4\xb8\xad\xe6\x96",
		"\xc0\xaf \xc1\xbf \xe0\x80\xaf \xe0\x9f\xbf \xed\xa0\x80 \xed\x9f\xbf",
		"\xef\xbf\xbf \xef\xbf\xbe \xef\xb7\x90 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xf4\x90\x80\x80",
		"\xf0\xa0\x80\x80\xf0\xa0\x80\x81 \xe3\x80\x85\xe3\x80\x86",
		"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xc2\xa0x\xc2\xa0",
		"\xef\xbc\xa5\xef\xbc\x90\xef\xbc\x94 Caf\xc3\xa9 na\xc3\xafve \xef\xac\x81le",
		"\xe8\xb7\xb3\xe9\x97\xb8 \xe8\xb7\xb3\xe9\x97\270abc \xe8\xb7\xb3-\xe9\x97\xb8.",
		"30XA-0502 F-12 E04 a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r don't pump's '' -- ..",
		"   \n\t  leading and trailing   \r\n",
		"\xe3\x82\xac\xe3\x82\x99 \xe3\x83\xbb \xe3\x82\xa0 \xef\xbd\xb6\xef\xbe\x9e",
	};
	char big[600];
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		same_tokens(*state, texts[i], texts[i], (int)strlen(texts[i]));
	memset(big, 'q', sizeof(big));
	memcpy(big + 200, "-x-", 3);
	memcpy(big + 400, "\xc3\xa9", 2);
	same_tokens(*state, "long words", big, (int)sizeof(big));
}

/* A fixed-seed generator of mixed text (splitmix-style, so the sequence
 * is the same on every machine). */
static unsigned long long rng_next(unsigned long long *x)
{
	unsigned long long z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int random_text(unsigned long long *x, char *buf, int cap)
{
	static const char *const pieces[] = {
		"the ", "pump ", "tripped ", "Tripping ", "E04", "30XA-0502", "-", "/", ".",
		"_", "'", "\xe2\x80\x99", " ", "\n", ", ", "no ", "cooling ", "compressors ",
		"\xe8\xb7\xb3", "\xe9\x97\xb8", "\xe5\x8e\x8b", "\xe3\x81\x8c", "\xe3\x83\x9d",
		"\xed\x95\x9c", "\xef\xbc\xa5", "\xef\xbc\x90", "\xef\xbd\xb6\xef\xbe\x9e",
		"Caf\xc3\xa9", "\xc3\x85", "\xc3\x9f", "\xc2\xb2", "\xc2\xbd", "\xcc\x81",
		"\xe2\x84\x83", "\xe2\x91\xa0", "\xf0\xa0\x80\x80", "\xf0\x9f\x98\x80",
		"\xff", "\xc0", "\xe4\xb8", "\x80", "\xed\xa0\x80", "\xf5\x80\x80\x80",
		"ALLCAPSWORD", "x", "7", "\t",
	};
	int n = 0, k = (int)(rng_next(x) % 120);

	while (k-- > 0) {
		unsigned long long r = rng_next(x);
		const char *p;
		int len;

		if (r % 7 == 0) {        /* a random byte, valid or not */
			if (n < cap)
				buf[n++] = (char)(r >> 8);
			continue;
		}
		p = pieces[(r >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
		len = (int)strlen(p);
		if (n + len > cap)
			break;
		memcpy(buf + n, p, (size_t)len);
		n += len;
	}
	return n;
}

static void test_random(void **state)
{
	unsigned long long x = 20261123;
	char buf[2048];
	int i, n;

	for (i = 0; i < 3000; i++) {
		char what[32];

		n = random_text(&x, buf, (int)sizeof(buf));
		snprintf(what, sizeof(what), "random text %d", i);
		same_tokens(*state, what, buf, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_cases),
		cmocka_unit_test(test_fuzz_corpus),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
