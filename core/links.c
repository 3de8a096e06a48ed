/*
 * links.c - typed links between cases (kb/lifecycle.h): `links` for related
 * cases, duplicate_of / supersedes / caused_by for the others, all kept in
 * the front matter of the linking case; incoming links found by a scan.
 */
#include <stdlib.h>
#include <string.h>

#include "lifecycle_internal.h"

static const char *const type_names[KB_LINK__COUNT] = {
	"related", "duplicate-of", "supersedes", "caused-by"
};
static const char *const type_keys[KB_LINK__COUNT] = {
	"links", "duplicate_of", "supersedes", "caused_by"
};

const char *kb_link_type_name(kb_link_type t)
{
	return (unsigned)t < KB_LINK__COUNT ? type_names[t] : "unknown";
}

const char *kb_link_type_key(kb_link_type t)
{
	return (unsigned)t < KB_LINK__COUNT ? type_keys[t] : "links";
}

int kb_link_type_parse(const char *s)
{
	int i;

	for (i = 0; s && i < KB_LINK__COUNT; i++)
		if (!strcmp(s, type_names[i]))
			return i;
	return -1;
}

/* The type by which `c` links to `to`, or -1. */
static int link_type_to(const kb_case *c, const char *to)
{
	const char *const *items;
	size_t i, n;
	int t;

	for (t = 0; t < KB_LINK__COUNT; t++) {
		n = kb_case_get_list(c, type_keys[t], &items);
		for (i = 0; i < n; i++)
			if (!strcmp(items[i], to))
				return t;
	}
	return -1;
}

/* Add `to` under the key of `type`: a list for related links, a scalar
 * when it is the first of a typed key, else a list. */
static void store_link(kb_case *c, const char *to, kb_link_type type)
{
	const char *key = type_keys[type];
	const char *const *items;
	const char **all;
	size_t n = kb_case_get_list(c, key, &items);

	if (n == 0 && type != KB_LINK_RELATED) {
		kb_case_set(c, key, to);
		return;
	}
	all = kb_xmalloc((n + 1) * sizeof(*all));
	if (n)
		memcpy(all, items, n * sizeof(*all));
	all[n] = to;
	kb_case_set_list(c, key, all, n + 1);
	free(all);
}

int kb_link_add(kb_store *s, const char *from, const char *to, kb_link_type type,
		const kb_author *who, char oid[41])
{
	kb_case *a = NULL, *b = NULL;
	kb_buf msg = KB_BUF_INIT;
	int rc, had;

	if ((unsigned)type >= KB_LINK__COUNT)
		return kb_error_set(KB_EINPUT, NULL, 0, "unknown link type %d", (int)type);
	if ((rc = kb__lc_read_known(&a, s, from)) < 0 || (rc = kb__lc_read_known(&b, s, to)) < 0)
		goto done;
	if (!strcmp(from, to)) {
		rc = kb_error_set(KB_EINPUT, NULL, 0, "case '%s' cannot link to itself", from);
		goto done;
	}
	if ((had = link_type_to(a, to)) >= 0) {
		rc = kb_error_set(KB_EINPUT, NULL, 0, "case '%s' already links to '%s' (%s)", from,
				  to, type_names[had]);
		goto done;
	}
	store_link(a, to, type);
	kb_buf_printf(&msg, "Link %s to %s (%s)", from, to, type_names[type]);
	rc = kb__lc_commit_case(s, a, who, msg.ptr, oid);
done:
	kb_case_free(a);
	kb_case_free(b);
	kb_buf_release(&msg);
	return rc;
}

typedef struct {
	const char *id;
	kb_link *links;
	size_t n;
} scan_ctx;

static void push(scan_ctx *x, const char *other, int type, int incoming)
{
	x->links = kb_xrealloc(x->links, (x->n + 1) * sizeof(*x->links));
	x->links[x->n].id = kb_xstrdup(other);
	x->links[x->n].type = (kb_link_type)type;
	x->links[x->n].incoming = incoming;
	x->n++;
}

/* kb_store_foreach_case_file() callback: an incoming link from this file?
 * Only files whose text holds the id are parsed. */
static int scan_one(const char *relpath, const char *text, size_t len, void *payload)
{
	scan_ctx *x = payload;
	kb_case *c = NULL;
	int t;

	if (!memmem(text, len, x->id, strlen(x->id)))
		return 0;
	if (kb_case_parse(&c, text, len, relpath, NULL) < 0)
		return 0;
	if (strcmp(kb_case_id(c), x->id) && (t = link_type_to(c, x->id)) >= 0)
		push(x, kb_case_id(c), t, 1);
	kb_case_free(c);
	return 0;
}

static int incoming_cmp(const void *a, const void *b)
{
	return strcmp(((const kb_link *)a)->id, ((const kb_link *)b)->id);
}

int kb_links_get(kb_link **out, size_t *n, kb_store *s, const char *id)
{
	scan_ctx x = { id, NULL, 0 };
	const char *const *items;
	kb_case *c = NULL;
	size_t i, k, nout;
	int rc, t;

	*out = NULL;
	*n = 0;
	if ((rc = kb_store_read_case(&c, s, id)) < 0)
		goto done;
	for (t = 0; t < KB_LINK__COUNT; t++) {
		k = kb_case_get_list(c, type_keys[t], &items);
		for (i = 0; i < k; i++)
			push(&x, items[i], t, 0);
	}
	nout = x.n;
	if ((rc = kb_store_foreach_case_file(s, scan_one, &x)) < 0)
		goto done;
	if (x.n > nout)
		qsort(x.links + nout, x.n - nout, sizeof(*x.links), incoming_cmp);
	*out = x.links;
	*n = x.n;
	x.links = NULL;
done:
	if (rc < 0)
		kb_links_free(x.links, x.n);
	kb_case_free(c);
	return rc;
}

void kb_links_free(kb_link *links, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(links[i].id);
	free(links);
}
