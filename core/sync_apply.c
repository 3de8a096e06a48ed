/*
 * sync_apply.c - moving the work tree, git's index and the branch from one
 * commit to another for `kb sync` (fast-forward or merge), restartably: a
 * journal names both commits until the move is complete, every file is
 * first written to an fsynced temporary, and a file already as wanted is
 * left alone, so re-running a move that was killed half-way completes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kb/error.h"
#include "sync_internal.h"

#define JOURNAL "journal"

typedef struct {
	char *path;
	git_oid old_id, new_id;   /* zero when absent on that side */
	int has_old, has_new;
	unsigned int new_mode;
	char *tmp;                /* written temporary, or NULL */
	int pending;              /* 1 when the work tree must change */
} move_item;

typedef struct {
	move_item *items;
	size_t count, alloc;
} move_list;

static void list_release(move_list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++) {
		if (l->items[i].tmp) {
			unlink(l->items[i].tmp);
			free(l->items[i].tmp);
		}
		free(l->items[i].path);
	}
	free(l->items);
}

/* ---- small files ---------------------------------------------------------- */

int kb__sync_path(kb_buf *out, kb_store *s, const char *name)
{
	kb_buf dir = KB_BUF_INIT;
	int rc;

	if ((rc = kb_store_cachedir(&dir, s)) < 0)
		goto done;
	kb_buf_puts(&dir, "sync");
	if (mkdir(dir.ptr, 0777) < 0 && errno != EEXIST) {
		rc = kb_error_set(KB_EIO, dir.ptr, 0, "cannot create '%s': %s", dir.ptr,
				  strerror(errno));
		goto done;
	}
	kb_buf_clear(out);
	kb_buf_printf(out, "%s/%s", dir.ptr, name);
done:
	kb_buf_release(&dir);
	return rc;
}

/* Write data to a new file at `tmp` (must not exist) and fsync it. */
static int write_new_file(const char *tmp, const char *data, size_t len, mode_t mode)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	int ok;

	if (fd < 0)
		return -1;
	ok = kb__write_all(fd, data, len) == 0 && fsync(fd) == 0;
	if (close(fd) < 0)
		ok = 0;
	if (!ok) {
		int e = errno;

		unlink(tmp);
		errno = e;
	}
	return ok ? 0 : -1;
}

int kb__sync_write_file(const char *path, const char *data, size_t len)
{
	kb_buf tmp = KB_BUF_INIT;
	int rc = 0;

	kb_buf_printf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	unlink(tmp.ptr);
	if (write_new_file(tmp.ptr, data, len, 0666) < 0 || rename(tmp.ptr, path) < 0) {
		rc = kb_error_set(KB_EIO, path, 0, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp.ptr);
	}
	kb_buf_release(&tmp);
	return rc;
}

/* ---- planning ------------------------------------------------------------- */

static int diff_cb(const git_diff_delta *d, float progress, void *payload)
{
	move_list *l = payload;
	move_item *it;

	(void)progress;
	if (d->new_file.mode == GIT_FILEMODE_COMMIT || d->old_file.mode == GIT_FILEMODE_COMMIT)
		return 0;  /* submodules are not kb's */
	if (l->count == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 16;
		l->items = kb_xrealloc(l->items, l->alloc * sizeof(*l->items));
	}
	it = &l->items[l->count++];
	memset(it, 0, sizeof(*it));
	it->path = kb_xstrdup(d->new_file.path ? d->new_file.path : d->old_file.path);
	it->has_old = d->status != GIT_DELTA_ADDED;
	it->has_new = d->status != GIT_DELTA_DELETED;
	if (it->has_old)
		git_oid_cpy(&it->old_id, &d->old_file.id);
	if (it->has_new)
		git_oid_cpy(&it->new_id, &d->new_file.id);
	it->new_mode = d->new_file.mode;
	return 0;
}

static int tree_of(git_tree **out, kb_store *s, const git_oid *commit_id)
{
	git_commit *c = NULL;
	int err;

	err = git_commit_lookup(&c, s->repo, commit_id);
	if (err == 0)
		err = git_commit_tree(out, c);
	git_commit_free(c);
	if (err < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot read commit %.10s: %s",
				    git_oid_tostr_s(commit_id), kb__git_msg("unknown error"));
	return 0;
}

