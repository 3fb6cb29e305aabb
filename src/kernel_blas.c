/* SPDX-License-Identifier: MIT
 * kernel_blas.c: the batched kernel. Z = X W^T + b and dW = G^T X with
 * cblas_sgemm, a numerically stable softmax and cross-entropy over rows.
 *
 * A batch of m rows is cut into chunks of equal size, at most CHUNK_ROWS
 * rows, and the chunks into at most MAX_GROUPS groups; both counts depend on
 * m alone. Each thread takes a fixed range of groups; for each chunk it
 * gathers the uint8 rows into floats (so they are still in L2 for the two
 * GEMMs) and calls one-threaded GEMMs. A group accumulates its partial
 * gradient in chunk order, and the partials are summed in group order. So
 * the result does not depend on the thread count: the same model, bit for
 * bit, at any --threads.
 *
 * What was measured to choose this (softreg-bench and small C programs, the
 * minimum of repeated runs on a 2-core AMD EPYC (Zen 4), MNIST, batch 256):
 *  - the two GEMMs of a whole batch with OpenBLAS's own 2 threads: 138 us
 *    (149 us on one thread; with its Haswell kernels 347 us against 146 us,
 *    and not bit-reproducible); as 4 chunks of 64 rows, one-threaded GEMMs on
 *    2 threads: 36 us (Haswell kernels: 66 us);
 *  - chunks of 64 rows beat 32, 48, 96, 120 and 128 with both the Cooperlake
 *    and the Haswell kernels (OpenBLAS's AVX-512 small-matrix path, ~110
 *    GFLOP/s a core, ends between 120 and 127 rows here; 64 splits 256
 *    evenly on 2 or 4 threads);
 *  - prefetching the rows of a shuffled batch: an epoch 40.6 -> 30.3 ms on
 *    one thread, 23.4 -> 20.0 ms on two;
 *  - what threads write 64 KB apart (THREAD_GAP): loss_grad of a batch of
 *    4096 on 2 threads 1150 -> 770 us, now 2.0x the one-thread speed;
 *  - a vectorised exp: the softmax of 256 rows 10.6 -> 4.7 us. */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Rows per chunk, at most: see above. A chunk's floats (64 x 784 x 4 =
 * 200 KB for MNIST) stay in L2 between the gather and the two GEMMs. */
#define CHUNK_ROWS SR_CHUNK
/* A batch of at least twice this many rows is cut in two chunks or more, so
 * that two threads share it (a batch of 64: 15 us instead of 25 us on two
 * threads, and 1 us more on one). */
#define MIN_CHUNK_ROWS 16
/* Groups of chunks per batch, at most: enough for 16 threads to share the
 * work, few enough that summing the partial gradients stays cheap. */
#define MAX_GROUPS 16
/* Up to this many groups, the first thread sums the partial gradients alone
 * after the others are done: for a small batch the barrier and the reads
 * across cores of a shared sum cost more than the sum (an epoch at batch
 * 100 on 2 threads: 20.1 -> 19.2 ms; at batch 64: 24.0 -> 22.7 ms). */
#define SERIAL_SUM_GROUPS 2
/* Rows whose pixels are requested ahead of their conversion. */
#define PREFETCH_AHEAD 4
#define CACHE_LINE 64
/* Bytes left unused after each thread's X buffer and each group's partial
 * gradient, which different threads write. Measured (batch 4096, 2 threads):
 * with the X buffers 0 to 8 KB apart, the second thread's gather took 1.7x
 * as long as the first's; 32 KB apart, 1.2x; 64 KB, the same. A core's
 * prefetchers, running ahead of its writes, likely pull the neighbour's
 * lines over, and they bounce between the cores. With the partials apart
 * too, an epoch at batch 256 on 2 threads went 18.1-19.3 -> 17.1-17.8 ms.
 * The gaps are never touched, so they cost address space only. */
#define THREAD_GAP ((size_t)64 << 10)

static size_t nchunks(size_t m)
{
	size_t c = (m + CHUNK_ROWS - 1) / CHUNK_ROWS;
	return c == 1 && m >= 2 * MIN_CHUNK_ROWS ? 2 : c;
}

