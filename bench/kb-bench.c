/*
 * kb-bench.c - the in-process and whole-process benchmark of libkb and the
 * kb binary on a generated KB: full reindex, peak RSS, index size,
 * incremental sync after 100 changed cases, search and similar latency,
 * `kb search` against `rg -i -l`; then the table comparing them with the
 * raw FTS5 baseline of the same run and with kb's targets (docs/bench.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/index.h"
#include "kb/store.h"
#include "proc.h"

#define MAX_KEYS 128

typedef struct {
	char *key[MAX_KEYS];
	double val[MAX_KEYS];
	int n;
} results;

typedef struct {
	const char *kbdir, *qdir, *kbbin, *raw, *gen;
	double budget;          /* seconds per whole-process series */
} bench_opts;

static results R;

static void put(const char *key, double v)
{
	int i;

	for (i = 0; i < R.n; i++)
		if (!strcmp(R.key[i], key)) {
			R.val[i] = v;
			return;
		}
	if (R.n < MAX_KEYS) {
		R.key[R.n] = kb_xstrdup(key);
		R.val[R.n++] = v;
	}
}

/* A measured value, or -1 when it is missing. */
static double get(const char *key)
{
	int i;

	for (i = 0; i < R.n; i++)
		if (!strcmp(R.key[i], key))
			return R.val[i];
	return -1;
}

/* Merge the "key value" lines of another program's output. */
static void load_results(const char *path)
{
	size_t n, i;
	char **lines = path ? bench_read_lines(path, &n) : NULL, *sp;

	for (i = 0; lines && i < n; i++)
		if ((sp = strchr(lines[i], ' '))) {
			*sp = '\0';
			put(lines[i], strtod(sp + 1, NULL));
		}
	if (lines)
		bench_free_lines(lines, n);
}

static void die_kb(const char *what)
{
	char msg[512];

	fprintf(stderr, "kb-bench: %s: %s\n", what, kb_error_format(kb_error_last(), msg, sizeof(msg)));
	exit(1);
}

/* Run a command (NULL-terminated arguments) in cwd; exit when it fails. */
static void sh(const char *cwd, const char *arg0, ...)
{
	char *argv[16];
	va_list ap;
	int n = 0;

	argv[n++] = (char *)arg0;
	va_start(ap, arg0);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	if (bench_run(cwd, argv, 1) != 0) {
		fprintf(stderr, "kb-bench: '%s %s' failed in %s\n", argv[0], argv[1] ? argv[1] : "", cwd);
		exit(1);
	}
}

static double peak_rss_mb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

/* Back to the generated commit, index cache removed. */
static void reset_kb(const char *kbdir)
{
	sh(kbdir, "git", "reset", "-q", "--hard", "bench-base", NULL);
	sh(kbdir, "rm", "-rf", ".git/kb", NULL);
}

static long long index_bytes(kb_store *s)
{
	kb_buf p = KB_BUF_INIT;
	long long n;

	kb_buf_printf(&p, "%skb/index.sqlite", kb_store_gitdir(s));
	n = bench_file_size(p.ptr);
	kb_buf_puts(&p, "-wal");
	n += bench_file_size(p.ptr);
	kb_buf_release(&p);
	return n;
}

/*
 * Full reindex into a fresh cache: the median of 3 runs up to 20,000 cases
 * (1 above).  Returns the index of the last run, open.
 */
static kb_index *full_reindex(kb_store *s, const char *kbdir, size_t ncases)
{
	int i, reps = ncases <= 20000 ? 3 : 1;
	kb_index *idx = NULL;
	double t[3], cpu[3], t0, c0;

	for (i = 0; i < reps; i++) {
		if (idx) {
			kb_index_close(idx);
			sh(kbdir, "rm", "-rf", ".git/kb", NULL);
		}
		t0 = bench_now();
		c0 = bench_cpu();
		if (kb_index_open_store(&idx, s))
			die_kb("full reindex");
		t[i] = bench_now() - t0;
		cpu[i] = bench_cpu() - c0;
	}
	put("kb_reindex_cpu_s", bench_percentile(cpu, (size_t)reps, 50));
	t0 = bench_percentile(t, (size_t)reps, 50);
	put("kb_reindex_s", t0);
	put("kb_reindex_cases", (double)kb_index_count(idx));
	put("kb_reindex_cases_per_s", (double)kb_index_count(idx) / t0);
	put("kb_reindex_peak_rss_mb", peak_rss_mb());
	put("kb_index_bytes", (double)index_bytes(s));
	return idx;
}

