/*
 * cmd_remote.c - `kb remote [list] | add NAME URL | remove NAME`: the team
 * servers `kb sync` talks to, kept as ordinary git remotes (kb/sync.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "kb/sync.h"

static const char usage_text[] =
	"usage: kb remote [list]\n"
	"       kb remote add NAME URL\n"
	"       kb remote remove NAME\n\n"
	"Manage the git remotes `kb sync` uses.  URL is a path, file://, git://,\n"
	"https:// or ssh:// address.  `list` prints NAME<TAB>URL per line.\n\n"
	"exit: 0 ok, 1 no such remote, 2 usage error or the name is taken\n";

static int list(kb_store *s)
{
	kb_remote_info *r;
	size_t n, i;

	if (kb_remote_list(&r, &n, s) < 0)
		return cli_fail();
	for (i = 0; i < n; i++)
		printf("%s\t%s\n", r[i].name, r[i].url);
	kb_remote_list_free(r, n);
	return CLI_OK;
}

int cmd_remote(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "list";
	kb_store *s = NULL;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return CLI_OK;
	}
	if (strcmp(verb, "list") && strcmp(verb, "add") && strcmp(verb, "remove")) {
		fputs(usage_text, stderr);
		return cli_usage_error("unknown remote command '%s'", verb);
	}
	if ((!strcmp(verb, "list") && argc > 2) || (!strcmp(verb, "add") && argc != 4) ||
	    (!strcmp(verb, "remove") && argc != 3)) {
		fputs(usage_text, stderr);
		return CLI_USAGE;
	}
	if ((rc = cli_open_store(&s)))
		return rc;
	if (!strcmp(verb, "list"))
		rc = list(s);
	else if (!strcmp(verb, "add"))
		rc = kb_remote_add(s, argv[2], argv[3]) < 0 ? cli_fail() : CLI_OK;
	else
		rc = kb_remote_remove(s, argv[2]) < 0 ? cli_fail() : CLI_OK;
	kb_store_free(s);
	return rc;
}
