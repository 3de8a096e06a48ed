/*
 * cmd_audit.c - `kb audit coverage|health|risk|activity|gaps`: the audits of
 * kb/audit.h as aligned tables, JSON (docs/audit.md, schema_version 1) or
 * CSV (RFC 4180).  Findings are results, not failures: exit 0 with a table;
 * warnings (unparsable files, incomplete history) go to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <getopt.h>

#include "cli.h"
#include "commands.h"
#include "kb/audit.h"
#include "kb/gaps.h"

static const char usage_text[] =
	"usage: kb audit coverage [--by FIELD[,FIELD]] [--thin N] [--json|--csv]\n"
	"       kb audit health [--days N] [--months N] [--json|--csv]\n"
	"       kb audit risk [--leaving NAME] [--json|--csv]\n"
	"       kb audit activity [--json|--csv]\n"
	"       kb audit gaps [--since YYYY-MM-DD] [--json|--csv] [--export FILE]\n"
	"       kb audit report --html FILE\n\n"
	"Audits of what the team knows, computed from the cases and git history\n"
	"(docs/audit.md):\n"
	"  coverage  cases per equipment x failure mode (or --by fields), by status;\n"
	"            thin cells have fewer than --thin validated cases (default 2)\n"
	"  health    findings and a quality score per case; drafts older than --days\n"
	"            (default 30), validated cases not updated for --months (default 24)\n"
	"  risk      areas whose validated cases one person wrote, bus factor per area;\n"
	"            --leaving NAME: areas NAME alone or mostly wrote\n"
	"  activity  cases created, edited, reviewed per person and month\n"
	"  gaps      searches and similar lookups that found nothing useful, logged\n"
	"            on this machine only, grouped by wording, most frequent first;\n"
	"            --export FILE writes the log as JSON lines to share it\n"
	"  report    all audits in one self-contained HTML file with SVG charts\n\n"
	"  --json    one JSON object      --csv   comma-separated values with a header\n\n"
	"exit: 0 audit printed (even with findings), 1 --leaving names nobody,\n"
	"      2 usage error\n";

typedef struct {
	const char *verb;
	const char *by[2];
	size_t nby;
	char *by_copy;
	const char *leaving;
	const char *html;
	const char *since;
	const char *export_file;
	int json, csv;
	kb_audit_options opts;
} audit_args;

/* ---- a small table: aligned text or CSV -------------------------------- */

typedef struct {
	size_t ncols;
	const char *const *head;
	const int *numeric;
	char **cells;        /* row-major, owned */
	size_t nrows, alloc;
} table;

static void table_row(table *t, ...)
{
	va_list ap;
	size_t i;

	if (t->nrows == t->alloc) {
		t->alloc = t->alloc ? 2 * t->alloc : 64;
		t->cells = kb_xrealloc(t->cells, t->alloc * t->ncols * sizeof(*t->cells));
	}
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = kb_xstrdup(va_arg(ap, const char *));
	va_end(ap);
	t->nrows++;
}

static void table_release(table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

static void csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	fputc('"', stdout);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', stdout);
		fputc(*s, stdout);
	}
	fputc('"', stdout);
}

static void print_csv(const table *t)
{
	size_t r, i;

	for (i = 0; i < t->ncols; i++) {
		if (i)
			fputc(',', stdout);
		csv_field(t->head[i]);
	}
	fputs("\r\n", stdout);
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			if (i)
				fputc(',', stdout);
			csv_field(t->cells[r * t->ncols + i]);
		}
		fputs("\r\n", stdout);
	}
}

static void print_cell(const char *s, size_t width, int numeric, int last)
{
	size_t w = cli_display_width(s);

	if (numeric)
		for (; w < width; w++)
			fputc(' ', stdout);
	if (last && !numeric)
		fputs(s, stdout);
	else
		cli_print_padded(stdout, s, numeric ? 0 : width);
	if (!last)
		fputs("  ", stdout);
}

/* Columns sized to their widest cell (CJK counts 2); numbers right-aligned. */
static void print_text(const table *t)
{
	size_t *w = kb_xcalloc(t->ncols, sizeof(*w)), r, i, n;

	for (i = 0; i < t->ncols; i++)
		w[i] = cli_display_width(t->head[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			if ((n = cli_display_width(t->cells[r * t->ncols + i])) > w[i])
				w[i] = n;
	for (i = 0; i < t->ncols; i++)
		print_cell(t->head[i], w[i], t->numeric[i], i + 1 == t->ncols);
	fputc('\n', stdout);
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++)
			print_cell(t->cells[r * t->ncols + i], w[i], t->numeric[i], i + 1 == t->ncols);
		fputc('\n', stdout);
	}
	free(w);
}

static const char *num(char buf[32], size_t n)
{
	snprintf(buf, 32, "%zu", n);
	return buf;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static json_t *json_base(const char *audit)
{
	json_t *o = json_object();

	json_object_set_new(o, "schema_version", json_integer(1));
	json_object_set_new(o, "audit", json_string(audit));
	return o;
}

/* ---- coverage ---------------------------------------------------------- */

static json_t *coverage_json(const kb_audit_coverage_report *c)
{
	json_t *o = json_base("coverage"), *fields = json_array(), *cells = json_array(), *x, *v;
	size_t i, f;

	for (f = 0; f < c->nfields; f++)
		json_array_append_new(fields, cli_json_str(c->field[f]));
	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "thin_threshold", json_integer((json_int_t)c->thin));
	for (i = 0; i < c->count; i++) {
		x = json_object();
		v = json_array();
		for (f = 0; f < c->nfields; f++)
			json_array_append_new(v, cli_json_str(c->cells[i].value[f]));
		json_object_set_new(x, "values", v);
		json_object_set_new(x, "validated",
				    json_integer((json_int_t)c->cells[i].status[KB_STATUS_VALIDATED]));
		json_object_set_new(x, "draft",
				    json_integer((json_int_t)c->cells[i].status[KB_STATUS_DRAFT]));
		json_object_set_new(x, "archived",
				    json_integer((json_int_t)c->cells[i].status[KB_STATUS_ARCHIVED]));
		json_object_set_new(x, "obsolete",
				    json_integer((json_int_t)c->cells[i].status[KB_STATUS_OBSOLETE]));
		json_object_set_new(x, "unknown",
				    json_integer((json_int_t)c->cells[i].status[KB_STATUS_UNKNOWN]));
		json_object_set_new(x, "total", json_integer((json_int_t)c->cells[i].total));
		json_object_set_new(x, "thin", json_boolean(c->cells[i].thin));
		json_object_set_new(x, "empty", json_boolean(c->cells[i].total == 0));
		json_array_append_new(cells, x);
	}
	json_object_set_new(o, "cells", cells);
	return o;
}

