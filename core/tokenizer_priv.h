/*
 * tokenizer_priv.h - tokenizer internals shared with the query compiler
 * (not part of the public API).
 */
#ifndef KB_TOKENIZER_PRIV_H
#define KB_TOKENIZER_PRIV_H

#include <stdint.h>

/* Is the (normalised) codepoint Han, kana or hangul, tokenized as CJK? */
int kb_tokenizer_cjk(int32_t c);

#endif
