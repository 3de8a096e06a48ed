/*
 * audit_cache.c - loading the cases for kb/audit.h through a per-case
 * summary cache: the work tree is walked in path order (as
 * kb_store_foreach_case_file), each file's stat data (size, mtime and
 * ctime in ns, inode) is looked up in <cachedir>audit-cases, and only files
 * whose stat data changed are read and parsed.  A summary holds exactly
 * what the audits read (kb__csum) plus the file's load warnings.  See
 * docs/audit.md, "Caches".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_internal.h"
#include "store_internal.h"

#define SUM_FILE "audit-cases"
#define SUM_MAGIC "kb-audit-cases 3"

/*
 * The file: a header line "kb-audit-cases 3 <kb.conf size> <kb.conf mtime
 * ns>" (section aliases come from kb.conf), then one record per case file:
 *   P <path> <size> <mtime ns> <ctime ns> <inode>
 *   W <line> <path> <message>          a load warning (any number)
 *   C <status> <flags> <id> <title> <symptom key> <title key>  (absent: unparsable)
 *   K <key> <value> | N <key>          front-matter scalar | list key
 *   L <item>                           an item of "links"
 *   E
 * fields separated by tabs, with '\\', tab, newline and CR escaped.
 */

const char *kb__csum_get(const kb__csum *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nkv; i++)
		if (s->v[4 + 2 * i][0] == key[0] && !strcmp(s->v[4 + 2 * i], key))
			return s->v[5 + 2 * i];
	return NULL;
}

/* Non-empty lines of a section body. */
static size_t count_lines(const char *s)
{
	size_t n = 0;
	int text = 0;

	for (; s && *s; s++) {
		if (*s == '\n') {
			n += text;
			text = 0;
		} else if (*s != ' ' && *s != '\t' && *s != '\r') {
			text = 1;
		}
	}
	return n + (size_t)text;
}

static void put_field(kb_buf *b, const char *s)
{
	size_t n;

	kb_buf_putc(b, '\t');
	for (; *s; s++) {
		n = strcspn(s, "\\\t\n\r");
		kb_buf_put(b, s, n);
		s += n;
		if (!*s)
			break;
		switch (*s) {
		case '\\': kb_buf_puts(b, "\\\\"); break;
		case '\t': kb_buf_puts(b, "\\t"); break;
		case '\n': kb_buf_puts(b, "\\n"); break;
		case '\r': kb_buf_puts(b, "\\r"); break;
		default: kb_buf_putc(b, *s);
		}
	}
}

static int filled(const char *s)
{
	return s && *s;
}

/* 16 hex digits of a 64-bit FNV-1a hash of the folded text, "" when that
 * is empty: likely-duplicate detection compares these. */
