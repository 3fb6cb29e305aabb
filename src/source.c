/* SPDX-License-Identifier: MIT
 * source.c: feature sources: names, ownership, the finiteness check, half
 * floats, and the rows of a batch as preprocessed floats. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define SR_X86 1
#endif

const char *softreg_source_name(enum softreg_source_kind kind)
{
	switch (kind) {
	case SOFTREG_SOURCE_U8: return "uint8";
	case SOFTREG_SOURCE_F32: return "float32";
	case SOFTREG_SOURCE_F16: return "float16";
	case SOFTREG_SOURCE_CSR: return "csr";
	}
	return "unknown";
}

bool sr_dataset_own(struct softreg_dataset *ds, void *p)
{
	for (size_t i = 0; i < sizeof(ds->mem_) / sizeof(ds->mem_[0]); i++) {
		if (!ds->mem_[i]) {
			ds->mem_[i] = p;
			return true;
		}
	}
	return false;
}

void softreg_dataset_free(struct softreg_dataset *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < sizeof(ds->mem_) / sizeof(ds->mem_[0]); i++)
		free(ds->mem_[i]);
	if (ds->map_)
		munmap(ds->map_, ds->map_len_);
	free(ds->y);
	memset(ds, 0, sizeof(*ds));
}

struct softreg_dataset softreg_dataset_rows(const struct softreg_dataset *ds, size_t first, size_t count)
{
	struct softreg_dataset v = *ds;
	memset(v.mem_, 0, sizeof(v.mem_));
	v.map_ = NULL;
	v.map_len_ = 0;
	v.n = v.x.n = count;
	switch (ds->x.kind) {
	case SOFTREG_SOURCE_U8: v.x.data = (const uint8_t *)ds->x.data + first * ds->d; break;
	case SOFTREG_SOURCE_F32: v.x.data = (const float *)ds->x.data + first * ds->d; break;
	case SOFTREG_SOURCE_F16: v.x.data = (const uint16_t *)ds->x.data + first * ds->d; break;
	case SOFTREG_SOURCE_CSR: v.x.indptr = ds->x.indptr + first; break; /* offsets stay absolute */
	}
	v.labels = ds->labels ? ds->labels + first : NULL;
	v.y = ds->y ? ds->y + first : NULL;
	return v;
}

static float half_to_float(uint16_t h);

enum softreg_source_kind softreg_source_input(const struct softreg_source *src)
{
	return src->kind == SOFTREG_SOURCE_CSR && src->origin > 0 ? (enum softreg_source_kind)(src->origin - 1)
								    : src->kind;
}

/* value j of dense row 'row' as a float, before preprocessing */
static inline float dense_at(const struct softreg_source *s, size_t row, size_t j)
{
	size_t at = row * s->d + j;
	switch (s->kind) {
	case SOFTREG_SOURCE_U8: return ((const uint8_t *)s->data)[at];
	case SOFTREG_SOURCE_F32: return ((const float *)s->data)[at];
	default: return half_to_float(((const uint16_t *)s->data)[at]);
	}
}

static size_t row_nnz(const struct softreg_source *s, size_t row)
{
	size_t n = 0, d = s->d;
	if (s->kind == SOFTREG_SOURCE_U8) {
		const uint8_t *p = (const uint8_t *)s->data + row * d;
#pragma omp simd reduction(+ : n)
		for (size_t j = 0; j < d; j++)
			n += p[j] != 0;
		return n;
	}
	for (size_t j = 0; j < d; j++)
		n += dense_at(s, row, j) != 0.0f;
	return n;
}

double softreg_source_density(const struct softreg_source *s)
{
	if (s->n == 0 || s->d == 0)
		return 0;
	if (s->kind == SOFTREG_SOURCE_CSR)
		return (double)s->indptr[s->n] / ((double)s->n * (double)s->d);
	size_t span = s->n < SOFTREG_DIST_BLOCK ? s->n : SOFTREG_DIST_BLOCK, rows = span < 1024 ? span : 1024, nnz = 0;
	for (size_t r = 0; r < rows; r++)
		nnz += row_nnz(s, sr_part(r, span, rows));
	return (double)nnz / ((double)rows * (double)s->d);
}