/* p50/p99 of search or similar over the query file (after a warm-up pass). */
static void query_latency(kb_index *idx, const char *qdir, const char *file, int similar,
			  const char *key)
{
	kb_search_options so = KB_SEARCH_OPTIONS_INIT;
	kb_buf path = KB_BUF_INIT, k = KB_BUF_INIT;
	size_t n, i, pass, hits = 0;
	char **qs;
	double *lat, *cpu, t0, c0;

	kb_buf_printf(&path, "%s/%s", qdir, file);
	if (!(qs = bench_read_lines(path.ptr, &n)) || !n) {
		fprintf(stderr, "kb-bench: no queries in %s\n", path.ptr);
		exit(1);
	}
	lat = kb_xcalloc(n, sizeof(*lat));
	cpu = kb_xcalloc(n, sizeof(*cpu));
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			kb_hits h = KB_HITS_INIT;

			t0 = bench_now();
			c0 = bench_cpu();
			if ((similar ? kb_index_similar(idx, qs[i], &so, &h) : kb_index_search(idx, qs[i], &so, &h)))
				die_kb(key);
			lat[i] = (bench_now() - t0) * 1000;
			cpu[i] = (bench_cpu() - c0) * 1000;
			hits += pass ? h.count : 0;
			kb_hits_release(&h);
		}
	kb_buf_printf(&k, "%s_hits_per_query", key);
	put(k.ptr, (double)hits / (double)n);
	kb_buf_clear(&k);
	kb_buf_printf(&k, "%s_p50_ms", key);
	put(k.ptr, bench_percentile(lat, n, 50));
	kb_buf_clear(&k);
	kb_buf_printf(&k, "%s_p99_ms", key);
	put(k.ptr, bench_percentile(lat, n, 99));
	kb_buf_clear(&k);
	kb_buf_printf(&k, "%s_cpu_p50_ms", key);
	put(k.ptr, bench_percentile(cpu, n, 50));
	kb_buf_clear(&k);
	kb_buf_printf(&k, "%s_cpu_p99_ms", key);
	put(k.ptr, bench_percentile(cpu, n, 99));
	bench_free_lines(qs, n);
	free(lat);
	free(cpu);
	kb_buf_release(&path);
	kb_buf_release(&k);
}

/* Relative paths of the case files, sorted. */
static char **case_files(const char *kbdir, size_t *n)
{
	kb_buf p = KB_BUF_INIT;
	char **v;
	size_t i;

	kb_buf_printf(&p, "%s/cases", kbdir);
	v = bench_list_md(p.ptr, n);    /* flat or cases/PREFIX/NNN/, by file name */
	for (i = 0; i < *n; i++) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "cases/%s", v[i]);
		free(v[i]);
		v[i] = kb_buf_detach(&p);
	}
	kb_buf_release(&p);
	return v;
}

/* Append a sentence to 100 case files spread over the KB and commit them. */
static void change_100(const char *kbdir, char **files, size_t n, int round)
{
	kb_buf p = KB_BUF_INIT;
	size_t i, step = n / 100 ? n / 100 : 1;
	FILE *f;

	for (i = 0; i < 100 && i * step + (size_t)round < n; i++) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s/%s", kbdir, files[i * step + (size_t)round]);
		if (!(f = fopen(p.ptr, "a")))
			continue;
		fprintf(f, "\nRechecked on round %d: fan belt tension and 接线端子 torque OK, ref RC-%d-%zu.\n",
			round, round, i);
		fclose(f);
	}
	sh(kbdir, "git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit",
	   "-q", "-a", "-m", "bench: 100 changed cases", NULL);
	kb_buf_release(&p);
}

