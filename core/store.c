/*
 * store.c - a knowledge base on disk (kb/store.h): finding and opening the
 * KB, creating one, resolving the author, and bounded, symlink-refusing reads
 * of work-tree files.  History lives in store_history.c, writes in txn.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kb/error.h"
#include "starter.h"
#include "store_internal.h"

const char *kb__git_msg(const char *fallback)
{
	const git_error *e = git_error_last();

	return e && e->message && *e->message ? e->message : fallback;
}

unsigned kb__workdir_type(kb_store *s, const char *relpath)
{
	kb_buf p = KB_BUF_INIT;
	struct stat st;
	unsigned type;

	kb_buf_printf(&p, "%s%s", s->workdir, relpath);
	type = lstat(p.ptr, &st) == 0 ? (unsigned)(st.st_mode & S_IFMT) : 0;
	kb_buf_release(&p);
	return type;
}

int kb__check_relpath(const char *relpath)
{
	const char *p = relpath, *end;
	size_t n;

	if (!relpath || !*relpath)
		return kb_error_set(KB_EINPUT, NULL, 0, "empty path");
	if (*relpath == '/')
		return kb_error_set(KB_EINPUT, relpath, 0, "'%s' is an absolute path", relpath);
	for (p = relpath; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\\' || *p == 0x7f)
			return kb_error_set(KB_EINPUT, relpath, 0,
					    "'%s' has a backslash or control character", relpath);
	for (p = relpath; ; p = end + 1) {
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			return kb_error_set(KB_EINPUT, relpath, 0, "'%s' is not a clean path", relpath);
		if (n == 2 && !strncmp(p, "..", 2))
			return kb_error_set(KB_EINPUT, relpath, 0, "'%s' is outside the knowledge base",
					    relpath);
		if (n == 4 && !strncasecmp(p, ".git", 4))
			return kb_error_set(KB_EINPUT, relpath, 0, "'%s' is inside git's directory",
					    relpath);
		if (!end)
			break;
	}
	return 0;
}

/* ---- authors ------------------------------------------------------------ */

static char *trimmed(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return kb_xstrndup(s, n);
}

int kb_author_parse(kb_author *out, const char *text)
{
	const char *lt, *gt;
	char *rest;

	out->name = out->email = NULL;
	if (!text)
		return kb_error_set(KB_EINPUT, NULL, 0, "empty author");
	lt = strchr(text, '<');
	gt = strchr(text, '>');
	if (!lt && !gt) {
		out->name = trimmed(text, strlen(text));
		out->email = kb_xstrdup("");
	} else if (lt && gt && gt > lt && !strchr(lt + 1, '<') && !strchr(gt + 1, '>')) {
		rest = trimmed(gt + 1, strlen(gt + 1));
		out->name = trimmed(text, (size_t)(lt - text));
		out->email = trimmed(lt + 1, (size_t)(gt - lt - 1));
		if (*rest) {
			free(rest);
			kb_author_release(out);
			return kb_error_set(KB_EINPUT, NULL, 0,
					    "text after the email in author '%s'", text);
		}
		free(rest);
	} else {
		return kb_error_set(KB_EINPUT, NULL, 0, "unbalanced '<>' in author '%s'", text);
	}
	if (!*out->name || strchr(out->name, '\n') || strchr(out->email, '\n')) {
		kb_author_release(out);
		return kb_error_set(KB_EINPUT, NULL, 0, "author '%s' has no name", text);
	}
	return 0;
}

void kb_author_release(kb_author *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->email);
	a->name = a->email = NULL;
}

/* `env` if set and non-empty, else config `key`; caller frees; NULL if neither. */
static char *identity_part(git_config *cfg, const char *env, const char *key)
{
	const char *v = getenv(env);
	git_buf b = GIT_BUF_INIT;
	char *out = NULL;

	if (v && *v)
		return kb_xstrdup(v);
	if (cfg && git_config_get_string_buf(&b, cfg, key) == 0 && b.ptr && *b.ptr)
		out = kb_xstrdup(b.ptr);
	git_buf_dispose(&b);
	git_error_clear();
	return out;
}

