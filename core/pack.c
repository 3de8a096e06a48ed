/*
 * pack.c - a git pack written without delta search, for kb_txn's bulk mode
 * (pack_internal.h): each object is zlib-deflated into a memory buffer as it
 * is added; writing prepends the pack header, appends the SHA-1 trailer and
 * hands the stream to libgit2's indexer (git_odb_write_pack), which stores
 * the .pack and its .idx.  libgit2's packbuilder spends most of an import
 * of 50 KB records searching for deltas between unrelated drafts.
 */
#include <string.h>
#include <zlib.h>

#include "kb/error.h"
#include "pack_internal.h"

/* ---- SHA-1 (FIPS 180-4), for the pack trailer ----------------------------- */

typedef struct {
	uint32_t h[5];
	uint64_t len;         /* bytes hashed */
	unsigned char block[64];
	size_t used;          /* bytes in block */
} sha1_ctx;

static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(sha1_ctx *c, const unsigned char *p)
{
	uint32_t w[80], a = c->h[0], b = c->h[1], d = c->h[3], e = c->h[4], cc = c->h[2], f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & cc) | (~b & d), k = 0x5A827999;
		else if (i < 40)
			f = b ^ cc ^ d, k = 0x6ED9EBA1;
		else if (i < 60)
			f = (b & cc) | (b & d) | (cc & d), k = 0x8F1BBCDC;
		else
			f = b ^ cc ^ d, k = 0xCA62C1D6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = rol(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d, c->h[4] += e;
}

static void sha1_init(sha1_ctx *c)
{
	static const uint32_t h0[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
					0xC3D2E1F0 };

	memcpy(c->h, h0, sizeof(h0));
	c->len = 0;
	c->used = 0;
}

static void sha1_update(sha1_ctx *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t take;

	c->len += n;
	while (n > 0) {
		take = 64 - c->used < n ? 64 - c->used : n;
		memcpy(c->block + c->used, p, take);
		c->used += take, p += take, n -= take;
		if (c->used == 64) {
			sha1_block(c, c->block);
			c->used = 0;
		}
	}
}

static void sha1_final(sha1_ctx *c, unsigned char out[20])
{
	unsigned char pad[72] = { 0x80 };
	uint64_t bits = c->len * 8;
	size_t npad = (c->used < 56 ? 56 : 120) - c->used;
	int i;

	for (i = 0; i < 8; i++)
		pad[npad + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(c, pad, npad + 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* ---- the pack ------------------------------------------------------------- */

int kb__pack_add(kb__pack *p, git_object_t type, const void *data, size_t len)
{
	unsigned char hdr[16];
	size_t n = 0, size = len;
	uLongf zlen;

	hdr[n] = (unsigned char)((type << 4) | (size & 15));
	for (size >>= 4; size; size >>= 7) {
		hdr[n++] |= 0x80;
		hdr[n] = (unsigned char)(size & 0x7f);
	}
	kb_buf_put(&p->body, hdr, n + 1);
	zlen = compressBound((uLong)len);
	kb_buf_grow(&p->body, (size_t)zlen);
	if (compress2((Bytef *)p->body.ptr + p->body.len, &zlen, data, (uLong)len, 1) != Z_OK) {
		kb_buf_truncate(&p->body, p->body.len - n - 1);
		return kb_error_set(KB_ERROR, NULL, 0, "cannot compress an object for a pack");
	}
	p->body.len += zlen;
	p->body.ptr[p->body.len] = '\0';
	p->count++;
	return 0;
}

int kb__pack_write(kb__pack *p, git_repository *repo)
{
	unsigned char hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 }, sum[20];
	git_odb *odb = NULL;
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats;
	sha1_ctx c;
	int err;

	if (!p->count)
		return 0;
	hdr[8] = (unsigned char)(p->count >> 24), hdr[9] = (unsigned char)(p->count >> 16);
	hdr[10] = (unsigned char)(p->count >> 8), hdr[11] = (unsigned char)p->count;
	sha1_init(&c);
	sha1_update(&c, hdr, sizeof(hdr));
	sha1_update(&c, p->body.ptr, p->body.len);
	sha1_final(&c, sum);
	memset(&stats, 0, sizeof(stats));
	if ((err = git_repository_odb(&odb, repo)) == 0 &&
	    (err = git_odb_write_pack(&wp, odb, NULL, NULL)) == 0 &&
	    (err = wp->append(wp, hdr, sizeof(hdr), &stats)) == 0 &&
	    (err = wp->append(wp, p->body.ptr, p->body.len, &stats)) == 0 &&
	    (err = wp->append(wp, sum, sizeof(sum), &stats)) == 0)
		err = wp->commit(wp, &stats);
	if (wp)
		wp->free(wp);
	git_odb_free(odb);
	kb_buf_clear(&p->body);
	p->count = 0;
	return err;
}

void kb__pack_release(kb__pack *p)
{
	kb_buf_release(&p->body);
	p->count = 0;
}
