/*
 * index_bulk.c - the full reindex on two threads (index_internal.h,
 * kb__index_load_all).  A reader thread walks cases/, parses each file,
 * builds its FTS columns and records their tokens (kb/tokenizer.h tapes);
 * the calling thread inserts the results in the walk's order, and FTS5's
 * "kb" tokenizer replays the recorded tokens instead of tokenizing the same
 * text again.  What is left on the inserting thread is SQLite's own work.
 * A bounded queue keeps memory flat.  Without a second thread (creation
 * fails) the same steps run in turn on this one.  See "Full reindex" in
 * docs/internals/index.md.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/case.h"
#include "kb/config.h"
#include "kb/error.h"
#include "kb/tokenizer.h"
#include "index_internal.h"

/* Parsed files waiting for the inserting thread. */
#define QUEUE_MAX 256

/* One case file, read and prepared by the reader. */
typedef struct item {
	struct item *next;
	char *path;
	kb_case *c;                       /* NULL when it did not parse */
	int rc;                           /* parse failure: 1 skip with a warning, <0 fatal */
	int line;                         /* of the failure */
	char *message;                    /* of the failure */
	kb_buf col[KB_COL__COUNT];
	kb_token_tape tape[KB_COL__COUNT];
	int ntapes;
	char hash[17];
} item;

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t ready, room;
	item *head, *tail;
	size_t n;
	int done;                         /* the reader has finished */
	int stop;                         /* the inserter gave up: reader, stop */
	int rc;                           /* the reader's own failure */
	char *message;
	/* reader side */
	kb_store *s;
	const kb_aliases *aliases;
	kb_tokenizer *tk;                 /* NULL: the index does not use "kb" */
} queue;

static void item_free(item *it)
{
	int i;

	if (!it)
		return;
	for (i = 0; i < KB_COL__COUNT; i++) {
		kb_buf_release(&it->col[i]);
		kb_buf_release(&it->tape[i].tape);
	}
	kb_case_free(it->c);
	free(it->path);
	free(it->message);
	free(it);
}

/* Parse one file and prepare its columns and tapes. */
static item *prepare(queue *q, const char *relpath, const char *text, size_t len)
{
	item *it = kb_xcalloc(1, sizeof(*it));
	int i, rc;

	it->path = kb_xstrdup(relpath);
	for (i = 0; i < KB_COL__COUNT; i++) {
		kb_buf_init(&it->col[i]);
		kb_buf_init(&it->tape[i].tape);
	}
	rc = kb_case_parse(&it->c, text, len, relpath, q->aliases);
	if (rc == 0 && !*kb_case_id(it->c))
		rc = kb_error_set(KB_EINPUT, relpath, 0, "case has no id");
	if (rc) {
		kb_case_free(it->c);
		it->c = NULL;
		it->rc = rc == KB_EINPUT || rc == KB_EINVALID ? 1 : rc;
		it->line = kb_error_last()->line;
		it->message = kb_xstrdup(kb_error_last()->message);
		return it;
	}
	kb_index__case_columns(it->c, it->col);
	kb_index__content_hash(it->hash, it->c, relpath, it->col);
	for (i = 0; q->tk && i < KB_COL__COUNT; i++) {
		kb_token_tape *t = &it->tape[it->ntapes];
		if (kb_tokenizer_record(q->tk, it->col[i].ptr, (int)it->col[i].len, &t->tape) < 0)
			break;
		t->text = it->col[i].ptr;
		t->len = (int)it->col[i].len;
		it->ntapes++;
	}
	return it;
}

static int reader_file(const char *relpath, const char *text, size_t len, void *payload)
{
	queue *q = payload;
	item *it = prepare(q, relpath, text, len);
	int stop;

	pthread_mutex_lock(&q->mu);
	while (q->n >= QUEUE_MAX && !q->stop)
		pthread_cond_wait(&q->room, &q->mu);
	stop = q->stop;
	if (!stop) {
		if (q->tail)
			q->tail->next = it;
		else
			q->head = it;
		q->tail = it;
		q->n++;
		pthread_cond_signal(&q->ready);
	}
	pthread_mutex_unlock(&q->mu);
	if (stop) {
		item_free(it);
		return KB_ERROR;
	}
	return 0;
}

static void *reader(void *arg)
{
	queue *q = arg;
	int rc = kb_store_foreach_case_file(q->s, reader_file, q);

	pthread_mutex_lock(&q->mu);
	if (rc < 0 && !q->stop) {
		q->rc = rc;
		q->message = kb_xstrdup(kb_error_last()->message);
	}
	q->done = 1;
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->mu);
	kb_error_clear();         /* this thread's error strings die with it */
	return NULL;
}