/* override > $KB_AUTHOR > GIT_AUTHOR_NAME/EMAIL > user.name/user.email in cfg. */
static int resolve_author(kb_author *out, git_config *cfg, const char *override)
{
	const char *env = getenv("KB_AUTHOR");
	char *name, *email;

	out->name = out->email = NULL;
	if (override && *override)
		return kb_author_parse(out, override);
	if (env && *env)
		return kb_author_parse(out, env);
	name = identity_part(cfg, "GIT_AUTHOR_NAME", "user.name");
	email = identity_part(cfg, "GIT_AUTHOR_EMAIL", "user.email");
	if (!name) {
		free(email);
		return kb_error_set(KB_EINPUT, NULL, 0,
				    "no author: set git config user.name and user.email, "
				    "KB_AUTHOR, or --author");
	}
	out->name = name;
	out->email = email ? email : kb_xstrdup("");
	return 0;
}

int kb_store_author(kb_author *out, kb_store *s, const char *override)
{
	git_config *cfg = NULL;
	int rc;

	if (git_repository_config_snapshot(&cfg, s->repo) < 0)
		cfg = NULL;
	git_error_clear();
	rc = resolve_author(out, cfg, override);
	git_config_free(cfg);
	return rc;
}

int kb_author_default(kb_author *out, const char *dir, const char *override)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	int rc;

	git_libgit2_init();
	if (dir && git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0)
		rc = git_repository_config_snapshot(&cfg, repo);
	else
		rc = git_config_open_default(&cfg);
	if (rc < 0)
		cfg = NULL;
	git_error_clear();
	rc = resolve_author(out, cfg, override);
	git_config_free(cfg);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

/* ---- opening ------------------------------------------------------------- */

static char *with_slash(const char *path)
{
	size_t n = strlen(path);
	char *p = kb_xmalloc(n + 2);

	memcpy(p, path, n);
	if (!n || path[n - 1] != '/')
		p[n++] = '/';
	p[n] = '\0';
	return p;
}

static int load_config(kb_store *s)
{
	kb_buf conf = KB_BUF_INIT;
	kb_config *cfg = NULL;
	int rc;

	kb_buf_printf(&conf, "%s%s", s->workdir, KB_CONFIG_FILE);
	rc = kb_config_open(&cfg, conf.ptr);
	kb_buf_release(&conf);
	if (rc == 0) {
		kb_config_free(s->config);
		s->config = cfg;
	}
	return rc;
}

/* Wrap an open repository (ownership passes to the store) with an empty
 * config; the store holds a libgit2 reference until kb_store_free(). */
static kb_store *store_new(git_repository *repo)
{
	kb_store *s = kb_xcalloc(1, sizeof(*s));

	git_libgit2_init();
	s->repo = repo;
	s->workdir = with_slash(git_repository_workdir(repo));
	s->gitdir = with_slash(git_repository_path(repo));
	s->config = kb_config_new_empty();
	return s;
}

/*
 * Open the repository whose work tree top is exactly `dir` (absolute, no
 * trailing '/').  Returns 0; 1 when `dir` is not the top of a work tree, with
 * the reason recorded as the last error (the caller may go on looking); or
 * a negative kb error (a bare repository, an unreadable one).
 */