/* Every file that differs between the trees of the two commits. */
static int plan(move_list *l, kb_store *s, const git_oid *from, const git_oid *to)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	int rc;

	if ((rc = tree_of(&a, s, from)) < 0 || (rc = tree_of(&b, s, to)) < 0)
		goto done;
	if (git_diff_tree_to_tree(&diff, s->repo, a, b, &o) < 0 ||
	    git_diff_foreach(diff, diff_cb, NULL, NULL, NULL, l) < 0)
		rc = kb_error_set(KB_ERROR, NULL, 0, "cannot compare trees: %s",
				  kb__git_msg("unknown error"));
done:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return rc;
}

/*
 * What the work tree holds at relpath: 0 absent, 1 a regular file whose
 * blob id is in *id, 2 something else (directory, symlink, unreadable).
 */
static int wt_state(git_oid *id, kb_store *s, const char *relpath)
{
	kb_buf p = KB_BUF_INIT;
	struct stat st;
	int r;

	kb_buf_printf(&p, "%s%s", s->workdir, relpath);
	if (lstat(p.ptr, &st) < 0)
		r = errno == ENOENT || errno == ENOTDIR ? 0 : 2;
	else if (!S_ISREG(st.st_mode))
		r = 2;
	else
		r = git_odb_hashfile(id, p.ptr, GIT_OBJECT_BLOB) == 0 ? 1 : 2;
	git_error_clear();
	kb_buf_release(&p);
	return r;
}

/* Mark what must change; KB_ESTATE naming the files that are neither as in
 * `from` nor as in `to` (edited meanwhile, or untracked files in the way). */
static int check_worktree(move_list *l, kb_store *s)
{
	kb_buf bad = KB_BUF_INIT;
	size_t i, nbad = 0;
	git_oid id;
	int st, rc = 0;

	for (i = 0; i < l->count; i++) {
		move_item *it = &l->items[i];

		if (it->has_new && it->new_mode == GIT_FILEMODE_LINK) {
			rc = kb_error_set(KB_ECONFLICT, it->path, 0,
					  "'%s' is a symbolic link; kb sync does not write links",
					  it->path);
			goto done;
		}
		st = wt_state(&id, s, it->path);
		if ((st == 0 && !it->has_new) || (st == 1 && it->has_new && git_oid_equal(&id, &it->new_id)))
			continue;  /* already as wanted */
		if ((st == 0 && !it->has_old) || (st == 1 && it->has_old && git_oid_equal(&id, &it->old_id))) {
			it->pending = 1;
			continue;
		}
		if (nbad++ < 10)
			kb_buf_printf(&bad, "%s'%s'", nbad > 1 ? ", " : "", it->path);
	}
	if (nbad)
		rc = kb_error_set(KB_ESTATE, NULL, 0,
				  "uncommitted or untracked files are in the way of the sync: %s%s; "
				  "commit, move or remove them and run kb sync again",
				  bad.ptr, nbad > 10 ? ", ..." : "");
done:
	kb_buf_release(&bad);
	return rc;
}

/* ---- writing -------------------------------------------------------------- */

static int make_dirs(kb_store *s, const char *relpath)
{
	kb_buf p = KB_BUF_INIT;
	const char *slash;
	struct stat st;
	int rc = 0;

	for (slash = strchr(relpath, '/'); slash && rc == 0; slash = strchr(slash + 1, '/')) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%.*s", s->workdir, (int)(slash - relpath), relpath);
		if (lstat(p.ptr, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		if (mkdir(p.ptr, 0777) < 0)
			rc = kb_error_set(KB_EIO, relpath, 0, "cannot create '%s': %s", p.ptr,
					  strerror(errno));
	}
	kb_buf_release(&p);
	return rc;
}

/* Write every new content to a temporary beside its target. */
static int write_temps(move_list *l, kb_store *s)
{
	kb_buf p = KB_BUF_INIT;
	git_blob *blob = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < l->count && rc == 0; i++) {
		move_item *it = &l->items[i];

		if (!it->pending || !it->has_new)
			continue;
		if ((rc = kb__check_relpath(it->path)) < 0 || (rc = make_dirs(s, it->path)) < 0)
			break;
		if (git_blob_lookup(&blob, s->repo, &it->new_id) < 0) {
			rc = kb_error_set(KB_ERROR, it->path, 0, "cannot read '%s': %s", it->path,
					  kb__git_msg("unknown error"));
			break;
		}
		kb_buf_clear(&p);
		/* one name per file: only one sync runs at a time (kb__sync_lock),
		 * and a temporary a killed sync left is replaced */
		kb_buf_printf(&p, "%s%s.kbsync-tmp", s->workdir, it->path);
		unlink(p.ptr);
		if (write_new_file(p.ptr, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob),
				   it->new_mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666) < 0)
			rc = kb_error_set(errno == ENOSPC || errno == EFBIG || errno == EDQUOT
					  ? KB_EIO : KB_ESTATE, it->path, 0,
					  "cannot write '%s': %s", it->path, strerror(errno));
		else
			it->tmp = kb_buf_detach(&p);
		git_blob_free(blob);
		blob = NULL;
	}
	kb_buf_release(&p);
	return rc;
}

