/*
 * fuzz_notes.c - fuzz target for the notes importer's text path: split a
 * notebook into notes, mask personal data, expand abbreviations, extract
 * fields and build a draft case.
 *
 * Properties: every split mode either rejects the text (KB_EINPUT) or
 * returns notes that lie inside the input and carry lines in order;
 * masking personal data is idempotent (masked text has nothing left to
 * mask); each draft
 * case built from a note serializes to text that parses again as a case
 * with status draft and keeps the note verbatim in its original-text
 * section.  The streaming reader of notes files (kb__notes_read_file)
 * gives exactly the notes kb_notes_split gives, and refuses what it refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb/abbrev.h"
#include "kb/buf.h"
#include "kb/case.h"
#include "kb/error.h"
#include "kb/extract.h"
#include "kb/redact.h"
#include "starter.h"
#include "fuzz.h"
#include "../../importers/importers_internal.h"

static kb_abbrev *abbrev;

static void draft_from_note(const kb_note *n)
{
	kb_buf masked = KB_BUF_INIT;
	if (kb_redact_text(&masked, NULL, n->text, n->len, NULL) != 0) {
		kb_buf_release(&masked);
		return;
	}
	/* masking is idempotent: masked text has nothing left to mask */
	kb_buf twice = KB_BUF_INIT;
	kb_redact_counts counts;
	FUZZ_CHECK(kb_redact_text(&twice, NULL, masked.ptr, masked.len, &counts) == 0);
	for (int k = 0; k < KB_REDACT__COUNT; k++)
		FUZZ_CHECK(counts.counts[k] == 0);
	FUZZ_CHECK(twice.len == masked.len && memcmp(twice.ptr, masked.ptr, masked.len) == 0);
	kb_buf_release(&twice);

	kb_extract_options xo = KB_EXTRACT_OPTIONS_INIT;
	xo.year = 2024;
	xo.abbrev = abbrev;
	kb_extraction x = { 0 };
	int rc = kb_extract_note(&x, masked.ptr, masked.len, &xo);
	FUZZ_CHECK(rc == 0 || rc == KB_EINPUT);
	if (rc == 0) {
		kb_extract_source src = { NULL, "fuzz.txt", n->line };
		kb_case *c = NULL;
		rc = kb_extract_to_case(&c, &x, masked.ptr, masked.len, &src);
		FUZZ_CHECK(rc == 0 || rc == KB_EINPUT);
		if (rc == 0) {
			kb_buf text = KB_BUF_INIT;
			kb_case_serialize(c, &text);
			kb_case *again = NULL;
			FUZZ_CHECK(kb_case_parse(&again, text.ptr, text.len, "draft.md", NULL) == 0);
			FUZZ_CHECK(kb_case_status(again) == KB_STATUS_DRAFT);
			const char *orig = kb_case_section(again, KB_SECTION_ORIGINAL);
			FUZZ_CHECK(orig != NULL);
			kb_case_free(again);
			kb_buf_release(&text);
			kb_case_free(c);
		}
	}
	kb_extraction_release(&x);
	kb_buf_release(&masked);
}

/* kb__notes_read_file's callback: compare with the next note of the split. */
typedef struct {
	const kb_notes *want;   /* NULL when the split refused the text */
	size_t next;
} stream_check;

static int check_streamed(const char *text, size_t len, int line, unsigned long long done,
			  void *payload)
{
	stream_check *sc = payload;
	const kb_note *n;

	(void)done;
	if (!sc->want)
		return 0;   /* notes before the bad line are handed on, then it fails */
	FUZZ_CHECK(sc->next < sc->want->count);
	n = &sc->want->items[sc->next++];
	FUZZ_CHECK(n->line == line && n->len == len && memcmp(n->text, text, len) == 0);
	return 0;
}

/* The notes of `path` streamed in `mode` are the notes of the split, or
 * both refuse the input. */
static void same_when_streamed(const char *path, const uint8_t *data, size_t size,
			       kb_notes_mode mode)
{
	kb_notes notes = KB_NOTES_INIT;
	int split_rc = kb_notes_split(&notes, (const char *)data, size, mode);
	stream_check sc = { split_rc ? NULL : &notes, 0 };
	int rc = kb__notes_read_file(path, mode, check_streamed, &sc);

	FUZZ_CHECK(rc == split_rc);
	FUZZ_CHECK(rc != 0 || sc.next == notes.count);
	kb_notes_release(&notes);
}

static void stream_differential(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/kb-fuzz-notes-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	FUZZ_CHECK(fd >= 0);
	f = fdopen(fd, "wb");
	FUZZ_CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
	for (int m = KB_NOTES_AUTO; m <= KB_NOTES_DATE; m++)
		same_when_streamed(path, data, size, (kb_notes_mode)m);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!abbrev) {
		abbrev = kb_abbrev_new();
		FUZZ_CHECK(abbrev && kb_abbrev_parse(abbrev, kb_starter_abbreviations,
						     strlen(kb_starter_abbreviations),
						     "abbreviations.txt") == 0);
	}
	static const kb_notes_mode modes[] = { KB_NOTES_AUTO, KB_NOTES_WHOLE, KB_NOTES_SEPARATOR,
					       KB_NOTES_HEADING, KB_NOTES_DATE };
	for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		kb_notes notes = KB_NOTES_INIT;
		int rc = kb_notes_split(&notes, (const char *)data, size, modes[m]);
		if (rc != 0) {
			FUZZ_CHECK(rc == KB_EINPUT && notes.count == 0);
			continue;
		}
		FUZZ_CHECK(notes.mode != KB_NOTES_AUTO);
		int last_line = 0;
		for (size_t i = 0; i < notes.count; i++) {
			const kb_note *n = &notes.items[i];
			FUZZ_CHECK(n->text && n->len <= size && n->len == strlen(n->text));
			FUZZ_CHECK(n->line > last_line);
			last_line = n->line;
			/* one full pipeline per input is enough to cover extraction */
			if (m == 0)
				draft_from_note(n);
		}
		kb_notes_release(&notes);
	}

	if (size <= KB__NOTE_MAX)   /* larger notes are the stream's refusal, not a split's */
		stream_differential(data, size);

	kb_buf expanded = KB_BUF_INIT;
	int rc = kb_abbrev_expand(&expanded, abbrev, NULL, (const char *)data, size, NULL);
	FUZZ_CHECK(rc == 0 || rc == KB_EINPUT);
	kb_buf_release(&expanded);
	return 0;
}
