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
#include "dist.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Rows per chunk, at most: see above. A chunk's floats (64 x 784 x 4 =
 * 200 KB for MNIST) stay in L2 between the gather and the two GEMMs. For a
 * large model (k*d >= BIG_MODEL floats) each chunk's GEMM 2 reads and writes
 * the whole k*d partial, so chunks are longer there: BIG_CHUNK_ROWS. */
#define CHUNK_ROWS SR_CHUNK
#define BIG_MODEL ((size_t)1 << 18)
#define BIG_CHUNK_ROWS 256
/* A batch of at least twice this many rows is cut in two chunks or more, so
 * that two threads share it (a batch of 64: 15 us instead of 25 us on two
 * threads, and 1 us more on one). */
#define MIN_CHUNK_ROWS 16
/* Groups of chunks per batch, at most: enough for 16 threads to share the
 * work, few enough that summing the partial gradients stays cheap. */
#define MAX_GROUPS 16
/* The partial gradients of a batch take at most this many floats (128 MiB),
 * so a large model has fewer groups (k = 1000, d = 1024: 8 groups, 32 MB);
 * at least one. */
#define PARTIAL_BUDGET ((size_t)32 << 20)
/* Up to this many groups, the first thread sums the partial gradients alone
 * after the others are done: for a small batch the barrier and the reads
 * across cores of a shared sum cost more than the sum (an epoch at batch
 * 100 on 2 threads: 20.1 -> 19.2 ms; at batch 64: 24.0 -> 22.7 ms). */
#define SERIAL_SUM_GROUPS 2
/* Rows whose features are requested ahead of their conversion. */
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

static size_t chunk_rows(size_t k, size_t d)
{
	return k * d >= BIG_MODEL ? BIG_CHUNK_ROWS : CHUNK_ROWS;
}

static size_t nchunks(size_t m, size_t k, size_t d)
{
	size_t r = chunk_rows(k, d), c = (m + r - 1) / r;
	return c == 1 && m >= 2 * MIN_CHUNK_ROWS ? 2 : c;
}

static size_t ngroups(size_t m, size_t k, size_t d)
{
	size_t c = nchunks(m, k, d), budget = PARTIAL_BUDGET / (k * d + k);
	size_t g = c < MAX_GROUPS ? c : MAX_GROUPS;
	return g < budget ? g : (budget ? budget : 1);
}

size_t sr_blas_nchunks(size_t m, size_t k, size_t d)
{
	return nchunks(m, k, d);
}

size_t sr_blas_ngroups(size_t m, size_t k, size_t d)
{
	return ngroups(m, k, d);
}

/* Floats from one group's partial gradient to the next's: whole cache
 * lines and a gap, since different threads write them. */
size_t sr_blas_partial_stride(size_t k, size_t d)
{
	size_t per_line = CACHE_LINE / sizeof(float);
	return (k * d + k + per_line - 1) / per_line * per_line + THREAD_GAP / sizeof(float);
}

