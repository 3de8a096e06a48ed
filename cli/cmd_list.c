/*
 * cmd_list.c - `kb list`: the cases of the work tree as an aligned table
 * (ID, status, equipment, title) or JSON, filtered by front-matter fields.
 * Files that do not parse are reported on stderr and skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <getopt.h>

#include "cli.h"
#include "commands.h"

static const char usage_text[] =
	"usage: kb list [--equipment E] [--model M] [--site S] [--status S] [--tag T]\n"
	"               [--author A] [--json]\n\n"
	"List the cases of the work tree (including uncommitted files) in path order:\n"
	"ID, status, equipment and title, aligned; on a terminal the title is cut to\n"
	"the terminal's width.  Filters compare case-insensitively: --equipment,\n"
	"--model, --site and --status the whole value, --tag one of the tags, --author\n"
	"any part of the author (name or email).\n\n"
	"  --json   print one JSON array (docs/json.md)\n\n"
	"exit: 0 cases listed, 1 no case matches, 2 usage error\n";

typedef struct {
	const char *equipment, *model, *site, *status, *tag, *author;
} list_filters;

typedef struct {
	char *id, *status, *equipment, *title;
	json_t *json;
} list_row;

typedef struct {
	list_filters f;
	const kb_aliases *aliases;
	list_row *rows;
	size_t count, alloc;
	int json;
} list_state;

/* An unset filter matches anything; otherwise equal ignoring case. */
static int same(const char *want, const char *have)
{
	return !want || (have && !strcasecmp(want, have));
}

static int has_tag(const kb_case *c, const char *tag)
{
	const char *const *items;
	size_t i, n;

	if (!tag)
		return 1;
	n = kb_case_get_list(c, "tags", &items);
	for (i = 0; i < n; i++)
		if (!strcasecmp(items[i], tag))
			return 1;
	return 0;
}

/* 1 when the case passes every filter given. */
static int matches(const list_filters *f, const kb_case *c)
{
	const char *author = kb_case_get(c, "author");

	return same(f->equipment, kb_case_get(c, "equipment")) &&
	       same(f->model, kb_case_get(c, "model")) && same(f->site, kb_case_get(c, "site")) &&
	       same(f->status, kb_case_get(c, "status")) && has_tag(c, f->tag) &&
	       (!f->author || (author && strcasestr(author, f->author)));
}