static int run_coverage(kb_audit *a, const audit_args *ar)
{
	static const int num2[] = { 0, 0, 1, 1, 1, 1, 1, 1, 0 };
	kb_audit_coverage_report *c = NULL;
	const char *head[9] = { "", "", "validated", "draft", "archived", "obsolete", "unknown",
				"total", "note" };
	table t = { 0 };
	char b[7][32];
	size_t i, thin = 0, off, rows;
	const kb_audit_cell *x;

	if (kb_audit_coverage(&c, a, ar->nby ? ar->by : NULL, ar->nby) < 0)
		return cli_fail();
	off = c->nfields == 1 ? 1 : 0;
	head[off] = c->field[0];
	if (!off)
		head[1] = c->field[1];
	t.ncols = 9 - off;
	t.head = head + off;
	t.numeric = num2 + off;
	rows = ar->csv ? c->count : c->nonempty;
	for (i = 0; i < rows; i++) {
		x = &c->cells[i];
		thin += x->thin && x->total;
		if (off)
			table_row(&t, or_dash(x->value[0]), num(b[0], x->status[KB_STATUS_VALIDATED]),
				  num(b[1], x->status[KB_STATUS_DRAFT]),
				  num(b[2], x->status[KB_STATUS_ARCHIVED]),
				  num(b[3], x->status[KB_STATUS_OBSOLETE]),
				  num(b[4], x->status[KB_STATUS_UNKNOWN]), num(b[5], x->total),
				  x->total ? (x->thin ? "thin" : "") : "empty");
		else
			table_row(&t, or_dash(x->value[0]), or_dash(x->value[1]),
				  num(b[0], x->status[KB_STATUS_VALIDATED]),
				  num(b[1], x->status[KB_STATUS_DRAFT]),
				  num(b[2], x->status[KB_STATUS_ARCHIVED]),
				  num(b[3], x->status[KB_STATUS_OBSOLETE]),
				  num(b[4], x->status[KB_STATUS_UNKNOWN]), num(b[5], x->total),
				  x->total ? (x->thin ? "thin" : "") : "empty");
	}
	if (ar->csv) {
		print_csv(&t);
	} else {
		print_text(&t);
		printf("\n%zu cells with cases, %zu thin (fewer than %zu validated)", c->nonempty,
		       thin, c->thin);
		if (c->nfields == 2)
			printf(", %zu empty combinations (listed by --json and --csv)",
			       c->count - c->nonempty);
		fputc('\n', stdout);
	}
	table_release(&t);
	kb_audit_coverage_free(c);
	return 0;
}

static int coverage_json_out(kb_audit *a, const audit_args *ar)
{
	kb_audit_coverage_report *c = NULL;
	json_t *o;

	if (kb_audit_coverage(&c, a, ar->nby ? ar->by : NULL, ar->nby) < 0)
		return cli_fail();
	o = coverage_json(c);
	kb_audit_coverage_free(c);
	return cli_json_print(o);
}

/* ---- health ------------------------------------------------------------ */

static void findings_text(kb_buf *out, unsigned f)
{
	int r;

	kb_buf_clear(out);
	for (r = 0; r < KB_AUDIT_RULE__COUNT; r++) {
		if (f & (1u << r)) {
			if (out->len)
				kb_buf_putc(out, ',');
			kb_buf_puts(out, kb_audit_rule_name((kb_audit_rule)r));
		}
	}
}

static json_t *health_json(const kb_audit_health_report *h)
{
	json_t *o = json_base("health"), *cases = json_array(), *sum = json_object(), *x, *f;
	size_t i;
	int r;

	for (i = 0; i < h->count; i++) {
		x = json_object();
		f = json_array();
		json_object_set_new(x, "id", cli_json_str(h->cases[i].id));
		json_object_set_new(x, "path", cli_json_str(h->cases[i].path));
		json_object_set_new(x, "status", cli_json_str(h->cases[i].status));
		json_object_set_new(x, "score", json_integer(h->cases[i].score));
		json_object_set_new(x, "age_days", h->cases[i].age_days < 0 ? json_null() :
				    json_integer(h->cases[i].age_days));
		for (r = 0; r < KB_AUDIT_RULE__COUNT; r++)
			if (h->cases[i].findings & (1u << r))
				json_array_append_new(f, json_string(kb_audit_rule_name((kb_audit_rule)r)));
		json_object_set_new(x, "findings", f);
		json_object_set_new(x, "detail", cli_json_str(h->cases[i].detail));
		json_array_append_new(cases, x);
	}
	for (r = 0; r < KB_AUDIT_RULE__COUNT; r++)
		json_object_set_new(sum, kb_audit_rule_name((kb_audit_rule)r),
				    json_integer((json_int_t)h->rule_count[r]));
	json_object_set_new(o, "cases", cases);
	json_object_set_new(o, "summary", sum);
	json_object_set_new(o, "mean_score", json_real(h->mean_score));
	return o;
}

