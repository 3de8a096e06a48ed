/*
 * cmd_status.c - `kb status`: a summary of the KB (counts by status, drafts
 * waiting for review, uncommitted case edits, HEAD), and `kb status ID --set
 * STATUS`: a lifecycle transition as one commit (kb/lifecycle.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "kb/lifecycle.h"
#include "kb/sync.h"

#define PENDING_SHOWN 5

static const char usage_text[] =
	"usage: kb status [--json]\n"
	"       kb status ID --set validated|archived|obsolete [--superseded-by ID]\n\n"
	"Without ID, summarise the KB: cases by status, drafts pending review\n"
	"(oldest first, the first 5), case files with uncommitted edits, HEAD, and\n"
	"the sync state (ahead/behind the remote branch as of the last fetch).\n"
	"With ID and --set, move the case along its lifecycle as one commit by the\n"
	"author: draft -> validated (reviewer and validated date recorded, trailer\n"
	"Validated-by), validated -> archived, validated -> obsolete (needs\n"
	"--superseded-by), archived -> validated (restore).  See docs/lifecycle.md.\n\n"
	"  --json   print the summary as JSON\n\n"
	"exit: 0 ok, 1 no such case or the case does not validate, 2 refused\n"
	"transition or usage error\n";

typedef struct {
	int json;
	const char *set, *superseded_by, *id;
} status_args;

static int parse_args(status_args *a, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "set", required_argument, NULL, 's' },
					      { "superseded-by", required_argument, NULL, 'S' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j') {
			a->json = 1;
		} else if (c == 's') {
			a->set = optarg;
		} else if (c == 'S') {
			a->superseded_by = optarg;
		} else {
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? -1 : CLI_USAGE;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("status takes at most one case id");
	a->id = argc > optind ? argv[optind] : NULL;
	if (!a->id != !a->set)
		return cli_usage_error("a case id and --set go together");
	if (a->superseded_by && !a->set)
		return cli_usage_error("--superseded-by needs --set obsolete");
	if (a->set && a->json)
		return cli_usage_error("--json applies to the summary only");
	return 0;
}

static void print_text(const kb_summary *sum)
{
	size_t i;
	kb_status st;

	printf("%zu cases:", sum->total);
	for (st = KB_STATUS_DRAFT; st <= KB_STATUS_OBSOLETE; st++)
		printf(" %zu %s%s", sum->counts[st], kb_status_name(st),
		       st < KB_STATUS_OBSOLETE ? "," : "");
	if (sum->counts[KB_STATUS_UNKNOWN])
		printf(", %zu unknown", sum->counts[KB_STATUS_UNKNOWN]);
	printf("\n");
	printf("pending review: %zu draft%s\n", sum->ndrafts, sum->ndrafts == 1 ? "" : "s");
	for (i = 0; i < sum->ndrafts && i < PENDING_SHOWN; i++)
		printf("  %s  %-10s  %s\n", sum->drafts[i].id, sum->drafts[i].created,
		       sum->drafts[i].title);
	printf("uncommitted edits: %zu\n", sum->nedited);
	for (i = 0; i < sum->nedited; i++)
		printf("  %s\n", sum->edited[i]);
	printf("head: %s\n", sum->head[0] ? sum->head : "(none)");
	if (sum->misplaced)
		printf("layout: %zu case file%s outside cases/PREFIX/NNN/; run 'kb migrate-layout'\n",
		       sum->misplaced, sum->misplaced == 1 ? "" : "s");
}

/* "sync: ..." line: the default remote, ahead/behind as of the last fetch. */
static void print_sync(const kb_sync_state *st)
{
	char when[32] = "never";
	time_t t = (time_t)st->last_sync;
	struct tm tm;

	if (!st->remote[0]) {
		printf("sync: no remote\n");
		return;
	}
	if (st->last_sync && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	if (st->tracked)
		printf("sync: %s/%s, %zu ahead, %zu behind (as of the last fetch), last sync %s\n",
		       st->remote, st->branch, st->ahead, st->behind, when);
	else
		printf("sync: %s/%s, never fetched, last sync %s\n", st->remote, st->branch, when);
}

static json_t *sync_json(const kb_sync_state *st)
{
	json_t *o;

	if (!st->remote[0])
		return json_null();
	o = json_object();
	json_object_set_new(o, "remote", cli_json_str(st->remote));
	json_object_set_new(o, "branch", cli_json_str(st->branch));
	json_object_set_new(o, "tracked", json_boolean(st->tracked));
	json_object_set_new(o, "ahead", json_integer((json_int_t)st->ahead));
	json_object_set_new(o, "behind", json_integer((json_int_t)st->behind));
	json_object_set_new(o, "last_sync", st->last_sync ? json_integer(st->last_sync) : json_null());
	return o;
}

static int print_json(const kb_summary *sum, const kb_sync_state *sync)
{
	json_t *o = json_object(), *counts = json_object(), *drafts = json_array(),
	       *edited = json_array(), *d;
	kb_status st;
	size_t i;

	for (st = KB_STATUS_UNKNOWN; st <= KB_STATUS_OBSOLETE; st++)
		json_object_set_new(counts, kb_status_name(st), json_integer((json_int_t)sum->counts[st]));
	for (i = 0; i < sum->ndrafts && i < PENDING_SHOWN; i++) {
		d = json_object();
		json_object_set_new(d, "id", cli_json_str(sum->drafts[i].id));
		json_object_set_new(d, "created", cli_json_str(sum->drafts[i].created));
		json_object_set_new(d, "title", cli_json_str(sum->drafts[i].title));
		json_array_append_new(drafts, d);
	}
	for (i = 0; i < sum->nedited; i++)
		json_array_append_new(edited, cli_json_str(sum->edited[i]));
	json_object_set_new(o, "schema_version", json_integer(1));
	json_object_set_new(o, "total", json_integer((json_int_t)sum->total));
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "pending_review", json_integer((json_int_t)sum->ndrafts));
	json_object_set_new(o, "drafts", drafts);
	json_object_set_new(o, "uncommitted", edited);
	json_object_set_new(o, "head", sum->head[0] ? json_string(sum->head) : json_null());
	json_object_set_new(o, "sync", sync_json(sync));
	json_object_set_new(o, "outside_layout", json_integer((json_int_t)sum->misplaced));
	return cli_json_print(o);
}

