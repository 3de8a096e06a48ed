/*
 * store_history.c - reading git history for kb/store.h: the log of one case
 * file (renames followed), HEAD, and the case files changed between a commit
 * and HEAD or the work tree (what the search index needs to catch up).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "kb/error.h"
#include "store_internal.h"

int kb_store_head(kb_store *s, char oid[41])
{
	git_oid id;
	int err = git_reference_name_to_id(&id, s->repo, "HEAD");

	if (err == GIT_ENOTFOUND || err == GIT_EUNBORNBRANCH) {
		git_error_clear();
		return kb_error_set(KB_ENOTFOUND, s->workdir, 0, "no commit yet in '%s'", s->workdir);
	}
	if (err < 0)
		return kb_error_set(KB_ERROR, s->workdir, 0, "cannot resolve HEAD: %s",
				    kb__git_msg("unknown error"));
	git_oid_tostr(oid, 41, &id);
	return 0;
}

/* ---- log ------------------------------------------------------------------ */

/* Blob id of `path` in `tree` into *out; 1 found, 0 absent. */
static int blob_at(git_oid *out, git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;
	int found = 0;

	if (tree && git_tree_entry_bypath(&e, tree, path) == 0 &&
	    git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		git_oid_cpy(out, git_tree_entry_id(e));
		found = 1;
	}
	git_tree_entry_free(e);
	git_error_clear();
	return found;
}

/* When `path` was renamed from another path between old_tree and new_tree,
 * that old path (caller frees); else NULL. */
static char *renamed_from(git_repository *repo, git_tree *old_tree, git_tree *new_tree,
			  const char *path)
{
	git_diff_find_options fo = GIT_DIFF_FIND_OPTIONS_INIT;
	git_diff *diff = NULL;
	const git_diff_delta *d;
	char *from = NULL;
	size_t i, n;

	fo.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_tree_to_tree(&diff, repo, old_tree, new_tree, NULL) < 0 ||
	    git_diff_find_similar(diff, &fo) < 0)
		goto done;
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		d = git_diff_get_delta(diff, i);
		if (d->status == GIT_DELTA_RENAMED && !strcmp(d->new_file.path, path)) {
			from = kb_xstrdup(d->old_file.path);
			break;
		}
	}
done:
	git_diff_free(diff);
	git_error_clear();
	return from;
}

/*
 * A case moved between folders keeps its file name (kb migrate-layout moves
 * cases/<ID>.md to cases/<PREFIX>/<NNN>/<ID>.md): the old path of `path`
 * when old_tree has a file of the same name at the flat path or at the
 * canonical path of the id and new_tree no longer has it (caller frees);
 * else NULL.  Two tree lookups, where git_diff_find_similar() on a commit
 * that moved 100,000 files took 40 s and found nothing.
 */
static char *moved_from(git_tree *old_tree, git_tree *new_tree, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	kb_buf cand = KB_BUF_INIT, id = KB_BUF_INIT;
	char *from = NULL;
	git_oid blob;
	int i;

	kb_buf_put(&id, base, strlen(base) > 3 ? strlen(base) - 3 : 0);
	for (i = 0; i < 2 && !from; i++) {
		kb_buf_clear(&cand);
		if (i == 0)
			kb_buf_printf(&cand, "%s/%s", KB_CASES_DIR, base);
		else if (kb_store_case_relpath(&cand, id.ptr) < 0)
			break;
		if (strcmp(cand.ptr, path) && blob_at(&blob, old_tree, cand.ptr) &&
		    !blob_at(&blob, new_tree, cand.ptr))
			from = kb_buf_detach(&cand);
	}
	kb_error_clear();
	kb_buf_release(&cand);
	kb_buf_release(&id);
	return from;
}

static void fill_info(kb_commit_info *ci, git_commit *c, const char *path)
{
	const git_signature *a = git_commit_author(c);

	git_oid_tostr(ci->oid, sizeof(ci->oid), git_commit_id(c));
	ci->author_name = a->name;
	ci->author_email = a->email;
	ci->time = (int64_t)a->when.time;
	ci->tz_offset = a->when.offset;
	ci->summary = git_commit_summary(c);
	ci->message = git_commit_message(c);
	ci->path = path;
}