static int open_exact(git_repository **out, const char *dir)
{
	git_repository *repo = NULL;
	char *top, *want;
	int err, same;

	*out = NULL;
	err = git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (err == GIT_ENOTFOUND) {
		git_error_clear();
		if (git_repository_open_ext(&repo, dir, 0, NULL) == 0 && !git_repository_is_bare(repo)) {
			git_repository_free(repo);
			kb_error_set(KB_EINPUT, dir, 0,
				     "'%s' is not the top of a git work tree", dir);
			return 1;
		}
		git_repository_free(repo);
		git_error_clear();
		kb_error_set(KB_EINPUT, dir, 0, "'%s' is not a git repository", dir);
		return 1;
	}
	if (err < 0)
		return kb_error_set(KB_EINPUT, dir, 0, "cannot open git repository '%s': %s", dir,
				    kb__git_msg("unknown error"));
	if (git_repository_is_bare(repo)) {
		git_repository_free(repo);
		return kb_error_set(KB_EINPUT, dir, 0, "'%s' is a bare repository", dir);
	}
	top = with_slash(git_repository_workdir(repo));
	want = with_slash(dir);
	same = !strcmp(top, want);
	free(top);
	free(want);
	if (!same) {
		git_repository_free(repo);
		kb_error_set(KB_EINPUT, dir, 0, "'%s' is not the top of a git work tree", dir);
		return 1;
	}
	*out = repo;
	return 0;
}

static int has_conf(const char *dir)
{
	kb_buf p = KB_BUF_INIT;
	struct stat st;
	int ok;

	kb_buf_printf(&p, "%s/%s", strcmp(dir, "/") ? dir : "", KB_CONFIG_FILE);
	ok = lstat(p.ptr, &st) == 0 && S_ISREG(st.st_mode);
	kb_buf_release(&p);
	return ok;
}

/* Strip the last component of an absolute path in place; 0 at "/". */
static int parent_dir(char *dir)
{
	char *slash = strrchr(dir, '/');

	if (!strcmp(dir, "/"))
		return 0;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 1;
}

int kb_store_open(kb_store **out, const char *path)
{
	git_repository *repo = NULL;
	kb_store *s = NULL;
	char *dir = NULL, *first_err_msg = NULL, *first_err_path = NULL;
	int rc = 0;

	*out = NULL;
	git_libgit2_init();
	dir = realpath(path, NULL);
	if (!dir) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = kb_error_set(KB_ENOKB, path, 0,
					  "not a knowledge base (or any parent): '%s'", path);
		else
			rc = kb_error_set(KB_EIO, path, 0, "cannot open '%s': %s", path,
					  strerror(errno));
		goto done;
	}
	do {
		if (!has_conf(dir))
			continue;
		rc = open_exact(&repo, dir);
		if (rc < 0)
			goto done;
		if (rc == 0)
			break;
		if (!first_err_msg) {
			first_err_msg = kb_xstrdup(kb_error_last()->message);
			first_err_path = kb_xstrdup(dir);
		}
	} while (parent_dir(dir));
	if (!repo && first_err_msg) {
		rc = kb_error_set(KB_EINPUT, first_err_path, 0, "%s", first_err_msg);
		goto done;
	}
	if (!repo) {
		rc = kb_error_set(KB_ENOKB, path, 0,
				  "not a knowledge base (or any parent): '%s'", path);
		goto done;
	}
	s = store_new(repo);
	repo = NULL;
	if ((rc = load_config(s)) < 0)
		goto done;
	if (kb__txn_recover(s) < 0)
		kb_error_clear();  /* a read-only KB is still readable; writes retry */
	*out = s;
	s = NULL;
done:
	kb_store_free(s);
	git_repository_free(repo);
	free(dir);
	free(first_err_msg);
	free(first_err_path);
	git_libgit2_shutdown();
	return rc;
}

void kb_store_free(kb_store *s)
{
	if (!s)
		return;
	kb__case_map_free(s->case_map);
	git_repository_free(s->repo);
	kb_config_free(s->config);
	free(s->workdir);
	free(s->gitdir);
	free(s);
	git_libgit2_shutdown();
}

const char *kb_store_workdir(const kb_store *s)
{
	return s->workdir;
}

const char *kb_store_gitdir(const kb_store *s)
{
	return s->gitdir;
}

const kb_config *kb_store_config(const kb_store *s)
{
	return s->config;
}

int kb_store_cachedir(kb_buf *out, kb_store *s)
{
	kb_buf_clear(out);
	kb_buf_printf(out, "%skb/", s->gitdir);
	if (mkdir(out->ptr, 0777) < 0 && errno != EEXIST)
		return kb_error_set(KB_EIO, out->ptr, 0, "cannot create '%s': %s", out->ptr,
				    strerror(errno));
	return 0;
}

