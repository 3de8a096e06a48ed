/*
 * testutil.c - helpers shared by the unit tests (see testutil.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

char *tu_mkdtemp(const char *prefix)
{
	kb_buf tmpl = KB_BUF_INIT;
	char cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	kb_buf_printf(&tmpl, "%s/%s.XXXXXX", cwd, prefix);
	assert_non_null(mkdtemp(tmpl.ptr));
	return kb_buf_detach(&tmpl);
}

void tu_rmtree(const char *path)
{
	tu_sh(NULL, "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", path, path);
}

void tu_write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void tu_write_str(const char *path, const char *s)
{
	tu_write_file(path, s, strlen(s));
}

char *tu_read_file(const char *path, size_t *len)
{
	kb_buf b = KB_BUF_INIT;
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kb_buf_put(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return kb_buf_detach(&b);
}

int tu_sh(kb_buf *out, const char *fmt, ...)
{
	kb_buf cmd = KB_BUF_INIT;
	char chunk[4096];
	size_t n;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	kb_buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	p = popen(cmd.ptr, "r");
	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		if (out)
			kb_buf_put(out, chunk, n);
	st = pclose(p);
	kb_buf_release(&cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *tu_sh_in(const char *dir, const char *cmd)
{
	kb_buf out = KB_BUF_INIT;

	assert_int_equal(tu_sh(&out, "cd '%s' && %s", dir, cmd), 0);
	if (out.len && out.ptr[out.len - 1] == '\n')
		kb_buf_truncate(&out, out.len - 1);
	return kb_buf_detach(&out);
}

void tu_expect_sh(const char *dir, const char *cmd, const char *want)
{
	char *got = tu_sh_in(dir, cmd);

	assert_string_equal(got, want);
	free(got);
}

const char *tu_srcpath(const char *rel)
{
	static kb_buf path = KB_BUF_INIT;
	const char *src = getenv("KB_SRCDIR");

	kb_buf_clear(&path);
	kb_buf_printf(&path, "%s/%s", src ? src : ".", rel);
	return path.ptr;
}

void tu_git_identity(void)
{
	setenv("GIT_AUTHOR_NAME", "Test User", 1);
	setenv("GIT_AUTHOR_EMAIL", "test@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Test User", 1);
	setenv("GIT_COMMITTER_EMAIL", "test@example.com", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
}

int tu_run_isolated_n(const char *name, const struct CMUnitTest *tests, size_t count)
{
	static const char *const leaky[] = {
		"XDG_CONFIG_HOME", "KB_AUTHOR", "KB_NO_GAPS_LOG", "GIT_AUTHOR_NAME",
		"GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "GIT_DIR",
		"GIT_WORK_TREE",
	};
	char *home = tu_mkdtemp("home");
	size_t i;
	int rc;

	setenv("HOME", home, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	for (i = 0; i < sizeof(leaky) / sizeof(leaky[0]); i++)
		unsetenv(leaky[i]);
	rc = _cmocka_run_group_tests(name, tests, count, NULL, NULL);
	tu_rmtree(home);
	free(home);
	return rc;
}

int tu_hit_position(const kb_hits *h, const char *id)
{
	size_t i;

	for (i = 0; i < h->count; i++)
		if (!strcmp(h->items[i].id, id))
			return (int)i;
	return -1;
}
