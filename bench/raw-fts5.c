/*
 * raw-fts5.c - the SQLite baseline for the benchmark: the same case files'
 * title and body inserted into a plain FTS5 table in one transaction (with
 * unicode61, and with kb's tokenizer to separate tokenizer cost from kb's
 * own work), and the latency of the same search queries on those tables.
 * Prints "key value" lines.  usage: raw-fts5 KB-DIR QUERIES-DIR TMP-DIR
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/query.h"
#include "kb/tokenizer.h"
#include "proc.h"

typedef struct {
	char **title, **body;
	size_t n;
} docs;

/* Split a case file into title (from the front matter) and the body after it. */
static void add_doc(docs *d, const char *text)
{
	const char *end = strncmp(text, "---\n", 4) ? NULL : strstr(text + 3, "\n---\n");
	const char *t = strstr(text, "\ntitle:");
	size_t tl = 0;

	if (t && (!end || t < end)) {
		t += 7;
		while (*t == ' ')
			t++;
		tl = strcspn(t, "\n");
	}
	d->title = kb_xrealloc(d->title, (d->n + 1) * sizeof(char *));
	d->body = kb_xrealloc(d->body, (d->n + 1) * sizeof(char *));
	d->title[d->n] = kb_xstrndup(t ? t : "", tl);
	d->body[d->n++] = kb_xstrdup(end ? end + 5 : text);
}

static int load_docs(docs *d, const char *kbdir)
{
	kb_buf path = KB_BUF_INIT;
	char **names, *text;
	size_t n = 0, i;

	kb_buf_printf(&path, "%s/cases", kbdir);
	names = bench_list_md(path.ptr, &n);    /* flat or cases/PREFIX/NNN/ */
	if (!n)
		return -1;
	for (i = 0; i < n; i++) {
		kb_buf_clear(&path);
		kb_buf_printf(&path, "%s/cases/%s", kbdir, names[i]);
		if ((text = bench_read_file(path.ptr, NULL))) {
			add_doc(d, text);
			free(text);
		}
		free(names[i]);
	}
	free(names);
	kb_buf_release(&path);
	return 0;
}

static void check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "raw-fts5: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

/* A fresh database with table t using `tokenize`; returns insert seconds. */
static double insert_all(sqlite3 **out, const char *path, const char *tokenize, const docs *d)
{
	kb_buf sql = KB_BUF_INIT;
	sqlite3_stmt *st;
	sqlite3 *db;
	double t0;
	size_t i;

	remove(path);
	check(NULL, sqlite3_open(path, &db) == SQLITE_OK ? 0 : 1, "open");
	kb_tokenizer_register(db);
	check(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", 0, 0, 0), "pragma");
	kb_buf_printf(&sql, "CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, body, tokenize='%s')",
		      tokenize);
	check(db, sqlite3_exec(db, sql.ptr, 0, 0, 0), "create");
	check(db, sqlite3_prepare_v2(db, "INSERT INTO t(id, title, body) VALUES (?1, ?2, ?3)", -1, &st, 0),
	      "prepare");
	t0 = bench_now();
	check(db, sqlite3_exec(db, "BEGIN", 0, 0, 0), "begin");
	for (i = 0; i < d->n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
		sqlite3_bind_text(st, 2, d->title[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, d->body[i], -1, SQLITE_STATIC);
		check(db, sqlite3_step(st), "insert");
		sqlite3_reset(st);
	}
	check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), "commit");
	t0 = bench_now() - t0;
	sqlite3_finalize(st);
	kb_buf_release(&sql);
	*out = db;
	return t0;
}

/* unicode61: each word quoted, implicitly ANDed, as a user would type it. */
static void match_words(kb_buf *out, const char *q)
{
	size_t n;

	while (*q) {
		n = strcspn(q, " ");
		if (n) {
			if (out->len)
				kb_buf_putc(out, ' ');
			kb_query_quote(out, q, n);
		}
		q += n + (q[n] == ' ');
	}
}