static int run_health(kb_audit *a, const audit_args *ar)
{
	static const char *const head[] = { "id", "status", "score", "age_days", "findings",
					    "detail" };
	static const int numeric[] = { 0, 0, 1, 1, 0, 0 };
	kb_audit_health_report *h = NULL;
	table t = { 6, head, numeric, NULL, 0, 0 };
	kb_buf f = KB_BUF_INIT;
	char b[2][32];
	size_t i;
	int r;

	if (kb_audit_health(&h, a) < 0)
		return cli_fail();
	if (ar->json) {
		r = cli_json_print(health_json(h));
		kb_audit_health_free(h);
		return r;
	}
	for (i = 0; i < h->count; i++) {
		findings_text(&f, h->cases[i].findings);
		snprintf(b[0], sizeof(b[0]), "%d", h->cases[i].score);
		snprintf(b[1], sizeof(b[1]), "%d", h->cases[i].age_days);
		table_row(&t, or_dash(h->cases[i].id), or_dash(h->cases[i].status), b[0],
			  h->cases[i].age_days < 0 ? "-" : b[1], ar->csv ? f.ptr : or_dash(f.ptr),
			  ar->csv ? h->cases[i].detail : or_dash(h->cases[i].detail));
	}
	if (ar->csv) {
		print_csv(&t);
	} else {
		print_text(&t);
		printf("\n%zu cases, mean quality score %.1f\n", h->count, h->mean_score);
		for (r = 0; r < KB_AUDIT_RULE__COUNT; r++)
			printf("%-15s %zu\n", kb_audit_rule_name((kb_audit_rule)r), h->rule_count[r]);
	}
	kb_buf_release(&f);
	table_release(&t);
	kb_audit_health_free(h);
	return 0;
}

/* ---- risk -------------------------------------------------------------- */

static const char *role_name(kb_audit_leaving l)
{
	return l == KB_AUDIT_LEAVING_ONLY ? "only author" :
	       l == KB_AUDIT_LEAVING_MAJORITY ? "majority author" : "";
}

static void people_text(kb_buf *out, const kb_audit_area *x)
{
	size_t i;

	kb_buf_clear(out);
	for (i = 0; i < x->npeople; i++)
		kb_buf_printf(out, "%s%s (%zu)", i ? ", " : "", x->people[i].name,
			      x->people[i].cases);
}

static json_t *risk_json(const kb_audit_risk_report *r)
{
	json_t *o = json_base("risk"), *areas = json_array(), *x, *p, *q;
	size_t i, j;

	json_object_set_new(o, "leaving", cli_json_str(r->leaving));
	for (i = 0; i < r->count; i++) {
		x = json_object();
		p = json_array();
		json_object_set_new(x, "equipment", cli_json_str(r->areas[i].equipment));
		json_object_set_new(x, "failure_mode", cli_json_str(r->areas[i].failure_mode));
		json_object_set_new(x, "validated", json_integer((json_int_t)r->areas[i].validated));
		json_object_set_new(x, "bus_factor", json_integer((json_int_t)r->areas[i].bus_factor));
		json_object_set_new(x, "sole_author", cli_json_str(r->areas[i].sole));
		for (j = 0; j < r->areas[i].npeople; j++) {
			q = json_object();
			json_object_set_new(q, "name", cli_json_str(r->areas[i].people[j].name));
			json_object_set_new(q, "cases",
					    json_integer((json_int_t)r->areas[i].people[j].cases));
			json_array_append_new(p, q);
		}
		json_object_set_new(x, "authors", p);
		if (r->leaving)
			json_object_set_new(x, "leaving_role",
					    json_string(r->areas[i].leaving == KB_AUDIT_LEAVING_ONLY ?
							"only" : "majority"));
		json_array_append_new(areas, x);
	}
	json_object_set_new(o, "areas", areas);
	return o;
}

static int run_risk(kb_audit *a, const audit_args *ar)
{
	static const char *const head[] = { "equipment", "failure_mode", "validated", "bus_factor",
					    "risk", "authors" };
	static const int numeric[] = { 0, 0, 1, 1, 0, 0 };
	kb_audit_risk_report *r = NULL;
	table t = { 6, head, numeric, NULL, 0, 0 };
	kb_buf p = KB_BUF_INIT;
	char b[2][32];
	size_t i, single = 0, single2 = 0;
	const kb_audit_area *x;

	if (kb_audit_risk(&r, a, ar->leaving) < 0)
		return cli_fail();
	if (ar->json) {
		single = (size_t)cli_json_print(risk_json(r));
		kb_audit_risk_free(r);
		return (int)single;
	}
	for (i = 0; i < r->count; i++) {
		x = &r->areas[i];
		people_text(&p, x);
		single += x->sole != NULL;
		single2 += x->sole != NULL && x->validated >= 2;
		table_row(&t, or_dash(x->equipment), x->failure_mode ? or_dash(x->failure_mode) : "(all)",
			  num(b[0], x->validated), num(b[1], x->bus_factor),
			  r->leaving ? role_name(x->leaving) : x->sole ? "single person" : "",
			  p.ptr);
	}
	if (ar->csv) {
		print_csv(&t);
	} else if (r->leaving && !r->count) {
		printf("no area depends on %s\n", r->leaving);
	} else {
		print_text(&t);
		if (!r->leaving)
			printf("\n%zu areas, %zu known to a single person (%zu of them with two or "
			       "more validated cases)\n", r->count, single, single2);
	}
	kb_buf_release(&p);
	table_release(&t);
	kb_audit_risk_free(r);
	return 0;
}

/* ---- activity ---------------------------------------------------------- */