typedef struct {
	kb_store *s;
	char *path;          /* the path as of the commit being looked at */
	int (*cb)(const kb_commit_info *ci, void *payload);
	void *payload;
	int have_next;       /* the parent's lookup below is valid for next_commit */
	git_oid next_commit;
	int next_found;
	git_oid next_blob;
} log_walk;

/* Tree of commit c, and the blob at w->path in it, into *found / *blob. */
static int lookup_in(git_tree **tree, int *found, git_oid *blob, log_walk *w, git_commit *c)
{
	if (git_commit_tree(tree, c) < 0)
		return kb_error_set(KB_ERROR, w->path, 0, "cannot read history: %s",
				    kb__git_msg("unknown error"));
	*found = blob_at(blob, *tree, w->path);
	return 0;
}

/*
 * Look at one commit: report it when the path changed against its first
 * parent, and switch to the old name when the file was renamed here.  The
 * parent's lookup is kept for the next commit of the walk (in a linear
 * history, the parent), so each commit's tree is read once: at 100,000
 * cases, reading the cases/ tree object dominates the cost of a log.
 */
static int log_commit(log_walk *w, git_commit *c)
{
	git_commit *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_oid now, before;
	kb_commit_info ci;
	int in_now, in_before = 0, rc = 0;
	char *from;

	if (w->have_next && git_oid_equal(&w->next_commit, git_commit_id(c))) {
		in_now = w->next_found;
		git_oid_cpy(&now, &w->next_blob);
	} else if ((rc = lookup_in(&tree, &in_now, &now, w, c)) < 0) {
		goto done;
	}
	w->have_next = 0;
	if (git_commit_parentcount(c) > 0) {
		if (git_commit_parent(&parent, c, 0) < 0) {
			rc = kb_error_set(KB_ERROR, w->path, 0, "cannot read history: %s",
					  kb__git_msg("unknown error"));
			goto done;
		}
		if ((rc = lookup_in(&ptree, &in_before, &before, w, parent)) < 0)
			goto done;
		w->have_next = 1;
		git_oid_cpy(&w->next_commit, git_commit_id(parent));
		w->next_found = in_before;
		git_oid_cpy(&w->next_blob, &before);
	}
	if (in_now == in_before && (!in_now || git_oid_equal(&now, &before)))
		goto done;
	fill_info(&ci, c, w->path);
	if ((rc = w->cb(&ci, w->payload)) != 0 || !in_now || in_before || !ptree)
		goto done;
	if (!tree && (rc = lookup_in(&tree, &in_now, &now, w, c)) < 0)
		goto done;
	if ((from = moved_from(ptree, tree, w->path)) != NULL ||
	    (from = renamed_from(w->s->repo, ptree, tree, w->path)) != NULL) {
		free(w->path);
		w->path = from;
		w->have_next = 0;
	}
done:
	git_tree_free(ptree);
	git_tree_free(tree);
	git_commit_free(parent);
	return rc;
}

