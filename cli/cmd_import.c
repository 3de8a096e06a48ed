/*
 * cmd_import.c - `kb import notes PATH...`, `kb import csv FILE` and
 * `kb import mail FILE|DIR...`, `kb import http URL`: run the import
 * pipeline (kb/import.h) on notebooks, exports, mail or a JSON source and
 * print one line
 * per record, a summary on stderr, or the whole result as JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "kb/import.h"

static const char usage_text[] =
	"usage: kb import notes [options] PATH...\n"
	"       kb import csv [options] --map FIELD=COLUMN,... FILE\n"
	"       kb import mail [options] FILE|DIR...\n"
	"       kb import http [options] --map FIELD=KEY,... URL\n\n"
	"Turn plain-text and Markdown notebooks (files, or every *.txt and *.md below\n"
	"a directory) into draft cases, in ONE commit \"Import N notes from FILE\".\n"
	"Notes already imported (same source_hash) are skipped; a note similar to an\n"
	"existing case is still created as a draft, with links and duplicate_of set.\n"
	"Phone numbers, e-mails, resident id numbers and redact.customer names are\n"
	"masked unless --no-redact is given.\n\n"
	"csv: one record per row of a UTF-8 or GBK/GB18030 export (',' ';' or tab);\n"
	"--map maps case fields (date, site, equipment, equipment_id, title, symptom,\n"
	"checks, cause, resolution, author) to columns; default kb.conf import.csvMap.\n\n"
	"mail: .eml and mbox files (or every *.eml, *.mbox, *.mbx below a directory);\n"
	"a thread (References/In-Reply-To, else the subject without Re:/Fwd:) is one\n"
	"draft, its messages oldest first without quoted '>' lines.\n\n"
	"http: a JSON array of objects (or one under items, data or results) from a\n"
	"REST source; --map maps case fields to members; TLS verified, 3 retries.\n\n"
	"  --split MODE     auto (default), whole, separator, heading or date\n"
	"  --year N         year for dates written without one\n"
	"  --dry-run        print what would happen, write nothing\n"
	"  --no-redact      keep personal data as written\n"
	"  --threshold X    duplicate score (default import.duplicateThreshold, else 0.5)\n"
	"  --merge          fold a duplicate into the existing case instead of adding a\n"
	"                   linked draft (sections appended, provenance recorded)\n"
	"  --json           print the result as JSON\n"
	"  --progress       draw a progress bar on stderr even when it is not a terminal\n"
	"  --no-progress    never draw one (default: only on a terminal)\n"
	"  --map MAP        csv, http: field=Column pairs separated by ','\n"
	"  --save-map NAME  csv, http: save the map in kb.conf (import.NAME.map), committed\n"
	"                   with the import\n"
	"  --map-name NAME  csv, http: use the map saved as NAME instead of --map\n"
	"  --token-env VAR  http: bearer token from environment variable VAR\n"
	"  --page-param P   http: request ?P=1, 2, ... until an empty page\n"
	"  --max-pages N    http: stop after N pages (default 1000)\n"
	"  --timeout S      http: seconds per request (default 30)\n\n"
	"exit: 0 something imported or everything already present, 1 nothing could be\n"
	"imported, 2 bad input (nothing written), 3 internal error\n";

/* The progress bar on stderr: redrawn at most 10 times a second. */
typedef struct {
	int on;
	int drawn;             /* something is on the line */
	double start, last;    /* seconds */
	long pause_after;      /* KB_TEST_IMPORT_PAUSE (tests only) */
} progress_bar;

typedef struct {
	kb_import_options o;
	progress_bar bar;
	int json;
	const char *map;
	kb_import_http_options h;
	const char *token_env;
} import_args;

static int parse_number(double *out, const char *name, const char *s, double lo, double hi)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || *out < lo || *out > hi)
		return cli_usage_error("option '%s' wants a number from %g to %g, not '%s'",
				       name, lo, hi, s);
	return 0;
}

