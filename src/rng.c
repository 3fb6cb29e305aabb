/* SPDX-License-Identifier: MIT
 * rng.c: xoshiro256** (Blackman & Vigna), seeded through splitmix64. Small,
 * fast, and its whole state (4 words) fits in a checkpoint. */
#include "internal.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void softreg_rng_seed(struct softreg_rng *rng, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t softreg_rng_next(struct softreg_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Lemire's multiply-and-reject: unbiased, one multiply in the common case. */
uint64_t softreg_rng_below(struct softreg_rng *rng, uint64_t bound)
{
	unsigned __int128 p = (unsigned __int128)softreg_rng_next(rng) * bound;
	uint64_t low = (uint64_t)p;
	if (low < bound) {
		uint64_t threshold = -bound % bound;
		while (low < threshold) {
			p = (unsigned __int128)softreg_rng_next(rng) * bound;
			low = (uint64_t)p;
		}
	}
	return (uint64_t)(p >> 64);
}

float softreg_rng_uniform(struct softreg_rng *rng)
{
	return (float)(softreg_rng_next(rng) >> 40) * 0x1.0p-24f;
}

void softreg_shuffle(struct softreg_rng *rng, uint32_t *perm, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)softreg_rng_below(rng, i);
		uint32_t t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}