/*
 * The canonical path of case `id` (docs/format.md, "Layout"): an id
 * <PREFIX>-<digits> goes to cases/<PREFIX>/<NNN>/<id>.md with NNN the number
 * divided by 1000, at least three digits wide ("%03lu", as bench/histgen.c
 * writes), so a folder holds at most 1000 cases.  The division is done on
 * the decimal string (drop the last three digits and leading zeros), which
 * gives the same result for every number that fits a long and a defined one
 * for the longer digit strings an id of 64 characters allows.  Any other
 * id stays flat, cases/<id>.md.
 */
int kb_store_case_relpath(kb_buf *out, const char *id)
{
	const char *dash, *digits;
	size_t nd, q, lead;

	if (!id || !kb_case_id_valid(id))
		return kb_error_set(KB_EINPUT, NULL, 0, "invalid case id '%s'", id ? id : "");
	kb_buf_clear(out);
	dash = strrchr(id, '-');
	digits = dash ? dash + 1 : "";
	nd = strlen(digits);
	if (!dash || dash == id || nd == 0 || strspn(digits, "0123456789") != nd) {
		kb_buf_printf(out, "%s/%s.md", KB_CASES_DIR, id);
		return 0;
	}
	q = nd > 3 ? nd - 3 : 0;      /* digits of number / 1000 */
	for (lead = 0; lead < q && digits[lead] == '0'; lead++)
		;
	kb_buf_printf(out, "%s/%.*s/", KB_CASES_DIR, (int)(dash - id), id);
	for (nd = q - lead; nd < 3; nd++)
		kb_buf_putc(out, '0');
	kb_buf_put(out, digits + lead, q - lead);
	kb_buf_printf(out, "/%s.md", id);
	return 0;
}

/* ---- creating ----------------------------------------------------------- */

static int mkdir_p(const char *path)
{
	kb_buf p = KB_BUF_INIT;
	size_t i;
	int rc = 0;

	kb_buf_puts(&p, path);
	for (i = 1; i <= p.len; i++) {
		if (p.ptr[i] != '/' && p.ptr[i] != '\0')
			continue;
		p.ptr[i] = '\0';
		if (mkdir(p.ptr, 0777) < 0 && errno != EEXIST) {
			rc = kb_error_set(KB_EIO, path, 0, "cannot create '%s': %s", p.ptr,
					  strerror(errno));
			break;
		}
		if (i < p.len)
			p.ptr[i] = '/';
	}
	kb_buf_release(&p);
	return rc;
}

/* init.defaultBranch from the user's git config, else "main"; caller frees. */
static char *default_branch(void)
{
	git_config *cfg = NULL;
	git_buf b = GIT_BUF_INIT;
	char *name;

	if (git_config_open_default(&cfg) == 0 &&
	    git_config_get_string_buf(&b, cfg, "init.defaultBranch") == 0 && b.ptr && *b.ptr)
		name = kb_xstrdup(b.ptr);
	else
		name = kb_xstrdup("main");
	git_buf_dispose(&b);
	git_config_free(cfg);
	git_error_clear();
	return name;
}

static int init_repo(git_repository **out, const char *dir)
{
	git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	char *branch = default_branch();
	int rc = 0;

	opts.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = branch;
	if (git_repository_init_ext(out, dir, &opts) < 0)
		rc = kb_error_set(KB_EIO, dir, 0, "cannot create a git repository in '%s': %s", dir,
				  kb__git_msg("unknown error"));
	free(branch);
	return rc;
}

/* 1 when kb.conf is in HEAD's tree or in the index. */
static int conf_tracked(git_repository *repo)
{
	git_object *obj = NULL;
	git_index *idx = NULL;
	int found = 0;

	if (git_revparse_single(&obj, repo, "HEAD:" KB_CONFIG_FILE) == 0)
		found = 1;
	git_object_free(obj);
	if (!found && git_repository_index(&idx, repo) == 0)
		found = git_index_get_bypath(idx, KB_CONFIG_FILE, 0) != NULL;
	git_index_free(idx);
	git_error_clear();
	return found;
}

