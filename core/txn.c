/*
 * txn.c - writes to a knowledge base (kb_txn in kb/store.h): changes staged
 * in memory become exactly one commit, and only then reach the work tree
 * (through fsynced temporary files renamed into place) and git's index.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kb/error.h"
#include "pack_internal.h"
#include "store_internal.h"

typedef struct {
	char *relpath;
	int put;           /* 0 for a removal */
	char *data;        /* new contents; NULL for a removal or once stored (bulk) */
	size_t len;
	int stored;        /* blob already written (bulk mode) */
	git_oid blob;
	unsigned int mode; /* git file mode in the new tree */
	char *tmp;         /* absolute path of the written temporary, or NULL */
} txn_change;

struct kb_txn {
	kb_store *s;
	txn_change *items;
	size_t count;
	size_t alloc;
	char **made_dirs;  /* directories created for new files, in creation order */
	size_t ndirs;
	size_t *byname;    /* open-addressing index of items by relpath: i + 1, 0 = free */
	size_t nbyname;    /* slots, a power of two */
	int bulk;          /* kb_txn_set_bulk(): blobs go to a pack as they are put */
	kb__pack pack;     /* bulk: blobs deflated but not yet written */
	git_oid *queued;   /* their ids, a set (zero = free slot) */
	size_t nqueued, aqueued;
};

/* In bulk mode, deflated blobs wait in memory until this many bytes, then
 * become a pack. */
#define TXN_PACK_FLUSH (32u * 1024 * 1024)

/* ---- checks ----------------------------------------------------------------- */

int kb__check_repo_state(kb_store *s)
{
	static const char *const what[] = {
		[GIT_REPOSITORY_STATE_MERGE] = "a merge",
		[GIT_REPOSITORY_STATE_REVERT] = "a revert",
		[GIT_REPOSITORY_STATE_REVERT_SEQUENCE] = "a revert",
		[GIT_REPOSITORY_STATE_CHERRYPICK] = "a cherry-pick",
		[GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE] = "a cherry-pick",
		[GIT_REPOSITORY_STATE_BISECT] = "a bisect",
		[GIT_REPOSITORY_STATE_REBASE] = "a rebase",
		[GIT_REPOSITORY_STATE_REBASE_INTERACTIVE] = "a rebase",
		[GIT_REPOSITORY_STATE_REBASE_MERGE] = "a rebase",
		[GIT_REPOSITORY_STATE_APPLY_MAILBOX] = "a git am",
		[GIT_REPOSITORY_STATE_APPLY_MAILBOX_OR_REBASE] = "a git am or rebase",
	};
	int st = git_repository_state(s->repo);
	int detached;

	if (st != GIT_REPOSITORY_STATE_NONE) {
		const char *w = st > 0 && (size_t)st < sizeof(what) / sizeof(what[0]) && what[st]
				? what[st] : "a git operation";
		return kb_error_set(KB_ESTATE, s->workdir, 0,
				    "%s is in progress in '%s'; finish or abort it first", w, s->workdir);
	}
	detached = git_repository_head_detached(s->repo);
	if (detached == 1)
		return kb_error_set(KB_ESTATE, s->workdir, 0,
				    "HEAD is detached in '%s'; check out a branch first", s->workdir);
	git_error_clear();
	return 0;
}

/*
 * 1 when a file can be created in `dir`.  Permission bits alone do not tell
 * (root ignores them; a read-only mount or an immutable directory stops
 * root too), so create and remove a probe file.
 */
