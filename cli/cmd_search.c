/*
 * cmd_search.c - the index verbs: `kb search` (kb's query syntax),
 * `kb similar` (more-like-this from a description or a case) and
 * `kb reindex` (bring the index up to date, or rebuild it).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <getopt.h>

#include "cli.h"
#include "commands.h"
#include "kb/gaps.h"

static const char search_usage[] =
	"usage: kb search [--limit N] [--equipment E] [--model M] [--site S]\n"
	"                 [--status S] [--since YYYY-MM-DD] [--json] QUERY...\n\n"
	"Full-text search of the KB (the index is brought up to date first).  QUERY\n"
	"words must all match; \"a phrase\", -word to exclude, field:word (title,\n"
	"symptom, cause, resolution, ...), a OR b.  Put -- before a query that starts\n"
	"with '-'.  Prints per hit \"ID  score  title\" and an indented snippet with the\n"
	"matched terms in bold on a terminal, between [ and ] otherwise.\n\n"
	"  --limit N      at most N hits (default 10)\n"
	"  --equipment E, --model M, --site S, --status S   exact filters\n"
	"  --since DATE   cases created or updated on or after DATE\n"
	"  --json         print one JSON array of hits, best first (docs/json.md)\n\n"
	"exit: 0 hits found, 1 no hits, 2 usage error or not a KB, 3 internal error\n";

static const char similar_usage[] =
	"usage: kb similar [--case ID] [--file F] [--explain] [--limit N] [--equipment E]\n"
	"                  [--model M] [--site S] [--status S] [--since DATE] [--json]\n"
	"                  [TEXT...]\n\n"
	"Find the cases most like a fault description: TEXT, else the contents of\n"
	"--file F, else stdin when it is not a terminal; or, with --case ID, like that\n"
	"case (which is left out).  Output as for `kb search`.\n\n"
	"  --explain      print why each hit matched (the shared terms per field)\n"
	"  --limit N      at most N hits (default 10)\n"
	"  --json         print one JSON array of hits, best first (docs/json.md)\n\n"
	"exit: 0 hits found, 1 no hits or no such case, 2 usage error, 3 internal\n";

static const char reindex_usage[] =
	"usage: kb reindex [--full] [--json]\n\n"
	"Bring the search index (a cache in the git directory) up to date with HEAD and\n"
	"the work tree, or with --full drop it and index every case again.  Prints the\n"
	"counts on stdout and the time taken on stderr; case files that do not parse\n"
	"are reported as warnings and skipped.\n\n"
	"  --full   rebuild from scratch\n"
	"  --json   print the counts as a JSON object (docs/json.md)\n\n"
	"exit: 0 ok, 2 not a KB, 3 internal error\n";

typedef struct {
	kb_search_options so;
	int json;
	const char *case_id;
	const char *file;
} index_options;

/* A calendar date written YYYY-MM-DD. */
static int is_date(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	return end && !*end && strlen(s) == 10;
}

/* Options only `kb similar` takes; 0 when c is not one of them. */
static int similar_option(index_options *o, int c)
{
	switch (c) {
	case 'x': o->so.explain = 1; return 1;
	case 'c': o->case_id = optarg; return 1;
	case 'f': o->file = optarg; return 1;
	default: return 0;
	}
}

/* Options of search and similar; returns -1 after --help. */
static int parse_options(index_options *o, int argc, char **argv, const char *usage,
			 int similar)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "equipment", required_argument, NULL, 'e' },
		{ "model", required_argument, NULL, 'm' }, { "site", required_argument, NULL, 's' },
		{ "status", required_argument, NULL, 'S' }, { "since", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' }, { "explain", no_argument, NULL, 'x' },
		{ "case", required_argument, NULL, 'c' }, { "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hn:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_limit(&o->so.limit, "--limit", optarg))
				return CLI_USAGE;
			break;
		case 'e': o->so.equipment = optarg; break;
		case 'm': o->so.model = optarg; break;
		case 's': o->so.site = optarg; break;
		case 'S': o->so.status = optarg; break;
		case 'D':
			if (!is_date(optarg))
				return cli_usage_error("option '--since' wants YYYY-MM-DD, not '%s'",
						       optarg);
			o->so.since = optarg;
			break;
		case 'j': o->json = 1; break;
		case 'h': fputs(usage, stdout); return -1;
		default:
			if (similar && similar_option(o, c))
				break;
			if (c != '?')
				fprintf(stderr, "kb: option '%s' is not known to %s\n",
					argv[optind - 1], argv[0]);
			fputs(usage, stderr);
			return CLI_USAGE;
		}
	}
	return 0;
}

