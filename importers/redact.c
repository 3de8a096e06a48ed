/*
 * redact.c - masking phone numbers, e-mail addresses, resident ID numbers
 * and customer names (kb/redact.h).  One left-to-right scan; at each token
 * start the matchers are tried in a fixed order (e-mail, ID number, phone,
 * customer) and the first match is masked.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/redact.h"
#include "importers_internal.h"

struct kb_redactor {
	char **names;
	size_t *lens;
	size_t *next;               /* next name with the same first byte, plus 1; 0 ends */
	size_t count;
	size_t head[256];           /* first name per (folded) first byte, plus 1; 0 = none */
};

static const char *const mask_text[KB_REDACT__COUNT] = {
	"[phone]", "[email]", "[id-number]", "[customer]"
};

const char *kb_redact_kind_name(kb_redact_kind kind)
{
	static const char *const names[KB_REDACT__COUNT] = {
		"phone", "email", "id-number", "customer"
	};

	return (unsigned)kind < KB_REDACT__COUNT ? names[kind] : "unknown";
}

kb_redactor *kb_redact_new(void)
{
	return kb_xcalloc(1, sizeof(kb_redactor));
}

void kb_redact_free(kb_redactor *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->count; i++)
		free(r->names[i]);
	free(r->names);
	free(r->lens);
	free(r->next);
	free(r);
}

static int add_name(kb_redactor *r, const char *s, size_t len)
{
	unsigned char b;

	while (len && kb__isspace((unsigned char)*s))
		s++, len--;
	while (len && kb__isspace((unsigned char)s[len - 1]))
		len--;
	if (!len || kb__utf8_invalid_at(s, len) != len)
		return KB_EINPUT;
	r->names = kb_xrealloc(r->names, (r->count + 1) * sizeof(char *));
	r->lens = kb_xrealloc(r->lens, (r->count + 1) * sizeof(size_t));
	r->next = kb_xrealloc(r->next, (r->count + 1) * sizeof(size_t));
	r->names[r->count] = kb_xstrndup(s, len);
	r->lens[r->count] = len;
	b = (unsigned char)kb__tolower((unsigned char)s[0]);
	r->next[r->count] = r->head[b];
	r->head[b] = ++r->count;
	return 0;
}

int kb_redact_add_customer(kb_redactor *r, const char *name)
{
	if (add_name(r, name, strlen(name)))
		return kb_error_set(KB_EINPUT, NULL, 0, "bad customer name '%s'", name);
	return 0;
}

int kb_redact_parse_customers(kb_redactor *r, const char *text, size_t len, const char *path)
{
	size_t bad = kb__utf8_invalid_at(text, len), i = 0, b;
	int line = 1;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (bad >= i && bad < end)
			return kb_error_set(KB_EINPUT, path, line,
					    "invalid UTF-8 or NUL byte in customer list");
		for (b = i; b < end && kb__isspace((unsigned char)text[b]); b++)
			;
		if (b < end && text[b] != '#')
			add_name(r, text + b, end - b);
		i = end + 1;
		line++;
	}
	return 0;
}

/* ---- ID numbers ------------------------------------------------------------ */

static int digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!kb__isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int valid_birth(int y, int m, int d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	return !(m == 2 && d == 29 && !leap);
}

/* ISO 7064 MOD 11-2 over the first 17 digits: weights 2^(17-i) mod 11. */
static char id_check_char(const char *s)
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char map[] = "10X98765432";
	int sum = 0, i;

	for (i = 0; i < 17; i++)
		sum += (s[i] - '0') * w[i];
	return map[sum % 11];
}

int kb_redact_id_valid(const char *s, size_t len)
{
	if (len == 18) {
		int y;

		if (!digits(s, 17) || !(kb__isdigit((unsigned char)s[17]) || s[17] == 'X' || s[17] == 'x'))
			return 0;
		y = num(s + 6, 4);
		if (y < 1900 || y > 2099 || !valid_birth(y, num(s + 10, 2), num(s + 12, 2)))
			return 0;
		return id_check_char(s) == (s[17] == 'x' ? 'X' : s[17]);
	}
	if (len == 15)
		return digits(s, 15) && s[0] != '0' &&
		       valid_birth(1900 + num(s + 6, 2), num(s + 8, 2), num(s + 10, 2));
	return 0;
}

/* ---- token boundaries -------------------------------------------------------- */

static int joiner(int c)
{
	return c == '-' || c == '/' || c == '.' || c == '_';
}

/* May a number start at s[i]? Not after a letter or digit, nor after a
 * joiner that follows one ("30XA-0502", "2024-03-04"). */
