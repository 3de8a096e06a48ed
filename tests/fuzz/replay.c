/*
 * replay.c - run a fuzz target over saved inputs without libFuzzer, so the
 * seed corpus and every input that once crashed are replayed by `make test`
 * (and under ASan by `make check-asan`).
 *
 *   fuzz_X-replay FILE|DIR...   each regular file (directories: every
 *                               file below them, recursively) is one input
 *
 * Exit 0 when every input passed; a violated property aborts.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static long ninputs;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	unsigned char *data = malloc(cap);
	size_t got;
	while (data && (got = fread(data + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			unsigned char *p = realloc(data, cap * 2);
			if (!p) {
				free(data);
				data = NULL;
				break;
			}
			data = p;
			cap *= 2;
		}
	}
	int err = ferror(f);
	fclose(f);
	if (!data || err) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(data);
		return -1;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	ninputs++;
	return 0;
}

static int run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		perror(path);
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
			char *full = malloc(len);
			if (!full) {
				rc = -1;
			} else {
				snprintf(full, len, "%s/%s", path, names[i]->d_name);
				if (stat(full, &st) != 0)
					;  /* vanished */
				else if (S_ISREG(st.st_mode) && run_file(full) != 0)
					rc = -1;
				else if (S_ISDIR(st.st_mode) && run_path(full) != 0)
					rc = -1;  /* folders too: kb/cases/PREFIX/NNN/ */
				free(full);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i]) != 0)
			rc = 1;
	printf("%s: %ld inputs\n", argc > 0 ? argv[0] : "replay", ninputs);
	return rc;
}
