/*
 * extract.c - fields of one maintenance note from its free text
 * (kb/extract.h): signature, date, site and equipment are found by pattern
 * and cut out; the rest is expanded, split into clauses, and each clause is
 * given to a slot (symptom, checks, cause, resolution) by its first cue word.
 * The rules and word lists are documented in docs/extraction.md.
 */
#include <stdlib.h>
#include <string.h>

#include "kb/extract.h"
#include "importers_internal.h"

/* ---- word lists ---------------------------------------------------------- */

typedef enum { SLOT_SYMPTOM = 0, SLOT_CHECK, SLOT_CAUSE, SLOT_RESOLUTION, SLOT_SPLIT,
	       SLOT__COUNT } slot_kind;

/* A Latin cue matches at a word start as a prefix ("trip" ~ "tripped"); a
 * trailing '$' asks for the whole word.  CJK cues match anywhere. */
typedef struct {
	const char *cue;
	slot_kind slot;
} cue_word;

static const cue_word cues[] = {
	/* symptom */
	{ "trip", SLOT_SYMPTOM }, { "alarm", SLOT_SYMPTOM }, { "fault", SLOT_SYMPTOM },
	{ "leak", SLOT_SYMPTOM }, { "noisy", SLOT_SYMPTOM }, { "noise", SLOT_SYMPTOM },
	{ "vibrat", SLOT_SYMPTOM }, { "not working", SLOT_SYMPTOM }, { "not cooling", SLOT_SYMPTOM },
	{ "not heating", SLOT_SYMPTOM }, { "no start", SLOT_SYMPTOM }, { "won't", SLOT_SYMPTOM },
	{ "will not", SLOT_SYMPTOM }, { "does not", SLOT_SYMPTOM }, { "stopped", SLOT_SYMPTOM },
	{ "overheat", SLOT_SYMPTOM }, { "error", SLOT_SYMPTOM }, { "smok", SLOT_SYMPTOM },
	{ "stuck", SLOT_SYMPTOM }, { "failed to", SLOT_SYMPTOM }, { "fails to", SLOT_SYMPTOM }, { "no ignition", SLOT_SYMPTOM }, { "shut down", SLOT_SYMPTOM },
	{ "shutdown", SLOT_SYMPTOM }, { "high temp", SLOT_SYMPTOM }, { "on battery", SLOT_SYMPTOM },
	{ "跳闸", SLOT_SYMPTOM }, { "报警", SLOT_SYMPTOM }, { "告警", SLOT_SYMPTOM },
	{ "漏", SLOT_SYMPTOM }, { "异响", SLOT_SYMPTOM }, { "噪音", SLOT_SYMPTOM },
	{ "振动", SLOT_SYMPTOM }, { "不制冷", SLOT_SYMPTOM }, { "不启动", SLOT_SYMPTOM },
	{ "无法", SLOT_SYMPTOM }, { "停机", SLOT_SYMPTOM }, { "故障", SLOT_SYMPTOM },
	{ "过热", SLOT_SYMPTOM }, { "冒烟", SLOT_SYMPTOM }, { "困人", SLOT_SYMPTOM },
	{ "不工作", SLOT_SYMPTOM }, { "停运", SLOT_SYMPTOM }, { "温度高", SLOT_SYMPTOM },
	/* checks */
	{ "check", SLOT_CHECK }, { "inspect", SLOT_CHECK }, { "tested", SLOT_CHECK },
	{ "measur", SLOT_CHECK }, { "investigat", SLOT_CHECK }, { "examin", SLOT_CHECK },
	{ "检查", SLOT_CHECK }, { "排查", SLOT_CHECK }, { "检测", SLOT_CHECK },
	{ "测量", SLOT_CHECK }, { "查看", SLOT_CHECK },
	/* cause */
	{ "unserviceable", SLOT_CAUSE }, { "u/s", SLOT_CAUSE },
	{ "failed", SLOT_CAUSE }, { "faulty", SLOT_CAUSE }, { "burnt", SLOT_CAUSE },
	{ "burned", SLOT_CAUSE }, { "seized", SLOT_CAUSE }, { "worn", SLOT_CAUSE },
	{ "damaged", SLOT_CAUSE }, { "blocked", SLOT_CAUSE }, { "clogged", SLOT_CAUSE },
	{ "loose", SLOT_CAUSE }, { "short circuit", SLOT_CAUSE }, { "broken", SLOT_CAUSE },
	{ "cracked", SLOT_CAUSE }, { "defective", SLOT_CAUSE }, { "dirty", SLOT_CAUSE },
	{ "low refrigerant", SLOT_CAUSE }, { "flat$", SLOT_CAUSE }, { "root cause", SLOT_CAUSE },
	{ "烧毁", SLOT_CAUSE }, { "烧坏", SLOT_CAUSE }, { "损坏", SLOT_CAUSE },
	{ "老化", SLOT_CAUSE }, { "松动", SLOT_CAUSE }, { "堵塞", SLOT_CAUSE },
	{ "卡死", SLOT_CAUSE }, { "短路", SLOT_CAUSE }, { "断路", SLOT_CAUSE },
	{ "缺氟", SLOT_CAUSE }, { "磨损", SLOT_CAUSE }, { "失效", SLOT_CAUSE },
	{ "脏堵", SLOT_CAUSE }, { "坏了", SLOT_CAUSE }, { "原因", SLOT_CAUSE },
	/* resolution */
	{ "replac", SLOT_RESOLUTION }, { "clean", SLOT_RESOLUTION }, { "reset", SLOT_RESOLUTION },
	{ "adjust", SLOT_RESOLUTION }, { "repair", SLOT_RESOLUTION }, { "tighten", SLOT_RESOLUTION },
	{ "refill", SLOT_RESOLUTION }, { "recharg", SLOT_RESOLUTION }, { "top up", SLOT_RESOLUTION },
	{ "topped up", SLOT_RESOLUTION }, { "rewir", SLOT_RESOLUTION }, { "fixed", SLOT_RESOLUTION },
	{ "install", SLOT_RESOLUTION }, { "fitted", SLOT_RESOLUTION }, { "swapped", SLOT_RESOLUTION },
	{ "changed", SLOT_RESOLUTION }, { "change out", SLOT_RESOLUTION }, { "lubricat", SLOT_RESOLUTION },
	{ "greased", SLOT_RESOLUTION }, { "flush", SLOT_RESOLUTION }, { "restart", SLOT_RESOLUTION },
	{ "calibrat", SLOT_RESOLUTION }, { "rectif", SLOT_RESOLUTION },
	{ "更换", SLOT_RESOLUTION }, { "换了", SLOT_RESOLUTION }, { "清洗", SLOT_RESOLUTION },
	{ "清理", SLOT_RESOLUTION }, { "复位", SLOT_RESOLUTION }, { "调整", SLOT_RESOLUTION },
	{ "维修", SLOT_RESOLUTION }, { "修复", SLOT_RESOLUTION }, { "紧固", SLOT_RESOLUTION },
	{ "加氟", SLOT_RESOLUTION }, { "补充", SLOT_RESOLUTION }, { "处理后正常", SLOT_RESOLUTION },
	{ "重启", SLOT_RESOLUTION }, { "安装", SLOT_RESOLUTION }, { "焊接", SLOT_RESOLUTION },
	/* a cause follows: the clause is split here */
	{ "due to", SLOT_SPLIT }, { "because", SLOT_SPLIT }, { "caused by", SLOT_SPLIT },
	{ "found", SLOT_SPLIT }, { "发现", SLOT_SPLIT }, { "原因是", SLOT_SPLIT }, { "原因为", SLOT_SPLIT }, { "原因：", SLOT_SPLIT },
	{ "由于", SLOT_SPLIT }, { "因为", SLOT_SPLIT },
};

