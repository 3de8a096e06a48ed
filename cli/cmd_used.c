/*
 * cmd_used.c - `kb used ID [--ticket REF] [--note TEXT]`: record that a
 * case solved a new fault, one line in the author's reuse file, one commit.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "kb/lifecycle.h"

static const char usage_text[] =
	"usage: kb used ID [--ticket REF] [--note TEXT]\n\n"
	"Record that case ID solved a new fault: one line (date, id, ticket, note)\n"
	"appended to reuse/<your-email>.log, as one commit \"Record reuse of ID\".\n"
	"`kb show ID` prints the count (docs/lifecycle.md).\n\n"
	"exit: 0 ok, 1 no such case, 2 usage error\n";

int cmd_used(int argc, char **argv)
{
	static const struct option opts[] = { { "ticket", required_argument, NULL, 't' },
					      { "note", required_argument, NULL, 'n' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	const char *ticket = NULL, *note = NULL;
	kb_author who = { NULL, NULL };
	kb_store *s = NULL;
	char oid[41];
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 't') {
			ticket = optarg;
		} else if (c == 'n') {
			note = optarg;
		} else {
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? CLI_OK : CLI_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("used takes one case id");
	if ((rc = cli_open_store(&s)))
		return rc;
	if ((rc = cli_author(&who, s)))
		goto done;
	if (kb_reuse_record(s, argv[optind], ticket, note, &who, oid) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("recorded reuse of %s, commit %.10s\n", argv[optind], oid);
done:
	kb_author_release(&who);
	kb_store_free(s);
	return rc;
}
