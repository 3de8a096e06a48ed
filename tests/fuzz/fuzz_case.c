/*
 * fuzz_case.c - fuzz target for the case parser (front matter + sections).
 *
 * Properties: a parse either fails with KB_EINPUT and no case, or gives a
 * case that serializes back to exactly the input bytes (the round trip the
 * store relies on), validates and renders without crashing; after setting
 * a scalar key, a list key and a section to awkward values, the new text
 * parses again and reads those values back.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "kb/case.h"
#include "kb/error.h"
#include "fuzz.h"

static void edit_and_reparse(kb_case *c)
{
	static const char *const tags[] = { "a: b", "- x", "\"q\"", "冷机", "" };
	const char *title = "Title: with \"quotes\", #hash, and 'apostrophes' 跳闸";
	kb_case_set(c, "title", title);
	kb_case_set_list(c, "tags", tags, sizeof tags / sizeof tags[0]);
	kb_case_set_section(c, KB_SECTION_RESOLUTION, NULL, "Replaced the fan motor.\n");

	kb_buf out = KB_BUF_INIT;
	kb_case_serialize(c, &out);
	kb_case *again = NULL;
	int rc = kb_case_parse(&again, out.ptr, out.len, "fuzz-edited.md", NULL);
	FUZZ_CHECK(rc == 0 && again);
	FUZZ_CHECK(strcmp(kb_case_title(again), title) == 0);
	const char *const *items;
	FUZZ_CHECK(kb_case_get_list(again, "tags", &items) == sizeof tags / sizeof tags[0]);
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
		FUZZ_CHECK(strcmp(items[i], tags[i]) == 0);
	const char *res = kb_case_section(again, KB_SECTION_RESOLUTION);
	FUZZ_CHECK(res && strstr(res, "Replaced the fan motor."));
	kb_case_free(again);
	kb_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kb_case *c = NULL;
	int rc = kb_case_parse(&c, (const char *)data, size, "fuzz.md", NULL);
	if (rc != 0) {
		FUZZ_CHECK(c == NULL);
		FUZZ_CHECK(rc == KB_EINPUT);
		FUZZ_CHECK(kb_error_last()->message[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(c != NULL);

	kb_buf out = KB_BUF_INIT;
	kb_case_serialize(c, &out);
	FUZZ_CHECK(out.len == size && memcmp(out.ptr, data, size) == 0);
	kb_buf_release(&out);

	kb_diags diags = KB_DIAGS_INIT;
	kb_case_validate(c, &diags);
	kb_diags_release(&diags);

	kb_buf html = KB_BUF_INIT;
	kb_case_render_html(c, &html);
	kb_buf_release(&html);

	edit_and_reparse(c);
	kb_case_free(c);
	return 0;
}
