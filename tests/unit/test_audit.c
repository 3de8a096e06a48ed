/* test_audit.c - kb/audit.h on a fixture KB whose history the test builds
 * commit by commit (authors, two spellings of one person and a .mailmap,
 * dates through GIT_AUTHOR_DATE): exact coverage cells, health findings and
 * scores, single-author areas, bus factors, --leaving, activity per month;
 * bad input (unparsable file, unknown status, future dates) and an empty KB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "kb/audit.h"
#include "kb/error.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };
static const kb_author alice2 = { "alice w", "alice@corp.example" };
static const kb_author bob = { "Bob Li", "bob@example.com" };
static const kb_author carol = { "Carol Diaz", "carol@example.com" };
static const kb_author dave = { "Dave Roe", "dave@example.com" };

/* 2024-07-01 00:00 UTC: "today" for every audit here. */
#define NOW 1719792000

static const char body_full[] =
	"## Symptom\n\nMotor overload relay trips ten minutes after start, 12 A drawn.\n\n"
	"## Environment\n\nDuty pump P-2, 7.5 kW.\n\n"
	"## Cause\n\nWorn bearing.\n\n"
	"## Resolution\n\n1. Replaced the bearing.\n2. Reset the relay.\n";

static void commit_at(kb_store *s, const char *date, const kb_author *who, const char *rel,
		      const char *text)
{
	kb_txn *t = NULL;

	setenv("GIT_AUTHOR_DATE", date, 1);
	setenv("GIT_COMMITTER_DATE", date, 1);
	assert_int_equal(kb_txn_begin(&t, s), 0);
	assert_int_equal(kb_txn_put(t, rel, text, strlen(text)), 0);
	assert_int_equal(kb_txn_commit(t, who, "audit fixture", NULL), 0);
	kb_txn_free(t);
	unsetenv("GIT_AUTHOR_DATE");
	unsetenv("GIT_COMMITTER_DATE");
}

/* A case file: front matter lines `fm` (each ending in \n) then `body`. */
static char *case_text(const char *id, const char *fm, const char *body)
{
	kb_buf b = KB_BUF_INIT;

	kb_buf_printf(&b, "---\nid: %s\n%s---\n\n%s", id, fm, body);
	return kb_buf_detach(&b);
}

static void put_case(kb_store *s, const char *date, const kb_author *who, const char *id,
		     const char *fm, const char *body)
{
	char *text = case_text(id, fm, body);
	kb_buf rel = KB_BUF_INIT;

	kb_buf_printf(&rel, "cases/%s.md", id);
	commit_at(s, date, who, rel.ptr, text);
	kb_buf_release(&rel);
	free(text);
}

#define PUMP_FM "title: Pump trips on overload after start\nequipment: pump\nmodel: KSB 80\n" \
	"site: Plant 3\n"

/* The fixture history (see docs/internals/audit.md for the rules it checks). */
static char *build_fixture(kb_store **out)
{
	char *dir = tu_mkdtemp("audit");
	kb_store *s = NULL;

	setenv("GIT_AUTHOR_DATE", "2024-01-01T09:00:00+0000", 1);
	setenv("GIT_COMMITTER_DATE", "2024-01-01T09:00:00+0000", 1);
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	commit_at(s, "2024-01-01T10:00:00+0000", &alice, ".mailmap",
		  "Alice Wong <alice@example.com> alice w <alice@corp.example>\n");
	put_case(s, "2024-01-10T10:00:00+0000", &alice, "PMP-0001",
		 PUMP_FM "failure_mode: overload\nstatus: validated\n"
		 "reviewer: Bob Li <bob@example.com>\ncreated: 2024-01-10\nupdated: 2024-02-01\n",
		 body_full);
	put_case(s, "2024-02-05T10:00:00+0000", &alice2, "PMP-0002",
		 PUMP_FM "failure_mode: Overload\nstatus: draft\n", body_full);
	put_case(s, "2024-02-10T10:00:00+0000", &bob, "PMP-0003",
		 PUMP_FM "failure_mode: seal leak\nstatus: validated\n", body_full);
	put_case(s, "2024-03-01T10:00:00+0000", &carol, "FAN-0001",
		 "title: Fan belt slips under load\nequipment: FAN\nfailure_mode: belt slip\n"
		 "status: draft\ncreated: 2024-01-02\nlinks: [PMP-0001, NOPE-1]\n",
		 "## Symptom\n\nBelt squeals at start and the fan runs slow, airflow low.\n");
	put_case(s, "2024-03-05T10:00:00+0000", &bob, "FAN-0002",
		 "title: Fan bearing noise\nequipment: fan\nfailure_mode: Belt Slip\n"
		 "status: valdated\ncreated: 2099-01-01\n", body_full);
	/* Carol changes PMP-0003's sections: a substantive edit */
	put_case(s, "2024-03-15T10:00:00+0000", &carol, "PMP-0003",
		 PUMP_FM "failure_mode: seal leak\nstatus: validated\n",
		 "## Symptom\n\nMechanical seal drips at 2 l/h after a dry run of the pump.\n\n"
		 "## Resolution\n\n1. Replaced the seal.\n2. Added a dry-run relay.\n");
	/* Dave only touches the front matter: not substantive */
	put_case(s, "2024-03-20T10:00:00+0000", &dave, "PMP-0003",
		 PUMP_FM "failure_mode: seal leak\nstatus: validated\ntags: [seal]\n",
		 "## Symptom\n\nMechanical seal drips at 2 l/h after a dry run of the pump.\n\n"
		 "## Resolution\n\n1. Replaced the seal.\n2. Added a dry-run relay.\n");
	put_case(s, "2024-03-25T10:00:00+0000", &carol, "PMP-0004",
		 PUMP_FM "failure_mode: seal leak\nstatus: validated\n"
		 "author: Carol Diaz <carol@example.com>\n", body_full);
	/* Alice imports Dave's old case: the front-matter author counts */
	put_case(s, "2024-04-01T10:00:00+0000", &alice, "CHL-0001",
		 "title: Chiller surges at low load\nequipment: chiller\nfailure_mode: surge\n"
		 "status: validated\nauthor: Dave Roe <dave@example.com>\ncreated: 2020-01-01\n",
		 body_full);
	/* Bob validates PMP-0002 (front matter only: a review, not an edit) */
	put_case(s, "2024-04-10T10:00:00+0000", &bob, "PMP-0002",
		 PUMP_FM "failure_mode: Overload\nstatus: validated\n"
		 "reviewer: Bob Li <bob@example.com>\n", body_full);
	commit_at(s, "2024-04-11T10:00:00+0000", &bob, "cases/BAD-0001.md",
		  "---\nid: BAD-0001\n\ttitle: x\n---\n");
	*out = s;
	return dir;
}

