/*
 * mail.c - the mail source of the import pipeline: .eml files and mbox
 * files parsed with GMime 3 (MIME multipart, quoted-printable and base64,
 * charsets converted to UTF-8), messages grouped into threads by
 * References/In-Reply-To or normalised Subject, one record per thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "import_internal.h"
#include "kb/buf.h"
#include "kb/error.h"
#include "kb/files.h"

typedef struct {
	char *source;     /* file the message came from (owned) */
	int line;         /* message number (.eml) or line of the mbox "From " */
	size_t order;     /* position in the run, for stable sorting */
	gint64 date;      /* unix seconds, 0 when unknown */
	char *when;       /* "2024-03-04 08:00 +0800" or "undated" (g_free) */
	char *from, *subject, *subject_key, *body;   /* owned, UTF-8 */
	char **ids;       /* own Message-ID, then References and In-Reply-To */
	size_t nids;
	int has_refs;
	size_t group;     /* union-find parent */
} mail_msg;

typedef struct {
	mail_msg *items;
	size_t count, alloc;
	int warned;       /* the parser reported a truncated or broken structure */
} mail_list;

static const char *const mail_exts[] = { ".eml", ".mbox", ".mbx", NULL };

/* ---- bodies ------------------------------------------------------------- */

/* Append `html` to `out` without tags, script or style; a few entities. */
static void strip_html(kb_buf *out, const char *html)
{
	static const struct { const char *ent, *ch; } ents[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		{ "&nbsp;", " " }, { "&#39;", "'" },
	};
	const char *p = html, *end;
	size_t i;

	while (*p) {
		if (*p == '<') {
			if (!g_ascii_strncasecmp(p, "<script", 7) || !g_ascii_strncasecmp(p, "<style", 6)) {
				end = strstr(p + 1, "</");
				p = end ? end : p + strlen(p);
			}
			if (!g_ascii_strncasecmp(p, "<br", 3) || !g_ascii_strncasecmp(p, "</p", 3) ||
			    !g_ascii_strncasecmp(p, "</div", 5) || !g_ascii_strncasecmp(p, "</li", 4))
				kb_buf_putc(out, '\n');
			end = strchr(p, '>');
			p = end ? end + 1 : p + strlen(p);
			continue;
		}
		for (i = 0; *p == '&' && i < sizeof(ents) / sizeof(ents[0]); i++)
			if (!strncmp(p, ents[i].ent, strlen(ents[i].ent)))
				break;
		if (*p == '&' && i < sizeof(ents) / sizeof(ents[0])) {
			kb_buf_puts(out, ents[i].ch);
			p += strlen(ents[i].ent);
		} else {
			kb_buf_putc(out, *p++);
		}
	}
}

/* The first text/plain part below `part`, else the first text/html. */
static void find_text(GMimeObject *part, GMimeTextPart **plain, GMimeTextPart **html)
{
	GMimeContentType *ct;
	int i, n;

	if (GMIME_IS_MULTIPART(part)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(part));
		for (i = 0; i < n && !*plain; i++)
			find_text(g_mime_multipart_get_part(GMIME_MULTIPART(part), i), plain, html);
		return;
	}
	if (!GMIME_IS_TEXT_PART(part))
		return;
	ct = g_mime_object_get_content_type(part);
	if (!*plain && g_mime_content_type_is_type(ct, "text", "plain"))
		*plain = GMIME_TEXT_PART(part);
	else if (!*html && g_mime_content_type_is_type(ct, "text", "html"))
		*html = GMIME_TEXT_PART(part);
}

/* 1 for an attribution line such as "On Mon, Ann wrote:" or "张工 写道：". */
static int is_attribution(const char *line, size_t len)
{
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\r'))
		len--;
	return (len >= 6 && !memcmp(line + len - 6, "wrote:", 6)) ||
	       (len >= 9 && !memcmp(line + len - 9, "写道：", 9)) ||
	       (len >= 7 && !memcmp(line + len - 7, "写道:", 7));
}

/* Append the lines of `text` except quoted replies ("> ...", the line that
 * introduces them) and a trailing blank run. */