static int parse_args(import_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "split", required_argument, NULL, 's' }, { "year", required_argument, NULL, 'y' },
		{ "dry-run", no_argument, NULL, 'n' }, { "no-redact", no_argument, NULL, 'R' },
		{ "threshold", required_argument, NULL, 't' }, { "json", no_argument, NULL, 'j' },
		{ "map", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{ "token-env", required_argument, NULL, 'T' },
		{ "page-param", required_argument, NULL, 'P' },
		{ "max-pages", required_argument, NULL, 'M' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "merge", no_argument, NULL, 'g' },
		{ "save-map", required_argument, NULL, 'S' },
		{ "map-name", required_argument, NULL, 'N' },
		{ "progress", no_argument, NULL, 'p' }, { "no-progress", no_argument, NULL, 'q' },
		{ 0 }
	};
	double d;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 's' && kb_notes_mode_parse(&a->o.split, optarg) < 0)
			return cli_usage_error("unknown split mode '%s'", optarg);
		else if (c == 'y' && parse_number(&d, "--year", optarg, 1900, 2999))
			return CLI_USAGE;
		else if (c == 'y')
			a->o.year = (int)d;
		else if (c == 'n')
			a->o.dry_run = 1;
		else if (c == 'R')
			a->o.no_redact = 1;
		else if (c == 't' && parse_number(&a->o.threshold, "--threshold", optarg, 0.01, 100))
			return CLI_USAGE;
		else if (c == 'j')
			a->json = 1;
		else if (c == 'm')
			a->map = optarg;
		else if (c == 'T')
			a->token_env = optarg;
		else if (c == 'P')
			a->h.page_param = optarg;
		else if (c == 'M' && parse_number(&d, "--max-pages", optarg, 1, 1000000))
			return CLI_USAGE;
		else if (c == 'M')
			a->h.max_pages = (int)d;
		else if (c == 'o' && parse_number(&d, "--timeout", optarg, 0.1, 3600))
			return CLI_USAGE;
		else if (c == 'o')
			a->h.timeout_ms = (long)(d * 1000);
		else if (c == 'g')
			a->o.merge = 1;
		else if (c == 'S')
			a->o.save_map = optarg;
		else if (c == 'N')
			a->o.map_name = optarg;
		else if (c == 'p' || c == 'q')
			a->bar.on = c == 'p';
		else if (c == 'h' || c == '?') {
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? -1 : CLI_USAGE;
		}
	}
	return 0;
}

/* ---- the progress bar --------------------------------------------------- */

