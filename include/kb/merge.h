/*
 * kb/merge.h - three-way merge of one case file, section by section, as
 * `kb sync` needs it.  Edits to different front-matter keys or different
 * body sections merge silently; edits of the same key or section that
 * differ keep both versions in the result, which is marked as conflicted
 * for review (`kb conflicts`).  Nothing of either side is ever dropped.
 */
#ifndef KB_MERGE_H
#define KB_MERGE_H

#include <stddef.h>

#include "kb/buf.h"
#include "kb/case.h"

/* The front-matter key that lists what a merge could not reconcile. */
#define KB_CONFLICTS_KEY "conflicts"

/*
 * Merge `ours` and `theirs`, both descended from `base`, into *out (the
 * new text of the case file; `out` is appended to).  Any of the three may
 * be NULL: base NULL when both sides added the file; ours or theirs NULL
 * when that side deleted it (an edit against a delete keeps the edited
 * version and is a conflict).  `label_ours` and `label_theirs` name the
 * sides in the versions kept on a conflict (e.g. "local", "origin").
 * `path` names the file in messages.
 *
 * When the merge leaves the file deleted (deleted on one side and unchanged
 * on the other, or deleted on both) nothing is appended to *out and
 * *nconflicts is 0.  Rules in detail: docs/merge.md.
 *
 * Returns 0 and sets *nconflicts to the number of keys and sections that
 * were kept in both versions (0 for a clean merge).  When *nconflicts > 0
 * the result still parses as a case and kb_case_conflicts() lists the
 * conflicted keys and sections.  When a side does not parse as a case the
 * merge still succeeds: one version is kept whole, the other is kept
 * verbatim in a fenced section of its own (bytes that are not UTF-8 written
 * as "\xNN"), and the result counts as one conflict; when neither parses,
 * both are kept that way in a new case whose id is taken from `path`.
 * A negative kb_error_code only for an internal failure.
 */
int kb_case_merge3(kb_buf *out,
		   const char *base, size_t nbase,
		   const char *ours, size_t nours,
		   const char *theirs, size_t ntheirs,
		   const char *label_ours, const char *label_theirs,
		   const char *path, size_t *nconflicts);

/*
 * The unresolved conflicts recorded in a case: *out receives an array of
 * *n names of keys or sections (free with kb_case_conflicts_free()), or
 * NULL and 0 when the case has none.  Returns 0, or a negative
 * kb_error_code on allocation failure.
 */
int kb_case_conflicts(const kb_case *c, char ***out, size_t *n);
void kb_case_conflicts_free(char **names, size_t n);

#endif