typedef struct {
	const char *surface;  /* as written; Latin matched as whole words */
	const char *name;     /* canonical English name (kb/cases equipment set) */
	const char *prefix;   /* for "CH-2" style ids */
	const char *zh;       /* Chinese name for titles */
} equip_word;

static const equip_word equipment[] = {
	{ "chiller", "chiller", "CH", "冷机" }, { "ch", "chiller", "CH", "冷机" },
	{ "冷水机组", "chiller", "CH", "冷水机组" }, { "冷水机", "chiller", "CH", "冷水机" },
	{ "冷机", "chiller", "CH", "冷机" }, { "主机", "chiller", "CH", "主机" },
	{ "air handling unit", "air handling unit", "AHU", "空调箱" },
	{ "ahu", "air handling unit", "AHU", "空调箱" }, { "空调箱", "air handling unit", "AHU", "空调箱" },
	{ "风柜", "air handling unit", "AHU", "风柜" },
	{ "空调机组", "air handling unit", "AHU", "空调机组" },
	{ "elevator", "elevator", "EL", "电梯" }, { "lift", "elevator", "EL", "电梯" },
	{ "电梯", "elevator", "EL", "电梯" },
	{ "pump", "pump", "P", "水泵" }, { "chwp", "pump", "CHWP", "冷冻泵" },
	{ "cwp", "pump", "CWP", "冷却泵" }, { "水泵", "pump", "P", "水泵" },
	{ "冷冻泵", "pump", "CHWP", "冷冻泵" }, { "冷却泵", "pump", "CWP", "冷却泵" },
	{ "boiler", "boiler", "B", "锅炉" }, { "锅炉", "boiler", "B", "锅炉" },
	{ "switchgear", "switchgear", "SWG", "开关柜" }, { "swgr", "switchgear", "SWG", "开关柜" },
	{ "开关柜", "switchgear", "SWG", "开关柜" }, { "配电柜", "switchgear", "SWG", "配电柜" },
	{ "低压柜", "switchgear", "SWG", "低压柜" }, { "高压柜", "switchgear", "SWG", "高压柜" },
	{ "generator", "generator", "G", "发电机" }, { "genset", "generator", "G", "发电机" },
	{ "gen", "generator", "G", "发电机" }, { "dg", "generator", "DG", "柴发" },
	{ "发电机组", "generator", "G", "发电机组" }, { "发电机", "generator", "G", "发电机" },
	{ "柴发", "generator", "DG", "柴发" },
	{ "fire alarm panel", "fire alarm panel", "FAP", "火灾报警控制器" },
	{ "fire panel", "fire alarm panel", "FAP", "火灾报警控制器" },
	{ "facp", "fire alarm panel", "FACP", "火灾报警控制器" },
	{ "火灾报警控制器", "fire alarm panel", "FAP", "火灾报警控制器" },
	{ "消防主机", "fire alarm panel", "FAP", "消防主机" },
	{ "报警主机", "fire alarm panel", "FAP", "报警主机" },
	{ "cooling tower", "cooling tower", "CT", "冷却塔" }, { "ct", "cooling tower", "CT", "冷却塔" },
	{ "冷却塔", "cooling tower", "CT", "冷却塔" }, { "冷塔", "cooling tower", "CT", "冷塔" },
	{ "ups", "ups", "UPS", "UPS" }, { "不间断电源", "ups", "UPS", "UPS" },
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- small text helpers --------------------------------------------------- */

typedef struct {
	size_t start, end;
} span;

static int is_latin(const char *s)
{
	return (unsigned char)s[0] < 0x80;
}

static int word_start(const char *s, size_t i)
{
	return i == 0 || !kb__isalnum((unsigned char)s[i - 1]);
}

/* Does cue/lexicon word `w` match at s[i] (rules above)?  Its length or 0. */
static size_t word_at(const char *s, size_t len, size_t i, const char *w)
{
	size_t n;
	int whole;

	if (i >= len || kb__tolower((unsigned char)s[i]) != (unsigned char)w[0])
		return 0;               /* fast path: words are stored lower-case */
	n = strlen(w);
	whole = n && w[n - 1] == '$';

	if (whole)
		n--;
	if (n > len - i)
		return 0;
	if (!is_latin(w))
		return memcmp(s + i, w, n) ? 0 : n;
	if (!word_start(s, i) || !kb__ascii_ncaseeq(w, s + i, n))
		return 0;
	if (whole && i + n < len && kb__isalpha((unsigned char)s[i + n]))
		return 0;
	return n;
}

static size_t next_char(const char *s, size_t len, size_t i)
{
	size_t n;

	kb__utf8_decode(s, len, i, &n);
	return i + n;
}

/* Remove [sp.start, sp.end) from b. */
static void cut(kb_buf *b, span sp)
{
	memmove(b->ptr + sp.start, b->ptr + sp.end, b->len - sp.end + 1);
	b->len -= sp.end - sp.start;
}

static int is_trim_char(const char *s, size_t len, size_t i, size_t *n)
{
	int32_t cp = kb__utf8_decode(s, len, i, n);

	return kb__isspace(cp) || cp == '-' || cp == '.' || cp == ',' || cp == ';' || cp == ':' ||
	       cp == 0xFF0C || cp == 0x3002 || cp == 0xFF1B || cp == 0xFF1A || cp == 0x2014 ||
	       cp == 0x3001;
}

/* Copy s[a, b) trimmed of spaces and punctuation, inner white space
 * collapsed, into a new string (NULL when nothing is left). */
static char *clean_copy(const char *s, size_t a, size_t b)
{
	kb_buf o = KB_BUF_INIT;
	size_t n;
	int space = 0;

	while (a < b && is_trim_char(s, b, a, &n))
		a += n;
	while (b > a) {
		size_t p = b - 1;

		while (p > a && ((unsigned char)s[p] & 0xC0) == 0x80)
			p--;
		if (!is_trim_char(s, b, p, &n))
			break;
		b = p;
	}
	for (; a < b; a++) {
		if (kb__isspace((unsigned char)s[a])) {
			space = 1;
			continue;
		}
		if (space && o.len)
			kb_buf_putc(&o, ' ');
		space = 0;
		kb_buf_putc(&o, s[a]);
	}
	if (!o.len) {
		kb_buf_release(&o);
		return NULL;
	}
	return kb_buf_detach(&o);
}

static int ends_cjk(const char *s, size_t len)
{
	size_t p = len, n;

	if (!len)
		return 0;
	p--;
	while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80)
		p--;
	return kb__is_cjk(kb__utf8_decode(s, len, p, &n));
}

