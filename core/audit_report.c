/*
 * audit_report.c - the four audits of kb/audit.h computed from a loaded
 * kb_audit: coverage cells, health findings and quality scores, risk areas
 * with bus factors, and activity per person and month.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit_internal.h"

/* Cap on value pairs considered for empty coverage cells. */
#define MAX_PAIRS 100000

/* qsort, which must not be given a NULL array even for zero items. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* ---- coverage --------------------------------------------------------- */

typedef struct {
	kb__smap map;        /* folded value -> index */
	const char **shown;  /* first spelling per index */
	size_t n, alloc;
} value_set;

static size_t value_index(value_set *v, const char *value)
{
	char *key = kb__audit_fold(value);
	size_t idx;

	if (!kb__smap_get(&v->map, key, &idx)) {
		if (v->n == v->alloc) {
			v->alloc = v->alloc ? 2 * v->alloc : 32;
			v->shown = kb_xrealloc(v->shown, v->alloc * sizeof(*v->shown));
		}
		v->shown[v->n] = nz(value);
		idx = v->n++;
		kb__smap_put(&v->map, key, idx);
	}
	free(key);
	return idx;
}

static kb_audit_cell *new_cell(kb_audit_coverage_report *c, size_t *alloc)
{
	if (c->count == *alloc) {
		*alloc = *alloc ? 2 * *alloc : 64;
		c->cells = kb_xrealloc(c->cells, *alloc * sizeof(*c->cells));
	}
	memset(&c->cells[c->count], 0, sizeof(c->cells[0]));
	return &c->cells[c->count++];
}

static int cmp_cell(const void *x, const void *y)
{
	const kb_audit_cell *a = x, *b = y;
	int r = strcasecmp(a->value[0], b->value[0]);

	return r ? r : strcasecmp(nz(a->value[1]), nz(b->value[1]));
}

/* Every pair of seen non-empty values without a case becomes an empty cell. */
static void add_empty_cells(kb_audit_coverage_report *c, size_t *alloc, value_set *v, kb__smap *seen)
{
	kb_buf key = KB_BUF_INIT;
	kb_audit_cell *cell;
	size_t i, j, dummy;

	if (v[0].n * v[1].n > MAX_PAIRS)
		return;
	for (i = 0; i < v[0].n; i++) {
		for (j = 0; j < v[1].n; j++) {
			kb_buf_clear(&key);
			kb_buf_printf(&key, "%zu:%zu", i, j);
			if (!*v[0].shown[i] || !*v[1].shown[j] || kb__smap_get(seen, key.ptr, &dummy))
				continue;
			cell = new_cell(c, alloc);
			cell->value[0] = v[0].shown[i];
			cell->value[1] = v[1].shown[j];
			cell->thin = 1;
		}
	}
	kb_buf_release(&key);
}

