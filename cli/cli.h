/*
 * cli.h - shared by the cmd_*.c files of the `kb` command: the command
 * table, global options, opening the KB, error reporting and exit codes.
 * The CLI only parses arguments, calls libkb and prints; results go to
 * stdout, messages to stderr.
 */
#ifndef KB_CLI_H
#define KB_CLI_H

#include <stdio.h>

#include "kb/error.h"
#include "kb/store.h"

/* Exit codes (documented in README and docs/cli.md). */
enum {
	CLI_OK = 0,
	CLI_NOTHING = 1,   /* nothing found, validation failed */
	CLI_USAGE = 2,     /* usage or input error */
	CLI_INTERNAL = 3,
};

typedef struct {
	const char *kb_dir;   /* --kb DIR, else $KB_DIR, else NULL (cwd) */
	const char *author;   /* --author, else NULL */
	int color;            /* stdout is a TTY and NO_COLOR unset */
} cli_globals;

extern cli_globals cli;

typedef struct {
	const char *name;
	int (*run)(int argc, char **argv);   /* argv[0] is the command name */
	const char *summary;
} cli_command;

/* Print "kb: <message>" for the last libkb error to stderr and return the
 * exit code for its kb_error_code. */
int cli_fail(void);
/* Print "kb: <fmt>" to stderr and return CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Map a kb_error_code to an exit code. */
int cli_exit_code(int code);
/* Open the KB named by the global options (or found from the cwd). */
int cli_open_store(kb_store **out);
/* 1 when argv holds -h or --help before "--". */
int cli_wants_help(int argc, char **argv);

/* Print a JSON string literal (with quotes, escaped) to f. */
void cli_json_string(FILE *f, const char *s);

#endif
