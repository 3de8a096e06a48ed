/*
 * kb/audit.h - knowledge audits for managers: coverage (cases per field
 * values, thin and empty cells), health (findings and a quality score per
 * case), risk (areas known to one person, bus factors) and activity (who
 * wrote, edited and reviewed what, per month).  Computed from the work
 * tree's cases and one walk of HEAD's git history (docs/internals/audit.md).
 *
 * Ownership: kb_audit_open() returns an audit freed with kb_audit_free();
 * each result is freed with its own _free function and must be freed before
 * the audit, because every string in a result belongs to the audit.
 */
#ifndef KB_AUDIT_H
#define KB_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "kb/error.h"
#include "kb/store.h"

#define KB_AUDIT_OPTIONS_VERSION 1

typedef struct {
	unsigned version;     /* KB_AUDIT_OPTIONS_VERSION */
	int draft_days;       /* a draft older than this waits too long (default 30) */
	int stale_months;     /* validated and not updated for this long is stale (24) */
	size_t thin;          /* a cell with fewer validated cases is thin (2) */
	int64_t now;          /* "today" in seconds since the epoch; 0 = time(NULL) */
} kb_audit_options;

#define KB_AUDIT_OPTIONS_INIT { KB_AUDIT_OPTIONS_VERSION, 30, 24, 2, 0 }

typedef struct kb_audit kb_audit;

/*
 * Load every case of the work tree of `s` (files that do not parse become
 * warnings) and walk HEAD's history once (an unborn HEAD means no history;
 * an incomplete history, as in a shallow clone, is a warning).  Authors
 * are normalised through the KB's .mailmap.  `opts` may be NULL for the
 * defaults.  Returns 0, KB_EINPUT for a bad options version or a case
 * file larger than KB_CASE_MAX_BYTES, KB_ERROR when git fails; on failure
 * *out is NULL.  `s` must outlive the audit.
 */
int kb_audit_open(kb_audit **out, kb_store *s, const kb_audit_options *opts);
void kb_audit_free(kb_audit *a);

/* Warnings gathered while loading (unparsable files, bad dates in the
 * history, an incomplete history).  Owned by the audit. */
const kb_diags *kb_audit_warnings(const kb_audit *a);
/* Number of cases loaded (parsed files). */
size_t kb_audit_case_count(const kb_audit *a);
/* Number of commits kb_audit_open() diffed: the results of earlier walks
 * are cached in kb_store_cachedir() ("audit-history", keyed by the commit
 * they reflect), so only commits new since then are walked (0 when HEAD
 * has not moved).  A cache that does not reflect an ancestor of HEAD is
 * ignored and rewritten; an incomplete history is never cached. */
size_t kb_audit_commits_walked(const kb_audit *a);
/* Case files read and parsed by kb_audit_open(): a summary of each case
 * (what the audits read, and its load warnings) is cached in
 * <cachedir>audit-cases keyed by path and stat data (size, mtime, ctime,
 * inode), so only new or changed files are parsed.  A cache of another
 * format, another kb.conf or a corrupt one is ignored and rewritten. */
size_t kb_audit_cases_parsed(const kb_audit *a);

/* ---- coverage ---------------------------------------------------------- */

typedef struct {
	const char *value[2];        /* first spelling seen; "" when the case lacks the field */
	size_t status[KB_STATUS_OBSOLETE + 1];  /* cases per kb_status */
	size_t total;
	int thin;                    /* fewer than opts.thin validated cases (empty cells too) */
} kb_audit_cell;

typedef struct {
	size_t nfields;              /* 1 or 2 */
	const char *field[2];
	kb_audit_cell *cells;        /* non-empty cells sorted by values, then the empty ones */
	size_t count;
	size_t nonempty;             /* cells[0..nonempty) have total > 0 */
	size_t thin;                 /* the threshold used */
} kb_audit_coverage_report;

/*
 * Count cases by the values of one or two front-matter fields (NULL or
 * nfields 0: equipment x failure_mode).  Values are grouped after trimming
 * and case-folding; the first spelling met in path order is shown.  With
 * two fields, every pair of seen values without a case is an empty cell.
 * KB_EINPUT for more than two fields or an empty field name.  Free with
 * kb_audit_coverage_free().
 */
int kb_audit_coverage(kb_audit_coverage_report **out, kb_audit *a, const char *const *fields,
		      size_t nfields);
void kb_audit_coverage_free(kb_audit_coverage_report *c);

/* ---- health ------------------------------------------------------------ */

