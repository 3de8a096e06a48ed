/*
 * maint_eval.c - measures abbreviation expansion (kb/abbrev.h) and note
 * extraction (kb/extract.h) on maint-notes: real maintenance work-order
 * texts with gold normalisation.  Prints Markdown tables; exits 0 with a
 * notice when the data set is absent.  See docs/extraction.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kb/abbrev.h"
#include "kb/buf.h"
#include "kb/extract.h"

typedef struct {
	char *id, *raw, *gold;
	int train;
} record;

typedef struct {
	record *r;
	size_t n;
} dataset;

static int load(dataset *d, const char *path)
{
	char line[8192];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		json_error_t err;
		json_t *o = json_loads(line, 0, &err);
		const char *id, *raw, *gold;

		if (!o)
			continue;
		id = json_string_value(json_object_get(o, "id"));
		raw = json_string_value(json_object_get(o, "raw"));
		gold = json_string_value(json_object_get(o, "normalised"));
		if (id && raw && gold) {
			d->r = kb_xrealloc(d->r, (d->n + 1) * sizeof(record));
			d->r[d->n].id = kb_xstrdup(id);
			d->r[d->n].raw = kb_xstrdup(raw);
			d->r[d->n].gold = kb_xstrdup(gold);
			d->r[d->n].train = strstr(id, "-train-") != NULL;
			d->n++;
		}
		json_decref(o);
	}
	fclose(f);
	return 0;
}

/* ---- tokens --------------------------------------------------------------- */

typedef struct {
	char **t;
	size_t n;
} tokens;

static void split(tokens *tk, const char *s)
{
	const char *p = s;

	tk->t = NULL;
	tk->n = 0;
	while (*p) {
		const char *e;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		for (e = p; *e && *e != ' '; e++)
			;
		tk->t = kb_xrealloc(tk->t, (tk->n + 1) * sizeof(char *));
		tk->t[tk->n++] = kb_xstrndup(p, (size_t)(e - p));
		p = e;
	}
}

static void tokens_free(tokens *tk)
{
	size_t i;

	for (i = 0; i < tk->n; i++)
		free(tk->t[i]);
	free(tk->t);
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

/* Asset ids: a token mixing letters and digits ("tq598", "buu8"). */
static int is_id(const char *t)
{
	int alpha = 0, digit = 0;

	for (; *t; t++) {
		alpha |= (*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z');
		digit |= *t >= '0' && *t <= '9';
	}
	return alpha && digit;
}

static void mask(tokens *tk)
{
	size_t i;

	for (i = 0; i < tk->n; i++) {
		if (is_id(tk->t[i])) {
			free(tk->t[i]);
			tk->t[i] = kb_xstrdup("<id>");
		}
	}
}

/* Word-level Levenshtein distance. */
static size_t edits(const tokens *a, const tokens *b)
{
	size_t *prev = kb_xcalloc(b->n + 1, sizeof(size_t));
	size_t *cur = kb_xcalloc(b->n + 1, sizeof(size_t));
	size_t i, j, d;

	for (j = 0; j <= b->n; j++)
		prev[j] = j;
	for (i = 1; i <= a->n; i++) {
		size_t *t;

		cur[0] = i;
		for (j = 1; j <= b->n; j++) {
			size_t sub = prev[j - 1] + (strcmp(a->t[i - 1], b->t[j - 1]) != 0);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		t = prev;
		prev = cur;
		cur = t;
	}
	d = prev[b->n];
	free(prev);
	free(cur);
	return d;
}

/* ---- expansion runs ----------------------------------------------------------- */

typedef struct {
	const char *name;
	const kb_abbrev *dict;   /* NULL: lower-case only */
	int typo;
	int heldout_only;        /* uses the train split: score val+test only */
} config;

typedef struct {
	size_t records, exact, gold_tokens, edit_sum, changed;
} score;

static void predict(kb_buf *out, const config *c, const char *raw, size_t *changed)
{
	kb_abbrev_options o = KB_ABBREV_OPTIONS_INIT;

	o.lowercase = 1;
	o.typo = c->typo;
	kb_buf_clear(out);
	if (kb_abbrev_expand(out, c->dict, &o, raw, strlen(raw), changed))
		kb_buf_puts(out, raw);
}

static void run(const dataset *d, const config *c, int heldout, score *s)
{
	kb_buf out = KB_BUF_INIT;
	size_t i, ch;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < d->n; i++) {
		tokens p, g;
		char *gold;

		if (heldout && d->r[i].train)
			continue;
		predict(&out, c, d->r[i].raw, &ch);
		split(&p, out.ptr);
		mask(&p);
		gold = kb_xstrdup(d->r[i].gold);
		lower(gold);
		split(&g, gold);
		s->records++;
		s->gold_tokens += g.n;
		s->edit_sum += edits(&p, &g);
		s->changed += ch;
		if (p.n == g.n && edits(&p, &g) == 0)
			s->exact++;
		tokens_free(&p);
		tokens_free(&g);
		free(gold);
	}
	kb_buf_release(&out);
}

static void print_score(const config *c, const char *split_name, const score *s)
{
	double acc = s->gold_tokens ? 1.0 - (double)s->edit_sum / (double)s->gold_tokens : 0;

	printf("| %-44s | %-9s | %4zu | %6.2f | %6.2f | %5zu |\n", c->name, split_name, s->records,
	       100.0 * acc, s->records ? 100.0 * (double)s->exact / (double)s->records : 0,
	       s->changed);
}

/* ---- a dictionary induced from the train split ---------------------------------- */

typedef struct {
	char *from, *to;
	size_t count;
} pair;

static void count_pair(pair **v, size_t *n, const char *from, const char *to)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (!strcmp((*v)[i].from, from) && !strcmp((*v)[i].to, to)) {
			(*v)[i].count++;
			return;
		}
	}
	*v = kb_xrealloc(*v, (*n + 1) * sizeof(pair));
	(*v)[*n].from = kb_xstrdup(from);
	(*v)[*n].to = kb_xstrdup(to);
	(*v)[*n].count = 1;
	(*n)++;
}

