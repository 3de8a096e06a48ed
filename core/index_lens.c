/*
 * index_lens.c - the column sizes of every indexed case, packed for ranking
 * (the `lens` table, docs/internals/index.md "Column sizes").  bm25() and
 * kb_rank() need the size of the current row's columns; FTS5 answers that
 * with one `_docsize` lookup (a statement step and a b-tree seek) per
 * matching row, three quarters of a query that matches 40,000 cases.  Here
 * the sizes of 256 consecutive rowids share one blob, so a query reads one
 * row of `lens` per 256 rowids.  index.c writes it in the same transaction
 * as the FTS5 table; search.c reads it.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "index_internal.h"

/* Bytes of one row's entry: a little-endian uint16 per column. */
#define ENTRY_BYTES (2 * KB_COL__COUNT)
#define CHUNK_BYTES (KB_LENS_ROWS * ENTRY_BYTES)
/* An entry value meaning "too big to store: ask FTS5". */
#define TOO_BIG 0xffff

struct kb_lens_chunk {
	sqlite3_int64 no;             /* rowid / KB_LENS_ROWS */
	unsigned char data[CHUNK_BYTES];
};

struct kb_lens_reader {
	kb_index *idx;
	sqlite3_stmt *st;             /* SELECT data FROM lens WHERE chunk = ?1 */
	sqlite3_int64 chunk;          /* chunk `data` belongs to; -1 none */
	const unsigned char *data;    /* its blob, NULL when absent */
	int len;
};

/* ---- entries ----------------------------------------------------------- */

static void put_entry(unsigned char *e, const int *sz)
{
	int c;

	for (c = 0; c < KB_COL__COUNT; c++) {
		unsigned v = sz && sz[c] >= 0 && sz[c] < TOO_BIG ? (unsigned)sz[c] : sz ? TOO_BIG : 0;
		e[2 * c] = (unsigned char)(v & 0xff);
		e[2 * c + 1] = (unsigned char)(v >> 8);
	}
}

/* 0 and the sizes when the entry is usable; 1 when it is empty (never
 * written, or a case whose columns are all empty) or holds a size too big
 * to store. */
static int get_entry(const unsigned char *e, int *sz)
{
	unsigned any = 0, v;
	int c;

	for (c = 0; c < KB_COL__COUNT; c++) {
		v = (unsigned)e[2 * c] | (unsigned)e[2 * c + 1] << 8;
		if (v == TOO_BIG)
			return 1;
		sz[c] = (int)v;
		any |= v;
	}
	return any ? 0 : 1;
}

/* SQLite's varint (the `_docsize` blob is one per column); bytes used, 0
 * when the blob ends inside it. */
static int get_varint(const unsigned char *p, int n, sqlite3_uint64 *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n && i < 9; i++) {
		if (i == 8) {
			*v = (*v << 8) | p[i];
			return 9;
		}
		*v = (*v << 7) | (p[i] & 0x7f);
		if (!(p[i] & 0x80))
			return i + 1;
	}
	return 0;
}

/* The sizes FTS5 recorded for `rowid`; 1 when it has none or the blob is
 * not one varint per column. */
static int read_docsize(kb_index *idx, sqlite3_int64 rowid, int *sz)
{
	const unsigned char *p;
	sqlite3_uint64 v;
	sqlite3_stmt *st;
	int rc, n, c, k;

	if ((rc = kb_index__stmt(idx, ST_DOCSIZE, "SELECT sz FROM fts_docsize WHERE id = ?1", &st)))
		return rc;
	sqlite3_bind_int64(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 1 : kb_index__sqlerr(idx, "cannot read the index");
	}
	p = sqlite3_column_blob(st, 0);
	n = sqlite3_column_bytes(st, 0);
	for (c = 0; c < KB_COL__COUNT && n > 0; c++) {
		if (!(k = get_varint(p, n, &v)))
			break;
		sz[c] = v < TOO_BIG ? (int)v : TOO_BIG;
		p += k;
		n -= k;
	}
	sqlite3_reset(st);
	return c == KB_COL__COUNT && n == 0 ? 0 : 1;
}

/* ---- writing ----------------------------------------------------------- */

