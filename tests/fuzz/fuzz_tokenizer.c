/*
 * fuzz_tokenizer.c - fuzz target for kb's FTS5 tokenizer.
 *
 * Properties, in document and query mode: every token is non-empty valid
 * UTF-8, its byte offsets lie inside the input with start < end, the first
 * token is never marked colocated, and the tokenizer never reads past
 * `len` (ASan).  Normalised text is valid UTF-8.  The fast paths give the
 * same tokens, flags and offsets as the reference path
 * (kb_tokenizer_run_reference(), compared through a hash of the stream).
 */
#include <stdlib.h>
#include <string.h>

#include "kb/case.h"
#include "kb/tokenizer.h"
#include "fuzz.h"
#include "tokenizer_priv.h"

struct seen {
	int len;
	int ntokens;
	unsigned long long hash;     /* FNV-1a over flags, offsets and bytes */
};

static void mix(struct seen *s, unsigned v)
{
	s->hash = (s->hash ^ v) * 1099511628211ull;
}

static int on_token(void *payload, int flags, const char *tok, int len, int start, int end)
{
	struct seen *s = payload;
	FUZZ_CHECK(tok != NULL && len > 0);
	FUZZ_CHECK(start >= 0 && start < end && end <= s->len);
	FUZZ_CHECK(kb_utf8_check(tok, (size_t)len, NULL) == 0);
	if (s->ntokens == 0)
		FUZZ_CHECK((flags & KB_TOKEN_COLOCATED) == 0);
	s->ntokens++;
	mix(s, (unsigned)flags);
	mix(s, (unsigned)start);
	mix(s, (unsigned)end);
	mix(s, (unsigned)len);
	for (int i = 0; i < len; i++)
		mix(s, (unsigned char)tok[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	static kb_tokenizer *tk;
	if (!tk)
		FUZZ_CHECK(kb_tokenizer_new(&tk, NULL) == 0);
	for (int mode = KB_TOKENIZE_DOCUMENT; mode <= KB_TOKENIZE_QUERY; mode++) {
		struct seen s = { (int)size, 0, 14695981039346656037ull };
		struct seen r = s;
		FUZZ_CHECK(kb_tokenizer_run(tk, mode, (const char *)data, (int)size, on_token, &s) == 0);
		FUZZ_CHECK(kb_tokenizer_run_reference(tk, mode, (const char *)data, (int)size,
						      on_token, &r) == 0);
		FUZZ_CHECK(s.ntokens == r.ntokens && s.hash == r.hash);
	}
	char *norm = kb_text_normalize((const char *)data, size);
	if (norm)
		FUZZ_CHECK(kb_utf8_check(norm, strlen(norm), NULL) == 0);
	free(norm);
	return 0;
}