/* Append `part` to a slot's text, joined with ", " or "，" (when both
 * sides are Chinese).  Frees part. */
static void field_append(kb_buf *field, char *part)
{
	if (!part)
		return;
	if (field->len)
		kb_buf_puts(field, ends_cjk(field->ptr, field->len) &&
			    ends_cjk(part, strlen(part)) ? "，" : ", ");
	kb_buf_puts(field, part);
	free(part);
}

static char *field_take(kb_buf *field)
{
	char *s = field->len ? kb_buf_detach(field) : NULL;

	kb_buf_release(field);
	return s;
}

/* ---- signature ------------------------------------------------------------- */

static int name_char(const char *s, size_t len, size_t i, size_t *n)
{
	int32_t cp = kb__utf8_decode(s, len, i, n);

	return kb__isalpha(cp) || cp == ' ' || cp == '.' || (cp >= 0x4E00 && cp <= 0x9FFF);
}

static int first_cue(const char *s, size_t a, size_t b, size_t *pos, size_t *clen);

/* 1 when s[a, b) looks like a name: 1-30 bytes of letters, CJK, '.' and
 * at most two inner spaces, and no cue word or known abbreviation. */
static int looks_like_name(const char *s, size_t a, size_t b, const kb_extract_options *o)
{
	size_t i, n, pos, clen;
	int spaces = 0;

	if (a >= b || b - a > 30)
		return 0;
	for (i = a; i < b; i += n) {
		if (!name_char(s, b, i, &n))
			return 0;
		spaces += s[i] == ' ';
	}
	if (spaces > 2 || first_cue(s, a, b, &pos, &clen) >= 0)
		return 0;
	return !(o->abbrev && kb_abbrev_lookup(o->abbrev, s + a, b - a));
}

/* "记录人：李四", "维修人: 王五", "Tech: Li": a label anywhere, then a name
 * up to the end of the line. */
static span find_labelled_author(kb_extraction *x, const char *s, size_t len,
				 const kb_extract_options *o)
{
	static const char *const labels[] = { "记录人", "维修人员", "维修人", "处理人", "签名",
					      "tech:", "technician:", "engineer:" };
	span sp = { len, len };
	size_t i, k, n, st, e;

	for (i = 0; i < len; i = next_char(s, len, i)) {
		for (k = 0; k < N_ELEMS(labels); k++) {
			if (!(n = word_at(s, len, i, labels[k])))
				continue;
			st = i + n;
			if (len - st >= 3 && !memcmp(s + st, "：", 3))
				st += 3;
			else if (st < len && s[st] == ':')
				st++;
			while (st < len && s[st] == ' ')
				st++;
			for (e = st; e < len && s[e] != '\n'; e++)
				;
			while (e > st && kb__isspace((unsigned char)s[e - 1]))
				e--;
			if (looks_like_name(s, st, e, o)) {
				x->author = kb_xstrndup(s + st, e - st);
				sp.start = i;
				sp.end = e;
				return sp;
			}
		}
	}
	return sp;
}

