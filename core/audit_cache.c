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
		if (!strcmp(s->v[4 + 2 * i], key))
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

/*
 * Decode a record body [p, end) (the lines after P, ending with "E\n"):
 * its warnings go to `warn`, the summary to *s (mem NULL when the file did
 * not parse).  -1 when the record is malformed (nothing added).
 */
static int decode_record(kb__csum *s, kb_diags *warn, const char *p, const char *end)
{
	kb_buf mem = KB_BUF_INIT, nulls = KB_BUF_INIT;
	kb_diags w = KB_DIAGS_INIT;
	size_t nstr = 0, nkv = 0, nlinks = 0, i, off;
	const char *nl, *q;
	int status = 0, have_c = 0, ok = 0;
	unsigned flags = 0;
	long nf;
	char *f, *endp;

	memset(s, 0, sizeof(*s));
	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			goto done;
		if (nl - p == 1 && *p == 'E') {
			ok = nl + 1 == end;
			break;
		}
		if (nl - p < 2 || p[1] != '\t')
			goto done;
		off = mem.len;
		if ((nf = split_fields(&mem, p + 2, nl)) < 0)
			goto done;
		f = mem.ptr + off;
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
			kb_buf_truncate(&mem, off);
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
			memmove(f, q, (size_t)(mem.ptr + mem.len - q));
			mem.len -= (size_t)(q - f);
			nstr += 4;
			break;
		}
		case 'K': case 'N':
			if (!have_c || nlinks || nf != (*p == 'K' ? 2 : 1))
				goto done;
			if (*p == 'N')
				kb_buf_putc(&mem, '\0');   /* the value, NULL below */
			while (nulls.len < nstr + 1)
				kb_buf_putc(&nulls, 0);
			kb_buf_putc(&nulls, *p == 'N');
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
		s->v = kb_xcalloc(nstr + 1, sizeof(*s->v));
		s->mem = kb_buf_detach(&mem);
		for (i = 0, q = s->mem; i < nstr; i++, q += strlen(q) + 1)
			s->v[i] = i < nulls.len && nulls.ptr[i] ? NULL : q;
		s->nkv = nkv;
		s->nlinks = nlinks;
		s->status = status;
		s->flags = flags;
	}
	for (i = 0; i < w.count; i++)
		kb_diags_add(warn, w.items[i].severity, w.items[i].path, w.items[i].line, "%s",
			     w.items[i].message);
done:
	kb_buf_release(&mem);
	kb_buf_release(&nulls);
	kb_diags_release(&w);
	return ok ? 0 : -1;
}

/* ---- the cache file ---------------------------------------------------- */

typedef struct {
	size_t start, body, end;   /* P line, record body, after E */
	long long size, mtime, ctime, ino;
} sum_rec;

typedef struct {
	kb_audit *a;
	kb_buf old;                /* the cache file read */
	sum_rec *recs;
	size_t nrecs;
	kb__smap by_path;          /* path -> recs index */
	kb_buf out;                /* the cache file to write */
	kb_buf path, text, header;
	long long racy;            /* cache mtime ns: newer files are re-read */
	size_t hits;
	int fresh;                 /* a record was added or changed */
} load_state;

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

/* Read and index the old cache; any fault leaves it empty (rebuilt). */
static void load_index(load_state *ls, const char *file)
{
	kb_buf fields = KB_BUF_INIT;
	struct stat st;
	const char *p, *nl, *end, *q;
	sum_rec r;
	size_t alloc = 0, idx;
	char *e;
	int fd, ok = 0;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		char buf[65536];
		ssize_t n;

		ls->racy = ns_of(&st.st_mtim);
		kb_buf_grow(&ls->old, (size_t)st.st_size + 1);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			kb_buf_put(&ls->old, buf, (size_t)n);
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
		kb_buf_clear(&fields);
		if (split_fields(&fields, p + 2, nl) != 5)
			goto bad;
		q = fields.ptr + strlen(fields.ptr) + 1;
		r.size = strtoll(q, &e, 10);
		q += strlen(q) + 1;
		r.mtime = strtoll(q, &e, 10);
		q += strlen(q) + 1;
		r.ctime = strtoll(q, &e, 10);
		q += strlen(q) + 1;
		r.ino = strtoll(q, &e, 10);
		if (*e)
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
		if (kb__smap_get(&ls->by_path, fields.ptr, &idx))
			goto bad;
		if (ls->nrecs == alloc) {
			alloc = alloc ? 2 * alloc : 1024;
			ls->recs = kb_xrealloc(ls->recs, alloc * sizeof(*ls->recs));
		}
		ls->recs[ls->nrecs] = r;
		kb__smap_put(&ls->by_path, fields.ptr, ls->nrecs++);
	}
	kb_buf_release(&fields);
	return;
bad:
	kb_buf_release(&fields);
	kb__smap_release(&ls->by_path);
	memset(&ls->by_path, 0, sizeof(ls->by_path));
	ls->nrecs = 0;
	kb_buf_clear(&ls->old);
}

/* Write the cache through a temporary file; a failure only costs speed. */
static void save_index(load_state *ls, const char *file)
{
	kb_buf tmp = KB_BUF_INIT;
	FILE *f;
	int ok;

	kb_buf_printf(&tmp, "%s.tmp%ld", file, (long)getpid());
	if (!(f = fopen(tmp.ptr, "wb")))
		goto done;
	ok = fwrite(ls->out.ptr, 1, ls->out.len, f) == ls->out.len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp.ptr, file) < 0)
		remove(tmp.ptr);
done:
	kb_buf_release(&tmp);
}

/* ---- walking the work tree ---------------------------------------------- */