/* rows per block of the CSR build: the blocks, not the threads, fix the work */
#define SPARSIFY_ROWS 1024

enum softreg_result softreg_dataset_sparsify(struct softreg_dataset *ds, char *err)
{
	struct softreg_source *s = &ds->x;
	if (s->kind == SOFTREG_SOURCE_CSR)
		return SOFTREG_OK;
	size_t n = s->n, d = s->d, nblocks = (n + SPARSIFY_ROWS - 1) / SPARSIFY_ROWS, free_slots = 0;
	for (size_t i = 0; i < sizeof(ds->mem_) / sizeof(ds->mem_[0]); i++)
		free_slots += ds->mem_[i] == NULL;
	if (free_slots < 2)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "the data set owns too many buffers to add its CSR");
	uint64_t *indptr = malloc((n + 1) * sizeof(uint64_t));
	if (!indptr)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory for the CSR offsets of %zu rows", n);
	indptr[0] = 0;
#pragma omp parallel for schedule(dynamic, 1)
	for (size_t blk = 0; blk < nblocks; blk++)
		for (size_t r = blk * SPARSIFY_ROWS; r < n && r < (blk + 1) * SPARSIFY_ROWS; r++)
			indptr[r + 1] = row_nnz(s, r);
	for (size_t r = 0; r < n; r++)
		indptr[r + 1] += indptr[r];
	uint64_t nnz = indptr[n];
	/* uint8 rows of d <= 65536: the compact form alone, 3 bytes a nonzero */
	bool compact = s->kind == SOFTREG_SOURCE_U8 && d <= 65536;
	size_t bytes;
	char *mem = NULL;
	if (nnz < SIZE_MAX / 16 && sr_mul((size_t)nnz, compact ? 3 : 8, &bytes))
		mem = malloc(bytes ? bytes : 1);
	if (!mem) {
		free(indptr);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory for the CSR of %zu rows (%llu nonzeros, %llu bytes)",
			       n, (unsigned long long)nnz, (unsigned long long)nnz * (compact ? 3 : 8));
	}
	/* 2 MB pages where the kernel offers them: a tenth of the page faults
	 * of touching 27 MB (MNIST) for the first time */
	if (bytes >= (4u << 20))
		madvise((void *)((uintptr_t)mem & ~(uintptr_t)4095), bytes, MADV_HUGEPAGE);
	sr_dataset_own(ds, indptr);
	sr_dataset_own(ds, mem);
	uint32_t *indices = compact ? NULL : (uint32_t *)mem;
	float *values = compact ? NULL : (float *)(mem + (size_t)nnz * 4);
	uint16_t *indices16 = compact ? (uint16_t *)mem : NULL;
	uint8_t *values8 = compact ? (uint8_t *)(mem + (size_t)nnz * 2) : NULL;
#pragma omp parallel for schedule(dynamic, 1)
	for (size_t blk = 0; blk < nblocks; blk++)
		for (size_t r = blk * SPARSIFY_ROWS; r < n && r < (blk + 1) * SPARSIFY_ROWS; r++) {
			uint64_t p = indptr[r], end = indptr[r + 1];
			if (s->kind == SOFTREG_SOURCE_U8) {
				/* 8 zero bytes skipped at once (images have wide empty
				 * margins), the others written branch-free: each value
				 * written, kept if nonzero */
				const uint8_t *x = (const uint8_t *)s->data + r * d;
				size_t j = 0;
#define PUT(J)                                                     \
	do {                                                       \
		if (compact)                                       \
			indices16[p] = (uint16_t)(J), values8[p] = x[J]; \
		else                                               \
			indices[p] = (uint32_t)(J), values[p] = x[J]; \
		p += x[J] != 0;                                    \
	} while (0)
				for (; j + 8 <= d; j += 8) {
					uint64_t w;
					memcpy(&w, x + j, 8);
					for (size_t q = 0; w && q < 8 && p < end; q++)
						PUT(j + q);
				}
				for (; j < d && p < end; j++)
					PUT(j);
#undef PUT
				continue;
			}
			for (size_t j = 0; j < d; j++) {
				float v = dense_at(s, r, j);
				if (v != 0.0f) {
					indices[p] = (uint32_t)j;
					values[p++] = v;
				}
			}
		}
	*s = (struct softreg_source){.kind = SOFTREG_SOURCE_CSR, .n = n, .d = d, .indptr = indptr,
				     .indices = indices, .values = values, .origin = 1 + (int)s->kind,
				     .indices16 = indices16, .values8 = values8};
	return SOFTREG_OK;
}

