/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int t_failures, t_checks;

int t_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, t_checks, t_failures);
	return t_failures ? 1 : 0;
}

void t_random_dataset(struct softreg_dataset *ds, size_t n, size_t rows, size_t cols, size_t k, uint64_t seed,
		      bool separable)
{
	struct softreg_rng rng;
	softreg_rng_seed(&rng, seed);
	memset(ds, 0, sizeof(*ds));
	ds->n = n;
	ds->rows = rows;
	ds->cols = cols;
	ds->d = rows * cols;
	ds->pixels = malloc(n * ds->d);
	ds->labels = malloc(n);
	for (size_t i = 0; i < n; i++) {
		uint8_t y = (uint8_t)(i < k ? i : softreg_rng_below(&rng, k)); /* every class present */
		ds->labels[i] = y;
		if (y > ds->max_label)
			ds->max_label = y;
		for (size_t j = 0; j < ds->d; j++) {
			uint8_t v = (uint8_t)softreg_rng_below(&rng, separable ? 100 : 256);
			if (separable && j % k == y)
				v = (uint8_t)(v + 150);
			ds->pixels[i * ds->d + j] = v;
		}
	}
}

void t_random_floats(float *x, size_t n, float lo, float hi, uint64_t seed)
{
	struct softreg_rng rng;
	softreg_rng_seed(&rng, seed);
	for (size_t i = 0; i < n; i++)
		x[i] = lo + (hi - lo) * softreg_rng_uniform(&rng);
}

double t_compare(const float *a, const float *ref, size_t n, double atol, double rtol, size_t *where,
		 double *max_abs)
{
	double worst = 0, mabs = 0;
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		double diff = fabs((double)a[i] - (double)ref[i]);
		double r = diff / (atol + rtol * fabs((double)ref[i]));
		if (!(r <= worst)) { /* NaN counts as worst */
			worst = isnan(r) ? INFINITY : r;
			w = i;
		}
		if (diff > mabs)
			mabs = diff;
	}
	if (where)
		*where = w;
	if (max_abs)
		*max_abs = mabs;
	return worst;
}

const char *t_mnist_dir(void)
{
	const char *d = getenv("SOFTREG_TEST_DATA");
	if (!d)
		d = "data/mnist";
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/train-images-idx3-ubyte.gz", d);
	if (stat(p, &st) == 0)
		return d;
	snprintf(p, sizeof(p), "%s/train-images-idx3-ubyte", d);
	return stat(p, &st) == 0 ? d : NULL;
}
