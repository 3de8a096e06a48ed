/*
 * kb/gaps.h - the gaps log: searches and similar-case lookups that found
 * nothing useful, appended to <gitdir>/kb/gaps.log (local to the clone,
 * never tracked), then read back and grouped by similar wording for
 * `kb audit gaps` (docs/audit.md, docs/internals/audit.md).
 *
 * Ownership: kb_gaps_read() and kb_gaps_parse() return a report freed with
 * kb_gaps_report_free(); every string in it belongs to the report.
 */
#ifndef KB_GAPS_H
#define KB_GAPS_H

#include <stddef.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/index.h"
#include "kb/store.h"

/* Default top score of `kb similar` below which the lookup is a gap
 * (scores are normalised: an identical copy scores 1.0); kb.conf
 * audit.gapThreshold overrides it. */
#define KB_GAPS_THRESHOLD 0.3
/* Bytes of query text kept in the log (cut at a character boundary). */
#define KB_GAPS_QUERY_MAX 1000
/* Lines longer than this are malformed (a query escapes to 4x its size). */
#define KB_GAPS_LINE_MAX (4 * KB_GAPS_QUERY_MAX + 128)
/* Two wordings whose token sets have a Jaccard similarity of at least this
 * fall in one group. */
#define KB_GAPS_JACCARD 0.5

/*
 * Append one line to the gaps log when `hits` found nothing useful:
 * "search" with no hit, "similar" with no hit or a top score below the
 * threshold.  Nothing is written when KB_NO_GAPS_LOG is set to a non-empty
 * value other than "0", when the query is empty or not valid UTF-8.
 * Returns 1 when a line was written, 0 when not (not a gap, or disabled),
 * KB_EINPUT for an unknown command, KB_EIO when the log cannot be written
 * (a read-only KB): callers treat every failure as a warning at most,
 * never as a failure of the search.  The log is left unchanged on failure.
 */
int kb_gaps_record(kb_store *s, const char *command, const char *query, const kb_hits *hits);

/* Path of the log, <gitdir>kb/gaps.log (the directory is created).
 * Returns 0 or KB_EIO. */
int kb_gaps_path(kb_buf *out, kb_store *s);

typedef struct {
	const char *time;     /* "YYYY-MM-DDTHH:MM:SSZ", UTC */
	const char *command;  /* "search" or "similar" */
	double score;         /* top score, 0 for no hit */
	const char *query;    /* unescaped query text */
} kb_gaps_event;

typedef struct {
	size_t count;              /* events in the group */
	const char *first, *last;  /* times of the first and last event */
	const char *wording;       /* the most frequent wording (earliest on ties) */
	const char **others;       /* the other distinct wordings, in order met */
	size_t nothers;
} kb_gaps_group;

typedef struct {
	kb_gaps_event *events;     /* in log order */
	size_t nevents;
	kb_gaps_group *groups;     /* most frequent first, then most recent */
	size_t ngroups;
	kb_diags warnings;         /* malformed lines skipped, with line numbers */
} kb_gaps_report;

/*
 * Read the gaps log of `s` (a missing log is an empty report), keep events
 * on or after `since` (YYYY-MM-DD, NULL for all) and group them: wordings
 * are normalised (kb_text_normalize) and tokenized (kb_tokenize), and each
 * event joins the existing group whose first wording's token set is most
 * similar to its own, when the Jaccard similarity is at least
 * KB_GAPS_JACCARD, else starts a group.  Malformed lines become warnings.
 * Returns 0, KB_EIO when the log cannot be read; *out is NULL on failure.
 */
int kb_gaps_read(kb_gaps_report **out, kb_store *s, const char *since);
/* Same from `len` bytes of log text; `path` names it in warnings. */
int kb_gaps_parse(kb_gaps_report **out, const char *text, size_t len, const char *path,
		  const char *since);
void kb_gaps_report_free(kb_gaps_report *r);

#endif