static int left_ok(const char *s, size_t i)
{
	unsigned char p;

	if (i == 0)
		return 1;
	p = (unsigned char)s[i - 1];
	if (kb__isalnum(p))
		return 0;
	return !(joiner(p) && i >= 2 && kb__isalnum((unsigned char)s[i - 2]));
}

/* May a number end before s[j]? */
static int right_ok(const char *s, size_t len, size_t j)
{
	if (j >= len)
		return 1;
	if (kb__isalnum((unsigned char)s[j]))
		return 0;
	return !(joiner((unsigned char)s[j]) && j + 1 < len && kb__isalnum((unsigned char)s[j + 1]));
}

/* Length of an ID number at s[i], or 0. */
static size_t match_id(const char *s, size_t len, size_t i)
{
	size_t n;

	for (n = 0; i + n < len && n < 19 && kb__isdigit((unsigned char)s[i + n]); n++)
		;
	if (n == 17 && i + n < len && (s[i + n] == 'X' || s[i + n] == 'x'))
		n++;
	if ((n == 18 || n == 15) && right_ok(s, len, i + n) && kb_redact_id_valid(s + i, n))
		return n;
	return 0;
}

/* ---- phones ----------------------------------------------------------------- */

/*
 * Read digits in groups separated by single ' ', '-' or '.' (and '(' ')'
 * around a group when `parens`) from s[i]; stops before a separator not
 * followed by a digit.  Returns the end offset, the digit count in *nd.
 */
static size_t read_groups(const char *s, size_t len, size_t i, int parens, size_t max, size_t *nd)
{
	size_t j = i, last = i;

	*nd = 0;
	while (j < len && *nd < max) {
		if (kb__isdigit((unsigned char)s[j])) {
			(*nd)++;
			last = ++j;
			continue;
		}
		if ((s[j] == ' ' || s[j] == '-' || s[j] == '.' || (parens && (s[j] == '(' || s[j] == ')'))) &&
		    j + 1 < len && (kb__isdigit((unsigned char)s[j + 1]) ||
				    (parens && s[j + 1] == '(') || (parens && s[j] == ')' && s[j + 1] == ' '))) {
			j++;
			continue;
		}
		break;
	}
	if (parens && last < len && s[last] == ')')
		last++;
	return last;
}

/* Chinese mobile: optional +86/0086/86 then 1[3-9] and 9 more digits in
 * 3-4-4 or unbroken grouping. */
static size_t match_mobile(const char *s, size_t len, size_t i)
{
	size_t j = i, end, nd, k, g;
	char d[11];

	if (len - j > 3 && !memcmp(s + j, "+86", 3))
		j += 3;
	else if (len - j > 4 && !memcmp(s + j, "0086", 4))
		j += 4;
	if (j > i && j < len && (s[j] == ' ' || s[j] == '-'))
		j++;
	end = read_groups(s, len, j, 0, 11, &nd);
	if (nd != 11 || !right_ok(s, len, end))
		return 0;
	for (k = j, g = 0; k < end; k++)
		if (kb__isdigit((unsigned char)s[k]))
			d[g++] = s[k];
	if (d[0] != '1' || d[1] < '3' || d[1] > '9')
		return 0;
	/* separators only after digit 3 and 7 */
	for (k = j, g = 0; k < end; k++) {
		if (kb__isdigit((unsigned char)s[k]))
			g++;
		else if (g != 3 && g != 7)
			return 0;
	}
	return end - i;
}

/* Landline: 0 + 2-3 digit area code, a separator (or none), 7-8 digits;
 * the area code may be in parentheses. */
static size_t match_landline(const char *s, size_t len, size_t i)
{
	size_t j = i, a = 0, n = 0, paren = 0;

	if (s[j] == '(') {
		paren = 1;
		j++;
	}
	if (j >= len || s[j] != '0' || j + 1 >= len || s[j + 1] < '1' || s[j + 1] > '9')
		return 0;
	while (j + a < len && kb__isdigit((unsigned char)s[j + a]) && a < 13)
		a++;
	if (!paren && (a == 11 || a == 12) && right_ok(s, len, j + a))
		return j + a - i;          /* unbroken 0xxxxxxxxxx */
	if (a < 3 || a > 4)
		return 0;
	j += a;
	if (paren) {
		if (j >= len || s[j] != ')')
			return 0;
		j++;
		if (j < len && s[j] == ' ')
			j++;
	} else if (j < len && (s[j] == '-' || s[j] == ' ')) {
		j++;
	} else {
		return 0;
	}
	while (j + n < len && kb__isdigit((unsigned char)s[j + n]) && n < 9)
		n++;
	if ((n != 7 && n != 8) || !right_ok(s, len, j + n))
		return 0;
	return j + n - i;
}

