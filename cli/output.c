/*
 * output.c - the printers of the `kb` command: diagnostics, JSON (through
 * jansson; schema in docs/json.md), terminal-width aware table cells, and
 * search hits as text or JSON.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <utf8proc.h>

#include "cli.h"

void cli_print_diags(FILE *f, const kb_diags *d, const char *dflt_path)
{
	const char *path;
	size_t i;

	for (i = 0; i < d->count; i++) {
		path = d->items[i].path ? d->items[i].path : dflt_path;
		if (path && d->items[i].line > 0)
			fprintf(f, "%s:%d: ", path, d->items[i].line);
		else if (path)
			fprintf(f, "%s: ", path);
		fprintf(f, "%s: %s\n", d->items[i].severity == KB_DIAG_ERROR ? "error" : "warning",
			d->items[i].message);
	}
}

/* Copy s, replacing each byte that does not start a valid UTF-8 sequence
 * with U+FFFD, so jansson accepts it. */
static json_t *json_str_repaired(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	kb_buf b = KB_BUF_INIT;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	json_t *v;

	while (*p) {
		n = utf8proc_iterate(p, -1, &cp);
		if (n <= 0) {
			kb_buf_puts(&b, "\xEF\xBF\xBD");
			p++;
			continue;
		}
		kb_buf_put(&b, p, (size_t)n);
		p += n;
	}
	v = json_string(b.ptr);
	kb_buf_release(&b);
	return v;
}

json_t *cli_json_str(const char *s)
{
	json_t *v;

	if (!s)
		return json_null();
	v = json_string(s);
	return v ? v : json_str_repaired(s);
}

int cli_json_print(json_t *v)
{
	int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(v);
	fputc('\n', stdout);
	return rc < 0 ? CLI_INTERNAL : CLI_OK;
}

void cli_json_string(FILE *f, const char *s)
{
	json_t *v = cli_json_str(s ? s : "");

	json_dumpf(v, f, JSON_ENCODE_ANY);
	json_decref(v);
}

/* Decode one code point of s; returns its length (1 for a bad byte, which
 * then counts as one column). */
static size_t next_char(const char *s, int *cols)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp);

	if (n <= 0) {
		*cols = 1;
		return 1;
	}
	*cols = utf8proc_charwidth(cp);
	return (size_t)n;
}

size_t cli_display_width(const char *s)
{
	size_t w = 0;
	int cols;

	while (s && *s) {
		s += next_char(s, &cols);
		w += (size_t)(cols > 0 ? cols : 0);
	}
	return w;
}

void cli_print_padded(FILE *f, const char *s, size_t width)
{
	size_t w = cli_display_width(s);

	fputs(s ? s : "", f);
	for (; w < width; w++)
		fputc(' ', f);
}

void cli_print_cut(FILE *f, const char *s, size_t width)
{
	size_t used = 0, n;
	int cols;

	if (!s)
		return;
	if (cli_display_width(s) <= width) {
		fputs(s, f);
		return;
	}
	while (*s && width > 0) {
		n = next_char(s, &cols);
		if (used + (size_t)(cols > 0 ? cols : 0) > width - 1)
			break;
		fwrite(s, 1, n, f);
		used += (size_t)(cols > 0 ? cols : 0);
		s += n;
	}
	if (width > 0)
		fputs("\xE2\x80\xA6", f);
}

size_t cli_term_width(void)
{
	struct winsize ws;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return 80;
	return ws.ws_col;
}

/* One line of snippet text: newlines and tabs become spaces. */
static void print_flat(const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '\n' || *s == '\t' || *s == '\r' ? ' ' : *s, stdout);
}

static int print_hits_json(const kb_hits *hits)
{
	json_t *arr = json_array(), *o;
	const kb_hit *h;
	size_t i;

	for (i = 0; i < hits->count; i++) {
		h = &hits->items[i];
		o = json_object();
		json_object_set_new(o, "id", cli_json_str(h->id));
		json_object_set_new(o, "title", cli_json_str(h->title));
		json_object_set_new(o, "score", json_real(h->score));
		json_object_set_new(o, "path", cli_json_str(h->path));
		if (h->equipment)
			json_object_set_new(o, "equipment", cli_json_str(h->equipment));
		if (h->model)
			json_object_set_new(o, "model", cli_json_str(h->model));
		if (h->status)
			json_object_set_new(o, "status", cli_json_str(h->status));
		if (h->snippet)
			json_object_set_new(o, "snippet", cli_json_str(h->snippet));
		if (h->explain)
			json_object_set_new(o, "explain", cli_json_str(h->explain));
		json_array_append_new(arr, o);
	}
	return cli_json_print(arr);
}

int cli_print_hits(const kb_hits *hits, int json, int explain)
{
	size_t i, idw = 0;
	const kb_hit *h;

	if (json)
		return print_hits_json(hits);
	for (i = 0; i < hits->count; i++)
		if (cli_display_width(hits->items[i].id) > idw)
			idw = cli_display_width(hits->items[i].id);
	for (i = 0; i < hits->count; i++) {
		h = &hits->items[i];
		cli_print_padded(stdout, h->id, idw);
		printf("  %6.2f  %s\n", h->score, h->title ? h->title : "");
		if (h->snippet && *h->snippet) {
			fputs("    ", stdout);
			print_flat(h->snippet);
			fputc('\n', stdout);
		}
		if (explain && h->explain)
			printf("    why: %s\n", h->explain);
	}
	return CLI_OK;
}
