/*
 * cmd_link.c - `kb link A B [--as TYPE]`: link case A to case B (related,
 * duplicate-of, supersedes, caused-by) in A's front matter, one commit.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "kb/lifecycle.h"

static const char usage_text[] =
	"usage: kb link A B [--as related|duplicate-of|supersedes|caused-by]\n\n"
	"Record in case A's front matter that A is related to B (the default), a\n"
	"duplicate of B, supersedes B or is caused by B, as one commit\n"
	"\"Link A to B (TYPE)\".  `kb show` lists links both ways (docs/lifecycle.md).\n\n"
	"exit: 0 ok, 2 unknown case, self link, existing link or usage error\n";

int cmd_link(int argc, char **argv)
{
	static const struct option opts[] = { { "as", required_argument, NULL, 'a' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	const char *as = "related";
	kb_author who = { NULL, NULL };
	kb_store *s = NULL;
	char oid[41];
	int c, type, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'a') {
			as = optarg;
		} else {
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? CLI_OK : CLI_USAGE;
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("link takes two case ids");
	if ((type = kb_link_type_parse(as)) < 0)
		return cli_usage_error("unknown link type '%s' (related, duplicate-of, supersedes, caused-by)", as);
	if ((rc = cli_open_store(&s)))
		return rc;
	if ((rc = cli_author(&who, s)))
		goto done;
	if (kb_link_add(s, argv[optind], argv[optind + 1], (kb_link_type)type, &who, oid) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("linked %s to %s (%s), commit %.10s\n", argv[optind], argv[optind + 1],
	       kb_link_type_name((kb_link_type)type), oid);
done:
	kb_author_release(&who);
	kb_store_free(s);
	return rc;
}
