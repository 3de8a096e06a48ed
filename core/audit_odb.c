/*
 * audit_odb.c - reading trees and blobs for the audit's history walk
 * straight from the repository's pack files.  Each pack and its index
 * (version 2) are mapped; a delta is resolved through a cache of the objects
 * built last, keyed by pack offset, that keeps every object of a chain, so
 * reading the versions of one tree in history order inflates about one
 * delta per version (libgit2 1.5 keeps only the base of a chain and
 * re-applies the whole chain each time: 3-4x the cost of git on a long
 * history).  An object this reader cannot find or read (loose, in an
 * alternate, an index of another version, a damaged entry) is read through
 * libgit2 instead, so the result never depends on the path taken.  One
 * reader per thread.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "audit_internal.h"

/* A mapped pack and its index. */
typedef struct {
	const unsigned char *idx, *pack;
	size_t idx_len, pack_len;
	uint32_t n;                 /* objects */
	const unsigned char *fan, *ids, *off32, *off64;
	size_t n64;                 /* entries of the 64-bit offset table */
	uint64_t *keys;             /* the first 8 bytes of each id, in order */
} pack_map;

/* One cached object: slot chosen by (pack, offset). */
typedef struct {
	size_t pack;                /* pack index + 1; 0: empty */
	uint64_t off;
	int type;
	unsigned char *data;
	size_t len, cap;
} cache_slot;

#define CACHE_SLOTS 16384             /* a power of two */
#define CACHE_BYTES ((size_t)128 << 20) /* data held at most, per reader */
#define MAX_CHAIN 10000               /* longer delta chains: read by libgit2 */

struct kb__odb {
	git_odb *odb;               /* fallback */
	pack_map *packs;
	size_t npacks, last;
	cache_slot *slots;
	size_t cached;              /* bytes of data held by slots */
	z_stream z;
	int zready;
	kb_buf delta;               /* an inflated delta */
	unsigned char *spare;       /* a buffer for the next object built */
	size_t spare_cap;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The spare buffer, with room for `len` bytes and a NUL: objects are built
 * in it and then swapped with the cache slot they go to, so a walk in
 * steady state allocates nothing. */
static unsigned char *spare(kb__odb *r, size_t len)
{
	if (r->spare_cap < len + 1) {
		r->spare_cap = len + 1 > 2 * r->spare_cap ? len + 1 : 2 * r->spare_cap;
		r->spare = kb_xrealloc(r->spare, r->spare_cap);
	}
	return r->spare;
}

/* Map a whole file read-only; `populate`: its pages mapped now (the
 * index: read at random, page faults cost more than mapping it all). */
static void *map_file(const char *path, size_t *len, int populate)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size < 32) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0),
		 fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*len = (size_t)st.st_size;
	return p;
}

static void unmap(pack_map *m)
{
	free(m->keys);
	if (m->idx)
		munmap((void *)m->idx, m->idx_len);
	if (m->pack)
		munmap((void *)m->pack, m->pack_len);
	memset(m, 0, sizeof(*m));
}

/*
 * The first 8 bytes of each of the n ids, as numbers: the lookups probe
 * these (8 to a cache line, 2 MiB pages where the kernel gives them)
 * rather than the index's 20-byte ids spread over 4 KiB pages, where
 * each probe was a TLB and a cache miss (12% of a 300,000-commit walk).
 */
