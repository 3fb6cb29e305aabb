/* SPDX-License-Identifier: MIT
 * solver_test.h: helpers of the solver tests: checks that count failures,
 * and tiny synthetic image sets generated in the test (no files needed). */
#ifndef SOLVER_TEST_H
#define SOLVER_TEST_H

#include "softreg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

/* CHECK(cond, fmt, ...): print the failed condition, where, and why; go on */
#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond);  \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
			failures++;                                                       \
		}                                                                         \
	} while (0)

/* fail and exit at once when a setup step fails */
#define REQUIRE(cond, ...)                                                                \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: setup failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
			exit(1);                                                          \
		}                                                                         \
	} while (0)

/*
 * A synthetic set of n images of rows x cols pixels and k classes: class c has
 * a random template; an image is its class's template plus uniform noise of
 * +-'noise' grey levels, clamped to [0, 255]. The first 'const_cols' columns of
 * every image are 0 (zero-variance features, like MNIST's border). Labels are
 * drawn uniformly. The same seed gives the same set.
 */
#define T_PX(ds) ((const uint8_t *)(ds)->x.data)

static inline void synth_dataset(struct softreg_dataset *ds, size_t n, size_t rows, size_t cols, size_t k, int noise,
			  size_t const_cols, uint64_t seed)
{
	struct softreg_rng rng;
	softreg_rng_seed(&rng, seed);
	size_t d = rows * cols;
	memset(ds, 0, sizeof(*ds));
	ds->n = n, ds->rows = rows, ds->cols = cols, ds->d = d;
	uint8_t *px = malloc(n * d);
	ds->labels = malloc(n * sizeof(int64_t));
	ds->y = malloc(n * sizeof(uint32_t));
	int *tmpl = malloc(k * d * sizeof(int));
	REQUIRE(px && ds->labels && ds->y && tmpl, "out of memory");
	ds->mem_[0] = px;
	ds->mem_[1] = ds->labels;
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_U8, .n = n, .d = d, .data = px};
	for (size_t j = 0; j < k * d; j++)
		tmpl[j] = (int)softreg_rng_below(&rng, 256);
	for (size_t i = 0; i < n; i++) {
		size_t c = (size_t)softreg_rng_below(&rng, k);
		ds->labels[i] = (int64_t)c;
		ds->y[i] = (uint32_t)c;
		for (size_t j = 0; j < d; j++) {
			int v = tmpl[c * d + j] + (int)softreg_rng_below(&rng, 2 * (uint64_t)noise + 1) - noise;
			v = v < 0 ? 0 : v > 255 ? 255 : v;
			px[i * d + j] = j % cols < const_cols ? 0 : (uint8_t)v;
		}
	}
	free(tmpl);
}

static inline int finish(const char *name)
{
	if (failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif
