/*
 * gen.c - kb-gen: a synthetic knowledge base for the benchmark.  Reads the
 * sample KB's case files, pools their sentences by language, section and
 * equipment, and writes N cases recombined from them (about 1.5 KB each,
 * half Chinese, half English, numbers and equipment ids varied) at their
 * canonical paths cases/PREFIX/NNN/ID.md, plus the query lists the
 * benchmark uses, all from one fixed seed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kb/buf.h"
#include "kb/files.h"
#include "kb/store.h"
#include "proc.h"

enum { K_TITLE, K_SYMPTOM, K_ENV, K_CAUSE, K_RESOLUTION, K_NOTES, K__COUNT };
enum { LANG_EN, LANG_ZH, LANG__COUNT };
#define MAX_EQUIP 64
#define MAX_HAN 4096
/* Size of the long-tail vocabulary mixed into the text (Zipf-distributed). */
#define TAIL_WORDS 40000

typedef struct {
	char *text;
	int equip;
} sentence;

typedef struct {
	sentence *v;
	size_t n;
} pool;

typedef struct {
	char *front;     /* front matter lines other than id, title, equipment_id, created */
	int equip, lang;
} sample_case;

typedef struct {
	pool sentences[LANG__COUNT][K__COUNT];
	sample_case *cases;
	size_t ncases;
	char *equip_name[MAX_EQUIP];
	char *equip_prefix[MAX_EQUIP];
	int nequip;
	char han[MAX_HAN][4];     /* distinct Han characters of the sample */
	size_t nhan;
} corpus;

static const char *const headings[LANG__COUNT][K__COUNT] = {
	{ "", "Symptom", "Environment", "Cause", "Resolution", "Notes" },
	{ "", "故障现象", "设备信息", "故障原因", "处理方法", "备注" },
};
/* Target bytes per section, for about 1.5 KB per case with front matter. */
static const size_t target[K__COUNT] = { 0, 200, 80, 150, 250, 40 };

static int has_cjk(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0xe4 && (unsigned char)*s <= 0xe9)
			return 1;
	return 0;
}

static int heading_kind(const char *h)
{
	static const struct { const char *word; int kind; } map[] = {
		{ "Symptom", K_SYMPTOM }, { "故障现象", K_SYMPTOM }, { "现象", K_SYMPTOM },
		{ "Environment", K_ENV }, { "设备信息", K_ENV }, { "环境", K_ENV },
		{ "Cause", K_CAUSE }, { "原因", K_CAUSE }, { "Resolution", K_RESOLUTION },
		{ "处理", K_RESOLUTION }, { "解决", K_RESOLUTION },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(h, map[i].word))
			return map[i].kind;
	return K_NOTES;
}

static void pool_add(pool *p, const char *s, size_t len, int equip)
{
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\r'))
		len--;
	if (len < 6)
		return;
	p->v = kb_xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n].text = kb_xstrndup(s, len);
	p->v[p->n++].equip = equip;
}

/* Length of the sentence at s (through its terminator), within one line. */
static size_t sentence_len(const char *s)
{
	size_t i;

	for (i = 0; s[i] && s[i] != '\n'; i++) {
		if (!strncmp(s + i, "。", 3) || !strncmp(s + i, "！", 3) || !strncmp(s + i, "？", 3))
			return i + 3;
		if ((s[i] == '.' || s[i] == '!' || s[i] == '?') && (s[i + 1] == ' ' || s[i + 1] == '\n'))
			return i + 1;
	}
	return i;
}

/* Split a section body into sentences; list markers ("1. ", "- ") dropped. */
static void add_body(pool *p, const char *body, int equip)
{
	const char *s = body;
	size_t n;

	while (*s) {
		while (*s == '\n' || *s == ' ')
			s++;
		if (*s >= '0' && *s <= '9' && s[1] == '.' && s[2] == ' ')
			s += 3;
		else if ((*s == '-' || *s == '*') && s[1] == ' ')
			s += 2;
		if (!*s)
			break;
		n = sentence_len(s);
		pool_add(p, s, n, equip);
		s += n;
	}
}

static int equip_index(corpus *c, const char *name, const char *id)
{
	const char *dash = strchr(id, '-');
	int i;

	for (i = 0; i < c->nequip; i++)
		if (!strcmp(c->equip_name[i], name))
			return i;
	if (c->nequip == MAX_EQUIP)
		return 0;
	c->equip_name[c->nequip] = kb_xstrdup(name);
	c->equip_prefix[c->nequip] = dash ? kb_xstrndup(id, (size_t)(dash - id)) : kb_xstrdup("KB");
	return c->nequip++;
}

