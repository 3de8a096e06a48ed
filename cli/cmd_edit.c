/*
 * cmd_edit.c - `kb edit ID`: open a temporary copy of the case file in the
 * editor; when it changed and is valid, set `updated` to today and commit
 * it as "Edit case ID: TITLE".  A status changed in the editor must be an
 * allowed lifecycle transition.  An invalid edit is kept, never lost.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <getopt.h>

#include "cli.h"
#include "commands.h"
#include "kb/lifecycle.h"

static const char usage_text[] =
	"usage: kb edit ID\n\n"
	"Open a copy of the case file of ID (cases/PREFIX/NNN/ID.md, or wherever it\n"
	"is) in $VISUAL / $EDITOR (default vi).  When the text\n"
	"is unchanged nothing happens.  Otherwise the case is parsed and validated;\n"
	"if valid, `updated` is set to today and the case is committed in one commit\n"
	"\"Edit case ID: TITLE\".  A status changed in the editor must be an allowed\n"
	"lifecycle transition (docs/lifecycle.md); a change to validated records you\n"
	"as reviewer, the date as validated, and a Validated-by: commit trailer.\n"
	"If invalid, the problems are printed and the edited\n"
	"copy is kept (its path is printed) so nothing typed is lost.\n\n"
	"exit: 0 saved or unchanged, 1 invalid or no such case, 2 refused transition,\n"
	"usage or input error, 3 internal error\n";

/* Name the kept temporary copy (when there is one) and pass rc on. */
static int keep(const kb_buf *tmp, int rc)
{
	if (tmp->len)
		fprintf(stderr, "kb: case not saved; your edit is in '%s'\n", tmp->ptr);
	return rc;
}

/* The status of the case before the edit; unknown when it did not parse. */
static kb_status status_of(const kb_buf *text, const kb_aliases *al)
{
	kb_case *c = NULL;
	kb_status st = KB_STATUS_UNKNOWN;

	if (kb_case_parse(&c, text->ptr, text->len, NULL, al) == 0)
		st = kb_case_status(c);
	kb_error_clear();
	kb_case_free(c);
	return st;
}

/* A status changed in the editor must be an allowed transition; one to
 * validated records the reviewer (kb_lifecycle_edit()).  The edited text
 * is rewritten in `out`.  0, or KB_EINPUT for a refused transition. */
static int apply_lifecycle(kb_buf *out, const kb_buf *edited, kb_status before,
			   const char *rel, const kb_aliases *al, const kb_author *who,
			   kb_buf *trailer)
{
	kb_case *c = NULL;
	int rc = 0;

	kb_buf_set(out, edited->ptr, edited->len);
	if (kb_case_parse(&c, edited->ptr, edited->len, rel, al) < 0) {
		kb_error_clear();
		return 0;       /* the validation below reports it */
	}
	if ((rc = kb_lifecycle_edit(c, before, who, trailer)) == 0 &&
	    kb_case_status(c) != before && kb_case_status(c) == KB_STATUS_VALIDATED) {
		kb_buf_clear(out);
		kb_case_serialize(c, out);
	}
	kb_case_free(c);
	return rc;
}

/* Validate the edited text, stamp `updated`, commit.  Returns an exit code. */
static int save(kb_store *s, const char *id, const char *rel, const kb_buf *orig,
		const kb_buf *edited_in, const kb_buf *tmp)
{
	const kb_aliases *al = kb_config_aliases(kb_store_config(s));
	kb_diags diags = KB_DIAGS_INIT;
	kb_author author = { NULL, NULL };
	kb_buf text = KB_BUF_INIT, msg = KB_BUF_INIT, trailer = KB_BUF_INIT;
	kb_buf edited_buf = KB_BUF_INIT;
	const kb_buf *edited = &edited_buf;
	kb_case *c = NULL;
	char today[11];
	int rc;

	if ((rc = cli_author(&author, s)))
		goto done;
	if (apply_lifecycle(&edited_buf, edited_in, status_of(orig, al), rel, al, &author,
			    &trailer) < 0) {
		rc = keep(tmp, cli_fail_at(rel));
		goto done;
	}
	if (cli_parse_validate(&c, edited->ptr, edited->len, rel, al, &diags) < 0) {
		cli_print_diags(stderr, &diags, rel);
		rc = keep(tmp, CLI_NOTHING);
		goto done;
	}
	cli_print_diags(stderr, &diags, rel);
	if (strcmp(kb_case_id(c), id)) {
		fprintf(stderr, "kb: %s:%d: id changed to '%s'; a case keeps its id\n", rel,
			kb_case_key_line(c, "id"), kb_case_id(c));
		rc = keep(tmp, CLI_NOTHING);
		goto done;
	}
	cli_today(today);
	kb_case_set(c, "updated", today);
	kb_case_serialize(c, &text);
	kb_buf_printf(&msg, "Edit case %s: %s", id, kb_case_title(c));
	if (trailer.len)
		kb_buf_printf(&msg, "\n\n%s", trailer.ptr);
	if (cli_commit_file(s, &author, rel, &text, msg.ptr) < 0) {
		rc = keep(tmp, cli_fail());
		goto done;
	}
	unlink(tmp->ptr);
	printf("%s\n", id);
	rc = CLI_OK;
done:
	kb_case_free(c);
	kb_diags_release(&diags);
	kb_author_release(&author);
	kb_buf_release(&text);
	kb_buf_release(&msg);
	kb_buf_release(&trailer);
	kb_buf_release(&edited_buf);
	return rc;
}

/* Copy the case to a temporary file, run the editor, and save the result
 * if it changed.  Returns an exit code. */
static int edit(kb_store *s, const char *id)
{
	kb_buf rel = KB_BUF_INIT, orig = KB_BUF_INIT, edited = KB_BUF_INIT;
	kb_buf tmp = KB_BUF_INIT;
	int rc;

	/* kb_store_read_file refuses symlinks and paths outside the KB; a
	 * case that does not parse can still be edited (to fix it). */
	if (kb_store_case_locate(&rel, s, id) < 0 ||
	    kb_store_read_file(&orig, s, rel.ptr, KB_CASE_MAX_BYTES) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (cli_edit_text(&tmp, &edited, s, "edit-", orig.ptr, orig.len) < 0) {
		rc = keep(&tmp, cli_fail());
		goto done;
	}
	if (edited.len == orig.len && !memcmp(edited.ptr, orig.ptr, orig.len)) {
		fprintf(stderr, "kb: no changes to '%s'\n", id);
		unlink(tmp.ptr);
		rc = CLI_OK;
		goto done;
	}
	rc = save(s, id, rel.ptr, &orig, &edited, &tmp);
done:
	kb_buf_release(&rel);
	kb_buf_release(&orig);
	kb_buf_release(&edited);
	kb_buf_release(&tmp);
	return rc;
}

int cmd_edit(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	kb_store *s = NULL;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_OK;
		}
		fputs(usage_text, stderr);
		return CLI_USAGE;
	}
	if (argc - optind != 1)
		return cli_usage_error("edit takes one case id");
	if ((rc = cli_open_store(&s)))
		return rc;
	if ((rc = cli_check_writable(s)) == 0)
		rc = edit(s, argv[optind]);
	kb_store_free(s);
	return rc;
}
