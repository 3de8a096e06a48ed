/*
 * testutil.h - helpers shared by the cmocka unit tests: temporary
 * directories, file I/O, running git, and the path of the source tree
 * (KB_SRCDIR, set by tests/run-unit.sh; "." when unset).
 */
#ifndef KB_TESTUTIL_H
#define KB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kb/buf.h"
#include "kb/index.h"

/* A fresh empty directory under the current directory; caller frees. */
char *tu_mkdtemp(const char *prefix);
/* Remove a tree (rm -rf). */
void tu_rmtree(const char *path);
/* Write / read a whole file; abort the test on failure. */
void tu_write_file(const char *path, const char *data, size_t len);
void tu_write_str(const char *path, const char *s);
char *tu_read_file(const char *path, size_t *len);
/* Run a shell command (printf-style); returns its exit status.  Output in
 * *out when out != NULL. */
int tu_sh(kb_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Output of `cmd` run by the shell in `dir` (it must exit 0), trailing
 * newline removed; caller frees.  tu_expect_sh asserts that output. */
char *tu_sh_in(const char *dir, const char *cmd);
void tu_expect_sh(const char *dir, const char *cmd, const char *want);
/* Absolute path of a file in the source tree (e.g. "kb/cases"); static buffer. */
const char *tu_srcpath(const char *rel);
/* Run a cmocka group with HOME set to a fresh empty directory (removed
 * afterwards), GIT_CONFIG_NOSYSTEM=1, and none of the environment variables
 * that would let the machine's identity, dates or repository leak into the
 * tests (KB_AUTHOR, KB_NO_GAPS_LOG, GIT_AUTHOR_NAME/EMAIL/DATE,
 * GIT_COMMITTER_DATE, GIT_DIR, GIT_WORK_TREE, XDG_CONFIG_HOME). */
#define tu_run_isolated(tests) \
	tu_run_isolated_n(#tests, (tests), sizeof(tests) / sizeof((tests)[0]))
int tu_run_isolated_n(const char *name, const struct CMUnitTest *tests, size_t count);
/* Set git identity env vars so commits work on a bare machine. */
void tu_git_identity(void);

/* Where the hit of case `id` is in h (0 first), -1 when absent. */
int tu_hit_position(const kb_hits *h, const char *id);

#endif
