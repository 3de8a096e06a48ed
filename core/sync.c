/*
 * sync.c - `kb sync` (kb/sync.h): fetch, integrate, push, with bounded
 * retries when the remote moves, the checks that refuse unsafe syncs
 * (uncommitted edits, unrelated or rewritten history), the merge of two
 * histories where case files changed on both sides go through
 * kb_case_merge3 (also when one side moved the file to another folder and
 * the other edited it at the old path), and the sync state shown by
 * `kb status`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kb/error.h"
#include "kb/index.h"
#include "kb/lifecycle.h"
#include "kb/merge.h"
#include "sync_internal.h"

#define DEFAULT_ATTEMPTS 3

/* ---- the per-remote state file: what the last sync saw on the remote -------- */

typedef struct {
	git_oid synced;     /* the remote branch as last integrated or pushed */
	int has_synced;
	int64_t when;       /* time of the last successful sync, 0 = never */
} remote_state;

static int state_path(kb_buf *out, kb_store *s, const char *remote)
{
	kb_buf name = KB_BUF_INIT;
	int rc;

	kb_buf_printf(&name, "remote-%s", remote);
	rc = kb__sync_path(out, s, name.ptr);
	kb_buf_release(&name);
	return rc;
}

static void state_read(remote_state *st, kb_store *s, const char *remote)
{
	kb_buf path = KB_BUF_INIT;
	char hex[41];
	long long when = 0;
	FILE *f;

	memset(st, 0, sizeof(*st));
	if (state_path(&path, s, remote) == 0 && (f = fopen(path.ptr, "r"))) {
		if (fscanf(f, "synced %40s time %lld", hex, &when) == 2 &&
		    git_oid_fromstr(&st->synced, hex) == 0) {
			st->has_synced = 1;
			st->when = when;
		}
		fclose(f);
	}
	git_error_clear();
	kb_error_clear();
	kb_buf_release(&path);
}

static int state_write(kb_store *s, const char *remote, const git_oid *synced, int64_t when)
{
	kb_buf path = KB_BUF_INIT, text = KB_BUF_INIT;
	int rc;

	kb_buf_printf(&text, "synced %s time %lld\n", git_oid_tostr_s(synced), (long long)when);
	if ((rc = state_path(&path, s, remote)) == 0)
		rc = kb__sync_write_file(path.ptr, text.ptr, text.len);
	kb_buf_release(&path);
	kb_buf_release(&text);
	return rc;
}

/* ---- checks ------------------------------------------------------------------ */

/* KB_ESTATE naming the tracked files with uncommitted changes (staged or not). */
static int check_clean(kb_store *s)
{
	git_status_options so = GIT_STATUS_OPTIONS_INIT;
	git_status_list *list = NULL;
	kb_buf names = KB_BUF_INIT;
	size_t i, n, shown = 0;
	int rc = 0;

	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, s->repo, &so) < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot read the work tree's status: %s",
				    kb__git_msg("unknown error"));
	n = git_status_list_entrycount(list);
	for (i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;

		if (e->status == GIT_STATUS_CURRENT || (e->status & GIT_STATUS_IGNORED) ||
		    (e->status & GIT_STATUS_WT_NEW) || !d)
			continue;
		if (shown++ < 10)
			kb_buf_printf(&names, "%s'%s'", shown > 1 ? ", " : "",
				      d->new_file.path ? d->new_file.path : d->old_file.path);
	}
	if (shown)
		rc = kb_error_set(KB_ESTATE, NULL, 0,
				  "uncommitted edits to %s%s; commit or undo them, then run kb sync again",
				  names.ptr, shown > 10 ? ", ..." : "");
	git_status_list_free(list);
	kb_buf_release(&names);
	return rc;
}

/* ---- the merge --------------------------------------------------------------- */

typedef struct {
	char **items;
	size_t count;
} path_set;

static void set_release(path_set *p)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		free(p->items[i]);
	free(p->items);
	p->items = NULL;
	p->count = 0;
}

static int set_add_cb(const git_diff_delta *d, float progress, void *payload)
{
	path_set *p = payload;
	const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;

	(void)progress;
	p->items = kb_xrealloc(p->items, (p->count + 1) * sizeof(char *));
	p->items[p->count++] = kb_xstrdup(path);
	return 0;
}

