/*
 * reuse.c - reuse records (kb/lifecycle.h): `kb used` appends one line to
 * the author's own file reuse/<email-slug>.log, so engineers recording
 * reuse at the same time never touch the same file; counts read them all.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle_internal.h"

#define REUSE_MAX_BYTES (64u * 1024 * 1024)
#define REUSE_ATTRIBUTES KB_REUSE_DIR "/.gitattributes"

/* Append `s` with backslash, tab, CR and LF escaped. */
static void put_escaped(kb_buf *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			kb_buf_puts(out, "\\\\");
		else if (*s == '\t')
			kb_buf_puts(out, "\\t");
		else if (*s == '\n')
			kb_buf_puts(out, "\\n");
		else if (*s == '\r')
			kb_buf_puts(out, "\\r");
		else
			kb_buf_putc(out, *s);
	}
}

/* "reuse/<slug>.log": the e-mail (else the name) lower-cased, every byte
 * other than a-z 0-9 . _ - replaced by '-'. */
static void person_file(kb_buf *out, const kb_author *who)
{
	const char *p = who->email && *who->email ? who->email : who->name;
	unsigned char ch;

	kb_buf_puts(out, KB_REUSE_DIR "/");
	for (; p && *p; p++) {
		ch = (unsigned char)tolower((unsigned char)*p);
		kb_buf_putc(out, (isalnum(ch) && ch < 128) || ch == '.' || ch == '_' || ch == '-'
				    ? (char)ch : '-');
	}
	kb_buf_puts(out, ".log");
}

int kb_reuse_record(kb_store *s, const char *id, const char *ticket, const char *note,
		    const kb_author *who, char oid[41])
{
	kb_buf rel = KB_BUF_INIT, text = KB_BUF_INIT, attr = KB_BUF_INIT, msg = KB_BUF_INIT;
	kb_case *c = NULL;
	kb_txn *t = NULL;
	char date[11];
	int rc;

	if ((rc = kb_store_read_case(&c, s, id)) < 0)
		goto done;
	person_file(&rel, who);
	rc = kb_store_read_file(&text, s, rel.ptr, REUSE_MAX_BYTES);
	if (rc == KB_ENOTFOUND)
		kb_buf_clear(&text);
	else if (rc < 0)
		goto done;
	if (text.len && text.ptr[text.len - 1] != '\n')
		kb_buf_putc(&text, '\n');
	kb__lc_today(date);
	kb_buf_printf(&text, "%s\t", date);
	put_escaped(&text, id);
	kb_buf_putc(&text, '\t');
	put_escaped(&text, ticket);
	kb_buf_putc(&text, '\t');
	put_escaped(&text, note);
	kb_buf_putc(&text, '\n');
	if ((rc = kb_txn_begin(&t, s)) < 0 || (rc = kb_txn_put(t, rel.ptr, text.ptr, text.len)) < 0)
		goto done;
	rc = kb_store_read_file(&attr, s, REUSE_ATTRIBUTES, 4096);
	if (rc == KB_ENOTFOUND)
		rc = kb_txn_put(t, REUSE_ATTRIBUTES, "*.log merge=union\n", 18);
	if (rc < 0)
		goto done;
	kb_buf_printf(&msg, "Record reuse of %s", id);
	rc = kb_txn_commit(t, who, msg.ptr, oid);
done:
	kb_txn_free(t);
	kb_case_free(c);
	kb_buf_release(&rel);
	kb_buf_release(&text);
	kb_buf_release(&attr);
	kb_buf_release(&msg);
	return rc;
}

typedef struct {
	kb_reuse_count *items;
	size_t n;
} counts;

/* One entry for the line "DATE\tID\t...": ids are never escaped (valid ids hold no
 * backslash or tab). */