static void put_fold_hash(kb_buf *b, const char *text)
{
	char *key = kb__audit_fold(text), hex[17];
	uint64_t h = 1469598103934665603u;
	const char *p;

	for (p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
	put_field(b, *key ? hex : "");
	free(key);
}

/* The record body (after the P line, through E) of a parsed case. */
static void encode_case(kb_buf *b, const kb_case *c)
{
	const char *sym = kb_case_section(c, KB_SECTION_SYMPTOM);
	const char *res = kb_case_section(c, KB_SECTION_RESOLUTION);
	const char *const *items;
	unsigned flags = 0;
	size_t i, n;

	if (filled(sym))
		flags |= KB__SUM_SYMPTOM | (strlen(sym) >= 40 ? KB__SUM_SYMPTOM_LONG : 0);
	if (filled(res))
		flags |= KB__SUM_RESOLUTION | (count_lines(res) >= 2 ? KB__SUM_RESOLUTION_STEPS : 0);
	if (filled(kb_case_section(c, KB_SECTION_ENVIRONMENT)))
		flags |= KB__SUM_ENVIRONMENT;
	if (filled(kb_case_section(c, KB_SECTION_CAUSE)))
		flags |= KB__SUM_CAUSE;
	kb_buf_printf(b, "C\t%d\t%u", (int)kb_case_status(c), flags);
	put_field(b, kb_case_id(c));
	put_field(b, kb_case_title(c));
	put_fold_hash(b, sym);
	put_fold_hash(b, kb_case_title(c));
	kb_buf_putc(b, '\n');
	n = kb_case_key_count(c);
	for (i = 0; i < n; i++) {
		const char *k = kb_case_key_at(c, i), *v = kb_case_get(c, k);

		kb_buf_putc(b, v ? 'K' : 'N');
		put_field(b, k);
		if (v)
			put_field(b, v);
		kb_buf_putc(b, '\n');
	}
	n = kb_case_get_list(c, "links", &items);
	for (i = 0; i < n; i++) {
		kb_buf_putc(b, 'L');
		put_field(b, items[i]);
		kb_buf_putc(b, '\n');
	}
}

/* Unescape the tab-separated fields of one line [p, end) into `out` as
 * NUL-terminated strings; the number of fields, -1 on a bad escape. */
static long split_fields(kb_buf *out, const char *p, const char *end)
{
	long n = 1;
	const char *run;

	for (; p < end; p++) {
		for (run = p; p < end && *p != '\t' && *p != '\\'; p++)
			;
		kb_buf_put(out, run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p == '\t') {
			kb_buf_putc(out, '\0');
			n++;
		} else {
			if (++p == end)
				return -1;
			switch (*p) {
			case '\\': kb_buf_putc(out, '\\'); break;
			case 't': kb_buf_putc(out, '\t'); break;
			case 'n': kb_buf_putc(out, '\n'); break;
			case 'r': kb_buf_putc(out, '\r'); break;
			default: return -1;
			}
		}
	}
	kb_buf_putc(out, '\0');
	return n;
}

/* Scratch buffers of decode_record, reused from record to record, and the
 * arena the summaries are copied into (the audit's). */
typedef struct {
	kb_buf mem, nulls;
	kb_arena *arena;
} decode_ctx;

/*
 * Decode a record body [p, end) (the lines after P, ending with "E\n"):
 * its warnings go to `warn`, the summary to *s, its strings in dc->arena
 * (v NULL when the file did not parse).  -1 when the record is malformed (nothing added).
 */
static int decode_record(kb__csum *s, kb_diags *warn, const char *p, const char *end,
			 decode_ctx *dc)
{
	kb_buf *const mem = &dc->mem, *const nulls = &dc->nulls;
	kb_diags w = KB_DIAGS_INIT;
	size_t nstr = 0, nkv = 0, nlinks = 0, i, off;
	const char *nl, *q;
	int status = 0, have_c = 0, ok = 0;
	unsigned flags = 0;
	long nf;
	char *f, *endp;

	memset(s, 0, sizeof(*s));
	kb_buf_clear(mem);
	kb_buf_clear(nulls);
	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			goto done;
		if (nl - p == 1 && *p == 'E') {
			ok = nl + 1 == end;
			break;
		}
		if (nl - p < 2 || p[1] != '\t')
			goto done;
		off = mem->len;
		if ((nf = split_fields(mem, p + 2, nl)) < 0)
			goto done;
		f = mem->ptr + off;
		switch (*p) {
		case 'W': {
			long line;

			if (nf != 3 || have_c)
				goto done;
			line = strtol(f, &endp, 10);
			if (*endp || line < 0 || line > 1000000000)
				goto done;
			q = f + strlen(f) + 1;
			kb_diags_add(&w, KB_DIAG_WARNING, *q ? q : NULL, (int)line, "%s",
				     q + strlen(q) + 1);
			kb_buf_truncate(mem, off);
			break;
		}
		case 'C': {
			long st;

			if (nf != 6 || have_c)
				goto done;
			st = strtol(f, &endp, 10);
			if (*endp || st < 0 || st > KB_STATUS_OBSOLETE)
				goto done;
			q = f + strlen(f) + 1;
			flags = (unsigned)strtoul(q, &endp, 10);
			if (*endp)
				goto done;
			status = (int)st;
			have_c = 1;
			/* keep id, title and the two keys: drop the two numbers */
			q += strlen(q) + 1;
			memmove(f, q, (size_t)(mem->ptr + mem->len - q));
			mem->len -= (size_t)(q - f);
			nstr += 4;
			break;
		}
		case 'K': case 'N':
			if (!have_c || nlinks || nf != (*p == 'K' ? 2 : 1))
				goto done;
			if (*p == 'N')
				kb_buf_putc(mem, '\0');   /* the value, NULL below */
			while (nulls->len < nstr + 1)
				kb_buf_putc(nulls, 0);
			kb_buf_putc(nulls, *p == 'N');
			nkv++;
			nstr += 2;
			break;
		case 'L':
			if (!have_c || nf != 1)
				goto done;
			nlinks++;
			nstr++;
			break;
		default:
			goto done;
		}
	}
	if (!ok)
		goto done;
	if (have_c) {
		char *m = kb_arena_alloc(dc->arena, mem->len);

		memcpy(m, mem->ptr, mem->len);
		s->v = kb_arena_alloc(dc->arena, (nstr + 1) * sizeof(*s->v));
		s->v[nstr] = NULL;
		for (i = 0, q = m; i < nstr; i++, q += strlen(q) + 1)
			s->v[i] = i < nulls->len && nulls->ptr[i] ? NULL : q;
		s->nkv = nkv;
		s->nlinks = nlinks;
		s->status = status;
		s->flags = flags;
	}
	for (i = 0; i < w.count; i++)
		kb_diags_add(warn, w.items[i].severity, w.items[i].path, w.items[i].line, "%s",
			     w.items[i].message);
done:
	kb_diags_release(&w);
	return ok ? 0 : -1;
}

