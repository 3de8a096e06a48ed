/*
 * kb/lifecycle.h - team workflow on a knowledge base: status transitions
 * (draft -> validated -> archived, obsolete, restore), typed links between
 * cases, a summary of the KB (`kb status`) and reuse records (`kb used`).
 * Every write is exactly one commit; on failure nothing is written.
 */
#ifndef KB_LIFECYCLE_H
#define KB_LIFECYCLE_H

#include <stddef.h>

#include "kb/case.h"
#include "kb/store.h"

/* ---- transitions (core/lifecycle.c) ------------------------------------ */

/*
 * 0 when a case may go from `from` to `to`, else KB_EINPUT with a message
 * naming both.  Allowed: draft -> validated, validated -> archived,
 * validated -> obsolete, archived -> validated ("restore").
 */
int kb_lifecycle_check(kb_status from, kb_status to);

/*
 * Move case `id` to status `to` by `who`, in one commit:
 *   validated: reviewer "Name <email>" and validated (today) are set, the
 *     case must then pass kb_case_validate() (else KB_EINVALID, problems in
 *     `diags`, which may be NULL); commit "Validate ID" (or "Restore ID" from
 *     archived) with a trailer "Validated-by: Name <email>";
 *   archived: commit "Archive ID";
 *   obsolete: `superseded_by` must name another existing case (KB_EINPUT
 *     otherwise); commit "Mark ID obsolete".
 * `updated` is set to today.  KB_ENOTFOUND when `id` is missing, KB_EINPUT
 * for a refused transition.  `oid` (may be NULL) receives the commit.
 * On failure nothing is written.
 */
int kb_lifecycle_set(kb_store *s, const char *id, kb_status to, const char *superseded_by,
		     const kb_author *who, kb_diags *diags, char oid[41]);

/*
 * The lifecycle rules for a case edited as a file (`kb edit`): `c` is the
 * edited case, `before` the status it had (KB_STATUS_UNKNOWN for a new
 * case or one that did not parse: nothing is checked).  When the status
 * changed it must be an allowed transition (kb_lifecycle_check()), else
 * KB_EINPUT with a message naming the case's path and the line of
 * `status`, and `c` is unchanged.  A change to validated records who
 * validated: reviewer "Name <email>" of `who` and validated (today) are
 * set, and "Validated-by: Name <email>\n" is appended to `trailer` (may
 * be NULL) for the commit message.  Returns 0 otherwise.
 */
int kb_lifecycle_edit(kb_case *c, kb_status before, const kb_author *who, kb_buf *trailer);

/*
 * `kb validate` on the work tree: every case file with uncommitted changes
 * whose status differs from its status in HEAD by a move that
 * kb_lifecycle_check() refuses gets an error in `diags` naming the file
 * and the line of `status`.  New files and files that do not parse are
 * left to the format checks.  Returns 0, or a negative kb_error_code when
 * the history cannot be read (diagnostics added so far are kept).
 */
int kb_lifecycle_check_worktree(kb_store *s, kb_diags *diags);

/*
 * `kb add --update`: case `c` is about to replace the file `relpath` as
 * committed in HEAD.  When its status differs by a move that
 * kb_lifecycle_check() refuses, an error naming `display` (relpath when
 * NULL) and the line of `status` is added to `diags` and KB_EINVALID
 * returned; else 0 (also when HEAD has no such file or it does not parse).
 */
int kb_lifecycle_check_replace(kb_store *s, const char *relpath, const kb_case *c,
			       const char *display, kb_diags *diags);

/* ---- folding a duplicate into the case that survives it (core/fold.c) --- */

/*
 * Fold case `dup` into case `into`, both parsed and edited in memory:
 * every section of `dup` is appended to `into` under the heading
 * "<heading> (from DUP)" (its text outside sections under "Text outside
 * sections (from DUP)"), so nothing is dropped; `into` gains dup's tags
 * and a link to it; `dup` gets status archived and duplicate_of INTO.
 * `updated` of both is set to `date` (YYYY-MM-DD) unless it is NULL.
 * Never fails.
 */
void kb_fold_cases(kb_case *into, kb_case *dup, const char *date);

/*
 * `kb merge DUP INTO`: kb_fold_cases() on the two case files, written as
 * one commit "Merge DUP into INTO" by `who` (`oid`, may be NULL, receives
 * it).  KB_EINPUT, nothing written, when either id is unknown or invalid,
 * when they are equal, or when either case is already archived or
 * obsolete.  A case of any other status (draft, validated) may be folded.
 */
int kb_fold(kb_store *s, const char *dup, const char *into, const kb_author *who,
	    char oid[41]);

/* ---- merge conflicts left for review (core/conflicts.c) ----------------- */

typedef struct {
	char *id;
	char *title;
	char *path;             /* relative to the work tree */
	char **names;           /* the keys and sections in conflict (kb/merge.h) */
	size_t nnames;
} kb_conflict_case;