int kb_audit_coverage(kb_audit_coverage_report **out, kb_audit *a, const char *const *fields,
		      size_t nfields)
{
	static const char *const dflt[] = { "equipment", "failure_mode" };
	value_set v[2];
	kb__smap seen = { 0 };
	kb_buf key = KB_BUF_INIT;
	kb_audit_coverage_report *c;
	kb_audit_cell *cell;
	size_t i, f, idx[2] = { 0, 0 }, ci, alloc = 0;

	*out = NULL;
	if (!fields || !nfields) {
		fields = dflt;
		nfields = 2;
	}
	if (nfields > 2)
		return kb_error_set(KB_EINPUT, NULL, 0, "at most two fields, not %zu", nfields);
	for (f = 0; f < nfields; f++)
		if (!fields[f] || !*fields[f])
			return kb_error_set(KB_EINPUT, NULL, 0, "empty field name");
	memset(v, 0, sizeof(v));
	c = kb_xcalloc(1, sizeof(*c));
	c->nfields = nfields;
	c->thin = a->opts.thin;
	for (f = 0; f < nfields; f++)
		c->field[f] = fields[f];
	for (i = 0; i < a->ncases; i++) {
		kb_buf_clear(&key);
		for (f = 0; f < nfields; f++) {
			idx[f] = value_index(&v[f], kb__csum_get(&a->cases[i].s, fields[f]));
			kb_buf_printf(&key, "%zu:", idx[f]);
		}
		kb_buf_truncate(&key, key.len - 1);
		if (!kb__smap_get(&seen, key.ptr, &ci)) {
			ci = c->count;
			cell = new_cell(c, &alloc);
			for (f = 0; f < nfields; f++)
				cell->value[f] = v[f].shown[idx[f]];
			kb__smap_put(&seen, key.ptr, ci);
		}
		c->cells[ci].status[a->cases[i].s.status]++;
		c->cells[ci].total++;
	}
	c->nonempty = c->count;
	for (i = 0; i < c->count; i++)
		c->cells[i].thin = c->cells[i].status[KB_STATUS_VALIDATED] < c->thin;
	sort(c->cells, c->count, sizeof(*c->cells), cmp_cell);
	if (nfields == 2)
		add_empty_cells(c, &alloc, v, &seen);
	if (c->count > c->nonempty)
		sort(c->cells + c->nonempty, c->count - c->nonempty, sizeof(*c->cells), cmp_cell);
	for (f = 0; f < 2; f++) {
		kb__smap_release(&v[f].map);
		free(v[f].shown);
	}
	kb__smap_release(&seen);
	kb_buf_release(&key);
	*out = c;
	return 0;
}

void kb_audit_coverage_free(kb_audit_coverage_report *c)
{
	if (!c)
		return;
	free(c->cells);
	free(c);
}

/* ---- health ----------------------------------------------------------- */

const char *kb_audit_rule_name(kb_audit_rule r)
{
	static const char *const names[] = { "no-symptom", "no-resolution", "old-draft", "stale",
					     "broken-link", "unknown-status", "bad-date",
					     "duplicate" };

	return (unsigned)r < KB_AUDIT_RULE__COUNT ? names[r] : "unknown";
}

/* The start of the day `months` months before `now` (UTC). */
static int filled(const char *s)
{
	return s && *s;
}

/*
 * Quality score, after the KCS Article Quality Index (docs/audit.md):
 * title present and specific 10, symptom in the writer's words 20 (10 when
 * shorter than 40 bytes), environment 10, cause 15, resolution steps 20
 * (10 for a single line), metadata complete 10 (equipment, model, site,
 * failure_mode: 2.5 each), reviewed 10, links valid 5.
 */
static int quality(const kb__csum *c, int links_ok)
{
	static const char *const meta[] = { "equipment", "model", "site", "failure_mode" };
	const char *title = KB__SUM_TITLE(c), *eq = kb__csum_get(c, "equipment");
	int score = 0, m = 0;
	size_t i;

	if (strlen(title) >= 10 && (!eq || strcasecmp(title, eq)))
		score += 10;
	if (c->flags & KB__SUM_SYMPTOM)
		score += c->flags & KB__SUM_SYMPTOM_LONG ? 20 : 10;
	score += c->flags & KB__SUM_ENVIRONMENT ? 10 : 0;
	score += c->flags & KB__SUM_CAUSE ? 15 : 0;
	if (c->flags & KB__SUM_RESOLUTION)
		score += c->flags & KB__SUM_RESOLUTION_STEPS ? 20 : 10;
	for (i = 0; i < 4; i++)
		m += filled(kb__csum_get(c, meta[i]));
	score += m * 10 / 4;
	score += filled(kb__csum_get(c, "reviewer")) ? 10 : 0;
	score += links_ok ? 5 : 0;
	return score;
}

