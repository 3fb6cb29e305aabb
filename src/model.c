/* SPDX-License-Identifier: MIT
 * model.c: W (k, d), b (k) and the preprocessing in one allocation; the .srm
 * file format (little-endian, CRC-32 over everything, saved atomically). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SRM_MAGIC "SOFTREG"   /* 8 bytes with its NUL */
#define SRM_VERSION 2u        /* 2: the class table after the header; 1 (classes 0..k-1) still loads */
#define SRM_FLAG_STATE 1u     /* a checkpoint: training state follows the model */
#define SRM_FLAG_BEST 2u      /* a checkpoint holding early stopping's best [W, b] after the momentum */
#define SRM_HEADER 64u
#define SRM_MAX_K SOFTREG_MAX_CLASSES
#define SRM_MAX_D SOFTREG_MAX_FEATURES

static size_t align64(size_t n)
{
	return (n + 15) & ~(size_t)15; /* in floats: 64 bytes */
}

/* floats of the one allocation for (k, d): mean, inv_std, W, b, then the
 * class table (2 floats an entry); 0 on overflow */
static size_t model_floats(size_t k, size_t d)
{
	size_t kd, n;
	if (!sr_mul(k, d, &kd) || kd > SIZE_MAX / 8 - 4 * d - 4 * k - 64)
		return 0;
	n = 2 * align64(d) + align64(kd) + align64(k) + align64(2 * k);
	return n <= SIZE_MAX / sizeof(float) ? n : 0;
}

size_t softreg_model_bytes(size_t k, size_t d)
{
	return model_floats(k, d) * sizeof(float);
}

struct softreg_model *softreg_model_alloc(size_t k, size_t rows, size_t cols)
{
	size_t d;
	if (k < 2 || k > SRM_MAX_K || !sr_mul(rows, cols, &d) || d == 0 || d > SRM_MAX_D)
		return NULL;
	size_t nf = model_floats(k, d);
	struct softreg_model *m = nf ? calloc(1, sizeof(*m)) : NULL;
	if (!m)
		return NULL;
	float *mem = aligned_alloc(64, nf * sizeof(float));
	if (!mem) {
		free(m);
		return NULL;
	}
	memset(mem, 0, nf * sizeof(float));
	m->k = k;
	m->d = d;
	m->rows = rows;
	m->cols = cols;
	m->mem_ = mem;
	m->mean = mem;
	m->inv_std = mem + align64(d);
	m->W = m->inv_std + align64(d);
	m->b = m->W + align64(k * d);
	m->classes = (int64_t *)(void *)(m->b + align64(k)); /* 64-byte aligned */
	for (size_t c = 0; c < k; c++)
		m->classes[c] = (int64_t)c;
	m->prep = SOFTREG_PREP_SCALE;
	m->scale = 1.0f / 255.0f;
	m->test_accuracy = -1;
	return m;
}

void softreg_model_init_prep(struct softreg_model *m, const struct softreg_source *src)
{
	bool u8 = softreg_source_input(src) == SOFTREG_SOURCE_U8;
	m->input = u8 ? SOFTREG_INPUT_UINT8 : SOFTREG_INPUT_REAL;
	m->prep = SOFTREG_PREP_SCALE;
	m->scale = u8 ? 1.0f / 255.0f : 1.0f;
}

void softreg_model_free(struct softreg_model *m)
{
	if (!m)
		return;
	free(m->mem_);
	free(m);
}

void softreg_model_copy(struct softreg_model *dst, const struct softreg_model *src)
{
	memcpy(dst->mean, src->mean, src->d * sizeof(float));
	memcpy(dst->inv_std, src->inv_std, src->d * sizeof(float));
	memcpy(dst->W, src->W, src->k * src->d * sizeof(float));
	memcpy(dst->b, src->b, src->k * sizeof(float));
	memcpy(dst->classes, src->classes, src->k * sizeof(int64_t));
	dst->input = src->input;
	dst->prep = src->prep;
	dst->scale = src->scale;
	dst->epochs = src->epochs;
	dst->seed = src->seed;
	dst->test_accuracy = src->test_accuracy;
}