static uint64_t *id_keys(const unsigned char *ids, uint32_t n)
{
	size_t bytes = ((size_t)n * 8 + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	void *mem = NULL;
	uint64_t *k;
	uint32_t i;

	if (n && posix_memalign(&mem, (size_t)2 << 20, bytes) == 0) {
#ifdef MADV_HUGEPAGE
		madvise(mem, bytes, MADV_HUGEPAGE);
#endif
	} else {
		mem = kb_xmalloc(n ? (size_t)n * 8 : 8);
	}
	k = mem;
	for (i = 0; i < n; i++)
		k[i] = be64(ids + (size_t)i * 20);
	return k;
}

/* Map `idx` (a version 2 index) and the pack beside it; -1 when either is
 * missing or not what it should be (the pack is then left to libgit2). */
static int map_pack(pack_map *m, const char *idx)
{
	kb_buf pack = KB_BUF_INIT;
	size_t fixed;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (!(m->idx = map_file(idx, &m->idx_len, 1)))
		goto done;
	if (m->idx_len < 8 + 1024 + 40 || memcmp(m->idx, "\377tOc", 4) || be32(m->idx + 4) != 2)
		goto done;
	m->fan = m->idx + 8;
	m->n = be32(m->fan + 4 * 255);
	fixed = 8 + 1024 + (size_t)m->n * 28 + 40;
	if (m->idx_len < fixed || (m->idx_len - fixed) % 8)
		goto done;
	m->ids = m->fan + 1024;
	m->off32 = m->ids + (size_t)m->n * 24;   /* after the ids and the CRCs */
	m->off64 = m->off32 + (size_t)m->n * 4;
	m->n64 = (m->idx_len - fixed) / 8;
	kb_buf_put(&pack, idx, strlen(idx) - 4);
	kb_buf_puts(&pack, ".pack");
	if (!(m->pack = map_file(pack.ptr, &m->pack_len, 0)))
		goto done;
	if (memcmp(m->pack, "PACK", 4) || (be32(m->pack + 4) != 2 && be32(m->pack + 4) != 3) ||
	    be32(m->pack + 8) != m->n)
		goto done;
	m->keys = id_keys(m->ids, m->n);
	rc = 0;
done:
	if (rc < 0)
		unmap(m);
	kb_buf_release(&pack);
	return rc;
}

int kb__odb_open(kb__odb **out, git_repository *repo)
{
	kb__odb *r = kb_xcalloc(1, sizeof(*r));
	kb_buf dir = KB_BUF_INIT, idx = KB_BUF_INIT;
	struct dirent *de;
	DIR *d;
	size_t n;

	*out = NULL;
	if (git_repository_odb(&r->odb, repo) < 0) {
		free(r);
		return -1;
	}
	r->slots = kb_xcalloc(CACHE_SLOTS, sizeof(*r->slots));
	kb_buf_printf(&dir, "%sobjects/pack/", git_repository_commondir(repo));
	if ((d = opendir(dir.ptr)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			n = strlen(de->d_name);
			if (n < 5 || strcmp(de->d_name + n - 4, ".idx"))
				continue;
			kb_buf_clear(&idx);
			kb_buf_printf(&idx, "%s%s", dir.ptr, de->d_name);
			r->packs = kb_xrealloc(r->packs, (r->npacks + 1) * sizeof(*r->packs));
			if (map_pack(&r->packs[r->npacks], idx.ptr) == 0)
				r->npacks++;
		}
		closedir(d);
	}
	kb_buf_release(&dir);
	kb_buf_release(&idx);
	*out = r;
	return 0;
}

static void cache_clear(kb__odb *r)
{
	size_t i;

	for (i = 0; i < CACHE_SLOTS; i++) {
		free(r->slots[i].data);
		memset(&r->slots[i], 0, sizeof(r->slots[i]));
	}
	r->cached = 0;
	free(r->spare);
	r->spare = NULL;
	r->spare_cap = 0;
}

void kb__odb_free(kb__odb *r)
{
	size_t i;

	if (!r)
		return;
	cache_clear(r);
	free(r->slots);
	for (i = 0; i < r->npacks; i++)
		unmap(&r->packs[i]);
	free(r->packs);
	if (r->zready)
		inflateEnd(&r->z);
	kb_buf_release(&r->delta);
	git_odb_free(r->odb);
	free(r);
}

/*
 * Offset of object `id` in pack `m`; 0 when absent (no object is at 0).
 * Ids are uniformly spread, so each probe is interpolated from the first 8
 * bytes between the keys bounding the range (the fan-out byte's bounds at
 * first, then the keys probed): 2-3 probes, each a likely cache miss,
 * instead of ~20 for a binary search over 1.8 million ids.
 */
static uint64_t find_in(const pack_map *m, const unsigned char *id)
{
	uint32_t lo = id[0] ? be32(m->fan + 4 * (id[0] - 1)) : 0, hi = be32(m->fan + 4 * id[0]);
	uint32_t mid = 0, off;
	uint64_t key = be64(id), klo = (uint64_t)id[0] << 56, khi = klo | 0x00ffffffffffffffu, k;
	int c;

	if (hi > m->n || lo > hi)
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (hi - lo > 8 && khi > klo && key >= klo && key <= khi)
			mid = lo + (uint32_t)((double)(key - klo) / (double)(khi - klo) *
					      (double)(hi - 1 - lo));
		k = m->keys[mid];
		c = k < key ? -1 : k > key ? 1 : memcmp(m->ids + (size_t)mid * 20, id, 20);
		if (c == 0)
			break;
		if (c < 0) {
			lo = mid + 1;
			klo = k;
		} else {
			hi = mid;
			khi = k;
		}
	}
	if (lo >= hi)
		return 0;
	off = be32(m->off32 + (size_t)mid * 4);
	if (!(off & 0x80000000u))
		return off;
	if ((off & 0x7fffffffu) >= m->n64)
		return 0;
	return be64(m->off64 + (size_t)(off & 0x7fffffffu) * 8);
}

