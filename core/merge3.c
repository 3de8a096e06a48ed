/*
 * merge3.c - three-way merge of one case file (kb/merge.h): front matter
 * key by key, body section by section, working on the raw bytes the case
 * model keeps so that every part taken unchanged from a side is copied
 * byte for byte.  What cannot be reconciled is kept in both versions and
 * listed in the "conflicts" key.  Rules: docs/merge.md.
 */
#include <stdlib.h>
#include <string.h>

#include "case_internal.h"
#include "kb/merge.h"

/* A body unit: the text before the first heading (the preamble), or one
 * level-2 section with the loose text that follows it up to the next one. */
typedef struct {
	char *id;               /* identity across versions: "" preamble, "cause", "h:Heading", "#n" for repeats */
	const char *name;       /* what the conflicts list calls it (points into id or the case) */
	char *text;             /* the unit's bytes */
	size_t len;
	size_t head_len;        /* bytes of the heading line(s) at the start of text */
	char *norm;             /* text for comparison: "\n" line breaks, no trailing white space */
	const char *heading;    /* heading as written; NULL for the preamble */
	int last;               /* the last unit of its file (a block may be left open) */
} unit;

/* One version of the file, parsed. */
typedef struct {
	kb_case *c;             /* NULL when the version is absent */
	unit *u;
	size_t nu;
	size_t *order;          /* indices of u sorted by id, for lookup */
	const char *label;
} side;

/* A piece of the result: a front-matter entry or a body unit. */
typedef struct {
	const char *id;         /* key or unit id; NULL for a conflict copy */
	kb_buf text;
	int last;               /* may end inside an open block */
	int ours;               /* ours' bytes, in ours' order */
} piece;

typedef struct {
	piece *v;
	size_t n, alloc;
} pieces;

typedef struct {
	side b, o, t;
	const char *eol;
	pieces keys, body;
	char **names;           /* conflicts found by this merge */
	size_t nnames;
	kb_buf notes;           /* lines of the "Merge conflict" section */
} merger;

/* ---- small helpers -------------------------------------------------------- */

static int same_bytes(const char *a, size_t na, const char *b, size_t nb)
{
	if (!a || !b)
		return !a && !b;
	return na == nb && memcmp(a, b, na) == 0;
}

/* Append `len` bytes of `s` with every line break ("\r\n", "\r", "\n")
 * written as `eol`. */
static void put_eol(kb_buf *out, const char *s, size_t len, const char *eol)
{
	size_t i, from = 0;

	if (strcmp(eol, "\n") == 0) {
		kb__put_lf(out, s, len);
		return;
	}
	for (i = 0; i < len; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			continue;
		kb_buf_put(out, s + from, i - from);
		kb_buf_puts(out, eol);
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			i++;
		from = i + 1;
	}
	kb_buf_put(out, s + from, len - from);
}

/* Bytes from side `sd`, converted to the line breaks of the result. */
static void put_from(const merger *m, const side *sd, kb_buf *out, const char *s, size_t len)
{
	if (strcmp(sd->c->eol, m->eol) == 0)
		kb_buf_put(out, s, len);
	else
		put_eol(out, s, len, m->eol);
}

static void add_name(merger *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nnames; i++)
		if (strcmp(m->names[i], name) == 0)
			return;
	m->names = kb_xrealloc(m->names, (m->nnames + 1) * sizeof(*m->names));
	m->names[m->nnames++] = kb_xstrdup(name);
}

static piece *pieces_insert(pieces *ps, size_t at, const char *id, int last)
{
	piece *p;

	if (ps->n == ps->alloc) {
		ps->alloc = ps->alloc ? ps->alloc * 2 : 16;
		ps->v = kb_xrealloc(ps->v, ps->alloc * sizeof(*ps->v));
	}
	if (at > ps->n)
		at = ps->n;
	memmove(ps->v + at + 1, ps->v + at, (ps->n - at) * sizeof(*ps->v));
	ps->n++;
	p = &ps->v[at];
	p->id = id;
	p->last = last;
	p->ours = 0;
	kb_buf_init(&p->text);
	return p;
}

static void pieces_release(pieces *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		kb_buf_release(&ps->v[i].text);
	free(ps->v);
	ps->v = NULL;
	ps->n = ps->alloc = 0;
}