/* Index in idx->lens_dirty of chunk `no`, or where it would go. */
static size_t dirty_pos(const kb_index *idx, sqlite3_int64 no)
{
	size_t lo = 0, hi = idx->lens_ndirty;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (idx->lens_dirty[mid]->no < no)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct kb_lens_chunk *dirty_find(const kb_index *idx, sqlite3_int64 no)
{
	size_t i = dirty_pos(idx, no);

	return i < idx->lens_ndirty && idx->lens_dirty[i]->no == no ? idx->lens_dirty[i] : NULL;
}

/* The chunk `no` for writing: the dirty copy, else read from lens (or
 * empty) and made dirty. */
static int dirty_get(kb_index *idx, sqlite3_int64 no, struct kb_lens_chunk **out)
{
	size_t i = dirty_pos(idx, no);
	struct kb_lens_chunk *ch;
	sqlite3_stmt *st;
	int rc;

	if (i < idx->lens_ndirty && idx->lens_dirty[i]->no == no) {
		*out = idx->lens_dirty[i];
		return 0;
	}
	if ((rc = kb_index__stmt(idx, ST_LENS_READ, "SELECT data FROM lens WHERE chunk = ?1", &st)))
		return rc;
	ch = kb_xcalloc(1, sizeof(*ch));
	ch->no = no;
	sqlite3_bind_int64(st, 1, no);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == CHUNK_BYTES)
		memcpy(ch->data, sqlite3_column_blob(st, 0), CHUNK_BYTES);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(ch);
		return kb_index__sqlerr(idx, "cannot read the index");
	}
	if (idx->lens_ndirty == idx->lens_alloc) {
		idx->lens_alloc = idx->lens_alloc ? 2 * idx->lens_alloc : 16;
		idx->lens_dirty = kb_xrealloc(idx->lens_dirty,
					      idx->lens_alloc * sizeof(*idx->lens_dirty));
	}
	memmove(idx->lens_dirty + i + 1, idx->lens_dirty + i,
		(idx->lens_ndirty - i) * sizeof(*idx->lens_dirty));
	idx->lens_dirty[i] = ch;
	idx->lens_ndirty++;
	*out = ch;
	return 0;
}

int kb_index__lens_update(kb_index *idx, sqlite3_int64 rowid, int present)
{
	struct kb_lens_chunk *ch = NULL;
	int sz[KB_COL__COUNT], rc, known = 0;

	if (rowid <= 0)
		return 0;
	if (present && (known = read_docsize(idx, rowid, sz)) < 0)
		return known;
	if ((rc = dirty_get(idx, rowid / KB_LENS_ROWS, &ch)))
		return rc;
	put_entry(ch->data + (rowid % KB_LENS_ROWS) * ENTRY_BYTES, present && known == 0 ? sz : NULL);
	return 0;
}

static int all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int kb_index__lens_flush(kb_index *idx)
{
	sqlite3_stmt *put, *del;
	size_t i;
	int rc = 0;

	if (!idx->lens_ndirty)
		return 0;
	if ((rc = kb_index__stmt(idx, ST_LENS_PUT, "INSERT OR REPLACE INTO lens VALUES (?1, ?2)",
				 &put)) ||
	    (rc = kb_index__stmt(idx, ST_LENS_DEL, "DELETE FROM lens WHERE chunk = ?1", &del)))
		return rc;
	for (i = 0; i < idx->lens_ndirty && rc == 0; i++) {
		struct kb_lens_chunk *ch = idx->lens_dirty[i];
		sqlite3_stmt *st = all_zero(ch->data, CHUNK_BYTES) ? del : put;
		sqlite3_bind_int64(st, 1, ch->no);
		if (st == put)
			sqlite3_bind_blob(st, 2, ch->data, CHUNK_BYTES, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = kb_index__sqlerr(idx, "cannot write the index");
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	kb_index__lens_discard(idx);
	return rc;
}

void kb_index__lens_discard(kb_index *idx)
{
	size_t i;

	for (i = 0; i < idx->lens_ndirty; i++)
		free(idx->lens_dirty[i]);
	free(idx->lens_dirty);
	idx->lens_dirty = NULL;
	idx->lens_ndirty = idx->lens_alloc = 0;
}

/* ---- reading ----------------------------------------------------------- */

kb_lens_reader *kb_index__lens_reader(kb_index *idx)
{
	kb_lens_reader *r;
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(idx->db, "SELECT data FROM lens WHERE chunk = ?1", -1, &st, NULL)) {
		sqlite3_finalize(st);
		return NULL;
	}
	r = kb_xcalloc(1, sizeof(*r));
	r->idx = idx;
	r->st = st;
	r->chunk = -1;
	return r;
}

void kb_index__lens_reader_free(kb_lens_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->st);
	free(r);
}

/* Make chunk `no` current: this connection's unwritten copy, else the
 * stored one (the statement stays on its row, so no copy is made). */
static void reader_seek(kb_lens_reader *r, sqlite3_int64 no)
{
	struct kb_lens_chunk *ch = dirty_find(r->idx, no);

	r->chunk = no;
	r->data = NULL;
	r->len = 0;
	sqlite3_reset(r->st);
	if (ch) {
		r->data = ch->data;
		r->len = CHUNK_BYTES;
		return;
	}
	sqlite3_bind_int64(r->st, 1, no);
	if (sqlite3_step(r->st) == SQLITE_ROW) {
		r->data = sqlite3_column_blob(r->st, 0);
		r->len = sqlite3_column_bytes(r->st, 0);
	}
}

int kb_index__lens_get(kb_lens_reader *r, sqlite3_int64 rowid, int *sz)
{
	sqlite3_int64 no = rowid / KB_LENS_ROWS;
	int off = (int)(rowid % KB_LENS_ROWS) * ENTRY_BYTES;

	if (!r || rowid <= 0)
		return 1;
	if (no != r->chunk)
		reader_seek(r, no);
	if (!r->data || r->len != CHUNK_BYTES)
		return 1;
	return get_entry(r->data + off, sz);
}