/* ---- the cache file ---------------------------------------------------- */

typedef struct {
	const char *path;          /* escaped, as in the file; not terminated */
	size_t path_len;
	size_t start, body, end;   /* P line, record body, after E */
	long long size, mtime, ctime, ino;
} sum_rec;

/* A piece of the cache file to write: a record of the old file (a hit,
 * whose P line is the same; buf 0) or of a part's records (a file read
 * again; buf 1 + the part). */
typedef struct {
	size_t off, len;
	int buf;
} sum_seg;

/*
 * Records are written in the order the work tree is walked, so the next
 * file is nearly always the record after the last one matched: matching
 * looks there first (and a few records on, for deleted files), and only
 * on a miss builds a path -> record map once.
 */
#define MATCH_AHEAD 8

/* Work trees of this many case files or more are loaded by two threads
 * (a variable for the tests). */
size_t kb__audit_split_files = 4096;

/* A cache file this large is rewritten only when at least REWRITE_FILES
 * files were read again or dropped (a variable for the tests). */
size_t kb__audit_rewrite_bytes = 8u << 20;
#define REWRITE_FILES 256

typedef struct {
	kb_audit *a;
	kb_buf old;                /* the cache file read */
	sum_rec *recs;
	size_t nrecs;
	sum_seg *segs;             /* the cache file to write, in order */
	size_t nsegs, asegs;
	kb_buf header;
	long long racy;            /* cache mtime ns: newer files are re-read */
	int cfd;                   /* cases/ */
	const char **files;        /* relative paths ("cases/..."), walk order */
	size_t nfiles, afiles;
	kb_arena names;            /* of files */
	kb_buf outs[2];            /* records the parts wrote (the files read again) */
} load_state;

/* One file as a part loaded it. */
typedef struct {
	kb__csum s;                /* v NULL: unparsable, or skipped */
	size_t w0, w1;             /* its warnings in the part's diags */
	size_t off, len;           /* its record: in the old file or the part's out */
	int state;                 /* LF_* */
	int err;                   /* errno of a failed stat */
} lfile;

enum { LF_GONE, LF_HIT, LF_READ, LF_ERR };

