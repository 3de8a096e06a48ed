/*
 * http.c - `kb import http`: a JSON REST source through libcurl (TLS
 * verified, timeouts, retries with backoff on 5xx and timeouts, at most 5
 * redirects) and jansson; page after page until an empty one, each object
 * mapped to case fields ("title=summary") and fed through the pipeline.
 */
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "import_internal.h"

#define NFIELDS IMPORT_NFIELDS

typedef struct {
	import_run *run;
	const kb_import_http_options *h;
	char *key[NFIELDS];      /* JSON member per field, or NULL */
	int nrecord;             /* records seen so far, 1-based in provenance */
} http_state;

/* "title=summary,symptom=description" into st->key. */
static int parse_map(http_state *st, const char *map)
{
	return kb__import_parse_map(st->key, map, "field map", "key");
}

/* ---- fetching ------------------------------------------------------------ */

/* A response body, refused (too_large) once over IMPORT_FILE_MAX. */
typedef struct {
	kb_buf *body;
	int too_large;
} http_body;

static size_t on_data(char *data, size_t size, size_t n, void *payload)
{
	http_body *hb = payload;

	if (hb->body->len + size * n > IMPORT_FILE_MAX) {
		hb->too_large = 1;
		return 0;   /* libcurl stops with CURLE_WRITE_ERROR */
	}
	kb_buf_put(hb->body, data, size * n);
	return size * n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* One GET of `url` into `body`, retried on timeouts and 5xx. */
static int fetch(kb_buf *body, const char *url, const kb_import_http_options *h)
{
	char errbuf[CURL_ERROR_SIZE] = "", *auth = NULL;
	struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
	CURL *c = curl_easy_init();
	int attempt, retries = h->retries < 0 ? 0 : h->retries ? h->retries : 3, rc = 0;
	long status = 0;
	CURLcode cc = CURLE_OK;
	http_body hb = { body, 0 };

	if (!c || !headers) {
		rc = kb_error_set(KB_ERROR, url, 0, "cannot start libcurl");
		goto done;
	}
	if (h->token && *h->token) {
		size_t n = strlen(h->token) + 32;

		auth = kb_xmalloc(n);
		snprintf(auth, n, "Authorization: Bearer %s", h->token);
		headers = curl_slist_append(headers, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &hb);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms > 0 ? h->connect_timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms > 0 ? h->timeout_ms : 30000L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kb-import/1");
	for (attempt = 0; attempt <= retries; attempt++) {
		if (attempt)
			sleep_ms(250L << (attempt - 1));
		kb_buf_clear(body);
		hb.too_large = 0;
		errbuf[0] = '\0';
		cc = curl_easy_perform(c);
		status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (cc != CURLE_OPERATION_TIMEDOUT && cc != CURLE_COULDNT_CONNECT &&
		    !(cc == CURLE_OK && status >= 500))
			break;
	}
	if (cc != CURLE_OK && hb.too_large)
		rc = kb_error_set(KB_EINPUT, url, 0, "response too large (over %u bytes)",
				  IMPORT_FILE_MAX);
	else if (cc != CURLE_OK)
		rc = kb_error_set(KB_EINPUT, url, 0, "request failed: %s%s", errbuf[0] ? errbuf :
				  curl_easy_strerror(cc), attempt > retries ? " (after retries)" : "");
	else if (status != 200)
		rc = kb_error_set(KB_EINPUT, url, 0, "HTTP status %ld%s", status,
				  status >= 500 ? " (after retries)" : "");
done:
	free(auth);
	curl_slist_free_all(headers);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}

/* ---- records ------------------------------------------------------------- */

/* A scalar member as text (owned), or NULL for objects, arrays, null. */
static char *scalar_text(json_t *v)
{
	char num[64];

	if (json_is_string(v))
		return kb_xstrdup(json_string_value(v));
	if (json_is_integer(v))
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(num, sizeof(num), "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" : "false");
	else
		return NULL;
	return kb_xstrdup(num);
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* One object: its original text ("key: value" lines) and mapped fields. */
static int import_object(http_state *st, json_t *obj)
{
	kb_extraction x = { 0 };
	char **slot[NFIELDS];
	kb_buf text = KB_BUF_INIT;
	const char *k;
	json_t *v;
	char *s;
	size_t f;
	int rc = 0;

	kb__import_field_slots(&x, slot);
	st->nrecord++;
	if (!json_is_object(obj)) {
		kb__import_skip(st->run->r, st->h->url, st->nrecord, "not a JSON object");
		return 0;
	}
	json_object_foreach(obj, k, v) {
		if ((s = scalar_text(v)) && *s)
			kb_buf_printf(&text, "%s: %s\n", k, s);
		free(s);
	}
	for (f = 0; f < NFIELDS; f++) {
		s = st->key[f] ? scalar_text(json_object_get(obj, st->key[f])) : NULL;
		if (s && *s)
			*slot[f] = s;
		else
			free(s);
	}
	if (x.equipment)
		lower_ascii(x.equipment);
	if (!text.len)
		kb__import_skip(st->run->r, st->h->url, st->nrecord, "empty");
	else
		rc = kb__import_record(st->run, st->h->url, st->nrecord, text.ptr, text.len, &x);
	kb_extraction_release(&x);
	kb_buf_release(&text);
	return rc;
}

/* The records of one page: an array, or an object with one under items,
 * data or results.  *n receives their number. */
static int import_page(http_state *st, const char *url, const kb_buf *body, size_t *n)
{
	static const char *const keys[] = { "items", "data", "results" };
	json_error_t jerr;
	json_t *root = json_loadb(body->ptr, body->len, 0, &jerr), *arr = NULL, *v;
	size_t i;
	int rc = 0;

	*n = 0;
	if (!root)
		return kb_error_set(KB_EINPUT, url, 0, "not JSON (%s at byte %d)%s", jerr.text,
				    jerr.position, body->len && body->ptr[0] == '<' ? ": an HTML page?" : "");
	if (json_is_array(root))
		arr = root;
	for (i = 0; !arr && json_is_object(root) && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_is_array(json_object_get(root, keys[i])))
			arr = json_object_get(root, keys[i]);
	if (!arr)
		rc = kb_error_set(KB_EINPUT, url, 0,
				  "no array of records (want an array, or one under items, data or results)");
	json_array_foreach(arr, i, v) {
		if (rc)
			break;
		rc = import_object(st, v);
	}
	*n = arr ? json_array_size(arr) : 0;
	json_decref(root);
	return rc;
}

static int import_pages(http_state *st)
{
	const kb_import_http_options *h = st->h;
	int page, max = h->max_pages > 0 ? h->max_pages : 1000, rc = 0;
	kb_buf url = KB_BUF_INIT, body = KB_BUF_INIT;
	size_t n = 1;

	for (page = 1; rc == 0 && n > 0 && page <= max; page++) {
		kb_buf_clear(&url);
		kb_buf_puts(&url, h->url);
		if (h->page_param && *h->page_param)
			kb_buf_printf(&url, "%c%s=%d", strchr(h->url, '?') ? '&' : '?', h->page_param, page);
		if ((rc = fetch(&body, url.ptr, h)) == 0)
			rc = import_page(st, url.ptr, &body, &n);
		if (!h->page_param || !*h->page_param)
			break;
	}
	kb_buf_release(&url);
	kb_buf_release(&body);
	return rc;
}

static void curl_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int kb_import_http(kb_import_result *out, kb_store *s, const kb_import_http_options *h,
		   const kb_import_options *opts)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	kb_import_options dflt = KB_IMPORT_OPTIONS_INIT;
	import_run run;
	http_state st;
	const char *map = NULL;
	size_t i;
	int rc = kb__import_begin(&run, out, s, opts ? opts : &dflt);

	memset(&st, 0, sizeof(st));
	st.run = &run;
	st.h = h;
	run.noun = "record";
	pthread_once(&once, curl_setup);
	if (rc == 0)
		rc = kb__import_pick_map(&map, &run, h->map, NULL);
	if (rc == 0 && (!map || !*map))
		rc = kb_error_set(KB_EINPUT, NULL, 0, "no field map: give --map or --map-name");
	if (rc == 0 && (rc = parse_map(&st, map)) == 0)
		rc = kb__import_save_map(&run, map);
	if (rc == 0) {
		kb__import_source(&run, h->url);
		rc = import_pages(&st);
	}
	rc = kb__import_end(&run, rc);
	for (i = 0; i < NFIELDS; i++)
		free(st.key[i]);
	return rc;
}
