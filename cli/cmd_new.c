/*
 * cmd_new.c - `kb new`: write a new case in the editor from the KB's
 * template, or take it from a file or stdin; fill in id, author and
 * created; validate; commit it as one commit "Add case ID: TITLE".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <getopt.h>

#include "cli.h"
#include "commands.h"

static const char usage_text[] =
	"usage: kb new [--from FILE|-] [--id ID] [--title T] [--equipment E] [--model M]\n"
	"              [--site S] [--status S] [--failure-mode F] [--tag T]...\n\n"
	"Without --from, open the KB's template (templates/case.md) with id, author\n"
	"and created filled in in $VISUAL / $EDITOR (default vi); with --from, read the\n"
	"case from FILE or, for '-', stdin.  Options set front-matter fields.  A missing\n"
	"id is generated (equipment.<name>.prefix from kb.conf, else kb.idPrefix, else\n"
	"KB, then the next free number: CHL-0010); missing author and created are set\n"
	"to the commit author and today.  The case is validated and committed as\n"
	"cases/PREFIX/NNN/ID.md (docs/format.md) in one commit.  Prints the id.\n\n"
	"  --from FILE|-      read the case instead of opening the editor\n"
	"  --id ID            case id (default: generated)\n"
	"  --tag T            add a tag (repeatable)\n\n"
	"exit: 0 committed, 1 invalid or unchanged (an edited text is kept and named),\n"
	"2 usage or input error (bad file, id exists), 3 internal error\n";

typedef struct {
	const char *from;
	const char *id, *title, *equipment, *model, *site, *status, *failure_mode;
	const char **tags;
	size_t ntags;
} new_options;

static int parse_options(new_options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' }, { "id", required_argument, NULL, 'i' },
		{ "title", required_argument, NULL, 't' },
		{ "equipment", required_argument, NULL, 'e' },
		{ "model", required_argument, NULL, 'm' }, { "site", required_argument, NULL, 's' },
		{ "status", required_argument, NULL, 'S' },
		{ "failure-mode", required_argument, NULL, 'F' },
		{ "tag", required_argument, NULL, 'T' }, { "help", no_argument, NULL, 'h' },
		{ 0 } };
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o->from = optarg; break;
		case 'i': o->id = optarg; break;
		case 't': o->title = optarg; break;
		case 'e': o->equipment = optarg; break;
		case 'm': o->model = optarg; break;
		case 's': o->site = optarg; break;
		case 'S': o->status = optarg; break;
		case 'F': o->failure_mode = optarg; break;
		case 'T':
			o->tags = kb_xrealloc(o->tags, (o->ntags + 1) * sizeof(*o->tags));
			o->tags[o->ntags++] = optarg;
			break;
		case 'h': fputs(usage_text, stdout); return -1;
		default: fputs(usage_text, stderr); return CLI_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

static void set_if(kb_case *c, const char *key, const char *value)
{
	if (value)
		kb_case_set(c, key, value);
}

/* Front-matter fields given as options replace those of the text. */
static void apply_options(kb_case *c, const new_options *o)
{
	set_if(c, "id", o->id);
	set_if(c, "title", o->title);
	set_if(c, "equipment", o->equipment);
	set_if(c, "model", o->model);
	set_if(c, "site", o->site);
	set_if(c, "status", o->status);
	set_if(c, "failure_mode", o->failure_mode);
	if (o->ntags)
		kb_case_set_list(c, "tags", o->tags, o->ntags);
}

static int is_empty(const kb_case *c, const char *key)
{
	const char *v = kb_case_get(c, key);

	return !v || !*v;
}

/* Fill id (when empty), author and created.  `generated` receives the
 * generated id, if one was made. */
