/*
 * cmd_duplicates.c - `kb duplicates`: pairs of cases that may describe the
 * same fault, for review (kb_index_duplicates in libkb does the work).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char usage_text[] =
	"usage: kb duplicates [--threshold X] [--status S[,S...]] [--limit N] [--all] [--json]\n\n"
	"List pairs of cases that may describe the same fault, best first: the\n"
	"similar-case lookup of every case (widened with synonyms.txt so a case and\n"
	"its translation meet), each pair once with the better of its two scores.\n"
	"Pairs already linked (links, duplicate_of, supersedes, caused_by) are left\n"
	"out.  Prints \"score  ID  ID\" and both titles.\n\n"
	"  --threshold X  pairs scoring at least X (default 0.25; 1 = identical)\n"
	"  --status S     pairs where either case has status S (comma-separated list)\n"
	"  --limit N      at most N pairs\n"
	"  --all          also pairs that are already linked\n"
	"  --json         print one JSON array of pairs (docs/json.md)\n\n"
	"exit: 0 pairs found, 1 none, 2 usage error or not a KB, 3 internal error\n";

static int parse_threshold(double *out, const char *s)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !(*out > 0 && *out <= 10))
		return cli_usage_error("option '--threshold' wants a number above 0 and at most 10,"
				       " not '%s'", s);
	return 0;
}

/* Each item of a comma-separated status list is a known status. */
static int check_status(const char *list)
{
	kb_buf item = KB_BUF_INIT;
	const char *p = list;
	int rc = 0;

	while (rc == 0) {
		const char *e = strchr(p, ',');

		kb_buf_clear(&item);
		kb_buf_put(&item, p, e ? (size_t)(e - p) : strlen(p));
		if (kb_status_parse(item.ptr ? item.ptr : "") == KB_STATUS_UNKNOWN)
			rc = cli_usage_error("unknown status '%s' in '--status': draft, validated,"
					     " archived or obsolete", item.ptr ? item.ptr : "");
		if (!e)
			break;
		p = e + 1;
	}
	kb_buf_release(&item);
	return rc;
}

static int parse_args(kb_duplicates_options *o, int *json, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threshold", required_argument, NULL, 't' }, { "status", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' }, { "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 't' && parse_threshold(&o->threshold, optarg))
			return CLI_USAGE;
		else if (c == 'S' && check_status(optarg))
			return CLI_USAGE;
		else if (c == 'S')
			o->status = optarg;
		else if (c == 'n' && cli_parse_limit(&o->limit, "--limit", optarg))
			return CLI_USAGE;
		else if (c == 'a')
			o->include_linked = 1;
		else if (c == 'j')
			*json = 1;
		else if (c == 'h') {
			fputs(usage_text, stdout);
			return -1;
		} else if (c != 't' && c != 'n') {
			fputs(usage_text, stderr);
			return CLI_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

static int print_json(const kb_duplicate *d, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "a", cli_json_str(d[i].a));
		json_object_set_new(o, "b", cli_json_str(d[i].b));
		json_object_set_new(o, "title_a", cli_json_str(d[i].title_a));
		json_object_set_new(o, "title_b", cli_json_str(d[i].title_b));
		json_object_set_new(o, "score", json_real(d[i].score));
		json_array_append_new(a, o);
	}
	return cli_json_print(a);
}

static void print_text(const kb_duplicate *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		printf("%.2f  %s  %s\n", d[i].score, d[i].a, d[i].b);
		printf("    %s: %s\n    %s: %s\n", d[i].a, d[i].title_a, d[i].b, d[i].title_b);
	}
}

int cmd_duplicates(int argc, char **argv)
{
	kb_duplicates_options o = KB_DUPLICATES_OPTIONS_INIT;
	kb_duplicate *d = NULL;
	kb_store *s = NULL;
	kb_index *idx = NULL;
	size_t n = 0;
	int json = 0, rc;

	if ((rc = parse_args(&o, &json, argc, argv)))
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open_store(&s)))
		return rc;
	if (kb_index_open_store(&idx, s) < 0 || kb_index_duplicates(&d, &n, idx, s, &o) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (n == 0)
		fprintf(stderr, "kb: no pairs of cases score %.2f or more\n",
			o.threshold > 0 ? o.threshold : KB_DUPLICATES_THRESHOLD);
	if (json)
		rc = print_json(d, n);
	else
		print_text(d, n);
	if (rc == 0 && n == 0)
		rc = CLI_NOTHING;
done:
	kb_duplicates_free(d, n);
	kb_index_close(idx);
	kb_store_free(s);
	return rc;
}