/* sums of x and x^2 of every feature over the rows of 'ds', as the raw
 * values (before any preprocessing) */
static void feature_sums(const struct softreg_dataset *ds, double *sum, double *sq, float *row)
{
	const struct softreg_source *s = &ds->x;
	size_t d = ds->d;
	for (size_t i = 0; i < ds->n; i++) {
		if (s->kind == SOFTREG_SOURCE_CSR) {
			for (uint64_t p = s->indptr[i]; p < s->indptr[i + 1]; p++) {
				double v = sr_csr_value(s, p);
				sum[sr_csr_index(s, p)] += v;
				sq[sr_csr_index(s, p)] += v * v;
			}
			continue;
		}
		if (s->kind == SOFTREG_SOURCE_U8)
			for (size_t j = 0; j < d; j++)
				row[j] = ((const uint8_t *)s->data)[i * d + j];
		else if (s->kind == SOFTREG_SOURCE_F16)
			softreg_f16_to_f32((const uint16_t *)s->data + i * d, row, d);
		else
			memcpy(row, (const float *)s->data + i * d, d * sizeof(float));
		for (size_t j = 0; j < d; j++) {
			sum[j] += row[j];
			sq[j] += (double)row[j] * row[j];
		}
	}
}

enum softreg_result softreg_model_standardize(struct softreg_model *m, const struct softreg_dataset *ds, char *err)
{
	size_t d = m->d, n = ds->n;
	if (n == 0 || ds->d != d)
		return sr_fail(err, SOFTREG_ERR_PARAM, "standardize: %zu rows of %zu features for a model of %zu", n, ds->d, d);
	double *sum = calloc(2 * d, sizeof(double));
	float *row = ds->x.kind == SOFTREG_SOURCE_CSR ? NULL : malloc(d * sizeof(float));
	if (!sum || (ds->x.kind != SOFTREG_SOURCE_CSR && !row)) {
		free(sum);
		free(row);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "standardize: out of memory for %zu features", d);
	}
	double *sq = sum + d;
	feature_sums(ds, sum, sq, row);
	bool centre = ds->x.kind != SOFTREG_SOURCE_CSR; /* sparse data stays sparse: scaled, not centred */
	for (size_t j = 0; j < d; j++) {
		double mean = sum[j] / (double)n;
		double var = sq[j] / (double)n - mean * mean;
		m->mean[j] = centre ? (float)mean : 0.0f;
		/* a constant feature carries no information: weight it by 0 */
		m->inv_std[j] = var > 1e-6 ? (float)(1.0 / sqrt(var)) : 0.0f;
	}
	m->prep = SOFTREG_PREP_STANDARDIZE;
	m->scale = 1.0f;
	free(sum);
	free(row);
	return SOFTREG_OK;
}

bool sr_model_centres(const struct softreg_model *m)
{
	if (m->prep != SOFTREG_PREP_STANDARDIZE)
		return false;
	for (size_t j = 0; j < m->d; j++)
		if (m->mean[j] != 0.0f)
			return true;
	return false;
}

