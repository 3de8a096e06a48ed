/*
 * cmd_migrate_layout.c - `kb migrate-layout [--dry-run]`: move every case file to
 * the canonical path of its id (cases/PREFIX/NNN/ID.md) in one commit, and
 * print what moved (kb_migrate_layout in kb/migrate.h does the work).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "kb/migrate.h"

static const char usage_text[] =
	"usage: kb migrate-layout [--dry-run]\n\n"
	"Move every case file that is not at the canonical path of its id to it,\n"
	"cases/PREFIX/NNN/ID.md for an id PREFIX-NUMBER (NNN = NUMBER / 1000), in ONE\n"
	"commit \"Move N cases to the foldered layout\" (docs/format.md, \"Layout\").\n"
	"Prints each move as FROM -> TO.  Files whose front-matter id differs from\n"
	"their name, or whose name is not a valid id, stay where they are (warned).\n"
	"Refused, with nothing written, when cases/ has uncommitted changes, or when\n"
	"two files belong at one path or a destination already exists.\n\n"
	"  --dry-run   print what would move, write nothing\n\n"
	"exit: 0 moved, or nothing to move; 2 refused or usage error; 3 internal error\n";

static void print_result(const kb_migrate_result *r, int dry_run)
{
	size_t i;

	cli_print_diags(stderr, &r->skipped, NULL);
	for (i = 0; i < r->nmoves; i++)
		printf("%s -> %s\n", r->moves[i].from, r->moves[i].to);
	if (!r->nmoves)
		fprintf(stderr, "kb: nothing to move: every case file is at its place\n");
	else if (dry_run)
		fprintf(stderr, "kb: would move %zu case%s (dry run, nothing written)\n",
			r->nmoves, r->nmoves == 1 ? "" : "s");
	else
		fprintf(stderr, "kb: moved %zu case%s to the foldered layout, commit %.10s\n",
			r->nmoves, r->nmoves == 1 ? "" : "s", r->oid);
	if (r->index_stale)
		fprintf(stderr, "kb: warning: the search index is not up to date; "
			"'kb reindex' brings it up to date\n");
}

int cmd_migrate_layout(int argc, char **argv)
{
	static const struct option opts[] = { { "dry-run", no_argument, NULL, 'n' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	kb_migrate_result r = KB_MIGRATE_RESULT_INIT;
	kb_author who = { NULL, NULL };
	kb_store *s = NULL;
	int c, dry_run = 0, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hn", opts, NULL)) != -1) {
		if (c == 'n') {
			dry_run = 1;
		} else {
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? CLI_OK : CLI_USAGE;
		}
	}
	if (argc > optind)
		return cli_usage_error("migrate-layout takes no arguments");
	if ((rc = cli_open_store(&s)))
		return rc;
	if (!dry_run && (rc = cli_author(&who, s)))
		goto done;
	if (kb_migrate_layout(&r, s, &who, dry_run ? KB_MIGRATE_DRY_RUN : 0) < 0) {
		rc = cli_fail();
		goto done;
	}
	print_result(&r, dry_run);
done:
	kb_migrate_result_release(&r);
	kb_author_release(&who);
	kb_store_free(s);
	return rc;
}