/* Stage `relpath` with its current contents, or `starter` when it is missing. */
static int stage_starter(kb_txn *t, kb_store *s, const char *relpath, const char *starter)
{
	kb_buf cur = KB_BUF_INIT;
	int rc = kb_store_read_file(&cur, s, relpath, KB_CASE_MAX_BYTES);

	if (rc == KB_ENOTFOUND)
		rc = kb_txn_put(t, relpath, starter, strlen(starter));
	else if (rc == 0)
		rc = kb_txn_put(t, relpath, cur.ptr, cur.len);
	kb_buf_release(&cur);
	return rc;
}

static int commit_starter(kb_store *s, const kb_author *author)
{
	static const char *const names[] = {
		KB_CONFIG_FILE, KB_TEMPLATE_FILE, KB_SYNONYMS_FILE, KB_ABBREVIATIONS_FILE,
		KB_CASES_DIR "/.gitkeep",
	};
	const char *data[] = {
		kb_starter_conf, kb_starter_template, kb_starter_synonyms,
		kb_starter_abbreviations, "",
	};
	kb_txn *t = NULL;
	size_t i;
	int rc = kb_txn_begin(&t, s);

	for (i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++)
		rc = stage_starter(t, s, names[i], data[i]);
	if (rc == 0)
		rc = kb_txn_commit(t, author, "Initialise knowledge base", NULL);
	kb_txn_free(t);
	return rc;
}

int kb_store_init(kb_store **out, const char *dir, const kb_author *author)
{
	git_repository *repo = NULL;
	kb_store *s = NULL;
	char *abs = NULL;
	int rc;

	*out = NULL;
	git_libgit2_init();
	if ((rc = mkdir_p(dir)) < 0)
		goto done;
	abs = realpath(dir, NULL);
	if (!abs) {
		rc = kb_error_set(KB_EIO, dir, 0, "cannot open '%s': %s", dir, strerror(errno));
		goto done;
	}
	rc = open_exact(&repo, abs);
	if (rc < 0)
		goto done;
	if (rc == 1 && (rc = init_repo(&repo, abs)) < 0)
		goto done;
	if (conf_tracked(repo)) {
		rc = kb_error_set(KB_EEXISTS, abs, 0, "'%s' is already a knowledge base", abs);
		goto done;
	}
	s = store_new(repo);
	repo = NULL;
	/* An existing kb.conf is committed as it is: refuse it first if it is
	 * broken.  A missing one loads as empty, then for real after the commit. */
	if ((rc = load_config(s)) < 0 || (rc = commit_starter(s, author)) < 0 ||
	    (rc = load_config(s)) < 0)
		goto done;
	*out = s;
	s = NULL;
done:
	kb_store_free(s);
	git_repository_free(repo);
	free(abs);
	git_libgit2_shutdown();
	return rc;
}

/* ---- reading the work tree --------------------------------------------- */

/*
 * Open `relpath` below the directory `root` component by component with
 * O_NOFOLLOW, so no symlink anywhere on the way is followed.  Returns an fd
 * or a negative kb error naming relpath.
 */
