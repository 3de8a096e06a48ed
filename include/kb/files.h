/*
 * kb/files.h - walking the files a user names on the command line: a file
 * is taken as it is, a directory stands for every file below it with one
 * of the given extensions (hidden entries skipped, name order), as
 * `kb add DIR` and `kb import notes DIR` need.
 */
#ifndef KB_FILES_H
#define KB_FILES_H

/*
 * Call `cb` with the path of `path` itself when it is not a directory, else
 * with the path of every regular file below it whose name ends in one of
 * `exts` (a NULL-terminated list such as { ".md", NULL }), recursing into
 * subdirectories; entries starting with '.' are skipped; each directory is
 * read in alphabetical (alphasort) order.  Returns 0, the first non-zero
 * value cb returns, KB_ENOTFOUND when `path` does not exist, or KB_EIO when
 * it or a directory below it cannot be read (message naming the path).
 * The path passed to cb is valid only during the call.
 */
int kb_files_walk(const char *path, const char *const *exts,
		  int (*cb)(const char *path, void *payload), void *payload);

/* 1 when `name` ends in one of `exts` (NULL-terminated), else 0. */
int kb_files_has_ext(const char *name, const char *const *exts);

#endif