static int fill_missing(kb_case *c, kb_store *s, const kb_author *a, kb_buf *generated)
{
	kb_buf text = KB_BUF_INIT;
	char today[11];
	int rc;

	if (is_empty(c, "id")) {
		kb_buf_clear(generated);
		if ((rc = cli_next_id(generated, s, kb_case_get(c, "equipment"))) < 0)
			return rc;
		kb_case_set(c, "id", generated->ptr);
	}
	if (is_empty(c, "author")) {
		kb_buf_puts(&text, a->name);
		if (a->email && *a->email)
			kb_buf_printf(&text, " <%s>", a->email);
		kb_case_set(c, "author", text.ptr);
		kb_buf_release(&text);
	}
	if (is_empty(c, "created")) {
		cli_today(today);
		kb_case_set(c, "created", today);
	}
	return 0;
}

/* After editing: if the user kept the generated id but chose equipment
 * with another prefix, generate the id again for that equipment. */
static int regenerate_id(kb_case *c, kb_store *s, const kb_buf *generated)
{
	kb_buf again = KB_BUF_INIT;
	int rc;

	if (!generated->len || strcmp(kb_case_id(c), generated->ptr))
		return 0;
	if ((rc = cli_next_id(&again, s, kb_case_get(c, "equipment"))) == 0)
		kb_case_set(c, "id", again.ptr);
	kb_buf_release(&again);
	return rc;
}

/* Validate, refuse an existing id, and commit the case.  Prints problems;
 * returns an exit code. */
