/*
 * lifecycle.c - status transitions of a case (kb/lifecycle.h): which moves
 * are allowed, who validated and when (front matter and commit trailer),
 * and the summary behind `kb status`.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lifecycle_internal.h"

void kb__lc_today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int kb__lc_commit_case(kb_store *s, const kb_case *c, const kb_author *who,
		       const char *message, char oid[41])
{
	kb_buf rel = KB_BUF_INIT, text = KB_BUF_INIT;
	kb_txn *t = NULL;
	int rc;

	if ((rc = kb_store_case_write_path(&rel, s, kb_case_id(c))) < 0)
		goto done;
	kb_case_serialize(c, &text);
	if ((rc = kb_txn_begin(&t, s)) < 0)
		goto done;
	if ((rc = kb_txn_put(t, rel.ptr, text.ptr, text.len)) < 0)
		goto done;
	rc = kb_txn_commit(t, who, message, oid);
done:
	kb_txn_free(t);
	kb_buf_release(&rel);
	kb_buf_release(&text);
	return rc;
}

int kb__lc_read_known(kb_case **out, kb_store *s, const char *id)
{
	int rc;

	*out = NULL;
	if (!kb_case_id_valid(id))
		return kb_error_set(KB_EINPUT, NULL, 0, "invalid case id '%s'", id);
	rc = kb_store_read_case(out, s, id);
	if (rc == KB_ENOTFOUND)
		rc = kb_error_set(KB_EINPUT, NULL, 0, "unknown case '%s'", id);
	return rc;
}

int kb_lifecycle_check(kb_status from, kb_status to)
{
	if ((from == KB_STATUS_DRAFT && to == KB_STATUS_VALIDATED) ||
	    (from == KB_STATUS_VALIDATED && to == KB_STATUS_ARCHIVED) ||
	    (from == KB_STATUS_VALIDATED && to == KB_STATUS_OBSOLETE) ||
	    (from == KB_STATUS_ARCHIVED && to == KB_STATUS_VALIDATED))
		return 0;
	return kb_error_set(KB_EINPUT, NULL, 0, "transition '%s' -> '%s' is not allowed",
			    kb_status_name(from), kb_status_name(to));
}

/* Check the obsolete case's successor: another case that exists. */
static int check_successor(kb_store *s, const char *id, const char *sup)
{
	kb_case *other = NULL;
	int rc;

	if (!sup || !*sup)
		return kb_error_set(KB_EINPUT, NULL, 0, "case '%s' needs --superseded-by to become obsolete", id);
	if (!strcmp(sup, id))
		return kb_error_set(KB_EINPUT, NULL, 0, "case '%s' cannot supersede itself", id);
	rc = kb__lc_read_known(&other, s, sup);
	kb_case_free(other);
	return rc;
}

/* Set the fields of the new status and write the commit message. */
static void apply(kb_case *c, kb_status from, kb_status to, const char *sup,
		  const kb_author *who, kb_buf *msg)
{
	const char *id = kb_case_id(c);
	kb_buf person = KB_BUF_INIT;
	char date[11];

	kb__lc_today(date);
	kb_buf_printf(&person, "%s <%s>", who->name, who->email ? who->email : "");
	kb_case_set(c, "status", kb_status_name(to));
	kb_case_set(c, "updated", date);
	if (to == KB_STATUS_VALIDATED) {
		kb_case_set(c, "reviewer", person.ptr);
		kb_case_set(c, "validated", date);
		kb_buf_printf(msg, "%s %s\n\nValidated-by: %s\n",
			      from == KB_STATUS_ARCHIVED ? "Restore" : "Validate", id, person.ptr);
	} else if (to == KB_STATUS_OBSOLETE) {
		kb_case_set(c, "superseded_by", sup);
		kb_buf_printf(msg, "Mark %s obsolete (superseded by %s)", id, sup);
	} else {
		kb_buf_printf(msg, "Archive %s", id);
	}
	kb_buf_release(&person);
}

int kb_lifecycle_set(kb_store *s, const char *id, kb_status to, const char *superseded_by,
		     const kb_author *who, kb_diags *diags, char oid[41])
{
	kb_diags local = KB_DIAGS_INIT;
	kb_diags *d = diags ? diags : &local;
	kb_buf msg = KB_BUF_INIT;
	kb_case *c = NULL;
	kb_status from;
	size_t errors = kb_diags_errors(d);
	int rc;

	if ((rc = kb_store_read_case(&c, s, id)) < 0)
		goto done;
	from = kb_case_status(c);
	if ((rc = kb_lifecycle_check(from, to)) < 0)
		goto done;
	if (to == KB_STATUS_OBSOLETE && (rc = check_successor(s, id, superseded_by)) < 0)
		goto done;
	apply(c, from, to, superseded_by, who, &msg);
	kb_case_validate(c, d);
	if (kb_diags_errors(d) > errors) {
		rc = kb_error_set(KB_EINVALID, NULL, 0, "case '%s' cannot become %s", id,
				  kb_status_name(to));
		goto done;
	}
	rc = kb__lc_commit_case(s, c, who, msg.ptr, oid);
done:
	kb_case_free(c);
	kb_buf_release(&msg);
	kb_diags_release(&local);
	return rc;
}