/*
 * A signature at the end of the text: "-zhang", "- Li Wei", "--zhang",
 * "——张工", "—张工" (the dash not glued to a word before it), or "by Wang"
 * (a capitalised name).  Sets x->author and returns the span to cut
 * (start == end == len when there is none).
 */
static span find_signature(kb_extraction *x, const char *s, size_t len,
			   const kb_extract_options *o)
{
	span sp = { len, len };
	size_t end = len, i, st = 0;

	while (end > 0 && kb__isspace((unsigned char)s[end - 1]))
		end--;
	for (i = end > 40 ? end - 40 : 0; i < end; i++) {
		size_t dash = 0;

		if (s[i] == '-' && (i == 0 || !kb__isalnum((unsigned char)s[i - 1])))
			dash = (i + 1 < end && s[i + 1] == '-') ? 2 : 1;
		else if (end - i >= 3 && !memcmp(s + i, "—", 3))
			dash = (end - i >= 6 && !memcmp(s + i + 3, "—", 3)) ? 6 : 3;
		else if (end - i > 3 && (i == 0 || s[i - 1] == ' ') && !memcmp(s + i, "by ", 3) &&
			 s[i + 3] >= 'A' && s[i + 3] <= 'Z')
			dash = 3;
		if (!dash)
			continue;
		for (st = i + dash; st < end && s[st] == ' '; st++)
			;
		if (looks_like_name(s, st, end, o)) {
			sp.start = i;
			x->author = kb_xstrndup(s + st, end - st);
			return sp;
		}
		i += dash - 1;
	}
	return sp;
}

/* ---- date, site, equipment -------------------------------------------------- */

static span find_date(kb_extraction *x, const char *s, size_t len, const kb_extract_options *o)
{
	span none = { 0, 0 };
	kb__date d;
	size_t i, n;
	kb_buf b = KB_BUF_INIT;

	for (i = 0; i < len; i = next_char(s, len, i)) {
		if (!word_start(s, i) || (i > 0 && (s[i - 1] == '/' || s[i - 1] == '-' || s[i - 1] == '.')))
			continue;
		n = kb__date_parse(s + i, len - i, o->day_first, &d);
		if (!n)
			continue;
		if (!d.year)
			d.year = o->year;
		if (d.year)
			kb_buf_printf(&b, "%04d-%02d-%02d", d.year, d.month, d.day);
		else
			kb_buf_printf(&b, "%02d-%02d", d.month, d.day);
		x->date = kb_buf_detach(&b);
		x->date_text = kb_xstrndup(s + i, n);
		none.start = i;
		none.end = i + n;
		return none;
	}
	return none;
}

static const struct {
	const char *word;
	const char *name;
} site_words[] = {
	{ "plant", "Plant" }, { "plt", "Plant" }, { "building", "Building" },
	{ "bldg", "Building" }, { "blk", "Block" }, { "block", "Block" }, { "tower", "Tower" },
};

/* "plt3", "Plant 3", "Bldg 2", "Tower B": a site word, an optional space
 * and digits or one capital letter. */
static size_t site_latin(kb_extraction *x, const char *s, size_t len, size_t i)
{
	size_t k, n, j, d;
	kb_buf b = KB_BUF_INIT;

	for (k = 0; k < N_ELEMS(site_words); k++) {
		if (!(n = word_at(s, len, i, site_words[k].word)))
			continue;
		j = i + n;
		if (j < len && s[j] == ' ')
			j++;
		for (d = j; d < len && kb__isdigit((unsigned char)s[d]); d++)
			;
		if (d == j && j < len && s[j] >= 'A' && s[j] <= 'Z')
			d = j + 1;
		if (d == j || (d < len && kb__isalpha((unsigned char)s[d])))
			continue;
		kb_buf_printf(&b, "%s %.*s", site_words[k].name, (int)(d - j), s + j);
		x->site = kb_buf_detach(&b);
		return d - i;
	}
	return 0;
}

/* "3号楼", "A栋", "B座", "12号厂房": digits or capital letters, then a
 * building word. */
static size_t site_cjk(kb_extraction *x, const char *s, size_t len, size_t i)
{
	static const char *const words[] = { "号楼", "号厂房", "栋", "座", "号楼", "楼" };
	size_t j = i, k, n;

	while (j < len && (kb__isdigit((unsigned char)s[j]) || (s[j] >= 'A' && s[j] <= 'Z')))
		j++;
	if (j == i || j - i > 4 || !word_start(s, i))
		return 0;
	for (k = 0; k < N_ELEMS(words); k++) {
		n = strlen(words[k]);
		if (len - j >= n && !memcmp(s + j, words[k], n)) {
			x->site = kb_xstrndup(s + i, j + n - i);
			return j + n - i;
		}
	}
	return 0;
}

static span find_site(kb_extraction *x, const char *s, size_t len)
{
	span sp = { 0, 0 };
	size_t i, n;

	for (i = 0; i < len; i = next_char(s, len, i)) {
		n = site_latin(x, s, len, i);
		if (!n && kb__isalnum((unsigned char)s[i]))
			n = site_cjk(x, s, len, i);
		if (n) {
			sp.start = i;
			sp.end = i + n;
			return sp;
		}
	}
	return sp;
}

