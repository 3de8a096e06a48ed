/*
 * sync_remote.c - the network side of `kb sync` (kb/sync.h): remotes kept as
 * ordinary git remotes in the repository config, fetch and push through
 * libgit2, and credentials from the environment, git's credential helpers
 * (`git credential fill`) or ssh-agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kb/error.h"
#include "sync_internal.h"

/* ---- remotes ---------------------------------------------------------------- */

/*
 * Remotes are read and written as plain config entries (remote.<name>.url,
 * remote.<name>.fetch) rather than through git_remote_lookup/list/create/
 * delete: in libgit2 1.5 with PCRE2 those leak the regex match data on
 * every call (seen under AddressSanitizer), and kb needs only the URL.
 */

static int check_name(const char *name)
{
	int valid = 0;

	if (!name || !*name || git_remote_name_is_valid(&valid, name) < 0 || !valid ||
	    strchr(name, '/'))
		return kb_error_set(KB_EINPUT, NULL, 0, "invalid remote name '%s'",
				    name ? name : "");
	return 0;
}

/* The URL of remote `name` into out; KB_ENOTFOUND when there is none. */
static int remote_url(kb_buf *out, kb_store *s, const char *name)
{
	git_config *cfg = NULL;
	git_buf val = { NULL, 0, 0 };
	kb_buf key = KB_BUF_INIT;
	int rc = 0;

	kb_buf_printf(&key, "remote.%s.url", name);
	if (check_name(name) < 0 || git_repository_config_snapshot(&cfg, s->repo) < 0 ||
	    git_config_get_string_buf(&val, cfg, key.ptr) < 0) {
		git_error_clear();
		rc = kb_error_set(KB_ENOTFOUND, NULL, 0,
				  "no remote '%s'; add it with 'kb remote add %s URL'", name, name);
	} else {
		kb_buf_clear(out);
		kb_buf_puts(out, val.ptr);
	}
	git_buf_dispose(&val);
	git_config_free(cfg);
	kb_buf_release(&key);
	return rc;
}

int kb__remote_check(kb_store *s, const char *name)
{
	kb_buf url = KB_BUF_INIT;
	int rc = remote_url(&url, s, name);

	kb_buf_release(&url);
	return rc;
}

int kb_remote_add(kb_store *s, const char *name, const char *url)
{
	git_config *cfg = NULL;
	kb_buf key = KB_BUF_INIT, spec = KB_BUF_INIT;
	int rc;

	if ((rc = check_name(name)) < 0)
		return rc;
	if (!url || !*url)
		return kb_error_set(KB_EINPUT, NULL, 0, "empty URL for remote '%s'", name);
	if (kb__remote_check(s, name) == 0)
		return kb_error_set(KB_EEXISTS, NULL, 0, "remote '%s' already exists", name);
	kb_error_clear();
	kb_buf_printf(&key, "remote.%s.url", name);
	kb_buf_printf(&spec, "+refs/heads/*:refs/remotes/%s/*", name);
	if (git_repository_config(&cfg, s->repo) < 0 ||
	    git_config_set_string(cfg, key.ptr, url) < 0) {
		rc = kb_error_set(KB_ERROR, NULL, 0, "cannot add remote '%s': %s", name,
				  kb__git_msg("unknown error"));
		goto done;
	}
	kb_buf_clear(&key);
	kb_buf_printf(&key, "remote.%s.fetch", name);
	if (git_config_set_string(cfg, key.ptr, spec.ptr) < 0)
		rc = kb_error_set(KB_ERROR, NULL, 0, "cannot add remote '%s': %s", name,
				  kb__git_msg("unknown error"));
done:
	git_config_free(cfg);
	kb_buf_release(&key);
	kb_buf_release(&spec);
	return rc;
}