/* One case of `kb list --json` (docs/json.md). */
static json_t *row_json(const kb_case *c, const char *relpath)
{
	static const char *const keys[] = { "equipment", "model", "site", "status", "author",
					    "created", "updated" };
	const char *const *items;
	json_t *o = json_object(), *tags = json_array();
	size_t i, n;

	json_object_set_new(o, "id", cli_json_str(kb_case_id(c)));
	json_object_set_new(o, "title", cli_json_str(kb_case_title(c)));
	json_object_set_new(o, "path", cli_json_str(relpath));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		json_object_set_new(o, keys[i], cli_json_str(kb_case_get(c, keys[i])));
	n = kb_case_get_list(c, "tags", &items);
	for (i = 0; i < n; i++)
		json_array_append_new(tags, cli_json_str(items[i]));
	json_object_set_new(o, "tags", tags);
	return o;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* kb_store_foreach_case_file() callback: parse one file, keep the row if
 * it matches; a file that does not parse is a warning, not a failure. */
static int one_file(const char *relpath, const char *text, size_t len, void *payload)
{
	list_state *st = payload;
	kb_error e;
	char msg[4096];
	kb_case *c = NULL;
	list_row *r;

	if (kb_case_parse(&c, text, len, relpath, st->aliases) < 0) {
		e = *kb_error_last();
		e.path = e.path ? e.path : relpath;
		cli_warn("%s", kb_error_format(&e, msg, sizeof(msg)));
		return 0;
	}
	if (matches(&st->f, c)) {
		if (st->count == st->alloc) {
			st->alloc = st->alloc ? 2 * st->alloc : 64;
			st->rows = kb_xrealloc(st->rows, st->alloc * sizeof(*st->rows));
		}
		r = &st->rows[st->count++];
		r->id = kb_xstrdup(kb_case_id(c));
		r->status = kb_xstrdup(or_dash(kb_case_get(c, "status")));
		r->equipment = kb_xstrdup(or_dash(kb_case_get(c, "equipment")));
		r->title = kb_xstrdup(kb_case_title(c));
		r->json = st->json ? row_json(c, relpath) : NULL;
	}
	kb_case_free(c);
	return 0;
}

static void widen(size_t *w, const char *s)
{
	size_t n = cli_display_width(s);

	if (n > *w)
		*w = n;
}

/* Columns id, status, equipment padded to their widest cell; the title
 * is cut to the terminal's width on a terminal only. */
static void print_table(const list_state *st)
{
	size_t i, w[3] = { 0, 0, 0 }, term = cli_term_width(), used;

	for (i = 0; i < st->count; i++) {
		widen(&w[0], st->rows[i].id);
		widen(&w[1], st->rows[i].status);
		widen(&w[2], st->rows[i].equipment);
	}
	used = w[0] + w[1] + w[2] + 6;
	for (i = 0; i < st->count; i++) {
		cli_print_padded(stdout, st->rows[i].id, w[0] + 2);
		cli_print_padded(stdout, st->rows[i].status, w[1] + 2);
		cli_print_padded(stdout, st->rows[i].equipment, w[2] + 2);
		if (term)
			cli_print_cut(stdout, st->rows[i].title, term > used + 10 ? term - used - 1 : 10);
		else
			fputs(st->rows[i].title, stdout);
		fputc('\n', stdout);
	}
}

static int parse_options(list_state *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "equipment", required_argument, NULL, 'e' },
		{ "model", required_argument, NULL, 'm' }, { "site", required_argument, NULL, 's' },
		{ "status", required_argument, NULL, 'S' }, { "tag", required_argument, NULL, 't' },
		{ "author", required_argument, NULL, 'a' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e': st->f.equipment = optarg; break;
		case 'm': st->f.model = optarg; break;
		case 's': st->f.site = optarg; break;
		case 'S': st->f.status = optarg; break;
		case 't': st->f.tag = optarg; break;
		case 'a': st->f.author = optarg; break;
		case 'j': st->json = 1; break;
		case 'h': fputs(usage_text, stdout); return -1;
		default: fputs(usage_text, stderr); return CLI_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Print the table or the JSON array; CLI_NOTHING when no case matched. */
static int print_rows(list_state *st)
{
	json_t *arr;
	size_t i;

	if (st->count == 0) {
		fprintf(stderr, "kb: no cases match\n");
		return st->json ? (cli_json_print(json_array()), CLI_NOTHING) : CLI_NOTHING;
	}
	if (!st->json) {
		print_table(st);
		return CLI_OK;
	}
	arr = json_array();
	for (i = 0; i < st->count; i++) {
		json_array_append_new(arr, st->rows[i].json);
		st->rows[i].json = NULL;
	}
	return cli_json_print(arr);
}

int cmd_list(int argc, char **argv)
{
	list_state st;
	kb_store *s = NULL;
	size_t i;
	int rc;

	memset(&st, 0, sizeof(st));
	if ((rc = parse_options(&st, argc, argv)))
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open_store(&s)))
		return rc;
	st.aliases = kb_config_aliases(kb_store_config(s));
	if (kb_store_foreach_case_file(s, one_file, &st) < 0)
		rc = cli_fail();
	else
		rc = print_rows(&st);
	for (i = 0; i < st.count; i++) {
		free(st.rows[i].id);
		free(st.rows[i].status);
		free(st.rows[i].equipment);
		free(st.rows[i].title);
		json_decref(st.rows[i].json);
	}
	free(st.rows);
	kb_store_free(s);
	return rc;
}