/*
 * The same case files committed through libkb instead of the git CLI: one
 * kb_txn holding every file, into a fresh KB made by kb_store_init().
 * Only up to 20,000 cases, to keep the run short.
 */
static void txn_commit(const char *kbdir, char **files, size_t n)
{
	kb_buf dir = KB_BUF_INIT, p = KB_BUF_INIT;
	kb_author au = { "bench", "bench@example.com" };
	kb_store *s = NULL;
	kb_txn *t = NULL;
	size_t i, len;
	char *text;
	double t0;

	if (n > 20000)
		return;
	kb_buf_printf(&dir, "%s/../txn-kb", kbdir);
	sh(kbdir, "rm", "-rf", dir.ptr, NULL);
	if (kb_store_init(&s, dir.ptr, &au) || kb_txn_begin(&t, s))
		die_kb("txn kb");
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s/%s", kbdir, files[i]);
		if (!(text = bench_read_file(p.ptr, &len)) || kb_txn_put(t, files[i], text, len))
			die_kb("txn put");
		free(text);
	}
	if (kb_txn_commit(t, &au, "bench: generated cases", NULL))
		die_kb("txn commit");
	put("kb_txn_commit_s", bench_now() - t0);
	kb_txn_free(t);
	kb_store_free(s);
	sh(kbdir, "rm", "-rf", dir.ptr, NULL);
	kb_buf_release(&dir);
	kb_buf_release(&p);
}

/* Three rounds of 100 changed cases, each followed by a timed sync; the median. */
static void incremental(kb_index *idx, kb_store *s, const char *kbdir)
{
	size_t n, r;
	char **files = case_files(kbdir, &n);
	double t[3], cpu[3], t0, c0;

	txn_commit(kbdir, files, n);
	for (r = 0; r < 3; r++) {
		kb_index_stats st;

		change_100(kbdir, files, n, (int)r + 1);
		t0 = bench_now();
		c0 = bench_cpu();
		if (kb_index_sync(idx, s, &st, NULL))
			die_kb("incremental sync");
		t[r] = bench_now() - t0;
		cpu[r] = bench_cpu() - c0;
		put("kb_sync_updated", (double)(st.updated + st.added));
	}
	put("kb_sync_100_s", bench_percentile(t, 3, 50));
	put("kb_sync_100_cpu_s", bench_percentile(cpu, 3, 50));
	/* The fixed part: a sync with nothing to do (status check, bookkeeping). */
	for (r = 0; r < 3; r++) {
		t0 = bench_now();
		if (kb_index_sync(idx, s, NULL, NULL))
			die_kb("no-op sync");
		t[r] = bench_now() - t0;
	}
	put("kb_sync_noop_s", bench_percentile(t, 3, 50));
	bench_free_lines(files, n);
}

/* Whole-process latency of `argv` over the terms (argv[targ] replaced), within a time budget. */
static void process_latency(const char *cwd, char **argv, int targ, char **terms, size_t nterms,
			    double budget, const char *key)
{
	double *lat = kb_xcalloc(200, sizeof(double)), start = bench_now();
	double *cpu = kb_xcalloc(200, sizeof(double)), c0;
	kb_buf k = KB_BUF_INIT;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < 200 && (n < 10 || bench_now() - start < budget); i++) {
		argv[targ] = terms[i % nterms];
		c0 = bench_children_cpu();
		rc = bench_run_timed(cwd, argv, 1, &lat[n]);
		cpu[n] = (bench_children_cpu() - c0) * 1000;
		if (rc < 0 || (rc != 0 && rc != 1)) {
			fprintf(stderr, "kb-bench: '%s' exited with %d; skipped\n", argv[0], rc);
			free(lat);
			free(cpu);
			kb_buf_release(&k);
			return;
		}
		lat[n++] *= 1000;
	}
	kb_buf_printf(&k, "%s_runs", key);
	put(k.ptr, (double)n);
	kb_buf_clear(&k);
	kb_buf_printf(&k, "%s_p50_ms", key);
	put(k.ptr, bench_percentile(lat, n, 50));
	kb_buf_clear(&k);
	kb_buf_printf(&k, "%s_p99_ms", key);
	put(k.ptr, bench_percentile(lat, n, 99));
	kb_buf_clear(&k);
	kb_buf_printf(&k, "%s_cpu_p50_ms", key);
	put(k.ptr, bench_percentile(cpu, n, 50));
	free(lat);
	free(cpu);
	kb_buf_release(&k);
}

