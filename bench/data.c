/* SPDX-License-Identifier: MIT
 * data.c: the data softreg-bench runs on, and the same rows as each source
 * kind. MNIST's training set (or random pixels of its shape) is uint8; from
 * it come float32 (the rows as the model preprocesses them, x / 255), float16
 * (those, rounded) and CSR (their nonzeros). --shape N,D,K makes dense
 * float32 data instead, as a linear probe sees it: Gaussian embeddings and
 * label values that are not 0..k-1; from it, float16. */
#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const source_tags[BENCH_SOURCES] = {"u8", "f32", "f16", "csr"};

/* Synthetic images have MNIST's shape: 60000 images of 28x28, 10 classes. */
#define SYNTH_N 60000
#define SYNTH_SIDE 28
#define SYNTH_CLASSES 10
#define BENCH_SEED 20240601u
/* The model of the gate and the cases: small random weights, so that the
 * logits are spread (by about 0.25 on MNIST's pixels / 255) and every
 * gradient entry is non-trivial. --shape rows have unit expected norm, so
 * their weights are larger for the same spread: sqrt(3) * 0.25. */
#define INIT_W 0.05f
#define SHAPE_INIT_W 0.45f
#define INIT_B 0.1f
/* --shape labels: 1000, 1002, ...: a class table that is not the identity */
#define SHAPE_LABEL0 1000
#define SHAPE_LABEL_STEP 2

unsigned data_sources_possible(const struct bench_opts *o)
{
	if (o->shaped) /* dense Gaussian values: neither bytes nor sparse */
		return 1u << SOFTREG_SOURCE_F32 | 1u << SOFTREG_SOURCE_F16;
	return (1u << BENCH_SOURCES) - 1;
}

static void *own(struct bench_data *d, void *p)
{
	for (size_t i = 0; p && i < sizeof(d->bufs) / sizeof(d->bufs[0]); i++)
		if (!d->bufs[i])
			return d->bufs[i] = p;
	free(p);
	return NULL;
}

static int nomem(char *err, const char *what)
{
	snprintf(err, SOFTREG_ERRLEN, "out of memory for %s", what);
	return BENCH_FAIL;
}

/* float32 to IEEE binary16, rounding to nearest even (as F16C's vcvtps2ph
 * does); the library converts the other way only. */
static uint16_t half_of(float f)
{
	uint32_t x;
	memcpy(&x, &f, sizeof(x));
	uint16_t sign = (uint16_t)(x >> 16 & 0x8000);
	uint32_t ax = x & 0x7fffffffu;
	if (ax > 0x7f800000u) /* NaN stays a quiet NaN */
		return sign | 0x7e00;
	if (ax >= 0x477ff000u) /* 65520 and above round to infinity */
		return sign | 0x7c00;
	if (ax >= 0x38800000u) { /* a normal half (>= 2^-14): exponent bias 127 -> 15, 13 bits dropped */
		uint32_t r = ax - 0x38000000u;
		r += 0xfffu + (r >> 13 & 1u);
		return sign | (uint16_t)(r >> 13);
	}
	float a; /* a subnormal half (or zero), in units of 2^-24: exact scaling, then round to even */
	memcpy(&a, &ax, sizeof(a));
	return sign | (uint16_t)lrintf(a * 0x1p24f);
}

/* ---- the base data ---- */

static int load_mnist(const struct bench_opts *o, struct bench_data *d, char *err)
{
	if (softreg_dataset_load_split(o->data_dir, "train", 0, &d->base, err))
		return BENCH_FAIL;
	d->origin = DATA_MNIST;
	snprintf(d->where, sizeof(d->where), "%s", o->data_dir);
	return BENCH_OK;
}

/* Random pixels and labels: the speed of every case depends on the shape
 * alone, not on the values. */
static int make_synthetic(struct bench_data *d, struct softreg_rng *rng, char *err)
{
	struct softreg_dataset *ds = &d->base;
	memset(ds, 0, sizeof(*ds));
	ds->n = SYNTH_N;
	ds->rows = ds->cols = SYNTH_SIDE;
	ds->d = ds->rows * ds->cols;
	uint8_t *px = own(d, malloc(ds->n * ds->d));
	ds->labels = own(d, malloc(ds->n * sizeof(int64_t)));
	if (!px || !ds->labels)
		return nomem(err, "the synthetic data");
	for (size_t i = 0; i < ds->n * ds->d; i++)
		px[i] = (uint8_t)softreg_rng_next(rng);
	for (size_t i = 0; i < ds->n; i++)
		ds->labels[i] = (int64_t)softreg_rng_below(rng, SYNTH_CLASSES);
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_U8, .n = ds->n, .d = ds->d, .data = px};
	d->origin = DATA_SYNTHETIC;
	return BENCH_OK;
}