/* Delete every config entry remote.<name>.* (one by one: no regex). */
static int delete_section(git_config *cfg, const char *name)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	kb_buf prefix = KB_BUF_INIT;
	char **keys = NULL;
	size_t n = 0, i;
	int err = 0;

	kb_buf_printf(&prefix, "remote.%s.", name);
	if (git_config_iterator_new(&it, cfg) < 0)
		err = -1;
	while (err == 0 && git_config_next(&e, it) == 0) {
		if (!strncasecmp(e->name, prefix.ptr, prefix.len) && !strchr(e->name + prefix.len, '.')) {
			keys = kb_xrealloc(keys, (n + 1) * sizeof(char *));
			keys[n++] = kb_xstrdup(e->name);
		}
	}
	git_config_iterator_free(it);
	for (i = 0; i < n; i++) {
		/* a multivar (several fetch lines) needs the regex form */
		if (err == 0 && git_config_delete_entry(cfg, keys[i]) < 0 &&
		    git_config_delete_multivar(cfg, keys[i], ".*") < 0 &&
		    git_error_last() && git_error_last()->klass != GIT_ERROR_CONFIG)
			err = -1;
		free(keys[i]);
	}
	free(keys);
	kb_buf_release(&prefix);
	git_error_clear();
	return err;
}

/* Remove refs/remotes/<name>/ *. */
static void delete_tracking(kb_store *s, const char *name)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	kb_buf glob = KB_BUF_INIT;

	kb_buf_printf(&glob, "refs/remotes/%s/*", name);
	if (git_reference_iterator_glob_new(&it, s->repo, glob.ptr) == 0)
		while (git_reference_next(&ref, it) == 0) {
			git_reference_delete(ref);
			git_reference_free(ref);
		}
	git_reference_iterator_free(it);
	git_error_clear();
	kb_buf_release(&glob);
}

int kb_remote_remove(kb_store *s, const char *name)
{
	git_config *cfg = NULL;
	kb_buf state = KB_BUF_INIT, file = KB_BUF_INIT;
	int rc;

	if ((rc = kb__remote_check(s, name)) < 0)
		return kb_error_set(KB_ENOTFOUND, NULL, 0, "no remote '%s'", name ? name : "");
	if (git_repository_config(&cfg, s->repo) < 0 || delete_section(cfg, name) < 0) {
		rc = kb_error_set(KB_ERROR, NULL, 0, "cannot remove remote '%s': %s", name,
				  kb__git_msg("unknown error"));
		goto done;
	}
	delete_tracking(s, name);
	kb_buf_printf(&file, "remote-%s", name);
	if (kb__sync_path(&state, s, file.ptr) == 0)
		unlink(state.ptr);
	kb_error_clear();
done:
	git_config_free(cfg);
	kb_buf_release(&file);
	kb_buf_release(&state);
	return rc;
}

static int cmp_remote(const void *a, const void *b)
{
	return strcmp(((const kb_remote_info *)a)->name, ((const kb_remote_info *)b)->name);
}

int kb_remote_list(kb_remote_info **out, size_t *n, kb_store *s)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	size_t len;

	*out = NULL;
	*n = 0;
	if (git_repository_config_snapshot(&cfg, s->repo) < 0 ||
	    git_config_iterator_new(&it, cfg) < 0) {
		git_config_free(cfg);
		return kb_error_set(KB_ERROR, NULL, 0, "cannot list remotes: %s",
				    kb__git_msg("unknown error"));
	}
	while (git_config_next(&e, it) == 0) {
		len = strlen(e->name);
		if (strncasecmp(e->name, "remote.", 7) || len < 12 ||
		    strcasecmp(e->name + len - 4, ".url") || !e->value)
			continue;
		*out = kb_xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[*n].name = kb_xstrndup(e->name + 7, len - 11);
		(*out)[*n].url = kb_xstrdup(e->value);
		(*n)++;
	}
	git_config_iterator_free(it);
	git_config_free(cfg);
	git_error_clear();
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_remote);
	return 0;
}

void kb_remote_list_free(kb_remote_info *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].url);
	}
	free(list);
}

int kb_remote_default(kb_buf *out, kb_store *s)
{
	kb_remote_info *list;
	size_t n, i;
	int rc;

	if ((rc = kb_remote_list(&list, &n, s)) < 0)
		return rc;
	for (i = 0; i < n && strcmp(list[i].name, "origin"); i++)
		;
	if (n == 0)
		rc = kb_error_set(KB_ENOTFOUND, NULL, 0,
				  "no remote; add one with 'kb remote add origin URL'");
	else if (i < n)
		kb_buf_puts(out, "origin");
	else if (n == 1)
		kb_buf_puts(out, list[0].name);
	else
		rc = kb_error_set(KB_EINPUT, NULL, 0,
				  "several remotes and none is 'origin'; name the one to sync");
	kb_remote_list_free(list, n);
	return rc;
}

