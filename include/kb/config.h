/*
 * kb/config.h - a knowledge base's own settings, kept in the tracked file
 * `kb.conf` at the KB root, in git-config syntax and read through libgit2's
 * config API (so `git config -f kb.conf` edits it too).
 *
 * Keys used by libkb (all optional):
 *   kb.name                     display name of the KB
 *   kb.idPrefix                 prefix of generated ids when equipment has none ("KB")
 *   equipment.<name>.prefix     id prefix per equipment ("chiller" -> "CHL")
 *   section.<kind>.alias        extra heading aliases, multi-valued
 *                               (<kind> is symptom, environment, cause, resolution, notes)
 *   search.weight.<column>      BM25 weight per index column (see kb/index.h)
 *   search.synonyms             synonym file, relative to the KB root ("synonyms.txt")
 *   search.stem                 stem English words (bool, default true)
 *   import.abbreviations        abbreviation file ("abbreviations.txt")
 *
 * Ownership: kb_config_open() returns an object freed with kb_config_free();
 * strings returned by getters belong to it.
 */
#ifndef KB_CONFIG_H
#define KB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "kb/case.h"

typedef struct kb_config kb_config;

/* Read `path`.  A missing file gives an empty config (all defaults).  A
 * syntax error fails with KB_EINPUT naming the file and line; *out is NULL. */
int kb_config_open(kb_config **out, const char *path);
/* An empty config (all defaults). */
kb_config *kb_config_new_empty(void);
void kb_config_free(kb_config *cfg);

/* Last value of `key` (as git config prints it), or NULL.  Section and
 * variable names ignore case, subsections do not; a key written without
 * '=' reads as "" (and as true through kb_config_get_bool()). */
const char *kb_config_get(const kb_config *cfg, const char *key);
/* All values of a multi-valued key, in file order; returns the count.  The
 * array belongs to cfg and is valid until the next call on cfg. */
size_t kb_config_get_all(const kb_config *cfg, const char *key, const char *const **values);
int64_t kb_config_get_int(const kb_config *cfg, const char *key, int64_t dflt);
double kb_config_get_double(const kb_config *cfg, const char *key, double dflt);
int kb_config_get_bool(const kb_config *cfg, const char *key, int dflt);
/* Call `cb` for each entry whose key starts with `prefix`; stops and
 * returns cb's value when it is non-zero. */
int kb_config_foreach(const kb_config *cfg, const char *prefix,
		      int (*cb)(const char *key, const char *value, void *payload), void *payload);

/* Heading aliases: the defaults plus section.<kind>.alias entries. */
const kb_aliases *kb_config_aliases(const kb_config *cfg);

/* Write key = value into the config file at `path` (creating it), replacing
 * an existing value.  The file is rewritten atomically by libgit2.
 * KB_EINPUT for an invalid key or a key that has several values. */
int kb_config_write(const char *path, const char *key, const char *value);

#endif