/* The pack holding `id` (first the one that held the last object) into
 * *pack and its offset into *off; 0 when no pack has it. */
static int find(kb__odb *r, const unsigned char *id, size_t *pack, uint64_t *off)
{
	size_t i, p;

	for (i = 0; i < r->npacks; i++) {
		p = (r->last + i) % r->npacks;
		if ((*off = find_in(&r->packs[p], id)) != 0) {
			*pack = p;
			r->last = p;
			return 1;
		}
	}
	return 0;
}

/* Inflate the zlib stream at `src` (up to `avail` bytes) into exactly
 * `len` bytes at `dst`; -1 when it is not that. */
static int inflate_exact(kb__odb *r, const unsigned char *src, size_t avail, unsigned char *dst,
			 size_t len)
{
	int zr;

	/* a raw inflate after the 2-byte zlib header: the Adler-32 trailer
	 * is not checked (2% of the walk); a damaged stream still fails on
	 * its deflate structure or its length, and falls back to libgit2 */
	if (avail < 2 || (src[0] & 0x0f) != 8 || (src[1] & 0x20) || ((src[0] << 8) | src[1]) % 31)
		return -1;
	src += 2;
	avail -= 2;
	if (!r->zready) {
		memset(&r->z, 0, sizeof(r->z));
		if (inflateInit2(&r->z, -15) != Z_OK)
			return -1;
		r->zready = 1;
	} else if (inflateReset(&r->z) != Z_OK) {
		return -1;
	}
	r->z.next_in = (unsigned char *)src;
	r->z.avail_in = avail > UINT32_MAX ? UINT32_MAX : (uInt)avail;
	r->z.next_out = dst;
	r->z.avail_out = (uInt)len;
	zr = inflate(&r->z, Z_FINISH);
	if (len == 0 && zr == Z_BUF_ERROR)   /* an empty object: one more call ends it */
		zr = inflate(&r->z, Z_FINISH);
	return zr == Z_STREAM_END && r->z.total_out == len ? 0 : -1;
}

