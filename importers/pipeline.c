/*
 * pipeline.c - the import pipeline of kb/import.h: read notebooks, split
 * them into notes, skip notes already imported (source_hash), mask personal
 * data, extract fields into draft cases, link near-duplicates of existing
 * cases, and stage every draft in one kb_txn committed at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kb/abbrev.h"
#include "kb/config.h"
#include "kb/extract.h"
#include "kb/files.h"
#include "kb/import.h"
#include "kb/index.h"
#include "kb/redact.h"
#include "import_internal.h"
#include "importers_internal.h"
#include "simidx.h"

/* Largest notebook file read (notes files are small; CSV and mail differ). */
/* ---- the set of known source hashes ---------------------------------- */

static size_t seen_slot(const seen_set *set, const char *hash)
{
	size_t i = (size_t)strtoull(hash + 8, NULL, 16) & (set->cap - 1);

	while (set->slots[i].where && strcmp(set->slots[i].hash, hash))
		i = (i + 1) & (set->cap - 1);
	return i;
}

static const char *seen_get(const seen_set *set, const char *hash)
{
	return set->cap ? set->slots[seen_slot(set, hash)].where : NULL;
}

static void seen_add(seen_set *set, const char *hash, const char *where)
{
	seen_entry *old = set->slots;
	size_t i, oldcap = set->cap;

	if (2 * (set->count + 1) > set->cap) {
		set->cap = set->cap ? 2 * set->cap : 64;
		set->slots = kb_xcalloc(set->cap, sizeof(*set->slots));
		for (i = 0; i < oldcap; i++)
			if (old[i].where)
				set->slots[seen_slot(set, old[i].hash)] = old[i];
		free(old);
	}
	i = seen_slot(set, hash);
	if (set->slots[i].where)
		return;
	memcpy(set->slots[i].hash, hash, 17);
	set->slots[i].where = kb_xstrdup(where);
	set->count++;
}

