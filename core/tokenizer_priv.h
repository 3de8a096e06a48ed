/*
 * tokenizer_priv.h - tokenizer internals shared with the query compiler
 * and the tests
 * (not part of the public API).
 */
#ifndef KB_TOKENIZER_PRIV_H
#define KB_TOKENIZER_PRIV_H

#include <stdint.h>

#include "kb/tokenizer.h"

/* Is the (normalised) codepoint Han, kana or hangul, tokenized as CJK? */
int kb_tokenizer_cjk(int32_t c);

/* kb_tokenizer_run() through the reference path: every character through
 * the generic scanner, utf8proc for all decoding and encoding, no stem
 * cache.  Slow; gives exactly the same tokens, flags and offsets as
 * kb_tokenizer_run() (tests/unit/test_tokenizer_fast.c checks it). */
int kb_tokenizer_run_reference(kb_tokenizer *tk, int mode, const char *text, int len,
			       kb_token_cb cb, void *payload);

#endif
