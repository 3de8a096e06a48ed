/*
 * cmd_init.c - `kb init [DIR]`: create a knowledge base (a git repository
 * with kb.conf, the case template, synonyms and an empty cases/) in one
 * commit by the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <git2.h>

#include "cli.h"
#include "commands.h"

static const char usage_text[] =
	"usage: kb init [DIR]\n\n"
	"Create a knowledge base in DIR (default: the current directory): a git\n"
	"repository (initialised if needed) with kb.conf, templates/case.md,\n"
	"synonyms.txt, abbreviations.txt and an empty cases/, committed once by the\n"
	"author from --author, $KB_AUTHOR or git config user.name/user.email.\n";

/*
 * kb_store_author() needs an open store, and there is none before init:
 * read user.name/user.email from git config the way git would for a new
 * repository in `dir` (its own config if it is already a repository, then
 * global and system; GIT_AUTHOR_NAME/EMAIL first, as kb_store_author does).  A libkb kb_author_default() would replace this.
 */
/* The environment variable, else the config value, else NULL; like git. */
static const char *identity_part(git_config *cfg, git_buf *buf, const char *env,
				 const char *key)
{
	const char *v = getenv(env);

	if (v && *v)
		return v;
	if (cfg && git_config_get_string_buf(buf, cfg, key) == 0)
		return buf->ptr;
	return NULL;
}

static int author_from_git_config(kb_author *out, const char *dir)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	git_buf nbuf = { 0 }, ebuf = { 0 };
	kb_buf text = KB_BUF_INIT;
	const char *name, *email;
	int rc;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0)
		rc = git_repository_config_snapshot(&cfg, repo);
	else
		rc = git_config_open_default(&cfg);
	if (rc < 0)
		cfg = NULL;
	name = identity_part(cfg, &nbuf, "GIT_AUTHOR_NAME", "user.name");
	email = identity_part(cfg, &ebuf, "GIT_AUTHOR_EMAIL", "user.email");
	if (name) {
		kb_buf_puts(&text, name);
		if (email)
			kb_buf_printf(&text, " <%s>", email);
		rc = kb_author_parse(out, text.ptr);
	} else {
		rc = kb_error_set(KB_EINPUT, NULL, 0, "no author: set git config user.name and "
				  "user.email, KB_AUTHOR, or --author");
	}
	git_buf_dispose(&nbuf);
	git_buf_dispose(&ebuf);
	git_config_free(cfg);
	git_repository_free(repo);
	git_libgit2_shutdown();
	kb_buf_release(&text);
	return rc;
}

static int resolve_author(kb_author *out, const char *dir)
{
	const char *text = cli.author ? cli.author : getenv("KB_AUTHOR");

	if (text && *text)
		return kb_author_parse(out, text);
	return author_from_git_config(out, dir);
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	kb_author author = { NULL, NULL };
	kb_store *s = NULL;
	const char *dir;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_OK;
		}
		fputs(usage_text, stderr);
		return CLI_USAGE;
	}
	if (argc - optind > 1)
		return cli_usage_error("init takes one directory, not %d", argc - optind);
	dir = optind < argc ? argv[optind] : (cli.kb_dir ? cli.kb_dir : ".");
	if (resolve_author(&author, dir) < 0 || kb_store_init(&s, dir, &author) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("initialised knowledge base in %s\n", kb_store_workdir(s));
	rc = CLI_OK;
done:
	kb_store_free(s);
	kb_author_release(&author);
	return rc;
}