static void seen_release(seen_set *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->slots[i].where);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* 1 when s[0..16) are lower-case hex digits followed by the end of the value. */
static int is_hash(const char *s)
{
	int i;

	for (i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[16] == '\0' || s[16] == '\n' || s[16] == '\r' || s[16] == '"' ||
	       s[16] == '\'' || s[16] == ' ';
}

/* 1 when p starts with 16 lower-case hex digits not followed by another. */
static int hex16(const char *p)
{
	int i;

	for (i = 0; i < 16; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return !((p[16] >= '0' && p[16] <= '9') || (p[16] >= 'a' && p[16] <= 'z'));
}

/* Every hash of the flow list `merged_hashes: [h1, h2]` at p. */
static void scan_merged(import_run *run, const char *p, const char *id)
{
	char hash[17];

	for (p += strlen("\nmerged_hashes:"); *p && *p != '\n'; p++) {
		if (hex16(p)) {
			memcpy(hash, p, 16);
			hash[16] = '\0';
			seen_add(&run->seen, hash, id);
			p += 15;
		}
	}
}

/* kb_store_foreach_case_file() callback: remember the source_hash (and the
 * merged_hashes) found in the front matter of a case, with the case id from
 * its file name. */
static int scan_hash(const char *relpath, const char *text, size_t len, void *payload)
{
	import_run *run = payload;
	const char *end = len > 4 ? strstr(text + 4, "\n---") : NULL;
	const char *p = strstr(text, "\nsource_hash:");
	const char *m = strstr(text, "\nmerged_hashes:");
	const char *base = strrchr(relpath, '/');
	kb_buf id = KB_BUF_INIT;
	char hash[17];

	base = base ? base + 1 : relpath;
	kb_buf_put(&id, base, strlen(base) > 3 ? strlen(base) - 3 : strlen(base));
	if (m && (!end || m < end))
		scan_merged(run, m, id.ptr);
	if (p && (!end || p < end)) {
		p += strlen("\nsource_hash:");
		while (*p == ' ' || *p == '"' || *p == '\'')
			p++;
		if (is_hash(p)) {
			memcpy(hash, p, 16);
			hash[16] = '\0';
			seen_add(&run->seen, hash, id.ptr);
		}
	}
	kb_buf_release(&id);
	return 0;
}

/* ---- results ----------------------------------------------------------- */

static kb_import_record *push_record(kb_import_result *r, kb_import_action a,
				     const char *source, int line)
{
	kb_import_record *rec;

	if (r->count == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 32;
		r->items = kb_xrealloc(r->items, r->alloc * sizeof(*r->items));
	}
	rec = &r->items[r->count++];
	memset(rec, 0, sizeof(*rec));
	rec->action = a;
	rec->source = kb_xstrdup(source);
	rec->line = line;
	if (a == KB_IMPORT_CREATED)
		r->created++;
	else if (a == KB_IMPORT_DUPLICATE)
		r->duplicates++;
	else if (a == KB_IMPORT_MERGED)
		r->merged++;
	else
		r->skipped++;
	return rec;
}

void kb__import_skip(kb_import_result *r, const char *source, int line, const char *reason)
{
	push_record(r, KB_IMPORT_SKIPPED, source, line)->reason = kb_xstrdup(reason);
}

void kb_import_result_release(kb_import_result *r)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		free(r->items[i].id);
		free(r->items[i].duplicate_of);
		free(r->items[i].source);
		free(r->items[i].reason);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

const char *kb_import_action_name(kb_import_action a)
{
	switch (a) {
	case KB_IMPORT_CREATED: return "created";
	case KB_IMPORT_DUPLICATE: return "duplicate";
	case KB_IMPORT_MERGED: return "merged";
	default: return "skipped";
	}
}

/* ---- setup: dictionary, redactor, threshold, index ------------------- */

static int load_abbrev(import_run *run)
{
	const char *rel = kb_config_get(kb_store_config(run->s), "import.abbreviations");
	kb_buf text = KB_BUF_INIT;
	int rc;

	run->abbrev = kb_abbrev_new();
	if (!rel || !*rel)
		rel = KB_ABBREVIATIONS_FILE;
	rc = kb_store_read_file(&text, run->s, rel, IMPORT_FILE_MAX);
	if (rc == KB_ENOTFOUND)
		rc = 0;
	else if (rc == 0)
		rc = kb_abbrev_parse(run->abbrev, text.ptr, text.len, rel);
	kb_buf_release(&text);
	return rc;
}

static int load_redactor(import_run *run)
{
	const char *const *names;
	size_t i, n;
	int rc;

	if (run->o->no_redact)
		return 0;
	run->red = kb_redact_new();
	n = kb_config_get_all(kb_store_config(run->s), "redact.customer", &names);
	for (i = 0; i < n; i++)
		if ((rc = kb_redact_add_customer(run->red, names[i])) < 0)
			return kb_error_prefix("%s 'redact.customer'", KB_CONFIG_FILE);
	return 0;
}

static int setup(import_run *run)
{
	int rc;

	run->threshold = run->o->threshold;
	if (run->threshold <= 0)
		run->threshold = kb_config_get_double(kb_store_config(run->s),
						      "import.duplicateThreshold",
						      KB_IMPORT_DEFAULT_THRESHOLD);
	if ((rc = load_abbrev(run)) < 0 || (rc = load_redactor(run)) < 0)
		return rc;
	if ((rc = kb_store_foreach_case_file(run->s, scan_hash, run)) < 0)
		return rc;
	if ((rc = kb_index_open_store(&run->idx, run->s)) < 0)
		return rc;
	if (!run->o->dry_run && ((rc = kb_txn_begin(&run->txn, run->s)) < 0 ||
				 (rc = kb_txn_set_bulk(run->txn)) < 0))
		return rc;
	return 0;
}

/* ---- ids --------------------------------------------------------------- */

/* The next id for a draft of `equipment`: numbers continue across the run. */
static int next_id(kb_buf *out, import_run *run, const char *equipment)
{
	const char *prefix = kb_store_id_prefix(run->s, equipment);
	id_counter *c = NULL;
	size_t i;
	long max;
	int rc;

	for (i = 0; i < run->nids && !c; i++)
		if (!strcmp(run->ids[i].prefix, prefix))
			c = &run->ids[i];
	if (!c) {
		if ((rc = kb_store_max_id_number(&max, run->s, prefix)) < 0)
			return rc;
		run->ids = kb_xrealloc(run->ids, (run->nids + 1) * sizeof(*run->ids));
		c = &run->ids[run->nids++];
		c->prefix = kb_xstrdup(prefix);
		c->next = max + 1;
	}
	kb_buf_clear(out);
	kb_buf_printf(out, "%s-%04ld", c->prefix, c->next++);
	return 0;
}

/* ---- one note ---------------------------------------------------------- */

/* The text the similar-case lookup compares: the extracted fields, else
 * the (masked) note itself. */
static void similar_text(kb_buf *out, const kb_extraction *x, const char *text)
{
	const char *parts[5];
	size_t i;

	parts[0] = x->title, parts[1] = x->symptom, parts[2] = x->checks;
	parts[3] = x->cause, parts[4] = x->resolution;
	for (i = 0; i < 5; i++)
		if (parts[i])
			kb_buf_printf(out, "%s%s", out->len ? "\n" : "", parts[i]);
	if (!out->len)
		kb_buf_puts(out, text);
}

/*
 * Building the in-memory index costs as much CPU as 150-500 lookups
 * through SQL (both grow with the number of cases: 0.7-1.3 s against
 * 5.5-6.7 ms at 10,000 cases, 10-12 s against 20-22 ms at 100,000;
 * docs/internals/index.md), so a run switches to it after 500 lookups (at
 * most about twice the cost of the better choice made in advance), or
 * after BATCH_PROBE when the share of the input read so far says the run
 * will reach that many.  Both give the same answers (test_simidx,
 * test_import_batch).
 */
size_t kb__import_batch_after = 500;
#define BATCH_PROBE 16

static int batch_worth_it(const import_run *run)
{
	const kb_import_progress *p = &run->progress;
	double expected;

	if (run->lookups >= kb__import_batch_after)
		return 1;
	if (run->lookups < BATCH_PROBE || !p->bytes || p->bytes_total <= p->bytes)
		return 0;
	expected = (double)run->lookups * (double)p->bytes_total / (double)p->bytes;
	return expected >= (double)kb__import_batch_after;
}

/* The best existing match of the draft at or above the threshold, or NULL
 * (then *score is 0).  The caller frees the id. */
static int find_duplicate(char **dup, double *score, import_run *run, const kb_extraction *x,
			  const char *text)
{
	kb_search_options so = KB_SEARCH_OPTIONS_INIT;
	kb_hits hits = KB_HITS_INIT;
	kb_buf q = KB_BUF_INIT;
	int rc;

	*dup = NULL;
	*score = 0;
	if (!run->sim && batch_worth_it(run) && (rc = kb__simidx_build(&run->sim, run->idx)) < 0)
		return rc;
	run->lookups++;
	similar_text(&q, x, text);
	so.limit = 1;
	so.boost_equipment = x->equipment;
	/* one stage: the second costs ~7 ms per lookup at 100k cases, as much as
	 * a whole in-memory import lookup many times over (docs/internals/index.md) */
	so.rerank = -1;
	if (run->sim)
		rc = kb__simidx_similar(run->sim, q.ptr, &so, &hits);
	else
		rc = kb_index_similar(run->idx, q.ptr, &so, &hits);
	if (rc == 0 && hits.count && hits.items[0].score >= run->threshold) {
		*dup = kb_xstrdup(hits.items[0].id);
		*score = hits.items[0].score;
	}
	kb_hits_release(&hits);
	kb_buf_release(&q);
	return rc;
}

static void today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Copy the mapped fields into x, each masked unless no_redact. */
static int copy_fields(kb_extraction *x, const import_run *run, const kb_extraction *in)
{
	const char *const src[] = { in->date, in->site, in->equipment, in->equipment_id, in->title,
				    in->symptom, in->checks, in->cause, in->resolution, in->author };
	char **const dst[] = { &x->date, &x->site, &x->equipment, &x->equipment_id, &x->title,
			       &x->symptom, &x->checks, &x->cause, &x->resolution, &x->author };
	kb_buf b = KB_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(src) / sizeof(src[0]) && rc == 0; i++) {
		if (!src[i] || !*src[i])
			continue;
		kb_buf_clear(&b);
		if (run->red)
			rc = kb_redact_text(&b, run->red, src[i], strlen(src[i]), NULL);
		else
			kb_buf_puts(&b, src[i]);
		*dst[i] = kb_xstrdup(b.ptr);
	}
	kb_buf_release(&b);
	return rc;
}

/* The masked text of a record and its fields: extracted from the text, or
 * the mapped `fields` masked one by one. */
static int read_record(kb_buf *text, kb_extraction *x, const import_run *run, const char *orig,
		       size_t len, const kb_extraction *fields)
{
	kb_extract_options xo = KB_EXTRACT_OPTIONS_INIT;
	int rc = 0;

	if (run->red)
		rc = kb_redact_text(text, run->red, orig, len, NULL);
	else
		kb_buf_put(text, orig, len);
	xo.year = run->o->year;
	xo.abbrev = run->abbrev;
	if (rc == 0 && fields)
		rc = copy_fields(x, run, fields);
	else if (rc == 0)
		rc = kb_extract_note(x, text->ptr, text->len, &xo);
	return rc;
}

/* Serialize the draft `id` (provenance, created, duplicate link) and stage it. */
static int stage_draft(import_run *run, const kb_extraction *x, const kb_buf *text,
		       const kb_extract_source *src, const char *hash, const char *dup)
{
	kb_buf rel = KB_BUF_INIT, file = KB_BUF_INIT;
	kb_case *c = NULL;
	char date[11];
	int rc;

	if ((rc = kb_extract_to_case(&c, x, text->ptr, text->len, src)) < 0)
		goto done;
	kb_case_set(c, "source_hash", hash);
	if (!kb_case_get(c, "created")) {
		today(date);
		kb_case_set(c, "created", date);
	}
	if (dup) {
		kb_case_set_list(c, "links", &dup, 1);
		kb_case_set(c, "duplicate_of", dup);
	}
	kb_case_serialize(c, &file);
	if ((rc = kb_store_case_relpath(&rel, src->id)) == 0 && run->txn)
		rc = kb_txn_put(run->txn, rel.ptr, file.ptr, file.len);
done:
	kb_case_free(c);
	kb_buf_release(&rel);
	kb_buf_release(&file);
	return rc;
}

/* ---- progress -------------------------------------------------------- */

void kb__import_report(import_run *run, int finished)
{
	run->progress.records = run->r->count;
	run->progress.finished = finished;
	if (finished && run->progress.bytes_total)
		run->progress.bytes = run->progress.bytes_total;
	if (run->o->progress)
		run->o->progress(&run->progress, run->o->progress_payload);
}

static int size_cb(const char *path, void *payload)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		((import_run *)payload)->progress.bytes_total += (unsigned long long)st.st_size;
	return 0;
}