enum softreg_result softreg_model_check_data(const struct softreg_model *m, const struct softreg_dataset *ds,
					     const char *what, char *err)
{
	bool images = m->rows > 1 && ds->rows > 1;
	if (ds->d != m->d || (images && (ds->rows != m->rows || ds->cols != m->cols))) {
		if (images || ds->rows > 1)
			return sr_fail(err, SOFTREG_ERR_MISMATCH,
				       "%s: %zu features (%zux%zu), the model expects %zu (%zux%zu)", what, ds->d, ds->rows,
				       ds->cols, m->d, m->rows, m->cols);
		return sr_fail(err, SOFTREG_ERR_MISMATCH, "%s: %zu features, the model expects %zu", what, ds->d, m->d);
	}
	bool u8 = softreg_source_input(&ds->x) == SOFTREG_SOURCE_U8;
	if (u8 != (m->input == SOFTREG_INPUT_UINT8))
		return sr_fail(err, SOFTREG_ERR_MISMATCH,
			       "%s: %s features, but the model was trained on %s features (convert them alike)", what,
			       u8 ? "uint8" : "real-valued", u8 ? "real-valued" : "uint8 (scaled by its 1/255)");
	if (ds->x.kind == SOFTREG_SOURCE_CSR && sr_model_centres(m))
		return sr_fail(err, SOFTREG_ERR_MISMATCH,
			       "%s: sparse data, but the model centres its features (standardised on dense data)", what);
	for (size_t i = 0; ds->y && i < ds->n; i++)
		if (ds->y[i] >= m->k)
			return sr_fail(err, SOFTREG_ERR_MISMATCH, "%s: row %zu: class %u is not one of the model's %zu classes",
				       what, i + 1, ds->y[i], m->k);
	return SOFTREG_OK;
}

struct softreg_train_state *softreg_train_state_alloc(size_t k, size_t d)
{
	size_t nv;
	if (!sr_mul(k, d, &nv) || nv + k < nv)
		return NULL;
	nv += k;
	struct softreg_train_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->velocity = calloc(nv, sizeof(float));
	if (!s->velocity) {
		free(s);
		return NULL;
	}
	s->nv = nv;
	s->best_val = -1;
	return s;
}

void softreg_train_state_free(struct softreg_train_state *s)
{
	if (!s)
		return;
	free(s->best);
	free(s->velocity);
	free(s);
}

/* ---- serialisation ---- */

struct wbuf {
	uint8_t *p;
	size_t len;
};

static void put_u32(struct wbuf *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	put_u32(w, (uint32_t)v);
	put_u32(w, (uint32_t)(v >> 32));
}

static void put_f32s(struct wbuf *w, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t v;
		memcpy(&v, &x[i], 4);
		put_u32(w, v);
	}
}

static void put_f64(struct wbuf *w, double x)
{
	uint64_t v;
	memcpy(&v, &x, 8);
	put_u64(w, v);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static double get_f64(const uint8_t *p)
{
	uint64_t v = get_u64(p);
	double x;
	memcpy(&x, &v, 8);
	return x;
}

static void get_f32s(const uint8_t *p, float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t v = get_u32(p + 4 * i);
		memcpy(&x[i], &v, 4);
	}
}

#define STATE_FIXED (4 + 4 + 8 + 32 + 8 + 8)
#define STATE_V2 (8 + 8 + 8 + 4 + 4) /* batch, n_train, seed, fingerprint, shuffle */

/* bytes of a file for (version, k, d, prep, state, best), the CRC included;
 * k, d are bounded, so this cannot overflow 64 bits */
static size_t srm_size(uint32_t version, size_t k, size_t d, uint32_t prep, bool state, bool best)
{
	size_t n = SRM_HEADER + 4 * (k * d + k) + 4 + (version >= 2 ? 8 * k : 0);
	if (prep == SOFTREG_PREP_STANDARDIZE)
		n += 8 * d;
	if (state)
		n += STATE_FIXED + (version >= 2 ? STATE_V2 : 0) + 4 * (k * d + k);
	if (best)
		n += 4 * (k * d + k);
	return n;
}