static size_t ngroups(size_t m)
{
	size_t c = nchunks(m);
	return c < MAX_GROUPS ? c : MAX_GROUPS;
}

/* The first of n units (rows, chunks, groups, columns) that part p of 'parts'
 * equal parts starts at: no part is more than one unit longer than another. */
static size_t part_start(size_t p, size_t n, size_t parts)
{
	return p * n / parts; /* p * n <= parts * n: rows <= 2^24 times chunks */
}

/* Floats from one group's partial gradient to the next's: whole cache
 * lines and a gap, since different threads write them. */
static size_t partial_stride(size_t k, size_t d)
{
	size_t per_line = CACHE_LINE / sizeof(float);
	return (k * d + k + per_line - 1) / per_line * per_line + THREAD_GAP / sizeof(float);
}

/* Floats from one thread's X buffer to the next's: the rows and a gap. */
static size_t x_stride(size_t d)
{
	return CHUNK_ROWS * d + THREAD_GAP / sizeof(float);
}

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

struct softreg_workspace *softreg_workspace_alloc(size_t m_max, size_t k, size_t d)
{
	if (m_max == 0 || k == 0 || d == 0 || k > SIZE_MAX / 2 / d)
		return NULL;
	int threads = omp_get_max_threads();
	size_t kd1 = k * d + k, nl = nchunks(m_max), np, nx, total = 0;
	bool ok = sr_mul(ngroups(m_max), partial_stride(k, d), &np) &&
		  d <= SIZE_MAX / 2 / CHUNK_ROWS && sr_mul((size_t)threads, x_stride(d), &nx) &&
		  add_region(&total, kd1 + k, sizeof(double)) && /* acc: the naive kernel's sums and z */
		  add_region(&total, nl, sizeof(double)) &&      /* loss: per chunk */
		  add_region(&total, nx, sizeof(float)) &&       /* X: per thread, apart */
		  add_region(&total, m_max, k * sizeof(float)) && /* Z */
		  add_region(&total, np, sizeof(float));         /* partial: per group */
	struct softreg_workspace *ws = ok ? calloc(1, sizeof(*ws)) : NULL;
	char *mem = ws ? aligned_alloc(CACHE_LINE, total) : NULL;
	if (!mem) {
		free(ws);
		return NULL;
	}
	ws->mem_ = mem;
	ws->m_max = m_max;
	ws->k = k;
	ws->d = d;
	ws->threads = threads;
	ws->chunks_max = nl;
	ws->acc = take_region(&mem, kd1 + k, sizeof(double));
	ws->loss = take_region(&mem, nl, sizeof(double)); /* doubles: see chunk_loss() */
	ws->X = take_region(&mem, nx, sizeof(float));
	ws->Z = take_region(&mem, m_max * k, sizeof(float));
	ws->partial = take_region(&mem, np, sizeof(float));
	return ws;
}

void softreg_workspace_free(struct softreg_workspace *ws)
{
	if (!ws)
		return;
	free(ws->mem_);
	free(ws);
}

/* The per-chunk loss sums are doubles, in the space internal.h types float. */
static double *chunk_loss(struct softreg_workspace *ws)
{
	return (double *)(void *)ws->loss;
}

/* OpenBLAS's OpenMP build threads a GEMM when omp_get_max_threads() > 1 and
 * omp_in_parallel() is false, which holds inside a team of one thread. Its
 * threaded GEMM splits the product by the thread count, which changes the
 * bits (seen with its Haswell kernels: batches of 63 and 64 rows differed
 * between 1 and 2 threads) and fights our own threads for the cores. Each of
 * our threads asks for one-threaded BLAS; the setting belongs to the calling
 * task and ends with the parallel region. */