static void drop_quotes(kb_buf *out, const char *text)
{
	const char *p = text, *nl, *next;
	size_t len, start = out->len;

	for (; *p; p = nl ? nl + 1 : p + len) {
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (*p == '>' || (out->len == start && strspn(p, " \r") == len))
			continue;
		next = nl ? nl + 1 : "";
		if (is_attribution(p, len) && *next == '>')
			continue;
		kb_buf_put(out, p, len);
		kb_buf_putc(out, '\n');
	}
	len = out->len;
	while (len > start && (out->ptr[len - 1] == '\n' || out->ptr[len - 1] == ' ' ||
			       out->ptr[len - 1] == '\r'))
		len--;
	kb_buf_truncate(out, len);
}

/* The message's text in UTF-8 without quoted replies; owned by the caller. */
static char *message_body(GMimeMessage *m)
{
	GMimeObject *body = g_mime_message_get_mime_part(m);
	GMimeTextPart *plain = NULL, *html = NULL;
	kb_buf stripped = KB_BUF_INIT, out = KB_BUF_INIT;
	char *text;

	if (body)
		find_text(body, &plain, &html);
	text = plain ? g_mime_text_part_get_text(plain) : html ? g_mime_text_part_get_text(html) : NULL;
	if (text && !plain)
		strip_html(&stripped, text);
	drop_quotes(&out, stripped.len ? stripped.ptr : text ? text : "");
	g_free(text);
	kb_buf_release(&stripped);
	return kb_buf_detach(&out);
}

/* ---- headers and threads ---------------------------------------------- */

/* Subject without leading Re:/Fwd:/Fw:/回复:/转发: (any number, any case),
 * spaces folded, lower-cased ASCII; owned by the caller. */
static char *subject_key(const char *subject)
{
	static const char *const pre[] = { "re:", "fwd:", "fw:", "aw:", "回复:", "回复：",
					   "转发:", "转发：", "答复:", "答复：" };
	const char *p = subject ? subject : "";
	size_t i, n;
	int again = 1;
	char *key;

	while (again) {
		again = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
			n = strlen(pre[i]);
			if (!g_ascii_strncasecmp(p, pre[i], n)) {
				p += n;
				again = 1;
			}
		}
	}
	key = g_ascii_strdown(p, -1);
	n = strlen(key);
	while (n && (key[n - 1] == ' ' || key[n - 1] == '\t'))
		key[--n] = '\0';
	return key;
}

static void add_id(mail_msg *m, const char *id)
{
	if (!id || !*id)
		return;
	m->ids = kb_xrealloc(m->ids, (m->nids + 1) * sizeof(*m->ids));
	m->ids[m->nids++] = kb_xstrdup(id);
}

static void add_refs(mail_msg *m, GMimeMessage *msg, const char *header)
{
	const char *value = g_mime_object_get_header(GMIME_OBJECT(msg), header);
	GMimeReferences *refs;
	int i;

	if (!value)
		return;
	refs = g_mime_references_parse(NULL, value);
	for (i = 0; refs && i < g_mime_references_length(refs); i++) {
		add_id(m, g_mime_references_get_message_id(refs, i));
		m->has_refs = 1;
	}
	if (refs)
		g_mime_references_free(refs);
}

static char *address_text(InternetAddressList *l)
{
	char *s = l && internet_address_list_length(l) ? internet_address_list_to_string(l, NULL, FALSE)
						       : NULL;
	char *copy = kb_xstrdup(s ? s : "");

	g_free(s);
	return copy;
}

/* Line number (1-based) of byte `offset` in `text`. */
static int line_of(const kb_buf *text, gint64 offset)
{
	int line = 1;
	size_t i;

	for (i = 0; i < text->len && (gint64)i < offset; i++)
		line += text->ptr[i] == '\n';
	return line;
}