/* ---- credentials ---------------------------------------------------------- */

typedef struct {
	const char *remote;
	const char *gitdir;    /* the KB's .git: its config names credential helpers */
	int tried_env, tried_helper, tried_agent;
	int auth_failed;       /* every source was tried and refused */
	const char *rejected;  /* push: the status of a refused reference update */
	char reject_msg[256];
} net_state;

/* Run `git credential fill` for url in the repository `gitdir` (so its own
 * credential.helper counts, wherever kb was started); username and password
 * into the buffers.  0 when git answered with both, -1 otherwise (no
 * helper, no git). */
static int credential_fill(kb_buf *user, kb_buf *pass, const char *url, const char *gitdir)
{
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, status = 0, rc = -1;
	kb_buf req = KB_BUF_INIT, ans = KB_BUF_INIT;
	char chunk[1024], *line, *next;
	ssize_t n;
	pid_t pid;

	kb_buf_printf(&req, "url=%s\n\n", url);
	if (pipe(in) < 0 || pipe(outp) < 0)
		goto done;
	pid = fork();
	if (pid < 0)
		goto done;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(outp[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);  /* "terminal prompts disabled" is ours to say */
		if (devnull > 2)
			close(devnull);
		close(in[0]); close(in[1]); close(outp[0]); close(outp[1]);
		/* never wait for a password on a terminal from inside a sync */
		setenv("GIT_TERMINAL_PROMPT", "0", 1);
		if (gitdir)
			setenv("GIT_DIR", gitdir, 1);
		execlp("git", "git", "credential", "fill", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	{
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);
		ssize_t w = write(in[1], req.ptr, req.len);

		(void)w;
		signal(SIGPIPE, old);
	}
	close(in[1]);
	in[1] = -1;
	while ((n = read(outp[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			kb_buf_put(&ans, chunk, (size_t)n);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !ans.len)
		goto done;
	for (line = ans.ptr; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "username=", 9))
			kb_buf_set(user, line + 9, strlen(line + 9));
		else if (!strncmp(line, "password=", 9))
			kb_buf_set(pass, line + 9, strlen(line + 9));
	}
	rc = user->len && pass->len ? 0 : -1;
done:
	if (in[0] >= 0) close(in[0]);
	if (in[1] >= 0) close(in[1]);
	if (outp[0] >= 0) close(outp[0]);
	if (outp[1] >= 0) close(outp[1]);
	kb_buf_release(&req);
	kb_buf_release(&ans);
	return rc;
}

/*
 * libgit2 calls this each time the server asks for credentials; a second
 * call for the same source means the previous answer was refused.  Order:
 * KB_GIT_USERNAME/KB_GIT_PASSWORD, then git's credential helpers; for ssh,
 * the ssh-agent.  When everything was tried, fail (authentication refused).
 */
static int credentials_cb(git_credential **out, const char *url, const char *user_from_url,
			  unsigned int allowed, void *payload)
{
	net_state *ns = payload;
	const char *env_user = getenv("KB_GIT_USERNAME"), *env_pass = getenv("KB_GIT_PASSWORD");
	kb_buf user = KB_BUF_INIT, pass = KB_BUF_INIT;
	int rc = -1;

	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !ns->tried_agent) {
		ns->tried_agent = 1;
		return git_credential_ssh_key_from_agent(out, user_from_url ? user_from_url
						 : env_user ? env_user : getenv("USER"));
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !ns->tried_env && env_pass) {
		ns->tried_env = 1;
		return git_credential_userpass_plaintext_new(out, env_user ? env_user
							     : user_from_url ? user_from_url : "",
							     env_pass);
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !ns->tried_helper) {
		ns->tried_helper = 1;
		if (credential_fill(&user, &pass, url, ns->gitdir) == 0)
			rc = git_credential_userpass_plaintext_new(out, user.ptr, pass.ptr);
		kb_buf_release(&user);
		kb_buf_release(&pass);
		if (rc == 0)
			return 0;
	}
	ns->auth_failed = 1;
	git_error_set_str(GIT_ERROR_NET, "authentication refused");
	return GIT_EAUTH;
}

static int push_ref_cb(const char *refname, const char *status, void *payload)
{
	net_state *ns = payload;

	(void)refname;
	if (status) {
		snprintf(ns->reject_msg, sizeof(ns->reject_msg), "%s", status);
		ns->rejected = ns->reject_msg;
	}
	return 0;
}

static int net_error(const net_state *ns, git_remote *r, const char *what)
{
	const char *url = git_remote_url(r);
	const char *path = url && !strncmp(url, "file://", 7) ? url + 7 : url;

	if (path && *path == '/' && access(path, F_OK) < 0)
		return kb_error_set(KB_ENET, NULL, 0, "cannot %s '%s': no repository at '%s'",
				    what, ns->remote, path);
	if (ns->auth_failed)
		return kb_error_set(KB_ENET, NULL, 0,
				    "cannot %s '%s': authentication refused (set KB_GIT_USERNAME and "
				    "KB_GIT_PASSWORD, a git credential helper, or an ssh-agent key)",
				    what, ns->remote);
	return kb_error_set(KB_ENET, NULL, 0, "cannot %s '%s': %s", what, ns->remote,
			    kb__git_msg("unknown error"));
}

/*
 * A relative local path as URL ("../srv.git") means relative to the KB's
 * work tree, wherever kb runs from (libgit2 would take it relative to the
 * process's directory).  Only this connection's URL changes, not the config.
 */
/*
 * git's url.<base>.insteadOf: the longest matching prefix of `url` is
 * replaced by <base>.  Done here, by iterating the config, because
 * libgit2's own rewriting goes through the leaking regex path.
 */
static void rewrite_url(kb_buf *out, kb_store *s, const char *url)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	size_t best = 0, len;
	char *base = NULL;

	if (git_repository_config_snapshot(&cfg, s->repo) == 0 &&
	    git_config_iterator_new(&it, cfg) == 0)
		while (git_config_next(&e, it) == 0) {
			len = strlen(e->name);
			if (len < 15 || strncasecmp(e->name, "url.", 4) ||
			    strcasecmp(e->name + len - 10, ".insteadof") || !e->value)
				continue;
			if (strlen(e->value) > best && !strncmp(url, e->value, strlen(e->value))) {
				best = strlen(e->value);
				free(base);
				base = kb_xstrndup(e->name + 4, len - 14);
			}
		}
	git_config_iterator_free(it);
	git_config_free(cfg);
	git_error_clear();
	kb_buf_clear(out);
	kb_buf_printf(out, "%s%s", base ? base : "", url + best);
	free(base);
}