/* Latin id after the word: "#2", "-2", "2", " 2", " P-2", "-1A".  Bare
 * numbers get the lexicon prefix ("CH-2"); ids with letters are kept. */
static size_t id_after(const char *s, size_t len, size_t j, const equip_word *e, kb_buf *id)
{
	size_t k = j, l, d, q;

	if (k < len && s[k] == ' ')
		k++;
	for (l = k; l < len && l - k < 4 && kb__isalpha((unsigned char)s[l]); l++)
		;
	d = l;
	if (d < len && (s[d] == '#' || s[d] == '-'))
		d++;
	if (d >= len || !kb__isdigit((unsigned char)s[d]))
		return 0;
	while (d < len && kb__isalnum((unsigned char)s[d]))
		d++;
	if (l > k) {
		for (q = k; q < d; q++)
			kb_buf_putc(id, (char)kb__toupper((unsigned char)s[q]));
		return d - j;
	}
	for (q = l; q < d && !kb__isalnum((unsigned char)s[q]); q++)
		;
	if (k == j && strlen(e->surface) <= 5) {        /* "ch#2", "SWGR-1", "ahu3" */
		for (l = 0; e->surface[l]; l++)
			kb_buf_putc(id, (char)kb__toupper((unsigned char)e->surface[l]));
		kb_buf_printf(id, "-%.*s", (int)(d - q), s + q);
	} else {
		kb_buf_printf(id, "%s-%.*s", e->prefix, (int)(d - q), s + q);
	}
	return d - j;
}

/* Chinese id before the word: "2号", "1#", "B2#". */
static size_t id_before(const char *s, size_t i)
{
	size_t k = i;

	if (k >= 3 && !memcmp(s + k - 3, "号", 3))
		k -= 3;
	else if (k >= 1 && s[k - 1] == '#')
		k -= 1;
	else
		return 0;
	while (k > 0 && (kb__isdigit((unsigned char)s[k - 1]) || (s[k - 1] >= 'A' && s[k - 1] <= 'Z')))
		k--;
	return (k < i - 1 && kb__isalnum((unsigned char)s[k])) ? i - k : 0;
}

/* Longest lexicon word at s[i], NULL when none. */
static const equip_word *equip_at(const char *s, size_t len, size_t i, size_t *n)
{
	const equip_word *best = NULL;
	size_t k, m;

	*n = 0;
	for (k = 0; k < N_ELEMS(equipment); k++) {
		m = word_at(s, len, i, equipment[k].surface);
		if (!m || m <= *n)
			continue;
		if (is_latin(equipment[k].surface) && i + m < len && kb__isalpha((unsigned char)s[i + m]))
			continue;
		best = &equipment[k];
		*n = m;
	}
	return best;
}

static span find_equipment(kb_extraction *x, const char *s, size_t len)
{
	span sp = { 0, 0 };
	kb_buf id = KB_BUF_INIT;
	const equip_word *e = NULL;
	size_t i, n = 0, before;

	for (i = 0; i < len && !e; i = e ? i : next_char(s, len, i))
		e = equip_at(s, len, i, &n);
	if (!e)
		return sp;
	x->equipment = kb_xstrdup(e->name);
	x->equipment_text = kb_xstrndup(s + i, n);
	sp.start = i;
	sp.end = i + n;
	if (is_latin(e->surface)) {
		sp.end += id_after(s, len, i + n, e, &id);
	} else if ((before = id_before(s, i)) > 0) {
		sp.start -= before;
		kb_buf_put(&id, s + sp.start, sp.end - sp.start);
	}
	if (id.len)
		x->equipment_id = kb_buf_detach(&id);
	kb_buf_release(&id);
	return sp;
}

/* ---- clauses and slots -------------------------------------------------------- */

/* White space between two CJK characters separates clauses in Chinese
 * notes written without punctuation: the length of the run, or 0. */
static size_t cjk_around(const char *s, size_t len, size_t i)
{
	size_t j = i, p = i, n;

	while (j < len && kb__isspace((unsigned char)s[j]) && s[j] != '\n')
		j++;
	if (p == 0 || j >= len)
		return 0;
	p--;
	while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80)
		p--;
	if (!kb__is_cjk(kb__utf8_decode(s, len, p, &n)) || !kb__is_cjk(kb__utf8_decode(s, len, j, &n)))
		return 0;
	return j - i;
}

/* Does a clause end at s[i]?  Its separator length or 0. */
static size_t clause_break(const char *s, size_t len, size_t i)
{
	static const char *const cjk[] = { "，", "。", "；", "！", "？", "：" };
	size_t k;

	switch (s[i]) {
	case ',': case ';': case '!': case '?': case '\n':
		return 1;
	case '.':
		return (i + 1 >= len || kb__isspace((unsigned char)s[i + 1])) ? 1 : 0;
	case ' ':
		if (i + 2 < len && s[i + 1] == '-' && s[i + 2] == ' ')
			return 3;
		return cjk_around(s, len, i);
	default:
		break;
	}
	for (k = 0; k < N_ELEMS(cjk); k++)
		if (len - i >= 3 && !memcmp(s + i, cjk[k], 3))
			return 3;
	return 0;
}

/* The first cue in s[a, b) (only SLOT_SPLIT connectors when `split`):
 * its slot, position and length; -1 when none. */
