/*
 * proc.c - process, clock, percentile, random and file helpers for the
 * benchmark programs (see proc.h).  Nothing here prints.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/files.h"
#include "proc.h"

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_children_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void child(const char *cwd, char *const argv[], int quiet)
{
	int fd = open("/dev/null", O_WRONLY);

	if (fd >= 0) {
		dup2(fd, 1);
		if (quiet)
			dup2(fd, 2);
		close(fd);
	}
	if (cwd && chdir(cwd) != 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

int bench_run(const char *cwd, char *const argv[], int quiet)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0)
		child(cwd, argv, quiet);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int bench_run_timed(const char *cwd, char *const argv[], int quiet, double *secs)
{
	double t0 = bench_now();
	int rc = bench_run(cwd, argv, quiet);

	*secs = bench_now() - t0;
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_percentile(double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	k = (size_t)ceil(p / 100.0 * (double)n);
	return v[k ? k - 1 : 0];
}

void bench_rng_seed(bench_rng *r, uint64_t seed)
{
	r->s = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (!r->s)
		r->s = 1;
}

uint64_t bench_rng_next(bench_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

size_t bench_rng_below(bench_rng *r, size_t n)
{
	return n ? (size_t)(bench_rng_next(r) % n) : 0;
}

char *bench_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	kb_buf b = KB_BUF_INIT;
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kb_buf_put(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return kb_buf_detach(&b);
}

char **bench_read_lines(const char *path, size_t *n)
{
	char *text = bench_read_file(path, NULL), *s, *nl, **lines = NULL;

	*n = 0;
	if (!text)
		return NULL;
	for (s = text; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s) - 1;
		else
			*nl = '\0';
		if (!*s)
			continue;
		lines = kb_xrealloc(lines, (*n + 1) * sizeof(*lines));
		lines[(*n)++] = kb_xstrdup(s);
		if (!nl[1])
			break;
	}
	free(text);
	return lines;
}

void bench_free_lines(char **lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

long long bench_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

typedef struct {
	char **v;
	size_t n;
	size_t skip;    /* length of "dir/" */
} md_list;

static int md_add(const char *path, void *payload)
{
	md_list *l = payload;

	l->v = kb_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = kb_xstrdup(path + l->skip);
	return 0;
}

static int md_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	const char *bx = strrchr(x, '/'), *by = strrchr(y, '/');
	int c = strcmp(bx ? bx + 1 : x, by ? by + 1 : y);

	return c ? c : strcmp(x, y);
}

char **bench_list_md(const char *dir, size_t *n)
{
	static const char *const exts[] = { ".md", NULL };
	size_t len = strlen(dir);
	md_list l = { NULL, 0, len + (len && dir[len - 1] == '/' ? 0 : 1) };

	if (kb_files_walk(dir, exts, md_add, &l) < 0)
		kb_error_clear();
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), md_cmp);
	*n = l.n;
	return l.v;
}