/* International: '+', a 1-3 digit country code, then 6-14 more digits in
 * groups; 8-15 digits in all (E.164). */
static size_t match_international(const char *s, size_t len, size_t i)
{
	size_t end, nd;

	if (s[i] != '+' || i + 1 >= len || !kb__isdigit((unsigned char)s[i + 1]) || s[i + 1] == '0')
		return 0;
	end = read_groups(s, len, i + 1, 1, 15, &nd);
	if (nd < 8 || nd > 15 || !right_ok(s, len, end))
		return 0;
	return end - i;
}

static size_t match_phone(const char *s, size_t len, size_t i)
{
	size_t n = match_mobile(s, len, i);

	if (!n)
		n = match_landline(s, len, i);
	if (!n)
		n = match_international(s, len, i);
	return n;
}

/* ---- e-mail ------------------------------------------------------------------ */

static int local_char(int c)
{
	return kb__isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static size_t match_email(const char *s, size_t len, size_t i)
{
	size_t j = i, k, dots = 0, label = 0, tld_alpha = 0;

	if (i > 0 && local_char((unsigned char)s[i - 1]))
		return 0;
	while (j < len && local_char((unsigned char)s[j]))
		j++;
	if (j == i || j >= len || s[j] != '@')
		return 0;
	for (k = j + 1; k < len; k++) {
		unsigned char c = (unsigned char)s[k];

		if (kb__isalnum(c) || c == '-') {
			label++;
			tld_alpha = kb__isalpha(c) ? tld_alpha + 1 : 0;
			continue;
		}
		if (c == '.' && label && k + 1 < len && kb__isalnum((unsigned char)s[k + 1])) {
			dots++;
			label = tld_alpha = 0;
			continue;
		}
		break;
	}
	if (!dots || !label || tld_alpha < 2 || tld_alpha != label)
		return 0;
	return k - i;
}

/* ---- customers --------------------------------------------------------------- */

static int latin_name(const char *n)
{
	return (unsigned char)n[0] < 0x80;
}

/* The longest customer name at s[i].  Names are chained by first byte, and
 * a Latin name cannot start inside a word, so most positions cost O(1). */
static size_t match_customer(const kb_redactor *r, const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	size_t k, best = 0;

	if (!r || (c < 0x80 && i > 0 && kb__isalnum((unsigned char)s[i - 1])))
		return 0;
	for (k = r->head[kb__tolower(c)]; k; k = r->next[k - 1]) {
		const char *n = r->names[k - 1];
		size_t nl = r->lens[k - 1];

		if (nl > len - i || nl <= best)
			continue;
		if (latin_name(n)) {
			if (!kb__ascii_ncaseeq(n, s + i, nl) ||
			    (i + nl < len && kb__isalnum((unsigned char)s[i + nl])))
				continue;
		} else if (memcmp(n, s + i, nl)) {
			continue;
		}
		best = nl;
	}
	return best;
}

/* ---- the scan ----------------------------------------------------------------- */

/* The first matcher that fires at s[i]; its length and kind. */
static size_t match_at(const kb_redactor *r, const char *s, size_t len, size_t i,
		       kb_redact_kind *kind)
{
	unsigned char c = (unsigned char)s[i];
	size_t n = 0;

	if (local_char(c) && (n = match_email(s, len, i)))
		*kind = KB_REDACT_EMAIL;
	else if (kb__isdigit(c) && left_ok(s, i) && (n = match_id(s, len, i)))
		*kind = KB_REDACT_ID_NUMBER;
	else if ((kb__isdigit(c) || c == '+' || c == '(') && left_ok(s, i) &&
		 (n = match_phone(s, len, i)))
		*kind = KB_REDACT_PHONE;
	else if ((n = match_customer(r, s, len, i)))
		*kind = KB_REDACT_CUSTOMER;
	return n;
}

int kb_redact_text(kb_buf *out, const kb_redactor *r, const char *text, size_t len,
		   kb_redact_counts *counts)
{
	kb_redact_counts local;
	kb_redact_kind kind = KB_REDACT_PHONE;
	size_t i = 0, n;

	if (!counts)
		counts = &local;
	memset(counts, 0, sizeof(*counts));
	if (kb__utf8_require(text, len, "text to redact"))
		return KB_EINPUT;
	while (i < len) {
		n = match_at(r, text, len, i, &kind);
		if (n) {
			kb_buf_puts(out, mask_text[kind]);
			counts->counts[kind]++;
			i += n;
			continue;
		}
		kb__utf8_decode(text, len, i, &n);
		kb_buf_put(out, text + i, n);
		i += n;
	}
	return 0;
}