static int find_cue(const char *s, size_t a, size_t b, int split, size_t *pos, size_t *clen)
{
	unsigned char first[256];
	size_t i, k, n, best;
	int slot = -1;

	memset(first, 0, sizeof(first));
	for (k = 0; k < N_ELEMS(cues); k++)
		first[(unsigned char)cues[k].cue[0]] = 1;
	for (i = a; i < b; i = next_char(s, b, i)) {
		if (!first[(unsigned char)kb__tolower((unsigned char)s[i])])
			continue;
		best = 0;
		for (k = 0; k < N_ELEMS(cues); k++) {
			if (split && cues[k].slot != SLOT_SPLIT)
				continue;
			n = word_at(s, b, i, cues[k].cue);
			if (n > best) {
				best = n;
				slot = (int)cues[k].slot;
			}
		}
		if (best) {
			*pos = i;
			*clen = best;
			return slot;
		}
	}
	return -1;
}

static int first_cue(const char *s, size_t a, size_t b, size_t *pos, size_t *clen)
{
	return find_cue(s, a, b, 0, pos, clen);
}

typedef struct {
	kb_buf text[SLOT_SPLIT];/* the clauses of each slot so far */
	int last_slot;          /* slot of the previous clause, -1 at the start */
	char *last_cause_object;/* the previous cause clause without its cue */
	char *last_check;       /* the previous clause when it was a check */
	int seen_any;
} clause_state;

static const char *const trip_objects[] = {
	"high", "low", "over", "under", "overload", "overcurrent", "earth", "phase"
};

/* "tripped high pressure" -> "tripped on high pressure". */
static char *fix_trip(char *c)
{
	size_t w = 0, k;
	kb_buf b = KB_BUF_INIT;

	if (!c || !kb__ascii_ncaseeq("trip", c, 4))
		return c;
	while (c[w] && c[w] != ' ')
		w++;
	if (!c[w])
		return c;
	for (k = 0; k < N_ELEMS(trip_objects); k++) {
		size_t n = strlen(trip_objects[k]);

		if (kb__ascii_ncaseeq(trip_objects[k], c + w + 1, n) &&
		    (c[w + 1 + n] == ' ' || c[w + 1 + n] == '\0')) {
			kb_buf_put(&b, c, w);
			kb_buf_puts(&b, " on");
			kb_buf_puts(&b, c + w);
			free(c);
			return kb_buf_detach(&b);
		}
	}
	return c;
}

static int word_count(const char *c)
{
	int n = 1;

	for (; *c; c++)
		n += *c == ' ';
	return n;
}

/* Give the clause s[a, b) to a slot. */
/* Next space-separated word of s at *p: its start, length in *n; NULL at the end. */
static const char *next_word(const char **p, size_t *n)
{
	const char *w = *p;

	while (*w == ' ')
		w++;
	if (!*w)
		return NULL;
	for (*n = 0; w[*n] && w[*n] != ' '; (*n)++)
		;
	*p = w + *n;
	return w;
}

/*
 * "fan 2 motor unserviceable" right after the check "checked condenser
 * fans" becomes "condenser fan 2 motor unserviceable": when the cause's
 * first word (or its plural) is the k-th word of the check with k >= 2,
 * the word before it qualifies the cause.  Takes and returns c.
 */
static char *qualify_from_check(char *c, const char *check)
{
	const char *p = check, *w, *prev = NULL;
	size_t fl, n, pn = 0, k = 0;
	kb_buf b = KB_BUF_INIT;

	if (!check || !is_latin(c))
		return c;
	for (fl = 0; c[fl] && c[fl] != ' '; fl++)
		;
	while ((w = next_word(&p, &n)) != NULL) {
		if (k++ >= 2 && (n == fl || (n == fl + 1 && kb__tolower((unsigned char)w[fl]) == 's')) &&
		    kb__ascii_ncaseeq(w, c, fl) && kb__isalpha((unsigned char)prev[0]) &&
		    !kb__ascii_ncaseeq(prev, c, pn)) {
			kb_buf_printf(&b, "%.*s %s", (int)pn, prev, c);
			free(c);
			return kb_buf_detach(&b);
		}
		prev = w;
		pn = n;
	}
	return c;
}

/* A bare one-word resolution after a cause takes the cause's object:
 * "replaced" -> "replaced fan 2 motor".  Takes and returns c. */
static char *complete_resolution(char *c, const clause_state *st)
{
	kb_buf b = KB_BUF_INIT;

	if (word_count(c) != 1 || !is_latin(c) || st->last_slot != SLOT_CAUSE ||
	    !st->last_cause_object)
		return c;
	kb_buf_printf(&b, "%s %s", c, st->last_cause_object);
	free(c);
	return kb_buf_detach(&b);
}

/* Remember what the next clause may need from this one. */
static void remember(clause_state *st, int slot, const char *s, size_t a, size_t end,
		     size_t pos, size_t clen, const char *c)
{
	kb_buf b = KB_BUF_INIT;

	free(st->last_cause_object);
	free(st->last_check);
	st->last_cause_object = st->last_check = NULL;
	if (slot == SLOT_CHECK && is_latin(c))
		st->last_check = kb_xstrdup(c);
	if (slot == SLOT_CAUSE && is_latin(s + pos)) {
		kb_buf_put(&b, s + a, pos - a);
		kb_buf_put(&b, s + pos + clen, end - pos - clen);
		st->last_cause_object = clean_copy(b.ptr, 0, b.len);
	}
	kb_buf_release(&b);
	st->last_slot = slot;
}