static void add_message(mail_list *l, GMimeMessage *msg, const char *path, int line)
{
	GDateTime *date = g_mime_message_get_date(msg);
	const char *subject = g_mime_message_get_subject(msg);
	mail_msg *m;

	if (l->count == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		l->items = kb_xrealloc(l->items, l->alloc * sizeof(*l->items));
	}
	m = &l->items[l->count];
	memset(m, 0, sizeof(*m));
	m->source = kb_xstrdup(path);
	m->line = line;
	m->order = m->group = l->count++;
	m->date = date ? g_date_time_to_unix(date) : 0;
	m->when = date ? g_date_time_format(date, "%Y-%m-%d %H:%M %z") : g_strdup("undated");
	m->from = address_text(g_mime_message_get_from(msg));
	m->subject = kb_xstrdup(subject ? subject : "");
	m->subject_key = subject_key(subject);
	m->body = message_body(msg);
	add_id(m, g_mime_message_get_message_id(msg));
	add_refs(m, msg, "References");
	add_refs(m, msg, "In-Reply-To");
}

static size_t find_group(mail_list *l, size_t i)
{
	while (l->items[i].group != i)
		i = l->items[i].group = l->items[l->items[i].group].group;
	return i;
}

static int share_id(const mail_msg *a, const mail_msg *b)
{
	size_t i, j;

	for (i = 0; i < a->nids; i++)
		for (j = 0; j < b->nids; j++)
			if (!strcmp(a->ids[i], b->ids[j]))
				return 1;
	return 0;
}

/* Join messages that share a Message-ID or reference, then messages
 * without references to others with the same normalised subject. */
static void group_threads(mail_list *l)
{
	size_t i, j, a, b;

	for (i = 0; i < l->count; i++)
		for (j = i + 1; j < l->count; j++) {
			mail_msg *x = &l->items[i], *y = &l->items[j];
			int same = share_id(x, y) ||
				   ((!x->has_refs || !y->has_refs) && *x->subject_key &&
				    !strcmp(x->subject_key, y->subject_key));

			if (same && (a = find_group(l, i)) != (b = find_group(l, j)))
				l->items[a > b ? a : b].group = a < b ? a : b;
		}
	for (i = 0; i < l->count; i++)
		l->items[i].group = find_group(l, i);
}

/* Thread first (by its first message), then date, then input order. */
static int by_thread_date(const void *pa, const void *pb)
{
	const mail_msg *a = pa, *b = pb;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	if (a->date != b->date && a->date && b->date)
		return a->date < b->date ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* ---- files -------------------------------------------------------------- */

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	(void)offset;
	(void)item;
	if (code == GMIME_WARN_TRUNCATED_MESSAGE || code == GMIME_WARN_MALFORMED_MULTIPART ||
	    code == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY || code == GMIME_CRIT_NESTING_OVERFLOW ||
	    code == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT)
		((mail_list *)data)->warned = 1;
}

/* 1 when the message has none of the headers a mail carries. */
static int not_mail(GMimeMessage *m)
{
	GMimeObject *o = GMIME_OBJECT(m);

	return !g_mime_object_get_header(o, "From") && !g_mime_object_get_header(o, "Subject") &&
	       !g_mime_object_get_header(o, "Message-ID") && !g_mime_object_get_header(o, "Date");
}

static int parse_file(mail_list *l, const char *path, const kb_buf *text)
{
	int mbox = text->len >= 5 && !memcmp(text->ptr, "From ", 5);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text->ptr, text->len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeParserOptions *po = g_mime_parser_options_new();
	GMimeMessage *msg;
	int rc = 0, n = 0;

	g_mime_parser_options_set_warning_callback(po, on_warning, l);
	g_mime_parser_set_format(parser, mbox ? GMIME_FORMAT_MBOX : GMIME_FORMAT_MESSAGE);
	l->warned = 0;
	while (rc == 0 && !g_mime_parser_eos(parser) &&
	       (msg = g_mime_parser_construct_message(parser, po))) {
		n++;
		if (l->warned)
			rc = kb_error_set(KB_EINPUT, path, mbox ? line_of(text, g_mime_parser_get_mbox_marker_offset(parser)) : 0,
					  "broken MIME structure in message %d (missing or wrong boundary, truncated)", n);
		else if (not_mail(msg))
			rc = kb_error_set(KB_EINPUT, path, 0, "not a mail message (no From, Subject, Date or Message-ID header)");
		else
			add_message(l, msg, path, mbox ? line_of(text, g_mime_parser_get_mbox_marker_offset(parser)) : n);
		g_object_unref(msg);
		if (!mbox)
			break;
	}
	if (rc == 0 && n == 0)
		rc = kb_error_set(KB_EINPUT, path, 0, "no mail message found");
	g_mime_parser_options_free(po);
	g_object_unref(parser);
	g_object_unref(stream);
	return rc;
}