/* Latency of the queries (one untimed warm-up pass), p50 and p99 in ms. */
static void query_latency(sqlite3 *db, char **qs, size_t nq, int kbsyntax, const char *key)
{
	double *lat = kb_xcalloc(nq + 1, sizeof(double)), *cpu = kb_xcalloc(nq + 1, sizeof(double));
	double t0, c0;
	kb_buf m = KB_BUF_INIT;
	sqlite3_stmt *st;
	size_t i, pass, rows = 0;

	check(db, sqlite3_prepare_v2(db, "SELECT id, title FROM t WHERE t MATCH ?1 ORDER BY rank LIMIT 10",
				     -1, &st, 0), "prepare query");
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < nq; i++) {
			t0 = bench_now();
			c0 = bench_cpu();
			kb_buf_clear(&m);
			if (kbsyntax)
				kb_query_compile(&m, qs[i], NULL);
			else
				match_words(&m, qs[i]);
			sqlite3_bind_text(st, 1, m.ptr, -1, SQLITE_STATIC);
			while (m.len && sqlite3_step(st) == SQLITE_ROW)
				rows += pass;
			sqlite3_reset(st);
			lat[i] = (bench_now() - t0) * 1000;
			cpu[i] = (bench_cpu() - c0) * 1000;
		}
	printf("%s_hits_per_query %.1f\n", key, (double)rows / (double)(nq ? nq : 1));
	printf("%s_p50_ms %.3f\n", key, bench_percentile(lat, nq, 50));
	printf("%s_p99_ms %.3f\n", key, bench_percentile(lat, nq, 99));
	printf("%s_cpu_p50_ms %.3f\n", key, bench_percentile(cpu, nq, 50));
	printf("%s_cpu_p99_ms %.3f\n", key, bench_percentile(cpu, nq, 99));
	free(cpu);
	sqlite3_finalize(st);
	kb_buf_release(&m);
	free(lat);
}

static long long db_size(const char *path)
{
	kb_buf wal = KB_BUF_INIT;
	long long n;

	kb_buf_printf(&wal, "%s-wal", path);
	n = bench_file_size(path) + bench_file_size(wal.ptr);
	kb_buf_release(&wal);
	return n;
}

/*
 * Insert timing, the median of 3 runs up to 20,000 cases (1 above, where a
 * run takes long enough to be stable); prints time and size; returns the
 * database of the last run, open.
 */
static sqlite3 *measure_insert(const char *path, const char *tokenize, const char *key, const docs *d)
{
	double t[3], cpu[3], c0;
	int i, reps = d->n <= 20000 ? 3 : 1;
	sqlite3 *db = NULL;

	for (i = 0; i < reps; i++) {
		if (db)
			sqlite3_close(db);
		c0 = bench_cpu();
		t[i] = insert_all(&db, path, tokenize, d);
		cpu[i] = bench_cpu() - c0;
	}
	printf("raw_insert_%s_s %.3f\n", key, bench_percentile(t, (size_t)reps, 50));
	printf("raw_insert_%s_cpu_s %.3f\n", key, bench_percentile(cpu, (size_t)reps, 50));
	printf("raw_size_%s_bytes %lld\n", key, db_size(path));
	return db;
}

int main(int argc, char **argv)
{
	docs d = { NULL, NULL, 0 };
	kb_buf path = KB_BUF_INIT, qpath = KB_BUF_INIT;
	char **qs;
	size_t nq, i;
	sqlite3 *db;
	double t;

	if (argc != 4) {
		fprintf(stderr, "usage: raw-fts5 KB-DIR QUERIES-DIR TMP-DIR\n");
		return 2;
	}
	t = bench_now();
	if (load_docs(&d, argv[1]) || !d.n)
		return fprintf(stderr, "raw-fts5: no cases under '%s'\n", argv[1]), 1;
	printf("raw_files %zu\nraw_read_s %.2f\n", d.n, bench_now() - t);
	kb_buf_printf(&qpath, "%s/search.txt", argv[2]);
	qs = bench_read_lines(qpath.ptr, &nq);

	kb_buf_printf(&path, "%s/raw-unicode61.sqlite", argv[3]);
	db = measure_insert(path.ptr, "unicode61", "unicode61", &d);
	query_latency(db, qs, nq, 0, "raw_query_unicode61");
	sqlite3_close(db);
	remove(path.ptr);

	kb_buf_clear(&path);
	kb_buf_printf(&path, "%s/raw-kbtok.sqlite", argv[3]);
	db = measure_insert(path.ptr, "kb", "kbtok", &d);
	query_latency(db, qs, nq, 1, "raw_query_kbtok");
	sqlite3_close(db);
	remove(path.ptr);

	for (i = 0; i < d.n; i++) {
		free(d.title[i]);
		free(d.body[i]);
	}
	free(d.title);
	free(d.body);
	bench_free_lines(qs, nq);
	kb_buf_release(&path);
	kb_buf_release(&qpath);
	return 0;
}
