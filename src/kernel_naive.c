/* SPDX-License-Identifier: MIT
 * kernel_naive.c: the reference kernel. The tutorial's loops, one sample and
 * one element at a time: W_G[j][t] += (S[j] - [y == j]) * x[t]. No BLAS, no
 * OpenMP, no intrinsics; clarity over speed. It takes every source: each row
 * is made dense (sparse rows too). Sums are kept in double so that it is the
 * most accurate of the kernels: it is the oracle. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* one row: z (k) = W x + b, in double */
static void logits_row(const struct softreg_model *m, const float *x, double *z)
{
	for (size_t j = 0; j < m->k; j++) {
		double s = m->b[j];
		const float *w = m->W + j * m->d;
		for (size_t t = 0; t < m->d; t++)
			s += (double)w[t] * x[t];
		z[j] = s;
	}
}

/* stable softmax of one row in place; returns logsumexp(z) */
static double softmax_row(double *z, size_t k)
{
	double mx = z[0];
	for (size_t j = 1; j < k; j++)
		if (z[j] > mx)
			mx = z[j];
	double sum = 0;
	for (size_t j = 0; j < k; j++) {
		z[j] = exp(z[j] - mx);
		sum += z[j];
	}
	for (size_t j = 0; j < k; j++)
		z[j] /= sum;
	return mx + log(sum);
}

// X (m, d), W (k, d), b (k), grad_sum (k*d + k): dW then db
static double naive_loss_grad(const struct softreg_model *m, const struct softreg_batch *b, float *grad_sum,
			      struct softreg_workspace *ws)
{
	size_t k = m->k, d = m->d;
	double *acc = ws->acc;          /* (k*d + k) */
	double *z = ws->acc + k * d + k; /* (k) */
	memset(acc, 0, (k * d + k) * sizeof(double));
	double loss = 0;
	for (size_t i = 0; i < b->m; i++) {
		float *x = ws->X;
		sr_gather_row(m, b->src, sr_row(b, i), x);
		size_t y = sr_label(b, i);
		logits_row(m, x, z);
		double zy = z[y];
		loss += softmax_row(z, k) - zy;
		for (size_t j = 0; j < k; j++) {
			double g = z[j] - (j == y ? 1.0 : 0.0);
			for (size_t t = 0; t < d; t++)
				acc[j * d + t] += g * x[t];
			acc[k * d + j] += g;
		}
	}
	if (grad_sum)
		for (size_t i = 0; i < k * d + k; i++)
			grad_sum[i] = (float)acc[i];
	return loss;
}

// X (m, d), W (k, d), b (k), Z (m, k)
static void naive_logits(const struct softreg_model *m, const struct softreg_batch *b, float *Z,
			 struct softreg_workspace *ws)
{
	double *z = ws->acc + m->k * m->d + m->k;
	for (size_t i = 0; i < b->m; i++) {
		sr_gather_row(m, b->src, sr_row(b, i), ws->X);
		logits_row(m, ws->X, z);
		for (size_t j = 0; j < m->k; j++)
			Z[i * m->k + j] = (float)z[j];
	}
}

// Z (m, k) -> probabilities in place; y (m)
static double naive_softmax_loss(float *Z, const uint32_t *y, size_t m, size_t k)
{
	double loss = 0, z[256]; /* up to 256 classes a row at a time in double; beyond, in two passes */
	for (size_t i = 0; i < m; i++) {
		float *zi = Z + i * k;
		if (k <= 256) {
			for (size_t j = 0; j < k; j++)
				z[j] = zi[j];
			loss += softmax_row(z, k) - (double)zi[y[i]];
			for (size_t j = 0; j < k; j++)
				zi[j] = (float)z[j];
			continue;
		}
		double mx = zi[0], sum = 0;
		for (size_t j = 1; j < k; j++)
			mx = zi[j] > mx ? zi[j] : mx;
		for (size_t j = 0; j < k; j++)
			sum += exp((double)zi[j] - mx);
		loss += mx + log(sum) - (double)zi[y[i]];
		for (size_t j = 0; j < k; j++)
			zi[j] = (float)(exp((double)zi[j] - mx) / sum);
	}
	return loss;
}

const struct softreg_kernel softreg_kernel_naive = {
	.name = "naive",
	.sources = 1u << SOFTREG_SOURCE_U8 | 1u << SOFTREG_SOURCE_F32 | 1u << SOFTREG_SOURCE_F16 | 1u << SOFTREG_SOURCE_CSR,
	.about = "the per-sample reference loops (the oracle; slow on purpose)",
	.loss_grad = naive_loss_grad,
	.logits = naive_logits,
	.softmax_loss = naive_softmax_loss,
};