/* Rename temporaries into place and remove deleted files; keeps going and
 * reports the first failure. */
static int install(move_list *l, kb_store *s)
{
	kb_buf p = KB_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < l->count; i++) {
		move_item *it = &l->items[i];

		if (!it->pending)
			continue;
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%s", s->workdir, it->path);
		if (it->has_new ? rename(it->tmp, p.ptr) < 0 : unlink(p.ptr) < 0 && errno != ENOENT) {
			if (rc == 0)
				rc = kb_error_set(KB_EIO, it->path, 0, "cannot update '%s': %s; "
						  "run kb sync again", it->path, strerror(errno));
			continue;
		}
		if (it->has_new) {
			free(it->tmp);
			it->tmp = NULL;
		} else {
			/* drop directories the removal left empty, below the top level */
			char *slash = strrchr(p.ptr, '/');

			while (slash && slash > p.ptr + strlen(s->workdir) &&
			       memchr(p.ptr + strlen(s->workdir), '/',
				      (size_t)(slash - p.ptr) - strlen(s->workdir))) {
				*slash = '\0';
				if (rmdir(p.ptr) < 0)
					break;
				slash = strrchr(p.ptr, '/');
			}
		}
	}
	kb_buf_release(&p);
	return rc;
}

/* git's index: every moved path as in the new commit. */
static int update_index(move_list *l, kb_store *s)
{
	git_index *idx = NULL;
	size_t i;
	int err = 0, rc = 0;

	if (git_repository_index(&idx, s->repo) < 0 || git_index_read(idx, 0) < 0) {
		err = -1;
		goto done;
	}
	for (i = 0; i < l->count && err == 0; i++) {
		if (l->items[i].has_new)
			err = git_index_add_bypath(idx, l->items[i].path);
		else if (git_index_get_bypath(idx, l->items[i].path, 0))
			err = git_index_remove_bypath(idx, l->items[i].path);
	}
	if (err == 0)
		err = git_index_write(idx);
done:
	if (err < 0)
		rc = kb_error_set(KB_EIO, NULL, 0, "cannot update git's index: %s; run kb sync again",
				  kb__git_msg("unknown error"));
	git_index_free(idx);
	return rc;
}

/* Move only the files and git's index (no journal, no ref).  *touched is
 * set once the work tree started to change. */
static int move_files(kb_store *s, const git_oid *from, const git_oid *to, int *touched)
{
	move_list l = { NULL, 0, 0 };
	int rc;

	*touched = 0;
	if ((rc = plan(&l, s, from, to)) < 0 || (rc = check_worktree(&l, s)) < 0 ||
	    (rc = write_temps(&l, s)) < 0)
		goto done;
	*touched = 1;
	if ((rc = install(&l, s)) < 0)
		goto done;
	rc = update_index(&l, s);
done:
	list_release(&l);
	return rc;
}

/* ---- the journal ---------------------------------------------------------- */

static int journal_write(kb_store *s, const char *refname, const git_oid *from,
			 const git_oid *to)
{
	kb_buf path = KB_BUF_INIT, text = KB_BUF_INIT;
	char a[41], b[41];
	int rc;

	git_oid_tostr(a, sizeof(a), from);
	git_oid_tostr(b, sizeof(b), to);
	kb_buf_printf(&text, "%s %s %s\n", a, b, refname);
	if ((rc = kb__sync_path(&path, s, JOURNAL)) == 0)
		rc = kb__sync_write_file(path.ptr, text.ptr, text.len);
	kb_buf_release(&path);
	kb_buf_release(&text);
	return rc;
}

static void journal_remove(kb_store *s)
{
	kb_buf path = KB_BUF_INIT;

	if (kb__sync_path(&path, s, JOURNAL) == 0)
		unlink(path.ptr);
	kb_buf_release(&path);
}

