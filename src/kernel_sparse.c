/* SPDX-License-Identifier: MIT
 * kernel_sparse.c: the kernel for CSR rows. Only the nonzeros are touched:
 * z_c = b_c + sum over the row's nonzeros (j, v) of W[c][j] v, and the
 * gradient scatters G[i][c] v into dW[c][j].
 *
 * Determinism: the logits and the softmax of a row depend on that row alone,
 * the loss is summed per fixed chunk of rows and the chunks in order, and
 * the gradient is split between threads by class: every entry of dW[c] is
 * summed by one thread over the rows in batch order. So the result is the
 * same, bit for bit, at any thread count, and there are no partial
 * gradients to add up (memory stays k*d, whatever the thread count).
 *
 * The model's preprocessing must not centre (mean 0: softreg_model_check_data
 * refuses a centring model for sparse data), so an absent feature stays 0. */
#include "internal.h"

#include <omp.h>
#include <string.h>

/* the feature value the model sees for nonzero (j, v) */
static inline float xval(const struct softreg_model *m, uint32_t j, float v)
{
	return m->prep == SOFTREG_PREP_STANDARDIZE ? v * m->inv_std[j] : v * m->scale;
}

/* z (k) = W x + b for one sparse row */
static void row_logits(const struct softreg_model *m, const struct softreg_source *s, size_t row, float *z)
{
	size_t k = m->k, d = m->d;
	uint64_t p0 = s->indptr[row], p1 = s->indptr[row + 1];
	for (size_t c = 0; c < k; c++) {
		const float *w = m->W + c * d;
		float acc = m->b[c];
		for (uint64_t p = p0; p < p1; p++)
			acc += w[s->indices[p]] * xval(m, s->indices[p], s->values[p]);
		z[c] = acc;
	}
}

static size_t nchunks(size_t m)
{
	return (m + SR_CHUNK - 1) / SR_CHUNK;
}

size_t sr_sparse_nchunks(size_t m)
{
	return nchunks(m);
}

static int team(const struct softreg_workspace *ws, size_t units)
{
	int t = omp_get_max_threads();
	t = t < ws->threads ? t : ws->threads;
	t = (size_t)t < units ? t : (int)units;
	return t < 1 ? 1 : t;
}

/* rows [i0, i1) of the batch: logits into Z (rows of k) */
static void rows_logits(const struct softreg_model *m, const struct softreg_batch *b, size_t i0, size_t i1, float *Z)
{
	for (size_t i = i0; i < i1; i++)
		row_logits(m, b->src, sr_row(b, i), Z + i * m->k);
}

/* classes [c0, c1) of grad (k*d + k) = the sum over the batch's rows, in
 * order, of G[i][c] x_i; G (m, k) is S - Y */
static void class_grad(const struct softreg_model *m, const struct softreg_batch *b, const float *G, size_t c0,
		       size_t c1, float *grad)
{
	size_t k = m->k, d = m->d;
	const struct softreg_source *s = b->src;
	for (size_t c = c0; c < c1; c++) {
		float *gw = grad + c * d, gb = 0;
		memset(gw, 0, d * sizeof(float));
		for (size_t i = 0; i < b->m; i++) {
			float g = G[i * k + c];
			size_t row = sr_row(b, i);
			for (uint64_t p = s->indptr[row]; p < s->indptr[row + 1]; p++)
				gw[s->indices[p]] += g * xval(m, s->indices[p], s->values[p]);
			gb += g;
		}
		grad[k * d + c] = gb;
	}
}

// X (m, d) sparse, W (k, d), b (k), grad_sum (k*d + k); G = S - Y overwrites Z (m, k)
static double sparse_loss_grad(const struct softreg_model *m, const struct softreg_batch *b, float *grad_sum,
			       struct softreg_workspace *ws)
{
	size_t k = m->k, nc = nchunks(b->m);
	float *Z = ws->Z;
	if (b->m == 0) {
		if (grad_sum)
			memset(grad_sum, 0, (m->k * m->d + k) * sizeof(float));
		return 0;
	}
	int T = team(ws, grad_sum ? (nc > k ? nc : k) : nc);
#pragma omp parallel num_threads(T)
	{
		size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
		for (size_t c = sr_part(t, nc, nt); c < sr_part(t + 1, nc, nt); c++) {
			size_t i0 = c * SR_CHUNK, i1 = i0 + SR_CHUNK < b->m ? i0 + SR_CHUNK : b->m;
			rows_logits(m, b, i0, i1, Z);
			ws->loss[c] = sr_softmax_rows(Z + i0 * k, b, i0, i1 - i0, k);
			for (size_t i = i0; grad_sum && i < i1; i++)
				Z[i * k + sr_label(b, i)] -= 1.0f;
		}
		if (grad_sum) {
#pragma omp barrier
			class_grad(m, b, Z, sr_part(t, k, nt), sr_part(t + 1, k, nt), grad_sum);
		}
	}
	double total = 0;
	for (size_t c = 0; c < nc; c++)
		total += ws->loss[c];
	return total;
}

// X (m, d) sparse, W (k, d), b (k), Z (m, k)
static void sparse_logits(const struct softreg_model *m, const struct softreg_batch *b, float *Z,
			  struct softreg_workspace *ws)
{
	size_t nc = nchunks(b->m);
#pragma omp parallel for schedule(static) num_threads(team(ws, nc))
	for (size_t c = 0; c < nc; c++) {
		size_t i0 = c * SR_CHUNK, i1 = i0 + SR_CHUNK < b->m ? i0 + SR_CHUNK : b->m;
		rows_logits(m, b, i0, i1, Z);
	}
}

const struct softreg_kernel softreg_kernel_sparse = {
	.name = "sparse",
	.sources = 1u << SOFTREG_SOURCE_CSR,
	.about = "CSR rows: a k-vector per nonzero, gradient split by class",
	.loss_grad = sparse_loss_grad,
	.logits = sparse_logits,
	.softmax_loss = sr_softmax_loss,
};