static void one_threaded_blas(void)
{
	omp_set_num_threads(1);
}

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
	const float log2e = 1.44269504088896341f;
	const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f; /* ln2 = hi + lo, hi exact */
	const float shifter = 12582912.0f; /* 1.5 * 2^23: x + shifter rounds x to an integer */
	const uint32_t shifter_bits = 0x4B400000, exponent_bias = 127, mantissa_bits = 23;
	const float lowest = -87.33654f; /* ln(FLT_MIN): 2^n stays a normal float above it */
	float xc = x < lowest ? lowest : x;
	float t = xc * log2e + shifter, n = t - shifter;
	float r = xc - n * ln2_hi;
	r = r - n * ln2_lo;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
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
static double softmax_rows(float *Z, const struct softreg_batch *b, size_t i0, size_t m, size_t k)
{
	double loss = 0;
	for (size_t i = 0; i < m; i++) {
		float *z = Z + i * k, mx = z[0];
		for (size_t j = 1; j < k; j++)
			mx = z[j] > mx ? z[j] : mx;
		for (size_t j = 0; j < k; j++)
			z[j] -= mx;
		loss -= (double)z[sr_label(b, i0 + i)];
	}
	size_t n = m * k;
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		Z[i] = exp_nonpositive(Z[i]);
	for (size_t i = 0; i < m; i++) {
		float *z = Z + i * k, sum = 0;
		for (size_t j = 0; j < k; j++)
			sum += z[j];
		float inv = 1.0f / sum;
		for (size_t j = 0; j < k; j++)
			z[j] *= inv;
		loss += (double)logf(sum);
	}
	return loss;
}

static const uint8_t *pixel_row(const struct softreg_batch *b, size_t i, size_t d)
{
	return b->pixels + (size_t)(b->rows ? b->rows[i] : i) * d;
}

/* Ask for the pixels of rows [i0, i1) to be brought into cache. The rows of
 * a shuffled batch lie at random places in a data set larger than the
 * caches: without this, the gather waits on DRAM row after row. */
static void prefetch_rows(const struct softreg_batch *b, size_t i0, size_t i1, size_t d)
{
	for (size_t i = i0; i < i1; i++) {
		const uint8_t *p = pixel_row(b, i, d);
		for (size_t off = 0; off < d; off += CACHE_LINE)
			__builtin_prefetch(p + off, 0, 3);
		__builtin_prefetch(p + d - 1, 0, 3); /* a row need not start on a line */
	}
}

/* The same floats as sr_gather_rows() (the naive kernel's gather), with each
 * row's pixels requested PREFETCH_AHEAD rows before they are converted. */
static void gather_rows(const struct softreg_model *m, const struct softreg_batch *b, size_t i0, size_t i1,
			float *X)
{
	size_t d = m->d;
	prefetch_rows(b, i0, i0 + PREFETCH_AHEAD < i1 ? i0 + PREFETCH_AHEAD : i1, d);
	for (size_t i = i0; i < i1; i++) {
		if (i + PREFETCH_AHEAD < i1)
			prefetch_rows(b, i + PREFETCH_AHEAD, i + PREFETCH_AHEAD + 1, d);
		sr_gather_row(m, pixel_row(b, i, d), X + (i - i0) * d);
	}
}

/* The floats of rows [i0, i1): the caller's, or gathered into X. */
static const float *chunk_rows(const struct softreg_model *m, const struct softreg_batch *b, size_t i0,
			       size_t i1, float *X)
{
	if (b->X)
		return b->X + i0 * m->d;
	gather_rows(m, b, i0, i1, X);
	return X;
}

/* Z (mc, k) = X W^T + b */
static void chunk_logits(const struct softreg_model *m, const float *X, size_t mc, float *Z)
{
	size_t k = m->k, d = m->d;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mc, (int)k, (int)d, 1.0f, X, (int)d, m->W,
		    (int)d, 0.0f, Z, (int)k);
	for (size_t i = 0; i < mc; i++)
		for (size_t j = 0; j < k; j++)
			Z[i * k + j] += m->b[j];
}

static int team_size(const struct softreg_workspace *ws, size_t units)
{
	int t = omp_get_max_threads();
	if (t > ws->threads)
		t = ws->threads;
	if ((size_t)t > units)
		t = (int)units;
	return t < 1 ? 1 : t;
}

/* What the threads of one loss_grad share. */
struct lg {
	const struct softreg_model *m;
	const struct softreg_batch *b;
	struct softreg_workspace *ws;
	size_t nc, ng, stride; /* chunks, groups, floats between partials */
	bool grad;
};