static kb_audit *open_fixture(kb_store **s, char **dir)
{
	kb_audit_options o = KB_AUDIT_OPTIONS_INIT;
	kb_audit *a = NULL;

	*dir = build_fixture(s);
	o.now = NOW;
	assert_int_equal(kb_audit_open(&a, *s, &o), 0);
	return a;
}

static void close_fixture(kb_audit *a, kb_store *s, char *dir)
{
	kb_audit_free(a);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_load_and_warnings(void **state)
{
	kb_store *s;
	char *dir;
	kb_audit *a = open_fixture(&s, &dir);
	const kb_diags *w = kb_audit_warnings(a);

	(void)state;
	assert_int_equal(kb_audit_case_count(a), 7);
	assert_int_equal(w->count, 1);
	assert_string_equal(w->items[0].path, "cases/BAD-0001.md");
	close_fixture(a, s, dir);
}

static void test_coverage_cells(void **state)
{
	kb_store *s;
	char *dir;
	kb_audit *a = open_fixture(&s, &dir);
	kb_audit_coverage_report *c = NULL;
	const char *by_site[] = { "site" };

	(void)state;
	assert_int_equal(kb_audit_coverage(&c, a, NULL, 0), 0);
	assert_int_equal(c->nonempty, 4);
	assert_int_equal(c->count, 12);   /* 3 equipment x 4 failure modes */
	assert_string_equal(c->cells[0].value[0], "chiller");
	assert_int_equal(c->cells[0].status[KB_STATUS_VALIDATED], 1);
	assert_true(c->cells[0].thin);
	/* "FAN"/"fan" and "belt slip"/"Belt Slip" are one cell, first spelling shown */
	assert_string_equal(c->cells[1].value[0], "FAN");
	assert_string_equal(c->cells[1].value[1], "belt slip");
	assert_int_equal(c->cells[1].status[KB_STATUS_DRAFT], 1);
	assert_int_equal(c->cells[1].status[KB_STATUS_UNKNOWN], 1);
	assert_int_equal(c->cells[1].total, 2);
	assert_string_equal(c->cells[2].value[1], "overload");
	assert_int_equal(c->cells[2].status[KB_STATUS_VALIDATED], 2);
	assert_false(c->cells[2].thin);
	assert_string_equal(c->cells[3].value[1], "seal leak");
	assert_int_equal(c->cells[3].status[KB_STATUS_VALIDATED], 2);
	assert_int_equal(c->cells[4].total, 0);
	assert_true(c->cells[4].thin);
	kb_audit_coverage_free(c);

	assert_int_equal(kb_audit_coverage(&c, a, by_site, 1), 0);
	assert_int_equal(c->nonempty, 2);   /* "" (no site) and Plant 3 */
	assert_string_equal(c->cells[0].value[0], "");
	assert_int_equal(c->cells[0].total, 3);
	assert_string_equal(c->cells[1].value[0], "Plant 3");
	assert_int_equal(c->cells[1].total, 4);
	kb_audit_coverage_free(c);
	close_fixture(a, s, dir);
}

static const kb_audit_case_health *find_health(const kb_audit_health_report *h, const char *id)
{
	size_t i;

	for (i = 0; i < h->count; i++)
		if (!strcmp(h->cases[i].id, id))
			return &h->cases[i];
	fail_msg("no case %s", id);
	return NULL;
}

#define BIT(r) (1u << (r))

static void test_health_rules_and_scores(void **state)
{
	kb_store *s;
	char *dir;
	kb_audit *a = open_fixture(&s, &dir);
	kb_audit_health_report *h = NULL;
	const kb_audit_case_health *x;

	(void)state;
	assert_int_equal(kb_audit_health(&h, a), 0);
	assert_int_equal(h->count, 7);
	/* the fixture reuses one body: PMP-0001 repeats CHL-0001's symptom */
	x = find_health(h, "PMP-0001");
	assert_int_equal(x->findings, BIT(KB_AUDIT_DUPLICATE));
	assert_string_equal(x->detail, "same symptom as 'CHL-0001'");
	assert_int_equal(x->score, 100);
	assert_int_equal(x->age_days, 173);
	x = find_health(h, "CHL-0001");
	assert_int_equal(x->findings, BIT(KB_AUDIT_STALE));
	assert_int_equal(x->score, 90 - 5);   /* no reviewer, no model and site */
	x = find_health(h, "FAN-0001");
	assert_int_equal(x->findings, BIT(KB_AUDIT_OLD_DRAFT) | BIT(KB_AUDIT_BROKEN_LINK));
	assert_string_equal(x->detail, "links to missing case 'NOPE-1'");
	assert_int_equal(x->score, 10 + 20 + 5);
	x = find_health(h, "FAN-0002");
	assert_int_equal(x->findings, BIT(KB_AUDIT_UNKNOWN_STATUS) | BIT(KB_AUDIT_BAD_DATE) |
			 BIT(KB_AUDIT_DUPLICATE));
	assert_non_null(strstr(x->detail, "created '2099-01-01' is in the future"));
	assert_non_null(strstr(x->detail, "status 'valdated'"));
	assert_int_equal(h->rule_count[KB_AUDIT_STALE], 1);
	assert_int_equal(h->rule_count[KB_AUDIT_OLD_DRAFT], 1);
	assert_int_equal(h->rule_count[KB_AUDIT_NO_SYMPTOM], 0);
	assert_int_equal(h->rule_count[KB_AUDIT_NO_RESOLUTION], 0);
	assert_int_equal(h->rule_count[KB_AUDIT_DUPLICATE], 5);
	x = find_health(h, "PMP-0002");
	assert_string_equal(x->detail, "same title as 'PMP-0001'");
	kb_audit_health_free(h);
	close_fixture(a, s, dir);
}

static void test_risk_areas_and_bus_factor(void **state)
{
	kb_store *s;
	char *dir;
	kb_audit *a = open_fixture(&s, &dir);
	kb_audit_risk_report *r = NULL;

	(void)state;
	assert_int_equal(kb_audit_risk(&r, a, NULL), 0);
	assert_int_equal(r->count, 5);
	/* chiller: Dave (front-matter author), not Alice who committed it */
	assert_string_equal(r->areas[0].equipment, "chiller");
	assert_null(r->areas[0].failure_mode);
	assert_string_equal(r->areas[0].sole, "Dave Roe");
	assert_string_equal(r->areas[1].failure_mode, "surge");
	/* pump as a whole: Alice 2 (two spellings, one person), Carol 2, Bob 1 */
	assert_null(r->areas[2].failure_mode);
	assert_int_equal(r->areas[2].validated, 4);
	assert_null(r->areas[2].sole);
	assert_int_equal(r->areas[2].npeople, 3);
	assert_string_equal(r->areas[2].people[0].name, "Alice Wong");
	assert_int_equal(r->areas[2].people[0].cases, 2);
	assert_string_equal(r->areas[2].people[1].name, "Carol Diaz");
	assert_int_equal(r->areas[2].people[1].cases, 2);
	assert_string_equal(r->areas[2].people[2].name, "Bob Li");
	assert_int_equal(r->areas[2].bus_factor, 2);
	/* pump/overload: only Alice; Bob's validation is a review, not authorship */
	assert_string_equal(r->areas[3].failure_mode, "overload");
	assert_string_equal(r->areas[3].sole, "Alice Wong");
	assert_int_equal(r->areas[3].bus_factor, 1);
	/* pump/seal leak: Bob and Carol; Dave's front-matter edit does not count */
	assert_string_equal(r->areas[4].failure_mode, "seal leak");
	assert_int_equal(r->areas[4].npeople, 2);
	assert_int_equal(r->areas[4].bus_factor, 1);
	kb_audit_risk_free(r);
	close_fixture(a, s, dir);
}

static void test_risk_leaving(void **state)
{
	kb_store *s;
	char *dir;
	kb_audit *a = open_fixture(&s, &dir);
	kb_audit_risk_report *r = NULL;

	(void)state;
	assert_int_equal(kb_audit_risk(&r, a, "ALICE WONG"), 0);
	assert_string_equal(r->leaving, "Alice Wong");
	assert_int_equal(r->count, 1);
	assert_string_equal(r->areas[0].failure_mode, "overload");
	assert_int_equal(r->areas[0].leaving, KB_AUDIT_LEAVING_ONLY);
	kb_audit_risk_free(r);

	assert_int_equal(kb_audit_risk(&r, a, "carol@example.com"), 0);
	assert_int_equal(r->count, 1);
	assert_string_equal(r->areas[0].failure_mode, "seal leak");
	assert_int_equal(r->areas[0].leaving, KB_AUDIT_LEAVING_MAJORITY);
	kb_audit_risk_free(r);

	assert_int_equal(kb_audit_risk(&r, a, "Dave Roe"), 0);
	assert_int_equal(r->count, 2);   /* chiller and chiller/surge */
	kb_audit_risk_free(r);

	assert_int_equal(kb_audit_risk(&r, a, "Nobody"), KB_ENOTFOUND);
	assert_null(r);
	assert_string_equal(kb_error_last()->message, "no author matches 'Nobody'");
	close_fixture(a, s, dir);
}

static void assert_contrib(const kb_audit_contrib *c, const char *month, const char *person,
			   size_t created, size_t edited, size_t reviewed)
{
	assert_string_equal(c->month, month);
	assert_string_equal(c->person, person);
	assert_int_equal(c->created, created);
	assert_int_equal(c->edited, edited);
	assert_int_equal(c->reviewed, reviewed);
}

static void test_activity_per_month(void **state)
{
	kb_store *s;
	char *dir;
	kb_audit *a = open_fixture(&s, &dir);
	kb_audit_activity_report *act = NULL;

	(void)state;
	assert_int_equal(kb_audit_activity(&act, a), 0);
	assert_int_equal(act->ncontribs, 8);
	assert_contrib(&act->contribs[0], "2020-01", "Dave Roe", 1, 0, 0);
	assert_contrib(&act->contribs[1], "2024-01", "Alice Wong", 1, 0, 0);
	assert_contrib(&act->contribs[2], "2024-01", "Carol Diaz", 1, 0, 0);
	assert_contrib(&act->contribs[3], "2024-02", "Alice Wong", 1, 0, 0);
	assert_contrib(&act->contribs[4], "2024-02", "Bob Li", 1, 0, 1);
	assert_contrib(&act->contribs[5], "2024-03", "Bob Li", 1, 0, 0);
	assert_contrib(&act->contribs[6], "2024-03", "Carol Diaz", 1, 1, 0);
	assert_contrib(&act->contribs[7], "2024-04", "Bob Li", 0, 0, 1);
	assert_int_equal(act->nmonths, 5);
	assert_string_equal(act->months[2].month, "2024-02");
	assert_int_equal(act->months[2].active, 2);
	assert_int_equal(act->months[2].people, 4);
	assert_int_equal(act->nnewcases, 6);
	assert_string_equal(act->newcases[1].month, "2024-01");
	assert_string_equal(act->newcases[1].equipment, "FAN");
	assert_string_equal(act->newcases[2].equipment, "pump");
	assert_int_equal(act->newcases[3].created, 2);   /* 2024-02 pump */
	kb_audit_activity_free(act);
	close_fixture(a, s, dir);
}

/* The history cache: a second run walks nothing, one new commit is one
 * commit walked, and the figures are those of a full walk. */
static void test_history_cache(void **state)
{
	kb_store *s;
	char *dir;
	kb_audit *a = open_fixture(&s, &dir), *b = NULL;
	kb_audit_options o = KB_AUDIT_OPTIONS_INIT;
	kb_audit_risk_report *r = NULL;
	kb_buf path = KB_BUF_INIT;

	(void)state;
	o.now = NOW;
	assert_int_equal(kb_audit_commits_walked(a), 13);
	assert_int_equal(kb_audit_open(&b, s, &o), 0);
	assert_int_equal(kb_audit_commits_walked(b), 0);
	kb_audit_free(b);
	/* Carol rewrites PMP-0001's resolution: pump/overload is no longer Alice's alone */
	put_case(s, "2024-05-02T10:00:00+0000", &carol, "PMP-0001",
		 PUMP_FM "failure_mode: overload\nstatus: validated\n"
		 "reviewer: Bob Li <bob@example.com>\ncreated: 2024-01-10\nupdated: 2024-02-01\n",
		 "## Symptom\n\nMotor overload relay trips ten minutes after start, 12 A drawn.\n\n"
		 "## Resolution\n\n1. Replaced the bearing.\n2. Reset the relay.\n3. Megger test.\n");
	assert_int_equal(kb_audit_open(&b, s, &o), 0);
	assert_int_equal(kb_audit_commits_walked(b), 1);
	assert_int_equal(kb_audit_risk(&r, b, NULL), 0);
	assert_string_equal(r->areas[3].failure_mode, "overload");
	assert_null(r->areas[3].sole);
	assert_int_equal(r->areas[3].npeople, 2);
	kb_audit_risk_free(r);
	kb_audit_free(b);
	/* a damaged cache is ignored and rewritten */
	assert_int_equal(kb_store_cachedir(&path, s), 0);
	kb_buf_puts(&path, "audit-history");
	tu_write_str(path.ptr, "garbage\n");
	assert_int_equal(kb_audit_open(&b, s, &o), 0);
	assert_int_equal(kb_audit_commits_walked(b), 14);
	kb_audit_free(b);
	kb_buf_release(&path);
	close_fixture(a, s, dir);
}

/* Every audit's figures (and the load warnings) as one text. */
static char *fingerprint(kb_audit *a)
{
	static const char *const by[] = { "equipment", "tags" };
	kb_audit_health_report *h = NULL;
	kb_audit_coverage_report *c = NULL;
	kb_audit_risk_report *r = NULL;
	kb_audit_activity_report *act = NULL;
	const kb_diags *w = kb_audit_warnings(a);
	kb_buf b = KB_BUF_INIT;
	size_t i, j;

	for (i = 0; i < w->count; i++)
		kb_buf_printf(&b, "W %s:%d: %s\n", w->items[i].path ? w->items[i].path : "",
			      w->items[i].line, w->items[i].message);
	assert_int_equal(kb_audit_health(&h, a), 0);
	for (i = 0; i < h->count; i++)
		kb_buf_printf(&b, "H %s %s %s %x %d %d %s\n", h->cases[i].id, h->cases[i].path,
			      h->cases[i].status, h->cases[i].findings, h->cases[i].score,
			      h->cases[i].age_days, h->cases[i].detail);
	kb_audit_health_free(h);
	assert_int_equal(kb_audit_coverage(&c, a, by, 2), 0);
	for (i = 0; i < c->count; i++) {
		kb_buf_printf(&b, "C %s|%s %zu %d", c->cells[i].value[0], c->cells[i].value[1],
			      c->cells[i].total, c->cells[i].thin);
		for (j = 0; j <= KB_STATUS_OBSOLETE; j++)
			kb_buf_printf(&b, " %zu", c->cells[i].status[j]);
		kb_buf_putc(&b, '\n');
	}
	kb_audit_coverage_free(c);
	assert_int_equal(kb_audit_risk(&r, a, NULL), 0);
	for (i = 0; i < r->count; i++)
		kb_buf_printf(&b, "R %s %s %zu %zu %zu\n", r->areas[i].equipment,
			      r->areas[i].failure_mode ? r->areas[i].failure_mode : "-",
			      r->areas[i].validated, r->areas[i].bus_factor, r->areas[i].npeople);
	kb_audit_risk_free(r);
	assert_int_equal(kb_audit_activity(&act, a), 0);
	for (i = 0; i < act->ncontribs; i++)
		kb_buf_printf(&b, "A %s %s %zu %zu %zu\n", act->contribs[i].person,
			      act->contribs[i].month, act->contribs[i].created,
			      act->contribs[i].edited, act->contribs[i].reviewed);
	kb_audit_activity_free(act);
	return kb_buf_detach(&b);
}

/* Open the audit; its fingerprint, and the number of files parsed. */
static char *audit_fp(kb_store *s, size_t *parsed)
{
	kb_audit_options o = KB_AUDIT_OPTIONS_INIT;
	kb_audit *a = NULL;
	char *fp;

	o.now = NOW;
	assert_int_equal(kb_audit_open(&a, s, &o), 0);
	*parsed = kb_audit_cases_parsed(a);
	fp = fingerprint(a);
	kb_audit_free(a);
	return fp;
}

/*
 * The per-case summary cache: a warm run parses nothing and gives the same
 * figures as a cold one; an uncommitted edit is re-read; a corrupt, cut or
 * other-version cache is ignored and rewritten.
 */
static void test_case_cache(void **state)
{
	kb_store *s;
	char *dir, *cold, *fp, *text;
	kb_audit *a = open_fixture(&s, &dir);
	kb_buf path = KB_BUF_INIT, out = KB_BUF_INIT, file = KB_BUF_INIT;
	size_t all, parsed, len;

	(void)state;
	kb_audit_free(a);
	/* case files older than the cache: their stat data is not racy */
	assert_int_equal(tu_sh(&out, "find '%scases' -name '*.md' -exec touch -d 2024-01-01 {} +",
			       kb_store_workdir(s)), 0);
	cold = audit_fp(s, &all);
	assert_true(all >= 5);
	assert_non_null(strstr(cold, "W cases/"));     /* the fixture's load warnings */
	fp = audit_fp(s, &parsed);
	assert_int_equal(parsed, 0);
	assert_string_equal(fp, cold);
	free(fp);

	/* an uncommitted edit is seen: only that file is parsed again */
	kb_buf_printf(&file, "%scases/PMP-0001.md", kb_store_workdir(s));
	text = case_text("PMP-0001", "title: Pump trips\nstatus: bogus\nequipmnet: pump\n", "");
	tu_write_str(file.ptr, text);
	free(text);
	fp = audit_fp(s, &parsed);
	assert_int_equal(parsed, 1);
	assert_string_not_equal(fp, cold);
	assert_non_null(strstr(fp, "status 'bogus'"));
	assert_non_null(strstr(fp, "unknown field 'equipmnet'"));
	free(cold);
	cold = fp;

	/* the same figures as a run without any cache */
	assert_int_equal(kb_store_cachedir(&path, s), 0);
	kb_buf_puts(&path, "audit-cases");
	assert_int_equal(remove(path.ptr), 0);
	fp = audit_fp(s, &parsed);
	assert_int_equal(parsed, all);
	assert_string_equal(fp, cold);
	free(fp);

	/* another format version: rebuilt */
	text = tu_read_file(path.ptr, &len);
	assert_non_null(text);
	assert_int_equal(strncmp(text, "kb-audit-cases 3\t", 17), 0);
	text[15] = '0';
	tu_write_file(path.ptr, text, len);
	fp = audit_fp(s, &parsed);
	assert_int_equal(parsed, all);
	assert_string_equal(fp, cold);
	free(fp);

	/* cut in the middle of a record, then plain garbage: rebuilt */
	tu_write_file(path.ptr, text, len / 2);
	text[15] = '3';
	fp = audit_fp(s, &parsed);
	assert_int_equal(parsed, all);
	assert_string_equal(fp, cold);
	free(fp);
	tu_write_str(path.ptr, "garbage\n");
	fp = audit_fp(s, &parsed);
	assert_int_equal(parsed, all);
	assert_string_equal(fp, cold);
	free(fp);
	free(text);

	/* a large cache is not rewritten for one changed file: the file is
	 * read again on every run instead, with the same figures */
	{
		size_t saved = kb__audit_rewrite_bytes;
		char *before = tu_read_file(path.ptr, &len), *after, *one;

		kb__audit_rewrite_bytes = 1;
		/* the same text again, a new mtime */
		text = case_text("PMP-0001", "title: Pump trips\nstatus: bogus\nequipmnet: pump\n", "");
		tu_write_str(file.ptr, text);
		free(text);
		one = audit_fp(s, &parsed);
		assert_int_equal(parsed, 1);
		assert_string_equal(one, cold);
		after = tu_read_file(path.ptr, NULL);
		assert_string_equal(after, before);
		free(after);
		fp = audit_fp(s, &parsed);
		assert_int_equal(parsed, 1);
		assert_string_equal(fp, one);
		free(fp);
		kb__audit_rewrite_bytes = saved;   /* small again: rewritten once */
		fp = audit_fp(s, &parsed);
		assert_int_equal(parsed, 1);
		assert_string_equal(fp, one);
		free(fp);
		fp = audit_fp(s, &parsed);
		assert_int_equal(parsed, 0);
		free(fp);
		free(one);
		free(before);
	}

	/* a damaged record body (known path, bad line) is parsed again */
	text = tu_read_file(path.ptr, &len);
	assert_non_null(text);
	fp = strstr(text, "\nC\t");
	assert_non_null(fp);
	fp[1] = 'Q';
	tu_write_file(path.ptr, text, len);
	free(text);
	fp = audit_fp(s, &parsed);
	assert_int_equal(parsed, 1);
	assert_string_equal(fp, cold);
	free(fp);

	free(cold);
	kb_buf_release(&path);
	kb_buf_release(&out);
	kb_buf_release(&file);
	close_fixture(NULL, s, dir);
}

/* The cache file's bytes. */
static char *cases_cache(kb_store *s)
{
	kb_buf path = KB_BUF_INIT;
	char *text;

	assert_int_equal(kb_store_cachedir(&path, s), 0);
	kb_buf_puts(&path, "audit-cases");
	text = tu_read_file(path.ptr, NULL);
	assert_non_null(text);
	kb_buf_release(&path);
	return text;
}

static void remove_cases_cache(kb_store *s)
{
	kb_buf path = KB_BUF_INIT;

	assert_int_equal(kb_store_cachedir(&path, s), 0);
	kb_buf_puts(&path, "audit-cases");
	remove(path.ptr);
	kb_buf_release(&path);
}

/*
 * Loading on two threads (forced for the small fixture) gives what one
 * thread gives: the same figures and warnings in the same order, the same
 * cache file, cold, warm, and with files added and removed in either half.
 */
static void test_case_cache_split(void **state)
{
	kb_store *s;
	char *dir, *one, *two, *c1, *c2, *text;
	kb_audit *a = open_fixture(&s, &dir);
	kb_buf out = KB_BUF_INIT, file = KB_BUF_INIT;
	size_t parsed, all, saved = kb__audit_split_files, i;

	(void)state;
	kb_audit_free(a);
	assert_int_equal(tu_sh(&out, "find '%scases' -name '*.md' -exec touch -d 2024-01-01 {} +",
			       kb_store_workdir(s)), 0);
	for (i = 0; i < 3; i++) {
		if (i == 1) {
			/* a file removed from the first half, one added at the end */
			kb_buf_printf(&file, "%scases/AHU-0001.md", kb_store_workdir(s));
			remove(file.ptr);
			kb_buf_clear(&file);
			kb_buf_printf(&file, "%scases/ZZZ-0001.md", kb_store_workdir(s));
			text = case_text("ZZZ-0001", "title: Zone valve sticks open\nstatus: draft\n",
					 "");
			tu_write_str(file.ptr, text);
			free(text);
			kb_buf_clear(&file);
			/* symlinks (to a folder of cases, to a case) are not followed */
			assert_int_equal(tu_sh(&out, "cd '%s' && mkdir -p ../outside && "
					       "cp cases/FAN-0001.md ../outside/OUT-0001.md && "
					       "ln -s ../../outside cases/LNK && "
					       "ln -s FAN-0001.md cases/SYM-0001.md",
					       kb_store_workdir(s)), 0);
		} else if (i == 2) {
			/* one added at the start, one edited in the second half */
			kb_buf_printf(&file, "%scases/AAA-0001.md", kb_store_workdir(s));
			text = case_text("AAA-0001", "title: Air dryer alarm\nstatus: validated\n",
					 "");
			tu_write_str(file.ptr, text);
			free(text);
			kb_buf_clear(&file);
			kb_buf_printf(&file, "%scases/PMP-0001.md", kb_store_workdir(s));
			text = case_text("PMP-0001", "title: Pump trips\nstatus: bogus\n", "");
			tu_write_str(file.ptr, text);
			free(text);
			kb_buf_clear(&file);
		}
		/* cold on one thread, then on two */
		kb__audit_split_files = (size_t)-1;
		remove_cases_cache(s);
		one = audit_fp(s, &all);
		c1 = cases_cache(s);
		kb__audit_split_files = 2;
		remove_cases_cache(s);
		two = audit_fp(s, &parsed);
		assert_int_equal(parsed, all);
		assert_string_equal(two, one);
		assert_null(strstr(two, "OUT-0001"));
		assert_null(strstr(two, "SYM-0001"));
		c2 = cases_cache(s);
		assert_string_equal(c2, c1);
		free(two);
		free(c2);
		/* warm on two threads: nothing parsed, same again */
		two = audit_fp(s, &parsed);
		assert_int_equal(parsed, 0);
		assert_string_equal(two, one);
		free(two);
		free(one);
		free(c1);
	}
	kb__audit_split_files = saved;
	kb_buf_release(&out);
	kb_buf_release(&file);
	close_fixture(NULL, s, dir);
}

/* Move or rename a case file in one commit (text NULL: unchanged). */
static void rename_at(kb_store *s, const char *date, const kb_author *who, const char *from,
		      const char *to, const char *text)
{
	kb_txn *t = NULL;
	kb_buf full = KB_BUF_INIT;
	char *old;

	kb_buf_printf(&full, "%s%s", kb_store_workdir(s), from);
	old = tu_read_file(full.ptr, NULL);
	kb_buf_release(&full);
	assert_non_null(old);

	setenv("GIT_AUTHOR_DATE", date, 1);
	setenv("GIT_COMMITTER_DATE", date, 1);
	assert_int_equal(kb_txn_begin(&t, s), 0);
	assert_int_equal(kb_txn_remove(t, from), 0);
	text = text ? text : old;
	assert_int_equal(kb_txn_put(t, to, text, strlen(text)), 0);
	assert_int_equal(kb_txn_commit(t, who, "rename", NULL), 0);
	kb_txn_free(t);
	free(old);
	unsetenv("GIT_AUTHOR_DATE");
	unsetenv("GIT_COMMITTER_DATE");
}

/* The authors the risk audit finds for the one validated case of an
 * equipment, as "Name,Name" in order. */
static void assert_area_people(kb_audit *a, const char *equipment, const char *want)
{
	kb_audit_risk_report *r = NULL;
	kb_buf got = KB_BUF_INIT;
	size_t i, j;

	assert_int_equal(kb_audit_risk(&r, a, NULL), 0);
	for (i = 0; i < r->count; i++) {
		if (strcmp(r->areas[i].equipment, equipment) || r->areas[i].failure_mode)
			continue;
		for (j = 0; j < r->areas[i].npeople; j++)
			kb_buf_printf(&got, "%s%s", j ? "," : "", r->areas[i].people[j].name);
	}
	assert_string_equal(got.ptr ? got.ptr : "", want);
	kb_buf_release(&got);
	kb_audit_risk_free(r);
}

/*
 * Renames: attribution follows a case moved to another folder (same
 * blob), renamed with a new id (same sections), and renamed with its
 * sections edited (same id); the one who only renames is no author; a new
 * case later written at a freed path is not the old case's.  The same
 * figures from an incremental walk across the renames and from a full one.
 */
static void test_renames(void **state)
{
	char *dir = tu_mkdtemp("rename"), *text;
	kb_store *s = NULL;
	kb_audit *a = NULL;
	kb_audit_options o = KB_AUDIT_OPTIONS_INIT;
	kb_audit_activity_report *act = NULL;
	kb_buf path = KB_BUF_INIT;
	int pass;

	(void)state;
	o.now = NOW;
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	put_case(s, "2024-01-10T10:00:00+0000", &alice, "PMP-0001",
		 PUMP_FM "failure_mode: overload\nstatus: validated\n", body_full);
	put_case(s, "2024-01-11T10:00:00+0000", &alice, "FAN-0001",
		 "title: Fan belt slips\nequipment: fan\nstatus: validated\n", body_full);
	text = case_text("PMP-0001", PUMP_FM "failure_mode: overload\nstatus: validated\n",
			 "## Symptom\n\nRelay trips after start.\n\n## Resolution\n\nNew bearing.\n");
	commit_at(s, "2024-02-01T10:00:00+0000", &bob, "cases/PMP-0001.md", text);
	free(text);
	assert_int_equal(kb_audit_open(&a, s, &o), 0);   /* caches the history so far */
	assert_area_people(a, "pump", "Alice Wong,Bob Li");
	kb_audit_free(a);

	/* Carol moves it into a folder, Dave renames it to a new id */
	rename_at(s, "2024-03-01T10:00:00+0000", &carol, "cases/PMP-0001.md",
		  "cases/pump/PMP-0001.md", NULL);
	text = case_text("PMP-0101", PUMP_FM "failure_mode: overload\nstatus: validated\n",
			 "## Symptom\n\nRelay trips after start.\n\n## Resolution\n\nNew bearing.\n");
	rename_at(s, "2024-03-02T10:00:00+0000", &dave, "cases/pump/PMP-0001.md",
		  "cases/PMP-0101.md", text);
	free(text);
	/* Bob moves the fan case and edits its sections in the same commit */
	text = case_text("FAN-0001", "title: Fan belt slips\nequipment: fan\nstatus: validated\n",
			 "## Symptom\n\nBelt squeals.\n");
	rename_at(s, "2024-03-03T10:00:00+0000", &bob, "cases/FAN-0001.md",
		  "cases/fan/FAN-0001.md", text);
	free(text);
	/* Carol writes a new draft at the freed path */
	put_case(s, "2024-04-01T10:00:00+0000", &carol, "PMP-0001",
		 PUMP_FM "failure_mode: seal leak\nstatus: draft\n", body_full);

	for (pass = 0; pass < 2; pass++) {
		assert_int_equal(kb_audit_open(&a, s, &o), 0);
		assert_int_equal(kb_audit_commits_walked(a), pass ? 8 : 4);
		assert_int_equal(kb_audit_case_count(a), 3);
		assert_area_people(a, "pump", "Alice Wong,Bob Li");
		assert_area_people(a, "fan", "Alice Wong,Bob Li");
		assert_int_equal(kb_audit_activity(&act, a), 0);
		assert_int_equal(act->ncontribs, 4);
		assert_contrib(&act->contribs[0], "2024-01", "Alice Wong", 2, 0, 0);
		assert_contrib(&act->contribs[1], "2024-02", "Bob Li", 0, 1, 0);
		assert_contrib(&act->contribs[2], "2024-03", "Bob Li", 0, 1, 0);
		assert_contrib(&act->contribs[3], "2024-04", "Carol Diaz", 1, 0, 0);
		kb_audit_activity_free(act);
		kb_audit_free(a);
		/* the second pass walks everything again */
		assert_int_equal(kb_store_cachedir(&path, s), 0);
		kb_buf_puts(&path, "audit-history");
		remove(path.ptr);
	}
	kb_buf_release(&path);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

/*
 * A history long enough for the walk to be split between two threads (each
 * diffs its own contiguous part of the commits): the figures of one cold
 * walk equal those of walking the same commits one run at a time (a run
 * that walks one commit never splits), across adds, section and status
 * edits, renames with and without edits, and deletes.
 */
static void test_split_walk(void **state)
{
	static const kb_author *const who[] = { &alice, &alice2, &bob, &carol, &dave };
	static const char *const status[] = { "draft", "validated", "draft", "archived" };
	char *dir = tu_mkdtemp("split"), *fp, *step = NULL, *text;
	kb_store *s = NULL;
	kb_audit *a = NULL;
	kb_audit_options o = KB_AUDIT_OPTIONS_INIT;
	kb_buf path = KB_BUF_INIT, date = KB_BUF_INIT, fm = KB_BUF_INIT, body = KB_BUF_INIT;
	kb_buf rel = KB_BUF_INIT, to = KB_BUF_INIT;
	int i, k, moved[8] = { 0 };
	size_t parsed;

	(void)state;
	o.now = NOW;
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	for (i = 0; i < 160; i++) {
		k = (i * 7) % 8;
		kb_buf_clear(&date);
		kb_buf_printf(&date, "2024-%02d-%02dT10:%02d:00+0000", 1 + i / 28, 1 + i % 28, i % 60);
		kb_buf_clear(&fm);
		kb_buf_printf(&fm, "title: Pump case %d\nequipment: pump\nfailure_mode: mode %d\n"
			      "status: %s\n", k, k % 3, status[(i / 8) % 4]);
		kb_buf_clear(&body);
		kb_buf_printf(&body, "## Symptom\n\nTrips %d times.\n\n## Resolution\n\nFix %d.\n",
			      (i / 16) % 3, k);
		kb_buf_clear(&rel);
		kb_buf_printf(&rel, "cases/%sPMP-%04d.md", moved[k] ? "moved/" : "", k);
		kb_buf_clear(&to);
		kb_buf_printf(&to, "PMP-%04d", k);
		text = case_text(to.ptr, fm.ptr, body.ptr);
		if (i % 37 == 36 && i > 8) {   /* a rename, every other one with an edit */
			kb_buf_clear(&to);
			kb_buf_printf(&to, "cases/%sPMP-%04d.md", moved[k] ? "" : "moved/", k);
			rename_at(s, date.ptr, who[i % 5], rel.ptr, to.ptr, (i / 37) % 2 ? text : NULL);
			moved[k] = !moved[k];
		} else if (i % 53 == 52) {     /* a delete */
			kb_txn *t = NULL;

			setenv("GIT_AUTHOR_DATE", date.ptr, 1);
			setenv("GIT_COMMITTER_DATE", date.ptr, 1);
			assert_int_equal(kb_txn_begin(&t, s), 0);
			assert_int_equal(kb_txn_remove(t, rel.ptr), 0);
			assert_int_equal(kb_txn_commit(t, who[i % 5], "delete", NULL), 0);
			kb_txn_free(t);
			unsetenv("GIT_AUTHOR_DATE");
			unsetenv("GIT_COMMITTER_DATE");
			moved[k] = 0;
		} else {
			commit_at(s, date.ptr, who[i % 5], rel.ptr, text);
		}
		free(text);
		{   /* one commit walked per run: never split */
			free(step);
			step = audit_fp(s, &parsed);
		}
	}
	assert_int_equal(kb_store_cachedir(&path, s), 0);
	kb_buf_puts(&path, "audit-history");
	remove(path.ptr);
	assert_int_equal(kb_audit_open(&a, s, &o), 0);
	assert_true(kb_audit_commits_walked(a) >= 160);
	fp = fingerprint(a);
	assert_string_equal(fp, step);
	assert_non_null(strstr(fp, "A "));
	free(fp);
	kb_audit_free(a);
	free(step);
	kb_buf_release(&path);
	kb_buf_release(&date);
	kb_buf_release(&fm);
	kb_buf_release(&body);
	kb_buf_release(&rel);
	kb_buf_release(&to);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_empty_kb(void **state)
{
	char *dir = tu_mkdtemp("empty");
	kb_store *s = NULL;
	kb_audit *a = NULL;
	kb_audit_coverage_report *c = NULL;
	kb_audit_health_report *h = NULL;
	kb_audit_risk_report *r = NULL;
	kb_audit_activity_report *act = NULL;

	(void)state;
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	assert_int_equal(kb_audit_open(&a, s, NULL), 0);
	assert_int_equal(kb_audit_case_count(a), 0);
	assert_int_equal(kb_audit_coverage(&c, a, NULL, 0), 0);
	assert_int_equal(c->count, 0);
	assert_int_equal(kb_audit_health(&h, a), 0);
	assert_int_equal(h->count, 0);
	assert_int_equal(kb_audit_risk(&r, a, NULL), 0);
	assert_int_equal(r->count, 0);
	assert_int_equal(kb_audit_activity(&act, a), 0);
	assert_int_equal(act->ncontribs, 0);
	kb_audit_coverage_free(c);
	kb_audit_health_free(h);
	kb_audit_risk_free(r);
	kb_audit_activity_free(act);
	kb_audit_free(a);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_bad_arguments(void **state)
{
	kb_store *s;
	char *dir;
	kb_audit *a = open_fixture(&s, &dir), *b = NULL;
	kb_audit_coverage_report *c = NULL;
	kb_audit_options o = KB_AUDIT_OPTIONS_INIT;
	const char *three[] = { "a", "b", "c" }, *blank[] = { "" };

	(void)state;
	assert_int_equal(kb_audit_coverage(&c, a, three, 3), KB_EINPUT);
	assert_int_equal(kb_audit_coverage(&c, a, blank, 1), KB_EINPUT);
	assert_null(c);
	o.version = 99;
	assert_int_equal(kb_audit_open(&b, s, &o), KB_EINPUT);
	assert_null(b);
	close_fixture(a, s, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_warnings),
		cmocka_unit_test(test_coverage_cells),
		cmocka_unit_test(test_health_rules_and_scores),
		cmocka_unit_test(test_risk_areas_and_bus_factor),
		cmocka_unit_test(test_risk_leaving),
		cmocka_unit_test(test_activity_per_month),
		cmocka_unit_test(test_history_cache),
		cmocka_unit_test(test_case_cache),
		cmocka_unit_test(test_case_cache_split),
		cmocka_unit_test(test_renames),
		cmocka_unit_test(test_split_walk),
		cmocka_unit_test(test_empty_kb),
		cmocka_unit_test(test_bad_arguments),
	};
	return tu_run_isolated(tests);
}
