/*
 * main.c - the `kb` command: global options, then dispatch to one
 * cmd_<verb>.c per verb group.  Only argument parsing and printing happen
 * in cli/; all behaviour is in libkb.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

cli_globals cli;

static const cli_command commands[] = {
#define KB_COMMAND(name, fn, summary) { name, fn, summary },
#include "commands.def"
#undef KB_COMMAND
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: kb [--kb DIR] [--author 'NAME <EMAIL>'] <command> [<args>]\n\n"
		   "A git-backed knowledge base of maintenance fault cases.\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'kb <command> --help' describes one command.\n"
		   "exit codes: 0 ok, 1 nothing found or validation failed, 2 usage or input error,\n"
		   "3 internal error\n");
}

int cli_exit_code(int code)
{
	switch (code) {
	case KB_OK:
		return CLI_OK;
	case KB_ENOTFOUND:
	case KB_EINVALID:
	case KB_ECONFLICT:
		return CLI_NOTHING;
	case KB_EINPUT:
	case KB_EEXISTS:
	case KB_ENOKB:
	case KB_ESTATE:
		return CLI_USAGE;
	default:
		return CLI_INTERNAL;
	}
}

int cli_fail(void)
{
	char msg[4096];
	const kb_error *e = kb_error_last();

	fprintf(stderr, "kb: %s\n", kb_error_format(e, msg, sizeof(msg)));
	return cli_exit_code(e->code == KB_OK ? KB_ERROR : e->code);
}

int cli_fail_at(const char *path)
{
	char msg[4096];
	kb_error e = *kb_error_last();

	if (!e.path)
		e.path = path;
	fprintf(stderr, "kb: %s\n", kb_error_format(&e, msg, sizeof(msg)));
	return cli_exit_code(e.code == KB_OK ? KB_ERROR : e.code);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kb: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_USAGE;
}

int cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("kb: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int global_option(int *argc, char ***argv, const char *name, const char **val)
{
	size_t n = strlen(name);
	char *a = (*argv)[0];

	if (!strncmp(a, name, n) && a[n] == '=') {
		*val = a + n + 1;
		(*argc)--, (*argv)++;
		return 1;
	}
	if (strcmp(a, name))
		return 0;
	if (*argc < 2)
		exit(cli_usage_error("option '%s' needs a value", name));
	*val = (*argv)[1];
	*argc -= 2, *argv += 2;
	return 1;
}

int main(int argc, char **argv)
{
	size_t i;

	cli.kb_dir = getenv("KB_DIR");
	/* no-color.org: NO_COLOR set to a non-empty value turns colour off. */
	cli.color = isatty(1) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
	argc--, argv++;
	while (argc > 0 && argv[0][0] == '-') {
		if (global_option(&argc, &argv, "--kb", &cli.kb_dir) ||
		    global_option(&argc, &argv, "--author", &cli.author))
			continue;
		if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
			usage(stdout);
			return CLI_OK;
		}
		if (!strcmp(argv[0], "--version")) {
			printf("kb %s\n", KB_VERSION_STRING);
			return CLI_OK;
		}
		return cli_usage_error("unknown option '%s'", argv[0]);
	}
	if (argc == 0) {
		usage(stderr);
		return CLI_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].run(argc, argv);
	return cli_usage_error("'%s' is not a kb command; see 'kb --help'", argv[0]);
}