/* G (mc, k) = S - Y in place; P (k, d) (+)= G^T X and pb (k) (+)= column sums
 * of G, where 'first' starts the group's partial */
static void chunk_grad(const struct lg *s, const float *X, float *G, size_t i0, size_t mc, float *P, bool first)
{
	size_t k = s->m->k, d = s->m->d;
	for (size_t i = 0; i < mc; i++)
		G[i * k + sr_label(s->b, i0 + i)] -= 1.0f;
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)d, (int)mc, 1.0f, G, (int)k, X, (int)d,
		    first ? 0.0f : 1.0f, P, (int)d);
	float *pb = P + k * d;
	if (first)
		memset(pb, 0, k * sizeof(float));
	for (size_t i = 0; i < mc; i++)
		for (size_t j = 0; j < k; j++)
			pb[j] += G[i * k + j];
}

/* Chunks [c0, c1) of one thread, in order: a whole number of groups. While
 * a chunk's GEMMs run, the next chunk's rows are fetched. */
static void thread_chunks(const struct lg *s, size_t c0, size_t c1, float *X)
{
	const struct softreg_model *m = s->m;
	size_t k = m->k, M = s->b->m, g = 0;
	double *loss = chunk_loss(s->ws);
	for (size_t c = c0; c < c1; c++) {
		while (part_start(g + 1, s->nc, s->ng) <= c)
			g++;
		size_t i0 = part_start(c, M, s->nc), i1 = part_start(c + 1, M, s->nc), mc = i1 - i0;
		const float *Xc = chunk_rows(m, s->b, i0, i1, X);
		if (!s->b->X && c + 1 < c1)
			prefetch_rows(s->b, i1, part_start(c + 2, M, s->nc), m->d);
		float *Z = s->ws->Z + i0 * k;
		chunk_logits(m, Xc, mc, Z);
		loss[c] = softmax_rows(Z, s->b, i0, mc, k);
		if (s->grad)
			chunk_grad(s, Xc, Z, i0, mc, s->ws->partial + g * s->stride, c == part_start(g, s->nc, s->ng));
	}
}

/* out[j - j0] = inv * (sum of partial[g][j] over the groups, in group order) */
static void sum_partials(const struct lg *s, size_t j0, size_t j1, float *out, float inv)
{
	const float *P = s->ws->partial;
	for (size_t j = j0; j < j1; j++)
		out[j - j0] = P[j];
	for (size_t g = 1; g < s->ng; g++)
		for (size_t j = j0; j < j1; j++)
			out[j - j0] += P[g * s->stride + j];
	for (size_t j = j0; j < j1; j++)
		out[j - j0] *= inv;
}

/* Part t of T of [dW, db]; the sum of each entry is in group order, so which
 * thread sums it does not matter. */
static void thread_sum(const struct lg *s, size_t t, size_t T, float *dW, float *db, float inv)
{
	size_t kd = s->m->k * s->m->d, kd1 = kd + s->m->k;
	size_t j0 = part_start(t, kd1, T), j1 = part_start(t + 1, kd1, T);
	if (dW && j0 < kd)
		sum_partials(s, j0, j1 < kd ? j1 : kd, dW + j0, inv);
	if (db && j1 > kd) {
		size_t b0 = j0 > kd ? j0 : kd;
		sum_partials(s, b0, j1, db + (b0 - kd), inv);
	}
}

static float empty_batch(const struct softreg_model *m, float *dW, float *db)
{
	if (dW)
		memset(dW, 0, m->k * m->d * sizeof(float));
	if (db)
		memset(db, 0, m->k * sizeof(float));
	return 0;
}