static int has_digit(const char *s)
{
	return strpbrk(s, "0123456789") != NULL;
}

/*
 * From train records whose raw and gold have the same number of tokens,
 * count (raw token -> gold token) replacements; keep those seen twice or
 * more that are the most frequent rewrite of that raw token.  Known words:
 * every alphabetic gold token of 4+ letters in train.
 */
static kb_abbrev *induce(const dataset *d, size_t *entries)
{
	kb_abbrev *a = kb_abbrev_new();
	pair *v = NULL;
	size_t n = 0, i, j, k;

	for (i = 0; i < d->n; i++) {
		tokens r, g;
		char *gold;

		if (!d->r[i].train)
			continue;
		gold = kb_xstrdup(d->r[i].gold);
		lower(gold);
		kb_abbrev_add_words(a, gold, strlen(gold));
		split(&r, d->r[i].raw);
		split(&g, gold);
		for (j = 0; r.n == g.n && j < r.n; j++) {
			lower(r.t[j]);
			if (strcmp(r.t[j], g.t[j]) && g.t[j][0] != '<' && !has_digit(r.t[j]))
				count_pair(&v, &n, r.t[j], g.t[j]);
		}
		tokens_free(&r);
		tokens_free(&g);
		free(gold);
	}
	*entries = 0;
	for (j = 0; j < n; j++) {
		int best = v[j].count >= 2;

		for (k = 0; best && k < n; k++)
			if (k != j && !strcmp(v[k].from, v[j].from) && v[k].count >= v[j].count)
				best = 0;
		if (best && kb_abbrev_add(a, v[j].from, v[j].to) == 0)
			(*entries)++;
	}
	for (j = 0; j < n; j++) {
		free(v[j].from);
		free(v[j].to);
	}
	free(v);
	return a;
}

/* ---- extraction rates ------------------------------------------------------------- */

typedef struct {
	size_t equipment, symptom, checks, cause, resolution;
} presence;

static void extract_one(presence *p, const char *text, const kb_abbrev *dict)
{
	kb_extract_options o = KB_EXTRACT_OPTIONS_INIT;
	kb_extraction x;

	o.abbrev = dict;
	if (kb_extract_note(&x, text, strlen(text), &o))
		return;
	p->equipment += x.equipment != NULL;
	p->symptom += x.symptom != NULL;
	p->checks += x.checks != NULL;
	p->cause += x.cause != NULL;
	p->resolution += x.resolution != NULL;
	kb_extraction_release(&x);
}

/* Slots a note has: bit 0 checks, 1 cause, 2 resolution, 3 equipment. */
static unsigned slots(const char *text, const kb_abbrev *dict)
{
	kb_extract_options o = KB_EXTRACT_OPTIONS_INIT;
	kb_extraction x;
	unsigned m = 0;

	o.abbrev = dict;
	if (kb_extract_note(&x, text, strlen(text), &o))
		return 0;
	m = (x.checks ? 1u : 0) | (x.cause ? 2u : 0) | (x.resolution ? 4u : 0) |
	    (x.equipment ? 8u : 0);
	kb_extraction_release(&x);
	return m;
}

static void print_presence(const char *name, const presence *p, size_t n)
{
	printf("| %-32s | %5.1f | %5.1f | %5.1f | %5.1f |\n", name,
	       100.0 * (double)p->checks / (double)n, 100.0 * (double)p->cause / (double)n,
	       100.0 * (double)p->resolution / (double)n, 100.0 * (double)p->equipment / (double)n);
}

