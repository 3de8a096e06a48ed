/*
 * cli.h - shared by the cmd_*.c files of the `kb` command: the command
 * table, global options, opening the KB, error reporting and exit codes,
 * and the small helpers of common.c (files, editor, dates) and output.c
 * (JSON, tables, diagnostics).  The CLI only parses arguments, calls libkb
 * and prints; results go to stdout, messages to stderr.
 */
#ifndef KB_CLI_H
#define KB_CLI_H

#include <stdio.h>
#include <jansson.h>

#include "kb/buf.h"
#include "kb/case.h"
#include "kb/error.h"
#include "kb/index.h"
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
/* Print "kb: warning: <fmt>" to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like cli_fail(), naming `path` when the error names no file. */
int cli_fail_at(const char *path);
/* Map a kb_error_code to an exit code. */
int cli_exit_code(int code);
/* 1 when argv holds -h or --help before "--". */
int cli_wants_help(int argc, char **argv);

/* ---- common.c ----------------------------------------------------------- */

/* Open the KB named by --kb / $KB_DIR, or the one containing the current
 * directory.  Returns 0, or prints the error and returns its exit code. */
int cli_open_store(kb_store **out);
/* Author for a write: --author, else $KB_AUTHOR, else git config.  Returns
 * 0, or prints the error and returns its exit code. */
int cli_author(kb_author *out, kb_store *s);
/* Read a whole file ("-" = stdin) of at most `max` bytes into `out`.
 * KB_EIO when it cannot be read, KB_EINPUT when it is larger than `max`. */
int cli_read_file(kb_buf *out, const char *path, size_t max);
/* Today's local date as YYYY-MM-DD. */
void cli_today(char out[11]);
/* Write `len` bytes to a new file <gitdir>kb/<prefix>XXXXXX.md and store
 * its path in `path`.  The file is kept for the caller to remove.  On
 * failure `path` is left empty. */
int cli_temp_file(kb_buf *path, kb_store *s, const char *prefix, const void *data,
		  size_t len);
/* Run $VISUAL, else $EDITOR, else vi on `path` and wait for it. */
int cli_run_editor(const char *path);
/*
 * Parse a case and validate it.  `display` names the text in messages
 * (the case is parsed without a path, so the file-name rule does not
 * apply: the caller decides where the case goes).  Every problem is
 * appended to `diags`; *out is the case when it parsed (even if invalid).
 * Returns 0 when the case parsed and has no errors.
 */
int cli_parse_validate(kb_case **out, const char *text, size_t len, const char *display,
		       const kb_aliases *aliases, kb_diags *diags);
/* The id prefix for a new case of `equipment` (may be NULL) and the next
 * free number after the highest existing <prefix>-NNNN case: "CHL-0010". */
int cli_next_id(kb_buf *out, kb_store *s, const char *equipment);
/* Write `text` to a temporary copy (cli_temp_file), run the editor on it
 * and read the result into `result`.  The copy is kept; its path is in
 * `tmp_path` whenever it was created. */
int cli_edit_text(kb_buf *tmp_path, kb_buf *result, kb_store *s, const char *prefix,
		  const char *text, size_t len);
/* Before opening an editor: 0 when the KB accepts a write now (no merge
 * in progress, writable), else prints why and returns the exit code. */
int cli_check_writable(kb_store *s);
/* Commit one file's new contents as one commit; a kb_error_code. */
int cli_commit_file(kb_store *s, const kb_author *author, const char *relpath,
		    const kb_buf *data, const char *message);
/* 1 when the work tree has something (file, symlink, directory) at relpath. */
int cli_case_exists(kb_store *s, const char *relpath);
/* Join argv[0..argc) with single spaces into `out`. */
void cli_join_args(kb_buf *out, int argc, char **argv);
/* Parse a positive count for option `name`; prints a usage error and
 * returns CLI_USAGE when `s` is not a number from 1 to 10000. */
int cli_parse_limit(size_t *out, const char *name, const char *s);

/* ---- output.c ----------------------------------------------------------- */

/* Print "path:line: error: message" (or warning) for each diagnostic to
 * `f`; diagnostics without a path get `dflt_path`. */
void cli_print_diags(FILE *f, const kb_diags *d, const char *dflt_path);
/* A JSON string for s (null for NULL); invalid UTF-8 bytes become U+FFFD. */
json_t *cli_json_str(const char *s);
/* Print `v` as indented JSON plus a newline on stdout and free it. */
int cli_json_print(json_t *v);
/* Print a JSON string literal (with quotes, escaped) to f. */
void cli_json_string(FILE *f, const char *s);
/* Columns the UTF-8 string occupies on a terminal (CJK counts 2). */
size_t cli_display_width(const char *s);
/* Print s padded with spaces to `width` columns. */
void cli_print_padded(FILE *f, const char *s, size_t width);
/* Print s cut to at most `width` columns (with "…" when cut). */
void cli_print_cut(FILE *f, const char *s, size_t width);
/* Width of the terminal on stdout, or 0 when stdout is not a terminal. */
size_t cli_term_width(void);
/* Print search hits as text (see docs/cli.md) or, with json, as one array. */
int cli_print_hits(const kb_hits *hits, int json, int explain);

#endif