/* Floats from one thread's X buffer to the next's: the rows and a gap. */
size_t sr_blas_x_stride(size_t k, size_t d)
{
	size_t x;
	return sr_mul(chunk_rows(k, d), d, &x) && x <= SIZE_MAX / 8 ? x + THREAD_GAP / sizeof(float) : 0;
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

static size_t elem_size(enum softreg_source_kind kind)
{
	return kind == SOFTREG_SOURCE_U8 ? 1 : kind == SOFTREG_SOURCE_F16 ? 2 : 4;
}

/* Ask for the features of rows [i0, i1) to be brought into cache. The rows
 * of a shuffled batch lie at random places in a data set larger than the
 * caches: without this, the gather waits on DRAM row after row. Always
 * inlined: as a function of its own GCC finds it free of side effects and
 * deletes every call (seen: an epoch 36 -> 48 ms, the gather 4x slower). */
static inline __attribute__((always_inline)) void prefetch_rows(const struct softreg_batch *b, size_t i0, size_t i1, size_t d)
{
	size_t bytes = d * elem_size(b->src->kind);
	for (size_t i = i0; i < i1; i++)
		sr_prefetch_span((const char *)b->src->data + sr_row(b, i) * bytes, bytes, false);
}

/* The same floats as sr_gather_rows() (the naive kernel's gather), with each
 * row's features requested PREFETCH_AHEAD rows before they are converted. */
static void gather_rows(const struct softreg_model *m, const struct softreg_batch *b, size_t i0, size_t i1,
			float *X)
{
	size_t d = m->d;
	bool u8 = b->src->kind == SOFTREG_SOURCE_U8;
	prefetch_rows(b, i0, i0 + PREFETCH_AHEAD < i1 ? i0 + PREFETCH_AHEAD : i1, d);
	for (size_t i = i0; i < i1; i++) {
		if (i + PREFETCH_AHEAD < i1)
			prefetch_rows(b, i + PREFETCH_AHEAD, i + PREFETCH_AHEAD + 1, d);
		if (u8)
			sr_gather_row_u8(m, (const uint8_t *)b->src->data + sr_row(b, i) * d, X + (i - i0) * d);
		else
			sr_gather_row(m, b->src, sr_row(b, i), X + (i - i0) * d);
	}
}

/* The floats of rows [i0, i1): in place (float32 rows in order, no
 * preprocessing), or gathered into X. */
static const float *chunk_rows_of(const struct softreg_model *m, const struct softreg_batch *b, size_t i0,
				  size_t i1, float *X)
{
	if (sr_rows_in_place(m, b))
		return (const float *)b->src->data + (b->first + i0) * m->d;
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

static bool prefetchable(const struct softreg_batch *b)
{
	return b->src->kind != SOFTREG_SOURCE_CSR;
}

/* Chunks [c0, c1) of one thread, in order: a whole number of groups. While
 * a chunk's GEMMs run, the next chunk's rows are fetched. */
static void thread_chunks(const struct lg *s, size_t c0, size_t c1, float *X)
{
	const struct softreg_model *m = s->m;
	size_t k = m->k, M = s->b->m, g = 0;
	for (size_t c = c0; c < c1; c++) {
		while (sr_part(g + 1, s->nc, s->ng) <= c)
			g++;
		size_t i0 = sr_part(c, M, s->nc), i1 = sr_part(c + 1, M, s->nc), mc = i1 - i0;
		const float *Xc = chunk_rows_of(m, s->b, i0, i1, X);
		if (c + 1 < c1 && prefetchable(s->b) && !sr_rows_in_place(m, s->b))
			prefetch_rows(s->b, i1, sr_part(c + 2, M, s->nc), m->d);
		float *Z = s->ws->Z + i0 * k;
		chunk_logits(m, Xc, mc, Z);
		s->ws->loss[c] = sr_softmax_rows(Z, s->b, i0, mc, k);
		if (s->grad)
			chunk_grad(s, Xc, Z, i0, mc, s->ws->partial + g * s->stride, c == sr_part(g, s->nc, s->ng));
	}
}

/* out[j - j0] = the sum of partial[g][j] over the groups, in group order */
static void sum_partials(const struct lg *s, size_t j0, size_t j1, float *out)
{
	const float *P = s->ws->partial;
	for (size_t j = j0; j < j1; j++)
		out[j - j0] = P[j];
	for (size_t g = 1; g < s->ng; g++)
		for (size_t j = j0; j < j1; j++)
			out[j - j0] += P[g * s->stride + j];
}

/* Part t of T of [dW, db]; the sum of each entry is in group order, so which
 * thread sums it does not matter. */
static void thread_sum(const struct lg *s, size_t t, size_t T, float *grad)
{
	size_t kd1 = s->m->k * s->m->d + s->m->k;
	size_t j0 = sr_part(t, kd1, T), j1 = sr_part(t + 1, kd1, T);
	sum_partials(s, j0, j1, grad + j0);
}

/* Groups [ga, gb) of the batch: their chunks' losses into ws->loss, their
 * partial gradients into ws->partial; the threads share them */
static void compute_groups(const struct lg *s, size_t ga, size_t gb, float *grad_sum)
{
	const struct softreg_model *m = s->m;
	struct softreg_workspace *ws = s->ws;
	bool sum_here = grad_sum && s->ng > SERIAL_SUM_GROUPS;
#pragma omp parallel num_threads(team_size(ws, gb - ga))
	{
		one_threaded_blas();
		size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
		size_t g0 = ga + sr_part(t, gb - ga, T), g1 = ga + sr_part(t + 1, gb - ga, T);
		thread_chunks(s, sr_part(g0, s->nc, s->ng), sr_part(g1, s->nc, s->ng),
			      ws->X + t * sr_blas_x_stride(m->k, m->d));
		if (sum_here) {
#pragma omp barrier
			thread_sum(s, t, T, grad_sum);
		}
	}
	if (grad_sum && !sum_here)
		thread_sum(s, 0, 1, grad_sum);
}

static double chunk_loss_sum(const struct lg *s)
{
	double total = 0;
	for (size_t c = 0; c < s->nc; c++)
		total += s->ws->loss[c];
	return total;
}

// X (m, d), W (k, d), b (k), grad_sum (k*d + k); G = S - Y overwrites Z (m, k)
static double blas_loss_grad(const struct softreg_model *m, const struct softreg_batch *b, float *grad_sum,
			     struct softreg_workspace *ws)
{
	struct lg s = {.m = m, .b = b, .ws = ws, .nc = nchunks(b->m, m->k, m->d), .ng = ngroups(b->m, m->k, m->d),
		       .stride = sr_blas_partial_stride(m->k, m->d), .grad = grad_sum != NULL};
	if (b->m == 0) { /* an empty batch: no loss, no gradient */
		if (grad_sum)
			memset(grad_sum, 0, (m->k * m->d + m->k) * sizeof(float));
		return 0;
	}
	compute_groups(&s, 0, s.ng, grad_sum);
	return chunk_loss_sum(&s);
}

/* The same sums with the groups shared among the processes of ws->dist
 * (SGD under MPI): this process computes its share of the groups, every
 * process gathers every partial and chunk loss, and each adds them in group
 * and chunk order as above: the same bits as one process. */
double sr_blas_loss_grad_shared(const struct softreg_model *m, const struct softreg_batch *b, float *grad_sum,
				struct softreg_workspace *ws)
{
	struct lg s = {.m = m, .b = b, .ws = ws, .nc = nchunks(b->m, m->k, m->d), .ng = ngroups(b->m, m->k, m->d),
		       .stride = sr_blas_partial_stride(m->k, m->d), .grad = grad_sum != NULL};
	if (b->m == 0)
		return blas_loss_grad(m, b, grad_sum, ws);
	size_t g0, g1, per_line = CACHE_LINE / sizeof(float);
	sr_dist_share(ws->dist, s.ng, &g0, &g1);
	if (g1 > g0)
		compute_groups(&s, g0, g1, NULL);
	/* one message: each group's chunk losses ride in the gap after its
	 * partial (whole cache lines on, so doubles are aligned), when they fit */
	size_t kd1 = s.grad ? (m->k * m->d + m->k + per_line - 1) / per_line * per_line : 0;
	size_t cpg = (s.nc + s.ng - 1) / s.ng, gap = s.stride - (m->k * m->d + m->k + per_line - 1) / per_line * per_line;
	bool ride = 2 * cpg <= gap;
	for (size_t g = g0; ride && g < g1; g++) {
		double *l = (double *)(void *)(ws->partial + g * s.stride + kd1);
		for (size_t c = sr_part(g, s.nc, s.ng); c < sr_part(g + 1, s.nc, s.ng); c++)
			l[c - sr_part(g, s.nc, s.ng)] = ws->loss[c];
	}
	sr_dist_gather_groups(ws->dist, ws->partial, s.stride, ride ? kd1 + 2 * cpg : kd1, s.ng, ride ? NULL : ws->loss,
			      s.nc);
	for (size_t g = 0; ride && g < s.ng; g++) {
		const double *l = (const double *)(const void *)(ws->partial + g * s.stride + kd1);
		for (size_t c = sr_part(g, s.nc, s.ng); c < sr_part(g + 1, s.nc, s.ng); c++)
			ws->loss[c] = l[c - sr_part(g, s.nc, s.ng)];
	}
	if (grad_sum) {
		size_t T = (size_t)team_size(ws, s.ng > SERIAL_SUM_GROUPS ? (size_t)ws->threads : 1);
#pragma omp parallel num_threads((int)T)
		thread_sum(&s, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), grad_sum);
	}
	return chunk_loss_sum(&s);
}

// X (m, d), W (k, d), b (k), Z (m, k)
static void blas_logits(const struct softreg_model *m, const struct softreg_batch *b, float *Z,
			struct softreg_workspace *ws)
{
	size_t nc = nchunks(b->m, m->k, m->d);
#pragma omp parallel num_threads(team_size(ws, nc))
	{
		one_threaded_blas();
		size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
		float *X = ws->X + t * sr_blas_x_stride(m->k, m->d);
		for (size_t c = sr_part(t, nc, T); c < sr_part(t + 1, nc, T); c++) {
			size_t i0 = sr_part(c, b->m, nc), i1 = sr_part(c + 1, b->m, nc);
			chunk_logits(m, chunk_rows_of(m, b, i0, i1, X), i1 - i0, Z + i0 * m->k);
		}
	}
}

const struct softreg_kernel softreg_kernel_blas = {
	.name = "blas",
	.sources = 1u << SOFTREG_SOURCE_U8 | 1u << SOFTREG_SOURCE_F32 | 1u << SOFTREG_SOURCE_F16,
	.about = "dense rows in chunks: cblas_sgemm and a vectorised softmax",
	.loss_grad = blas_loss_grad,
	.logits = blas_logits,
	.softmax_loss = sr_softmax_loss,
};

/* ---- threads and the BLAS in use ---- */

/* OpenBLAS's own entry points (declared in its cblas.h, repeated here for
 * builds against another cblas.h) */
extern void openblas_set_num_threads(int);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);
extern int openblas_get_parallel(void);

/* At load, for callers that never set a count (a Python session with
 * threads=None): OpenMP's default count may exceed OMP_THREAD_LIMIT, or
 * OMP_DYNAMIC may shrink teams, and OpenBLAS would then wait for threads
 * that never start (below). */
__attribute__((constructor)) static void threads_within_limit(void)
{
	int limit = omp_get_thread_limit();
	if (limit > 0 && omp_get_max_threads() > limit)
		omp_set_num_threads(limit);
	omp_set_dynamic(0);
}

/* OpenBLAS's threaded routines (syrk, gemm) split their work among the threads
 * they plan from omp_get_max_threads() and wait for each other's parts: when
 * OpenMP gives the team fewer (OMP_THREAD_LIMIT below the count, or
 * OMP_DYNAMIC shrinking teams on a busy machine), a thread spins forever
 * for a partner that never started (L-BFGS's preconditioner hung so under
 * OMP_THREAD_LIMIT=1). So the count never exceeds the limit, and teams are
 * not shrunk. */
int softreg_set_threads(int n)
{
	if (n <= 0)
		n = omp_get_num_procs();
	int limit = omp_get_thread_limit();
	n = limit > 0 && n > limit ? limit : n;
	omp_set_dynamic(0);
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