/* Value of "key: value" in the front matter text, malloc'd, or NULL. */
static char *front_value(const char *front, const char *key)
{
	size_t klen = strlen(key);
	const char *s = front, *e;

	for (; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (!strncmp(s, key, klen) && s[klen] == ':') {
			s += klen + 1;
			while (*s == ' ')
				s++;
			e = strchr(s, '\n');
			return kb_xstrndup(s, e ? (size_t)(e - s) : strlen(s));
		}
	return NULL;
}

/* Keep the front-matter lines that describe the equipment and people. */
static char *keep_front(const char *front)
{
	static const char *const drop[] = { "id:", "title:", "equipment_id:", "created:", "updated:", "links:" };
	kb_buf b = KB_BUF_INIT;
	const char *s = front, *e;
	size_t i, keep;

	for (; *s; s = *e ? e + 1 : e) {
		e = strchr(s, '\n');
		if (!e)
			e = s + strlen(s);
		for (keep = 1, i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
			keep &= strncmp(s, drop[i], strlen(drop[i])) != 0;
		if (keep && e > s) {
			kb_buf_put(&b, s, (size_t)(e - s));
			kb_buf_putc(&b, '\n');
		}
	}
	return kb_buf_detach(&b);
}

static void add_sections(corpus *c, const char *body, int lang, int equip)
{
	const char *s = body, *next, *nl;
	kb_buf text = KB_BUF_INIT;
	int kind;

	while ((s = strstr(s, "## "))) {
		nl = strchr(s, '\n');
		if (!nl)
			break;
		kb_buf_set(&text, s + 3, (size_t)(nl - s - 3));
		kind = heading_kind(text.ptr);
		next = strstr(nl, "\n## ");
		kb_buf_set(&text, nl + 1, next ? (size_t)(next - nl - 1) : strlen(nl + 1));
		add_body(&c->sentences[lang][kind], text.ptr, equip);
		s = next ? next + 1 : nl;
	}
	kb_buf_release(&text);
}

/* Remember every distinct Han character (3-byte UTF-8) of the sample. */
static void collect_han(corpus *c, const char *s)
{
	size_t i;

	for (; *s; s++) {
		if ((unsigned char)*s < 0xe4 || (unsigned char)*s > 0xe9 || !s[1] || !s[2])
			continue;
		for (i = 0; i < c->nhan && memcmp(c->han[i], s, 3); i++)
			;
		if (i == c->nhan && c->nhan < MAX_HAN)
			memcpy(c->han[c->nhan++], s, 3);
		s += 2;
	}
}

static void load_case(corpus *c, const char *text)
{
	const char *end = strstr(text + 3, "\n---");
	char *front, *equip, *id, *title;
	sample_case *sc;
	int e, lang;

	if (strncmp(text, "---\n", 4) || !end)
		return;
	collect_han(c, text);
	front = kb_xstrndup(text + 4, (size_t)(end - text - 3));
	equip = front_value(front, "equipment");
	id = front_value(front, "id");
	title = front_value(front, "title");
	if (equip && id && title) {
		e = equip_index(c, equip, id);
		lang = has_cjk(title) ? LANG_ZH : LANG_EN;
		pool_add(&c->sentences[lang][K_TITLE], title, strlen(title), e);
		add_sections(c, end + 4, lang, e);
		c->cases = kb_xrealloc(c->cases, (c->ncases + 1) * sizeof(*c->cases));
		sc = &c->cases[c->ncases++];
		sc->front = keep_front(front);
		sc->equip = e;
		sc->lang = lang;
	}
	free(front);
	free(equip);
	free(id);
	free(title);
}

typedef struct {
	char **v;
	size_t n;
} name_list;

static int add_name(const char *path, void *payload)
{
	name_list *l = payload;

	l->v = kb_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = kb_xstrdup(path);
	return 0;
}

/* File names order: the output depends on it, whatever the folders. */
static int cmp_base(const void *a, const void *b)
{
	const char *x = strrchr(*(char *const *)a, '/'), *y = strrchr(*(char *const *)b, '/');

	return strcmp(x ? x + 1 : *(char *const *)a, y ? y + 1 : *(char *const *)b);
}

/* Load every *.md below `dir` (flat or in folders), in file name order. */
static int load_sample(corpus *c, const char *dir)
{
	static const char *const exts[] = { ".md", NULL };
	name_list l = { NULL, 0 };
	char *text;
	size_t i, len;

	if (kb_files_walk(dir, exts, add_name, &l) < 0)
		return -1;
	qsort(l.v, l.n, sizeof(*l.v), cmp_base);
	for (i = 0; i < l.n; i++) {
		if ((text = bench_read_file(l.v[i], &len))) {
			load_case(c, text);
			free(text);
		}
		free(l.v[i]);
	}
	free(l.v);
	return c->ncases ? 0 : -1;
}

/* A sentence of `kind` in `lang`, usually of the same equipment. */
static const char *pick(const corpus *c, bench_rng *r, int lang, int kind, int equip)
{
	const pool *p = &c->sentences[lang][kind];
	const sentence *s = NULL;
	int tries = bench_rng_below(r, 10) < 8 ? 16 : 1;

	if (!p->n)
		p = &c->sentences[lang][K_SYMPTOM];
	if (!p->n)
		return "";
	while (tries--) {
		s = &p->v[bench_rng_below(r, p->n)];
		if (s->equip == equip)
			break;
	}
	return s->text;
}

/* A rank in [0, TAIL_WORDS) with probability about proportional to 1/rank. */
static size_t zipf(bench_rng *r)
{
	double u = (double)(bench_rng_next(r) >> 11) / 9007199254740992.0;

	return (size_t)exp(u * log((double)TAIL_WORDS + 1)) - 1;
}

/* The long-tail English word of rank k: two or three syllables. */
static void put_tail_en(kb_buf *b, size_t k)
{
	static const char cons[] = "bcdfghklmnprstvz", vow[] = "aeiou";

	kb_buf_putc(b, cons[k % 16]);
	kb_buf_putc(b, vow[(k / 16) % 5]);
	kb_buf_putc(b, cons[(k / 80) % 16]);
	kb_buf_putc(b, vow[(k / 1280) % 5]);
	if (k >= 6400) {
		kb_buf_putc(b, cons[(k / 6400) % 16]);
		kb_buf_putc(b, 'o');
	}
}

/* The long-tail Chinese word of rank k: two Han characters of the sample. */
static void put_tail_zh(kb_buf *b, const corpus *c, size_t k)
{
	kb_buf_put(b, c->han[k % c->nhan], 3);
	kb_buf_put(b, c->han[(k / c->nhan + 7 * k) % c->nhan], 3);
}

static size_t run_len(const char *s, int (*in)(unsigned char))
{
	size_t n = 0;

	while (s[n] && in((unsigned char)s[n]))
		n++;
	return n;
}

static int is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }
static int is_alpha(unsigned char ch) { return (ch | 32) >= 'a' && (ch | 32) <= 'z'; }

/*
 * Append `s` with variation: about half of its digit runs get random
 * digits, one English word in 12 and one Chinese character pair in 20 are
 * replaced by a word of the Zipf-distributed long tail, so the generated
 * KB has a realistic spread of rare terms rather than only the sample's.
 */
static void put_varied(kb_buf *b, const char *s, bench_rng *r, const corpus *c)
{
	size_t n, i;

	while (*s) {
		if ((n = run_len(s, is_digit))) {
			int vary = (int)bench_rng_below(r, 2);
			for (i = 0; i < n; i++)
				kb_buf_putc(b, !vary ? s[i] : (char)('0' + (i == 0 && n > 1 ? 1 + bench_rng_below(r, 9)
											  : bench_rng_below(r, 10))));
		} else if ((n = run_len(s, is_alpha))) {
			if (n >= 4 && bench_rng_below(r, 12) == 0)
				put_tail_en(b, zipf(r));
			else
				kb_buf_put(b, s, n);
		} else if ((unsigned char)*s >= 0xe4 && (unsigned char)*s <= 0xe9 && c->nhan &&
			   (unsigned char)s[3] >= 0xe4 && (unsigned char)s[3] <= 0xe9 &&
			   bench_rng_below(r, 20) == 0) {
			put_tail_zh(b, c, zipf(r));
			n = 6;
		} else {
			kb_buf_putc(b, *s);
			n = 1;
		}
		s += n;
	}
}

static void put_section(kb_buf *b, const corpus *c, bench_rng *r, int lang, int kind, int equip)
{
	size_t start, item = 1;

	kb_buf_printf(b, "## %s\n\n", headings[lang][kind]);
	start = b->len;
	while (b->len - start < target[kind]) {
		if (kind == K_RESOLUTION)
			kb_buf_printf(b, "%zu. ", item++);
		else if (b->len > start && lang == LANG_EN)
			kb_buf_putc(b, ' ');
		put_varied(b, pick(c, r, lang, kind, equip), r, c);
		if (kind == K_RESOLUTION)
			kb_buf_putc(b, '\n');
	}
	if (kind == K_NOTES)
		kb_buf_printf(b, lang == LANG_EN ? " Work order WO-%07zu." : "工单号 WO-%07zu。",
			      bench_rng_below(r, 10000000));
	kb_buf_puts(b, kind == K_RESOLUTION ? "\n" : "\n\n");
}

static void make_case(kb_buf *b, kb_buf *id, const corpus *c, bench_rng *r, size_t i)
{
	const sample_case *sc = &c->cases[bench_rng_below(r, c->ncases)];
	int k;

	kb_buf_clear(b);
	kb_buf_clear(id);
	kb_buf_printf(id, "%s-%06zu", c->equip_prefix[sc->equip], i + 1);
	kb_buf_printf(b, "---\nid: %s\ntitle: ", id->ptr);
	put_varied(b, pick(c, r, sc->lang, K_TITLE, sc->equip), r, c);
	kb_buf_printf(b, "\nequipment_id: %s-%zu\n%screated: 20%02zu-%02zu-%02zu\n---\n\n",
		      c->equip_prefix[sc->equip], 1 + bench_rng_below(r, 400), sc->front,
		      18 + bench_rng_below(r, 8), 1 + bench_rng_below(r, 12), 1 + bench_rng_below(r, 28));
	for (k = K_SYMPTOM; k < K__COUNT; k++)
		put_section(b, c, r, sc->lang, k, sc->equip);
}

static int write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fwrite(data, 1, len, f) == len ? 0 : -1;
	return fclose(f) || rc ? -1 : 0;
}