void kb__import_size_paths(import_run *run, const char *const *paths, size_t n,
			   const char *const *exts)
{
	size_t i;

	if (!run->o->progress)
		return;
	for (i = 0; i < n; i++)
		kb_files_walk(paths[i], exts, size_cb, run);
	kb_error_clear();
}

/* ---- --merge: fold a duplicate into the existing case ------------------ */

/* The case `id` as merged so far in this run (read from the KB the first time). */
static int merge_target(kb_case **out, import_run *run, const char *id)
{
	size_t i;
	int rc;

	for (i = 0; i < run->nmerged; i++)
		if (!strcmp(run->merged[i].id, id))
			return *out = run->merged[i].c, 0;
	if ((rc = kb_store_read_case(out, run->s, id)) < 0)
		return rc;
	run->merged = kb_xrealloc(run->merged, (run->nmerged + 1) * sizeof(*run->merged));
	run->merged[run->nmerged].id = kb_xstrdup(id);
	run->merged[run->nmerged++].c = *out;
	return 0;
}

/* Append `item` to the list `key` of c. */
static void list_append(kb_case *c, const char *key, const char *item)
{
	const char *const *old;
	const char **all;
	size_t i, n = kb_case_get_list(c, key, &old);

	all = kb_xmalloc((n + 1) * sizeof(*all));
	for (i = 0; i < n; i++)
		all[i] = old[i];
	all[n] = item;
	kb_case_set_list(c, key, all, n + 1);
	free(all);
}

