/*
 * cmd_review.c - `kb review`: list drafts oldest first, show one draft with
 * its likely duplicates, or record a decision on it (accept, reject,
 * merge) as one commit by the reviewer (kb/import.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "kb/import.h"

static const char usage_text[] =
	"usage: kb review [--json]\n"
	"       kb review ID\n"
	"       kb review ID --accept [--reviewer 'Name <email>']\n"
	"       kb review ID --reject --reason TEXT [--reviewer 'Name <email>']\n"
	"       kb review ID --merge INTO [--reviewer 'Name <email>']\n\n"
	"Without ID, list draft cases oldest first (id, created, author, title).\n"
	"With ID alone, show the draft (with its original text) and its likely\n"
	"duplicates.  A decision is one commit by the reviewer (--reviewer, else the\n"
	"commit author):\n"
	"  --accept        status validated, reviewer recorded; the case must validate\n"
	"  --reject        status archived with rejected_reason (--reason required)\n"
	"  --merge INTO    append the draft's sections to INTO, archive the draft\n\n"
	"exit: 0 ok, 1 no drafts, no such case or validation failed, 2 usage error\n";

typedef struct {
	char *id, *created, *author, *title;
} draft_row;

typedef struct {
	draft_row *items;
	size_t count, alloc;
	const kb_aliases *aliases;
} draft_list;

static char *dup_or_empty(const char *s)
{
	return kb_xstrdup(s ? s : "");
}

/* kb_store_foreach_case_file() callback: collect the drafts. */
static int collect_draft(const char *relpath, const char *text, size_t len, void *payload)
{
	draft_list *l = payload;
	kb_case *c = NULL;
	draft_row *r;

	if (kb_case_parse(&c, text, len, relpath, l->aliases) < 0)
		return 0;
	if (kb_case_status(c) == KB_STATUS_DRAFT) {
		if (l->count == l->alloc) {
			l->alloc = l->alloc ? 2 * l->alloc : 32;
			l->items = kb_xrealloc(l->items, l->alloc * sizeof(*l->items));
		}
		r = &l->items[l->count++];
		r->id = dup_or_empty(kb_case_id(c));
		r->created = dup_or_empty(kb_case_get(c, "created"));
		r->author = dup_or_empty(kb_case_get(c, "author"));
		r->title = dup_or_empty(kb_case_title(c));
	}
	kb_case_free(c);
	return 0;
}

static int cmp_draft(const void *a, const void *b)
{
	const draft_row *x = a, *y = b;
	int d = strcmp(x->created, y->created);

	return d ? d : strcmp(x->id, y->id);
}