/* Index of the piece with `id`, or ps->n. */
static size_t pieces_find(const pieces *ps, const char *id)
{
	size_t i;

	for (i = ps->n; i-- > 0;)
		if (ps->v[i].id && strcmp(ps->v[i].id, id) == 0)
			return i;
	return ps->n;
}

/* ---- body units ------------------------------------------------------------ */

static char *normalise(const char *s, size_t len)
{
	kb_buf b = KB_BUF_INIT;

	kb__put_lf(&b, s, len);
	while (b.len && strchr(" \t\n", b.ptr[b.len - 1]))
		kb_buf_truncate(&b, b.len - 1);
	return kb_buf_detach(&b);
}

static int cmp_ids(const void *a, const void *b, void *arg)
{
	const unit *u = arg;

	return strcmp(u[*(const size_t *)a].id, u[*(const size_t *)b].id);
}

/* Give unit `k` its identity: the section kind, or the heading for a
 * heading no alias knows, with "#n" for the n-th repeat in the file. */
static void unit_name(side *sd, size_t k, const kb_sec *s)
{
	kb_buf id = KB_BUF_INIT;
	size_t i, seen = 1;

	if (!s)
		kb_buf_puts(&id, "");
	else if (s->pub.kind != KB_SECTION_OTHER)
		kb_buf_puts(&id, kb_section_name(s->pub.kind));
	else
		kb_buf_printf(&id, "h:%s", s->heading);
	for (i = 0; i < k; i++)
		if (strncmp(sd->u[i].id, id.ptr, id.len) == 0 &&
		    (sd->u[i].id[id.len] == 0 || sd->u[i].id[id.len] == '#'))
			seen++;
	if (seen > 1)
		kb_buf_printf(&id, "#%zu", seen);
	sd->u[k].id = kb_buf_detach(&id);
	if (!s)
		sd->u[k].name = "preamble";
	else if (s->pub.kind != KB_SECTION_OTHER)
		sd->u[k].name = kb_section_name(s->pub.kind);
	else
		sd->u[k].name = s->heading;
}

static void side_units(side *sd)
{
	const kb_case *c = sd->c;
	size_t i, n = c->nsecs + 1;
	kb_buf b = KB_BUF_INIT;
	const kb_raw *after;

	sd->u = kb_xcalloc(n, sizeof(*sd->u));
	sd->nu = n;
	for (i = 0; i < n; i++) {
		unit *u = &sd->u[i];
		const kb_sec *s = i ? &c->secs[i - 1] : NULL;

		kb_buf_clear(&b);
		if (s)
			kb_buf_put(&b, s->raw.p, s->raw.len);
		after = i < c->nsecs ? &c->secs[i].pre : &c->tail;
		kb_buf_put(&b, after->p, after->len);
		u->len = b.len;
		u->text = kb_xstrndup(b.ptr, b.len);
		u->head_len = s ? s->head_len : 0;
		u->heading = s ? s->heading : NULL;
		u->norm = normalise(u->text, u->len);
		u->last = i + 1 == n;
		unit_name(sd, i, s);
	}
	kb_buf_release(&b);
	sd->order = kb_xmalloc(n * sizeof(*sd->order));
	for (i = 0; i < n; i++)
		sd->order[i] = i;
	qsort_r(sd->order, n, sizeof(*sd->order), cmp_ids, sd->u);
}

