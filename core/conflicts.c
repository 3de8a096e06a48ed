/*
 * conflicts.c - the cases a merge left for review (kb/lifecycle.h,
 * `kb conflicts`): every case file whose front matter still lists
 * unresolved conflicts.  Only files whose text contains "conflicts:" are
 * parsed, so a scan costs little more than reading the files.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/lifecycle.h"
#include "kb/merge.h"

typedef struct {
	kb_conflict_case *v;
	size_t n;
} scan_ctx;

static int scan_one(const char *relpath, const char *text, size_t len, void *payload)
{
	static const char needle[] = KB_CONFLICTS_KEY ":";
	scan_ctx *x = payload;
	kb_conflict_case *cc;
	kb_case *c = NULL;
	char **names = NULL;
	size_t n = 0;

	if (!memmem(text, len, needle, sizeof(needle) - 1))
		return 0;
	if (kb_case_parse(&c, text, len, relpath, NULL) < 0) {
		kb_error_clear();
		return 0;
	}
	kb_case_conflicts(c, &names, &n);
	if (n) {
		x->v = kb_xrealloc(x->v, (x->n + 1) * sizeof(*x->v));
		cc = &x->v[x->n++];
		cc->id = kb_xstrdup(kb_case_id(c));
		cc->title = kb_xstrdup(kb_case_title(c));
		cc->path = kb_xstrdup(relpath);
		cc->names = names;
		cc->nnames = n;
	}
	kb_case_free(c);
	return 0;
}

int kb_conflicts_list(kb_conflict_case **out, size_t *n, kb_store *s)
{
	scan_ctx x = { NULL, 0 };
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = kb_store_foreach_case_file(s, scan_one, &x)) < 0) {
		kb_conflicts_list_free(x.v, x.n);
		return rc;
	}
	*out = x.v;
	*n = x.n;
	return 0;
}

void kb_conflicts_list_free(kb_conflict_case *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].title);
		free(v[i].path);
		kb_case_conflicts_free(v[i].names, v[i].nnames);
	}
	free(v);
}
