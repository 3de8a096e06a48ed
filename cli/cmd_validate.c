/*
 * cmd_validate.c - `kb validate [PATH...]`: check the whole KB, or the
 * given files, against the case format rules (and the work tree's status
 * changes against the lifecycle); print every problem as
 * "path:line: error: message" and a summary on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <getopt.h>

#include "cli.h"
#include "commands.h"
#include "kb/lifecycle.h"

static const char usage_text[] =
	"usage: kb validate [PATH...]\n\n"
	"Without PATH, check every case file of the KB (cases/**/*.md): each must parse\n"
	"and follow the format rules, be named after its id, no two may share an id,\n"
	"and a status changed since the last commit must be an allowed lifecycle\n"
	"transition (docs/lifecycle.md).  With PATHs (files, or directories searched\n"
	"for *.md), check those files with the rules `kb add` applies (their names\n"
	"are free).  Prints each problem as\n"
	"path:line: error: message (or warning) on stdout, then a summary on stderr.\n\n"
	"exit: 0 no errors (warnings allowed), 1 errors found, 2 usage error or a\n"
	"PATH cannot be read\n";

typedef struct {
	char *id;
	char *path;
} seen_id;

typedef struct {
	const kb_aliases *aliases;
	kb_diags diags;
	size_t files;
	seen_id *ids;
	size_t nids, alloc;
} validate_state;

static void remember_id(validate_state *st, const char *id, const char *path)
{
	if (!*id)
		return;
	if (st->nids == st->alloc) {
		st->alloc = st->alloc ? 2 * st->alloc : 64;
		st->ids = kb_xrealloc(st->ids, st->alloc * sizeof(*st->ids));
	}
	st->ids[st->nids].id = kb_xstrdup(id);
	st->ids[st->nids].path = kb_xstrdup(path);
	st->nids++;
}

static int by_id(const void *a, const void *b)
{
	const seen_id *x = a, *y = b;
	int d = strcmp(x->id, y->id);

	return d ? d : strcmp(x->path, y->path);
}

/* Sort the ids seen and report each one used by two files. */
static void check_duplicates(validate_state *st)
{
	size_t i;

	qsort(st->ids, st->nids, sizeof(*st->ids), by_id);
	for (i = 1; i < st->nids; i++)
		if (!strcmp(st->ids[i].id, st->ids[i - 1].id))
			kb_diags_add(&st->diags, KB_DIAG_ERROR, st->ids[i].path, 0,
				     "duplicate case id '%s' (also in '%s')", st->ids[i].id,
				     st->ids[i - 1].path);
}

/* A file of the KB: parsed with its path, so its name must match its id. */
static int kb_file(const char *relpath, const char *text, size_t len, void *payload)
{
	validate_state *st = payload;
	const kb_error *e;
	kb_case *c = NULL;

	st->files++;
	if (kb_case_parse(&c, text, len, relpath, st->aliases) < 0) {
		e = kb_error_last();
		kb_diags_add(&st->diags, KB_DIAG_ERROR, e->path ? e->path : relpath, e->line,
			     "%s", e->message);
		return 0;
	}
	kb_case_validate(c, &st->diags);
	remember_id(st, kb_case_id(c), relpath);
	kb_case_free(c);
	return 0;
}

/* A file named on the command line: the rules of `kb add`. */
static void given_file(validate_state *st, const char *path)
{
	kb_buf text = KB_BUF_INIT;
	kb_case *c = NULL;

	st->files++;
	if (cli_read_file(&text, path, KB_CASE_MAX_BYTES) < 0)
		kb_diags_add(&st->diags, KB_DIAG_ERROR, path, 0, "%s", kb_error_last()->message);
	else
		cli_parse_validate(&c, text.ptr, text.len, path, st->aliases, &st->diags);
	kb_case_free(c);
	kb_buf_release(&text);
}

/* A PATH argument: a file, or a directory searched for *.md files. */
static int given_path(validate_state *st, const char *path)
{
	struct dirent **ents;
	kb_buf sub = KB_BUF_INIT;
	struct stat sb;
	size_t len;
	int n, i;

	if (stat(path, &sb) < 0)
		return kb_error_set(KB_EINPUT, path, 0, "cannot read: %s", strerror(errno));
	if (!S_ISDIR(sb.st_mode)) {
		given_file(st, path);
		return 0;
	}
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0)
		return kb_error_set(KB_EIO, path, 0, "cannot read directory: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		len = strlen(ents[i]->d_name);
		kb_buf_clear(&sub);
		kb_buf_printf(&sub, "%s/%s", path, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(sub.ptr, &sb) == 0 &&
		    (S_ISDIR(sb.st_mode) || (len > 3 && !strcmp(ents[i]->d_name + len - 3, ".md"))))
			given_path(st, sub.ptr);
		free(ents[i]);
	}
	free(ents);
	kb_buf_release(&sub);
	return 0;
}

/* Diagnostics on stdout, the summary on stderr; exit 1 on any error. */
static int report(validate_state *st)
{
	size_t errors = kb_diags_errors(&st->diags);

	cli_print_diags(stdout, &st->diags, NULL);
	fprintf(stderr, "kb: %zu file%s checked: %zu error%s, %zu warning%s\n", st->files,
		st->files == 1 ? "" : "s", errors, errors == 1 ? "" : "s",
		st->diags.count - errors, st->diags.count - errors == 1 ? "" : "s");
	return errors ? CLI_NOTHING : CLI_OK;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	validate_state st;
	kb_store *s = NULL;
	size_t i;
	int c, rc = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		fputs(usage_text, c == 'h' ? stdout : stderr);
		return c == 'h' ? CLI_OK : CLI_USAGE;
	}
	memset(&st, 0, sizeof(st));
	if (optind == argc) {
		if ((rc = cli_open_store(&s)))
			return rc;
		st.aliases = kb_config_aliases(kb_store_config(s));
		if (kb_store_foreach_case_file(s, kb_file, &st) < 0 ||
		    kb_lifecycle_check_worktree(s, &st.diags) < 0)
			rc = cli_fail();
		check_duplicates(&st);
	} else {
		/* Outside a KB the default heading aliases apply. */
		if (kb_store_open(&s, cli.kb_dir ? cli.kb_dir : ".") == 0)
			st.aliases = kb_config_aliases(kb_store_config(s));
		for (c = optind; c < argc && rc == 0; c++)
			if (given_path(&st, argv[c]) < 0)
				rc = cli_fail();
	}
	if (rc == 0)
		rc = report(&st);
	for (i = 0; i < st.nids; i++) {
		free(st.ids[i].id);
		free(st.ids[i].path);
	}
	free(st.ids);
	kb_diags_release(&st.diags);
	kb_store_free(s);
	return rc;
}