/* Bold on a colour terminal, [ ] otherwise (also in JSON). */
static void set_markers(index_options *o)
{
	if (cli.color && !o->json) {
		o->so.hl_open = "\033[1m";
		o->so.hl_close = "\033[0m";
	} else {
		o->so.hl_open = "[";
		o->so.hl_close = "]";
	}
}

/* Open the KB and its index (brought up to date).  Returns an exit code. */
static int open_index(kb_store **s, kb_index **idx)
{
	int rc;

	if ((rc = cli_open_store(s)))
		return rc;
	if (kb_index_open_store(idx, *s) < 0)
		return cli_fail();
	return 0;
}

/* Print the hits, or say that nothing matched (exit 1; JSON: []). */
static int finish(kb_hits *hits, const index_options *o, const char *what)
{
	if (hits->count == 0) {
		fprintf(stderr, "kb: no cases match %s\n", what);
		if (o->json)
			cli_json_print(json_array());
		return CLI_NOTHING;
	}
	return cli_print_hits(hits, o->json, o->so.explain);
}

int cmd_search(int argc, char **argv)
{
	index_options o = { KB_SEARCH_OPTIONS_INIT, 0, NULL, NULL };
	kb_buf query = KB_BUF_INIT, what = KB_BUF_INIT;
	kb_hits hits = KB_HITS_INIT;
	kb_store *s = NULL;
	kb_index *idx = NULL;
	int rc;

	if ((rc = parse_options(&o, argc, argv, search_usage, 0)))
		return rc < 0 ? CLI_OK : rc;
	if (optind == argc)
		return cli_usage_error("search needs a query");
	cli_join_args(&query, argc - optind, argv + optind);
	set_markers(&o);
	/* without git when the index is provably current (kb/index.h) */
	if (kb_index_open_current(&idx, cli.kb_dir ? cli.kb_dir : ".") != 0 &&
	    (rc = open_index(&s, &idx)))
		goto done;
	if (kb_index_search(idx, query.ptr, &o.so, &hits) < 0) {
		rc = cli_fail();
		goto done;
	}
	/* best effort (docs/audit.md); a search is a gap only without hits */
	if (s || (hits.count == 0 && kb_store_open(&s, cli.kb_dir ? cli.kb_dir : ".") == 0))
		kb_gaps_record(s, "search", query.ptr, &hits);
	kb_buf_printf(&what, "'%s'", query.ptr);
	rc = finish(&hits, &o, what.ptr);
done:
	kb_hits_release(&hits);
	kb_index_close(idx);
	kb_store_free(s);
	kb_buf_release(&query);
	kb_buf_release(&what);
	return rc;
}

/* The description: TEXT args, else --file, else stdin when not a TTY. */
static int similar_text(kb_buf *text, const index_options *o, int argc, char **argv)
{
	if (argc > 0) {
		cli_join_args(text, argc, argv);
		return 0;
	}
	if (o->file || !isatty(STDIN_FILENO)) {
		if (cli_read_file(text, o->file ? o->file : "-", KB_CASE_MAX_BYTES) < 0)
			return cli_fail();
		if (text->len == 0 || strspn(text->ptr, " \t\r\n") == text->len)
			return cli_usage_error("similar needs a description: '%s' is empty",
					       o->file ? o->file : "<stdin>");
		return 0;
	}
	return cli_usage_error("similar needs a description: TEXT, --file F or stdin");
}

