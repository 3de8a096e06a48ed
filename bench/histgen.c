/*
 * histgen.c - kb-histgen: a long git history for the audit benchmark, as a
 * `git fast-import` stream on stdout.  Takes the case files kb-gen wrote and
 * plays C commits over them, oldest first: each case added once (as a draft),
 * then section edits, status changes, front-matter-only edits and renames,
 * by 40 people who commit under several spellings that the .mailmap of the
 * first commit resolves.  Deterministic for a given seed.
 *
 * usage: kb-histgen [--flat|--by-prefix] [--from REF] CASES-DIR COMMITS SEED > stream
 *
 * Layout: cases/<PREFIX>/<NNN>/<ID>.md (PREFIX = the id before its '-',
 * NNN = its number / 1000: folders of about 100 cases), cases/<PREFIX>/<ID>.md
 * with --by-prefix, or cases/<ID>.md with --flat.  Every commit rewrites the
 * trees on the path to the file it changes, so the size of the largest
 * folder sets what a commit costs to write and to walk, for any git tool:
 * about 41 bytes per case (4 MB per commit for a flat 100,000-case KB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kb/buf.h"
#include "proc.h"

#define NPEOPLE 40
#define START_TIME 1546300800LL   /* 2019-01-01 */
#define END_TIME 1790812800LL     /* 2026-10-01 */

typedef struct {
	char *text;      /* current content */
	char *path;      /* current path in the tree */
	char prefix[16];
	int added;
} hcase;

static const char *const given[] = {
	"Tom", "Alice", "Carol", "Ahmed", "Maria", "John", "Priya", "Ken", "Sara", "Omar",
	"Lena", "Diego", "Eva", "Ivan", "Nora", "Paul", "Rita", "Sam", "Tara", "Yusuf",
};
static const char *const family[] = {
	"Baker", "Wong", "Diaz", "Khan", "Rossi", "Smith", "Patel", "Sato", "Berg", "Haddad",
};
static const char *const zh[] = {
	"李伟", "张敏", "王芳", "刘强", "陈静", "杨洋", "赵磊", "黄婷", "周杰", "吴欣",
	"徐明", "孙丽", "胡斌", "朱琳", "高峰", "林涛", "何平", "郭颖", "马超", "罗娜",
};

typedef struct {
	char name[64], email[64];          /* canonical */
	char alt_name[64], alt_email[64];  /* another spelling, another address */
} person;

static person people[NPEOPLE];

static void make_people(kb_buf *mailmap)
{
	int i;

	for (i = 0; i < NPEOPLE; i++) {
		person *p = &people[i];
		const char *g = given[i % 20], *f = family[(i * 7 + i / 20) % 10];

		if (i % 2) {
			snprintf(p->name, sizeof(p->name), "%s", zh[(i + i / 20) % 20]);
			snprintf(p->email, sizeof(p->email), "staff%02d@example.cn", i);
			snprintf(p->alt_name, sizeof(p->alt_name), "%s", zh[(i + i / 20) % 20]);
			snprintf(p->alt_email, sizeof(p->alt_email), "s%02d@plant.example.cn", i);
		} else {
			snprintf(p->name, sizeof(p->name), "%s %s", g, f);
			snprintf(p->email, sizeof(p->email), "%c%s.%c%s%02d@example.com", g[0] | 32,
				 g + 1, f[0] | 32, f + 1, i);
			/* "t baker", "BAKER Tom": the spellings a mailmap exists for */
			if (i % 4)
				snprintf(p->alt_name, sizeof(p->alt_name), "%c %s", g[0] | 32, f);
			else
				snprintf(p->alt_name, sizeof(p->alt_name), "%s %s", f, g);
			snprintf(p->alt_email, sizeof(p->alt_email), "%c%c%02d@corp.example", g[0] | 32,
				 f[0] | 32, i);
		}
		kb_buf_printf(mailmap, "%s <%s> %s <%s>\n", p->name, p->email, p->alt_name,
			      p->alt_email);
	}
}

/* Replace the front-matter line starting with `key` by `line` (added
 * before the closing "---" when missing; removed when line is NULL). */
