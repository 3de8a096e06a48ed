/*
 * cmd_sync.c - `kb sync [REMOTE] [--json]`: fetch, merge and push with a team
 * git server (kb/sync.h), then print a short summary.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "kb/sync.h"

static const char usage_text[] =
	"usage: kb sync [REMOTE] [--json]\n\n"
	"Fetch the current branch from REMOTE (default: origin, or the only remote),\n"
	"merge it with local commits (case files changed on both sides are merged\n"
	"section by section; edits of the same section keep both versions and mark\n"
	"the case for review with `kb conflicts`), push, and update the search\n"
	"index.  Refused, with nothing changed: uncommitted edits, a remote that\n"
	"shares no history or was rewritten by a force push.  Safe to run again\n"
	"after an interruption (docs/sync.md).\n\n"
	"  --json   print the result as JSON\n\n"
	"exit: 0 ok, 1 no such remote or the histories cannot be merged, 2 refused\n"
	"(uncommitted edits, merge in progress) or usage error, 3 network or\n"
	"internal failure\n";

static void print_text(const kb_sync_result *r, const char *remote)
{
	size_t i;

	printf("synced '%s' with %s: %zu commit%s fetched, %zu case%s changed", r->branch,
	       remote, r->commits_fetched, r->commits_fetched == 1 ? "" : "s", r->cases_changed,
	       r->cases_changed == 1 ? "" : "s");
	if (r->cases_merged)
		printf(", %zu merged", r->cases_merged);
	printf(", %s\n", r->pushed ? "pushed" : "nothing to push");
	if (r->nconflicts) {
		printf("conflicts kept for review:");
		for (i = 0; i < r->nconflicts; i++)
			printf(" %s", r->conflicts[i]);
		printf("\nrun 'kb conflicts' to review them\n");
	}
	if (r->index_stale)
		cli_warn("the search index could not be updated; run 'kb reindex'");
}

static int print_json(const kb_sync_result *r, const char *remote)
{
	json_t *o = json_object(), *conf = json_array();
	size_t i;

	for (i = 0; i < r->nconflicts; i++)
		json_array_append_new(conf, cli_json_str(r->conflicts[i]));
	json_object_set_new(o, "schema_version", json_integer(1));
	json_object_set_new(o, "remote", cli_json_str(remote));
	json_object_set_new(o, "branch", cli_json_str(r->branch));
	json_object_set_new(o, "commits_fetched", json_integer((json_int_t)r->commits_fetched));
	json_object_set_new(o, "cases_changed", json_integer((json_int_t)r->cases_changed));
	json_object_set_new(o, "cases_merged", json_integer((json_int_t)r->cases_merged));
	json_object_set_new(o, "conflicts", conf);
	json_object_set_new(o, "fast_forward", json_boolean(r->fast_forward));
	json_object_set_new(o, "merged", json_boolean(r->merged));
	json_object_set_new(o, "pushed", json_boolean(r->pushed));
	json_object_set_new(o, "attempts", json_integer(r->attempts));
	json_object_set_new(o, "head", cli_json_str(r->head));
	json_object_set_new(o, "index_updated", json_boolean(!r->index_stale));
	return cli_json_print(o);
}

int cmd_sync(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	kb_sync_options so = KB_SYNC_OPTIONS_INIT;
	kb_sync_result res;
	kb_author who = { NULL, NULL };
	kb_buf remote = KB_BUF_INIT;
	kb_store *s = NULL;
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
	if (argc - optind > 1)
		return cli_usage_error("sync takes at most one remote");
	if ((rc = cli_open_store(&s)))
		return rc;
	if (argc > optind)
		kb_buf_puts(&remote, argv[optind]);
	else if (kb_remote_default(&remote, s) < 0) {
		rc = cli_fail();
		goto done;
	}
	if ((rc = cli_author(&who, s)))
		goto done;
	so.author = &who;
	if (kb_sync(s, remote.ptr, &so, &res) < 0) {
		rc = cli_fail();
	} else {
		if (json)
			rc = print_json(&res, remote.ptr);
		else
			print_text(&res, remote.ptr);
	}
	kb_sync_result_release(&res);
done:
	kb_author_release(&who);
	kb_buf_release(&remote);
	kb_store_free(s);
	return rc;
}
