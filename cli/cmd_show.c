/*
 * cmd_show.c - reading one case: `kb show ID` (text, --html, --json, with
 * its links both ways and reuse count) and `kb log ID` (the commits that
 * changed it).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <getopt.h>

#include "cli.h"
#include "commands.h"
#include "kb/lifecycle.h"

static const char show_usage[] =
	"usage: kb show [--html | --json] ID\n\n"
	"Print the case ID of the work tree (wherever its file is under cases/): the\n"
	"front matter as aligned\n"
	"\"key: value\" lines, its links both ways (\"-> B (type)\" outgoing,\n"
	"\"<- C (type)\" incoming) and \"used N times (last DATE)\" when recorded,\n"
	"then the sections as Markdown.\n\n"
	"  --html   render the case as HTML\n"
	"  --json   print the fields and sections as JSON (docs/json.md)\n\n"
	"exit: 0 ok, 1 no such case, 2 the file does not parse or usage error\n";

static const char log_usage[] =
	"usage: kb log [--json] ID\n\n"
	"List the commits that changed the case file of ID, newest first (moves and\n"
	"renames followed):\n"
	"commit, date (YYYY-MM-DD HH:MM, the author's time zone), author, summary.\n\n"
	"  --json   print one JSON array (docs/json.md)\n\n"
	"exit: 0 ok, 1 no such case or no history, 2 usage error\n";

/* Parse "[--html] [--json] ID" style arguments; returns -1 after --help. */
static int parse_one_id(int argc, char **argv, const char *usage, int *html, int *json,
			const char **id)
{
	static const struct option opts[] = { { "html", no_argument, NULL, 'H' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'H' && html)
			*html = 1;
		else if (c == 'j')
			*json = 1;
		else {
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? -1 : CLI_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("%s takes one case id", argv[0]);
	*id = argv[optind];
	return 0;
}

/* The value of a key as one line: scalars as is, lists joined by ", ". */
static void value_text(const kb_case *c, const char *key, kb_buf *out)
{
	const char *const *items;
	const char *v = kb_case_get(c, key);
	size_t i, n;

	if (v) {
		kb_buf_puts(out, v);
		return;
	}
	n = kb_case_get_list(c, key, &items);
	for (i = 0; i < n; i++)
		kb_buf_printf(out, "%s%s", i ? ", " : "", items[i]);
}

/*
 * The Markdown after the front matter, as written: text before the first
 * section and level-1 headings included, which the section list leaves
 * out.  The case parsed, so its serialisation opens with "---" and the
 * front matter ends at the next line that is exactly "---" or "...".
 * (A kb_case_body() accessor in libkb would replace this scan.)
 */
static const char *markdown_body(const kb_buf *file)
{
	const char *p = file->ptr, *nl;
	size_t n;

	if (!strncmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	for (p = strchr(p, '\n'); p; p = nl) {
		nl = strchr(++p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 3 && (!strncmp(p, "---", 3) || !strncmp(p, "...", 3)))
			break;
	}
	if (!p || !nl)
		return "";
	for (p = nl + 1; *p == '\n' || *p == '\r'; p++)
		;
	return p;
}

/* What `kb show` adds to the file: links both ways and reuse. */
typedef struct {
	kb_link *links;
	size_t nlinks;
	const kb_reuse_count *reuse;   /* NULL when never used */
} show_extra;

/* Links as "-> B (type)" / "<- C (type)" lines, then the reuse line. */
static void extra_text(const show_extra *x)
{
	size_t i;

	for (i = 0; i < x->nlinks; i++)
		printf("%s %s %s (%s)\n", i ? "      " : "links:", x->links[i].incoming ? "<-" : "->",
		       x->links[i].id, kb_link_type_name(x->links[i].type));
	if (x->reuse)
		printf("used %zu time%s (last %s)\n", x->reuse->count, x->reuse->count == 1 ? "" : "s",
		       x->reuse->last);
}

/* Front matter as aligned "key: value" lines, then the Markdown body. */
static void show_text(const kb_case *c, const show_extra *x)
{
	kb_buf v = KB_BUF_INIT, file = KB_BUF_INIT;
	size_t i, w = 0, nkeys = kb_case_key_count(c);
	const char *body;

	for (i = 0; i < nkeys; i++)
		if (strlen(kb_case_key_at(c, i)) > w)
			w = strlen(kb_case_key_at(c, i));
	for (i = 0; i < nkeys; i++) {
		kb_buf_clear(&v);
		value_text(c, kb_case_key_at(c, i), &v);
		printf("%s:%*s%s\n", kb_case_key_at(c, i),
		       (int)(w + 1 - strlen(kb_case_key_at(c, i))), "", v.ptr);
	}
	if (x->nlinks || x->reuse)
		printf("\n");
	extra_text(x);
	kb_case_serialize(c, &file);
	body = markdown_body(&file);
	if (*body)
		printf("\n%s%s", body, body[strlen(body) - 1] == '\n' ? "" : "\n");
	kb_buf_release(&v);
	kb_buf_release(&file);
}

/* A front-matter value: a string, or an array for a list. */
static json_t *field_json(const kb_case *c, const char *key)
{
	const char *const *items;
	const char *v = kb_case_get(c, key);
	json_t *arr;
	size_t i, n;

	if (v)
		return cli_json_str(v);
	n = kb_case_get_list(c, key, &items);
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, cli_json_str(items[i]));
	return arr;
}

/* "links": [{"id", "type", "direction": "out"|"in"}]. */
static json_t *links_json(const show_extra *x)
{
	json_t *arr = json_array(), *l;
	size_t i;

	for (i = 0; i < x->nlinks; i++) {
		l = json_object();
		json_object_set_new(l, "id", cli_json_str(x->links[i].id));
		json_object_set_new(l, "type", json_string(kb_link_type_name(x->links[i].type)));
		json_object_set_new(l, "direction", json_string(x->links[i].incoming ? "in" : "out"));
		json_array_append_new(arr, l);
	}
	return arr;
}

/* `kb show --json` (docs/json.md). */
static int show_json(const kb_case *c, const char *relpath, const show_extra *x)
{
	json_t *o = json_object(), *fields = json_object(), *secs = json_array(), *so;
	kb_buf file = KB_BUF_INIT;
	const kb_section *sec;
	size_t i;

	for (i = 0; i < kb_case_key_count(c); i++)
		json_object_set_new(fields, kb_case_key_at(c, i), field_json(c, kb_case_key_at(c, i)));
	for (i = 0; i < kb_case_section_count(c); i++) {
		sec = kb_case_section_at(c, i);
		so = json_object();
		json_object_set_new(so, "kind", json_string(kb_section_name(sec->kind)));
		json_object_set_new(so, "heading", cli_json_str(sec->heading));
		json_object_set_new(so, "line", json_integer(sec->line));
		json_object_set_new(so, "body", cli_json_str(sec->body ? sec->body : ""));
		json_array_append_new(secs, so);
	}
	json_object_set_new(o, "schema_version", json_integer(1));
	json_object_set_new(o, "id", cli_json_str(kb_case_id(c)));
	json_object_set_new(o, "title", cli_json_str(kb_case_title(c)));
	json_object_set_new(o, "path", cli_json_str(relpath));
	json_object_set_new(o, "status", json_string(kb_status_name(kb_case_status(c))));
	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "sections", secs);
	json_object_set_new(o, "links", links_json(x));
	so = json_object();
	json_object_set_new(so, "count", json_integer(x->reuse ? (json_int_t)x->reuse->count : 0));
	json_object_set_new(so, "last", x->reuse ? json_string(x->reuse->last) : json_null());
	json_object_set_new(o, "reuse", so);
	kb_case_serialize(c, &file);
	json_object_set_new(o, "body", cli_json_str(markdown_body(&file)));
	kb_buf_release(&file);
	return cli_json_print(o);
}

int cmd_show(int argc, char **argv)
{
	int html = 0, json = 0, rc;
	kb_buf rel = KB_BUF_INIT, out = KB_BUF_INIT;
	show_extra x = { NULL, 0, NULL };
	kb_reuse_count *counts = NULL;
	size_t ncounts = 0;
	const char *id = NULL;
	kb_store *s = NULL;
	kb_case *c = NULL;

	if ((rc = parse_one_id(argc, argv, show_usage, &html, &json, &id)))
		return rc < 0 ? CLI_OK : rc;
	if (html && json)
		return cli_usage_error("--html and --json exclude each other");
	if ((rc = cli_open_store(&s)))
		return rc;
	if (kb_store_case_locate(&rel, s, id) < 0 || kb_store_read_case(&c, s, id) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (!html && (kb_links_get(&x.links, &x.nlinks, s, id) < 0 ||
		      kb_reuse_counts(&counts, &ncounts, s) < 0)) {
		rc = cli_fail();
		goto done;
	}
	x.reuse = kb_reuse_find(counts, ncounts, id);
	if (json) {
		rc = show_json(c, rel.ptr, &x);
	} else if (html) {
		kb_case_render_html(c, &out);
		fwrite(out.ptr, 1, out.len, stdout);
	} else {
		show_text(c, &x);
	}
done:
	kb_links_free(x.links, x.nlinks);
	kb_reuse_counts_free(counts, ncounts);
	kb_case_free(c);
	kb_store_free(s);
	kb_buf_release(&rel);
	kb_buf_release(&out);
	return rc;
}

/* ---- kb log -------------------------------------------------------------- */

typedef struct {
	int json;
	json_t *arr;
	size_t count;
} log_state;

/* "YYYY-MM-DD HH:MM" in the commit's own time zone; iso adds seconds and
 * the offset ("2024-05-12T09:30:00+08:00"). */
static void format_time(char *buf, size_t size, const kb_commit_info *ci, int iso)
{
	time_t t = (time_t)(ci->time + (int64_t)ci->tz_offset * 60);
	int off = ci->tz_offset < 0 ? -ci->tz_offset : ci->tz_offset;
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
	if (iso && n < size)
		snprintf(buf + n, size - n, "%c%02d:%02d", ci->tz_offset < 0 ? '-' : '+',
			 off / 60, off % 60);
}

/* kb_store_log() callback: one commit as a line or a JSON object. */
static int log_one(const kb_commit_info *ci, void *payload)
{
	log_state *st = payload;
	char date[40];
	json_t *o;

	st->count++;
	if (!st->json) {
		format_time(date, sizeof(date), ci, 0);
		printf("%.10s  %s  %s  %s\n", ci->oid, date, ci->author_name, ci->summary);
		return 0;
	}
	format_time(date, sizeof(date), ci, 1);
	o = json_object();
	json_object_set_new(o, "commit", json_string(ci->oid));
	json_object_set_new(o, "date", json_string(date));
	json_object_set_new(o, "author", cli_json_str(ci->author_name));
	json_object_set_new(o, "email", cli_json_str(ci->author_email));
	json_object_set_new(o, "summary", cli_json_str(ci->summary));
	json_object_set_new(o, "path", cli_json_str(ci->path));
	json_array_append_new(st->arr, o);
	return 0;
}

int cmd_log(int argc, char **argv)
{
	log_state st = { 0, NULL, 0 };
	kb_buf rel = KB_BUF_INIT;
	const char *id = NULL;
	kb_store *s = NULL;
	int rc;

	if ((rc = parse_one_id(argc, argv, log_usage, NULL, &st.json, &id)))
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open_store(&s)))
		return rc;
	if (st.json)
		st.arr = json_array();
	if (kb_store_case_write_path(&rel, s, id) < 0 || kb_store_log(s, rel.ptr, log_one, &st) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (st.count == 0) {
		fprintf(stderr, "kb: no history for case '%s'\n", id);
		rc = CLI_NOTHING;
		goto done;
	}
	if (st.json) {
		rc = cli_json_print(st.arr);
		st.arr = NULL;
	}
done:
	json_decref(st.arr);
	kb_buf_release(&rel);
	kb_store_free(s);
	return rc;
}
