/*
 * kb/store.h - a knowledge base on disk: a git repository of case files.
 *
 * Layout of a KB work tree:
 *   kb.conf               settings (kb/config.h)
 *   synonyms.txt          search synonyms (kb/synonyms.h)
 *   abbreviations.txt     abbreviations for importers
 *   templates/case.md     template for `kb new`
 *   cases/<P>/<NNN>/<ID>.md  one file per case; an id <P>-<number> goes to
 *                         folder NNN = number / 1000, any other id to
 *                         cases/<ID>.md (kb_store_case_relpath).  Cases are
 *                         read anywhere under cases/ (older KBs are flat).
 * Caches (the search index) live under <gitdir>/kb/, never tracked.
 *
 * Every write goes through a kb_txn: changes are staged in memory, and
 * kb_txn_commit() validates the repository state, writes the new files to
 * temporary names, creates exactly one commit on HEAD with the given author,
 * then renames the files into place and updates git's index.  A failure
 * before the commit leaves repository and work tree exactly as they were.
 *
 * Ownership: kb_store_* objects are freed with kb_store_free(); strings
 * returned by accessors belong to the store.
 */
#ifndef KB_STORE_H
#define KB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kb/buf.h"
#include "kb/case.h"
#include "kb/config.h"

#define KB_CASES_DIR "cases"
#define KB_CONFIG_FILE "kb.conf"
#define KB_SYNONYMS_FILE "synonyms.txt"
#define KB_ABBREVIATIONS_FILE "abbreviations.txt"
#define KB_TEMPLATE_FILE "templates/case.md"

typedef struct kb_store kb_store;

/* A commit author: "Name <email>". */
typedef struct {
	char *name;
	char *email;
} kb_author;

/* Parse "Name <email>" (or a bare name) into *out; KB_EINPUT when the text
 * is empty or the brackets are unbalanced.  Free with kb_author_release(). */
int kb_author_parse(kb_author *out, const char *text);
void kb_author_release(kb_author *a);

/*
 * Create a knowledge base in `dir` (created if missing).  If `dir` is not a
 * git repository one is initialised; the starter files (kb.conf, template,
 * synonyms, abbreviations, an empty cases/ kept by cases/.gitkeep) that do
 * not exist yet are written and committed in one commit by `author`.
 * Fails with KB_EEXISTS when `dir` already holds a KB (kb.conf tracked).
 */
int kb_store_init(kb_store **out, const char *dir, const kb_author *author);

/*
 * Open the KB containing `path` (a directory), walking up to the nearest
 * directory with a kb.conf inside a git work tree.  KB_ENOKB when there is
 * none; KB_EINPUT when the directory exists but is not a git repository.
 * The directory holding kb.conf must be the top of a non-bare work tree
 * (KB_EINPUT otherwise).  Loads kb.conf (KB_EINPUT on a syntax error).
 * Holds a libgit2 reference (git_libgit2_init) until kb_store_free().
 */
int kb_store_open(kb_store **out, const char *path);
void kb_store_free(kb_store *s);

const char *kb_store_workdir(const kb_store *s);  /* absolute, ends with '/' */
const char *kb_store_gitdir(const kb_store *s);   /* absolute, ends with '/' */
const kb_config *kb_store_config(const kb_store *s);
/* Directory for kb's caches, <gitdir>kb/, created on first call. */
int kb_store_cachedir(kb_buf *out, kb_store *s);

/*
 * Who writes: `override` if given ("Name <email>"), else $KB_AUTHOR, else
 * user.name/user.email from git config (repository, then global).  KB_EINPUT
 * when none is set or the text does not parse.  As in git, GIT_AUTHOR_NAME and
 * GIT_AUTHOR_EMAIL override the config values one by one.  Free *out with
 * kb_author_release().
 */
int kb_store_author(kb_author *out, kb_store *s, const char *override);

/*
 * kb_store_author() before there is a store (for `kb init`): the same order,
 * with the git config of the repository at `dir` when `dir` is the top of
 * one, else the user's global and system config.  `dir` may be NULL.  Free
 * *out with kb_author_release().
 */
int kb_author_default(kb_author *out, const char *dir, const char *override);