/* Give the clause s[a, end) to a slot. */
static void take_clause(clause_state *st, const char *s, size_t a, size_t end)
{
	size_t pos = 0, clen = 0;
	int slot = find_cue(s, a, end, 1, &pos, &clen);
	char *c;

	if (slot != SLOT_SPLIT)
		slot = first_cue(s, a, end, &pos, &clen);
	if (slot == SLOT_SPLIT) {
		take_clause(st, s, a, pos);
		field_append(&st->text[SLOT_CAUSE], clean_copy(s, pos + clen, end));
		st->last_slot = SLOT_CAUSE;
		return;
	}
	if (!(c = clean_copy(s, a, end)))
		return;
	if (slot < 0 && st->seen_any) {
		free(c);                /* "ok now": an outcome, kept in the original text */
		return;
	}
	if (slot < 0)
		slot = SLOT_SYMPTOM;    /* an uncued first clause describes the problem */
	st->seen_any = 1;
	if (slot == SLOT_RESOLUTION)
		c = complete_resolution(c, st);
	if (slot == SLOT_CAUSE)
		c = qualify_from_check(c, st->last_check);
	remember(st, slot, s, a, end, pos, clen, c);
	if (slot == SLOT_SYMPTOM)
		c = fix_trip(c);
	field_append(&st->text[slot], c);
}

static void take_clauses(kb_extraction *x, const char *s, size_t len)
{
	clause_state st;
	size_t i = 0, a = 0, n;

	memset(&st, 0, sizeof(st));
	st.last_slot = -1;
	for (n = 0; n < SLOT_SPLIT; n++)
		kb_buf_init(&st.text[n]);

	while (i < len) {
		n = clause_break(s, len, i);
		if (!n) {
			i = next_char(s, len, i);
			continue;
		}
		take_clause(&st, s, a, i);
		i += n;
		a = i;
	}
	take_clause(&st, s, a, len);
	free(st.last_cause_object);
	free(st.last_check);
	x->symptom = field_take(&st.text[SLOT_SYMPTOM]);
	x->checks = field_take(&st.text[SLOT_CHECK]);
	x->cause = field_take(&st.text[SLOT_CAUSE]);
	x->resolution = field_take(&st.text[SLOT_RESOLUTION]);
}

/* ---- title ------------------------------------------------------------------- */

static void cut_title(kb_buf *b, size_t max)
{
	size_t i = max;

	if (b->len <= max)
		return;
	while (i > 0 && ((unsigned char)b->ptr[i] & 0xC0) == 0x80)
		i--;
	if (is_latin(b->ptr)) {
		size_t sp = i;

		while (sp > max / 2 && b->ptr[sp] != ' ')
			sp--;
		if (b->ptr[sp] == ' ')
			i = sp;
	}
	kb_buf_truncate(b, i);
}

static void make_title(kb_extraction *x)
{
	kb_buf b = KB_BUF_INIT;
	const char *what = x->symptom ? x->symptom : x->cause ? x->cause : x->resolution;
	const equip_word *e = NULL;
	size_t k;

	for (k = 0; x->equipment && k < N_ELEMS(equipment); k++)
		if (!strcmp(equipment[k].name, x->equipment) && !e)
			e = &equipment[k];
	if (what && !is_latin(what)) {
		if (x->equipment_text && !is_latin(x->equipment_text))
			kb_buf_puts(&b, x->equipment_text);
		else if (e)
			kb_buf_puts(&b, e->zh);
		kb_buf_puts(&b, what);
	} else if (e || what) {
		if (e)
			kb_buf_printf(&b, "%c%s%s", e->name[0] == 'u' ? 'U' : e->name[0] - 32,
				      e->name[0] == 'u' ? "PS" : e->name + 1, what ? " " : "");
		if (what)
			kb_buf_puts(&b, what);
	}
	if (!b.len) {
		kb_buf_release(&b);
		return;
	}
	cut_title(&b, 80);
	x->title = kb_buf_detach(&b);
}

/* Full-width letters, digits and '#', '-', '/', '.' (typed with a Chinese
 * input method: "３号楼", "ＣＨ－２") become ASCII so the patterns see them;
 * Chinese punctuation is kept.  Works in place (the result is shorter). */
static void fold_width(kb_buf *b)
{
	size_t i = 0, o = 0, n;

	while (i < b->len) {
		int32_t cp = kb__utf8_decode(b->ptr, b->len, i, &n);
		int32_t a = cp - 0xFEE0;

		if (cp >= 0xFF01 && cp <= 0xFF5E &&
		    (kb__isalnum(a) || a == '#' || a == '-' || a == '/' || a == '.')) {
			b->ptr[o++] = (char)a;
		} else {
			memmove(b->ptr + o, b->ptr + i, n);
			o += n;
		}
		i += n;
	}
	kb_buf_truncate(b, o);
}

/* ---- the whole note --------------------------------------------------------------- */

static const kb_extract_options default_opts = KB_EXTRACT_OPTIONS_INIT;

/* Cut the found spans, last first so earlier offsets stay right. */
static void cut_spans(kb_buf *w, span *sp, size_t n)
{
	size_t i, j;

	for (i = j = 0; i < n; i++)     /* drop empty spans */
		if (sp[i].end > sp[i].start)
			sp[j++] = sp[i];
	n = j;
	for (i = 0; i < n; i++)         /* sort by start, descending */
		for (j = i + 1; j < n; j++)
			if (sp[j].start > sp[i].start) {
				span t = sp[i];
				sp[i] = sp[j];
				sp[j] = t;
			}
	for (i = 0; i < n; i++) {
		if (i > 0 && sp[i].end > sp[i - 1].start)
			sp[i].end = sp[i - 1].start;    /* overlap: keep it simple */
		if (sp[i].end > sp[i].start)
			cut(w, sp[i]);
	}
}