static uint8_t *srm_encode(const struct softreg_model *m, const struct softreg_train_state *s, size_t *len)
{
	bool best = s && s->best;
	size_t n = srm_size(SRM_VERSION, m->k, m->d, m->prep, s != NULL, best);
	struct wbuf w = {malloc(n), 0};
	if (!w.p)
		return NULL;
	memcpy(w.p, SRM_MAGIC, 8);
	w.len = 8;
	put_u32(&w, SRM_VERSION);
	put_u32(&w, (s ? SRM_FLAG_STATE : 0) | (best ? SRM_FLAG_BEST : 0));
	put_u32(&w, (uint32_t)m->k);
	put_u32(&w, (uint32_t)m->d);
	put_u32(&w, (uint32_t)m->rows);
	put_u32(&w, (uint32_t)m->cols);
	put_u32(&w, (uint32_t)m->prep);
	put_f32s(&w, &m->scale, 1);
	put_u32(&w, m->epochs);
	put_u32(&w, (uint32_t)m->input); /* version 1: reserved, 0 (uint8) */
	put_u64(&w, m->seed);
	put_f64(&w, m->test_accuracy);
	for (size_t c = 0; c < m->k; c++)
		put_u64(&w, (uint64_t)m->classes[c]);
	if (m->prep == SOFTREG_PREP_STANDARDIZE) {
		put_f32s(&w, m->mean, m->d);
		put_f32s(&w, m->inv_std, m->d);
	}
	put_f32s(&w, m->W, m->k * m->d);
	put_f32s(&w, m->b, m->k);
	if (s) {
		put_u32(&w, s->epochs_done);
		put_u32(&w, s->since_best);
		put_u64(&w, s->iterations);
		for (int i = 0; i < 4; i++)
			put_u64(&w, s->rng.s[i]);
		put_f64(&w, s->best_val);
		put_u32(&w, s->batches_done);
		put_u32(&w, 0);
		put_u64(&w, s->batch);
		put_u64(&w, s->n_train);
		put_u64(&w, s->seed);
		put_u32(&w, s->fingerprint);
		put_u32(&w, s->shuffle);
		put_f32s(&w, s->velocity, s->nv);
		if (best)
			put_f32s(&w, s->best, s->nv);
	}
	put_u32(&w, sr_crc32(0, w.p, w.len));
	*len = w.len;
	return w.p;
}

static bool all_finite(const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return false;
	return true;
}

/* what the 64-byte header says */
struct srm_header {
	uint32_t version, k, d, rows, cols, prep;
	bool state, best;
};

/* Magic, version, flags, dimensions and preprocessing of the header 'hdr', and
 * the length they imply against 'len', the real one. Reads 'hdr' only when
 * 'len' covers it. */
static enum softreg_result check_header(const uint8_t *hdr, size_t len, const char *name, struct srm_header *h,
					char *err)
{
	if (len < SRM_HEADER + 4)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: not a softreg model (too short: %zu bytes)", name, len);
	if (memcmp(hdr, SRM_MAGIC, 8) != 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: not a softreg model (bad magic)", name);
	uint32_t version = get_u32(hdr + 8), flags = get_u32(hdr + 12);
	if (version < 1 || version > SRM_VERSION)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: model format version %u, this softreg reads versions 1 to %u",
			       name, version, SRM_VERSION);
	h->version = version;
	if (flags & ~(SRM_FLAG_STATE | SRM_FLAG_BEST) || (version < 2 && (flags & SRM_FLAG_BEST)))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: unknown flags 0x%x", name, flags);
	if ((flags & SRM_FLAG_BEST) && !(flags & SRM_FLAG_STATE))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: flags 0x%x: a best model without a training state", name, flags);
	h->k = get_u32(hdr + 16), h->d = get_u32(hdr + 20), h->rows = get_u32(hdr + 24);
	h->cols = get_u32(hdr + 28), h->prep = get_u32(hdr + 32);
	h->state = flags & SRM_FLAG_STATE;
	h->best = flags & SRM_FLAG_BEST;
	if (h->k < 2 || h->k > SRM_MAX_K || h->d == 0 || h->d > SRM_MAX_D || (uint64_t)h->rows * h->cols != h->d)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: bad model dimensions k=%u d=%u (%ux%u)", name, h->k, h->d,
			       h->rows, h->cols);
	if (h->prep > SOFTREG_PREP_STANDARDIZE)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: unknown preprocessing %u", name, h->prep);
	size_t want = srm_size(h->version, h->k, h->d, h->prep, h->state, h->best);
	if (len != want)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: %s: %zu bytes, the header implies %zu", name,
			       len < want ? "truncated" : "trailing junk", len, want);
	return SOFTREG_OK;
}