static void note(kb_buf *detail, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append one explanation to a case's detail text. */
static void note(kb_buf *detail, const char *fmt, ...)
{
	va_list ap;

	if (detail->len)
		kb_buf_puts(detail, "; ");
	va_start(ap, fmt);
	kb_buf_vprintf(detail, fmt, ap);
	va_end(ap);
}

/* Check `key` as a date: 1 with *t set when valid and not in the future. */
static int check_date(const kb__csum *c, const char *key, int64_t now, int64_t *t, unsigned *f,
		      kb_buf *detail)
{
	const char *v = kb__csum_get(c, key);

	if (!v)
		return 0;
	if (kb__audit_date(v, t) == 0 && *t <= now)
		return 1;
	if (kb__audit_date(v, t) < 0)
		note(detail, "%s '%s' is not a date (YYYY-MM-DD)", key, v);
	else
		note(detail, "%s '%s' is in the future", key, v);
	*f |= 1u << KB_AUDIT_BAD_DATE;
	return 0;
}

static int broken_links(kb_audit *a, const kb__csum *c, kb_buf *detail)
{
	const char *const *items = KB__SUM_LINKS(c);
	size_t i, n = c->nlinks, dummy;
	int broken = 0;

	for (i = 0; i < n; i++) {
		if (!kb__smap_get(&a->by_id, items[i], &dummy)) {
			note(detail, "links to missing case '%s'", items[i]);
			broken = 1;
		}
	}
	return broken;
}

static void health_one(kb_audit *a, const kb__acase *k, kb_audit_case_health *h, char **detail,
		       int64_t stale_before)
{
	const kb__csum *c = &k->s;
	kb_status st = (kb_status)c->status;
	kb_buf d = KB_BUF_INIT;
	int64_t now = a->opts.now, tc = 0, tu = 0, ref;
	int has_u, known;
	unsigned f = 0;

	h->id = KB__SUM_ID(c);
	h->path = k->path;
	h->status = nz(kb__csum_get(c, "status"));
	if (!(c->flags & KB__SUM_SYMPTOM))
		f |= 1u << KB_AUDIT_NO_SYMPTOM;
	if (st == KB_STATUS_VALIDATED && !(c->flags & KB__SUM_RESOLUTION))
		f |= 1u << KB_AUDIT_NO_RESOLUTION;
	if (st == KB_STATUS_UNKNOWN) {
		f |= 1u << KB_AUDIT_UNKNOWN_STATUS;
		if (*h->status)
			note(&d, "status '%s' is not draft, validated, archived or obsolete",
			     h->status);
		else
			note(&d, "no status");
	}
	check_date(c, "created", now, &tc, &f, &d);
	has_u = check_date(c, "updated", now, &tu, &f, &d);
	ref = kb__audit_created(a, k, &known);
	h->age_days = known && ref <= now ? (int)((now - ref) / 86400) : -1;
	if (st == KB_STATUS_DRAFT && h->age_days > a->opts.draft_days)
		f |= 1u << KB_AUDIT_OLD_DRAFT;
	ref = has_u ? tu : ref;
	if (st == KB_STATUS_VALIDATED && (has_u || known) &&
	    ref < stale_before)
		f |= 1u << KB_AUDIT_STALE;
	if (broken_links(a, c, &d))
		f |= 1u << KB_AUDIT_BROKEN_LINK;
	h->findings = f;
	h->score = quality(c, !(f & (1u << KB_AUDIT_BROKEN_LINK)));
	/* most cases have nothing to explain: no allocation for them */
	*detail = d.len ? kb_buf_detach(&d) : NULL;
	h->detail = *detail ? *detail : "";
}

typedef struct {
	kb_audit_health_report pub;
	char **details;
} health_priv;

/*
 * Likely duplicates: cases whose folded title, or folded symptom text, is
 * the same as an earlier case's (path order).  Exact after folding, so it
 * is linear; near-duplicates are left to `kb similar`.
 */
static void find_duplicates(kb_audit *a, kb_audit_case_health *cases, char **details)
{
	static const char *const what[] = { "title", "symptom" };
	kb__smap seen[2] = { { 0 }, { 0 } };
	kb_buf d = KB_BUF_INIT;
	size_t i, j, first;
	const char *key;

	seen[0].borrow = seen[1].borrow = 1;   /* the keys live in the audit */
	for (i = 0; i < a->ncases; i++) {
		for (j = 0; j < 2; j++) {
			key = j ? KB__SUM_SYMKEY(&a->cases[i].s) : KB__SUM_TITLEKEY(&a->cases[i].s);
			if (!*key)
				continue;
			if (!kb__smap_get(&seen[j], key, &first)) {
				kb__smap_put(&seen[j], key, i);
			} else if (!(cases[i].findings & (1u << KB_AUDIT_DUPLICATE))) {
				cases[i].findings |= 1u << KB_AUDIT_DUPLICATE;
				kb_buf_set(&d, cases[i].detail, strlen(cases[i].detail));
				note(&d, "same %s as '%s'", what[j], KB__SUM_ID(&a->cases[first].s));
				free(details[i]);
				details[i] = kb_buf_detach(&d);
				cases[i].detail = details[i];
			}
		}
	}
	kb__smap_release(&seen[0]);
	kb__smap_release(&seen[1]);
}

int kb_audit_health(kb_audit_health_report **out, kb_audit *a)
{
	health_priv *p = kb_xcalloc(1, sizeof(*p));
	kb_audit_health_report *h = &p->pub;
	double sum = 0;
	size_t i, r;

	h->cases = kb_xcalloc(a->ncases + 1, sizeof(*h->cases));
	p->details = kb_xcalloc(a->ncases + 1, sizeof(*p->details));
	h->count = a->ncases;
	int64_t stale_before = kb__audit_months_before(a->opts.now, a->opts.stale_months);

	for (i = 0; i < a->ncases; i++)
		health_one(a, &a->cases[i], &h->cases[i], &p->details[i], stale_before);
	find_duplicates(a, h->cases, p->details);
	for (i = 0; i < a->ncases; i++) {
		for (r = 0; r < KB_AUDIT_RULE__COUNT; r++)
			h->rule_count[r] += (h->cases[i].findings >> r) & 1u;
		sum += h->cases[i].score;
	}
	h->mean_score = a->ncases ? sum / (double)a->ncases : 0;
	*out = h;
	return 0;
}

void kb_audit_health_free(kb_audit_health_report *h)
{
	health_priv *p = (health_priv *)h;
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->count; i++)
		free(p->details[i]);
	free(p->details);
	free(h->cases);
	free(p);
}