/* `kb status ID --set STATUS`. */
static int set_status(kb_store *s, const status_args *a)
{
	kb_diags diags = KB_DIAGS_INIT;
	kb_author who = { NULL, NULL };
	kb_status to = kb_status_parse(a->set);
	char oid[41] = "";
	int rc;

	if (to != KB_STATUS_VALIDATED && to != KB_STATUS_ARCHIVED && to != KB_STATUS_OBSOLETE)
		return cli_usage_error("--set takes validated, archived or obsolete, not '%s'", a->set);
	if (a->superseded_by && to != KB_STATUS_OBSOLETE)
		return cli_usage_error("--superseded-by needs --set obsolete");
	if ((rc = cli_author(&who, s)))
		return rc;
	if (kb_lifecycle_set(s, a->id, to, a->superseded_by, &who, &diags, oid) < 0) {
		cli_print_diags(stderr, &diags, NULL);
		rc = cli_fail();
	} else {
		printf("%s is now %s (%.10s)\n", a->id, kb_status_name(to), oid);
	}
	kb_diags_release(&diags);
	kb_author_release(&who);
	return rc;
}

int cmd_status(int argc, char **argv)
{
	status_args a = { 0, NULL, NULL, NULL };
	kb_summary sum;
	kb_sync_state st;
	kb_store *s = NULL;
	int rc;

	if ((rc = parse_args(&a, argc, argv)))
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open_store(&s)))
		return rc;
	if (a.set) {
		rc = set_status(s, &a);
		goto done;
	}
	if (kb_summary_get(&sum, s) < 0) {
		rc = cli_fail();
		goto done;
	}
	kb_sync_state_get(&st, s);
	if (a.json) {
		rc = print_json(&sum, &st);
	} else {
		print_text(&sum);
		print_sync(&st);
	}
	kb_summary_release(&sum);
done:
	kb_store_free(s);
	return rc;
}