int kb__sync_move(kb_store *s, const char *refname, const git_oid *from, const git_oid *to,
		  const char *reflog)
{
	git_reference *ref = NULL;
	int err, rc, touched;

	if ((rc = journal_write(s, refname, from, to)) < 0)
		return rc;
	if ((rc = move_files(s, from, to, &touched)) < 0) {
		/* untouched: nothing to undo; else the journal lets the next
		 * sync put the files back */
		if (!touched)
			journal_remove(s);
		return rc;
	}
	err = git_reference_create_matching(&ref, s->repo, refname, to, 1, from, reflog);
	git_reference_free(ref);
	if (err < 0) {
		rc = kb_error_set(err == GIT_EMODIFIED ? KB_ECONFLICT : KB_ERROR, NULL, 0,
				  "cannot move '%s': %s", refname, kb__git_msg("unknown error"));
		/* put the files back as HEAD has them */
		if (move_files(s, to, from, &touched) == 0)
			journal_remove(s);
		kb_error_set(rc, NULL, 0, "'%s' moved during the sync; run kb sync again", refname);
		return rc;
	}
	journal_remove(s);
	return 0;
}

int kb__sync_lock(int *fd, kb_store *s)
{
	kb_buf path = KB_BUF_INIT;
	int rc;

	*fd = -1;
	if ((rc = kb__sync_path(&path, s, "lock")) < 0)
		goto done;
	*fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (*fd < 0) {
		rc = kb_error_set(KB_ESTATE, path.ptr, 0, "cannot open '%s': %s", path.ptr,
				  strerror(errno));
	} else if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		rc = kb_error_set(KB_ESTATE, NULL, 0,
				  "another kb sync is running in '%s'; wait for it to finish",
				  s->workdir);
		close(*fd);
		*fd = -1;
	}
done:
	kb_buf_release(&path);
	return rc;
}

void kb__sync_unlock(int fd)
{
	if (fd >= 0)
		close(fd);  /* releases the flock */
}

/* Remove temporaries a killed sync left beside the files of a move. */
static void remove_stale_temps(kb_store *s, const git_oid *from, const git_oid *to)
{
	move_list l = { NULL, 0, 0 };
	kb_buf p = KB_BUF_INIT;
	size_t i;

	if (plan(&l, s, from, to) == 0)
		for (i = 0; i < l.count; i++) {
			kb_buf_clear(&p);
			kb_buf_printf(&p, "%s%s.kbsync-tmp", s->workdir, l.items[i].path);
			unlink(p.ptr);
		}
	kb_error_clear();
	kb_buf_release(&p);
	list_release(&l);
}

int kb__sync_recover(kb_store *s)
{
	kb_buf path = KB_BUF_INIT, text = KB_BUF_INIT;
	char a[41], b[41], refname[512];
	git_oid from, to, head;
	int rc = 0, touched;

	if ((rc = kb__sync_path(&path, s, JOURNAL)) < 0)
		goto done;
	if (access(path.ptr, F_OK) < 0)
		goto done;
	{
		FILE *f = fopen(path.ptr, "r");

		if (!f || fscanf(f, "%40s %40s %511s", a, b, refname) != 3) {
			if (f)
				fclose(f);
			unlink(path.ptr);  /* torn journal: written before any file moved */
			goto done;
		}
		fclose(f);
	}
	if (git_oid_fromstr(&from, a) < 0 || git_oid_fromstr(&to, b) < 0 ||
	    git_reference_name_to_id(&head, s->repo, refname) < 0) {
		git_error_clear();
		unlink(path.ptr);
		goto done;
	}
	if (git_oid_equal(&head, &to))
		rc = move_files(s, &from, &to, &touched);      /* the branch moved: finish the files */
	else if (git_oid_equal(&head, &from))
		rc = move_files(s, &to, &from, &touched);      /* it did not: put the files back */
	else
		rc = kb_error_set(KB_ESTATE, path.ptr, 0,
				  "an interrupted sync left '%s' but the branch has moved since; "
				  "check 'git status', then remove that file", path.ptr);
	if (rc == 0) {
		remove_stale_temps(s, &from, &to);
		unlink(path.ptr);
	} else {
		kb_error_prefix("cannot finish the interrupted sync");
	}
done:
	kb_buf_release(&path);
	kb_buf_release(&text);
	return rc;
}
