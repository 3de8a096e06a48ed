/*
 * store_layout.c - finding a case by id (kb/store.h): its canonical path
 * (kb_store_case_relpath, in store.c), else the flat path of older KBs, else
 * any path under cases/ that git's index tracks with the file name <id>.md.
 * The last step uses a map of git's index built in one pass and kept by the
 * store until the index changes, so a batch of lookups stays linear.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kb/error.h"
#include "store_internal.h"

/* id -> relpath for every cases/ ** / <id>.md entry of git's index. */
struct kb__case_map {
	char **paths;       /* open addressing by the id part of the path; NULL = free */
	size_t nslots;      /* a power of two, at least twice the entries */
	git_oid checksum;   /* of the index file the map was built from */
	size_t entries;     /* git_index_entrycount() then */
};

void kb__case_map_free(struct kb__case_map *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nslots; i++)
		free(m->paths[i]);
	free(m->paths);
	free(m);
}

/* The file name of `path` without ".md" as (*name, return value); 0 when
 * the path is not a case file under cases/. */
static size_t case_name(const char *path, const char **name)
{
	const char *base = strrchr(path, '/');
	size_t n;

	if (strncmp(path, KB_CASES_DIR "/", sizeof(KB_CASES_DIR)) || !base)
		return 0;
	base++;
	n = strlen(base);
	if (n <= 3 || strcmp(base + n - 3, ".md"))
		return 0;
	*name = base;
	return n - 3;
}

static size_t name_hash(const char *s, size_t n)
{
	size_t h = 5381;

	while (n--)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* Slot holding the path for the id `name` (n bytes), or the free slot where
 * it would go. */
static size_t map_slot(const struct kb__case_map *m, const char *name, size_t n)
{
	size_t i = name_hash(name, n) & (m->nslots - 1);
	const char *other;

	while (m->paths[i] && !(case_name(m->paths[i], &other) == n && !memcmp(other, name, n)))
		i = (i + 1) & (m->nslots - 1);
	return i;
}

/* One pass over git's index: the first entry (path order) for each id. */
static struct kb__case_map *map_build(git_index *idx)
{
	struct kb__case_map *m = kb_xcalloc(1, sizeof(*m));
	const git_index_entry *e;
	const char *name;
	size_t i, n, slot, count = git_index_entrycount(idx);

	m->nslots = 16;
	while (m->nslots < 2 * count + 2)
		m->nslots *= 2;
	m->paths = kb_xcalloc(m->nslots, sizeof(char *));
	m->entries = count;
	git_oid_cpy(&m->checksum, git_index_checksum(idx));
	for (i = 0; i < count; i++) {
		e = git_index_get_byindex(idx, i);
		if (!e || !(n = case_name(e->path, &name)))
			continue;
		slot = map_slot(m, name, n);
		if (!m->paths[slot])
			m->paths[slot] = kb_xstrdup(e->path);
	}
	return m;
}

/* The tracked path of case `id` into out; KB_ENOTFOUND when none. */
static int locate_in_index(kb_buf *out, kb_store *s, const char *id)
{
	git_index *idx = NULL;
	size_t slot;
	int rc = 0;

	if (git_repository_index(&idx, s->repo) < 0 || git_index_read(idx, 0) < 0) {
		rc = kb_error_set(KB_ERROR, s->workdir, 0, "cannot read git's index: %s",
				  kb__git_msg("unknown error"));
		goto done;
	}
	if (!s->case_map || s->case_map->entries != git_index_entrycount(idx) ||
	    !git_oid_equal(&s->case_map->checksum, git_index_checksum(idx))) {
		kb__case_map_free(s->case_map);
		s->case_map = map_build(idx);
	}
	slot = map_slot(s->case_map, id, strlen(id));
	if (!s->case_map->paths[slot]) {
		rc = kb_error_set(KB_ENOTFOUND, NULL, 0, "case '%s' does not exist", id);
		goto done;
	}
	kb_buf_clear(out);
	kb_buf_puts(out, s->case_map->paths[slot]);
done:
	git_index_free(idx);
	return rc;
}

/* 1 when the work tree has something other than a directory at relpath. */
static int present(kb_store *s, const char *relpath)
{
	unsigned type = kb__workdir_type(s, relpath);

	return type && type != S_IFDIR;
}

int kb_store_case_locate(kb_buf *out, kb_store *s, const char *id)
{
	kb_buf rel = KB_BUF_INIT;
	int rc;

	if ((rc = kb_store_case_relpath(&rel, id)) < 0)
		goto done;
	if (!present(s, rel.ptr)) {
		kb_buf_clear(&rel);
		kb_buf_printf(&rel, "%s/%s.md", KB_CASES_DIR, id);
		if (!present(s, rel.ptr) && (rc = locate_in_index(&rel, s, id)) < 0)
			goto done;
	}
	kb_buf_set(out, rel.ptr, rel.len);
done:
	kb_buf_release(&rel);
	return rc;
}

int kb_store_case_write_path(kb_buf *out, kb_store *s, const char *id)
{
	int rc = kb_store_case_locate(out, s, id);

	if (rc != KB_ENOTFOUND)
		return rc;
	kb_error_clear();
	return kb_store_case_relpath(out, id);
}