int cmd_similar(int argc, char **argv)
{
	index_options o = { KB_SEARCH_OPTIONS_INIT, 0, NULL, NULL };
	kb_buf text = KB_BUF_INIT;
	kb_hits hits = KB_HITS_INIT;
	kb_store *s = NULL;
	kb_index *idx = NULL;
	int rc;

	if ((rc = parse_options(&o, argc, argv, similar_usage, 1)))
		return rc < 0 ? CLI_OK : rc;
	if (o.case_id && (optind < argc || o.file))
		return cli_usage_error("--case excludes TEXT and --file");
	if (!o.case_id && (rc = similar_text(&text, &o, argc - optind, argv + optind)))
		return rc;
	set_markers(&o);
	if ((rc = open_index(&s, &idx)))
		goto done;
	if (o.case_id)
		rc = kb_index_similar_case(idx, o.case_id, &o.so, &hits);
	else
		rc = kb_index_similar(idx, text.ptr, &o.so, &hits);
	if (rc == 0 && !o.case_id)
		kb_gaps_record(s, "similar", text.ptr, &hits);  /* best effort */
	rc = rc < 0 ? cli_fail() : finish(&hits, &o, o.case_id ? o.case_id : "the description");
done:
	kb_hits_release(&hits);
	kb_index_close(idx);
	kb_store_free(s);
	kb_buf_release(&text);
	return rc;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Counts of `kb reindex` as a line or a JSON object (docs/json.md). */
static int print_stats(const kb_index_stats *st, int64_t total, int json)
{
	json_t *o;

	if (!json) {
		printf("%s: %zu added, %zu updated, %zu removed, %lld cases indexed at %.10s\n",
		       st->rebuilt ? "rebuilt" : "up to date", st->added, st->updated, st->removed,
		       (long long)total, st->commit);
		return CLI_OK;
	}
	o = json_object();
	json_object_set_new(o, "schema_version", json_integer(1));
	json_object_set_new(o, "rebuilt", json_boolean(st->rebuilt));
	json_object_set_new(o, "added", json_integer((json_int_t)st->added));
	json_object_set_new(o, "updated", json_integer((json_int_t)st->updated));
	json_object_set_new(o, "removed", json_integer((json_int_t)st->removed));
	json_object_set_new(o, "cases", json_integer((json_int_t)total));
	json_object_set_new(o, "commit", json_string(st->commit));
	return cli_json_print(o);
}

/*
 * kb_index_open_store() already syncs (without reporting what it did, and
 * without asking git's status when nothing seems to have moved); the full
 * kb_index_sync() after it also catches files edited in place, and its
 * counts are what this run changed on top of the open.  A libkb
 * kb_index_open_store_stats() would report both (see docs/cli.md).
 */
int cmd_reindex(int argc, char **argv)
{
	static const struct option opts[] = { { "full", no_argument, NULL, 'F' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	kb_index_stats st;
	kb_diags diags = KB_DIAGS_INIT;
	struct timespec t0;
	kb_store *s = NULL;
	kb_index *idx = NULL;
	int c, full = 0, json = 0, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'F' || c == 'j') {
			*(c == 'F' ? &full : &json) = 1;
			continue;
		}
		fputs(reindex_usage, c == 'h' ? stdout : stderr);
		return c == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s'", argv[optind]);
	memset(&st, 0, sizeof(st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = open_index(&s, &idx)))
		goto done;
	if ((full ? kb_index_rebuild(idx, s, &st, &diags) : kb_index_sync(idx, s, &st, &diags)) < 0) {
		rc = cli_fail();
		goto done;
	}
	cli_print_diags(stderr, &diags, NULL);
	rc = print_stats(&st, kb_index_count(idx), json);
	fprintf(stderr, "kb: reindex took %.3f s\n", seconds_since(&t0));
done:
	kb_diags_release(&diags);
	kb_index_close(idx);
	kb_store_free(s);
	return rc;
}
