/*
 * proc.h - small helpers shared by the benchmark programs: run a command
 * (fork/exec, optional working directory, output discarded), a monotonic
 * clock, percentiles, and a deterministic random generator.
 */
#ifndef BENCH_PROC_H
#define BENCH_PROC_H

#include <stddef.h>
#include <stdint.h>

/* Run argv[0] (searched in PATH) in `cwd` (NULL = here) with stdout (and,
 * when quiet, stderr) sent to /dev/null; returns the exit status, -1 when
 * it could not run or died from a signal. */
int bench_run(const char *cwd, char *const argv[], int quiet);
/* The same, returning the wall time in seconds through *secs. */
int bench_run_timed(const char *cwd, char *const argv[], int quiet, double *secs);

double bench_now(void);
/* CPU time (user + system) of the calling thread, and of the waited-for
 * children so far, in seconds: on a shared machine they move far less with
 * the load than the wall clock. */
double bench_cpu(void);
double bench_children_cpu(void);
/* The p-th percentile (0..100, nearest rank) of v[0..n-1]; sorts v. */
double bench_percentile(double *v, size_t n, double p);

/* xorshift64*: the benchmarks' only source of randomness. */
typedef struct { uint64_t s; } bench_rng;
void bench_rng_seed(bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(bench_rng *r);
/* Uniform in [0, n). */
size_t bench_rng_below(bench_rng *r, size_t n);

/* Read a whole file into a malloc'd NUL-terminated string; NULL on failure. */
char *bench_read_file(const char *path, size_t *len);
/* Lines of a file (malloc'd array of malloc'd strings, empty lines skipped). */
char **bench_read_lines(const char *path, size_t *n);
void bench_free_lines(char **lines, size_t n);
/* Bytes used by a file, 0 when absent. */
long long bench_file_size(const char *path);
/* The *.md files below `dir` (flat, or in folders such as cases/PREFIX/NNN/),
 * as paths relative to `dir`, sorted by file name, then path; *n of them.
 * Free with bench_free_lines().  NULL with *n = 0 when there is none. */
char **bench_list_md(const char *dir, size_t *n);

#endif
