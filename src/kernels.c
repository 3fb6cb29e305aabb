/* SPDX-License-Identifier: MIT
 * kernels.c: the kernel table, the workspaces, and the softmax that the fast
 * kernels share. */
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct softreg_kernel *const softreg_kernels[] = {&softreg_kernel_naive, &softreg_kernel_blas,
							&softreg_kernel_sparse, NULL};

const struct softreg_kernel *softreg_kernel_by_name(const char *name)
{
	for (size_t i = 0; softreg_kernels[i]; i++)
		if (strcmp(name, softreg_kernels[i]->name) == 0)
			return softreg_kernels[i];
	return NULL;
}

int softreg_kernel_takes(const struct softreg_kernel *k, enum softreg_source_kind kind)
{
	return (unsigned)kind < SOFTREG_SOURCE_KINDS && (k->sources >> kind & 1u);
}

const struct softreg_kernel *softreg_kernel_auto(enum softreg_source_kind kind)
{
	return kind == SOFTREG_SOURCE_CSR ? &softreg_kernel_sparse : &softreg_kernel_blas;
}

/* whether OpenBLAS runs its AVX-512 sgemm kernels: the cores it names so */
static bool blas_avx512(void)
{
	static const char *const cores[] = {"skylakex", "cooperlake", "sapphirerapids"};
	const char *core = softreg_blas_corename();
	for (size_t i = 0; core && i < sizeof(cores) / sizeof(cores[0]); i++)
		if (strcasecmp(core, cores[i]) == 0)
			return true;
	return false;
}

void softreg_sparse_rule(double *density, size_t *min_batch)
{
	bool wide = blas_avx512();
	if (density)
		*density = wide ? SOFTREG_SPARSE_DENSITY_AVX512 : SOFTREG_SPARSE_DENSITY;
	if (min_batch)
		*min_batch = wide ? SOFTREG_SPARSE_MIN_BATCH_AVX512 : SOFTREG_SPARSE_MIN_BATCH;
}

const struct softreg_kernel *softreg_kernel_choose(const struct softreg_source *src, const struct softreg_model *m,
						  size_t batch, double *density)
{
	double rho = softreg_source_density(src);
	if (density)
		*density = rho;
	if (src->kind == SOFTREG_SOURCE_CSR)
		return &softreg_kernel_sparse;
	double most;
	size_t min_batch;
	softreg_sparse_rule(&most, &min_batch);
	bool sparse = rho <= most && (batch == 0 || batch >= min_batch);
	return sparse && !sr_model_centres(m) ? &softreg_kernel_sparse : &softreg_kernel_blas;
}

/* ---- workspaces ---- */

#define CACHE_LINE 64

/* Add a region of 'count' items of 'size' bytes, rounded up to cache lines,
 * to *total; false on overflow. */
