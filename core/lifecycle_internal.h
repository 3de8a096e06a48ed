/*
 * lifecycle_internal.h - helpers shared by lifecycle.c, links.c, fold.c
 * and reuse.c: today's date and committing changed cases.
 */
#ifndef KB_LIFECYCLE_INTERNAL_H
#define KB_LIFECYCLE_INTERNAL_H

#include "kb/lifecycle.h"

/* Today's local date as YYYY-MM-DD. */
void kb__lc_today(char out[11]);
/* Serialize `c` to cases/<id>.md and commit it alone; a kb_error_code,
 * nothing written on failure. */
int kb__lc_commit_case(kb_store *s, const kb_case *c, const kb_author *who,
		       const char *message, char oid[41]);
/* Read case `id`, turning a missing case into KB_EINPUT "unknown case". */
int kb__lc_read_known(kb_case **out, kb_store *s, const char *id);
/* fold.c: serialize `n` cases to their files and commit them as one commit. */
int kb__fold_commit(kb_store *s, kb_case *const *cases, size_t n, const kb_author *who,
		    const char *message, char oid[41]);

#endif