/* A contiguous range of the files, loaded on one thread. */
typedef struct {
	load_state *ls;
	size_t from, to;
	lfile *lf;                 /* ls->files[from..to) */
	size_t next;               /* after the record matched last */
	kb__smap by_path;          /* escaped path -> recs index, built on a miss */
	int mapped;
	kb_buf out;                /* records of the files read again */
	kb_buf text, key;
	decode_ctx dc;
	kb_arena arena;            /* the summaries */
	kb_diags warn;
	size_t hits, parsed;
	int dfd;                   /* the directory of the current file, -1 none */
	kb_buf dir;                /* its path ("cases/.../") */
	int rc;                    /* < 0: failed, with err */
	char *err;
} load_part;

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* "P" line fields after the path: size mtime ctime inode. */
static void put_stat(kb_buf *b, const struct stat *st)
{
	kb_buf_printf(b, "\t%lld\t%lld\t%lld\t%lld\n", (long long)st->st_size, ns_of(&st->st_mtim),
		      ns_of(&st->st_ctim), (long long)st->st_ino);
}

/* A decimal field of a P line ending at '\t' or '\n' (*p moved past it). */
static int stat_field(const char **p, const char *end, long long *out)
{
	const char *q = *p;
	long long v = 0;
	int neg = 0;

	if (q < end && *q == '-')
		neg = 1, q++;
	if (q >= end || *q < '0' || *q > '9')
		return -1;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		if (v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*q - '0');
	}
	if (q >= end || (*q != '\t' && *q != '\n'))
		return -1;
	*out = neg ? -v : v;
	*p = q + 1;
	return 0;
}

/* Read and index the old cache; any fault leaves it empty (rebuilt). */
static void load_index(load_state *ls, const char *file)
{
	struct stat st;
	const char *p, *nl, *end, *q;
	sum_rec r;
	size_t alloc = 0;
	int fd, ok = 0;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		ssize_t n;

		ls->racy = ns_of(&st.st_mtim);
		kb_buf_grow(&ls->old, (size_t)st.st_size + 1);
		while ((n = read(fd, ls->old.ptr + ls->old.len, ls->old.alloc - ls->old.len - 1)) > 0) {
			ls->old.len += (size_t)n;
			if (ls->old.alloc - ls->old.len < 2)
				kb_buf_grow(&ls->old, 65536);
		}
		ls->old.ptr[ls->old.len] = '\0';
		ok = n == 0;
	}
	close(fd);
	if (!ok || ls->old.len < ls->header.len ||
	    memcmp(ls->old.ptr, ls->header.ptr, ls->header.len))
		goto bad;
	end = ls->old.ptr + ls->old.len;
	for (p = ls->old.ptr + ls->header.len; p < end; ) {
		memset(&r, 0, sizeof(r));
		r.start = (size_t)(p - ls->old.ptr);
		if (!(nl = memchr(p, '\n', (size_t)(end - p))) || p[0] != 'P' || p[1] != '\t')
			goto bad;
		r.path = p + 2;
		if (!(q = memchr(r.path, '\t', (size_t)(nl - r.path))))
			goto bad;
		r.path_len = (size_t)(q - r.path);
		q++;
		if (stat_field(&q, nl + 1, &r.size) < 0 || stat_field(&q, nl + 1, &r.mtime) < 0 ||
		    stat_field(&q, nl + 1, &r.ctime) < 0 || stat_field(&q, nl + 1, &r.ino) < 0 ||
		    q != nl + 1)
			goto bad;
		r.body = (size_t)(nl + 1 - ls->old.ptr);
		/* the record ends after its "E" line */
		for (p = nl + 1; p < end; p = nl + 1) {
			if (!(nl = memchr(p, '\n', (size_t)(end - p))))
				goto bad;
			if (nl - p == 1 && *p == 'E')
				break;
		}
		if (p >= end)
			goto bad;
		r.end = (size_t)(nl + 1 - ls->old.ptr);
		p = nl + 1;
		if (ls->nrecs == alloc) {
			alloc = alloc ? 2 * alloc : 1024;
			ls->recs = kb_xrealloc(ls->recs, alloc * sizeof(*ls->recs));
		}
		ls->recs[ls->nrecs++] = r;
	}
	return;