typedef struct {
	import_run *run;
	mail_list *list;
} walk_state;

static int read_mail_file(const char *path, void *payload)
{
	walk_state *w = payload;
	kb_buf text = KB_BUF_INIT;
	int rc = kb__import_read(&text, path);

	if (rc == 0 && text.len == 0)
		rc = kb_error_set(KB_EINPUT, path, 0, "empty file, not mail");
	else if (rc == 0 && memchr(text.ptr, '\0', text.len))
		rc = kb_error_set(KB_EINPUT, path, 0, "binary file (NUL byte), not mail");
	if (rc == 0)
		rc = parse_file(w->list, path, &text);
	if (rc == 0)
		kb__import_source(w->run, path);
	kb_buf_release(&text);
	return rc;
}

/* One record per thread: its subject, then every message oldest first. */
static int import_threads(import_run *run, mail_list *l)
{
	kb_buf text = KB_BUF_INIT;
	size_t i, first;
	int rc = 0;

	group_threads(l);
	qsort(l->items, l->count, sizeof(*l->items), by_thread_date);
	for (i = 0; i < l->count; i++)
		run->progress.records_total += i == 0 || l->items[i].group != l->items[i - 1].group;
	for (i = first = 0; i < l->count && rc == 0; i++) {
		mail_msg *m = &l->items[i];

		if (i == first)
			kb_buf_printf(&text, "%s\n", m->subject);
		kb_buf_printf(&text, "\n%s, %s:\n%s\n", m->from, m->when, m->body);
		if (i + 1 == l->count || l->items[i + 1].group != m->group) {
			rc = kb__import_record(run, l->items[first].source, l->items[first].line,
					       text.ptr, text.len, NULL);
			kb_buf_clear(&text);
			first = i + 1;
		}
	}
	kb_buf_release(&text);
	return rc;
}

static void mail_list_release(mail_list *l)
{
	size_t i, j;

	for (i = 0; i < l->count; i++) {
		mail_msg *m = &l->items[i];

		for (j = 0; j < m->nids; j++)
			free(m->ids[j]);
		free(m->ids);
		free(m->source);
		free(m->from);
		free(m->subject);
		g_free(m->subject_key);
		g_free(m->when);
		free(m->body);
	}
	free(l->items);
}

/* GMime is set up once per process and never shut down: g_mime_shutdown()
 * cannot be followed by another g_mime_init(), and a library cannot know
 * which call is the last. */
static GOnce mime_once = G_ONCE_INIT;

static gpointer mime_init(gpointer unused)
{
	(void)unused;
	g_mime_init();
	return NULL;
}

int kb_import_mail(kb_import_result *out, kb_store *s, const char *const *paths, size_t npaths,
		   const kb_import_options *opts)
{
	kb_import_options dflt = KB_IMPORT_OPTIONS_INIT;
	mail_list list = { NULL, 0, 0, 0 };
	import_run run;
	walk_state w = { &run, &list };
	size_t i;
	int rc = kb__import_begin(&run, out, s, opts ? opts : &dflt);

	run.noun = "thread";
	g_once(&mime_once, mime_init, NULL);
	for (i = 0; i < npaths && rc == 0; i++)
		rc = kb_files_walk(paths[i], mail_exts, read_mail_file, &w);
	if (rc == 0)
		rc = import_threads(&run, &list);
	mail_list_release(&list);
	return kb__import_end(&run, rc);
}