static int dir_writable(const char *dir)
{
	kb_buf p = KB_BUF_INIT;
	int fd, ok;

	kb_buf_printf(&p, "%s/.kb-probe-%ld-%ld", dir, (long)getpid(), (long)time(NULL));
	fd = open(p.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	ok = fd >= 0 || errno == EEXIST;
	if (fd >= 0) {
		close(fd);
		unlink(p.ptr);
	}
	kb_buf_release(&p);
	return ok;
}

static int check_writable(kb_store *s)
{
	kb_buf objects = KB_BUF_INIT;
	int ok;

	/* objects/ lives in the common directory (differs in a linked worktree) */
	kb_buf_printf(&objects, "%sobjects", git_repository_commondir(s->repo));
	ok = dir_writable(s->workdir) && dir_writable(s->gitdir) && dir_writable(objects.ptr);
	kb_buf_release(&objects);
	if (!ok)
		return kb_error_set(KB_ESTATE, s->workdir, 0, "knowledge base '%s' is read-only",
				    s->workdir);
	return 0;
}

/* ---- staging ---------------------------------------------------------------- */

int kb_txn_begin(kb_txn **out, kb_store *s)
{
	int rc;

	*out = NULL;
	if ((rc = kb__check_repo_state(s)) < 0 || (rc = check_writable(s)) < 0 ||
	    (rc = kb__txn_recover(s)) < 0)
		return rc;
	*out = kb_xcalloc(1, sizeof(kb_txn));
	(*out)->s = s;
	kb_buf_init(&(*out)->pack.body);
	return 0;
}

/* FNV-1a of a path, for the index of staged changes. */
static size_t path_hash(const char *p)
{
	size_t h = 2166136261u;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

/* The index slot holding relpath, or the free slot where it would go. */
static size_t byname_find(const kb_txn *t, const char *relpath)
{
	size_t i = path_hash(relpath) & (t->nbyname - 1);

	while (t->byname[i] && strcmp(t->items[t->byname[i] - 1].relpath, relpath))
		i = (i + 1) & (t->nbyname - 1);
	return i;
}

/* Keep the index at most half full (an import stages 100,000 files). */
static void byname_grow(kb_txn *t)
{
	size_t i;

	if (2 * (t->count + 1) <= t->nbyname)
		return;
	free(t->byname);
	t->nbyname = t->nbyname ? 2 * t->nbyname : 16;
	t->byname = kb_xcalloc(t->nbyname, sizeof(*t->byname));
	for (i = 0; i < t->count; i++)
		t->byname[byname_find(t, t->items[i].relpath)] = i + 1;
}

/* The staged change for relpath, replacing an earlier one for the same path. */
static txn_change *slot(kb_txn *t, const char *relpath)
{
	txn_change *c;
	size_t h;

	byname_grow(t);
	h = byname_find(t, relpath);
	if (t->byname[h]) {
		c = &t->items[t->byname[h] - 1];
		free(c->data);
		c->data = NULL;
		c->put = c->stored = 0;
		return c;
	}
	if (t->count == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 8;
		t->items = kb_xrealloc(t->items, t->alloc * sizeof(*t->items));
	}
	c = &t->items[t->count++];
	t->byname[h] = t->count;
	memset(c, 0, sizeof(*c));
	c->relpath = kb_xstrdup(relpath);
	return c;
}

/* ---- bulk mode: blobs into a pack as they are put -------------------------- */

/* 1 when the blob is already in this batch (same contents put twice);
 * otherwise remember it.  Open addressing on the id's first bytes. */
static int batch_seen(kb_txn *t, const git_oid *id)
{
	size_t i, mask;
	git_oid *old = t->queued;
	size_t oldcap = t->aqueued;

	if (2 * (t->nqueued + 1) > t->aqueued) {
		t->aqueued = t->aqueued ? 2 * t->aqueued : 1024;
		t->queued = kb_xcalloc(t->aqueued, sizeof(*t->queued));
		t->nqueued = 0;
		for (i = 0; i < oldcap; i++)
			if (!git_oid_is_zero(&old[i]))
				batch_seen(t, &old[i]);
		free(old);
	}
	mask = t->aqueued - 1;
	for (i = ((size_t)id->id[0] << 8 | id->id[1] | (size_t)id->id[2] << 16) & mask;
	     !git_oid_is_zero(&t->queued[i]); i = (i + 1) & mask)
		if (git_oid_equal(&t->queued[i], id))
			return 1;
	git_oid_cpy(&t->queued[i], id);
	t->nqueued++;
	return 0;
}

/* Write the queued blobs as one pack (and its index) in objects/pack. */
static int flush_pack(kb_txn *t)
{
	int err;

	if (!t->pack.count)
		return 0;
	err = kb__pack_write(&t->pack, t->s->repo);
	if (t->queued)
		memset(t->queued, 0, t->aqueued * sizeof(*t->queued));
	t->nqueued = 0;
	if (err < 0)
		return kb_error_set(KB_EIO, t->s->workdir, 0, "cannot write a pack: %s",
				    kb__git_msg("unknown error"));
	return 0;
}

int kb_txn_set_bulk(kb_txn *t)
{
	t->bulk = 1;
	return 0;
}

/* Bulk put: hash and deflate the blob into the pending pack now, keep only
 * its id; the pack is written every TXN_PACK_FLUSH bytes and at commit. */
static int store_blob(kb_txn *t, txn_change *c, const void *data, size_t len)
{
	int rc;

	if (git_odb_hash(&c->blob, data, len, GIT_OBJECT_BLOB) < 0)
		return kb_error_set(KB_ERROR, c->relpath, 0, "cannot store '%s': %s", c->relpath,
				    kb__git_msg("unknown error"));
	c->stored = 1;
	if (batch_seen(t, &c->blob))
		return 0;
	if ((rc = kb__pack_add(&t->pack, GIT_OBJECT_BLOB, data, len)) < 0)
		return rc;
	return t->pack.body.len >= TXN_PACK_FLUSH ? flush_pack(t) : 0;
}

int kb_txn_put(kb_txn *t, const char *relpath, const void *data, size_t len)
{
	txn_change *c;
	int rc;

	if ((rc = kb__check_relpath(relpath)) < 0)
		return rc;
	c = slot(t, relpath);
	c->put = 1;
	c->len = len;
	if (t->bulk)
		return store_blob(t, c, data, len);
	c->data = kb_xmalloc(len + 1);
	if (len)
		memcpy(c->data, data, len);
	c->data[len] = '\0';
	c->len = len;
	return 0;
}

int kb__txn_put_blob(kb_txn *t, const char *relpath, const git_oid *blob)
{
	git_odb *odb = NULL;
	txn_change *c;
	int rc, found;

	if ((rc = kb__check_relpath(relpath)) < 0)
		return rc;
	found = git_repository_odb(&odb, t->s->repo) == 0 && git_odb_exists(odb, blob);
	git_odb_free(odb);
	git_error_clear();
	if (!found)
		return kb_error_set(KB_ENOTFOUND, relpath, 0, "cannot stage '%s': no such blob",
				    relpath);
	c = slot(t, relpath);
	c->put = 1;
	c->stored = 1;
	git_oid_cpy(&c->blob, blob);
	return 0;
}

int kb_txn_remove(kb_txn *t, const char *relpath)
{
	int rc;

	if ((rc = kb__check_relpath(relpath)) < 0)
		return rc;
	slot(t, relpath);
	return 0;
}

size_t kb_txn_count(const kb_txn *t)
{
	return t->count;
}

/* ---- the work tree -------------------------------------------------------- */

/* Remove every temporary and every directory this transaction created. */
static void undo_files(kb_txn *t)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		if (t->items[i].tmp) {
			unlink(t->items[i].tmp);
			free(t->items[i].tmp);
			t->items[i].tmp = NULL;
		}
	while (t->ndirs > 0) {
		t->ndirs--;
		rmdir(t->made_dirs[t->ndirs]);
		free(t->made_dirs[t->ndirs]);
	}
}

/* The commit exists: directories made for it stay. */
static void forget_dirs(kb_txn *t)
{
	while (t->ndirs > 0)
		free(t->made_dirs[--t->ndirs]);
}

/*
 * Check the parent directories of relpath inside the work tree, refusing to
 * pass through a symlink or a file; with `create`, make the missing ones and
 * remember them so a failure can remove them again.
 */
static int make_parents(kb_txn *t, const char *relpath, int create)
{
	kb_buf p = KB_BUF_INIT;
	const char *slash;
	struct stat st;
	int rc = 0;

	for (slash = strchr(relpath, '/'); slash; slash = strchr(slash + 1, '/')) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%.*s", t->s->workdir, (int)(slash - relpath), relpath);
		if (lstat(p.ptr, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				continue;
			rc = kb_error_set(KB_EINPUT, relpath, 0,
					  "'%.*s' is a symbolic link or a file, not a directory",
					  (int)(slash - relpath), relpath);
			break;
		}
		if (!create)
			break;  /* missing: nothing below it to touch */
		if (mkdir(p.ptr, 0777) < 0) {
			rc = kb_error_set(KB_EIO, relpath, 0, "cannot create '%s': %s", p.ptr,
					  strerror(errno));
			break;
		}
		t->made_dirs = kb_xrealloc(t->made_dirs, (t->ndirs + 1) * sizeof(char *));
		t->made_dirs[t->ndirs++] = kb_buf_detach(&p);
	}
	kb_buf_release(&p);
	return rc;
}

/* After a removal, drop the directories it left empty, as git does; top-level
 * directories such as cases/ stay. */
static void remove_empty_parents(kb_txn *t, const char *relpath)
{
	kb_buf p = KB_BUF_INIT;
	const char *end = strrchr(relpath, '/');

	while (end && memchr(relpath, '/', (size_t)(end - relpath))) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%.*s", t->s->workdir, (int)(end - relpath), relpath);
		if (rmdir(p.ptr) < 0)
			break;
		do
			end--;
		while (*end != '/');
	}
	kb_buf_release(&p);
}

