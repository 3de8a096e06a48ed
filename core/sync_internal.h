/*
 * sync_internal.h - private: what core/sync.c (the sync steps and the merge),
 * core/sync_remote.c (remotes, fetch, push, credentials) and
 * core/sync_apply.c (moving the work tree and git's index between two
 * commits, and the journal that makes that restartable) share.
 */
#ifndef KB_SYNC_INTERNAL_H
#define KB_SYNC_INTERNAL_H

#include "kb/sync.h"
#include "store_internal.h"

/* ---- sync_remote.c ------------------------------------------------------ */

/* 0 when remote `name` exists, else KB_ENOTFOUND with a message saying how
 * to add it (KB_ENOTFOUND also for an invalid name). */
int kb__remote_check(kb_store *s, const char *name);

/* Fetch refs/heads/<branch> of `remote` into refs/remotes/<remote>/<branch>.
 * KB_ENET with a message naming the remote on any failure. */
int kb__sync_fetch(kb_store *s, const char *remote, const char *branch);

/* Push refs/heads/<branch> to the same branch of `remote`.  Returns 0 when
 * pushed, 1 when the remote refused because it moved (someone pushed in
 * between: fetch and integrate again), KB_ENET on other failures. */
int kb__sync_push(kb_store *s, const char *remote, const char *branch);

/* ---- sync_apply.c ------------------------------------------------------- */

/*
 * Move the work tree and git's index from commit `from` to commit `to`
 * (every file that differs between their trees), then point `refname` from
 * `from` to `to` (compare-and-swap; KB_ECONFLICT when it moved).  A file
 * already as in `to` is left alone, so the move can be re-run after an
 * interruption.  A file that is neither as in `from` nor as in `to` stops
 * the move before anything is written (KB_ESTATE naming it).  New contents
 * are written to fsynced temporaries first; if one cannot be written
 * (disk full) nothing is changed.  A journal in <gitdir>kb/sync/ records
 * the move until it is complete; kb__sync_recover() finishes it.
 */
int kb__sync_move(kb_store *s, const char *refname, const git_oid *from, const git_oid *to,
		  const char *reflog);

/* Take the per-KB sync lock (flock on <gitdir>kb/sync/lock, released
 * when the process ends, so a killed sync never leaves it held).
 * KB_ESTATE when another sync holds it.  Release with kb__sync_unlock(). */
int kb__sync_lock(int *fd, kb_store *s);
void kb__sync_unlock(int fd);

/* Finish or undo a move a killed sync left behind (see the journal).
 * 0 when there was none or it was completed. */
int kb__sync_recover(kb_store *s);

/* <gitdir>kb/sync/<name> into out (the directory is created). */
int kb__sync_path(kb_buf *out, kb_store *s, const char *name);

/* Write a small file atomically (temporary, fsync, rename). */
int kb__sync_write_file(const char *path, const char *data, size_t len);

#endif