/* Create the missing directories of `path` after its first `from` bytes. */
static void mkdir_parents(char *path, size_t from)
{
	char *p;

	for (p = path + from; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0777);
		*p = '/';
	}
}

/* Each case at its canonical path (cases/PREFIX/NNN/ID.md: kb_store_case_relpath). */
static int write_cases(const corpus *c, const char *out, size_t n, uint64_t seed, size_t *bytes)
{
	kb_buf text = KB_BUF_INIT, id = KB_BUF_INIT, path = KB_BUF_INIT, rel = KB_BUF_INIT;
	bench_rng r;
	size_t i;
	int rc = 0;

	bench_rng_seed(&r, seed);
	kb_buf_printf(&path, "%s/cases", out);
	mkdir(out, 0777);
	mkdir(path.ptr, 0777);
	for (i = 0; i < n && !rc; i++) {
		make_case(&text, &id, c, &r, i);
		if (kb_store_case_relpath(&rel, id.ptr) < 0) {
			rc = -1;
			break;
		}
		kb_buf_clear(&path);
		kb_buf_printf(&path, "%s/%s", out, rel.ptr);
		mkdir_parents(path.ptr, strlen(out) + 1);
		rc = write_file(path.ptr, text.ptr, text.len);
		*bytes += text.len;
	}
	kb_buf_release(&rel);
	kb_buf_release(&text);
	kb_buf_release(&id);
	kb_buf_release(&path);
	return rc;
}