/* Health rules; a case's findings are a bit set of these. */
typedef enum {
	KB_AUDIT_NO_SYMPTOM = 0,     /* no symptom section (or it is empty) */
	KB_AUDIT_NO_RESOLUTION,      /* validated without a resolution section */
	KB_AUDIT_OLD_DRAFT,          /* draft older than draft_days */
	KB_AUDIT_STALE,              /* validated, updated/created older than stale_months */
	KB_AUDIT_BROKEN_LINK,        /* links to an id no case has */
	KB_AUDIT_UNKNOWN_STATUS,     /* status missing or not a known one */
	KB_AUDIT_BAD_DATE,           /* created/updated not YYYY-MM-DD, or in the future */
	KB_AUDIT_DUPLICATE,          /* likely duplicate: same title or same symptom as another */
	KB_AUDIT_RULE__COUNT
} kb_audit_rule;

/* "no-symptom", "no-resolution", "old-draft", "stale", "broken-link",
 * "unknown-status", "bad-date", "duplicate". */
const char *kb_audit_rule_name(kb_audit_rule r);

typedef struct {
	const char *id;
	const char *path;
	const char *status;          /* as written; "" when missing */
	unsigned findings;           /* bit (1u << rule) per finding */
	int score;                   /* quality score 0-100 (docs/audit.md) */
	int age_days;                /* days since created (history when absent); -1 unknown */
	const char *detail;          /* "; "-joined explanations, "" when none */
} kb_audit_case_health;

typedef struct {
	kb_audit_case_health *cases; /* in path order */
	size_t count;
	size_t rule_count[KB_AUDIT_RULE__COUNT];
	double mean_score;
} kb_audit_health_report;

/* Findings and quality score of every case.  Free with
 * kb_audit_health_free().  Fails only on bad arguments (KB_EINPUT). */
int kb_audit_health(kb_audit_health_report **out, kb_audit *a);
void kb_audit_health_free(kb_audit_health_report *h);

/* ---- risk -------------------------------------------------------------- */

typedef struct {
	const char *name;            /* after the mailmap */
	size_t cases;                /* validated cases of the area this person authored */
} kb_audit_share;

typedef enum {
	KB_AUDIT_LEAVING_NONE = 0,
	KB_AUDIT_LEAVING_ONLY,       /* the person is the area's only author */
	KB_AUDIT_LEAVING_MAJORITY,   /* the person authored more than half of its cases */
} kb_audit_leaving;

typedef struct {
	const char *equipment;
	const char *failure_mode;    /* NULL for the equipment as a whole */
	size_t validated;
	size_t bus_factor;           /* fewest people who authored more than half */
	const char *sole;            /* the only author, or NULL */
	kb_audit_share *people;      /* most cases first */
	size_t npeople;
	kb_audit_leaving leaving;    /* role of the `leaving` person given */
} kb_audit_area;

typedef struct {
	kb_audit_area *areas;        /* equipment then failure modes, sorted */
	size_t count;
	const char *leaving;         /* canonical name of the leaving person, or NULL */
} kb_audit_risk_report;

/*
 * Areas (equipment, and equipment x failure mode) with at least one
 * validated case, with who authored them: the front-matter author (or the
 * author of the commit that added the file) plus the authors of every
 * later commit that changed the case's sections.  With `leaving` (a name
 * or email, mailmapped, compared ignoring case) only the areas where that
 * person is the only author or the majority author are returned;
 * KB_ENOTFOUND when no author matches it.  Free with kb_audit_risk_free().
 */
int kb_audit_risk(kb_audit_risk_report **out, kb_audit *a, const char *leaving);
void kb_audit_risk_free(kb_audit_risk_report *r);

/* ---- activity ---------------------------------------------------------- */

typedef struct {
	const char *person;
	char month[8];               /* "YYYY-MM" */
	size_t created, edited, reviewed;
} kb_audit_contrib;

typedef struct {
	char month[8];
	size_t active;               /* people with any contribution that month */
	size_t people;               /* people known in the KB */
} kb_audit_participation;

typedef struct {
	const char *equipment;
	char month[8];
	size_t created;
} kb_audit_newcases;

typedef struct {
	kb_audit_contrib *contribs;  /* by month, then person */
	size_t ncontribs;
	kb_audit_participation *months;
	size_t nmonths;
	kb_audit_newcases *newcases; /* by month, then equipment */
	size_t nnewcases;
} kb_audit_activity_report;

/*
 * Contributions per person per month: created (front-matter author and
 * `created`, else the commit adding the file), edited (later commits that
 * changed a case's sections), reviewed (commits that set status to
 * validated, and the front-matter reviewer in the month of `updated`).
 * Free with kb_audit_activity_free().
 */
int kb_audit_activity(kb_audit_activity_report **out, kb_audit *a);
void kb_audit_activity_free(kb_audit_activity_report *act);

#endif