/* An in-memory remote for url, with git's insteadOf applied. */
static int create_anonymous(git_remote **out, kb_store *s, const char *url)
{
	git_remote_create_options o = GIT_REMOTE_CREATE_OPTIONS_INIT;
	kb_buf real = KB_BUF_INIT;
	int err;

	rewrite_url(&real, s, url);
	o.repository = s->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	err = git_remote_create_with_opts(out, real.ptr, &o);
	kb_buf_release(&real);
	return err;
}

static int open_remote(git_remote **out, kb_store *s, const char *remote)
{
	kb_buf url = KB_BUF_INIT, abs = KB_BUF_INIT;
	const char *u, *colon, *slash;
	int rc;

	*out = NULL;
	if ((rc = remote_url(&url, s, remote)) < 0)
		goto done;
	u = url.ptr;
	colon = strchr(u, ':');
	slash = strchr(u, '/');
	if (*u && *u != '/' && !strstr(u, "://") && !(colon && (!slash || colon < slash))) {
		kb_buf_printf(&abs, "%s%s", s->workdir, u);
		u = abs.ptr;  /* relative path; else scp-like host:path or a URL */
	}
	if ((rc = create_anonymous(out, s, u)) < 0)
		rc = kb_error_set(KB_ENET, NULL, 0, "cannot use the URL '%s' of '%s': %s", url.ptr,
				  remote, kb__git_msg("unknown error"));
done:
	kb_buf_release(&url);
	kb_buf_release(&abs);
	return rc;
}