/* --shape N,D,K: features N(0, 1/D) (rows of unit expected norm, like the
 * normalised embeddings a linear probe reads), classes i mod K (each one
 * present), label values 1000 + 2c. Each row has its own generator, so the
 * data is the same at any thread count. */
static int make_shape(const struct bench_opts *o, struct bench_data *d, char *err)
{
	struct softreg_dataset *ds = &d->base;
	size_t n = o->shape_n, dim = o->shape_d, k = o->shape_k, nx, bytes;
	memset(ds, 0, sizeof(*ds));
	if (!mul_ok(n, dim, &nx) || !mul_ok(nx, sizeof(float), &bytes)) {
		snprintf(err, SOFTREG_ERRLEN, "--shape %zu,%zu,%zu: the features overflow the address space", n, dim, k);
		return BENCH_FAIL;
	}
	float *x = own(d, malloc(bytes));
	ds->labels = own(d, malloc(n * sizeof(int64_t)));
	if (!x || !ds->labels) {
		snprintf(err, SOFTREG_ERRLEN, "out of memory for --shape %zu,%zu,%zu (%.1f GB of features)", n, dim, k,
			 (double)bytes / 1e9);
		return BENCH_FAIL;
	}
	float sd = 1.0f / sqrtf((float)dim);
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		struct softreg_rng rng;
		softreg_rng_seed(&rng, BENCH_SEED + 1 + (uint64_t)i);
		float *row = x + i * dim;
		for (size_t j = 0; j < dim; j += 2) { /* Box-Muller: two normal values per pair of uniforms */
			float u1 = 1.0f - softreg_rng_uniform(&rng), u2 = softreg_rng_uniform(&rng);
			float r = sd * sqrtf(-2.0f * logf(u1)), t = 2.0f * (float)M_PI * u2;
			row[j] = r * cosf(t);
			if (j + 1 < dim)
				row[j + 1] = r * sinf(t);
		}
	}
	for (size_t i = 0; i < n; i++)
		ds->labels[i] = SHAPE_LABEL0 + SHAPE_LABEL_STEP * (int64_t)(i % k);
	ds->n = n;
	ds->d = dim;
	ds->rows = 1;
	ds->cols = dim;
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_F32, .n = n, .d = dim, .data = x};
	d->origin = DATA_SHAPE;
	snprintf(d->where, sizeof(d->where), "synthetic (--shape %zu,%zu,%zu)", n, dim, k);
	return BENCH_OK;
}

static int load_base(const struct bench_opts *o, struct bench_data *d, struct softreg_rng *rng, char *err)
{
	if (o->shaped)
		return make_shape(o, d, err);
	char why[SOFTREG_ERRLEN] = "";
	if (!o->synthetic && load_mnist(o, d, why) == BENCH_OK)
		return BENCH_OK;
	if (!o->synthetic && o->data_dir_given) {
		snprintf(err, SOFTREG_ERRLEN, "%s", why);
		return BENCH_FAIL;
	}
	softreg_dataset_free(&d->base);
	if (make_synthetic(d, rng, err))
		return BENCH_FAIL;
	if (o->synthetic)
		snprintf(d->where, sizeof(d->where), "synthetic (--synthetic)");
	else
		snprintf(d->where, sizeof(d->where), "synthetic (no MNIST in %.3900s)", o->data_dir);
	return BENCH_OK;
}

/* ---- the views ---- */

static void set_view(struct bench_data *d, struct softreg_source x, size_t bytes)
{
	struct softreg_dataset *v = &d->view[x.kind];
	*v = softreg_dataset_rows(&d->base, 0, d->base.n); /* shares labels and y, owns nothing */
	v->x = x;
	d->have[x.kind] = true;
	d->bytes[x.kind] = bytes;
}

/* The uint8 rows as the model preprocesses them (x * scale): the library's
 * own gather over the whole set. */