/* `kb search TERM` against `rg -i -l TERM cases` for the same terms. */
static void whole_process(const bench_opts *o)
{
	kb_buf p = KB_BUF_INIT;
	char **terms, *kbv[] = { (char *)o->kbbin, "search", NULL, NULL };
	char *rgv[] = { "rg", "-i", "-l", NULL, "cases", NULL };
	size_t n;

	kb_buf_printf(&p, "%s/terms.txt", o->qdir);
	terms = bench_read_lines(p.ptr, &n);
	kb_buf_release(&p);
	if (!terms || !n)
		return;
	kbv[2] = terms[0];
	if (o->kbbin && bench_run(o->kbdir, kbv, 1) == 0)
		process_latency(o->kbdir, kbv, 2, terms, n, o->budget, "proc_kb_search");
	else
		fprintf(stderr, "kb-bench: '%s search' does not run here; whole-process kb skipped\n",
			o->kbbin ? o->kbbin : "kb");
	process_latency(o->kbdir, rgv, 3, terms, n, o->budget, "proc_rg");
	bench_free_lines(terms, n);
}

/* ---- the report ------------------------------------------------------- */

static void cell(char *buf, size_t size, double v, const char *fmt)
{
	if (v < 0)
		snprintf(buf, size, "n/a");
	else
		snprintf(buf, size, fmt, v);
}

/* One row: measure, kb value, baseline text, ratio, target text, verdict. */
static void row(const char *what, double kb, const char *kbfmt, const char *base, double basev,
		const char *basefmt, double ratio, const char *target, int ok)
{
	char k[32], b[64], r[32];

	cell(k, sizeof(k), kb, kbfmt);
	if (base && basev >= 0) {
		char v[32];
		cell(v, sizeof(v), basev, basefmt);
		snprintf(b, sizeof(b), "%s %s", base, v);
	} else {
		snprintf(b, sizeof(b), "%s", base ? base : "");
	}
	cell(r, sizeof(r), ratio, "%.2fx");
	printf("| %-34s | %10s | %-30s | %7s | %-18s | %-4s |\n", what, k, b, ratio == -2 ? "" : r,
	       target, ok < 0 ? "n/a" : ok ? "yes" : "NO");
}

static double ratio(double a, double b)
{
	return a >= 0 && b > 0 ? a / b : -1;
}

static int verdict(double v, int cond)
{
	return v < 0 ? -1 : cond;
}

