/* SPDX-License-Identifier: MIT
 * roofline.c: the numbers that bound every case. A kernel cannot run faster
 * than its compulsory memory traffic at the sustained read bandwidth, nor
 * faster than its flops at the large-sgemm peak of the BLAS core in use, nor
 * (sparse) faster than its gradient's scatter at the core's rate of 8-float
 * read-modify-writes (16-float ones where it runs its AVX-512 loops). All
 * are measured here, on this machine, at each thread count. */
#include "bench.h"

#include <cblas.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* 256 MiB: eight times the largest L3 we expect, so the reads come from DRAM */
#define STREAM_BYTES ((size_t)256 << 20)
#define STREAM_PASSES 7
/* A square product this large runs at the BLAS's peak: its packing and edge
 * costs are O(n^2) against O(n^3) flops. */
#define SGEMM_N 2048
#define SGEMM_PASSES 3

/* Sum the words, so that the compiler must read every one of them (integer
 * sums vectorise without a pragma: their order does not matter). */
static uint64_t read_words(const uint64_t *p, size_t n, int threads)
{
	uint64_t s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) num_threads(threads)
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static double best_read_gbps(const uint64_t *buf, size_t n, int threads)
{
	double best = 0;
	volatile uint64_t sink = read_words(buf, n, threads); /* warm-up: threads up, TLB */
	for (int pass = 0; pass < STREAM_PASSES; pass++) {
		double t0 = now_seconds();
		sink += read_words(buf, n, threads);
		double s = now_seconds() - t0;
		if (s > 0 && (double)(n * sizeof(*buf)) / s > best)
			best = (double)(n * sizeof(*buf)) / s;
	}
	(void)sink;
	return best / 1e9;
}

static double best_sgemm_gflops(const float *A, const float *B, float *C, int n)
{
	double best = 0, flops = 2.0 * n * n * (double)n;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
	for (int pass = 0; pass < SGEMM_PASSES; pass++) {
		double t0 = now_seconds();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
		double s = now_seconds() - t0;
		if (s > 0 && flops / s > best)
			best = flops / s;
	}
	return best / 1e9;
}

/* The sparse kernel's gradient is one read-modify-write of 8 floats per
 * nonzero per block of 8 classes: t[j] += v g, j in increasing order within
 * a row but unknown. Its rate on a table that stays in L1 (8 KB here) is the
 * core's ceiling for that loop, whatever the memory does. Each thread its own
 * table; the rate of all of them. */
#define SCATTER_ROWS 256 /* 8-float rows: 8 KB */
#define SCATTER_UPDATES (1u << 22)
#define SCATTER_PASSES 5

static double scatter_pass(const uint32_t *idx, int threads)
{
	double t0 = now_seconds();
	float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
	{
		_Alignas(64) float t[SCATTER_ROWS][8] = {{0}}, g[8];
		for (int l = 0; l < 8; l++)
			g[l] = 1e-3f * (float)(l + 1);
		for (size_t u = 0; u < SCATTER_UPDATES; u++) {
			float v = (float)(u & 7), *r = t[idx[u]];
			for (int l = 0; l < 8; l++)
				r[l] += v * g[l];
		}
		for (int i = 0; i < SCATTER_ROWS; i++)
			sink += t[i][0];
	}
	double s = now_seconds() - t0;
	volatile float keep = sink;
	(void)keep;
	return s;
}

#if defined(__x86_64__)
/* scatter_pass() with rows of 16 floats updated as one AVX-512 register, as
 * the sparse kernel's AVX-512 loops do: one thread's share (a function of
 * its own, since the parallel region's body does not get the target) */
__attribute__((target("avx512f"))) static float scatter16_thread(const uint32_t *idx)
{
	_Alignas(64) float t[SCATTER_ROWS][16] = {{0}}; /* 16 KB */
	__m512 g = _mm512_setr_ps(1e-3f, 2e-3f, 3e-3f, 4e-3f, 5e-3f, 6e-3f, 7e-3f, 8e-3f, 9e-3f, 1e-2f, 1.1e-2f, 1.2e-2f,
				  1.3e-2f, 1.4e-2f, 1.5e-2f, 1.6e-2f);
	for (size_t u = 0; u < SCATTER_UPDATES; u++) {
		float *r = t[idx[u]]; /* as the 8-float probe: never the previous update's row */
		_mm512_store_ps(r, _mm512_fmadd_ps(_mm512_set1_ps((float)(u & 7)), g, _mm512_load_ps(r)));
	}
	float sink = 0;
	for (int i = 0; i < SCATTER_ROWS; i++)
		sink += t[i][0];
	return sink;
}

static double scatter16_pass(const uint32_t *idx, int threads)
{
	double t0 = now_seconds();
	float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
	sink += scatter16_thread(idx);
	double s = now_seconds() - t0;
	volatile float keep = sink;
	(void)keep;
	return s;
}
#endif

static double best_scatter_gups(int threads, bool wide)
{
	uint32_t *idx = malloc(SCATTER_UPDATES * sizeof(uint32_t));
	if (!idx)
		return 0;
	uint64_t x = 88172645463325252ull;
	for (size_t u = 0; u < SCATTER_UPDATES; u++) { /* runs of increasing rows, like a CSR row's columns */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		idx[u] = (uint32_t)(u % 64 == 0 ? x % 32 : (idx[u - 1] + 1 + x % 7) % SCATTER_ROWS);
	}
	double best = 0;
	double (*pass_fn)(const uint32_t *, int) = scatter_pass;
#if defined(__x86_64__)
	if (wide)
		pass_fn = scatter16_pass;
#else
	(void)wide;
#endif
	pass_fn(idx, threads);
	for (int pass = 0; pass < SCATTER_PASSES; pass++) {
		double s = pass_fn(idx, threads);
		if (s > 0 && (double)SCATTER_UPDATES * threads / s > best)
			best = (double)SCATTER_UPDATES * threads / s;
	}
	free(idx);
	return best / 1e9;
}

int measure_bounds(const int *threads, int nthreads, struct bound *out, char *err)
{
	size_t words = STREAM_BYTES / sizeof(uint64_t), nn = (size_t)SGEMM_N * SGEMM_N;
	int rc = BENCH_FAIL;
	uint64_t *stream = aligned_alloc(64, STREAM_BYTES);
	float *A = malloc(3 * nn * sizeof(float));
	if (!stream || !A) {
		snprintf(err, SOFTREG_ERRLEN, "out of memory for the roofline buffers");
		goto out;
	}
	memset(stream, 1, STREAM_BYTES); /* real pages, not the shared zero page */
	for (size_t i = 0; i < 3 * nn; i++)
		A[i] = (float)(i % 7) * 0.125f; /* small exact values: no overflow, no denormals */
	for (int t = 0; t < nthreads; t++) {
		softreg_set_threads(threads[t]);
		out[t].threads = threads[t];
		out[t].read_gbps = best_read_gbps(stream, words, threads[t]);
		out[t].sgemm_n = SGEMM_N;
		out[t].sgemm_gflops = best_sgemm_gflops(A, A + nn, A + 2 * nn, SGEMM_N);
		out[t].scatter_gups = best_scatter_gups(threads[t], false);
		/* the same rows of 16 floats (16 KB, still in L1): only
		 * where the sparse kernel runs its AVX-512 loops */
		out[t].scatter16_gups = strcmp(softreg_sparse_path(), "avx512") == 0 ? best_scatter_gups(threads[t], true) : 0;
	}
	rc = BENCH_OK;
out:
	free(stream);
	free(A);
	return rc;
}
