/*
 * gaps.c - the gaps log (kb/gaps.h): one line per search or similar-case
 * lookup that found nothing useful, appended under the git directory, and
 * its reading back into groups of similar wording.  Line format and the
 * grouping rule: docs/internals/audit.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kb/case.h"
#include "kb/config.h"
#include "kb/gaps.h"
#include "kb/tokenizer.h"

/* ---- recording --------------------------------------------------------- */

int kb_gaps_path(kb_buf *out, kb_store *s)
{
	if (kb_store_cachedir(out, s) < 0)
		return KB_EIO;
	kb_buf_puts(out, "gaps.log");
	return 0;
}

/* Backslash, tab, CR, LF and other control bytes escaped, so that a line
 * holds one event whatever the query contains. */
static void escape(kb_buf *out, const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\\')
			kb_buf_puts(out, "\\\\");
		else if (c == '\t')
			kb_buf_puts(out, "\\t");
		else if (c == '\n')
			kb_buf_puts(out, "\\n");
		else if (c == '\r')
			kb_buf_puts(out, "\\r");
		else if (c < 0x20 || c == 0x7f)
			kb_buf_printf(out, "\\x%02x", c);
		else
			kb_buf_putc(out, (char)c);
	}
}

/* 1 when the hits of `command` found nothing useful, 0 when they did,
 * KB_EINPUT for an unknown command. */
static int is_gap(kb_store *s, const char *command, const kb_hits *hits)
{
	double threshold;

	if (!strcmp(command, "search"))
		return hits->count == 0;
	if (strcmp(command, "similar"))
		return kb_error_set(KB_EINPUT, NULL, 0, "unknown gaps command '%s'", command);
	threshold = kb_config_get_double(kb_store_config(s), "audit.gapThreshold",
					 KB_GAPS_THRESHOLD);
	return hits->count == 0 || hits->items[0].score < threshold;
}

/* Length of `q` cut to KB_GAPS_QUERY_MAX bytes without splitting a
 * character; trailing blanks dropped. */
static size_t bounded_len(const char *q)
{
	size_t n = strlen(q);

	if (n > KB_GAPS_QUERY_MAX) {
		n = KB_GAPS_QUERY_MAX;
		while (n > 0 && ((unsigned char)q[n] & 0xc0) == 0x80)
			n--;
	}
	while (n > 0 && strchr(" \t\r\n", q[n - 1]))
		n--;
	return n;
}

