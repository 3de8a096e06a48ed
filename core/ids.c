/*
 * ids.c - new case ids: the prefix for a piece of equipment (kb.conf
 * equipment.<name>.prefix, else kb.idPrefix, else "KB") and the next free
 * number after the highest existing <prefix>-NNNN case file.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/store.h"

typedef struct {
	const char *prefix;
	size_t prefix_len;
	long max;
} next_id_scan;

/* kb_store_foreach_case_file() callback: track the highest NNNN of the
 * files named <prefix>-NNNN.md. */
static int scan_id(const char *relpath, const char *text, size_t len, void *payload)
{
	next_id_scan *scan = payload;
	const char *base = strrchr(relpath, '/');
	char *end;
	long n;

	(void)text, (void)len;
	base = base ? base + 1 : relpath;
	if (strncmp(base, scan->prefix, scan->prefix_len) || base[scan->prefix_len] != '-')
		return 0;
	base += scan->prefix_len + 1;
	if (*base < '0' || *base > '9')
		return 0;
	n = strtol(base, &end, 10);
	if (strcmp(end, ".md") == 0 && n > scan->max)
		scan->max = n;
	return 0;
}

const char *kb_store_id_prefix(kb_store *s, const char *equipment)
{
	const kb_config *cfg = kb_store_config(s);
	const char *prefix = NULL;
	kb_buf key = KB_BUF_INIT;

	if (equipment && *equipment) {
		kb_buf_printf(&key, "equipment.%s.prefix", equipment);
		prefix = kb_config_get(cfg, key.ptr);
		kb_buf_release(&key);
	}
	if (!prefix || !*prefix)
		prefix = kb_config_get(cfg, "kb.idPrefix");
	if (!prefix || !*prefix)
		prefix = "KB";
	return prefix;
}

int kb_store_max_id_number(long *out, kb_store *s, const char *prefix)
{
	next_id_scan scan;
	int rc;

	scan.prefix = prefix;
	scan.prefix_len = strlen(prefix);
	scan.max = 0;
	*out = 0;
	if ((rc = kb_store_foreach_case_file(s, scan_id, &scan)) < 0)
		return rc;
	*out = scan.max;
	return 0;
}

int kb_store_next_id(kb_buf *out, kb_store *s, const char *equipment)
{
	const char *prefix = kb_store_id_prefix(s, equipment);
	long max;
	int rc;

	if ((rc = kb_store_max_id_number(&max, s, prefix)) < 0)
		return rc;
	kb_buf_printf(out, "%s-%04ld", prefix, max + 1);
	return 0;
}