int kb_extract_note(kb_extraction *x, const char *text, size_t len, const kb_extract_options *opts)
{
	const kb_extract_options *o = opts ? opts : &default_opts;
	kb_buf w = KB_BUF_INIT, ex = KB_BUF_INIT;
	span sp[4];
	int rc;

	memset(x, 0, sizeof(*x));
	if ((rc = kb__utf8_require(text, len, "note")) != 0)
		return rc;
	kb_buf_put(&w, text, len);
	fold_width(&w);
	sp[0] = find_signature(x, w.ptr, w.len, o);
	kb_buf_truncate(&w, sp[0].start);
	if (!x->author) {
		sp[0] = find_labelled_author(x, w.ptr, w.len, o);
		if (sp[0].end > sp[0].start)
			cut(&w, sp[0]);
	}
	sp[0] = find_date(x, w.ptr, w.len, o);
	sp[1] = find_site(x, w.ptr, w.len);
	sp[2] = find_equipment(x, w.ptr, w.len);
	cut_spans(&w, sp, 3);
	if (o->abbrev) {
		rc = kb_abbrev_expand(&ex, o->abbrev, NULL, w.ptr, w.len, NULL);
		if (rc)
			goto done;
		kb_buf_set(&w, ex.ptr, ex.len);
	}
	take_clauses(x, w.ptr, w.len);
	make_title(x);
done:
	kb_buf_release(&w);
	kb_buf_release(&ex);
	if (rc)
		kb_extraction_release(x);
	return rc;
}

void kb_extraction_release(kb_extraction *x)
{
	free(x->date);
	free(x->date_text);
	free(x->site);
	free(x->equipment);
	free(x->equipment_text);
	free(x->equipment_id);
	free(x->title);
	free(x->symptom);
	free(x->checks);
	free(x->cause);
	free(x->resolution);
	free(x->author);
	memset(x, 0, sizeof(*x));
}

/* ---- draft cases ------------------------------------------------------------------ */

static void set_if(kb_case *c, const char *key, const char *value)
{
	if (value && *value)
		kb_case_set(c, key, value);
}

/* The original text inside a fence longer than any backtick run in it, so
 * the text stays verbatim and its own headings cannot start sections. */
static void fenced(kb_buf *b, const char *text, size_t len)
{
	size_t i, run = 0, longest = 0, k;

	for (i = 0; i < len; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	for (k = 0; k < (longest < 3 ? 3 : longest + 1); k++)
		kb_buf_putc(b, '`');
	kb_buf_puts(b, "text\n");
	kb_buf_put(b, text, len);
	if (!len || text[len - 1] != '\n')
		kb_buf_putc(b, '\n');
	for (k = 0; k < (longest < 3 ? 3 : longest + 1); k++)
		kb_buf_putc(b, '`');
}

static void resolution_body(kb_buf *b, const kb_extraction *x)
{
	if (x->checks) {
		kb_buf_puts(b, x->checks);
		if (x->resolution)
			kb_buf_puts(b, "\n\n");
	}
	if (x->resolution)
		kb_buf_puts(b, x->resolution);
}

/* Symptom, Cause, Resolution and Original text; Chinese headings (known to
 * the default aliases) when the note is Chinese. */
static void add_sections(kb_case *c, const kb_extraction *x, const char *text, size_t len,
			 kb_buf *b)
{
	const char *what = x->symptom ? x->symptom : x->title;
	int zh = what && !is_latin(what);

	if (x->symptom)
		kb_case_set_section(c, KB_SECTION_SYMPTOM, zh ? "故障现象" : NULL, x->symptom);
	if (x->cause)
		kb_case_set_section(c, KB_SECTION_CAUSE, zh ? "故障原因" : NULL, x->cause);
	kb_buf_clear(b);
	resolution_body(b, x);
	if (b->len)
		kb_case_set_section(c, KB_SECTION_RESOLUTION, zh ? "处理方法" : NULL, b->ptr);
	kb_buf_clear(b);
	fenced(b, text, len);
	kb_case_set_section(c, KB_SECTION_ORIGINAL, zh ? "原始记录" : NULL, b->ptr);
}

int kb_extract_to_case(kb_case **out, const kb_extraction *x, const char *text, size_t len,
		       const kb_extract_source *src)
{
	kb_buf b = KB_BUF_INIT;
	char hex[17];
	kb_case *c;

	*out = NULL;
	if (kb__utf8_require(text, len, "note"))
		return KB_EINPUT;
	kb_extract_hash(hex, text, len);
	if (src && src->id)
		kb_buf_puts(&b, src->id);
	else
		kb_buf_printf(&b, "draft-%.12s", hex);
	c = kb_case_new(b.ptr);
	kb_case_set(c, "title", x->title ? x->title : "Imported note");
	kb_case_set(c, "status", "draft");
	set_if(c, "equipment", x->equipment);
	set_if(c, "equipment_id", x->equipment_id);
	set_if(c, "site", x->site);
	set_if(c, "author", x->author);
	if (x->date && strlen(x->date) == 10)
		kb_case_set(c, "created", x->date);
	if (src && src->source)
		kb_case_set(c, "source", src->source);
	if (src && src->line > 0) {
		kb_buf_clear(&b);
		kb_buf_printf(&b, "%d", src->line);
		kb_case_set(c, "source_line", b.ptr);
	}
	kb_case_set(c, "source_hash", hex);
	add_sections(c, x, text, len, &b);
	kb_buf_release(&b);
	*out = c;
	return 0;
}

void kb_extract_hash(char hex[17], const char *text, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	uint64_t h = kb__fnv1a64(text, len);
	int i;

	for (i = 15; i >= 0; i--) {
		hex[i] = digits[h & 15];
		h >>= 4;
	}
	hex[16] = '\0';
}