static void set_fm(hcase *c, const char *key, const char *line)
{
	kb_buf b = KB_BUF_INIT;
	char *p = strstr(c->text, "\n---\n"), *at;
	size_t klen = strlen(key);

	if (!p)
		return;
	for (at = strchr(c->text, '\n'); at && at < p; at = strchr(at + 1, '\n'))
		if (!strncmp(at + 1, key, klen))
			break;
	if (at && at < p) {
		char *end = strchr(at + 1, '\n');

		kb_buf_put(&b, c->text, (size_t)(at + 1 - c->text));
		if (line)
			kb_buf_printf(&b, "%s\n", line);
		kb_buf_puts(&b, end + 1);
	} else if (line) {
		kb_buf_put(&b, c->text, (size_t)(p + 1 - c->text));
		kb_buf_printf(&b, "%s\n", line);
		kb_buf_puts(&b, p + 1);
	} else {
		kb_buf_release(&b);
		return;
	}
	free(c->text);
	c->text = kb_buf_detach(&b);
}

static void date_of(char *out, size_t n, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%d", &tm);
}

static void emit_file(kb_buf *o, const char *path, const char *text)
{
	size_t n = strlen(text);

	kb_buf_printf(o, "M 100644 inline %s\ndata %zu\n", path, n);
	kb_buf_put(o, text, n);
	kb_buf_putc(o, '\n');
}

static void flush(kb_buf *o)
{
	fwrite(o->ptr, 1, o->len, stdout);
	kb_buf_clear(o);
}

enum { LAYOUT_BUCKETS, LAYOUT_PREFIX, LAYOUT_FLAT };

static void case_path(kb_buf *b, const hcase *c, const char *id, int layout)
{
	const char *dash = strchr(id, '-');

	kb_buf_clear(b);
	if (layout == LAYOUT_FLAT)
		kb_buf_printf(b, "cases/%s.md", id);
	else if (layout == LAYOUT_PREFIX)
		kb_buf_printf(b, "cases/%s/%s.md", c->prefix, id);
	else
		kb_buf_printf(b, "cases/%s/%03llu/%s.md", c->prefix,
			      dash ? strtoull(dash + 1, NULL, 10) / 1000 : 0, id);
}