/* One case file: from the cache when its stat data matches, else parsed. */
static int load_one(load_state *ls, int dfd, const char *name)
{
	kb_audit *a = ls->a;
	struct stat st;
	kb__csum s;
	kb_case *c = NULL;
	const kb_error *e;
	const sum_rec *r;
	size_t idx, rec = ls->out.len, body;
	int rc;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : kb_error_set(KB_EIO, ls->path.ptr, 0,
							  "cannot stat '%s': %s", ls->path.ptr,
							  strerror(errno));
	if (!S_ISREG(st.st_mode))
		return 0;   /* replaced by a symlink meanwhile: skipped as the store does */
	kb_buf_putc(&ls->out, 'P');
	put_field(&ls->out, ls->path.ptr);
	put_stat(&ls->out, &st);
	body = ls->out.len;
	if (kb__smap_get(&ls->by_path, ls->path.ptr, &idx)) {
		r = &ls->recs[idx];
		if (r->size == (long long)st.st_size && r->mtime == ns_of(&st.st_mtim) &&
		    r->ctime == ns_of(&st.st_ctim) && r->ino == (long long)st.st_ino &&
		    r->mtime < ls->racy &&
		    decode_record(&s, &a->warnings, ls->old.ptr + r->body,
				  ls->old.ptr + r->end) == 0) {
			kb_buf_put(&ls->out, ls->old.ptr + r->body, r->end - r->body);
			ls->hits++;
			goto add;
		}
	}
	ls->fresh = 1;
	a->parsed++;
	if ((rc = kb_store_read_file(&ls->text, a->store, ls->path.ptr, KB_CASE_MAX_BYTES)) < 0) {
		kb_buf_truncate(&ls->out, rec);
		return rc == KB_ENOTFOUND ? 0 : rc;
	}
	if (kb_case_parse(&c, ls->text.ptr, ls->text.len, ls->path.ptr,
			  kb_config_aliases(kb_store_config(a->store))) < 0) {
		e = kb_error_last();
		kb_buf_printf(&ls->out, "W\t%d", e->line);
		put_field(&ls->out, e->path ? e->path : ls->path.ptr);
		put_field(&ls->out, e->message);
		kb_buf_putc(&ls->out, '\n');
	} else {
		kb_diags w = KB_DIAGS_INIT;
		size_t i;

		kb__audit_check_fields(&w, c, ls->path.ptr);
		for (i = 0; i < w.count; i++) {
			kb_buf_printf(&ls->out, "W\t%d", w.items[i].line);
			put_field(&ls->out, w.items[i].path ? w.items[i].path : "");
			put_field(&ls->out, w.items[i].message);
			kb_buf_putc(&ls->out, '\n');
		}
		kb_diags_release(&w);
		encode_case(&ls->out, c);
		kb_case_free(c);
	}
	kb_buf_puts(&ls->out, "E\n");
	if (decode_record(&s, &a->warnings, ls->out.ptr + body, ls->out.ptr + ls->out.len) < 0)
		return kb_error_set(KB_EIO, ls->path.ptr, 0, "internal: bad case summary of '%s'",
				    ls->path.ptr);
add:
	if (s.mem)
		kb__audit_add_case(a, &s, ls->path.ptr);
	return 0;
}

/* kb__walk_case_dir's step (ls->path is the file's path). */
static int load_file(void *ctx, int dfd, const char *name, const char *relpath)
{
	(void)relpath;
	return load_one(ctx, dfd, name);
}

int kb__audit_load_cases(kb_audit *a)
{
	load_state ls;
	kb_buf file = KB_BUF_INIT;
	struct stat st;
	int fd, rc = 0, cached;

	memset(&ls, 0, sizeof(ls));
	ls.a = a;
	kb_buf_printf(&ls.path, "%s%s", a->store->workdir, KB_CONFIG_FILE);
	if (stat(ls.path.ptr, &st) < 0)
		memset(&st, 0, sizeof(st));
	kb_buf_printf(&ls.header, "%s\t%lld\t%lld\n", SUM_MAGIC, (long long)st.st_size,
		      ns_of(&st.st_mtim));
	kb_buf_clear(&ls.path);
	cached = kb_store_cachedir(&file, a->store) == 0;
	if (cached) {
		kb_buf_puts(&file, SUM_FILE);
		load_index(&ls, file.ptr);
	}
	kb_buf_grow(&ls.out, ls.old.len + 65536);
	kb_buf_set(&ls.out, ls.header.ptr, ls.header.len);
	kb_buf_printf(&ls.path, "%s%s", a->store->workdir, KB_CASES_DIR);
	fd = open(ls.path.ptr, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
	kb_buf_clear(&ls.path);
	if (fd < 0 && errno == ENOENT)
		goto save;
	if (fd < 0) {
		rc = kb_error_set(KB_EIO, KB_CASES_DIR, 0, "cannot open '%s': %s", KB_CASES_DIR,
				  strerror(errno));
		goto done;
	}
	kb_buf_puts(&ls.path, KB_CASES_DIR "/");
	if ((rc = kb__walk_case_dir(fd, &ls.path, load_file, &ls)) < 0)
		goto done;
save:
	if (cached && (ls.fresh || ls.hits != ls.nrecs))
		save_index(&ls, file.ptr);
done:
	git_error_clear();
	kb_buf_release(&file);
	kb_buf_release(&ls.old);
	kb_buf_release(&ls.out);
	kb_buf_release(&ls.path);
	kb_buf_release(&ls.text);
	kb_buf_release(&ls.header);
	free(ls.recs);
	kb__smap_release(&ls.by_path);
	return rc;
}
