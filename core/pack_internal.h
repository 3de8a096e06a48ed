/*
 * pack_internal.h - private to core: a git pack built in memory without
 * delta search (pack.c), written through libgit2's indexer.  Used by
 * txn.c's bulk mode.
 */
#ifndef KB_PACK_INTERNAL_H
#define KB_PACK_INTERNAL_H

#include <stdint.h>
#include <git2.h>

#include "kb/buf.h"

typedef struct {
	kb_buf body;      /* the deflated objects with their headers */
	uint32_t count;
} kb__pack;

#define KB__PACK_INIT { KB_BUF_INIT, 0 }

/* Append an object (deflated at level 1).  KB_ERROR when zlib fails; the
 * pack is then as it was. */
int kb__pack_add(kb__pack *p, git_object_t type, const void *data, size_t len);
/* Write the objects added so far as one pack (.pack and .idx) into the
 * repository's objects/pack, then empty `p`.  Returns 0 or libgit2's error
 * (its message in git_error_last()); `p` is emptied either way. */
int kb__pack_write(kb__pack *p, git_repository *repo);
/* Free the buffer. */
void kb__pack_release(kb__pack *p);

#endif