/* Case files that differ between trees a and b, in path order. */
static int changed_cases(path_set *out, kb_store *s, git_tree *a, git_tree *b)
{
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	char *spec[1] = { KB_CASES_DIR "/" };
	git_diff *diff = NULL;
	int rc = 0;

	o.pathspec.strings = spec;
	o.pathspec.count = 1;
	if (git_diff_tree_to_tree(&diff, s->repo, a, b, &o) < 0 ||
	    git_diff_foreach(diff, set_add_cb, NULL, NULL, NULL, out) < 0)
		rc = kb_error_set(KB_ERROR, NULL, 0, "cannot compare trees: %s",
				  kb__git_msg("unknown error"));
	git_diff_free(diff);
	return rc;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* The blob at path in tree (NULL when absent). */
static git_blob *blob_at(git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;
	git_blob *b = NULL;

	if (git_tree_entry_bypath(&e, tree, path) == 0 && git_tree_entry_type(e) == GIT_OBJECT_BLOB)
		git_blob_lookup(&b, git_tree_owner(tree), git_tree_entry_id(e));
	git_tree_entry_free(e);
	git_error_clear();
	return b;
}

/* Replace whatever the merge index has at path (conflict or not) by data. */
static int index_put(git_index *idx, kb_store *s, const char *path, const char *data, size_t len)
{
	git_index_entry e;
	git_oid id;

	if (git_blob_create_from_buffer(&id, s->repo, data, len) < 0)
		return kb_error_set(KB_ERROR, path, 0, "cannot store '%s': %s", path,
				    kb__git_msg("unknown error"));
	git_index_conflict_remove(idx, path);
	git_error_clear();
	memset(&e, 0, sizeof(e));
	e.mode = GIT_FILEMODE_BLOB;
	e.path = path;
	git_oid_cpy(&e.id, &id);
	if (git_index_add(idx, &e) < 0)
		return kb_error_set(KB_ERROR, path, 0, "cannot merge '%s': %s", path,
				    kb__git_msg("unknown error"));
	return 0;
}

static void add_conflict(kb_sync_result *res, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(base) - (has_suffix(base, ".md") ? 3 : 0);

	res->conflicts = kb_xrealloc(res->conflicts, (res->nconflicts + 1) * sizeof(char *));
	res->conflicts[res->nconflicts++] = kb_xstrndup(base, n);
}

#define BLOB_ARGS(b) ((b) ? (const char *)git_blob_rawcontent(b) : NULL), \
		     ((b) ? (size_t)git_blob_rawsize(b) : 0)

/* Where one case is in the base, ours and theirs, where the merge puts it,
 * and the old path a move on one side leaves behind (NULL: none). */
typedef struct {
	const char *base, *ours, *theirs, *dest, *drop;
} case_paths;

/* Merge one case file changed on both sides into the merge index. */
static int merge_case(git_index *idx, kb_store *s, const case_paths *p, git_tree *base,
		      git_tree *ours, git_tree *theirs, const char *remote, kb_sync_result *res)
{
	git_blob *b = blob_at(base, p->base), *o = blob_at(ours, p->ours),
		 *t = blob_at(theirs, p->theirs);
	kb_buf out = KB_BUF_INIT;
	size_t nconf = 0;
	int rc = 0;

	if (!p->drop && ((!o && !t) || (o && t && git_oid_equal(git_blob_id(o), git_blob_id(t)))))
		goto done;  /* both sides agree: git's result stands */
	rc = kb_case_merge3(&out, BLOB_ARGS(b), BLOB_ARGS(o), BLOB_ARGS(t), "local", remote,
			    p->dest, &nconf);
	if (rc < 0)
		goto done;
	if ((rc = index_put(idx, s, p->dest, out.ptr ? out.ptr : "", out.len)) < 0)
		goto done;
	if (p->drop) {
		git_index_conflict_remove(idx, p->drop);
		git_index_remove(idx, p->drop, 0);
		git_error_clear();
	}
	res->cases_merged++;
	if (nconf)
		add_conflict(res, p->dest);
done:
	kb_buf_release(&out);
	git_blob_free(b);
	git_blob_free(o);
	git_blob_free(t);
	return rc;
}

/* ---- moved cases ----------------------------------------------------------------
 * A case is its id, the file name: a case file deleted at P and added at Q
 * with the same name on one side was moved there (kb migrate-layout, or a
 * person's git mv).  git's merge, without rename detection, would leave an
 * edit the other side made at P as a modify/delete conflict beside the moved
 * copy at Q: two files of one id.  So the edit is merged into Q instead.
 */

typedef struct {
	char *from, *to;
} case_move;

typedef struct {
	case_move *items;
	size_t count;
	path_set gone;      /* case files deleted on this side (scratch) */
	path_set added;     /* and added */
} move_list;

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static int cmp_by_name(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int c = strcmp(base_name(x), base_name(y));

	return c ? c : strcmp(x, y);
}

static int cmp_name_only(const void *a, const void *b)
{
	return strcmp(base_name(*(char *const *)a), base_name(*(char *const *)b));
}

static int cmp_move_to(const void *a, const void *b)
{
	return strcmp(((const case_move *)a)->to, ((const case_move *)b)->to);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int moved_cb(const git_diff_delta *d, float progress, void *payload)
{
	move_list *m = payload;
	path_set *p = d->status == GIT_DELTA_DELETED ? &m->gone :
		      d->status == GIT_DELTA_ADDED ? &m->added : NULL;
	const char *path = d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path;

	if (p && has_suffix(path, ".md"))
		set_add_cb(&(git_diff_delta){ .new_file.path = path }, progress, p);
	return 0;
}

/* The case files moved between trees a and b (same file name, another
 * folder; the first addition of that name when there are several), in the
 * order of their old path. */
static int moved_cases(move_list *m, kb_store *s, git_tree *a, git_tree *b)
{
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	char *spec[1] = { KB_CASES_DIR "/" }, **hit;
	git_diff *diff = NULL;
	size_t i;
	int rc = 0;

	o.pathspec.strings = spec;
	o.pathspec.count = 1;
	if (git_diff_tree_to_tree(&diff, s->repo, a, b, &o) < 0 ||
	    git_diff_foreach(diff, moved_cb, NULL, NULL, NULL, m) < 0) {
		rc = kb_error_set(KB_ERROR, NULL, 0, "cannot compare trees: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	if (m->added.count > 1)
		qsort(m->added.items, m->added.count, sizeof(char *), cmp_by_name);
	m->items = kb_xcalloc(m->gone.count + 1, sizeof(*m->items));
	for (i = 0; i < m->gone.count; i++) {
		hit = !m->added.count ? NULL :
		      bsearch(&m->gone.items[i], m->added.items, m->added.count, sizeof(char *),
			      cmp_name_only);
		while (hit && hit > m->added.items &&
		       !strcmp(base_name(hit[-1]), base_name(m->gone.items[i])))
			hit--;
		if (!hit)
			continue;
		m->items[m->count].from = kb_xstrdup(m->gone.items[i]);
		m->items[m->count++].to = kb_xstrdup(*hit);
	}
done:
	git_diff_free(diff);
	return rc;
}

static void moves_release(move_list *m)
{
	size_t i;

	for (i = 0; i < m->count; i++) {
		free(m->items[i].from);
		free(m->items[i].to);
	}
	free(m->items);
	set_release(&m->gone);
	set_release(&m->added);
	memset(m, 0, sizeof(*m));
}

static int in_set(const path_set *p, const char *path)
{
	return p->count && bsearch(&path, p->items, p->count, sizeof(char *), cmp_str) != NULL;
}

/* The move in m (sorted by `to`) that put a case at `to`, or NULL. */
static const case_move *move_to(const move_list *m, const char *to)
{
	case_move key = { NULL, (char *)to };

	return m->count ? bsearch(&key, m->items, m->count, sizeof(*m->items), cmp_move_to) : NULL;
}

/* Cases one side moved and the other side changed at the old path: merged
 * at the new path, the old one dropped (it is then skipped below). */
static int merge_moves(git_index *idx, kb_store *s, git_tree *base, git_tree *ours,
		       git_tree *theirs, const move_list *mo, const move_list *mt,
		       const path_set *a, const path_set *b, path_set *done_paths,
		       const char *remote, kb_sync_result *res)
{
	case_paths p;
	git_blob *still;
	size_t i;
	int rc = 0;

	for (i = 0; i < mo->count + mt->count && rc == 0; i++) {
		const case_move *m = i < mo->count ? &mo->items[i] : &mt->items[i - mo->count];
		int ours_moved = i < mo->count;

		if (!in_set(ours_moved ? b : a, m->from))
			continue;  /* the other side did not touch the old path */
		still = blob_at(ours_moved ? theirs : ours, m->from);
		if (!still)
			continue;  /* deleted or moved there too: git's result stands */
		git_blob_free(still);
		p.base = m->from;
		p.ours = ours_moved ? m->to : m->from;
		p.theirs = ours_moved ? m->from : m->to;
		p.dest = m->to;
		p.drop = m->from;
		rc = merge_case(idx, s, &p, base, ours, theirs, remote, res);
		set_add_cb(&(git_diff_delta){ .new_file.path = m->from }, 0, done_paths);
	}
	return rc;
}

/* Every case file changed on both sides since the merge base. */
static int merge_cases(git_index *idx, kb_store *s, git_tree *base, git_tree *ours,
		       git_tree *theirs, const char *remote, kb_sync_result *res)
{
	path_set a = { NULL, 0 }, b = { NULL, 0 }, handled = { NULL, 0 };
	move_list mo = { 0 }, mt = { 0 };
	const case_move *from;
	case_paths p;
	size_t i = 0, j = 0;
	int c, rc;

	if ((rc = changed_cases(&a, s, base, ours)) < 0 ||
	    (rc = changed_cases(&b, s, base, theirs)) < 0 ||
	    (rc = moved_cases(&mo, s, base, ours)) < 0 ||
	    (rc = moved_cases(&mt, s, base, theirs)) < 0)
		goto done;
	if ((rc = merge_moves(idx, s, base, ours, theirs, &mo, &mt, &a, &b, &handled, remote,
			      res)) < 0)
		goto done;
	if (handled.count > 1)
		qsort(handled.items, handled.count, sizeof(char *), cmp_str);
	qsort(mo.items, mo.count, sizeof(*mo.items), cmp_move_to);
	qsort(mt.items, mt.count, sizeof(*mt.items), cmp_move_to);
	while (i < a.count && j < b.count && rc == 0) {
		c = strcmp(a.items[i], b.items[j]);
		if (c == 0 && has_suffix(a.items[i], ".md") && !in_set(&handled, a.items[i])) {
			/* moved to the same place on both sides: the base is the old path */
			p.base = p.ours = p.theirs = p.dest = a.items[i];
			p.drop = NULL;
			if ((from = move_to(&mo, a.items[i])) || (from = move_to(&mt, a.items[i])))
				p.base = from->from;
			rc = merge_case(idx, s, &p, base, ours, theirs, remote, res);
		}
		i += c <= 0;
		j += c >= 0;
	}
done:
	set_release(&a);
	set_release(&b);
	set_release(&handled);
	moves_release(&mo);
	moves_release(&mt);
	return rc;
}

/* Resolve what git left conflicted: reuse logs by union; anything else is
 * refused, naming the files. */
static int resolve_rest(git_index *idx, kb_store *s)
{
	git_merge_file_options fo = GIT_MERGE_FILE_OPTIONS_INIT;
	git_index_conflict_iterator *it = NULL;
	const git_index_entry *anc, *our, *their;
	path_set unions = { NULL, 0 }, results = { NULL, 0 };
	kb_buf bad = KB_BUF_INIT;
	size_t i, nbad = 0;
	int rc = 0;

	fo.favor = GIT_MERGE_FILE_FAVOR_UNION;
	if (git_index_conflict_iterator_new(&it, idx) < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot read the merge: %s",
				    kb__git_msg("unknown error"));
	while (git_index_conflict_next(&anc, &our, &their, it) == 0) {
		const char *path = our ? our->path : their ? their->path : anc->path;
		git_merge_file_result mr;

		if (our && their && !strncmp(path, KB_REUSE_DIR "/", strlen(KB_REUSE_DIR) + 1) &&
		    has_suffix(path, ".log") &&
		    git_merge_file_from_index(&mr, s->repo, anc, our, their, &fo) == 0) {
			set_add_cb(&(git_diff_delta){ .new_file.path = path }, 0, &unions);
			results.items = kb_xrealloc(results.items, (results.count + 1) * sizeof(char *));
			results.items[results.count] = kb_xstrndup(mr.ptr ? mr.ptr : "", mr.len);
			results.count++;
			git_merge_file_result_free(&mr);
			continue;
		}
		if (nbad++ < 10)
			kb_buf_printf(&bad, "%s'%s'", nbad > 1 ? ", " : "", path);
	}
	git_index_conflict_iterator_free(it);
	git_error_clear();
	if (nbad) {
		rc = kb_error_set(KB_ECONFLICT, NULL, 0,
				  "cannot merge %s%s: changed on both sides and not a case file; "
				  "nothing was changed; merge with git, then run kb sync again",
				  bad.ptr, nbad > 10 ? ", ..." : "");
		goto done;
	}
	for (i = 0; i < unions.count && rc == 0; i++)
		rc = index_put(idx, s, unions.items[i], results.items[i], strlen(results.items[i]));
done:
	set_release(&unions);
	set_release(&results);
	kb_buf_release(&bad);
	return rc;
}

/* A signature for `who` now, in local time (the email may be empty). */
static int signature(git_signature **out, const kb_author *who)
{
	kb_buf raw = KB_BUF_INIT;
	time_t now = time(NULL);
	struct tm tm;
	int tz, rc = 0;

	localtime_r(&now, &tm);
	tz = (int)(tm.tm_gmtoff / 60);
	kb_buf_printf(&raw, "%s <%s> %lld %c%02d%02d", who->name, who->email ? who->email : "",
		      (long long)now, tz < 0 ? '-' : '+', abs(tz) / 60, abs(tz) % 60);
	if (strpbrk(who->name, "<>\n") || (who->email && strpbrk(who->email, "<>\n")) ||
	    git_signature_from_buffer(out, raw.ptr) < 0)
		rc = kb_error_set(KB_EINPUT, NULL, 0, "invalid author '%s'", who->name);
	kb_buf_release(&raw);
	return rc;
}

static int merge_commit(git_oid *out, kb_store *s, git_commit *ours, git_commit *theirs,
			const git_oid *tree_id, const kb_author *who, const char *remote,
			const char *branch, const kb_sync_result *res)
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	const git_commit *parents[2] = { ours, theirs };
	kb_buf msg = KB_BUF_INIT;
	size_t i;
	int rc;

	if ((rc = signature(&sig, who)) < 0)
		goto done;
	kb_buf_printf(&msg, "Merge '%s' of %s (kb sync)\n", branch, remote);
	if (res->cases_merged)
		kb_buf_printf(&msg, "\nCases merged section by section: %zu\n", res->cases_merged);
	for (i = 0; i < res->nconflicts; i++)
		kb_buf_printf(&msg, "%s%s", i ? ", " : "Conflicts kept for review: ",
			      res->conflicts[i]);
	if (res->nconflicts)
		kb_buf_putc(&msg, '\n');
	if (git_tree_lookup(&tree, s->repo, tree_id) < 0 ||
	    git_commit_create(out, s->repo, NULL, sig, sig, NULL, msg.ptr, tree, 2, parents) < 0)
		rc = kb_error_set(KB_EIO, NULL, 0, "cannot write the merge commit: %s",
				  kb__git_msg("unknown error"));
done:
	kb_buf_release(&msg);
	git_tree_free(tree);
	git_signature_free(sig);
	return rc;
}

/*
 * Merge commit `their_id` into `our_id`: a new commit object (not yet on any
 * branch) into *out.  Nothing else changes; on a refusal nothing was made
 * but loose objects git collects as garbage.
 */
static int make_merge(git_oid *out, kb_store *s, const git_oid *our_id, const git_oid *their_id,
		      const kb_sync_options *opts, const char *remote, const char *branch,
		      kb_sync_result *res)
{
	git_merge_options mo = GIT_MERGE_OPTIONS_INIT;
	git_commit *ours = NULL, *theirs = NULL, *basec = NULL;
	git_tree *ot = NULL, *tt = NULL, *bt = NULL;
	git_index *idx = NULL;
	git_oid base_id, tree_id;
	int rc = 0;

	if (!opts->author || !opts->author->name)
		return kb_error_set(KB_EINPUT, NULL, 0, "no author for the merge commit");
	mo.flags = 0;  /* no rename detection: a case is its file name */
	if (git_merge_base(&base_id, s->repo, our_id, their_id) < 0 ||
	    git_commit_lookup(&ours, s->repo, our_id) < 0 ||
	    git_commit_lookup(&theirs, s->repo, their_id) < 0 ||
	    git_commit_lookup(&basec, s->repo, &base_id) < 0 || git_commit_tree(&ot, ours) < 0 ||
	    git_commit_tree(&tt, theirs) < 0 || git_commit_tree(&bt, basec) < 0 ||
	    git_merge_commits(&idx, s->repo, ours, theirs, &mo) < 0) {
		rc = kb_error_set(KB_ERROR, NULL, 0, "cannot merge: %s", kb__git_msg("unknown error"));
		goto done;
	}
	if ((rc = merge_cases(idx, s, bt, ot, tt, remote, res)) < 0 ||
	    (rc = resolve_rest(idx, s)) < 0)
		goto done;
	if (git_index_write_tree_to(&tree_id, idx, s->repo) < 0) {
		rc = kb_error_set(KB_EIO, NULL, 0, "cannot write the merged tree: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	rc = merge_commit(out, s, ours, theirs, &tree_id, opts->author, remote, branch, res);
done:
	git_index_free(idx);
	git_tree_free(ot);
	git_tree_free(tt);
	git_tree_free(bt);
	git_commit_free(ours);
	git_commit_free(theirs);
	git_commit_free(basec);
	return rc;
}

/* ---- integrate ----------------------------------------------------------------- */

typedef struct {
	kb_store *s;
	const char *remote;
	const char *branch;
	const char *refname;     /* refs/heads/<branch> */
	const kb_sync_options *opts;
	kb_sync_result *res;
} sync_ctx;

/* Commits reachable from `from` but not from `hide`. */
static size_t count_commits(kb_store *s, const git_oid *from, const git_oid *hide)
{
	size_t ahead = 0, behind = 0;

	if (git_graph_ahead_behind(&ahead, &behind, s->repo, from, hide) < 0) {
		git_error_clear();
		return 0;
	}
	return ahead;
}

/* The remote branch as fetched into *tip; 1 when the remote has no such branch. */
static int remote_tip(git_oid *tip, kb_store *s, const char *remote, const char *branch)
{
	kb_buf name = KB_BUF_INIT;
	int err;

	kb_buf_printf(&name, "refs/remotes/%s/%s", remote, branch);
	err = git_reference_name_to_id(tip, s->repo, name.ptr);
	kb_buf_release(&name);
	if (err == GIT_ENOTFOUND) {
		git_error_clear();
		return 1;
	}
	if (err < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot read the remote branch: %s",
				    kb__git_msg("unknown error"));
	return 0;
}

static int check_history(sync_ctx *c, const git_oid *head, const git_oid *tip)
{
	remote_state st;
	git_oid base;

	state_read(&st, c->s, c->remote);
	if (st.has_synced && !git_oid_equal(&st.synced, tip) &&
	    git_graph_descendant_of(c->s->repo, tip, &st.synced) != 1) {
		git_error_clear();
		return kb_error_set(KB_ECONFLICT, NULL, 0,
				    "the history of '%s' on '%s' was rewritten (force push): it no "
				    "longer contains %.10s, which the last sync saw there; nothing was "
				    "changed; ask who rewrote it, then either push your history again "
				    "with git or start from a fresh clone of the remote",
				    c->branch, c->remote, git_oid_tostr_s(&st.synced));
	}
	if (git_merge_base(&base, c->s->repo, head, tip) == GIT_ENOTFOUND) {
		git_error_clear();
		return kb_error_set(KB_ECONFLICT, NULL, 0,
				    "'%s' on '%s' shares no history with this KB; nothing was "
				    "changed; kb does not merge unrelated histories: clone the remote "
				    "with 'git clone' and add your cases there, or use another remote",
				    c->branch, c->remote);
	}
	git_error_clear();
	return 0;
}

/* Bring the remote branch as fetched into the local branch. */
static int integrate(sync_ctx *c)
{
	git_oid head, tip, merged;
	int rc;

	if ((rc = remote_tip(&tip, c->s, c->remote, c->branch)) != 0)
		return rc < 0 ? rc : 0;  /* nothing there yet: just push */
	if (git_reference_name_to_id(&head, c->s->repo, c->refname) < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot read '%s': %s", c->refname,
				    kb__git_msg("unknown error"));
	if (git_oid_equal(&head, &tip))
		goto synced;
	if ((rc = check_history(c, &head, &tip)) < 0)
		return rc;
	c->res->commits_fetched += count_commits(c->s, &tip, &head);
	if (git_graph_descendant_of(c->s->repo, &head, &tip) == 1)
		goto synced;  /* only local commits: push them */
	if (git_graph_descendant_of(c->s->repo, &tip, &head) == 1) {
		if ((rc = kb__sync_move(c->s, c->refname, &head, &tip, "kb sync: fast-forward")) < 0)
			return rc;
		c->res->fast_forward = 1;
		goto synced;
	}
	if ((rc = make_merge(&merged, c->s, &head, &tip, c->opts, c->remote, c->branch, c->res)) < 0 ||
	    (rc = kb__sync_move(c->s, c->refname, &head, &merged, "kb sync: merge")) < 0)
		return rc;
	c->res->merged = 1;
synced:
	git_error_clear();
	return state_write(c->s, c->remote, &tip, (int64_t)time(NULL));
}

/* ---- kb_sync ---------------------------------------------------------------------- */

static int count_change(kb_change_kind kind, const char *relpath, void *payload)
{
	(void)kind;
	(void)relpath;
	(*(size_t *)payload)++;
	return 0;
}

/*
 * Test hook: KB_TEST_SYNC_BEFORE_PUSH is a shell command run once, between
 * the first integration and the first push, so the tests can make another
 * clone push in between and prove the retry (a push race) deterministically.
 */
static void before_push(unsigned attempt)
{
	const char *cmd = getenv("KB_TEST_SYNC_BEFORE_PUSH");

	if (cmd && *cmd && attempt == 1 && system(cmd) != 0)
		kb_error_clear();
}

/* The current branch: refs/heads/<name>. */
static int current_branch(kb_buf *refname, kb_buf *branch, kb_store *s)
{
	git_reference *head = NULL;
	int err = git_repository_head(&head, s->repo);

	if (err == GIT_EUNBORNBRANCH || err == GIT_ENOTFOUND || (err == 0 && !git_reference_is_branch(head))) {
		git_reference_free(head);
		git_error_clear();
		return kb_error_set(KB_ESTATE, NULL, 0, "HEAD is not on a branch with commits");
	}
	if (err < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot read HEAD: %s",
				    kb__git_msg("unknown error"));
	kb_buf_puts(refname, git_reference_name(head));
	kb_buf_puts(branch, git_reference_shorthand(head));
	git_reference_free(head);
	return 0;
}

/* After the rounds (also after a failure): HEAD, cases changed, the search
 * index.  Keeps the error of a failed sync as the last error. */
static void finish(sync_ctx *c, const char *start, int rc)
{
	kb_index *idx = NULL;
	kb_error saved = *kb_error_last();
	char *msg = kb_xstrdup(saved.message), *path = saved.path ? kb_xstrdup(saved.path) : NULL;
	git_oid head;

	if (git_reference_name_to_id(&head, c->s->repo, c->refname) == 0)
		git_oid_tostr(c->res->head, sizeof(c->res->head), &head);
	if (start[0] && strcmp(start, c->res->head))
		kb_store_changes(c->s, start, 0, count_change, &c->res->cases_changed);
	if (kb_index_open_store(&idx, c->s) < 0)
		c->res->index_stale = 1;
	kb_index_close(idx);
	git_error_clear();
	kb_error_clear();
	if (rc < 0)
		kb_error_set(saved.code, path, saved.line, "%s", msg);
	free(msg);
	free(path);
}

/* 1 when the remote branch, as just fetched, already is HEAD: nothing to push. */
static int remote_has_head(kb_store *s, const char *remote, const char *branch,
			   const char *refname)
{
	kb_buf tracking = KB_BUF_INIT;
	git_oid head, theirs;
	int same;

	kb_buf_printf(&tracking, "refs/remotes/%s/%s", remote, branch);
	same = git_reference_name_to_id(&head, s->repo, refname) == 0 &&
	       git_reference_name_to_id(&theirs, s->repo, tracking.ptr) == 0 &&
	       git_oid_equal(&head, &theirs);
	git_error_clear();
	kb_buf_release(&tracking);
	return same;
}

int kb_sync(kb_store *s, const char *remote, const kb_sync_options *opts, kb_sync_result *res)
{
	kb_sync_options dflt = KB_SYNC_OPTIONS_INIT;
	kb_buf name = KB_BUF_INIT, refname = KB_BUF_INIT, branch = KB_BUF_INIT;
	sync_ctx c;
	char start[41] = "";
	unsigned max, attempt;
	git_oid head;
	int rc, lock = -1, nothing_to_push = 0;

	memset(res, 0, sizeof(*res));
	opts = opts ? opts : &dflt;
	max = opts->max_attempts ? opts->max_attempts : DEFAULT_ATTEMPTS;
	if (remote && *remote)
		kb_buf_puts(&name, remote);
	else if ((rc = kb_remote_default(&name, s)) < 0)
		goto done;
	if ((rc = kb__remote_check(s, name.ptr)) < 0 || (rc = kb__check_repo_state(s)) < 0 ||
	    (rc = kb__sync_lock(&lock, s)) < 0 || (rc = kb__sync_recover(s)) < 0 || (rc = current_branch(&refname, &branch, s)) < 0 ||
	    (rc = check_clean(s)) < 0)
		goto done;
	snprintf(res->branch, sizeof(res->branch), "%s", branch.ptr);
	if (git_reference_name_to_id(&head, s->repo, refname.ptr) == 0)
		git_oid_tostr(start, sizeof(start), &head);
	c = (sync_ctx){ s, name.ptr, branch.ptr, refname.ptr, opts, res };
	for (attempt = 1; attempt <= max; attempt++) {
		res->attempts = attempt;
		if ((rc = kb__sync_fetch(s, name.ptr, branch.ptr)) < 0 || (rc = integrate(&c)) < 0)
			break;
		if (opts->no_push)
			break;
		if (remote_has_head(s, name.ptr, branch.ptr, refname.ptr)) {
			nothing_to_push = 1;
			break;
		}
		before_push(attempt);
		if ((rc = kb__sync_push(s, name.ptr, branch.ptr)) <= 0)
			break;
	}
	if (rc == 1)
		rc = kb_error_set(KB_ECONFLICT, NULL, 0,
				  "'%s' kept moving during %u attempts to push; run kb sync again",
				  name.ptr, max);
	if (rc == 0 && !opts->no_push) {
		res->pushed = !nothing_to_push;
		if (git_reference_name_to_id(&head, s->repo, refname.ptr) == 0)
			rc = state_write(s, name.ptr, &head, (int64_t)time(NULL));
	}
	finish(&c, start, rc);
done:
	kb__sync_unlock(lock);
	kb_buf_release(&name);
	kb_buf_release(&refname);
	kb_buf_release(&branch);
	return rc;
}

void kb_sync_result_release(kb_sync_result *r)
{
	size_t i;

	for (i = 0; i < r->nconflicts; i++)
		free(r->conflicts[i]);
	free(r->conflicts);
	r->conflicts = NULL;
	r->nconflicts = 0;
}

/* ---- state for kb status ------------------------------------------------------- */

int kb_sync_state_get(kb_sync_state *out, kb_store *s)
{
	kb_buf name = KB_BUF_INIT, refname = KB_BUF_INIT, branch = KB_BUF_INIT;
	remote_state st;
	git_oid head, tip;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (kb_remote_default(&name, s) < 0) {
		kb_error_clear();
		goto done;
	}
	snprintf(out->remote, sizeof(out->remote), "%s", name.ptr);
	if (current_branch(&refname, &branch, s) < 0) {
		kb_error_clear();
		goto done;
	}
	snprintf(out->branch, sizeof(out->branch), "%s", branch.ptr);
	state_read(&st, s, name.ptr);
	out->last_sync = st.when;
	if (git_reference_name_to_id(&head, s->repo, refname.ptr) == 0 &&
	    remote_tip(&tip, s, name.ptr, branch.ptr) == 0 &&
	    git_graph_ahead_behind(&out->ahead, &out->behind, s->repo, &head, &tip) == 0)
		out->tracked = 1;
	git_error_clear();
	kb_error_clear();
done:
	kb_buf_release(&name);
	kb_buf_release(&refname);
	kb_buf_release(&branch);
	return rc;
}