/*
 * The canonical path of case `id`, where a new case is written: for an id
 * <PREFIX>-<digits> (PREFIX everything before the last '-'),
 * "cases/<PREFIX>/<NNN>/<id>.md" with NNN = the number / 1000 printed at
 * least three digits wide (CHL-0042 -> cases/CHL/000/CHL-0042.md,
 * KB-123456 -> cases/KB/123/KB-123456.md); any other valid id
 * "cases/<id>.md".  `out` is replaced.  KB_EINPUT for an invalid id (`out`
 * unchanged).  A pure function of the id: it does not look at the disk.
 */
int kb_store_case_relpath(kb_buf *out, const char *id);

/*
 * Where the existing case `id` is, into `out` (replaced): its canonical path
 * when that file exists in the work tree, else the flat "cases/<id>.md" of
 * older KBs when that exists, else a path under cases/ tracked in git's index
 * whose file name is "<id>.md" (the first in path order).  KB_ENOTFOUND when
 * there is none, KB_EINPUT for an invalid id; `out` is then unchanged.  The
 * last step reads git's index once into a map kept by the store (rebuilt
 * when the index changes), so looking up many ids costs one pass.
 */
int kb_store_case_locate(kb_buf *out, kb_store *s, const char *id);

/*
 * The path to write case `id` to: kb_store_case_locate()'s answer when the
 * case exists (an existing case is edited where it is), else the canonical
 * kb_store_case_relpath().  KB_EINPUT for an invalid id; other failures of
 * kb_store_case_locate() are returned as they are.
 */
int kb_store_case_write_path(kb_buf *out, kb_store *s, const char *id);

/* Read and parse the case `id` from the work tree, wherever it is
 * (kb_store_case_locate).  KB_ENOTFOUND when there is no such file; KB_EINPUT when it does not parse, or when the file
 * is a symlink or otherwise resolves outside the KB. */
int kb_store_read_case(kb_case **out, kb_store *s, const char *id);

/* Read a file of the work tree (relative path) refusing symlinks and paths
 * outside the KB; at most `max` bytes (KB_EINPUT if larger).  A symlink in
 * any component, "..", an absolute path or a ".git" component is KB_EINPUT;
 * a missing file KB_ENOTFOUND.  `out` is replaced, NUL-terminated. */
int kb_store_read_file(kb_buf *out, kb_store *s, const char *relpath, size_t max);

/* Call `cb` for every cases/ ** / *.md file in the work tree, in path order,
 * with its relative path and contents.  Stops when cb returns non-zero and
 * returns that value.  Symlinks are skipped (never followed); a case file
 * larger than KB_CASE_MAX_BYTES stops the walk with KB_EINPUT naming it.
 * 100,000 files take ~0.4 s with warm caches. */
int kb_store_foreach_case_file(kb_store *s,
			       int (*cb)(const char *relpath, const char *text, size_t len, void *payload),
			       void *payload);

/* Largest case size read by kb (bigger files are refused with KB_EINPUT). */
#define KB_CASE_MAX_BYTES (4u * 1024 * 1024)

/* ---- new ids -------------------------------------------------------------- */

/* The id prefix for a new case of `equipment` (may be NULL): kb.conf
 * equipment.<name>.prefix, else kb.idPrefix, else "KB".  The string belongs
 * to the store's config.  Never fails. */
const char *kb_store_id_prefix(kb_store *s, const char *equipment);
/* Highest NNNN of the case files named <prefix>-NNNN.md into *out (0 when
 * there is none).  Fails as kb_store_foreach_case_file(); *out is then 0. */
int kb_store_max_id_number(long *out, kb_store *s, const char *prefix);
/* Append the next free id for a case of `equipment` to `out`: the prefix
 * and the number after the highest existing one, as "CHL-0010".  Fails as
 * kb_store_foreach_case_file(); `out` is then unchanged. */
int kb_store_next_id(kb_buf *out, kb_store *s, const char *equipment);

/* ---- history ------------------------------------------------------------ */

typedef struct {
	char oid[41];
	const char *author_name;
	const char *author_email;
	int64_t time;          /* seconds since the epoch */
	int tz_offset;         /* minutes east of UTC */
	const char *summary;   /* first line of the message */
	const char *message;
	const char *path;      /* the path as it was at that commit (renames followed) */
} kb_commit_info;

