/*
 * fieldmap.c - the "field=Name,field=Name" maps of the structured sources
 * (CSV columns, JSON members): which case fields exist, parsing a map, and
 * the extraction slot of each field, and maps saved by name in kb.conf
 * (import.<NAME>.map).  Shared by csv.c and http.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb/config.h"
#include "import_internal.h"
#include "importers_internal.h"

const char *const kb__import_field_names[IMPORT_NFIELDS] = {
	"date", "site", "equipment", "equipment_id", "title", "symptom", "checks", "cause",
	"resolution", "author",
};

int kb__import_field_index(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < IMPORT_NFIELDS; i++)
		if (strlen(kb__import_field_names[i]) == len &&
		    !memcmp(kb__import_field_names[i], name, len))
			return (int)i;
	return -1;
}

int kb__import_parse_map(char *names[IMPORT_NFIELDS], const char *map, const char *what,
			 const char *rhs)
{
	const char *p = map, *end, *eq;
	int f;

	while (*p) {
		end = strchr(p, ',');
		end = end ? end : p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || eq == p || eq + 1 == end)
			return kb_error_set(KB_EINPUT, NULL, 0,
					    "bad %s entry '%.*s' (want field=%s)", what,
					    (int)(end - p), p, rhs);
		if ((f = kb__import_field_index(p, (size_t)(eq - p))) < 0)
			return kb_error_set(KB_EINPUT, NULL, 0, "unknown case field '%.*s' in %s",
					    (int)(eq - p), p, what);
		free(names[f]);
		names[f] = kb_xstrndup(eq + 1, (size_t)(end - eq - 1));
		p = *end ? end + 1 : end;
	}
	return 0;
}

void kb__import_field_slots(kb_extraction *x, char **slot[IMPORT_NFIELDS])
{
	char **s[IMPORT_NFIELDS] = { &x->date, &x->site, &x->equipment, &x->equipment_id,
				     &x->title, &x->symptom, &x->checks, &x->cause,
				     &x->resolution, &x->author };

	memcpy(slot, s, sizeof(s));
}

/* ---- saved maps in kb.conf ---------------------------------------------- */

/* Map names are subsection names: letters, digits, '-', '_' and '.'. */
static int check_name(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (!kb__isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
			break;
	if (!*name || name[i])
		return kb_error_set(KB_EINPUT, NULL, 0,
				    "bad map name '%s' (letters, digits, '-', '_', '.')", name);
	return 0;
}

int kb__import_pick_map(const char **out, import_run *run, const char *map,
			const char *fallback_key)
{
	kb_buf key = KB_BUF_INIT;
	int rc = 0;

	*out = map;
	if (map && *map)
		return 0;
	if (run->o->map_name) {
		if ((rc = check_name(run->o->map_name)) < 0)
			return rc;
		kb_buf_printf(&key, "import.%s.map", run->o->map_name);
		*out = kb_config_get(kb_store_config(run->s), key.ptr);
		if (!*out || !**out)
			rc = kb_error_set(KB_ENOTFOUND, KB_CONFIG_FILE, 0,
					  "no saved map '%s' (%s in %s); save one with --save-map",
					  run->o->map_name, key.ptr, KB_CONFIG_FILE);
		kb_buf_release(&key);
		return rc;
	}
	*out = fallback_key ? kb_config_get(kb_store_config(run->s), fallback_key) : NULL;
	return 0;
}

/*
 * Write the map into a copy of the work tree's kb.conf (libgit2's config
 * writer keeps the rest of the file as it is) and stage the copy's bytes,
 * so the map reaches the KB only with the import's commit.
 */
int kb__import_save_map(import_run *run, const char *map)
{
	kb_buf key = KB_BUF_INIT, conf = KB_BUF_INIT, tmp = KB_BUF_INIT, text = KB_BUF_INIT;
	FILE *f;
	int rc;

	if (!run->o->save_map || !run->txn)
		return 0;
	if ((rc = check_name(run->o->save_map)) < 0)
		return rc;
	kb_buf_printf(&key, "import.%s.map", run->o->save_map);
	kb_buf_printf(&conf, "%s%s", kb_store_workdir(run->s), KB_CONFIG_FILE);
	kb_buf_printf(&tmp, "%skb-import-map-%ld.conf", kb_store_gitdir(run->s), (long)getpid());
	if ((rc = kb__import_read(&text, conf.ptr)) == KB_ENOTFOUND)
		rc = 0;
	if (rc == 0 && (!(f = fopen(tmp.ptr, "wb")) ||
			(fwrite(text.ptr ? text.ptr : "", 1, text.len, f) != text.len) + fclose(f)))
		rc = kb_error_set(KB_EIO, tmp.ptr, 0, "cannot write: %s", strerror(errno));
	if (rc == 0 && (rc = kb_config_write(tmp.ptr, key.ptr, map)) == 0) {
		kb_buf_clear(&text);
		if ((rc = kb__import_read(&text, tmp.ptr)) == 0)
			rc = kb_txn_put(run->txn, KB_CONFIG_FILE, text.ptr, text.len);
	}
	if (rc == 0)
		run->saved_map = kb_xstrdup(run->o->save_map);
	remove(tmp.ptr);
	kb_buf_release(&key);
	kb_buf_release(&conf);
	kb_buf_release(&tmp);
	kb_buf_release(&text);
	return rc;
}
