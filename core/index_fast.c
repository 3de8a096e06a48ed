/*
 * index_fast.c - opening a KB's index without git when it is provably
 * current (kb_index_open_current, kb/index.h).  kb_index_open_store()
 * records, after a sync that left nothing dirty, a signature of every file
 * that sync consulted (HEAD, the branch ref, packed-refs, git's index,
 * cases/, kb.conf, the synonym file) together with the options it used;
 * when the signature still matches, a later process may use the index as
 * it is and skip libgit2 (whose start-up alone parses the system's CA
 * bundle), the config parser and the sync.  See docs/internals/index.md,
 * "Fast open".
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/index.h"
#include "kb/store.h"
#include "kb/tokenizer.h"
#include "index_internal.h"

#define FAST_META_KEY "fastopen"
#define FAST_VERSION "fast1"

/* One file's identity as "name=ino:size:mtime:ctime;", or "name=-;". */
static void stat_part(kb_buf *out, const char *dir, const char *name)
{
	kb_buf p = KB_BUF_INIT;
	struct stat st;

	kb_buf_printf(&p, "%s%s", dir, name);
	if (lstat(p.ptr, &st) == 0)
		kb_buf_printf(out, "%s=%llu:%lld:%lld.%09ld:%lld.%09ld;", name,
			      (unsigned long long)st.st_ino, (long long)st.st_size,
			      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			      (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	else
		kb_buf_printf(out, "%s=-;", name);
	kb_buf_release(&p);
}

/* The ref HEAD names ("refs/heads/main"), or "" when HEAD is detached or
 * unreadable; 1 when the ref name is unsafe (then no signature). */
static int head_ref(kb_buf *out, const char *gitdir)
{
	kb_buf p = KB_BUF_INIT;
	char line[512];
	size_t n = 0;
	FILE *f;
	int rc = 0;

	kb_buf_printf(&p, "%sHEAD", gitdir);
	f = fopen(p.ptr, "r");
	kb_buf_release(&p);
	if (f) {
		n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
	}
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "ref: ", 5) != 0)
		return 0;
	if (strncmp(line + 5, "refs/", 5) != 0 || strstr(line, ".."))
		rc = 1;
	else
		kb_buf_puts(out, line + 5);
	return rc;
}

int kb_index__fast_sig(kb_buf *out, const char *workdir, const char *gitdir,
		       const char *synfile)
{
	kb_buf ref = KB_BUF_INIT;
	int rc;

	kb_buf_clear(out);
	if ((rc = head_ref(&ref, gitdir)) == 0) {
		stat_part(out, gitdir, "HEAD");
		if (ref.len)
			stat_part(out, gitdir, ref.ptr);
		stat_part(out, gitdir, "packed-refs");
		stat_part(out, gitdir, "index");
		stat_part(out, workdir, KB_CASES_DIR);
		stat_part(out, workdir, KB_CONFIG_FILE);
		stat_part(out, workdir, synfile);
	}
	kb_buf_release(&ref);
	return rc;
}

static void put_options(kb_buf *b, const kb_index *idx, const char *synfile)
{
	int i;

	kb_buf_printf(b, "%s\n%s\n%s\n%s\n", FAST_VERSION, KB_INDEX_SCHEMA_VERSION, idx->tokenize,
		      synfile);
	for (i = 0; i < KB_COL__COUNT; i++)
		kb_buf_printf(b, "%.17g ", idx->weights[i]);
	kb_buf_putc(b, '\n');
}