bad:
	ls->nrecs = 0;
	kb_buf_clear(&ls->old);
}

/* The record of the file whose escaped path is [path, path + len); NULL
 * when there is none. */
static const sum_rec *match_rec(load_part *lp, const char *path, size_t len)
{
	const load_state *ls = lp->ls;
	size_t i, idx;

	for (i = lp->next; i < ls->nrecs && i < lp->next + MATCH_AHEAD; i++) {
		if (ls->recs[i].path_len == len && !memcmp(ls->recs[i].path, path, len)) {
			lp->next = i + 1;
			return &ls->recs[i];
		}
	}
	if (!lp->mapped) {
		/* a file added or moved: index every record once (the first
		 * occurrence of a path wins, as a lookup would find it) */
		lp->mapped = 1;
		for (i = ls->nrecs; i-- > 0;) {
			kb_buf_set(&lp->key, ls->recs[i].path, ls->recs[i].path_len);
			kb__smap_put(&lp->by_path, lp->key.ptr, i);
		}
	}
	kb_buf_set(&lp->key, path, len);
	if (!kb__smap_get(&lp->by_path, lp->key.ptr, &idx))
		return NULL;
	lp->next = idx + 1;
	return &ls->recs[idx];
}

/* Where a part starting at escaped path [path, path + len) starts
 * matching: the first record not before it (records are in walk order,
 * which is byte order of the paths; a wrong guess only costs the map). */
static size_t first_rec(const load_state *ls, const char *path, size_t len)
{
	size_t lo = 0, hi = ls->nrecs, mid, n;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		n = ls->recs[mid].path_len < len ? ls->recs[mid].path_len : len;
		c = memcmp(ls->recs[mid].path, path, n);
		if (c < 0 || (c == 0 && ls->recs[mid].path_len < len))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Write the cache through a temporary file; a failure only costs speed. */
static void save_index(load_state *ls, const char *file)
{
	kb_buf tmp = KB_BUF_INIT;
	size_t i;
	FILE *f;
	int ok;

	kb_buf_printf(&tmp, "%s.tmp%ld", file, (long)getpid());
	if (!(f = fopen(tmp.ptr, "wb")))
		goto done;
	/* 100,000 records of a few hundred bytes: write them 1 MiB at a time */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	ok = fwrite(ls->header.ptr, 1, ls->header.len, f) == ls->header.len;
	for (i = 0; i < ls->nsegs && ok; i++) {
		const sum_seg *g = &ls->segs[i];

		ok = fwrite((g->buf ? ls->outs[g->buf - 1].ptr : ls->old.ptr) + g->off, 1, g->len,
			    f) == g->len;
	}
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp.ptr, file) < 0)
		remove(tmp.ptr);
done:
	kb_buf_release(&tmp);
}

/* ---- walking the work tree ---------------------------------------------- */

static void add_seg(load_state *ls, int buf, size_t off, size_t len)
{
	if (ls->nsegs == ls->asegs) {
		ls->asegs = ls->asegs ? 2 * ls->asegs : 1024;
		ls->segs = kb_xrealloc(ls->segs, ls->asegs * sizeof(*ls->segs));
	}
	ls->segs[ls->nsegs].off = off;
	ls->segs[ls->nsegs].len = len;
	ls->segs[ls->nsegs++].buf = buf;
}

static void put_warning(kb_buf *out, int line, const char *path, const char *message)
{
	kb_buf_printf(out, "W\t%d", line);
	put_field(out, path);
	put_field(out, message);
	kb_buf_putc(out, '\n');
}

/*
 * The descriptor of the directory of file `rel` (a path below cases/ whose
 * directories the listing walked), opened component by component from
 * cases/ without following symlinks, and kept while the next files are in
 * the same directory (they are, in walk order): one fstatat() and one
 * openat() of a name per file.  -1 with errno set when it cannot be opened.
 */