static void report(const char *title)
{
	double reidx = get("kb_reindex_s"), raw = get("raw_insert_unicode61_s");
	double sp99 = get("kb_search_p99_ms"), rawp99 = get("raw_query_kbtok_p99_ms");
	double pkb = get("proc_kb_search_p50_ms"), prg = get("proc_rg_p50_ms");
	double rr = ratio(reidx, raw), sr = ratio(sp99, rawp99), pr = ratio(prg, pkb);

	printf("\n### %s\n\n", title);
	printf("| %-34s | %10s | %-30s | %7s | %-18s | %-4s |\n", "measure", "kb", "baseline (same run)",
	       "ratio", "target", "met");
	printf("|%s|-----------:|%s|--------:|%s|------|\n", "------------------------------------",
	       "--------------------------------", "--------------------");
	row("full reindex (s)", reidx, "%.2f", "raw FTS5 unicode61 insert", raw, "%.2f", rr, "<= 2.5x raw", verdict(rr, rr <= 2.5));
	row("  (raw FTS5, kb tokenizer, s)", get("raw_insert_kbtok_s"), "%.2f", "", -1, "", ratio(reidx, get("raw_insert_kbtok_s")), "-", -1);
	row("  (CPU s: full reindex)", get("kb_reindex_cpu_s"), "%.2f", "unicode61 insert CPU", get("raw_insert_unicode61_cpu_s"), "%.2f",
	    ratio(get("kb_reindex_cpu_s"), get("raw_insert_unicode61_cpu_s")), "-", -1);
	row("kb_txn commit of all files (s)", get("kb_txn_commit_s"), "%.2f", "git add+commit", get("git_add_commit_s"), "%.2f",
	    ratio(get("kb_txn_commit_s"), get("git_add_commit_s")), "-", -1);
	row("reindex cases/s", get("kb_reindex_cases_per_s"), "%.0f", "", -1, "", -2, "-", -1);
	row("peak RSS, full reindex (MB)", get("kb_reindex_peak_rss_mb"), "%.0f", "", -1, "", -2, "< 200 MB",
	    verdict(get("kb_reindex_peak_rss_mb"), get("kb_reindex_peak_rss_mb") < 200));
	row("index size (MB)", get("kb_index_bytes") / 1048576.0, "%.1f", "raw unicode61 (MB)",
	    get("raw_size_unicode61_bytes") / 1048576.0, "%.1f",
	    ratio(get("kb_index_bytes"), get("raw_size_unicode61_bytes")), "-", -1);
	row("incremental sync, 100 cases (s)", get("kb_sync_100_s"), "%.3f", "", -1, "", -2, "< 0.5 s",
	    verdict(get("kb_sync_100_s"), get("kb_sync_100_s") < 0.5));
	row("  (sync with nothing changed, s)", get("kb_sync_noop_s"), "%.3f", "", -1, "", -2, "-", -1);
	row("  (CPU s: sync, 100 cases)", get("kb_sync_100_cpu_s"), "%.3f", "", -1, "", -2, "-", -1);
	row("kb search p50 (ms)", get("kb_search_p50_ms"), "%.2f", "raw FTS5 kb-tok p50", get("raw_query_kbtok_p50_ms"), "%.2f",
	    ratio(get("kb_search_p50_ms"), get("raw_query_kbtok_p50_ms")), "< 10 ms",
	    verdict(get("kb_search_p50_ms"), get("kb_search_p50_ms") < 10));
	row("kb search p99 (ms)", sp99, "%.2f", "raw FTS5 kb-tok p99", rawp99, "%.2f", sr, "<= 1.5x raw", verdict(sr, sr <= 1.5));
	row("  (CPU ms: kb search p50)", get("kb_search_cpu_p50_ms"), "%.2f", "raw kb-tok CPU p50", get("raw_query_kbtok_cpu_p50_ms"), "%.2f",
	    ratio(get("kb_search_cpu_p50_ms"), get("raw_query_kbtok_cpu_p50_ms")), "-", -1);
	row("  (CPU ms: kb search p99)", get("kb_search_cpu_p99_ms"), "%.2f", "raw kb-tok CPU p99", get("raw_query_kbtok_cpu_p99_ms"), "%.2f",
	    ratio(get("kb_search_cpu_p99_ms"), get("raw_query_kbtok_cpu_p99_ms")), "-", -1);
	row("  (raw FTS5 unicode61 p50/p99)", get("raw_query_unicode61_p50_ms"), "%.2f", "p99", get("raw_query_unicode61_p99_ms"), "%.2f", -2, "-", -1);
	row("kb similar p50 (ms)", get("kb_similar_p50_ms"), "%.2f", "", -1, "", -2, "-", -1);
	row("kb similar p99 (ms)", get("kb_similar_p99_ms"), "%.2f", "", -1, "", -2, "< 50 ms",
	    verdict(get("kb_similar_p99_ms"), get("kb_similar_p99_ms") < 50));
	row("  (CPU ms: kb similar p50/p99)", get("kb_similar_cpu_p50_ms"), "%.2f", "p99", get("kb_similar_cpu_p99_ms"), "%.2f", -2, "-", -1);
	row("whole `kb search` p50 (ms)", pkb, "%.1f", "rg -i -l p50", prg, "%.1f", pr, "rg/kb >= 20x", verdict(pr, pr >= 20));
	row("whole `kb search` p99 (ms)", get("proc_kb_search_p99_ms"), "%.1f", "rg -i -l p99", get("proc_rg_p99_ms"), "%.1f",
	    ratio(get("proc_rg_p99_ms"), get("proc_kb_search_p99_ms")), "-", -1);
	row("  (CPU ms: whole kb search p50)", get("proc_kb_search_cpu_p50_ms"), "%.1f", "rg -i -l CPU p50", get("proc_rg_cpu_p50_ms"), "%.1f",
	    ratio(get("proc_rg_cpu_p50_ms"), get("proc_kb_search_cpu_p50_ms")), "-", -1);
	printf("\nhits/query: kb search %.1f, raw kb-tok %.1f, raw unicode61 %.1f, kb similar %.1f; "
	       "sync saw %.0f changed cases; whole-process runs: kb %.0f, rg %.0f\n",
	       get("kb_search_hits_per_query"), get("raw_query_kbtok_hits_per_query"),
	       get("raw_query_unicode61_hits_per_query"), get("kb_similar_hits_per_query"),
	       get("kb_sync_updated"), get("proc_kb_search_runs"), get("proc_rg_runs"));
}

