/*
 * files.c - walk the files and directories named by a user (kb/files.h):
 * one place for the recursion, ordering and skipping rules that `kb add`
 * and the importers share.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kb/buf.h"
#include "kb/error.h"
#include "kb/files.h"

int kb_files_has_ext(const char *name, const char *const *exts)
{
	size_t n = strlen(name), e;

	for (; *exts; exts++) {
		e = strlen(*exts);
		if (n > e && !strcmp(name + n - e, *exts))
			return 1;
	}
	return 0;
}

static int walk_dir(const char *dir, const char *const *exts,
		    int (*cb)(const char *path, void *payload), void *payload)
{
	struct dirent **ents = NULL;
	kb_buf sub = KB_BUF_INIT;
	struct stat st;
	int i, n, rc = 0;
	size_t len = strlen(dir);

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return kb_error_set(KB_EIO, dir, 0, "cannot read directory: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		if (rc == 0 && ents[i]->d_name[0] != '.') {
			kb_buf_clear(&sub);
			kb_buf_printf(&sub, "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/",
				      ents[i]->d_name);
			if (stat(sub.ptr, &st) == 0 && S_ISDIR(st.st_mode))
				rc = walk_dir(sub.ptr, exts, cb, payload);
			else if (kb_files_has_ext(ents[i]->d_name, exts))
				rc = cb(sub.ptr, payload);
		}
		free(ents[i]);
	}
	free(ents);
	kb_buf_release(&sub);
	return rc;
}

int kb_files_walk(const char *path, const char *const *exts,
		  int (*cb)(const char *path, void *payload), void *payload)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return kb_error_set(errno == ENOENT ? KB_ENOTFOUND : KB_EIO, path, 0,
				    "cannot read: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return walk_dir(path, exts, cb, payload);
	return cb(path, payload);
}