static void extraction_report(const dataset *d, const kb_abbrev *kbdict)
{
	presence raw = { 0 }, exp = { 0 }, gold = { 0 };
	size_t i, agree_raw[4] = { 0 }, agree_exp[4] = { 0 }, b;

	for (i = 0; i < d->n; i++) {
		unsigned g = slots(d->r[i].gold, NULL), r = slots(d->r[i].raw, NULL);
		unsigned e = slots(d->r[i].raw, kbdict);

		extract_one(&raw, d->r[i].raw, NULL);
		extract_one(&exp, d->r[i].raw, kbdict);
		extract_one(&gold, d->r[i].gold, NULL);
		for (b = 0; b < 4; b++) {
			agree_raw[b] += ((g >> b) & 1) == ((r >> b) & 1);
			agree_exp[b] += ((g >> b) & 1) == ((e >> b) & 1);
		}
	}
	printf("\nSlots found by kb_extract_note (%% of %zu notes):\n\n", d->n);
	printf("| input                            | checks | cause | resolution | equipment |\n");
	printf("|---|---|---|---|---|\n");
	print_presence("raw text", &raw, d->n);
	print_presence("raw text + KB dictionary", &exp, d->n);
	print_presence("gold normalised text", &gold, d->n);
	printf("\nAgreement with the slots found on the gold text (%%):\n\n");
	printf("| input                            | checks | cause | resolution | equipment |\n");
	printf("|---|---|---|---|---|\n");
	printf("| %-32s | %5.1f | %5.1f | %5.1f | %5.1f |\n", "raw text",
	       100.0 * (double)agree_raw[0] / (double)d->n, 100.0 * (double)agree_raw[1] / (double)d->n,
	       100.0 * (double)agree_raw[2] / (double)d->n, 100.0 * (double)agree_raw[3] / (double)d->n);
	printf("| %-32s | %5.1f | %5.1f | %5.1f | %5.1f |\n", "raw text + KB dictionary",
	       100.0 * (double)agree_exp[0] / (double)d->n, 100.0 * (double)agree_exp[1] / (double)d->n,
	       100.0 * (double)agree_exp[2] / (double)d->n, 100.0 * (double)agree_exp[3] / (double)d->n);
}

int main(int argc, char **argv)
{
	const char *data = "../shared/datasets/maint-notes/maintnorm_sample.jsonl";
	const char *abbrev_path = "kb/abbreviations.txt";
	kb_abbrev *kbdict = kb_abbrev_new(), *induced = NULL, *none = kb_abbrev_new();
	dataset d = { NULL, 0 };
	size_t i, entries = 0, heldout = 0;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "d:a:")) != -1) {
		if (opt == 'd')
			data = optarg;
		else if (opt == 'a')
			abbrev_path = optarg;
		else
			return 2;
	}
	if (load(&d, data) < 0 || !d.n) {
		printf("maint-notes not found at '%s': nothing measured\n", data);
		goto done;
	}
	if (kb_abbrev_load(kbdict, abbrev_path)) {
		fprintf(stderr, "maint_eval: %s\n", kb_error_last()->message);
		rc = 1;
		goto done;
	}
	induced = induce(&d, &entries);
	for (i = 0; i < d.n; i++)
		heldout += !d.r[i].train;
	{
		const config cfg[] = {
			{ "lower-case only", none, 0, 0 },
			{ "KB dictionary (kb/abbreviations.txt)", kbdict, 0, 0 },
			{ "KB dictionary + typo step", kbdict, 1, 0 },
			{ "dictionary induced from train split", induced, 0, 1 },
			{ "induced dictionary + typo step (train words)", induced, 1, 1 },
		};
		size_t k;

		printf("maint-notes: %zu records (%zu train, %zu val+test); KB dictionary %zu "
		       "entries; induced dictionary %zu entries\n\n", d.n, d.n - heldout, heldout,
		       kb_abbrev_count(kbdict), entries);
		printf("| configuration                                | records   |    n | tok acc | exact | changed |\n");
		printf("|---|---|---|---|---|---|\n");
		for (k = 0; k < sizeof(cfg) / sizeof(cfg[0]); k++) {
			score s;

			if (!cfg[k].heldout_only) {
				run(&d, &cfg[k], 0, &s);
				print_score(&cfg[k], "all", &s);
			}
			run(&d, &cfg[k], 1, &s);
			print_score(&cfg[k], "val+test", &s);
		}
	}
	extraction_report(&d, kbdict);
done:
	for (i = 0; i < d.n; i++) {
		free(d.r[i].id);
		free(d.r[i].raw);
		free(d.r[i].gold);
	}
	free(d.r);
	kb_abbrev_free(kbdict);
	kb_abbrev_free(induced);
	kb_abbrev_free(none);
	return rc;
}