static int commit_case(kb_case *c, kb_store *s, const kb_author *a, const char *display)
{
	kb_diags diags = KB_DIAGS_INIT;
	kb_buf rel = KB_BUF_INIT, text = KB_BUF_INIT, msg = KB_BUF_INIT;
	int rc;

	if (kb_case_validate(c, &diags) < 0 || kb_diags_errors(&diags)) {
		cli_print_diags(stderr, &diags, display);
		rc = CLI_NOTHING;
		goto done;
	}
	cli_print_diags(stderr, &diags, display);
	if (kb_store_case_locate(&rel, s, kb_case_id(c)) == 0) {
		rc = cli_usage_error("%s: case '%s' already exists (%s)", display, kb_case_id(c),
				     rel.ptr);
		goto done;
	}
	if (kb_store_case_relpath(&rel, kb_case_id(c)) < 0) {
		rc = cli_fail();
		goto done;
	}
	kb_case_serialize(c, &text);
	kb_buf_printf(&msg, "Add case %s: %s", kb_case_id(c), kb_case_title(c));
	if (cli_commit_file(s, a, rel.ptr, &text, msg.ptr) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("%s\n", kb_case_id(c));
	rc = CLI_OK;
done:
	kb_diags_release(&diags);
	kb_buf_release(&rel);
	kb_buf_release(&text);
	kb_buf_release(&msg);
	return rc;
}

/* `kb new --from FILE|-`: read, parse, apply options, fill in, commit. */
static int new_from(const new_options *o, kb_store *s, const kb_author *a)
{
	const char *display = strcmp(o->from, "-") ? o->from : "<stdin>";
	const kb_aliases *al = kb_config_aliases(kb_store_config(s));
	kb_buf text = KB_BUF_INIT, generated = KB_BUF_INIT;
	kb_case *c = NULL;
	int rc;

	if (cli_read_file(&text, o->from, KB_CASE_MAX_BYTES) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (kb_case_parse(&c, text.ptr, text.len, NULL, al) < 0) {
		rc = cli_fail_at(display);
		goto done;
	}
	apply_options(c, o);
	if (fill_missing(c, s, a, &generated) < 0) {
		rc = cli_fail();
		goto done;
	}
	rc = commit_case(c, s, a, display);
done:
	kb_case_free(c);
	kb_buf_release(&text);
	kb_buf_release(&generated);
	return rc;
}

/* The KB's template, or a minimal case when the KB has none. */
static kb_case *load_template(kb_store *s, const kb_aliases *al)
{
	kb_buf text = KB_BUF_INIT;
	kb_case *c = NULL;

	if (kb_store_read_file(&text, s, KB_TEMPLATE_FILE, KB_CASE_MAX_BYTES) < 0 ||
	    kb_case_parse(&c, text.ptr, text.len, NULL, al) < 0) {
		cli_warn("cannot use '%s', starting from an empty case", KB_TEMPLATE_FILE);
		c = kb_case_new("");
		kb_case_set(c, "title", "");
		kb_case_set(c, "status", "draft");
		kb_case_set_section(c, KB_SECTION_SYMPTOM, NULL, "");
		kb_case_set_section(c, KB_SECTION_CAUSE, NULL, "");
		kb_case_set_section(c, KB_SECTION_RESOLUTION, NULL, "");
	}
	kb_buf_release(&text);
	return c;
}

/* Name the kept temporary file (when there is one) and pass rc on. */
static int keep(const kb_buf *tmp, int rc)
{
	if (tmp->len)
		fprintf(stderr, "kb: case not saved; your text is in '%s'\n", tmp->ptr);
	return rc;
}

/* Parse what the editor left, give it the id its equipment asks for if
 * the generated one was kept, then validate and commit.  On failure the
 * temporary file is kept and named. */
static int save_edited(kb_store *s, const kb_author *a, const kb_buf *edited,
		       const kb_buf *tmp, const kb_buf *generated)
{
	const kb_aliases *al = kb_config_aliases(kb_store_config(s));
	kb_case *c = NULL;
	int rc;

	if (kb_case_parse(&c, edited->ptr, edited->len, NULL, al) < 0) {
		cli_fail_at(tmp->ptr);
		rc = keep(tmp, CLI_NOTHING);
		goto done;
	}
	if (regenerate_id(c, s, generated) < 0) {
		rc = keep(tmp, cli_fail());
		goto done;
	}
	rc = commit_case(c, s, a, tmp->ptr);
	if (rc == CLI_OK)
		unlink(tmp->ptr);
	else
		keep(tmp, rc);
done:
	kb_case_free(c);
	return rc;
}

/* `kb new` without --from: the template, filled in, in the editor. */
static int new_in_editor(const new_options *o, kb_store *s, const kb_author *a)
{
	kb_buf text = KB_BUF_INIT, edited = KB_BUF_INIT, tmp = KB_BUF_INIT;
	kb_buf generated = KB_BUF_INIT;
	kb_case *c = load_template(s, kb_config_aliases(kb_store_config(s)));
	int rc;

	apply_options(c, o);
	if (fill_missing(c, s, a, &generated) < 0) {
		rc = cli_fail();
		goto done;
	}
	kb_case_serialize(c, &text);
	if (cli_edit_text(&tmp, &edited, s, "new-", text.ptr, text.len) < 0) {
		rc = keep(&tmp, cli_fail());
		goto done;
	}
	if (edited.len == text.len && !memcmp(edited.ptr, text.ptr, text.len)) {
		fprintf(stderr, "kb: no case written: the template was not changed\n");
		unlink(tmp.ptr);
		rc = CLI_NOTHING;
		goto done;
	}
	rc = save_edited(s, a, &edited, &tmp, &generated);
done:
	kb_case_free(c);
	kb_buf_release(&text);
	kb_buf_release(&edited);
	kb_buf_release(&tmp);
	kb_buf_release(&generated);
	return rc;
}

int cmd_new(int argc, char **argv)
{
	new_options o = { 0 };
	kb_author author = { NULL, NULL };
	kb_store *s = NULL;
	int rc = parse_options(&o, argc, argv);

	if (rc)
		goto done;
	if ((rc = cli_open_store(&s)) || (rc = cli_author(&author, s)))
		goto done;
	if (o.id && !kb_case_id_valid(o.id)) {
		rc = cli_usage_error("invalid case id '%s'", o.id);
		goto done;
	}
	if (!o.from && (rc = cli_check_writable(s)))
		goto done;
	rc = o.from ? new_from(&o, s, &author) : new_in_editor(&o, s, &author);
done:
	free(o.tags);
	kb_author_release(&author);
	kb_store_free(s);
	return rc < 0 ? CLI_OK : rc;
}
