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
	uint8_t *px = malloc(n * ds->d);
	ds->labels = malloc(n * sizeof(int64_t));
	ds->y = malloc(n * sizeof(uint32_t));
	if (!px || !ds->labels || !ds->y) {
		fprintf(stderr, "t_random_dataset: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t y = (uint32_t)(i < k ? i : softreg_rng_below(&rng, k)); /* every class present */
		ds->labels[i] = y;
		ds->y[i] = y;
		for (size_t j = 0; j < ds->d; j++) {
			uint8_t v = (uint8_t)softreg_rng_below(&rng, separable ? 100 : 256);
			if (separable && j % k == y)
				v = (uint8_t)(v + 150);
			px[i * ds->d + j] = v;
		}
	}
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_U8, .n = n, .d = ds->d, .data = px};
	ds->mem_[0] = px;
	ds->mem_[1] = ds->labels;
}

/* IEEE binary16 of a float (round to nearest even; no subnormal care needed
 * for the tests' values) */
static uint16_t f32_to_f16(float f)
{
	uint32_t b;
	memcpy(&b, &f, 4);
	uint32_t sign = b >> 16 & 0x8000, exp = b >> 23 & 0xff, man = b & 0x7fffff;
	if (exp == 0xff)
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
	int e = (int)exp - 127 + 15;
	if (e >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (e <= 0) { /* subnormal or zero in half */
		if (e < -10)
			return (uint16_t)sign;
		man |= 0x800000;
		uint32_t shift = (uint32_t)(14 - e), h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
		if (rem > half || (rem == half && (h & 1)))
			h++;
		return (uint16_t)(sign | h);
	}
	uint32_t h = (uint32_t)e << 10 | man >> 13, rem = man & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
		h++;
	return (uint16_t)(sign | h);
}

void t_convert_dataset(const struct softreg_dataset *src, const struct softreg_model *m,
		       enum softreg_source_kind kind, struct softreg_dataset *out)
{
	size_t n = src->n, d = src->d;
	memset(out, 0, sizeof(*out));
	*out = softreg_dataset_rows(src, 0, n); /* shares labels and y */
	if (kind == SOFTREG_SOURCE_U8)
		return; /* the rows themselves */
	float *X = malloc(n * d * sizeof(float));
	if (!X) {
		fprintf(stderr, "t_convert_dataset: out of memory\n");
		exit(1);
	}
	struct softreg_batch b = {.src = &src->x, .m = n};
	softreg_gather(m, &b, X);
	out->x.kind = kind;
	if (kind == SOFTREG_SOURCE_F32) {
		out->x.data = X;
		out->mem_[0] = X;
		return;
	}
	if (kind == SOFTREG_SOURCE_F16) {
		uint16_t *h = malloc(n * d * sizeof(uint16_t));
		for (size_t i = 0; i < n * d; i++)
			h[i] = f32_to_f16(X[i]);
		free(X);
		out->x.data = h;
		out->mem_[0] = h;
		return;
	}
	/* CSR of the nonzeros */
	uint64_t *indptr = malloc((n + 1) * sizeof(uint64_t));
	uint32_t *idx = malloc(n * d * sizeof(uint32_t));
	float *val = malloc(n * d * sizeof(float));
	size_t nnz = 0;
	indptr[0] = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d; j++)
			if (X[i * d + j] != 0.0f) {
				idx[nnz] = (uint32_t)j;
				val[nnz++] = X[i * d + j];
			}
		indptr[i + 1] = nnz;
	}
	free(X);
	out->x.data = NULL;
	out->x.indptr = indptr;
	out->x.indices = idx;
	out->x.values = val;
	out->mem_[0] = indptr;
	out->mem_[1] = idx;
	out->mem_[2] = val;
}

void t_free_view(struct softreg_dataset *ds)
{
	ds->y = NULL; /* shared with the source data set */
	softreg_dataset_free(ds);
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

size_t t_map_identity(struct softreg_dataset *ds)
{
	int64_t classes[SOFTREG_MAX_CLASSES];
	int64_t mx = 0;
	for (size_t i = 0; i < ds->n; i++)
		mx = ds->labels[i] > mx ? ds->labels[i] : mx;
	size_t k = (size_t)mx + 1;
	for (size_t c = 0; c < k; c++)
		classes[c] = (int64_t)c;
	char err[SOFTREG_ERRLEN];
	if (k > SOFTREG_MAX_CLASSES || softreg_dataset_map_labels(ds, classes, k, "test data", err)) {
		fprintf(stderr, "t_map_identity: %s\n", err);
		exit(1);
	}
	return k;
}

uint8_t *t_label_bytes(const struct softreg_dataset *ds)
{
	uint8_t *b = malloc(ds->n ? ds->n : 1);
	for (size_t i = 0; b && i < ds->n; i++)
		b[i] = (uint8_t)ds->labels[i];
	return b;
}