static int part_dir(load_part *lp, const char *rel, const char **base)
{
	const char *slash = strrchr(rel, '/'), *p, *q;
	size_t len = (size_t)(slash - rel) + 1;
	char part[NAME_MAX + 1];
	int fd, next;

	*base = slash + 1;
	if (lp->dfd >= 0 && lp->dir.len == len && !memcmp(lp->dir.ptr, rel, len))
		return lp->dfd;
	if (lp->dfd >= 0)
		close(lp->dfd);
	kb_buf_clear(&lp->dir);
	if ((lp->dfd = fd = dup(lp->ls->cfd)) < 0)
		return -1;
	for (p = rel + sizeof(KB_CASES_DIR); p < slash; p = q + 1) {
		q = strchr(p, '/');
		if ((size_t)(q - p) > NAME_MAX) {
			errno = ENAMETOOLONG;
			next = -1;
		} else {
			memcpy(part, p, (size_t)(q - p));
			part[q - p] = '\0';
			next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		close(fd);
		lp->dfd = fd = next;
		if (fd < 0)
			return -1;
	}
	kb_buf_set(&lp->dir, rel, len);
	return fd;
}

/*
 * One case file: from the cache when its stat data matches, else read and
 * parsed.  Runs on a part's thread: touches only the part, and reads the
 * load state, the store's paths and configuration.
 */
static int load_one(load_part *lp, const char *rel, lfile *f)
{
	load_state *ls = lp->ls;
	kb_store *store = ls->a->store;
	struct stat st;
	kb_case *c = NULL;
	const kb_error *e;
	const sum_rec *r;
	size_t rec = lp->out.len, body, w0 = lp->warn.count;
	const char *base;
	int rc, dfd;

	f->state = LF_GONE;
	if ((dfd = part_dir(lp, rel, &base)) < 0 ||
	    fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		/* vanished, or a directory replaced by a symlink meanwhile:
		 * skipped as the store's walk does */
		if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR)
			f->state = LF_ERR, f->err = errno;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return 0;   /* replaced by a symlink meanwhile: skipped as the store does */
	kb_buf_putc(&lp->out, 'P');
	put_field(&lp->out, rel);
	r = match_rec(lp, lp->out.ptr + rec + 2, lp->out.len - rec - 2);
	put_stat(&lp->out, &st);
	body = lp->out.len;
	if (r && r->size == (long long)st.st_size && r->mtime == ns_of(&st.st_mtim) &&
	    r->ctime == ns_of(&st.st_ctim) && r->ino == (long long)st.st_ino &&
	    r->mtime < ls->racy &&
	    decode_record(&f->s, &lp->warn, ls->old.ptr + r->body, ls->old.ptr + r->end,
			  &lp->dc) == 0) {
		kb_buf_truncate(&lp->out, rec);
		f->state = LF_HIT;
		f->off = r->start;
		f->len = r->end - r->start;
		lp->hits++;
		goto done;
	}
	lp->parsed++;
	if ((rc = kb__read_file_at(&lp->text, dfd, base, rel, KB_CASE_MAX_BYTES)) < 0) {
		kb_buf_truncate(&lp->out, rec);
		return rc == KB_ENOTFOUND ? 0 : rc;
	}
	if (kb_case_parse(&c, lp->text.ptr, lp->text.len, rel,
			  kb_config_aliases(kb_store_config(store))) < 0) {
		e = kb_error_last();
		put_warning(&lp->out, e->line, e->path ? e->path : rel, e->message);
	} else {
		kb_diags w = KB_DIAGS_INIT;
		size_t i;

		kb__audit_check_fields(&w, c, rel);
		for (i = 0; i < w.count; i++)
			put_warning(&lp->out, w.items[i].line,
				    w.items[i].path ? w.items[i].path : "", w.items[i].message);
		kb_diags_release(&w);
		encode_case(&lp->out, c);
		kb_case_free(c);
	}
	kb_buf_puts(&lp->out, "E\n");
	if (decode_record(&f->s, &lp->warn, lp->out.ptr + body, lp->out.ptr + lp->out.len,
			  &lp->dc) < 0)
		return kb_error_set(KB_EIO, rel, 0, "internal: bad case summary of '%s'", rel);
	f->state = LF_READ;
	f->off = rec;
	f->len = lp->out.len - rec;
done:
	f->w0 = w0;
	f->w1 = lp->warn.count;
	return 0;
}

static void *load_part_run(void *arg)
{
	load_part *lp = arg;
	load_state *ls = lp->ls;
	size_t i;

	if (lp->from < lp->to && lp->from > 0) {
		kb_buf_clear(&lp->key);
		put_field(&lp->key, ls->files[lp->from]);
		lp->next = first_rec(ls, lp->key.ptr + 1, lp->key.len - 1);
	}
	for (i = lp->from; i < lp->to && lp->rc == 0; i++)
		lp->rc = load_one(lp, ls->files[i], &lp->lf[i - lp->from]);
	if (lp->rc < 0)
		lp->err = kb_xstrdup(kb_error_last()->message);
	return NULL;
}

static void part_release(load_part *lp)
{
	kb_buf_release(&lp->out);
	kb_buf_release(&lp->text);
	kb_buf_release(&lp->key);
	kb_buf_release(&lp->dc.mem);
	kb_buf_release(&lp->dc.nulls);
	kb__smap_release(&lp->by_path);
	kb_arena_release(&lp->arena);
	kb_diags_release(&lp->warn);
	kb_buf_release(&lp->dir);
	if (lp->dfd >= 0)
		close(lp->dfd);
	free(lp->lf);
	free(lp->err);
}

/* kb__walk_case_dir's step: list the file. */
static int list_file(void *ctx, int dfd, const char *name, const char *relpath)
{
	load_state *ls = ctx;

	(void)dfd, (void)name;
	if (ls->nfiles == ls->afiles) {
		ls->afiles = ls->afiles ? 2 * ls->afiles : 256;
		ls->files = kb_xrealloc(ls->files, ls->afiles * sizeof(*ls->files));
	}
	ls->files[ls->nfiles++] = kb_arena_strdup(&ls->names, relpath);
	return 0;
}

/*
 * Load every listed file on one or two threads (parts), then take the
 * results in walk order: warnings, cache segments and cases come out as
 * from one sequential walk.  *changed: files read again plus records no
 * file matched (the cache file is then out of date).
 */
static int load_files(load_state *ls, size_t *changed)
{
	kb_audit *a = ls->a;
	load_part parts[2];
	size_t np = ls->nfiles >= kb__audit_split_files && ls->nfiles >= 2 ? 2 : 1, i, j, k;
	pthread_t th;
	int threaded = 0, rc = 0;
	lfile *f;

	memset(parts, 0, sizeof(parts));
	for (k = 0; k < np; k++) {
		parts[k].ls = ls;
		parts[k].from = ls->nfiles * k / np;
		parts[k].to = ls->nfiles * (k + 1) / np;
		parts[k].lf = kb_xcalloc(parts[k].to - parts[k].from + 1, sizeof(*parts[k].lf));
		parts[k].dc.arena = &parts[k].arena;
		parts[k].dfd = -1;
	}
	if (np == 2)
		threaded = pthread_create(&th, NULL, load_part_run, &parts[1]) == 0;
	load_part_run(&parts[0]);
	if (np == 2 && threaded)
		pthread_join(th, NULL);
	else if (np == 2)
		load_part_run(&parts[1]);
	*changed = 0;
	for (k = 0; k < np; k++) {
		load_part *lp = &parts[k];

		if (lp->rc < 0) {
			rc = kb_error_set(KB_EIO, NULL, 0, "%s", lp->err);
			break;
		}
		for (i = 0; i < lp->to - lp->from; i++) {
			f = &lp->lf[i];
			if (f->state == LF_ERR) {
				rc = kb_error_set(KB_EIO, ls->files[lp->from + i], 0,
						  "cannot stat '%s': %s", ls->files[lp->from + i],
						  strerror(f->err));
				break;
			}
			if (f->state == LF_GONE)
				continue;
			for (j = f->w0; j < f->w1; j++)
				kb_diags_add(&a->warnings, lp->warn.items[j].severity,
					     lp->warn.items[j].path, lp->warn.items[j].line, "%s",
					     lp->warn.items[j].message);
			add_seg(ls, f->state == LF_READ ? 1 + (int)k : 0, f->off, f->len);
			if (f->s.v)
				kb__audit_add_case(a, &f->s, ls->files[lp->from + i]);
		}
		if (rc < 0)
			break;
		*changed += lp->parsed;
		a->parsed += lp->parsed;
	}
	/* the parts' records and summaries live on in the state and the audit */
	for (k = 0; k < np; k++) {
		kb_arena_take(&a->arena, &parts[k].arena);
		ls->outs[k] = parts[k].out;
		parts[k].out = (kb_buf)KB_BUF_INIT;
	}
	if (rc == 0)
		*changed += ls->nrecs - (parts[0].hits + (np == 2 ? parts[1].hits : 0));
	for (k = 0; k < np; k++)
		part_release(&parts[k]);
	return rc;
}

int kb__audit_load_cases(kb_audit *a)
{
	load_state ls;
	kb_buf file = KB_BUF_INIT, path = KB_BUF_INIT;
	struct stat st;
	size_t changed = 0;
	int fd, rc = 0, cached;

	memset(&ls, 0, sizeof(ls));
	ls.a = a;
	ls.cfd = -1;
	kb_buf_printf(&path, "%s%s", a->store->workdir, KB_CONFIG_FILE);
	if (stat(path.ptr, &st) < 0)
		memset(&st, 0, sizeof(st));
	kb_buf_printf(&ls.header, "%s\t%lld\t%lld\n", SUM_MAGIC, (long long)st.st_size,
		      ns_of(&st.st_mtim));
	cached = kb_store_cachedir(&file, a->store) == 0;
	if (cached) {
		kb_buf_puts(&file, SUM_FILE);
		load_index(&ls, file.ptr);
	}
	kb_buf_clear(&path);
	kb_buf_printf(&path, "%s%s", a->store->workdir, KB_CASES_DIR);
	fd = open(path.ptr, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
	if (fd < 0 && errno == ENOENT) {
		changed = ls.nrecs;
		goto save;
	}
	if (fd < 0 || (ls.cfd = dup(fd)) < 0) {
		rc = kb_error_set(KB_EIO, KB_CASES_DIR, 0, "cannot open '%s': %s", KB_CASES_DIR,
				  strerror(errno));
		if (fd >= 0)
			close(fd);
		goto done;
	}
	kb_buf_set(&path, KB_CASES_DIR "/", sizeof(KB_CASES_DIR));
	if ((rc = kb__walk_case_dir(fd, &path, list_file, &ls)) < 0 ||
	    (rc = load_files(&ls, &changed)) < 0)
		goto done;
save:
	/*
	 * A large cache is not rewritten for a few changed files: they are
	 * read again next time (~50 us each), which costs less than writing
	 * 60 MB at 100,000 cases after every edit.
	 */
	if (cached && changed &&
	    (ls.old.len < kb__audit_rewrite_bytes || changed >= REWRITE_FILES))
		save_index(&ls, file.ptr);
done:
	git_error_clear();
	if (ls.cfd >= 0)
		close(ls.cfd);
	kb_buf_release(&file);
	kb_buf_release(&path);
	kb_buf_release(&ls.old);
	kb_buf_release(&ls.outs[0]);
	kb_buf_release(&ls.outs[1]);
	kb_buf_release(&ls.header);
	kb_arena_release(&ls.names);
	free(ls.files);
	free(ls.recs);
	free(ls.segs);
	return rc;
}
