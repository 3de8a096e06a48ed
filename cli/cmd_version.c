/* cmd_version.c - `kb version`: print the version of kb and its libraries. */
#include <stdio.h>
#include <sqlite3.h>
#include <git2.h>

#include "cli.h"
#include "commands.h"

int cmd_version(int argc, char **argv)
{
	int major, minor, rev;

	if (cli_wants_help(argc, argv)) {
		printf("usage: kb version\n\nPrint kb's version and the versions of SQLite and libgit2.\n");
		return CLI_OK;
	}
	git_libgit2_version(&major, &minor, &rev);
	printf("kb %s\nsqlite %s\nlibgit2 %d.%d.%d\n", KB_VERSION_STRING, sqlite3_libversion(),
	       major, minor, rev);
	return CLI_OK;
}