static float *preprocessed_rows(struct bench_data *d, char *err)
{
	const struct softreg_dataset *b = &d->base;
	struct softreg_model *proto = softreg_model_alloc(d->k, b->rows, b->cols);
	float *x = malloc(b->n * b->d * sizeof(float));
	if (!proto || !x) {
		softreg_model_free(proto);
		free(x);
		nomem(err, "the float32 rows");
		return NULL;
	}
	softreg_model_init_prep(proto, &b->x);
	struct softreg_batch all = {.src = &b->x, .first = 0, .m = b->n};
	softreg_gather(proto, &all, x);
	softreg_model_free(proto);
	return own(d, x);
}

static int make_f16(struct bench_data *d, const float *x, char *err)
{
	size_t n = d->base.n * d->base.d;
	uint16_t *h = own(d, malloc(n * sizeof(uint16_t)));
	if (!h)
		return nomem(err, "the float16 rows");
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++)
		h[i] = half_of(x[i]);
	set_view(d, (struct softreg_source){.kind = SOFTREG_SOURCE_F16, .n = d->base.n, .d = d->base.d, .data = h},
		 n * sizeof(uint16_t));
	return BENCH_OK;
}

/* the nonzeros of the float32 rows, row by row: the same values */
static int make_csr(struct bench_data *d, const float *x, char *err)
{
	size_t n = d->base.n, dim = d->base.d;
	uint64_t *indptr = own(d, malloc((n + 1) * sizeof(uint64_t)));
	if (!indptr)
		return nomem(err, "the CSR rows");
	indptr[0] = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t c = 0;
		for (size_t j = 0; j < dim; j++)
			c += x[i * dim + j] != 0.0f;
		indptr[i + 1] = indptr[i] + c;
	}
	uint64_t nnz = indptr[n];
	uint32_t *indices = own(d, malloc((nnz ? nnz : 1) * sizeof(uint32_t)));
	float *values = own(d, malloc((nnz ? nnz : 1) * sizeof(float)));
	if (!indices || !values)
		return nomem(err, "the CSR rows");
	for (size_t i = 0, p = 0; i < n; i++)
		for (size_t j = 0; j < dim; j++)
			if (x[i * dim + j] != 0.0f) {
				indices[p] = (uint32_t)j;
				values[p++] = x[i * dim + j];
			}
	d->nnz = nnz;
	d->nnz_bytes = 8;
	set_view(d, (struct softreg_source){.kind = SOFTREG_SOURCE_CSR, .n = n, .d = dim, .indptr = indptr,
					    .indices = indices, .values = values},
		 (n + 1) * sizeof(uint64_t) + nnz * (sizeof(uint32_t) + sizeof(float)));
	return BENCH_OK;
}

/* uint8 rows: the CSR that `softreg train` makes of them (softreg_dataset_sparsify:
 * the raw bytes, scaled by the model, in the compact form) */
static int sparsify_u8(struct bench_data *d, char *err)
{
	struct softreg_dataset v = softreg_dataset_rows(&d->base, 0, d->base.n);
	if (softreg_dataset_sparsify(&v, err))
		return BENCH_FAIL;
	for (size_t i = 0; i < sizeof(v.mem_) / sizeof(v.mem_[0]); i++)
		if (v.mem_[i] && !own(d, v.mem_[i]))
			return nomem(err, "the CSR rows");
	d->nnz = v.x.indptr[v.n];
	d->nnz_bytes = v.x.values8 ? 3 : 8;
	set_view(d, v.x, (v.n + 1) * sizeof(uint64_t) + d->nnz * (size_t)d->nnz_bytes);
	return BENCH_OK;
}

static int make_views(const struct bench_opts *o, struct bench_data *d, char *err)
{
	const struct softreg_dataset *b = &d->base;
	size_t bytes = b->x.kind == SOFTREG_SOURCE_F32 ? sizeof(float) : 1;
	set_view(d, b->x, b->n * b->d * bytes);
	bool f32 = o->source_on[SOFTREG_SOURCE_F32], f16 = o->source_on[SOFTREG_SOURCE_F16],
	     csr = o->source_on[SOFTREG_SOURCE_CSR];
	const float *x = b->x.kind == SOFTREG_SOURCE_F32 ? b->x.data : NULL;
	if (!x && (f32 || f16 || csr)) { /* uint8 rows: the others derive from their floats */
		x = preprocessed_rows(d, err);
		if (!x)
			return BENCH_FAIL;
		set_view(d, (struct softreg_source){.kind = SOFTREG_SOURCE_F32, .n = b->n, .d = b->d, .data = x},
			 b->n * b->d * sizeof(float));
	}
	if (f16 && make_f16(d, x, err))
		return BENCH_FAIL;
	if (csr && b->x.kind == SOFTREG_SOURCE_U8 && sparsify_u8(d, err))
		return BENCH_FAIL;
	if (csr && b->x.kind != SOFTREG_SOURCE_U8 && make_csr(d, x, err))
		return BENCH_FAIL;
	for (int s = 0; s < BENCH_SOURCES; s++) /* only the selected ones are used */
		d->have[s] = d->have[s] && o->source_on[s];
	return BENCH_OK;
}