/* ---- risk ------------------------------------------------------------- */

typedef struct {
	kb_audit_area pub;
	size_t *cases;       /* indices of the area's validated cases */
	size_t ncases, acases;
} area_priv;

typedef struct {
	area_priv *areas;
	size_t n, alloc;
	kb__smap map;
} area_set;

static area_priv *area_for(area_set *s, const char *eq, const char *fm)
{
	char *k1 = kb__audit_fold(eq), *k2 = fm ? kb__audit_fold(fm) : NULL;
	kb_buf key = KB_BUF_INIT;
	size_t idx;

	kb_buf_printf(&key, "%s\x1f%s%s", k1, fm ? "1" : "0", k2 ? k2 : "");
	if (!kb__smap_get(&s->map, key.ptr, &idx)) {
		if (s->n == s->alloc) {
			s->alloc = s->alloc ? 2 * s->alloc : 32;
			s->areas = kb_xrealloc(s->areas, s->alloc * sizeof(*s->areas));
		}
		idx = s->n++;
		memset(&s->areas[idx], 0, sizeof(s->areas[idx]));
		s->areas[idx].pub.equipment = eq;
		s->areas[idx].pub.failure_mode = fm;
		kb__smap_put(&s->map, key.ptr, idx);
	}
	free(k1);
	free(k2);
	kb_buf_release(&key);
	return &s->areas[idx];
}

static void area_add(area_priv *ar, size_t ci)
{
	if (ar->ncases == ar->acases) {
		ar->acases = ar->acases ? 2 * ar->acases : 8;
		ar->cases = kb_xrealloc(ar->cases, ar->acases * sizeof(*ar->cases));
	}
	ar->cases[ar->ncases++] = ci;
	ar->pub.validated++;
}