static const unit *find_unit(const side *sd, const char *id)
{
	size_t lo = 0, hi = sd->nu, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = strcmp(sd->u[sd->order[mid]].id, id);
		if (r == 0)
			return &sd->u[sd->order[mid]];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int same_unit(const unit *a, const unit *b)
{
	if (!a || !b)
		return !a && !b;
	return strcmp(a->norm, b->norm) == 0;
}

static void side_release(side *sd)
{
	size_t i;

	for (i = 0; i < sd->nu; i++) {
		free(sd->u[i].id);
		free(sd->u[i].text);
		free(sd->u[i].norm);
	}
	free(sd->u);
	free(sd->order);
	kb_case_free(sd->c);
	memset(sd, 0, sizeof(*sd));
}

/* ---- front matter ---------------------------------------------------------- */

static const kb_fm_entry *find_entry(const side *sd, const char *key)
{
	size_t i;

	for (i = 0; sd->c && i < sd->c->nkeys; i++)
		if (strcmp(sd->c->keys[i].key, key) == 0)
			return &sd->c->keys[i];
	return NULL;
}

static int same_entry(const kb_fm_entry *a, const kb_fm_entry *b)
{
	size_t i;

	if (!a || !b)
		return !a && !b;
	if (a->is_list != b->is_list)
		return 0;
	if (!a->is_list)
		return strcmp(a->value, b->value) == 0;
	if (a->n_items != b->n_items)
		return 0;
	for (i = 0; i < a->n_items; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return 0;
	return 1;
}

/* 1 when two raw runs differ at most in line breaks and trailing spaces. */
static int same_raw(const kb_raw *a, const kb_raw *b)
{
	char *x = normalise(a->p, a->len), *y = normalise(b->p, b->len);
	int same = strcmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}

/* The YAML lines around the keys (comments, blank lines) before the first
 * key or after the last: theirs' when only theirs changed them, both when
 * both did (they are comments: nothing to reconcile). */
static void merge_raw(const merger *m, kb_buf *out, const kb_raw *b, const kb_raw *o,
		      const kb_raw *t)
{
	kb_buf_put(out, o->p, o->len);
	if (same_raw(o, t) || (b && same_raw(b, t)))
		return;
	if (b && same_raw(b, o))
		kb_buf_truncate(out, out->len - o->len);
	put_from(m, &m->t, out, t->p, t->len);
}

static int has_item(const kb_fm_entry *e, const char *item)
{
	size_t i;

	for (i = 0; e && i < e->n_items; i++)
		if (strcmp(e->items[i], item) == 0)
			return 1;
	return 0;
}

/* Keys whose value is a set of items. */
static int set_valued(const char *key, const kb_fm_entry *o, const kb_fm_entry *t)
{
	if (!strcmp(key, "tags") || !strcmp(key, "links") || !strcmp(key, KB_CONFLICTS_KEY))
		return 1;
	return o && t && o->is_list && t->is_list;
}

/* "key: [a, b]" after the comment lines that precede `keep`'s key. */
static void put_list_entry(const merger *m, kb_buf *out, const char *key,
			   const kb_fm_entry *keep, const side *from,
			   char *const *items, size_t n)
{
	size_t i;

	if (keep)
		put_from(m, from, out, keep->raw.p, keep->key_off);
	kb__yaml_put_scalar(out, key, 0);
	kb_buf_puts(out, ": [");
	for (i = 0; i < n; i++) {
		if (i)
			kb_buf_puts(out, ", ");
		kb__yaml_put_scalar(out, items[i], 1);
	}
	kb_buf_puts(out, "]");
	kb_buf_puts(out, m->eol);
}

/* Items of ours that theirs did not remove, then the items theirs added. */
static size_t merge_items(const kb_fm_entry *b, const kb_fm_entry *o,
			  const kb_fm_entry *t, char ***out)
{
	char **v = kb_xmalloc(((o ? o->n_items : 0) + (t ? t->n_items : 0) + 1) * sizeof(*v));
	size_t i, j, n = 0;
	int dup;

	for (i = 0; o && i < o->n_items; i++) {
		if (has_item(b, o->items[i]) && t && !has_item(t, o->items[i]))
			continue;
		if (has_item(b, o->items[i]) && !t)
			continue;
		for (dup = 0, j = 0; j < n; j++)
			dup |= strcmp(v[j], o->items[i]) == 0;
		if (!dup && *o->items[i])
			v[n++] = o->items[i];
	}
	for (i = 0; t && i < t->n_items; i++) {
		if (has_item(b, t->items[i]))
			continue;
		for (dup = 0, j = 0; j < n; j++)
			dup |= strcmp(v[j], t->items[i]) == 0;
		if (!dup && *t->items[i])
			v[n++] = t->items[i];
	}
	*out = v;
	return n;
}

static int items_equal(const kb_fm_entry *e, char *const *v, size_t n)
{
	size_t i;

	if (!e || e->n_items != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(e->items[i], v[i]) != 0)
			return 0;
	return 1;
}

/* The value of `e` on one line, for the conflict notes. */
static void put_value(kb_buf *out, const kb_fm_entry *e)
{
	size_t i;
	const char *s;

	if (e->is_list)
		kb_buf_putc(out, '[');
	for (i = 0; e->is_list ? i < e->n_items : i < 1; i++) {
		if (i)
			kb_buf_puts(out, ", ");
		for (s = e->is_list ? e->items[i] : e->value; *s; s++)
			kb_buf_putc(out, *s == '\n' || *s == '\r' ? ' ' : *s);
	}
	if (e->is_list)
		kb_buf_putc(out, ']');
}

/* Write the merged entry for `key` into `out`; leaves `out` empty when the
 * key is dropped. */
static void merge_key(merger *m, const char *key, kb_buf *out)
{
	const kb_fm_entry *b = find_entry(&m->b, key), *o = find_entry(&m->o, key),
			  *t = find_entry(&m->t, key);
	char **items;
	size_t n;

	if (same_entry(o, t) || same_entry(b, t)) {
		/* the same value everywhere: theirs may still have edited the
		 * comments or the layout around it */
		if (o && t && b && same_entry(b, o) && same_raw(&b->raw, &o->raw) &&
		    !same_raw(&b->raw, &t->raw))
			put_from(m, &m->t, out, t->raw.p, t->raw.len);
		else if (o)
			kb_buf_put(out, o->raw.p, o->raw.len);
		return;
	}
	if (same_entry(b, o)) {
		if (t)
			put_from(m, &m->t, out, t->raw.p, t->raw.len);
		return;
	}
	if (set_valued(key, o, t)) {
		n = merge_items(b, o, t, &items);
		if (items_equal(o, items, n))
			kb_buf_put(out, o->raw.p, o->raw.len);
		else if (items_equal(t, items, n))
			put_from(m, &m->t, out, t->raw.p, t->raw.len);
		else if (n)
			put_list_entry(m, out, key, o ? o : t, o ? &m->o : &m->t, items, n);
		free(items);
		return;
	}
	if (o && t && strcmp(key, "updated") == 0 && !o->is_list && !t->is_list) {
		if (strcmp(t->value, o->value) > 0)
			put_from(m, &m->t, out, t->raw.p, t->raw.len);
		else
			kb_buf_put(out, o->raw.p, o->raw.len);
		return;
	}
	add_name(m, key);
	if (!o) {
		put_from(m, &m->t, out, t->raw.p, t->raw.len);
		kb_buf_printf(&m->notes, "- %s: deleted on %s, changed on %s (kept)%s", key,
			      m->o.label, m->t.label, m->eol);
	} else if (!t) {
		kb_buf_put(out, o->raw.p, o->raw.len);
		kb_buf_printf(&m->notes, "- %s: deleted on %s, changed on %s (kept)%s", key,
			      m->t.label, m->o.label, m->eol);
	} else {
		kb_buf_put(out, o->raw.p, o->raw.len);
		kb_buf_printf(&m->notes, "- %s: ", key);
		put_value(&m->notes, t);
		kb_buf_printf(&m->notes, " (%s)%s", m->t.label, m->eol);
	}
}

/* Ours' keys in order, then keys only theirs has after their predecessor
 * in theirs.  The conflicts key is written last (merge_conflicts_key). */
static void merge_front_matter(merger *m)
{
	const kb_case *o = m->o.c, *t = m->t.c;
	size_t i, j, at;
	piece *p;

	for (i = 0; i < o->nkeys; i++) {
		if (strcmp(o->keys[i].key, KB_CONFLICTS_KEY) == 0)
			continue;
		p = pieces_insert(&m->keys, m->keys.n, o->keys[i].key, 0);
		merge_key(m, o->keys[i].key, &p->text);
	}
	for (i = 0; i < t->nkeys; i++) {
		if (strcmp(t->keys[i].key, KB_CONFLICTS_KEY) == 0 || find_entry(&m->o, t->keys[i].key))
			continue;
		at = 0;
		for (j = i; j-- > 0;)
			if ((at = pieces_find(&m->keys, t->keys[j].key)) < m->keys.n) {
				at++;
				break;
			}
		if (j == (size_t)-1)
			at = 0;
		p = pieces_insert(&m->keys, at, t->keys[i].key, 0);
		merge_key(m, t->keys[i].key, &p->text);
	}
}

/* The conflicts key: the sides' lists merged as sets, plus what this merge
 * found; written where ours has it, else after the last key. */
static void merge_conflicts_key(merger *m)
{
	const kb_fm_entry *b = find_entry(&m->b, KB_CONFLICTS_KEY),
			  *o = find_entry(&m->o, KB_CONFLICTS_KEY),
			  *t = find_entry(&m->t, KB_CONFLICTS_KEY);
	char **items, **all;
	size_t n, i, j, at = m->keys.n, total;
	piece *p;
	int dup;

	n = merge_items(b, o, t, &items);
	all = kb_xmalloc((n + m->nnames + 1) * sizeof(*all));
	memcpy(all, items, n * sizeof(*all));
	total = n;
	for (i = 0; i < m->nnames; i++) {
		for (dup = 0, j = 0; j < total; j++)
			dup |= strcmp(all[j], m->names[i]) == 0;
		if (!dup)
			all[total++] = m->names[i];
	}
	for (i = 0; o && i < m->o.c->nkeys; i++) {
		if (&m->o.c->keys[i] != o)
			continue;
		at = 0;
		for (j = i; j-- > 0;)
			if ((at = pieces_find(&m->keys, m->o.c->keys[j].key)) < m->keys.n) {
				at++;
				break;
			}
		if (j == (size_t)-1)
			at = 0;
	}
	if (total) {
		p = pieces_insert(&m->keys, at, KB_CONFLICTS_KEY, 0);
		if (items_equal(o, all, total))
			kb_buf_put(&p->text, o->raw.p, o->raw.len);
		else
			put_list_entry(m, &p->text, KB_CONFLICTS_KEY, o ? o : t, o ? &m->o : &m->t,
				       all, total);
	}
	free(items);
	free(all);
}

/* ---- body ------------------------------------------------------------------ */

/* The other side's version of a conflicted unit, under its own heading. */
static void put_copy(merger *m, const side *sd, const unit *u, kb_buf *out)
{
	const char *s = u->text + u->head_len;
	size_t len = u->len - u->head_len;

	kb_buf_printf(out, "## %s (%s version)%s", u->heading ? u->heading
				: "Text before the first heading", sd->label, m->eol);
	if (!u->heading)
		kb_buf_puts(out, m->eol);
	put_from(m, sd, out, s, len);
}

/* Where a unit only theirs has goes: after its predecessor in theirs (and
 * any conflict copies that follow it), else after the preamble. */
static size_t insert_point(const merger *m, size_t ti)
{
	size_t j, at = m->body.n;

	for (j = ti; j-- > 0;)
		if ((at = pieces_find(&m->body, m->t.u[j].id)) < m->body.n)
			break;
	if (at >= m->body.n)
		at = 0;
	for (at++; at < m->body.n && !m->body.v[at].id; at++)
		;
	return at;
}

static void merge_body(merger *m)
{
	size_t i, at;
	const unit *ou, *tu, *bu;
	piece *p;

	for (i = 0; i < m->o.nu; i++) {
		ou = &m->o.u[i];
		tu = find_unit(&m->t, ou->id);
		bu = m->b.c ? find_unit(&m->b, ou->id) : NULL;
		if (same_unit(ou, tu) || same_unit(bu, tu)) {
			p = pieces_insert(&m->body, m->body.n, ou->id, ou->last);
			p->ours = 1;
			kb_buf_put(&p->text, ou->text, ou->len);
			continue;
		}
		if (same_unit(bu, ou)) {
			if (tu) {
				p = pieces_insert(&m->body, m->body.n, ou->id, tu->last);
				put_from(m, &m->t, &p->text, tu->text, tu->len);
			}
			continue;
		}
		add_name(m, ou->name);
		p = pieces_insert(&m->body, m->body.n, ou->id, ou->last);
		p->ours = 1;
		kb_buf_put(&p->text, ou->text, ou->len);
		if (!tu) {
			kb_buf_printf(&m->notes, "- %s: deleted on %s, changed on %s (kept)%s",
				      ou->name, m->t.label, m->o.label, m->eol);
			continue;
		}
		p = pieces_insert(&m->body, m->body.n, NULL, tu->last);
		put_copy(m, &m->t, tu, &p->text);
	}
	for (i = 0; i < m->t.nu; i++) {
		tu = &m->t.u[i];
		if (find_unit(&m->o, tu->id))
			continue;
		bu = m->b.c ? find_unit(&m->b, tu->id) : NULL;
		if (same_unit(bu, tu))
			continue;       /* deleted on ours, unchanged on theirs */
		if (bu) {
			add_name(m, tu->name);
			kb_buf_printf(&m->notes, "- %s: deleted on %s, changed on %s (kept)%s",
				      tu->name, m->o.label, m->t.label, m->eol);
		}
		at = insert_point(m, i);
		p = pieces_insert(&m->body, at, tu->id, tu->last);
		put_from(m, &m->t, &p->text, tu->text, tu->len);
	}
}

/* 1 when the line at `s` is an ATX heading. */
static int starts_atx(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && i < 3 && s[i] == ' ')
		i++;
	return i < len && s[i] == '#';
}

/* 1 when `out` ends with a blank line (or is empty). */
static int ends_blank(const kb_buf *out)
{
	size_t n = out->len;

	if (n && out->ptr[n - 1] == '\n')
		n--;
	if (n && out->ptr[n - 1] == '\r')
		n--;
	while (n && (out->ptr[n - 1] == ' ' || out->ptr[n - 1] == '\t'))
		n--;
	return n == 0 || out->ptr[n - 1] == '\n' || out->ptr[n - 1] == '\r';
}

/* Append a piece's text so that it reads as it did in its file: a block
 * the previous piece left open at the end of its file is closed, the text
 * before starts on a new line, and a blank line separates them unless the
 * piece is ours and opens with an ATX heading (a setext heading would
 * otherwise be read as the end of the previous paragraph). */
static void join(const merger *m, kb_buf *out, const piece *prev, const kb_buf *text, int own)
{
	kb_buf closer = KB_BUF_INIT;

	if (prev && prev->last)
		kb__block_closer(prev->text.ptr, prev->text.len, &closer);
	if (out->len && out->ptr[out->len - 1] != '\n' && out->ptr[out->len - 1] != '\r')
		kb_buf_puts(out, m->eol);
	if (closer.len) {
		kb_buf_put(out, closer.ptr, closer.len);
		kb_buf_puts(out, m->eol);
	}
	kb_buf_release(&closer);
	if (prev && !ends_blank(out) && (!own || !starts_atx(text->ptr, text->len)))
		kb_buf_puts(out, m->eol);
	kb_buf_put(out, text->ptr, text->len);
}

static void assemble(merger *m, kb_buf *out)
{
	const kb_case *o = m->o.c;
	const piece *prev = NULL;
	kb_buf notes = KB_BUF_INIT;
	size_t i;

	kb_buf_put(out, o->fm_open.p, o->fm_open.len);
	merge_raw(m, out, m->b.c ? &m->b.c->fm_head : NULL, &o->fm_head, &m->t.c->fm_head);
	for (i = 0; i < m->keys.n; i++)
		kb_buf_put(out, m->keys.v[i].text.ptr, m->keys.v[i].text.len);
	merge_raw(m, out, m->b.c ? &m->b.c->fm_tail : NULL, &o->fm_tail, &m->t.c->fm_tail);
	kb_buf_put(out, o->fm_close.p, o->fm_close.len);
	for (i = 0; i < m->body.n; i++) {
		if (!m->body.v[i].text.len)
			continue;
		join(m, out, prev, &m->body.v[i].text, m->body.v[i].ours);
		prev = &m->body.v[i];
	}
	if (m->notes.len) {
		kb_buf_printf(&notes, "## Merge conflict%s%s", m->eol, m->eol);
		kb_buf_put(&notes, m->notes.ptr, m->notes.len);
		join(m, out, prev, &notes, 0);
	}
	kb_buf_release(&notes);
}

/* ---- fallbacks --------------------------------------------------------------- */

/* `s` as a fenced code block, bytes that are not UTF-8 (and NUL) written as
 * "\xNN" so that the result parses. */
static void put_fenced(kb_buf *out, const char *s, size_t len)
{
	size_t i, run = 0, longest = 0, fence;
	kb_buf clean = KB_BUF_INIT;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		size_t n = ch < 0x80 ? 1 : ch >= 0xc2 && ch < 0xe0 ? 2 : ch >= 0xe0 && ch < 0xf0 ? 3
			 : ch >= 0xf0 && ch < 0xf5 ? 4 : 0;

		if (n > 1 && i + n <= len && kb_utf8_check(s + i, n, NULL) == 0) {
			kb_buf_put(&clean, s + i, n);
			i += n - 1;
		} else if (ch == 0 || n != 1) {
			kb_buf_printf(&clean, "\\x%02X", ch);
		} else {
			kb_buf_putc(&clean, (char)ch);
		}
	}
	kb_error_clear();
	for (i = 0; i < clean.len; i++) {
		run = clean.ptr[i] == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	fence = longest < 3 ? 3 : longest + 1;
	for (i = 0; i < fence; i++)
		kb_buf_putc(out, '`');
	kb_buf_putc(out, '\n');
	kb__put_lf(out, clean.ptr, clean.len);
	if (clean.len && clean.ptr[clean.len - 1] != '\n')
		kb_buf_putc(out, '\n');
	for (i = 0; i < fence; i++)
		kb_buf_putc(out, '`');
	kb_buf_release(&clean);
}

/* Append `name` to the conflicts key of `c`. */
static void mark(kb_case *c, const char *name)
{
	const char *const *items;
	size_t n = kb_case_get_list(c, KB_CONFLICTS_KEY, &items), i;
	const char **v = kb_xmalloc((n + 1) * sizeof(*v));

	for (i = 0; i < n; i++)
		v[i] = items[i];
	for (i = 0; i < n && strcmp(v[i], name) != 0; i++)
		;
	if (i == n)
		v[n++] = name;
	kb_case_set_list(c, KB_CONFLICTS_KEY, v, n);
	free(v);
}

/* The id a case file's name gives: "cases/CHL-1.md" -> "CHL-1". */
static char *id_from_path(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL, *dot;

	base = base ? base + 1 : path ? path : "unmerged";
	dot = strrchr(base, '.');
	return kb_xstrndup(base, dot && dot > base ? (size_t)(dot - base) : strlen(base));
}

/* One side (or none) does not parse: keep the one that does whole, the
 * other verbatim in a section of its own. */
static void fallback(kb_buf *out, kb_case *keep, const char *other, size_t nother,
		     const char *other_label, const char *keep_label, const char *mine,
		     size_t nmine, const char *path)
{
	kb_buf h = KB_BUF_INIT, body = KB_BUF_INIT, name = KB_BUF_INIT;
	char *id = NULL;

	if (!keep) {
		id = id_from_path(path);
		keep = kb_case_new(id);
		kb_case_set(keep, "title", "Unmerged versions of a case file that does not parse");
		kb_buf_printf(&h, "%s version (unparseable)", keep_label);
		put_fenced(&body, mine, nmine);
		kb_case_add_section(keep, KB_SECTION_OTHER, h.ptr, body.ptr);
		kb_buf_clear(&h);
		kb_buf_clear(&body);
		kb_buf_puts(&name, "unparseable versions");
	} else {
		kb_buf_printf(&name, "unparseable %s version", other_label);
	}
	kb_buf_printf(&h, "%s version (unparseable)", other_label);
	put_fenced(&body, other, nother);
	kb_case_add_section(keep, KB_SECTION_OTHER, h.ptr, body.ptr);
	mark(keep, name.ptr);
	kb_case_serialize(keep, out);
	kb_case_free(keep);
	free(id);
	kb_buf_release(&h);
	kb_buf_release(&body);
	kb_buf_release(&name);
}

/* ---- entry points ------------------------------------------------------------ */

static void merger_release(merger *m)
{
	size_t i;

	side_release(&m->b);
	side_release(&m->o);
	side_release(&m->t);
	pieces_release(&m->keys);
	pieces_release(&m->body);
	for (i = 0; i < m->nnames; i++)
		free(m->names[i]);
	free(m->names);
	kb_buf_release(&m->notes);
}

/* An edit against a delete: the edited version, marked. */
static void keep_edited(kb_buf *out, const char *text, size_t len, const char *deleted_on,
			const char *path)
{
	kb_case *c = NULL;
	kb_buf name = KB_BUF_INIT;

	if (kb_case_parse(&c, text, len, path, NULL) < 0) {
		kb_error_clear();
		kb_buf_put(out, text, len);
		return;
	}
	kb_buf_printf(&name, "deleted on %s", deleted_on);
	mark(c, name.ptr);
	kb_case_serialize(c, out);
	kb_case_free(c);
	kb_buf_release(&name);
}

/* Both sides parse: the section-wise merge.  Returns the number of
 * conflicts, or -1 when the assembled text does not parse (a bug). */
static long merge_parsed(merger *m, kb_buf *out, const char *path)
{
	size_t start = out->len;
	kb_case *check = NULL;

	m->eol = m->o.c->eol;
	side_units(&m->o);
	side_units(&m->t);
	if (m->b.c)
		side_units(&m->b);
	merge_front_matter(m);
	merge_body(m);
	merge_conflicts_key(m);
	assemble(m, out);
	if (kb_case_parse(&check, out->ptr + start, out->len - start, path, NULL) < 0) {
		kb_error_clear();
		kb_buf_truncate(out, start);
		return -1;
	}
	kb_case_free(check);
	return (long)m->nnames;
}

int kb_case_merge3(kb_buf *out,
		   const char *base, size_t nbase,
		   const char *ours, size_t nours,
		   const char *theirs, size_t ntheirs,
		   const char *label_ours, const char *label_theirs,
		   const char *path, size_t *nconflicts)
{
	merger m;
	long n;

	memset(&m, 0, sizeof(m));
	*nconflicts = 0;
	m.o.label = label_ours && *label_ours ? label_ours : "ours";
	m.t.label = label_theirs && *label_theirs ? label_theirs : "theirs";
	if (same_bytes(ours, nours, theirs, ntheirs) || same_bytes(base, nbase, theirs, ntheirs)) {
		if (ours)
			kb_buf_put(out, ours, nours);
		return 0;
	}
	if (same_bytes(base, nbase, ours, nours)) {
		if (theirs)
			kb_buf_put(out, theirs, ntheirs);
		return 0;
	}
	*nconflicts = 1;
	if (!ours || !theirs) {
		keep_edited(out, ours ? ours : theirs, ours ? nours : ntheirs,
			    ours ? m.t.label : m.o.label, path);
		return 0;
	}
	if (base && kb_case_parse(&m.b.c, base, nbase, path, NULL) < 0)
		m.b.c = NULL;
	if (kb_case_parse(&m.o.c, ours, nours, path, NULL) < 0)
		m.o.c = NULL;
	if (kb_case_parse(&m.t.c, theirs, ntheirs, path, NULL) < 0)
		m.t.c = NULL;
	kb_error_clear();
	if (m.o.c && m.t.c && (n = merge_parsed(&m, out, path)) >= 0) {
		*nconflicts = (size_t)n;
	} else if (m.o.c) {
		fallback(out, m.o.c, theirs, ntheirs, m.t.label, m.o.label, NULL, 0, path);
		m.o.c = NULL;
	} else if (m.t.c) {
		fallback(out, m.t.c, ours, nours, m.o.label, m.t.label, NULL, 0, path);
		m.t.c = NULL;
	} else {
		fallback(out, NULL, theirs, ntheirs, m.t.label, m.o.label, ours, nours, path);
	}
	merger_release(&m);
	return 0;
}

int kb_case_conflicts(const kb_case *c, char ***out, size_t *n)
{
	const char *const *items;
	size_t k = kb_case_get_list(c, KB_CONFLICTS_KEY, &items), i;

	*out = NULL;
	*n = 0;
	for (i = 0; i < k; i++) {
		if (!*items[i])
			continue;
		if (!*out)
			*out = kb_xcalloc(k, sizeof(**out));
		(*out)[(*n)++] = kb_xstrdup(items[i]);
	}
	return 0;
}

void kb_case_conflicts_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}