static json_t *activity_json(const kb_audit_activity_report *act)
{
	json_t *o = json_base("activity"), *c = json_array(), *m = json_array(),
	       *n = json_array(), *x;
	size_t i;

	for (i = 0; i < act->ncontribs; i++) {
		x = json_object();
		json_object_set_new(x, "month", json_string(act->contribs[i].month));
		json_object_set_new(x, "person", cli_json_str(act->contribs[i].person));
		json_object_set_new(x, "created", json_integer((json_int_t)act->contribs[i].created));
		json_object_set_new(x, "edited", json_integer((json_int_t)act->contribs[i].edited));
		json_object_set_new(x, "reviewed", json_integer((json_int_t)act->contribs[i].reviewed));
		json_array_append_new(c, x);
	}
	for (i = 0; i < act->nmonths; i++) {
		x = json_object();
		json_object_set_new(x, "month", json_string(act->months[i].month));
		json_object_set_new(x, "active", json_integer((json_int_t)act->months[i].active));
		json_object_set_new(x, "people", json_integer((json_int_t)act->months[i].people));
		json_array_append_new(m, x);
	}
	for (i = 0; i < act->nnewcases; i++) {
		x = json_object();
		json_object_set_new(x, "month", json_string(act->newcases[i].month));
		json_object_set_new(x, "equipment", cli_json_str(act->newcases[i].equipment));
		json_object_set_new(x, "created", json_integer((json_int_t)act->newcases[i].created));
		json_array_append_new(n, x);
	}
	json_object_set_new(o, "contributions", c);
	json_object_set_new(o, "participation", m);
	json_object_set_new(o, "new_cases", n);
	return o;
}

static void print_participation(const kb_audit_activity_report *act)
{
	static const char *const head[] = { "month", "active", "people", "rate" };
	static const int numeric[] = { 0, 1, 1, 1 };
	table t = { 4, head, numeric, NULL, 0, 0 };
	char b[3][32];
	size_t i;

	for (i = 0; i < act->nmonths; i++) {
		snprintf(b[2], sizeof(b[2]), "%.0f%%",
			 100.0 * (double)act->months[i].active / (double)act->months[i].people);
		table_row(&t, act->months[i].month, num(b[0], act->months[i].active),
			  num(b[1], act->months[i].people), b[2]);
	}
	printf("\nparticipation\n");
	print_text(&t);
	table_release(&t);
}

static void print_newcases(const kb_audit_activity_report *act)
{
	static const char *const head[] = { "month", "equipment", "new_cases" };
	static const int numeric[] = { 0, 0, 1 };
	table t = { 3, head, numeric, NULL, 0, 0 };
	char b[32];
	size_t i;

	for (i = 0; i < act->nnewcases; i++)
		table_row(&t, act->newcases[i].month, or_dash(act->newcases[i].equipment),
			  num(b, act->newcases[i].created));
	printf("\nnew cases per month\n");
	print_text(&t);
	table_release(&t);
}

static int run_activity(kb_audit *a, const audit_args *ar)
{
	static const char *const head[] = { "month", "person", "created", "edited", "reviewed" };
	static const int numeric[] = { 0, 0, 1, 1, 1 };
	kb_audit_activity_report *act = NULL;
	table t = { 5, head, numeric, NULL, 0, 0 };
	char b[3][32];
	size_t i;
	int rc = 0;

	if (kb_audit_activity(&act, a) < 0)
		return cli_fail();
	if (ar->json) {
		rc = cli_json_print(activity_json(act));
		goto done;
	}
	for (i = 0; i < act->ncontribs; i++)
		table_row(&t, act->contribs[i].month, or_dash(act->contribs[i].person),
			  num(b[0], act->contribs[i].created), num(b[1], act->contribs[i].edited),
			  num(b[2], act->contribs[i].reviewed));
	if (ar->csv) {
		print_csv(&t);
		goto done;
	}
	print_text(&t);
	print_participation(act);
	print_newcases(act);
done:
	table_release(&t);
	kb_audit_activity_free(act);
	return rc;
}

/* ---- gaps -------------------------------------------------------------- */

static json_t *gaps_json(const kb_gaps_report *r, const char *since)
{
	json_t *o = json_base("gaps"), *groups = json_array(), *x, *w;
	size_t i, j;

	json_object_set_new(o, "since", cli_json_str(since));
	json_object_set_new(o, "events", json_integer((json_int_t)r->nevents));
	for (i = 0; i < r->ngroups; i++) {
		x = json_object();
		w = json_array();
		json_object_set_new(x, "count", json_integer((json_int_t)r->groups[i].count));
		json_object_set_new(x, "first_seen", json_string(r->groups[i].first));
		json_object_set_new(x, "last_seen", json_string(r->groups[i].last));
		json_object_set_new(x, "wording", cli_json_str(r->groups[i].wording));
		for (j = 0; j < r->groups[i].nothers; j++)
			json_array_append_new(w, cli_json_str(r->groups[i].others[j]));
		json_object_set_new(x, "other_wordings", w);
		json_array_append_new(groups, x);
	}
	json_object_set_new(o, "groups", groups);
	return o;
}

/* The log's events as JSON lines, one object per event. */
static int gaps_export(const kb_gaps_report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	json_t *x;
	size_t i;
	int bad = 0;

	if (!f) {
		fprintf(stderr, "kb: cannot write '%s': %s\n", path, strerror(errno));
		return CLI_INTERNAL;
	}
	for (i = 0; i < r->nevents && !bad; i++) {
		x = json_object();
		json_object_set_new(x, "time", json_string(r->events[i].time));
		json_object_set_new(x, "command", json_string(r->events[i].command));
		json_object_set_new(x, "top_score", json_real(r->events[i].score));
		json_object_set_new(x, "query", cli_json_str(r->events[i].query));
		bad = json_dumpf(x, f, JSON_COMPACT) < 0 || fputc('\n', f) == EOF;
		json_decref(x);
	}
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "kb: cannot write '%s': %s\n", path, strerror(errno));
		return CLI_INTERNAL;
	}
	fprintf(stderr, "kb: wrote %zu gap events to '%s'\n", r->nevents, path);
	return 0;
}

