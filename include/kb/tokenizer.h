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
 *    Precisely: the whole code takes a position, its first part is
 *    colocated with it and later parts take the following positions, so
 *    the parts read as a phrase; queries use the parts only;
 *  - in queries a CJK run of two or more characters gives its bigrams only
 *    (consecutive positions, matching the document's bigrams as a phrase).
 *
 * The FTS5 tokenizer accepts arguments: "stem 0|1" and "stop 0|1".
 */
#ifndef KB_TOKENIZER_H
#define KB_TOKENIZER_H

#include <stddef.h>
#include <sqlite3.h>

#include "kb/buf.h"

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

/* Tokenize a query string: codes give only their parts, a CJK run of two or
 * more characters only its bigrams, and nothing is colocated (the FTS5
 * tokenizer does this for FTS5_TOKENIZE_QUERY).  Same contract as
 * kb_tokenize(). */
int kb_tokenize_query(const kb_tokenizer_options *opts, const char *text, int len,
		      kb_token_cb cb, void *payload);

/* A reusable tokenizer holding its own Snowball stemmer (not thread-safe:
 * use one per thread).  kb_tokenizer_new() returns KB_ERROR when the
 * stemmer cannot be created (*out is then NULL); free with
 * kb_tokenizer_free() (NULL is fine). */
typedef struct kb_tokenizer kb_tokenizer;

#define KB_TOKENIZE_DOCUMENT 0   /* text being indexed (and highlight()) */
#define KB_TOKENIZE_QUERY    1   /* text of a MATCH phrase */

int kb_tokenizer_new(kb_tokenizer **out, const kb_tokenizer_options *opts);
void kb_tokenizer_free(kb_tokenizer *tk);
/* Tokenize in KB_TOKENIZE_DOCUMENT or KB_TOKENIZE_QUERY mode; returns 0 or
 * the first non-zero value returned by `cb`. */
int kb_tokenizer_run(kb_tokenizer *tk, int mode, const char *text, int len,
		     kb_token_cb cb, void *payload);

/* Register the "kb" tokenizer with FTS5 on `db`.  KB_ERROR if FTS5 is not
 * available. */
int kb_tokenizer_register(sqlite3 *db);

/* The "stem 0|1" / "stop 0|1" pairs of an FTS5 tokenize= argument list
 * into *opts (defaults first); KB_EINPUT when a pair is malformed. */
int kb_tokenizer_options_parse(kb_tokenizer_options *opts, const char *const *argv, int argc);

/*
 * Recorded tokens ("tapes"), so a text can be tokenized on one thread and
 * indexed by FTS5 on another.  kb_tokenizer_record() appends the tokens of
 * `text` in KB_TOKENIZE_DOCUMENT mode to `tape` (a compact byte string);
 * kb_tokenizer_replay() calls `cb` for them again, as kb_tokenizer_run()
 * would have.  A "kb" tokenizer registered with kb_tokenizer_register_tapes()
 * replays, in document mode, the tape of any text in `tapes` that FTS5 asks
 * it to tokenize (compared by length and bytes, so a stale tape is never
 * used for other text) and tokenizes everything else itself.  `tapes` must
 * outlive the connection; its owner fills and empties it between
 * statements, on the connection's thread.
 */
typedef struct {
	const char *text;  /* the text recorded (not owned) */
	int len;
	kb_buf tape;
} kb_token_tape;

typedef struct {
	const kb_token_tape *v;
	size_t n;
	size_t next;       /* the entry tried first (FTS5 asks in column order) */
} kb_token_tapes;

int kb_tokenizer_record(kb_tokenizer *tk, const char *text, int len, kb_buf *tape);
int kb_tokenizer_replay(const kb_buf *tape, kb_token_cb cb, void *payload);
int kb_tokenizer_register_tapes(sqlite3 *db, kb_token_tapes *tapes);

#endif
