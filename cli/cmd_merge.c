/*
 * cmd_merge.c - `kb merge A B`: fold case A, a duplicate, into case B that
 * survives it (every section of A appended to B, A archived as
 * duplicate_of B), one commit.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "kb/lifecycle.h"

static const char usage_text[] =
	"usage: kb merge A B\n\n"
	"Fold case A, a duplicate, into case B: every section of A is appended to B\n"
	"under \"<heading> (from A)\" (nothing is dropped), B gains A's tags and a link\n"
	"to A, and A is archived with duplicate_of: B, so its id still resolves.\n"
	"One commit \"Merge A into B\" by the author.  See docs/lifecycle.md.\n\n"
	"exit: 0 ok, 2 unknown case, A equals B, a case already archived or\n"
	"obsolete, or usage error\n";

int cmd_merge(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	kb_author who = { NULL, NULL };
	kb_store *s = NULL;
	char oid[41];
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		fputs(usage_text, c == 'h' ? stdout : stderr);
		return c == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (argc - optind != 2)
		return cli_usage_error("merge takes two case ids: the duplicate, then the case it goes into");
	if ((rc = cli_open_store(&s)))
		return rc;
	if ((rc = cli_author(&who, s)))
		goto done;
	if (kb_fold(s, argv[optind], argv[optind + 1], &who, oid) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("merged %s into %s, commit %.10s\n", argv[optind], argv[optind + 1], oid);
done:
	kb_author_release(&who);
	kb_store_free(s);
	return rc;
}