static void count_line(counts *cs, const char *line, size_t len)
{
	const char *tab1 = memchr(line, '\t', len), *tab2;
	size_t idlen;
	char id[65];

	if (!tab1 || tab1 - line != 10)
		return;
	tab2 = memchr(tab1 + 1, '\t', len - 11);
	idlen = tab2 ? (size_t)(tab2 - tab1 - 1) : len - 11;
	if (idlen == 0 || idlen >= sizeof(id))
		return;
	memcpy(id, tab1 + 1, idlen);
	id[idlen] = '\0';
	if (!kb_case_id_valid(id))
		return;
	cs->items = kb_xrealloc(cs->items, (cs->n + 1) * sizeof(*cs->items));
	cs->items[cs->n].id = kb_xstrdup(id);
	cs->items[cs->n].count = 1;
	memcpy(cs->items[cs->n].last, line, 10);
	cs->items[cs->n].last[10] = '\0';
	cs->n++;
}

static void count_text(counts *cs, const kb_buf *text)
{
	const char *p = text->ptr, *end = text->ptr + text->len, *nl;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		count_line(cs, p, (size_t)(nl - p));
	}
}

static int count_cmp(const void *a, const void *b)
{
	return strcmp(((const kb_reuse_count *)a)->id, ((const kb_reuse_count *)b)->id);
}

/* Sort the one-per-line entries by id and fold each id into one entry. */
static void fold(counts *cs)
{
	size_t i, j = 0;

	if (!cs->n)
		return;
	qsort(cs->items, cs->n, sizeof(*cs->items), count_cmp);
	for (i = 1; i < cs->n; i++) {
		if (strcmp(cs->items[i].id, cs->items[j].id)) {
			cs->items[++j] = cs->items[i];
			continue;
		}
		cs->items[j].count += cs->items[i].count;
		if (strcmp(cs->items[i].last, cs->items[j].last) > 0)
			memcpy(cs->items[j].last, cs->items[i].last, sizeof(cs->items[j].last));
		free(cs->items[i].id);
	}
	cs->n = j + 1;
}

/* Names of the *.log files of the reuse directory, sorted. */
static int log_names(char ***names, size_t *n, kb_store *s)
{
	kb_buf dir = KB_BUF_INIT;
	struct dirent *e;
	size_t len;
	DIR *d;

	*names = NULL;
	*n = 0;
	kb_buf_printf(&dir, "%s%s", kb_store_workdir(s), KB_REUSE_DIR);
	d = opendir(dir.ptr);
	kb_buf_release(&dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		len = strlen(e->d_name);
		if (len < 5 || e->d_name[0] == '.' || strcmp(e->d_name + len - 4, ".log"))
			continue;
		*names = kb_xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = kb_xstrdup(e->d_name);
	}
	closedir(d);
	return 0;
}

int kb_reuse_counts(kb_reuse_count **out, size_t *n, kb_store *s)
{
	kb_buf rel = KB_BUF_INIT, text = KB_BUF_INIT;
	counts cs = { NULL, 0 };
	char **names = NULL;
	size_t i, nnames = 0;
	int rc;

	*out = NULL;
	*n = 0;
	log_names(&names, &nnames, s);
	for (i = 0, rc = 0; i < nnames && rc == 0; i++) {
		kb_buf_clear(&rel);
		kb_buf_printf(&rel, "%s/%s", KB_REUSE_DIR, names[i]);
		rc = kb_store_read_file(&text, s, rel.ptr, REUSE_MAX_BYTES);
		if (rc == 0)
			count_text(&cs, &text);
		else if (rc == KB_ENOTFOUND || rc == KB_EINPUT)
			rc = 0;   /* vanished, or a symlink: not a reuse file */
	}
	if (rc == 0) {
		fold(&cs);
		*out = cs.items;
		*n = cs.n;
	} else {
		kb_reuse_counts_free(cs.items, cs.n);
	}
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	kb_buf_release(&rel);
	kb_buf_release(&text);
	return rc;
}

const kb_reuse_count *kb_reuse_find(const kb_reuse_count *counts_, size_t n, const char *id)
{
	kb_reuse_count key;

	if (n == 0)
		return NULL;   /* bsearch() wants a valid array even when empty */
	key.id = (char *)id;
	return bsearch(&key, counts_, n, sizeof(*counts_), count_cmp);
}

void kb_reuse_counts_free(kb_reuse_count *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(items[i].id);
	free(items);
}
