/*
 * kb/migrate.h - moving the case files of a KB to the foldered layout
 * (`kb migrate-layout`): every case file that is not at its canonical path
 * (kb_store_case_relpath) goes there, in one commit.  Older KBs kept every
 * case flat in cases/; at 100,000 cases that makes each commit carry a
 * 4 MB cases/ tree (docs/format.md, "Layout").
 */
#ifndef KB_MIGRATE_H
#define KB_MIGRATE_H

#include <stddef.h>

#include "kb/error.h"
#include "kb/store.h"

typedef struct {
	char *from;    /* where the case file is, "cases/CHL-0042.md" */
	char *to;      /* its canonical path, "cases/CHL/000/CHL-0042.md" */
} kb_migrate_move;

typedef struct {
	kb_migrate_move *moves;   /* in the order of `from` (the walk's path order) */
	size_t nmoves;
	kb_diags skipped;         /* files left where they are, as warnings naming them */
	char oid[41];             /* the commit made; "" for a dry run or nothing to move */
	int index_stale;          /* the search index could not be brought up to date
				     after the commit (the next search retries) */
} kb_migrate_result;

#define KB_MIGRATE_RESULT_INIT { NULL, 0, KB_DIAGS_INIT, "", 0 }

/* Only work out and check the moves; write nothing. */
#define KB_MIGRATE_DRY_RUN 1u

/*
 * Move every case file under cases/ that is not at the canonical path of its
 * id to that path, in ONE commit by `who` ("Move N cases to the foldered
 * layout") through kb_txn, so the move is all or nothing and survives a kill
 * like any other commit.  The id is the front matter's; when the front
 * matter does not parse, the file name's.  Left where they are, with a
 * warning in out->skipped: a file whose front-matter id differs from its
 * file name (which one is right is for a person to decide; `kb validate`
 * reports it), and a file whose name is not a valid id.
 *
 * Refusals, with nothing written (the dry run refuses the same way):
 *   KB_ESTATE  cases/ has uncommitted changes (edits, untracked or deleted
 *              files; the message names one), or the repository state
 *              forbids a write (kb_txn_begin);
 *   KB_EEXISTS two files belong at the same path, or a file already exists
 *              at a destination (the message names both files).
 * With nothing to move, returns 0 with nmoves 0 and makes no commit; a
 * second run after a migration is such a run.  After the commit the search
 * index is brought up to date (kb_index_open_store: the moved paths are a
 * deletion and an addition each); when that fails the migration still
 * stands and out->index_stale is set.  out->moves and out->skipped
 * are filled also for a dry run; out is left empty on a refusal.  Free with
 * kb_migrate_result_release(), also after a failure.
 */
int kb_migrate_layout(kb_migrate_result *out, kb_store *s, const kb_author *who,
		      unsigned flags);
void kb_migrate_result_release(kb_migrate_result *r);

#endif