// X (m, d), W (k, d), b (k), dW (k, d), db (k); G = S - Y overwrites Z (m, k)
static float blas_loss_grad(const struct softreg_model *m, const struct softreg_batch *b, float *dW,
			    float *db, struct softreg_workspace *ws)
{
	struct lg s = {.m = m, .b = b, .ws = ws, .nc = nchunks(b->m), .ng = ngroups(b->m),
		       .stride = partial_stride(m->k, m->d), .grad = dW || db};
	if (b->m == 0) /* an empty batch: no loss, no gradient */
		return empty_batch(m, dW, db);
	float inv = 1.0f / (float)b->m;
#pragma omp parallel num_threads(team_size(ws, s.ng))
	{
		one_threaded_blas();
		size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
		size_t g0 = part_start(t, s.ng, T), g1 = part_start(t + 1, s.ng, T);
		thread_chunks(&s, part_start(g0, s.nc, s.ng), part_start(g1, s.nc, s.ng), ws->X + t * x_stride(m->d));
		if (s.grad && s.ng > SERIAL_SUM_GROUPS) {
#pragma omp barrier
			thread_sum(&s, t, T, dW, db, inv);
		}
	}
	if (s.grad && s.ng <= SERIAL_SUM_GROUPS)
		thread_sum(&s, 0, 1, dW, db, inv);
	double total = 0, *loss = chunk_loss(ws);
	for (size_t c = 0; c < s.nc; c++)
		total += loss[c];
	return (float)(total / (double)b->m);
}

// X (m, d), W (k, d), b (k), Z (m, k)
static void blas_logits(const struct softreg_model *m, const struct softreg_batch *b, float *Z,
			struct softreg_workspace *ws)
{
	size_t nc = nchunks(b->m);
#pragma omp parallel num_threads(team_size(ws, nc))
	{
		one_threaded_blas();
		size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
		float *X = ws->X + t * x_stride(m->d);
		for (size_t c = part_start(t, nc, T); c < part_start(t + 1, nc, T); c++) {
			size_t i0 = part_start(c, b->m, nc), i1 = part_start(c + 1, b->m, nc);
			chunk_logits(m, chunk_rows(m, b, i0, i1, X), i1 - i0, Z + i0 * m->k);
		}
	}
}

// Z (m, k) -> probabilities in place; labels (m)
static float blas_softmax_loss(float *Z, const uint8_t *labels, size_t m, size_t k)
{
	struct softreg_batch b = {.m = m, .labels = labels};
	size_t nc = nchunks(m);
	int threads = omp_get_max_threads();
	double total = 0;
	if (m == 0)
		return 0;
	/* per-chunk sums added in chunk order: deterministic */
#pragma omp parallel for schedule(static) ordered num_threads((size_t)threads < nc ? threads : (int)nc)
	for (size_t c = 0; c < nc; c++) {
		size_t i0 = part_start(c, m, nc), i1 = part_start(c + 1, m, nc);
		double l = softmax_rows(Z + i0 * k, &b, i0, i1 - i0, k);
#pragma omp ordered
		total += l;
	}
	return (float)(total / (double)m);
}

const struct softreg_kernel softreg_kernel_blas = {
	.name = "blas",
	.loss_grad = blas_loss_grad,
	.logits = blas_logits,
	.softmax_loss = blas_softmax_loss,
};

const struct softreg_kernel *softreg_kernel_by_name(const char *name)
{
	if (strcmp(name, "blas") == 0)
		return &softreg_kernel_blas;
	if (strcmp(name, "naive") == 0)
		return &softreg_kernel_naive;
	return NULL;
}

/* ---- threads and the BLAS in use ---- */

/* OpenBLAS's own entry points (declared in its cblas.h, repeated here for
 * builds against another cblas.h) */
extern void openblas_set_num_threads(int);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);
extern int openblas_get_parallel(void);

int softreg_set_threads(int n)
{
	if (n <= 0)
		n = omp_get_num_procs();
	omp_set_num_threads(n);
	openblas_set_num_threads(n);
	return n;
}

int softreg_get_threads(void)
{
	return omp_get_max_threads();
}

const char *softreg_blas_config(void)
{
	return openblas_get_config();
}

const char *softreg_blas_corename(void)
{
	return openblas_get_corename();
}

const char *softreg_blas_parallel(void)
{
	switch (openblas_get_parallel()) {
	case 0: return "sequential";
	case 1: return "pthreads";
	case 2: return "openmp";
	}
	return "unknown";
}
