/*
 * fold.c - folding a duplicate case into the case that survives it
 * (kb/lifecycle.h, `kb merge A B`, `kb review A --merge B`): everything the
 * duplicate says is appended to the survivor, which links to it; the
 * duplicate is archived as duplicate_of the survivor; one commit.
 */
#include <stdlib.h>
#include <string.h>

#include "case_internal.h"
#include "lifecycle_internal.h"

/* The duplicate's text outside any level-2 section (before the first
 * heading, under level-1 headings, after the last section), trimmed. */
static void loose_text(const kb_case *c, kb_buf *out)
{
	const kb_raw *r;
	size_t i, len;
	const char *p;

	for (i = 0; i <= c->nsecs; i++) {
		r = i < c->nsecs ? &c->secs[i].pre : &c->tail;
		p = r->p;
		len = r->len;
		while (len && strchr(" \t\r\n", *p))
			p++, len--;
		while (len && strchr(" \t\r\n", p[len - 1]))
			len--;
		if (!len)
			continue;
		if (out->len)
			kb_buf_puts(out, "\n\n");
		kb__put_lf(out, p, len);
	}
}

/* Add the items of `key` in `from` (may be NULL) and `extra` (may be NULL)
 * that `into` lacks. */
static void union_list(kb_case *into, const kb_case *from, const char *key, const char *extra)
{
	const char *const *a, *const *b = NULL;
	size_t na = kb_case_get_list(into, key, &a), nb = from ? kb_case_get_list(from, key, &b) : 0;
	const char **all = kb_xmalloc((na + nb + 1) * sizeof(*all));
	size_t i, j, n = na;

	memcpy(all, a, na * sizeof(*all));
	for (i = 0; i <= nb; i++) {
		const char *item = i < nb ? b[i] : extra;

		if (!item || !*item)
			continue;
		for (j = 0; j < n && strcmp(all[j], item); j++)
			;
		if (j == n)
			all[n++] = item;
	}
	if (n > na)
		kb_case_set_list(into, key, all, n);
	free(all);
}

void kb_fold_cases(kb_case *into, kb_case *dup, const char *date)
{
	kb_buf heading = KB_BUF_INIT, loose = KB_BUF_INIT;
	const char *id = kb_case_id(dup);
	const kb_section *sec;
	size_t i;

	loose_text(dup, &loose);
	if (loose.len) {
		kb_buf_printf(&heading, "Text outside sections (from %s)", id);
		kb_case_add_section(into, KB_SECTION_OTHER, heading.ptr, loose.ptr);
	}
	for (i = 0; i < kb_case_section_count(dup); i++) {
		sec = kb_case_section_at(dup, i);
		kb_buf_clear(&heading);
		kb_buf_printf(&heading, "%s (from %s)", sec->heading, id);
		kb_case_add_section(into, KB_SECTION_OTHER, heading.ptr, sec->body);
	}
	union_list(into, dup, "tags", NULL);
	union_list(into, NULL, "links", id);    /* dup's own links would point at `into` */
	kb_case_set(dup, "status", kb_status_name(KB_STATUS_ARCHIVED));
	kb_case_set(dup, "duplicate_of", kb_case_id(into));
	if (date) {
		kb_case_set(dup, "updated", date);
		kb_case_set(into, "updated", date);
	}
	kb_buf_release(&heading);
	kb_buf_release(&loose);
}

int kb__fold_commit(kb_store *s, kb_case *const *cases, size_t n, const kb_author *who,
		    const char *message, char oid[41])
{
	kb_buf rel = KB_BUF_INIT, text = KB_BUF_INIT;
	kb_txn *t = NULL;
	size_t i;
	int rc = kb_txn_begin(&t, s);

	for (i = 0; i < n && rc == 0; i++) {
		kb_buf_clear(&rel);
		kb_buf_clear(&text);
		kb_case_serialize(cases[i], &text);
		if ((rc = kb_store_case_write_path(&rel, s, kb_case_id(cases[i]))) == 0)
			rc = kb_txn_put(t, rel.ptr, text.ptr, text.len);
	}
	if (rc == 0)
		rc = kb_txn_commit(t, who, message, oid);
	kb_txn_free(t);
	kb_buf_release(&rel);
	kb_buf_release(&text);
	return rc;
}

/* A case that is archived or obsolete can neither be folded nor absorb one. */
static int check_live(const kb_case *c, const char *what)
{
	kb_status st = kb_case_status(c);

	if (st == KB_STATUS_ARCHIVED || st == KB_STATUS_OBSOLETE)
		return kb_error_set(KB_EINPUT, NULL, 0, "%s '%s' is already %s", what,
				    kb_case_id(c), kb_status_name(st));
	return 0;
}

int kb_fold(kb_store *s, const char *dup, const char *into, const kb_author *who,
	    char oid[41])
{
	kb_case *c[2] = { NULL, NULL };
	kb_buf msg = KB_BUF_INIT;
	char date[11];
	int rc;

	if ((rc = kb__lc_read_known(&c[0], s, dup)) < 0 ||
	    (rc = kb__lc_read_known(&c[1], s, into)) < 0)
		goto done;
	if (!strcmp(dup, into)) {
		rc = kb_error_set(KB_EINPUT, NULL, 0, "cannot merge '%s' into itself", dup);
		goto done;
	}
	if ((rc = check_live(c[0], "case")) < 0 || (rc = check_live(c[1], "case")) < 0)
		goto done;
	kb__lc_today(date);
	kb_fold_cases(c[1], c[0], date);
	kb_buf_printf(&msg, "Merge %s into %s", dup, into);
	rc = kb__fold_commit(s, c, 2, who, msg.ptr, oid);
done:
	kb_case_free(c[0]);
	kb_case_free(c[1]);
	kb_buf_release(&msg);
	return rc;
}