static int list_drafts(kb_store *s, int json)
{
	draft_list l = { NULL, 0, 0, kb_config_aliases(kb_store_config(s)) };
	json_t *arr, *o;
	size_t i;
	int rc;

	if ((rc = kb_store_foreach_case_file(s, collect_draft, &l)) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (l.count)
		qsort(l.items, l.count, sizeof(*l.items), cmp_draft);
	if (json) {
		arr = json_array();
		for (i = 0; i < l.count; i++) {
			o = json_object();
			json_object_set_new(o, "id", cli_json_str(l.items[i].id));
			json_object_set_new(o, "created", cli_json_str(l.items[i].created));
			json_object_set_new(o, "author", cli_json_str(l.items[i].author));
			json_object_set_new(o, "title", cli_json_str(l.items[i].title));
			json_array_append_new(arr, o);
		}
		cli_json_print(arr);
	}
	for (i = 0; !json && i < l.count; i++) {
		cli_print_padded(stdout, l.items[i].id, 12);
		cli_print_padded(stdout, l.items[i].created, 12);
		cli_print_padded(stdout, l.items[i].author, 16);
		printf("%s\n", l.items[i].title);
	}
	if (!json)
		fprintf(stderr, "%zu draft%s\n", l.count, l.count == 1 ? "" : "s");
	rc = l.count ? CLI_OK : CLI_NOTHING;
done:
	for (i = 0; i < l.count; i++) {
		free(l.items[i].id);
		free(l.items[i].created);
		free(l.items[i].author);
		free(l.items[i].title);
	}
	free(l.items);
	return rc;
}

/* The draft's file, then its likely duplicates. */
static int show_draft(kb_store *s, const char *id)
{
	kb_search_options so = KB_SEARCH_OPTIONS_INIT;
	kb_hits hits = KB_HITS_INIT;
	kb_buf rel = KB_BUF_INIT, text = KB_BUF_INIT;
	kb_index *idx = NULL;
	size_t i;
	int rc = 0;

	so.limit = 5;
	if (kb_store_case_locate(&rel, s, id) < 0 ||
	    kb_store_read_file(&text, s, rel.ptr, KB_CASE_MAX_BYTES) < 0) {
		rc = cli_fail_at(rel.len ? rel.ptr : id);
		goto done;
	}
	fwrite(text.ptr, 1, text.len, stdout);
	if (kb_index_open_store(&idx, s) < 0 || kb_index_similar_case(idx, id, &so, &hits) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("\n## Likely duplicates\n\n");
	for (i = 0; i < hits.count; i++)
		printf("%-12s %.2f  %s\n", hits.items[i].id, hits.items[i].score, hits.items[i].title);
	if (!hits.count)
		printf("(none)\n");
done:
	kb_hits_release(&hits);
	kb_index_close(idx);
	kb_buf_release(&rel);
	kb_buf_release(&text);
	return rc;
}

typedef struct {
	int accept, reject, json;
	const char *merge, *reason, *reviewer;
} review_args;

static int parse_args(review_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "accept", no_argument, NULL, 'a' }, { "reject", no_argument, NULL, 'r' },
		{ "merge", required_argument, NULL, 'm' }, { "reason", required_argument, NULL, 'R' },
		{ "reviewer", required_argument, NULL, 'v' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 }
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'a')
			a->accept = 1;
		else if (c == 'r')
			a->reject = 1;
		else if (c == 'm')
			a->merge = optarg;
		else if (c == 'R')
			a->reason = optarg;
		else if (c == 'v')
			a->reviewer = optarg;
		else if (c == 'j')
			a->json = 1;
		else {
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? -1 : CLI_USAGE;
		}
	}
	if (a->accept + a->reject + (a->merge != NULL) > 1)
		return cli_usage_error("choose one of --accept, --reject and --merge");
	if (a->reject && (!a->reason || !*a->reason))
		return cli_usage_error("--reject needs --reason TEXT");
	if (optind + 1 < argc)
		return cli_usage_error("review takes at most one case id");
	if (optind == argc && (a->accept || a->reject || a->merge))
		return cli_usage_error("a decision needs a case id");
	return 0;
}

static int decide(kb_store *s, const review_args *a, const char *id)
{
	kb_diags diags = KB_DIAGS_INIT;
	kb_author who = { 0 };
	char oid[41] = "";
	int rc;

	if (kb_store_author(&who, s, a->reviewer ? a->reviewer : cli.author) < 0)
		return cli_fail();
	if (a->accept)
		rc = kb_review_accept(s, id, &who, &diags, oid);
	else if (a->reject)
		rc = kb_review_reject(s, id, a->reason, &who, oid);
	else
		rc = kb_review_merge(s, id, a->merge, &who, oid);
	if (rc < 0) {
		cli_print_diags(stderr, &diags, NULL);
		rc = cli_fail();
	} else {
		printf("%s %s%s%s (%.7s)\n", a->accept ? "accepted" : a->reject ? "rejected" : "merged",
		       id, a->merge ? " into " : "", a->merge ? a->merge : "", oid);
	}
	kb_diags_release(&diags);
	kb_author_release(&who);
	return rc;
}

int cmd_review(int argc, char **argv)
{
	review_args a = { 0 };
	kb_store *s = NULL;
	int rc;

	if ((rc = parse_args(&a, argc, argv)))
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open_store(&s)))
		return rc;
	if (optind == argc)
		rc = list_drafts(s, a.json);
	else if (a.accept || a.reject || a.merge)
		rc = decide(s, &a, argv[optind]);
	else
		rc = show_draft(s, argv[optind]);
	kb_store_free(s);
	return rc;
}