int main(int argc, char **argv)
{
	kb_buf o = KB_BUF_INIT, mm = KB_BUF_INIT, b = KB_BUF_INIT, path = KB_BUF_INIT;
	const char *from = NULL, *dir;
	char **names, date[16], line[256];
	size_t n, ncommits, nadded = 0, k, *order, i, renamed = 0;
	hcase *cases;
	bench_rng r;
	int layout = LAYOUT_BUCKETS, ai;
	long long t;

	for (ai = 1; ai < argc && argv[ai][0] == '-'; ai++) {
		if (!strcmp(argv[ai], "--flat"))
			layout = LAYOUT_FLAT;
		else if (!strcmp(argv[ai], "--by-prefix"))
			layout = LAYOUT_PREFIX;
		else if (!strcmp(argv[ai], "--from") && ai + 1 < argc)
			from = argv[++ai];
		else
			break;
	}
	if (argc - ai != 3) {
		fprintf(stderr, "usage: kb-histgen [--flat|--by-prefix] [--from REF] CASES-DIR COMMITS SEED\n");
		return 2;
	}
	dir = argv[ai];
	ncommits = (size_t)strtoull(argv[ai + 1], NULL, 10);
	bench_rng_seed(&r, strtoull(argv[ai + 2], NULL, 10));
	names = bench_list_md(dir, &n);    /* flat or in folders, by file name */
	if (!n || ncommits < n + 1) {
		fprintf(stderr, "kb-histgen: no cases in '%s' or fewer commits than cases\n", dir);
		return 2;
	}
	cases = calloc(n, sizeof(*cases));
	order = malloc(n * sizeof(*order));
	for (i = 0; i < n; i++) {
		char *base = strrchr(names[i], '/') ? strrchr(names[i], '/') + 1 : names[i];
		const char *dash = strchr(base, '-');
		size_t pl = dash ? (size_t)(dash - base) : 1;

		kb_buf_clear(&b);
		kb_buf_printf(&b, "%s/%s", dir, names[i]);
		cases[i].text = bench_read_file(b.ptr, NULL);
		if (!cases[i].text) {
			fprintf(stderr, "kb-histgen: cannot read '%s'\n", b.ptr);
			return 1;
		}
		snprintf(cases[i].prefix, sizeof(cases[i].prefix), "%.*s",
			 (int)(pl < 15 ? pl : 15), base);
		base[strlen(base) - 3] = '\0';
		case_path(&path, &cases[i], base, layout);
		cases[i].path = kb_buf_detach(&path);
		order[i] = i;
	}
	/* cases are added in random order */
	for (i = n - 1; i > 0; i--) {
		size_t j = bench_rng_below(&r, i + 1), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	make_people(&mm);
	for (k = 0; k < ncommits; k++) {
		size_t who = bench_rng_below(&r, NPEOPLE), alt = bench_rng_below(&r, 3) == 0;
		const person *p = &people[who];
		const char *nm = alt ? p->alt_name : p->name, *em = alt ? p->alt_email : p->email;
		hcase *c;
		const char *msg;
		unsigned op;

		t = START_TIME + (long long)((END_TIME - START_TIME) * (double)k / (double)ncommits);
		date_of(date, sizeof(date), t);
		kb_buf_clear(&b);
		if (k == 0) {
			msg = "Add .mailmap";
			kb_buf_printf(&b, "M 100644 inline .mailmap\ndata %zu\n%s\n", mm.len, mm.ptr);
		} else if (nadded == 0 || (nadded < n &&
			   bench_rng_below(&r, ncommits - k) < n - nadded)) {
			c = &cases[order[nadded++]];
			c->added = 1;
			set_fm(c, "status:", "status: draft");
			set_fm(c, "reviewer:", NULL);
			set_fm(c, "updated:", NULL);
			if (bench_rng_below(&r, 2)) {
				snprintf(line, sizeof(line), "author: %s <%s>", nm, em);
				set_fm(c, "author:", line);
			} else {
				set_fm(c, "author:", NULL);
			}
			msg = "Add case";
			emit_file(&b, c->path, c->text);
		} else {
			/* an existing case, recent ones more often */
			size_t back = bench_rng_below(&r, 4) ? bench_rng_below(&r, nadded < 2000 ? nadded : 2000)
							     : bench_rng_below(&r, nadded);
			c = &cases[order[nadded - 1 - back]];
			op = (unsigned)bench_rng_below(&r, 100);
			if (op < 50) {
				kb_buf_clear(&path);
				kb_buf_puts(&path, c->text);
				kb_buf_printf(&path, "\nFollow-up %s (%s): rechecked after %zu h, no recurrence.\n",
					      date, nm, 1 + bench_rng_below(&r, 96));
				free(c->text);
				c->text = kb_buf_detach(&path);
				msg = "Edit case";
			} else if (op < 80) {
				int validated = strstr(c->text, "\nstatus: validated") != NULL;

				snprintf(line, sizeof(line), "reviewer: %s <%s>", nm, em);
				set_fm(c, "reviewer:", validated ? NULL : line);
				set_fm(c, "status:", validated ? (op < 60 ? "status: draft" : "status: archived")
							       : "status: validated");
				msg = "Change status";
			} else if (op < 98 || renamed * 50 >= n) {
				snprintf(line, sizeof(line), "updated: %s", date);
				set_fm(c, "updated:", line);
				msg = "Update front matter";
			} else {
				/* rename: a new id (and file name) for the case */
				char id[64];

				snprintf(id, sizeof(id), "%s-%06zu", c->prefix, 900000 + ++renamed);
				snprintf(line, sizeof(line), "id: %s", id);
				set_fm(c, "id:", line);
				kb_buf_printf(&b, "D %s\n", c->path);
				case_path(&path, c, id, layout);
				free(c->path);
				c->path = kb_buf_detach(&path);
				msg = "Rename case";
			}
			emit_file(&b, c->path, c->text);
		}
		kb_buf_printf(&o, "commit refs/heads/main\nauthor %s <%s> %lld +0000\n"
			      "committer %s <%s> %lld +0000\ndata %zu\n%s\n", nm, em, t, nm, em, t,
			      strlen(msg), msg);
		if (k == 0 && from)
			kb_buf_printf(&o, "from %s\n", from);
		kb_buf_put(&o, b.ptr, b.len);
		kb_buf_putc(&o, '\n');
		if (o.len > (1u << 20))
			flush(&o);
	}
	flush(&o);
	fprintf(stderr, "kb-histgen: %zu commits, %zu cases, %zu renames, %d people\n", ncommits, n,
		renamed, NPEOPLE);
	for (i = 0; i < n; i++) {
		free(cases[i].text);
		free(cases[i].path);
		free(names[i]);
	}
	free(names);
	free(cases);
	free(order);
	kb_buf_release(&o);
	kb_buf_release(&mm);
	kb_buf_release(&b);
	kb_buf_release(&path);
	return 0;
}