static int open_beneath(const char *root, const char *relpath)
{
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *p = relpath, *slash;
	char part[NAME_MAX + 1];
	size_t n;
	int fd;

	if (dfd < 0)
		return kb_error_set(KB_EIO, root, 0, "cannot open '%s': %s", root, strerror(errno));
	while ((slash = strchr(p, '/')) != NULL) {
		n = (size_t)(slash - p);
		if (n > NAME_MAX)
			n = NAME_MAX;
		memcpy(part, p, n);
		part[n] = '\0';
		fd = openat(dfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		if (fd < 0)
			goto fail;
		dfd = fd;
		p = slash + 1;
	}
	fd = openat(dfd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	if (fd >= 0)
		return fd;
fail:
	if (errno == ENOENT)
		return kb_error_set(KB_ENOTFOUND, relpath, 0, "'%s' does not exist", relpath);
	if (errno == ELOOP || errno == ENOTDIR)
		return kb_error_set(KB_EINPUT, relpath, 0,
				    "'%s' is a symbolic link or passes through one; refusing to follow it",
				    relpath);
	return kb_error_set(KB_EIO, relpath, 0, "cannot open '%s': %s", relpath, strerror(errno));
}

/* Read all of the regular file `fd` (at most max bytes) into out; closes fd. */
static int read_fd(kb_buf *out, int fd, const char *relpath, size_t max)
{
	struct stat st;
	size_t room;
	ssize_t n;
	int rc = 0;

	kb_buf_clear(out);
	if (fstat(fd, &st) < 0) {
		rc = kb_error_set(KB_EIO, relpath, 0, "cannot stat '%s': %s", relpath, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = kb_error_set(KB_EINPUT, relpath, 0, "'%s' is not a regular file", relpath);
		goto done;
	}
	if ((uintmax_t)st.st_size > max) {
		rc = kb_error_set(KB_EINPUT, relpath, 0, "'%s' is too large (%jd bytes; limit %zu)",
				  relpath, (intmax_t)st.st_size, max);
		goto done;
	}
	kb_buf_grow(out, (size_t)st.st_size);
	while (out->len <= max) {
		if (out->alloc - out->len < 2)
			kb_buf_grow(out, 65536);
		room = out->alloc - out->len - 1;
		if (room > max + 1 - out->len)
			room = max + 1 - out->len;
		n = read(fd, out->ptr + out->len, room);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = kb_error_set(KB_EIO, relpath, 0, "cannot read '%s': %s", relpath,
					  strerror(errno));
			goto done;
		}
		out->len += (size_t)n;
	}
	out->ptr[out->len] = '\0';
	if (out->len > max)
		rc = kb_error_set(KB_EINPUT, relpath, 0, "'%s' is too large (more than %zu bytes)",
				  relpath, max);
done:
	close(fd);
	return rc;
}

int kb__read_file_at(kb_buf *out, int dfd, const char *name, const char *relpath, size_t max)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0)
		return read_fd(out, fd, relpath, max);
	if (errno == ENOENT)
		return kb_error_set(KB_ENOTFOUND, relpath, 0, "'%s' does not exist", relpath);
	if (errno == ELOOP)
		return kb_error_set(KB_EINPUT, relpath, 0,
				    "'%s' is a symbolic link; refusing to follow it", relpath);
	return kb_error_set(KB_EIO, relpath, 0, "cannot open '%s': %s", relpath, strerror(errno));
}

int kb_store_read_file(kb_buf *out, kb_store *s, const char *relpath, size_t max)
{
	int fd, rc;

	if ((rc = kb__check_relpath(relpath)) < 0)
		return rc;
	fd = open_beneath(s->workdir, relpath);
	if (fd < 0)
		return fd;
	return read_fd(out, fd, relpath, max);
}

int kb_store_read_case(kb_case **out, kb_store *s, const char *id)
{
	kb_buf rel = KB_BUF_INIT, text = KB_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = kb_store_case_locate(&rel, s, id)) < 0)
		goto done;
	if ((rc = kb_store_read_file(&text, s, rel.ptr, KB_CASE_MAX_BYTES)) < 0)
		goto done;
	rc = kb_case_parse(out, text.ptr, text.len, rel.ptr,
			   s->config ? kb_config_aliases(s->config) : NULL);
done:
	kb_buf_release(&rel);
	kb_buf_release(&text);
	return rc;
}

/* ---- walking cases/ ------------------------------------------------------ */


typedef struct {
	int (*cb)(const char *relpath, const char *text, size_t len, void *payload);
	void *payload;
	kb_buf path;    /* relative path of the directory being walked, with '/' */
	kb_buf text;    /* contents of the current file, reused */
} walk_state;