static int append_line(const char *path, const kb_buf *line)
{
	size_t off = 0;
	ssize_t w;
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return kb_error_set(KB_EIO, path, 0, "cannot open '%s': %s", path, strerror(errno));
	while (off < line->len) {
		w = write(fd, line->ptr + off, line->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = kb_error_set(KB_EIO, path, 0, "cannot write '%s': %s", path,
					  strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0 && !rc)
		rc = kb_error_set(KB_EIO, path, 0, "cannot write '%s': %s", path, strerror(errno));
	return rc;
}

int kb_gaps_record(kb_store *s, const char *command, const char *query, const kb_hits *hits)
{
	const char *off = getenv("KB_NO_GAPS_LOG");
	kb_buf path = KB_BUF_INIT, line = KB_BUF_INIT;
	char when[32], *norm = NULL;
	struct tm tm;
	time_t now = time(NULL);
	size_t n;
	int rc;

	if (off && *off && strcmp(off, "0"))
		return 0;
	if ((rc = is_gap(s, command, hits)) <= 0)
		return rc;
	n = query ? bounded_len(query) : 0;
	if (n == 0 || !(norm = kb_text_normalize(query, n)))
		return 0;
	if ((rc = kb_gaps_path(&path, s)) < 0)
		goto done;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	kb_buf_printf(&line, "%s\t%s\t%.3f\t", when, command,
		      hits->count ? hits->items[0].score : 0.0);
	escape(&line, query, n);
	kb_buf_putc(&line, '\n');
	rc = append_line(path.ptr, &line) < 0 ? KB_EIO : 1;
done:
	free(norm);
	kb_buf_release(&path);
	kb_buf_release(&line);
	return rc;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct {
	char **tok;          /* sorted, distinct */
	size_t n;
} tokset;

typedef struct {
	const char *text;    /* first spelling met */
	char *norm;          /* normalised wording: the identity of a wording */
	size_t count, first; /* events, index of the first */
} wording;

typedef struct {
	tokset seed;         /* token set of the group's first wording */
	wording *w;
	size_t nw;
	size_t count;
	const char *first, *last;
} group;

/* The report with the strings it owns (the public part comes first). */
typedef struct {
	kb_gaps_report pub;
	char **pool;
	size_t npool;
} report_impl;

typedef struct {
	kb_gaps_report *r;
	report_impl *impl;
	group *g;
	size_t ng;
} reader;

static const char *keep(reader *rd, char *s)
{
	report_impl *im = rd->impl;

	im->pool = kb_xrealloc(im->pool, (im->npool + 1) * sizeof(*im->pool));
	im->pool[im->npool++] = s;
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Undo escape(); -1 on a bad escape sequence. */
static int unescape(kb_buf *out, const char *s, size_t len)
{
	size_t i;
	unsigned v;

	for (i = 0; i < len; i++) {
		if (s[i] != '\\') {
			kb_buf_putc(out, s[i]);
			continue;
		}
		if (++i == len)
			return -1;
		switch (s[i]) {
		case '\\': kb_buf_putc(out, '\\'); break;
		case 't': kb_buf_putc(out, '\t'); break;
		case 'n': kb_buf_putc(out, '\n'); break;
		case 'r': kb_buf_putc(out, '\r'); break;
		case 'x':
			if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return -1;
			v = (unsigned)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			if (!v)
				return -1;
			kb_buf_putc(out, (char)v);
			i += 2;
			break;
		default: return -1;
		}
	}
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" */
static int valid_time(const char *t, size_t len)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	if (len != sizeof(pat) - 1)
		return 0;
	for (i = 0; i < len; i++)
		if (pat[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != pat[i])
			return 0;
	return 1;
}

/* Split a line into its four tab-separated fields and check the first
 * three; 0, or -1 with a reason in *why. */
static int split_fields(const char *f[4], size_t flen[4], double *score, const char *p,
			size_t len, const char **why)
{
	const char *end = p + len, *t = p, *tab;
	char num[32], *stop;
	size_t i;

	for (i = 0; i < 4; i++) {
		tab = memchr(t, '\t', (size_t)(end - t));
		if (i < 3 ? !tab : tab != NULL)
			return *why = "not four tab-separated fields", -1;
		f[i] = t;
		flen[i] = (size_t)((i < 3 ? tab : end) - t);
		t = f[i] + flen[i] + 1;
	}
	if (!valid_time(f[0], flen[0]))
		return *why = "bad time", -1;
	if (!((flen[1] == 6 && !memcmp(f[1], "search", 6)) ||
	      (flen[1] == 7 && !memcmp(f[1], "similar", 7))))
		return *why = "unknown command", -1;
	if (flen[2] == 0 || flen[2] >= sizeof(num))
		return *why = "bad score", -1;
	memcpy(num, f[2], flen[2]);
	num[flen[2]] = '\0';
	*score = strtod(num, &stop);
	if (*stop || !(*score >= 0 && *score <= 1e9))   /* also rejects nan */
		return *why = "bad score", -1;
	return 0;
}

/* Parse one line (without its newline) into an event, unless it is older
 * than `since`; 0, or -1 with a reason in *why (nothing added). */
static int parse_line(reader *rd, const char *p, size_t len, const char *since,
		      const char **why)
{
	const char *f[4];
	size_t flen[4];
	kb_buf q = KB_BUF_INIT;
	kb_gaps_event *e;
	double score;
	int rc = -1;

	if (split_fields(f, flen, &score, p, len, why) < 0)
		goto done;
	if (unescape(&q, f[3], flen[3]) < 0 || q.len == 0 || memchr(q.ptr, '\0', q.len) ||
	    kb_utf8_check(q.ptr, q.len, NULL) < 0) {
		*why = "bad query text";
		goto done;
	}
	rc = 0;
	if (since && strncmp(f[0], since, 10) < 0)
		goto done;
	rd->r->events = kb_xrealloc(rd->r->events, (rd->r->nevents + 1) * sizeof(*e));
	e = &rd->r->events[rd->r->nevents++];
	e->time = keep(rd, kb_xstrndup(f[0], flen[0]));
	e->command = flen[1] == 6 ? "search" : "similar";
	e->score = score;
	e->query = keep(rd, kb_buf_detach(&q));
done:
	kb_buf_release(&q);
	return rc;
}

static void parse_text(reader *rd, const char *text, size_t len, const char *path,
		       const char *since)
{
	const char *p = text, *end = text + len, *nl, *why = NULL;
	int line = 0;

	for (; p < end; p = nl + 1) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			kb_diags_add(&rd->r->warnings, KB_DIAG_WARNING, path, line,
				     "truncated line skipped (no newline)");
			break;
		}
		if ((size_t)(nl - p) > KB_GAPS_LINE_MAX)
			why = "line too long";
		else if (parse_line(rd, p, (size_t)(nl - p), since, &why) == 0)
			continue;
		kb_diags_add(&rd->r->warnings, KB_DIAG_WARNING, path, line,
			     "malformed line skipped: %s", why);
	}
}

/* ---- grouping ---------------------------------------------------------- */

static int add_token(void *payload, int flags, const char *tok, int len, int start, int end)
{
	tokset *ts = payload;

	(void)flags;
	(void)start;
	(void)end;
	ts->tok = kb_xrealloc(ts->tok, (ts->n + 1) * sizeof(*ts->tok));
	ts->tok[ts->n++] = kb_xstrndup(tok, (size_t)len);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted distinct tokens of a normalised wording. */
static void tokenize(tokset *ts, const char *norm)
{
	size_t i, j;

	ts->tok = NULL;
	ts->n = 0;
	kb_tokenize(NULL, norm, (int)strlen(norm), add_token, ts);
	if (ts->n)
		qsort(ts->tok, ts->n, sizeof(*ts->tok), cmp_str);
	for (i = j = 0; i < ts->n; i++) {
		if (j && !strcmp(ts->tok[j - 1], ts->tok[i]))
			free(ts->tok[i]);
		else
			ts->tok[j++] = ts->tok[i];
	}
	ts->n = j;
}

static void tokset_release(tokset *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		free(ts->tok[i]);
	free(ts->tok);
}

/* |a & b| / |a | b|; two empty sets (stop words only) are alike only when
 * the wordings are the same. */
static double jaccard(const tokset *a, const tokset *b, const char *na, const char *nb)
{
	size_t i = 0, j = 0, both = 0;
	int c;

	if (!a->n && !b->n)
		return strcmp(na, nb) ? 0.0 : 1.0;
	while (i < a->n && j < b->n) {
		c = strcmp(a->tok[i], b->tok[j]);
		both += c == 0;
		i += c <= 0;
		j += c >= 0;
	}
	return (double)both / (double)(a->n + b->n - both);
}

static void group_add(group *g, const kb_gaps_event *e, char *norm, size_t idx)
{
	size_t i;

	g->count++;
	if (!g->first || strcmp(e->time, g->first) < 0)
		g->first = e->time;
	if (!g->last || strcmp(e->time, g->last) > 0)
		g->last = e->time;
	for (i = 0; i < g->nw; i++) {
		if (!strcmp(g->w[i].norm, norm)) {
			g->w[i].count++;
			free(norm);
			return;
		}
	}
	g->w = kb_xrealloc(g->w, (g->nw + 1) * sizeof(*g->w));
	g->w[g->nw].text = e->query;
	g->w[g->nw].norm = norm;
	g->w[g->nw].count = 1;
	g->w[g->nw++].first = idx;
}

/* Put event `idx` in the most similar group, or a new one. */
static void assign(reader *rd, size_t idx)
{
	const kb_gaps_event *e = &rd->r->events[idx];
	char *norm = kb_text_normalize(e->query, strlen(e->query));
	tokset ts;
	size_t i, best = rd->ng;
	double sim, best_sim = KB_GAPS_JACCARD;

	if (!norm)
		norm = kb_xstrdup(e->query);
	tokenize(&ts, norm);
	for (i = 0; i < rd->ng; i++) {
		sim = jaccard(&ts, &rd->g[i].seed, norm, rd->g[i].w[0].norm);
		if (sim >= best_sim && (best == rd->ng || sim > best_sim)) {
			best = i;
			best_sim = sim;
		}
	}
	if (best == rd->ng) {
		rd->g = kb_xrealloc(rd->g, (rd->ng + 1) * sizeof(*rd->g));
		memset(&rd->g[rd->ng], 0, sizeof(*rd->g));
		rd->g[rd->ng++].seed = ts;
	} else {
		tokset_release(&ts);
	}
	group_add(&rd->g[best], e, norm, idx);
}

static int cmp_group(const void *a, const void *b)
{
	const kb_gaps_group *x = a, *y = b;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if ((c = strcmp(y->last, x->last)))
		return c;
	return strcmp(x->wording, y->wording);
}

/* Turn the internal groups into the report's, freeing them. */
static void finish_groups(reader *rd)
{
	kb_gaps_report *r = rd->r;
	size_t i, j, best;
	group *g;
	kb_gaps_group *out;

	r->groups = kb_xcalloc(rd->ng + 1, sizeof(*r->groups));
	r->ngroups = 0;
	for (i = 0; i < rd->ng; i++) {
		g = &rd->g[i];
		out = &r->groups[r->ngroups++];
		for (j = 1, best = 0; j < g->nw; j++)
			if (g->w[j].count > g->w[best].count)
				best = j;
		out->count = g->count;
		out->first = g->first;
		out->last = g->last;
		out->wording = g->w[best].text;
		out->others = kb_xcalloc(g->nw, sizeof(*out->others));
		for (j = 0; j < g->nw; j++) {
			if (j != best)
				out->others[out->nothers++] = g->w[j].text;
			free(g->w[j].norm);
		}
		free(g->w);
		tokset_release(&g->seed);
	}
	free(rd->g);
	rd->g = NULL;
	if (r->ngroups)
		qsort(r->groups, r->ngroups, sizeof(*r->groups), cmp_group);
}

int kb_gaps_parse(kb_gaps_report **out, const char *text, size_t len, const char *path,
		  const char *since)
{
	reader rd;
	size_t i;

	memset(&rd, 0, sizeof(rd));
	rd.impl = kb_xcalloc(1, sizeof(*rd.impl));
	rd.r = &rd.impl->pub;
	parse_text(&rd, text, len, path, since);
	for (i = 0; i < rd.r->nevents; i++)
		assign(&rd, i);
	finish_groups(&rd);
	*out = rd.r;
	return 0;
}

static int read_all(kb_buf *out, const char *path, int *missing)
{
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	*missing = 0;
	if (!f) {
		if (errno == ENOENT)
			return *missing = 1, 0;
		return kb_error_set(KB_EIO, path, 0, "cannot read '%s': %s", path, strerror(errno));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kb_buf_put(out, chunk, n);
	if (ferror(f))
		rc = kb_error_set(KB_EIO, path, 0, "cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	return rc;
}

int kb_gaps_read(kb_gaps_report **out, kb_store *s, const char *since)
{
	kb_buf path = KB_BUF_INIT, text = KB_BUF_INIT;
	int rc, missing;

	*out = NULL;
	if ((rc = kb_gaps_path(&path, s)) < 0)
		goto done;
	if ((rc = read_all(&text, path.ptr, &missing)) < 0)
		goto done;
	rc = kb_gaps_parse(out, text.ptr ? text.ptr : "", text.len, path.ptr, since);
done:
	kb_buf_release(&path);
	kb_buf_release(&text);
	return rc;
}

void kb_gaps_report_free(kb_gaps_report *r)
{
	report_impl *im = (report_impl *)r;
	size_t i;

	if (!r)
		return;
	for (i = 0; i < im->npool; i++)
		free(im->pool[i]);
	free(im->pool);
	for (i = 0; i < r->ngroups; i++)
		free(r->groups[i].others);
	free(r->groups);
	free(r->events);
	kb_diags_release(&r->warnings);
	free(r);
}