/*
 * Fold the draft built from x and text into the existing case `into`:
 * every section of the draft (Original text included) appended under
 * "<heading> (imported from FILE:LINE)", the provenance in merged_sources
 * and merged_hashes, updated today.
 */
static int merge_into(import_run *run, const char *into, const kb_extraction *x,
		      const kb_buf *text, const kb_extract_source *src, const char *hash)
{
	kb_buf where = KB_BUF_INIT, heading = KB_BUF_INIT;
	kb_case *draft = NULL, *c;
	const kb_section *sec;
	char date[11];
	size_t i;
	int rc;

	if ((rc = merge_target(&c, run, into)) < 0 ||
	    (rc = kb_extract_to_case(&draft, x, text->ptr, text->len, src)) < 0)
		goto done;
	kb_buf_printf(&where, "%s:%d", src->source, src->line);
	for (i = 0; i < kb_case_section_count(draft); i++) {
		sec = kb_case_section_at(draft, i);
		kb_buf_clear(&heading);
		kb_buf_printf(&heading, "%s (imported from %s)", sec->heading, where.ptr);
		kb_case_add_section(c, KB_SECTION_OTHER, heading.ptr, sec->body);
	}
	list_append(c, "merged_sources", where.ptr);
	list_append(c, "merged_hashes", hash);
	today(date);
	kb_case_set(c, "updated", date);
done:
	kb_case_free(draft);
	kb_buf_release(&where);
	kb_buf_release(&heading);
	return rc;
}