/* ---- summary ------------------------------------------------------------ */

static char *dup_or_empty(const char *s)
{
	return kb_xstrdup(s ? s : "");
}

/* 1 when kb migrate-layout would move the file: its name is a valid id
 * whose canonical path is elsewhere, and the front matter (`c`, NULL when
 * it does not parse) does not give another id. */
static int misplaced(const char *relpath, const kb_case *c)
{
	const char *base = strrchr(relpath, '/');
	kb_buf canon = KB_BUF_INIT;
	char *id;
	int out;

	base = base ? base + 1 : relpath;
	id = kb_xstrndup(base, strlen(base) > 3 ? strlen(base) - 3 : 0);
	out = kb_store_case_relpath(&canon, id) == 0 && strcmp(canon.ptr, relpath) &&
	      (!c || !kb_case_id(c) || !strcmp(kb_case_id(c), id));
	kb_error_clear();
	kb_buf_release(&canon);
	free(id);
	return out;
}

/* kb_store_foreach_case_file() callback: count the status, keep drafts. */
static int count_one(const char *relpath, const char *text, size_t len, void *payload)
{
	kb_summary *sum = payload;
	kb_summary_case *d;
	kb_case *c = NULL;

	sum->total++;
	if (kb_case_parse(&c, text, len, relpath, NULL) < 0) {
		sum->counts[KB_STATUS_UNKNOWN]++;
		sum->misplaced += misplaced(relpath, NULL);
		return 0;
	}
	sum->misplaced += misplaced(relpath, c);
	sum->counts[kb_case_status(c)]++;
	if (kb_case_status(c) == KB_STATUS_DRAFT) {
		sum->drafts = kb_xrealloc(sum->drafts, (sum->ndrafts + 1) * sizeof(*sum->drafts));
		d = &sum->drafts[sum->ndrafts++];
		d->id = dup_or_empty(kb_case_id(c));
		d->title = dup_or_empty(kb_case_title(c));
		d->created = dup_or_empty(kb_case_get(c, "created"));
	}
	kb_case_free(c);
	return 0;
}

static int draft_cmp(const void *a, const void *b)
{
	const kb_summary_case *x = a, *y = b;
	int r = strcmp(x->created, y->created);

	return r ? r : strcmp(x->id, y->id);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* kb_store_changes() callback: collect the changed path. */
static int edited_one(kb_change_kind kind, const char *relpath, void *payload)
{
	kb_summary *sum = payload;

	(void)kind;
	sum->edited = kb_xrealloc(sum->edited, (sum->nedited + 1) * sizeof(*sum->edited));
	sum->edited[sum->nedited++] = kb_xstrdup(relpath);
	return 0;
}

/* Sort the edited paths and drop repeats. */
static void unique_edited(kb_summary *sum)
{
	size_t i, j = 0;

	if (!sum->nedited)
		return;
	qsort(sum->edited, sum->nedited, sizeof(*sum->edited), str_cmp);
	for (i = 1; i < sum->nedited; i++) {
		if (!strcmp(sum->edited[i], sum->edited[j]))
			free(sum->edited[i]);
		else
			sum->edited[++j] = sum->edited[i];
	}
	sum->nedited = j + 1;
}

int kb_summary_get(kb_summary *out, kb_store *s)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = kb_store_foreach_case_file(s, count_one, out)) < 0)
		goto done;
	if (out->ndrafts)
		qsort(out->drafts, out->ndrafts, sizeof(*out->drafts), draft_cmp);
	rc = kb_store_head(s, out->head);
	if (rc == KB_ENOTFOUND) {
		out->head[0] = '\0';
		rc = 0;
	}
	if (rc < 0)
		goto done;
	rc = kb_store_changes(s, out->head[0] ? out->head : NULL, 1, edited_one, out);
	if (rc < 0)
		goto done;
	unique_edited(out);
done:
	if (rc < 0)
		kb_summary_release(out);
	return rc;
}