int kb_store_log(kb_store *s, const char *relpath,
		 int (*cb)(const kb_commit_info *ci, void *payload), void *payload)
{
	log_walk w = { s, NULL, cb, payload, 0 };
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	git_oid id;
	int rc, err;

	if ((rc = kb__check_relpath(relpath)) < 0)
		return rc;
	if (git_revwalk_new(&walk, s->repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0) {
		rc = kb_error_set(KB_ERROR, relpath, 0, "cannot walk history: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	err = git_revwalk_push_head(walk);
	if (err == GIT_ENOTFOUND || err == GIT_EUNBORNBRANCH) {
		git_error_clear();
		goto done;  /* no commits: an empty log */
	}
	if (err < 0) {
		rc = kb_error_set(KB_ERROR, relpath, 0, "cannot walk history: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	w.path = kb_xstrdup(relpath);
	while (rc == 0 && (err = git_revwalk_next(&id, walk)) == 0) {
		if (git_commit_lookup(&c, s->repo, &id) < 0) {
			rc = kb_error_set(KB_ERROR, relpath, 0, "cannot read commit: %s",
					  kb__git_msg("unknown error"));
			break;
		}
		rc = log_commit(&w, c);
		git_commit_free(c);
		c = NULL;
	}
	if (rc == 0 && err != GIT_ITEROVER)
		rc = kb_error_set(KB_ERROR, relpath, 0, "cannot walk history: %s",
				  kb__git_msg("unknown error"));
done:
	free(w.path);
	git_revwalk_free(walk);
	return rc;
}

/* ---- changes -------------------------------------------------------------- */

typedef int (*change_cb)(kb_change_kind kind, const char *relpath, void *payload);

static int is_case_path(const char *path)
{
	size_t n = strlen(path);

	return !strncmp(path, KB_CASES_DIR "/", sizeof(KB_CASES_DIR)) && n > 3 &&
	       !strcmp(path + n - 3, ".md");
}

/* Tree of commit `hex` (NULL or "" = the empty tree: *out NULL). */
static int tree_of(git_tree **out, kb_store *s, const char *hex)
{
	git_object *obj = NULL;
	git_oid id;
	int rc = 0;

	*out = NULL;
	if (!hex || !*hex)
		return 0;
	if (strlen(hex) != GIT_OID_HEXSZ || git_oid_fromstr(&id, hex) < 0 ||
	    git_object_lookup(&obj, s->repo, &id, GIT_OBJECT_COMMIT) < 0 ||
	    git_commit_tree(out, (git_commit *)obj) < 0) {
		git_error_clear();
		rc = kb_error_set(KB_ENOTFOUND, NULL, 0, "'%s' is not a commit of this repository", hex);
	}
	git_object_free(obj);
	return rc;
}

/* HEAD's tree, NULL on an unborn branch. */
static int head_tree(git_tree **out, kb_store *s)
{
	git_object *obj = NULL;
	int err;

	*out = NULL;
	err = git_revparse_single(&obj, s->repo, "HEAD^{tree}");
	if (err == GIT_ENOTFOUND || err == GIT_EUNBORNBRANCH) {
		git_error_clear();
		return 0;
	}
	if (err < 0)
		return kb_error_set(KB_ERROR, s->workdir, 0, "cannot resolve HEAD: %s",
				    kb__git_msg("unknown error"));
	*out = (git_tree *)obj;
	return 0;
}

/* A regular file in git (a symlink in cases/ is never a case). */
static int is_regular(uint16_t mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

static int tree_changes(kb_store *s, git_tree *from, git_tree *to, change_cb cb, void *payload)
{
	git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
	char *spec[] = { KB_CASES_DIR "/" };
	const git_diff_delta *d;
	git_diff *diff = NULL;
	size_t i, n;
	int rc = 0, was, is;

	opts.pathspec.strings = spec;
	opts.pathspec.count = 1;
	if (git_diff_tree_to_tree(&diff, s->repo, from, to, &opts) < 0) {
		rc = kb_error_set(KB_ERROR, NULL, 0, "cannot compare trees: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n && rc == 0; i++) {
		d = git_diff_get_delta(diff, i);
		if (!is_case_path(d->new_file.path))
			continue;
		was = d->status != GIT_DELTA_ADDED && is_regular(d->old_file.mode);
		is = d->status != GIT_DELTA_DELETED && is_regular(d->new_file.mode);
		if (was && is)
			rc = cb(KB_CHANGE_MODIFIED, d->new_file.path, payload);
		else if (was)
			rc = cb(KB_CHANGE_DELETED, d->old_file.path, payload);
		else if (is)
			rc = cb(KB_CHANGE_ADDED, d->new_file.path, payload);
	}
done:
	git_diff_free(diff);
	return rc;
}

/* 1 when `relpath` is a regular file (not a symlink) in the work tree. */
static int in_workdir(kb_store *s, const char *relpath)
{
	return kb__workdir_type(s, relpath) == S_IFREG;
}

/*
 * Uncommitted changes under cases/: the paths whose work-tree file differs
 * from HEAD, found in two halves.
 * - HEAD against git's index (staged changes): libgit2's status, index
 *   only (0.03 s of CPU at 100,000 cases).
 * - git's index against the work tree: our own scan.  libgit2's status
 *   stat-ed every file by its absolute path and took 0.26 s of CPU there at
 *   100,000 cases; this walks cases/ with fstatat() relative to each
 *   directory, as the full reindex does, and compares each file with its
 *   index entry as git does: a different size is a change; a moved time or
 *   inode, or an entry that is "racily clean" (written no earlier than the
 *   second git's index was, so a same-size edit in that second could hide),
 *   is decided by the content's hash.
 * A path that differs in either half is reported once: modified when it is
 * in HEAD and in the work tree, deleted when only in HEAD, added when only
 * in the work tree.
 */
typedef struct {
	char *path;
	int in_head;     /* 1 in HEAD, 0 not, -1 as the index says (unstaged) */
} wt_change;

typedef struct {
	kb_store *s;
	git_index *index;
	struct stat index_st;            /* of git's index file: racy entries */
	unsigned char *seen;             /* per index position: file found */
	wt_change *v;
	size_t n, alloc;
	kb_buf rel;
} wt_scan;

static void wt_add(wt_scan *w, const char *path, int in_head)
{
	if (w->n == w->alloc) {
		w->alloc = w->alloc ? 2 * w->alloc : 16;
		w->v = kb_xrealloc(w->v, w->alloc * sizeof(*w->v));
	}
	w->v[w->n].path = kb_xstrdup(path);
	w->v[w->n++].in_head = in_head;
}

/* 1 when the file at `relpath` (stat `st`) differs from index entry e: its
 * size does, or its mtime, ctime (as git's core.trustctime, on by default)
 * or inode moved and its content hash differs, or the entry is racily
 * clean and the content hash differs. */
static int wt_differs(wt_scan *w, const git_index_entry *e, const struct stat *st,
		      const char *relpath)
{
	git_oid id;

	if (!is_regular(e->mode) || (uint32_t)st->st_size != e->file_size)
		return 1;
	if (st->st_mtim.tv_sec == (time_t)e->mtime.seconds &&
	    (!e->mtime.nanoseconds || (unsigned)st->st_mtim.tv_nsec == e->mtime.nanoseconds) &&
	    st->st_ctim.tv_sec == (time_t)e->ctime.seconds &&
	    (!e->ctime.nanoseconds || (unsigned)st->st_ctim.tv_nsec == e->ctime.nanoseconds) &&
	    (!e->ino || (uint32_t)st->st_ino == e->ino) &&
	    (time_t)e->mtime.seconds < w->index_st.st_mtim.tv_sec)
		return 0;
	if (git_repository_hashfile(&id, w->s->repo, relpath, GIT_OBJECT_BLOB, NULL) < 0)
		return 1;
	return !git_oid_equal(&id, &e->id);
}

/* kb__walk_case_dir's step: one work-tree file against its index entry. */
static int wt_file(void *ctx, int dfd, const char *name, const char *relpath)
{
	wt_scan *w = ctx;
	struct stat st;
	size_t pos;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (git_index_find(&pos, w->index, relpath) < 0) {
		wt_add(w, relpath, -1);          /* untracked */
		return 0;
	}
	w->seen[pos] = 1;
	if (wt_differs(w, git_index_get_byindex(w->index, pos), &st, relpath))
		wt_add(w, relpath, -1);
	return 0;
}

/* HEAD against git's index: staged changes. */
static int staged_changes(wt_scan *w)
{
	git_status_options opts = GIT_STATUS_OPTIONS_INIT;
	char *spec[] = { KB_CASES_DIR "/" };
	git_status_list *list = NULL;
	const git_diff_delta *d;
	size_t i, n;

	opts.show = GIT_STATUS_SHOW_INDEX_ONLY;
	opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_NO_REFRESH;
	opts.pathspec.strings = spec;
	opts.pathspec.count = 1;
	if (git_status_list_new(&list, w->s->repo, &opts) < 0)
		return kb_error_set(KB_ERROR, w->s->workdir, 0, "cannot read the work tree status: %s",
				    kb__git_msg("unknown error"));
	n = git_status_list_entrycount(list);
	for (i = 0; i < n; i++) {
		d = git_status_byindex(list, i)->head_to_index;
		if (d && is_case_path(d->new_file.path))
			wt_add(w, d->new_file.path, d->status != GIT_DELTA_ADDED);
	}
	git_status_list_free(list);
	return 0;
}

static int cmp_change(const void *a, const void *b)
{
	const wt_change *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	/* a staged entry (in_head known) first */
	return c ? c : (x->in_head < 0) - (y->in_head < 0);
}

static int status_changes(kb_store *s, change_cb cb, void *payload)
{
	wt_scan w;
	kb_buf p = KB_BUF_INIT;
	size_t i, pos, count;
	int rc, dfd, was = 0;

	memset(&w, 0, sizeof(w));
	w.s = s;
	kb_buf_init(&w.rel);
	if (git_repository_index(&w.index, s->repo) < 0 || git_index_read(w.index, 0) < 0) {
		rc = kb_error_set(KB_ERROR, s->workdir, 0, "cannot read git's index: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	kb_buf_printf(&p, "%sindex", s->gitdir);
	if (stat(p.ptr, &w.index_st) != 0)
		memset(&w.index_st, 0, sizeof(w.index_st));
	count = git_index_entrycount(w.index);
	w.seen = kb_xcalloc(count + 1, 1);
	if ((rc = staged_changes(&w)))
		goto done;
	kb_buf_clear(&p);
	kb_buf_printf(&p, "%s" KB_CASES_DIR, s->workdir);
	dfd = open(p.ptr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	kb_buf_puts(&w.rel, KB_CASES_DIR "/");
	if (dfd >= 0 && (rc = kb__walk_case_dir(dfd, &w.rel, wt_file, &w)))
		goto done;
	/* files of the index that are gone or are no longer regular files
	 * (a committed symlink left alone is no change) */
	if (git_index_find_prefix(&pos, w.index, KB_CASES_DIR "/") == 0) {
		for (; pos < count; pos++) {
			const git_index_entry *e = git_index_get_byindex(w.index, pos);
			if (strncmp(e->path, KB_CASES_DIR "/", sizeof(KB_CASES_DIR)))
				break;
			if (!w.seen[pos] && is_regular(e->mode) && is_case_path(e->path))
				wt_add(&w, e->path, -1);
		}
	}
	if (w.n)
		qsort(w.v, w.n, sizeof(*w.v), cmp_change);
	for (i = 0; i < w.n && rc == 0; i++) {
		const char *path = w.v[i].path;
		int is;

		if (i && !strcmp(path, w.v[i - 1].path))
			continue;
		/* unstaged: in HEAD exactly when in the index */
		was = w.v[i].in_head >= 0 ? w.v[i].in_head :
		      git_index_get_bypath(w.index, path, 0) != NULL;
		is = in_workdir(s, path);
		if (was && is)
			rc = cb(KB_CHANGE_MODIFIED, path, payload);
		else if (was)
			rc = cb(KB_CHANGE_DELETED, path, payload);
		else if (is)
			rc = cb(KB_CHANGE_ADDED, path, payload);
	}
done:
	for (i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	free(w.seen);
	kb_buf_release(&w.rel);
	kb_buf_release(&p);
	git_index_free(w.index);
	return rc;
}

int kb_store_changes(kb_store *s, const char *from, int workdir,
		     int (*cb)(kb_change_kind kind, const char *relpath, void *payload),
		     void *payload)
{
	git_tree *old_tree = NULL, *head = NULL;
	int rc;

	if ((rc = tree_of(&old_tree, s, from)) < 0 || (rc = head_tree(&head, s)) < 0)
		goto done;
	if ((rc = tree_changes(s, old_tree, head, cb, payload)) != 0)
		goto done;
	if (workdir)
		rc = status_changes(s, cb, payload);
done:
	git_tree_free(old_tree);
	git_tree_free(head);
	return rc;
}

/* ---- committed contents --------------------------------------------------- */

int kb_store_read_head(kb_buf *out, kb_store *s, const char *relpath)
{
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	git_oid id;
	int rc;

	if ((rc = kb__check_relpath(relpath)) < 0 || (rc = head_tree(&tree, s)) < 0)
		return rc;
	if (!blob_at(&id, tree, relpath)) {
		rc = kb_error_set(KB_ENOTFOUND, relpath, 0, "not in HEAD");
		goto done;
	}
	if (git_blob_lookup(&blob, s->repo, &id) < 0) {
		rc = kb_error_set(KB_ERROR, relpath, 0, "cannot read from HEAD: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	kb_buf_set(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
done:
	git_blob_free(blob);
	git_tree_free(tree);
	return rc;
}
