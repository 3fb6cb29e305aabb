/* SPDX-License-Identifier: MIT
 * testutil.h: checks that count failures, synthetic data, comparisons. */
#ifndef SOFTREG_TESTUTIL_H
#define SOFTREG_TESTUTIL_H

#include "softreg.h"

#include <stdbool.h>
#include <stdio.h>

extern int t_failures, t_checks;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		t_checks++;                                                                \
		if (!(cond)) {                                                             \
			t_failures++;                                                      \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
		}                                                                          \
	} while (0)

/* print the totals; the exit status of a test's main */
int t_done(const char *name);

/* a dataset of n images rows x cols with labels in [0, k): pixels uniform, or
 * (separable) class c brightens the pixels of its own stripe */
void t_random_dataset(struct softreg_dataset *ds, size_t n, size_t rows, size_t cols, size_t k,
		      uint64_t seed, bool separable);

/* 'src' (uint8) as a data set of another source kind, of the features
 * preprocessed by 'm' (so a model with identity preprocessing sees the same
 * floats): float32, float16 (rounded) or CSR (the nonzeros). It shares
 * labels and y with 'src'; free it with t_free_view(). */
void t_convert_dataset(const struct softreg_dataset *src, const struct softreg_model *m,
		       enum softreg_source_kind kind, struct softreg_dataset *out);
void t_free_view(struct softreg_dataset *ds);

/* fill x with uniform values in [lo, hi) */
void t_random_floats(float *x, size_t n, float lo, float hi, uint64_t seed);

/* max |a - b| / (atol + rtol |b|) over n values, and where: <= 1 passes */
double t_compare(const float *a, const float *ref, size_t n, double atol, double rtol, size_t *where,
		 double *max_abs);

/* the uint8 features of a data set read from IDX */
#define T_PIXELS(ds) ((const uint8_t *)(ds)->x.data)
/* map labels to classes 0..max (IDX data); exits on failure; returns k */
size_t t_map_identity(struct softreg_dataset *ds);
/* the labels as bytes (for writing IDX files): a new buffer */
uint8_t *t_label_bytes(const struct softreg_dataset *ds);

/* the MNIST folder of the tests, or NULL when absent */
const char *t_mnist_dir(void);

#endif
