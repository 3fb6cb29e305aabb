/* SPDX-License-Identifier: MIT
 * kernel_blas.c: the batched kernel. Z = X W^T + b and dW = G^T X with
 * cblas_sgemm, a numerically stable softmax and cross-entropy over rows.
 *
 * A batch is cut into row chunks of SR_CHUNK rows; the chunks are spread over
 * the OpenMP threads, and each thread gathers its chunk's uint8 rows into
 * floats (so they are still in L2 for the two GEMMs) and calls one-threaded
 * GEMMs. The chunks form a fixed number of groups that depends on m alone;
 * each group accumulates its partial gradient in chunk order, and the
 * partials are summed in group order. So the result does not depend on the
 * thread count: the same model, bit for bit, at any --threads. */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Groups of chunks per batch: enough for the threads to share the work, few
 * enough that summing the partial gradients stays cheap. */
#define SR_GROUPS 16

static size_t nchunks(size_t m)
{
	return (m + SR_CHUNK - 1) / SR_CHUNK;
}

static size_t ngroups(size_t m)
{
	size_t c = nchunks(m);
	return c < SR_GROUPS ? c : SR_GROUPS;
}

struct softreg_workspace *softreg_workspace_alloc(size_t m_max, size_t k, size_t d)
{
	if (m_max == 0 || k == 0 || d == 0)
		return NULL;
	struct softreg_workspace *ws = calloc(1, sizeof(*ws));
	if (!ws)
		return NULL;
	int threads = omp_get_max_threads();
	size_t kd1 = k * d + k;
	size_t nx = (size_t)threads * SR_CHUNK * d, nz = m_max * k, np = ngroups(m_max) * kd1;
	size_t nl = nchunks(m_max);
	/* floats for X, Z, partial; doubles for acc (kd1 + k) and loss (nl) */
	size_t bytes = (nx + nz + np) * sizeof(float) + (kd1 + k + nl) * sizeof(double) + 64;
	if (nx / SR_CHUNK / d != (size_t)threads || nz / k != m_max || bytes < nx) {
		free(ws);
		return NULL;
	}
	char *mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
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
	ws->acc = (double *)mem;
	double *loss = ws->acc + kd1 + k;
	ws->X = (float *)(loss + nl);
	ws->Z = ws->X + nx;
	ws->partial = ws->Z + nz;
	ws->loss = (float *)loss; /* see chunk_loss() */
	return ws;
}

void softreg_workspace_free(struct softreg_workspace *ws)
{
	if (!ws)
		return;
	free(ws->mem_);
	free(ws);
}

static double *chunk_loss(struct softreg_workspace *ws)
{
	return (double *)(void *)ws->loss;
}

/* Rows of Z (m, k) to probabilities in place; returns the summed (not mean)
 * cross-entropy of 'labels'. Each row: subtract its max before exp. */
static double softmax_rows(float *Z, const struct softreg_batch *b, size_t i0, size_t m, size_t k)
{
	double loss = 0;
	for (size_t i = 0; i < m; i++) {
		float *z = Z + i * k;
		float mx = z[0];
		for (size_t j = 1; j < k; j++)
			mx = z[j] > mx ? z[j] : mx;
		size_t y = b ? sr_label(b, i0 + i) : 0;
		float zy = z[y], sum = 0;
		for (size_t j = 0; j < k; j++) {
			z[j] = expf(z[j] - mx);
			sum += z[j];
		}
		float inv = 1.0f / sum;
		for (size_t j = 0; j < k; j++)
			z[j] *= inv;
		loss += (double)(logf(sum) + mx - zy);
	}
	return loss;
}

/* The gathered floats of rows [i0, i1) of the batch, in the thread's buffer. */
static const float *chunk_rows(const struct softreg_model *m, const struct softreg_batch *b, size_t i0,
			       size_t i1, struct softreg_workspace *ws)
{
	if (b->X)
		return b->X + i0 * m->d;
	float *X = ws->X + (size_t)omp_get_thread_num() * SR_CHUNK * m->d;
	sr_gather_rows(m, b, i0, i1, X);
	return X;
}

