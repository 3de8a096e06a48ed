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
#include <sys/wait.h>
#include <unistd.h>

#include "kb/error.h"
#include "sync_internal.h"

/* ---- remotes ---------------------------------------------------------------- */

static int check_name(const char *name)
{
	int valid = 0;

	if (!name || !*name || git_remote_name_is_valid(&valid, name) < 0 || !valid ||
	    strchr(name, '/'))
		return kb_error_set(KB_EINPUT, NULL, 0, "invalid remote name '%s'",
				    name ? name : "");
	return 0;
}

int kb_remote_add(kb_store *s, const char *name, const char *url)
{
	git_remote *r = NULL;
	int err, rc;

	if ((rc = check_name(name)) < 0)
		return rc;
	if (!url || !*url)
		return kb_error_set(KB_EINPUT, NULL, 0, "empty URL for remote '%s'", name);
	err = git_remote_create(&r, s->repo, name, url);
	git_remote_free(r);
	if (err == GIT_EEXISTS)
		return kb_error_set(KB_EEXISTS, NULL, 0, "remote '%s' already exists", name);
	if (err < 0)
		return kb_error_set(KB_EINPUT, NULL, 0, "cannot add remote '%s': %s", name,
				    kb__git_msg("unknown error"));
	return 0;
}

int kb_remote_remove(kb_store *s, const char *name)
{
	git_remote *r = NULL;
	kb_buf state = KB_BUF_INIT;
	int err;

	if (check_name(name) < 0 || git_remote_lookup(&r, s->repo, name) < 0) {
		git_error_clear();
		return kb_error_set(KB_ENOTFOUND, NULL, 0, "no remote '%s'", name ? name : "");
	}
	git_remote_free(r);
	err = git_remote_delete(s->repo, name);
	if (err < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot remove remote '%s': %s", name,
				    kb__git_msg("unknown error"));
	if (kb__sync_path(&state, s, name) == 0)
		unlink(state.ptr);
	kb_buf_release(&state);
	kb_error_clear();
	return 0;
}

static int cmp_remote(const void *a, const void *b)
{
	return strcmp(((const kb_remote_info *)a)->name, ((const kb_remote_info *)b)->name);
}

int kb_remote_list(kb_remote_info **out, size_t *n, kb_store *s)
{
	git_strarray names = { NULL, 0 };
	git_remote *r;
	size_t i;

	*out = NULL;
	*n = 0;
	if (git_remote_list(&names, s->repo) < 0)
		return kb_error_set(KB_ERROR, NULL, 0, "cannot list remotes: %s",
				    kb__git_msg("unknown error"));
	if (names.count)
		*out = kb_xcalloc(names.count, sizeof(**out));
	for (i = 0; i < names.count; i++) {
		if (git_remote_lookup(&r, s->repo, names.strings[i]) < 0) {
			git_error_clear();
			continue;
		}
		(*out)[*n].name = kb_xstrdup(names.strings[i]);
		(*out)[*n].url = kb_xstrdup(git_remote_url(r) ? git_remote_url(r) : "");
		(*n)++;
		git_remote_free(r);
	}
	git_strarray_dispose(&names);
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
	int tried_env, tried_helper, tried_agent;
	int auth_failed;       /* every source was tried and refused */
	const char *rejected;  /* push: the status of a refused reference update */
	char reject_msg[256];
} net_state;

/* Run `git credential fill` for url; username and password into the buffers.
 * 0 when git answered with both, -1 otherwise (no helper, no git). */
static int credential_fill(kb_buf *user, kb_buf *pass, const char *url)
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
		if (credential_fill(&user, &pass, url) == 0)
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
static int open_remote(git_remote **out, kb_store *s, const char *remote)
{
	const char *url, *colon, *slash;
	kb_buf abs = KB_BUF_INIT;
	int err = 0;

	if (git_remote_lookup(out, s->repo, remote) < 0) {
		git_error_clear();
		return kb_error_set(KB_ENOTFOUND, NULL, 0, "no remote '%s'", remote);
	}
	url = git_remote_url(*out);
	if (!url || !*url || *url == '/' || strstr(url, "://"))
		return 0;
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	if (colon && (!slash || colon < slash))
		return 0;  /* scp-like host:path */
	kb_buf_printf(&abs, "%s%s", s->workdir, url);
	err = git_remote_set_instance_url(*out, abs.ptr);
	kb_buf_release(&abs);
	if (err < 0) {
		git_remote_free(*out);
		*out = NULL;
		return kb_error_set(KB_ERROR, NULL, 0, "cannot use the URL of '%s': %s", remote,
				    kb__git_msg("unknown error"));
	}
	return 0;
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
	if ((err = open_remote(&r, s, remote)) < 0)
		return err;
	kb_buf_printf(&spec, "+refs/heads/%s:refs/remotes/%s/%s", branch, remote, branch);
	specs[0] = spec.ptr;
	fo.callbacks.credentials = credentials_cb;
	fo.callbacks.payload = &ns;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if (git_remote_fetch(r, &arr, &fo, "kb sync: fetch") < 0)
		rc = net_error(&ns, r, "fetch from");
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
	}
	git_remote_free(r);
	kb_buf_release(&spec);
	return rc;
}
