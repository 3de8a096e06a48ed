/*
 * cmd_add.c - `kb add FILE|DIR...`: parse and validate every case file
 * given (directories: every *.md below them), all or nothing, and commit
 * them in one commit, each at its canonical path (kb_store_case_relpath) or
 * where the case of that id already is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <getopt.h>

#include "kb/files.h"

#include "cli.h"
#include "commands.h"
#include "kb/lifecycle.h"

static const char usage_text[] =
	"usage: kb add [--update] FILE|DIR...\n\n"
	"Parse and validate every file given and every *.md file below each DIR, then\n"
	"commit them in ONE commit \"Add N cases\", each as cases/PREFIX/NNN/ID.md\n"
	"(docs/format.md; a case that exists stays where it is; contents kept byte\n"
	"for byte).  All or nothing: if any file fails, every problem is\n"
	"printed as path:line: error: message and nothing is written.\n\n"
	"  --update   replace cases whose id already exists (else that is an error);\n"
	"             a changed status must be an allowed lifecycle transition\n\n"
	"exit: 0 committed, 1 a file failed to parse or validate, 2 an id already\n"
	"exists, a file cannot be read, or usage error; 3 internal error\n";

typedef struct {
	char *path;     /* as given or found */
	kb_buf text;
	char *id;       /* NULL until parsed */
	char *relpath;  /* where it goes: kb_store_case_write_path() */
	int exists;
} add_file;

typedef struct {
	add_file *items;
	size_t count, alloc;
	int update;
} add_batch;

/* Append a file to the batch (path copied). */
static void batch_push(add_batch *b, const char *path)
{
	if (b->count == b->alloc) {
		b->alloc = b->alloc ? 2 * b->alloc : 16;
		b->items = kb_xrealloc(b->items, b->alloc * sizeof(*b->items));
	}
	memset(&b->items[b->count], 0, sizeof(add_file));
	b->items[b->count].path = kb_xstrdup(path);
	kb_buf_init(&b->items[b->count].text);
	b->count++;
}

static void batch_release(add_batch *b)
{
	size_t i;

	for (i = 0; i < b->count; i++) {
		free(b->items[i].path);
		free(b->items[i].id);
		free(b->items[i].relpath);
		kb_buf_release(&b->items[i].text);
	}
	free(b->items);
}

/* 1 for a name ending in ".md". */
static const char *const case_exts[] = { ".md", NULL };

static int push_cb(const char *path, void *payload)
{
	batch_push(payload, path);
	return 0;
}

/* Gather the files named on the command line (directories: every *.md
 * below them).  KB_EINPUT naming a path that cannot be read. */
static int collect(add_batch *b, int argc, char **argv)
{
	struct stat st;
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (stat(argv[i], &st) < 0)
			return kb_error_set(KB_EINPUT, argv[i], 0, "cannot read: %s",
					    strerror(errno));
		if ((rc = kb_files_walk(argv[i], case_exts, push_cb, b)) < 0)
			return rc;
	}
	if (b->count == 0)
		return kb_error_set(KB_ENOTFOUND, NULL, 0, "no case files (*.md) to add");
	return 0;
}

/* Read, parse and validate one file; problems go to diags.  The case goes
 * where the case of that id already is, else to its canonical path. */
static void check_file(add_file *f, kb_store *s, const kb_aliases *al, kb_diags *diags)
{
	const kb_error *e;
	kb_buf rel = KB_BUF_INIT;
	kb_case *c = NULL;

	if (cli_read_file(&f->text, f->path, KB_CASE_MAX_BYTES) < 0) {
		e = kb_error_last();
		kb_diags_add(diags, KB_DIAG_ERROR, f->path, 0, "%s", e->message);
		return;
	}
	if (cli_parse_validate(&c, f->text.ptr, f->text.len, f->path, al, diags) == 0) {
		if (kb_store_case_write_path(&rel, s, kb_case_id(c)) == 0) {
			f->id = kb_xstrdup(kb_case_id(c));
			f->relpath = kb_buf_detach(&rel);
		} else {
			kb_diags_add(diags, KB_DIAG_ERROR, f->path, kb_case_key_line(c, "id"),
				     "%s", kb_error_last()->message);
		}
	}
	kb_case_free(c);
	kb_buf_release(&rel);
}

/* kb_store_log() callback: count one commit and stop. */
static int count_commit(const kb_commit_info *ci, void *payload)
{
	(void)ci;
	++*(size_t *)payload;
	return 1;
}

/*
 * Whether adding f would replace a case.  A file written by hand straight
 * into cases/ and then added is not in the way of itself: it only counts
 * as existing when git already has history for it.
 */