void kb_summary_release(kb_summary *sum)
{
	size_t i;

	for (i = 0; i < sum->ndrafts; i++) {
		free(sum->drafts[i].id);
		free(sum->drafts[i].title);
		free(sum->drafts[i].created);
	}
	for (i = 0; i < sum->nedited; i++)
		free(sum->edited[i]);
	free(sum->drafts);
	free(sum->edited);
	memset(sum, 0, sizeof(*sum));
}

/* ---- status changes made by editing a file -------------------------------- */

int kb_lifecycle_edit(kb_case *c, kb_status before, const kb_author *who, kb_buf *trailer)
{
	kb_status after = kb_case_status(c);
	kb_buf person = KB_BUF_INIT;
	char date[11];

	if (before == KB_STATUS_UNKNOWN || after == KB_STATUS_UNKNOWN || before == after)
		return 0;
	if (kb_lifecycle_check(before, after) < 0)
		return kb_error_set(KB_EINPUT, kb_case_path(c), kb_case_key_line(c, "status"),
				    "status changed from '%s' to '%s': not an allowed transition",
				    kb_status_name(before), kb_status_name(after));
	if (after != KB_STATUS_VALIDATED)
		return 0;
	kb__lc_today(date);
	kb_buf_printf(&person, "%s <%s>", who->name, who->email ? who->email : "");
	kb_case_set(c, "reviewer", person.ptr);
	kb_case_set(c, "validated", date);
	if (trailer)
		kb_buf_printf(trailer, "Validated-by: %s\n", person.ptr);
	kb_buf_release(&person);
	return 0;
}

typedef struct {
	kb_store *s;
	kb_diags *diags;
	size_t first;           /* diagnostics before this check */
	kb_buf work;
} wt_ctx;

/* The error for case `is` replacing the committed `relpath`, if its status
 * moved in a way kb_lifecycle_check() refuses; `display` names the file. */
static void check_against_head(kb_store *s, const char *relpath, const kb_case *is,
			       const char *display, kb_diags *diags)
{
	kb_buf head = KB_BUF_INIT;
	kb_case *was = NULL;
	kb_status from, to = kb_case_status(is);

	if (kb_store_read_head(&head, s, relpath) < 0 ||
	    kb_case_parse(&was, head.ptr, head.len, relpath, NULL) < 0)
		goto done;      /* new or unparseable before: nothing to compare */
	from = kb_case_status(was);
	if (from != KB_STATUS_UNKNOWN && to != KB_STATUS_UNKNOWN && from != to &&
	    kb_lifecycle_check(from, to) < 0)
		kb_diags_add(diags, KB_DIAG_ERROR, display, kb_case_key_line(is, "status"),
			     "status changed from '%s' (committed) to '%s': not an allowed "
			     "transition", kb_status_name(from), kb_status_name(to));
done:
	kb_error_clear();
	kb_case_free(was);
	kb_buf_release(&head);
}

int kb_lifecycle_check_replace(kb_store *s, const char *relpath, const kb_case *c,
			       const char *display, kb_diags *diags)
{
	size_t errors = kb_diags_errors(diags);

	check_against_head(s, relpath, c, display ? display : relpath, diags);
	return kb_diags_errors(diags) > errors ? KB_EINVALID : 0;
}

/* kb_store_changes() callback: a modified case file whose status moved in
 * a way kb_lifecycle_check() refuses. */
static int check_changed(kb_change_kind kind, const char *relpath, void *payload)
{
	wt_ctx *x = payload;
	kb_case *is = NULL;
	size_t i;

	for (i = x->first; i < x->diags->count; i++)
		if (x->diags->items[i].path && !strcmp(x->diags->items[i].path, relpath))
			return 0;       /* kb_store_changes() may report a path twice */
	if (kind == KB_CHANGE_MODIFIED &&
	    kb_store_read_file(&x->work, x->s, relpath, KB_CASE_MAX_BYTES) == 0 &&
	    kb_case_parse(&is, x->work.ptr, x->work.len, relpath, NULL) == 0)
		check_against_head(x->s, relpath, is, relpath, x->diags);
	kb_error_clear();
	kb_case_free(is);
	return 0;
}

int kb_lifecycle_check_worktree(kb_store *s, kb_diags *diags)
{
	wt_ctx x = { s, diags, diags->count, KB_BUF_INIT };
	char head[41];
	int rc;

	if (kb_store_head(s, head) < 0) {
		kb_error_clear();
		return 0;       /* nothing committed: no status to compare with */
	}
	rc = kb_store_changes(s, head, 1, check_changed, &x);
	kb_buf_release(&x.work);
	return rc;
}