/* Point refs/remotes/<remote>/<branch> at `id` (after a fetch or a push). */
static int set_tracking(kb_store *s, const char *remote, const char *branch, const git_oid *id)
{
	git_reference *ref = NULL;
	kb_buf name = KB_BUF_INIT;
	int rc = 0;

	kb_buf_printf(&name, "refs/remotes/%s/%s", remote, branch);
	if (git_reference_create(&ref, s->repo, name.ptr, id, 1, "kb sync") < 0)
		rc = kb_error_set(KB_EIO, NULL, 0, "cannot update '%s': %s", name.ptr,
				  kb__git_msg("unknown error"));
	git_reference_free(ref);
	kb_buf_release(&name);
	return rc;
}

/* After a fetch: the remote's refs/heads/<branch> (as advertised) into the
 * remote-tracking branch.  A remote without that branch leaves it alone. */
static int track_fetched(kb_store *s, git_remote *r, const char *remote, const char *branch)
{
	const git_remote_head **heads;
	kb_buf want = KB_BUF_INIT;
	size_t n, i;
	int rc = 0;

	kb_buf_printf(&want, "refs/heads/%s", branch);
	if (git_remote_ls(&heads, &n, r) < 0)
		n = 0;
	for (i = 0; i < n; i++)
		if (!strcmp(heads[i]->name, want.ptr))
			rc = set_tracking(s, remote, branch, &heads[i]->oid);
	git_error_clear();
	kb_buf_release(&want);
	return rc;
}

int kb__sync_fetch(kb_store *s, const char *remote, const char *branch)
{
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	net_state ns;
	git_remote *r = NULL;
	kb_buf spec = KB_BUF_INIT;
	char *specs[1];
	git_strarray arr = { specs, 1 };
	int err, rc = 0;

	memset(&ns, 0, sizeof(ns));
	ns.remote = remote;
	ns.gitdir = git_repository_path(s->repo);
	if ((err = open_remote(&r, s, remote)) < 0)
		return err;
	kb_buf_printf(&spec, "+refs/heads/%s:refs/remotes/%s/%s", branch, remote, branch);
	specs[0] = spec.ptr;
	fo.callbacks.credentials = credentials_cb;
	fo.callbacks.payload = &ns;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if (git_remote_fetch(r, &arr, &fo, "kb sync: fetch") < 0)
		rc = net_error(&ns, r, "fetch from");
	else
		rc = track_fetched(s, r, remote, branch);
	git_remote_free(r);
	kb_buf_release(&spec);
	return rc;
}

int kb__sync_push(kb_store *s, const char *remote, const char *branch)
{
	git_push_options po = GIT_PUSH_OPTIONS_INIT;
	net_state ns;
	git_remote *r = NULL;
	kb_buf spec = KB_BUF_INIT;
	char *specs[1];
	git_strarray arr = { specs, 1 };
	int err, rc = 0;

	memset(&ns, 0, sizeof(ns));
	ns.remote = remote;
	ns.gitdir = git_repository_path(s->repo);
	if ((err = open_remote(&r, s, remote)) < 0)
		return err;
	kb_buf_printf(&spec, "refs/heads/%s:refs/heads/%s", branch, branch);
	specs[0] = spec.ptr;
	po.callbacks.credentials = credentials_cb;
	po.callbacks.push_update_reference = push_ref_cb;
	po.callbacks.payload = &ns;
	err = git_remote_push(r, &arr, &po);
	if (err == GIT_ENONFASTFORWARD ||
	    (err == 0 && ns.rejected && (strstr(ns.rejected, "fast-forward") ||
					 strstr(ns.rejected, "fetch first") ||
					 strstr(ns.rejected, "stale")))) {
		git_error_clear();
		rc = 1;
	} else if (err < 0) {
		rc = net_error(&ns, r, "push to");
	} else if (ns.rejected) {
		rc = kb_error_set(KB_ENET, NULL, 0, "'%s' refused the push of '%s': %s", remote,
				  branch, ns.rejected);
	} else {
		git_oid head;
		kb_buf local = KB_BUF_INIT;

		kb_buf_printf(&local, "refs/heads/%s", branch);
		if (git_reference_name_to_id(&head, s->repo, local.ptr) == 0)
			rc = set_tracking(s, remote, branch, &head);
		kb_buf_release(&local);
	}
	git_remote_free(r);
	kb_buf_release(&spec);
	return rc;
}
