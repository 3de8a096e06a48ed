/*
 * cmd_init.c - `kb init [DIR]`: create a knowledge base (a git repository
 * with kb.conf, the case template, synonyms and an empty cases/) in one
 * commit by the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "cli.h"
#include "commands.h"

static const char usage_text[] =
	"usage: kb init [DIR]\n\n"
	"Create a knowledge base in DIR (default: the current directory): a git\n"
	"repository (initialised if needed) with kb.conf, templates/case.md,\n"
	"synonyms.txt, abbreviations.txt and an empty cases/, committed once by the\n"
	"author from --author, $KB_AUTHOR or git config user.name/user.email.\n";

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	kb_author author = { NULL, NULL };
	kb_store *s = NULL;
	const char *dir;
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
	if (argc - optind > 1)
		return cli_usage_error("init takes one directory, not %d", argc - optind);
	dir = optind < argc ? argv[optind] : (cli.kb_dir ? cli.kb_dir : ".");
	if (kb_author_default(&author, dir, cli.author) < 0 || kb_store_init(&s, dir, &author) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("initialised knowledge base in %s\n", kb_store_workdir(s));
	rc = CLI_OK;
done:
	kb_store_free(s);
	kb_author_release(&author);
	return rc;
}
