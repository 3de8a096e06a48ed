/*
 * pyrandom.c - CPython's Mersenne Twister (Modules/_randommodule.c) and
 * random.sample (Lib/random.py, 3.x) transcribed, for the atec convention
 * "a random.Random(42) sample of 2,000 dev queries".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kb/buf.h"
#include "pyrandom.h"

#define MT_N 624
#define MT_M 397

static void init_genrand(py_random *r, uint32_t s)
{
	int i;

	r->mt[0] = s;
	for (i = 1; i < MT_N; i++)
		r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
	r->mti = MT_N;
}

/* init_by_array with a one-word key, as random.seed(int) does for small ints. */
void py_random_seed(py_random *r, uint32_t seed)
{
	uint32_t key[1] = { seed };
	int i = 1, j = 0, k;

	init_genrand(r, 19650218u);
	for (k = MT_N; k; k--) {
		r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
		i++;
		j = 0;
		if (i >= MT_N) {
			r->mt[0] = r->mt[MT_N - 1];
			i = 1;
		}
	}
	for (k = MT_N - 1; k; k--) {
		r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
		i++;
		if (i >= MT_N) {
			r->mt[0] = r->mt[MT_N - 1];
			i = 1;
		}
	}
	r->mt[0] = 0x80000000u;
}

static void twist(py_random *r)
{
	static const uint32_t mag01[2] = { 0, 0x9908b0dfu };
	uint32_t y;
	int kk;

	for (kk = 0; kk < MT_N - MT_M; kk++) {
		y = (r->mt[kk] & 0x80000000u) | (r->mt[kk + 1] & 0x7fffffffu);
		r->mt[kk] = r->mt[kk + MT_M] ^ (y >> 1) ^ mag01[y & 1];
	}
	for (; kk < MT_N - 1; kk++) {
		y = (r->mt[kk] & 0x80000000u) | (r->mt[kk + 1] & 0x7fffffffu);
		r->mt[kk] = r->mt[kk + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 1];
	}
	y = (r->mt[MT_N - 1] & 0x80000000u) | (r->mt[0] & 0x7fffffffu);
	r->mt[MT_N - 1] = r->mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1];
	r->mti = 0;
}

static uint32_t genrand(py_random *r)
{
	uint32_t y;

	if (r->mti >= MT_N)
		twist(r);
	y = r->mt[r->mti++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680u;
	y ^= (y << 15) & 0xefc60000u;
	y ^= y >> 18;
	return y;
}

uint32_t py_random_bits(py_random *r, int k)
{
	return genrand(r) >> (32 - k);
}

uint32_t py_random_below(py_random *r, uint32_t n)
{
	int k = 0;
	uint32_t v;

	while (k < 32 && (n >> k))
		k++;
	do
		v = py_random_bits(r, k);
	while (v >= n);
	return v;
}

/* The "pool" branch of random.sample: a partial Fisher-Yates. */
static void sample_pool(py_random *r, size_t n, size_t k, size_t *out)
{
	size_t *pool = kb_xmalloc(n * sizeof(*pool)), i, j;

	for (i = 0; i < n; i++)
		pool[i] = i;
	for (i = 0; i < k; i++) {
		j = py_random_below(r, (uint32_t)(n - i));
		out[i] = pool[j];
		pool[j] = pool[n - i - 1];
	}
	free(pool);
}

/* The "set" branch: draw with rejection of indices already chosen. */
static void sample_set(py_random *r, size_t n, size_t k, size_t *out)
{
	unsigned char *seen = kb_xcalloc(n, 1);
	size_t i, j;

	for (i = 0; i < k; i++) {
		do
			j = py_random_below(r, (uint32_t)n);
		while (seen[j]);
		seen[j] = 1;
		out[i] = j;
	}
	free(seen);
}

void py_random_sample(py_random *r, size_t n, size_t k, size_t *out)
{
	size_t setsize = 21;

	if (k > 5)
		setsize += (size_t)pow(4.0, ceil(log((double)(k * 3)) / log(4.0)));
	if (n <= setsize)
		sample_pool(r, n, k, out);
	else
		sample_set(r, n, k, out);
}