static void gaps_table(const kb_gaps_report *r, int csv)
{
	static const char *const head[] = { "count", "first_seen", "last_seen", "wording",
					    "other_wordings" };
	static const int numeric[] = { 1, 0, 0, 0, 0 };
	table t = { 5, head, numeric, NULL, 0, 0 };
	kb_buf others = KB_BUF_INIT;
	char b[32];
	size_t i, j;

	for (i = 0; i < r->ngroups; i++) {
		kb_buf_clear(&others);
		for (j = 0; j < r->groups[i].nothers; j++)
			kb_buf_printf(&others, "%s%s", j ? " | " : "", r->groups[i].others[j]);
		table_row(&t, num(b, r->groups[i].count), r->groups[i].first, r->groups[i].last,
			  r->groups[i].wording, others.len ? others.ptr : "");
	}
	if (csv)
		print_csv(&t);
	else if (!r->ngroups)
		printf("no gaps logged%s\n", getenv("KB_NO_GAPS_LOG") ? " (KB_NO_GAPS_LOG is set)" : "");
	else
		print_text(&t);
	if (!csv && r->ngroups)
		printf("\n%zu lookups without a useful answer, %zu groups of wording\n",
		       r->nevents, r->ngroups);
	kb_buf_release(&others);
	table_release(&t);
}

static int run_gaps(kb_store *s, const audit_args *ar)
{
	kb_gaps_report *r = NULL;
	int rc = 0;

	if (kb_gaps_read(&r, s, ar->since) < 0)
		return cli_fail();
	cli_print_diags(stderr, &r->warnings, NULL);
	if (ar->export_file)
		rc = gaps_export(r, ar->export_file);
	else if (ar->json)
		rc = cli_json_print(gaps_json(r, ar->since));
	else
		gaps_table(r, ar->csv);
	kb_gaps_report_free(r);
	return rc;
}

/* ---- report: one self-contained HTML file ------------------------------ */

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<title>kb audit report</title>\n<style>\n"
	"body{font-family:\"Noto Sans\",\"Noto Sans CJK SC\",\"Microsoft YaHei\","
	"\"PingFang SC\",sans-serif;font-size:11pt;color:#222;max-width:180mm;margin:auto}\n"
	"h1{font-size:18pt}h2{font-size:14pt;border-bottom:1px solid #999;margin-top:1.5em}\n"
	"table{border-collapse:collapse;font-size:9pt;margin:.5em 0}\n"
	"td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}\n"
	"td.n{text-align:right}svg{max-width:100%;height:auto;display:block}\n"
	".single{color:#b03a2e;font-weight:bold}\n"
	"@page{size:A4;margin:15mm}\n"
	"@media print{body{max-width:none}h2{break-before:auto}"
	"table,svg{break-inside:avoid}}\n"
	"</style>\n</head>\n<body>\n";

/* Index of s in a list of distinct strings, added when new. */
static size_t str_index(const char ***list, size_t *n, const char *s)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*list)[i], s))
			return i;
	*list = kb_xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[*n] = s;
	return (*n)++;
}

/* Fill of a heat-map cell with `x` validated cases (of at most `max`):
 * grey for none, lighter to darker blue.  Returns 1 when the fill is dark
 * (a label on it is then white). */
static int heat_fill(FILE *f, size_t x, size_t max)
{
	unsigned shade = max > 1 ? 190 - (unsigned)(150 * (x ? x - 1 : 0) / (max - 1)) : 110;

	if (x)
		fprintf(f, " style=\"fill:rgb(%u,%u,255)\"", shade, shade + (255 - shade) / 3);
	else
		fputs(" fill=\"#e4e4e4\"", f);
	return x && shade < 130;
}

/*
 * Heat map with few failure modes: equipment rows x failure-mode columns,
 * every combination a cell.  With more columns than fit an A4 page
 * readably, each equipment row lists only its own failure modes as
 * labelled tiles (the empty combinations are counted below the chart and
 * listed by `kb audit coverage --csv`).
 */
#define HEAT_MAX_COLUMNS 30

/* A tile's label: the failure mode cut to about 20 columns of text (a
 * Chinese character counts two) at a character boundary, and the count. */
static void tile_label(FILE *f, const char *s, size_t count)
{
	size_t cols = 0, len = 0, n;
	char *cut;

	while (s[len] && cols < 20) {
		n = (unsigned char)s[len] < 0x80 ? 1 : (unsigned char)s[len] >= 0xf0 ? 4 :
		    (unsigned char)s[len] >= 0xe0 ? 3 : 2;
		cols += n == 1 ? 1 : 2;
		while (n-- && s[len])
			len++;
	}
	cut = kb_xstrndup(s, len);
	esc(f, cut);
	fprintf(f, "%s (%zu)</text>\n", s[len] ? "\xe2\x80\xa6" : "", count);
	free(cut);
}
static void svg_heatmap(FILE *f, const kb_audit_coverage_report *c)
{
	const char **rows = NULL, **cols = NULL;
	size_t nr = 0, nc = 0, i, r, k, max = 1, *v, x, lines, y;
	int dark;
	const int cw = 16, left = 130, top = 110, tw = 135, th = 18, per = 4;

	for (i = 0; i < c->nonempty; i++) {
		str_index(&rows, &nr, or_dash(c->cells[i].value[0]));
		str_index(&cols, &nc, or_dash(c->cells[i].value[1]));
		if (c->cells[i].status[KB_STATUS_VALIDATED] > max)
			max = c->cells[i].status[KB_STATUS_VALIDATED];
	}
	v = kb_xcalloc(nr * nc + 1, sizeof(*v));
	for (i = 0; i < c->nonempty; i++) {
		r = str_index(&rows, &nr, or_dash(c->cells[i].value[0]));
		k = str_index(&cols, &nc, or_dash(c->cells[i].value[1]));
		v[r * nc + k] = c->cells[i].status[KB_STATUS_VALIDATED] + 1;
	}
	if (nc <= HEAT_MAX_COLUMNS) {
		fprintf(f, "<svg viewBox=\"0 0 %zu %zu\" width=\"%zu\" role=\"img\" "
			"aria-label=\"coverage heat map\">\n", left + nc * cw + 10,
			top + nr * cw + 10, left + nc * cw + 10);
		for (k = 0; k < nc; k++) {
			fprintf(f, "<text font-size=\"10\" transform=\"translate(%zu,%d) "
				"rotate(-55)\">", left + k * cw + 11, top - 4);
			esc(f, cols[k]);
			fputs("</text>\n", f);
		}
	} else {
		for (r = 0, lines = 0; r < nr; r++) {
			for (k = 0, x = 0; k < nc; k++)
				x += v[r * nc + k] != 0;
			lines += x ? (x + per - 1) / per : 1;
		}
		fprintf(f, "<svg viewBox=\"0 0 %d %zu\" width=\"%d\" role=\"img\" "
			"aria-label=\"coverage heat map\">\n", left + per * tw + 4,
			lines * th + 4, left + per * tw + 4);
	}
	for (r = 0, y = 2; r < nr; r++) {
		fprintf(f, "<text font-size=\"10\" x=\"%d\" y=\"%zu\" text-anchor=\"end\">", left - 6,
			(nc <= HEAT_MAX_COLUMNS ? top + r * cw : y) + 12);
		esc(f, rows[r]);
		fputs("</text>\n", f);
		for (k = 0, i = 0; k < nc; k++) {
			x = v[r * nc + k];
			if (nc <= HEAT_MAX_COLUMNS) {
				fprintf(f, "<rect x=\"%zu\" y=\"%zu\" width=\"%d\" height=\"%d\" "
					"stroke=\"#fff\"", left + k * cw, top + r * cw, cw, cw);
			} else {
				if (!x)
					continue;
				fprintf(f, "<rect x=\"%zu\" y=\"%zu\" width=\"%d\" height=\"%d\" "
					"stroke=\"#fff\"", left + (i % per) * tw, y + (i / per) * th,
					tw, th);
			}
			dark = heat_fill(f, x ? x - 1 : 0, max);
			fputs("><title>", f);
			esc(f, rows[r]);
			fputs(" / ", f);
			esc(f, cols[k]);
			fprintf(f, ": %zu validated</title></rect>\n", x ? x - 1 : 0);
			if (nc > HEAT_MAX_COLUMNS) {
				fprintf(f, "<text font-size=\"9\" x=\"%zu\" y=\"%zu\" fill=\"%s\">",
					left + (i % per) * tw + 3, y + (i / per) * th + 12,
					dark ? "#fff" : "#111");
				tile_label(f, cols[k], x - 1);
				i++;
			}
		}
		y += (i ? (i + per - 1) / per : 1) * th;
	}
	fputs("</svg>\n", f);
	free(v);
	free(rows);
	free(cols);
}

