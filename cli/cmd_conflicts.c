/*
 * cmd_conflicts.c - `kb conflicts [--json]`: list the cases a merge marked
 * for review (front-matter key "conflicts"), one per line, or as JSON.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "kb/lifecycle.h"

static const char usage_text[] =
	"usage: kb conflicts [--json]\n\n"
	"List the cases whose concurrent edits kb could not merge (docs/merge.md):\n"
	"\"ID  TITLE  what\" per line, what being the keys and sections kept in both\n"
	"versions.  Resolve a case by editing it (kb edit ID) and removing its\n"
	"'conflicts' key.  --json prints an array of {id, title, path, conflicts}.\n\n"
	"exit: 0 (also when there are none), 2 not in a KB or usage error\n";

static json_t *to_json(const kb_conflict_case *v, size_t n)
{
	json_t *arr = json_array(), *o, *names;
	size_t i, k;

	for (i = 0; i < n; i++) {
		names = json_array();
		for (k = 0; k < v[i].nnames; k++)
			json_array_append_new(names, cli_json_str(v[i].names[k]));
		o = json_object();
		json_object_set_new(o, "id", cli_json_str(v[i].id));
		json_object_set_new(o, "title", cli_json_str(v[i].title));
		json_object_set_new(o, "path", cli_json_str(v[i].path));
		json_object_set_new(o, "conflicts", names);
		json_array_append_new(arr, o);
	}
	return arr;
}

static void print_text(const kb_conflict_case *v, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		printf("%s  %s  ", v[i].id, v[i].title);
		for (k = 0; k < v[i].nnames; k++)
			printf("%s%s", k ? ", " : "", v[i].names[k]);
		putchar('\n');
	}
}

int cmd_conflicts(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	kb_conflict_case *v = NULL;
	kb_store *s = NULL;
	size_t n = 0;
	int c, json = 0, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else {
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? CLI_OK : CLI_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error("conflicts takes no arguments");
	if ((rc = cli_open_store(&s)))
		return rc;
	if (kb_conflicts_list(&v, &n, s) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (json)
		cli_json_print(to_json(v, n));
	else
		print_text(v, n);
done:
	kb_conflicts_list_free(v, n);
	kb_store_free(s);
	return rc;
}
