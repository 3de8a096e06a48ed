/*
 * review.c - decisions on imported drafts (kb/import.h): accept (validated,
 * reviewer recorded), reject (archived with a reason) and merge into an
 * existing case (kb_fold_cases() of kb/lifecycle.h: sections appended,
 * draft archived); one commit each.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/import.h"
#include "kb/lifecycle.h"
#include "lifecycle_internal.h"

/* Read the draft `id`: KB_EINPUT when it is not a draft. */
static int read_draft(kb_case **out, kb_store *s, const char *id)
{
	int rc = kb_store_read_case(out, s, id);

	if (rc < 0)
		return rc;
	if (kb_case_status(*out) != KB_STATUS_DRAFT) {
		rc = kb_error_set(KB_EINPUT, NULL, 0, "case '%s' is not a draft (status %s)", id,
				  kb_case_get(*out, "status") ? kb_case_get(*out, "status") : "none");
		kb_case_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Set status, reviewer and updated. */
static void decide(kb_case *c, const char *status, const kb_author *reviewer)
{
	kb_buf who = KB_BUF_INIT;
	char date[11];

	kb_buf_printf(&who, "%s <%s>", reviewer->name, reviewer->email ? reviewer->email : "");
	kb_case_set(c, "status", status);
	kb_case_set(c, "reviewer", who.ptr);
	kb__lc_today(date);
	kb_case_set(c, "updated", date);
	kb_buf_release(&who);
}

int kb_review_accept(kb_store *s, const char *id, const kb_author *reviewer,
		     kb_diags *diags, char oid[41])
{
	kb_buf msg = KB_BUF_INIT, rel = KB_BUF_INIT;
	size_t first = diags->count, errors = kb_diags_errors(diags), i;
	kb_case *c = NULL;
	int rc;

	if ((rc = read_draft(&c, s, id)) < 0)
		goto done;
	decide(c, "validated", reviewer);
	kb_case_validate(c, diags);
	if (kb_diags_errors(diags) > errors) {
		kb_store_case_write_path(&rel, s, id);
		for (i = first; i < diags->count; i++)
			if (!diags->items[i].path)
				diags->items[i].path = kb_xstrdup(rel.ptr);
		rc = kb_error_set(KB_EINVALID, rel.ptr, 0, "case '%s' cannot be validated", id);
		goto done;
	}
	kb_buf_printf(&msg, "Accept %s", id);
	rc = kb__fold_commit(s, &c, 1, reviewer, msg.ptr, oid);
done:
	kb_case_free(c);
	kb_buf_release(&msg);
	kb_buf_release(&rel);
	return rc;
}

int kb_review_reject(kb_store *s, const char *id, const char *reason,
		     const kb_author *reviewer, char oid[41])
{
	kb_buf msg = KB_BUF_INIT;
	kb_case *c = NULL;
	int rc;

	if (!reason || !*reason)
		return kb_error_set(KB_EINPUT, NULL, 0, "a rejection needs a reason");
	if ((rc = read_draft(&c, s, id)) < 0)
		goto done;
	decide(c, "archived", reviewer);
	kb_case_set(c, "rejected_reason", reason);
	kb_buf_printf(&msg, "Reject %s", id);
	rc = kb__fold_commit(s, &c, 1, reviewer, msg.ptr, oid);
done:
	kb_case_free(c);
	kb_buf_release(&msg);
	return rc;
}

int kb_review_merge(kb_store *s, const char *id, const char *into,
		    const kb_author *reviewer, char oid[41])
{
	kb_buf msg = KB_BUF_INIT;
	kb_case *c[2] = { NULL, NULL };
	char date[11];
	int rc;

	if (!strcmp(id, into))
		return kb_error_set(KB_EINPUT, NULL, 0, "cannot merge '%s' into itself", id);
	if ((rc = read_draft(&c[0], s, id)) < 0 || (rc = kb_store_read_case(&c[1], s, into)) < 0)
		goto done;
	kb__lc_today(date);
	kb_fold_cases(c[1], c[0], date);        /* the general fold of `kb merge` */
	decide(c[0], "archived", reviewer);
	kb_buf_printf(&msg, "Merge %s into %s", id, into);
	rc = kb__fold_commit(s, c, 2, reviewer, msg.ptr, oid);
done:
	kb_case_free(c[0]);
	kb_case_free(c[1]);
	kb_buf_release(&msg);
	return rc;
}