static char *abs_kb;   /* o->kbbin made absolute, freed at exit */

static void parse_args(bench_opts *o, int argc, char **argv)
{
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--kb"))
			o->kbdir = argv[i + 1];
		else if (!strcmp(argv[i], "--queries"))
			o->qdir = argv[i + 1];
		else if (!strcmp(argv[i], "--kb-bin"))
			o->kbbin = argv[i + 1];
		else if (!strcmp(argv[i], "--raw"))
			o->raw = argv[i + 1];
		else if (!strcmp(argv[i], "--gen"))
			o->gen = argv[i + 1];
		else if (!strcmp(argv[i], "--budget"))
			o->budget = strtod(argv[i + 1], NULL);
		else
			break;
	}
	/* The binary runs in the KB directory: make a relative path absolute. */
	if (o->kbbin && strchr(o->kbbin, '/') && o->kbbin[0] != '/' && (abs_kb = realpath(o->kbbin, NULL)))
		o->kbbin = abs_kb;
	if (i < argc || !o->kbdir || !o->qdir) {
		fprintf(stderr, "usage: kb-bench --kb DIR --queries DIR [--kb-bin PATH] [--raw FILE] "
				"[--gen FILE] [--budget SECONDS]\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	bench_opts o = { NULL, NULL, NULL, NULL, NULL, 20 };
	kb_buf title = KB_BUF_INIT;
	kb_store *s;
	kb_index *idx;
	int i;

	parse_args(&o, argc, argv);
	load_results(o.gen);
	load_results(o.raw);
	reset_kb(o.kbdir);
	if (kb_store_open(&s, o.kbdir))
		die_kb("open the generated KB");
	idx = full_reindex(s, o.kbdir, (size_t)get("gen_cases"));
	query_latency(idx, o.qdir, "search.txt", 0, "kb_search");
	query_latency(idx, o.qdir, "similar.txt", 1, "kb_similar");
	incremental(idx, s, o.kbdir);
	kb_index_close(idx);
	whole_process(&o);
	kb_store_free(s);
	for (i = 0; i < R.n; i++)
		fprintf(stderr, "%s %g\n", R.key[i], R.val[i]);
	kb_buf_printf(&title, "%.0f cases (%.2f KB average, %.0f sample cases recombined; git add+commit %.1f s)",
		      get("kb_reindex_cases"), get("gen_bytes") / 1024.0 / (get("gen_cases") > 0 ? get("gen_cases") : 1),
		      get("gen_sample_cases"), get("git_add_commit_s"));
	report(title.ptr);
	kb_buf_release(&title);
	free(abs_kb);
	return 0;
}