/* Stage every case merged into, then forget them. */
static int stage_merged(import_run *run)
{
	kb_buf rel = KB_BUF_INIT, file = KB_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < run->nmerged && rc == 0; i++) {
		kb_buf_clear(&rel);
		kb_buf_clear(&file);
		kb_case_serialize(run->merged[i].c, &file);
		if ((rc = kb_store_case_write_path(&rel, run->s, run->merged[i].id)) == 0 && run->txn)
			rc = kb_txn_put(run->txn, rel.ptr, file.ptr, file.len);
	}
	kb_buf_release(&rel);
	kb_buf_release(&file);
	return rc;
}

static void merged_release(import_run *run)
{
	size_t i;

	for (i = 0; i < run->nmerged; i++) {
		free(run->merged[i].id);
		kb_case_free(run->merged[i].c);
	}
	free(run->merged);
	run->merged = NULL;
	run->nmerged = 0;
}

/* Build the draft of one record, stage it, and record the decision. */
static int import_record(import_run *run, const char *path, int line, const char *orig,
		      size_t len, const kb_extraction *fields)
{
	kb_extraction x = { 0 };
	kb_extract_source src = { NULL, path, line };
	kb_buf text = KB_BUF_INIT, id = KB_BUF_INIT;
	kb_import_record *rec;
	char hash[17], *dup = NULL;
	const char *seen;
	double score;
	int rc = 0;

	kb_extract_hash(hash, orig, len);
	if ((seen = seen_get(&run->seen, hash))) {
		kb_buf_printf(&text, "already imported as %s", seen);
		kb__import_skip(run->r, path, line, text.ptr);
		goto done;
	}
	if ((rc = read_record(&text, &x, run, orig, len, fields)) < 0 ||
	    (rc = find_duplicate(&dup, &score, run, &x, text.ptr)) < 0)
		goto done;
	if (dup && run->o->merge) {
		src.id = dup;
		if ((rc = merge_into(run, dup, &x, &text, &src, hash)) < 0)
			goto done;
		rec = push_record(run->r, KB_IMPORT_MERGED, path, line);
		rec->id = kb_xstrdup(dup);
		rec->duplicate_of = dup;
		rec->score = score;
		seen_add(&run->seen, hash, dup);
		dup = NULL;
		goto done;
	}
	if ((rc = next_id(&id, run, x.equipment)) < 0)
		goto done;
	src.id = id.ptr;
	if ((rc = stage_draft(run, &x, &text, &src, hash, dup)) < 0)
		goto done;
	rec = push_record(run->r, dup ? KB_IMPORT_DUPLICATE : KB_IMPORT_CREATED, path, line);
	rec->id = kb_xstrdup(id.ptr);
	rec->duplicate_of = dup;
	rec->score = score;
	dup = NULL;
	seen_add(&run->seen, hash, id.ptr);
done:
	free(dup);
	kb_extraction_release(&x);
	kb_buf_release(&text);
	kb_buf_release(&id);
	return rc;
}

int kb__import_record(import_run *run, const char *path, int line, const char *orig,
		      size_t len, const kb_extraction *fields)
{
	int rc = import_record(run, path, line, orig, len, fields);

	if (rc == 0)
		kb__import_report(run, 0);
	return rc;
}

/* ---- files ------------------------------------------------------------- */

void kb__import_source(import_run *run, const char *path)
{
	run->nfiles++;
	if (!run->first_file)
		run->first_file = kb_xstrdup(path);
}

int kb__import_read(kb_buf *out, const char *path)
{
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0;

	if (!f)
		return kb_error_set(errno == ENOENT ? KB_ENOTFOUND : KB_EIO, path, 0,
				    "cannot read: %s", strerror(errno));
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > IMPORT_FILE_MAX)
			rc = kb_error_set(KB_EINPUT, path, 0, "file too large (over %u bytes)",
					  IMPORT_FILE_MAX);
		else
			kb_buf_put(out, chunk, n);
	}
	if (rc == 0 && ferror(f))
		rc = kb_error_set(KB_EIO, path, 0, "cannot read: %s", strerror(errno));
	fclose(f);
	return rc;
}