static int cmp_share(const void *x, const void *y)
{
	const kb_audit_share *a = x, *b = y;

	if (a->cases != b->cases)
		return a->cases < b->cases ? 1 : -1;
	return strcmp(a->name, b->name);
}

/* People of an area with their case counts, most first. */
static void area_people(kb_audit *a, area_priv *ar, size_t *count)
{
	kb_audit_area *p = &ar->pub;
	size_t i, j;

	memset(count, 0, a->npeople * sizeof(*count));
	for (i = 0; i < ar->ncases; i++)
		for (j = 0; j < a->cases[ar->cases[i]].nwho; j++)
			count[a->cases[ar->cases[i]].who[j]]++;
	p->people = kb_xcalloc(a->npeople + 1, sizeof(*p->people));
	for (i = 0; i < a->npeople; i++) {
		if (count[i]) {
			p->people[p->npeople].name = a->people[i].name;
			p->people[p->npeople++].cases = count[i];
		}
	}
	sort(p->people, p->npeople, sizeof(*p->people), cmp_share);
	p->sole = p->npeople == 1 ? p->people[0].name : NULL;
}

/* Greedy cover: repeatedly take the person who authored most of the cases
 * not yet covered until more than half are covered. */
static size_t bus_factor(kb_audit *a, area_priv *ar, size_t *count)
{
	unsigned char *covered = kb_xcalloc(ar->ncases + 1, 1);
	size_t got = 0, people = 0, i, j, best;
	const kb__acase *k;

	while (2 * got <= ar->ncases) {
		memset(count, 0, a->npeople * sizeof(*count));
		for (i = 0; i < ar->ncases; i++)
			for (j = 0; !covered[i] && j < a->cases[ar->cases[i]].nwho; j++)
				count[a->cases[ar->cases[i]].who[j]]++;
		for (best = 0, i = 1; i < a->npeople; i++)
			best = count[i] > count[best] ? i : best;
		if (!a->npeople || !count[best])
			break;
		for (i = 0; i < ar->ncases; i++) {
			k = &a->cases[ar->cases[i]];
			for (j = 0; !covered[i] && j < k->nwho; j++)
				if (k->who[j] == best)
					covered[i] = 1, got++;
		}
		people++;
	}
	free(covered);
	return people;
}

static int cmp_area(const void *x, const void *y)
{
	const area_priv *a = x, *b = y;
	int r = strcasecmp(a->pub.equipment, b->pub.equipment);

	if (r)
		return r;
	if (!a->pub.failure_mode || !b->pub.failure_mode)
		return !!a->pub.failure_mode - !!b->pub.failure_mode;
	return strcasecmp(a->pub.failure_mode, b->pub.failure_mode);
}

/* Person matching `name` by name or email, ignoring case; -1 when none. */
static long find_person(kb_audit *a, const char *name)
{
	char *key = kb__audit_fold(name);
	long found = -1;
	size_t i, idx;
	char *folded;

	if (kb__smap_get(&a->by_person, key, &idx))
		found = (long)idx;
	for (i = 0; found < 0 && i < a->npeople; i++) {
		folded = kb__audit_fold(a->people[i].name);
		if (!strcmp(key, folded) || (*key && !strcmp(key, a->people[i].email)))
			found = (long)i;
		free(folded);
	}
	free(key);
	return found;
}

static kb_audit_leaving leaving_role(const kb_audit_area *ar, const char *name)
{
	if (!name || !ar->npeople)
		return KB_AUDIT_LEAVING_NONE;
	if (ar->sole && !strcmp(ar->sole, name))
		return KB_AUDIT_LEAVING_ONLY;
	if (!strcmp(ar->people[0].name, name) && 2 * ar->people[0].cases > ar->validated)
		return KB_AUDIT_LEAVING_MAJORITY;
	return KB_AUDIT_LEAVING_NONE;
}