/* an accuracy is a fraction, or -1 when unknown */
static bool is_accuracy(double a)
{
	return a == -1 || (a >= 0 && a <= 1);
}

/* The values, once the CRC vouches for the bytes: what a writer never writes
 * (reserved bits, non-finite numbers) is refused, so a file that loads saves
 * back to the same bytes. */
static enum softreg_result check_values(const struct softreg_model *m, const struct softreg_train_state *s,
					const uint8_t *buf, const uint8_t *state_p, const char *name, char *err)
{
	uint32_t input = get_u32(buf + 44), version = get_u32(buf + 8);
	if ((version < 2 && input != 0) || (state_p && get_u32(state_p + 60) != 0))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: a reserved field is not zero", name);
	if (input > SOFTREG_INPUT_REAL)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: unknown input kind %u", name, input);
	bool finite = isfinite(m->scale) && all_finite(m->W, m->k * m->d) && all_finite(m->b, m->k) &&
		      (m->prep != SOFTREG_PREP_STANDARDIZE || (all_finite(m->mean, m->d) && all_finite(m->inv_std, m->d))) &&
		      (!s || all_finite(s->velocity, s->nv)) && (!s || !s->best || all_finite(s->best, s->nv));
	if (!finite)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: the model holds non-finite values", name);
	for (size_t c = 1; c < m->k; c++)
		if (m->classes[c] <= m->classes[c - 1])
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: the class table is not strictly increasing", name);
	if (!is_accuracy(m->test_accuracy) || (s && !is_accuracy(s->best_val)))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: an accuracy is not a fraction in [0, 1] (or -1)", name);
	/* xoshiro256** never leaves the all-zero state: its draws would be 0
	 * forever, and a rejection sampler over them would never end */
	if (s && s->shuffle > 1)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: the shuffle flag is %u, not 0 or 1", name, s->shuffle);
	if (s && (s->rng.s[0] | s->rng.s[1] | s->rng.s[2] | s->rng.s[3]) == 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: the random generator's state is all zeros", name);
	return SOFTREG_OK;
}

/* the fields after the header, into 'm' and 's' (may be NULL); returns where
 * the training state starts, or NULL when there is none */
static const uint8_t *decode(const uint8_t *buf, const struct srm_header *h, struct softreg_model *m,
			     struct softreg_train_state *s)
{
	size_t k = h->k, d = h->d;
	m->prep = (enum softreg_prep)h->prep;
	get_f32s(buf + 36, &m->scale, 1);
	m->epochs = get_u32(buf + 40);
	m->input = (enum softreg_input)get_u32(buf + 44);
	m->seed = get_u64(buf + 48);
	m->test_accuracy = get_f64(buf + 56);
	const uint8_t *p = buf + SRM_HEADER;
	if (h->version >= 2) { /* version 1 had no table: classes 0..k-1, as allocated */
		for (size_t c = 0; c < k; c++)
			m->classes[c] = (int64_t)get_u64(p + 8 * c);
		p += 8 * k;
	}
	if (h->prep == SOFTREG_PREP_STANDARDIZE) {
		get_f32s(p, m->mean, d);
		get_f32s(p + 4 * d, m->inv_std, d);
		p += 8 * d;
	}
	get_f32s(p, m->W, k * d);
	p += 4 * k * d;
	get_f32s(p, m->b, k);
	p += 4 * k;
	if (!h->state)
		return NULL;
	if (s) {
		s->epochs_done = get_u32(p);
		s->since_best = get_u32(p + 4);
		s->iterations = get_u64(p + 8);
		for (int i = 0; i < 4; i++)
			s->rng.s[i] = get_u64(p + 16 + 8 * i);
		s->best_val = get_f64(p + 48);
		s->batches_done = get_u32(p + 56);
		const uint8_t *q = p + STATE_FIXED;
		if (h->version >= 2) {
			s->batch = get_u64(q);
			s->n_train = get_u64(q + 8);
			s->seed = get_u64(q + 16);
			s->fingerprint = get_u32(q + 24);
			s->shuffle = get_u32(q + 28);
			q += STATE_V2;
		}
		get_f32s(q, s->velocity, s->nv);
		if (s->best)
			get_f32s(q + 4 * s->nv, s->best, s->nv);
	}
	return p;
}

enum softreg_result softreg_model_parse(const uint8_t *buf, size_t len, const char *name,
					struct softreg_model **model_ret, struct softreg_train_state **state_ret,
					char *err)
{
	*model_ret = NULL;
	if (state_ret)
		*state_ret = NULL;
	struct srm_header h;
	enum softreg_result r = check_header(buf, len, name, &h, err);
	if (r)
		return r;
	if (sr_crc32(0, buf, len - 4) != get_u32(buf + len - 4))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: CRC-32 mismatch: the file is corrupt", name);

	struct softreg_model *m = softreg_model_alloc(h.k, h.rows, h.cols);
	struct softreg_train_state *s = h.state ? softreg_train_state_alloc(h.k, h.d) : NULL;
	if (s && h.best && !(s->best = malloc(s->nv * sizeof(float)))) {
		softreg_train_state_free(s);
		s = NULL;
	}
	if (!m || (h.state && !s)) {
		softreg_model_free(m);
		softreg_train_state_free(s);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", name);
	}
	const uint8_t *state_p = decode(buf, &h, m, s);
	r = check_values(m, s, buf, state_p, name, err);
	if (r || !state_ret) {
		softreg_train_state_free(s);
		s = NULL;
	}
	if (r) {
		softreg_model_free(m);
		return r;
	}
	*model_ret = m;
	if (state_ret)
		*state_ret = s;
	return SOFTREG_OK;
}

enum softreg_result softreg_model_load(const char *path, struct softreg_model **model_ret,
				       struct softreg_train_state **state_ret, char *err)
{
	*model_ret = NULL;
	if (state_ret)
		*state_ret = NULL;
	FILE *f;
	size_t len;
	enum softreg_result r = sr_open_regular(path, &f, &len, err);
	if (r)
		return r;
	/* the header's claim is checked against the real length before the
	 * file is read into memory */
	uint8_t hdr[SRM_HEADER];
	struct srm_header h;
	size_t nh = fread(hdr, 1, SRM_HEADER, f);
	r = check_header(hdr, nh < SRM_HEADER ? nh : len, path, &h, err);
	if (r) {
		fclose(f);
		return r;
	}
	uint8_t *buf = malloc(len);
	if (!buf) {
		fclose(f);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", path);
	}
	memcpy(buf, hdr, SRM_HEADER);
	if (fread(buf + SRM_HEADER, 1, len - SRM_HEADER, f) != len - SRM_HEADER) {
		free(buf);
		fclose(f);
		return sr_fail(err, SOFTREG_ERR_IO, "%s: read error", path);
	}
	fclose(f);
	r = softreg_model_parse(buf, len, path, model_ret, state_ret, err);
	free(buf);
	return r;
}

enum softreg_result softreg_model_save(const struct softreg_model *m, const struct softreg_train_state *opt,
				       const char *path, char *err)
{
	size_t len;
	uint8_t *buf = srm_encode(m, opt, &len);
	if (!buf)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", path);
	enum softreg_result r = softreg_save_file(path, buf, len, err);
	free(buf);
	return r;
}