static int meta_read(sqlite3 *db, const char *key, kb_buf *out)
{
	sqlite3_stmt *st = NULL;
	int rc = 1;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL))
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		kb_buf_clear(out);
		kb_buf_puts(out, (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int dirty_empty(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int empty = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM dirty LIMIT 1", -1, &st, NULL) == SQLITE_OK)
		empty = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return empty;
}

void kb_index__fast_record(kb_index *idx, const char *sig, const char *synfile)
{
	kb_buf val = KB_BUF_INIT, old = KB_BUF_INIT;
	sqlite3_stmt *st = NULL;

	put_options(&val, idx, synfile);
	kb_buf_puts(&val, sig);
	if (!dirty_empty(idx->db) || (meta_read(idx->db, FAST_META_KEY, &old) == 0 &&
				      !strcmp(old.ptr, val.ptr)))
		goto done;
	/* best effort: a failure only means the next process syncs */
	if (sqlite3_prepare_v2(idx->db, "INSERT OR REPLACE INTO meta VALUES (?1, ?2)", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, FAST_META_KEY, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, val.ptr, -1, SQLITE_STATIC);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
done:
	kb_buf_release(&val);
	kb_buf_release(&old);
}

/* The KB top for `dir` as kb_store_open() finds it (the nearest directory
 * with kb.conf), in the simple layout only: a .git directory there, owned
 * by us (libgit2 refuses repositories owned by others). */
static int find_top(kb_buf *workdir, kb_buf *gitdir, const char *dir)
{
	char *real = realpath(dir, NULL), *slash;
	kb_buf p = KB_BUF_INIT;
	struct stat st;
	int rc = 1;

	while (real && rc == 1) {
		kb_buf_clear(&p);
		kb_buf_printf(&p, "%s/" KB_CONFIG_FILE, strcmp(real, "/") ? real : "");
		if (lstat(p.ptr, &st) == 0 && S_ISREG(st.st_mode)) {
			kb_buf_clear(&p);
			kb_buf_printf(&p, "%s/.git", strcmp(real, "/") ? real : "");
			if (lstat(p.ptr, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
				kb_buf_printf(workdir, "%s/", strcmp(real, "/") ? real : "");
				kb_buf_printf(gitdir, "%s/", p.ptr);
				rc = 0;
			}
			break;
		}
		slash = strrchr(real, '/');
		if (!slash || !strcmp(real, "/"))
			break;
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(real);
	kb_buf_release(&p);
	return rc;
}

/* Parse the recorded options into idx; returns the synonym file's name
 * (inside `rec`) and the recorded signature, or NULL when malformed. */
static const char *parse_options(kb_index *idx, char *rec, const char **sig)
{
	char *line[5], *p = rec, *end;
	int i;

	for (i = 0; i < 5; i++) {
		line[i] = p;
		if (!(p = strchr(p, '\n')))
			return NULL;
		*p++ = '\0';
	}
	*sig = p;
	if (strcmp(line[0], FAST_VERSION) || strcmp(line[1], KB_INDEX_SCHEMA_VERSION))
		return NULL;
	idx->tokenize = kb_xstrdup(line[2]);
	p = line[4];
	for (i = 0; i < KB_COL__COUNT; i++) {
		idx->weights[i] = strtod(p, &end);
		if (end == p)
			return NULL;
		p = end;
	}
	return line[3];
}

static int open_file(kb_index *idx)
{
	if (sqlite3_open_v2(idx->path, &idx->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		return 1;
	sqlite3_busy_timeout(idx->db, KB_INDEX_BUSY_MS);
	sqlite3_extended_result_codes(idx->db, 1);
	if (kb_tokenizer_register(idx->db) || kb_index__register_explain(idx))
		return 1;
	/* as set_pragmas() in index.c; journal_mode=WAL is kept in the file */
	return sqlite3_exec(idx->db, "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-8192;"
			    " PRAGMA secure_delete=OFF; PRAGMA mmap_size=1073741824", NULL, NULL,
			    NULL) != SQLITE_OK;
}

/* 0 when the recorded state matches the files now; then the options and
 * synonyms are set on idx. */
static int check_current(kb_index *idx, const char *workdir, const char *gitdir)
{
	kb_buf rec = KB_BUF_INIT, now = KB_BUF_INIT, syn = KB_BUF_INIT;
	const char *synfile, *sig = NULL;
	struct stat st;
	int rc = 1;

	if (meta_read(idx->db, FAST_META_KEY, &rec) != 0 ||
	    !(synfile = parse_options(idx, rec.ptr, &sig)) ||
	    kb_index__fast_sig(&now, workdir, gitdir, synfile) != 0 || strcmp(now.ptr, sig) ||
	    !dirty_empty(idx->db))
		goto done;
	kb_buf_printf(&syn, "%s%s", workdir, synfile);
	if (lstat(syn.ptr, &st) == 0 && !S_ISREG(st.st_mode))
		goto done;
	if (kb_synonyms_load(&idx->own_synonyms, syn.ptr) < 0)
		goto done;
	idx->synonyms = idx->own_synonyms;
	rc = 0;
done:
	kb_buf_release(&rec);
	kb_buf_release(&now);
	kb_buf_release(&syn);
	return rc;
}

int kb_index_open_current(kb_index **out, const char *dir)
{
	kb_buf workdir = KB_BUF_INIT, gitdir = KB_BUF_INIT, cache = KB_BUF_INIT;
	kb_index *idx = NULL;
	int rc = 1;

	*out = NULL;
	if (find_top(&workdir, &gitdir, dir ? dir : ".") != 0)
		goto done;
	kb_buf_printf(&cache, "%skb", gitdir.ptr);
	if (access(cache.ptr, W_OK) != 0)
		goto done;
	kb_buf_puts(&cache, "/index.sqlite");
	if (access(cache.ptr, R_OK | W_OK) != 0)
		goto done;
	idx = kb_xcalloc(1, sizeof(*idx));
	idx->ndocs = -1;
	idx->path = kb_buf_detach(&cache);
	/* the same corruption check as kb_index_open(): a damaged small file
	 * goes to the store path, which deletes and rebuilds it */
	if (open_file(idx) == 0 && check_current(idx, workdir.ptr, gitdir.ptr) == 0 &&
	    kb_index__quick_check_ok(idx))
		rc = 0;
done:
	if (rc) {
		kb_index_close(idx);
		kb_error_clear();
	} else {
		*out = idx;
	}
	kb_buf_release(&workdir);
	kb_buf_release(&gitdir);
	kb_buf_release(&cache);
	return rc;
}
