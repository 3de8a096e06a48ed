/*
 * common.c - helpers shared by the commands: opening the KB, the author of
 * a write, reading input files, temporary copies for the editor, running
 * the editor, parsing plus validating a case, and new case ids.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_open_store(kb_store **out)
{
	if (kb_store_open(out, cli.kb_dir ? cli.kb_dir : ".") < 0)
		return cli_fail();
	return 0;
}

int cli_author(kb_author *out, kb_store *s)
{
	if (kb_store_author(out, s, cli.author) < 0)
		return cli_fail();
	return 0;
}

/* Append all of f to out, refusing more than max bytes. */
static int read_stream(kb_buf *out, FILE *f, const char *path, size_t max)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > max)
			return kb_error_set(KB_EINPUT, path, 0, "file too large (over %zu bytes)", max);
		kb_buf_put(out, chunk, n);
	}
	if (ferror(f))
		return kb_error_set(KB_EIO, path, 0, "cannot read: %s", strerror(errno));
	return 0;
}

int cli_read_file(kb_buf *out, const char *path, size_t max)
{
	struct stat st;
	FILE *f;
	int rc;

	if (!strcmp(path, "-"))
		return read_stream(out, stdin, "<stdin>", max);
	if (stat(path, &st) < 0)
		return kb_error_set(errno == ENOENT ? KB_ENOTFOUND : KB_EIO, path, 0,
				    "cannot read: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return kb_error_set(KB_EINPUT, path, 0, "is a directory");
	if ((size_t)st.st_size > max)
		return kb_error_set(KB_EINPUT, path, 0, "file too large (%lld bytes, limit %zu)",
				    (long long)st.st_size, max);
	f = fopen(path, "rb");
	if (!f)
		return kb_error_set(KB_EIO, path, 0, "cannot read: %s", strerror(errno));
	rc = read_stream(out, f, path, max);
	fclose(f);
	return rc;
}

void cli_today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int cli_temp_file(kb_buf *path, kb_store *s, const char *prefix, const void *data,
		  size_t len)
{
	int fd, rc;
	ssize_t n;

	kb_buf_clear(path);
	if ((rc = kb_store_cachedir(path, s)) < 0) {
		kb_buf_clear(path);
		return rc;
	}
	kb_buf_printf(path, "%sXXXXXX.md", prefix);
	fd = mkstemps(path->ptr, 3);
	if (fd < 0) {
		rc = kb_error_set(KB_EIO, path->ptr, 0, "cannot create: %s", strerror(errno));
		kb_buf_clear(path);
		return rc;
	}
	n = write(fd, data, len);
	if (n < 0 || (size_t)n != len || close(fd) < 0) {
		rc = kb_error_set(KB_EIO, path->ptr, 0, "cannot write: %s", strerror(errno));
		unlink(path->ptr);
		kb_buf_clear(path);
		return rc;
	}
	return 0;
}

/* Like git: the editor string is run by the shell with the file as "$1",
 * so EDITOR may hold options ("emacs -nw"). */
int cli_run_editor(const char *path)
{
	const char *editor = getenv("VISUAL");
	kb_buf cmd = KB_BUF_INIT;
	pid_t pid;
	int status;

	if (!editor || !*editor)
		editor = getenv("EDITOR");
	if (!editor || !*editor)
		editor = "vi";
	kb_buf_printf(&cmd, "%s \"$@\"", editor);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd.ptr, editor, path, (char *)NULL);
		_exit(127);
	}
	kb_buf_release(&cmd);
	if (pid < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot run editor '%s': %s", editor,
				    strerror(errno));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return kb_error_set(KB_ERROR, NULL, 0, "cannot wait for editor '%s'", editor);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return kb_error_set(KB_EINPUT, NULL, 0, "editor '%s' failed", editor);
	return 0;
}

int cli_parse_validate(kb_case **out, const char *text, size_t len, const char *display,
		       const kb_aliases *aliases, kb_diags *diags)
{
	const kb_error *e;
	size_t before = kb_diags_errors(diags), first, i;

	*out = NULL;
	if (kb_case_parse(out, text, len, NULL, aliases) < 0) {
		e = kb_error_last();
		kb_diags_add(diags, KB_DIAG_ERROR, e->path ? e->path : display, e->line, "%s",
			     e->message);
		return e->code ? e->code : KB_EINPUT;
	}
	first = diags->count;
	kb_case_validate(*out, diags);
	for (i = first; i < diags->count; i++)
		if (!diags->items[i].path && display)
			diags->items[i].path = kb_xstrdup(display);
	return kb_diags_errors(diags) > before ? KB_EINVALID : 0;
}

int cli_next_id(kb_buf *out, kb_store *s, const char *equipment)
{
	return kb_store_next_id(out, s, equipment);
}

void cli_join_args(kb_buf *out, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (i)
			kb_buf_putc(out, ' ');
		kb_buf_puts(out, argv[i]);
	}
}

int cli_parse_limit(size_t *out, const char *name, const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 1 || n > 10000)
		return cli_usage_error("option '%s' wants a number from 1 to 10000, not '%s'",
				       name, s);
	*out = (size_t)n;
	return 0;
}

int cli_edit_text(kb_buf *tmp_path, kb_buf *result, kb_store *s, const char *prefix,
		  const char *text, size_t len)
{
	int rc;

	if ((rc = cli_temp_file(tmp_path, s, prefix, text, len)) < 0)
		return rc;
	if ((rc = cli_run_editor(tmp_path->ptr)) < 0)
		return rc;
	kb_buf_clear(result);
	return cli_read_file(result, tmp_path->ptr, KB_CASE_MAX_BYTES);
}

int cli_check_writable(kb_store *s)
{
	kb_txn *t = NULL;

	if (kb_txn_begin(&t, s) < 0)
		return cli_fail();
	kb_txn_free(t);
	return 0;
}

int cli_commit_file(kb_store *s, const kb_author *author, const char *relpath,
		    const kb_buf *data, const char *message)
{
	kb_txn *t = NULL;
	int rc;

	if ((rc = kb_txn_begin(&t, s)) == 0 &&
	    (rc = kb_txn_put(t, relpath, data->ptr, data->len)) == 0)
		rc = kb_txn_commit(t, author, message, NULL);
	kb_txn_free(t);
	return rc;
}

int cli_case_exists(kb_store *s, const char *relpath)
{
	kb_buf full = KB_BUF_INIT;
	struct stat st;
	int found;

	kb_buf_printf(&full, "%s%s", kb_store_workdir(s), relpath);
	found = lstat(full.ptr, &st) == 0;
	kb_buf_release(&full);
	return found;
}
