/*
 * migrate.c - `kb migrate-layout` (kb/migrate.h): find the case files that
 * are not at the canonical path of their id, check that moving them loses
 * nothing and collides with nothing, and move them in one kb_txn commit
 * (blobs staged by id: the contents are neither copied nor hashed again).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kb/index.h"
#include "kb/migrate.h"
#include "store_internal.h"

typedef struct {
	kb_migrate_result *r;
	size_t alloc;
	kb_buf canon;
} plan_ctx;

/* kb_store_foreach_case_file() callback: decide one file. */
static int plan_one(const char *relpath, const char *text, size_t len, void *payload)
{
	plan_ctx *p = payload;
	const char *base = strrchr(relpath, '/') + 1;
	char *id = kb_xstrndup(base, strlen(base) - 3);
	kb_case *c = NULL;
	kb_migrate_move *m;

	if (kb_store_case_relpath(&p->canon, id) < 0) {
		kb_error_clear();
		kb_diags_add(&p->r->skipped, KB_DIAG_WARNING, relpath, 0,
			     "'%s' is not a valid case id; left where it is", id);
		goto done;
	}
	if (!strcmp(p->canon.ptr, relpath))
		goto done;
	if (kb_case_parse(&c, text, len, relpath, NULL) == 0 && kb_case_id(c) &&
	    strcmp(kb_case_id(c), id)) {
		kb_diags_add(&p->r->skipped, KB_DIAG_WARNING, relpath, kb_case_key_line(c, "id"),
			     "id '%s' differs from the file name; left where it is (see kb validate)",
			     kb_case_id(c));
		goto done;
	}
	kb_error_clear();
	if (p->r->nmoves == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 64;
		p->r->moves = kb_xrealloc(p->r->moves, p->alloc * sizeof(*p->r->moves));
	}
	m = &p->r->moves[p->r->nmoves++];
	m->from = kb_xstrdup(relpath);
	m->to = kb_xstrdup(p->canon.ptr);
done:
	kb_case_free(c);
	free(id);
	return 0;
}

/* kb_store_changes() callback: remember the first changed path and stop. */
static int first_change(kb_change_kind kind, const char *relpath, void *payload)
{
	(void)kind;
	kb_buf_puts(payload, relpath);
	return 1;
}

/* KB_ESTATE when anything under cases/ differs from HEAD. */
static int check_clean(kb_store *s, const char *head)
{
	kb_buf path = KB_BUF_INIT;
	int rc = kb_store_changes(s, head, 1, first_change, &path);

	if (rc > 0)
		rc = kb_error_set(KB_ESTATE, path.ptr, 0,
				  "uncommitted changes to '%s'; commit or undo them, then run "
				  "kb migrate-layout again", path.ptr);
	kb_buf_release(&path);
	return rc;
}

static int by_to(const void *a, const void *b)
{
	return strcmp((*(kb_migrate_move *const *)a)->to, (*(kb_migrate_move *const *)b)->to);
}

/* KB_EEXISTS when two moves share a destination or one already exists. */
static int check_targets(kb_store *s, const kb_migrate_result *r)
{
	kb_migrate_move **v = kb_xmalloc((r->nmoves + 1) * sizeof(*v));
	kb_buf p = KB_BUF_INIT;
	struct stat st;
	size_t i;
	int rc = 0;

	for (i = 0; i < r->nmoves; i++)
		v[i] = &r->moves[i];
	qsort(v, r->nmoves, sizeof(*v), by_to);
	for (i = 0; i < r->nmoves && rc == 0; i++) {
		if (i > 0 && !strcmp(v[i - 1]->to, v[i]->to)) {
			rc = kb_error_set(KB_EEXISTS, v[i]->from, 0,
					  "'%s' and '%s' both belong at '%s'; remove or rename one, "
					  "then run kb migrate-layout again",
					  v[i - 1]->from, v[i]->from, v[i]->to);
			break;
		}
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%s", s->workdir, v[i]->to);
		if (lstat(p.ptr, &st) == 0)
			rc = kb_error_set(KB_EEXISTS, v[i]->from, 0,
					  "cannot move '%s': '%s' already exists", v[i]->from,
					  v[i]->to);
	}
	kb_buf_release(&p);
	free(v);
	return rc;
}

/* The one commit: each file's blob (from git's index, which matches the
 * work tree: check_clean) staged at its new path, the old path removed. */
static int commit_moves(kb_migrate_result *r, kb_store *s, const kb_author *who)
{
	const git_index_entry *e;
	git_index *idx = NULL;
	kb_index *ix = NULL;
	kb_buf msg = KB_BUF_INIT;
	kb_txn *t = NULL;
	size_t i;
	int rc;

	if ((rc = kb_txn_begin(&t, s)) < 0)
		goto done;
	if (git_repository_index(&idx, s->repo) < 0 || git_index_read(idx, 0) < 0) {
		rc = kb_error_set(KB_ERROR, s->workdir, 0, "cannot read git's index: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	for (i = 0; i < r->nmoves && rc == 0; i++) {
		if (!(e = git_index_get_bypath(idx, r->moves[i].from, 0))) {
			rc = kb_error_set(KB_ESTATE, r->moves[i].from, 0, "'%s' is not committed",
					  r->moves[i].from);
			break;
		}
		if ((rc = kb__txn_put_blob(t, r->moves[i].to, &e->id)) == 0)
			rc = kb_txn_remove(t, r->moves[i].from);
	}
	if (rc < 0)
		goto done;
	kb_buf_printf(&msg, "Move %zu case%s to the foldered layout\n\n"
		      "Each case file goes to cases/<PREFIX>/<NNN>/<ID>.md (kb migrate-layout).\n",
		      r->nmoves, r->nmoves == 1 ? "" : "s");
	if ((rc = kb_txn_commit(t, who, msg.ptr, r->oid)) < 0)
		goto done;
	if (kb_index_open_store(&ix, s) < 0) {
		r->index_stale = 1;
		kb_error_clear();
	}
	kb_index_close(ix);
done:
	git_index_free(idx);
	kb_txn_free(t);
	kb_buf_release(&msg);
	return rc;
}

int kb_migrate_layout(kb_migrate_result *out, kb_store *s, const kb_author *who,
		      unsigned flags)
{
	plan_ctx p = { out, 0, KB_BUF_INIT };
	char head[41] = "";
	int rc;

	memset(out, 0, sizeof(*out));
	rc = kb_store_head(s, head);
	if (rc == KB_ENOTFOUND) {
		kb_error_clear();
		head[0] = '\0';
		rc = 0;
	}
	if (rc < 0 || (head[0] && (rc = check_clean(s, head)) < 0))
		goto done;
	if ((rc = kb_store_foreach_case_file(s, plan_one, &p)) < 0)
		goto done;
	if (out->nmoves && !head[0]) {
		rc = kb_error_set(KB_ESTATE, s->workdir, 0, "no commit yet in '%s'", s->workdir);
		goto done;
	}
	if ((rc = check_targets(s, out)) < 0 || !out->nmoves || (flags & KB_MIGRATE_DRY_RUN))
		goto done;
	rc = commit_moves(out, s, who);
done:
	kb_buf_release(&p.canon);
	if (rc < 0)
		kb_migrate_result_release(out);
	return rc;
}

void kb_migrate_result_release(kb_migrate_result *r)
{
	size_t i;

	for (i = 0; i < r->nmoves; i++) {
		free(r->moves[i].from);
		free(r->moves[i].to);
	}
	free(r->moves);
	kb_diags_release(&r->skipped);
	memset(r, 0, sizeof(*r));
}