static int exists_in_kb(kb_store *s, const add_file *f)
{
	kb_buf dest = KB_BUF_INIT;
	struct stat a, b;
	size_t commits = 0;
	int same;

	if (!cli_case_exists(s, f->relpath))
		return 0;
	kb_buf_printf(&dest, "%s%s", kb_store_workdir(s), f->relpath);
	same = stat(f->path, &a) == 0 && stat(dest.ptr, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
	kb_buf_release(&dest);
	if (!same)
		return 1;
	kb_store_log(s, f->relpath, count_commit, &commits);
	return commits > 0;
}

/* An update may change a case's status only by an allowed transition. */
static void check_replace(kb_store *s, const add_file *f, kb_diags *diags)
{
	kb_case *c = NULL;

	if (kb_case_parse(&c, f->text.ptr, f->text.len, f->path, NULL) == 0)
		kb_lifecycle_check_replace(s, f->relpath, c, f->path, diags);
	kb_error_clear();
	kb_case_free(c);
}

/* Ids twice in the batch are errors; ids already in the KB are errors
 * unless --update.  Returns the exit code for the problems found. */
static int check_ids(add_batch *b, kb_store *s, kb_diags *diags)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; i < b->count; i++) {
		if (!b->items[i].id)
			continue;
		for (j = 0; j < i; j++)
			if (b->items[j].id && !strcmp(b->items[i].id, b->items[j].id))
				kb_diags_add(diags, KB_DIAG_ERROR, b->items[i].path, 0,
					     "case id '%s' also used by '%s'", b->items[i].id,
					     b->items[j].path);
		b->items[i].exists = exists_in_kb(s, &b->items[i]);
		if (b->items[i].exists && b->update)
			check_replace(s, &b->items[i], diags);
		if (b->items[i].exists && !b->update) {
			fprintf(stderr, "kb: %s: case '%s' already exists (use --update to replace it)\n",
				b->items[i].path, b->items[i].id);
			rc = CLI_USAGE;
		}
	}
	return rc;
}

/* Stage every checked file at its relpath and commit them as one commit
 * by the resolved author; prints the summary.  Returns an exit code. */
static int commit_batch(add_batch *b, kb_store *s)
{
	kb_author author = { NULL, NULL };
	kb_buf msg = KB_BUF_INIT;
	size_t i, added = 0, updated = 0;
	kb_txn *t = NULL;
	int rc;

	if ((rc = cli_author(&author, s)))
		return rc;
	if (kb_txn_begin(&t, s) < 0)
		goto fail;
	for (i = 0; i < b->count; i++) {
		if (kb_txn_put(t, b->items[i].relpath, b->items[i].text.ptr, b->items[i].text.len) < 0)
			goto fail;
		b->items[i].exists ? updated++ : added++;
	}
	if (updated == 0)
		kb_buf_printf(&msg, "Add %zu case%s", added, added == 1 ? "" : "s");
	else if (added == 0)
		kb_buf_printf(&msg, "Update %zu case%s", updated, updated == 1 ? "" : "s");
	else
		kb_buf_printf(&msg, "Add %zu case%s, update %zu", added, added == 1 ? "" : "s",
			      updated);
	if (kb_txn_commit(t, &author, msg.ptr, NULL) < 0)
		goto fail;
	printf("%s\n", msg.ptr);
	rc = CLI_OK;
	goto done;
fail:
	rc = cli_fail();
done:
	kb_txn_free(t);
	kb_author_release(&author);
	kb_buf_release(&msg);
	return rc;
}

/* Check everything first (all problems printed), commit only when no file
 * failed.  Returns an exit code. */
static int add(add_batch *b, kb_store *s)
{
	const kb_aliases *al = kb_config_aliases(kb_store_config(s));
	kb_diags diags = KB_DIAGS_INIT;
	size_t i;
	int rc;

	for (i = 0; i < b->count; i++)
		check_file(&b->items[i], s, al, &diags);
	rc = check_ids(b, s, &diags);
	cli_print_diags(stderr, &diags, NULL);
	if (kb_diags_errors(&diags))
		rc = CLI_NOTHING;
	if (rc && kb_diags_errors(&diags) > 1)
		fprintf(stderr, "kb: nothing added: %zu error%s in %zu file%s\n",
			kb_diags_errors(&diags), kb_diags_errors(&diags) == 1 ? "" : "s",
			b->count, b->count == 1 ? "" : "s");
	kb_diags_release(&diags);
	return rc ? rc : commit_batch(b, s);
}

int cmd_add(int argc, char **argv)
{
	static const struct option opts[] = { { "update", no_argument, NULL, 'u' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	add_batch b = { 0 };
	kb_store *s = NULL;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hu", opts, NULL)) != -1) {
		if (c == 'u') {
			b.update = 1;
			continue;
		}
		fputs(usage_text, c == 'h' ? stdout : stderr);
		return c == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (optind == argc)
		return cli_usage_error("add needs at least one file or directory");
	if ((rc = cli_open_store(&s)))
		return rc;
	if (collect(&b, argc - optind, argv + optind) < 0)
		rc = cli_fail();
	else
		rc = add(&b, s);
	batch_release(&b);
	kb_store_free(s);
	return rc;
}