/* ---- half floats ---- */

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0x1f) { /* inf or NaN */
		bits = sign | 0x7f800000u | man << 13;
	} else if (exp != 0) { /* normal */
		bits = sign | (exp + 112) << 23 | man << 13;
	} else if (man == 0) { /* zero */
		bits = sign;
	} else { /* subnormal: man * 2^-24, exact in float */
		float f = (float)man * 0x1p-24f;
		memcpy(&bits, &f, 4);
		bits |= sign;
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

#ifdef SR_X86
__attribute__((target("avx,f16c"))) static void f16_f16c(const uint16_t *in, float *out, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(in + i))));
	for (; i < n; i++)
		out[i] = half_to_float(in[i]);
}
#endif

void softreg_f16_to_f32(const uint16_t *in, float *out, size_t n)
{
#ifdef SR_X86
	if (sr_cpu_has_f16c()) {
		f16_f16c(in, out, n);
		return;
	}
#endif
	for (size_t i = 0; i < n; i++)
		out[i] = half_to_float(in[i]);
}

bool sr_cpu_has_f16c(void)
{
#ifdef SR_X86
	/* CPUID leaf 1: ECX bit 29 F16C, bit 28 AVX, bit 27 OSXSAVE (the OS saves
	 * the AVX registers; XCR0 bits 1-2 say it does) */
	static int cached = -1; /* the same answer for every thread: a benign race */
	if (cached < 0) {
		unsigned a, b, c, d;
		int ok = __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1) && (c >> 28 & 1) && (c >> 27 & 1);
		if (ok) {
			unsigned lo, hi;
			__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
			ok = (lo & 6) == 6;
		}
		cached = ok;
	}
	return cached == 1;
#else
	return false;
#endif
}

/* ---- finiteness ---- */

static bool finite_f32(const float *x, size_t n)
{
	float acc = 0;
#pragma omp simd reduction(+ : acc)
	for (size_t i = 0; i < n; i++)
		acc += x[i] * 0.0f; /* NaN or inf anywhere makes this NaN */
	return acc == 0.0f;
}

static bool finite_f16(const uint16_t *x, size_t n)
{
	uint16_t bad = 0;
#pragma omp simd reduction(| : bad)
	for (size_t i = 0; i < n; i++)
		bad |= (uint16_t)((x[i] & 0x7c00) == 0x7c00);
	return !bad;
}

/* the first row of [0, n) with a non-finite value, or n */
static size_t first_bad_row(const struct softreg_dataset *ds)
{
	const struct softreg_source *s = &ds->x;
	size_t d = s->d;
	for (size_t i = 0; i < s->n; i++) {
		bool ok = true;
		switch (s->kind) {
		case SOFTREG_SOURCE_U8: return s->n;
		case SOFTREG_SOURCE_F32: ok = finite_f32((const float *)s->data + i * d, d); break;
		case SOFTREG_SOURCE_F16: ok = finite_f16((const uint16_t *)s->data + i * d, d); break;
		case SOFTREG_SOURCE_CSR:
			ok = s->values8 || finite_f32(s->values + s->indptr[i], (size_t)(s->indptr[i + 1] - s->indptr[i]));
			break;
		}
		if (!ok)
			return i;
	}
	return s->n;
}

enum softreg_result sr_check_finite(const struct softreg_dataset *ds, const char *name, char *err)
{
	size_t bad = first_bad_row(ds);
	if (bad < ds->x.n)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: row %zu holds a NaN or infinite feature value", name,
			       bad + 1);
	return SOFTREG_OK;
}