/*
 * Every case file of the work tree whose front matter lists unresolved
 * merge conflicts (the "conflicts" key, see kb/merge.h), in path order.
 * Files that do not parse are skipped.  *out is an array of *n entries;
 * free with kb_conflicts_list_free().  On failure (a case file that cannot
 * be read) *out is NULL and *n 0.
 */
int kb_conflicts_list(kb_conflict_case **out, size_t *n, kb_store *s);
void kb_conflicts_list_free(kb_conflict_case *v, size_t n);

/* ---- summary (core/lifecycle.c) ---------------------------------------- */

typedef struct {
	char *id;
	char *title;
	char *created;          /* "" when missing */
} kb_summary_case;

typedef struct {
	size_t counts[KB_STATUS_OBSOLETE + 1];   /* indexed by kb_status */
	size_t total;
	kb_summary_case *drafts; /* every draft, oldest `created` first, then id */
	size_t ndrafts;
	char **edited;          /* case files with uncommitted changes, sorted, unique */
	size_t nedited;
	char head[41];          /* HEAD's commit, "" on an unborn branch */
	size_t misplaced;       /* case files kb migrate-layout would move (kb/migrate.h) */
} kb_summary;

/* Fill *out for the KB (files that do not parse count as unknown).  Free
 * with kb_summary_release(), also after a failure (then empty). */
int kb_summary_get(kb_summary *out, kb_store *s);
void kb_summary_release(kb_summary *sum);

/* ---- links (core/links.c) ---------------------------------------------- */

typedef enum {
	KB_LINK_RELATED = 0,     /* links: [B] */
	KB_LINK_DUPLICATE_OF,    /* duplicate_of: B */
	KB_LINK_SUPERSEDES,      /* supersedes: B */
	KB_LINK_CAUSED_BY,       /* caused_by: B */
	KB_LINK__COUNT
} kb_link_type;

/* "related", "duplicate-of", "supersedes", "caused-by"; the parse returns
 * -1 for anything else. */
const char *kb_link_type_name(kb_link_type t);
int kb_link_type_parse(const char *s);
/* The front-matter key holding links of type t ("links", "duplicate_of"...). */
const char *kb_link_type_key(kb_link_type t);

/*
 * Link case `from` to case `to`, stored in `from`'s front matter, in one
 * commit "Link FROM to TO (TYPE)" by `who`.  KB_EINPUT (nothing written)
 * when either id is unknown, from equals to, or `from` already links to
 * `to` by any type.  `oid` may be NULL.
 */
int kb_link_add(kb_store *s, const char *from, const char *to, kb_link_type type,
		const kb_author *who, char oid[41]);

typedef struct {
	char *id;               /* the other case */
	kb_link_type type;
	int incoming;           /* 1: the other case links to this one */
} kb_link;

/*
 * Links of case `id` both ways: outgoing from its front matter first (in
 * type order), then incoming found by scanning the other case files (only
 * files whose text contains the id are parsed), sorted by id.  *out is an
 * array of *n links; free with kb_links_free().  KB_ENOTFOUND when the
 * case is missing; on failure *out is NULL and *n 0.
 */
int kb_links_get(kb_link **out, size_t *n, kb_store *s, const char *id);
void kb_links_free(kb_link *links, size_t n);

/* ---- reuse (core/reuse.c) ---------------------------------------------- */

#define KB_REUSE_DIR "reuse"

/*
 * Record that case `id` solved a new fault: one line "DATE\tID\tTICKET\tNOTE"
 * (fields escaped: backslash, tab, CR and LF as \\ \t \r \n) appended to
 * reuse/<slug of who's email>.log, in one commit "Record reuse of ID".
 * The first write also adds reuse/.gitattributes ("*.log merge=union") so
 * concurrent appends merge.  `ticket` and `note` may be NULL.  KB_ENOTFOUND
 * when the case is missing.  Nothing is written on failure.
 */
int kb_reuse_record(kb_store *s, const char *id, const char *ticket, const char *note,
		    const kb_author *who, char oid[41]);

typedef struct {
	char *id;
	size_t count;
	char last[11];          /* latest date recorded, YYYY-MM-DD */
} kb_reuse_count;

/*
 * Reuse counts of every case named in any reuse/<slug>.log file, sorted by id.
 * Free with kb_reuse_counts_free().  Malformed lines are skipped.  No
 * reuse directory gives 0 entries.  On failure *out is NULL and *n 0.
 */
int kb_reuse_counts(kb_reuse_count **out, size_t *n, kb_store *s);
/* The entry for `id` in a sorted array, or NULL. */
const kb_reuse_count *kb_reuse_find(const kb_reuse_count *counts, size_t n, const char *id);
void kb_reuse_counts_free(kb_reuse_count *counts, size_t n);

#endif
