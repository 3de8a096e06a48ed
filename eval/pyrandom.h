/*
 * pyrandom.h - Python's random.Random(seed).sample() reproduced exactly in C
 * (MT19937 seeded through init_by_array, _randbelow by rejection), so the
 * evaluation can draw the same query sample as the data sets' Python tools.
 */
#ifndef EVAL_PYRANDOM_H
#define EVAL_PYRANDOM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t mt[624];
	int mti;
} py_random;

/* random.Random(seed) for a non-negative seed below 2^32. */
void py_random_seed(py_random *r, uint32_t seed);
/* random.getrandbits(k) for 1 <= k <= 32. */
uint32_t py_random_bits(py_random *r, int k);
/* random._randbelow(n) for 1 <= n < 2^32. */
uint32_t py_random_below(py_random *r, uint32_t n);
/*
 * random.sample(range(n), k) into out[0..k-1] (k <= n): the indices Python
 * would pick, in the order it picks them.
 */
void py_random_sample(py_random *r, size_t n, size_t k, size_t *out);

#endif
