/*
 * config.c - a KB's kb.conf (kb/config.h): read once through libgit2's
 * config parser into an owned list of entries in file order (multivars kept),
 * typed getters with git's rules, heading aliases, and writes through libgit2.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <git2.h>

#include "kb/buf.h"
#include "kb/config.h"
#include "kb/error.h"

typedef struct {
	char *key;      /* normalised: section and name lower-case, subsection as written */
	char *value;    /* "" for a key without '=' */
	int implicit;   /* 1 for a key without '=' (true as a boolean) */
} config_entry;

struct kb_config {
	config_entry *items;
	size_t count;
	size_t alloc;
	const char **values;   /* scratch array returned by kb_config_get_all() */
	size_t values_alloc;
	kb_aliases *aliases;   /* built on first kb_config_aliases() */
};

static const char *const alias_kinds[] = {
	"symptom", "environment", "cause", "resolution", "notes",
};

static const kb_section_kind alias_kind_values[] = {
	KB_SECTION_SYMPTOM, KB_SECTION_ENVIRONMENT, KB_SECTION_CAUSE,
	KB_SECTION_RESOLUTION, KB_SECTION_NOTES,
};

kb_config *kb_config_new_empty(void)
{
	return kb_xcalloc(1, sizeof(kb_config));
}

void kb_config_free(kb_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->count; i++) {
		free(cfg->items[i].key);
		free(cfg->items[i].value);
	}
	free(cfg->items);
	free(cfg->values);
	if (cfg->aliases)
		kb_aliases_free(cfg->aliases);
	free(cfg);
}

/* "Section.Sub.Name" -> "section.Sub.name", as git compares keys: section
 * and variable names ignore case, subsections do not.  Caller frees. */
static char *normalise_key(const char *key)
{
	char *k = kb_xstrdup(key);
	char *first = strchr(k, '.');
	char *last = strrchr(k, '.');
	char *p;

	for (p = k; *p && (!first || p < first); p++)
		*p = (char)tolower((unsigned char)*p);
	if (last)
		for (p = last; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return k;
}

static void add_entry(kb_config *cfg, const char *name, const char *value)
{
	config_entry *e;

	if (cfg->count == cfg->alloc) {
		cfg->alloc = cfg->alloc ? cfg->alloc * 2 : 16;
		cfg->items = kb_xrealloc(cfg->items, cfg->alloc * sizeof(*cfg->items));
	}
	e = &cfg->items[cfg->count++];
	e->key = normalise_key(name);
	e->value = kb_xstrdup(value ? value : "");
	e->implicit = value == NULL;
}

/*
 * Turn libgit2's "failed to parse config file: <why> (in <path>:<line>)"
 * into a KB_EINPUT naming `path` and the line.
 */
static int parse_error(const char *path)
{
	const git_error *ge = git_error_last();
	const char *msg = ge && ge->message ? ge->message : "cannot read config";
	const char *prefix = "failed to parse config file: ";
	const char *in = strstr(msg, " (in ");
	const char *colon;
	size_t len;
	long line = 0;

	if (!strncmp(msg, prefix, strlen(prefix)))
		msg += strlen(prefix);
	len = in && in > msg ? (size_t)(in - msg) : strlen(msg);
	if (in && (colon = strrchr(in, ':')) != NULL)
		line = strtol(colon + 1, NULL, 10);
	return kb_error_set(KB_EINPUT, path, line > 0 && line < 1000000000 ? (int)line : 0,
			    "bad config: %.*s", (int)len, msg);
}

int kb_config_open(kb_config **out, const char *path)
{
	git_config *gc = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *ge;
	kb_config *cfg = NULL;
	int rc, err;

	*out = NULL;
	git_libgit2_init();
	if (git_config_open_ondisk(&gc, path) < 0) {
		rc = parse_error(path);
		goto done;
	}
	if (git_config_iterator_new(&it, gc) < 0) {
		rc = kb_error_set(KB_ERROR, path, 0, "cannot read config: %s",
				  git_error_last()->message);
		goto done;
	}
	cfg = kb_config_new_empty();
	while ((err = git_config_next(&ge, it)) == 0)
		add_entry(cfg, ge->name, ge->value);
	if (err != GIT_ITEROVER) {
		rc = kb_error_set(KB_ERROR, path, 0, "cannot read config: %s",
				  git_error_last()->message);
		goto done;
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
done:
	git_config_iterator_free(it);
	git_config_free(gc);
	kb_config_free(cfg);
	git_libgit2_shutdown();
	return rc;
}

const char *kb_config_get(const kb_config *cfg, const char *key)
{
	char *k = normalise_key(key);
	const char *v = NULL;
	size_t i;

	for (i = cfg->count; i-- > 0;)
		if (!strcmp(cfg->items[i].key, k)) {
			v = cfg->items[i].value;
			break;
		}
	free(k);
	return v;
}

static const config_entry *last_entry(const kb_config *cfg, const char *key)
{
	char *k = normalise_key(key);
	const config_entry *e = NULL;
	size_t i;

	for (i = cfg->count; i-- > 0;)
		if (!strcmp(cfg->items[i].key, k)) {
			e = &cfg->items[i];
			break;
		}
	free(k);
	return e;
}

size_t kb_config_get_all(const kb_config *cfg, const char *key, const char *const **values)
{
	kb_config *mut = (kb_config *)cfg;  /* the scratch array is a cache, not state */
	char *k = normalise_key(key);
	size_t i, n = 0;

	for (i = 0; i < cfg->count; i++) {
		if (strcmp(cfg->items[i].key, k))
			continue;
		if (n == mut->values_alloc) {
			mut->values_alloc = mut->values_alloc ? mut->values_alloc * 2 : 8;
			mut->values = kb_xrealloc(mut->values, mut->values_alloc * sizeof(char *));
		}
		mut->values[n++] = cfg->items[i].value;
	}
	free(k);
	*values = n ? (const char *const *)mut->values : NULL;
	return n;
}

/*
 * Git's integers: decimal with an optional k, m or g suffix (powers of
 * 1024).  Parsed here rather than with git_config_parse_int64() so the
 * getters work without libgit2 being initialised.  0 ok, -1 not a number.
 */
static int parse_int(int64_t *out, const char *text)
{
	char *end;
	long long v, mul = 1;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (end == text || errno)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case 'k': mul = 1024; end++; break;
	case 'm': mul = 1024 * 1024; end++; break;
	case 'g': mul = 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end || (v > 0 && v > INT64_MAX / mul) || (v < 0 && v < INT64_MIN / mul))
		return -1;
	*out = (int64_t)v * mul;
	return 0;
}

/* Git's booleans: true/yes/on, false/no/off (any case), "" is false, and an
 * integer is true when non-zero.  0 ok, -1 not a boolean. */
static int parse_bool(int *out, const char *text)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off", "" };
	int64_t n;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcasecmp(text, yes[i]))
			return *out = 1, 0;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (!strcasecmp(text, no[i]))
			return *out = 0, 0;
	if (parse_int(&n, text) < 0)
		return -1;
	*out = n != 0;
	return 0;
}

