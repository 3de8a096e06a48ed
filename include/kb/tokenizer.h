/*
 * kb/tokenizer.h - kb's text tokenizer, used for indexing and for queries,
 * and registered with SQLite FTS5 under the name "kb".
 *
 * Rules (see docs/internals/tokenizer.md):
 *  - NFKC, width and case folding and diacritic removal through utf8proc
 *    ("Ｅ０４" = "e04", "Café" = "cafe");
 *  - CJK runs (Han, kana, hangul) become overlapping bigrams plus unigrams
 *    at the same positions (unigrams colocated with the bigram starting
 *    there), so 2-character words such as 跳闸 match;
 *  - Latin words lower-cased, optionally stemmed with Snowball English,
 *    stop words dropped (in documents and queries alike);
 *  - codes such as "30XA-0502", "F-12", "E04" are kept whole and also split
 *    into their parts ("30xa-0502" plus colocated "30xa", "0502").
 *
 * The FTS5 tokenizer accepts arguments: "stem 0|1" and "stop 0|1".
 */
#ifndef KB_TOKENIZER_H
#define KB_TOKENIZER_H

#include <stddef.h>
#include <sqlite3.h>

#define KB_TOKEN_COLOCATED 0x0001  /* same position as the previous token */

typedef struct {
	unsigned version;
	int stem;        /* stem English words (default 1) */
	int stopwords;   /* drop stop words (default 1) */
} kb_tokenizer_options;

#define KB_TOKENIZER_OPTIONS_VERSION 1
#define KB_TOKENIZER_OPTIONS_INIT { KB_TOKENIZER_OPTIONS_VERSION, 1, 1 }

/* Called once per token: `tok` is `len` bytes of normalised UTF-8 (not
 * NUL-terminated); start/end are byte offsets into the input.  A non-zero
 * return stops tokenizing and is returned by kb_tokenize(). */
typedef int (*kb_token_cb)(void *payload, int flags, const char *tok, int len,
			   int start, int end);

/* Tokenize `len` bytes of `text` (invalid UTF-8 is skipped byte by byte,
 * never read past `len`).  `opts` may be NULL for the defaults. */
int kb_tokenize(const kb_tokenizer_options *opts, const char *text, int len,
		kb_token_cb cb, void *payload);

/* Normalise a string the way the tokenizer does (NFKC, case fold, strip
 * diacritics), appending to a malloc'd string the caller frees; NULL on
 * invalid UTF-8. */
char *kb_text_normalize(const char *text, size_t len);

/* Register the "kb" tokenizer with FTS5 on `db`.  KB_ERROR if FTS5 is not
 * available. */
int kb_tokenizer_register(sqlite3 *db);

#endif
