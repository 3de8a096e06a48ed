/*
 * utf8.c - UTF-8 validation of case files (kb_utf8_check in kb/case.h):
 * rejects malformed, truncated, overlong and surrogate sequences, code
 * points past U+10FFFF and NUL bytes, naming the line of the first bad byte.
 */
#include <stdint.h>
#include <string.h>

#include "case_internal.h"
#include "kb/case.h"
#include "kb/error.h"

int kb__line_of(const char *text, size_t off)
{
	const char *p = text, *end = text + off, *nl;
	int line = 1;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		line++;
		p = nl + 1;
	}
	return line;
}

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Length of the well-formed sequence at `s` (`n` bytes left), 0 if none. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0xC2)
		return 0;       /* stray continuation byte or overlong 2-byte lead */
	if (c < 0xE0)
		return n >= 2 && is_cont(s[1]) ? 2 : 0;
	if (c < 0xF0) {
		if (n < 3 || !is_cont(s[1]) || !is_cont(s[2]))
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
			return 0;   /* overlong, or a UTF-16 surrogate */
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || !is_cont(s[1]) || !is_cont(s[2]) || !is_cont(s[3]))
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
			return 0;   /* overlong, or past U+10FFFF */
		return 4;
	}
	return 0;
}

/* 1 when the 8 bytes at `s` are ASCII and none is NUL. */
static int ascii8(const unsigned char *s)
{
	const uint64_t lo = 0x0101010101010101u, hi = 0x8080808080808080u;
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return ((w | ((w - lo) & ~w)) & hi) == 0;
}

int kb_utf8_check(const char *text, size_t len, const char *path)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n;

	while (i < len) {
		if (len - i >= 8 && ascii8(s + i)) {
			i += 8;
			continue;
		}
		if (s[i] >= 0x01 && s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] == 0)
			return kb_error_set(KB_EINPUT, path, kb__line_of(text, i),
					    "nul byte at offset %zu", i);
		n = seq_len(s + i, len - i);
		if (n == 0)
			return kb_error_set(KB_EINPUT, path, kb__line_of(text, i),
					    "invalid utf-8 byte 0x%02x at offset %zu", s[i], i);
		i += n;
	}
	return 0;
}