/* 2-3 character pieces of the Chinese runs, or words of 5+ letters. */
static size_t query_words(const char *title, int lang, bench_rng *r, kb_buf *out, size_t want)
{
	const char *s = title;
	size_t got = 0, n, chars;

	while (*s && got < want) {
		if (lang == LANG_ZH && (unsigned char)*s >= 0xe4 && (unsigned char)*s <= 0xe9) {
			for (n = 0; (unsigned char)s[n] >= 0xe4 && (unsigned char)s[n] <= 0xe9; n += 3)
				;
			chars = 2 + bench_rng_below(r, 2);
			if (n >= 3 * chars && bench_rng_below(r, 2) == 0) {
				size_t off = 3 * bench_rng_below(r, n / 3 - chars + 1);
				kb_buf_printf(out, "%s%.*s", got ? " " : "", (int)(3 * chars), s + off);
				got++;
			}
			s += n;
		} else if (lang == LANG_EN && ((*s | 32) >= 'a' && (*s | 32) <= 'z')) {
			for (n = 0; (s[n] | 32) >= 'a' && (s[n] | 32) <= 'z'; n++)
				;
			if (n >= 5 && bench_rng_below(r, 3) < 2) {
				kb_buf_printf(out, "%s%.*s", got ? " " : "", (int)n, s);
				got++;
			}
			s += n;
		} else {
			s++;
		}
	}
	return got;
}

