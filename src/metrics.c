/* SPDX-License-Identifier: MIT
 * metrics.c: accuracy, log-loss, confusion matrix, the regularised objective. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per evaluation chunk: the logits of 4096 rows are 160 KB. */
#define SR_EVAL_ROWS 4096

enum softreg_result sr_evaluate_ws(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first,
				   size_t count, uint64_t *confusion, double *accuracy_ret, double *log_loss_ret,
				   struct softreg_workspace *ws)
{
	size_t k = m->k, correct = 0;
	double loss = 0;
	if (confusion)
		memset(confusion, 0, k * k * sizeof(uint64_t));
	for (size_t i0 = first; i0 < first + count; i0 += ws->m_max) {
		size_t mc = first + count - i0 < ws->m_max ? first + count - i0 : ws->m_max;
		struct softreg_batch b = {.m = mc, .pixels = ds->pixels + i0 * m->d, .labels = ds->labels + i0};
		softreg_kernel_blas.logits(m, &b, ws->Z, ws);
		for (size_t i = 0; i < mc; i++) {
			const float *z = ws->Z + i * k;
			size_t best = 0;
			for (size_t j = 1; j < k; j++)
				if (z[j] > z[best])
					best = j;
			size_t y = b.labels[i];
			correct += best == y;
			if (confusion)
				confusion[y * k + best]++;
		}
		loss += (double)softreg_kernel_blas.softmax_loss(ws->Z, b.labels, mc, k) * (double)mc;
	}
	if (accuracy_ret)
		*accuracy_ret = count ? (double)correct / (double)count : 0;
	if (log_loss_ret)
		*log_loss_ret = count ? loss / (double)count : 0;
	return SOFTREG_OK;
}

enum softreg_result softreg_evaluate(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first,
				     size_t count, uint64_t *confusion, double *accuracy_ret, double *log_loss_ret,
				     char *err)
{
	if (first > ds->n || count > ds->n - first)
		return sr_fail(err, SOFTREG_ERR_PARAM, "evaluate: rows %zu..%zu outside the %zu samples", first,
			       first + count, ds->n);
	enum softreg_result r = softreg_model_check_data(m, ds, "data", err);
	if (r)
		return r;
	size_t rows = count < SR_EVAL_ROWS ? (count ? count : 1) : SR_EVAL_ROWS;
	struct softreg_workspace *ws = softreg_workspace_alloc(rows, m->k, m->d);
	if (!ws)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "evaluate: out of memory");
	r = sr_evaluate_ws(m, ds, first, count, confusion, accuracy_ret, log_loss_ret, ws);
	softreg_workspace_free(ws);
	return r;
}

enum softreg_result sr_objective_ws(const struct softreg_model *m, const struct softreg_dataset *ds, size_t count,
				    double l2, float *grad, double *F_ret, double *grad_norm_ret,
				    struct softreg_workspace *ws, float *gtmp)
{
	size_t k = m->k, d = m->d, kd1 = k * d + k;
	double ce = 0;
	if (grad)
		memset(grad, 0, kd1 * sizeof(float));
	/* fixed chunks of the training set, summed in order: deterministic */
	for (size_t i0 = 0; i0 < count; i0 += ws->m_max) {
		size_t mc = count - i0 < ws->m_max ? count - i0 : ws->m_max;
		struct softreg_batch b = {.m = mc, .pixels = ds->pixels + i0 * d, .labels = ds->labels + i0};
		float l = softreg_kernel_blas.loss_grad(m, &b, grad ? gtmp : NULL, grad ? gtmp + k * d : NULL, ws);
		double w = (double)mc / (double)count;
		ce += (double)l * w;
		if (grad)
			for (size_t j = 0; j < kd1; j++)
				grad[j] += (float)((double)gtmp[j] * w);
	}
	double reg = 0;
	for (size_t j = 0; j < k * d; j++)
		reg += (double)m->W[j] * m->W[j];
	if (F_ret)
		*F_ret = ce + 0.5 * l2 * reg;
	if (grad) {
		double norm = 0;
		for (size_t j = 0; j < kd1; j++) {
			if (j < k * d)
				grad[j] += (float)l2 * m->W[j];
			norm += (double)grad[j] * grad[j];
		}
		if (grad_norm_ret)
			*grad_norm_ret = sqrt(norm);
	}
	return SOFTREG_OK;
}

enum softreg_result softreg_objective(const struct softreg_model *m, const struct softreg_dataset *ds, size_t count,
				      double l2, float *grad, double *F_ret, double *grad_norm_ret, char *err)
{
	if (count == 0 || count > ds->n)
		return sr_fail(err, SOFTREG_ERR_PARAM, "objective: %zu rows of %zu", count, ds->n);
	enum softreg_result r = softreg_model_check_data(m, ds, "data", err);
	if (r)
		return r;
	size_t rows = count < SR_EVAL_ROWS ? count : SR_EVAL_ROWS;
	struct softreg_workspace *ws = softreg_workspace_alloc(rows, m->k, m->d);
	float *gtmp = malloc((m->k * m->d + m->k) * sizeof(float));
	float *g = grad ? grad : malloc((m->k * m->d + m->k) * sizeof(float));
	if (!ws || !gtmp || !g) {
		softreg_workspace_free(ws);
		free(gtmp);
		if (!grad)
			free(g);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "objective: out of memory");
	}
	r = sr_objective_ws(m, ds, count, l2, g, F_ret, grad_norm_ret, ws, gtmp);
	softreg_workspace_free(ws);
	free(gtmp);
	if (!grad)
		free(g);
	return r;
}

void softreg_predict_proba(const struct softreg_model *m, const uint8_t *pixels, float *proba)
{
	/* one image: the naive loops are as fast as anything here */
	size_t k = m->k, d = m->d;
	double z[256], mx = -INFINITY, sum = 0;
	for (size_t j = 0; j < k; j++) {
		double s = m->b[j];
		const float *w = m->W + j * d;
		for (size_t t = 0; t < d; t++) {
			float x = m->prep == SOFTREG_PREP_STANDARDIZE ? ((float)pixels[t] - m->mean[t]) * m->inv_std[t]
								       : (float)pixels[t] * m->scale;
			s += (double)w[t] * x;
		}
		z[j] = s;
		mx = s > mx ? s : mx;
	}
	for (size_t j = 0; j < k; j++)
		sum += exp(z[j] - mx);
	for (size_t j = 0; j < k; j++)
		proba[j] = (float)(exp(z[j] - mx) / sum);
}
