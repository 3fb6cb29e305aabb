/* SPDX-License-Identifier: MIT
 * roofline.c: the two numbers that bound every case. A kernel cannot run
 * faster than its compulsory memory traffic at the sustained read bandwidth,
 * nor faster than its flops at the large-sgemm peak of the BLAS core in use.
 * Both are measured here, on this machine, at each thread count. */
#include "bench.h"

#include <cblas.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	}
	rc = BENCH_OK;
out:
	free(stream);
	free(A);
	return rc;
}