/* Erase the bar, so the results start on a clean line. */
static void progress_clear(progress_bar *bar)
{
	if (bar->drawn)
		fputs("\r\033[K", stderr);
	bar->drawn = 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "12.3 MB" */
static void put_size(kb_buf *b, unsigned long long n)
{
	if (n >= 1000000000ULL)
		kb_buf_printf(b, "%.2f GB", (double)n / 1e9);
	else if (n >= 1000000)
		kb_buf_printf(b, "%.1f MB", (double)n / 1e6);
	else
		kb_buf_printf(b, "%.0f kB", (double)n / 1e3);
}

/* "records 1234/5000  24%  [#####.....]  812/s  ETA 0:05" */
static void draw_bar(const kb_import_progress *p, double elapsed)
{
	kb_buf b = KB_BUF_INIT;
	double frac = -1, rate = elapsed > 0 ? (double)p->records / elapsed : 0;
	int i, eta;

	kb_buf_printf(&b, "\rimporting: %zu", p->records);
	if (p->records_total)
		kb_buf_printf(&b, "/%zu", p->records_total), frac = (double)p->records / (double)p->records_total;
	kb_buf_puts(&b, " records");
	if (p->bytes_total) {
		kb_buf_puts(&b, ", ");
		put_size(&b, p->bytes);
		kb_buf_puts(&b, " of ");
		put_size(&b, p->bytes_total);
		frac = (double)p->bytes / (double)p->bytes_total;
	}
	if (frac >= 0) {
		frac = frac > 1 ? 1 : frac;
		kb_buf_printf(&b, " %3d%% [", (int)(frac * 100));
		for (i = 0; i < 20; i++)
			kb_buf_putc(&b, i < (int)(frac * 20) ? '#' : '.');
		kb_buf_putc(&b, ']');
	}
	kb_buf_printf(&b, " %.0f/s", rate);
	if (frac > 0.01 && elapsed > 0.5) {
		eta = (int)(elapsed / frac - elapsed + 0.5);
		kb_buf_printf(&b, " ETA %d:%02d", eta / 60, eta % 60);
	}
	kb_buf_puts(&b, "\033[K");
	fputs(b.ptr, stderr);
	fflush(stderr);
	kb_buf_release(&b);
}

/* The library's progress callback: draws, and pauses for the SIGKILL test. */
static void on_progress(const kb_import_progress *p, void *payload)
{
	progress_bar *bar = payload;
	double t = now_s();

	if (bar->on && !p->finished && (!bar->drawn || t - bar->last >= 0.1)) {
		draw_bar(p, t - bar->start);
		bar->drawn = 1;
		bar->last = t;
	}
	if (bar->pause_after > 0 && !p->finished && p->records == (size_t)bar->pause_after) {
		fprintf(stderr, "%skb: test pause after %zu records\n", bar->drawn ? "\n" : "",
			p->records);
		fflush(stderr);
		sleep(120);
	}
	if (bar->on && p->finished) {
		fprintf(stderr, "\rimporting: %zu records read, writing the commit\033[K", p->records);
		fflush(stderr);
		bar->drawn = 1;
	}
}

static void print_text(const kb_import_result *r, int dry_run, int merge)
{
	const kb_import_record *rec;
	size_t i;

	for (i = 0; i < r->count; i++) {
		rec = &r->items[i];
		if (rec->action == KB_IMPORT_CREATED)
			printf("%s %s %s:%d\n", dry_run ? "would create" : "created", rec->id,
			       rec->source, rec->line);
		else if (rec->action == KB_IMPORT_DUPLICATE)
			printf("duplicate of %s %s:%d (%s %s, score %.2f)\n", rec->duplicate_of,
			       rec->source, rec->line, dry_run ? "would link" : "linked",
			       rec->id, rec->score);
		else if (rec->action == KB_IMPORT_MERGED)
			printf("%s %s %s:%d (score %.2f)\n", dry_run ? "would merge into" : "merged into",
			       rec->duplicate_of, rec->source, rec->line, rec->score);
		else
			printf("skipped %s:%d: %s\n", rec->source, rec->line, rec->reason);
	}
	fprintf(stderr, "%s%zu created, %zu duplicate%s linked, ", dry_run ? "dry run: " : "",
		r->created, r->duplicates, r->duplicates == 1 ? "" : "s");
	if (merge)
		fprintf(stderr, "%zu merged, ", r->merged);
	fprintf(stderr, "%zu skipped%s\n", r->skipped, dry_run ? ", nothing written" : "");
}

static int print_json(const kb_import_result *r, int dry_run)
{
	json_t *root = json_object(), *arr = json_array(), *o;
	const kb_import_record *rec;
	size_t i;

	for (i = 0; i < r->count; i++) {
		rec = &r->items[i];
		o = json_object();
		json_object_set_new(o, "action", json_string(kb_import_action_name(rec->action)));
		json_object_set_new(o, "id", cli_json_str(rec->id));
		json_object_set_new(o, "duplicate_of", cli_json_str(rec->duplicate_of));
		if (rec->duplicate_of)
			json_object_set_new(o, "score", json_real(rec->score));
		json_object_set_new(o, "source", cli_json_str(rec->source));
		json_object_set_new(o, "line", json_integer(rec->line));
		json_object_set_new(o, "reason", cli_json_str(rec->reason));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "dry_run", json_boolean(dry_run));
	json_object_set_new(root, "created", json_integer((json_int_t)r->created));
	json_object_set_new(root, "duplicates", json_integer((json_int_t)r->duplicates));
	json_object_set_new(root, "merged", json_integer((json_int_t)r->merged));
	json_object_set_new(root, "skipped", json_integer((json_int_t)r->skipped));
	json_object_set_new(root, "commit", r->commit[0] ? json_string(r->commit) : json_null());
	json_object_set_new(root, "records", arr);
	return cli_json_print(root);
}

/* 0 when something was imported or every note was already in the KB. */
static int exit_code(const kb_import_result *r)
{
	size_t i;

	if (r->created || r->duplicates || r->merged)
		return CLI_OK;
	for (i = 0; i < r->count; i++)
		if (strncmp(r->items[i].reason, "already imported", 16))
			return CLI_NOTHING;
	return r->count ? CLI_OK : CLI_NOTHING;
}

enum { SRC_NOTES, SRC_CSV, SRC_MAIL, SRC_HTTP };

static int import_notes(int argc, char **argv, int src)
{
	import_args a = { KB_IMPORT_OPTIONS_INIT, { -1, 0, 0, 0, 0 }, 0, NULL,
			  KB_IMPORT_HTTP_OPTIONS_INIT, NULL };
	const char *pause = getenv("KB_TEST_IMPORT_PAUSE");
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	kb_author author = { 0 };
	kb_store *s = NULL;
	int rc;

	if ((rc = parse_args(&a, argc, argv)))
		return rc < 0 ? CLI_OK : rc;
	if (optind == argc)
		return cli_usage_error("import %s needs at least one file%s", argv[0],
				       src == SRC_CSV ? "" : src == SRC_HTTP ? " (a URL)" : " or directory");
	if ((src == SRC_CSV || src == SRC_HTTP) && optind + 1 != argc)
		return cli_usage_error("import %s takes one %s", argv[0], src == SRC_CSV ? "file" : "URL");
	if (src != SRC_CSV && src != SRC_HTTP && (a.map || a.o.save_map || a.o.map_name))
		return cli_usage_error("--map, --save-map and --map-name are for import csv and import http");
	if (a.map && a.o.map_name)
		return cli_usage_error("give --map or --map-name, not both");
	if (src != SRC_HTTP && (a.token_env || a.h.page_param || a.h.max_pages || a.h.timeout_ms))
		return cli_usage_error("--token-env, --page-param, --max-pages and --timeout are for import http");
	if (a.token_env && !(a.h.token = getenv(a.token_env)))
		return cli_usage_error("environment variable '%s' (--token-env) is not set", a.token_env);
	if ((rc = cli_open_store(&s)))
		return rc;
	if (!a.o.dry_run && (rc = cli_author(&author, s)))
		goto done;
	a.o.author = &author;
	if (a.bar.on < 0)
		a.bar.on = isatty(STDERR_FILENO);
	a.bar.pause_after = pause ? strtol(pause, NULL, 10) : 0;
	a.bar.start = a.bar.last = now_s();
	a.o.progress = on_progress;
	a.o.progress_payload = &a.bar;
	a.h.url = argv[optind];
	a.h.map = a.map;
	if (src == SRC_CSV)
		rc = kb_import_csv(&r, s, argv[optind], a.map, &a.o);
	else if (src == SRC_HTTP)
		rc = kb_import_http(&r, s, &a.h, &a.o);
	else if (src == SRC_MAIL)
		rc = kb_import_mail(&r, s, (const char *const *)argv + optind,
				    (size_t)(argc - optind), &a.o);
	else
		rc = kb_import_notes(&r, s, (const char *const *)argv + optind,
				     (size_t)(argc - optind), &a.o);
	progress_clear(&a.bar);
	if (rc < 0) {
		rc = cli_fail();
		if (!a.o.dry_run)
			fprintf(stderr, "kb: nothing imported\n");
		goto done;
	}
	if (a.json)
		print_json(&r, a.o.dry_run);
	else
		print_text(&r, a.o.dry_run, a.o.merge);
	rc = exit_code(&r);
done:
	kb_import_result_release(&r);
	kb_author_release(&author);
	kb_store_free(s);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (!strcmp(argv[1], "notes"))
		return import_notes(argc - 1, argv + 1, SRC_NOTES);
	if (!strcmp(argv[1], "csv"))
		return import_notes(argc - 1, argv + 1, SRC_CSV);
	if (!strcmp(argv[1], "mail"))
		return import_notes(argc - 1, argv + 1, SRC_MAIL);
	if (!strcmp(argv[1], "http"))
		return import_notes(argc - 1, argv + 1, SRC_HTTP);
	return cli_usage_error("unknown import source '%s' (expected 'notes', 'csv', 'mail' or 'http')",
			       argv[1]);
}
