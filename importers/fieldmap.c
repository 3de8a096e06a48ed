/*
 * fieldmap.c - the "field=Name,field=Name" maps of the structured sources
 * (CSV columns, JSON members): which case fields exist, parsing a map, and
 * the extraction slot of each field.  Shared by csv.c and http.c.
 */
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

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