/* Full-path byte order, as git sorts trees: a directory sorts as "name/". */
static int walk_cmp(const void *a, const void *b)
{
	const kb__dir_entry *x = a, *y = b;
	const unsigned char *p = (const unsigned char *)x->name, *q = (const unsigned char *)y->name;
	int cp, cq;

	while (*p && *p == *q)
		p++, q++;
	cp = *p ? *p : (x->is_dir ? '/' : 0);
	cq = *q ? *q : (y->is_dir ? '/' : 0);
	return cp - cq;
}

static int ends_with_md(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && !strcmp(name + n - 3, ".md");
}

int kb__list_case_dir(kb__dir_entry **out, size_t *count, int dfd, const char *rel)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	struct stat st;
	kb__dir_entry *v = NULL;
	size_t n = 0, alloc = 0;
	int type;

	if (!d) {
		close(dfd);
		return kb_error_set(KB_EIO, rel, 0, "cannot read directory '%s': %s", rel,
				    strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcasecmp(de->d_name, ".git"))
			continue;
		type = de->d_type;
		if (type == DT_UNKNOWN && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		if (type != DT_DIR && !(type == DT_REG && ends_with_md(de->d_name)))
			continue;
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			v = kb_xrealloc(v, alloc * sizeof(*v));
		}
		v[n].name = kb_xstrdup(de->d_name);
		v[n++].is_dir = type == DT_DIR;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), walk_cmp);
	*out = v;
	*count = n;
	return 0;
}

int kb__walk_case_dir(int dfd, kb_buf *rel, kb__case_file_fn file, void *ctx)
{
	kb__dir_entry *v = NULL;
	size_t n = 0, i, base = rel->len;
	int rc, fd, keep = dup(dfd);

	if (keep < 0) {
		close(dfd);
		return kb_error_set(KB_EIO, rel->ptr, 0, "cannot read '%s': %s", rel->ptr,
				    strerror(errno));
	}
	if ((rc = kb__list_case_dir(&v, &n, dfd, rel->ptr)) < 0)
		goto done;
	for (i = 0; i < n && rc == 0; i++) {
		kb_buf_truncate(rel, base);
		kb_buf_puts(rel, v[i].name);
		if (!v[i].is_dir) {
			rc = file(ctx, keep, v[i].name, rel->ptr);
			continue;
		}
		fd = openat(keep, v[i].name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
		if (fd < 0) {
			if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
				continue;  /* vanished or replaced by a symlink meanwhile */
			rc = kb_error_set(KB_EIO, rel->ptr, 0, "cannot open '%s': %s", rel->ptr,
					  strerror(errno));
			break;
		}
		kb_buf_putc(rel, '/');
		rc = kb__walk_case_dir(fd, rel, file, ctx);
	}
	kb_buf_truncate(rel, base);
done:
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	close(keep);
	return rc;
}

/* kb_store_foreach_case_file's step: read one case file and call back. */
static int read_case_file(void *ctx, int dfd, const char *name, const char *relpath)
{
	walk_state *w = ctx;
	int rc, fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP)
			return 0;  /* vanished or replaced by a symlink meanwhile */
		return kb_error_set(KB_EIO, relpath, 0, "cannot open '%s': %s", relpath,
				    strerror(errno));
	}
	rc = read_fd(&w->text, fd, relpath, KB_CASE_MAX_BYTES);
	return rc ? rc : w->cb(relpath, w->text.ptr, w->text.len, w->payload);
}

int kb_store_foreach_case_file(kb_store *s,
			       int (*cb)(const char *relpath, const char *text, size_t len, void *payload),
			       void *payload)
{
	walk_state w = { cb, payload, KB_BUF_INIT, KB_BUF_INIT };
	int fd, rc;

	fd = open_beneath(s->workdir, KB_CASES_DIR);
	if (fd == KB_ENOTFOUND)
		return 0;
	if (fd < 0)
		return fd;
	kb_buf_puts(&w.path, KB_CASES_DIR "/");
	rc = kb__walk_case_dir(fd, &w.path, read_case_file, &w);
	kb_buf_release(&w.path);
	kb_buf_release(&w.text);
	return rc;
}