int64_t kb_config_get_int(const kb_config *cfg, const char *key, int64_t dflt)
{
	const config_entry *e = last_entry(cfg, key);
	int64_t v;

	if (!e || e->implicit || parse_int(&v, e->value) < 0)
		return dflt;
	return v;
}

double kb_config_get_double(const kb_config *cfg, const char *key, double dflt)
{
	const config_entry *e = last_entry(cfg, key);
	char *end;
	double v;

	if (!e || !*e->value)
		return dflt;
	errno = 0;
	v = strtod(e->value, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || *end)
		return dflt;
	return v;
}

int kb_config_get_bool(const kb_config *cfg, const char *key, int dflt)
{
	const config_entry *e = last_entry(cfg, key);
	int v;

	if (!e)
		return dflt;
	if (e->implicit)
		return 1;
	if (parse_bool(&v, e->value) < 0)
		return dflt;
	return v;
}

int kb_config_foreach(const kb_config *cfg, const char *prefix,
		      int (*cb)(const char *key, const char *value, void *payload), void *payload)
{
	size_t i, plen = prefix ? strlen(prefix) : 0;
	int rc;

	for (i = 0; i < cfg->count; i++) {
		if (plen && strncasecmp(cfg->items[i].key, prefix, plen))
			continue;
		rc = cb(cfg->items[i].key, cfg->items[i].value, payload);
		if (rc)
			return rc;
	}
	return 0;
}

const kb_aliases *kb_config_aliases(const kb_config *cfg)
{
	kb_config *mut = (kb_config *)cfg;  /* built lazily: a cache of the entries */
	kb_buf key = KB_BUF_INIT;
	size_t k, i;

	if (cfg->aliases)
		return cfg->aliases;
	mut->aliases = kb_aliases_new_default();
	for (k = 0; k < sizeof(alias_kinds) / sizeof(alias_kinds[0]); k++) {
		kb_buf_clear(&key);
		kb_buf_printf(&key, "section.%s.alias", alias_kinds[k]);
		for (i = 0; i < cfg->count; i++)
			if (!strcmp(cfg->items[i].key, key.ptr) && *cfg->items[i].value)
				kb_aliases_add(mut->aliases, alias_kind_values[k], cfg->items[i].value);
	}
	kb_buf_release(&key);
	return cfg->aliases;
}

int kb_config_write(const char *path, const char *key, const char *value)
{
	git_config *gc = NULL;
	int rc = 0;

	git_libgit2_init();
	if (git_config_new(&gc) < 0 ||
	    git_config_add_file_ondisk(gc, path, GIT_CONFIG_LEVEL_APP, NULL, 0) < 0) {
		rc = parse_error(path);
		goto done;
	}
	if (git_config_set_string(gc, key, value) < 0)
		rc = kb_error_set(KB_EINPUT, path, 0, "cannot set '%s': %s", key,
				  git_error_last()->message);
done:
	git_config_free(gc);
	git_libgit2_shutdown();
	return rc;
}