int kb_audit_risk(kb_audit_risk_report **out, kb_audit *a, const char *leaving)
{
	area_set s;
	kb_audit_risk_report *r;
	size_t i, n = 0, *count;
	long who = -1;
	const kb__csum *c;

	*out = NULL;
	if (leaving && (who = find_person(a, leaving)) < 0)
		return kb_error_set(KB_ENOTFOUND, NULL, 0, "no author matches '%s'", leaving);
	memset(&s, 0, sizeof(s));
	for (i = 0; i < a->ncases; i++) {
		c = &a->cases[i].s;
		if (c->status != KB_STATUS_VALIDATED)
			continue;
		area_add(area_for(&s, nz(kb__csum_get(c, "equipment")), NULL), i);
		area_add(area_for(&s, nz(kb__csum_get(c, "equipment")),
				  nz(kb__csum_get(c, "failure_mode"))), i);
	}
	count = kb_xcalloc(a->npeople + 1, sizeof(*count));
	r = kb_xcalloc(1, sizeof(*r));
	r->areas = kb_xcalloc(s.n + 1, sizeof(*r->areas));
	r->leaving = who >= 0 ? a->people[who].name : NULL;
	sort(s.areas, s.n, sizeof(*s.areas), cmp_area);
	for (i = 0; i < s.n; i++) {
		area_people(a, &s.areas[i], count);
		s.areas[i].pub.bus_factor = bus_factor(a, &s.areas[i], count);
		s.areas[i].pub.leaving = leaving_role(&s.areas[i].pub, r->leaving);
		if (!leaving || s.areas[i].pub.leaving != KB_AUDIT_LEAVING_NONE)
			r->areas[n++] = s.areas[i].pub;
		else
			free(s.areas[i].pub.people);
		free(s.areas[i].cases);
	}
	r->count = n;
	free(s.areas);
	kb__smap_release(&s.map);
	free(count);
	*out = r;
	return 0;
}

void kb_audit_risk_free(kb_audit_risk_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->count; i++)
		free(r->areas[i].people);
	free(r->areas);
	free(r);
}

/* ---- activity --------------------------------------------------------- */

typedef struct {
	kb_audit_activity_report *act;
	size_t acontrib, anew;
	kb__imap contrib;    /* month << 32 | person -> contribs index */
	kb__imap newc;       /* month << 32 | equipment -> newcases index */
	kb__smap equipment;  /* folded equipment -> its number */
	kb_audit *a;
} act_state;

/* A month in the high half of a key: months outside years 0-9999 share
 * one key, as they share the label "0000-00". */
static uint64_t month_key(int64_t t)
{
	int64_t m = kb__audit_month(t);

	return (uint64_t)(m < 0 || m >= 10000 * 12 ? 0 : m + 1) << 32;
}

static kb_audit_contrib *contrib_for(act_state *s, size_t person, int64_t t)
{
	kb_audit_activity_report *act = s->act;
	uint64_t key = month_key(t) | (uint32_t)person;
	size_t idx;

	if (!kb__imap_get(&s->contrib, key, &idx)) {
		if (act->ncontribs == s->acontrib) {
			s->acontrib = s->acontrib ? 2 * s->acontrib : 32;
			act->contribs = kb_xrealloc(act->contribs, s->acontrib * sizeof(*act->contribs));
		}
		idx = act->ncontribs++;
		memset(&act->contribs[idx], 0, sizeof(act->contribs[idx]));
		act->contribs[idx].person = s->a->people[person].name;
		kb__audit_month_str(act->contribs[idx].month, kb__audit_month(t));
		kb__imap_put(&s->contrib, key, idx);
	}
	return &act->contribs[idx];
}