static bool add_region(size_t *total, size_t count, size_t size)
{
	size_t bytes;
	if (!sr_mul(count, size, &bytes) || bytes > SIZE_MAX - CACHE_LINE)
		return false;
	bytes = (bytes + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	return !__builtin_add_overflow(*total, bytes, total);
}

static void *take_region(char **p, size_t count, size_t size)
{
	void *r = *p;
	*p += (count * size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE; /* checked by add_region */
	return r;
}

/* The sizes of a workspace's parts, in items; zero for the parts a kernel
 * does not use. */
struct layout {
	size_t acc, loss, X, Z, partial, Wt, Gt, Zp, bk, gb, ztmp;
};

static bool layout_of(const struct softreg_kernel *kern, size_t m_max, size_t k, size_t d, int threads,
		      struct layout *L)
{
	memset(L, 0, sizeof(*L));
	size_t kd;
	if (!sr_mul(k, d, &kd) || kd > SIZE_MAX / 8 - 2 * k || !sr_mul(m_max, k, &L->Z))
		return false;
	if (kern == &softreg_kernel_naive) {
		L->acc = kd + 2 * k; /* sums, then one row's logits */
		L->X = d;
		return true;
	}
	L->loss = kern == &softreg_kernel_sparse ? sr_sparse_nchunks(m_max) : sr_blas_nchunks(m_max, k, d);
	if (kern == &softreg_kernel_sparse) {
		size_t groups = sr_sparse_groups_max(k);
		L->bk = sr_sparse_blocks(k) * 8;
		L->gb = groups * 2 * L->bk; /* a block's 8 floats a cache line apart */
		/* row groups: a copy of W per thread, for at most as many threads as groups */
		size_t copies = groups > 1 ? ((size_t)threads < groups ? (size_t)threads : groups) : 1;
		if (!sr_mul(L->bk, d, &L->Wt) || !sr_mul(copies, L->Wt, &L->Wt))
			return false;
		/* row groups (k <= 16): each group's Gt and gb together; else Gt alone */
		size_t gs = groups > 1 ? sr_sparse_group_stride(k, d) : L->bk * d;
		return sr_mul(groups, gs, &L->Gt) && sr_mul(m_max, L->bk, &L->Zp) &&
		       sr_mul((size_t)threads, L->bk, &L->ztmp);
	}
	if (kern == &softreg_kernel_blas) {
		size_t per_thread = sr_blas_x_stride(k, d), groups = sr_blas_ngroups(m_max, k, d);
		return per_thread && sr_mul((size_t)threads, per_thread, &L->X) &&
		       sr_mul(groups, sr_blas_partial_stride(k, d), &L->partial);
	}
	return true;
}

static bool layout_bytes(const struct layout *L, size_t *total)
{
	*total = 0;
	return add_region(total, L->acc, sizeof(double)) && add_region(total, L->loss, sizeof(double)) &&
	       add_region(total, L->X, sizeof(float)) && add_region(total, L->Z, sizeof(float)) &&
	       add_region(total, L->partial, sizeof(float)) && add_region(total, L->Wt, sizeof(float)) &&
	       add_region(total, L->Gt, sizeof(float)) && add_region(total, L->Zp, sizeof(float)) &&
	       add_region(total, L->bk, sizeof(float)) && add_region(total, L->gb, sizeof(float)) &&
	       add_region(total, L->ztmp, sizeof(float));
}

size_t softreg_workspace_bytes(const struct softreg_kernel *kernel, size_t m_max, size_t k, size_t d)
{
	struct layout L;
	size_t total;
	if (!kernel || !layout_of(kernel, m_max, k, d, omp_get_max_threads(), &L) || !layout_bytes(&L, &total))
		return 0;
	return total;
}

struct softreg_workspace *softreg_workspace_alloc(const struct softreg_kernel *kernel, size_t m_max, size_t k,
						  size_t d)
{
	return sr_workspace_alloc(kernel, m_max, k, d, omp_get_max_threads());
}

struct softreg_workspace *sr_workspace_alloc(const struct softreg_kernel *kernel, size_t m_max, size_t k, size_t d,
					     int threads)
{
	if (!kernel || m_max == 0 || k == 0 || d == 0 || threads < 1)
		return NULL;
	struct layout L;
	size_t total;
	if (!layout_of(kernel, m_max, k, d, threads, &L) || !layout_bytes(&L, &total))
		return NULL;
	struct softreg_workspace *ws = calloc(1, sizeof(*ws));
	char *mem = ws ? aligned_alloc(CACHE_LINE, total ? total : CACHE_LINE) : NULL;
	if (!mem) {
		free(ws);
		return NULL;
	}
	ws->mem_ = mem;
	ws->kernel = kernel;
	ws->m_max = m_max;
	ws->k = k;
	ws->d = d;
	ws->threads = threads;
	ws->chunks_max = L.loss;
	ws->acc = take_region(&mem, L.acc, sizeof(double));
	ws->loss = take_region(&mem, L.loss, sizeof(double));
	ws->X = take_region(&mem, L.X, sizeof(float));
	ws->Z = take_region(&mem, L.Z, sizeof(float));
	ws->partial = take_region(&mem, L.partial, sizeof(float));
	ws->Wt = take_region(&mem, L.Wt, sizeof(float));
	ws->Gt = take_region(&mem, L.Gt, sizeof(float));
	ws->Zp = take_region(&mem, L.Zp, sizeof(float));
	ws->bk = take_region(&mem, L.bk, sizeof(float));
	ws->gb = take_region(&mem, L.gb, sizeof(float));
	ws->ztmp = take_region(&mem, L.ztmp, sizeof(float));
	return ws;
}

void softreg_workspace_free(struct softreg_workspace *ws)
{
	if (!ws)
		return;
	sr_par_free(ws->par);
	free(ws->mem_);
	free(ws);
}

/* ---- the fast kernels' softmax ---- */

/*
 * e^x for x <= 0, within 1 ulp (checked against exp() on every third float
 * of [-87.34, 0]), and 0 below ln(FLT_MIN) = -87.34, where e^x would be
 * subnormal: next to the row's largest term, 1, it adds nothing. libm's expf
 * is a call per element that the compiler cannot vectorise: 3 ns each, half
 * the softmax. This is Cody and Waite's reduction x = n ln2 + r, |r| <=
 * ln2 / 2, and Cephes' expf polynomial for e^r, with 2^n built in the
 * exponent bits: branch-free, so a loop of it vectorises (0.3 ns each).
 */
static inline float exp_nonpositive(float x)
{
	const float log2e = SR_EXP_LOG2E, ln2_hi = SR_EXP_LN2_HI, ln2_lo = SR_EXP_LN2_LO;
	const float shifter = SR_EXP_SHIFTER;
	const uint32_t shifter_bits = SR_EXP_SHIFTER_BITS, exponent_bias = 127, mantissa_bits = 23;
	const float lowest = SR_EXP_LOWEST;
	float xc = x < lowest ? lowest : x;
	float t = xc * log2e + shifter, n = t - shifter;
	float r = xc - n * ln2_hi;
	r = r - n * ln2_lo;
	float p = SR_EXP_P0;
	p = p * r + SR_EXP_P1;
	p = p * r + SR_EXP_P2;
	p = p * r + SR_EXP_P3;
	p = p * r + SR_EXP_P4;
	p = p * r + SR_EXP_P5;
	p = p * (r * r) + r + 1.0f;
	uint32_t bits; /* unsigned: a NaN's bits shift without overflow (its p is NaN anyway) */
	memcpy(&bits, &t, sizeof(bits)); /* the low bits of t hold n */
	bits = (bits - shifter_bits + exponent_bias) << mantissa_bits;
	float scale;
	memcpy(&scale, &bits, sizeof(scale));
	return x < lowest ? 0.0f : p * scale;
}

/* Rows of Z (m, k) to probabilities in place; returns the summed (not mean)
 * cross-entropy of the batch's labels of rows [i0, i0 + m). Each row is
 * shifted by its max, so every exponent is <= 0 and the sum >= 1; the loss
 * of a row is then log(sum) - (z_y - max). */
double sr_softmax_rows(float *Z, const struct softreg_batch *b, size_t i0, size_t m, size_t k)
{
	return sr_softmax_rows_ld(Z, k, b, i0, m, k);
}

double sr_softmax_rows_ld(float *Z, size_t ld, const struct softreg_batch *b, size_t i0, size_t m, size_t k)
{
	double loss = 0;
	for (size_t i = 0; i < m; i++) {
		float *z = Z + i * ld, mx = z[0];
		for (size_t j = 1; j < k; j++)
			mx = z[j] > mx ? z[j] : mx;
		for (size_t j = 0; j < k; j++)
			z[j] -= mx;
		loss -= (double)z[sr_label(b, i0 + i)];
	}
	if (ld == k) { /* one loop over the rows: it vectorises best */
		size_t n = m * k;
#pragma omp simd
		for (size_t i = 0; i < n; i++)
			Z[i] = exp_nonpositive(Z[i]);
	} else {
		for (size_t i = 0; i < m; i++) {
			float *z = Z + i * ld;
#pragma omp simd
			for (size_t j = 0; j < k; j++)
				z[j] = exp_nonpositive(z[j]);
		}
	}
	for (size_t i = 0; i < m; i++) {
		float *z = Z + i * ld;
		/* the loss from the sum in double: a float sum's roundings biased F
		 * low by ~1e-7, and a float log of it is noise that L-BFGS's line
		 * search near the optimum mistakes for slope (both measured) */
		double sumd = 0;
		for (size_t j = 0; j < k; j++)
			sumd += z[j];
		float inv = 1.0f / (float)sumd;
		for (size_t j = 0; j < k; j++)
			z[j] *= inv;
		loss += log(sumd);
	}
	return loss;
}

double sr_softmax_row(float *z, size_t k, uint32_t y)
{
	float mx = z[0];
	for (size_t j = 1; j < k; j++)
		mx = z[j] > mx ? z[j] : mx;
	float zy = z[y] - mx;
#pragma omp simd
	for (size_t j = 0; j < k; j++)
		z[j] = exp_nonpositive(z[j] - mx);
	double sumd = 0; /* in double: see sr_softmax_rows_ld() */
	for (size_t j = 0; j < k; j++)
		sumd += z[j];
	float inv = 1.0f / (float)sumd;
	for (size_t j = 0; j < k; j++)
		z[j] *= inv;
	return log(sumd) - (double)zy;
}

double sr_softmax_loss(float *Z, const uint32_t *y, size_t m, size_t k)
{
	struct softreg_source none = {0};
	struct softreg_batch b = {.src = &none, .y = y, .m = m};
	size_t nc = (m + SR_CHUNK - 1) / SR_CHUNK;
	int threads = omp_get_max_threads();
	double total = 0;
	/* per-chunk sums added in chunk order: deterministic */
#pragma omp parallel for schedule(static) ordered num_threads((size_t)threads < nc ? threads : (int)(nc ? nc : 1))
	for (size_t c = 0; c < nc; c++) {
		size_t i0 = c * SR_CHUNK, i1 = i0 + SR_CHUNK < m ? i0 + SR_CHUNK : m;
		double l = sr_softmax_rows(Z + i0 * k, &b, i0, i1 - i0, k);
#pragma omp ordered
		total += l;
	}
	return total;
}
