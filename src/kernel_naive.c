/* SPDX-License-Identifier: MIT
 * kernel_naive.c: the reference kernel. The tutorial's loops, one sample and
 * one element at a time: W_G[j][t] += (S[j] - [y == j]) * x[t]. No BLAS, no
 * OpenMP, no intrinsics; clarity over speed. Sums are kept in double so that it
 * is the more accurate of the two kernels: it is the oracle. */
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

static const float *row_of(const struct softreg_model *m, const struct softreg_batch *b, size_t i,
			   float *buf)
{
	if (b->X)
		return b->X + i * m->d;
	sr_gather_rows(m, b, i, i + 1, buf);
	return buf;
}

// X (m, d), W (k, d), b (k), dW (k, d), db (k)
static float naive_loss_grad(const struct softreg_model *m, const struct softreg_batch *b, float *dW,
			     float *db, struct softreg_workspace *ws)
{
	size_t k = m->k, d = m->d;
	double *acc = ws->acc;          /* (k*d + k) */
	double *z = ws->acc + k * d + k; /* (k) */
	memset(acc, 0, (k * d + k) * sizeof(double));
	double loss = 0;
	for (size_t i = 0; i < b->m; i++) {
		const float *x = row_of(m, b, i, ws->X);
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
	double inv = 1.0 / (double)b->m;
	if (dW)
		for (size_t i = 0; i < k * d; i++)
			dW[i] = (float)(acc[i] * inv);
	if (db)
		for (size_t j = 0; j < k; j++)
			db[j] = (float)(acc[k * d + j] * inv);
	return (float)(loss * inv);
}

// X (m, d), W (k, d), b (k), Z (m, k)
static void naive_logits(const struct softreg_model *m, const struct softreg_batch *b, float *Z,
			 struct softreg_workspace *ws)
{
	double *z = ws->acc + m->k * m->d + m->k;
	for (size_t i = 0; i < b->m; i++) {
		logits_row(m, row_of(m, b, i, ws->X), z);
		for (size_t j = 0; j < m->k; j++)
			Z[i * m->k + j] = (float)z[j];
	}
}

// Z (m, k) -> probabilities in place; labels (m)
static float naive_softmax_loss(float *Z, const uint8_t *labels, size_t m, size_t k)
{
	double loss = 0, z[256];
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < k; j++)
			z[j] = Z[i * k + j];
		loss += softmax_row(z, k) - (double)Z[i * k + labels[i]];
		for (size_t j = 0; j < k; j++)
			Z[i * k + j] = (float)z[j];
	}
	return (float)(loss / (double)m);
}

const struct softreg_kernel softreg_kernel_naive = {
	.name = "naive",
	.loss_grad = naive_loss_grad,
	.logits = naive_logits,
	.softmax_loss = naive_softmax_loss,
};