/* Insert one prepared file; <0 stops the load. */
static int insert(kb_index *idx, item *it, kb_index_stats *stats, kb_diags *diags)
{
	int what = 0, rc;

	if (it->rc < 0)
		return kb_error_set(it->rc, it->path, it->line, "%s", it->message);
	if (it->rc > 0) {
		if (diags)
			kb_diags_add(diags, KB_DIAG_WARNING, it->path, it->line, "not indexed: %s",
				     it->message);
		return 0;
	}
	idx->tapes.v = it->tape;
	idx->tapes.n = (size_t)it->ntapes;
	idx->tapes.next = 0;
	rc = kb_index__put_columns(idx, it->c, it->path, it->col, it->hash, &what);
	idx->tapes.v = NULL;
	idx->tapes.n = 0;
	if (rc < 0)
		return rc;
	if (what == 1)
		stats->added++;
	else if (what == 2)
		stats->updated++;
	if (what == 2 && diags)
		kb_diags_add(diags, KB_DIAG_WARNING, it->path, 0,
			     "duplicate case id: this file replaces an earlier one in the index");
	return 0;
}

/* The "kb" tokenizer of idx->tokenize ("kb stem 1 ..."), or NULL for any
 * other tokenizer (then FTS5 tokenizes on the inserting thread). */
static kb_tokenizer *reader_tokenizer(const kb_index *idx)
{
	char *spec = kb_xstrdup(idx->tokenize ? idx->tokenize : "");
	const char *argv[8];
	kb_tokenizer_options opt;
	kb_tokenizer *tk = NULL;
	char *p = spec, *save = NULL;
	int argc = 0;

	while (argc < 8 && (p = strtok_r(p, " ", &save)) != NULL) {
		argv[argc++] = p;
		p = NULL;
	}
	if (argc >= 1 && !strcmp(argv[0], "kb") &&
	    kb_tokenizer_options_parse(&opt, argv + 1, argc - 1) == 0 &&
	    kb_tokenizer_new(&tk, &opt) < 0)
		tk = NULL;
	free(spec);
	return tk;
}

/* Without a reader thread: each file prepared and inserted in turn. */
typedef struct {
	queue *q;
	kb_index *idx;
	kb_index_stats *stats;
	kb_diags *diags;
} serial_arg;

static int serial_file(const char *relpath, const char *text, size_t len, void *payload)
{
	serial_arg *a = payload;
	item *it = prepare(a->q, relpath, text, len);
	int rc = insert(a->idx, it, a->stats, a->diags);

	item_free(it);
	return rc;
}

int kb_index__load_all(kb_index *idx, kb_store *s, kb_index_stats *stats, kb_diags *diags)
{
	queue q;
	pthread_t th;
	item *it;
	int rc = 0;

	memset(&q, 0, sizeof(q));
	q.s = s;
	q.aliases = kb_config_aliases(kb_store_config(s));
	q.tk = reader_tokenizer(idx);
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.ready, NULL);
	pthread_cond_init(&q.room, NULL);
	if (pthread_create(&th, NULL, reader, &q) != 0) {
		serial_arg a = { &q, idx, stats, diags };
		rc = kb_store_foreach_case_file(s, serial_file, &a);
		goto done;
	}
	for (;;) {
		pthread_mutex_lock(&q.mu);
		while (!q.head && !q.done)
			pthread_cond_wait(&q.ready, &q.mu);
		it = q.head;
		if (it) {
			q.head = it->next;
			if (!q.head)
				q.tail = NULL;
			q.n--;
			pthread_cond_signal(&q.room);
		}
		pthread_mutex_unlock(&q.mu);
		if (!it)
			break;
		rc = insert(idx, it, stats, diags);
		item_free(it);
		if (rc < 0)
			break;
	}
	pthread_mutex_lock(&q.mu);
	q.stop = rc < 0;
	pthread_cond_signal(&q.room);
	pthread_mutex_unlock(&q.mu);
	pthread_join(th, NULL);
	while ((it = q.head) != NULL) {
		q.head = it->next;
		item_free(it);
	}
	if (rc == 0 && q.rc < 0)
		rc = kb_error_set(q.rc, NULL, 0, "%s", q.message);
done:
	free(q.message);
	kb_tokenizer_free(q.tk);
	pthread_cond_destroy(&q.room);
	pthread_cond_destroy(&q.ready);
	pthread_mutex_destroy(&q.mu);
	return rc;
}