/* Z rows [i0, i1) = X W^T + b */
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

// X (m, d), W (k, d), b (k), dW (k, d), db (k); G = S - Y overwrites Z (m, k)
static float blas_loss_grad(const struct softreg_model *m, const struct softreg_batch *b, float *dW,
			    float *db, struct softreg_workspace *ws)
{
	size_t k = m->k, d = m->d, kd1 = k * d + k, M = b->m;
	size_t nc = nchunks(M), ng = ngroups(M);
	double *loss = chunk_loss(ws);
	bool grad = dW || db;
#pragma omp parallel for schedule(dynamic, 1) num_threads(team_size(ws, ng))
	for (size_t g = 0; g < ng; g++) {
		size_t c0 = g * nc / ng, c1 = (g + 1) * nc / ng;
		float *P = ws->partial + g * kd1; /* this group's dW (k, d) then db (k) */
		for (size_t c = c0; c < c1; c++) {
			size_t i0 = c * SR_CHUNK, i1 = i0 + SR_CHUNK < M ? i0 + SR_CHUNK : M, mc = i1 - i0;
			const float *X = chunk_rows(m, b, i0, i1, ws);
			float *Z = ws->Z + i0 * k;
			chunk_logits(m, X, mc, Z);
			loss[c] = softmax_rows(Z, b, i0, mc, k);
			if (!grad)
				continue;
			for (size_t i = 0; i < mc; i++)
				Z[i * k + sr_label(b, i0 + i)] -= 1.0f;
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)d, (int)mc, 1.0f, Z,
				    (int)k, X, (int)d, c == c0 ? 0.0f : 1.0f, P, (int)d);
			float *pb = P + k * d;
			if (c == c0)
				memset(pb, 0, k * sizeof(float));
			for (size_t i = 0; i < mc; i++)
				for (size_t j = 0; j < k; j++)
					pb[j] += Z[i * k + j];
		}
	}
	float inv = 1.0f / (float)M;
	if (grad) {
		/* sum the group partials in group order: same bits at any thread count */
#pragma omp parallel for schedule(static) num_threads(team_size(ws, kd1 / 1024 + 1))
		for (size_t j = 0; j < kd1; j++) {
			float s = ws->partial[j];
			for (size_t g = 1; g < ng; g++)
				s += ws->partial[g * kd1 + j];
			if (j < k * d) {
				if (dW)
					dW[j] = s * inv;
			} else if (db) {
				db[j - k * d] = s * inv;
			}
		}
	}
	double total = 0;
	for (size_t c = 0; c < nc; c++)
		total += loss[c];
	return (float)(total / (double)M);
}

// X (m, d), W (k, d), b (k), Z (m, k)
static void blas_logits(const struct softreg_model *m, const struct softreg_batch *b, float *Z,
			struct softreg_workspace *ws)
{
	size_t nc = nchunks(b->m);
#pragma omp parallel for schedule(static) num_threads(team_size(ws, nc))
	for (size_t c = 0; c < nc; c++) {
		size_t i0 = c * SR_CHUNK, i1 = i0 + SR_CHUNK < b->m ? i0 + SR_CHUNK : b->m;
		chunk_logits(m, chunk_rows(m, b, i0, i1, ws), i1 - i0, Z + i0 * m->k);
	}
}

// Z (m, k) -> probabilities in place; labels (m)
static float blas_softmax_loss(float *Z, const uint8_t *labels, size_t m, size_t k)
{
	struct softreg_batch b = {.m = m, .labels = labels};
	size_t nc = nchunks(m);
	double total = 0;
	/* per-chunk sums added in chunk order: deterministic */
#pragma omp parallel for schedule(static) ordered
	for (size_t c = 0; c < nc; c++) {
		size_t i0 = c * SR_CHUNK, mc = i0 + SR_CHUNK < m ? SR_CHUNK : m - i0;
		double l = softmax_rows(Z + i0 * k, &b, i0, mc, k);
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