/* search.txt (2-3 words), terms.txt (1 word), similar.txt (1-3 sentences). */
static int write_queries(const corpus *c, const char *dir, uint64_t seed)
{
	kb_buf search = KB_BUF_INIT, terms = KB_BUF_INIT, similar = KB_BUF_INIT, q = KB_BUF_INIT;
	kb_buf path = KB_BUF_INIT;
	bench_rng r;
	size_t i, k, want;
	int lang, rc = 0;
	const pool *titles;

	bench_rng_seed(&r, seed ^ 0x51);
	mkdir(dir, 0777);
	for (i = 0; i < 200; i++) {
		lang = (int)(i & 1);
		titles = &c->sentences[lang][K_TITLE];
		want = 2 + bench_rng_below(&r, 2);
		do {
			kb_buf_clear(&q);
		} while (titles->n && query_words(titles->v[bench_rng_below(&r, titles->n)].text, lang,
						  &r, &q, want) < 2);
		kb_buf_printf(&search, "%s\n", q.ptr);
		kb_buf_printf(&terms, "%.*s\n", (int)strcspn(q.ptr, " "), q.ptr);
		for (k = 1 + bench_rng_below(&r, 3); k > 0; k--) {
			put_varied(&similar, pick(c, &r, lang, K_SYMPTOM, (int)bench_rng_below(&r, c->nequip)), &r, c);
			if (k > 1)
				kb_buf_putc(&similar, ' ');
		}
		kb_buf_putc(&similar, '\n');
	}
	kb_buf_printf(&path, "%s/search.txt", dir);
	rc |= write_file(path.ptr, search.ptr, search.len);
	kb_buf_clear(&path);
	kb_buf_printf(&path, "%s/terms.txt", dir);
	rc |= write_file(path.ptr, terms.ptr, terms.len);
	kb_buf_clear(&path);
	kb_buf_printf(&path, "%s/similar.txt", dir);
	rc |= write_file(path.ptr, similar.ptr, similar.len);
	kb_buf_release(&search);
	kb_buf_release(&terms);
	kb_buf_release(&similar);
	kb_buf_release(&q);
	kb_buf_release(&path);
	return rc;
}

static void corpus_release(corpus *c)
{
	size_t i, l, k;

	for (l = 0; l < LANG__COUNT; l++)
		for (k = 0; k < K__COUNT; k++) {
			for (i = 0; i < c->sentences[l][k].n; i++)
				free(c->sentences[l][k].v[i].text);
			free(c->sentences[l][k].v);
		}
	for (i = 0; i < c->ncases; i++)
		free(c->cases[i].front);
	free(c->cases);
	for (i = 0; i < (size_t)c->nequip; i++) {
		free(c->equip_name[i]);
		free(c->equip_prefix[i]);
	}
	memset(c, 0, sizeof(*c));
}

int main(int argc, char **argv)
{
	corpus c;
	size_t n, bytes = 0;
	uint64_t seed;
	double t0 = bench_now();

	if (argc != 6) {
		fprintf(stderr, "usage: kb-gen SAMPLE-CASES-DIR N SEED OUT-KB-DIR QUERIES-DIR\n");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	n = (size_t)strtoull(argv[2], NULL, 10);
	seed = strtoull(argv[3], NULL, 10);
	if (load_sample(&c, argv[1])) {
		fprintf(stderr, "kb-gen: no sample cases in '%s'\n", argv[1]);
		corpus_release(&c);
		return 1;
	}
	if (write_cases(&c, argv[4], n, seed, &bytes) || write_queries(&c, argv[5], seed)) {
		fprintf(stderr, "kb-gen: cannot write under '%s'\n", argv[4]);
		corpus_release(&c);
		return 1;
	}
	/* before corpus_release(), which forgets the count */
	printf("gen_cases %zu\ngen_bytes %zu\ngen_sample_cases %zu\ngen_write_s %.2f\n", n, bytes,
	       c.ncases, bench_now() - t0);
	corpus_release(&c);
	return 0;
}