/* Commits that changed `relpath`, newest first (follows renames).  The
 * record passed to cb is valid only during the call. */
int kb_store_log(kb_store *s, const char *relpath,
		 int (*cb)(const kb_commit_info *ci, void *payload), void *payload);

/* Hex id of HEAD's commit into oid (41 bytes); KB_ENOTFOUND on an unborn HEAD. */
int kb_store_head(kb_store *s, char oid[41]);

/* The contents of `relpath` as committed in HEAD into `out` (replaced,
 * NUL-terminated).  KB_ENOTFOUND when HEAD has no such file (or there is
 * no commit yet), KB_EINPUT for a path outside the KB; `out` is then
 * unchanged. */
int kb_store_read_head(kb_buf *out, kb_store *s, const char *relpath);

/* ---- changes, for caches such as the search index -------------------- */

typedef enum {
	KB_CHANGE_ADDED = 1,
	KB_CHANGE_MODIFIED,
	KB_CHANGE_DELETED,
} kb_change_kind;

/*
 * Report every case file (cases/ ** / *.md) that differs between commit
 * `from` (hex id; NULL or "" means the empty tree) and HEAD, by a tree diff
 * (renames reported as a deletion and an addition).  With `workdir` set,
 * also report case files whose work-tree state differs from HEAD
 * (uncommitted edits, new untracked files, deletions), as git status would.
 * A path may be reported twice; the callback reads current contents with
 * kb_store_read_file().  KB_ENOTFOUND when `from` is not a commit of this
 * repository (the caller should rebuild).  Stops when cb returns non-zero
 * and returns that value.  Cost at 100,000 cases: ~40 ms without `workdir`,
 * ~0.3 s with it (git_status_list; see docs/internals/store.md).
 */
int kb_store_changes(kb_store *s, const char *from, int workdir,
		     int (*cb)(kb_change_kind kind, const char *relpath, void *payload),
		     void *payload);

/* ---- writes ------------------------------------------------------------- */

typedef struct kb_txn kb_txn;

/*
 * Start a write.  Fails with KB_ESTATE when a merge, rebase, cherry-pick or
 * revert is in progress, or when the work tree or git directory is not
 * writable.  Also KB_ESTATE on a detached HEAD.  Writability is tested by
 * creating a probe file, so it holds for root too.  Free with kb_txn_free().
 */
int kb_txn_begin(kb_txn **out, kb_store *s);
/*
 * Bulk mode for a large write such as an import: from now on each put
 * stores its blob at once (deflated into a pack in memory, written to
 * objects/pack without delta search every 32 MiB and at commit) and keeps
 * only the blob id, so memory does not grow with the contents and no loose
 * object is written per file.  A transaction freed without a commit may
 * leave packs of unreferenced blobs (harmless; `git gc` prunes them).
 * Returns 0.
 */
int kb_txn_set_bulk(kb_txn *t);
/* Stage the full new contents of a file (copied). */
int kb_txn_put(kb_txn *t, const char *relpath, const void *data, size_t len);
/* Stage a deletion. */
int kb_txn_remove(kb_txn *t, const char *relpath);
/* Number of staged changes. */
size_t kb_txn_count(const kb_txn *t);
/*
 * Commit the staged changes as one commit on top of HEAD, authored and
 * committed by `author`, with `message`.  Other uncommitted edits in the
 * work tree are left alone and stay uncommitted.  On success writes the
 * new commit id into oid (may be NULL).  On failure nothing is changed.
 * When the staged changes leave HEAD's tree as it is, no commit is made:
 * returns 0 with oid = HEAD (oid = "" on an unborn branch) and the work
 * tree is not touched.  Removing a path that is not committed is
 * KB_ENOTFOUND; KB_ECONFLICT when HEAD moved between reading it and
 * updating it.  The exception to "nothing changed": KB_EIO with a message
 * starting "committed, but" when the commit was made and renaming files
 * into place or writing git's index failed afterwards.
 */
int kb_txn_commit(kb_txn *t, const kb_author *author, const char *message, char oid[41]);
/* Free; a transaction not committed is discarded. */
void kb_txn_free(kb_txn *t);

#endif