int kb__write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write the new contents (c->data, else the stored blob) to fd. */
static int write_contents(kb_txn *t, txn_change *c, int fd)
{
	git_blob *b = NULL;
	int rc;

	if (c->data)
		return kb__write_all(fd, c->data, c->len);
	if (git_blob_lookup(&b, t->s->repo, &c->blob) < 0)
		return -1;
	rc = kb__write_all(fd, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	git_blob_free(b);
	return rc;
}

/* Write the contents to a fresh temporary beside the target; fsync it
 * when `sync` (else the caller syncs the whole file system once). */
static int write_temp(kb_txn *t, txn_change *c, int sync)
{
	static unsigned int counter;
	kb_buf p = KB_BUF_INIT;
	const char *base = strrchr(c->relpath, '/');
	size_t dirlen = base ? (size_t)(base - c->relpath) + 1 : 0;
	int fd = -1, tries, rc = 0;

	for (tries = 0; fd < 0 && tries < 100; tries++) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%.*s.%s.kbtmp-%ld-%u", t->s->workdir, (int)dirlen, c->relpath,
			      c->relpath + dirlen, (long)getpid(), counter++);
		fd = open(p.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			  c->mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = kb_error_set(errno == EROFS || errno == EACCES ? KB_ESTATE : KB_EIO, c->relpath, 0,
				  "cannot write '%s': %s", c->relpath, strerror(errno));
		goto done;
	}
	c->tmp = kb_xstrdup(p.ptr);
	if (write_contents(t, c, fd) < 0 || (sync && fsync(fd) < 0))
		rc = kb_error_set(KB_EIO, c->relpath, 0, "cannot write '%s': %s", c->relpath,
				  strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = kb_error_set(KB_EIO, c->relpath, 0, "cannot write '%s': %s", c->relpath,
				  strerror(errno));
done:
	kb_buf_release(&p);
	return rc;
}

/* The target of a put must not be a directory (rename would fail late). */
static int check_target(kb_txn *t, const txn_change *c)
{
	kb_buf p = KB_BUF_INIT;
	struct stat st;
	int rc = 0;

	kb_buf_printf(&p, "%s%s", t->s->workdir, c->relpath);
	if (lstat(p.ptr, &st) == 0 && S_ISDIR(st.st_mode))
		rc = kb_error_set(KB_EINPUT, c->relpath, 0, "'%s' is a directory", c->relpath);
	kb_buf_release(&p);
	return rc;
}

/*
 * Write every temporary.  A few files are fsynced one by one; beyond
 * TXN_SYNC_EACH, one syncfs() of the work tree's file system costs one
 * journal commit instead of one per file (an import writes 100,000).
 */
#define TXN_SYNC_EACH 16

static int write_temps(kb_txn *t)
{
	int sync = t->count <= TXN_SYNC_EACH, fd;
	size_t i;
	int rc = 0;

	for (i = 0; i < t->count && rc == 0; i++) {
		if (!t->items[i].put)
			rc = make_parents(t, t->items[i].relpath, 0);
		else if ((rc = check_target(t, &t->items[i])) == 0 &&
			 (rc = make_parents(t, t->items[i].relpath, 1)) == 0)
			rc = write_temp(t, &t->items[i], sync);
	}
	if (rc == 0 && !sync) {
		fd = open(t->s->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || syncfs(fd) < 0)
			rc = kb_error_set(KB_EIO, t->s->workdir, 0, "cannot sync '%s': %s",
					  t->s->workdir, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (rc < 0)
		undo_files(t);
	return rc;
}

/*
 * After the commit: rename temporaries into place and unlink removed files.
 * Keeps going past a failure so as much as possible is in place, and reports
 * the first one.
 */
static int install_files(kb_txn *t)
{
	kb_buf p = KB_BUF_INIT;
	txn_change *c;
	size_t i;
	int rc = 0;

	for (i = 0; i < t->count; i++) {
		c = &t->items[i];
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%s", t->s->workdir, c->relpath);
		if (c->put ? rename(c->tmp, p.ptr) < 0 : unlink(p.ptr) < 0 && errno != ENOENT) {
			if (rc == 0)
				rc = kb_error_set(KB_EIO, c->relpath, 0,
						  "committed, but cannot update '%s' in the work tree: %s",
						  c->relpath, strerror(errno));
			continue;
		}
		if (c->put) {
			free(c->tmp);
			c->tmp = NULL;
		} else {
			remove_empty_parents(t, c->relpath);
		}
	}
	kb_buf_release(&p);
	return rc;
}

/* ---- git objects ------------------------------------------------------------ */

typedef struct {
	git_reference *branch;   /* HEAD resolved, NULL on an unborn branch */
	git_commit *parent;      /* NULL on an unborn branch */
	git_tree *tree;          /* parent's tree, or an empty tree */
} head_state;

static void head_release(head_state *h)
{
	git_tree_free(h->tree);
	git_commit_free(h->parent);
	git_reference_free(h->branch);
}

static int read_head(head_state *h, kb_store *s)
{
	git_treebuilder *tb = NULL;
	git_oid empty;
	int err, rc = 0;

	memset(h, 0, sizeof(*h));
	err = git_repository_head(&h->branch, s->repo);
	if (err == GIT_EUNBORNBRANCH || err == GIT_ENOTFOUND) {
		git_error_clear();
		if (git_treebuilder_new(&tb, s->repo, NULL) < 0 || git_treebuilder_write(&empty, tb) < 0 ||
		    git_tree_lookup(&h->tree, s->repo, &empty) < 0)
			rc = kb_error_set(KB_ERROR, s->workdir, 0, "cannot create a tree: %s",
					  kb__git_msg("unknown error"));
		git_treebuilder_free(tb);
		return rc;
	}
	if (err < 0 || git_commit_lookup(&h->parent, s->repo, git_reference_target(h->branch)) < 0 ||
	    git_commit_tree(&h->tree, h->parent) < 0)
		return kb_error_set(KB_ERROR, s->workdir, 0, "cannot read HEAD: %s",
				    kb__git_msg("unknown error"));
	return 0;
}

/*
 * Looks up paths in HEAD's tree one directory at a time, keeping the trees
 * of the last directory and of each of its ancestors: an import puts
 * thousands of files into cases/, whose tree object (100,000 entries in a
 * flat KB) should be parsed once, not once per file as
 * git_tree_entry_bypath() would; and a move out of a flat cases/ into
 * cases/PREFIX/NNN/ (kb migrate-layout) goes from folder to folder without
 * parsing cases/ again for each (that took 15 ms per folder at 100,000).
 */
typedef struct {
	git_tree *base;
	git_tree **trees;    /* trees[i]: the tree of the first i + 1 components of path, owned */
	size_t *ends;        /* ends[i]: length of path up to the end of component i */
	size_t depth;        /* components resolved (the rest does not exist in base) */
	size_t alloc;
	kb_buf path;         /* the directory of the last lookup, "" for the root */
	int whole;           /* every component of path resolved */
} tree_cursor;

#define TREE_CURSOR_INIT(base) { (base), NULL, NULL, 0, 0, KB_BUF_INIT, 1 }

static void cursor_pop(tree_cursor *tc, size_t keep)
{
	while (tc->depth > keep)
		git_tree_free(tc->trees[--tc->depth]);
}

static void cursor_release(tree_cursor *tc)
{
	cursor_pop(tc, 0);
	free(tc->trees);
	free(tc->ends);
	kb_buf_release(&tc->path);
}

/* Point the cursor at directory dir[0..dlen): reuse the trees of the
 * leading components it shares with the last one, resolve the rest. */
static void cursor_move(tree_cursor *tc, const char *dir, size_t dlen)
{
	const git_tree_entry *e;
	git_tree *sub;
	size_t keep = 0, start, end;

	while (keep < tc->depth && tc->ends[keep] <= dlen &&
	       !strncmp(tc->path.ptr, dir, tc->ends[keep]) &&
	       (tc->ends[keep] == dlen || dir[tc->ends[keep]] == '/'))
		keep++;
	cursor_pop(tc, keep);
	kb_buf_set(&tc->path, dir, dlen);
	tc->whole = 1;
	for (start = keep ? tc->ends[keep - 1] + 1 : 0; start < dlen; start = end + 1) {
		end = start;
		while (end < dlen && dir[end] != '/')
			end++;
		tc->path.ptr[end] = '\0';
		e = git_tree_entry_byname(tc->depth ? tc->trees[tc->depth - 1] : tc->base,
					  tc->path.ptr + start);
		if (end < dlen)
			tc->path.ptr[end] = '/';
		sub = NULL;
		if (!e || git_tree_entry_type(e) != GIT_OBJECT_TREE ||
		    git_tree_lookup(&sub, git_tree_owner(tc->base), git_tree_entry_id(e)) < 0) {
			git_error_clear();
			tc->whole = 0;
			return;
		}
		if (tc->depth == tc->alloc) {
			tc->alloc = tc->alloc ? 2 * tc->alloc : 4;
			tc->trees = kb_xrealloc(tc->trees, tc->alloc * sizeof(*tc->trees));
			tc->ends = kb_xrealloc(tc->ends, tc->alloc * sizeof(*tc->ends));
		}
		tc->trees[tc->depth] = sub;
		tc->ends[tc->depth++] = end;
	}
}

/* The entry at relpath in the base tree, or NULL (borrowed from the cursor). */
static const git_tree_entry *cursor_find(tree_cursor *tc, const char *relpath)
{
	const char *slash = strrchr(relpath, '/');
	size_t dlen = slash ? (size_t)(slash - relpath) : 0;

	if (tc->path.len != dlen || strncmp(tc->path.ptr, relpath, dlen))
		cursor_move(tc, relpath, dlen);
	if (!tc->whole)
		return NULL;
	return git_tree_entry_byname(tc->depth ? tc->trees[tc->depth - 1] : tc->base,
				     slash ? slash + 1 : relpath);
}

/* Blobs for every put; an existing file's executable bit is kept. */
static int make_blobs(kb_txn *t, git_tree *base)
{
	tree_cursor tc = TREE_CURSOR_INIT(base);
	const git_tree_entry *e;
	txn_change *c;
	size_t i;
	int rc = 0;

	for (i = 0; i < t->count && rc == 0; i++) {
		c = &t->items[i];
		e = cursor_find(&tc, c->relpath);
		c->mode = e && git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB_EXECUTABLE
			  ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
		if (!c->put && (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB))
			rc = kb_error_set(KB_ENOTFOUND, c->relpath, 0,
					  "cannot remove '%s': it is not committed", c->relpath);
		else if (c->put && !c->stored &&
			 git_blob_create_from_buffer(&c->blob, t->s->repo, c->data, c->len) < 0)
			rc = kb_error_set(KB_ERROR, c->relpath, 0, "cannot store '%s': %s",
					  c->relpath, kb__git_msg("unknown error"));
	}
	cursor_release(&tc);
	return rc;
}

static int make_tree(git_oid *out, kb_txn *t, git_tree *base)
{
	git_tree_update *u = kb_xcalloc(t->count, sizeof(*u));
	size_t i;
	int rc = 0;

	for (i = 0; i < t->count; i++) {
		u[i].action = t->items[i].put ? GIT_TREE_UPDATE_UPSERT : GIT_TREE_UPDATE_REMOVE;
		u[i].path = t->items[i].relpath;
		u[i].filemode = (git_filemode_t)t->items[i].mode;
		git_oid_cpy(&u[i].id, &t->items[i].blob);
	}
	if (git_tree_create_updated(out, t->s->repo, base, t->count, u) < 0)
		rc = kb_error_set(KB_EINPUT, t->s->workdir, 0, "cannot build the new tree: %s",
				  kb__git_msg("unknown error"));
	free(u);
	return rc;
}

/* "+HHMM", "+HH:MM", "+HH" or "Z" into minutes east of UTC; -1 if malformed. */
static int parse_tz(const char *p, int *minutes)
{
	int sign, hh = 0, mm = 0, n = 0;

	if (!strcmp(p, "Z") || !strcmp(p, "z"))
		return *minutes = 0, 0;
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (strlen(p) == 4 && sscanf(p, "%2d%2d%n", &hh, &mm, &n) == 2 && n == 4)
		;
	else if (!(strlen(p) == 5 && sscanf(p, "%2d:%2d%n", &hh, &mm, &n) == 2 && n == 5) &&
		 !(strlen(p) == 2 && sscanf(p, "%2d%n", &hh, &n) == 1 && n == 2))
		return -1;
	if (hh > 14 || mm > 59)
		return -1;
	*minutes = sign * (hh * 60 + mm);
	return 0;
}

/*
 * The date formats of GIT_AUTHOR_DATE that scripts use: git's internal
 * "[@]<seconds> <+HHMM>" and ISO 8601 "YYYY-MM-DD[T ]HH:MM[:SS]<zone>" (zone
 * Z, +HHMM or +HH:MM, optionally after a space).  0 ok, -1 otherwise.
 */
static int parse_date(const char *text, long long *when, int *tz)
{
	struct tm tm;
	char zone[16] = "";
	long long secs;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if ((sscanf(text, "%*[@]%lld %15s%n", &secs, zone, &n) == 2 ||
	     sscanf(text, "%lld %15s%n", &secs, zone, &n) == 2) &&
	    !text[n] && parse_tz(zone, tz) == 0) {
		*when = secs;
		return 0;
	}
	n = 0;
	if (sscanf(text, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) < 6 &&
	    sscanf(text, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &n) < 5)
		return -1;
	if (!n || parse_tz(text[n] == ' ' ? text + n + 1 : text + n, tz) < 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*when = (long long)timegm(&tm) - (long long)*tz * 60;
	return 0;
}

/*
 * A signature for `author` at the time in the environment variable
 * `date_env` (GIT_AUTHOR_DATE or GIT_COMMITTER_DATE, as git honours them)
 * or now, in local time.  Built from "Name <email> time tz" because libgit2's
 * git_signature_now() refuses an empty email, which git (and a bare-name
 * KB_AUTHOR) allows.
 */
static int make_signature(git_signature **out, const kb_author *author, const char *date_env)
{
	const char *email = author->email ? author->email : "";
	const char *date = getenv(date_env);
	kb_buf raw = KB_BUF_INIT;
	long long when = (long long)time(NULL);
	time_t now = (time_t)when;
	struct tm tm;
	int tz, rc = 0;

	if (strpbrk(author->name, "<>\n") || strpbrk(email, "<>\n"))
		return kb_error_set(KB_EINPUT, NULL, 0, "invalid author '%s <%s>'", author->name,
				    email);
	localtime_r(&now, &tm);
	tz = (int)(tm.tm_gmtoff / 60);
	if (date && *date && parse_date(date, &when, &tz) < 0)
		return kb_error_set(KB_EINPUT, NULL, 0, "cannot parse %s '%s'", date_env, date);
	kb_buf_printf(&raw, "%s <%s> %lld %c%02d%02d", author->name, email, when,
		      tz < 0 ? '-' : '+', abs(tz) / 60, abs(tz) % 60);
	if (git_signature_from_buffer(out, raw.ptr) < 0)
		rc = kb_error_set(KB_EINPUT, NULL, 0, "invalid author '%s <%s>': %s", author->name,
				  email, kb__git_msg("unknown error"));
	kb_buf_release(&raw);
	return rc;
}

static int make_commit(git_oid *out, kb_txn *t, head_state *h, const git_oid *tree_id,
		       const kb_author *author, const char *message)
{
	git_signature *sig = NULL, *committer = NULL;
	git_tree *tree = NULL;
	const git_commit *parents[1] = { h->parent };
	kb_buf msg = KB_BUF_INIT;
	int err, rc = 0;

	kb_buf_puts(&msg, message);
	if (!msg.len || msg.ptr[msg.len - 1] != '\n')
		kb_buf_putc(&msg, '\n');
	if ((rc = make_signature(&sig, author, "GIT_AUTHOR_DATE")) < 0 ||
	    (rc = make_signature(&committer, author, "GIT_COMMITTER_DATE")) < 0)
		goto done;
	if (git_tree_lookup(&tree, t->s->repo, tree_id) < 0) {
		rc = kb_error_set(KB_ERROR, NULL, 0, "cannot read the new tree: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	err = git_commit_create(out, t->s->repo, "HEAD", sig, committer, NULL, msg.ptr, tree,
				h->parent ? 1 : 0, parents);
	if (err == GIT_EMODIFIED)
		rc = kb_error_set(KB_ECONFLICT, t->s->workdir, 0,
				  "HEAD moved while committing in '%s'; try again", t->s->workdir);
	else if (err < 0)
		rc = kb_error_set(KB_ERROR, t->s->workdir, 0, "cannot commit: %s",
				  kb__git_msg("unknown error"));
done:
	kb_buf_release(&msg);
	git_tree_free(tree);
	git_signature_free(committer);
	git_signature_free(sig);
	return rc;
}

/*
 * The index entry of a file just installed: its blob id is known, so the
 * file is only stat()ed, not read and hashed again as git_index_add_bypath()
 * would (that doubled the cost of writing 100,000 imported drafts).
 */
static int index_add(git_index *idx, kb_txn *t, const txn_change *c)
{
	git_index_entry e;
	kb_buf p = KB_BUF_INIT;
	struct stat st;
	int err;

	kb_buf_printf(&p, "%s%s", t->s->workdir, c->relpath);
	err = lstat(p.ptr, &st);
	kb_buf_release(&p);
	if (err < 0)
		return git_index_add_bypath(idx, c->relpath);
	memset(&e, 0, sizeof(e));
	e.ctime.seconds = (int32_t)st.st_ctim.tv_sec;
	e.ctime.nanoseconds = (uint32_t)st.st_ctim.tv_nsec;
	e.mtime.seconds = (int32_t)st.st_mtim.tv_sec;
	e.mtime.nanoseconds = (uint32_t)st.st_mtim.tv_nsec;
	e.dev = (uint32_t)st.st_dev;
	e.ino = (uint32_t)st.st_ino;
	e.mode = c->mode;
	e.uid = st.st_uid;
	e.gid = st.st_gid;
	e.file_size = (uint32_t)st.st_size;
	git_oid_cpy(&e.id, &c->blob);
	e.path = c->relpath;
	return git_index_add(idx, &e);
}

/* Bring git's index in line with the commit for exactly the changed paths. */
static int update_index(kb_txn *t)
{
	git_index *idx = NULL;
	size_t i;
	int rc = 0, err = 0;

	if (git_repository_index(&idx, t->s->repo) < 0 || git_index_read(idx, 0) < 0) {
		err = -1;
		goto done;
	}
	for (i = 0; i < t->count && err == 0; i++) {
		if (t->items[i].put)
			err = index_add(idx, t, &t->items[i]);
		else if (git_index_get_bypath(idx, t->items[i].relpath, 0))
			err = git_index_remove_bypath(idx, t->items[i].relpath);
	}
	if (err == 0)
		err = git_index_write(idx);
done:
	if (err < 0)
		rc = kb_error_set(KB_EIO, t->s->workdir, 0,
				  "committed, but cannot update git's index: %s",
				  kb__git_msg("unknown error"));
	git_index_free(idx);
	return rc;
}

/* ---- interrupted commits ---------------------------------------------------- */

/*
 * Between the branch update (step 6 of kb_txn_commit) and the end of the
 * work-tree and index update, a killed process leaves a KB whose HEAD is
 * the new commit while the work tree and git's index still show the old
 * one (and temporaries lie beside the targets).  Every commit therefore
 * writes a marker <gitdir>kb-txn-<pid> holding the parent commit's and the
 * new tree's ids before its first temporary and removes it when done; kb__txn_recover() finds
 * the marker of a process that no longer runs and finishes its job (or
 * only removes its temporaries when the branch never moved).  SQLite's hot
 * journal, rolled forward instead of back: the commit is the durable point.
 */
#define TXN_MARKER "kb-txn-"

static void marker_path(kb_buf *out, const kb_store *s, long pid)
{
	kb_buf_clear(out);
	kb_buf_printf(out, "%s" TXN_MARKER "%ld", s->gitdir, pid);
}

/* Write the marker: the parent's id (40 zeros on an unborn branch) and the
 * new tree's id, one a line. */
static int marker_write(kb_store *s, const git_commit *parent, const git_oid *tree)
{
	char text[2 * (GIT_OID_HEXSZ + 1) + 1];
	kb_buf p = KB_BUF_INIT;
	int fd, rc = 0;

	if (parent)
		git_oid_tostr(text, GIT_OID_HEXSZ + 1, git_commit_id(parent));
	else
		memset(text, '0', GIT_OID_HEXSZ);
	text[GIT_OID_HEXSZ] = '\n';
	git_oid_tostr(text + GIT_OID_HEXSZ + 1, GIT_OID_HEXSZ + 1, tree);
	text[2 * GIT_OID_HEXSZ + 1] = '\n';
	marker_path(&p, s, (long)getpid());
	fd = open(p.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || kb__write_all(fd, text, 2 * (GIT_OID_HEXSZ + 1)) < 0 || fsync(fd) < 0)
		rc = kb_error_set(KB_EIO, p.ptr, 0, "cannot write '%s': %s", p.ptr, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(p.ptr);
	kb_buf_release(&p);
	return rc;
}

static void marker_remove(kb_store *s, long pid)
{
	kb_buf p = KB_BUF_INIT;

	marker_path(&p, s, pid);
	unlink(p.ptr);
	kb_buf_release(&p);
}

/*
 * Test hook: KB_TEST_TXN_KILL=before-ref (temporaries written, branch not
 * moved) or after-ref (branch moved, work tree and index not updated) makes
 * the process kill itself with SIGKILL there, so the tests can prove that
 * a commit interrupted at either point is recovered.  Tests only.
 */
static void test_kill(const char *point)
{
	const char *v = getenv("KB_TEST_TXN_KILL");

	if (v && !strcmp(v, point))
		raise(SIGKILL);
}

/* After the commit: temporaries into place, then git's index. */
static int finish_install(kb_txn *t)
{
	int rc;

	forget_dirs(t);
	rc = install_files(t);
	if (rc == 0)
		rc = update_index(t);
	else
		update_index(t);
	return rc;
}

/* Remove the temporaries ".NAME.kbtmp-<pid>-N" below the directory `rel`
 * ("" for the top) of the work tree, never entering .git. */
static void remove_temps(kb_store *s, const char *rel, const char *tag)
{
	kb_buf p = KB_BUF_INIT;
	struct dirent *e;
	struct stat st;
	DIR *d;

	kb_buf_printf(&p, "%s%s", s->workdir, rel);
	d = opendir(p.ptr);
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (!*rel && !strcmp(e->d_name, ".git")))
			continue;
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			remove_temps(s, p.ptr, tag);
		else if (S_ISREG(st.st_mode) && e->d_name[0] == '.' && strstr(e->d_name, tag))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	kb_buf_release(&p);
}

/* Stage in `t` the changes from tree `from` (NULL: empty) to `to`. */
static int stage_diff(kb_txn *t, git_tree *from, git_tree *to)
{
	git_diff *diff = NULL;
	const git_diff_delta *d;
	txn_change *c;
	size_t i;

	if (git_diff_tree_to_tree(&diff, t->s->repo, from, to, NULL) < 0)
		return kb_error_set(KB_ERROR, t->s->workdir, 0, "cannot compare trees: %s",
				    kb__git_msg("unknown error"));
	for (i = 0; i < git_diff_num_deltas(diff); i++) {
		d = git_diff_get_delta(diff, i);
		if (d->status == GIT_DELTA_DELETED) {
			slot(t, d->old_file.path);
		} else if (d->new_file.mode == GIT_FILEMODE_BLOB ||
			   d->new_file.mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
			c = slot(t, d->new_file.path);
			c->put = c->stored = 1;
			c->mode = d->new_file.mode;
			git_oid_cpy(&c->blob, &d->new_file.id);
		}
	}
	git_diff_free(diff);
	return 0;
}

/*
 * The commit of the marker's process exists when HEAD's first parent is
 * the recorded parent (or HEAD has no parent and none was recorded) and
 * HEAD's tree is the recorded tree: then write the files it changed into
 * the work tree and git's index.
 */
static int roll_forward(kb_store *s, const char *parent_hex, const char *tree_hex)
{
	git_commit *head = NULL, *parent = NULL;
	git_tree *to = NULL, *from = NULL;
	git_oid want, tree_id;
	kb_txn *t = NULL;
	int zero = strspn(parent_hex, "0") == GIT_OID_HEXSZ, rc = 0;

	if (git_oid_fromstrn(&want, parent_hex, GIT_OID_HEXSZ) < 0 ||
	    git_oid_fromstrn(&tree_id, tree_hex, GIT_OID_HEXSZ) < 0 ||
	    git_revparse_single((git_object **)&head, s->repo, "HEAD^{commit}") < 0)
		goto done;  /* unborn or unreadable: nothing was committed */
	if (!git_oid_equal(git_commit_tree_id(head), &tree_id) ||
	    (zero ? git_commit_parentcount(head) != 0
		  : git_commit_parentcount(head) == 0 ||
		    !git_oid_equal(git_commit_parent_id(head, 0), &want)))
		goto done;  /* the branch never moved, or moved on since */
	if (git_commit_tree(&to, head) < 0 ||
	    (!zero && (git_commit_parent(&parent, head, 0) < 0 || git_commit_tree(&from, parent) < 0))) {
		rc = kb_error_set(KB_ERROR, s->workdir, 0, "cannot read HEAD: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	t = kb_xcalloc(1, sizeof(*t));
	t->s = s;
	kb_buf_init(&t->pack.body);
	if ((rc = stage_diff(t, from, to)) == 0 && (rc = write_temps(t)) == 0)
		rc = finish_install(t);
done:
	git_error_clear();
	kb_txn_free(t);
	git_tree_free(from);
	git_tree_free(to);
	git_commit_free(parent);
	git_commit_free(head);
	return rc;
}

/* Recover the commit of the dead process `pid` from its marker `path`. */
static int recover_one(kb_store *s, const char *path, long pid)
{
	char text[2 * (GIT_OID_HEXSZ + 1) + 1] = "", tag[40];
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int rc = 0;

	if (f) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	if (n == 2 * (GIT_OID_HEXSZ + 1) && text[GIT_OID_HEXSZ] == '\n')
		rc = roll_forward(s, text, text + GIT_OID_HEXSZ + 1);
	if (rc < 0)
		return rc;
	snprintf(tag, sizeof(tag), ".kbtmp-%ld-", pid);
	remove_temps(s, "", tag);
	unlink(path);
	return 0;
}

int kb__txn_recover(kb_store *s)
{
	kb_buf p = KB_BUF_INIT;
	struct dirent *e;
	char *end;
	long pid;
	DIR *d = opendir(s->gitdir);
	int rc = 0;

	while (d && rc == 0 && (e = readdir(d))) {
		if (strncmp(e->d_name, TXN_MARKER, strlen(TXN_MARKER)))
			continue;
		errno = 0;
		pid = strtol(e->d_name + strlen(TXN_MARKER), &end, 10);
		if (*end || pid <= 0 || errno || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
			continue;  /* still running: its commit is under way */
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s%s", s->gitdir, e->d_name);
		rc = recover_one(s, p.ptr, pid);
	}
	if (d)
		closedir(d);
	kb_buf_release(&p);
	return rc;
}

int kb_txn_commit(kb_txn *t, const kb_author *author, const char *message, char oid[41])
{
	head_state h;
	git_oid tree_id, commit_id;
	int rc;

	if (oid)
		oid[0] = '\0';
	if (!author || !author->name || !*author->name)
		return kb_error_set(KB_EINPUT, NULL, 0, "no author for the commit");
	if (!message || !*message)
		return kb_error_set(KB_EINPUT, NULL, 0, "empty commit message");
	if ((rc = kb__check_repo_state(t->s)) < 0 || (rc = check_writable(t->s)) < 0)
		return rc;
	if ((rc = read_head(&h, t->s)) < 0)
		goto done;
	if ((rc = make_blobs(t, h.tree)) < 0 || (rc = flush_pack(t)) < 0 ||
	    (rc = make_tree(&tree_id, t, h.tree)) < 0)
		goto done;
	if (git_oid_equal(&tree_id, git_tree_id(h.tree))) {
		if (oid && h.parent)
			git_oid_tostr(oid, 41, git_commit_id(h.parent));
		goto done;
	}
	if ((rc = marker_write(t->s, h.parent, &tree_id)) < 0)
		goto done;
	if ((rc = write_temps(t)) < 0) {
		marker_remove(t->s, getpid());
		goto done;
	}
	test_kill("before-ref");
	if ((rc = make_commit(&commit_id, t, &h, &tree_id, author, message)) < 0) {
		undo_files(t);
		marker_remove(t->s, getpid());
		goto done;
	}
	test_kill("after-ref");
	if (oid)
		git_oid_tostr(oid, 41, &commit_id);
	rc = finish_install(t);
	marker_remove(t->s, getpid());
done:
	head_release(&h);
	return rc;
}

void kb_txn_free(kb_txn *t)
{
	size_t i;

	if (!t)
		return;
	undo_files(t);
	kb__pack_release(&t->pack);  /* blobs never written */
	free(t->queued);
	for (i = 0; i < t->count; i++) {
		free(t->items[i].relpath);
		free(t->items[i].data);
	}
	free(t->items);
	free(t->byname);
	free(t->made_dirs);
	free(t);
}
