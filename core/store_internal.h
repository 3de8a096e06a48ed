/*
 * store_internal.h - private: the kb_store object and helpers shared by
 * store.c (open, init, reads), store_history.c (log, changes), txn.c
 * (writes) and store_layout.c (finding a case by id), and by core/sync*.c
 * (kb sync) and core/migrate.c (kb migrate-layout).  Not installed; nothing else uses it.
 */
#ifndef KB_STORE_INTERNAL_H
#define KB_STORE_INTERNAL_H

#include <git2.h>

#include "kb/store.h"

struct kb_store {
	git_repository *repo;
	char *workdir;       /* absolute, ends with '/' */
	char *gitdir;        /* absolute, ends with '/' */
	kb_config *config;
	struct kb__case_map *case_map;  /* case ids in git's index (store_layout.c), or NULL */
};

/* Free the map behind kb_store_case_locate()'s last step (store_layout.c). */
void kb__case_map_free(struct kb__case_map *m);

/* libgit2's last message, or `fallback` when it has none. */
const char *kb__git_msg(const char *fallback);

/* 0 when `relpath` is a clean path inside the KB: relative, no empty, "."
 * or ".." component, no ".git" component, no backslash or control bytes.
 * Otherwise KB_EINPUT naming the path. */
int kb__check_relpath(const char *relpath);

/* The file type (S_IFMT bits of lstat) at `relpath` in the work tree; 0
 * when nothing is there (store.c). */
unsigned kb__workdir_type(kb_store *s, const char *relpath);

/* KB_ESTATE when a merge, rebase, cherry-pick, revert or bisect is in
 * progress, or HEAD is detached. */
int kb__check_repo_state(kb_store *s);

/* An entry of a directory under cases/, for walks in tree order. */
typedef struct {
	char *name;     /* owned */
	int is_dir;
} kb__dir_entry;

/* Read the entries of `dfd` (closed by this function): directories and
 * *.md regular files, no symlinks, no ".git", sorted in git's tree order
 * (a directory sorts as "name/").  *out holds *count entries; free each
 * name, then the array (store.c). */
int kb__list_case_dir(kb__dir_entry **out, size_t *count, int dfd, const char *rel);

/* Walk the tree below directory `dfd` (closed by this function) in git's
 * tree order, as kb__list_case_dir lists it: `rel` holds the directory's
 * path relative to the work tree, ending in '/'.  `file` is called for each
 * *.md entry with the directory's descriptor, the entry's name, and `rel`
 * extended to the file's path (restored on return).  A directory that
 * vanished or became a symlink meanwhile is skipped; a non-zero value of
 * `file`, or a directory that cannot be read, stops the walk and is
 * returned (store.c). */
typedef int (*kb__case_file_fn)(void *ctx, int dfd, const char *name, const char *relpath);
int kb__walk_case_dir(int dfd, kb_buf *rel, kb__case_file_fn file, void *ctx);
/* Read the regular file `name` of directory dfd (not following a symlink;
 * at most max bytes) as kb_store_read_file does; errors name relpath. */
int kb__read_file_at(kb_buf *out, int dfd, const char *name, const char *relpath, size_t max);

/* Stage `blob`, already in the repository, as the new contents of relpath
 * (kb_txn_put without reading or hashing the contents again; a move).
 * KB_ENOTFOUND when the repository has no such object (txn.c). */
int kb__txn_put_blob(kb_txn *t, const char *relpath, const git_oid *blob);

/* write(2) all `len` bytes of `data` to `fd`, retrying on EINTR and short
 * writes; 0, or -1 with errno set (txn.c). */
int kb__write_all(int fd, const char *data, size_t len);

/* Finish the commit of a kb process killed between moving the branch and
 * updating the work tree and git's index, or remove the temporaries of one
 * killed before (markers <gitdir>kb-txn-<pid> of processes that no longer
 * run; txn.c).  0, or a negative code with the marker left for the next try. */
int kb__txn_recover(kb_store *s);

#endif