static void count_new(act_state *s, const char *equipment, int64_t t)
{
	kb_audit_activity_report *act = s->act;
	char *eq = kb__audit_fold(equipment);
	size_t idx, e;
	uint64_t key;

	if (!kb__smap_get(&s->equipment, eq, &e)) {
		e = s->equipment.n;
		kb__smap_put(&s->equipment, eq, e);
	}
	free(eq);
	key = month_key(t) | (uint32_t)e;
	if (!kb__imap_get(&s->newc, key, &idx)) {
		if (act->nnewcases == s->anew) {
			s->anew = s->anew ? 2 * s->anew : 32;
			act->newcases = kb_xrealloc(act->newcases, s->anew * sizeof(*act->newcases));
		}
		idx = act->nnewcases++;
		act->newcases[idx].equipment = nz(equipment);
		act->newcases[idx].created = 0;
		kb__audit_month_str(act->newcases[idx].month, kb__audit_month(t));
		kb__imap_put(&s->newc, key, idx);
	}
	act->newcases[idx].created++;
}

/* The front-matter reviewer counts unless history already credits them. */
static void fm_review(act_state *s, const kb__acase *k)
{
	const char *rv = kb__csum_get(&k->s, "reviewer");
	kb_author au;
	int64_t t;
	size_t p, j;

	if (!filled(rv) || kb_author_parse(&au, rv) < 0)
		return;
	p = kb__audit_person(s->a, au.name, au.email);
	kb_author_release(&au);
	for (j = 0; j < k->nev; j++)
		if (k->ev[j].kind == KB__EV_REVIEW && k->ev[j].person == p)
			return;
	if (kb__audit_date(kb__csum_get(&k->s, "updated"), &t) == 0 ||
	    kb__audit_date(kb__csum_get(&k->s, "created"), &t) == 0)
		contrib_for(s, p, t)->reviewed++;
}

static void activity_case(act_state *s, const kb__acase *k)
{
	long cr = kb__audit_creator(k);
	int known;
	int64_t t = kb__audit_created(s->a, k, &known);
	size_t j;

	if (known) {
		if (cr >= 0)
			contrib_for(s, (size_t)cr, t)->created++;
		count_new(s, kb__csum_get(&k->s, "equipment"), t);
	}
	for (j = 0; j < k->nev; j++) {
		if (k->ev[j].kind == KB__EV_EDIT)
			contrib_for(s, k->ev[j].person, k->ev[j].time)->edited++;
		else
			contrib_for(s, k->ev[j].person, k->ev[j].time)->reviewed++;
	}
	fm_review(s, k);
}

static int cmp_contrib(const void *x, const void *y)
{
	const kb_audit_contrib *a = x, *b = y;
	int r = strcmp(a->month, b->month);

	return r ? r : strcmp(a->person, b->person);
}

static int cmp_new(const void *x, const void *y)
{
	const kb_audit_newcases *a = x, *b = y;
	int r = strcmp(a->month, b->month);

	return r ? r : strcasecmp(a->equipment, b->equipment);
}

static void participation(kb_audit_activity_report *act, size_t people)
{
	size_t i;

	act->months = kb_xcalloc(act->ncontribs + 1, sizeof(*act->months));
	for (i = 0; i < act->ncontribs; i++) {
		if (!act->nmonths || strcmp(act->months[act->nmonths - 1].month,
					    act->contribs[i].month)) {
			memcpy(act->months[act->nmonths].month, act->contribs[i].month, 8);
			act->months[act->nmonths++].people = people;
		}
		act->months[act->nmonths - 1].active++;
	}
}

int kb_audit_activity(kb_audit_activity_report **out, kb_audit *a)
{
	act_state s;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.a = a;
	s.act = kb_xcalloc(1, sizeof(*s.act));
	for (i = 0; i < a->ncases; i++)
		activity_case(&s, &a->cases[i]);
	sort(s.act->contribs, s.act->ncontribs, sizeof(*s.act->contribs), cmp_contrib);
	sort(s.act->newcases, s.act->nnewcases, sizeof(*s.act->newcases), cmp_new);
	participation(s.act, a->npeople);
	kb__imap_release(&s.contrib);
	kb__imap_release(&s.newc);
	kb__smap_release(&s.equipment);
	*out = s.act;
	return 0;
}

void kb_audit_activity_free(kb_audit_activity_report *act)
{
	if (!act)
		return;
	free(act->contribs);
	free(act->months);
	free(act->newcases);
	free(act);
}