static float uniform(struct softreg_rng *rng, float half)
{
	return (2 * softreg_rng_uniform(rng) - 1) * half;
}

/* one random W and b; per source, the preprocessing that source needs */
static int make_models(struct bench_data *d, struct softreg_rng *rng, char *err)
{
	const struct softreg_dataset *b = &d->base;
	struct softreg_model *proto = softreg_model_alloc(d->k, b->rows, b->cols);
	if (!proto)
		return nomem(err, "the model");
	float half = d->origin == DATA_SHAPE ? SHAPE_INIT_W : INIT_W;
	for (size_t i = 0; i < proto->k * proto->d; i++)
		proto->W[i] = uniform(rng, half);
	for (size_t j = 0; j < proto->k; j++)
		proto->b[j] = uniform(rng, INIT_B);
	memcpy(proto->classes, d->classes, d->k * sizeof(int64_t));
	int rc = BENCH_OK;
	for (int s = 0; s < BENCH_SOURCES && rc == BENCH_OK; s++) {
		if (!d->have[s])
			continue;
		d->model[s] = softreg_model_alloc(d->k, b->rows, b->cols);
		if (!d->model[s]) {
			rc = nomem(err, "the model");
			break;
		}
		softreg_model_copy(d->model[s], proto);
		softreg_model_init_prep(d->model[s], &d->view[s].x);
	}
	softreg_model_free(proto);
	return rc;
}

int load_data(const struct bench_opts *o, struct bench_data *d, char *err)
{
	struct softreg_rng rng;
	softreg_rng_seed(&rng, BENCH_SEED);
	memset(d, 0, sizeof(*d));
	if (load_base(o, d, &rng, err))
		return BENCH_FAIL;
	if (o->fill > 0 && d->base.x.kind == SOFTREG_SOURCE_U8) { /* a denser MNIST: its pixels, and noise */
		uint8_t *px = (uint8_t *)d->base.x.data;
		for (size_t i = 0; i < d->base.n * d->base.d; i++)
			if (px[i] == 0 && softreg_rng_uniform(&rng) < o->fill)
				px[i] = (uint8_t)(1 + softreg_rng_below(&rng, 255));
		snprintf(d->where + strlen(d->where), sizeof(d->where) - strlen(d->where),
			 " (zero pixels filled with probability %g: density %.3f)", o->fill,
			 softreg_source_density(&d->base.x));
	}
	if (softreg_dataset_classes(&d->base, d->where, &d->classes, &d->k, err) ||
	    softreg_dataset_map_labels(&d->base, d->classes, d->k, d->where, err))
		return BENCH_FAIL;
	if (make_views(o, d, err) || make_models(d, &rng, err))
		return BENCH_FAIL;
	size_t n = d->base.n;
	d->perm = malloc(n * sizeof(uint32_t));
	if (!d->perm)
		return nomem(err, "the row order");
	for (size_t i = 0; i < n; i++)
		d->perm[i] = (uint32_t)i;
	softreg_shuffle(&rng, d->perm, n);
	return BENCH_OK;
}

void free_data(struct bench_data *d)
{
	softreg_dataset_free(&d->base);
	for (int s = 0; s < BENCH_SOURCES; s++)
		softreg_model_free(d->model[s]);
	for (size_t i = 0; i < sizeof(d->bufs) / sizeof(d->bufs[0]); i++)
		free(d->bufs[i]);
	free(d->classes);
	free(d->perm);
	memset(d, 0, sizeof(*d));
}

double batch_nnz(const struct bench_data *d, size_t m)
{
	const struct softreg_source *s = &d->view[SOFTREG_SOURCE_CSR].x;
	if (!d->have[SOFTREG_SOURCE_CSR])
		return 0;
	uint64_t nnz = 0;
	for (size_t i = 0; i < m; i++)
		nnz += s->indptr[d->perm[i] + 1] - s->indptr[d->perm[i]];
	return (double)nnz;
}
