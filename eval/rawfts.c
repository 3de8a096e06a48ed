/*
 * rawfts.c - plain FTS5 baseline for kb-eval: title and body in one FTS5
 * table, the query split into words at ASCII punctuation and spaces, each
 * word quoted, ORed, ranked by bm25().  No libkb code is involved except
 * the buffer helpers.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "rawfts.h"

struct rawfts {
	sqlite3 *db;
	sqlite3_stmt *q;
	kb_buf match;
};

static int fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "kb-eval: raw fts5: %s: %s\n", what, sqlite3_errmsg(db));
	return -1;
}

static int fill(rawfts *r, const ev_set *set)
{
	sqlite3_stmt *ins;
	size_t i;

	if (sqlite3_prepare_v2(r->db, "INSERT INTO t(rowid, title, body) VALUES (?1, ?2, ?3)", -1, &ins, 0))
		return fail(r->db, "prepare");
	sqlite3_exec(r->db, "BEGIN", 0, 0, 0);
	for (i = 0; i < set->ndocs; i++) {
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)i);
		sqlite3_bind_text(ins, 2, set->doc_title[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, set->doc_body[i], -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			sqlite3_finalize(ins);
			return fail(r->db, "insert");
		}
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	return sqlite3_exec(r->db, "COMMIT", 0, 0, 0) ? fail(r->db, "commit") : 0;
}

rawfts *rawfts_build(const ev_set *set, const char *path, const char *tokenize)
{
	rawfts *r = kb_xcalloc(1, sizeof(*r));
	kb_buf sql = KB_BUF_INIT;
	int rc;

	kb_buf_init(&r->match);
	remove(path);
	kb_buf_printf(&sql, "CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='%s')", tokenize);
	rc = sqlite3_open(path, &r->db) || sqlite3_exec(r->db, sql.ptr, 0, 0, 0) ? fail(r->db, "create")
										: fill(r, set);
	if (!rc && sqlite3_prepare_v2(r->db, "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rank LIMIT ?2",
				      -1, &r->q, 0))
		rc = fail(r->db, "prepare query");
	kb_buf_release(&sql);
	if (rc) {
		rawfts_free(r);
		return NULL;
	}
	return r;
}

static int word_byte(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* "w1" OR "w2" ... for the words of text. */
static void or_query(kb_buf *out, const char *text)
{
	const char *s = text, *w;

	kb_buf_clear(out);
	while (*s) {
		while (*s && !word_byte((unsigned char)*s))
			s++;
		for (w = s; *s && word_byte((unsigned char)*s); s++)
			;
		if (s == w)
			continue;
		if (out->len)
			kb_buf_puts(out, " OR ");
		kb_buf_putc(out, '"');
		kb_buf_put(out, w, (size_t)(s - w));
		kb_buf_putc(out, '"');
	}
}

size_t rawfts_query(rawfts *r, const char *text, size_t limit, size_t *ranked)
{
	size_t n = 0;

	or_query(&r->match, text);
	if (!r->match.len)
		return 0;
	sqlite3_bind_text(r->q, 1, r->match.ptr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->q, 2, (sqlite3_int64)limit);
	while (n < limit && sqlite3_step(r->q) == SQLITE_ROW)
		ranked[n++] = (size_t)sqlite3_column_int64(r->q, 0);
	sqlite3_reset(r->q);
	return n;
}

void rawfts_free(rawfts *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->q);
	sqlite3_close(r->db);
	kb_buf_release(&r->match);
	free(r);
}