/* Horizontal bars: validated cases per equipment, red when one person. */
static void svg_risk(FILE *f, const kb_audit_risk_report *r)
{
	size_t i, n = 0, max = 1, y;

	for (i = 0; i < r->count; i++) {
		if (!r->areas[i].failure_mode) {
			n++;
			max = r->areas[i].validated > max ? r->areas[i].validated : max;
		}
	}
	fprintf(f, "<svg viewBox=\"0 0 640 %zu\" width=\"640\" role=\"img\" "
		"aria-label=\"risk per area\">\n", n * 20 + 10);
	for (i = 0, y = 5; i < r->count; i++) {
		const kb_audit_area *x = &r->areas[i];

		if (x->failure_mode)
			continue;
		fprintf(f, "<text font-size=\"10\" x=\"145\" y=\"%zu\" text-anchor=\"end\">", y + 12);
		esc(f, or_dash(x->equipment));
		fprintf(f, "</text><rect x=\"150\" y=\"%zu\" width=\"%zu\" height=\"14\" fill=\"%s\"/>"
			"<text font-size=\"9\" x=\"%zu\" y=\"%zu\">%zu cases, bus factor %zu",
			y, 300 * x->validated / max, x->sole ? "#c0392b" : "#2e86c1",
			155 + 300 * x->validated / max, y + 11, x->validated, x->bus_factor);
		if (x->sole) {
			fputs(", only ", f);
			esc(f, x->sole);
		}
		fputs("</text>\n", f);
		y += 20;
	}
	fputs("</svg>\n", f);
}

/* Stacked bars: contributions per month (created, edited, reviewed), with
 * the scale (the highest month) and a legend. */
static void svg_activity(FILE *f, const kb_audit_activity_report *act)
{
	static const char *const kind[3] = { "created", "edited", "reviewed" };
	static const char *const colour[3] = { "#27ae60", "#f39c12", "#8e44ad" };
	size_t i, j, n = act->nmonths, max = 1, k, *tot = kb_xcalloc(3 * n + 3, sizeof(*tot));
	size_t sum, y, bh;
	const int bw = 8, h = 120, left = 34;

	for (i = 0, j = 0; i < act->ncontribs; i++) {
		while (j < n && strcmp(act->months[j].month, act->contribs[i].month))
			j++;
		if (j < n) {
			tot[3 * j] += act->contribs[i].created;
			tot[3 * j + 1] += act->contribs[i].edited;
			tot[3 * j + 2] += act->contribs[i].reviewed;
		}
	}
	for (j = 0; j < n; j++) {
		sum = tot[3 * j] + tot[3 * j + 1] + tot[3 * j + 2];
		max = sum > max ? sum : max;
	}
	fprintf(f, "<svg viewBox=\"0 0 %zu %d\" width=\"%zu\" role=\"img\" "
		"aria-label=\"activity per month\">\n", left + n * bw + 10, h + 52,
		left + n * bw + 10);
	fprintf(f, "<line x1=\"%d\" y1=\"10\" x2=\"%zu\" y2=\"10\" stroke=\"#ccc\"/>"
		"<line x1=\"%d\" y1=\"%d\" x2=\"%zu\" y2=\"%d\" stroke=\"#999\"/>\n"
		"<text font-size=\"9\" x=\"%d\" y=\"13\" text-anchor=\"end\">%zu</text>"
		"<text font-size=\"9\" x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
		left, left + n * bw, left, 10 + h, left + n * bw, 10 + h, left - 4, max, left - 4,
		13 + h);
	for (j = 0; j < n; j++) {
		for (k = 0, y = 10 + h; k < 3; k++) {
			bh = (size_t)h * tot[3 * j + k] / max;
			if (!bh)
				continue;
			y -= bh;
			fprintf(f, "<rect x=\"%zu\" y=\"%zu\" width=\"%d\" height=\"%zu\" fill=\"%s\">"
				"<title>%s: %zu %s</title></rect>\n", left + j * bw, y, bw - 1, bh,
				colour[k], act->months[j].month, tot[3 * j + k], kind[k]);
		}
		if (j % 12 == 0)
			fprintf(f, "<text font-size=\"9\" x=\"%zu\" y=\"%d\">%s</text>\n", left + j * bw,
				h + 24, act->months[j].month);
	}
	for (k = 0; k < 3; k++)
		fprintf(f, "<rect x=\"%zu\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			"<text font-size=\"9\" x=\"%zu\" y=\"%d\">%s</text>\n", left + 80 * k, h + 34,
			colour[k], left + 80 * k + 14, h + 43, kind[k]);
	fputs("</svg>\n", f);
	free(tot);
}

