/*
 * kb/sync.h - offline-first sync of a KB with a team git server: remotes
 * (ordinary git remotes in the repository config) and kb_sync(), which
 * fetches, integrates (fast-forward, or a merge commit where case files
 * changed on both sides are merged section by section by kb_case_merge3)
 * and pushes, through libgit2.  Every step can be interrupted and re-run.
 */
#ifndef KB_SYNC_H
#define KB_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "kb/store.h"

/* ---- remotes ------------------------------------------------------------ */

typedef struct {
	char *name;
	char *url;
} kb_remote_info;

/*
 * Add a git remote `name` with `url` (a path, file://, git://, https://,
 * ssh://) and git's default fetch refspec.  KB_EINPUT for an invalid name
 * or an empty URL; KB_EEXISTS when the name is taken.  Nothing is fetched.
 */
int kb_remote_add(kb_store *s, const char *name, const char *url);
/* Remove remote `name` and its remote-tracking branches and sync state;
 * KB_ENOTFOUND when there is no such remote. */
int kb_remote_remove(kb_store *s, const char *name);
/* The remotes, sorted by name, into *out (*n entries; NULL and 0 when there
 * are none).  Free with kb_remote_list_free(). */
int kb_remote_list(kb_remote_info **out, size_t *n, kb_store *s);
void kb_remote_list_free(kb_remote_info *list, size_t n);
/*
 * The remote `kb sync` uses without a name: "origin" when it exists, else
 * the only remote.  Appends the name to `out`.  KB_ENOTFOUND when there is
 * no remote, KB_EINPUT when there are several and none is "origin".
 */
int kb_remote_default(kb_buf *out, kb_store *s);

/* ---- sync --------------------------------------------------------------- */

typedef struct {
	unsigned version;
	const kb_author *author;   /* author of a merge commit; required */
	unsigned max_attempts;     /* fetch+integrate+push rounds when a push is
				      rejected because the remote moved (0 = 3) */
	int no_push;               /* 1: fetch and integrate only */
} kb_sync_options;

#define KB_SYNC_OPTIONS_VERSION 1
#define KB_SYNC_OPTIONS_INIT { KB_SYNC_OPTIONS_VERSION, NULL, 0, 0 }

typedef struct {
	size_t commits_fetched;   /* commits of the remote branch new to this clone */
	size_t cases_changed;     /* case files that differ between old and new HEAD */
	size_t cases_merged;      /* case files merged by kb_case_merge3 */
	char **conflicts;         /* ids of cases merged with conflicts, for `kb conflicts` */
	size_t nconflicts;
	int fast_forward;         /* 1 when integrating was a fast-forward */
	int merged;               /* 1 when a merge commit was made */
	int pushed;               /* 1 when the remote branch was updated (0 when it
				     already was HEAD: nothing to push) */
	unsigned attempts;        /* rounds used (more than 1 after a push race) */
	int index_stale;          /* 1 when updating the search index failed (the
				     sync itself succeeded; the next search retries) */
	char head[41];            /* HEAD after the sync */
	char branch[256];         /* the branch synced, e.g. "main" */
} kb_sync_result;

/*
 * Sync the current branch with the branch of the same name on `remote`:
 *  1. finish an integration a killed sync left half done (journal in
 *     <gitdir>kb/sync/);
 *  2. refuse (KB_ESTATE, nothing changed) when a git operation is in
 *     progress, HEAD is detached, or tracked files have uncommitted edits
 *     (the message names them);
 *  3. fetch (KB_ENET naming the remote when it is unreachable, the URL is
 *     wrong or authentication is refused); credentials come from
 *     KB_GIT_USERNAME / KB_GIT_PASSWORD, else `git credential fill`, and for
 *     ssh:// from ssh-agent;
 *  4. refuse with KB_ECONFLICT when the remote branch shares no history with
 *     HEAD, or no longer contains what the last sync saw there (history
 *     rewritten by a force push);
 *  5. integrate: fast-forward, or one merge commit by opts->author: case
 *     files changed on both sides go through kb_case_merge3 (conflicts kept
 *     both ways and listed in result->conflicts), reuse/ *.log files are
 *     union-merged, anything else that git cannot merge is refused with
 *     KB_ECONFLICT naming the file (nothing changed);
 *  6. push; when the remote moved meanwhile, go back to 3 (at most
 *     opts->max_attempts rounds, then KB_ECONFLICT);
 *  7. bring the search index up to date.
 * A failure leaves HEAD, git's index and the work tree as they were, or
 * (killed during step 5) as the next kb_sync() completes them.  `result`
 * is filled as far as the sync got; free it with kb_sync_result_release().
 */
int kb_sync(kb_store *s, const char *remote, const kb_sync_options *opts,
	    kb_sync_result *result);
void kb_sync_result_release(kb_sync_result *r);

/* ---- state, for `kb status` ------------------------------------------- */

typedef struct {
	char remote[128];     /* "" when the KB has no remote */
	char branch[256];
	int tracked;          /* 1 when the remote branch is known (fetched once) */
	size_t ahead, behind; /* commits, against the remote branch as last fetched */
	int64_t last_sync;    /* seconds since the epoch, 0 = never synced */
} kb_sync_state;

/* The sync state of the default remote (kb_remote_default).  No remote is
 * not an error: out->remote is then "".  Nothing is fetched. */
int kb_sync_state_get(kb_sync_state *out, kb_store *s);

#endif