/* One file of notes being imported (kb__notes_read_file's callback). */
typedef struct {
	import_run *run;
	const char *path;
	unsigned long long base;   /* progress.bytes before this file */
	size_t notes;
} notes_file;

static int import_note(const char *text, size_t len, int line, unsigned long long done,
		       void *payload)
{
	notes_file *nf = payload;

	nf->notes++;
	nf->run->progress.bytes = nf->base + done;
	return kb__import_record(nf->run, nf->path, line, text, len, NULL);
}

/* Stream the notes of one file into the run: each note is imported as
 * soon as it is read (importers/notes.c), so memory does not grow with
 * the file. */
static int import_file(import_run *run, const char *path)
{
	notes_file nf = { run, path, run->progress.bytes, 0 };
	int rc;

	kb__import_source(run, path);
	rc = kb__notes_read_file(path, run->o->split, import_note, &nf);
	if (rc == 0 && nf.notes == 0)
		kb__import_skip(run->r, path, 0, "empty");
	return rc;
}

static const char *const note_exts[] = { ".txt", ".md", NULL };

static int import_cb(const char *path, void *payload)
{
	return import_file(payload, path);
}

/* A file, or every *.txt and *.md below a directory (kb/files.h). */
static int import_path(import_run *run, const char *path)
{
	return kb_files_walk(path, note_exts, import_cb, run);
}

/* ---- the run ----------------------------------------------------------- */

static int commit_run(import_run *run)
{
	kb_buf msg = KB_BUF_INIT;
	size_t n = run->r->created + run->r->duplicates + run->r->merged;
	const char *base;
	int rc;

	if (!run->txn || (n == 0 && !run->saved_map))
		return 0;
	if (!run->o->author)
		return kb_error_set(KB_EINPUT, NULL, 0, "an import needs an author");
	if (n == 0) {
		kb_buf_printf(&msg, "Save import map %s", run->saved_map);
		rc = kb_txn_commit(run->txn, run->o->author, msg.ptr, run->r->commit);
		kb_buf_release(&msg);
		return rc;
	}
	base = strrchr(run->first_file, '/');
	base = base && base[1] && !strstr(run->first_file, "://") ? base + 1 : run->first_file;
	if (run->nfiles == 1)
		kb_buf_printf(&msg, "Import %zu %s%s from %s", n, run->noun, n == 1 ? "" : "s",
			      base);
	else
		kb_buf_printf(&msg, "Import %zu %s%s from %zu files", n, run->noun,
			      n == 1 ? "" : "s", run->nfiles);
	rc = kb_txn_commit(run->txn, run->o->author, msg.ptr, run->r->commit);
	kb_buf_release(&msg);
	return rc;
}

int kb__import_begin(import_run *run, kb_import_result *r, kb_store *s,
		     const kb_import_options *o)
{
	memset(run, 0, sizeof(*run));
	run->s = s;
	run->o = o;
	run->r = r;
	run->noun = "note";
	if (!o->dry_run && !o->author)
		return kb_error_set(KB_EINPUT, NULL, 0, "an import needs an author");
	return setup(run);
}

int kb__import_end(import_run *run, int rc)
{
	size_t i;

	if (rc == 0)
		rc = stage_merged(run);
	if (rc == 0) {
		kb__import_report(run, 1);
		rc = commit_run(run);
	}
	merged_release(run);
	free(run->saved_map);
	kb_txn_free(run->txn);
	kb__simidx_free(run->sim);
	kb_index_close(run->idx);
	kb_abbrev_free(run->abbrev);
	kb_redact_free(run->red);
	seen_release(&run->seen);
	free(run->first_file);
	for (i = 0; i < run->nids; i++)
		free(run->ids[i].prefix);
	free(run->ids);
	memset(run, 0, sizeof(*run));
	return rc;
}

int kb_import_notes(kb_import_result *out, kb_store *s, const char *const *paths,
		    size_t npaths, const kb_import_options *opts)
{
	kb_import_options dflt = KB_IMPORT_OPTIONS_INIT;
	import_run run;
	size_t i;
	int rc = kb__import_begin(&run, out, s, opts ? opts : &dflt);

	if (rc == 0)
		kb__import_size_paths(&run, paths, npaths, note_exts);
	for (i = 0; i < npaths && rc == 0; i++)
		rc = import_path(&run, paths[i]);
	return kb__import_end(&run, rc);
}