/* A delta's variable-length size. */
static int delta_size(const unsigned char **p, const unsigned char *end, size_t *out)
{
	size_t v = 0;
	unsigned shift = 0;
	unsigned char c;

	do {
		if (*p >= end || shift > 56)
			return -1;
		c = *(*p)++;
		v |= (size_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	*out = v;
	return 0;
}

/* Apply the delta d..end to `base` into the spare buffer (returned). */
static unsigned char *apply_delta(kb__odb *r, const unsigned char *base, size_t blen,
				  const unsigned char *d, const unsigned char *end, size_t *outlen)
{
	size_t slen, dlen, w = 0, o, n;
	unsigned char *out, op;
	int i;

	if (delta_size(&d, end, &slen) < 0 || slen != blen || delta_size(&d, end, &dlen) < 0 ||
	    dlen > ((size_t)1 << 40))
		return NULL;
	out = spare(r, dlen);
	while (d < end) {
		op = *d++;
		if (op & 0x80) {
			o = n = 0;
			for (i = 0; i < 4; i++)
				if (op & (1 << i)) {
					if (d >= end)
						goto bad;
					o |= (size_t)*d++ << (8 * i);
				}
			for (i = 0; i < 3; i++)
				if (op & (0x10 << i)) {
					if (d >= end)
						goto bad;
					n |= (size_t)*d++ << (8 * i);
				}
			if (!n)
				n = 0x10000;
			if (o > blen || n > blen - o || n > dlen - w)
				goto bad;
			memcpy(out + w, base + o, n);
		} else if (op) {
			n = op;
			if (n > (size_t)(end - d) || n > dlen - w)
				goto bad;
			memcpy(out + w, d, n);
			d += n;
		} else {
			goto bad;
		}
		w += n;
	}
	if (w != dlen)
		goto bad;
	out[dlen] = 0;
	*outlen = dlen;
	return out;
bad:
	return NULL;
}

/* Keep the object built in the spare buffer: it goes to its slot, whose
 * old buffer becomes the spare one.  When the cache holds too much it is
 * emptied first (the spare buffer kept).  The slot's data. */
static const unsigned char *cache_put(kb__odb *r, size_t pack, uint64_t off, int type,
				      size_t len)
{
	cache_slot *s = &r->slots[(size_t)((off * 0x9E3779B97F4A7C15ull) >> 40 ^ pack) &
				  (CACHE_SLOTS - 1)];
	unsigned char *old = s->data, *data = r->spare;
	size_t cap = r->spare_cap, old_cap = old ? s->cap : 0;

	s->data = NULL;
	r->cached -= old_cap;
	r->spare = NULL;
	if (r->cached + cap > CACHE_BYTES)
		cache_clear(r);
	r->spare = old;
	r->spare_cap = old_cap;
	s->pack = pack + 1;
	s->off = off;
	s->type = type;
	s->data = data;
	s->len = len;
	s->cap = cap;
	r->cached += cap;
	return data;
}

static const cache_slot *cache_get(kb__odb *r, size_t pack, uint64_t off)
{
	const cache_slot *s = &r->slots[(size_t)((off * 0x9E3779B97F4A7C15ull) >> 40 ^ pack) &
					(CACHE_SLOTS - 1)];

	return s->data && s->pack == pack + 1 && s->off == off ? s : NULL;
}

/*
 * The object at `off` in pack `p`, built from its delta chain, into *type,
 * *data, *len: a pointer into the cache, valid until the next call.  -1
 * when the entry cannot be read here (unknown type, a base outside this
 * reader, a damaged stream, a chain longer than MAX_CHAIN).
 */
static int unpack(kb__odb *r, size_t p, uint64_t off, int depth, int *type,
		  const unsigned char **data, size_t *len)
{
	const pack_map *m = &r->packs[p];
	const unsigned char *e, *end = m->pack + m->pack_len - 20, *bdata;
	const cache_slot *s;
	unsigned char c, *obj;
	uint64_t size, ofs, boff;
	unsigned shift = 4;
	size_t blen, bpack = p;
	int t, btype;

	if ((s = cache_get(r, p, off)) != NULL) {
		*type = s->type, *data = s->data, *len = s->len;
		return 0;
	}
	if (depth > MAX_CHAIN || off < 12 || off >= (uint64_t)(end - m->pack))
		return -1;
	e = m->pack + off;
	c = *e++;
	t = (c >> 4) & 7;
	size = c & 15;
	while (c & 0x80) {
		if (e >= end || shift > 57)
			return -1;
		c = *e++;
		size |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	}
	if (size > ((uint64_t)1 << 40))
		return -1;
	if (t >= 1 && t <= 4) {
		obj = spare(r, (size_t)size);
		if (inflate_exact(r, e, (size_t)(end - e), obj, (size_t)size) < 0)
			return -1;
		obj[size] = 0;
		*type = t, *len = (size_t)size;
		*data = cache_put(r, p, off, t, (size_t)size);
		return 0;
	}
	if (t == 6) {           /* OFS_DELTA: base at a negative offset */
		if (e >= end)
			return -1;
		c = *e++;
		ofs = c & 127;
		while (c & 128) {
			if (e >= end || ofs > ((uint64_t)1 << 56))
				return -1;
			c = *e++;
			ofs = ((ofs + 1) << 7) + (c & 127);
		}
		if (ofs == 0 || ofs > off)
			return -1;
		boff = off - ofs;
	} else if (t == 7) {    /* REF_DELTA: base by id */
		if (end - e < 20 || !find(r, e, &bpack, &boff))
			return -1;
		e += 20;
	} else {
		return -1;
	}
	/* the base first: building it reuses r->delta; its data stays in the
	 * cache until the next cache_put() */
	if (unpack(r, bpack, boff, depth + 1, &btype, &bdata, &blen) < 0)
		return -1;
	kb_buf_clear(&r->delta);
	kb_buf_grow(&r->delta, (size_t)size + 1);
	if (inflate_exact(r, e, (size_t)(end - e), (unsigned char *)r->delta.ptr, (size_t)size) < 0)
		return -1;
	r->delta.len = (size_t)size;
	if (!apply_delta(r, bdata, blen, (const unsigned char *)r->delta.ptr,
			 (const unsigned char *)r->delta.ptr + size, len))
		return -1;
	*type = btype;
	*data = cache_put(r, p, off, btype, *len);
	return 0;
}

int kb__odb_read(kb_buf *out, git_object_t *type, kb__odb *r, const git_oid *id)
{
	const unsigned char *data;
	git_odb_object *o = NULL;
	uint64_t off;
	size_t p, len;
	int t;

	if (find(r, id->id, &p, &off) && unpack(r, p, off, 0, &t, &data, &len) == 0) {
		kb_buf_set(out, data, len);
		*type = (git_object_t)t;
		return 0;
	}
	if (git_odb_read(&o, r->odb, id) < 0) {
		git_error_clear();
		return -1;
	}
	kb_buf_set(out, git_odb_object_data(o), git_odb_object_size(o));
	*type = git_odb_object_type(o);
	git_odb_object_free(o);
	return 0;
}