static void html_health(FILE *f, const kb_audit_health_report *h)
{
	kb_buf fb = KB_BUF_INIT;
	size_t i;
	int r;

	fprintf(f, "<p>%zu cases, mean quality score %.1f (docs/audit.md).</p>\n<table>"
		"<tr><th>finding</th><th>cases</th></tr>\n", h->count, h->mean_score);
	for (r = 0; r < KB_AUDIT_RULE__COUNT; r++)
		fprintf(f, "<tr><td>%s</td><td class=\"n\">%zu</td></tr>\n",
			kb_audit_rule_name((kb_audit_rule)r), h->rule_count[r]);
	fputs("</table>\n<table><tr><th>id</th><th>status</th><th>score</th><th>findings</th>"
	      "<th>detail</th></tr>\n", f);
	for (i = 0; i < h->count; i++) {
		if (!h->cases[i].findings && h->cases[i].score >= 80)
			continue;
		findings_text(&fb, h->cases[i].findings);
		fputs("<tr><td>", f);
		esc(f, h->cases[i].id);
		fputs("</td><td>", f);
		esc(f, h->cases[i].status);
		fprintf(f, "</td><td class=\"n\">%d</td><td>%s</td><td>", h->cases[i].score, fb.ptr);
		esc(f, h->cases[i].detail);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	kb_buf_release(&fb);
}

static void html_single(FILE *f, const kb_audit_risk_report *r)
{
	size_t i, n = 0;

	fputs("<table><tr><th>equipment</th><th>failure mode</th><th>validated</th>"
	      "<th>only author</th></tr>\n", f);
	for (i = 0; i < r->count; i++) {
		if (!r->areas[i].sole || (r->areas[i].failure_mode && r->areas[i].validated < 2))
			continue;
		n++;
		fputs("<tr><td>", f);
		esc(f, r->areas[i].equipment);
		fputs("</td><td>", f);
		esc(f, r->areas[i].failure_mode ? r->areas[i].failure_mode : "(all)");
		fprintf(f, "</td><td class=\"n\">%zu</td><td class=\"single\">", r->areas[i].validated);
		esc(f, r->areas[i].sole);
		fputs("</td></tr>\n", f);
	}
	fprintf(f, "</table>\n<p>%zu areas with two or more validated cases known to one person "
		"(single-case failure modes left out).</p>\n", n);
}

/* The 20 most frequent gap groups, or a line saying there are none. */
static void html_gaps(FILE *f, const kb_gaps_report *g)
{
	size_t i, j;

	if (!g || !g->ngroups) {
		fputs(g ? "<p>No failed lookups logged on this machine.</p>\n" :
		      "<p>The gaps log could not be read.</p>\n", f);
		return;
	}
	fprintf(f, "<p>%zu lookups without a useful answer on this machine, %zu groups of "
		"wording; the most frequent:</p>\n<table>\n<tr><th>count</th><th>last seen</th>"
		"<th>wording</th><th>other wordings</th></tr>\n", g->nevents, g->ngroups);
	for (i = 0; i < g->ngroups && i < 20; i++) {
		fprintf(f, "<tr><td class=\"n\">%zu</td><td>%.10s</td><td>", g->groups[i].count,
			g->groups[i].last);
		esc(f, g->groups[i].wording);
		fputs("</td><td>", f);
		for (j = 0; j < g->groups[i].nothers; j++) {
			fputs(j ? "; " : "", f);
			esc(f, g->groups[i].others[j]);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void write_report(FILE *f, kb_audit *a, const kb_audit_coverage_report *c,
			 const kb_audit_health_report *h, const kb_audit_risk_report *r,
			 const kb_audit_activity_report *act, const kb_gaps_report *g)
{
	char today[11];

	cli_today(today);
	fputs(html_head, f);
	fprintf(f, "<h1>Knowledge audit</h1>\n<p>%s: %zu cases.</p>\n", today,
		kb_audit_case_count(a));
	fputs("<h2>Risk: knowledge held by one person</h2>\n", f);
	svg_risk(f, r);
	html_single(f, r);
	fputs("<h2>Coverage: validated cases, equipment &times; failure mode</h2>\n", f);
	svg_heatmap(f, c);
	fprintf(f, "<p>%zu cells with cases; %zu empty combinations.</p>\n", c->nonempty,
		c->count - c->nonempty);
	fputs("<h2>Activity: contributions per month</h2>\n", f);
	svg_activity(f, act);
	fputs("<h2>Health</h2>\n", f);
	html_health(f, h);
	fputs("<h2>Gaps: lookups that found nothing useful</h2>\n", f);
	html_gaps(f, g);
	fputs("</body>\n</html>\n", f);
}

static int run_report(kb_audit *a, kb_store *s, const audit_args *ar)
{
	kb_gaps_report *g = NULL;
	kb_audit_coverage_report *c = NULL;
	kb_audit_health_report *h = NULL;
	kb_audit_risk_report *r = NULL;
	kb_audit_activity_report *act = NULL;
	FILE *f = NULL;
	int rc = 0;

	if (kb_audit_coverage(&c, a, NULL, 0) < 0 || kb_audit_health(&h, a) < 0 ||
	    kb_audit_risk(&r, a, NULL) < 0 || kb_audit_activity(&act, a) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (kb_gaps_read(&g, s, NULL) == 0)
		cli_print_diags(stderr, &g->warnings, NULL);
	else
		fprintf(stderr, "kb: warning: %s\n", kb_error_last()->message);
	if (!(f = fopen(ar->html, "w"))) {
		fprintf(stderr, "kb: cannot write '%s': %s\n", ar->html, strerror(errno));
		rc = CLI_INTERNAL;
		goto done;
	}
	write_report(f, a, c, h, r, act, g);
	if (fclose(f) != 0) {
		fprintf(stderr, "kb: cannot write '%s': %s\n", ar->html, strerror(errno));
		rc = CLI_INTERNAL;
	}
done:
	kb_audit_coverage_free(c);
	kb_audit_health_free(h);
	kb_audit_risk_free(r);
	kb_audit_activity_free(act);
	kb_gaps_report_free(g);
	return rc;
}

/* ---- arguments --------------------------------------------------------- */

static int parse_by(audit_args *ar, const char *s)
{
	char *comma;

	free(ar->by_copy);
	ar->by_copy = kb_xstrdup(s);
	ar->by[0] = ar->by_copy;
	ar->nby = 1;
	if ((comma = strchr(ar->by_copy, ',')) != NULL) {
		*comma = '\0';
		ar->by[1] = comma + 1;
		ar->nby = 2;
		if (strchr(comma + 1, ','))
			return cli_usage_error("--by takes one or two fields, not '%s'", s);
	}
	if (!*ar->by[0] || (ar->nby == 2 && !*ar->by[1]))
		return cli_usage_error("--by wants FIELD or FIELD,FIELD, not '%s'", s);
	return 0;
}

static int parse_int(int *out, const char *name, const char *s)
{
	size_t n;
	int rc = cli_parse_limit(&n, name, s);

	*out = (int)n;
	return rc;
}

/* A calendar date written YYYY-MM-DD. */
static int is_date(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	return end && !*end && strlen(s) == 10;
}

static int parse_options(audit_args *ar, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' }, { "leaving", required_argument, NULL, 'l' },
		{ "days", required_argument, NULL, 'd' }, { "months", required_argument, NULL, 'm' },
		{ "thin", required_argument, NULL, 't' }, { "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' }, { "html", required_argument, NULL, 'H' },
		{ "since", required_argument, NULL, 'S' }, { "export", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	int c, rc = 0;

	optind = 0;
	while (!rc && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': rc = parse_by(ar, optarg); break;
		case 'l': ar->leaving = optarg; break;
		case 'd': rc = parse_int(&ar->opts.draft_days, "--days", optarg); break;
		case 'm': rc = parse_int(&ar->opts.stale_months, "--months", optarg); break;
		case 't': rc = cli_parse_limit(&ar->opts.thin, "--thin", optarg); break;
		case 'j': ar->json = 1; break;
		case 'c': ar->csv = 1; break;
		case 'H': ar->html = optarg; break;
		case 'S': ar->since = optarg; break;
		case 'E': ar->export_file = optarg; break;
		case 'h': fputs(usage_text, stdout); return -1;
		default: fputs(usage_text, stderr); return CLI_USAGE;
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (ar->json && ar->csv)
		return cli_usage_error("--json and --csv exclude each other");
	if (ar->leaving && strcmp(ar->verb, "risk"))
		return cli_usage_error("--leaving is an option of 'kb audit risk'");
	if (!strcmp(ar->verb, "report") != !!ar->html)
		return cli_usage_error("'kb audit report' needs --html FILE, the only audit with it");
	if ((ar->since || ar->export_file) && strcmp(ar->verb, "gaps"))
		return cli_usage_error("--since and --export are options of 'kb audit gaps'");
	if (ar->since && !is_date(ar->since))
		return cli_usage_error("option '--since' wants YYYY-MM-DD, not '%s'", ar->since);
	if (ar->nby && strcmp(ar->verb, "coverage"))
		return cli_usage_error("--by is an option of 'kb audit coverage'");
	return 0;
}

static int run_verb(kb_audit *a, kb_store *s, const audit_args *ar)
{
	if (!strcmp(ar->verb, "coverage"))
		return ar->json ? coverage_json_out(a, ar) : run_coverage(a, ar);
	if (!strcmp(ar->verb, "health"))
		return run_health(a, ar);
	if (!strcmp(ar->verb, "risk"))
		return run_risk(a, ar);
	if (!strcmp(ar->verb, "report"))
		return run_report(a, s, ar);
	return run_activity(a, ar);
}

static int known_verb(const char *v)
{
	return !strcmp(v, "coverage") || !strcmp(v, "health") || !strcmp(v, "risk") ||
	       !strcmp(v, "activity") || !strcmp(v, "report") || !strcmp(v, "gaps");
}

int cmd_audit(int argc, char **argv)
{
	audit_args ar;
	kb_audit_options dflt = KB_AUDIT_OPTIONS_INIT;
	kb_store *s = NULL;
	kb_audit *a = NULL;
	int rc;

	memset(&ar, 0, sizeof(ar));
	ar.opts = dflt;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	ar.verb = argv[1];
	if (!known_verb(ar.verb))
		return cli_usage_error("unknown audit '%s' (coverage, health, risk, activity, gaps, report)",
				       ar.verb);
	if ((rc = parse_options(&ar, argc - 1, argv + 1)))
		goto done;
	if ((rc = cli_open_store(&s)))
		goto done;
	if (!strcmp(ar.verb, "gaps")) {
		rc = run_gaps(s, &ar);  /* the log only: no cases, no history */
		goto done;
	}
	if (kb_audit_open(&a, s, &ar.opts) < 0) {
		rc = cli_fail();
		goto done;
	}
	cli_print_diags(stderr, kb_audit_warnings(a), NULL);
	rc = run_verb(a, s, &ar);
done:
	kb_audit_free(a);
	kb_store_free(s);
	free(ar.by_copy);
	return rc < 0 ? CLI_OK : rc;
}
